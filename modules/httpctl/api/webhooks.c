/**
 * @file webhooks.c  REST: /api/v1/webhooks
 *
 *   POST   /api/v1/webhooks {"url", "events":["call.*"], "description"}
 *                                   -> 201, with the secret (only here)
 *   GET    /api/v1/webhooks
 *   GET    /api/v1/webhooks/{webhook}
 *   DELETE /api/v1/webhooks/{webhook}
 *   GET    /api/v1/webhooks/{webhook}/deliveries?limit=N
 *                                   the latest attempts, newest first
 *   POST   /api/v1/webhooks/{webhook}/deliveries/{event}/retry -> 202
 *   POST   /api/v1/webhooks/{webhook}/test -> 202
 */

#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"
#include "webhook/webhook.h"
#include "api/api.h"


/* The endpoint named in the path, or NULL after answering 404 */
static struct webhook *path_webhook(struct api_req *req, struct httpctl *ctl)
{
	const char *id = api_param(req, "webhook");
	struct webhook *wh = webhooks_find(ctl->webhooks, id);

	if (!wh)
		api_error(req, 404, "webhook_not_found", "no webhook %s", id);

	return wh;
}


static void get_webhooks(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	json_t *arr = json_array();
	struct le *le;

	for (le = list_head(webhooks_list(ctl->webhooks)); le && arr;
	     le = le->next) {
		if (json_array_append_new(arr, webhook_encode(le->data))) {
			json_decref(arr);
			arr = NULL;
		}
	}

	if (!arr) {
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	api_reply(req, 200, json_pack("{s:o}", "webhooks", arr));
}


static void post_webhooks(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	struct webhook *wh;
	struct sp_err e;
	json_t *obj;

	/* from the newest event on (published, written or not): no
	   backlog for a new endpoint */
	if (webhooks_create(ctl->webhooks, req->body,
			    evbus_last_seq(ctl->core->bus), &wh, &e)) {
		api_fail(req, &e);
		return;
	}

	/* stored: it is delivered to from the next start on, at worst */
	if (whdeliver_kick(ctl->whdeliver, wh))
		warning("httpctl: webhook %s: delivery not started (out of"
			" memory)\n", wh->id);

	/* the one time the secret is shown */
	obj = webhook_encode(wh);
	if (!obj || json_object_set_new(obj, "secret",
					json_string(wh->secret))) {
		json_decref(obj);
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	api_reply(req, 201, obj);
}


static void get_webhook(struct api_req *req, void *arg)
{
	struct webhook *wh = path_webhook(req, arg);

	if (wh)
		api_reply(req, 200, webhook_encode(wh));
}


static void delete_webhook(struct api_req *req, void *arg)
{
	struct webhook *wh = path_webhook(req, arg);
	json_t *obj;
	int err;

	if (!wh)
		return;

	obj = webhook_encode(wh);
	if (!obj) {
		api_error(req, 500, "internal_error", "out of memory");
		return;
	}

	err = webhook_delete(wh);
	if (err) {
		json_decref(obj);
		api_error(req, 500, "internal_error",
			  "could not delete the webhook: %m", err);
		return;
	}

	api_reply(req, 200, obj);
}


static void get_deliveries(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	struct webhook *wh = path_webhook(req, ctl);
	size_t limit;
	json_t *arr = NULL;
	int err;

	if (!wh)
		return;

	if (api_limit(req, &limit))
		return;

	err = whoutbox_records(webhooks_db(ctl->webhooks), wh->id,
			       limit, &arr);
	if (err) {
		api_error(req, 500, "internal_error",
			  "could not read the deliveries: %m", err);
		return;
	}

	api_reply(req, 200, json_pack("{s:o}", "deliveries", arr));
}


static void post_retry(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	struct webhook *wh = path_webhook(req, ctl);
	const char *event_id = api_param(req, "event");
	struct sp_err e;

	if (!wh)
		return;

	if (whdeliver_retry(ctl->whdeliver, wh, event_id, &e)) {
		api_fail(req, &e);
		return;
	}

	api_reply(req, 202, json_pack("{s:s, s:s}", "webhook", wh->id,
				      "event_id", event_id));
}


static void post_test(struct api_req *req, void *arg)
{
	struct httpctl *ctl = arg;
	struct webhook *wh = path_webhook(req, ctl);
	json_t *result = NULL;
	struct sp_err e;

	if (!wh)
		return;

	if (whdeliver_test(ctl->whdeliver, wh, &result, &e)) {
		api_fail(req, &e);
		return;
	}

	api_reply(req, 202, result);
}


/** Add the /api/v1/webhooks routes */
int api_webhooks_register(struct httpctl *ctl)
{
	struct api *api = ctl->core->api;
	int err = 0;

	err |= api_route(api, "GET", "/api/v1/webhooks", 0,
			 get_webhooks, ctl);
	err |= api_route(api, "POST", "/api/v1/webhooks", API_JSON,
			 post_webhooks, ctl);
	err |= api_route(api, "GET", "/api/v1/webhooks/{webhook}", 0,
			 get_webhook, ctl);
	err |= api_route(api, "DELETE", "/api/v1/webhooks/{webhook}", 0,
			 delete_webhook, ctl);
	err |= api_route(api, "GET", "/api/v1/webhooks/{webhook}/deliveries",
			 0, get_deliveries, ctl);
	err |= api_route(api, "POST", "/api/v1/webhooks/{webhook}/deliveries"
			 "/{event}/retry", API_JSON, post_retry, ctl);
	err |= api_route(api, "POST", "/api/v1/webhooks/{webhook}/test",
			 API_JSON, post_test, ctl);

	return err ? ENOMEM : 0;
}
