/* SPDX-License-Identifier: ISC */
/*
 * engine.c -- the engine's face to the main thread: starting, addressing
 * and draining the workers, and the memory a load shares with them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/engine.h"
#include "engine/worker.h"

struct load_shared *
load_shared_new(int nworkers, int ntargets, bool histograms)
{
	struct load_shared	*sh = xcalloc(1, sizeof(*sh));

	sh->nworkers = nworkers;
	sh->ntargets = ntargets;
	sh->tctr = xcalloc((size_t)nworkers * (size_t)ntargets,
	    sizeof(*sh->tctr));
	if (posix_memalign((void **)&sh->ctr, 64,
	    sizeof(*sh->ctr) * (size_t)nworkers) != 0)
		fatal("posix_memalign");
	memset(sh->ctr, 0, sizeof(*sh->ctr) * (size_t)nworkers);
	atomic_init(&sh->refs, 1);
	if (histograms) {
		/* Fixed memory for the whole run, however long it lasts. */
		pthread_mutex_init(&sh->hist_lock, NULL);
		sh->pend = xcalloc(LAT_MAX, sizeof(*sh->pend));
		for (int i = 0; i < LAT_MAX; i++)
			hist_reset(&sh->pend[i]);
	}
	return sh;
}

void
load_shared_ref(struct load_shared *sh)
{
	atomic_fetch_add(&sh->refs, 1);
}

/*
 * The last reference frees it: the main thread's (a load deleted after
 * every worker let go) or a worker's (a worker that let go last).
 */
void
load_shared_unref(struct load_shared *sh)
{
	if (atomic_fetch_sub(&sh->refs, 1) != 1)
		return;
	free(sh->ctr);
	free(sh->tctr);
	if (sh->pend != NULL) {
		pthread_mutex_destroy(&sh->hist_lock);
		free(sh->pend);
	}
	free(sh);
}

void
load_shared_snapshot(const struct load_shared *sh, struct stats_snap *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < sh->nworkers; i++)
		stats_snap_add_counters(s, &sh->ctr[i]);
}

void
load_shared_target(const struct load_shared *sh, int t, struct target_snap *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < sh->nworkers; i++) {
		const struct target_counters *tc =
		    &sh->tctr[i * sh->ntargets + t];

		s->active += CTR_GET(tc->active);
		s->connects_ok += CTR_GET(tc->connects_ok);
		s->connects_failed += CTR_GET(tc->connects_failed);
		s->disconnects += CTR_GET(tc->disconnects);
	}
}

void
load_shared_take(struct load_shared *sh, struct hist **into)
{
	struct hist	*tmp;

	pthread_mutex_lock(&sh->hist_lock);
	tmp = *into;
	*into = sh->pend;
	sh->pend = tmp;
	for (int i = 0; i < LAT_MAX; i++)
		hist_clear(&sh->pend[i]);
	pthread_mutex_unlock(&sh->hist_lock);
}

int
engine_start(struct engine *e, int nworkers, bool io_uring,
    engine_collected_cb collected, void *arg)
{
	memset(e, 0, sizeof(*e));
	atomic_init(&e->collect_pending, 0);
	e->collected = collected;
	e->collected_arg = arg;
	e->workers = xcalloc((size_t)nworkers, sizeof(*e->workers));
	for (int i = 0; i < nworkers; i++) {
		if (worker_start(&e->workers[i], e, i, io_uring) == -1)
			return -1;
		e->nworkers = i + 1;
	}
	return 0;
}

void
engine_post(struct engine *e, int worker, struct wcmd *cmd)
{
	worker_post(&e->workers[worker], cmd);
}

/*
 * Rounds may overlap (a command during a collection posts another): the
 * pending count adds up, and the round ends when every answer of every
 * round posted so far has come.
 */
void
engine_collect(struct engine *e)
{
	atomic_fetch_add(&e->collect_pending, e->nworkers);
	for (int i = 0; i < e->nworkers; i++) {
		struct wcmd *cmd = xcalloc(1, sizeof(*cmd));

		cmd->type = WCMD_COLLECT;
		cmd->load_id = -1;
		worker_post(&e->workers[i], cmd);
	}
}

int
engine_drain(struct engine *e, double timeout, int *stuck)
{
	struct timespec	 ts;
	double		 deadline;

	for (int i = 0; i < e->nworkers; i++) {
		struct wcmd *cmd = xcalloc(1, sizeof(*cmd));

		cmd->type = WCMD_EXIT;
		worker_post(&e->workers[i], cmd);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	deadline = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + timeout;
	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
	for (int i = 0; i < e->nworkers; i++) {
		if (pthread_timedjoin_np(e->workers[i].thread, NULL,
		    &ts) != 0) {
			*stuck = i;
			return -1;
		}
	}
	/* Every worker is gone: free what they held. */
	for (int i = 0; i < e->nworkers; i++)
		worker_free(&e->workers[i]);
	free(e->workers);
	e->workers = NULL;
	e->nworkers = 0;
	return 0;
}

void
engine_worker_info(const struct engine *e, int worker, struct worker_info *wi)
{
	struct worker	*w = &e->workers[worker];

	wi->ring = atomic_load_explicit(&w->ring_ready, memory_order_acquire);
	wi->batches = CTR_GET(w->batches);
	wi->batched = CTR_GET(w->batched);
}
