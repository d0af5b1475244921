/**
 * @file err.c  Errors reported to API clients
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
