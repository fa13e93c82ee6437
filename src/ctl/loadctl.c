/* SPDX-License-Identifier: ISC */
/*
 * loadctl.c -- the operator's client: check the request against the shared
 * command table, send one line, print the reply for people (or raw with
 * -j), exit 0 ok / 1 refused / 2 usage / 3 daemon not reachable.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cmd.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"
#include "fleetctl.h"
#include "loadctl.h"
#include "report.h"
#include "proxy.h"
#include "common/summary_view.h"


static int	 opt_json;
static int	 reply_timeout_ms = 10000;
static bool	 timeout_given;		/* -t: also wait's limit */
static volatile sig_atomic_t interrupted;

/* ---------------------------------------------------------- help text */

#define HELP_COLUMNS	79	/* the widest line, for an 80-column terminal */
#define HELP_LEFT_MAX	24	/* a longer "command arguments" gets its own line */

/* The left column's width for a list of lefts of these lengths. */
static int
help_width(const size_t *len, size_t n)
{
	size_t	 w = 0;

	for (size_t i = 0; i < n; i++) {
		if (len[i] <= HELP_LEFT_MAX && len[i] > w)
			w = len[i];
	}
	return (int)w;
}

/*
 * One row of a command list: "  LEFT  HELP", the help wrapped at words to
 * HELP_COLUMNS and aligned at column 2 + width + 2.  A left column wider
 * than width (scale's arguments) has the line to itself, the help under it.
 */
static void
help_row(FILE *f, const char *left, const char *help, int width)
{
	int		 col = 2 + width + 2, at;
	const char	*p = help;
	bool		 first = true;

	at = fprintf(f, "  %s", left);
	if (at > col - 2) {
		fputc('\n', f);
		at = 0;
	}
	for (;;) {
		size_t	 n;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " ");
		if (!first && at + 1 + (int)n > HELP_COLUMNS) {
			fputc('\n', f);
			at = 0;
			first = true;
		}
		if (first) {
			fprintf(f, "%*s", col - at, "");
			at = col;
		} else {
			fputc(' ', f);
			at++;
		}
		fwrite(p, 1, n, f);
		at += (int)n;
		p += n;
		first = false;
	}
	fputc('\n', f);
}

/* loadctl's local commands, beside the daemon's of the command table. */
#define REPORT_LEFT	"report -o OUT FILE..."
#define REPORT_HELP	"draw a results log as one HTML or SVG file (local)"
#define PROXY_LEFT	"proxy"
#define PROXY_HELP	"join stdin and stdout to the control socket (for ssh)"

/* "name arguments" of row i of the command table, and its length. */
static size_t
help_left(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", cmd_table[i].name,
	    cmd_table[i].usage[0] ? " " : "", cmd_table[i].usage);
	return strlen(buf);
}

/* The left column's width for loadctl's own command list. */
static int
help_table_width(void)
{
	size_t	 len[CMD_MAX + 2];
	char	 left[96];

	for (size_t i = 0; i < CMD_MAX; i++)
		len[i] = help_left(i, left, sizeof(left));
	len[CMD_MAX] = strlen(REPORT_LEFT);
	len[CMD_MAX + 1] = strlen(PROXY_LEFT);
	return help_width(len, CMD_MAX + 2);
}

static void
usage(FILE *f)
{
	char	 left[96];
	int	 width = help_table_width();

	fprintf(f, "usage: loadctl [-j] [-s socket] [-t seconds] command "
	    "[arguments]\n"
	    "       loadctl -h | --help | -V | --version\n"
	    "  -j             print the daemon's JSON reply as it is\n"
	    "  -s PATH        control socket (default $LOADD_SOCKET, else\n"
	    "                 " LOADD_SOCKET_DEFAULT ")\n"
	    "  -t SECONDS     how long to wait for a reply (default 10)\n"
	    "  -h, --help     this help (talks to no daemon)\n"
	    "  -V, --version  loadctl's version (\"loadctl version\" asks the "
	    "daemon too)\n"
	    "options may also follow the command (not after --)\n\n"
	    "commands:\n");
	for (size_t i = 0; i < CMD_MAX; i++) {
		help_left(i, left, sizeof(left));
		help_row(f, left, cmd_table[i].help, width);
	}
	help_row(f, REPORT_LEFT, REPORT_HELP, width);
	help_row(f, PROXY_LEFT, PROXY_HELP, width);
	fprintf(f, "\nLOAD may be left out when the profile has one load.\n"
	    "exit status: 0 ok, 1 refused, 2 usage error, 3 daemon not "
	    "reachable\n");
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "loadctl: socket path too long: %s\n", path);
		exit(EXIT_USAGE);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "loadctl: cannot reach loadd at %s: %s\n",
		    path, strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	return fd;
}

static void
ctl_write(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EPIPE)
			return;	/* refused unread: the reply says why */
		if (n <= 0) {
			fprintf(stderr, "loadctl: write: %s\n", strerror(errno));
			exit(EXIT_UNREACHABLE);
		}
		s += n;
		len -= (size_t)n;
	}
}

/* How ctl_readline ended. */
enum ctl_read {
	CTL_LINE,		/* *linep is a whole line */
	CTL_EOF,		/* the daemon closed, after whole lines */
	CTL_BROKEN,		/* a read error, or closed inside a line */
	CTL_INTERRUPTED,	/* SIGINT or SIGTERM in watch */
};

/*
 * Read one line into a growing buffer; the caller frees *linep.  On
 * CTL_BROKEN a reason is printed.  timeout_ms < 0 waits for ever.
 */
static enum ctl_read
ctl_readline(int fd, int timeout_ms, char **linep)
{
	static char	 buf[1 << 20];
	static size_t	 have;
	char		*nl;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	ssize_t		 n;

	for (;;) {
		if ((nl = memchr(buf, '\n', have)) != NULL) {
			size_t	 len = (size_t)(nl - buf);

			*linep = xmalloc(len + 1);
			memcpy(*linep, buf, len);
			(*linep)[len] = '\0';
			memmove(buf, nl + 1, have - len - 1);
			have -= len + 1;
			return CTL_LINE;
		}
		if (interrupted)
			return CTL_INTERRUPTED;
		if (have == sizeof(buf)) {
			fprintf(stderr, "loadctl: reply too long\n");
			exit(EXIT_UNREACHABLE);
		}
		switch (poll(&pfd, 1, timeout_ms)) {
		case -1:
			if (errno == EINTR)
				continue;
			fprintf(stderr, "loadctl: poll: %s\n", strerror(errno));
			return CTL_BROKEN;
		case 0:
			fprintf(stderr, "loadctl: no reply within %d s\n",
			    timeout_ms / 1000);
			exit(EXIT_UNREACHABLE);
		}
		if ((n = read(fd, buf + have, sizeof(buf) - have)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "loadctl: read: %s\n", strerror(errno));
			return CTL_BROKEN;
		}
		if (n == 0 && have > 0) {
			fprintf(stderr, "loadctl: the daemon closed the "
			    "connection inside a line\n");
			return CTL_BROKEN;
		}
		if (n == 0)
			return CTL_EOF;
		have += (size_t)n;
	}
}

/* ----------------------------------------------------------- printing */

static const char *
human(double v, const char *unit, char *buf, size_t len)
{
	static const char *const pfx[] = { "", "K", "M", "G", "T", "P" };
	int	 i = 0;
	double	 base = strcmp(unit, "B") == 0 ? 1024 : 1000;

	while (v >= base && i < 5) {
		v /= base;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f%s", v, unit);
	else
		snprintf(buf, len, "%.1f%s%s%s", v, pfx[i],
		    base == 1024 ? "i" : "", unit);
	return buf;
}

static json_int_t
geti(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* A counter, its per-second rate and a gauge of common/keys.h, by id. */
static long long
ctr(json_t *o, enum key_counter k)
{
	return (long long)geti(o, key_counters[k].key);
}

static double
ctr_rate(json_t *o, enum key_counter k)
{
	return (double)geti(o, key_counters[k].rate_key);
}

static long long
gauge(json_t *o, enum key_gauge g)
{
	return (long long)geti(o, key_gauges[g].key);
}

static const char *
gets_(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

static void
print_rate_col(json_t *l, char *buf, size_t len)
{
	double		 r = json_number_value(json_object_get(l, "rate"));
	const char	*mode = gets_(l, "mode");

	if (strcmp(mode, "idle") == 0)
		snprintf(buf, len, "idle");
	else if (r > 0)
		snprintf(buf, len, "%g/s", r);
	else
		snprintf(buf, len, "flood");
}

/*
 * A span of seconds for people: "15s", "4m05s", "2h07m".  Time left is
 * rounded up (a ramp with 0.3s to go has "1s left", never "0s"); an
 * uptime is rounded down.
 */
static const char *
fmt_secs(double sec, bool up, char *buf, size_t len)
{
	long long	 n;

	if (sec < 0)
		sec = 0;
	n = (long long)sec;
	if (up && (double)n < sec)
		n++;
	if (n < 60)
		snprintf(buf, len, "%llds", n);
	else if (n < 3600)
		snprintf(buf, len, "%lldm%02llds", n / 60, n % 60);
	else
		snprintf(buf, len, "%lldh%02lldm", n / 3600, n / 60 % 60);
	return buf;
}

/* A latency in microseconds for people: "950us", "288.1ms", "1.20s". */
static const char *
fmt_us(double us, char *buf, size_t len)
{
	if (us < 10)
		snprintf(buf, len, "%.1fus", us);
	else if (us < 999.5)
		snprintf(buf, len, "%.0fus", us);
	else if (us < 999950)
		snprintf(buf, len, "%.1fms", us / 1e3);
	else
		snprintf(buf, len, "%.2fs", us / 1e6);
	return buf;
}

/*
 * A wall-clock time for people, local, to the millisecond:
 * "14:03:22.500"; with the date when it is not today's.
 */
static const char *
fmt_wall(double t, char *buf, size_t len)
{
	time_t		 s = (time_t)floor(t), now = time(NULL);
	struct tm	 tm, today;
	size_t		 n;
	int		 ms = (int)((t - floor(t)) * 1000);

	if (localtime_r(&s, &tm) == NULL || localtime_r(&now, &today) ==
	    NULL || (n = strftime(buf, len, tm.tm_yday == today.tm_yday &&
	    tm.tm_year == today.tm_year ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S",
	    &tm)) == 0) {
		snprintf(buf, len, "%.3f", t);
		return buf;
	}
	snprintf(buf + n, len - n, ".%03d", ms > 999 ? 999 : ms);
	return buf;
}

/*
 * start --at: "armed to start at 14:03:22.500 (in 2s)" while armed;
 * "started at 14:03:22.501, 1.2ms after its --at time" once an armed
 * start happened.  "" when neither.
 */
static const char *
fmt_start(json_t *l, char *buf, size_t len)
{
	json_t	*at = json_object_get(l, "starts_at");
	json_t	*skew = json_object_get(l, "start_skew_s");
	char	 t[48], in[32], d[32];
	double	 sk;

	buf[0] = '\0';
	if (at != NULL)
		snprintf(buf, len, "armed to start at %s (in %s)", fmt_wall(
		    json_number_value(at), t, sizeof(t)), fmt_secs(
		    json_number_value(json_object_get(l, "starts_in_s")), true,
		    in, sizeof(in)));
	else if (skew != NULL && strcmp(gets_(l, "state"), "running") == 0) {
		sk = json_number_value(skew);
		fmt_us(fabs(sk) * 1e6, d, sizeof(d));
		snprintf(buf, len, "started at %s, %s %s its --at time",
		    fmt_wall(json_number_value(json_object_get(l,
		    "started_at")), t, sizeof(t)), d, sk < 0 ? "before" :
		    "after");
	}
	return buf;
}

/*
 * Connections established over wanted, and where a ramp goes:
 * "24/26 -> 500 (15s left)".  Without the ramp "24/26" would read as
 * finished.
 */
static const char *
fmt_conns(json_t *l, char *buf, size_t len)
{
	json_t	*ramp = json_object_get(l, "ramp");
	int	 n;
	char	 left[32];

	n = snprintf(buf, len, "%lld/%lld", gauge(l, KG_active),
	    (long long)geti(l, KEY_TARGET));
	if (ramp != NULL && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " -> %lld (%s left)",
		    (long long)geti(ramp, "to"), fmt_secs(json_number_value(
		    json_object_get(ramp, "remaining_s")), true, left,
		    sizeof(left)));
	return buf;
}

/*
 * "running", "stopped", "finished" (stopped by its duration) or "armed"
 * (start --at); a load running for a duration has its time left:
 * "running (42s left)"; an armed one the time to its start: "armed (in
 * 2s)".
 */
static const char *
fmt_state(json_t *l, char *buf, size_t len)
{
	json_t	*left = json_object_get(l, "time_left_s");
	json_t	*in = json_object_get(l, "starts_in_s");
	char	 t[32];

	if (left != NULL && strcmp(gets_(l, "state"), "running") == 0)
		snprintf(buf, len, "running (%s left)", fmt_secs(
		    json_number_value(left), true, t, sizeof(t)));
	else if (in != NULL && strcmp(gets_(l, "state"), "armed") == 0)
		snprintf(buf, len, "armed (in %s)", fmt_secs(
		    json_number_value(in), true, t, sizeof(t)));
	else
		snprintf(buf, len, "%s", gets_(l, "state"));
	return buf;
}

/* The widest of a column's cells (each loads' fmt), at least min. */
static int
col_width(json_t *loads, const char *(*fmt)(json_t *, char *, size_t),
    int min)
{
	json_t	*l;
	size_t	 i, w = (size_t)min;
	char	 buf[96];

	json_array_foreach(loads, i, l) {
		if (strlen(fmt(l, buf, sizeof(buf))) > w)
			w = strlen(buf);
	}
	return (int)w;
}

/*
 * Each load's objectives: held, missed (failed for its grace) or unknown
 * (no figure yet), with the last interval's figure and the misses.
 */
static void
print_objectives(json_t *loads)
{
	json_t	*l, *v;
	size_t	 i, j;

	json_array_foreach(loads, i, l) {
		json_array_foreach(json_object_get(l, "objectives"), j, v) {
			const char *val = gets_(v, "value");

			printf("%s: objective \"%s\": %s%s%s%s", gets_(l, "name"),
			    gets_(v, "objective"), gets_(v, "state"),
			    *val != '\0' ? " (" : "", val, *val != '\0' ? ")" :
			    "");
			if (geti(v, "misses") > 0)
				printf(", missed %lld time%s this run",
				    (long long)geti(v, "misses"),
				    geti(v, "misses") == 1 ? "" : "s");
			printf("\n");
		}
	}
}

static void
print_status(json_t *o)
{
	json_t	*loads = json_object_get(o, "loads"), *l;
	size_t	 i;
	char	 a[32], b[32], c[32], r[32];
	int	 ws, wc;

	printf("loadd %s, pid %lld, up %s, %lld worker%s, paced sends by "
	    "%s, profile %s\n\n",
	    gets_(o, "version"), (long long)geti(o, "pid"),
	    fmt_secs(json_number_value(json_object_get(o, "uptime")), false,
	    a, sizeof(a)),
	    (long long)geti(o, "workers"), geti(o, "workers") == 1 ? "" : "s",
	    gets_(o, "paced_sends"), gets_(o, "profile"));
	ws = col_width(loads, fmt_state, 8);
	wc = col_width(loads, fmt_conns, 13);
	printf("%-16s %-*s %-22s %*s %8s %10s %11s %11s %11s\n", "LOAD",
	    ws, "STATE", "TARGET", wc, "CONNS/WANTED", "OPENING", "RATE",
	    "MSG/S", "SENT/S", "RECV/S");
	json_array_foreach(loads, i, l) {
		char conns[96], state[64];

		print_rate_col(l, r, sizeof(r));
		printf("%-16s %-*s %-22s %*s %8lld %10s %11s %11s %11s\n",
		    gets_(l, "name"), ws, fmt_state(l, state, sizeof(state)),
		    gets_(l, "target"), wc, fmt_conns(l, conns, sizeof(conns)),
		    gauge(l, KG_connecting), r,
		    human(ctr_rate(l, KC_messages_sent), "",
		    a, sizeof(a)),
		    human(ctr_rate(l, KC_bytes_sent), "B", b,
		    sizeof(b)),
		    human(ctr_rate(l, KC_bytes_received), "B", c,
		    sizeof(c)));
	}
	/* What a load does beyond plain TCP, and what it does not check. */
	json_array_foreach(loads, i, l) {
		json_t	*tls = json_object_get(l, "tls");
		json_t	*tg = json_object_get(l, "targets");

		if (json_array_size(tg) > 1)
			printf("%s: %zu targets, %s and more\n",
			    gets_(l, "name"), json_array_size(tg),
			    gets_(l, "target"));
		if (tls != NULL && json_object_get(tls, "warning") != NULL)
			printf("%s: TLS: %s\n", gets_(l, "name"),
			    gets_(tls, "warning"));
	}
	json_array_foreach(loads, i, l) {
		char	 st[160];

		if (*fmt_start(l, st, sizeof(st)) != '\0')
			printf("%s: %s%s\n", gets_(l, "name"), st,
			    json_object_get(l, "starts_at") != NULL ?
			    " (stop disarms it)" : "");
	}
	json_array_foreach(loads, i, l) {
		json_t	*ls = json_object_get(l, "lease");

		if (ls != NULL)
			printf("%s: lease: %s left of %s (loadctl renew %s, or "
			    "it goes back to the profile)\n", gets_(l, "name"),
			    fmt_secs(json_number_value(json_object_get(ls,
			    "left_s")), true, a, sizeof(a)), fmt_secs(
			    json_number_value(json_object_get(ls, "length_s")),
			    true, b, sizeof(b)), gets_(l, "name"));
	}
	print_objectives(loads);
}

/* A row of the stats table; the total has no state ("" for it). */
static void
print_stats_row(const char *name, json_t *l, int ws, int wc)
{
	char	 a[32], b[32], c[32], d[32], e[32], conns[96], state[64];

	if (json_object_get(l, "state") != NULL)
		fmt_state(l, state, sizeof(state));
	else
		state[0] = '\0';
	printf("%-16s %-*s %*s %9lld %9lld %9lld %10s %10s %10s %10s %10s\n",
	    name, ws, state, wc, fmt_conns(l, conns, sizeof(conns)),
	    ctr(l, KC_connects_ok),
	    ctr(l, KC_connects_failed),
	    ctr(l, KC_disconnects),
	    human((double)ctr(l, KC_messages_sent), "", a, sizeof(a)),
	    human((double)ctr(l, KC_bytes_sent), "B", b, sizeof(b)),
	    human(ctr_rate(l, KC_messages_sent), "", c, sizeof(c)),
	    human(ctr_rate(l, KC_bytes_sent), "B", d, sizeof(d)),
	    human(ctr_rate(l, KC_bytes_received), "B", e,
	    sizeof(e)));
}

static void
print_errors(const char *name, json_t *l)
{
	json_t		*errs = json_object_get(l, KEY_ERRORS), *v;
	const char	*k;
	int		 any = 0;

	json_object_foreach(errs, k, v) {
		if (json_integer_value(v) == 0)
			continue;
		printf("%s%s=%lld", any ? " " : "", k,
		    (long long)json_integer_value(v));
		any = 1;
	}
	if (!any)
		printf("none");
}

/* COUNT, the percentiles of common/keys.h in capitals, MAX. */
static void
print_hist_header(void)
{
	static const char *const keys[] = {
#define X(key, p, quantile)	key,
		LOADD_PERCENTILES(X)
#undef X
	};
	char	 up[16];

	printf("  %-30s %10s", "", "COUNT");
	for (size_t i = 0; i < NELEM(keys); i++) {
		size_t	 n = 0;

		for (; keys[i][n] != '\0' && n < sizeof(up) - 1; n++)
			up[n] = (char)toupper((unsigned char)keys[i][n]);
		up[n] = '\0';
		printf(" %9s", up);
	}
	printf(" %9s\n", "MAX");
}

static void
print_hist_row(const char *label, json_t *h)
{
	static const char *const keys[] = {
#define X(key, p, quantile)	key,
		LOADD_PERCENTILES(X)
#undef X
		KEY_HIST_MAX
	};

	if (h == NULL)
		return;
	printf("  %-30s %10lld", label, (long long)geti(h, KEY_HIST_COUNT));
	for (size_t i = 0; i < NELEM(keys); i++)
		printf(" %9.1f", json_number_value(json_object_get(h, keys[i])));
	printf("\n");
}

/* Latency of the loads that wait for replies, in microseconds. */
static void
print_latency(json_t *loads)
{
	json_t	*l, *lat, *svc, *ep;
	size_t	 i;
	int	 header = 0;
	char	 label[160];

	json_array_foreach(loads, i, l) {
		if ((lat = json_object_get(l, "latency_us")) == NULL)
			continue;
		svc = json_object_get(l, "service_us");
		ep = json_object_get(l, "epoch");
		if (!header) {
			printf("\nlatency in us (from the intended send time; "
			    "service = from the actual write)\n");
			print_hist_header();
			header = 1;
		}
		printf("%s (epoch %lld: %s; replies %lld, late %lld)\n",
		    gets_(l, "name"), (long long)geti(ep, "number"),
		    gets_(ep, "cause"), ctr(l, KC_replies),
		    ctr(l, KC_late));
		print_hist_row("latency, last interval",
		    json_object_get(lat, "interval"));
		print_hist_row("latency, this epoch",
		    json_object_get(lat, "epoch"));
		print_hist_row("latency, whole run", json_object_get(lat, "run"));
		print_hist_row("service, whole run", json_object_get(svc, "run"));
		snprintf(label, sizeof(label), "connect, whole run");
		print_hist_row(label, json_object_get(json_object_get(l,
		    "connect_us"), "run"));
	}
	/* TLS loads: the handshake, timed apart from the connect. */
	json_array_foreach(loads, i, l) {
		if ((lat = json_object_get(l, "tls_handshake_us")) == NULL)
			continue;
		if (header != 2) {
			printf("\nconnect and TLS handshake in us\n");
			print_hist_header();
			header = 2;
		}
		printf("%s\n", gets_(l, "name"));
		print_hist_row("connect, whole run", json_object_get(
		    json_object_get(l, "connect_us"), "run"));
		print_hist_row("tls handshake, whole run",
		    json_object_get(lat, "run"));
	}
}

/*
 * What plain TCP does not have: TLS handshakes and resumption, HTTP status
 * classes and RESP errors, churn, UDP datagrams, and each target's share
 * of a load with several.
 */
static void
print_transports(json_t *loads)
{
	json_t	*l, *t;
	size_t	 i, j;
	char	 a[32];

	json_array_foreach(loads, i, l) {
		const char	*proto = gets_(l, "protocol");
		json_t		*tg = json_object_get(l, "targets");

		if (strcmp(proto, "tls") == 0)
			printf("%s: tls: %lld handshakes (%lld resumed), %s/s\n",
			    gets_(l, "name"), ctr(l, KC_tls_handshakes),
			    ctr(l, KC_tls_resumed), human(ctr_rate(l,
			    KC_tls_handshakes), "", a, sizeof(a)));
		if (strcmp(proto, "udp") == 0)
			printf("%s: udp: %lld datagrams received, %lld lost\n",
			    gets_(l, "name"), ctr(l, KC_datagrams_received),
			    ctr(l, KC_lost));
		if (ctr(l, KC_http_2xx) + ctr(l, KC_http_3xx) +
		    ctr(l, KC_http_4xx) + ctr(l, KC_http_5xx) > 0)
			printf("%s: http: %lld 2xx, %lld 3xx, %lld 4xx, %lld "
			    "5xx; %lld bad status, %lld closed by the server "
			    "after a reply, %lld requests behind them "
			    "unanswered\n", gets_(l, "name"),
			    ctr(l, KC_http_2xx), ctr(l, KC_http_3xx),
			    ctr(l, KC_http_4xx), ctr(l, KC_http_5xx),
			    ctr(l, KC_bad_status), ctr(l, KC_server_closes),
			    ctr(l, KC_unanswered));
		if (ctr(l, KC_server_errors) > 0)
			printf("%s: resp: %lld error replies\n",
			    gets_(l, "name"), ctr(l, KC_server_errors));
		if (ctr(l, KC_recycled) > 0)
			printf("%s: %lld connections recycled (churn), "
			    "%s connects/s\n", gets_(l, "name"),
			    ctr(l, KC_recycled), human(ctr_rate(l,
			    KC_connects_ok), "", a, sizeof(a)));
		if (json_array_size(tg) < 2)
			continue;
		json_array_foreach(tg, j, t)
			printf("%s: target %s: %lld active, %lld connects ok, "
			    "%lld failed\n", gets_(l, "name"),
			    gets_(t, "target"), gauge(t, KG_active),
			    ctr(t, KC_connects_ok), ctr(t, KC_connects_failed));
	}
}

static void
print_stats(json_t *o)
{
	json_t	*loads = json_object_get(o, "loads"), *l;
	size_t	 i;
	int	 ws = col_width(loads, fmt_state, 8);
	int	 wc = col_width(loads, fmt_conns, 13);

	printf("%-16s %-*s %*s %9s %9s %9s %10s %10s %10s %10s %10s\n", "LOAD",
	    ws, "STATE", wc, "CONNS/WANTED", "CONN_OK", "CONN_FAIL", "DISCONN",
	    "MESSAGES", "SENT", "MSG/S", "SENT/S", "RECV/S");
	json_array_foreach(loads, i, l)
		print_stats_row(gets_(l, "name"), l, ws, wc);
	print_stats_row("total", json_object_get(o, "total"), ws, wc);
	print_transports(loads);
	printf("\nerrors:\n");
	json_array_foreach(loads, i, l) {
		printf("  %-14s ", gets_(l, "name"));
		print_errors(gets_(l, "name"), l);
		printf("\n");
	}
	print_latency(loads);
}

/* start, stop, scale, rate: the load as it is now. */
static void
print_load_reply(const struct request *req, json_t *o)
{
	char	 r[32], st[160];
	json_t	*ramp;

	print_rate_col(o, r, sizeof(r));
	/* Armed: "armed to start at 14:03:22.500 (in 2s)". */
	printf("%s: %s, %lld connections wanted", gets_(o, "load"),
	    json_object_get(o, "starts_at") != NULL ? fmt_start(o, st,
	    sizeof(st)) : gets_(o, "state"),
	    (long long)geti(o, "connections_scale"));
	if (req->cmd->id == CMD_SCALE)
		printf(" (was %lld)", (long long)geti(o, "previous"));
	printf(", %s", r);
	if ((ramp = json_object_get(o, "ramp")) != NULL)
		printf("; ramping %lld -> %lld over %.1fs",
		    (long long)geti(ramp, "from"), (long long)geti(ramp, "to"),
		    json_number_value(json_object_get(ramp, "remaining_s")));
	if ((ramp = json_object_get(o, "lease")) != NULL)
		printf("; lease %.0fs (renew before it runs out, or it goes "
		    "back to the profile)", json_number_value(
		    json_object_get(ramp, "left_s")));
	printf("\n");
}

static void
print_version(json_t *o)
{
	printf("loadd %s, control protocol %lld\n"
	    "loadctl %s, control protocol %d\n", gets_(o, "version"),
	    (long long)geti(o, "protocol"), LOADD_VERSION, LOADD_PROTOCOL);
	if (geti(o, "protocol") != LOADD_PROTOCOL)
		fprintf(stderr, "loadctl: warning: protocol versions differ; "
		    "replies may not print correctly (use -j)\n");
}

/* The daemon's command list, laid out as usage() lays out loadctl's. */
static void
print_help(json_t *o)
{
	json_t	*cmds = json_object_get(o, "commands"), *v;
	size_t	 i, n = json_array_size(cmds), *len;
	char	**left;

	len = xcalloc(n + 1, sizeof(*len));
	left = xcalloc(n + 1, sizeof(*left));
	json_array_foreach(cmds, i, v) {
		const char	*u = json_string_value(json_object_get(v,
				    "usage"));

		if (u == NULL)
			u = "";
		left[i] = xasprintf("%s%s%s", gets_(v, "name"), *u ? " " : "",
		    u);
		len[i] = strlen(left[i]);
	}
	/* At least as wide as usage(), so that "help scale" aligns too. */
	len[n] = (size_t)help_table_width();
	json_array_foreach(cmds, i, v) {
		help_row(stdout, left[i], gets_(v, "help"),
		    help_width(len, n + 1));
		free(left[i]);
	}
	free(left);
	free(len);
}

/*
 * histogram: what the daemon sent, for people: the layout, and per load,
 * period and kind the values counted and the size of the encoding.  The
 * encodings themselves are for programs (loadctl -j histogram; a fleet
 * merges them): loadctl does not decode them.
 */
static void
print_histogram(json_t *o)
{
	static const char *const periods[] = { "run", "epoch", "interval" };
	json_t		*lay = json_object_get(o, "layout"), *l, *v;
	const char	*kind;
	size_t		 i;
	char		 a[32];
	bool		 any = false;

	printf("histograms: %s, values %lld to %lld ns at %lld significant "
	    "digits\n(the encodings: loadctl -j histogram)\n\n",
	    gets_(lay, "encoding"), (long long)geti(lay, "lowest_ns"),
	    (long long)geti(lay, "highest_ns"),
	    (long long)geti(lay, "sigdigits"));
	printf("%-16s %-9s %-14s %12s %10s\n", "LOAD", "PERIOD", "HISTOGRAM",
	    "VALUES", "ENCODED");
	json_array_foreach(json_object_get(o, "loads"), i, l) {
		json_t	*counts = json_object_get(l, "counts");

		for (size_t p = 0; p < NELEM(periods); p++) {
			json_object_foreach(json_object_get(l, periods[p]),
			    kind, v) {
				printf("%-16s %-9s %-14s %12lld %10s\n",
				    gets_(l, "name"), periods[p], kind,
				    (long long)geti(json_object_get(counts,
				    periods[p]), kind), human((double)strlen(
				    json_string_value(v) ? json_string_value(v) :
				    ""), "B", a, sizeof(a)));
				any = true;
			}
		}
	}
	if (!any)
		printf("(no load keeps a histogram)\n");
}

void
print_ok(const struct request *req, json_t *o)
{
	switch (req->cmd->id) {
	case CMD_HELP:
		print_help(o);
		break;
	case CMD_VERSION:
		print_version(o);
		break;
	case CMD_STATUS:
		print_status(o);
		break;
	case CMD_STATS:
		print_stats(o);
		break;
	case CMD_START:
	case CMD_STOP:
	case CMD_RENEW:
	case CMD_SCALE:
	case CMD_RATE:
		print_load_reply(req, o);
		break;
	case CMD_RELOAD:
		printf("reloaded: %s\n", gets_(o, "changes"));
		break;
	case CMD_REOPEN:
		printf("reopened the results logs\n");
		break;
	case CMD_SUMMARY:
		summary_view_print(o);
		break;
	case CMD_HISTOGRAM:
		print_histogram(o);
		break;
	case CMD_WAIT:		/* wait_load() prints the summary */
	case CMD_WATCH:		/* watch() prints its own lines */
	case CMD_MAX:
		break;
	}
}

static int
print_reply(const struct request *req, const char *line)
{
	json_error_t	 jerr;
	json_t		*o = json_loads(line, 0, &jerr), *v;
	size_t		 i;
	int		 rc = EXIT_OK;

	if (opt_json)
		printf("%s\n", line);
	if (o == NULL || !json_is_object(o)) {
		fprintf(stderr, "loadctl: the daemon sent a reply that is not "
		    "JSON: %s\n", jerr.text);
		json_decref(o);
		return EXIT_UNREACHABLE;
	}
	if (!json_is_true(json_object_get(o, "ok"))) {
		fprintf(stderr, "loadctl: %s: %s\n", req->cmd->name,
		    gets_(o, "error"));
		json_array_foreach(json_object_get(o, KEY_ERRORS), i, v)
			fprintf(stderr, "  %s\n", json_string_value(v));
		rc = EXIT_REFUSED;
	} else if (!opt_json)
		print_ok(req, o);
	json_decref(o);
	return rc;
}

/* ------------------------------------------------------------ watch */

static void
watch_sig(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * wait: the run of a load ends.  The daemon says where the load is; this
 * asks again every 200 ms until the run it saw running (or, if none was,
 * the next one) has its summary, then shows it.  0: every objective held
 * (or there were none); 4: one was missed; 3: -t ran out, or the daemon
 * went away; 1: refused (no such load).
 */

static int
wait_load(int fd, const char *line, size_t len)
{
	double		 run = -1, t0 = now_mono(), rs;
	bool		 first = true;
	struct timespec	 nap = { 0, 200 * 1000000 };
	json_t		*o, *sum, *reply;
	json_error_t	 jerr;
	const char	*state;
	char		*text;
	int		 rc;

	for (;;) {
		if (!first)
			ctl_write(fd, line, len);
		first = false;
		if (ctl_readline(fd, 10000, &text) != CTL_LINE) {
			fprintf(stderr, "loadctl: wait: the daemon went away\n");
			return EXIT_UNREACHABLE;
		}
		o = json_loads(text, 0, &jerr);
		free(text);
		if (o == NULL || !json_is_true(json_object_get(o, "ok"))) {
			fprintf(stderr, "loadctl: wait: %s\n", o != NULL ?
			    gets_(o, "error") : jerr.text);
			json_decref(o);
			return EXIT_REFUSED;
		}
		state = gets_(o, "state");
		rs = json_number_value(json_object_get(o, "run_start"));
		sum = json_object_get(o, "summary");
		if (strcmp(state, "running") == 0)
			run = rs;
		else if (strcmp(state, "armed") == 0)
			;	/* start --at: the run to wait for is to come */
		else if (json_is_object(sum) && (run < 0 || fabs(
		    json_number_value(json_object_get(sum, "start")) - run) <
		    1e-6))
			break;
		json_decref(o);
		if (timeout_given && now_mono() - t0 >= reply_timeout_ms /
		    1000.0) {
			fprintf(stderr, "loadctl: wait: gave up after %ds: the "
			    "run has not ended\n", reply_timeout_ms / 1000);
			return EXIT_UNREACHABLE;
		}
		(void)nanosleep(&nap, NULL);
	}
	reply = json_pack("{s:b,s:[O]}", "ok", 1, "summaries", sum);
	if (opt_json) {
		text = json_dumps(reply, JSON_COMPACT | JSON_REAL_PRECISION(17));
		printf("%s\n", text != NULL ? text : "{}");
		free(text);
	} else
		summary_view_print(reply);
	rc = summary_view_passed(reply) ? EXIT_OK : WAIT_MISSED;
	json_decref(reply);
	json_decref(o);
	return rc;
}

/* A rate for people: "0.5", "3.0", "42", "1.6K". */
static const char *
fmt_rate(double v, char *buf, size_t len)
{
	if (v < 10)
		snprintf(buf, len, "%.1f", v);
	else
		human(v, "", buf, len);
	return buf;
}

/* The same load (name and id) in another line, or NULL. */
static json_t *
watch_find(json_t *o, json_t *l)
{
	json_t	*p;
	size_t	 i;

	if (o == NULL)
		return NULL;
	json_array_foreach(json_object_get(o, "loads"), i, p) {
		if (strcmp(gets_(p, "name"), gets_(l, "name")) == 0 &&
		    geti(p, "id") == geti(l, "id"))
			return p;
	}
	return NULL;
}

/*
 * Errors per second of the kinds that grew since the line before (prev):
 * "refused 3.0/s, reset 1.0/s".  The daemon sends counters only; their
 * difference over the daemon's time between the lines is the rate.  ""
 * when none grew, or for the first line (returns false then).
 */
static bool
watch_errors(json_t *o, json_t *prev, json_t *l, char *buf, size_t len)
{
	json_t		*p = watch_find(prev, l), *perr, *v;
	const char	*k;
	double		 dt;
	size_t		 n = 0;
	char		 r[32];

	buf[0] = '\0';
	if (p == NULL)
		return false;
	dt = json_number_value(json_object_get(o, "time")) -
	    json_number_value(json_object_get(prev, "time"));
	if (dt <= 0)
		return false;
	perr = json_object_get(p, KEY_ERRORS);
	json_object_foreach(json_object_get(l, KEY_ERRORS), k, v) {
		json_int_t d = json_integer_value(v) - geti(perr, k);
		int	 m;

		if (d <= 0)
			continue;
		m = snprintf(buf + n, len - n, "%s%s %s/s", n ? ", " : "", k,
		    fmt_rate((double)d / dt, r, sizeof(r)));
		if (m < 0 || (size_t)m >= len - n)
			break;
		n += (size_t)m;
	}
	return true;
}

/* The last interval's latency p50 and p99 ("-" without replies). */
static void
watch_latency(json_t *l, char *p50, char *p99, size_t len)
{
	json_t	*h = json_object_get(json_object_get(l, "latency_us"),
		    "interval");

	if (h == NULL || geti(h, KEY_HIST_COUNT) == 0) {
		snprintf(p50, len, "-");
		snprintf(p99, len, "-");
		return;
	}
	fmt_us(json_number_value(json_object_get(h, "p50")), p50, len);
	fmt_us(json_number_value(json_object_get(h, "p99")), p99, len);
}

/* The daemon's time of the line, local: "14:03:22.4". */
static const char *
watch_clock(json_t *o, char *buf, size_t len)
{
	double		 t = json_number_value(json_object_get(o, "time"));
	time_t		 s = (time_t)t;
	struct tm	 tm;
	size_t		 n;

	if (localtime_r(&s, &tm) == NULL ||
	    (n = strftime(buf, len, "%H:%M:%S", &tm)) == 0) {
		snprintf(buf, len, "%.1f", t);
		return buf;
	}
	snprintf(buf + n, len - n, ".%d", (int)((t - (double)s) * 10) % 10);
	return buf;
}

/*
 * One line per interval when stdout is not a terminal, stamped with the
 * daemon's time of the interval (not ours: a log of it reads true even
 * when the reader lags): the total, then each load.
 */
void
watch_line(json_t *o, json_t *prev)
{
	json_t	*t = json_object_get(o, "total"), *l;
	char	 ts[32], up[32], a[32], b[32], c[32], e[512];
	char	 state[64], conns[96], p50[32], p99[32];
	size_t	 i;

	printf("%s up %s conns %lld/%lld msg/s %s sent/s %s replies/s %s",
	    watch_clock(o, ts, sizeof(ts)), fmt_secs(json_number_value(
	    json_object_get(o, "uptime")), false, up, sizeof(up)),
	    gauge(t, KG_active), (long long)geti(t, KEY_TARGET),
	    human(ctr_rate(t, KC_messages_sent), "", a, sizeof(a)),
	    human(ctr_rate(t, KC_bytes_sent), "B", b, sizeof(b)),
	    human(ctr_rate(t, KC_replies), "", c, sizeof(c)));
	json_array_foreach(json_object_get(o, "loads"), i, l) {
		printf(" | %s %s %s msg/s %s", gets_(l, "name"),
		    fmt_state(l, state, sizeof(state)),
		    fmt_conns(l, conns, sizeof(conns)),
		    human(ctr_rate(l, KC_messages_sent), "", a, sizeof(a)));
		if (json_object_get(l, "latency_us") != NULL) {
			watch_latency(l, p50, p99, sizeof(p50));
			printf(" replies/s %s p50 %s p99 %s",
			    human(ctr_rate(l, KC_replies), "", a, sizeof(a)),
			    p50, p99);
		}
		if (watch_errors(o, prev, l, e, sizeof(e)) && e[0] != '\0')
			printf(" errors %s", e);
	}
	printf("\n");
}

/*
 * The terminal view is drawn into a buffer and written at once: the
 * cursor goes home, every line clears what is left of the one it
 * overwrites, and the screen below the last is cleared.  Nothing is
 * blanked first, so nothing flickers.  Lines are cut to the terminal's
 * width, and the view to its height, so that nothing wraps or scrolls.
 */
struct view {
	FILE	*f;
	int	 cols, rows_left;
};

static void
view_line(struct view *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
view_line(struct view *v, const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;

	if (v->rows_left <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (v->cols > 1 && strlen(line) >= (size_t)v->cols)
		line[v->cols - 1] = '\0';
	fprintf(v->f, "%s\033[K\n", line);
	v->rows_left--;
}

static void
watch_view(json_t *o, json_t *prev, bool first)
{
	struct view	 v = { .cols = 80, .rows_left = 24 };
	struct winsize	 win;
	json_t		*loads = json_object_get(o, "loads"), *l;
	json_t		*t = json_object_get(o, "total");
	char		*buf = NULL, ts[32], up[32], a[32], b[32];
	char		 state[64], conns[96], p50[32], p99[32], e[512];
	size_t		 blen = 0, i, nl = json_array_size(loads);
	int		 ws = col_width(loads, fmt_state, 8);
	int		 wc = col_width(loads, fmt_conns, 13);
	bool		 any = false, rates = true;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &win) == 0 && win.ws_col > 0) {
		v.cols = win.ws_col;
		v.rows_left = win.ws_row;
	}
	v.rows_left--;		/* a newline on the last row would scroll */
	if ((v.f = open_memstream(&buf, &blen)) == NULL)
		return;
	/* The first frame starts on a clean screen; later ones overwrite. */
	fputs(first ? "\033[H\033[2J" : "\033[H", v.f);
	view_line(&v, "loadd pid %lld  %s  up %s  every %.1fs   (Ctrl-C to "
	    "leave)", (long long)geti(o, "pid"), watch_clock(o, ts,
	    sizeof(ts)), fmt_secs(json_number_value(json_object_get(o,
	    "uptime")), false, up, sizeof(up)), json_number_value(
	    json_object_get(o, "interval")));
	view_line(&v, "%s", "");
	view_line(&v, "%-16s %-*s %*s %9s %9s %8s %8s", "LOAD", ws, "STATE",
	    wc, "CONNS/WANTED", "MSG/S", "REPLIES/S", "P50", "P99");
	/* Keep room for the total, the errors' title and a line of them. */
	json_array_foreach(loads, i, l) {
		if (v.rows_left <= 4 && i + 1 < nl) {
			view_line(&v, "(%zu more loads: loadctl stats has "
			    "them all)", nl - i);
			break;
		}
		watch_latency(l, p50, p99, sizeof(p50));
		view_line(&v, "%-16s %-*s %*s %9s %9s %8s %8s",
		    gets_(l, "name"), ws, fmt_state(l, state, sizeof(state)),
		    wc, fmt_conns(l, conns, sizeof(conns)),
		    human(ctr_rate(l, KC_messages_sent), "", a, sizeof(a)),
		    human(ctr_rate(l, KC_replies), "", b, sizeof(b)), p50, p99);
	}
	view_line(&v, "%-16s %-*s %*s %9s %9s", "total", ws, "", wc,
	    fmt_conns(t, conns, sizeof(conns)),
	    human(ctr_rate(t, KC_messages_sent), "", a, sizeof(a)),
	    human(ctr_rate(t, KC_replies), "", b, sizeof(b)));
	view_line(&v, "%s", "");
	json_array_foreach(loads, i, l) {
		if (!watch_errors(o, prev, l, e, sizeof(e)))
			rates = false;
		else if (e[0] != '\0') {
			if (!any)
				view_line(&v, "errors per second:");
			view_line(&v, "  %s: %s", gets_(l, "name"), e);
			any = true;
		}
	}
	if (!any)
		view_line(&v, "errors per second: %s", rates ? "none" :
		    "from the next line");
	/* Objectives: each load's, in a line (state and last figure). */
	json_array_foreach(loads, i, l) {
		json_t	*ob;
		size_t	 j;
		char	 line[512];
		int	 n = 0;

		json_array_foreach(json_object_get(l, "objectives"), j, ob) {
			if (n < 0 || (size_t)n >= sizeof(line))
				break;
			n += snprintf(line + n, sizeof(line) - (size_t)n,
			    "%s%s %s%s%s%s", j > 0 ? ", " : "",
			    gets_(ob, "objective"), gets_(ob, "state"),
			    *gets_(ob, "value") ? " (" : "",
			    gets_(ob, "value"), *gets_(ob, "value") ? ")" :
			    "");
		}
		if (n > 0)
			view_line(&v, "%s objectives: %s", gets_(l, "name"),
			    line);
	}
	fputs("\033[J", v.f);
	fclose(v.f);
	fwrite(buf, 1, blen, stdout);
	free(buf);
}

/*
 * The pid of the daemon that answers `status` at path now, or -1 if none
 * does within a second.
 */
static long long
watch_probe(const char *path)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			 buf[1 << 16], *nl = NULL;
	size_t			 have = 0;
	long long		 pid = -1;
	double			 end = now_mono() + 1;
	json_t			*o;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    write(fd, "status\n", 7) != 7)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (nl == NULL && have < sizeof(buf) - 1 && now_mono() < end) {
		ssize_t	 n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) <= 0)
			goto out;
		have += (size_t)n;
		buf[have] = '\0';
		nl = strchr(buf, '\n');
	}
	if (nl != NULL && (o = json_loads(buf, JSON_DISABLE_EOF_CHECK,
	    NULL)) != NULL) {
		if (json_object_get(o, "pid") != NULL)
			pid = (long long)geti(o, "pid");
		json_decref(o);
	}
out:
	close(fd);
	return pid;
}

#define WATCH_RESTART_WAIT	3	/* s: how long a restart may take */

/*
 * The daemon closed the subscription after whole lines.  Say why: it
 * shut down, it restarted (another pid answers at the socket within
 * WATCH_RESTART_WAIT), or it dropped this subscriber (the same pid still
 * answers: it fell 1 MiB behind).
 */
static int
watch_closed(const char *path, long long pid)
{
	double		 end = now_mono() + WATCH_RESTART_WAIT;
	long long	 now = -1;
	char		 was[48] = "";

	if (pid > 0)
		snprintf(was, sizeof(was), " (pid %lld)", pid);
	while (!interrupted && now_mono() < end &&
	    (now = watch_probe(path)) == -1) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (now > 0 && now == pid) {
		fprintf(stderr, "loadctl: watch: loadd%s dropped this "
		    "subscription (it fell more than 1 MiB behind)\n", was);
		return EXIT_UNREACHABLE;
	}
	if (now > 0) {
		if (pid > 0)
			snprintf(was, sizeof(was), "pid %lld has gone, ", pid);
		fprintf(stderr, "loadctl: watch: loadd restarted: %spid %lld "
		    "answers at %s now (its counters start from zero); run "
		    "watch again to follow it\n", was, now, path);
		return EXIT_OK;
	}
	fprintf(stderr, "loadctl: watch: loadd%s shut down; the subscription "
	    "ended\n", was);
	return EXIT_OK;
}

/*
 * Print the subscription until SIGINT or SIGTERM (exit 0) or the daemon
 * ends it: an orderly close after whole lines (it is shutting down or
 * restarting: watch_closed says which) is exit 0 as well; a broken
 * connection is 3.
 */
static int
watch(int fd, const char *path)
{
	struct sigaction sa;
	char		*line;
	int		 tty = isatty(STDOUT_FILENO), rc = EXIT_OK;
	json_t		*o, *prev = NULL;
	long long	 pid = -1;
	enum ctl_read	 st = CTL_INTERRUPTED;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (tty && !opt_json)
		printf("\033[?25l");	/* no cursor darting about */
	while (!interrupted &&
	    (st = ctl_readline(fd, -1, &line)) == CTL_LINE) {
		if ((o = json_loads(line, 0, NULL)) == NULL ||
		    !json_is_true(json_object_get(o, "ok"))) {
			fprintf(stderr, "loadctl: watch: %s\n",
			    o ? gets_(o, "error") : "reply is not JSON");
			json_decref(o);
			free(line);
			close(fd);
			json_decref(prev);
			if (tty && !opt_json)
				printf("\033[?25h");
			return EXIT_REFUSED;
		}
		if (json_object_get(o, "pid") != NULL)
			pid = (long long)geti(o, "pid");
		if (opt_json)
			printf("%s\n", line);
		else if (!tty)
			watch_line(o, prev);
		else
			watch_view(o, prev, prev == NULL);
		json_decref(prev);
		prev = o;
		fflush(stdout);
		free(line);
	}
	json_decref(prev);
	close(fd);
	if (tty && !opt_json) {
		printf("\033[?25h");
		fflush(stdout);
	}
	if (st == CTL_EOF)
		rc = watch_closed(path, pid);
	else if (st == CTL_BROKEN) {
		fprintf(stderr, "loadctl: watch: the connection to the "
		    "daemon broke\n");
		rc = EXIT_UNREACHABLE;
	}
	return rc;
}

/* ------------------------------------------------------ scale --wait */

/*
 * scale ... --over DURATION --wait: loadctl follows the ramp with `status`
 * on the same connection until it ends.  The daemon does not say why a
 * ramp went: the load's id, state and ramp tell it.  A ramp is ours while
 * it goes from and to the same counts and ends when ours would (within
 * RAMP_SLACK); it is done when it has gone at its time with the count at
 * its end.
 */
#define RAMP_POLL_MS	250
#define RAMP_SLACK	1.0	/* s */
#define RAMP_MARGIN	5.0	/* s after its end before giving up */

static int	 opt_wait;

struct ramp_follow {
	char		*name;
	bool		 have_id;
	json_int_t	 id;
	long long	 from, to;
	double		 over;		/* its length, s */
	double		 end;		/* when it ends, our monotonic s */
};

enum ramp_state { RAMP_ON, RAMP_DONE, RAMP_CUT };

/*
 * Take scale's --wait out of the words of the request: it is loadctl's.
 * Returns the new count of words, or -1 when --wait has no ramp to follow.
 */
static int
scale_wait_take(int argc, char *argv[])
{
	int	 n = 0, over = 0;

	for (int i = 0; i < argc; i++) {
		if (i > 0 && strcmp(argv[i], "--wait") == 0) {
			opt_wait = 1;
			continue;
		}
		if (strcmp(argv[i], "--over") == 0)
			over = 1;
		argv[n++] = argv[i];
	}
	if (opt_wait && (strcmp(argv[0], "scale") != 0 || !over)) {
		fprintf(stderr, "loadctl: --wait follows a ramp: scale [LOAD] "
		    "COUNT --over DURATION --wait\n");
		return -1;
	}
	return n;
}

/* Where our ramp is, by a status reply; why it went on RAMP_CUT. */
static enum ramp_state
ramp_check(struct ramp_follow *rf, json_t *st, json_t **lp, char *why,
    size_t len)
{
	json_t		*l = NULL, *p, *ramp;
	const char	*state;
	size_t		 i;
	double		 now = now_mono(), d;

	json_array_foreach(json_object_get(st, "loads"), i, p) {
		if (strcmp(gets_(p, "name"), rf->name) == 0) {
			l = p;
			break;
		}
	}
	if ((*lp = l) == NULL) {
		snprintf(why, len, "a reload removed load %s", rf->name);
		return RAMP_CUT;
	}
	if (json_object_get(l, "id") != NULL) {
		if (!rf->have_id) {
			rf->id = geti(l, "id");
			rf->have_id = true;
		} else if (geti(l, "id") != rf->id) {
			snprintf(why, len, "a reload restarted load %s (its "
			    "declaration changed); it wants %lld connections "
			    "now", rf->name, (long long)geti(l, KEY_TARGET));
			return RAMP_CUT;
		}
	}
	state = gets_(l, "state");
	if (strcmp(state, "stopped") == 0) {
		snprintf(why, len, "load %s was stopped, at %lld connections",
		    rf->name, (long long)geti(l, "connections_scale"));
		return RAMP_CUT;
	}
	if (strcmp(state, "running") != 0) {
		snprintf(why, len, "load %s is %s%s", rf->name, state,
		    strcmp(state, "finished") == 0 ? " (its duration ran out)" :
		    "");
		return RAMP_CUT;
	}
	if ((ramp = json_object_get(l, "ramp")) != NULL) {
		d = now + json_number_value(json_object_get(ramp,
		    "remaining_s")) - rf->end;
		if (geti(ramp, "from") == rf->from &&
		    geti(ramp, "to") == rf->to && d < RAMP_SLACK &&
		    d > -RAMP_SLACK)
			return RAMP_ON;
		snprintf(why, len, "a new scale --over replaced it: load %s "
		    "ramps %lld -> %lld now", rf->name,
		    (long long)geti(ramp, "from"), (long long)geti(ramp, "to"));
		return RAMP_CUT;
	}
	if (geti(l, "connections_scale") == rf->to &&
	    now >= rf->end - RAMP_SLACK)
		return RAMP_DONE;
	snprintf(why, len, "a new scale set load %s to %lld connections",
	    rf->name, (long long)geti(l, "connections_scale"));
	return RAMP_CUT;
}

/*
 * The ramp's progress: on a terminal a bar redrawn in place ("\r", the
 * rest of the line cleared), else a line (the caller says when).
 */
static void
ramp_draw(const struct ramp_follow *rf, json_t *l, bool tty)
{
	json_t		*ramp = json_object_get(l, "ramp");
	long long	 n = (long long)geti(l, "connections_scale");
	double		 frac;
	char		 conns[96], bar[31];
	int		 w = (int)sizeof(bar) - 1, fill;

	if (rf->to != rf->from)
		frac = (double)(n - rf->from) / (double)(rf->to - rf->from);
	else if (ramp != NULL && rf->over > 0)
		frac = 1 - json_number_value(json_object_get(ramp,
		    "remaining_s")) / rf->over;
	else
		frac = 1;
	if (frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;
	fmt_conns(l, conns, sizeof(conns));
	if (!tty) {
		printf("%s: %s, %.0f%%\n", rf->name, conns, frac * 100);
		fflush(stdout);		/* a log or a pipe reads it now */
		return;
	}
	fill = (int)(frac * w + 0.5);
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '-', (size_t)(w - fill));
	bar[w] = '\0';
	printf("\r%s: [%s] %3.0f%%  %s\033[K", rf->name, bar, frac * 100,
	    conns);
	fflush(stdout);
}

/*
 * Follow the ramp that the reply to scale --over began until it ends:
 * 0 when it completes, 1 when something cut it (said on standard error),
 * 3 when the daemon went away, 130 on Ctrl-C (the ramp goes on).
 */
static int
scale_wait(int fd, const char *reply)
{
	struct sigaction	 sa;
	struct ramp_follow	 rf = { 0 };
	json_t			*o = json_loads(reply, 0, NULL), *ramp, *st, *l;
	bool			 tty = isatty(STDOUT_FILENO) && !opt_json;
	bool			 show = !opt_json, drawn = false;
	double			 t0 = now_mono(), next_line = t0, deadline;
	char			*line, why[256], a[32];
	int			 rc = EXIT_OK;
	enum ramp_state		 rs = RAMP_ON;

	if (o == NULL || (ramp = json_object_get(o, "ramp")) == NULL) {
		json_decref(o);
		return EXIT_OK;		/* set at once: nothing to follow */
	}
	rf.name = xasprintf("%s", gets_(o, "load"));
	rf.from = (long long)geti(ramp, "from");
	rf.to = (long long)geti(ramp, "to");
	rf.over = json_number_value(json_object_get(ramp, "over_s"));
	rf.end = t0 + json_number_value(json_object_get(ramp, "remaining_s"));
	deadline = rf.end + RAMP_MARGIN;
	json_decref(o);
	fflush(stdout);			/* the reply, before the wait */

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (rs == RAMP_ON) {
		struct timespec ts = { 0, RAMP_POLL_MS * 1000 * 1000 };

		if (!interrupted)
			nanosleep(&ts, NULL);
		if (interrupted)
			break;
		ctl_write(fd, "status\n", 7);
		switch (ctl_readline(fd, reply_timeout_ms, &line)) {
		case CTL_LINE:
			break;
		case CTL_INTERRUPTED:
			continue;
		case CTL_EOF:
		case CTL_BROKEN:
			if (drawn && tty)
				printf("\n");
			fprintf(stderr, "loadctl: scale: loadd went away (it "
			    "shut down or restarted): the ramp of %s ended "
			    "with it\n", rf.name);
			free(rf.name);
			return EXIT_UNREACHABLE;
		}
		st = json_loads(line, 0, NULL);
		free(line);
		if (st == NULL || !json_is_true(json_object_get(st, "ok"))) {
			fprintf(stderr, "loadctl: scale: status: %s\n",
			    st ? gets_(st, "error") : "reply is not JSON");
			json_decref(st);
			free(rf.name);
			return EXIT_UNREACHABLE;
		}
		rs = ramp_check(&rf, st, &l, why, sizeof(why));
		if (rs == RAMP_ON && now_mono() > deadline) {
			snprintf(why, sizeof(why), "it did not end within its "
			    "%s and %.0fs more", fmt_secs(rf.over, true, a,
			    sizeof(a)), RAMP_MARGIN);
			rs = RAMP_CUT;
		}
		if (show && rs == RAMP_ON && (tty || now_mono() >= next_line)) {
			ramp_draw(&rf, l, tty);
			drawn = true;
			next_line = now_mono() + 1;
		}
		if (show && rs == RAMP_DONE)
			printf("%s%s: ramp %lld -> %lld over %.1fs done, "
			    "%lld/%lld connections up%s\n", tty ? "\r" : "",
			    rf.name, rf.from, rf.to, rf.over, gauge(l, KG_active),
			    (long long)geti(l, KEY_TARGET), tty ? "\033[K" : "");
		json_decref(st);
	}
	if (drawn && tty && rs != RAMP_DONE)
		printf("\n");
	if (interrupted) {
		fprintf(stderr, "loadctl: scale: no longer waiting; the ramp of "
		    "%s goes on\n", rf.name);
		rc = 130;
	} else if (rs == RAMP_CUT) {
		fprintf(stderr, "loadctl: scale: the ramp of %s was "
		    "interrupted: %s\n", rf.name, why);
		rc = EXIT_REFUSED;
	}
	free(rf.name);
	return rc;
}

/* ------------------------------------------------------------- options */

/* loadctl's own options, for getopt and for args_order. */
#define LOADCTL_OPTS	"F:hjs:t:V"

enum { OPT_LIST_COMMANDS = 256, OPT_HOSTS, OPT_ON_LOSS };

/* args_wants_value reads which take a value. */
static const struct option loadctl_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "fleet", required_argument, NULL, 'F' },
	{ "hosts", no_argument, NULL, OPT_HOSTS },
	{ "on-loss", required_argument, NULL, OPT_ON_LOSS },
	/* For the bash completion (completion/loadctl.bash), not for people. */
	{ "list-commands", no_argument, NULL, OPT_LIST_COMMANDS },
	{ NULL, 0, NULL, 0 },
};

/*
 * What the bash completion needs of the command table, one command a line:
 * its name, what its arguments are (none, command, load, load-count,
 * load-rate, or files for report) and its own options.
 */
static void
list_commands(void)
{
	static const char *const kind[] = {
		[ARGS_NONE] = "none",
		[ARGS_LOAD_OPT] = "load",
		[ARGS_LOAD_COUNT] = "load-count",
		[ARGS_LOAD_RATE] = "load-rate",
		[ARGS_WORD_OPT] = "command",
	};

	for (size_t i = 0; i < CMD_MAX; i++)
		printf("%s %s%s%s\n", cmd_table[i].name,
		    kind[cmd_table[i].args], cmd_table[i].options[0] ? " " : "",
		    cmd_table[i].options);
	printf("report files -o -l -t -h\n");
	printf("proxy none\n");
}

/*
 * start --at +DURATION is loadctl's: the time is made absolute here, by
 * this host's clock, before the request is parsed, so that the daemon
 * (and each daemon of a fleet) is sent one time in unix seconds.  0, or
 * -1 after saying why not.
 */
static int
at_absolute(int argc, char *argv[])
{
	static char	 at[48];
	const char	*why = NULL;
	double		 d;

	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--at") != 0 || argv[i + 1][0] != '+')
			continue;
		if (parse_duration(argv[i + 1] + 1, &d, &why) == -1) {
			fprintf(stderr, "loadctl: bad start time \"%.32s\": %s "
			    "(+DURATION, or unix seconds)\n", argv[i + 1], why);
			return -1;
		}
		if (!(d <= START_AT_AHEAD)) {
			fprintf(stderr, "loadctl: bad start time \"%.32s\": "
			    "more than 24h ahead\n", argv[i + 1]);
			return -1;
		}
		snprintf(at, sizeof(at), "%.6f", now_wall() + d);
		argv[i + 1] = at;
	}
	return 0;
}

/*
 * A request of protocol 2 (histogram, start --at) was refused: if the
 * daemon is older, say so, rather than leave its "unknown command" or
 * "usage" to puzzle over.  Asks `version` on the same connection.
 */
static void
protocol_hint(int fd, const struct request *req)
{
	json_t		*o;
	char		*line;
	json_int_t	 proto;

	if (req->cmd->id != CMD_HISTOGRAM && req->at == 0)
		return;
	ctl_write(fd, "version\n", 8);
	if (ctl_readline(fd, reply_timeout_ms, &line) != CTL_LINE)
		return;
	o = json_loads(line, 0, NULL);
	free(line);
	proto = geti(o, "protocol");
	if (json_is_true(json_object_get(o, "ok")) && proto < LOADD_PROTOCOL)
		fprintf(stderr, "loadctl: loadd %s speaks control protocol "
		    "%lld; %s needs protocol %d (a newer loadd)\n",
		    gets_(o, "version"), (long long)proto, req->at > 0 ?
		    "start --at" : req->cmd->name, LOADD_PROTOCOL);
	json_decref(o);
}

/* The reordered argv, kept for the life of the process. */
static char	**args_ordered;

/* Whether loadctl option word w (a cluster such as -js) takes the next. */
static bool
args_wants_value(const char *w)
{
	const char	*o;

	if (w[1] == '-') {
		/* A long option: "--on-loss X" takes X; "--on-loss=X" not. */
		for (const struct option *lo = loadctl_longopts;
		    lo->name != NULL; lo++)
			if (strcmp(w + 2, lo->name) == 0)
				return lo->has_arg == required_argument;
		return false;
	}
	for (w++; *w != '\0'; w++) {
		if (*w != ':' && (o = strchr(LOADCTL_OPTS, *w)) != NULL &&
		    o[1] == ':')
			return w[1] == '\0';
	}
	return false;
}

/*
 * Options may come before or after the command, as with git or kubectl:
 * make a new argv with loadctl's options first, then "--", then the
 * command and its arguments in order, for getopt to read without
 * guessing.  Left as arguments: all after "--"; "--over DURATION",
 * "--lease DURATION" and "--at TIME", which are part of the request;
 * words like negative numbers, for the request parser to explain; and
 * everything after "report", whose options are its own.
 */
static char **
args_order(int argc, char *argv[], int *nargc)
{
	char	**opts = xcalloc((size_t)argc + 2, sizeof(char *));
	char	**words = xcalloc((size_t)argc + 1, sizeof(char *));
	int	 no = 0, nw = 0, i;

	opts[no++] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (nw > 0 && strcmp(words[0], "report") == 0)
			break;
		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (w[0] != '-' || w[1] == '\0' ||
		    (nw > 0 && w[1] >= '0' && w[1] <= '9')) {
			words[nw++] = argv[i];
			continue;
		}
		if (nw > 0 && strcmp(w, "--wait") == 0) {
			words[nw++] = argv[i];	/* scale's: scale_wait_take */
			continue;
		}
		if (nw > 0 && (strcmp(w, "--over") == 0 ||
		    strcmp(w, "--lease") == 0 || strcmp(w, "--at") == 0)) {
			words[nw++] = argv[i];
			if (i + 1 < argc)
				words[nw++] = argv[++i];
			continue;
		}
		opts[no++] = argv[i];
		if (!args_wants_value(w))
			continue;
		if (i + 1 == argc) {
			/* Else getopt would take our "--" for the value. */
			fprintf(stderr, "loadctl: option %s needs a value\n", w);
			usage(stderr);
			exit(EXIT_USAGE);
		}
		opts[no++] = argv[++i];
	}
	for (; i < argc; i++)
		words[nw++] = argv[i];
	opts[no++] = (char *)(uintptr_t)"--";
	memcpy(opts + no, words, (size_t)nw * sizeof(char *));
	free(words);
	*nargc = no + nw;
	opts[*nargc] = NULL;
	return opts;
}

int
main(int argc, char *argv[])
{
	const char	*path = getenv("LOADD_SOCKET");
	char		 line[CONTROL_LINE_MAX + 2], err[512], *reply;
	struct request	 req;
	size_t		 off = 0;
	uint64_t	 t;
	const char	*why = NULL;
	struct fleet_opts fopts = { 0 };
	int		 ch, fd, rc;

	log_init(LOG_LEVEL_INFO, "loadctl");
	/* A daemon that refuses us may close before reading: keep the reply. */
	signal(SIGPIPE, SIG_IGN);
	argv = args_ordered = args_order(argc, argv, &argc);
	while ((ch = getopt_long(argc, argv, "+" LOADCTL_OPTS,
	    loadctl_longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			opt_json = 1;
			break;
		case 'F':
			fopts.path = optarg;
			break;
		case OPT_HOSTS:
			fopts.per_host = true;
			break;
		case OPT_ON_LOSS:
			fopts.on_loss = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 't':
			if (parse_u64(optarg, 3600, &t, &why) == -1)
				;
			else if (t == 0)
				why = "must be above 0";
			else
				why = NULL;
			if (why != NULL) {
				fprintf(stderr, "loadctl: -t %s: %s\n", optarg,
				    why);
				return EXIT_USAGE;
			}
			reply_timeout_ms = (int)t * 1000;
			timeout_given = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("loadctl %s (control protocol %d)\n",
			    LOADD_VERSION, LOADD_PROTOCOL);
			return EXIT_OK;
		case OPT_LIST_COMMANDS:
			list_commands();
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (path == NULL || *path == '\0')
		path = LOADD_SOCKET_DEFAULT;
	if (fopts.path != NULL) {
		if (strcmp(argv[0], "report") == 0 ||
		    strcmp(argv[0], "proxy") == 0) {
			fprintf(stderr, "loadctl: %s is local: not with -F\n",
			    argv[0]);
			return EXIT_USAGE;
		}
		fopts.json = opt_json;
		fopts.reply_timeout_ms = timeout_given ? reply_timeout_ms : 0;
		return fleet_main(&fopts, argc, argv);
	}
	if (fopts.per_host || fopts.on_loss != NULL) {
		fprintf(stderr, "loadctl: --hosts and --on-loss are for -F "
		    "FLEET\n");
		return EXIT_USAGE;
	}
	/* Local: draws a results log, talks to no daemon. */
	if (strcmp(argv[0], "report") == 0)
		return report_main(argc, argv);
	if (strcmp(argv[0], "proxy") == 0) {
		if (argc > 1) {
			fprintf(stderr, "loadctl: proxy takes no arguments\n");
			return EXIT_USAGE;
		}
		return proxy_main(path);
	}
	if ((argc = scale_wait_take(argc, argv)) == -1 ||
	    at_absolute(argc, argv) == -1)
		return EXIT_USAGE;

	for (int i = 0; i < argc; i++) {
		int n = snprintf(line + off, sizeof(line) - off, "%s%s",
		    i ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(line) - off) {
			fprintf(stderr, "loadctl: request too long\n");
			return EXIT_USAGE;
		}
		off += (size_t)n;
	}
	/* The same parser as the daemon's: usage errors never leave. */
	if (request_parse(line, off, &req, err, sizeof(err)) == -1) {
		fprintf(stderr, "loadctl: %s\n", err);
		return EXIT_USAGE;
	}

	fd = ctl_connect(path);
	line[off++] = '\n';
	ctl_write(fd, line, off);
	if (req.cmd->id == CMD_WATCH)
		return watch(fd, path);
	if (req.cmd->id == CMD_WAIT)
		return wait_load(fd, line, off);
	if (ctl_readline(fd, reply_timeout_ms, &reply) != CTL_LINE) {
		fprintf(stderr, "loadctl: the daemon closed the connection "
		    "without a reply\n");
		return EXIT_UNREACHABLE;
	}
	rc = print_reply(&req, reply);
	if (rc == EXIT_REFUSED)
		protocol_hint(fd, &req);
	if (rc == EXIT_OK && opt_wait)
		rc = scale_wait(fd, reply);
	free(reply);
	close(fd);
	return rc;
}
