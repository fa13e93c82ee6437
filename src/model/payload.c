/* SPDX-License-Identifier: ISC */
/*
 * payload.c -- messages as bytes or templates: hex strings, payload files,
 * template parsing and the per-message expansion (see payload.h).
 * Library-like: neither logs nor exits, except on out-of-memory.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cmd.h"
#include "common/util.h"
#include "model/payload.h"

#define PAYLOAD_LOAD_MAX	(LOAD_NAME_MAX - 1)
#define PAYLOAD_U64_MAX		20	/* digits of UINT64_MAX */
/* Past this a '{' is taken as unclosed rather than a very long name. */
#define PAYLOAD_FIELD_NAME_MAX	32
/* Segment offsets are 32 bits. */
#define PAYLOAD_TMPL_MAX	UINT32_MAX

static const char payload_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

static const uint64_t payload_pow10[PAYLOAD_U64_MAX] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull,
	10000000000000000000ull,
};

/* "column N", or "line L column N" when the text has lines before. */
static void
payload_where(const char *in, size_t pos, char *buf, size_t buflen)
{
	size_t	 line = 1, bol = 0, i;

	for (i = 0; i < pos; i++) {
		if (in[i] == '\n') {
			line++;
			bol = i + 1;
		}
	}
	if (line == 1)
		snprintf(buf, buflen, "column %zu", pos + 1);
	else
		snprintf(buf, buflen, "line %zu column %zu", line,
		    pos - bol + 1);
}

/* A byte for an error message: itself if printable, else \xHH. */
static void
payload_vis(unsigned char c, char *buf, size_t buflen)
{
	if (c >= 0x20 && c < 0x7f && c != '\'')
		snprintf(buf, buflen, "'%c'", c);
	else
		snprintf(buf, buflen, "'\\x%02x'", c);
}

static bool
payload_printable(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return false;
	}
	return true;
}

static int
payload_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
payload_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
payload_hex_decode(const char *in, char **out, size_t *outlen, char *why,
    size_t whylen)
{
	char	 where[64], vis[16];
	char	*buf;
	size_t	 i, len, n = 0, half = 0;
	int	 hi = -1, v;

	*out = NULL;
	*outlen = 0;
	len = strlen(in);
	i = strncmp(in, "hex:", 4) == 0 ? 4 : 0;
	/* At most one byte per two characters left. */
	buf = xmalloc((len - i) / 2 + 1);
	for (; i < len; i++) {
		unsigned char	 c = (unsigned char)in[i];

		if (payload_space(c)) {
			/* Whitespace parts bytes, never the digits of one. */
			if (hi != -1)
				goto alone;
			continue;
		}
		if ((v = payload_hexval(c)) == -1) {
			payload_vis(c, vis, sizeof(vis));
			payload_where(in, i, where, sizeof(where));
			snprintf(why, whylen, "%s at %s is not a hex digit",
			    vis, where);
			goto fail;
		}
		if (hi == -1) {
			hi = v;
			half = i;
		} else {
			buf[n++] = (char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi != -1) {
		payload_where(in, half, where, sizeof(where));
		snprintf(why, whylen, "odd number of hex digits: the one at "
		    "%s has no pair", where);
		goto fail;
	}
	if (n == 0) {
		snprintf(why, whylen, "no bytes in hex string (give digit "
		    "pairs, e.g. \"hex:01 02 ff\")");
		goto fail;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;

alone:
	payload_where(in, half, where, sizeof(where));
	snprintf(why, whylen, "hex digit at %s stands alone (a byte is two "
	    "digits; whitespace may only come between bytes)", where);
fail:
	free(buf);
	return -1;
}

static const char *
payload_ftype(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
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

int
payload_file_read(const char *path, size_t max, char **out, size_t *outlen,
    char *why, size_t whylen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 size, got = 0;
	ssize_t		 r;
	int		 fd;

	*out = NULL;
	*outlen = 0;
	/*
	 * O_NONBLOCK so that opening a FIFO without a writer (or a device
	 * that waits for carrier) returns at once; fstat then refuses it.
	 * It has no effect on the reads of a regular file.
	 */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY))
	    == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: %s, not a regular file", path,
		    payload_ftype(st.st_mode));
		goto fail;
	}
	if (st.st_size == 0) {
		snprintf(why, whylen, "%s: file is empty", path);
		goto fail;
	}
	if ((uintmax_t)st.st_size > max) {
		snprintf(why, whylen, "%s: file is too large (%jd bytes, at "
		    "most %zu)", path, (intmax_t)st.st_size, max);
		goto fail;
	}
	size = (size_t)st.st_size;
	buf = xmalloc(size + 1);
	while (got < size) {
		if ((r = read(fd, buf + got, size - got)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0) {
			snprintf(why, whylen, "%s: file shrank while being "
			    "read (%zu of %zu bytes)", path, got, size);
			goto fail;
		}
		got += (size_t)r;
	}
	close(fd);
	buf[size] = '\0';
	*out = buf;
	*outlen = size;
	return 0;

fail:
	free(buf);
	close(fd);
	return -1;
}

/*
 * What a field's name means; PF_LITERAL when unknown.  *n gets rand's
 * digit count, or 0 with a reason in why when it is bad.
 */
static enum payload_field
payload_field_name(const char *name, size_t len, uint32_t *n, char *why,
    size_t whylen)
{
	static const struct {
		const char		*name;
		enum payload_field	 kind;
	} names[] = {
		{ "seq", PF_SEQ },
		{ "conn", PF_CONN },
		{ "load", PF_LOAD },
		{ "time_us", PF_TIME_US },
	};
	size_t	 i;
	uint32_t v = 0;

	*n = 0;
	for (i = 0; i < NELEM(names); i++) {
		if (strlen(names[i].name) == len &&
		    memcmp(names[i].name, name, len) == 0)
			return names[i].kind;
	}
	if (len < 4 || memcmp(name, "rand", 4) != 0 ||
	    (len > 4 && name[4] != ':'))
		return PF_LITERAL;
	if (len <= 5) {
		snprintf(why, whylen, "{rand} needs a digit count, {rand:N} "
		    "with N from 1 to %d", PAYLOAD_RAND_MAX);
		return PF_RAND;
	}
	/* Three digits are enough to tell any bad N from a good one. */
	for (i = 5; i < len; i++) {
		if (name[i] < '0' || name[i] > '9' || i >= 8) {
			v = 0;
			break;
		}
		v = v * 10 + (uint32_t)(name[i] - '0');
	}
	if (v < 1 || v > PAYLOAD_RAND_MAX) {
		snprintf(why, whylen, "{%.*s}: N of {rand:N} must be a number "
		    "from 1 to %d", (int)len, name, PAYLOAD_RAND_MAX);
		return PF_RAND;
	}
	*n = v;
	return PF_RAND;
}

static size_t
payload_field_max(enum payload_field kind, uint32_t n)
{
	switch (kind) {
	case PF_LITERAL:
		return n;
	case PF_SEQ:
	case PF_CONN:
	case PF_TIME_US:
		return PAYLOAD_U64_MAX;
	case PF_LOAD:
		return PAYLOAD_LOAD_MAX;
	case PF_RAND:
		return n;
	}
	return 0;
}

/*
 * One pass over a template.  With t->segs and t->bytes NULL it only checks
 * and counts (nsegs, nbytes, max_len), so that the second pass can fill
 * arrays of the exact size: a large file of "{{" must not cost a segment
 * per brace.
 */
static int
payload_scan(const char *in, size_t len, struct payload_tmpl *t, char *why,
    size_t whylen)
{
	char			 where[64], err[160];
	struct payload_seg	*seg;
	enum payload_field	 kind;
	size_t			 i, j, lit = 0;
	uint32_t		 n;

	t->nbytes = 0;
	t->nsegs = 0;
	t->max_len = 0;
	for (i = 0; i <= len; i++) {
		char	 c = i < len ? in[i] : '\0';

		if (i < len && c != '{' && c != '}') {
			if (t->bytes != NULL)
				t->bytes[t->nbytes] = c;
			t->nbytes++;
			continue;
		}
		if (i + 1 < len && in[i + 1] == c) {
			/* {{ or }}: one brace of the text. */
			if (t->bytes != NULL)
				t->bytes[t->nbytes] = c;
			t->nbytes++;
			i++;
			continue;
		}
		if (c == '}') {
			payload_where(in, i, where, sizeof(where));
			snprintf(why, whylen, "lone '}' at %s (write '}}' for "
			    "a brace)", where);
			return -1;
		}
		/* A field or the end: the literal run before it is done. */
		if (t->nbytes > lit) {
			if (t->segs != NULL) {
				seg = &t->segs[t->nsegs];
				seg->kind = PF_LITERAL;
				seg->off = (uint32_t)lit;
				seg->len = (uint32_t)(t->nbytes - lit);
			}
			t->nsegs++;
			t->max_len += t->nbytes - lit;
			lit = t->nbytes;
		}
		if (i == len)
			break;
		for (j = i + 1; j < len && j - i <= PAYLOAD_FIELD_NAME_MAX;
		    j++) {
			if (in[j] == '}' || in[j] == '{' || in[j] == '\n')
				break;
		}
		payload_where(in, i, where, sizeof(where));
		if (j == len || in[j] != '}') {
			snprintf(why, whylen, "'{' at %s is not closed (write "
			    "'{{' for a brace)", where);
			return -1;
		}
		err[0] = '\0';
		kind = payload_field_name(in + i + 1, j - i - 1, &n, err,
		    sizeof(err));
		if (kind == PF_LITERAL) {
			snprintf(why, whylen, "unknown field {%.*s} at %s "
			    "(known: {seq} {conn} {load} {time_us} {rand:N}; "
			    "write '{{' for a brace)",
			    payload_printable(in + i + 1, j - i - 1) ?
			    (int)(j - i - 1) : 0, in + i + 1, where);
			return -1;
		}
		if (kind == PF_RAND && n == 0) {
			snprintf(why, whylen, "%s at %s", err, where);
			return -1;
		}
		if (t->segs != NULL) {
			seg = &t->segs[t->nsegs];
			seg->kind = kind;
			seg->off = 0;
			seg->len = n;
		}
		t->nsegs++;
		t->max_len += payload_field_max(kind, n);
		i = j;
	}
	if (t->nbytes == 0 && t->nsegs == 0) {
		snprintf(why, whylen, "message must not be empty");
		return -1;
	}
	return 0;
}

int
payload_tmpl_parse(const char *in, size_t len, struct payload_tmpl *t,
    char *why, size_t whylen)
{
	struct payload_tmpl	 c;
	unsigned		 i;

	memset(t, 0, sizeof(*t));
	if (len > PAYLOAD_TMPL_MAX) {
		snprintf(why, whylen, "message is too long (%zu bytes)", len);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	if (payload_scan(in, len, &c, why, whylen) == -1)
		return -1;
	c.bytes = xmalloc(c.nbytes + 1);
	c.segs = xcalloc(c.nsegs, sizeof(*c.segs));
	if (payload_scan(in, len, &c, why, whylen) == -1)
		abort();	/* the first pass said it was good */
	c.bytes[c.nbytes] = '\0';
	c.is_static = true;
	for (i = 0; i < c.nsegs; i++) {
		if (c.segs[i].kind != PF_LITERAL)
			c.is_static = false;
	}
	*t = c;
	return 0;
}

int
payload_tmpl_bytes(const char *in, size_t len, struct payload_tmpl *t,
    char *why, size_t whylen)
{
	memset(t, 0, sizeof(*t));
	if (len == 0) {
		snprintf(why, whylen, "message must not be empty");
		return -1;
	}
	if (len > PAYLOAD_TMPL_MAX) {
		snprintf(why, whylen, "message is too long (%zu bytes)", len);
		return -1;
	}
	t->bytes = xmalloc(len + 1);
	memcpy(t->bytes, in, len);
	t->bytes[len] = '\0';
	t->nbytes = len;
	t->segs = xcalloc(1, sizeof(*t->segs));
	t->segs[0].kind = PF_LITERAL;
	t->segs[0].off = 0;
	t->segs[0].len = (uint32_t)len;
	t->nsegs = 1;
	t->max_len = len;
	t->is_static = true;
	return 0;
}

int
payload_msg_parse(const char *in, bool tmpl, struct payload_tmpl *t,
    char *why, size_t whylen)
{
	char	*bytes;
	size_t	 len;
	int	 rv;

	memset(t, 0, sizeof(*t));
	if (strncmp(in, "hex:", 4) == 0) {
		if (payload_hex_decode(in, &bytes, &len, why, whylen) == -1)
			return -1;
		rv = payload_tmpl_bytes(bytes, len, t, why, whylen);
		free(bytes);
		return rv;
	}
	if (tmpl)
		return payload_tmpl_parse(in, strlen(in), t, why, whylen);
	return payload_tmpl_bytes(in, strlen(in), t, why, whylen);
}

void
payload_tmpl_dup(struct payload_tmpl *dst, const struct payload_tmpl *src)
{
	*dst = *src;
	dst->bytes = xmalloc(src->nbytes + 1);
	memcpy(dst->bytes, src->bytes, src->nbytes + 1);
	dst->segs = xcalloc(src->nsegs, sizeof(*src->segs));
	memcpy(dst->segs, src->segs, src->nsegs * sizeof(*src->segs));
}

bool
payload_tmpl_equal(const struct payload_tmpl *a, const struct payload_tmpl *b)
{
	unsigned	 i;

	if (a->nbytes != b->nbytes || a->nsegs != b->nsegs)
		return false;
	if (memcmp(a->bytes, b->bytes, a->nbytes) != 0)
		return false;
	for (i = 0; i < a->nsegs; i++) {
		if (a->segs[i].kind != b->segs[i].kind ||
		    a->segs[i].off != b->segs[i].off ||
		    a->segs[i].len != b->segs[i].len)
			return false;
	}
	return true;
}

void
payload_tmpl_free(struct payload_tmpl *t)
{
	free(t->bytes);
	free(t->segs);
	memset(t, 0, sizeof(*t));
}

/* v in decimal at p; returns the digits written (at most 20). */
static size_t
payload_u64(char *p, uint64_t v)
{
	size_t	 n, i;

	/*
	 * Digits from the bit length (1233 / 4096 ~ log10(2)), then one
	 * compare: a table walk would cost a compare per digit.  v | 1 makes
	 * 0 one digit and changes no other count (powers of ten above 1 are
	 * even).
	 */
	n = (size_t)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;
	n += (v | 1) >= payload_pow10[n];
	/* From the right, two digits at a time: half the divisions. */
	i = n;
	while (v >= 100) {
		uint64_t q = v / 100;

		i -= 2;
		memcpy(p + i, payload_pairs + (v - q * 100) * 2, 2);
		v = q;
	}
	if (v >= 10)
		memcpy(p + i - 2, payload_pairs + v * 2, 2);
	else
		p[i - 1] = (char)('0' + v);
	return n;
}

/*
 * n random digits.  Nine digits per xorshift64* draw: 2^64 mod 10^9 leaves
 * a bias of 5e-11, where 19 per draw (10^19 > 2^64 / 2) would make the
 * lower half of values twice as likely.
 */
static void
payload_rand(char *p, uint32_t n, uint64_t *rng)
{
	uint64_t	 x = *rng, r;
	uint32_t	 k;

	if (x == 0)
		x = 0x9E3779B97F4A7C15ull;	/* 0 is xorshift's fixpoint */
	while (n > 0) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		r = (x * 0x2545F4914F6CDD1Dull) % 1000000000ull;
		for (k = 0; k < 9 && n > 0; k++, n--) {
			*p++ = (char)('0' + r % 10);
			r /= 10;
		}
	}
	*rng = x;
}

size_t
payload_expand(const struct payload_tmpl *t, const struct payload_vars *v,
    char *buf, size_t buflen)
{
	const struct payload_seg	*seg = t->segs, *end = seg + t->nsegs;
	char				*p = buf;
	size_t				 n;

	if (buflen < t->max_len)
		return 0;
	for (; seg < end; seg++) {
		switch (seg->kind) {
		case PF_LITERAL:
			memcpy(p, t->bytes + seg->off, seg->len);
			p += seg->len;
			break;
		case PF_SEQ:
			p += payload_u64(p, v->seq);
			break;
		case PF_CONN:
			p += payload_u64(p, v->conn);
			break;
		case PF_LOAD:
			/* max_len allows a valid name only; cut the rest. */
			n = v->load_len < PAYLOAD_LOAD_MAX ? v->load_len :
			    PAYLOAD_LOAD_MAX;
			memcpy(p, v->load, n);
			p += n;
			break;
		case PF_TIME_US:
			p += payload_u64(p, v->time_us);
			break;
		case PF_RAND:
			payload_rand(p, seg->len, v->rng);
			p += seg->len;
			break;
		}
	}
	return (size_t)(p - buf);
}

int
payload_add(struct payload *pl, struct payload_tmpl *t, char *why,
    size_t whylen)
{
	struct payload_tmpl	*v;
	unsigned		 cap;

	if (pl->nmsgs >= PAYLOAD_MSGS_MAX) {
		snprintf(why, whylen, "too many messages (at most %d)",
		    PAYLOAD_MSGS_MAX);
		return -1;
	}
	/* Capacity is the next power of two: grow when full. */
	if (pl->nmsgs == 0 || (pl->nmsgs & (pl->nmsgs - 1)) == 0) {
		cap = pl->nmsgs == 0 ? 1 : pl->nmsgs * 2;
		v = xcalloc(cap, sizeof(*v));
		if (pl->nmsgs > 0)
			memcpy(v, pl->msgs, pl->nmsgs * sizeof(*v));
		free(pl->msgs);
		pl->msgs = v;
	}
	if (pl->nmsgs == 0)
		pl->is_static = true;
	pl->msgs[pl->nmsgs++] = *t;
	if (t->max_len > pl->max_len)
		pl->max_len = t->max_len;
	if (!t->is_static)
		pl->is_static = false;
	memset(t, 0, sizeof(*t));
	return 0;
}

void
payload_dup(struct payload *dst, const struct payload *src)
{
	unsigned	 i, cap;

	*dst = *src;
	if (src->nmsgs == 0) {
		dst->msgs = NULL;
		return;
	}
	/* payload_add() takes the capacity to be the next power of two. */
	for (cap = 1; cap < src->nmsgs; cap *= 2)
		;
	dst->msgs = xcalloc(cap, sizeof(*dst->msgs));
	for (i = 0; i < src->nmsgs; i++)
		payload_tmpl_dup(&dst->msgs[i], &src->msgs[i]);
}

bool
payload_equal(const struct payload *a, const struct payload *b)
{
	unsigned	 i;

	if (a->nmsgs != b->nmsgs)
		return false;
	for (i = 0; i < a->nmsgs; i++) {
		if (!payload_tmpl_equal(&a->msgs[i], &b->msgs[i]))
			return false;
	}
	return true;
}

void
payload_free(struct payload *pl)
{
	unsigned	 i;

	for (i = 0; i < pl->nmsgs; i++)
		payload_tmpl_free(&pl->msgs[i]);
	free(pl->msgs);
	memset(pl, 0, sizeof(*pl));
}
