/* SPDX-License-Identifier: ISC */
/*
 * loadd.c -- the composition root: options, signals, start-up, the wiring
 * of the stats tick (collect -> intervals -> results log -> control
 * subscribers), the daemon-level part of reload, and the drain.  The
 * loads live in load.c.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

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

#include "common/cmd.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "daemon/results.h"
#include "engine/engine.h"
#include "engine/mem.h"

struct daemon	*daemon_g;


static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: loadd [-hnvV] [-f profile] [-s socket]\n"
	    "       loadd run ...   one test in the foreground (loadd run "
	    "--help)\n"
	    "       loadd --help | --version\n"
	    "  -f FILE        profile (default " LOADD_PROFILE_DEFAULT ")\n"
	    "  -n             check the profile and exit (0 good, 1 errors)\n"
	    "  -s PATH        control socket (default: daemon.socket of the "
	    "profile,\n"
	    "                 else " LOADD_SOCKET_DEFAULT ")\n"
	    "  -v             more logging (debug)\n"
	    "  -V, --version  print the version and exit\n"
	    "  -h, --help     this help\n");
}

static const struct option loadd_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* ----------------------------------------------------------- reload */

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

	summary[0] = '\0';
	if ((p = profile_load(d->profile_path, errs)) == NULL) {
		/* Whoever asked (SIGHUP or loadctl), the journal says why. */
		for (size_t i = 0; i < errs->n; i++)
			log_warnx("reload: %s", errs->msgs[i]);
		log_warnx("reload: profile %s has %zu error%s, nothing changed",
		    d->profile_path, errs->n, errs->n == 1 ? "" : "s");
		return -1;
	}

	loads_apply(p, summary, len);

	if (strcmp(p->daemon.socket, d->profile->daemon.socket) != 0 ||
	    p->daemon.socket_mode != d->profile->daemon.socket_mode ||
	    p->daemon.workers != d->profile->daemon.workers ||
	    p->daemon.io_uring != d->profile->daemon.io_uring)
		log_warnx("reload: socket, socket_mode, workers and io_uring "
		    "take effect at restart");
	if ((p->daemon.status_socket == NULL) !=
	    (d->profile->daemon.status_socket == NULL) ||
	    (p->daemon.status_socket != NULL &&
	    strcmp(p->daemon.status_socket,
	    d->profile->daemon.status_socket) != 0) ||
	    p->daemon.status_socket_mode !=
	    d->profile->daemon.status_socket_mode)
		log_warnx("reload: status_socket and status_socket_mode take "
		    "effect at restart");
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
		struct timeval tv = tv_from_s(p->daemon.stats_interval);

		evtimer_add(d->stats_tick, &tv);
	}
	results_open(p);
	profile_free(d->profile);
	d->profile = p;
	log_info("reload: %s", summary);
	return 0;
}

/* ------------------------------------------------------------ ticks */

/* Ask every worker for its interval histograms. */
void
daemon_collect(void)
{
	engine_collect(&daemon_g->engine);
}

/*
 * The last worker to answer a collection round calls this, on its own
 * thread: only wake the main thread (the main base is thread-safe).
 */
/* A target on this host: loopback, or a unix socket. */
static bool
daemon_target_local(const struct target_conf *tc)
{
	const struct sockaddr_in	*in4;
	const struct sockaddr_in6	*in6;

	switch (tc->addr.ss_family) {
	case AF_UNIX:
		return true;
	case AF_INET:
		in4 = (const struct sockaddr_in *)(const void *)&tc->addr;
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		in6 = (const struct sockaddr_in6 *)(const void *)&tc->addr;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		    in6->sin6_addr.s6_addr[12] == 127);
	default:
		return false;
	}
}

/*
 * workers = 0: one per CPU, but one CPU is left to the server when every
 * target of the profile is on this host.  A server sharing the CPUs with
 * as many busy workers waits for them to be descheduled, and so do the
 * replies its clients' workers have not read: a closed loop's tail
 * latency was 3 to 7 times worse with 2 workers than with 1 beside a
 * single-threaded server on 2 CPUs (docs/guide.md, "CPU").
 */
static int
daemon_workers(const struct profile *p, int ncpu)
{
	bool	 local = p->nloads > 0;

	if (p->daemon.workers > 0)
		return p->daemon.workers;
	for (int i = 0; i < p->nloads && local; i++) {
		for (int t = 0; t < p->loads[i].ntargets; t++)
			local = local &&
			    daemon_target_local(&p->loads[i].targets[t]);
	}
	if (!local || ncpu < 2)
		return ncpu;
	log_info("every target is on this host: %d worker%s for %d CPUs, "
	    "one left to the server (set daemon.workers to choose)", ncpu - 1,
	    ncpu - 1 == 1 ? "" : "s", ncpu);
	return ncpu - 1;
}

static void
daemon_collected(void *arg)
{
	struct daemon	*d = arg;

	event_active(d->collected, EV_READ, 0);
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
	double		 now = now_mono(), dt = now - d->interval_start;
	int64_t		 conns = 0;

	/*
	 * Another round was posted after this activation: wait for it, so
	 * that an epoch never takes samples from before its command.
	 */
	if (atomic_load(&d->engine.collect_pending) != 0)
		return;
	if (dt <= 0)
		dt = 1e-9;
	TAILQ_FOREACH(l, &d->loads, entry)
		load_interval(l, dt);
	d->collected_at = now;
	d->interval_len = dt;
	results_interval(d->interval_start, dt);
	d->interval_start = now;
	conns = loads_connections();
	sd_notifyf(0, "STATUS=%lld connections up", (long long)conns);
	control_tick();
}

static void
daemon_statscb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = daemon_g;
	struct timeval	 tv = tv_from_s(d->profile->daemon.stats_interval);

	daemon_collect();
	evtimer_add(d->stats_tick, &tv);
}

/*
 * SIGUSR1: every load's figures to the log, a line each (key=value, the
 * names of `loadctl stats`), for when the control socket is out of reach.
 */
static void
daemon_log_stats(void)
{
	struct load		*l;
	struct stats_snap	 s;
	char			 line[2048];
	size_t			 off;
	uint64_t		 errors;

#define LINE_ADD(...)	do {						\
	if (off < sizeof(line))						\
		off += (size_t)snprintf(line + off, sizeof(line) - off,	\
		    __VA_ARGS__);					\
} while (0)
	log_info("SIGUSR1: up %.0fs, %zu connection%s up", now_wall() -
	    daemon_g->started_at, (size_t)loads_connections(),
	    loads_connections() == 1 ? "" : "s");
	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		load_snapshot(l, &s);
		off = 0;
		LINE_ADD("state=%s %s=%d", load_state_name(l),
		    KEY_TARGET, l->state == LOAD_RUNNING ? l->target : 0);
		for (size_t g = 0; g < KG_MAX; g++)
			LINE_ADD(" %s=%lld", key_gauges[g].key,
			    (long long)stats_snap_gauge(&s, g));
		for (size_t k = 0; k < KC_MAX; k++)
			LINE_ADD(" %s=%llu", key_counters[k].key,
			    (unsigned long long)stats_snap_get(&s, k));
		errors = 0;
		for (int k = 0; k < ERR_MAX; k++)
			errors += s.errors[k];
		LINE_ADD(" %s=%llu", KEY_ERRORS, (unsigned long long)errors);
		for (size_t k = 0; k < KC_MAX; k++) {
			if (key_counters[k].rate_key != NULL)
				LINE_ADD(" %s=%llu", key_counters[k].rate_key,
				    (unsigned long long)stats_snap_get(
				    &l->rates, k));
		}
		LINE_ADD(" rate=%g epoch=%u", l->rate, l->epoch);
		log_info("SIGUSR1: load %s: %s", l->conf->name, line);
	}
#undef LINE_ADD
}

static void
daemon_signalcb(evutil_socket_t sig, short what, void *arg)
{
	struct errlist	 errs = { 0 };
	char		 summary[1024];

	if (sig == SIGUSR1) {
		daemon_log_stats();
		return;
	}
	if (sig == SIGUSR2) {
		char	 why[512];

		if (results_reopen(why, sizeof(why)) == -1)
			log_warnx("SIGUSR2: %s", why);
		return;
	}
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s", daemon_g->profile_path);
		(void)daemon_reload(&errs, summary, sizeof(summary));
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
	/* An exit event, not a break: it holds before the loop runs, too. */
	event_base_loopexit(d->base, NULL);
}

/*
 * systemd's watchdog: WATCHDOG=1 twice a WatchdogSec, but only while the
 * main loop runs (this timer) and every worker has answered a collection
 * within WatchdogSec (they answer one every stats_interval).  A stuck
 * worker thus gets the daemon restarted, as a stuck main loop does.
 */
static void
daemon_watchdogcb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = daemon_g;
	double		 age = now_mono() - d->collected_at;

	if (age < d->watchdog_s) {
		(void)sd_notify(0, "WATCHDOG=1");
		d->watchdog_warned = false;
		return;
	}
	if (!d->watchdog_warned)
		log_warnx("watchdog: the workers have not answered for %.1fs; "
		    "no keep-alive to systemd, which restarts loadd after "
		    "WatchdogSec (%gs)", age, d->watchdog_s);
	d->watchdog_warned = true;
}

static void
daemon_watchdog_start(struct daemon *d)
{
	uint64_t	 usec;
	struct timeval	 tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	d->watchdog_s = (double)usec / 1e6;
	d->collected_at = now_mono();
	if (d->profile->daemon.stats_interval * 2 > d->watchdog_s)
		log_warnx("watchdog: WatchdogSec (%gs) should be at least "
		    "twice daemon.stats_interval (%gs), or a slow collection "
		    "gets loadd restarted", d->watchdog_s,
		    d->profile->daemon.stats_interval);
	d->watchdog = event_new(d->base, -1, EV_PERSIST, daemon_watchdogcb,
	    NULL);
	tv = tv_from_s(d->watchdog_s / 2);
	if (d->watchdog == NULL || event_add(d->watchdog, &tv) == -1)
		fatalx("watchdog timer");
	log_info("watchdog: keep-alive every %gs while the workers answer",
	    d->watchdog_s / 2);
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
 * Returns -1 if one is stuck: then nothing a worker may still use (the
 * loads' shared blocks, the workers' bases) may be freed.
 */
static int
daemon_drain(struct daemon *d)
{
	struct load	*l;
	int		 stuck;

	TAILQ_FOREACH(l, &d->loads, entry)
		load_stop(l);
	if (engine_drain(&d->engine, d->profile->daemon.drain_timeout,
	    &stuck) == -1) {
		log_warnx("worker %d did not finish within %gs; exiting "
		    "without freeing what it holds", stuck,
		    d->profile->daemon.drain_timeout);
		return -1;
	}
	/* The workers are done: a last interval, and the runs' summaries. */
	TAILQ_FOREACH(l, &d->loads, entry)
		load_interval(l, now_mono() - d->interval_start);
	if (d->run.on)
		d->run.status = run_report();
	while ((l = TAILQ_FIRST(&d->loads)) != NULL) {
		TAILQ_REMOVE(&d->loads, l, entry);
		load_free(l);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct daemon	 d;
	struct errlist	 errs = { 0 };
	const char	*path = LOADD_PROFILE_DEFAULT, *skew;
	const int	 signos[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
			    SIGUSR2 };
	struct event	*sigs[NELEM(signos)];
	struct load	*l;
	struct timeval	 tv;
	char		 why[256] = "";
	int		 ch, check = 0, verbose = 0, rc;
	bool		 socket_cli = false;
	long		 ncpu;
	int		 nworkers;

	memset(&d, 0, sizeof(d));
	d.log_level_cli = -1;
	TAILQ_INIT(&d.loads);
	daemon_g = &d;
	log_init(LOG_LEVEL_INFO, "loadd");
	/* A week's log outside journald needs its own clock. */
	log_stamp(1);
	/* Test hook: a host whose clock is off by seconds (t_fleet). */
	if ((skew = getenv("LOADD_TEST_CLOCK_SKEW")) != NULL) {
		now_wall_skew(strtod(skew, NULL));
		log_warnx("LOADD_TEST_CLOCK_SKEW: the wall clock is off by %s s",
		    skew);
	}

	if (argc > 1 && strcmp(argv[1], "run") == 0) {
		if ((rc = run_parse(argc - 1, argv + 1, &d.run, &path)) != 0)
			return rc == -1 ? 0 : rc;
		d.run.on = true;
		if (d.run.socket != NULL) {
			d.socket_path = (char *)(uintptr_t)d.run.socket;
			socket_cli = true;
		}
		verbose = d.run.verbose;
		optind = argc;	/* nothing left for the daemon's options */
	}
	while (!d.run.on && (ch = getopt_long(argc, argv, "f:hns:vV",
	    loadd_longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 's':
			d.socket_path = optarg;
			socket_cli = true;
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
	d.profile = profile_load(d.profile_path, &errs);
	if (d.run.tmp != NULL)
		(void)unlink(d.run.tmp);
	if (d.profile == NULL) {
		for (size_t i = 0; i < errs.n; i++) {
			const char *m = errs.msgs[i];

			/* The --target load's file is ours: its options. */
			if (d.run.tmp != NULL && strncmp(m, d.run.tmp,
			    strlen(d.run.tmp)) == 0 && (m = strstr(m,
			    ": ")) != NULL)
				fprintf(stderr, "loadd run: %s\n", m + 2);
			else
				fprintf(stderr, "%s\n", errs.msgs[i]);
		}
		fprintf(stderr, "loadd: %zu error%s in %s\n", errs.n,
		    errs.n == 1 ? "" : "s", d.run.tmp != NULL ?
		    "the options" : path);
		errlist_free(&errs);
		free(d.profile_path);
		free(d.run.tmp);
		return 1;
	}
	free(d.run.tmp);	/* read, and removed */
	d.run.tmp = NULL;
	if (check) {
		printf("%s: profile OK (%d load%s)\n", path,
		    d.profile->nloads, d.profile->nloads == 1 ? "" : "s");
		profile_free(d.profile);
		free(d.profile_path);
		return 0;
	}
	if (d.run.on) {
		/* A run in a terminal: warnings, unless asked for more. */
		d.log_level_cli = verbose > 1 ? LOG_LEVEL_DEBUG :
		    verbose > 0 ? LOG_LEVEL_INFO : LOG_LEVEL_WARN;
		log_setlevel(d.log_level_cli);
	} else if (verbose > 0) {
		d.log_level_cli = LOG_LEVEL_DEBUG;
		log_setlevel(LOG_LEVEL_DEBUG);
	} else if (d.profile->daemon.log_level >= 0)
		log_setlevel(d.profile->daemon.log_level);
	if (d.socket_path == NULL)
		d.socket_path = d.profile->daemon.socket;
	d.socket_path = xstrdup(d.socket_path);

	signal(SIGPIPE, SIG_IGN);
	/* Until the loop catches it: its default action ends the process. */
	signal(SIGUSR1, SIG_IGN);
	daemon_raise_nofile(&d);
	mem_init();
	if (evthread_use_pthreads() == -1)
		fatalx("libevent has no pthreads support");
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (size_t i = 0; i < NELEM(signos); i++) {
		sigs[i] = evsignal_new(d.base, signos[i], daemon_signalcb,
		    NULL);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot catch signal %d", signos[i]);
	}

	/*
	 * The default socket's directory is made by systemd (loadd.service:
	 * RuntimeDirectory=loadd); started by hand, loadd usually cannot bind
	 * there: say how to choose another.
	 */
	/* loadd run has a control socket only when -s names one. */
	rc = d.run.on && !socket_cli ? 0 : control_init(d.socket_path,
	    d.profile->daemon.socket_mode, d.profile->daemon.max_clients,
	    d.profile->daemon.client_timeout);
	if (rc == -1 && !socket_cli &&
	    strcmp(d.socket_path, LOADD_SOCKET_DEFAULT) == 0) {
		log_warnx("choose a control socket with -s PATH or "
		    "daemon.socket in the profile (the default, "
		    LOADD_SOCKET_DEFAULT ", is in the directory systemd makes "
		    "for loadd.service)");
		log_warnx("loadctl finds it with -s PATH or LOADD_SOCKET=PATH");
	}
	if (rc == -1 || metrics_init(d.profile->daemon.metrics_listen, why,
	    sizeof(why)) == -1) {
		if (why[0] != '\0') {
			log_warnx("%s", why);
			control_cleanup();
		}
		for (size_t i = 0; i < NELEM(signos); i++)
			event_free(sigs[i]);
		event_base_free(d.base);
		profile_free(d.profile);
		free(d.socket_path);
		free(d.profile_path);
		return 1;
	}

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nworkers = daemon_workers(d.profile, ncpu > 0 ? (int)ncpu : 1);
	if (engine_start(&d.engine, nworkers, d.profile->daemon.io_uring,
	    daemon_collected, &d) == -1)
		fatal("cannot start worker %d", d.engine.nworkers);

	/* Starting a load begins an epoch, which collects: be ready. */
	d.interval_start = now_mono();
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
	tv = tv_from_s(d.profile->daemon.stats_interval);
	evtimer_add(d.stats_tick, &tv);

	log_info("loadd %s ready: %d worker%s, %d load%s, control socket %s",
	    LOADD_VERSION, d.engine.nworkers,
	    d.engine.nworkers == 1 ? "" : "s",
	    d.profile->nloads, d.profile->nloads == 1 ? "" : "s",
	    d.run.on && !socket_cli ? "(none)" : d.socket_path);
	/* A run whose loads all wait for a start has nothing to do. */
	run_check_end();
	sd_notify(0, "READY=1\nSTATUS=running");
	daemon_watchdog_start(&d);

	event_base_dispatch(d.base);

	control_cleanup();
	metrics_close();
	if (daemon_drain(&d) == -1) {
		/*
		 * As OpenBSD daemons do: leave at once, freeing nothing a
		 * stuck worker may still touch, running no exit handler.
		 */
		results_close();
		_exit(1);
	}
	event_free(d.stats_tick);
	event_free(d.collected);
	if (d.watchdog != NULL)
		event_free(d.watchdog);
	results_close();
	for (size_t i = 0; i < NELEM(signos); i++)
		event_free(sigs[i]);
	event_base_free(d.base);
	mem_cache_flush();
	profile_free(d.profile);
	free(d.socket_path);
	free(d.profile_path);
	log_info("exited cleanly");
	return d.run.status;
}
