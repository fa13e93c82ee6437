/* SPDX-License-Identifier: ISC */
/*
 * test_stats.c -- error kinds: every kind has a distinct name, and each
 * errno a connect can meet is counted under the kind the docs give it
 * (protocol.md, "Error kinds").  In particular a source address that is
 * not local (bind: EADDRNOTAVAIL) and a connect with no local port left
 * (connect: EADDRNOTAVAIL) must not be confused: the remedies differ.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "measure/counters.h"

/*
 * The counter table that the JSON, /metrics and the rates walk: every
 * field of struct stats_snap that keys.h lists is in it once, with its
 * names, and a counter added to one struct is in the other.
 */
static void
test_counter_table(void **state)
{
	struct stats_snap	 s;
	struct load_counters	 c;

	(void)state;
	assert_int_equal(KC_MAX, 22);
	assert_int_equal(KG_MAX, 2);
	for (size_t i = 0; i < KC_MAX; i++) {
		const struct key_def *d = &key_counters[i];

		assert_non_null(d->key);
		assert_non_null(d->help);
		assert_true(strncmp(d->prom, "loadd_", 6) == 0);
		assert_non_null(strstr(d->prom, "_total"));
		assert_true(counter_off[i] + sizeof(uint64_t) <= sizeof(s));
		for (size_t j = i + 1; j < KC_MAX; j++) {
			assert_string_not_equal(d->key, key_counters[j].key);
			assert_true(counter_off[i] != counter_off[j]);
		}
		/* A value written through the table lands in its field. */
		memset(&s, 0, sizeof(s));
		*stats_snap_counter(&s, i) = 1000 + i;
		assert_int_equal(stats_snap_get(&s, i), 1000 + i);
	}
	memset(&s, 0, sizeof(s));
	s.bytes_sent = 7;
	assert_int_equal(stats_snap_get(&s, KC_bytes_sent), 7);
	/* The per-worker atomics add up into the snapshot, field by field. */
	memset(&c, 0, sizeof(c));
	CTR_ADD(c.bytes_sent, 5);
	CTR_ADD(c.late, 2);
	CTR_ADD(c.active, 3);
	CTR_ADD(c.errors[ERR_RESET], 4);
	memset(&s, 0, sizeof(s));
	stats_snap_add_counters(&s, &c);
	stats_snap_add_counters(&s, &c);
	assert_int_equal(s.bytes_sent, 10);
	assert_int_equal(s.late, 4);
	assert_int_equal(s.active, 6);
	assert_int_equal(s.errors[ERR_RESET], 8);
	assert_int_equal(s.replies, 0);
	for (size_t i = 0; i < KG_MAX; i++)
		assert_true(strncmp(key_gauges[i].key, "connections_", 12) == 0);
	assert_int_equal(stats_snap_gauge(&s, KG_active), 6);
}

static void
test_names(void **state)
{
	(void)state;
	for (int i = 0; i < ERR_MAX; i++) {
		assert_non_null(err_kind_names[i]);
		for (int j = i + 1; j < ERR_MAX; j++)
			assert_string_not_equal(err_kind_names[i],
			    err_kind_names[j]);
	}
	assert_string_equal(err_kind_names[ERR_ADDRNOTAVAIL],
	    "address_not_available");
	assert_string_equal(err_kind_names[ERR_PORTS],
	    "local_ports_exhausted");
}

static void
test_connect_errno(void **state)
{
	(void)state;
	assert_int_equal(err_kind_from_errno(ECONNREFUSED), ERR_REFUSED);
	assert_int_equal(err_kind_from_errno(ECONNRESET), ERR_RESET);
	assert_int_equal(err_kind_from_errno(EPIPE), ERR_RESET);
	assert_int_equal(err_kind_from_errno(ETIMEDOUT), ERR_TIMEOUT);
	assert_int_equal(err_kind_from_errno(EMFILE), ERR_NOFILE);
	assert_int_equal(err_kind_from_errno(ENFILE), ERR_NOFILE);
	assert_int_equal(err_kind_from_errno(ENETUNREACH), ERR_UNREACHABLE);
	assert_int_equal(err_kind_from_errno(EHOSTUNREACH), ERR_UNREACHABLE);
	/* connect() picks the port: both mean none is left. */
	assert_int_equal(err_kind_from_errno(EADDRNOTAVAIL), ERR_PORTS);
	assert_int_equal(err_kind_from_errno(EADDRINUSE), ERR_PORTS);
	assert_int_equal(err_kind_from_errno(EPROTO), ERR_OTHER);
}

static void
test_bind_errno(void **state)
{
	(void)state;
	/* bind() of a source that is not one of this host's addresses */
	assert_int_equal(err_kind_from_bind_errno(EADDRNOTAVAIL),
	    ERR_ADDRNOTAVAIL);
	/* bind() to port 0 when no port is left */
	assert_int_equal(err_kind_from_bind_errno(EADDRINUSE), ERR_PORTS);
	assert_int_equal(err_kind_from_bind_errno(EMFILE), ERR_NOFILE);
	assert_int_equal(err_kind_from_bind_errno(EACCES), ERR_OTHER);
}

/* The new kind is summed with the others. */
static void
test_counters(void **state)
{
	struct stats_snap	 s, t;
	struct load_counters	 c;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	CTR_ADD(c.errors[ERR_PORTS], 3);
	CTR_ADD(c.errors[ERR_ADDRNOTAVAIL], 1);
	stats_snap_add_counters(&s, &c);
	stats_snap_add(&t, &s);
	stats_snap_add(&t, &s);
	assert_int_equal(t.errors[ERR_PORTS], 6);
	assert_int_equal(t.errors[ERR_ADDRNOTAVAIL], 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_counter_table),
		cmocka_unit_test(test_connect_errno),
		cmocka_unit_test(test_bind_errno),
		cmocka_unit_test(test_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
