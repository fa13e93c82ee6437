/* SPDX-License-Identifier: ISC */
/*
 * summary_view.c -- a load's last run for people (`loadctl summary`,
 * `loadd run`), on one screen in the manner of wrk's and k6's end-of-run
 * reports: what it sent and got, its errors by kind, the latency
 * distribution (corrected and service time), and each epoch of the run.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/keys.h"
#include "common/summary_view.h"

static double
num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static long long
integer(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* 1234567 -> "1.23M"; bytes with binary units when unit is "B". */
static const char *
amount(double v, const char *unit, char *buf, size_t len)
{
	static const char *const si[] = { "", "k", "M", "G", "T" };
	static const char *const bin[] = { "", "Ki", "Mi", "Gi", "Ti" };
	double	 step = strcmp(unit, "B") == 0 ? 1024 : 1000;
	int	 i = 0;

	while (fabs(v) >= step && i < 4) {
		v /= step;
		i++;
	}
	snprintf(buf, len, i == 0 ? "%.0f%s%s" : "%.2f%s%s", v,
	    step == 1024 ? bin[i] : si[i], unit);
	return buf;
}

/* Microseconds for people: 83us, 1.20ms, 2.05s. */
static const char *
duration_us(double us, char *buf, size_t len)
{
	if (us >= 1e6)
		snprintf(buf, len, "%.2fs", us / 1e6);
	else if (us >= 1e3)
		snprintf(buf, len, "%.2fms", us / 1e3);
	else
		snprintf(buf, len, "%.0fus", us);
	return buf;
}

static const char *
clock_of(double t, char *buf, size_t len)
{
	time_t		 s = (time_t)t;
	struct tm	 tm;

	if (localtime_r(&s, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%.0f", t);
	return buf;
}

/* One row of latency percentiles, from a views_hist() object. */
static void
latency_row(const char *title, json_t *h)
{
	char	 b[16];

	if (h == NULL || integer(h, KEY_HIST_COUNT) == 0)
		return;
	printf("  %-20s", title);
#define X(key, p, quantile)	printf(" %9s", duration_us(num(h, key), b, sizeof(b)));
	LOADD_PERCENTILES(X)
#undef X
	printf(" %9s", duration_us(num(h, KEY_HIST_MAX), b, sizeof(b)));
	printf(" %9s\n", duration_us(num(h, KEY_HIST_MEAN), b, sizeof(b)));
}

static void
errors_line(json_t *o)
{
	json_t		*errs = json_object_get(o, KEY_ERRORS), *v;
	const char	*k;
	int		 n = 0;

	printf("  errors      %lld", integer(o, "errors_total"));
	json_object_foreach(errs, k, v) {
		if (json_integer_value(v) > 0)
			printf("%s%s=%lld", n++ == 0 ? " (" : " ", k,
			    (long long)json_integer_value(v));
	}
	printf("%s\n", n > 0 ? ")" : "");
}

static void
epochs_table(json_t *epochs, long long not_kept)
{
	json_t	*e, *lat;
	size_t	 i;
	char	 a[16], b[16], c[16], m[16], r[16];

	if (json_array_size(epochs) == 0)
		return;
	printf("\n  %-3s %-24s %8s %9s %9s %7s %9s %9s %9s\n", "#", "began with",
	    "seconds", "messages", "replies", "errors", "p50", "p99", "p99.9");
	json_array_foreach(epochs, i, e) {
		lat = json_object_get(e, "latency_us");
		printf("  %-3lld %-24.24s %8.1f %9s %9s %7lld", integer(e,
		    "number"), json_string_value(json_object_get(e, "cause")),
		    num(e, "seconds"), amount((double)integer(e,
		    key_counters[KC_messages_sent].key), "", m, sizeof(m)),
		    amount((double)integer(e, key_counters[KC_replies].key),
		    "", r, sizeof(r)), integer(e, "errors_total"));
		if (lat != NULL && integer(lat, KEY_HIST_COUNT) > 0)
			printf(" %9s %9s %9s", duration_us(num(lat, "p50"), a,
			    sizeof(a)), duration_us(num(lat, "p99"), b,
			    sizeof(b)), duration_us(num(lat, "p99.9"), c,
			    sizeof(c)));
		printf("\n");
	}
	if (not_kept > 0)
		printf("  (and %lld more epochs, not kept)\n", not_kept);
}

/* Each objective: its verdict, the run's figure, and its misses. */
static void
objectives_table(json_t *objs)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(objs) == 0)
		return;
	printf("\n  %-36s %-8s %10s %s\n", "objective", "verdict", "run",
	    "missed");
	json_array_foreach(objs, i, v) {
		printf("  %-36.36s %-8s %10s", json_string_value(
		    json_object_get(v, "objective")), json_string_value(
		    json_object_get(v, "state")), json_string_value(
		    json_object_get(v, "run_value")));
		if (integer(v, "misses") > 0)
			printf(" %lld time%s, %.1fs", integer(v, "misses"),
			    integer(v, "misses") == 1 ? "" : "s",
			    num(v, "missed_s"));
		printf("\n");
	}
}

/* Whether every summary's objectives held (true without objectives). */
bool
summary_view_passed(json_t *reply)
{
	json_t	*arr = json_object_get(reply, "summaries"), *o;
	size_t	 i;

	json_array_foreach(arr, i, o) {
		if (json_is_false(json_object_get(o, "passed")))
			return false;
	}
	return true;
}

static void
summary_view_one(json_t *o)
{
	const char	*sent = key_counters[KC_messages_sent].key;
	const char	*repl = key_counters[KC_replies].key;
	const char	*host;
	char		 a[24], b[24], c[24], d[24], t0[32], t1[32];
	char		 who[160];

	/* A fleet's (loadctl -F) summaries say whose: "web on h1". */
	host = json_string_value(json_object_get(o, "host"));
	snprintf(who, sizeof(who), "%s%s%s",
	    json_string_value(json_object_get(o, "load")),
	    host != NULL ? " on " : "", host != NULL ? host : "");
	printf("%s: %s after %.1fs (%s to %s)\n", who,
	    json_string_value(json_object_get(o, "state")), num(o, "seconds"),
	    clock_of(num(o, "start"), t0, sizeof(t0)),
	    clock_of(num(o, "end"), t1, sizeof(t1)));
	printf("  connections %lld at most (%lld wanted at the end), %lld "
	    "connects, %lld failed, %lld lost\n", integer(o,
	    "connections_peak"), integer(o, "connections_target"),
	    integer(o, key_counters[KC_connects_ok].key),
	    integer(o, key_counters[KC_connects_failed].key),
	    integer(o, key_counters[KC_disconnects].key));
	printf("  messages    %s (%s/s), %s sent (%s/s)\n",
	    amount((double)integer(o, sent), "", a, sizeof(a)),
	    amount(num(o, key_counters[KC_messages_sent].rate_key), "", b,
	    sizeof(b)), amount((double)integer(o,
	    key_counters[KC_bytes_sent].key), "B", c, sizeof(c)),
	    amount(num(o, key_counters[KC_bytes_sent].rate_key), "B", d,
	    sizeof(d)));
	if (integer(o, repl) > 0 || json_object_get(o,
	    "latency_us") != NULL)
		printf("  replies     %s (%s/s), %s received, %lld late\n",
		    amount((double)integer(o, repl), "", a, sizeof(a)),
		    amount(num(o, key_counters[KC_replies].rate_key), "", b,
		    sizeof(b)), amount((double)integer(o,
		    key_counters[KC_bytes_received].key), "B", c, sizeof(c)),
		    integer(o, key_counters[KC_late].key));
	errors_line(o);
	if (json_object_get(o, "latency_us") != NULL) {
		printf("\n  %-20s", "");
#define X(key, p, quantile)	printf(" %9s", key);
		LOADD_PERCENTILES(X)
#undef X
		printf(" %9s %9s\n", "max", "mean");
		latency_row("latency (corrected)",
		    json_object_get(o, "latency_us"));
		latency_row("service time",
		    json_object_get(o, "service_us"));
	}
	objectives_table(json_object_get(o, "objectives"));
	epochs_table(json_object_get(o, "epochs"),
	    integer(o, "epochs_not_kept"));
}

void
summary_view_print(json_t *reply)
{
	json_t	*arr = json_object_get(reply, "summaries"), *o;
	size_t	 i;

	if (json_array_size(arr) == 0) {
		printf("no load has ended a run yet\n");
		return;
	}
	json_array_foreach(arr, i, o) {
		if (i > 0)
			printf("\n");
		summary_view_one(o);
	}
}
