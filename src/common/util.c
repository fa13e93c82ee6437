/* SPDX-License-Identifier: ISC */
/*
 * util.c -- small shared helpers: error lists, clocks, strict number,
 * duration and target parsing, escapes.  No logging, no exits except on
 * out-of-memory.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"

void *
xcalloc(size_t n, size_t size)
{
	void	*p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (p == NULL)
		fatal("calloc");
	return p;
}

void *
xmalloc(size_t size)
{
	void	*p = malloc(size == 0 ? 1 : size);

	if (p == NULL)
		fatal("malloc");
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
errlist_add(struct errlist *el, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	if (el->n == el->cap) {
		el->cap = el->cap ? el->cap * 2 : 8;
		el->msgs = realloc(el->msgs, el->cap * sizeof(*el->msgs));
		if (el->msgs == NULL)
			fatal("realloc");
	}
	el->msgs[el->n++] = s;
}

void
errlist_free(struct errlist *el)
{
	for (size_t i = 0; i < el->n; i++)
		free(el->msgs[i]);
	free(el->msgs);
	el->msgs = NULL;
	el->n = el->cap = 0;
}


/* Two strings, either of which may be NULL: equal, or both NULL. */
bool
str_eq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A test's skewed clock (now_wall_skew), set before any thread starts. */
static double	 wall_offset;

double
now_wall(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + wall_offset;
}

void
now_wall_skew(double s)
{
	wall_offset = s;
}

double
now_mono(void)
{
	return (double)now_ns() / 1e9;
}

/*
 * Saturated both ways.  A huge value (1e300, infinity) would overflow
 * time_t into a negative timeout, which libevent fires at once: a timer
 * re-armed from its own callback then spins.  It stops at TV_MAX_S (about
 * 31 years), which libevent can still add to the clock.  A positive value
 * never rounds down to the zero timeval, which a bufferevent reads as "no
 * timeout": it is a microsecond at least.  NaN is 0.
 */
#define TV_MAX_S	1e9

struct timeval
tv_from_s(double s)
{
	struct timeval	 tv;

	if (!(s > 0))
		return (struct timeval){ 0, 0 };
	if (s > TV_MAX_S)
		s = TV_MAX_S;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;
	return tv;
}

int
parse_u64(const char *s, uint64_t max, uint64_t *out, const char **why)
{
	uint64_t	 v = 0;

	if (*s == '\0') {
		*why = "empty number";
		return -1;
	}
	if (*s == '-') {
		*why = "must not be negative";
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p)) {
			*why = "not a whole number";
			return -1;
		}
		uint64_t d = (uint64_t)(*p - '0');

		if (v > UINT64_MAX / 10 ||
		    (v == UINT64_MAX / 10 && d > UINT64_MAX % 10)) {
			*why = "too large";
			return -1;
		}
		v = v * 10 + d;
	}
	if (v > max) {
		*why = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_double(const char *s, double min, double max, double *out,
    const char **why)
{
	char	*end;
	double	 v;

	if (*s == '\0' || isspace((unsigned char)*s)) {
		*why = "not a number";
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || end == s || !isfinite(v)) {
		*why = "not a number";
		return -1;
	}
	if (errno == ERANGE || v > max) {
		*why = "too large";
		return -1;
	}
	if (v < min) {
		*why = v < 0 ? "must not be negative" : "too small";
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_duration(const char *s, double *out, const char **why)
{
	static const struct {
		const char	*unit;
		double		 mult;
	} units[] = {
		{ "us", 1e-6 }, { "ms", 1e-3 }, { "s", 1 }, { "m", 60 },
		{ "h", 3600 }, { "d", 86400 }, { "", 1 },
	};
	char	*end;
	double	 v;

	if (*s == '\0' || isspace((unsigned char)*s) || *s == '-' ||
	    *s == '+') {
		*why = "not a duration (e.g. 250ms, 30s, 5m, 2h)";
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v) || v < 0) {
		*why = "not a duration (e.g. 250ms, 30s, 5m, 2h)";
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			*out = v * units[i].mult;
			return 0;
		}
	}
	*why = "unknown duration unit (use us, ms, s, m, h or d)";
	return -1;
}

int
parse_target(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
    char *why, size_t whylen)
{
	char		 host[TARGET_STR_MAX];
	const char	*port, *colon;
	struct addrinfo	 hints, *res;
	uint64_t	 portnum;
	const char	*reason;
	size_t		 hlen;
	int		 rc;

	if (strlen(s) >= sizeof(host)) {
		snprintf(why, whylen, "target too long");
		return -1;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(why, whylen, "malformed target \"%s\": "
			    "expected [ADDRESS]:PORT", s);
			return -1;
		}
		hlen = (size_t)(close - s - 1);
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon) {
			snprintf(why, whylen, "malformed target \"%s\": "
			    "expected HOST:PORT or [IPv6]:PORT", s);
			return -1;
		}
		hlen = (size_t)(colon - s);
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		port = colon + 1;
	}
	if (host[0] == '\0') {
		snprintf(why, whylen, "malformed target \"%s\": no host", s);
		return -1;
	}
	if (parse_u64(port, 65535, &portnum, &reason) == -1 || portnum == 0) {
		snprintf(why, whylen, "malformed target \"%s\": bad port "
		    "\"%s\"", s, port);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(why, whylen, "cannot resolve \"%s\": %s", host,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

size_t
edit_distance(const char *a, const char *b)
{
	unsigned char	 d[64][64];
	size_t		 la = strlen(a), lb = strlen(b), i, j, v;

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1u < v)
				v = d[i - 1][j] + 1u;
			if (d[i][j - 1] + 1u < v)
				v = d[i][j - 1] + 1u;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1u < v)
				v = d[i - 2][j - 2] + 1u;
			d[i][j] = (unsigned char)v;
		}
	}
	return d[la][lb];
}
