/**
 * @file utf8.c  Text from the network made valid UTF-8 where it enters
 *
 * A SIP header may carry any bytes. JSON strings (jansson) must be valid
 * UTF-8, and a C string ends at its first NUL, so every string we keep
 * from a peer (a User-Agent, a caller's URI, the words of a SIP answer)
 * goes through utf8_clean() once, as it is stored: the API, the event
 * log and the logs then never meet a byte they cannot show.
 *
 * What is not UTF-8 (a stray continuation byte, a lead byte without its
 * continuation, an overlong form, a surrogate, a code point beyond
 * U+10FFFF) becomes U+FFFD, one per byte that starts no valid sequence,
 * as WHATWG's decoder does for the simple cases. Control characters
 * (NUL, the other C0 codes but tab, DEL) become U+FFFD too: they have no
 * place in a one-line value and would otherwise end or split it.
 */

#include "sipphone.h"


static const char replacement[] = "\xef\xbf\xbd";  /* U+FFFD */


/**
 * Length of the valid UTF-8 sequence at s
 *
 * @param s  Bytes
 * @param n  How many there are (at least 1)
 *
 * @return 1 to 4, or 0 if s does not start a valid sequence within n
 */
size_t utf8_len(const uint8_t *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (!s || !n)
		return 0;

	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;

	if (len > n)
		return 0;

	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}

	/* overlong forms, surrogates and beyond U+10FFFF are not UTF-8 */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;

	return len;
}


/**
 * Is a string valid UTF-8, as a JSON string must be? (Control
 * characters are: JSON escapes them.)
 *
 * @param s  String (NULL: no)
 *
 * @return true if it is
 */
bool utf8_valid(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, n = str_len(s), len;

	if (!s)
		return false;

	for (; i < n; i += len) {
		len = utf8_len(p + i, n - i);
		if (!len)
			return false;
	}

	return true;
}


static bool is_control(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}


/**
 * Copy bytes as a valid UTF-8 string without control characters
 *
 * @param dstp  Returned string (mem_deref it)
 * @param s     Bytes, any; may hold NULs (NULL: n must be 0)
 * @param n     How many
 *
 * @return 0 if success, otherwise errorcode
 */
int utf8_clean(char **dstp, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	struct mbuf *mb;
	size_t i = 0, run = 0;
	int err = 0;

	if (!dstp || (!s && n))
		return EINVAL;

	/* each bad byte may grow to three */
	mb = mbuf_alloc(n + 1);
	if (!mb)
		return ENOMEM;

	while (i < n && !err) {
		size_t len = is_control(p[i]) ? 0 : utf8_len(p + i, n - i);

		if (len) {
			run += len;
			i += len;
			continue;
		}

		/* what was valid before the bad byte goes out in one piece */
		if (run)
			err = mbuf_write_mem(mb, p + i - run, run);
		err |= mbuf_write_str(mb, replacement);
		run = 0;
		++i;
	}

	if (!err && run)
		err = mbuf_write_mem(mb, p + i - run, run);
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, dstp, mb->end);
	}

	mem_deref(mb);

	return err;
}


/**
 * A JSON string of any bytes: valid as it is, else cleaned (utf8_clean)
 *
 * For strings that should be clean already: a string that is not, for
 * whatever reason, still encodes, and the object it goes into with it.
 *
 * @param s  String, or NULL
 *
 * @return new JSON string, json null for NULL, or NULL if out of memory
 */
json_t *utf8_json(const char *s)
{
	json_t *js;
	char *clean = NULL;

	if (!s)
		return json_null();

	js = json_string(s);
	if (js)
		return js;

	if (utf8_clean(&clean, s, strlen(s)))
		return NULL;

	js = json_string(clean);
	mem_deref(clean);

	return js;
}
