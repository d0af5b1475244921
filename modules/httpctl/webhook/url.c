/**
 * @file url.c  The URLs a webhook can be sent to
 *
 * http:// or https://, a host (a name, an IPv4 address or an [IPv6]
 * address), an optional port from 1 to 65535, a path and query; at most
 * 2048 characters, no spaces nor control characters, no user:password@.
 * A fragment is allowed and never sent. Each refusal says why in words
 * an API client is shown (400 invalid_field).
 *
 * The HTTP client sends to what this accepts; the console shows the
 * scheme and authority it finds, never the path (it may hold a token).
 *
 * Pure functions: no state, no thread of their own.
 */

#include "sipphone.h"
#include "webhook/webhook.h"


enum {
	URL_LEN_MAX = 2048,
};


static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}


static const char *port_decode(struct webhook_url *u, const char *p,
			       const char *end)
{
	uint32_t port = 0;
	const char *q;

	if (p == end)
		return "the URL has an empty port";

	for (q = p; q < end; q++) {
		if (*q < '0' || *q > '9' || q - p >= 5)
			return "the URL's port is not a number from 1 to"
				" 65535";
		port = port * 10 + (uint32_t)(*q - '0');
	}

	if (!port || port > 65535)
		return "the URL's port is not a number from 1 to 65535";

	u->port = (uint16_t)port;

	return NULL;
}


/* host, [v6] or host:port, [v6]:port */
static const char *authority_decode(struct webhook_url *u, const char *p,
				    const char *end)
{
	const char *colon = NULL, *q;
	struct sa sa;

	u->hostport.p = p;
	u->hostport.l = (size_t)(end - p);

	if (memchr(p, '@', (size_t)(end - p)))
		return "credentials in the URL are not supported";

	if (p < end && *p == '[') {
		q = memchr(p, ']', (size_t)(end - p));
		if (!q)
			return "the URL's IPv6 address has no ']'";

		u->host.p = p + 1;
		u->host.l = (size_t)(q - p - 1);
		if (sa_set(&sa, &u->host, 0) || sa_af(&sa) != AF_INET6)
			return "the URL's IPv6 address is not valid";

		if (q + 1 < end && q[1] != ':')
			return "the URL's host is not valid";
		colon = q + 1 < end ? q + 1 : NULL;
	}
	else {
		for (q = p; q < end && *q != ':'; q++) {
			if (!host_char(*q))
				return "the URL's host has a character a"
					" host name cannot have";
		}

		u->host.p = p;
		u->host.l = (size_t)(q - p);
		colon = q < end ? q : NULL;
	}

	if (!u->host.l)
		return "the URL has no host";

	if (colon)
		return port_decode(u, colon + 1, end);

	return NULL;
}


/**
 * Split a webhook URL: http or https, a host, at most 2048 characters
 *
 * @param u     Returned parts; they point into url
 * @param url   The URL
 * @param whyp  Returned reason when it is refused (a static string)
 *
 * @return 0 if it is a URL we can deliver to, otherwise EINVAL
 */
int webhook_url_decode(struct webhook_url *u, const char *url,
		       const char **whyp)
{
	const char *why = NULL, *p, *end, *frag;
	size_t len = str_len(url), i;

	if (!u || !url)
		return EINVAL;

	memset(u, 0, sizeof(*u));

	for (i = 0; i < len && !why; i++) {
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			why = "the URL has a space or a control character";
	}

	if (why)
		goto out;

	if (!len) {
		why = "the URL is empty";
		goto out;
	}

	if (len > URL_LEN_MAX) {
		why = "the URL is longer than 2048 characters";
		goto out;
	}

	if (0 == strncasecmp(url, "https://", 8)) {
		u->tls = true;
		u->port = 443;
		p = url + 8;
	}
	else if (0 == strncasecmp(url, "http://", 7)) {
		u->port = 80;
		p = url + 7;
	}
	else {
		why = "the URL must start with http:// or https://";
		goto out;
	}

	/* a fragment never leaves the client */
	frag = strchr(p, '#');
	end = frag ? frag : url + len;

	for (i = 0; p + i < end && !strchr("/?", p[i]); i++)
		;

	why = authority_decode(u, p, p + i);
	if (why)
		goto out;

	/* path and query; an empty path is "/" when sent */
	u->path.p = p + i;
	u->path.l = (size_t)(end - (p + i));

 out:
	if (whyp)
		*whyp = why;

	return why ? EINVAL : 0;
}
