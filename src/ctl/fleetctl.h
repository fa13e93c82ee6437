/* SPDX-License-Identifier: ISC */
/*
 * fleetctl.h -- `loadctl -F FLEET`: one command for every daemon of a
 * fleet file, each reached over `ssh HOST loadctl proxy` (or its local
 * socket); targets split in exact shares, answers merged.
 */
#ifndef LOADD_CTL_FLEETCTL_H
#define LOADD_CTL_FLEETCTL_H

#include <stdbool.h>

struct fleet_opts {
	const char	*path;		/* the fleet file */
	bool		 json;		/* -j */
	bool		 per_host;	/* --hosts: a row per host */
	const char	*on_loss;	/* --on-loss, or NULL: the file's */
	int		 reply_timeout_ms; /* -t, or 0: the file's */
};

/* argv[0] is the command; returns loadctl's exit status. */
int	 fleet_main(const struct fleet_opts *, int argc, char *argv[]);

#endif
