/* SPDX-License-Identifier: ISC */
/*
 * dgram.c -- the UDP transport: one connected datagram socket per slot.
 * One message of the payload ring is one datagram, handed to the kernel
 * by reference (an iovec into the ring) with sendmmsg(); replies are read
 * with recvmmsg().  A datagram is sent whole or not at all, so nothing is
 * ever queued in user space: what the kernel will not take stays owed to
 * the schedule, and the socket's write readiness brings it back.
 *
 * There is no connection to lose: connect() only fixes the peer, errors
 * the socket reports (an ICMP port unreachable is ECONNREFUSED on the
 * next call) are counted and the socket carries on, and a request whose
 * reply never comes is counted as lost after reply_timeout.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
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

static void	dgram_cb(evutil_socket_t, short, void *);
static void	dgram_refill(struct conn *, uint64_t);

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
 * The write event is wanted while something is owed that the kernel did
 * not take, and always for a flood.  One event serves both directions:
 * its flags are changed by assigning it anew (not pending meanwhile),
 * which libevent allows from the event's own callback.
 */
static void
dgram_want_write(struct conn *c, bool on)
{
	short	 want = EV_READ | EV_PERSIST | (on ? EV_WRITE : 0);

	if (event_get_events(c->rev) == want)
		return;
	event_del(c->rev);
	event_assign(c->rev, c->wl->w->base, c->fd, want, dgram_cb, c);
	if (event_add(c->rev, NULL) == -1)
		log_warnx("%s: event_add", __func__);
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
 * A template load: expand the connection's next message into scratch
 * slot k (the load's max_len bytes each) and point batch entry k at it.
 * The scratch lives as long as the batch: sendmmsg() copies the bytes.
 */
static void
dgram_prep_tmpl(struct conn *c, struct mmsghdr *m, struct iovec *iov,
    unsigned k, struct payload_vars *v)
{
	struct wload		*wl = c->wl;
	struct conn_tmpl	*tx = conn_tmpl(c);
	size_t			 room = wl->conf->size;
	char			*buf = wl->dscratch + (size_t)k * room;

	v->seq = tx->seq;
	iov->iov_base = buf;
	iov->iov_len = payload_expand(payload_pick(wl->tmpl, tx->seq), v, buf,
	    room);
	tx->seq++;
	memset(&m->msg_hdr, 0, sizeof(m->msg_hdr));
	m->msg_hdr.msg_iov = iov;
	m->msg_hdr.msg_iovlen = 1;
}

/* Where the next message comes from after datagram j of a batch. */
static void
dgram_rewind(struct conn *c, struct iovec *iov, unsigned j, unsigned k)
{
	if (c->wl->tmpl != NULL)
		conn_tmpl(c)->seq -= k - j;	/* expanded anew, same seq */
	else
		c->pos = (size_t)((char *)iov[j].iov_base - c->wl->payload);
}

/*
 * Point batch entry i at the message at pos in the ring, and return the
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
 * Hand k prepared datagrams to the kernel.  Returns how many are settled:
 * the first *taken went out, and after an error the rest of the batch is
 * dropped (each of its datagrams counted as the error's kind).  Fewer than k are settled only when
 * the socket buffer is full: those are still owed.
 *
 * sendmmsg() that fails after the first datagram returns the count and
 * loses the error, so a short count is retried at once: it is either a
 * full buffer (EAGAIN now) or an error the socket held, which the failed
 * datagram consumed; on a connected socket that is an ICMP report about
 * an earlier datagram, not this one's fault.  ECONNREFUSED is such a
 * report too, and is counted, not held against the datagram.
 */
static unsigned
dgram_flush(struct conn *c, struct mmsghdr *m, unsigned k, unsigned *taken)
{
	struct wload	*wl = c->wl;
	unsigned	 done = 0;
	uint64_t	 bytes = 0;
	int		 r;

	*taken = 0;
	for (int tries = 0; done < k && tries < DGRAM_TRIES; tries++) {
		r = sendmmsg(c->fd, m + done, k - done, MSG_DONTWAIT);
		if (r > 0) {
			done += (unsigned)r;
			*taken += (unsigned)r;
			continue;
		}
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			break;
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
 * kernel took it (dgram_completed).  Returns how many joined; the rest
 * (the ring gone after a failed submission) take the sendmmsg() way.
 */
static unsigned
dgram_gather(struct conn *c, struct mmsghdr *m, unsigned k)
{
	struct worker		*w = c->wl->w;
	struct io_uring_sqe	*sqe;
	unsigned		 i;

	for (i = 0; i < k; i++) {
		if ((sqe = io_uring_get_sqe(w->ring)) == NULL) {
			worker_flush(w);
			if (w->ring == NULL ||
			    (sqe = io_uring_get_sqe(w->ring)) == NULL)
				break;
		}
		io_uring_prep_send(sqe, c->fd, m[i].msg_hdr.msg_iov[0].iov_base,
		    m[i].msg_hdr.msg_iov[0].iov_len, MSG_DONTWAIT);
		io_uring_sqe_set_data(sqe, (void *)((uintptr_t)c | 1));
		/* tagged here too, for worker_ring_abandon */
		w->sq_conns[w->sq_n++] = (struct conn *)((uintptr_t)c | 1);
	}
	return i;
}

/* A gathered datagram's result: counted as a sendmmsg() one would be. */
void
dgram_completed(struct conn *c, int res)
{
	struct wload	*wl = c->wl;

	if (res >= 0) {
		dgram_sent(c, 1, (uint64_t)res);
		return;
	}
	/* A full buffer too: the tick has moved on, the datagram is gone. */
	CTR_ADD(wl->ctr->errors[res == -EAGAIN ? ERR_OTHER :
	    err_kind_from_errno(-res)], 1);
}

/* A request went out: it takes the next slot of the in-flight ring. */
static void
dgram_request(struct conn *c, uint64_t intended, uint64_t now, size_t off)
{
	unsigned		 cap = (unsigned)c->wl->conf->inflight;
	struct request_slot	*r = &c->rq[(c->rq_head + c->rq_n) % cap];

	r->intended = intended;
	r->sent = now;
	r->off = off;
	c->rq_n++;
	if (c->first_send == 0) {
		c->first_send = now;
		c->ttfb_pending = true;
	}
}

/*
 * Send what is due by now, in batches of DGRAM_BATCH: a paced load's due
 * moments (each a burst of messages), or for a closed loop (no rate)
 * requests up to `inflight`, all due now.  Requests take a slot each, a
 * burst all of its slots or none (as the stream code does).  Long-run
 * exactness comes from advancing next_due by whole gaps from where it
 * was; what the kernel does not take stays owed, and so does the rest of
 * a backlog beyond DGRAM_PAY_MAX.  A burst the kernel takes only in part
 * is not sent again: its remainder is dropped, never counted as sent.
 * Late counts the bursts sent after being held back by the in-flight
 * limit.  Returns true if something due is left that a writable socket
 * should send (the caller arms the write event).
 */
static bool
dgram_pay(struct conn *c, uint64_t now, bool late)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;
	bool			 rr = lc->expect != EXPECT_NONE;
	bool			 closed = wl->rate == 0;
	unsigned		 cap = (unsigned)lc->inflight;
	unsigned		 burst = closed ? 1 : lc->burst;
	unsigned		 left = 0, total = 0;
	uint64_t		 due_cur = now;
	struct mmsghdr		 m[DGRAM_BATCH];
	struct iovec		 iov[DGRAM_BATCH];
	uint64_t		 due[DGRAM_BATCH];
	bool			 first[DGRAM_BATCH];
	struct payload_vars	 v;

	if (wl->tmpl != NULL)
		conn_tmpl_vars(c, &v);
	for (;;) {
		unsigned	 k = 0, settled, taken;
		uint64_t	 quota = dgram_quota(c);

		while (k < DGRAM_BATCH && k < quota && total < DGRAM_PAY_MAX) {
			if (left == 0) {
				if (!closed && c->next_due > now)
					break;
				if (rr && c->rq_n + k + burst > cap)
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
				dgram_prep_tmpl(c, &m[k], &iov[k], k, &v);
			else
				c->pos = dgram_prep(c, &m[k], &iov[k], c->pos);
			k++;
			total++;
			left--;
		}
		if (k == 0)
			return total >= DGRAM_PAY_MAX && !closed &&
			    c->next_due <= now;
		settled = taken = 0;
		if (wl->w->batching && wl->tmpl == NULL)
			settled = taken = dgram_gather(c, m, k);
		if (settled < k) {
			unsigned more;

			settled += dgram_flush(c, m + settled, k - settled,
			    &more);
			taken += more;
		}
		for (unsigned i = 0; i < settled; i++) {
			if (i < taken && rr)
				dgram_request(c, due[i], now, wl->tmpl != NULL ?
				    0 : (size_t)((char *)iov[i].iov_base -
				    wl->payload));
			if (first[i] && late)
				CTR_ADD(wl->ctr->late, 1);
		}
		if (settled == k)
			continue;
		/* The socket is full: the unsettled datagrams stay owed. */
		dgram_rewind(c, iov, settled, k);
		if (!closed) {
			unsigned j = settled;

			while (j < k && !first[j])
				j++;
			if (j < k)
				c->next_due = due[j];
		}
		return true;
	}
}

/* Flood: datagrams until the socket is full or this turn is over. */
static void
dgram_flood(struct conn *c)
{
	struct mmsghdr		 m[DGRAM_BATCH];
	struct iovec		 iov[DGRAM_BATCH];
	struct payload_vars	 v;

	if (c->wl->tmpl != NULL)
		conn_tmpl_vars(c, &v);
	for (int b = 0; b < DGRAM_FLOOD_BATCHES; b++) {
		uint64_t	 quota = dgram_quota(c);
		unsigned	 k, settled, taken;

		for (k = 0; k < DGRAM_BATCH && k < quota; k++) {
			if (c->wl->tmpl != NULL)
				dgram_prep_tmpl(c, &m[k], &iov[k], k, &v);
			else
				c->pos = dgram_prep(c, &m[k], &iov[k], c->pos);
		}
		if (k == 0)
			return;
		settled = dgram_flush(c, m, k, &taken);
		/*
		 * The ring goes on after what was settled: taken, or dropped
		 * and counted as an error (as dgram_pay does); what a full
		 * buffer refused goes again.
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
	dgram_want_write(c, true);
	dgram_flood(c);
}

static void
dgram_send_due(struct conn *c, uint64_t now)
{
	/* Left owing, the pace timer drops it; writable, it pays. */
	if (dgram_pay(c, now, false))
		dgram_want_write(c, true);
}

/*
 * Replies freed slots (or the sweep declared some lost): a closed loop
 * sends at once to keep `inflight` requests outstanding; a paced
 * connection that had to hold requests back sends what fell due, counted
 * late and timed from when it was due, and returns to the timer.
 */
static void
dgram_refill(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;

	if (wl->conf->idle || wl->conf->expect == EXPECT_NONE)
		return;
	if (wl->rate == 0) {
		if (dgram_pay(c, now, false))
			dgram_want_write(c, true);
		return;
	}
	if (c->heap_idx != HEAP_NONE)
		return;		/* on the timer: it owes nothing */
	if (dgram_pay(c, now, true)) {
		dgram_want_write(c, true);
		return;
	}
	if (c->next_due > now)
		pace_push(c);
}

/* The socket can take datagrams again. */
static void
dgram_writable(struct conn *c)
{
	struct wload	*wl = c->wl;
	uint64_t	 now;

	if (wl->rate == 0 && wl->conf->expect == EXPECT_NONE &&
	    !wl->conf->idle) {
		dgram_flood(c);
		return;
	}
	dgram_want_write(c, false);
	if (wl->conf->idle)
		return;
	now = now_ns();
	if (wl->rate == 0 || wl->conf->expect != EXPECT_NONE) {
		dgram_refill(c, now);
		return;
	}
	if (c->heap_idx != HEAP_NONE)
		return;		/* on the timer: it owes nothing */
	if (dgram_pay(c, now, false))
		dgram_want_write(c, true);
	else if (c->next_due > now)
		pace_push(c);
}

/* Outstanding request k (0: the oldest) is answered: time it, free it. */
static void
dgram_reply_done(struct conn *c, unsigned k, uint64_t now)
{
	struct wload		*wl = c->wl;
	unsigned		 cap = (unsigned)wl->conf->inflight;
	struct request_slot	*r = &c->rq[(c->rq_head + k) % cap];

	hist_record(&wl->h[LAT_LATENCY], now - r->intended);
	hist_record(&wl->h[LAT_SERVICE], now - r->sent);
	CTR_ADD(wl->ctr->replies, 1);
	if (k == 0)
		c->rq_head = (c->rq_head + 1) % cap;
	else {
		/*
		 * Out of order (datagrams may be): close the gap so the ring
		 * stays in send order and rq_n counts exactly the requests
		 * outstanding.  inflight is small; this is the rare case.
		 */
		for (unsigned j = k; j + 1 < c->rq_n; j++)
			c->rq[(c->rq_head + j) % cap] =
			    c->rq[(c->rq_head + j + 1) % cap];
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
	unsigned		 cap = (unsigned)lc->inflight;

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
			const struct request_slot *r =
			    &c->rq[(c->rq_head + k) % cap];

			if (len == wload_msgs_bytes(wl, r->off, 1) &&
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
	if ((what & EV_WRITE) && c->state == CONN_UP)
		dgram_writable(c);
}

/*
 * The reply-timeout sweep, and the closed-loop refill after a rate
 * change.  Requests are in send order, so the overdue ones are the
 * oldest: each is lost, its slot freed; a late reply to it will count as
 * unsolicited (or a mismatch), never as a reply.
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
	/* A template load expands a batch of datagrams here, once a load. */
	if (wl->tmpl != NULL && wl->dscratch == NULL)
		wl->dscratch = xmalloc((size_t)DGRAM_BATCH * lc->size);
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
