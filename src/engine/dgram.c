/* SPDX-License-Identifier: ISC */
/*
 * dgram.c -- the UDP transport (connected datagram sockets).
 * (Being written: until then a UDP load's connects fail as "other".)
 */
#include <event2/event.h>

#include "common/util.h"
#include "engine/worker.h"

static void
dgram_open(struct conn *c)
{
	conn_prepare(c);
	conn_fail(c, ERR_OTHER);
}

static void
dgram_close(struct conn *c)
{
}

static void
dgram_send_due(struct conn *c, uint64_t now)
{
}

static void
dgram_fill(struct conn *c)
{
}

static void
dgram_check_replies(struct conn *c, uint64_t now)
{
}

const struct transport transport_udp = {
	.name = "udp",
	.open = dgram_open,
	.close = dgram_close,
	.send_due = dgram_send_due,
	.fill = dgram_fill,
	.check_replies = dgram_check_replies,
};
