/**
 * @file web_limit.c  Who gets in: the caps on connections in total and
 *                    per client address, what a refused client gets,
 *                    and accept() paused while the process is out of
 *                    descriptors
 *
 * The caps (web_prm.conn_max, conn_per_addr) count every connection the
 * server holds, WebSockets included. A connection over a cap is accepted
 * and refused at once, before lws sees it: a plain-HTTP client gets a
 * fixed 503 too_many_connections (one send, Connection: close), a client
 * that starts with TLS only the close (an answer would cost a
 * handshake). The bytes it already sent are read first, so that the
 * close is a FIN: a close with unread bytes is a reset, and the client's
 * kernel may then drop the answer before the client reads it.
 *
 * Descriptors: libre 1.1.0's loop, as baresip 1.0.0 starts it, watches
 * descriptors below FD_SETSIZE only, and lws's tables end at the soft
 * RLIMIT_NOFILE it was made with. A connection on a descriptor past
 * either is refused like one over the caps, quietly for libre and lws.
 *
 * accept() failing for want of descriptors (EMFILE, ENFILE) or memory
 * leaves the connection in the backlog and the listening socket
 * readable: in a level-triggered loop, a busy loop. Accepting stops for
 * ACCEPT_PAUSE_MS instead, then is tried again; one log line when a
 * pause begins and one when connections are accepted again.
 *
 * What a client can make us log is rate-limited (web_ratelog_due()).
 *
 * Threads: main thread only.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include "sipphone.h"
#include "webpriv.h"


enum {
	ACCEPT_PAUSE_MS = 250,      /* out of descriptors: try again after */
	LOG_EVERY_MS = 10000,       /* a client's doing logged this often  */
	DRAIN_MAX = 16384,          /* a refused client's bytes we read    */
	TLS_HANDSHAKE = 0x16,       /* the first byte of a TLS record      */
};


/* The whole answer to a client over a cap: a fixed JSON error */
static int refusal_send(int fd, enum web_refusal why)
{
	static const char body_max[] = "{\"error\":{\"code\":"
		"\"too_many_connections\",\"message\":\"the server holds all"
		" the connections it may: try again later\"}}";
	static const char body_addr[] = "{\"error\":{\"code\":"
		"\"too_many_connections\",\"message\":\"too many connections"
		" from your address: close some first\"}}";
	const char *body = why == WEB_REFUSE_ADDR ? body_addr : body_max;
	char buf[512];
	int n;

	n = re_snprintf(buf, sizeof(buf), "HTTP/1.1 503 Service Unavailable"
			"\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n"
			"Retry-After: 5\r\n\r\n%s", strlen(body), body);
	if (n < 0)
		return ENOMEM;

	/* a fresh socket's buffer takes it whole: nothing is kept */
	if (send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return errno;

	return 0;
}


/**
 * Read what a client sent so far, before its connection is closed: a
 * close with unread bytes is a reset, and the client's kernel may then
 * drop the answer before the client reads it
 *
 * @param fd  Its socket
 *
 * @return the first byte read, or -1 if none
 */
int web_limit_drain(int fd)
{
	uint8_t buf[2048];
	size_t total = 0;
	int first = -1;

	while (total < DRAIN_MAX) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		if (first < 0)
			first = buf[0];
		total += n;
	}

	return first;
}


static void refuse(struct web *web, int fd, const struct sa *peer,
		   enum web_refusal why, size_t from_addr)
{
	uint32_t held;
	int first;

	++web->refused[why];

	first = web_limit_drain(fd);
	if (!web->tls || (first >= 0 && first != TLS_HANDSHAKE))
		(void)refusal_send(fd, why);
	(void)close(fd);

	if (!web_ratelog_due(&web->refusal_log, &held))
		return;

	switch (why) {

	case WEB_REFUSE_MAX:
		warning("web: %J: connection refused: %zu are open"
			" (httpctl_conn_max) [%u more refused since the last"
			" such line]\n", peer, web->nconn, held);
		break;

	case WEB_REFUSE_ADDR:
		warning("web: %J: connection refused: %zu are open from this"
			" address (httpctl_conn_per_addr) [%u more refused"
			" since the last such line]\n", peer, from_addr, held);
		break;

	default:
		warning("web: %J: connection refused: the process holds"
			" %d descriptors or more, as many as the server can"
			" watch [%u more refused since the last such line]\n",
			peer, web->fd_max, held);
		break;
	}
}


static size_t addr_count(const struct web *web, const struct sa *peer)
{
	struct le *le;
	size_t n = 0;

	le = list_head(hash_list(web->addrh, sa_hash(peer, SA_ADDR)));
	for (; le; le = le->next) {
		const struct web_conn *conn = le->data;

		if (sa_cmp(&conn->peer, peer, SA_ADDR))
			++n;
	}

	return n;
}


/**
 * Set the bounds up; before lws's context is made (lws sizes its tables
 * by the soft RLIMIT_NOFILE then)
 *
 * @param web  Server
 * @param prm  Its parameters, with the caps (0: 1)
 *
 * @return 0 if success, otherwise errorcode
 */
int web_limit_init(struct web *web, const struct web_prm *prm)
{
	long open_max = sysconf(_SC_OPEN_MAX);

	web->conn_max = max(prm->conn_max, 1u);
	web->conn_per_addr = max(prm->conn_per_addr, 1u);

	web->fd_max = FD_SETSIZE;
	if (open_max > 0 && open_max < web->fd_max)
		web->fd_max = (int)open_max;

	tmr_init(&web->tmr_accept);

	/* a bucket for about every four connections */
	return hash_alloc(&web->addrh,
			  hash_valid_size(min(web->conn_max, 4096u) / 4));
}


/**
 * May a connection just accepted stay? If not, it is refused and closed
 * here.
 *
 * @param web   Server
 * @param fd    Its socket
 * @param peer  The client's address
 *
 * @return 0 if it may stay, otherwise EMFILE (refused: fd is closed)
 */
int web_limit_admit(struct web *web, int fd, const struct sa *peer)
{
	size_t from_addr = 0;
	enum web_refusal why;

	/* accept() works again: the pause for want of descriptors ends */
	if (web->paused_at) {
		info("web: accepting connections again, after %llu ms out"
		     " of descriptors\n", (unsigned long long)
		     (tmr_jiffies() - web->paused_at));
		web->paused_at = 0;
	}

	if (fd >= web->fd_max)
		why = WEB_REFUSE_FD;
	else if (web->nconn >= web->conn_max)
		why = WEB_REFUSE_MAX;
	else if ((from_addr = addr_count(web, peer)) >= web->conn_per_addr)
		why = WEB_REFUSE_ADDR;
	else
		return 0;

	refuse(web, fd, peer, why, from_addr);

	return EMFILE;
}


/** Count a connection that was let in */
void web_limit_track(struct web_conn *conn)
{
	struct web *web = conn->web;

	hash_append(web->addrh, sa_hash(&conn->peer, SA_ADDR), &conn->he,
		    conn);
	++web->nconn;
}


/** Stop counting a connection (its destructor) */
void web_limit_untrack(struct web_conn *conn)
{
	if (!conn->he.list)
		return;

	hash_unlink(&conn->he);
	--conn->web->nconn;
}


static void resume_handler(void *arg)
{
	struct web *web = arg;
	int err;

	/* pending connections make the listening socket readable at once */
	err = web_listen(web);
	if (err)
		tmr_start(&web->tmr_accept, ACCEPT_PAUSE_MS, resume_handler,
			  web);
}


/**
 * accept() failed: go on with the next connection, or pause accepting
 *
 * @param web  Server
 * @param err  accept()'s errno (not EAGAIN)
 *
 * @return true if accepting is paused (stop for now), false to go on
 */
bool web_limit_accept_failed(struct web *web, int err)
{
	switch (err) {

	/* this connection is gone, or failed as Linux passes on a
	   network error (accept(2)): the next may be fine */
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EPERM:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return false;

	/* EMFILE, ENFILE, ENOBUFS, ENOMEM: lasts until something is freed;
	   anything else: a pause is still better than a busy loop */
	default:
		break;
	}

	fd_close(web->lfd);
	tmr_start(&web->tmr_accept, ACCEPT_PAUSE_MS, resume_handler, web);

	if (web->paused_at)
		return true;

	web->paused_at = tmr_jiffies();
	++web->accept_pauses;

	warning("web: accept: %m: no new connections for now (%zu open);"
		" trying again every %u ms\n", err, web->nconn,
		ACCEPT_PAUSE_MS);

	return true;
}


/**
 * May a line about what clients do be logged now?
 *
 * @param rl     The line's state
 * @param heldp  Returned: how many were held back since the last line
 *
 * @return true at most once every LOG_EVERY_MS
 */
bool web_ratelog_due(struct web_ratelog *rl, uint32_t *heldp)
{
	uint64_t now = tmr_jiffies();

	if (rl->last && now - rl->last < LOG_EVERY_MS) {
		++rl->held;
		return false;
	}

	*heldp = rl->held;
	rl->held = 0;
	rl->last = now;

	return true;
}


/** The server's connection counters */
void web_stats(const struct web *web, struct web_stats *st)
{
	if (!web || !st)
		return;

	memset(st, 0, sizeof(*st));
	st->conns = web->nconn;
	memcpy(st->refused, web->refused, sizeof(st->refused));
	st->accept_pauses = web->accept_pauses;
}


/** A refusal reason's name, for metrics labels */
const char *web_refusal_name(enum web_refusal r)
{
	switch (r) {

	case WEB_REFUSE_MAX:  return "conn_max";
	case WEB_REFUSE_ADDR: return "conn_per_addr";
	case WEB_REFUSE_FD:   return "descriptors";
	default:              return "?";
	}
}
