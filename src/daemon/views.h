/* SPDX-License-Identifier: ISC */
/*
 * daemon/views.h -- the JSON views of the loads (status, stats, watch,
 * the results log).  Main thread only.
 */
#ifndef LOADD_DAEMON_VIEWS_H
#define LOADD_DAEMON_VIEWS_H

#include <stdbool.h>

#include <jansson.h>

#include "daemon/daemon.h"
#include "measure/hist.h"

/* Count, mean, the percentiles of common/keys.h and max, in us. */
json_t	*views_hist(const struct hist *);
/* A load: every counter (stats) or the short form (status). */
json_t	*views_load(const struct load *, bool counters);
/* While a `scale --over` runs: where it goes and the time left. */
void	 views_ramp(json_t *, const struct load *);
/* "flood", "paced" or "idle". */
const char *views_mode(const struct load *);
/* The stats reply: one load, or NULL for all, and the total. */
json_t	*views_stats(const char *only);

#endif
