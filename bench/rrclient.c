/* SPDX-License-Identifier: ISC */
/*
 * rrclient.c -- the bare reference for request/response (bench/rr): one
 * thread, one epoll set, no event library.  N TCP connections to
 * 127.0.0.1:PORT against an echo server, each keeping INFLIGHT requests
 * of SIZE bytes outstanding.
 *
 * Closed loop (the default): each connection first writes INFLIGHT
 * requests with one send(); at each wake-up every readable connection
 * gets one recv() into a flat buffer, the complete echo replies of SIZE
 * bytes are counted (a partial one is carried over as an offset), and as
 * many new requests as replies completed go out with one send().
 *
 * Open loop (-r RATE, requests per second per connection): requests are
 * due on a fixed schedule from a random phase; a timerfd wakes the loop
 * once a tick (-t, default 1000 us; the phases then fall on tick
 * boundaries), or at the next due time exactly with -t 0.  All of a
 * connection's due requests that fit in INFLIGHT go out with one send();
 * one due while INFLIGHT are outstanding waits (counted as late).  Each
 * reply's latency runs from its request's due time (coordinated omission
 * corrected), into a log-linear histogram (64 sub-buckets per power of
 * two: within 1.6%).
 *
 * Requests on a connection are all the same SIZE bytes, so the byte
 * stream is a repeated pattern: an unsent tail is a count and an offset
 * into it, and -x compares every reply byte with it (memcmp).
 *
 *   loadd-rrclient -p PORT [-x] [-c CONNS] [-i INFLIGHT] [-s SIZE]
 *                  [-d SECONDS] [-r RATE_PER_CONN] [-t TICK_US]
 *
 * Prints one JSON line at the end: requests (written in full), replies,
 * seconds, cpu_s (getrusage, user + system, over the same window, after
 * the connects), and in open loop p50/p99/p99.9/max in microseconds.
 * Exits 0, or 1 on a connection error, a mismatch (-x) or bytes with no
 * request outstanding; bounded in time (-d, and an alarm behind it).
 * Traffic to 127.0.0.1 only.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX	10000
#define RXBUF		(64 * 1024)	/* the flat receive buffer */
#define PEND_MAX	(16 * 1024 * 1024)	/* INFLIGHT x SIZE */
#define RING		4096	/* open loop: due times kept per connection */
#define SUB_BITS	6	/* histogram: 64 sub-buckets per octave */
#define SUB		(1 << SUB_BITS)
#define NBUCKETS	((64 - SUB_BITS) * SUB + 2 * SUB)

struct conn {
	int		 fd;
	int		 wantout;	/* EPOLLOUT registered */
	size_t		 rxoff;		/* bytes of the partial reply */
	size_t		 txoff;		/* pattern offset of the next byte */
	size_t		 txpend;	/* bytes queued, not yet sent */
	uint64_t	 sent;		/* bytes sent */
	long		 out;		/* requests queued or sent, unanswered */
	/* Open loop: due times, oldest first; the first `out` were sent. */
	uint64_t	 next_due;
	uint64_t	*due;
	unsigned	 head, count;
};

static struct {
	struct conn	*c;
	int		 nconns, ep, tfd, check;
	long		 inflight;
	size_t		 size;
	double		 rate;
	uint64_t	 interval, tick;	/* ns */
	char		*pat;		/* the request, repeated */
	size_t		 patlen;
	uint64_t	 replies, mismatch, unsolicited, errors, late;
	uint64_t	 dropped;
	uint64_t	 hist[NBUCKETS], hmax, htotal;
} rr;

static char rxbuf[RXBUF];

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double
cpu_s(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Log-linear: exact below 2 * SUB, then SUB sub-buckets per octave. */
static unsigned
hist_index(uint64_t v)
{
	int	msb, shift;

	if (v < 2 * SUB)
		return (unsigned)v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - SUB_BITS;
	return (unsigned)(2 * SUB + (msb - SUB_BITS - 1) * SUB +
	    (int)((v >> shift) - SUB));
}

/* The middle of bucket i. */
static uint64_t
hist_value(unsigned i)
{
	unsigned	octave, sub;
	int		shift;

	if (i < 2 * SUB)
		return i;
	octave = (i - 2 * SUB) / SUB;
	sub = (i - 2 * SUB) % SUB;
	shift = (int)octave + 1;
	return ((uint64_t)(SUB + sub) << shift) + ((1ull << shift) >> 1);
}

static void
hist_record(uint64_t v)
{
	rr.hist[hist_index(v)]++;
	rr.htotal++;
	if (v > rr.hmax)
		rr.hmax = v;
}

static double
hist_pct_us(double pct)
{
	uint64_t	want, seen = 0;
	unsigned	i;

	if (rr.htotal == 0)
		return 0;
	want = (uint64_t)((double)rr.htotal * pct / 100.0 + 0.999999);
	if (want == 0)
		want = 1;
	for (i = 0; i < NBUCKETS; i++) {
		seen += rr.hist[i];
		if (seen >= want) {
			uint64_t v = hist_value(i);

			return (double)(v < rr.hmax ? v : rr.hmax) / 1e3;
		}
	}
	return (double)rr.hmax / 1e3;
}

static void
conn_fail(struct conn *c, const char *what)
{
	if (c->fd == -1)
		return;
	if (errno != 0)
		fprintf(stderr, "loadd-rrclient: connection %d: %s: %s\n",
		    (int)(c - rr.c), what, strerror(errno));
	else
		fprintf(stderr, "loadd-rrclient: connection %d: %s\n",
		    (int)(c - rr.c), what);
	epoll_ctl(rr.ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	rr.errors++;
}

static void
conn_epollout(struct conn *c, int on)
{
	struct epoll_event	ev;

	if (c->wantout == on || c->fd == -1)
		return;
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(rr.ep, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
		conn_fail(c, "epoll_ctl");
		return;
	}
	c->wantout = on;
}

/* One send() of everything queued; keep what the kernel did not take. */
static void
conn_flush(struct conn *c)
{
	ssize_t	n;

	if (c->txpend == 0 || c->fd == -1)
		return;
	n = send(c->fd, rr.pat + c->txoff, c->txpend, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			conn_epollout(c, 1);
			return;
		}
		conn_fail(c, "send");
		return;
	}
	c->sent += (uint64_t)n;
	c->txpend -= (size_t)n;
	c->txoff = (size_t)(c->sent % rr.size);
	conn_epollout(c, c->txpend > 0);
}

/* Queue as many requests as INFLIGHT allows (open loop: as are due). */
static void
conn_fill(struct conn *c)
{
	long	k = rr.inflight - c->out;

	if (rr.rate > 0 && (long)c->count - c->out < k)
		k = (long)c->count - c->out;
	if (k <= 0)
		return;
	c->out += k;
	c->txpend += (size_t)k * rr.size;
	conn_flush(c);
}

/* One recv(); count the complete replies, then refill. */
static void
conn_read(struct conn *c, uint64_t now)
{
	ssize_t	n;
	size_t	total;
	long	done;

	n = recv(c->fd, rxbuf, sizeof rxbuf, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n == 0) {
			errno = 0;
			conn_fail(c, "closed by the server");
			return;
		}
		conn_fail(c, "recv");
		return;
	}
	if (rr.check && memcmp(rxbuf, rr.pat + c->rxoff, (size_t)n) != 0)
		rr.mismatch++;
	total = c->rxoff + (size_t)n;
	done = (long)(total / rr.size);
	c->rxoff = total % rr.size;
	if (done > c->out - (long)(c->txpend + rr.size - 1) / (long)rr.size) {
		rr.unsolicited++;
		errno = 0;
		conn_fail(c, "bytes with no request outstanding");
		return;
	}
	c->out -= done;
	rr.replies += (uint64_t)done;
	if (rr.rate > 0) {
		for (long i = 0; i < done; i++) {
			hist_record(now - c->due[c->head]);
			c->head = (c->head + 1) % RING;
			c->count--;
		}
	}
	conn_fill(c);
}

/* Open loop: note what fell due by now, send what fits. */
static void
conn_due(struct conn *c, uint64_t now)
{
	while (c->next_due <= now) {
		/*
		 * After conn_fill() out is min(count, inflight): with count
		 * at inflight or above every slot is taken, and this one
		 * waits behind the others (late).
		 */
		if ((long)c->count >= rr.inflight)
			rr.late++;
		if (c->count == RING)
			rr.dropped++;
		else {
			c->due[(c->head + c->count) % RING] = c->next_due;
			c->count++;
		}
		c->next_due += rr.interval;
	}
	conn_fill(c);
}

static void
arm(uint64_t at)
{
	struct itimerspec	its;

	memset(&its, 0, sizeof its);
	its.it_value.tv_sec = (time_t)(at / 1000000000ull);
	its.it_value.tv_nsec = (long)(at % 1000000000ull);
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	if (rr.tick > 0) {
		its.it_interval.tv_sec = (time_t)(rr.tick / 1000000000ull);
		its.it_interval.tv_nsec = (long)(rr.tick % 1000000000ull);
	}
	if (timerfd_settime(rr.tfd, TFD_TIMER_ABSTIME, &its, NULL) == -1) {
		perror("loadd-rrclient: timerfd_settime");
		exit(1);
	}
}

static int
conn_open(struct conn *c, long port)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { 5, 0 };
	struct epoll_event	ev;
	int			one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);	/* 127.0.0.1 only */
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* A connect that would hang is bounded by the send timeout. */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) == -1)
		return -1;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	return epoll_ctl(rr.ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadd-rrclient -p PORT [-x] [-c CONNS] "
	    "[-i INFLIGHT] [-s SIZE] [-d SECONDS]\n"
	    "                      [-r RATE_PER_CONN] [-t TICK_US]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	*evs;
	struct rlimit		 rl;
	uint64_t		 t0, t1, end, now, ticks, requests = 0;
	double			 c0, c1, secs = 10, tick_us = 1000;
	long			 port = 0, conns = 50;
	long			 size = 64;
	int			 ch, i, n, status;

	rr.inflight = 1;
	while ((ch = getopt(argc, argv, "c:d:i:p:r:s:t:x")) != -1) {
		switch (ch) {
		case 'c': conns = atol(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'i': rr.inflight = atol(optarg); break;
		case 'p': port = atol(optarg); break;
		case 'r': rr.rate = atof(optarg); break;
		case 's': size = atol(optarg); break;
		case 't': tick_us = atof(optarg); break;
		case 'x': rr.check = 1; break;
		default: usage();
		}
	}
	if (optind != argc || port <= 0 || port > 65535 || conns <= 0 ||
	    conns > CONNS_MAX || rr.inflight <= 0 || size <= 0 ||
	    size > RXBUF || !(secs > 0) || secs > 3600 || rr.rate < 0 ||
	    rr.rate > 1e6 || tick_us < 0 || tick_us > 1e6 ||
	    (double)rr.inflight * (double)size > PEND_MAX)
		usage();
	rr.size = (size_t)size;
	rr.nconns = (int)conns;
	/* Queued bytes start anywhere in a request: size + inflight x size;
	 * a reply chunk too: size + RXBUF. */
	rr.patlen = rr.size + ((size_t)rr.inflight * rr.size > RXBUF ?
	    (size_t)rr.inflight * rr.size : RXBUF);
	if ((rr.pat = malloc(rr.patlen)) == NULL ||
	    (rr.c = calloc((size_t)conns, sizeof *rr.c)) == NULL ||
	    (evs = calloc((size_t)conns + 1, sizeof *evs)) == NULL) {
		perror("loadd-rrclient: malloc");
		return 1;
	}
	for (size_t k = 0; k < rr.patlen; k++)
		rr.pat[k] = (char)('a' + (k % rr.size) % 26);

	signal(SIGPIPE, SIG_IGN);
	/* The backstop: never outlive -d by more than a minute. */
	alarm((unsigned)secs + 60);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((rr.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("loadd-rrclient: epoll_create1");
		return 1;
	}
	for (i = 0; i < rr.nconns; i++) {
		if (conn_open(&rr.c[i], port) == -1) {
			fprintf(stderr, "loadd-rrclient: connect 127.0.0.1:%ld: "
			    "%s\n", port, strerror(errno));
			return 1;
		}
	}

	rr.tfd = -1;
	if (rr.rate > 0) {
		struct epoll_event	ev = { .events = EPOLLIN };

		rr.interval = (uint64_t)(1e9 / rr.rate);
		rr.tick = (uint64_t)(tick_us * 1e3);
		if (rr.interval == 0)
			rr.interval = 1;
		if ((rr.tfd = timerfd_create(CLOCK_MONOTONIC,
		    TFD_NONBLOCK | TFD_CLOEXEC)) == -1 ||
		    epoll_ctl(rr.ep, EPOLL_CTL_ADD, rr.tfd, &ev) == -1) {
			perror("loadd-rrclient: timerfd");
			return 1;
		}
	}

	srand48((long)now_ns());
	c0 = cpu_s();
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	if (rr.rate > 0) {
		/* A random phase each, on a tick boundary when ticking. */
		uint64_t base = t0 + (rr.tick > 0 ? rr.tick : 1000000);

		if (rr.tick > 0)
			base -= base % rr.tick;
		for (i = 0; i < rr.nconns; i++) {
			uint64_t ph = (uint64_t)(drand48() * (double)rr.interval);

			if (rr.tick > 0)
				ph -= ph % rr.tick;
			rr.c[i].next_due = base + ph;
			if ((rr.c[i].due = calloc(RING, sizeof(uint64_t))) ==
			    NULL) {
				perror("loadd-rrclient: malloc");
				return 1;
			}
		}
		arm(base);
	} else {
		for (i = 0; i < rr.nconns; i++)
			conn_fill(&rr.c[i]);
	}

	for (;;) {
		int	timeout;

		now = now_ns();
		if (now >= end)
			break;
		timeout = (int)((end - now + 999999) / 1000000);
		n = epoll_wait(rr.ep, evs, rr.nconns + 1, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("loadd-rrclient: epoll_wait");
			return 1;
		}
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c == NULL) {
				/* The timer: every connection's due ones. */
				uint64_t next = UINT64_MAX;

				if (read(rr.tfd, &ticks, sizeof ticks) < 0 &&
				    errno != EAGAIN)
					perror("loadd-rrclient: timerfd read");
				for (int k = 0; k < rr.nconns; k++) {
					if (rr.c[k].fd == -1)
						continue;
					conn_due(&rr.c[k], now);
					if (rr.c[k].next_due < next)
						next = rr.c[k].next_due;
				}
				if (rr.tick == 0 && next != UINT64_MAX)
					arm(next);
				continue;
			}
			if (c->fd == -1)
				continue;
			if (evs[i].events & EPOLLOUT)
				conn_flush(c);
			if (c->fd != -1 &&
			    (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				conn_read(c, now);
		}
	}
	t1 = now_ns();
	c1 = cpu_s();
	for (i = 0; i < rr.nconns; i++)
		requests += rr.c[i].sent / rr.size;

	printf("{\"mode\":\"%s\",\"connections\":%d,\"inflight\":%ld,"
	    "\"size\":%zu,\"check\":%s,\"requests\":%llu,\"replies\":%llu,"
	    "\"seconds\":%.3f,\"replies_per_s\":%.1f,\"cpu_s\":%.3f,"
	    "\"cpu_s_per_million\":%.3f,\"errors\":%llu,\"mismatch\":%llu,"
	    "\"unsolicited\":%llu",
	    rr.rate > 0 ? "open" : "closed", rr.nconns, rr.inflight, rr.size,
	    rr.check ? "true" : "false", (unsigned long long)requests,
	    (unsigned long long)rr.replies, (double)(t1 - t0) / 1e9,
	    (double)rr.replies / ((double)(t1 - t0) / 1e9), c1 - c0,
	    rr.replies > 0 ? (c1 - c0) / ((double)rr.replies / 1e6) : 0.0,
	    (unsigned long long)rr.errors, (unsigned long long)rr.mismatch,
	    (unsigned long long)rr.unsolicited);
	if (rr.rate > 0)
		printf(",\"rate_per_conn\":%.1f,\"tick_us\":%.0f,\"late\":%llu,"
		    "\"dropped\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f,"
		    "\"p99.9_us\":%.1f,\"max_us\":%.1f",
		    rr.rate, tick_us, (unsigned long long)rr.late,
		    (unsigned long long)rr.dropped, hist_pct_us(50),
		    hist_pct_us(99), hist_pct_us(99.9), (double)rr.hmax / 1e3);
	printf("}\n");
	fflush(stdout);
	status = rr.errors || rr.mismatch || rr.unsolicited ? 1 : 0;
	for (i = 0; i < rr.nconns; i++)
		if (rr.c[i].fd != -1)
			close(rr.c[i].fd);
	return status;
}
