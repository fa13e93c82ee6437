/* SPDX-License-Identifier: ISC */
/*
 * control.c -- the control socket: a unix stream socket, one request line
 * in, one JSON line out, many clients at once.  A malformed request gets an
 * error reply (and, if it cannot be framed, the client is dropped); it never
 * disturbs the daemon, its loads or other clients.
 *
 * It is a security boundary (as smtpd's control.c): the peer's credentials
 * are taken at accept and every command that changes something is logged
 * with them; each client has a deadline per request and a ceiling on the
 * replies it leaves unread; a full socket gives a new client the slot of
 * the slowest one; spare descriptors let an operator in when the loads have
 * taken the rest.  An optional second socket (daemon.status_socket) is
 * read-only.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "common/cmd.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/results.h"
#include "daemon/views.h"
#include "engine/engine.h"

/*
 * Replies a client leaves unread.  Past CONTROL_OUT_HIGH its requests are
 * no longer read until they have left (and if they have not left within
 * client_timeout, it is dropped); a `watch` subscriber, whose lines come
 * whether it asks or not, is dropped past CONTROL_OUT_MAX.
 */
#define CONTROL_OUT_HIGH	(256 * 1024)
#define CONTROL_OUT_MAX		(1024 * 1024)
/*
 * A full socket gives a new client the slot of the client that has waited
 * longest for a request, once that is this long (seconds): CONTROL_GRACE
 * for a client inside a line (one byte a second), CONTROL_GRACE_IDLE for
 * one that sends nothing (client_timeout also ends it).  A client that
 * sends its request at once is never the one dropped.
 */
#define CONTROL_GRACE		1.0
#define CONTROL_GRACE_IDLE	5.0
/* Descriptors held back for control clients once the loads have the rest. */
#define CONTROL_SPARE_FDS	2
/* The stale-socket probe's deadline, milliseconds. */
#define CONTROL_PROBE_MS	1000

/* A listening socket: the control socket, or the read-only one. */
struct control_sock {
	struct evconnlistener	*listener;
	char			*path;
	bool			 readonly;
	int			 nlive;		/* clients not closing */
};

struct control_client {
	struct bufferevent		*bev;
	struct control_sock		*sock;
	struct event			*timer;	/* its deadline */
	uint64_t			 id;
	int				 uid, pid;	/* -1: unknown */
	double				 since;	/* mono: connected, or its
						   last request served */
	bool				 partial;  /* a line has begun */
	bool				 watching;
	bool				 paused;   /* replies over OUT_HIGH */
	bool				 eof;	   /* it sends no more */
	bool				 closing;  /* free once flushed */
	TAILQ_ENTRY(control_client)	 entry;
};
TAILQ_HEAD(client_list, control_client);

static struct {
	struct control_sock	 socks[2];	/* control; read-only */
	int			 nsocks;
	struct event		*resume;	/* after EMFILE */
	int			 max_clients;	/* per socket */
	double			 timeout;	/* client_timeout, s */
	struct client_list	 clients;
	uint64_t		 next_id;
	int			 spare[CONTROL_SPARE_FDS];
} ctl;

typedef json_t *(*control_exec)(struct control_client *, struct request *,
    char *why, size_t whylen);

static void	 control_batch_json(json_t *);
static json_t	*control_help(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_version(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_status(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_stats(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_start(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_stop(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_scale(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_rate(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_reload(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_watch(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_reopen(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_summary(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_wait(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_renew(struct control_client *, struct request *,
		    char *, size_t);
static json_t	*control_histogram(struct control_client *, struct request *,
		    char *, size_t);

/*
 * The daemon's side of each row of cmd_table (common/cmd.c): the command
 * and the handler that carries it out.  control_init() checks that every
 * command of the shared table has exactly one, so a command added there
 * without a handler stops loadd at start, in every test, never at a
 * client's request.
 */
static const struct control_entry {
	enum cmd_id	 id;
	control_exec	 exec;
	bool		 changes;	/* logged; refused on the read-only
					   socket */
} control_entries[] = {
	{ CMD_HELP, control_help, false },
	{ CMD_VERSION, control_version, false },
	{ CMD_STATUS, control_status, false },
	{ CMD_STATS, control_stats, false },
	{ CMD_START, control_start, true },
	{ CMD_STOP, control_stop, true },
	{ CMD_SCALE, control_scale, true },
	{ CMD_RATE, control_rate, true },
	{ CMD_RELOAD, control_reload, true },
	{ CMD_WATCH, control_watch, false },
	{ CMD_REOPEN, control_reopen, true },
	{ CMD_SUMMARY, control_summary, false },
	{ CMD_WAIT, control_wait, false },
	{ CMD_RENEW, control_renew, true },
	{ CMD_HISTOGRAM, control_histogram, false },
};

/* control_entries by command id, filled and checked by control_init. */
static const struct control_entry *control_execs[CMD_MAX];

static void	control_client_free(struct control_client *);

/* ------------------------------------------------------- JSON replies */

static json_t *
control_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
control_error(const char *why)
{
	return json_pack("{s:b,s:s}", "ok", 0, "error", why);
}

static void
control_send(struct control_client *cc, json_t *reply)
{
	struct evbuffer	*out = bufferevent_get_output(cc->bev);
	char		*s;

	s = json_dumps(reply, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(reply);
	if (s == NULL)
		fatalx("%s: json_dumps", __func__);
	evbuffer_add(out, s, strlen(s));
	evbuffer_add(out, "\n", 1);
	free(s);
}

/* "a, b, c": the loads' names, as many as fit, for a refusal. */
static void
control_load_names(char *buf, size_t len)
{
	struct load	*l;
	size_t		 off = 0;

	buf[0] = '\0';
	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		const char	*sep = off ? ", " : "";

		/* Keep room for ", ..." when a name does not fit. */
		if (off + strlen(sep) + strlen(l->conf->name) + 6 > len) {
			snprintf(buf + off, len - off, "%s...", sep);
			return;
		}
		off += (size_t)snprintf(buf + off, len - off, "%s%s", sep,
		    l->conf->name);
	}
}

/*
 * The load a request names, or the only load when it names none.  Fills why
 * and returns NULL otherwise.
 */
static struct load *
control_load(struct request *req, char *why, size_t whylen)
{
	struct load	*l, *only = NULL;
	int		 n = 0;
	char		 names[256];

	if (req->load[0] != '\0') {
		if ((l = load_find(req->load)) != NULL)
			return l;
		control_load_names(names, sizeof(names));
		snprintf(why, whylen, "no load named \"%s\" (loads: %s)",
		    req->load, names[0] ? names : "none");
		return NULL;
	}
	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		only = l;
		n++;
	}
	if (n == 1)
		return only;
	if (n == 0)
		snprintf(why, whylen, "the profile declares no load");
	else {
		control_load_names(names, sizeof(names));
		snprintf(why, whylen, "%d loads are declared: name one (%s)",
		    n, names);
	}
	return NULL;
}

/* ------------------------------------------------------------ commands */

static json_t *
control_help(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	json_t	*cmds = json_array(), *o;

	for (size_t i = 0; i < CMD_MAX; i++) {
		const struct cmd_entry *e = &cmd_table[i];

		if (req->word[0] != '\0' && strcmp(req->word, e->name) != 0)
			continue;
		json_array_append_new(cmds, json_pack("{s:s,s:s,s:s}",
		    "name", e->name, "usage", e->usage, "help", e->help));
	}
	o = control_ok();
	json_object_set_new(o, "commands", cmds);
	return o;
}

static json_t *
control_version(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	/* The time lets a fleet controller see each host's clock. */
	return json_pack("{s:b,s:s,s:i,s:f}", "ok", 1, "version",
	    LOADD_VERSION, "protocol", LOADD_PROTOCOL, "time", now_wall());
}

static json_t *
control_status(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;
	json_t		*loads = json_array(), *o;

	TAILQ_FOREACH(l, &daemon_g->loads, entry)
		json_array_append_new(loads, views_load(l, false));
	o = control_ok();
	json_object_set_new(o, "time", json_real(now_wall()));
	json_object_set_new(o, "version", json_string(LOADD_VERSION));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "uptime",
	    json_real(now_wall() - daemon_g->started_at));
	json_object_set_new(o, "workers",
	    json_integer(daemon_g->engine.nworkers));
	control_batch_json(o);
	json_object_set_new(o, "profile",
	    json_string(daemon_g->profile_path));
	json_object_set_new(o, "loads", loads);
	return o;
}

/*
 * How paced sends reach the kernel: "io_uring" when every worker has its
 * ring, "send" when none has (off in the profile, or refused by the
 * kernel), "mixed" otherwise; and the batches made so far.
 */
static void
control_batch_json(json_t *o)
{
	const struct engine	*e = &daemon_g->engine;
	struct worker_info	 wi;
	uint64_t		 batches = 0, batched = 0;
	int			 rings = 0;

	for (int i = 0; i < e->nworkers; i++) {
		engine_worker_info(e, i, &wi);
		rings += wi.ring;
		batches += wi.batches;
		batched += wi.batched;
	}
	json_object_set_new(o, "paced_sends", json_string(rings == 0 ?
	    "send" : rings == e->nworkers ? "io_uring" : "mixed"));
	json_object_set_new(o, "send_batches", json_integer((json_int_t)batches));
	json_object_set_new(o, "sends_batched", json_integer((json_int_t)batched));
}

static json_t *
control_stats(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	if (req->load[0] != '\0' && control_load(req, why, whylen) == NULL)
		return NULL;
	return views_stats(req->load[0] ? req->load : NULL);
}

/* Every load's histograms (or LOAD's), encoded for merging. */
static json_t *
control_histogram(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	char	 reason[256];
	json_t	*o;

	if (req->load[0] != '\0' && control_load(req, why, whylen) == NULL)
		return NULL;
	o = views_histograms(req->load[0] ? req->load : NULL, reason,
	    sizeof(reason));
	if (o == NULL) {
		log_warnx("histogram: %s", reason);
		snprintf(why, whylen, "a histogram did not encode: %s", reason);
	}
	return o;
}

/* The last run's summary of a load, or of every load that has one. */
static json_t *
control_summary(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;
	json_t		*o, *arr;

	if (req->load[0] != '\0') {
		if ((l = control_load(req, why, whylen)) == NULL)
			return NULL;
		if (l->last_summary == NULL) {
			snprintf(why, whylen, "load %s has not ended a run yet%s",
			    l->conf->name, l->state == LOAD_RUNNING ?
			    " (it is running)" : "");
			return NULL;
		}
	}
	arr = json_array();
	TAILQ_FOREACH(l, &daemon_g->loads, entry) {
		if (l->last_summary != NULL && (req->load[0] == '\0' ||
		    strcmp(req->load, l->conf->name) == 0))
			json_array_append(arr, l->last_summary);
	}
	o = control_ok();
	json_object_set_new(o, "summaries", arr);
	return o;
}

/*
 * `wait`: where a load's run is.  loadctl asks again until the run it
 * saw has its summary (the wait is the client's, so that the daemon
 * never holds a request open).
 */
static json_t *
control_wait(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;
	json_t		*o;

	if ((l = control_load(req, why, whylen)) == NULL)
		return NULL;
	o = control_ok();
	json_object_set_new(o, "load", json_string(l->conf->name));
	json_object_set_new(o, "state", json_string(load_state_name(l)));
	json_object_set_new(o, "run_start", json_real(l->run_start));
	json_object_set_new(o, "summary", l->last_summary != NULL ?
	    json_incref(l->last_summary) : json_null());
	return o;
}

static json_t *
control_load_reply(const struct load *l)
{
	json_t	*o = control_ok();

	json_object_set_new(o, "load", json_string(l->conf->name));
	json_object_set_new(o, "state", json_string(load_state_name(l)));
	json_object_set_new(o, "connections_target",
	    json_integer(l->state == LOAD_RUNNING ? l->target : 0));
	json_object_set_new(o, "connections_scale", json_integer(l->target));
	json_object_set_new(o, "mode", json_string(views_mode(l)));
	json_object_set_new(o, "rate", json_real(l->rate));
	views_ramp(o, l);
	views_start(o, l);
	if (l->lease != NULL)
		json_object_set_new(o, "lease", json_pack("{s:f,s:f}",
		    "length_s", l->lease_len, "left_s", l->lease_end >
		    now_mono() ? l->lease_end - now_mono() : 0.0));
	return o;
}

/*
 * A command that changed a load: with --lease it takes a lease; on a load
 * that has one, it renews it (any later command does).  A lease taken by
 * start --at holds the arming too: if it runs out first, the load is
 * disarmed.
 */
static void
control_lease(struct load *l, const struct request *req, bool start)
{
	if (req->lease > 0)
		load_lease(l, req->lease, start);
	else if (l->lease != NULL)
		load_lease(l, l->lease_len, false);
}

static json_t *
control_start(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;

	if ((l = control_load(req, why, whylen)) == NULL)
		return NULL;
	if (req->at > 0 ? load_arm(l, req->at, why, whylen) == -1 :
	    load_start(l, why, whylen) == -1)
		return NULL;
	control_lease(l, req, true);
	return control_load_reply(l);
}

static json_t *
control_stop(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;

	if ((l = control_load(req, why, whylen)) == NULL)
		return NULL;
	/* An armed load is stopped: stop disarms it. */
	if (l->state == LOAD_STOPPED && l->arm == NULL) {
		snprintf(why, whylen, "load %s is not running", l->conf->name);
		return NULL;
	}
	load_stop(l);
	return control_load_reply(l);
}

static json_t *
control_scale(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;
	int		 previous;
	json_t		*o;

	if ((l = control_load(req, why, whylen)) == NULL)
		return NULL;
	previous = l->target;
	if (load_scale(l, req->count, req->over, why, whylen) == -1)
		return NULL;
	control_lease(l, req, false);
	o = control_load_reply(l);
	json_object_set_new(o, "previous", json_integer(previous));
	return o;
}

static json_t *
control_rate(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;

	if ((l = control_load(req, why, whylen)) == NULL ||
	    load_set_rate(l, req->rate, why, whylen) == -1)
		return NULL;
	control_lease(l, req, false);
	return control_load_reply(l);
}

/* renew: another lease of the same length. */
static json_t *
control_renew(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;

	if ((l = control_load(req, why, whylen)) == NULL ||
	    load_renew(l, why, whylen) == -1)
		return NULL;
	return control_load_reply(l);
}

static json_t *
control_reload(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct errlist	 errs = { 0 };
	char		 summary[1024];
	json_t		*o, *arr;

	if (daemon_reload(&errs, summary, sizeof(summary)) == 0) {
		o = control_ok();
		json_object_set_new(o, "changes", json_string(summary));
		return o;
	}
	snprintf(why, whylen, "profile %s has %zu error%s; nothing changed",
	    daemon_g->profile_path, errs.n, errs.n == 1 ? "" : "s");
	o = control_error(why);
	arr = json_array();
	for (size_t i = 0; i < errs.n; i++)
		json_array_append_new(arr, json_string(errs.msgs[i]));
	json_object_set_new(o, "errors", arr);
	errlist_free(&errs);
	return o;
}

/*
 * Subscribers never time out; a first line comes at once.  They may not
 * take a socket's last slot: that one is kept for requests (a subscriber
 * is never dropped for a new client).
 */
static json_t *
control_watch(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct control_client	*c;
	int			 n = 0;

	TAILQ_FOREACH(c, &ctl.clients, entry)
		n += c->sock == cc->sock && c->watching && !c->closing;
	if (!cc->watching && ctl.max_clients > 1 &&
	    n >= ctl.max_clients - 1) {
		snprintf(why, whylen, "too many watch subscribers (%d): the "
		    "last of max_clients = %d is kept for requests", n,
		    ctl.max_clients);
		return NULL;
	}
	cc->watching = true;
	evtimer_del(cc->timer);
	return views_stats(NULL);
}

static json_t *
control_reopen(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	if (results_reopen(why, whylen) == -1)
		return NULL;
	return control_ok();
}

/* ------------------------------------------------------------ clients */

/* "uid 1000, pid 4242", or "uid ?, pid ?" without SO_PEERCRED. */
static const char *
control_peer(const struct control_client *cc)
{
	static char	 buf[64];

	if (cc->uid < 0)
		return "uid ?, pid ?";
	snprintf(buf, sizeof(buf), "uid %d, pid %d", cc->uid, cc->pid);
	return buf;
}

/*
 * "read-only socket: scale is refused here (it answers help, version,
 * ...); use the control socket", the list taken from control_entries.
 */
static void
control_readonly_refusal(const char *name, char *why, size_t whylen)
{
	size_t	 off, n = 0, k = 0;

	for (size_t i = 0; i < NELEM(control_entries); i++)
		n += !control_entries[i].changes;
	off = (size_t)snprintf(why, whylen, "read-only socket: %s is refused "
	    "here (it answers ", name);
	for (size_t i = 0; i < NELEM(control_entries) && off < whylen; i++) {
		if (control_entries[i].changes)
			continue;
		k++;
		off += (size_t)snprintf(why + off, whylen - off, "%s%s",
		    k == 1 ? "" : k == n ? " and " : ", ",
		    cmd_table[control_entries[i].id].name);
	}
	if (off < whylen)
		snprintf(why + off, whylen - off, "); use the control socket");
}

static void
control_dispatch(struct control_client *cc, const char *line, size_t len)
{
	const struct control_entry	*ce;
	struct request			 req;
	char				 why[512] = "";
	json_t				*reply, *err;

	if (request_parse(line, len, &req, why, sizeof(why)) == -1) {
		log_debug("control client %llu: refused: %s",
		    (unsigned long long)cc->id, why);
		control_send(cc, control_error(why));
		return;
	}
	ce = control_execs[req.cmd->id];
	if (ce->changes && cc->sock->readonly) {
		control_readonly_refusal(req.cmd->name, why, sizeof(why));
		reply = NULL;
	} else
		reply = ce->exec(cc, &req, why, sizeof(why));
	if (reply == NULL)
		reply = control_error(why);
	/*
	 * Who changed what, and whether it was done: the journal answers
	 * "who scaled web to 500?".  The line is printable ASCII (the parser
	 * checked), and a 4096-byte one is cut.
	 */
	if (ce->changes) {
		err = json_object_get(reply, "error");
		log_info("control client %llu (%s%s): %.*s%s%s",
		    (unsigned long long)cc->id, control_peer(cc),
		    cc->sock->readonly ? ", read-only socket" : "",
		    (int)(len > 200 ? 200 : len), line, err != NULL ?
		    ": refused: " : ": done", err != NULL ?
		    json_string_value(err) : "");
	} else if ((err = json_object_get(reply, "error")) != NULL)
		log_debug("control client %llu: %s refused: %s",
		    (unsigned long long)cc->id, req.cmd->name,
		    json_string_value(err));
	control_send(cc, reply);
}

/*
 * (Re)start a client's deadline: client_timeout from now.  It runs while
 * the client is idle, from the first byte of a request line to its end
 * (more bytes do not restart it), while its replies wait over
 * CONTROL_OUT_HIGH, and while a last reply leaves; never for a subscriber
 * that reads.
 */
static void
control_arm(struct control_client *cc)
{
	struct timeval	 tv = tv_from_s(ctl.timeout);

	if (cc->watching && !cc->paused && !cc->closing)
		evtimer_del(cc->timer);
	else
		evtimer_add(cc->timer, &tv);
}

/* Reply once, then drop the client when the reply has left. */
static void
control_refuse(struct control_client *cc, const char *why)
{
	control_send(cc, control_error(why));
	if (!cc->closing)
		cc->sock->nlive--;
	cc->closing = true;
	cc->paused = false;
	bufferevent_disable(cc->bev, EV_READ);
	bufferevent_enable(cc->bev, EV_WRITE);
	control_arm(cc);
}

/*
 * Serve what a client has sent: each whole line in turn, while its replies
 * stay under CONTROL_OUT_HIGH; after its end of file, what is left without
 * a newline as the last line, and then close once the replies have left
 * (a half-closed client gets every reply).  Returns -1 if cc was freed.
 */
static int
control_process(struct control_client *cc)
{
	struct evbuffer	*in = bufferevent_get_input(cc->bev);
	struct evbuffer	*out = bufferevent_get_output(cc->bev);
	char		*line;
	size_t		 len;
	bool		 served = false;

	while (!cc->closing) {
		if (evbuffer_get_length(out) > CONTROL_OUT_HIGH) {
			/* Read nothing more until the replies have left. */
			cc->paused = true;
			bufferevent_disable(cc->bev, EV_READ);
			control_arm(cc);
			return 0;
		}
		if ((line = evbuffer_readln(in, &len,
		    EVBUFFER_EOL_LF)) == NULL) {
			/* At end of file, the end of the last line. */
			len = evbuffer_get_length(in);
			if (!cc->eof || len == 0 || len > CONTROL_LINE_MAX)
				break;
			line = xmalloc(len + 1);
			evbuffer_remove(in, line, len);
			line[len] = '\0';
		}
		if (len > CONTROL_LINE_MAX) {
			free(line);
			control_refuse(cc, "request line too long (limit is "
			    "4096 bytes)");
			return 0;
		}
		control_dispatch(cc, line, len);
		free(line);
		cc->since = now_mono();
		served = true;
	}
	if (cc->closing)
		return 0;
	len = evbuffer_get_length(in);
	if (len > CONTROL_LINE_MAX) {
		control_refuse(cc, "request line too long (limit is 4096 "
		    "bytes)");
		return 0;
	}
	if (cc->eof) {
		/* All served: close once the replies have left. */
		cc->closing = true;
		cc->sock->nlive--;
		if (evbuffer_get_length(out) == 0) {
			control_client_free(cc);
			return -1;
		}
		control_arm(cc);
		return 0;
	}
	/* Idle, or a line begun now: the deadline starts (not at each byte). */
	if (served || (len > 0) != cc->partial) {
		cc->partial = len > 0;
		control_arm(cc);
	}
	return 0;
}

static void
control_readcb(struct bufferevent *bev, void *arg)
{
	(void)control_process(arg);
}

static void
control_writecb(struct bufferevent *bev, void *arg)
{
	struct control_client	*cc = arg;

	/* The output has drained (the write low watermark is 0). */
	if (cc->closing) {
		control_client_free(cc);
		return;
	}
	if (cc->paused) {
		cc->paused = false;
		if (!cc->eof)
			bufferevent_enable(cc->bev, EV_READ);
		control_arm(cc);
		(void)control_process(cc);
	}
}

static void
control_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client	*cc = arg;

	/* A half-close: serve what was read, reply, then close. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		cc->eof = true;
		if (!cc->closing)
			(void)control_process(cc);
		return;
	}
	control_client_free(cc);
}

static void
control_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct control_client	*cc = arg;
	char			 why[128];

	if (cc->closing) {
		log_debug("control client %llu: last reply not read, dropped",
		    (unsigned long long)cc->id);
		control_client_free(cc);
	} else if (cc->paused) {
		log_warnx("control client %llu (%s): not reading its replies "
		    "(%zu bytes waiting for %gs), dropped",
		    (unsigned long long)cc->id, control_peer(cc),
		    evbuffer_get_length(bufferevent_get_output(cc->bev)),
		    ctl.timeout);
		control_client_free(cc);
	} else if (cc->partial) {
		log_info("control client %llu (%s): request not complete "
		    "within %gs (client_timeout), dropped",
		    (unsigned long long)cc->id, control_peer(cc), ctl.timeout);
		snprintf(why, sizeof(why), "request not complete within %gs "
		    "(client_timeout)", ctl.timeout);
		control_refuse(cc, why);
	} else {
		log_debug("control client %llu: idle, dropped",
		    (unsigned long long)cc->id);
		control_refuse(cc, "idle for too long");
	}
}

static void
control_spare_fill(void)
{
	for (int i = 0; i < CONTROL_SPARE_FDS; i++) {
		if (ctl.spare[i] == -1 && (ctl.spare[i] = open("/dev/null",
		    O_RDONLY | O_CLOEXEC)) == -1)
			return;
	}
}

static void
control_client_free(struct control_client *cc)
{
	TAILQ_REMOVE(&ctl.clients, cc, entry);
	if (!cc->closing)
		cc->sock->nlive--;
	event_free(cc->timer);
	bufferevent_free(cc->bev);
	/* A descriptor is free again: hold it back if a spare is missing. */
	if (ctl.nsocks > 0)
		control_spare_fill();
	free(cc);
}

/*
 * The socket is full: give the new client the slot of the client that has
 * waited longest for its next request, past its grace (subscribers are
 * never dropped).  Slow clients (one byte a second, or
 * none) thus never keep an operator out.  0 if one made room.
 */
static int
control_evict(struct control_client *newcc)
{
	struct control_client	*cc, *victim = NULL;
	double			 now = now_mono();
	char			 why[160];

	TAILQ_FOREACH(cc, &ctl.clients, entry) {
		if (cc == newcc || cc->sock != newcc->sock || cc->closing ||
		    cc->watching || now - cc->since < (cc->partial ?
		    CONTROL_GRACE : CONTROL_GRACE_IDLE))
			continue;
		if (victim == NULL || cc->since < victim->since)
			victim = cc;
	}
	if (victim == NULL)
		return -1;
	log_info("control client %llu (%s): no request for %.1fs while "
	    "max_clients (%d) are connected, dropped for a new client",
	    (unsigned long long)victim->id, control_peer(victim),
	    now - victim->since, ctl.max_clients);
	snprintf(why, sizeof(why), "too many control clients: dropped for a "
	    "new one after %.1fs without a request", now - victim->since);
	control_refuse(victim, why);
	return 0;
}

static void
control_admit(struct control_sock *cs, evutil_socket_t fd, bool spare)
{
	struct control_client	*cc;
	struct ucred		 cred;
	socklen_t		 credlen = sizeof(cred);

	cc = xcalloc(1, sizeof(*cc));
	cc->id = ++ctl.next_id;
	cc->sock = cs;
	cc->since = now_mono();
	cc->uid = cc->pid = -1;
	cc->bev = bufferevent_socket_new(daemon_g->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	cc->timer = evtimer_new(daemon_g->base, control_timercb, cc);
	if (cc->bev == NULL || cc->timer == NULL) {
		log_warnx("control client: cannot set it up");
		if (cc->bev != NULL)
			bufferevent_free(cc->bev);
		else
			close(fd);
		if (cc->timer != NULL)
			event_free(cc->timer);
		free(cc);
		if (spare)
			control_spare_fill();
		return;
	}
	/* Who it is, taken now: the pid may be gone or reused later. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == 0) {
		cc->uid = (int)cred.uid;
		cc->pid = (int)cred.pid;
	}
	TAILQ_INSERT_TAIL(&ctl.clients, cc, entry);
	cs->nlive++;
	log_debug("control client %llu: %s on %s%s", (unsigned long long)cc->id,
	    control_peer(cc), cs->path, spare ? " (a spare descriptor)" : "");
	bufferevent_setcb(cc->bev, control_readcb, control_writecb,
	    control_eventcb, cc);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
	/* Over the cap: say so at once rather than leave it hanging. */
	if (cs->nlive > ctl.max_clients && control_evict(cc) == -1)
		control_refuse(cc, "too many control clients; try again");
	else
		control_arm(cc);
}

static void
control_acceptcb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	control_admit(arg, fd, false);
}

static void
control_resumecb(evutil_socket_t fd, short what, void *arg)
{
	control_spare_fill();
	for (int i = 0; i < ctl.nsocks; i++)
		evconnlistener_enable(ctl.socks[i].listener);
}

static void
control_errorcb(struct evconnlistener *lis, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	int		 e = EVUTIL_SOCKET_ERROR(), e2, fd;

	if (e != EMFILE && e != ENFILE) {
		log_warnx("control: accept: %s", strerror(e));
		return;
	}
	/*
	 * Out of descriptors (the loads took them, or the limit was
	 * lowered): give a spare one up for this client, so that an
	 * operator still gets in.  Another thread may take it first; then
	 * the spare comes back when a descriptor is free.
	 */
	for (int i = 0; i < CONTROL_SPARE_FDS; i++) {
		if (ctl.spare[i] == -1)
			continue;
		close(ctl.spare[i]);
		ctl.spare[i] = -1;
		fd = accept4(evconnlistener_get_fd(lis), NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			e2 = errno;
			control_spare_fill();
			if (e2 == EAGAIN || e2 == EWOULDBLOCK || e2 == EINTR ||
			    e2 == ECONNABORTED)
				return;
			break;
		}
		log_warnx("control: accept: %s; the client has a spare "
		    "descriptor", strerror(e));
		control_admit(arg, fd, true);
		return;
	}
	/* None spare: pause accepting for a second. */
	log_warnx("control: accept: %s; pausing for 1s", strerror(e));
	for (int i = 0; i < ctl.nsocks; i++)
		evconnlistener_disable(ctl.socks[i].listener);
	evtimer_add(ctl.resume, &tv);
}

/* Feed every `watch` subscriber one stats line. */
void
control_tick(void)
{
	struct control_client	*cc, *tmp;
	char			*s;
	json_t			*o;

	TAILQ_FOREACH(cc, &ctl.clients, entry) {
		if (cc->watching)
			break;
	}
	if (cc == NULL)
		return;
	o = views_stats(NULL);
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(o);
	TAILQ_FOREACH_SAFE(cc, &ctl.clients, entry, tmp) {
		struct evbuffer *out = bufferevent_get_output(cc->bev);

		if (!cc->watching || cc->closing)
			continue;
		if (evbuffer_get_length(out) > CONTROL_OUT_MAX) {
			log_warnx("control client %llu (%s): watching but not "
			    "reading (over %d bytes waiting), dropped",
			    (unsigned long long)cc->id, control_peer(cc),
			    CONTROL_OUT_MAX);
			control_client_free(cc);
			continue;
		}
		evbuffer_add_printf(out, "%s\n", s);
	}
	free(s);
}

/*
 * Is the socket at path stale?  Only a refused connect proves it: anything
 * else (a live daemon, a live process whose backlog is full, no
 * permission) means the path is not ours to remove.  The connect does not
 * block: a listener that never accepts must not hang the start-up.  0 if
 * stale, or -1 after logging why not.
 */
static int
control_probe(const struct sockaddr_un *sun, const char *path)
{
	struct pollfd	 pfd;
	socklen_t	 elen = sizeof(int);
	int		 probe, e = 0;

	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe == -1) {
		log_warn("control socket probe");
		return -1;
	}
	if (connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == -1)
		e = errno;
	if (e == EINPROGRESS) {
		pfd.fd = probe;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, CONTROL_PROBE_MS) <= 0)
			e = ETIMEDOUT;
		else if (getsockopt(probe, SOL_SOCKET, SO_ERROR, &e,
		    &elen) == -1)
			e = errno;
	}
	close(probe);
	switch (e) {
	case 0:
		log_warnx("another loadd is listening on %s; not starting",
		    path);
		return -1;
	case ECONNREFUSED:
		return 0;
	case EAGAIN:
		log_warnx("%s belongs to a live process that does not accept "
		    "(its backlog is full); not starting", path);
		return -1;
	case ETIMEDOUT:
		log_warnx("%s: a connect did not complete within %dms; not "
		    "starting", path, CONTROL_PROBE_MS);
		return -1;
	default:
		log_warnx("%s exists and cannot be probed: %s; not starting",
		    path, strerror(e));
		return -1;
	}
}

/*
 * Bind the socket.  A live daemon on the path makes us refuse to start; a
 * stale socket left by a crash is replaced; anything that is not a socket
 * is left alone.
 */
static int
control_bind(const char *path, int mode)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    path) >= sizeof(sun.sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s exists and is not a socket; not touching "
			    "it", path);
			return -1;
		}
		if (control_probe(&sun, path) == -1)
			return -1;
		log_info("removing stale control socket %s", path);
		unlink(path);
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("control socket");
		return -1;
	}
	old = umask((mode_t)(~mode & 0777));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", path);
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, (mode_t)mode) == -1)
		log_warn("chmod %s", path);
	return fd;
}

/* Limits that a reload may change; they apply to new clients. */
void
control_configure(int max_clients, double client_timeout)
{
	ctl.max_clients = max_clients;
	ctl.timeout = client_timeout;
}

/*
 * Give every command of the shared table its handler, or refuse to start:
 * a table that is not complete is a bug, and it shows in every test.
 */
static void
control_check_table(void)
{
	for (size_t i = 0; i < NELEM(control_entries); i++) {
		enum cmd_id	 id = control_entries[i].id;

		if ((unsigned)id >= CMD_MAX || control_execs[id] != NULL)
			fatalx("control: handler %zu: bad or repeated "
			    "command id %d", i, (int)id);
		control_execs[id] = &control_entries[i];
	}
	for (size_t i = 0; i < CMD_MAX; i++) {
		if (cmd_table[i].id != (enum cmd_id)i)
			fatalx("control: cmd_table row %zu is out of order", i);
		if (control_execs[i] == NULL)
			fatalx("control: command \"%s\" has no handler",
			    cmd_table[i].name);
	}
}

/* Bind and listen on one socket; 0, or -1 after logging why. */
static int
control_listen(struct control_sock *cs, const char *path, int mode,
    bool readonly)
{
	int	 fd;

	if ((fd = control_bind(path, mode)) == -1)
		return -1;
	cs->listener = evconnlistener_new(daemon_g->base, control_acceptcb,
	    cs, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (cs->listener == NULL) {
		log_warnx("cannot listen on %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	evconnlistener_set_error_cb(cs->listener, control_errorcb);
	cs->path = xstrdup(path);
	cs->readonly = readonly;
	ctl.nsocks++;
	return 0;
}

/*
 * The control socket at path, and the read-only one if the profile names
 * it (daemon.status_socket, with its own mode).
 */
int
control_init(const char *path, int mode, int max_clients,
    double client_timeout)
{
	const struct daemon_conf *dc = &daemon_g->profile->daemon;

	control_check_table();
	TAILQ_INIT(&ctl.clients);
	control_configure(max_clients, client_timeout);
	for (int i = 0; i < CONTROL_SPARE_FDS; i++)
		ctl.spare[i] = -1;
	ctl.resume = evtimer_new(daemon_g->base, control_resumecb, NULL);
	if (ctl.resume == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (dc->status_socket != NULL && strcmp(dc->status_socket,
	    path) == 0) {
		log_warnx("status_socket %s is the control socket's path",
		    path);
		return -1;
	}
	if (control_listen(&ctl.socks[0], path, mode, false) == -1 ||
	    (dc->status_socket != NULL && control_listen(&ctl.socks[1],
	    dc->status_socket, dc->status_socket_mode, true) == -1)) {
		control_cleanup();
		return -1;
	}
	control_spare_fill();
	if (ctl.nsocks > 1)
		log_info("read-only control socket %s", ctl.socks[1].path);
	return 0;
}

void
control_cleanup(void)
{
	struct control_client	*cc;

	for (int i = 0; i < ctl.nsocks; i++) {
		struct control_sock *cs = &ctl.socks[i];

		evconnlistener_free(cs->listener);
		unlink(cs->path);
		free(cs->path);
	}
	ctl.nsocks = 0;
	/* After the sockets: a client freed now takes no spare back. */
	while ((cc = TAILQ_FIRST(&ctl.clients)) != NULL)
		control_client_free(cc);
	memset(ctl.socks, 0, sizeof(ctl.socks));
	if (ctl.resume != NULL) {
		event_free(ctl.resume);
		ctl.resume = NULL;
		for (int i = 0; i < CONTROL_SPARE_FDS; i++) {
			if (ctl.spare[i] != -1)
				close(ctl.spare[i]);
			ctl.spare[i] = -1;
		}
	}
}
