/**
 * @file sdnotify.c  Tell systemd how the service is doing: ready, its
 *                   lines and calls, and that the main loop still turns
 *
 * Under systemd (Type=notify, conf/systemd/sipphone.service) the service
 * manager reads these from $NOTIFY_SOCKET:
 *
 *   READY=1      once libre's main loop runs. baresip binds its SIP
 *                sockets before it loads modules and the core binds
 *                httpctl_listen in module_init, both before the loop:
 *                when a timer fires, both listen
 *   STATUS=...   lines registered and live calls, on every line.* and
 *                call.* event (systemctl status shows it)
 *   WATCHDOG=1   every half of WatchdogSec=, from a libre timer: only a
 *                turning main loop pings, so a hung one is restarted
 *   STOPPING=1   at the first sign of a stop: baresip's SIGTERM handler
 *                destroys the user agents (UA_EVENT_SHUTDOWN: calls end
 *                then) before the loop ends and httpctl is unloaded
 *
 * Without systemd (scripts/run, most tests) there is no $NOTIFY_SOCKET:
 * sd_notify() does nothing and no watchdog timer runs.
 *
 * Threads: main thread only.
 */

#include <systemd/sd-daemon.h>
#include "sipphone.h"
#include "httpctl.h"
#include "sip/sip.h"


struct sdnotify {
	struct httpctl *ctl;       /* owns us                             */
	struct evbus_sub *sub;     /* line.* and call.* events            */
	struct tmr tmr_ready;      /* 0 ms: the loop runs                 */
	struct tmr tmr_status;     /* 0 ms after an event: settled state  */
	struct tmr tmr_watchdog;
	uint64_t watchdog_ms;      /* ping interval; 0: no watchdog       */
	size_t lines, known, calls;/* as last sent in STATUS=             */
	bool ready;
	bool stopping;             /* STOPPING=1 sent                     */
	bool failed;               /* a send failed: said so once         */
};


static void notify(struct sdnotify *sn, const char *state)
{
	int r = sd_notify(0, state);

	if (r >= 0 || sn->failed)
		return;

	/* the manager would restart us for missed pings: say why, once */
	sn->failed = true;
	warning("httpctl: sd_notify: %m\n", -r);
}


static void status_send(struct sdnotify *sn, const char *prefix)
{
	char buf[160];

	sn->lines = lines_registered_count(sn->ctl->lines);
	sn->known = list_count(lines_list(sn->ctl->lines));
	sn->calls = list_count(calls_active(sn->ctl->calls));

	if (re_snprintf(buf, sizeof(buf), "%sSTATUS=%zu of %zu line%s"
			" registered, %zu call%s", prefix, sn->lines,
			sn->known, sn->known == 1 ? "" : "s", sn->calls,
			sn->calls == 1 ? "" : "s") < 0)
		return;

	notify(sn, buf);
}


static void status_handler(void *arg)
{
	struct sdnotify *sn = arg;

	if (sn->lines == lines_registered_count(sn->ctl->lines) &&
	    sn->known == list_count(lines_list(sn->ctl->lines)) &&
	    sn->calls == list_count(calls_active(sn->ctl->calls)))
		return;

	status_send(sn, "");
}


static void event_handler(const struct evbus_event *ev, void *arg)
{
	struct sdnotify *sn = arg;

	if (!sn->ready)
		return;

	/* counted after the event's whole change is done, and a burst of
	   events (a call ending on both sides) sends one line */
	if (!strncmp(ev->type, "line.", 5) || !strncmp(ev->type, "call.", 5))
		tmr_start(&sn->tmr_status, 0, status_handler, sn);
}


static void stopping(struct sdnotify *sn)
{
	if (!sn->ready || sn->stopping)
		return;

	sn->stopping = true;
	notify(sn, "STOPPING=1");
}


static void ua_event_handler(struct ua *ua, enum ua_event ev,
			     struct call *call, const char *prm, void *arg)
{
	(void)ua;
	(void)call;
	(void)prm;

	if (ev == UA_EVENT_SHUTDOWN)
		stopping(arg);
}


static void watchdog_handler(void *arg)
{
	struct sdnotify *sn = arg;

	tmr_start(&sn->tmr_watchdog, sn->watchdog_ms, watchdog_handler, sn);
	notify(sn, "WATCHDOG=1");
}


static void ready_handler(void *arg)
{
	struct sdnotify *sn = arg;

	sn->ready = true;
	status_send(sn, "READY=1\n");

	if (sn->watchdog_ms)
		watchdog_handler(sn);
}


static void sdnotify_destructor(void *arg)
{
	struct sdnotify *sn = arg;

	tmr_cancel(&sn->tmr_ready);
	tmr_cancel(&sn->tmr_status);
	tmr_cancel(&sn->tmr_watchdog);
	mem_deref(sn->sub);
	uag_event_unregister(ua_event_handler);

	/* unloaded without a shutdown of the UAs */
	stopping(sn);
}


/**
 * Start telling systemd: READY=1 once the main loop runs, then STATUS=
 * on changes and WATCHDOG=1 pings when the unit has a watchdog
 *
 * @param snp  Returned notifier; mem_deref() it first at shutdown
 * @param ctl  The module, with its lines, calls and core
 *
 * @return 0 if success, otherwise errorcode
 */
int sdnotify_alloc(struct sdnotify **snp, struct httpctl *ctl)
{
	struct sdnotify *sn;
	uint64_t usec = 0;
	int r, err;

	if (!snp || !ctl || !ctl->core || !ctl->lines || !ctl->calls)
		return EINVAL;

	sn = mem_zalloc(sizeof(*sn), sdnotify_destructor);
	if (!sn)
		return ENOMEM;

	sn->ctl = ctl;
	tmr_init(&sn->tmr_ready);
	tmr_init(&sn->tmr_status);
	tmr_init(&sn->tmr_watchdog);

	/* > 0: $WATCHDOG_USEC is set (and $WATCHDOG_PID, if set, is us) */
	r = sd_watchdog_enabled(0, &usec);
	if (r < 0)
		warning("httpctl: WATCHDOG_USEC: %m: no watchdog pings\n", -r);
	else if (r > 0)
		sn->watchdog_ms = MAX(usec / 2000, 1);

	err = evbus_subscribe(&sn->sub, ctl->core->bus, event_handler, sn);
	if (err)
		goto out;

	err = uag_event_register(ua_event_handler, sn);
	if (err)
		goto out;

	tmr_start(&sn->tmr_ready, 0, ready_handler, sn);

	if (sn->watchdog_ms)
		info("httpctl: systemd watchdog: a ping every %llu ms\n",
		     (unsigned long long)sn->watchdog_ms);

 out:
	if (err)
		mem_deref(sn);
	else
		*snp = sn;

	return err;
}
