/* SPDX-License-Identifier: ISC */
/*
 * counters.c -- error kinds and the merging of per-worker counters.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "measure/counters.h"

/* Names used in the stats JSON: scripts and dashboards rely on them. */
const char *const err_kind_names[ERR_MAX] = {
#define X(e, name)	[ERR_##e] = name,
	LOADD_ERR_KINDS(X)
#undef X
};

enum err_kind
err_kind_from_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return ERR_REFUSED;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return ERR_RESET;
	case ETIMEDOUT:
		return ERR_TIMEOUT;
	/*
	 * From connect() (with no port bound, the kernel picks one there):
	 * no ephemeral port is free for this source and destination.
	 */
	case EADDRNOTAVAIL:
	case EADDRINUSE:
		return ERR_PORTS;
	case EMFILE:
	case ENFILE:
		return ERR_NOFILE;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
		return ERR_UNREACHABLE;
	default:
		return ERR_OTHER;
	}
}

/*
 * bind() of a source address with port 0 says EADDRNOTAVAIL when the
 * address is not one of this host's (a mistake in `sources`, or an
 * address taken down), and EADDRINUSE when no port is left (only when
 * IP_BIND_ADDRESS_NO_PORT could not be set, else the port is picked at
 * connect()).
 */
enum err_kind
err_kind_from_bind_errno(int e)
{
	switch (e) {
	case EADDRNOTAVAIL:
		return ERR_ADDRNOTAVAIL;
	case EADDRINUSE:
		return ERR_PORTS;
	default:
		return err_kind_from_errno(e);
	}
}

const size_t counter_off[KC_MAX] = {
#define X(f, ...)	[KC_##f] = offsetof(struct stats_snap, f),
	LOADD_COUNTERS(X)
#undef X
};

const size_t gauge_off[KG_MAX] = {
#define X(f, ...)	[KG_##f] = offsetof(struct stats_snap, f),
	LOADD_GAUGES(X)
#undef X
};

void
stats_snap_add_counters(struct stats_snap *s, const struct load_counters *c)
{
#define X(f, ...)	s->f += CTR_GET(c->f);
	LOADD_COUNTERS(X)
	LOADD_GAUGES(X)
#undef X
	for (int i = 0; i < ERR_MAX; i++)
		s->errors[i] += CTR_GET(c->errors[i]);
}

void
stats_snap_add(struct stats_snap *s, const struct stats_snap *o)
{
#define X(f, ...)	s->f += o->f;
	LOADD_COUNTERS(X)
	LOADD_GAUGES(X)
#undef X
	for (int i = 0; i < ERR_MAX; i++)
		s->errors[i] += o->errors[i];
}

const char *const lat_kind_names[LAT_MAX] = {
	[LAT_LATENCY] = "latency_us",
	[LAT_SERVICE] = "service_us",
	[LAT_TTFB] = "ttfb_us",
	[LAT_CONNECT] = "connect_us",
	[LAT_HANDSHAKE] = "tls_handshake_us",
};
