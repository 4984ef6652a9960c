/*
 * names.c — the upper names cache: which names upper/DIR holds, per thread, so that a
 * lookup in a directory the VM changed asks upper/ only for the names it has
 * (fvm_upper_names_record in fvm/vm.h, fvm_names_lack in lookup.h).
 *
 * Invariants:
 *  - A slot is valid only at the names generation read before its directory was
 *    listed (gen.c); every change of a name in upper/ that can hide a host name, and
 *    every change of mode, owner or xattrs, bumps that generation.
 *  - Names are kept as sorted 64-bit hashes: a collision can only make a lookup ask
 *    upper/ needlessly, never skip a name upper/ holds.
 *  - Per thread, and a signal handler that finds the cache in use skips it.
 */
#include <stdlib.h>
#include <string.h>

#include "fvm/layout.h"
#include "lookup.h"

#define NAMES_SLOTS 4
#define NAMES_MAX 65536

struct names_slot {
	uint64_t gen;        /* names generation when upper/DIR was read */
	size_t len, n;
	char *dir;           /* the virtual directory ("" for the root) */
	uint64_t *hash;      /* sorted */
};

static __thread struct names_slot names_cache[NAMES_SLOTS];
static __thread unsigned names_next;
static __thread bool names_busy; /* a signal handler finds the cache in use: skips it */

uint64_t fvm_name_hash(const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */

	for (size_t i = 0; i < len; i++) {
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	}
	return h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void fvm_upper_names_record(const struct fvm_vm *vm, const char *vdir, size_t len, uint64_t ngen,
			    uint64_t *hashes, size_t n)
{
	struct names_slot *sl;
	char *dir;

	(void)vm;
	if (len == 1 && vdir[0] == '/') {
		len = 0;
	}
	if (!ngen || n > NAMES_MAX || names_busy || !(dir = malloc(len + 1))) {
		return;
	}
	memcpy(dir, vdir, len);
	dir[len] = '\0';
	qsort(hashes, n, sizeof(*hashes), cmp_u64);
	uint64_t *copy = malloc((n ? n : 1) * sizeof(*copy));
	if (!copy) {
		free(dir);
		return;
	}
	memcpy(copy, hashes, n * sizeof(*copy));
	names_busy = true;
	sl = &names_cache[names_next++ % NAMES_SLOTS];
	free(sl->dir);
	free(sl->hash);
	*sl = (struct names_slot){.gen = ngen, .len = len, .n = n, .dir = dir, .hash = copy};
	names_busy = false;
}

static bool names_has(const struct names_slot *sl, uint64_t h)
{
	size_t lo = 0, hi = sl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sl->hash[mid] == h) {
			return true;
		}
		if (sl->hash[mid] < h) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return false;
}

bool fvm_names_lack(const struct fvm_vm *vm, const char *dir, size_t len, const char *name,
		    size_t nlen)
{
	uint64_t ngen = fvm_names_gen(vm);
	char wh[NAME_MAX + FVM_WH_PREFIX_LEN + 1];
	bool lack = false;

	if (!ngen || names_busy || nlen > NAME_MAX) {
		return false;
	}
	names_busy = true;
	for (unsigned i = 0; i < NAMES_SLOTS; i++) {
		const struct names_slot *sl = &names_cache[i];
		if (sl->dir && sl->gen == ngen && sl->len == len && memcmp(sl->dir, dir, len) == 0) {
			memcpy(wh, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN);
			memcpy(wh + FVM_WH_PREFIX_LEN, name, nlen);
			lack = !names_has(sl, fvm_name_hash(name, nlen)) &&
			       !names_has(sl, fvm_name_hash(wh, FVM_WH_PREFIX_LEN + nlen));
			break;
		}
	}
	names_busy = false;
	return lack;
}
