/*
 * fuzz_path.c — the lexical path canonicaliser (fvm_path_normalize, libfvm/core/path.c)
 * and its companions fvm_path_join, fvm_path_has_prefix and fvm_path_base_off.
 *
 * Input: one byte of parameters (the output buffer's size, whether ".." is resolved),
 * then the path, cut at its first NUL.
 *
 * Invariants: nothing is written past the buffer (it is allocated to its exact size);
 * a result is absolute, has no empty or "." component, no trailing "/" (but "/"), no
 * ".." when dotdot is asked for, its length is the value returned, and normalising it
 * again changes nothing; a buffer too small gives -ENAMETOOLONG, never a cut result,
 * and a buffer that is large enough gives the same result as a large one. The result
 * lies beneath each of its own ancestors, and its last component starts at
 * fvm_path_base_off.
 */
#include "fuzz.h"

#include <limits.h>

#include "fvm/path.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_init_messages();
	return 0;
}

static void check_canonical(const char *p, size_t len, bool dotdot)
{
	FUZZ_CHECK(strlen(p) == len);
	FUZZ_CHECK(p[0] == '/');
	FUZZ_CHECK(len == 1 || p[len - 1] != '/');
	FUZZ_CHECK(!strstr(p, "//"));
	for (const char *c = p; *c;) {
		const char *e = strchr(c + 1, '/');
		size_t n = e ? (size_t)(e - c - 1) : strlen(c + 1);
		FUZZ_CHECK(!(n == 1 && c[1] == '.'));
		FUZZ_CHECK(!(dotdot && n == 2 && c[1] == '.' && c[2] == '.'));
		if (!e) {
			break;
		}
		c = e;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	bool dotdot = data[0] & 1;
	/* Sizes from 0 (refused) to a little over twice the input, to cross every edge. */
	size_t outlen = (size_t)(data[0] >> 1) * (size + 2) / 64;
	char *in = fuzz_string(data + 1, size - 1);
	size_t biglen = 2 * strlen(in) + 4;
	char *big = malloc(biglen), *out = malloc(outlen ? outlen : 1), *again = malloc(biglen);
	int n, m;

	if (!big || !out || !again) {
		abort();
	}
	n = fvm_path_normalize(in, big, biglen, dotdot);
	FUZZ_CHECK(n > 0);
	check_canonical(big, (size_t)n, dotdot);
	m = fvm_path_normalize(big, again, biglen, dotdot);
	FUZZ_CHECK(m == n && strcmp(again, big) == 0);

	m = fvm_path_normalize(in, out, outlen, dotdot);
	if (m >= 0) {
		FUZZ_CHECK(m == n && strcmp(out, big) == 0);
	} else {
		FUZZ_CHECK(m == -ENAMETOOLONG);
		FUZZ_CHECK(outlen <= (size_t)n || dotdot);
	}

	/* Every ancestor of the result is a prefix of it, at a component boundary. */
	size_t base = fvm_path_base_off(big, (size_t)n);
	FUZZ_CHECK(base >= 1 && big[base - 1] == '/');
	FUZZ_CHECK(!strchr(big + base, '/'));
	for (size_t i = 1; i < (size_t)n; i++) {
		if (big[i] == '/') {
			FUZZ_CHECK(fvm_path_has_prefix(big, (size_t)n, big, i));
			FUZZ_CHECK(i + 1 == (size_t)n || !fvm_path_has_prefix(big, (size_t)n, big, i + 1));
		}
	}
	FUZZ_CHECK(fvm_path_has_prefix(big, (size_t)n, "/", 1));

	/* Joining a relative path onto the result: a canonical path beneath it (".." kept). */
	const char *rel = in;
	while (*rel == '/') {
		rel++;
	}
	char *joined = malloc(biglen + (size_t)n + 2);
	if (!joined) {
		abort();
	}
	m = fvm_path_join(big, rel, joined, biglen + (size_t)n + 2);
	FUZZ_CHECK(m > 0);
	check_canonical(joined, (size_t)m, false);
	FUZZ_CHECK(fvm_path_has_prefix(joined, (size_t)m, big, (size_t)n));
	free(joined);
	free(again);
	free(out);
	free(big);
	free(in);
	return 0;
}
