/**
 * @file web_head.h  Request heads as text (web_head.c): pure functions,
 *                   no socket and no lws, so that a fuzzer reaches them
 *
 * Include sipphone.h first.
 */

/** What lws can hold of one request head (its header table) */
struct web_head_lim {
	size_t data;        /* bytes (lws's max_http_header_data)       */
	size_t frags;       /* pieces: headers, query parts (its
			       WSI_TOKEN_COUNT)                         */
};

/** What a request head, as far as it came, calls for */
enum web_head_res {
	WEB_HEAD_MORE = 0,  /* no fault yet, not complete: wait           */
	WEB_HEAD_OK,        /* complete, and lws may read it              */
	WEB_HEAD_BAD,       /* malformed: answer the error, then close    */
	WEB_HEAD_NOT_HTTP,  /* no request line we serve: the same         */
};

enum web_head_res web_head_check(const uint8_t *p, size_t n,
				 const struct web_head_lim *lim,
				 size_t *lenp, struct sp_err *e);
void web_head_not_http(const uint8_t *p, size_t n, bool tls_port,
		       struct sp_err *e);
int  web_head_version(const char *ver, struct sp_err *e);
int  web_head_clen(const char *s, size_t max, size_t *np,
		   struct sp_err *e);
int  web_head_location(char **hdrp, const char *host, const char *path,
		       const char *query);
int  web_head_error(char *buf, size_t sz, const struct sp_err *e);
const char *web_head_reason(uint16_t status);
