/* SPDX-License-Identifier: ISC */
/*
 * fuzz_objective.c -- the objective parser (model/objective.c).
 *
 * The input, up to its first NUL, is one objective string.  Refused: a
 * reason that fits OBJ_WHY_MAX.  Accepted: a value and a grace that are
 * finite and not negative, a normalized text that fits and parses again
 * to the same objective, and objective_format(), objective_check() and
 * objective_step() on it without a crash.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "measure/counters.h"
#include "model/objective.h"

#include "fuzz.h"

static bool
same(const struct objective *a, const struct objective *b)
{
	return a->fig == b->fig && a->kind == b->kind && a->op == b->op &&
	    a->value == b->value && a->grace_s == b->grace_s &&
	    a->scale == b->scale && strcmp(a->unit, b->unit) == 0 &&
	    strcmp(a->text, b->text) == 0;
}

static void
exercise(const struct objective *o)
{
	static const double	 vals[] = { 0, 1e-9, 0.5, 1, 999.5, 1e6,
	    1e15, 1e300 };
	struct obj_figures	 fig;
	struct obj_state	 st;
	double			 byk[ERR_MAX];
	char			 buf[64];
	enum obj_edge		 edge;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		objective_format(o, vals[i], buf, sizeof(buf));
		FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)) != NULL &&
		    buf[0] != '\0', "format %g", vals[i]);
		objective_format(o, o->value, buf, 4);
		FUZZ_CHECK(memchr(buf, '\0', 4) != NULL, "short format");
	}

	memset(&fig, 0, sizeof(fig));
	memset(&st, 0, sizeof(st));
	for (size_t k = 0; k < ERR_MAX; k++)
		byk[k] = (double)k;
	fig.errors_by_kind = byk;
	fig.nkinds = ERR_MAX;
	for (int i = 0; i < OBJ_FIG_MAX; i++)
		fig.have[i] = true;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		for (int f = 0; f < OBJ_FIG_MAX; f++)
			fig.v[f] = i % 3 == 2 ? o->value : vals[i];
		(void)objective_check(o, &fig);
		(void)objective_step(o, &st, &fig, (double)i, (double)i + 1,
		    &edge);
		FUZZ_CHECK(isfinite(st.missed_s) && st.missed_s >= 0,
		    "missed_s %g", st.missed_s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct objective	 o, again;
	char			 why[1024], *s;
	size_t			 n;

	s = malloc(size + 1);
	FUZZ_CHECK(s != NULL, "malloc");
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&o, 0x5a, sizeof(o));
	if (objective_parse(s, err_kind_names, ERR_MAX, &o, why,
	    sizeof(why)) != 0) {
		n = strnlen(why, sizeof(why));
		FUZZ_CHECK(n > 0 && n < OBJ_WHY_MAX, "reason of %zu bytes: %s",
		    n, why);
		free(s);
		return 0;
	}

	FUZZ_CHECK(o.fig >= 0 && o.fig < OBJ_FIG_MAX, "figure %d",
	    (int)o.fig);
	FUZZ_CHECK(objective_figure_name(o.fig) != NULL, "figure name");
	FUZZ_CHECK(o.op >= OBJ_LT && o.op <= OBJ_GE, "op %d", (int)o.op);
	FUZZ_CHECK(o.fig == OBJ_ERRORS_KIND ? o.kind >= 0 && o.kind < ERR_MAX :
	    o.kind == -1, "kind %d", o.kind);
	FUZZ_CHECK(isfinite(o.value) && o.value >= 0, "value %g", o.value);
	FUZZ_CHECK(isfinite(o.grace_s) && o.grace_s >= 0, "grace %g",
	    o.grace_s);
	FUZZ_CHECK(isfinite(o.scale) && o.scale > 0, "scale %g", o.scale);
	FUZZ_CHECK(memchr(o.unit, '\0', sizeof(o.unit)) != NULL, "unit");
	n = strnlen(o.text, sizeof(o.text));
	FUZZ_CHECK(n > 0 && n < sizeof(o.text), "text of %zu bytes", n);

	/* The normalized text is an objective, the same one. */
	FUZZ_CHECK(objective_parse(o.text, err_kind_names, ERR_MAX, &again,
	    why, sizeof(why)) == 0, "\"%s\" (from \"%s\") refused: %s",
	    o.text, s, why);
	FUZZ_CHECK(same(&o, &again), "\"%s\" parses to another objective "
	    "(%g %g) than \"%s\" (%g %g)", o.text, again.value,
	    again.grace_s, s, o.value, o.grace_s);

	exercise(&o);
	free(s);
	return 0;
}
