/* SPDX-License-Identifier: ISC */
/*
 * common/summary_view.h -- a run's summary for people: `loadctl summary`
 * and `loadd run` (summary_view.c; needs jansson, so it is compiled into
 * both programs rather than into the common library).
 */
#ifndef LOADD_COMMON_SUMMARY_VIEW_H
#define LOADD_COMMON_SUMMARY_VIEW_H

#include <stdbool.h>

#include <jansson.h>

/* The reply of `summary`: each load's last run, one after the other. */
void	 summary_view_print(json_t *reply);
/* Whether no summary of the reply missed an objective. */
bool	 summary_view_passed(json_t *reply);

#endif
