/**
 * @file ratelim.c  Token buckets per source address, in a bounded table
 *
 * Every datagram costs one token. A source has its own bucket (by IP
 * address: a flooder picks its source ports freely); strangers also
 * share one bucket for all of them, so that many forged sources cannot
 * add up to more than that. Trusted sources (a registered phone's
 * address) get ten times the rate and the burst, and stay out of the
 * shared bucket: a phone's normal traffic is never limited, and a
 * flood with a phone's forged address is still bounded. A source that
 * becomes trusted (its phone just registered) gets a full bucket.
 *
 * The table holds at most `size` sources; when full, the one used
 * longest ago is forgotten (a returning source starts with a full
 * bucket: the shared bucket still holds).
 *
 * Pure: the caller brings the time (ms, any monotonic clock).
 */

#include "sipphone.h"
#include "sip/sip.h"


enum {
	TRUSTED_FACTOR = 10,   /* a trusted source's rate and burst       */
	SHARED_FACTOR = 3,     /* all strangers together                  */
	MTOK = 1000,           /* a token in milli-tokens                 */
};

struct bucket {
	uint64_t mtok;         /* milli-tokens left                       */
	uint64_t at;           /* when last refilled, ms                  */
};

struct source {
	struct le he;          /* in ratelim->ht                          */
	struct le le;          /* in ratelim->lru, most recent last       */
	struct sa addr;
	struct bucket b;
	bool trusted;          /* as of the last datagram                 */
};

struct ratelim {
	struct rate rate;
	struct hash *ht;
	struct list lru;
	uint32_t size;
	uint32_t count;
	struct bucket shared;
};


static void ratelim_destructor(void *arg)
{
	struct ratelim *rl = arg;

	hash_flush(rl->ht);
	mem_deref(rl->ht);
}


static void source_destructor(void *arg)
{
	struct source *s = arg;

	hash_unlink(&s->he);
	list_unlink(&s->le);
}


/* Refill for the time passed, then take one token if there is one */
static bool bucket_take(struct bucket *b, uint32_t rate, uint32_t burst,
			uint64_t now)
{
	uint64_t cap = (uint64_t)burst * MTOK;

	/* a clock that went back: count from here */
	if (now < b->at)
		b->at = now;

	if (now > b->at) {
		/* rate tokens per s is rate milli-tokens per ms */
		uint64_t add = (now - b->at) * rate;

		b->mtok = (b->mtok + add > cap) ? cap : b->mtok + add;
		b->at = now;
	}

	/* the trust (and so the cap) of a source may have changed */
	if (b->mtok > cap)
		b->mtok = cap;

	if (b->mtok < MTOK)
		return false;

	b->mtok -= MTOK;

	return true;
}


static bool addr_cmp(struct le *le, void *arg)
{
	const struct source *s = le->data;

	return sa_cmp(&s->addr, arg, SA_ADDR);
}


static struct source *source_get(struct ratelim *rl, const struct sa *src,
				 uint32_t burst, uint64_t now)
{
	uint32_t key = sa_hash(src, SA_ADDR);
	struct source *s;

	s = list_ledata(hash_lookup(rl->ht, key, addr_cmp, (void *)src));
	if (s) {
		list_unlink(&s->le);
		list_append(&rl->lru, &s->le, s);
		return s;
	}

	if (rl->count >= rl->size) {
		/* forget the one used longest ago, and reuse it */
		s = list_ledata(list_head(&rl->lru));
		hash_unlink(&s->he);
		list_unlink(&s->le);
	}
	else {
		s = mem_zalloc(sizeof(*s), source_destructor);
		if (!s)
			return NULL;
		++rl->count;
	}

	sa_cpy(&s->addr, src);
	s->b.mtok = (uint64_t)burst * MTOK;
	s->b.at = now;
	hash_append(rl->ht, key, &s->he, s);
	list_append(&rl->lru, &s->le, s);

	return s;
}


/**
 * Decode a rate: "<per-second>/<burst>", or "off"
 *
 * @param r   Returned rate ("off": rate 0)
 * @param pl  Text
 *
 * @return 0 if success; EINVAL if it is neither, or a figure is 0, or
 *         the burst is below the rate
 */
int rate_decode(struct rate *r, const struct pl *pl)
{
	uint64_t v[2] = {0, 0};
	size_t i, k = 0, digits = 0;

	if (!r || !pl)
		return EINVAL;

	if (0 == pl_strcasecmp(pl, "off")) {
		r->rate = r->burst = 0;
		return 0;
	}

	for (i = 0; i < pl->l; i++) {
		char c = pl->p[i];

		if (c == '/' && k == 0 && digits) {
			k = 1;
			digits = 0;
		}
		else if (c >= '0' && c <= '9' && digits < 7) {
			v[k] = v[k] * 10 + (uint64_t)(c - '0');
			++digits;
		}
		else {
			return EINVAL;
		}
	}

	if (k != 1 || !digits || !v[0] || v[1] < v[0])
		return EINVAL;

	r->rate = (uint32_t)v[0];
	r->burst = (uint32_t)v[1];

	return 0;
}


/**
 * Make a rate limiter
 *
 * @param rlp   Returned limiter
 * @param rate  Rate and burst of one stranger (not 0)
 * @param size  Sources remembered at most (not 0)
 *
 * @return 0 if success, otherwise errorcode
 */
int ratelim_alloc(struct ratelim **rlp, const struct rate *rate,
		  uint32_t size)
{
	struct ratelim *rl;
	int err;

	if (!rlp || !rate || !rate->rate || rate->burst < rate->rate ||
	    !size)
		return EINVAL;

	rl = mem_zalloc(sizeof(*rl), ratelim_destructor);
	if (!rl)
		return ENOMEM;

	rl->rate = *rate;
	rl->size = size;
	rl->shared.mtok = (uint64_t)rate->burst * SHARED_FACTOR * MTOK;

	err = hash_alloc(&rl->ht, size);
	if (err)
		mem_deref(rl);
	else
		*rlp = rl;

	return err;
}


/**
 * Take a token for one datagram from src
 *
 * @param rl       Limiter
 * @param src      Source address (its port is not looked at)
 * @param trusted  A registered phone's address
 * @param now      Now, ms
 *
 * @return true if it may pass, false if it must be dropped
 */
bool ratelim_take(struct ratelim *rl, const struct sa *src, bool trusted,
		  uint64_t now)
{
	uint32_t factor = trusted ? TRUSTED_FACTOR : 1;
	uint32_t rate, burst;
	struct source *s;

	if (!rl || !src)
		return false;

	rate = rl->rate.rate * factor;
	burst = rl->rate.burst * factor;

	s = source_get(rl, src, burst, now);
	if (!s)
		return false;

	/* a phone that just registered starts with a full bucket */
	if (trusted && !s->trusted)
		s->b.mtok = (uint64_t)burst * MTOK;
	s->trusted = trusted;

	if (!bucket_take(&s->b, rate, burst, now))
		return false;

	if (trusted)
		return true;

	return bucket_take(&rl->shared, rl->rate.rate * SHARED_FACTOR,
			   rl->rate.burst * SHARED_FACTOR, now);
}


/** Sources the limiter remembers now */
uint32_t ratelim_count(const struct ratelim *rl)
{
	return rl ? rl->count : 0;
}
