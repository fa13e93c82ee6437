/* SPDX-License-Identifier: ISC */
/*
 * objective.c -- pass/fail objectives: parser and evaluator (see
 * objective.h).
 *
 * The parser walks the string once, part by part (figure, operator,
 * value, grace), and stops at the first fault with a reason that quotes
 * the part.  Numbers are read as an integer mantissa and a count of
 * decimals and scaled by the unit's power of ten in one step, so that a
 * bound is the double nearest the decimal written ("0.1%" is 1 / 1000,
 * not 0.1 / 100), and comparisons at the boundary behave as written.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "model/objective.h"

#define OBJ_DIGITS_MAX	15	/* significant digits of a number */
#define OBJ_NAME_MAX	64	/* names compared for a suggestion */
#define OBJ_QUOTE_MAX	40	/* bytes of a part quoted in a reason */

/* A unit: value = number * 10^p10 * mul, in base units. */
struct obj_unit {
	const char	*name;		/* "" for a plain number */
	int		 p10;
	double		 mul;
};

/* What a figure's (or the grace's) value may be written as. */
struct obj_class {
	const struct obj_unit	*units;
	size_t			 nunits;
	const char		*list;	/* the units, for a reason */
	const char		*example;
};

static const struct obj_unit obj_units_dur[] = {
	{ "us", 3, 1 }, { "ms", 6, 1 }, { "s", 9, 1 },
};
static const struct obj_unit obj_units_num[] = {
	{ "", 0, 1 }, { "k", 3, 1 }, { "M", 6, 1 }, { "G", 9, 1 },
};
static const struct obj_unit obj_units_bytes[] = {
	{ "", 0, 1 }, { "k", 3, 1 }, { "M", 6, 1 }, { "G", 9, 1 },
	{ "KiB", 0, 1024.0 }, { "MiB", 0, 1024.0 * 1024 },
	{ "GiB", 0, 1024.0 * 1024 * 1024 },
};
static const struct obj_unit obj_units_frac[] = {
	{ "", 0, 1 }, { "%", -2, 1 },
};
static const struct obj_unit obj_units_grace[] = {
	{ "us", -6, 1 }, { "ms", -3, 1 }, { "s", 0, 1 }, { "m", 0, 60 },
	{ "h", 0, 3600 },
};

#define OBJ_CLASS(u, list, ex)	{ u, sizeof(u) / sizeof((u)[0]), list, ex }
static const struct obj_class obj_dur =
	OBJ_CLASS(obj_units_dur, "us, ms or s", "5ms");
static const struct obj_class obj_num =
	OBJ_CLASS(obj_units_num, "none, k, M or G", "9.5k");
static const struct obj_class obj_bytes =
	OBJ_CLASS(obj_units_bytes, "none, k, M, G, KiB, MiB or GiB", "10MiB");
static const struct obj_class obj_frac =
	OBJ_CLASS(obj_units_frac, "% or none (a fraction)", "0.1%");
static const struct obj_class obj_grace =
	OBJ_CLASS(obj_units_grace, "us, ms, s, m or h", "30s");

static const struct {
	const char		*name;
	const struct obj_class	*cls;
} obj_figs[OBJ_FIG_MAX] = {
	[OBJ_LAT_P50] = { "latency.p50", &obj_dur },
	[OBJ_LAT_P90] = { "latency.p90", &obj_dur },
	[OBJ_LAT_P99] = { "latency.p99", &obj_dur },
	[OBJ_LAT_P99_9] = { "latency.p99.9", &obj_dur },
	[OBJ_LAT_P99_99] = { "latency.p99.99", &obj_dur },
	[OBJ_LAT_MAX] = { "latency.max", &obj_dur },
	[OBJ_LAT_MEAN] = { "latency.mean", &obj_dur },
	[OBJ_SVC_P50] = { "service.p50", &obj_dur },
	[OBJ_SVC_P90] = { "service.p90", &obj_dur },
	[OBJ_SVC_P99] = { "service.p99", &obj_dur },
	[OBJ_SVC_P99_9] = { "service.p99.9", &obj_dur },
	[OBJ_SVC_P99_99] = { "service.p99.99", &obj_dur },
	[OBJ_SVC_MAX] = { "service.max", &obj_dur },
	[OBJ_SVC_MEAN] = { "service.mean", &obj_dur },
	[OBJ_MESSAGES_PER_S] = { "messages_per_s", &obj_num },
	[OBJ_REPLIES_PER_S] = { "replies_per_s", &obj_num },
	[OBJ_BYTES_SENT_PER_S] = { "bytes_sent_per_s", &obj_bytes },
	[OBJ_BYTES_RECEIVED_PER_S] = { "bytes_received_per_s", &obj_bytes },
	[OBJ_CONNECTS_PER_S] = { "connects_per_s", &obj_num },
	[OBJ_ERRORS_RATE] = { "errors.rate", &obj_frac },
	[OBJ_ERRORS_PER_S] = { "errors.per_s", &obj_num },
	[OBJ_ERRORS] = { "errors", &obj_num },
	[OBJ_ERRORS_KIND] = { "errors.KIND", &obj_num },
	[OBJ_CONNECTIONS] = { "connections", &obj_num },
	[OBJ_LATE_RATE] = { "late.rate", &obj_frac },
};

static const char *const obj_op_names[] = { "<", "<=", ">", ">=" };
static const char *const obj_verdict_names[] = {
	"unknown", "held", "missed",
};

/* A number as read: mantissa * 10^-frac. */
struct obj_number {
	const char		*text;
	size_t			 len;		/* with the unit, as written */
	size_t			 numlen;	/* the digits and the point */
	const struct obj_unit	*unit;
	double			 value;		/* in base units */
};

static int	obj_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
obj_err(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A part of the input quoted in a reason: "%.*s" arguments, clipped. */
#define OBJ_QUOTE(p, n)	(int)((n) > OBJ_QUOTE_MAX ? OBJ_QUOTE_MAX : (n)), (p)

static bool
obj_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
obj_skip(const char *p)
{
	while (obj_blank(*p))
		p++;
	return p;
}

/* The length of the word at p: up to a blank or the end. */
static size_t
obj_word(const char *p)
{
	size_t	 n = 0;

	while (p[n] != '\0' && !obj_blank(p[n]))
		n++;
	return n;
}

static bool
obj_op_char(char c)
{
	return c == '<' || c == '>' || c == '=' || c == '!';
}

static bool
obj_unit_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '%' || c == '_';
}

/* "for" as a word of its own at p (a number may follow it directly). */
static bool
obj_is_for(const char *p)
{
	return strncmp(p, "for", 3) == 0 &&
	    (p[3] == '\0' || obj_blank(p[3]) || (p[3] >= '0' && p[3] <= '9'));
}

/* 10^n, exact for 0 <= n <= 22. */
static double
obj_pow10(int n)
{
	double	 v = 1;

	while (n-- > 0)
		v *= 10;
	return v;
}

/*
 * mant * 10^-frac in unit, in base units.  mant (< 10^15) and 10^|k|
 * (|k| <= 21, as frac <= 15 and -6 <= p10 <= 9) are exact doubles, and
 * so is mant * mul (mul is a power of two, or 60 or 3600 on a mantissa
 * whose product stays under 2^53 for any sane grace): one rounding, so
 * the result is the double nearest the decimal written.
 */
static double
obj_scale(uint64_t mant, int frac, const struct obj_unit *unit)
{
	double	 v = (double)mant * unit->mul;
	int	 k = unit->p10 - frac;

	return k >= 0 ? v * obj_pow10(k) : v / obj_pow10(-k);
}

/* The nearest name so far: within 2 edits, and only if no other is as near. */
struct obj_near {
	char	 best[OBJ_NAME_MAX];
	size_t	 dist;
	bool	 tie;
};

static void
obj_near_try(struct obj_near *n, const char *name, const char *cand)
{
	size_t	 d = edit_distance(name, cand);

	if (d > 2 || d >= strlen(name) || d > n->dist)
		return;
	if (d == n->dist) {
		if (strcmp(n->best, cand) != 0)
			n->tie = true;
		return;
	}
	snprintf(n->best, sizeof(n->best), "%s", cand);
	n->dist = d;
	n->tie = false;
}

static int
obj_unknown_figure(const char *p, size_t len, const char *const *kinds,
    size_t nkinds, char *why, size_t whylen)
{
	char		 name[OBJ_NAME_MAX], cand[OBJ_NAME_MAX];
	const char	*hint = "", *alt = NULL, *alt2 = NULL;
	struct obj_near	 near = { .dist = SIZE_MAX };
	size_t		 i, n;

	if (len >= sizeof(name))
		return obj_err(why, whylen, "unknown figure \"%.*s\"",
		    OBJ_QUOTE(p, len));
	memcpy(name, p, len);
	name[len] = '\0';
	for (i = 0; i < OBJ_FIG_MAX; i++) {
		if (i == OBJ_ERRORS_KIND)
			continue;
		obj_near_try(&near, name, obj_figs[i].name);
		/* "p99" for latency.p99 and service.p99 */
		n = strlen(obj_figs[i].name);
		if (strchr(name, '.') == NULL && n > len + 1 &&
		    strcmp(obj_figs[i].name + n - len, name) == 0 &&
		    obj_figs[i].name[n - len - 1] == '.') {
			if (alt == NULL)
				alt = obj_figs[i].name;
			else if (alt2 == NULL)
				alt2 = obj_figs[i].name;
		}
	}
	for (i = 0; i < nkinds; i++) {
		snprintf(cand, sizeof(cand), "errors.%s", kinds[i]);
		obj_near_try(&near, name, cand);
	}

	if (strncmp(name, "latency", 7) == 0 ||
	    strncmp(name, "service", 7) == 0)
		hint = " (latency. and service. take p50, p90, p99, p99.9, "
		    "p99.99, max and mean)";
	else if (strncmp(name, "errors.", 7) == 0)
		hint = " (errors.rate, errors.per_s or errors.KIND for an "
		    "error kind)";
	if (near.dist != SIZE_MAX && !near.tie)
		return obj_err(why, whylen, "unknown figure \"%s\"%s; did you "
		    "mean \"%s\"?", name, hint, near.best);
	if (alt != NULL && near.dist == SIZE_MAX)
		return obj_err(why, whylen, "unknown figure \"%s\"; did you "
		    "mean \"%s\"%s%s%s?", name, alt, alt2 != NULL ? " or \"" :
		    "", alt2 != NULL ? alt2 : "", alt2 != NULL ? "\"" : "");
	return obj_err(why, whylen, "unknown figure \"%s\"%s", name, hint);
}

/* The figure named p[0 .. len): 0, or -1 with a reason. */
static int
obj_figure(const char *p, size_t len, const char *const *kinds,
    size_t nkinds, struct objective *o, char *why, size_t whylen)
{
	size_t	 i;

	for (i = 0; i < OBJ_FIG_MAX; i++) {
		if (i != OBJ_ERRORS_KIND && strlen(obj_figs[i].name) == len &&
		    memcmp(obj_figs[i].name, p, len) == 0) {
			o->fig = (enum obj_figure)i;
			o->kind = -1;
			return 0;
		}
	}
	if (len > 7 && memcmp(p, "errors.", 7) == 0) {
		for (i = 0; i < nkinds && i <= (size_t)INT_MAX; i++) {
			if (strlen(kinds[i]) == len - 7 &&
			    memcmp(kinds[i], p + 7, len - 7) == 0) {
				o->fig = OBJ_ERRORS_KIND;
				o->kind = (int)i;
				return 0;
			}
		}
	}
	return obj_unknown_figure(p, len, kinds, nkinds, why, whylen);
}

/* The operator at p[0 .. len) (op characters only, len may be 0). */
static int
obj_op(const char *p, size_t len, const char *fig, struct objective *o,
    char *why, size_t whylen)
{
	const char	*hint = "";
	size_t		 i, n;

	if (len == 0) {
		if (*p == '\0')
			return obj_err(why, whylen, "missing operator after "
			    "\"%s\" (<, <=, > or >=)", fig);
		n = obj_word(p);
		return obj_err(why, whylen, "expected an operator (<, <=, > "
		    "or >=) after \"%s\", not \"%.*s\"", fig, OBJ_QUOTE(p, n));
	}
	for (i = 0; i < sizeof(obj_op_names) / sizeof(obj_op_names[0]); i++) {
		if (strlen(obj_op_names[i]) == len &&
		    memcmp(obj_op_names[i], p, len) == 0) {
			o->op = (enum obj_op)i;
			return 0;
		}
	}
	if (len == 2 && memcmp(p, "=>", 2) == 0)
		hint = "; did you mean \">=\"?";
	else if (len == 2 && memcmp(p, "=<", 2) == 0)
		hint = "; did you mean \"<=\"?";
	else if (p[0] == '=' || p[0] == '!')
		hint = " (an objective is a bound, not an equality)";
	return obj_err(why, whylen, "bad operator \"%.*s\": expected <, <=, > "
	    "or >=%s", OBJ_QUOTE(p, len), hint);
}

/*
 * A number and its unit of class cls at *pp, for what ("latency.p99",
 * or "the grace"); *pp moves past them.  Before the unit, blanks may
 * stand, and "for" ends the value.
 */
static int
obj_value(const char **pp, const struct obj_class *cls, const char *what,
    struct obj_number *num, char *why, size_t whylen)
{
	const char		*p = *pp, *q, *u;
	const struct obj_unit	*unit = NULL;
	uint64_t		 mant = 0;
	size_t			 i, n, ulen, sig = 0;
	int			 frac = 0;
	bool			 point = false, ok = true;

	n = obj_word(p);
	if (*p == '-')
		return obj_err(why, whylen, "negative value \"%.*s\" for %s",
		    OBJ_QUOTE(p, n), what);
	for (q = p; (*q >= '0' && *q <= '9') || *q == '.'; q++)
		;
	/* DIGITS [ "." DIGITS ] */
	if (q == p || *p == '.' || q[-1] == '.')
		ok = false;
	for (i = 0; ok && p + i < q; i++) {
		if (p[i] == '.') {
			if (point)
				ok = false;
			point = true;
			continue;
		}
		if (mant == 0 && p[i] == '0') {
			frac += point;
			continue;
		}
		if (++sig > OBJ_DIGITS_MAX)
			return obj_err(why, whylen, "bad number \"%.*s\" for "
			    "%s: more than %d significant digits",
			    OBJ_QUOTE(p, (size_t)(q - p)), what,
			    OBJ_DIGITS_MAX);
		mant = mant * 10 + (uint64_t)(p[i] - '0');
		frac += point;
	}
	if (ok && frac > OBJ_DIGITS_MAX)
		return obj_err(why, whylen, "bad number \"%.*s\" for %s: "
		    "more than %d decimals", OBJ_QUOTE(p, (size_t)(q - p)),
		    what, OBJ_DIGITS_MAX);
	if (!ok)
		return obj_err(why, whylen, "bad number \"%.*s\" for %s",
		    OBJ_QUOTE(p, n), what);

	num->text = p;
	num->numlen = (size_t)(q - p);
	u = obj_skip(q);
	ulen = 0;
	if (!obj_is_for(u)) {
		while (obj_unit_char(u[ulen]))
			ulen++;
	}
	if (ulen == 0)
		u = q;		/* no unit: the blanks are not the value's */
	for (i = 0; i < cls->nunits; i++) {
		if (strlen(cls->units[i].name) == ulen &&
		    memcmp(cls->units[i].name, u, ulen) == 0) {
			unit = &cls->units[i];
			break;
		}
	}
	if (unit == NULL && ulen == 0)
		return obj_err(why, whylen, "missing unit after \"%.*s\": %s "
		    "takes %s, as in \"%s\"", OBJ_QUOTE(p, num->numlen), what,
		    cls->list, cls->example);
	if (unit == NULL) {
		for (i = 0; i < cls->nunits; i++) {
			if (cls->units[i].name[0] != '\0' &&
			    strlen(cls->units[i].name) == ulen &&
			    strncasecmp(cls->units[i].name, u, ulen) == 0)
				return obj_err(why, whylen, "bad unit \"%.*s\" "
				    "for %s: units are case-sensitive; did "
				    "you mean \"%s\"?", OBJ_QUOTE(u, ulen),
				    what, cls->units[i].name);
		}
		return obj_err(why, whylen, "bad unit \"%.*s\" for %s: "
		    "expected %s", OBJ_QUOTE(u, ulen), what, cls->list);
	}

	num->unit = unit;
	num->value = obj_scale(mant, frac, unit);
	num->len = (size_t)(u + ulen - p);
	*pp = u + ulen;
	return 0;
}

int
objective_parse(const char *s, const char *const *kinds, size_t nkinds,
    struct objective *o, char *why, size_t whylen)
{
	struct objective	 t;
	struct obj_number	 val, grace;
	const struct obj_class	*cls;
	const char		*p, *fig, *op;
	char			 figname[OBJ_NAME_MAX];
	size_t			 figlen, oplen, n;
	int			 len;

	memset(&t, 0, sizeof(t));
	memset(&grace, 0, sizeof(grace));
	p = obj_skip(s);
	if (*p == '\0')
		return obj_err(why, whylen, "empty objective");

	fig = p;
	while (*p != '\0' && !obj_blank(*p) && !obj_op_char(*p))
		p++;
	figlen = (size_t)(p - fig);
	if (figlen == 0)
		return obj_err(why, whylen, "missing figure before \"%.*s\"",
		    OBJ_QUOTE(fig, obj_word(fig)));
	if (obj_figure(fig, figlen, kinds, nkinds, &t, why, whylen) != 0)
		return -1;
	cls = obj_figs[t.fig].cls;
	/* For reasons: the name as written (it matched exactly). */
	snprintf(figname, sizeof(figname), "%.*s", (int)figlen, fig);

	p = obj_skip(p);
	op = p;
	while (obj_op_char(*p))
		p++;
	oplen = (size_t)(p - op);
	if (obj_op(op, oplen, figname, &t, why, whylen) != 0)
		return -1;

	p = obj_skip(p);
	if (*p == '\0')
		return obj_err(why, whylen, "missing value after \"%s %s\"",
		    figname, obj_op_names[t.op]);
	if (obj_value(&p, cls, figname, &val, why, whylen) != 0)
		return -1;
	t.value = val.value;
	snprintf(t.unit, sizeof(t.unit), "%s", val.unit->name);
	t.scale = obj_scale(1, 0, val.unit);

	p = obj_skip(p);
	if (obj_is_for(p)) {
		p = obj_skip(p + 3);
		if (*p == '\0')
			return obj_err(why, whylen, "\"for\" needs a duration, "
			    "as in \"for 30s\"");
		if (obj_value(&p, &obj_grace, "the grace", &grace, why,
		    whylen) != 0)
			return -1;
		t.grace_s = grace.value;
		p = obj_skip(p);
		if (*p != '\0')
			return obj_err(why, whylen, "unexpected \"%.*s\" after "
			    "the grace", OBJ_QUOTE(p, strlen(p)));
	} else if (*p != '\0') {
		n = strlen(p);
		return obj_err(why, whylen, "unexpected \"%.*s\" after the "
		    "value; only \"for DURATION\" may follow",
		    OBJ_QUOTE(p, n));
	}

	if (cls == &obj_frac && val.unit->name[0] == '%' && t.value > 1)
		return obj_err(why, whylen, "%s is at most 100%%, not "
		    "\"%.*s\"", figname, OBJ_QUOTE(val.text, val.len));
	if (cls == &obj_frac && t.value > 1)
		return obj_err(why, whylen, "%s is a fraction (0 to 1) or a "
		    "percent; did you mean \"%.*s%%\"?", figname,
		    OBJ_QUOTE(val.text, val.numlen));
	if (t.op == OBJ_LT && t.value == 0)
		return obj_err(why, whylen, "\"%s < %.*s\" never holds: %s is "
		    "never below 0", figname, OBJ_QUOTE(val.text, val.len),
		    figname);

	len = snprintf(t.text, sizeof(t.text), "%s %s %.*s%s%s%.*s%s",
	    figname, obj_op_names[t.op], (int)val.numlen, val.text,
	    val.unit->name, grace.unit != NULL ? " for " : "",
	    (int)grace.numlen, grace.text != NULL ? grace.text : "",
	    grace.unit != NULL ? grace.unit->name : "");
	if (len < 0 || (size_t)len >= sizeof(t.text))
		return obj_err(why, whylen, "objective too long (at most %d "
		    "bytes written plainly)", OBJ_TEXT_MAX - 1);
	*o = t;
	return 0;
}

enum obj_verdict
objective_check(const struct objective *o, const struct obj_figures *f)
{
	double	 v;

	if ((unsigned)o->fig >= OBJ_FIG_MAX || !f->have[o->fig])
		return OBJ_UNKNOWN;
	if (o->fig == OBJ_ERRORS_KIND) {
		if (f->errors_by_kind == NULL || o->kind < 0 ||
		    (size_t)o->kind >= f->nkinds)
			return OBJ_UNKNOWN;
		v = f->errors_by_kind[o->kind];
	} else
		v = f->v[o->fig];
	if (v != v)		/* NaN */
		return OBJ_UNKNOWN;
	switch (o->op) {
	case OBJ_LT:
		return v < o->value ? OBJ_HELD : OBJ_MISSED;
	case OBJ_LE:
		return v <= o->value ? OBJ_HELD : OBJ_MISSED;
	case OBJ_GT:
		return v > o->value ? OBJ_HELD : OBJ_MISSED;
	case OBJ_GE:
		return v >= o->value ? OBJ_HELD : OBJ_MISSED;
	}
	return OBJ_UNKNOWN;
}

enum obj_verdict
objective_step(const struct objective *o, struct obj_state *st,
    const struct obj_figures *f, double t0, double t1, enum obj_edge *edge)
{
	enum obj_verdict	 c = objective_check(o, f);
	enum obj_edge		 e = OBJ_EDGE_NONE;

	switch (c) {
	case OBJ_UNKNOWN:
		break;
	case OBJ_HELD:
		st->failing = false;
		if (st->missed) {
			st->missed = false;
			e = OBJ_EDGE_MISS_END;
		}
		break;
	case OBJ_MISSED:
		if (!st->failing) {
			st->failing = true;
			st->failing_since = t0;
		}
		if (!st->missed &&
		    t1 - st->failing_since + OBJ_GRACE_SLACK >= o->grace_s) {
			st->missed = true;
			st->missed_since = st->failing_since + o->grace_s;
			st->misses++;
			e = OBJ_EDGE_MISS_BEGIN;
		}
		if (st->missed) {
			double	 from = st->missed_since > t0 ?
				    st->missed_since : t0;

			if (t1 > from)
				st->missed_s += t1 - from;
		} else
			c = OBJ_HELD;	/* within the grace */
		break;
	}
	if (edge != NULL)
		*edge = e;
	return c;
}

const char *
objective_format(const struct objective *o, double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.4g%s", v / (o->scale > 0 ? o->scale : 1),
	    o->unit);
	return buf;
}

const char *
objective_figure_name(enum obj_figure f)
{
	return (unsigned)f < OBJ_FIG_MAX ? obj_figs[f].name : NULL;
}

const char *
objective_op_name(enum obj_op op)
{
	return (unsigned)op < 4 ? obj_op_names[op] : "?";
}

const char *
objective_verdict_name(enum obj_verdict v)
{
	return (unsigned)v < 3 ? obj_verdict_names[v] : "?";
}
