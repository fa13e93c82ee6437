/* SPDX-License-Identifier: ISC */
/*
 * measure/hist.h -- the latency histogram.  Plain data: a worker records
 * into its own, the main thread merges them; no locking, no logging, no
 * libevent.
 */
#ifndef LOADD_MEASURE_HIST_H
#define LOADD_MEASURE_HIST_H

#include <stdint.h>

/*
 * The latency histogram: log-linear buckets in the HdrHistogram manner,
 * values in nanoseconds from HIST_LOWEST_NS to HIST_HIGHEST_NS at
 * HIST_SIGDIGITS significant digits, fixed memory, O(1) record, mergeable.
 * Larger values are recorded as HIST_HIGHEST_NS (and counted in clamped).
 */
#define HIST_SIGDIGITS		3
#define HIST_LOWEST_NS		1000ull			/* 1 us */
#define HIST_HIGHEST_NS		(2ull * 3600 * 1000000000ull)	/* 2 h */
#define HIST_SUB_BUCKETS	2048	/* 2 * 10^3 rounded up to 2^k */
#define HIST_UNIT_MAGNITUDE	9	/* floor(log2(HIST_LOWEST_NS)) */
#define HIST_BUCKETS		24	/* enough to reach HIST_HIGHEST_NS */
#define HIST_COUNTS		((HIST_BUCKETS + 1) * (HIST_SUB_BUCKETS / 2))

struct hist {
	uint64_t	 total;		/* values recorded */
	uint64_t	 clamped;	/* values above HIST_HIGHEST_NS */
	uint64_t	 min_ns;	/* exact; UINT64_MAX when empty */
	uint64_t	 max_ns;	/* exact; 0 when empty */
	double		 sum_ns;	/* for the mean */
	uint64_t	 counts[HIST_COUNTS];
};

void	 hist_reset(struct hist *);	/* all of it: a new histogram */
void	 hist_clear(struct hist *);	/* one hist_reset() made, cheaply */
void	 hist_record(struct hist *, uint64_t ns);
void	 hist_record_n(struct hist *, uint64_t ns, uint64_t n);
void	 hist_add(struct hist *dst, const struct hist *src);
/*
 * The value at percentile p (0 < p <= 100): the highest value equivalent
 * (same bucket) to the value below which p% of the recorded values fall,
 * as HdrHistogram reports it, capped at max_ns.  0 when empty.
 */
uint64_t hist_percentile(const struct hist *, double p);
double	 hist_mean(const struct hist *);	/* ns; 0 when empty */
/* Bucket index of a value, and the range of values one index holds. */
int	 hist_index(uint64_t ns);
uint64_t hist_lowest_equiv(int index);
uint64_t hist_highest_equiv(int index);

#endif
