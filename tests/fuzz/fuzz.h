/* SPDX-License-Identifier: ISC */
/*
 * tests/fuzz/fuzz.h -- what the libFuzzer harnesses share: the entry
 * points libFuzzer calls and a check that stops the run on a broken
 * invariant (abort(), which libFuzzer reports as a crash with its input).
 */
#ifndef LOADD_TESTS_FUZZ_H
#define LOADD_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,	\
		    __LINE__, #cond);					\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

#endif
