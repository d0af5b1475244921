/**
 * @file base.h  The core's small tools: time, JSON, API errors, UTF-8, ids,
 *               query strings
 *
 * Part of sipphone.h, which includes libre, jansson and bsapi.h first:
 * include that.
 *
 * Threads: main thread only.
 */

#ifndef SP_BASE_H
#define SP_BASE_H

/*
 * Time
 */

uint64_t sptime_now_ms(void);
int sptime_fmt(char *buf, size_t sz, uint64_t unix_ms);

/* Room for "2026-11-26T07:04:21.123Z" and its NUL */
#define SPTIME_STRLEN 32


/*
 * JSON helpers (jansson)
 */

json_t *jx_str(const char *s);
json_t *jx_time(uint64_t unix_ms);
int jx_dumps(char **strp, const json_t *json);
int jx_print(struct re_printf *pf, const json_t *json);


/*
 * Errors (err.c): what failed, as the API reports it, and its JSON body
 */

/** An error for a client: HTTP status, code and message */
struct sp_err {
	uint16_t status;       /* HTTP status                          */
	const char *code;      /* snake_case code                      */
	const char *hdrs;      /* extra header lines, or NULL          */
	char msg[160];
};

int sp_err_set(struct sp_err *err, uint16_t status, const char *code,
	       const char *fmt, ...);
int sp_err_json(struct re_printf *pf, const char *code, const char *msg);
int sp_err_print(struct re_printf *pf, const struct sp_err *err);


/*
 * UTF-8 (utf8.c): strings from the network made valid where they enter
 */

size_t utf8_len(const uint8_t *s, size_t n);
bool utf8_valid(const char *s);
int utf8_clean(char **dstp, const char *s, size_t n);
json_t *utf8_json(const char *s);


/*
 * Random identifiers (randid.c)
 */

int randid_alloc(char **idp, const char *prefix, size_t bytes);


/*
 * Query strings (query.c)
 */

int query_get(const char *query, const char *name, struct pl *val);
int query_u64(const char *query, const char *name, uint64_t *valp);

#endif
