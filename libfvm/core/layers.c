/*
 * layers.c — the VM's read-only layers between upper/ and the host (fvm/vm.h): their
 * real paths, the lower state of a directory, and the lower object beneath a name.
 *
 * Rules:
 *  - The layers are the policy image's (fvm/policy.h), top first; bit i of a mask is
 *    layer i. libfvm parses no text: fvm-exec compiled ctl/NAME/layers into the image.
 *  - Each layer is in OCI diff form: ".wh.NAME" hides NAME of the layers below and of
 *    the host, ".wh..wh..opq" in a directory hides every lower directory beneath it.
 *    Top-down, the first entry or whiteout wins; a non-directory hides what is below.
 *  - Only lstat and readdir are issued: layers are never written (the fence makes
 *    them read-only too), so what a run learnt of them stays true while it runs.
 */
#include <errno.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/sys.h"
#include "lookup.h"

unsigned fvm_layer_count(const struct fvm_vm *vm)
{
	return vm && vm->policy ? vm->policy->nlayers : 0;
}

uint32_t fvm_layers_all(const struct fvm_vm *vm)
{
	unsigned n = fvm_layer_count(vm);

	return n >= 32 ? ~(uint32_t)0 : ((uint32_t)1 << n) - 1;
}

int fvm_layer_path(const struct fvm_vm *vm, unsigned i, const char *vpath, char *out,
		   size_t outlen)
{
	const struct fvm_policy *pol = vm->policy;
	size_t ll = pol->layer_len[i], vl = strlen(vpath);

	if (vl == 1 && vpath[0] == '/') {
		vl = 0; /* the layer's root */
	}
	if (ll + vl + 1 > outlen) {
		return -ENAMETOOLONG;
	}
	memcpy(out, pol->blob + pol->layer_off[i], ll);
	memcpy(out + ll, vpath, vl);
	out[ll + vl] = '\0';
	return (int)(ll + vl);
}

/* True when layer path LP (a missing entry) has a whiteout beside it. */
static bool whited_out(const char *lp)
{
	char wh[FVM_RPATH_MAX + 8];
	struct stat st;

	return fvm_wh_path(lp, wh, sizeof(wh)) == 0 && sys_lstat(wh, &st) == 0;
}

void fvm_lower_descend(const struct fvm_vm *vm, uint32_t pmask, bool phost, const char *vpath,
		       size_t len, uint32_t *mask, bool *host)
{
	char lp[FVM_RPATH_MAX], op[FVM_RPATH_MAX + 16], v[PATH_MAX];
	struct stat st;

	*mask = 0;
	*host = false;
	if (len >= sizeof(v)) {
		return;
	}
	memcpy(v, vpath, len);
	v[len] = '\0';
	for (unsigned i = 0; pmask >> i; i++) {
		if (!(pmask & ((uint32_t)1 << i))) {
			continue;
		}
		if (fvm_layer_path(vm, i, len ? v : "/", lp, sizeof(lp)) < 0) {
			return;
		}
		if (sys_lstat(lp, &st) < 0) {
			if (whited_out(lp)) {
				return;
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			return;
		}
		*mask |= (uint32_t)1 << i;
		if (fvm_opaque_path(lp, op, sizeof(op)) == 0 && sys_lstat(op, &st) == 0) {
			return;
		}
	}
	*host = phost && sys_lstat(len ? v : "/", &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The lower object named NAME-ending VPATH in a directory whose lower state is PMASK,
 * PHOST: 1 with OUT and ST, 0 when none shows.
 */
static int lower_in(const struct fvm_vm *vm, uint32_t pmask, bool phost, const char *vpath,
		    char *out, size_t outlen, struct stat *st)
{
	for (unsigned i = 0; pmask >> i; i++) {
		if (!(pmask & ((uint32_t)1 << i))) {
			continue;
		}
		if (fvm_layer_path(vm, i, vpath, out, outlen) < 0) {
			return 0;
		}
		if (sys_lstat(out, st) == 0) {
			return 1;
		}
		if (whited_out(out)) {
			return 0;
		}
	}
	if (phost && strlen(vpath) < outlen && sys_lstat(vpath, st) == 0) {
		strcpy(out, vpath);
		return 1;
	}
	return 0;
}

int fvm_lower_find(const struct fvm_res *res, char *out, size_t outlen, struct stat *st)
{
	if (res->where == FVM_HOST) {
		if (strlen(res->rpath) >= outlen) {
			return 0;
		}
		strcpy(out, res->rpath);
		*st = res->st;
		return 1;
	}
	if (!res->parent_layers || !res->vm) {
		if (!res->parent_host || res->vlen >= outlen || sys_lstat(res->vpath, st) < 0) {
			return 0;
		}
		memcpy(out, res->vpath, res->vlen + 1);
		return 1;
	}
	return lower_in(res->vm, res->parent_layers, res->parent_host, res->vpath, out, outlen, st);
}

int fvm_lower_lookup(const struct fvm_vm *vm, const char *vpath, char *out, size_t outlen,
		     struct stat *st)
{
	uint32_t mask = fvm_layers_all(vm);
	bool host = true;
	size_t len = strlen(vpath);

	for (size_t i = 1; i <= len; i++) {
		if (i < len && vpath[i] != '/') {
			continue;
		}
		if (i == len) {
			char last[PATH_MAX];
			memcpy(last, vpath, len + 1);
			return lower_in(vm, mask, host, last, out, outlen, st);
		}
		fvm_lower_descend(vm, mask, host, vpath, i, &mask, &host);
		if (!mask && !host) {
			return 0;
		}
	}
	return 0;
}

int fvm_each_lower_entry(const struct fvm_res *res,
			 int (*fn)(const char *name, unsigned char type, void *arg), void *arg)
{
	char lp[FVM_RPATH_MAX];
	uint32_t mask = 0;
	bool host = true; /* without layers: the caller saw the host show through */
	int ret;

	if (res->vm && res->parent_layers) {
		fvm_lower_descend(res->vm, res->parent_layers, res->parent_host, res->vpath, res->vlen,
				  &mask, &host);
	}
	for (unsigned i = 0; mask >> i; i++) {
		if (!(mask & ((uint32_t)1 << i))) {
			continue;
		}
		if (fvm_layer_path(res->vm, i, res->vpath, lp, sizeof(lp)) < 0) {
			return -ENAMETOOLONG;
		}
		ret = fvm_each_entry(lp, fn, arg);
		if (ret != 0 && ret != -ENOENT && ret != -ENOTDIR) {
			return ret;
		}
	}
	if (!host) {
		return 0;
	}
	ret = fvm_each_entry(res->vpath, fn, arg);
	return ret == -ENOENT || ret == -ENOTDIR ? 0 : ret;
}
