/**
 * @file registrar.c  Registrar: answers REGISTER on baresip's SIP stack
 *
 * baresip 1.0.0 answers REGISTER with 501 itself, unless a listener
 * handles it first. Its own request listeners return false for REGISTER,
 * so ours, added later with sip_listen(), sees every REGISTER. Server
 * transactions (libre) absorb retransmissions before any listener.
 *
 * The source address must be in the allow list (httpctl_reg_allow).
 * With httpctl_sip_auth, a REGISTER must then carry the line's digest
 * credentials (sipauth.c): any user without them, configured or not,
 * gets the same 401 and then 403.
 */

#include "sipphone.h"
#include "sip/sip.h"


enum {
	REG_EXPIRES_MIN  = 60,     /* s, default shortest accepted expiry */
	REG_EXPIRES_MAX  = 3600,   /* s, default longest granted expiry   */
	REG_EXPIRES_DFLT = 3600,   /* s, when a REGISTER names none       */
};

struct registrar {
	struct sip_lsnr *lsnr;
	struct sip *sip;
	struct lines *lines;
	struct cidr_list *allow;
	struct sipauth *auth;  /* digest credentials, or NULL            */
	uint32_t expires_min;
	uint32_t expires_max;
	uint32_t expires_dflt;
};


static void registrar_destructor(void *arg)
{
	struct registrar *reg = arg;

	mem_deref(reg->lsnr);
	mem_deref(reg->allow);
	mem_deref(reg->auth);
	mem_deref(reg->lines);
}


/*
 * 200 OK with the line's binding, if any; Date lets the HT802 set its
 * clock. With a format, sip_treplyf() adds neither Content-Length nor
 * the blank line: each reply here ends with both.
 */
static void reply_ok(struct registrar *reg, const struct sip_msg *msg,
		     const struct line *line)
{
	int err;

	if (line && line->registered) {
		err = sip_treplyf(NULL, NULL, reg->sip, msg, false, 200, "OK",
				  "Contact: <%s>;expires=%u\r\n"
				  "Date: %H\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n",
				  line->contact, line_expires_left(line),
				  fmt_gmtime, NULL);
	}
	else {
		err = sip_treplyf(NULL, NULL, reg->sip, msg, false, 200, "OK",
				  "Date: %H\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n",
				  fmt_gmtime, NULL);
	}

	if (err)
		warning("httpctl: REGISTER reply to %J failed: %m\n",
			&msg->src, err);
}


/*
 * A refusal is sent statelessly: a server transaction would keep the
 * request's receive buffer (8 KB) for 32 s, so a flood of refused
 * REGISTERs would hold megabytes. A retransmission is refused again.
 */
static void reply_status(struct registrar *reg, const struct sip_msg *msg,
			 uint16_t scode, const char *reason)
{
	int err;

	err = sip_reply(reg->sip, msg, scode, reason);
	if (err)
		warning("httpctl: REGISTER reply to %J failed: %m\n",
			&msg->src, err);
}


static void reply_too_brief(struct registrar *reg, const struct sip_msg *msg)
{
	int err;

	err = sip_treplyf(NULL, NULL, reg->sip, msg, false,
			  423, "Interval Too Brief",
			  "Min-Expires: %u\r\n"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  reg->expires_min);
	if (err)
		warning("httpctl: REGISTER reply to %J failed: %m\n",
			&msg->src, err);
}


static int register_handle(struct registrar *reg, const struct sip_msg *msg,
			   const struct reg_req *rr, const char *id)
{
	/* with auth on, only an authenticated REGISTER gets here */
	bool authed = sipauth_on(reg->auth);
	struct line_binding b;
	char *contact = NULL, *ua = NULL;
	int err = 0;

	if (rr->star) {
		err = lines_unbind(reg->lines, id, NULL, &msg->src, authed);
		if (err)
			goto out;
		goto reply;
	}

	/* no Contact: a query for the current binding */
	if (!pl_isset(&rr->contact))
		goto reply;

	err = pl_strdup(&contact, &rr->contact);
	if (err)
		goto out;

	if (!rr->expires) {
		err = lines_unbind(reg->lines, id, contact, &msg->src,
				   authed);
		if (err)
			goto out;
		goto reply;
	}

	if (rr->expires < reg->expires_min) {
		reply_too_brief(reg, msg);
		goto out;
	}

	/* not pl_strdup(): it refuses an absent User-Agent */
	err = re_sdprintf(&ua, "%r", &rr->user_agent);
	if (err)
		goto out;

	b.contact = contact;
	b.src = &msg->src;
	b.tp = msg->tp;
	b.user_agent = ua;
	b.expires = min(rr->expires, reg->expires_max);
	b.authenticated = authed;

	err = lines_bind(reg->lines, id, &b);
	if (err)
		goto out;

 reply:
	reply_ok(reg, msg, lines_find(reg->lines, id));

 out:
	mem_deref(contact);
	mem_deref(ua);

	return err;
}


/* With auth on: the line's credentials, or an answer (401, 403, 400) */
static bool auth_passed(struct registrar *reg, const struct sip_msg *msg,
			const struct pl *line)
{
	uint64_t now = sipauth_now();
	enum sipauth_verdict v;
	int err;

	if (!sipauth_on(reg->auth))
		return true;

	v = sipauth_check(reg->auth, msg, line, now);
	if (v == SIPAUTH_OK)
		return true;

	err = sipauth_reply(reg->auth, reg->sip, msg, v, now);
	if (err)
		warning("httpctl: REGISTER reply to %J failed: %m\n",
			&msg->src, err);

	return false;
}


static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct registrar *reg = arg;
	const char *reason = NULL;
	struct reg_req rr;
	char id[64];
	int err;

	if (pl_strcmp(&msg->met, "REGISTER"))
		return false;

	if (!cidr_list_match(reg->allow, &msg->src)) {
		warning("httpctl: REGISTER from %J refused:"
			" not in httpctl_reg_allow\n", &msg->src);
		reply_status(reg, msg, 403, "Forbidden");
		return true;
	}

	err = reg_parse(&rr, msg, reg->expires_dflt, &reason);
	if (err) {
		if (!reason)
			reason = "Bad Request";

		warning("httpctl: bad REGISTER from %J: %s\n",
			&msg->src, reason);
		reply_status(reg, msg, 400, reason);
		return true;
	}

	if (!auth_passed(reg, msg, &rr.line))
		return true;

	/* reg_parse() allows at most 32 characters */
	(void)pl_strcpy(&rr.line, id, sizeof(id));

	debug("httpctl: REGISTER %s from %J: contact %r%s, %u s\n",
	      id, &msg->src, &rr.contact, rr.star ? "*" : "", rr.expires);

	err = register_handle(reg, msg, &rr, id);
	switch (err) {

	case 0:
		break;

	/* the line is someone else's: line.c said so (log, event) */
	case EPERM:
		reply_status(reg, msg, 403, "Forbidden");
		break;

	/* a new line, and httpctl_lines_max are all registered */
	case EOVERFLOW:
		warning("httpctl: REGISTER %s from %J refused: every line of"
			" httpctl_lines_max is registered\n", id, &msg->src);
		reply_status(reg, msg, 503, "Too Many Lines");
		break;

	default:
		warning("httpctl: REGISTER %s from %J failed: %m\n",
			id, &msg->src, err);
		reply_status(reg, msg, 500, "Server Internal Error");
		break;
	}

	return true;
}


/**
 * Start answering REGISTER requests
 *
 * @param regp   Returned registrar; mem_deref() it to stop listening
 * @param sip    SIP stack (baresip's uag_sip())
 * @param lines  Line table to bind into (referenced)
 * @param cfg    Allow list, expiry range and digest credentials
 *               (referenced), or NULL for the defaults (private +
 *               loopback ranges, 60-3600 s, no digest auth)
 *
 * @return 0 if success, otherwise errorcode
 */
int reg_alloc(struct registrar **regp, struct sip *sip, struct lines *lines,
	      const struct reg_cfg *cfg)
{
	struct registrar *reg;
	int err;

	if (!regp || !sip || !lines)
		return EINVAL;

	if (cfg && (!cfg->expires_max || cfg->expires_min > cfg->expires_max))
		return EINVAL;

	reg = mem_zalloc(sizeof(*reg), registrar_destructor);
	if (!reg)
		return ENOMEM;

	/* not referenced: baresip tears its SIP stack down before the
	 * modules, and flushing its listeners clears reg->lsnr */
	reg->sip = sip;
	reg->lines = mem_ref(lines);
	reg->auth = mem_ref(cfg ? cfg->auth : NULL);
	reg->expires_min = cfg ? cfg->expires_min : REG_EXPIRES_MIN;
	reg->expires_max = cfg ? cfg->expires_max : REG_EXPIRES_MAX;

	/* a default must never earn a 423 */
	reg->expires_dflt = REG_EXPIRES_DFLT;
	if (reg->expires_dflt > reg->expires_max)
		reg->expires_dflt = reg->expires_max;
	if (reg->expires_dflt < reg->expires_min)
		reg->expires_dflt = reg->expires_min;

	err = cidr_list_decode(&reg->allow, cfg ? cfg->allow : NULL);
	if (err)
		goto out;

	err = sip_listen(&reg->lsnr, sip, true, request_handler, reg);
	if (err)
		goto out;

	info("httpctl: registrar on, expiry %u-%u s\n",
	     reg->expires_min, reg->expires_max);

 out:
	if (err)
		mem_deref(reg);
	else
		*regp = reg;

	return err;
}
