/**
 * @file auth.c  Bearer tokens and browser origins
 *
 * Tokens come from the config (httpctl_token, repeatable) or, when none is
 * configured, from a token file generated on first start in the state
 * directory (mode 0600). They are compared in constant time.
 */

#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/random.h>
#include "sipphone.h"


enum {
	TOKEN_BYTES = 24,      /* 192 bits of randomness */
	TOKEN_MAX = 256,
};

struct auth {
	struct list tokenl;    /* struct strle */
	struct list originl;   /* struct strle */
};

struct strle {
	struct le le;
	char *s;
};


static void strle_destructor(void *arg)
{
	struct strle *e = arg;

	list_unlink(&e->le);
	mem_deref(e->s);
}


static void auth_destructor(void *arg)
{
	struct auth *auth = arg;

	list_flush(&auth->tokenl);
	list_flush(&auth->originl);
}


static int strl_add(struct list *l, const char *s)
{
	struct strle *e;
	int err;

	e = mem_zalloc(sizeof(*e), strle_destructor);
	if (!e)
		return ENOMEM;

	err = str_dup(&e->s, s);
	if (err) {
		mem_deref(e);
		return err;
	}

	list_append(l, &e->le, e);

	return 0;
}


/** Create an empty token and origin store */
int auth_alloc(struct auth **authp)
{
	struct auth *auth;

	if (!authp)
		return EINVAL;

	auth = mem_zalloc(sizeof(*auth), auth_destructor);
	if (!auth)
		return ENOMEM;

	*authp = auth;

	return 0;
}


/** Accept a bearer token */
int auth_add_token(struct auth *auth, const char *token)
{
	if (!auth || !str_isset(token) || strlen(token) > TOKEN_MAX)
		return EINVAL;

	return strl_add(&auth->tokenl, token);
}


/** Allow a browser origin, e.g. "http://pi.local:8000" */
int auth_add_origin(struct auth *auth, const char *origin)
{
	if (!auth || !str_isset(origin))
		return EINVAL;

	return strl_add(&auth->originl, origin);
}


/** How many tokens are accepted */
size_t auth_token_count(const struct auth *auth)
{
	return auth ? list_count(&auth->tokenl) : 0;
}


/*
 * Time depends on the length of the stored token only, never on where
 * the given one first differs or on how long it is.
 */
static bool token_equal(const char *given, size_t glen, const char *token)
{
	size_t i, tlen = strlen(token);
	unsigned diff = (unsigned)(glen ^ tlen);

	for (i = 0; i < tlen; i++) {
		unsigned char g = i < glen ? (unsigned char)given[i] : 0;

		diff |= g ^ (unsigned char)token[i];
	}

	return diff == 0;
}


/* check every token, so the time does not tell which matched */
static bool tokens_match(const struct auth *auth, const char *given,
			 size_t glen)
{
	struct le *le;
	bool ok = false;

	for (le = list_head(&auth->tokenl); le; le = le->next) {
		const struct strle *e = le->data;

		ok |= token_equal(given, glen, e->s);
	}

	return ok;
}


static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}


static const char *skip_blank(const char *p)
{
	while (is_blank(*p))
		++p;

	return p;
}


static const char *skip_word(const char *p)
{
	while (*p && !is_blank(*p))
		++p;

	return p;
}


/**
 * Check an Authorization header
 *
 * @param auth   Token store
 * @param authz  The header value ("Bearer <token>"), may be NULL
 *
 * @return true if it carries one of the accepted tokens
 */
bool auth_bearer_ok(const struct auth *auth, const char *authz)
{
	struct pl scheme, token;
	const char *p = authz;

	if (!auth || !authz)
		return false;

	/* "<scheme> <token>", blanks around (a scan: this runs for every
	   request) */
	p = skip_blank(p);
	scheme.p = p;
	p = skip_word(p);
	scheme.l = p - scheme.p;
	if (!scheme.l || !is_blank(*p))
		return false;

	token.p = skip_blank(p);
	token.l = skip_word(token.p) - token.p;
	if (!token.l)
		return false;

	if (pl_strcasecmp(&scheme, "Bearer"))
		return false;

	return tokens_match(auth, token.p, token.l);
}


/**
 * Check a bare token (from a query string: browsers cannot set headers
 * on a WebSocket)
 *
 * @return true if it is one of the accepted tokens
 */
bool auth_token_ok(const struct auth *auth, const char *token)
{
	if (!auth || !token)
		return false;

	return tokens_match(auth, token, strlen(token));
}


/** Is the origin in the configured list? */
bool auth_origin_listed(const struct auth *auth, const char *origin)
{
	struct le *le;

	if (!auth || !origin)
		return false;

	for (le = list_head(&auth->originl); le; le = le->next) {
		const struct strle *e = le->data;

		if (0 == str_casecmp(e->s, origin))
			return true;
	}

	return false;
}


/**
 * May a request with this Origin header be served?
 *
 * @param auth    Origin list
 * @param origin  Origin header, NULL when absent (not a browser)
 * @param host    Host header of the request
 *
 * @return true for no Origin, the server's own origin or a listed one
 */
bool auth_origin_ok(const struct auth *auth, const char *origin,
		    const char *host)
{
	struct pl scheme, ohost;

	if (!origin)
		return true;

	if (auth_origin_listed(auth, origin))
		return true;

	if (!host)
		return false;

	if (re_regex(origin, strlen(origin), "[a-z]+://[^/]+",
		     &scheme, &ohost))
		return false;

	if (pl_strcasecmp(&scheme, "http") && pl_strcasecmp(&scheme, "https"))
		return false;

	return 0 == pl_strcasecmp(&ohost, host);
}


static int token_generate(char *buf, size_t sz)
{
	uint8_t rnd[TOKEN_BYTES];
	size_t len = sz - 1;
	int err;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return EIO;

	err = base64_encode(rnd, sizeof(rnd), buf, &len);
	if (err)
		return err;
	buf[len] = '\0';

	/* URL- and shell-safe: the token also goes in ?token= */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '+')
			buf[i] = '-';
		else if (buf[i] == '/')
			buf[i] = '_';
	}

	return 0;
}


static int token_read(char *buf, size_t sz, const char *path)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;

	n = read(fd, buf, sz - 1);
	if (n < 0)
		err = errno;
	else {
		buf[n] = '\0';
		while (n > 0 && (buf[n-1] == '\n' || buf[n-1] == '\r'))
			buf[--n] = '\0';
		if (n == 0)
			err = ENODATA;
	}

	(void)close(fd);

	return err;
}


static int token_write(const char *path, const char *token)
{
	size_t len = strlen(token);
	int fd, err = 0;

	/* O_EXCL: never overwrite a token an operator already has */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;

	if (write(fd, token, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		err = errno ? errno : EIO;

	if (close(fd) && !err)
		err = errno;

	if (err)
		(void)unlink(path);

	return err;
}


/**
 * Accept the token kept in the state directory, creating it on first use
 *
 * @param auth       Token store
 * @param state_dir  State directory (must exist)
 * @param newp       Set to a copy of the token when it was just generated
 *                   (for the one time it is shown), else to NULL
 *
 * @return 0 if success, otherwise errorcode
 */
int auth_token_load(struct auth *auth, const char *state_dir, char **newp)
{
	char path[1024], token[TOKEN_MAX + 2];
	bool created = false;
	int err;

	if (!auth || !state_dir || !newp)
		return EINVAL;

	*newp = NULL;

	if (re_snprintf(path, sizeof(path), "%s/token", state_dir) < 0)
		return ENAMETOOLONG;

	err = token_read(token, sizeof(token), path);
	if (err == ENOENT) {
		err = token_generate(token, sizeof(token));
		if (!err)
			err = token_write(path, token);
		created = !err;
	}
	if (err)
		return err;

	err = auth_add_token(auth, token);
	if (!err && created)
		err = str_dup(newp, token);

	return err;
}
