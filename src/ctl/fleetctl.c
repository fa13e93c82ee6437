/* SPDX-License-Identifier: ISC */
/*
 * fleetctl.c -- `loadctl -F FLEET COMMAND`: one command for every daemon
 * of a fleet file.  Each host is reached over `ssh HOST loadctl -s SOCKET
 * proxy` (one ssh connection per host for the whole command, multiplexed
 * across commands by ControlMaster), or through its socket when the host
 * has no ssh destination.  loadctl only splits and merges: a total of
 * connections is split into exact integer shares (fleet.c), counters are
 * summed, latency is merged by adding histogram buckets and percentiles
 * are read from the sum, never averaged.  Every change carries a lease
 * that `watch` renews while it runs, so a controller that dies leaves no
 * load behind.
 *
 * The requests to the hosts go out together and their replies are read
 * together, with one deadline, so a fleet command takes the time of its
 * slowest host, not the sum.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
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
#include "common/util.h"
#include "common/summary_view.h"
#include "measure/counters.h"
#include "measure/hist.h"
#include "fleet.h"
#include "fleetctl.h"
#include "loadctl.h"

/* The oldest daemon a fleet can steer: `histogram` and `start --at`. */
#define FLEET_PROTOCOL_MIN	2
/* What a host may send in one reply. */
#define FLEET_REPLY_MAX		(4u << 20)
/* A fleet start with no --at begins this long after the hosts are armed. */
#define FLEET_START_DELAY	2.0

/* One host: its ssh (or socket) and the reply being read. */
struct fh {
	const struct fleet_host	*h;
	pid_t		 pid;		/* ssh, or 0 */
	int		 fd;		/* to the proxy or the socket; -1 down */
	int		 errfd;		/* ssh's standard error, or -1 */
	char		 err[512];	/* its last words */
	size_t		 errlen;
	char		*buf;
	size_t		 have, cap;
	bool		 waiting;	/* a request is out */
	bool		 lost;		/* down during watch, or from its start */
	bool		 said;		/* its being down was reported */
	char		 why[600];	/* why it is down */
	json_t		*reply;		/* the last reply (ok or not) */
	double		 sent_mono, sent_wall;
	double		 offset;	/* its clock minus ours, s */
	double		 rtt;
	char		 version[32];
	long long	 protocol;
};

struct fx {
	const struct fleet_opts	*o;
	struct fleet	 f;
	struct fh	*hs;
	size_t		 n;
	double		 reply_timeout;
	enum fleet_on_loss on_loss;
	const char	*remote_loadctl;
};

static volatile sig_atomic_t fleet_interrupted;

static void
fleet_sig(int sig)
{
	(void)sig;
	fleet_interrupted = 1;
}

static bool
fh_up(const struct fh *fh)
{
	return fh->fd != -1;
}

/* Keep what ssh says on standard error: it explains a failure. */
static void
fh_drain_err(struct fh *fh)
{
	char	 tmp[512];
	ssize_t	 n;

	if (fh->errfd == -1)
		return;
	while ((n = read(fh->errfd, tmp, sizeof(tmp))) > 0) {
		size_t k = (size_t)n;

		/* Keep the last sizeof(err) - 1 bytes. */
		if (k >= sizeof(fh->err) - 1) {
			memcpy(fh->err, tmp + k - (sizeof(fh->err) - 1),
			    sizeof(fh->err) - 1);
			fh->errlen = sizeof(fh->err) - 1;
		} else {
			if (fh->errlen + k > sizeof(fh->err) - 1) {
				size_t drop = fh->errlen + k -
				    (sizeof(fh->err) - 1);

				memmove(fh->err, fh->err + drop,
				    fh->errlen - drop);
				fh->errlen -= drop;
			}
			memcpy(fh->err + fh->errlen, tmp, k);
			fh->errlen += k;
		}
	}
	if (n == 0) {
		close(fh->errfd);
		fh->errfd = -1;
	}
}

/* ssh's last line on standard error, printable, or "". */
static const char *
fh_last_words(struct fh *fh, char *buf, size_t len)
{
	size_t	 end = fh->errlen, start, j = 0;

	fh_drain_err(fh);
	end = fh->errlen;
	while (end > 0 && (fh->err[end - 1] == '\n' ||
	    fh->err[end - 1] == '\r'))
		end--;
	start = end;
	while (start > 0 && fh->err[start - 1] != '\n')
		start--;
	for (size_t i = start; i < end && j + 1 < len; i++)
		buf[j++] = isprint((unsigned char)fh->err[i]) ? fh->err[i] :
		    '?';
	buf[j] = '\0';
	return buf;
}

/* The host is down: say why, close, and let its ssh go. */
static void
fh_down(struct fh *fh, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
fh_down(struct fh *fh, const char *fmt, ...)
{
	va_list	 ap;
	char	 words[256];
	size_t	 n;

	if (fh->pid > 0)
		(void)kill(fh->pid, SIGTERM);
	va_start(ap, fmt);
	vsnprintf(fh->why, sizeof(fh->why), fmt, ap);
	va_end(ap);
	if (fh->pid > 0) {
		/* A moment for ssh to say why it ended. */
		struct pollfd p = { .fd = fh->errfd, .events = POLLIN };

		if (fh->errfd != -1)
			(void)poll(&p, 1, 200);
		fh_last_words(fh, words, sizeof(words));
		n = strlen(fh->why);
		if (words[0] != '\0' && n < sizeof(fh->why))
			snprintf(fh->why + n, sizeof(fh->why) - n, " (%s)",
			    words);
		(void)waitpid(fh->pid, NULL, 0);
		fh->pid = 0;
	}
	if (fh->fd != -1)
		close(fh->fd);
	if (fh->errfd != -1)
		close(fh->errfd);
	fh->fd = fh->errfd = -1;
	fh->waiting = false;
	fh->have = 0;
	json_decref(fh->reply);
	fh->reply = NULL;
}

/* Start the host's ssh (or connect its socket); false if it cannot be. */
static bool
fh_open(struct fx *x, struct fh *fh)
{
	int	 sv[2], ep[2];
	char	**argv;
	pid_t	 pid;

	fh->fd = fh->errfd = -1;
	fh->errlen = 0;
	fh->have = 0;
	fh->why[0] = '\0';
	fh->said = false;
	if (fh->h->dest == NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
		    fh->h->socket) >= sizeof(sun.sun_path)) {
			snprintf(fh->why, sizeof(fh->why), "socket path too "
			    "long: %s", fh->h->socket);
			return false;
		}
		if ((fh->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1 || connect(fh->fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == -1) {
			int e = errno;

			fh_down(fh, "cannot reach loadd at %s: %s",
			    fh->h->socket, strerror(e));
			return false;
		}
		return true;
	}
	if ((argv = fleet_ssh_argv(&x->f, fh->h, x->remote_loadctl)) ==
	    NULL) {
		snprintf(fh->why, sizeof(fh->why), "cannot build its ssh "
		    "command");
		return false;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(ep, O_CLOEXEC) == -1) {
		snprintf(fh->why, sizeof(fh->why), "socketpair: %s",
		    strerror(errno));
		fleet_argv_free(argv);
		return false;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		snprintf(fh->why, sizeof(fh->why), "fork: %s",
		    strerror(errno));
		close(sv[0]), close(sv[1]), close(ep[0]), close(ep[1]);
		fleet_argv_free(argv);
		return false;
	}
	if (pid == 0) {
		/* Its own process group: the terminal's ^C is ours to act on. */
		(void)setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], STDIN_FILENO) == -1 ||
		    dup2(sv[1], STDOUT_FILENO) == -1 ||
		    dup2(ep[1], STDERR_FILENO) == -1)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	fleet_argv_free(argv);
	close(sv[1]);
	close(ep[1]);
	fh->pid = pid;
	fh->fd = sv[0];
	fh->errfd = ep[0];
	(void)fcntl(fh->errfd, F_SETFL, O_NONBLOCK);
	return true;
}

/* Send one request line (without '\n') to an up host. */
static void
fh_send(struct fh *fh, const char *line)
{
	size_t	 len = strlen(line);
	char	*buf = xmalloc(len + 1);
	size_t	 off = 0;

	memcpy(buf, line, len);
	buf[len++] = '\n';
	while (off < len) {
		ssize_t n = write(fh->fd, buf + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;

			free(buf);
			fh_down(fh, "the connection broke: %s", strerror(e));
			return;
		}
		off += (size_t)n;
	}
	free(buf);
	fh->waiting = true;
	fh->sent_mono = now_mono();
	fh->sent_wall = now_wall();
	json_decref(fh->reply);
	fh->reply = NULL;
}

/* A whole line in the buffer becomes the reply; false if none yet. */
static bool
fh_take_line(struct fh *fh)
{
	char		*nl = memchr(fh->buf, '\n', fh->have);
	size_t		 len, j = 0;
	json_error_t	 jerr;
	char		 shown[64];

	if (nl == NULL)
		return false;
	len = (size_t)(nl - fh->buf);
	*nl = '\0';
	fh->reply = json_loads(fh->buf, 0, &jerr);
	if (fh->reply == NULL || !json_is_object(fh->reply) ||
	    !json_is_boolean(json_object_get(fh->reply, "ok"))) {
		for (size_t i = 0; i < len && j + 1 < sizeof(shown); i++)
			shown[j++] = isprint((unsigned char)fh->buf[i]) ?
			    fh->buf[i] : '?';
		shown[j] = '\0';
		fh_down(fh, "answered something that is not a loadd reply: "
		    "\"%s\"%s", shown, len > j ? "..." : "");
		return true;
	}
	memmove(fh->buf, nl + 1, fh->have - len - 1);
	fh->have -= len + 1;
	fh->waiting = false;
	fh->rtt = now_mono() - fh->sent_mono;
	/* Its clock against ours, at the middle of the round trip. */
	if (json_is_number(json_object_get(fh->reply, "time")))
		fh->offset = json_number_value(json_object_get(fh->reply,
		    "time")) - (fh->sent_wall + fh->rtt / 2);
	return true;
}

/* Read every waiting host's reply, until the deadline (monotonic s). */
static void
fx_collect(struct fx *x, double deadline)
{
	struct pollfd	*pfd = xcalloc(2 * x->n, sizeof(*pfd));
	size_t		*who = xcalloc(2 * x->n, sizeof(*who));

	for (;;) {
		size_t	 np = 0;
		double	 left = deadline - now_mono();
		int	 rc;

		for (size_t i = 0; i < x->n; i++) {
			struct fh *fh = &x->hs[i];

			if (!fh_up(fh) || !fh->waiting)
				continue;
			pfd[np] = (struct pollfd){ .fd = fh->fd,
			    .events = POLLIN };
			who[np++] = i;
			if (fh->errfd != -1) {
				pfd[np] = (struct pollfd){ .fd = fh->errfd,
				    .events = POLLIN };
				who[np++] = i;
			}
		}
		if (np == 0 || fleet_interrupted)
			break;
		if (left <= 0) {
			for (size_t k = 0; k < np; k++) {
				struct fh *fh = &x->hs[who[k]];

				if (fh_up(fh) && fh->waiting)
					fh_down(fh, "no reply within %.0f s",
					    x->reply_timeout);
			}
			break;
		}
		rc = poll(pfd, np, (int)(left * 1000) + 1);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			break;
		for (size_t k = 0; k < np; k++) {
			struct fh	*fh = &x->hs[who[k]];
			ssize_t		 n;

			if (pfd[k].revents == 0 || !fh_up(fh))
				continue;
			if (pfd[k].fd == fh->errfd) {
				fh_drain_err(fh);
				continue;
			}
			if (fh->cap - fh->have < 65536) {
				if (fh->cap >= FLEET_REPLY_MAX) {
					fh_down(fh, "a reply longer than %u "
					    "bytes", FLEET_REPLY_MAX);
					continue;
				}
				char *nb;

				fh->cap = fh->cap ? fh->cap * 2 : 131072;
				if ((nb = realloc(fh->buf, fh->cap)) == NULL) {
					fh_down(fh, "out of memory");
					continue;
				}
				fh->buf = nb;
			}
			n = read(fh->fd, fh->buf + fh->have,
			    fh->cap - fh->have - 1);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				fh_down(fh, "%s", n == 0 ? "the connection "
				    "closed without a reply" : strerror(errno));
				continue;
			}
			fh->have += (size_t)n;
			(void)fh_take_line(fh);
		}
	}
	free(pfd);
	free(who);
}

/*
 * Ask every up host: line(i) for host i, or NULL to skip it.  Replies in
 * hs[i].reply; a host that does not answer in time is down.
 */
static void
fx_ask(struct fx *x, const char *(*line)(struct fx *, size_t, void *),
    void *arg)
{
	for (size_t i = 0; i < x->n; i++) {
		const char *l;

		json_decref(x->hs[i].reply);
		x->hs[i].reply = NULL;
		if (!fh_up(&x->hs[i]) || (l = line(x, i, arg)) == NULL)
			continue;
		fh_send(&x->hs[i], l);
	}
	fx_collect(x, now_mono() + x->reply_timeout);
}

static const char *
line_same(struct fx *x, size_t i, void *arg)
{
	(void)x, (void)i;
	return arg;
}

static void
fx_ask_all(struct fx *x, const char *line)
{
	fx_ask(x, line_same, (void *)(uintptr_t)line);
}

/* Reach every host and check that it speaks our protocol. */
static void
fx_open(struct fx *x)
{
	for (size_t i = 0; i < x->n; i++)
		if (fh_open(x, &x->hs[i]))
			fh_send(&x->hs[i], "version");
	/* A new ssh connection has connect_timeout to come up. */
	fx_collect(x, now_mono() + x->f.connect_timeout_s + x->reply_timeout);
	for (size_t i = 0; i < x->n; i++) {
		struct fh *fh = &x->hs[i];

		if (!fh_up(fh) || fh->reply == NULL)
			continue;
		snprintf(fh->version, sizeof(fh->version), "%s",
		    json_string_value(json_object_get(fh->reply, "version")) ?
		    json_string_value(json_object_get(fh->reply, "version")) :
		    "?");
		fh->protocol = (long long)json_integer_value(
		    json_object_get(fh->reply, "protocol"));
		if (!json_is_true(json_object_get(fh->reply, "ok")))
			fh_down(fh, "refused version: %s", json_string_value(
			    json_object_get(fh->reply, "error")));
		else if (fh->protocol < FLEET_PROTOCOL_MIN)
			fh_down(fh, "its loadd %s speaks control protocol %lld; "
			    "loadctl -F needs %d or later: upgrade loadd there",
			    fh->version, fh->protocol, FLEET_PROTOCOL_MIN);
	}
}

static void
fx_close(struct fx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct fh *fh = &x->hs[i];

		if (fh->fd != -1)
			close(fh->fd);
		fh->fd = -1;
		if (fh->pid > 0) {
			/* The end of its input ends the proxy and ssh. */
			struct timespec nap = { 0, 10 * 1000000 };

			for (int k = 0; k < 300 &&
			    waitpid(fh->pid, NULL, WNOHANG) == 0; k++)
				nanosleep(&nap, NULL);
			if (kill(fh->pid, 0) == 0) {
				(void)kill(fh->pid, SIGTERM);
				(void)waitpid(fh->pid, NULL, 0);
			}
		}
		if (fh->errfd != -1)
			close(fh->errfd);
		json_decref(fh->reply);
		free(fh->buf);
	}
	free(x->hs);
	fleet_free(&x->f);
}

static size_t
fx_up(const struct fx *x)
{
	size_t	 n = 0;

	for (size_t i = 0; i < x->n; i++)
		n += fh_up(&x->hs[i]);
	return n;
}

/* Every down host, on standard error. */
static void
fx_report_down(const struct fx *x)
{
	for (size_t i = 0; i < x->n; i++)
		if (!fh_up(&x->hs[i]) && !x->hs[i].said) {
			fprintf(stderr, "loadctl: host %s: %s\n",
			    x->hs[i].h->name, x->hs[i].why);
			x->hs[i].said = true;
		}
}

/* ------------------------------------------------------------ merging */

static json_t *
jget(json_t *o, const char *k)
{
	return json_object_get(o, k);
}

static void
sum_int(json_t *dst, json_t *src, const char *k)
{
	json_t	*a = jget(dst, k), *b = jget(src, k);

	if (!json_is_integer(b))
		return;
	json_object_set_new(dst, k, json_integer((json_is_integer(a) ?
	    json_integer_value(a) : 0) + json_integer_value(b)));
}

static void
sum_num(json_t *dst, json_t *src, const char *k)
{
	json_t	*a = jget(dst, k), *b = jget(src, k);

	if (!json_is_number(b))
		return;
	/* The daemon's rates are whole numbers; kept so for the printers. */
	if (json_is_integer(b) && (a == NULL || json_is_integer(a)))
		json_object_set_new(dst, k, json_integer((a != NULL ?
		    json_integer_value(a) : 0) + json_integer_value(b)));
	else
		json_object_set_new(dst, k, json_real((json_is_number(a) ?
		    json_number_value(a) : 0) + json_number_value(b)));
}

/* Add src's counters, gauges, rates and errors into dst. */
static void
sum_counters(json_t *dst, json_t *src)
{
	json_t		*de = jget(dst, KEY_ERRORS), *se = jget(src, KEY_ERRORS);

	for (int k = 0; k < KC_MAX; k++) {
		sum_int(dst, src, key_counters[k].key);
		if (key_counters[k].rate_key != NULL)
			sum_num(dst, src, key_counters[k].rate_key);
	}
	for (int k = 0; k < KG_MAX; k++)
		sum_int(dst, src, key_gauges[k].key);
	sum_int(dst, src, KEY_TARGET);
	sum_int(dst, src, "connections_scale");
	if (json_is_object(de) && json_is_object(se))
		for (int k = 0; k < KEY_ERR_KINDS; k++)
			sum_int(de, se, key_err_kinds[k]);
}

/* A counter-only copy: what sum_counters adds, zeroed, and no more. */
static json_t *
zero_counters(json_t *like)
{
	json_t		*o = json_object(), *e = json_object();

	for (int k = 0; k < KC_MAX; k++) {
		json_object_set_new(o, key_counters[k].key, json_integer(0));
		if (key_counters[k].rate_key != NULL)
			json_object_set_new(o, key_counters[k].rate_key,
			    json_integer(0));
	}
	for (int k = 0; k < KG_MAX; k++)
		json_object_set_new(o, key_gauges[k].key, json_integer(0));
	json_object_set_new(o, KEY_TARGET, json_integer(0));
	if (jget(like, "connections_scale") != NULL)
		json_object_set_new(o, "connections_scale", json_integer(0));
	for (int k = 0; k < KEY_ERR_KINDS; k++)
		json_object_set_new(e, key_err_kinds[k], json_integer(0));
	json_object_set_new(o, KEY_ERRORS, e);
	return o;
}

/* Host i's load named name in its last reply, or NULL. */
static json_t *
fh_load(struct fh *fh, const char *name)
{
	json_t	*l;
	size_t	 k;

	if (fh->reply == NULL)
		return NULL;
	json_array_foreach(jget(fh->reply, "loads"), k, l)
		if (strcmp(json_string_value(jget(l, "name")) ?
		    json_string_value(jget(l, "name")) : "", name) == 0)
			return l;
	return NULL;
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(jget(o, k));

	return s != NULL ? s : "";
}

/*
 * The loads of every up host's reply, merged by name (in the order of
 * their first appearance): counters summed, the descriptive fields of the
 * first host that has it, the state "mixed" where hosts differ; plus a
 * "hosts" count.  Per-host detail (targets' counters, sources, epochs,
 * leases and ramps) is dropped: it is in --hosts.
 */
static json_t *
merge_loads(struct fx *x)
{
	json_t	*out = json_array(), *l, *m;
	size_t	 k, j;

	for (size_t i = 0; i < x->n; i++) {
		struct fh *fh = &x->hs[i];

		if (!fh_up(fh) || fh->reply == NULL ||
		    !json_is_true(jget(fh->reply, "ok")))
			continue;
		json_array_foreach(jget(fh->reply, "loads"), k, l) {
			const char *name = jstr(l, "name");

			m = NULL;
			json_array_foreach(out, j, m)
				if (strcmp(jstr(m, "name"), name) == 0)
					break;
			if (j == json_array_size(out)) {
				m = json_deep_copy(l);
				json_object_del(m, "sources");
				json_object_del(m, "lease");
				json_object_del(m, "ramp");
				json_object_del(m, "targets");
				json_object_del(m, "started_at");
				json_object_del(m, "starts_at");
				json_object_set_new(m, "hosts",
				    json_integer(1));
				json_array_append_new(out, m);
				continue;
			}
			sum_counters(m, l);
			json_object_set_new(m, "hosts", json_integer(
			    json_integer_value(jget(m, "hosts")) + 1));
			if (strcmp(jstr(m, "state"), jstr(l, "state")) != 0)
				json_object_set_new(m, "state",
				    json_string("mixed"));
		}
	}
	return out;
}

/* The merged total: every load's counters. */
static json_t *
merge_total(json_t *loads)
{
	json_t	*t = NULL, *l;
	size_t	 k;

	json_array_foreach(loads, k, l) {
		if (t == NULL)
			t = zero_counters(l);
		sum_counters(t, l);
	}
	return t != NULL ? t : zero_counters(NULL);
}

/* Percentiles of a merged histogram, as the daemon writes them (us). */
static json_t *
hist_json(const struct hist *h)
{
	json_t	*o = json_object();

	json_object_set_new(o, KEY_HIST_COUNT, json_integer((json_int_t)
	    h->total));
	json_object_set_new(o, KEY_HIST_MEAN, json_real(hist_mean(h) / 1e3));
#define X(key, p, quantile)						\
	json_object_set_new(o, key,					\
	    json_real((double)hist_percentile(h, p) / 1e3));
	LOADD_PERCENTILES(X)
#undef X
	json_object_set_new(o, KEY_HIST_MAX, json_real((double)h->max_ns /
	    1e3));
	return o;
}

/*
 * Ask every host for its histograms and put the merged percentiles into
 * the merged loads, in the place `stats` has them.  A host whose layout
 * differs, or whose histogram does not decode, is reported and left out
 * of the latency (not of the counters); the load then says so.
 */
static void
merge_latency(struct fx *x, json_t *loads, const char *load)
{
	static const char *const scopes[] = { "interval", "epoch", "run" };
	char	 line[128], why[256];
	json_t	*m, *hl, *lay, *kinds, *v;
	size_t	 k;
	const char *kind, *scope;

	snprintf(line, sizeof(line), "histogram%s%s", load ? " " : "",
	    load ? load : "");
	fx_ask_all(x, line);
	json_array_foreach(loads, k, m) {
		for (int kk = 0; kk < LAT_MAX; kk++)
		for (size_t s = 0; s < NELEM(scopes); s++) {
			struct hist	*h = NULL;
			char		 key[64], hkey[64];
			size_t		 got = 0;

			/* "latency_us" in stats is "latency" in histogram. */
			snprintf(hkey, sizeof(hkey), "%.*s", (int)(strlen(
			    lat_kind_names[kk]) - 3), lat_kind_names[kk]);
			kind = hkey;
			scope = scopes[s];
			for (size_t i = 0; i < x->n; i++) {
				struct fh *fh = &x->hs[i];

				if (!fh_up(fh) || fh->reply == NULL ||
				    !json_is_true(jget(fh->reply, "ok")) ||
				    (hl = fh_load(fh, jstr(m, "name"))) == NULL)
					continue;
				kinds = jget(hl, scope);
				if ((v = jget(kinds, kind)) == NULL ||
				    !json_is_string(v))
					continue;
				lay = jget(fh->reply, "layout");
				if (fleet_layout_check(jstr(lay, "encoding"),
				    (uint64_t)json_integer_value(jget(lay,
				    "lowest_ns")), (uint64_t)json_integer_value(
				    jget(lay, "highest_ns")), (int)
				    json_integer_value(jget(lay, "sigdigits")),
				    why, sizeof(why)) == -1 ||
				    (h == NULL && (h = xcalloc(1,
				    sizeof(*h)), hist_reset(h), false)) ||
				    fleet_hist_add(h, json_string_value(v), why,
				    sizeof(why)) == -1) {
					fprintf(stderr, "loadctl: host %s: %s "
					    "%s histogram of %s left out: %s\n",
					    fh->h->name, scope, kind,
					    jstr(m, "name"), why);
					continue;
				}
				got++;
			}
			if (h == NULL)
				continue;
			snprintf(key, sizeof(key), "%s", lat_kind_names[kk]);
			if (got > 0) {
				json_t *obj = jget(m, key);

				if (!json_is_object(obj)) {
					obj = json_object();
					json_object_set_new(m, key, obj);
				}
				json_object_set_new(obj, scope, hist_json(h));
			}
			free(h);
		}
	}
}

/* The merged reply for a stats-shaped command. */
static json_t *
merged_stats(struct fx *x, const char *load)
{
	json_t	*o = json_object(), *loads = merge_loads(x);

	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "time", json_real(now_wall()));
	json_object_set_new(o, "hosts_up", json_integer((json_int_t)
	    fx_up(x)));
	json_object_set_new(o, "hosts", json_integer((json_int_t)x->n));
	merge_latency(x, loads, load);
	json_object_set_new(o, "total", merge_total(loads));
	json_object_set_new(o, "loads", loads);
	return o;
}

/* The hosts as JSON: name, up or why, clock offset, and their replies. */
static json_t *
hosts_json(struct fx *x, bool with_replies)
{
	json_t	*a = json_array();

	for (size_t i = 0; i < x->n; i++) {
		struct fh	*fh = &x->hs[i];
		json_t		*o = json_pack("{s:s,s:b}", "name",
		    fh->h->name, "up", fh_up(fh));

		if (!fh_up(fh))
			json_object_set_new(o, "error", json_string(fh->why));
		else {
			json_object_set_new(o, "clock_offset_s",
			    json_real(fh->offset));
			json_object_set_new(o, "version",
			    json_string(fh->version));
		}
		if (with_replies && fh->reply != NULL)
			json_object_set(o, "reply", fh->reply);
		json_array_append_new(a, o);
	}
	return a;
}

static void
print_json(json_t *o)
{
	char	*s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));

	printf("%s\n", s != NULL ? s : "{}");
	free(s);
}

/* ----------------------------------------------------------- commands */

/*
 * The wall-clock time (ours) at which each host really started the load:
 * its started_at less its clock offset.  The skew is the spread.
 */
static bool
start_skew(struct fx *x, const char *load, double *lo, double *hi)
{
	bool	 any = false;

	for (size_t i = 0; i < x->n; i++) {
		json_t	*l = fh_up(&x->hs[i]) ? fh_load(&x->hs[i], load) :
		    NULL;
		double	 t;

		if (l == NULL || !json_is_number(jget(l, "started_at")))
			continue;
		t = json_number_value(jget(l, "started_at")) -
		    x->hs[i].offset;
		if (!any || t < *lo)
			*lo = t;
		if (!any || t > *hi)
			*hi = t;
		any = true;
	}
	return any;
}

static void
fmt_offset(double s, char *buf, size_t len)
{
	if (fabs(s) >= 1)
		snprintf(buf, len, "%+.2fs", s);
	else
		snprintf(buf, len, "%+.1fms", s * 1e3);
}

static int
cmd_status(struct fx *x)
{
	json_t	*loads, *o, *l;
	size_t	 k;
	char	 off[32];
	double	 lo, hi;

	fx_ask_all(x, "status");
	loads = merge_loads(x);
	if (x->o->json) {
		o = json_pack("{s:b,s:f,s:o,s:O}", "ok", 1, "time", now_wall(),
		    "hosts", hosts_json(x, x->o->per_host), "loads", loads);
		json_array_foreach(loads, k, l) {
			json_t	*per = json_object();

			if (!start_skew(x, jstr(l, "name"), &lo, &hi)) {
				json_decref(per);
				continue;
			}
			json_object_set_new(l, "start_skew_s",
			    json_real(hi - lo));
			/* Each host's start after the earliest, our clock. */
			for (size_t i = 0; i < x->n; i++) {
				json_t *hl = fh_up(&x->hs[i]) ?
				    fh_load(&x->hs[i], jstr(l, "name")) : NULL;

				if (hl != NULL && json_is_number(jget(hl,
				    "started_at")))
					json_object_set_new(per,
					    x->hs[i].h->name, json_real(
					    json_number_value(jget(hl,
					    "started_at")) - x->hs[i].offset -
					    lo));
			}
			json_object_set_new(l, "start_after_s", per);
		}
		print_json(o);
		json_decref(o);
		json_decref(loads);
		return fx_up(x) == x->n ? EXIT_OK : EXIT_UNREACHABLE;
	}
	printf("%-16s %-5s %-8s %-10s %s\n", "HOST", "STATE", "VERSION",
	    "CLOCK", "LOADS");
	for (size_t i = 0; i < x->n; i++) {
		struct fh *fh = &x->hs[i];

		if (!fh_up(fh)) {
			printf("%-16s %-5s %s\n", fh->h->name, "down", fh->why);
			continue;
		}
		fmt_offset(fh->offset, off, sizeof(off));
		printf("%-16s %-5s %-8s %-10s", fh->h->name, "up", fh->version,
		    off);
		json_array_foreach(jget(fh->reply, "loads"), k, l)
		{
			printf(" %s %s %lld/%lld", jstr(l, "name"),
			    jstr(l, "state"), (long long)json_integer_value(
			    jget(l, key_gauges[KG_active].key)),
			    (long long)json_integer_value(jget(l,
			    KEY_TARGET)));
			/* Its start against the fleet's earliest, our clock. */
			if (json_is_number(jget(l, "started_at")) &&
			    start_skew(x, jstr(l, "name"), &lo, &hi))
				printf(" (started +%.1f ms)", (json_number_value(
				    jget(l, "started_at")) - fh->offset - lo) *
				    1e3);
		}
		printf("\n");
		if (fabs(fh->offset) >= 1)
			printf("%-16s       its clock is %.2f s %s ours\n", "",
			    fabs(fh->offset), fh->offset > 0 ? "ahead of" :
			    "behind");
	}
	printf("\n%-16s %-8s %7s %15s %12s %12s\n", "LOAD", "STATE", "HOSTS",
	    "CONNS/WANTED", "MSG/S", "START SKEW");
	json_array_foreach(loads, k, l) {
		char conns[64], skew[32];

		snprintf(conns, sizeof(conns), "%lld/%lld",
		    (long long)json_integer_value(jget(l,
		    key_gauges[KG_active].key)), (long long)
		    json_integer_value(jget(l, KEY_TARGET)));
		if (start_skew(x, jstr(l, "name"), &lo, &hi))
			snprintf(skew, sizeof(skew), "%.1f ms", (hi - lo) * 1e3);
		else
			snprintf(skew, sizeof(skew), "-");
		printf("%-16s %-8s %3lld/%-3zu %15s %12.0f %12s\n",
		    jstr(l, "name"), jstr(l, "state"),
		    (long long)json_integer_value(jget(l, "hosts")), x->n,
		    conns, json_number_value(jget(l,
		    key_counters[KC_messages_sent].rate_key)), skew);
	}
	json_decref(loads);
	fx_report_down(x);
	return fx_up(x) == x->n ? EXIT_OK : EXIT_UNREACHABLE;
}

/* Per-host rows of stats, for --hosts. */
static void
print_host_rows(struct fx *x)
{
	json_t	*l;
	size_t	 k;

	printf("\nper host:\n");
	for (size_t i = 0; i < x->n; i++) {
		struct fh *fh = &x->hs[i];

		if (!fh_up(fh)) {
			printf("  %-14s down: %s\n", fh->h->name, fh->why);
			continue;
		}
		json_array_foreach(jget(fh->reply, "loads"), k, l)
			printf("  %-14s %-12s %lld/%lld conns, %lld messages, "
			    "%.0f msg/s\n", fh->h->name, jstr(l, "name"),
			    (long long)json_integer_value(jget(l,
			    key_gauges[KG_active].key)), (long long)
			    json_integer_value(jget(l, KEY_TARGET)),
			    (long long)json_integer_value(jget(l,
			    key_counters[KC_messages_sent].key)),
			    json_number_value(jget(l, key_counters[
			    KC_messages_sent].rate_key)));
	}
}

static int
cmd_stats(struct fx *x, const struct request *req)
{
	char	 line[128];
	json_t	*o, *hosts;

	snprintf(line, sizeof(line), "stats%s%s", req->load[0] ? " " : "",
	    req->load);
	fx_ask_all(x, line);
	/* A host that refused (no such load) says why; the rest merge. */
	for (size_t i = 0; i < x->n; i++)
		if (fh_up(&x->hs[i]) && x->hs[i].reply != NULL &&
		    !json_is_true(jget(x->hs[i].reply, "ok"))) {
			fprintf(stderr, "loadctl: host %s: stats: %s\n",
			    x->hs[i].h->name, jstr(x->hs[i].reply, "error"));
			return EXIT_REFUSED;
		}
	hosts = x->o->per_host ? hosts_json(x, true) : hosts_json(x, false);
	if (x->o->per_host && !x->o->json)
		print_host_rows(x);
	o = merged_stats(x, req->load[0] ? req->load : NULL);
	json_object_set_new(o, "hosts", hosts);
	if (x->o->json)
		print_json(o);
	else {
		printf("fleet: %lld of %zu hosts\n", (long long)
		    json_integer_value(jget(o, "hosts_up")), x->n);
		print_ok(req, o);
	}
	json_decref(o);
	fx_report_down(x);
	return fx_up(x) == x->n ? EXIT_OK : EXIT_UNREACHABLE;
}

/*
 * Before a change: every up host must have the load (and a load named
 * at all when the hosts have several).  Returns false, having said why.
 */
static bool
check_load(struct fx *x, const char *load)
{
	bool	 ok = true;

	fx_ask_all(x, "status");
	for (size_t i = 0; i < x->n; i++) {
		struct fh	*fh = &x->hs[i];
		json_t		*loads, *l;
		size_t		 k;
		char		 names[512];
		size_t		 off = 0;

		if (!fh_up(fh) || fh->reply == NULL)
			continue;
		loads = jget(fh->reply, "loads");
		if (load[0] == '\0' && json_array_size(loads) == 1)
			continue;
		if (load[0] != '\0' && fh_load(fh, load) != NULL)
			continue;
		names[0] = '\0';
		json_array_foreach(loads, k, l)
			if (off < sizeof(names))
				off += (size_t)snprintf(names + off,
				    sizeof(names) - off, "%s%s", k ? ", " : "",
				    jstr(l, "name"));
		if (load[0] == '\0')
			fprintf(stderr, "loadctl: host %s has %zu loads (%s): "
			    "name one\n", fh->h->name, json_array_size(loads),
			    names);
		else
			fprintf(stderr, "loadctl: host %s has no load named "
			    "\"%s\" (its loads: %s); nothing was changed\n",
			    fh->h->name, load, names[0] ? names : "none");
		ok = false;
	}
	return ok;
}

/*
 * Hosts down before a change: abort changes nothing; degrade and
 * rebalance go on without them (rebalance shares among the rest).
 */
static bool
loss_allows(struct fx *x, const char *what)
{
	if (fx_up(x) == x->n)
		return true;
	fx_report_down(x);
	if (fx_up(x) == 0) {
		fprintf(stderr, "loadctl: %s: no host is reachable\n", what);
		return false;
	}
	if (x->on_loss == FLEET_ABORT) {
		fprintf(stderr, "loadctl: %s: %zu of %zu hosts unreachable and "
		    "on_loss is abort: nothing was changed\n", what,
		    x->n - fx_up(x), x->n);
		return false;
	}
	fprintf(stderr, "loadctl: %s: %zu of %zu hosts unreachable: %s\n",
	    what, x->n - fx_up(x), x->n, x->on_loss == FLEET_DEGRADE ?
	    "degraded (their shares are not placed)" :
	    "rebalanced over the others");
	return true;
}

/* A change's lease words: the request's, else the fleet's. */
static void
lease_words(struct fx *x, const struct request *req, char *buf,
    size_t len)
{
	double	 lease = req->lease > 0 ? req->lease : x->f.lease_s;

	if (lease > 0)
		snprintf(buf, len, " --lease %.3fs", lease);
	else
		buf[0] = '\0';
}

struct per_host_lines {
	char	**line;
};

static const char *
line_of(struct fx *x, size_t i, void *arg)
{
	(void)x;
	return ((struct per_host_lines *)arg)->line[i];
}

/* After a change: each host's answer; the exit status. */
static int
change_result(struct fx *x, const char *what, json_t *extra)
{
	int	 rc = EXIT_OK;
	json_t	*o = json_pack("{s:b,s:o}", "ok", 1, "hosts",
	    hosts_json(x, true));

	for (size_t i = 0; i < x->n; i++) {
		struct fh *fh = &x->hs[i];

		if (!fh_up(fh)) {
			if (rc == EXIT_OK)
				rc = EXIT_UNREACHABLE;
			continue;
		}
		if (fh->reply != NULL && !json_is_true(jget(fh->reply, "ok"))) {
			fprintf(stderr, "loadctl: host %s: %s: %s\n",
			    fh->h->name, what, jstr(fh->reply, "error"));
			rc = EXIT_REFUSED;
		}
	}
	json_object_set_new(o, "ok", json_boolean(rc == EXIT_OK));
	if (extra != NULL)
		json_object_update(o, extra);
	if (x->o->json)
		print_json(o);
	json_decref(o);
	fx_report_down(x);
	return rc;
}

static int
cmd_scale(struct fx *x, const struct request *req, bool wait)
{
	char		 lease[64], over[64], why[256];
	double		*w = xcalloc(x->n, sizeof(*w));
	uint64_t	*caps = xcalloc(x->n, sizeof(*caps));
	uint64_t	*shares = xcalloc(x->n, sizeof(*shares));
	size_t		*idx = xcalloc(x->n, sizeof(*idx)), m = 0;
	bool		*stopped = xcalloc(x->n, sizeof(*stopped));
	struct per_host_lines phl;
	json_t		*extra;
	int		 rc;

	phl.line = xcalloc(x->n, sizeof(char *));
	if (!loss_allows(x, "scale")) {
		rc = EXIT_UNREACHABLE;
		goto out;
	}
	if (!check_load(x, req->load)) {
		rc = EXIT_REFUSED;
		goto out;
	}
	/* The hosts that take a share, and each one's effective cap. */
	for (size_t i = 0; i < x->n; i++) {
		struct fh	*fh = &x->hs[i];
		json_t		*l;
		uint64_t	 maxc;

		if (!fh_up(fh) && x->on_loss == FLEET_REBALANCE)
			continue;
		w[m] = fh->h->weight;
		caps[m] = fh->h->cap;
		l = fh_up(fh) ? (req->load[0] ? fh_load(fh, req->load) :
		    json_array_get(jget(fh->reply, "loads"), 0)) : NULL;
		/* A stopped load (a host back from a loss) is started. */
		if (l != NULL && strcmp(jstr(l, "state"), "stopped") == 0)
			stopped[i] = true;
		if (l != NULL && json_is_integer(jget(l, "max_connections"))) {
			maxc = (uint64_t)json_integer_value(jget(l,
			    "max_connections"));
			if (caps[m] == 0 || maxc < caps[m])
				caps[m] = maxc;
		}
		idx[m++] = i;
	}
	if (fleet_shares(req->count, w, caps, m, shares, why,
	    sizeof(why)) == -1) {
		fprintf(stderr, "loadctl: scale: %s; nothing was changed\n",
		    why);
		rc = EXIT_REFUSED;
		goto out;
	}
	lease_words(x, req, lease, sizeof(lease));
	if (req->over > 0)
		snprintf(over, sizeof(over), " --over %.3fs", req->over);
	else
		over[0] = '\0';
	/* Stopped loads first: start (re-admit) them, then scale. */
	for (size_t k = 0; k < m; k++)
		if (fh_up(&x->hs[idx[k]]) && stopped[idx[k]])
			phl.line[idx[k]] = xasprintf("start%s%s%s",
			    req->load[0] ? " " : "", req->load, lease);
	for (size_t k = 0; k < m; k++)
		if (phl.line[idx[k]] != NULL) {
			fx_ask(x, line_of, &phl);
			break;
		}
	for (size_t k = 0; k < m; k++) {
		char l[256];

		free(phl.line[idx[k]]);
		phl.line[idx[k]] = NULL;
		if (!fh_up(&x->hs[idx[k]]))
			continue;
		if (stopped[idx[k]] && (x->hs[idx[k]].reply == NULL ||
		    !json_is_true(jget(x->hs[idx[k]].reply, "ok")))) {
			fprintf(stderr, "loadctl: host %s: start %s: %s\n",
			    x->hs[idx[k]].h->name, req->load, jstr(
			    x->hs[idx[k]].reply, "error"));
			continue;
		}
		snprintf(l, sizeof(l), "scale%s%s %llu%s%s",
		    req->load[0] ? " " : "", req->load,
		    (unsigned long long)shares[k], over, lease);
		phl.line[idx[k]] = xstrdup(l);
	}
	fx_ask(x, line_of, &phl);
	extra = json_object();
	{
		json_t *sh = json_object();

		for (size_t k = 0; k < m; k++)
			json_object_set_new(sh, x->hs[idx[k]].h->name,
			    json_integer((json_int_t)shares[k]));
		json_object_set_new(extra, "shares", sh);
	}
	rc = change_result(x, "scale", extra);
	json_decref(extra);
	if (!x->o->json)
		for (size_t k = 0; k < m; k++) {
			struct fh *fh = &x->hs[idx[k]];

			if (!fh_up(fh))
				printf("%s: down: its share of %llu not "
				    "placed\n", fh->h->name,
				    (unsigned long long)shares[k]);
			else if (fh->reply != NULL &&
			    json_is_true(jget(fh->reply, "ok")))
				printf("%s: %s%sscaled to %llu\n", fh->h->name,
				    req->load, req->load[0] ? " " : "",
				    (unsigned long long)shares[k]);
		}
	if (rc == EXIT_OK && wait) {
		/* Until every host holds its share. */
		double	 end = now_mono() + (x->o->reply_timeout_ms > 0 ?
		    x->o->reply_timeout_ms / 1000.0 : 600) + req->over;
		struct timespec nap = { 0, 250 * 1000000 };

		for (;;) {
			size_t done = 0;

			fx_ask_all(x, "status");
			for (size_t k = 0; k < m; k++) {
				json_t *l;

				if (!fh_up(&x->hs[idx[k]]))
					continue;
				l = req->load[0] ? fh_load(&x->hs[idx[k]],
				    req->load) : json_array_get(jget(
				    x->hs[idx[k]].reply, "loads"), 0);
				if ((uint64_t)json_integer_value(jget(l,
				    key_gauges[KG_active].key)) == shares[k])
					done++;
			}
			if (done == fx_up(x))
				break;
			if (now_mono() > end || fleet_interrupted) {
				fprintf(stderr, "loadctl: scale --wait: %zu "
				    "of %zu hosts hold their share\n", done,
				    fx_up(x));
				rc = EXIT_UNREACHABLE;
				break;
			}
			nanosleep(&nap, NULL);
		}
	}
out:
	for (size_t i = 0; i < x->n; i++)
		free(phl.line[i]);
	free(phl.line);
	free(w), free(caps), free(shares), free(idx), free(stopped);
	return rc;
}

/* rate, stop, renew: the same request to every host (rate per connection). */
static int
cmd_broadcast(struct fx *x, const struct request *req, const char *line)
{
	char	 l[CONTROL_LINE_MAX + 64], lease[64];

	if (!loss_allows(x, req->cmd->name))
		return EXIT_UNREACHABLE;
	if (!check_load(x, req->load))
		return EXIT_REFUSED;
	lease[0] = '\0';
	if (req->cmd->id == CMD_RATE)
		lease_words(x, req, lease, sizeof(lease));
	snprintf(l, sizeof(l), "%s%s", line, lease);
	fx_ask_all(x, l);
	if (!x->o->json)
		for (size_t i = 0; i < x->n; i++)
			if (fh_up(&x->hs[i]) && x->hs[i].reply != NULL &&
			    json_is_true(jget(x->hs[i].reply, "ok")))
				printf("%s: %s\n", x->hs[i].h->name, l);
	return change_result(x, req->cmd->name, NULL);
}

/* --at WHEN: "+2s" (from now) or unix seconds; 0 on a bad one. */
static double
parse_at(const char *s)
{
	char	*end;
	double	 v;

	if (s[0] == '+') {
		const char	*w = NULL;
		double		 d;

		if (parse_duration(s + 1, &d, &w) == -1 || d < 0 ||
		    d > 86400)
			return 0;
		return now_wall() + d;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0)
		return 0;
	return v;
}

/*
 * A common start: every host is armed for one moment, each in its own
 * clock (ours plus its offset), so that hosts whose clocks differ still
 * start together; then the real start times give the skew.
 */
static int
cmd_start(struct fx *x, const struct request *req, const char *at)
{
	char		 lease[64];
	double		 when = at != NULL ? parse_at(at) : now_wall() +
			    FLEET_START_DELAY;
	struct per_host_lines phl;
	double		 lo, hi;
	int		 rc;
	json_t		*extra;

	if (when == 0) {
		fprintf(stderr, "loadctl: start --at %s: not +DURATION or "
		    "unix seconds\n", at);
		return EXIT_USAGE;
	}
	if (!loss_allows(x, "start"))
		return EXIT_UNREACHABLE;
	if (!check_load(x, req->load))
		return EXIT_REFUSED;
	lease_words(x, req, lease, sizeof(lease));
	phl.line = xcalloc(x->n, sizeof(char *));
	for (size_t i = 0; i < x->n; i++) {
		char	 l[256];

		if (!fh_up(&x->hs[i]))
			continue;
		if (fabs(x->hs[i].offset) >= 1 && !x->o->json)
			printf("%s: its clock is %.2f s %s ours: armed for "
			    "its own time\n", x->hs[i].h->name,
			    fabs(x->hs[i].offset), x->hs[i].offset > 0 ?
			    "ahead of" : "behind");
		snprintf(l, sizeof(l), "start%s%s --at %.6f%s",
		    req->load[0] ? " " : "", req->load,
		    when + x->hs[i].offset, lease);
		phl.line[i] = xstrdup(l);
	}
	fx_ask(x, line_of, &phl);
	for (size_t i = 0; i < x->n; i++)
		free(phl.line[i]);
	free(phl.line);
	extra = json_pack("{s:f}", "starts_at", when);
	rc = change_result(x, "start", NULL);
	if (rc != EXIT_OK) {
		json_decref(extra);
		return rc;
	}
	/* Wait for the moment, then read when each host really began. */
	while (now_wall() < when + 0.3 && !fleet_interrupted) {
		struct timespec nap = { 0, 50 * 1000000 };

		nanosleep(&nap, NULL);
	}
	fx_ask_all(x, "status");
	if (start_skew(x, req->load[0] ? req->load : jstr(json_array_get(
	    jget(x->hs[0].reply, "loads"), 0), "name"), &lo, &hi)) {
		json_object_set_new(extra, "start_skew_s", json_real(hi - lo));
		if (!x->o->json)
			printf("started on %zu hosts at %.3f; start skew "
			    "%.1f ms\n", fx_up(x), when, (hi - lo) * 1e3);
	}
	if (x->o->json)
		print_json(extra);
	json_decref(extra);
	return EXIT_OK;
}

static int
cmd_version(struct fx *x)
{
	json_t	*o;

	/*
	 * Again: the first round trip carried ssh's start, which would make
	 * the clock offsets (read at its middle) off by half of it.
	 */
	fx_ask_all(x, "version");

	if (x->o->json) {
		o = json_pack("{s:b,s:s,s:i,s:o}", "ok", 1, "loadctl",
		    LOADD_VERSION, "protocol", LOADD_PROTOCOL, "hosts",
		    hosts_json(x, false));
		print_json(o);
		json_decref(o);
	} else {
		printf("loadctl %s (control protocol %d)\n", LOADD_VERSION,
		    LOADD_PROTOCOL);
		for (size_t i = 0; i < x->n; i++) {
			char off[32];

			if (!fh_up(&x->hs[i]))
				continue;
			fmt_offset(x->hs[i].offset, off, sizeof(off));
			printf("%-16s loadd %s (protocol %lld), clock %s, "
			    "round trip %.1f ms\n", x->hs[i].h->name,
			    x->hs[i].version, x->hs[i].protocol, off,
			    x->hs[i].rtt * 1e3);
		}
	}
	fx_report_down(x);
	return fx_up(x) == x->n ? EXIT_OK : EXIT_UNREACHABLE;
}

/*
 * summary and wait: each host's summary of the run, printed by host, and
 * the fleet's counts summed; wait polls until every host's run ended and
 * passes only if every host's objectives passed.
 */
static int
cmd_summary(struct fx *x, const struct request *req, bool wait)
{
	char		 line[128];
	json_t		*all = json_array(), *o;
	bool		*done = xcalloc(x->n, sizeof(*done));
	double		*run = xcalloc(x->n, sizeof(*run));
	double		 end = now_mono() + (x->o->reply_timeout_ms > 0 ?
			    x->o->reply_timeout_ms / 1000.0 : 1e9);
	int		 rc = EXIT_OK;

	snprintf(line, sizeof(line), "%s%s%s", wait ? "wait" : "summary",
	    req->load[0] ? " " : "", req->load);
	for (size_t i = 0; i < x->n; i++)
		run[i] = -1;
	for (;;) {
		size_t	 ndone = 0;

		fx_ask_all(x, line);
		for (size_t i = 0; i < x->n; i++) {
			struct fh	*fh = &x->hs[i];
			json_t		*r = fh->reply, *s;

			if (done[i] || !fh_up(fh) || r == NULL)
				continue;
			if (!json_is_true(jget(r, "ok"))) {
				fprintf(stderr, "loadctl: host %s: %s\n",
				    fh->h->name, jstr(r, "error"));
				rc = EXIT_REFUSED;
				done[i] = true;
				continue;
			}
			if (!wait) {
				json_t *a = jget(r, "summaries"), *v;
				size_t k;

				json_array_foreach(a, k, v) {
					json_t *c = json_deep_copy(v);

					json_object_set_new(c, "host",
					    json_string(fh->h->name));
					json_array_append_new(all, c);
				}
				done[i] = true;
				continue;
			}
			s = jget(r, "summary");
			if (strcmp(jstr(r, "state"), "running") == 0)
				run[i] = json_number_value(jget(r,
				    "run_start"));
			else if (json_is_object(s) && (run[i] < 0 ||
			    fabs(json_number_value(jget(s, "start")) -
			    run[i]) < 1e-6)) {
				json_t *c = json_deep_copy(s);

				json_object_set_new(c, "host",
				    json_string(fh->h->name));
				json_array_append_new(all, c);
				done[i] = true;
			}
		}
		for (size_t i = 0; i < x->n; i++)
			ndone += done[i] || !fh_up(&x->hs[i]);
		if (ndone == x->n || !wait || fleet_interrupted)
			break;
		if (now_mono() > end) {
			fprintf(stderr, "loadctl: wait: gave up: the run has "
			    "not ended on every host\n");
			rc = EXIT_UNREACHABLE;
			break;
		}
		{
			struct timespec nap = { 0, 200 * 1000000 };

			nanosleep(&nap, NULL);
		}
	}
	o = json_pack("{s:b,s:O,s:o}", "ok", 1, "summaries", all, "hosts",
	    hosts_json(x, false));
	if (x->o->json)
		print_json(o);
	else
		summary_view_print(o);
	if (rc == EXIT_OK && fx_up(x) < x->n)
		rc = EXIT_UNREACHABLE;
	if (rc == EXIT_OK && wait && !summary_view_passed(o))
		rc = WAIT_MISSED;
	json_decref(o);
	json_decref(all);
	free(done);
	free(run);
	fx_report_down(x);
	return rc;
}

/*
 * A host lost during watch: apply the policy.  totals: the fleet's wanted
 * connections per load before the loss (name -> total).
 */
static bool
watch_lost(struct fx *x, json_t *totals)
{
	const char	*name;
	json_t		*v;

	switch (x->on_loss) {
	case FLEET_DEGRADE:
		return true;
	case FLEET_ABORT:
		json_object_foreach(totals, name, v) {
			char l[128];

			snprintf(l, sizeof(l), "stop %s", name);
			fx_ask_all(x, l);
		}
		fprintf(stderr, "loadctl: watch: a host was lost and on_loss "
		    "is abort: every load stopped\n");
		return false;
	case FLEET_REBALANCE:
		json_object_foreach(totals, name, v) {
			struct request	 req;
			char		 line[160], why[256];
			int		 rc;

			snprintf(line, sizeof(line), "scale %s %lld", name,
			    (long long)json_integer_value(v));
			if (request_parse(line, strlen(line), &req, why,
			    sizeof(why)) == -1)
				continue;
			rc = cmd_scale(x, &req, false);
			fprintf(stderr, "loadctl: watch: %s rebalanced over "
			    "%zu hosts%s\n", name, fx_up(x), rc == EXIT_OK ?
			    "" : " (refused: see above)");
		}
		return true;
	}
	return true;
}

/*
 * watch: one merged line a second; renews every lease it finds at a third
 * of its length; a host that stops answering is lost (the policy says
 * what then) and tried again every few seconds: back, it is kept idle
 * (its loads stopped) until a later command gives it a share.
 */
static int
cmd_watch(struct fx *x)
{
	struct sigaction sa;
	json_t		*prev = NULL, *o, *totals = json_object();
	char		**renew = xcalloc(x->n, sizeof(char *));
	double		 next_retry = 0;
	int		 rc = EXIT_OK;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fleet_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/*
	 * A host unreachable from the start has no share we know of: it is
	 * said, then tried again like a lost one and, back, kept idle.
	 */
	for (size_t i = 0; i < x->n; i++)
		if (!fh_up(&x->hs[i])) {
			x->hs[i].lost = true;
			fprintf(stderr, "loadctl: watch: host %s unreachable "
			    "from the start: %s; tried again every 3 s\n",
			    x->hs[i].h->name, x->hs[i].why);
		}
	while (!fleet_interrupted) {
		double	 t0 = now_mono();
		size_t	 up0 = fx_up(x);
		json_t	*l;
		size_t	 k;

		fx_ask_all(x, "stats");
		/* The fleet's totals while every host that was up answers. */
		if (fx_up(x) == up0) {
			json_t *ml = merge_loads(x);

			json_object_clear(totals);
			json_array_foreach(ml, k, l)
				json_object_set_new(totals, jstr(l, "name"),
				    json_integer(json_integer_value(jget(l,
				    "connections_scale"))));
			json_decref(ml);
		}
		/* What needs renewing, before the replies are replaced. */
		for (size_t i = 0; i < x->n; i++) {
			struct fh *fh = &x->hs[i];

			free(renew[i]);
			renew[i] = NULL;
			if (!fh_up(fh) || fh->reply == NULL)
				continue;
			json_array_foreach(jget(fh->reply, "loads"), k, l) {
				json_t	*ls = jget(l, "lease");

				if (ls != NULL && renew[i] == NULL &&
				    json_number_value(jget(ls, "left_s")) <
				    json_number_value(jget(ls, "length_s")) *
				    2 / 3)
					renew[i] = xasprintf("renew %s",
					    jstr(l, "name"));
			}
		}
		o = json_object();
		{
			json_t *ml = merge_loads(x);

			json_object_set_new(o, "ok", json_true());
			json_object_set_new(o, "time", json_real(now_wall()));
			merge_latency(x, ml, NULL);
			json_object_set_new(o, "total", merge_total(ml));
			json_object_set_new(o, "loads", ml);
		}
		{
			struct per_host_lines phl = { renew };

			fx_ask(x, line_of, &phl);
		}
		if (fx_up(x) < up0) {
			for (size_t i = 0; i < x->n; i++)
				if (!fh_up(&x->hs[i]) && !x->hs[i].lost) {
					x->hs[i].lost = true;
					fprintf(stderr, "loadctl: watch: host "
					    "%s lost: %s; on_loss %s\n",
					    x->hs[i].h->name, x->hs[i].why,
					    x->on_loss == FLEET_DEGRADE ?
					    "degrade: the others keep their "
					    "shares" : x->on_loss ==
					    FLEET_ABORT ? "abort" :
					    "rebalance");
				}
			if (!watch_lost(x, totals)) {
				rc = EXIT_UNREACHABLE;
				json_decref(o);
				break;
			}
		}
		/* Lost hosts: back?  Then idle until given a share. */
		if (fx_up(x) < x->n && now_mono() >= next_retry) {
			next_retry = now_mono() + 3;
			for (size_t i = 0; i < x->n; i++) {
				struct fh *fh = &x->hs[i];
				const char *name;
				json_t *v;

				if (fh_up(fh) || !fh->lost)
					continue;
				if (!fh_open(x, fh))
					continue;
				fh_send(fh, "version");
				fx_collect(x, now_mono() +
				    x->f.connect_timeout_s + x->reply_timeout);
				if (!fh_up(fh))
					continue;
				json_object_foreach(totals, name, v) {
					char line[128];

					snprintf(line, sizeof(line), "stop %s",
					    name);
					fh_send(fh, line);
					fx_collect(x, now_mono() +
					    x->reply_timeout);
				}
				fh->lost = false;
				fprintf(stderr, "loadctl: watch: host %s is "
				    "back: kept idle (its loads stopped) until "
				    "a command gives it a share\n",
				    fh->h->name);
			}
		}
		json_object_set_new(o, "hosts", hosts_json(x, false));
		json_object_set_new(o, "degraded", json_boolean(fx_up(x) <
		    x->n));
		if (x->o->json)
			print_json(o);
		else {
			printf("[%zu/%zu hosts] ", fx_up(x), x->n);
			watch_line(o, prev);
		}
		fflush(stdout);
		json_decref(prev);
		prev = o;
		while (!fleet_interrupted && now_mono() < t0 + 1) {
			struct timespec nap = { 0, 50 * 1000000 };

			nanosleep(&nap, NULL);
		}
	}
	json_decref(prev);
	json_decref(totals);
	for (size_t i = 0; i < x->n; i++)
		free(renew[i]);
	free(renew);
	return rc;
}

int
fleet_main(const struct fleet_opts *opts, int argc, char *argv[])
{
	struct fx	 x;
	struct request	 req;
	char		 line[CONTROL_LINE_MAX + 2], err[512];
	const char	*at = NULL;
	size_t		 off = 0;
	bool		 wait = false;
	int		 rc, nargc = 0;
	char		**args = xcalloc((size_t)argc + 1, sizeof(char *));

	/* Our words (--at, --wait) out; the rest is the daemon's request. */
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
			at = argv[++i];
		else if (strcmp(argv[i], "--wait") == 0)
			wait = true;
		else
			args[nargc++] = argv[i];
	}
	for (int i = 0; i < nargc; i++) {
		int n = snprintf(line + off, sizeof(line) - off, "%s%s",
		    i ? " " : "", args[i]);

		if (n < 0 || (size_t)n >= sizeof(line) - off) {
			fprintf(stderr, "loadctl: request too long\n");
			free(args);
			return EXIT_USAGE;
		}
		off += (size_t)n;
	}
	free(args);
	if (request_parse(line, off, &req, err, sizeof(err)) == -1) {
		fprintf(stderr, "loadctl: %s\n", err);
		return EXIT_USAGE;
	}
	if (at != NULL && req.cmd->id != CMD_START) {
		fprintf(stderr, "loadctl: --at is for start\n");
		return EXIT_USAGE;
	}
	if (wait && req.cmd->id != CMD_SCALE) {
		fprintf(stderr, "loadctl: --wait is for scale\n");
		return EXIT_USAGE;
	}
	switch (req.cmd->id) {
	case CMD_RELOAD:
	case CMD_REOPEN:
	case CMD_HELP:
		fprintf(stderr, "loadctl: -F: %s is per host: run it on each "
		    "host (loadctl -s SOCKET %s)\n", req.cmd->name,
		    req.cmd->name);
		return EXIT_USAGE;
	default:
		break;
	}

	memset(&x, 0, sizeof(x));
	x.o = opts;
	if (fleet_load(opts->path, &x.f, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return EXIT_REFUSED;
	}
	x.on_loss = x.f.on_loss;
	if (opts->on_loss != NULL &&
	    fleet_on_loss_parse(opts->on_loss, &x.on_loss) == -1) {
		{
			fprintf(stderr, "loadctl: --on-loss %s: not degrade, "
			    "rebalance or abort\n", opts->on_loss);
			fleet_free(&x.f);
			return EXIT_USAGE;
		}
	}
	x.reply_timeout = opts->reply_timeout_ms > 0 ?
	    opts->reply_timeout_ms / 1000.0 : x.f.reply_timeout_s;
	x.remote_loadctl = x.f.loadctl;
	x.n = x.f.nhosts;
	x.hs = xcalloc(x.n, sizeof(*x.hs));
	for (size_t i = 0; i < x.n; i++) {
		x.hs[i].h = &x.f.hosts[i];
		x.hs[i].fd = x.hs[i].errfd = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* ssh with ControlPersist fails if ControlPath's directory is missing. */
	if (fleet_control_dir(&x.f, getenv("HOME"), err, sizeof(err)) == -1) {
		fprintf(stderr, "loadctl: %s\n", err);
		fx_close(&x);
		return EXIT_USAGE;
	}
	fx_open(&x);
	switch (req.cmd->id) {
	case CMD_VERSION:
		rc = cmd_version(&x);
		break;
	case CMD_STATUS:
		rc = cmd_status(&x);
		break;
	case CMD_STATS:
		rc = cmd_stats(&x, &req);
		break;
	case CMD_SCALE:
		rc = cmd_scale(&x, &req, wait);
		break;
	case CMD_START:
		rc = cmd_start(&x, &req, at);
		break;
	case CMD_SUMMARY:
		rc = cmd_summary(&x, &req, false);
		break;
	case CMD_WAIT:
		rc = cmd_summary(&x, &req, true);
		break;
	case CMD_WATCH:
		rc = cmd_watch(&x);
		break;
	default:	/* stop, rate, renew, histogram */
		line[off] = '\0';
		rc = cmd_broadcast(&x, &req, line);
		break;
	}
	fx_close(&x);
	return rc;
}
