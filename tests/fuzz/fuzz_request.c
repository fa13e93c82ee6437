/* SPDX-License-Identifier: ISC */
/*
 * fuzz_request.c -- the control request parser (common/cmd.c): any bytes
 * as one request line, as daemon/control.c hands it over (without its
 * '\n').  A request is refused with a reason, or accepted with values
 * within what cmd.h promises (RATE_MIN to RATE_LIMIT or flood, RAMP_MIN
 * to RAMP_MAX or none, CONNECTIONS_LIMIT, a start time after 0 for start
 * only); never a crash, a read past
 * the line or an unterminated string.
 */
#include <math.h>
#include <string.h>

#include "common/cmd.h"

#include "fuzz.h"

static void
check_name(const char *s, bool command)
{
	FUZZ_CHECK(memchr(s, '\0', LOAD_NAME_MAX) != NULL, "unterminated");
	if (s[0] == '\0')
		return;
	if (command)
		FUZZ_CHECK(cmd_find(s) != NULL, "word \"%s\"", s);
	else
		FUZZ_CHECK(load_name_valid(s), "load \"%s\"", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	 req;
	char		 why[512];
	size_t		 wlen;

	memset(why, 0x5a, sizeof(why));
	if (request_parse((const char *)data, size, &req, why,
	    sizeof(why)) == -1) {
		wlen = strnlen(why, sizeof(why));
		FUZZ_CHECK(wlen > 0 && wlen < sizeof(why), "reason of %zu "
		    "bytes", wlen);
		return 0;
	}

	FUZZ_CHECK(size <= CONTROL_LINE_MAX, "%zu bytes accepted", size);
	FUZZ_CHECK(req.cmd != NULL, "no command");
	FUZZ_CHECK(req.cmd->id < CMD_MAX && req.cmd == &cmd_table[req.cmd->id],
	    "command outside the table");
	check_name(req.load, false);
	check_name(req.word, true);
	FUZZ_CHECK(req.count <= CONNECTIONS_LIMIT, "count %llu",
	    (unsigned long long)req.count);
	/* Flood (0), or a paced rate within bounds; no ramp, or one. */
	FUZZ_CHECK(req.rate == 0 || (req.rate >= RATE_MIN &&
	    req.rate <= RATE_LIMIT), "rate %g", req.rate);
	FUZZ_CHECK(req.over == 0 || (req.over >= RAMP_MIN &&
	    req.over <= RAMP_MAX), "over %g", req.over);
	/* No start time, or a finite one after 0, and only for start. */
	FUZZ_CHECK(req.at == 0 || (isfinite(req.at) && req.at > 0 &&
	    req.cmd->id == CMD_START), "at %g for %s", req.at, req.cmd->name);
	switch (req.cmd->args) {
	case ARGS_NONE:
		FUZZ_CHECK(req.load[0] == '\0' && req.word[0] == '\0',
		    "an argument to %s", req.cmd->name);
		break;
	case ARGS_LOAD_OPT:
	case ARGS_WORD_OPT:
		break;
	case ARGS_LOAD_COUNT:
		FUZZ_CHECK(req.rate == 0, "a rate for %s", req.cmd->name);
		break;
	case ARGS_LOAD_RATE:
		FUZZ_CHECK(req.count == 0 && req.over == 0,
		    "a count or ramp for %s", req.cmd->name);
		break;
	}
	return 0;
}
