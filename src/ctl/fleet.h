/* SPDX-License-Identifier: ISC */
/*
 * ctl/fleet.h -- the pure part of `loadctl -F FLEET`: the fleet file
 * (libconfig -> struct fleet, FILE:LINE errors), exact integer shares of
 * a target over the hosts, the ssh command line that reaches a host's
 * daemon, and histogram merging.  No I/O but reading the fleet file, no
 * logging, no exits except on out-of-memory.  Uses common/ and measure/.
 */
#ifndef LOADD_CTL_FLEET_H
#define LOADD_CTL_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "measure/hist.h"

#define FLEET_ENCODING		"hdr-v2-base64"	/* `histogram` layout */
/*
 * ssh's ControlPath when the file names none: in the user's own ~/.ssh,
 * not /tmp, where another user could put a socket first.  Where ~/.ssh is
 * missing, fleet_control_dir() makes it.
 */
#define FLEET_CONTROL_PATH_DEFAULT "~/.ssh/loadd-fleet-%C"

enum fleet_on_loss { FLEET_DEGRADE, FLEET_REBALANCE, FLEET_ABORT };

struct fleet_host {
	char		*name;		/* unique */
	char		*dest;		/* ssh destination; NULL: local */
	int		 port;		/* 0 = ssh's default */
	char		*identity;	/* NULL = none */
	char		**options;	/* extra ssh arguments */
	size_t		 noptions;
	char		*socket;	/* the daemon's socket on that host */
	double		 weight;	/* > 0 */
	uint64_t	 cap;		/* 0 = none */
	int		 line;		/* where it was declared */
};

struct fleet {
	char		*path;
	char		*ssh;			/* "ssh" */
	char		*loadctl;		/* on the hosts: "loadctl" */
	char		**ssh_options;
	size_t		 nssh_options;
	double		 connect_timeout_s;	/* 5 */
	double		 reply_timeout_s;	/* 10 */
	double		 lease_s;		/* 60; 0 = none */
	enum fleet_on_loss on_loss;
	char		*control_path;		/* NULL = "none" */
	double		 control_persist_s;	/* 60 */
	struct fleet_host *hosts;
	size_t		 nhosts;
};

/*
 * Read a fleet file; on error: -1 and why = "FILE:LINE: message" (every
 * error, one per line, like profiles), and *f is left empty (fleet_free
 * may still be called).  An @include is refused: a fleet is one file.
 */
int	 fleet_load(const char *path, struct fleet *f, char *why,
	    size_t whylen);
void	 fleet_free(struct fleet *f);
/* The name of a policy ("degrade", ...), and back (-1: none of them). */
const char *fleet_on_loss_name(enum fleet_on_loss);
int	 fleet_on_loss_parse(const char *, enum fleet_on_loss *);

/*
 * Exact integer shares of total by weight, water-filled under caps
 * (caps[i] == 0: none).  0, or -1 with why ("95000 is 1000 more than the
 * hosts' caps allow (94000)") when total exceeds the caps.  With C_i the
 * cumulative normalized weights, share_i = round(T*C_i) - round(T*C_i-1):
 * the shares always add up to total (1000 over 3 equal: 333/334/333).
 * A host whose share is above its cap gets its cap, and what is left is
 * shared again over the others, until every share fits.
 */
int	 fleet_shares(uint64_t total, const double *weights,
	    const uint64_t *caps, size_t n, uint64_t *shares, char *why,
	    size_t whylen);

/*
 * The argv (NULL-terminated, malloc'd strings, free with fleet_argv_free)
 * that runs `LOADCTL -s SOCKET proxy` on host h over ssh (loadctl_path
 * NULL: "loadctl"): -T, BatchMode=yes, ConnectTimeout,
 * ControlMaster=auto/ControlPath/ControlPersist unless control_path is
 * none, port, identity, the host's options then the fleet's (ssh keeps
 * the first value it is given of an option: the host's own win), "--",
 * the destination, then the remote command with the path and the socket
 * shell-quoted.  NULL for a local host.
 */
char	**fleet_ssh_argv(const struct fleet *f, const struct fleet_host *h,
	    const char *loadctl_path);
void	 fleet_argv_free(char **argv);
/*
 * Before the first ssh: the directory of the ControlPath must exist, or
 * ssh with ControlPersist cannot bind its master's socket and exits 255
 * ("unix_listener: cannot bind to path").  A leading "~/" is home's (NULL:
 * the user's, from the password database, as ssh reads it).  The user's
 * ~/.ssh is made (0700) when missing, as ssh makes it itself (but not
 * with -F); any other missing directory is an error.  0 with
 * control_path none or a %-token in the directory (not checked); -1 and
 * why.
 */
int	 fleet_control_dir(const struct fleet *f, const char *home, char *why,
	    size_t whylen);
/* s quoted for a POSIX shell (as is when it is safe); a new string. */
char	*fleet_shell_quote(const char *s);

/*
 * Histogram merge: the layout object of a `histogram` reply must equal
 * this build's (HIST_* in measure/hist.h), else -1 and why.
 */
int	 fleet_layout_check(const char *encoding, uint64_t lowest_ns,
	    uint64_t highest_ns, int sigdigits, char *why, size_t whylen);
/*
 * Decode one base64 V2 histogram and add it to dst; -1 and why on a bad
 * one (dst is then unchanged).
 */
int	 fleet_hist_add(struct hist *dst, const char *b64, char *why,
	    size_t whylen);

#endif
