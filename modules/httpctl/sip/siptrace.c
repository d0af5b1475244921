/**
 * @file siptrace.c  What baresip does not tell: read off SIP messages
 *
 * libre's trace handler sees every SIP message in and out, before the
 * stack handles it. We use it for three things baresip 1.0.0 hides:
 *
 *  - Where a call came from: the source address of each new INVITE, so a
 *    call is taken only from the address its line registered from.
 *  - How a digit came: baresip raises the same CALL_DTMF_START for RFC
 *    2833 and for SIP INFO, and answers the INFO before any module sees
 *    it. An INFO is noted when it arrives and confirmed by the answer
 *    that leaves: a 481 (no such dialog) drops the note; anything else
 *    means the dialog took it, and the UA event that follows is "info".
 *  - Hook flash: "Signal=16" (which baresip reads as '1'), "Signal=hf"
 *    or application/hook-flash becomes a flash, and the '1' is dropped.
 *    (info.c reads the bodies.)
 *
 * baresip answers INFO statelessly, so a retransmitted INFO (its 200 was
 * lost) is handled again; an INFO whose CSeq was already confirmed is
 * recognized and its repeated digit dropped.
 *
 * Bounded: a dialog is noted only for an INFO in one of our live calls
 * (the call table says which: siptrace_live_h); any other INFO gets
 * baresip's 481 and leaves nothing here, so a stranger's flood of INFOs
 * with new Call-IDs costs no memory. A call's notes go when it ends, and
 * there are never more than DLGS_MAX of them (the oldest go first).
 *
 * Also logs every SIP message at debug level (this replaces baresip's
 * own tracer, which "-s" would install).
 *
 * Threads: main thread only.
 */

#include "sipphone.h"
#include "sip/sip.h"


enum {
	INVITES_KEPT = 16,     /* recent INVITE sources remembered      */
	FRESH_MS = 1000,       /* a note labels an event this soon      */
	DLGS_MAX = 64,         /* dialogs noted at most                 */
};

/* What we know of one dialog's INFO requests */
struct dlg {
	struct le le;
	char *callid;
	uint32_t cseq_done;    /* highest CSeq whose INFO was taken     */
	uint32_t cseq_wait;    /* CSeq of the INFO awaiting its answer  */
	enum info_kind wait;   /* what that INFO carried (a flash by
				  Signal=16 also swallows baresip's '1') */
	char wait_digit;
	bool wait_sig16;
	bool wait_dup;         /* a retransmission of a taken INFO      */
	char info_digit;       /* digit baresip is about to report      */
	char swallow;          /* digit baresip will report in vain     */
	uint64_t at;           /* tmr_jiffies() of info_digit/swallow   */
};

struct invsrc {
	char callid[128];
	struct sa src;
};

struct siptrace {
	struct sip *sip;
	struct list dlgl;      /* struct dlg, oldest first              */
	struct invsrc invv[INVITES_KEPT];
	size_t invi;
	siptrace_live_h *liveh;
	siptrace_flash_h *flashh;
	void *arg;
};

/*
 * libre's trace handler gets the SIP stack's argument, not ours: this is
 * the one way back to our state.
 */
static struct siptrace *trace_inst;


static void dlg_destructor(void *arg)
{
	struct dlg *d = arg;

	list_unlink(&d->le);
	mem_deref(d->callid);
}


static struct dlg *dlg_find(const struct siptrace *tr, const struct pl *id)
{
	struct le *le;

	for (le = list_head(&tr->dlgl); le; le = le->next) {
		struct dlg *d = le->data;

		if (0 == pl_strcmp(id, d->callid))
			return d;
	}

	return NULL;
}


static struct dlg *dlg_get(struct siptrace *tr, const struct pl *id)
{
	struct dlg *d = dlg_find(tr, id);

	if (d)
		return d;

	/* only our calls' dialogs: an INFO elsewhere gets a 481 */
	if (!tr->liveh(id, tr->arg))
		return NULL;

	if (list_count(&tr->dlgl) >= DLGS_MAX)
		mem_deref(list_head(&tr->dlgl)->data);

	d = mem_zalloc(sizeof(*d), dlg_destructor);
	if (!d)
		return NULL;

	if (pl_strdup(&d->callid, id)) {
		mem_deref(d);
		return NULL;
	}

	list_append(&tr->dlgl, &d->le, d);

	return d;
}


/* An INFO arrived: note what it carries until its answer leaves */
static void on_info(struct siptrace *tr, const struct sip_msg *msg)
{
	struct dlg *d = dlg_get(tr, &msg->callid);
	struct info_signal info;

	if (!d)
		return;

	d->cseq_wait = msg->cseq.num;
	d->wait_dup = msg->cseq.num <= d->cseq_done;
	d->wait = info_decode(&info, msg);
	d->wait_digit = info.digit;
	d->wait_sig16 = info.sig16;
}


/* Our answer to an INFO left: the dialog took it unless it is a 481 */
static void on_info_reply(struct siptrace *tr, const struct sip_msg *msg)
{
	struct dlg *d = dlg_find(tr, &msg->callid);
	enum info_kind kind;

	if (!d || !d->cseq_wait || msg->cseq.num != d->cseq_wait ||
	    msg->scode < 200)
		return;

	kind = d->wait;
	d->cseq_wait = 0;
	d->wait = INFO_NONE;

	if (msg->scode == 481)
		return;

	d->at = tmr_jiffies();

	/* a repeat: baresip reports its digit again, we do not */
	if (d->wait_dup) {
		if (kind == INFO_DIGIT)
			d->swallow = d->wait_digit;
		else if (kind == INFO_FLASH && d->wait_sig16)
			d->swallow = '1';
		return;
	}

	d->cseq_done = msg->cseq.num;

	if (kind == INFO_DIGIT) {
		d->info_digit = d->wait_digit;
	}
	else if (kind == INFO_FLASH) {
		if (d->wait_sig16)
			d->swallow = '1';
		tr->flashh(d->callid, tr->arg);
	}
}


static void on_invite(struct siptrace *tr, const struct sip_msg *msg)
{
	struct invsrc *inv;

	/* a re-INVITE belongs to a call we already took */
	if (pl_isset(&msg->to.tag))
		return;

	inv = &tr->invv[tr->invi++ % INVITES_KEPT];
	(void)pl_strcpy(&msg->callid, inv->callid, sizeof(inv->callid));
	inv->src = msg->src;
}


static void trace_handler(bool tx, enum sip_transp tp,
			  const struct sa *src, const struct sa *dst,
			  const uint8_t *pkt, size_t len, void *arg)
{
	struct siptrace *tr = trace_inst;
	struct sip_msg *msg = NULL;
	struct mbuf *mb;
	(void)arg;

	debug("httpctl: SIP %s %s %J -> %J\n%b\n", tx ? "send" : "recv",
	      sip_transp_name(tp), src, dst, pkt, len);

	/* only INVITE and INFO requests and answers to INFO matter */
	if (!tr || len < 8 || !(memcmp(pkt, "INFO ", 5) == 0 ||
				memcmp(pkt, "INVITE ", 7) == 0 ||
				(tx && memcmp(pkt, "SIP/2.0 ", 8) == 0)))
		return;

	mb = mbuf_alloc(len);
	if (!mb)
		return;
	(void)mbuf_write_mem(mb, pkt, len);
	mb->pos = 0;

	if (sip_msg_decode(&msg, mb))
		goto out;

	/* the decoder knows only the bytes, not where they came from */
	msg->src = *src;

	if (msg->req && !tx && 0 == pl_strcmp(&msg->met, "INFO"))
		on_info(tr, msg);
	else if (msg->req && !tx && 0 == pl_strcmp(&msg->met, "INVITE"))
		on_invite(tr, msg);
	else if (!msg->req && tx && 0 == pl_strcmp(&msg->cseq.met, "INFO"))
		on_info_reply(tr, msg);

 out:
	mem_deref(msg);
	mem_deref(mb);
}


/**
 * How a digit that baresip reported arrived
 *
 * @param tr      SIP tracer
 * @param callid  SIP Call-ID of the call
 * @param digit   The digit of CALL_DTMF_START
 *
 * @return "info" or "rfc2833", or NULL when the event must be dropped
 *         (the '1' of a hook flash, a retransmitted INFO)
 */
const char *siptrace_dtmf_method(struct siptrace *tr, const char *callid,
				 char digit)
{
	struct pl id;
	struct dlg *d;

	pl_set_str(&id, callid);
	d = tr ? dlg_find(tr, &id) : NULL;
	if (!d || tmr_jiffies() - d->at >= FRESH_MS)
		return "rfc2833";

	if (d->swallow == digit) {
		d->swallow = 0;
		return NULL;
	}

	if (d->info_digit == digit) {
		d->info_digit = 0;
		return "info";
	}

	return "rfc2833";
}


/**
 * The source address of a call's INVITE
 *
 * @param tr      SIP tracer
 * @param callid  SIP Call-ID
 * @param src     Returned source address
 *
 * @return 0 if known, ENOENT if not
 */
int siptrace_invite_src(const struct siptrace *tr, const char *callid,
			struct sa *src)
{
	size_t i;

	if (!tr || !callid || !src)
		return EINVAL;

	for (i = 0; i < INVITES_KEPT; i++) {
		if (0 == str_cmp(tr->invv[i].callid, callid)) {
			*src = tr->invv[i].src;
			return 0;
		}
	}

	return ENOENT;
}


/** Forget what was noted about a dialog (its call ended) */
void siptrace_forget(struct siptrace *tr, const char *callid)
{
	struct pl id;

	if (!tr || !callid)
		return;

	pl_set_str(&id, callid);
	mem_deref(dlg_find(tr, &id));
}


static void trace_destructor(void *arg)
{
	struct siptrace *tr = arg;
	struct sip *sip = uag_sip();

	/* at shutdown baresip frees its SIP stack before unloading us */
	if (sip && sip == tr->sip)
		sip_set_trace_handler(sip, NULL);

	list_flush(&tr->dlgl);

	if (trace_inst == tr)
		trace_inst = NULL;
}


/** How many dialogs have notes now */
size_t siptrace_dialogs(const struct siptrace *tr)
{
	return tr ? list_count(&tr->dlgl) : 0;
}


/**
 * Start reading SIP messages as they pass
 *
 * @param trp     Returned tracer
 * @param sip     baresip's SIP stack
 * @param liveh   Says whether a Call-ID is one of our live calls
 * @param flashh  Called with the Call-ID of a hook flash by SIP INFO
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int siptrace_alloc(struct siptrace **trp, struct sip *sip,
		   siptrace_live_h *liveh, siptrace_flash_h *flashh, void *arg)
{
	struct siptrace *tr;

	if (!trp || !sip || !liveh || !flashh || trace_inst)
		return EINVAL;

	tr = mem_zalloc(sizeof(*tr), trace_destructor);
	if (!tr)
		return ENOMEM;

	tr->sip = sip;
	tr->liveh = liveh;
	tr->flashh = flashh;
	tr->arg = arg;
	trace_inst = tr;

	sip_set_trace_handler(sip, trace_handler);

	*trp = tr;

	return 0;
}
