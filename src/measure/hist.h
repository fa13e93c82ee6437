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
void	 hist_add(struct hist *dst, const struct hist *src);
/* src into each of dst[0..n-1], in one pass (src is dst[0] only if n is 1) */
void	 hist_add_n(struct hist *const *dst, int n, const struct hist *src);
void	 hist_move(struct hist *dst, struct hist *src); /* add, then clear src */
/* src into each of dst[0..n-1], then clear src (src is none of them) */
void	 hist_move_n(struct hist *const *dst, int n, struct hist *src);
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

/*
 * Recording is on every reply's path, so it is inline (the layout it
 * indexes is described in hist.c).
 */
#define HIST_HALF		(HIST_SUB_BUCKETS / 2)
#define HIST_HALF_MAG		10	/* log2(HIST_HALF) */
/* Leading zeros of the largest value that fits in bucket 0, 2^20 - 1. */
#define HIST_LZ_BASE		(64 - HIST_UNIT_MAGNITUDE - HIST_HALF_MAG - 1)
/* Bits of the values that bucket 0 holds. */
#define HIST_SUB_MASK \
	((uint64_t)(HIST_SUB_BUCKETS - 1) << HIST_UNIT_MAGNITUDE)


/* The index of v; v must be <= HIST_HIGHEST_NS. */
static inline int
hist_index_of(uint64_t v)
{
	int	 bucket, sub;

	/* The mask makes every value below 2^20 land in bucket 0. */
	bucket = HIST_LZ_BASE - __builtin_clzll(v | HIST_SUB_MASK);
	sub = (int)(v >> (bucket + HIST_UNIT_MAGNITUDE));
	/*
	 * Buckets above 0 only use their upper half (sub >= HIST_HALF): the
	 * lower half is the previous bucket's range at twice the precision.
	 */
	return ((bucket + 1) << HIST_HALF_MAG) + sub - HIST_HALF;
}

static inline void
hist_record_n(struct hist *h, uint64_t ns, uint64_t n)
{
	uint64_t	 v = ns;

	if (n == 0)
		return;
	if (v > HIST_HIGHEST_NS) {
		v = HIST_HIGHEST_NS;
		h->clamped += n;
	}
	h->counts[hist_index_of(v)] += n;
	h->total += n;
	/* min, max and sum keep the value as measured, even if clamped. */
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	/* Through int64_t: one instruction (no value is 2^63 ns). */
	h->sum_ns += (double)(int64_t)ns * (double)(int64_t)n;
}

static inline void
hist_record(struct hist *h, uint64_t ns)
{
	hist_record_n(h, ns, 1);
}

#endif
