/* SPDX-License-Identifier: ISC */
/*
 * daemon/results.h -- the results log (JSON lines) and the HdrHistogram
 * interval log: one line per load per interval, whole or not at all.
 * Main thread only.
 */
#ifndef LOADD_DAEMON_RESULTS_H
#define LOADD_DAEMON_RESULTS_H

#include <stddef.h>

#include "model/profile.h"

void	 results_open(const struct profile *);
void	 results_interval(double start_mono, double length);
int	 results_reopen(char *why, size_t whylen);
void	 results_close(void);
/* A run's summary (summary.c), as a line of its own. */
struct json_t;
void	 results_summary(struct json_t *);

#endif
