/* SPDX-License-Identifier: ISC */
/*
 * cmd.c -- the command table and the request-line parser, shared by loadd
 * (dispatch) and loadctl (usage, help).  Pure: no logging, no I/O.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cmd.h"
#include "common/util.h"

const struct cmd_entry cmd_table[CMD_MAX] = {
	{ CMD_HELP, "help", ARGS_WORD_OPT, "[COMMAND]",
	    "list the commands, or describe one", "" },
	{ CMD_VERSION, "version", ARGS_NONE, "",
	    "daemon version and control protocol version", "" },
	{ CMD_STATUS, "status", ARGS_NONE, "",
	    "every load: state, target, connections, rates", "" },
	{ CMD_STATS, "stats", ARGS_LOAD_OPT, "[LOAD]",
	    "counters, errors by kind, rates; per load and total", "" },
	{ CMD_START, "start", ARGS_LOAD_OPT,
	    "[LOAD] [--at TIME] [--lease DURATION]",
	    "start a stopped load at its connection count, now or at TIME",
	    "--at --lease" },
	{ CMD_STOP, "stop", ARGS_LOAD_OPT, "[LOAD]",
	    "stop a load: close all its connections", "" },
	{ CMD_SCALE, "scale", ARGS_LOAD_COUNT,
	    "[LOAD] COUNT [--over DURATION] [--lease DURATION]",
	    "set a load's connection count, at once or ramped",
	    "--over --wait --lease" },
	{ CMD_RATE, "rate", ARGS_LOAD_RATE, "[LOAD] RATE|flood [--lease DURATION]",
	    "set messages per second per connection, or flood", "--lease" },
	{ CMD_RELOAD, "reload", ARGS_NONE, "",
	    "re-read the profile; apply it only if it is valid", "" },
	{ CMD_WATCH, "watch", ARGS_NONE, "",
	    "subscribe: one stats line per stats interval", "" },
	{ CMD_REOPEN, "reopen", ARGS_NONE, "",
	    "reopen the results and HdrHistogram logs (rotation)", "" },
	{ CMD_SUMMARY, "summary", ARGS_LOAD_OPT, "[LOAD]",
	    "last run's summary: counts, errors, latency, epochs", "" },
	{ CMD_WAIT, "wait", ARGS_LOAD_OPT, "[LOAD]",
	    "wait for a load's run to end; exit 4 if it missed", "" },
	{ CMD_RENEW, "renew", ARGS_LOAD_OPT, "[LOAD]",
	    "renew a load's lease for another of its length", "" },
	{ CMD_HISTOGRAM, "histogram", ARGS_LOAD_OPT, "[LOAD]",
	    "latency histograms, HdrHistogram-encoded, for merging", "" },
};

const struct cmd_entry *
cmd_find(const char *name)
{
	for (size_t i = 0; i < CMD_MAX; i++) {
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	}
	return NULL;
}

/*
 * 1 to 63 of [A-Za-z0-9_.-], starting with a letter.  ASCII ranges rather
 * than isalpha(), so that no locale can widen the rule.  profile.c uses it
 * too.
 */
bool
load_name_valid(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n >= LOAD_NAME_MAX)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char	 c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-')
			continue;
		return false;
	}
	return true;
}

#define MAX_TOKENS	6

/*
 * The length of the unsigned decimal number that s starts with: digits
 * with an optional fraction, then an optional exponent.  strtod() takes
 * more ("0x10", "inf", "nan", "  5"), none of which is a rate or a
 * duration that a person writes: the control socket refuses them.
 */
static size_t
request_decimal(const char *s)
{
	size_t	 i = 0, digits = 0, e;

	for (; s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	}
	if (digits == 0)
		return 0;
	if (s[i] == 'e' || s[i] == 'E') {
		e = i + 1;
		if (s[e] == '+' || s[e] == '-')
			e++;
		if (s[e] >= '0' && s[e] <= '9') {
			for (i = e; s[i] >= '0' && s[i] <= '9'; i++)
				;
		}
	}
	return i;
}

/*
 * A rate: decimal, finite, from RATE_MIN to RATE_LIMIT.  A value too small
 * for a double (1e-400) or a denormal (1e-320) is below the minimum, not
 * "too large" as strtod()'s ERANGE alone would say.  Returns NULL, or
 * why not.
 */
static const char *
request_rate(const char *s, double *out)
{
	double	 v;

	if (s[0] == '-')
		return "must be above 0";
	if (request_decimal(s) != strlen(s))
		return "not a decimal number";
	errno = 0;
	v = strtod(s, NULL);
	if (errno == ERANGE && v < 1)
		return "below the minimum";
	if (!isfinite(v) || v > RATE_LIMIT)
		return "too large";
	if (v == 0)
		return "must be above 0";
	if (v < RATE_MIN)
		return "below the minimum";
	*out = v;
	return NULL;
}

/* scale's --over: decimal with a unit, 0 or RAMP_MIN to RAMP_MAX seconds. */
static const char *
request_over(const char *s, double *out)
{
	static const char *const units[] = { "", "us", "ms", "s", "m", "h",
					     "d" };
	const char	*reason = NULL;
	double		 v;
	size_t		 n = request_decimal(s), u;

	for (u = 0; u < NELEM(units); u++) {
		if (strcmp(s + n, units[u]) == 0)
			break;
	}
	if (n == 0 || u == NELEM(units))
		return "not a duration (e.g. 250ms, 30s, 5m, 2h)";
	errno = 0;
	v = strtod(s, NULL);
	if (errno == ERANGE)
		return v < 1 ? "shorter than 1ms (0: at once)" :
		    "longer than a week";
	if (parse_duration(s, &v, &reason) == -1)
		return reason;
	if (!(v <= RAMP_MAX))
		return "longer than a week";
	if (v > 0 && v < RAMP_MIN)
		return "shorter than 1ms (0: at once)";
	*out = v;
	return NULL;
}

/*
 * start's --at: unix seconds (a fraction allowed), as the daemon's wall
 * clock counts them.  Whether the time is too far behind or ahead is the
 * daemon's to say, by its own clock; loadctl turns "+2s" into a TIME
 * before it parses.
 */
static const char *
request_at(const char *s, double *out)
{
	double	 v;

	if (s[0] == '+')
		return "a relative time is loadctl's (it sends +2s as unix "
		    "seconds): send unix seconds, e.g. 1796079818.5";
	if (request_decimal(s) != strlen(s))
		return "not a time in unix seconds (e.g. 1796079818.5)";
	errno = 0;
	v = strtod(s, NULL);
	if (errno == ERANGE || !isfinite(v) || v <= 0)
		return "not a time in unix seconds (e.g. 1796079818.5)";
	*out = v;
	return NULL;
}

static int
request_word(char *dst, const char *src, const char *what, char *why,
    size_t whylen)
{
	if (!load_name_valid(src)) {
		snprintf(why, whylen, "invalid %s name \"%.64s\"", what, src);
		return -1;
	}
	snprintf(dst, LOAD_NAME_MAX, "%s", src);
	return 0;
}

int
request_parse(const char *line, size_t len, struct request *req, char *why,
    size_t whylen)
{
	char		 buf[CONTROL_LINE_MAX + 1];
	char		*tok[MAX_TOKENS + 1], *p, *value = NULL;
	int		 ntok = 0, nval;
	const char	*reason = NULL;

	memset(req, 0, sizeof(*req));
	if (len > CONTROL_LINE_MAX) {
		snprintf(why, whylen, "request longer than %d bytes",
		    CONTROL_LINE_MAX);
		return -1;
	}
	if (len > 0 && line[len - 1] == '\r')	/* tolerate CRLF clients */
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c != ' ' && c != '\t' && (c < 0x21 || c > 0x7e)) {
			snprintf(why, whylen, "request contains a non-printable "
			    "byte (0x%02x) at offset %zu", c, i);
			return -1;
		}
	}
	memcpy(buf, line, len);
	buf[len] = '\0';

	for (p = strtok(buf, " \t"); p != NULL; p = strtok(NULL, " \t")) {
		if (ntok == MAX_TOKENS) {
			snprintf(why, whylen, "too many arguments");
			return -1;
		}
		tok[ntok++] = p;
	}
	if (ntok == 0) {
		snprintf(why, whylen, "empty request (try \"help\")");
		return -1;
	}
	if ((req->cmd = cmd_find(tok[0])) == NULL) {
		snprintf(why, whylen, "unknown command \"%.64s\" (try \"help\")",
		    tok[0]);
		return -1;
	}
	nval = ntok - 1;

	/*
	 * Options end the request, in any order: scale's "--over
	 * DURATION", start's "--at TIME", and "--lease DURATION" of start,
	 * scale and rate.
	 */
	while (nval >= 2) {
		const char *opt = tok[1 + nval - 2], *arg = tok[1 + nval - 1];

		if (req->cmd->args == ARGS_LOAD_COUNT && req->over == 0 &&
		    strcmp(opt, "--over") == 0) {
			if ((reason = request_over(arg, &req->over)) != NULL) {
				snprintf(why, whylen, "bad ramp duration "
				    "\"%.32s\": %s", arg, reason);
				return -1;
			}
		} else if (req->cmd->id == CMD_START && req->at == 0 &&
		    strcmp(opt, "--at") == 0) {
			if ((reason = request_at(arg, &req->at)) != NULL) {
				snprintf(why, whylen, "bad start time \"%.32s\": "
				    "%s", arg, reason);
				return -1;
			}
		} else if ((req->cmd->id == CMD_START ||
		    req->cmd->id == CMD_SCALE || req->cmd->id == CMD_RATE) &&
		    req->lease == 0 && strcmp(opt, "--lease") == 0) {
			if ((reason = request_over(arg, &req->lease)) == NULL &&
			    req->lease < LEASE_MIN)
				reason = "shorter than 1s";
			if (reason != NULL) {
				snprintf(why, whylen, "bad lease \"%.32s\": %s",
				    arg, reason);
				return -1;
			}
		} else
			break;
		nval -= 2;
	}

	switch (req->cmd->args) {
	case ARGS_NONE:
		if (nval != 0)
			goto usage;
		return 0;
	case ARGS_WORD_OPT:
		if (nval > 1)
			goto usage;
		if (nval == 1 && cmd_find(tok[1]) == NULL) {
			snprintf(why, whylen, "unknown command \"%.64s\"",
			    tok[1]);
			return -1;
		}
		if (nval == 1)
			snprintf(req->word, sizeof(req->word), "%s", tok[1]);
		return 0;
	case ARGS_LOAD_OPT:
		if (nval > 1)
			goto usage;
		if (nval == 1)
			return request_word(req->load, tok[1], "load", why,
			    whylen);
		return 0;
	case ARGS_LOAD_COUNT:
	case ARGS_LOAD_RATE:
		if (nval < 1 || nval > 2)
			goto usage;
		if (nval == 2 && request_word(req->load, tok[1], "load", why,
		    whylen) == -1)
			return -1;
		value = tok[nval];
		break;
	}

	if (req->cmd->args == ARGS_LOAD_COUNT) {
		if (parse_u64(value, CONNECTIONS_LIMIT, &req->count,
		    &reason) == -1) {
			snprintf(why, whylen, "bad connection count \"%.32s\": "
			    "%s (0 to %d)", value, reason, CONNECTIONS_LIMIT);
			return -1;
		}
		return 0;
	}
	if (strcmp(value, "flood") == 0) {
		req->rate = 0;
		return 0;
	}
	if ((reason = request_rate(value, &req->rate)) == NULL)
		return 0;
	snprintf(why, whylen, "bad rate \"%.32s\": %s (%g to %.0f messages "
	    "per second per connection, or \"flood\")", value, reason,
	    RATE_MIN, RATE_LIMIT);
	return -1;

usage:
	snprintf(why, whylen, "usage: %s%s%s", req->cmd->name,
	    req->cmd->usage[0] ? " " : "", req->cmd->usage);
	return -1;
}
