/*
 * quota.c — the VM's disk quotas (disk-limit, files-limit: fvm/vm.h "quotas"): the
 * size of the regular files upper/ holds and the number of its entries, counted in the
 * VM's shared state file and checked before upper/ grows.
 *
 * Rules:
 *  - The usage is two 64-bit words of ROOT/state (FVM_STATE_BYTES, FVM_STATE_FILES),
 *    mapped by every process of the VM with the generation counter (gen.c) and changed
 *    only with atomic operations. fvm-exec sets them from a walk of upper/ at each run's
 *    start when a limit is set (the walk is the truth; the words are a running tally).
 *  - A reservation is made before upper/ grows and is all or nothing: a compare-and-swap
 *    that would carry a word past its limit fails with -EDQUOT, and the caller changes
 *    nothing. What did not happen after all is given back (fvm_quota_add with negative
 *    figures); figures never go below 0.
 *  - The words are the generation counter's mapping (libfvm), or vm->quota alone (the
 *    supervisor, which maps them for the calls it makes for static programs but keeps
 *    no cache the generation would validate).
 *  - Without a limit in the policy, or without the mapping (the tools), every function
 *    returns at once: a VM without quotas pays one load and a compare.
 *  - The counts are as `fvm list` counts a layer (store_vm_usage): each entry of upper/
 *    one (whiteouts and the opaque markers too), each regular file's apparent size.
 */
#include <errno.h>

#include "fvm/layout.h"
#include "fvm/vm.h"

/* The mapped words (gen.c's first page), or NULL. */
static inline uint64_t *words(const struct fvm_vm *vm)
{
	return vm->quota ? vm->quota : vm->gen.counter;
}

bool fvm_quota_on(const struct fvm_vm *vm)
{
	const struct fvm_policy *pol = vm->policy;

	return pol && (pol->disk_limit || pol->files_limit) && words(vm);
}

/* Adds DELTA to *WORD unless the result would pass LIMIT (0: none); never below 0. */
static int word_add(uint64_t *word, int64_t delta, uint64_t limit)
{
	uint64_t old = __atomic_load_n(word, __ATOMIC_RELAXED), new;

	do {
		if (delta < 0) {
			new = old > (uint64_t)-delta ? old + (uint64_t)delta : 0;
		} else {
			new = old + (uint64_t)delta;
			if (limit && delta > 0 && (new > limit || new < old)) {
				return -EDQUOT;
			}
		}
	} while (!__atomic_compare_exchange_n(word, &old, new, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	return 0;
}

int fvm_quota_reserve(const struct fvm_vm *vm, uint64_t bytes, uint64_t files)
{
	if (!fvm_quota_on(vm)) {
		return 0;
	}
	uint64_t *w = words(vm);
	if (files && word_add(&w[FVM_STATE_FILES], (int64_t)files, vm->policy->files_limit) < 0) {
		return -EDQUOT;
	}
	if (bytes && word_add(&w[FVM_STATE_BYTES], (int64_t)bytes, vm->policy->disk_limit) < 0) {
		word_add(&w[FVM_STATE_FILES], -(int64_t)files, 0);
		return -EDQUOT;
	}
	return 0;
}

void fvm_quota_add(const struct fvm_vm *vm, int64_t bytes, int64_t files)
{
	if (!fvm_quota_on(vm)) {
		return;
	}
	word_add(&words(vm)[FVM_STATE_FILES], files, 0);
	word_add(&words(vm)[FVM_STATE_BYTES], bytes, 0);
}

uint64_t fvm_quota_room(const struct fvm_vm *vm)
{
	if (!fvm_quota_on(vm) || !vm->policy->disk_limit) {
		return UINT64_MAX;
	}
	uint64_t used = __atomic_load_n(&words(vm)[FVM_STATE_BYTES], __ATOMIC_RELAXED);
	return used >= vm->policy->disk_limit ? 0 : vm->policy->disk_limit - used;
}

int fvm_quota_may_create(const struct fvm_vm *vm)
{
	if (!fvm_quota_on(vm) || !vm->policy->files_limit) {
		return 0;
	}
	return __atomic_load_n(&words(vm)[FVM_STATE_FILES], __ATOMIC_RELAXED) >= vm->policy->files_limit
		       ? -EDQUOT
		       : 0;
}
