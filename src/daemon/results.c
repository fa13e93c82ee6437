/* SPDX-License-Identifier: ISC */
/*
 * results.c -- the results log (one JSON line per load per interval) and
 * the optional HdrHistogram interval log of request latency.
 *
 * Each line is built whole and written with one write() to a file opened
 * with O_APPEND.  If the write is short (a full disk), the file is cut
 * back to where the line began, so a JSON-lines reader never meets half a
 * line; a crash loses at most the interval in progress.  A file that
 * cannot be opened or written is reported once, traffic carries on, and
 * every interval tries again.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "daemon/results.h"
#include "daemon/views.h"
#include "measure/hdrlog.h"

struct results_file {
	const char	*what;		/* "results", "hdr_log" */
	char		*path;
	int		 fd;
	bool		 failing;	/* reported; quiet until it recovers */
};

static struct {
	struct results_file	 res;
	struct results_file	 hdr;
	double			 hdr_start_wall;	/* the log's StartTime */
	double			 hdr_start_mono;
} rs = {
	.res = { "results", NULL, -1, false },
	.hdr = { "hdr_log", NULL, -1, false },
};

static void
results_fail(struct results_file *f, const char *op)
{
	if (!f->failing)
		log_warn("%s %s: %s; will retry every interval", f->what,
		    f->path, op);
	f->failing = true;
	if (f->fd != -1) {
		close(f->fd);
		f->fd = -1;
	}
}

static bool
results_ensure_open(struct results_file *f)
{
	struct stat	 st;

	if (f->path == NULL)
		return false;
	if (f->fd != -1)
		return true;
	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (f->fd == -1) {
		results_fail(f, "open");
		return false;
	}
	if (f == &rs.hdr && fstat(f->fd, &st) == 0 && st.st_size == 0 &&
	    hdrlog_write_header(f->fd, rs.hdr_start_wall) == -1) {
		results_fail(f, "write");
		return false;
	}
	if (f->failing)
		log_info("%s %s: writing again", f->what, f->path);
	f->failing = false;
	return true;
}

/*
 * Append one whole line, or nothing: a short write is cut back off.
 */
static void
results_append(struct results_file *f, const char *line, size_t len)
{
	struct stat	 st;
	ssize_t		 n;

	if (fstat(f->fd, &st) == -1) {
		results_fail(f, "fstat");
		return;
	}
	n = write(f->fd, line, len);
	if (n == (ssize_t)len)
		return;
	if (n >= 0) {
		if (ftruncate(f->fd, st.st_size) == -1)
			log_warn("%s %s: ftruncate", f->what, f->path);
		errno = ENOSPC;
	}
	results_fail(f, "write");
}

static void
results_file_set(struct results_file *f, const char *path)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	f->failing = false;
	free(f->path);
	f->path = path != NULL ? xstrdup(path) : NULL;
}

void
results_open(const struct profile *p)
{
	bool	 same_res, same_hdr;

	same_res = (rs.res.path == NULL && p->daemon.results == NULL) ||
	    (rs.res.path != NULL && p->daemon.results != NULL &&
	    strcmp(rs.res.path, p->daemon.results) == 0);
	same_hdr = (rs.hdr.path == NULL && p->daemon.hdr_log == NULL) ||
	    (rs.hdr.path != NULL && p->daemon.hdr_log != NULL &&
	    strcmp(rs.hdr.path, p->daemon.hdr_log) == 0);
	if (!same_res) {
		results_file_set(&rs.res, p->daemon.results);
		(void)results_ensure_open(&rs.res);
	}
	if (!same_hdr) {
		rs.hdr_start_wall = now_wall();
		rs.hdr_start_mono = (double)now_ns() / 1e9;
		results_file_set(&rs.hdr, p->daemon.hdr_log);
		(void)results_ensure_open(&rs.hdr);
	}
}

/* loadctl reopen / SIGUSR2: for log rotation. */
int
results_reopen(char *why, size_t whylen)
{
	struct results_file	*files[2] = { &rs.res, &rs.hdr };
	int			 rc = 0;

	for (int i = 0; i < 2; i++) {
		struct results_file *f = files[i];

		if (f->path == NULL)
			continue;
		if (f->fd != -1)
			close(f->fd);
		f->fd = -1;
		if (f == &rs.hdr) {
			/* A new file starts its own timeline. */
			rs.hdr_start_wall = now_wall();
			rs.hdr_start_mono = (double)now_ns() / 1e9;
		}
		if (!results_ensure_open(f)) {
			snprintf(why, whylen, "%s %s: %s", f->what, f->path,
			    strerror(errno));
			rc = -1;
		}
	}
	log_info("results files reopened");
	return rc;
}

void
results_close(void)
{
	results_file_set(&rs.res, NULL);
	results_file_set(&rs.hdr, NULL);
}

/* One JSON object as one line of the results log, whole or not at all. */
static void
results_line(json_t *o)
{
	char	*s;
	size_t	 len;

	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (s == NULL)
		return;
	len = strlen(s);
	if ((s = realloc(s, len + 2)) == NULL)
		fatal("realloc");
	s[len] = '\n';
	s[len + 1] = '\0';
	results_append(&rs.res, s, len + 1);
	free(s);
}

void
results_summary(json_t *o)
{
	json_t	*t;

	if (rs.res.path == NULL || !results_ensure_open(&rs.res))
		return;
	/* "time" first, as in every other record. */
	t = json_pack("{s:f}", "time", now_wall());
	json_object_update(t, o);
	results_line(t);
	json_decref(t);
}

void
results_interval(double start_mono, double length)
{
	struct load	*l;
	json_t		*o;

	if (rs.res.path != NULL && results_ensure_open(&rs.res)) {
		TAILQ_FOREACH(l, &daemon_g->loads, entry) {
			o = views_load(l, true);
			json_object_set_new(o, "time", json_real(now_wall()));
			json_object_set_new(o, "interval_s", json_real(length));
			json_object_set_new(o, "load",
			    json_string(l->conf->name));
			results_line(o);
			json_decref(o);
			if (rs.res.fd == -1)
				break;
		}
	}
	if (rs.hdr.path != NULL && results_ensure_open(&rs.hdr)) {
		TAILQ_FOREACH(l, &daemon_g->loads, entry) {
			struct stat st;

			if (l->ival == NULL)
				continue;
			if (fstat(rs.hdr.fd, &st) == -1) {
				results_fail(&rs.hdr, "fstat");
				break;
			}
			/* The log may be younger than the interval. */
			if (hdrlog_write_interval(rs.hdr.fd, l->conf->name,
			    start_mono > rs.hdr_start_mono ?
			    start_mono - rs.hdr_start_mono : 0, length,
			    &l->ival[LAT_LATENCY]) == -1) {
				/* Never leave half a line behind. */
				int saved = errno;

				(void)ftruncate(rs.hdr.fd, st.st_size);
				errno = saved;
				results_fail(&rs.hdr, "write");
				break;
			}
		}
	}
}
