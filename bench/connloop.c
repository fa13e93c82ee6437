/* SPDX-License-Identifier: ISC */
/*
 * connloop -- the reference for bench/transports churn: a bare loop that
 * opens a TCP connection, sends one message, and closes it with a reset
 * (SO_LINGER 0, so no TIME_WAIT), over and over for a time, from source
 * addresses in turn.  Blocking calls, one thread, no event library: the
 * least a client can do per connection.  Prints one JSON line with the
 * connections made and its own CPU seconds.
 *
 *	loadd-connloop ADDR PORT SECONDS SIZE SOURCE...
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 dst, src[16];
	struct linger		 lg = { 1, 0 };
	struct rusage		 ru;
	char			 msg[65536];
	double			 end, t0;
	unsigned long		 n = 0, failed = 0;
	int			 nsrc, one = 1;
	size_t			 size;

	if (argc < 6)
		errx(2, "usage: loadd-connloop ADDR PORT SECONDS SIZE SOURCE...");
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
		errx(2, "bad address %s", argv[1]);
	size = (size_t)atol(argv[4]);
	if (size == 0 || size > sizeof(msg))
		errx(2, "bad size");
	memset(msg, 'x', size);
	nsrc = argc - 5;
	if (nsrc > 16)
		nsrc = 16;
	for (int i = 0; i < nsrc; i++) {
		memset(&src[i], 0, sizeof(src[i]));
		src[i].sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[5 + i], &src[i].sin_addr) != 1)
			errx(2, "bad source %s", argv[5 + i]);
	}
	t0 = now();
	end = t0 + atof(argv[3]);
	while (now() < end) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd == -1)
			err(1, "socket");
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (bind(fd, (struct sockaddr *)&src[n % (unsigned)nsrc],
		    sizeof(src[0])) == -1 ||
		    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 ||
		    send(fd, msg, size, MSG_NOSIGNAL) != (ssize_t)size)
			failed++;
		else
			n++;
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"connections\":%lu,\"failed\":%lu,\"seconds\":%.3f,"
	    "\"cpu_s\":%.3f}\n", n, failed, now() - t0,
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return 0;
}
