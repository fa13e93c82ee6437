/* SPDX-License-Identifier: ISC */
/*
 * profile.c -- read a profile (libconfig syntax) into struct profile.
 *
 * Every key of every group is checked and every mistake is reported as
 * "FILE:LINE: message" (or "FILE: message" where no line applies), so that
 * `loadd -n` shows an operator all of them at once.  Library-like: this
 * file neither logs nor exits; the caller decides what to do with errors.
 *
 * The keys each group accepts are data (the profile_*_keys tables): a key
 * not in its table is an error naming it, and plain numbers, durations and
 * booleans are read and range-checked by one generic reader.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"
#include "model/framing.h"
#include "model/profile.h"
#include "model/tlsconf.h"

#define PROFILE_SIZE_MAX	(64.0 * 1024 * 1024)	/* bytes per message */
#define PROFILE_REPLY_MAX	(1024 * 1024 * 1024)	/* max_reply, offset, adjust */
#define PROFILE_DURATION_MAX	(365.0 * 86400)		/* any duration */
#define PROFILE_WORKERS_MAX	1024
#define PROFILE_CLIENTS_MAX	4096
#define PROFILE_BACKOFF_MAX	100.0
#define PROFILE_INFLIGHT_MAX	4096
#define PROFILE_BURST_MAX	65536
#define PROFILE_ALPN_MAX	32	/* protocols in tls_alpn */
/* template with expect echo: each request in flight kept, per connection */
#define PROFILE_ECHO_KEEP_MAX	(64.0 * 1024 * 1024)

#define PROFILE_INCLUDE_DEPTH	10		/* as libconfig's */
#define PROFILE_PARSE_TIMEOUT	10		/* s the parser child gets */
/*
 * The shortest timeout, delay or duration: 1 ms.  A smaller one is a typo
 * or an attack, and one that rounds to the zero timeval means "no
 * timeout" to a bufferevent (client_timeout = 1e-300 was that).  A tick
 * may go down to 1 us; the engine counts it in nanoseconds.
 */
#define PROFILE_TIME_MIN	0.001
#define PROFILE_TICK_MIN	1e-6
#define PROFILE_ECHO_MAX	64	/* bytes of a value an error shows */
#define PROFILE_MSG_MAX		1024	/* bytes of one error's message */

/* An error held back until all are found, to be given in file order. */
struct profile_error {
	char		*where;		/* file name */
	unsigned	 line;		/* 0 when no line applies */
	size_t		 seq;		/* order found, among equal lines */
	char		*text;		/* the whole "FILE:LINE: message" */
};

/*
 * The profile as libconfig reads it: one text, the profile's own with
 * each @include replaced by the file it names (profile_expand).  A span
 * says which file a run of the text's lines came from, for FILE:LINE.
 */
struct profile_span {
	unsigned	 first;		/* the text's line it starts at */
	unsigned	 line;		/* the same line in its file */
	size_t		 src;		/* index in srcs */
};

struct profile_text {
	char			*buf;
	size_t			 len;
	size_t			 cap;
	unsigned		 lines;		/* line of the text's end */
	char			**srcs;		/* each file's name in errors */
	size_t			 nsrcs;
	struct profile_span	*spans;
	size_t			 nspans;
};

/* What the reader is looking at, for error messages. */
struct profile_ctx {
	const char		*path;	/* as given to profile_load */
	const char		*dir;	/* its directory: payload_file, tls */
	const char		*what;	/* "daemon", "load \"web\"", or NULL */
	struct profile_text	 text;
	struct profile_error	*errv;
	size_t			 errn;
};

enum profile_kind {
	PROFILE_INT,		/* a whole number into an int */
	PROFILE_SIZE,		/* a whole number into a size_t */
	PROFILE_UINT,		/* a whole number into an unsigned */
	PROFILE_U64,		/* a whole number into a uint64_t */
	PROFILE_NUMBER,		/* any number into a double */
	PROFILE_DURATION,	/* seconds or "250ms" into a double */
	PROFILE_BOOL,		/* true or false into a bool */
	PROFILE_CUSTOM,		/* read by fn */
};

struct profile_key {
	const char	*name;
	enum profile_kind kind;
	size_t		 off;		/* of the field in the struct filled */
	double		 min;
	double		 max;
	bool		 above;		/* value must be > min, not >= min */
	int		(*fn)(struct profile_ctx *, const config_setting_t *,
			    void *);
};

static void	profile_err(struct profile_ctx *, const config_setting_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	profile_read_socket(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_socket_mode(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_log_level(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_name(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_target(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_sources(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_targets(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_protocol(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_tls_str(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_tls_file(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_tls_version(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_tls_alpn(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_close(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_pattern(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_content(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_literal(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_messages(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_payload_file(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_rate(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_reconnect(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_expect(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_arrival(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_catch_up(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_objectives(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_path(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_metrics(struct profile_ctx *,
		    const config_setting_t *, void *);
static int	profile_read_host(struct profile_ctx *,
		    const config_setting_t *, void *);

#define NKEYS(t)	(sizeof(t) / sizeof((t)[0]))
#define DOFF(f)	offsetof(struct daemon_conf, f)
#define LOFF(f)	offsetof(struct load_conf, f)
#define ROFF(f)	offsetof(struct reconnect_conf, f)
#define TOFF(f)	offsetof(struct load_conf, tls.f)

static const struct profile_key profile_daemon_keys[] = {
	{ "socket", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_socket },
	{ "socket_mode", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_socket_mode },
	{ "status_socket", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_socket },
	{ "status_socket_mode", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_socket_mode },
	{ "workers", PROFILE_INT, DOFF(workers), 0, PROFILE_WORKERS_MAX,
	    false, NULL },
	{ "stats_interval", PROFILE_DURATION, DOFF(stats_interval), 0.01,
	    3600, false, NULL },
	{ "log_level", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_log_level },
	{ "max_clients", PROFILE_INT, DOFF(max_clients), 1,
	    PROFILE_CLIENTS_MAX, false, NULL },
	{ "client_timeout", PROFILE_DURATION, DOFF(client_timeout),
	    PROFILE_TIME_MIN, PROFILE_DURATION_MAX, false, NULL },
	{ "drain_timeout", PROFILE_DURATION, DOFF(drain_timeout),
	    PROFILE_TIME_MIN, PROFILE_DURATION_MAX, false, NULL },
	{ "results", PROFILE_CUSTOM, DOFF(results), 0, 0, false,
	    profile_read_path },
	{ "hdr_log", PROFILE_CUSTOM, DOFF(hdr_log), 0, 0, false,
	    profile_read_path },
	{ "summary", PROFILE_CUSTOM, DOFF(summary), 0, 0, false,
	    profile_read_path },
	{ "metrics_listen", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_metrics },
	{ "host", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_host },
	{ "io_uring", PROFILE_BOOL, DOFF(io_uring), 0, 0, false, NULL },
};

static const struct profile_key profile_load_keys[] = {
	{ "name", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_name },
	{ "target", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_target },
	{ "sources", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_sources },
	{ "connections", PROFILE_INT, LOFF(connections), 0,
	    CONNECTIONS_LIMIT, false, NULL },
	{ "max_connections", PROFILE_INT, LOFF(max_connections), 1,
	    CONNECTIONS_LIMIT, false, NULL },
	{ "autostart", PROFILE_BOOL, LOFF(autostart), 0, 0, false, NULL },
	{ "keep_scale", PROFILE_BOOL, LOFF(keep_scale), 0, 0, false, NULL },
	{ "connect_rate", PROFILE_NUMBER, LOFF(connect_rate), RATE_MIN,
	    RATE_LIMIT, false, NULL },
	{ "connects_inflight", PROFILE_INT, LOFF(connects_inflight), 1,
	    CONNECTIONS_LIMIT, false, NULL },
	{ "size", PROFILE_SIZE, LOFF(size), 1, PROFILE_SIZE_MAX, false,
	    NULL },
	{ "content", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_content },
	{ "literal", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_literal },
	{ "messages", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_messages },
	{ "payload_file", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_payload_file },
	{ "template", PROFILE_BOOL, LOFF(template), 0, 0, false, NULL },
	{ "rate", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_rate },
	{ "max_rate", PROFILE_NUMBER, LOFF(max_rate), RATE_MIN, RATE_LIMIT,
	    false, NULL },
	/* 0 is the default and means "until stopped", so it may be written. */
	{ "duration", PROFILE_DURATION, LOFF(duration), 0,
	    PROFILE_DURATION_MAX, false, NULL },
	{ "reconnect", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_reconnect },
	{ "connect_timeout", PROFILE_DURATION, LOFF(connect_timeout),
	    PROFILE_TIME_MIN, PROFILE_DURATION_MAX, false, NULL },
	{ "nodelay", PROFILE_BOOL, LOFF(nodelay), 0, 0, false, NULL },
	{ "expect", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_expect },
	{ "expect_status", PROFILE_INT, LOFF(expect_status), 200, 599, false,
	    NULL },
	{ "max_reply", PROFILE_U64, LOFF(max_reply), 1, PROFILE_REPLY_MAX,
	    false, NULL },
	{ "inflight", PROFILE_INT, LOFF(inflight), 1, PROFILE_INFLIGHT_MAX,
	    false, NULL },
	{ "reply_timeout", PROFILE_DURATION, LOFF(reply_timeout),
	    PROFILE_TIME_MIN, PROFILE_DURATION_MAX, false, NULL },
	{ "arrival", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_arrival },
	{ "catch_up", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_catch_up },
	{ "objectives", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_objectives },
	{ "tick", PROFILE_DURATION, LOFF(tick), 0, 1, false, NULL },
	{ "targets", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_targets },
	{ "protocol", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_protocol },
	{ "tls_verify", PROFILE_BOOL, TOFF(verify), 0, 0, false, NULL },
	{ "tls_ca", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_tls_file },
	{ "tls_server_name", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_tls_str },
	{ "tls_alpn", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_tls_alpn },
	{ "tls_min_version", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_tls_version },
	{ "tls_max_version", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_tls_version },
	{ "tls_ciphers", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_tls_str },
	{ "tls_ciphersuites", PROFILE_CUSTOM, 0, 0, 0, false,
	    profile_read_tls_str },
	{ "tls_groups", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_tls_str },
	{ "tls_cert", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_tls_file },
	{ "tls_key", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_tls_file },
	{ "tls_resume", PROFILE_BOOL, TOFF(resume), 0, 0, false, NULL },
	{ "tls_handshake_timeout", PROFILE_DURATION, TOFF(handshake_timeout),
	    PROFILE_TIME_MIN, PROFILE_DURATION_MAX, false, NULL },
	{ "lifetime", PROFILE_DURATION, LOFF(lifetime),
	    PROFILE_TIME_MIN, PROFILE_DURATION_MAX, false, NULL },
	{ "lifetime_jitter", PROFILE_NUMBER, LOFF(lifetime_jitter), 0, 1,
	    false, NULL },
	{ "messages_per_connection", PROFILE_U64,
	    LOFF(messages_per_connection), 1, 1e15, false, NULL },
	{ "close", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_close },
	{ "burst", PROFILE_UINT, LOFF(burst), 1, PROFILE_BURST_MAX, false,
	    NULL },
	{ "pattern", PROFILE_CUSTOM, 0, 0, 0, false, profile_read_pattern },
	/* Linux takes at most 32767 s for TCP_KEEPIDLE. */
	{ "keepalive", PROFILE_DURATION, LOFF(keepalive), 1, 32767, false,
	    NULL },
};
_Static_assert(NKEYS(profile_load_keys) <= 64, "bad masks are 64 bits");

static const struct profile_key profile_reconnect_keys[] = {
	{ "delay", PROFILE_DURATION, ROFF(delay),
	    PROFILE_TIME_MIN, PROFILE_DURATION_MAX, false, NULL },
	{ "max_delay", PROFILE_DURATION, ROFF(max_delay),
	    PROFILE_TIME_MIN, PROFILE_DURATION_MAX, false, NULL },
	{ "backoff", PROFILE_NUMBER, ROFF(backoff), 1, PROFILE_BACKOFF_MAX,
	    false, NULL },
	{ "jitter", PROFILE_NUMBER, ROFF(jitter), 0, 1, false, NULL },
};


/* The length of the UTF-8 sequence at s (at most n bytes); 0 if not one. */
static size_t
profile_utf8_len(const unsigned char *s, size_t n)
{
	size_t		 len;
	unsigned char	 lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

/*
 * s[0..len) made safe to print on one line: control bytes and bytes that
 * are not UTF-8 as escapes (\n, \t, \x01), and with quote also " and \,
 * so that a value shown between quotes reads as libconfig would take it.
 * Past max bytes of s it stops, at a character's end, and adds "...".  An
 * error is one line of the journal and of a reply: a newline in a value
 * must not start a forged line, nor a 100 KB name make a 100 KB error.
 */
static char *
profile_escape(const char *s, size_t len, size_t max, bool quote)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, o = 0, n;
	char			*out;

	out = xmalloc((len < max ? len : max) * 4 + 8);
	while (i < len) {
		unsigned char	 c = p[i];

		n = profile_utf8_len(p + i, len - i);
		if (i + (n > 0 ? n : 1) > max)
			break;
		if (n > 1) {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
			continue;
		}
		i++;
		if (quote && (c == '"' || c == '\\')) {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (n == 0 || c < 0x20 || c == 0x7f)
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/*
 * A value from the profile for an error message: escaped and cut to
 * PROFILE_ECHO_MAX bytes (profile_escape).  It lives until
 * PROFILE_ECHO_SLOTS more calls or profile_echo_free(): enough for the
 * values of one message.  Main thread only, as profile_load is.
 */
#define PROFILE_ECHO_SLOTS	8
static char	*profile_echo_slot[PROFILE_ECHO_SLOTS];
static size_t	 profile_echo_next;

static const char *
profile_q(const char *s)
{
	char	**slot;

	if (s == NULL)
		return "";
	slot = &profile_echo_slot[profile_echo_next++ % PROFILE_ECHO_SLOTS];
	free(*slot);
	*slot = profile_escape(s, strlen(s), PROFILE_ECHO_MAX, true);
	return *slot;
}

static void
profile_echo_free(void)
{
	for (size_t i = 0; i < PROFILE_ECHO_SLOTS; i++) {
		free(profile_echo_slot[i]);
		profile_echo_slot[i] = NULL;
	}
}

/*
 * Where line n of the text came from: the file's name in errors and its
 * line there.  Line 0 (none) is the profile itself, without a line.
 */
static const char *
profile_locate(const struct profile_ctx *ctx, unsigned n, unsigned *line)
{
	const struct profile_text	*t = &ctx->text;
	size_t				 lo = 0, hi = t->nspans;

	*line = 0;
	if (n == 0 || t->nspans == 0)
		return ctx->path;
	/* The last span that starts at or before n. */
	while (hi - lo > 1) {
		size_t	 mid = lo + (hi - lo) / 2;

		if (t->spans[mid].first <= n)
			lo = mid;
		else
			hi = mid;
	}
	*line = t->spans[lo].line + (n - t->spans[lo].first);
	return t->srcs[t->spans[lo].src];
}

/*
 * Note "FILE:LINE: message" (LINE 0: "FILE: message").  Every error goes
 * through here, so each is one line, escaped (profile_escape): the values
 * in it are cut where they are put in (profile_q), and the message as a
 * whole, which may hold another module's words about a value, here.
 */
static void
profile_note(struct profile_ctx *ctx, const char *file, unsigned line,
    const char *msg)
{
	struct profile_error	*e;
	char			*where, *safe, *text;
	int			 r;

	where = profile_escape(file, strlen(file), SIZE_MAX / 8, false);
	safe = profile_escape(msg, strlen(msg), PROFILE_MSG_MAX, false);
	if (line != 0)
		r = asprintf(&text, "%s:%u: %s", where, line, safe);
	else
		r = asprintf(&text, "%s: %s", where, safe);
	if (r == -1)
		fatal("asprintf");
	free(safe);

	ctx->errv = reallocarray(ctx->errv, ctx->errn + 1,
	    sizeof(*ctx->errv));
	if (ctx->errv == NULL)
		fatal("reallocarray");
	e = &ctx->errv[ctx->errn];
	e->where = where;
	e->line = line;
	e->seq = ctx->errn++;
	e->text = text;
}

/* An error at a file and line of its own (reading, @include, syntax). */
static void __attribute__((format(printf, 4, 5)))
profile_note_at(struct profile_ctx *ctx, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	profile_note(ctx, file, line, msg);
	free(msg);
}

/* Note "FILE:LINE: message in WHAT" (without WHAT when not scoped). */
static void
profile_verr(struct profile_ctx *ctx, const config_setting_t *s,
    bool scoped, const char *fmt, va_list ap)
{
	const char	*file;
	char		*msg, *full;
	unsigned	 line;

	msg = xvasprintf(fmt, ap);
	file = profile_locate(ctx, s != NULL ? config_setting_source_line(s) :
	    0, &line);
	if (scoped && ctx->what != NULL) {
		full = xasprintf("%s in %s", msg, ctx->what);
		profile_note(ctx, file, line, full);
		free(full);
	} else
		profile_note(ctx, file, line, msg);
	free(msg);
}

static int
profile_error_cmp(const void *va, const void *vb)
{
	const struct profile_error	*a = va, *b = vb;
	int				 c;

	if ((c = strcmp(a->where, b->where)) != 0)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * Hand the errors over sorted by file and line: checks between keys run
 * after a whole group is read, but an operator reads the list top down.
 */
static void
profile_flush_errors(struct profile_ctx *ctx, struct errlist *errs)
{
	if (ctx->errn == 0)
		return;		/* errv is NULL, which qsort must not see */
	qsort(ctx->errv, ctx->errn, sizeof(*ctx->errv), profile_error_cmp);
	for (size_t i = 0; i < ctx->errn; i++) {
		errlist_add(errs, "%s", ctx->errv[i].text);
		free(ctx->errv[i].text);
		free(ctx->errv[i].where);
	}
	free(ctx->errv);
	ctx->errv = NULL;
	ctx->errn = 0;
}

/* An error about setting s, naming the group it is in. */
static void
profile_err(struct profile_ctx *ctx, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	profile_verr(ctx, s, true, fmt, ap);
	va_end(ap);
}

/* An error whose message already says where it is. */
static void __attribute__((format(printf, 3, 4)))
profile_err_plain(struct profile_ctx *ctx, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	profile_verr(ctx, s, false, fmt, ap);
	va_end(ap);
}

/* Any libconfig number (int, int64 or float) as a double. */
static int
profile_number(const config_setting_t *s, double *out)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*out = config_setting_get_int(s);
		return 0;
	case CONFIG_TYPE_INT64:
		*out = (double)config_setting_get_int64(s);
		return 0;
	case CONFIG_TYPE_FLOAT:
		*out = config_setting_get_float(s);
		return isfinite(*out) ? 0 : -1;
	default:
		return -1;
	}
}

/*
 * The error for a setting that is no number where want is: a float too
 * large for a double (1e999) is infinite, which no key takes.
 */
static void
profile_err_number(struct profile_ctx *ctx, const config_setting_t *s,
    const char *want)
{
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		profile_err(ctx, s, "%s must be a finite number (got %g)",
		    config_setting_name(s), config_setting_get_float(s));
	else
		profile_err(ctx, s, "wrong type: %s must be %s",
		    config_setting_name(s), want);
}

/* A duration: a number of seconds, or a string such as "250ms". */
static int
profile_duration(struct profile_ctx *ctx, const config_setting_t *s,
    double *out)
{
	const char	*name = config_setting_name(s), *str, *why;

	if (profile_number(s, out) == 0)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		profile_err_number(ctx, s, "a number of seconds or a string "
		    "such as \"30s\"");
		return -1;
	}
	str = config_setting_get_string(s);
	/* strtod() reads hex ("0x10" is 16 s); a duration is decimal. */
	why = "not a duration (e.g. 250ms, 30s, 5m, 2h)";
	if (strpbrk(str, "xX") != NULL ||
	    parse_duration(str, out, &why) == -1) {
		profile_err(ctx, s, "%s: bad duration \"%s\": %s", name,
		    profile_q(str), why);
		return -1;
	}
	return 0;
}

/* Check v against the key's range; durations are shown with a unit. */
static int
profile_range(struct profile_ctx *ctx, const config_setting_t *s,
    const struct profile_key *k, double v)
{
	const char	*unit = k->kind == PROFILE_DURATION ? "s" : "";

	if ((k->kind == PROFILE_INT || k->kind == PROFILE_SIZE ||
	    k->kind == PROFILE_UINT || k->kind == PROFILE_U64) &&
	    v != floor(v)) {
		profile_err(ctx, s, "%s must be a whole number (got %.15g)",
		    k->name, v);
		return -1;
	}
	if (k->above && v <= k->min) {
		profile_err(ctx, s, "%s must be greater than %.15g%s "
		    "(got %.15g%s)", k->name, k->min, unit, v, unit);
		return -1;
	}
	if (!k->above && v < k->min) {
		profile_err(ctx, s, "%s must be at least %.15g%s (got %.15g%s)",
		    k->name, k->min, unit, v, unit);
		return -1;
	}
	/*
	 * A duration that may be 0 (duration: until stopped; tick: none) is
	 * else at least 1 ms, a tick 1 us: 1e-300 is no duration.
	 */
	if (k->kind == PROFILE_DURATION && k->min == 0 && !k->above &&
	    v != 0) {
		double	 least = strcmp(k->name, "tick") == 0 ?
			     PROFILE_TICK_MIN : PROFILE_TIME_MIN;

		if (v < least) {
			profile_err(ctx, s, "%s must be 0 or at least %.15gs "
			    "(got %.15gs)", k->name, least, v);
			return -1;
		}
	}
	if (v > k->max) {
		profile_err(ctx, s, "%s must be at most %.15g%s (got %.15g%s)",
		    k->name, k->max, unit, v, unit);
		return -1;
	}
	return 0;
}

/* Read one known key into obj; -1 after reporting an error. */
static int
profile_read_key(struct profile_ctx *ctx, const config_setting_t *s,
    const struct profile_key *k, void *obj)
{
	char	*field = (char *)obj + k->off;
	double	 v;

	switch (k->kind) {
	case PROFILE_CUSTOM:
		return k->fn(ctx, s, obj);
	case PROFILE_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			profile_err(ctx, s, "wrong type: %s must be true or "
			    "false", k->name);
			return -1;
		}
		*(bool *)field = config_setting_get_bool(s);
		return 0;
	case PROFILE_DURATION:
		if (profile_duration(ctx, s, &v) == -1)
			return -1;
		break;
	default:
		if (profile_number(s, &v) == -1) {
			profile_err_number(ctx, s, "a number");
			return -1;
		}
		break;
	}
	if (profile_range(ctx, s, k, v) == -1)
		return -1;
	if (v == 0)
		v = 0;		/* -0 is 0, and shows as 0 */
	switch (k->kind) {
	case PROFILE_INT:
		*(int *)field = (int)v;
		break;
	case PROFILE_SIZE:
		*(size_t *)field = (size_t)v;
		break;
	case PROFILE_UINT:
		*(unsigned *)field = (unsigned)v;
		break;
	case PROFILE_U64:
		*(uint64_t *)field = (uint64_t)v;
		break;
	default:
		*(double *)field = v;
		break;
	}
	return 0;
}

/*
 * For "did you mean": keep in *best the candidate closest to an unknown
 * name, if within 2 edits (and fewer than the name has letters, so that
 * "x" suggests nothing).
 */
static void
profile_nearest(const char *name, const char *cand, const char **best,
    size_t *bestd)
{
	size_t	 dist = edit_distance(name, cand);

	if (dist <= 2 && dist < strlen(name) && dist < *bestd) {
		*best = cand;
		*bestd = dist;
	}
}

/* "unknown key" in a group, with the nearest key of its table if any. */
static void
profile_err_unknown(struct profile_ctx *ctx, const config_setting_t *s,
    const struct profile_key *keys, size_t nkeys)
{
	const char	*name = config_setting_name(s), *best = NULL;
	size_t		 bestd = SIZE_MAX;

	for (size_t k = 0; k < nkeys; k++)
		profile_nearest(name, keys[k].name, &best, &bestd);
	if (best == NULL)
		profile_err(ctx, s, "unknown key \"%s\"", profile_q(name));
	else	/* the hint goes last, after the scope */
		profile_err_plain(ctx, s, "unknown key \"%s\"%s%s; did you "
		    "mean \"%s\"?", profile_q(name),
		    ctx->what != NULL ? " in " : "",
		    ctx->what != NULL ? ctx->what : "", best);
}

/*
 * Read every setting of a group against its table.  Returns a mask with
 * bit i set when keys[i] was given but wrong, so that checks between two
 * keys can skip a key already reported.
 */
static uint64_t
profile_read_group(struct profile_ctx *ctx, const config_setting_t *group,
    const struct profile_key *keys, size_t nkeys, void *obj)
{
	uint64_t	 bad = 0;
	int		 n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t	*s = config_setting_get_elem(group,
					    (unsigned)i);
		const char		*name = config_setting_name(s);
		size_t			 k;

		for (k = 0; k < nkeys; k++) {
			if (strcmp(keys[k].name, name) == 0)
				break;
		}
		if (k == nkeys) {
			profile_err_unknown(ctx, s, keys, nkeys);
			continue;
		}
		if (profile_read_key(ctx, s, &keys[k], obj) == -1)
			bad |= 1ull << k;
	}
	return bad;
}

/* True if key name of the table was given with a good value or omitted. */
static bool
profile_key_ok(const struct profile_key *keys, size_t nkeys, uint64_t bad,
    const char *name)
{
	for (size_t k = 0; k < nkeys; k++) {
		if (strcmp(keys[k].name, name) == 0)
			return (bad & (1ull << k)) == 0;
	}
	return false;
}

static const char *
profile_string(struct profile_ctx *ctx, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		profile_err(ctx, s, "wrong type: %s must be a string",
		    config_setting_name(s));
		return NULL;
	}
	return config_setting_get_string(s);
}

/* ------------------------------------------------------------ daemon */

static int
profile_read_socket(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct daemon_conf	*dc = obj;
	struct sockaddr_un	 sun;
	const char		*str, *name = config_setting_name(s);
	char			**field = strcmp(name, "status_socket") == 0 ?
				    &dc->status_socket : &dc->socket;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (*str == '\0') {
		profile_err(ctx, s, "%s must not be empty", name);
		return -1;
	}
	if (strlen(str) >= sizeof(sun.sun_path)) {
		profile_err(ctx, s, "%s path is too long (%zu bytes, at "
		    "most %zu)", name, strlen(str), sizeof(sun.sun_path) - 1);
		return -1;
	}
	free(*field);
	*field = xstrdup(str);
	return 0;
}

/*
 * libconfig has no octal integers: 0660 is read as decimal 660.  So a
 * decimal integer is taken digit by digit as octal (660 -> 0660) when all
 * its digits are 0-7, a hex integer (0x1b0) is taken as its value, and a
 * string must be octal digits ("0660").
 */
static int
profile_read_socket_mode(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct daemon_conf	*dc = obj;
	const char		*name = config_setting_name(s);
	long long		 v = 0;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: {
		long long	 dec = config_setting_get_int64(s);

		if (config_setting_type(s) == CONFIG_TYPE_INT)
			dec = config_setting_get_int(s);
		if (dec < 0) {
			profile_err(ctx, s, "%s must not be "
			    "negative", name);
			return -1;
		}
		if (config_setting_get_format(s) == CONFIG_FORMAT_HEX) {
			v = dec;
			break;
		}
		/* At most 19 decimal digits, so 8^19 bounds v: no overflow. */
		for (long long d = dec, m = 1; d != 0; d /= 10, m *= 8) {
			if (d % 10 > 7) {
				profile_err(ctx, s, "%s %lld is not "
				    "octal (use digits 0-7, e.g. \"0660\")",
				    name, dec);
				return -1;
			}
			v += (d % 10) * m;
		}
		break;
	}
	case CONFIG_TYPE_STRING: {
		const char	*str = config_setting_get_string(s);

		if (*str == '\0') {
			profile_err(ctx, s, "%s must not be empty", name);
			return -1;
		}
		for (const char *p = str; *p != '\0'; p++) {
			if (*p < '0' || *p > '7') {
				profile_err(ctx, s, "%s \"%s\" is not "
				    "octal (use digits 0-7, e.g. \"0660\")",
				    name, profile_q(str));
				return -1;
			}
			/* Saturate: a long string must not overflow. */
			if (v <= 0777)
				v = v * 8 + (*p - '0');
		}
		break;
	}
	default:
		profile_err(ctx, s, "wrong type: %s must be an octal "
		    "string such as \"0660\" or a number", name);
		return -1;
	}
	if (v > 0777) {
		profile_err(ctx, s, "%s must be at most 0777", name);
		return -1;
	}
	if (strcmp(name, "status_socket_mode") == 0)
		dc->status_socket_mode = (int)v;
	else
		dc->socket_mode = (int)v;
	return 0;
}

static int
profile_read_log_level(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	static const char *const names[] = {
		[LOG_LEVEL_ERR] = "err",
		[LOG_LEVEL_WARN] = "warn",
		[LOG_LEVEL_INFO] = "info",
		[LOG_LEVEL_DEBUG] = "debug",
	};
	struct daemon_conf	*dc = obj;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	for (size_t i = 0; i < NKEYS(names); i++) {
		if (strcmp(str, names[i]) == 0) {
			dc->log_level = (int)i;
			return 0;
		}
	}
	profile_err(ctx, s, "unknown log_level \"%s\" (use err, warn, info "
	    "or debug)", profile_q(str));
	return -1;
}

/* A file the daemon writes (results, hdr_log): a non-empty path. */
static int
profile_read_path(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	const char	*str;
	char		**field;
	const char	*name = config_setting_name(s);

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (*str == '\0') {
		profile_err(ctx, s, "%s must not be empty", name);
		return -1;
	}
	field = strcmp(name, "results") == 0 ?
	    &((struct daemon_conf *)obj)->results :
	    strcmp(name, "summary") == 0 ?
	    &((struct daemon_conf *)obj)->summary :
	    &((struct daemon_conf *)obj)->hdr_log;
	free(*field);
	*field = xstrdup(str);
	return 0;
}

/* metrics_listen = "ADDRESS:PORT": a numeric address to serve /metrics. */
static int
profile_read_metrics(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct daemon_conf	*dc = obj;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const char		*str;
	char			 why[256];

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (parse_target(str, &ss, &sslen, why, sizeof(why)) == -1) {
		profile_err(ctx, s, "metrics_listen: %s", why);
		return -1;
	}
	free(dc->metrics_listen);
	dc->metrics_listen = xstrdup(str);
	return 0;
}

/*
 * host = "NAME": the value of the host label on every /metrics series.
 * It goes into the page as it is (between quotes), so it must need no
 * escaping there and read the same in every tool: printable ASCII, no
 * quote, no backslash, and short.  Without it the daemon takes the
 * machine's host name (metrics.c).
 */
static int
profile_read_host(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct daemon_conf	*dc = obj;
	const char		*str;
	size_t			 len;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (*str == '\0') {
		profile_err(ctx, s, "host must not be empty");
		return -1;
	}
	if ((len = strlen(str)) > PROFILE_HOST_MAX) {
		profile_err(ctx, s, "host \"%s\" is too long (%zu bytes, at "
		    "most %d)", profile_q(str), len, PROFILE_HOST_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)str[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
			profile_err(ctx, s, "host \"%s\": byte %zu (0x%02x) "
			    "is %s (use printable ASCII without quotes or "
			    "backslashes)", profile_q(str), i + 1, c,
			    c == '"' ? "a quote" : c == '\\' ? "a backslash" :
			    "not printable ASCII");
			return -1;
		}
	}
	free(dc->host);
	dc->host = xstrdup(str);
	return 0;
}

static void
profile_daemon_defaults(struct daemon_conf *dc)
{
	dc->socket = xstrdup(LOADD_SOCKET_DEFAULT);
	dc->socket_mode = 0660;
	dc->status_socket_mode = 0660;
	dc->workers = 0;
	dc->stats_interval = 1;
	dc->log_level = -1;
	dc->max_clients = 64;
	dc->client_timeout = 10;
	dc->drain_timeout = 5;
	dc->io_uring = true;
}

static void
profile_read_daemon(struct profile_ctx *ctx, const config_setting_t *s,
    struct daemon_conf *dc)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		profile_err(ctx, s, "wrong type: daemon must be a group "
		    "{ ... }");
		return;
	}
	ctx->what = "daemon";
	profile_read_group(ctx, s, profile_daemon_keys,
	    NKEYS(profile_daemon_keys), dc);
	ctx->what = NULL;
}

/* -------------------------------------------------------------- loads */

static int
profile_read_name(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (!load_name_valid(str)) {
		profile_err_plain(ctx, s, "invalid load name \"%s\" (1 to %d "
		    "letters, digits, '_', '.' or '-', starting with a "
		    "letter)", profile_q(str), LOAD_NAME_MAX - 1);
		return -1;
	}
	snprintf(lc->name, sizeof(lc->name), "%s", str);
	return 0;
}

/*
 * One destination.  "unix:/path" must name a socket that exists now: a
 * typo in a path is a mistake to report, not a server that is down.
 */
static int
profile_target_parse(struct profile_ctx *ctx, const config_setting_t *s,
    const char *str, struct target_conf *tc)
{
	char			 why[TARGET_STR_MAX + 128];
	struct sockaddr_un	*sun = (struct sockaddr_un *)&tc->addr;
	struct stat		 st;
	const char		*path;

	memset(tc, 0, sizeof(*tc));
	if (strncmp(str, "unix:", 5) == 0) {
		path = str + 5;
		if (*path == '\0') {
			profile_err(ctx, s, "target \"%s\": no socket path",
			    profile_q(str));
			return -1;
		}
		if (strlen(path) >= sizeof(sun->sun_path)) {
			profile_err(ctx, s, "target \"%s\": socket path longer "
			    "than %zu bytes", profile_q(str),
			    sizeof(sun->sun_path) - 1);
			return -1;
		}
		if (stat(path, &st) == -1) {
			profile_err(ctx, s, "target \"%s\": %s", profile_q(str),
			    strerror(errno));
			return -1;
		}
		if (!S_ISSOCK(st.st_mode)) {
			profile_err(ctx, s, "target \"%s\": not a socket",
			    profile_q(str));
			return -1;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, path, strlen(path) + 1);
		tc->addrlen = (socklen_t)(offsetof(struct sockaddr_un,
		    sun_path) + strlen(path) + 1);
	} else {
		const char *end;

		if (parse_target(str, &tc->addr, &tc->addrlen, why,
		    sizeof(why)) == -1) {
			profile_err(ctx, s, "%s", why);
			return -1;
		}
		/* The host as written, brackets off: SNI's default. */
		if (str[0] == '[') {
			end = strchr(str, ']');
			memcpy(tc->host, str + 1, (size_t)(end - str - 1));
		} else {
			end = strrchr(str, ':');
			memcpy(tc->host, str, (size_t)(end - str));
		}
	}
	/* parse_target refuses anything that would not fit. */
	snprintf(tc->str, sizeof(tc->str), "%s", str);
	return 0;
}

static void
profile_set_targets(struct load_conf *lc, struct target_conf *v, int n)
{
	free(lc->targets);
	lc->targets = v;
	lc->ntargets = n;
	snprintf(lc->target, sizeof(lc->target), "%s", v[0].str);
}

static int
profile_read_target(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	struct target_conf	*tc;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	tc = xcalloc(1, sizeof(*tc));
	if (profile_target_parse(ctx, s, str, tc) == -1) {
		free(tc);
		return -1;
	}
	profile_set_targets(lc, tc, 1);
	return 0;
}

/* Objectives a load has at most (model/objective.h). */
#define PROFILE_OBJECTIVES_MAX	32

/*
 * objectives = ( "latency.p99 < 5ms", "errors.rate < 0.1%" ): pass/fail
 * conditions, each checked here for its grammar (model/objective.h).
 */
static int
profile_read_objectives(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	char			 why[OBJ_WHY_MAX];
	int			 n, bad = 0;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		profile_err(ctx, s, "wrong type: objectives must be a list of "
		    "strings ( \"latency.p99 < 5ms\", ... )");
		return -1;
	}
	if ((n = config_setting_length(s)) > PROFILE_OBJECTIVES_MAX) {
		profile_err(ctx, s, "objectives has %d entries, at most %d", n,
		    PROFILE_OBJECTIVES_MAX);
		return -1;
	}
	free(lc->objectives);
	lc->objectives = n > 0 ? xcalloc((size_t)n,
	    sizeof(*lc->objectives)) : NULL;
	lc->nobjectives = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s,
		    (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			profile_err(ctx, e, "wrong type: objective #%d must be "
			    "a string", i + 1);
			bad = 1;
			continue;
		}
		if (objective_parse(config_setting_get_string(e),
		    key_err_kinds, KEY_ERR_KINDS,
		    &lc->objectives[lc->nobjectives], why, sizeof(why)) == -1) {
			profile_err(ctx, e, "objective #%d: %s", i + 1, why);
			bad = 1;
			continue;
		}
		lc->nobjectives++;
	}
	return bad ? -1 : 0;
}

/* targets = [ "127.0.0.1:8080", "127.0.0.1:8081" ]: spread evenly. */
static int
profile_read_targets(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	struct target_conf	*v;
	const char		*str;
	int			 n, bad = 0;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		profile_err(ctx, s, "wrong type: targets must be a list of "
		    "strings [ \"HOST:PORT\", ... ]");
		return -1;
	}
	if ((n = config_setting_length(s)) == 0) {
		profile_err(ctx, s, "targets is empty");
		return -1;
	}
	if (n > TARGETS_MAX) {
		profile_err(ctx, s, "targets has %d entries, at most %d", n,
		    TARGETS_MAX);
		return -1;
	}
	v = xcalloc((size_t)n, sizeof(*v));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s,
		    (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			profile_err(ctx, e, "wrong type: target #%d must be a "
			    "string", i + 1);
			bad = 1;
			continue;
		}
		str = config_setting_get_string(e);
		if (profile_target_parse(ctx, e, str, &v[i]) == -1) {
			bad = 1;
			continue;
		}
		for (int j = 0; j < i; j++) {
			if (strcmp(v[j].str, str) == 0) {
				profile_err(ctx, e, "duplicate target \"%s\" "
				    "(same as target #%d)", profile_q(str),
				    j + 1);
				bad = 1;
				break;
			}
		}
	}
	if (bad) {
		free(v);
		return -1;
	}
	profile_set_targets(lc, v, n);
	return 0;
}

static int
profile_read_protocol(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	static const char *const names[] = { "tcp", "tls", "udp" };
	struct load_conf	*lc = obj;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	for (size_t i = 0; i < NKEYS(names); i++) {
		if (strcmp(str, names[i]) == 0) {
			lc->protocol = (enum protocol_kind)i;
			return 0;
		}
	}
	profile_err(ctx, s, "unknown protocol \"%s\" (use \"tcp\", \"tls\" or "
	    "\"udp\")", profile_q(str));
	return -1;
}

/* The field of tls_conf a tls_* string key fills. */
static char **
profile_tls_field(struct load_conf *lc, const char *name)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} f[] = {
		{ "tls_ca", offsetof(struct tls_conf, ca) },
		{ "tls_server_name", offsetof(struct tls_conf, server_name) },
		{ "tls_ciphers", offsetof(struct tls_conf, ciphers) },
		{ "tls_ciphersuites", offsetof(struct tls_conf, ciphersuites) },
		{ "tls_groups", offsetof(struct tls_conf, groups) },
		{ "tls_cert", offsetof(struct tls_conf, cert) },
		{ "tls_key", offsetof(struct tls_conf, key) },
	};

	for (size_t i = 0; i < NKEYS(f); i++) {
		if (strcmp(f[i].name, name) == 0)
			return (char **)((char *)&lc->tls + f[i].off);
	}
	return NULL;
}

static int
profile_read_tls_str(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	const char	*str, *name = config_setting_name(s);
	char		**field = profile_tls_field(obj, name);

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (*str == '\0' || strlen(str) > 4096) {
		profile_err(ctx, s, "%s must be 1 to 4096 characters", name);
		return -1;
	}
	free(*field);
	*field = xstrdup(str);
	return 0;
}

/*
 * tls_ca, tls_cert, tls_key: a PEM file, relative to the profile's
 * directory, checked now (a regular file that holds what it should), so
 * a wrong file is a FILE:LINE error and not a failure at every connect.
 */
static int
profile_read_tls_file(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	const char	*str, *name = config_setting_name(s);
	char		**field = profile_tls_field(obj, name);
	char		*path, why[256];

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (*str == '\0') {
		profile_err(ctx, s, "%s must not be empty", name);
		return -1;
	}
	if (str[0] == '/' || ctx->dir == NULL)
		path = xstrdup(str);
	else
		path = xasprintf("%s/%s", ctx->dir, str);
	if (tls_pem_check(path, strcmp(name, "tls_key") == 0 ? TLS_PEM_KEY :
	    TLS_PEM_CERT, why, sizeof(why)) == -1) {
		profile_err(ctx, s, "%s \"%s\": %s", name, profile_q(str), why);
		free(path);
		return -1;
	}
	free(*field);
	*field = path;
	return 0;
}

static int
profile_read_tls_version(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	const char		*str, *name = config_setting_name(s);
	int			 v;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if ((v = tls_version_parse(str)) == 0) {
		profile_err(ctx, s, "%s: unknown TLS version \"%s\" (use "
		    "\"1.2\" or \"1.3\")", name, profile_q(str));
		return -1;
	}
	if (strcmp(name, "tls_min_version") == 0)
		lc->tls.min_version = v;
	else
		lc->tls.max_version = v;
	return 0;
}

/* tls_alpn = [ "h2", "http/1.1" ]: kept in the wire format. */
static int
profile_read_tls_alpn(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	char			*wire;
	size_t			 len = 0;
	int			 n;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		profile_err(ctx, s, "wrong type: tls_alpn must be a list of "
		    "strings [ \"h2\", \"http/1.1\" ]");
		return -1;
	}
	n = config_setting_length(s);
	if (n == 0 || n > PROFILE_ALPN_MAX) {
		profile_err(ctx, s, "tls_alpn must name 1 to %d protocols",
		    PROFILE_ALPN_MAX);
		return -1;
	}
	wire = xmalloc((size_t)n * 256);
	for (int i = 0; i < n; i++) {
		const config_setting_t	*e = config_setting_get_elem(s,
					    (unsigned)i);
		const char		*p;
		size_t			 plen;

		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    (plen = strlen(p = config_setting_get_string(e))) == 0 ||
		    plen > 255) {
			profile_err(ctx, e, "tls_alpn #%d must be a string of 1 "
			    "to 255 bytes", i + 1);
			free(wire);
			return -1;
		}
		wire[len++] = (char)plen;
		memcpy(wire + len, p, plen);
		len += plen;
	}
	free(lc->tls.alpn);
	lc->tls.alpn = wire;
	lc->tls.alpn_len = len;
	return 0;
}

static int
profile_read_close(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (strcmp(str, "normal") == 0)
		lc->close = CLOSE_NORMAL;
	else if (strcmp(str, "reset") == 0)
		lc->close = CLOSE_RESET;
	else {
		profile_err(ctx, s, "unknown close \"%s\" (use \"normal\" or "
		    "\"reset\")", profile_q(str));
		return -1;
	}
	return 0;
}

/* pattern = "idle": connect and hold (the same as rate = 0). */
static int
profile_read_pattern(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (strcmp(str, "idle") != 0) {
		profile_err(ctx, s, "unknown pattern \"%s\" (use \"idle\"; "
		    "flood and paced follow from rate)", profile_q(str));
		return -1;
	}
	lc->idle = true;
	return 0;
}

/* The length of a source address, by its family. */
static socklen_t
profile_sockaddr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

/* A numeric IPv4 or IPv6 address, port 0; -1 if it is not one. */
static int
profile_source(const char *str, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, str, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, str, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

static bool
profile_source_unspecified(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/*
 * sources = ["127.0.0.2", "127.0.0.3"]: numeric addresses of this host to
 * connect from.  Whether each has the target's family is checked with the
 * whole load, since target may come after sources.
 */
static int
profile_read_sources(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	struct sockaddr_storage	*v;
	int			 n, bad = 0;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		profile_err(ctx, s, "wrong type: sources must be a list of "
		    "numeric addresses such as [\"127.0.0.2\", "
		    "\"127.0.0.3\"]");
		return -1;
	}
	if ((n = config_setting_length(s)) == 0) {
		profile_err(ctx, s, "sources is empty (leave it out to let "
		    "the kernel choose the source address)");
		return -1;
	}
	if (n > SOURCES_MAX) {
		profile_err(ctx, s, "sources has %d addresses, at most %d",
		    n, SOURCES_MAX);
		return -1;
	}
	v = xcalloc((size_t)n, sizeof(*v));
	for (int i = 0; i < n; i++) {
		const config_setting_t	*e = config_setting_get_elem(s,
					    (unsigned)i);
		const char		*str;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			profile_err(ctx, e, "wrong type: source #%d must be a "
			    "string such as \"127.0.0.2\"", i + 1);
			bad = 1;
			continue;
		}
		str = config_setting_get_string(e);
		if (profile_source(str, &v[i]) == -1) {
			profile_err(ctx, e, "source \"%s\" is not a numeric "
			    "IPv4 or IPv6 address", profile_q(str));
			bad = 1;
			continue;
		}
		if (profile_source_unspecified(&v[i])) {
			profile_err(ctx, e, "source \"%s\" is the unspecified "
			    "address (leave sources out to let the kernel "
			    "choose)", profile_q(str));
			bad = 1;
			continue;
		}
		for (int j = 0; j < i; j++) {
			if (v[j].ss_family == v[i].ss_family &&
			    memcmp(&v[j], &v[i], profile_sockaddr_len(&v[i]))
			    == 0) {
				profile_err(ctx, e, "duplicate source \"%s\" "
				    "(same as source #%d)", profile_q(str),
				    j + 1);
				bad = 1;
				break;
			}
		}
	}
	if (bad) {
		free(v);
		return -1;
	}
	free(lc->sources);
	lc->sources = v;
	lc->nsources = n;
	return 0;
}

static int
profile_read_content(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	/* With messages too it is an error (profile_read_payload). */
	if (strcmp(str, "letters") == 0)
		lc->content = CONTENT_LETTERS;
	else if (strcmp(str, "bytes") == 0)
		lc->content = CONTENT_BYTES;
	else {
		profile_err(ctx, s, "unknown content \"%s\" (use \"letters\" "
		    "or \"bytes\"; for a fixed message give literal = "
		    "\"...\")", profile_q(str));
		return -1;
	}
	return 0;
}

/*
 * libconfig has already decoded the escapes of the string (\n \r \t \f \"
 * \\ \xHH, adjacent strings joined) and hands back a C string, so a NUL
 * byte cannot be part of a literal: libconfig silently drops \x00 (write
 * it in hex: "hex:00").  Hence nothing decodes the string again: "\\n"
 * must stay two bytes.  The readers of literal, messages and payload_file
 * only check their shape: the messages are made once the whole group is
 * read (profile_read_payload), since template may come after them.
 */
static int
profile_message_string(struct profile_ctx *ctx, const config_setting_t *s,
    const char *what)
{
	const char	*str = config_setting_get_string(s);
	size_t		 len;

	if (str == NULL) {
		profile_err(ctx, s, "wrong type: %s must be a string", what);
		return -1;
	}
	if ((len = strlen(str)) == 0) {
		profile_err(ctx, s, "%s must not be empty", what);
		return -1;
	}
	if (len > PROFILE_STRING_MAX) {
		profile_err(ctx, s, "%s is too long (%zu bytes, at most %u in "
		    "a profile; put a larger message in payload_file)", what,
		    len, PROFILE_STRING_MAX);
		return -1;
	}
	return 0;
}

static int
profile_read_literal(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	return profile_message_string(ctx, s, "literal");
}

static int
profile_read_messages(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	char	 what[32];
	int	 n, rv = 0;

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY) {
		profile_err(ctx, s, "wrong type: messages must be a list of "
		    "strings ( \"...\", \"...\" )");
		return -1;
	}
	if ((n = config_setting_length(s)) == 0) {
		profile_err(ctx, s, "messages must not be empty");
		return -1;
	}
	if (n > PAYLOAD_MSGS_MAX) {
		profile_err(ctx, s, "too many messages (%d, at most %d)", n,
		    PAYLOAD_MSGS_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "messages[%d]", i);
		if (profile_message_string(ctx, config_setting_get_elem(s,
		    (unsigned)i), what) == -1)
			rv = -1;
	}
	return rv;
}

static int
profile_read_payload_file(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	const char	*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (*str == '\0') {
		profile_err(ctx, s, "payload_file must not be empty");
		return -1;
	}
	return 0;
}

static int
profile_read_rate(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	static const struct profile_key	 k = { "rate", PROFILE_NUMBER, 0,
					     RATE_MIN, RATE_LIMIT, false,
					     NULL };
	struct load_conf		*lc = obj;
	double				 v;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char	*str = config_setting_get_string(s);

		if (strcmp(str, "flood") == 0) {
			lc->rate = 0;
			return 0;
		}
		profile_err(ctx, s, "rate must be a number or \"flood\" "
		    "(got \"%s\")", profile_q(str));
		return -1;
	}
	if (profile_number(s, &v) == -1) {
		profile_err_number(ctx, s, "a number or \"flood\"");
		return -1;
	}
	if (v == 0) {
		/* Connect and hold: a connection-count soak. */
		lc->rate = 0;
		lc->idle = true;
		return 0;
	}
	if (v < 0) {
		profile_err(ctx, s, "rate must be 0 (idle) or greater (got "
		    "%.15g); for no pacing write rate = \"flood\"", v);
		return -1;
	}
	/*
	 * The engine paces at 1e9 / rate ns: 1e-11 overflowed that into a
	 * flood.  Slower than one message in 1000 s is no schedule.
	 */
	if (v < RATE_MIN) {
		profile_err(ctx, s, "rate must be 0 (idle) or at least %g "
		    "(one message every %g s per connection; got %.15g)",
		    RATE_MIN, 1 / RATE_MIN, v);
		return -1;
	}
	if (profile_range(ctx, s, &k, v) == -1)
		return -1;
	lc->rate = v;
	return 0;
}

static int
profile_read_reconnect(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	struct reconnect_conf	*rc = &lc->reconnect;
	const config_setting_t	*given;
	const char		*saved = ctx->what;
	char			*what;
	uint64_t		 bad;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		profile_err(ctx, s, "wrong type: reconnect must be a group "
		    "{ ... }");
		return -1;
	}
	if (asprintf(&what, "reconnect of %s", saved) == -1)
		fatal("asprintf");
	ctx->what = what;
	bad = profile_read_group(ctx, s, profile_reconnect_keys,
	    NKEYS(profile_reconnect_keys), rc);

	/* Either one may be the default, so blame whichever was written. */
	if (profile_key_ok(profile_reconnect_keys,
	    NKEYS(profile_reconnect_keys), bad, "delay") &&
	    profile_key_ok(profile_reconnect_keys,
	    NKEYS(profile_reconnect_keys), bad, "max_delay") &&
	    rc->max_delay < rc->delay) {
		if ((given = config_setting_get_member(s, "max_delay")) == NULL)
			given = config_setting_get_member(s, "delay");
		profile_err(ctx, given, "max_delay (%.15gs) is below delay "
		    "(%.15gs)", rc->max_delay, rc->delay);
		bad = 1;
	}
	ctx->what = saved;
	free(what);
	return bad == 0 ? 0 : -1;
}

/* expect = { length_prefix = N; offset = N; adjust = N; } */
static int
profile_read_length_prefix(struct profile_ctx *ctx, const config_setting_t *s,
    struct load_conf *lc)
{
	const config_setting_t	*m;
	const char		*name;
	double			 v;
	int			 i;

	lc->lp_offset = 0;
	lc->lp_adjust = 0;
	lc->lp_size = 0;
	for (i = 0; (m = config_setting_get_elem(s, (unsigned)i)) != NULL;
	    i++) {
		name = config_setting_name(m);
		if (profile_number(m, &v) == -1 || v != floor(v)) {
			profile_err(ctx, m, "wrong type: expect %s must be a "
			    "whole number", name);
			return -1;
		}
		if (strcmp(name, "length_prefix") == 0) {
			if (v != 1 && v != 2 && v != 4 && v != 8) {
				profile_err(ctx, m, "expect length_prefix is "
				    "the bytes of the length: 1, 2, 4 or 8 "
				    "(got %.15g)", v);
				return -1;
			}
			lc->lp_size = (unsigned)v;
		} else if (strcmp(name, "offset") == 0) {
			if (v < 0 || v > PROFILE_REPLY_MAX) {
				profile_err(ctx, m, "expect offset must be 0 "
				    "to %d (got %.15g)", PROFILE_REPLY_MAX, v);
				return -1;
			}
			lc->lp_offset = (uint64_t)v;
		} else if (strcmp(name, "adjust") == 0) {
			if (v < -PROFILE_REPLY_MAX || v > PROFILE_REPLY_MAX) {
				profile_err(ctx, m, "expect adjust must be -%d "
				    "to %d (got %.15g)", PROFILE_REPLY_MAX,
				    PROFILE_REPLY_MAX, v);
				return -1;
			}
			lc->lp_adjust = (int64_t)v;
		} else {
			profile_err(ctx, m, "unknown key \"%s\" in expect "
			    "(with length_prefix: offset, adjust)",
				    profile_q(name));
			return -1;
		}
	}
	lc->expect = EXPECT_LENGTH;
	return 0;
}

/*
 * expect = "echo", "http" or "resp"; or a group with exactly one of
 * size = N, until = "DELIM" or match = "BYTES"; or a length prefix.
 */
static int
profile_read_expect(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	static const struct {
		const char		*name;
		enum expect_kind	 kind;
	} named[] = {
		{ "echo", EXPECT_ECHO },
		{ "http", EXPECT_HTTP },
		{ "resp", EXPECT_RESP },
	};
	struct load_conf	*lc = obj;
	const config_setting_t	*m;
	const char		*str, *name;
	size_t			 max;
	double			 v;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		str = config_setting_get_string(s);
		for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
			if (strcmp(str, named[i].name) == 0) {
				lc->expect = named[i].kind;
				return 0;
			}
		}
		profile_err(ctx, s, "unknown expect \"%s\" (use \"echo\", "
		    "\"http\", \"resp\", or a group: { size = N; }, "
		    "{ until = \"...\"; }, { match = \"...\"; } or "
		    "{ length_prefix = N; })", profile_q(str));
		return -1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		profile_err(ctx, s, "wrong type: expect must be \"echo\", "
		    "\"http\", \"resp\" or a group { size = N; }, "
		    "{ until = \"...\"; }, { match = \"...\"; } or "
		    "{ length_prefix = N; }");
		return -1;
	}
	if (config_setting_get_member(s, "length_prefix") != NULL)
		return profile_read_length_prefix(ctx, s, lc);
	if (config_setting_length(s) != 1) {
		profile_err(ctx, s, "expect takes exactly one of size, until, "
		    "match or length_prefix");
		return -1;
	}
	m = config_setting_get_elem(s, 0);
	name = config_setting_name(m);
	if (strcmp(name, "size") == 0) {
		if (profile_number(m, &v) == -1 || v != floor(v)) {
			profile_err(ctx, m, "wrong type: expect size must be a "
			    "whole number");
			return -1;
		}
		if (v < 1 || v > PROFILE_SIZE_MAX) {
			profile_err(ctx, m, "expect size must be 1 to %.15g "
			    "(got %.15g)", PROFILE_SIZE_MAX, v);
			return -1;
		}
		lc->expect = EXPECT_SIZE;
		lc->expect_size = (size_t)v;
		return 0;
	}
	if (strcmp(name, "until") == 0 || strcmp(name, "match") == 0) {
		if ((str = profile_string(ctx, m)) == NULL)
			return -1;
		/* A delimiter is searched for as it streams: kept short. */
		max = name[0] == 'u' ? FRAME_DELIM_MAX : 65536;
		if (*str == '\0' || strlen(str) > max) {
			profile_err(ctx, m, "expect %s must be 1 to %zu bytes",
			    name, max);
			return -1;
		}
		lc->expect = name[0] == 'u' ? EXPECT_UNTIL : EXPECT_MATCH;
		free(lc->expect_bytes);
		lc->expect_bytes = xstrdup(str);
		lc->expect_len = strlen(str);
		return 0;
	}
	profile_err(ctx, m, "unknown key \"%s\" in expect (use size, until, "
	    "match or length_prefix)", profile_q(name));
	return -1;
}

static int
profile_read_arrival(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (strcmp(str, "uniform") == 0)
		lc->arrival = ARRIVAL_UNIFORM;
	else if (strcmp(str, "poisson") == 0)
		lc->arrival = ARRIVAL_POISSON;
	else {
		profile_err(ctx, s, "unknown arrival \"%s\" (use \"uniform\" "
		    "or \"poisson\")", profile_q(str));
		return -1;
	}
	return 0;
}

/* catch_up = "burst" (the default) or "drop". */
static int
profile_read_catch_up(struct profile_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct load_conf	*lc = obj;
	const char		*str;

	if ((str = profile_string(ctx, s)) == NULL)
		return -1;
	if (strcmp(str, "burst") == 0)
		lc->catch_up_drop = false;
	else if (strcmp(str, "drop") == 0)
		lc->catch_up_drop = true;
	else {
		profile_err(ctx, s, "unknown catch_up \"%s\" (use \"burst\" "
		    "or \"drop\")", profile_q(str));
		return -1;
	}
	return 0;
}

static void
profile_load_defaults(struct load_conf *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->connections = 10;
	lc->max_connections = 10000;
	lc->autostart = true;
	lc->connect_rate = 1000;
	lc->connects_inflight = 1024;
	lc->size = 1024;
	lc->content = CONTENT_LETTERS;
	lc->rate = 0;
	lc->max_rate = RATE_LIMIT;
	lc->duration = 0;
	lc->reconnect.delay = 0.1;
	lc->reconnect.max_delay = 10;
	lc->reconnect.backoff = 2.0;
	lc->reconnect.jitter = 0.2;
	lc->connect_timeout = 5;
	lc->nodelay = true;
	lc->expect = EXPECT_NONE;
	lc->inflight = 1;
	lc->reply_timeout = 10;
	lc->max_reply = FRAME_MAX_REPLY_DEFAULT;
	lc->arrival = ARRIVAL_UNIFORM;
	lc->tick = -1;
	lc->protocol = PROTO_TCP;
	lc->tls.verify = true;
	lc->tls.handshake_timeout = 10;
	lc->close = CLOSE_NORMAL;
	lc->burst = 1;
}

/* One message of a load, from a string of literal or messages. */
static void
profile_payload_add(struct profile_ctx *ctx, const config_setting_t *s,
    const char *what, struct load_conf *lc)
{
	struct payload_tmpl	 t;
	char			 why[512];

	if (payload_msg_parse(config_setting_get_string(s), lc->template, &t,
	    why, sizeof(why)) == -1 ||
	    payload_add(&lc->payload, &t, why, sizeof(why)) == -1) {
		profile_err(ctx, s, "%s: %s", what, why);
		payload_tmpl_free(&t);
	}
}

/* payload_file: relative to the profile's directory, as @include is. */
static void
profile_payload_file(struct profile_ctx *ctx, const config_setting_t *s,
    struct load_conf *lc)
{
	const char		*name = config_setting_get_string(s);
	struct payload_tmpl	 t;
	char			*path, *buf, why[1024];
	size_t			 len;
	int			 rv;

	if (name[0] == '/')
		path = xstrdup(name);
	else
		path = xasprintf("%s/%s", ctx->dir, name);
	if (payload_file_read(path, PAYLOAD_FILE_MAX, &buf, &len, why,
	    sizeof(why)) == -1) {
		profile_err(ctx, s, "payload_file: %s", why);
		free(path);
		return;
	}
	if (lc->template)
		rv = payload_tmpl_parse(buf, len, &t, why, sizeof(why));
	else
		rv = payload_tmpl_bytes(buf, len, &t, why, sizeof(why));
	if (rv == -1 || payload_add(&lc->payload, &t, why, sizeof(why)) == -1) {
		profile_err(ctx, s, "payload_file: %s: %s", profile_q(path),
		    why);
		payload_tmpl_free(&t);
	}
	free(buf);
	free(path);
}

/*
 * What a load sends when it is told: literal, messages or payload_file,
 * at most one of them, and then neither size nor content.  Every string
 * goes through payload_msg_parse, so "hex:..." works in each, and fields
 * are looked for only with template = true.
 */
static void
profile_read_payload(struct profile_ctx *ctx, const config_setting_t *group,
    uint64_t bad, struct load_conf *lc)
{
	static const char *const srcs[] = { "literal", "messages",
	    "payload_file" };
	const config_setting_t	*given = NULL, *s;
	const char		*name;
	bool			 same = true;
	char			 what[32];

	for (size_t i = 0; i < NKEYS(srcs); i++) {
		if ((s = config_setting_get_member(group, srcs[i])) == NULL)
			continue;
		if (given == NULL)
			given = s;
		else
			profile_err(ctx, s, "%s and %s cannot be combined "
			    "(give one of literal, messages, payload_file)",
			    config_setting_name(given), srcs[i]);
	}
	if (given == NULL) {
		if (lc->template &&
		    (s = config_setting_get_member(group, "template")) != NULL)
			profile_err(ctx, s, "template = true has nothing to "
			    "expand: give literal, messages or payload_file");
		return;
	}
	name = config_setting_name(given);
	if (config_setting_get_member(group, "size") != NULL)
		profile_err(ctx, given, "%s and size cannot be combined (the "
		    "messages are as long as they are written; size is the "
		    "length of generated content)", name);
	if (config_setting_get_member(group, "content") != NULL)
		profile_err(ctx, given, "%s and content cannot be combined",
		    name);
	if (!profile_key_ok(profile_load_keys, NKEYS(profile_load_keys), bad,
	    name))
		return;		/* its shape was wrong, and said so */

	if (strcmp(name, "payload_file") == 0)
		profile_payload_file(ctx, given, lc);
	else if (strcmp(name, "literal") == 0)
		profile_payload_add(ctx, given, "literal", lc);
	else {
		for (int i = 0; i < config_setting_length(given); i++) {
			snprintf(what, sizeof(what), "messages[%d]", i);
			profile_payload_add(ctx, config_setting_get_elem(given,
			    (unsigned)i), what, lc);
		}
	}
	if (lc->payload.nmsgs == 0)
		return;
	if (lc->template && lc->payload.is_static)
		profile_err(ctx, config_setting_get_member(group, "template"),
		    "template = true, but no message has a field ({seq}, "
		    "{conn}, {load}, {time_us}, {rand:N}): leave it out");
	{
		/* A list is held whole by each worker: one ceiling in all. */
		double total = 0;

		for (unsigned i = 0; i < lc->payload.nmsgs; i++)
			total += (double)lc->payload.msgs[i].nbytes;
		if (total > PAYLOAD_FILE_MAX)
			profile_err(ctx, given, "%s holds %.0f bytes in all, "
			    "at most %u", name, total, PAYLOAD_FILE_MAX);
	}
	lc->content = CONTENT_MESSAGES;
	lc->size = lc->payload.max_len;
	for (unsigned i = 1; i < lc->payload.nmsgs; i++) {
		if (lc->payload.msgs[i].max_len != lc->payload.msgs[0].max_len)
			same = false;
	}
	lc->varying = !lc->payload.is_static || !same;
	if (!lc->payload.is_static && lc->expect == EXPECT_ECHO &&
	    (double)lc->inflight * (double)lc->size > PROFILE_ECHO_KEEP_MAX)
		profile_err(ctx, given, "a template with expect = \"echo\" "
		    "keeps each request in flight to check its reply: "
		    "inflight x the longest message (%d x %zu bytes) must be "
		    "at most %.15g bytes", lc->inflight, lc->size,
		    PROFILE_ECHO_KEEP_MAX);
}

/*
 * How a load's replies end, for model/framing.h: false when they are
 * compared instead (echo, match) or not expected.  f->delim points into
 * lc, which must outlive it.
 */
bool
load_conf_framing(const struct load_conf *lc, struct framing *f)
{
	memset(f, 0, sizeof(*f));
	f->max_reply = lc->max_reply;
	switch (lc->expect) {
	case EXPECT_SIZE:
		f->kind = FRAME_SIZE;
		f->size = lc->expect_size;
		f->max_reply = lc->expect_size;
		return true;
	case EXPECT_UNTIL:
		f->kind = FRAME_UNTIL;
		f->delim = lc->expect_bytes;
		f->delim_len = lc->expect_len;
		return true;
	case EXPECT_HTTP:
		f->kind = FRAME_HTTP;
		f->http_head = lc->http_head;
		return true;
	case EXPECT_RESP:
		f->kind = FRAME_RESP;
		return true;
	case EXPECT_LENGTH:
		f->kind = FRAME_LENGTH;
		f->lp_size = lc->lp_size;
		f->lp_offset = lc->lp_offset;
		f->lp_adjust = lc->lp_adjust;
		return true;
	default:
		return false;
	}
}

static const config_setting_t *profile_blame(const config_setting_t *,
		    const char *, const char *);

/*
 * The framings' keys: expect_status is HTTP's, max_reply a framing's;
 * HTTP requests are HEAD all or none (a HEAD response has no body, and
 * the framing is the load's).
 */
static void
profile_check_replies(struct profile_ctx *ctx, const config_setting_t *group,
    struct load_conf *lc)
{
	const config_setting_t	*s;
	unsigned		 head = 0;
	struct framing		 f;
	const char		*why;

	if ((s = config_setting_get_member(group, "expect_status")) != NULL &&
	    lc->expect != EXPECT_NONE && lc->expect != EXPECT_HTTP)
		profile_err(ctx, s, "expect_status needs expect = \"http\"");
	if ((s = config_setting_get_member(group, "max_reply")) != NULL &&
	    (lc->expect == EXPECT_ECHO || lc->expect == EXPECT_MATCH ||
	    lc->expect == EXPECT_SIZE))
		profile_err(ctx, s, "max_reply has no meaning with expect "
		    "echo, match or size (their replies have a known length)");
	if (lc->protocol == PROTO_UDP && (lc->expect == EXPECT_HTTP ||
	    lc->expect == EXPECT_RESP || lc->expect == EXPECT_LENGTH))
		profile_err(ctx, config_setting_get_member(group, "expect"),
		    "expect http, resp and length_prefix frame a stream: "
		    "not for protocol = \"udp\" (use echo, size or match)");
	if (load_conf_framing(lc, &f) && frame_init(&f, &why) == -1)
		profile_err(ctx, profile_blame(group, "max_reply", "expect"),
		    "expect: %s", why);
	if ((lc->expect == EXPECT_HTTP || lc->expect == EXPECT_RESP) &&
	    lc->content != CONTENT_MESSAGES)
		profile_err(ctx, config_setting_get_member(group, "expect"),
		    "expect = \"%s\" needs requests the server understands: "
		    "literal, messages or payload_file (not generated "
		    "content)", lc->expect == EXPECT_HTTP ? "http" : "resp");
	if (lc->expect != EXPECT_HTTP || lc->content != CONTENT_MESSAGES)
		return;
	for (unsigned i = 0; i < lc->payload.nmsgs; i++) {
		const struct payload_tmpl	*t = &lc->payload.msgs[i];
		const struct payload_seg	*g = &t->segs[0];

		/* The method is the first literal's start, template or not. */
		if (t->nsegs > 0 && g->kind == PF_LITERAL && g->len >= 5 &&
		    memcmp(t->bytes + g->off, "HEAD ", 5) == 0)
			head++;
	}
	lc->http_head = head > 0;
	if (head > 0 && head < lc->payload.nmsgs)
		profile_err(ctx, config_setting_get_member(group, "expect"),
		    "expect = \"http\" with HEAD and other requests in one "
		    "load: a HEAD response has no body, so put HEAD requests "
		    "in a load of their own");
}

/* The setting of key a if written, else of b, else the load itself. */
static const config_setting_t *
profile_blame(const config_setting_t *group, const char *a, const char *b)
{
	const config_setting_t	*s;

	if ((s = config_setting_get_member(group, a)) != NULL)
		return s;
	if ((s = config_setting_get_member(group, b)) != NULL)
		return s;
	return group;
}

static const char *
profile_family(int af)
{
	return af == AF_INET6 ? "IPv6" : af == AF_UNIX ? "a unix socket" :
	    "IPv4";
}

/*
 * Every source must be of every target's family; and an address that is
 * not on this machine is found now, by binding a socket to it, rather
 * than by every connect failing.
 */
static void
profile_check_sources(struct profile_ctx *ctx, const config_setting_t *group,
    const struct load_conf *lc)
{
	const config_setting_t	*s = config_setting_get_member(group,
				    "sources");

	for (int i = 0; i < lc->nsources; i++) {
		const config_setting_t	*e = config_setting_get_elem(s,
					    (unsigned)i);
		const struct sockaddr_storage *src = &lc->sources[i];
		int			 fd;

		for (int t = 0; t < lc->ntargets; t++) {
			if (src->ss_family == lc->targets[t].addr.ss_family)
				continue;
			profile_err(ctx, e, "source \"%s\" is %s but target "
			    "\"%s\" is %s", config_setting_get_string(e),
			    profile_family(src->ss_family),
			    lc->targets[t].str,
			    profile_family(lc->targets[t].addr.ss_family));
			break;
		}
		fd = socket(src->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (bind(fd, (const struct sockaddr *)src,
		    profile_sockaddr_len(src)) == -1 &&
		    errno == EADDRNOTAVAIL)
			profile_err(ctx, e, "source \"%s\" is not an address "
			    "of this machine", config_setting_get_string(e));
		close(fd);
	}
}

/* The setting of the first key of names that was written, or NULL. */
static const config_setting_t *
profile_given(const config_setting_t *group, const char *const *names,
    size_t n)
{
	const config_setting_t	*s;

	for (size_t i = 0; i < n; i++) {
		if ((s = config_setting_get_member(group, names[i])) != NULL)
			return s;
	}
	return NULL;
}

/* What each protocol, target kind and pattern allows. */
static void
profile_check_transport(struct profile_ctx *ctx,
    const config_setting_t *group, struct load_conf *lc)
{
	static const char *const tls_keys[] = { "tls_verify", "tls_ca",
	    "tls_server_name", "tls_alpn", "tls_min_version",
	    "tls_max_version", "tls_ciphers", "tls_ciphersuites",
	    "tls_groups", "tls_cert", "tls_key", "tls_resume",
	    "tls_handshake_timeout" };
	/* A UDP connect() sends nothing and cannot wait or time out. */
	static const char *const stream_keys[] = { "nodelay", "keepalive",
	    "close", "connect_timeout", "connects_inflight" };
	const config_setting_t	*s;
	bool			 unix_target = false;

	for (int t = 0; t < lc->ntargets; t++) {
		if (lc->targets[t].addr.ss_family == AF_UNIX)
			unix_target = true;
	}
	if (lc->protocol != PROTO_TLS) {
		for (size_t i = 0; i < NKEYS(tls_keys); i++) {
			if ((s = config_setting_get_member(group,
			    tls_keys[i])) != NULL)
				profile_err(ctx, s, "%s needs protocol = "
				    "\"tls\"", tls_keys[i]);
		}
	} else {
		if ((lc->tls.cert == NULL) != (lc->tls.key == NULL))
			profile_err(ctx, profile_blame(group, "tls_cert",
			    "tls_key"), "tls_cert and tls_key go together "
			    "(a client certificate and its key)");
		if (lc->tls.min_version != 0 && lc->tls.max_version != 0 &&
		    lc->tls.min_version > lc->tls.max_version)
			profile_err(ctx, profile_blame(group,
			    "tls_min_version", "tls_max_version"),
			    "tls_min_version is above tls_max_version");
		if (!lc->tls.verify && (s = config_setting_get_member(group,
		    "tls_ca")) != NULL)
			profile_err(ctx, s, "tls_ca has no effect with "
			    "tls_verify = false");
		/* Settings OpenSSL refuses are found now, not at each connect. */
		if ((lc->tls.cert == NULL) == (lc->tls.key == NULL)) {
			const char	*key;
			char		 why[256];

			if (tls_conf_check(&lc->tls, &key, why,
			    sizeof(why)) == -1)
				profile_err(ctx, profile_blame(group, key,
				    "protocol"), "%s: OpenSSL refuses it: %s",
				    key, why);
		}
		if (unix_target && lc->tls.verify &&
		    lc->tls.server_name == NULL)
			profile_err(ctx, profile_blame(group, "target",
			    "targets"), "a unix: target has no host name to "
			    "check the certificate against: give "
			    "tls_server_name (or tls_verify = false)");
	}
	if (lc->protocol == PROTO_UDP) {
		for (size_t i = 0; i < NKEYS(stream_keys); i++) {
			if ((s = config_setting_get_member(group,
			    stream_keys[i])) != NULL)
				profile_err(ctx, s, "%s has no meaning for "
				    "protocol = \"udp\"", stream_keys[i]);
		}
		if (unix_target)
			profile_err(ctx, profile_blame(group, "target",
			    "targets"), "protocol = \"udp\" needs HOST:PORT "
			    "targets, not unix:");
		static const char *const what[] = { "size", "literal",
		    "messages", "payload_file" };

		if ((s = profile_given(group, what, NKEYS(what))) == NULL)
			s = group;
		if (lc->size > UDP_SIZE_MAX)
			profile_err(ctx, s, "a UDP message is at most %d bytes "
			    "(%s is %zu)", UDP_SIZE_MAX, lc->varying ?
			    "the longest message" : "size", lc->size);
		if (lc->expect == EXPECT_UNTIL)
			profile_err(ctx, config_setting_get_member(group,
			    "expect"), "expect until has no meaning for "
			    "protocol = \"udp\": each datagram is one reply "
			    "(use echo, size or match)");
		if (lc->expect == EXPECT_SIZE && lc->expect_size >
		    UDP_SIZE_MAX)
			profile_err(ctx, config_setting_get_member(group,
			    "expect"), "a UDP reply is at most %d bytes",
			    UDP_SIZE_MAX);
	}
	if (unix_target) {
		if ((s = config_setting_get_member(group, "sources")) != NULL)
			profile_err(ctx, s, "sources has no meaning for a "
			    "unix: target");
		if ((s = config_setting_get_member(group, "keepalive")) !=
		    NULL)
			profile_err(ctx, s, "keepalive has no meaning for a "
			    "unix: target");
	}
	if (lc->idle) {
		static const char *const busy[] = { "expect", "burst",
		    "messages_per_connection" };

		if ((s = profile_given(group, busy, NKEYS(busy))) != NULL)
			profile_err(ctx, s, "%s has no meaning for an idle "
			    "load (rate = 0 or pattern = \"idle\" sends "
			    "nothing)", config_setting_name(s));
		if ((s = config_setting_get_member(group, "rate")) != NULL &&
		    config_setting_get_member(group, "pattern") != NULL &&
		    lc->rate > 0)
			profile_err(ctx, s, "pattern = \"idle\" sends nothing, "
			    "but rate is %.15g", lc->rate);
		lc->rate = 0;
	} else if (lc->rate == 0 &&
	    (s = config_setting_get_member(group, "burst")) != NULL)
		profile_err(ctx, s, "burst needs a rate (flood sends back "
		    "to back already)");
	else if (lc->expect != EXPECT_NONE && lc->burst > (unsigned)lc->inflight &&
	    (s = config_setting_get_member(group, "burst")) != NULL)
		profile_err(ctx, s, "burst (%u) is above inflight (%d): a burst "
		    "of requests goes out whole, so inflight must hold it",
		    lc->burst, lc->inflight);
	if (lc->lifetime == 0 &&
	    (s = config_setting_get_member(group, "lifetime_jitter")) != NULL)
		profile_err(ctx, s, "lifetime_jitter needs a lifetime");
}

static void
profile_read_load(struct profile_ctx *ctx, const config_setting_t *group,
    int index, struct load_conf *lc)
{
	const struct profile_key	*keys = profile_load_keys;
	size_t				 nkeys = NKEYS(profile_load_keys);
	const config_setting_t		*s;
	char				 what[LOAD_NAME_MAX + 16];
	uint64_t			 bad;
	unsigned			 line;

	(void)profile_locate(ctx, config_setting_source_line(group),
	    &line);
	lc->line = (int)line;

	/*
	 * Name the load in errors before reading it, since its name may
	 * come after the mistake; a load without a good name is "#N".
	 */
	s = config_setting_get_member(group, "name");
	if (s != NULL && config_setting_type(s) == CONFIG_TYPE_STRING &&
	    load_name_valid(config_setting_get_string(s)))
		snprintf(what, sizeof(what), "load \"%s\"",
		    config_setting_get_string(s));
	else
		snprintf(what, sizeof(what), "load #%d", index + 1);
	ctx->what = what;

	bad = profile_read_group(ctx, group, keys, nkeys, lc);

	if (config_setting_get_member(group, "name") == NULL)
		profile_err(ctx, group, "missing key \"name\"");
	if (config_setting_get_member(group, "target") == NULL &&
	    config_setting_get_member(group, "targets") == NULL)
		profile_err(ctx, group, "missing key \"target\" (or "
		    "\"targets\")");
	if (config_setting_get_member(group, "target") != NULL &&
	    (s = config_setting_get_member(group, "targets")) != NULL)
		profile_err(ctx, s, "target and targets cannot be combined");

	profile_read_payload(ctx, group, bad, lc);

	if (profile_key_ok(keys, nkeys, bad, "connections") &&
	    profile_key_ok(keys, nkeys, bad, "max_connections") &&
	    lc->connections > lc->max_connections)
		profile_err(ctx, profile_blame(group, "connections",
		    "max_connections"), "connections (%d) is above "
		    "max_connections (%d)", lc->connections,
		    lc->max_connections);

	/* A connection's source must be of its target's family. */
	if (profile_key_ok(keys, nkeys, bad, "target") &&
	    profile_key_ok(keys, nkeys, bad, "targets") &&
	    profile_key_ok(keys, nkeys, bad, "sources") &&
	    lc->ntargets > 0 && lc->nsources > 0)
		profile_check_sources(ctx, group, lc);
	profile_check_transport(ctx, group, lc);

	if (profile_key_ok(keys, nkeys, bad, "rate") &&
	    profile_key_ok(keys, nkeys, bad, "max_rate")) {
		if (lc->rate > lc->max_rate)
			profile_err(ctx, profile_blame(group, "rate",
			    "max_rate"), "rate (%.15g) is above max_rate "
			    "(%.15g)", lc->rate, lc->max_rate);
		/*
		 * A ceiling below RATE_LIMIT promises that no connection
		 * sends faster, and flood is faster than any rate.
		 */
		if (lc->rate == 0 && !lc->idle && lc->max_rate < RATE_LIMIT)
			profile_err(ctx, profile_blame(group, "rate",
			    "max_rate"), "rate is flood but max_rate is "
			    "%.15g: give a rate of at most max_rate",
			    lc->max_rate);
	}

	profile_check_replies(ctx, group, lc);
	/* Keys that only mean something with a reply to wait for. */
	if (lc->expect == EXPECT_NONE) {
		static const char *const rr[] = { "inflight", "reply_timeout",
		    "max_reply", "expect_status" };

		for (size_t i = 0; i < sizeof(rr) / sizeof(rr[0]); i++) {
			if ((s = config_setting_get_member(group, rr[i])) !=
			    NULL)
				profile_err(ctx, s, "%s needs expect (a load "
				    "that waits for replies)", rr[i]);
		}
	}
	if ((s = config_setting_get_member(group, "arrival")) != NULL &&
	    lc->rate == 0)
		profile_err(ctx, s, "arrival needs a rate (flood has no "
		    "schedule)");
	if ((s = config_setting_get_member(group, "catch_up")) != NULL &&
	    lc->rate == 0)
		profile_err(ctx, s, "catch_up needs a rate (flood has no "
		    "schedule to fall behind)");
	/*
	 * Batching paced sends into ticks costs each message up to a tick of
	 * lateness.  Plain traffic takes a millisecond for a fraction of the
	 * CPU; a load that times replies sends on time unless told.
	 */
	if (lc->tick < 0)
		lc->tick = lc->expect == EXPECT_NONE ? 0.001 : 0;
	ctx->what = NULL;
}

static void
profile_read_loads(struct profile_ctx *ctx, const config_setting_t *s,
    struct profile *prof)
{
	int	 n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY) {
		profile_err(ctx, s, "wrong type: loads must be a list "
		    "( { ... }, { ... } )");
		return;
	}
	if ((n = config_setting_length(s)) == 0) {
		profile_err(ctx, s, "no loads declared (loads is empty)");
		return;
	}
	prof->loads = xcalloc((size_t)n, sizeof(*prof->loads));
	prof->nloads = n;
	for (int i = 0; i < n; i++) {
		const config_setting_t	*g = config_setting_get_elem(s,
					    (unsigned)i);
		struct load_conf	*lc = &prof->loads[i];

		profile_load_defaults(lc);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			profile_err(ctx, g, "wrong type: load #%d must be a "
			    "group { ... }", i + 1);
			continue;
		}
		profile_read_load(ctx, g, i, lc);
		if (lc->name[0] == '\0')
			continue;
		for (int j = 0; j < i; j++) {
			if (strcmp(prof->loads[j].name, lc->name) != 0)
				continue;
			profile_err_plain(ctx,
			    config_setting_get_member(g, "name"),
			    "duplicate load name \"%s\" (first declared at "
			    "line %d)", lc->name, prof->loads[j].line);
			break;
		}
	}
}

/* ------------------------------------------------------------ profile */

/* What kind of file a mode is, for an error that refuses it. */
static const char *
profile_ftype(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "an unknown kind of file";
}

/*
 * Read a profile or an @include file whole: a regular file of at most max
 * bytes.  Nothing else is read, nor waited for: O_NONBLOCK makes the open
 * of a FIFO without a writer return at once (libconfig's fopen() blocked
 * the main thread there for good), and fstat() on what was opened, not
 * stat() on the name, refuses it.  -1 with why (without the file name).
 */
static int
profile_file_read(const char *path, size_t max, char **out, size_t *outlen,
    struct stat *st, char *why, size_t whylen)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;
	int	 fd;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY))
	    == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st->st_mode)) {
		snprintf(why, whylen, "%s", strerror(EISDIR));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, whylen, "%s, not a regular file",
		    profile_ftype(st->st_mode));
		goto fail;
	}
	/* To the end, not st_size: a file may grow while it is read. */
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > (size_t)max + 1)
				cap = (size_t)max + 1;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				fatal("realloc");
		}
		if ((r = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			snprintf(why, whylen, "a profile with its includes is "
			    "at most %zu bytes (%u MiB; put large messages in "
			    "payload_file)", (size_t)PROFILE_TEXT_MAX,
			    PROFILE_TEXT_MAX >> 20);
			goto fail;
		}
	}
	close(fd);
	if (buf == NULL)
		buf = xmalloc(1);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;

fail:
	free(buf);
	close(fd);
	return -1;
}

/* Append n bytes to the text, counting its lines; it stays a C string. */
static void
profile_text_add(struct profile_text *t, const char *p, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t	 cap = t->cap == 0 ? 4096 : t->cap;

		while (t->len + n + 1 > cap)
			cap *= 2;
		t->buf = realloc(t->buf, cap);
		if (t->buf == NULL)
			fatal("realloc");
		t->cap = cap;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	t->buf[t->len] = '\0';
	for (const char *q = p; (q = memchr(q, '\n', (size_t)(p + n - q)))
	    != NULL; q++)
		t->lines++;
}

/* From the text's current line on, lines are src's from line on. */
static void
profile_text_span(struct profile_text *t, size_t src, unsigned line)
{
	struct profile_span	*sp;

	/* A span that would hold no line gives way. */
	if (t->nspans > 0 && t->spans[t->nspans - 1].first == t->lines)
		t->nspans--;
	t->spans = reallocarray(t->spans, t->nspans + 1, sizeof(*t->spans));
	if (t->spans == NULL)
		fatal("reallocarray");
	sp = &t->spans[t->nspans++];
	sp->first = t->lines;
	sp->line = line;
	sp->src = src;
}

static void
profile_text_free(struct profile_text *t)
{
	for (size_t i = 0; i < t->nsrcs; i++)
		free(t->srcs[i]);
	free(t->srcs);
	free(t->spans);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* The directory of path, where its @include directives look. */
static char *
profile_dirname(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*dir;

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	dir = xstrdup(path);
	dir[slash - path] = '\0';
	return dir;
}

/*
 * At the start of a line: the length of an @include directive's opening
 * there, as libconfig's scanner knows it (^[ \t]*@include[ \t]+\"), or 0.
 */
static size_t
profile_directive(const char *p, size_t n)
{
	size_t	 i = 0, ws;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (n - i < 8 || memcmp(p + i, "@include", 8) != 0)
		return 0;
	i += 8;
	ws = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == ws || i == n || p[i] != '"')
		return 0;
	return i + 1;
}

/* A file being expanded, and the one that includes it: for loops. */
struct profile_open {
	dev_t				 dev;
	ino_t				 ino;
	const struct profile_open	*up;
};

static void	profile_expand(struct profile_ctx *, const char *,
		    const struct profile_open *, const char *, unsigned,
		    const char *);

/*
 * The @include at buf[at] (its file name starts at buf[name]): read the
 * name, as libconfig would (\\ and \" are its escapes), and expand the
 * file in its place.  Returns where the scan goes on: after the name.
 */
static size_t
profile_include(struct profile_ctx *ctx, const char *file, size_t src,
    const char *dir, const struct profile_open *me, unsigned line,
    const char *buf, size_t len, size_t name)
{
	struct profile_text	*t = &ctx->text;
	size_t			 i, n = 0;
	char			*inc, *path;
	bool			 blank = true;

	inc = xmalloc(len - name + 1);
	for (i = name; i < len && buf[i] != '"' && buf[i] != '\n'; i++) {
		if (buf[i] == '\\' && i + 1 < len &&
		    (buf[i + 1] == '\\' || buf[i + 1] == '"'))
			i++;
		else if (buf[i] == '\\') {
			profile_note_at(ctx, file, line, "@include: unknown "
			    "escape in the file name (only \\\\ and \\\" are "
			    "known)");
			free(inc);
			while (i < len && buf[i] != '\n')
				i++;
			return i;
		}
		inc[n++] = buf[i];
	}
	inc[n] = '\0';
	if (i == len || buf[i] != '"') {
		profile_note_at(ctx, file, line, "@include \"%s\": no closing "
		    "quote on its line", profile_q(inc));
		free(inc);
		return i;
	}
	i++;		/* the closing quote */
	if (n == 0) {
		profile_note_at(ctx, file, line, "@include \"\": no file name");
		free(inc);
		return i;
	}

	/* Absolute, or relative to the directory of the file it is in. */
	if (inc[0] == '/' || strcmp(dir, ".") == 0)
		path = xstrdup(inc);
	else
		path = xasprintf("%s/%s", dir, inc);
	profile_expand(ctx, path, me, file, line, inc);
	free(path);
	free(inc);

	/*
	 * The rest of the directive's line goes on after the included text,
	 * on a line of its own, which is still this file's line.  There
	 * libconfig must not see an @include at a line's start that it did
	 * not see in the file: an empty comment keeps the line's start away.
	 */
	if (t->len > 0 && t->buf[t->len - 1] != '\n')
		profile_text_add(t, "\n", 1);
	profile_text_span(t, src, line);
	for (size_t j = i; j < len && buf[j] != '\n'; j++) {
		if (strchr(" \t\r\f", buf[j]) == NULL)
			blank = false;
	}
	if (!blank)
		profile_text_add(t, "/**/", 4);
	return i;
}

/*
 * Add the file at path to the text, its @include directives replaced by
 * the files they name, read the same way.  libconfig 1.5 has no hook for
 * its includes, and what it opens itself it opens blindly: a directory
 * (@include "") made its scanner exit(2), which ended the daemon at a
 * reload; a FIFO blocked it; an absolute name never worked.  So it is
 * given the text with no directive left in it, and a file is read only
 * here: a regular file, within PROFILE_TEXT_MAX for all, nested at most
 * PROFILE_INCLUDE_DEPTH deep and never inside itself.  The scan keeps
 * libconfig's states (code, /\* comment *\/, "string") to find the
 * directives exactly where its scanner would.  from and from_line say
 * where the file is included (NULL for the profile), inc as written.
 */
static void
profile_expand(struct profile_ctx *ctx, const char *path,
    const struct profile_open *up, const char *from, unsigned from_line,
    const char *inc)
{
	struct profile_text	*t = &ctx->text;
	struct profile_open	 me;
	struct stat		 st;
	const char		*file, *z;
	char			 why[256], *buf, *dir;
	size_t			 len, i, flushed, src, d;
	unsigned		 line = 1, opened = 0;
	int			 depth = 0;
	enum { IN_CODE, IN_COMMENT, IN_STRING } state = IN_CODE;
	bool			 bol = true;

	for (const struct profile_open *o = up; o != NULL; o = o->up)
		depth++;
	if (depth > PROFILE_INCLUDE_DEPTH) {
		profile_note_at(ctx, from, from_line, "@include \"%s\": "
		    "includes nested more than %d deep", profile_q(inc),
		    PROFILE_INCLUDE_DEPTH);
		return;
	}
	if (profile_file_read(path, PROFILE_TEXT_MAX - t->len, &buf, &len,
	    &st, why, sizeof(why)) == -1) {
		if (from == NULL)
			profile_note_at(ctx, path, 0, "%s", why);
		else
			profile_note_at(ctx, from, from_line, "@include "
			    "\"%s\": %s: %s", profile_q(inc), path, why);
		return;
	}
	for (const struct profile_open *o = up; o != NULL; o = o->up) {
		if (o->dev == st.st_dev && o->ino == st.st_ino) {
			profile_note_at(ctx, from, from_line, "@include "
			    "\"%s\": %s includes itself", profile_q(inc),
			    path);
			free(buf);
			return;
		}
	}

	t->srcs = reallocarray(t->srcs, t->nsrcs + 1, sizeof(*t->srcs));
	if (t->srcs == NULL)
		fatal("reallocarray");
	src = t->nsrcs++;
	t->srcs[src] = xstrdup(path);
	file = t->srcs[src];
	/* libconfig reads a text up to its first NUL. */
	if ((z = memchr(buf, '\0', len)) != NULL) {
		for (const char *q = buf; (q = memchr(q, '\n',
		    (size_t)(z - q))) != NULL; q++)
			line++;
		profile_note_at(ctx, file, line, "a NUL byte: this is not a "
		    "text file");
		free(buf);
		return;
	}
	me.dev = st.st_dev;
	me.ino = st.st_ino;
	me.up = up;
	dir = profile_dirname(path);
	profile_text_span(t, src, 1);

	for (i = flushed = 0; i < len;) {
		char	 c = buf[i];

		if (c == '\n') {
			line++;
			i++;
			bol = true;
			continue;
		}
		switch (state) {
		case IN_CODE:
			if (bol && (d = profile_directive(buf + i,
			    len - i)) > 0) {
				profile_text_add(t, buf + flushed, i - flushed);
				i = flushed = profile_include(ctx, file, src,
				    dir, &me, line, buf, len, i + d);
				bol = false;
				continue;
			}
			if (c == '"') {
				state = IN_STRING;
				opened = line;
				i++;
			} else if (c == '/' && i + 1 < len &&
			    buf[i + 1] == '*') {
				state = IN_COMMENT;
				opened = line;
				i += 2;
			} else if (c == '#' || (c == '/' && i + 1 < len &&
			    buf[i + 1] == '/')) {
				while (i < len && buf[i] != '\n')
					i++;
			} else
				i++;
			break;
		case IN_COMMENT:
			if (c == '*' && i + 1 < len && buf[i + 1] == '/') {
				state = IN_CODE;
				i += 2;
			} else
				i++;
			break;
		case IN_STRING:
			if (c == '"')
				state = IN_CODE;
			else if (c == '\\' && i + 1 < len &&
			    strchr("nrtf\\\"", buf[i + 1]) != NULL)
				i++;	/* an escape: \" does not end it */
			i++;
			break;
		}
		bol = false;
	}
	profile_text_add(t, buf + flushed, len - flushed);
	/*
	 * A comment or a string left open would run on into the file that
	 * follows, where libconfig's scanner would not have it.
	 */
	if (state == IN_COMMENT)
		profile_note_at(ctx, file, opened, "a comment /* opened here "
		    "is not closed by the end of the file");
	else if (state == IN_STRING)
		profile_note_at(ctx, file, opened, "a string opened here is "
		    "not closed by the end of the file");
	free(dir);
	free(buf);
}

/*
 * Parse the text in a child process and tell whether it is valid: 0 if
 * it is; 1 if not, with the text's line and libconfig's words; -1 when no
 * child could be made (then the caller parses anyway).
 *
 * libconfig 1.5 leaks the string token it holds when it meets a syntax
 * error (its grammar has no %destructor): 100 refused reloads of a
 * profile with a 1 MB string before its mistake cost the daemon 98 MB.
 * So a child parses first, and the daemon parses only a text its child
 * found valid: what a failed parse leaks goes with the child.  Whatever
 * else libconfig might do with a bad text (die, loop) happens there too,
 * within PROFILE_PARSE_TIMEOUT.  The child runs only libconfig and
 * _exit(), with every signal blocked: the daemon's handlers are not its.
 */
static int
profile_syntax(const char *text, unsigned *line, char *why, size_t whylen)
{
	sigset_t	 all, old;
	char		 buf[PROFILE_MSG_MAX];
	size_t		 got = 0;
	uint64_t	 deadline;
	int		 fds[2], status = 0, n;
	bool		 eof = false;
	pid_t		 pid;

	*line = 0;
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0) {
		config_t	 cf;

		close(fds[0]);
		config_init(&cf);
		config_set_include_dir(&cf, "/dev/null");
		if (config_read_string(&cf, text) == CONFIG_TRUE)
			n = snprintf(buf, sizeof(buf), "ok");
		else
			n = snprintf(buf, sizeof(buf), "%d %s",
			    config_error_line(&cf),
			    config_error_text(&cf) != NULL ?
			    config_error_text(&cf) : "syntax error");
		if (n > (int)sizeof(buf) - 1)
			n = (int)sizeof(buf) - 1;
		if (write(fds[1], buf, (size_t)n) != n)
			_exit(1);
		_exit(0);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid == -1) {
		close(fds[0]);
		return -1;
	}

	deadline = now_ns() + (uint64_t)PROFILE_PARSE_TIMEOUT * 1000000000;
	while (got < sizeof(buf) - 1) {
		struct pollfd	 pfd = { .fd = fds[0], .events = POLLIN };
		uint64_t	 now = now_ns();
		ssize_t		 r;

		if (now >= deadline)
			break;
		r = poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if ((r = read(fds[0], buf + got, sizeof(buf) - 1 - got)) ==
		    -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			eof = r == 0;
			break;
		}
		got += (size_t)r;
	}
	close(fds[0]);
	if (!eof)
		kill(pid, SIGKILL);
	/* ECHILD too, should SIGCHLD be ignored: the verdict is in buf. */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	buf[got] = '\0';

	if (eof && strcmp(buf, "ok") == 0)
		return 0;
	if (eof && sscanf(buf, "%u %n", line, &n) == 1) {
		snprintf(why, whylen, "%s", buf + n);
		return 1;
	}
	*line = 0;
	if (!eof)
		snprintf(why, whylen, "libconfig took more than %d s to parse "
		    "it", PROFILE_PARSE_TIMEOUT);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "libconfig died parsing it (signal %d)",
		    WTERMSIG(status));
	else
		snprintf(why, whylen, "libconfig could not parse it");
	return 1;
}

/*
 * The profile's text, every @include expanded, parsed into cf: -1 after
 * noting the errors (cf is then not to be destroyed).
 */
static int
profile_parse(struct profile_ctx *ctx, config_t *cf)
{
	const char	*file;
	char		 why[PROFILE_MSG_MAX];
	unsigned	 line;

	ctx->text.lines = 1;
	profile_expand(ctx, ctx->path, NULL, NULL, 0, NULL);
	if (ctx->errn != 0)
		return -1;
	if (ctx->text.buf == NULL)
		profile_text_add(&ctx->text, "", 0);
	if (profile_syntax(ctx->text.buf, &line, why, sizeof(why)) == 1) {
		file = profile_locate(ctx, line, &line);
		profile_note(ctx, file, line, why);
		return -1;
	}
	config_init(cf);
	/* No directive is left; were one, it could open nothing. */
	config_set_include_dir(cf, "/dev/null");
	if (config_read_string(cf, ctx->text.buf) != CONFIG_TRUE) {
		file = profile_locate(ctx, (unsigned)config_error_line(cf),
		    &line);
		profile_note(ctx, file, line, config_error_text(cf) != NULL ?
		    config_error_text(cf) : "syntax error");
		config_destroy(cf);
		return -1;
	}
	return 0;
}

struct profile *
profile_load(const char *path, struct errlist *errs)
{
	struct profile_ctx	 ctx;
	struct profile		*prof;
	config_t		 cf;
	const config_setting_t	*root;
	bool			 have_loads = false, bad;
	char			*dir;

	dir = profile_dirname(path);
	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.dir = dir;
	if (profile_parse(&ctx, &cf) == -1) {
		profile_flush_errors(&ctx, errs);
		profile_text_free(&ctx.text);
		profile_echo_free();
		free(dir);
		return NULL;
	}

	prof = xcalloc(1, sizeof(*prof));
	prof->path = xstrdup(path);
	profile_daemon_defaults(&prof->daemon);

	root = config_root_setting(&cf);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t	*s = config_setting_get_elem(root,
					    (unsigned)i);
		const char		*name = config_setting_name(s);

		if (strcmp(name, "daemon") == 0)
			profile_read_daemon(&ctx, s, &prof->daemon);
		else if (strcmp(name, "loads") == 0) {
			have_loads = true;
			profile_read_loads(&ctx, s, prof);
		} else {
			const char	*best = NULL;
			size_t		 bestd = SIZE_MAX;

			profile_nearest(name, "daemon", &best, &bestd);
			profile_nearest(name, "loads", &best, &bestd);
			if (best != NULL)
				profile_err(&ctx, s, "unknown key \"%s\" at top "
				    "level; did you mean \"%s\"?",
				    profile_q(name), best);
			else
				profile_err(&ctx, s, "unknown key \"%s\" at top "
				    "level (expected daemon or loads)",
				    profile_q(name));
		}
	}
	if (!have_loads)
		profile_err_plain(&ctx, NULL, "no loads declared (add loads = "
		    "( { name = ...; target = ...; } ))");

	config_destroy(&cf);
	free(dir);
	bad = ctx.errn != 0;
	profile_flush_errors(&ctx, errs);
	profile_text_free(&ctx.text);
	profile_echo_free();
	if (bad) {
		profile_free(prof);
		return NULL;
	}
	return prof;
}

void
profile_free(struct profile *prof)
{
	if (prof == NULL)
		return;
	for (int i = 0; i < prof->nloads; i++)
		load_conf_clear(&prof->loads[i]);
	free(prof->loads);
	free(prof->daemon.socket);
	free(prof->daemon.status_socket);
	free(prof->daemon.results);
	free(prof->daemon.hdr_log);
	free(prof->daemon.summary);
	free(prof->daemon.metrics_listen);
	free(prof->daemon.host);
	free(prof->path);
	free(prof);
}

const struct load_conf *
profile_find_load(const struct profile *prof, const char *name)
{
	if (prof == NULL || name == NULL)
		return NULL;
	for (int i = 0; i < prof->nloads; i++) {
		if (strcmp(prof->loads[i].name, name) == 0)
			return &prof->loads[i];
	}
	return NULL;
}

/*
 * Everything but the line it was declared on: moving a load in the file,
 * or editing a comment above it, must not restart it at reload.  The
 * target is compared both as written (what status shows) and as resolved
 * (a name may now resolve elsewhere).
 */
static bool
tls_conf_equal(const struct tls_conf *a, const struct tls_conf *b)
{
	return a->verify == b->verify && str_eq_null(a->ca, b->ca) &&
	    str_eq_null(a->server_name, b->server_name) &&
	    a->alpn_len == b->alpn_len && (a->alpn_len == 0 ||
	    memcmp(a->alpn, b->alpn, a->alpn_len) == 0) &&
	    a->min_version == b->min_version &&
	    a->max_version == b->max_version &&
	    str_eq_null(a->ciphers, b->ciphers) &&
	    str_eq_null(a->ciphersuites, b->ciphersuites) &&
	    str_eq_null(a->groups, b->groups) && str_eq_null(a->cert, b->cert) &&
	    str_eq_null(a->key, b->key) && a->resume == b->resume &&
	    a->handshake_timeout == b->handshake_timeout;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* The strings of a tls_conf (their addresses with P = &). */
#define TLS_CONF_STRINGS(P, t)	\
	P(t)->ca, P(t)->server_name, P(t)->ciphers, P(t)->ciphersuites, \
	P(t)->groups, P(t)->cert, P(t)->key

bool
load_conf_equal(const struct load_conf *a, const struct load_conf *b)
{
	if (strcmp(a->name, b->name) != 0 ||
	    strcmp(a->target, b->target) != 0)
		return false;
	if (a->ntargets != b->ntargets || a->protocol != b->protocol)
		return false;
	for (int i = 0; i < a->ntargets; i++) {
		if (strcmp(a->targets[i].str, b->targets[i].str) != 0 ||
		    a->targets[i].addrlen != b->targets[i].addrlen ||
		    memcmp(&a->targets[i].addr, &b->targets[i].addr,
		    a->targets[i].addrlen) != 0)
			return false;
	}
	if (!tls_conf_equal(&a->tls, &b->tls))
		return false;
	if (a->lifetime != b->lifetime ||
	    a->lifetime_jitter != b->lifetime_jitter ||
	    a->messages_per_connection != b->messages_per_connection ||
	    a->close != b->close || a->burst != b->burst ||
	    a->idle != b->idle || a->keepalive != b->keepalive)
		return false;
	/* A new list, or the same in another order, is a change. */
	if (a->nsources != b->nsources)
		return false;
	for (int i = 0; i < a->nsources; i++) {
		if (a->sources[i].ss_family != b->sources[i].ss_family ||
		    memcmp(&a->sources[i], &b->sources[i],
		    profile_sockaddr_len(&a->sources[i])) != 0)
			return false;
	}
	if (a->connections != b->connections ||
	    a->max_connections != b->max_connections ||
	    a->autostart != b->autostart ||
	    a->connect_rate != b->connect_rate ||
	    a->connects_inflight != b->connects_inflight)
		return false;
	if (a->size != b->size || a->content != b->content ||
	    a->template != b->template || a->varying != b->varying ||
	    !payload_equal(&a->payload, &b->payload))
		return false;
	if (a->rate != b->rate || a->max_rate != b->max_rate ||
	    a->duration != b->duration)
		return false;
	if (a->reconnect.delay != b->reconnect.delay ||
	    a->reconnect.max_delay != b->reconnect.max_delay ||
	    a->reconnect.backoff != b->reconnect.backoff ||
	    a->reconnect.jitter != b->reconnect.jitter)
		return false;
	if (a->connect_timeout != b->connect_timeout ||
	    a->nodelay != b->nodelay)
		return false;
	if (a->expect != b->expect || a->expect_size != b->expect_size ||
	    a->expect_len != b->expect_len ||
	    (a->expect_len > 0 &&
	    memcmp(a->expect_bytes, b->expect_bytes, a->expect_len) != 0))
		return false;
	if (a->max_reply != b->max_reply ||
	    a->expect_status != b->expect_status ||
	    a->http_head != b->http_head || a->lp_size != b->lp_size ||
	    a->lp_offset != b->lp_offset || a->lp_adjust != b->lp_adjust)
		return false;
	if (a->inflight != b->inflight ||
	    a->reply_timeout != b->reply_timeout || a->arrival != b->arrival ||
	    a->catch_up_drop != b->catch_up_drop ||
	    a->tick != b->tick)
		return false;
	return true;
}

struct load_conf *
load_conf_dup(const struct load_conf *lc)
{
	struct load_conf	*copy = xmalloc(sizeof(*copy));

	memcpy(copy, lc, sizeof(*copy));
	payload_dup(&copy->payload, &lc->payload);
	if (lc->nobjectives > 0) {
		copy->objectives = xcalloc((size_t)lc->nobjectives,
		    sizeof(*copy->objectives));
		memcpy(copy->objectives, lc->objectives,
		    (size_t)lc->nobjectives * sizeof(*copy->objectives));
	}
	if (lc->expect_bytes != NULL)
		copy->expect_bytes = xstrdup(lc->expect_bytes);
	copy->targets = xcalloc((size_t)lc->ntargets, sizeof(*copy->targets));
	memcpy(copy->targets, lc->targets, (size_t)lc->ntargets *
	    sizeof(*copy->targets));
	{
		char	**to[] = { TLS_CONF_STRINGS(&, &copy->tls) };

		/* copy's pointers are lc's until replaced here. */
		for (size_t i = 0; i < NKEYS(to); i++)
			*to[i] = dup_or_null(*to[i]);
	}
	if (lc->tls.alpn != NULL) {
		copy->tls.alpn = xmalloc(lc->tls.alpn_len);
		memcpy(copy->tls.alpn, lc->tls.alpn, lc->tls.alpn_len);
	}
	if (lc->nsources > 0) {
		copy->sources = xcalloc((size_t)lc->nsources,
		    sizeof(*copy->sources));
		memcpy(copy->sources, lc->sources, (size_t)lc->nsources *
		    sizeof(*copy->sources));
	}
	return copy;
}

void
load_conf_free(struct load_conf *lc)
{
	if (lc == NULL)
		return;
	load_conf_clear(lc);
	free(lc);
}

void
load_conf_clear(struct load_conf *lc)
{
	char	*strs[] = { TLS_CONF_STRINGS(, &lc->tls) };

	for (size_t i = 0; i < NKEYS(strs); i++)
		free(strs[i]);
	free(lc->tls.alpn);
	free(lc->targets);
	payload_free(&lc->payload);
	free(lc->expect_bytes);
	free(lc->sources);
	free(lc->objectives);
}
