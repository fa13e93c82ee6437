/* SPDX-License-Identifier: ISC */
/*
 * test_request.c -- the request parser and the command table: every bad
 * request the control socket must survive gets a clear error here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/cmd.h"
#include "common/util.h"

static int
parse(const char *line, struct request *req, char *err, size_t errlen)
{
	return request_parse(line, strlen(line), req, err, errlen);
}

static void
expect_error(const char *line, const char *substr)
{
	struct request	 req;
	char		 err[512] = "";

	if (parse(line, &req, err, sizeof(err)) != -1)
		fail_msg("\"%s\" was accepted", line);
	if (strstr(err, substr) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", line, err, substr);
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < CMD_MAX; i++) {
		assert_int_equal(cmd_table[i].id, (enum cmd_id)i);
		assert_non_null(cmd_table[i].help);
		assert_ptr_equal(cmd_find(cmd_table[i].name), &cmd_table[i]);
		for (size_t j = i + 1; j < CMD_MAX; j++)
			assert_string_not_equal(cmd_table[i].name,
			    cmd_table[j].name);
	}
	assert_null(cmd_find("scal"));
	assert_null(cmd_find(""));
}

static void
test_good(void **state)
{
	struct request	 req;
	char		 err[256];

	(void)state;
	assert_int_equal(parse("status", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd->id, CMD_STATUS);

	assert_int_equal(parse("scale 500", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd->id, CMD_SCALE);
	assert_string_equal(req.load, "");
	assert_int_equal(req.count, 500);

	assert_int_equal(parse("  scale\tweb   2000 \r", &req, err,
	    sizeof(err)), 0);
	assert_string_equal(req.load, "web");
	assert_int_equal(req.count, 2000);

	assert_int_equal(parse("scale web 2000 --over 30s", &req, err,
	    sizeof(err)), 0);
	assert_string_equal(req.load, "web");
	assert_int_equal(req.count, 2000);
	assert_true(req.over == 30);
	assert_int_equal(parse("scale 5 --over 250ms", &req, err,
	    sizeof(err)), 0);
	assert_true(req.over > 0.2499 && req.over < 0.2501);
	assert_int_equal(req.count, 5);

	assert_int_equal(parse("scale 0", &req, err, sizeof(err)), 0);
	assert_int_equal(req.count, 0);

	assert_int_equal(parse("rate web 20000", &req, err, sizeof(err)), 0);
	assert_true(req.rate == 20000);
	assert_int_equal(parse("rate 0.5", &req, err, sizeof(err)), 0);
	assert_true(req.rate == 0.5);
	assert_int_equal(parse("rate flood", &req, err, sizeof(err)), 0);
	assert_true(req.rate == 0);
	assert_string_equal(req.load, "");
	/* The edges that pass: RATE_MIN, RATE_LIMIT, exponents, a ramp of 0. */
	assert_int_equal(parse("rate web 0.001", &req, err, sizeof(err)), 0);
	assert_true(req.rate == RATE_MIN);
	assert_int_equal(parse("rate web 1e-3", &req, err, sizeof(err)), 0);
	assert_true(req.rate == RATE_MIN);
	assert_int_equal(parse("rate web 1e9", &req, err, sizeof(err)), 0);
	assert_true(req.rate == RATE_LIMIT);
	assert_int_equal(parse("rate web 2.5E+2", &req, err, sizeof(err)), 0);
	assert_true(req.rate == 250);
	assert_int_equal(parse("rate web .5", &req, err, sizeof(err)), 0);
	assert_true(req.rate == 0.5);
	assert_int_equal(parse("scale 5 --over 0", &req, err, sizeof(err)), 0);
	assert_true(req.over == 0);
	assert_int_equal(parse("scale 5 --over 1ms", &req, err, sizeof(err)),
	    0);
	assert_true(req.over == RAMP_MIN);
	assert_int_equal(parse("scale 5 --over 7d", &req, err, sizeof(err)), 0);
	assert_true(req.over == RAMP_MAX);

	assert_int_equal(parse("stop web", &req, err, sizeof(err)), 0);
	assert_string_equal(req.load, "web");
	assert_int_equal(parse("start", &req, err, sizeof(err)), 0);
	assert_int_equal(parse("help scale", &req, err, sizeof(err)), 0);
	assert_string_equal(req.word, "scale");
	assert_int_equal(parse("stats", &req, err, sizeof(err)), 0);
	assert_int_equal(parse("watch", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd->id, CMD_WATCH);

	/* Protocol 2: histogram, and start --at TIME (with --lease too). */
	assert_int_equal(parse("histogram", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd->id, CMD_HISTOGRAM);
	assert_string_equal(req.load, "");
	assert_int_equal(parse("histogram web", &req, err, sizeof(err)), 0);
	assert_string_equal(req.load, "web");
	assert_int_equal(parse("start", &req, err, sizeof(err)), 0);
	assert_true(req.at == 0);
	assert_int_equal(parse("start web --at 1796079818.5", &req, err,
	    sizeof(err)), 0);
	assert_string_equal(req.load, "web");
	assert_true(req.at == 1796079818.5);
	assert_int_equal(parse("start --at 1796079818 --lease 30s", &req, err,
	    sizeof(err)), 0);
	assert_true(req.at == 1796079818 && req.lease == 30);
	assert_string_equal(req.load, "");
	assert_int_equal(parse("start web --lease 1m --at 1.796e9", &req, err,
	    sizeof(err)), 0);
	assert_true(req.at == 1.796e9 && req.lease == 60);
}

static void
test_bad(void **state)
{
	char	 big[CONTROL_LINE_MAX + 2];
	char	 bin[] = { 's', 't', 'a', '\x01', 0x7f, '\xff', 0 };
	struct request req;
	char	 err[256];

	(void)state;
	expect_error("", "empty request");
	expect_error("   \t ", "empty request");
	expect_error("frobnicate", "unknown command \"frobnicate\"");
	expect_error("STATUS", "unknown command");
	expect_error(bin, "non-printable");
	expect_error("scale", "usage: scale [LOAD] COUNT");
	expect_error("scale web 1 2", "usage: scale");
	expect_error("scale a b c d e f g", "too many arguments");
	expect_error("scale a b c d e", "usage: scale");
	expect_error("scale abc", "bad connection count \"abc\"");
	expect_error("scale -1", "must not be negative");
	expect_error("scale 99999999999999999999", "too large");
	expect_error("scale 10000001", "too large");
	expect_error("scale 1.5", "not a whole number");
	expect_error("scale 0x10", "not a whole number");
	expect_error("scale 9web 10", "invalid load name");
	expect_error("scale 5 --over", "invalid load name \"5\"");
	expect_error("scale web --over", "bad connection count \"--over\"");
	expect_error("scale 5 --over soon", "bad ramp duration");
	expect_error("scale 5 --over 8d", "longer than a week");
	expect_error("scale --over 5s", "usage: scale");
	expect_error("rate 5 --over 5s", "usage: rate");
	expect_error("rate", "usage: rate");
	expect_error("rate -5", "bad rate");
	expect_error("rate 0", "must be above 0");
	expect_error("rate nan", "bad rate");
	expect_error("rate inf", "bad rate");
	expect_error("rate 1e99", "too large");
	expect_error("rate fast", "bad rate");
	/* Issue 12: every edge of a rate, each refused with its reason. */
	expect_error("rate web 1e-11", "below the minimum");
	expect_error("rate web 1e-300", "below the minimum");
	expect_error("rate web 1e-320", "below the minimum");	/* denormal */
	expect_error("rate web 4.9e-324", "below the minimum");
	expect_error("rate web 1e-400", "below the minimum");	/* underflow */
	expect_error("rate web 0.000999", "below the minimum");
	expect_error("rate web 0.0001", "0.001 to 1000000000 messages");
	expect_error("rate web 1e300", "too large");
	expect_error("rate web 1e400", "too large");
	expect_error("rate web 1000000001", "too large");
	expect_error("rate web inf", "not a decimal number");
	expect_error("rate web -inf", "must be above 0");
	expect_error("rate web infinity", "not a decimal number");
	expect_error("rate web nan", "not a decimal number");
	expect_error("rate web NAN(0x1)", "not a decimal number");
	expect_error("rate web 0x10", "not a decimal number");
	expect_error("rate web 0x1p-1074", "not a decimal number");
	expect_error("rate web -0", "must be above 0");
	expect_error("rate web 0.0e5", "must be above 0");
	expect_error("rate web +5", "not a decimal number");
	expect_error("rate web 5e", "not a decimal number");
	expect_error("rate web .", "not a decimal number");
	expect_error("rate web 1,5", "not a decimal number");
	expect_error("scale 5 --over 1e-300", "shorter than 1ms");
	expect_error("scale 5 --over 1e-320s", "shorter than 1ms");
	expect_error("scale 5 --over 0.5us", "shorter than 1ms");
	expect_error("scale 5 --over 1e300", "longer than a week");
	expect_error("scale 5 --over 1e400", "longer than a week");
	expect_error("scale 5 --over 1e308d", "longer than a week");
	expect_error("scale 5 --over 0x10s", "not a duration");
	expect_error("scale 5 --over inf", "not a duration");
	expect_error("scale 5 --over nan", "not a duration");
	expect_error("scale 5 --over -0", "not a duration");
	expect_error("scale 5 --over 5parsecs", "not a duration");
	expect_error("status now", "usage: status");
	expect_error("stop a b", "usage: stop");
	expect_error("stop ../etc", "invalid load name");
	expect_error("help nosuch", "unknown command");
	expect_error("histogram a b", "usage: histogram [LOAD]");
	expect_error("histogram 9x", "invalid load name");
	expect_error("histogram --at 5", "usage: histogram");
	/* start --at: unix seconds, nothing else; its range is the daemon's. */
	expect_error("start --at", "invalid load name \"--at\"");
	expect_error("start web --at", "usage: start");
	expect_error("start --at soon", "bad start time \"soon\": not a time");
	expect_error("start --at +2s", "a relative time is loadctl's");
	expect_error("start --at -5", "not a time in unix seconds");
	expect_error("start --at 0", "not a time in unix seconds");
	expect_error("start --at 0.0", "not a time in unix seconds");
	expect_error("start --at nan", "not a time in unix seconds");
	expect_error("start --at inf", "not a time in unix seconds");
	expect_error("start --at 1e400", "not a time in unix seconds");
	expect_error("start --at 0x10", "not a time in unix seconds");
	expect_error("start --at 1796079818,5", "not a time in unix seconds");
	expect_error("start --at 1796079818.5s", "not a time in unix seconds");
	expect_error("start --at 5 --at 6", "usage: start");
	expect_error("start a b --at 5", "usage: start");
	expect_error("stop web --at 5", "usage: stop");
	expect_error("scale 5 --at 5", "usage: scale");
	expect_error("rate 5 --at 5", "usage: rate");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(request_parse(big, strlen(big), &req, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 4096"));
	/* An embedded NUL is binary garbage, not the end of the request. */
	assert_int_equal(request_parse("status\0x", 8, &req, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "non-printable"));
}

static void
test_names(void **state)
{
	char	 longname[LOAD_NAME_MAX + 1];

	(void)state;
	assert_true(load_name_valid("web"));
	assert_true(load_name_valid("a-b_c.d9"));
	assert_false(load_name_valid(""));
	assert_false(load_name_valid("9lives"));
	assert_false(load_name_valid("a b"));
	assert_false(load_name_valid("a/b"));
	memset(longname, 'a', LOAD_NAME_MAX);
	longname[LOAD_NAME_MAX] = '\0';
	assert_false(load_name_valid(longname));
	longname[LOAD_NAME_MAX - 1] = '\0';
	assert_true(load_name_valid(longname));
}

static void
test_parsers(void **state)
{
	double		 d;
	uint64_t	 u;
	const char	*why;

	(void)state;
	assert_int_equal(parse_duration("250ms", &d, &why), 0);
	assert_true(d > 0.2499 && d < 0.2501);
	assert_int_equal(parse_duration("2h", &d, &why), 0);
	assert_true(d == 7200);
	assert_int_equal(parse_duration("3", &d, &why), 0);
	assert_true(d == 3);
	assert_int_equal(parse_duration("10 parsecs", &d, &why), -1);
	assert_int_equal(parse_duration("-1s", &d, &why), -1);
	assert_int_equal(parse_duration("", &d, &why), -1);
	assert_int_equal(parse_u64("18446744073709551615", UINT64_MAX, &u,
	    &why), 0);
	assert_int_equal(parse_u64("18446744073709551616", UINT64_MAX, &u,
	    &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
