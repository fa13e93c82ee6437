/*
 * stats.c -- error kinds and the merging of per-worker counters.
 */
#include <errno.h>
#include <string.h>

#include "loadd.h"

/* Names used in the stats JSON: scripts and dashboards rely on them. */
const char *const err_kind_names[ERR_MAX] = {
	[ERR_REFUSED] = "refused",
	[ERR_RESET] = "reset",
	[ERR_TIMEOUT] = "timeout",
	[ERR_CLOSED] = "closed_by_peer",
	[ERR_ADDRNOTAVAIL] = "address_not_available",
	[ERR_NOFILE] = "too_many_open_files",
	[ERR_UNREACHABLE] = "unreachable",
	[ERR_OTHER] = "other",
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
	case EADDRNOTAVAIL:
	case EADDRINUSE:
		return ERR_ADDRNOTAVAIL;
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

void
stats_snap_add_counters(struct stats_snap *s, const struct load_counters *c)
{
	s->connects_ok += CTR_GET(c->connects_ok);
	s->connects_failed += CTR_GET(c->connects_failed);
	s->disconnects += CTR_GET(c->disconnects);
	s->bytes_sent += CTR_GET(c->bytes_sent);
	s->bytes_received += CTR_GET(c->bytes_received);
	s->messages_sent += CTR_GET(c->messages_sent);
	for (int i = 0; i < ERR_MAX; i++)
		s->errors[i] += CTR_GET(c->errors[i]);
	s->connecting += CTR_GET(c->connecting);
	s->active += CTR_GET(c->active);
}

void
stats_snap_add(struct stats_snap *s, const struct stats_snap *o)
{
	s->connects_ok += o->connects_ok;
	s->connects_failed += o->connects_failed;
	s->disconnects += o->disconnects;
	s->bytes_sent += o->bytes_sent;
	s->bytes_received += o->bytes_received;
	s->messages_sent += o->messages_sent;
	for (int i = 0; i < ERR_MAX; i++)
		s->errors[i] += o->errors[i];
	s->connecting += o->connecting;
	s->active += o->active;
}
