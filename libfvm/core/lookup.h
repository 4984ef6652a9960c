/*
 * lookup.h — what the core's lookup files share among themselves (not with libfvm's
 * wrappers nor the tools, which use fvm/vm.h): the lookup cache (dcache.c), the upper
 * names cache (names.c) and the plain-name test of the direct-call path (direct.c),
 * all used by the walk (resolve.c).
 */
#ifndef FVM_CORE_LOOKUP_H
#define FVM_CORE_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fvm/vm.h"

#define FVM_DCACHE_PATH 232 /* path (and, for a link, "\0" and its target) */

/*
 * DC_DIR: a directory and its walk state. DC_LINK: a host symlink and its text.
 * DC_FILE: a host object, neither directory nor link, in a directory with nothing in
 * upper/ (so that only a change that bumps the generation can put it in upper/).
 */
enum dcache_kind { DC_DIR, DC_LINK, DC_FILE };

/* What the cache knows of one canonical virtual path. */
struct dcache_val {
	enum dcache_kind kind;
	bool upper;       /* DC_DIR: cur_upper of the walk state */
	bool host;        /* DC_DIR: cur_host of the walk state */
	uint32_t layers;  /* DC_DIR: cur_layers of the walk state */
	size_t tlen;      /* DC_LINK: length of target */
	char target[FVM_DCACHE_PATH];
};

/* Records V for canonical PATH (LEN) at generation GEN (0: nothing), when it fits. */
void fvm_dcache_put(const char *path, size_t len, const struct dcache_val *v, uint64_t gen);

/* Records directory PATH (LEN) with its walk state. */
void fvm_dcache_put_dir(const char *path, size_t len, bool upper, uint32_t layers, bool host,
			uint64_t gen);

/* Looks canonical PATH (LEN) up at generation GEN; true with what is known in *V. */
bool fvm_dcache_get(const char *path, size_t len, uint64_t gen, struct dcache_val *v);

/* Whether PATH is cached at GEN as a host directory with nothing in upper/ nor a layer. */
bool fvm_dcache_host_dir(const char *path, size_t len, uint64_t gen);

/* fvm_dcache_host_dir, or a host object that is no link (DC_FILE). */
bool fvm_dcache_host_known(const char *path, size_t len, uint64_t gen);

/*
 * True when this thread knows, at the current names generation, that upper/DIR (LEN)
 * holds neither NAME (NLEN) nor its whiteout. A hash collision only ever answers
 * false (look it up), never true wrongly.
 */
bool fvm_names_lack(const struct fvm_vm *vm, const char *dir, size_t len, const char *name,
		    size_t nlen);

/*
 * Where VPATH (length VLEN) is a plain name: the offset of its last component when
 * its parent directory is lexically canonical ("/a/b/c": no empty, "." or ".."
 * component, no trailing "/") and the last component is an ordinary name; else 0.
 */
size_t fvm_plain_last(const char *vpath, size_t vlen);

/* All of VM's layers: a bit each. */
uint32_t fvm_layers_all(const struct fvm_vm *vm);

#endif
