/**
 * @file web_tls.c  HTTPS and WSS on the API port: the certificate check at
 *                  start, the lws TLS settings and the handshake's socket
 *                  needs
 *
 * lws loads the certificate and key itself, but it reports a bad file in
 * OpenSSL's words ("error:05800074:x509 certificate routines::key values
 * mismatch"), and given an encrypted key it has OpenSSL prompt for the
 * passphrase on a terminal the service does not have: it hangs. So the
 * files are checked here first, and a bad one stops the service with its
 * path and the reason in plain words.
 *
 * Plain HTTP: lws is told to let a connection that does not start with a
 * TLS record through as plain HTTP (ALLOW_NON_SSL_ON_SSL_PORT); what such
 * a request gets is HTTP policy, in web_plain.c.
 *
 * Threads: main thread only.
 */

#include <stdio.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "sipphone.h"
#include "webpriv.h"


enum {
	EXPIRY_WARN_DAYS = 30,      /* warn this long before the end  */
};

/*
 * TLS 1.2: forward secrecy and AEAD only (Mozilla's "intermediate" list
 * without DHE, for which no parameters are set). TLS 1.3 keeps OpenSSL's
 * suites, all of which are such.
 */
static const char ciphers_tls12[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";


/* OpenSSL's reason for the last error, or a fallback */
static const char *ossl_reason(const char *dflt)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : dflt;
}


/* A passphrase is asked for: the key is encrypted. Refuse to prompt (the
   service runs unattended) and remember that it asked. */
static int passphrase_cb(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;

	*(bool *)arg = true;

	return -1;
}


/* fopen() takes a directory; OpenSSL would then find "no PEM in it" */
static int file_open(FILE **fp, const char *what, const char *path)
{
	struct stat st;
	int err = 0;

	*fp = fopen(path, "r");
	if (!*fp)
		err = errno;
	else if (0 == fstat(fileno(*fp), &st) && S_ISDIR(st.st_mode))
		err = EISDIR;

	if (err) {
		warning("web: TLS %s %s: %m\n", what, path, err);
		if (*fp)
			fclose(*fp);
		*fp = NULL;
	}

	return err;
}


static int cert_read(X509 **xp, const char *path)
{
	FILE *f;
	int err;

	err = file_open(&f, "certificate", path);
	if (err)
		return err;

	ERR_clear_error();
	*xp = PEM_read_X509(f, NULL, NULL, NULL);
	if (!*xp) {
		warning("web: TLS certificate %s: no PEM certificate in it"
			" (%s)\n", path, ossl_reason("unreadable"));
		err = EBADMSG;
	}

	fclose(f);

	return err;
}


static int key_read(EVP_PKEY **keyp, const char *path)
{
	bool asked = false;
	struct stat st;
	FILE *f;
	int err;

	err = file_open(&f, "key", path);
	if (err)
		return err;

	ERR_clear_error();
	*keyp = PEM_read_PrivateKey(f, NULL, passphrase_cb, &asked);
	if (!*keyp && asked) {
		warning("web: TLS key %s: it is encrypted; the service cannot"
			" ask for a passphrase (decrypt it: openssl pkey -in"
			" KEY -out KEY.plain)\n", path);
		err = EINVAL;
	}
	else if (!*keyp) {
		/* OpenSSL 3's reason here is "unsupported", whatever the
		   file holds: it says nothing useful */
		warning("web: TLS key %s: no PEM private key in it\n", path);
		err = EBADMSG;
	}

	/* the key is what makes the certificate worth anything */
	if (!err && 0 == fstat(fileno(f), &st) && (st.st_mode & S_IROTH))
		warning("web: TLS key %s: every user may read it"
			" (chmod 600 it)\n", path);

	fclose(f);

	return err;
}


/* Expired or not yet valid: clients will refuse the certificate, but the
   phone keeps working, so the service starts and says so */
static void cert_dates_check(X509 *x, const char *path)
{
	const ASN1_TIME *nb = X509_get0_notBefore(x);
	const ASN1_TIME *na = X509_get0_notAfter(x);
	int days = 0, secs = 0;

	if (X509_cmp_current_time(nb) > 0) {
		warning("web: TLS certificate %s: not valid yet (is the"
			" clock right?): clients will refuse it\n", path);
		return;
	}

	if (!ASN1_TIME_diff(&days, &secs, NULL, na))
		return;

	if (days < 0 || (days == 0 && secs <= 0))
		warning("web: TLS certificate %s: expired: clients will"
			" refuse it (make a new one: scripts/make-cert)\n",
			path);
	else if (days < EXPIRY_WARN_DAYS)
		warning("web: TLS certificate %s: expires in %d days\n",
			path, days);
}


/**
 * Check the certificate and key files before lws loads them
 *
 * @param cert  PEM certificate (the server's first, then any chain)
 * @param key   PEM private key of that certificate
 *
 * @return 0 if usable, otherwise errorcode (the reason is logged)
 */
int web_tls_check(const char *cert, const char *key)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	int err;

	if (!str_isset(cert) || !str_isset(key))
		return EINVAL;

	err = cert_read(&x, cert);
	if (err)
		goto out;

	err = key_read(&pkey, key);
	if (err)
		goto out;

	ERR_clear_error();
	if (1 != X509_check_private_key(x, pkey)) {
		warning("web: TLS key %s: does not match the certificate"
			" in %s\n", key, cert);
		err = EINVAL;
		goto out;
	}

	cert_dates_check(x, cert);

 out:
	EVP_PKEY_free(pkey);
	X509_free(x);
	ERR_clear_error();

	return err;
}


/**
 * Add the TLS settings to the context and vhost creation info
 *
 * @param info  Creation info, used for the context and then the vhost
 * @param prm   Server parameters with the certificate and key
 */
void web_tls_info(struct lws_context_creation_info *info,
		  const struct web_prm *prm)
{
	info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		/* lws makes no TLS connections for us */
		LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
		/* plain HTTP reaches web_http_plain() */
		LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT |
		LWS_SERVER_OPTION_ALLOW_HTTP_ON_HTTPS_LISTENER;

	info->ssl_cert_filepath = prm->tls_cert;
	info->ssl_private_key_filepath = prm->tls_key;
	info->ssl_cipher_list = ciphers_tls12;

	/* lws's default ALPN offers h2, which web_http.c does not speak */
	info->alpn = "http/1.1";
}


/**
 * Finish the vhost's SSL_CTX (LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_
 * VERIFY_CERTS: lws's last call with it, after it loaded the certificate)
 *
 * @param ssl_ctx  The vhost's SSL_CTX
 *
 * @return 0 if success, otherwise errorcode
 */
int web_tls_ctx_setup(SSL_CTX *ssl_ctx)
{
	if (!ssl_ctx)
		return EINVAL;

	/* TLS 1.0 and 1.1 are deprecated (RFC 8996) */
	if (1 != SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION)) {
		warning("web: TLS: cannot require TLS 1.2\n");
		return EPROTO;
	}

	/* a client must not make the server redo handshakes at will */
	SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_RENEGOTIATION);

	ERR_clear_error();

	return 0;
}


/**
 * Does the connection's TLS handshake wait to write?
 *
 * lws then polls for POLLOUT in its own table, which only the periodic
 * lws_service() would look at; the caller asks for FD_WRITE instead.
 * (lws_partial_buffered() says nothing here: the handshake's bytes are
 * OpenSSL's, not in lws's buffer.)
 */
bool web_tls_wants_write(struct web_conn *conn)
{
	SSL *ssl;

	if (!conn->web->tls || !conn->wsi)
		return false;

	ssl = lws_get_ssl(conn->wsi);

	return ssl && !SSL_is_init_finished(ssl) && SSL_want_write(ssl);
}
