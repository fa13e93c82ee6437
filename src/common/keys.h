/* SPDX-License-Identifier: ISC */
/*
 * common/keys.h -- the names a load's figures go by, spelled once.  The
 * stats JSON, the results log, /metrics, loadctl and the report reader
 * all take their keys from these tables, and measure/counters.h builds the
 * counter structs from the same list, so a counter added here appears
 * everywhere (docs/hacking.md: "Adding a counter").
 */
#ifndef LOADD_COMMON_KEYS_H
#define LOADD_COMMON_KEYS_H

/*
 * Monotonic counters of a load.
 * X(field, JSON key, Prometheus name, JSON key of its per-second rate or
 *   NULL, Prometheus help)
 */
#define LOADD_COUNTERS(X)						\
	X(connects_ok, "connects_ok", "loadd_connects_ok_total",	\
	    "connects_per_s",						\
	    "Connections established.")					\
	X(connects_failed, "connects_failed",				\
	    "loadd_connects_failed_total", NULL,			\
	    "Connect attempts that failed.")				\
	X(disconnects, "disconnects", "loadd_disconnects_total", NULL,	\
	    "Established connections lost to an error or the peer "	\
	    "closing.")							\
	X(bytes_sent, "bytes_sent", "loadd_bytes_sent_total",		\
	    "bytes_sent_per_s", "Bytes handed to the kernel.")		\
	X(bytes_received, "bytes_received", "loadd_bytes_received_total", \
	    "bytes_received_per_s", "Bytes read from the target.")	\
	X(messages_sent, "messages_sent", "loadd_messages_sent_total",	\
	    "messages_sent_per_s", "Whole messages handed to the kernel.") \
	X(replies, "replies", "loadd_replies_total", "replies_per_s",	\
	    "Complete, matching replies (loads with expect; 0 "		\
	    "otherwise).")						\
	X(late, "late", "loadd_late_total", NULL,			\
	    "Paced requests that left late: every inflight slot was "	\
	    "taken.")							\
	X(tls_handshakes, "tls_handshakes", "loadd_tls_handshakes_total", \
	    "tls_handshakes_per_s", "TLS handshakes completed.")	\
	X(tls_resumed, "tls_resumed", "loadd_tls_resumed_total", NULL,	\
	    "TLS handshakes that resumed a session.")			\
	X(recycled, "recycled", "loadd_recycled_total", NULL,		\
	    "Connections closed at the end of their lifetime or "	\
	    "messages_per_connection, to be opened again.")		\
	X(datagrams_received, "datagrams_received",			\
	    "loadd_datagrams_received_total", "datagrams_received_per_s", \
	    "UDP datagrams received.")					\
	X(lost, "lost", "loadd_lost_total", NULL,			\
	    "UDP requests whose reply did not come within "		\
	    "reply_timeout.")						\
	X(http_2xx, "http_2xx", "loadd_http_2xx_total", NULL,		\
	    "HTTP responses with a 2xx status (expect = \"http\").")	\
	X(http_3xx, "http_3xx", "loadd_http_3xx_total", NULL,		\
	    "HTTP responses with a 3xx status.")			\
	X(http_4xx, "http_4xx", "loadd_http_4xx_total", NULL,		\
	    "HTTP responses with a 4xx status.")			\
	X(http_5xx, "http_5xx", "loadd_http_5xx_total", NULL,		\
	    "HTTP responses with a 5xx status.")			\
	X(bad_status, "bad_status", "loadd_bad_status_total", NULL,	\
	    "HTTP responses whose status was not expect_status.")	\
	X(server_errors, "server_errors", "loadd_server_errors_total",	\
	    NULL, "RESP error replies (-ERR ...).")			\
	X(server_closes, "server_closes", "loadd_server_closes_total",	\
	    NULL, "Connections the server ended after a reply "		\
	    "(HTTP Connection: close), reopened without an error.")	\
	X(unanswered, "unanswered", "loadd_unanswered_total", NULL,	\
	    "Requests pipelined behind a reply after which the server "	\
	    "closed: never answered, and not an error.")			\
	X(skipped, "skipped", "loadd_skipped_total", NULL,		\
	    "Paced messages not sent because the connection was behind "	\
	    "its schedule (catch_up = \"drop\").")

/*
 * Kinds of error, in the order of enum err_kind (measure/counters.h),
 * with the names the stats JSON, /metrics and objectives use.
 * X(ERR_ suffix, name)
 */
#define LOADD_ERR_KINDS(X)						\
	X(REFUSED, "refused")						\
	X(RESET, "reset")						\
	X(TIMEOUT, "timeout")						\
	X(CLOSED, "closed_by_peer")	/* EOF */			\
	X(ADDRNOTAVAIL, "address_not_available") /* a source not local */ \
	X(PORTS, "local_ports_exhausted")				\
	X(NOFILE, "too_many_open_files")				\
	X(UNREACHABLE, "unreachable")					\
	X(MISMATCH, "mismatch")		/* a reply with wrong bytes */	\
	X(UNSOLICITED, "unsolicited")	/* bytes nobody asked for */	\
	X(SHORT_REPLY, "short_reply")	/* closed within a reply */	\
	X(REPLY_TIMEOUT, "reply_timeout")				\
	X(TLS_VERIFY, "tls_verify_failed")				\
	X(TLS_HANDSHAKE, "tls_handshake_failed")			\
	X(TLS_TIMEOUT, "tls_timeout")					\
	X(TLS, "tls_error")		/* after the handshake */	\
	X(BAD_REPLY, "bad_reply")	/* its framing cannot parse it */ \
	X(REPLY_TOO_LARGE, "reply_too_large") /* over max_reply */	\
	X(OTHER, "other")

enum {
#define X(e, name)	KEY_ERR_##e,
	LOADD_ERR_KINDS(X)
#undef X
	KEY_ERR_KINDS
};
/* The names by kind, for code below measure/ (the profile's objectives). */
extern const char *const key_err_kinds[KEY_ERR_KINDS];

/*
 * Gauges of a load's connections.
 * X(field, JSON key, Prometheus name, Prometheus help)
 */
#define LOADD_GAUGES(X)							\
	X(active, "connections_active", "loadd_connections_active",	\
	    "Established connections.")					\
	X(connecting, "connections_connecting",				\
	    "loadd_connections_connecting", "Connects in progress.")

/* The same names as tables, by id (KC_bytes_sent, KG_active, ...). */
enum key_counter {
#define X(f, ...)	KC_##f,
	LOADD_COUNTERS(X)
#undef X
	KC_MAX
};
enum key_gauge {
#define X(f, ...)	KG_##f,
	LOADD_GAUGES(X)
#undef X
	KG_MAX
};
struct key_def {
	const char	*key;		/* JSON */
	const char	*prom;		/* Prometheus */
	const char	*rate_key;	/* JSON of its per-second rate, or NULL */
	const char	*help;		/* Prometheus */
};
extern const struct key_def key_counters[KC_MAX];
extern const struct key_def key_gauges[KG_MAX];	/* rate_key is NULL */

/* Where the errors by kind are, in the JSON and in /metrics. */
#define KEY_ERRORS		"errors"
#define KEY_ERRORS_PROM		"loadd_errors_total"
#define KEY_TARGET		"connections_target"

/*
 * The percentiles of every latency histogram, in the JSON (values in
 * microseconds, beside "count", "mean" and "max") and in /metrics.
 * X(JSON key, percentile, Prometheus quantile label)
 */
#define LOADD_PERCENTILES(X)						\
	X("p50", 50, "0.5")						\
	X("p90", 90, "0.9")						\
	X("p99", 99, "0.99")						\
	X("p99.9", 99.9, "0.999")					\
	X("p99.99", 99.99, "0.9999")

#define KEY_HIST_COUNT		"count"
#define KEY_HIST_MEAN		"mean"
#define KEY_HIST_MAX		"max"

#endif
