/* SPDX-License-Identifier: ISC */
/*
 * ctlping.c -- control-plane latency for bench/run w6: send COUNT
 * requests, one at a time, on one connection to loadd's control socket,
 * and time each round trip (request written to reply line read).
 *
 *   loadd-ctlping -s SOCKET [-n COUNT] [-r REQUEST]
 *
 * Prints one JSON line: count, p50, p90, p99, max in microseconds.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "measure/hist.h"

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	struct hist		*h;
	const char		*path = NULL, *req = "status";
	static char		 buf[1 << 20];
	char			 line[256];
	long			 count = 1000;
	int			 ch, fd;

	while ((ch = getopt(argc, argv, "n:r:s:")) != -1) {
		switch (ch) {
		case 'n': count = atol(optarg); break;
		case 'r': req = optarg; break;
		case 's': path = optarg; break;
		default:
			fprintf(stderr, "usage: loadd-ctlping -s SOCKET "
			    "[-n COUNT] [-r REQUEST]\n");
			return 2;
		}
	}
	if (path == NULL || count <= 0)
		return 2;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    path) >= sizeof(sun.sun_path))
		return 2;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("loadd-ctlping: connect");
		return 1;
	}
	if ((h = malloc(sizeof(*h))) == NULL)
		return 1;
	hist_reset(h);
	snprintf(line, sizeof(line), "%s\n", req);
	for (long i = 0; i < count; i++) {
		uint64_t	 t0 = now_ns();
		size_t		 have = 0;

		if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
			perror("loadd-ctlping: write");
			return 1;
		}
		for (;;) {
			ssize_t r = read(fd, buf + have, sizeof(buf) - have);

			if (r <= 0) {
				perror("loadd-ctlping: read");
				return 1;
			}
			have += (size_t)r;
			if (buf[have - 1] == '\n')
				break;
			if (have == sizeof(buf))
				return 1;
		}
		hist_record(h, now_ns() - t0);
	}
	printf("{\"count\":%llu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
	    "\"max\":%.1f}\n", (unsigned long long)h->total,
	    (double)hist_percentile(h, 50) / 1e3,
	    (double)hist_percentile(h, 90) / 1e3,
	    (double)hist_percentile(h, 99) / 1e3, (double)h->max_ns / 1e3);
	free(h);
	close(fd);
	return 0;
}
