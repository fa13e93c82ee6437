/* SPDX-License-Identifier: ISC */
/*
 * paceloop.c -- the reference for paced sending (bench/run w2): a bare
 * loop with no event library that opens N connections to 127.0.0.1:PORT
 * and, every 1 ms tick (clock_nanosleep to the absolute tick), sends one
 * SIZE-byte message on each of them at RATE per connection.  With -u the
 * tick's sends go to the kernel in one io_uring submission instead of
 * one send() each.  TCP_NODELAY is set, as loadd sets it by default.
 *
 *   loadd-paceloop -p PORT [-c CONNS] [-r RATE] [-s SIZE] [-d SECONDS] [-u]
 *
 * Prints one JSON line: messages sent, CPU seconds (getrusage: user +
 * system) and CPU seconds per million messages.
 */
#include <sys/resource.h>
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

#include <liburing.h>

#define CONNS_MAX	10000
#define TICK_NS		1000000L

static double
cpu_s(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadd-paceloop -p PORT [-c CONNS] [-r RATE] "
	    "[-s SIZE] [-d SECONDS] [-u]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct timespec		 next;
	struct io_uring		 ring;
	static int		 fds[CONNS_MAX];
	static char		 msg[65536];
	long			 port = 0, conns = 100, size = 64, secs = 10;
	double			 rate = 1000, owed = 0, c0, cpu;
	long			 ticks, sent = 0, t;
	int			 ch, uring = 0, one = 1;

	while ((ch = getopt(argc, argv, "p:c:r:s:d:u")) != -1) {
		switch (ch) {
		case 'p': port = atol(optarg); break;
		case 'c': conns = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': size = atol(optarg); break;
		case 'd': secs = atol(optarg); break;
		case 'u': uring = 1; break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || conns < 1 || conns > CONNS_MAX ||
	    size < 1 || size > (long)sizeof(msg) || secs < 1 || secs > 600 ||
	    rate <= 0 || rate > 1000000)
		usage();
	memset(msg, 'x', sizeof(msg));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < conns; i++) {
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) == -1) {
			perror("paceloop: connect");
			return 1;
		}
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (uring && io_uring_queue_init((unsigned)conns < 4096 ?
	    (unsigned)conns : 4096, &ring, 0) < 0) {
		fprintf(stderr, "paceloop: io_uring unavailable\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	c0 = cpu_s();
	ticks = secs * (1000000000L / TICK_NS);
	for (t = 0; t < ticks; t++) {
		long	 n;

		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) == EINTR)
			;
		/* Messages per connection this tick, carrying fractions. */
		owed += rate * (double)TICK_NS / 1e9;
		n = (long)owed;
		owed -= (double)n;
		for (long k = 0; k < n; k++) {
			if (!uring) {
				for (long i = 0; i < conns; i++) {
					if (send(fds[i], msg, (size_t)size,
					    MSG_DONTWAIT | MSG_NOSIGNAL) == size)
						sent++;
				}
				continue;
			}
			for (long i = 0; i < conns; i++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

				if (sqe == NULL) {
					io_uring_submit(&ring);
					sqe = io_uring_get_sqe(&ring);
				}
				io_uring_prep_send(sqe, fds[i], msg, (size_t)size,
				    MSG_DONTWAIT | MSG_NOSIGNAL);
			}
			io_uring_submit_and_wait(&ring, (unsigned)conns);
			for (long i = 0; i < conns; i++) {
				struct io_uring_cqe *cqe;

				if (io_uring_wait_cqe(&ring, &cqe) < 0)
					break;
				if (cqe->res == size)
					sent++;
				io_uring_cqe_seen(&ring, cqe);
			}
		}
	}
	cpu = cpu_s() - c0;
	printf("{\"mode\":\"%s\",\"messages\":%ld,\"cpu_s\":%.3f,"
	    "\"cpu_s_per_million\":%.3f}\n", uring ? "io_uring" : "send",
	    sent, cpu, sent > 0 ? cpu / ((double)sent / 1e6) : 0.0);
	for (long i = 0; i < conns; i++)
		close(fds[i]);
	return 0;
}
