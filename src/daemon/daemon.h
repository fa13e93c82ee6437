/* SPDX-License-Identifier: ISC */
/*
 * daemon/daemon.h -- the main thread: the daemon's state and the loads as
 * the main thread sees them.  Everything declared here is touched by the
 * main thread only; a load's workers see its struct load_shared (through
 * the engine), never its struct load.
 *
 * loadd.c is the composition root (options, signals, the stats tick,
 * reload, drain); load.c keeps the loads; control.c, results.c, metrics.c
 * and views.c read them.
 */
#ifndef LOADD_DAEMON_DAEMON_H
#define LOADD_DAEMON_DAEMON_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"
#include "engine/engine.h"
#include "measure/counters.h"
#include "measure/hist.h"
#include "model/profile.h"

/*
 * The histograms a load keeps that mean something for it: request
 * latency, service time and time to first byte with replies to wait for,
 * the handshake with TLS, the connect time for both.
 */
static inline bool
load_lat_kept(const struct load_conf *lc, int kind)
{
	switch (kind) {
	case LAT_HANDSHAKE:
		return lc->protocol == PROTO_TLS;
	case LAT_CONNECT:
		return true;
	default:
		return lc->expect != EXPECT_NONE;
	}
}

struct event_base;
struct event;
struct json_t;

enum load_state {
	LOAD_STOPPED = 0,
	LOAD_RUNNING,
	LOAD_FINISHED,		/* stopped by its duration */
};

extern const char *const load_state_names[];

/* The main thread's view of a load. */
struct load {
	int			 id;		/* unique for the daemon's life */
	struct load_conf	*conf;		/* main's copy */
	struct load_shared	*sh;		/* with the workers */
	enum load_state		 state;
	int			 target;	/* connections wanted */
	double			 rate;		/* current; 0 = flood */
	struct event		*expire;	/* duration timer */
	struct event		*ramp;		/* scale --over: step timer */
	/* --lease: back to the profile's values unless renewed */
	struct event		*lease;
	double			 lease_len;	/* seconds */
	double			 lease_end;	/* monotonic s */
	bool			 lease_started;	/* taken by start */
	/* start --at: armed (not running) until the wall clock says arm_at */
	struct event		*arm;
	double			 arm_at;	/* wall clock s */
	double			 started_at;	/* wall clock s of the last
						   start; 0: never */
	double			 started_for;	/* the --at TIME of that start;
						   0: it was not armed */
	int			 ramp_from, ramp_to;
	double			 ramp_t0, ramp_len; /* monotonic s, seconds */
	struct stats_snap	 prev;		/* at the previous tick */
	struct stats_snap	 rates;		/* per second, last interval */
	/* Latency ([LAT_MAX] each; NULL without expect). */
	struct hist		*ival;		/* last interval */
	struct hist		*epoch_h;	/* current epoch */
	struct hist		*run;		/* whole run */
	/* epochs: a new one at every start, stop, scale and rate */
	unsigned		 epoch;
	char			 epoch_cause[96];
	double			 epoch_start;	/* wall clock */
	struct stats_snap	 epoch_base;	/* counters when it began */
	char			 epoch_next[96]; /* cause of the one to come */
	struct stats_snap	 epoch_next_base;
	/* this run (since its start), for its summary (summary.c) */
	double			 run_start;	/* wall clock; 0: never ran */
	struct stats_snap	 run_base;	/* counters at its start */
	int64_t			 run_peak;	/* most connections up */
	struct hist		*run_lat;	/* [2]: latency, service */
	struct json_t		*run_epochs;	/* the run's ended epochs */
	unsigned		 run_epochs_dropped;
	struct json_t		*last_summary;	/* of the last run, or NULL */
	/* objectives (objective.c): a state and last verdict each */
	struct obj_state	*obj_st;	/* [conf->nobjectives] */
	enum obj_verdict	*obj_last;	/* the last interval's */
	double			*obj_val;	/* its figure, base units */
	/* failures logged: a few lines a minute at most (load_warn) */
	struct stats_snap	 warn_base;	/* counters when last logged */
	double			 warn_since;	/* monotonic s of warn_base */
	double			 warn_at;	/* of the last warning, or 0 */
	TAILQ_ENTRY(load)	 entry;
};
TAILQ_HEAD(load_list, load);

/* `loadd run`: one test in the foreground (run.c). */
struct run_opts {
	bool		 on;
	bool		 profile;	/* -f, else --target */
	char		*tmp;		/* the --target profile, to remove */
	const char	*socket;	/* -s, or NULL: no control socket */
	bool		 json;		/* -j */
	int		 verbose;	/* -v count */
	int		 status;	/* exit: 0, or RUN_EXIT_MISSED */
};

struct daemon {
	struct profile		*profile;
	char			*profile_path;
	char			*socket_path;	/* -s overrides the profile */
	int			 log_level_cli;	/* from -v, or -1 */
	struct event_base	*base;
	struct engine		 engine;	/* the workers */
	struct load_list	 loads;
	int			 next_load_id;
	struct stats_snap	 retired;	/* counters of removed loads */
	struct event		*stats_tick;
	double			 started_at;
	uint64_t		 nofile_limit;	/* soft RLIMIT_NOFILE */
	bool			 shutting_down;
	struct event		*collected;	/* a collection round is in */
	double			 interval_start; /* monotonic s */
	double			 interval_len;	/* of the last finished one */
	struct run_opts		 run;		/* loadd run */
	/* systemd's watchdog (WatchdogSec=): kept alive while all answer */
	double			 collected_at;	/* monotonic s: all workers
						   answered a collection */
	double			 watchdog_s;	/* WatchdogSec; 0: none */
	struct event		*watchdog;
	bool			 watchdog_warned;
};

/*
 * Descriptors kept back from connections: the control socket and its
 * clients, each worker's epoll and wake-up descriptors, logs, and some
 * slack for libc and resolvers.
 */
#define FD_RESERVE(d)	(64 + (uint64_t)(d)->profile->daemon.max_clients + \
	4 * (uint64_t)(d)->engine.nworkers)

/* The one daemon of the process; main thread only. */
extern struct daemon *daemon_g;

/* load.c */
struct load	*load_find(const char *name);
struct load	*load_create(const struct load_conf *);
void		 load_delete(struct load *);
void		 load_free(struct load *);
int		 load_start(struct load *, char *why, size_t whylen);
int		 load_arm(struct load *, double at, char *why, size_t whylen);
/* "armed" while a start --at waits, else load_state_names[state]. */
const char	*load_state_name(const struct load *);
void		 load_stop(struct load *);
void		 load_end(struct load *, enum load_state how);
void		 load_lease(struct load *, double seconds, bool started);
int		 load_renew(struct load *, char *why, size_t whylen);
int		 load_scale(struct load *, uint64_t n, double over, char *why,
		    size_t whylen);
int		 load_set_rate(struct load *, double rate, char *why, size_t whylen);
void		 load_new_epoch(struct load *, const char *cause);
void		 load_interval(struct load *, double dt);
void		 load_snapshot(const struct load *, struct stats_snap *);
/* Apply a new profile's loads; a summary of what changed. */
void		 loads_apply(const struct profile *, char *summary, size_t);
int64_t		 loads_connections(void);

/* objective.c (daemon side) */
void		 objectives_reset(struct load *);
void		 objectives_interval(struct load *, const struct stats_snap *s,
		    const struct stats_snap *prev, double t0, double t1);
struct json_t	*objectives_view(const struct load *);
struct json_t	*objectives_run(struct load *, const struct stats_snap *s);
void		 objectives_free(struct load *);

/* summary.c */
void		 summary_run_start(struct load *);
void		 summary_epoch_end(struct load *, const struct stats_snap *);
void		 summary_run_end(struct load *, const struct stats_snap *,
		    const char *how);
void		 summary_free(struct load *);

/* run.c */
int		 run_parse(int argc, char *argv[], struct run_opts *,
		    const char **path);
void		 run_check_end(void);
int		 run_report(void);
/* loadd run's and loadctl wait's status when an objective was missed. */
#define RUN_EXIT_MISSED	4

/* loadd.c */
int		 daemon_reload(struct errlist *errs, char *summary, size_t);
void		 daemon_collect(void);
void		 daemon_shutdown(void);

#endif
