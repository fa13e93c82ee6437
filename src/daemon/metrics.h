/* SPDX-License-Identifier: ISC */
/*
 * daemon/metrics.h -- GET /metrics (Prometheus text format) on the main
 * thread's event_base.
 */
#ifndef LOADD_DAEMON_METRICS_H
#define LOADD_DAEMON_METRICS_H

#include <stddef.h>

/* Listen on "HOST:PORT"; NULL: off, returns 0.  -1 with the reason. */
int	 metrics_init(const char *listen, char *why, size_t whylen);
void	 metrics_close(void);

#endif
