/* SPDX-License-Identifier: ISC */
/*
 * mem.c -- the allocator libevent uses (event_set_mem_functions): malloc,
 * plus a small per-thread cache of freed blocks of 1 KiB to 64 KiB.
 *
 * libevent allocates an evbuffer chain for every read into an empty
 * input buffer and for every reference added to an empty output buffer,
 * sized in powers of two from 1 KiB, and frees it when the buffer is
 * drained: on a request/response load that is one malloc and one free
 * per reply.  A worker's cache hands the same blocks back, so the reads
 * go into reused memory.  The cache is bounded (MEM_CACHE_BYTES per
 * thread) and emptied when a worker gives memory back and when a thread
 * ends.  Sanitizer builds leave it out, so that ASan sees every free.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>

#include "engine/mem.h"

#define CLASS_MIN_SHIFT	10			/* 1 KiB */
#define CLASS_MAX_SHIFT	16			/* 64 KiB */
#define NCLASS		(CLASS_MAX_SHIFT - CLASS_MIN_SHIFT + 1)

struct mem_cache {
	void	*head[NCLASS];		/* free blocks, linked through word 0 */
	size_t	 bytes;			/* held in all classes */
};

static _Thread_local struct mem_cache	 cache;

/* The class whose blocks hold n bytes, or -1. */
static int
class_for_request(size_t n)
{
	int	 k = 0;

	/* Smaller blocks (a bufferevent, an event) keep their exact size. */
	if (n < ((size_t)1 << CLASS_MIN_SHIFT) ||
	    n > ((size_t)1 << CLASS_MAX_SHIFT))
		return -1;
	while (((size_t)1 << (CLASS_MIN_SHIFT + k)) < n)
		k++;
	return k;
}

/* The largest class a block of usable size u can serve, or -1. */
static int
class_for_block(size_t u)
{
	int	 k;

	if (u < ((size_t)1 << CLASS_MIN_SHIFT))
		return -1;
	for (k = NCLASS - 1; ((size_t)1 << (CLASS_MIN_SHIFT + k)) > u; k--)
		;
	return k;
}

void *
mem_alloc(size_t n)
{
	int	 k = class_for_request(n);
	void	*p;

	if (k >= 0 && (p = cache.head[k]) != NULL) {
		cache.head[k] = *(void **)p;
		cache.bytes -= (size_t)1 << (CLASS_MIN_SHIFT + k);
		return p;
	}
	/* A cached block must be able to serve its whole class. */
	if (k >= 0)
		n = (size_t)1 << (CLASS_MIN_SHIFT + k);
	return malloc(n);
}

void
mem_free(void *p)
{
	size_t	 sz;
	int	 k;

	if (p == NULL)
		return;
	k = class_for_block(malloc_usable_size(p));
	if (k >= 0) {
		sz = (size_t)1 << (CLASS_MIN_SHIFT + k);
		if (cache.bytes + sz <= MEM_CACHE_BYTES) {
			*(void **)p = cache.head[k];
			cache.head[k] = p;
			cache.bytes += sz;
			return;
		}
	}
	free(p);
}

/* Give this thread's cached blocks back to malloc. */
void
mem_cache_flush(void)
{
	for (int k = 0; k < NCLASS; k++) {
		void	*p;

		while ((p = cache.head[k]) != NULL) {
			cache.head[k] = *(void **)p;
			free(p);
		}
	}
	cache.bytes = 0;
}

size_t
mem_cache_bytes(void)
{
	return cache.bytes;
}

/* Before libevent allocates anything. */
void
mem_init(void)
{
#ifndef LOADD_SANITIZE
	event_set_mem_functions(mem_alloc, realloc, mem_free);
#endif
}
