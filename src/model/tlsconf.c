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
