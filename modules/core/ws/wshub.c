/**
 * @file wshub.c  /api/v1/ws: WebSocket sessions, events out, commands in
 *
 * A session is one client socket. On open it gets a hello, then every
 * event of the bus as {"type":"event","event":<envelope>}, in seq order.
 * Text messages are commands, {"type":"command","id","command","args"}
 * (read by wscmd.c), each answered by {"type":"response","id","ok",...};
 * the handlers come from the modules (httpctl: answer, hangup, dial,
 * dtmf; wsaudio: clear, mark). Binary messages are audio for the phone,
 * handed to wsaudio. Anything malformed is answered with an error; the
 * socket stays open.
 *
 * Counters: the hub counts sessions, closes by code and each session's
 * messages and audio frames (closed sessions' go to totals); wsaudio
 * counts its queues and calls and answers through wshub_set_stats(),
 * so httpctl reads both here without knowing wsaudio.
 *
 * Threads: main thread only.
 */

#include "sipphone.h"


struct command {
	struct le le;
	char *name;
	wshub_cmd_h *h;
	void *arg;
};

struct wshub {
	struct list sessl;     /* struct ws_session                   */
	struct list cmdl;      /* struct command                      */
	struct web *web;
	struct auth *auth;
	struct evbus_sub *sub;
	enum ws_audio dflt;    /* audio format when none is asked     */
	wshub_line_h *lineh;
	void *linearg;
	wshub_session_h *sessh;
	wshub_audio_h *audioh;
	void *audioarg;
	wshub_talk_stats_h *talkh;
	wshub_call_stats_h *callh;
	void *statsarg;
	struct wshub_stats past;    /* closed sessions' counters, and
				       opened and closes of them all  */
};

struct ws_session {
	struct le le;
	struct wshub *hub;
	struct web_conn *conn;
	char *id;              /* "ws_..."                            */
	char *line;            /* the line asked for, or NULL: default */
	enum ws_audio audio;
	void *audio_arg;       /* wsaudio's state for this session    */
	uint64_t frames;       /* audio frames queued to it           */
};


static const char ws_path[] = "/api/v1/ws";


static void session_destructor(void *arg)
{
	struct ws_session *s = arg;
	struct wshub *hub = s->hub;

	/* wsaudio hears only of sessions that were opened */
	if (s->le.list && hub->sessh)
		hub->sessh(s, false, hub->audioarg);
	list_unlink(&s->le);
	mem_deref(s->id);
	mem_deref(s->line);
}


static void command_destructor(void *arg)
{
	struct command *cmd = arg;

	list_unlink(&cmd->le);
	mem_deref(cmd->name);
}


static int send_text(struct ws_session *s, const char *text)
{
	return web_ws_send(s->conn, false, false, text, strlen(text), NULL);
}


/**
 * Send a JSON message to a session
 *
 * @param s    Session
 * @param msg  Message object (reference stolen)
 *
 * @return 0 if queued, otherwise errorcode
 */
int ws_session_send_json(struct ws_session *s, json_t *msg)
{
	char *text = NULL;
	int err;

	if (!s || !msg) {
		json_decref(msg);
		return EINVAL;
	}

	err = jx_dumps(&text, msg);
	json_decref(msg);
	if (err)
		return err;

	err = send_text(s, text);
	mem_deref(text);

	return err;
}


/** Tell a session of an error that answers no command */
int ws_session_error(struct ws_session *s, const struct sp_err *err)
{
	return ws_session_send_json(s, json_pack("{s:s, s:{s:s, s:s}}",
						 "type", "error", "error",
						 "code", err->code,
						 "message", err->msg));
}


/**
 * One frame of the phone's audio, dropped if the client lags
 *
 * @param s         Session
 * @param data      The frame
 * @param len       Its length
 * @param droppedp  Returned count of frames dropped to make room (this
 *                  one too, if it could not be queued); may be NULL
 *
 * @return 0 if queued, otherwise errorcode
 */
int ws_session_send_audio(struct ws_session *s, const void *data,
			  size_t len, uint32_t *droppedp)
{
	int err;

	if (droppedp)
		*droppedp = 0;

	if (!s || s->audio == WS_AUDIO_NONE)
		return EINVAL;

	err = web_ws_send(s->conn, true, true, data, len, droppedp);
	if (!err)
		++s->frames;

	return err;
}


/* Every event goes to every session, in order */
static void event_handler(const struct evbus_event *ev, void *arg)
{
	struct wshub *hub = arg;
	struct le *le;
	char *text = NULL;

	if (list_isempty(&hub->sessl))
		return;

	if (re_sdprintf(&text, "{\"type\":\"event\",\"event\":%s}", ev->json))
		return;

	for (le = list_head(&hub->sessl); le; le = le->next)
		(void)send_text(le->data, text);

	mem_deref(text);
}


static bool token_ok(const struct wshub *hub, const struct web_req *req)
{
	struct pl tok;
	char *s = NULL;
	bool ok;

	if (req->authz)
		return auth_bearer_ok(hub->auth, req->authz);

	if (query_get(req->query, "token", &tok) || pl_strdup(&s, &tok))
		return false;

	ok = auth_token_ok(hub->auth, s);
	mem_deref(s);

	return ok;
}


static bool accept_handler(const struct web_req *req, struct sp_err *err,
			   void *arg)
{
	struct wshub *hub = arg;
	enum ws_audio fmt;
	struct pl v;

	if (str_cmp(req->path, ws_path)) {
		sp_err_set(err, 404, "not_found", "no WebSocket at %s",
			   req->path);
		return false;
	}

	if (!auth_origin_ok(hub->auth, req->origin, req->host)) {
		sp_err_set(err, 403, "origin_not_allowed",
			   "origin %s is not allowed", req->origin);
		return false;
	}

	if (!token_ok(hub, req)) {
		sp_err_set(err, 401, "unauthorized",
			   "a valid token is required (?token= or "
			   "Authorization: Bearer)");
		err->hdrs = "WWW-Authenticate: Bearer\r\n";
		return false;
	}

	if (0 == query_get(req->query, "audio", &v) &&
	    ws_audio_decode(&fmt, &v)) {
		sp_err_set(err, 400, "invalid_query",
			   "audio must be pcmu, l16 or none");
		return false;
	}

	return true;
}


static int hello_send(struct ws_session *s)
{
	const char *line = ws_session_line(s);
	json_t *audio;

	if (s->audio == WS_AUDIO_NONE)
		audio = json_pack("{s:s}", "format", ws_audio_name(s->audio));
	else
		audio = json_pack("{s:s, s:i, s:i, s:i}",
				  "format", ws_audio_name(s->audio),
				  "rate", AUDIO_SRATE, "channels", AUDIO_CH,
				  "ptime", AUDIO_PTIME);

	return ws_session_send_json(s, json_pack("{s:s, s:s, s:s, s:o, s:o}",
				    "type", "hello",
				    "protocol", "sipphone.v1",
				    "session", s->id,
				    "line", jx_str(line),
				    "audio", audio));
}


static void open_handler(struct web_conn *conn, const struct web_req *req,
			 void *arg)
{
	struct wshub *hub = arg;
	struct ws_session *s;
	struct pl v;
	int err;

	s = mem_zalloc(sizeof(*s), session_destructor);
	if (!s) {
		web_ws_close(conn, 1011, "out of memory");
		return;
	}

	s->hub = hub;
	s->conn = conn;
	s->audio = hub->dflt;
	if (0 == query_get(req->query, "audio", &v))
		(void)ws_audio_decode(&s->audio, &v);

	err = randid_alloc(&s->id, "ws_", 6);
	if (!err && 0 == query_get(req->query, "line", &v) && v.l)
		err = pl_strdup(&s->line, &v);
	if (err) {
		mem_deref(s);
		web_ws_close(conn, 1011, "out of memory");
		return;
	}

	list_append(&hub->sessl, &s->le, s);
	web_conn_set_arg(conn, s);
	++hub->past.opened;

	if (hub->sessh)
		hub->sessh(s, true, hub->audioarg);

	info("httpctl: WebSocket %s from %J: line %s, audio %s\n", s->id,
	     web_conn_peer(conn), s->line ? s->line : "(default)",
	     ws_audio_name(s->audio));

	(void)hello_send(s);
}


/* A closing session's counters go to the hub's totals */
static void session_account(const struct ws_session *s, uint16_t code)
{
	struct wshub_stats *tot = &s->hub->past;
	struct ws_session_stats st;
	struct ws_talk_stats tk;
	size_t i;

	ws_session_stats(s, &st);
	tot->sent += st.sent;
	tot->frames += st.frames;
	tot->dropped += st.dropped;

	if (0 == ws_session_talk_stats(s, &tk)) {
		tot->talk_dropped_ms += tk.dropped_ms;
		tot->talk_underruns += tk.underruns;
	}

	for (i = 0; i < tot->closec; i++) {
		if (tot->closev[i].code == code)
			break;
	}

	/* a full table counts the codes it has no room for as 0 */
	if (i == tot->closec) {
		if (tot->closec >= WSHUB_CLOSE_CODES - 1)
			code = 0;
		for (i = 0; i < tot->closec; i++) {
			if (tot->closev[i].code == code)
				break;
		}
		if (i == tot->closec)
			tot->closev[tot->closec++].code = code;
	}

	++tot->closev[i].count;
}


static void close_handler(struct web_conn *conn, uint16_t code, void *arg)
{
	struct ws_session *s = web_conn_arg(conn);
	(void)arg;

	if (!s)
		return;

	info("httpctl: WebSocket %s closed (%u)\n", s->id, code);

	session_account(s, code);
	web_conn_set_arg(conn, NULL);
	mem_deref(s);
}


static int respond(struct ws_session *s, json_t *id, int err,
		   json_t *result, const struct sp_err *e)
{
	json_t *msg;

	if (!err)
		msg = json_pack("{s:s, s:O, s:b, s:o}", "type", "response",
				"id", id ? id : json_null(), "ok", 1,
				"result", result ? result : json_object());
	else {
		json_decref(result);
		msg = json_pack("{s:s, s:O, s:b, s:{s:s, s:s}}",
				"type", "response",
				"id", id ? id : json_null(), "ok", 0,
				"error", "code", e->code,
				"message", e->msg);
	}

	return ws_session_send_json(s, msg);
}


static const struct command *command_find(const struct wshub *hub,
					  const char *name)
{
	struct le *le;

	for (le = list_head(&hub->cmdl); le; le = le->next) {
		const struct command *cmd = le->data;

		if (0 == str_cmp(cmd->name, name))
			return cmd;
	}

	return NULL;
}


/* The hub's commands by name (a wscmd_find_h) */
static const void *command_lookup(const char *name, void *arg)
{
	return command_find(arg, name);
}


/* A text message: a command, run and answered */
static void text_handler(struct ws_session *s, const uint8_t *data,
			 size_t len)
{
	const struct command *cmd;
	json_t *result = NULL;
	struct wscmd wc;
	struct sp_err e;
	int err;

	memset(&e, 0, sizeof(e));

	err = wscmd_decode(&wc, (const char *)data, len, command_lookup,
			   s->hub, &e);
	if (!err) {
		cmd = wc.found;
		err = cmd->h(s, wc.args, &result, &e, cmd->arg);
		if (err && !e.code)
			sp_err_set(&e, 500, "internal_error", "%m", err);
	}

	(void)respond(s, wc.id, err, result, &e);
	wscmd_reset(&wc);
}


static void recv_handler(struct web_conn *conn, bool binary,
			 const uint8_t *data, size_t len, void *arg)
{
	struct ws_session *s = web_conn_arg(conn);
	struct wshub *hub = arg;
	struct sp_err e;

	if (!s)
		return;

	if (!binary) {
		text_handler(s, data, len);
		return;
	}

	if (s->audio == WS_AUDIO_NONE || !hub->audioh) {
		sp_err_set(&e, 400, "audio_disabled",
			   "this session has no audio (audio=none)");
		(void)ws_session_error(s, &e);
		return;
	}

	hub->audioh(s, data, len, hub->audioarg);
}


static const struct web_ws_handlers ws_handlers = {
	accept_handler,
	open_handler,
	recv_handler,
	close_handler,
};


static void hub_destructor(void *arg)
{
	struct wshub *hub = arg;
	struct le *le;

	web_set_ws(hub->web, NULL, NULL);
	mem_deref(hub->sub);

	/* sessions end with their sockets; these are left at shutdown */
	while ((le = list_head(&hub->sessl))) {
		struct ws_session *s = le->data;

		web_conn_set_arg(s->conn, NULL);
		mem_deref(s);
	}
	list_flush(&hub->cmdl);
}


/**
 * Serve /api/v1/ws on a web server
 *
 * @param hubp  Returned hub
 * @param web   Web server (takes its WebSocket upgrades)
 * @param auth  Tokens and origins
 * @param bus   Event bus to forward
 *
 * @return 0 if success, otherwise errorcode
 */
int wshub_alloc(struct wshub **hubp, struct web *web, struct auth *auth,
		struct evbus *bus)
{
	struct wshub *hub;
	int err;

	if (!hubp || !web || !auth || !bus)
		return EINVAL;

	hub = mem_zalloc(sizeof(*hub), hub_destructor);
	if (!hub)
		return ENOMEM;

	hub->web = web;
	hub->auth = auth;
	hub->dflt = WS_AUDIO_DEFAULT;

	err = evbus_subscribe(&hub->sub, bus, event_handler, hub);
	if (err) {
		mem_deref(hub);
		return err;
	}

	web_set_ws(web, &ws_handlers, hub);
	*hubp = hub;

	return 0;
}


/** Offer a command to the sessions */
int wshub_command(struct wshub *hub, const char *name, wshub_cmd_h *h,
		  void *arg)
{
	struct command *cmd;

	if (!hub || !name || !h)
		return EINVAL;

	if (command_find(hub, name))
		return EALREADY;

	cmd = mem_zalloc(sizeof(*cmd), command_destructor);
	if (!cmd)
		return ENOMEM;

	if (str_dup(&cmd->name, name)) {
		mem_deref(cmd);
		return ENOMEM;
	}
	cmd->h = h;
	cmd->arg = arg;
	list_append(&hub->cmdl, &cmd->le, cmd);

	return 0;
}


/** Withdraw every command whose handler argument is arg */
void wshub_uncommand_arg(struct wshub *hub, const void *arg)
{
	struct le *le;

	if (!hub)
		return;

	le = list_head(&hub->cmdl);
	while (le) {
		struct command *cmd = le->data;

		le = le->next;
		if (cmd->arg == arg)
			mem_deref(cmd);
	}
}


/** Who names the default line (the first registered) */
void wshub_set_line_handler(struct wshub *hub, wshub_line_h *h, void *arg)
{
	if (!hub)
		return;

	hub->lineh = h;
	hub->linearg = arg;
}


/**
 * Who handles the sessions' audio (wsaudio)
 *
 * @param hub     Hub
 * @param dflt    Audio format of the sessions that ask for none from now
 *                on (wsaudio_format)
 * @param sessh   Told of each session's open and close, or NULL
 * @param audioh  Given each session's binary messages, or NULL
 * @param arg     Handler argument
 */
void wshub_set_audio(struct wshub *hub, enum ws_audio dflt,
		     wshub_session_h *sessh, wshub_audio_h *audioh, void *arg)
{
	struct le *le;

	if (!hub)
		return;

	/* sessions it was not told of are told now, those it knew of
	   are taken back when it leaves */
	if (hub->sessh && !sessh) {
		for (le = list_head(&hub->sessl); le; le = le->next)
			hub->sessh(le->data, false, hub->audioarg);
	}

	hub->dflt = dflt;
	hub->sessh = sessh;
	hub->audioh = audioh;
	hub->audioarg = arg;

	if (sessh) {
		for (le = list_head(&hub->sessl); le; le = le->next)
			sessh(le->data, true, arg);
	}
}


/** The open sessions */
struct list *wshub_sessions(struct wshub *hub)
{
	return hub ? &hub->sessl : NULL;
}


/** The session's id, "ws_..." */
const char *ws_session_id(const struct ws_session *s)
{
	return s ? s->id : NULL;
}


/** The line whose audio the session hears: asked for, or the default */
const char *ws_session_line(const struct ws_session *s)
{
	if (!s)
		return NULL;

	if (s->line)
		return s->line;

	return s->hub->lineh ? s->hub->lineh(s->hub->linearg) : NULL;
}


/** The session's audio format */
enum ws_audio ws_session_audio(const struct ws_session *s)
{
	return s ? s->audio : WS_AUDIO_NONE;
}


/** Attach wsaudio's state to the session */
void ws_session_set_audio_arg(struct ws_session *s, void *arg)
{
	if (s)
		s->audio_arg = arg;
}


/** wsaudio's state of the session */
void *ws_session_audio_arg(const struct ws_session *s)
{
	return s ? s->audio_arg : NULL;
}


/** Who counts the sessions' and calls' audio (wsaudio) */
void wshub_set_stats(struct wshub *hub, wshub_talk_stats_h *talkh,
		     wshub_call_stats_h *callh, void *arg)
{
	if (!hub)
		return;

	hub->talkh = talkh;
	hub->callh = callh;
	hub->statsarg = arg;
}


/** A session's counters: its queue out and the audio it was sent */
void ws_session_stats(const struct ws_session *s,
		      struct ws_session_stats *st)
{
	struct web_ws_stats ws;

	if (!st)
		return;

	memset(st, 0, sizeof(*st));
	if (!s)
		return;

	memset(&ws, 0, sizeof(ws));
	web_ws_stats(s->conn, &ws);

	st->queued_bytes = ws.queued_bytes;
	st->sent = ws.sent;
	st->frames = s->frames;
	st->dropped = ws.dropped;
}


/**
 * A session's audio queue to the phone
 *
 * @return 0 if success, ENOENT if it has none (audio=none, no wsaudio)
 */
int ws_session_talk_stats(const struct ws_session *s,
			  struct ws_talk_stats *st)
{
	if (!s || !st)
		return EINVAL;

	memset(st, 0, sizeof(*st));
	if (!s->hub->talkh || !s->audio_arg)
		return ENOENT;

	return s->hub->talkh(s, st, s->hub->statsarg);
}


/**
 * A call's audio to the clients
 *
 * @return 0 if success, ENOENT if no audio of that call is known
 */
int wshub_call_stats(const struct wshub *hub, const char *callid,
		     struct ws_call_stats *st)
{
	if (!hub || !callid || !st)
		return EINVAL;

	memset(st, 0, sizeof(*st));
	if (!hub->callh)
		return ENOENT;

	return hub->callh(callid, st, hub->statsarg);
}


/** The hub's counters since start: open sessions and closed ones */
void wshub_stats(const struct wshub *hub, struct wshub_stats *st)
{
	struct le *le;

	if (!st)
		return;

	memset(st, 0, sizeof(*st));
	if (!hub)
		return;

	*st = hub->past;

	for (le = list_head(&hub->sessl); le; le = le->next) {
		const struct ws_session *s = le->data;
		struct ws_session_stats ss;
		struct ws_talk_stats tk;

		ws_session_stats(s, &ss);
		++st->clients;
		st->queued_bytes += ss.queued_bytes;
		st->sent += ss.sent;
		st->frames += ss.frames;
		st->dropped += ss.dropped;

		if (0 == ws_session_talk_stats(s, &tk)) {
			st->talk_dropped_ms += tk.dropped_ms;
			st->talk_underruns += tk.underruns;
		}
	}
}


/** A close code's name, as a label: "normal", "policy_violation" ... */
const char *ws_close_name(uint16_t code)
{
	switch (code) {

	case 1000: return "normal";
	case 1001: return "going_away";
	case 1002: return "protocol_error";
	case 1003: return "unsupported_data";
	case 1005: return "no_status";
	case 1006: return "abnormal";
	case 1007: return "invalid_data";
	case 1008: return "policy_violation";
	case 1009: return "message_too_big";
	case 1011: return "server_error";
	default:   return "other";
	}
}
