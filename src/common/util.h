/* SPDX-License-Identifier: ISC */
/*
 * common/util.h -- small helpers any part may use: error lists, clocks,
 * strict parsers, allocation that cannot fail.  Thread-safe, no logging;
 * the x*() allocators exit on out-of-memory only.
 */
#ifndef LOADD_COMMON_UTIL_H
#define LOADD_COMMON_UTIL_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifndef TAILQ_FOREACH_SAFE	/* glibc's sys/queue.h lacks it */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define TARGET_STR_MAX	300	/* a target as written, with its NUL */

/* A growable list of error strings ("FILE:LINE: message"). */
struct errlist {
	char	**msgs;
	size_t	  n;
	size_t	  cap;
};

void	 errlist_add(struct errlist *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 errlist_free(struct errlist *);

/*
 * The optimal string alignment distance between a and b (insertions,
 * deletions, substitutions, swaps of neighbours: "sokcet" is 1 from
 * "socket"), for "did you mean"; SIZE_MAX for names of 64 bytes or more.
 */
size_t	 edit_distance(const char *a, const char *b);
bool	 str_eq_null(const char *a, const char *b);	/* NULLs equal only */
/* CLOCK_MONOTONIC in ns; in line, as workers read it a few times a message. */
static inline uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
double	 now_mono(void);		/* CLOCK_MONOTONIC, seconds */
double	 now_wall(void);		/* CLOCK_REALTIME, seconds */
void	 now_wall_skew(double);		/* tests: now_wall() is off by this */
/* Seconds (>= 0) as a struct timeval, for libevent's timers. */
struct timeval tv_from_s(double);

/*
 * Strict parsers: the whole string must be used, the value must be in range.
 * They return 0 on success, -1 with a reason in *why (a static string).
 */
int	 parse_u64(const char *, uint64_t max, uint64_t *, const char **why);
int	 parse_double(const char *, double min, double max, double *,
	    const char **why);
/* "1.5", "250ms", "30s", "5m", "2h", "1d", "100us" -> seconds. */
int	 parse_duration(const char *, double *, const char **why);
/*
 * "127.0.0.1:80", "[::1]:80", "localhost:80"; resolves names with
 * getaddrinfo (numeric port only).  On failure a reason is written to why.
 */
int	 parse_target(const char *, struct sockaddr_storage *, socklen_t *,
	    char *why, size_t whylen);
void	*xcalloc(size_t, size_t);
void	*xmalloc(size_t);
char	*xstrdup(const char *);
/* A new string, as vasprintf() makes it. */
char	*xvasprintf(const char *, va_list)
	    __attribute__((format(printf, 1, 0)));
char	*xasprintf(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
