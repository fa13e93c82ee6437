/* SPDX-License-Identifier: ISC */
/*
 * measure/hdrlog.h -- HdrHistogram's interval log encoding of a struct
 * hist.  Pure functions over a descriptor: no logging, no libevent.
 */
#ifndef LOADD_MEASURE_HDRLOG_H
#define LOADD_MEASURE_HDRLOG_H

#include <stddef.h>

#include "measure/hist.h"

/*
 * The HdrHistogram interval log (the "V2 compressed histogram" encoding,
 * base64, one line per interval), readable by HdrHistogram's
 * HistogramLogProcessor and HistogramLogAnalyzer.  Values are nanoseconds.
 */
struct hdrlog;

/* Encode h as a base64 V2 compressed histogram; returns a new string. */
char	*hdr_encode_base64(const struct hist *h, char *why, size_t whylen);
/* Decode one (used by the tests; returns 0 or -1 with a reason). */
int	 hdr_decode_base64(const char *b64, struct hist *h, char *why,
	    size_t whylen);
/*
 * Write the log header (#[StartTime: ...], #[BaseTime: ...], the column
 * legend) to fd; then one line per interval with a tag (the load name).
 * Both return 0 or -1 with errno set; a line is written with one write().
 */
int	 hdrlog_write_header(int fd, double start_wall);
int	 hdrlog_write_interval(int fd, const char *tag, double start_offset_s,
	    double length_s, const struct hist *h);

#endif
