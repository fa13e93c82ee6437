/* SPDX-License-Identifier: ISC */
/*
 * load.c -- the loads as the main thread sees them: create and delete,
 * start, stop, scale (at once or as a ramp), rate, the descriptor budget,
 * epochs and the end of an interval, and a new profile's loads applied.
 * The workers get commands (engine_post), never this struct.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"

const char *const load_state_names[] = {
	[LOAD_STOPPED] = "stopped",
	[LOAD_RUNNING] = "running",
	[LOAD_FINISHED] = "finished",
};

static void	load_ramp_cancel(struct load *);
static void	load_disarm(struct load *);

/*
 * The arm timer, seconds from now.  libevent counts a timeout from the
 * time it cached when its loop woke up, which is behind by what ran since:
 * the cache is brought up to date first, or the timer would fire early
 * by that much.
 */
static void
load_arm_timer(struct load *l, double seconds)
{
	struct timeval	 tv = tv_from_s(seconds);

	event_base_update_cache_time(daemon_g->base);
	evtimer_add(l->arm, &tv);
}

const char *
load_state_name(const struct load *l)
{
	return l->arm != NULL ? "armed" : load_state_names[l->state];
}

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

/*
 * The main thread's part of a load.  The workers hold their own
 * references to what they share with it, and drop them when they have
 * closed its connections.
 */
void
load_free(struct load *l)
{
	if (l->expire != NULL)
		event_free(l->expire);
	if (l->ramp != NULL)
		event_free(l->ramp);
	if (l->lease != NULL)
		event_free(l->lease);
	if (l->arm != NULL)
		event_free(l->arm);
	load_shared_unref(l->sh);
	load_conf_free(l->conf);
	free(l->ival);
	free(l->epoch_h);
	free(l->run);
	summary_free(l);
	objectives_free(l);
	free(l);
}

void
load_snapshot(const struct load *l, struct stats_snap *s)
{
	load_shared_snapshot(l->sh, s);
}

/* This worker's share of n, spread so that loads use workers evenly. */
static int
load_share(const struct load *l, int n, int worker)
{
	int	 w = daemon_g->engine.nworkers;

	return n / w + ((worker + l->id) % w < n % w ? 1 : 0);
}

static int
gcd(int a, int b)
{
	while (b != 0) {
		int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * A worker's share split by target.  Number the load's n connections
 * 0..n-1: connection g goes to worker (g - id) mod W (which is what
 * load_share counts) and to target g mod K.  Over all workers each target
 * then has n/K or n/K + 1, at every n, so a scale keeps them even.  The
 * worker's numbers are r, r + W, r + 2W, ...; their targets repeat with a
 * period of K / gcd(W, K), so this costs O(K), not O(n).
 */
static void
load_split(const struct load *l, int n, int worker, int *tgt)
{
	int	 w = daemon_g->engine.nworkers, k = l->conf->ntargets;
	int	 r = (worker + l->id) % w, m = load_share(l, n, worker);
	int	 period = k / gcd(w, k), full = m / period, rem = m % period;

	memset(tgt, 0, sizeof(int) * TARGETS_MAX);
	for (int j = 0; j < period; j++)
		tgt[(int)(((int64_t)r + (int64_t)w * j) % k)] += full +
		    (j < rem ? 1 : 0);
}

static void
load_post(struct load *l, enum wcmd_type type, int n, double rate)
{
	struct engine	*e = &daemon_g->engine;

	for (int i = 0; i < e->nworkers; i++) {
		struct wcmd *cmd = xcalloc(1, sizeof(*cmd));

		cmd->type = type;
		cmd->load_id = l->id;
		load_split(l, n, i, cmd->tgt);
		cmd->rate = rate;
		if (type == WCMD_ADD_LOAD) {
			load_shared_ref(l->sh);
			cmd->shared = l->sh;
			cmd->conf = load_conf_dup(l->conf);
		}
		engine_post(e, i, cmd);
	}
}

struct load *
load_create(const struct load_conf *lc)
{
	struct daemon	*d = daemon_g;
	struct load	*l = xcalloc(1, sizeof(*l));

	l->id = d->next_load_id++;
	l->conf = load_conf_dup(lc);
	l->target = lc->connections;
	l->rate = lc->rate;
	l->sh = load_shared_new(d->engine.nworkers, lc->ntargets,
	    load_conf_timed(lc));
	if (load_conf_timed(lc)) {
		/* Fixed memory for the whole run, however long it lasts. */
		l->ival = xcalloc(LAT_MAX, sizeof(*l->ival));
		l->epoch_h = xcalloc(LAT_MAX, sizeof(*l->epoch_h));
		l->run = xcalloc(LAT_MAX, sizeof(*l->run));
		for (int i = 0; i < LAT_MAX; i++) {
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

void
load_delete(struct load *l)
{
	struct stats_snap	 s;

	load_stop(l);
	load_snapshot(l, &s);
	/* Gone before the next collection: its run is summed up now. */
	summary_epoch_end(l, &s);
	summary_run_end(l, &s, "stopped");
	s.active = s.connecting = 0;
	stats_snap_add(&daemon_g->retired, &s);
	TAILQ_REMOVE(&daemon_g->loads, l, entry);
	load_post(l, WCMD_REMOVE_LOAD, 0, 0);
	load_free(l);
}

static void
load_expirecb(evutil_socket_t fd, short what, void *arg)
{
	struct load	*l = arg;

	log_info("load %s: duration of %gs reached, stopping", l->conf->name,
	    l->conf->duration);
	load_end(l, LOAD_FINISHED);
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
load_check_fds(const struct load *l, uint64_t n, char *why, size_t whylen)
{
	uint64_t	 need = daemon_planned(l) + n + FD_RESERVE(daemon_g);

	if (need <= daemon_g->nofile_limit)
		return 0;
	snprintf(why, whylen, "%llu connections would need %llu descriptors "
	    "in all, but the open-file limit is %llu (raise LimitNOFILE)",
	    (unsigned long long)n, (unsigned long long)need,
	    (unsigned long long)daemon_g->nofile_limit);
	return -1;
}

/* Why a load cannot be started or armed now; 0 if it can. */
static int
load_startable(struct load *l, char *why, size_t whylen)
{
	if (l->state == LOAD_RUNNING) {
		snprintf(why, whylen, "load %s is already running", l->conf->name);
		return -1;
	}
	if (l->arm != NULL) {
		snprintf(why, whylen, "load %s is armed to start at %.3f (in "
		    "%.1fs); stop disarms it", l->conf->name, l->arm_at,
		    l->arm_at - now_wall());
		return -1;
	}
	return load_check_fds(l, (uint64_t)l->target, why, whylen);
}

int
load_start(struct load *l, char *why, size_t whylen)
{
	if (load_startable(l, why, whylen) == -1)
		return -1;
	load_new_epoch(l, "start");
	summary_run_start(l);
	objectives_reset(l);
	l->state = LOAD_RUNNING;
	load_post(l, WCMD_SET_TARGET, l->target, 0);
	/* The moment the workers were told, which is what --at promises. */
	l->started_at = now_wall();
	l->started_for = 0;
	if (l->conf->duration > 0) {
		struct timeval tv = tv_from_s(l->conf->duration);

		if (l->expire == NULL)
			l->expire = evtimer_new(daemon_g->base, load_expirecb,
			    l);
		evtimer_add(l->expire, &tv);
	}
	log_info("load %s: started, %d connections to %s", l->conf->name,
	    l->target, l->conf->target);
	return 0;
}

/*
 * The armed time has come.  The timer runs on the monotonic clock, set
 * from the wall clock at arm time; if it fires before the wall clock says
 * so (the wall clock was stepped back, or slewed), it waits the rest: a
 * load never starts before its time.  (A step forward is not seen: the
 * load then starts late by the step, and start_skew_s says so.)
 */
static void
load_armcb(evutil_socket_t fd, short what, void *arg)
{
	struct load	*l = arg;
	double		 at = l->arm_at, left = at - now_wall();
	char		 why[256];

	if (left > 0) {
		load_arm_timer(l, left);
		return;
	}
	load_disarm(l);
	if (load_start(l, why, sizeof(why)) == -1) {
		log_warnx("load %s: the start armed for %.3f did not happen: %s",
		    l->conf->name, at, why);
		return;
	}
	l->started_for = at;
	log_info("load %s: armed start at %.3f, %.3f ms after its time",
	    l->conf->name, at, (l->started_at - at) * 1e3);
}

/*
 * start --at: the load starts when the wall clock reaches at.  Refused,
 * as a start is, while it runs or cannot have its descriptors, and when
 * at is more than START_AT_PAST behind the wall clock or more than
 * START_AT_AHEAD ahead of it.  A time just behind (a controller's clock
 * slightly ahead of ours) starts it at once, by the timer.
 */
int
load_arm(struct load *l, double at, char *why, size_t whylen)
{
	double		 now = now_wall(), in = at - now;

	if (!(in >= -START_AT_PAST)) {
		snprintf(why, whylen, "start time %.3f is %.3fs in the past "
		    "(more than %gs: check the clocks)", at, -in,
		    START_AT_PAST);
		return -1;
	}
	if (!(in <= START_AT_AHEAD)) {
		snprintf(why, whylen, "start time %.3f is %.0fs ahead (more "
		    "than 24h)", at, in);
		return -1;
	}
	if (load_startable(l, why, whylen) == -1)
		return -1;
	if ((l->arm = evtimer_new(daemon_g->base, load_armcb, l)) == NULL)
		fatalx("arm timer");
	l->arm_at = at;
	load_arm_timer(l, at - now_wall());
	log_info("load %s: armed to start at %.3f (in %.3fs)", l->conf->name,
	    at, in);
	return 0;
}

/* stop, a lease that runs out, a reload that replaces the load. */
static void
load_disarm(struct load *l)
{
	if (l->arm == NULL)
		return;
	event_free(l->arm);
	l->arm = NULL;
	l->arm_at = 0;
}

/*
 * A lease ran out: the load goes back to what its profile says (its
 * connections and rate; stopped, if the lease came with the start of a
 * load that does not start by itself), and says so at warning.
 */
static void
load_leasecb(evutil_socket_t fd, short what, void *arg)
{
	struct load		*l = arg;
	const struct load_conf	*lc = l->conf;
	char			 why[256];
	bool			 started = l->lease_started;

	event_free(l->lease);
	l->lease = NULL;
	/* An armed start was what the lease held: it goes first. */
	if (l->arm != NULL) {
		log_warnx("load %s: its lease of %gs ran out before its armed "
		    "start at %.3f: disarmed", lc->name, l->lease_len,
		    l->arm_at);
		load_disarm(l);
	}
	log_warnx("load %s: its lease of %gs ran out, not renewed: back to "
	    "the profile (%s%d connections, rate %g)", lc->name, l->lease_len,
	    started && !lc->autostart ? "stopped, " : "", lc->connections,
	    lc->rate);
	if (started && !lc->autostart) {
		load_stop(l);
		(void)load_scale(l, (uint64_t)lc->connections, 0, why,
		    sizeof(why));
	} else if (l->target != lc->connections || l->ramp != NULL)
		if (load_scale(l, (uint64_t)lc->connections, 0, why,
		    sizeof(why)) == -1)
			log_warnx("load %s: lease: %s", lc->name, why);
	if (l->rate != lc->rate &&
	    load_set_rate(l, lc->rate, why, sizeof(why)) == -1)
		log_warnx("load %s: lease: %s", lc->name, why);
}

/* Take (or replace) a lease: what was just set holds for seconds. */
void
load_lease(struct load *l, double seconds, bool started)
{
	struct timeval	 tv = tv_from_s(seconds);

	if (l->lease == NULL &&
	    (l->lease = evtimer_new(daemon_g->base, load_leasecb, l)) == NULL)
		fatalx("lease timer");
	l->lease_len = seconds;
	l->lease_end = now_mono() + seconds;
	/* A renewal keeps what the lease came with: start (or start --at). */
	l->lease_started = started || (l->lease_started &&
	    (l->state == LOAD_RUNNING || l->arm != NULL));
	evtimer_add(l->lease, &tv);
	log_info("load %s: lease of %gs (renew with loadctl renew %s)",
	    l->conf->name, seconds, l->conf->name);
}

/* renew, or any later command on a leased load: another lease's length. */
int
load_renew(struct load *l, char *why, size_t whylen)
{
	if (l->lease == NULL) {
		snprintf(why, whylen, "load %s has no lease to renew",
		    l->conf->name);
		return -1;
	}
	load_lease(l, l->lease_len, false);
	return 0;
}

/*
 * The load's run ends: stopped, or finished (its duration).  Its summary
 * follows with the collection the new epoch begins with.
 */
void
load_end(struct load *l, enum load_state how)
{
	load_ramp_cancel(l);
	if (l->expire != NULL) {
		event_free(l->expire);
		l->expire = NULL;
	}
	/* Nothing runs to fall back from. */
	if (l->lease != NULL) {
		event_free(l->lease);
		l->lease = NULL;
	}
	if (l->arm != NULL) {
		log_info("load %s: disarmed (it was to start at %.3f)",
		    l->conf->name, l->arm_at);
		load_disarm(l);
	}
	if (l->state != LOAD_RUNNING)
		return;
	load_new_epoch(l, how == LOAD_FINISHED ? "finished" : "stop");
	l->state = how;
	load_post(l, WCMD_SET_TARGET, 0, 0);
	log_info("load %s: %s", l->conf->name, load_state_names[how]);
	run_check_end();
}

void
load_stop(struct load *l)
{
	load_end(l, LOAD_STOPPED);
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
	struct stats_snap	 s;

	if (n == l->target)
		return;
	/* The run's peak, before a scale down can hide it from the ticks. */
	if (l->run_start != 0 && n < l->target) {
		load_snapshot(l, &s);
		if (s.active > l->run_peak)
			l->run_peak = s.active;
	}
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
	double		 f = (now_mono() - l->ramp_t0) / l->ramp_len;
	struct timeval	 tv = tv_from_s(RAMP_STEP);

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
load_scale(struct load *l, uint64_t n, double over, char *why, size_t whylen)
{
	char	 cause[64];

	/* request_parse bounds it; any other caller is held to it too. */
	if (!(over == 0 || (over >= RAMP_MIN && over <= RAMP_MAX))) {
		snprintf(why, whylen, "bad ramp duration %g s: 0 (at once), "
		    "or %g s to a week", over, RAMP_MIN);
		return -1;
	}
	if (n > (uint64_t)l->conf->max_connections) {
		snprintf(why, whylen, "%llu connections is above the ceiling of "
		    "load %s (max_connections = %d)", (unsigned long long)n,
		    l->conf->name, l->conf->max_connections);
		return -1;
	}
	if (l->state == LOAD_RUNNING &&
	    load_check_fds(l, n, why, whylen) == -1)
		return -1;
	if (over > 0 && l->state != LOAD_RUNNING) {
		snprintf(why, whylen, "load %s is stopped: a ramp needs a running "
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
		l->ramp_t0 = now_mono();
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
load_set_rate(struct load *l, double rate, char *why, size_t whylen)
{
	char	 cause[64];

	if (l->conf->idle) {
		snprintf(why, whylen, "load %s is idle (rate = 0 or pattern = "
		    "\"idle\" in its profile): it sends nothing, at any rate",
		    l->conf->name);
		return -1;
	}
	/*
	 * request_parse bounds it; any other caller is held to it too: a
	 * NaN, an infinity or a rate under RATE_MIN never reaches a worker.
	 */
	if (!(rate == 0 || (rate >= RATE_MIN && rate <= RATE_LIMIT))) {
		snprintf(why, whylen, "bad rate %g: %g to %.0f messages per "
		    "second per connection, or flood", rate, RATE_MIN,
		    RATE_LIMIT);
		return -1;
	}
	if ((rate == 0 && l->conf->max_rate < RATE_LIMIT) ||
	    rate > l->conf->max_rate) {
		snprintf(why, whylen, "%s is above the ceiling of load %s "
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
loads_connections(void)
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
summary_put(char *buf, size_t len, const char *text)
{
	size_t	 off = strlen(buf);

	snprintf(buf + off, len - off, "%s%s", off ? ", " : "", text);
}

static void
summary_add(char *buf, size_t len, const char *what, const char *name)
{
	char	 text[160];

	snprintf(text, sizeof(text), "%s %s", what, name);
	summary_put(buf, len, text);
}

/*
 * A reload that changes only a load's max_connections, autostart or
 * keep_scale is applied in place: its connections, live scale and rate
 * stay, as long as they fit under the new ceiling (else the load is
 * restarted like any change).  max_rate is not among them: the workers
 * hold it too (the catch-up ceiling), so a new one restarts the load.
 */
static bool
load_update_ceilings(struct load *l, const struct load_conf *lc)
{
	struct load_conf	 tmp = *lc;
	int			 want = l->ramp != NULL && l->ramp_to > l->target ?
				    l->ramp_to : l->target;

	tmp.max_connections = l->conf->max_connections;
	tmp.autostart = l->conf->autostart;
	tmp.keep_scale = l->conf->keep_scale;
	if (!load_conf_equal(l->conf, &tmp))
		return false;
	if (want > lc->max_connections || l->rate > lc->max_rate ||
	    (l->rate == 0 && lc->max_rate < RATE_LIMIT)) {
		log_info("reload: load %s runs above its new ceilings; "
		    "restarting it", lc->name);
		return false;
	}
	l->conf->max_connections = lc->max_connections;
	l->conf->autostart = lc->autostart;
	l->conf->keep_scale = lc->keep_scale;
	return true;
}

/*
 * Objectives are no part of the traffic: new ones apply in place, and
 * are judged afresh from the next interval.
 */
static void
load_update_objectives(struct load *l, const struct load_conf *lc,
    char *summary, size_t len)
{
	struct load_conf	*c = l->conf;
	size_t			 n = (size_t)lc->nobjectives;

	if (c->nobjectives == lc->nobjectives && (n == 0 ||
	    memcmp(c->objectives, lc->objectives, n *
	    sizeof(*c->objectives)) == 0))
		return;
	free(c->objectives);
	c->objectives = n > 0 ? xcalloc(n, sizeof(*c->objectives)) : NULL;
	if (n > 0)
		memcpy(c->objectives, lc->objectives, n * sizeof(*c->objectives));
	c->nobjectives = lc->nobjectives;
	if (l->state == LOAD_RUNNING)
		objectives_reset(l);
	else
		objectives_free(l);
	summary_add(summary, len, "updated", lc->name);
}

/*
 * A changed load was restarted at its profile's connections.  Its live
 * scale (set by `scale`) is kept when the profile says keep_scale (within
 * the new ceiling); either way the reply says what became of it.
 */
static void
load_apply_scale(struct load *l, int was, bool ran, char *summary,
    size_t len)
{
	const struct load_conf	*lc = l->conf;
	char			 what[512], why[256];
	int			 n = was;

	if (!ran || was == lc->connections) {
		summary_add(summary, len, "changed", lc->name);
		return;
	}
	if (!lc->keep_scale) {
		snprintf(what, sizeof(what), "changed %s (restarted at %d "
		    "connections, was %d: keep_scale = true keeps it)",
		    lc->name, lc->connections, was);
		summary_put(summary, len, what);
		return;
	}
	if (n > lc->max_connections)
		n = lc->max_connections;
	if (load_scale(l, (uint64_t)n, 0, why, sizeof(why)) == -1) {
		log_warnx("reload: load %s: cannot keep its scale: %s",
		    lc->name, why);
		snprintf(what, sizeof(what), "changed %s (restarted at %d "
		    "connections, was %d: %s)", lc->name, lc->connections, was,
		    why);
	} else
		snprintf(what, sizeof(what), "changed %s (kept its scale: %d "
		    "connections%s)", lc->name, n, n < was ?
		    ", its new max_connections" : "");
	summary_put(summary, len, what);
}

/*
 * Apply a valid profile's loads.  Loads are matched by name: an unchanged
 * load keeps its connections (and any scale or rate set live), a changed
 * one is replaced (and runs again if it ran), new loads are added,
 * missing ones removed.
 */
void
loads_apply(const struct profile *p, char *summary, size_t len)
{
	struct daemon	*d = daemon_g;
	struct load	*l, *tmp;
	char		 why[256];

	TAILQ_FOREACH_SAFE(l, &d->loads, entry, tmp) {
		if (profile_find_load(p, l->conf->name) == NULL) {
			summary_add(summary, len, "removed", l->conf->name);
			load_delete(l);
		}
	}
	for (int i = 0; i < p->nloads; i++) {
		const struct load_conf	*lc = &p->loads[i];
		bool			 run = lc->autostart, changed = false;
		int			 was = 0;
		double			 armed = 0;
		char			 what[160];

		if ((l = load_find(lc->name)) != NULL) {
			if (load_conf_equal(l->conf, lc)) {
				load_update_objectives(l, lc, summary, len);
				continue;
			}
			if (load_update_ceilings(l, lc)) {
				summary_add(summary, len, "updated", lc->name);
				continue;
			}
			run = l->state == LOAD_RUNNING;
			/* Its live scale (where a ramp was going). */
			was = l->ramp != NULL ? l->ramp_to : l->target;
			changed = true;
			/*
			 * An armed start is not carried over to the new
			 * declaration: like a lease, it was given for the
			 * old one, and the controller that armed it is told
			 * (status: no starts_at) rather than surprised.
			 */
			if (l->arm != NULL)
				armed = l->arm_at;
			load_delete(l);
		} else
			summary_add(summary, len, "added", lc->name);
		l = load_create(lc);
		if (run && load_start(l, why, sizeof(why)) == -1)
			log_warnx("reload: load %s not started: %s", lc->name,
			    why);
		if (changed)
			load_apply_scale(l, was, run, summary, len);
		if (armed != 0) {
			log_warnx("reload: load %s changed: its start armed for "
			    "%.3f is dropped", lc->name, armed);
			snprintf(what, sizeof(what), "disarmed %s (its start "
			    "at %.3f: start it again)", lc->name, armed);
			summary_put(summary, len, what);
		}
	}
	if (summary[0] == '\0')
		snprintf(summary, len, "no load changed");

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

static uint64_t
per_s(uint64_t now, uint64_t prev, double dt)
{
	return (uint64_t)((double)(now - prev) / dt);
}

/* At most one line a minute about a load's failures. */
#define LOAD_WARN_EVERY	60.0

/*
 * Failed connects, lost connections and other errors, in the journal: at
 * once when they begin after a quiet minute, then one line a minute while
 * they go on, each counting what happened since the one before, by kind.
 * A dead target shows without flooding the log.
 */
static void
load_warn(struct load *l, const struct stats_snap *s)
{
	const struct stats_snap	*b = &l->warn_base;
	double			 now = now_mono();
	uint64_t		 errs = 0, n;
	char			 kinds[512];
	size_t			 off = 0;

	if (l->warn_since == 0) {
		l->warn_base = *s;
		l->warn_since = now;
		return;
	}
	for (int k = 0; k < ERR_MAX; k++)
		errs += s->errors[k] - b->errors[k];
	if (errs == 0 && s->connects_failed == b->connects_failed &&
	    s->disconnects == b->disconnects) {
		if (now - l->warn_since >= LOAD_WARN_EVERY) {
			/* A quiet minute: the next failure is told at once. */
			l->warn_base = *s;
			l->warn_since = now;
			l->warn_at = 0;
		}
		return;
	}
	if (l->warn_at != 0 && now - l->warn_at < LOAD_WARN_EVERY)
		return;
	kinds[0] = '\0';
	for (int k = 0; k < ERR_MAX && off < sizeof(kinds); k++) {
		if ((n = s->errors[k] - b->errors[k]) > 0)
			off += (size_t)snprintf(kinds + off, sizeof(kinds) - off,
			    "%s%s=%llu", off > 0 ? " " : "", err_kind_names[k],
			    (unsigned long long)n);
	}
	log_warnx("load %s: %llu connects failed and %llu connections lost in "
	    "the last %.0fs (%s)", l->conf->name,
	    (unsigned long long)(s->connects_failed - b->connects_failed),
	    (unsigned long long)(s->disconnects - b->disconnects),
	    now - l->warn_since, kinds[0] != '\0' ? kinds : "no error kind");
	l->warn_base = *s;
	l->warn_since = now;
	l->warn_at = now;
}

/* One load's interval ends: rates, histograms, epoch, failures logged. */
void
load_interval(struct load *l, double dt)
{
	struct stats_snap	 s, prev = l->prev;
	double			 t1 = now_mono();

	load_snapshot(l, &s);
	for (size_t k = 0; k < KC_MAX; k++) {
		if (key_counters[k].rate_key != NULL)
			*stats_snap_counter(&l->rates, k) = per_s(
			    stats_snap_get(&s, k), stats_snap_get(&l->prev, k),
			    dt);
	}
	l->prev = s;
	load_warn(l, &s);
	if (l->run_start != 0 && s.active > l->run_peak)
		l->run_peak = s.active;

	if (l->ival != NULL) {
		/* Swap the workers' accumulation for a clean one. */
		load_shared_take(l->sh, &l->ival);
		for (int i = 0; i < LAT_MAX; i++) {
			struct hist	*to[3] = { &l->epoch_h[i], &l->run[i] };
			int		 n = 2;

			/* The run's own latency and service time too. */
			if (l->run_lat != NULL && l->run_start != 0 &&
			    (i == LAT_LATENCY || i == LAT_SERVICE))
				to[n++] = &l->run_lat[i == LAT_LATENCY ? 0 : 1];
			hist_add_n(to, n, &l->ival[i]);
		}
	}
	objectives_interval(l, &s, &prev, t1 - dt, t1);
	if (l->epoch_next[0] != '\0') {
		/* The epoch that ends, into its run's record. */
		summary_epoch_end(l, &l->epoch_next_base);
		if (strcmp(l->epoch_next, "stop") == 0 ||
		    strcmp(l->epoch_next, "finished") == 0)
			summary_run_end(l, &l->epoch_next_base,
			    load_state_names[l->state]);
		l->epoch++;
		snprintf(l->epoch_cause, sizeof(l->epoch_cause), "%s",
		    l->epoch_next);
		l->epoch_next[0] = '\0';
		l->epoch_start = now_wall();
		l->epoch_base = l->epoch_next_base;
		if (l->epoch_h != NULL) {
			for (int i = 0; i < LAT_MAX; i++)
				hist_clear(&l->epoch_h[i]);
		}
	}
}
