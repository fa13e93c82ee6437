/* SPDX-License-Identifier: ISC */
/*
 * test_framing.c -- the reply parsers of model/framing.c.  Every stream
 * is fed whole, split in two at every byte and one byte at a time, each
 * piece in a buffer of its own size (so that a read past a piece shows
 * under ASan or valgrind); all must give the same replies, ending at the
 * same offsets, with the same status, close and server_error, or the
 * same error.
 *
 * `test_framing bench resp|http [N]` skips the tests and frames N
 * replies (+PONG, or nginx-like 1 KiB responses) for callgrind or perf
 * (run it with N and with 0, subtract).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/framing.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define RUN_MAX		64	/* replies in one stream */
#define BUF_MAX		(64 * 1024)

/* A literal and its length (it may hold NULs). */
#define L(s)		(s), sizeof(s) - 1

/* What feeding a stream gave. */
struct run {
	size_t			 n;		/* replies */
	size_t			 end[RUN_MAX];	/* where each ended */
	struct frame_reply	 rep[RUN_MAX];
	bool			 failed;
	struct frame_reply	 err;
	size_t			 pending;	/* bytes of an unended reply */
};

/* One reply expected. */
struct want {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	int		 status;
	bool		 close;
	bool		 server_error;
};

/* A growing test stream. */
struct buf {
	char	 b[BUF_MAX];
	size_t	 len;
};

static void
buf_add(struct buf *b, const char *s, size_t len)
{
	assert_true(b->len + len <= sizeof(b->b));
	memcpy(b->b + b->len, s, len);
	b->len += len;
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_fill(struct buf *b, char c, size_t n)
{
	assert_true(b->len + n <= sizeof(b->b));
	memset(b->b + b->len, c, n);
	b->len += n;
}

static void __attribute__((format(printf, 2, 3)))
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = vsnprintf(b->b + b->len, sizeof(b->b) - b->len, fmt, ap);
	va_end(ap);
	assert_true(r >= 0 && (size_t)r < sizeof(b->b) - b->len);
	b->len += r;
}

static struct framing
mk(enum frame_kind kind, uint64_t max_reply)
{
	struct framing	 f;
	const char	*why = NULL;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.max_reply = max_reply;
	if (kind == FRAME_HTTP || kind == FRAME_RESP) {
		if (frame_init(&f, &why) != 0)
			fail_msg("frame_init: %s", why);
	}
	return f;
}

static void
init_ok(struct framing *f)
{
	const char	*why = NULL;

	if (frame_init(f, &why) != 0)
		fail_msg("frame_init: %s", why);
}

static void
init_bad(struct framing *f, const char *substr)
{
	const char	*why = NULL;

	assert_int_equal(frame_init(f, &why), -1);
	assert_non_null(why);
	if (strstr(why, substr) == NULL)
		fail_msg("frame_init: \"%s\" lacks \"%s\"", why, substr);
}

/* Feed s[0 .. len): a first piece of cut bytes (if any), then step. */
static void
run_feed(const struct framing *f, const char *s, size_t len, size_t cut,
    size_t step, struct run *r)
{
	struct frame_state	 st;
	struct frame_reply	 rep;
	enum frame_rc		 rc;
	size_t			 base = 0, plen, off, used, last = 0;
	char			*piece;

	memset(r, 0, sizeof(*r));
	memset(&st, 0xa5, sizeof(st));
	frame_reset(&st);
	while (base < len) {
		plen = base == 0 && cut > 0 ? cut : step;
		if (plen > len - base)
			plen = len - base;
		piece = malloc(plen);
		assert_non_null(piece);
		memcpy(piece, s + base, plen);
		for (off = 0; off < plen;) {
			memset(&rep, 0, sizeof(rep));
			rep.status = -7;
			rep.why = "untouched";
			rc = (enum frame_rc)77;
			used = frame_feed(f, &st, piece + off, plen - off, &rc,
			    &rep);
			switch (rc) {
			case FRAME_DONE:
				assert_true(used > 0 && used <= plen - off);
				assert_int_equal(rep.err, FRAME_OK);
				assert_null(rep.why);
				assert_true(r->n < RUN_MAX);
				last = r->end[r->n] = base + off + used;
				r->rep[r->n++] = rep;
				off += used;
				break;
			case FRAME_MORE:
				assert_int_equal(used, plen - off);
				assert_int_equal(rep.status, -7);
				off = plen;
				break;
			case FRAME_ERROR:
				assert_int_not_equal(rep.err, FRAME_OK);
				assert_non_null(rep.why);
				assert_true(used <= plen - off);
				r->failed = true;
				r->err = rep;
				free(piece);
				return;
			default:
				fail_msg("rc %d", (int)rc);
			}
		}
		free(piece);
		base += plen;
	}
	r->pending = len - last;
}

static void
run_same(const struct run *a, const struct run *b, const char *how,
    size_t cut)
{
	size_t	 i;

	if (a->n != b->n || a->failed != b->failed ||
	    a->pending != b->pending)
		fail_msg("%s %zu: %zu replies%s, pending %zu; whole: %zu%s, "
		    "pending %zu", how, cut, b->n, b->failed ? ", error" : "",
		    b->pending, a->n, a->failed ? ", error" : "", a->pending);
	for (i = 0; i < a->n; i++) {
		if (a->end[i] != b->end[i] ||
		    a->rep[i].status != b->rep[i].status ||
		    a->rep[i].close != b->rep[i].close ||
		    a->rep[i].server_error != b->rep[i].server_error)
			fail_msg("%s %zu: reply %zu ends at %zu status %d "
			    "close %d error %d; whole: %zu %d %d %d", how, cut,
			    i, b->end[i], b->rep[i].status, b->rep[i].close,
			    b->rep[i].server_error, a->end[i],
			    a->rep[i].status, a->rep[i].close,
			    a->rep[i].server_error);
	}
	if (a->failed && (a->err.err != b->err.err ||
	    strcmp(a->err.why, b->err.why) != 0 ||
	    a->err.status != b->err.status))
		fail_msg("%s %zu: error %s \"%s\" status %d; whole: %s \"%s\" "
		    "status %d", how, cut, frame_err_name(b->err.err),
		    b->err.why, b->err.status, frame_err_name(a->err.err),
		    a->err.why, a->err.status);
}

/* s whole into *r; split at every byte and bytewise must agree. */
static void
run_all(const struct framing *f, const char *s, size_t len, struct run *r)
{
	struct run	*o;
	size_t		 cut;

	o = malloc(sizeof(*o));
	assert_non_null(o);
	run_feed(f, s, len, 0, SIZE_MAX, r);
	run_feed(f, s, len, 0, 1, o);
	run_same(r, o, "bytewise", 0);
	for (cut = 1; cut < len; cut++) {
		run_feed(f, s, len, cut, SIZE_MAX, o);
		run_same(r, o, "cut at", cut);
	}
	free(o);
}

static void
check_reply(const struct run *r, size_t i, const struct want *w)
{
	if (r->rep[i].status != w->status ||
	    r->rep[i].close != w->close ||
	    r->rep[i].server_error != w->server_error)
		fail_msg("reply %zu: status %d close %d server_error %d, "
		    "want %d %d %d", i, r->rep[i].status, r->rep[i].close,
		    r->rep[i].server_error, w->status, w->close,
		    w->server_error);
}

/*
 * Each reply alone, then all of them joined in one stream: each must end
 * where it does, with the fields wanted.
 */
static void
expect_replies(const struct framing *f, const struct want *w, size_t nw)
{
	struct buf	*b;
	struct run	 r;
	size_t		 i, len, at = 0;

	b = calloc(1, sizeof(*b));
	assert_non_null(b);
	for (i = 0; i < nw; i++) {
		len = w[i].len != 0 ? w[i].len : strlen(w[i].text);
		run_all(f, w[i].text, len, &r);
		if (r.failed)
			fail_msg("reply %zu: %s: %s", i,
			    frame_err_name(r.err.err), r.err.why);
		if (r.n != 1 || r.end[0] != len)
			fail_msg("reply %zu: %zu replies, the first ending at "
			    "%zu of %zu", i, r.n, r.n > 0 ? r.end[0] : 0, len);
		check_reply(&r, 0, &w[i]);
		buf_add(b, w[i].text, len);
	}
	run_all(f, b->b, b->len, &r);
	if (r.failed)
		fail_msg("joined: %s: %s", frame_err_name(r.err.err),
		    r.err.why);
	assert_int_equal(r.n, nw);
	assert_int_equal(r.pending, 0);
	for (i = 0; i < nw; i++) {
		at += w[i].len != 0 ? w[i].len : strlen(w[i].text);
		if (r.end[i] != at)
			fail_msg("joined: reply %zu ends at %zu, want %zu", i,
			    r.end[i], at);
		check_reply(&r, i, &w[i]);
	}
	free(b);
}

/* s ends nok replies, then breaks with err (and why holding substr). */
static void
expect_error(const struct framing *f, const char *s, size_t len, size_t nok,
    enum frame_err err, const char *substr)
{
	struct run	 r;

	run_all(f, s, len, &r);
	if (!r.failed)
		fail_msg("no error: %zu replies, %zu bytes pending", r.n,
		    r.pending);
	if (r.err.err != err || r.n != nok)
		fail_msg("error %s \"%s\" after %zu replies, want %s after %zu",
		    frame_err_name(r.err.err), r.err.why, r.n,
		    frame_err_name(err), nok);
	if (substr != NULL && strstr(r.err.why, substr) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", r.err.why, substr);
}

static void
expect_error_str(const struct framing *f, const char *s, enum frame_err err,
    const char *substr)
{
	expect_error(f, s, strlen(s), 0, err, substr);
}

/* s is an unended reply: all used, MORE, no reply. */
static void
expect_more(const struct framing *f, const char *s, size_t len)
{
	struct run	 r;

	run_all(f, s, len, &r);
	if (r.failed)
		fail_msg("%s: %s", frame_err_name(r.err.err), r.err.why);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.pending, len);
}

#define NGINX_HEAD							\
	"HTTP/1.1 200 OK\r\n"						\
	"Server: nginx/1.22.1\r\n"					\
	"Date: Tue, 04 Jun 2024 10:00:00 GMT\r\n"			\
	"Content-Type: text/html\r\n"					\
	"Content-Length: 1024\r\n"					\
	"Last-Modified: Mon, 03 Jun 2024 09:00:00 GMT\r\n"		\
	"Connection: keep-alive\r\n"					\
	"ETag: \"665d8a10-400\"\r\n"					\
	"Accept-Ranges: bytes\r\n"					\
	"\r\n"

static void
nginx_reply(struct buf *b)
{
	buf_str(b, NGINX_HEAD);
	buf_fill(b, 'x', 1024);
}

static void
test_api(void **state)
{
	struct framing		 f;
	struct frame_state	 st;
	struct frame_reply	 rep;
	enum frame_rc		 rc = FRAME_ERROR;

	(void)state;
	assert_string_equal(frame_err_name(FRAME_OK), "ok");
	assert_string_equal(frame_err_name(FRAME_TOO_LARGE), "too_large");
	assert_string_equal(frame_err_name(FRAME_SYNTAX), "syntax");
	assert_string_equal(frame_err_name(FRAME_BAD_LENGTH), "bad_length");
	assert_string_equal(frame_err_name(FRAME_NESTING), "nesting");
	assert_string_equal(frame_err_name(FRAME_UNSUPPORTED), "unsupported");
	assert_string_equal(frame_err_name((enum frame_err)99), "unknown");
	assert_true(sizeof(struct frame_state) <= 192);

	f = mk(FRAME_HTTP, 0);
	assert_int_equal(f.fr_max, FRAME_MAX_REPLY_DEFAULT);
	f = mk(FRAME_RESP, 77);
	assert_int_equal(f.fr_max, 77);
	memset(&f, 0, sizeof(f));
	f.kind = (enum frame_kind)42;
	init_bad(&f, "unknown framing");
	assert_int_equal(frame_init(&f, NULL), -1);

	/* Nothing to feed: MORE, nothing used. */
	f = mk(FRAME_RESP, 0);
	frame_reset(&st);
	assert_int_equal(frame_feed(&f, &st, "+", 0, &rc, &rep), 0);
	assert_int_equal(rc, FRAME_MORE);

	/* After an error the state is at the start of a reply again. */
	assert_int_equal(frame_feed(&f, &st, "?", 1, &rc, &rep), 0);
	assert_int_equal(rc, FRAME_ERROR);
	assert_int_equal(rep.err, FRAME_SYNTAX);
	assert_int_equal(frame_feed(&f, &st, "+OK\r\n", 5, &rc, &rep), 5);
	assert_int_equal(rc, FRAME_DONE);
	/* And after frame_reset() in the middle of one. */
	assert_int_equal(frame_feed(&f, &st, "$10\r\nab", 7, &rc, &rep), 7);
	assert_int_equal(rc, FRAME_MORE);
	frame_reset(&st);
	assert_int_equal(frame_feed(&f, &st, ":1\r\n+", 5, &rc, &rep), 4);
	assert_int_equal(rc, FRAME_DONE);
}

static void
test_http_basic(void **state)
{
	struct framing	 f = mk(FRAME_HTTP, 0);
	struct buf	*b;
	const struct want w[] = {
		{ "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", 0, 200,
		    false, false },
		{ "HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n", 0,
		    404, false, false },
		{ "HTTP/1.1 200\r\nContent-Length:   7  \r\n\r\n1234567", 0,
		    200, false, false },
		{ "HTTP/1.1 200\nContent-Length: 3\n\nabc", 0, 200, false,
		    false },
		{ "HTTP/1.1 200\r\nContent-Length: 0000000000000000000012\r\n"
		    "\r\n0123456789ab", 0, 200, false, false },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 72\r\n\r\n"
		    "0123456789012345678901234567890123456789"
		    "01234567890123456789012345678901", 0, 200, false, false },
		{ "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0, 200,
		    true, false },
		{ "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
		    "Content-Length: 2\r\n\r\nhi", 0, 200, false, false },
		{ "HTTP/1.0 200 OK\r\nConnection: keep alive\r\n"
		    "Content-Length: 2\r\n\r\nhi", 0, 200, true, false },
		{ "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
		    "Content-Length: 0\r\n\r\n", 0, 503, true, false },
		{ "HTTP/1.1 200 OK\r\nCONNECTION: upgrade,, CLOSE \r\n"
		    "Content-Length: 1\r\n\r\nx", 0, 200, true, false },
		{ "HTTP/1.1 200 OK\r\nConnection: closed\r\n"
		    "Connection: clos\r\nContent-Length: 1\r\n\r\nx", 0, 200,
		    false, false },
		{ "HTTP/1.1 200 OK\r\nConnection: clo se, x close\r\n"
		    "Connection: close\0\r\nContent-Length: 1\r\n\r\nx",
		    sizeof("HTTP/1.1 200 OK\r\nConnection: clo se, x close\r\n"
		    "Connection: close\0\r\nContent-Length: 1\r\n\r\nx") - 1,
		    200, false, false },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		    "Content-Length: 5\r\n\r\nhello", 0, 200, false, false },
		/* Names that only look like framing headers. */
		{ "HTTP/1.1 299 X\r\nContent-Lengthy: 5\r\nContent-Type: x\r\n"
		    "Connections: close\r\nX-Content-Length: 99\r\n"
		    "Transfer-Encodings: chunked\r\nConten-Length: 9\r\n"
		    "Content-Length : 9\r\nTransfer: chunked\r\nT\r\nC:\r\n"
		    "Content-Length: 1\r\n\r\n!", 0, 299, false, false },
		{ "HTTP/1.1 599 Whatever\r\nContent-Length: 1\r\n\r\n\n", 0,
		    599, false, false },
		{ "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		    "Content-Length: 2\r\n\r\n\r\n", 0, 200, true, false },
	};

	(void)state;
	expect_replies(&f, w, NELEM(w));

	b = calloc(1, sizeof(*b));
	assert_non_null(b);
	nginx_reply(b);
	expect_replies(&f, &(struct want){ b->b, b->len, 200, false, false },
	    1);
	/* Two in one stream: each ends where it should. */
	nginx_reply(b);
	expect_replies(&f, (const struct want[]){
	    { b->b, b->len / 2, 200, false, false },
	    { b->b + b->len / 2, b->len / 2, 200, false, false } }, 2);
	free(b);
}

static void
test_http_chunked(void **state)
{
	struct framing	 f = mk(FRAME_HTTP, 0);
	const struct want w[] = {
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhello\r\n0\r\n\r\n", 0, 200, false, false },
		/* Extensions, BWS, upper and lower hex, trailers. */
		{ "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n"
		    "1A;name=val\r\nabcdefghijklmnopqrstuvwxyz\r\n"
		    "a ;x=\"q;\\\"\"\r\n0123456789\r\n"
		    "0;last\r\nX-Trailer: 1\r\nExpires: never\r\n\r\n", 0,
		    200, false, false },
		{ "HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n"
		    "Connection: close\n\n3\nabc\n0\n\n", 0, 200, true,
		    false },
		{ "HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 201,
		    false, false },
		/* Chunk data that looks like a chunk or a response. */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "f\r\n0\r\n\r\nHTTP/1.1 2\r\n00000\r\n\r\n", 0, 200,
		    false, false },
	};

	(void)state;
	expect_replies(&f, w, NELEM(w));
}

static void
test_http_interim(void **state)
{
	struct framing	 f = mk(FRAME_HTTP, 0);
	const struct want w[] = {
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
		    "Content-Length: 2\r\n\r\nok", 0, 200, false, false },
		{ "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n"
		    "\r\nHTTP/1.1 102 Processing\r\n\r\n"
		    "HTTP/1.1 201 Created\r\nConnection: close\r\n"
		    "Content-Length: 0\r\n\r\n", 0, 201, true, false },
		/* The final response's headers are the ones that count. */
		{ "HTTP/1.1 100 Continue\r\nConnection: close\r\n"
		    "Content-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 200,
		    false, false },
		{ "HTTP/1.1 100 Continue\n\nHTTP/1.1 204 No Content\n\n", 0,
		    204, false, false },
		{ "HTTP/1.1 199 Misc\r\n\r\nHTTP/1.1 200 OK\r\n"
		    "Content-Length: 0\r\n\r\n", 0, 200, false, false },
	};

	(void)state;
	expect_replies(&f, w, NELEM(w));
	/* An interim response alone is not a reply. */
	expect_more(&f, L("HTTP/1.1 100 Continue\r\n\r\n"));
}

static void
test_http_nobody(void **state)
{
	struct framing	 f = mk(FRAME_HTTP, 0), h = mk(FRAME_HTTP, 0);
	const struct want w[] = {
		{ "HTTP/1.1 204 No Content\r\n\r\n", 0, 204, false, false },
		{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n"
		    "ETag: x\r\n\r\n", 0, 304, false, false },
		{ "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n"
		    "Connection: close\r\n\r\n", 0, 204, true, false },
	};
	const struct want head[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n", 0, 200,
		    false, false },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
		    200, false, false },
		{ "HTTP/1.1 404 Not Found\r\n\r\n", 0, 404, false, false },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n"
		    "Content-Length: 5\r\n\r\n", 0, 200, true, false },
	};

	(void)state;
	expect_replies(&f, w, NELEM(w));
	h.http_head = true;
	expect_replies(&h, head, NELEM(head));
	/* Without HEAD the same response wants its body. */
	expect_more(&f, L("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n"));
}

static void
test_http_bad(void **state)
{
	struct framing	 f = mk(FRAME_HTTP, 0), s = mk(FRAME_HTTP, 1000);
	struct buf	*b;
	struct run	 r;
	int		 i;

	(void)state;
	/* Status codes are 100 to 599. */
	expect_error_str(&f, "HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n",
	    FRAME_SYNTAX, "bad status code");
	expect_error_str(&f, "HTTP/1.1 999\r\n\r\n", FRAME_SYNTAX,
	    "bad status code");
	/* Both lengths, either order: refused, a smuggling vector. */
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nhello", FRAME_BAD_LENGTH,
	    "both");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	    FRAME_BAD_LENGTH, "both");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    FRAME_BAD_LENGTH, "not a number");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
	    FRAME_BAD_LENGTH, "not a number");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
	    FRAME_BAD_LENGTH, "not a number");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
	    FRAME_BAD_LENGTH, "not a number");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length: 1,1\r\n\r\n",
	    FRAME_BAD_LENGTH, "not a number");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 18446744073709551616\r\n\r\n", FRAME_BAD_LENGTH,
	    "overflows");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n",
	    FRAME_BAD_LENGTH, "overflows");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 18446744073709551615\r\n\r\n", FRAME_TOO_LARGE,
	    "content-length");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
	    FRAME_BAD_LENGTH, "empty");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length:\n\n",
	    FRAME_BAD_LENGTH, "empty");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\nhello!", FRAME_BAD_LENGTH, "different");

	/* Chunks. */
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\nzz\r\n", FRAME_SYNTAX, "not hex");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhello\r\n-1\r\n", FRAME_SYNTAX, "not hex");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n\r\n", FRAME_SYNTAX, "not hex");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n 5\r\n", FRAME_SYNTAX, "not hex");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5 5\r\n", FRAME_SYNTAX, "not hex");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5g\r\n", FRAME_SYNTAX, "not hex");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n10000000000000000\r\n", FRAME_BAD_LENGTH, "overflows");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\nFFFFFFFFFFFFFFFF\r\n", FRAME_TOO_LARGE, "chunk");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhelloXX", FRAME_SYNTAX, "CRLF");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhello\rX", FRAME_SYNTAX, "CRLF");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n0\r\n\rX", FRAME_SYNTAX, "trailer");

	/* Framings loadd does not follow. */
	run_all(&f, L("HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n\r\n"), &r);
	assert_true(r.failed);
	assert_int_equal(r.err.err, FRAME_UNSUPPORTED);
	assert_int_equal(r.err.status, 101);
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody",
	    FRAME_UNSUPPORTED, "without length");
	expect_error_str(&f, "HTTP/1.0 200 OK\r\n\r\nbody", FRAME_UNSUPPORTED,
	    "without length");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	    "\r\n", FRAME_UNSUPPORTED, "chunked");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked, gzip\r\n\r\n", FRAME_UNSUPPORTED,
	    "chunked");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n",
	    FRAME_UNSUPPORTED, "chunked");

	/* Status lines. */
	expect_error_str(&f, "HTTP/2 200 OK\r\n\r\n", FRAME_SYNTAX, "status");
	expect_error_str(&f, "http/1.1 200 OK\r\n\r\n", FRAME_SYNTAX,
	    "status");
	expect_error_str(&f, "HTTP/1.1 20 OK\r\n\r\n", FRAME_SYNTAX, "status");
	expect_error_str(&f, "HTTP/1.1 2000 OK\r\n\r\n", FRAME_SYNTAX,
	    "status");
	expect_error_str(&f, "HTTP/1.1 200x OK\r\n\r\n", FRAME_SYNTAX,
	    "status");
	expect_error_str(&f, "HTTP/1.1 099 OK\r\n\r\n", FRAME_SYNTAX,
	    "status");
	expect_error_str(&f, "HTTP/1.1  200 OK\r\n\r\n", FRAME_SYNTAX,
	    "status");
	expect_error_str(&f, "SSH-2.0-OpenSSH_9.2\r\n", FRAME_SYNTAX,
	    "status");
	expect_error_str(&f, "\r\nHTTP/1.1 200 OK\r\n\r\n", FRAME_SYNTAX,
	    "status");
	expect_error_str(&f, "HTTP/1.1 200 OK\r\nA: b\r\n\rX", FRAME_SYNTAX,
	    "CR");
	/* A good response, then garbage: one reply, then the error. */
	expect_error(&f, L("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!"
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!!"), 2,
	    FRAME_SYNTAX, "status");

	/* max_reply: 1000 here. */
	b = calloc(1, sizeof(*b));
	assert_non_null(b);
	buf_str(b, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, "content-length");
	/* Exactly max_reply bytes is fine, one more is not. */
	b->len = 0;
	buf_printf(b, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	    1000 - 40);
	assert_int_equal(b->len, 40);
	buf_fill(b, 'x', 1000 - 40);
	expect_replies(&s, &(struct want){ b->b, b->len, 200, false, false },
	    1);
	b->len = 0;
	buf_printf(b, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	    1001 - 40);
	buf_fill(b, 'x', 1001 - 40);
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, "content-length");
	/* Chunks adding up to more. */
	b->len = 0;
	buf_str(b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < 3; i++) {
		buf_str(b, "190\r\n");
		buf_fill(b, 'c', 400);
		buf_str(b, "\r\n");
	}
	buf_str(b, "0\r\n\r\n");
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	/* Headers that never end: too large, not MORE for ever. */
	b->len = 0;
	buf_str(b, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 200; i++)
		buf_str(b, "X-Hdr: value\r\n");
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	/* Nor a header line, a status line, a trailer or a chunk ext. */
	b->len = 0;
	buf_str(b, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: ");
	buf_fill(b, 'v', 1200);
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	b->len = 0;
	buf_str(b, "HTTP/1.1 200 ");
	buf_fill(b, 'v', 1200);
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	b->len = 0;
	buf_str(b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n");
	for (i = 0; i < 200; i++)
		buf_str(b, "X-Trl: value\r\n");
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	b->len = 0;
	buf_str(b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1;");
	buf_fill(b, 'e', 1200);
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	/* Interim responses count toward the reply. */
	b->len = 0;
	for (i = 0; i < 50; i++)
		buf_str(b, "HTTP/1.1 100 Continue\r\n\r\n");
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	free(b);
}

static void
test_resp(void **state)
{
	struct framing	 f = mk(FRAME_RESP, 0);
	struct buf	*b;
	int		 i;
	const struct want w[] = {
		{ "+PONG\r\n", 0, 0, false, false },
		{ "+\r\n", 0, 0, false, false },
		{ "-ERR unknown command 'FOO'\r\n", 0, 0, false, true },
		{ ":1000\r\n", 0, 0, false, false },
		{ ":-5\r\n", 0, 0, false, false },
		{ "$5\r\nhello\r\n", 0, 0, false, false },
		{ "$0\r\n\r\n", 0, 0, false, false },
		{ "$-1\r\n", 0, 0, false, false },
		{ "*-1\r\n", 0, 0, false, false },
		{ "*0\r\n", 0, 0, false, false },
		/* A bulk holds any bytes, CRLF and NUL included. */
		{ "$6\r\n\r\n\0$\r\n\r\n", 12, 0, false, false },
		{ "*3\r\n:1\r\n$3\r\nfoo\r\n*2\r\n+OK\r\n-ERR x\r\n", 0, 0,
		    false, false },
		{ "*2\r\n*2\r\n*1\r\n$-1\r\n*0\r\n*-1\r\n", 0, 0, false,
		    false },
		{ "*1\r\n-ERR\r\n", 0, 0, false, false },
		{ "*2\r\n*1\r\n*1\r\n:1\r\n$2\r\nab\r\n", 0, 0, false,
		    false },
		{ "$01\r\nx\r\n", 0, 0, false, false },
	};

	(void)state;
	expect_replies(&f, w, NELEM(w));

	/* FRAME_RESP_DEPTH arrays are fine; one more is not. */
	b = calloc(1, sizeof(*b));
	assert_non_null(b);
	for (i = 0; i < FRAME_RESP_DEPTH; i++)
		buf_str(b, "*1\r\n");
	buf_str(b, ":1\r\n");
	expect_replies(&f, &(struct want){ b->b, b->len, 0, false, false },
	    1);
	b->len = 0;
	for (i = 0; i < FRAME_RESP_DEPTH; i++)
		buf_str(b, "*2\r\n");
	for (i = 0; i <= FRAME_RESP_DEPTH; i++)
		buf_str(b, "-E\r\n");
	buf_str(b, "-E\r\n");
	expect_replies(&f, (const struct want[]){
	    { b->b, b->len - 4, 0, false, false },
	    { b->b + b->len - 4, 4, 0, false, true } }, 2);
	b->len = 0;
	for (i = 0; i <= FRAME_RESP_DEPTH; i++)
		buf_str(b, "*1\r\n");
	buf_str(b, ":1\r\n");
	expect_error(&f, b->b, b->len, 0, FRAME_NESTING, "deep");
	free(b);
}

static void
test_resp_bad(void **state)
{
	struct framing	 f = mk(FRAME_RESP, 0), s = mk(FRAME_RESP, 100);
	struct buf	*b;

	(void)state;
	expect_error_str(&f, "?x\r\n", FRAME_SYNTAX, "type");
	expect_error_str(&f, "PONG\r\n", FRAME_SYNTAX, "type");
	expect_error_str(&f, "*2\r\n:1\r\n\r\n", FRAME_SYNTAX, "type");
	expect_error_str(&f, "%1\r\n+a\r\n+b\r\n", FRAME_UNSUPPORTED, "RESP3");
	expect_error_str(&f, "_\r\n", FRAME_UNSUPPORTED, "RESP3");
	expect_error_str(&f, "$-2\r\n", FRAME_BAD_LENGTH, "below");
	expect_error_str(&f, "*-2\r\n", FRAME_BAD_LENGTH, "below");
	expect_error_str(&f, "$-0\r\n", FRAME_BAD_LENGTH, "below");
	expect_error_str(&f, "$abc\r\n", FRAME_BAD_LENGTH, "malformed");
	expect_error_str(&f, "$\r\n", FRAME_BAD_LENGTH, "malformed");
	expect_error_str(&f, "$-\r\n", FRAME_BAD_LENGTH, "malformed");
	expect_error_str(&f, "$1-\r\n", FRAME_BAD_LENGTH, "malformed");
	expect_error_str(&f, "$ 1\r\n", FRAME_BAD_LENGTH, "malformed");
	expect_error_str(&f, "$1\n", FRAME_BAD_LENGTH, "malformed");
	expect_error_str(&f, "$1\rx", FRAME_BAD_LENGTH, "malformed");
	expect_error_str(&f, "*1x\r\n", FRAME_BAD_LENGTH, "malformed");
	expect_error_str(&f, "$99999999999999999999999\r\n",
	    FRAME_BAD_LENGTH, "overflows");
	expect_error_str(&f, "$5\r\nhelloXY", FRAME_SYNTAX, "CRLF");
	expect_error_str(&f, "$3\r\nabc\n", FRAME_SYNTAX, "CRLF");
	expect_error_str(&f, "$3\r\nabc\r\r", FRAME_SYNTAX, "CRLF");
	expect_error_str(&f, "+OK\rX", FRAME_SYNTAX, "LF");
	expect_error_str(&f, "*1\r\n+OK\r\r\n", FRAME_SYNTAX, "LF");
	expect_error(&f, L("+OK\r\n$2\r\nabc\r\n"), 1, FRAME_SYNTAX, "CRLF");

	/* max_reply 100: 5 + 93 + 2 fits, one more does not. */
	b = calloc(1, sizeof(*b));
	assert_non_null(b);
	buf_str(b, "$93\r\n");
	buf_fill(b, 'x', 93);
	buf_str(b, "\r\n");
	assert_int_equal(b->len, 100);
	expect_replies(&s, &(struct want){ b->b, b->len, 0, false, false },
	    1);
	expect_error_str(&s, "$94\r\n", FRAME_TOO_LARGE, "bulk");
	expect_error_str(&f, "$1048576\r\n", FRAME_TOO_LARGE, "bulk");
	expect_error_str(&s, "*40\r\n", FRAME_TOO_LARGE, "array");
	expect_error_str(&f, "*4294967296\r\n", FRAME_TOO_LARGE, "array");
	/* Elements adding up to more. */
	b->len = 0;
	buf_str(b, "*20\r\n");
	while (b->len < 200)
		buf_str(b, ":12345\r\n");
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	/* A simple line that never ends. */
	b->len = 0;
	buf_str(b, "+");
	buf_fill(b, 'a', 200);
	expect_error(&s, b->b, b->len, 0, FRAME_TOO_LARGE, NULL);
	free(b);
}

static void
test_length(void **state)
{
	struct framing	 f;
	const struct want w1[] = {
		{ "\x03" "abc", 0, 0, false, false },
		{ "\x00", 1, 0, false, false },
		{ "\x01" "\n", 2, 0, false, false },
	};
	const struct want w2[] = {
		{ "\x00\x05hello", 7, 0, false, false },
	};
	const struct want w4[] = {
		/* The length counts itself: adjust -4. */
		{ "\x00\x00\x00\x07" "abc", 7, 0, false, false },
		{ "\x00\x00\x00\x04", 4, 0, false, false },
	};
	const struct want w8[] = {
		{ "\0\0\0\0\0\0\0\x02" "hi", 10, 0, false, false },
		{ "\0\0\0\0\0\0\0\0", 8, 0, false, false },
	};
	const struct want woff[] = {
		/* 3 bytes of anything, then 2 of length. */
		{ "\xff\xff\xff\x00\x01!", 6, 0, false, false },
		{ "XYZ\x00\x00", 5, 0, false, false },
	};
	const struct want wadd[] = {
		{ "\x01" "abc", 4, 0, false, false },
		{ "\x00" "ab", 3, 0, false, false },
	};
	char		 big[2 + 258];

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_LENGTH;
	f.lp_size = 1;
	init_ok(&f);
	expect_replies(&f, w1, NELEM(w1));

	f.lp_size = 2;
	init_ok(&f);
	memset(big, 'b', sizeof(big));
	memcpy(big, "\x01\x02", 2);
	expect_replies(&f, (const struct want[]){ w2[0],
	    { big, sizeof(big), 0, false, false } }, 2);

	f.lp_size = 4;
	f.lp_adjust = -4;
	init_ok(&f);
	expect_replies(&f, w4, NELEM(w4));
	expect_error(&f, L("\x00\x00\x00\x03"), 0, FRAME_BAD_LENGTH,
	    "negative");
	expect_error(&f, L("\x00\x00\x00\x08" "abcd" "\x00\x00\x00\x00"), 1,
	    FRAME_BAD_LENGTH, "negative");

	f.lp_size = 8;
	f.lp_adjust = 0;
	init_ok(&f);
	expect_replies(&f, w8, NELEM(w8));

	f.lp_size = 2;
	f.lp_offset = 3;
	init_ok(&f);
	expect_replies(&f, woff, NELEM(woff));
	expect_more(&f, L("abc\x00"));

	f.lp_size = 1;
	f.lp_offset = 0;
	f.lp_adjust = 2;
	init_ok(&f);
	expect_replies(&f, wadd, NELEM(wadd));
	f.lp_adjust = -1;
	init_ok(&f);
	expect_replies(&f, (const struct want[]){
	    { "\x01", 1, 0, false, false },
	    { "\x03" "ab", 3, 0, false, false } }, 2);
	expect_error(&f, L("\x00"), 0, FRAME_BAD_LENGTH, "negative");
}

static void
test_length_bad(void **state)
{
	struct framing	 f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_LENGTH;
	f.lp_size = 4;
	init_ok(&f);
	/* A prefix claiming 4 GiB: refused at once, not read. */
	expect_error(&f, L("\xff\xff\xff\xff"), 0, FRAME_TOO_LARGE, "max_reply");
	/* 1 MiB - 4 bytes fits (4 + that = 1 MiB), one more does not. */
	expect_more(&f, L("\x00\x0f\xff\xfc"));
	expect_error(&f, L("\x00\x0f\xff\xfd"), 0, FRAME_TOO_LARGE,
	    "max_reply");

	f.max_reply = 10;
	f.lp_offset = 2;
	f.lp_size = 1;
	init_ok(&f);
	expect_replies(&f, &(struct want){ "ab\x07" "1234567", 10, 0, false,
	    false }, 1);
	expect_error(&f, L("ab\x08"), 0, FRAME_TOO_LARGE, "max_reply");

	f.max_reply = 0;
	f.lp_offset = 0;
	f.lp_size = 8;
	/* An adjust that alone passes max_reply can never frame a reply. */
	f.lp_adjust = INT64_MAX;
	init_bad(&f, "adjust alone");
	f.lp_adjust = INT64_MIN;
	init_ok(&f);
	expect_error(&f, L("\x7f\xff\xff\xff\xff\xff\xff\xff"), 0,
	    FRAME_BAD_LENGTH, "negative");

	f.lp_adjust = 0;
	f.lp_size = 3;
	init_bad(&f, "1, 2, 4 or 8");
	f.lp_size = 0;
	init_bad(&f, "1, 2, 4 or 8");
	f.lp_size = 16;
	init_bad(&f, "1, 2, 4 or 8");
	f.lp_size = 4;
	f.max_reply = 10;
	f.lp_offset = 6;
	init_ok(&f);
	f.lp_offset = 7;
	init_bad(&f, "max_reply");
	f.lp_offset = 0;
	f.lp_adjust = 6;
	init_ok(&f);
	f.lp_adjust = 7;
	init_bad(&f, "adjust alone");
	f.lp_adjust = 0;
	f.lp_offset = 7;
	f.lp_offset = UINT64_MAX;
	init_bad(&f, "max_reply");
	f.max_reply = 2;
	f.lp_offset = 0;
	init_bad(&f, "max_reply");
}

/* Where each reply ends, found the slow way. */
static size_t
naive_until(const char *s, size_t len, const char *d, size_t dlen,
    size_t *ends, size_t max)
{
	size_t	 n = 0, start = 0, i;

	for (i = 0; i + dlen <= len && n < max; i++) {
		if (i >= start && memcmp(s + i, d, dlen) == 0) {
			ends[n++] = i + dlen;
			start = i + dlen;
			i = start - 1;
		}
	}
	return n;
}

static void
test_until(void **state)
{
	struct framing	 f;
	struct run	 r;
	char		 s[48], d[8];
	size_t		 ends[RUN_MAX], n, len, dlen, i, k, t;
	uint64_t	 rng = 88172645463325252ull;
	const struct want wcrlf[] = {
		{ "hello\r\n", 0, 0, false, false },
		{ "\r\n", 0, 0, false, false },
		{ "a\rb\n\r\r\n", 0, 0, false, false },
	};

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_UNTIL;
	f.delim = "\r\n";
	f.delim_len = 2;
	init_ok(&f);
	expect_replies(&f, wcrlf, NELEM(wcrlf));
	expect_more(&f, L("no end\r"));

	/* A delimiter that overlaps itself. */
	f.delim = "aab";
	f.delim_len = 3;
	init_ok(&f);
	expect_replies(&f, (const struct want[]){
	    { "aaab", 0, 0, false, false },
	    { "aab", 0, 0, false, false },
	    { "abaaaaab", 0, 0, false, false } }, 3);
	f.delim = "abab";
	f.delim_len = 4;
	init_ok(&f);
	assert_memory_equal(f.fr_fail, "\0\0\1\2", 4);
	f.delim = "aabaaa";
	f.delim_len = 6;
	init_ok(&f);
	assert_memory_equal(f.fr_fail, "\0\1\0\1\2\2", 6);
	expect_replies(&f, (const struct want[]){
	    { "aabaabaaa", 0, 0, false, false } }, 1);
	f.delim = "abab";
	f.delim_len = 4;
	expect_replies(&f, (const struct want[]){
	    { "abaabab", 0, 0, false, false },
	    { "abab", 0, 0, false, false },
	    { "abaabaabab", 0, 0, false, false } }, 3);
	/* NUL is a byte like another. */
	f.delim = "\0\0";
	f.delim_len = 2;
	init_ok(&f);
	expect_replies(&f, (const struct want[]){
	    { "x\0y\0\0", 5, 0, false, false } }, 1);

	/* Random streams over a small alphabet against a naive search. */
	for (t = 0; t < 1000; t++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		dlen = 1 + rng % 7;
		len = rng >> 8 & 47;
		for (i = 0; i < dlen; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			d[i] = "ab"[rng & 1];
		}
		for (i = 0; i < len; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			s[i] = "aab"[rng % 3];
		}
		f.delim = d;
		f.delim_len = dlen;
		init_ok(&f);
		n = naive_until(s, len, d, dlen, ends, RUN_MAX);
		run_all(&f, s, len, &r);
		assert_false(r.failed);
		assert_int_equal(r.n, n);
		for (k = 0; k < n; k++)
			assert_int_equal(r.end[k], ends[k]);
		assert_int_equal(r.pending, len - (n > 0 ? ends[n - 1] : 0));
	}
}

static void
test_until_bad(void **state)
{
	struct framing	 f;
	char		 s[300], d[FRAME_DELIM_MAX + 1];
	size_t		 i;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_UNTIL;
	f.max_reply = 100;
	f.delim = "END";
	f.delim_len = 3;
	init_ok(&f);
	memset(s, 'x', sizeof(s));
	memcpy(s + 97, "END", 3);
	expect_replies(&f, &(struct want){ s, 100, 0, false, false }, 1);
	memcpy(s + 97, "xEND", 4);
	expect_error(&f, s, 101, 0, FRAME_TOO_LARGE, "max_reply");
	/* Nearly the delimiter, over and over. */
	memset(s, 'E', sizeof(s));
	for (i = 0; i + 2 < sizeof(s); i += 3)
		memcpy(s + i, "ENx", 3);
	expect_error(&f, s, sizeof(s), 0, FRAME_TOO_LARGE, "max_reply");

	memset(d, 'd', sizeof(d));
	f.delim = d;
	f.delim_len = FRAME_DELIM_MAX;
	init_ok(&f);
	f.delim_len = FRAME_DELIM_MAX + 1;
	init_bad(&f, "1 to 64");
	f.delim_len = 0;
	init_bad(&f, "1 to 64");
	f.delim = NULL;
	f.delim_len = 1;
	init_bad(&f, "1 to 64");
	f.delim = d;
	f.max_reply = 10;
	f.delim_len = 11;
	init_bad(&f, "max_reply");
}

static void
test_size(void **state)
{
	struct framing	 f;
	char		 s[20];

	(void)state;
	memset(&f, 0, sizeof(f));
	f.kind = FRAME_SIZE;
	f.size = 4;
	init_ok(&f);
	expect_replies(&f, (const struct want[]){
	    { "abcd", 0, 0, false, false },
	    { "\0\0\0\0", 4, 0, false, false },
	    { "\r\n\r\n", 0, 0, false, false } }, 3);
	expect_more(&f, L("abc"));
	f.size = 1;
	init_ok(&f);
	memset(s, 's', sizeof(s));
	expect_replies(&f, (const struct want[]){
	    { s, 1, 0, false, false }, { s, 1, 0, false, false } }, 2);

	f.size = 0;
	init_bad(&f, "at least 1");
	f.size = FRAME_MAX_REPLY_DEFAULT;
	init_ok(&f);
	f.size = FRAME_MAX_REPLY_DEFAULT + 1;
	init_bad(&f, "max_reply");
	f.max_reply = 5;
	f.size = 5;
	init_ok(&f);
	f.size = 6;
	init_bad(&f, "max_reply");
}

/*
 * Not a test: frame n replies held in one buffer of many, as the engine
 * would (one call per reply, the rest of the piece each time).
 */
static int
bench(const char *what, unsigned long n)
{
	struct framing		 f;
	struct frame_state	 st;
	struct frame_reply	 rep;
	enum frame_rc		 rc;
	struct buf		*b;
	unsigned long		 done = 0, per, i;
	size_t			 off, bad = 0;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return 1;
	if (strcmp(what, "resp") == 0) {
		f = mk(FRAME_RESP, 0);
		while (b->len + 7 <= sizeof(b->b))
			buf_str(b, "+PONG\r\n");
		per = b->len / 7;
	} else if (strcmp(what, "http") == 0) {
		f = mk(FRAME_HTTP, 0);
		for (per = 0; b->len + 2048 <= sizeof(b->b); per++)
			nginx_reply(b);
	} else {
		fprintf(stderr, "bench resp|http [N]\n");
		free(b);
		return 2;
	}
	frame_reset(&st);
	while (done < n) {
		for (off = 0, i = 0; i < per && done < n; i++, done++) {
			off += frame_feed(&f, &st, b->b + off, b->len - off,
			    &rc, &rep);
			if (rc != FRAME_DONE)
				bad++;
		}
	}
	printf("%lu %s replies, %zu not done\n", done, what, bad);
	free(b);
	return bad != 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_http_basic),
		cmocka_unit_test(test_http_chunked),
		cmocka_unit_test(test_http_interim),
		cmocka_unit_test(test_http_nobody),
		cmocka_unit_test(test_http_bad),
		cmocka_unit_test(test_resp),
		cmocka_unit_test(test_resp_bad),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_length_bad),
		cmocka_unit_test(test_until),
		cmocka_unit_test(test_until_bad),
		cmocka_unit_test(test_size),
	};

	if (argc >= 3 && strcmp(argv[1], "bench") == 0)
		return bench(argv[2],
		    argc >= 4 ? strtoul(argv[3], NULL, 10) : 1000000);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
