/*
 * worker.c -- a worker thread: its event_base, its command queue, its share
 * of each load (struct wload), the connect-rate limiter and the one paced
 * traffic timer that serves every due connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "loadd.h"

static void	worker_wakeupcb(evutil_socket_t, short, void *);
static void	worker_pacecb(evutil_socket_t, short, void *);
static void	wload_openercb(evutil_socket_t, short, void *);
static void	wload_free(struct wload *);

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

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	while (w->wloads != NULL)
		wload_free(w->wloads);
	atomic_store(&w->exited, true);
	return NULL;
}

int
worker_start(struct worker *w, int id)
{
	int	 rc;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->rng = 0x9E3779B97F4A7C15ull ^ (now_ns() + (uint64_t)id * 7919);
	TAILQ_INIT(&w->queue);
	pthread_mutex_init(&w->lock, NULL);
	if ((w->base = event_base_new()) == NULL)
		return -1;
	w->wakeup = event_new(w->base, -1, 0, worker_wakeupcb, w);
	w->pace = evtimer_new(w->base, worker_pacecb, w);
	if (w->wakeup == NULL || w->pace == NULL)
		return -1;
	if ((rc = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

/* Hand a command to the worker; called by the main thread. */
void
worker_post(struct worker *w, struct wcmd *cmd)
{
	pthread_mutex_lock(&w->lock);
	TAILQ_INSERT_TAIL(&w->queue, cmd, entry);
	pthread_mutex_unlock(&w->lock);
	event_active(w->wakeup, EV_READ, 0);
}

void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
	event_free(w->wakeup);
	event_free(w->pace);
	event_base_free(w->base);
	pthread_mutex_destroy(&w->lock);
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

/* Build the payload ring: whole messages back to back. */
static void
wload_payload(struct wload *wl)
{
	const struct load_conf	*lc = wl->conf;
	size_t			 nmsg, i;

	/* Enough that one reference covers many small messages. */
	nmsg = (512 * 1024) / lc->size;
	if (nmsg < 2)
		nmsg = 2;
	wl->payload_len = nmsg * lc->size;
	wl->payload = xmalloc(wl->payload_len);
	for (i = 0; i < wl->payload_len; i++) {
		uint64_t r = worker_random(wl->w) >> 33;

		switch (lc->content) {
		case CONTENT_LETTERS:
			r %= 52;
			wl->payload[i] = (char)(r < 26 ? 'a' + r : 'A' + r - 26);
			break;
		case CONTENT_BYTES:
			wl->payload[i] = (char)(r & 0xff);
			break;
		case CONTENT_LITERAL:
			wl->payload[i] = lc->literal[i % lc->literal_len];
			break;
		}
	}
}

static void
wload_set_rate(struct wload *wl, double rate)
{
	struct conn	*c;
	uint64_t	 now = now_ns();

	wl->rate = rate;
	wl->interval_ns = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
	if (wl->interval_ns == 0 && rate > 0)
		wl->interval_ns = 1;
	/* Re-anchor every connection's schedule at now: no burst. */
	while ((c = TAILQ_FIRST(&wl->paced)) != NULL) {
		TAILQ_REMOVE(&wl->paced, c, pentry);
		c->in_paced = false;
	}
	TAILQ_FOREACH(c, &wl->conns, entry) {
		if (c->state != CONN_UP)
			continue;
		if (rate == 0)
			conn_fill(c);
		else
			wload_pace_add(wl, c, now);
	}
	wload_pace_schedule(wl->w);
}

static struct wload *
wload_new(struct worker *w, struct wcmd *cmd)
{
	struct wload	*wl = xcalloc(1, sizeof(*wl));

	wl->w = w;
	wl->id = cmd->load_id;
	wl->load = cmd->load;
	wl->ctr = &cmd->load->ctr[w->id];
	wl->conf = cmd->conf;
	TAILQ_INIT(&wl->idle);
	TAILQ_INIT(&wl->conns);
	TAILQ_INIT(&wl->paced);
	wl->tokens = 1;
	wl->tokens_at = now_ns();
	wl->opener = evtimer_new(w->base, wload_openercb, wl);
	if (wl->opener == NULL)
		fatalx("%s: evtimer_new", __func__);
	wload_payload(wl);
	wl->next = w->wloads;
	w->wloads = wl;
	wload_set_rate(wl, cmd->rate);
	wl->target = cmd->target;
	wload_adjust(wl);
	return wl;
}

static void
wload_free(struct wload *wl)
{
	struct worker	*w = wl->w;
	struct wload	**pp;
	struct conn	*c;

	wl->target = 0;
	wload_adjust(wl);
	while ((c = TAILQ_FIRST(&wl->idle)) != NULL) {
		TAILQ_REMOVE(&wl->idle, c, entry);
		free(c);
	}
	for (pp = &w->wloads; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == wl) {
			*pp = wl->next;
			break;
		}
	}
	event_free(wl->opener);
	free(wl->payload);
	load_conf_free(wl->conf);
	/* The counters belong to the main thread's struct load. */
	load_unref(wl->load);
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
 * then come back when the next token is due.
 */
void
wload_open_pending(struct wload *wl)
{
	double		 rate = wl->conf->connect_rate / daemon_g->nworkers;
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
	while (wl->tokens >= 1 && (c = TAILQ_FIRST(&wl->idle)) != NULL) {
		TAILQ_REMOVE(&wl->idle, c, entry);
		TAILQ_INSERT_TAIL(&wl->conns, c, entry);
		wl->tokens -= 1;
		conn_open(c);
	}
	if (!TAILQ_EMPTY(&wl->idle) && !evtimer_pending(wl->opener, NULL)) {
		wait = (1 - wl->tokens) / rate;
		if (wait < 0.001)
			wait = 0.001;
		tv.tv_sec = (time_t)wait;
		tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
		evtimer_add(wl->opener, &tv);
	}
}

static void
wload_openercb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wload_open_pending(arg);
}

/*
 * Bring the number of slots to the target.  Scaling down closes the surplus
 * at once, idle and connecting slots first, so that the established count
 * the server sees drops as little as it must.  Every slot, whatever its
 * state, counts toward the target: that is what keeps the server's view at
 * or under the target while connects are in flight.
 */
void
wload_adjust(struct wload *wl)
{
	struct conn	*c, *tmp;

	while (wl->nconns > wl->target && (c = TAILQ_LAST(&wl->idle,
	    conn_list)) != NULL) {
		TAILQ_REMOVE(&wl->idle, c, entry);
		free(c);
		wl->nconns--;
	}
	for (int pass = 0; pass < 2 && wl->nconns > wl->target; pass++) {
		TAILQ_FOREACH_SAFE(c, &wl->conns, entry, tmp) {
			if (wl->nconns <= wl->target)
				break;
			if (pass == 0 && c->state == CONN_UP)
				continue;
			conn_close(c);
			TAILQ_REMOVE(&wl->conns, c, entry);
			free(c);
			wl->nconns--;
		}
	}
	while (wl->nconns < wl->target) {
		c = xcalloc(1, sizeof(*c));
		c->wl = wl;
		TAILQ_INSERT_TAIL(&wl->idle, c, entry);
		wl->nconns++;
	}
	wload_open_pending(wl);
}

/*
 * Put a connection on the paced list.  The list stays sorted by next_due:
 * a newcomer is due no earlier than the last one on the list.
 */
void
wload_pace_add(struct wload *wl, struct conn *c, uint64_t now)
{
	struct conn	*last = TAILQ_LAST(&wl->paced, conn_list);

	c->next_due = now;
	if (last != NULL && last->next_due > now)
		c->next_due = last->next_due;
	TAILQ_INSERT_TAIL(&wl->paced, c, pentry);
	c->in_paced = true;
	if (!evtimer_pending(wl->w->pace, NULL))
		wload_pace_schedule(wl->w);
}

/*
 * A connection whose output was full drained again: it goes back at the
 * head of the list (it is the most overdue) and pays what it owes.
 */
void
wload_pace_resume(struct wload *wl, struct conn *c)
{
	TAILQ_INSERT_HEAD(&wl->paced, c, pentry);
	c->in_paced = true;
	wload_pace_schedule(wl->w);
}

/* Arm the pace timer for the earliest due connection of any load. */
void
wload_pace_schedule(struct worker *w)
{
	struct wload	*wl;
	struct conn	*c;
	uint64_t	 first = UINT64_MAX, now;
	struct timeval	 tv;

	for (wl = w->wloads; wl != NULL; wl = wl->next) {
		if (wl->rate > 0 && (c = TAILQ_FIRST(&wl->paced)) != NULL &&
		    c->next_due < first)
			first = c->next_due;
	}
	if (first == UINT64_MAX) {
		evtimer_del(w->pace);
		return;
	}
	now = now_ns();
	first = first > now ? first - now : 0;
	tv.tv_sec = (time_t)(first / 1000000000ull);
	tv.tv_usec = (suseconds_t)(first % 1000000000ull / 1000);
	evtimer_add(w->pace, &tv);
}

/* The one paced-traffic timer: serve every connection that is due. */
static void
worker_pacecb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct wload	*wl;
	struct conn	*c;
	uint64_t	 now = now_ns();

	(void)fd;
	(void)what;
	for (wl = w->wloads; wl != NULL; wl = wl->next) {
		if (wl->rate == 0)
			continue;
		while ((c = TAILQ_FIRST(&wl->paced)) != NULL &&
		    c->next_due <= now) {
			conn_send_due(c, now);
			TAILQ_REMOVE(&wl->paced, c, pentry);
			if (c->next_due <= now) {
				/*
				 * The output is full: the connection leaves
				 * the list (else the timer would spin) and
				 * its write callback puts it back, still
				 * owing what it could not send.
				 */
				c->in_paced = false;
			} else
				TAILQ_INSERT_TAIL(&wl->paced, c, pentry);
		}
	}
	wload_pace_schedule(w);
}

static void
worker_wakeupcb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	struct wcmd_queue	 q = TAILQ_HEAD_INITIALIZER(q);
	struct wcmd		*cmd;
	struct wload		*wl;

	(void)fd;
	(void)what;
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
			if (wl != NULL) {
				wl->target = cmd->target;
				wload_adjust(wl);
			}
			break;
		case WCMD_SET_RATE:
			if (wl != NULL)
				wload_set_rate(wl, cmd->rate);
			break;
		case WCMD_REMOVE_LOAD:
			if (wl != NULL)
				wload_free(wl);
			break;
		case WCMD_EXIT:
			event_base_loopbreak(w->base);
			break;
		}
		free(cmd);
	}
}
