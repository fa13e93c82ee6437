/* SPDX-License-Identifier: ISC */
/*
 * model/profile.h -- a profile (libconfig) as loadd uses it: the daemon's
 * settings and its named loads.  profile_load() reads and checks a file
 * and reports every mistake as "FILE:LINE: message"; it neither logs nor
 * exits.  Main thread only; a worker gets its own copy of a load_conf
 * (load_conf_dup) and owns it.
 */
#ifndef LOADD_MODEL_PROFILE_H
#define LOADD_MODEL_PROFILE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cmd.h"
#include "common/util.h"
#include "model/objective.h"
#include "model/payload.h"

/*
 * What a profile may hold.  libconfig reading a file took quadratic time
 * in a long string (8 MiB: 29 s); a text in memory it parses in linear
 * time (4 MiB in 0.05 to 0.2 s), but twice (a check in a child first),
 * and the daemon's main thread waits for it at a reload.  So a profile
 * with its includes is at most 4 MiB and a string in it (literal, one
 * message) at most 1 MiB: a larger message goes in payload_file.
 */
#define PROFILE_TEXT_MAX	(4u * 1024 * 1024)	/* with its includes */
#define PROFILE_STRING_MAX	(1024u * 1024)	/* literal, one message */

#define SOURCES_MAX		64	/* source addresses per load */
#define TARGETS_MAX		64	/* targets per load */
#define UDP_SIZE_MAX		65507	/* the largest IPv4 UDP payload */

/* How a load's connections carry bytes; chosen once per load. */
enum protocol_kind {
	PROTO_TCP = 0,		/* a stream socket: TCP, or unix: targets */
	PROTO_TLS,		/* TLS over a stream socket */
	PROTO_UDP,		/* connected datagram sockets */
};

/* What to do with a connection at the end of its life (churn). */
enum close_kind {
	CLOSE_NORMAL = 0,	/* close(): FIN, the socket goes to TIME_WAIT */
	CLOSE_RESET,		/* SO_LINGER 0: RST, no TIME_WAIT */
};

/* One destination: "HOST:PORT", "[V6]:PORT" or "unix:/path". */
struct target_conf {
	char			 str[TARGET_STR_MAX];	/* as written */
	char			 host[TARGET_STR_MAX];	/* for SNI; "" for
							   unix: */
	struct sockaddr_storage	 addr;		/* resolved at load time */
	socklen_t		 addrlen;
};

/* TLS client settings (protocol = "tls"); strings are owned. */
struct tls_conf {
	bool	 verify;		/* check the server's certificate */
	char	*ca;			/* PEM file; NULL: the system store */
	char	*server_name;		/* SNI and name check; NULL: the
					   target's host name */
	char	*alpn;			/* wire format (length-prefixed) */
	size_t	 alpn_len;
	int	 min_version;		/* TLS1_2_VERSION...; 0: default */
	int	 max_version;
	char	*ciphers;		/* TLS 1.2 cipher list */
	char	*ciphersuites;		/* TLS 1.3 */
	char	*groups;		/* key exchange groups */
	char	*cert;			/* client certificate, PEM */
	char	*key;			/* its key, PEM */
	bool	 resume;		/* reuse sessions (tickets or IDs) */
	double	 handshake_timeout;	/* seconds */
};

enum content_kind {
	CONTENT_LETTERS = 0,	/* random ASCII letters, as the classic tool */
	CONTENT_BYTES,		/* random bytes 0..255 */
	CONTENT_MESSAGES,	/* payload: literal, messages or payload_file */
};

enum expect_kind {
	EXPECT_NONE = 0,	/* no reply expected: bytes read are counted */
	EXPECT_ECHO,		/* the request's own bytes come back */
	EXPECT_SIZE,		/* expect_size bytes */
	EXPECT_UNTIL,		/* anything up to and including expect_bytes */
	EXPECT_MATCH,		/* exactly expect_bytes */
	EXPECT_HTTP,		/* HTTP/1.1 responses */
	EXPECT_RESP,		/* RESP2 replies (Redis) */
	EXPECT_LENGTH,		/* a big-endian length prefix */
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
	char			 target[TARGET_STR_MAX]; /* as written (the
						   first, for a list) */
	enum protocol_kind	 protocol;
	struct target_conf	*targets;	/* [ntargets], >= 1 */
	int			 ntargets;
	struct tls_conf		 tls;
	/*
	 * Local addresses to connect from, round-robin (port 0: the kernel
	 * picks the port at connect); NULL and 0 to let the kernel choose.
	 */
	struct sockaddr_storage	*sources;
	int			 nsources;
	int			 connections;	/* at start */
	int			 max_connections; /* ceiling for scale */
	bool			 autostart;
	bool			 keep_scale;	/* a reload that restarts it
						   keeps its live scale */
	double			 connect_rate;	/* new connections per second */
	int			 connects_inflight; /* connects at once, all
						   workers together */
	/*
	 * Bytes of a message: of every message for generated content and
	 * a single static one; the longest (payload.max_len) when varying.
	 */
	size_t			 size;
	enum content_kind	 content;
	struct payload		 payload;	/* CONTENT_MESSAGES: owned */
	struct objective	*objectives;	/* [nobjectives], owned */
	int			 nobjectives;
	bool			 template;	/* fields are expanded */
	bool			 varying;	/* messages differ in length or
						   have fields (are expanded
						   as they are sent) */
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
	uint64_t		 max_reply;	/* bytes of one reply, framings */
	int			 expect_status;	/* HTTP: else bad_status; 0 any */
	bool			 http_head;	/* HTTP: every request is HEAD */
	unsigned		 lp_size;	/* EXPECT_LENGTH: 1, 2, 4 or 8 */
	uint64_t		 lp_offset;	/* bytes before the length */
	int64_t			 lp_adjust;	/* added to the length */
	int			 inflight;	/* outstanding per connection */
	double			 reply_timeout;	/* seconds */
	enum arrival_kind	 arrival;
	bool			 catch_up_drop;	/* catch_up = "drop" */
	double			 tick;		/* s a paced send may wait to
						   join a batch; <0: default */
	/* churn: a connection's life ends after either (0: never) */
	double			 lifetime;	/* seconds */
	double			 lifetime_jitter; /* 0..1, +- fraction */
	uint64_t		 messages_per_connection;
	enum close_kind		 close;
	unsigned		 burst;		/* paced: messages at a time */
	bool			 idle;		/* connect and hold, send nothing */
	double			 keepalive;	/* TCP keepalive idle s; 0: off */
};

/* daemon.host: bytes at most (Linux's HOST_NAME_MAX, too) */
#define PROFILE_HOST_MAX	64

struct daemon_conf {
	char	*socket;		/* control socket path */
	int	 socket_mode;		/* e.g. 0660 */
	char	*status_socket;		/* read-only control socket, or NULL */
	int	 status_socket_mode;	/* default 0660 */
	int	 workers;		/* 0 = one per CPU */
	double	 stats_interval;	/* seconds */
	int	 log_level;		/* enum log_level; -1 when absent */
	int	 max_clients;		/* concurrent control clients */
	double	 client_timeout;	/* idle control client, seconds */
	double	 drain_timeout;		/* on shutdown, seconds */
	char	*results;		/* results log (JSON lines), or NULL */
	char	*hdr_log;		/* HdrHistogram interval log, or NULL */
	char	*summary;		/* the last runs' summaries, or NULL */
	char	*metrics_listen;	/* "127.0.0.1:9464", or NULL */
	char	*host;			/* /metrics host label; NULL: the
					   machine's host name */
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
 * Neither logs nor exits.  It opens regular files only (the profile, its
 * @include files), never waits on one, and has libconfig check the text
 * in a short-lived child process before parsing it here (profile.c says
 * why): a caller gets SIGCHLD for it, and the child is reaped before the
 * call returns.
 */
struct profile	*profile_load(const char *path, struct errlist *errs);
void		 profile_free(struct profile *);
const struct load_conf *profile_find_load(const struct profile *,
		    const char *name);
/* True if two load declarations describe the same traffic. */
bool		 load_conf_equal(const struct load_conf *,
		    const struct load_conf *);
/* Deep copy of a load_conf (the messages are duplicated). */
struct load_conf *load_conf_dup(const struct load_conf *);
void		 load_conf_free(struct load_conf *);
/* True if the load keeps latency histograms (replies, or TLS). */
static inline bool
load_conf_timed(const struct load_conf *lc)
{
	return lc->expect != EXPECT_NONE || lc->protocol == PROTO_TLS;
}
/* Free what a load_conf owns, not the struct itself. */
void		 load_conf_clear(struct load_conf *);

/* How its replies end (model/framing.h); false if compared or none. */
struct framing;
bool		 load_conf_framing(const struct load_conf *,
		    struct framing *);

#endif
