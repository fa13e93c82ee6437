/* SPDX-License-Identifier: ISC */
/*
 * test_report.c -- `loadctl report`: good logs give a well-formed page or
 * picture that tells the story (loads, epochs, errors); every kind of bad
 * input gives FILE:LINE and exit 1; a long log stays small.
 *
 * argv[1] is tests/report.  Each tests/report/bad/NAME.jsonl has a
 * NAME.expect beside it: "exit N" and any number of "stderr TEXT" lines,
 * TEXT being a part of what must be printed.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cmd.h"
#include "ctl/report.h"


static const char	*datadir;
static char		 tmpdir[] = "/tmp/test_report.XXXXXX";
static int		 have_xmllint;

/* ------------------------------------------------------------ helpers */

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	long	 len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)
		fail_msg("%s: short read", path);
	buf[len] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)len;
	return buf;
}

/*
 * Run report_main with a NULL-terminated list of arguments (after
 * "report"); returns its exit code and what it printed on stderr.
 */
static int
run(char **err, ...)
{
	char		*argv[32], path[512];
	va_list		 ap;
	int		 argc = 0, rc, saved, fd;

	argv[argc++] = (char *)(uintptr_t)"report";
	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);

	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved != -1 && fd != -1);
	dup2(fd, STDERR_FILENO);
	close(fd);
	rc = report_main(argc, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	*err = slurp(path, NULL);
	return rc;
}

static char *
tpath(const char *name)
{
	static char	 buf[4][512];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static char *
dpath(const char *name)
{
	static char	 buf[4][512];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", datadir, name);
	return buf[i];
}

static size_t
count(const char *hay, const char *needle)
{
	size_t	 n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("output lacks \"%s\"", needle);
}

static void
xmllint(const char *path)
{
	char	 cmd[1024];

	if (!have_xmllint)
		return;
	snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", path);
	if (system(cmd) != 0)
		fail_msg("%s: xmllint finds it not well-formed", path);
}

/* Well-formed enough for a browser: one SVG per load, all closed. */
static void
check_page(const char *path, bool html, size_t nsvg)
{
	char	*s = slurp(path, NULL);

	assert_non_null(s);
	if (html) {
		assert_true(strncmp(s, "<!DOCTYPE html>\n", 16) == 0);
		assert_non_null(strstr(s, "</html>\n"));
		/* The summary, and a table of epochs per load. */
		assert_int_equal(count(s, "<table>"), 1);
		assert_int_equal(count(s, "<table class=\"epochs\">"), nsvg);
		assert_int_equal(count(s, "<table"), count(s, "</table>"));
	} else
		assert_true(strncmp(s, "<svg ", 5) == 0);
	assert_int_equal(count(s, "<svg "), nsvg);
	assert_int_equal(count(s, "</svg>"), nsvg);
	assert_int_equal(count(s, "<g>"), count(s, "</g>"));
	assert_int_equal(count(s, "<text"), count(s, "</text>"));
	/* Self-contained: nothing to fetch. */
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "href=\"http"));
	assert_null(strstr(s, "src="));
	assert_null(strstr(s, "@import"));
	assert_null(strstr(s, "nan"));
	assert_null(strstr(s, "inf\""));
	free(s);
	xmllint(path);
}

/* ------------------------------------------------------------- good */

static void
test_html(void **state)
{
	char	*err, *s;

	(void)state;
	assert_int_equal(run(&err, dpath("two-loads.jsonl"), "-o",
	    tpath("two.html"), NULL), 0);
	assert_string_equal(err, "");
	free(err);
	check_page(tpath("two.html"), true, 2);
	s = slurp(tpath("two.html"), NULL);
	/* The loads, the epochs, the errors, the summary. */
	assert_contains(s, ">web</a>");
	assert_contains(s, ">push</a>");
	assert_contains(s, "<h2 id=\"load0\">web</h2>");
	assert_contains(s, "scale web 40");
	assert_contains(s, "rate push 20");
	assert_contains(s, "reset 11, reply_timeout 2");
	assert_contains(s, "refused 1");
	assert_contains(s, "<td>48,500</td>");		/* web's messages */
	assert_contains(s, "Latency of each interval");
	assert_contains(s, "failed connects");
	assert_contains(s, "<title>Load report: two-loads.jsonl</title>");
	/* push expects no reply: no latency panel for it. */
	assert_int_equal(count(s, "Latency of each interval"), 1);
	assert_int_equal(count(s, ">Throughput<"), 2);
	free(s);
}

/* A run's summary record among the intervals is not one of them. */
static void
test_summary_record(void **state)
{
	char	*err, *a, *b;

	(void)state;
	assert_int_equal(run(&err, dpath("with-summary.jsonl"), "-o",
	    tpath("sum.html"), NULL), 0);
	assert_string_equal(err, "");
	free(err);
	assert_int_equal(run(&err, dpath("two-loads.jsonl"), "-o",
	    tpath("nosum.html"), NULL), 0);
	free(err);
	/* The same page but for its title. */
	a = slurp(tpath("sum.html"), NULL);
	b = slurp(tpath("nosum.html"), NULL);
	assert_int_equal(count(a, "<td>48,500</td>"), count(b,
	    "<td>48,500</td>"));
	assert_int_equal(count(a, ">Throughput<"), 2);
	free(a);
	free(b);
}

static void
test_svg(void **state)
{
	char	*err, *s;

	(void)state;
	/* Options after the file, and the epoch as an object. */
	assert_int_equal(run(&err, dpath("epoch-object.jsonl"), "-o",
	    tpath("obj.svg"), "-t", "Soak <1> & \"2\"", NULL), 0);
	assert_string_equal(err, "");
	free(err);
	check_page(tpath("obj.svg"), false, 1);
	s = slurp(tpath("obj.svg"), NULL);
	assert_contains(s, "xmlns=\"http://www.w3.org/2000/svg\"");
	assert_contains(s, "Soak &lt;1&gt; &amp; &quot;2&quot;");
	assert_contains(s, "scale web 40");
	assert_contains(s, "rate push 20");
	assert_contains(s, ">web</text>");
	assert_contains(s, ">push</text>");
	assert_int_equal(count(s, "Latency of each interval"), 1);
	free(s);
}

static void
test_one_load(void **state)
{
	char	*err, *s;

	(void)state;
	assert_int_equal(run(&err, "-l", "push", "-o", tpath("push.html"),
	    dpath("two-loads.jsonl"), NULL), 0);
	free(err);
	check_page(tpath("push.html"), true, 1);
	s = slurp(tpath("push.html"), NULL);
	assert_contains(s, ">push</h2>");
	assert_null(strstr(s, ">web<"));
	assert_null(strstr(s, "scale web 40"));
	free(s);

	assert_int_equal(run(&err, "-l", "db", "-o", tpath("db.html"),
	    dpath("two-loads.jsonl"), NULL), 1);
	assert_contains(err, "no lines for load \"db\" (the log has: web "
	    "push)");
	free(err);
	assert_int_equal(access(tpath("db.html"), F_OK), -1);
}

/* Rotated logs, given in order; out of order they go back in time. */
static void
test_several_files(void **state)
{
	char	*all = slurp(dpath("two-loads.jsonl"), NULL), *err, *mid, *s;
	FILE	*f;

	(void)state;
	assert_non_null(all);
	mid = all;
	for (int i = 0; i < 25; i++)
		mid = strchr(mid, '\n') + 1;
	f = fopen(tpath("a.jsonl"), "w");
	fwrite(all, 1, (size_t)(mid - all), f);
	fclose(f);
	f = fopen(tpath("b.jsonl"), "w");
	fputs(mid, f);
	fclose(f);
	f = fopen(tpath("c.jsonl"), "w");	/* just rotated: empty */
	fclose(f);
	assert_int_equal(run(&err, "-o", tpath("ab.html"), tpath("a.jsonl"),
	    tpath("b.jsonl"), tpath("c.jsonl"), NULL), 0);
	assert_contains(err, "c.jsonl: warning: no results lines");
	free(err);
	s = slurp(tpath("ab.html"), NULL);
	assert_contains(s, "reset 11, reply_timeout 2");
	assert_contains(s, "<td>48,500</td>");
	assert_contains(s, "60 lines");
	free(s);

	assert_int_equal(run(&err, "-o", tpath("ba.html"), tpath("b.jsonl"),
	    tpath("a.jsonl"), NULL), 1);
	assert_contains(err, "a.jsonl:1: time goes backwards for load "
	    "\"web\"");
	free(err);
	free(all);
}

/* Counters that go down: loadd restarted; totals count on from zero. */
static void
test_restart(void **state)
{
	char	*lines = slurp(dpath("two-loads.jsonl"), NULL), *err, *s;
	char	*p, *q;
	FILE	*f;
	int	 n = 0;

	(void)state;
	/* web's first 10 lines, then its first 10 again, 100 s later. */
	f = fopen(tpath("restart.jsonl"), "w");
	for (int pass = 0; pass < 2; pass++) {
		for (p = lines, n = 0; n < 20 && *p != '\0'; n++, p = q + 1) {
			double	 t;

			q = strchr(p, '\n');
			if (strncmp(p, "{\"time\":", 8) != 0 ||
			    strstr(p, "\"load\":\"web\"") == NULL ||
			    strstr(p, "\"load\":\"web\"") > q)
				continue;
			t = strtod(p + 8, NULL) + pass * 100;
			fprintf(f, "{\"time\":%.3f%.*s\n", t,
			    (int)(q - strchr(p, ',')), strchr(p, ','));
		}
	}
	fclose(f);
	free(lines);
	assert_int_equal(run(&err, "-o", tpath("restart.html"),
	    tpath("restart.jsonl"), NULL), 0);
	free(err);
	s = slurp(tpath("restart.html"), NULL);
	assert_contains(s, "restarted");
	assert_null(strstr(s, "restarted ("));	/* the same epoch number */
	/* web: 500 then 9 x 1,000 messages, twice. */
	assert_contains(s, "<td>19,000</td>");
	/* The restart begins a row of web's epochs. */
	assert_contains(s, "<td class=\"l\">restarted</td>");
	free(s);
}

/* ------------------------------------------------------------- service */

/*
 * Service time (service_us) is drawn below latency, on the same scale:
 * in tests/report/epochs.jsonl for web only (push expects no reply), and
 * not at all for logs without it.
 */
static void
test_service(void **state)
{
	char	*err, *s;

	(void)state;
	assert_int_equal(run(&err, "-o", tpath("svc.html"),
	    dpath("epochs.jsonl"), NULL), 0);
	assert_string_equal(err, "");
	free(err);
	check_page(tpath("svc.html"), true, 2);
	s = slurp(tpath("svc.html"), NULL);
	assert_int_equal(count(s, "Service time of each interval"), 1);
	assert_int_equal(count(s, "Latency of each interval"), 1);
	/* One scale for both: 10 µs to 10 ms, from latency's 1.1 ms max. */
	assert_int_equal(count(s, ">10 µs</text>"), 2);
	assert_int_equal(count(s, ">10 ms</text>"), 2);
	free(s);

	assert_int_equal(run(&err, "-o", tpath("svc.svg"),
	    dpath("epochs.jsonl"), NULL), 0);
	free(err);
	check_page(tpath("svc.svg"), false, 1);
	s = slurp(tpath("svc.svg"), NULL);
	assert_int_equal(count(s, "Service time of each interval"), 1);
	free(s);

	assert_int_equal(run(&err, "-o", tpath("svc-none.html"),
	    dpath("two-loads.jsonl"), NULL), 0);
	free(err);
	s = slurp(tpath("svc-none.html"), NULL);
	assert_null(strstr(s, "Service time"));
	free(s);
}

/* ------------------------------------------------------------- epochs */

/* The epoch tables of a page, one after the other. */
static char *
epoch_tables(const char *page)
{
	size_t	 len = 0;
	char	*out = calloc(1, strlen(page) + 1);

	assert_non_null(out);
	for (const char *p = page; (p = strstr(p, "<h3>Epochs</h3>")) != NULL;
	    p++) {
		const char *e = strstr(p, "<h2");

		if (e == NULL)
			e = strstr(p, "</body>");
		assert_non_null(e);
		memcpy(out + len, p, (size_t)(e - p));
		len += (size_t)(e - p);
	}
	return out;
}

/*
 * tests/report/epochs.jsonl is a log as loadd writes it: the line a
 * command ends (its interval cut short) already names the new epoch, with
 * an empty epoch histogram, while its interval is the old epoch's.  Its
 * tables must be exactly tests/report/epochs.expect.html: epoch 1 from
 * its 0.02 s first line, epochs with the last interval missing from their
 * histograms (marked *), epoch 4 whose only interval gives its figures
 * exactly, and push, which keeps no histograms.
 */
static void
test_epoch_table(void **state)
{
	char	*err, *s, *got, *want;

	(void)state;
	assert_int_equal(run(&err, "-o", tpath("epochs.html"),
	    dpath("epochs.jsonl"), NULL), 0);
	assert_string_equal(err, "");
	free(err);
	check_page(tpath("epochs.html"), true, 2);
	s = slurp(tpath("epochs.html"), NULL);
	got = epoch_tables(s);
	want = slurp(dpath("epochs.expect.html"), NULL);
	assert_non_null(want);
	if (strcmp(got, want) != 0) {
		FILE	*f = fopen(tpath("epochs.got.html"), "w");

		fputs(got, f);
		fclose(f);
		fail_msg("the epoch tables differ from epochs.expect.html:\n"
		    "%s", got);
	}
	free(want);
	free(got);
	free(s);

	/* The picture has the table too. */
	assert_int_equal(run(&err, "-o", tpath("epochs.svg"),
	    dpath("epochs.jsonl"), NULL), 0);
	free(err);
	check_page(tpath("epochs.svg"), false, 1);
	s = slurp(tpath("epochs.svg"), NULL);
	assert_int_equal(count(s, ">Epochs</text>"), 2);
	assert_contains(s, ">rate web 60</tspan>");
	assert_contains(s, ">reset 6, failed connects 1</tspan>");
	assert_contains(s, ">47 µs</tspan>");
	assert_contains(s, ">1 ms*</tspan>");
	free(s);

	/* Logs without service_us: no columns for it. */
	assert_int_equal(run(&err, "-o", tpath("two-svc.html"),
	    dpath("two-loads.jsonl"), NULL), 0);
	free(err);
	s = slurp(tpath("two-svc.html"), NULL);
	assert_null(strstr(s, "service time"));
	assert_contains(s, "<td class=\"l\">scale web 40</td><td>9.6s</td>"
	    "<td>19.4s</td><td>1,974/s</td>");
	free(s);
}

/* A load with more epochs than a table lists. */
static void
test_epoch_many(void **state)
{
	FILE	*f = fopen(tpath("many.jsonl"), "w");
	char	*err, *s;

	(void)state;
	assert_non_null(f);
	for (int i = 1; i <= 600; i++)
		fprintf(f, "{\"time\":%d,\"load\":\"web\",\"interval_s\":1,"
		    "\"epoch\":%d,\"epoch_cause\":\"rate web %d\","
		    "\"connections_target\":1,\"connections_active\":1,"
		    "\"connects_failed\":0,\"errors\":{},"
		    "\"messages_sent\":%d,\"replies\":0,"
		    "\"messages_sent_per_s\":%d,\"replies_per_s\":0,"
		    "\"bytes_sent_per_s\":0,\"bytes_received_per_s\":0}\n",
		    1795835000 + i, i, i, i * (i + 1) / 2, i);
	fclose(f);
	assert_int_equal(run(&err, "-o", tpath("many.html"),
	    tpath("many.jsonl"), NULL), 0);
	free(err);
	check_page(tpath("many.html"), true, 1);
	s = slurp(tpath("many.html"), NULL);
	assert_contains(s, "<td class=\"l\">rate web 500</td>");
	assert_null(strstr(s, "<td class=\"l\">rate web 501</td>"));
	assert_contains(s, "100 later epochs are not listed (at most 500 per "
	    "load).");
	/* The summary counts them all. */
	assert_contains(s, "<td>600</td></tr>");
	free(s);
}

/* ------------------------------------------------------------- spacing */

/*
 * A load's first interval is usually cut short by the command that
 * started it (0.0179 s here), and so is the last when loadd stops: the
 * lines are still 1 s apart, with or without merged buckets.
 */
static void
test_short_first(void **state)
{
	static const int nlines[2] = { 30, 3000 };
	char	*err, *s;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		FILE	*f = fopen(tpath("short.jsonl"), "w");
		double	 t = 1795835000.0179, msgs = 0;

		assert_non_null(f);
		for (int i = 0; i <= nlines[pass]; i++) {
			double	 iv = i == 0 ? 0.0179 : i == nlines[pass] ?
			    0.3 : 1.0;

			if (i > 0)
				t += iv;
			msgs += 100 * iv;
			fprintf(f, "{\"time\":%.4f,\"load\":\"web\","
			    "\"interval_s\":%g,\"epoch\":{\"number\":1,"
			    "\"cause\":\"start\",\"start\":1795835000.0179},"
			    "\"connections_target\":1,"
			    "\"connections_active\":1,\"connects_failed\":0,"
			    "\"errors\":{\"reset\":%d},"
			    "\"messages_sent\":%.0f,\"replies\":0,"
			    "\"messages_sent_per_s\":100,\"replies_per_s\":0,"
			    "\"bytes_sent_per_s\":0,"
			    "\"bytes_received_per_s\":0}\n", t, iv, i / 10,
			    floor(msgs));
		}
		fclose(f);
		assert_int_equal(run(&err, "-o", tpath("short.html"),
		    tpath("short.jsonl"), NULL), 0);
		assert_string_equal(err, "");
		free(err);
		s = slurp(tpath("short.html"), NULL);
		assert_null(strstr(s, "0.0179"));
		assert_contains(s, "errors per interval (1s)");
		if (pass == 0)
			assert_contains(s, "one point per line (every 1s)");
		else
			assert_contains(s, "each stretch of 4.58s is drawn as "
			    "its lowest and highest value (lines every 1s)");
		free(s);
		check_page(tpath("short.html"), true, 1);
	}
}

/* ------------------------------------------------------------- bad */

static void
check_bad(const char *jsonl)
{
	char	 exp_path[600], line[512], out[600], *err;
	FILE	*f;
	int	 want = -1, rc;
	size_t	 n = strlen(jsonl);

	snprintf(exp_path, sizeof(exp_path), "%.*s.expect", (int)(n - 6),
	    jsonl);
	snprintf(out, sizeof(out), "%s/bad.html", tmpdir);
	unlink(out);
	rc = run(&err, "-o", out, jsonl, NULL);
	if ((f = fopen(exp_path, "r")) == NULL)
		fail_msg("%s: no .expect file", jsonl);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "exit ", 5) == 0)
			want = atoi(line + 5);
		else if (strncmp(line, "stderr ", 7) == 0) {
			if (strstr(err, line + 7) == NULL)
				fail_msg("%s: stderr \"%s\" lacks \"%s\"",
				    jsonl, err, line + 7);
		} else
			fail_msg("%s: bad line: %s", exp_path, line);
	}
	fclose(f);
	if (want == -1)
		fail_msg("%s: no exit line", exp_path);
	if (rc != want)
		fail_msg("%s: exit %d, expected %d (stderr: %s)", jsonl, rc,
		    want, err);
	if (want == 0) {
		char	*s = slurp(out, NULL);

		/* The warning is on the page too. */
		assert_non_null(s);
		assert_contains(s, "Warning: ");
		free(s);
		check_page(out, true, 2);	/* web and push */
	} else {
		/* A failed report leaves nothing behind. */
		assert_int_equal(access(out, F_OK), -1);
		if (strncmp(err, "loadctl: report: ", 17) != 0)
			fail_msg("%s: stderr without prefix: %s", jsonl, err);
	}
	free(err);
}

static void
test_bad_files(void **state)
{
	char		 dir[512], path[1024];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/bad", datadir);
	if ((d = opendir(dir)) == NULL)
		fail_msg("%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t	 len = strlen(de->d_name);

		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		check_bad(path);
		n++;
	}
	closedir(d);
	assert_true(n >= 15);
}

static void
test_missing_file(void **state)
{
	char	*err;

	(void)state;
	assert_int_equal(run(&err, "-o", tpath("x.html"),
	    dpath("no-such-file.jsonl"), NULL), 1);
	assert_contains(err, "loadctl: report: ");
	assert_contains(err, "no-such-file.jsonl: No such file or directory");
	free(err);
	assert_int_equal(access(tpath("x.html"), F_OK), -1);
}

static void
test_unwritable(void **state)
{
	char	*err;

	(void)state;
	assert_int_equal(run(&err, "-o", tpath("no/such/dir/x.html"),
	    dpath("two-loads.jsonl"), NULL), 1);
	assert_contains(err, "no/such/dir/x.html: No such file or directory");
	free(err);
}

static void
test_usage(void **state)
{
	char	*err;

	(void)state;
	assert_int_equal(run(&err, dpath("two-loads.jsonl"), NULL), 2);
	assert_contains(err, "-o FILE is required");
	assert_contains(err, "usage: loadctl report");
	free(err);
	assert_int_equal(run(&err, "-o", tpath("r.pdf"),
	    dpath("two-loads.jsonl"), NULL), 2);
	assert_contains(err, "must end in .html or .svg");
	free(err);
	assert_int_equal(run(&err, "-o", tpath("r.html"), NULL), 2);
	assert_contains(err, "no results file given");
	free(err);
	assert_int_equal(run(&err, "-x", "-o", tpath("r.html"),
	    dpath("two-loads.jsonl"), NULL), 2);
	assert_contains(err, "unknown option -x");
	free(err);
	assert_int_equal(run(&err, dpath("two-loads.jsonl"), "-o", NULL), 2);
	assert_contains(err, "-o needs an argument");
	free(err);
	assert_int_equal(access(tpath("r.html"), F_OK), -1);
}

/* ------------------------------------------------------------- long */

/* The largest number of points in one path of the picture. */
static size_t
max_path_points(const char *s)
{
	size_t	 most = 0;

	for (const char *p = s; (p = strstr(p, " d=\"")) != NULL; p++) {
		size_t	 nums = 0;
		const char *q = p + 4;

		for (; *q != '"'; q++)
			if ((*q == ' ' || *q == 'M') && q[1] != 'h')
				nums++;
		if (nums / 2 > most)
			most = nums / 2;
	}
	return most;
}

/*
 * 200,000 lines: two loads at 1 s for 100,000 s (27 h), a scale every
 * 25,000 s, a one-second burst of errors and latency, and a stop.  The
 * report must keep the spike, stay small and come quickly (timed, not
 * asserted).
 */
static void
test_long(void **state)
{
	static const char *const names[2] = { "web", "push" };
	FILE		*f = fopen(tpath("long.jsonl"), "w");
	double		 msgs[2] = { 0, 0 }, reset = 0;
	long long	 epoch[2] = { 1, 1 };
	char		 cause[2][64] = { "start", "start" }, *err, *s;
	struct timespec	 a, b;
	size_t		 len;

	(void)state;
	assert_non_null(f);
	for (int i = 1; i <= 100000; i++) {
		for (int j = 0; j < 2; j++) {
			int	 conns = 100 + 100 * (i / 25000);
			double	 rate = conns * 10.0 + (i % 7), p99 = 150;

			if (i % 25000 == 0) {
				epoch[j]++;
				snprintf(cause[j], sizeof(cause[j]),
				    "scale %s %d", names[j], conns);
			}
			if (j == 0 && i == 61234) {
				reset += 977;
				p99 = 90000;
			}
			msgs[j] += rate;
			fprintf(f, "{\"time\":%.3f,\"load\":\"%s\","
			    "\"interval_s\":1.0,\"epoch\":%lld,"
			    "\"epoch_cause\":\"%s\",\"state\":\"running\","
			    "\"connections_target\":%d,"
			    "\"connections_active\":%d,\"connects_failed\":0,"
			    "\"errors\":{\"refused\":0,\"reset\":%.0f},"
			    "\"messages_sent\":%.0f,\"replies\":%.0f,"
			    "\"messages_sent_per_s\":%.0f,"
			    "\"replies_per_s\":%.0f,"
			    "\"bytes_sent_per_s\":%.0f,"
			    "\"bytes_received_per_s\":%.0f,"
			    "\"latency_us\":{\"interval\":{\"count\":%.0f,"
			    "\"p50\":50.5,\"p90\":80.25,\"p99\":%.1f,"
			    "\"p99.9\":%.1f,\"max\":%.1f},\"run\":"
			    "{\"count\":%.0f,\"p50\":51,\"p90\":81,\"p99\":152,"
			    "\"p99.9\":400,\"max\":90000}}}\n",
			    1795835000.0 + i + j * 0.001, names[j], epoch[j],
			    cause[j], conns, conns, j == 0 ? reset : 0,
			    msgs[j], msgs[j], rate, rate, rate * 64, rate * 64,
			    rate, p99, p99 * 2, p99 * 3, msgs[j]);
		}
	}
	fclose(f);

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(run(&err, "-o", tpath("long.html"),
	    tpath("long.jsonl"), NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_string_equal(err, "");
	free(err);
	s = slurp(tpath("long.html"), &len);
	print_message("200,000 lines: report in %.2f s, %zu bytes\n",
	    (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) /
	    1e9, len);
	assert_true(len < 1000000);
	/* Downsampled: at most two points per bucket and series. */
	assert_true(max_path_points(s) <= 2000);
	/* The one-second burst survives. */
	assert_contains(s, "reset 977");
	assert_contains(s, ">1 s<");		/* the max reached 270 ms */
	assert_contains(s, ">1.25k<");	/* errors: 977 in one second */
	assert_contains(s, "scale web 400");
	assert_contains(s, "scale push 200");
	free(s);
	check_page(tpath("long.html"), true, 2);
	unlink(tpath("long.jsonl"));
}

/* ------------------------------------------------------------- main */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_summary_record),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_one_load),
		cmocka_unit_test(test_several_files),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_service),
		cmocka_unit_test(test_epoch_table),
		cmocka_unit_test(test_epoch_many),
		cmocka_unit_test(test_short_first),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_unwritable),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_long),
	};
	int	 rc;

	if (argc != 2) {
		fprintf(stderr, "usage: test_report tests/report\n");
		return 2;
	}
	datadir = argv[1];
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	have_xmllint = system("command -v xmllint >/dev/null 2>&1") == 0;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
