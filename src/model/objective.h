/* SPDX-License-Identifier: ISC */
/*
 * model/objective.h -- pass/fail objectives of a load: their grammar,
 * parser and evaluator.
 *
 * A profile lists a load's objectives as strings,
 *
 *	objectives = ( "latency.p99 < 5ms", "errors.rate < 0.1%",
 *	    "replies_per_s > 9500 for 30s" );
 *
 * each of which is
 *
 *	objective = FIGURE OP VALUE [ "for" GRACE ]
 *	OP        = "<" | "<=" | ">" | ">="
 *	VALUE     = NUMBER [ UNIT ]		(which units: by FIGURE)
 *	GRACE     = NUMBER GRACE_UNIT
 *	NUMBER    = DIGITS [ "." DIGITS ]
 *	DIGITS    = 1*( "0" .. "9" )
 *		(at most 15 significant digits and 15 decimals)
 *
 * Blanks (spaces and tabs) may stand between any two parts, also between
 * a number and its unit, and are needed between a unit and "for" ("5ms
 * for 30s").  Names and units are case-sensitive.  There is no sign,
 * exponent, "inf" or "nan": a value is never negative.  FIGURE and its
 * units:
 *
 *   latency.p50  latency.p90  latency.p99  latency.p99.9  latency.p99.99
 *   latency.max  latency.mean			reply latency
 *   service.p50 ... service.mean (the same seven)	service time
 *	durations: "us", "ms" or "s", required.
 *   messages_per_s  replies_per_s  connects_per_s  errors.per_s
 *	per second: a plain number, or with "k", "M" or "G" (x 1000^n).
 *   bytes_sent_per_s  bytes_received_per_s
 *	the same, or with "KiB", "MiB" or "GiB" (x 1024^n).
 *   errors.rate	errors per message sent
 *   late.rate		late requests per request
 *	a percent with "%" (0 to 100), or a plain fraction (0 to 1).
 *   errors		errors in the window
 *   errors.KIND	errors of one kind in the window, KIND one of the
 *			names given to objective_parse() (err_kind_names)
 *   connections	connections open (a gauge)
 *	a count: a plain number, or with "k", "M" or "G".
 *
 * GRACE_UNIT is "us", "ms", "s", "m" (minutes) or "h".  With a grace an
 * objective is missed only once its condition has failed for that long
 * without a break, judged interval by interval (objective_step()).
 *
 * Values are kept in base units, which are also those of struct
 * obj_figures: nanoseconds for durations, a fraction (0.001 for 0.1%)
 * for rates, per second for *_per_s, plain numbers for counts.  Units
 * convert exactly as written: "5ms" is 5e6, "0.1%" is 0.001 (the double
 * nearest 1/1000), "9.5k" is 9500, "1MiB" is 1048576.
 *
 * Parsing belongs to profile loading (any thread, no allocation); errors
 * are values written to why, which name the part at fault and, for an
 * unknown figure or unit, the nearest known one.  The evaluator is pure
 * arithmetic: the daemon fills struct obj_figures for each interval and
 * for the whole run, calls objective_step() per interval (the grace
 * applies) and objective_check() on the run's figures (it does not).
 */
#ifndef LOADD_MODEL_OBJECTIVE_H
#define LOADD_MODEL_OBJECTIVE_H

#include <stdbool.h>
#include <stddef.h>

#define OBJ_TEXT_MAX	128	/* bytes of the normalized text, with NUL */
#define OBJ_WHY_MAX	256	/* bytes that hold any reason of the parser */
/*
 * objective_step() counts a condition failed for the grace when it is
 * short of it by less than this (seconds), so that a timer firing a
 * little early does not cost a whole interval.
 */
#define OBJ_GRACE_SLACK	0.001

/* What is measured; the base unit of each is that of its class above. */
enum obj_figure {
	OBJ_LAT_P50 = 0,	/* ns */
	OBJ_LAT_P90,
	OBJ_LAT_P99,
	OBJ_LAT_P99_9,
	OBJ_LAT_P99_99,
	OBJ_LAT_MAX,
	OBJ_LAT_MEAN,
	OBJ_SVC_P50,		/* ns, service time */
	OBJ_SVC_P90,
	OBJ_SVC_P99,
	OBJ_SVC_P99_9,
	OBJ_SVC_P99_99,
	OBJ_SVC_MAX,
	OBJ_SVC_MEAN,
	OBJ_MESSAGES_PER_S,	/* per second */
	OBJ_REPLIES_PER_S,
	OBJ_BYTES_SENT_PER_S,
	OBJ_BYTES_RECEIVED_PER_S,
	OBJ_CONNECTS_PER_S,
	OBJ_ERRORS_RATE,	/* a fraction: errors / messages sent */
	OBJ_ERRORS_PER_S,	/* per second */
	OBJ_ERRORS,		/* a count in the window */
	OBJ_ERRORS_KIND,	/* a count: obj_figures.errors_by_kind[kind] */
	OBJ_CONNECTIONS,	/* connections open */
	OBJ_LATE_RATE,		/* a fraction: late / requests */
	OBJ_FIG_MAX
};

enum obj_op {
	OBJ_LT = 0,		/* < */
	OBJ_LE,			/* <= */
	OBJ_GT,			/* > */
	OBJ_GE,			/* >= */
};

/* One objective, as objective_parse() fills it; plain data, copyable. */
struct objective {
	enum obj_figure	 fig;
	int		 kind;		/* OBJ_ERRORS_KIND: in kinds; or -1 */
	enum obj_op	 op;
	double		 value;		/* the bound, in base units */
	double		 grace_s;	/* 0: missed at the first failure */
	/*
	 * The value's unit as written ("ms", "%", "k", or "" for none)
	 * and how many base units it stands for (1e6 for "ms", 0.01 for
	 * "%"), to show a figure the way the objective was written.
	 */
	char		 unit[4];
	double		 scale;
	/*
	 * As written, normalized: single blanks between the parts, none
	 * between a number and its unit ("latency.p99 < 5ms for 30s").
	 */
	char		 text[OBJ_TEXT_MAX];
};

/*
 * The figures of one window (an interval, or the whole run), in base
 * units.  v[f] counts only when have[f]: the daemon leaves have[f] false
 * for a figure with no value in the window (no reply yet for latencies,
 * no message sent for errors.rate).  errors.KIND reads
 * errors_by_kind[kind] when have[OBJ_ERRORS_KIND] and kind < nkinds, in
 * the order of the kinds given to objective_parse().
 */
struct obj_figures {
	double		 v[OBJ_FIG_MAX];
	bool		 have[OBJ_FIG_MAX];
	const double	*errors_by_kind;
	size_t		 nkinds;
};

enum obj_verdict {
	OBJ_UNKNOWN = 0,	/* no value for the figure in the window */
	OBJ_HELD,
	OBJ_MISSED,
};

/* What one objective_step() changed, for the daemon to log. */
enum obj_edge {
	OBJ_EDGE_NONE = 0,
	OBJ_EDGE_MISS_BEGIN,	/* the objective is now missed */
	OBJ_EDGE_MISS_END,	/* it holds again */
};

/*
 * Per objective and load, for objective_step(); all zero is the start.
 * The fields may be read (for views and the end-of-run summary), not
 * written.
 */
struct obj_state {
	bool		 failing;	/* the last interval with data failed */
	double		 failing_since;	/* the start of that streak */
	bool		 missed;	/* failed for the grace, not held */
	double		 missed_since;	/* failing_since + grace */
	unsigned	 misses;	/* times a miss began */
	double		 missed_s;	/* seconds missed, to the last step */
};

/*
 * Parse s into *o: 0, or -1 with a reason in why (OBJ_WHY_MAX bytes
 * hold any) and *o untouched.  kinds[0 .. nkinds) are the names that
 * errors.KIND may use (err_kind_names, ERR_MAX); kinds may be NULL when
 * nkinds is 0.  Refused, each with its own message: an empty string, an
 * unknown figure (with the nearest name when one is close), a missing or
 * bad operator ("=>" and "==" among them), a missing, negative or bad
 * number, a missing unit on a duration, a unit the figure does not take,
 * a rate over 100% (or a plain fraction over 1), "< 0" (never holds), a
 * "for" without a duration, anything after the end, and a normalized
 * text over OBJ_TEXT_MAX - 1 bytes.
 */
int		 objective_parse(const char *s, const char *const *kinds,
		    size_t nkinds, struct objective *o, char *why,
		    size_t whylen);

/* Does the objective hold on these figures?  The grace is not applied. */
enum obj_verdict objective_check(const struct objective *,
		    const struct obj_figures *);

/*
 * One interval [t0, t1) (seconds on any one clock, t0 <= t1) with its
 * figures, for an objective with its state; the verdict is the
 * objective's after it, and *edge (may be NULL) what it changed.
 *   failed	a streak starts at t0 if none was going on; once
 *		t1 - failing_since >= grace_s (less OBJ_GRACE_SLACK) the
 *		objective is missed: MISSED, and OBJ_EDGE_MISS_BEGIN on
 *		the step that gets there.  Before that: HELD.
 *   held	the streak ends; if it was missed, OBJ_EDGE_MISS_END.
 *		HELD.
 *   no data	nothing changes: a streak or a miss goes on through the
 *		interval (but it adds nothing to missed_s).  UNKNOWN.
 * missed_s adds the part of each failed interval after missed_since.
 */
enum obj_verdict objective_step(const struct objective *, struct obj_state *,
		    const struct obj_figures *, double t0, double t1,
		    enum obj_edge *edge);

/*
 * Format v (base units) in the objective's unit, as "7.25ms" or "0.2%"
 * (4 significant digits), into buf; returns buf.
 */
const char	*objective_format(const struct objective *, double v,
		    char *buf, size_t len);

/* "latency.p99", ... ("errors.KIND" for OBJ_ERRORS_KIND); NULL if none. */
const char	*objective_figure_name(enum obj_figure);
/* "<", "<=", ">", ">=". */
const char	*objective_op_name(enum obj_op);
/* "unknown", "held", "missed". */
const char	*objective_verdict_name(enum obj_verdict);

#endif
