/**
 * @file cidr.c  CIDR lists: which source addresses may REGISTER
 *
 * The registrar has no digest authentication (the HT802 sits on the same
 * LAN), so the source address is the only gate. The default list holds
 * the private, loopback and link-local ranges of both families.
 */

#include <string.h>
#include <arpa/inet.h>
#include "sipphone.h"
#include "sip/sip.h"


enum {
	CIDR_STRLEN = INET6_ADDRSTRLEN + 4,   /* "addr/128" and its NUL */
};

/* One prefix; IPv4 is kept in the first 4 bytes of addr */
struct cidr {
	struct le le;
	int af;
	uint8_t addr[16];
	unsigned plen;
};

struct cidr_list {
	struct list cidrl;
};

static const char cidr_default[] =
	"10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.0/8"
	" 169.254.0.0/16 ::1/128 fc00::/7 fe80::/10";

/* ::ffff:0:0/96, the IPv4-mapped IPv6 prefix */
static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};


static void list_destructor(void *arg)
{
	struct cidr_list *cl = arg;

	list_flush(&cl->cidrl);
}


static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned whole = plen / 8;
	unsigned rest = plen % 8;
	uint8_t mask;

	if (memcmp(a, b, whole))
		return false;

	if (!rest)
		return true;

	mask = (uint8_t)(0xff << (8 - rest));

	return (a[whole] & mask) == (b[whole] & mask);
}


/* Clear the host bits, so that "10.1.2.3/8" means 10.0.0.0/8 */
static void prefix_mask(uint8_t *addr, size_t len, unsigned plen)
{
	size_t i;

	for (i = 0; i < len; i++) {

		if (plen >= 8) {
			plen -= 8;
			continue;
		}

		addr[i] &= (uint8_t)(0xff << (8 - plen));
		plen = 0;
	}
}


static int plen_decode(unsigned *plenp, const struct pl *pl, unsigned max)
{
	unsigned v = 0;
	size_t i;

	/* pl_u32() would read "8x" or "" as a number: check digits first */
	if (!pl->l || pl->l > 3)
		return EINVAL;

	for (i = 0; i < pl->l; i++) {

		if (pl->p[i] < '0' || pl->p[i] > '9')
			return EINVAL;

		v = v * 10 + (unsigned)(pl->p[i] - '0');
	}

	if (v > max)
		return ERANGE;

	*plenp = v;

	return 0;
}


static int cidr_decode(struct cidr *c, const struct pl *entry)
{
	char buf[CIDR_STRLEN];
	const char *slash;
	struct pl addr, plen;
	unsigned max;
	int err;

	slash = pl_strchr(entry, '/');
	addr.p = entry->p;
	addr.l = slash ? (size_t)(slash - entry->p) : entry->l;

	if (!addr.l || addr.l >= sizeof(buf))
		return EINVAL;

	(void)pl_strcpy(&addr, buf, sizeof(buf));

	/* inet_pton(), not sa_set(): libre turns "::ffff:a.b.c.d" into
	 * AF_INET, which would misread the prefix length of such entries */
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->af = AF_INET;
		max = 32;
	}
	else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->af = AF_INET6;
		max = 128;
	}
	else {
		return EINVAL;
	}

	if (slash) {
		plen.p = slash + 1;
		plen.l = entry->l - addr.l - 1;

		err = plen_decode(&c->plen, &plen, max);
		if (err)
			return err;
	}
	else {
		c->plen = max;
	}

	prefix_mask(c->addr, max / 8, c->plen);

	/* a mapped entry (::ffff:10.0.0.0/104) is an IPv4 prefix */
	if (c->af == AF_INET6 && c->plen >= 96 &&
	    !memcmp(c->addr, v4mapped, sizeof(v4mapped))) {

		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, 12);
		c->af = AF_INET;
		c->plen -= 96;
	}

	return 0;
}


static int list_add(struct cidr_list *cl, const struct pl *entry)
{
	struct cidr *c;
	int err;

	c = mem_zalloc(sizeof(*c), NULL);
	if (!c)
		return ENOMEM;

	err = cidr_decode(c, entry);
	if (err) {
		warning("httpctl: bad CIDR \"%r\" (%s)\n", entry,
			err == ERANGE ? "prefix out of range" : "malformed");
		mem_deref(c);
		return EINVAL;
	}

	list_append(&cl->cidrl, &c->le, c);

	return 0;
}


static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}


static int list_decode(struct cidr_list *cl, const char *str)
{
	const char *p = str;
	int err;

	while (*p) {
		struct pl entry;

		if (is_sep(*p)) {
			++p;
			continue;
		}

		entry.p = p;
		while (*p && !is_sep(*p))
			++p;
		entry.l = p - entry.p;

		err = list_add(cl, &entry);
		if (err)
			return err;
	}

	return 0;
}


/**
 * Decode a list of IPv4 and IPv6 prefixes
 *
 * Entries are separated by commas (blanks around them are allowed, but
 * baresip's config hands over one word per line); an address without a
 * prefix length stands for itself (/32 or /128). A NULL, empty or blank
 * string gives the default list: private, loopback and link-local ranges.
 *
 * @param clp  Returned CIDR list
 * @param str  List text, e.g. "10.0.0.0/8,::1/128,fe80::/10", or NULL
 *
 * @return 0 if success, EINVAL (with a warning naming the entry) if an
 *         entry is malformed or its prefix length out of range
 */
int cidr_list_decode(struct cidr_list **clp, const char *str)
{
	struct cidr_list *cl;
	int err;

	if (!clp)
		return EINVAL;

	cl = mem_zalloc(sizeof(*cl), list_destructor);
	if (!cl)
		return ENOMEM;

	err = list_decode(cl, str ? str : "");
	if (err)
		goto out;

	if (list_isempty(&cl->cidrl))
		err = list_decode(cl, cidr_default);

 out:
	if (err)
		mem_deref(cl);
	else
		*clp = cl;

	return err;
}


/**
 * Tell whether an address lies in one of the list's prefixes
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket
 * reports an IPv4 peer) is matched as the IPv4 address a.b.c.d.
 *
 * @param cl    CIDR list
 * @param addr  Address to check (the port is ignored)
 *
 * @return true if it matches, false if not or on bad arguments
 */
bool cidr_list_match(const struct cidr_list *cl, const struct sa *addr)
{
	uint8_t a4[4], a6[16];
	bool has4 = false, has6 = false;
	struct le *le;

	if (!cl || !addr)
		return false;

	switch (sa_af(addr)) {

	case AF_INET:
		memcpy(a4, &addr->u.in.sin_addr.s_addr, 4);
		has4 = true;
		break;

	case AF_INET6:
		sa_in6(addr, a6);
		has6 = true;

		if (!memcmp(a6, v4mapped, sizeof(v4mapped))) {
			memcpy(a4, a6 + 12, 4);
			has4 = true;
		}
		break;

	default:
		return false;
	}

	LIST_FOREACH(&cl->cidrl, le) {
		const struct cidr *c = le->data;

		if (c->af == AF_INET && has4 &&
		    prefix_match(c->addr, a4, c->plen))
			return true;

		if (c->af == AF_INET6 && has6 &&
		    prefix_match(c->addr, a6, c->plen))
			return true;
	}

	return false;
}
