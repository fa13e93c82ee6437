/* SPDX-License-Identifier: ISC */
/*
 * test_objective.c -- pass/fail objectives of model/objective.c: units
 * convert to the exact doubles written, every figure is judged on both
 * sides of its bound with each operator (the bound itself and the next
 * double past it), errors.KIND takes every name of measure/counters.c,
 * the grace's state machine reports a miss once when it begins and once
 * when it ends, and every bad input gets its own exact reason.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "measure/counters.h"
#include "model/objective.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct objective
parse_ok(const char *s)
{
	struct objective	 o;
	char			 why[OBJ_WHY_MAX] = "";

	memset(&o, 0, sizeof(o));
	if (objective_parse(s, err_kind_names, ERR_MAX, &o, why,
	    sizeof(why)) != 0)
		fail_msg("\"%s\": %s", s, why);
	return o;
}

static void
expect_error(const char *s, const char *want)
{
	struct objective	 o, before;
	char			 why[OBJ_WHY_MAX];

	memset(&o, 0xa5, sizeof(o));
	before = o;
	memset(why, 'x', sizeof(why));
	if (objective_parse(s, err_kind_names, ERR_MAX, &o, why,
	    sizeof(why)) != -1)
		fail_msg("\"%s\" parsed as \"%s\"", s, o.text);
	if (strcmp(why, want) != 0)
		fail_msg("\"%s\":\n  got  %s\n  want %s", s, why, want);
	/* OBJ_WHY_MAX holds it whole, and a failure leaves *o alone. */
	assert_true(strlen(why) < sizeof(why) - 1);
	assert_memory_equal(&o, &before, sizeof(o));
}

/* Figures where only f has a value, v. */
static struct obj_figures
figs_one(enum obj_figure f, double v)
{
	struct obj_figures	 fg;

	memset(&fg, 0, sizeof(fg));
	for (size_t i = 0; i < OBJ_FIG_MAX; i++)
		fg.v[i] = -12345;	/* must not be read */
	fg.v[f] = v;
	fg.have[f] = true;
	return fg;
}

static enum obj_verdict
judge(const struct objective *o, double v)
{
	struct obj_figures	 fg = figs_one(o->fig, v);

	return objective_check(o, &fg);
}

static void
test_units(void **state)
{
	static const struct {
		const char	*s;
		double		 value;
		const char	*unit;
		double		 scale;
		double		 grace_s;
		const char	*text;
	} c[] = {
		{ "latency.p99 < 5ms", 5e6, "ms", 1e6, 0,
		    "latency.p99 < 5ms" },
		{ "latency.p99 < 5us", 5000, "us", 1e3, 0,
		    "latency.p99 < 5us" },
		{ "latency.p99 < 5s", 5e9, "s", 1e9, 0, "latency.p99 < 5s" },
		{ "latency.p99 < 2.5ms", 2.5e6, "ms", 1e6, 0,
		    "latency.p99 < 2.5ms" },
		{ "latency.p99 < 0.001s", 1e6, "s", 1e9, 0,
		    "latency.p99 < 0.001s" },
		{ "errors.rate < 0.1%", 0.001, "%", 0.01, 0,
		    "errors.rate < 0.1%" },
		{ "errors.rate < 0.001", 0.001, "", 1, 0,
		    "errors.rate < 0.001" },
		{ "errors.rate <= 100%", 1, "%", 0.01, 0,
		    "errors.rate <= 100%" },
		{ "late.rate < 0.5%", 0.005, "%", 0.01, 0,
		    "late.rate < 0.5%" },
		{ "replies_per_s > 9500", 9500, "", 1, 0,
		    "replies_per_s > 9500" },
		{ "replies_per_s > 9.5k", 9500, "k", 1e3, 0,
		    "replies_per_s > 9.5k" },
		{ "messages_per_s >= 2M", 2e6, "M", 1e6, 0,
		    "messages_per_s >= 2M" },
		{ "connects_per_s > 1.25G", 1.25e9, "G", 1e9, 0,
		    "connects_per_s > 1.25G" },
		{ "bytes_sent_per_s > 1MiB", 1048576, "MiB", 1048576, 0,
		    "bytes_sent_per_s > 1MiB" },
		{ "bytes_received_per_s > 1KiB", 1024, "KiB", 1024, 0,
		    "bytes_received_per_s > 1KiB" },
		{ "bytes_received_per_s > 1.5GiB", 1610612736, "GiB",
		    1073741824, 0, "bytes_received_per_s > 1.5GiB" },
		{ "bytes_sent_per_s > 10k", 10000, "k", 1e3, 0,
		    "bytes_sent_per_s > 10k" },
		{ "connections >= 10k", 10000, "k", 1e3, 0,
		    "connections >= 10k" },
		{ "errors <= 0", 0, "", 1, 0, "errors <= 0" },
		{ "errors < 007", 7, "", 1, 0, "errors < 007" },
		{ "latency.p99 < 5ms for 30s", 5e6, "ms", 1e6, 30,
		    "latency.p99 < 5ms for 30s" },
		{ "latency.p99 < 5ms for 250ms", 5e6, "ms", 1e6, 0.25,
		    "latency.p99 < 5ms for 250ms" },
		{ "latency.p99 < 5ms for 500us", 5e6, "ms", 1e6, 0.0005,
		    "latency.p99 < 5ms for 500us" },
		{ "latency.p99 < 5ms for 1.5m", 5e6, "ms", 1e6, 90,
		    "latency.p99 < 5ms for 1.5m" },
		{ "latency.p99 < 5ms for 2h", 5e6, "ms", 1e6, 7200,
		    "latency.p99 < 5ms for 2h" },
		{ "latency.p99 < 5ms for 0s", 5e6, "ms", 1e6, 0,
		    "latency.p99 < 5ms for 0s" },
		/* Blanks anywhere between the parts; none kept in a value. */
		{ " \tlatency.p99<5 ms \t for\t30 s ", 5e6, "ms", 1e6, 30,
		    "latency.p99 < 5ms for 30s" },
		{ "errors.rate<=0.1%", 0.001, "%", 0.01, 0,
		    "errors.rate <= 0.1%" },
		{ "errors < 5 for30s", 5, "", 1, 30, "errors < 5 for 30s" },
		{ "errors < 5k for 1m", 5000, "k", 1e3, 60,
		    "errors < 5k for 1m" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(c); i++) {
		struct objective	 o = parse_ok(c[i].s);

		if (o.value != c[i].value || o.grace_s != c[i].grace_s ||
		    o.scale != c[i].scale)
			fail_msg("\"%s\": value %.17g grace %.17g scale %.17g",
			    c[i].s, o.value, o.grace_s, o.scale);
		assert_string_equal(o.unit, c[i].unit);
		assert_string_equal(o.text, c[i].text);
	}
	/* The doubles nearest the decimals, not 0.1 / 100 and the like. */
	assert_true(parse_ok("errors.rate < 0.1%").value == 0.001);
	assert_true(parse_ok("late.rate < 0.3%").value == 0.003);
	assert_true(parse_ok("errors.rate < 0.07%").value == 0.0007);
	assert_true(parse_ok("latency.p99 < 0.3ms").value == 300000);
	assert_true(parse_ok("replies_per_s > 0.1k").value == 100);
}

/* Every fixed figure, with each operator at its bound and past it. */
static void
test_figures(void **state)
{
	static const struct {
		const char	*name;
		enum obj_figure	 fig;
		const char	*value;
		double		 bound;
	} c[] = {
		{ "latency.p50", OBJ_LAT_P50, "3ms", 3e6 },
		{ "latency.p90", OBJ_LAT_P90, "4ms", 4e6 },
		{ "latency.p99", OBJ_LAT_P99, "5ms", 5e6 },
		{ "latency.p99.9", OBJ_LAT_P99_9, "7.5ms", 7.5e6 },
		{ "latency.p99.99", OBJ_LAT_P99_99, "20ms", 2e7 },
		{ "latency.max", OBJ_LAT_MAX, "1s", 1e9 },
		{ "latency.mean", OBJ_LAT_MEAN, "850us", 850000 },
		{ "service.p50", OBJ_SVC_P50, "1ms", 1e6 },
		{ "service.p90", OBJ_SVC_P90, "2ms", 2e6 },
		{ "service.p99", OBJ_SVC_P99, "3ms", 3e6 },
		{ "service.p99.9", OBJ_SVC_P99_9, "0.25s", 2.5e8 },
		{ "service.p99.99", OBJ_SVC_P99_99, "12ms", 1.2e7 },
		{ "service.max", OBJ_SVC_MAX, "2s", 2e9 },
		{ "service.mean", OBJ_SVC_MEAN, "100us", 100000 },
		{ "messages_per_s", OBJ_MESSAGES_PER_S, "10k", 10000 },
		{ "replies_per_s", OBJ_REPLIES_PER_S, "9500", 9500 },
		{ "bytes_sent_per_s", OBJ_BYTES_SENT_PER_S, "1MiB", 1048576 },
		{ "bytes_received_per_s", OBJ_BYTES_RECEIVED_PER_S, "2G",
		    2e9 },
		{ "connects_per_s", OBJ_CONNECTS_PER_S, "150", 150 },
		{ "errors.rate", OBJ_ERRORS_RATE, "0.1%", 0.001 },
		{ "errors.per_s", OBJ_ERRORS_PER_S, "2.5", 2.5 },
		{ "errors", OBJ_ERRORS, "10", 10 },
		{ "connections", OBJ_CONNECTIONS, "1k", 1000 },
		{ "late.rate", OBJ_LATE_RATE, "0.02", 0.02 },
	};
	/* For OP, the verdicts below, at and above the bound. */
	static const struct {
		const char		*op;
		enum obj_op		 eop;
		enum obj_verdict	 below, at, above;
	} ops[] = {
		{ "<", OBJ_LT, OBJ_HELD, OBJ_MISSED, OBJ_MISSED },
		{ "<=", OBJ_LE, OBJ_HELD, OBJ_HELD, OBJ_MISSED },
		{ ">", OBJ_GT, OBJ_MISSED, OBJ_MISSED, OBJ_HELD },
		{ ">=", OBJ_GE, OBJ_MISSED, OBJ_HELD, OBJ_HELD },
	};
	bool	 seen[OBJ_FIG_MAX] = { false };
	char	 s[128];

	(void)state;
	for (size_t i = 0; i < NELEM(c); i++) {
		seen[c[i].fig] = true;
		assert_string_equal(objective_figure_name(c[i].fig),
		    c[i].name);
		for (size_t j = 0; j < NELEM(ops); j++) {
			struct objective	 o;
			struct obj_figures	 fg;
			double			 b = c[i].bound;

			snprintf(s, sizeof(s), "%s %s %s", c[i].name,
			    ops[j].op, c[i].value);
			o = parse_ok(s);
			assert_string_equal(o.text, s);
			assert_int_equal(o.fig, c[i].fig);
			assert_int_equal(o.kind, -1);
			assert_int_equal(o.op, ops[j].eop);
			if (o.value != b)
				fail_msg("\"%s\": %.17g", s, o.value);
			if (judge(&o, nextafter(b, 0)) != ops[j].below ||
			    judge(&o, b) != ops[j].at ||
			    judge(&o, nextafter(b, INFINITY)) !=
			    ops[j].above)
				fail_msg("\"%s\": wrong verdict at the bound",
				    s);
			/* No value: unknown, whatever v says. */
			fg = figs_one(o.fig, b);
			fg.have[o.fig] = false;
			assert_int_equal(objective_check(&o, &fg),
			    OBJ_UNKNOWN);
			fg = figs_one(o.fig, NAN);
			assert_int_equal(objective_check(&o, &fg),
			    OBJ_UNKNOWN);
		}
	}
	for (size_t f = 0; f < OBJ_FIG_MAX; f++)
		assert_true(seen[f] || f == OBJ_ERRORS_KIND);
	assert_string_equal(objective_figure_name(OBJ_ERRORS_KIND),
	    "errors.KIND");
	assert_null(objective_figure_name(OBJ_FIG_MAX));
}

/* errors.KIND: every kind the daemon counts, by its index. */
static void
test_kinds(void **state)
{
	double	 by_kind[ERR_MAX];
	char	 s[128];

	(void)state;
	for (size_t k = 0; k < ERR_MAX; k++) {
		struct objective	 o;
		struct obj_figures	 fg;

		snprintf(s, sizeof(s), "errors.%s <= 3", err_kind_names[k]);
		o = parse_ok(s);
		assert_int_equal(o.fig, OBJ_ERRORS_KIND);
		assert_int_equal(o.kind, (int)k);
		assert_true(o.value == 3);
		assert_string_equal(o.text, s);

		for (size_t j = 0; j < ERR_MAX; j++)
			by_kind[j] = 1000;	/* other kinds: way over */
		memset(&fg, 0, sizeof(fg));
		fg.errors_by_kind = by_kind;
		fg.nkinds = ERR_MAX;
		fg.have[OBJ_ERRORS_KIND] = true;
		fg.v[OBJ_ERRORS] = 1000;
		by_kind[k] = 3;
		assert_int_equal(objective_check(&o, &fg), OBJ_HELD);
		by_kind[k] = 4;
		assert_int_equal(objective_check(&o, &fg), OBJ_MISSED);
		by_kind[k] = 0;
		assert_int_equal(objective_check(&o, &fg), OBJ_HELD);
		fg.nkinds = k;		/* a table without this kind */
		assert_int_equal(objective_check(&o, &fg), OBJ_UNKNOWN);
		fg.nkinds = ERR_MAX;
		fg.have[OBJ_ERRORS_KIND] = false;
		assert_int_equal(objective_check(&o, &fg), OBJ_UNKNOWN);
		fg.have[OBJ_ERRORS_KIND] = true;
		fg.errors_by_kind = NULL;
		assert_int_equal(objective_check(&o, &fg), OBJ_UNKNOWN);
	}
	/* The built-in errors.* figures come before the kinds. */
	{
		static const char *const kinds[] = { "rate", "zap" };
		struct objective	 o;
		char			 why[OBJ_WHY_MAX];

		assert_int_equal(objective_parse("errors.rate < 1%", kinds, 2,
		    &o, why, sizeof(why)), 0);
		assert_int_equal(o.fig, OBJ_ERRORS_RATE);
		assert_int_equal(objective_parse("errors.zap < 1", kinds, 2,
		    &o, why, sizeof(why)), 0);
		assert_int_equal(o.fig, OBJ_ERRORS_KIND);
		assert_int_equal(o.kind, 1);
		/* No kinds at all. */
		assert_int_equal(objective_parse("errors.timeout < 1", NULL,
		    0, &o, why, sizeof(why)), -1);
		assert_string_equal(why, "unknown figure \"errors.timeout\" "
		    "(errors.rate, errors.per_s or errors.KIND for an error "
		    "kind)");
		assert_int_equal(objective_parse("errors < 1", NULL, 0, &o,
		    why, sizeof(why)), 0);
	}
}

/* One interval of a failing or holding figure, or one with no data. */
enum { FAIL, HOLD, NODATA };

static enum obj_verdict
step(const struct objective *o, struct obj_state *st, int what, double t0,
    double t1, enum obj_edge *edge)
{
	struct obj_figures	 fg;

	fg = figs_one(o->fig, what == FAIL ? 2 * o->value + 1 :
	    o->value / 2);
	if (what == NODATA)
		fg.have[o->fig] = false;
	return objective_step(o, st, &fg, t0, t1, edge);
}

static void
test_grace(void **state)
{
	/* Intervals of 10 s against a grace of 30 s. */
	static const struct {
		int			 what;
		enum obj_verdict	 verdict;
		enum obj_edge		 edge;
		unsigned		 misses;
		double			 missed_s;
	} c[] = {
		{ FAIL, OBJ_HELD, OBJ_EDGE_NONE, 0, 0 },	/* [0, 10) */
		{ FAIL, OBJ_HELD, OBJ_EDGE_NONE, 0, 0 },	/* 20 */
		{ FAIL, OBJ_MISSED, OBJ_EDGE_MISS_BEGIN, 1, 0 },	/* 30 */
		{ FAIL, OBJ_MISSED, OBJ_EDGE_NONE, 1, 10 },	/* 40 */
		{ FAIL, OBJ_MISSED, OBJ_EDGE_NONE, 1, 20 },	/* 50 */
		{ HOLD, OBJ_HELD, OBJ_EDGE_MISS_END, 1, 20 },	/* 60 */
		{ HOLD, OBJ_HELD, OBJ_EDGE_NONE, 1, 20 },	/* 70 */
		/* Failing for less than the grace: held throughout. */
		{ FAIL, OBJ_HELD, OBJ_EDGE_NONE, 1, 20 },	/* 80 */
		{ FAIL, OBJ_HELD, OBJ_EDGE_NONE, 1, 20 },	/* 90 */
		{ HOLD, OBJ_HELD, OBJ_EDGE_NONE, 1, 20 },	/* 100 */
		{ FAIL, OBJ_HELD, OBJ_EDGE_NONE, 1, 20 },	/* 110 */
		{ FAIL, OBJ_HELD, OBJ_EDGE_NONE, 1, 20 },	/* 120 */
		{ HOLD, OBJ_HELD, OBJ_EDGE_NONE, 1, 20 },	/* 130 */
		/* No data neither breaks a streak nor counts as failing. */
		{ FAIL, OBJ_HELD, OBJ_EDGE_NONE, 1, 20 },	/* 140 */
		{ NODATA, OBJ_UNKNOWN, OBJ_EDGE_NONE, 1, 20 },	/* 150 */
		{ FAIL, OBJ_MISSED, OBJ_EDGE_MISS_BEGIN, 2, 20 }, /* 160 */
		{ NODATA, OBJ_UNKNOWN, OBJ_EDGE_NONE, 2, 20 },	/* 170 */
		{ FAIL, OBJ_MISSED, OBJ_EDGE_NONE, 2, 30 },	/* 180 */
		{ HOLD, OBJ_HELD, OBJ_EDGE_MISS_END, 2, 30 },	/* 190 */
		{ NODATA, OBJ_UNKNOWN, OBJ_EDGE_NONE, 2, 30 },	/* 200 */
	};
	struct objective	 o = parse_ok("latency.p99 < 5ms for 30s");
	struct obj_state	 st;
	enum obj_edge		 edge;
	enum obj_verdict	 v;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < NELEM(c); i++) {
		double	 t0 = 10.0 * (double)i;

		edge = (enum obj_edge)-1;
		v = step(&o, &st, c[i].what, t0, t0 + 10, &edge);
		if (v != c[i].verdict || edge != c[i].edge ||
		    st.misses != c[i].misses || st.missed_s != c[i].missed_s)
			fail_msg("interval %zu: %s edge %d misses %u "
			    "missed_s %g", i, objective_verdict_name(v),
			    (int)edge, st.misses, st.missed_s);
		if (i == 2)
			assert_true(st.failing_since == 0 &&
			    st.missed_since == 30);
		if (i == 15)
			assert_true(st.failing_since == 130 &&
			    st.missed_since == 160);
	}
	assert_false(st.missed);
	assert_false(st.failing);
}

static void
test_grace_edges(void **state)
{
	struct objective	 o;
	struct obj_state	 st;
	enum obj_edge		 edge;

	(void)state;
	/* No grace: missed on the first failing interval. */
	o = parse_ok("errors < 1");
	memset(&st, 0, sizeof(st));
	assert_int_equal(step(&o, &st, FAIL, 0, 1, &edge), OBJ_MISSED);
	assert_int_equal(edge, OBJ_EDGE_MISS_BEGIN);
	assert_true(st.missed_s == 1);
	assert_int_equal(step(&o, &st, FAIL, 1, 2, &edge), OBJ_MISSED);
	assert_int_equal(edge, OBJ_EDGE_NONE);
	assert_int_equal(step(&o, &st, HOLD, 2, 3, &edge), OBJ_HELD);
	assert_int_equal(edge, OBJ_EDGE_MISS_END);
	assert_int_equal(step(&o, &st, HOLD, 3, 4, NULL), OBJ_HELD);
	assert_true(st.misses == 1 && st.missed_s == 2);

	/* A grace shorter than the interval: missed from failing + grace. */
	o = parse_ok("errors < 1 for 4s");
	memset(&st, 0, sizeof(st));
	assert_int_equal(step(&o, &st, FAIL, 0, 10, &edge), OBJ_MISSED);
	assert_int_equal(edge, OBJ_EDGE_MISS_BEGIN);
	assert_true(st.missed_since == 4 && st.missed_s == 6);

	/* Timer jitter: short of the grace by under a millisecond. */
	o = parse_ok("errors < 1 for 30s");
	memset(&st, 0, sizeof(st));
	assert_int_equal(step(&o, &st, FAIL, 0, 9.9997, &edge), OBJ_HELD);
	assert_int_equal(step(&o, &st, FAIL, 9.9997, 19.9994, &edge),
	    OBJ_HELD);
	assert_int_equal(step(&o, &st, FAIL, 19.9994, 29.9991, &edge),
	    OBJ_MISSED);
	assert_int_equal(edge, OBJ_EDGE_MISS_BEGIN);
	/* ... but not by 10 ms. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(step(&o, &st, FAIL, 0, 10, &edge), OBJ_HELD);
	assert_int_equal(step(&o, &st, FAIL, 10, 29.99, &edge), OBJ_HELD);
	assert_int_equal(edge, OBJ_EDGE_NONE);
	assert_int_equal(step(&o, &st, FAIL, 29.99, 39.99, &edge),
	    OBJ_MISSED);
	assert_int_equal(edge, OBJ_EDGE_MISS_BEGIN);
	assert_true(fabs(st.missed_s - 9.99) < 1e-9);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*s;
		const char	*why;
	} c[] = {
		{ "", "empty objective" },
		{ " \t ", "empty objective" },
		/* Figures */
		{ "latncy.p99 < 5ms", "unknown figure \"latncy.p99\"; did you "
		    "mean \"latency.p99\"?" },
		{ "replies_per_sec > 9500", "unknown figure "
		    "\"replies_per_sec\"; did you mean \"replies_per_s\"?" },
		{ "error.rate < 1%", "unknown figure \"error.rate\"; did you "
		    "mean \"errors.rate\"?" },
		{ "Latency.p99 < 5ms", "unknown figure \"Latency.p99\"; did "
		    "you mean \"latency.p99\"?" },
		{ "errors.timout > 0", "unknown figure \"errors.timout\" "
		    "(errors.rate, errors.per_s or errors.KIND for an error "
		    "kind); did you mean \"errors.timeout\"?" },
		{ "errors.nope > 0", "unknown figure \"errors.nope\" "
		    "(errors.rate, errors.per_s or errors.KIND for an error "
		    "kind)" },
		{ "latency.p95 < 5ms", "unknown figure \"latency.p95\" "
		    "(latency. and service. take p50, p90, p99, p99.9, "
		    "p99.99, max and mean)" },
		{ "service.p999 < 5ms", "unknown figure \"service.p999\" "
		    "(latency. and service. take p50, p90, p99, p99.9, "
		    "p99.99, max and mean)" },
		{ "latency.mena < 5ms", "unknown figure \"latency.mena\" "
		    "(latency. and service. take p50, p90, p99, p99.9, "
		    "p99.99, max and mean); did you mean \"latency.mean\"?" },
		{ "p99 < 5ms", "unknown figure \"p99\"; did you mean "
		    "\"latency.p99\" or \"service.p99\"?" },
		{ "rate < 1%", "unknown figure \"rate\"; did you mean "
		    "\"errors.rate\" or \"late.rate\"?" },
		{ "throughput > 5", "unknown figure \"throughput\"" },
		{ "< 5ms", "missing figure before \"<\"" },
		/* Operators */
		{ "latency.p99", "missing operator after \"latency.p99\" (<, "
		    "<=, > or >=)" },
		{ "latency.p99 5ms", "expected an operator (<, <=, > or >=) "
		    "after \"latency.p99\", not \"5ms\"" },
		{ "latency.p99 => 5ms", "bad operator \"=>\": expected <, <=, "
		    "> or >=; did you mean \">=\"?" },
		{ "latency.p99 =< 5ms", "bad operator \"=<\": expected <, <=, "
		    "> or >=; did you mean \"<=\"?" },
		{ "latency.p99 == 5ms", "bad operator \"==\": expected <, <=, "
		    "> or >= (an objective is a bound, not an equality)" },
		{ "latency.p99 = 5ms", "bad operator \"=\": expected <, <=, "
		    "> or >= (an objective is a bound, not an equality)" },
		{ "latency.p99 <> 5ms", "bad operator \"<>\": expected <, <=, "
		    "> or >=" },
		{ "latency.p99 << 5ms", "bad operator \"<<\": expected <, <=, "
		    "> or >=" },
		/* Numbers */
		{ "latency.p99 <", "missing value after \"latency.p99 <\"" },
		{ "latency.p99 <= ", "missing value after \"latency.p99 <=\"" },
		{ "latency.p99 < -5ms", "negative value \"-5ms\" for "
		    "latency.p99" },
		{ "replies_per_s > -1", "negative value \"-1\" for "
		    "replies_per_s" },
		{ "replies_per_s > abc", "bad number \"abc\" for "
		    "replies_per_s" },
		{ "replies_per_s > +5", "bad number \"+5\" for "
		    "replies_per_s" },
		{ "latency.p99 < 5.5.5ms", "bad number \"5.5.5ms\" for "
		    "latency.p99" },
		{ "latency.p99 < .5ms", "bad number \".5ms\" for "
		    "latency.p99" },
		{ "latency.p99 < 5.ms", "bad number \"5.ms\" for "
		    "latency.p99" },
		{ "replies_per_s > 1234567890123456", "bad number "
		    "\"1234567890123456\" for replies_per_s: more than 15 "
		    "significant digits" },
		{ "errors.rate < 0.0000000000000001", "bad number "
		    "\"0.0000000000000001\" for errors.rate: more than 15 "
		    "decimals" },
		{ "errors < 0", "\"errors < 0\" never holds: errors is never "
		    "below 0" },
		{ "latency.p99 < 0ms", "\"latency.p99 < 0ms\" never holds: "
		    "latency.p99 is never below 0" },
		{ "errors.rate < 150%", "errors.rate is at most 100%, not "
		    "\"150%\"" },
		{ "late.rate < 5", "late.rate is a fraction (0 to 1) or a "
		    "percent; did you mean \"5%\"?" },
		/* Units */
		{ "latency.p99 < 5", "missing unit after \"5\": latency.p99 "
		    "takes us, ms or s, as in \"5ms\"" },
		{ "latency.p99 < 5 for 30s", "missing unit after \"5\": "
		    "latency.p99 takes us, ms or s, as in \"5ms\"" },
		{ "latency.p99 < 5 parsecs", "bad unit \"parsecs\" for "
		    "latency.p99: expected us, ms or s" },
		{ "latency.p99 < 5ns", "bad unit \"ns\" for latency.p99: "
		    "expected us, ms or s" },
		{ "latency.p99 < 5m", "bad unit \"m\" for latency.p99: "
		    "expected us, ms or s" },
		{ "latency.p99 < 5MS", "bad unit \"MS\" for latency.p99: "
		    "units are case-sensitive; did you mean \"ms\"?" },
		{ "latency.p99 < 1e3ms", "bad unit \"e3ms\" for latency.p99: "
		    "expected us, ms or s" },
		{ "replies_per_s > 9500 rps", "bad unit \"rps\" for "
		    "replies_per_s: expected none, k, M or G" },
		{ "replies_per_s > 1KiB", "bad unit \"KiB\" for "
		    "replies_per_s: expected none, k, M or G" },
		{ "replies_per_s > 9.5K", "bad unit \"K\" for replies_per_s: "
		    "units are case-sensitive; did you mean \"k\"?" },
		{ "bytes_sent_per_s > 1kib", "bad unit \"kib\" for "
		    "bytes_sent_per_s: units are case-sensitive; did you mean "
		    "\"KiB\"?" },
		{ "bytes_sent_per_s > 1MB", "bad unit \"MB\" for "
		    "bytes_sent_per_s: expected none, k, M, G, KiB, MiB or "
		    "GiB" },
		{ "errors.rate < 1ms", "bad unit \"ms\" for errors.rate: "
		    "expected % or none (a fraction)" },
		/* The grace and the end */
		{ "latency.p99 < 5ms for", "\"for\" needs a duration, as in "
		    "\"for 30s\"" },
		{ "latency.p99 < 5ms for  ", "\"for\" needs a duration, as in "
		    "\"for 30s\"" },
		{ "latency.p99 < 5ms for 30", "missing unit after \"30\": the "
		    "grace takes us, ms, s, m or h, as in \"30s\"" },
		{ "latency.p99 < 5ms for 30d", "bad unit \"d\" for the grace: "
		    "expected us, ms, s, m or h" },
		{ "latency.p99 < 5ms for -1s", "negative value \"-1s\" for "
		    "the grace" },
		{ "latency.p99 < 5ms for soon", "bad number \"soon\" for the "
		    "grace" },
		{ "latency.p99 < 5ms for 30s now", "unexpected \"now\" after "
		    "the grace" },
		{ "latency.p99 < 5ms for 30s for 1m", "unexpected \"for 1m\" "
		    "after the grace" },
		{ "latency.p99 < 5ms xyz", "unexpected \"xyz\" after the "
		    "value; only \"for DURATION\" may follow" },
		{ "latency.p99 < 5ms,", "unexpected \",\" after the value; "
		    "only \"for DURATION\" may follow" },
		{ "latency.p99 < 5ms 10ms", "unexpected \"10ms\" after the "
		    "value; only \"for DURATION\" may follow" },
		{ "latency.p99 < 5msfor 30s", "bad unit \"msfor\" for "
		    "latency.p99: expected us, ms or s" },
		{ "errors < 5 format", "bad unit \"format\" for errors: "
		    "expected none, k, M or G" },
		{ "errors < 0000000000000000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    "00000000000000000001", "objective too long (at most 127 "
		    "bytes written plainly)" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(c); i++)
		expect_error(c[i].s, c[i].why);
}

/* The reason buffer: cut and NUL-ended, or not written at all. */
static void
test_why(void **state)
{
	struct objective	 o;
	char			 why[8];

	(void)state;
	memset(why, 'x', sizeof(why));
	assert_int_equal(objective_parse("latency.p99 < 5", err_kind_names,
	    ERR_MAX, &o, why, sizeof(why)), -1);
	assert_string_equal(why, "missing");
	assert_int_equal(objective_parse("", NULL, 0, &o, NULL, 0), -1);
	assert_int_equal(objective_parse("errors < 1", NULL, 0, &o, NULL, 0),
	    0);
}

static void
test_names(void **state)
{
	struct objective	 o;
	char			 buf[32];

	(void)state;
	assert_string_equal(objective_op_name(OBJ_LT), "<");
	assert_string_equal(objective_op_name(OBJ_LE), "<=");
	assert_string_equal(objective_op_name(OBJ_GT), ">");
	assert_string_equal(objective_op_name(OBJ_GE), ">=");
	assert_string_equal(objective_verdict_name(OBJ_UNKNOWN), "unknown");
	assert_string_equal(objective_verdict_name(OBJ_HELD), "held");
	assert_string_equal(objective_verdict_name(OBJ_MISSED), "missed");

	o = parse_ok("latency.p99 < 5ms");
	assert_string_equal(objective_format(&o, 7.25e6, buf, sizeof(buf)),
	    "7.25ms");
	o = parse_ok("errors.rate < 0.1%");
	assert_string_equal(objective_format(&o, 0.002, buf, sizeof(buf)),
	    "0.2%");
	o = parse_ok("errors.rate < 0.001");
	assert_string_equal(objective_format(&o, 0.002, buf, sizeof(buf)),
	    "0.002");
	o = parse_ok("replies_per_s > 9.5k");
	assert_string_equal(objective_format(&o, 9400, buf, sizeof(buf)),
	    "9.4k");
	o = parse_ok("bytes_sent_per_s > 1MiB");
	assert_string_equal(objective_format(&o, 524288, buf, sizeof(buf)),
	    "0.5MiB");
	o = parse_ok("connections > 100");
	assert_string_equal(objective_format(&o, 1234567, buf, sizeof(buf)),
	    "1.235e+06");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_grace),
		cmocka_unit_test(test_grace_edges),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
