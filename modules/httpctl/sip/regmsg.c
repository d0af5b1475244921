/**
 * @file regmsg.c  REGISTER parsing: read and check a request, change nothing
 *
 * libre's sip_msg_decode() has already parsed To, From, CSeq and the
 * first Via; a request whose To or From does not decode never reaches a
 * listener. What is left to check here is what a registrar needs: the
 * line id, one Contact and its expiry (RFC 3261 section 10.3).
 *
 * The Contact URI is kept as sent (the 200 OK lists it, the API shows
 * it), so it must be what a SIP URI is: printable ASCII (RFC 3261
 * escapes anything else), of a sane length. Anything else is a 400.
 */

#include <string.h>
#include "sipphone.h"
#include "sip/sip.h"


enum {
	LINE_ID_MAX = 32,
	CONTACT_MAX = 512,     /* bytes of a Contact URI */
};

/* RFC 3261 delta-seconds; larger asks are nonsense from an ATA */
static const uint64_t expires_limit = 1ULL << 31;


static bool line_char(char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;

	switch (c) {

	case '.': case '_': case '-': case '+': case '*': case '#':
		return true;

	default:
		return false;
	}
}


static bool line_valid(const struct pl *id)
{
	size_t i;

	if (!pl_isset(id) || id->l > LINE_ID_MAX)
		return false;

	for (i = 0; i < id->l; i++) {
		if (!line_char(id->p[i]))
			return false;
	}

	return true;
}


/* pl_u32() reads "12ab" as 12 and "" as 0: check every digit ourselves */
static int delta_decode(uint32_t *valp, const struct pl *pl)
{
	uint64_t v = 0;
	size_t i;

	if (!pl_isset(pl) || pl->l > 10)
		return EBADMSG;

	for (i = 0; i < pl->l; i++) {

		if (pl->p[i] < '0' || pl->p[i] > '9')
			return EBADMSG;

		v = v * 10 + (uint64_t)(pl->p[i] - '0');
	}

	if (v > expires_limit)
		return EBADMSG;

	*valp = (uint32_t)v;

	return 0;
}


/*
 * libre's uri_decode() searches rather than anchors, so "sip:100@:5060"
 * decodes with host "5060". Accept a host only if it starts right after
 * the '@' (or '[' of an IPv6 literal, or the scheme's ':') and is a
 * plain hostname or IP address.
 */
static bool uri_host_valid(const struct uri *uri)
{
	const char *before;
	struct sa sa;
	size_t i;

	if (!pl_isset(&uri->host))
		return false;

	before = uri->host.p - 1;
	if (*before != '@' && *before != '[' &&
	    before != uri->scheme.p + uri->scheme.l)
		return false;

	if (!sa_set(&sa, &uri->host, 0))
		return true;

	for (i = 0; i < uri->host.l; i++) {
		char c = uri->host.p[i];

		if (!line_char(c) || c == '*' || c == '#' || c == '+')
			return false;
	}

	return true;
}


/* A URI as RFC 3261 writes one: printable ASCII, no blank */
static bool uri_chars_valid(const struct pl *uri)
{
	size_t i;

	for (i = 0; i < uri->l; i++) {
		if (uri->p[i] <= ' ' || uri->p[i] > '~')
			return false;
	}

	return true;
}


static int contact_decode(struct reg_req *rr, const struct pl *val,
			  bool *has_expiresp, const char **reasonp)
{
	struct sip_addr addr;
	struct pl v;

	if (sip_addr_decode(&addr, val)) {
		*reasonp = "bad Contact";
		return EBADMSG;
	}

	if (pl_strcasecmp(&addr.uri.scheme, "sip") &&
	    pl_strcasecmp(&addr.uri.scheme, "sips")) {
		*reasonp = "Contact is not a sip: URI";
		return EBADMSG;
	}

	if (!uri_host_valid(&addr.uri)) {
		*reasonp = "Contact has no valid host";
		return EBADMSG;
	}

	if (addr.auri.l > CONTACT_MAX) {
		*reasonp = "Contact too long";
		return EBADMSG;
	}

	if (!uri_chars_valid(&addr.auri)) {
		*reasonp = "Contact is not printable ASCII";
		return EBADMSG;
	}

	/* header parameters (after the '>'), not URI parameters */
	if (0 == msg_param_exists(&addr.params, "expires", &v)) {

		if (msg_param_decode(&addr.params, "expires", &v) ||
		    delta_decode(&rr->expires, &v)) {
			*reasonp = "bad Contact expires";
			return EBADMSG;
		}

		*has_expiresp = true;
	}

	rr->contact = addr.auri;

	return 0;
}


static int req_decode(struct reg_req *rr, const struct sip_msg *msg,
		      uint32_t dflt_expires, const char **reasonp)
{
	const struct sip_hdr *hdr;
	bool hdr_has = false, param_has = false;
	uint32_t hdr_expires = 0;
	int err;

	/* libre leaves these empty when the header is absent */
	if (!pl_isset(&msg->to.auri)) {
		*reasonp = "missing To";
		return EBADMSG;
	}

	if (!pl_isset(&msg->from.auri)) {
		*reasonp = "missing From";
		return EBADMSG;
	}

	if (!pl_isset(&msg->callid)) {
		*reasonp = "missing Call-ID";
		return EBADMSG;
	}

	if (pl_cmp(&msg->cseq.met, &msg->met)) {
		*reasonp = "bad CSeq";
		return EBADMSG;
	}

	if (!line_valid(&msg->to.uri.user)) {
		*reasonp = "bad line id in To";
		return EBADMSG;
	}

	rr->line = msg->to.uri.user;

	hdr = sip_msg_hdr(msg, SIP_HDR_EXPIRES);
	if (hdr) {
		if (delta_decode(&hdr_expires, &hdr->val)) {
			*reasonp = "bad Expires";
			return EBADMSG;
		}

		hdr_has = true;
	}

	hdr = sip_msg_hdr(msg, SIP_HDR_USER_AGENT);
	if (hdr)
		rr->user_agent = hdr->val;

	/* libre splits "Contact: a, b" into one header per value */
	switch (sip_msg_hdr_count(msg, SIP_HDR_CONTACT)) {

	case 0:
		/* no Contact: the client asks for its bindings */
		rr->expires = hdr_has ? hdr_expires : dflt_expires;
		return 0;

	case 1:
		break;

	default:
		*reasonp = "one Contact per REGISTER";
		return EBADMSG;
	}

	hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);

	if (0 == pl_strcmp(&hdr->val, "*")) {

		if (!hdr_has || hdr_expires) {
			*reasonp = "Contact: * needs Expires: 0";
			return EBADMSG;
		}

		rr->star = true;
		rr->expires = 0;
		return 0;
	}

	err = contact_decode(rr, &hdr->val, &param_has, reasonp);
	if (err)
		return err;

	if (!param_has)
		rr->expires = hdr_has ? hdr_expires : dflt_expires;

	return 0;
}


/**
 * Read a REGISTER request into a reg_req, without side effects
 *
 * The pointer-length strings in rr point into msg and live as long as it.
 * No Contact at all is valid: it asks for the current bindings (star is
 * false and contact empty). The expiry is the Contact's expires parameter,
 * else the Expires header, else dflt_expires.
 *
 * @param rr            Returned request
 * @param msg           SIP request (method REGISTER)
 * @param dflt_expires  Expiry when the request names none, in seconds
 * @param reasonp       Set on EBADMSG to a short reason (400 phrase)
 *
 * @return 0 if success, EBADMSG if malformed, EINVAL on bad arguments
 */
int reg_parse(struct reg_req *rr, const struct sip_msg *msg,
	      uint32_t dflt_expires, const char **reasonp)
{
	const char *reason = NULL;
	int err;

	if (!rr || !msg)
		return EINVAL;

	memset(rr, 0, sizeof(*rr));

	err = req_decode(rr, msg, dflt_expires, &reason);
	if (err) {
		memset(rr, 0, sizeof(*rr));

		if (reasonp)
			*reasonp = reason;
	}

	return err;
}
