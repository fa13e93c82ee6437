/* SPDX-License-Identifier: ISC */
/*
 * hdrlog.c -- the HdrHistogram interval log: our histograms written in
 * HdrHistogram's "V2 compressed" encoding, base64, one line per interval,
 * so that HdrHistogram's HistogramLogProcessor and HistogramLogAnalyzer
 * read them.  Written from the published format description; see
 * docs/histogram.md for the format and how to read the logs.
 *
 * The uncompressed V2 encoding, all integers big-endian:
 *
 *	int32	cookie 0x1c849313 (0x1c849303 | 0x10)
 *	int32	payload length in bytes
 *	int32	normalizing index offset (0)
 *	int32	significant digits (3)
 *	int64	lowest discernible value (1000)
 *	int64	highest trackable value (7.2e12)
 *	double	integer to double conversion ratio (1.0)
 *	payload: the counts by index, each a ZigZag LEB128 varint of at most
 *	9 bytes; a run of k > 1 zero counts is the one value -k.  The payload
 *	stops after the slot of the largest value (or after slot 0 when empty).
 *
 * The compressed form is the cookie 0x1c849314 (0x1c849304 | 0x10), the
 * int32 length of what follows, then the zlib stream of the above.  The
 * 0x10 in both cookies is how HdrHistogram marks the V2 varint encoding;
 * its readers mask it off (cookie & ~0xf0), and so do we.
 *
 * Like util.c, nothing here logs or exits: errors are returned.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "common/cmd.h"
#include "measure/hdrlog.h"

#define HDR_COOKIE_MASK		(~0xf0u)
#define HDR_V2_COOKIE		0x1c849303u
#define HDR_V2_COMPRESSED	0x1c849304u
#define HDR_WORD_FLAG		0x10u	/* "V2 varints": always set on write */
#define HDR_HEADER_SIZE		40
#define HDR_VARINT_MAX		9
/* The largest uncompressed encoding: a 9-byte varint for every slot. */
#define HDR_RAW_MAX		(HDR_HEADER_SIZE + HIST_COUNTS * HDR_VARINT_MAX)

static void
hdr_err(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
hdr_err(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/*
 * One value of the payload, already ZigZag-mapped (a count c is 2c, a run
 * of k zeros, the value -k, is 2k - 1).  HdrHistogram's LEB128 variant:
 * 7 bits a byte with a continuation bit, but the 9th byte carries 8 bits,
 * so 64 bits take at most 9 bytes instead of LEB128's 10.
 */
static size_t
varint_put(uint8_t *p, uint64_t z)
{
	size_t	 n = 0;

	while (n < HDR_VARINT_MAX - 1) {
		if (z < 0x80) {
			p[n++] = (uint8_t)z;
			return n;
		}
		p[n++] = (uint8_t)(z & 0x7f) | 0x80;
		z >>= 7;
	}
	p[n++] = (uint8_t)z;	/* the 8 top bits */
	return n;
}

/* Read one varint; returns the bytes used, 0 if it runs past end. */
static size_t
varint_get(const uint8_t *p, const uint8_t *end, uint64_t *out)
{
	uint64_t	 z = 0;
	size_t		 n;

	for (n = 0; n < HDR_VARINT_MAX - 1; n++) {
		if (p + n >= end)
			return 0;
		z |= (uint64_t)(p[n] & 0x7f) << (7 * n);
		if ((p[n] & 0x80) == 0) {
			*out = z;
			return n + 1;
		}
	}
	if (p + n >= end)
		return 0;
	z |= (uint64_t)p[n] << 56;
	*out = z;
	return n + 1;
}

/* The uncompressed V2 encoding of h into raw (HDR_RAW_MAX bytes). */
static int
hdr_encode_raw(const struct hist *h, uint8_t *raw, size_t *rawlen, char *why,
    size_t whylen)
{
	union { double d; uint64_t u; } ratio = { .d = 1.0 };
	uint8_t		*p = raw + HDR_HEADER_SIZE;
	int		 limit, i;

	/*
	 * Write the slots up to that of the largest value, as HdrHistogram
	 * does (which writes slot 0 alone for an empty histogram).
	 */
	limit = h->total == 0 ? 1 : hist_index(h->max_ns) + 1;
	for (i = 0; i < limit; ) {
		uint64_t	 c = h->counts[i], run;

		if (c == 0) {
			for (run = 1; i + (int)run < limit &&
			    h->counts[i + (int)run] == 0; run++)
				;
			i += (int)run;
			p += varint_put(p, run == 1 ? 0 : 2 * run - 1);
			continue;
		}
		/* HdrHistogram counts are signed 64-bit. */
		if (c > INT64_MAX) {
			hdr_err(why, whylen, "count %llu at index %d does not "
			    "fit in HdrHistogram's signed 64-bit counts",
			    (unsigned long long)c, i);
			errno = EOVERFLOW;
			return -1;
		}
		p += varint_put(p, 2 * c);
		i++;
	}

	put_be32(raw, HDR_V2_COOKIE | HDR_WORD_FLAG);
	put_be32(raw + 4, (uint32_t)(p - raw - HDR_HEADER_SIZE));
	put_be32(raw + 8, 0);
	put_be32(raw + 12, HIST_SIGDIGITS);
	put_be64(raw + 16, HIST_LOWEST_NS);
	put_be64(raw + 24, HIST_HIGHEST_NS);
	put_be64(raw + 32, ratio.u);
	*rawlen = (size_t)(p - raw);
	return 0;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; out has 4 * ((n + 2) / 3) + 1 bytes. */
static void
b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t	 i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t	 v = (uint32_t)in[i] << 16 |
		    (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = b64_alphabet[(v >> 6) & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t	 v = (uint32_t)in[i] << 16;

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		uint32_t	 v = (uint32_t)in[i] << 16 |
		    (uint32_t)in[i + 1] << 8;

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = b64_alphabet[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = '\0';
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict base64: a multiple of 4 characters from the standard alphabet,
 * with '=' only as the padding of the last group.  out has n / 4 * 3 bytes.
 */
static int
b64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen, char *why,
    size_t whylen)
{
	size_t	 i, o = 0;

	if (n == 0 || n % 4 != 0) {
		hdr_err(why, whylen, "base64 length %zu is not a positive "
		    "multiple of 4", n);
		return -1;
	}
	for (i = 0; i < n; i += 4) {
		int		 v[4], pad = 0;
		uint32_t	 w;

		for (int k = 0; k < 4; k++) {
			char	 c = in[i + k];

			if (c == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = b64_value(c)) == -1) {
				hdr_err(why, whylen, "bad base64 character "
				    "0x%02x at offset %zu", (unsigned char)c,
				    i + (size_t)k);
				return -1;
			}
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	return 0;
}

char *
hdr_encode_base64(const struct hist *h, char *why, size_t whylen)
{
	uint8_t		*raw = NULL, *z = NULL;
	char		*out = NULL;
	size_t		 rawlen;
	uLongf		 zlen;
	int		 ret;

	if ((raw = malloc(HDR_RAW_MAX)) == NULL) {
		hdr_err(why, whylen, "out of memory");
		goto done;
	}
	if (hdr_encode_raw(h, raw, &rawlen, why, whylen) == -1)
		goto done;

	zlen = compressBound((uLong)rawlen);
	if ((z = malloc(8 + zlen)) == NULL) {
		hdr_err(why, whylen, "out of memory");
		goto done;
	}
	/* Best compression, as HdrHistogram's log writer uses. */
	ret = compress2(z + 8, &zlen, raw, (uLong)rawlen, Z_BEST_COMPRESSION);
	if (ret != Z_OK) {
		hdr_err(why, whylen, "zlib compress2: %s", zError(ret));
		errno = ret == Z_MEM_ERROR ? ENOMEM : EIO;
		goto done;
	}
	put_be32(z, HDR_V2_COMPRESSED | HDR_WORD_FLAG);
	put_be32(z + 4, (uint32_t)zlen);

	if ((out = malloc(4 * ((8 + zlen + 2) / 3) + 1)) == NULL) {
		hdr_err(why, whylen, "out of memory");
		goto done;
	}
	b64_encode(z, 8 + zlen, out);
done:
	free(z);
	free(raw);
	return out;
}

/* Fill h from the payload of the uncompressed encoding. */
static int
hdr_decode_payload(const uint8_t *p, const uint8_t *end, struct hist *h,
    char *why, size_t whylen)
{
	uint64_t	 z, total = 0;
	size_t		 n, idx = 0;
	int		 first = -1, last = -1;
	double		 sum = 0.0;

	while (p < end) {
		if ((n = varint_get(p, end, &z)) == 0) {
			hdr_err(why, whylen, "truncated varint at payload "
			    "end");
			return -1;
		}
		p += n;
		if (z & 1) {
			/* ZigZag odd: the negative value -k, k zeros. */
			uint64_t	 k = (z >> 1) + 1;

			if (k > HIST_COUNTS - idx) {
				hdr_err(why, whylen, "run of %llu zero counts "
				    "at index %zu goes past index %d",
				    (unsigned long long)k, idx,
				    HIST_COUNTS - 1);
				return -1;
			}
			idx += k;
			continue;
		}
		z >>= 1;
		if (idx >= HIST_COUNTS) {
			hdr_err(why, whylen, "count at index %zu is past the "
			    "last index %d", idx, HIST_COUNTS - 1);
			return -1;
		}
		if (z > UINT64_MAX - total) {
			hdr_err(why, whylen, "total count overflows");
			return -1;
		}
		if (z != 0) {
			uint64_t	 lo = hist_lowest_equiv((int)idx);
			uint64_t	 hi = hist_highest_equiv((int)idx);

			h->counts[idx] = z;
			total += z;
			if (first == -1)
				first = (int)idx;
			last = (int)idx;
			/* The slot's middle, as HdrHistogram's mean. */
			sum += (double)(lo + (hi - lo + 1) / 2) * (double)z;
		}
		idx++;
	}

	h->total = total;
	if (total != 0) {
		/* The encoding carries slots only: min and max to a slot. */
		h->min_ns = hist_lowest_equiv(first);
		h->max_ns = hist_highest_equiv(last);
		h->sum_ns = sum;
	}
	return 0;
}

/* Check the uncompressed header; on success *payload is its length. */
static int
hdr_check_header(const uint8_t *raw, size_t rawlen, size_t *payload,
    char *why, size_t whylen)
{
	uint32_t	 cookie, len, offset, digits;
	uint64_t	 lowest, highest, ratio;

	if (rawlen < HDR_HEADER_SIZE) {
		hdr_err(why, whylen, "encoding of %zu bytes is shorter than "
		    "its %d-byte header", rawlen, HDR_HEADER_SIZE);
		return -1;
	}
	cookie = get_be32(raw);
	len = get_be32(raw + 4);
	offset = get_be32(raw + 8);
	digits = get_be32(raw + 12);
	lowest = get_be64(raw + 16);
	highest = get_be64(raw + 24);
	ratio = get_be64(raw + 32);

	if ((cookie & HDR_COOKIE_MASK) != HDR_V2_COOKIE) {
		hdr_err(why, whylen, "cookie 0x%08x is not a V2 histogram "
		    "encoding", cookie);
		return -1;
	}
	if (len != rawlen - HDR_HEADER_SIZE) {
		hdr_err(why, whylen, "payload length %u but %zu bytes follow "
		    "the header", len, rawlen - HDR_HEADER_SIZE);
		return -1;
	}
	/*
	 * Our counts array has HdrHistogram's layout only for the same
	 * digits and unit magnitude (floor(log2(lowest))); the highest
	 * trackable value only sets how long the array is.
	 */
	if (digits != HIST_SIGDIGITS) {
		hdr_err(why, whylen, "%u significant digits, not %d", digits,
		    HIST_SIGDIGITS);
		return -1;
	}
	if (lowest < (1ull << HIST_UNIT_MAGNITUDE) ||
	    lowest >= (2ull << HIST_UNIT_MAGNITUDE)) {
		hdr_err(why, whylen, "lowest discernible value %llu does not "
		    "give a unit of %llu", (unsigned long long)lowest,
		    1ull << HIST_UNIT_MAGNITUDE);
		return -1;
	}
	if (highest < 2 * lowest || highest > INT64_MAX) {
		hdr_err(why, whylen, "bad highest trackable value %llu",
		    (unsigned long long)highest);
		return -1;
	}
	if (offset != 0) {
		hdr_err(why, whylen, "normalizing index offset %d is not "
		    "supported", (int)offset);
		return -1;
	}
	if (ratio != 0x3ff0000000000000ull) {	/* 1.0 */
		hdr_err(why, whylen, "value conversion ratio is not 1.0 "
		    "(a DoubleHistogram?)");
		return -1;
	}
	*payload = len;
	return 0;
}

int
hdr_decode_base64(const char *b64, struct hist *h, char *why, size_t whylen)
{
	/* The longest text our encoder can produce, with some margin. */
	const size_t	 zmax = 8 + compressBound(HDR_RAW_MAX);
	const size_t	 b64max = 4 * ((zmax + 2) / 3);
	uint8_t		*z = NULL, *raw = NULL;
	size_t		 n, zlen, payload;
	uint32_t	 cookie, clen;
	uLongf		 rawlen;
	uLong		 srclen;
	int		 ret, rc = -1;

	hist_reset(h);
	n = strlen(b64);
	if (n > b64max) {
		hdr_err(why, whylen, "base64 text of %zu bytes is longer than "
		    "any histogram encoding (%zu)", n, b64max);
		return -1;
	}
	if ((z = malloc(n / 4 * 3 + 1)) == NULL ||
	    (raw = malloc(HDR_RAW_MAX)) == NULL) {
		hdr_err(why, whylen, "out of memory");
		goto done;
	}
	if (b64_decode(b64, n, z, &zlen, why, whylen) == -1)
		goto done;

	if (zlen < 8) {
		hdr_err(why, whylen, "%zu bytes is too short for a compressed "
		    "histogram", zlen);
		goto done;
	}
	cookie = get_be32(z);
	clen = get_be32(z + 4);
	if ((cookie & HDR_COOKIE_MASK) != HDR_V2_COMPRESSED) {
		hdr_err(why, whylen, "cookie 0x%08x is not a V2 compressed "
		    "histogram", cookie);
		goto done;
	}
	if (clen != zlen - 8) {
		hdr_err(why, whylen, "compressed length %u but %zu bytes "
		    "follow", clen, zlen - 8);
		goto done;
	}

	rawlen = HDR_RAW_MAX;
	srclen = clen;
	ret = uncompress2(raw, &rawlen, z + 8, &srclen);
	if (ret == Z_BUF_ERROR) {
		hdr_err(why, whylen, "decompresses to more than %d bytes",
		    HDR_RAW_MAX);
		goto done;
	}
	if (ret != Z_OK) {
		hdr_err(why, whylen, "zlib: %s",
		    ret == Z_DATA_ERROR ? "corrupt or truncated data" :
		    zError(ret));
		goto done;
	}
	if (srclen != clen) {
		hdr_err(why, whylen, "%lu bytes after the zlib stream",
		    (unsigned long)(clen - srclen));
		goto done;
	}

	if (hdr_check_header(raw, rawlen, &payload, why, whylen) == -1)
		goto done;
	if (hdr_decode_payload(raw + HDR_HEADER_SIZE,
	    raw + HDR_HEADER_SIZE + payload, h, why, whylen) == -1)
		goto done;
	rc = 0;
done:
	if (rc == -1)
		hist_reset(h);
	free(raw);
	free(z);
	return rc;
}

/*
 * x (seconds, or a scaled value) with 3 decimals, as HdrHistogram's "%.3f"
 * in Locale.US.  Formatted from integers so that no LC_NUMERIC setting can
 * turn the point into a comma, which would split the field.
 */
static int
fmt3(char *buf, size_t len, double x)
{
	unsigned long long	 m;

	if (!isfinite(x) || x < 0 || x >= 1e15)
		return -1;
	m = (unsigned long long)llround(x * 1000.0);
	snprintf(buf, len, "%llu.%03llu", m / 1000, m % 1000);
	return 0;
}

/* The whole of buf in one write(); a short write is ENOSPC. */
static int
write_once(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	do
		n = write(fd, buf, len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

int
hdrlog_write_header(int fd, double start_wall)
{
	static const char *const days[] =
	    { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char		 buf[512], start[32];
	struct tm	 tm;
	time_t		 t;
	int		 n;

	if (fmt3(start, sizeof(start), start_wall) == -1) {
		errno = EINVAL;
		return -1;
	}
	t = (time_t)floor(start_wall);
	if (gmtime_r(&t, &tm) == NULL) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * Interval timestamps are offsets from the start, so BaseTime is the
	 * start time: HdrHistogram's reader adds BaseTime to each timestamp
	 * to get absolute time, and measures its -start/-end range from
	 * StartTime.  (With BaseTime 0 it would take the offsets for dates
	 * in 1970 and skip every interval as before the start.)  The date
	 * is in Java's Date.toString() form, in UTC; readers ignore it.
	 */
	n = snprintf(buf, sizeof(buf),
	    "#[Logged with loadd %s]\n"
	    "#[Histogram log format version 1.3]\n"
	    "#[StartTime: %s (seconds since epoch), "
	    "%s %s %02d %02d:%02d:%02d UTC %d]\n"
	    "#[BaseTime: %s (seconds since epoch)]\n"
	    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
	    "\"Interval_Compressed_Histogram\"\n",
	    LOADD_VERSION, start, days[tm.tm_wday], months[tm.tm_mon],
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900,
	    start);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = EOVERFLOW;
		return -1;
	}
	return write_once(fd, buf, (size_t)n);
}

/*
 * HdrHistogram's reader splits fields on commas, spaces, CR and LF, and
 * takes "#" lines for comments: a tag must avoid them all.
 */
static int
hdr_tag_valid(const char *tag)
{
	for (const char *p = tag; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == ',')
			return 0;
	}
	return tag[0] != '#';
}

int
hdrlog_write_interval(int fd, const char *tag, double start_offset_s,
    double length_s, const struct hist *h)
{
	char			 start[32], length[32], pre[LOAD_NAME_MAX + 96];
	char			*b64, *line;
	unsigned long long	 us;
	size_t			 prelen, b64len;
	int			 n, rc;

	if (tag != NULL && *tag == '\0')
		tag = NULL;
	if ((tag != NULL && (strlen(tag) >= LOAD_NAME_MAX ||
	    !hdr_tag_valid(tag))) ||
	    fmt3(start, sizeof(start), start_offset_s) == -1 ||
	    fmt3(length, sizeof(length), length_s) == -1) {
		errno = EINVAL;
		return -1;
	}
	/* Interval_Max: the exact max in ms (ns / 1e6), 3 decimals. */
	us = h->total == 0 ? 0 : (h->max_ns + 500) / 1000;
	n = snprintf(pre, sizeof(pre), "%s%s%s%s,%s,%llu.%03llu,",
	    tag != NULL ? "Tag=" : "", tag != NULL ? tag : "",
	    tag != NULL ? "," : "", start, length, us / 1000, us % 1000);
	if (n < 0 || (size_t)n >= sizeof(pre)) {
		errno = EOVERFLOW;
		return -1;
	}
	prelen = (size_t)n;

	/* On failure errno is ENOMEM, or EOVERFLOW for a count > 2^63-1. */
	if ((b64 = hdr_encode_base64(h, NULL, 0)) == NULL)
		return -1;
	b64len = strlen(b64);
	if ((line = malloc(prelen + b64len + 1)) == NULL) {
		free(b64);
		errno = ENOMEM;
		return -1;
	}
	memcpy(line, pre, prelen);
	memcpy(line + prelen, b64, b64len);
	line[prelen + b64len] = '\n';
	rc = write_once(fd, line, prelen + b64len + 1);
	free(line);
	free(b64);
	return rc;
}
