/* SPDX-License-Identifier: ISC */
/*
 * sink.c -- loadd-sink, the project's test server.
 *
 * A small, single-threaded TCP server that is the ground truth for what a
 * load generator did: it counts connections (accepted, active, peak,
 * closed) and bytes, and answers "stats" on a unix socket.  Modes:
 *
 *	discard	read and count, never reply (the default)
 *	echo	send back what was read, with bounded per-connection memory
 *	close	accept, then close at once
 *	noread	accept and never read: the client meets backpressure
 *	reset	accept, then close with a reset
 *	short	reply with half of the first read, then FIN (too few bytes)
 *	double	echo every read twice (too many bytes)
 *	corrupt	echo with every byte XOR 0x20 (wrong bytes)
 *
 * "stall MS" on the report socket stops all reading and writing for MS
 * milliseconds (a server pause), for coordinated-omission tests.
 *
 * Self-contained on purpose (libevent only, not src/) so that it
 * stays an independent witness of the daemon under test.
 *
 * Performance notes: discard mode uses one raw struct event per connection
 * and reads into one static buffer, so a connection costs a struct event
 * and a few fields; echo mode writes straight from the same buffer and
 * keeps at most ECHO_HIGH unsent bytes per connection in an evbuffer.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>	/* struct conn embeds its event */
#include <event2/util.h>

#define SINK_LISTEN_DEFAULT	"127.0.0.1:8080"
#define SINK_LIFETIME_DEFAULT	600.0
#define SINK_LISTEN_MAX		16
#define SINK_BACKLOG		65535	/* the kernel clamps to somaxconn */
#define SINK_BUF_SIZE		(256 * 1024)
#define SINK_READS_PER_CB	8	/* reads per callback, for fairness */
#define SINK_BACKOFF_MS		100	/* pause accepting on EMFILE/ENFILE */
#define ECHO_HIGH		(256 * 1024)	/* stop reading above this */
#define ECHO_LOW		(64 * 1024)	/* resume reading below this */
#define CTL_LINE_MAX		512
#define CTL_CLIENTS_MAX		64

enum sink_mode {
	MODE_DISCARD = 0,
	MODE_ECHO,
	MODE_CLOSE,
	MODE_NOREAD,
	MODE_RESET,
	MODE_SHORT,
	MODE_DOUBLE,
	MODE_CORRUPT,
};

#define MODE_LIST	"discard, echo, close, noread, reset, short, double " \
			"or corrupt"
#define STALL_MS_MAX	60000

static const char *const mode_names[] = {
	[MODE_DISCARD] = "discard",
	[MODE_ECHO] = "echo",
	[MODE_CLOSE] = "close",
	[MODE_NOREAD] = "noread",
	[MODE_RESET] = "reset",
	[MODE_SHORT] = "short",
	[MODE_DOUBLE] = "double",
	[MODE_CORRUPT] = "corrupt",
};

/* One client connection: kept small, there may be tens of thousands. */
struct conn {
	struct event		 ev;
	LIST_ENTRY(conn)	 entry;
	struct evbuffer		*out;	/* replies: unsent bytes, lazily made */
	int			 fd;
	short			 what;	/* events ev is registered for */
	unsigned		 paused:1;	/* echo: output above ECHO_HIGH */
	unsigned		 eof:1;		/* echo: peer done, flushing */
	unsigned		 shut:1;	/* short: FIN sent, draining */
};

/* One client of the report socket. */
struct ctl {
	struct bufferevent	*bev;
	LIST_ENTRY(ctl)		 entry;
	int			 closing;	/* close once output is flushed */
};

struct listener {
	int			 fd;
	struct event		*ev;
	char			 name[INET6_ADDRSTRLEN + 16];
	int			 port;
};

static struct {
	struct event_base	*base;
	enum sink_mode		 mode;
	int			 quiet;
	int			 noaccept;	/* -A: never accept */
	double			 lifetime;
	short			 noread_events;	/* 0 without epoll */
	const char		*port_file;
	const char		*ctl_path;

	struct listener		 lis[SINK_LISTEN_MAX];
	int			 nlis;
	struct event		*backoff_ev;
	int			 lis_paused;
	int			 ctl_paused;
	int			 reserve_fd;	/* kept for the report socket */
	time_t			 last_backoff_warn;

	int			 ctl_fd;
	struct event		*ctl_ev;
	LIST_HEAD(, ctl)	 ctls;
	int			 nctls;

	LIST_HEAD(, conn)	 conns;

	int			 stalled;	/* "stall": serve nobody */
	uint64_t		 stalls;
	struct event		*stall_ev;	/* ends the stall */

	struct event		*life_ev;
	struct event		*sigterm_ev;
	struct event		*sigint_ev;

	struct timespec		 start;
	uint64_t		 accepted;
	uint64_t		 active;
	uint64_t		 peak;
	uint64_t		 closed;
	uint64_t		 bytes_received;
	uint64_t		 bytes_sent;
} sink;

/* Shared by every connection: the loop is single-threaded. */
static char sink_buf[SINK_BUF_SIZE];

static void	conn_cb(evutil_socket_t, short, void *);

static void
sink_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A warning on stderr with strerror(errno); -q does not silence these. */
static void
sink_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	fprintf(stderr, "loadd-sink: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
}

static void
sink_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Informational chatter on stderr, silenced by -q. */
static void
sink_info(const char *fmt, ...)
{
	va_list	ap;

	if (sink.quiet)
		return;
	fprintf(stderr, "loadd-sink: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

#define SINK_SYNOPSIS \
"usage: loadd-sink [-Ahq] [-l addr:port]... [-m mode] [-P portfile]\n" \
"                  [-S socket] [-t seconds]\n"

static void
usage(void)
{
	printf(SINK_SYNOPSIS
"\n"
"A single-threaded TCP test server that counts what a load generator did.\n"
"\n"
"  -l addr:port  listen on addr:port (default " SINK_LISTEN_DEFAULT ");\n"
"                [::1]:port for IPv6, port 0 for an ephemeral port;\n"
"                may be given up to %d times\n"
"  -m mode       discard (default): read and count, never reply\n"
"                echo:    send back what was read (bounded memory)\n"
"                close:   accept, then close at once\n"
"                noread:  accept and never read\n"
"                reset:   accept, then close with a reset (RST)\n"
"                short:   reply with half of the first read, then FIN\n"
"                double:  send back every read twice\n"
"                corrupt: send back what was read, each byte XOR 0x20\n"
"  -A            listen but never accept (connects time out)\n"
"  -P file       once listening, write the port (one line per -l, in\n"
"                order) to file, atomically; removed on exit\n"
"  -S path       unix socket for reports; send lines \"stats\", \"reset\",\n"
"                \"mode MODE\" or \"stall MS\" (stop serving every\n"
"                connection for MS milliseconds), get one JSON line\n"
"                back each\n"
"  -t seconds    exit after this many seconds (default %.0f)\n"
"  -q            quiet: no informational messages on stderr\n"
"  -h            this help\n"
"\n"
"On SIGTERM, SIGINT or the end of -t, the final stats JSON line is printed\n"
"to stdout and the sink exits 0.  Bad usage exits 2, a failure to start 1.\n",
	    SINK_LISTEN_MAX, SINK_LIFETIME_DEFAULT);
}

static int
mode_parse(const char *s, enum sink_mode *mode)
{
	size_t	i;

	for (i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*mode = (enum sink_mode)i;
			return 0;
		}
	}
	return -1;
}

static double
uptime(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - sink.start.tv_sec) +
	    (double)(now.tv_nsec - sink.start.tv_nsec) / 1e9;
}

/* The stats JSON object, without a newline. */
static void
stats_format(char *buf, size_t len)
{
	snprintf(buf, len, "{\"accepted\":%llu,\"active\":%llu,\"peak\":%llu,"
	    "\"closed\":%llu,\"bytes_received\":%llu,\"bytes_sent\":%llu,"
	    "\"mode\":\"%s\",\"uptime\":%.6f,\"stalled\":%s,"
	    "\"stalls\":%llu}",
	    (unsigned long long)sink.accepted,
	    (unsigned long long)sink.active,
	    (unsigned long long)sink.peak,
	    (unsigned long long)sink.closed,
	    (unsigned long long)sink.bytes_received,
	    (unsigned long long)sink.bytes_sent,
	    mode_names[sink.mode], uptime(),
	    sink.stalled ? "true" : "false",
	    (unsigned long long)sink.stalls);
}

static void
stats_reset(void)
{
	sink.accepted = 0;
	sink.closed = 0;
	sink.bytes_received = 0;
	sink.bytes_sent = 0;
	sink.stalls = 0;
	sink.peak = sink.active;
}

/* ---------------------------------------------------------- connections */

/* (Re)register the connection's event for exactly the events in what. */
static void
conn_want(struct conn *c, short what)
{
	if (c->what == what)
		return;
	event_del(&c->ev);
	c->what = what;
	if (what == 0)
		return;
	event_assign(&c->ev, sink.base, c->fd, what | EV_PERSIST, conn_cb, c);
	event_add(&c->ev, NULL);
}

/*
 * Called from the connection's own callback too: that is safe for a raw
 * struct event in a single-threaded base (event_del() makes it inert and
 * nothing else points at it), unlike a bufferevent with deferred callbacks.
 */
static void
conn_close(struct conn *c)
{
	event_del(&c->ev);
	close(c->fd);
	if (c->out != NULL)
		evbuffer_free(c->out);
	LIST_REMOVE(c, entry);
	free(c);
	sink.active--;
	sink.closed++;
}

/* A zero linger makes close() send RST instead of FIN. */
static void
conn_linger0(int fd)
{
	struct linger	lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/*
 * Events for the current mode.  noread must never see EV_READ (data would
 * wake it forever), yet must notice the peer going away: EV_CLOSED
 * (EPOLLRDHUP) catches a FIN.  A reset shows up as EPOLLERR, which libevent
 * reports as EV_READ|EV_WRITE only, so EV_WRITE is asked for too; edge
 * triggering makes that fire once when the socket becomes writable (we
 * then find no error and ignore it) and once more on an error.
 */
#define NOREAD_EVENTS	(EV_CLOSED | EV_WRITE | EV_ET)

static short
conn_events(const struct conn *c)
{
	size_t	pending = c->out != NULL ? evbuffer_get_length(c->out) : 0;

	/* A stalled sink neither reads nor writes; the kernel queues. */
	if (sink.stalled)
		return 0;
	switch (sink.mode) {
	case MODE_ECHO:
	case MODE_DOUBLE:
	case MODE_CORRUPT:
		if (c->eof || c->paused)
			return EV_WRITE;
		return pending > 0 ? EV_READ | EV_WRITE : EV_READ;
	case MODE_SHORT:
		/* Flush the half reply, then drain until the peer closes. */
		return !c->shut && pending > 0 ? EV_WRITE : EV_READ;
	case MODE_NOREAD:
		return sink.noread_events;
	case MODE_DISCARD:
	case MODE_CLOSE:
	default:
		return EV_READ;
	}
}

/* Discard: read and count until drained, or the per-callback cap. */
static void
conn_discard(struct conn *c)
{
	ssize_t	n;
	int	i;

	for (i = 0; i < SINK_READS_PER_CB; i++) {
		/*
		 * On Linux, MSG_TRUNC on a TCP socket drops the bytes in the
		 * kernel without copying them out: the count is the same,
		 * and the sink stays far from being the bottleneck of what
		 * it measures.
		 */
		n = recv(c->fd, NULL, sizeof sink_buf, MSG_TRUNC);
		if (n > 0) {
			sink.bytes_received += (uint64_t)n;
			/*
			 * A short read means the socket is (very likely)
			 * drained; level-triggered epoll wakes us again if
			 * not, so skip the read that would say EAGAIN.
			 */
			if ((size_t)n < sizeof sink_buf)
				return;
			continue;
		}
		if (n == 0) {
			conn_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		conn_close(c);	/* ECONNRESET and friends */
		return;
	}
}

/* Echo: write out what is pending.  Returns -1 if c was closed. */
static int
conn_echo_flush(struct conn *c)
{
	int	n;

	if (c->out == NULL || evbuffer_get_length(c->out) == 0)
		return 0;
	n = evbuffer_write(c->out, c->fd);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		conn_close(c);
		return -1;
	}
	sink.bytes_sent += (uint64_t)n;
	return 0;
}

/*
 * Queue the bytes of the reply stream from offset off on: `copies` times
 * the n bytes in sink_buf, back to back.  Returns -1 on failure.
 */
static int
conn_queue(struct conn *c, size_t n, int copies, size_t off)
{
	size_t	total = n * (size_t)copies, chunk;

	if (c->out == NULL && (c->out = evbuffer_new()) == NULL) {
		sink_warn("evbuffer_new");
		return -1;
	}
	while (off < total) {
		chunk = n - off % n;
		if (evbuffer_add(c->out, sink_buf + off % n, chunk) == -1) {
			sink_warn("evbuffer_add");
			return -1;
		}
		off += chunk;
	}
	return 0;
}

/*
 * Echo (and its wrong twins, double and corrupt): read, and send back at
 * once from the same buffer; what the socket does not take waits in
 * c->out.  Reading stops while more than ECHO_HIGH bytes wait (the peer is
 * not reading its replies) and resumes below ECHO_LOW, so a connection
 * never holds more than ECHO_HIGH bytes.  double sends each read twice
 * with one sendmsg(), so the extra copy usually arrives with the reply
 * it repeats; corrupt flips bit 5 of every byte (ASCII letters change
 * case), so the reply has the right length and the wrong bytes.
 */
static void
conn_echo(struct conn *c, short what)
{
	struct iovec	iov[2];
	struct msghdr	msg;
	size_t		pending, want, total;
	ssize_t		n, w, k;
	int		i, copies = sink.mode == MODE_DOUBLE ? 2 : 1;

	if ((what & EV_WRITE) && conn_echo_flush(c) == -1)
		return;
	pending = c->out != NULL ? evbuffer_get_length(c->out) : 0;
	if (c->paused && pending <= ECHO_LOW)
		c->paused = 0;

	for (i = 0; i < SINK_READS_PER_CB && !c->paused && !c->eof; i++) {
		/* Every byte read becomes `copies` bytes to send. */
		want = (ECHO_HIGH - pending) / (size_t)copies;
		if (want > sizeof sink_buf)
			want = sizeof sink_buf;
		if (want == 0) {
			/* read() of 0 bytes would look like EOF. */
			c->paused = 1;
			break;
		}
		n = read(c->fd, sink_buf, want);
		if (n == 0) {
			c->eof = 1;
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c);
			return;
		}
		sink.bytes_received += (uint64_t)n;
		if (sink.mode == MODE_CORRUPT)
			for (k = 0; k < n; k++)
				sink_buf[k] ^= 0x20;
		total = (size_t)n * (size_t)copies;
		w = 0;
		if (pending == 0) {
			iov[0].iov_base = iov[1].iov_base = sink_buf;
			iov[0].iov_len = iov[1].iov_len = (size_t)n;
			memset(&msg, 0, sizeof msg);
			msg.msg_iov = iov;
			msg.msg_iovlen = (size_t)copies;
			w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK &&
				    errno != EINTR) {
					conn_close(c);
					return;
				}
				w = 0;
			}
			sink.bytes_sent += (uint64_t)w;
		}
		if ((size_t)w < total) {
			if (conn_queue(c, (size_t)n, copies, (size_t)w) == -1) {
				conn_close(c);
				return;
			}
			pending += total - (size_t)w;
			if (pending >= ECHO_HIGH)
				c->paused = 1;
		}
		if ((size_t)n < want)
			break;	/* drained, see conn_discard() */
	}

	/* Try once more now rather than wait a loop for EV_WRITE. */
	if (pending > 0 && !(what & EV_WRITE) && conn_echo_flush(c) == -1)
		return;
	pending = c->out != NULL ? evbuffer_get_length(c->out) : 0;
	if (c->eof && pending == 0) {
		conn_close(c);
		return;
	}
	if (c->paused && pending <= ECHO_LOW)
		c->paused = 0;
	conn_want(c, conn_events(c));
}

/*
 * short: answer the first read with its first half (at least one byte),
 * then end the reply stream with a FIN (shutdown), as a server that dies
 * in the middle of a reply.  What the client sends afterwards is read and
 * dropped until it closes: closing with unread bytes would send a reset,
 * and the client is to see a clean end of stream, not ECONNRESET.
 */
static void
conn_short(struct conn *c, short what)
{
	size_t	half;
	ssize_t	n, w;

	if (c->shut) {
		conn_discard(c);	/* closes on the client's EOF */
		return;
	}
	if (c->out != NULL && evbuffer_get_length(c->out) > 0) {
		if ((what & EV_WRITE) && conn_echo_flush(c) == -1)
			return;
	} else {
		n = read(c->fd, sink_buf, sizeof sink_buf);
		if (n == 0) {
			conn_close(c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				return;
			conn_close(c);
			return;
		}
		sink.bytes_received += (uint64_t)n;
		half = (size_t)n / 2 > 0 ? (size_t)n / 2 : 1;
		w = send(c->fd, sink_buf, half, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				conn_close(c);
				return;
			}
			w = 0;
		}
		sink.bytes_sent += (uint64_t)w;
		if ((size_t)w < half && conn_queue(c, half, 1,
		    (size_t)w) == -1) {
			conn_close(c);
			return;
		}
	}
	if (c->out == NULL || evbuffer_get_length(c->out) == 0) {
		if (shutdown(c->fd, SHUT_WR) == -1) {
			conn_close(c);
			return;
		}
		c->shut = 1;
	}
	conn_want(c, conn_events(c));
}

/* noread: never read; close when the peer is gone (see NOREAD_EVENTS). */
static void
conn_noread(struct conn *c, short what)
{
	int		err = 0;
	socklen_t	len = sizeof err;

	if (what & EV_CLOSED) {
		conn_close(c);
		return;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0)
		conn_close(c);
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	switch (sink.mode) {
	case MODE_DISCARD:
		conn_discard(c);
		break;
	case MODE_ECHO:
	case MODE_DOUBLE:
	case MODE_CORRUPT:
		conn_echo(c, what);
		break;
	case MODE_SHORT:
		conn_short(c, what);
		break;
	case MODE_NOREAD:
		conn_noread(c, what);
		break;
	case MODE_CLOSE:
	default:
		conn_close(c);	/* not reached: mode_set() closed them */
		break;
	}
}

static void
conn_new(int fd)
{
	struct conn	*c;
	int		 one = 1;

	sink.accepted++;
	sink.active++;
	if (sink.active > sink.peak)
		sink.peak = sink.active;

	/* In a stall, close and reset wait for the end like any reply. */
	if (!sink.stalled &&
	    (sink.mode == MODE_CLOSE || sink.mode == MODE_RESET)) {
		if (sink.mode == MODE_RESET)
			conn_linger0(fd);
		close(fd);
		sink.active--;
		sink.closed++;
		return;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		sink_warn("calloc");
		close(fd);
		sink.active--;
		sink.closed++;
		return;
	}
	/* Echo replies must not wait for Nagle; mode may change live. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	LIST_INSERT_HEAD(&sink.conns, c, entry);
	event_assign(&c->ev, sink.base, fd, 0, conn_cb, c);
	conn_want(c, conn_events(c));
}

/* Switch every connection, and the ones to come, to mode. */
static void
mode_set(enum sink_mode mode)
{
	struct conn	*c, *next;

	if (mode == sink.mode)
		return;
	sink.mode = mode;
	for (c = LIST_FIRST(&sink.conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		/* Leaving echo drops unsent replies: the new mode sends none. */
		if (c->out != NULL) {
			evbuffer_free(c->out);
			c->out = NULL;
		}
		c->paused = 0;
		/* A half-closed (short) connection cannot answer any more. */
		if (mode == MODE_CLOSE || mode == MODE_RESET || c->eof ||
		    c->shut) {
			conn_close(c);
			continue;
		}
		conn_want(c, conn_events(c));
	}
	sink_info("mode %s", mode_names[mode]);
}

/*
 * The end of a stall: serve every connection again, the ones accepted
 * meanwhile included (close and reset close them only now).
 */
static void
stall_end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c, *next;

	sink.stalled = 0;
	for (c = LIST_FIRST(&sink.conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (sink.mode == MODE_CLOSE || sink.mode == MODE_RESET) {
			if (sink.mode == MODE_RESET)
				conn_linger0(c->fd);
			conn_close(c);
			continue;
		}
		conn_want(c, conn_events(c));
	}
	sink_info("stall over");
}

/*
 * Stop reading and writing on every connection for ms milliseconds:
 * requests queue in the kernel and their replies come late, the way a
 * server's garbage-collection pause or a blocked event loop looks from
 * outside.  A stall during a stall restarts the clock.
 */
static void
stall_start(long ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	struct conn	*c;

	sink.stalled = 1;
	sink.stalls++;
	LIST_FOREACH(c, &sink.conns, entry)
		conn_want(c, conn_events(c));	/* no events while stalled */
	evtimer_add(sink.stall_ev, &tv);
	sink_info("stall %ld ms", ms);
}

/* ------------------------------------------------------------ listeners */

static void
listeners_enable(int on)
{
	int	i;

	for (i = 0; i < sink.nlis; i++) {
		if (on)
			event_add(sink.lis[i].ev, NULL);
		else
			event_del(sink.lis[i].ev);
	}
}

/*
 * One descriptor held back so that "stats" still works when clients have
 * taken all the others: that is when a test most wants to ask.
 */
static void
reserve_take(void)
{
	if (sink.reserve_fd == -1)
		sink.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	reserve_take();		/* before the listeners can take the slot */
	if (sink.lis_paused)
		listeners_enable(1);
	if (sink.ctl_paused)
		event_add(sink.ctl_ev, NULL);
	sink.lis_paused = sink.ctl_paused = 0;
}

/*
 * Out of descriptors: stop accepting for a while instead of spinning on a
 * listener that stays readable (tmux does the same).  The report socket
 * pauses separately (ctl != 0), and only once its reserve is spent too.
 */
static void
accept_backoff(int ctl)
{
	struct timeval	tv = { 0, SINK_BACKOFF_MS * 1000 };
	time_t		now = time(NULL);

	if (now != sink.last_backoff_warn) {
		sink_warn("accept (pausing %d ms)", SINK_BACKOFF_MS);
		sink.last_backoff_warn = now;
	}
	if (ctl) {
		sink.ctl_paused = 1;
		event_del(sink.ctl_ev);
	} else {
		sink.lis_paused = 1;
		listeners_enable(0);
	}
	evtimer_add(sink.backoff_ev, &tv);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	int	fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_new(fd);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EAGAIN:
#if EAGAIN != EWOULDBLOCK
		case EWOULDBLOCK:
#endif
			return;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			accept_backoff(0);
			return;
		default:
			sink_warn("accept");
			return;
		}
	}
}

/*
 * Parse "a.b.c.d:port" or "[v6]:port"; numeric only, the port is required
 * and may be 0 (evutil_parse_sockaddr_port() refuses port 0).
 */
static int
listen_parse(const char *s, struct sockaddr_storage *ss, int *sslen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN];
	const char		*h, *colon;
	char			*end;
	size_t			 hlen;
	long			 port;

	memset(ss, 0, sizeof *ss);
	if (*s == '[') {
		h = s + 1;
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		hlen = (size_t)(colon - h);
		colon++;
	} else {
		h = s;
		if ((colon = strchr(s, ':')) == NULL)
			return -1;
		hlen = (size_t)(colon - h);
	}
	if (hlen == 0 || hlen >= sizeof host)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 0 || port > 65535)
		return -1;

	if (*s == '[') {
		if (evutil_inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = (int)sizeof *sin6;
	} else {
		if (evutil_inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = (int)sizeof *sin;
	}
	return 0;
}

static int
listener_open(struct listener *l, const char *spec)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 len, one = 1;
	char			 host[INET6_ADDRSTRLEN];

	if (listen_parse(spec, &ss, &len) == -1) {
		fprintf(stderr, "loadd-sink: bad listen address: %s\n", spec);
		return -1;
	}
	l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (l->fd == -1) {
		sink_warn("socket %s", spec);
		return -1;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(l->fd, (struct sockaddr *)&ss, (socklen_t)len) == -1) {
		sink_warn("bind %s", spec);
		return -1;
	}
	/*
	 * -A: listen but never accept.  With a backlog of 1 the kernel's
	 * queue fills at once and later SYNs are dropped, so a client's
	 * connect hangs until its own timeout: a server too busy to answer.
	 */
	if (listen(l->fd, sink.noaccept ? 1 : SINK_BACKLOG) == -1) {
		sink_warn("listen %s", spec);
		return -1;
	}
	sslen = sizeof ss;
	if (getsockname(l->fd, (struct sockaddr *)&ss, &sslen) == -1) {
		sink_warn("getsockname %s", spec);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		l->port = ntohs(sin6->sin6_port);
		snprintf(l->name, sizeof l->name, "[%s]:%d", host, l->port);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		l->port = ntohs(sin->sin_port);
		snprintf(l->name, sizeof l->name, "%s:%d", host, l->port);
	}
	l->ev = event_new(sink.base, l->fd, EV_READ | EV_PERSIST, accept_cb,
	    l);
	/*
	 * Accepting and the report socket go before connections' data
	 * (priority 1, the default): under a flood of thousands of
	 * connections, the count a test waits for must not lag behind.
	 */
	if (l->ev != NULL)
		event_priority_set(l->ev, 0);
	if (l->ev == NULL ||
	    (!sink.noaccept && event_add(l->ev, NULL) == -1)) {
		fprintf(stderr, "loadd-sink: event_new failed\n");
		return -1;
	}
	return 0;
}

/* Write the ports, one line per listener, to a temporary file + rename. */
static int
port_file_write(const char *path)
{
	char	 tmp[PATH_MAX];
	FILE	*f;
	int	 i, fd;

	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof tmp) {
		fprintf(stderr, "loadd-sink: %s: path too long\n", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		sink_warn("%s", tmp);
		return -1;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		sink_warn("fdopen");
		close(fd);
		unlink(tmp);
		return -1;
	}
	for (i = 0; i < sink.nlis; i++)
		fprintf(f, "%d\n", sink.lis[i].port);
	if (fflush(f) == EOF || ferror(f)) {
		sink_warn("%s", tmp);
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) == -1) {
		sink_warn("rename %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------- the report socket */

static void
ctl_free(struct ctl *ctl)
{
	LIST_REMOVE(ctl, entry);
	bufferevent_free(ctl->bev);
	free(ctl);
	sink.nctls--;
	reserve_take();
}

static void
ctl_reply(struct ctl *ctl, const char *line)
{
	struct evbuffer	*out = bufferevent_get_output(ctl->bev);

	evbuffer_add_printf(out, "%s\n", line);
}

/* One request line; replies are fixed strings or numbers, never input. */
static void
ctl_request(struct ctl *ctl, char *line)
{
	char		 buf[512], *end;
	enum sink_mode	 mode;
	size_t		 len = strlen(line);
	long		 ms;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
	    line[len - 1] == '\r'))
		line[--len] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0')
		return;

	if (strcmp(line, "stats") == 0) {
		stats_format(buf, sizeof buf);
		ctl_reply(ctl, buf);
	} else if (strcmp(line, "reset") == 0) {
		stats_reset();
		ctl_reply(ctl, "{\"ok\":true}");
	} else if (strncmp(line, "mode", 4) == 0 &&
	    (line[4] == ' ' || line[4] == '\t' || line[4] == '\0')) {
		line += 4;
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0')
			ctl_reply(ctl, "{\"ok\":false,\"error\":\"usage: mode "
			    "discard|echo|close|noread|reset|short|double|"
			    "corrupt\"}");
		else if (mode_parse(line, &mode) == -1)
			ctl_reply(ctl, "{\"ok\":false,\"error\":\"unknown mode; "
			    "expected " MODE_LIST "\"}");
		else {
			mode_set(mode);
			ctl_reply(ctl, "{\"ok\":true}");
		}
	} else if (strncmp(line, "stall", 5) == 0 &&
	    (line[5] == ' ' || line[5] == '\t' || line[5] == '\0')) {
		line += 5;
		while (*line == ' ' || *line == '\t')
			line++;
		errno = 0;
		ms = strtol(line, &end, 10);
		if (*line < '0' || *line > '9' || *end != '\0' ||
		    errno != 0 || ms < 1 || ms > STALL_MS_MAX)
			ctl_reply(ctl, "{\"ok\":false,\"error\":\"usage: stall "
			    "MS (milliseconds, 1 to 60000)\"}");
		else {
			stall_start(ms);
			ctl_reply(ctl, "{\"ok\":true}");
		}
	} else
		ctl_reply(ctl, "{\"ok\":false,\"error\":\"unknown command; "
		    "expected stats, reset, mode MODE or stall MS\"}");
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl	*ctl = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 len;

	if (ctl->closing)
		return;
	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (len > CTL_LINE_MAX)
			ctl_reply(ctl, "{\"ok\":false,\"error\":"
			    "\"line too long\"}");
		else
			ctl_request(ctl, line);
		free(line);
	}
	if (evbuffer_get_length(in) > CTL_LINE_MAX) {
		/* A malformed request ends the peer, never the sink. */
		ctl_reply(ctl, "{\"ok\":false,\"error\":\"line too long\"}");
		ctl->closing = 1;
		bufferevent_disable(bev, EV_READ);
	}
}

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl	*ctl = arg;

	if (ctl->closing)
		ctl_free(ctl);
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl	*ctl = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ctl_free(ctl);
}

static void
ctl_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct ctl	*ctl;
	int		 fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    sink.reserve_fd != -1) {
				close(sink.reserve_fd);
				sink.reserve_fd = -1;
				continue;
			}
			if (errno == EMFILE || errno == ENFILE) {
				accept_backoff(1);
				return;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sink_warn("accept %s", sink.ctl_path);
			return;
		}
		if (sink.nctls >= CTL_CLIENTS_MAX ||
		    (ctl = calloc(1, sizeof *ctl)) == NULL) {
			close(fd);
			continue;
		}
		ctl->bev = bufferevent_socket_new(sink.base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (ctl->bev == NULL) {
			close(fd);
			free(ctl);
			continue;
		}
		LIST_INSERT_HEAD(&sink.ctls, ctl, entry);
		sink.nctls++;
		(void)bufferevent_priority_set(ctl->bev, 0);
		bufferevent_setcb(ctl->bev, ctl_read_cb, ctl_write_cb,
		    ctl_event_cb, ctl);
		bufferevent_enable(ctl->bev, EV_READ | EV_WRITE);
	}
}

static int
ctl_open(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	mode_t			old;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path, "%s",
	    path) >= sizeof sun.sun_path) {
		fprintf(stderr, "loadd-sink: %s: socket path too long\n", path);
		return -1;
	}

	/* A stale socket from an earlier run may go; anything else stays. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "loadd-sink: %s: exists and is not a "
			    "socket\n", path);
			return -1;
		}
		unlink(path);
	}
	sink.ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (sink.ctl_fd == -1) {
		sink_warn("socket %s", path);
		return -1;
	}
	old = umask(0077);
	if (bind(sink.ctl_fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		sink_warn("bind %s", path);
		close(sink.ctl_fd);
		sink.ctl_fd = -1;
		return -1;
	}
	umask(old);
	if (listen(sink.ctl_fd, 64) == -1) {
		sink_warn("listen %s", path);
		return -1;
	}
	sink.ctl_ev = event_new(sink.base, sink.ctl_fd, EV_READ | EV_PERSIST,
	    ctl_accept_cb, NULL);
	if (sink.ctl_ev != NULL)
		event_priority_set(sink.ctl_ev, 0);
	if (sink.ctl_ev == NULL || event_add(sink.ctl_ev, NULL) == -1) {
		fprintf(stderr, "loadd-sink: event_new failed\n");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- main */

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	if (sig >= 0 && (what & EV_SIGNAL))
		sink_info("signal %d, exiting", (int)sig);
	else
		sink_info("lifetime of %g s reached, exiting", sink.lifetime);
	event_base_loopbreak(sink.base);
}

/* Many connections need many descriptors: raise the soft limit. */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 && rl.rlim_max ==
	    RLIM_INFINITY) {
		/* Linux refuses infinity: settle for nr_open's usual value. */
		rl.rlim_cur = 1048576;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
cleanup(void)
{
	struct conn	*c;
	struct ctl	*ctl;
	int		 i;

	while ((c = LIST_FIRST(&sink.conns)) != NULL)
		conn_close(c);
	while ((ctl = LIST_FIRST(&sink.ctls)) != NULL)
		ctl_free(ctl);
	for (i = 0; i < sink.nlis; i++) {
		if (sink.lis[i].ev != NULL)
			event_free(sink.lis[i].ev);
		if (sink.lis[i].fd != -1)
			close(sink.lis[i].fd);
	}
	if (sink.ctl_ev != NULL)
		event_free(sink.ctl_ev);
	if (sink.ctl_fd != -1) {
		close(sink.ctl_fd);
		unlink(sink.ctl_path);
	}
	if (sink.backoff_ev != NULL)
		event_free(sink.backoff_ev);
	if (sink.stall_ev != NULL)
		event_free(sink.stall_ev);
	if (sink.reserve_fd != -1)
		close(sink.reserve_fd);
	if (sink.life_ev != NULL)
		event_free(sink.life_ev);
	if (sink.sigterm_ev != NULL)
		event_free(sink.sigterm_ev);
	if (sink.sigint_ev != NULL)
		event_free(sink.sigint_ev);
	if (sink.base != NULL)
		event_base_free(sink.base);
	libevent_global_shutdown();
}

int
main(int argc, char **argv)
{
	const char	*specs[SINK_LISTEN_MAX];
	char		*end, buf[512];
	struct timeval	 tv;
	int		 ch, i, nspecs = 0, status = 1, port_written = 0;

	sink.mode = MODE_DISCARD;
	sink.lifetime = SINK_LIFETIME_DEFAULT;
	sink.ctl_fd = -1;
	sink.reserve_fd = -1;
	LIST_INIT(&sink.conns);
	LIST_INIT(&sink.ctls);

	while ((ch = getopt(argc, argv, "Ahl:m:P:qS:t:")) != -1) {
		switch (ch) {
		case 'A':
			sink.noaccept = 1;
			break;
		case 'h':
			usage();
			return 0;
		case 'l':
			if (nspecs == SINK_LISTEN_MAX) {
				fprintf(stderr, "loadd-sink: too many -l "
				    "(at most %d)\n", SINK_LISTEN_MAX);
				return 2;
			}
			specs[nspecs++] = optarg;
			break;
		case 'm':
			if (mode_parse(optarg, &sink.mode) == -1) {
				fprintf(stderr, "loadd-sink: unknown mode: %s "
				    "(" MODE_LIST ")\n", optarg);
				return 2;
			}
			break;
		case 'P':
			sink.port_file = optarg;
			break;
		case 'q':
			sink.quiet = 1;
			break;
		case 'S':
			sink.ctl_path = optarg;
			break;
		case 't':
			errno = 0;
			sink.lifetime = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(sink.lifetime > 0) ||
			    sink.lifetime > 365.0 * 86400) {
				fprintf(stderr, "loadd-sink: bad -t: %s "
				    "(seconds, > 0)\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, SINK_SYNOPSIS);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "loadd-sink: unexpected argument: %s\n",
		    argv[optind]);
		fprintf(stderr, SINK_SYNOPSIS);
		return 2;
	}
	if (nspecs == 0)
		specs[nspecs++] = SINK_LISTEN_DEFAULT;
	for (i = 0; i < nspecs; i++) {
		struct sockaddr_storage	ss;
		int			len;

		if (listen_parse(specs[i], &ss, &len) == -1) {
			fprintf(stderr, "loadd-sink: bad listen address: %s "
			    "(expected a.b.c.d:port or [v6]:port)\n",
			    specs[i]);
			return 2;
		}
	}

	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	clock_gettime(CLOCK_MONOTONIC, &sink.start);
	for (i = 0; i < SINK_LISTEN_MAX; i++)
		sink.lis[i].fd = -1;

	if ((sink.base = event_base_new()) == NULL ||
	    event_base_priority_init(sink.base, 2) == -1) {
		fprintf(stderr, "loadd-sink: event_base_new failed\n");
		goto out;
	}
	/* Without these (not epoll), NOREAD_EVENTS would spin on EV_WRITE. */
	if ((event_base_get_features(sink.base) & (EV_FEATURE_EARLY_CLOSE |
	    EV_FEATURE_ET)) == (EV_FEATURE_EARLY_CLOSE | EV_FEATURE_ET))
		sink.noread_events = NOREAD_EVENTS;
	else
		sink_info("backend %s cannot see a close without reading: "
		    "noread connections stay counted until the mode changes",
		    event_base_get_method(sink.base));

	for (i = 0; i < nspecs; i++) {
		sink.nlis++;
		if (listener_open(&sink.lis[i], specs[i]) == -1)
			goto out;
	}
	if (sink.ctl_path != NULL) {
		if (ctl_open(sink.ctl_path) == -1)
			goto out;
		reserve_take();
	}

	sink.backoff_ev = evtimer_new(sink.base, backoff_cb, NULL);
	sink.stall_ev = evtimer_new(sink.base, stall_end_cb, NULL);
	sink.life_ev = evtimer_new(sink.base, stop_cb, NULL);
	sink.sigterm_ev = evsignal_new(sink.base, SIGTERM, stop_cb, NULL);
	sink.sigint_ev = evsignal_new(sink.base, SIGINT, stop_cb, NULL);
	if (sink.backoff_ev == NULL || sink.stall_ev == NULL ||
	    sink.life_ev == NULL ||
	    sink.sigterm_ev == NULL || sink.sigint_ev == NULL) {
		fprintf(stderr, "loadd-sink: event_new failed\n");
		goto out;
	}
	tv.tv_sec = (time_t)sink.lifetime;
	tv.tv_usec = (suseconds_t)((sink.lifetime - (double)tv.tv_sec) * 1e6);
	evtimer_add(sink.life_ev, &tv);
	evsignal_add(sink.sigterm_ev, NULL);
	evsignal_add(sink.sigint_ev, NULL);

	/* Last, so that a test seeing the file can connect at once. */
	if (sink.port_file != NULL) {
		if (port_file_write(sink.port_file) == -1)
			goto out;
		port_written = 1;
	}
	for (i = 0; i < sink.nlis; i++)
		sink_info("listening on %s, mode %s", sink.lis[i].name,
		    mode_names[sink.mode]);

	if (event_base_dispatch(sink.base) == -1) {
		fprintf(stderr, "loadd-sink: event loop failed\n");
		goto out;
	}
	stats_format(buf, sizeof buf);
	printf("%s\n", buf);
	fflush(stdout);
	status = 0;
out:
	if (port_written)
		unlink(sink.port_file);
	cleanup();
	return status;
}
