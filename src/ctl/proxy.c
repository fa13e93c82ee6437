/* SPDX-License-Identifier: ISC */
/*
 * proxy.c -- `loadctl proxy`: join standard input and output to the
 * daemon's control socket, so that `ssh HOST loadctl proxy` is a control
 * connection to a remote daemon, carried and authenticated by OpenSSH,
 * with the socket's own permissions still deciding who may connect.
 *
 * Bytes go both ways unchanged.  The end of standard input half-closes
 * the socket (the daemon then answers what it has read and closes); the
 * daemon's close ends the proxy.  Exit 0 when the daemon closed, 3 when it
 * could not be reached or the connection broke.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proxy.h"

#define PROXY_BUF	65536

/* Write all of buf; false on an error. */
static bool
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

int
proxy_main(const char *path)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd[2];
	static char		 buf[PROXY_BUF];
	bool			 in_open = true;
	ssize_t			 n;
	int			 fd;

	signal(SIGPIPE, SIG_IGN);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "loadctl: socket path too long: %s\n", path);
		return 2;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "loadctl: cannot reach loadd at %s: %s\n",
		    path, strerror(errno));
		return 3;
	}
	for (;;) {
		pfd[0].fd = in_open ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "loadctl: poll: %s\n", strerror(errno));
			return 3;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, buf, sizeof(buf));
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				fprintf(stderr, "loadctl: read from loadd: %s\n",
				    strerror(errno));
				return 3;
			}
			if (n == 0)
				return 0;	/* the daemon closed */
			if (!write_all(STDOUT_FILENO, buf, (size_t)n))
				return 3;	/* nobody reads us */
		}
		if (in_open && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* Our side is done: let the daemon answer. */
				in_open = false;
				shutdown(fd, SHUT_WR);
				continue;
			}
			if (!write_all(fd, buf, (size_t)n)) {
				fprintf(stderr, "loadctl: write to loadd: %s\n",
				    strerror(errno));
				return 3;
			}
		}
	}
}
