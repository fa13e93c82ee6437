/* SPDX-License-Identifier: ISC */
/*
 * keys.c -- the names of common/keys.h as tables, by id.
 */
#include <stddef.h>

#include "common/keys.h"

const struct key_def key_counters[KC_MAX] = {
#define X(f, key, prom, rate, help)	[KC_##f] = { key, prom, rate, help },
	LOADD_COUNTERS(X)
#undef X
};

const char *const key_err_kinds[KEY_ERR_KINDS] = {
#define X(e, name)	name,
	LOADD_ERR_KINDS(X)
#undef X
};

const struct key_def key_gauges[KG_MAX] = {
#define X(f, key, prom, help)		[KG_##f] = { key, prom, NULL, help },
	LOADD_GAUGES(X)
#undef X
};
