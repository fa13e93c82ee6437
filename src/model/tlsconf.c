/* SPDX-License-Identifier: ISC */
/*
 * tlsconf.c -- checks of a profile's TLS files and names (see tlsconf.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "model/profile.h"
#include "model/tlsconf.h"

/* Certificates and keys are small; anything larger is not one. */
#define TLS_PEM_MAX	(4 * 1024 * 1024)

int
tls_pem_check(const char *path, enum tls_pem_kind kind, char *why,
    size_t whylen)
{
	struct stat	 st;
	FILE		*f;
	int		 fd, ok = 0;

	/* O_NONBLOCK: a FIFO must not hang the reader before fstat says so. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size > TLS_PEM_MAX) {
		snprintf(why, whylen, "larger than %d bytes", TLS_PEM_MAX);
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	ERR_clear_error();
	if (kind == TLS_PEM_CERT) {
		X509	*x;

		while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
			ok++;
			X509_free(x);
		}
	} else {
		EVP_PKEY	*k;
		char		 empty[1] = "";

		/* An encrypted key would ask for a passphrase: refuse it. */
		if ((k = PEM_read_PrivateKey(f, NULL, NULL, empty)) != NULL) {
			ok = 1;
			EVP_PKEY_free(k);
		}
	}
	ERR_clear_error();
	fclose(f);
	if (ok == 0) {
		snprintf(why, whylen, kind == TLS_PEM_CERT ?
		    "no PEM certificate in it" :
		    "no unencrypted PEM private key in it");
		return -1;
	}
	return 0;
}

static int
tls_conf_fail(const char **key, const char *k, char *why, size_t whylen)
{
	char	 buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	ERR_clear_error();
	*key = k;
	snprintf(why, whylen, "%s", buf);
	return -1;
}

int
tls_conf_check(const struct tls_conf *tc, const char **key, char *why,
    size_t whylen)
{
	SSL_CTX	*ctx;
	int	 rc = -1;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return tls_conf_fail(key, "protocol", why, whylen);
	if (tc->ciphers != NULL &&
	    SSL_CTX_set_cipher_list(ctx, tc->ciphers) != 1)
		tls_conf_fail(key, "tls_ciphers", why, whylen);
	else if (tc->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, tc->ciphersuites) != 1)
		tls_conf_fail(key, "tls_ciphersuites", why, whylen);
	else if (tc->groups != NULL &&
	    SSL_CTX_set1_groups_list(ctx, tc->groups) != 1)
		tls_conf_fail(key, "tls_groups", why, whylen);
	else if (tc->min_version != 0 &&
	    SSL_CTX_set_min_proto_version(ctx, tc->min_version) != 1)
		tls_conf_fail(key, "tls_min_version", why, whylen);
	else if (tc->max_version != 0 &&
	    SSL_CTX_set_max_proto_version(ctx, tc->max_version) != 1)
		tls_conf_fail(key, "tls_max_version", why, whylen);
	else if (tc->cert != NULL &&
	    SSL_CTX_use_certificate_chain_file(ctx, tc->cert) != 1)
		tls_conf_fail(key, "tls_cert", why, whylen);
	else if (tc->cert != NULL && (SSL_CTX_use_PrivateKey_file(ctx,
	    tc->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1))
		tls_conf_fail(key, "tls_key", why, whylen);
	else
		rc = 0;
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
tls_version_parse(const char *s)
{
	if (strcmp(s, "1.2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(s, "1.3") == 0)
		return TLS1_3_VERSION;
	return 0;
}

const char *
tls_version_name(int v)
{
	switch (v) {
	case TLS1_2_VERSION:
		return "1.2";
	case TLS1_3_VERSION:
		return "1.3";
	default:
		return "default";
	}
}
