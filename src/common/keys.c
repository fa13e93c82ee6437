/* SPDX-License-Identifier: ISC */
/*
 * keys.c -- the names of common/keys.h by id.
 */
#include <stddef.h>

#include "common/keys.h"

const char *const key_counter[KC_MAX] = {
#define X(f, key, prom, rate, help)	[KC_##f] = key,
	LOADD_COUNTERS(X)
#undef X
};

const char *const key_counter_rate[KC_MAX] = {
#define X(f, key, prom, rate, help)	[KC_##f] = rate,
	LOADD_COUNTERS(X)
#undef X
};

const char *const key_gauge[KG_MAX] = {
#define X(f, key, prom, help)		[KG_##f] = key,
	LOADD_GAUGES(X)
#undef X
};
