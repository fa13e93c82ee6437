/* SPDX-License-Identifier: ISC */
/*
 * loadctl.h -- what loadctl.c lends to loadctl's other parts: the printers
 * of replies, so that a fleet's merged reply reads as one daemon's.
 */
#ifndef LOADD_CTL_LOADCTL_H
#define LOADD_CTL_LOADCTL_H

#include <jansson.h>

#include "common/cmd.h"

#define EXIT_OK		0
#define EXIT_REFUSED	1
#define EXIT_USAGE	2
#define EXIT_UNREACHABLE 3
#define WAIT_MISSED	4

/* A reply of ok (true) for people, by the command that asked for it. */
void	 print_ok(const struct request *req, json_t *o);
/* One line of `watch` from a stats reply (prev: the one before, or NULL). */
void	 watch_line(json_t *o, json_t *prev);

#endif
