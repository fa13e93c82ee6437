/* SPDX-License-Identifier: ISC */
/*
 * engine/worker.h -- inside the engine: a worker thread, its share of each
 * load (struct wload) and its connections (struct conn).  Private to
 * engine/: the main thread sees only engine.h.  Everything here belongs
 * to one worker thread and is touched by that thread alone, but for the
 * command queue (under its lock) and the atomics marked so.
 */
#ifndef LOADD_ENGINE_WORKER_H
#define LOADD_ENGINE_WORKER_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "measure/hist.h"
#include "model/framing.h"

struct event_base;
struct event;
struct bufferevent;
struct evbuffer;
struct io_uring;
struct ssl_ctx_st;
struct ssl_session_st;

TAILQ_HEAD(wcmd_queue, wcmd);

/* Sends one worker gathers before it must submit. */
#define WORKER_RING_SIZE	256
struct wload;
TAILQ_HEAD(conn_list, conn);

struct worker {
	int			 id;
	struct engine		*engine;	/* nworkers, collect rounds */
	pthread_t		 thread;
	struct event_base	*base;
	int			 wake_fd;	/* eventfd: the queue has work */
	struct event		*wakeup;	/* reads wake_fd, then the queue */
	pthread_mutex_t		 lock;		/* protects queue only */
	struct wcmd_queue	 queue;
	struct wload		*wloads;	/* this worker's loads */
	struct event		*pace;		/* the one paced-traffic timer */
	/*
	 * The reply loop (worker_spin): plain-stream connections that read
	 * their replies themselves are in this epoll set, which libevent
	 * watches as one descriptor; -1 until the first.
	 */
	int			 epfd;
	struct event		*rxev;		/* epfd is readable */
	bool			 spinning;	/* inside worker_spin */
	int			 tfd;		/* without epoll_pwait2(): a
						   timerfd in epfd, or -1 */
	uint64_t		 tfd_at;	/* ns it is armed for */
	bool			 no_pwait2;	/* test: as if ENOSYS */
	struct event		*trim;		/* gives memory back */
	/*
	 * Sockets to close once a whole pass of the loop has gone by, so
	 * that libevent has handed their epoll changes to the kernel (the
	 * changelist; see worker_closercb):
	 * a number closed sooner could meanwhile be another worker's new
	 * socket, and a late epoll_ctl() would name it.
	 */
	int			*closing;	/* queued this pass or later */
	unsigned		 nclosing;
	unsigned		 closing_cap;
	int			*ripe;		/* queued a pass ago or more */
	unsigned		 nripe;
	unsigned		 ripe_cap;
	struct event		*closer;
	/*
	 * Paced connections of every load, on next_due: a queue that stays
	 * in order by taking only a connection due no sooner than its last
	 * (a uniform load's served connection, one interval on, almost
	 * always is), and a min-heap for the rest (Poisson arrivals, a load
	 * of another rate, a connection back from a full output).
	 */
	struct conn		*dueq;		/* a ring; this its earliest */
	struct conn		**heap;
	unsigned		 heap_n;
	unsigned		 heap_cap;
	uint64_t		 pace_last;	/* ns of the last pace run */
	uint64_t		 rng;		/* xorshift state */
	/* template loads: a paced send's messages, expanded for send() */
	char			*tbuf;
	size_t			 tbuf_len;
	char			*rbuf;		/* [IN_MAX_READ]: replies read
						   by recv(), parsed in place */
	/*
	 * While the pace timer runs, sends are gathered here and go to the
	 * kernel in one io_uring_enter(); NULL when io_uring is off or
	 * unavailable (then each send is a send()).
	 */
	struct io_uring		*ring;
	bool			 want_ring;	/* daemon.io_uring */
	atomic_bool		 ring_ready;	/* ring is set up */
	bool			 batching;	/* inside the pace timer */
	unsigned		 sq_n;		/* sends gathered, not reaped */
	/* whose they are, to hand back to send() if a submission fails;
	   a datagram's (dgram.c) is tagged in its low bit */
	struct conn		*sq_conns[WORKER_RING_SIZE];
	/* test hook (LOADD_TEST_URING_FAIL): fail this submission */
	uint64_t		 fail_at;
	unsigned		 stall_s;	/* test: worker 0 hangs this long */
	unsigned		 collects;	/* at its 4th collect */
	_Atomic uint64_t	 batches;	/* submissions made */
	_Atomic uint64_t	 batched;	/* sends in them */
};

int	 worker_start(struct worker *, struct engine *, int id,
	    bool io_uring);
void	 worker_free(struct worker *);	/* after its thread is joined */
void	 worker_flush(struct worker *);	/* submit gathered sends */
void	 worker_give_back(struct worker *); /* memory, after closes */
/* Close a socket whose events libevent may still hold: a pass later. */
void	 worker_close_later(struct worker *, int fd);
/* Connections freed at once that make a worker give memory back. */
#define TRIM_AFTER_FREED	64
void	 worker_post(struct worker *, struct wcmd *);

/* --------------------------------------------------------------- conn.c */

enum conn_state {
	CONN_IDLE = 0,		/* no socket; waiting to be opened */
	CONN_BACKOFF,		/* no socket; waiting out a retry delay */
	CONN_CONNECTING,
	CONN_UP,
};

/*
 * One client connection.  Owned by one worker and one wload; only that
 * worker touches it.  One per connection, so its size counts: fields are
 * ordered to leave no padding holes (168 bytes, a 176-byte malloc chunk).
 */
struct conn {
	struct wload		*wl;
	union {
		struct bufferevent *bev;	/* stream transports */
		struct event	*rev;		/* datagram: readable */
	};
	struct event		*retry;		/* CONN_BACKOFF: the retry;
						   CONN_UP: the end of its
						   lifetime (churn) */
	int			 fd;		/* bev's socket, for direct sends */
	uint8_t			 state;		/* enum conn_state */
	bool			 handshaking;	/* TLS: connected, not ready */
	bool			 retiring;	/* churn: its end is due */
	uint8_t			 send_err;	/* errno of a failed direct send:
						   it took the socket's error, so
						   libevent's report would not
						   say it */
	unsigned		 heap_idx;	/* in w->heap, HEAP_DUEQ in
						   w->dueq, or HEAP_NONE */
	uint8_t			 attempts;	/* backoff exponent (<= 64); reset
						   when a connection held >= 1 s */
	bool			 ttfb_pending;	/* first send made, no byte yet */
	uint16_t		 tgt;		/* index in conf->targets */
	uint64_t		 up_since;	/* ns */
	uint64_t		 next_due;	/* paced: ns of next message */
	size_t			 pos;		/* offset in the payload ring */
	size_t			 outlen;	/* output length after last add */
	uint64_t		 written;	/* bytes handed to the kernel */
	uint64_t		 msgs;		/* whole messages in written */
	/* gathered send: bytes in the request, bytes to queue after it */
	uint32_t		 sq_len;	/* 0: none gathered */
	uint32_t		 sq_rest;
	TAILQ_ENTRY(conn)	 entry;		/* wl->idle or wl->conns */
	struct conn		*due_next;	/* w->dueq's ring */
	struct conn		*due_prev;
	/*
	 * request/response: a ring of wl->conf->inflight requests; for a
	 * template load, followed by its struct conn_tmpl (conn_tmpl()).
	 */
	struct request_slot	*rq;		/* allocated at connect, or
						   with the slot (template) */
	struct conn_rx		*rx;		/* with rq */
	unsigned		 rq_head;	/* oldest outstanding */
	unsigned		 rq_n;		/* outstanding */
	uint32_t		 dg_owed;	/* UDP: refused, to go first */
	uint32_t		 dg_pend;	/* UDP: requests in io_uring */
	size_t			 reply_got;	/* bytes of the oldest reply */
	uint64_t		 connect_start;	/* ns */
	uint64_t		 first_send;	/* ns */
};

/* How a request/response connection reads. */
struct conn_rx {
	bool			 on;		/* TCP, unix: in w->epfd (the
						   bufferevent does not read) */
	struct frame_state	 fs;		/* the reply being parsed */
};

/*
 * The worker's own last histogram in wl->h: replies whose latency (from
 * the due moment) and service time (from the write) are one value, as
 * every reply of a closed loop's is (it writes a request when it books
 * it).  Recorded once there, not in both; worker_collect adds it into
 * both when it hands the interval over.
 */
#define WL_BOTH		LAT_MAX
#define WL_HISTS	(LAT_MAX + 1)

/* One request on the wire, waiting for its reply. */
struct request_slot {
	uint64_t		 intended;	/* ns: when it was due */
	uint64_t		 sent;		/* ns: when it was written */
	size_t			 off;		/* its bytes in the payload ring;
						   template: their length, kept
						   in the conn_tmpl's echo */
};

/* Messages of a template load queued and not yet handed to the kernel. */
#define TMPL_QUEUE	256

/*
 * A template load's connection: what struct conn has no room for (it
 * stays at 168 bytes), allocated with the slot behind its request ring.
 * Its messages vary in length, so which are out is known from their
 * lengths, oldest first, as the kernel takes the bytes.
 */
struct conn_tmpl {
	uint64_t		 seq;		/* messages queued on the socket */
	uint64_t		 done;		/* bytes of the messages counted */
	uint32_t		 id;		/* {conn}: the slot's number */
	uint16_t		 head;		/* oldest in len[] */
	uint16_t		 n;		/* messages in len[] */
	uint32_t		 len[TMPL_QUEUE]; /* each message's bytes */
	char			*echo;		/* expect echo: [inflight] x
						   max_len, the requests sent */
};

/*
 * A load's transport, chosen once when the load is created (wload_new),
 * in the manner of wrk's socket operations: the worker calls through it
 * and never asks which protocol a load speaks.  Stream transports (TCP,
 * unix, TLS) share conn.c and differ in how the bufferevent is made and
 * how bytes reach it (stream_*); UDP is dgram.c.
 */
struct transport {
	const char	*name;
	void		(*open)(struct conn *);	/* socket and connect */
	void		(*close)(struct conn *); /* the socket only */
	void		(*send_due)(struct conn *, uint64_t now); /* paced */
	/* the same for a plain load (see wload_new), if the transport has one */
	void		(*send_due_plain)(struct conn *, uint64_t now);
	/* the same for a plain load with replies, if it differs */
	void		(*send_due_rq_plain)(struct conn *, uint64_t now);
	void		(*fill)(struct conn *);	/* flood */
	void		(*check_replies)(struct conn *, uint64_t now);
	/* replies freed slots (or a schedule resumes): send what may go */
	void		(*refill)(struct conn *, uint64_t now);
	/* stream only: make the bufferevent; write nbytes of whole messages
	   with len bytes already in out */
	void		(*write)(struct conn *, struct evbuffer *out,
			    size_t len, size_t nbytes);
	/* the socket connected: true if ready for traffic (TLS starts its
	   handshake and says false, then true when it is done) */
	bool		(*connected)(struct conn *, uint64_t now);
	/* the kind of a failure libevent reported (what: BEV_EVENT_*) */
	enum err_kind	(*error_kind)(struct conn *, short what, int err);
};
extern const struct transport transport_tcp;	/* and unix: */
extern const struct transport transport_tls;
extern const struct transport transport_udp;

/* The part of a load that lives on one worker. */
struct wload {
	struct wload		*next;
	struct worker		*w;
	int			 id;
	struct load_shared	*shared;	/* a reference: counters and
						   histogram hand-over */
	struct load_counters	*ctr;		/* &shared->ctr[w->id] */
	struct target_counters	*tctr;		/* this worker's [ntargets] */
	struct load_conf	*conf;		/* owned copy */
	const struct transport	*tp;		/* by conf->protocol */
	/* tp's send_due, or its plain one: the pace timer's call */
	void			(*send_due)(struct conn *, uint64_t now);
	int			 tgt_want[TARGETS_MAX]; /* its split by
						   destination */
	int			 tgt_have[TARGETS_MAX]; /* slots of each */
	int			 nconns;	/* structs in conns */
	double			 rate;		/* 0 = flood (or idle) */
	uint64_t		 msg_limit;	/* messages_per_connection, or
						   UINT64_MAX */
	uint64_t		 interval_ns;	/* paced: 1e9 / rate, at most
						   INTERVAL_MAX_NS */
	uint64_t		 tick_ns;	/* conf->tick */
	uint64_t		 skip_ns;	/* moments later than this are
						   skipped (catch_up = "drop",
						   or what max_rate leaves a
						   catch-up); 0 to send them
						   all */
	size_t			 paced_high;	/* a paced send queues while
						   the output is below this:
						   OUT_HIGH_WATER, or 1 under
						   max_rate (never behind
						   bytes the kernel refused) */
	unsigned		 next_source;	/* conf->sources, round-robin */
	int			 connecting;	/* slots in CONN_CONNECTING */
	int			 connecting_max; /* share of connects_inflight */
	struct conn_list	 idle;		/* CONN_IDLE slots to open */
	struct conn_list	 conns;		/* every other slot */
	/* connect-rate token bucket */
	double			 tokens;
	uint64_t		 tokens_at;
	struct event		*opener;	/* retries opening when limited */
	/*
	 * payload ring: whole cycles of the load's messages back to back
	 * (msg 0, 1 ... cyc_n - 1, msg 0 ...), a connection starting at a
	 * cycle's start; NULL for a template load, whose messages are
	 * expanded into each connection's output as they are sent.
	 */
	char			*payload;
	size_t			 payload_len;	/* a multiple of cyc_len */
	size_t			 size;		/* conf->size */
	bool			 uniform;	/* every message is size bytes */
	bool			 self_check;	/* a connect may meet itself */
	bool			 plain;		/* one size, no template, burst
						   1, no messages_per_connection */
	bool			 rq_plain;	/* plain, with replies, over
						   TCP or unix: rq_plain() */
	bool			 echo_plain;	/* expect "echo", one size, no
						   template: a reply is size
						   bytes at its request's off */
	unsigned		 cyc_n;		/* messages in a cycle */
	size_t			 cyc_len;	/* bytes of a cycle */
	size_t			*cyc_off;	/* [cyc_n + 1]: where each
						   message starts in a cycle;
						   NULL when uniform */
	const struct payload	*tmpl;		/* &conf->payload if expanded */
	char			*dscratch;	/* UDP template: a batch's
						   datagrams, expanded */
	bool			 tmpl_clock;	/* some message has {time_us} */
	uint32_t		 next_slot;	/* {conn} of the next slot */
	/*
	 * this interval's histograms [WL_HISTS]: LAT_MAX, then WL_BOTH;
	 * NULL without expect
	 */
	struct hist		*h;
	struct event		*reply_check;	/* reply_timeout sweep */
	/* TLS: one context per load per worker, and the session to resume */
	struct ssl_ctx_st	*ssl_ctx;
	struct ssl_session_st	*ssl_sess;
	/* reply and TLS errors logged: a few a second (wload_errlog) */
	unsigned		 errlog;	/* this second */
	uint64_t		 errlog_at;	/* ns: that second */
	struct framing		 fr;		/* how replies end (framings) */
};

/* The transport's operations, for the worker. */
static inline void
conn_open(struct conn *c)
{
	c->wl->tp->open(c);
}
static inline void
conn_send_due(struct conn *c, uint64_t now)
{
	c->wl->send_due(c, now);
}
static inline void
conn_fill(struct conn *c)
{
	c->wl->tp->fill(c);
}
static inline void
conn_check_replies(struct conn *c, uint64_t now)
{
	c->wl->tp->check_replies(c, now);
}
void	 conn_close(struct conn *);	/* frees the socket, keeps the slot */
void	 conn_free(struct conn *);
void	 conn_sent(struct conn *, int res);	/* a gathered send's result */
int	 worker_rx_add(struct worker *, struct conn *);	/* 0, or -1 */
void	 worker_rx_del(struct worker *, struct conn *);
void	 dgram_completed(struct conn *, int res); /* a gathered datagram's */
/* What every transport shares: state, failure and backoff, churn. */
void	 conn_set_state(struct conn *, enum conn_state);
void	 conn_fail(struct conn *, enum err_kind);
void	 conn_reset(struct conn *, enum err_kind) /* our verdict */
	    __attribute__((cold));
void	 conn_up(struct conn *, uint64_t now);	/* ready: start traffic */
void	 conn_recycle(struct conn *);	/* churn: close and open again */
void	 conn_prepare(struct conn *);	/* a new socket's tallies */
void	 conn_retire_soon(struct conn *) /* churn: its last is out */
	    __attribute__((cold));
int	 conn_bind(struct conn *, int fd); /* to the next source */
struct payload_vars;
void	 conn_tmpl_vars(struct conn *, struct payload_vars *);
void	 conn_refill(struct conn *, uint64_t now); /* stream */
/* TLS (tls.c) */
int	 tls_wload_init(struct wload *);	/* 0, or -1 logged */
void	 tls_wload_free(struct wload *);
bool	 tls_connected(struct conn *, uint64_t now);
enum err_kind tls_error_kind(struct conn *, short what, int err);
void	 tls_close(struct conn *);
/* stream transports (conn.c), for tls.c */
void	 stream_setcb(struct conn *);
void	 stream_close(struct conn *);
enum err_kind stream_error_kind(struct conn *, short what, int err);
void	 conn_queue_write(struct conn *, struct evbuffer *, size_t len,
	    size_t nbytes);
/* Out of the way of the paced paths, which a uniform load takes. */
uint64_t wload_gap_poisson(struct wload *) __attribute__((cold));
uint64_t wload_msgs_in_list(const struct wload *, uint64_t);
size_t	 wload_msgs_bytes_list(const struct wload *, size_t, uint64_t);

/*
 * Whole messages in the first b bytes of a connection, which starts at
 * a cycle's start.  A load whose messages are all one length (generated
 * content, one literal) keeps the division it always had.
 */
static inline uint64_t
wload_msgs_in(const struct wload *wl, uint64_t b)
{
	if (wl->uniform)
		return b / wl->size;
	return wload_msgs_in_list(wl, b);
}

/* Bytes of the k messages from ring position pos, a message's start. */
static inline size_t
wload_msgs_bytes(const struct wload *wl, size_t pos, uint64_t k)
{
	if (wl->uniform)
		return (size_t)k * wl->size;
	return wload_msgs_bytes_list(wl, pos, k);
}

/* A template load's per-connection part, behind its request ring. */
static inline struct conn_tmpl *
conn_tmpl(const struct conn *c)
{
	return (struct conn_tmpl *)(c->rq + c->wl->conf->inflight);
}

/*
 * The longest interval between a connection's due moments, about 11.6
 * days: the requests and the profile refuse a rate under RATE_MIN (1000
 * s), but the engine must never let 1e9 / rate overflow into a tiny
 * interval (a flood) whatever it is handed.
 */
#define INTERVAL_MAX_NS	1000000000000000ull

/* Output watermarks for flood: refill below LOW, stop at HIGH. */
#define OUT_LOW_WATER	(256 * 1024)
#define OUT_HIGH_WATER	(1024 * 1024)
/* At most this much is read per read callback. */
#define IN_MAX_READ	(64 * 1024)

void	 wload_adjust(struct wload *);	/* open or close toward target */
bool	 wload_errlog(struct wload *);	/* may log an error now */
void	 wload_idle(struct wload *, struct conn *); /* move to idle list */
void	 wload_open_pending(struct wload *);	/* open idle slots */
void	 wload_kick(struct wload *);	/* open_pending, once, soon */
#define HEAP_NONE	UINT32_MAX
#define HEAP_DUEQ	(UINT32_MAX - 1)
void	 pace_start(struct conn *, uint64_t now);	/* new phase */
void	 pace_push(struct conn *);	/* keep its next_due */
void	 pace_remove(struct conn *);
void	 pace_schedule(struct worker *);
uint64_t worker_random(struct worker *);
void	 wload_skip(struct conn *, uint64_t now); /* catch_up = "drop" */

/* A reply's latency and service time (WL_BOTH when they are one). */
static inline __attribute__((always_inline)) void
wload_record_reply(struct wload *wl, const struct request_slot *r,
    uint64_t now)
{
	if (r->intended == r->sent)
		hist_record(&wl->h[WL_BOTH], now - r->sent);
	else {
		hist_record(&wl->h[LAT_LATENCY], now - r->intended);
		hist_record(&wl->h[LAT_SERVICE], now - r->sent);
	}
}

/* ns to a connection's next scheduled send. */
static inline uint64_t
wload_gap(struct wload *wl)
{
	if (wl->conf->arrival == ARRIVAL_UNIFORM)
		return wl->interval_ns;
	return wload_gap_poisson(wl);
}

/* A connection behind its schedule skips what catch_up drops. */
static inline void
conn_catch_up(struct conn *c, uint64_t now)
{
	if (c->wl->skip_ns != 0)
		wload_skip(c, now);
}

#endif
