/* SPDX-License-Identifier: ISC */
/*
 * engine/rq.h -- the request path, in line where it is hot: the plain
 * request path (conn.c's paced call and refill, and the reply loop's
 * pace_serve in worker.c, so that a request due in the loop costs no call
 * through the load's send_due), and the reply path (the loop's read of a
 * reply socket, and conn.c's read through a bufferevent).  What is rare on
 * them stays out of line in conn.c, marked cold so that the loop keeps
 * its registers.  Only conn.c and worker.c include it.
 */
#ifndef LOADD_ENGINE_RQ_H
#define LOADD_ENGINE_RQ_H

#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/sys.h"
#include "engine/worker.h"
#include "measure/hist.h"
#include "model/framing.h"

struct evbuffer;

/* conn.c: the cases the in-line paths leave to it. */
void	 conn_written_varying(struct conn *, size_t);
void	 conn_write(struct conn *, struct evbuffer *, size_t, size_t);
void	 conn_reply_info(struct conn *, const struct frame_reply *);
void	 conn_server_close(struct conn *);
void	 conn_bad_reply(struct conn *, const struct frame_reply *)
	    __attribute__((cold));
void	 conn_rx_failed(struct conn *, ssize_t, int) __attribute__((cold));

/* n more bytes went to the kernel, which makes msgs whole messages. */
static inline void
conn_count(struct conn *c, size_t n, uint64_t msgs)
{
	struct wload	*wl = c->wl;

	CTR_ADD(wl->ctr->bytes_sent, n);
	CTR_ADD(wl->ctr->messages_sent, msgs - c->msgs);
	c->msgs = msgs;
	/* churn: the last message is out (UINT64_MAX: never) */
	if (msgs >= wl->msg_limit)
		conn_retire_soon(c);
}

static inline __attribute__((always_inline)) void
conn_written(struct conn *c, size_t n)
{
	struct wload	*wl = c->wl;

	c->written += n;
	if (!wl->uniform) {
		conn_written_varying(c, n);
		return;
	}
	conn_count(c, n, c->written / wl->size);
}

/*
 * A direct send failed.  The kernel hands a socket's pending error (a
 * connection it aborted: ETIMEDOUT, ECONNRESET) to the first call that
 * asks, and then forgets it: libevent, writing or reading next, would see
 * EPIPE or an end of file and count a timeout as a reset or a close.  So
 * the error is kept for the event callback.
 */
static inline void
conn_send_failed(struct conn *c, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    c->send_err != 0)
		return;
	c->send_err = (uint8_t)(err > 0 && err < 256 ? err : EIO);
}

/*
 * The plain request path (a plain load over plain TCP or unix, whose
 * output was last seen empty): book every request that may go, as many as
 * the in-flight limit leaves, each due by now if paced, and write them
 * together, without asking libevent anything.  The rq_begin()/rq_take()
 * path does the same for every other load.
 */
static inline __attribute__((always_inline)) void
rq_plain(struct conn *c, uint64_t now, bool paced)
{
	struct wload		*wl = c->wl;
	unsigned		 cap = (unsigned)wl->conf->inflight, i, k = 0;
	size_t			 at = c->pos, bytes;
	ssize_t			 sent = 0;
	struct request_slot	*r;

	i = c->rq_head + c->rq_n;
	if (i >= cap)
		i -= cap;
	while (c->rq_n < cap && (!paced || c->next_due <= now)) {
		r = &c->rq[i];
		r->intended = paced ? c->next_due : now;
		r->sent = now;
		r->off = at;
		if ((at += wl->size) >= wl->payload_len)
			at -= wl->payload_len;
		if (++i == cap)
			i = 0;
		c->rq_n++;
		k++;
		if (paced)
			c->next_due += wload_gap(wl);
	}
	if (k == 0)
		return;
	if (c->first_send == 0) {
		c->first_send = now;
		c->ttfb_pending = true;
	}
	bytes = (size_t)k * wl->size;
	/* The usual case: one request, straight to the kernel. */
	if (c->sq_len == 0 && !wl->w->batching &&
	    c->pos + bytes <= wl->payload_len &&
	    (sent = sys_send(c->fd, wl->payload + c->pos, bytes,
	    MSG_DONTWAIT | MSG_NOSIGNAL)) == (ssize_t)bytes) {
		conn_written(c, bytes);
		if ((c->pos += bytes) == wl->payload_len)
			c->pos = 0;
		return;
	}
	if (sent < 0) {
		conn_send_failed(c, errno);
		sent = 0;
	} else if (sent > 0) {
		conn_written(c, (size_t)sent);
		c->pos += (size_t)sent;	/* short of the ring's end */
	}
	conn_write(c, NULL, 0, bytes - (size_t)sent);
}

/* A whole reply arrived for the oldest request: time it and move on. */
static inline __attribute__((always_inline)) void
conn_reply_done(struct conn *c, uint64_t now)
{
	struct wload		*wl = c->wl;
	unsigned		 cap = (unsigned)wl->conf->inflight;
	struct request_slot	*r = &c->rq[c->rq_head];

	wload_record_reply(wl, r, now);
	CTR_ADD(wl->ctr->replies, 1);
	if (++c->rq_head == cap)
		c->rq_head = 0;
	c->rq_n--;
	c->reply_got = 0;
	/* churn: its last request is answered */
	if (c->rq_n == 0 && c->msgs >= wl->msg_limit)
		conn_retire_soon(c);
}

/*
 * Replies in a piece of the input, parsed in place: counted, checked and
 * timed without a copy; a reply cut by the end of the piece is carried
 * in the connection's state (reply_got, the framing's state).  Returns
 * false if the connection was closed (the caller must not touch it).
 */
static inline __attribute__((always_inline)) bool
conn_replies(struct conn *c, const char *p, size_t n, uint64_t now)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;
	const char		*ref;
	size_t			 total, take;
	struct frame_reply	 rep;
	enum frame_rc		 rc;

	CTR_ADD(wl->ctr->bytes_received, n);
	while (n > 0) {
		if (c->rq_n == 0) {
			/* Bytes nobody asked for: the stream is out of step. */
			conn_reset(c, ERR_UNSOLICITED);
			return false;
		}
		if (wl->echo_plain) {
			/* The usual echo: one test, not the four below. */
			ref = wl->payload + c->rq[c->rq_head].off;
			total = wl->size;
		} else if (lc->expect != EXPECT_ECHO &&
		    lc->expect != EXPECT_MATCH) {
			take = frame_feed(&wl->fr, &c->rx->fs, p, n, &rc, &rep);
			p += take;
			n -= take;
			if (rc == FRAME_MORE) {
				c->reply_got += take;
				return true;
			}
			if (rc == FRAME_ERROR) {
				conn_bad_reply(c, &rep);
				return false;
			}
			conn_reply_info(c, &rep);
			conn_reply_done(c, now);
			if (rep.close) {
				conn_server_close(c);
				return false;
			}
			continue;
		} else if (lc->expect == EXPECT_MATCH) {
			ref = lc->expect_bytes;
			total = lc->expect_len;
		} else if (wl->tmpl != NULL) {
			/* The request as it was expanded. */
			ref = conn_tmpl(c)->echo + (size_t)c->rq_head * wl->size;
			total = c->rq[c->rq_head].off;
		} else {
			/* Its own message, whatever its length. */
			ref = wl->payload + c->rq[c->rq_head].off;
			total = wload_msgs_bytes(wl, c->rq[c->rq_head].off, 1);
		}
		take = total - c->reply_got;
		if (take > n)
			take = n;
		if (memcmp(p, ref + c->reply_got, take) != 0) {
			conn_reset(c, ERR_MISMATCH);
			return false;
		}
		p += take;
		n -= take;
		c->reply_got += take;
		if (c->reply_got == total)
			conn_reply_done(c, now);
	}
	return true;
}

/* The first byte of the first reply: time to first byte. */
static inline void
conn_ttfb(struct conn *c, uint64_t now)
{
	if (c->ttfb_pending) {
		hist_record(&c->wl->h[LAT_TTFB], now - c->first_send);
		c->ttfb_pending = false;
	}
}

/*
 * Plain streams (TCP, unix) that expect replies read them themselves:
 * one recv() a wake-up into the worker's buffer, parsed in place, with no
 * evbuffer chain, copy or callback of libevent's in between.  The
 * bufferevent still connects and writes.  The worker's reply loop calls
 * this when the socket is readable, with the time epoll returned (the
 * moment the reply was seen: it was in the socket by then).
 */
static inline __attribute__((always_inline)) void
conn_rx_ready(struct conn *c, uint64_t now)
{
	struct worker	*w = c->wl->w;
	ssize_t		 n;

	n = sys_recv(c->fd, w->rbuf, IN_MAX_READ, 0);
	if (n > 0) {
		conn_ttfb(c, now);
		/* A paced connection on the timer has nothing to refill. */
		if (conn_replies(c, w->rbuf, (size_t)n, now) &&
		    (c->wl->rate == 0 || c->heap_idx == HEAP_NONE))
			conn_refill(c, now);
		return;
	}
	conn_rx_failed(c, n, errno);
}

#endif
