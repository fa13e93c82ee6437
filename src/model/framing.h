/* SPDX-License-Identifier: ISC */
/*
 * model/framing.h -- where one reply ends: streaming reply parsers.
 *
 * A load says how its replies are framed (struct framing, read-only once
 * frame_init() has accepted it); each connection keeps a small struct
 * frame_state.  The worker hands frame_feed() every contiguous piece of
 * input it has, in order; replies may be split at any byte and several
 * may sit in one piece.  The parser only walks the bytes: it never
 * copies, allocates, logs or blocks, and it skips bodies by arithmetic.
 *
 *   FRAME_HTTP	HTTP/1.x responses: Content-Length or chunked; 1xx
 *		interim responses belong to the reply they precede (its
 *		status and close are the final response's).  No body
 *		for 204, 304 or http_head.  Refused: a body that runs
 *		until close, 101, a Transfer-Encoding whose last coding
 *		is not chunked, and Content-Length together with
 *		Transfer-Encoding (in any response).  CRLF or bare LF.
 *   FRAME_RESP	one RESP2 value (nested arrays included); RESP3 types
 *		are FRAME_UNSUPPORTED.
 *   FRAME_LENGTH	lp_offset bytes, an lp_size byte big-endian length L,
 *		then L + lp_adjust bytes.
 *   FRAME_UNTIL	everything up to and including the first delim.
 *   FRAME_SIZE	exactly size bytes.
 *
 * Every framing refuses a reply of more than max_reply bytes
 * (FRAME_TOO_LARGE) as soon as it knows, so a peer that never ends a
 * reply, or claims a huge one, costs a bounded amount of reading.
 */
#ifndef LOADD_MODEL_FRAMING_H
#define LOADD_MODEL_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX_REPLY_DEFAULT	(1024u * 1024)	/* bytes of one reply */
#define FRAME_RESP_DEPTH	32	/* RESP arrays open at once */
#define FRAME_DELIM_MAX		64	/* bytes of an UNTIL delimiter */

enum frame_kind {
	FRAME_HTTP = 1,
	FRAME_RESP,
	FRAME_LENGTH,
	FRAME_UNTIL,
	FRAME_SIZE,
};

/* Per load, read-only after frame_init(). */
struct framing {
	enum frame_kind	 kind;
	uint64_t	 max_reply;	/* 0: FRAME_MAX_REPLY_DEFAULT */

	/* FRAME_LENGTH */
	unsigned	 lp_size;	/* 1, 2, 4 or 8 */
	uint64_t	 lp_offset;	/* bytes before the field, in the reply */
	/*
	 * Added to the field's value to give the bytes after the field
	 * (-4 when a 4-byte length counts itself).
	 */
	int64_t		 lp_adjust;

	/* FRAME_HTTP */
	bool		 http_head;	/* every request is HEAD: no bodies */

	/* FRAME_UNTIL: a reply ends after the first delim. */
	const char	*delim;		/* not copied: must outlive the load */
	size_t		 delim_len;	/* 1 .. FRAME_DELIM_MAX */

	/* FRAME_SIZE */
	uint64_t	 size;

	/* Private, filled by frame_init(). */
	uint64_t	 fr_max;	/* the ceiling in force */
	/* KMP: fr_fail[i] = longest proper border of delim[0 .. i]. */
	uint8_t		 fr_fail[FRAME_DELIM_MAX];
};

/*
 * Per connection (168 bytes, counts[] last and only read below depth);
 * all zero, or frame_reset(), is the start of a reply.  The fields are
 * the parsers' own.
 */
struct frame_state {
	uint64_t	 total;		/* bytes of this reply consumed */
	uint64_t	 left;		/* bytes still to skip */
	uint64_t	 num;		/* a number being read */
	uint64_t	 cl;		/* HTTP: the Content-Length seen */
	uint16_t	 status;	/* HTTP: the status code */
	uint8_t		 phase;
	uint8_t		 idx;		/* position within a word or field */
	uint8_t		 sub;		/* the phase's own bits */
	uint8_t		 cand;		/* HTTP: the header being matched */
	uint8_t		 flags;
	uint8_t		 depth;		/* RESP: arrays open */
	/* RESP: elements still to come in each open array (last member). */
	uint32_t	 counts[FRAME_RESP_DEPTH];
};

enum frame_rc {
	FRAME_MORE = 0,		/* all bytes used, the reply goes on */
	FRAME_DONE,		/* a reply ended at the returned count */
	FRAME_ERROR,		/* the stream cannot be framed */
};

enum frame_err {
	FRAME_OK = 0,
	FRAME_TOO_LARGE,	/* over max_reply */
	FRAME_SYNTAX,
	FRAME_BAD_LENGTH,	/* a length that is malformed or conflicting */
	FRAME_NESTING,		/* RESP arrays deeper than FRAME_RESP_DEPTH */
	FRAME_UNSUPPORTED,	/* valid, but not framed by loadd */
};

/* What a reply was; filled when rc is FRAME_DONE or FRAME_ERROR. */
struct frame_reply {
	int		 status;	/* HTTP: the final status; else 0 */
	/*
	 * HTTP: Connection: close, or HTTP/1.0 without keep-alive: the
	 * peer will close after this reply.
	 */
	bool		 close;
	bool		 server_error;	/* RESP: the top-level value is -ERR */
	enum frame_err	 err;
	const char	*why;		/* FRAME_ERROR: short and static */
};

/*
 * Check f and fill its private fields: 0, or -1 with a static reason in
 * *why.
 */
int		 frame_init(struct framing *f, const char **why);
/* Back to the start of a reply (a new connection, or after an error). */
void		 frame_reset(struct frame_state *st);
/*
 * Consume bytes of p[0 .. n) toward the current reply and return how
 * many were used.  *rc:
 *   FRAME_DONE	a reply ended exactly at p + the return value; *rep is
 *		filled and st is back at the start of the next reply:
 *		call again with the rest.
 *   FRAME_MORE	all n bytes were used (0 when n is 0); *rep untouched.
 *   FRAME_ERROR	the stream is broken: rep->err and rep->why say why
 *		(rep->status is the status line's when there was one);
 *		the return value is about where in p.  st is reset; the
 *		connection should be too.
 * No allocation, copy or system call; the bytes need not outlive the
 * call.
 */
size_t		 frame_feed(const struct framing *f, struct frame_state *st,
		    const char *p, size_t n, enum frame_rc *rc,
		    struct frame_reply *rep);
/* "ok", "too_large", "syntax", "bad_length", "nesting", "unsupported". */
const char	*frame_err_name(enum frame_err);

#endif
