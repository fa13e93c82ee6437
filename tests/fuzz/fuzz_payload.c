/* SPDX-License-Identifier: ISC */
/*
 * fuzz_payload.c -- the payload template parser (model/payload.c).
 *
 * The input is a message as libconfig would hand it over: parsed as a
 * template (payload_tmpl_parse, NUL bytes and all), and as a C string by
 * payload_msg_parse (with and without template = true) and
 * payload_hex_decode.  An accepted template must be well formed (its
 * segments inside its bytes, is_static when it has no field), expand
 * within max_len with the widest values a worker can pass (and write
 * nothing into a buffer one byte short), and survive dup, equal and free.
 */
#include <stdbool.h>
#include <string.h>

#include "common/cmd.h"
#include "model/payload.h"

#include "fuzz.h"

static void
check_tmpl(const struct payload_tmpl *t)
{
	struct payload_tmpl	 d;
	struct payload_vars	 v;
	uint64_t		 rng = 0x9e3779b97f4a7c15ULL;
	size_t			 n, lit = 0;
	bool			 field = false;
	char			*buf, name[LOAD_NAME_MAX];

	FUZZ_CHECK(t->nsegs > 0 && t->segs != NULL && t->bytes != NULL,
	    "%u segments", t->nsegs);
	FUZZ_CHECK(t->bytes[t->nbytes] == '\0', "bytes not NUL-ended");
	for (unsigned i = 0; i < t->nsegs; i++) {
		const struct payload_seg *s = &t->segs[i];

		switch (s->kind) {
		case PF_LITERAL:
			FUZZ_CHECK(s->len > 0 && s->off <= t->nbytes &&
			    s->len <= t->nbytes - s->off, "literal %u+%u "
			    "of %zu", s->off, s->len, t->nbytes);
			lit += s->len;
			break;
		case PF_RAND:
			FUZZ_CHECK(s->len >= 1 && s->len <= PAYLOAD_RAND_MAX,
			    "{rand:%u}", s->len);
			field = true;
			break;
		case PF_SEQ:
		case PF_CONN:
		case PF_LOAD:
		case PF_TIME_US:
			field = true;
			break;
		default:
			FUZZ_CHECK(0, "segment kind %d", (int)s->kind);
		}
	}
	FUZZ_CHECK(lit == t->nbytes, "literals %zu of %zu bytes", lit,
	    t->nbytes);
	FUZZ_CHECK(t->is_static == !field, "is_static %d", t->is_static);
	FUZZ_CHECK(t->max_len >= t->nbytes && t->max_len > 0, "max_len %zu",
	    t->max_len);

	/* The widest values: every number 20 digits, the longest name. */
	memset(&v, 0, sizeof(v));
	v.seq = UINT64_MAX;
	v.conn = UINT64_MAX;
	v.time_us = UINT64_MAX;
	memset(name, 'n', sizeof(name));
	v.load = name;
	v.load_len = sizeof(name) - 1;
	v.rng = &rng;
	buf = malloc(t->max_len);
	FUZZ_CHECK(buf != NULL, "malloc");
	n = payload_expand(t, &v, buf, t->max_len);
	FUZZ_CHECK(n > 0 && n <= t->max_len, "expanded to %zu of %zu", n,
	    t->max_len);
	if (t->is_static)
		FUZZ_CHECK(n == t->nbytes && memcmp(buf, t->bytes, n) == 0,
		    "a static template expanded to other bytes");
	/* And with the narrowest, in a buffer one byte short: nothing. */
	v.seq = v.conn = v.time_us = 0;
	v.load_len = 1;
	FUZZ_CHECK(payload_expand(t, &v, buf, t->max_len - 1) == 0,
	    "wrote into a buffer too small");
	free(buf);

	payload_tmpl_dup(&d, t);
	FUZZ_CHECK(payload_tmpl_equal(&d, t), "a dup differs");
	payload_tmpl_free(&d);
}

static void
check_why(const char *why, size_t len)
{
	size_t	 n = strnlen(why, len);

	FUZZ_CHECK(n > 0 && n < len, "reason of %zu bytes", n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct payload_tmpl	 t;
	char			 why[512], *s, *out;
	size_t			 outlen;

	if (payload_tmpl_parse((const char *)data, size, &t, why,
	    sizeof(why)) == 0) {
		check_tmpl(&t);
		payload_tmpl_free(&t);
	} else
		check_why(why, sizeof(why));

	/* As a profile's string: up to the first NUL. */
	s = malloc(size + 1);
	FUZZ_CHECK(s != NULL, "malloc");
	memcpy(s, data, size);
	s[size] = '\0';
	for (int tmpl = 0; tmpl <= 1; tmpl++) {
		if (payload_msg_parse(s, tmpl, &t, why, sizeof(why)) == 0) {
			check_tmpl(&t);
			if (!tmpl)
				FUZZ_CHECK(t.is_static, "fields without "
				    "template = true");
			payload_tmpl_free(&t);
		} else
			check_why(why, sizeof(why));
	}
	if (payload_hex_decode(s, &out, &outlen, why, sizeof(why)) == 0) {
		FUZZ_CHECK(out[outlen] == '\0', "hex not NUL-ended");
		FUZZ_CHECK(outlen <= strlen(s) / 2, "%zu bytes of hex from %zu",
		    outlen, strlen(s));
		free(out);
	} else
		check_why(why, sizeof(why));
	free(s);
	return 0;
}
