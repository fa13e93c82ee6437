/* SPDX-License-Identifier: ISC */
/*
 * log.c -- logging to stderr, with syslog priority prefixes ("<4>") when
 * journald reads our stderr (JOURNAL_STREAM set).  Shared by loadd and
 * loadctl.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <stdatomic.h>

#include "common/log.h"

/*
 * Workers log too (rate-limited warnings), while the main thread may
 * change the level at reload: an atomic, read relaxed (a plain load).
 */
static _Atomic int	 log_level = LOG_LEVEL_INFO;
static const char	*log_prog = "loadd";
static int		 log_journal;
static int		 log_stamps;

/*
 * journald sets JOURNAL_STREAM to "DEV:INODE" of the stream it reads.  It
 * is inherited by children, so compare it with our stderr: a loadd started
 * by hand from a journald-run shell must not print "<4>" on a terminal.
 */
static int
log_stderr_is_journal(void)
{
	const char		*js = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int level, const char *progname)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
	log_prog = progname;
	log_journal = log_stderr_is_journal();
}

void
log_stamp(int on)
{
	log_stamps = on;
}

/* "2026-12-01T02:10:33.123+0000 " into buf, or "" if the clock fails. */
static int
log_time(char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 date[32], zone[8];

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    localtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(zone, sizeof(zone), "%z", &tm) == 0)
		return 0;
	return snprintf(buf, len, "%s.%03ld%s ", date, ts.tv_nsec / 1000000,
	    zone);
}

void
log_setlevel(int level)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

static void __attribute__((format(printf, 4, 0)))
vlog(int level, int syslog_pri, const char *errstr, const char *fmt,
    va_list ap)
{
	char	 msg[1024];
	int	 off = 0;

	if (level > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	if (log_journal)
		off = snprintf(msg, sizeof(msg), "<%d>", syslog_pri);
	else {
		if (log_stamps)
			off = log_time(msg, sizeof(msg));
		off += snprintf(msg + off, sizeof(msg) - (size_t)off, "%s: ",
		    log_prog);
	}
	vsnprintf(msg + off, sizeof(msg) - (size_t)off, fmt, ap);
	/* One fprintf per line, so that threads do not interleave. */
	if (errstr != NULL)
		fprintf(stderr, "%s: %s\n", msg, errstr);
	else
		fprintf(stderr, "%s\n", msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, 4, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, 4, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, 6, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, 7, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, 2, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, 2, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
