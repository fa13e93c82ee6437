/* SPDX-License-Identifier: ISC */
/*
 * test_hist.c -- the latency histogram: bucket mapping against a slow
 * reference, percentiles against the exact ones computed from the raw data,
 * merging, resets, clamping and the memory the header promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/hist.h"

#define US	1000ull
#define MS	1000000ull
#define SEC	1000000000ull

/* A percentile as num/den percent, so the exact rank is integer math. */
struct pct {
	uint64_t	 num, den;
};

static const struct pct pcts[] = {
	{ 1, 1000 }, { 1, 1 }, { 25, 1 }, { 50, 1 }, { 75, 1 }, { 90, 1 },
	{ 99, 1 }, { 999, 10 }, { 9999, 100 }, { 99999, 1000 },
	{ 999999, 10000 }, { 9999999, 100000 }, { 100, 1 },
};

/* xorshift64*: reproducible values without libc's rand(). */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t
rnd_between(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rnd(s) % (hi - lo + 1);
}

static struct hist *
hist_new(void)
{
	struct hist	*h = malloc(sizeof(*h));

	assert_non_null(h);
	hist_reset(h);
	return h;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The slot of v computed the slow way, from the definition rather than
 * from leading zeros: bucket k is the first whose 2048 slots of 2^(9+k)
 * reach above v; buckets above 0 use only their upper 1024 slots.
 */
static int
ref_index(uint64_t v)
{
	int		 k = 0;
	uint64_t	 sub;

	while (v >= (2048ull << (9 + k)))
		k++;
	sub = v >> (9 + k);
	if (k == 0)
		return (int)sub;
	return (k + 1) * 1024 + (int)sub - 1024;
}

static void
test_size(void **state)
{
	(void)state;
	print_message("sizeof(struct hist) = %zu bytes (%d counters)\n",
	    sizeof(struct hist), HIST_COUNTS);
	/* 2 h at 3 digits: 24 buckets, (24 + 1) * 1024 counters. */
	assert_int_equal(HIST_BUCKETS, 24);
	assert_int_equal(HIST_COUNTS, 25600);
	assert_int_equal(sizeof(struct hist),
	    5 * sizeof(uint64_t) + HIST_COUNTS * sizeof(uint64_t));
	assert_int_equal(sizeof(struct hist), 204840);
	/* The last slot holds HIST_HIGHEST_NS; the one before does not. */
	assert_true(hist_highest_equiv(HIST_COUNTS - 1) >= HIST_HIGHEST_NS);
	assert_true(hist_highest_equiv(HIST_COUNTS - 1025) < HIST_HIGHEST_NS);
}

static void
test_boundaries(void **state)
{
	static const struct {
		uint64_t	 v;
		int		 index;
		uint64_t	 lo, hi;
	} cases[] = {
		/* The unit is 2^9 = 512 ns: 1 us is in slot 1. */
		{ 0, 0, 0, 511 },
		{ 511, 0, 0, 511 },
		{ 512, 1, 512, 1023 },
		{ 1000, 1, 512, 1023 },
		{ 1023, 1, 512, 1023 },
		{ 1024, 2, 1024, 1535 },
		/* The top of bucket 0 and the start of bucket 1. */
		{ 2047 << 9, 2047, 2047 << 9, (2048 << 9) - 1 },
		{ (2048 << 9) - 1, 2047, 2047 << 9, (2048 << 9) - 1 },
		{ 2048 << 9, 2048, 2048 << 9, (2048 << 9) + 1023 },
		/* The top of bucket 1 and the start of bucket 2. */
		{ (4096 << 9) - 1, 3071, (4096 << 9) - 1024, (4096 << 9) - 1 },
		{ 4096 << 9, 3072, 4096 << 9, (4096 << 9) + 2047 },
		/* The same numbers of us, in ns. */
		{ 2047 * US, 3023, 2046976, 2047999 },
		{ 2048 * US, 3024, 2048000, 2049023 },
		{ 4095 * US, 4047, 4093952, 4095999 },
		{ 4096 * US, 4048, 4096000, 4098047 },
	};
	uint64_t	 seed = 42, v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = cases[i].v;
		assert_int_equal(hist_index(v), cases[i].index);
		assert_int_equal(ref_index(v), cases[i].index);
		assert_int_equal(hist_lowest_equiv(cases[i].index),
		    cases[i].lo);
		assert_int_equal(hist_highest_equiv(cases[i].index),
		    cases[i].hi);
	}

	/* The slots tile the range: each starts where the last ended. */
	assert_int_equal(hist_lowest_equiv(0), 0);
	for (int i = 0; i + 1 < HIST_COUNTS; i++) {
		assert_int_equal(hist_highest_equiv(i) + 1,
		    hist_lowest_equiv(i + 1));
		assert_int_equal(ref_index(hist_lowest_equiv(i)), i);
		assert_int_equal(ref_index(hist_highest_equiv(i)), i);
		/* hist_index() clamps at HIST_HIGHEST_NS, as recording does. */
		if (hist_lowest_equiv(i) <= HIST_HIGHEST_NS)
			assert_int_equal(hist_index(hist_lowest_equiv(i)), i);
		else
			assert_int_equal(hist_index(hist_lowest_equiv(i)),
			    hist_index(HIST_HIGHEST_NS));
	}
	assert_int_equal(hist_lowest_equiv(-1), 0);
	assert_int_equal(hist_lowest_equiv(HIST_COUNTS), 0);
	assert_int_equal(hist_highest_equiv(HIST_COUNTS), 0);

	/* Powers of two and their neighbours, and random values. */
	for (int b = 0; b < 43; b++) {
		for (int d = -1; d <= 1; d++) {
			v = (1ull << b) + (uint64_t)d;
			if (v <= HIST_HIGHEST_NS)
				assert_int_equal(hist_index(v), ref_index(v));
		}
	}
	for (int i = 0; i < 200000; i++) {
		v = rnd(&seed) % (HIST_HIGHEST_NS + 1) >> (rnd(&seed) % 40);
		assert_int_equal(hist_index(v), ref_index(v));
		/* 3 significant digits: a slot is at most 1/1024 of v wide. */
		if (v >= (1ull << 19))
			assert_true((hist_highest_equiv(hist_index(v)) -
			    hist_lowest_equiv(hist_index(v)) + 1) * 1024 <= v);
	}
}

static void
test_highest(void **state)
{
	struct hist	*h = hist_new();
	int		 top = hist_index(HIST_HIGHEST_NS);

	(void)state;
	assert_int_equal(top, ref_index(HIST_HIGHEST_NS));
	assert_int_equal(top, 25228);
	assert_true(top < HIST_COUNTS);

	hist_record(h, HIST_HIGHEST_NS);
	assert_int_equal(h->clamped, 0);
	assert_int_equal(h->counts[top], 1);

	hist_record(h, HIST_HIGHEST_NS + 1);
	hist_record(h, 3 * 3600 * SEC);
	hist_record(h, UINT64_MAX);
	assert_int_equal(h->clamped, 3);
	assert_int_equal(h->counts[top], 4);
	assert_int_equal(h->total, 4);
	assert_int_equal(hist_index(UINT64_MAX), top);
	/* min and max stay exact; percentiles stay in the histogram. */
	assert_int_equal(h->min_ns, HIST_HIGHEST_NS);
	assert_int_equal(h->max_ns, UINT64_MAX);
	assert_int_equal(hist_percentile(h, 50), hist_highest_equiv(top));
	assert_int_equal(hist_percentile(h, 100), UINT64_MAX);
	free(h);
}

/*
 * Check every percentile of pcts against the exact one of the sorted raw
 * data: the histogram must report the highest value of the slot holding
 * the exact percentile (never above the max), which is within 3 digits.
 */
static void
check_percentiles(const struct hist *h, const uint64_t *sorted, uint64_t n)
{
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double		 p = (double)pcts[i].num / (double)pcts[i].den;
		uint64_t	 rank, exact, want, got;

		/* The smallest rank covering p% of n, rounded up. */
		rank = (pcts[i].num * n + 100 * pcts[i].den - 1) /
		    (100 * pcts[i].den);
		if (rank == 0)
			rank = 1;
		exact = sorted[rank - 1];
		want = hist_highest_equiv(hist_index(exact));
		if (want > h->max_ns || rank == n)
			want = h->max_ns;
		got = hist_percentile(h, p);
		if (got != want)
			fail_msg("p%g: got %llu, want %llu (exact %llu)", p,
			    (unsigned long long)got, (unsigned long long)want,
			    (unsigned long long)exact);
		assert_true(got >= exact);
		if (exact >= 512 * US)
			assert_true((got - exact) * 1000 <= exact);
		else
			assert_true(got - exact < 512);
	}
	assert_int_equal(h->min_ns, sorted[0]);
	assert_int_equal(h->max_ns, sorted[n - 1]);
}

static double
exact_mean(const uint64_t *v, uint64_t n)
{
	double	 s = 0;

	for (uint64_t i = 0; i < n; i++)
		s += (double)v[i];
	return s / (double)n;
}

static void
test_uniform(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 n = 1000000, *v = malloc(n * sizeof(*v));

	(void)state;
	assert_non_null(v);
	for (uint64_t i = 0; i < n; i++) {
		v[i] = (i + 1) * US;		/* 1 us .. 1 s */
		hist_record(h, v[i]);
	}
	assert_int_equal(h->total, n);
	check_percentiles(h, v, n);
	assert_true(hist_mean(h) == exact_mean(v, n));
	/* The median of 1..1e6 us is 500 ms, reported within 1/1000. */
	assert_int_equal(hist_percentile(h, 50), 500170751);
	free(v);
	free(h);
}

static void
test_bimodal(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 n = 1000000, seed = 7, *v = malloc(n * sizeof(*v));

	(void)state;
	assert_non_null(v);
	for (uint64_t i = 0; i < n; i++) {
		if (rnd(&seed) % 100 == 0)
			v[i] = rnd_between(&seed, 40 * MS, 60 * MS);
		else
			v[i] = rnd_between(&seed, 80 * US, 120 * US);
		hist_record(h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	check_percentiles(h, v, n);
	/* p50 near 100 us, p99.9 near 50 ms. */
	assert_true(hist_percentile(h, 50) > 90 * US &&
	    hist_percentile(h, 50) < 110 * US);
	assert_true(hist_percentile(h, 99.9) > 40 * MS);
	free(v);
	free(h);
}

static void
test_outlier(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 n = 1000001, *v = malloc(n * sizeof(*v));
	uint64_t	 outlier = 30 * 60 * SEC;

	(void)state;
	assert_non_null(v);
	for (uint64_t i = 0; i + 1 < n; i++)
		v[i] = 50 * US;
	v[n - 1] = outlier;
	hist_record_n(h, 50 * US, n - 1);
	hist_record(h, outlier);
	check_percentiles(h, v, n);
	assert_int_equal(h->max_ns, outlier);
	assert_int_equal(hist_percentile(h, 100), outlier);
	/* 99.9999% of 1000001 is 1000000 values: still 50 us. */
	assert_int_equal(hist_percentile(h, 99.9999),
	    hist_highest_equiv(hist_index(50 * US)));
	/* One more nine reaches the outlier, capped at the exact max. */
	assert_int_equal(hist_percentile(h, 99.99999), outlier);
	free(v);
	free(h);
}

static void
test_constant(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 n = 100000, *v = malloc(n * sizeof(*v));

	(void)state;
	assert_non_null(v);
	for (uint64_t i = 0; i < n; i++) {
		v[i] = 12345678;
		hist_record(h, v[i]);
	}
	check_percentiles(h, v, n);
	/* Every percentile is the value itself: the cap at max_ns. */
	assert_int_equal(hist_percentile(h, 0.001), 12345678);
	assert_int_equal(hist_percentile(h, 50), 12345678);
	assert_int_equal(hist_percentile(h, 0), 12345678);
	assert_true(hist_mean(h) == 12345678.0);
	free(v);
	free(h);
}

static void
test_rounding(void **state)
{
	struct hist	*h = hist_new();

	(void)state;
	/* 1000 values 1..1000 ms: p99.9 is the 999th, not the 1000th. */
	for (uint64_t i = 1; i <= 1000; i++)
		hist_record(h, i * MS);
	assert_int_equal(hist_percentile(h, 99.9),
	    hist_highest_equiv(hist_index(999 * MS)));
	assert_int_equal(hist_percentile(h, 0.1),
	    hist_highest_equiv(hist_index(1 * MS)));
	assert_int_equal(hist_percentile(h, 0.0001),
	    hist_highest_equiv(hist_index(1 * MS)));
	assert_int_equal(hist_percentile(h, 150), 1000 * MS);
	assert_int_equal(hist_percentile(h, -1), 1 * MS);
	free(h);
}

static void
test_empty_and_reset(void **state)
{
	struct hist	*h = hist_new(), *fresh = hist_new();

	(void)state;
	assert_int_equal(h->total, 0);
	assert_int_equal(h->min_ns, UINT64_MAX);
	assert_int_equal(h->max_ns, 0);
	assert_int_equal(hist_percentile(h, 50), 0);
	assert_int_equal(hist_percentile(h, 100), 0);
	assert_true(hist_mean(h) == 0.0);

	for (uint64_t i = 0; i < 1000; i++)
		hist_record(h, i * 12345);
	hist_record(h, UINT64_MAX);
	assert_int_not_equal(memcmp(h, fresh, sizeof(*h)), 0);
	hist_reset(h);
	assert_memory_equal(h, fresh, sizeof(*h));
	assert_int_equal(hist_percentile(h, 99), 0);

	/*
	 * hist_clear, the per-interval reset, clears only the counts between
	 * min and max, and must leave what hist_reset leaves: values at both
	 * ends of the range, clamped ones, and a histogram cleared twice.
	 */
	for (int round = 0; round < 3; round++) {
		hist_record(h, HIST_LOWEST_NS - 1);
		hist_record(h, 7777777);
		hist_record_n(h, HIST_HIGHEST_NS + 5, 3);
		hist_record(h, 1000 + (uint64_t)round);
		hist_clear(h);
		assert_memory_equal(h, fresh, sizeof(*h));
	}
	hist_clear(h);
	assert_memory_equal(h, fresh, sizeof(*h));
	free(fresh);
	free(h);
}

static void
test_record_n(void **state)
{
	struct hist	*a = hist_new(), *b = hist_new();
	uint64_t	 seed = 99;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		uint64_t	 v = rnd(&seed) % (10 * SEC);
		uint64_t	 n = rnd(&seed) % 50;

		hist_record_n(a, v, n);
		for (uint64_t k = 0; k < n; k++)
			hist_record(b, v);
	}
	hist_record_n(a, HIST_HIGHEST_NS * 2, 3);
	for (int k = 0; k < 3; k++)
		hist_record(b, HIST_HIGHEST_NS * 2);
	hist_record_n(a, 5, 0);		/* nothing */
	assert_memory_equal(a, b, sizeof(*a));
	free(a);
	free(b);
}

static void
fill_random(struct hist *h, uint64_t *seed, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t	 r = rnd(seed);

		if (r % 1000 == 0)
			hist_record(h, HIST_HIGHEST_NS + r % SEC);
		else
			hist_record(h, (r >> 8) % (2 * SEC) >> (r % 30));
	}
}

static void
test_merge(void **state)
{
	struct hist	*a = hist_new(), *b = hist_new(), *all = hist_new();
	struct hist	*m = hist_new();
	uint64_t	 s1 = 1, s2 = 2;

	(void)state;
	fill_random(a, &s1, 100000);
	fill_random(b, &s2, 50000);
	s1 = 1;
	s2 = 2;
	fill_random(all, &s1, 100000);
	fill_random(all, &s2, 50000);

	/* Into an empty one, then the other: the same as one histogram. */
	hist_add(m, a);
	assert_memory_equal(m, a, sizeof(*m));
	hist_add(m, b);
	assert_memory_equal(m->counts, all->counts, sizeof(m->counts));
	assert_int_equal(m->total, all->total);
	assert_int_equal(m->clamped, all->clamped);
	assert_int_equal(m->min_ns, all->min_ns);
	assert_int_equal(m->max_ns, all->max_ns);
	/* Integer sums below 2^53: exact whatever the order. */
	assert_true(m->sum_ns == all->sum_ns);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double	 p = (double)pcts[i].num / (double)pcts[i].den;

		assert_int_equal(hist_percentile(m, p),
		    hist_percentile(all, p));
	}

	/* An empty one adds nothing; a histogram added to itself doubles. */
	hist_reset(b);
	memcpy(all, m, sizeof(*m));
	hist_add(m, b);
	assert_memory_equal(m, all, sizeof(*m));
	hist_add(m, m);
	assert_int_equal(m->total, 2 * all->total);
	assert_int_equal(m->counts[hist_index(all->max_ns)],
	    2 * all->counts[hist_index(all->max_ns)]);
	free(a);
	free(b);
	free(all);
	free(m);
}

/*
 * The loops over a range go by blocks of 8 slots: values in the first and
 * last slot of a block, alone in their block or not, at both ends of
 * what can be recorded, are all added, moved and cleared.
 */
#define TOP		-2	/* the slot of HIST_HIGHEST_NS */
#define TOP_BLOCK	-3	/* the first slot of its block */
static void
test_blocks(void **state)
{
	static const int idx[][3] = {
		{ 0, -1, -1 }, { 7, -1, -1 }, { 8, -1, -1 }, { 9, 15, -1 },
		{ 7, 8, TOP }, { 15, 16, 23 }, { TOP_BLOCK, TOP, -1 },
		{ 1000, 1007, 1009 },
	};
	struct hist	*a = hist_new(), *b = hist_new(), *fresh = hist_new();

	int		 top = hist_index(HIST_HIGHEST_NS), at[3];

	(void)state;
	for (size_t t = 0; t < sizeof(idx) / sizeof(idx[0]); t++) {
		for (int k = 0; k < 3; k++) {
			at[k] = idx[t][k] == TOP ? top : idx[t][k] ==
			    TOP_BLOCK ? top & ~7 : idx[t][k];
			if (at[k] < 0)
				continue;
			hist_record_n(a, hist_lowest_equiv(at[k]),
			    (uint64_t)k + 1);
		}
		for (int k = 0; k < 3; k++)
			if (at[k] >= 0)
				assert_int_equal(a->counts[at[k]], k + 1);
		hist_add(b, a);
		assert_memory_equal(b, a, sizeof(*a));
		hist_clear(b);
		assert_memory_equal(b, fresh, sizeof(*b));
		hist_move(b, a);
		assert_memory_equal(a, fresh, sizeof(*a));
		for (int k = 0; k < 3; k++)
			if (at[k] >= 0)
				assert_int_equal(b->counts[at[k]], k + 1);
		hist_clear(b);
		assert_memory_equal(b, fresh, sizeof(*b));
	}
	free(a);
	free(b);
	free(fresh);
}

/* hist_add_n: what hist_add() into each leaves, each holding its own. */
static void
test_add_n(void **state)
{
	struct hist	*src = hist_new(), *d[3], *want[3];
	uint64_t	 s0 = 5, s[3] = { 6, 7, 8 };

	(void)state;
	fill_random(src, &s0, 40000);
	for (int i = 0; i < 3; i++) {
		d[i] = hist_new();
		want[i] = hist_new();
		if (i > 0)	/* d[0] starts empty */
			fill_random(d[i], &s[i], 10000 * i);
		memcpy(want[i], d[i], sizeof(*d[i]));
		hist_add(want[i], src);
	}
	hist_add_n(d, 3, src);
	for (int i = 0; i < 3; i++) {
		assert_memory_equal(d[i], want[i], sizeof(*d[i]));
		free(d[i]);
		free(want[i]);
	}
	free(src);
}

/* hist_move: what hist_add() then hist_clear() leave, both sides. */
static void
test_move(void **state)
{
	struct hist	*a = hist_new(), *b = hist_new();
	struct hist	*want_dst = hist_new(), *fresh = hist_new();
	uint64_t	 s1 = 3, s2 = 4;

	(void)state;
	for (int round = 0; round < 3; round++) {
		fill_random(a, &s1, 20000);
		hist_record_n(a, HIST_HIGHEST_NS * 2, 2);	/* clamped */
		hist_record(a, 1);				/* lowest */
		fill_random(b, &s2, 30000);
		memcpy(want_dst, b, sizeof(*b));
		hist_add(want_dst, a);
		hist_move(b, a);
		assert_memory_equal(b, want_dst, sizeof(*b));
		assert_memory_equal(a, fresh, sizeof(*a));
	}
	/* From an empty one, and into itself: nothing changes. */
	hist_move(b, a);
	assert_memory_equal(b, want_dst, sizeof(*b));
	hist_move(b, b);
	assert_memory_equal(b, want_dst, sizeof(*b));
	free(a);
	free(b);
	free(want_dst);
	free(fresh);
}

/* hist_move_n: each destination as after hist_add(), src as new. */
static void
test_move_n(void **state)
{
	struct hist	*a = hist_new(), *d[2] = { hist_new(), hist_new() };
	struct hist	*want[2] = { hist_new(), hist_new() }, *fresh = hist_new();
	uint64_t	 s1 = 5, s2 = 6;

	(void)state;
	for (int round = 0; round < 3; round++) {
		fill_random(a, &s1, 20000);
		hist_record_n(a, HIST_HIGHEST_NS * 2, 2);	/* clamped */
		fill_random(d[round % 2], &s2, 10000);
		for (int k = 0; k < 2; k++) {
			memcpy(want[k], d[k], sizeof(*d[k]));
			hist_add(want[k], a);
		}
		hist_move_n(d, 2, a);
		for (int k = 0; k < 2; k++)
			assert_memory_equal(d[k], want[k], sizeof(*d[k]));
		assert_memory_equal(a, fresh, sizeof(*a));
	}
	/* From an empty one: nothing changes. */
	hist_move_n(d, 2, a);
	assert_memory_equal(d[0], want[0], sizeof(*d[0]));
	assert_memory_equal(d[1], want[1], sizeof(*d[1]));
	for (int k = 0; k < 2; k++) {
		free(d[k]);
		free(want[k]);
	}
	free(a);
	free(fresh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_highest),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_outlier),
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_empty_and_reset),
		cmocka_unit_test(test_record_n),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_move_n),
		cmocka_unit_test(test_add_n),
		cmocka_unit_test(test_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
