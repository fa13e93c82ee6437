/* SPDX-License-Identifier: ISC */
/*
 * test_payload.c -- messages: hex strings, payload files (including the
 * kinds of file that must be refused without blocking), template parsing
 * with its errors and columns, expansion checked against snprintf and
 * kept within max_len, and the list of messages sent in turn.
 *
 * `test_payload bench [N]` skips the tests and times N expansions of a
 * small HTTP request, for callgrind (run it with N and with 0, subtract).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cmd.h"
#include "common/util.h"
#include "model/payload.h"

#define BENCH_MSG	"GET /item/{seq} HTTP/1.1\r\nHost: x\r\n\r\n"

static char	 tmpdir[64];

static void
expect_hex(const char *in, const char *bytes, size_t len)
{
	char	*out;
	size_t	 outlen;
	char	 why[256] = "";

	if (payload_hex_decode(in, &out, &outlen, why, sizeof(why)) != 0)
		fail_msg("\"%s\": %s", in, why);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, bytes, len);
	assert_int_equal(out[len], '\0');
	free(out);
}

static void
expect_hex_error(const char *in, const char *substr)
{
	char	*out = (char *)1;
	size_t	 outlen = 1;
	char	 why[256] = "";

	if (payload_hex_decode(in, &out, &outlen, why, sizeof(why)) != -1)
		fail_msg("\"%s\" was accepted", in);
	assert_null(out);
	assert_int_equal(outlen, 0);
	if (strstr(why, substr) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", in, why, substr);
}

static void
test_hex_good(void **state)
{
	(void)state;
	expect_hex("hex:01 02 ff", "\x01\x02\xff", 3);
	expect_hex("hex:0102ff", "\x01\x02\xff", 3);
	expect_hex("hex:0102FF", "\x01\x02\xff", 3);
	expect_hex("hex:  0a\tFf\r\n00 ", "\x0a\xff\x00", 3);
	expect_hex("hex:00", "\0", 1);
	/* The prefix is optional for the function itself. */
	expect_hex("dEaD bEeF", "\xde\xad\xbe\xef", 4);
}

static void
test_hex_bad(void **state)
{
	(void)state;
	expect_hex_error("hex:010", "odd number of hex digits");
	expect_hex_error("hex:010", "column 7");
	expect_hex_error("hex:01 02 f", "column 11");
	expect_hex_error("hex:0g", "'g' at column 6 is not a hex digit");
	expect_hex_error("hex:01 0x02", "'x' at column 9");
	expect_hex_error("hex:01\x7f", "'\\x7f' at column 7");
	expect_hex_error("hex:0102\n03 zz", "'z' at line 2 column 4");
	expect_hex_error("hex:", "no bytes");
	expect_hex_error("hex: \t ", "no bytes");
	expect_hex_error("", "no bytes");
	expect_hex_error("hex:0 1", "hex digit at column 5 stands alone");
	expect_hex_error("hex:01 2\t3", "column 8 stands alone");
}

static char *
tmp_path(const char *name)
{
	static char	 path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void
write_file(const char *path, const char *bytes, size_t len)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
expect_file_error(const char *path, size_t max, const char *substr)
{
	char	*out = (char *)1;
	size_t	 outlen = 1;
	char	 why[512] = "";

	if (payload_file_read(path, max, &out, &outlen, why, sizeof(why))
	    != -1)
		fail_msg("%s was accepted", path);
	assert_null(out);
	assert_int_equal(outlen, 0);
	if (strstr(why, substr) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", path, why, substr);
	/* Every message names the file. */
	assert_non_null(strstr(why, path));
}

static void
alarm_handler(int sig)
{
	(void)sig;
	/* Only async-signal-safe calls: the test is stuck, say so. */
	(void)!write(2, "payload_file_read blocked\n", 26);
	_exit(1);
}

static void
test_file(void **state)
{
	char	 why[512] = "", *out, *p;
	size_t	 outlen;

	(void)state;
	expect_file_error(tmp_path("missing"), 100, "No such file");

	p = tmp_path("empty");
	write_file(p, "", 0);
	expect_file_error(p, 100, "file is empty");

	expect_file_error(tmpdir, 100, "a directory, not a regular file");
	expect_file_error("/dev/null", 100, "a character device");

	/* Without O_NONBLOCK this open would wait for a writer for ever. */
	p = tmp_path("fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	signal(SIGALRM, alarm_handler);
	alarm(10);
	expect_file_error(p, 100, "a FIFO, not a regular file");
	alarm(0);
	signal(SIGALRM, SIG_DFL);

	p = tmp_path("five");
	write_file(p, "ab\0de", 5);
	expect_file_error(p, 4, "too large (5 bytes, at most 4)");
	assert_int_equal(payload_file_read(p, 5, &out, &outlen, why,
	    sizeof(why)), 0);
	assert_int_equal(outlen, 5);
	assert_memory_equal(out, "ab\0de", 5);
	assert_int_equal(out[5], '\0');
	free(out);

	assert_int_equal(payload_file_read(p, PAYLOAD_FILE_MAX, &out, &outlen,
	    why, sizeof(why)), 0);
	assert_int_equal(outlen, 5);
	free(out);
}

static void
expect_tmpl_error(const char *in, const char *substr)
{
	struct payload_tmpl	 t;
	char			 why[512] = "";

	if (payload_tmpl_parse(in, strlen(in), &t, why, sizeof(why)) != -1)
		fail_msg("\"%s\" was accepted", in);
	assert_null(t.bytes);
	assert_null(t.segs);
	if (strstr(why, substr) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", in, why, substr);
}

static void
parse_ok(const char *in, struct payload_tmpl *t)
{
	char	 why[512] = "";

	if (payload_tmpl_parse(in, strlen(in), t, why, sizeof(why)) != 0)
		fail_msg("\"%s\": %s", in, why);
}

/* Expand in into a buffer of exactly max_len bytes, NUL-terminated. */
static char *
expand(const char *in, const struct payload_vars *v, size_t *lenp)
{
	struct payload_tmpl	 t;
	char			*buf, *s;
	size_t			 n;

	parse_ok(in, &t);
	buf = malloc(t.max_len);
	assert_non_null(buf);
	n = payload_expand(&t, v, buf, t.max_len);
	assert_true(n <= t.max_len);
	s = malloc(n + 1);
	assert_non_null(s);
	memcpy(s, buf, n);
	s[n] = '\0';
	free(buf);
	payload_tmpl_free(&t);
	if (lenp != NULL)
		*lenp = n;
	return s;
}

static void
expect_expand(const char *in, const struct payload_vars *v, const char *want)
{
	char	*s = expand(in, v, NULL);

	assert_string_equal(s, want);
	free(s);
}

static void
test_tmpl_fields(void **state)
{
	uint64_t		 rng = 42;
	struct payload_vars	 v = { 17, 3, "web", 3, 1700000000123456ull,
				     &rng };
	struct payload_tmpl	 t;
	char			*s;
	size_t			 i, n;

	(void)state;
	expect_expand("{seq}", &v, "17");
	expect_expand("{conn}", &v, "3");
	expect_expand("{load}", &v, "web");
	expect_expand("{time_us}", &v, "1700000000123456");
	expect_expand("a{seq}b{conn}c", &v, "a17b3c");
	expect_expand("{seq}{conn}{load}{time_us}", &v,
	    "173web1700000000123456");
	expect_expand("{{seq}} {{{seq}}}", &v, "{seq} {17}");
	expect_expand("GET /x?s={seq}&c={conn} HTTP/1.1\r\n\r\n", &v,
	    "GET /x?s=17&c=3 HTTP/1.1\r\n\r\n");

	v.seq = 0;
	v.conn = UINT64_MAX;
	expect_expand("{seq}/{conn}", &v, "0/18446744073709551615");

	s = expand("<{rand:5}>", &v, &n);
	assert_int_equal(n, 7);
	assert_int_equal(s[0], '<');
	assert_int_equal(s[6], '>');
	for (i = 1; i < 6; i++)
		assert_true(s[i] >= '0' && s[i] <= '9');
	free(s);
	assert_int_not_equal(rng, 42);

	s = expand("{rand:64}{rand:1}", &v, &n);
	assert_int_equal(n, 65);
	for (i = 0; i < n; i++)
		assert_true(s[i] >= '0' && s[i] <= '9');
	free(s);

	/* A zero state would give zeros for ever: expansion steps off it. */
	rng = 0;
	s = expand("{rand:20}", &v, &n);
	assert_int_equal(n, 20);
	assert_string_not_equal(s, "00000000000000000000");
	assert_int_not_equal(rng, 0);
	free(s);

	parse_ok("a{seq}b", &t);
	assert_false(t.is_static);
	assert_int_equal(t.nsegs, 3);
	assert_int_equal(t.segs[0].kind, PF_LITERAL);
	assert_int_equal(t.segs[1].kind, PF_SEQ);
	assert_int_equal(t.segs[2].kind, PF_LITERAL);
	assert_int_equal(t.max_len, 2 + 20);
	payload_tmpl_free(&t);

	parse_ok("{load}{rand:7}{conn}{time_us}", &t);
	assert_int_equal(t.max_len, (LOAD_NAME_MAX - 1) + 7 + 20 + 20);
	assert_int_equal(t.nbytes, 0);
	payload_tmpl_free(&t);
}

static void
test_tmpl_static(void **state)
{
	struct payload_tmpl	 t;
	char			 buf[64];
	uint64_t		 rng = 1;
	struct payload_vars	 v = { 1, 1, "x", 1, 1, &rng };

	(void)state;
	parse_ok("GET / HTTP/1.0\r\n\r\n", &t);
	assert_true(t.is_static);
	assert_int_equal(t.nsegs, 1);
	assert_int_equal(t.nbytes, 18);
	assert_int_equal(t.max_len, 18);
	assert_string_equal(t.bytes, "GET / HTTP/1.0\r\n\r\n");
	payload_tmpl_free(&t);

	/* Braces doubled are text: still static, bytes unescaped. */
	parse_ok("{{\"a\": 1}}", &t);
	assert_true(t.is_static);
	assert_string_equal(t.bytes, "{\"a\": 1}");
	assert_int_equal(payload_expand(&t, &v, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "{\"a\": 1}", 8);
	payload_tmpl_free(&t);

	/* Bytes after a NUL belong to the template too. */
	assert_int_equal(payload_tmpl_parse("a\0{seq}", 7, &t, buf,
	    sizeof(buf)), 0);
	assert_false(t.is_static);
	assert_int_equal(payload_expand(&t, &v, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "a\0" "1", 3);
	payload_tmpl_free(&t);
}

static void
test_tmpl_bad(void **state)
{
	(void)state;
	expect_tmpl_error("", "must not be empty");
	expect_tmpl_error("a{foo}", "unknown field {foo} at column 2");
	expect_tmpl_error("{SEQ}", "unknown field {SEQ}");
	expect_tmpl_error("{}", "unknown field {} at column 1");
	expect_tmpl_error("{seq }", "unknown field {seq }");
	expect_tmpl_error("{a\x01}", "unknown field {} at column 1");
	expect_tmpl_error("{random}", "unknown field {random}");
	expect_tmpl_error("ab{seq", "'{' at column 3 is not closed");
	expect_tmpl_error("{", "'{' at column 1 is not closed");
	expect_tmpl_error("{seq{conn}", "'{' at column 1 is not closed");
	expect_tmpl_error("{seq\n}", "'{' at column 1 is not closed");
	expect_tmpl_error("{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}",
	    "not closed");
	expect_tmpl_error("x\r\nHost: {hots}\r\n", "at line 2 column 7");
	expect_tmpl_error("a}b", "lone '}' at column 2");
	expect_tmpl_error("{seq}}", "lone '}' at column 6");
	expect_tmpl_error("}}}", "lone '}' at column 3");
	expect_tmpl_error("{{{", "'{' at column 3 is not closed");
	expect_tmpl_error("x{rand:0}", "{rand:0}: N of {rand:N} must be a "
	    "number from 1 to 64 at column 2");
	expect_tmpl_error("{rand:65}", "{rand:65}: N");
	expect_tmpl_error("{rand:x}", "{rand:x}: N");
	expect_tmpl_error("{rand:1x}", "{rand:1x}: N");
	expect_tmpl_error("{rand:-1}", "{rand:-1}: N");
	expect_tmpl_error("{rand:1000}", "{rand:1000}: N");
	expect_tmpl_error("{rand:99999999999999999999}", "must be a number");
	expect_tmpl_error("{rand}", "{rand} needs a digit count");
	expect_tmpl_error("{rand:}", "{rand} needs a digit count");
}

/* Decimal output against snprintf, around every power of ten. */
static void
test_decimal(void **state)
{
	uint64_t		 rng = 7, p = 1;
	struct payload_vars	 v = { 0, 0, "", 0, 0, &rng };
	struct payload_tmpl	 t;
	char			 want[32], buf[32];
	size_t			 n;
	int			 i, d;

	(void)state;
	parse_ok("{seq}", &t);
	for (i = 0; i < 20; i++) {
		for (d = -2; d <= 2; d++) {
			if (d < 0 && p < (uint64_t)-d)
				continue;
			v.seq = p + (uint64_t)(int64_t)d;
			snprintf(want, sizeof(want), "%" PRIu64, v.seq);
			n = payload_expand(&t, &v, buf, sizeof(buf));
			assert_int_equal(n, strlen(want));
			assert_memory_equal(buf, want, n);
		}
		if (i < 19)
			p *= 10;
	}
	for (i = 0; i < 100000; i++) {
		rng ^= rng >> 12;
		rng ^= rng << 25;
		rng ^= rng >> 27;
		v.seq = (rng * 0x2545F4914F6CDD1Dull) >> (rng % 64);
		snprintf(want, sizeof(want), "%" PRIu64, v.seq);
		n = payload_expand(&t, &v, buf, sizeof(buf));
		assert_int_equal(n, strlen(want));
		assert_memory_equal(buf, want, n);
	}
	payload_tmpl_free(&t);
}

/* Every digit turns up about equally often in every place. */
static void
test_rand_digits(void **state)
{
	uint64_t		 rng = 12345;
	struct payload_vars	 v = { 0, 0, "", 0, 0, &rng };
	struct payload_tmpl	 t;
	char			 buf[64];
	unsigned		 count[64][10];
	int			 i, k, rounds = 20000;

	(void)state;
	memset(count, 0, sizeof(count));
	parse_ok("{rand:64}", &t);
	for (i = 0; i < rounds; i++) {
		assert_int_equal(payload_expand(&t, &v, buf, sizeof(buf)), 64);
		for (k = 0; k < 64; k++) {
			assert_true(buf[k] >= '0' && buf[k] <= '9');
			count[k][buf[k] - '0']++;
		}
	}
	/* Mean 2000, sd about 42: 10 sd either way is a broken generator. */
	for (k = 0; k < 64; k++) {
		for (i = 0; i < 10; i++) {
			if (count[k][i] < 1580 || count[k][i] > 2420)
				fail_msg("digit %d at %d: %u of %d", i, k,
				    count[k][i], rounds);
		}
	}
	payload_tmpl_free(&t);
}

/*
 * The ceiling holds with every field at its widest, in a heap buffer of
 * exactly max_len (so ASan sees one byte too many), and a buffer one byte
 * short is refused, not overrun.
 */
static void
test_max_len(void **state)
{
	static const char	 in[] =
	    "{seq}-{conn}-{time_us}-{load}-{rand:64}{{}}";
	char			 name[200];
	uint64_t		 rng = 99;
	struct payload_vars	 v = { UINT64_MAX, UINT64_MAX, name, 0,
				     UINT64_MAX, &rng };
	struct payload_tmpl	 t;
	char			*buf;
	size_t			 n, want;

	(void)state;
	memset(name, 'n', sizeof(name));
	parse_ok(in, &t);
	want = 20 + 1 + 20 + 1 + 20 + 1 + (LOAD_NAME_MAX - 1) + 1 + 64 + 2;
	assert_int_equal(t.max_len, want);
	buf = malloc(t.max_len);
	assert_non_null(buf);

	v.load_len = LOAD_NAME_MAX - 1;
	n = payload_expand(&t, &v, buf, t.max_len);
	assert_int_equal(n, want);
	assert_memory_equal(buf, "18446744073709551615-", 21);
	assert_memory_equal(buf + n - 2, "{}", 2);

	/* A name longer than any valid one is cut, not written whole. */
	v.load_len = sizeof(name);
	n = payload_expand(&t, &v, buf, t.max_len);
	assert_int_equal(n, want);

	memset(buf, 'z', t.max_len);
	assert_int_equal(payload_expand(&t, &v, buf, t.max_len - 1), 0);
	assert_int_equal(buf[0], 'z');
	free(buf);
	payload_tmpl_free(&t);
}

static void
test_msg_parse(void **state)
{
	struct payload_tmpl	 t;
	char			 why[256];

	(void)state;
	/* hex: is bytes, with or without template: braces included. */
	assert_int_equal(payload_msg_parse("hex:7b 73 65 71 7d 00", true, &t,
	    why, sizeof(why)), 0);
	assert_true(t.is_static);
	assert_int_equal(t.nbytes, 6);
	assert_memory_equal(t.bytes, "{seq}\0", 6);
	payload_tmpl_free(&t);

	/* Not a template: braces are bytes, even unbalanced ones. */
	assert_int_equal(payload_msg_parse("{seq} }", false, &t, why,
	    sizeof(why)), 0);
	assert_true(t.is_static);
	assert_string_equal(t.bytes, "{seq} }");
	assert_int_equal(t.max_len, 7);
	payload_tmpl_free(&t);

	assert_int_equal(payload_msg_parse("{seq}", true, &t, why,
	    sizeof(why)), 0);
	assert_false(t.is_static);
	payload_tmpl_free(&t);

	assert_int_equal(payload_msg_parse("hex:0", false, &t, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "odd number"));
	assert_int_equal(payload_msg_parse("{x}", true, &t, why,
	    sizeof(why)), -1);
	assert_int_equal(payload_msg_parse("", false, &t, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "empty"));
	/* A prefix only when written so: "HEX:" is text. */
	assert_int_equal(payload_msg_parse("HEX:zz", false, &t, why,
	    sizeof(why)), 0);
	payload_tmpl_free(&t);
}

static void
test_list(void **state)
{
	static const char	*msgs[] = { "GET /a\r\n", "hex:0102",
				    "n={seq}", "{{}}", "{load}" };
	struct payload		 pl, cp;
	struct payload_tmpl	 t;
	uint64_t		 rng = 5;
	struct payload_vars	 v = { 0, 0, "web", 3, 0, &rng };
	char			 why[256], buf[128];
	size_t			 i, n;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	for (i = 0; i < 2; i++) {
		assert_int_equal(payload_msg_parse(msgs[i], true, &t, why,
		    sizeof(why)), 0);
		assert_int_equal(payload_add(&pl, &t, why, sizeof(why)), 0);
		assert_null(t.bytes);
	}
	assert_true(pl.is_static);
	assert_int_equal(pl.max_len, 8);
	for (i = 2; i < NELEM(msgs); i++) {
		assert_int_equal(payload_msg_parse(msgs[i], true, &t, why,
		    sizeof(why)), 0);
		assert_int_equal(payload_add(&pl, &t, why, sizeof(why)), 0);
	}
	assert_int_equal(pl.nmsgs, 5);
	assert_false(pl.is_static);
	assert_int_equal(pl.max_len, LOAD_NAME_MAX - 1);

	for (v.seq = 0; v.seq < 12; v.seq++) {
		const struct payload_tmpl *m = payload_pick(&pl, v.seq);

		n = payload_expand(m, &v, buf, sizeof(buf));
		switch (v.seq % 5) {
		case 0:
			assert_int_equal(n, 8);
			assert_memory_equal(buf, "GET /a\r\n", 8);
			break;
		case 1:
			assert_int_equal(n, 2);
			assert_memory_equal(buf, "\x01\x02", 2);
			break;
		case 2:
			snprintf(why, sizeof(why), "n=%d", (int)v.seq);
			assert_int_equal(n, strlen(why));
			assert_memory_equal(buf, why, n);
			break;
		case 3:
			assert_int_equal(n, 2);
			assert_memory_equal(buf, "{}", 2);
			break;
		case 4:
			assert_int_equal(n, 3);
			assert_memory_equal(buf, "web", 3);
			break;
		}
	}

	payload_dup(&cp, &pl);
	assert_true(payload_equal(&cp, &pl));
	assert_ptr_not_equal(cp.msgs, pl.msgs);
	assert_ptr_not_equal(cp.msgs[0].bytes, pl.msgs[0].bytes);
	/* A copy grows like the original (its capacity is not its count). */
	for (i = 0; i < 20; i++) {
		assert_int_equal(payload_msg_parse("x", false, &t, why,
		    sizeof(why)), 0);
		assert_int_equal(payload_add(&cp, &t, why, sizeof(why)), 0);
	}
	assert_int_equal(cp.nmsgs, 25);
	assert_false(payload_equal(&cp, &pl));
	payload_free(&cp);
	assert_int_equal(cp.nmsgs, 0);

	/* Same text, other template: "{seq}" as bytes is not {seq}. */
	payload_dup(&cp, &pl);
	payload_tmpl_free(&cp.msgs[2]);
	assert_int_equal(payload_msg_parse("n={seq}", false, &cp.msgs[2], why,
	    sizeof(why)), 0);
	assert_false(payload_equal(&cp, &pl));
	payload_free(&cp);
	payload_free(&pl);

	memset(&pl, 0, sizeof(pl));
	payload_dup(&cp, &pl);
	assert_true(payload_equal(&cp, &pl));
	assert_null(cp.msgs);
	payload_free(&cp);
}

static void
test_list_max(void **state)
{
	struct payload		 pl;
	struct payload_tmpl	 t;
	char			 why[256];
	unsigned		 i;

	(void)state;
	memset(&pl, 0, sizeof(pl));
	for (i = 0; i < PAYLOAD_MSGS_MAX; i++) {
		assert_int_equal(payload_tmpl_bytes("m", 1, &t, why,
		    sizeof(why)), 0);
		assert_int_equal(payload_add(&pl, &t, why, sizeof(why)), 0);
	}
	assert_int_equal(payload_tmpl_bytes("m", 1, &t, why, sizeof(why)), 0);
	assert_int_equal(payload_add(&pl, &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "too many messages"));
	payload_tmpl_free(&t);
	assert_int_equal(payload_pick(&pl, PAYLOAD_MSGS_MAX + 3) - pl.msgs, 3);
	payload_free(&pl);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_payload.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	static const char	*names[] = { "empty", "fifo", "five" };
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(names); i++)
		unlink(tmp_path(names[i]));
	return rmdir(tmpdir);
}

/*
 * Not a test: n expansions of a small request, as the engine would do
 * them, with the time per expansion.  For instruction counts run it under
 * callgrind with n and with 0 and divide the difference by n.
 */
static int
bench(unsigned long n)
{
	struct payload_tmpl	 t;
	uint64_t		 rng = 1;
	struct payload_vars	 v = { 0, 7, "web", 3, 0, &rng };
	char			 why[256], buf[256];
	struct timespec		 t0, t1;
	size_t			 sum = 0;
	unsigned long		 i;
	double			 ns;

	if (payload_tmpl_parse(BENCH_MSG, strlen(BENCH_MSG), &t, why,
	    sizeof(why)) == -1) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		v.seq = i;
		sum += payload_expand(&t, &v, buf, sizeof(buf));
		/* Keep the compiler from dropping the writes. */
		__asm__ __volatile__("" : : "r"(buf) : "memory");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	printf("%lu expansions, %zu bytes, %.1f ns each\n", n, sum,
	    n > 0 ? ns / n : 0);
	payload_tmpl_free(&t);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_good),
		cmocka_unit_test(test_hex_bad),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_tmpl_fields),
		cmocka_unit_test(test_tmpl_static),
		cmocka_unit_test(test_tmpl_bad),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_rand_digits),
		cmocka_unit_test(test_max_len),
		cmocka_unit_test(test_msg_parse),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_max),
	};

	if (argc >= 2 && strcmp(argv[1], "bench") == 0)
		return bench(argc >= 3 ? strtoul(argv[2], NULL, 10) : 1000000);
	return cmocka_run_group_tests(tests, setup, teardown);
}
