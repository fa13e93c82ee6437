/*
 * stats.c -- error kinds and the merging of per-worker counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "loadd.h"

/* Names used in the stats JSON: scripts and dashboards rely on them. */
const char *const err_kind_names[ERR_MAX] = {
	[ERR_REFUSED] = "refused",
	[ERR_RESET] = "reset",
	[ERR_TIMEOUT] = "timeout",
	[ERR_CLOSED] = "closed_by_peer",
	[ERR_ADDRNOTAVAIL] = "address_not_available",
	[ERR_PORTS] = "local_ports_exhausted",
	[ERR_NOFILE] = "too_many_open_files",
	[ERR_UNREACHABLE] = "unreachable",
	[ERR_MISMATCH] = "mismatch",
	[ERR_UNSOLICITED] = "unsolicited",
	[ERR_SHORT_REPLY] = "short_reply",
	[ERR_REPLY_TIMEOUT] = "reply_timeout",
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

void
stats_snap_add_counters(struct stats_snap *s, const struct load_counters *c)
{
	s->connects_ok += CTR_GET(c->connects_ok);
	s->connects_failed += CTR_GET(c->connects_failed);
	s->disconnects += CTR_GET(c->disconnects);
	s->bytes_sent += CTR_GET(c->bytes_sent);
	s->bytes_received += CTR_GET(c->bytes_received);
	s->messages_sent += CTR_GET(c->messages_sent);
	s->replies += CTR_GET(c->replies);
	s->late += CTR_GET(c->late);
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
	s->replies += o->replies;
	s->late += o->late;
	for (int i = 0; i < ERR_MAX; i++)
		s->errors[i] += o->errors[i];
	s->connecting += o->connecting;
	s->active += o->active;
}

/* ------------------------------------------------------------- JSON */

const char *const lat_kind_names[LAT_MAX] = {
	[LAT_LATENCY] = "latency_us",
	[LAT_SERVICE] = "service_us",
	[LAT_TTFB] = "ttfb_us",
	[LAT_CONNECT] = "connect_us",
};

static json_t *
stats_counters_json(const struct stats_snap *s, const struct stats_snap *r)
{
	json_t	*o, *errs = json_object();

	for (int i = 0; i < ERR_MAX; i++)
		json_object_set_new(errs, err_kind_names[i],
		    json_integer((json_int_t)s->errors[i]));
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:I,s:I,s:I}",
	    "connections_active", (json_int_t)s->active,
	    "connections_connecting", (json_int_t)s->connecting,
	    "connects_ok", (json_int_t)s->connects_ok,
	    "connects_failed", (json_int_t)s->connects_failed,
	    "disconnects", (json_int_t)s->disconnects,
	    "errors", errs,
	    "bytes_sent", (json_int_t)s->bytes_sent,
	    "bytes_received", (json_int_t)s->bytes_received,
	    "messages_sent", (json_int_t)s->messages_sent,
	    "replies", (json_int_t)s->replies,
	    "late", (json_int_t)s->late,
	    "bytes_sent_per_s", (json_int_t)r->bytes_sent,
	    "bytes_received_per_s", (json_int_t)r->bytes_received,
	    "messages_sent_per_s", (json_int_t)r->messages_sent,
	    "replies_per_s", (json_int_t)r->replies);
	return o;
}

/* Percentiles of one histogram, in microseconds. */
json_t *
stats_hist_json(const struct hist *h)
{
	static const struct {
		const char	*name;
		double		 p;
	} pct[] = {
		{ "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p99.9", 99.9 },
		{ "p99.99", 99.99 },
	};
	json_t	*o = json_object();

	json_object_set_new(o, "count", json_integer((json_int_t)h->total));
	json_object_set_new(o, "mean", json_real(hist_mean(h) / 1e3));
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		json_object_set_new(o, pct[i].name,
		    json_real((double)hist_percentile(h, pct[i].p) / 1e3));
	json_object_set_new(o, "max", json_real((double)h->max_ns / 1e3));
	return o;
}

/* While a `scale --over` runs: where it goes and how long it has left. */
void
stats_ramp_json(json_t *o, const struct load *l)
{
	double	 left;

	if (l->ramp == NULL)
		return;
	left = l->ramp_t0 + l->ramp_len - (double)now_ns() / 1e9;
	json_object_set_new(o, "ramp", json_pack("{s:i,s:i,s:f}", "from",
	    l->ramp_from, "to", l->ramp_to, "remaining_s", left > 0 ? left : 0));
}

/*
 * Latency of a load: for request latency and service time the last
 * interval, the current epoch and the whole run; for time to first byte
 * and connect time the whole run.
 */
static void
stats_latency_json(json_t *o, const struct load *l)
{
	for (int k = 0; k < LAT_MAX; k++) {
		json_t	*h = json_object();

		if (k == LAT_LATENCY || k == LAT_SERVICE) {
			json_object_set_new(h, "interval",
			    stats_hist_json(&l->ival[k]));
			json_object_set_new(h, "epoch",
			    stats_hist_json(&l->epoch_h[k]));
		}
		json_object_set_new(h, "run", stats_hist_json(&l->run[k]));
		json_object_set_new(o, lat_kind_names[k], h);
	}
}

/* The current epoch: what began it, and the counts since. */
static json_t *
stats_epoch_json(const struct load *l, const struct stats_snap *s)
{
	const struct stats_snap	*b = &l->epoch_base;
	uint64_t		 errs = 0;

	for (int i = 0; i < ERR_MAX; i++)
		errs += s->errors[i] - b->errors[i];
	return json_pack("{s:i,s:s,s:f,s:f,s:I,s:I,s:I,s:I,s:I}",
	    "number", (int)l->epoch, "cause", l->epoch_cause,
	    "start", l->epoch_start, "seconds", now_wall() - l->epoch_start,
	    "messages_sent", (json_int_t)(s->messages_sent - b->messages_sent),
	    "replies", (json_int_t)(s->replies - b->replies),
	    "late", (json_int_t)(s->late - b->late),
	    "bytes_sent", (json_int_t)(s->bytes_sent - b->bytes_sent),
	    "errors", (json_int_t)errs);
}

/* The load's source addresses as strings; [] when the kernel chooses. */
static json_t *
stats_sources_json(const struct load_conf *lc)
{
	json_t	*a = json_array();
	char	 host[INET6_ADDRSTRLEN];

	for (int i = 0; i < lc->nsources; i++) {
		const struct sockaddr_storage	*ss = &lc->sources[i];
		const void			*addr;

		addr = ss->ss_family == AF_INET6 ?
		    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
		if (inet_ntop(ss->ss_family, addr, host, sizeof(host)) != NULL)
			json_array_append_new(a, json_string(host));
	}
	return a;
}

json_t *
stats_load_json(const struct load *l, bool counters)
{
	struct stats_snap	 s;
	json_t			*o;
	int			 target = l->state == LOAD_RUNNING ? l->target : 0;

	load_snapshot(l, &s);
	if (counters)
		o = stats_counters_json(&s, &l->rates);
	else
		o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
		    "connections_active", (json_int_t)s.active,
		    "connections_connecting", (json_int_t)s.connecting,
		    "messages_sent_per_s", (json_int_t)l->rates.messages_sent,
		    "replies_per_s", (json_int_t)l->rates.replies,
		    "bytes_sent_per_s", (json_int_t)l->rates.bytes_sent,
		    "bytes_received_per_s",
		    (json_int_t)l->rates.bytes_received);
	json_object_set_new(o, "name", json_string(l->conf->name));
	json_object_set_new(o, "state",
	    json_string(load_state_names[l->state]));
	json_object_set_new(o, "target", json_string(l->conf->target));
	json_object_set_new(o, "connections_target", json_integer(target));
	json_object_set_new(o, "connections_scale", json_integer(l->target));
	json_object_set_new(o, "max_connections",
	    json_integer(l->conf->max_connections));
	json_object_set_new(o, "mode", json_string(l->rate > 0 ? "paced" :
	    "flood"));
	json_object_set_new(o, "rate", json_real(l->rate));
	json_object_set_new(o, "message_size",
	    json_integer((json_int_t)l->conf->size));
	json_object_set_new(o, "connects_inflight",
	    json_integer(l->conf->connects_inflight));
	json_object_set_new(o, "sources", stats_sources_json(l->conf));
	json_object_set_new(o, "epoch", stats_epoch_json(l, &s));
	if (l->run != NULL) {
		if (counters)
			stats_latency_json(o, l);
		else {
			/* status: the last interval's p50 and p99 only */
			json_object_set_new(o, "latency_p50_us", json_real(
			    (double)hist_percentile(&l->ival[LAT_LATENCY],
			    50) / 1e3));
			json_object_set_new(o, "latency_p99_us", json_real(
			    (double)hist_percentile(&l->ival[LAT_LATENCY],
			    99) / 1e3));
		}
	}
	stats_ramp_json(o, l);
	return o;
}

json_t *
stats_json(const char *only)
{
	struct load		*l;
	struct stats_snap	 total = daemon_g->retired, rates = { 0 }, s;
	json_t			*loads = json_array(), *o, *t;
	int			 target = 0;

	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		load_snapshot(l, &s);
		stats_snap_add(&total, &s);
		stats_snap_add(&rates, &l->rates);
		if (l->state == LOAD_RUNNING)
			target += l->target;
		if (only == NULL || strcmp(l->conf->name, only) == 0)
			json_array_append_new(loads, stats_load_json(l, true));
	}
	t = stats_counters_json(&total, &rates);
	json_object_set_new(t, "connections_target", json_integer(target));
	o = json_pack("{s:b}", "ok", 1);
	json_object_set_new(o, "time", json_real(now_wall()));
	json_object_set_new(o, "interval",
	    json_real(daemon_g->interval_len > 0 ? daemon_g->interval_len :
	    daemon_g->profile->daemon.stats_interval));
	json_object_set_new(o, "loads", loads);
	json_object_set_new(o, "total", t);
	return o;
}
