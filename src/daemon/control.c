/* SPDX-License-Identifier: ISC */
/*
 * control.c -- the control socket: a unix stream socket, one request line
 * in, one JSON line out, many clients at once.  A malformed request gets an
 * error reply (and, if it cannot be framed, the client is dropped); it never
 * disturbs the daemon, its loads or other clients.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
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

/* A subscriber that does not read is dropped past this much output. */
#define CONTROL_OUT_MAX		(1024 * 1024)

struct control_client {
	struct bufferevent		*bev;
	uint64_t			 id;
	bool				 watching;
	bool				 closing;	/* free once flushed */
	TAILQ_ENTRY(control_client)	 entry;
};
TAILQ_HEAD(client_list, control_client);

static struct {
	struct evconnlistener	*listener;
	struct event		*resume;	/* after EMFILE */
	char			*path;
	int			 max_clients;
	struct timeval		 timeout;
	struct client_list	 clients;
	int			 nclients;
	uint64_t		 next_id;
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
} control_entries[] = {
	{ CMD_HELP, control_help },
	{ CMD_VERSION, control_version },
	{ CMD_STATUS, control_status },
	{ CMD_STATS, control_stats },
	{ CMD_START, control_start },
	{ CMD_STOP, control_stop },
	{ CMD_SCALE, control_scale },
	{ CMD_RATE, control_rate },
	{ CMD_RELOAD, control_reload },
	{ CMD_WATCH, control_watch },
	{ CMD_REOPEN, control_reopen },
	{ CMD_SUMMARY, control_summary },
	{ CMD_WAIT, control_wait },
};

/* control_entries by command id, filled and checked by control_init. */
static control_exec	 control_execs[CMD_MAX];

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
	return json_pack("{s:b,s:s,s:i}", "ok", 1, "version", LOADD_VERSION,
	    "protocol", LOADD_PROTOCOL);
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
	json_object_set_new(o, "state",
	    json_string(load_state_names[l->state]));
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
	json_object_set_new(o, "state",
	    json_string(load_state_names[l->state]));
	json_object_set_new(o, "connections_target",
	    json_integer(l->state == LOAD_RUNNING ? l->target : 0));
	json_object_set_new(o, "connections_scale", json_integer(l->target));
	json_object_set_new(o, "mode", json_string(views_mode(l)));
	json_object_set_new(o, "rate", json_real(l->rate));
	views_ramp(o, l);
	return o;
}

static json_t *
control_start(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;

	if ((l = control_load(req, why, whylen)) == NULL ||
	    load_start(l, why, whylen) == -1)
		return NULL;
	return control_load_reply(l);
}

static json_t *
control_stop(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	struct load	*l;

	if ((l = control_load(req, why, whylen)) == NULL)
		return NULL;
	if (l->state == LOAD_STOPPED) {
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

/* Subscribers never time out; a first line comes at once. */
static json_t *
control_watch(struct control_client *cc, struct request *req, char *why,
    size_t whylen)
{
	cc->watching = true;
	bufferevent_set_timeouts(cc->bev, NULL, NULL);
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

static void
control_dispatch(struct control_client *cc, const char *line, size_t len)
{
	struct request	 req;
	char		 why[512] = "";
	json_t		*reply;

	if (request_parse(line, len, &req, why, sizeof(why)) == -1) {
		log_debug("control client %llu: refused: %s",
		    (unsigned long long)cc->id, why);
		control_send(cc, control_error(why));
		return;
	}
	reply = control_execs[req.cmd->id](cc, &req, why, sizeof(why));
	if (reply == NULL) {
		log_debug("control client %llu: %s refused: %s",
		    (unsigned long long)cc->id, req.cmd->name, why);
		reply = control_error(why);
	}
	control_send(cc, reply);
}

/* Reply once, then drop the client when the reply has left. */
static void
control_refuse(struct control_client *cc, const char *why)
{
	control_send(cc, control_error(why));
	cc->closing = true;
	bufferevent_disable(cc->bev, EV_READ);
	bufferevent_setwatermark(cc->bev, EV_WRITE, 0, 0);
}

static void
control_readcb(struct bufferevent *bev, void *arg)
{
	struct control_client	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	while (!cc->closing && (line = evbuffer_readln(in, &len,
	    EVBUFFER_EOL_LF)) != NULL) {
		if (len > CONTROL_LINE_MAX) {
			free(line);
			control_refuse(cc, "request line too long (limit is "
			    "4096 bytes)");
			return;
		}
		control_dispatch(cc, line, len);
		free(line);
	}
	if (!cc->closing && evbuffer_get_length(in) > CONTROL_LINE_MAX)
		control_refuse(cc, "request line too long (limit is 4096 "
		    "bytes)");
}

static void
control_writecb(struct bufferevent *bev, void *arg)
{
	struct control_client	*cc = arg;

	if (cc->closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		control_client_free(cc);
}

static void
control_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client	*cc = arg;

	if (what & BEV_EVENT_TIMEOUT) {
		log_debug("control client %llu: idle, dropped",
		    (unsigned long long)cc->id);
		control_refuse(cc, "idle for too long");
		return;
	}
	control_client_free(cc);
}

static void
control_client_free(struct control_client *cc)
{
	TAILQ_REMOVE(&ctl.clients, cc, entry);
	ctl.nclients--;
	bufferevent_free(cc->bev);
	free(cc);
}

static void
control_acceptcb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control_client	*cc;
	struct ucred		 cred;
	socklen_t		 credlen = sizeof(cred);

	cc = xcalloc(1, sizeof(*cc));
	cc->id = ++ctl.next_id;
	cc->bev = bufferevent_socket_new(daemon_g->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (cc->bev == NULL) {
		close(fd);
		free(cc);
		return;
	}
	TAILQ_INSERT_TAIL(&ctl.clients, cc, entry);
	ctl.nclients++;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == 0)
		log_debug("control client %llu: pid %d uid %d",
		    (unsigned long long)cc->id, (int)cred.pid, (int)cred.uid);
	bufferevent_setcb(cc->bev, control_readcb, control_writecb,
	    control_eventcb, cc);
	bufferevent_set_timeouts(cc->bev, &ctl.timeout, NULL);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
	/* Over the cap: say so at once rather than leave it hanging. */
	if (ctl.nclients > ctl.max_clients)
		control_refuse(cc, "too many control clients; try again");
}

static void
control_resumecb(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(ctl.listener);
}

static void
control_errorcb(struct evconnlistener *lis, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	int		 e = EVUTIL_SOCKET_ERROR();

	if (e == EMFILE || e == ENFILE) {
		/* Out of descriptors: pause accepting for a second. */
		log_warnx("control: accept: %s; pausing for 1s",
		    strerror(e));
		evconnlistener_disable(lis);
		evtimer_add(ctl.resume, &tv);
		return;
	}
	log_warnx("control: accept: %s", strerror(e));
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
			log_warnx("control client %llu: not reading, dropped",
			    (unsigned long long)cc->id);
			control_client_free(cc);
			continue;
		}
		evbuffer_add_printf(out, "%s\n", s);
	}
	free(s);
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
	int			 fd, probe;

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
		/*
		 * Only a refused connect proves the socket stale.  Anything
		 * else (a live daemon, no permission, a full backlog) means
		 * the path is not ours to remove.
		 */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe == -1) {
			log_warn("control socket probe");
			return -1;
		}
		if (connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			log_warnx("another loadd is listening on %s; not "
			    "starting", path);
			return -1;
		}
		if (errno != ECONNREFUSED) {
			log_warn("%s exists and cannot be probed; not "
			    "starting", path);
			close(probe);
			return -1;
		}
		close(probe);
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
	ctl.timeout = tv_from_s(client_timeout);
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
		control_execs[id] = control_entries[i].exec;
	}
	for (size_t i = 0; i < CMD_MAX; i++) {
		if (cmd_table[i].id != (enum cmd_id)i)
			fatalx("control: cmd_table row %zu is out of order", i);
		if (control_execs[i] == NULL)
			fatalx("control: command \"%s\" has no handler",
			    cmd_table[i].name);
	}
}

int
control_init(const char *path, int mode, int max_clients,
    double client_timeout)
{
	int	 fd;

	control_check_table();
	TAILQ_INIT(&ctl.clients);
	control_configure(max_clients, client_timeout);
	if ((fd = control_bind(path, mode)) == -1)
		return -1;
	ctl.listener = evconnlistener_new(daemon_g->base, control_acceptcb,
	    NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (ctl.listener == NULL) {
		log_warnx("cannot listen on %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	evconnlistener_set_error_cb(ctl.listener, control_errorcb);
	ctl.resume = evtimer_new(daemon_g->base, control_resumecb, NULL);
	ctl.path = xstrdup(path);
	return 0;
}

void
control_cleanup(void)
{
	struct control_client	*cc;

	while ((cc = TAILQ_FIRST(&ctl.clients)) != NULL)
		control_client_free(cc);
	if (ctl.listener != NULL) {
		evconnlistener_free(ctl.listener);
		ctl.listener = NULL;
	}
	if (ctl.resume != NULL)
		event_free(ctl.resume);
	if (ctl.path != NULL) {
		unlink(ctl.path);
		free(ctl.path);
	}
}
