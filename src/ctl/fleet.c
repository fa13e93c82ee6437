/* SPDX-License-Identifier: ISC */
/*
 * fleet.c -- the fleet file, shares, ssh command lines and histogram
 * merging under `loadctl -F` (see fleet.h).  The reader keeps the
 * profile reader's conventions (model/profile.c): every error is found
 * and given as "FILE:LINE: message" in line order, an unknown key gets a
 * "did you mean", durations are seconds or strings such as "250ms" with
 * the same bounds, and the file is read as a regular file only.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cmd.h"
#include "common/log.h"
#include "common/util.h"
#include "ctl/fleet.h"
#include "measure/hdrlog.h"
#include "measure/hist.h"

#define FLEET_TEXT_MAX		(1024 * 1024)	/* bytes of a fleet file */
/* As profile durations (model/profile.c): from 1 ms to a year. */
#define FLEET_TIME_MIN		0.001
#define FLEET_DURATION_MAX	(365.0 * 86400)
#define FLEET_WEIGHT_MAX	1e6
#define FLEET_ECHO_MAX		64	/* bytes of a value an error shows */
/* Shares are worked out in doubles, exact up to 2^53. */
#define FLEET_TOTAL_MAX		(1ull << 53)

struct fleet_error {
	unsigned	 line;		/* 0: the file as a whole */
	size_t		 seq;		/* order found, among equal lines */
	char		*text;		/* "FILE:LINE: message" */
};

struct fleet_ctx {
	char			*file;	/* the path, escaped for errors */
	const char		*what;	/* "fleet", "host \"a\"", or NULL */
	struct fleet_error	*errv;
	size_t			 errn;
	char			*echo[8];	/* fleet_q's strings */
	size_t			 echon;
};

/* ------------------------------------------------------------ errors */

/*
 * s with every byte that is not printable ASCII as \xNN (and \ as \\),
 * so that an error stays one line; cut to max bytes with "...".
 */
static char *
fleet_escape(const char *s, size_t max)
{
	size_t	 n = strlen(s), o = 0;
	char	*out = xmalloc(4 * n + 4);

	for (size_t i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (i >= max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* A value for an error message; lives until 8 more calls or the end. */
static const char *
fleet_q(struct fleet_ctx *ctx, const char *s)
{
	char	**slot = &ctx->echo[ctx->echon++ % NELEM(ctx->echo)];

	free(*slot);
	*slot = fleet_escape(s, FLEET_ECHO_MAX);
	return *slot;
}

/* Note "FILE:LINE: message" (LINE 0: "FILE: message"). */
static void
fleet_note(struct fleet_ctx *ctx, unsigned line, const char *msg)
{
	struct fleet_error	*e;

	ctx->errv = reallocarray(ctx->errv, ctx->errn + 1,
	    sizeof(*ctx->errv));
	if (ctx->errv == NULL)
		fatal("reallocarray");
	e = &ctx->errv[ctx->errn];
	e->line = line;
	e->seq = ctx->errn++;
	if (line != 0)
		e->text = xasprintf("%s:%u: %s", ctx->file, line, msg);
	else
		e->text = xasprintf("%s: %s", ctx->file, msg);
}

/* An error about setting s (NULL: the file), naming its scope. */
static void __attribute__((format(printf, 3, 4)))
fleet_err(struct fleet_ctx *ctx, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *full;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (ctx->what != NULL) {
		full = xasprintf("%s in %s", msg, ctx->what);
		free(msg);
		msg = full;
	}
	fleet_note(ctx, s != NULL ? (unsigned)config_setting_source_line(s) :
	    0, msg);
	free(msg);
}

static int
fleet_error_cmp(const void *va, const void *vb)
{
	const struct fleet_error	*a = va, *b = vb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The errors in line order, one per line, into why; frees them. */
static void
fleet_flush(struct fleet_ctx *ctx, char *why, size_t whylen)
{
	size_t	 off = 0;

	if (whylen > 0)
		why[0] = '\0';
	if (ctx->errn > 0)
		qsort(ctx->errv, ctx->errn, sizeof(*ctx->errv),
		    fleet_error_cmp);
	for (size_t i = 0; i < ctx->errn; i++) {
		if (off < whylen) {
			int	 r = snprintf(why + off, whylen - off, "%s%s",
				     i > 0 ? "\n" : "", ctx->errv[i].text);

			if (r > 0)
				off += (size_t)r;
		}
		free(ctx->errv[i].text);
	}
	free(ctx->errv);
	ctx->errv = NULL;
	ctx->errn = 0;
}

/* "did you mean": the key of names within 2 edits of name, if any. */
static const char *
fleet_nearest(const char *name, const char *const *names, size_t n)
{
	const char	*best = NULL;
	size_t		 bestd = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t	 d = edit_distance(name, names[i]);

		/* Fewer edits than the name has letters: "x" suggests none. */
		if (d <= 2 && d < strlen(name) && d < bestd) {
			best = names[i];
			bestd = d;
		}
	}
	return best;
}

static void
fleet_err_unknown(struct fleet_ctx *ctx, const config_setting_t *s,
    const char *const *names, size_t n)
{
	const char	*name = config_setting_name(s);
	const char	*best = fleet_nearest(name, names, n);

	if (best != NULL)
		fleet_err(ctx, s, "unknown key \"%s\" (did you mean \"%s\"?)",
		    fleet_q(ctx, name), best);
	else
		fleet_err(ctx, s, "unknown key \"%s\"", fleet_q(ctx, name));
}

/* ------------------------------------------------------------ values */

/* Any libconfig number as a double; -1 (after an error) if none. */
static int
fleet_number(struct fleet_ctx *ctx, const config_setting_t *s, double *out)
{
	const char	*name = config_setting_name(s);

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*out = config_setting_get_int(s);
		return 0;
	case CONFIG_TYPE_INT64:
		*out = (double)config_setting_get_int64(s);
		return 0;
	case CONFIG_TYPE_FLOAT:
		*out = config_setting_get_float(s);
		if (isfinite(*out))
			return 0;
		fleet_err(ctx, s, "%s must be a finite number (got %g)", name,
		    *out);
		return -1;
	default:
		fleet_err(ctx, s, "wrong type: %s must be a number", name);
		return -1;
	}
}

/* A whole number from min to max; -1 after an error. */
static int
fleet_whole(struct fleet_ctx *ctx, const config_setting_t *s, double min,
    double max, double *out)
{
	const char	*name = config_setting_name(s);

	if (fleet_number(ctx, s, out) == -1)
		return -1;
	if (*out != floor(*out)) {
		fleet_err(ctx, s, "%s must be a whole number (got %.15g)",
		    name, *out);
		return -1;
	}
	if (*out < min || *out > max) {
		fleet_err(ctx, s, "%s must be from %.15g to %.15g (got %.15g)",
		    name, min, max, *out);
		return -1;
	}
	return 0;
}

/*
 * A duration: a number of seconds or a string such as "250ms", from
 * FLEET_TIME_MIN (or least, if larger) to max, or 0 where zero_ok.
 */
static int
fleet_duration(struct fleet_ctx *ctx, const config_setting_t *s,
    double least, double max, bool zero_ok, double *out)
{
	const char	*name = config_setting_name(s), *str, *why;
	double		 v;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		str = config_setting_get_string(s);
		/* strtod() reads hex ("0x10" is 16 s): a duration is not. */
		why = "not a duration (e.g. 250ms, 30s, 5m, 2h)";
		if (strpbrk(str, "xX") != NULL ||
		    parse_duration(str, &v, &why) == -1) {
			fleet_err(ctx, s, "%s: bad duration \"%s\": %s", name,
			    fleet_q(ctx, str), why);
			return -1;
		}
	} else if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64 ||
	    config_setting_type(s) == CONFIG_TYPE_FLOAT) {
		if (fleet_number(ctx, s, &v) == -1)
			return -1;
	} else {
		fleet_err(ctx, s, "wrong type: %s must be a number of seconds "
		    "or a string such as \"30s\"", name);
		return -1;
	}
	if (v == 0 && zero_ok) {
		*out = 0;	/* -0 too */
		return 0;
	}
	if (least < FLEET_TIME_MIN)
		least = FLEET_TIME_MIN;
	if (v < least) {
		fleet_err(ctx, s, "%s must be %sat least %.15gs (got %.15gs)",
		    name, zero_ok ? "0 (none) or " : "", least, v);
		return -1;
	}
	if (v > max) {
		fleet_err(ctx, s, "%s must be at most %.15gs (got %.15gs)",
		    name, max, v);
		return -1;
	}
	*out = v;
	return 0;
}

/* A non-empty string; -1 after an error. */
static int
fleet_string(struct fleet_ctx *ctx, const config_setting_t *s,
    const char **out)
{
	const char	*name = config_setting_name(s);

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		fleet_err(ctx, s, "wrong type: %s must be a string", name);
		return -1;
	}
	*out = config_setting_get_string(s);
	if (**out == '\0') {
		fleet_err(ctx, s, "%s must not be empty", name);
		return -1;
	}
	return 0;
}

/* A non-empty string into *dst (replacing it); -1 after an error. */
static int
fleet_string_dup(struct fleet_ctx *ctx, const config_setting_t *s,
    char **dst)
{
	const char	*str;

	if (fleet_string(ctx, s, &str) == -1)
		return -1;
	free(*dst);
	*dst = xstrdup(str);
	return 0;
}

/* Does s hold a space, a quote or a control character? */
static bool
fleet_has_blank(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '"' ||
		    *s == '\'')
			return true;
	}
	return false;
}

static void
fleet_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A list of strings (ssh arguments), each non-empty; -1 after errors. */
static int
fleet_strings(struct fleet_ctx *ctx, const config_setting_t *s, char ***out,
    size_t *nout)
{
	const char	*name = config_setting_name(s);
	char		**v;
	int		 n, bad = 0;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		fleet_err(ctx, s, "wrong type: %s must be a list of strings "
		    "such as [ \"-o\", \"ServerAliveInterval=5\" ]", name);
		return -1;
	}
	n = config_setting_length(s);
	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (int i = 0; i < n; i++) {
		const config_setting_t	*e = config_setting_get_elem(s,
					    (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			fleet_err(ctx, e, "wrong type: %s: element %d is not "
			    "a string", name, i + 1);
			bad = 1;
			continue;
		}
		if (*config_setting_get_string(e) == '\0') {
			fleet_err(ctx, e, "%s: element %d is empty", name,
			    i + 1);
			bad = 1;
			continue;
		}
		v[i] = xstrdup(config_setting_get_string(e));
	}
	if (bad) {
		fleet_strv_free(v, (size_t)n);
		return -1;
	}
	fleet_strv_free(*out, *nout);
	*out = v;
	*nout = (size_t)n;
	return 0;
}

/* ------------------------------------------------------------- fleet */

static const char *const fleet_on_loss_names[] = {
	[FLEET_DEGRADE] = "degrade",
	[FLEET_REBALANCE] = "rebalance",
	[FLEET_ABORT] = "abort",
};

const char *
fleet_on_loss_name(enum fleet_on_loss p)
{
	if ((size_t)p >= NELEM(fleet_on_loss_names))
		return "?";
	return fleet_on_loss_names[p];
}

int
fleet_on_loss_parse(const char *s, enum fleet_on_loss *out)
{
	for (size_t i = 0; i < NELEM(fleet_on_loss_names); i++) {
		if (strcmp(s, fleet_on_loss_names[i]) == 0) {
			*out = (enum fleet_on_loss)i;
			return 0;
		}
	}
	return -1;
}

static const char *const fleet_keys[] = {
	"ssh", "ssh_options", "connect_timeout", "reply_timeout", "lease",
	"on_loss", "control_path", "control_persist", "loadctl",
};

static void
fleet_read_settings(struct fleet_ctx *ctx, const config_setting_t *group,
    struct fleet *f)
{
	const char	*str;

	if (config_setting_type(group) != CONFIG_TYPE_GROUP) {
		fleet_err(ctx, group, "wrong type: fleet must be a group: "
		    "fleet = { ssh = \"ssh\"; ... };");
		return;
	}
	ctx->what = "fleet";
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t	*s = config_setting_get_elem(group,
					    (unsigned)i);
		const char		*name = config_setting_name(s);

		if (strcmp(name, "ssh") == 0)
			fleet_string_dup(ctx, s, &f->ssh);
		else if (strcmp(name, "loadctl") == 0)
			fleet_string_dup(ctx, s, &f->loadctl);
		else if (strcmp(name, "ssh_options") == 0)
			fleet_strings(ctx, s, &f->ssh_options,
			    &f->nssh_options);
		else if (strcmp(name, "connect_timeout") == 0)
			fleet_duration(ctx, s, 0, FLEET_DURATION_MAX, false,
			    &f->connect_timeout_s);
		else if (strcmp(name, "reply_timeout") == 0)
			fleet_duration(ctx, s, 0, FLEET_DURATION_MAX, false,
			    &f->reply_timeout_s);
		else if (strcmp(name, "lease") == 0)
			/* Every change carries it: the daemon's bounds. */
			fleet_duration(ctx, s, LEASE_MIN, RAMP_MAX, true,
			    &f->lease_s);
		else if (strcmp(name, "control_persist") == 0)
			fleet_duration(ctx, s, 0, FLEET_DURATION_MAX, false,
			    &f->control_persist_s);
		else if (strcmp(name, "on_loss") == 0) {
			if (fleet_string(ctx, s, &str) == 0 &&
			    fleet_on_loss_parse(str, &f->on_loss) == -1)
				fleet_err(ctx, s, "unknown on_loss \"%s\" (use "
				    "degrade, rebalance or abort)",
				    fleet_q(ctx, str));
		} else if (strcmp(name, "control_path") == 0) {
			if (fleet_string(ctx, s, &str) == -1)
				continue;
			if (strcmp(str, "none") == 0) {
				free(f->control_path);
				f->control_path = NULL;
			} else if (fleet_has_blank(str))
				/* ssh reads -o values as words of its own. */
				fleet_err(ctx, s, "control_path \"%s\" may not "
				    "hold spaces, quotes or control characters",
				    fleet_q(ctx, str));
			else {
				free(f->control_path);
				f->control_path = xstrdup(str);
			}
		} else
			fleet_err_unknown(ctx, s, fleet_keys,
			    NELEM(fleet_keys));
	}
	ctx->what = NULL;
}

/* ------------------------------------------------------------- hosts */

static const char *const fleet_host_keys[] = {
	"name", "ssh", "port", "identity", "options", "socket", "weight",
	"cap",
};

static bool
fleet_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) >= LOAD_NAME_MAX)
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return false;
	}
	return true;
}

/* The host's name, read first so that every error can say whose it is. */
static void
fleet_host_name(struct fleet_ctx *ctx, const config_setting_t *group,
    struct fleet_host *h)
{
	const config_setting_t	*s = config_setting_get_member(group, "name");
	const char		*str;

	if (s == NULL) {
		fleet_err(ctx, group, "a host needs a name (name = \"...\";)");
		return;
	}
	if (fleet_string(ctx, s, &str) == -1)
		return;
	if (!fleet_name_ok(str)) {
		fleet_err(ctx, s, "bad host name \"%s\": use 1 to %d of "
		    "A-Z a-z 0-9 . _ -", fleet_q(ctx, str), LOAD_NAME_MAX - 1);
		return;
	}
	h->name = xstrdup(str);
}

static void
fleet_read_host(struct fleet_ctx *ctx, const config_setting_t *group,
    struct fleet_host *h, size_t index)
{
	const config_setting_t	*port = NULL, *ident = NULL, *opts = NULL;
	const char		*str;
	char			*what;
	double			 v;

	h->line = (int)config_setting_source_line(group);
	h->weight = 1;
	h->socket = xstrdup(LOADD_SOCKET_DEFAULT);
	/* Errors name the host: "host #2" until it has a good name. */
	what = xasprintf("host #%zu", index + 1);
	ctx->what = what;
	fleet_host_name(ctx, group, h);
	if (h->name != NULL) {
		free(what);
		what = xasprintf("host \"%s\"", h->name);
		ctx->what = what;
	}

	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t	*s = config_setting_get_elem(group,
					    (unsigned)i);
		const char		*name = config_setting_name(s);

		if (strcmp(name, "name") == 0)
			continue;	/* fleet_host_name's */
		if (strcmp(name, "ssh") == 0) {
			if (fleet_string(ctx, s, &str) == -1)
				continue;
			/* ssh would take "-oProxyCommand=..." as an option. */
			if (str[0] == '-')
				fleet_err(ctx, s, "ssh destination \"%s\" "
				    "starts with '-' (ssh would read it as "
				    "an option)", fleet_q(ctx, str));
			else if (fleet_has_blank(str))
				fleet_err(ctx, s, "ssh destination \"%s\" may "
				    "not hold spaces, quotes or control "
				    "characters", fleet_q(ctx, str));
			else {
				free(h->dest);
				h->dest = xstrdup(str);
			}
		} else if (strcmp(name, "port") == 0) {
			port = s;
			if (fleet_whole(ctx, s, 1, 65535, &v) == 0)
				h->port = (int)v;
		} else if (strcmp(name, "identity") == 0) {
			ident = s;
			fleet_string_dup(ctx, s, &h->identity);
		} else if (strcmp(name, "options") == 0) {
			opts = s;
			fleet_strings(ctx, s, &h->options, &h->noptions);
		} else if (strcmp(name, "socket") == 0) {
			if (fleet_string(ctx, s, &str) == -1)
				continue;
			if (strlen(str) >= sizeof(((struct sockaddr_un *)0)->
			    sun_path))
				fleet_err(ctx, s, "socket \"%s\" is longer "
				    "than a unix socket's %zu bytes",
				    fleet_q(ctx, str), sizeof(((struct
				    sockaddr_un *)0)->sun_path) - 1);
			else {
				free(h->socket);
				h->socket = xstrdup(str);
			}
		} else if (strcmp(name, "weight") == 0) {
			if (fleet_number(ctx, s, &v) == -1)
				continue;
			if (!(v > 0))
				fleet_err(ctx, s, "weight must be greater "
				    "than 0 (got %.15g)", v);
			else if (v > FLEET_WEIGHT_MAX)
				fleet_err(ctx, s, "weight must be at most %g "
				    "(got %.15g)", FLEET_WEIGHT_MAX, v);
			else
				h->weight = v;
		} else if (strcmp(name, "cap") == 0) {
			if (fleet_number(ctx, s, &v) == -1)
				continue;
			if (v == 0)
				fleet_err(ctx, s, "cap must be at least 1; "
				    "omit it for no cap");
			else if (v != floor(v))
				fleet_err(ctx, s, "cap must be a whole number "
				    "(got %.15g)", v);
			else if (v < 1)
				fleet_err(ctx, s, "cap must be at least 1 (got "
				    "%.15g)", v);
			else if (v > CONNECTIONS_LIMIT)
				fleet_err(ctx, s, "cap must be at most %d (got "
				    "%.15g)", CONNECTIONS_LIMIT, v);
			else
				h->cap = (uint64_t)v;
		} else
			fleet_err_unknown(ctx, s, fleet_host_keys,
			    NELEM(fleet_host_keys));
	}

	/* What only ssh uses, on a host that ssh does not reach. */
	if (config_setting_get_member(group, "ssh") == NULL) {
		const config_setting_t	*only[] = { port, ident, opts };

		for (size_t i = 0; i < NELEM(only); i++) {
			if (only[i] != NULL)
				fleet_err(ctx, only[i], "%s is for ssh, but "
				    "this host has no ssh destination (it is "
				    "a socket on this machine)",
				    config_setting_name(only[i]));
		}
	}
	ctx->what = NULL;
	free(what);
}

/*
 * Two hosts with one name, or two names for one daemon.  Only hosts read
 * without an error (good[i]) are compared for the daemon: two whose ssh
 * destinations were both refused are not the same one.
 */
static void
fleet_check_hosts(struct fleet_ctx *ctx, const config_setting_t *list,
    const struct fleet *f, const bool *good)
{
	for (size_t i = 0; i < f->nhosts; i++) {
		const struct fleet_host	*a = &f->hosts[i];
		const config_setting_t	*s = config_setting_get_elem(list,
					    (unsigned)i);

		for (size_t j = 0; j < i; j++) {
			const struct fleet_host	*b = &f->hosts[j];

			if (a->name != NULL && b->name != NULL &&
			    strcmp(a->name, b->name) == 0) {
				fleet_err(ctx, s, "duplicate host name \"%s\" "
				    "(first at line %d)", a->name, b->line);
				break;
			}
			if (good[i] && good[j] &&
			    str_eq_null(a->dest, b->dest) &&
			    a->port == b->port &&
			    strcmp(a->socket, b->socket) == 0) {
				fleet_err(ctx, s, "host \"%s\" is the daemon "
				    "of host \"%s\" (line %d) again: same ssh "
				    "destination, port and socket",
				    a->name != NULL ? a->name : "?",
				    b->name != NULL ? b->name : "?", b->line);
				break;
			}
		}
	}
}

static void
fleet_read_hosts(struct fleet_ctx *ctx, const config_setting_t *list,
    struct fleet *f)
{
	bool	*good;
	int	 n;

	if (config_setting_type(list) != CONFIG_TYPE_LIST &&
	    config_setting_type(list) != CONFIG_TYPE_ARRAY) {
		fleet_err(ctx, list, "wrong type: hosts must be a list: "
		    "hosts = ( { name = \"a\"; ssh = \"HOST\"; }, ... );");
		return;
	}
	if ((n = config_setting_length(list)) == 0) {
		fleet_err(ctx, list, "hosts is empty: a fleet needs at least "
		    "one host");
		return;
	}
	f->hosts = xcalloc((size_t)n, sizeof(*f->hosts));
	f->nhosts = (size_t)n;
	good = xcalloc((size_t)n, sizeof(*good));
	for (int i = 0; i < n; i++) {
		const config_setting_t	*g = config_setting_get_elem(list,
					    (unsigned)i);
		size_t			 errn = ctx->errn;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			fleet_err(ctx, g, "wrong type: host #%d must be a "
			    "group: { name = \"a\"; ssh = \"HOST\"; }", i + 1);
			f->hosts[i].line = (int)config_setting_source_line(g);
			continue;
		}
		fleet_read_host(ctx, g, &f->hosts[i], (size_t)i);
		good[i] = ctx->errn == errn;
	}
	fleet_check_hosts(ctx, list, f, good);
	free(good);
}

/* -------------------------------------------------------------- file */

/*
 * Read the file whole: a regular file of at most FLEET_TEXT_MAX bytes.
 * O_NONBLOCK keeps the open of a FIFO from waiting for a writer, and
 * fstat() of what was opened refuses it.  -1 after an error.
 */
static int
fleet_file_read(struct fleet_ctx *ctx, const char *path, char **out)
{
	struct stat	 st;
	char		*buf = NULL, msg[256];
	size_t		 len = 0, cap = 0;
	ssize_t		 r;
	int		 fd, err;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY))
	    == -1) {
		fleet_note(ctx, 0, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		err = errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? EISDIR : 0;
		goto fail;
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > FLEET_TEXT_MAX + 1)
				cap = FLEET_TEXT_MAX + 1;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				fatal("realloc");
		}
		if ((r = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > FLEET_TEXT_MAX) {
			snprintf(msg, sizeof(msg), "a fleet file is at most "
			    "%d bytes", FLEET_TEXT_MAX);
			fleet_note(ctx, 0, msg);
			free(buf);
			close(fd);
			return -1;
		}
	}
	close(fd);
	if (buf == NULL)
		buf = xmalloc(1);
	buf[len] = '\0';
	/* libconfig reads a text up to its first NUL. */
	if (strlen(buf) != len) {
		unsigned	 line = 1;

		for (const char *p = buf; *p != '\0'; p++)
			line += *p == '\n';
		fleet_note(ctx, line, "a NUL byte: this is not a text file");
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;

fail:
	if (err != 0)
		fleet_note(ctx, 0, strerror(err));
	else
		fleet_note(ctx, 0, "not a regular file");
	free(buf);
	close(fd);
	return -1;
}

/*
 * Parse the text into cf; -1 after an error (cf is then destroyed).
 *
 * An @include is refused: a fleet is one file, and libconfig 1.5 would
 * open what it names blindly (a FIFO, a directory).  With "/dev/null" as
 * the include directory every @include fails to open (ENOTDIR), which
 * libconfig reports on the directive's line; that error is renamed.
 * Unlike the daemon's profile reader, the text is not first parsed in a
 * child: libconfig's leak on a syntax error costs a loadctl that exits
 * on it nothing.
 */
static int
fleet_parse(struct fleet_ctx *ctx, const char *text, config_t *cf)
{
	const char	*err;

	config_init(cf);
	config_set_include_dir(cf, "/dev/null");
	if (config_read_string(cf, text) == CONFIG_TRUE)
		return 0;
	err = config_error_text(cf);
	if (err != NULL && strcmp(err, "cannot open include file") == 0)
		err = "@include is not allowed in a fleet file (one file holds "
		    "the whole fleet)";
	fleet_note(ctx, (unsigned)config_error_line(cf), err != NULL ? err :
	    "syntax error");
	config_destroy(cf);
	return -1;
}

static void
fleet_defaults(struct fleet *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	f->ssh = xstrdup("ssh");
	f->loadctl = xstrdup("loadctl");
	f->connect_timeout_s = 5;
	f->reply_timeout_s = 10;
	f->lease_s = 60;
	f->on_loss = FLEET_DEGRADE;
	f->control_path = xstrdup(FLEET_CONTROL_PATH_DEFAULT);
	f->control_persist_s = 60;
}

int
fleet_load(const char *path, struct fleet *f, char *why, size_t whylen)
{
	static const char *const top[] = { "fleet", "hosts" };
	struct fleet_ctx	 ctx;
	config_t		 cf;
	const config_setting_t	*root;
	char			*text;
	bool			 have_hosts = false;
	int			 rc = -1;

	memset(&ctx, 0, sizeof(ctx));
	ctx.file = fleet_escape(path, SIZE_MAX / 8);
	fleet_defaults(f, path);
	if (fleet_file_read(&ctx, path, &text) == -1)
		goto done;
	if (fleet_parse(&ctx, text, &cf) == -1) {
		free(text);
		goto done;
	}
	free(text);

	root = config_root_setting(&cf);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t	*s = config_setting_get_elem(root,
					    (unsigned)i);
		const char		*name = config_setting_name(s);
		const char		*best;

		if (strcmp(name, "fleet") == 0)
			fleet_read_settings(&ctx, s, f);
		else if (strcmp(name, "hosts") == 0) {
			have_hosts = true;
			fleet_read_hosts(&ctx, s, f);
		} else if ((best = fleet_nearest(name, top, NELEM(top))) !=
		    NULL)
			fleet_err(&ctx, s, "unknown key \"%s\" at top level "
			    "(did you mean \"%s\"?)", fleet_q(&ctx, name),
			    best);
		else
			fleet_err(&ctx, s, "unknown key \"%s\" at top level "
			    "(expected fleet or hosts)", fleet_q(&ctx, name));
	}
	if (!have_hosts)
		fleet_err(&ctx, NULL, "no hosts declared (add hosts = ( { name "
		    "= \"a\"; ssh = \"HOST\"; } );)");
	config_destroy(&cf);
	if (ctx.errn == 0)
		rc = 0;

done:
	if (rc == -1) {
		fleet_flush(&ctx, why, whylen);
		fleet_free(f);
	}
	for (size_t i = 0; i < NELEM(ctx.echo); i++)
		free(ctx.echo[i]);
	free(ctx.file);
	return rc;
}

void
fleet_free(struct fleet *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nhosts; i++) {
		struct fleet_host	*h = &f->hosts[i];

		free(h->name);
		free(h->dest);
		free(h->identity);
		fleet_strv_free(h->options, h->noptions);
		free(h->socket);
	}
	free(f->hosts);
	free(f->path);
	free(f->ssh);
	free(f->loadctl);
	fleet_strv_free(f->ssh_options, f->nssh_options);
	free(f->control_path);
	memset(f, 0, sizeof(*f));
}

/* ------------------------------------------------------------ shares */

/*
 * The shares of total over the hosts not yet fixed, by weight: with
 * cumulative weights c_i normalized to 1 (the last exactly 1), share_i =
 * round(total * c_i) - round(total * c_i-1), which add up to total.  The
 * prefix sums of positive weights only grow, so no share is negative.
 */
static void
fleet_split(uint64_t total, const double *w, const bool *fixed, size_t n,
    uint64_t *shares)
{
	double		 sum = 0, run = 0;
	uint64_t	 prev = 0, r;
	size_t		 last = n;

	for (size_t i = 0; i < n; i++) {
		if (!fixed[i]) {
			sum += w[i];
			last = i;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (fixed[i])
			continue;
		run += w[i];
		r = i == last ? total :
		    (uint64_t)round((double)total * (run / sum));
		if (r > total)
			r = total;
		if (r < prev)
			r = prev;
		shares[i] = r - prev;
		prev = r;
	}
}

int
fleet_shares(uint64_t total, const double *weights, const uint64_t *caps,
    size_t n, uint64_t *shares, char *why, size_t whylen)
{
	uint64_t	 capsum = 0, left = total;
	bool		*fixed, capped = true, again;

	if (n == 0) {
		if (total == 0)
			return 0;
		snprintf(why, whylen, "no host to take %llu",
		    (unsigned long long)total);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(weights[i] > 0) || !isfinite(weights[i])) {
			snprintf(why, whylen, "the weight of host %zu is %g, "
			    "not a positive number", i + 1, weights[i]);
			return -1;
		}
	}
	if (total > FLEET_TOTAL_MAX) {
		snprintf(why, whylen, "%llu is more than can be shared "
		    "exactly (%llu)", (unsigned long long)total,
		    (unsigned long long)FLEET_TOTAL_MAX);
		return -1;
	}
	for (size_t i = 0; i < n && capped; i++) {
		if (caps[i] == 0)
			capped = false;
		else if (caps[i] > UINT64_MAX - capsum)
			capped = false;	/* more than any total */
		else
			capsum += caps[i];
	}
	if (capped && total > capsum) {
		snprintf(why, whylen, "%llu is %llu more than the hosts' caps "
		    "allow (%llu)", (unsigned long long)total,
		    (unsigned long long)(total - capsum),
		    (unsigned long long)capsum);
		return -1;
	}

	/*
	 * Water-fill: share what is left over the hosts not fixed yet; every
	 * host whose share is above its cap is fixed at its cap, and the
	 * rest is shared again.  What is left never exceeds the caps of the
	 * hosts not fixed (checked above, and fixing a host takes its cap
	 * off both), so the last round fits, and each round but the last
	 * fixes a host.
	 */
	fixed = xcalloc(n, sizeof(*fixed));
	do {
		fleet_split(left, weights, fixed, n, shares);
		again = false;
		for (size_t i = 0; i < n; i++) {
			if (!fixed[i] && caps[i] != 0 && shares[i] > caps[i]) {
				fixed[i] = true;
				shares[i] = caps[i];
				left -= caps[i];
				again = true;
			}
		}
	} while (again);
	free(fixed);
	return 0;
}

/* --------------------------------------------------------------- ssh */

char *
fleet_shell_quote(const char *s)
{
	size_t	 n = 0, o = 0;
	bool	 safe = *s != '\0';
	char	*out;

	for (const char *p = s; *p != '\0'; p++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_-./:@%+=,", *p) ==
		    NULL)
			safe = false;
		n += *p == '\'' ? 4 : 1;
	}
	if (safe)
		return xstrdup(s);
	/* 'it'\''s': a quote ends the quoted part, is escaped, reopens it. */
	out = xmalloc(n + 3);
	out[o++] = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else
			out[o++] = *p;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

/* Whole seconds for ssh, at least 1 (ControlPersist=0 is forever). */
static long long
fleet_whole_s(double s)
{
	double	 c = ceil(s);

	return c < 1 ? 1 : c > 1e9 ? 1000000000 : (long long)c;
}

char **
fleet_ssh_argv(const struct fleet *f, const struct fleet_host *h,
    const char *loadctl_path)
{
	char	**v, *ctl, *sock;
	size_t	 n = 0, max;

	if (h->dest == NULL)
		return NULL;
	max = 32 + f->nssh_options + h->noptions;
	v = xcalloc(max, sizeof(*v));
	v[n++] = xstrdup(f->ssh);
	v[n++] = xstrdup("-T");
	v[n++] = xstrdup("-o");
	v[n++] = xstrdup("BatchMode=yes");
	v[n++] = xstrdup("-o");
	v[n++] = xasprintf("ConnectTimeout=%lld",
	    fleet_whole_s(f->connect_timeout_s));
	if (f->control_path != NULL) {
		v[n++] = xstrdup("-o");
		v[n++] = xstrdup("ControlMaster=auto");
		v[n++] = xstrdup("-o");
		v[n++] = xasprintf("ControlPath=%s", f->control_path);
		v[n++] = xstrdup("-o");
		v[n++] = xasprintf("ControlPersist=%lld",
		    fleet_whole_s(f->control_persist_s));
	}
	if (h->port != 0) {
		v[n++] = xstrdup("-p");
		v[n++] = xasprintf("%d", h->port);
	}
	if (h->identity != NULL) {
		v[n++] = xstrdup("-i");
		v[n++] = xstrdup(h->identity);
	}
	for (size_t i = 0; i < h->noptions; i++)
		v[n++] = xstrdup(h->options[i]);
	for (size_t i = 0; i < f->nssh_options; i++)
		v[n++] = xstrdup(f->ssh_options[i]);
	v[n++] = xstrdup("--");
	v[n++] = xstrdup(h->dest);
	/* ssh hands the remote shell one line: the words quoted. */
	ctl = fleet_shell_quote(loadctl_path != NULL ? loadctl_path :
	    "loadctl");
	sock = fleet_shell_quote(h->socket);
	v[n++] = xasprintf("%s -s %s proxy", ctl, sock);
	free(ctl);
	free(sock);
	v[n] = NULL;
	return v;
}

int
fleet_control_dir(const struct fleet *f, const char *home, char *why,
    size_t whylen)
{
	struct passwd	*pw;
	struct stat	 st;
	const char	*cp = f->control_path, *slash;
	char		*dir, *dot_ssh;
	int		 rc = -1;

	if (cp == NULL || (slash = strrchr(cp, '/')) == NULL)
		return 0;	/* none, or in ssh's working directory */
	if (cp[0] == '~' && cp[1] != '/')
		return 0;	/* ~user/: ssh's to find */
	if (cp[0] == '~') {
		if (home == NULL) {
			if ((pw = getpwuid(getuid())) == NULL) {
				snprintf(why, whylen, "control_path %s: no "
				    "home directory for uid %u", cp,
				    (unsigned)getuid());
				return -1;
			}
			home = pw->pw_dir;
		}
		if (slash == cp + 1)	/* "~/NAME": home itself */
			dir = xstrdup(home);
		else
			dir = xasprintf("%s/%.*s", strcmp(home, "/") == 0 ?
			    "" : home, (int)(slash - cp - 2), cp + 2);
		dot_ssh = xasprintf("%s/.ssh", strcmp(home, "/") == 0 ? "" :
		    home);
	} else {
		dir = slash == cp ? xstrdup("/") :
		    xasprintf("%.*s", (int)(slash - cp), cp);
		dot_ssh = NULL;
	}
	if (strchr(dir, '%') != NULL) {
		rc = 0;		/* ssh expands it: nothing to look at here */
		goto done;
	}
	if (stat(dir, &st) == -1 && errno == ENOENT && dot_ssh != NULL &&
	    strcmp(dir, dot_ssh) == 0 && mkdir(dir, 0700) == -1 &&
	    errno != EEXIST) {
		snprintf(why, whylen, "control_path %s: cannot make %s: %s", cp,
		    dir, strerror(errno));
		goto done;
	}
	if (stat(dir, &st) == -1)
		snprintf(why, whylen, "control_path %s: %s: %s", cp, dir,
		    strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, whylen, "control_path %s: %s is not a directory",
		    cp, dir);
	else
		rc = 0;
done:
	free(dir);
	free(dot_ssh);
	return rc;
}

void
fleet_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

/* --------------------------------------------------------- histogram */

int
fleet_layout_check(const char *encoding, uint64_t lowest_ns,
    uint64_t highest_ns, int sigdigits, char *why, size_t whylen)
{
	if (encoding == NULL || strcmp(encoding, FLEET_ENCODING) != 0) {
		snprintf(why, whylen, "histogram encoding \"%.32s\", not "
		    "\"%s\"", encoding != NULL ? encoding : "",
		    FLEET_ENCODING);
		return -1;
	}
	if (lowest_ns != HIST_LOWEST_NS || highest_ns != HIST_HIGHEST_NS ||
	    sigdigits != HIST_SIGDIGITS) {
		snprintf(why, whylen, "histogram layout lowest_ns %llu, "
		    "highest_ns %llu, sigdigits %d differs from this loadctl's "
		    "(%llu, %llu, %d): the buckets would not add up",
		    (unsigned long long)lowest_ns,
		    (unsigned long long)highest_ns, sigdigits,
		    (unsigned long long)HIST_LOWEST_NS,
		    (unsigned long long)HIST_HIGHEST_NS, HIST_SIGDIGITS);
		return -1;
	}
	return 0;
}

int
fleet_hist_add(struct hist *dst, const char *b64, char *why, size_t whylen)
{
	struct hist	*h;
	char		 err[256];

	if (b64 == NULL) {
		snprintf(why, whylen, "no histogram");
		return -1;
	}
	/* 200 KiB: not on the stack. */
	if ((h = malloc(sizeof(*h))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (hdr_decode_base64(b64, h, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "bad histogram: %s", err);
		free(h);
		return -1;
	}
	hist_add(dst, h);
	free(h);
	return 0;
}
