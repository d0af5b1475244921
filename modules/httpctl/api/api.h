/**
 * @file api.h  REST resources and WebSocket commands on the core's router
 *              and hub
 *
 * One file per resource; a resource's WebSocket commands sit next to it
 * (calls.c, calls_ws.c), and both front ends call the same operations
 * (callops.c), so they say the same thing for the same mistake.
 *
 * Threads: main thread only.
 */

#ifndef HTTPCTL_API_H
#define HTTPCTL_API_H

struct httpctl;
struct calls;
struct pcall;


/*
 * Call operation arguments (callargs.c): checked before any state is
 * looked at
 */

int  callargs_dial(const json_t *args, const struct caller *deflt,
		   uint32_t *ring_sp, struct caller *caller,
		   struct sp_err *err);
int  callargs_call(const json_t *jid, struct sp_err *err);
int  callargs_digits(const json_t *jdigits, struct sp_err *err);


/*
 * Call operations (callops.c), shared by REST and WebSocket commands
 */

enum callops_pick {
	CALLOPS_RINGING_IN = 0,   /* a ringing call from the phone        */
	CALLOPS_ACTIVE,           /* an answered call                     */
	CALLOPS_LIVE,             /* a ringing or answered call           */
};

int  callops_dial(struct httpctl *ctl, const json_t *args,
		  struct pcall **pcp, struct sp_err *err);
struct pcall *callops_find(struct httpctl *ctl, const json_t *jid,
			   enum callops_pick pick, struct sp_err *err);
int  callops_answer(struct pcall *pc, struct sp_err *err);
int  callops_hangup(struct pcall *pc, struct sp_err *err);
int  callops_dtmf(struct pcall *pc, const json_t *jdigits,
		  struct sp_err *err);


/*
 * Resources: each adds its routes (or commands) to the core
 */

int  api_status_register(struct httpctl *ctl);    /* status.c       */
int  api_lines_register(struct httpctl *ctl);     /* lines.c        */
int  api_calls_register(struct httpctl *ctl);     /* calls.c        */
int  api_calls_ws_register(struct httpctl *ctl);  /* calls_ws.c     */
int  api_events_register(struct httpctl *ctl);    /* events.c       */
int  api_webhooks_register(struct httpctl *ctl);  /* webhooks.c     */
int  api_health_register(struct httpctl *ctl);    /* health.c       */
int  api_log_register(struct httpctl *ctl);       /* log.c          */

json_t *api_calls_list(struct calls *calls, bool all);
json_t *api_lines_list(struct httpctl *ctl);

#endif
