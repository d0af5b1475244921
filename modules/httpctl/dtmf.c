/**
 * @file dtmf.c  DTMF: digits sent to the phone, and how digits arrived
 *
 * Out: baresip sends RFC 2833 events; a digit is a key press followed by
 * a release, so digits are paced by a timer: TONE_MS on, GAP_MS off.
 *
 * In: baresip 1.0.0 raises the same CALL_DTMF_START for RFC 2833 and for
 * SIP INFO, and answers the INFO inside its session code, before any
 * module listener sees it. libre's SIP trace handler sees every message
 * first, so an INFO's digit is noted on its call there and the UA event
 * that follows is labelled "info". A hook flash by INFO ("Signal=16",
 * "Signal=hf" or application/hook-flash) becomes a call.flash event; the
 * '1' baresip would read from "Signal=16" is swallowed.
 *
 * Threads: main thread only.
 */

#include <ctype.h>
#include "sipphone.h"
#include "httpctl.h"


enum {
	TONE_MS = 120,         /* key down                              */
	GAP_MS = 80,           /* between digits                        */
	QUEUE_MAX = 256,       /* digits waiting to go out              */
	INFO_FRESH_MS = 1000,  /* an INFO digit labels the next event   */
};

struct dtmf_tx {
	struct call *call;     /* baresip's; we die before it does     */
	struct mbuf *q;        /* digits to send                       */
	struct tmr tmr;
	bool down;             /* a key is pressed now                 */
};

struct dtmf_rx {
	struct sip *sip;
	struct calls *calls;
};

/*
 * libre's trace handler gets the SIP stack's argument, not ours: this is
 * the one way back to the receiver.
 */
static struct dtmf_rx *rx_inst;


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


static void info_note(struct pcall *pc, const struct sip_msg *msg)
{
	struct pl body, sig;
	bool flash = false;

	if (msg_ctype_cmp(&msg->ctyp, "application", "hook-flash")) {
		flash = true;
	}
	else if (msg_ctype_cmp(&msg->ctyp, "application", "dtmf-relay")) {

		pl_set_mbuf(&body, msg->mb);
		if (re_regex(body.p, body.l, "Signal=[ ]*[0-9a-z*#]+",
			     NULL, &sig))
			return;

		if (0 == pl_strcmp(&sig, "16")) {
			flash = true;
			pc->info_swallow = '1';
			pc->info_at = tmr_jiffies();
		}
		else if (0 == pl_strcasecmp(&sig, "hf")) {
			flash = true;
		}
		else {
			pc->info_digit = (char)toupper(sig.p[0]);
			pc->info_at = tmr_jiffies();
		}
	}

	if (flash) {
		info("httpctl: %s: hook flash (SIP INFO)\n", pc->id);
		calls_publish(pc, "call.flash",
			      json_pack("{s:s}", "method", "info"));
	}
}


static void trace_handler(bool tx, enum sip_transp tp,
			  const struct sa *src, const struct sa *dst,
			  const uint8_t *pkt, size_t len, void *arg)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb;
	struct pcall *pc;
	char callid[256];
	(void)arg;

	debug("httpctl: SIP %s %s %J -> %J\n%b\n", tx ? "send" : "recv",
	      sip_transp_name(tp), src, dst, pkt, len);

	if (tx || !rx_inst || len < 5 || memcmp(pkt, "INFO ", 5))
		return;

	mb = mbuf_alloc(len);
	if (!mb)
		return;
	(void)mbuf_write_mem(mb, pkt, len);
	mb->pos = 0;

	if (sip_msg_decode(&msg, mb))
		goto out;

	(void)pl_strcpy(&msg->callid, callid, sizeof(callid));
	pc = calls_find_sip(rx_inst->calls, callid);
	if (pc)
		info_note(pc, msg);

 out:
	mem_deref(msg);
	mem_deref(mb);
}


/**
 * How a digit that baresip reported arrived
 *
 * @param pc     The call
 * @param digit  The digit of CALL_DTMF_START
 *
 * @return "info" or "rfc2833", or NULL when the event must be dropped
 *         (the '1' of an INFO hook flash)
 */
const char *dtmf_rx_method(struct pcall *pc, char digit)
{
	bool fresh = tmr_jiffies() - pc->info_at < INFO_FRESH_MS;

	if (fresh && pc->info_swallow == digit) {
		pc->info_swallow = 0;
		return NULL;
	}

	if (fresh && pc->info_digit == digit) {
		pc->info_digit = 0;
		return "info";
	}

	return "rfc2833";
}


static void rx_destructor(void *arg)
{
	struct dtmf_rx *dr = arg;
	struct sip *sip = uag_sip();

	/* at shutdown baresip frees its SIP stack before unloading us */
	if (sip == dr->sip)
		sip_set_trace_handler(sip, NULL);

	if (rx_inst == dr)
		rx_inst = NULL;
}


/**
 * Start noting digits that arrive by SIP INFO
 *
 * @param drp    Returned receiver
 * @param sip    baresip's SIP stack
 * @param calls  Call table to note them on
 *
 * @return 0 if success, otherwise errorcode
 */
int dtmf_rx_alloc(struct dtmf_rx **drp, struct sip *sip, struct calls *calls)
{
	struct dtmf_rx *dr;

	if (!drp || !sip || !calls || rx_inst)
		return EINVAL;

	dr = mem_zalloc(sizeof(*dr), rx_destructor);
	if (!dr)
		return ENOMEM;

	dr->sip = sip;
	dr->calls = calls;
	rx_inst = dr;

	/* replaces baresip's own -s tracer: we log SIP at debug level */
	sip_set_trace_handler(sip, trace_handler);

	*drp = dr;

	return 0;
}
