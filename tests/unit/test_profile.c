/* SPDX-License-Identifier: ISC */
/*
 * test_profile.c -- unit tests of profile.c.
 *
 * usage: test_profile CONFDIR [EXAMPLE]
 *
 * CONFDIR is tests/conf.  Every CONFDIR/bad/NAME.conf is a test of its own:
 * it must fail to load, and each of its leading "# expect: LINE: TEXT"
 * comment lines names an error that must be among those reported, as
 * "FILE:LINE: ...TEXT..." (LINE 0 means "FILE: ...TEXT...", no line).  So
 * adding a bad profile adds a test.  The good profiles in CONFDIR/good are
 * checked value by value.
 *
 * EXAMPLE is conf/loadd.conf, the example profile; conf/paced.conf beside
 * it is checked too.  Default: CONFDIR/../../conf/loadd.conf.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <sys/stat.h>

#include <dirent.h>
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

#include "common/util.h"
#include "common/log.h"
#include "model/profile.h"

static const char	*confdir;
static char		*example;

#define assert_near(a, b) do {						\
	double	 a_ = (a), b_ = (b);					\
	if (fabs(a_ - b_) > 1e-9 * fmax(1.0, fabs(b_)))			\
		fail_msg("%s = %.17g, want %.17g", #a, a_, b_);		\
} while (0)

static char *
path_join(const char *dir, const char *name)
{
	char	*p;

	if (asprintf(&p, "%s/%s", dir, name) == -1)
		abort();
	return p;
}

/* The load sends one static message: these bytes. */
static void
assert_one_message(const struct load_conf *lc, const char *bytes, size_t len)
{
	assert_int_equal(lc->payload.nmsgs, 1);
	assert_true(lc->payload.is_static);
	assert_true(lc->payload.msgs[0].is_static);
	assert_int_equal(lc->payload.msgs[0].nbytes, len);
	assert_memory_equal(lc->payload.msgs[0].bytes, bytes, len);
	assert_int_equal(lc->payload.msgs[0].bytes[len], '\0');
	assert_int_equal(lc->size, len);
	assert_false(lc->varying);
}

static void
print_errors(const struct errlist *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		print_message("  %s\n", errs->msgs[i]);
}

/* Load a good profile: it must load with no error at all. */
static struct profile *
load_good(const char *path)
{
	struct errlist	 errs = { 0 };
	struct profile	*prof;

	prof = profile_load(path, &errs);
	if (prof == NULL || errs.n != 0) {
		print_errors(&errs);
		fail_msg("%s: expected to load", path);
	}
	errlist_free(&errs);
	return prof;
}

static const char *
tmp_dir(void)
{
	const char	*d = getenv("TMPDIR");

	return d != NULL && *d != '\0' ? d : "/tmp";
}

/* Write text to a new temporary profile; the caller unlinks and frees. */
static char *
write_tmp(const char *text)
{
	char	*path = path_join(tmp_dir(), "test_profile.XXXXXX.conf");
	FILE	*fp;
	int	 fd;

	fd = mkstemps(path, 5);
	assert_true(fd != -1);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static struct profile *
load_text(const char *text)
{
	char		*path = write_tmp(text);
	struct profile	*prof = load_good(path);

	unlink(path);
	free(path);
	return prof;
}

static bool
is_v4(const struct load_conf *lc, const char *addr, int port)
{
	const struct sockaddr_in *sin = (const void *)&lc->targets[0].addr;
	struct in_addr	 want;

	assert_int_equal(inet_pton(AF_INET, addr, &want), 1);
	return lc->targets[0].addrlen == sizeof(*sin) && sin->sin_family == AF_INET &&
	    sin->sin_addr.s_addr == want.s_addr &&
	    ntohs(sin->sin_port) == port;
}

static bool
is_v6_loopback(const struct load_conf *lc, int port)
{
	const struct sockaddr_in6 *sin6 = (const void *)&lc->targets[0].addr;

	return lc->targets[0].addrlen == sizeof(*sin6) && sin6->sin6_family == AF_INET6 &&
	    memcmp(&sin6->sin6_addr, &in6addr_loopback,
	    sizeof(in6addr_loopback)) == 0 && ntohs(sin6->sin6_port) == port;
}

/* ---------------------------------------------------------- bad files */

/*
 * An error is one printable line of bounded length, whatever the profile
 * holds: no control byte (a newline would forge a line of the journal),
 * and values cut (PROFILE_ECHO_MAX, 64) within a message of at most 1 KB
 * after the file's name (plen bytes).
 */
static void
assert_one_line(const char *m, size_t plen)
{
	for (const unsigned char *p = (const unsigned char *)m; *p != '\0';
	    p++) {
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("control byte 0x%02x in error: %s", *p, m);
	}
	if (strlen(m) > plen + 1100)
		fail_msg("error of %zu bytes: %.200s...", strlen(m), m);
}

struct expect {
	int	 line;
	char	 text[512];
};

/* Read the "# expect: LINE: TEXT" lines at the head of a bad profile. */
static size_t
read_expects(const char *path, struct expect *exp, size_t max)
{
	FILE	*fp = fopen(path, "r");
	char	 buf[1024];
	size_t	 n = 0;

	if (fp == NULL)
		fail_msg("%s: cannot open", path);
	while (fgets(buf, sizeof(buf), fp) != NULL && buf[0] == '#') {
		int	 line, off = 0;

		if (strncmp(buf, "# expect: ", 10) != 0)
			continue;
		if (sscanf(buf + 10, "%d: %n", &line, &off) != 1 || off == 0)
			fail_msg("%s: malformed expect line: %s", path, buf);
		if (n == max)
			fail_msg("%s: too many expect lines", path);
		buf[strcspn(buf, "\n")] = '\0';
		exp[n].line = line;
		snprintf(exp[n].text, sizeof(exp[n].text), "%s",
		    buf + 10 + off);
		n++;
	}
	fclose(fp);
	return n;
}

static void
test_bad_file(void **state)
{
	const char	*path = *state;
	struct expect	 exp[32];
	struct errlist	 errs = { 0 };
	struct profile	*prof;
	size_t		 nexp, plen = strlen(path);

	nexp = read_expects(path, exp, 32);
	if (nexp == 0)
		fail_msg("%s: no \"# expect: LINE: TEXT\" line", path);

	prof = profile_load(path, &errs);
	if (prof != NULL) {
		profile_free(prof);
		fail_msg("%s: loaded, but it is a bad profile", path);
	}

	/* Every error says where it is: "FILE:LINE: " or "FILE: ". */
	for (size_t i = 0; i < errs.n; i++) {
		const char	*m = errs.msgs[i];

		if (strncmp(m, path, plen) != 0 || m[plen] != ':') {
			print_errors(&errs);
			fail_msg("error without \"%s:\" in front: %s", path, m);
		}
		assert_one_line(m, plen);
	}

	for (size_t e = 0; e < nexp; e++) {
		char	 prefix[1024];
		size_t	 n;
		bool	 found = false;

		if (exp[e].line > 0)
			n = (size_t)snprintf(prefix, sizeof(prefix), "%s:%d: ",
			    path, exp[e].line);
		else
			n = (size_t)snprintf(prefix, sizeof(prefix), "%s: ",
			    path);
		for (size_t i = 0; i < errs.n && !found; i++) {
			found = strncmp(errs.msgs[i], prefix, n) == 0 &&
			    strstr(errs.msgs[i] + n, exp[e].text) != NULL;
		}
		if (!found) {
			print_message("errors reported:\n");
			print_errors(&errs);
			fail_msg("missing error: %s...%s", prefix, exp[e].text);
		}
	}
	errlist_free(&errs);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted paths of every DIR/ *.conf; *np is how many. */
static char **
list_confs(const char *dir, size_t *np)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	char		**v = NULL;
	size_t		 n = 0;

	if (d == NULL) {
		fprintf(stderr, "test_profile: %s: cannot open\n", dir);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		size_t	 len = strlen(de->d_name);

		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		if (v == NULL)
			abort();
		v[n++] = path_join(dir, de->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	*np = n;
	return v;
}

/* --------------------------------------------------------- good files */

static void
test_minimal_defaults(void **state)
{
	char			*path = path_join(confdir, "good/minimal.conf");
	struct profile		*prof = load_good(path);
	const struct load_conf	*lc;

	(void)state;
	assert_string_equal(prof->path, path);
	assert_ptr_not_equal(prof->path, path);

	assert_string_equal(prof->daemon.socket, LOADD_SOCKET_DEFAULT);
	assert_int_equal(prof->daemon.socket_mode, 0660);
	assert_int_equal(prof->daemon.workers, 0);
	assert_near(prof->daemon.stats_interval, 1);
	assert_int_equal(prof->daemon.log_level, -1);
	assert_int_equal(prof->daemon.max_clients, 64);
	assert_near(prof->daemon.client_timeout, 10);
	assert_near(prof->daemon.drain_timeout, 5);
	assert_null(prof->daemon.host);	/* metrics.c: gethostname() */

	assert_int_equal(prof->nloads, 1);
	lc = &prof->loads[0];
	assert_string_equal(lc->name, "m");
	assert_int_equal(lc->line, 3);
	assert_string_equal(lc->target, "127.0.0.1:9000");
	assert_true(is_v4(lc, "127.0.0.1", 9000));
	assert_int_equal(lc->connections, 10);
	assert_int_equal(lc->max_connections, 10000);
	assert_true(lc->autostart);
	assert_near(lc->connect_rate, 1000);
	assert_int_equal(lc->connects_inflight, 1024);
	assert_int_equal(lc->nsources, 0);
	assert_null(lc->sources);
	assert_int_equal(lc->size, 1024);
	assert_int_equal(lc->content, CONTENT_LETTERS);
	assert_int_equal(lc->payload.nmsgs, 0);
	assert_null(lc->payload.msgs);
	assert_false(lc->template);
	assert_false(lc->varying);
	assert_near(lc->rate, 0);
	assert_near(lc->max_rate, RATE_LIMIT);
	assert_near(lc->duration, 0);
	assert_near(lc->reconnect.delay, 0.1);
	assert_near(lc->reconnect.max_delay, 10);
	assert_near(lc->reconnect.backoff, 2);
	assert_near(lc->reconnect.jitter, 0.2);
	assert_near(lc->connect_timeout, 5);
	assert_true(lc->nodelay);
	assert_near(lc->tick, 0.001);	/* no expect: batched by default */
	assert_true(prof->daemon.io_uring);

	profile_free(prof);
	free(path);
}

static void
test_full(void **state)
{
	char			*path = path_join(confdir, "good/full.conf");
	struct profile		*prof = load_good(path);
	const struct load_conf	*lc;

	(void)state;
	assert_string_equal(prof->daemon.socket, "/tmp/loadd-test.sock");
	assert_int_equal(prof->daemon.socket_mode, 0640);
	assert_int_equal(prof->daemon.workers, 3);
	assert_near(prof->daemon.stats_interval, 0.25);
	assert_int_equal(prof->daemon.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(prof->daemon.max_clients, 8);
	assert_near(prof->daemon.client_timeout, 2.5);
	assert_near(prof->daemon.drain_timeout, 60);
	assert_false(prof->daemon.io_uring);
	assert_string_equal(prof->daemon.host, "lg-1.example (rack 7)");

	assert_int_equal(prof->nloads, 2);
	lc = &prof->loads[0];
	assert_string_equal(lc->name, "ping-v6");
	assert_int_equal(lc->line, 14);
	assert_string_equal(lc->target, "[::1]:9000");
	assert_true(is_v6_loopback(lc, 9000));
	assert_int_equal(lc->connections, 0);
	assert_int_equal(lc->max_connections, 50);
	assert_false(lc->autostart);
	assert_near(lc->connect_rate, 12.5);
	assert_int_equal(lc->connects_inflight, 3);
	assert_int_equal(lc->content, CONTENT_MESSAGES);
	assert_one_message(lc, "PING\r\nA\"\\", 9);
	assert_int_equal(lc->size, 9);
	assert_near(lc->rate, 20);
	assert_near(lc->max_rate, 100);
	assert_near(lc->duration, 7200);
	assert_near(lc->connect_timeout, 0.75);
	assert_false(lc->nodelay);
	assert_near(lc->tick, 0.005);
	assert_near(lc->reconnect.delay, 0.05);
	assert_near(lc->reconnect.max_delay, 3);
	assert_near(lc->reconnect.backoff, 1);
	assert_near(lc->reconnect.jitter, 0);

	lc = &prof->loads[1];
	assert_string_equal(lc->name, "Bulk_2.x");
	assert_true(is_v4(lc, "127.0.0.2", 9001));
	assert_int_equal(lc->connections, 1000);
	assert_int_equal(lc->max_connections, CONNECTIONS_LIMIT);
	assert_true(lc->autostart);
	assert_int_equal(lc->content, CONTENT_BYTES);
	assert_int_equal(lc->payload.nmsgs, 0);
	assert_int_equal(lc->size, 65536);
	assert_near(lc->rate, 0);
	assert_near(lc->max_rate, RATE_LIMIT);
	assert_near(lc->duration, 90);
	/* Keys left out of a reconnect group keep their defaults. */
	assert_near(lc->reconnect.delay, 0.1);
	assert_near(lc->reconnect.max_delay, 10);
	assert_near(lc->reconnect.backoff, 1.5);
	assert_near(lc->reconnect.jitter, 1);

	profile_free(prof);
	free(path);
}

/* Message i of a load: these bytes, static or not. */
static void
assert_message(const struct load_conf *lc, unsigned i, const char *bytes,
    size_t len, bool is_static)
{
	assert_true(i < lc->payload.nmsgs);
	assert_int_equal(lc->payload.msgs[i].nbytes, len);
	assert_memory_equal(lc->payload.msgs[i].bytes, bytes, len);
	assert_int_equal(lc->payload.msgs[i].is_static, is_static);
}

/* payload_file, messages, hex and templates. */
static void
test_payload(void **state)
{
	char			*path = path_join(confdir, "good/payload.conf");
	struct profile		*prof = load_good(path);
	const struct load_conf	*lc;
	struct load_conf	*c;

	(void)state;
	assert_int_equal(prof->nloads, 8);

	/* A file is bytes, braces and all, unless template = true. */
	lc = profile_find_load(prof, "file");
	assert_int_equal(lc->content, CONTENT_MESSAGES);
	assert_one_message(lc, "HELLO {seq}\n", 12);
	assert_false(lc->template);
	lc = profile_find_load(prof, "filetmpl");
	assert_true(lc->template);
	assert_true(lc->varying);
	assert_int_equal(lc->payload.nmsgs, 1);
	assert_false(lc->payload.is_static);
	assert_message(lc, 0, "HELLO \n", 7, false);
	assert_int_equal(lc->size, lc->payload.max_len);
	assert_int_equal(lc->size, 7 + 20);

	/* A list of several lengths: size is the longest. */
	lc = profile_find_load(prof, "list");
	assert_int_equal(lc->payload.nmsgs, 3);
	assert_true(lc->payload.is_static);
	assert_message(lc, 0, "a", 1, true);
	assert_message(lc, 1, "bb", 2, true);
	assert_message(lc, 2, "\0\377", 2, true);
	assert_int_equal(lc->size, 2);
	assert_true(lc->varying);
	/* One length: not varying, whatever the count. */
	lc = profile_find_load(prof, "same");
	assert_int_equal(lc->payload.nmsgs, 2);
	assert_message(lc, 1, "cd", 2, true);
	assert_int_equal(lc->size, 2);
	assert_false(lc->varying);

	lc = profile_find_load(prof, "hexlit");
	assert_one_message(lc, "\0\1\2\3", 4);
	lc = profile_find_load(prof, "braces");
	assert_one_message(lc, "{\"a\": {seq}}", 12);

	lc = profile_find_load(prof, "tmpl");
	assert_true(lc->template);
	assert_true(lc->varying);
	assert_false(lc->payload.is_static);
	/* "GET /" seq " " conn " " load " " time_us " " rand:4 " {}\n" */
	assert_int_equal(lc->size, 5 + 20 + 1 + 20 + 1 + (LOAD_NAME_MAX - 1) +
	    1 + 20 + 1 + 4 + 4);
	assert_int_equal(lc->expect, EXPECT_UNTIL);

	/* A template list: hex stays bytes, static messages are kept. */
	lc = profile_find_load(prof, "tmplecho");
	assert_int_equal(lc->payload.nmsgs, 3);
	assert_message(lc, 1, "{}", 2, true);
	assert_message(lc, 2, "static", 6, true);
	assert_false(lc->payload.msgs[0].is_static);
	assert_int_equal(lc->size, 20);
	assert_int_equal(lc->expect, EXPECT_ECHO);

	/* A copy owns its messages and is equal; a change is seen. */
	c = load_conf_dup(lc);
	assert_true(load_conf_equal(c, lc));
	assert_ptr_not_equal(c->payload.msgs[2].bytes,
	    lc->payload.msgs[2].bytes);
	c->payload.msgs[2].bytes[0] = 'S';
	assert_false(load_conf_equal(c, lc));
	load_conf_free(c);
	assert_false(load_conf_equal(profile_find_load(prof, "file"),
	    profile_find_load(prof, "filetmpl")));

	profile_free(prof);
	free(path);
}

static void
test_include(void **state)
{
	char			*path = path_join(confdir, "good/include.conf");
	struct profile		*prof = load_good(path);
	const struct load_conf	*lc;

	(void)state;
	assert_int_equal(prof->daemon.socket_mode, 0755);
	assert_int_equal(prof->nloads, 1);
	lc = &prof->loads[0];
	assert_string_equal(lc->name, "inc");
	assert_string_equal(lc->target, "localhost:9002");
	assert_true(is_v4(lc, "127.0.0.1", 9002) || is_v6_loopback(lc, 9002));
	profile_free(prof);
	free(path);
}

/* An error inside an @include file names that file, with its directory. */
static void
test_include_error(void **state)
{
	char		*dir = path_join(tmp_dir(), "test_profile.XXXXXX");
	char		*main_path, *inc_path, *want;
	struct errlist	 errs = { 0 };
	FILE		*fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	main_path = path_join(dir, "main.conf");
	inc_path = path_join(dir, "part.inc");
	fp = fopen(main_path, "w");
	assert_non_null(fp);
	fputs("@include \"part.inc\"\n", fp);
	fclose(fp);
	fp = fopen(inc_path, "w");
	assert_non_null(fp);
	fputs("loads = (\n { name = \"a\"; target = \"127.0.0.1:9000\";\n"
	    "   sise = 10; }\n);\n", fp);
	fclose(fp);

	assert_null(profile_load(main_path, &errs));
	assert_int_equal(errs.n, 1);
	if (asprintf(&want, "%s:3: unknown key \"sise\" in load \"a\"; "
	    "did you mean \"size\"?", inc_path) == -1)
		abort();
	assert_string_equal(errs.msgs[0], want);

	errlist_free(&errs);
	unlink(main_path);
	unlink(inc_path);
	rmdir(dir);
	free(dir);
	free(want);
	free(main_path);
	free(inc_path);
}

/* conf/loadd.conf: the classic workload, and nothing else. */
static void
test_example_classic(void **state)
{
	struct profile		*prof = load_good(example);
	const struct load_conf	*lc;

	(void)state;
	assert_string_equal(prof->daemon.socket, "/run/loadd/loadd.sock");
	assert_int_equal(prof->daemon.socket_mode, 0660);
	assert_int_equal(prof->daemon.workers, 0);
	assert_near(prof->daemon.stats_interval, 1);
	assert_int_equal(prof->daemon.log_level, -1);
	assert_int_equal(prof->daemon.max_clients, 64);
	assert_near(prof->daemon.client_timeout, 10);
	assert_near(prof->daemon.drain_timeout, 5);

	assert_int_equal(prof->nloads, 1);
	lc = &prof->loads[0];
	assert_string_equal(lc->name, "classic");
	assert_string_equal(lc->target, "127.0.0.1:8080");
	assert_true(is_v4(lc, "127.0.0.1", 8080));
	assert_int_equal(lc->connections, 10);
	assert_int_equal(lc->max_connections, 1000);
	assert_true(lc->autostart);
	assert_near(lc->connect_rate, 1000);
	assert_int_equal(lc->content, CONTENT_LETTERS);
	assert_int_equal(lc->size, 1024);
	assert_int_equal(lc->payload.nmsgs, 0);
	assert_near(lc->rate, 0);
	assert_near(lc->max_rate, RATE_LIMIT);
	assert_near(lc->duration, 0);
	assert_near(lc->connect_timeout, 5);
	assert_true(lc->nodelay);
	assert_near(lc->reconnect.delay, 0.1);
	assert_near(lc->reconnect.max_delay, 10);
	assert_near(lc->reconnect.backoff, 2);
	assert_near(lc->reconnect.jitter, 0.2);
	profile_free(prof);
}

static void
test_example_paced(void **state)
{
	char			*dir = strdup(example), *path, *slash;
	struct profile		*prof;
	const struct load_conf	*lc;

	(void)state;
	assert_non_null(dir);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	path = path_join(slash != NULL ? dir : ".", "paced.conf");
	prof = load_good(path);

	assert_int_equal(prof->nloads, 2);
	lc = profile_find_load(prof, "ping");
	assert_non_null(lc);
	assert_true(is_v4(lc, "127.0.0.1", 9000));
	assert_int_equal(lc->content, CONTENT_MESSAGES);
	assert_one_message(lc, "PING\r\n", 6);
	assert_int_equal(lc->size, 6);
	assert_true(lc->rate > 0 && lc->rate <= lc->max_rate);
	lc = profile_find_load(prof, "bulk");
	assert_non_null(lc);
	assert_true(is_v4(lc, "127.0.0.1", 9001));
	assert_near(lc->rate, 0);

	profile_free(prof);
	free(path);
	free(dir);
}

/* -------------------------------------------------- forms and helpers */

static void
test_socket_mode_forms(void **state)
{
	static const struct {
		const char	*value;
		int		 mode;
	} cases[] = {
		{ "660", 0660 }, { "\"0600\"", 0600 }, { "\"600\"", 0600 },
		{ "0x1ff", 0777 }, { "\"0\"", 0 }, { "7", 07 },
		{ "0777", 0777 }, { "\"0000750\"", 0750 },
	};
	char	 text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct profile	*prof;

		snprintf(text, sizeof(text), "daemon = { socket_mode = %s; };\n"
		    "loads = ( { name = \"a\"; target = \"127.0.0.1:1\"; } );"
		    "\n", cases[i].value);
		prof = load_text(text);
		if (prof->daemon.socket_mode != cases[i].mode)
			fail_msg("socket_mode = %s: got %#o, want %#o",
			    cases[i].value, prof->daemon.socket_mode,
			    cases[i].mode);
		profile_free(prof);
	}
}

/*
 * daemon.host at its edges: 64 bytes, every printable ASCII byte but the
 * quote and the backslash.
 */
static void
test_host_forms(void **state)
{
	char		 text[512], host[PROFILE_HOST_MAX + 1], all[128];
	struct profile	*prof;
	size_t		 n = 0;

	(void)state;
	memset(host, 'h', PROFILE_HOST_MAX);
	host[PROFILE_HOST_MAX] = '\0';
	snprintf(text, sizeof(text), "daemon = { host = \"%s\"; };\n"
	    "loads = ( { name = \"a\"; target = \"127.0.0.1:1\"; } );\n",
	    host);
	prof = load_text(text);
	assert_string_equal(prof->daemon.host, host);
	profile_free(prof);

	for (int c = 0x20; c <= 0x7e; c++)
		if (c != '"' && c != '\\')
			all[n++] = (char)c;
	all[n] = '\0';
	/* 93 bytes: in two halves, each at most 64. */
	for (size_t half = 0; half < 2; half++) {
		char	 part[PROFILE_HOST_MAX + 1];

		snprintf(part, sizeof(part), "%.*s", (int)(n / 2 + half),
		    all + half * (n / 2));
		snprintf(text, sizeof(text), "daemon = { host = \"%s\"; };\n"
		    "loads = ( { name = \"a\"; target = \"127.0.0.1:1\"; } );"
		    "\n", part);
		prof = load_text(text);
		assert_string_equal(prof->daemon.host, part);
		profile_free(prof);
	}
}

static void
test_number_forms(void **state)
{
	struct profile		*prof;
	const struct load_conf	*lc;

	(void)state;
	prof = load_text(
	    "loads = (\n"
	    "  { name = \"a\"; target = \"127.0.0.1:1\"; connect_rate = 5;\n"
	    "    size = 2048L; duration = \"1.5\";\n"
	    "    connect_timeout = \"1500us\";\n"
	    "    rate = 0.5; max_rate = 1; max_connections = 1e6; },\n"
	    "  { name = \"b\"; target = \"127.0.0.1:2\"; connect_rate = 2.5;\n"
	    "    rate = \"flood\"; max_rate = 1e9; duration = 0;\n"
	    "    connections = 0; max_connections = 1; }\n"
	    ");\n");
	lc = &prof->loads[0];
	assert_near(lc->connect_rate, 5);
	assert_int_equal(lc->size, 2048);
	assert_near(lc->duration, 1.5);
	assert_near(lc->connect_timeout, 1500e-6);
	assert_near(lc->rate, 0.5);
	assert_int_equal(lc->max_connections, 1000000);
	lc = &prof->loads[1];
	assert_near(lc->connect_rate, 2.5);
	assert_near(lc->rate, 0);
	assert_near(lc->duration, 0);
	assert_int_equal(lc->connections, 0);
	profile_free(prof);
}

static void
test_name_rule(void **state)
{
	char		 name[LOAD_NAME_MAX], text[512];
	struct profile	*prof;

	(void)state;
	memset(name, 'x', LOAD_NAME_MAX - 1);
	name[0] = 'Z';
	name[LOAD_NAME_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "loads = (\n"
	    " { name = \"%s\"; target = \"127.0.0.1:1\"; },\n"
	    " { name = \"a.b-c_9\"; target = \"127.0.0.1:1\"; },\n"
	    " { name = \"q\"; target = \"127.0.0.1:1\"; }\n);\n", name);
	prof = load_text(text);
	assert_int_equal(prof->nloads, 3);
	assert_string_equal(prof->loads[0].name, name);
	assert_string_equal(prof->loads[1].name, "a.b-c_9");
	assert_string_equal(prof->loads[2].name, "q");
	profile_free(prof);
}

static void
test_find_load(void **state)
{
	char			*path = path_join(confdir, "good/full.conf");
	struct profile		*prof = load_good(path);

	(void)state;
	assert_ptr_equal(profile_find_load(prof, "ping-v6"), &prof->loads[0]);
	assert_ptr_equal(profile_find_load(prof, "Bulk_2.x"), &prof->loads[1]);
	assert_null(profile_find_load(prof, "bulk_2.x"));
	assert_null(profile_find_load(prof, "ping"));
	assert_null(profile_find_load(prof, ""));
	assert_null(profile_find_load(prof, NULL));
	assert_null(profile_find_load(NULL, "ping-v6"));
	profile_free(prof);
	free(path);
}

static void
test_sources(void **state)
{
	char			*path = path_join(confdir, "good/sources.conf");
	struct profile		*prof = load_good(path);
	const struct load_conf	*lc;
	const struct sockaddr_in *sin;
	struct load_conf	*c;

	(void)state;
	assert_int_equal(prof->nloads, 3);
	lc = &prof->loads[0];
	assert_int_equal(lc->nsources, 2);
	for (int i = 0; i < 2; i++) {
		sin = (const struct sockaddr_in *)&lc->sources[i];
		assert_int_equal(sin->sin_family, AF_INET);
		assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000002 + i);
		assert_int_equal(sin->sin_port, 0);
	}
	lc = &prof->loads[1];
	assert_int_equal(lc->nsources, 1);
	assert_int_equal(lc->sources[0].ss_family, AF_INET6);
	assert_memory_equal(&((const struct sockaddr_in6 *)
	    &lc->sources[0])->sin6_addr, &in6addr_loopback,
	    sizeof(in6addr_loopback));
	lc = &prof->loads[2];
	assert_int_equal(lc->nsources, 0);
	assert_null(lc->sources);

	/* A copy owns its list; another list, or another order, differs. */
	lc = &prof->loads[0];
	c = load_conf_dup(lc);
	assert_ptr_not_equal(c->sources, lc->sources);
	assert_true(load_conf_equal(c, lc));
	((struct sockaddr_in *)&c->sources[1])->sin_addr.s_addr =
	    htonl(0x7f000004);
	assert_false(load_conf_equal(c, lc));
	memcpy(&c->sources[1], &lc->sources[0], sizeof(c->sources[1]));
	memcpy(&c->sources[0], &lc->sources[1], sizeof(c->sources[0]));
	assert_false(load_conf_equal(c, lc));
	c->nsources = 1;
	assert_false(load_conf_equal(c, lc));
	load_conf_free(c);
	c = load_conf_dup(&prof->loads[2]);
	assert_null(c->sources);
	assert_true(load_conf_equal(c, &prof->loads[2]));
	load_conf_free(c);
	profile_free(prof);
	free(path);
}

static void
test_rr(void **state)
{
	char			*path = path_join(confdir, "good/rr.conf");
	struct profile		*prof = load_good(path);
	const struct load_conf	*lc;

	(void)state;
	assert_string_equal(prof->daemon.results, "/tmp/loadd-results.jsonl");
	assert_string_equal(prof->daemon.hdr_log, "/tmp/loadd-latency.hlog");
	assert_string_equal(prof->daemon.metrics_listen, "127.0.0.1:9464");
	assert_int_equal(prof->nloads, 4);
	lc = &prof->loads[0];
	assert_int_equal(lc->expect, EXPECT_ECHO);
	assert_int_equal(lc->arrival, ARRIVAL_POISSON);
	assert_int_equal(lc->inflight, 8);
	assert_near(lc->reply_timeout, 0.25);
	assert_near(lc->tick, 0);	/* timing replies: on time by default */
	lc = &prof->loads[1];
	assert_int_equal(lc->expect, EXPECT_SIZE);
	assert_int_equal(lc->expect_size, 32);
	assert_int_equal(lc->inflight, 1);
	assert_near(lc->reply_timeout, 10);
	assert_int_equal(lc->arrival, ARRIVAL_UNIFORM);
	lc = &prof->loads[2];
	assert_int_equal(lc->expect, EXPECT_UNTIL);
	assert_int_equal(lc->expect_len, 2);
	assert_memory_equal(lc->expect_bytes, "\r\n", 2);
	lc = &prof->loads[3];
	assert_int_equal(lc->expect, EXPECT_MATCH);
	assert_string_equal(lc->expect_bytes, "+PONG\r\n");
	/* A copy owns its bytes, and a change of any of them is seen. */
	{
		struct load_conf *c = load_conf_dup(lc);

		assert_ptr_not_equal(c->expect_bytes, lc->expect_bytes);
		assert_true(load_conf_equal(c, lc));
		c->expect_bytes[0] = '-';
		assert_false(load_conf_equal(c, lc));
		load_conf_free(c);
	}
	profile_free(prof);
	free(path);
}

static void
test_dup_equal(void **state)
{
	char			*path = path_join(confdir, "good/full.conf");
	struct profile		*prof = load_good(path), *again;
	const struct load_conf	*lit = &prof->loads[0];
	struct load_conf	*a, *b;

	(void)state;
	/* A copy is equal, and owns its messages. */
	a = load_conf_dup(lit);
	assert_true(load_conf_equal(a, lit));
	assert_ptr_not_equal(a->payload.msgs, lit->payload.msgs);
	assert_ptr_not_equal(a->payload.msgs[0].bytes,
	    lit->payload.msgs[0].bytes);
	assert_one_message(a, lit->payload.msgs[0].bytes,
	    lit->payload.msgs[0].nbytes);
	b = load_conf_dup(&prof->loads[1]);
	assert_null(b->payload.msgs);
	assert_true(load_conf_equal(b, &prof->loads[1]));
	assert_false(load_conf_equal(a, b));

	/* Where it was declared does not matter. */
	a->line += 10;
	assert_true(load_conf_equal(a, lit));

	/* Every field that shapes traffic does. */
	a->payload.msgs[0].bytes[0] = 'X';
	assert_false(load_conf_equal(a, lit));
	a->payload.msgs[0].bytes[0] = lit->payload.msgs[0].bytes[0];
	assert_true(load_conf_equal(a, lit));
#define CHANGED(field, v) do {						\
	struct load_conf *c_ = load_conf_dup(lit);			\
	c_->field = (v);						\
	if (load_conf_equal(c_, lit))					\
		fail_msg("a change of " #field " is not seen");	\
	load_conf_free(c_);						\
} while (0)
	CHANGED(rate, 21);
	CHANGED(max_rate, 101);
	CHANGED(connections, 1);
	CHANGED(max_connections, 51);
	CHANGED(autostart, true);
	CHANGED(connect_rate, 12);
	CHANGED(connects_inflight, 7);
	CHANGED(size, 8);
	CHANGED(payload.msgs[0].nbytes, 8);
	CHANGED(payload.msgs[0].segs[0].len, 3);
	CHANGED(template, true);
	CHANGED(varying, true);
	CHANGED(content, CONTENT_BYTES);
	CHANGED(duration, 1);
	CHANGED(reconnect.delay, 1);
	CHANGED(reconnect.max_delay, 4);
	CHANGED(reconnect.backoff, 2);
	CHANGED(reconnect.jitter, 0.5);
	CHANGED(connect_timeout, 1);
	CHANGED(nodelay, true);
	CHANGED(name[0], 'P');
	CHANGED(target[1], '0');
	CHANGED(targets[0].addrlen, sizeof(struct sockaddr_in));
	CHANGED(protocol, PROTO_TLS);
	CHANGED(ntargets, 2);
	CHANGED(tls.verify, false);
	CHANGED(tls.resume, true);
	CHANGED(lifetime, 3);
	CHANGED(lifetime_jitter, 0.5);
	CHANGED(messages_per_connection, 5);
	CHANGED(close, CLOSE_RESET);
	CHANGED(burst, 4);
	CHANGED(idle, true);
	CHANGED(keepalive, 30);
	CHANGED(expect, EXPECT_ECHO);
	CHANGED(expect_size, 3);
	CHANGED(inflight, 2);
	CHANGED(reply_timeout, 3);
	CHANGED(arrival, ARRIVAL_POISSON);
	CHANGED(tick, 0.002);
#undef CHANGED
	{
		struct load_conf	*c = load_conf_dup(lit);

		((struct sockaddr_in6 *)&c->targets[0].addr)->sin6_port = htons(9999);
		assert_false(load_conf_equal(c, lit));
		load_conf_free(c);
	}

	/* The same file read twice describes the same traffic. */
	again = load_good(path);
	for (int i = 0; i < prof->nloads; i++)
		assert_true(load_conf_equal(&again->loads[i],
		    &prof->loads[i]));
	profile_free(again);

	load_conf_free(a);
	load_conf_free(b);
	load_conf_free(NULL);
	profile_free(NULL);
	profile_free(prof);
	free(path);
}

static void
test_missing_file(void **state)
{
	char		*path = path_join(confdir, "no/such/file.conf"), *want;
	struct errlist	 errs = { 0 };

	(void)state;
	assert_null(profile_load(path, &errs));
	assert_int_equal(errs.n, 1);
	if (asprintf(&want, "%s: No such file or directory", path) == -1)
		abort();
	assert_string_equal(errs.msgs[0], want);
	errlist_free(&errs);
	free(want);
	free(path);
}

static void
test_directory(void **state)
{
	struct errlist	 errs = { 0 };

	(void)state;
	assert_null(profile_load(confdir, &errs));
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msgs[0], "Is a directory"));
	errlist_free(&errs);
}

/* Errors are appended to those already in the list; a good load adds none. */
static void
test_errs_appended(void **state)
{
	char		*good = path_join(confdir, "good/minimal.conf");
	char		*bad = path_join(confdir, "bad/several-errors.conf");
	struct errlist	 errs = { 0 };
	struct profile	*prof;

	(void)state;
	errlist_add(&errs, "earlier");
	prof = profile_load(good, &errs);
	assert_non_null(prof);
	assert_int_equal(errs.n, 1);
	profile_free(prof);

	assert_null(profile_load(bad, &errs));
	assert_true(errs.n > 10);
	assert_string_equal(errs.msgs[0], "earlier");
	errlist_free(&errs);
	free(good);
	free(bad);
}

/* Errors come in file order, though some checks run after a whole load. */
static void
test_errors_in_line_order(void **state)
{
	char		*path = path_join(confdir, "bad/several-errors.conf");
	struct errlist	 errs = { 0 };
	size_t		 plen = strlen(path);
	int		 prev = 0;

	(void)state;
	assert_null(profile_load(path, &errs));
	assert_true(errs.n > 10);
	for (size_t i = 0; i < errs.n; i++) {
		int	 line = atoi(errs.msgs[i] + plen + 1);

		if (line < prev) {
			print_errors(&errs);
			fail_msg("error %zu out of line order", i);
		}
		prev = line;
	}
	errlist_free(&errs);
	free(path);
}

/* ------------------------------------------------------------ @include */

/* A new private directory under $TMPDIR; rm_tree removes it. */
static char *
make_dir(void)
{
	char	*dir = path_join(tmp_dir(), "test_profile.XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Write len bytes of text to dir/name; the caller frees the path. */
static char *
write_in_len(const char *dir, const char *name, const char *text,
    size_t len)
{
	char	*path = path_join(dir, name);
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static char *
write_in(const char *dir, const char *name, const char *text)
{
	return write_in_len(dir, name, text, strlen(text));
}

/*
 * Loading path fails with exactly one error, "FILE:LINE: TEXT" (LINE 0:
 * "FILE: TEXT"), where FILE is dir/name (or name when dir is NULL).
 */
static void
assert_one_error(const char *path, const char *dir, const char *name,
    int line, const char *text)
{
	struct errlist	 errs = { 0 };
	struct profile	*prof;
	char		*want, *file;

	file = dir != NULL ? path_join(dir, name) : strdup(name);
	if ((line > 0 ? asprintf(&want, "%s:%d: %s", file, line, text) :
	    asprintf(&want, "%s: %s", file, text)) == -1)
		abort();
	if ((prof = profile_load(path, &errs)) != NULL) {
		profile_free(prof);
		fail_msg("%s: loaded, want the error %s", path, want);
	}
	if (errs.n != 1 || strcmp(errs.msgs[0], want) != 0) {
		print_errors(&errs);
		fail_msg("want the one error: %s", want);
	}
	errlist_free(&errs);
	free(want);
	free(file);
}

static const char	 one_load[] =
    "loads = ( { name = \"a\"; target = \"127.0.0.1:9000\"; } );\n";

/*
 * What an @include may name: a regular file, within the size of a
 * profile, not itself, at most 10 deep.  libconfig's scanner exited on a
 * directory (@include "" is the profile's own), which ended the daemon
 * at a reload; a FIFO blocked the main thread for good.  Each is an
 * error at the line of the directive, and nothing else is opened.
 */
static void
test_include_refused(void **state)
{
	char	*dir = make_dir(), *p, *big, *want;
	char	 name[32], text[64];

	(void)state;
	alarm(30);	/* a FIFO once blocked profile_load for good */

	p = write_in(dir, "empty.conf", "# an include of nothing\n"
	    "@include \"\"\n");
	assert_one_error(p, dir, "empty.conf", 2, "@include \"\": no file "
	    "name");
	free(p);

	big = path_join(dir, "sub");
	assert_int_equal(mkdir(big, 0700), 0);
	free(write_in(dir, "dir.conf", "@include \"sub\"\n"));
	if (asprintf(&want, "@include \"sub\": %s: Is a directory", big) ==
	    -1)
		abort();
	p = path_join(dir, "dir.conf");
	assert_one_error(p, dir, "dir.conf", 1, want);
	free(want);
	free(p);
	free(big);

	big = path_join(dir, "fifo.inc");
	assert_int_equal(mkfifo(big, 0600), 0);
	p = write_in(dir, "fifo.conf", "\n\n@include \"fifo.inc\"\n");
	if (asprintf(&want, "@include \"fifo.inc\": %s: a FIFO, not a "
	    "regular file", big) == -1)
		abort();
	assert_one_error(p, dir, "fifo.conf", 3, want);
	free(want);
	free(p);
	/* A FIFO as the profile itself. */
	assert_one_error(big, NULL, big, 0, "a FIFO, not a regular file");
	free(big);

	/* A loop: a.conf -> b.inc -> a.conf. */
	free(write_in(dir, "b.inc", "# b\n@include \"a.conf\"\n"));
	p = write_in(dir, "a.conf", "@include \"b.inc\"\n");
	if (asprintf(&want, "@include \"a.conf\": %s includes itself", p) ==
	    -1)
		abort();
	assert_one_error(p, dir, "b.inc", 2, want);
	free(want);
	free(p);

	/* d0.conf -> d1.inc -> ... -> d11.inc: d10 may not include d11. */
	for (int i = 0; i <= 11; i++) {
		snprintf(name, sizeof(name), i == 0 ? "d%d.conf" : "d%d.inc",
		    i);
		snprintf(text, sizeof(text), "@include \"d%d.inc\"\n", i + 1);
		free(write_in(dir, name, i < 11 ? text : one_load));
	}
	p = path_join(dir, "d0.conf");
	assert_one_error(p, dir, "d10.inc", 1, "@include \"d11.inc\": "
	    "includes nested more than 10 deep");
	free(p);

	/* libconfig reads a text to its first NUL: the rest would go. */
	free(write_in_len(dir, "nul.inc", "# x\n\n\0loads = ();\n", 18));
	p = write_in(dir, "nul.conf", "@include \"nul.inc\"\n");
	assert_one_error(p, dir, "nul.inc", 3, "a NUL byte: this is not a "
	    "text file");
	free(p);

	/* A comment left open would run on into the including file. */
	free(write_in(dir, "open.inc", "daemon = { };\n/* and then\n"));
	p = write_in(dir, "open.conf", "@include \"open.inc\"\n*/\n");
	assert_one_error(p, dir, "open.inc", 2, "a comment /* opened here is "
	    "not closed by the end of the file");
	free(p);

	/* The profile and its includes: PROFILE_TEXT_MAX in all. */
	big = malloc(PROFILE_TEXT_MAX);
	assert_non_null(big);
	memset(big, '\n', PROFILE_TEXT_MAX);
	free(write_in_len(dir, "big.inc", big, PROFILE_TEXT_MAX - 10));
	free(big);
	p = write_in(dir, "big.conf", "# 10 bytes\n@include \"big.inc\"\n");
	if (asprintf(&big, "@include \"big.inc\": %s/big.inc: a profile with "
	    "its includes is at most %u bytes (4 MiB; put large messages in "
	    "payload_file)", dir, PROFILE_TEXT_MAX) == -1)
		abort();
	assert_one_error(p, dir, "big.conf", 2, big);
	free(big);
	free(p);

	alarm(0);
	rm_tree(dir);
}

/*
 * An absolute @include is taken as it is (libconfig put the profile's
 * directory in front of it, so it always failed); a relative one from the
 * directory of the file it is in.  Errors name the file and line they
 * are at, the including file's lines after an include included.
 */
static void
test_include_paths(void **state)
{
	char			*dir = make_dir(), *sub, *p, *text;
	struct profile		*prof;
	struct errlist		 errs = { 0 };

	(void)state;
	sub = path_join(dir, "sub");
	assert_int_equal(mkdir(sub, 0700), 0);
	free(write_in(sub, "rel.inc", "# in sub/\n@include \"daemon.inc\"\n"));
	free(write_in(sub, "daemon.inc", "daemon = { workers = 3; };\n"));
	free(write_in(dir, "loads.inc", one_load));
	if (asprintf(&text, "@include \"sub/rel.inc\"  # the daemon\n"
	    "@include \"%s/loads.inc\"\n", dir) == -1)
		abort();
	p = write_in(dir, "main.conf", text);
	prof = load_good(p);
	assert_int_equal(prof->daemon.workers, 3);
	assert_int_equal(prof->nloads, 1);
	assert_string_equal(prof->loads[0].name, "a");
	assert_int_equal(prof->loads[0].line, 1);	/* of loads.inc */
	profile_free(prof);
	free(p);
	free(text);

	/* After the includes, main's own line numbers. */
	if (asprintf(&text, "@include \"sub/rel.inc\"\n@include "
	    "\"%s/loads.inc\"\n\nbogus = 1;\n", dir) == -1)
		abort();
	p = write_in(dir, "main2.conf", text);
	assert_one_error(p, dir, "main2.conf", 4, "unknown key \"bogus\" at "
	    "top level (expected daemon or loads)");
	free(p);
	free(text);

	/* An error in a nested include names it, with its directory. */
	free(write_in(sub, "bad.inc", "\n  # two\ndaemon = { workerz = 3; };\n"));
	free(write_in(sub, "rel2.inc", "@include \"bad.inc\"\n"));
	p = write_in(dir, "main3.conf", "@include \"sub/rel2.inc\"\n"
	    "@include \"loads.inc\"\n");
	assert_one_error(p, sub, "bad.inc", 3, "unknown key \"workerz\" in "
	    "daemon; did you mean \"workers\"?");
	free(p);

	/* A syntax error in an include, and in the profile after one. */
	free(write_in(dir, "syntax.inc", "daemon = { workers = 3 }\n\n"
	    "loads = ;\n"));
	p = write_in(dir, "main4.conf", "@include \"syntax.inc\"\n");
	assert_one_error(p, dir, "syntax.inc", 3, "syntax error");
	free(p);
	p = write_in(dir, "main5.conf", "@include \"loads.inc\"\n\nx = ;\n");
	assert_one_error(p, dir, "main5.conf", 3, "syntax error");
	free(p);

	/*
	 * After the directive its line goes on as libconfig's scanner has
	 * it: a second @include there is no directive (not at a line's
	 * start), and is a syntax error, not a file opened.
	 */
	p = write_in(dir, "main6.conf", "@include \"loads.inc\" @include "
	    "\"sub/daemon.inc\"\n");
	assert_one_error(p, dir, "main6.conf", 1, "syntax error");
	free(p);

	p = path_join(dir, "none.conf");
	assert_null(profile_load(p, &errs));
	errlist_free(&errs);
	free(p);
	free(sub);
	rm_tree(dir);
}

/* A profile with one load that sends this literal (len bytes of 'a'). */
static char *
literal_profile(const char *dir, const char *name, size_t len)
{
	static const char	 head[] = "loads = ( { name = \"big\"; target = "
				    "\"127.0.0.1:9000\"; literal = \"";
	static const char	 tail[] = "\"; } );\n";
	char			*text, *path;

	text = malloc(sizeof(head) + len + sizeof(tail));
	assert_non_null(text);
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, 'a', len);
	memcpy(text + sizeof(head) - 1 + len, tail, sizeof(tail));
	path = write_in(dir, name, text);
	free(text);
	return path;
}

static double
mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CEILING_SECONDS	5.0	/* our code instrumented, libconfig not */
#else
#define CEILING_SECONDS	1.0
#endif

/*
 * libconfig took quadratic time in a long string read from a file (8 MiB:
 * 29 s, on the main thread at a reload).  At the ceilings now, a literal
 * of PROFILE_STRING_MAX and a profile of nearly PROFILE_TEXT_MAX load in
 * well under a second; a byte more is an error that says where large
 * messages go.
 */
static void
test_string_ceiling(void **state)
{
	char		*dir = make_dir(), *p, *text, *want;
	struct profile	*prof;
	double		 t0;
	size_t		 n = 0, per = PROFILE_STRING_MAX;

	(void)state;
	p = literal_profile(dir, "max.conf", PROFILE_STRING_MAX);
	t0 = mono();
	prof = load_good(p);
	if (mono() - t0 > CEILING_SECONDS)
		fail_msg("a literal of %u bytes took %.2f s", PROFILE_STRING_MAX,
		    mono() - t0);
	assert_int_equal(prof->loads[0].size, PROFILE_STRING_MAX);
	profile_free(prof);
	free(p);

	p = literal_profile(dir, "over.conf", PROFILE_STRING_MAX + 1);
	if (asprintf(&want, "literal is too long (%u bytes, at most %u in a "
	    "profile; put a larger message in payload_file) in load \"big\"",
	    PROFILE_STRING_MAX + 1, PROFILE_STRING_MAX) == -1)
		abort();
	assert_one_error(p, dir, "over.conf", 1, want);
	free(want);
	free(p);

	/* Three messages of the ceiling: 3 MiB of strings to parse. */
	text = malloc(PROFILE_TEXT_MAX);
	assert_non_null(text);
	n += (size_t)sprintf(text, "loads = ( { name = \"m\"; target = "
	    "\"127.0.0.1:9000\"; messages = ( ");
	for (int i = 0; i < 3; i++) {
		text[n++] = '"';
		memset(text + n, 'a' + i, per);
		n += per;
		n += (size_t)sprintf(text + n, "\"%s", i < 2 ? ", " : "");
	}
	n += (size_t)sprintf(text + n, " ); } );\n");
	p = write_in_len(dir, "messages.conf", text, n);
	t0 = mono();
	prof = load_good(p);
	if (mono() - t0 > CEILING_SECONDS)
		fail_msg("a profile of %zu bytes took %.2f s", n, mono() - t0);
	assert_int_equal(prof->loads[0].payload.nmsgs, 3);
	profile_free(prof);
	free(p);
	free(text);
	rm_tree(dir);
}

/*
 * Values in errors are escaped and cut: a 100,000-byte name made a 100 KB
 * error, a newline in a value split one error in two (a forged line in
 * the journal).
 */
static void
test_echo_escaped(void **state)
{
	char		*dir = make_dir(), *text, *p, *want, x64[65];
	struct errlist	 errs = { 0 };
	size_t		 len = 100000, n;

	(void)state;
	text = malloc(len + 128);
	assert_non_null(text);
	n = (size_t)sprintf(text, "loads = ( { target = \"127.0.0.1:9000\"; "
	    "name = \"");
	memset(text + n, 'x', len);
	n += len;
	n += (size_t)sprintf(text + n, "\"; } );\n");
	p = write_in_len(dir, "long.conf", text, n);
	memset(x64, 'x', 64);
	x64[64] = '\0';
	if (asprintf(&want, "invalid load name \"%s...\" (1 to %d letters, "
	    "digits, '_', '.' or '-', starting with a letter)", x64,
	    LOAD_NAME_MAX - 1) == -1)
		abort();
	assert_one_error(p, dir, "long.conf", 1, want);
	free(want);
	free(p);
	free(text);

	p = write_in(dir, "nl.conf", "daemon = { log_level = \"x\\nloadd[1]: "
	    "reload: ok\"; };\n" "loads = ( { name = \"a\\tb\\\"\"; target = "
	    "\"127.0.0.1:9000\"; } );\n");
	assert_null(profile_load(p, &errs));
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.msgs[0], ":1: unknown log_level "
	    "\"x\\nloadd[1]: reload: ok\""));
	assert_non_null(strstr(errs.msgs[1], ":2: invalid load name "
	    "\"a\\tb\\\"\""));
	for (size_t i = 0; i < errs.n; i++)
		assert_one_line(errs.msgs[i], strlen(p));
	errlist_free(&errs);
	free(p);
	rm_tree(dir);
}

/* Resident bytes of this process. */
static size_t
rss(void)
{
	FILE	*fp = fopen("/proc/self/statm", "r");
	size_t	 size = 0, res = 0;

	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%zu %zu", &size, &res), 2);
	fclose(fp);
	return res * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * libconfig 1.5 leaks a string token it holds at a syntax error: 100
 * refused reloads of such a profile cost the daemon 98 MB.  The parse
 * that fails now runs in a child: 20 failed loads of a profile with a
 * 1 MiB string before its mistake leave nothing behind (the RSS here;
 * in the ASan build LeakSanitizer at exit, which reported the 1 MiB
 * strings when the parse ran here).
 */
static void
test_failed_parse_leaks_nothing(void **state)
{
	char		*dir = make_dir(), *text, *p;
	struct errlist	 errs = { 0 };
	size_t		 before, n = 0;

	(void)state;
	text = malloc(PROFILE_STRING_MAX + 256);
	assert_non_null(text);
	n += (size_t)sprintf(text, "loads = ( { name = \"a\";\n  target = "
	    "\"127.0.0.1:9000\";\n  rate = 1 \"");
	memset(text + n, 'a', PROFILE_STRING_MAX - 1);
	n += PROFILE_STRING_MAX - 1;
	n += (size_t)sprintf(text + n, "\"; } );\n");
	p = write_in_len(dir, "leak.conf", text, n);
	free(text);
	for (int i = 0; i < 3; i++)
		assert_one_error(p, dir, "leak.conf", 3, "syntax error");
	before = rss();
	for (int i = 0; i < 20; i++) {
		assert_null(profile_load(p, &errs));
		errlist_free(&errs);
	}
#ifndef __SANITIZE_ADDRESS__	/* whose quarantine holds what is freed */
	if (rss() > before + 4 * 1024 * 1024)
		fail_msg("20 failed loads grew the RSS by %zu KB",
		    (rss() - before) / 1024);
#else
	(void)before;
#endif
	free(p);
	rm_tree(dir);
}

/*
 * The edges that are taken (tests/conf/bad/{rate,connect-rate,time}-edges
 * hold those that are not): the least rate, 0.001 per second, with max_rate
 * and connect_rate; 0x10 is libconfig's hex integer 16; -0 is 0 (rate:
 * idle; duration: until stopped); 1 ms, the least timeout, delay and
 * duration; 1 us, the least tick; RATE_LIMIT and 365 days at the top.
 */
static void
test_bounds_edges(void **state)
{
	struct profile		*prof;
	const struct load_conf	*lc;

	(void)state;
	prof = load_text(
	    "daemon = { client_timeout = \"1ms\"; drain_timeout = 0.001; };\n"
	    "loads = (\n"
	    "  { name = \"a\"; target = \"127.0.0.1:1\"; rate = 0.001;\n"
	    "    max_rate = 0.001; connect_rate = 0.001; tick = \"1us\";\n"
	    "    duration = \"1ms\"; connect_timeout = 0.001;\n"
	    "    reconnect = { delay = \"1ms\"; max_delay = \"365d\"; }; },\n"
	    "  { name = \"b\"; target = \"127.0.0.1:2\"; rate = 0x10;\n"
	    "    connect_rate = 1e9; duration = -0.0; lifetime = 0.001; },\n"
	    "  { name = \"c\"; target = \"127.0.0.1:3\"; rate = -0.0; },\n"
	    "  { name = \"d\"; target = \"127.0.0.1:4\"; rate = 1e9;\n"
	    "    max_rate = 1e9; duration = 31536000; tick = 0; }\n"
	    ");\n");
	assert_near(prof->daemon.client_timeout, 0.001);
	assert_near(prof->daemon.drain_timeout, 0.001);
	lc = &prof->loads[0];
	assert_near(lc->rate, RATE_MIN);
	assert_near(lc->max_rate, RATE_MIN);
	assert_near(lc->connect_rate, RATE_MIN);
	assert_near(lc->tick, 1e-6);
	assert_near(lc->duration, 0.001);
	assert_near(lc->connect_timeout, 0.001);
	assert_near(lc->reconnect.delay, 0.001);
	assert_near(lc->reconnect.max_delay, 365 * 86400.0);
	lc = &prof->loads[1];
	assert_near(lc->rate, 16);
	assert_near(lc->connect_rate, RATE_LIMIT);
	assert_true(lc->duration == 0 && !signbit(lc->duration));
	assert_near(lc->lifetime, 0.001);
	lc = &prof->loads[2];
	assert_true(lc->rate == 0 && lc->idle);
	lc = &prof->loads[3];
	assert_near(lc->rate, RATE_LIMIT);
	assert_near(lc->duration, 365 * 86400.0);
	assert_near(lc->tick, 0);
	profile_free(prof);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_rr),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_error),
		cmocka_unit_test(test_example_classic),
		cmocka_unit_test(test_example_paced),
		cmocka_unit_test(test_socket_mode_forms),
		cmocka_unit_test(test_host_forms),
		cmocka_unit_test(test_number_forms),
		cmocka_unit_test(test_name_rule),
		cmocka_unit_test(test_find_load),
		cmocka_unit_test(test_dup_equal),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_errs_appended),
		cmocka_unit_test(test_errors_in_line_order),
		cmocka_unit_test(test_include_refused),
		cmocka_unit_test(test_include_paths),
		cmocka_unit_test(test_string_ceiling),
		cmocka_unit_test(test_echo_escaped),
		cmocka_unit_test(test_failed_parse_leaks_nothing),
		cmocka_unit_test(test_bounds_edges),
	};
	struct CMUnitTest	*bad_tests;
	char			*bad_dir, **bad;
	size_t			 nbad;
	int			 failed;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: test_profile CONFDIR [EXAMPLE]\n");
		return 2;
	}
	confdir = argv[1];
	if (argc == 3)
		example = strdup(argv[2]);
	else
		example = path_join(confdir, "../../conf/loadd.conf");

	/* One test per bad profile, named after its file. */
	bad_dir = path_join(confdir, "bad");
	bad = list_confs(bad_dir, &nbad);
	if (nbad == 0) {
		fprintf(stderr, "test_profile: no bad profiles in %s\n",
		    bad_dir);
		return 1;
	}
	bad_tests = calloc(nbad, sizeof(*bad_tests));
	if (bad_tests == NULL)
		abort();
	for (size_t i = 0; i < nbad; i++) {
		bad_tests[i].name = strrchr(bad[i], '/') + 1;
		bad_tests[i].test_func = test_bad_file;
		bad_tests[i].initial_state = bad[i];
	}

	failed = cmocka_run_group_tests_name("profile", tests, NULL, NULL);
	failed += _cmocka_run_group_tests("bad profiles", bad_tests, nbad,
	    NULL, NULL);

	for (size_t i = 0; i < nbad; i++)
		free(bad[i]);
	free(bad);
	free(bad_tests);
	free(bad_dir);
	free(example);
	return failed == 0 ? 0 : 1;
}
