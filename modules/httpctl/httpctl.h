/**
 * @file httpctl.h  The httpctl module: the one object its areas share
 *
 * httpctl is split by area, each with its own folder and header:
 *
 *   sip/      registrar, lines, calls, DTMF, SIP trace, call quality
 *   webhook/  endpoints, the durable outbox, signing, retries, delivery
 *   api/      REST resources and WebSocket commands
 *   obs/      health, metrics, log level, console commands, systemd
 *   www/      the operator console (web page)
 *
 * Dependencies go one way: api/ and obs/ read and drive sip/ and
 * webhook/; sip/ and webhook/ know nothing of HTTP. docs/code-map.md
 * draws the whole picture.
 *
 * Threads: all of httpctl runs on the libre main thread (SIP, UA events,
 * HTTP requests, timers).
 */

#ifndef HTTPCTL_H
#define HTTPCTL_H

#include "sip/sip.h"
#include "obs/obs.h"


/** The module's state, built by httpctl.c */
struct httpctl {
	struct sp_core *core;
	struct ua *ua;         /* owned by baresip's UA list           */
	struct lines *lines;   /* sip/                                 */
	struct registrar *reg;
	struct sipauth *sipauth;      /* digest credentials, challenges  */
	struct gate *gate;            /* in front of libre's SIP over UDP */
	struct calls *calls;
	struct caller caller;         /* the phone's caller ID by default */
	struct webhooks *webhooks;    /* webhook/                      */
	struct whdeliver *whdeliver;
	struct health_cfg health;     /* obs/                          */
	struct sdnotify *sdnotify;    /* systemd: ready, status, pings */
};

#endif
