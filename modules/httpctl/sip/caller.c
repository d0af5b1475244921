/**
 * @file caller.c  Caller ID on the phone: the name and number a call
 *                 from the API shows on the phone's display
 *
 * The phone shows the INVITE's From: the display name and the URI's
 * user. Both come from the API (POST /calls, WS dial: "caller") or the
 * config's defaults, and are checked here so that neither can break
 * the header they go into (libre prints the name between quotes, as it
 * is).
 *
 * Config (the name is the rest of its line: it may have spaces):
 *
 *  httpctl_caller_name    <name>     # default: the account's
 *  httpctl_caller_number  <number>   # default: the account's user
 *
 * Threads: any (no state).
 */

#include <string.h>
#include "sipphone.h"
#include "sip.h"


static bool name_valid(const char *s)
{
	size_t len = str_len(s);
	const unsigned char *p;

	if (!len || len > CALLER_NAME_MAX || !utf8_valid(s))
		return false;

	/* no control character, and nothing that ends a quoted string */
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return false;
	}

	return true;
}


static bool number_valid(const char *s)
{
	size_t len = str_len(s);

	return len && len <= CALLER_NUMBER_MAX &&
		strspn(s, "0123456789*#+") == len;
}


/**
 * Set a caller ID
 *
 * @param c       Caller ID (left alone on error)
 * @param name    Display name (1 to 64 bytes of UTF-8, no control
 *                character, '"' or '\'), or NULL to keep c's
 * @param number  Number (1 to 32 of 0-9 * # +), or NULL to keep c's
 *
 * @return 0 if success, EINVAL if name or number is not valid
 */
int caller_set(struct caller *c, const char *name, const char *number)
{
	if (!c)
		return EINVAL;

	if ((name && !name_valid(name)) || (number && !number_valid(number)))
		return EINVAL;

	if (name)
		str_ncpy(c->name, name, sizeof(c->name));
	if (number)
		str_ncpy(c->number, number, sizeof(c->number));

	return 0;
}


/*
 * A config value to the end of its line: baresip's conf_get() gives one
 * word, and a name ("Front door") has spaces. A '#' after a blank
 * starts a comment.
 */
static void value_copy(char *buf, size_t sz, const char *text,
		       const char *key)
{
	size_t klen = strlen(key), n;
	const char *p = text, *v, *end;

	buf[0] = '\0';

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		p += strspn(p, " \t");
		if (strncmp(p, key, klen) || !strchr(" \t", p[klen]) ||
		    !p[klen])
			continue;

		v = p + klen + strspn(p + klen, " \t");
		for (end = v; *end && *end != '\n' && *end != '\r'; end++) {
			if (*end == '#' && end > v && strchr(" \t", end[-1]))
				break;
		}
		while (end > v && strchr(" \t", end[-1]))
			--end;

		n = (size_t)(end - v);
		if (n >= sz)
			n = sz - 1;  /* too long: fails the check */
		memcpy(buf, v, n);
		buf[n] = '\0';
	}
}


/**
 * Read the default caller ID from the config file's text
 *
 * @param c     Returned caller ID ("" where the config sets none)
 * @param text  The config file, NUL-terminated
 *
 * @return 0 if success, EINVAL for a key whose value is not valid
 */
int caller_conf(struct caller *c, const char *text)
{
	char name[CALLER_NAME_MAX + 2];
	char number[CALLER_NUMBER_MAX + 2];
	int err;

	if (!c || !text)
		return EINVAL;

	memset(c, 0, sizeof(*c));

	value_copy(name, sizeof(name), text, "httpctl_caller_name");
	value_copy(number, sizeof(number), text, "httpctl_caller_number");

	err = caller_set(c, name[0] ? name : NULL,
			 number[0] ? number : NULL);
	if (err)
		warning("httpctl: httpctl_caller_name '%s' or"
			" httpctl_caller_number '%s': a name is 1 to %d"
			" bytes of UTF-8 without control characters, '\"' or"
			" '\\'; a number 1 to %d of 0-9 * # +\n", name, number,
			CALLER_NAME_MAX, CALLER_NUMBER_MAX);

	return err;
}


/**
 * The From URI of a call with a caller number: the account's AOR with
 * the number as its user
 *
 * @param buf     Returned URI
 * @param sz      Size of buf
 * @param aor     The account's AOR ("sip:user@host" or "sip:host")
 * @param number  A valid caller number
 *
 * @return 0 if success, otherwise errorcode
 */
int caller_from_uri(char *buf, size_t sz, const char *aor,
		    const char *number)
{
	const char *at, *host;

	if (!buf || !aor || !number_valid(number) ||
	    strncmp(aor, "sip:", 4))
		return EINVAL;

	at = strchr(aor, '@');
	host = at ? at + 1 : aor + 4;

	return re_snprintf(buf, sz, "sip:%s@%s", number, host) < 0 ?
		ENOMEM : 0;
}
