/* SPDX-License-Identifier: ISC */
/*
 * common/cmd.h -- the control protocol as both ends see it: its constants,
 * the command table and the request-line parser.  loadd dispatches on the
 * table (daemon/control.c gives each row its handler and checks at start
 * that none is missing); loadctl uses it for usage, help and to pick the
 * printer of a reply.  Pure: no logging, no I/O, any thread.
 */
#ifndef LOADD_COMMON_CMD_H
#define LOADD_COMMON_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOADD_VERSION		"0.1.0"
#define LOADD_PROTOCOL		2
#define LOADD_SOCKET_DEFAULT	"/run/loadd/loadd.sock"
#define LOADD_PROFILE_DEFAULT	"/etc/loadd/loadd.conf"

#define LOAD_NAME_MAX		64	/* including the NUL */
#define CONTROL_LINE_MAX	4096	/* a request line, without '\n' */
#define CONNECTIONS_LIMIT	10000000 /* no profile or request goes above */
#define RATE_LIMIT		1e9	/* messages per second per connection */
/*
 * The slowest paced rate, one message every 1000 s per connection: below
 * it a rate is a typo or an attack (1e9 / 1e-11 ns overflowed the
 * interval once, into a flood), never a schedule.  Requests and profiles
 * refuse a rate under it.
 */
#define RATE_MIN		0.001
/* scale --over: 0 (at once), or from RAMP_MIN to RAMP_MAX seconds. */
#define RAMP_MIN		0.001
#define RAMP_MAX		(7 * 86400.0)
/* --lease: from LEASE_MIN to RAMP_MAX seconds. */
#define LEASE_MIN		1.0
/*
 * start --at TIME: the daemon takes a TIME at most START_AT_PAST seconds
 * behind its wall clock (a controller's clock a little ahead of this
 * host's) and at most START_AT_AHEAD seconds ahead of it.
 */
#define START_AT_PAST		1.0
#define START_AT_AHEAD		86400.0

enum cmd_id {
	CMD_HELP = 0,
	CMD_VERSION,
	CMD_STATUS,
	CMD_STATS,
	CMD_START,
	CMD_STOP,
	CMD_SCALE,
	CMD_RATE,
	CMD_RELOAD,
	CMD_WATCH,
	CMD_REOPEN,
	CMD_SUMMARY,
	CMD_WAIT,
	CMD_RENEW,
	CMD_HISTOGRAM,
	CMD_MAX
};

enum cmd_args {
	ARGS_NONE,		/* no argument */
	ARGS_LOAD_OPT,		/* [LOAD] */
	ARGS_LOAD_COUNT,	/* [LOAD] COUNT */
	ARGS_LOAD_RATE,		/* [LOAD] RATE|flood */
	ARGS_WORD_OPT,		/* [COMMAND] (help) */
};

struct cmd_entry {
	enum cmd_id	 id;
	const char	*name;
	enum cmd_args	 args;
	const char	*usage;		/* arguments, for help */
	const char	*help;		/* one line */
	const char	*options;	/* its own --options, for completion */
};

/* Indexed by enum cmd_id. */
extern const struct cmd_entry cmd_table[CMD_MAX];

struct request {
	const struct cmd_entry	*cmd;
	char			 load[LOAD_NAME_MAX];	/* "" = not named */
	char			 word[LOAD_NAME_MAX];	/* help's argument */
	uint64_t		 count;			/* scale */
	double			 rate;			/* rate; 0 = flood */
	double			 over;			/* scale ramp, seconds */
	double			 lease;			/* --lease, seconds; 0
							   none */
	double			 at;			/* start --at: unix
							   seconds; 0 now */
};

const struct cmd_entry *cmd_find(const char *name);
/*
 * Parse one request line (without its '\n').  Returns 0, or -1 with a
 * reason written to why.
 */
int	 request_parse(const char *line, size_t len, struct request *,
	    char *why, size_t whylen);
/* 1 to 63 of [A-Za-z0-9_.-], starting with a letter. */
bool	 load_name_valid(const char *);

#endif
