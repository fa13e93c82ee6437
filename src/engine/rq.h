/* SPDX-License-Identifier: ISC */
/*
 * engine/rq.h -- the plain request path, in line where it is hot: conn.c's
 * paced call and refill, and the reply loop in worker.c (pace_serve), so
 * that a request due in the loop costs no call through the load's
 * send_due.  Only conn.c and worker.c include it.
 */
#ifndef LOADD_ENGINE_RQ_H
#define LOADD_ENGINE_RQ_H

#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/sys.h"
#include "engine/worker.h"

struct evbuffer;

/* conn.c: the cases the in-line path leaves to it. */
void	 conn_written_varying(struct conn *, size_t);
void	 conn_write(struct conn *, struct evbuffer *, size_t, size_t);

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

#endif
