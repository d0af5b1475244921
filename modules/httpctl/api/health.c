/**
 * @file health.c  REST: GET /api/v1/health and GET /metrics
 *
 *   GET /api/v1/health   the health object (health.c); a token, as every
 *                        /api/v1 request. 200 whatever the status: the
 *                        body says ok or degraded, and why
 *   GET /metrics         Prometheus text (metrics.c). httpctl_metrics
 *                        token (default): a bearer token is needed;
 *                        loopback: a client on 127.0.0.0/8 or ::1 needs
 *                        none (a token works from anywhere)
 *
 * GET /healthz (the core's) stays the liveness probe, without a token.
 */

#include <netinet/in.h>
#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


static const char metrics_ctype[] = "text/plain; version=0.0.4;"
	" charset=utf-8";


static void get_health(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	json_t *h = health_encode(ctl);

	if (!h) {
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	api_reply(req, 200, h);
}


/* 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104 (IPv4 on a v6 socket) */
static bool peer_is_loopback(const struct sa *peer)
{
	const uint8_t *a6;

	if (!peer)
		return false;

	switch (sa_af(peer)) {

	case AF_INET:
		return (ntohl(peer->u.in.sin_addr.s_addr) >> 24) == 127;

	case AF_INET6:
		a6 = peer->u.in6.sin6_addr.s6_addr;
		if (IN6_IS_ADDR_LOOPBACK(&peer->u.in6.sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&peer->u.in6.sin6_addr) &&
			a6[12] == 127;

	default:
		return false;
	}
}


static bool metrics_allowed(const struct httpctl *ctl,
			    const struct api_req *req)
{
	if (auth_bearer_ok(ctl->core->auth, req->wr->authz))
		return true;

	return ctl->health.metrics_loopback &&
		peer_is_loopback(web_conn_peer(req->wr->conn));
}


/* 401 as the API gives it; the router's own is only for /api/ paths */
static void unauthorized(struct api_req *req)
{
	static const char body[] = "{\"error\":{\"code\":\"unauthorized\","
		"\"message\":\"a valid bearer token is required\"}}";

	(void)api_reply_raw(req, 401, "Cache-Control: no-store\r\n"
			    "WWW-Authenticate: Bearer\r\n", "application/json",
			    body, sizeof(body) - 1);
}


static void get_metrics(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;

	if (!metrics_allowed(ctl, req)) {
		unauthorized(req);
		return;
	}

	if (api_reply_text(req, 200, metrics_ctype, "%H", metrics_print,
			   ctl))
		api_error(req, 500, "internal_error",
			  "could not print the metrics");
}


/** Add the /api/v1/health and /metrics routes */
int api_health_register(struct httpctl *ctl)
{
	int err;

	err  = api_route(ctl->core->api, "GET", "/api/v1/health", 0,
			 get_health, ctl);
	err |= api_route(ctl->core->api, "GET", "/metrics", API_PUBLIC,
			 get_metrics, ctl);

	return err;
}
