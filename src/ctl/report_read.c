/* SPDX-License-Identifier: ISC */
/*
 * report_read.c -- reading results logs (docs/results.md) into the
 * report's model (report_int.h).
 *
 * The input is streamed.  Each line is parsed with jansson, checked, and
 * reduced at once to the few numbers the pictures need; no JSON is kept.
 * The numbers go into the time buckets of their series; when time runs
 * past the last bucket, the buckets merge in pairs: memory stays the same
 * however long the run, and the picture never has more than two points
 * per bucket and series.  Lines are parsed by a few threads at once
 * (report_read); everything else is one thread, in order.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cmd.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"
#include "report_int.h"

/*
 * The JSON keys a line is read by, from common/keys.h: the counters (and
 * their rates) and gauges by field name, the percentiles by percentile.
 */
#define X(field, key, prom, rate, help)	RC_##field,
enum read_counter { LOADD_COUNTERS(X) RC_MAX };
#undef X
#define X(field, key, prom, rate, help)	[RC_##field] = key,
static const char *const read_counter_key[RC_MAX] = { LOADD_COUNTERS(X) };
#undef X
#define X(field, key, prom, rate, help)	[RC_##field] = rate,
static const char *const read_rate_key[RC_MAX] = { LOADD_COUNTERS(X) };
#undef X
#define X(field, key, prom, help)	RG_##field,
enum read_gauge { LOADD_GAUGES(X) RG_MAX };
#undef X
#define X(field, key, prom, help)	[RG_##field] = key,
static const char *const read_gauge_key[RG_MAX] = { LOADD_GAUGES(X) };
#undef X
#define X(key, pct, label)		{ key, pct },
static const struct {
	const char	*key;
	double		 pct;
} read_pcts[] = { LOADD_PERCENTILES(X) };
#undef X

static const struct {
	const char	*name;
	const char	*color;
	bool		 dashed;
} series_def[S_FIXED] = {
	[S_MSGS] = { "messages sent", "#1f77b4", false },
	[S_REPLIES] = { "replies", "#2ca02c", false },
	[S_BSENT] = { "sent", "#1f77b4", false },
	[S_BRECV] = { "received", "#2ca02c", false },
	[S_ACTIVE] = { "active", "#1f77b4", false },
	[S_TARGET] = { "target", "#ff7f0e", true },
	[S_CFAIL] = { "failed connects", "#222222", false },
	[S_P50] = { "p50", "#2ca02c", false },
	[S_P90] = { "p90", "#1f77b4", false },
	[S_P99] = { "p99", "#ff7f0e", false },
	[S_P999] = { "p99.9", "#d62728", false },
	[S_PMAX] = { "max", "#b4b4b4", false },
	[S_SP50] = { "p50", "#2ca02c", false },
	[S_SP90] = { "p90", "#1f77b4", false },
	[S_SP99] = { "p99", "#ff7f0e", false },
	[S_SP999] = { "p99.9", "#d62728", false },
	[S_SPMAX] = { "max", "#b4b4b4", false },
};

/* The histograms by kind: their JSON names and first series. */
static const char *const hist_name[H_KINDS] = {
	[H_LAT] = "latency_us",
	[H_SVC] = "service_us",
};
static const int hist_series[H_KINDS] = {
	[H_LAT] = S_P50,
	[H_SVC] = S_SP50,
};

static const char *const kind_colors[] = {
	"#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
	"#17becf", "#1f77b4", "#2ca02c", "#7f7f7f",
};

/* One histogram of a line: count, p50, p90, p99, p99.9 and max. */
struct rhist {
	bool		 has;
	double		 count, v[RPT_LAT];
};

/* What one line says, checked; it owns its strings. */
#define REC_CAUSE_MAX	128	/* loadd's are shorter; longer is cut */
#define REC_KINDS_BYTES	1024	/* the names of the error kinds */
struct rec {
	double		 time, interval, epoch_start;
	long long	 epoch;
	char		 load[LOAD_NAME_MAX];
	char		 cause[REC_CAUSE_MAX];
	char		 kbuf[REC_KINDS_BYTES];
	double		 target, active, cfail, msgs, replies;
	double		 msgs_ps, replies_ps, bsent_ps, brecv_ps;
	const char	*kind[RPT_KINDS_MAX];
	double		 kval[RPT_KINDS_MAX];
	size_t		 nkinds;
	bool		 has_hist[H_KINDS];	/* latency_us, service_us */
	struct rhist	 ival[H_KINDS];		/* *.interval */
	struct rhist	 epoch_h[H_KINDS];	/* *.epoch, when there */
	struct rhist	 run;			/* latency_us.run */
};

/* ------------------------------------------------------------- helpers */

/* A warning: on stderr now, and on the page later. */
void
report_read_note(struct report *rp, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "loadctl: report: %s\n", s);
	if (rp->nnotes < sizeof(rp->notes) / sizeof(rp->notes[0]))
		rp->notes[rp->nnotes++] = s;
	else
		free(s);
}

static double
counter_delta(double prev, double cur)
{
	/* A counter that goes down restarted (a new daemon): from zero. */
	return cur >= prev ? cur - prev : cur;
}

static void
series_init(struct series *s, const char *name, const char *color,
    bool dashed, bool alloc)
{
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->color = color;
	s->dashed = dashed;
	if (!alloc)
		return;
	s->b = xcalloc(RPT_BUCKETS, sizeof(*s->b));
	for (size_t k = 0; k < RPT_BUCKETS; k++) {
		s->b[k].vmin = INFINITY;
		s->b[k].vmax = -INFINITY;
	}
}

static void
series_add(struct series *s, size_t k, double rel, double v)
{
	struct bucket	*b;

	if (!s->seen || v > s->peak)
		s->peak = v;
	s->seen = true;
	if (s->b == NULL)
		return;
	b = &s->b[k];
	if (v < b->vmin) {
		b->vmin = v;
		b->tmin = (float)rel;
	}
	if (v > b->vmax) {
		b->vmax = v;
		b->tmax = (float)rel;
	}
}

/* Merge buckets 2j and 2j+1 into j; ties keep the earlier point. */
static void
series_halve(struct series *s)
{
	if (s->b == NULL)
		return;
	for (size_t j = 0; j < RPT_BUCKETS / 2; j++) {
		struct bucket	 a = s->b[2 * j], c = s->b[2 * j + 1];

		if (c.vmin < a.vmin) {
			a.vmin = c.vmin;
			a.tmin = c.tmin;
		}
		if (c.vmax > a.vmax) {
			a.vmax = c.vmax;
			a.tmax = c.tmax;
		}
		s->b[j] = a;
	}
	for (size_t j = RPT_BUCKETS / 2; j < RPT_BUCKETS; j++) {
		s->b[j].vmin = INFINITY;
		s->b[j].vmax = -INFINITY;
	}
}

static void
series_free(struct series *s)
{
	free(s->name);
	free(s->b);
}

/*
 * The bucket of a time.  Bucket k holds [t0 - w0/2 + k w, t0 - w0/2 +
 * (k+1) w): lines written every w0 seconds then sit in the middle of
 * their bucket, however their times jitter, and buckets 2j and 2j+1 make
 * exactly bucket j of twice the width.
 */
static double
bucket_of(const struct report *rp, double rel, double w)
{
	double	 k = floor((rel + rp->w0 / 2) / w);

	return k < 0 ? 0 : k;
}

/* Double the bucket width of every load; markers in a bucket merge. */
static void
rpt_halve(struct report *rp)
{
	for (size_t i = 0; i < rp->nloads; i++) {
		struct rload	*l = &rp->loads[i];
		size_t		 n = 0;

		if (!l->drawn)
			continue;
		for (int j = 0; j < S_FIXED; j++)
			series_halve(&l->s[j]);
		for (size_t j = 0; j < l->nkinds; j++)
			series_halve(&l->kinds[j]);
		for (size_t j = 0; j < RPT_BUCKETS / 2; j++)
			l->flags[j] = l->flags[2 * j] | l->flags[2 * j + 1];
		memset(l->flags + RPT_BUCKETS / 2, 0, RPT_BUCKETS / 2);
		for (size_t j = 0; j < l->nmarks; j++) {
			struct marker	*m = &l->marks[j];

			if (n > 0 && bucket_of(rp, l->marks[n - 1].t,
			    rp->w * 2) == bucket_of(rp, m->t, rp->w * 2)) {
				l->marks[n - 1].more += 1 + m->more;
				free(m->cause);
				continue;
			}
			l->marks[n++] = *m;
		}
		l->nmarks = n;
	}
	rp->w *= 2;
	rp->nb = (rp->nb + 1) / 2;
}

/* The bucket for a time, widening the buckets until it fits. */
static size_t
rpt_bucket(struct report *rp, double rel)
{
	double	 k;

	while ((k = bucket_of(rp, rel, rp->w)) >= RPT_BUCKETS)
		rpt_halve(rp);
	if ((size_t)k + 1 > rp->nb)
		rp->nb = (size_t)k + 1;
	return (size_t)k;
}

static struct rload *
rpt_load(struct report *rp, const char *name)
{
	struct rload	*l;

	for (size_t i = 0; i < rp->nloads; i++)
		if (strcmp(rp->loads[i].name, name) == 0)
			return &rp->loads[i];
	if (rp->nloads == RPT_LOADS_MAX)
		return NULL;
	if (rp->loads == NULL)
		rp->loads = xcalloc(RPT_LOADS_MAX, sizeof(*rp->loads));
	l = &rp->loads[rp->nloads++];
	memset(l, 0, sizeof(*l));
	l->name = xstrdup(name);
	l->drawn = rp->only == NULL || strcmp(rp->only, name) == 0;
	for (int j = 0; j < S_FIXED; j++)
		series_init(&l->s[j], series_def[j].name, series_def[j].color,
		    series_def[j].dashed, l->drawn);
	if (l->drawn)
		l->flags = xcalloc(RPT_BUCKETS, 1);
	return l;
}

void
report_read_free(struct report *rp)
{
	for (size_t i = 0; i < rp->nloads; i++) {
		struct rload	*l = &rp->loads[i];

		for (int j = 0; j < S_FIXED; j++)
			series_free(&l->s[j]);
		for (size_t j = 0; j < l->nkinds; j++)
			series_free(&l->kinds[j]);
		for (size_t j = 0; j < l->nmarks; j++)
			free(l->marks[j].cause);
		free(l->marks);
		for (size_t j = 0; j < l->nrows; j++)
			free(l->rows[j].cause);
		free(l->rows);
		free(l->flags);
		free(l->name);
	}
	free(rp->loads);
	for (size_t i = 0; i < rp->nnotes; i++)
		free(rp->notes[i]);
}

/* ----------------------------------------------------------- checking */

/*
 * Fetch a number at o.key, at least min.  Returns 0, or -1 with the
 * reason in err ("field" is the dotted path for the message).
 */
static int
get_num(json_t *o, const char *path, const char *key, double min,
    bool optional, double *out, char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL) {
		if (optional)
			return 0;
		snprintf(err, errlen, "missing field \"%s%s\"", path, key);
		return -1;
	}
	if (!json_is_number(v)) {
		snprintf(err, errlen, "field \"%s%s\" is not a number", path,
		    key);
		return -1;
	}
	*out = json_number_value(v);
	if (!isfinite(*out) || *out < min) {
		snprintf(err, errlen, "field \"%s%s\" is out of range (%g)",
		    path, key, *out);
		return -1;
	}
	return 0;
}

static int
get_str(json_t *o, const char *path, const char *key, const char **out,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL) {
		snprintf(err, errlen, "missing field \"%s%s\"", path, key);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field \"%s%s\" is not a string", path,
		    key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int
get_obj(json_t *o, const char *path, const char *key, json_t **out,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL) {
		snprintf(err, errlen, "missing field \"%s%s\"", path, key);
		return -1;
	}
	if (!json_is_object(v)) {
		snprintf(err, errlen, "field \"%s%s\" is not an object", path,
		    key);
		return -1;
	}
	*out = v;
	return 0;
}

/* The percentiles drawn, S_P50 to S_P999; S_PMAX is the histogram's max. */
static const double read_lat_pct[RPT_LAT - 1] = { 50, 90, 99, 99.9 };

/* The key of latency figure i (S_P50 + i). */
static const char *
read_lat_key(int i)
{
	if (i == RPT_LAT - 1)
		return KEY_HIST_MAX;
	for (size_t j = 0; j < NELEM(read_pcts); j++)
		if (read_pcts[j].pct == read_lat_pct[i])
			return read_pcts[j].key;
	fatalx("common/keys.h has no p%g", read_lat_pct[i]);
}

/* NAME.WHICH (latency_us.interval, ...); an optional one may be absent. */
static int
get_hist(json_t *o, const char *name, const char *which, bool optional,
    struct rhist *out, char *err, size_t errlen)
{
	json_t	*h;
	char	 path[64];

	if (optional && json_object_get(o, which) == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s.", name);
	if (get_obj(o, path, which, &h, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s.%s.", name, which);
	if (get_num(h, path, KEY_HIST_COUNT, 0, false, &out->count, err,
	    errlen) == -1)
		return -1;
	for (int i = 0; i < RPT_LAT; i++)
		if (get_num(h, path, read_lat_key(i), 0, false, &out->v[i], err,
		    errlen) == -1)
			return -1;
	out->has = true;
	return 0;
}

/*
 * Check one line and pull out what the report uses.  The epoch comes flat
 * ("epoch", "epoch_cause", "epoch_start", as docs/results.md shows it) or
 * as an object ({"number", "cause", "start"}, as `loadctl stats` has it).
 * latency_us and service_us are absent for loads that expect no reply;
 * their epoch histograms are optional (older logs lack them), and so is
 * service_us.run, which the report does not use.
 */
static int
rec_parse(json_t *o, struct rec *r, char *err, size_t errlen)
{
	json_t		*v, *errs, *h;
	struct rhist	 unused;
	const char	*k, *load, *cause;
	double		 d;
	size_t		 n, kused = 0;

	memset(r, 0, sizeof(*r));
	r->epoch_start = NAN;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	if (get_num(o, "", "time", 0, false, &r->time, err, errlen) == -1 ||
	    get_str(o, "", "load", &load, err, errlen) == -1 ||
	    get_num(o, "", "interval_s", 0, false, &r->interval, err,
	    errlen) == -1)
		return -1;
	if (load[0] == '\0' || strlen(load) >= sizeof(r->load)) {
		snprintf(err, errlen, "field \"load\" is %s", load[0] == '\0' ?
		    "empty" : "too long for a load name");
		return -1;
	}
	memcpy(r->load, load, strlen(load) + 1);
	if (r->interval <= 0) {
		snprintf(err, errlen, "field \"interval_s\" must be above 0");
		return -1;
	}
	if ((v = json_object_get(o, "epoch")) != NULL && json_is_object(v)) {
		if (get_num(v, "epoch.", "number", 0, false, &d, err,
		    errlen) == -1 ||
		    get_str(v, "epoch.", "cause", &cause, err, errlen) == -1 ||
		    get_num(v, "epoch.", "start", 0, true, &r->epoch_start, err,
		    errlen) == -1)
			return -1;
	} else if (get_num(o, "", "epoch", 0, false, &d, err, errlen) == -1 ||
	    get_str(o, "", "epoch_cause", &cause, err, errlen) == -1 ||
	    get_num(o, "", "epoch_start", 0, true, &r->epoch_start, err,
	    errlen) == -1)
		return -1;
	if (d > 1e15) {
		snprintf(err, errlen, "field \"epoch\" is out of range (%g)", d);
		return -1;
	}
	r->epoch = (long long)d;
	/* A label only: cut a long one, but not inside a UTF-8 character. */
	if ((n = strlen(cause)) >= sizeof(r->cause)) {
		n = sizeof(r->cause) - 1;
		while (n > 0 && ((unsigned char)cause[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(r->cause, cause, n);
	r->cause[n] = '\0';
	if (get_num(o, "", KEY_TARGET, 0, false, &r->target, err,
	    errlen) == -1 ||
	    get_num(o, "", read_gauge_key[RG_active], 0, false, &r->active,
	    err, errlen) == -1 ||
	    get_num(o, "", read_counter_key[RC_connects_failed], 0, false,
	    &r->cfail, err, errlen) == -1 ||
	    get_num(o, "", read_counter_key[RC_messages_sent], 0, false,
	    &r->msgs, err, errlen) == -1 ||
	    get_num(o, "", read_counter_key[RC_replies], 0, false,
	    &r->replies, err, errlen) == -1 ||
	    get_num(o, "", read_rate_key[RC_messages_sent], 0, false,
	    &r->msgs_ps, err, errlen) == -1 ||
	    get_num(o, "", read_rate_key[RC_replies], 0, false,
	    &r->replies_ps, err, errlen) == -1 ||
	    get_num(o, "", read_rate_key[RC_bytes_sent], 0, false,
	    &r->bsent_ps, err, errlen) == -1 ||
	    get_num(o, "", read_rate_key[RC_bytes_received], 0, false,
	    &r->brecv_ps, err, errlen) == -1 ||
	    get_obj(o, "", KEY_ERRORS, &errs, err, errlen) == -1)
		return -1;
	json_object_foreach(errs, k, v) {
		if (r->nkinds == RPT_KINDS_MAX) {
			snprintf(err, errlen, "more than %d error kinds",
			    RPT_KINDS_MAX);
			return -1;
		}
		if (get_num(errs, KEY_ERRORS ".", k, 0, false,
		    &r->kval[r->nkinds], err, errlen) == -1)
			return -1;
		if ((n = strlen(k) + 1) > sizeof(r->kbuf) - kused) {
			snprintf(err, errlen, "the names in \"" KEY_ERRORS
			    "\" are too long");
			return -1;
		}
		memcpy(r->kbuf + kused, k, n);
		r->kind[r->nkinds++] = r->kbuf + kused;
		kused += n;
	}
	for (int hk = 0; hk < H_KINDS; hk++) {
		if ((h = json_object_get(o, hist_name[hk])) == NULL)
			continue;
		if (!json_is_object(h)) {
			snprintf(err, errlen, "field \"%s\" is not an object",
			    hist_name[hk]);
			return -1;
		}
		if (get_hist(h, hist_name[hk], "interval", false, &r->ival[hk],
		    err, errlen) == -1 ||
		    get_hist(h, hist_name[hk], "epoch", true, &r->epoch_h[hk],
		    err, errlen) == -1 ||
		    get_hist(h, hist_name[hk], "run", hk != H_LAT,
		    hk == H_LAT ? &r->run : &unused, err, errlen) == -1)
			return -1;
		r->has_hist[hk] = true;
	}
	return 0;
}

/* ------------------------------------------------------------ feeding */

static struct series *
load_kind(struct rload *l, const char *name)
{
	struct series	*s;

	for (size_t i = 0; i < l->nkinds; i++)
		if (strcmp(l->kinds[i].name, name) == 0)
			return &l->kinds[i];
	if (l->nkinds == RPT_KINDS_MAX)
		return NULL;
	s = &l->kinds[l->nkinds];
	series_init(s, name, kind_colors[l->nkinds % (sizeof(kind_colors) /
	    sizeof(kind_colors[0]))], false, l->drawn);
	l->nkinds++;
	return s;
}

/* An epoch change; one in the same bucket as the last adds to it. */
static void
load_marker(const struct report *rp, struct rload *l, double t,
    long long epoch, const char *cause)
{
	struct marker	*m;

	if (l->nmarks > 0 && bucket_of(rp, l->marks[l->nmarks - 1].t, rp->w) ==
	    bucket_of(rp, t, rp->w)) {
		l->marks[l->nmarks - 1].more++;
		return;
	}
	if (l->nmarks == l->capmarks) {
		l->capmarks = l->capmarks ? l->capmarks * 2 : 16;
		l->marks = realloc(l->marks, l->capmarks * sizeof(*l->marks));
		if (l->marks == NULL)
			fatal("realloc");
	}
	m = &l->marks[l->nmarks++];
	m->t = t;
	m->epoch = epoch;
	m->cause = xstrdup(cause);
	m->more = 0;
}

/* A new row of the epoch table, or NULL past RPT_ROWS_MAX. */
static struct erow *
load_row(struct rload *l, const struct rec *r, const char *cause)
{
	struct erow	*e;

	if (l->nrows == RPT_ROWS_MAX) {
		l->rows_more++;
		return NULL;
	}
	if (l->nrows == l->caprows) {
		l->caprows = l->caprows ? l->caprows * 2 : 8;
		if (l->caprows > RPT_ROWS_MAX)
			l->caprows = RPT_ROWS_MAX;
		l->rows = realloc(l->rows, l->caprows * sizeof(*l->rows));
		if (l->rows == NULL)
			fatal("realloc");
	}
	e = &l->rows[l->nrows++];
	memset(e, 0, sizeof(*e));
	e->epoch = r->epoch;
	e->cause = xstrdup(cause);
	e->start = r->epoch_start;
	e->seen = r->time;
	e->from = e->to = NAN;
	return e;
}

/* Count a line's interval in a row of the epoch table. */
static void
row_add(struct erow *e, const struct rec *r, double msgs, double cfail)
{
	if (e->lines++ == 0)
		e->from = r->time - r->interval;
	e->to = r->time;
	e->msgs += msgs;
	e->cfail += cfail;
	for (int k = 0; k < H_KINDS; k++) {
		struct epct	*p = &e->pct[k];

		if (!r->ival[k].has || r->ival[k].count <= 0)
			continue;
		p->nival++;
		p->count += r->ival[k].count;
		p->icount = r->ival[k].count;
		memcpy(p->i, r->ival[k].v, sizeof(p->i));
	}
}

/* Count an interval length towards the spacing of the lines. */
static void
rpt_spacing(struct report *rp, double interval)
{
	double	 q = pow(10, floor(log10(interval)) - 2);
	double	 v = floor(interval / q + 0.5) * q;

	for (size_t i = 0; i < rp->nspacings; i++)
		if (rp->spacings[i].v == v) {
			rp->spacings[i].n++;
			return;
		}
	/* A table full of odd lengths has its median already. */
	if (rp->nspacings == RPT_SPACINGS)
		return;
	rp->spacings[rp->nspacings].v = v;
	rp->spacings[rp->nspacings++].n = 1;
}

/*
 * The usual spacing of the lines.  A command cuts the interval of every
 * load short (and the next one too: the ticks keep their times), so when
 * commands come often the short ones may be most of the lines, and the
 * first line is often short as well: a plain median can be wrong.  Cuts
 * only shorten intervals, so take the most common length (to three
 * significant digits; a tie goes to the longer), then the median of the
 * lengths within 10% of it, which evens out the timer's jitter.  With no
 * lengths counted, the first line's interval.
 */
double
report_read_spacing(const struct report *rp)
{
	const struct spacing	*sp = rp->spacings;
	uint64_t		 total = 0, below = 0;
	size_t			 m = 0;
	double			 lo, hi, v = 0;

	if (rp->nspacings == 0)
		return rp->w0;
	for (size_t i = 1; i < rp->nspacings; i++)
		if (sp[i].n > sp[m].n || (sp[i].n == sp[m].n &&
		    sp[i].v > sp[m].v))
			m = i;
	lo = sp[m].v * 0.9;
	hi = sp[m].v * 1.1;
	for (size_t i = 0; i < rp->nspacings; i++)
		if (sp[i].v >= lo && sp[i].v <= hi)
			total += sp[i].n;
	/* The upper median, in increasing order, without sorting. */
	while (2 * below <= total) {
		size_t	 k = SIZE_MAX;

		for (size_t i = 0; i < rp->nspacings; i++)
			if (sp[i].v > v && sp[i].v >= lo && sp[i].v <= hi &&
			    (k == SIZE_MAX || sp[i].v < sp[k].v))
				k = i;
		v = sp[k].v;
		below += sp[k].n;
	}
	return v;
}

/*
 * Add a checked line to its load.  Returns 0, or -1 with a reason when
 * the line contradicts the ones before it.
 */
static int
rpt_feed(struct report *rp, const struct rec *r, char *err, size_t errlen)
{
	struct rload	*l;
	struct series	*s;
	struct erow	*into = NULL;
	double		 rel, d, dm, dcf, dm0 = 0;
	size_t		 k = 0;
	bool		 first, restart, was = false;

	if ((l = rpt_load(rp, r->load)) == NULL) {
		snprintf(err, errlen, "more than %d loads; pick one with -l",
		    RPT_LOADS_MAX);
		return -1;
	}
	first = l->lines == 0;
	restart = !first && (r->msgs < l->msgs ||
	    r->cfail < l->s[S_CFAIL].prev);
	if (!first && r->time < l->last_t) {
		snprintf(err, errlen, "time goes backwards for load \"%s\": "
		    "%.3f after %.3f (%.3fs earlier)", l->name, r->time,
		    l->last_t, l->last_t - r->time);
		return -1;
	}
	if (l->drawn && !rp->started) {
		rp->started = true;
		rp->t0 = rp->tlast = r->time;
		rp->w0 = rp->w = r->interval;
	}
	rel = r->time - rp->t0;
	if (l->drawn) {
		for (size_t i = 0; i < r->nkinds; i++)
			if (load_kind(l, r->kind[i]) == NULL) {
				snprintf(err, errlen, "more than %d error "
				    "kinds", RPT_KINDS_MAX);
				return -1;
			}
		k = rpt_bucket(rp, rel);
		if (r->time > rp->tlast)
			rp->tlast = r->time;
		l->flags[k] |= BF_DATA;
		/*
		 * An interval that begins well after the line before it
		 * ended means lines are missing (loadd was down, or the
		 * load was removed): the lines are not joined across it.
		 */
		if (!first && r->time - r->interval - l->last_t >
		    r->interval / 2 + 0.5)
			l->flags[k] |= BF_GAP;
		if (!first && r->epoch == l->epoch && !restart)
			rpt_spacing(rp, r->interval);
	}

	if (first) {
		l->first_t = r->time;
		l->first_start = r->time - r->interval;
		/*
		 * Counters are totals since the load was created.  If the
		 * first line's messages fit in its own interval, the load
		 * began there and its counters are that interval's;
		 * otherwise the log began in mid-run (a rotated file) and
		 * the first line is only the baseline.
		 */
		bool fresh = r->msgs <= r->msgs_ps * r->interval * 1.01 + 1;

		l->msgs = fresh ? 0 : r->msgs;
		l->replies = fresh ? 0 : r->replies;
		l->s[S_CFAIL].prev = fresh ? 0 : r->cfail;
		for (size_t i = 0; i < r->nkinds; i++)
			load_kind(l, r->kind[i])->prev = fresh ? 0 :
			    r->kval[i];
		if (!fresh) {
			/* Still count the first interval's messages. */
			dm0 = floor(r->msgs_ps * r->interval + 0.5);
			l->msgs_total += dm0;
			l->replies_total += floor(r->replies_ps * r->interval +
			    0.5);
		}
		if (l->drawn)
			into = load_row(l, r, r->cause);
	} else if (r->epoch != l->epoch || restart) {
		double	 t = r->time;
		char	 lab[256];

		/* When the command came, if the line says and it fits. */
		if (isfinite(r->epoch_start) && r->epoch_start >= l->last_t &&
		    r->epoch_start <= r->time)
			t = r->epoch_start;
		/*
		 * Counters going down: a new daemon (or the load removed
		 * and added again by a reload), maybe in the same epoch.
		 */
		if (r->msgs < l->msgs || r->cfail < l->s[S_CFAIL].prev)
			snprintf(lab, sizeof(lab), "restarted%s%s%s",
			    r->epoch != l->epoch ? " (" : "",
			    r->epoch != l->epoch ? r->cause : "",
			    r->epoch != l->epoch ? ")" : "");
		else
			snprintf(lab, sizeof(lab), "%s", r->cause);
		if (r->epoch != l->epoch)
			l->epochs++;
		if (l->drawn) {
			load_marker(rp, l, t - rp->t0, r->epoch, lab);
			/*
			 * The line that begins an epoch usually ends an
			 * interval the command cut short (the command's time
			 * is at its end): that interval is the old epoch's.
			 */
			was = !restart && l->nrows > 0 && l->rows_more == 0 &&
			    isfinite(r->epoch_start) &&
			    r->epoch_start > r->time - r->interval / 2;
			into = load_row(l, r, lab);
			if (was)
				into = &l->rows[l->nrows - 2 + (into == NULL)];
		}
	} else if (l->drawn && l->rows_more == 0)
		into = &l->rows[l->nrows - 1];
	l->lines++;
	l->last_t = r->time;
	l->epoch = r->epoch;

	dm = counter_delta(l->msgs, r->msgs);
	l->msgs_total += dm;
	dm += dm0;
	l->msgs = r->msgs;
	l->replies_total += counter_delta(l->replies, r->replies);
	l->replies = r->replies;
	s = &l->s[S_CFAIL];
	dcf = counter_delta(s->prev, r->cfail);
	s->total += dcf;
	s->prev = r->cfail;
	series_add(s, k, rel, dcf);
	if (into != NULL)
		row_add(into, r, dm, dcf);
	for (size_t i = 0; i < r->nkinds; i++) {
		s = load_kind(l, r->kind[i]);
		d = counter_delta(s->prev, r->kval[i]);
		s->total += d;
		s->prev = r->kval[i];
		series_add(s, k, rel, d);
		if (into != NULL)
			into->kerr[s - l->kinds] += d;
	}
	/* The epoch's own histograms, of the epoch the line names. */
	if (l->drawn && l->rows_more == 0)
		for (int h = 0; h < H_KINDS; h++) {
			struct epct	*p = &l->rows[l->nrows - 1].pct[h];

			if (r->epoch_h[h].has) {
				p->ecount = r->epoch_h[h].count;
				memcpy(p->e, r->epoch_h[h].v, sizeof(p->e));
			}
		}
	series_add(&l->s[S_MSGS], k, rel, r->msgs_ps);
	series_add(&l->s[S_REPLIES], k, rel, r->replies_ps);
	series_add(&l->s[S_BSENT], k, rel, r->bsent_ps);
	series_add(&l->s[S_BRECV], k, rel, r->brecv_ps);
	series_add(&l->s[S_ACTIVE], k, rel, r->active);
	series_add(&l->s[S_TARGET], k, rel, r->target);
	for (int h = 0; h < H_KINDS; h++) {
		if (r->has_hist[h])
			l->has_hist[h] = true;
		if (!r->ival[h].has || r->ival[h].count <= 0)
			continue;
		if (h == H_LAT)
			l->has_lat = true;
		else
			l->has_svc = true;
		for (int i = 0; i < RPT_LAT; i++)
			series_add(&l->s[hist_series[h] + i], k, rel,
			    r->ival[h].v[i]);
	}
	l->has_run = r->has_hist[H_LAT];
	if (r->has_hist[H_LAT]) {
		l->run_count = r->run.count;
		memcpy(l->run, r->run.v, sizeof(l->run));
	}
	return 0;
}

/*
 * Parsing is most of the time a report takes (jansson reads some 25 MB of
 * log a second), so lines are read in batches and parsed by several
 * threads at once; checking and feeding stay in the reading thread, in
 * order, so errors and their line numbers are exactly as if one thread
 * did it all.  Each parser thread touches only its own lines' JSON.
 */
#define RPT_BATCH	1024		/* lines */
#define RPT_BATCH_BYTES	(8 << 20)
#define RPT_THREADS_MAX	8

struct rline {
	size_t		 off, len;	/* in the batch's buffer */
	unsigned long	 lineno;
	bool		 nl;		/* ended by a newline */
	enum { RL_OK, RL_NOT_JSON, RL_BAD, RL_OTHER } status;
	json_error_t	 jerr;		/* RL_NOT_JSON */
	char		 why[256];	/* RL_BAD */
	struct rec	 r;		/* RL_OK */
};

struct rbatch {
	char		*buf;
	size_t		 used, cap;
	struct rline	*l;		/* [RPT_BATCH] */
	size_t		 n;
};

struct rslice {
	struct rbatch	*b;
	size_t		 from, to;
};

/*
 * Parse and check lines.  A line's JSON is freed by the thread that made
 * it, at once: what lives on is the small struct rec.
 */
static void *
batch_parse(void *arg)
{
	struct rslice	*sl = arg;
	json_t		*o;

	for (size_t i = sl->from; i < sl->to; i++) {
		struct rline	*rl = &sl->b->l[i];

		if ((o = json_loadb(sl->b->buf + rl->off, rl->len, 0,
		    &rl->jerr)) == NULL)
			rl->status = RL_NOT_JSON;
		else if (json_is_object(o) && json_object_get(o, "record") !=
		    NULL)
			/* Not an interval: a run's summary (results.md). */
			rl->status = RL_OTHER;
		else if (rec_parse(o, &rl->r, rl->why, sizeof(rl->why)) == -1)
			rl->status = RL_BAD;
		else
			rl->status = RL_OK;
		json_decref(o);
	}
	return NULL;
}

static void
batch_parse_all(struct rbatch *b, int nthreads)
{
	pthread_t	 th[RPT_THREADS_MAX];
	struct rslice	 sl[RPT_THREADS_MAX];
	int		 started = 0;

	if (b->n < 64)
		nthreads = 1;
	for (int t = 0; t < nthreads; t++) {
		sl[t].b = b;
		sl[t].from = b->n * (size_t)t / (size_t)nthreads;
		sl[t].to = b->n * (size_t)(t + 1) / (size_t)nthreads;
	}
	for (int t = 1; t < nthreads; t++) {
		if (pthread_create(&th[t], NULL, batch_parse, &sl[t]) != 0)
			break;
		started = t;
	}
	/* This thread takes the first slice, and any not started. */
	batch_parse(&sl[0]);
	for (int t = started + 1; t < nthreads; t++)
		batch_parse(&sl[t]);
	for (int t = 1; t <= started; t++)
		pthread_join(th[t], NULL);
}

static int
rpt_threads(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > RPT_THREADS_MAX ? RPT_THREADS_MAX : (int)n;
}

/*
 * Read one results log.  Returns 0, or -1 after printing FILE:LINE and
 * the reason.  An unterminated last line that does not parse is what a
 * crash (or a writer still at work) leaves: it is skipped with a warning.
 */
int
report_read(struct report *rp, const char *path, uint64_t *nlines)
{
	FILE		*f;
	const char	*name = path;
	char		*line = NULL, err[512];
	size_t		 cap = 0, i;
	ssize_t		 n;
	unsigned long	 lineno = 0;
	int		 rc = 0, nthreads = rpt_threads();
	bool		 eof = false, stop = false;
	struct rbatch	 b = { 0 };

	*nlines = 0;
	if (strcmp(path, "-") == 0) {
		f = stdin;
		name = "(stdin)";
	} else if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "loadctl: report: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	b.l = xcalloc(RPT_BATCH, sizeof(*b.l));
	json_decref(json_object());	/* seeds jansson's hashing, once */
	while (!eof && !stop) {
		b.n = b.used = 0;
		while (b.n < RPT_BATCH && b.used < RPT_BATCH_BYTES) {
			struct rline	*rl;
			bool		 nl;
			size_t		 len;

			if ((n = getline(&line, &cap, f)) == -1) {
				eof = true;
				break;
			}
			lineno++;
			nl = n > 0 && line[n - 1] == '\n';
			len = (size_t)n - (nl ? 1 : 0);
			for (i = 0; i < len && (line[i] == ' ' ||
			    line[i] == '\t' || line[i] == '\r'); i++)
				;
			if (i == len)
				continue;	/* blank */
			if (b.used + len > b.cap) {
				b.cap = (b.used + len) * 2;
				if ((b.buf = realloc(b.buf, b.cap)) == NULL)
					fatal("realloc");
			}
			memcpy(b.buf + b.used, line, len);
			rl = &b.l[b.n++];
			rl->off = b.used;
			rl->len = len;
			rl->lineno = lineno;
			rl->nl = nl;
			b.used += len;
		}
		batch_parse_all(&b, nthreads);
		for (i = 0; i < b.n; i++) {
			struct rline	*rl = &b.l[i];

			if (stop)
				break;
			if (rl->status == RL_NOT_JSON && !rl->nl) {
				/* Only the last line can lack its newline. */
				report_read_note(rp, "%s:%lu: warning: the last line "
				    "is incomplete (no newline at its end: "
				    "loadd crashed or is still writing it); "
				    "ignored", name, rl->lineno);
				stop = true;
			} else if (rl->status == RL_NOT_JSON) {
				/* jansson speaks of a file; we read lines. */
				fprintf(stderr, "loadctl: report: %s:%lu: not "
				    "JSON%s: %s (column %d)\n", name,
				    rl->lineno, strstr(rl->jerr.text,
				    "end of file expected") ?
				    " (more after the object)" :
				    strstr(rl->jerr.text, "near end of file") ?
				    " (the line ends inside the object: cut "
				    "short?)" : "", rl->jerr.text,
				    rl->jerr.column);
				rc = -1;
				stop = true;
			} else if (rl->status == RL_OTHER)
				continue;
			else if (rl->status == RL_BAD ||
			    rpt_feed(rp, &rl->r, err, sizeof(err)) == -1) {
				fprintf(stderr, "loadctl: report: %s:%lu: %s\n",
				    name, rl->lineno, rl->status == RL_BAD ?
				    rl->why : err);
				rc = -1;
				stop = true;
			} else
				(*nlines)++;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "loadctl: report: %s: %s\n", name,
		    strerror(errno));
		rc = -1;
	}
	free(b.buf);
	free(b.l);
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}
