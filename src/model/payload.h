/* SPDX-License-Identifier: ISC */
/*
 * model/payload.h -- what a load sends: messages as bytes or templates.
 *
 * A message is written in a profile as a string and becomes a template:
 *
 *   "hex:01 02 ff"	bytes given as hex digit pairs, whitespace allowed
 *			between pairs (for binary protocols, and the only way
 *			to send a NUL: libconfig drops \x00).  The prefix is
 *			lower case.  Always plain bytes: no field is looked
 *			for in them.
 *   "GET /\r\n"	the string's bytes, as libconfig decoded them.
 *   with template = true, a non-hex string (and a payload_file) may hold
 *   fields, expanded for each message as it is written:
 *	{seq}		the message's sequence number on its connection
 *	{conn}		the connection's slot id
 *	{load}		the load's name
 *	{time_us}	wall-clock microseconds since the epoch
 *	{rand:N}	N random decimal digits (1 <= N <= 64), each 0-9:
 *			the first may be 0
 *	{{ and }}	a literal brace; a lone { or } is an error
 *
 * Templates are opt-in (template = true) so that profiles whose literals
 * hold braces, JSON bodies say, keep sending exactly those bytes.  A
 * literal that must begin with the characters "hex:" is written in hex.
 *
 * payload_file = "path" reads a regular file (at most PAYLOAD_FILE_MAX
 * bytes) when the profile is loaded; a list (messages = ( ... )) is sent
 * in turn, message seq % n as number seq of a connection.
 *
 * Parsing, reading, dup and free belong to the main thread (profile
 * loading) and may allocate; errors are values written to why, "column N"
 * (or "line L column N") counting bytes from 1 in the string as libconfig
 * decoded it.  payload_expand() is for a worker's per-message path: no
 * allocation, no locks, no system calls, bounded by max_len.
 */
#ifndef LOADD_MODEL_PAYLOAD_H
#define LOADD_MODEL_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAYLOAD_FILE_MAX	(64u * 1024 * 1024)	/* bytes of a file */
#define PAYLOAD_MSGS_MAX	65536	/* messages in one load's list */
#define PAYLOAD_RAND_MAX	64	/* digits of one {rand:N} */

enum payload_field {
	PF_LITERAL = 0,		/* bytes[off .. off + len) */
	PF_SEQ,
	PF_CONN,
	PF_LOAD,
	PF_TIME_US,
	PF_RAND,		/* len random digits */
};

/* PF_LITERAL: bytes[off .. off + len); PF_RAND: len digits. */
struct payload_seg {
	enum payload_field	 kind;
	uint32_t		 off;
	uint32_t		 len;
};

/* A message: literal segments and fields, in order. */
struct payload_tmpl {
	char			*bytes;	/* literals, NUL-ended */
	size_t			 nbytes;
	struct payload_seg	*segs;
	unsigned		 nsegs;
	size_t			 max_len; /* ceiling of an expansion */
	/*
	 * No field: bytes is the whole message (one PF_LITERAL segment),
	 * which may be sent as it stands, without payload_expand().
	 */
	bool			 is_static;
};

/* A load's messages, sent in turn. */
struct payload {
	struct payload_tmpl	*msgs;
	unsigned		 nmsgs;
	size_t			 max_len; /* largest of the msgs' */
	bool			 is_static; /* no message has a field */
};

/* What a worker knows when it writes a message. */
struct payload_vars {
	uint64_t	 seq;
	uint64_t	 conn;
	const char	*load;
	size_t		 load_len;	/* cut to LOAD_NAME_MAX - 1 */
	uint64_t	 time_us;
	uint64_t	*rng;		/* xorshift64* state, not 0 */
};

/*
 * Hex digit pairs to bytes.  A leading "hex:" is skipped; columns count
 * from the start of in all the same.  *out is NUL-terminated for
 * convenience and the caller's to free.
 */
int	 payload_hex_decode(const char *in, char **out, size_t *outlen,
	    char *why, size_t whylen);
/*
 * A regular file of 1 to max bytes, read whole.  FIFOs, devices and
 * directories are refused without blocking.  *out as above.
 */
int	 payload_file_read(const char *path, size_t max, char **out,
	    size_t *outlen, char *why, size_t whylen);

/* A template of in[0 .. len), fields recognised; is_static when none. */
int	 payload_tmpl_parse(const char *in, size_t len,
	    struct payload_tmpl *, char *why, size_t whylen);
/* A static template of the bytes as they are (copied). */
int	 payload_tmpl_bytes(const char *in, size_t len,
	    struct payload_tmpl *, char *why, size_t whylen);
/*
 * One message string from a profile: "hex:..." decoded, otherwise its
 * bytes, parsed as a template when tmpl is set.
 */
int	 payload_msg_parse(const char *in, bool tmpl, struct payload_tmpl *,
	    char *why, size_t whylen);
void	 payload_tmpl_dup(struct payload_tmpl *dst,
	    const struct payload_tmpl *);
bool	 payload_tmpl_equal(const struct payload_tmpl *,
	    const struct payload_tmpl *);
void	 payload_tmpl_free(struct payload_tmpl *);

/*
 * Write one message into buf and return its length.  buf must hold
 * tmpl->max_len bytes: if buflen is smaller, nothing is written and 0 is
 * returned (no message is empty).  *vars->rng must not be 0.
 */
size_t	 payload_expand(const struct payload_tmpl *,
	    const struct payload_vars *, char *buf, size_t buflen);

/* Append a template, which the list takes over (*tmpl is zeroed). */
int	 payload_add(struct payload *, struct payload_tmpl *, char *why,
	    size_t whylen);
void	 payload_dup(struct payload *dst, const struct payload *);
bool	 payload_equal(const struct payload *, const struct payload *);
void	 payload_free(struct payload *);

/* The message to send as number seq of a connection: in turn. */
static inline const struct payload_tmpl *
payload_pick(const struct payload *p, uint64_t seq)
{
	return &p->msgs[p->nmsgs == 1 ? 0 : seq % p->nmsgs];
}

#endif
