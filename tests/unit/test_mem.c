/* SPDX-License-Identifier: ISC */
/*
 * test_mem.c -- the per-thread block cache behind libevent's allocations.
 */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mem.h"

/* A freed block comes back for the next request of its class. */
static void
test_reuse(void **state)
{
	void	*a, *b;

	(void)state;
	mem_cache_flush();
	a = mem_alloc(1024);
	memset(a, 1, 1024);
	mem_free(a);
	assert_int_equal(mem_cache_bytes(), 1024);
	b = mem_alloc(1024);		/* same class */
	assert_ptr_equal(a, b);
	assert_int_equal(mem_cache_bytes(), 0);
	mem_free(b);
	mem_cache_flush();
	assert_int_equal(mem_cache_bytes(), 0);
}

/* Requests in a class get a block that holds the whole class. */
static void
test_rounding(void **state)
{
	size_t	 sizes[] = { 1025, 2048, 3000, 40000, 65536 };
	size_t	 want[] = { 2048, 2048, 4096, 65536, 65536 };

	(void)state;
	mem_cache_flush();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void	*p = mem_alloc(sizes[i]);

		assert_non_null(p);
		assert_true(malloc_usable_size(p) >= want[i]);
		memset(p, 0xa5, want[i]);
		mem_free(p);
	}
	mem_cache_flush();
}

/*
 * Small requests keep their size and small blocks are not cached; a huge
 * block serves at most the largest class.
 */
static void
test_outside(void **state)
{
	void	*s, *h, *k;

	(void)state;
	mem_cache_flush();
	s = mem_alloc(100);
	h = mem_alloc(200000);
	mem_free(s);
	assert_int_equal(mem_cache_bytes(), 0);
	/* 200000 usable serves the 64 KiB class at most. */
	mem_free(h);
	assert_int_equal(mem_cache_bytes(), 65536);
	k = mem_alloc(65536);
	assert_ptr_equal(k, h);
	mem_free(k);
	k = mem_alloc(1024);
	assert_true(malloc_usable_size(k) >= 1024);
	mem_free(k);
	/* libevent reallocs with plain realloc: a cached block allows it. */
	k = realloc(mem_alloc(3000), 9000);
	assert_non_null(k);
	assert_true(malloc_usable_size(k) >= 9000);
	mem_free(k);
	mem_cache_flush();
}

/* The cache never holds more than MEM_CACHE_BYTES. */
static void
test_bound(void **state)
{
	void	*p[64];

	(void)state;
	mem_cache_flush();
	for (int i = 0; i < 64; i++)
		p[i] = mem_alloc(16384);
	for (int i = 0; i < 64; i++)
		mem_free(p[i]);
	assert_int_equal(mem_cache_bytes(), MEM_CACHE_BYTES);
	mem_cache_flush();
	assert_int_equal(mem_cache_bytes(), 0);
}

static void *
other_thread(void *arg)
{
	uintptr_t	 held;

	/* A block freed here goes to this thread's cache, not the caller's. */
	mem_free(arg);
	held = mem_cache_bytes();
	mem_cache_flush();	/* as a worker does before it ends */
	return (void *)held;
}

static void
test_threads(void **state)
{
	pthread_t	 t;
	void		*p = mem_alloc(4096), *held;

	(void)state;
	mem_cache_flush();
	assert_int_equal(pthread_create(&t, NULL, other_thread, p), 0);
	assert_int_equal(pthread_join(t, &held), 0);
	assert_int_equal((uintptr_t)held, 4096);
	assert_int_equal(mem_cache_bytes(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_outside),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
