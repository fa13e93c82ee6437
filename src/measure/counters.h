/* SPDX-License-Identifier: ISC */
/*
 * measure/counters.h -- what a load counts: error kinds, the per-worker
 * counters a worker writes and the main thread reads, their plain sums,
 * and the kinds of latency histogram.  The fields come from the one list
 * in common/keys.h.  No libevent, no logging.
 */
#ifndef LOADD_MEASURE_COUNTERS_H
#define LOADD_MEASURE_COUNTERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/keys.h"

/* The kinds of error: common/keys.h lists them, with their names. */
enum err_kind {
#define X(e, name)	ERR_##e,
	LOADD_ERR_KINDS(X)
#undef X
	ERR_MAX
};

/* Names used in the stats JSON: scripts and dashboards rely on them. */
extern const char *const err_kind_names[ERR_MAX];
/* The kind of an errno from socket(), connect() or an established socket. */
enum err_kind	 err_kind_from_errno(int);
/* The kind of an errno from bind() to a load's source address. */
enum err_kind	 err_kind_from_bind_errno(int);

/*
 * Counters of one load on one worker.  Exactly one thread writes them (the
 * worker); the main thread reads them.  Single writer, so the worker uses a
 * relaxed load and store (a plain add on x86), never a locked RMW.
 */
struct load_counters {
#define X(f, key, prom, rate, help)	_Atomic uint64_t f;
	LOADD_COUNTERS(X)
#undef X
	_Atomic uint64_t errors[ERR_MAX];
#define X(f, key, prom, help)		_Atomic int64_t f;
	LOADD_GAUGES(X)
#undef X
} __attribute__((aligned(64)));

#define CTR_ADD(c, v) atomic_store_explicit(&(c), \
	atomic_load_explicit(&(c), memory_order_relaxed) + (v), \
	memory_order_relaxed)
#define CTR_GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

/* A plain copy of the counters summed over workers. */
struct stats_snap {
#define X(f, key, prom, rate, help)	uint64_t f;
	LOADD_COUNTERS(X)
#undef X
	uint64_t errors[ERR_MAX];
#define X(f, key, prom, help)		int64_t f;
	LOADD_GAUGES(X)
#undef X
};

/*
 * Where each counter and gauge of common/keys.h lives in struct
 * stats_snap, by id: code that walks key_counters[] or key_gauges[] reads
 * the values through these.
 */
extern const size_t counter_off[KC_MAX];	/* of a uint64_t */
extern const size_t gauge_off[KG_MAX];		/* of an int64_t */

static inline uint64_t *
stats_snap_counter(struct stats_snap *s, size_t kc)
{
	return (uint64_t *)(void *)((char *)s + counter_off[kc]);
}

static inline uint64_t
stats_snap_get(const struct stats_snap *s, size_t kc)
{
	return *(const uint64_t *)(const void *)((const char *)s +
	    counter_off[kc]);
}

static inline int64_t
stats_snap_gauge(const struct stats_snap *s, size_t kg)
{
	return *(const int64_t *)(const void *)((const char *)s +
	    gauge_off[kg]);
}

void	 stats_snap_add_counters(struct stats_snap *,
	    const struct load_counters *);
void	 stats_snap_add(struct stats_snap *, const struct stats_snap *);

/* The histograms each load keeps (only loads that expect replies). */
enum lat_kind {
	LAT_LATENCY = 0,	/* from the intended send time */
	LAT_SERVICE,		/* from the actual write */
	LAT_TTFB,		/* first request to first reply byte */
	LAT_CONNECT,		/* connect() to established */
	LAT_HANDSHAKE,		/* established to TLS handshake done */
	LAT_MAX
};
/* Their JSON keys ("latency_us", ...). */
extern const char *const lat_kind_names[LAT_MAX];

#endif
