/* SPDX-License-Identifier: ISC */
/*
 * engine/mem.h -- libevent's allocator: malloc with a per-thread cache of
 * freed 1-64 KiB blocks, so that a worker's reads reuse memory.  Each
 * thread has its own cache; no locks.
 */
#ifndef LOADD_ENGINE_MEM_H
#define LOADD_ENGINE_MEM_H

#include <stddef.h>

/* Freed 1-64 KiB blocks a thread keeps for libevent's next allocation. */
#define MEM_CACHE_BYTES	(256 * 1024)

void	 mem_init(void);		/* before any other libevent call */
void	*mem_alloc(size_t);
void	 mem_free(void *);
void	 mem_cache_flush(void);		/* this thread's cache */
size_t	 mem_cache_bytes(void);

#endif
