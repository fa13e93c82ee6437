/* SPDX-License-Identifier: ISC */
/*
 * engine/sys.h -- the per-message system calls of a worker, made through
 * syscall().  glibc makes recv(), send() and epoll_wait() cancellation
 * points: each call enables and disables asynchronous cancellation around
 * the system call, about 70 user-space instructions, a third of what
 * loadd itself spends on a request.  No worker thread is ever cancelled
 * (they end by a command: WCMD_EXIT), so that bookkeeping buys nothing.
 * Same arguments, results and errno as the libc functions.
 */
#ifndef LOADD_ENGINE_SYS_H
#define LOADD_ENGINE_SYS_H

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <time.h>
#include <unistd.h>

static inline ssize_t
sys_recv(int fd, void *buf, size_t len, int flags)
{
	return syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

static inline ssize_t
sys_send(int fd, const void *buf, size_t len, int flags)
{
	return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

static inline int
sys_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	return (int)syscall(SYS_epoll_wait, epfd, ev, max, timeout);
}

/* No signal mask: the kernel then ignores the size argument. */
static inline int
sys_epoll_pwait2(int epfd, struct epoll_event *ev, int max,
    const struct timespec *ts)
{
	return (int)syscall(SYS_epoll_pwait2, epfd, ev, max, ts, NULL, 0);
}

#endif
