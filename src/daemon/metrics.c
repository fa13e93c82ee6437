/* SPDX-License-Identifier: ISC */
/*
 * metrics.c -- the Prometheus endpoint: GET /metrics in the text exposition
 * format 0.0.4, served by libevent's evhttp on the main thread.
 *
 * The page is built from the same sources as `loadctl stats`: counters and
 * connection gauges from load_snapshot() (the workers' atomics), latency
 * from the whole-run histograms, which only the main thread touches, cut
 * into Prometheus histograms with fixed buckets.  The endpoint is off
 * unless the profile sets metrics_listen.  Every series carries the label
 * host (daemon.host, or the machine's host name), so that the pages of a
 * fleet of load hosts add up in Prometheus without relabelling.
 */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "common/cmd.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "measure/counters.h"
#include "measure/hist.h"

/*
 * Limits.  A scraper needs one connection and one small request; these keep
 * a hung or hostile one from piling up descriptors or memory.  Connections
 * beyond METRICS_MAX_CONNS wait in the kernel's backlog until one closes,
 * or until the sweep gives them the slot of a slow one.
 */
#define METRICS_MAX_CONNS	16
#define METRICS_BACKLOG		16
#define METRICS_TIMEOUT		10	/* s: read, write, idle keep-alive */
/*
 * Slow clients.  evhttp's timeout restarts at every byte, so a client
 * trickling one byte a second would hold its slot for ever: a connection
 * must complete a request within METRICS_TIMEOUT of being accepted or of
 * its last reply.  And when all slots are taken while another scraper
 * waits, the connection that has waited longest for a request gives up
 * its slot: after METRICS_GRACE if it has begun one (bytes wait unparsed),
 * after METRICS_TIMEOUT / 2 if it has sent nothing.  The sweep checks both.
 */
#define METRICS_GRACE		1.0	/* s */
#define METRICS_SWEEP_MS	250
#define METRICS_MAX_HEADERS	8192	/* request line and headers, bytes */
#define METRICS_MAX_BODY	1024	/* GET has none; bounds a POST's */

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Append a string literal. */
#define ADD_LIT(b, s)		evbuffer_add((b), (s), sizeof(s) - 1)

static struct {
	struct evhttp		*http;
	struct evconnlistener	*listener;	/* freed by evhttp_free */
	struct event		*resume;	/* accept again after EMFILE */
	struct event		*settle;	/* adopt fresh connections */
	/* accepted this loop pass, not yet given a close callback */
	struct bufferevent	*fresh[METRICS_MAX_CONNS];
	int			 nfresh;
	int			 nconns;	/* open HTTP connections */
	/* settled connections, and since when each waits for a request */
	struct evhttp_connection *conns[METRICS_MAX_CONNS];
	double			 since[METRICS_MAX_CONNS];	/* mono s */
	int			 ntracked;
	struct event		*sweep;
	bool			 closing;
	uint64_t		 started;	/* ns, monotonic */
	/* gethostname() at start: the host label without daemon.host */
	char			 hostname[PROFILE_HOST_MAX + 1];
	const char		*host;		/* the page being built's */
} mx;

/* ------------------------------------------------------- the page */

/* A label value, escaped as the format asks: \\, \" and \n. */
static void
metrics_label(struct evbuffer *b, const char *s)
{
	size_t	 n;

	for (;;) {
		n = strcspn(s, "\\\"\n");
		evbuffer_add(b, s, n);
		s += n;
		switch (*s) {
		case '\0':
			return;
		case '\\':
			ADD_LIT(b, "\\\\");
			break;
		case '"':
			ADD_LIT(b, "\\\"");
			break;
		default:
			ADD_LIT(b, "\\n");
			break;
		}
		s++;
	}
}

/* A sample value: Go's float syntax, with NaN and infinities spelled out. */
static void
metrics_double(struct evbuffer *b, double v)
{
	if (isnan(v))
		evbuffer_add_printf(b, "NaN\n");
	else if (isinf(v))
		evbuffer_add_printf(b, "%sInf\n", v > 0 ? "+" : "-");
	else
		evbuffer_add_printf(b, "%.15g\n", v);
}

static void
metrics_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/*
 * `name{host="HOST"` -- the caller adds its own labels, closes the braces
 * and adds the value.  Every series starts here.
 */
static void
metrics_series(struct evbuffer *b, const char *name)
{
	evbuffer_add_printf(b, "%s{host=\"", name);
	metrics_label(b, mx.host);
	ADD_LIT(b, "\"");
}

/* `name{host="HOST",load="LOAD"` -- as metrics_series. */
static void
metrics_open(struct evbuffer *b, const char *name, const char *load)
{
	metrics_series(b, name);
	ADD_LIT(b, ",load=\"");
	metrics_label(b, load);
	ADD_LIT(b, "\"");
}

static void
metrics_u64(struct evbuffer *b, const char *name, const char *load,
    uint64_t v)
{
	metrics_open(b, name, load);
	evbuffer_add_printf(b, "} %" PRIu64 "\n", v);
}

static void
metrics_i64(struct evbuffer *b, const char *name, const char *load,
    int64_t v)
{
	metrics_open(b, name, load);
	evbuffer_add_printf(b, "} %" PRId64 "\n", v);
}

static void
metrics_dbl(struct evbuffer *b, const char *name, const char *load, double v)
{
	metrics_open(b, name, load);
	ADD_LIT(b, "} ");
	metrics_double(b, v);
}

/*
 * Objectives: one series per load and objective, labelled with its text
 * as normalized: 1 while it is missed (failed for its grace), 0 while it
 * holds or has no data yet; and the misses of this run.
 */
static void
metrics_objectives(struct evbuffer *b, const struct daemon *d)
{
	static const char *const name[2] = { "loadd_objective_missed",
	    "loadd_objective_misses" };
	const struct load	*l;
	bool			 any = false;

	TAILQ_FOREACH(l, &d->loads, entry)
		any = any || l->conf->nobjectives > 0;
	if (!any)
		return;
	for (int k = 0; k < 2; k++) {
		metrics_head(b, name[k], "gauge", k == 0 ?
		    "1 while the load's objective is missed (it failed for its "
		    "grace), else 0." :
		    "Times the load's objective began to be missed in this "
		    "run.");
		TAILQ_FOREACH(l, &d->loads, entry) {
			for (int i = 0; i < l->conf->nobjectives; i++) {
				const struct obj_state *st = l->obj_st != NULL ?
				    &l->obj_st[i] : NULL;

				metrics_open(b, name[k], l->conf->name);
				ADD_LIT(b, ",objective=\"");
				metrics_label(b, l->conf->objectives[i].text);
				evbuffer_add_printf(b, "\"} %u\n", st == NULL ?
				    0 : k == 0 ? (unsigned)st->missed :
				    st->misses);
			}
		}
	}
}

/*
 * Latency histograms, from the whole-run histograms (l->run).  load.c
 * creates them with the load and only ever adds each interval to them (a
 * start, stop, scale or rate clears the epoch's, never these), so their
 * buckets, _sum and _count grow for as long as the load exists, as its
 * counters do, and rate() works on them.  A reload that replaces a load
 * starts both afresh, which Prometheus sees as a counter reset.
 */
static const struct {
	const char	*name;
	enum lat_kind	 kind;
	const char	*help;
} metrics_latencies[] = {
	{ "loadd_latency_seconds", LAT_LATENCY,
	  "Request latency from the intended send time (paced) or the "
	  "actual send (flood)." },
	{ "loadd_service_time_seconds", LAT_SERVICE,
	  "Time from the actual write to the complete reply." },
	{ "loadd_connect_time_seconds", LAT_CONNECT,
	  "Time from connect() to established." },
	{ "loadd_tls_handshake_time_seconds", LAT_HANDSHAKE,
	  "Time from established to the TLS handshake done." },
	{ "loadd_ttfb_seconds", LAT_TTFB,
	  "Time from a connection's first request to its first reply byte." },
};

/*
 * The buckets' upper bounds, in seconds: fixed, the same for every load,
 * kind and daemon, so that buckets add up across loads and hosts.  A 1-2-5
 * series from 10 us to 20 s, then 60 s; +Inf follows.  le is spelt as
 * Go's client libraries spell it (shortest 'g'), so that a dashboard sees
 * the same label values from loadd as from other exporters.
 */
static const struct {
	const char	*le;
	uint64_t	 ns;
} metrics_bounds[] = {
	{ "1e-05", 10000ull },		{ "2e-05", 20000ull },
	{ "5e-05", 50000ull },		{ "0.0001", 100000ull },
	{ "0.0002", 200000ull },	{ "0.0005", 500000ull },
	{ "0.001", 1000000ull },	{ "0.002", 2000000ull },
	{ "0.005", 5000000ull },	{ "0.01", 10000000ull },
	{ "0.02", 20000000ull },	{ "0.05", 50000000ull },
	{ "0.1", 100000000ull },	{ "0.2", 200000000ull },
	{ "0.5", 500000000ull },	{ "1", 1000000000ull },
	{ "2", 2000000000ull },		{ "5", 5000000000ull },
	{ "10", 10000000000ull },	{ "20", 20000000000ull },
	{ "60", 60000000000ull },
};

/* A maximum is NaN while a histogram is empty, as client libraries do. */
static double
metrics_seconds(const struct hist *h, uint64_t ns)
{
	return h->total == 0 ? NAN : (double)ns / 1e9;
}

/*
 * The cumulative count at each bound.  The histogram keeps slots, not
 * values: a bucket takes every slot up to the one that holds its bound,
 * as HdrHistogram's getCountBetweenValues() does.  So no value at or
 * below a bound is ever left out of its bucket, and the values a bucket
 * has too many are those just above the bound in the same slot: less than
 * 512 ns above it below 1 ms, less than 0.1% above it from there.
 * Only the slots between the least and greatest values can be non-zero.
 */
static void
metrics_buckets(const struct hist *h, uint64_t *cum)
{
	uint64_t	 seen = 0;
	int		 i, hi;

	if (h->total == 0) {
		memset(cum, 0, NELEM(metrics_bounds) * sizeof(*cum));
		return;
	}
	i = hist_index(h->min_ns);
	hi = hist_index(h->max_ns);
	for (size_t j = 0; j < NELEM(metrics_bounds); j++) {
		int	 top = hist_index(metrics_bounds[j].ns);

		for (; i <= top && i <= hi; i++)
			seen += h->counts[i];
		cum[j] = seen;
	}
}

static void
metrics_histogram(struct evbuffer *b, const char *name, const char *load,
    const struct hist *h)
{
	uint64_t	 cum[NELEM(metrics_bounds)];
	char		 sub[96];

	metrics_buckets(h, cum);
	snprintf(sub, sizeof(sub), "%s_bucket", name);
	for (size_t j = 0; j < NELEM(metrics_bounds); j++) {
		metrics_open(b, sub, load);
		evbuffer_add_printf(b, ",le=\"%s\"} %" PRIu64 "\n",
		    metrics_bounds[j].le, cum[j]);
	}
	/* Clamped values (above 2 h) are in +Inf and _count only. */
	metrics_open(b, sub, load);
	evbuffer_add_printf(b, ",le=\"+Inf\"} %" PRIu64 "\n", h->total);
	snprintf(sub, sizeof(sub), "%s_sum", name);
	metrics_dbl(b, sub, load, h->sum_ns / 1e9);
	snprintf(sub, sizeof(sub), "%s_count", name);
	metrics_u64(b, sub, load, h->total);
}

static void
metrics_errors(struct evbuffer *b, const char *load,
    const struct stats_snap *s)
{
	for (int k = 0; k < ERR_MAX; k++) {
		metrics_open(b, KEY_ERRORS_PROM, load);
		ADD_LIT(b, ",kind=\"");
		metrics_label(b, err_kind_names[k]);
		evbuffer_add_printf(b, "\"} %" PRIu64 "\n", s->errors[k]);
	}
}

static void
metrics_page(struct evbuffer *b)
{
	struct daemon		*d = daemon_g;
	struct load		*l;
	struct stats_snap	*snaps;
	size_t			 n = 0, i;
	bool			 any_run = false;

	/* One snapshot per load, so that every family agrees. */
	TAILQ_FOREACH(l, &d->loads, entry)
		n++;
	snaps = xcalloc(n + 1, sizeof(*snaps));
	i = 0;
	TAILQ_FOREACH(l, &d->loads, entry) {
		load_snapshot(l, &snaps[i++]);
		if (l->run != NULL)
			any_run = true;
	}

	/* Read at every scrape: a reload that changes daemon.host applies. */
	mx.host = d->profile->daemon.host != NULL ? d->profile->daemon.host :
	    mx.hostname;

	metrics_head(b, "loadd_up", "gauge", "1 while loadd serves metrics.");
	metrics_series(b, "loadd_up");
	ADD_LIT(b, "} 1\n");
	metrics_head(b, "loadd_build_info", "gauge",
	    "Always 1; the version is in the label.");
	metrics_series(b, "loadd_build_info");
	ADD_LIT(b, ",version=\"");
	metrics_label(b, LOADD_VERSION);
	ADD_LIT(b, "\"} 1\n");
	metrics_head(b, "loadd_uptime_seconds", "gauge",
	    "Seconds since loadd started.");
	metrics_series(b, "loadd_uptime_seconds");
	ADD_LIT(b, "} ");
	metrics_double(b, (double)(now_ns() - mx.started) / 1e9);
	metrics_head(b, "loadd_workers", "gauge", "Worker threads.");
	metrics_series(b, "loadd_workers");
	evbuffer_add_printf(b, "} %d\n", d->engine.nworkers);

	/* Counters: one row per load, and "_retired" for removed loads. */
	for (size_t k = 0; k < KC_MAX; k++) {
		const struct key_def *cd = &key_counters[k];

		metrics_head(b, cd->prom, "counter", cd->help);
		i = 0;
		TAILQ_FOREACH(l, &d->loads, entry)
			metrics_u64(b, cd->prom, l->conf->name,
			    stats_snap_get(&snaps[i++], k));
		metrics_u64(b, cd->prom, "_retired",
		    stats_snap_get(&d->retired, k));
	}
	metrics_head(b, KEY_ERRORS_PROM, "counter",
	    "Failed connects and lost connections by cause; reply_timeout "
	    "counts each request outstanding.");
	i = 0;
	TAILQ_FOREACH(l, &d->loads, entry)
		metrics_errors(b, l->conf->name, &snaps[i++]);
	metrics_errors(b, "_retired", &d->retired);

	for (size_t g = 0; g < KG_MAX; g++) {
		const struct key_def *gd = &key_gauges[g];

		metrics_head(b, gd->prom, "gauge", gd->help);
		i = 0;
		TAILQ_FOREACH(l, &d->loads, entry)
			metrics_i64(b, gd->prom, l->conf->name,
			    stats_snap_gauge(&snaps[i++], g));
	}
	metrics_head(b, "loadd_connections_target", "gauge",
	    "Connections wanted; 0 while the load is stopped.");
	TAILQ_FOREACH(l, &d->loads, entry)
		metrics_i64(b, "loadd_connections_target", l->conf->name,
		    l->state == LOAD_RUNNING ? l->target : 0);
	metrics_head(b, "loadd_rate_per_connection", "gauge",
	    "Messages per second per connection; 0 means flood, or idle for "
	    "a load declared idle (rate = 0 or pattern = \"idle\").");
	TAILQ_FOREACH(l, &d->loads, entry)
		metrics_dbl(b, "loadd_rate_per_connection", l->conf->name,
		    l->rate);
	metrics_head(b, "loadd_load_running", "gauge",
	    "1 while the load runs, 0 while it is stopped.");
	TAILQ_FOREACH(l, &d->loads, entry)
		metrics_i64(b, "loadd_load_running", l->conf->name,
		    l->state == LOAD_RUNNING);
	metrics_head(b, "loadd_epoch", "gauge",
	    "Measurement epoch: grows at every start, stop, scale and rate.");
	TAILQ_FOREACH(l, &d->loads, entry)
		metrics_u64(b, "loadd_epoch", l->conf->name, l->epoch);
	metrics_objectives(b, d);

	if (any_run) {
		for (size_t k = 0; k < NELEM(metrics_latencies); k++) {
			const char *name = metrics_latencies[k].name;

			metrics_head(b, name, "histogram",
			    metrics_latencies[k].help);
			TAILQ_FOREACH(l, &d->loads, entry) {
				const struct hist *h;

				if (l->run == NULL || !load_lat_kept(l->conf,
				    metrics_latencies[k].kind))
					continue;
				h = &l->run[metrics_latencies[k].kind];
				metrics_histogram(b, name, l->conf->name, h);
			}
		}
		metrics_head(b, "loadd_latency_max_seconds", "gauge",
		    "Highest request latency of the whole run.");
		TAILQ_FOREACH(l, &d->loads, entry) {
			const struct hist *h;

			if (l->run == NULL || !load_lat_kept(l->conf,
			    LAT_LATENCY))
				continue;
			h = &l->run[LAT_LATENCY];
			metrics_dbl(b, "loadd_latency_max_seconds",
			    l->conf->name, metrics_seconds(h, h->max_ns));
		}
	}
	free(snaps);
}

/* ------------------------------------------------------------- HTTP */

static void
metrics_reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void
metrics_requestcb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ?
				    evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct evbuffer		*b;

	/* A request came whole: its connection's deadline starts again. */
	for (int i = 0; i < mx.ntracked; i++) {
		if (mx.conns[i] == evcon)
			mx.since[i] = now_mono();
	}
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		metrics_reply_text(req, HTTP_NOTFOUND, "Not Found",
		    "not found: loadd serves /metrics only");
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		metrics_reply_text(req, 405, "Method Not Allowed",
		    "method not allowed: use GET");
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	/* evhttp leaves a HEAD reply's body out by itself. */
	metrics_page(b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/*
 * Accept while under the connection cap and not backing off from EMFILE.
 * While disabled, new connections wait in the kernel's backlog.
 */
static void
metrics_listen_update(void)
{
	if (mx.listener == NULL || mx.closing)
		return;
	if (mx.nconns < METRICS_MAX_CONNS &&
	    !evtimer_pending(mx.resume, NULL))
		evconnlistener_enable(mx.listener);
	else
		evconnlistener_disable(mx.listener);
}

static void
metrics_closecb(struct evhttp_connection *evcon, void *arg)
{
	for (int i = 0; i < mx.ntracked; i++) {
		if (mx.conns[i] == evcon) {
			mx.ntracked--;
			mx.conns[i] = mx.conns[mx.ntracked];
			mx.since[i] = mx.since[mx.ntracked];
			break;
		}
	}
	mx.nconns--;
	metrics_listen_update();
}

/* Is a scraper waiting in the backlog? */
static bool
metrics_backlog(void)
{
	struct pollfd	 pfd;

	pfd.fd = evconnlistener_get_fd(mx.listener);
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/*
 * Close the connections that have not completed a request within
 * METRICS_TIMEOUT, and while every slot is taken and a scraper waits, the
 * one that has waited longest for a request (METRICS_GRACE at least).  A
 * connection with a reply still leaving is left alone.
 */
static void
metrics_sweepcb(evutil_socket_t fd, short what, void *arg)
{
	struct evhttp_connection *late[METRICS_MAX_CONNS], *oldest = NULL;
	double			 now = now_mono(), oldest_since = 0;
	int			 nlate = 0;

	for (int i = 0; i < mx.ntracked; i++) {
		struct bufferevent *bev = evhttp_connection_get_bufferevent(
		    mx.conns[i]);
		double		    grace = METRICS_TIMEOUT / 2.0;

		if (bev == NULL ||
		    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			continue;
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			grace = METRICS_GRACE;	/* a request begun */
		if (now - mx.since[i] > METRICS_TIMEOUT)
			late[nlate++] = mx.conns[i];
		else if (now - mx.since[i] >= grace &&
		    (oldest == NULL || mx.since[i] < oldest_since)) {
			oldest = mx.conns[i];
			oldest_since = mx.since[i];
		}
	}
	/* evhttp_connection_free() runs metrics_closecb, which uncounts. */
	for (int i = 0; i < nlate; i++) {
		log_debug("metrics: no request within %ds, closed",
		    METRICS_TIMEOUT);
		evhttp_connection_free(late[i]);
	}
	if (nlate == 0 && oldest != NULL && mx.nconns >= METRICS_MAX_CONNS &&
	    metrics_backlog()) {
		log_info("metrics: every connection taken; one without a "
		    "request for %.1fs closed for a waiting scraper",
		    now - oldest_since);
		evhttp_connection_free(oldest);
	}
}

/*
 * Counting connections.  Libevent 2.1's evhttp has no connection cap and
 * tells nobody when it accepts, but it asks us for each new connection's
 * bufferevent: there we count it, stop the listener at the cap (the
 * listener checks between accepts), and hold a reference so the bufferevent
 * outlives anything evhttp does before metrics_settlecb runs, later in the
 * same loop pass.  By then evhttp has attached its callbacks, whose
 * argument is the evhttp_connection, and we give that a close callback
 * which uncounts it (evhttp calls it once, whichever way the connection
 * ends).  A bufferevent whose callbacks are already gone was freed by
 * evhttp in the meantime (a failed set-up): it is uncounted at once.
 */
static struct bufferevent *
metrics_bevcb(struct event_base *base, void *arg)
{
	struct bufferevent	*bev;

	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;	/* evhttp makes its own; it goes uncounted */
	if (mx.nfresh == METRICS_MAX_CONNS)
		return bev;	/* cannot happen: the listener is off */
	bufferevent_incref(bev);
	mx.fresh[mx.nfresh++] = bev;
	mx.nconns++;
	event_active(mx.settle, EV_TIMEOUT, 0);
	metrics_listen_update();
	return bev;
}

static void
metrics_settlecb(evutil_socket_t fd, short what, void *arg)
{
	for (int i = 0; i < mx.nfresh; i++) {
		struct bufferevent	*bev = mx.fresh[i];
		bufferevent_data_cb	 readcb;
		void			*cbarg;

		bufferevent_getcb(bev, &readcb, NULL, NULL, &cbarg);
		if (readcb != NULL && cbarg != NULL) {
			evhttp_connection_set_closecb(cbarg, metrics_closecb,
			    NULL);
			if (mx.ntracked < METRICS_MAX_CONNS) {
				mx.conns[mx.ntracked] = cbarg;
				mx.since[mx.ntracked++] = now_mono();
			}
		} else
			mx.nconns--;
		bufferevent_decref(bev);
	}
	mx.nfresh = 0;
	metrics_listen_update();
}

static void
metrics_resumecb(evutil_socket_t fd, short what, void *arg)
{
	metrics_listen_update();
}

static void
metrics_errorcb(struct evconnlistener *lis, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	int		 e = EVUTIL_SOCKET_ERROR();

	if (e == EMFILE || e == ENFILE) {
		/* Out of descriptors: pause accepting for a second. */
		log_warnx("metrics: accept: %s; pausing for 1s", strerror(e));
		evtimer_add(mx.resume, &tv);
		metrics_listen_update();
		return;
	}
	log_warnx("metrics: accept: %s", strerror(e));
}

/* A listening socket on exactly the address parse_target resolves. */
static int
metrics_bind(const char *listen_on, char *why, size_t whylen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 pwhy[256];
	int			 fd, one = 1;

	if (parse_target(listen_on, &ss, &sslen, pwhy, sizeof(pwhy)) == -1) {
		snprintf(why, whylen, "metrics_listen: %s", pwhy);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		snprintf(why, whylen, "metrics_listen %s: socket: %s", listen_on,
		    strerror(errno));
		return -1;
	}
	/* A restart must not wait out TIME_WAIT from the last scrape. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		log_warn("metrics: SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
		snprintf(why, whylen, "metrics_listen %s: cannot bind: %s",
		    listen_on, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, METRICS_BACKLOG) == -1) {
		snprintf(why, whylen, "metrics_listen %s: cannot listen: %s",
		    listen_on, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
metrics_init(const char *listen_on, char *why, size_t whylen)
{
	struct event_base	*base = daemon_g->base;
	int			 fd;

	memset(&mx, 0, sizeof(mx));
	if (listen_on == NULL)
		return 0;
	mx.started = now_ns();
	/*
	 * The default host label.  POSIX leaves a truncated name unterminated
	 * and Linux's are at most 64 bytes anyway: terminate it here.
	 */
	if (gethostname(mx.hostname, sizeof(mx.hostname)) == -1) {
		log_warn("metrics: gethostname; host label \"unknown\" unless "
		    "daemon.host is set");
		snprintf(mx.hostname, sizeof(mx.hostname), "unknown");
	}
	mx.hostname[sizeof(mx.hostname) - 1] = '\0';
	if ((fd = metrics_bind(listen_on, why, whylen)) == -1)
		return -1;
	mx.http = evhttp_new(base);
	mx.listener = evconnlistener_new(base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	mx.resume = evtimer_new(base, metrics_resumecb, NULL);
	mx.settle = event_new(base, -1, 0, metrics_settlecb, NULL);
	mx.sweep = event_new(base, -1, EV_PERSIST, metrics_sweepcb, NULL);
	if (mx.http == NULL || mx.listener == NULL || mx.resume == NULL ||
	    mx.settle == NULL || mx.sweep == NULL ||
	    evhttp_bind_listener(mx.http, mx.listener) == NULL) {
		snprintf(why, whylen, "metrics_listen %s: cannot set up the "
		    "HTTP server", listen_on);
		if (mx.listener != NULL)
			evconnlistener_free(mx.listener);
		else
			close(fd);
		mx.listener = NULL;
		metrics_close();
		return -1;
	}
	evconnlistener_set_error_cb(mx.listener, metrics_errorcb);
	evhttp_set_bevcb(mx.http, metrics_bevcb, NULL);
	evhttp_set_gencb(mx.http, metrics_requestcb, NULL);
	/*
	 * Let every method reach metrics_requestcb, which answers 405;
	 * evhttp's own answer to a method it was not told about is 501.
	 */
	evhttp_set_allowed_methods(mx.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(mx.http, METRICS_TIMEOUT);
	evhttp_set_max_headers_size(mx.http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(mx.http, METRICS_MAX_BODY);
	{
		struct timeval	 tv = { 0, METRICS_SWEEP_MS * 1000 };

		event_add(mx.sweep, &tv);
	}
	log_info("metrics on http://%s/metrics", listen_on);
	return 0;
}

void
metrics_close(void)
{
	if (mx.settle != NULL && mx.nfresh > 0)
		metrics_settlecb(-1, 0, NULL);
	mx.closing = true;
	mx.listener = NULL;	/* evhttp_free frees it */
	if (mx.http != NULL)
		evhttp_free(mx.http);	/* runs the close callbacks */
	if (mx.resume != NULL)
		event_free(mx.resume);
	if (mx.settle != NULL)
		event_free(mx.settle);
	if (mx.sweep != NULL)
		event_free(mx.sweep);
	memset(&mx, 0, sizeof(mx));
}
