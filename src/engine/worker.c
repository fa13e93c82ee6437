/* SPDX-License-Identifier: ISC */
/*
 * worker.c -- a worker thread: its event_base, its command queue, its share
 * of each load (struct wload), the connect-rate limiter and the one paced
 * traffic timer that serves every due connection.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include <liburing.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/mem.h"
#include "engine/rq.h"
#include "engine/sys.h"
#include "engine/worker.h"

static void	worker_wakeupcb(evutil_socket_t, short, void *);
static void	worker_rxcb(evutil_socket_t, short, void *);
static void	worker_pacecb(evutil_socket_t, short, void *);
static void	worker_ring_init(struct worker *);
static void	worker_trimcb(evutil_socket_t, short, void *);
static void	worker_closercb(evutil_socket_t, short, void *);
static void	wload_openercb(evutil_socket_t, short, void *);
static void	wload_free(struct wload *);
static void	wload_reply_checkcb(evutil_socket_t, short, void *);
static void	wload_set_target(struct wload *, const struct wcmd *);

uint64_t
worker_random(struct worker *w)
{
	/* xorshift64*: cheap, good enough for payloads and jitter. */
	uint64_t	 x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/*
 * A load's errors worth a log line (bad replies, TLS failures): a few a
 * second at most, and how many were left out.
 */
#define WLOAD_ERRLOG_PER_S	5

bool
wload_errlog(struct wload *wl)
{
	uint64_t	 now = now_ns();

	if (now - wl->errlog_at >= 1000000000ull) {
		if (wl->errlog > WLOAD_ERRLOG_PER_S)
			log_warnx("load %s: %u more errors not logged",
			    wl->conf->name, wl->errlog - WLOAD_ERRLOG_PER_S);
		wl->errlog_at = now;
		wl->errlog = 0;
	}
	return wl->errlog++ < WLOAD_ERRLOG_PER_S;
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	/* Wake within a microsecond of a timer, not the default 50. */
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	/* Its only submitter is this thread (IORING_SETUP_SINGLE_ISSUER). */
	if (w->want_ring)
		worker_ring_init(w);
	atomic_store_explicit(&w->ring_ready, w->ring != NULL,
	    memory_order_release);
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	while (w->wloads != NULL)
		wload_free(w->wloads);
	/* The loop is over: no change is pending, close them all now. */
	worker_closercb(-1, 0, w);
	worker_closercb(-1, 0, w);
	free(w->heap);
	w->heap = NULL;
	free(w->tbuf);
	w->tbuf = NULL;
	free(w->rbuf);
	w->rbuf = NULL;
	mem_cache_flush();
	if (w->ring != NULL) {
		io_uring_queue_exit(w->ring);
		free(w->ring);
		w->ring = NULL;
	}
	return NULL;
}

/*
 * The ring that carries a pace tick's sends.  It holds no request between
 * ticks: every send is reaped before the timer callback returns, so it
 * needs no event of its own.  Where io_uring is unavailable (an old
 * kernel, a seccomp filter, kernel.io_uring_disabled) sends are plain
 * send()s.
 */
static void
worker_ring_init(struct worker *w)
{
	struct io_uring_params	 p;
	int			 rc;

	w->ring = xcalloc(1, sizeof(*w->ring));
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
	rc = io_uring_queue_init_params(WORKER_RING_SIZE, w->ring, &p);
	if (rc < 0) {
		memset(&p, 0, sizeof(p));
		rc = io_uring_queue_init_params(WORKER_RING_SIZE, w->ring, &p);
	}
	if (rc < 0) {
		log_warnx("worker %d: io_uring unavailable (%s): paced sends "
		    "are one send() each", w->id, strerror(-rc));
		free(w->ring);
		w->ring = NULL;
	}
}

/*
 * A gathered send's result, to its transport: a datagram's entry is
 * tagged in its low bit (dgram.c), a stream's is the bare connection.
 */
static void
worker_completed(void *data, int res)
{
	uintptr_t	 p = (uintptr_t)data;

	if (p & 1)
		dgram_completed((struct conn *)(p & ~(uintptr_t)1), res);
	else
		conn_sent(data, res);
}

/*
 * A submission failed (the kernel refused io_uring_enter, say ENOMEM):
 * the daemon carries on without the ring.  Sends already completed are
 * counted; the rest go to each connection's output buffer, by reference
 * and in order, for libevent to write.  From then on every paced send of
 * this worker is a send().
 */
static void
worker_ring_abandon(struct worker *w, int err)
{
	struct io_uring_cqe	*cqe;
	unsigned		 head, n = 0;

	log_warnx("worker %d: io_uring submission failed (%s): paced sends "
	    "are one send() each from now on", w->id, strerror(err));
	io_uring_for_each_cqe(w->ring, head, cqe) {
		worker_completed(io_uring_cqe_get_data(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(w->ring, n);
	for (unsigned i = 0; i < w->sq_n; i++) {
		uintptr_t	 p = (uintptr_t)w->sq_conns[i];
		struct conn	*c = (struct conn *)(p & ~(uintptr_t)1);

		/*
		 * A datagram (tagged) whose entry the kernel never took: the
		 * first n entries were consumed, in order, and completed
		 * above; the rest are lost, and counted so.
		 */
		if ((p & 1) && i >= n)
			CTR_ADD(c->wl->ctr->errors[ERR_OTHER], 1);
		else if (!(p & 1) && c->sq_len > 0)
			conn_sent(c, 0);
	}
	w->sq_n = 0;
	io_uring_queue_exit(w->ring);
	free(w->ring);
	w->ring = NULL;
	w->batching = false;
	atomic_store_explicit(&w->ring_ready, false, memory_order_relaxed);
}

/*
 * Submit the gathered sends and reap them all.  The sends carry
 * MSG_DONTWAIT, so the kernel completes each at once (a full socket
 * buffer gives -EAGAIN) and the wait does not block.
 */
void
worker_flush(struct worker *w)
{
	struct io_uring_cqe	*cqe;
	unsigned		 head, n = 0;
	int			 rc;

	if (w->sq_n == 0)
		return;
	if (w->fail_at != 0 && CTR_GET(w->batches) + 1 == w->fail_at) {
		worker_ring_abandon(w, ENOMEM);
		return;
	}
	do
		rc = io_uring_submit_and_wait(w->ring, w->sq_n);
	while (rc == -EINTR);
	if (rc < 0) {
		worker_ring_abandon(w, -rc);
		return;
	}
	CTR_ADD(w->batches, 1);
	CTR_ADD(w->batched, w->sq_n);
	io_uring_for_each_cqe(w->ring, head, cqe) {
		worker_completed(io_uring_cqe_get_data(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(w->ring, n);
	w->sq_n -= n;
}

int
worker_start(struct worker *w, struct engine *e, int id, bool io_uring)
{
	struct event_config	*cfg;
	const char		*fail;
	char			 name[16];
	int			 rc;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->epfd = -1;
	w->tfd = -1;
	w->engine = e;
	/*
	 * For the tests only: make this worker's Nth io_uring submission
	 * fail as the kernel might, to exercise the fallback to send().
	 */
	if ((fail = getenv("LOADD_TEST_URING_FAIL")) != NULL)
		w->fail_at = strtoull(fail, NULL, 10);
	/* And a kernel without epoll_pwait2() (the reply loop's timerfd). */
	fail = getenv("LOADD_TEST_NO_PWAIT2");
	w->no_pwait2 = fail != NULL && *fail != '\0';
	/* And a stuck worker, which the watchdog must notice. */
	if (id == 0 && (fail = getenv("LOADD_TEST_WORKER_STALL")) != NULL)
		w->stall_s = (unsigned)strtoul(fail, NULL, 10);
	w->rng = 0x9E3779B97F4A7C15ull ^ (now_ns() + (uint64_t)id * 7919);
	TAILQ_INIT(&w->queue);
	w->dueq = NULL;
	pthread_mutex_init(&w->lock, NULL);
	/*
	 * Precise timers (timerfd, not epoll's milliseconds): open-loop
	 * latency runs from the intended send time, so a late wake-up would
	 * be measured as the server's delay.
	 */
	if ((cfg = event_config_new()) == NULL)
		return -1;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	/*
	 * epoll changes made within one pass of the loop go to the kernel
	 * once, when the next pass begins: a connection opened, written and
	 * closed in one pass (churn) costs one epoll_ctl() instead of four.
	 * libevent's caveat, a descriptor closed while a change to it is
	 * pending, is met by closing sockets only in the next pass
	 * (worker_close_later), and a worker never dup()s.
	 */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	/*
	 * Only this worker's thread touches its base, so the base needs no
	 * lock: libevent would otherwise take one around every event added,
	 * removed and run, i.e. on every message.  The main thread reaches
	 * the worker through an eventfd, not event_active().
	 */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (w->base == NULL)
		return -1;
	/*
	 * Two priorities, only for the wake-up: a command must not wait
	 * behind a pass of flood writes that epoll reported with it.
	 */
	if (event_base_priority_init(w->base, 2) == -1)
		return -1;
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd == -1)
		return -1;
	w->wakeup = event_new(w->base, w->wake_fd, EV_READ | EV_PERSIST,
	    worker_wakeupcb, w);
	w->pace = evtimer_new(w->base, worker_pacecb, w);
	w->trim = evtimer_new(w->base, worker_trimcb, w);
	w->closer = evtimer_new(w->base, worker_closercb, w);
	if (w->wakeup == NULL || w->pace == NULL || w->trim == NULL ||
	    w->closer == NULL ||
	    event_priority_set(w->wakeup, 0) == -1 ||
	    event_add(w->wakeup, NULL) == -1)
		return -1;
	w->want_ring = io_uring;
	if ((rc = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		errno = rc;
		return -1;
	}
	/* For top -H and /proc/PID/task/TID/comm. */
	snprintf(name, sizeof(name), "loadd-w%d", id);
	(void)pthread_setname_np(w->thread, name);
	return 0;
}

void
worker_close_later(struct worker *w, int fd)
{
	static const struct timeval	 now = { 0, 0 };

	if (w->nclosing == w->closing_cap) {
		unsigned	 cap = w->closing_cap ? w->closing_cap * 2 : 64;
		int		*v = reallocarray(w->closing, cap, sizeof(*v));

		if (v == NULL)
			fatal("reallocarray");
		w->closing = v;
		w->closing_cap = cap;
	}
	w->closing[w->nclosing++] = fd;
	if (!evtimer_pending(w->closer, NULL))
		evtimer_add(w->closer, &now);
}

/*
 * The closer runs once a pass at most (a timer).  What it finds queued
 * may have been queued earlier in this very pass, with its epoll change
 * still pending: it only ripens now, and is closed on the next run, by
 * when a pass has begun and applied every change made before it.
 */
static void
worker_closercb(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval	 now = { 0, 0 };
	struct worker			*w = arg;
	int				*v;
	unsigned			 cap;

	for (unsigned i = 0; i < w->nripe; i++)
		close(w->ripe[i]);
	/* The closing list becomes the ripe one; the emptied one is reused. */
	v = w->ripe;
	cap = w->ripe_cap;
	w->ripe = w->closing;
	w->ripe_cap = w->closing_cap;
	w->nripe = w->nclosing;
	w->closing = v;
	w->closing_cap = cap;
	w->nclosing = 0;
	if (w->closing_cap > 4096) {
		/* After a mass close, not the per-connection path. */
		free(w->closing);
		w->closing = NULL;
		w->closing_cap = 0;
	}
	if (w->nripe > 0 && what != 0)	/* 0: called at the end, by hand */
		evtimer_add(w->closer, &now);
}

/* After the thread has been joined: what the main thread made for it. */
void
worker_free(struct worker *w)
{
	event_free(w->wakeup);
	close(w->wake_fd);
	event_free(w->pace);
	event_free(w->trim);
	event_free(w->closer);
	if (w->rxev != NULL)
		event_free(w->rxev);
	if (w->epfd != -1)
		close(w->epfd);
	if (w->tfd != -1)
		close(w->tfd);
	free(w->closing);
	free(w->ripe);
	event_base_free(w->base);
	pthread_mutex_destroy(&w->lock);
}

/* Hand a command to the worker; called by the main thread. */
void
worker_post(struct worker *w, struct wcmd *cmd)
{
	pthread_mutex_lock(&w->lock);
	TAILQ_INSERT_TAIL(&w->queue, cmd, entry);
	pthread_mutex_unlock(&w->lock);
	/* Only fails if the counter is near 2^64: it is read at each wake. */
	(void)eventfd_write(w->wake_fd, 1);
}

static struct wload *
worker_find(struct worker *w, int id)
{
	struct wload	*wl;

	for (wl = w->wloads; wl != NULL; wl = wl->next) {
		if (wl->id == id)
			return wl;
	}
	return NULL;
}

/*
 * The shape of the load's messages: one length for all (uniform), or a
 * cycle of the list with each message's start in it.  A template load
 * (a field in some message) has no ring: its messages are expanded as
 * they are sent.
 */
static void
wload_cycle(struct wload *wl)
{
	const struct load_conf	*lc = wl->conf;
	const struct payload	*pl = &lc->payload;

	wl->size = lc->size;
	wl->uniform = !lc->varying;
	wl->cyc_n = 1;
	wl->cyc_len = lc->size;
	if (lc->content != CONTENT_MESSAGES)
		return;
	if (!pl->is_static) {
		wl->tmpl = pl;
		wl->uniform = false;
		wl->cyc_len = 1;	/* conn_prepare's alignment: none */
		for (unsigned i = 0; i < pl->nmsgs; i++) {
			for (unsigned j = 0; j < pl->msgs[i].nsegs; j++) {
				if (pl->msgs[i].segs[j].kind == PF_TIME_US)
					wl->tmpl_clock = true;
			}
		}
		return;
	}
	wl->cyc_n = pl->nmsgs;
	wl->cyc_len = 0;
	for (unsigned i = 0; i < pl->nmsgs; i++)
		wl->cyc_len += pl->msgs[i].nbytes;
	if (wl->uniform)
		return;
	wl->cyc_off = xcalloc((size_t)wl->cyc_n + 1, sizeof(*wl->cyc_off));
	for (unsigned i = 0; i < pl->nmsgs; i++)
		wl->cyc_off[i + 1] = wl->cyc_off[i] + pl->msgs[i].nbytes;
}

/* Build the payload ring: whole cycles of messages back to back. */
static void
wload_payload(struct wload *wl)
{
	const struct load_conf	*lc = wl->conf;
	const struct payload	*pl = &lc->payload;
	size_t			 ncyc, i, at;

	wload_cycle(wl);
	if (wl->tmpl != NULL)
		return;
	/* Enough that one reference covers many small messages. */
	ncyc = (512 * 1024) / wl->cyc_len;
	if (ncyc < 2 && wl->cyc_n == 1)
		ncyc = 2;
	if (ncyc < 1)
		ncyc = 1;	/* a cycle of several is long enough */
	wl->payload_len = ncyc * wl->cyc_len;
	wl->payload = xmalloc(wl->payload_len);
	if (lc->content == CONTENT_MESSAGES) {
		for (at = 0; at < wl->payload_len; ) {
			for (unsigned m = 0; m < pl->nmsgs; m++) {
				memcpy(wl->payload + at, pl->msgs[m].bytes,
				    pl->msgs[m].nbytes);
				at += pl->msgs[m].nbytes;
			}
		}
		return;
	}
	for (i = 0; i < wl->payload_len; i++) {
		uint64_t r = worker_random(wl->w) >> 33;

		if (lc->content == CONTENT_LETTERS) {
			r %= 52;
			wl->payload[i] = (char)(r < 26 ? 'a' + r : 'A' + r - 26);
		} else
			wl->payload[i] = (char)(r & 0xff);
	}
}

/*
 * Entries of cyc_off[0 .. cyc_n] that are <= off: 1 + the index of the
 * message that off falls in.
 */
static unsigned
wload_cyc_upper(const struct wload *wl, size_t off)
{
	unsigned	 lo = 0, hi = wl->cyc_n + 1;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (wl->cyc_off[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* wload_msgs_in() for a list of several lengths. */
uint64_t
wload_msgs_in_list(const struct wload *wl, uint64_t b)
{
	return b / wl->cyc_len * wl->cyc_n +
	    wload_cyc_upper(wl, (size_t)(b % wl->cyc_len)) - 1;
}

/* wload_msgs_bytes() for a list of several lengths. */
size_t
wload_msgs_bytes_list(const struct wload *wl, size_t pos, uint64_t k)
{
	unsigned	 i, j;
	size_t		 n;

	i = wload_cyc_upper(wl, pos % wl->cyc_len) - 1;
	n = (size_t)(k / wl->cyc_n) * wl->cyc_len;
	j = i + (unsigned)(k % wl->cyc_n);
	if (j <= wl->cyc_n)
		return n + wl->cyc_off[j] - wl->cyc_off[i];
	return n + wl->cyc_len - wl->cyc_off[i] + wl->cyc_off[j - wl->cyc_n];
}

/*
 * How far a connection may fall behind its schedule and still send what
 * it owes (skip_ns; beyond, wload_skip counts the moments skipped), and
 * whether a paced send may queue behind bytes the kernel refused.
 *
 * catch_up = "drop": a tick late (at least 1 ms).  "burst" sends every
 * moment it owes, but a max_rate below RATE_LIMIT is a promise to the
 * server: a connection never sends more than CATCH_UP_CEILING x max_rate
 * messages in any second (plus one burst).  What it sends in a second
 * was due within that second or at most skip_ns before it, rate x (1 s +
 * skip) messages, so skip = (CATCH_UP_CEILING x max_rate - rate) / rate
 * seconds: 0.1 s at rate = max_rate, which a busy host's late timers
 * stay well within.  Nothing may wait in the output buffer either
 * (paced_high 1): it would leave at the line's speed when the server
 * reads again.
 */
#define CATCH_UP_CEILING	1.1

static void
wload_set_catch_up(struct wload *wl)
{
	const struct load_conf	*lc = wl->conf;
	uint64_t		 floor = wl->tick_ns > 1000000 ?
				    wl->tick_ns : 1000000;
	double			 d;

	wl->skip_ns = lc->catch_up_drop ? floor : 0;
	wl->paced_high = OUT_HIGH_WATER;
	if (lc->max_rate >= RATE_LIMIT || !(wl->rate > 0))
		return;
	wl->paced_high = 1;
	if (lc->catch_up_drop)
		return;
	d = (CATCH_UP_CEILING * lc->max_rate - wl->rate) / wl->rate * 1e9;
	if (!(d < (double)INTERVAL_MAX_NS))
		d = (double)INTERVAL_MAX_NS;
	wl->skip_ns = d > (double)floor ? (uint64_t)d : floor;
}

static void
wload_set_rate(struct wload *wl, double rate)
{
	struct conn	*c;
	uint64_t	 now = now_ns();
	double		 iv;

	/* The daemon refuses NaN and negatives; here, the slowest pace. */
	if (isnan(rate) || rate < 0)
		rate = RATE_MIN;
	wl->rate = rate;
	/*
	 * A burst of N is N messages every N / rate seconds; saturated, so
	 * that no rate, however small, wraps to a short interval.
	 */
	iv = 1e9 * wl->conf->burst / rate;
	if (!(iv < (double)INTERVAL_MAX_NS))
		iv = (double)INTERVAL_MAX_NS;
	wl->interval_ns = rate == 0 ? 0 : iv < 1 ? 1 : (uint64_t)iv;
	wload_set_catch_up(wl);
	/*
	 * Re-anchor every connection's schedule at now, each at a random
	 * phase within the new interval: no burst, and no backlog carried
	 * over from the old rate.
	 */
	TAILQ_FOREACH(c, &wl->idle, entry)
		c->next_due = 0;	/* a fresh schedule when opened */
	TAILQ_FOREACH(c, &wl->conns, entry) {
		if (c->state != CONN_UP) {
			c->next_due = 0;
			continue;
		}
		pace_remove(c);
		if (wl->conf->idle)
			continue;
		if (rate > 0)
			pace_start(c, now);
		else if (wl->conf->expect == EXPECT_NONE)
			conn_fill(c);
		else
			conn_check_replies(c, now);	/* closed loop refill */
	}
	pace_schedule(wl->w);
}

/* The IP address of a socket address, and its length; NULL if none. */
static const void *
wload_ip(const struct sockaddr_storage *ss, size_t *len)
{
	if (ss->ss_family == AF_INET) {
		*len = sizeof(struct in_addr);
		return &((const struct sockaddr_in *)ss)->sin_addr;
	}
	if (ss->ss_family == AF_INET6) {
		*len = sizeof(struct in6_addr);
		return &((const struct sockaddr_in6 *)ss)->sin6_addr;
	}
	return NULL;
}

/*
 * A TCP connect can meet itself (simultaneous open) only from the
 * target's own address: with sources that all differ from every target's
 * address, the check (two system calls a connect) is skipped.
 */
static bool
wload_may_self_connect(const struct load_conf *lc)
{
	const void	*a, *b;
	size_t		 alen, blen;

	if (lc->protocol == PROTO_UDP)
		return false;
	for (int t = 0; t < lc->ntargets; t++) {
		if ((a = wload_ip(&lc->targets[t].addr, &alen)) == NULL)
			continue;	/* unix: never */
		if (lc->nsources == 0)
			return true;
		for (int i = 0; i < lc->nsources; i++) {
			b = wload_ip(&lc->sources[i], &blen);
			if (b != NULL && alen == blen && memcmp(a, b, alen) == 0)
				return true;
		}
	}
	return false;
}

/* How the load's replies end, for the framings (the profile checked it). */
static void
wload_framing(struct wload *wl)
{
	const char	*why;

	if (load_conf_framing(wl->conf, &wl->fr) &&
	    frame_init(&wl->fr, &why) == -1)
		fatalx("load %s: framing: %s", wl->conf->name, why);
}

static struct wload *
wload_new(struct worker *w, struct wcmd *cmd)
{
	struct wload	*wl = xcalloc(1, sizeof(*wl));
	bool		 plain;

	wl->w = w;
	wl->id = cmd->load_id;
	wl->shared = cmd->shared;	/* the command's reference */
	wl->ctr = &cmd->shared->ctr[w->id];
	wl->tctr = &cmd->shared->tctr[w->id * cmd->shared->ntargets];
	wl->conf = cmd->conf;
	wl->tick_ns = (uint64_t)(wl->conf->tick * 1e9);
	wl->msg_limit = wl->conf->messages_per_connection > 0 ?
	    wl->conf->messages_per_connection : UINT64_MAX;
	TAILQ_INIT(&wl->idle);
	TAILQ_INIT(&wl->conns);
	/* The transport, once: the worker never asks again. */
	switch (wl->conf->protocol) {
	case PROTO_TLS:
		wl->tp = &transport_tls;
		break;
	case PROTO_UDP:
		wl->tp = &transport_udp;
		break;
	default:
		wl->tp = &transport_tcp;
		break;
	}
	/* Logged if it fails; then each connect fails, counted and logged. */
	if (wl->conf->protocol == PROTO_TLS)
		(void)tls_wload_init(wl);
	if (load_conf_timed(wl->conf)) {
		wl->h = xcalloc(WL_HISTS, sizeof(*wl->h));
		for (int i = 0; i < WL_HISTS; i++)
			hist_reset(&wl->h[i]);
	}
	wload_framing(wl);
	if (wl->conf->expect != EXPECT_NONE) {
		double	 t = wl->conf->reply_timeout / 4;
		struct timeval tv;

		/* Sweep for overdue replies a few times per timeout. */
		if (t > 1)
			t = 1;
		if (t < 0.01)
			t = 0.01;
		tv = tv_from_s(t);
		wl->reply_check = event_new(w->base, -1, EV_PERSIST,
		    wload_reply_checkcb, wl);
		if (wl->reply_check == NULL)
			fatalx("%s: event_new", __func__);
		evtimer_add(wl->reply_check, &tv);
	}
	/* Workers start at different sources, so a few connections spread. */
	wl->next_source = (unsigned)w->id;
	/* An equal share each, at least 1: the sum may exceed a tiny bound. */
	wl->connecting_max = wl->conf->connects_inflight /
	    w->engine->nworkers;
	if (wl->connecting_max < 1)
		wl->connecting_max = 1;
	wl->tokens = 1;
	wl->tokens_at = now_ns();
	wl->opener = evtimer_new(w->base, wload_openercb, wl);
	if (wl->opener == NULL)
		fatalx("%s: evtimer_new", __func__);
	wload_payload(wl);
	wl->self_check = wload_may_self_connect(wl->conf);
	/*
	 * A plain load (one size, no template, burst 1, no
	 * messages_per_connection): the paced path serves it without a detour.
	 */
	plain = wl->uniform && wl->tmpl == NULL && wl->conf->burst == 1 &&
	    wl->msg_limit == UINT64_MAX;
	wl->plain = plain;
	wl->send_due = plain && wl->tp->send_due_plain != NULL ?
	    wl->tp->send_due_plain : wl->tp->send_due;
	if (plain && wl->conf->expect != EXPECT_NONE &&
	    wl->tp->send_due_rq_plain != NULL) {
		wl->send_due = wl->tp->send_due_rq_plain;
		wl->rq_plain = true;
	}
	wl->echo_plain = wl->conf->expect == EXPECT_ECHO && wl->uniform &&
	    wl->tmpl == NULL;
	wl->next = w->wloads;
	w->wloads = wl;
	wload_set_rate(wl, cmd->rate);
	wload_set_target(wl, cmd);
	return wl;
}

static void
wload_free(struct wload *wl)
{
	struct worker	*w = wl->w;
	struct wload	**pp;

	memset(wl->tgt_want, 0, sizeof(wl->tgt_want));
	wload_adjust(wl);
	/* wload_adjust emptied both lists: target 0 frees every slot. */
	for (pp = &w->wloads; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == wl) {
			*pp = wl->next;
			break;
		}
	}
	event_free(wl->opener);
	if (wl->reply_check != NULL)
		event_free(wl->reply_check);
	free(wl->h);
	free(wl->payload);
	free(wl->dscratch);
	free(wl->cyc_off);
	tls_wload_free(wl);
	load_conf_free(wl->conf);
	/* The main thread may have dropped its reference already. */
	load_shared_unref(wl->shared);
	free(wl);
}

void
wload_idle(struct wload *wl, struct conn *c)
{
	TAILQ_REMOVE(&wl->conns, c, entry);
	TAILQ_INSERT_TAIL(&wl->idle, c, entry);
}

/*
 * Open idle slots as fast as this worker's share of connect_rate allows,
 * and no more at once than its share of connects_inflight; come back when
 * the next token is due, or (wload_kick) when a connect ends.
 *
 * The bound matters on a fast path such as loopback, where connect_rate
 * is set high: SYNs sent all at once beyond the server's SYN and accept
 * queues (somaxconn, tcp_max_syn_backlog) are dropped, and each of those
 * connects then waits out a SYN retransmission (1 s, 3 s, ...) or its
 * connect_timeout.  Opening the next slots as connects complete keeps
 * the server's queues short and the whole scale-up fast.
 */
void
wload_open_pending(struct wload *wl)
{
	double		 rate = wl->conf->connect_rate /
				    wl->w->engine->nworkers;
	double		 burst = rate / 20 > 1 ? rate / 20 : 1;
	uint64_t	 now = now_ns();
	struct conn	*c;
	struct timeval	 tv;
	double		 wait;

	if (TAILQ_EMPTY(&wl->idle))
		return;
	wl->tokens += (double)(now - wl->tokens_at) / 1e9 * rate;
	if (wl->tokens > burst)
		wl->tokens = burst;
	wl->tokens_at = now;
	while (wl->tokens >= 1 && wl->connecting < wl->connecting_max &&
	    (c = TAILQ_FIRST(&wl->idle)) != NULL) {
		TAILQ_REMOVE(&wl->idle, c, entry);
		TAILQ_INSERT_TAIL(&wl->conns, c, entry);
		wl->tokens -= 1;
		conn_open(c);
	}
	/* Full of connects in flight: the next one to end kicks. */
	if (!TAILQ_EMPTY(&wl->idle) && wl->connecting < wl->connecting_max &&
	    !evtimer_pending(wl->opener, NULL)) {
		wait = (1 - wl->tokens) / rate;
		/*
		 * A tiny connect_rate makes the wait centuries long (or
		 * infinite): wake hourly instead and count the tokens again.
		 */
		if (!(wait < 3600))
			wait = 3600;
		if (wait < 0.001)
			wait = 0.001;
		tv = tv_from_s(wait);
		evtimer_add(wl->opener, &tv);
	}
}

/*
 * A connect ended: open what now may be, once per pass of the event loop
 * (after every completion that epoll reported together), not once per
 * completion, and never from inside conn_open's caller.
 */
void
wload_kick(struct wload *wl)
{
	if (wl->connecting < wl->connecting_max && !TAILQ_EMPTY(&wl->idle))
		event_active(wl->opener, EV_TIMEOUT, 1);
}

static void
wload_openercb(evutil_socket_t fd, short what, void *arg)
{
	wload_open_pending(arg);
}

/* This worker's share, split by destination, from a command. */
static void
wload_set_target(struct wload *wl, const struct wcmd *cmd)
{
	memcpy(wl->tgt_want, cmd->tgt, sizeof(wl->tgt_want));
	wload_adjust(wl);
}

/*
 * Free up to n slots of target t from list, skipping established ones
 * when told.  Returns how many were freed.
 */
static int
wload_drop(struct wload *wl, struct conn_list *list, int t, int n,
    bool skip_up)
{
	struct conn	*c, *tmp;
	int		 freed = 0;

	TAILQ_FOREACH_SAFE(c, list, entry, tmp) {
		if (freed == n)
			break;
		if (c->tgt != t || (skip_up && c->state == CONN_UP))
			continue;
		TAILQ_REMOVE(list, c, entry);
		conn_free(c);
		wl->nconns--;
		wl->tgt_have[t]--;
		freed++;
	}
	return freed;
}

/*
 * A template load's slot carries a struct conn_tmpl behind its request
 * ring, and a number for {conn}: unique in the load, since each worker
 * numbers its own slots in a stride of the workers.
 */
static void
wload_tmpl_slot(struct wload *wl, struct conn *c)
{
	struct conn_tmpl	*tx;
	int			 nw = wl->w->engine->nworkers;

	c->rq = xcalloc(1, (size_t)wl->conf->inflight * sizeof(*c->rq) +
	    sizeof(*tx));
	tx = conn_tmpl(c);
	tx->id = wl->next_slot++ * (uint32_t)nw + (uint32_t)wl->w->id;
}

/*
 * Bring the number of slots of each target to this worker's split of it
 * (the main thread splits a load so that, over all workers, targets are
 * never more than one connection apart).  Scaling down closes the
 * surplus at once, idle and connecting slots first, so that the
 * established count the server sees drops as little as it must.  Every
 * slot, whatever its state, counts toward the target: that is what keeps
 * the server's view at or under the target while connects are in flight.
 */
void
wload_adjust(struct wload *wl)
{
	struct conn	*c;
	int		 before = wl->nconns;

	for (int t = 0; t < wl->conf->ntargets; t++) {
		int over = wl->tgt_have[t] - wl->tgt_want[t];

		if (over > 0)
			over -= wload_drop(wl, &wl->idle, t, over, false);
		if (over > 0)
			over -= wload_drop(wl, &wl->conns, t, over, true);
		if (over > 0)
			(void)wload_drop(wl, &wl->conns, t, over, false);
	}
	if (before - wl->nconns >= TRIM_AFTER_FREED)
		worker_give_back(wl->w);
	for (int t = 0; t < wl->conf->ntargets; t++) {
		while (wl->tgt_have[t] < wl->tgt_want[t]) {
			c = xcalloc(1, sizeof(*c));
			c->wl = wl;
			c->fd = -1;
			c->tgt = (uint16_t)t;
			c->heap_idx = HEAP_NONE;
			if (wl->tmpl != NULL)
				wload_tmpl_slot(wl, c);
			TAILQ_INSERT_TAIL(&wl->idle, c, entry);
			wl->nconns++;
			wl->tgt_have[t]++;
		}
	}
	wload_open_pending(wl);
}

/*
 * After a scale-down (or a stop, or a load removed) freed many
 * connections: give the memory back.  Freed memory otherwise stays in
 * malloc's arenas, between blocks still in use, and the RSS of a daemon
 * that once held 20,000 connections would stay at its peak.  Also shrink
 * the pace heap's array.  Never on the per-message path.
 *
 * libevent frees a bufferevent only after the callbacks of the current
 * loop pass (its finalizers), so the trim runs from a short timer.
 */
void
worker_give_back(struct worker *w)
{
	static const struct timeval	 later = { 0, 100000 };

	evtimer_add(w->trim, &later);
}

static void
worker_trimcb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	if (w->heap_cap > 64 && w->heap_n < w->heap_cap / 4) {
		unsigned	 cap = w->heap_cap / 2;
		struct conn	**h;

		while (cap > 64 && w->heap_n < cap / 4)
			cap /= 2;
		if ((h = reallocarray(w->heap, cap, sizeof(*h))) != NULL) {
			w->heap = h;
			w->heap_cap = cap;
		}
	}
	mem_cache_flush();
#ifndef LOADD_SANITIZE
	/*
	 * Not under a sanitizer: its allocator owns the heap, and glibc's
	 * malloc_trim() would set up glibc's arenas from this thread and
	 * attach it to one uncounted, which glibc asserts on when the thread
	 * exits ("a->attached_threads > 0", seen once in CI under ASan).
	 */
	(void)malloc_trim(0);
#endif
}

/*
 * catch_up = "drop": the due moments a connection missed by more than
 * skip_ns (a stall, a reconnect, requests held back by inflight) are not
 * sent but counted as skipped, each of its burst messages; the schedule
 * goes on from the first moment within skip_ns, which leaves as usual.
 * Those messages are then missing from the latency record (coordinated
 * omission), which `skipped` makes visible.
 */
void
wload_skip(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;
	uint64_t	 n = 0, gap;

	if (now < wl->skip_ns || c->next_due >= now - wl->skip_ns)
		return;
	if (wl->conf->arrival == ARRIVAL_UNIFORM) {
		n = (now - wl->skip_ns - c->next_due) / wl->interval_ns + 1;
		c->next_due += n * wl->interval_ns;
	} else {
		/* Exponential gaps have no memory: draw them anew. */
		while (c->next_due < now - wl->skip_ns) {
			gap = wload_gap(wl);
			c->next_due += gap;
			n++;
		}
	}
	CTR_ADD(wl->ctr->skipped, n * wl->conf->burst);
}

/* ns until the next scheduled message of a paced load. */
uint64_t
wload_gap_poisson(struct wload *wl)
{
	double	 u;

	/* Poisson arrivals: exponential gaps with mean interval_ns. */
	u = ((double)(worker_random(wl->w) >> 11) + 0.5) / 9007199254740992.0;
	return (uint64_t)(-log(u) * (double)wl->interval_ns) + 1;
}

/*
 * The paced connections of all a worker's loads are scheduled on
 * next_due in two parts: a due queue in order, which takes a connection
 * only at its tail (due no sooner than the tail), and a binary min-heap
 * for the rest.  The earliest is the queue's head or the heap's root, so
 * the timer always aims at it.  A uniform load's served connection is due
 * one interval on, after every other (they all started within one
 * interval), and rejoins the queue's tail in O(1): the heap's O(log n)
 * walk (about 100 instructions a request with 50 connections) is left to
 * Poisson arrivals, loads of other rates and connections that come back
 * out of order (from a full output, a rate change), which serve from the
 * heap until they are in order again.
 */
static bool
heap_less(const struct conn *a, const struct conn *b)
{
	return a->next_due < b->next_due;
}

static void
heap_set(struct worker *w, unsigned i, struct conn *c)
{
	w->heap[i] = c;
	c->heap_idx = i;
}

static void
heap_up(struct worker *w, unsigned i)
{
	struct conn	*c = w->heap[i];

	while (i > 0 && heap_less(c, w->heap[(i - 1) / 2])) {
		heap_set(w, i, w->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(w, i, c);
}

static void
heap_down(struct worker *w, unsigned i)
{
	struct conn	*c = w->heap[i];
	unsigned	 child;

	while ((child = 2 * i + 1) < w->heap_n) {
		if (child + 1 < w->heap_n &&
		    heap_less(w->heap[child + 1], w->heap[child]))
			child++;
		if (!heap_less(w->heap[child], c))
			break;
		heap_set(w, i, w->heap[child]);
		i = child;
	}
	heap_set(w, i, c);
}

/*
 * The root was served and its next message is usually the latest of all:
 * walk the hole down to a leaf by the smaller child (one comparison a
 * level instead of two), then let the connection climb back, which it
 * seldom needs to.
 */
static void
heap_down_root(struct worker *w)
{
	struct conn	*c = w->heap[0];
	unsigned	 i = 0, child;

	while ((child = 2 * i + 1) < w->heap_n) {
		if (child + 1 < w->heap_n &&
		    heap_less(w->heap[child + 1], w->heap[child]))
			child++;
		heap_set(w, i, w->heap[child]);
		i = child;
	}
	heap_set(w, i, c);
	heap_up(w, i);
}

/* The root of the heap leaves it (served: it goes to the due queue). */
static void
heap_pop(struct worker *w)
{
	w->heap[0]->heap_idx = HEAP_NONE;
	if (--w->heap_n == 0)
		return;
	heap_set(w, 0, w->heap[w->heap_n]);
	heap_down(w, 0);
}

static void
heap_insert(struct worker *w, struct conn *c)
{
	if (w->heap_n == w->heap_cap) {
		w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 64;
		w->heap = reallocarray(w->heap, w->heap_cap, sizeof(*w->heap));
		if (w->heap == NULL)
			fatal("reallocarray");
	}
	heap_set(w, w->heap_n++, c);
	heap_up(w, c->heap_idx);
}

/*
 * The due queue is a ring (due_next, due_prev) and w->dueq its earliest
 * connection, so that the last is the earliest's due_prev, and the usual
 * move, the served earliest to the end, is one step of w->dueq.
 */
static inline void
dueq_append(struct worker *w, struct conn *c)
{
	struct conn	*first = w->dueq;

	if (first == NULL) {
		c->due_next = c->due_prev = c;
		w->dueq = c;
	} else {
		c->due_next = first;
		c->due_prev = first->due_prev;
		first->due_prev->due_next = c;
		first->due_prev = c;
	}
	c->heap_idx = HEAP_DUEQ;
}

/* c leaves the ring (its heap_idx is the caller's). */
static inline void
dueq_unlink(struct worker *w, struct conn *c)
{
	if (c->due_next == c) {
		w->dueq = NULL;
		return;
	}
	c->due_prev->due_next = c->due_next;
	c->due_next->due_prev = c->due_prev;
	if (w->dueq == c)
		w->dueq = c->due_next;
}

/* May c join the due queue's tail, the queue staying in order? */
static inline bool
dueq_takes(const struct worker *w, const struct conn *c)
{
	return w->dueq == NULL || w->dueq->due_prev->next_due <= c->next_due;
}

/* The earliest scheduled connection: the queue's head or the heap's root. */
static inline struct conn *
pace_first(const struct worker *w)
{
	struct conn	*q = w->dueq;

	if (w->heap_n > 0 && (q == NULL || w->heap[0]->next_due < q->next_due))
		return w->heap[0];
	return q;
}

void
pace_push(struct conn *c)
{
	struct worker	*w = c->wl->w;

	if (c->heap_idx != HEAP_NONE)
		return;
	if (dueq_takes(w, c))
		dueq_append(w, c);
	else
		heap_insert(w, c);
	if (!w->spinning && pace_first(w) == c)
		pace_schedule(w);
}

void
pace_remove(struct conn *c)
{
	struct worker	*w = c->wl->w;
	struct conn	*moved;
	unsigned	 i = c->heap_idx;

	if (i == HEAP_NONE)
		return;
	c->heap_idx = HEAP_NONE;
	if (i == HEAP_DUEQ) {
		dueq_unlink(w, c);
		return;
	}
	if (i == --w->heap_n)
		return;
	/* The last element fills the hole; it may belong above or below. */
	moved = w->heap[w->heap_n];
	heap_set(w, i, moved);
	heap_down(w, i);
	heap_up(w, moved->heap_idx);
}

/*
 * The earliest connection was served and is due again later: to the due
 * queue's tail if it is due no sooner than the tail (a uniform load's
 * usual case: the queue's head, which becomes its tail by one step of
 * w->dueq, in line), else into (or down) the heap (pace_resort).
 */
static void	pace_resort(struct worker *, struct conn *);

static inline __attribute__((always_inline)) void
pace_requeue(struct worker *w, struct conn *c)
{
	struct conn	*first = w->dueq;

	if (c == first && first->due_prev->next_due <= c->next_due)
		w->dueq = c->due_next;	/* the head is the tail now */
	else
		pace_resort(w, c);
}

static void
pace_resort(struct worker *w, struct conn *c)
{
	if (c->heap_idx == HEAP_DUEQ) {
		if (c == w->dueq->due_prev)
			return;		/* last: in order */
		dueq_unlink(w, c);
		if (dueq_takes(w, c))
			dueq_append(w, c);
		else
			heap_insert(w, c);
		return;
	}
	if (dueq_takes(w, c)) {
		heap_pop(w);
		dueq_append(w, c);
	} else
		heap_down_root(w);
}

/*
 * A connection joins its load's schedule at a random phase within one
 * interval, so that connections opened together do not send together.
 */
void
pace_start(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;

	c->next_due = now + worker_random(wl->w) % wl->interval_ns;
	pace_push(c);
}

/*
 * When the pace timer should next run: for the earliest due connection,
 * but no sooner than a tick after the last run (what falls due within a
 * tick is served together; the tick is the shortest of the worker's paced
 * loads).  UINT64_MAX when nothing is paced.
 */
static uint64_t
pace_tick(const struct worker *w)
{
	struct wload	*wl;
	uint64_t	 tick = UINT64_MAX;

	for (wl = w->wloads; wl != NULL; wl = wl->next) {
		if (wl->rate > 0 && wl->tick_ns < tick)
			tick = wl->tick_ns;
	}
	return tick == UINT64_MAX ? 0 : tick;
}

static inline __attribute__((always_inline)) uint64_t
pace_next(const struct worker *w, uint64_t tick)
{
	const struct conn	*c = pace_first(w);
	uint64_t		 first;

	if (c == NULL)
		return UINT64_MAX;
	first = c->next_due;
	if (tick > 0 && first < (w->pace_last / tick + 1) * tick)
		first = (w->pace_last / tick + 1) * tick;
	return first;
}

/* Arm the pace timer (pace_next); the reply loop arms it as it leaves. */
void
pace_schedule(struct worker *w)
{
	uint64_t	 first, now;
	struct timeval	 tv;

	if (w->spinning)
		return;
	if ((first = pace_next(w, pace_tick(w))) == UINT64_MAX) {
		evtimer_del(w->pace);
		return;
	}
	now = now_ns();
	first = first > now ? first - now : 0;
	tv.tv_sec = (time_t)(first / 1000000000ull);
	tv.tv_usec = (suseconds_t)(first % 1000000000ull / 1000);
	evtimer_add(w->pace, &tv);
}

/* A reply socket the reply loop found readable, if it is still the one. */
static void
worker_rx_one(struct conn *c, uint64_t now)
{
	/* An earlier event of this batch may have closed it. */
	if (c->rx->on && c->state == CONN_UP)
		conn_rx_ready(c, now);
}

/* More than one connection due by now? */
static bool
pace_many_due(const struct worker *w, uint64_t now)
{
	const struct conn	*q = w->dueq;
	int			 n = 0;

	if (q != NULL && q->next_due <= now) {
		q = q->due_next;
		if (q != w->dueq && q->next_due <= now)
			return true;
		n++;
	}
	if (w->heap_n > 0 && w->heap[0]->next_due <= now) {
		if (n > 0)
			return true;
		if ((w->heap_n > 1 && w->heap[1]->next_due <= now) ||
		    (w->heap_n > 2 && w->heap[2]->next_due <= now))
			return true;
	}
	return false;
}

/*
 * Serve every paced connection that is due; returns pace_next() after.  A connection that cannot
 * send all it owes (its output is full, or all its requests are in
 * flight) leaves the heap, or the timer would spin; its write callback or
 * its next reply brings it back, still owing.
 */
static inline __attribute__((always_inline)) uint64_t
pace_serve(struct worker *w, uint64_t now, uint64_t tick)
{
	struct conn	*c;

	w->pace_last = now;
	/*
	 * Sends go to the ring when the worker has a tick (many fall due in
	 * one) and more than one is due (pace_many_due).  Without
	 * a tick the loop wakes at each due moment, two rarely coincide, and
	 * a send() costs fewer instructions than a submission entry, the
	 * submission and the reaping.
	 */
	w->batching = w->ring != NULL && tick > 0 && pace_many_due(w, now);
	while ((c = pace_first(w)) != NULL && c->next_due <= now) {
		conn_catch_up(c, now);
		/* send_due of a plain request/response load, in line */
		if (c->wl->rq_plain && c->outlen == 0)
			rq_plain(c, now, true);
		else
			conn_send_due(c, now);
		if (c->heap_idx == HEAP_NONE)
			continue;	/* it failed and left */
		if (c->next_due <= now)
			pace_remove(c);
		else
			pace_requeue(w, c);
	}
	if (w->sq_n > 0)
		worker_flush(w);
	w->batching = false;
	/* A send that failed in the flush left: the next may be later. */
	return pace_next(w, tick);
}

/*
 * How long the reply loop may keep the worker from libevent: what only
 * libevent sees (a connect completing, a bufferevent's write room, a
 * reply_timeout sweep, a flood load's output) waits at most this long
 * while a worker's request/response traffic keeps it busy.
 */
#define SPIN_SLICE_NS	10000000ull

/*
 * May the reply loop hold the worker for a slice?  Only when every load
 * on it is paced or request/response over plain streams: a flood load, or
 * TLS or UDP, lives on libevent's callbacks alone, and then the loop makes
 * one pass and hands back at once.
 */
static bool
worker_may_spin(const struct worker *w)
{
	const struct wload	*wl;

	for (wl = w->wloads; wl != NULL; wl = wl->next) {
		if (wl->tp != &transport_tcp || (wl->rate == 0 &&
		    wl->conf->expect == EXPECT_NONE && wl->nconns > 0))
			return false;
	}
	return true;
}

/* The reply loop's timer event in epfd (the wake-up's is NULL). */
static char	timer_tag;

/*
 * Wait for the reply sockets, a command, or the moment `until` (ns).
 * epoll_pwait2() takes the timeout to the nanosecond; a kernel before
 * 5.11 (or valgrind before 3.21) lacks it, and then a timerfd in the set,
 * armed for each wait, gives the same precision with one more call.
 */
static int
worker_wait(struct worker *w, struct epoll_event *ev, int max,
    uint64_t until, uint64_t now)
{
	struct epoll_event	 tev;
	struct itimerspec	 its;
	struct timespec		 ts;
	uint64_t		 wait = until > now ? until - now : 0;
	int			 n;

	if (w->tfd == -1) {
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		n = w->no_pwait2 ? -1 : sys_epoll_pwait2(w->epfd, ev, max, &ts);
		if (n >= 0 || (errno != ENOSYS && !w->no_pwait2))
			return n;
		tev.events = EPOLLIN;
		tev.data.ptr = &timer_tag;
		if ((w->tfd = timerfd_create(CLOCK_MONOTONIC,
		    TFD_NONBLOCK | TFD_CLOEXEC)) == -1 ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &tev) == -1)
			fatal("the reply loop's timer");
	}
	if (wait == 0)
		return sys_epoll_wait(w->epfd, ev, max, 0);
	/*
	 * Armed anew when the moment changes (which also clears an expiry
	 * not read); a moment still ahead is still armed.
	 */
	if (until != w->tfd_at) {
		its.it_interval.tv_sec = 0;
		its.it_interval.tv_nsec = 0;
		its.it_value.tv_sec = (time_t)(until / 1000000000ull);
		its.it_value.tv_nsec = (long)(until -
		    (uint64_t)its.it_value.tv_sec * 1000000000ull);
		if (sys_timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its) == -1)
			return -1;
		w->tfd_at = until;
	}
	return sys_epoll_wait(w->epfd, ev, max, -1);
}

/*
 * The reply loop.  Request/response traffic costs two wake-ups a request
 * (its due moment and its reply); through libevent each is a whole pass of
 * its loop (a timer deleted and added, the active queue, the changelist),
 * several times what loadd does with the request itself.  Here the worker
 * waits in epoll_pwait2() on its own set of reply sockets, with the next
 * due moment as the timeout (to the nanosecond, with the thread's 1 us
 * timer slack), serves what is due and reads what arrived, for up to a
 * slice; then libevent has its pass.  The wake-up eventfd is in the set
 * too: a command (a collect, a rescale, the exit) ends the slice at once.
 */
static void
worker_spin(struct worker *w)
{
	struct epoll_event	 ev[64];
	uint64_t		 now = now_ns(), end, next, tick;
	bool			 done = false;
	int			 i, n;

	if (w->epfd == -1) {
		/* Nothing reads its own replies: the timer is all there is. */
		pace_serve(w, now, pace_tick(w));
		pace_schedule(w);
		return;
	}
	end = now + (worker_may_spin(w) ? SPIN_SLICE_NS : 0);
	tick = pace_tick(w);	/* no rate changes while it spins */
	w->spinning = true;
	for (;;) {
		if ((next = pace_next(w, tick)) <= now)
			next = pace_serve(w, now, tick);
		if (done)
			break;
		n = worker_wait(w, ev, 64, next < end ? next : end, now);
		now = now_ns();
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				done = true;	/* a command: libevent's */
			else if (ev[i].data.ptr != &timer_tag)
				worker_rx_one(ev[i].data.ptr, now);
		}
		if (n < 0 && errno != EINTR)
			break;
		if (now >= end)
			done = true;	/* one more look at the schedule */
	}
	w->spinning = false;
	pace_schedule(w);
}

/* The pace timer, and the reply sockets seen readable by libevent. */
static void
worker_pacecb(evutil_socket_t fd, short what, void *arg)
{
	worker_spin(arg);
}

static void
worker_rxcb(evutil_socket_t fd, short what, void *arg)
{
	worker_spin(arg);
}

/*
 * A connection that reads its own replies joins the reply loop's epoll
 * set (made with the first, with the wake-up eventfd in it, and watched
 * by libevent as one descriptor).  Level-triggered: what one recv() left
 * is reported again.
 */
int
worker_rx_add(struct worker *w, struct conn *c)
{
	struct epoll_event	 ev = { .events = EPOLLIN };

	if (w->epfd == -1) {
		if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
			return -1;
		ev.data.ptr = NULL;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &ev) == -1 ||
		    (w->rxev = event_new(w->base, w->epfd,
		    EV_READ | EV_PERSIST, worker_rxcb, w)) == NULL ||
		    event_add(w->rxev, NULL) == -1) {
			if (w->rxev != NULL)
				event_free(w->rxev);
			w->rxev = NULL;
			close(w->epfd);
			w->epfd = -1;
			return -1;
		}
	}
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		return -1;
	c->rx->on = true;
	return 0;
}

/* Before its socket closes (the set must not outlive it). */
void
worker_rx_del(struct worker *w, struct conn *c)
{
	(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->rx->on = false;
}

/* Overdue replies: a few sweeps per reply_timeout. */
static void
wload_reply_checkcb(evutil_socket_t fd, short what, void *arg)
{
	struct wload	*wl = arg;
	struct conn	*c, *tmp;
	uint64_t	 now = now_ns();

	TAILQ_FOREACH_SAFE(c, &wl->conns, entry, tmp) {
		if (c->state == CONN_UP && c->rq_n > 0)
			conn_check_replies(c, now);
	}
}

/*
 * Hand this interval's histograms to the main thread: once per interval,
 * under the load's lock, never on the per-message path.
 */
static void
worker_collect(struct worker *w)
{
	struct wload	*wl;

	if (w->stall_s > 0 && ++w->collects == 4)
		sleep(w->stall_s);	/* the test hook: stuck */
	for (wl = w->wloads; wl != NULL; wl = wl->next) {
		struct hist	*pend, *both[2];

		if (wl->h == NULL)
			continue;
		pend = wl->shared->pend;
		both[0] = &pend[LAT_LATENCY];
		both[1] = &pend[LAT_SERVICE];
		pthread_mutex_lock(&wl->shared->hist_lock);
		for (int i = 0; i < LAT_MAX; i++)
			hist_move(&pend[i], &wl->h[i]);
		hist_move_n(both, 2, &wl->h[WL_BOTH]);
		pthread_mutex_unlock(&wl->shared->hist_lock);
	}
	if (atomic_fetch_sub(&w->engine->collect_pending, 1) == 1)
		w->engine->collected(w->engine->collected_arg);
}

static void
worker_wakeupcb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	struct wcmd_queue	 q = TAILQ_HEAD_INITIALIZER(q);
	struct wcmd		*cmd;
	struct wload		*wl;
	eventfd_t		 n;

	(void)eventfd_read(fd, &n);	/* reset it; the queue says what to do */
	pthread_mutex_lock(&w->lock);
	TAILQ_CONCAT(&q, &w->queue, entry);
	pthread_mutex_unlock(&w->lock);

	while ((cmd = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, cmd, entry);
		wl = worker_find(w, cmd->load_id);
		switch (cmd->type) {
		case WCMD_ADD_LOAD:
			wload_new(w, cmd);
			break;
		case WCMD_SET_TARGET:
			if (wl != NULL)
				wload_set_target(wl, cmd);
			break;
		case WCMD_SET_RATE:
			if (wl != NULL)
				wload_set_rate(wl, cmd->rate);
			break;
		case WCMD_REMOVE_LOAD:
			if (wl != NULL)
				wload_free(wl);
			break;
		case WCMD_COLLECT:
			worker_collect(w);
			break;
		case WCMD_EXIT:
			event_base_loopbreak(w->base);
			break;
		}
		free(cmd);
	}
}
