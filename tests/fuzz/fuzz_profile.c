/* SPDX-License-Identifier: ISC */
/*
 * fuzz_profile.c -- the profile loader (model/profile.c, with libconfig).
 *
 * profile_load() takes a path, so each input is written to p.conf in a
 * private directory made at start (mkdtemp under $TMPDIR), which holds
 * what @include and payload_file may name besides:
 *
 *   inc.conf	a fragment of a load ("rate = 10; connections = 2;")
 *   empty	an empty file
 *   msg.bin	a payload of 5 bytes
 *   dir/	an empty directory
 *
 * An @include must not reach outside that directory nor block on
 * something else (a FIFO, a device, a terminal), so before the input is
 * written every `@include "PATH"` in it (wherever it stands: a superset
 * of what libconfig's scanner takes as one) has each '/' of PATH turned
 * into '_', and a PATH that is ".." into "__": a relative PATH is looked
 * up in the directory of the profile, so it can only name an entry of it.
 * What profile.c does with an include (a directory, "", a file that
 * includes itself) is left to it: a hang or an exit is a finding.
 *
 * Targets are resolved by getaddrinfo(): the build wraps it
 * (-Wl,--wrap=getaddrinfo) so that a fuzzed host name is never looked up
 * in DNS; only numeric addresses resolve.  Other paths a profile names
 * (payload_file, tls_ca, unix: targets) are opened read-only and
 * non-blocking by profile.c itself, or only stat()ed.
 *
 * Checked on success: at least one load, each with a valid name found
 * by profile_find_load(), a framing frame_init() accepts, and a deep copy
 * that load_conf_equal() finds equal.  On failure: at least one message.
 * Everything is freed (LeakSanitizer; libconfig's own leaks aside).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "model/framing.h"
#include "model/profile.h"

#include "fuzz.h"

const char *__lsan_default_suppressions(void);
int	__real_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
int	__wrap_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);

static char	 dir[4096];
static char	 conf[4096 + 16];

/*
 * libconfig 1.5 leaks the strings of a text with a syntax error in it
 * (bison discards their tokens without a destructor) wherever it parses
 * one: not ours to find.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* Only numeric hosts: no DNS from a fuzzer. */
int
__wrap_getaddrinfo(const char *host, const char *serv,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo	 h;

	if (hints != NULL)
		h = *hints;
	else {
		memset(&h, 0, sizeof(h));
		h.ai_family = AF_UNSPEC;
	}
	h.ai_flags |= AI_NUMERICHOST;
	return __real_getaddrinfo(host, serv, &h, res);
}

static void
put(const char *name, const char *text)
{
	char	 path[sizeof(dir) + 64];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	FUZZ_CHECK(fp != NULL, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	FUZZ_CHECK(fclose(fp) == 0, "%s: %s", path, strerror(errno));
}

static void
cleanup(void)
{
	static const char *const names[] = { "p.conf", "inc.conf", "empty",
	    "msg.bin" };
	char	 path[sizeof(dir) + 64];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/dir", dir);
	rmdir(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR");
	char		 path[sizeof(dir) + 64];

	(void)argc;
	(void)argv;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/loadd-fuzz-profile.XXXXXX", tmp);
	FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir,
	    strerror(errno));
	snprintf(conf, sizeof(conf), "%s/p.conf", dir);
	put("inc.conf", "rate = 10;\nconnections = 2;\n");
	put("empty", "");
	put("msg.bin", "hello");
	snprintf(path, sizeof(path), "%s/dir", dir);
	FUZZ_CHECK(mkdir(path, 0700) == 0, "%s: %s", path, strerror(errno));
	atexit(cleanup);
	return 0;
}

/*
 * Confine every @include "PATH" of buf to the directory.  The scanner
 * takes \\ and \" as escapes in PATH and drops any other backslash, so
 * PATH ends at the first '"' not escaped.
 */
static void
confine_includes(uint8_t *buf, size_t len)
{
	static const char	 kw[] = "@include";
	size_t			 i = 0, j, k, start, n;
	char			 path[3];

	while (i + sizeof(kw) - 1 <= len) {
		if (memcmp(buf + i, kw, sizeof(kw) - 1) != 0) {
			i++;
			continue;
		}
		j = i + sizeof(kw) - 1;
		while (j < len && (buf[j] == ' ' || buf[j] == '\t'))
			j++;
		if (j == len || buf[j] != '"') {
			i = j;
			continue;
		}
		start = ++j;
		n = 0;
		while (j < len && buf[j] != '"') {
			if (buf[j] == '\\') {
				if (j + 1 < len && (buf[j + 1] == '\\' ||
				    buf[j + 1] == '"')) {
					if (n < sizeof(path))
						path[n] = (char)buf[j + 1];
					n++;
					j += 2;
				} else
					j++;
				continue;
			}
			if (buf[j] == '/')
				buf[j] = '_';
			if (n < sizeof(path))
				path[n] = (char)buf[j];
			n++;
			j++;
		}
		if (n == 2 && path[0] == '.' && path[1] == '.') {
			for (k = start; k < j; k++)
				if (buf[k] == '.')
					buf[k] = '_';
		}
		i = j;
	}
}

static void
write_conf(const uint8_t *data, size_t size)
{
	uint8_t	*buf;
	size_t	 off;
	ssize_t	 w;
	int	 fd;

	buf = malloc(size + 1);
	FUZZ_CHECK(buf != NULL, "malloc");
	memcpy(buf, data, size);
	confine_includes(buf, size);
	fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd != -1, "%s: %s", conf, strerror(errno));
	for (off = 0; off < size; off += (size_t)w) {
		w = write(fd, buf + off, size - off);
		FUZZ_CHECK(w > 0, "%s: %s", conf, strerror(errno));
	}
	FUZZ_CHECK(close(fd) == 0, "%s: %s", conf, strerror(errno));
	free(buf);
}

static void
check_profile(const struct profile *prof)
{
	FUZZ_CHECK(prof->nloads >= 1, "%d loads", prof->nloads);
	for (int i = 0; i < prof->nloads; i++) {
		const struct load_conf	*lc = &prof->loads[i];
		struct load_conf	*dup;
		struct framing		 f;
		const char		*why = NULL;

		FUZZ_CHECK(load_name_valid(lc->name), "load name \"%s\"",
		    lc->name);
		FUZZ_CHECK(profile_find_load(prof, lc->name) == lc,
		    "load \"%s\" not found", lc->name);
		if (load_conf_framing(lc, &f))
			FUZZ_CHECK(frame_init(&f, &why) == 0, "load \"%s\": "
			    "frame_init: %s", lc->name, why);
		dup = load_conf_dup(lc);
		FUZZ_CHECK(load_conf_equal(dup, lc), "load \"%s\": a copy "
		    "differs", lc->name);
		load_conf_free(dup);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errlist	 errs;
	struct profile	*prof;

	write_conf(data, size);
	memset(&errs, 0, sizeof(errs));
	prof = profile_load(conf, &errs);
	if (prof != NULL) {
		check_profile(prof);
		profile_free(prof);
	} else {
		FUZZ_CHECK(errs.n > 0, "refused without a message");
		for (size_t i = 0; i < errs.n; i++)
			FUZZ_CHECK(errs.msgs[i][0] != '\0', "empty message");
	}
	errlist_free(&errs);
	return 0;
}
