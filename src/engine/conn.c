/* SPDX-License-Identifier: ISC */
/*
 * conn.c -- one connection's life: connect with a timeout, send (flood,
 * paced, or requests that wait for replies), read replies and time them,
 * count errors by kind, reconnect with backoff.
 *
 * A struct conn is a *slot*: it lives as long as the load wants that
 * connection, while its socket comes and goes.  Only the owning worker
 * thread touches it.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <liburing.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/sys.h"
#include "engine/worker.h"
#include "engine/rq.h"

/* Template loads: output space reserved at a time, and send()'s buffer. */
#define TMPL_CHUNK	(64 * 1024)

static void	conn_readcb(struct bufferevent *, void *);
static void	conn_writecb(struct bufferevent *, void *);
static void	conn_eventcb(struct bufferevent *, short, void *);
static void	conn_retrycb(evutil_socket_t, short, void *);
static void	conn_lifecb(evutil_socket_t, short, void *);
static void	conn_open_failed(struct conn *, enum err_kind);

/*
 * conn_written() when messages vary in length: a list's are counted by
 * its cycle, a template load's by their lengths, oldest first, taken off
 * as c->written passes them.  Out of line (and reached by a tail call),
 * so that the one-length path stays a division with nothing to save.
 */
__attribute__((noinline)) void
conn_written_varying(struct conn *c, size_t n)
{
	struct conn_tmpl	*tx;
	uint64_t		 msgs = c->msgs;

	if (c->wl->tmpl == NULL) {
		conn_count(c, n, wload_msgs_in_list(c->wl, c->written));
		return;
	}
	tx = conn_tmpl(c);
	while (tx->n > 0 && c->written - tx->done >= tx->len[tx->head]) {
		tx->done += tx->len[tx->head];
		tx->head = (tx->head + 1) % TMPL_QUEUE;
		tx->n--;
		msgs++;
	}
	conn_count(c, n, msgs);
}

/* conn_quota() of a template load: its queue of lengths must not fill. */
static uint64_t
conn_tmpl_quota(const struct conn *c)
{
	const struct wload	*wl = c->wl;
	const struct conn_tmpl	*tx = conn_tmpl(c);
	uint64_t		 room = TMPL_QUEUE - tx->n, left;

	if (wl->msg_limit != UINT64_MAX) {
		left = tx->seq >= wl->msg_limit ? 0 : wl->msg_limit - tx->seq;
		if (left < room)
			room = left;
	}
	return room;
}

/* conn_quota() of a load with messages_per_connection. */
static __attribute__((noinline)) uint64_t
conn_quota_limited(const struct conn *c)
{
	const struct wload	*wl = c->wl;
	uint64_t		 queued;

	if (wl->tmpl != NULL)
		return conn_tmpl_quota(c);
	queued = wload_msgs_in(wl, c->written + c->outlen + c->sq_len +
	    c->sq_rest);
	return queued >= wl->msg_limit ? 0 : wl->msg_limit - queued;
}

/*
 * messages_per_connection: how many more whole messages this connection
 * may queue.  Those written, queued and gathered all count.  A template
 * load also stops when its queue of lengths is full.
 */
static inline uint64_t
conn_quota(const struct conn *c)
{
	const struct wload	*wl = c->wl;

	if (wl->msg_limit == UINT64_MAX && wl->tmpl == NULL)
		return UINT64_MAX;
	return conn_quota_limited(c);
}

/*
 * Count what left the output buffer since we last looked.  Bytes count as
 * sent when libevent has handed them to the kernel, and a message counts
 * once its last byte has: queued bytes are never reported as sent.
 */
static void
conn_account(struct conn *c, size_t outlen)
{
	size_t	 gone = c->outlen - outlen;

	if (gone == 0)
		return;
	conn_written(c, gone);
	c->outlen = outlen;
}

/*
 * Queue bytes from the payload ring by reference: no copy and no
 * allocation of payload bytes (libevent allocates a small chain header per
 * reference; the ring lets one reference cover many messages).
 */
static size_t
conn_queue_at(struct conn *c, struct evbuffer *out, size_t pos,
    size_t nbytes)
{
	struct wload	*wl = c->wl;

	while (nbytes > 0) {
		size_t chunk = wl->payload_len - pos;

		if (chunk > nbytes)
			chunk = nbytes;
		evbuffer_add_reference(out, wl->payload + pos, chunk,
		    NULL, NULL);
		pos += chunk;
		if (pos == wl->payload_len)
			pos = 0;
		c->outlen += chunk;
		nbytes -= chunk;
	}
	return pos;
}

static void
conn_queue(struct conn *c, struct evbuffer *out, size_t nbytes)
{
	c->pos = conn_queue_at(c, out, c->pos, nbytes);
}

/*
 * Inside the pace timer: gather the send into the worker's ring instead
 * of making it now.  The bytes are the payload ring's own (no copy), and
 * the connection's place in the ring moves on as if they were sent; what
 * the kernel does not take is queued when the result comes back
 * (conn_sent).  A second send for the same connection in the same tick
 * joins the first one's remainder, so the order holds.
 */
static bool
conn_gather(struct conn *c, size_t nbytes)
{
	struct wload		*wl = c->wl;
	struct worker		*w = wl->w;
	struct io_uring_sqe	*sqe;
	size_t			 first;

	/* The counts are 32-bit: a rarer, larger send takes the slow way. */
	if (nbytes > UINT32_MAX - (size_t)c->sq_rest) {
		worker_flush(w);
		return false;
	}
	if (c->sq_len > 0) {
		c->sq_rest += (uint32_t)nbytes;
		c->pos = (c->pos + nbytes) % wl->payload_len;
		return true;
	}
	if ((sqe = io_uring_get_sqe(w->ring)) == NULL) {
		worker_flush(w);
		/* A failed submission leaves the worker without a ring. */
		if (w->ring == NULL ||
		    (sqe = io_uring_get_sqe(w->ring)) == NULL)
			return false;
	}
	first = wl->payload_len - c->pos;
	if (first > nbytes)
		first = nbytes;
	io_uring_prep_send(sqe, c->fd, wl->payload + c->pos, first,
	    MSG_DONTWAIT | MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, c);
	c->sq_len = (uint32_t)first;
	c->sq_rest = (uint32_t)(nbytes - first);
	c->pos = (c->pos + nbytes) % wl->payload_len;
	w->sq_conns[w->sq_n++] = c;
	return true;
}

/*
 * A gathered send's result: count what the kernel took and queue the rest
 * by reference; a failure is kept (conn_send_failed) and reported by
 * libevent's own write or read, through the event callback.
 */
void
conn_sent(struct conn *c, int res)
{
	struct wload	*wl = c->wl;
	size_t		 sent = res > 0 ? (size_t)res : 0;
	size_t		 left = c->sq_len + (size_t)c->sq_rest - sent;
	size_t		 at;

	c->sq_len = c->sq_rest = 0;
	if (res < 0)
		conn_send_failed(c, -res);
	if (sent > 0)
		conn_written(c, sent);
	if (left == 0)
		return;
	at = (c->pos + wl->payload_len - left % wl->payload_len) %
	    wl->payload_len;
	(void)conn_queue_at(c, bufferevent_get_output(c->bev), at, left);
}

/*
 * Send nbytes (whole messages) from the payload ring; out may be NULL
 * when len is 0 (the caller knew the output empty without asking).  The usual paced
 * case has nothing queued, so the bytes go straight to the kernel with one
 * send(): no evbuffer chain is allocated, and libevent need not arm the
 * write event and come back for it.  Only what the kernel does not take
 * goes to the output buffer, by reference.  An error is kept
 * (conn_send_failed) for the event callback that libevent's own write or
 * read calls next.
 */
void
conn_write(struct conn *c, struct evbuffer *out, size_t len, size_t nbytes)
{
	struct wload	*wl = c->wl;
	size_t		 first;
	ssize_t		 sent;

	if (c->sq_len > 0 || (len == 0 && wl->w->batching)) {
		if (conn_gather(c, nbytes))
			return;
		/* A flush may have queued a remainder ahead of these bytes. */
		if (out == NULL)
			out = bufferevent_get_output(c->bev);
		len = evbuffer_get_length(out);
	}
	if (len == 0) {
		first = wl->payload_len - c->pos;
		if (first > nbytes)
			first = nbytes;
		sent = sys_send(c->fd, wl->payload + c->pos, first,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0)
			conn_send_failed(c, errno);
		else if (sent > 0) {
			conn_written(c, (size_t)sent);
			c->pos += (size_t)sent;
			if (c->pos == wl->payload_len)
				c->pos = 0;
			nbytes -= (size_t)sent;
		}
	}
	if (nbytes == 0)
		return;
	if (out == NULL)
		out = bufferevent_get_output(c->bev);
	conn_queue(c, out, nbytes);
}

/*
 * A transport that must see every byte (TLS encrypts what the output
 * buffer holds) queues by reference and lets libevent write.
 */
void
conn_queue_write(struct conn *c, struct evbuffer *out, size_t len,
    size_t nbytes)
{
	conn_queue(c, out, nbytes);
}

/*
 * Template loads: what payload_expand() knows of a connection.  The wall
 * clock is read once per call (a fill, a paced send, a request), and only
 * if some message has {time_us}.
 */
void
conn_tmpl_vars(struct conn *c, struct payload_vars *v)
{
	struct wload	*wl = c->wl;
	struct timespec	 ts;

	v->seq = conn_tmpl(c)->seq;
	v->conn = conn_tmpl(c)->id;
	v->load = wl->conf->name;
	v->load_len = strlen(wl->conf->name);
	v->time_us = 0;
	if (wl->tmpl_clock) {
		clock_gettime(CLOCK_REALTIME, &ts);
		v->time_us = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
	}
	/* xorshift's state is never 0: worker_start seeds it so. */
	v->rng = &wl->w->rng;
}

/*
 * Expand the connection's next message into buf (at least room bytes,
 * room >= its max_len) and queue its length; returns the length.
 */
static size_t
conn_tmpl_next(struct conn *c, struct payload_vars *v, char *buf,
    size_t room)
{
	struct conn_tmpl		*tx = conn_tmpl(c);
	const struct payload_tmpl	*t = payload_pick(c->wl->tmpl, tx->seq);
	size_t				 n;

	v->seq = tx->seq;
	n = payload_expand(t, v, buf, room);
	tx->len[(tx->head + tx->n) % TMPL_QUEUE] = (uint32_t)n;
	tx->n++;
	tx->seq++;
	return n;
}

/* The room the next message needs: its template's ceiling. */
static size_t
conn_tmpl_need(const struct conn *c)
{
	return payload_pick(c->wl->tmpl, conn_tmpl(c)->seq)->max_len;
}

/*
 * Expand k messages straight into the output's own space: the expansion
 * is the only copy.  keep (expect echo: one message) is where the request
 * is kept for its reply, and the bytes are copied from there.
 */
static size_t
conn_tmpl_queue(struct conn *c, struct evbuffer *out, uint64_t k,
    char *keep, struct payload_vars *v)
{
	struct evbuffer_iovec	 iov;
	size_t			 want, used, n = 0;

	if (keep != NULL) {
		n = conn_tmpl_next(c, v, keep, c->wl->size);
		evbuffer_add(out, keep, n);
		c->outlen += n;
		return n;
	}
	while (k > 0) {
		want = k * c->wl->size;
		if (want > TMPL_CHUNK)
			want = TMPL_CHUNK > c->wl->size ? TMPL_CHUNK :
			    c->wl->size;
		if (evbuffer_reserve_space(out, (ev_ssize_t)want, &iov, 1) < 1)
			return n;	/* no memory: the rest stays owed */
		used = 0;
		while (k > 0 && iov.iov_len - used >= conn_tmpl_need(c)) {
			used += conn_tmpl_next(c, v, (char *)iov.iov_base +
			    used, iov.iov_len - used);
			k--;
		}
		iov.iov_len = used;
		evbuffer_commit_space(out, &iov, 1);
		c->outlen += used;
		n += used;
	}
	return n;
}

/*
 * Template loads: expand and send k messages (k within conn_quota).  With
 * nothing queued on a plain socket (paced sends, requests) they are
 * expanded into the worker's buffer (or keep) and handed to send() at
 * once; what the kernel does not take is copied to the output.  Never
 * gathered for io_uring: a gathered send points at bytes that must stay
 * put until the tick's submission completes, which the payload ring's do
 * and a reused buffer's would not.  Returns the bytes of the messages.
 */
static __attribute__((noinline)) size_t
conn_tmpl_send(struct conn *c, struct evbuffer *out, size_t len, uint64_t k,
    char *keep)
{
	struct wload		*wl = c->wl;
	struct worker		*w = wl->w;
	struct payload_vars	 v;
	size_t			 cap, used = 0;
	ssize_t			 sent;
	char			*buf;

	conn_tmpl_vars(c, &v);
	if (len > 0 || wl->tp != &transport_tcp)
		return conn_tmpl_queue(c, out, k, keep, &v);
	if (keep != NULL) {
		buf = keep;
		used = conn_tmpl_next(c, &v, keep, wl->size);
		k = 0;
	} else {
		cap = TMPL_CHUNK > wl->size ? TMPL_CHUNK : wl->size;
		if (w->tbuf_len < cap) {
			free(w->tbuf);
			w->tbuf = xmalloc(cap);
			w->tbuf_len = cap;
		}
		buf = w->tbuf;
		while (k > 0 && cap - used >= conn_tmpl_need(c)) {
			used += conn_tmpl_next(c, &v, buf + used, cap - used);
			k--;
		}
	}
	sent = send(c->fd, buf, used, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (sent < 0) {
		conn_send_failed(c, errno);
		sent = 0;	/* libevent's write will report it */
	}
	if ((size_t)sent < used) {
		evbuffer_add(out, buf + sent, used - (size_t)sent);
		c->outlen += used - (size_t)sent;
	}
	if (sent > 0)
		conn_written(c, (size_t)sent);
	if (k > 0)
		used += conn_tmpl_queue(c, out, k, NULL, &v);
	return used;
}

/*
 * Send the next k messages: from the payload ring, or expanded.  One
 * length for all (a template load is never uniform) is asked first.
 */
static void
conn_send(struct conn *c, struct evbuffer *out, size_t len, uint64_t k)
{
	struct wload	*wl = c->wl;

	if (wl->uniform)
		wl->tp->write(c, out, len, (size_t)k * wl->size);
	else if (wl->tmpl == NULL)
		wl->tp->write(c, out, len, wload_msgs_bytes_list(wl, c->pos,
		    k));
	else
		(void)conn_tmpl_send(c, out, len, k, NULL);
}

/* Flood: top the output buffer up to the high watermark. */
static void
stream_fill(struct conn *c)
{
	struct wload	*wl = c->wl;
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 len = evbuffer_get_length(out), size = wl->size;
	uint64_t	 want, quota;
	struct payload_vars v;

	conn_account(c, len);
	if (len >= OUT_HIGH_WATER)
		return;
	/* Whole messages, at least one (size is the longest). */
	want = (OUT_HIGH_WATER - len + size - 1) / size;
	if ((quota = conn_quota(c)) < want)
		want = quota;
	if (want == 0)
		return;
	if (wl->tmpl == NULL && quota != UINT64_MAX && len == 0)
		/*
		 * Churn: a connection's few messages go at once (a send()
		 * for TCP), so that it may end in this pass of the loop.
		 */
		wl->tp->write(c, out, len, wload_msgs_bytes(wl, c->pos, want));
	else if (wl->tmpl == NULL)
		conn_queue(c, out, wload_msgs_bytes(wl, c->pos, want));
	else {
		/* libevent writes it: expanded into the output, no send(). */
		conn_tmpl_vars(c, &v);
		(void)conn_tmpl_queue(c, out, want, NULL, &v);
	}
}

/*
 * Request/response: requests that fall due (or that replies release) in
 * one callback leave in one write.  rq_take() books the next slot of the
 * in-flight ring for a message due at `intended`; its bytes are the next
 * message of the payload ring, so an echo reply is checked against them
 * without a copy.  rq_send() writes every booked message at once: one
 * send(), or one entry of the pace tick's io_uring submission.  A
 * template load's message is expanded and sent as it is booked.
 */
struct rq_batch {
	struct evbuffer	*out;
	size_t		 len;		/* the output's length */
	size_t		 at;		/* ring position of the next message */
	size_t		 bytes;		/* booked and not yet written */
	uint64_t	 quota;		/* messages it may still queue */
};

static void
rq_begin(struct conn *c, struct rq_batch *b)
{
	b->out = bufferevent_get_output(c->bev);
	b->len = evbuffer_get_length(b->out);
	conn_account(c, b->len);
	b->at = c->pos;
	b->bytes = 0;
	b->quota = c->wl->tmpl == NULL ? conn_quota(c) : 0;
}

static bool
rq_take(struct conn *c, struct rq_batch *b, uint64_t intended, uint64_t now)
{
	struct wload		*wl = c->wl;
	unsigned		 cap = (unsigned)wl->conf->inflight;
	struct request_slot	*r;
	unsigned		 i;
	size_t			 n;
	char			*keep;

	if (c->rq_n >= cap)
		return false;
	if (wl->tmpl == NULL ? b->quota == 0 : conn_quota(c) == 0)
		return false;
	i = (c->rq_head + c->rq_n) % cap;
	r = &c->rq[i];
	r->intended = intended;
	r->sent = now;
	c->rq_n++;
	if (c->first_send == 0) {
		c->first_send = now;
		c->ttfb_pending = true;
	}
	if (wl->tmpl != NULL) {
		/* An echo is checked against the request as it was expanded. */
		keep = conn_tmpl(c)->echo;
		if (keep != NULL)
			keep += (size_t)i * wl->size;
		r->off = conn_tmpl_send(c, b->out, b->len, 1, keep);
		b->len = evbuffer_get_length(b->out);
		return true;
	}
	r->off = b->at;
	n = wload_msgs_bytes(wl, b->at, 1);
	b->at += n;
	if (b->at >= wl->payload_len)
		b->at -= wl->payload_len;
	b->bytes += n;
	b->quota--;
	return true;
}

static void
rq_send(struct conn *c, struct rq_batch *b)
{
	if (b->bytes == 0)
		return;
	c->wl->tp->write(c, b->out, b->len, b->bytes);
	b->bytes = 0;
}

/*
 * A burst of requests due at the same moment: all of them or none, so a
 * burst is never split across the in-flight limit.
 */
static bool
rq_take_burst(struct conn *c, struct rq_batch *b, uint64_t intended,
    uint64_t now)
{
	struct wload	*wl = c->wl;
	unsigned	 burst = wl->conf->burst;

	if (burst > 1 && c->rq_n + burst > (unsigned)wl->conf->inflight)
		return false;
	for (unsigned i = 0; i < burst; i++) {
		if (!rq_take(c, b, intended, now))
			return i > 0;
	}
	return true;
}

/*
 * Paced: send every message that is due by now.  Long-run exactness comes
 * from advancing next_due by whole gaps from where it was, never from
 * "now": a late tick sends what it owes instead of losing it.  Whatever
 * the output buffer (or, for requests, the in-flight limit) cannot take
 * stays owed, and the caller takes the connection off the timer until it
 * can send again.
 */
/*
 * n due moments of a load that is not plain: bursts, varying messages,
 * messages_per_connection.  Apart, so that the plain path stays short.
 */
static void __attribute__((noinline))
stream_send_owed(struct conn *c, struct evbuffer *out, size_t len,
    uint64_t n)
{
	struct wload	*wl = c->wl;
	size_t		 size = wl->size;
	uint64_t	 room, quota, msgs, burst;

	/* Each due moment is a burst of messages (1 unless told). */
	burst = wl->conf->burst;
	room = len >= OUT_HIGH_WATER ? 0 :
	    (OUT_HIGH_WATER - len + size - 1) / size;
	if (len == 0 && room < burst)
		room = burst;		/* a burst larger than the mark */
	if (n * burst > room)
		n = room / burst;	/* whole bursts; the rest stays owed */
	if (n == 0)
		return;
	msgs = n * burst;
	if ((quota = conn_quota(c)) < msgs)
		msgs = quota;		/* its last: the connection ends */
	if (msgs == 0)
		return;
	c->next_due += n * wl->interval_ns;
	conn_send(c, out, len, msgs);
}

static inline __attribute__((always_inline)) void
stream_send_due(struct conn *c, uint64_t now, bool direct, bool plain)
{
	struct wload	*wl = c->wl;
	struct evbuffer	*out;
	size_t		 len, size = wl->size;
	uint64_t	 n, room;

	if (wl->conf->expect != EXPECT_NONE) {
		struct rq_batch	 b;

		if (c->next_due > now)
			return;
		if (plain && direct && c->outlen == 0) {
			rq_plain(c, now, true);
			return;
		}
		rq_begin(c, &b);
		while (c->next_due <= now &&
		    rq_take_burst(c, &b, c->next_due, now))
			c->next_due += wload_gap(wl);
		rq_send(c, &b);
		return;
	}
	if (plain && direct && c->outlen == 0) {
		/*
		 * Nothing was queued since the output was last seen empty,
		 * and only this connection's own queueing adds to it: it is
		 * still empty, and the usual paced send asks libevent nothing.
		 */
		out = NULL;
		len = 0;
	} else {
		out = bufferevent_get_output(c->bev);
		len = evbuffer_get_length(out);
		conn_account(c, len);
		/*
		 * Full; or, under max_rate, holding bytes the kernel refused:
		 * what falls due waits, owed, for the write callback
		 * (wload_set_catch_up).  The path above never holds any.
		 */
		if (len >= wl->paced_high)
			return;
	}
	if (now < c->next_due)
		return;
	n = (now - c->next_due) / wl->interval_ns + 1;
	if (plain) {
		/* One message a due moment, of one size, without end. */
		room = len >= OUT_HIGH_WATER ? 0 :
		    (OUT_HIGH_WATER - len + size - 1) / size;
		if (n > room)
			n = room;
		if (n == 0)
			return;
		c->next_due += n * wl->interval_ns;
		if (direct)
			conn_write(c, out, len, n * size);
		else
			conn_queue_write(c, out, len, n * size);
		return;
	}
	stream_send_owed(c, out, len, n);
}

/*
 * Every change of state goes through here (but BACKOFF <-> IDLE, which
 * holds no socket), so the gauges and the worker's count of connects in
 * flight cannot drift.  A connect that ends, however it ends (up, failed,
 * timed out, closed by a scale down), frees a place for a waiting slot.
 */
void
conn_set_state(struct conn *c, enum conn_state state)
{
	struct wload		*wl = c->wl;
	struct load_counters	*ctr = wl->ctr;

	if (c->state == CONN_CONNECTING) {
		CTR_ADD(ctr->connecting, -1);
		wl->connecting--;
		if (state != CONN_CONNECTING)
			wload_kick(wl);
	} else if (c->state == CONN_UP) {
		CTR_ADD(ctr->active, -1);
		CTR_ADD(wl->tctr[c->tgt].active, -1);
	}
	if (state == CONN_CONNECTING) {
		CTR_ADD(ctr->connecting, 1);
		wl->connecting++;
	} else if (state == CONN_UP) {
		CTR_ADD(ctr->active, 1);
		CTR_ADD(wl->tctr[c->tgt].active, 1);
	}
	c->state = (uint8_t)state;
}

/*
 * Bind a new socket to the load's next source address, round-robin.  The
 * port stays 0 and IP_BIND_ADDRESS_NO_PORT defers its choice to connect(),
 * which may then reuse a local port for other destinations; a plain
 * bind() to port 0 would reserve a port per socket and run out at some
 * 28 000 sockets per address, whatever the targets.  Returns 0, or -1 with
 * errno set by bind().
 */
int
conn_bind(struct conn *c, int fd)
{
	struct wload			*wl = c->wl;
	const struct load_conf		*lc = wl->conf;
	const struct sockaddr_storage	*src;
	int				 one = 1;

	src = &lc->sources[wl->next_source % (unsigned)lc->nsources];
	wl->next_source = (wl->next_source + 1) % (unsigned)lc->nsources;
	/* Without it (an old kernel) bind() picks the port: still correct. */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	return bind(fd, (const struct sockaddr *)src,
	    src->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in));
}

/*
 * Options a new stream socket gets before its connect.  Failures are
 * harmless (an old kernel, a unix socket that has no TCP options).
 */
static void
stream_sockopts(const struct load_conf *lc, int fd, int family)
{
	int	 one = 1, idle;

	if (family == AF_UNIX)
		return;
	/*
	 * Under max_rate the kernel too keeps little unsent (TCP's own
	 * buffer grows to megabytes): what a stalled server left in it
	 * would leave at the line's speed when the server reads again.
	 * A hundredth of a second at the ceiling, at least a due moment's
	 * messages, at most 4 MiB.
	 */
	if (lc->max_rate < RATE_LIMIT && lc->rate > 0) {
		double	 b = lc->max_rate * (double)lc->size / 100;
		int	 lowat;

		if (b < (double)lc->size * lc->burst)
			b = (double)lc->size * lc->burst;
		lowat = b < 4194304 ? (int)b : 4194304;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat,
		    sizeof(lowat));
	}
	if (lc->nodelay)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	if (lc->keepalive > 0) {
		idle = (int)lc->keepalive;
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one,
		    sizeof(one));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
		    sizeof(idle));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle,
		    sizeof(idle));
	}
}

/* A new socket's tallies: it starts on a cycle's first message. */
void
conn_prepare(struct conn *c)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;
	struct conn_tmpl	*tx;

	/* A message cut short by the last socket is not counted. */
	c->outlen = 0;
	c->written = c->msgs = 0;
	c->pos -= c->pos % wl->cyc_len;
	if (wl->tmpl != NULL) {
		tx = conn_tmpl(c);
		tx->seq = tx->done = 0;
		tx->head = tx->n = 0;
		if (lc->expect == EXPECT_ECHO && tx->echo == NULL)
			tx->echo = xmalloc((size_t)lc->inflight * wl->size);
	}
	c->heap_idx = HEAP_NONE;
	c->send_err = 0;
	c->rq_head = c->rq_n = 0;
	c->reply_got = 0;
	c->first_send = 0;
	c->ttfb_pending = false;
	c->handshaking = false;
	c->retiring = false;
	if (lc->expect != EXPECT_NONE && c->rq == NULL)
		c->rq = xcalloc((size_t)lc->inflight, sizeof(*c->rq));
	if (lc->expect != EXPECT_NONE && c->rx == NULL)
		c->rx = xcalloc(1, sizeof(*c->rx));
	if (c->rx != NULL)
		frame_reset(&c->rx->fs);
	c->connect_start = now_ns();
}

/* A connect that failed before it started, counted as such. */
static void
conn_open_failed(struct conn *c, enum err_kind kind)
{
	CTR_ADD(c->wl->ctr->connects_failed, 1);
	CTR_ADD(c->wl->tctr[c->tgt].connects_failed, 1);
	conn_fail(c, kind);
}

/*
 * Open the slot's socket and start a non-blocking connect.  TLS connects
 * the socket first and starts its handshake when it is connected (so the
 * two are timed apart); its first bufferevent therefore leaves the socket
 * open when freed, for the TLS one (tls_close closes it).
 */
static void
stream_open(struct conn *c)
{
	struct wload			*wl = c->wl;
	const struct load_conf		*lc = wl->conf;
	const struct target_conf	*tc = &lc->targets[c->tgt];
	struct timeval			 tv;
	int				 fd;

	fd = socket(tc->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		conn_open_failed(c, err_kind_from_errno(errno));
		return;
	}
	if (lc->nsources > 0 && conn_bind(c, fd) == -1) {
		int saved = errno;

		close(fd);
		conn_open_failed(c, err_kind_from_bind_errno(saved));
		return;
	}
	stream_sockopts(lc, fd, tc->addr.ss_family);
	/* The socket is closed by its transport (worker_close_later). */
	c->bev = bufferevent_socket_new(wl->w->base, fd, 0);
	if (c->bev == NULL) {
		close(fd);
		conn_open_failed(c, ERR_OTHER);
		return;
	}
	c->fd = fd;
	stream_setcb(c);
	/* The write timeout covers the connect. */
	tv = tv_from_s(lc->connect_timeout);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	conn_prepare(c);
	conn_set_state(c, CONN_CONNECTING);
	if (bufferevent_socket_connect(c->bev,
	    (const struct sockaddr *)&tc->addr, (int)tc->addrlen) == -1) {
		int saved = errno;

		CTR_ADD(wl->ctr->connects_failed, 1);
		CTR_ADD(wl->tctr[c->tgt].connects_failed, 1);
		conn_close(c);
		conn_fail(c, err_kind_from_errno(saved));
	}
}

void
stream_setcb(struct conn *c)
{
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
}

/* The stream transports' close: count what left, free the socket. */
void
stream_close(struct conn *c)
{
	static const struct linger	 lg = { 1, 0 };

	if (c->bev == NULL)
		return;
	if (c->state == CONN_UP)
		conn_account(c,
		    evbuffer_get_length(bufferevent_get_output(c->bev)));
	/*
	 * close = "reset": every close loadd makes (churn, scale down, stop)
	 * is a reset, which leaves no TIME_WAIT behind.
	 */
	if (c->wl->conf->close == CLOSE_RESET && c->fd >= 0)
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg));
	if (c->rx != NULL && c->rx->on)
		worker_rx_del(c->wl->w, c);
	/*
	 * libevent allows freeing a bufferevent from its own callback: the
	 * free is deferred until the callback returns.  The socket outlives
	 * it by a pass of the loop (worker_close_later).
	 */
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->fd >= 0)
		worker_close_later(c->wl->w, c->fd);
	c->fd = -1;
}

/* Free the socket, keep the slot (it goes back to CONN_IDLE). */
void
conn_close(struct conn *c)
{
	if (c->sq_len > 0)
		worker_flush(c->wl->w);	/* its send must not outlive it */
	c->wl->tp->close(c);
	pace_remove(c);
	if (c->retry != NULL) {
		event_free(c->retry);
		c->retry = NULL;
	}
	/* Requests still in flight go with the socket. */
	c->rq_n = 0;
	c->reply_got = 0;
	c->handshaking = false;
	c->retiring = false;
	conn_set_state(c, CONN_IDLE);
}

void
conn_free(struct conn *c)
{
	conn_close(c);
	if (c->wl->tmpl != NULL)
		free(conn_tmpl(c)->echo);
	free(c->rx);
	free(c->rq);
	free(c);
}

/*
 * Churn: the connection's life is over (its lifetime ran out, or its
 * messages_per_connection are out and answered).  It closes as the load
 * says (a reset leaves no TIME_WAIT behind) and its slot opens a new one
 * as the connect rate allows, with a fresh schedule.
 */
void
conn_recycle(struct conn *c)
{
	struct wload	*wl = c->wl;

	CTR_ADD(wl->ctr->recycled, 1);
	conn_close(c);
	c->attempts = 0;
	c->next_due = 0;
	wload_idle(wl, c);
	wload_open_pending(wl);
}

/* The transport's view: bytes queued that have not left yet. */
static bool
conn_output_pending(const struct conn *c)
{
	return c->wl->conf->protocol != PROTO_UDP && c->bev != NULL &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
}

static void
conn_lifecb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (c->state != CONN_UP)
		return;
	/*
	 * The last message is counted but not yet answered, or not all
	 * written: the last reply (or write) calls again.  A lifetime that
	 * ran out does not wait.
	 */
	if (c->retiring && (c->rq_n > 0 || conn_output_pending(c)))
		return;
	conn_recycle(c);
}

/* The connection's last message is out: end it from the loop, not here. */
void
conn_retire_soon(struct conn *c)
{
	if (c->state != CONN_UP)
		return;
	c->retiring = true;
	if (c->retry == NULL &&
	    (c->retry = evtimer_new(c->wl->w->base, conn_lifecb, c)) == NULL)
		return;
	/* Run it in this pass of the loop: no timer to arm. */
	evtimer_del(c->retry);
	event_active(c->retry, EV_TIMEOUT, 1);
}

/*
 * The connection is ready for traffic: start what its load sends, and
 * arm the end of its lifetime.
 */
void
conn_up(struct conn *c, uint64_t now)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;

	conn_set_state(c, CONN_UP);
	c->up_since = now;
	if (lc->lifetime > 0 &&
	    (c->retry = evtimer_new(wl->w->base, conn_lifecb, c)) != NULL) {
		double		 u, d;
		struct timeval	 tv;

		u = (double)(worker_random(wl->w) >> 11) / 9007199254740992.0;
		d = lc->lifetime * (1.0 + lc->lifetime_jitter *
		    (2.0 * u - 1.0));
		tv = tv_from_s(d);
		evtimer_add(c->retry, &tv);
	}
	if (lc->idle)
		return;
	if (wl->rate > 0 && c->next_due == 0)
		pace_start(c, now);
	else if (wl->rate > 0) {
		/*
		 * The slot had a schedule before it lost its connection:
		 * keep it.  What fell due meanwhile is sent now, counted
		 * late, and timed from when it was due, so an outage shows
		 * in the latency instead of vanishing from it.
		 */
		if (lc->expect != EXPECT_NONE)
			wl->tp->refill(c, now);
		else
			pace_push(c);
	} else if (lc->expect != EXPECT_NONE)
		wl->tp->refill(c, now);
	else
		wl->tp->fill(c);
}

/* Delay before the next attempt: exponential, capped, with jitter. */
static double
conn_backoff(struct conn *c)
{
	const struct reconnect_conf	*rc = &c->wl->conf->reconnect;
	double				 d, u;

	d = rc->delay * pow(rc->backoff, (double)c->attempts);
	if (d > rc->max_delay || !isfinite(d))
		d = rc->max_delay;
	u = (double)(worker_random(c->wl->w) >> 11) / 9007199254740992.0;
	d *= 1.0 + rc->jitter * (2.0 * u - 1.0);
	if (c->attempts < 64)
		c->attempts++;
	return d;
}

/*
 * The socket failed or went away: count it, and wait out the backoff before
 * the slot may be opened again.  A refused target therefore costs one
 * connect per slot per backoff delay, never a busy loop.
 */
void
conn_fail(struct conn *c, enum err_kind kind)
{
	struct wload	*wl = c->wl;
	struct timeval	 tv;
	double		 d;

	CTR_ADD(wl->ctr->errors[kind], 1);
	conn_close(c);
	d = conn_backoff(c);
	tv = tv_from_s(d);
	c->retry = evtimer_new(wl->w->base, conn_retrycb, c);
	if (c->retry == NULL || evtimer_add(c->retry, &tv) == -1) {
		/* Cannot even arm a timer: leave the slot idle. */
		log_warnx("%s: cannot arm the retry timer", __func__);
		wload_idle(wl, c);
		return;
	}
	c->state = CONN_BACKOFF;
}

/* An established connection ends by our own verdict on its replies. */
void
conn_reset(struct conn *c, enum err_kind kind)
{
	CTR_ADD(c->wl->ctr->disconnects, 1);
	CTR_ADD(c->wl->tctr[c->tgt].disconnects, 1);
	conn_fail(c, kind);
}

static void
conn_retrycb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	/* libevent allows freeing a non-persistent event in its callback. */
	event_free(c->retry);
	c->retry = NULL;
	c->state = CONN_IDLE;
	wload_idle(c->wl, c);
	wload_open_pending(c->wl);
}

/*
 * What a framing said of a whole reply: HTTP status classes and the
 * status asked for, RESP errors.
 */
void
conn_reply_info(struct conn *c, const struct frame_reply *rep)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;

	if (rep->status > 0) {
		switch (rep->status / 100) {
		case 2:
			CTR_ADD(wl->ctr->http_2xx, 1);
			break;
		case 3:
			CTR_ADD(wl->ctr->http_3xx, 1);
			break;
		case 4:
			CTR_ADD(wl->ctr->http_4xx, 1);
			break;
		case 5:
			CTR_ADD(wl->ctr->http_5xx, 1);
			break;
		}
		if (lc->expect_status > 0 && rep->status != lc->expect_status)
			CTR_ADD(wl->ctr->bad_status, 1);
	}
	if (rep->server_error)
		CTR_ADD(wl->ctr->server_errors, 1);
}

/*
 * The server ends the connection after this reply (HTTP's Connection:
 * close): not an error.  The slot opens a new connection at once and
 * keeps its schedule; requests pipelined behind the last reply were never
 * answered (the server said it would not), and count as unanswered.
 */
void
conn_server_close(struct conn *c)
{
	struct wload	*wl = c->wl;

	CTR_ADD(wl->ctr->server_closes, 1);
	CTR_ADD(wl->ctr->unanswered, c->rq_n);
	conn_close(c);
	c->attempts = 0;
	wload_idle(wl, c);
	wload_open_pending(wl);
}

/* A reply the framing cannot parse: logged (rate-limited) and reset. */
void
conn_bad_reply(struct conn *c, const struct frame_reply *rep)
{
	struct wload	*wl = c->wl;

	if (wload_errlog(wl))
		log_warnx("load %s: bad reply (%s): %s", wl->conf->name,
		    frame_err_name(rep->err), rep->why);
	conn_reset(c, rep->err == FRAME_TOO_LARGE ? ERR_REPLY_TOO_LARGE :
	    ERR_BAD_REPLY);
}

/*
 * After replies freed slots: a closed-loop connection (no rate) sends at
 * once to keep `inflight` requests outstanding; an open-loop one that had
 * to hold requests back sends them now, each still timed from its intended
 * moment and counted as late, and returns to the timer.
 */
void
conn_refill(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;
	struct rq_batch	 b;

	if (wl->rate == 0) {
		if (wl->plain && c->outlen == 0 &&
		    wl->tp->write == conn_write) {
			rq_plain(c, now, false);
			return;
		}
		rq_begin(c, &b);
		while (rq_take(c, &b, now, now))
			;
		rq_send(c, &b);
		return;
	}
	if (c->heap_idx != HEAP_NONE)
		return;
	conn_catch_up(c, now);
	rq_begin(c, &b);
	while (c->next_due <= now &&
	    rq_take_burst(c, &b, c->next_due, now)) {
		CTR_ADD(wl->ctr->late, 1);
		c->next_due += wload_gap(wl);
	}
	rq_send(c, &b);
	if (c->next_due > now)
		pace_push(c);
}

/*
 * The reply-timeout sweep, and the closed-loop refill after a rate change.
 * Every request still unanswered counts as one reply_timeout.
 */
static void
stream_check_replies(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;
	uint64_t	 limit = (uint64_t)(wl->conf->reply_timeout * 1e9);

	if (c->rq_n > 0 && now - c->rq[c->rq_head].sent > limit) {
		CTR_ADD(wl->ctr->errors[ERR_REPLY_TIMEOUT], c->rq_n - 1);
		conn_reset(c, ERR_REPLY_TIMEOUT);
		return;
	}
	if (wl->rate == 0)
		conn_refill(c, now);
}

/*
 * Through the bufferevent (TLS, which decrypts into it; or no reply
 * expected): its input is parsed where it lies, a contiguous piece at a
 * time, and drained once.
 */
static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct wload		*wl = c->wl;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 n = evbuffer_get_length(in), used;
	struct evbuffer_iovec	 v[8];
	uint64_t		 now;
	int			 i, k;

	if (wl->conf->expect == EXPECT_NONE) {
		/* Bytes the server sends are counted and discarded. */
		CTR_ADD(wl->ctr->bytes_received, n);
		evbuffer_drain(in, n);
		return;
	}
	now = now_ns();
	conn_ttfb(c, now);
	while (evbuffer_get_length(in) > 0) {
		k = evbuffer_peek(in, -1, NULL, v, 8);
		if (k > 8)
			k = 8;
		used = 0;
		for (i = 0; i < k; i++) {
			if (!conn_replies(c, v[i].iov_base, v[i].iov_len, now))
				return;	/* closed: its buffer went with it */
			used += v[i].iov_len;
		}
		evbuffer_drain(in, used);
	}
	conn_refill(c, now);
}

/* An established connection is lost: the peer, or the network. */
static __attribute__((cold)) void
conn_lost(struct conn *c, enum err_kind kind)
{
	struct wload	*wl = c->wl;

	CTR_ADD(wl->ctr->disconnects, 1);
	CTR_ADD(wl->tctr[c->tgt].disconnects, 1);
	/* A connection that held for a while resets the backoff. */
	if (now_ns() - c->up_since >= 1000000000ull)
		c->attempts = 0;
	conn_fail(c, kind);
}

/* conn_rx_ready()'s recv() returned n <= 0 (errno err): lost, or not yet. */
void
conn_rx_failed(struct conn *c, ssize_t n, int err)
{
	if (n == -1 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
		return;
	if (c->send_err != 0)
		conn_lost(c, err_kind_from_errno(c->send_err));
	else if (n == 0)
		/* The end, in the middle of a reply or between two. */
		conn_lost(c, c->rq_n > 0 && c->reply_got > 0 ?
		    ERR_SHORT_REPLY : ERR_CLOSED);
	else
		conn_lost(c, err_kind_from_errno(err));
}

/* The output fell to the low watermark (or emptied). */
static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct wload	*wl = c->wl;
	uint64_t	 now;

	/*
	 * A connect that succeeds at once (a unix socket) has libevent call
	 * the write callback before the connection is reported: not ready.
	 */
	if (c->state != CONN_UP)
		return;
	if (wl->rate == 0 && wl->conf->expect == EXPECT_NONE &&
	    !wl->conf->idle)
		conn_fill(c);
	else if (wl->rate > 0 && wl->conf->expect == EXPECT_NONE &&
	    c->heap_idx == HEAP_NONE) {
		/*
		 * It left the timer with a full output: pay what it owes,
		 * as far as catch_up and max_rate let it.
		 */
		now = now_ns();
		conn_catch_up(c, now);
		conn_send_due(c, now);
		pace_push(c);
	} else
		conn_account(c, evbuffer_get_length(bufferevent_get_output(bev)));
}

static bool
conn_self_connected(const struct conn *c)
{
	struct sockaddr_storage	 a, b;
	socklen_t		 alen = sizeof(a), blen = sizeof(b);

	if (getsockname(c->fd, (struct sockaddr *)&a, &alen) == -1 ||
	    getpeername(c->fd, (struct sockaddr *)&b, &blen) == -1)
		return false;
	return alen == blen && memcmp(&a, &b, alen) == 0;
}

/*
 * A plain stream that expects replies reads them itself (conn_rx_ready),
 * from the worker's reply loop.
 */
static int
stream_rawread(struct conn *c)
{
	struct worker	*w = c->wl->w;

	if (w->rbuf == NULL && (w->rbuf = malloc(IN_MAX_READ)) == NULL)
		return -1;
	return worker_rx_add(w, c);
}

/* A stream is ready: its buffers set for bulk, and traffic starts. */
static void
stream_ready(struct conn *c, uint64_t now)
{
	struct bufferevent	*bev = c->bev;

	bufferevent_set_timeouts(bev, NULL, NULL);
	bufferevent_setwatermark(bev, EV_WRITE, OUT_LOW_WATER, 0);
	/*
	 * libevent writes at most 16 KiB per call unless told otherwise:
	 * let one writev() take the whole output.
	 */
	bufferevent_set_max_single_write(bev, OUT_HIGH_WATER);
	bufferevent_set_max_single_read(bev, IN_MAX_READ);
	if (c->wl->conf->expect != EXPECT_NONE &&
	    c->wl->tp == &transport_tcp && stream_rawread(c) == 0)
		bufferevent_enable(bev, EV_WRITE);
	else
		bufferevent_enable(bev, EV_READ | EV_WRITE);
	conn_up(c, now);
}

/* TCP and unix: connected is ready. */
static bool
stream_connected(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;

	CTR_ADD(wl->ctr->connects_ok, 1);
	CTR_ADD(wl->tctr[c->tgt].connects_ok, 1);
	if (wl->h != NULL)
		hist_record(&wl->h[LAT_CONNECT], now - c->connect_start);
	return true;
}

enum err_kind
stream_error_kind(struct conn *c, short what, int err)
{
	if (what & BEV_EVENT_TIMEOUT)
		return ERR_TIMEOUT;
	if (c->send_err != 0)
		return err_kind_from_errno(c->send_err);
	if (what & BEV_EVENT_EOF) {
		/*
		 * Part of a reply (parsed, in reply_got, or still in the
		 * input buffer) and then the end: short.
		 */
		size_t held = evbuffer_get_length(bufferevent_get_input(
		    c->bev));

		CTR_ADD(c->wl->ctr->bytes_received, held);
		return c->rq_n > 0 && (c->reply_got > 0 || held > 0) ?
		    ERR_SHORT_REPLY : ERR_CLOSED;
	}
	return err_kind_from_errno(err);
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	struct wload	*wl = c->wl;
	enum err_kind	 kind;
	int		 saved = EVUTIL_SOCKET_ERROR();

	if ((what & BEV_EVENT_CONNECTED) && !c->handshaking &&
	    wl->self_check && conn_self_connected(c)) {
		/*
		 * Nothing listens on the target, and the kernel picked the
		 * target's own port as our local port: on loopback a connect
		 * then "succeeds" to itself (TCP simultaneous open).  It is a
		 * refused connect, and the port must be freed for the server.
		 */
		conn_open_failed(c, ERR_REFUSED);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		uint64_t now = now_ns();

		if (wl->tp->connected(c, now))
			stream_ready(c, now);
		return;
	}
	kind = wl->tp->error_kind(c, what, saved);
	if (c->state == CONN_CONNECTING) {
		CTR_ADD(wl->ctr->connects_failed, 1);
		CTR_ADD(wl->tctr[c->tgt].connects_failed, 1);
		conn_fail(c, kind);
	} else
		conn_lost(c, kind);
}

/*
 * The paced path, made once for each way of writing (see conn_write) and
 * once more for a plain load (wload_new picks it), which then pays for
 * none of the other cases.
 */
static void
tcp_send_due(struct conn *c, uint64_t now)
{
	stream_send_due(c, now, true, false);
}

static void
tcp_send_due_plain(struct conn *c, uint64_t now)
{
	stream_send_due(c, now, true, true);
}

/*
 * A plain request/response load over TCP or unix: the request path
 * without the tests for floods (its output last seen empty: rq_plain).
 */
static void
tcp_send_due_rq_plain(struct conn *c, uint64_t now)
{
	if (c->next_due > now)
		return;
	if (c->outlen == 0)
		rq_plain(c, now, true);
	else
		stream_send_due(c, now, true, true);
}

static void
tls_send_due(struct conn *c, uint64_t now)
{
	stream_send_due(c, now, false, false);
}

static void
tls_send_due_plain(struct conn *c, uint64_t now)
{
	stream_send_due(c, now, false, true);
}

const struct transport transport_tcp = {
	.name = "tcp",
	.open = stream_open,
	.close = stream_close,
	.send_due = tcp_send_due,
	.send_due_plain = tcp_send_due_plain,
	.send_due_rq_plain = tcp_send_due_rq_plain,
	.fill = stream_fill,
	.check_replies = stream_check_replies,
	.refill = conn_refill,
	.write = conn_write,
	.connected = stream_connected,
	.error_kind = stream_error_kind,
};

/* TLS: every byte goes through the bufferevent, which encrypts it. */
const struct transport transport_tls = {
	.name = "tls",
	.open = stream_open,
	.close = tls_close,
	.send_due = tls_send_due,
	.send_due_plain = tls_send_due_plain,
	.fill = stream_fill,
	.check_replies = stream_check_replies,
	.refill = conn_refill,
	.write = conn_queue_write,
	.connected = tls_connected,
	.error_kind = tls_error_kind,
};
