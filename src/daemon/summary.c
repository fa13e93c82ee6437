/* SPDX-License-Identifier: ISC */
/*
 * summary.c -- what a load's run came to.  A run goes from a `start` to
 * the end of the load's traffic (`stop`, its duration, the daemon's end,
 * a reload that replaces it); each command in between began an epoch.
 * When a run ends its summary (the run's counts, rates, errors by kind,
 * latency and service time, and each epoch's) goes to the log in one
 * line, to the results log as a "summary" record and to daemon.summary,
 * a JSON file replaced whole, which keeps the last summary of each load.
 * Main thread only.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "daemon/results.h"
#include "daemon/views.h"

/* Epochs kept per run; later ones are counted, not kept. */
#define SUMMARY_EPOCHS_MAX	100

/* The summary file failed: said once until it works again. */
static bool	 summary_file_failed;

void
summary_run_start(struct load *l)
{
	struct stats_snap	 s;

	if (l->run_start != 0) {
		/*
		 * Stopped and started again within one collection: the run
		 * before is summed up now (its last interval's latency is
		 * still with the workers).
		 */
		load_snapshot(l, &s);
		summary_run_end(l, &s, "stopped");
	}
	l->run_start = now_wall();
	load_snapshot(l, &l->run_base);
	l->run_peak = 0;
	if (l->ival != NULL) {
		if (l->run_lat == NULL) {
			l->run_lat = xcalloc(2, sizeof(*l->run_lat));
			hist_reset(&l->run_lat[0]);
			hist_reset(&l->run_lat[1]);
		} else {
			hist_clear(&l->run_lat[0]);
			hist_clear(&l->run_lat[1]);
		}
	}
	if (l->run_epochs == NULL)
		l->run_epochs = json_array();
	else
		json_array_clear(l->run_epochs);
	l->run_epochs_dropped = 0;
}

void
summary_free(struct load *l)
{
	free(l->run_lat);
	l->run_lat = NULL;
	json_decref(l->run_epochs);
	l->run_epochs = NULL;
	json_decref(l->last_summary);
	l->last_summary = NULL;
}

/* The counters from base to s, with their rates over seconds, and errors. */
static void
summary_counts(json_t *o, const struct stats_snap *s,
    const struct stats_snap *b, double seconds)
{
	json_t		*errs = json_object();
	uint64_t	 v, total = 0;

	for (size_t k = 0; k < KC_MAX; k++) {
		v = stats_snap_get(s, k) - stats_snap_get(b, k);
		json_object_set_new(o, key_counters[k].key,
		    json_integer((json_int_t)v));
		if (key_counters[k].rate_key != NULL)
			json_object_set_new(o, key_counters[k].rate_key,
			    json_real(seconds > 0 ? (double)v / seconds : 0));
	}
	for (int i = 0; i < ERR_MAX; i++) {
		v = s->errors[i] - b->errors[i];
		total += v;
		json_object_set_new(errs, err_kind_names[i],
		    json_integer((json_int_t)v));
	}
	json_object_set_new(o, KEY_ERRORS, errs);
	json_object_set_new(o, "errors_total", json_integer((json_int_t)total));
}

/*
 * The epoch now ending, as a record of the run: the command that began
 * it, how long it lasted, what it sent and got, and its latency.  Called
 * before the epoch's histograms are cleared; the stopped stretch after a
 * run (an epoch begun by `stop`) is no part of one.
 */
void
summary_epoch_end(struct load *l, const struct stats_snap *s)
{
	json_t	*e;
	double	 seconds = now_wall() - l->epoch_start;

	if (l->run_epochs == NULL || l->epoch == 0 ||
	    strcmp(l->epoch_cause, "stop") == 0 ||
	    strcmp(l->epoch_cause, "finished") == 0 ||
	    strcmp(l->epoch_cause, "created") == 0)
		return;
	if (json_array_size(l->run_epochs) >= SUMMARY_EPOCHS_MAX) {
		l->run_epochs_dropped++;
		return;
	}
	e = json_pack("{s:i,s:s,s:f,s:f}", "number", (int)l->epoch,
	    "cause", l->epoch_cause, "start", l->epoch_start,
	    "seconds", seconds);
	summary_counts(e, s, &l->epoch_base, seconds);
	if (l->epoch_h != NULL) {
		json_object_set_new(e, lat_kind_names[LAT_LATENCY],
		    views_hist(&l->epoch_h[LAT_LATENCY]));
		json_object_set_new(e, lat_kind_names[LAT_SERVICE],
		    views_hist(&l->epoch_h[LAT_SERVICE]));
	}
	json_array_append_new(l->run_epochs, e);
}

/* "1.2ms", "850us", "3.1s": a latency in microseconds, for people. */
static void
summary_us(char *buf, size_t len, double us)
{
	if (us >= 1e6)
		snprintf(buf, len, "%.2fs", us / 1e6);
	else if (us >= 1e3)
		snprintf(buf, len, "%.2fms", us / 1e3);
	else
		snprintf(buf, len, "%.0fus", us);
}

/* The one line the log gets. */
static void
summary_log(const struct load *l, json_t *o)
{
	json_t	*lat = json_object_get(o, lat_kind_names[LAT_LATENCY]);
	char	 line[512], a[16], b[16], c[16], d[16];
	int	 n;

	n = snprintf(line, sizeof(line), "load %s: %s after %.1fs: %lld "
	    "messages (%.0f/s), %lld replies, %lld errors, peak %lld "
	    "connections", l->conf->name,
	    json_string_value(json_object_get(o, "state")),
	    json_number_value(json_object_get(o, "seconds")),
	    (long long)json_integer_value(json_object_get(o,
	    key_counters[KC_messages_sent].key)),
	    json_number_value(json_object_get(o,
	    key_counters[KC_messages_sent].rate_key)),
	    (long long)json_integer_value(json_object_get(o,
	    key_counters[KC_replies].key)),
	    (long long)json_integer_value(json_object_get(o, "errors_total")),
	    (long long)json_integer_value(json_object_get(o,
	    "connections_peak")));
	if (lat != NULL && json_integer_value(json_object_get(lat,
	    KEY_HIST_COUNT)) > 0 && n > 0 && (size_t)n < sizeof(line)) {
		summary_us(a, sizeof(a), json_number_value(json_object_get(lat,
		    "p50")));
		summary_us(b, sizeof(b), json_number_value(json_object_get(lat,
		    "p99")));
		summary_us(c, sizeof(c), json_number_value(json_object_get(lat,
		    "p99.9")));
		summary_us(d, sizeof(d), json_number_value(json_object_get(lat,
		    KEY_HIST_MAX)));
		snprintf(line + n, sizeof(line) - (size_t)n, "; latency p50 %s "
		    "p99 %s p99.9 %s max %s", a, b, c, d);
	}
	n = (int)strlen(line);
	if (json_object_get(o, "passed") != NULL)
		snprintf(line + n, sizeof(line) - (size_t)n, "; objectives %s",
		    json_is_true(json_object_get(o, "passed")) ? "met" :
		    "MISSED");
	/* A missed objective is a warning, for journalctl -p warning. */
	if (json_is_false(json_object_get(o, "passed")))
		log_warnx("%s", line);
	else
		log_info("%s", line);
}

/*
 * daemon.summary: every load's last summary, in one JSON object written
 * to a temporary file and renamed over the old one, so that a reader
 * never sees half of it.  A failure is logged once and the run goes on.
 */
static void
summary_file(void)
{
	const char	*path = daemon_g->profile->daemon.summary;
	struct load	*l;
	json_t		*o, *arr;
	char		 tmp[4096];
	int		 fd, rc;

	if (path == NULL)
		return;
	arr = json_array();
	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		if (l->last_summary != NULL)
			json_array_append(arr, l->last_summary);
	}
	o = json_pack("{s:f,s:o}", "time", now_wall(), "loads", arr);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rc = fd == -1 ? -1 : json_dumpfd(o, fd, JSON_INDENT(1) |
	    JSON_REAL_PRECISION(15));
	if (rc == 0 && write(fd, "\n", 1) != 1)
		rc = -1;
	if (fd != -1 && close(fd) == -1)
		rc = -1;
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -1;
	json_decref(o);
	if (rc == -1) {
		if (!summary_file_failed)
			log_warn("summary %s: cannot write it (said once; the "
			    "run goes on)", path);
		summary_file_failed = true;
		if (fd != -1)
			(void)unlink(tmp);
		return;
	}
	summary_file_failed = false;
}

/*
 * The run is over: `how` it ended ("finished": its duration; "stopped":
 * `stop`, the daemon's end or a reload).  Counts are those collected by
 * now (the epoch that ends the run has just begun, after a collection).
 */
void
summary_run_end(struct load *l, const struct stats_snap *s, const char *how)
{
	json_t	*o;
	double	 end = now_wall(), seconds;

	if (l->run_start == 0)
		return;
	seconds = end - l->run_start;
	o = json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:I,s:i}", "record", "summary",
	    "load", l->conf->name, "state", how, "start", l->run_start,
	    "end", end, "seconds", seconds, "connections_peak",
	    (json_int_t)l->run_peak, "connections_target", l->target);
	summary_counts(o, s, &l->run_base, seconds);
	if (l->run_lat != NULL) {
		json_object_set_new(o, lat_kind_names[LAT_LATENCY],
		    views_hist(&l->run_lat[0]));
		json_object_set_new(o, lat_kind_names[LAT_SERVICE],
		    views_hist(&l->run_lat[1]));
	}
	if (l->conf->nobjectives > 0) {
		json_t	*objs = objectives_run(l, s), *v;
		size_t	 i;
		bool	 passed = true;

		json_array_foreach(objs, i, v) {
			if (strcmp(json_string_value(json_object_get(v,
			    "state")), "missed") == 0)
				passed = false;
		}
		json_object_set_new(o, "objectives", objs);
		json_object_set_new(o, "passed", json_boolean(passed));
	}
	json_object_set_new(o, "epochs", l->run_epochs);
	l->run_epochs = NULL;
	json_object_set_new(o, "epochs_not_kept",
	    json_integer(l->run_epochs_dropped));
	json_decref(l->last_summary);
	l->last_summary = o;
	l->run_start = 0;
	summary_log(l, o);
	results_summary(o);
	summary_file();
}
