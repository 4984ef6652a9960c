/*
 * direct.c — the direct-call fast path (fvm_host_direct in fvm/vm.h): whether a call
 * on a virtual path may go to the kernel as it is, because the lookup cache knows the
 * name is the host's own, in a directory the VM never changed.
 *
 * Invariants: the answer is never DIRECT for a name the walk would treat otherwise —
 * a non-canonical path, a whiteout name, a path whose class is not VIRTUAL, the
 * hidden store — and only a cache entry of the current generation can make it so.
 */
#include "fvm/layout.h"
#include "fvm/path.h"
#include "lookup.h"

size_t fvm_plain_last(const char *vpath, size_t vlen)
{
	size_t i, start = 1;

	if (vlen < 2 || vpath[vlen - 1] == '/') {
		return 0;
	}
	for (i = 1; i <= vlen; i++) {
		if (i < vlen && vpath[i] != '/') {
			continue;
		}
		size_t n = i - start;
		if (n == 0 || (vpath[start] == '.' && (n == 1 || (n == 2 && vpath[start + 1] == '.')))) {
			return 0;
		}
		if (i < vlen) {
			start = i + 1;
		}
	}
	return start;
}

void fvm_host_known(const struct fvm_vm *vm, const char *vpath, size_t len, bool dir)
{
	struct dcache_val v = {.kind = dir ? DC_DIR : DC_FILE, .upper = false, .host = true,
				 .layers = 0};
	uint64_t gen = fvm_gen_now(vm);

	fvm_dcache_put(vpath, len, &v, gen);
}

enum fvm_direct fvm_host_direct(const struct fvm_vm *vm, const char *vpath, size_t len)
{
	struct dcache_val v;
	uint64_t gen = fvm_gen_now(vm);
	size_t off = gen ? fvm_plain_last(vpath, len) : 0;

	if (off < 2 || fvm_is_wh_name(vpath + off, len - off) ||
	    fvm_policy_class(vm->policy, vpath, len) != FVM_CLASS_VIRTUAL ||
	    (vm->home_len && fvm_path_has_prefix(vpath, len, vm->home, vm->home_len))) {
		return FVM_DIRECT_NO;
	}
	if (fvm_dcache_get(vpath, len, gen, &v) &&
	    (v.kind == DC_FILE || (v.kind == DC_DIR && !v.upper && !v.layers && v.host))) {
		return FVM_DIRECT_KNOWN;
	}
	if (fvm_dcache_get(vpath, off - 1, gen, &v) && v.kind == DC_DIR && !v.upper && !v.layers && v.host) {
		return FVM_DIRECT_PARENT;
	}
	return FVM_DIRECT_NO;
}
