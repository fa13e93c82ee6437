/* SPDX-License-Identifier: ISC */
/*
 * hist.c -- the latency histogram: log-linear buckets in the HdrHistogram
 * manner, fixed memory, O(1) record, mergeable.  Written from the published
 * description of HdrHistogram; the counts array has exactly the layout
 * HdrHistogram uses for (lowest 1000, highest 7.2e12, 3 digits), so hdrlog.c
 * can write it as HdrHistogram's own encoding, index for index.
 *
 * The value range is cut into buckets that double in size.  Each bucket
 * has HIST_SUB_BUCKETS/2 slots (sub-buckets) of equal width; bucket 0 has
 * HIST_SUB_BUCKETS of them, since it also covers the values from 0 up.
 * With 2048 sub-buckets and a unit of 2^9 = 512 ns:
 *
 *	bucket 0	[0, 2^20) ns		2048 slots of 512 ns
 *	bucket 1	[2^20, 2^21) ns		1024 slots of 1024 ns
 *	bucket k	[2^(19+k), 2^(20+k)) ns	1024 slots of 2^(9+k) ns
 *
 * so a slot is never wider than 1/1024 of the values it holds (3 decimal
 * digits), except below 2^19 ns (~0.5 ms) where it is 512 ns wide.
 * Bucket 23 ends at 2^43 ns (~2.44 h), the first power of two above 2 h.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "measure/hist.h"

/*
 * The header's constants must agree with each other and with HdrHistogram's
 * derivation of them; a wrong one fails the build here rather than writing
 * logs that HdrHistogram's tools misread.
 */
_Static_assert(HIST_HALF == 1 << HIST_HALF_MAG, "HIST_SUB_BUCKETS");
/* The smallest power of two >= 2 * 10^HIST_SIGDIGITS (here 2000). */
_Static_assert(HIST_SIGDIGITS == 3 && HIST_SUB_BUCKETS >= 2000 &&
    HIST_SUB_BUCKETS / 2 < 2000, "HIST_SUB_BUCKETS vs HIST_SIGDIGITS");
/* floor(log2(HIST_LOWEST_NS)) */
_Static_assert((1ull << HIST_UNIT_MAGNITUDE) <= HIST_LOWEST_NS &&
    HIST_LOWEST_NS < (2ull << HIST_UNIT_MAGNITUDE), "HIST_UNIT_MAGNITUDE");
/* Just enough buckets: the last one reaches above HIST_HIGHEST_NS... */
_Static_assert(((uint64_t)HIST_SUB_BUCKETS <<
    (HIST_BUCKETS - 1 + HIST_UNIT_MAGNITUDE)) > HIST_HIGHEST_NS,
    "HIST_BUCKETS too small for HIST_HIGHEST_NS");
/* ...and one fewer would not (HdrHistogram sizes its array the same way). */
_Static_assert(((uint64_t)HIST_SUB_BUCKETS <<
    (HIST_BUCKETS - 2 + HIST_UNIT_MAGNITUDE)) <= HIST_HIGHEST_NS,
    "HIST_BUCKETS larger than HdrHistogram's bucket count");
_Static_assert(HIST_COUNTS == (HIST_BUCKETS + 1) * HIST_HALF, "HIST_COUNTS");

/*
 * Within a histogram's range most counts are still 0 (a few hundred
 * slots used of thousands): the loops over a range test eight counts at
 * once and skip the block when all are 0.  A range is widened to whole
 * blocks, which only adds slots that are 0.
 */
#define HIST_BLOCK	8
_Static_assert(HIST_COUNTS % HIST_BLOCK == 0, "HIST_BLOCK");

/*
 * A block is 64 bytes: two AVX2 vectors where the machine has them, four
 * SSE2 ones where not (the loader picks, once).  GCC only: clang 14 names
 * the chooser apart, so callers in other files would have to see the
 * attribute too.  Not under ThreadSanitizer, whose instrumented chooser
 * runs before its runtime is up (at relocation) and crashes.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define HIST_VECTOR	__attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef HIST_VECTOR
#define HIST_VECTOR
#endif

static inline int
hist_block_first(int lo)
{
	return lo & ~(HIST_BLOCK - 1);
}

static inline int
hist_block_last(int hi)
{
	return hi | (HIST_BLOCK - 1);
}

static inline int
hist_block_zero(const uint64_t *p)
{
	return (p[0] | p[1] | p[2] | p[3] | p[4] | p[5] | p[6] | p[7]) == 0;
}

void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

/*
 * Empty a histogram that hist_reset() made: only the counts between its
 * least and greatest values can be other than 0, so a histogram of a few
 * microseconds clears a few hundred bytes, not all 200 KiB.  Once per
 * interval for each histogram of each load and worker.
 */
static void	hist_range(const struct hist *, int *, int *);

HIST_VECTOR void
hist_clear(struct hist *h)
{
	int	 lo, hi;

	if (h->total > 0) {
		hist_range(h, &lo, &hi);
		for (int i = hist_block_first(lo); i <= hist_block_last(hi);
		    i += HIST_BLOCK) {
			uint64_t *p = &h->counts[i];

			if (!hist_block_zero(p))
				memset(p, 0, HIST_BLOCK * sizeof(*p));
		}
	}
	h->total = h->clamped = 0;
	h->max_ns = 0;
	h->min_ns = UINT64_MAX;
	h->sum_ns = 0;
}

/*
 * The range of indexes that can be non-zero: every recorded value lies
 * between min_ns and max_ns, so nothing outside their slots was counted.
 * This saves scanning 25600 counters when the values sit in a few buckets.
 */
static void
hist_range(const struct hist *h, int *lo, int *hi)
{
	uint64_t	 max = h->max_ns;

	if (max > HIST_HIGHEST_NS)
		max = HIST_HIGHEST_NS;
	*lo = hist_index_of(h->min_ns > max ? max : h->min_ns);
	*hi = hist_index_of(max);
}

/*
 * The counts of src into each of dst[0..n-1], in one pass over src; with
 * empty (src's own counts), each block is emptied once read.  A block
 * with a count is added whole (its 0s add nothing), which the compiler
 * does a vector at a time.  Then the totals, extremes and sum, read
 * first: src may be dst[0] (added to itself, it doubles).
 */
static inline __attribute__((always_inline)) void
hist_merge(struct hist *const *dst, int n, const struct hist *src,
    uint64_t *empty)
{
	uint64_t	 total = src->total, clamped = src->clamped;
	uint64_t	 min_ns = src->min_ns, max_ns = src->max_ns;
	double		 sum_ns = src->sum_ns;
	int		 lo, hi;

	hist_range(src, &lo, &hi);
	for (int i = hist_block_first(lo); i <= hist_block_last(hi);
	    i += HIST_BLOCK) {
		uint64_t	 b[HIST_BLOCK];

		if (hist_block_zero(&src->counts[i]))
			continue;
		/* A copy: what the adds read cannot be what they write. */
		memcpy(b, &src->counts[i], sizeof(b));
		for (int d = 0; d < n; d++) {
			uint64_t *q = &dst[d]->counts[i];

			for (int k = 0; k < HIST_BLOCK; k++)
				q[k] += b[k];
		}
		if (empty != NULL)
			memset(&empty[i], 0, sizeof(b));
	}
	for (int d = 0; d < n; d++) {
		dst[d]->total += total;
		dst[d]->clamped += clamped;
		if (min_ns < dst[d]->min_ns)
			dst[d]->min_ns = min_ns;
		if (max_ns > dst[d]->max_ns)
			dst[d]->max_ns = max_ns;
		dst[d]->sum_ns += sum_ns;
	}
}

/*
 * src into each of dst[0..n-1], in one pass over src: the main thread adds
 * an interval into the epoch's, the load's and the run's histograms.  src
 * may be dst[0] only when n is 1.
 */
HIST_VECTOR void
hist_add_n(struct hist *const *dst, int n, const struct hist *src)
{
	if (src->total > 0)
		hist_merge(dst, n, src, NULL);
}

void
hist_add(struct hist *dst, const struct hist *src)
{
	hist_add_n(&dst, 1, src);
}

/*
 * hist_add_n(), then hist_clear() of src, in one pass over src's range: a
 * worker hands its interval's values on this way, once an interval for
 * each of its histograms, and the counts are touched once, not twice.
 * Only the blocks with a count in them are written, both sides.  src is
 * none of dst[0..n-1].
 */
HIST_VECTOR void
hist_move_n(struct hist *const *dst, int n, struct hist *src)
{
	if (src->total == 0)
		return;
	hist_merge(dst, n, src, src->counts);
	src->total = src->clamped = 0;
	src->max_ns = 0;
	src->min_ns = UINT64_MAX;
	src->sum_ns = 0;
}

void
hist_move(struct hist *dst, struct hist *src)
{
	if (src != dst)		/* itself: nothing moves (hist_add doubles) */
		hist_move_n(&dst, 1, src);
}

uint64_t
hist_percentile(const struct hist *h, double p)
{
	uint64_t	 want, seen = 0, v;
	double		 x;
	int		 lo, hi;

	if (h->total == 0)
		return 0;
	if (p >= 100.0)
		return h->max_ns;
	if (!(p > 0.0))		/* also NaN */
		return h->min_ns;

	/*
	 * The count the percentile must reach, rounded up.  As HdrHistogram
	 * does, step p down by one ulp first: 99.9 is not exact in binary, and
	 * 99.9% of 1000 must give 999, not 1000 through a rounding error.
	 */
	x = ceil(nextafter(p, 0.0) * (double)h->total / 100.0);
	want = x < 1.0 ? 1 : (uint64_t)x;
	if (want > h->total)
		want = h->total;

	hist_range(h, &lo, &hi);
	for (int i = lo; i <= hi; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			v = hist_highest_equiv(i);
			return v > h->max_ns ? h->max_ns : v;
		}
	}
	return h->max_ns;	/* not reached while total matches counts */
}

double
hist_mean(const struct hist *h)
{
	if (h->total == 0)
		return 0.0;
	return h->sum_ns / (double)h->total;
}

/* Values above HIST_HIGHEST_NS map to its index, as hist_record does. */
int
hist_index(uint64_t ns)
{
	return hist_index_of(ns > HIST_HIGHEST_NS ? HIST_HIGHEST_NS : ns);
}

/* The lowest value of slot index; 0 if index is out of range. */
uint64_t
hist_lowest_equiv(int index)
{
	int	 bucket, sub;

	if (index < 0 || index >= HIST_COUNTS)
		return 0;
	bucket = (index >> HIST_HALF_MAG) - 1;
	sub = (index & (HIST_HALF - 1)) + HIST_HALF;
	if (bucket < 0) {	/* the lower half of bucket 0 */
		sub -= HIST_HALF;
		bucket = 0;
	}
	return (uint64_t)sub << (bucket + HIST_UNIT_MAGNITUDE);
}

/* The highest value of slot index; 0 if index is out of range. */
uint64_t
hist_highest_equiv(int index)
{
	int	 bucket;

	if (index < 0 || index >= HIST_COUNTS)
		return 0;
	bucket = (index >> HIST_HALF_MAG) - 1;
	if (bucket < 0)
		bucket = 0;
	return hist_lowest_equiv(index) +
	    (1ull << (bucket + HIST_UNIT_MAGNITUDE)) - 1;
}
