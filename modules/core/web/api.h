/**
 * @file api.h  The API front door: tokens, origins, routes, replies
 *
 * Part of sipphone.h, which includes libre, jansson and bsapi.h first:
 * include that.
 *
 * Threads: main thread only.
 */

#ifndef SP_API_H
#define SP_API_H

/*
 * Auth (auth.c): bearer tokens and browser origins
 */

struct auth;

int  auth_alloc(struct auth **authp);
int  auth_add_token(struct auth *auth, const char *token);
int  auth_add_origin(struct auth *auth, const char *origin);
size_t auth_token_count(const struct auth *auth);
bool auth_bearer_ok(const struct auth *auth, const char *authz);
bool auth_token_ok(const struct auth *auth, const char *token);
bool auth_origin_ok(const struct auth *auth, const char *origin,
		    const char *host);
bool auth_origin_listed(const struct auth *auth, const char *origin);
int  auth_token_load(struct auth *auth, const char *state_dir,
		     char **newp);


/*
 * API (api.c): routing, auth and CORS in front of the handlers
 */

struct api;

enum {
	API_PARAM_MAX = 4,
	API_BODY_MAX = 65536,
	API_LIMIT_DEFAULT = 100,  /* page size of a collection   */
	API_LIMIT_MAX = 1000,
};

/*
 * A token is needed under /api/ and on API_TOKEN routes elsewhere,
 * answered 401 (WWW-Authenticate: Bearer) without one; API_PUBLIC and
 * API_TOKEN exclude each other.
 */
enum api_flags {
	API_PUBLIC   = 1 << 0,  /* no token needed, even under /api/    */
	API_JSON     = 1 << 1,  /* the body must be a JSON object       */
	API_TOKEN    = 1 << 2,  /* a token is needed outside /api/ too  */
	API_LOOPBACK = 1 << 3,  /* none from 127.0.0.0/8, ::1 or
				   ::ffff:127.0.0.0/104                */
};

/**
 * One API request as a route handler sees it; the router keeps the rest
 * (path parameters, whether it was answered) out of reach
 */
struct api_req {
	const struct web_req *wr;
	struct api *api;
	json_t *body;          /* the JSON object (API_JSON), or NULL */
};

typedef void (api_h)(struct api_req *req, void *arg);

int  api_alloc(struct api **apip, struct auth *auth);
int  api_route(struct api *api, const char *met, const char *pattern,
	       unsigned flags, api_h *h, void *arg);
void api_unroute_arg(struct api *api, const void *arg);
void api_handle(const struct web_req *wr, void *arg);

const char *api_param(const struct api_req *req, const char *name);
int  api_query(const struct api_req *req, const char *name, struct pl *val);
int  api_query_u64(const struct api_req *req, const char *name,
		   uint64_t *valp);
int  api_limit(struct api_req *req, size_t *limitp);
int  api_reply(struct api_req *req, uint16_t status, json_t *body);
int  api_reply_text(struct api_req *req, uint16_t status, const char *ctype,
		    const char *fmt, ...);
int  api_reply_raw(struct api_req *req, uint16_t status, const char *hdrs,
		   const char *ctype, const void *body, size_t len);
int  api_error(struct api_req *req, uint16_t status, const char *code,
	       const char *fmt, ...);
int  api_fail(struct api_req *req, const struct sp_err *err);

#endif
