/**
 * @file err.c  Errors reported to API clients, and the one writer of their
 *              JSON body: {"error":{"code":"...","message":"..."}}
 *
 * Every error body the web layer sends (the router's, the HTTP layer's
 * own 4xx, a refused WebSocket, plain HTTP on the TLS port) is printed
 * here, so a message that quotes a client's path or Origin is escaped
 * like any other: the body stays JSON whatever the client sent.
 */

#include "sipphone.h"


/**
 * Fill an error
 *
 * @param err     Error to fill
 * @param status  HTTP status it maps to
 * @param code    snake_case code (a static string)
 * @param fmt     Message (re_printf format)
 *
 * @return the errno code that matches the status best
 */
int sp_err_set(struct sp_err *err, uint16_t status, const char *code,
	       const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->status = status;
		err->code = code;
		err->hdrs = NULL;
		va_start(ap, fmt);
		(void)re_vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}

	switch (status) {

	case 400: return EINVAL;
	case 401:
	case 403: return EACCES;
	case 404: return ENOENT;
	case 409: return EPROTO;
	case 503: return EAGAIN;
	default:  return EIO;
	}
}


/*
 * A JSON string's contents, escaped as jansson escapes them (", \ and
 * control characters; UTF-8 as it is), so an error reads the same
 * whoever printed it. A byte that is not UTF-8 (a path may hold any)
 * becomes U+FFFD: the body must stay valid JSON.
 */
static int json_str_print(struct re_printf *pf, const char *str)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t n = str_len(str), run = 0, i = 0;
	int err = 0;

	while (i < n && !err) {
		const char *esc = NULL;
		char ubuf[8];
		size_t len;

		switch (s[i]) {

		case '"':  esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b";  break;
		case '\f': esc = "\\f";  break;
		case '\n': esc = "\\n";  break;
		case '\r': esc = "\\r";  break;
		case '\t': esc = "\\t";  break;
		default:
			if (s[i] < 0x20) {
				(void)re_snprintf(ubuf, sizeof(ubuf),
						  "\\u%04X", s[i]);
				esc = ubuf;
			}
			break;
		}

		len = esc ? 1 : utf8_len(s + i, n - i);
		if (!len)
			esc = "\\uFFFD", len = 1;

		if (!esc) {
			run += len;
			i += len;
			continue;
		}

		/* the plain bytes before the escape go out in one piece */
		if (run)
			err = pf->vph((const char *)s + i - run, run,
				      pf->arg);
		run = 0;
		if (!err)
			err = pf->vph(esc, strlen(esc), pf->arg);
		i += len;
	}

	if (!err && run)
		err = pf->vph((const char *)s + i - run, run, pf->arg);

	return err;
}


/**
 * Print an error body: {"error":{"code":"...","message":"..."}}
 *
 * @param pf    Print handler
 * @param code  snake_case code
 * @param msg   Human message, any bytes (escaped here)
 *
 * @return 0 if success, otherwise errorcode
 */
int sp_err_json(struct re_printf *pf, const char *code, const char *msg)
{
	if (!pf || !code || !msg)
		return EINVAL;

	return re_hprintf(pf, "{\"error\":{\"code\":\"%H\",\"message\":\"%H\"}}",
			  json_str_print, code, json_str_print, msg);
}


/** Print an sp_err's body (a re_printf handler for %H) */
int sp_err_print(struct re_printf *pf, const struct sp_err *err)
{
	if (!err)
		return EINVAL;

	return sp_err_json(pf, err->code, err->msg);
}
