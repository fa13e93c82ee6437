/* SPDX-License-Identifier: ISC */
/*
 * model/tlsconf.h -- what a profile's TLS settings must be, checked with
 * OpenSSL when the profile is read: a PEM file that holds a certificate
 * or a key, a version by name.  Neither logs nor exits.  Any thread.
 */
#ifndef LOADD_MODEL_TLSCONF_H
#define LOADD_MODEL_TLSCONF_H

#include <stddef.h>

struct tls_conf;

enum tls_pem_kind {
	TLS_PEM_CERT,		/* one or more certificates */
	TLS_PEM_KEY,		/* a private key */
};

/* 0 if path is a readable regular file with what kind says; else -1. */
int	 tls_pem_check(const char *path, enum tls_pem_kind kind, char *why,
	    size_t whylen);
/*
 * Build a client context from the settings as a worker will: ciphers,
 * groups, ALPN, versions, and a client certificate that matches its key.
 * 0, or -1 with the key at fault in *key and OpenSSL's reason in why.
 */
int	 tls_conf_check(const struct tls_conf *, const char **key, char *why,
	    size_t whylen);
/* "1.2" or "1.3" as OpenSSL's TLS1_2_VERSION...; 0 if unknown. */
int	 tls_version_parse(const char *);
/* The reverse, for status. */
const char *tls_version_name(int);

#endif
