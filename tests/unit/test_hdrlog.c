/* SPDX-License-Identifier: ISC */
/*
 * test_hdrlog.c -- the HdrHistogram log: encode/decode round trips, the
 * exact bytes of small encodings checked by hand against the format, a
 * string written by HdrHistogram itself, corrupt input rejected with a
 * reason, the log file read back, and writes to a full device.
 */
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "measure/hdrlog.h"
#include "measure/hist.h"

#define US	1000ull
#define MS	1000000ull
#define SEC	1000000000ull

/*
 * What HdrHistogram 2.1.11 (Java) writes for a Histogram(1000, 7.2e12, 3)
 * holding 1000 ns once and 5000 ns 300 times, with
 * encodeIntoCompressedByteBuffer(buffer, 9) and java.util.Base64.
 */
#define JAVA_TINY \
	"HISTFAAAACZ42pNpmSzMwMDAygABzFDqBQMDW09ioQOD/QeoDBPvDRYAeMYF+A=="

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static struct hist *
hist_new(void)
{
	struct hist	*h = malloc(sizeof(*h));

	assert_non_null(h);
	hist_reset(h);
	return h;
}

/* The test's own base64, written apart from hdrlog.c's. */
static char *
b64enc(const uint8_t *in, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char		*out = malloc(4 * (n / 3 + 1) + 1), *o = out;
	uint32_t	 acc = 0;
	int		 bits = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*o++ = a[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		*o++ = a[(acc << (6 - bits)) & 63];
	while ((o - out) % 4 != 0)
		*o++ = '=';
	*o = '\0';
	return out;
}

static uint8_t *
b64dec(const char *s, size_t *n)
{
	uint8_t		*out = malloc(strlen(s) + 1);
	uint32_t	 acc = 0;
	int		 bits = 0;

	assert_non_null(out);
	*n = 0;
	for (; *s != '\0' && *s != '='; s++) {
		const char	*p = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
		    "klmnopqrstuvwxyz0123456789+/", *s);

		assert_non_null(p);
		acc = acc << 6 | (uint32_t)(p - "ABCDEFGHIJKLMNOPQRSTUVWXYZab"
		    "cdefghijklmnopqrstuvwxyz0123456789+/");
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*n)++] = (uint8_t)(acc >> bits);
		}
	}
	return out;
}

/* The uncompressed encoding inside a base64 string, checking the wrapper. */
static uint8_t *
inflate_b64(const char *b64, size_t *rawlen)
{
	size_t		 n;
	uint8_t		*z = b64dec(b64, &n), *raw = malloc(1 << 20);
	uLongf		 len = 1 << 20;

	assert_non_null(raw);
	assert_true(n >= 8);
	/* The compressed cookie 0x1c849304 | 0x10, then the zlib length. */
	assert_int_equal(z[0], 0x1c);
	assert_int_equal(z[1], 0x84);
	assert_int_equal(z[2], 0x93);
	assert_int_equal(z[3], 0x14);
	assert_int_equal((size_t)z[4] << 24 | (size_t)z[5] << 16 |
	    (size_t)z[6] << 8 | z[7], n - 8);
	assert_int_equal(uncompress(raw, &len, z + 8, n - 8), Z_OK);
	*rawlen = len;
	free(z);
	return raw;
}

/* base64 of the compressed wrapper around raw bytes of our choosing. */
static char *
wrap_raw(const uint8_t *raw, size_t rawlen)
{
	uLongf		 zlen = compressBound(rawlen);
	uint8_t		*z = malloc(8 + zlen);
	char		*s;

	assert_non_null(z);
	assert_int_equal(compress(z + 8, &zlen, raw, rawlen), Z_OK);
	z[0] = 0x1c; z[1] = 0x84; z[2] = 0x93; z[3] = 0x14;
	z[4] = (uint8_t)(zlen >> 24); z[5] = (uint8_t)(zlen >> 16);
	z[6] = (uint8_t)(zlen >> 8); z[7] = (uint8_t)zlen;
	s = b64enc(z, 8 + zlen);
	free(z);
	return s;
}

static void
roundtrip(const struct hist *h)
{
	struct hist	*d = hist_new();
	char		 err[256] = "";
	char		*s;

	s = hdr_encode_base64(h, err, sizeof(err));
	if (s == NULL)
		fail_msg("encode: %s", err);
	/* The cookie 1c 84 93 14 in base64 (then the length's top bits). */
	assert_int_equal(strncmp(s, "HISTFA", 6), 0);
	if (hdr_decode_base64(s, d, err, sizeof(err)) == -1)
		fail_msg("decode: %s", err);
	assert_memory_equal(d->counts, h->counts, sizeof(h->counts));
	assert_int_equal(d->total, h->total);
	if (h->total == 0) {
		assert_int_equal(d->min_ns, UINT64_MAX);
		assert_int_equal(d->max_ns, 0);
	} else {
		/* Decoded min and max are known to their slot only. */
		assert_int_equal(d->min_ns,
		    hist_lowest_equiv(hist_index(h->min_ns)));
		assert_int_equal(d->max_ns,
		    hist_highest_equiv(hist_index(h->max_ns)));
		assert_int_equal(hist_percentile(d, 99.9),
		    hist_highest_equiv(hist_index(hist_percentile(h, 99.9))));
	}
	free(s);
	free(d);
}

static void
test_roundtrip(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 seed = 5;

	(void)state;
	roundtrip(h);				/* empty */

	hist_record(h, 0);			/* slot 0 only */
	roundtrip(h);

	hist_reset(h);
	for (uint64_t i = 1; i <= 100000; i++)
		hist_record(h, i * 10 * US);	/* uniform 10 us .. 1 s */
	roundtrip(h);

	hist_reset(h);
	for (int i = 0; i < 200000; i++) {	/* bimodal */
		uint64_t	 r = rnd(&seed);

		hist_record(h, r % 100 == 0 ? 40 * MS + r % (20 * MS) :
		    80 * US + r % (40 * US));
	}
	roundtrip(h);

	hist_record(h, 5 * 3600 * SEC);		/* clamped */
	assert_int_equal(h->clamped, 1);
	roundtrip(h);

	hist_reset(h);				/* every slot, varied counts */
	for (int i = 0; i <= hist_index(HIST_HIGHEST_NS); i++) {
		h->counts[i] = rnd(&seed) >> (20 + rnd(&seed) % 44);
		h->total += h->counts[i];
	}
	h->counts[0]++;
	h->counts[hist_index(HIST_HIGHEST_NS)]++;
	h->total += 2;
	h->min_ns = 0;
	h->max_ns = HIST_HIGHEST_NS;
	roundtrip(h);

	hist_reset(h);				/* 9-byte varints */
	hist_record_n(h, 3 * SEC, (1ull << 62) + 12345);
	hist_record_n(h, 5, 1ull << 61);
	roundtrip(h);
	free(h);
}

static void
test_count_too_large(void **state)
{
	struct hist	*h = hist_new();
	char		 err[256] = "";

	(void)state;
	/* HdrHistogram counts are signed: 2^63 cannot be written. */
	hist_record_n(h, 5 * MS, 1ull << 63);
	errno = 0;
	assert_null(hdr_encode_base64(h, err, sizeof(err)));
	assert_non_null(strstr(err, "signed 64-bit"));
	assert_int_equal(errno, EOVERFLOW);
	free(h);
}

static void
check_bytes(const struct hist *h, const uint8_t *want, size_t wantlen)
{
	char		 err[256];
	char		*s = hdr_encode_base64(h, err, sizeof(err));
	uint8_t		*raw;
	size_t		 rawlen;

	assert_non_null(s);
	raw = inflate_b64(s, &rawlen);
	assert_int_equal(rawlen, wantlen);
	assert_memory_equal(raw, want, wantlen);
	free(raw);
	free(s);
}

/*
 * The header every encoding starts with, all big-endian: cookie
 * 0x1c849303 | 0x10, the payload length (filled in per test), normalizing
 * index offset 0, 3 significant digits, lowest discernible value 1000
 * (0x3e8), highest trackable value 7.2e12 (0x068c61714000), and the
 * conversion ratio 1.0 as an IEEE double (0x3ff0000000000000).
 */
#define HEADER(len)							\
	0x1c, 0x84, 0x93, 0x13,		0, 0, 0, (len),			\
	0, 0, 0, 0,			0, 0, 0, 3,			\
	0, 0, 0, 0, 0, 0, 0x03, 0xe8,					\
	0, 0, 0x06, 0x8c, 0x61, 0x71, 0x40, 0x00,			\
	0x3f, 0xf0, 0, 0, 0, 0, 0, 0

static void
test_known_bytes(void **state)
{
	/*
	 * 1000 ns once and 5000 ns 300 times.  With a 512 ns unit, 1000 is
	 * slot 1 and 5000 slot 9 (9 * 512 = 4608 <= 5000 < 5120).  The
	 * payload runs to slot 9 (that of the max), ZigZag mapping a count
	 * c to 2c and a run of k zeros (-k) to 2k - 1:
	 *	slot 0: one zero, written as the count 0	-> 0x00
	 *	slot 1: count 1					-> 0x02
	 *	slots 2..8: seven zeros, -7			-> 13 = 0x0d
	 *	slot 9: count 300 -> 600 = 0x258, LEB128 low 7 bits first
	 *		0x58 | 0x80 = 0xd8, then 600 >> 7 = 4	-> 0xd8 0x04
	 */
	static const uint8_t tiny[] = { HEADER(5), 0x00, 0x02, 0x0d, 0xd8,
	    0x04 };
	/* Empty: HdrHistogram still writes slot 0, a lone zero. */
	static const uint8_t empty[] = { HEADER(1), 0x00 };
	/*
	 * 2^62 at slot 0: ZigZag 2^63, whose 64 bits take the 9-byte form:
	 * eight bytes of 7 zero bits with the continuation bit (0x80), then
	 * the top 8 bits whole, 2^63 >> 56 = 0x80.
	 */
	static const uint8_t big[] = { HEADER(9), 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x80 };
	struct hist	*h = hist_new(), *d = hist_new();
	char		 err[256];
	char		*s;

	(void)state;
	hist_record(h, 1000);
	hist_record_n(h, 5000, 300);
	check_bytes(h, tiny, sizeof(tiny));

	/* Byte for byte what HdrHistogram itself writes, at zlib level 9. */
	s = hdr_encode_base64(h, err, sizeof(err));
	assert_string_equal(s, JAVA_TINY);
	free(s);
	/* And we read what it writes. */
	assert_int_equal(hdr_decode_base64(JAVA_TINY, d, err, sizeof(err)),
	    0);
	assert_memory_equal(d->counts, h->counts, sizeof(h->counts));

	hist_reset(h);
	check_bytes(h, empty, sizeof(empty));

	hist_record_n(h, 100, 1ull << 62);
	check_bytes(h, big, sizeof(big));
	free(d);
	free(h);
}

static void
expect_reject(const char *b64, const char *reason)
{
	struct hist	*h = hist_new();
	char		 err[256] = "";

	hist_record(h, 1234);
	if (hdr_decode_base64(b64, h, err, sizeof(err)) != -1)
		fail_msg("accepted: %.60s", b64);
	if (strstr(err, reason) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, reason);
	/* A failed decode leaves an empty histogram, not half of one. */
	assert_int_equal(h->total, 0);
	assert_int_equal(h->counts[hist_index(1234)], 0);
	free(h);
}

/* A raw encoding: HEADER with the given fields, then a payload. */
static char *
craft(uint32_t cookie, int32_t paylen, uint32_t offset, uint32_t digits,
    uint64_t lowest, uint64_t ratio, const uint8_t *pay, size_t n)
{
	uint8_t		*raw = malloc(40 + n);
	uint64_t	 hi = HIST_HIGHEST_NS;
	char		*s;
	size_t		 i;

	assert_non_null(raw);
	for (i = 0; i < 4; i++) {
		raw[i] = (uint8_t)(cookie >> (24 - 8 * i));
		raw[4 + i] = (uint8_t)((uint32_t)(paylen < 0 ? (int32_t)n :
		    paylen) >> (24 - 8 * i));
		raw[8 + i] = (uint8_t)(offset >> (24 - 8 * i));
		raw[12 + i] = (uint8_t)(digits >> (24 - 8 * i));
	}
	for (i = 0; i < 8; i++) {
		raw[16 + i] = (uint8_t)(lowest >> (56 - 8 * i));
		raw[24 + i] = (uint8_t)(hi >> (56 - 8 * i));
		raw[32 + i] = (uint8_t)(ratio >> (56 - 8 * i));
	}
	if (n > 0)
		memcpy(raw + 40, pay, n);
	s = wrap_raw(raw, 40 + n);
	free(raw);
	return s;
}

#define C2	0x1c849313u
#define ONE	0x3ff0000000000000ull

static void
reject_crafted(uint32_t cookie, int32_t paylen, uint32_t offset,
    uint32_t digits, uint64_t lowest, uint64_t ratio, const uint8_t *pay,
    size_t n, const char *reason)
{
	char	*s = craft(cookie, paylen, offset, digits, lowest, ratio, pay,
	    n);

	expect_reject(s, reason);
	free(s);
}

static void
test_reject(void **state)
{
	/* 25601 zeros, -25601: ZigZag 51201 = 0xc801 -> 0x81 0x90 0x03 */
	static const uint8_t longrun[] = { 0x81, 0x90, 0x03 };
	/* 25600 zeros (51199 = 0xc7ff), then a count of 1 past the end */
	static const uint8_t fullrun[] = { 0xff, 0x8f, 0x03, 0x02 };
	static const uint8_t trunc[] = { 0x02, 0x80 };
	static const uint8_t huge[] = {		/* three counts of 2^63-1 */
	    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t ok[] = { 0x00, 0x02 };
	struct hist	*h = hist_new();
	char		 err[256], *s, *t;
	uint8_t		*raw, *z;
	size_t		 n;
	uLongf		 zlen;
	int		 harmless = 0;

	(void)state;
	expect_reject("", "length 0");
	expect_reject("HISTFAA", "multiple of 4");
	expect_reject("HIST*AAA", "bad base64 character 0x2a at offset 4");
	expect_reject("HI=TFAAA", "bad base64 character");
	expect_reject("HISTFAAA HISTFAAA", "multiple of 4");
	expect_reject("AAAA", "too short");
	expect_reject("HISTBA==", "too short");
	expect_reject("HISTBAAAAAA=", "zlib: corrupt or truncated");
	/* A V2 uncompressed cookie where the compressed one belongs. */
	expect_reject("HISTEwAAAAA=", "not a V2 compressed");
	expect_reject("SGVsbG8sIHdvcmxkIQ==", "not a V2 compressed");

	/* Truncated: drop a group, or cut the tail. */
	s = strdup(JAVA_TINY);
	assert_non_null(s);
	s[strlen(s) - 4] = '\0';
	expect_reject(s, "compressed length");
	s[20] = '\0';
	expect_reject(s, "compressed length");
	free(s);

	/* A wrong length word with the same data. */
	z = b64dec(JAVA_TINY, &n);
	z[7]++;
	s = b64enc(z, n);
	expect_reject(s, "compressed length");
	free(s);
	z[7]--;

	/*
	 * Every single flipped bit of a good encoding is either caught, with
	 * a reason, or changes nothing: the cookie's 0xf0 nibble (byte 3,
	 * bits 4-7) is masked off by HdrHistogram's readers and ours, and
	 * the bits that pad deflate's last byte are never read.  A flip that
	 * changed the counts and got through would fail here.
	 */
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			z[i] ^= (uint8_t)(1 << bit);
			s = b64enc(z, n);
			err[0] = '\0';
			if (hdr_decode_base64(s, h, err, sizeof(err)) == 0) {
				if (h->total != 301 || h->counts[1] != 1 ||
				    h->counts[9] != 300)
					fail_msg("byte %zu bit %d flipped: "
					    "accepted with other counts", i,
					    bit);
				harmless++;
			} else
				assert_true(err[0] != '\0');
			free(s);
			z[i] ^= (uint8_t)(1 << bit);
		}
	}
	print_message("%d of %zu bit flips rejected, %d harmless\n",
	    (int)(8 * n) - harmless, 8 * n, harmless);
	/* Only the 4 cookie bits and the last deflate byte's padding. */
	assert_true(harmless <= 4 + 7);
	free(z);

	/* Bad headers and payloads inside a good zlib stream. */
	s = craft(C2, -1, 0, 3, 1000, ONE, ok, sizeof(ok));
	assert_int_equal(hdr_decode_base64(s, h, err, sizeof(err)), 0);
	assert_int_equal(h->counts[1], 1);
	free(s);
	reject_crafted(0x1c849301, -1, 0, 3, 1000, ONE, ok, 2, "cookie");
	reject_crafted(C2, 3, 0, 3, 1000, ONE, ok, 2, "payload length 3");
	reject_crafted(C2, -1, 0, 2, 1000, ONE, ok, 2, "significant digits");
	reject_crafted(C2, -1, 0, 3, 1, ONE, ok, 2, "lowest discernible");
	reject_crafted(C2, -1, 0, 3, 1024, ONE, ok, 2, "lowest discernible");
	reject_crafted(C2, -1, 5, 3, 1000, ONE, ok, 2, "normalizing");
	reject_crafted(C2, -1, 0, 3, 1000, 0x4000000000000000ull, ok, 2,
	    "conversion ratio");
	reject_crafted(C2, -1, 0, 3, 1000, ONE, longrun, sizeof(longrun),
	    "zero counts");
	reject_crafted(C2, -1, 0, 3, 1000, ONE, fullrun, sizeof(fullrun),
	    "past the last index");
	reject_crafted(C2, -1, 0, 3, 1000, ONE, trunc, sizeof(trunc),
	    "truncated varint");
	reject_crafted(C2, -1, 0, 3, 1000, ONE, huge, sizeof(huge),
	    "overflows");
	/* Shorter than a header. */
	raw = calloc(1, 400000);
	assert_non_null(raw);
	s = wrap_raw(raw, 20);
	expect_reject(s, "shorter than");
	free(s);
	/* A zlib bomb: more than any encoding of ours can be. */
	s = wrap_raw(raw, 400000);
	expect_reject(s, "decompresses to more than");
	free(s);
	free(raw);

	/* Bytes after the end of the zlib stream. */
	z = b64dec(JAVA_TINY, &n);
	t = malloc(n + 3);
	assert_non_null(t);
	memcpy(t, z, n);
	memcpy(t + n, "xyz", 3);
	zlen = n + 3 - 8;
	t[4] = (char)(zlen >> 24); t[5] = (char)(zlen >> 16);
	t[6] = (char)(zlen >> 8); t[7] = (char)zlen;
	s = b64enc((uint8_t *)t, n + 3);
	expect_reject(s, "after the zlib stream");
	free(s);
	free(t);
	free(z);

	/* Longer than any encoding. */
	s = malloc(1 << 20);
	assert_non_null(s);
	memset(s, 'A', (1 << 20) - 1);
	s[(1 << 20) - 1] = '\0';
	expect_reject(s, "longer than");
	free(s);
	free(h);
}

/* Random payloads in valid wrappers: never a crash, totals consistent. */
static void
test_fuzz(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 seed = 77, sum;
	uint8_t		 pay[256];
	char		 err[256], *s;
	int		 accepted = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		size_t	 n = rnd(&seed) % sizeof(pay);

		for (size_t k = 0; k < n; k++)
			pay[k] = (uint8_t)rnd(&seed);
		s = craft(C2, -1, 0, 3, 1000, ONE, pay, n);
		if (hdr_decode_base64(s, h, err, sizeof(err)) == 0) {
			accepted++;
			sum = 0;
			for (int k = 0; k < HIST_COUNTS; k++)
				sum += h->counts[k];
			assert_int_equal(sum, h->total);
		} else {
			assert_true(err[0] != '\0');
			assert_int_equal(h->total, 0);
		}
		free(s);
	}
	/* Random base64 text of every length up to 200. */
	for (int i = 0; i < 3000; i++) {
		size_t	 n = rnd(&seed) % 200;
		char	 txt[201];

		for (size_t k = 0; k < n; k++)
			txt[k] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			    "vwxyz0123456789+/="[rnd(&seed) % 65];
		txt[n] = '\0';
		if (hdr_decode_base64(txt, h, err, sizeof(err)) == -1)
			assert_true(err[0] != '\0');
	}
	print_message("fuzz: %d of 3000 random payloads decoded\n", accepted);
	free(h);
}

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	long	 n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
tmpfile_fd(char *path, size_t len)
{
	const char	*dir = getenv("TMPDIR");
	int		 fd;

	snprintf(path, len, "%s/test_hdrlog.XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd != -1);
	return fd;
}

static void
test_log(void **state)
{
	struct hist	*h[3], *d = hist_new();
	const char	*tags[3] = { "web", "db.primary-1", NULL };
	char		 path[256], err[256], *buf, *line, *save, *f[6];
	uint64_t	 seed = 3;
	int		 fd, nf, seen = 0, comments = 0;

	(void)state;
	for (int i = 0; i < 3; i++)
		h[i] = hist_new();
	for (int i = 0; i < 50000; i++)
		hist_record(h[0], 50 * US + rnd(&seed) % (200 * US));
	hist_record(h[0], 1234567890);		/* max 1234.568 ms */
	hist_record_n(h[1], 7 * MS, 10);
	/* h[2] stays empty. */

	fd = tmpfile_fd(path, sizeof(path));
	assert_int_equal(hdrlog_write_header(fd, 1700000000.1234), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hdrlog_write_interval(fd, tags[i], 10.0 * i,
		    9.9996, h[i]), 0);
	close(fd);

	buf = slurp(path);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			comments++;
			if (strncmp(line, "#[StartTime: ", 13) == 0)
				assert_string_equal(line + 13,
				    "1700000000.123 (seconds since epoch), "
				    "Tue Nov 14 22:13:20 UTC 2023]");
			if (strncmp(line, "#[BaseTime: ", 12) == 0)
				assert_string_equal(line + 12, "1700000000.123"
				    " (seconds since epoch)]");
			continue;
		}
		if (line[0] == '"') {
			assert_string_equal(line, "\"StartTimestamp\","
			    "\"Interval_Length\",\"Interval_Max\","
			    "\"Interval_Compressed_Histogram\"");
			continue;
		}
		/* An interval: [Tag=x,]start,length,max,histogram */
		nf = 0;
		for (char *p = line, *q; nf < 6; p = q + 1) {
			f[nf++] = p;
			if ((q = strchr(p, ',')) == NULL)
				break;
			*q = '\0';
		}
		assert_true(seen < 3);
		if (tags[seen] != NULL) {
			assert_int_equal(nf, 5);
			assert_int_equal(strncmp(f[0], "Tag=", 4), 0);
			assert_string_equal(f[0] + 4, tags[seen]);
			memmove(f, f + 1, 4 * sizeof(*f));
		} else
			assert_int_equal(nf, 4);
		assert_true(strtod(f[0], NULL) == 10.0 * seen);
		assert_string_equal(f[1], "10.000");
		if (seen == 0)
			assert_string_equal(f[2], "1234.568");
		else if (seen == 1)
			assert_string_equal(f[2], "7.000");
		else
			assert_string_equal(f[2], "0.000");
		if (hdr_decode_base64(f[3], d, err, sizeof(err)) == -1)
			fail_msg("line %d: %s", seen, err);
		assert_memory_equal(d->counts, h[seen]->counts,
		    sizeof(d->counts));
		assert_int_equal(d->total, h[seen]->total);
		seen++;
	}
	assert_int_equal(seen, 3);
	assert_int_equal(comments, 4);
	free(buf);
	unlink(path);
	for (int i = 0; i < 3; i++)
		free(h[i]);
	free(d);
}

static void
test_bad_args(void **state)
{
	struct hist	*h = hist_new();
	int		 fd = open("/dev/null", O_WRONLY);

	(void)state;
	assert_true(fd != -1);
	assert_int_equal(hdrlog_write_interval(fd, "", 0, 1, h), 0);
	errno = 0;
	assert_int_equal(hdrlog_write_interval(fd, "a,b", 0, 1, h), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(hdrlog_write_interval(fd, "a b", 0, 1, h), -1);
	assert_int_equal(hdrlog_write_interval(fd, "a\nb", 0, 1, h), -1);
	assert_int_equal(hdrlog_write_interval(fd, "#a", 0, 1, h), -1);
	assert_int_equal(hdrlog_write_interval(fd, "a", -1, 1, h), -1);
	assert_int_equal(hdrlog_write_interval(fd, "a", 0, NAN, h), -1);
	assert_int_equal(hdrlog_write_header(fd, -5), -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
	free(h);
}

static void
test_full(void **state)
{
	struct hist	*h = hist_new();
	int		 fd;

	(void)state;
	if ((fd = open("/dev/full", O_WRONLY)) == -1) {
		print_message("no /dev/full: %s\n", strerror(errno));
		skip();
	}
	hist_record(h, 5 * MS);
	errno = 0;
	assert_int_equal(hdrlog_write_header(fd, 1700000000.0), -1);
	assert_int_equal(errno, ENOSPC);
	errno = 0;
	assert_int_equal(hdrlog_write_interval(fd, "web", 0, 1, h), -1);
	assert_int_equal(errno, ENOSPC);
	close(fd);
	free(h);
}

/* A write cut short (here by RLIMIT_FSIZE) is reported as ENOSPC. */
static void
test_short_write(void **state)
{
	struct hist	*h = hist_new();
	struct rlimit	 old, lim;
	char		 path[256];
	int		 fd;

	(void)state;
	hist_record(h, 5 * MS);
	fd = tmpfile_fd(path, sizeof(path));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	errno = 0;
	assert_int_equal(hdrlog_write_interval(fd, "web", 0, 1, h), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(lseek(fd, 0, SEEK_END), 20);
	close(fd);
	unlink(path);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_count_too_large),
		cmocka_unit_test(test_known_bytes),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_short_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
