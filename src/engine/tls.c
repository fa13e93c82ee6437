/* SPDX-License-Identifier: ISC */
/*
 * tls.c -- the TLS transport's own part: a client context per load per
 * worker, the handshake started on a connected socket and timed apart
 * from the connect, session resumption, and handshake failures told
 * apart by kind.  The rest (sending, replies, churn) is the stream
 * transport's, in conn.c: the bufferevent encrypts what it is given.
 *
 * Worker thread only; each worker has its own SSL_CTX, so nothing here
 * is shared between threads but OpenSSL's own global state.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/worker.h"

/* At most this many TLS errors are logged per load per worker a second. */

static int	tls_new_session(SSL *, SSL_SESSION *);
static void	tls_log(struct conn *, const char *, const char *);

/*
 * Where a connection hangs on its SSL, for the new-session callback: one
 * index for the process, taken once, whichever worker comes first.
 */
static int		tls_conn_index = -1;
static pthread_once_t	tls_once = PTHREAD_ONCE_INIT;

static void
tls_init_once(void)
{
	tls_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void
tls_log_ctx_error(const struct wload *wl, const char *what)
{
	char	 buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	log_warnx("load %s: TLS %s: %s", wl->conf->name, what, buf);
	ERR_clear_error();
}

/*
 * The client context of a load on this worker, from its profile: what to
 * trust, what to offer, and whether to keep sessions for resumption.
 * Every setting was checked when the profile was read (tls_conf_check);
 * the files are read again here.
 */
static int	tls_wload_setup(struct wload *);

/*
 * A context that cannot be built (a file changed since the profile was
 * checked) leaves the load without one: each of its connects then fails
 * as tls_handshake_failed, logged, rather than connecting without what
 * the profile asked for.
 */
int
tls_wload_init(struct wload *wl)
{
	if (tls_wload_setup(wl) == 0)
		return 0;
	SSL_CTX_free(wl->ssl_ctx);
	wl->ssl_ctx = NULL;
	return -1;
}

static int
tls_wload_setup(struct wload *wl)
{
	const struct tls_conf	*tc = &wl->conf->tls;
	SSL_CTX			*ctx;

	(void)pthread_once(&tls_once, tls_init_once);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_log_ctx_error(wl, "context");
		return -1;
	}
	wl->ssl_ctx = ctx;
	if (tc->verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if ((tc->ca != NULL ?
		    SSL_CTX_load_verify_locations(ctx, tc->ca, NULL) :
		    SSL_CTX_set_default_verify_paths(ctx)) != 1) {
			tls_log_ctx_error(wl, "tls_ca");
			return -1;
		}
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (tc->min_version != 0 &&
	    SSL_CTX_set_min_proto_version(ctx, tc->min_version) != 1) {
		tls_log_ctx_error(wl, "tls_min_version");
		return -1;
	}
	if (tc->max_version != 0 &&
	    SSL_CTX_set_max_proto_version(ctx, tc->max_version) != 1) {
		tls_log_ctx_error(wl, "tls_max_version");
		return -1;
	}
	if (tc->ciphers != NULL &&
	    SSL_CTX_set_cipher_list(ctx, tc->ciphers) != 1) {
		tls_log_ctx_error(wl, "tls_ciphers");
		return -1;
	}
	if (tc->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, tc->ciphersuites) != 1) {
		tls_log_ctx_error(wl, "tls_ciphersuites");
		return -1;
	}
	if (tc->groups != NULL && SSL_CTX_set1_groups_list(ctx,
	    tc->groups) != 1) {
		tls_log_ctx_error(wl, "tls_groups");
		return -1;
	}
	/* SSL_CTX_set_alpn_protos returns 0 on success. */
	if (tc->alpn != NULL && SSL_CTX_set_alpn_protos(ctx,
	    (const unsigned char *)tc->alpn, (unsigned)tc->alpn_len) != 0) {
		tls_log_ctx_error(wl, "tls_alpn");
		return -1;
	}
	if (tc->cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, tc->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, tc->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)) {
		tls_log_ctx_error(wl, "tls_cert/tls_key");
		return -1;
	}
	/*
	 * Resumption: keep the newest session the server gave (a ticket or
	 * an ID), caught as it arrives, which for TLS 1.3 is after the
	 * handshake.  Off, every handshake is a full one.
	 */
	if (tc->resume) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
		    SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, tls_new_session);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	}
	return 0;
}

void
tls_wload_free(struct wload *wl)
{
	if (wl->ssl_sess != NULL)
		SSL_SESSION_free(wl->ssl_sess);
	if (wl->ssl_ctx != NULL)
		SSL_CTX_free(wl->ssl_ctx);
	wl->ssl_sess = NULL;
	wl->ssl_ctx = NULL;
}

/* A session arrived: it is the one the next handshakes resume. */
static int
tls_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct conn	*c = SSL_get_ex_data(ssl, tls_conn_index);

	if (c == NULL || !SSL_SESSION_is_resumable(sess))
		return 0;
	if (c->wl->ssl_sess != NULL)
		SSL_SESSION_free(c->wl->ssl_sess);
	c->wl->ssl_sess = sess;
	return 1;	/* we keep the reference */
}

static bool
tls_name_is_ip(const char *name)
{
	struct in6_addr	 a;

	return inet_pton(AF_INET, name, &a) == 1 ||
	    inet_pton(AF_INET6, name, &a) == 1;
}

/*
 * Connected, then handshaken.  The first call (the socket connected)
 * counts the connect and starts the handshake on a TLS bufferevent over
 * the same socket; the second (the handshake done) counts it and says the
 * connection is ready.
 */
bool
tls_connected(struct conn *c, uint64_t now)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;
	const char		*name;
	struct bufferevent	*bev;
	struct timeval		 tv;
	SSL			*ssl;

	if (c->handshaking) {
		ssl = bufferevent_openssl_get_ssl(c->bev);
		c->handshaking = false;
		/* For TLS a connect is done when its handshake is. */
		CTR_ADD(wl->ctr->connects_ok, 1);
		CTR_ADD(wl->tctr[c->tgt].connects_ok, 1);
		CTR_ADD(wl->ctr->tls_handshakes, 1);
		if (SSL_session_reused(ssl))
			CTR_ADD(wl->ctr->tls_resumed, 1);
		hist_record(&wl->h[LAT_HANDSHAKE], now - c->up_since);
		return true;
	}
	hist_record(&wl->h[LAT_CONNECT], now - c->connect_start);
	c->up_since = now;	/* the handshake's start, until it is done */
	if (wl->ssl_ctx == NULL) {
		tls_log(c, "tls_handshake_failed", "no TLS context (see the "
		    "load's first error)");
		goto fail;
	}
	if ((ssl = SSL_new(wl->ssl_ctx)) == NULL)
		goto fail;
	SSL_set_ex_data(ssl, tls_conn_index, c);
	name = lc->tls.server_name != NULL ? lc->tls.server_name :
	    lc->targets[c->tgt].host;
	if (tls_name_is_ip(name)) {
		/* No SNI for an address (RFC 6066); the certificate's IP. */
		if (lc->tls.verify && X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(ssl), name) != 1)
			goto fail_ssl;
	} else if (*name != '\0') {
		/* SNI, and the name the certificate must carry. */
		(void)SSL_set_tlsext_host_name(ssl, name);
		if (lc->tls.verify && SSL_set1_host(ssl, name) != 1)
			goto fail_ssl;
	}
	if (wl->ssl_sess != NULL)
		(void)SSL_set_session(ssl, wl->ssl_sess);
	/* The connect's bufferevent leaves the socket open when freed. */
	bufferevent_free(c->bev);
	c->bev = NULL;
	bev = bufferevent_openssl_socket_new(wl->w->base, c->fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		goto fail_ssl;
	/* A peer that closes without close_notify is an EOF, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->bev = bev;
	c->handshaking = true;
	stream_setcb(c);
	tv = tv_from_s(lc->tls.handshake_timeout);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return false;

fail_ssl:
	SSL_free(ssl);
fail:
	ERR_clear_error();
	if (wl->ssl_ctx != NULL)
		tls_log(c, "tls_handshake_failed", "cannot start the "
		    "handshake");
	CTR_ADD(wl->ctr->connects_failed, 1);
	CTR_ADD(wl->tctr[c->tgt].connects_failed, 1);
	conn_fail(c, ERR_TLS_HANDSHAKE);
	return false;
}

/* Log a TLS failure with OpenSSL's reason, a few a second at most. */
static void
tls_log(struct conn *c, const char *kind, const char *reason)
{
	struct wload	*wl = c->wl;

	if (wload_errlog(wl))
		log_warnx("load %s: %s: %s: %s", wl->conf->name,
		    wl->conf->targets[c->tgt].str, kind, reason);
}

/*
 * What went wrong, by kind: the certificate refused (with X509's reason:
 * expired, untrusted, wrong name...), any other handshake failure (with
 * OpenSSL's reason: a server that does not speak TLS shows as "wrong
 * version number" or "packet length too long"), a handshake that took
 * too long, or a TLS error on an established connection.
 */
enum err_kind
tls_error_kind(struct conn *c, short what, int err)
{
	struct bufferevent	*bev = c->bev;
	unsigned long		 e = 0, first = 0;
	char			 buf[256];
	SSL			*ssl;
	long			 vr;

	if (!c->handshaking)
		goto plain;
	ssl = bufferevent_openssl_get_ssl(bev);
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (first == 0)
			first = e;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		tls_log(c, "tls_timeout", "no handshake within "
		    "tls_handshake_timeout");
		return ERR_TLS_TIMEOUT;
	}
	if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		tls_log(c, "tls_verify_failed",
		    X509_verify_cert_error_string(vr));
		return ERR_TLS_VERIFY;
	}
	if (first != 0)
		ERR_error_string_n(first, buf, sizeof(buf));
	else if (what & BEV_EVENT_EOF)
		snprintf(buf, sizeof(buf), "the server closed during the "
		    "handshake");
	else
		snprintf(buf, sizeof(buf), "%s", strerror(err));
	tls_log(c, "tls_handshake_failed", buf);
	return ERR_TLS_HANDSHAKE;

plain:
	if (c->state == CONN_UP && (what & BEV_EVENT_ERROR) &&
	    (e = bufferevent_get_openssl_error(bev)) != 0) {
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		ERR_error_string_n(e, buf, sizeof(buf));
		tls_log(c, "tls_error", buf);
		return ERR_TLS;
	}
	/* Before the handshake (the connect) or a plain end: as TCP. */
	return stream_error_kind(c, what, err);
}

/*
 * Neither bufferevent closes the socket: stream_close hands it to
 * worker_close_later.  The TLS one frees its SSL (BEV_OPT_CLOSE_ON_FREE)
 * but finds no socket in the SSL's BIO to close.
 */
void
tls_close(struct conn *c)
{
	if (c->bev == NULL) {
		/* Between the connect's bufferevent and the TLS one. */
		if (c->fd >= 0)
			worker_close_later(c->wl->w, c->fd);
		c->fd = -1;
		return;
	}
	/*
	 * An established connection ends with a close_notify (none for
	 * close = "reset"), and its session stays resumable: OpenSSL marks a
	 * session not resumable when its connection is freed without one.
	 */
	if (c->state == CONN_UP && !c->handshaking) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		if (ssl != NULL && c->wl->conf->close == CLOSE_RESET)
			SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN);
		else if (ssl != NULL)
			(void)SSL_shutdown(ssl);
		ERR_clear_error();
	}
	if (c->handshaking || c->state == CONN_UP) {
		SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);
		BIO	*bio = ssl != NULL ? SSL_get_rbio(ssl) : NULL;

		if (bio != NULL)
			(void)BIO_set_fd(bio, -1, BIO_NOCLOSE);
	}
	stream_close(c);
}
