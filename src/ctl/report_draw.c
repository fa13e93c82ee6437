/* SPDX-License-Identifier: ISC */
/*
 * report_draw.c -- the report's model (report_int.h) drawn as one
 * self-contained HTML page or SVG picture (docs/report.md): a summary
 * table, then per load its panels of throughput, bandwidth, connections,
 * errors and latency, with the epoch changes marked.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/cmd.h"
#include "report_int.h"

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

/* A length of time that need not be whole: "0.0179s", "1s", "1.87s", "2m". */
static const char *
fmt_secs(double s, char *buf, size_t len)
{
	if (s >= 59.5)
		return fmt_elapsed(floor(s + 0.5), buf, len);
	snprintf(buf, len, "%.3gs", s);
	return buf;
}

/* A time on the axis, to a tenth of a second: "0", "10.6s", "-1s", "2m". */
static const char *
fmt_at(double t, char *buf, size_t len)
{
	char	 tmp[32];
	double	 a = fabs(t);

	if (a < 0.05)
		snprintf(buf, len, "0");
	else if (a < 59.95)
		snprintf(buf, len, "%s%.1fs", t < 0 ? "-" : "", a);
	else
		snprintf(buf, len, "%s%s", t < 0 ? "-" : "",
		    fmt_elapsed(floor(a + 0.5), tmp, sizeof(tmp)));
	/* "4.0s" reads as "4s" on the axis; keep them alike. */
	if (strlen(buf) > 3 && strcmp(buf + strlen(buf) - 3, ".0s") == 0)
		strcpy(buf + strlen(buf) - 3, "s");
	return buf;
}

/* Messages per second: "12.5/s", "1,974/s", "-" for no time at all. */
static const char *
fmt_rate(double n, double secs, char *buf, size_t len)
{
	char	 num[32];

	if (!(secs > 0))
		snprintf(buf, len, "-");
	else if (n / secs < 100)
		snprintf(buf, len, "%.1f/s", n / secs);
	else
		snprintf(buf, len, "%s/s", fmt_int(n / secs, num, sizeof(num)));
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

/* Widen [lo, hi] to the values of the series (lo: the least above 0). */
static void
series_range(const struct report *rp, const struct series *const *ss,
    size_t n, double *lo, double *hi)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < rp->nb; k++) {
			const struct bucket *b = &ss[i]->b[k];

			if (b->vmin > b->vmax)
				continue;
			if (b->vmax > *hi)
				*hi = b->vmax;
			if (b->vmin > 0 && b->vmin < *lo)
				*lo = b->vmin;
		}
}

/*
 * One panel at height y; returns the height used.  The y range is that
 * of the series drawn, or range[2] when given (panels to compare).
 */
static double
draw_panel(FILE *f, const struct report *rp, const struct rload *l,
    double y, const char *title, const char *ytitle, enum yscale scale,
    const struct series *const *ss, size_t n, bool reverse,
    const double *range)
{
	struct panel	 p = { .x0 = ML, .y0 = y + P_TOP, .scale = scale };
	double		 lo = INFINITY, hi = 0;

	if (range != NULL) {
		lo = range[0];
		hi = range[1];
	} else
		series_range(rp, ss, n, &lo, &hi);
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
	    (l->has_lat ? PANEL_H : 0) + (l->has_svc ? PANEL_H : 0);
}

/* Every panel of a load, from height y. */
static void
draw_load(FILE *f, const struct report *rp, const struct rload *l, double y)
{
	const struct series *ss[RPT_KINDS_MAX + 1];
	size_t		 n;
	char		 ytitle[64], buf[32];
	double		 range[2] = { INFINITY, 0 };

	n = 0;
	ss[n++] = &l->s[S_MSGS];
	if (l->s[S_REPLIES].peak > 0)
		ss[n++] = &l->s[S_REPLIES];
	y += draw_panel(f, rp, l, y, "Throughput", "messages per second",
	    Y_RATE, ss, n, false, NULL);
	n = 0;
	ss[n++] = &l->s[S_BSENT];
	if (l->s[S_BRECV].peak > 0)
		ss[n++] = &l->s[S_BRECV];
	y += draw_panel(f, rp, l, y, "Bandwidth", "bytes per second", Y_BYTES,
	    ss, n, false, NULL);
	ss[0] = &l->s[S_ACTIVE];
	ss[1] = &l->s[S_TARGET];
	y += draw_panel(f, rp, l, y, "Connections", "connections", Y_COUNT,
	    ss, 2, false, NULL);
	if ((n = error_series(l, ss)) > 0) {
		fmt_secs(report_read_spacing(rp), buf, sizeof(buf));
		snprintf(ytitle, sizeof(ytitle), "errors per interval (%s)",
		    buf);
		y += draw_panel(f, rp, l, y, "Errors", ytitle, Y_COUNT, ss, n,
		    false, NULL);
	} else {
		fprintf(f, "<text class=\"pt\" x=\"%d\" y=\"%.1f\">Errors"
		    "</text><text class=\"nt\" x=\"%d\" y=\"%.1f\">none: no "
		    "error of any kind and no failed connect</text>\n", ML,
		    y + 18, ML + 70, y + 18);
		y += NOTE_H;
	}
	/*
	 * Latency from the intended send time, then service time from the
	 * actual write, on one scale: the gap between them is the time
	 * requests waited to be sent.
	 */
	for (int i = 0; i < RPT_LAT; i++) {
		ss[i] = &l->s[S_P50 + i];
		ss[RPT_LAT + i] = &l->s[S_SP50 + i];
	}
	series_range(rp, ss, l->has_lat ? RPT_LAT : 0, &range[0], &range[1]);
	series_range(rp, ss + RPT_LAT, l->has_svc ? RPT_LAT : 0, &range[0],
	    &range[1]);
	if (!isfinite(range[0]))
		range[0] = 1;
	if (l->has_lat)
		y += draw_panel(f, rp, l, y, "Latency of each interval",
		    "latency (log scale)", Y_LOG_US, ss, RPT_LAT, true, range);
	if (l->has_svc)
		draw_panel(f, rp, l, y, "Service time of each interval",
		    "service time (log scale)", Y_LOG_US, ss + RPT_LAT, RPT_LAT,
		    true, range);
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
	fmt_rate(l->msgs_total, dur, sm->rate, sizeof(sm->rate));
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
		static const int idx[4] = { S_P50 - S_P50, S_P99 - S_P50,
		    S_P999 - S_P50, S_PMAX - S_P50 };

		if (l->has_run && l->run_count > 0)
			fmt_us(l->run[idx[i]], sm->lat[i], sizeof(sm->lat[i]));
		else
			snprintf(sm->lat[i], sizeof(sm->lat[i]), "-");
	}
	snprintf(sm->epochs, sizeof(sm->epochs), "%u", l->epochs + 1);
}

/* ---------------------------------------------------------- epochs */

/* The columns of the epoch table. */
enum {
	C_EPOCH = 0,
	C_CAUSE,
	C_AT,
	C_DUR,
	C_RATE,
	C_L50,		/* latency p50, p99, p99.9 */
	C_S50 = C_L50 + 3,	/* service time p50, p99, p99.9 */
	C_ERRS = C_S50 + 3,
	C_MAX
};

static const struct {
	const char	*head;
	int		 right;	/* SVG: the column's right edge (or left) */
	bool		 text;	/* left-aligned */
} ecol[C_MAX] = {
	[C_EPOCH] = { "epoch", 50, false },
	[C_CAUSE] = { "began with", 64, true },
	[C_AT] = { "at", 290, false },
	[C_DUR] = { "duration", 370, false },
	[C_RATE] = { "rate", 455, false },
	[C_L50] = { "p50", 530, false },
	[C_L50 + 1] = { "p99", 600, false },
	[C_L50 + 2] = { "p99.9", 670, false },
	[C_S50] = { "p50", 750, false },
	[C_S50 + 1] = { "p99", 820, false },
	[C_S50 + 2] = { "p99.9", 890, false },
	[C_ERRS] = { "errors", 910, true },
};

/* The percentiles shown: p50, p99 and p99.9 (indices into RPT_LAT). */
static const int epct_idx[3] = { S_P50 - S_P50, S_P99 - S_P50,
    S_P999 - S_P50 };

struct ecells {
	char	 c[C_MAX][1024];
	char	 tip[H_KINDS][64];	/* a partial histogram: how partial */
};

/*
 * The cells of one epoch.  Its start is the command's time when the line
 * gives it, else the start of its first interval; its rate is over its
 * intervals (those the log has).
 */
static void
epoch_cells(const struct report *rp, const struct rload *l,
    const struct erow *e, struct ecells *ec)
{
	double	 began, end;
	char	 num[32], a[32], b[32];
	size_t	 o = 0;

	memset(ec, 0, sizeof(*ec));
	if (isfinite(e->start) && (e->lines == 0 || e->start <= e->to))
		began = e->start;
	else
		began = e->lines > 0 ? e->from : e->seen;
	end = e->lines > 0 ? e->to : e->seen;
	snprintf(ec->c[C_EPOCH], sizeof(ec->c[C_EPOCH]), "%lld", e->epoch);
	snprintf(ec->c[C_CAUSE], sizeof(ec->c[C_CAUSE]), "%s", e->cause);
	fmt_at(began - rp->t0, ec->c[C_AT], sizeof(ec->c[C_AT]));
	fmt_dur(end > began ? end - began : 0, ec->c[C_DUR],
	    sizeof(ec->c[C_DUR]));
	fmt_rate(e->msgs, e->lines > 0 ? e->to - e->from : 0, ec->c[C_RATE],
	    sizeof(ec->c[C_RATE]));
	for (int k = 0; k < H_KINDS; k++) {
		const struct epct *p = &e->pct[k];
		const double	*v = NULL;
		bool		 part = false;

		if (p->nival == 1)
			v = p->i;	/* all of it, exactly */
		else if (p->ecount > 0) {
			v = p->e;
			part = p->ecount + 0.5 < p->count;
		}
		for (int i = 0; i < 3; i++) {
			char	*c = ec->c[(k == H_LAT ? C_L50 : C_S50) + i];

			if (v == NULL)
				snprintf(c, sizeof(ec->c[0]), "-");
			else
				snprintf(c, sizeof(ec->c[0]), "%s%s",
				    fmt_us(v[epct_idx[i]], a, sizeof(a)),
				    part ? "*" : "");
		}
		if (part)
			snprintf(ec->tip[k], sizeof(ec->tip[k]), "%s of %s "
			    "samples", fmt_int(p->ecount, a, sizeof(a)),
			    fmt_int(p->count, b, sizeof(b)));
	}
	if (e->lines == 0) {
		snprintf(ec->c[C_ERRS], sizeof(ec->c[C_ERRS]), "-");
		return;
	}
	for (size_t i = 0; i < l->nkinds && o < sizeof(ec->c[C_ERRS]); i++)
		if (e->kerr[i] > 0)
			o += (size_t)snprintf(ec->c[C_ERRS] + o,
			    sizeof(ec->c[C_ERRS]) - o, "%s%s %s", o ? ", " : "",
			    l->kinds[i].name, fmt_int(e->kerr[i], num,
			    sizeof(num)));
	if (e->cfail > 0 && o < sizeof(ec->c[C_ERRS]))
		o += (size_t)snprintf(ec->c[C_ERRS] + o,
		    sizeof(ec->c[C_ERRS]) - o, "%sfailed connects %s",
		    o ? ", " : "", fmt_int(e->cfail, num, sizeof(num)));
	if (o == 0)
		snprintf(ec->c[C_ERRS], sizeof(ec->c[C_ERRS]), "none");
}

/* Whether a column is shown: latency and service time when logged. */
static bool
epoch_col(const struct rload *l, int c)
{
	if (c >= C_L50 && c < C_S50)
		return l->has_hist[H_LAT];
	if (c >= C_S50 && c < C_ERRS)
		return l->has_hist[H_SVC];
	return true;
}

static bool
epoch_partial(const struct report *rp, const struct rload *l)
{
	struct ecells	 ec;

	for (size_t i = 0; i < l->nrows; i++) {
		epoch_cells(rp, l, &l->rows[i], &ec);
		if (ec.tip[H_LAT][0] != '\0' || ec.tip[H_SVC][0] != '\0')
			return true;
	}
	return false;
}

/* What the percentile columns are, for the kinds the load has. */
static const char *
epoch_note_pct(const struct rload *l)
{
	if (l->has_hist[H_LAT] && l->has_hist[H_SVC])
		return "Latency (from when a request was due) and service "
		    "time (from when it was written): percentiles over the "
		    "epoch.";
	if (l->has_hist[H_LAT])
		return "Latency (from when a request was due): percentiles "
		    "over the epoch.";
	return "Service time (from when a request was written): percentiles "
	    "over the epoch.";
}

static const char epoch_note_part[] = "* Without the epoch's last, "
    "cut-short interval: loadd writes an epoch's histogram on each of its "
    "lines but the one that ends it.";

static void
draw_epochs_html(FILE *f, const struct report *rp, const struct rload *l)
{
	struct ecells	 ec;
	bool		 two = l->has_hist[H_LAT] || l->has_hist[H_SVC];

	/* Two header rows when percentiles are grouped under their kind. */
	fprintf(f, "<h3>Epochs</h3>\n<table class=\"epochs\">\n<tr>");
	for (int c = 0; c < C_MAX; c++) {
		if (!epoch_col(l, c))
			continue;
		if (c == C_L50 || c == C_S50)
			fprintf(f, "<th colspan=\"3\">%s</th>", c == C_L50 ?
			    "latency" : "service time");
		else if (c < C_L50 || c > C_S50 + 2)
			fprintf(f, "<th%s%s>%s</th>", ecol[c].text ?
			    " class=\"l\"" : "", two ? " rowspan=\"2\"" : "",
			    ecol[c].head);
	}
	fprintf(f, "</tr>\n");
	if (two) {
		fprintf(f, "<tr>");
		for (int c = C_L50; c < C_ERRS; c++)
			if (epoch_col(l, c))
				fprintf(f, "<th>%s</th>", ecol[c].head);
		fprintf(f, "</tr>\n");
	}
	for (size_t i = 0; i < l->nrows; i++) {
		epoch_cells(rp, l, &l->rows[i], &ec);
		fprintf(f, "<tr>");
		for (int c = 0; c < C_MAX; c++) {
			const char *tip = "", *cls = "";

			if (!epoch_col(l, c))
				continue;
			if (c >= C_L50 && c < C_S50)
				tip = ec.tip[H_LAT];
			else if (c >= C_S50 && c < C_ERRS)
				tip = ec.tip[H_SVC];
			if (c == C_CAUSE)
				cls = " class=\"l\"";
			else if (c == C_ERRS)
				cls = strcmp(ec.c[c], "none") && strcmp(ec.c[c],
				    "-") ? " class=\"e bad\"" : " class=\"e\"";
			fprintf(f, "<td%s", cls);
			/* tip is digits and commas: nothing to escape */
			if (tip[0] != '\0')
				fprintf(f, " title=\"%s\"", tip);
			fprintf(f, ">");
			put_esc(f, ec.c[c]);
			fprintf(f, "</td>");
		}
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table>\n");
	if (l->rows_more > 0)
		fprintf(f, "<p class=\"warn\">%llu later epochs are not listed "
		    "(at most %d per load).</p>\n",
		    (unsigned long long)l->rows_more, RPT_ROWS_MAX);
	if (l->has_hist[H_LAT] || l->has_hist[H_SVC])
		fprintf(f, "<p class=\"note\">%s</p>\n", epoch_note_pct(l));
	if (epoch_partial(rp, l))
		fprintf(f, "<p class=\"note\">%s (The tooltip says how many "
		    "samples they cover.)</p>\n", epoch_note_part);
}

/* Text cut to n bytes at most (not inside a UTF-8 character), with "…". */
static void
put_esc_cut(FILE *f, const char *s, size_t n)
{
	char	 buf[1024];
	size_t	 len = strlen(s);

	if (len <= n || n >= sizeof(buf)) {
		put_esc(f, s);
		return;
	}
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, s, n);
	buf[n] = '\0';
	put_esc(f, buf);
	fputs("…", f);
}

#define EPOCH_ROW	16	/* SVG: height of a row */

static double
epochs_height(const struct report *rp, const struct rload *l)
{
	return 30 + 2 * EPOCH_ROW + EPOCH_ROW * (double)l->nrows + 8 +
	    18 * (double)((l->rows_more > 0) + (l->has_hist[H_LAT] ||
	    l->has_hist[H_SVC]) + epoch_partial(rp, l)) + 16;
}

/* The epoch table as text in the picture, from height y. */
static void
draw_epochs_svg(FILE *f, const struct report *rp, const struct rload *l,
    double y)
{
	struct ecells	 ec;
	int		 x;

	fprintf(f, "<g>\n<text class=\"pt\" x=\"%d\" y=\"%.0f\">Epochs"
	    "</text>\n", ML, y + 20);
	y += 30 + EPOCH_ROW;
	/* Over the three columns of each kind (a column is ~60 wide). */
	if (l->has_hist[H_LAT])
		fprintf(f, "<text class=\"at\" x=\"%d\" y=\"%.0f\" "
		    "text-anchor=\"middle\">latency</text>\n",
		    (ecol[C_L50].right - 60 + ecol[C_L50 + 2].right) / 2,
		    y - EPOCH_ROW);
	if (l->has_hist[H_SVC])
		fprintf(f, "<text class=\"at\" x=\"%d\" y=\"%.0f\" "
		    "text-anchor=\"middle\">service time</text>\n",
		    (ecol[C_S50].right - 60 + ecol[C_S50 + 2].right) / 2,
		    y - EPOCH_ROW);
	for (int c = 0; c < C_MAX; c++) {
		if (!epoch_col(l, c))
			continue;
		fprintf(f, "<text class=\"at\" x=\"%d\" y=\"%.0f\"%s>%s"
		    "</text>\n", ecol[c].right, y, ecol[c].text ? "" :
		    " text-anchor=\"end\"", ecol[c].head);
	}
	for (size_t i = 0; i < l->nrows; i++) {
		y += EPOCH_ROW;
		epoch_cells(rp, l, &l->rows[i], &ec);
		fprintf(f, "<text class=\"lg\" y=\"%.0f\">", y);
		for (int c = 0; c < C_MAX; c++) {
			if (!epoch_col(l, c))
				continue;
			x = ecol[c].right;
			fprintf(f, "<tspan x=\"%d\"%s%s>", x, ecol[c].text ?
			    "" : " text-anchor=\"end\"", c == C_ERRS &&
			    strcmp(ec.c[c], "none") && strcmp(ec.c[c], "-") ?
			    " fill=\"#b00\"" : "");
			put_esc_cut(f, ec.c[c], c == C_CAUSE ? 30 :
			    c == C_ERRS ? 44 : sizeof(ec.c[c]));
			fprintf(f, "</tspan>");
		}
		fprintf(f, "</text>\n");
	}
	y += 8;
	if (l->rows_more > 0) {
		y += 18;
		fprintf(f, "<text class=\"nt\" style=\"fill:#9a4d00\" "
		    "x=\"%d\" y=\"%.0f\">%llu later epochs are not listed (at "
		    "most %d per load).</text>\n", ML, y,
		    (unsigned long long)l->rows_more, RPT_ROWS_MAX);
	}
	if (l->has_hist[H_LAT] || l->has_hist[H_SVC]) {
		y += 18;
		fprintf(f, "<text class=\"nt\" x=\"%d\" y=\"%.0f\">%s"
		    "</text>\n", ML, y, epoch_note_pct(l));
	}
	if (epoch_partial(rp, l)) {
		y += 18;
		fprintf(f, "<text class=\"nt\" x=\"%d\" y=\"%.0f\">%s"
		    "</text>\n", ML, y, epoch_note_part);
	}
	fprintf(f, "</g>\n");
}

/*
 * What a point of the picture stands for.  The spacing of the lines is
 * their median interval, not the first line's: a load's first interval
 * is often cut short by the command that started it.
 */
static void
note_resolution(FILE *f, const struct report *rp, const char *pre,
    const char *post)
{
	char	 a[32], b[32];
	double	 sp = report_read_spacing(rp);

	if (rp->w <= sp * 1.0001)
		fprintf(f, "%sone point per line (every %s)%s", pre,
		    fmt_secs(sp, a, sizeof(a)), post);
	else
		fprintf(f, "%seach stretch of %s is drawn as its lowest and "
		    "highest value (lines every %s)%s", pre,
		    fmt_secs(rp->w, a, sizeof(a)), fmt_secs(sp, b, sizeof(b)),
		    post);
}

/* --------------------------------------------------------------- output */

void
report_draw_html(FILE *f, const struct report *rp, const char *title,
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
	    "h3{font-size:15px;margin:14px 0 0}\n"
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
		draw_epochs_html(f, rp, l);
	}
	fprintf(f, "</body>\n</html>\n");
}

void
report_draw_svg(FILE *f, const struct report *rp, const char *title,
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
			h += 56 + load_height(&rp->loads[i]) +
			    epochs_height(rp, &rp->loads[i]);
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
		draw_epochs_svg(f, rp, l, y);
		y += epochs_height(rp, l);
	}
	fprintf(f, "</svg>\n");
}
