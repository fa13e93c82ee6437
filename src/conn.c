/*
 * conn.c -- one connection's life: connect with a timeout, send (flood or
 * paced), read and discard, count errors by kind, reconnect with backoff.
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
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "loadd.h"

static void	conn_readcb(struct bufferevent *, void *);
static void	conn_writecb(struct bufferevent *, void *);
static void	conn_eventcb(struct bufferevent *, short, void *);
static void	conn_retrycb(evutil_socket_t, short, void *);
static void	conn_fail(struct conn *, enum err_kind);

/*
 * Count what left the output buffer since we last looked.  Bytes count as
 * sent when libevent has handed them to the kernel, and a message counts
 * once its last byte has: queued bytes are never reported as sent.
 */
static void
conn_written(struct conn *c, size_t n)
{
	struct wload	*wl = c->wl;
	uint64_t	 msgs;

	c->written += n;
	msgs = c->written / wl->conf->size;
	CTR_ADD(wl->ctr->bytes_sent, n);
	CTR_ADD(wl->ctr->messages_sent, msgs - c->msgs);
	c->msgs = msgs;
}

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
 * Queue n whole messages from the payload ring by reference: no copy and no
 * allocation of payload bytes (libevent allocates a small chain header per
 * reference; the ring lets one reference cover many messages).
 */
static void
conn_queue(struct conn *c, struct evbuffer *out, size_t nbytes)
{
	struct wload	*wl = c->wl;

	while (nbytes > 0) {
		size_t chunk = wl->payload_len - c->pos;

		if (chunk > nbytes)
			chunk = nbytes;
		evbuffer_add_reference(out, wl->payload + c->pos, chunk,
		    NULL, NULL);
		c->pos += chunk;
		if (c->pos == wl->payload_len)
			c->pos = 0;
		c->outlen += chunk;
		nbytes -= chunk;
	}
}

/* Flood: top the output buffer up to the high watermark. */
void
conn_fill(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 len = evbuffer_get_length(out), size = c->wl->conf->size;
	size_t		 want;

	conn_account(c, len);
	if (len >= OUT_HIGH_WATER)
		return;
	/* Whole messages, at least one. */
	want = (OUT_HIGH_WATER - len + size - 1) / size * size;
	conn_queue(c, out, want);
}

/*
 * Paced: send every message that is due by now.  Long-run exactness comes
 * from advancing next_due by whole intervals from where it was, never from
 * "now": a late tick sends the messages it owes instead of losing them.
 * Whatever the output buffer cannot take stays owed.
 */
void
conn_send_due(struct conn *c, uint64_t now)
{
	struct wload	*wl = c->wl;
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 len = evbuffer_get_length(out), size = wl->conf->size;
	size_t		 nbytes, first;
	uint64_t	 n, room;
	ssize_t		 sent;

	conn_account(c, len);
	if (now < c->next_due)
		return;
	n = (now - c->next_due) / wl->interval_ns + 1;
	room = len >= OUT_HIGH_WATER ? 0 :
	    (OUT_HIGH_WATER - len + size - 1) / size;
	if (n > room)
		n = room;
	if (n == 0)
		return;
	c->next_due += n * wl->interval_ns;
	nbytes = n * size;

	/*
	 * The usual case: nothing is queued, so write straight from the
	 * payload ring.  No evbuffer chain is allocated and libevent need
	 * not arm the write event and come back for it; only what the
	 * kernel does not take goes to the output buffer, by reference.
	 * Errors are left to libevent's own write, which reports them.
	 */
	if (len == 0) {
		first = wl->payload_len - c->pos;
		if (first > nbytes)
			first = nbytes;
		sent = send(c->fd, wl->payload + c->pos,
		    first, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent > 0) {
			conn_written(c, (size_t)sent);
			c->pos += (size_t)sent;
			if (c->pos == wl->payload_len)
				c->pos = 0;
			nbytes -= (size_t)sent;
		}
	}
	conn_queue(c, out, nbytes);
}

static void
conn_set_state(struct conn *c, enum conn_state state)
{
	struct load_counters	*ctr = c->wl->ctr;

	if (c->state == CONN_CONNECTING)
		CTR_ADD(ctr->connecting, -1);
	else if (c->state == CONN_UP)
		CTR_ADD(ctr->active, -1);
	if (state == CONN_CONNECTING)
		CTR_ADD(ctr->connecting, 1);
	else if (state == CONN_UP)
		CTR_ADD(ctr->active, 1);
	c->state = state;
}

/* Open the slot's socket and start a non-blocking connect. */
void
conn_open(struct conn *c)
{
	struct wload		*wl = c->wl;
	const struct load_conf	*lc = wl->conf;
	struct timeval		 tv;
	int			 fd, one = 1;

	fd = socket(lc->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		CTR_ADD(wl->ctr->connects_failed, 1);
		conn_fail(c, err_kind_from_errno(errno));
		return;
	}
	if (lc->nodelay)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	c->bev = bufferevent_socket_new(wl->w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		CTR_ADD(wl->ctr->connects_failed, 1);
		conn_fail(c, ERR_OTHER);
		return;
	}
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	/* The write timeout covers the connect. */
	tv.tv_sec = (time_t)lc->connect_timeout;
	tv.tv_usec = (suseconds_t)((lc->connect_timeout - (double)tv.tv_sec) *
	    1e6);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	/*
	 * A new connection starts on a message boundary with its own
	 * tally: a message cut short by the last one is not counted.
	 */
	c->outlen = 0;
	c->written = c->msgs = 0;
	c->pos -= c->pos % lc->size;
	c->fd = fd;
	conn_set_state(c, CONN_CONNECTING);
	if (bufferevent_socket_connect(c->bev,
	    (const struct sockaddr *)&lc->addr,
	    (int)lc->addrlen) == -1) {
		int saved = errno;

		CTR_ADD(wl->ctr->connects_failed, 1);
		conn_close(c);
		conn_fail(c, err_kind_from_errno(saved));
	}
}

/* Free the socket, keep the slot (it goes back to CONN_IDLE). */
void
conn_close(struct conn *c)
{
	if (c->bev != NULL) {
		if (c->state == CONN_UP)
			conn_account(c,
			    evbuffer_get_length(bufferevent_get_output(c->bev)));
		/*
		 * libevent allows freeing a bufferevent from its own
		 * callback: the free is deferred until the callback returns.
		 */
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c->in_paced) {
		TAILQ_REMOVE(&c->wl->paced, c, pentry);
		c->in_paced = false;
	}
	if (c->retry != NULL) {
		event_free(c->retry);
		c->retry = NULL;
	}
	conn_set_state(c, CONN_IDLE);
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
static void
conn_fail(struct conn *c, enum err_kind kind)
{
	struct wload	*wl = c->wl;
	struct timeval	 tv;
	double		 d;

	CTR_ADD(wl->ctr->errors[kind], 1);
	conn_close(c);
	d = conn_backoff(c);
	tv.tv_sec = (time_t)d;
	tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
	c->retry = evtimer_new(wl->w->base, conn_retrycb, c);
	if (c->retry == NULL || evtimer_add(c->retry, &tv) == -1) {
		/* Cannot even arm a timer: leave the slot idle. */
		log_warnx("%s: cannot arm the retry timer", __func__);
		wload_idle(wl, c);
		return;
	}
	c->state = CONN_BACKOFF;
}

static void
conn_retrycb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	event_free(c->retry);
	c->retry = NULL;
	c->state = CONN_IDLE;
	wload_idle(c->wl, c);
	wload_open_pending(c->wl);
}

/* Bytes the server sends are counted and discarded. */
static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 n = evbuffer_get_length(in);

	CTR_ADD(c->wl->ctr->bytes_received, n);
	evbuffer_drain(in, n);
}

/* The output fell to the low watermark (or emptied). */
static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->wl->rate == 0)
		conn_fill(c);
	else if (!c->in_paced)
		wload_pace_resume(c->wl, c);
	else
		conn_account(c, evbuffer_get_length(bufferevent_get_output(bev)));
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	struct wload	*wl = c->wl;
	enum err_kind	 kind;
	int		 saved = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		CTR_ADD(wl->ctr->connects_ok, 1);
		conn_set_state(c, CONN_UP);
		c->up_since = now_ns();
		bufferevent_set_timeouts(bev, NULL, NULL);
		bufferevent_setwatermark(bev, EV_WRITE, OUT_LOW_WATER, 0);
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		if (wl->rate == 0)
			conn_fill(c);
		else
			wload_pace_add(wl, c, c->up_since);
		return;
	}

	if (what & BEV_EVENT_TIMEOUT)
		kind = ERR_TIMEOUT;
	else if (what & BEV_EVENT_EOF)
		kind = ERR_CLOSED;
	else
		kind = err_kind_from_errno(saved);

	if (c->state == CONN_CONNECTING)
		CTR_ADD(wl->ctr->connects_failed, 1);
	else {
		CTR_ADD(wl->ctr->disconnects, 1);
		/* A connection that held for a while resets the backoff. */
		if (now_ns() - c->up_since >= 1000000000ull)
			c->attempts = 0;
	}
	conn_fail(c, kind);
}
