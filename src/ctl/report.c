/* SPDX-License-Identifier: ISC */
/*
 * report.c -- `loadctl report`: read results logs (docs/results.md) and
 * draw each load's run as one self-contained HTML page or SVG picture
 * (docs/report.md).  This room holds the command line and the output
 * file; report_read.c reads the logs into the model of report_int.h and
 * report_draw.c draws it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "report.h"
#include "report_int.h"

#define RPT_FILES_MAX	1000

#define EXIT_BADDATA	1
#define EXIT_USAGE	2

/* ------------------------------------------------------------------ main */

static void
report_usage(FILE *f)
{
	fprintf(f, "usage: loadctl report [-l LOAD] [-t TITLE] -o OUT.html|"
	    "OUT.svg RESULTS.jsonl...\n"
	    "  -o FILE   the report: an HTML page (.html) or an SVG picture "
	    "(.svg)\n"
	    "  -l LOAD   only this load (default: every load)\n"
	    "  -t TITLE  the title (default: the first file's name)\n"
	    "RESULTS may be several files (rotated logs) in time order; - "
	    "reads stdin.\n"
	    "exit status: 0 ok, 1 bad input or output, 2 usage error\n");
}

static bool
has_ext(const char *path, const char *ext)
{
	size_t	 n = strlen(path), e = strlen(ext);

	return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* Write to a temporary file next to OUT and rename it into place. */
static int
write_out(const char *out, bool html, const struct report *rp,
    const char *title, char *const *files, int nfiles)
{
	char	*tmp;
	int	 fd;
	FILE	*f;
	mode_t	 um;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", out) == -1)
		fatal("asprintf");
	if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "loadctl: report: %s: %s\n", out,
		    strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return -1;
	}
	um = umask(0);
	umask(um);
	(void)fchmod(fd, 0666 & ~um);
	if (html)
		report_draw_html(f, rp, title, files, nfiles);
	else
		report_draw_svg(f, rp, title, files, nfiles);
	if (ferror(f) | (fclose(f) == EOF) || rename(tmp, out) == -1) {
		fprintf(stderr, "loadctl: report: %s: %s\n", out,
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int
report_main(int argc, char *argv[])
{
	struct report	 rp;
	const char	*out = NULL, *title = NULL;
	char		*deftitle = NULL;
	uint64_t	 n;
	int		 ch, rc = 0;
	bool		 html = false;

	memset(&rp, 0, sizeof(rp));
	optind = 0;	/* start afresh, and permute: FILE -o OUT works */
	opterr = 0;
	while ((ch = getopt(argc, argv, "ho:l:t:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'l':
			rp.only = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		case ':':
		case '?':
		default:
			if (optopt == 'o' || optopt == 'l' || optopt == 't')
				fprintf(stderr, "loadctl: report: -%c needs an "
				    "argument\n", optopt);
			else
				fprintf(stderr, "loadctl: report: unknown "
				    "option -%c\n", optopt);
			report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (out == NULL || argc == 0) {
		fprintf(stderr, "loadctl: report: %s\n", out == NULL ?
		    "-o FILE is required" : "no results file given");
		report_usage(stderr);
		return EXIT_USAGE;
	}
	if (has_ext(out, ".html") || has_ext(out, ".htm"))
		html = true;
	else if (!has_ext(out, ".svg")) {
		fprintf(stderr, "loadctl: report: -o %s: the name must end in "
		    ".html or .svg\n", out);
		return EXIT_USAGE;
	}
	if (argc > RPT_FILES_MAX) {
		fprintf(stderr, "loadctl: report: more than %d files\n",
		    RPT_FILES_MAX);
		return EXIT_USAGE;
	}

	for (int i = 0; i < argc && rc == 0; i++) {
		if (report_read(&rp, argv[i], &n) == -1)
			rc = EXIT_BADDATA;
		else if (n == 0 && argc > 1) {
			report_read_note(&rp, "%s: warning: no results lines", argv[i]);
		}
		rp.lines += n;
	}
	if (rc == 0 && rp.lines == 0) {
		if (argc == 1)
			fprintf(stderr, "loadctl: report: %s: no results lines%s"
			    "\n", strcmp(argv[0], "-") ? argv[0] : "(stdin)",
			    rp.nnotes == 0 ? " (the file is empty)" : "");
		else
			fprintf(stderr, "loadctl: report: no results lines in "
			    "any of the %d files\n", argc);
		rc = EXIT_BADDATA;
	}
	if (rc == 0 && !rp.started) {
		fprintf(stderr, "loadctl: report: no lines for load \"%s\" "
		    "(the log has:", rp.only);
		for (size_t i = 0; i < rp.nloads; i++)
			fprintf(stderr, " %s", rp.loads[i].name);
		fprintf(stderr, ")\n");
		rc = EXIT_BADDATA;
	}
	if (rc == 0) {
		if (title == NULL) {
			const char *base = strrchr(argv[0], '/');

			if (asprintf(&deftitle, "Load report: %s", base ?
			    base + 1 : argv[0]) == -1)
				fatal("asprintf");
			title = deftitle;
		}
		if (write_out(out, html, &rp, title, argv, argc) == -1)
			rc = EXIT_BADDATA;
	}
	free(deftitle);
	report_read_free(&rp);
	return rc;
}
