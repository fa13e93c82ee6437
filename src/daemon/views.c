/* SPDX-License-Identifier: ISC */
/*
 * views.c -- the JSON views of the loads that the control socket, `watch`
 * and the results log send: counters, rates, epochs and latency.  Main
 * thread only.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/keys.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "daemon/views.h"
#include "model/tlsconf.h"
#include "measure/counters.h"
#include "measure/hdrlog.h"
#include "measure/hist.h"

static void
views_gauges(json_t *o, const struct stats_snap *s)
{
	for (size_t g = 0; g < KG_MAX; g++)
		json_object_set_new(o, key_gauges[g].key,
		    json_integer((json_int_t)stats_snap_gauge(s, g)));
}

static void
views_rates(json_t *o, const struct stats_snap *r)
{
	for (size_t k = 0; k < KC_MAX; k++) {
		if (key_counters[k].rate_key != NULL)
			json_object_set_new(o, key_counters[k].rate_key,
			    json_integer((json_int_t)stats_snap_get(r, k)));
	}
}

/* Every counter, the errors by kind, the gauges and the rates. */
static json_t *
views_counters(const struct stats_snap *s, const struct stats_snap *r)
{
	json_t	*o = json_object(), *errs = json_object();

	views_gauges(o, s);
	for (size_t k = 0; k < KC_MAX; k++)
		json_object_set_new(o, key_counters[k].key,
		    json_integer((json_int_t)stats_snap_get(s, k)));
	for (int i = 0; i < ERR_MAX; i++)
		json_object_set_new(errs, err_kind_names[i],
		    json_integer((json_int_t)s->errors[i]));
	json_object_set_new(o, KEY_ERRORS, errs);
	views_rates(o, r);
	return o;
}

/* Percentiles of one histogram, in microseconds. */
json_t *
views_hist(const struct hist *h)
{
	json_t	*o = json_object();

	json_object_set_new(o, KEY_HIST_COUNT,
	    json_integer((json_int_t)h->total));
	json_object_set_new(o, KEY_HIST_MEAN, json_real(hist_mean(h) / 1e3));
#define X(key, p, quantile)						\
	json_object_set_new(o, key,					\
	    json_real((double)hist_percentile(h, p) / 1e3));
	LOADD_PERCENTILES(X)
#undef X
	json_object_set_new(o, KEY_HIST_MAX,
	    json_real((double)h->max_ns / 1e3));
	return o;
}

/* While a `scale --over` runs: where it goes and how long it has left. */
void
views_ramp(json_t *o, const struct load *l)
{
	double	 left;

	if (l->ramp == NULL)
		return;
	left = l->ramp_t0 + l->ramp_len - now_mono();
	json_object_set_new(o, "ramp", json_pack("{s:i,s:i,s:f,s:f}", "from",
	    l->ramp_from, "to", l->ramp_to, "remaining_s", left > 0 ? left : 0,
	    "over_s", l->ramp_len));
}

/*
 * start --at: while armed, when the load starts (wall clock) and in how
 * long by the daemon's clock; once started, when the last start really
 * happened, and for an armed start how late that was.
 */
void
views_start(json_t *o, const struct load *l)
{
	double	 in;

	if (l->arm != NULL) {
		in = l->arm_at - now_wall();
		json_object_set_new(o, "starts_at", json_real(l->arm_at));
		json_object_set_new(o, "starts_in_s", json_real(in > 0 ? in :
		    0));
	}
	if (l->started_at != 0)
		json_object_set_new(o, "started_at", json_real(l->started_at));
	if (l->started_at != 0 && l->started_for != 0)
		json_object_set_new(o, "start_skew_s",
		    json_real(l->started_at - l->started_for));
}

/*
 * A load with a duration: how long it runs, and while it runs, the time
 * left.  The run began at run_start (wall clock), when the duration timer
 * was armed.
 */
static void
views_duration(json_t *o, const struct load *l)
{
	double	 left;

	if (l->conf->duration <= 0)
		return;
	json_object_set_new(o, "duration_s", json_real(l->conf->duration));
	if (l->state != LOAD_RUNNING || l->run_start == 0)
		return;
	left = l->run_start + l->conf->duration - now_wall();
	json_object_set_new(o, "time_left_s", json_real(left > 0 ? left : 0));
}

/*
 * Latency of a load: for request latency and service time the last
 * interval, the current epoch and the whole run; for time to first byte
 * and connect time the whole run.
 */
static void
views_latency(json_t *o, const struct load *l)
{
	for (int k = 0; k < LAT_MAX; k++) {
		json_t	*h;

		if (!load_lat_kept(l->conf, k))
			continue;
		h = json_object();
		if (k == LAT_LATENCY || k == LAT_SERVICE) {
			json_object_set_new(h, "interval",
			    views_hist(&l->ival[k]));
			json_object_set_new(h, "epoch",
			    views_hist(&l->epoch_h[k]));
		}
		json_object_set_new(h, "run", views_hist(&l->run[k]));
		json_object_set_new(o, lat_kind_names[k], h);
	}
}

/* The current epoch: what began it, and the counts since. */
static json_t *
views_epoch(const struct load *l, const struct stats_snap *s)
{
	const struct stats_snap	*b = &l->epoch_base;
	uint64_t		 errs = 0;

	for (int i = 0; i < ERR_MAX; i++)
		errs += s->errors[i] - b->errors[i];
	return json_pack("{s:i,s:s,s:f,s:f,s:I,s:I,s:I,s:I,s:I}",
	    "number", (int)l->epoch, "cause", l->epoch_cause,
	    "start", l->epoch_start, "seconds", now_wall() - l->epoch_start,
	    key_counters[KC_messages_sent].key,
	    (json_int_t)(s->messages_sent - b->messages_sent),
	    key_counters[KC_replies].key, (json_int_t)(s->replies - b->replies),
	    key_counters[KC_late].key, (json_int_t)(s->late - b->late),
	    key_counters[KC_bytes_sent].key,
	    (json_int_t)(s->bytes_sent - b->bytes_sent),
	    KEY_ERRORS, (json_int_t)errs);
}

static const char *const views_protocol_names[] = {
	[PROTO_TCP] = "tcp",
	[PROTO_TLS] = "tls",
	[PROTO_UDP] = "udp",
};

const char *
views_mode(const struct load *l)
{
	if (l->conf->idle)
		return "idle";
	return l->rate > 0 ? "paced" : "flood";
}

/*
 * Each target with its connections: the main thread's split keeps the
 * connection counts of targets at most one apart.
 */
static json_t *
views_targets(const struct load *l)
{
	json_t			*a = json_array();
	struct target_snap	 t;

	for (int i = 0; i < l->conf->ntargets; i++) {
		load_shared_target(l->sh, i, &t);
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I}",
		    "target", l->conf->targets[i].str,
		    key_gauges[KG_active].key, (json_int_t)t.active,
		    key_counters[KC_connects_ok].key,
		    (json_int_t)t.connects_ok,
		    key_counters[KC_connects_failed].key,
		    (json_int_t)t.connects_failed,
		    key_counters[KC_disconnects].key,
		    (json_int_t)t.disconnects));
	}
	return a;
}

/* What a TLS load checks and offers; an unverified one says so. */
static json_t *
views_tls(const struct load_conf *lc)
{
	const struct tls_conf	*t = &lc->tls;
	json_t			*o = json_object();

	json_object_set_new(o, "verify", json_boolean(t->verify));
	if (!t->verify)
		json_object_set_new(o, "warning", json_string("certificates "
		    "are not verified (tls_verify = false)"));
	json_object_set_new(o, "ca", t->ca != NULL ? json_string(t->ca) :
	    json_string("system"));
	if (t->server_name != NULL)
		json_object_set_new(o, "server_name",
		    json_string(t->server_name));
	json_object_set_new(o, "resume", json_boolean(t->resume));
	json_object_set_new(o, "client_cert", json_boolean(t->cert != NULL));
	json_object_set_new(o, "min_version",
	    json_string(tls_version_name(t->min_version)));
	json_object_set_new(o, "max_version",
	    json_string(tls_version_name(t->max_version)));
	return o;
}

/* The load's source addresses as strings; [] when the kernel chooses. */
static json_t *
views_sources(const struct load_conf *lc)
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
views_load(const struct load *l, bool counters)
{
	struct stats_snap	 s;
	json_t			*o;
	int			 target = l->state == LOAD_RUNNING ? l->target : 0;

	load_snapshot(l, &s);
	if (counters)
		o = views_counters(&s, &l->rates);
	else {
		/* status: the gauges and the rates */
		o = json_object();
		views_gauges(o, &s);
		views_rates(o, &l->rates);
	}
	json_object_set_new(o, "name", json_string(l->conf->name));
	json_object_set_new(o, "id", json_integer(l->id));
	json_object_set_new(o, "state", json_string(load_state_name(l)));
	json_object_set_new(o, "target", json_string(l->conf->target));
	json_object_set_new(o, KEY_TARGET, json_integer(target));
	json_object_set_new(o, "connections_scale", json_integer(l->target));
	json_object_set_new(o, "max_connections",
	    json_integer(l->conf->max_connections));
	json_object_set_new(o, "mode", json_string(views_mode(l)));
	json_object_set_new(o, "rate", json_real(l->rate));
	json_object_set_new(o, "protocol", json_string(
	    views_protocol_names[l->conf->protocol]));
	json_object_set_new(o, "targets", views_targets(l));
	if (l->conf->protocol == PROTO_TLS)
		json_object_set_new(o, "tls", views_tls(l->conf));
	json_object_set_new(o, "message_size",
	    json_integer((json_int_t)l->conf->size));
	json_object_set_new(o, "connects_inflight",
	    json_integer(l->conf->connects_inflight));
	json_object_set_new(o, "sources", views_sources(l->conf));
	json_object_set_new(o, "epoch", views_epoch(l, &s));
	if (l->run != NULL) {
		if (counters)
			views_latency(o, l);
		else if (load_lat_kept(l->conf, LAT_LATENCY)) {
			/* status: the last interval's p50 and p99 only */
			json_object_set_new(o, "latency_p50_us", json_real(
			    (double)hist_percentile(&l->ival[LAT_LATENCY],
			    50) / 1e3));
			json_object_set_new(o, "latency_p99_us", json_real(
			    (double)hist_percentile(&l->ival[LAT_LATENCY],
			    99) / 1e3));
		}
	}
	views_ramp(o, l);
	views_start(o, l);
	views_duration(o, l);
	if (l->lease != NULL)
		json_object_set_new(o, "lease", json_pack("{s:f,s:f}",
		    "length_s", l->lease_len, "left_s", l->lease_end >
		    now_mono() ? l->lease_end - now_mono() : 0.0));
	if (l->conf->nobjectives > 0)
		json_object_set_new(o, "objectives", objectives_view(l));
	return o;
}

json_t *
views_stats(const char *only)
{
	struct daemon		*d = daemon_g;
	struct load		*l;
	struct stats_snap	 total = d->retired, rates = { 0 }, s;
	json_t			*loads = json_array(), *o, *t;
	int			 target = 0;

	TAILQ_FOREACH(l, &d->loads, entry) {
		load_snapshot(l, &s);
		stats_snap_add(&total, &s);
		stats_snap_add(&rates, &l->rates);
		if (l->state == LOAD_RUNNING)
			target += l->target;
		if (only == NULL || strcmp(l->conf->name, only) == 0)
			json_array_append_new(loads, views_load(l, true));
	}
	t = views_counters(&total, &rates);
	json_object_set_new(t, KEY_TARGET, json_integer(target));
	o = json_pack("{s:b}", "ok", 1);
	json_object_set_new(o, "time", json_real(now_wall()));
	json_object_set_new(o, "uptime",
	    json_real(now_wall() - d->started_at));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "interval",
	    json_real(d->interval_len > 0 ? d->interval_len :
	    d->profile->daemon.stats_interval));
	json_object_set_new(o, "loads", loads);
	json_object_set_new(o, "total", t);
	return o;
}

/*
 * A histogram kind's name in the histogram reply: its name in stats
 * without the "_us" (the encoded values are nanoseconds).
 */
static void
views_kind_name(int kind, char *buf, size_t len)
{
	const char	*n = lat_kind_names[kind];
	size_t		 k = strlen(n);

	if (k > 3 && strcmp(n + k - 3, "_us") == 0)
		k -= 3;
	snprintf(buf, len, "%.*s", (int)k, n);
}

/*
 * One period's histograms of a load (h[LAT_MAX]), each kind the load
 * keeps as base64 in enc and its count in counts.  -1 with a reason if
 * one does not encode.
 */
static int
views_hist_period(const struct load *l, const struct hist *h, json_t *enc,
    json_t *counts, char *why, size_t whylen)
{
	char	 name[32], *b64;

	for (int k = 0; h != NULL && k < LAT_MAX; k++) {
		if (!load_lat_kept(l->conf, k))
			continue;
		if ((b64 = hdr_encode_base64(&h[k], why, whylen)) == NULL)
			return -1;
		views_kind_name(k, name, sizeof(name));
		json_object_set_new(enc, name, json_string(b64));
		json_object_set_new(counts, name,
		    json_integer((json_int_t)h[k].total));
		free(b64);
	}
	return 0;
}

/*
 * The histogram reply: every load's (or only's) histograms of the whole
 * run, the current epoch and the last interval, encoded as the
 * HdrHistogram log encodes them (measure/hdrlog.h), with the layout they
 * share, so that histograms of several daemons can be merged bucket by
 * bucket.  They are the ones stats takes its percentiles from, as of the
 * last tick.  NULL with a reason if one does not encode.
 */
json_t *
views_histograms(const char *only, char *why, size_t whylen)
{
	static const char *const periods[] = { "run", "epoch", "interval" };
	struct daemon	*d = daemon_g;
	struct load	*l;
	json_t		*o, *loads = json_array();

	o = json_pack("{s:b,s:f,s:f,s:{s:s,s:I,s:I,s:i}}", "ok", 1,
	    "time", now_wall(), "interval", d->interval_len > 0 ?
	    d->interval_len : d->profile->daemon.stats_interval,
	    "layout", "encoding", "hdr-v2-base64",
	    "lowest_ns", (json_int_t)HIST_LOWEST_NS,
	    "highest_ns", (json_int_t)HIST_HIGHEST_NS,
	    "sigdigits", HIST_SIGDIGITS);
	json_object_set_new(o, "loads", loads);
	TAILQ_FOREACH(l, &d->loads, entry) {
		const struct hist	*h[] = { l->run, l->epoch_h, l->ival };
		json_t			*lo, *counts;

		if (only != NULL && strcmp(l->conf->name, only) != 0)
			continue;
		counts = json_object();
		lo = json_pack("{s:s,s:i}", "name", l->conf->name, "id", l->id);
		json_array_append_new(loads, lo);
		for (size_t p = 0; p < NELEM(periods); p++) {
			json_t	*enc = json_object(), *c = json_object();

			json_object_set_new(lo, periods[p], enc);
			json_object_set_new(counts, periods[p], c);
			if (views_hist_period(l, h[p], enc, c, why,
			    whylen) == -1) {
				json_decref(counts);
				json_decref(o);
				return NULL;
			}
		}
		json_object_set_new(lo, "counts", counts);
	}
	return o;
}
