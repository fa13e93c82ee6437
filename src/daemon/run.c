/* SPDX-License-Identifier: ISC */
/*
 * run.c -- `loadd run`: one test in the foreground, as wrk and tcpkali are
 * used.  The loads of a profile (-f), or one load made from the command
 * line (--target HOST:PORT with -c, -d, --rate, --size, --expect), run
 * without a control socket unless -s names one; when every load that ran
 * has ended (its duration) or on Ctrl-C the daemon drains as at any end,
 * and the runs' summaries are printed to standard output (JSON with -j).
 * Main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cmd.h"
#include "common/log.h"
#include "common/summary_view.h"
#include "common/util.h"
#include "daemon/daemon.h"

static void
run_usage(FILE *f)
{
	fprintf(f,
	    "usage: loadd run [-jv] [-s socket] -f profile\n"
	    "       loadd run [-jv] [-s socket] --target HOST:PORT [-c conns]\n"
	    "                 [-d duration] [--rate R] [--size N] "
	    "[--expect echo]\n"
	    "  -f FILE          the profile's loads (autostart ones start)\n"
	    "  --target H:P     one load to H:P instead of a profile\n"
	    "  -c N             its connections (default 10)\n"
	    "  -d DURATION      how long it runs (default 10s; 0: until "
	    "Ctrl-C)\n"
	    "  --rate R         messages per second per connection "
	    "(default: flood)\n"
	    "  --size N         bytes per message (default 1024)\n"
	    "  --expect echo    wait for each message's echo and time it\n"
	    "  -s PATH          also a control socket, for loadctl\n"
	    "  -j               the summaries as JSON\n"
	    "  -v               log at info (-vv: debug); default warnings\n"
	    "Ends when every load that ran has ended, or on Ctrl-C; prints "
	    "each run's\nsummary.  Exit 0; 4 if a load's objective was "
	    "missed; 1 if it could not\nrun; 2 on bad usage.\n");
}

static const struct option run_longopts[] = {
	{ "target", required_argument, NULL, 'T' },
	{ "rate", required_argument, NULL, 'R' },
	{ "size", required_argument, NULL, 'S' },
	{ "expect", required_argument, NULL, 'E' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * A value spliced into the generated profile: only what the option can
 * hold, so that nothing can close the string or add a key.
 */
static bool
run_word_ok(const char *s, const char *extra)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || strchr(extra, *s) != NULL))
			return false;
	}
	return true;
}

static bool
run_digits_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

/*
 * The load the options describe, as a profile in a temporary file that
 * profile_load() reads like any other (and so checks like any other).
 */
static char *
run_profile(const char *target, const char *conns, const char *dur,
    const char *rate, const char *size, const char *expect)
{
	char	 path[] = "/tmp/loadd-run.XXXXXX";
	FILE	*f;
	int	 fd;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("loadd run: a temporary profile");
		if (fd != -1)
			close(fd);
		return NULL;
	}
	fprintf(f, "daemon = { stats_interval = \"1s\"; };\n"
	    "loads = ( { name = \"run\"; target = \"%s\"; connections = %s;\n"
	    "  duration = \"%s\"; size = %s;%s%s%s%s } );\n", target, conns,
	    dur, size, rate != NULL ? " rate = " : "", rate != NULL ? rate : "",
	    rate != NULL ? ";" : "", expect != NULL ?
	    " expect = \"echo\";" : "");
	if (fclose(f) != 0) {
		log_warn("loadd run: %s", path);
		(void)unlink(path);
		return NULL;
	}
	return xstrdup(path);
}

/*
 * `loadd run ...` (argv[0] is "run"): the options into *ro, and the
 * profile to read into *path (a temporary one for --target, which
 * *ro->tmp names for removal).  0, or the exit status (2: usage, 1: the
 * temporary profile could not be written; -1: --help, exit 0).
 */
int
run_parse(int argc, char *argv[], struct run_opts *ro, const char **path)
{
	const char	*target = NULL, *conns = "10", *dur = "10s";
	const char	*rate = NULL, *size = "1024", *expect = NULL;
	bool		 given[4] = { false, false, false, false };
	int		 ch;

	memset(ro, 0, sizeof(*ro));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:d:f:hjs:v", run_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			*path = optarg;
			ro->profile = true;
			break;
		case 'T':
			target = optarg;
			break;
		case 'c':
			conns = optarg;
			given[0] = true;
			break;
		case 'd':
			dur = optarg;
			given[1] = true;
			break;
		case 'R':
			rate = optarg;
			given[2] = true;
			break;
		case 'S':
			size = optarg;
			given[3] = true;
			break;
		case 'E':
			expect = optarg;
			break;
		case 's':
			ro->socket = optarg;
			break;
		case 'j':
			ro->json = true;
			break;
		case 'v':
			ro->verbose++;
			break;
		case 'h':
			run_usage(stdout);
			return -1;
		default:
			run_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (ro->profile && target != NULL) ||
	    (!ro->profile && target == NULL)) {
		if (ro->profile && target != NULL)
			fprintf(stderr, "loadd run: a profile (-f) or --target, "
			    "not both\n");
		else if (optind == argc)
			fprintf(stderr, "loadd run: a profile (-f) or "
			    "--target HOST:PORT\n");
		run_usage(stderr);
		return 2;
	}
	if (ro->profile && (given[0] || given[1] || given[2] || given[3] ||
	    expect != NULL)) {
		fprintf(stderr, "loadd run: -c, -d, --rate, --size and "
		    "--expect describe the --target load; a profile says its "
		    "own\n");
		return 2;
	}
	if (ro->profile)
		return 0;
	if (!run_word_ok(target, ".:-_[]") || !run_digits_ok(conns) ||
	    !run_word_ok(dur, ".") || !run_digits_ok(size) ||
	    (rate != NULL && !run_word_ok(rate, ".")) ||
	    (expect != NULL && strcmp(expect, "echo") != 0)) {
		fprintf(stderr, "loadd run: a bad value: --target HOST:PORT, "
		    "-c and --size whole numbers, -d a duration (10s, 500ms), "
		    "--rate a number, --expect echo\n");
		return 2;
	}
	if ((ro->tmp = run_profile(target, conns, dur, rate, size,
	    expect)) == NULL)
		return 1;
	*path = ro->tmp;
	return 0;
}

/* A load ended: when none runs any more, the run is over. */
void
run_check_end(void)
{
	struct load	*l;

	if (!daemon_g->run.on)
		return;
	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		if (l->state == LOAD_RUNNING)
			return;
	}
	log_info("every load has ended");
	daemon_shutdown();
}

/*
 * After the drain: every load's last summary, for people or as JSON; the
 * exit status: 0, or RUN_EXIT_MISSED if an objective was missed.
 */
int
run_report(void)
{
	struct load	*l;
	json_t		*o, *arr = json_array();
	int		 rc;

	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		if (l->last_summary != NULL)
			json_array_append(arr, l->last_summary);
	}
	o = json_pack("{s:o}", "summaries", arr);
	if (daemon_g->run.json) {
		(void)json_dumpf(o, stdout, JSON_COMPACT |
		    JSON_REAL_PRECISION(15));
		printf("\n");
	} else
		summary_view_print(o);
	fflush(stdout);
	rc = summary_view_passed(o) ? 0 : RUN_EXIT_MISSED;
	json_decref(o);
	return rc;
}
