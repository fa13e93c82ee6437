/*
 * loadd.c -- main: options, signals, start-up, the loads as the main thread
 * sees them, reload, the stats tick and shutdown.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <systemd/sd-daemon.h>

#include "loadd.h"

struct daemon	*daemon_g;

static void	load_ramp_cancel(struct load *);

const char *const load_state_names[] = {
	[LOAD_STOPPED] = "stopped",
	[LOAD_RUNNING] = "running",
};

/*
 * Descriptors kept back from connections: the control socket and its
 * clients, each worker's epoll and wake-up descriptors, logs, and some
 * slack for libc and resolvers.
 */
#define FD_RESERVE(d)	(64 + (uint64_t)(d)->profile->daemon.max_clients + \
	4 * (uint64_t)(d)->nworkers)

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: loadd [-hnvV] [-f profile] [-s socket]\n"
	    "  -f FILE   profile (default " LOADD_PROFILE_DEFAULT ")\n"
	    "  -n        check the profile and exit (0 good, 1 errors)\n"
	    "  -s PATH   control socket (overrides the profile)\n"
	    "  -v        more logging (debug)\n"
	    "  -V        print the version and exit\n"
	    "  -h        this help\n");
}

static double
mono_s(void)
{
	return (double)now_ns() / 1e9;
}

static struct timeval
tv_from(double s)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* ------------------------------------------------------------ loads */

struct load *
load_find(const char *name)
{
	struct load	*l;

	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		if (strcmp(l->conf->name, name) == 0)
			return l;
	}
	return NULL;
}

/* The last reference frees the load; it may be a worker's. */
void
load_unref(struct load *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	load_conf_free(l->conf);
	free(l->ctr);
	if (l->pend != NULL) {
		pthread_mutex_destroy(&l->hist_lock);
		free(l->pend);
		free(l->ival);
		free(l->epoch_h);
		free(l->run);
	}
	free(l);
}

void
load_snapshot(const struct load *l, struct stats_snap *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < daemon_g->nworkers; i++)
		stats_snap_add_counters(s, &l->ctr[i]);
}

/* This worker's share of n, spread so that loads use workers evenly. */
static int
load_share(const struct load *l, int n, int worker)
{
	int	 w = daemon_g->nworkers;

	return n / w + ((worker + l->id) % w < n % w ? 1 : 0);
}

static void
load_post(struct load *l, enum wcmd_type type, int n, double rate)
{
	for (int i = 0; i < daemon_g->nworkers; i++) {
		struct wcmd *cmd = xcalloc(1, sizeof(*cmd));

		cmd->type = type;
		cmd->load_id = l->id;
		cmd->target = load_share(l, n, i);
		cmd->rate = rate;
		if (type == WCMD_ADD_LOAD) {
			cmd->load = l;
			cmd->conf = load_conf_dup(l->conf);
		}
		worker_post(&daemon_g->workers[i], cmd);
	}
}

static struct load *
load_create(const struct load_conf *lc)
{
	struct daemon	*d = daemon_g;
	struct load	*l = xcalloc(1, sizeof(*l));

	l->id = d->next_load_id++;
	l->conf = load_conf_dup(lc);
	l->target = lc->connections;
	l->rate = lc->rate;
	if (posix_memalign((void **)&l->ctr, 64,
	    sizeof(*l->ctr) * (size_t)d->nworkers) != 0)
		fatal("posix_memalign");
	memset(l->ctr, 0, sizeof(*l->ctr) * (size_t)d->nworkers);
	atomic_init(&l->refs, 1 + d->nworkers);
	if (lc->expect != EXPECT_NONE) {
		/* Fixed memory for the whole run, however long it lasts. */
		pthread_mutex_init(&l->hist_lock, NULL);
		l->pend = xcalloc(LAT_MAX, sizeof(*l->pend));
		l->ival = xcalloc(LAT_MAX, sizeof(*l->ival));
		l->epoch_h = xcalloc(LAT_MAX, sizeof(*l->epoch_h));
		l->run = xcalloc(LAT_MAX, sizeof(*l->run));
		for (int i = 0; i < LAT_MAX; i++) {
			hist_reset(&l->pend[i]);
			hist_reset(&l->ival[i]);
			hist_reset(&l->epoch_h[i]);
			hist_reset(&l->run[i]);
		}
	}
	snprintf(l->epoch_cause, sizeof(l->epoch_cause), "created");
	l->epoch_start = now_wall();
	TAILQ_INSERT_TAIL(&d->loads, l, entry);
	/* Every worker holds the load from now on, at 0 connections. */
	load_post(l, WCMD_ADD_LOAD, 0, l->rate);
	return l;
}

static void
load_delete(struct load *l)
{
	struct stats_snap	 s;

	load_stop(l);
	load_snapshot(l, &s);
	s.active = s.connecting = 0;
	stats_snap_add(&daemon_g->retired, &s);
	TAILQ_REMOVE(&daemon_g->loads, l, entry);
	load_post(l, WCMD_REMOVE_LOAD, 0, 0);
	load_unref(l);
}

static void
load_expirecb(evutil_socket_t fd, short what, void *arg)
{
	struct load	*l = arg;

	(void)fd;
	(void)what;
	log_info("load %s: duration of %gs reached, stopping", l->conf->name,
	    l->conf->duration);
	load_stop(l);
}

/* Connections of all running loads, and what a load would add. */
static uint64_t
daemon_planned(const struct load *except)
{
	struct load	*l;
	uint64_t	 n = 0;

	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		if (l != except && l->state == LOAD_RUNNING)
			n += (uint64_t)(l->ramp != NULL && l->ramp_to > l->target ?
			    l->ramp_to : l->target);
	}
	return n;
}

/*
 * Refuse a connection count the descriptor limit cannot honour, rather than
 * leave it half done with every connect failing on EMFILE.
 */
static int
load_check_fds(const struct load *l, uint64_t n, char *why, size_t len)
{
	uint64_t	 need = daemon_planned(l) + n + FD_RESERVE(daemon_g);

	if (need <= daemon_g->nofile_limit)
		return 0;
	snprintf(why, len, "%llu connections would need %llu descriptors "
	    "in all, but the open-file limit is %llu (raise LimitNOFILE)",
	    (unsigned long long)n, (unsigned long long)need,
	    (unsigned long long)daemon_g->nofile_limit);
	return -1;
}

int
load_start(struct load *l, char *why, size_t len)
{
	if (l->state == LOAD_RUNNING) {
		snprintf(why, len, "load %s is already running", l->conf->name);
		return -1;
	}
	if (load_check_fds(l, (uint64_t)l->target, why, len) == -1)
		return -1;
	load_new_epoch(l, "start");
	l->state = LOAD_RUNNING;
	load_post(l, WCMD_SET_TARGET, l->target, 0);
	if (l->conf->duration > 0) {
		struct timeval tv = tv_from(l->conf->duration);

		if (l->expire == NULL)
			l->expire = evtimer_new(daemon_g->base, load_expirecb,
			    l);
		evtimer_add(l->expire, &tv);
	}
	log_info("load %s: started, %d connections to %s", l->conf->name,
	    l->target, l->conf->target);
	return 0;
}

void
load_stop(struct load *l)
{
	load_ramp_cancel(l);
	if (l->expire != NULL) {
		event_free(l->expire);
		l->expire = NULL;
	}
	if (l->state == LOAD_STOPPED)
		return;
	load_new_epoch(l, "stop");
	l->state = LOAD_STOPPED;
	load_post(l, WCMD_SET_TARGET, 0, 0);
	log_info("load %s: stopped", l->conf->name);
}

static void
load_ramp_cancel(struct load *l)
{
	if (l->ramp != NULL) {
		event_free(l->ramp);
		l->ramp = NULL;
	}
}

static void
load_set_target(struct load *l, int n)
{
	if (n == l->target)
		return;
	l->target = n;
	if (l->state == LOAD_RUNNING)
		load_post(l, WCMD_SET_TARGET, l->target, 0);
}

/*
 * One step of a linear ramp.  The target moves in whole connections every
 * RAMP_STEP; the connect rate still bounds how fast new ones open.
 */
#define RAMP_STEP	0.1
static void
load_rampcb(evutil_socket_t fd, short what, void *arg)
{
	struct load	*l = arg;
	double		 f = (mono_s() - l->ramp_t0) / l->ramp_len;
	struct timeval	 tv = tv_from(RAMP_STEP);

	(void)fd;
	(void)what;
	if (f >= 1) {
		load_set_target(l, l->ramp_to);
		load_ramp_cancel(l);
		log_info("load %s: ramp to %d done", l->conf->name, l->target);
		return;
	}
	load_set_target(l, l->ramp_from +
	    (int)((double)(l->ramp_to - l->ramp_from) * f));
	evtimer_add(l->ramp, &tv);
}

int
load_scale(struct load *l, uint64_t n, double over, char *why, size_t len)
{
	char	 cause[64];

	if (n > (uint64_t)l->conf->max_connections) {
		snprintf(why, len, "%llu connections is above the ceiling of "
		    "load %s (max_connections = %d)", (unsigned long long)n,
		    l->conf->name, l->conf->max_connections);
		return -1;
	}
	if (l->state == LOAD_RUNNING &&
	    load_check_fds(l, n, why, len) == -1)
		return -1;
	if (over > 0 && l->state != LOAD_RUNNING) {
		snprintf(why, len, "load %s is stopped: a ramp needs a running "
		    "load (scale without --over sets the count for start)",
		    l->conf->name);
		return -1;
	}
	load_ramp_cancel(l);
	snprintf(cause, sizeof(cause), "scale %llu", (unsigned long long)n);
	if (over > 0)
		snprintf(cause + strlen(cause), sizeof(cause) - strlen(cause),
		    " --over %gs", over);
	load_new_epoch(l, cause);
	if (over > 0) {
		log_info("load %s: ramp %d -> %llu over %gs", l->conf->name,
		    l->target, (unsigned long long)n, over);
		l->ramp_from = l->target;
		l->ramp_to = (int)n;
		l->ramp_t0 = mono_s();
		l->ramp_len = over;
		l->ramp = evtimer_new(daemon_g->base, load_rampcb, l);
		load_rampcb(-1, 0, l);
		return 0;
	}
	log_info("load %s: scale %d -> %llu", l->conf->name, l->target,
	    (unsigned long long)n);
	load_set_target(l, (int)n);
	return 0;
}

int
load_set_rate(struct load *l, double rate, char *why, size_t len)
{
	char	 cause[64];

	if ((rate == 0 && l->conf->max_rate < RATE_LIMIT) ||
	    rate > l->conf->max_rate) {
		snprintf(why, len, "%s is above the ceiling of load %s "
		    "(max_rate = %g)", rate == 0 ? "flood" : "that rate",
		    l->conf->name, l->conf->max_rate);
		return -1;
	}
	log_info("load %s: rate %g -> %g%s", l->conf->name, l->rate, rate,
	    rate == 0 ? " (flood)" : "");
	if (rate == 0)
		snprintf(cause, sizeof(cause), "rate flood");
	else
		snprintf(cause, sizeof(cause), "rate %g", rate);
	load_new_epoch(l, cause);
	l->rate = rate;
	load_post(l, WCMD_SET_RATE, 0, rate);
	return 0;
}

int64_t
daemon_connections(void)
{
	struct load		*l;
	struct stats_snap	 s;
	int64_t			 n = 0;

	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		load_snapshot(l, &s);
		n += s.active;
	}
	return n;
}

/* ----------------------------------------------------------- reload */

static void
summary_add(char *buf, size_t len, const char *what, const char *name)
{
	size_t	 off = strlen(buf);

	snprintf(buf + off, len - off, "%s%s %s", off ? ", " : "", what, name);
}

/*
 * A reload that changes only a load's ceilings or autostart is applied in
 * place: its connections, live scale and rate stay, as long as they fit
 * under the new ceilings (else the load is restarted like any change).
 */
static bool
load_update_ceilings(struct load *l, const struct load_conf *lc)
{
	struct load_conf	 tmp = *lc;
	int			 want = l->ramp != NULL && l->ramp_to > l->target ?
				    l->ramp_to : l->target;

	tmp.max_connections = l->conf->max_connections;
	tmp.max_rate = l->conf->max_rate;
	tmp.autostart = l->conf->autostart;
	if (!load_conf_equal(l->conf, &tmp))
		return false;
	if (want > lc->max_connections || l->rate > lc->max_rate ||
	    (l->rate == 0 && lc->max_rate < RATE_LIMIT)) {
		log_info("reload: load %s runs above its new ceilings; "
		    "restarting it", lc->name);
		return false;
	}
	l->conf->max_connections = lc->max_connections;
	l->conf->max_rate = lc->max_rate;
	l->conf->autostart = lc->autostart;
	return true;
}

/*
 * Re-read the profile.  If it has any error nothing changes.  Otherwise
 * loads are matched by name: an unchanged load keeps its connections (and
 * any scale or rate set live), a changed one is replaced (and runs again
 * if it ran), new loads are added, missing ones removed.
 */
int
daemon_reload(struct errlist *errs, char *summary, size_t len)
{
	struct daemon	*d = daemon_g;
	struct profile	*p;
	struct load	*l, *tmp;
	char		 why[256];

	summary[0] = '\0';
	if ((p = profile_load(d->profile_path, errs)) == NULL)
		return -1;

	TAILQ_FOREACH_SAFE(l, &d->loads, entry, tmp) {
		if (profile_find_load(p, l->conf->name) == NULL) {
			summary_add(summary, len, "removed", l->conf->name);
			load_delete(l);
		}
	}
	for (int i = 0; i < p->nloads; i++) {
		const struct load_conf	*lc = &p->loads[i];
		bool			 run = lc->autostart;

		if ((l = load_find(lc->name)) != NULL) {
			if (load_conf_equal(l->conf, lc))
				continue;
			if (load_update_ceilings(l, lc)) {
				summary_add(summary, len, "updated", lc->name);
				continue;
			}
			run = l->state == LOAD_RUNNING;
			summary_add(summary, len, "changed", lc->name);
			load_delete(l);
		} else
			summary_add(summary, len, "added", lc->name);
		l = load_create(lc);
		if (run && load_start(l, why, sizeof(why)) == -1)
			log_warnx("reload: load %s not started: %s", lc->name,
			    why);
	}
	if (summary[0] == '\0')
		snprintf(summary, len, "no load changed");

	if (strcmp(p->daemon.socket, d->profile->daemon.socket) != 0 ||
	    p->daemon.socket_mode != d->profile->daemon.socket_mode ||
	    p->daemon.workers != d->profile->daemon.workers ||
	    p->daemon.io_uring != d->profile->daemon.io_uring)
		log_warnx("reload: socket, socket_mode, workers and io_uring "
		    "take effect at restart");
	if ((p->daemon.metrics_listen == NULL) !=
	    (d->profile->daemon.metrics_listen == NULL) ||
	    (p->daemon.metrics_listen != NULL &&
	    strcmp(p->daemon.metrics_listen,
	    d->profile->daemon.metrics_listen) != 0))
		log_warnx("reload: metrics_listen takes effect at restart");
	control_configure(p->daemon.max_clients, p->daemon.client_timeout);
	if (d->log_level_cli < 0 && p->daemon.log_level >= 0)
		log_setlevel(p->daemon.log_level);
	if (p->daemon.stats_interval != d->profile->daemon.stats_interval) {
		struct timeval tv = tv_from(p->daemon.stats_interval);

		evtimer_add(d->stats_tick, &tv);
	}
	results_open(p);
	profile_free(d->profile);
	d->profile = p;
	log_info("reload: %s", summary);
	return 0;
}

/* ------------------------------------------------------------ ticks */

/*
 * A command begins a new epoch.  The interval so far is collected first,
 * and the workers see the collection before the command itself (one
 * queue, in order), so what was measured before the command stays in the
 * epoch it belongs to.
 */
void
load_new_epoch(struct load *l, const char *cause)
{
	snprintf(l->epoch_next, sizeof(l->epoch_next), "%s", cause);
	load_snapshot(l, &l->epoch_next_base);
	daemon_collect();
}

/*
 * Ask every worker for its interval histograms.  Rounds may overlap (a
 * command during a collection posts another): the pending count adds up,
 * and the interval ends when every round posted so far has answered.
 */
void
daemon_collect(void)
{
	struct daemon	*d = daemon_g;

	atomic_fetch_add(&d->collect_pending, d->nworkers);
	for (int i = 0; i < d->nworkers; i++) {
		struct wcmd *cmd = xcalloc(1, sizeof(*cmd));

		cmd->type = WCMD_COLLECT;
		cmd->load_id = -1;
		worker_post(&d->workers[i], cmd);
	}
}

static uint64_t
per_s(uint64_t now, uint64_t prev, double dt)
{
	return (uint64_t)((double)(now - prev) / dt);
}

/* One load's interval ends: rates, histograms, epoch. */
static void
load_interval(struct load *l, double dt)
{
	struct stats_snap	 s;
	struct hist		*tmp;

	load_snapshot(l, &s);
	l->rates.bytes_sent = per_s(s.bytes_sent, l->prev.bytes_sent, dt);
	l->rates.bytes_received = per_s(s.bytes_received,
	    l->prev.bytes_received, dt);
	l->rates.messages_sent = per_s(s.messages_sent, l->prev.messages_sent,
	    dt);
	l->rates.replies = per_s(s.replies, l->prev.replies, dt);
	l->prev = s;

	if (l->pend != NULL) {
		/* Swap the workers' accumulation for a clean one. */
		pthread_mutex_lock(&l->hist_lock);
		tmp = l->ival;
		l->ival = l->pend;
		l->pend = tmp;
		for (int i = 0; i < LAT_MAX; i++)
			hist_reset(&l->pend[i]);
		pthread_mutex_unlock(&l->hist_lock);
		for (int i = 0; i < LAT_MAX; i++) {
			hist_add(&l->epoch_h[i], &l->ival[i]);
			hist_add(&l->run[i], &l->ival[i]);
		}
	}
	if (l->epoch_next[0] != '\0') {
		l->epoch++;
		snprintf(l->epoch_cause, sizeof(l->epoch_cause), "%s",
		    l->epoch_next);
		l->epoch_next[0] = '\0';
		l->epoch_start = now_wall();
		l->epoch_base = l->epoch_next_base;
		if (l->epoch_h != NULL) {
			for (int i = 0; i < LAT_MAX; i++)
				hist_reset(&l->epoch_h[i]);
		}
	}
}

/*
 * Every worker has handed its histograms over: the interval is complete.
 * Write it out (results log, HdrHistogram log, watch subscribers).
 */
static void
daemon_collectedcb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = daemon_g;
	struct load	*l;
	double		 now = mono_s(), dt = now - d->interval_start;
	int64_t		 conns = 0;

	(void)fd;
	(void)what;
	(void)arg;
	/*
	 * Another round was posted after this activation: wait for it, so
	 * that an epoch never takes samples from before its command.
	 */
	if (atomic_load(&d->collect_pending) != 0)
		return;
	if (dt <= 0)
		dt = 1e-9;
	TAILQ_FOREACH(l, &d->loads, entry)
		load_interval(l, dt);
	d->interval_len = dt;
	results_interval(d->interval_start, dt);
	d->interval_start = now;
	conns = daemon_connections();
	sd_notifyf(0, "STATUS=%lld connections up", (long long)conns);
	control_tick();
}

static void
daemon_statscb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = daemon_g;
	struct timeval	 tv = tv_from(d->profile->daemon.stats_interval);

	(void)fd;
	(void)what;
	(void)arg;
	daemon_collect();
	evtimer_add(d->stats_tick, &tv);
}

static void
daemon_signalcb(evutil_socket_t sig, short what, void *arg)
{
	struct errlist	 errs = { 0 };
	char		 summary[1024];

	(void)what;
	(void)arg;
	if (sig == SIGUSR2) {
		char	 why[512];

		if (results_reopen(why, sizeof(why)) == -1)
			log_warnx("SIGUSR2: %s", why);
		return;
	}
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s", daemon_g->profile_path);
		if (daemon_reload(&errs, summary, sizeof(summary)) == -1) {
			for (size_t i = 0; i < errs.n; i++)
				log_warnx("reload: %s", errs.msgs[i]);
			log_warnx("reload: profile invalid, nothing changed");
		}
		errlist_free(&errs);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	daemon_shutdown();
}

void
daemon_shutdown(void)
{
	struct daemon	*d = daemon_g;

	if (d->shutting_down)
		return;
	d->shutting_down = true;
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(d->base);
}

static void
daemon_raise_nofile(struct daemon *d)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE %llu",
			    (unsigned long long)rl.rlim_max);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	d->nofile_limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
	    (uint64_t)rl.rlim_cur;
	log_debug("open-file limit %llu", (unsigned long long)d->nofile_limit);
}

/*
 * Stop every load, let workers close their connections, and wait for them
 * at most drain_timeout: a stuck worker must not keep systemd waiting.
 */
static void
daemon_drain(struct daemon *d)
{
	struct load	*l;
	struct timespec	 ts;
	double		 deadline;

	TAILQ_FOREACH(l, &d->loads, entry)
		load_stop(l);
	for (int i = 0; i < d->nworkers; i++) {
		struct wcmd *cmd = xcalloc(1, sizeof(*cmd));

		cmd->type = WCMD_EXIT;
		worker_post(&d->workers[i], cmd);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	deadline = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 +
	    d->profile->daemon.drain_timeout;
	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
	for (int i = 0; i < d->nworkers; i++) {
		if (pthread_timedjoin_np(d->workers[i].thread, NULL,
		    &ts) != 0) {
			log_warnx("worker %d did not finish within %gs", i,
			    d->profile->daemon.drain_timeout);
			return;
		}
	}
	/* Every worker is gone: free what they held. */
	for (int i = 0; i < d->nworkers; i++) {
		d->workers[i].thread = pthread_self(); /* already joined */
		event_free(d->workers[i].wakeup);
		close(d->workers[i].wake_fd);
		event_free(d->workers[i].pace);
		event_free(d->workers[i].trim);
		event_base_free(d->workers[i].base);
	}
	while ((l = TAILQ_FIRST(&d->loads)) != NULL) {
		TAILQ_REMOVE(&d->loads, l, entry);
		load_unref(l);
	}
}

int
main(int argc, char *argv[])
{
	struct daemon	 d;
	struct errlist	 errs = { 0 };
	const char	*path = LOADD_PROFILE_DEFAULT;
	struct event	*sigs[4];
	const int	 signos[4] = { SIGTERM, SIGINT, SIGHUP, SIGUSR2 };
	struct load	*l;
	struct timeval	 tv;
	char		 why[256] = "";
	int		 ch, check = 0, verbose = 0;
	long		 ncpu;

	memset(&d, 0, sizeof(d));
	d.log_level_cli = -1;
	TAILQ_INIT(&d.loads);
	daemon_g = &d;
	log_init(LOG_LEVEL_INFO, "loadd");

	while ((ch = getopt(argc, argv, "f:hns:vV")) != -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 's':
			d.socket_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("loadd %s (control protocol %d)\n",
			    LOADD_VERSION, LOADD_PROTOCOL);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	d.profile_path = realpath(path, NULL);
	if (d.profile_path == NULL)
		d.profile_path = xstrdup(path);
	if ((d.profile = profile_load(d.profile_path, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "loadd: %zu error%s in %s\n", errs.n,
		    errs.n == 1 ? "" : "s", path);
		errlist_free(&errs);
		free(d.profile_path);
		return 1;
	}
	if (check) {
		printf("%s: profile OK (%d load%s)\n", path,
		    d.profile->nloads, d.profile->nloads == 1 ? "" : "s");
		profile_free(d.profile);
		free(d.profile_path);
		return 0;
	}
	if (verbose > 0) {
		d.log_level_cli = LOG_LEVEL_DEBUG;
		log_setlevel(LOG_LEVEL_DEBUG);
	} else if (d.profile->daemon.log_level >= 0)
		log_setlevel(d.profile->daemon.log_level);
	if (d.socket_path == NULL)
		d.socket_path = d.profile->daemon.socket;
	d.socket_path = xstrdup(d.socket_path);

	signal(SIGPIPE, SIG_IGN);
	daemon_raise_nofile(&d);
	mem_init();
	if (evthread_use_pthreads() == -1)
		fatalx("libevent has no pthreads support");
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (int i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(d.base, signos[i], daemon_signalcb,
		    NULL);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot catch signal %d", signos[i]);
	}

	if (control_init(d.socket_path, d.profile->daemon.socket_mode,
	    d.profile->daemon.max_clients,
	    d.profile->daemon.client_timeout) == -1 ||
	    metrics_init(d.profile->daemon.metrics_listen, why,
	    sizeof(why)) == -1) {
		if (why[0] != '\0') {
			log_warnx("%s", why);
			control_cleanup();
		}
		for (int i = 0; i < 4; i++)
			event_free(sigs[i]);
		event_base_free(d.base);
		profile_free(d.profile);
		free(d.socket_path);
		free(d.profile_path);
		return 1;
	}

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	d.nworkers = d.profile->daemon.workers > 0 ?
	    d.profile->daemon.workers : (ncpu > 0 ? (int)ncpu : 1);
	d.workers = xcalloc((size_t)d.nworkers, sizeof(*d.workers));
	for (int i = 0; i < d.nworkers; i++) {
		if (worker_start(&d.workers[i], i,
		    d.profile->daemon.io_uring) == -1)
			fatal("cannot start worker %d", i);
	}

	/* Starting a load begins an epoch, which collects: be ready. */
	d.interval_start = mono_s();
	if ((d.collected = event_new(d.base, -1, 0, daemon_collectedcb,
	    NULL)) == NULL)
		fatalx("event_new");
	results_open(d.profile);

	for (int i = 0; i < d.profile->nloads; i++) {
		l = load_create(&d.profile->loads[i]);
		if (l->conf->autostart && load_start(l, why, sizeof(why)) == -1)
			log_warnx("load %s not started: %s", l->conf->name, why);
	}

	d.started_at = now_wall();
	d.stats_tick = evtimer_new(d.base, daemon_statscb, NULL);
	tv = tv_from(d.profile->daemon.stats_interval);
	evtimer_add(d.stats_tick, &tv);

	log_info("loadd %s ready: %d worker%s, %d load%s, control socket %s",
	    LOADD_VERSION, d.nworkers, d.nworkers == 1 ? "" : "s",
	    d.profile->nloads, d.profile->nloads == 1 ? "" : "s",
	    d.socket_path);
	sd_notify(0, "READY=1\nSTATUS=running");

	event_base_dispatch(d.base);

	control_cleanup();
	metrics_close();
	daemon_drain(&d);
	event_free(d.stats_tick);
	event_free(d.collected);
	results_close();
	for (int i = 0; i < 4; i++)
		event_free(sigs[i]);
	event_base_free(d.base);
	mem_cache_flush();
	profile_free(d.profile);
	free(d.workers);
	free(d.socket_path);
	free(d.profile_path);
	log_info("exited cleanly");
	return 0;
}
