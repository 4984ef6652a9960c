/*
 * direct.c — the direct-call fast path (fvm_host_direct in fvm/vm.h): whether a call
 * on a virtual path may go to the kernel as it is, because the lookup cache knows the
 * name is the host's own, in a directory the VM never changed.
 *
 * Invariants: the answer is never DIRECT for a name the walk would treat otherwise —
 * a non-canonical path, a whiteout name, a path whose class is not VIRTUAL, the
 * hidden store — and only a cache entry of the current generation can make it so.
 */
#include <string.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "lookup.h"

/* vpath[0] is taken as the root's "/"; the rest must be plain (fvm_path_plain). */
size_t fvm_plain_last(const char *vpath, size_t vlen)
{
	const char *last;

	if (vlen < 2 || vpath[vlen - 1] == '/' ||
	    !(last = fvm_path_plain(vpath + 1, vpath + vlen, true))) {
		return 0;
	}
	return (size_t)(last - vpath);
}

void fvm_host_known(const struct fvm_vm *vm, const char *vpath, size_t len, bool dir)
{
	struct dcache_val v = {.kind = dir ? DC_DIR : DC_FILE, .upper = false, .host = true,
				 .layers = 0};
	uint64_t gen = fvm_gen_now(vm);

	fvm_dcache_put(vpath, len, &v, gen);
}

enum fvm_direct fvm_host_direct(const struct fvm_vm *vm, const char *vpath, size_t len,
				enum fvm_direct want)
{
	return fvm_host_direct_off(vm, vpath, len, 0, want);
}

enum fvm_direct fvm_host_direct_off(const struct fvm_vm *vm, const char *vpath, size_t len,
				    size_t lastoff, enum fvm_direct want)
{
	uint64_t gen = fvm_gen_now(vm);
	size_t off = !gen ? 0 : lastoff >= 2 ? lastoff : fvm_plain_last(vpath, len);

	if (off < 2 || fvm_is_wh_name(vpath + off, len - off) ||
	    fvm_policy_class(vm->policy, vpath, len) != FVM_CLASS_VIRTUAL ||
	    (vm->home_len && fvm_path_has_prefix(vpath, len, vm->home, vm->home_len))) {
		return FVM_DIRECT_NO;
	}
	/* The parent first where it will do: one lookup instead of two. */
	if (want == FVM_DIRECT_PARENT && fvm_dcache_host_dir(vpath, off - 1, gen)) {
		return FVM_DIRECT_PARENT;
	}
	if (fvm_dcache_host_known(vpath, len, gen)) {
		return FVM_DIRECT_KNOWN;
	}
	return FVM_DIRECT_NO;
}
