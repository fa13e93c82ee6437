/* SPDX-License-Identifier: ISC */
/*
 * common/log.h -- logging to stderr (with syslog priority prefixes when
 * journald reads it).  Any thread may log: the level is an atomic, set by
 * the main thread at start and reload.  Part of common/: used by loadd and
 * loadctl, includes nothing of the project.
 */
#ifndef LOADD_COMMON_LOG_H
#define LOADD_COMMON_LOG_H

enum log_level {
	LOG_LEVEL_ERR = 0,	/* fatal and log_warn(x) that matter */
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	 log_init(int level, const char *progname);
void	 log_setlevel(int level);
/*
 * Lines begin with the local time, ISO 8601 with milliseconds, unless
 * journald reads stderr (it keeps its own).  For the daemon.
 */
void	 log_stamp(int on);
/* log_warn adds strerror(errno); log_warnx does not. */
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* For the impossible only: never on bad input or a network failure. */
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
