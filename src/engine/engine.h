/* SPDX-License-Identifier: ISC */
/*
 * engine/engine.h -- the worker threads as the main thread sees them.
 *
 * The engine knows no daemon.  The main thread starts it with a worker
 * count and a callback, then speaks to each worker only through its
 * command queue (engine_post).  A load reaches the workers as a copy of
 * its load_conf and a reference to a struct load_shared: the only memory
 * the main thread and the workers share, made of single-writer atomic
 * counters and a histogram hand-over under a lock taken once per stats
 * interval.  Everything else a worker holds (its event_base, its loads'
 * shares, its connections) is its own; see engine/worker.h.
 *
 * Threads: engine_* and load_shared_new are called by the main thread;
 * load_shared_unref by whoever drops the last reference.
 */
#ifndef LOADD_ENGINE_ENGINE_H
#define LOADD_ENGINE_ENGINE_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "measure/counters.h"
#include "measure/hist.h"
#include "model/profile.h"

/*
 * A load's connections to one of its targets, on one worker (single
 * writer, as struct load_counters).
 */
struct target_counters {
	_Atomic int64_t		 active;
	_Atomic uint64_t	 connects_ok;
	_Atomic uint64_t	 connects_failed;
	_Atomic uint64_t	 disconnects;
};

/* Their sums over the workers, for one target. */
struct target_snap {
	int64_t			 active;
	uint64_t		 connects_ok;
	uint64_t		 connects_failed;
	uint64_t		 disconnects;
};

/* What a load's owner and its workers share; refcounted. */
struct load_shared {
	_Atomic int		 refs;
	int			 nworkers;
	int			 ntargets;
	struct load_counters	*ctr;		/* [nworkers]; ctr[i] is
						   written by worker i only */
	struct target_counters	*tctr;		/* [nworkers * ntargets] */
	/*
	 * Latency, for loads that expect replies (else NULL).  Each worker
	 * adds its interval histograms into pend under hist_lock once per
	 * interval; the main thread takes them (load_shared_take).
	 */
	pthread_mutex_t		 hist_lock;
	struct hist		*pend;		/* [LAT_MAX] */
};

/* One reference for the caller; nworkers counter blocks. */
struct load_shared *load_shared_new(int nworkers, int ntargets,
	    bool histograms);
/* One target's counters summed over the workers. */
void	 load_shared_target(const struct load_shared *, int target,
	    struct target_snap *);
void	 load_shared_ref(struct load_shared *);
void	 load_shared_unref(struct load_shared *);
/* The counters summed over the workers. */
void	 load_shared_snapshot(const struct load_shared *, struct stats_snap *);
/* Swap what the workers handed over for into's (reset) histograms. */
void	 load_shared_take(struct load_shared *, struct hist **into);

enum wcmd_type {
	WCMD_ADD_LOAD,		/* take conf and a reference to shared */
	WCMD_SET_TARGET,	/* this worker's share of connections */
	WCMD_SET_RATE,		/* per-connection rate; 0 = flood */
	WCMD_REMOVE_LOAD,	/* close every connection, drop the load */
	WCMD_COLLECT,		/* hand this interval's histograms over */
	WCMD_EXIT,		/* close everything and leave the loop */
};

/* A command; the worker frees it. */
struct wcmd {
	enum wcmd_type		 type;
	int			 load_id;
	struct load_shared	*shared;	/* ADD_LOAD: a reference, the
						   worker's to drop */
	struct load_conf	*conf;		/* ADD_LOAD: owned by worker */
	int			 tgt[TARGETS_MAX]; /* SET_TARGET, ADD_LOAD: this
						   worker's share by target */
	double			 rate;
	TAILQ_ENTRY(wcmd)	 entry;
};

struct worker;

typedef void (*engine_collected_cb)(void *arg);

struct engine {
	int			 nworkers;
	struct worker		*workers;	/* [nworkers], opaque here */
	/*
	 * Collection rounds: the count of answers still to come; the
	 * worker that brings it to 0 calls collected(arg), on its own
	 * thread (so it must only wake the main thread).
	 */
	_Atomic int		 collect_pending;
	engine_collected_cb	 collected;
	void			*collected_arg;
};

/* Start nworkers threads.  0, or -1 with errno set. */
int	 engine_start(struct engine *, int nworkers, bool io_uring,
	    engine_collected_cb, void *arg);
void	 engine_post(struct engine *, int worker, struct wcmd *);
/* Ask every worker for its interval histograms (rounds may overlap). */
void	 engine_collect(struct engine *);
/*
 * Tell the workers to close everything and wait at most timeout seconds.
 * 0: every worker is gone and freed.  -1: one is stuck (its id in
 * *stuck); nothing was freed, since it may still use it all.
 */
int	 engine_drain(struct engine *, double timeout, int *stuck);

/* What status shows of one worker's batching. */
struct worker_info {
	bool		 ring;		/* io_uring in use */
	uint64_t	 batches;	/* submissions made */
	uint64_t	 batched;	/* sends in them */
};
void	 engine_worker_info(const struct engine *, int worker,
	    struct worker_info *);

#endif
