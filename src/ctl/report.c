/* SPDX-License-Identifier: ISC */
/*
 * report.c -- `loadctl report`: read results logs (docs/results.md) and
 * draw each load's run as one self-contained HTML page or SVG picture
 * (docs/report.md).
 *
 * The input is streamed.  Each line is parsed with jansson, checked, and
 * reduced at once to the few numbers the pictures need; no JSON is kept.
 * The numbers go into a fixed number of time buckets per series holding
 * the minimum and the maximum seen (and when), so that a spike of one
 * interval survives a week of data.  When time runs past the last bucket,
 * neighbouring buckets are merged in pairs and the bucket width doubles:
 * memory stays the same however long the run, and the picture never has
 * more than two points per bucket and series.  Lines are parsed by a few
 * threads at once (rpt_read); everything else is one thread, in order.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cmd.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"
#include "report.h"


#define RPT_BUCKETS	1000	/* per series; even, as they merge in pairs */
#define RPT_LOADS_MAX	100	/* ~600 KB of buckets each, with 12 kinds */
#define RPT_KINDS_MAX	32	/* error kinds per load */
#define RPT_FILES_MAX	1000

#define EXIT_BADDATA	1
#define EXIT_USAGE	2

/* ------------------------------------------------------------ the model */

/*
 * One time bucket of one series: the smallest and the largest value, with
 * their times (seconds from the first line; float is ample for drawing).
 * Empty while vmin > vmax.
 */
struct bucket {
	float	 tmin, tmax;
	double	 vmin, vmax;
};

struct series {
	char		*name;		/* legend text */
	const char	*color;
	bool		 dashed;
	struct bucket	*b;		/* [RPT_BUCKETS] */
	bool		 seen;		/* any value at all */
	double		 peak;		/* largest value */
	double		 total;		/* counters: the sum of increases */
	double		 prev;		/* counters: value on the previous line */
};

/* The fixed series of a load; error kinds come after, in kinds[]. */
enum {
	S_MSGS = 0,
	S_REPLIES,
	S_BSENT,
	S_BRECV,
	S_ACTIVE,
	S_TARGET,
	S_CFAIL,
	S_P50,
	S_P90,
	S_P99,
	S_P999,
	S_PMAX,
	S_FIXED
};

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
};

static const char *const kind_colors[] = {
	"#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
	"#17becf", "#1f77b4", "#2ca02c", "#7f7f7f",
};

/* Bucket flags of a load. */
#define BF_DATA		0x01	/* a line of the load fell in the bucket */
#define BF_GAP		0x02	/* lines are missing before this bucket */

/* An epoch change, or several merged when they share a bucket. */
struct marker {
	double		 t;		/* seconds from the first line */
	long long	 epoch;
	char		*cause;
	unsigned	 more;		/* further changes in the same bucket */
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
	bool		 has_lat;
	double		 lat_count, lat[5];	/* p50 p90 p99 p99.9 max */
	double		 run_count, run[5];
};

struct rload {
	char		*name;
	bool		 drawn;		/* -l: only one load is */
	struct series	 s[S_FIXED];
	struct series	 kinds[RPT_KINDS_MAX];
	size_t		 nkinds;
	uint8_t		*flags;		/* [RPT_BUCKETS] of BF_* */
	struct marker	*marks;
	size_t		 nmarks, capmarks;
	uint64_t	 lines;
	double		 first_t, first_start, last_t;
	long long	 epoch;
	unsigned	 epochs;	/* changes seen (epochs - 1) */
	double		 msgs, replies;	/* counters on the previous line */
	double		 msgs_total, replies_total;
	bool		 has_lat;	/* some interval had a latency count */
	bool		 has_run;
	double		 run_count, run[5]; /* latency_us.run, the last line */
};

struct report {
	const char	*only;		/* -l LOAD, or NULL */
	struct rload	*loads;
	size_t		 nloads;
	bool		 started;
	double		 t0;		/* time of the first drawn line */
	double		 tlast;		/* latest time drawn */
	double		 w0;		/* the first line's interval */
	double		 w;		/* bucket width: w0 * 2^n */
	size_t		 nb;		/* buckets in use */
	uint64_t	 lines;		/* lines read and checked */
	char		*notes[8];	/* warnings, for the page as well */
	size_t		 nnotes;
};

/* ------------------------------------------------------------- helpers */

static void
rpt_note(struct report *rp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A warning: on stderr now, and on the page later. */
static void
rpt_note(struct report *rp, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
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

static void
rpt_free(struct report *rp)
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

static const char *const pct_keys[5] = { "p50", "p90", "p99", "p99.9", "max" };

static int
get_hist(json_t *lat, const char *which, double *count, double v[5],
    char *err, size_t errlen)
{
	json_t	*h;
	char	 path[64];

	snprintf(path, sizeof(path), "latency_us.%s.", which);
	if (get_obj(lat, "latency_us.", which, &h, err, errlen) == -1 ||
	    get_num(h, path, "count", 0, false, count, err, errlen) == -1)
		return -1;
	for (int i = 0; i < 5; i++)
		if (get_num(h, path, pct_keys[i], 0, false, &v[i], err,
		    errlen) == -1)
			return -1;
	return 0;
}

/*
 * Check one line and pull out what the report uses.  The epoch comes flat
 * ("epoch", "epoch_cause", "epoch_start", as docs/results.md shows it) or
 * as an object ({"number", "cause", "start"}, as `loadctl stats` has it).
 * latency_us is absent for loads that expect no reply.
 */
static int
rec_parse(json_t *o, struct rec *r, char *err, size_t errlen)
{
	json_t		*v, *errs, *lat;
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
	if (get_num(o, "", "connections_target", 0, false, &r->target, err,
	    errlen) == -1 ||
	    get_num(o, "", "connections_active", 0, false, &r->active, err,
	    errlen) == -1 ||
	    get_num(o, "", "connects_failed", 0, false, &r->cfail, err,
	    errlen) == -1 ||
	    get_num(o, "", "messages_sent", 0, false, &r->msgs, err,
	    errlen) == -1 ||
	    get_num(o, "", "replies", 0, false, &r->replies, err,
	    errlen) == -1 ||
	    get_num(o, "", "messages_sent_per_s", 0, false, &r->msgs_ps, err,
	    errlen) == -1 ||
	    get_num(o, "", "replies_per_s", 0, false, &r->replies_ps, err,
	    errlen) == -1 ||
	    get_num(o, "", "bytes_sent_per_s", 0, false, &r->bsent_ps, err,
	    errlen) == -1 ||
	    get_num(o, "", "bytes_received_per_s", 0, false, &r->brecv_ps, err,
	    errlen) == -1 ||
	    get_obj(o, "", "errors", &errs, err, errlen) == -1)
		return -1;
	json_object_foreach(errs, k, v) {
		if (r->nkinds == RPT_KINDS_MAX) {
			snprintf(err, errlen, "more than %d error kinds",
			    RPT_KINDS_MAX);
			return -1;
		}
		if (get_num(errs, "errors.", k, 0, false,
		    &r->kval[r->nkinds], err, errlen) == -1)
			return -1;
		if ((n = strlen(k) + 1) > sizeof(r->kbuf) - kused) {
			snprintf(err, errlen, "the names in \"errors\" are too "
			    "long");
			return -1;
		}
		memcpy(r->kbuf + kused, k, n);
		r->kind[r->nkinds++] = r->kbuf + kused;
		kused += n;
	}
	if ((lat = json_object_get(o, "latency_us")) != NULL) {
		if (!json_is_object(lat)) {
			snprintf(err, errlen, "field \"latency_us\" is not an "
			    "object");
			return -1;
		}
		if (get_hist(lat, "interval", &r->lat_count, r->lat, err,
		    errlen) == -1 ||
		    get_hist(lat, "run", &r->run_count, r->run, err,
		    errlen) == -1)
			return -1;
		r->has_lat = true;
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

/*
 * Add a checked line to its load.  Returns 0, or -1 with a reason when
 * the line contradicts the ones before it.
 */
static int
rpt_feed(struct report *rp, const struct rec *r, char *err, size_t errlen)
{
	struct rload	*l;
	struct series	*s;
	double		 rel, d;
	size_t		 k = 0;
	bool		 first;

	if ((l = rpt_load(rp, r->load)) == NULL) {
		snprintf(err, errlen, "more than %d loads; pick one with -l",
		    RPT_LOADS_MAX);
		return -1;
	}
	first = l->lines == 0;
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
			l->msgs_total += floor(r->msgs_ps * r->interval + 0.5);
			l->replies_total += floor(r->replies_ps * r->interval +
			    0.5);
		}
	} else if (r->epoch != l->epoch || r->msgs < l->msgs ||
	    r->cfail < l->s[S_CFAIL].prev) {
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
		if (l->drawn)
			load_marker(rp, l, t - rp->t0, r->epoch, lab);
	}
	l->lines++;
	l->last_t = r->time;
	l->epoch = r->epoch;

	l->msgs_total += counter_delta(l->msgs, r->msgs);
	l->msgs = r->msgs;
	l->replies_total += counter_delta(l->replies, r->replies);
	l->replies = r->replies;
	s = &l->s[S_CFAIL];
	d = counter_delta(s->prev, r->cfail);
	s->total += d;
	s->prev = r->cfail;
	series_add(s, k, rel, d);
	for (size_t i = 0; i < r->nkinds; i++) {
		s = load_kind(l, r->kind[i]);
		d = counter_delta(s->prev, r->kval[i]);
		s->total += d;
		s->prev = r->kval[i];
		series_add(s, k, rel, d);
	}
	series_add(&l->s[S_MSGS], k, rel, r->msgs_ps);
	series_add(&l->s[S_REPLIES], k, rel, r->replies_ps);
	series_add(&l->s[S_BSENT], k, rel, r->bsent_ps);
	series_add(&l->s[S_BRECV], k, rel, r->brecv_ps);
	series_add(&l->s[S_ACTIVE], k, rel, r->active);
	series_add(&l->s[S_TARGET], k, rel, r->target);
	if (r->has_lat && r->lat_count > 0) {
		l->has_lat = true;
		for (int i = 0; i < 5; i++)
			series_add(&l->s[S_P50 + i], k, rel, r->lat[i]);
	}
	l->has_run = r->has_lat;
	if (r->has_lat) {
		l->run_count = r->run_count;
		memcpy(l->run, r->run, sizeof(l->run));
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
	enum { RL_OK, RL_NOT_JSON, RL_BAD } status;
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
static int
rpt_read(struct report *rp, const char *path, uint64_t *nlines)
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
				rpt_note(rp, "%s:%lu: warning: the last line "
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
			} else if (rl->status == RL_BAD ||
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

/* ---------------------------------------------------------- formatting */

static void
put_esc(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			/* XML 1.0 has no place for control characters. */
			if ((unsigned char)*s < 0x20 && *s != '\t' &&
			    *s != '\n')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

/* 1234567 -> "1,234,567" */
static const char *
fmt_int(double v, char *buf, size_t len)
{
	char	 tmp[64];
	size_t	 n, o = 0;

	snprintf(tmp, sizeof(tmp), "%.0f", v);
	n = strlen(tmp);
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		buf[o++] = tmp[i];
		if (tmp[i] != '-' && (n - i - 1) % 3 == 0 && i + 1 < n)
			buf[o++] = ',';
	}
	buf[o] = '\0';
	return buf;
}

/* 2500 -> "2.5k", 1e6 -> "1M" */
static const char *
fmt_si(double v, char *buf, size_t len)
{
	static const char *const sfx[] = { "", "k", "M", "G", "T", "P" };
	int	 i = 0;

	while (fabs(v) >= 1000 && i < 5) {
		v /= 1000;
		i++;
	}
	snprintf(buf, len, "%.4g%s", v, sfx[i]);
	return buf;
}

/* Microseconds, for people. */
static const char *
fmt_us(double us, char *buf, size_t len)
{
	if (us < 1000)
		snprintf(buf, len, "%.3g µs", us);
	else if (us < 1e6)
		snprintf(buf, len, "%.3g ms", us / 1e3);
	else
		snprintf(buf, len, "%.3g s", us / 1e6);
	return buf;
}

/* A duration for the summary: "45.2s", "2h 5m 3s", "6d 23h 59m". */
static const char *
fmt_dur(double s, char *buf, size_t len)
{
	long long	 t = llround(s);
	int		 o = 0;

	if (s < 60) {
		snprintf(buf, len, "%.1fs", s);
		return buf;
	}
	buf[0] = '\0';
	if (t >= 86400)
		o += snprintf(buf + o, len - (size_t)o, "%lldd ", t / 86400);
	if (t >= 3600)
		o += snprintf(buf + o, len - (size_t)o, "%lldh ",
		    t % 86400 / 3600);
	o += snprintf(buf + o, len - (size_t)o, "%lldm", t % 3600 / 60);
	if (t < 86400)
		snprintf(buf + o, len - (size_t)o, " %llds", t % 60);
	return buf;
}

/* An elapsed-time tick: "0", "30s", "1m30s", "2h", "1d12h". */
static const char *
fmt_elapsed(double t, char *buf, size_t len)
{
	long long	 s = llround(t);
	int		 o = 0;

	if (t != floor(t) && t < 60) {
		snprintf(buf, len, "%gs", t);
		return buf;
	}
	if (s == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	buf[0] = '\0';
	if (s / 86400 > 0)
		o += snprintf(buf + o, len - (size_t)o, "%lldd", s / 86400);
	if (s % 86400 / 3600 > 0)
		o += snprintf(buf + o, len - (size_t)o, "%lldh",
		    s % 86400 / 3600);
	if (s % 3600 / 60 > 0)
		o += snprintf(buf + o, len - (size_t)o, "%lldm",
		    s % 3600 / 60);
	if (s % 60 > 0)
		snprintf(buf + o, len - (size_t)o, "%llds", s % 60);
	return buf;
}

static const char *
fmt_time(double t, char *buf, size_t len)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "%.0f", t);
	return buf;
}

/* ------------------------------------------------------------ drawing */

#define W		1200	/* picture width */
#define ML		88	/* left margin: tick labels, axis title */
#define MR		24
#define PW		(W - ML - MR)
#define PH		170	/* plot height */
#define P_TOP		30	/* panel title row above the plot */
#define P_BOTTOM	42	/* tick labels and axis title below */
#define P_GAP		14
#define PANEL_H		(P_TOP + PH + P_BOTTOM + P_GAP)
#define NOTE_H		44	/* the "no errors" strip */

enum yscale {
	Y_COUNT,	/* integers: ticks at least 1 apart */
	Y_RATE,
	Y_BYTES,
	Y_LOG_US,
};

struct panel {
	double		 x0, y0;	/* plot area, top left */
	double		 lo, hi;
	enum yscale	 scale;
};

static const char svg_css[] =
    "text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,"
    "'DejaVu Sans',Helvetica,Arial,sans-serif}"
    ".pt{font-size:14px;font-weight:600;fill:#222}"
    ".lg{font-size:12px;fill:#333}"
    ".tk{font-size:11px;fill:#555}"
    ".at{font-size:11px;fill:#777}"
    ".nt{font-size:12px;fill:#555}"
    ".ep{font-size:11px;fill:#333;stroke:#fff;stroke-width:3px;"
    "paint-order:stroke;stroke-linejoin:round}"
    ".gr{stroke:#ececec;stroke-width:1}"
    ".gm{stroke:#f5f5f5;stroke-width:1}"
    ".fr{fill:none;stroke:#c8c8c8}"
    ".el{stroke:#666;stroke-width:1;stroke-dasharray:4 3}"
    ".s{fill:none;stroke-width:1.4;stroke-linejoin:round;"
    "stroke-linecap:round}";

static double
px_x(const struct report *rp, const struct panel *p, double rel)
{
	double	 span = rp->tlast - rp->t0;

	if (span <= 0)
		span = rp->w0;
	if (rel < 0)
		rel = 0;
	if (rel > span)
		rel = span;
	return p->x0 + rel / span * PW;
}

static double
px_y(const struct panel *p, double v)
{
	double	 f;

	if (p->scale == Y_LOG_US) {
		if (v < p->lo)
			v = p->lo;
		f = (log10(v) - log10(p->lo)) / (log10(p->hi) - log10(p->lo));
	} else
		f = (v - p->lo) / (p->hi - p->lo);
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return p->y0 + PH - f * PH;
}

static double
nice_step(double range, int n, bool integer)
{
	double	 raw = range / n, mag = pow(10, floor(log10(raw))), f;

	f = raw / mag;
	f = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
	if (integer && f * mag < 1)
		return 1;
	return f * mag;
}

static void
tick_label(const struct panel *p, double v, char *buf, size_t len)
{
	char	 tmp[24];

	switch (p->scale) {
	case Y_LOG_US:
		fmt_us(v, buf, len);
		break;
	case Y_BYTES:
		if (v == 0)
			snprintf(buf, len, "0");
		else
			snprintf(buf, len, "%s B/s", fmt_si(v, tmp,
			    sizeof(tmp)));
		break;
	default:
		fmt_si(v, buf, len);
	}
}

static void
y_tick(FILE *f, const struct panel *p, double v, bool label, bool minor)
{
	char	 buf[48];
	double	 y = px_y(p, v);

	fprintf(f, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
	    "y2=\"%.1f\"/>\n", minor ? "gm" : "gr", p->x0, p->x0 + PW, y, y);
	if (!label)
		return;
	tick_label(p, v, buf, sizeof(buf));
	fprintf(f, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" "
	    "text-anchor=\"end\">%s</text>\n", p->x0 - 6, y + 4, buf);
}

/* Pick the y range from the series drawn and draw the grid. */
static void
panel_grid(FILE *f, struct panel *p, double lo, double hi)
{
	if (p->scale == Y_LOG_US) {
		double	 dlo, dhi;

		if (lo <= 0)
			lo = 1;
		if (hi < lo)
			hi = lo;
		dlo = floor(log10(lo));
		dhi = ceil(log10(hi));
		if (dhi <= dlo)
			dhi = dlo + 1;
		p->lo = pow(10, dlo);
		p->hi = pow(10, dhi);
		for (double e = dlo; e <= dhi; e++) {
			double	 dec = pow(10, e);

			y_tick(f, p, dec, true, false);
			if (e == dhi)
				break;
			for (int m = 2; m <= 9; m++)
				y_tick(f, p, dec * m, dhi - dlo <= 2 &&
				    (m == 2 || m == 5), true);
		}
		return;
	}
	double	 step;

	p->lo = 0;
	if (hi <= 0)
		hi = 1;
	step = nice_step(hi * 1.08, 5, p->scale == Y_COUNT);
	p->hi = ceil(hi * 1.08 / step) * step;
	for (int i = 0; p->lo + i * step <= p->hi * (1 + 1e-9); i++)
		y_tick(f, p, p->lo + i * step, true, false);
}

static void
panel_xaxis(FILE *f, const struct report *rp, const struct panel *p,
    bool title)
{
	static const double steps[] = {
		0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900,
		1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
		1209600, 2419200, 4838400, 9676800, 31449600,
	};
	double	 span = rp->tlast - rp->t0, step = steps[0];
	char	 buf[32], st[64];

	if (span <= 0)
		span = rp->w0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i];
		if (span / step <= 10)
			break;
	}
	for (double t = 0; t <= span * (1 + 1e-9); t += step) {
		double	 x = px_x(rp, p, t);

		fprintf(f, "<line class=\"gr\" x1=\"%.1f\" x2=\"%.1f\" "
		    "y1=\"%.1f\" y2=\"%.1f\"/>\n", x, x, p->y0, p->y0 + PH);
		fprintf(f, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" "
		    "text-anchor=\"middle\">%s</text>\n", x, p->y0 + PH + 15,
		    fmt_elapsed(t, buf, sizeof(buf)));
	}
	if (title)
		fprintf(f, "<text class=\"at\" x=\"%.1f\" y=\"%.1f\" "
		    "text-anchor=\"middle\">time since the first line (%s)"
		    "</text>\n", p->x0 + PW / 2.0, p->y0 + PH + 32,
		    fmt_time(rp->t0, st, sizeof(st)));
}

/*
 * One series as a path: per bucket its minimum and maximum in the order
 * they happened.  The line breaks where the load has lines but the series
 * has no value (latency of an idle interval) and where lines are missing.
 * A run of points at the same height keeps only its ends.
 */
static void
panel_series(FILE *f, const struct report *rp, const struct panel *p,
    const struct rload *l, const struct series *s)
{
	static float	 px[2 * RPT_BUCKETS], py[2 * RPT_BUCKETS];
	size_t		 n = 0;
	bool		 brk = false;

	fprintf(f, "<path class=\"s\" stroke=\"%s\"%s d=\"", s->color,
	    s->dashed ? " stroke-dasharray=\"6 3\"" : "");
	for (size_t k = 0; k <= rp->nb; k++) {
		const struct bucket *b = k < rp->nb ? &s->b[k] : NULL;
		bool	 has = b != NULL && b->vmin <= b->vmax;

		if (b != NULL && (l->flags[k] & BF_GAP))
			brk = true;
		if (b != NULL && !has && (l->flags[k] & BF_DATA))
			brk = true;
		if ((k == rp->nb || (has && brk)) && n > 0) {
			/* Flush the segment. */
			for (size_t i = 0; i < n; i++) {
				if (i > 0 && i + 1 < n && py[i] == py[i - 1] &&
				    py[i] == py[i + 1])
					continue;
				fprintf(f, i == 0 ? "M%.1f %.1f" : " %.1f %.1f",
				    px[i], py[i]);
			}
			if (n == 1)
				fprintf(f, "h0.5");
			n = 0;
		}
		if (!has)
			continue;
		brk = false;
		double	 ta = b->tmin, va = b->vmin, tb = b->tmax, vb = b->vmax;

		if (tb < ta) {
			ta = b->tmax;
			va = b->vmax;
			tb = b->tmin;
			vb = b->vmin;
		}
		px[n] = (float)(floor(px_x(rp, p, ta) * 10 + 0.5) / 10);
		py[n] = (float)(floor(px_y(p, va) * 10 + 0.5) / 10);
		n++;
		if (ta != tb || va != vb) {
			px[n] = (float)(floor(px_x(rp, p, tb) * 10 + 0.5) / 10);
			py[n] = (float)(floor(px_y(p, vb) * 10 + 0.5) / 10);
			n++;
		}
	}
	fprintf(f, "\"><title>");
	put_esc(f, s->name);
	fprintf(f, "</title></path>\n");
}

/*
 * Epoch changes: a dashed line each, labelled with what began the epoch.
 * Labels go in three rows (one when there are many changes, and the lines
 * fade); a label that fits nowhere is left out, the line's tooltip still
 * tells.
 */
static void
panel_markers(FILE *f, const struct report *rp, const struct panel *p,
    const struct rload *l)
{
	double	 row_end[3] = { -1e9, -1e9, -1e9 };
	char	 buf[64], lab[300];
	int	 rows = l->nmarks > 20 ? 1 : 3;
	bool	 many = l->nmarks > 60;

	for (size_t i = 0; i < l->nmarks; i++) {
		const struct marker *m = &l->marks[i];
		double	 x = px_x(rp, p, m->t), wd;
		bool	 left;
		int	 r;

		if (m->more > 0)
			snprintf(lab, sizeof(lab), "%s (+%u more)", m->cause,
			    m->more);
		else
			snprintf(lab, sizeof(lab), "%s", m->cause);
		wd = (double)strlen(lab) * 6.1 + 4;
		left = x + 3 + wd > p->x0 + PW;
		fprintf(f, "<g><title>epoch %lld at %s: ", m->epoch,
		    fmt_elapsed(floor(m->t + 0.5), buf, sizeof(buf)));
		put_esc(f, lab);
		fprintf(f, "</title><line class=\"el\"%s x1=\"%.1f\" "
		    "x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", many ?
		    " stroke-opacity=\"0.3\"" : "", x, x, p->y0, p->y0 + PH);
		for (r = 0; r < rows; r++) {
			double	 a = left ? x - 3 - wd : x + 3;

			if (a >= row_end[r] + 4) {
				row_end[r] = a + wd;
				break;
			}
		}
		if (r < rows) {
			fprintf(f, "<text class=\"ep\" x=\"%.1f\" y=\"%.1f\"%s>",
			    left ? x - 3 : x + 3, p->y0 + 12 + 13 * r,
			    left ? " text-anchor=\"end\"" : "");
			put_esc(f, lab);
			fprintf(f, "</text>");
		}
		fprintf(f, "</g>\n");
	}
}

/* Panel title and legend in the row above the plot. */
static void
panel_head(FILE *f, const struct panel *p, const char *title,
    const char *ytitle, const struct series *const *ss, size_t n)
{
	double	 x = p->x0 + (double)strlen(title) * 8.2 + 24;

	fprintf(f, "<text class=\"pt\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
	    p->x0, p->y0 - 12, title);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"%s/>",
		    x, x + 18, p->y0 - 16, p->y0 - 16, ss[i]->color,
		    ss[i]->dashed ? " stroke-dasharray=\"5 2\"" : "");
		fprintf(f, "<text class=\"lg\" x=\"%.1f\" y=\"%.1f\">", x + 23,
		    p->y0 - 12);
		put_esc(f, ss[i]->name);
		fprintf(f, "</text>\n");
		x += 23 + (double)strlen(ss[i]->name) * 6.8 + 18;
	}
	fprintf(f, "<text class=\"at\" transform=\"translate(%.1f %.1f) "
	    "rotate(-90)\" text-anchor=\"middle\">%s</text>\n", p->x0 - 74,
	    p->y0 + PH / 2.0, ytitle);
}

/* One panel at height y; returns the height used. */
static double
draw_panel(FILE *f, const struct report *rp, const struct rload *l,
    double y, const char *title, const char *ytitle, enum yscale scale,
    const struct series *const *ss, size_t n, bool reverse)
{
	struct panel	 p = { .x0 = ML, .y0 = y + P_TOP, .scale = scale };
	double		 lo = INFINITY, hi = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < rp->nb; k++) {
			const struct bucket *b = &ss[i]->b[k];

			if (b->vmin > b->vmax)
				continue;
			if (b->vmax > hi)
				hi = b->vmax;
			if (b->vmin > 0 && b->vmin < lo)
				lo = b->vmin;
		}
	fprintf(f, "<g>\n");
	panel_head(f, &p, title, ytitle, ss, n);
	panel_grid(f, &p, isfinite(lo) ? lo : 1, hi);
	panel_xaxis(f, rp, &p, true);
	fprintf(f, "<rect class=\"fr\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" "
	    "height=\"%d\"/>\n", p.x0, p.y0, PW, PH);
	/* Latency: max at the back, p50 in front, legend still p50 first. */
	for (size_t i = 0; i < n; i++)
		panel_series(f, rp, &p, l, ss[reverse ? n - 1 - i : i]);
	panel_markers(f, rp, &p, l);
	fprintf(f, "</g>\n");
	return PANEL_H;
}

static size_t
error_series(const struct rload *l, const struct series **ss)
{
	size_t	 n = 0;

	if (l->s[S_CFAIL].total > 0)
		ss[n++] = &l->s[S_CFAIL];
	for (size_t i = 0; i < l->nkinds; i++)
		if (l->kinds[i].total > 0)
			ss[n++] = &l->kinds[i];
	return n;
}

static double
load_height(const struct rload *l)
{
	const struct series *ss[RPT_KINDS_MAX + 1];

	return 3 * PANEL_H + (error_series(l, ss) > 0 ? PANEL_H : NOTE_H) +
	    (l->has_lat ? PANEL_H : 0);
}

/* Every panel of a load, from height y. */
static void
draw_load(FILE *f, const struct report *rp, const struct rload *l, double y)
{
	const struct series *ss[RPT_KINDS_MAX + 1];
	size_t		 n;
	char		 ytitle[64], buf[32];

	n = 0;
	ss[n++] = &l->s[S_MSGS];
	if (l->s[S_REPLIES].peak > 0)
		ss[n++] = &l->s[S_REPLIES];
	y += draw_panel(f, rp, l, y, "Throughput", "messages per second",
	    Y_RATE, ss, n, false);
	n = 0;
	ss[n++] = &l->s[S_BSENT];
	if (l->s[S_BRECV].peak > 0)
		ss[n++] = &l->s[S_BRECV];
	y += draw_panel(f, rp, l, y, "Bandwidth", "bytes per second", Y_BYTES,
	    ss, n, false);
	ss[0] = &l->s[S_ACTIVE];
	ss[1] = &l->s[S_TARGET];
	y += draw_panel(f, rp, l, y, "Connections", "connections", Y_COUNT,
	    ss, 2, false);
	if ((n = error_series(l, ss)) > 0) {
		fmt_elapsed(rp->w0, buf, sizeof(buf));
		snprintf(ytitle, sizeof(ytitle), "errors per interval (%s)",
		    buf);
		y += draw_panel(f, rp, l, y, "Errors", ytitle, Y_COUNT, ss, n,
		    false);
	} else {
		fprintf(f, "<text class=\"pt\" x=\"%d\" y=\"%.1f\">Errors"
		    "</text><text class=\"nt\" x=\"%d\" y=\"%.1f\">none: no "
		    "error of any kind and no failed connect</text>\n", ML,
		    y + 18, ML + 70, y + 18);
		y += NOTE_H;
	}
	if (l->has_lat) {
		ss[0] = &l->s[S_P50];
		ss[1] = &l->s[S_P90];
		ss[2] = &l->s[S_P99];
		ss[3] = &l->s[S_P999];
		ss[4] = &l->s[S_PMAX];
		draw_panel(f, rp, l, y, "Latency of each interval",
		    "latency (log scale)", Y_LOG_US, ss, 5, true);
	}
}

/* ------------------------------------------------------------- summary */

struct summary {
	char	 dur[32], msgs[32], rate[32], replies[32], errs[1024];
	char	 cfail[32], lat[4][32];
	char	 epochs[32];
};

static void
load_summary(const struct rload *l, struct summary *sm)
{
	double	 dur = l->last_t - l->first_start;
	char	 num[32];
	size_t	 o = 0;

	fmt_dur(dur, sm->dur, sizeof(sm->dur));
	fmt_int(l->msgs_total, sm->msgs, sizeof(sm->msgs));
	fmt_int(l->replies_total, sm->replies, sizeof(sm->replies));
	if (dur > 0 && l->msgs_total / dur < 100)
		snprintf(sm->rate, sizeof(sm->rate), "%.1f/s",
		    l->msgs_total / dur);
	else if (dur > 0)
		snprintf(sm->rate, sizeof(sm->rate), "%s/s",
		    fmt_int(l->msgs_total / dur, num, sizeof(num)));
	else
		snprintf(sm->rate, sizeof(sm->rate), "-");
	sm->errs[0] = '\0';
	for (size_t i = 0; i < l->nkinds; i++) {
		if (l->kinds[i].total <= 0)
			continue;
		o += (size_t)snprintf(sm->errs + o, sizeof(sm->errs) - o,
		    "%s%s %s", o ? ", " : "", l->kinds[i].name,
		    fmt_int(l->kinds[i].total, num, sizeof(num)));
		if (o >= sizeof(sm->errs))
			break;
	}
	if (sm->errs[0] == '\0')
		snprintf(sm->errs, sizeof(sm->errs), "none");
	fmt_int(l->s[S_CFAIL].total, sm->cfail, sizeof(sm->cfail));
	for (int i = 0; i < 4; i++) {
		static const int idx[4] = { 0, 2, 3, 4 }; /* p50 p99 p99.9 max */

		if (l->has_run && l->run_count > 0)
			fmt_us(l->run[idx[i]], sm->lat[i], sizeof(sm->lat[i]));
		else
			snprintf(sm->lat[i], sizeof(sm->lat[i]), "-");
	}
	snprintf(sm->epochs, sizeof(sm->epochs), "%u", l->epochs + 1);
}

static void
note_resolution(FILE *f, const struct report *rp, const char *pre,
    const char *post)
{
	char	 a[32], b[32];

	if (rp->w <= rp->w0 * 1.0001)
		fprintf(f, "%sone point per line (every %s)%s", pre,
		    fmt_elapsed(rp->w0, a, sizeof(a)), post);
	else
		fprintf(f, "%seach stretch of %s is drawn as its lowest and "
		    "highest value (lines every %s)%s", pre,
		    fmt_elapsed(floor(rp->w + 0.5), a, sizeof(a)),
		    fmt_elapsed(rp->w0, b, sizeof(b)), post);
}

/* --------------------------------------------------------------- output */

static void
write_html(FILE *f, const struct report *rp, const char *title,
    char *const *files, int nfiles)
{
	char		 a[64], b[64], c[32];
	struct summary	 sm;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\"/>\n<title>");
	put_esc(f, title);
	fprintf(f, "</title>\n<style>\n"
	    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,"
	    "'DejaVu Sans',Helvetica,Arial,sans-serif;color:#222;margin:24px;"
	    "max-width:1220px}\n"
	    "h1{font-size:22px;margin:0 0 4px}\n"
	    "h2{font-size:18px;margin:28px 0 2px;padding-top:10px;"
	    "border-top:1px solid #ddd}\n"
	    ".meta,.note{color:#666;font-size:13px;margin:2px 0}\n"
	    ".warn{color:#9a4d00;font-size:13px;margin:2px 0}\n"
	    "table{border-collapse:collapse;font-size:13px;margin:14px 0}\n"
	    "th,td{border-bottom:1px solid #e3e3e3;padding:4px 10px;"
	    "text-align:right;white-space:nowrap}\n"
	    "th{background:#f4f4f4;font-weight:600}\n"
	    "td.l,th.l{text-align:left}\n"
	    "td.e{text-align:left;white-space:normal;max-width:260px}\n"
	    "td.bad{color:#b00}\n"
	    "svg{display:block;max-width:100%%;height:auto}\n"
	    "%s\n</style>\n</head>\n<body>\n<h1>", svg_css);
	put_esc(f, title);
	fprintf(f, "</h1>\n<p class=\"meta\">");
	for (int i = 0; i < nfiles; i++) {
		fprintf(f, "%s", i ? ", " : "");
		put_esc(f, files[i]);
	}
	fprintf(f, " &#183; lines from %s to %s (%s) &#183; %llu lines &#183; "
	    "loadctl %s</p>\n", fmt_time(rp->t0, a, sizeof(a)),
	    fmt_time(rp->tlast, b, sizeof(b)),
	    fmt_dur(rp->tlast - rp->t0 + rp->w0, c, sizeof(c)),
	    (unsigned long long)rp->lines, LOADD_VERSION);
	for (size_t i = 0; i < rp->nnotes; i++) {
		fprintf(f, "<p class=\"warn\">Warning: ");
		put_esc(f, rp->notes[i]);
		fprintf(f, "</p>\n");
	}

	fprintf(f, "<table>\n<tr><th class=\"l\">load</th><th>duration</th>"
	    "<th>messages</th><th>mean rate</th><th>replies</th>"
	    "<th class=\"l\">errors</th><th>failed connects</th>"
	    "<th>p50</th><th>p99</th><th>p99.9</th><th>max</th>"
	    "<th>epochs</th></tr>\n");
	for (size_t i = 0; i < rp->nloads; i++) {
		const struct rload *l = &rp->loads[i];

		if (!l->drawn)
			continue;
		load_summary(l, &sm);
		fprintf(f, "<tr><td class=\"l\"><a href=\"#load%zu\">", i);
		put_esc(f, l->name);
		fprintf(f, "</a></td><td>%s</td><td>%s</td><td>%s</td>"
		    "<td>%s</td><td class=\"e%s\">", sm.dur, sm.msgs, sm.rate,
		    sm.replies, strcmp(sm.errs, "none") ? " bad" : "");
		put_esc(f, sm.errs);
		fprintf(f, "</td><td%s>%s</td><td>%s</td><td>%s</td><td>%s</td>"
		    "<td>%s</td><td>%s</td></tr>\n",
		    l->s[S_CFAIL].total > 0 ? " class=\"bad\"" : "", sm.cfail,
		    sm.lat[0], sm.lat[1], sm.lat[2], sm.lat[3], sm.epochs);
	}
	fprintf(f, "</table>\n<p class=\"note\">Latency: the whole run, from "
	    "the last line's <code>latency_us.run</code>. Errors and failed "
	    "connects: the increase of each counter over the log.</p>\n");

	for (size_t i = 0; i < rp->nloads; i++) {
		const struct rload *l = &rp->loads[i];
		int	 h;

		if (!l->drawn)
			continue;
		h = (int)load_height(l);
		fprintf(f, "<h2 id=\"load%zu\">", i);
		put_esc(f, l->name);
		fprintf(f, "</h2>\n");
		note_resolution(f, rp, "<p class=\"note\">", "; dashed lines: "
		    "epoch changes, labelled with the command that began "
		    "them.</p>\n");
		fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
		    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", W, h,
		    W, h);
		draw_load(f, rp, l, 0);
		fprintf(f, "</svg>\n");
	}
	fprintf(f, "</body>\n</html>\n");
}

static void
write_svg(FILE *f, const struct report *rp, const char *title,
    char *const *files, int nfiles)
{
	char		 a[64], b[64], c[32];
	struct summary	 sm;
	double		 y, h;
	size_t		 ndrawn = 0;

	for (size_t i = 0; i < rp->nloads; i++)
		ndrawn += rp->loads[i].drawn;
	h = 70 + 18.0 * (double)(ndrawn + rp->nnotes) + 20;
	for (size_t i = 0; i < rp->nloads; i++)
		if (rp->loads[i].drawn)
			h += 56 + load_height(&rp->loads[i]);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%.0f\" viewBox=\"0 0 %d %.0f\">\n<title>", W, h, W, h);
	put_esc(f, title);
	fprintf(f, "</title>\n<style>%s</style>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
	    "<text class=\"pt\" style=\"font-size:20px\" x=\"%d\" y=\"30\">",
	    svg_css, 16);
	put_esc(f, title);
	fprintf(f, "</text>\n<text class=\"nt\" x=\"16\" y=\"52\">");
	for (int i = 0; i < nfiles; i++) {
		fprintf(f, "%s", i ? ", " : "");
		put_esc(f, files[i]);
	}
	fprintf(f, " · %s to %s (%s) · %llu lines</text>\n",
	    fmt_time(rp->t0, a, sizeof(a)), fmt_time(rp->tlast, b, sizeof(b)),
	    fmt_dur(rp->tlast - rp->t0 + rp->w0, c, sizeof(c)),
	    (unsigned long long)rp->lines);
	y = 74;
	for (size_t i = 0; i < rp->nnotes; i++, y += 18) {
		fprintf(f, "<text class=\"nt\" style=\"fill:#9a4d00\" x=\"16\" "
		    "y=\"%.0f\">Warning: ", y);
		put_esc(f, rp->notes[i]);
		fprintf(f, "</text>\n");
	}
	for (size_t i = 0; i < rp->nloads; i++) {
		const struct rload *l = &rp->loads[i];

		if (!l->drawn)
			continue;
		load_summary(l, &sm);
		fprintf(f, "<text class=\"lg\" x=\"16\" y=\"%.0f\">"
		    "<tspan font-weight=\"600\">", y);
		put_esc(f, l->name);
		fprintf(f, "</tspan>: %s, %s messages (%s), errors: ", sm.dur,
		    sm.msgs, sm.rate);
		put_esc(f, sm.errs);
		fprintf(f, ", failed connects: %s", sm.cfail);
		if (l->has_run && l->run_count > 0)
			fprintf(f, "; latency p50 %s, p99 %s, p99.9 %s, max %s",
			    sm.lat[0], sm.lat[1], sm.lat[2], sm.lat[3]);
		fprintf(f, "</text>\n");
		y += 18;
	}
	y += 20;
	for (size_t i = 0; i < rp->nloads; i++) {
		const struct rload *l = &rp->loads[i];

		if (!l->drawn)
			continue;
		fprintf(f, "<line x1=\"16\" x2=\"%d\" y1=\"%.0f\" y2=\"%.0f\" "
		    "stroke=\"#ddd\"/>\n<text class=\"pt\" style=\"font-size:"
		    "18px\" x=\"16\" y=\"%.0f\">", W - 16, y, y, y + 26);
		put_esc(f, l->name);
		fprintf(f, "</text>\n");
		fprintf(f, "<text class=\"nt\" x=\"16\" y=\"%.0f\">", y + 46);
		note_resolution(f, rp, "", "; dashed lines: epoch changes"
		    "</text>\n");
		y += 56;
		draw_load(f, rp, l, y);
		y += load_height(l);
	}
	fprintf(f, "</svg>\n");
}

/* ------------------------------------------------------------------ main */

static void
report_usage(FILE *f)
{
	fprintf(f, "usage: loadctl report [-l LOAD] [-t TITLE] -o OUT.html|"
	    "OUT.svg RESULTS.jsonl...\n"
	    "  -o FILE   the report: an HTML page (.html) or an SVG picture "
	    "(.svg)\n"
	    "  -l LOAD   only this load (default: every load)\n"
	    "  -t TITLE  the title (default: the first file's name)\n"
	    "RESULTS may be several files (rotated logs) in time order; - "
	    "reads stdin.\n"
	    "exit status: 0 ok, 1 bad input or output, 2 usage error\n");
}

static bool
has_ext(const char *path, const char *ext)
{
	size_t	 n = strlen(path), e = strlen(ext);

	return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* Write to a temporary file next to OUT and rename it into place. */
static int
write_out(const char *out, bool html, const struct report *rp,
    const char *title, char *const *files, int nfiles)
{
	char	*tmp;
	int	 fd;
	FILE	*f;
	mode_t	 um;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", out) == -1)
		fatal("asprintf");
	if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "loadctl: report: %s: %s\n", out,
		    strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return -1;
	}
	um = umask(0);
	umask(um);
	(void)fchmod(fd, 0666 & ~um);
	if (html)
		write_html(f, rp, title, files, nfiles);
	else
		write_svg(f, rp, title, files, nfiles);
	if (ferror(f) | (fclose(f) == EOF) || rename(tmp, out) == -1) {
		fprintf(stderr, "loadctl: report: %s: %s\n", out,
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int
report_main(int argc, char *argv[])
{
	struct report	 rp;
	const char	*out = NULL, *title = NULL;
	char		*deftitle = NULL;
	uint64_t	 n;
	int		 ch, rc = 0;
	bool		 html = false;

	memset(&rp, 0, sizeof(rp));
	optind = 0;	/* start afresh, and permute: FILE -o OUT works */
	opterr = 0;
	while ((ch = getopt(argc, argv, "ho:l:t:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'l':
			rp.only = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		case ':':
		case '?':
		default:
			if (optopt == 'o' || optopt == 'l' || optopt == 't')
				fprintf(stderr, "loadctl: report: -%c needs an "
				    "argument\n", optopt);
			else
				fprintf(stderr, "loadctl: report: unknown "
				    "option -%c\n", optopt);
			report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (out == NULL || argc == 0) {
		fprintf(stderr, "loadctl: report: %s\n", out == NULL ?
		    "-o FILE is required" : "no results file given");
		report_usage(stderr);
		return EXIT_USAGE;
	}
	if (has_ext(out, ".html") || has_ext(out, ".htm"))
		html = true;
	else if (!has_ext(out, ".svg")) {
		fprintf(stderr, "loadctl: report: -o %s: the name must end in "
		    ".html or .svg\n", out);
		return EXIT_USAGE;
	}
	if (argc > RPT_FILES_MAX) {
		fprintf(stderr, "loadctl: report: more than %d files\n",
		    RPT_FILES_MAX);
		return EXIT_USAGE;
	}

	for (int i = 0; i < argc && rc == 0; i++) {
		if (rpt_read(&rp, argv[i], &n) == -1)
			rc = EXIT_BADDATA;
		else if (n == 0 && argc > 1) {
			rpt_note(&rp, "%s: warning: no results lines", argv[i]);
		}
		rp.lines += n;
	}
	if (rc == 0 && rp.lines == 0) {
		if (argc == 1)
			fprintf(stderr, "loadctl: report: %s: no results lines%s"
			    "\n", strcmp(argv[0], "-") ? argv[0] : "(stdin)",
			    rp.nnotes == 0 ? " (the file is empty)" : "");
		else
			fprintf(stderr, "loadctl: report: no results lines in "
			    "any of the %d files\n", argc);
		rc = EXIT_BADDATA;
	}
	if (rc == 0 && !rp.started) {
		fprintf(stderr, "loadctl: report: no lines for load \"%s\" "
		    "(the log has:", rp.only);
		for (size_t i = 0; i < rp.nloads; i++)
			fprintf(stderr, " %s", rp.loads[i].name);
		fprintf(stderr, ")\n");
		rc = EXIT_BADDATA;
	}
	if (rc == 0) {
		if (title == NULL) {
			const char *base = strrchr(argv[0], '/');

			if (asprintf(&deftitle, "Load report: %s", base ?
			    base + 1 : argv[0]) == -1)
				fatal("asprintf");
			title = deftitle;
		}
		if (write_out(out, html, &rp, title, argv, argc) == -1)
			rc = EXIT_BADDATA;
	}
	free(deftitle);
	rpt_free(&rp);
	return rc;
}
