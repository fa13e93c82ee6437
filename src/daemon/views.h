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
/* start --at: starts_at, starts_in_s, started_at, start_skew_s. */
void	 views_start(json_t *, const struct load *);
/* "flood", "paced" or "idle". */
const char *views_mode(const struct load *);
/* The stats reply: one load, or NULL for all, and the total. */
json_t	*views_stats(const char *only);
/*
 * The histogram reply: each load's (or only's) histograms, HdrHistogram
 * V2 compressed and base64, with their layout.  NULL with a reason.
 */
json_t	*views_histograms(const char *only, char *why, size_t whylen);

#endif
