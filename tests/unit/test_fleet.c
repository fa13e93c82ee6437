/* SPDX-License-Identifier: ISC */
/*
 * test_fleet.c -- unit tests of ctl/fleet.c: the fleet file, shares, the
 * ssh command line and histogram merging.
 *
 * usage: test_fleet FLEETDIR
 *
 * FLEETDIR is tests/fleet.  Every FLEETDIR/bad/NAME.conf is a test of its
 * own: it must fail to load, and its "# expect: LINE: TEXT" comment lines
 * name the errors reported, exactly as many, each as "FILE:LINE: ...TEXT..."
 * (LINE 0 means "FILE: ...TEXT...", no line).  The good files in
 * FLEETDIR/good are checked value by value.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "common/cmd.h"
#include "common/util.h"
#include "ctl/fleet.h"
#include "measure/hdrlog.h"
#include "measure/hist.h"

#define US	1000ull
#define MS	1000000ull

static const char	*fleetdir;

static char *
path_join(const char *dir, const char *name)
{
	char	*p;

	if (asprintf(&p, "%s/%s", dir, name) == -1)
		abort();
	return p;
}

static const char *
tmp_dir(void)
{
	const char	*t = getenv("TMPDIR");

	return t != NULL && *t != '\0' ? t : "/tmp";
}

/* A new file under the temporary directory holding len bytes of text. */
static char *
write_tmp(const char *text, size_t len)
{
	char	*path = path_join(tmp_dir(), "test_fleet.XXXXXX.conf");
	int	 fd;

	fd = mkstemps(path, 5);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

static void
load_good_path(const char *path, struct fleet *f)
{
	char	 why[4096];

	if (fleet_load(path, f, why, sizeof(why)) != 0)
		fail_msg("%s: refused:\n%s", path, why);
}

/* Load text that must fail; why gets the errors. */
static void
load_bad_text(const char *text, size_t len, char **pathp, char *why,
    size_t whylen)
{
	struct fleet	 f;
	char		*path = write_tmp(text, len);

	assert_int_equal(fleet_load(path, &f, why, whylen), -1);
	assert_null(f.hosts);
	assert_int_equal(f.nhosts, 0);
	assert_null(f.path);
	fleet_free(&f);		/* harmless on an empty fleet */
	unlink(path);
	*pathp = path;
}

/* ---------------------------------------------------------- bad files */

struct expect {
	int	 line;
	char	 text[512];
};

/* Read the "# expect: LINE: TEXT" lines at the head of a bad file. */
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

/* Split why into its lines (modifies it); returns how many. */
static size_t
split_lines(char *why, char **lines, size_t max)
{
	size_t	 n = 0;

	for (char *p = why, *nl; *p != '\0' && n < max; p = nl + 1) {
		lines[n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
	}
	return n;
}

static void
test_bad_file(void **state)
{
	const char	*path = *state;
	struct expect	 exp[32];
	struct fleet	 f;
	char		 why[16384], copy[16384], *lines[64];
	size_t		 nexp, nl, plen = strlen(path);

	nexp = read_expects(path, exp, 32);
	if (nexp == 0)
		fail_msg("%s: no \"# expect: LINE: TEXT\" line", path);
	if (fleet_load(path, &f, why, sizeof(why)) == 0) {
		fleet_free(&f);
		fail_msg("%s: loaded, but it is a bad fleet file", path);
	}
	assert_null(f.hosts);
	snprintf(copy, sizeof(copy), "%s", why);
	nl = split_lines(copy, lines, 64);

	/* Every error is one line that says where it is. */
	for (size_t i = 0; i < nl; i++) {
		if (strncmp(lines[i], path, plen) != 0 ||
		    lines[i][plen] != ':')
			fail_msg("error without \"%s:\" in front: %s\nall:\n%s",
			    path, lines[i], why);
	}
	for (size_t e = 0; e < nexp; e++) {
		char	 head[64];
		bool	 found = false;

		if (exp[e].line == 0)
			snprintf(head, sizeof(head), ": ");
		else
			snprintf(head, sizeof(head), ":%d: ", exp[e].line);
		for (size_t i = 0; i < nl && !found; i++) {
			const char	*m = lines[i] + plen;

			found = strncmp(m, head, strlen(head)) == 0 &&
			    strstr(m + strlen(head), exp[e].text) != NULL;
		}
		if (!found)
			fail_msg("%s: no error \"%s%s\" among:\n%s", path, head,
			    exp[e].text, why);
	}
	if (nl != nexp)
		fail_msg("%s: %zu errors, %zu expected:\n%s", path, nl, nexp,
		    why);
}

/* ------------------------------------------------ files made by tests */

static void
test_missing_file(void **state)
{
	struct fleet	 f;
	char		 why[512], *path;

	(void)state;
	path = path_join(tmp_dir(), "test_fleet.no-such-file.conf");
	assert_int_equal(fleet_load(path, &f, why, sizeof(why)), -1);
	assert_true(strncmp(why, path, strlen(path)) == 0);
	assert_string_equal(why + strlen(path), ": No such file or directory");
	assert_null(f.hosts);
	free(path);
}

static void
test_directory(void **state)
{
	struct fleet	 f;
	char		 why[512], want[512];

	(void)state;
	assert_int_equal(fleet_load(fleetdir, &f, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "%s: Is a directory", fleetdir);
	assert_string_equal(why, want);
}

/* A FIFO is refused at once, not waited on for a writer. */
static void
test_fifo(void **state)
{
	struct fleet	 f;
	char		 why[512], want[600], *path;

	(void)state;
	path = path_join(tmp_dir(), "test_fleet.XXXXXX");
	assert_non_null(mkdtemp(path));
	path = realloc(path, strlen(path) + 8);
	assert_non_null(path);
	strcat(path, "/fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(fleet_load(path, &f, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(why, want);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(path);
}

/* Unreadable: a file its owner may not read (root reads it anyway). */
static void
test_unreadable(void **state)
{
	struct fleet	 f;
	char		 why[512], want[600], *path;
	const char	*text = "hosts = ( { name = \"a\"; } );\n";
	int		 rc;

	(void)state;
	path = write_tmp(text, strlen(text));
	assert_int_equal(chmod(path, 0), 0);
	rc = fleet_load(path, &f, why, sizeof(why));
	if (geteuid() == 0) {
		/* CAP_DAC_OVERRIDE: only check it reads as it should. */
		assert_int_equal(rc, 0);
		fleet_free(&f);
	} else {
		assert_int_equal(rc, -1);
		snprintf(want, sizeof(want), "%s: Permission denied", path);
		assert_string_equal(why, want);
	}
	unlink(path);
	free(path);
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "hosts = (\n { name = \"a\"; }\0 );\n";
	char		 why[512], *path;

	(void)state;
	load_bad_text(text, sizeof(text) - 1, &path, why, sizeof(why));
	assert_true(strncmp(why, path, strlen(path)) == 0);
	assert_string_equal(why + strlen(path), ":2: a NUL byte: this is not "
	    "a text file");
	free(path);
}

static void
test_too_large(void **state)
{
	size_t		 len = 1024 * 1024 + 1;
	char		*text = malloc(len), why[512], *path;

	(void)state;
	assert_non_null(text);
	memset(text, '\n', len);
	memcpy(text, "hosts = ( { name = \"a\"; } );", 28);
	load_bad_text(text, len, &path, why, sizeof(why));
	assert_non_null(strstr(why, ": a fleet file is at most 1048576 bytes"));
	free(path);

	/* One byte less is read (and valid). */
	{
		struct fleet	 f;

		path = write_tmp(text, len - 1);
		load_good_path(path, &f);
		assert_int_equal(f.nhosts, 1);
		fleet_free(&f);
		unlink(path);
		free(path);
	}
	free(text);
}

/* A value with a newline in it shows escaped: each error is one line. */
static void
test_error_escaped(void **state)
{
	const char	*text = "hosts = ( { name = \"a\\nb\\\\\"; } );\n";
	char		 why[512], *path;

	(void)state;
	load_bad_text(text, strlen(text), &path, why, sizeof(why));
	assert_null(strchr(why, '\n'));
	assert_non_null(strstr(why, ":1: bad host name \"a\\x0ab\\\\\""));
	free(path);
}

/* A small why is cut, and still a string. */
static void
test_why_cut(void **state)
{
	char		 why[20], *file;
	struct fleet	 f;

	(void)state;
	file = path_join(fleetdir, "bad/several-errors.conf");
	memset(why, 'x', sizeof(why));
	assert_int_equal(fleet_load(file, &f, why, sizeof(why)), -1);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_true(strncmp(why, file, sizeof(why) - 1) == 0);
	free(file);
}

/* ---------------------------------------------------------- good files */

static void
test_example(void **state)
{
	char			*path;
	struct fleet		 f;
	const struct fleet_host	*a, *here;

	(void)state;
	path = path_join(fleetdir, "good/example.conf");
	load_good_path(path, &f);
	assert_string_equal(f.path, path);
	assert_string_equal(f.ssh, "ssh");
	assert_int_equal(f.nssh_options, 2);
	assert_string_equal(f.ssh_options[0], "-F");
	assert_string_equal(f.ssh_options[1], "/path/ssh_config");
	assert_true(f.connect_timeout_s == 5);
	assert_true(f.reply_timeout_s == 10);
	assert_true(f.lease_s == 60);
	assert_int_equal(f.on_loss, FLEET_DEGRADE);
	assert_string_equal(f.control_path, "/tmp/loadd-fleet-%C");
	assert_true(f.control_persist_s == 60);
	assert_int_equal(f.nhosts, 2);

	a = &f.hosts[0];
	assert_string_equal(a->name, "a");
	assert_string_equal(a->dest, "root@198.18.0.2");
	assert_int_equal(a->port, 22);
	assert_string_equal(a->identity, "/path/key");
	assert_int_equal(a->noptions, 2);
	assert_string_equal(a->options[0], "-o");
	assert_string_equal(a->options[1], "ServerAliveInterval=5");
	assert_string_equal(a->socket, "/run/loadd/loadd.sock");
	assert_true(a->weight == 1.0);
	assert_int_equal(a->cap, 19000);
	assert_int_equal(a->line, 13);

	here = &f.hosts[1];
	assert_string_equal(here->name, "here");
	assert_null(here->dest);
	assert_int_equal(here->port, 0);
	assert_null(here->identity);
	assert_int_equal(here->noptions, 0);
	assert_string_equal(here->socket, "/tmp/x/loadd.sock");
	assert_true(here->weight == 1.0);
	assert_int_equal(here->cap, 0);
	assert_int_equal(here->line, 18);
	fleet_free(&f);
	assert_null(f.hosts);
	free(path);
}

static void
test_minimal_defaults(void **state)
{
	char		*path = path_join(fleetdir, "good/minimal.conf");
	struct fleet	 f;

	(void)state;
	load_good_path(path, &f);
	assert_string_equal(f.ssh, "ssh");
	assert_int_equal(f.nssh_options, 0);
	assert_true(f.connect_timeout_s == 5);
	assert_true(f.reply_timeout_s == 10);
	assert_true(f.lease_s == 60);
	assert_int_equal(f.on_loss, FLEET_DEGRADE);
	assert_string_equal(f.control_path, FLEET_CONTROL_PATH_DEFAULT);
	assert_true(f.control_persist_s == 60);
	assert_int_equal(f.nhosts, 1);
	assert_string_equal(f.hosts[0].name, "local");
	assert_null(f.hosts[0].dest);
	assert_string_equal(f.hosts[0].socket, LOADD_SOCKET_DEFAULT);
	assert_true(f.hosts[0].weight == 1);
	assert_int_equal(f.hosts[0].cap, 0);
	assert_int_equal(f.hosts[0].line, 2);
	fleet_free(&f);
	free(path);
}

static void
test_forms(void **state)
{
	char		*path = path_join(fleetdir, "good/forms.conf");
	struct fleet	 f;

	(void)state;
	load_good_path(path, &f);
	assert_string_equal(f.ssh, "/usr/bin/ssh");
	assert_true(f.connect_timeout_s == 2.5);
	assert_true(fabs(f.reply_timeout_s - 1.5) < 1e-12);
	assert_true(f.lease_s == 0);
	assert_int_equal(f.on_loss, FLEET_REBALANCE);
	assert_null(f.control_path);
	assert_true(f.control_persist_s == 120);
	assert_int_equal(f.nhosts, 3);
	assert_string_equal(f.hosts[0].name, "web-1.example_A");
	assert_string_equal(f.hosts[0].dest, "ssh://u@h:2222");
	assert_true(f.hosts[0].weight == 3);
	assert_int_equal(f.hosts[0].cap, 1000);
	assert_true(f.hosts[1].weight == 0.5);
	assert_int_equal(f.hosts[1].noptions, 1);
	assert_string_equal(f.hosts[1].options[0], "-4");
	assert_string_equal(f.hosts[2].socket, "/run/loadd/two.sock");
	fleet_free(&f);
	free(path);
}

/* The edges that are taken: a 63-byte name, port 1 and 65535, cap 1. */
static void
test_edges(void **state)
{
	char		 text[512], name[64], *path;
	struct fleet	 f;

	(void)state;
	memset(name, 'n', 63);
	name[63] = '\0';
	snprintf(text, sizeof(text), "fleet = { lease = 1; connect_timeout = "
	    "0.001; reply_timeout = \"365d\"; control_persist = \"1ms\"; };\n"
	    "hosts = ( { name = \"%s\"; ssh = \"h\"; port = 1; cap = 1; "
	    "weight = 1e-300; },\n { name = \"b\"; ssh = \"h\"; port = 65535; "
	    "cap = 10000000; weight = 1e6; } );\n", name);
	path = write_tmp(text, strlen(text));
	load_good_path(path, &f);
	assert_string_equal(f.hosts[0].name, name);
	assert_int_equal(f.hosts[0].port, 1);
	assert_int_equal(f.hosts[1].port, 65535);
	assert_int_equal(f.hosts[0].cap, 1);
	assert_int_equal(f.hosts[1].cap, 10000000);
	assert_true(f.lease_s == 1);
	assert_true(f.connect_timeout_s == 0.001);
	assert_true(f.reply_timeout_s == 365 * 86400.0);
	fleet_free(&f);
	unlink(path);
	free(path);
}

static void
test_on_loss_names(void **state)
{
	enum fleet_on_loss	 p;

	(void)state;
	for (int i = FLEET_DEGRADE; i <= FLEET_ABORT; i++) {
		assert_int_equal(fleet_on_loss_parse(fleet_on_loss_name(i),
		    &p), 0);
		assert_int_equal(p, i);
	}
	assert_string_equal(fleet_on_loss_name(FLEET_ABORT), "abort");
	assert_int_equal(fleet_on_loss_parse("Degrade", &p), -1);
	assert_int_equal(fleet_on_loss_parse("", &p), -1);
}

/* -------------------------------------------------------------- shares */

static void
assert_shares(uint64_t total, const double *w, const uint64_t *caps,
    size_t n, const uint64_t *want)
{
	uint64_t	 got[16];
	char		 why[256];

	assert_true(n <= 16);
	if (fleet_shares(total, w, caps, n, got, why, sizeof(why)) != 0)
		fail_msg("fleet_shares(%llu) refused: %s",
		    (unsigned long long)total, why);
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i])
			fail_msg("%llu: share %zu is %llu, want %llu",
			    (unsigned long long)total, i,
			    (unsigned long long)got[i],
			    (unsigned long long)want[i]);
	}
}

static void
test_shares_fixed(void **state)
{
	const double	 eq3[] = { 1, 1, 1 }, w121[] = { 1, 2, 1 };
	const double	 eq5[] = { 1, 1, 1, 1, 1 }, one[] = { 7.5 };
	const uint64_t	 none3[3] = { 0 }, c10[] = { 10, 0, 0 };
	const uint64_t	 c19k[] = { 19000, 19000, 19000, 19000, 19000 };
	const uint64_t	 none1[1] = { 0 }, cap1[] = { 5 };

	(void)state;
	assert_shares(1000, eq3, none3, 3,
	    (const uint64_t[]){ 333, 334, 333 });
	assert_shares(1000, w121, none3, 3,
	    (const uint64_t[]){ 250, 500, 250 });
	/* 2.5 and 7.5 round up: 3, 8 - 3, 10 - 8. */
	assert_shares(10, w121, none3, 3, (const uint64_t[]){ 3, 5, 2 });
	assert_shares(2, eq3, none3, 3, (const uint64_t[]){ 1, 0, 1 });
	assert_shares(0, eq3, none3, 3, (const uint64_t[]){ 0, 0, 0 });
	assert_shares(0, eq3, c10, 3, (const uint64_t[]){ 0, 0, 0 });
	assert_shares(12345, one, none1, 1, (const uint64_t[]){ 12345 });
	assert_shares(5, one, cap1, 1, (const uint64_t[]){ 5 });
	/* Water-filled: 33 is above 10; 90 left over two. */
	assert_shares(100, eq3, c10, 3, (const uint64_t[]){ 10, 45, 45 });
	/* Under the cap: no water-filling. */
	assert_shares(30, eq3, c10, 3, (const uint64_t[]){ 10, 10, 10 });
	assert_shares(95000, eq5, c19k, 5,
	    (const uint64_t[]){ 19000, 19000, 19000, 19000, 19000 });
	assert_shares(94000, eq5, c19k, 5,
	    (const uint64_t[]){ 18800, 18800, 18800, 18800, 18800 });
	/* Rounds of water-filling: 70/20/10 by weight, caps 5 and 30. */
	assert_shares(100, (const double[]){ 7, 2, 1 },
	    (const uint64_t[]){ 30, 5, 0 }, 3,
	    (const uint64_t[]){ 30, 5, 65 });
	/* No host at all takes nothing. */
	assert_shares(0, eq3, none3, 0, (const uint64_t[]){ 0 });
}

static void
test_shares_refused(void **state)
{
	const double	 eq5[] = { 1, 1, 1, 1, 1 };
	const uint64_t	 c[] = { 19000, 19000, 19000, 19000, 18000 };
	const uint64_t	 c19k[] = { 19000, 19000, 19000, 19000, 19000 };
	uint64_t	 got[5];
	char		 why[256];

	(void)state;
	assert_int_equal(fleet_shares(95000, eq5, c, 5, got, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "95000 is 1000 more than the hosts' caps "
	    "allow (94000)");
	assert_int_equal(fleet_shares(95001, eq5, c19k, 5, got, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "95001 is 1 more than the hosts' caps allow "
	    "(95000)");
	assert_int_equal(fleet_shares(1, eq5, c, 0, got, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "no host to take 1");
	assert_int_equal(fleet_shares(10, (const double[]){ 1, 0 },
	    (const uint64_t[]){ 0, 0 }, 2, got, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "weight of host 2 is 0"));
	assert_int_equal(fleet_shares(10, (const double[]){ NAN, 1 },
	    (const uint64_t[]){ 0, 0 }, 2, got, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "weight of host 1"));
	assert_int_equal(fleet_shares(10, (const double[]){ INFINITY, 1 },
	    (const uint64_t[]){ 0, 0 }, 2, got, why, sizeof(why)), -1);
	assert_int_equal(fleet_shares((1ull << 53) + 1, eq5, c, 1, got, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "more than can be shared exactly"));
	/* Caps that add up past 2^64 limit nothing. */
	assert_int_equal(fleet_shares(1ull << 53, (const double[]){ 1, 1 },
	    (const uint64_t[]){ UINT64_MAX, UINT64_MAX }, 2, got, why,
	    sizeof(why)), 0);
	assert_true(got[0] + got[1] == 1ull << 53);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Random weights, caps and totals (a fixed seed): the shares add up to
 * the total, none is above its cap, the hosts below their caps share in
 * proportion to their weights (within the rounding), and a host held at
 * its cap would have had at least that much.
 */
static void
test_shares_property(void **state)
{
	uint64_t	 seed = 0x9e3779b97f4a7c15ull, shares[12], caps[12];
	double		 w[12];
	char		 why[256];
	int		 refused = 0, filled = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t		 n = 1 + rnd(&seed) % 12;
		uint64_t	 capsum = 0, total, sum = 0;
		double		 wfree = 0, sfree = 0, level;
		bool		 all_capped = true;
		int		 rc;

		for (size_t i = 0; i < n; i++) {
			w[i] = 0.01 + (double)(rnd(&seed) % 100000) / 1000.0;
			caps[i] = rnd(&seed) % 3 == 0 ? 0 :
			    1 + rnd(&seed) % 50000;
			if (caps[i] == 0)
				all_capped = false;
			capsum += caps[i];
		}
		total = rnd(&seed) % 4 == 0 ? rnd(&seed) % 100 :
		    rnd(&seed) % 200000;
		rc = fleet_shares(total, w, caps, n, shares, why, sizeof(why));
		if (all_capped && total > capsum) {
			char	 want[256];

			assert_int_equal(rc, -1);
			snprintf(want, sizeof(want), "%llu is %llu more than "
			    "the hosts' caps allow (%llu)",
			    (unsigned long long)total,
			    (unsigned long long)(total - capsum),
			    (unsigned long long)capsum);
			assert_string_equal(why, want);
			refused++;
			continue;
		}
		assert_int_equal(rc, 0);
		for (size_t i = 0; i < n; i++) {
			sum += shares[i];
			if (caps[i] != 0)
				assert_true(shares[i] <= caps[i]);
			if (caps[i] == 0 || shares[i] < caps[i]) {
				wfree += w[i];
				sfree += (double)shares[i];
			}
		}
		assert_true(sum == total);
		if (wfree == 0)
			continue;
		level = sfree / wfree;	/* shares per unit of weight */
		for (size_t i = 0; i < n; i++) {
			if (caps[i] == 0 || shares[i] < caps[i]) {
				if (fabs((double)shares[i] - level * w[i]) > 2)
					fail_msg("round %d: host %zu has %llu, "
					    "%.3f by weight", round, i,
					    (unsigned long long)shares[i],
					    level * w[i]);
			} else {
				filled++;
				if ((double)caps[i] > level * w[i] + 2)
					fail_msg("round %d: host %zu held at "
					    "its cap %llu, above %.3f by "
					    "weight", round, i,
					    (unsigned long long)caps[i],
					    level * w[i]);
			}
		}
	}
	/* The loop saw both the refusal and the water-filling. */
	assert_true(refused > 100);
	assert_true(filled > 1000);
}

/* ---------------------------------------------------------------- ssh */

static void
assert_argv(char **got, const char *const *want)
{
	size_t	 i;

	assert_non_null(got);
	for (i = 0; want[i] != NULL; i++) {
		if (got[i] == NULL)
			fail_msg("argv ends at %zu, want \"%s\"", i, want[i]);
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("argv[%zu] is \"%s\", want \"%s\"", i, got[i],
			    want[i]);
	}
	if (got[i] != NULL)
		fail_msg("argv[%zu] is \"%s\", want its end", i, got[i]);
}

static void
test_ssh_argv(void **state)
{
	char		*path = path_join(fleetdir, "good/example.conf");
	struct fleet	 f;
	char		**argv;

	(void)state;
	load_good_path(path, &f);
	argv = fleet_ssh_argv(&f, &f.hosts[0], "/usr/local/bin/loadctl");
	assert_argv(argv, (const char *const[]){ "ssh", "-T",
	    "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
	    "-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/loadd-fleet-%C",
	    "-o", "ControlPersist=60", "-p", "22", "-i", "/path/key",
	    "-o", "ServerAliveInterval=5", "-F", "/path/ssh_config",
	    "--", "root@198.18.0.2",
	    "/usr/local/bin/loadctl -s /run/loadd/loadd.sock proxy", NULL });
	fleet_argv_free(argv);
	/* A local host has no ssh. */
	assert_null(fleet_ssh_argv(&f, &f.hosts[1], NULL));
	fleet_argv_free(NULL);
	fleet_free(&f);
	free(path);

	/* No multiplexing, timeouts in whole seconds, a socket quoted. */
	path = path_join(fleetdir, "good/forms.conf");
	load_good_path(path, &f);
	free(f.hosts[1].socket);
	f.hosts[1].socket = strdup("/tmp/it's here/loadd.sock");
	argv = fleet_ssh_argv(&f, &f.hosts[1], NULL);
	assert_argv(argv, (const char *const[]){ "/usr/bin/ssh", "-T",
	    "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "-4",
	    "--", "h2", "loadctl -s '/tmp/it'\\''s here/loadd.sock' proxy",
	    NULL });
	fleet_argv_free(argv);
	f.connect_timeout_s = 0.001;
	f.control_path = strdup("~/.ssh/x-%C");
	f.control_persist_s = 0.5;	/* ControlPersist=0 would be forever */
	argv = fleet_ssh_argv(&f, &f.hosts[0], "loadctl");
	assert_argv(argv, (const char *const[]){ "/usr/bin/ssh", "-T",
	    "-o", "BatchMode=yes", "-o", "ConnectTimeout=1",
	    "-o", "ControlMaster=auto", "-o", "ControlPath=~/.ssh/x-%C",
	    "-o", "ControlPersist=1", "--", "ssh://u@h:2222",
	    "loadctl -s /run/loadd/loadd.sock proxy", NULL });
	fleet_argv_free(argv);
	fleet_free(&f);
	free(path);
}

static int
control_dir(const char *cp, const char *home, char *why, size_t whylen)
{
	struct fleet	 f;

	memset(&f, 0, sizeof(f));
	f.control_path = (char *)(uintptr_t)cp;
	return fleet_control_dir(&f, home, why, whylen);
}

static void
test_control_dir(void **state)
{
	char		*top = path_join(tmp_dir(), "test_fleet.XXXXXX");
	char		 why[1024], cp[512], want[1200], sub[600];
	struct stat	 st;

	(void)state;
	assert_non_null(mkdtemp(top));
	assert_int_equal(control_dir(NULL, NULL, why, sizeof(why)), 0);
	assert_int_equal(control_dir("cm-%C", NULL, why, sizeof(why)), 0);

	/* A directory that is there, or one with a token in it. */
	snprintf(cp, sizeof(cp), "%s/cm-%%C", top);
	assert_int_equal(control_dir(cp, NULL, why, sizeof(why)), 0);
	assert_int_equal(control_dir("/tmp/%u-none/cm-%C", NULL, why,
	    sizeof(why)), 0);
	assert_int_equal(control_dir("~nobody/cm-%C", top, why, sizeof(why)),
	    0);
	assert_int_equal(control_dir("~/cm-%C", top, why, sizeof(why)), 0);

	/* Missing, or a file: as ssh would fail, but said plainly. */
	snprintf(cp, sizeof(cp), "%s/missing/cm-%%C", top);
	assert_int_equal(control_dir(cp, NULL, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "control_path %s: %s/missing: No such "
	    "file or directory", cp, top);
	assert_string_equal(why, want);
	snprintf(sub, sizeof(sub), "%s/file", top);
	fclose(fopen(sub, "w"));
	snprintf(cp, sizeof(cp), "%s/file/cm-%%C", top);
	assert_int_equal(control_dir(cp, NULL, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "control_path %s: %s/file is not a "
	    "directory", cp, top);
	assert_string_equal(why, want);
	unlink(sub);

	/* ~/x/ is not made; ~/.ssh is, 0700, as ssh makes it. */
	assert_int_equal(control_dir("~/x/cm-%C", top, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "control_path ~/x/cm-%%C: %s/x: No such "
	    "file or directory", top);
	assert_string_equal(why, want);
	assert_int_equal(control_dir(FLEET_CONTROL_PATH_DEFAULT, top, why,
	    sizeof(why)), 0);
	snprintf(sub, sizeof(sub), "%s/.ssh", top);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(control_dir(FLEET_CONTROL_PATH_DEFAULT, top, why,
	    sizeof(why)), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(top), 0);
	free(top);
}

/* What sh makes of a quoted word is the word. */
static void
test_shell_quote(void **state)
{
	static const char *const words[] = {
		"plain/path.sock", "", "a b", "it's", "''", "$HOME", "`id`",
		"a\"b", "back\\slash", "new\nline", "*?[x]", "~user", "-x",
		"semi;colon|pipe&amp", "tab\there", "!bang",
	};

	(void)state;
	{
		char	*q = fleet_shell_quote("/run/loadd/loadd.sock");

		assert_string_equal(q, "/run/loadd/loadd.sock");
		free(q);
	}
	for (size_t i = 0; i < NELEM(words); i++) {
		char	*q = fleet_shell_quote(words[i]), *cmd, out[256];
		FILE	*fp;
		size_t	 n;

		if (asprintf(&cmd, "printf '%%s' %s", q) == -1)
			abort();
		fp = popen(cmd, "r");
		assert_non_null(fp);
		n = fread(out, 1, sizeof(out) - 1, fp);
		out[n] = '\0';
		assert_int_equal(pclose(fp), 0);
		if (strcmp(out, words[i]) != 0)
			fail_msg("sh read %s as \"%s\", not \"%s\"", q, out,
			    words[i]);
		free(cmd);
		free(q);
	}
}

/* ---------------------------------------------------------- histograms */

static struct hist *
hist_new(void)
{
	struct hist	*h = malloc(sizeof(*h));

	assert_non_null(h);
	hist_reset(h);
	return h;
}

static char *
encode(const struct hist *h)
{
	char	 why[256], *s = hdr_encode_base64(h, why, sizeof(why));

	if (s == NULL)
		fail_msg("hdr_encode_base64: %s", why);
	return s;
}

/*
 * Two hosts, one fast and one slow, and the union recorded directly: the
 * merge of their encodings has the union's count, its min and max to a
 * slot, its percentiles, and every count of the union's own encoding.
 */
static void
test_hist_merge(void **state)
{
	static const double	 pcts[] = { 50, 90, 99, 99.9 };
	struct hist		*a = hist_new(), *b = hist_new();
	struct hist		*all = hist_new(), *merged = hist_new();
	struct hist		*all_rt = hist_new();
	uint64_t		 seed = 42;
	char			*ea, *eb, *eall, why[256];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint64_t	 v = 100 * US + rnd(&seed) % (900 * US);

		hist_record(a, v);
		hist_record(all, v);
	}
	for (int i = 0; i < 5000; i++) {
		uint64_t	 v = 5 * MS + rnd(&seed) % (45 * MS);

		hist_record(b, v);
		hist_record(all, v);
	}
	/* An outlier as the union's max, above every percentile's slot. */
	hist_record(b, 3000 * MS);
	hist_record(all, 3000 * MS);

	ea = encode(a);
	eb = encode(b);
	assert_int_equal(fleet_hist_add(merged, ea, why, sizeof(why)), 0);
	assert_int_equal(fleet_hist_add(merged, eb, why, sizeof(why)), 0);

	assert_true(merged->total == all->total);
	assert_true(merged->total == 25001);
	assert_true(merged->min_ns == hist_lowest_equiv(hist_index(
	    all->min_ns)));
	assert_true(merged->max_ns == hist_highest_equiv(hist_index(
	    all->max_ns)));
	for (size_t i = 0; i < NELEM(pcts); i++) {
		uint64_t	 m = hist_percentile(merged, pcts[i]);
		uint64_t	 u = hist_percentile(all, pcts[i]);

		if (m != u)
			fail_msg("p%g: merged %llu, union %llu", pcts[i],
			    (unsigned long long)m, (unsigned long long)u);
	}
	/* Averaging the hosts' p99s would be far off the union's. */
	assert_true(hist_percentile(all, 99) > (hist_percentile(a, 99) +
	    hist_percentile(b, 99)) / 2 * 1.1 ||
	    hist_percentile(all, 99) < (hist_percentile(a, 99) +
	    hist_percentile(b, 99)) / 2 * 0.9);

	/* The union's own encoding, decoded: the same counts exactly. */
	eall = encode(all);
	assert_int_equal(hdr_decode_base64(eall, all_rt, why, sizeof(why)), 0);
	assert_memory_equal(merged->counts, all_rt->counts,
	    sizeof(merged->counts));
	assert_true(merged->min_ns == all_rt->min_ns);
	assert_true(merged->max_ns == all_rt->max_ns);
	assert_true(hist_percentile(merged, 99.99) ==
	    hist_percentile(all_rt, 99.99));

	free(ea);
	free(eb);
	free(eall);
	free(a);
	free(b);
	free(all);
	free(all_rt);
	free(merged);
}

/* An empty histogram adds nothing; adding to a non-empty one adds up. */
static void
test_hist_add_empty(void **state)
{
	struct hist	*e = hist_new(), *dst = hist_new();
	char		*s, why[256];

	(void)state;
	s = encode(e);
	assert_int_equal(fleet_hist_add(dst, s, why, sizeof(why)), 0);
	assert_true(dst->total == 0);
	assert_true(dst->min_ns == UINT64_MAX);
	hist_record_n(e, 2 * MS, 7);
	free(s);
	s = encode(e);
	assert_int_equal(fleet_hist_add(dst, s, why, sizeof(why)), 0);
	assert_int_equal(fleet_hist_add(dst, s, why, sizeof(why)), 0);
	assert_true(dst->total == 14);
	assert_true(dst->counts[hist_index(2 * MS)] == 14);
	free(s);
	free(e);
	free(dst);
}

/* The test's own base64 encoder, for crafted histograms. */
static char *
b64(const uint8_t *in, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char	*out = malloc(4 * (n / 3 + 1) + 1), *o = out;

	assert_non_null(out);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t	 v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? a[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/*
 * A V2 compressed histogram whose header says 2 significant digits: the
 * 40-byte header (cookie, payload length, offset, digits, lowest,
 * highest, ratio) and one count, deflated behind the compressed cookie.
 */
static char *
craft_digits(uint32_t digits)
{
	uint8_t		 raw[41], z[128 + 8];
	uLongf		 zlen = sizeof(z) - 8;
	const uint64_t	 fields[] = { HIST_LOWEST_NS, HIST_HIGHEST_NS,
			     0x3ff0000000000000ull };
	const uint32_t	 head[] = { 0x1c849303, 1, 0, digits };

	for (size_t i = 0; i < 4; i++)
		for (int k = 0; k < 4; k++)
			raw[4 * i + (size_t)k] = (uint8_t)(head[i] >>
			    (24 - 8 * k));
	for (size_t i = 0; i < 3; i++)
		for (int k = 0; k < 8; k++)
			raw[16 + 8 * i + (size_t)k] = (uint8_t)(fields[i] >>
			    (56 - 8 * k));
	raw[40] = 2;	/* ZigZag 1: one count at index 0 */
	assert_int_equal(compress(z + 8, &zlen, raw, sizeof(raw)), Z_OK);
	z[0] = 0x1c; z[1] = 0x84; z[2] = 0x93; z[3] = 0x14;
	z[4] = (uint8_t)(zlen >> 24); z[5] = (uint8_t)(zlen >> 16);
	z[6] = (uint8_t)(zlen >> 8); z[7] = (uint8_t)zlen;
	return b64(z, zlen + 8);
}

static void
test_hist_refused(void **state)
{
	struct hist	*dst = hist_new(), *h = hist_new(), *before;
	char		 why[256], *good, *bad;

	(void)state;
	hist_record_n(dst, 3 * MS, 5);
	before = hist_new();
	memcpy(before, dst, sizeof(*dst));

	/* The crafted encoding is good with 3 digits... */
	good = craft_digits(HIST_SIGDIGITS);
	assert_int_equal(fleet_hist_add(h, good, why, sizeof(why)), 0);
	assert_true(h->total == 1);
	/* ...and refused with 2, dst unchanged. */
	bad = craft_digits(2);
	assert_int_equal(fleet_hist_add(dst, bad, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "bad histogram: "));
	assert_non_null(strstr(why, "2 significant digits, not 3"));
	assert_memory_equal(dst, before, sizeof(*dst));

	/* Not base64, and base64 of no histogram. */
	assert_int_equal(fleet_hist_add(dst, "HISTF!!not base64", why,
	    sizeof(why)), -1);
	assert_true(strncmp(why, "bad histogram: ", 15) == 0);
	assert_true(strlen(why) > 15);
	assert_int_equal(fleet_hist_add(dst, "aGVsbG8gd29ybGQ=", why,
	    sizeof(why)), -1);
	assert_true(strncmp(why, "bad histogram: ", 15) == 0);
	/* A good encoding cut short. */
	good[strlen(good) - 8] = '\0';
	assert_int_equal(fleet_hist_add(dst, good, why, sizeof(why)), -1);
	assert_true(strncmp(why, "bad histogram: ", 15) == 0);
	assert_int_equal(fleet_hist_add(dst, NULL, why, sizeof(why)), -1);
	assert_string_equal(why, "no histogram");
	assert_memory_equal(dst, before, sizeof(*dst));
	free(good);
	free(bad);
	free(before);
	free(h);
	free(dst);
}

static void
test_layout_check(void **state)
{
	char	 why[512];

	(void)state;
	assert_int_equal(fleet_layout_check("hdr-v2-base64", HIST_LOWEST_NS,
	    HIST_HIGHEST_NS, HIST_SIGDIGITS, why, sizeof(why)), 0);
	/* The layout of the design's example reply. */
	assert_int_equal(fleet_layout_check("hdr-v2-base64", 1000,
	    7200000000000ull, 3, why, sizeof(why)), 0);

	assert_int_equal(fleet_layout_check("hdr-v3", 1000, 7200000000000ull,
	    3, why, sizeof(why)), -1);
	assert_string_equal(why, "histogram encoding \"hdr-v3\", not "
	    "\"hdr-v2-base64\"");
	assert_int_equal(fleet_layout_check(NULL, 1000, 7200000000000ull, 3,
	    why, sizeof(why)), -1);
	assert_int_equal(fleet_layout_check("hdr-v2-base64", 1000,
	    3600000000000ull, 3, why, sizeof(why)), -1);
	assert_string_equal(why, "histogram layout lowest_ns 1000, highest_ns "
	    "3600000000000, sigdigits 3 differs from this loadctl's (1000, "
	    "7200000000000, 3): the buckets would not add up");
	assert_int_equal(fleet_layout_check("hdr-v2-base64", 1,
	    7200000000000ull, 3, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "lowest_ns 1,"));
	assert_int_equal(fleet_layout_check("hdr-v2-base64", 1000,
	    7200000000000ull, 2, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "sigdigits 2 differs"));
}

/* ------------------------------------------------------------------ */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **
list_confs(const char *dir, size_t *np)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	char		**v = NULL;
	size_t		 n = 0;

	if (d == NULL) {
		fprintf(stderr, "test_fleet: %s: cannot open\n", dir);
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
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_str);
	*np = n;
	return v;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_error_escaped),
		cmocka_unit_test(test_why_cut),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_on_loss_names),
		cmocka_unit_test(test_shares_fixed),
		cmocka_unit_test(test_shares_refused),
		cmocka_unit_test(test_shares_property),
		cmocka_unit_test(test_ssh_argv),
		cmocka_unit_test(test_control_dir),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_hist_merge),
		cmocka_unit_test(test_hist_add_empty),
		cmocka_unit_test(test_hist_refused),
		cmocka_unit_test(test_layout_check),
	};
	struct CMUnitTest	*bad_tests;
	char			*bad_dir, **bad;
	size_t			 nbad;
	int			 failed;

	if (argc != 2) {
		fprintf(stderr, "usage: test_fleet FLEETDIR\n");
		return 2;
	}
	fleetdir = argv[1];

	/* One test per bad fleet file, named after it. */
	bad_dir = path_join(fleetdir, "bad");
	bad = list_confs(bad_dir, &nbad);
	if (nbad == 0) {
		fprintf(stderr, "test_fleet: no bad fleet files in %s\n",
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

	failed = cmocka_run_group_tests_name("fleet", tests, NULL, NULL);
	failed += _cmocka_run_group_tests("bad fleet files", bad_tests, nbad,
	    NULL, NULL);

	for (size_t i = 0; i < nbad; i++)
		free(bad[i]);
	free(bad);
	free(bad_tests);
	free(bad_dir);
	return failed == 0 ? 0 : 1;
}
