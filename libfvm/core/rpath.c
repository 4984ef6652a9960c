/*
 * rpath.c — mapping between the two sides of a path (fvm/vm.h): a virtual path to
 * its place in upper/ (fvm_upper_path), and a real path the kernel gave back (a cwd,
 * an fd's link) to the virtual path it shows the VM (fvm_narrow).
 *
 * Neither looks anything up: both are lexical, and never truncate (-ENAMETOOLONG).
 */
#include <errno.h>
#include <string.h>

#include "fvm/path.h"
#include "fvm/vm.h"

int fvm_upper_path(const struct fvm_vm *vm, const char *vpath, char *out, size_t outlen)
{
	size_t vl = strlen(vpath);

	if (vl == 1 && vpath[0] == '/') {
		vl = 0; /* upper/ itself, without a trailing slash */
	}
	if (vm->upper_len + vl + 1 > outlen) {
		return -ENAMETOOLONG;
	}
	memcpy(out, vm->upper, vm->upper_len);
	memcpy(out + vm->upper_len, vpath, vl + 1);
	return (int)(vm->upper_len + vl);
}

int fvm_narrow(const struct fvm_vm *vm, const char *rpath, char *out, size_t outlen)
{
	size_t rl = strlen(rpath);

	if (vm->upper_len && fvm_path_has_prefix(rpath, rl, vm->upper, vm->upper_len)) {
		const char *rest = rpath + vm->upper_len;
		size_t n = rl - vm->upper_len;
		if (n == 0) {
			rest = "/";
			n = 1;
		}
		if (n + 1 > outlen) {
			return -ENAMETOOLONG;
		}
		memmove(out, rest, n + 1);
		return (int)n;
	}
	/* A layer's object (a directory fd or cwd of a layer): its virtual path too. */
	for (unsigned i = 0; i < fvm_layer_count(vm); i++) {
		const char *lr = vm->policy->blob + vm->policy->layer_off[i];
		size_t ll = vm->policy->layer_len[i];
		if (fvm_path_has_prefix(rpath, rl, lr, ll)) {
			const char *rest = rl == ll ? "/" : rpath + ll;
			size_t n = rl == ll ? 1 : rl - ll;
			if (n + 1 > outlen) {
				return -ENAMETOOLONG;
			}
			memmove(out, rest, n + 1);
			return (int)n;
		}
	}
	if (rl + 1 > outlen) {
		return -ENAMETOOLONG;
	}
	if (out != rpath) {
		memmove(out, rpath, rl + 1);
	}
	return (int)rl;
}
