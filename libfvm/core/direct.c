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

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "next_slash reads words little-endian"
#endif

/* The first "/" in [P, END), or END: eight bytes at a time (components are short). */
static inline const char *next_slash(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t w, x, m;
		memcpy(&w, p, 8);
		x = w ^ 0x2f2f2f2f2f2f2f2full;
		/* The lowest byte flagged is exact (a false flag only lies above a true one). */
		m = (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
		if (m) {
			return p + (__builtin_ctzll(m) >> 3);
		}
		p += 8;
	}
	while (p < end && *p != '/') {
		p++;
	}
	return p;
}

/*
 * One pass, hot on every call: only the bytes after a "/" are looked at closely. A
 * component is bad when it is empty, "." or ".."; vpath[0] is taken as the root's "/".
 */
size_t fvm_plain_last(const char *vpath, size_t vlen)
{
	const char *p = vpath + 1, *end = vpath + vlen, *start = p;

	if (vlen < 2 || end[-1] == '/') {
		return 0;
	}
	for (;;) {
		/* p is the start of a component, inside the path (the path ends in no "/"). */
		if (p[0] == '/' ||
		    (p[0] == '.' && (p + 1 == end || p[1] == '/' ||
				     (p[1] == '.' && (p + 2 == end || p[2] == '/'))))) {
			return 0;
		}
		start = p;
		p = next_slash(p, end);
		if (p == end) {
			return (size_t)(start - vpath);
		}
		p++;
	}
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
