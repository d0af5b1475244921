/**
 * @file sipphone.h  The shared core both sipphone modules link
 *
 * libsipphone.so is loaded once per process (DT_NEEDED of httpctl.so and
 * wsaudio.so), so the objects it holds are shared by both modules: the
 * web server, the API router, auth and the event bus.
 *
 * Threads: every function here must be called on the libre main thread.
 */

#ifndef SIPPHONE_H
#define SIPPHONE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sp_json.h"
#include <rem.h>
#include "bsapi.h"

#include "base/base.h"
#include "web/web.h"
#include "web/api.h"
#include "event/event.h"
#include "audio/audio.h"
#include "ws/wshub.h"


/*
 * Core (core.c): the one instance both modules share
 */

struct sp_core {
	struct auth *auth;
	struct api *api;
	struct web *web;
	struct wshub *hub;
	struct evbus *bus;
	struct evstore *store;
	char *state_dir;
	uint64_t start_ms;     /* unix ms at start                   */
};

int  sp_core_open(struct sp_core **corep);
bool sp_conf_path(char *path, size_t sz, const struct conf *conf,
		  const char *key);

#endif
