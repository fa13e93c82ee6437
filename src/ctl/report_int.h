/* SPDX-License-Identifier: ISC */
/*
 * ctl/report_int.h -- the report's model, shared by its three rooms and
 * seen by no one else: report_read.c turns results logs into it,
 * report_draw.c draws it, report.c (`loadctl report`) holds the command
 * line and the output file.
 *
 * Each load keeps a fixed number of time buckets per series holding the
 * minimum and the maximum seen (and when), so that a spike of one
 * interval survives a week of data; when time runs past the last bucket,
 * neighbouring buckets merge in pairs and the bucket width doubles.
 */
#ifndef LOADD_CTL_REPORT_INT_H
#define LOADD_CTL_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RPT_BUCKETS	1000	/* per series; even, as they merge in pairs */
#define RPT_LOADS_MAX	100	/* ~700 KB of buckets each, with 12 kinds */
#define RPT_KINDS_MAX	32	/* error kinds per load */
#define RPT_ROWS_MAX	500	/* epochs listed per load */
#define RPT_SPACINGS	256	/* distinct interval lengths counted */

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
	S_SP50,		/* service time: S_SP50 to S_SPMAX as S_P50 to S_PMAX */
	S_SP90,
	S_SP99,
	S_SP999,
	S_SPMAX,
	S_FIXED
};

/* The latency figures of a line: those of S_P50 to S_PMAX, in order. */
#define RPT_LAT		(S_PMAX - S_P50 + 1)

/* The two histograms a line may carry: latency_us and service_us. */
enum {
	H_LAT = 0,
	H_SVC,
	H_KINDS
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

/*
 * The percentiles of one histogram kind over one epoch.  loadd writes the
 * epoch's own histogram (latency_us.epoch) on every line of the epoch but
 * the line that ends it: a command cuts the interval short and that line
 * already carries the new epoch, with an empty epoch histogram, while its
 * interval still belongs to the old one.  So the figures are the epoch
 * histogram of its last line (which lacks the final, cut-short interval),
 * or, when only one interval of the epoch had samples, that interval's.
 */
struct epct {
	double		 ecount, e[RPT_LAT];	/* *.epoch, the latest line */
	double		 icount, i[RPT_LAT];	/* *.interval, the latest */
	double		 count;		/* samples in the epoch's intervals */
	unsigned	 nival;		/* its intervals with samples */
};

/*
 * One epoch of a load: a row of its table.  Each line's interval is
 * counted in exactly one row (see rpt_feed for which).
 */
struct erow {
	long long	 epoch;
	char		*cause;		/* what began it, as on the marker */
	double		 start;		/* the command's time, or NAN */
	double		 seen;		/* time of the line that began the row */
	double		 from, to;	/* its intervals: first start, last end */
	uint64_t	 lines;		/* intervals counted in it */
	double		 msgs, cfail;
	double		 kerr[RPT_KINDS_MAX];	/* by the load's kinds[] */
	struct epct	 pct[H_KINDS];
};

/* One load of the logs: its series, markers and whole-run figures. */
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
	bool		 has_svc;	/* some interval had a service count */
	bool		 has_hist[H_KINDS]; /* some line had latency_us, ... */
	bool		 has_run;
	double		 run_count, run[RPT_LAT]; /* latency_us.run, last line */
	struct erow	*rows;		/* [RPT_ROWS_MAX] at most */
	size_t		 nrows, caprows;
	uint64_t	 rows_more;	/* epochs past RPT_ROWS_MAX, not kept */
};

/*
 * The lengths of the lines' intervals (to three significant digits) and
 * how often each came, for the spacing of the lines the report names
 * (report_read_spacing).  The first line of a load and a line that begins
 * an epoch are usually cut short by a command and are not counted.
 */
struct spacing {
	double		 v;
	uint64_t	 n;
};

/* Everything read so far; the buckets are shared by all loads. */
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
	struct spacing	 spacings[RPT_SPACINGS];
	size_t		 nspacings;
	char		*notes[8];	/* warnings, for the page as well */
	size_t		 nnotes;
};

/* report_read.c: read one results log into rp. */
int	 report_read(struct report *rp, const char *path, uint64_t *nlines);
/* A warning: on stderr now, and on the page later. */
void	 report_read_note(struct report *rp, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 report_read_free(struct report *rp);
/* The usual spacing of the lines in seconds (the common interval). */
double	 report_read_spacing(const struct report *rp);

/* report_draw.c: the whole report as an HTML page or an SVG picture. */
void	 report_draw_html(FILE *f, const struct report *rp, const char *title,
	    char *const *files, int nfiles);
void	 report_draw_svg(FILE *f, const struct report *rp, const char *title,
	    char *const *files, int nfiles);

#endif
