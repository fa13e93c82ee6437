/* SPDX-License-Identifier: ISC */
/*
 * pingpong.c -- the reference for measurement overhead: a plain blocking
 * client on one connection that, at a fixed pace, writes one request,
 * reads the whole reply and reads the clock.  No event loop, no
 * scheduling beyond clock_nanosleep to the next absolute tick.
 *
 *   loadd-pingpong -p PORT [-r RATE] [-n COUNT] [-s SIZE]
 *
 * Prints one JSON line: count, p50, p90, p99, p99.9, max in microseconds,
 * from loadd's own histogram so both sides round the same way.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "measure/hist.h"

static uint64_t
ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct timespec		 next, t0, t1;
	struct hist		*h;
	char			 buf[65536], req[65536];
	long			 port = 0, count = 2000, size = 64;
	double			 rate = 200;
	int			 ch, fd, one = 1;

	while ((ch = getopt(argc, argv, "n:p:r:s:")) != -1) {
		switch (ch) {
		case 'n': count = atol(optarg); break;
		case 'p': port = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': size = atol(optarg); break;
		default:
			fprintf(stderr, "usage: loadd-pingpong -p PORT [-r RATE] "
			    "[-n COUNT] [-s SIZE]\n");
			return 2;
		}
	}
	if (port <= 0 || port > 65535 || rate <= 0 || count <= 0 ||
	    size <= 0 || size > (long)sizeof(req)) {
		fprintf(stderr, "loadd-pingpong: bad arguments\n");
		return 2;
	}
	memset(req, 'x', sizeof(req));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);	/* 127.0.0.1 only */
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("loadd-pingpong: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return 1;
	hist_reset(h);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; i < count; i++) {
		uint64_t n = ts_ns(&next) + (uint64_t)(1e9 / rate);

		next.tv_sec = (time_t)(n / 1000000000ull);
		next.tv_nsec = (long)(n % 1000000000ull);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (write(fd, req, (size_t)size) != size) {
			perror("loadd-pingpong: write");
			return 1;
		}
		for (long got = 0; got < size;) {
			ssize_t r = read(fd, buf, (size_t)(size - got));

			if (r <= 0) {
				perror("loadd-pingpong: read");
				return 1;
			}
			got += r;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		hist_record(h, ts_ns(&t1) - ts_ns(&t0));
	}
	printf("{\"count\":%llu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
	    "\"p99.9\":%.1f,\"max\":%.1f}\n", (unsigned long long)h->total,
	    (double)hist_percentile(h, 50) / 1e3,
	    (double)hist_percentile(h, 90) / 1e3,
	    (double)hist_percentile(h, 99) / 1e3,
	    (double)hist_percentile(h, 99.9) / 1e3, (double)h->max_ns / 1e3);
	free(h);
	close(fd);
	return 0;
}
