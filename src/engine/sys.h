/* SPDX-License-Identifier: ISC */
/*
 * engine/sys.h -- the per-message system calls of a worker, made without
 * glibc's wrappers.  glibc makes recv(), send() and epoll_wait() cancellation
 * points: each call enables and disables asynchronous cancellation around
 * the system call, about 70 user-space instructions, a third of what
 * loadd itself spends on a request.  No worker thread is ever cancelled
 * (they end by a command: WCMD_EXIT), so that bookkeeping buys nothing.
 * Same arguments, results and errno as the libc functions.
 *
 * On x86-64 and arm64 the call is made in line (the kernel's calling
 * convention, with the kernel's -errno turned into errno): glibc's
 * syscall() moves seven arguments through a function call and tests the
 * result, about 15 instructions a call, three calls a request.  Any other
 * machine goes through syscall().
 */
#ifndef LOADD_ENGINE_SYS_H
#define LOADD_ENGINE_SYS_H

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>

#include <errno.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
static inline long
sys_raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long	 r10 __asm__("r10") = a4;
	register long	 r8 __asm__("r8") = a5;
	register long	 r9 __asm__("r9") = a6;
	long		 ret;

	__asm__ volatile ("syscall"
	    : "=a" (ret)
	    : "a" (nr), "D" (a1), "S" (a2), "d" (a3), "r" (r10), "r" (r8),
	      "r" (r9)
	    : "rcx", "r11", "memory");
	return ret;
}

/* Four arguments or fewer: r8 and r9 are left alone. */
static inline long
sys_raw4(long nr, long a1, long a2, long a3, long a4)
{
	register long	 r10 __asm__("r10") = a4;
	long		 ret;

	__asm__ volatile ("syscall"
	    : "=a" (ret)
	    : "a" (nr), "D" (a1), "S" (a2), "d" (a3), "r" (r10)
	    : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long
sys_raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long	 x8 __asm__("x8") = nr;
	register long	 x0 __asm__("x0") = a1;
	register long	 x1 __asm__("x1") = a2;
	register long	 x2 __asm__("x2") = a3;
	register long	 x3 __asm__("x3") = a4;
	register long	 x4 __asm__("x4") = a5;
	register long	 x5 __asm__("x5") = a6;

	__asm__ volatile ("svc 0"
	    : "+r" (x0)
	    : "r" (x8), "r" (x1), "r" (x2), "r" (x3), "r" (x4), "r" (x5)
	    : "memory");
	return x0;
}

static inline long
sys_raw4(long nr, long a1, long a2, long a3, long a4)
{
	return sys_raw6(nr, a1, a2, a3, a4, 0, 0);
}
#endif

#if defined(__x86_64__) || defined(__aarch64__)
/* The kernel returns -errno (-4095 to -1) for a failure. */
static inline long
sys_call6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long	 ret = sys_raw6(nr, a1, a2, a3, a4, a5, a6);

	if ((unsigned long)ret > -4096ul) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static inline long
sys_call4(long nr, long a1, long a2, long a3, long a4)
{
	long	 ret = sys_raw4(nr, a1, a2, a3, a4);

	if ((unsigned long)ret > -4096ul) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#else
#define sys_call6(nr, a1, a2, a3, a4, a5, a6)				\
	syscall((nr), (a1), (a2), (a3), (a4), (a5), (a6))
#define sys_call4(nr, a1, a2, a3, a4)					\
	syscall((nr), (a1), (a2), (a3), (a4))
#endif

/* Without flags, read() is recv() and takes no address arguments. */
static inline ssize_t
sys_recv(int fd, void *buf, size_t len, int flags)
{
	if (flags == 0)
		return sys_call4(SYS_read, fd, (long)buf, (long)len, 0);
	return sys_call6(SYS_recvfrom, fd, (long)buf, (long)len, flags, 0, 0);
}

static inline ssize_t
sys_send(int fd, const void *buf, size_t len, int flags)
{
	return sys_call6(SYS_sendto, fd, (long)buf, (long)len, flags, 0, 0);
}

static inline int
sys_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
#ifdef SYS_epoll_wait
	return (int)sys_call4(SYS_epoll_wait, epfd, (long)ev, max, timeout);
#else
	/* arm64 has no epoll_wait: epoll_pwait without a mask is the same. */
	return (int)sys_call6(SYS_epoll_pwait, epfd, (long)ev, max, timeout,
	    0, 0);
#endif
}

/* The reply loop's timer, when epoll_pwait2() is missing. */
static inline int
sys_timerfd_settime(int fd, int flags, const struct itimerspec *its)
{
	return (int)sys_call4(SYS_timerfd_settime, fd, flags, (long)its, 0);
}

/* No signal mask: the kernel then ignores the size argument. */
static inline int
sys_epoll_pwait2(int epfd, struct epoll_event *ev, int max,
    const struct timespec *ts)
{
	return (int)sys_call6(SYS_epoll_pwait2, epfd, (long)ev, max, (long)ts,
	    0, 0);
}

#endif
