/**
 * @file core.c  The one core instance both modules share
 *
 * The first module to open the core builds it from the baresip config;
 * later ones take a reference. It holds the HTTP server, the router with
 * its auth, and the event bus.
 *
 * Config keys read here (see docs/config.md):
 *
 \verbatim
  httpctl_listen     0.0.0.0:8000   # address of REST, WebSocket, console
  httpctl_token      <token>        # repeatable; generated if none
  httpctl_origin     <origin>       # repeatable; allowed browser origins
  httpctl_state_dir  <dir>          # default: <config dir>/state
  httpctl_tls_cert   <pem file>     # HTTPS and WSS on httpctl_listen;
  httpctl_tls_key    <pem file>     # both or neither (docs/tls.md)
  httpctl_tls_plain  refuse         # plain HTTP on that port: refuse,
                                    # redirect (a browser's GET), allow
  httpctl_conn_max       256        # HTTP and WebSocket connections held
  httpctl_conn_per_addr  32         # ... and from one client address
  httpctl_events_keep      50000    # newest events always kept
  httpctl_events_max_age   30       # days; older events go beyond those
 \endverbatim
 *
 * Threads: main thread only.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include "sipphone.h"


enum {
	EVENTS_KEEP = 50000,        /* newest events always kept     */
	EVENTS_MAX_AGE_DAYS = 30,   /* older ones go beyond those    */
	CONN_MAX = 256,             /* connections held at once      */
	CONN_PER_ADDR = 32,         /* ... from one client address   */
	CONN_LIMIT = 65535,         /* the largest either may be     */
};

/* The core's single piece of module state */
static struct sp_core *core_inst;


static void core_destructor(void *arg)
{
	struct sp_core *core = arg;

	/* the hub first: the sockets the web server closes after it then
	   find no session to tell */
	mem_deref(core->hub);
	mem_deref(core->web);
	mem_deref(core->api);
	mem_deref(core->auth);
	mem_deref(core->bus);
	mem_deref(core->store);
	mem_deref(core->state_dir);

	if (core_inst == core)
		core_inst = NULL;
}


static int token_handler(const struct pl *val, void *arg)
{
	struct auth *auth = arg;
	char *tok = NULL;
	int err;

	err = pl_strdup(&tok, val);
	if (!err)
		err = auth_add_token(auth, tok);
	mem_deref(tok);

	if (err)
		warning("httpctl: httpctl_token: invalid token (%m)\n", err);

	return err;
}


static int origin_handler(const struct pl *val, void *arg)
{
	struct auth *auth = arg;
	char *origin = NULL;
	int err;

	err = pl_strdup(&origin, val);
	if (!err)
		err = auth_add_origin(auth, origin);
	mem_deref(origin);

	return err;
}


static int state_dir_init(struct sp_core *core, const struct conf *conf)
{
	char path[512];
	int err;

	if (sp_conf_path(path, sizeof(path), conf, "httpctl_state_dir"))
		return str_dup(&core->state_dir, path);

	err = conf_path_get(path, sizeof(path));
	if (err)
		return err;

	return re_sdprintf(&core->state_dir, "%s/state", path);
}


/*
 * Make the state directory or a file in it ours alone: the group and
 * other bits cleared. One another user owns is refused: that user could
 * read or replace what is in it.
 */
static int private_fix(int dfd, const char *dir, const char *name,
		       const struct stat *st)
{
	mode_t mode = st->st_mode & 07777, want = mode & 0700;
	char was[8], now[8];

	if (st->st_uid != geteuid()) {
		warning("httpctl: %s%s%s belongs to uid %u, not to the"
			" service's uid %u: another user could read or"
			" replace it (chown it, or set httpctl_state_dir to a"
			" directory of the service's user)\n", dir,
			name ? "/" : "", name ? name : "",
			(unsigned)st->st_uid, (unsigned)geteuid());
		return EPERM;
	}

	if (mode == want)
		return 0;

	/* re_printf() has no octal */
	(void)snprintf(was, sizeof(was), "%04o", (unsigned)mode);
	(void)snprintf(now, sizeof(now), "%04o", (unsigned)want);

	if (name ? fchmodat(dfd, name, want, 0) : fchmod(dfd, want)) {
		int err = errno;

		warning("httpctl: %s%s%s is mode %s and cannot be made %s:"
			" %m\n", dir, name ? "/" : "", name ? name : "", was,
			now, err);
		return err;
	}

	info("httpctl: %s%s%s was mode %s: now %s\n", dir, name ? "/" : "",
	     name ? name : "", was, now);

	return 0;
}


/*
 * The state directory holds the token and the webhooks' secrets: it is
 * 0700 and its files 0600, enforced at every start, whatever an older
 * version, an operator or the umask made them. What is not a regular
 * file (a symbolic link, a directory) is left alone.
 */
static int state_dir_make(const char *dir)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dfd, err;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return errno;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno;

	if (fstat(dfd, &st)) {
		err = errno;
		(void)close(dfd);
		return err;
	}

	err = private_fix(dfd, dir, NULL, &st);
	if (err) {
		(void)close(dfd);
		return err;
	}

	d = fdopendir(dfd);
	if (!d) {
		err = errno;
		(void)close(dfd);
		return err;
	}

	while (!err && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;

		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			err = errno;
			break;
		}

		if (S_ISREG(st.st_mode))
			err = private_fix(dfd, dir, de->d_name, &st);
	}

	(void)closedir(d);

	return err;
}


static int auth_init(struct sp_core *core, const struct conf *conf)
{
	char *token = NULL;
	int err;

	err = auth_alloc(&core->auth);
	if (err)
		return err;

	err  = conf_apply(conf, "httpctl_token", token_handler, core->auth);
	err |= conf_apply(conf, "httpctl_origin", origin_handler, core->auth);
	if (err)
		return EINVAL;

	if (auth_token_count(core->auth))
		return 0;

	err = auth_token_load(core->auth, core->state_dir, &token);
	if (err) {
		warning("httpctl: token file in %s: %m\n",
			core->state_dir, err);
		return err;
	}

	/*
	 * Shown once, when made, and only to a person at a terminal: the
	 * log (a file, the journal, syslog) has more readers than the token
	 * is for. It says where the token is.
	 */
	if (token) {
		info("httpctl: generated an API token: it is in %s/token\n",
		     core->state_dir);
		if (isatty(STDERR_FILENO))
			(void)re_fprintf(stderr, "httpctl: the API token (shown"
					 " this once): %s\n", token);
		mem_deref(token);
	}

	return 0;
}


static int listen_addr(struct sa *laddr, const struct conf *conf)
{
	char str[128] = "0.0.0.0:8000";
	int err;

	(void)conf_get_str(conf, "httpctl_listen", str, sizeof(str));

	err = sa_decode(laddr, str, strlen(str));
	if (err)
		warning("httpctl: httpctl_listen: '%s' is not an"
			" address:port\n", str);

	return err;
}


/* httpctl_tls_*: the certificate and key, both or neither (the files are
   checked when the server starts), and what plain HTTP gets */
static int tls_config(struct web_prm *prm, char *cert, char *key, size_t sz,
		      const struct conf *conf)
{
	char plain[16] = "refuse";
	bool c, k;

	c = sp_conf_path(cert, sz, conf, "httpctl_tls_cert");
	k = sp_conf_path(key, sz, conf, "httpctl_tls_key");
	if (c != k) {
		warning("httpctl: httpctl_%s is set but httpctl_%s is not:"
			" TLS needs both\n", c ? "tls_cert" : "tls_key",
			c ? "tls_key" : "tls_cert");
		return EINVAL;
	}

	(void)conf_get_str(conf, "httpctl_tls_plain", plain, sizeof(plain));

	if (0 == str_casecmp(plain, "refuse"))
		prm->tls_plain = WEB_TLS_PLAIN_REFUSE;
	else if (0 == str_casecmp(plain, "redirect"))
		prm->tls_plain = WEB_TLS_PLAIN_REDIRECT;
	else if (0 == str_casecmp(plain, "allow"))
		prm->tls_plain = WEB_TLS_PLAIN_ALLOW;
	else {
		warning("httpctl: httpctl_tls_plain: '%s' is not refuse,"
			" redirect or allow\n", plain);
		return EINVAL;
	}

	if (!c)
		return 0;

	prm->tls_cert = cert;
	prm->tls_key = key;

	if (prm->tls_plain == WEB_TLS_PLAIN_ALLOW)
		warning("httpctl: httpctl_tls_plain allow: plain HTTP is"
			" served too, and tokens sent over it travel in"
			" clear\n");

	return 0;
}


/* httpctl_conn_*: how many connections the server holds */
static int conn_config(struct web_prm *prm, const struct conf *conf)
{
	uint32_t max = CONN_MAX, per_addr = CONN_PER_ADDR;

	(void)conf_get_u32(conf, "httpctl_conn_max", &max);
	(void)conf_get_u32(conf, "httpctl_conn_per_addr", &per_addr);
	if (!max || max > CONN_LIMIT || !per_addr || per_addr > CONN_LIMIT) {
		warning("httpctl: httpctl_conn_max and httpctl_conn_per_addr"
			" must be from 1 to %u\n", CONN_LIMIT);
		return EINVAL;
	}

	prm->conn_max = max;
	prm->conn_per_addr = per_addr;

	return 0;
}


/* The durable event log, in the state directory */
static int store_open(struct sp_core *core, const struct conf *conf)
{
	uint32_t keep = EVENTS_KEEP, days = EVENTS_MAX_AGE_DAYS;
	char *path = NULL;
	int fd, err;

	(void)conf_get_u32(conf, "httpctl_events_keep", &keep);
	(void)conf_get_u32(conf, "httpctl_events_max_age", &days);
	if (!keep || !days) {
		warning("httpctl: httpctl_events_keep and"
			" httpctl_events_max_age must be at least 1\n");
		return EINVAL;
	}

	err = re_sdprintf(&path, "%s/events.db", core->state_dir);
	if (err)
		return err;

	/* SQLite makes a new database 0644 less the umask and gives its
	   -wal and -shm files the database's mode: made here 0600 (an
	   empty file is an empty database), all three are private */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		warning("httpctl: event store %s: %m\n", path, err);
		goto out;
	}
	(void)close(fd);

	err = evstore_open(&core->store, path, keep, days * 86400);
	if (err)
		warning("httpctl: event store %s: %m\n", path, err);

 out:
	mem_deref(path);

	return err;
}


static void nofile_set(struct rlimit *rl, rlim_t soft)
{
	rl->rlim_cur = min(soft, rl->rlim_max);
	if (setrlimit(RLIMIT_NOFILE, rl))
		warning("httpctl: RLIMIT_NOFILE %llu: %m\n",
			(unsigned long long)rl->rlim_cur, errno);
}


/*
 * The web server, and the process's descriptors. lws sizes its tables
 * (16 bytes a descriptor, all written at once) by the soft RLIMIT_NOFILE
 * when the server is made, and libre's loop watches descriptors below
 * FD_SETSIZE only: the server is made with the soft limit there (or at
 * the hard limit, if lower), then the soft limit goes up to the hard
 * limit, so that what no loop watches (SQLite's files, files read at
 * start) does not fail when sockets took the descriptors below.
 */
static int web_open(struct sp_core *core, const struct web_prm *prm)
{
	struct rlimit rl;
	rlim_t was;
	int err;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return web_alloc(&core->web, prm, api_handle, core->api);

	was = rl.rlim_cur;
	nofile_set(&rl, FD_SETSIZE);

	err = web_alloc(&core->web, prm, api_handle, core->api);

	nofile_set(&rl, rl.rlim_max);
	info("httpctl: open files: up to %llu (RLIMIT_NOFILE, was %llu)\n",
	     (unsigned long long)rl.rlim_cur, (unsigned long long)was);

	return err;
}


static void healthz(struct api_req *req, void *arg)
{
	(void)arg;

	api_reply(req, 200, json_pack("{s:s}", "status", "ok"));
}


static int core_alloc(struct sp_core **corep)
{
	const struct conf *conf = conf_cur();
	char cert[512] = "", key[512] = "";
	struct web_prm prm;
	struct sp_core *core;
	int err;

	core = mem_zalloc(sizeof(*core), core_destructor);
	if (!core)
		return ENOMEM;

	core->start_ms = sptime_now_ms();
	memset(&prm, 0, sizeof(prm));
	prm.body_max = API_BODY_MAX;

	err = listen_addr(&prm.laddr, conf);
	if (err)
		goto out;

	err = tls_config(&prm, cert, key, sizeof(cert), conf);
	if (err)
		goto out;

	err = conn_config(&prm, conf);
	if (err)
		goto out;

	err = state_dir_init(core, conf);
	if (err)
		goto out;

	err = state_dir_make(core->state_dir);
	if (err) {
		warning("httpctl: state directory %s: %m\n",
			core->state_dir, err);
		goto out;
	}

	err = auth_init(core, conf);
	if (err)
		goto out;

	err = store_open(core, conf);
	if (err)
		goto out;

	err  = api_alloc(&core->api, core->auth);
	err |= evbus_alloc(&core->bus, core->store);
	if (err)
		goto out;

	err = api_route(core->api, "GET", "/healthz", API_PUBLIC,
			healthz, NULL);
	if (err)
		goto out;

	err = web_open(core, &prm);
	if (err)
		goto out;

	err = wshub_alloc(&core->hub, core->web, core->auth, core->bus);
	if (err)
		goto out;

	info("httpctl: REST and WebSocket API on %s://%J\n",
	     web_is_tls(core->web) ? "https" : "http", web_laddr(core->web));

 out:
	if (err)
		mem_deref(core);
	else
		*corep = core;

	return err;
}


/**
 * A file or directory named by a config key; a relative path is taken
 * from the config directory (baresip runs in its module directory, where
 * nobody would look)
 *
 * @param path  Returned path
 * @param sz    Size of path
 * @param conf  Configuration
 * @param key   Config key
 *
 * @return true if the key is set
 */
bool sp_conf_path(char *path, size_t sz, const struct conf *conf,
		  const char *key)
{
	char val[256], dir[256];

	if (conf_get_str(conf, key, val, sizeof(val)))
		return false;

	if (val[0] == '/' || conf_path_get(dir, sizeof(dir)))
		str_ncpy(path, val, sz);
	else
		re_snprintf(path, sz, "%s/%s", dir, val);

	return true;
}


/**
 * Open the shared core, building it on first use
 *
 * @param corep  Returned reference; mem_deref() it when done
 *
 * @return 0 if success, otherwise errorcode
 */
int sp_core_open(struct sp_core **corep)
{
	int err;

	if (!corep)
		return EINVAL;

	if (core_inst) {
		*corep = mem_ref(core_inst);
		return 0;
	}

	err = core_alloc(&core_inst);
	if (err)
		return err;

	*corep = core_inst;

	return 0;
}
