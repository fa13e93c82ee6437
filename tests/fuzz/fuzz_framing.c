/* SPDX-License-Identifier: ISC */
/*
 * fuzz_framing.c -- every reply framing (model/framing.c), differential.
 *
 * The input says which framing and how to feed it:
 *
 *   byte 0	the framing: kind = 1 + b % 5 (HTTP, RESP, length prefix,
 *		until, size); b / 5 picks max_reply (default, 7, 64 or
 *		1000 bytes) and, for HTTP, http_head
 *   byte 1	where to split the stream: at len * b / 255
 *   then	length prefix: the field's size (1, 2, 4, 8) and offset
 *		(0 to 7), then lp_adjust (a signed byte); until: the
 *		delimiter's length (1 to 8), then its bytes; size: the size
 *		(1 to 256); HTTP and RESP: nothing
 *   the rest	the byte stream of replies
 *
 * The stream is fed whole, in two pieces split there, and (when short) a
 * byte at a time, every piece in a heap buffer of its own size so ASan
 * sees a read past it.  The three must agree on every reply (where it
 * ends, its status, close and server_error) and on the error that ends
 * the stream if any (kind, reason, status), as tests/unit/test_framing.c
 * asks of its own replies.  Every call keeps frame_feed()'s contract.
 */
#include <stdbool.h>
#include <string.h>

#include "model/framing.h"

#include "fuzz.h"

#define STREAM_MAX	16384	/* bytes of a stream; longer inputs skipped */
#define RUN_MAX		STREAM_MAX /* replies of a run: at least a byte each */
#define BYTEWISE_MAX	1024	/* bytes fed a byte at a time */

struct run {
	size_t			 n;
	size_t			 end[RUN_MAX];	/* where each reply ended */
	struct frame_reply	 rep[RUN_MAX];
	bool			 failed;
	struct frame_reply	 err;
	size_t			 pending;	/* bytes after the last reply */
};

static struct run	 whole, other;

/* Feed s[0 .. len): a first piece of cut bytes (if any), then step. */
static void
run_feed(const struct framing *f, const uint8_t *s, size_t len, size_t cut,
    size_t step, struct run *r)
{
	struct frame_state	 st;
	struct frame_reply	 rep;
	enum frame_rc		 rc;
	size_t			 base = 0, plen, off, used, last = 0;
	char			*piece;

	r->n = 0;
	r->failed = false;
	memset(&st, 0xa5, sizeof(st));
	frame_reset(&st);

	/* Nothing to read is no reply. */
	rc = (enum frame_rc)77;
	used = frame_feed(f, &st, "", 0, &rc, &rep);
	FUZZ_CHECK(rc == FRAME_MORE && used == 0, "empty feed: rc %d used %zu",
	    (int)rc, used);

	while (base < len) {
		plen = base == 0 && cut > 0 ? cut : step;
		if (plen > len - base)
			plen = len - base;
		piece = malloc(plen);
		FUZZ_CHECK(piece != NULL, "malloc");
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
				FUZZ_CHECK(used > 0 && used <= plen - off,
				    "done with %zu of %zu", used, plen - off);
				FUZZ_CHECK(rep.err == FRAME_OK && rep.why ==
				    NULL, "done with an error");
				FUZZ_CHECK(r->n < RUN_MAX, "replies");
				last = r->end[r->n] = base + off + used;
				r->rep[r->n++] = rep;
				off += used;
				break;
			case FRAME_MORE:
				FUZZ_CHECK(used == plen - off, "more with %zu "
				    "of %zu", used, plen - off);
				FUZZ_CHECK(rep.status == -7, "more filled rep");
				off = plen;
				break;
			case FRAME_ERROR:
				FUZZ_CHECK(rep.err != FRAME_OK &&
				    rep.why != NULL, "error without a reason");
				FUZZ_CHECK(strcmp(frame_err_name(rep.err), "unknown")
				    != 0, "error %d", (int)rep.err);
				FUZZ_CHECK(used <= plen - off, "error at %zu of "
				    "%zu", used, plen - off);
				r->failed = true;
				r->err = rep;
				free(piece);
				return;
			default:
				FUZZ_CHECK(0, "rc %d", (int)rc);
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
	FUZZ_CHECK(a->n == b->n && a->failed == b->failed &&
	    (a->failed || a->pending == b->pending),
	    "%s %zu: %zu replies%s, pending %zu; whole: %zu%s, pending %zu",
	    how, cut, b->n, b->failed ? ", error" : "", b->pending, a->n,
	    a->failed ? ", error" : "", a->pending);
	for (size_t i = 0; i < a->n; i++)
		FUZZ_CHECK(a->end[i] == b->end[i] &&
		    a->rep[i].status == b->rep[i].status &&
		    a->rep[i].close == b->rep[i].close &&
		    a->rep[i].server_error == b->rep[i].server_error,
		    "%s %zu: reply %zu ends at %zu status %d close %d error "
		    "%d; whole: %zu %d %d %d", how, cut, i, b->end[i],
		    b->rep[i].status, b->rep[i].close, b->rep[i].server_error,
		    a->end[i], a->rep[i].status, a->rep[i].close,
		    a->rep[i].server_error);
	if (a->failed)
		FUZZ_CHECK(a->err.err == b->err.err &&
		    strcmp(a->err.why, b->err.why) == 0 &&
		    a->err.status == b->err.status,
		    "%s %zu: error %s \"%s\" status %d; whole: %s \"%s\" "
		    "status %d", how, cut, frame_err_name(b->err.err),
		    b->err.why, b->err.status, frame_err_name(a->err.err),
		    a->err.why, a->err.status);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t	 max_replies[] = { 0, 7, 64, 1000 };
	static const unsigned	 lp_sizes[] = { 1, 2, 4, 8 };
	struct framing		 f;
	const char		*why = NULL;
	char			 delim[8];
	size_t			 len, cut;
	unsigned		 sel, v;

	if (size < 2)
		return 0;
	memset(&f, 0, sizeof(f));
	sel = data[0];
	f.kind = (enum frame_kind)(1 + sel % 5);
	v = sel / 5;
	f.max_reply = max_replies[v % 4];
	cut = data[1];
	data += 2;
	size -= 2;

	switch (f.kind) {
	case FRAME_HTTP:
		f.http_head = (v / 4) & 1;
		break;
	case FRAME_RESP:
		break;
	case FRAME_LENGTH:
		if (size < 2)
			return 0;
		f.lp_size = lp_sizes[data[0] & 3];
		f.lp_offset = (data[0] >> 2) & 7;
		f.lp_adjust = (int8_t)data[1];
		data += 2;
		size -= 2;
		break;
	case FRAME_UNTIL:
		if (size < 1 || size - 1 < 1u + data[0] % 8)
			return 0;
		f.delim_len = 1u + data[0] % 8;
		memcpy(delim, data + 1, f.delim_len);
		f.delim = delim;
		data += 1 + f.delim_len;
		size -= 1 + f.delim_len;
		break;
	case FRAME_SIZE:
		if (size < 1)
			return 0;
		f.size = 1u + data[0];
		data++;
		size--;
		break;
	}
	if (frame_init(&f, &why) != 0) {
		FUZZ_CHECK(why != NULL && why[0] != '\0', "refused, no reason");
		return 0;
	}

	if (size > STREAM_MAX)
		return 0;
	len = size;
	cut = len * cut / 255;
	run_feed(&f, data, len, 0, SIZE_MAX, &whole);
	if (cut > 0 && cut < len) {
		run_feed(&f, data, len, cut, SIZE_MAX, &other);
		run_same(&whole, &other, "cut at", cut);
	}
	if (len <= BYTEWISE_MAX) {
		run_feed(&f, data, len, 0, 1, &other);
		run_same(&whole, &other, "bytewise", 0);
	}
	return 0;
}
