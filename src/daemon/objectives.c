/* SPDX-License-Identifier: ISC */
/*
 * objectives.c -- a load's pass/fail objectives, judged by the daemon:
 * every interval (with their grace), logged at warning when a miss
 * begins and when it ends, shown in status and /metrics; and over a whole
 * run for its summary, where an objective held only if it was never
 * missed in an interval and holds on the run's figures.  The grammar and
 * the arithmetic are model/objective.c's.  Main thread only.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"

void
objectives_free(struct load *l)
{
	free(l->obj_st);
	free(l->obj_last);
	free(l->obj_val);
	l->obj_st = NULL;
	l->obj_last = NULL;
	l->obj_val = NULL;
}

/* A run begins: every objective starts afresh. */
void
objectives_reset(struct load *l)
{
	size_t	 n = (size_t)l->conf->nobjectives;

	objectives_free(l);
	if (n == 0)
		return;
	l->obj_st = xcalloc(n, sizeof(*l->obj_st));
	l->obj_last = xcalloc(n, sizeof(*l->obj_last));
	l->obj_val = xcalloc(n, sizeof(*l->obj_val));
}

static void
objectives_hist(struct obj_figures *f, int first, const struct hist *h)
{
	static const double	 p[] = { 50, 90, 99, 99.9, 99.99 };

	if (h == NULL || h->total == 0)
		return;
	for (int i = 0; i < 5; i++) {
		f->v[first + i] = (double)hist_percentile(h, p[i]);
		f->have[first + i] = true;
	}
	f->v[first + 5] = (double)h->max_ns;
	f->v[first + 6] = hist_mean(h);
	f->have[first + 5] = f->have[first + 6] = true;
}

/*
 * The figures of a window from its counters (s less b, over seconds) and
 * its latency histograms (NULL: none).
 */
static void
objectives_figures(struct obj_figures *f, double *kinds,
    const struct stats_snap *s, const struct stats_snap *b, double seconds,
    const struct hist *lat, const struct hist *svc)
{
	double	 msgs = (double)(s->messages_sent - b->messages_sent);
	double	 errs = 0;

	memset(f, 0, sizeof(*f));
	objectives_hist(f, OBJ_LAT_P50, lat);
	objectives_hist(f, OBJ_SVC_P50, svc);
	for (int k = 0; k < ERR_MAX; k++) {
		kinds[k] = (double)(s->errors[k] - b->errors[k]);
		errs += kinds[k];
	}
	f->errors_by_kind = kinds;
	f->nkinds = ERR_MAX;
	f->v[OBJ_ERRORS] = errs;
	f->v[OBJ_ERRORS_KIND] = 0;
	f->v[OBJ_CONNECTIONS] = (double)s->active;
	f->have[OBJ_ERRORS] = f->have[OBJ_ERRORS_KIND] = true;
	f->have[OBJ_CONNECTIONS] = true;
	if (msgs > 0) {
		f->v[OBJ_ERRORS_RATE] = errs / msgs;
		f->v[OBJ_LATE_RATE] = (double)(s->late - b->late) / msgs;
		f->have[OBJ_ERRORS_RATE] = f->have[OBJ_LATE_RATE] = true;
	}
	if (seconds > 0) {
		f->v[OBJ_MESSAGES_PER_S] = msgs / seconds;
		f->v[OBJ_REPLIES_PER_S] = (double)(s->replies - b->replies) /
		    seconds;
		f->v[OBJ_BYTES_SENT_PER_S] = (double)(s->bytes_sent -
		    b->bytes_sent) / seconds;
		f->v[OBJ_BYTES_RECEIVED_PER_S] = (double)(s->bytes_received -
		    b->bytes_received) / seconds;
		f->v[OBJ_CONNECTS_PER_S] = (double)(s->connects_ok -
		    b->connects_ok) / seconds;
		f->v[OBJ_ERRORS_PER_S] = errs / seconds;
		for (int i = OBJ_MESSAGES_PER_S; i <= OBJ_CONNECTS_PER_S; i++)
			f->have[i] = true;
		f->have[OBJ_ERRORS_PER_S] = true;
	}
}

/* The figure an objective looks at, in base units (0 if none). */
static double
objectives_value(const struct objective *o, const struct obj_figures *f)
{
	if (o->fig == OBJ_ERRORS_KIND)
		return o->kind >= 0 && (size_t)o->kind < f->nkinds ?
		    f->errors_by_kind[o->kind] : 0;
	return f->have[o->fig] ? f->v[o->fig] : 0;
}

/*
 * An interval of a running load ends: each objective takes a step, and
 * a miss that begins or ends is logged at warning, once.  The interval
 * the run began in is skipped.
 */
void
objectives_interval(struct load *l, const struct stats_snap *s,
    const struct stats_snap *prev, double t0, double t1)
{
	struct obj_figures	 f;
	double			 kinds[ERR_MAX];
	enum obj_edge		 edge;
	char			 v[32], b[32];

	if (l->obj_st == NULL || l->state != LOAD_RUNNING)
		return;
	/*
	 * The interval the run began in is only partly the run's (its
	 * rates are diluted, its connections still opening): not judged.
	 */
	if (now_wall() - (t1 - t0) < l->run_start)
		return;
	objectives_figures(&f, kinds, s, prev, t1 - t0, l->ival != NULL ?
	    &l->ival[LAT_LATENCY] : NULL, l->ival != NULL ?
	    &l->ival[LAT_SERVICE] : NULL);
	for (int i = 0; i < l->conf->nobjectives; i++) {
		const struct objective *o = &l->conf->objectives[i];

		l->obj_last[i] = objective_step(o, &l->obj_st[i], &f, t0, t1,
		    &edge);
		if (l->obj_last[i] != OBJ_UNKNOWN)
			l->obj_val[i] = objectives_value(o, &f);
		if (edge == OBJ_EDGE_MISS_BEGIN)
			log_warnx("load %s: objective \"%s\" missed: %s "
			    "(bound %s)", l->conf->name, o->text,
			    objective_format(o, l->obj_val[i], v, sizeof(v)),
			    objective_format(o, o->value, b, sizeof(b)));
		else if (edge == OBJ_EDGE_MISS_END)
			log_warnx("load %s: objective \"%s\" holds again: %s",
			    l->conf->name, o->text, objective_format(o,
			    l->obj_val[i], v, sizeof(v)));
	}
}

/* For status and stats: each objective as the last interval left it. */
json_t *
objectives_view(const struct load *l)
{
	json_t	*arr = json_array();
	char	 v[32];

	for (int i = 0; i < l->conf->nobjectives; i++) {
		const struct objective	*o = &l->conf->objectives[i];
		enum obj_verdict	 st = l->obj_st == NULL ? OBJ_UNKNOWN :
					    l->obj_st[i].missed ? OBJ_MISSED :
					    l->obj_last[i];

		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:f}",
		    "objective", o->text, "state",
		    objective_verdict_name(st), "value", l->obj_st != NULL &&
		    l->obj_last[i] != OBJ_UNKNOWN ? objective_format(o,
		    l->obj_val[i], v, sizeof(v)) : "", "misses",
		    l->obj_st != NULL ? (int)l->obj_st[i].misses : 0,
		    "missed_s", l->obj_st != NULL ? l->obj_st[i].missed_s : 0.0));
	}
	return arr;
}

/*
 * The run's verdict on each objective, for its summary: missed if it was
 * missed in some interval, or if it fails on the whole run's figures (a
 * run's p99 may miss where no interval's did); held if neither and the
 * run has its figure.  Returns the array; sets "passed" in the caller.
 */
json_t *
objectives_run(struct load *l, const struct stats_snap *s)
{
	struct obj_figures	 f;
	double			 kinds[ERR_MAX];
	json_t			*arr = json_array();
	enum obj_verdict	 run, v;
	char			 val[32];

	objectives_figures(&f, kinds, s, &l->run_base, now_wall() -
	    l->run_start, l->run_lat != NULL ? &l->run_lat[0] : NULL,
	    l->run_lat != NULL ? &l->run_lat[1] : NULL);
	/* Connections over a run: the most it held. */
	f.v[OBJ_CONNECTIONS] = (double)l->run_peak;
	for (int i = 0; i < l->conf->nobjectives; i++) {
		const struct objective	*o = &l->conf->objectives[i];
		unsigned		 misses = l->obj_st != NULL ?
					    l->obj_st[i].misses : 0;

		run = objective_check(o, &f);
		v = misses > 0 ? OBJ_MISSED : run;
		json_array_append_new(arr, json_pack(
		    "{s:s,s:s,s:s,s:s,s:i,s:f}", "objective", o->text,
		    "state", objective_verdict_name(v), "run",
		    objective_verdict_name(run), "run_value", run ==
		    OBJ_UNKNOWN ? "" : objective_format(o,
		    objectives_value(o, &f), val, sizeof(val)),
		    "misses", (int)misses, "missed_s", l->obj_st != NULL ?
		    l->obj_st[i].missed_s : 0.0));
	}
	return arr;
}
