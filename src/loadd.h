/*
 * loadd.h -- the whole model of loadd in one place.
 *
 * A profile (profile.c) declares daemon settings and named loads.  The main
 * thread (loadd.c, control.c, stats.c) owns the control socket, the signals
 * and the statistics tick; it never touches a connection.  Worker threads
 * (worker.c) each own an event_base and the connections (conn.c) they make.
 * The main thread talks to a worker only through the worker's command queue;
 * workers publish their counters through single-writer atomics.
 */
#ifndef LOADD_H
#define LOADD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TAILQ_FOREACH_SAFE	/* glibc's sys/queue.h lacks it */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define LOADD_VERSION		"0.1.0"
#define LOADD_PROTOCOL		1
#define LOADD_SOCKET_DEFAULT	"/run/loadd/loadd.sock"
#define LOADD_PROFILE_DEFAULT	"/etc/loadd/loadd.conf"

#define LOAD_NAME_MAX		64	/* including the NUL */
#define TARGET_STR_MAX		300
#define CONTROL_LINE_MAX	4096	/* a request line, without '\n' */
#define CONNECTIONS_LIMIT	10000000 /* no profile or request goes above */
#define RATE_LIMIT		1e9	/* messages per second per connection */
#define SOURCES_MAX		64	/* source addresses per load */

struct event_base;
struct event;
struct bufferevent;
struct io_uring;
struct load;

/* ---------------------------------------------------------------- mem.c */

/* Freed 1-64 KiB blocks a thread keeps for libevent's next allocation. */
#define MEM_CACHE_BYTES	(256 * 1024)

void	 mem_init(void);		/* before any other libevent call */
void	*mem_alloc(size_t);
void	 mem_free(void *);
void	 mem_cache_flush(void);		/* this thread's cache */
size_t	 mem_cache_bytes(void);

/* ---------------------------------------------------------------- log.c */

enum log_level {
	LOG_LEVEL_ERR = 0,	/* fatal and log_warn(x) that matter */
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	 log_init(int level, const char *progname);
void	 log_setlevel(int level);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* --------------------------------------------------------------- util.c */

/* A growable list of error strings ("FILE:LINE: message"). */
struct errlist {
	char	**msgs;
	size_t	  n;
	size_t	  cap;
};

void	 errlist_add(struct errlist *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 errlist_free(struct errlist *);

uint64_t now_ns(void);			/* CLOCK_MONOTONIC */
double	 now_wall(void);		/* CLOCK_REALTIME, seconds */

/*
 * Strict parsers: the whole string must be used, the value must be in range.
 * They return 0 on success, -1 with a reason in *why (a static string).
 */
int	 parse_u64(const char *, uint64_t max, uint64_t *, const char **why);
int	 parse_double(const char *, double min, double max, double *,
	    const char **why);
/* "1.5", "250ms", "30s", "5m", "2h", "1d", "100us" -> seconds. */
int	 parse_duration(const char *, double *, const char **why);
/*
 * "127.0.0.1:80", "[::1]:80", "localhost:80"; resolves names with
 * getaddrinfo (numeric port only).  On failure *why points into whybuf.
 */
int	 parse_target(const char *, struct sockaddr_storage *, socklen_t *,
	    char *whybuf, size_t whylen);
void	*xcalloc(size_t, size_t);
void	*xmalloc(size_t);
char	*xstrdup(const char *);

/* --------------------------------------------------------------- hist.c */

/*
 * The latency histogram: log-linear buckets in the HdrHistogram manner,
 * values in nanoseconds from HIST_LOWEST_NS to HIST_HIGHEST_NS at
 * HIST_SIGDIGITS significant digits, fixed memory, O(1) record, mergeable.
 * Larger values are recorded as HIST_HIGHEST_NS (and counted in clamped).
 */
#define HIST_SIGDIGITS		3
#define HIST_LOWEST_NS		1000ull			/* 1 us */
#define HIST_HIGHEST_NS		(2ull * 3600 * 1000000000ull)	/* 2 h */
#define HIST_SUB_BUCKETS	2048	/* 2 * 10^3 rounded up to 2^k */
#define HIST_UNIT_MAGNITUDE	9	/* floor(log2(HIST_LOWEST_NS)) */
#define HIST_BUCKETS		24	/* enough to reach HIST_HIGHEST_NS */
#define HIST_COUNTS		((HIST_BUCKETS + 1) * (HIST_SUB_BUCKETS / 2))

struct hist {
	uint64_t	 total;		/* values recorded */
	uint64_t	 clamped;	/* values above HIST_HIGHEST_NS */
	uint64_t	 min_ns;	/* exact; UINT64_MAX when empty */
	uint64_t	 max_ns;	/* exact; 0 when empty */
	double		 sum_ns;	/* for the mean */
	uint64_t	 counts[HIST_COUNTS];
};

void	 hist_reset(struct hist *);
void	 hist_record(struct hist *, uint64_t ns);
void	 hist_record_n(struct hist *, uint64_t ns, uint64_t n);
void	 hist_add(struct hist *dst, const struct hist *src);
/*
 * The value at percentile p (0 < p <= 100): the highest value equivalent
 * (same bucket) to the value below which p% of the recorded values fall,
 * as HdrHistogram reports it, capped at max_ns.  0 when empty.
 */
uint64_t hist_percentile(const struct hist *, double p);
double	 hist_mean(const struct hist *);	/* ns; 0 when empty */
/* Bucket index of a value, and the range of values one index holds. */
int	 hist_index(uint64_t ns);
uint64_t hist_lowest_equiv(int index);
uint64_t hist_highest_equiv(int index);

/* -------------------------------------------------------------- hdrlog.c */

/*
 * The HdrHistogram interval log (the "V2 compressed histogram" encoding,
 * base64, one line per interval), readable by HdrHistogram's
 * HistogramLogProcessor and HistogramLogAnalyzer.  Values are nanoseconds.
 */
struct hdrlog;

/* Encode h as a base64 V2 compressed histogram; returns a new string. */
char	*hdr_encode_base64(const struct hist *h, char *err, size_t errlen);
/* Decode one (used by the tests; returns 0 or -1 with a reason). */
int	 hdr_decode_base64(const char *b64, struct hist *h, char *err,
	    size_t errlen);
/*
 * Write the log header (#[StartTime: ...], #[BaseTime: ...], the column
 * legend) to fd; then one line per interval with a tag (the load name).
 * Both return 0 or -1 with errno set; a line is written with one write().
 */
int	 hdrlog_write_header(int fd, double start_wall);
int	 hdrlog_write_interval(int fd, const char *tag, double start_offset_s,
	    double length_s, const struct hist *h);

/* ------------------------------------------------------------ profile.c */

enum content_kind {
	CONTENT_LETTERS = 0,	/* random ASCII letters, as the classic tool */
	CONTENT_BYTES,		/* random bytes 0..255 */
	CONTENT_LITERAL,	/* a literal string with escapes */
};

enum expect_kind {
	EXPECT_NONE = 0,	/* no reply expected: bytes read are counted */
	EXPECT_ECHO,		/* the request's own bytes come back */
	EXPECT_SIZE,		/* expect_size bytes */
	EXPECT_UNTIL,		/* anything up to and including expect_bytes */
	EXPECT_MATCH,		/* exactly expect_bytes */
};

enum arrival_kind {
	ARRIVAL_UNIFORM = 0,	/* one request every 1/rate */
	ARRIVAL_POISSON,	/* exponential gaps, mean 1/rate */
};

struct reconnect_conf {
	double	 delay;		/* seconds before the first retry */
	double	 max_delay;	/* ceiling of the exponential backoff */
	double	 backoff;	/* multiplier per failed attempt, >= 1 */
	double	 jitter;	/* 0..1: delay is scaled by 1 +- jitter */
};

struct load_conf {
	char			 name[LOAD_NAME_MAX];
	int			 line;		/* where it was declared */
	char			 target[TARGET_STR_MAX]; /* as written */
	struct sockaddr_storage	 addr;		/* resolved at load time */
	socklen_t		 addrlen;
	/*
	 * Local addresses to connect from, round-robin (port 0: the kernel
	 * picks the port at connect); NULL and 0 to let the kernel choose.
	 */
	struct sockaddr_storage	*sources;
	int			 nsources;
	int			 connections;	/* at start */
	int			 max_connections; /* ceiling for scale */
	bool			 autostart;
	double			 connect_rate;	/* new connections per second */
	int			 connects_inflight; /* connects at once, all
						   workers together */
	size_t			 size;		/* message size in bytes */
	enum content_kind	 content;
	char			*literal;	/* CONTENT_LITERAL: the bytes */
	size_t			 literal_len;
	double			 rate;		/* msgs/s/conn; 0 = flood */
	double			 max_rate;	/* ceiling for `rate` */
	double			 duration;	/* seconds; 0 = until stopped */
	struct reconnect_conf	 reconnect;
	double			 connect_timeout; /* seconds */
	bool			 nodelay;	/* TCP_NODELAY */
	/* request/response */
	enum expect_kind	 expect;
	size_t			 expect_size;	/* EXPECT_SIZE */
	char			*expect_bytes;	/* EXPECT_UNTIL, EXPECT_MATCH */
	size_t			 expect_len;
	int			 inflight;	/* outstanding per connection */
	double			 reply_timeout;	/* seconds */
	enum arrival_kind	 arrival;
	double			 tick;		/* s a paced send may wait to
						   join a batch; <0: default */
};

struct daemon_conf {
	char	*socket;		/* control socket path */
	int	 socket_mode;		/* e.g. 0660 */
	int	 workers;		/* 0 = one per CPU */
	double	 stats_interval;	/* seconds */
	int	 log_level;		/* enum log_level; -1 when absent */
	int	 max_clients;		/* concurrent control clients */
	double	 client_timeout;	/* idle control client, seconds */
	double	 drain_timeout;		/* on shutdown, seconds */
	char	*results;		/* results log (JSON lines), or NULL */
	char	*hdr_log;		/* HdrHistogram interval log, or NULL */
	char	*metrics_listen;	/* "127.0.0.1:9464", or NULL */
	bool	 io_uring;		/* batch paced sends through it */
};

struct profile {
	char			*path;
	struct daemon_conf	 daemon;
	struct load_conf	*loads;
	int			 nloads;
};

/*
 * Read and check a profile.  Returns NULL and fills errs with every error
 * found, each "FILE:LINE: message" (or "FILE: message" when no line applies).
 * Neither logs nor exits.
 */
struct profile	*profile_load(const char *path, struct errlist *errs);
void		 profile_free(struct profile *);
const struct load_conf *profile_find_load(const struct profile *,
		    const char *name);
/* True if two load declarations describe the same traffic. */
bool		 load_conf_equal(const struct load_conf *,
		    const struct load_conf *);
/* Deep copy of a load_conf (the literal is duplicated). */
struct load_conf *load_conf_dup(const struct load_conf *);
void		 load_conf_free(struct load_conf *);

/* ---------------------------------------------------------------- cmd.c */

/*
 * The command table shared by loadd (dispatch) and loadctl (usage, help,
 * completion).  Commands are data: adding one is a row here plus a handler
 * in control.c.
 */
enum cmd_id {
	CMD_HELP = 0,
	CMD_VERSION,
	CMD_STATUS,
	CMD_STATS,
	CMD_START,
	CMD_STOP,
	CMD_SCALE,
	CMD_RATE,
	CMD_RELOAD,
	CMD_WATCH,
	CMD_REOPEN,
	CMD_MAX
};

enum cmd_args {
	ARGS_NONE,		/* no argument */
	ARGS_LOAD_OPT,		/* [LOAD] */
	ARGS_LOAD_COUNT,	/* [LOAD] COUNT */
	ARGS_LOAD_RATE,		/* [LOAD] RATE|flood */
	ARGS_WORD_OPT,		/* [COMMAND] (help) */
};

struct cmd_entry {
	enum cmd_id	 id;
	const char	*name;
	enum cmd_args	 args;
	const char	*usage;		/* arguments, for help */
	const char	*help;		/* one line */
};

extern const struct cmd_entry cmd_table[CMD_MAX];

struct request {
	const struct cmd_entry	*cmd;
	char			 load[LOAD_NAME_MAX];	/* "" = not named */
	char			 word[LOAD_NAME_MAX];	/* help's argument */
	uint64_t		 count;			/* scale */
	double			 rate;			/* rate; 0 = flood */
	double			 over;			/* scale ramp, seconds */
};

const struct cmd_entry *cmd_find(const char *name);
/*
 * Parse one request line (without its '\n').  Returns 0, or -1 with a
 * reason written to err.
 */
int	 request_parse(const char *line, size_t len, struct request *,
	    char *err, size_t errlen);
bool	 load_name_valid(const char *);

/* -------------------------------------------------------------- stats.c */

enum err_kind {
	ERR_REFUSED = 0,
	ERR_RESET,
	ERR_TIMEOUT,
	ERR_CLOSED,		/* closed by peer (EOF) */
	ERR_ADDRNOTAVAIL,	/* a source address that is not local */
	ERR_PORTS,		/* no local port left for a connect */
	ERR_NOFILE,		/* too many open files */
	ERR_UNREACHABLE,	/* network or host unreachable */
	ERR_MISMATCH,		/* a reply with the wrong bytes */
	ERR_UNSOLICITED,	/* bytes with no request outstanding */
	ERR_SHORT_REPLY,	/* the peer closed in the middle of a reply */
	ERR_REPLY_TIMEOUT,	/* no reply within reply_timeout */
	ERR_OTHER,
	ERR_MAX
};

extern const char *const err_kind_names[ERR_MAX];
/* The kind of an errno from socket(), connect() or an established socket. */
enum err_kind	 err_kind_from_errno(int);
/* The kind of an errno from bind() to a load's source address. */
enum err_kind	 err_kind_from_bind_errno(int);

/*
 * Counters of one load on one worker.  Exactly one thread writes them (the
 * worker); the main thread reads them.  Single writer, so the worker uses a
 * relaxed load and store (a plain add on x86), never a locked RMW.
 */
struct load_counters {
	_Atomic uint64_t connects_ok;
	_Atomic uint64_t connects_failed;
	_Atomic uint64_t disconnects;
	_Atomic uint64_t bytes_sent;
	_Atomic uint64_t bytes_received;
	_Atomic uint64_t messages_sent;
	_Atomic uint64_t replies;	/* complete, matching replies */
	_Atomic uint64_t late;		/* open loop: held by inflight */
	_Atomic uint64_t errors[ERR_MAX];
	_Atomic int64_t	 connecting;	/* gauge: connects in progress */
	_Atomic int64_t	 active;	/* gauge: established */
} __attribute__((aligned(64)));

#define CTR_ADD(c, v) atomic_store_explicit(&(c), \
	atomic_load_explicit(&(c), memory_order_relaxed) + (v), \
	memory_order_relaxed)
#define CTR_GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

/* A plain copy of the counters summed over workers. */
struct stats_snap {
	uint64_t connects_ok;
	uint64_t connects_failed;
	uint64_t disconnects;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint64_t messages_sent;
	uint64_t replies;
	uint64_t late;
	uint64_t errors[ERR_MAX];
	int64_t	 connecting;
	int64_t	 active;
};

void	 stats_snap_add_counters(struct stats_snap *,
	    const struct load_counters *);
void	 stats_snap_add(struct stats_snap *, const struct stats_snap *);
#ifdef JANSSON_H
json_t	*stats_hist_json(const struct hist *);
void	 stats_ramp_json(json_t *, const struct load *);
json_t	*stats_load_json(const struct load *, bool counters);
json_t	*stats_json(const char *only);	/* one load, or NULL for all */
#endif

/* ------------------------------------------------------------- worker.c */

enum wcmd_type {
	WCMD_ADD_LOAD,		/* take ownership of conf; start at share */
	WCMD_SET_TARGET,	/* this worker's share of connections */
	WCMD_SET_RATE,		/* per-connection rate; 0 = flood */
	WCMD_REMOVE_LOAD,	/* close every connection, drop the load */
	WCMD_COLLECT,		/* hand this interval's histograms over */
	WCMD_EXIT,		/* close everything and leave the loop */
};

struct load;

struct wcmd {
	enum wcmd_type		 type;
	int			 load_id;
	struct load		*load;		/* ADD_LOAD: for counters */
	struct load_conf	*conf;		/* ADD_LOAD: owned by worker */
	int			 target;
	double			 rate;
	TAILQ_ENTRY(wcmd)	 entry;
};
TAILQ_HEAD(wcmd_queue, wcmd);

struct wload;
TAILQ_HEAD(conn_list, conn);

struct worker {
	int			 id;
	pthread_t		 thread;
	struct event_base	*base;
	int			 wake_fd;	/* eventfd: the queue has work */
	struct event		*wakeup;	/* reads wake_fd, then the queue */
	pthread_mutex_t		 lock;		/* protects queue only */
	struct wcmd_queue	 queue;
	struct wload		*wloads;	/* this worker's loads */
	struct event		*pace;		/* the one paced-traffic timer */
	struct event		*trim;		/* gives memory back */
	/* paced connections of every load, a min-heap on next_due */
	struct conn		**heap;
	unsigned		 heap_n;
	unsigned		 heap_cap;
	uint64_t		 pace_last;	/* ns of the last pace run */
	uint64_t		 rng;		/* xorshift state */
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
	_Atomic uint64_t	 batches;	/* submissions made */
	_Atomic uint64_t	 batched;	/* sends in them */
};

int	 worker_start(struct worker *, int id, bool io_uring);
void	 worker_flush(struct worker *);	/* submit gathered sends */
void	 worker_give_back(struct worker *); /* memory, after closes */
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
 * ordered to leave no padding holes (152 bytes, a 160-byte malloc chunk).
 */
struct conn {
	struct wload		*wl;
	struct bufferevent	*bev;
	struct event		*retry;		/* CONN_BACKOFF only */
	int			 fd;		/* bev's socket, for direct sends */
	enum conn_state		 state;
	unsigned		 heap_idx;	/* in w->heap, or HEAP_NONE */
	uint8_t			 attempts;	/* backoff exponent (<= 64); reset
						   when a connection held >= 1 s */
	bool			 ttfb_pending;	/* first send made, no byte yet */
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
	/* request/response: a ring of wl->conf->inflight requests */
	struct request_slot	*rq;		/* allocated at connect */
	unsigned		 rq_head;	/* oldest outstanding */
	unsigned		 rq_n;		/* outstanding */
	size_t			 reply_got;	/* bytes of the oldest reply */
	uint64_t		 connect_start;	/* ns */
	uint64_t		 first_send;	/* ns */
};

/* One request on the wire, waiting for its reply. */
struct request_slot {
	uint64_t		 intended;	/* ns: when it was due */
	uint64_t		 sent;		/* ns: when it was written */
	size_t			 off;		/* its bytes in the payload ring */
};

/* The part of a load that lives on one worker. */
struct wload {
	struct wload		*next;
	struct worker		*w;
	int			 id;
	struct load		*load;		/* main's: counters and refs */
	struct load_counters	*ctr;		/* &load->ctr[w->id] */
	struct load_conf	*conf;		/* owned copy */
	int			 target;	/* this worker's share */
	int			 nconns;	/* structs in conns */
	double			 rate;		/* 0 = flood */
	uint64_t		 interval_ns;	/* paced: 1e9 / rate */
	uint64_t		 tick_ns;	/* conf->tick */
	unsigned		 next_source;	/* conf->sources, round-robin */
	int			 connecting;	/* slots in CONN_CONNECTING */
	int			 connecting_max; /* share of connects_inflight */
	struct conn_list	 idle;		/* CONN_IDLE slots to open */
	struct conn_list	 conns;		/* every other slot */
	/* connect-rate token bucket */
	double			 tokens;
	uint64_t		 tokens_at;
	struct event		*opener;	/* retries opening when limited */
	/* payload ring: whole messages back to back */
	char			*payload;
	size_t			 payload_len;	/* a multiple of size */
	/* this interval's histograms [LAT_MAX]; NULL without expect */
	struct hist		*h;
	struct event		*reply_check;	/* reply_timeout sweep */
};

void	 conn_open(struct conn *);
void	 conn_close(struct conn *);	/* frees the socket, keeps the slot */
void	 conn_free(struct conn *);
void	 conn_send_due(struct conn *, uint64_t now);
void	 conn_fill(struct conn *);	/* flood: top up to high mark */
void	 conn_check_replies(struct conn *, uint64_t now);
void	 conn_sent(struct conn *, int res);	/* a gathered send's result */
uint64_t wload_gap(struct wload *);	/* ns to the next scheduled send */

/* Output watermarks for flood: refill below LOW, stop at HIGH. */
#define OUT_LOW_WATER	(256 * 1024)
#define OUT_HIGH_WATER	(1024 * 1024)
/* At most this much is read per read callback. */
#define IN_MAX_READ	(64 * 1024)

void	 wload_adjust(struct wload *);	/* open or close toward target */
void	 wload_idle(struct wload *, struct conn *); /* move to idle list */
void	 wload_open_pending(struct wload *);	/* open idle slots */
void	 wload_kick(struct wload *);	/* open_pending, once, soon */
#define HEAP_NONE	UINT32_MAX
/* Sends one worker gathers before it must submit. */
#define WORKER_RING_SIZE	256
void	 pace_start(struct conn *, uint64_t now);	/* new phase */
void	 pace_push(struct conn *);	/* keep its next_due */
void	 pace_remove(struct conn *);
void	 pace_schedule(struct worker *);
uint64_t worker_random(struct worker *);

/* ------------------------------------------------------- loadd.c / main */

enum load_state {
	LOAD_STOPPED = 0,
	LOAD_RUNNING,
};

extern const char *const load_state_names[];

/* The main thread's view of a load. */
struct load {
	int			 id;		/* unique for the daemon's life */
	struct load_conf	*conf;		/* main's copy */
	enum load_state		 state;
	int			 target;	/* connections wanted */
	double			 rate;		/* current; 0 = flood */
	struct event		*expire;	/* duration timer */
	struct event		*ramp;		/* scale --over: step timer */
	int			 ramp_from, ramp_to;
	double			 ramp_t0, ramp_len; /* monotonic s, seconds */
	struct load_counters	*ctr;		/* one per worker */
	_Atomic int		 refs;		/* main + each worker */
	struct stats_snap	 prev;		/* at the previous tick */
	struct stats_snap	 rates;		/* per second, last interval */
	/*
	 * Latency.  Workers add their interval histograms into pend_*
	 * under hist_lock once per interval (never per message); the main
	 * thread takes them into the interval, epoch and run histograms.
	 */
	pthread_mutex_t		 hist_lock;
	struct hist		*pend;		/* [LAT_MAX], under hist_lock */
	struct hist		*ival;		/* [LAT_MAX], last interval */
	struct hist		*epoch_h;	/* [LAT_MAX], current epoch */
	struct hist		*run;		/* [LAT_MAX], whole run */
	/* epochs: a new one at every start, stop, scale and rate */
	unsigned		 epoch;
	char			 epoch_cause[96];
	double			 epoch_start;	/* wall clock */
	struct stats_snap	 epoch_base;	/* counters when it began */
	char			 epoch_next[96]; /* cause of the one to come */
	struct stats_snap	 epoch_next_base;
	TAILQ_ENTRY(load)	 entry;
};

/* The histograms each load keeps (only loads that expect replies). */
enum lat_kind {
	LAT_LATENCY = 0,	/* from the intended send time */
	LAT_SERVICE,		/* from the actual write */
	LAT_TTFB,		/* first request to first reply byte */
	LAT_CONNECT,		/* connect() to established */
	LAT_MAX
};
extern const char *const lat_kind_names[LAT_MAX];
TAILQ_HEAD(load_list, load);

struct daemon {
	struct profile		*profile;
	char			*profile_path;
	char			*socket_path;	/* -s overrides the profile */
	int			 log_level_cli;	/* from -v, or -1 */
	struct event_base	*base;
	struct worker		*workers;
	int			 nworkers;
	struct load_list	 loads;
	int			 next_load_id;
	struct stats_snap	 retired;	/* counters of removed loads */
	struct event		*stats_tick;
	double			 started_at;
	uint64_t		 nofile_limit;	/* soft RLIMIT_NOFILE */
	bool			 shutting_down;
	/* collection of the workers' interval histograms */
	_Atomic int		 collect_pending; /* answers still to come */
	struct event		*collected;	/* activated by the last worker */
	double			 interval_start; /* monotonic s */
	double			 interval_len;	/* of the last finished one */
};

extern struct daemon *daemon_g;

struct load	*load_find(const char *name);
void		 load_unref(struct load *);
int		 load_start(struct load *, char *why, size_t);
void		 load_stop(struct load *);
int		 load_scale(struct load *, uint64_t n, double over, char *why,
		    size_t);
int		 load_set_rate(struct load *, double rate, char *why, size_t);
int		 daemon_reload(struct errlist *errs, char *summary, size_t);
void		 daemon_collect(void);
void		 load_new_epoch(struct load *, const char *cause);
void		 daemon_shutdown(void);
void		 load_snapshot(const struct load *, struct stats_snap *);
int64_t		 daemon_connections(void);

/* ------------------------------------------------------------ results.c */

void	 results_open(const struct profile *);
void	 results_interval(double start_mono, double length);
int	 results_reopen(char *why, size_t);
void	 results_close(void);

/* ------------------------------------------------------------- report.c */

/* loadctl report: results log -> one self-contained HTML or SVG file. */
int	 report_main(int argc, char *argv[]);

/* ------------------------------------------------------------ control.c */

int	 control_init(const char *path, int mode, int max_clients,
	    double client_timeout);
void	 control_configure(int max_clients, double client_timeout);
void	 control_cleanup(void);
void	 control_tick(void);	/* feed `watch` subscribers */

/* ------------------------------------------------------------ metrics.c */

/*
 * GET /metrics (Prometheus text format) on "HOST:PORT", on the main
 * thread.  NULL: off, returns 0.  -1 with the reason in why.
 */
int	 metrics_init(const char *listen, char *why, size_t len);
void	 metrics_close(void);

#endif /* LOADD_H */
