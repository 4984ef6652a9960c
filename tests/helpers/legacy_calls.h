/*
 * legacy_calls.h — the libc calls glibc's linker warns about (mktemp, tempnam, tmpnam,
 * tmpnam_r, getwd), for the helpers that test libfvm's wrappers of them.
 *
 * Rules:
 * - A helper calls them only through LEGACY(name): the address comes from
 *   dlsym(RTLD_DEFAULT), which finds the definition a direct call would bind to
 *   (libfvm's inside a VM, libc's outside), and the link names no such symbol, so
 *   `make check` prints no linker warning.
 * - A missing symbol ends the helper (status 99): a test must not pass by skipping.
 */
#ifndef FVM_TESTS_LEGACY_CALLS_H
#define FVM_TESTS_LEGACY_CALLS_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static inline void *legacy_call(const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);

	if (!p) {
		fprintf(stderr, "no %s in this process: %s\n", name, dlerror());
		exit(99);
	}
	return p;
}

/* __typeof__ takes the type only: no reference to NAME reaches the linker. */
#define LEGACY(name) ((__typeof__(&name))legacy_call(#name))

#endif
