/*
 * dcache.c — the lookup cache: what the walk (resolve.c) learnt of canonical virtual
 * directories and host symlinks, per process (lookup.h).
 *
 * Invariants:
 *  - Every entry is tagged with the VM generation read before the walk that made it
 *    (gen.c); an entry of another generation is never used, and generation 0 (no
 *    counter: the tools) caches nothing.
 *  - Only the VM's own changes to directories and links bump the generation (a
 *    regular file's copy-up, creation or removal changes no cached state): a host
 *    directory or link replaced while the VM runs is seen as the kernel sees it.
 *  - Lock-free and signal-safe: an entry is a seqlock; a reader that sees it change,
 *    and a writer that finds it taken, just go without (the walk looks it up).
 *  - Direct-mapped by a hash of the path, with no allocation: a miss costs a compare.
 */
#include <string.h>

#include "fvm/path.h"
#include "lookup.h"

#define DCACHE_N 512 /* entries, direct-mapped by hash of the path */

struct dcache_ent {
	unsigned seq;     /* odd while an entry is written */
	unsigned char kind;
	bool upper;
	bool host;
	unsigned short len, tlen;
	uint32_t layers;  /* in what was padding: an entry stays 256 bytes */
	uint64_t gen;
	char path[FVM_DCACHE_PATH];  /* path, then for a link "\0" target */
};

/* In .lbss, after the small variables (FVM_LARGE_BSS in libfvm.h says why). */
#if defined(__x86_64__)
static struct dcache_ent dcache[DCACHE_N] __attribute__((section(".lbss.fvm")));
#else
static struct dcache_ent dcache[DCACHE_N];
#endif

/* The slot of PATH: the top bits of its hash (two lookups per wrapped call). */
static unsigned dcache_slot(const char *path, size_t len)
{
	return (unsigned)(fvm_path_hash(path, len) >> 40) % DCACHE_N;
}

void fvm_dcache_put(const char *path, size_t len, const struct dcache_val *v, uint64_t gen)
{
	struct dcache_ent *e;
	unsigned seq;
	size_t tlen = v->kind == DC_LINK ? v->tlen : 0;

	if (!gen || len + 1 + tlen >= FVM_DCACHE_PATH) {
		return;
	}
	e = &dcache[dcache_slot(path, len)];
	seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	if (!(seq & 1) && e->gen == gen && e->kind == (unsigned char)v->kind && e->len == len &&
	    e->upper == v->upper && e->host == v->host && e->tlen == tlen &&
	    e->layers == (v->kind == DC_DIR ? v->layers : 0) &&
	    memcmp(e->path, path, len) == 0) {
		return; /* known already: no write (after a fork, a write costs a page copy) */
	}
	/* A writer interrupted by a signal handler (or another thread) keeps the entry. */
	if ((seq & 1) || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false,
						      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		return;
	}
	e->kind = (unsigned char)v->kind;
	e->upper = v->upper;
	e->host = v->host;
	e->layers = v->kind == DC_DIR ? v->layers : 0;
	e->len = (unsigned short)len;
	e->tlen = (unsigned short)tlen;
	e->gen = gen;
	memcpy(e->path, path, len);
	e->path[len] = '\0';
	memcpy(e->path + len + 1, v->target, tlen);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

void fvm_dcache_put_dir(const char *path, size_t len, bool upper, uint32_t layers, bool host,
			uint64_t gen)
{
	struct dcache_val v = {.kind = DC_DIR, .upper = upper, .host = host, .layers = layers};

	fvm_dcache_put(path, len, &v, gen);
}

bool fvm_dcache_get(const char *path, size_t len, uint64_t gen, struct dcache_val *v)
{
	const struct dcache_ent *e;
	unsigned seq;
	bool hit;

	if (!gen || len >= FVM_DCACHE_PATH) {
		return false;
	}
	e = &dcache[dcache_slot(path, len)];
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	if (seq & 1) {
		return false;
	}
	hit = e->gen == gen && e->len == len && memcmp(e->path, path, len) == 0;
	if (hit) {
		v->kind = (enum dcache_kind)e->kind;
		v->upper = e->upper;
		v->host = e->host;
		v->layers = e->layers;
		v->tlen = e->tlen < FVM_DCACHE_PATH - len - 1 ? e->tlen : 0;
		memcpy(v->target, e->path + len + 1, v->tlen);
		v->target[v->tlen] = '\0';
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return hit && __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq;
}

/*
 * What fvm_host_direct asks, without copying an entry out: whether PATH is a host
 * directory with nothing in upper/ nor a layer (DIR_ONLY), or that or a plain host
 * object (a DC_FILE).
 */
static bool dcache_host(const char *path, size_t len, uint64_t gen, bool dir_only)
{
	const struct dcache_ent *e;
	unsigned seq;
	bool hit;

	if (!gen || len >= FVM_DCACHE_PATH) {
		return false;
	}
	e = &dcache[dcache_slot(path, len)];
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	if (seq & 1) {
		return false;
	}
	hit = e->gen == gen && e->len == len &&
	      ((e->kind == DC_DIR && !e->upper && !e->layers && e->host) ||
	       (!dir_only && e->kind == DC_FILE)) &&
	      memcmp(e->path, path, len) == 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return hit && __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq;
}

bool fvm_dcache_host_dir(const char *path, size_t len, uint64_t gen)
{
	return dcache_host(path, len, gen, true);
}

bool fvm_dcache_host_known(const char *path, size_t len, uint64_t gen)
{
	return dcache_host(path, len, gen, false);
}

bool fvm_dir_host_only(const struct fvm_vm *vm, const char *vpath, size_t len)
{
	struct dcache_val v;
	uint64_t gen = fvm_gen_now(vm);

	return fvm_dcache_get(vpath, len, gen, &v) && v.kind == DC_DIR && !v.upper && !v.layers &&
	       v.host;
}
