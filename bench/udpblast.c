/* SPDX-License-Identifier: ISC */
/*
 * udpblast.c -- the reference for paced UDP (bench/udp.sh): a bare loop
 * with no event library that opens N connected UDP sockets to
 * 127.0.0.1:PORT and, every 1 ms tick (clock_nanosleep to the absolute
 * tick), sends each socket's due SIZE-byte datagrams at RATE per socket
 * with one sendmmsg() per socket.  It reads nothing (the sink's discard
 * mode answers nothing).  With -u, each tick's datagrams (of every
 * socket) go instead as one io_uring submission of one send each, reaped
 * before the next tick: whether io_uring is cheaper than sendmmsg for
 * UDP (issue 9 asks to measure it).
 *
 *   loadd-udpblast -p PORT [-u] [-c SOCKETS] [-r RATE] [-s SIZE] [-d SECONDS]
 *
 * Prints one JSON line: datagrams the kernel took, CPU seconds
 * (getrusage: user + system) and CPU seconds per million datagrams.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SOCKS_MAX	1024
#define BATCH		64
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
	fprintf(stderr, "usage: loadd-udpblast -p PORT [-u] [-c SOCKETS] "
	    "[-r RATE] [-s SIZE] [-d SECONDS]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct timespec		 next;
	struct mmsghdr		 m[BATCH];
	struct iovec		 iov[BATCH];
	static int		 fds[SOCKS_MAX];
	static char		 msg[65507];
	long			 port = 0, socks = 10, size = 64, secs = 10;
	double			 rate = 20000, owed = 0, c0, cpu;
	long			 ticks, sent = 0, t;
	int			 ch, uring = 0;
	struct io_uring		 ring;

	while ((ch = getopt(argc, argv, "p:c:r:s:d:u")) != -1) {
		switch (ch) {
		case 'u': uring = 1; break;
		case 'p': port = atol(optarg); break;
		case 'c': socks = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': size = atol(optarg); break;
		case 'd': secs = atol(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || socks < 1 || socks > SOCKS_MAX ||
	    size < 1 || size > (long)sizeof(msg) || secs < 1 || secs > 600 ||
	    rate <= 0 || rate > 10000000)
		usage();
	memset(msg, 'x', sizeof(msg));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < socks; i++) {
		if ((fds[i] = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
		    connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) == -1) {
			perror("udpblast: connect");
			return 1;
		}
	}
	/* Every datagram is the same bytes: the iovecs are set once. */
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = msg;
		iov[i].iov_len = (size_t)size;
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	if (uring && io_uring_queue_init(4096, &ring, 0) < 0) {
		fprintf(stderr, "udpblast: io_uring unavailable\n");
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
		/* Datagrams per socket this tick, carrying fractions. */
		owed += rate * (double)TICK_NS / 1e9;
		n = (long)owed;
		owed -= (double)n;
		if (uring) {
			/* One SQE a datagram, one submission a tick (or 4096). */
			unsigned		 q = 0, head, got;
			struct io_uring_cqe	*cqe;

			for (long i = 0; i < socks; i++) {
				for (long k = 0; k < n; k++) {
					struct io_uring_sqe *sqe =
					    io_uring_get_sqe(&ring);

					if (sqe == NULL) {
						io_uring_submit_and_wait(&ring,
						    q);
						got = 0;
						io_uring_for_each_cqe(&ring,
						    head, cqe) {
							if (cqe->res > 0)
								sent++;
							got++;
						}
						io_uring_cq_advance(&ring, got);
						q -= got;
						sqe = io_uring_get_sqe(&ring);
					}
					io_uring_prep_send(sqe, fds[i], msg,
					    (size_t)size, MSG_DONTWAIT);
					q++;
				}
			}
			while (q > 0) {
				io_uring_submit_and_wait(&ring, q);
				got = 0;
				io_uring_for_each_cqe(&ring, head, cqe) {
					if (cqe->res > 0)
						sent++;
					got++;
				}
				io_uring_cq_advance(&ring, got);
				q -= got;
			}
			continue;
		}
		for (long i = 0; i < socks; i++) {
			for (long left = n; left > 0; ) {
				int k = left < BATCH ? (int)left : BATCH;
				int r = sendmmsg(fds[i], m, (unsigned)k,
				    MSG_DONTWAIT);

				if (r <= 0)
					break;
				sent += r;
				left -= r;
			}
		}
	}
	cpu = cpu_s() - c0;
	printf("{\"mode\":\"%s\",\"datagrams\":%ld,\"intended\":%.0f,"
	    "\"cpu_s\":%.3f,\"cpu_s_per_million\":%.3f}\n",
	    uring ? "io_uring" : "sendmmsg", sent,
	    rate * (double)socks * (double)secs, cpu,
	    sent > 0 ? cpu / ((double)sent / 1e6) : 0.0);
	for (long i = 0; i < socks; i++)
		close(fds[i]);
	return 0;
}
