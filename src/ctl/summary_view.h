/* SPDX-License-Identifier: ISC */
/*
 * ctl/summary_view.h -- `loadctl summary` for people (summary_view.c).
 */
#ifndef LOADD_CTL_SUMMARY_VIEW_H
#define LOADD_CTL_SUMMARY_VIEW_H

#include <jansson.h>

/* The reply of `summary`: each load's last run, one after the other. */
void	 summary_view_print(json_t *reply);

#endif
