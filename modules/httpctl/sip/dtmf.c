/**
 * @file dtmf.c  DTMF digits sent to the phone
 *
 * baresip sends RFC 2833 events; a digit is a key press followed by a
 * release, so digits are paced by a timer: TONE_MS on, GAP_MS off.
 * (How digits from the phone arrived is read in siptrace.c.)
 *
 * Threads: main thread only.
 */

#include <ctype.h>
#include "sipphone.h"
#include "sip/sip.h"


enum {
	TONE_MS = 120,         /* key down                              */
	GAP_MS = 80,           /* between digits                        */
	QUEUE_MAX = 256,       /* digits waiting to go out              */
};

struct dtmf_tx {
	struct call *call;     /* baresip's; we die before it does     */
	struct mbuf *q;        /* digits to send                       */
	struct tmr tmr;
	bool down;             /* a key is pressed now                 */
};

static void tx_destructor(void *arg)
{
	struct dtmf_tx *dt = arg;

	tmr_cancel(&dt->tmr);
	if (dt->down)
		(void)call_send_digit(dt->call, KEYCODE_REL);
	mem_deref(dt->q);
}


static void tx_handler(void *arg)
{
	struct dtmf_tx *dt = arg;
	char key;

	if (dt->down) {
		dt->down = false;
		(void)call_send_digit(dt->call, KEYCODE_REL);
		if (mbuf_get_left(dt->q))
			tmr_start(&dt->tmr, GAP_MS, tx_handler, dt);
		return;
	}

	if (!mbuf_get_left(dt->q))
		return;

	key = (char)mbuf_read_u8(dt->q);
	if (!mbuf_get_left(dt->q))
		mbuf_reset(dt->q);

	if (call_send_digit(dt->call, key)) {
		warning("httpctl: could not send DTMF '%c'\n", key);
		tmr_start(&dt->tmr, GAP_MS, tx_handler, dt);
		return;
	}

	dt->down = true;
	tmr_start(&dt->tmr, TONE_MS, tx_handler, dt);
}


/** A sender of DTMF digits on one call */
int dtmf_tx_alloc(struct dtmf_tx **dtp, struct call *call)
{
	struct dtmf_tx *dt;

	if (!dtp || !call)
		return EINVAL;

	dt = mem_zalloc(sizeof(*dt), tx_destructor);
	if (!dt)
		return ENOMEM;

	dt->call = call;
	tmr_init(&dt->tmr);
	dt->q = mbuf_alloc(16);
	if (!dt->q) {
		mem_deref(dt);
		return ENOMEM;
	}

	*dtp = dt;

	return 0;
}


/** Are these DTMF digits we can send (0-9 * # A-D, 1 to 32 of them)? */
bool dtmf_digits_valid(const char *digits)
{
	size_t i, len = str_len(digits);

	if (len < 1 || len > 32)
		return false;

	for (i = 0; i < len; i++) {
		if (!strchr("0123456789*#ABCDabcd", digits[i]))
			return false;
	}

	return true;
}


/**
 * Queue digits behind any still being sent
 *
 * @return 0 if queued, EINVAL for invalid digits, EOVERFLOW when too many
 *         are waiting
 */
int dtmf_tx_queue(struct dtmf_tx *dt, const char *digits)
{
	size_t i, len;
	int err = 0;

	if (!dt || !dtmf_digits_valid(digits))
		return EINVAL;

	len = strlen(digits);
	if (mbuf_get_left(dt->q) + len > QUEUE_MAX)
		return EOVERFLOW;

	/* append after what is still unread */
	{
		size_t pos = dt->q->pos;

		dt->q->pos = dt->q->end;
		for (i = 0; i < len && !err; i++)
			err = mbuf_write_u8(dt->q,
					    (uint8_t)toupper(digits[i]));
		dt->q->pos = pos;
	}
	if (err)
		return err;

	if (!tmr_isrunning(&dt->tmr))
		tx_handler(dt);

	return 0;
}
