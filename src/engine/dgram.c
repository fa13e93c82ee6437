/* SPDX-License-Identifier: ISC */
/*
 * dgram.c -- the UDP transport: one connected datagram socket per slot.
 * One message of the payload ring is one datagram, handed to the kernel
 * by reference (an iovec into the ring) with sendmmsg(), or with the pace
 * tick's io_uring submission; replies are read with recvmmsg().  A
 * datagram is sent whole or not at all, so nothing is ever queued in user
 * space: what the kernel will not take stays owed (whole bursts to the
 * schedule, anything else in dg_owed: see "What is owed" below), and the
 * socket's write readiness brings it back.
 *
 * There is no connection to lose: connect() only fixes the peer, errors
 * the socket reports (an ICMP port unreachable is ECONNREFUSED on the
 * next call) are counted and the socket carries on, and a request whose
 * reply never comes is counted as lost after reply_timeout.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <liburing.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/worker.h"

/* Datagrams per sendmmsg() or recvmmsg(). */
#define DGRAM_BATCH		64
/* Flood: batches per turn of the event loop, then the others' turn. */
#define DGRAM_FLOOD_BATCHES	4
/* Reads: batches per turn of the event loop. */
#define DGRAM_READ_BATCHES	4
/*
 * Paced: datagrams one call may send of a backlog (after an outage, or a
 * late tick); the rest is sent when the socket is next writable, so one
 * connection's backlog cannot hold the worker.
 */
#define DGRAM_PAY_MAX		1024
/* sendmmsg() calls for one batch that the kernel takes only in part. */
#define DGRAM_TRIES		8
/*
 * Replies are read into the stack, each datagram into a slot of exactly
 * the length the load expects (MSG_TRUNC still gives the real length, so
 * a longer one is seen as such without its bytes): 64 KiB hold 64 replies
 * of up to 1 KiB, or one of the largest.  Nothing is allocated per
 * connection or per load, and a load that expects nothing reads none of
 * the bytes at all.
 */
#define DGRAM_RBUF		65536

/*
 * What is owed.  A paced burst that the kernel takes only in part, and a
 * gathered io_uring send that comes back refused, are not dropped: their
 * datagrams are still owed, counted in c->dg_owed, and go first at the
 * next chance, before anything newly due.  Refused means a full buffer
 * (EAGAIN: the socket's write readiness brings the connection back),
 * ENOBUFS (the kernel is short of buffers, which write readiness does not
 * tell: a tick later), or ECONNREFUSED (an ICMP report about an earlier
 * datagram, which this send consumed: counted as refused, and the
 * datagram goes again, as in dgram_flush).  Nothing waits in a busy loop,
 * and messages_sent stays the count of datagrams the kernel took.
 *
 * Without expect, owed datagrams are a count: the next ones of the ring.
 * A request keeps its record in the request ring, behind the outstanding
 * ones, so that it goes with its own bytes (its payload offset; a template
 * is expanded anew with its seq) and its intended time, counts as late
 * when it goes, and holds its in-flight slot all along:
 *
 *	from rq_head: [rq_n outstanding][dg_owed owed][dg_pend gathered]
 *
 * dg_pend counts requests gathered for the pace tick's io_uring
 * submission, outstanding once their completion says that the kernel took
 * them.  A connection's completions come in the order of its sends (each
 * send carries MSG_DONTWAIT and is done inline: none waits), so the first
 * gathered record is the one completing.
 */
enum dgram_wait {
	DGRAM_WAIT_NONE = 0,	/* nothing the socket holds up */
	DGRAM_WAIT_WRITE,	/* a full buffer: until writable */
	DGRAM_WAIT_TICK,	/* ENOBUFS: a tick later */
};

/* dgram_pay: how it pays */
#define DGRAM_PAY_LATE	0x1	/* held back by inflight: late */
#define DGRAM_PAY_OWED	0x2	/* what is owed only (on the timer) */

/*
 * A template load with expect = "echo" keeps each request as it was
 * expanded, in its conn_tmpl's echo area ([inflight] slots of the load's
 * longest message, allocated with the connection).  Replies come in any
 * order, so a slot is not a ring place: each record names its own, as
 * off = slot * DGRAM_ECHO_STRIDE + length, and records only ever move
 * whole (dgram_rq_move), free ones too.  The slots stay a permutation of
 * the ring's places, and the next free record's slot is free.
 */
#define DGRAM_ECHO_STRIDE	65536	/* above any datagram's length */

/*
 * Test hook (LOADD_TEST_UDP_TAKE=N, or N,enobufs): the kernel takes at
 * most N datagrams of each batch handed to it and refuses the rest as a
 * full buffer would: sendmmsg() stops short, then fails with EAGAIN (or
 * ENOBUFS); a gathered io_uring send completes with -EAGAIN (in its place
 * goes a recv from a socket that never gets anything).  On loopback a UDP
 * send buffer never fills (the device frees each datagram's charge as it
 * passes it on), so this is how t_udp sees bursts taken in part.  Read
 * once, at the first socket.
 */
static pthread_once_t	 dgram_test_once = PTHREAD_ONCE_INIT;
static unsigned		 dgram_test_take;	/* 0: off */
static int		 dgram_test_errno = EAGAIN;
static int		 dgram_test_fd = -1;
static char		 dgram_test_byte;

static void	dgram_cb(evutil_socket_t, short, void *);
static void	dgram_refill(struct conn *, uint64_t);

static void
dgram_test_init(void)
{
	const char	*e = getenv("LOADD_TEST_UDP_TAKE");
	char		*end;
	unsigned long	 n;

	if (e == NULL)
		return;
	n = strtoul(e, &end, 10);
	if (n == 0 || n >= DGRAM_BATCH)
		return;
	if (strcmp(end, ",enobufs") == 0)
		dgram_test_errno = ENOBUFS;
	dgram_test_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (dgram_test_fd == -1)
		return;
	dgram_test_take = (unsigned)n;
	log_warnx("LOADD_TEST_UDP_TAKE: the kernel takes at most %u "
	    "datagrams of a batch, then %s (test hook)", dgram_test_take,
	    dgram_test_errno == ENOBUFS ? "ENOBUFS" : "EAGAIN");
}

/* The reply length the load expects: its read slot; 0 for none. */
static size_t
dgram_reply_len(const struct load_conf *lc)
{
	size_t	 n;

	switch (lc->expect) {
	case EXPECT_ECHO:
		n = lc->size;
		break;
	case EXPECT_SIZE:
		n = lc->expect_size;
		break;
	case EXPECT_MATCH:
		n = lc->expect_len;
		break;
	default:
		return 0;
	}
	/* A reply longer than any datagram never matches: its length tells. */
	return n < DGRAM_RBUF ? n : DGRAM_RBUF;
}

/*
 * The write event is wanted while something is owed that a full buffer
 * refused, and always for a flood; after ENOBUFS, a timeout of a tick
 * instead (the load's tick, at least 1 ms).  One event serves both
 * directions: its flags are changed by assigning it anew (not pending
 * meanwhile), which libevent allows from the event's own callback.
 */
static void
dgram_wait(struct conn *c, enum dgram_wait how)
{
	struct wload	*wl = c->wl;
	short		 want = EV_READ | EV_PERSIST |
			    (how == DGRAM_WAIT_WRITE ? EV_WRITE : 0);
	bool		 timed = how == DGRAM_WAIT_TICK;
	uint64_t	 tick = wl->tick_ns > 1000000 ? wl->tick_ns : 1000000;
	struct timeval	 tv;

	if (c->rev == NULL)
		return;
	if (event_get_events(c->rev) == want &&
	    (event_pending(c->rev, EV_TIMEOUT, NULL) != 0) == timed)
		return;
	event_del(c->rev);
	event_assign(c->rev, wl->w->base, c->fd, want, dgram_cb, c);
	tv.tv_sec = (time_t)(tick / 1000000000ull);
	tv.tv_usec = (suseconds_t)(tick % 1000000000ull / 1000);
	if (event_add(c->rev, timed ? &tv : NULL) == -1)
		log_warnx("%s: event_add", __func__);
}

/* Record i of the request ring, from the oldest outstanding. */
static inline struct request_slot *
dgram_rq(const struct conn *c, unsigned i)
{
	return &c->rq[(c->rq_head + i) % (unsigned)c->wl->conf->inflight];
}

/* Records in use: outstanding, owed, gathered. */
static inline unsigned
dgram_rq_used(const struct conn *c)
{
	return c->rq_n + c->dg_owed + c->dg_pend;
}

/*
 * Move record `from` to place `to` (both counted from the oldest), the
 * ones between shifting by a place: no record is lost, nor its echo slot.
 */
static void
dgram_rq_move(struct conn *c, unsigned from, unsigned to)
{
	struct request_slot	 r = *dgram_rq(c, from);

	for (; from < to; from++)
		*dgram_rq(c, from) = *dgram_rq(c, from + 1);
	for (; from > to; from--)
		*dgram_rq(c, from) = *dgram_rq(c, from - 1);
	*dgram_rq(c, to) = r;
}

static inline bool
dgram_echo_kept(const struct wload *wl)
{
	return wl->tmpl != NULL && wl->conf->expect == EXPECT_ECHO;
}

/* A template request's bytes as expanded: its record's echo slot. */
static inline char *
dgram_echo_buf(const struct conn *c, const struct request_slot *r)
{
	return conn_tmpl(c)->echo + r->off / DGRAM_ECHO_STRIDE * c->wl->size;
}

/* Messages this connection may still send (messages_per_connection). */
static uint64_t
dgram_quota(const struct conn *c)
{
	uint64_t	 limit = c->wl->msg_limit;

	if (limit == UINT64_MAX)
		return UINT64_MAX;
	return c->msgs >= limit ? 0 : limit - c->msgs;
}

/* n datagrams the kernel took, of bytes in all. */
static void
dgram_sent(struct conn *c, unsigned n, uint64_t bytes)
{
	struct wload	*wl = c->wl;

	if (n == 0)
		return;
	CTR_ADD(wl->ctr->bytes_sent, bytes);
	CTR_ADD(wl->ctr->messages_sent, n);
	c->written += bytes;
	c->msgs += n;
	/* Requests retire when answered (dgram_reply_done), others now. */
	if (c->msgs >= wl->msg_limit && wl->conf->expect == EXPECT_NONE)
		conn_retire_soon(c);
}

/*
 * Where a template load expands batch entry k, which takes record `at`
 * if it is a request: that record's echo slot when the echo is kept, else
 * scratch slot k (the load's max_len bytes each), which lives as long as
 * the batch (sendmmsg() copies the bytes).
 */
static char *
dgram_tmpl_buf(const struct conn *c, unsigned k, unsigned at)
{
	struct wload	*wl = c->wl;

	if (dgram_echo_kept(wl))
		return dgram_echo_buf(c, dgram_rq(c, at));
	return wl->dscratch + (size_t)k * wl->conf->size;
}

/* A template load: expand the next message into buf for batch entry m. */
static void
dgram_prep_tmpl(struct conn *c, struct mmsghdr *m, struct iovec *iov,
    char *buf, struct payload_vars *v)
{
	struct wload		*wl = c->wl;
	struct conn_tmpl	*tx = conn_tmpl(c);

	v->seq = tx->seq;
	iov->iov_base = buf;
	iov->iov_len = payload_expand(payload_pick(wl->tmpl, tx->seq), v, buf,
	    wl->conf->size);
	tx->seq++;
	memset(&m->msg_hdr, 0, sizeof(m->msg_hdr));
	m->msg_hdr.msg_iov = iov;
	m->msg_hdr.msg_iovlen = 1;
}

/*
 * Where the next message comes from after datagram j of a batch of k: a
 * template's is expanded anew with the same seq, a ring's is datagram j
 * (j == k: the one after the batch, where the ring is).
 */
static void
dgram_rewind(struct conn *c, struct iovec *iov, unsigned j, unsigned k)
{
	if (c->wl->tmpl != NULL)
		conn_tmpl(c)->seq -= k - j;
	else if (j < k)
		c->pos = (size_t)((char *)iov[j].iov_base - c->wl->payload);
}

/*
 * Point batch entry m at the message at pos in the ring, and return the
 * next message's place.  Messages never wrap: the ring is whole messages
 * (whole rounds of a list, whose messages may differ in length).
 */
static size_t
dgram_prep(struct conn *c, struct mmsghdr *m, struct iovec *iov, size_t pos)
{
	struct wload	*wl = c->wl;
	size_t		 len = wload_msgs_bytes(wl, pos, 1);

	iov->iov_base = wl->payload + pos;
	iov->iov_len = len;
	memset(&m->msg_hdr, 0, sizeof(m->msg_hdr));
	m->msg_hdr.msg_iov = iov;
	m->msg_hdr.msg_iovlen = 1;
	pos += len;
	return pos == wl->payload_len ? 0 : pos;
}

/*
 * What a request's record keeps of its datagram (request_slot.off): the
 * place in the payload ring; a kept template echo's length (its slot is
 * the record's already); nothing for another template.
 */
static size_t
dgram_off(const struct conn *c, const struct iovec *iov)
{
	struct wload	*wl = c->wl;

	if (dgram_echo_kept(wl))
		return iov->iov_len;
	if (wl->tmpl != NULL)
		return 0;
	return (size_t)((char *)iov->iov_base - wl->payload);
}

/* Set a record's off, keeping its echo slot if it has one. */
static void
dgram_set_off(const struct conn *c, struct request_slot *r, size_t off)
{
	if (dgram_echo_kept(c->wl))
		off += r->off / DGRAM_ECHO_STRIDE * DGRAM_ECHO_STRIDE;
	r->off = off;
}

static void
dgram_first_send(struct conn *c, uint64_t now)
{
	if (c->first_send == 0) {
		c->first_send = now;
		c->ttfb_pending = true;
	}
}

/*
 * A new request went out: the first free record, filled, joins the
 * outstanding ones (ahead of any owed or gathered).
 */
static void
dgram_request(struct conn *c, uint64_t intended, uint64_t now, size_t off)
{
	unsigned		 at = dgram_rq_used(c);
	struct request_slot	*r = dgram_rq(c, at);

	r->intended = intended;
	r->sent = now;
	dgram_set_off(c, r, off);
	if (at != c->rq_n)
		dgram_rq_move(c, at, c->rq_n);
	c->rq_n++;
	dgram_first_send(c, now);
}

/* A request the kernel refused, still owed: the first free record. */
static void
dgram_owe(struct conn *c, uint64_t intended, size_t off)
{
	struct request_slot	*r = dgram_rq(c, dgram_rq_used(c));

	r->intended = intended;
	dgram_set_off(c, r, off);
	c->dg_owed++;
}

/*
 * Hand k prepared datagrams to the kernel.  Returns how many are settled:
 * the first *taken went out, and after an error the rest of the batch is
 * dropped (each of its datagrams counted as the error's kind).  Fewer
 * than k are settled only when the socket buffer is full (EAGAIN, or
 * ENOBUFS): those are still owed, and *wait says what to wait for.
 *
 * sendmmsg() that fails after the first datagram returns the count and
 * loses the error, so a short count is retried at once: it is either a
 * full buffer (EAGAIN now) or an error the socket held, which the failed
 * datagram consumed; on a connected socket that is an ICMP report about
 * an earlier datagram, not this one's fault.  ECONNREFUSED is such a
 * report too, and is counted, not held against the datagram.
 */
static unsigned
dgram_flush(struct conn *c, struct mmsghdr *m, unsigned k, unsigned *taken,
    enum dgram_wait *wait)
{
	struct wload	*wl = c->wl;
	unsigned	 done = 0, n;
	unsigned	 budget = dgram_test_take ? dgram_test_take : k;
	uint64_t	 bytes = 0;
	int		 r;

	*taken = 0;
	*wait = DGRAM_WAIT_NONE;
	for (int tries = 0; done < k && tries < DGRAM_TRIES; tries++) {
		n = k - done < budget ? k - done : budget;
		if (n == 0) {
			r = -1;		/* the test hook's full buffer */
			errno = dgram_test_errno;
		} else
			r = sendmmsg(c->fd, m + done, n, MSG_DONTWAIT);
		if (r > 0) {
			done += (unsigned)r;
			*taken += (unsigned)r;
			if (dgram_test_take)
				budget -= (unsigned)r;
			continue;
		}
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == ENOBUFS) {
			*wait = DGRAM_WAIT_TICK;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != ECONNREFUSED) {
			/* Each datagram the error leaves unsent counts. */
			CTR_ADD(wl->ctr->errors[err_kind_from_errno(errno)],
			    k - done);
			done = k;	/* settled: dropped, not owed */
			break;
		}
		CTR_ADD(wl->ctr->errors[ERR_REFUSED], 1);
	}
	if (done < k && *wait == DGRAM_WAIT_NONE)
		*wait = DGRAM_WAIT_WRITE;
	for (unsigned i = 0; i < *taken; i++)
		bytes += m[i].msg_hdr.msg_iov[0].iov_len;
	dgram_sent(c, *taken, bytes);
	return done;
}

/*
 * Inside the pace timer, with the worker's ring: the k prepared datagrams
 * join the tick's io_uring submission, one send each (bench/udp.sh: a
 * tick's datagrams as one submission cost less than a sendmmsg() per
 * socket).  The bytes are the payload ring's, stable until the flush at
 * the end of the tick; each is counted when its completion says the
 * kernel took it (dgram_completed).  A request's record is filled now,
 * as gathered (due[i], sent at now).  Returns how many joined; the rest
 * (the ring gone after a failed submission) take the sendmmsg() way.
 */
static unsigned
dgram_gather(struct conn *c, struct mmsghdr *m, unsigned k,
    const uint64_t *due, uint64_t now)
{
	struct wload		*wl = c->wl;
	struct worker		*w = wl->w;
	bool			 rr = wl->conf->expect != EXPECT_NONE;
	struct io_uring_sqe	*sqe;
	struct request_slot	*r;
	unsigned		 i;

	for (i = 0; i < k; i++) {
		if ((sqe = io_uring_get_sqe(w->ring)) == NULL) {
			/* completes this connection's earlier ones too */
			worker_flush(w);
			if (w->ring == NULL ||
			    (sqe = io_uring_get_sqe(w->ring)) == NULL)
				break;
		}
		if (rr) {
			r = dgram_rq(c, dgram_rq_used(c));
			r->intended = due[i];
			r->sent = now;
			r->off = dgram_off(c, m[i].msg_hdr.msg_iov);
			c->dg_pend++;
		}
		if (dgram_test_take != 0 && i >= dgram_test_take)
			io_uring_prep_recv(sqe, dgram_test_fd, &dgram_test_byte,
			    1, MSG_DONTWAIT);
		else
			io_uring_prep_send(sqe, c->fd,
			    m[i].msg_hdr.msg_iov[0].iov_base,
			    m[i].msg_hdr.msg_iov[0].iov_len, MSG_DONTWAIT);
		io_uring_sqe_set_data(sqe, (void *)((uintptr_t)c | 1));
		/* tagged here too, for worker_ring_abandon */
		w->sq_conns[w->sq_n++] = (struct conn *)((uintptr_t)c | 1);
	}
	return i;
}

/*
 * A gathered datagram's result, counted as a sendmmsg() one would be.
 * One the kernel refused is owed again (see "What is owed"); one an
 * error dropped is counted as its kind, and its request (if it is one)
 * frees its record: it never went, so it cannot be lost.
 */
void
dgram_completed(struct conn *c, int res)
{
	struct wload	*wl = c->wl;
	bool		 rr = wl->conf->expect != EXPECT_NONE;
	unsigned	 at = c->rq_n + c->dg_owed;	/* its record */

	if (rr && c->dg_pend == 0) {
		/* Cannot be: each gathered request has its record. */
		if (res >= 0)
			dgram_sent(c, 1, (uint64_t)res);
		else
			CTR_ADD(wl->ctr->errors[ERR_OTHER], 1);
		return;
	}
	if (res >= 0) {
		dgram_sent(c, 1, (uint64_t)res);
		if (rr) {
			if (at != c->rq_n)
				dgram_rq_move(c, at, c->rq_n);
			c->dg_pend--;
			c->rq_n++;
			dgram_first_send(c, dgram_rq(c, c->rq_n - 1)->sent);
		}
		return;
	}
	if (res == -EAGAIN || res == -ENOBUFS || res == -ECONNREFUSED) {
		if (res == -ECONNREFUSED)
			CTR_ADD(wl->ctr->errors[ERR_REFUSED], 1);
		/* Its record is first of the gathered: next to the owed. */
		if (rr)
			c->dg_pend--;
		c->dg_owed++;
		if (c->state == CONN_UP)
			dgram_wait(c, res == -ENOBUFS ? DGRAM_WAIT_TICK :
			    DGRAM_WAIT_WRITE);
		return;
	}
	CTR_ADD(wl->ctr->errors[err_kind_from_errno(-res)], 1);
	if (rr) {
		dgram_rq_move(c, at, dgram_rq_used(c) - 1);
		c->dg_pend--;
	}
}

/*
 * Send what is owed, before anything newly due: by sendmmsg(), whose
 * result is known at once.  An owed request takes its record as it is
 * (intended time, bytes) and counts as late.  Returns what to wait for if
 * some is still owed, DGRAM_WAIT_NONE when all went.
 */
static enum dgram_wait
dgram_pay_owed(struct conn *c, uint64_t now)
{
	struct wload		*wl = c->wl;
	bool			 rr = wl->conf->expect != EXPECT_NONE;
	struct mmsghdr		 m[DGRAM_BATCH];
	struct iovec		 iov[DGRAM_BATCH];
	struct payload_vars	 v;
	struct request_slot	*r;
	enum dgram_wait		 wait;
	unsigned		 k, settled, taken;
	uint64_t		 quota;

	if (wl->tmpl != NULL)
		conn_tmpl_vars(c, &v);
	/* Prepared within the quota; never more than it (the records
	   beyond become free). */
	if ((quota = dgram_quota(c)) < c->dg_owed)
		c->dg_owed = (uint32_t)quota;
	while (c->dg_owed > 0) {
		for (k = 0; k < c->dg_owed && k < DGRAM_BATCH; k++) {
			if (wl->tmpl != NULL)
				dgram_prep_tmpl(c, &m[k], &iov[k],
				    dgram_tmpl_buf(c, k, c->rq_n + k), &v);
			else if (rr)
				(void)dgram_prep(c, &m[k], &iov[k],
				    dgram_rq(c, c->rq_n + k)->off);
			else
				c->pos = dgram_prep(c, &m[k], &iov[k], c->pos);
		}
		settled = dgram_flush(c, m, k, &taken, &wait);
		for (unsigned i = 0; i < settled; i++) {
			c->dg_owed--;
			if (!rr)
				continue;
			if (i >= taken) {
				/* dropped by an error (counted): freed */
				dgram_rq_move(c, c->rq_n, dgram_rq_used(c));
				continue;
			}
			r = dgram_rq(c, c->rq_n);
			r->sent = now;
			if (wl->tmpl != NULL)
				dgram_set_off(c, r, dgram_off(c, &iov[i]));
			c->rq_n++;
			dgram_first_send(c, now);
			CTR_ADD(wl->ctr->late, 1);
		}
		if (settled < k) {
			if (wl->tmpl != NULL || !rr)
				dgram_rewind(c, iov, settled, k);
			return wait;
		}
	}
	return DGRAM_WAIT_NONE;
}

/*
 * Send what is due by now, in batches of DGRAM_BATCH: what is owed
 * first, then a paced load's due moments (each a burst of messages), or
 * for a closed loop (no rate) requests up to `inflight`, all due now.
 * Requests take a slot each, a burst all of its slots or none (as the
 * stream code does).  Long-run exactness comes from advancing next_due
 * by whole gaps from where it was; the bursts the kernel does not take
 * stay owed to the schedule (next_due goes back to the first), and so
 * does the rest of a backlog beyond DGRAM_PAY_MAX; what is left of a
 * burst it took in part is owed (dg_owed).  Late counts the bursts sent
 * after being held back by the in-flight limit (how: DGRAM_PAY_LATE),
 * and the owed requests.  Returns what the caller should wait for to
 * send what is left (DGRAM_WAIT_NONE: nothing the socket holds up).
 */
static enum dgram_wait
dgram_pay(struct conn *c, uint64_t now, int how)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;
	bool			 rr = lc->expect != EXPECT_NONE;
	bool			 closed = wl->rate == 0;
	unsigned		 cap = (unsigned)lc->inflight;
	unsigned		 burst = closed ? 1 : lc->burst;
	unsigned		 left = 0, total = 0;
	uint64_t		 due_cur = now, quota;
	struct mmsghdr		 m[DGRAM_BATCH];
	struct iovec		 iov[DGRAM_BATCH];
	uint64_t		 due[DGRAM_BATCH];
	bool			 first[DGRAM_BATCH];
	struct payload_vars	 v;
	enum dgram_wait		 wait;

	/* Gathered, and the submission failed: worker_ring_abandon
	   counted them as errors; they never went. */
	if (c->dg_pend > 0 && wl->w->sq_n == 0)
		c->dg_pend = 0;
	if (c->dg_owed > 0 && (wait = dgram_pay_owed(c, now)) !=
	    DGRAM_WAIT_NONE)
		return wait;
	if (how & DGRAM_PAY_OWED)
		return DGRAM_WAIT_NONE;
	if (wl->tmpl != NULL)
		conn_tmpl_vars(c, &v);
	quota = dgram_quota(c);
	for (;;) {
		unsigned	 k = 0, g = 0, settled = 0, taken = 0, j;

		/*
		 * A send gathered in this call came back refused (a flush
		 * when the submission queue filled): the owed go first,
		 * and the completion has set what to wait for.
		 */
		if (c->dg_owed > 0)
			return DGRAM_WAIT_NONE;
		while (k < DGRAM_BATCH && k < quota && total < DGRAM_PAY_MAX) {
			if (left == 0) {
				if (!closed && c->next_due > now)
					break;
				if (rr && dgram_rq_used(c) + k + burst > cap)
					break;
				left = burst;
				first[k] = true;
				if (!closed) {
					due_cur = c->next_due;
					c->next_due += wload_gap(wl);
				}
			} else
				first[k] = false;
			due[k] = due_cur;
			if (wl->tmpl != NULL)
				dgram_prep_tmpl(c, &m[k], &iov[k],
				    dgram_tmpl_buf(c, k, dgram_rq_used(c) + k),
				    &v);
			else
				c->pos = dgram_prep(c, &m[k], &iov[k], c->pos);
			k++;
			total++;
			left--;
		}
		if (k == 0)
			return total >= DGRAM_PAY_MAX && !closed &&
			    c->next_due <= now ? DGRAM_WAIT_WRITE :
			    DGRAM_WAIT_NONE;
		quota -= k;
		wait = DGRAM_WAIT_NONE;
		if (wl->w->batching && wl->tmpl == NULL) {
			g = dgram_gather(c, m, k, due, now);
			/* Short: the submission failed, the ring is gone,
			   and what this connection had gathered with it. */
			if (g < k)
				c->dg_pend = 0;
		}
		if (g < k)
			settled = dgram_flush(c, m + g, k - g, &taken, &wait);
		settled += g;
		for (unsigned i = 0; i < settled; i++) {
			if (rr && i >= g && i < g + taken)
				dgram_request(c, due[i], now,
				    dgram_off(c, &iov[i]));
			if (first[i] && (how & DGRAM_PAY_LATE))
				CTR_ADD(wl->ctr->late, 1);
		}
		if (settled == k)
			continue;
		/*
		 * The socket is full.  The bursts not begun stay owed to the
		 * schedule; the rest of the one begun (its datagrams in the
		 * batch, and those of it beyond the batch) is owed.
		 */
		j = settled;
		while (j < k && !first[j])
			j++;
		if (j < k)
			left = 0;	/* the burst in progress ends at j */
		if (rr) {
			for (unsigned i = settled; i < j; i++)
				dgram_owe(c, due[i], dgram_off(c, &iov[i]));
			dgram_rewind(c, iov, wl->tmpl != NULL ? settled : j, k);
			for (; left > 0; left--) {
				dgram_owe(c, due_cur, wl->tmpl != NULL ? 0 :
				    c->pos);
				if (wl->tmpl == NULL)
					c->pos = dgram_prep(c, &m[0], &iov[0],
					    c->pos);
			}
		} else {
			c->dg_owed += j - settled + left;
			dgram_rewind(c, iov, settled, k);
		}
		if (j < k && !closed)
			c->next_due = due[j];
		return wait;
	}
}

/* Flood: datagrams until the socket is full or this turn is over. */
static void
dgram_flood(struct conn *c)
{
	struct mmsghdr		 m[DGRAM_BATCH];
	struct iovec		 iov[DGRAM_BATCH];
	struct payload_vars	 v;
	enum dgram_wait		 wait;

	if (c->wl->tmpl != NULL)
		conn_tmpl_vars(c, &v);
	for (int b = 0; b < DGRAM_FLOOD_BATCHES; b++) {
		uint64_t	 quota = dgram_quota(c);
		unsigned	 k, settled, taken;

		for (k = 0; k < DGRAM_BATCH && k < quota; k++) {
			if (c->wl->tmpl != NULL)
				dgram_prep_tmpl(c, &m[k], &iov[k],
				    dgram_tmpl_buf(c, k, 0), &v);
			else
				c->pos = dgram_prep(c, &m[k], &iov[k], c->pos);
		}
		if (k == 0)
			return;
		settled = dgram_flush(c, m, k, &taken, &wait);
		/*
		 * The ring goes on after what was settled: taken, or dropped
		 * and counted as an error (as dgram_pay does); what a full
		 * buffer refused goes again, when the socket is writable.
		 */
		if (settled < k)
			dgram_rewind(c, iov, settled, k);
		if (settled < k || c->state != CONN_UP)
			return;
	}
}

static void
dgram_fill(struct conn *c)
{
	struct wload	*wl = c->wl;

	if (wl->conf->idle || wl->rate > 0 || wl->conf->expect != EXPECT_NONE)
		return;
	/* A UDP socket is nearly always writable: this is the flood. */
	c->dg_owed = 0;		/* no schedule to owe to */
	dgram_wait(c, DGRAM_WAIT_WRITE);
	dgram_flood(c);
}

static void
dgram_send_due(struct conn *c, uint64_t now)
{
	enum dgram_wait	 wait;

	/* Left owing, the pace timer drops it; writable, it pays. */
	if ((wait = dgram_pay(c, now, 0)) != DGRAM_WAIT_NONE)
		dgram_wait(c, wait);
}

/*
 * Replies freed slots (or the sweep declared some lost): a closed loop
 * sends at once to keep `inflight` requests outstanding; a paced
 * connection that had to hold requests back sends what fell due, counted
 * late and timed from when it was due, and returns to the timer.  One
 * on the timer sends only what it owes.
 */
static void
dgram_refill(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;
	enum dgram_wait	 wait;

	if (wl->conf->idle || wl->conf->expect == EXPECT_NONE)
		return;
	if (wl->rate == 0) {
		if ((wait = dgram_pay(c, now, 0)) != DGRAM_WAIT_NONE)
			dgram_wait(c, wait);
		return;
	}
	if (c->heap_idx != HEAP_NONE) {
		/* On the timer (its next_due is the heap's key). */
		if (c->dg_owed > 0 && (wait = dgram_pay(c, now,
		    DGRAM_PAY_OWED)) != DGRAM_WAIT_NONE)
			dgram_wait(c, wait);
		return;
	}
	conn_catch_up(c, now);
	if ((wait = dgram_pay(c, now, DGRAM_PAY_LATE)) != DGRAM_WAIT_NONE) {
		dgram_wait(c, wait);
		return;
	}
	if (c->next_due > now)
		pace_push(c);
}

/* The socket can take datagrams again (or, after ENOBUFS, a tick went). */
static void
dgram_writable(struct conn *c)
{
	struct wload	*wl = c->wl;
	uint64_t	 now;
	enum dgram_wait	 wait;

	if (wl->rate == 0 && wl->conf->expect == EXPECT_NONE &&
	    !wl->conf->idle) {
		dgram_flood(c);
		return;
	}
	dgram_wait(c, DGRAM_WAIT_NONE);
	if (wl->conf->idle)
		return;
	now = now_ns();
	if (wl->rate == 0 || wl->conf->expect != EXPECT_NONE) {
		dgram_refill(c, now);
		return;
	}
	if (c->heap_idx != HEAP_NONE) {
		/* On the timer: it owes what a full buffer refused, if any. */
		if ((wait = dgram_pay(c, now, DGRAM_PAY_OWED)) !=
		    DGRAM_WAIT_NONE)
			dgram_wait(c, wait);
		return;
	}
	conn_catch_up(c, now);
	if ((wait = dgram_pay(c, now, 0)) != DGRAM_WAIT_NONE)
		dgram_wait(c, wait);
	else if (c->next_due > now)
		pace_push(c);
}

/* Outstanding request k (0: the oldest) is answered: time it, free it. */
static void
dgram_reply_done(struct conn *c, unsigned k, uint64_t now)
{
	struct wload		*wl = c->wl;
	unsigned		 cap = (unsigned)wl->conf->inflight;
	struct request_slot	*r = dgram_rq(c, k);

	wload_record_reply(wl, r, now);
	CTR_ADD(wl->ctr->replies, 1);
	if (k == 0)
		c->rq_head = (c->rq_head + 1) % cap;
	else {
		/*
		 * Out of order (datagrams may be): close the gap so the ring
		 * stays in send order and rq_n counts exactly the requests
		 * outstanding; the freed record goes behind the ones in
		 * use.  inflight is small; this is the rare case.
		 */
		dgram_rq_move(c, k, dgram_rq_used(c) - 1);
	}
	c->rq_n--;
	/* churn: its last request is answered */
	if (c->rq_n == 0 && c->msgs >= wl->msg_limit)
		conn_retire_soon(c);
}

/*
 * One datagram of len bytes (p holds the first min(len, the expected
 * length)) against the requests outstanding.  Returns true if it
 * answered one.  A datagram that answers nothing is counted and dropped:
 * unlike a stream, nothing after it is out of step.
 */
static bool
dgram_reply(struct conn *c, const char *p, size_t len, uint64_t now)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;
	bool			 kept = dgram_echo_kept(wl);

	if (c->rq_n == 0) {
		CTR_ADD(wl->ctr->errors[ERR_UNSOLICITED], 1);
		return false;
	}
	if (c->ttfb_pending) {
		hist_record(&wl->h[LAT_TTFB], now - c->first_send);
		c->ttfb_pending = false;
	}
	switch (lc->expect) {
	case EXPECT_ECHO:
		/* Whichever request it echoes, oldest first. */
		for (unsigned k = 0; k < c->rq_n; k++) {
			const struct request_slot *r = dgram_rq(c, k);

			if (kept ? len == r->off % DGRAM_ECHO_STRIDE &&
			    memcmp(dgram_echo_buf(c, r), p, len) == 0 :
			    len == wload_msgs_bytes(wl, r->off, 1) &&
			    memcmp(wl->payload + r->off, p, len) == 0) {
				dgram_reply_done(c, k, now);
				return true;
			}
		}
		break;
	case EXPECT_SIZE:
		if (len == lc->expect_size) {
			dgram_reply_done(c, 0, now);
			return true;
		}
		break;
	case EXPECT_MATCH:
		if (len == lc->expect_len &&
		    memcmp(p, lc->expect_bytes, len) == 0) {
			dgram_reply_done(c, 0, now);
			return true;
		}
		break;
	default:
		break;
	}
	CTR_ADD(wl->ctr->errors[ERR_MISMATCH], 1);
	return false;
}

/* Read what came, a few batches per turn of the loop. */
static void
dgram_read(struct conn *c)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;
	bool			 rr = lc->expect != EXPECT_NONE;
	size_t			 need = dgram_reply_len(lc);
	unsigned		 per = DGRAM_BATCH;
	bool			 answered = false;
	uint64_t		 now = 0;
	char			 buf[DGRAM_RBUF];
	struct mmsghdr		 m[DGRAM_BATCH];
	struct iovec		 iov[DGRAM_BATCH];
	int			 n;

	if (need > 0 && DGRAM_RBUF / need < per)
		per = (unsigned)(DGRAM_RBUF / need);
	for (int b = 0; b < DGRAM_READ_BATCHES; b++) {
		for (unsigned i = 0; i < per; i++) {
			iov[i].iov_base = buf + i * need;
			iov[i].iov_len = need;
			memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(c->fd, m, per, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/*
			 * An error the socket held (ECONNREFUSED: an ICMP
			 * port unreachable for something we sent) is
			 * reported once and cleared: count it, read on.
			 */
			if (errno != EINTR)
				CTR_ADD(wl->ctr->errors[
				    err_kind_from_errno(errno)], 1);
			continue;
		}
		CTR_ADD(wl->ctr->datagrams_received, (uint64_t)n);
		if (rr)
			now = now_ns();
		for (int i = 0; i < n; i++) {
			CTR_ADD(wl->ctr->bytes_received, m[i].msg_len);
			if (rr && dgram_reply(c, buf + (size_t)i * need,
			    m[i].msg_len, now))
				answered = true;
		}
		if ((unsigned)n < per)
			break;
	}
	if (answered)
		dgram_refill(c, now);
}

static void
dgram_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & EV_READ)
		dgram_read(c);
	if ((what & (EV_WRITE | EV_TIMEOUT)) && c->state == CONN_UP)
		dgram_writable(c);
}

/*
 * The reply-timeout sweep, and the closed-loop refill after a rate
 * change.  Requests are in send order, so the overdue ones are the
 * oldest: each is lost, its slot freed; a late reply to it will count as
 * unsolicited (or a mismatch), never as a reply.  Owed requests never
 * went: they are not lost, they wait for the socket.
 */
static void
dgram_check_replies(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;
	unsigned	 cap = (unsigned)wl->conf->inflight;
	uint64_t	 limit = (uint64_t)(wl->conf->reply_timeout * 1e9);

	if (c->state != CONN_UP || wl->conf->expect == EXPECT_NONE)
		return;
	while (c->rq_n > 0 && now - c->rq[c->rq_head].sent > limit) {
		CTR_ADD(wl->ctr->lost, 1);
		c->rq_head = (c->rq_head + 1) % cap;
		c->rq_n--;
	}
	if (c->rq_n == 0 && c->msgs >= wl->msg_limit) {
		conn_retire_soon(c);
		return;
	}
	dgram_refill(c, now);
}

static void
dgram_open_failed(struct conn *c, enum err_kind kind)
{
	CTR_ADD(c->wl->ctr->connects_failed, 1);
	CTR_ADD(c->wl->tctr[c->tgt].connects_failed, 1);
	conn_fail(c, kind);
}

/*
 * Open the slot's socket.  A UDP connect() sends nothing: it fixes the
 * peer (and the source), and succeeds or fails at once.
 */
static void
dgram_open(struct conn *c)
{
	struct wload			*wl = c->wl;
	const struct load_conf		*lc = wl->conf;
	const struct target_conf	*tc = &lc->targets[c->tgt];
	uint64_t			 now;
	int				 fd, saved;

	(void)pthread_once(&dgram_test_once, dgram_test_init);
	fd = socket(tc->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		dgram_open_failed(c, err_kind_from_errno(errno));
		return;
	}
	if (lc->nsources > 0 && conn_bind(c, fd) == -1) {
		saved = errno;
		close(fd);
		dgram_open_failed(c, err_kind_from_bind_errno(saved));
		return;
	}
	c->fd = fd;
	conn_prepare(c);
	/* Nothing is owed on a new socket: what the last one owed went
	   with it, as a stream's unsent bytes go with its socket. */
	c->dg_owed = c->dg_pend = 0;
	/* A template load expands a batch of datagrams here, once a load. */
	if (wl->tmpl != NULL && wl->dscratch == NULL)
		wl->dscratch = xmalloc((size_t)DGRAM_BATCH * lc->size);
	/* Each record its own echo slot (conn_prepare made the slots). */
	if (dgram_echo_kept(wl)) {
		for (unsigned i = 0; i < (unsigned)lc->inflight; i++)
			c->rq[i].off = (size_t)i * DGRAM_ECHO_STRIDE;
	}
	conn_set_state(c, CONN_CONNECTING);
	if (connect(fd, (const struct sockaddr *)&tc->addr,
	    tc->addrlen) == -1) {
		dgram_open_failed(c, err_kind_from_errno(errno));
		return;
	}
	c->rev = event_new(wl->w->base, fd, EV_READ | EV_PERSIST, dgram_cb, c);
	if (c->rev == NULL || event_add(c->rev, NULL) == -1) {
		dgram_open_failed(c, ERR_OTHER);
		return;
	}
	now = now_ns();
	CTR_ADD(wl->ctr->connects_ok, 1);
	CTR_ADD(wl->tctr[c->tgt].connects_ok, 1);
	if (wl->h != NULL)
		hist_record(&wl->h[LAT_CONNECT], now - c->connect_start);
	conn_up(c, now);
}

/* The socket only; conn_close does the rest.  Datagrams are counted as
   they go, so nothing is left to account for. */
static void
dgram_close(struct conn *c)
{
	struct worker	*w = c->wl->w;

	/* Gathered datagrams name the connection: complete them first. */
	if (w->sq_n > 0)
		worker_flush(w);
	if (c->rev != NULL) {
		event_free(c->rev);
		c->rev = NULL;
	}
	if (c->fd >= 0) {
		/* Its event's removal may still be pending: next pass. */
		worker_close_later(c->wl->w, c->fd);
		c->fd = -1;
	}
}

const struct transport transport_udp = {
	.name = "udp",
	.open = dgram_open,
	.close = dgram_close,
	.send_due = dgram_send_due,
	.fill = dgram_fill,
	.check_replies = dgram_check_replies,
	.refill = dgram_refill,
};
