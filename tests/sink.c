/* SPDX-License-Identifier: ISC */
/*
 * sink.c -- loadd-sink, the project's test server.
 *
 * A small, single-threaded server that is the ground truth for what a
 * load generator did: it counts connections (accepted, active, peak,
 * closed) and bytes, and answers "stats" on a unix socket.  It listens on
 * TCP (-l; TLS with -C/-K), on unix stream sockets (-U) and on UDP (-u).
 * Modes:
 *
 *	discard	read and count, never reply (the default)
 *	read	the same, but every byte is copied out with recv(), as a
 *		server that reads its input does (discard drops it in the
 *		kernel with MSG_TRUNC)
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
 * UDP knows discard and echo only; every other mode is discard there.
 *
 * "stats" also gives the open connections by peer address ("sources"),
 * from a small table touched at accept and close only.  With -R several
 * sinks share one port (SO_REUSEPORT), each with its own report socket:
 * one process holds at most its descriptor limit of connections.
 *
 * Self-contained on purpose (libevent and OpenSSL only, not src/) so that
 * it stays an independent witness of the daemon under test.
 *
 * Performance notes: discard mode uses one raw struct event per connection
 * and reads into one static buffer, so a connection costs a struct event
 * and a few fields; echo mode writes straight from the same buffer and
 * keeps at most ECHO_HIGH unsent bytes per connection in an evbuffer.
 * TLS is raw OpenSSL on the same struct event (one SSL_CTX for all, an SSL
 * per connection), so every mode runs unchanged over it, behind
 * conn_read() and conn_write().  UDP reads and echoes in batches of
 * UDP_BATCH datagrams with recvmmsg() and sendmmsg().
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
#include <netinet/udp.h>

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

#include <openssl/err.h>
#include <openssl/ssl.h>

#define SINK_LISTEN_DEFAULT	"127.0.0.1:8080"
#define SINK_LIFETIME_DEFAULT	600.0
#define SINK_LISTEN_MAX		16
#define SINK_BACKLOG		65535	/* the kernel clamps to somaxconn */
#define SINK_BUF_SIZE		(256 * 1024)
#define SINK_READS_PER_CB	8	/* reads per callback, for fairness */
#define SINK_TLS_READS_PER_CB	64	/* one TLS record (16 KiB) per read */
#define SINK_UNIX_MAX		4
#define SINK_UDP_MAX		16
#define UDP_BATCH		64	/* datagrams per recvmmsg() */
#define UDP_BATCHES_PER_CB	16	/* recvmmsg() per callback, fairness */
#define UDP_DGRAM_MAX		65536
#define UDP_BUF_SIZE		(8 * 1024 * 1024)	/* socket buffers */
#define TLS_SID_CTX		"loadd-sink"
#define TLS_FLUSH_S		10	/* expired sessions leave the cache */
#define SINK_BACKOFF_MS		100	/* pause accepting on EMFILE/ENFILE */
#define ECHO_HIGH		(256 * 1024)	/* stop reading above this */
#define ECHO_LOW		(64 * 1024)	/* resume reading below this */
#define CTL_LINE_MAX		512
#define CTL_CLIENTS_MAX		64
#define SINK_SOURCES_MAX	256	/* peer addresses in "sources" */
/* The stats line: the counters, then up to SINK_SOURCES_MAX sources. */
#define STATS_LINE_MAX		(1024 + SINK_SOURCES_MAX * \
				    (INET6_ADDRSTRLEN + 24))

enum sink_mode {
	MODE_DISCARD = 0,
	MODE_ECHO,
	MODE_CLOSE,
	MODE_NOREAD,
	MODE_RESET,
	MODE_SHORT,
	MODE_DOUBLE,
	MODE_CORRUPT,
	MODE_READ,
};

#define MODE_LIST	"discard, read, echo, close, noread, reset, short, " \
			"double or corrupt"
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
	[MODE_READ] = "read",
};

/* One client connection: kept small, there may be tens of thousands. */
struct conn {
	struct event		 ev;
	LIST_ENTRY(conn)	 entry;
	struct evbuffer		*out;	/* replies: unsent bytes, lazily made */
	SSL			*ssl;	/* NULL unless the listener is TLS */
	int			 fd;
	short			 what;	/* events ev is registered for */
	short			 hs_want;	/* handshake: EV_READ, EV_WRITE */
	uint16_t		 src;	/* sink.sources[src - 1]; 0: none */
	unsigned		 paused:1;	/* echo: output above ECHO_HIGH */
	unsigned		 eof:1;		/* echo: peer done, flushing */
	unsigned		 shut:1;	/* short: FIN sent, draining */
	unsigned		 local:1;	/* unix socket: no MSG_TRUNC */
	unsigned		 hs:1;		/* TLS handshake in progress */
	unsigned		 tls_wantw:1;	/* TLS I/O waits for EV_WRITE */
	unsigned		 tls_dead:1;	/* TLS error: no close_notify */
	unsigned		 src_other:1;	/* counted in sources_other */
};

/* One client of the report socket. */
struct ctl {
	struct bufferevent	*bev;
	LIST_ENTRY(ctl)		 entry;
	int			 closing;	/* close once output is flushed */
};

/* A stream listener: TCP (-l) or unix (-U, path set). */
struct listener {
	int			 fd;
	struct event		*ev;
	char			 name[INET6_ADDRSTRLEN + 16];
	int			 port;
	const char		*path;	/* -U: unlinked on exit */
};

/*
 * Open connections from one peer address.  A slot whose family is
 * AF_UNSPEC is free; connections point at their slot, so slots never move.
 */
struct source {
	sa_family_t		 family;	/* AF_INET, AF_INET6, AF_UNSPEC */
	unsigned char		 addr[16];	/* 4 bytes for AF_INET */
	uint64_t		 active;
};

/* A UDP socket (-u). */
struct udp {
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
	int			 reuseport;	/* -R: SO_REUSEPORT */
	double			 lifetime;
	short			 noread_events;	/* 0 without epoll */
	const char		*port_file;
	const char		*ctl_path;

	/* -l listeners first (their order is the port file's), then -U. */
	struct listener		 lis[SINK_LISTEN_MAX + SINK_UNIX_MAX];
	int			 nlis;
	int			 ntcp;		/* lis[0 .. ntcp-1] are -l */
	struct udp		 udp[SINK_UDP_MAX];
	int			 nudp;
	SSL_CTX			*ssl_ctx;	/* -C/-K: every -l is TLS */
	struct event		*tls_flush_ev;
	time_t			 last_tls_warn;
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
	uint64_t		 tls_handshakes;
	uint64_t		 tls_resumed;
	uint64_t		 tls_failed;
	uint64_t		 datagrams_received;
	uint64_t		 datagrams_sent;
	uint64_t		 udp_bytes_received;
	uint64_t		 udp_bytes_sent;

	struct source		 sources[SINK_SOURCES_MAX];
	int			 nsources;	/* slots ever used */
	uint64_t		 sources_other;	/* active, not in the table */
} sink;

/* Shared by every connection: the loop is single-threaded. */
static char sink_buf[SINK_BUF_SIZE];

/*
 * One batch of datagrams for every UDP socket, in and (echo) out: 4 MiB
 * of bss, of which only the pages that datagrams touch become resident.
 */
static struct mmsghdr		udp_msgs[UDP_BATCH];
static struct iovec		udp_iov[UDP_BATCH];
static struct sockaddr_storage	udp_from[UDP_BATCH];
static char			udp_buf[UDP_BATCH][UDP_DGRAM_MAX];

static void	conn_cb(evutil_socket_t, short, void *);
static void	udp_enable(int);

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
"usage: loadd-sink [-AhqR] [-C certfile -K keyfile [-V cafile]]\n" \
"                  [-l addr:port]... [-m mode] [-P portfile] [-S socket]\n" \
"                  [-t seconds] [-U path]... [-u addr:port]...\n"

static void
usage(void)
{
	printf(SINK_SYNOPSIS
"\n"
"A single-threaded test server (TCP, TLS, unix stream, UDP) that counts\n"
"what a load generator did.\n"
"\n"
"  -l addr:port  listen on TCP addr:port (default " SINK_LISTEN_DEFAULT ",\n"
"                unless only -U or -u are given); [::1]:port for IPv6,\n"
"                port 0 for an ephemeral port; up to %d times\n"
"  -u addr:port  receive UDP on addr:port (same syntax); up to %d times\n"
"  -U path       listen on a unix stream socket at path; up to %d times\n"
"  -C certfile   with -K: every -l speaks TLS with this PEM certificate\n"
"                (chain)\n"
"  -K keyfile    the PEM private key of -C\n"
"  -V cafile     TLS: require a client certificate signed by cafile\n"
"  -m mode       discard (default): read and count, never reply\n"
"                read:    the same, every byte copied out with recv()\n"
"                echo:    send back what was read (bounded memory)\n"
"                close:   accept, then close at once\n"
"                noread:  accept and never read\n"
"                reset:   accept, then close with a reset (RST)\n"
"                short:   reply with half of the first read, then FIN\n"
"                double:  send back every read twice\n"
"                corrupt: send back what was read, each byte XOR 0x20\n"
"                (UDP: discard or echo, every other mode is discard)\n"
"  -A            listen but never accept (connects time out)\n"
"  -R            SO_REUSEPORT on every -l and -u: several sinks on one\n"
"                port (give it; port 0 picks a new one each), the kernel\n"
"                spreads the connections; add up their stats\n"
"  -P file       once listening, write the ports to file, one line per -l\n"
"                in order, then one per -u in order; atomically, removed\n"
"                on exit\n"
"  -S path       unix socket for reports; send lines \"stats\" (with the\n"
"                open connections by peer address), \"reset\",\n"
"                \"mode MODE\" or \"stall MS\" (stop serving every\n"
"                connection for MS milliseconds), get one JSON line\n"
"                back each\n"
"  -t seconds    exit after this many seconds (default %.0f)\n"
"  -q            quiet: no informational messages on stderr\n"
"  -h            this help\n"
"\n"
"On SIGTERM, SIGINT or the end of -t, the final stats JSON line is printed\n"
"to stdout and the sink exits 0.  Bad usage exits 2, a failure to start 1.\n",
	    SINK_LISTEN_MAX, SINK_UDP_MAX, SINK_UNIX_MAX,
	    SINK_LIFETIME_DEFAULT);
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

/* -------------------------------------------------------------- sources */

/*
 * Count a new connection c from sa (NULL for a unix socket: not counted)
 * in its address's slot: the address's own, else the first free or idle
 * slot (an idle address is forgotten for a new one), else a new slot;
 * in sources_other when the table is full of active addresses.  A linear
 * scan at accept time only: a few hundred 16-byte compares beside a
 * syscall, and nothing per message.
 */
static void
source_take(struct conn *c, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	const void			*addr;
	struct source			*src;
	size_t				 alen;
	int				 i, spare = -1;

	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		addr = &sin->sin_addr;
		alen = 4;
	} else if (sa->sa_family == AF_INET6) {
		addr = &sin6->sin6_addr;
		alen = 16;
	} else
		return;
	for (i = 0; i < sink.nsources; i++) {
		src = &sink.sources[i];
		if (src->family == sa->sa_family &&
		    memcmp(src->addr, addr, alen) == 0) {
			src->active++;
			c->src = (uint16_t)(i + 1);
			return;
		}
		if (spare == -1 && src->active == 0)
			spare = i;
	}
	if (spare == -1) {
		if (sink.nsources == SINK_SOURCES_MAX) {
			sink.sources_other++;
			c->src_other = 1;
			return;
		}
		spare = sink.nsources++;
	}
	src = &sink.sources[spare];
	memset(src, 0, sizeof *src);
	src->family = sa->sa_family;
	memcpy(src->addr, addr, alen);
	src->active = 1;
	c->src = (uint16_t)(spare + 1);
}

/* Connection c is gone: lower its address's count. */
static void
source_drop(const struct conn *c)
{
	if (c->src != 0)
		sink.sources[c->src - 1].active--;
	else if (c->src_other)
		sink.sources_other--;
}

/* "reset": forget the addresses with no open connection. */
static void
source_forget(void)
{
	int	i;

	for (i = 0; i < sink.nsources; i++) {
		if (sink.sources[i].active == 0)
			sink.sources[i].family = AF_UNSPEC;
	}
	while (sink.nsources > 0 &&
	    sink.sources[sink.nsources - 1].family == AF_UNSPEC)
		sink.nsources--;
}

/* The stats JSON object, without a newline, in a static buffer. */
static const char *
stats_format(void)
{
	static char	 buf[STATS_LINE_MAX];
	char		 name[INET6_ADDRSTRLEN];
	size_t		 len = sizeof buf, n;
	int		 i, first = 1;

	n = (size_t)snprintf(buf, len, "{\"accepted\":%llu,\"active\":%llu,\"peak\":%llu,"
	    "\"closed\":%llu,\"bytes_received\":%llu,\"bytes_sent\":%llu,"
	    "\"mode\":\"%s\",\"uptime\":%.6f,\"stalled\":%s,"
	    "\"stalls\":%llu,\"tls_handshakes\":%llu,\"tls_resumed\":%llu,"
	    "\"tls_failed\":%llu,\"datagrams_received\":%llu,"
	    "\"datagrams_sent\":%llu,\"udp_bytes_received\":%llu,"
	    "\"udp_bytes_sent\":%llu,\"sources\":{",
	    (unsigned long long)sink.accepted,
	    (unsigned long long)sink.active,
	    (unsigned long long)sink.peak,
	    (unsigned long long)sink.closed,
	    (unsigned long long)sink.bytes_received,
	    (unsigned long long)sink.bytes_sent,
	    mode_names[sink.mode], uptime(),
	    sink.stalled ? "true" : "false",
	    (unsigned long long)sink.stalls,
	    (unsigned long long)sink.tls_handshakes,
	    (unsigned long long)sink.tls_resumed,
	    (unsigned long long)sink.tls_failed,
	    (unsigned long long)sink.datagrams_received,
	    (unsigned long long)sink.datagrams_sent,
	    (unsigned long long)sink.udp_bytes_received,
	    (unsigned long long)sink.udp_bytes_sent);
	/* STATS_LINE_MAX leaves room for every slot: no truncation. */
	for (i = 0; i < sink.nsources && n < len; i++) {
		const struct source	*src = &sink.sources[i];

		if (src->family == AF_UNSPEC ||
		    inet_ntop(src->family, src->addr, name, sizeof name) == NULL)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s\"%s\":%llu",
		    first ? "" : ",", name, (unsigned long long)src->active);
		first = 0;
	}
	if (n < len)
		snprintf(buf + n, len - n, "},\"sources_other\":%llu}",
		    (unsigned long long)sink.sources_other);
	return buf;
}

static void
stats_reset(void)
{
	sink.accepted = 0;
	sink.closed = 0;
	sink.bytes_received = 0;
	sink.bytes_sent = 0;
	sink.stalls = 0;
	sink.tls_handshakes = sink.tls_resumed = sink.tls_failed = 0;
	sink.datagrams_received = sink.datagrams_sent = 0;
	sink.udp_bytes_received = sink.udp_bytes_sent = 0;
	sink.peak = sink.active;
	source_forget();
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
	if (c->ssl != NULL) {
		/*
		 * A handshake that never finished failed, whoever ended it.
		 * A healthy session gets a best-effort close_notify (one
		 * non-blocking try), so that a client sees a clean end.
		 */
		if (c->hs)
			sink.tls_failed++;
		else if (!c->tls_dead &&
		    !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		ERR_clear_error();
		SSL_free(c->ssl);
	}
	close(c->fd);
	if (c->out != NULL)
		evbuffer_free(c->out);
	LIST_REMOVE(c, entry);
	source_drop(c);
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
	if (c->hs)
		return c->hs_want;
	/* TLS may need to write to read (a key update): wake on EV_WRITE. */
	if (c->tls_wantw && sink.mode != MODE_NOREAD)
		return EV_READ | EV_WRITE;
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
	case MODE_READ:
	case MODE_CLOSE:
	default:
		return EV_READ;
	}
}

/* Warn about a TLS failure, once a second at most, then empty the queue. */
static void
tls_warn(const char *what)
{
	unsigned long	e = ERR_peek_error();
	char		why[256];
	time_t		now;

	if (!sink.quiet && e != 0 && (now = time(NULL)) != sink.last_tls_warn) {
		ERR_error_string_n(e, why, sizeof why);
		sink_info("TLS %s: %s", what, why);
		sink.last_tls_warn = now;
	}
	ERR_clear_error();
}

/*
 * Map an SSL_read/SSL_write result to read(2)'s: >0 bytes, 0 the end (the
 * peer's close_notify, or a bare EOF: SSL_OP_IGNORE_UNEXPECTED_EOF), or
 * -1 with errno EAGAIN (c->tls_wantw says whether it waits to write) or
 * an error, after which the session is not to be shut down cleanly.
 */
static ssize_t
conn_tls_result(struct conn *c, int n)
{
	int	err;

	if (n > 0)
		return n;
	err = SSL_get_error(c->ssl, n);
	switch (err) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		c->tls_wantw = 1;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == EAGAIN || errno == EINTR)
			errno = ECONNRESET;
		break;
	default:
		errno = EPROTO;
		break;
	}
	c->tls_dead = 1;
	tls_warn("connection");
	return -1;
}

/* read(2) on the connection: plaintext of TLS, or the socket's bytes. */
static ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
	if (c->ssl == NULL)
		return read(c->fd, buf, len);
	c->tls_wantw = 0;
	ERR_clear_error();
	errno = 0;
	return conn_tls_result(c, SSL_read(c->ssl, buf,
	    len > INT_MAX ? INT_MAX : (int)len));
}

/* send(2) on the connection, never blocking, never raising SIGPIPE. */
static ssize_t
conn_write(struct conn *c, const void *buf, size_t len)
{
	if (c->ssl == NULL)
		return send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	c->tls_wantw = 0;
	ERR_clear_error();
	errno = 0;
	return conn_tls_result(c, SSL_write(c->ssl, buf,
	    len > INT_MAX ? INT_MAX : (int)len));
}

/*
 * OpenSSL may hold decrypted bytes the socket no longer signals (a record
 * larger than the last read): run the callback again rather than wait for
 * more data that may never come.
 */
static void
conn_tls_more(struct conn *c)
{
	if (c->ssl != NULL && (c->what & EV_READ) && SSL_pending(c->ssl) > 0)
		event_active(&c->ev, EV_READ, 1);
}

/*
 * Discard over TLS or a unix socket, where the plaintext must be read out,
 * and read mode on every connection: each byte is copied into sink_buf
 * (recv() on a plain socket, as a server reading its input does), with
 * the same per-callback cap as discard.
 */
static void
conn_discard_read(struct conn *c)
{
	ssize_t	n;
	int	i, max = c->ssl != NULL ? SINK_TLS_READS_PER_CB :
		    SINK_READS_PER_CB;

	for (i = 0; i < max; i++) {
		if (c->ssl == NULL)
			n = recv(c->fd, sink_buf, sizeof sink_buf, 0);
		else
			n = conn_read(c, sink_buf, sizeof sink_buf);
		if (n > 0) {
			sink.bytes_received += (uint64_t)n;
			/* Plain: a short read means drained (below). */
			if (c->ssl == NULL && (size_t)n < sizeof sink_buf)
				return;
			continue;
		}
		if (n == 0) {
			conn_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			conn_want(c, conn_events(c));
			return;
		}
		conn_close(c);
		return;
	}
	conn_tls_more(c);
}

/* Discard: read and count until drained, or the per-callback cap. */
static void
conn_discard(struct conn *c)
{
	ssize_t	n;
	int	i;

	if (c->ssl != NULL || c->local) {
		conn_discard_read(c);
		return;
	}
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

/*
 * TLS: write out what is pending, chunk by chunk.  A chunk that
 * SSL_write() must retry may have grown or moved by then, which
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows.  Returns -1 if c was closed.
 */
static int
conn_tls_flush(struct conn *c)
{
	struct evbuffer_iovec	v;
	ssize_t			n;

	while (evbuffer_peek(c->out, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		n = conn_write(c, v.iov_base, v.iov_len);
		if (n > 0) {
			sink.bytes_sent += (uint64_t)n;
			evbuffer_drain(c->out, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		conn_close(c);
		return -1;
	}
	return 0;
}

/* Echo: write out what is pending.  Returns -1 if c was closed. */
static int
conn_echo_flush(struct conn *c)
{
	int	n;

	if (c->out == NULL || evbuffer_get_length(c->out) == 0)
		return 0;
	if (c->ssl != NULL)
		return conn_tls_flush(c);
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
		n = conn_read(c, sink_buf, want);
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
		/* TLS writes from c->out: SSL_write() retries need a buffer. */
		if (pending == 0 && c->ssl == NULL) {
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
			if (c->ssl != NULL && conn_tls_flush(c) == -1)
				return;
			pending = evbuffer_get_length(c->out);
			if (pending >= ECHO_HIGH)
				c->paused = 1;
		}
		/* Drained, see conn_discard(); TLS reads a record at a time. */
		if ((size_t)n < want && c->ssl == NULL)
			break;
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
	if (!c->paused && !c->eof)
		conn_tls_more(c);
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
		n = conn_read(c, sink_buf, sizeof sink_buf);
		if (n == 0) {
			conn_close(c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK) {
				conn_want(c, conn_events(c));
				return;
			}
			conn_close(c);
			return;
		}
		sink.bytes_received += (uint64_t)n;
		half = (size_t)n / 2 > 0 ? (size_t)n / 2 : 1;
		w = conn_write(c, sink_buf, half);
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
		/* TLS ends its stream with close_notify, then the FIN. */
		if (c->ssl != NULL) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
			ERR_clear_error();
		}
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

/*
 * The server side of the TLS handshake.  Every mode starts only once it
 * is done: close and reset then end a connection that did handshake, so
 * a client tells them from a handshake failure.
 */
static void
conn_handshake(struct conn *c)
{
	int	r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		c->hs = 0;
		sink.tls_handshakes++;
		if (SSL_session_reused(c->ssl))
			sink.tls_resumed++;
		if (sink.mode == MODE_CLOSE || sink.mode == MODE_RESET) {
			if (sink.mode == MODE_RESET) {
				c->tls_dead = 1; /* RST, no close_notify */
				conn_linger0(c->fd);
			}
			conn_close(c);
			return;
		}
		conn_want(c, conn_events(c));
		conn_tls_more(c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->hs_want = EV_READ;
		break;
	case SSL_ERROR_WANT_WRITE:
		c->hs_want = EV_WRITE;
		break;
	default:
		c->tls_dead = 1;
		tls_warn("handshake");
		conn_close(c);	/* counts tls_failed */
		return;
	}
	conn_want(c, conn_events(c));
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (c->hs) {
		conn_handshake(c);
		return;
	}
	switch (sink.mode) {
	case MODE_DISCARD:
		conn_discard(c);
		break;
	case MODE_READ:
		conn_discard_read(c);
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
conn_new(int fd, const struct listener *l, const struct sockaddr *sa)
{
	struct conn	*c;
	int		 one = 1, tls = l->path == NULL && sink.ssl_ctx != NULL;

	sink.accepted++;
	sink.active++;
	if (sink.active > sink.peak)
		sink.peak = sink.active;

	/*
	 * In a stall, close and reset wait for the end like any reply; over
	 * TLS they wait for the handshake (conn_handshake()).
	 */
	if (!sink.stalled && !tls &&
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
	c->fd = fd;
	if (l->path != NULL)
		c->local = 1;
	else {
		/* Echo replies must not wait for Nagle; mode may change. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	if (tls) {
		if ((c->ssl = SSL_new(sink.ssl_ctx)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1) {
			tls_warn("SSL_new");
			SSL_free(c->ssl);
			free(c);
			close(fd);
			sink.active--;
			sink.closed++;
			sink.tls_failed++;
			return;
		}
		SSL_set_accept_state(c->ssl);
		c->hs = 1;
		c->hs_want = EV_READ;	/* the ClientHello comes first */
	}
	LIST_INSERT_HEAD(&sink.conns, c, entry);
	source_take(c, sa);
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
		if (!c->hs &&
		    (sink.mode == MODE_CLOSE || sink.mode == MODE_RESET)) {
			if (sink.mode == MODE_RESET) {
				c->tls_dead = 1;
				conn_linger0(c->fd);
			}
			conn_close(c);
			continue;
		}
		conn_want(c, conn_events(c));
	}
	udp_enable(1);
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
	udp_enable(0);
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
	const struct listener	*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd;

	for (;;) {
		/* The peer's address comes with the accept, for "sources". */
		sslen = sizeof ss;
		ss.ss_family = AF_UNSPEC;
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_new(fd, l, l->path == NULL ?
			    (struct sockaddr *)&ss : NULL);
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

/*
 * A listening unix stream socket at path.  A stale socket from an earlier
 * run may go; anything else stays and is an error.  A private socket (the
 * report socket) is made with mode 0600.  Returns the descriptor or -1.
 */
static int
unix_socket_open(const char *path, int private, int backlog)
{
	struct sockaddr_un	sun;
	struct stat		st;
	mode_t			old = 0;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path, "%s",
	    path) >= sizeof sun.sun_path) {
		fprintf(stderr, "loadd-sink: %s: socket path too long\n", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "loadd-sink: %s: exists and is not a "
			    "socket\n", path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		sink_warn("socket %s", path);
		return -1;
	}
	if (private)
		old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (private)
			umask(old);
		sink_warn("bind %s", path);
		close(fd);
		return -1;
	}
	if (private)
		umask(old);
	if (listen(fd, backlog) == -1) {
		sink_warn("listen %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* Register a listener's accept event (shared by TCP and unix). */
static int
listener_event(struct listener *l)
{
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

/* -U: a unix stream listener, plain, served like TCP. */
static int
listener_open_unix(struct listener *l, const char *path)
{
	/* -A: as for TCP, see listener_open(). */
	if ((l->fd = unix_socket_open(path, 0, sink.noaccept ? 1 :
	    SINK_BACKLOG)) == -1)
		return -1;
	l->path = path;
	l->port = -1;
	snprintf(l->name, sizeof l->name, "unix:%s", path);
	return listener_event(l);
}

/*
 * The address a socket got (port 0 picks one): its port, and its name
 * as "ADDR:PORT" or "[ADDR]:PORT" for messages.  -1 after a warning.
 */
static int
bound_name(int fd, const char *spec, int *port, char *name, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	char			 host[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		sink_warn("getsockname %s", spec);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		*port = ntohs(sin6->sin6_port);
		snprintf(name, len, "[%s]:%d", host, *port);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		*port = ntohs(sin->sin_port);
		snprintf(name, len, "%s:%d", host, *port);
	}
	return 0;
}

static int
listener_open(struct listener *l, const char *spec)
{
	struct sockaddr_storage	 ss;
	int			 len, one = 1;

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
	if (sink.reuseport && setsockopt(l->fd, SOL_SOCKET, SO_REUSEPORT,
	    &one, sizeof one) == -1) {
		sink_warn("SO_REUSEPORT %s", spec);
		return -1;
	}
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
	if (bound_name(l->fd, spec, &l->port, l->name, sizeof l->name) == -1)
		return -1;
	return listener_event(l);
}

/* ------------------------------------------------------------------ UDP */

static void
udp_enable(int on)
{
	int	i;

	for (i = 0; i < sink.nudp; i++) {
		if (on)
			event_add(sink.udp[i].ev, NULL);
		else
			event_del(sink.udp[i].ev);
	}
}

/*
 * Echo a batch of n datagrams to their senders.  What the kernel refuses
 * (a full send buffer) is dropped, as UDP may, and counted nowhere.
 */
static void
udp_echo(int fd, unsigned int n)
{
	unsigned int	i, done = 0;
	int		r;

	for (i = 0; i < n; i++) {
		udp_iov[i].iov_len = udp_msgs[i].msg_len;
		udp_msgs[i].msg_hdr.msg_flags = 0;
	}
	while (done < n) {
		r = sendmmsg(fd, udp_msgs + done, n - done, MSG_DONTWAIT);
		if (r > 0) {
			for (i = done; i < done + (unsigned int)r; i++)
				sink.udp_bytes_sent += udp_iov[i].iov_len;
			sink.datagrams_sent += (uint64_t)r;
			done += (unsigned int)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS))
			break;
		done++;		/* this one cannot go (EMSGSIZE...): skip it */
	}
}

/*
 * Read datagrams in batches of UDP_BATCH until the socket is empty or
 * UDP_BATCHES_PER_CB batches are done (then the loop serves the others and
 * comes back: the socket is still readable).
 */
static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	int	i, j, n;

	for (i = 0; i < UDP_BATCHES_PER_CB; i++) {
		for (j = 0; j < UDP_BATCH; j++) {
			udp_iov[j].iov_base = udp_buf[j];
			udp_iov[j].iov_len = sizeof udp_buf[j];
			memset(&udp_msgs[j].msg_hdr, 0,
			    sizeof udp_msgs[j].msg_hdr);
			udp_msgs[j].msg_hdr.msg_name = &udp_from[j];
			udp_msgs[j].msg_hdr.msg_namelen = sizeof udp_from[j];
			udp_msgs[j].msg_hdr.msg_iov = &udp_iov[j];
			udp_msgs[j].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, udp_msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* EAGAIN: empty; anything else: a stray ICMP error. */
			return;
		}
		if (n == 0)
			return;
		sink.datagrams_received += (uint64_t)n;
		for (j = 0; j < n; j++)
			sink.udp_bytes_received += udp_msgs[j].msg_len;
		if (sink.mode == MODE_ECHO)
			udp_echo(fd, (unsigned int)n);
		if (n < UDP_BATCH)
			return;		/* drained, very likely */
	}
}

static int
udp_open(struct udp *u, const char *spec)
{
	struct sockaddr_storage	 ss;
	int			 len, one = 1, size = UDP_BUF_SIZE;

	if (listen_parse(spec, &ss, &len) == -1) {
		fprintf(stderr, "loadd-sink: bad UDP address: %s\n", spec);
		return -1;
	}
	u->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (u->fd == -1) {
		sink_warn("socket %s", spec);
		return -1;
	}
	/*
	 * 200,000 datagrams/s must not overflow the queue between two
	 * turns of the loop: ask for a large buffer, beyond rmem_max if
	 * allowed (CAP_NET_ADMIN), else what the limit gives.
	 */
	if (setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof size) == -1)
		(void)setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof size);
	if (setsockopt(u->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof size) == -1)
		(void)setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof size);
	if (ss.ss_family == AF_INET6)
		setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (sink.reuseport && setsockopt(u->fd, SOL_SOCKET, SO_REUSEPORT,
	    &one, sizeof one) == -1) {
		sink_warn("SO_REUSEPORT udp %s", spec);
		return -1;
	}
	if (bind(u->fd, (struct sockaddr *)&ss, (socklen_t)len) == -1) {
		sink_warn("bind udp %s", spec);
		return -1;
	}
	if (bound_name(u->fd, spec, &u->port, u->name, sizeof u->name) == -1)
		return -1;
	u->ev = event_new(sink.base, u->fd, EV_READ | EV_PERSIST, udp_cb, u);
	if (u->ev == NULL || event_add(u->ev, NULL) == -1) {
		fprintf(stderr, "loadd-sink: event_new failed\n");
		return -1;
	}
	return 0;
}

/*
 * Write the ports to a temporary file + rename: one line per -l in order,
 * then one per -u in order (-U has no port).
 */
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
	for (i = 0; i < sink.ntcp; i++)
		fprintf(f, "%d\n", sink.lis[i].port);
	for (i = 0; i < sink.nudp; i++)
		fprintf(f, "%d\n", sink.udp[i].port);
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
	char		*end;
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
		ctl_reply(ctl, stats_format());
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
			    "discard|read|echo|close|noread|reset|short|"
			    "double|corrupt\"}");
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
	if ((sink.ctl_fd = unix_socket_open(path, 1, 64)) == -1)
		return -1;
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

/* ------------------------------------------------------------------ TLS */

/* Say why OpenSSL refused what, on stderr, for a failure to start. */
static void
tls_fatal(const char *what, const char *file)
{
	unsigned long	e = ERR_get_error();
	char		why[256];

	if (e != 0)
		ERR_error_string_n(e, why, sizeof why);
	else
		snprintf(why, sizeof why, "unknown error");
	fprintf(stderr, "loadd-sink: %s%s%s: %s\n", file != NULL ? file : "",
	    file != NULL ? ": " : "", what, why);
	ERR_clear_error();
}

/*
 * Expired sessions leave the cache here, every TLS_FLUSH_S seconds,
 * rather than in OpenSSL's automatic sweep of the whole cache every 255
 * handshakes (SSL_SESS_CACHE_NO_AUTO_CLEAR): the sink is the reference
 * server of a handshakes/s benchmark.  A full cache drops its oldest.
 */
static void
tls_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	SSL_CTX_flush_sessions(sink.ssl_ctx, time(NULL));
}

/*
 * The one SSL_CTX every TLS connection shares.  Resumption works both
 * ways a client may try: session tickets (OpenSSL's default, stateless)
 * and session ids, from a server-side cache that needs a session id
 * context (without one, a resumed session with a client certificate is
 * refused).  With cafile, a client must present a certificate it signed.
 */
static int
tls_init(const char *cert, const char *key, const char *cafile)
{
	STACK_OF(X509_NAME)	*names;
	SSL_CTX			*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_fatal("SSL_CTX_new", NULL);
		return -1;
	}
	sink.ssl_ctx = ctx;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/*
	 * A client that closes without close_notify ends its stream as
	 * EOF, not as an error (load generators often do).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION);
	/*
	 * Partial writes and a moving buffer: conn_tls_flush() writes an
	 * evbuffer's first chunk, which may have grown or moved by the
	 * retry.  Idle connections give their buffers back: there may be
	 * tens of thousands.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_fatal("cannot load the certificate (PEM)", cert);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_fatal("cannot load the private key (PEM)", key);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_fatal("the key does not match the certificate", key);
		return -1;
	}
	if (SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)TLS_SID_CTX, sizeof TLS_SID_CTX - 1) != 1) {
		tls_fatal("SSL_CTX_set_session_id_context", NULL);
		return -1;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER |
	    SSL_SESS_CACHE_NO_AUTO_CLEAR);
	/* One TLS 1.3 ticket is enough to resume; each costs a encryption. */
	SSL_CTX_set_num_tickets(ctx, 1);
	if (cafile != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
			tls_fatal("cannot load the CA certificates (PEM)",
			    cafile);
			return -1;
		}
		if ((names = SSL_load_client_CA_file(cafile)) == NULL) {
			tls_fatal("no CA certificate", cafile);
			return -1;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
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
		if (sink.lis[i].fd != -1) {
			close(sink.lis[i].fd);
			if (sink.lis[i].path != NULL)
				unlink(sink.lis[i].path);
		}
	}
	for (i = 0; i < sink.nudp; i++) {
		if (sink.udp[i].ev != NULL)
			event_free(sink.udp[i].ev);
		if (sink.udp[i].fd != -1)
			close(sink.udp[i].fd);
	}
	if (sink.tls_flush_ev != NULL)
		event_free(sink.tls_flush_ev);
	if (sink.ssl_ctx != NULL)
		SSL_CTX_free(sink.ssl_ctx);
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
	const char	*specs[SINK_LISTEN_MAX], *uspecs[SINK_UDP_MAX];
	const char	*paths[SINK_UNIX_MAX];
	const char	*cert = NULL, *key = NULL, *cafile = NULL;
	char		*end;
	struct timeval	 tv;
	int		 ch, i, nspecs = 0, nuspecs = 0, npaths = 0;
	int		 status = 1, port_written = 0;

	sink.mode = MODE_DISCARD;
	sink.lifetime = SINK_LIFETIME_DEFAULT;
	sink.ctl_fd = -1;
	sink.reserve_fd = -1;
	LIST_INIT(&sink.conns);
	LIST_INIT(&sink.ctls);

	while ((ch = getopt(argc, argv, "AC:hK:l:m:P:qRS:t:U:u:V:")) != -1) {
		switch (ch) {
		case 'A':
			sink.noaccept = 1;
			break;
		case 'R':
			sink.reuseport = 1;
			break;
		case 'C':
			cert = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'V':
			cafile = optarg;
			break;
		case 'U':
			if (npaths == SINK_UNIX_MAX) {
				fprintf(stderr, "loadd-sink: too many -U "
				    "(at most %d)\n", SINK_UNIX_MAX);
				return 2;
			}
			paths[npaths++] = optarg;
			break;
		case 'u':
			if (nuspecs == SINK_UDP_MAX) {
				fprintf(stderr, "loadd-sink: too many -u "
				    "(at most %d)\n", SINK_UDP_MAX);
				return 2;
			}
			uspecs[nuspecs++] = optarg;
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
	if ((cert == NULL) != (key == NULL)) {
		fprintf(stderr, "loadd-sink: -C and -K go together\n");
		return 2;
	}
	if (cafile != NULL && cert == NULL) {
		fprintf(stderr, "loadd-sink: -V needs -C and -K\n");
		return 2;
	}
	/* The default TCP listener only when nothing else is asked for. */
	if (nspecs == 0 && nuspecs == 0 && npaths == 0)
		specs[nspecs++] = SINK_LISTEN_DEFAULT;
	for (i = 0; i < nspecs + nuspecs; i++) {
		struct sockaddr_storage	ss;
		const char		*spec = i < nspecs ? specs[i] :
					    uspecs[i - nspecs];
		int			len;

		if (listen_parse(spec, &ss, &len) == -1) {
			fprintf(stderr, "loadd-sink: bad %s address: %s "
			    "(expected a.b.c.d:port or [v6]:port)\n",
			    i < nspecs ? "listen" : "UDP", spec);
			return 2;
		}
	}

	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	clock_gettime(CLOCK_MONOTONIC, &sink.start);
	for (i = 0; i < SINK_LISTEN_MAX + SINK_UNIX_MAX; i++)
		sink.lis[i].fd = -1;
	for (i = 0; i < SINK_UDP_MAX; i++)
		sink.udp[i].fd = -1;

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

	if (cert != NULL && tls_init(cert, key, cafile) == -1)
		goto out;
	for (i = 0; i < nspecs; i++) {
		sink.nlis++;
		sink.ntcp++;
		if (listener_open(&sink.lis[sink.nlis - 1], specs[i]) == -1)
			goto out;
	}
	for (i = 0; i < npaths; i++) {
		sink.nlis++;
		if (listener_open_unix(&sink.lis[sink.nlis - 1],
		    paths[i]) == -1)
			goto out;
	}
	for (i = 0; i < nuspecs; i++) {
		sink.nudp++;
		if (udp_open(&sink.udp[i], uspecs[i]) == -1)
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
	if (sink.ssl_ctx != NULL) {
		struct timeval	ftv = { TLS_FLUSH_S, 0 };

		sink.tls_flush_ev = event_new(sink.base, -1, EV_PERSIST,
		    tls_flush_cb, NULL);
		if (sink.tls_flush_ev == NULL ||
		    event_add(sink.tls_flush_ev, &ftv) == -1) {
			fprintf(stderr, "loadd-sink: event_new failed\n");
			goto out;
		}
	}
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
		sink_info("listening on %s%s, mode %s", sink.lis[i].name,
		    sink.lis[i].path == NULL && sink.ssl_ctx != NULL ?
		    " (TLS)" : "", mode_names[sink.mode]);
	for (i = 0; i < sink.nudp; i++)
		sink_info("receiving on udp %s, mode %s", sink.udp[i].name,
		    sink.mode == MODE_ECHO ? "echo" : "discard");

	if (event_base_dispatch(sink.base) == -1) {
		fprintf(stderr, "loadd-sink: event loop failed\n");
		goto out;
	}
	printf("%s\n", stats_format());
	fflush(stdout);
	status = 0;
out:
	if (port_written)
		unlink(sink.port_file);
	cleanup();
	return status;
}
