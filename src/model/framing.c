/* SPDX-License-Identifier: ISC */
/*
 * framing.c -- streaming reply parsers (see framing.h).
 *
 * Each parser is a state machine that can stop at any byte: what it must
 * remember of a reply (a phase, a position within a word, a number being
 * read, flags) lives in struct frame_state, never the bytes themselves.
 * Long stretches are crossed without looking at each byte: bodies by
 * arithmetic, lines nobody cares about with memchr().  frame_feed()
 * shows a parser at most the bytes the reply may still have under
 * max_reply, so no parser can be kept reading forever.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model/framing.h"

#define FRAME_U64_DIV10	(UINT64_MAX / 10)

static const char *const frame_err_names[] = {
	"ok", "too_large", "syntax", "bad_length", "nesting", "unsupported",
};

/*
 * HTTP phases.  H_STATUS reads the status line up to the byte after the
 * code (st->idx is the position in it); header lines start at H_LINE.
 */
enum {
	H_STATUS = 0,
	H_SKIP,		/* the rest of a header line: to LF */
	H_LINE,		/* the start of a header line */
	H_NAME,		/* matching http_names[st->cand] at st->idx */
	H_CL,		/* a Content-Length value */
	H_TOKENS,	/* a Connection or Transfer-Encoding value */
	H_EOH,		/* CR at the start of a line: LF ends the header */
	H_BODY,
	H_CHUNK_SIZE,
	H_CHUNK_EXT,	/* ";ext" after a chunk size: to LF */
	H_CHUNK_DATA,
	H_CHUNK_CR,	/* the CRLF after chunk data */
	H_CHUNK_LF,
	H_TRAILER,	/* the start of a trailer line */
	H_TRAILER_SKIP,
	H_TRAILER_LF,	/* CR at the start of a trailer line */
};

/* st->flags of an HTTP response. */
#define HF_V10		0x01	/* HTTP/1.0 */
#define HF_CL		0x02	/* a Content-Length was seen, in st->cl */
#define HF_TE		0x04	/* a Transfer-Encoding was seen */
#define HF_CHUNKED	0x08	/* its last coding is chunked */
#define HF_CLOSE	0x10	/* Connection: close */
#define HF_KEEPALIVE	0x20	/* Connection: keep-alive */

/* The headers that frame a response; st->cand in H_NAME and H_TOKENS. */
enum { HN_CL, HN_CONN, HN_TE };
static const char *const http_names[] = {
	"content-length", "connection", "transfer-encoding",
};

/*
 * The tokens looked for in Connection and Transfer-Encoding lists.  In
 * H_TOKENS, bit i of st->sub says http_words[i] still matches the token
 * read so far (st->idx bytes).
 */
static const char *const http_words[] = { "close", "keep-alive", "chunked" };
#define HW_CLOSE	0x01
#define HW_KEEPALIVE	0x02
#define HW_CHUNKED	0x04
#define HW_WORDS	0x07
#define HW_ENDED	0x80	/* whitespace came after the token */

/* st->sub while reading a decimal or hex number in HTTP. */
#define HD_DIGIT	0x01	/* a digit was seen */
#define HD_ENDED	0x02	/* whitespace came after the digits */

/* RESP phases. */
enum {
	R_TYPE = 0,	/* the type byte of an element */
	R_LINE,		/* a simple string, error or integer: to CR */
	R_LINE_LF,
	R_NUM,		/* the length of a bulk or array */
	R_NUM_LF,
	R_BULK,
	R_BULK_CR,
	R_BULK_LF,
};
/* st->sub in R_NUM. */
#define RS_ARRAY	0x01	/* an array's count, else a bulk's length */
#define RS_NEG		0x02
#define RS_DIGIT	0x04
/* st->flags */
#define RF_ERROR	0x01	/* the top-level element is an error */

/* FRAME_LENGTH phases: the offset and field are told by st->total. */
enum { L_HEAD = 0, L_BODY };

static inline void
frame_restart(struct frame_state *st)
{
	/*
	 * All but counts[], which holds nothing while depth is 0; field by
	 * field, as memset() of this size may become a slow "rep stos".
	 */
	st->total = 0;
	st->left = 0;
	st->num = 0;
	st->cl = 0;
	st->status = 0;
	st->phase = 0;
	st->idx = 0;
	st->sub = 0;
	st->cand = 0;
	st->flags = 0;
	st->depth = 0;
}

void
frame_reset(struct frame_state *st)
{
	memset(st, 0, sizeof(*st));
}

const char *
frame_err_name(enum frame_err err)
{
	if ((unsigned)err >= sizeof(frame_err_names) / sizeof(*frame_err_names))
		return "unknown";
	return frame_err_names[err];
}

static int
frame_refuse(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return -1;
}

int
frame_init(struct framing *f, const char **why)
{
	size_t	 i, k;

	f->fr_max = f->max_reply != 0 ? f->max_reply : FRAME_MAX_REPLY_DEFAULT;
	memset(f->fr_fail, 0, sizeof(f->fr_fail));
	switch (f->kind) {
	case FRAME_HTTP:
	case FRAME_RESP:
		return 0;
	case FRAME_LENGTH:
		if (f->lp_size != 1 && f->lp_size != 2 && f->lp_size != 4 &&
		    f->lp_size != 8)
			return frame_refuse(why,
			    "length field size must be 1, 2, 4 or 8");
		if (f->fr_max < f->lp_size ||
		    f->lp_offset > f->fr_max - f->lp_size)
			return frame_refuse(why,
			    "length field ends past max_reply");
		if (f->lp_adjust > 0 && (uint64_t)f->lp_adjust >
		    f->fr_max - f->lp_offset - f->lp_size)
			return frame_refuse(why,
			    "adjust alone makes every reply longer than "
			    "max_reply");
		return 0;
	case FRAME_UNTIL:
		if (f->delim == NULL || f->delim_len == 0 ||
		    f->delim_len > FRAME_DELIM_MAX)
			return frame_refuse(why,
			    "delimiter must be 1 to 64 bytes");
		if (f->delim_len > f->fr_max)
			return frame_refuse(why,
			    "delimiter longer than max_reply");
		/* The KMP failure function. */
		for (i = 1, k = 0; i < f->delim_len; i++) {
			while (k > 0 && f->delim[i] != f->delim[k])
				k = f->fr_fail[k - 1];
			if (f->delim[i] == f->delim[k])
				k++;
			f->fr_fail[i] = k;
		}
		return 0;
	case FRAME_SIZE:
		if (f->size == 0)
			return frame_refuse(why, "size must be at least 1");
		if (f->size > f->fr_max)
			return frame_refuse(why, "size over max_reply");
		return 0;
	}
	return frame_refuse(why, "unknown framing");
}

/* A broken stream: fill *rep, reset st; returns used for the caller. */
static size_t
frame_fail(struct frame_state *st, enum frame_rc *rc,
    struct frame_reply *rep, enum frame_err err, const char *why,
    size_t used)
{
	rep->status = st->status;
	rep->close = false;
	rep->server_error = false;
	rep->err = err;
	rep->why = why;
	*rc = FRAME_ERROR;
	frame_restart(st);
	return used;
}

/* A reply ended after used bytes: fill *rep, ready st for the next. */
static size_t
frame_done(struct frame_state *st, enum frame_rc *rc,
    struct frame_reply *rep, bool close, bool server_error, size_t used)
{
	rep->status = st->status;
	rep->close = close;
	rep->server_error = server_error;
	rep->err = FRAME_OK;
	rep->why = NULL;
	*rc = FRAME_DONE;
	frame_restart(st);
	return used;
}

static inline unsigned
frame_lower(unsigned c)
{
	return c - 'A' < 26u ? c | 0x20 : c;
}

static inline bool
frame_digit(unsigned c)
{
	return c - '0' < 10u;
}

/* 0-15 for a hex digit, -1 otherwise. */
static inline int
frame_hex(unsigned c)
{
	if (c - '0' < 10u)
		return c - '0';
	c |= 0x20;
	if (c - 'a' < 6u)
		return c - 'a' + 10;
	return -1;
}

static inline uint64_t
frame_load64(const char *p)
{
	uint64_t	 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Whether p[0 .. 8) is s, letters in any case.  mask has a space (0x20)
 * where s has a letter and a NUL elsewhere: 0x20 turns an upper case
 * letter into its lower case and no other byte into a letter.
 */
static inline bool
frame_eq8(const char *p, const char *s, const char *mask)
{
	return (frame_load64(p) | frame_load64(mask)) == frame_load64(s);
}

/*
 * The fast path for a header line with 18 bytes or more in view: the
 * length of "name:" when it is one that frames a response (*cand says
 * which), else 0.
 */
static size_t
frame_http_name(const char *p, uint8_t *cand)
{
	if ((p[0] | 0x20) == 'c') {
		if (frame_eq8(p, "content-", "       \0")) {
			if (frame_eq8(p + 7, "-length:", "\0      \0")) {
				*cand = HN_CL;
				return 15;
			}
		} else if (frame_eq8(p, "connecti", "        ") &&
		    frame_eq8(p + 3, "nection:", "       \0")) {
			*cand = HN_CONN;
			return 11;
		}
	} else if (frame_eq8(p, "transfer", "        ") &&
	    frame_eq8(p + 8, "-encodin", "\0       ") &&
	    frame_eq8(p + 10, "ncoding:", "       \0")) {
		*cand = HN_TE;
		return 18;
	}
	return 0;
}

/*
 * The fast path for a status line with 13 bytes or more in view: the
 * version and code, and the byte after them.
 */
static bool
frame_http_status(struct frame_state *st, const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	if (memcmp(p, "HTTP/1.", 7) != 0 || !frame_digit(u[7]) ||
	    u[8] != ' ' || u[9] == '0' || u[9] > '5' || !frame_digit(u[9]) ||
	    !frame_digit(u[10]) || !frame_digit(u[11]) ||
	    (u[12] != ' ' && u[12] != '\r' && u[12] != '\n'))
		return false;
	if (u[7] == '0')
		st->flags |= HF_V10;
	st->status = (u[9] - '0') * 100 + (u[10] - '0') * 10 + (u[11] - '0');
	return true;
}

/* After "name:" of a framing header. */
static void
frame_http_value(struct frame_state *st, uint8_t cand)
{
	st->idx = 0;
	st->cand = cand;
	switch (cand) {
	case HN_CL:
		st->phase = H_CL;
		st->num = 0;
		st->sub = 0;
		break;
	case HN_CONN:
		st->phase = H_TOKENS;
		st->sub = HW_CLOSE | HW_KEEPALIVE;
		break;
	default:
		st->phase = H_TOKENS;
		st->sub = HW_CHUNKED;
		st->flags |= HF_TE;
		break;
	}
}

/* A byte of a token in a Connection or Transfer-Encoding list. */
static inline void
frame_http_token_byte(struct frame_state *st, unsigned c)
{
	unsigned	 alive, b, w;

	/* Whitespace inside a token ("keep alive"): no word. */
	alive = st->sub & HW_ENDED ? 0 : st->sub & HW_WORDS;
	c = frame_lower(c);
	for (b = 0; alive >> b != 0; b++) {
		if ((alive & (1u << b)) == 0)
			continue;
		w = (unsigned char)http_words[b][st->idx];
		if (w == '\0' || w != c)
			alive &= ~(1u << b);
	}
	st->sub = (st->sub & HW_ENDED) | alive;
	if (st->idx < UINT8_MAX)
		st->idx++;
}

/* A token of a Connection or Transfer-Encoding list ended. */
static void
frame_http_token_end(struct frame_state *st)
{
	unsigned	 m = 0, b;

	if (st->idx > 0) {
		for (b = 0; b < 3; b++) {
			if ((st->sub & (1u << b)) != 0 &&
			    http_words[b][st->idx] == '\0')
				m |= 1u << b;
		}
		if (st->cand == HN_CONN) {
			if (m & HW_CLOSE)
				st->flags |= HF_CLOSE;
			if (m & HW_KEEPALIVE)
				st->flags |= HF_KEEPALIVE;
		} else if (m & HW_CHUNKED)
			st->flags |= HF_CHUNKED;
		else
			st->flags &= ~HF_CHUNKED;	/* not the last coding */
	}
	st->idx = 0;
	st->sub = st->cand == HN_CONN ? HW_CLOSE | HW_KEEPALIVE : HW_CHUNKED;
}

/* Past the spaces and tabs at p (most often one space). */
static inline const char *
frame_ows(const char *p, const char *end)
{
	if (p < end && *p == ' ' && p + 1 < end && p[1] != ' ' &&
	    p[1] != '\t')
		return p + 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Past the LF ending a value whose last byte was before p, with only
 * spaces, tabs and CRs between (most often just CR), else NULL.
 */
static inline const char *
frame_eol(const char *p, const char *end)
{
	if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		return p + 2;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p == end || *p != '\n')
		return NULL;
	return p + 1;
}

/* p[0 .. n) is s (lower case), letters in any case. */
static inline bool
frame_ieq(const char *p, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (frame_lower((unsigned char)p[i]) != (unsigned char)s[i])
			return false;
	}
	return true;
}

/*
 * The fast path for a Connection or Transfer-Encoding value that is one
 * common token on a line whole in view: the byte after its LF, having
 * done what the bytewise tokens would, else NULL.
 */
static const char *
frame_http_token_line(struct frame_state *st, const char *p,
    const char *end)
{
	const char	*word;
	size_t		 len;
	uint8_t		 flag;

	p = frame_ows(p, end);
	if (end - p < 8)
		return NULL;
	if (st->cand == HN_TE) {
		word = "chunked";
		len = 7;
		flag = HF_CHUNKED;
	} else if ((*p | 0x20) == 'k') {
		if (end - p < 11 ||
		    !frame_eq8(p, "keep-ali", "    \0   ") ||
		    (p[8] | 0x20) != 'v' || (p[9] | 0x20) != 'e')
			return NULL;
		p += 10;
		flag = HF_KEEPALIVE;
		goto after;
	} else {
		word = "close";
		len = 5;
		flag = HF_CLOSE;
	}
	if (!frame_ieq(p, word, len))
		return NULL;
	p += len;
after:
	if ((p = frame_eol(p, end)) == NULL)
		return NULL;
	st->flags |= flag;
	return p;
}

/*
 * The fast path for a Content-Length value on a line whole in view: the
 * byte after its LF, having done what the bytewise loop would, else NULL
 * (let that loop say what is wrong).
 */
static const char *
frame_http_cl_line(struct frame_state *st, const char *p, const char *end)
{
	const char	*digits;
	uint64_t	 num = 0;

	p = frame_ows(p, end);
	/* 19 digits cannot overflow. */
	for (digits = p; p < end && p - digits < 19 &&
	    frame_digit((unsigned char)*p); p++)
		num = num * 10 + (unsigned char)(*p - '0');
	if (p == digits || (p = frame_eol(p, end)) == NULL)
		return NULL;
	if ((st->flags & HF_CL) && st->cl != num)
		return NULL;
	st->cl = num;
	st->flags |= HF_CL;
	return p;
}

/*
 * The header block of a response ended with room bytes allowed from
 * here: 1 when the reply ended with it, 0 to read on, -1 on an error
 * (*err, *why).
 */
static int
frame_http_eoh(const struct framing *f, struct frame_state *st,
    uint64_t room, enum frame_err *err, const char **why)
{
	if (st->status < 200) {
		/* Interim (101 was refused earlier): the final one follows. */
		st->phase = H_STATUS;
		st->idx = 0;
		st->status = 0;
		st->flags = 0;
		st->cl = 0;
		st->num = 0;
		return 0;
	}
	if ((st->flags & (HF_CL | HF_TE)) == (HF_CL | HF_TE)) {
		/* Which one a proxy believes is how requests get smuggled. */
		*err = FRAME_BAD_LENGTH;
		*why = "both content-length and transfer-encoding";
		return -1;
	}
	if (f->http_head || st->status == 204 || st->status == 304)
		return 1;
	if (st->flags & HF_TE) {
		if ((st->flags & HF_CHUNKED) == 0) {
			*err = FRAME_UNSUPPORTED;
			*why = "transfer-encoding without chunked last";
			return -1;
		}
		st->phase = H_CHUNK_SIZE;
		st->num = 0;
		st->sub = 0;
		return 0;
	}
	if ((st->flags & HF_CL) == 0) {
		/* Its body runs until the peer closes. */
		*err = FRAME_UNSUPPORTED;
		*why = "response without length";
		return -1;
	}
	if (st->cl == 0)
		return 1;
	if (st->cl > room) {
		*err = FRAME_TOO_LARGE;
		*why = "content-length over max_reply";
		return -1;
	}
	st->left = st->cl;
	st->phase = H_BODY;
	return 0;
}

static size_t
frame_http(const struct framing *f, struct frame_state *st,
    const char *p0, size_t n, uint64_t room, enum frame_rc *rc,
    struct frame_reply *rep)
{
	const char	*p = p0, *end = p0 + n, *q;
	const char	*why;
	enum frame_err	 err;
	unsigned	 c, name, sub;
	uint8_t		 cand;
	uint64_t	 k, num;
	size_t		 len;
	int		 d, r;

#define HTTP_FAIL(e, w)	frame_fail(st, rc, rep, (e), (w), p - p0)
#define HTTP_DONE()	frame_done(st, rc, rep, (st->flags & HF_CLOSE) || \
	    ((st->flags & (HF_V10 | HF_KEEPALIVE)) == HF_V10), false, p - p0)

	while (p < end) {
		switch (st->phase) {
		case H_STATUS:
			if (st->idx == 0 && end - p >= 13 &&
			    frame_http_status(st, p)) {
				if (st->status == 101)
					return HTTP_FAIL(FRAME_UNSUPPORTED,
					    "101 switching protocols");
				p += 13;
				if (p[-1] == '\n')
					goto line;
				goto skip;
			}
			c = (unsigned char)*p;
			if (st->idx < 7) {
				if (c != (unsigned char)"HTTP/1."[st->idx])
					return HTTP_FAIL(FRAME_SYNTAX,
					    "not an HTTP/1.x status line");
			} else if (st->idx == 7) {
				if (c - '0' >= 10u)
					return HTTP_FAIL(FRAME_SYNTAX,
					    "not an HTTP/1.x status line");
				if (c == '0')
					st->flags |= HF_V10;
			} else if (st->idx == 8) {
				if (c != ' ')
					return HTTP_FAIL(FRAME_SYNTAX,
					    "not an HTTP/1.x status line");
			} else if (st->idx < 12) {
				/* 100 to 599 (RFC 9110, section 15) */
				if (c - '0' >= 10u || (st->idx == 9 &&
				    (c == '0' || c > '5')))
					return HTTP_FAIL(FRAME_SYNTAX,
					    "bad status code");
				/* In num until whole, for rep->status. */
				st->num = st->num * 10 + (c - '0');
				if (st->idx == 11 &&
				    (st->status = st->num) == 101)
					return HTTP_FAIL(FRAME_UNSUPPORTED,
					    "101 switching protocols");
			} else {
				/* The reason phrase may be empty. */
				st->idx = 0;
				p++;
				if (c == '\n')
					goto line;
				if (c == ' ' || c == '\r')
					goto skip;
				return HTTP_FAIL(FRAME_SYNTAX, "bad status code");
			}
			st->idx++;
			p++;
			break;
		/*
		 * Header lines go round between H_SKIP and H_LINE without
		 * leaving this case while they are whole in view: st->phase
		 * is only written when they are not.
		 */
		case H_SKIP:
skip:
			if ((q = memchr(p, '\n', end - p)) == NULL) {
				st->phase = H_SKIP;
				p = end;
				break;
			}
			p = q + 1;
line:
			if (p == end) {
				st->phase = H_LINE;
				break;
			}
			/* FALLTHROUGH */
		case H_LINE:
			c = (unsigned char)*p;
			if (c == '\r') {
				if (++p == end) {
					st->phase = H_EOH;
					break;
				}
				goto eoh_lf;
			}
			if (c == '\n') {
				p++;
				goto eoh;
			}
			c |= 0x20;
			if (c != 'c' && c != 't') {
				p++;
				goto skip;
			}
			if (end - p >= 18) {
				if ((len = frame_http_name(p, &cand)) == 0) {
					p++;
					goto skip;
				}
				p += len;
				frame_http_value(st, cand);
				if (cand == HN_CL) {
					if ((q = frame_http_cl_line(st, p,
					    end)) == NULL)
						goto cl;
				} else if ((q = frame_http_token_line(st, p,
				    end)) == NULL)
					break;
				p = q;
				goto line;
			}
			st->phase = H_NAME;
			st->cand = c == 'c' ? HN_CL : HN_TE;
			st->idx = 1;
			p++;
			break;
		case H_NAME:
			/* The name is cut by the end of a piece: bytewise. */
			c = (unsigned char)*p;
			name = (unsigned char)http_names[st->cand][st->idx];
			if (name == '\0') {
				if (c != ':')
					goto skip;
				p++;
				frame_http_value(st, st->cand);
				break;
			}
			c = frame_lower(c);
			if (c != name) {
				/* "con" starts both content-length and connection. */
				if (st->cand == HN_CL && st->idx == 3 && c == 'n')
					st->cand = HN_CONN;
				else
					goto skip;
			}
			st->idx++;
			p++;
			break;
		case H_CL:
cl:
			/* In locals: a store to st could alias *p. */
			num = st->num;
			sub = st->sub;
			for (; p < end; p++) {
				c = (unsigned char)*p;
				if (c - '0' < 10u) {
					c -= '0';
					if ((sub & HD_ENDED) != 0)
						return HTTP_FAIL(FRAME_BAD_LENGTH,
						    "content-length is not a number");
					if (num > FRAME_U64_DIV10 ||
					    (num == FRAME_U64_DIV10 &&
					    c > UINT64_MAX % 10))
						return HTTP_FAIL(FRAME_BAD_LENGTH,
						    "content-length overflows");
					num = num * 10 + c;
					sub |= HD_DIGIT;
				} else if (c == ' ' || c == '\t' || c == '\r') {
					if (sub & HD_DIGIT)
						sub |= HD_ENDED;
				} else if (c == '\n')
					break;
				else
					return HTTP_FAIL(FRAME_BAD_LENGTH,
					    "content-length is not a number");
			}
			if (p == end) {
				st->num = num;
				st->sub = sub;
				break;
			}
			if ((sub & HD_DIGIT) == 0)
				return HTTP_FAIL(FRAME_BAD_LENGTH,
				    "empty content-length");
			if ((st->flags & HF_CL) && st->cl != num)
				return HTTP_FAIL(FRAME_BAD_LENGTH,
				    "two different content-lengths");
			p++;
			st->cl = num;
			st->flags |= HF_CL;
			goto line;
		case H_TOKENS:
			for (; p < end; p++) {
				c = (unsigned char)*p;
				if (c == '\n' || c == ',') {
					frame_http_token_end(st);
					if (c == '\n')
						break;
				} else if (c == ' ' || c == '\t' || c == '\r') {
					if (st->idx > 0)
						st->sub |= HW_ENDED;
				} else
					frame_http_token_byte(st, c);
			}
			if (p == end)
				break;
			p++;
			goto line;
		case H_EOH:
eoh_lf:
			if (*p != '\n')
				return HTTP_FAIL(FRAME_SYNTAX,
				    "CR without LF in the header");
			p++;
eoh:
			r = frame_http_eoh(f, st, room - (uint64_t)(p - p0),
			    &err, &why);
			if (r < 0)
				return HTTP_FAIL(err, why);
			if (r > 0)
				return HTTP_DONE();
			if (st->phase != H_BODY || p == end)
				break;
			/* FALLTHROUGH */
		case H_BODY:
			k = (uint64_t)(end - p);
			if (k > st->left)
				k = st->left;
			p += k;
			if ((st->left -= k) == 0)
				return HTTP_DONE();
			break;
		case H_CHUNK_SIZE:
			for (; p < end; p++) {
				c = (unsigned char)*p;
				if ((d = frame_hex(c)) >= 0) {
					if ((st->sub & HD_ENDED) != 0)
						return HTTP_FAIL(FRAME_SYNTAX,
						    "chunk size is not hex");
					if ((st->num >> 60) != 0)
						return HTTP_FAIL(FRAME_BAD_LENGTH,
						    "chunk size overflows");
					st->num = st->num << 4 | (unsigned)d;
					st->sub |= HD_DIGIT;
				} else if ((st->sub & HD_DIGIT) == 0)
					return HTTP_FAIL(FRAME_SYNTAX,
					    "chunk size is not hex");
				else if (c == '\n' || c == ';')
					break;
				else if (c == ' ' || c == '\t' || c == '\r')
					st->sub |= HD_ENDED;
				else
					return HTTP_FAIL(FRAME_SYNTAX,
					    "chunk size is not hex");
			}
			if (p == end)
				break;
			if (*p++ == ';') {
				st->phase = H_CHUNK_EXT;
				break;
			}
			goto chunk;
		case H_CHUNK_EXT:
			if ((q = memchr(p, '\n', end - p)) == NULL) {
				p = end;
				break;
			}
			p = q + 1;
chunk:
			/* The size line ended. */
			if (st->num == 0) {
				st->phase = H_TRAILER;
				break;
			}
			if (st->num > room - (uint64_t)(p - p0))
				return HTTP_FAIL(FRAME_TOO_LARGE,
				    "chunk over max_reply");
			st->left = st->num;
			st->phase = H_CHUNK_DATA;
			break;
		case H_CHUNK_DATA:
			k = (uint64_t)(end - p);
			if (k > st->left)
				k = st->left;
			p += k;
			if ((st->left -= k) == 0)
				st->phase = H_CHUNK_CR;
			break;
		case H_CHUNK_CR:
			if (*p == '\n')
				st->phase = H_CHUNK_SIZE;
			else if (*p == '\r')
				st->phase = H_CHUNK_LF;
			else
				return HTTP_FAIL(FRAME_SYNTAX,
				    "chunk data not followed by CRLF");
			st->num = 0;
			st->sub = 0;
			p++;
			break;
		case H_CHUNK_LF:
			if (*p != '\n')
				return HTTP_FAIL(FRAME_SYNTAX,
				    "chunk data not followed by CRLF");
			st->phase = H_CHUNK_SIZE;
			p++;
			break;
		case H_TRAILER:
			c = (unsigned char)*p++;
			if (c == '\n')
				return HTTP_DONE();
			st->phase = c == '\r' ? H_TRAILER_LF : H_TRAILER_SKIP;
			break;
		case H_TRAILER_SKIP:
			if ((q = memchr(p, '\n', end - p)) == NULL) {
				p = end;
				break;
			}
			p = q + 1;
			st->phase = H_TRAILER;
			break;
		case H_TRAILER_LF:
			if (*p != '\n')
				return HTTP_FAIL(FRAME_SYNTAX,
				    "CR without LF in the trailer");
			p++;
			return HTTP_DONE();
		}
	}
	*rc = FRAME_MORE;
	return n;
#undef HTTP_FAIL
#undef HTTP_DONE
}

/* A RESP element ended: whether it was the whole reply. */
static inline bool
frame_resp_pop(struct frame_state *st)
{
	while (st->depth > 0) {
		if (--st->counts[st->depth - 1] > 0)
			return false;
		st->depth--;
	}
	return true;
}

static size_t
frame_resp(const struct framing *f, struct frame_state *st,
    const char *p0, size_t n, uint64_t room, enum frame_rc *rc,
    struct frame_reply *rep)
{
	const char	*p = p0, *end = p0 + n, *q;
	unsigned	 c, sub;
	uint64_t	 k, num;

#define RESP_FAIL(e, w)	frame_fail(st, rc, rep, (e), (w), p - p0)

	/*
	 * While bytes are in view the parser goes from phase to phase by
	 * goto; st->phase is written only when they run out.
	 */
	while (p < end) {
		switch (st->phase) {
		case R_TYPE:
type:
			switch (*p) {
			case '-':
				if (st->depth == 0)
					st->flags |= RF_ERROR;
				/* FALLTHROUGH */
			case '+':
			case ':':
				p++;
				goto line;
			case '$':
				st->sub = 0;
				break;
			case '*':
				st->sub = RS_ARRAY;
				break;
			case '_': case ',': case '#': case '!': case '=':
			case '(': case '%': case '~': case '>': case '|':
				return RESP_FAIL(FRAME_UNSUPPORTED,
				    "RESP3 type (only RESP2 is framed)");
			default:
				return RESP_FAIL(FRAME_SYNTAX,
				    "unknown RESP type byte");
			}
			st->num = 0;
			if (++p == end) {
				st->phase = R_NUM;
				break;
			}
			goto num;
		case R_LINE:
line:
			/* Simple strings hold neither CR nor LF. */
			if ((q = memchr(p, '\r', end - p)) == NULL) {
				st->phase = R_LINE;
				p = end;
				break;
			}
			p = q + 1;
			if (p == end) {
				st->phase = R_LINE_LF;
				break;
			}
			/* FALLTHROUGH */
		case R_LINE_LF:
			if (*p != '\n')
				return RESP_FAIL(FRAME_SYNTAX,
				    "CR not followed by LF");
			p++;
			goto pop;
		case R_NUM:
num:
			/* In locals: a store to st could alias *p. */
			num = st->num;
			sub = st->sub;
			for (; p < end; p++) {
				c = (unsigned char)*p;
				if (c - '0' < 10u) {
					c -= '0';
					if (num > FRAME_U64_DIV10 ||
					    (num == FRAME_U64_DIV10 &&
					    c > UINT64_MAX % 10))
						return RESP_FAIL(FRAME_BAD_LENGTH,
						    "length overflows");
					num = num * 10 + c;
					sub |= RS_DIGIT;
				} else if (c == '\r' && (sub & RS_DIGIT))
					break;
				else if (c == '-' &&
				    (sub & (RS_NEG | RS_DIGIT)) == 0)
					sub |= RS_NEG;
				else
					return RESP_FAIL(FRAME_BAD_LENGTH,
					    "malformed length");
			}
			st->num = num;
			st->sub = sub;
			if (p == end) {
				st->phase = R_NUM;
				break;
			}
			if (++p == end) {
				st->phase = R_NUM_LF;
				break;
			}
			/* FALLTHROUGH */
		case R_NUM_LF:
			if (*p != '\n')
				return RESP_FAIL(FRAME_BAD_LENGTH,
				    "malformed length");
			p++;
			k = room - (uint64_t)(p - p0);
			if (st->sub & RS_NEG) {
				if (st->num != 1)
					return RESP_FAIL(FRAME_BAD_LENGTH,
					    "length below -1");
				goto pop;	/* null */
			}
			if ((st->sub & RS_ARRAY) == 0) {
				if (k < 2 || st->num > k - 2)
					return RESP_FAIL(FRAME_TOO_LARGE,
					    "bulk over max_reply");
				st->left = st->num;
				st->phase = R_BULK;
				break;
			}
			if (st->num == 0)
				goto pop;	/* empty */
			/* An element is 3 bytes or more. */
			if (st->num > k / 3 || st->num > UINT32_MAX)
				return RESP_FAIL(FRAME_TOO_LARGE,
				    "array over max_reply");
			if (st->depth == FRAME_RESP_DEPTH)
				return RESP_FAIL(FRAME_NESTING,
				    "arrays nested too deep");
			st->counts[st->depth++] = (uint32_t)st->num;
			if (p == end) {
				st->phase = R_TYPE;
				break;
			}
			goto type;
		case R_BULK:
			k = (uint64_t)(end - p);
			if (k > st->left)
				k = st->left;
			p += k;
			if ((st->left -= k) > 0)
				break;
			if (p == end) {
				st->phase = R_BULK_CR;
				break;
			}
			/* FALLTHROUGH */
		case R_BULK_CR:
			if (*p != '\r')
				return RESP_FAIL(FRAME_SYNTAX,
				    "bulk not followed by CRLF");
			if (++p == end) {
				st->phase = R_BULK_LF;
				break;
			}
			/* FALLTHROUGH */
		case R_BULK_LF:
			if (*p != '\n')
				return RESP_FAIL(FRAME_SYNTAX,
				    "bulk not followed by CRLF");
			p++;
pop:
			/* An element ended. */
			if (frame_resp_pop(st))
				return frame_done(st, rc, rep, false,
				    (st->flags & RF_ERROR) != 0, p - p0);
			if (p == end) {
				st->phase = R_TYPE;
				break;
			}
			goto type;
		}
	}
	*rc = FRAME_MORE;
	return n;
#undef RESP_FAIL
}

static size_t
frame_length(const struct framing *f, struct frame_state *st,
    const char *p0, size_t n, uint64_t room, enum frame_rc *rc,
    struct frame_reply *rep)
{
	const char	*p = p0, *end = p0 + n;
	uint64_t	 pos, head, k, body, neg;

	if (st->phase == L_HEAD) {
		/* Where we are in the reply says offset or field. */
		pos = st->total;
		head = f->lp_offset + f->lp_size;
		if (pos < f->lp_offset) {
			k = f->lp_offset - pos;
			if (k > n)
				k = n;
			p += k;
			pos += k;
		}
		for (; p < end && pos < head; p++, pos++)
			st->num = st->num << 8 | (unsigned char)*p;
		if (pos < head) {
			*rc = FRAME_MORE;
			return n;
		}
		body = st->num;
		if (f->lp_adjust < 0) {
			neg = (uint64_t)0 - (uint64_t)f->lp_adjust;
			if (body < neg)
				return frame_fail(st, rc, rep, FRAME_BAD_LENGTH,
				    "length + adjust is negative", p - p0);
			body -= neg;
		} else {
			if (body > UINT64_MAX - (uint64_t)f->lp_adjust)
				return frame_fail(st, rc, rep, FRAME_TOO_LARGE,
				    "length over max_reply", p - p0);
			body += (uint64_t)f->lp_adjust;
		}
		if (body > room - (uint64_t)(p - p0))
			return frame_fail(st, rc, rep, FRAME_TOO_LARGE,
			    "length over max_reply", p - p0);
		if (body == 0)
			return frame_done(st, rc, rep, false, false, p - p0);
		st->left = body;
		st->phase = L_BODY;
	}
	k = (uint64_t)(end - p);
	if (k >= st->left)
		return frame_done(st, rc, rep, false, false,
		    (size_t)(p - p0) + st->left);
	st->left -= k;
	*rc = FRAME_MORE;
	return n;
}

static size_t
frame_until(const struct framing *f, struct frame_state *st,
    const char *p0, size_t n, enum frame_rc *rc, struct frame_reply *rep)
{
	const unsigned char	*d = (const unsigned char *)f->delim;
	const unsigned char	*p = (const unsigned char *)p0, *end = p + n;
	const unsigned char	*q;
	unsigned		 matched = st->idx, c;

	while (p < end) {
		if (matched == 0) {
			/* Nothing matched yet: look for the first byte. */
			if ((q = memchr(p, d[0], end - p)) == NULL)
				break;
			p = q + 1;
			matched = 1;
		} else {
			c = *p++;
			while (matched > 0 && d[matched] != c)
				matched = f->fr_fail[matched - 1];
			if (d[matched] == c)
				matched++;
		}
		if (matched == f->delim_len)
			return frame_done(st, rc, rep, false, false,
			    p - (const unsigned char *)p0);
	}
	st->idx = matched;
	*rc = FRAME_MORE;
	return n;
}

size_t
frame_feed(const struct framing *f, struct frame_state *st, const char *p,
    size_t n, enum frame_rc *rc, struct frame_reply *rep)
{
	uint64_t	 room = f->fr_max - st->total, left;
	size_t		 m = n, used;

	/*
	 * A parser sees no more than the reply may still have: if that is
	 * not enough to end it, the reply is too large.
	 */
	if (m > room)
		m = room;
	switch (f->kind) {
	case FRAME_HTTP:
		used = frame_http(f, st, p, m, room, rc, rep);
		break;
	case FRAME_RESP:
		used = frame_resp(f, st, p, m, room, rc, rep);
		break;
	case FRAME_LENGTH:
		used = frame_length(f, st, p, m, room, rc, rep);
		break;
	case FRAME_UNTIL:
		used = frame_until(f, st, p, m, rc, rep);
		break;
	case FRAME_SIZE:
		left = f->size - st->total;
		if (m >= left)
			return frame_done(st, rc, rep, false, false, left);
		used = m;
		*rc = FRAME_MORE;
		break;
	default:
		return frame_fail(st, rc, rep, FRAME_UNSUPPORTED,
		    "unknown framing", 0);
	}
	if (*rc == FRAME_MORE) {
		if (m < n)
			return frame_fail(st, rc, rep, FRAME_TOO_LARGE,
			    "reply over max_reply", m);
		st->total += used;
	}
	return used;
}
