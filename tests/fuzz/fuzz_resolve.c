/*
 * fuzz_resolve.c — the resolver (fvm_resolve, libfvm/core) over a scratch VM built once
 * at start: a host tree with files, directories and symlinks of every kind (absolute,
 * relative, "..", a loop, dangling, into the store, into /proc), and a VM whose upper
 * layer holds a copied-up file, a whiteout, an opaque directory, a new directory and
 * an upper symlink; beneath it two read-only layers (store/layers/l0, l1: files over
 * the host and over each other, a whiteout, an opaque directory, a symlink, a
 * directory of their own); a policy with a shared, a hidden and a read-only directory.
 *
 * Input: one byte of flags (bit 0: FVM_R_NOFOLLOW), then the virtual path: taken as it
 * is when it starts with "/", else relative to the scratch host tree.
 *
 * Invariants, for any path: no crash, no sanitizer report; an error is one the contract
 * names (fvm/vm.h); a result's vpath is its length, canonical and never inside the
 * store (which the VM cannot see) unless it is a /proc path handed to the kernel; its
 * rpath is upper/VPATH for an upper or absent entry, LAYER/VPATH for a layer's,
 * VPATH itself for a host or shared one: never elsewhere in the store. With
 * the lookup cache (a VM generation attached) the answer is the one without it, the
 * first time and again from the cache.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/policy.h"
#include "fvm/vm.h"

static char dir[PATH_MAX], hostd[PATH_MAX];
static struct fvm_vm vm, vmc;
static struct fvm_policy pol;
static char layer[2][PATH_MAX];

static void must(int ok, const char *what, const char *path)
{
	if (!ok) {
		fuzz_fail(__FILE__, __LINE__, "setting up %s %s: %s", what, path, strerror(errno));
	}
}

/* PATH = DIR "/" REL, made absolute under the scratch directory. */
static const char *at(const char *base, const char *rel)
{
	static char buf[4][PATH_MAX * 2];
	static unsigned next;
	char *p = buf[next++ % 4];

	snprintf(p, PATH_MAX * 2, "%s/%s", base, rel);
	return p;
}

static void mkdirs(const char *path)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			must(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir", p);
			*s = '/';
		}
	}
	must(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir", p);
}

static void put(const char *path, const char *text)
{
	fuzz_write_file(path, (const uint8_t *)text, strlen(text));
}

static void link_to(const char *target, const char *path)
{
	must(symlink(target, path) == 0, "symlink", path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char root[PATH_MAX], store[PATH_MAX], upper_h[PATH_MAX * 2];

	(void)argc, (void)argv;
	fuzz_init_messages();
	snprintf(dir, sizeof(dir), "%s", fuzz_scratch_dir("resolve"));
	snprintf(hostd, sizeof(hostd), "%s/h", dir);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(root, sizeof(root), "%s/vms/v", store);

	/* The host tree. */
	mkdirs(at(hostd, "d/sub"));
	put(at(hostd, "d/f"), "host");
	put(at(hostd, "d/gone"), "whited out in the VM");
	put(at(hostd, "d/sub/g"), "g");
	mkdirs(at(hostd, "opq"));
	put(at(hostd, "opq/hostonly"), "hidden by the opaque upper directory");
	mkdirs(at(hostd, "shared"));
	put(at(hostd, "shared/s"), "s");
	mkdirs(at(hostd, "hidden"));
	put(at(hostd, "hidden/x"), "x");
	mkdirs(at(hostd, "ro"));
	put(at(hostd, "ro/r"), "r");
	mkdirs(at(hostd, "deep/a/b/c/d"));
	link_to(at(hostd, "d"), at(hostd, "abs"));
	link_to("d/sub", at(hostd, "rel"));
	link_to("..", at(hostd, "up"));
	link_to("loop", at(hostd, "loop"));
	link_to("nowhere", at(hostd, "dangling"));
	link_to(store, at(hostd, "tostore"));
	link_to("/proc/self/cwd", at(hostd, "toproc"));
	link_to("../shared/s", at(hostd, "d/toshared"));
	link_to("../../h/hidden", at(hostd, "deep/a/tohidden"));

	/* The VM and its upper layer. */
	mkdirs(at(root, "work"));
	snprintf(upper_h, sizeof(upper_h), "%s/upper%s", root, hostd);
	mkdirs(upper_h);
	mkdirs(at(upper_h, "d"));
	put(at(upper_h, "d/f"), "the VM's copy");
	put(at(upper_h, "d/" FVM_WH_PREFIX "gone"), "");
	mkdirs(at(upper_h, "opq"));
	put(at(upper_h, "opq/" FVM_WH_OPAQUE), "");
	put(at(upper_h, "opq/mine"), "mine");
	mkdirs(at(upper_h, "newdir"));
	put(at(upper_h, "newdir/n"), "n");
	link_to("/etc", at(upper_h, "ulink"));
	link_to("newdir/n", at(upper_h, "d/tonew"));

	/* The layers, l0 over l1, over the host. */
	for (int i = 0; i < 2; i++) {
		char lh[PATH_MAX * 2];
		snprintf(layer[i], sizeof(layer[i]), "%s/layers/l%d/tree", store, i);
		snprintf(lh, sizeof(lh), "%s%s", layer[i], hostd);
		mkdirs(at(lh, "d"));
		mkdirs(at(lh, "lay/in"));
		mkdirs(at(lh, "opl"));
	}
	char l0[PATH_MAX * 2], l1[PATH_MAX * 2];
	snprintf(l0, sizeof(l0), "%s%s", layer[0], hostd);
	snprintf(l1, sizeof(l1), "%s%s", layer[1], hostd);
	put(at(l1, "d/sub2"), "l1 file");
	put(at(l1, "d/gone2"), "l1, whited out by l0");
	put(at(l0, "d/" FVM_WH_PREFIX "gone2"), "");
	put(at(l0, "d/" FVM_WH_PREFIX "sub"), "");
	put(at(l1, "lay/in/x"), "l1 x");
	put(at(l0, "lay/in/x"), "l0 x");
	put(at(l1, "opl/below"), "hidden by l0's opaque directory");
	put(at(l0, "opl/" FVM_WH_OPAQUE), "");
	put(at(l0, "opl/top"), "l0");
	link_to("../d/sub2", at(l0, "lay/tosub2"));

	fvm_policy_init(&pol);
	must(fvm_policy_add_layer(&pol, layer[0]) == 0, "policy", layer[0]);
	must(fvm_policy_add_layer(&pol, layer[1]) == 0, "policy", layer[1]);
	must(fvm_policy_add_path(&pol, FVM_CLASS_SHARED, at(hostd, "shared")) == 0, "policy", "shared");
	must(fvm_policy_add_path(&pol, FVM_CLASS_HIDDEN, at(hostd, "hidden")) == 0, "policy", "hidden");
	must(fvm_policy_add_path(&pol, FVM_CLASS_READONLY, at(hostd, "ro")) == 0, "policy", "ro");
	must(fvm_vm_setup(&vm, "v", root, store) == 0, "vm", root);
	must(fvm_vm_setup(&vmc, "v", root, store) == 0, "vm", root);
	vm.policy = vmc.policy = &pol;
	must(fvm_gen_attach(&vmc) == 0, "generation", root);
	return 0;
}

static bool is_contract_error(int r)
{
	return r == -ENOENT || r == -ENOTDIR || r == -ELOOP || r == -ENAMETOOLONG || r == -EACCES ||
	       r == -EINVAL;
}

static void check_result(const char *vpath, int r, const struct fvm_res *res)
{
	char canon[PATH_MAX], expect[FVM_RPATH_MAX];

	if (r < 0) {
		if (!is_contract_error(r)) {
			fuzz_fail(__FILE__, __LINE__, "%s: error %d not in the contract", vpath, r);
		}
		return;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(strlen(res->vpath) == res->vlen && res->vpath[0] == '/');
	bool proc = fvm_path_has_prefix(res->vpath, res->vlen, "/proc", 5);
	if (!proc) {
		int n = fvm_path_normalize(res->vpath, canon, sizeof(canon), true);
		if (n < 0 || strcmp(canon, res->vpath) != 0) {
			fuzz_fail(__FILE__, __LINE__, "%s: vpath %s is not canonical", vpath, res->vpath);
		}
		if (fvm_path_has_prefix(res->vpath, res->vlen, vm.home, vm.home_len)) {
			fuzz_fail(__FILE__, __LINE__, "%s: vpath %s is in the store", vpath, res->vpath);
		}
	}
	bool in_place = (res->where == FVM_HOST && res->layer < 0) ||
			(res->where == FVM_ABSENT && res->klass == FVM_CLASS_SHARED);
	if (res->where == FVM_HOST && res->layer >= 0) {
		FUZZ_CHECK(res->layer < 2);
		FUZZ_CHECK(fvm_layer_path(&vm, (unsigned)res->layer, res->vpath, expect, sizeof(expect)) >= 0);
		if (strcmp(res->rpath, expect) != 0) {
			fuzz_fail(__FILE__, __LINE__, "%s: rpath %s, not its layer's", vpath, res->rpath);
		}
		return;
	}
	if (in_place) {
		FUZZ_CHECK(strcmp(res->rpath, res->vpath) == 0);
	} else {
		FUZZ_CHECK(fvm_upper_path(&vm, res->vpath, expect, sizeof(expect)) >= 0);
		if (strcmp(res->rpath, expect) != 0) {
			fuzz_fail(__FILE__, __LINE__, "%s: rpath %s, not upper/%s", vpath, res->rpath, res->vpath);
		}
	}
	size_t rl = strlen(res->rpath);
	if (fvm_path_has_prefix(res->rpath, rl, vm.home, vm.home_len) &&
	    !fvm_path_has_prefix(res->rpath, rl, vm.upper, vm.upper_len)) {
		fuzz_fail(__FILE__, __LINE__, "%s: rpath %s is in the store outside upper/", vpath, res->rpath);
	}
}

static bool same(int r1, const struct fvm_res *a, int r2, const struct fvm_res *b)
{
	if (r1 != r2) {
		return false;
	}
	return r1 < 0 || (a->where == b->where && a->klass == b->klass && a->whiteout == b->whiteout &&
			  strcmp(a->vpath, b->vpath) == 0 && strcmp(a->rpath, b->rpath) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fvm_res res, resc, resc2;
	char *path, *vpath;
	int flags, r, rc, rc2;

	if (size < 1) {
		return 0;
	}
	flags = data[0] & 1 ? FVM_R_NOFOLLOW : 0;
	path = fuzz_string(data + 1, size - 1);
	bool relative = path[0] != '/';
	if (relative) {
		if (asprintf(&vpath, "%s/%s", hostd, path) < 0) {
			abort();
		}
	} else {
		vpath = strdup(path);
	}
	r = fvm_resolve(&vm, vpath, flags, &res);
	check_result(vpath, r, &res);
	rc = fvm_resolve(&vmc, vpath, flags, &resc);
	check_result(vpath, rc, &resc);
	rc2 = fvm_resolve(&vmc, vpath, flags, &resc2);
	check_result(vpath, rc2, &resc2);
	/*
	 * Compared within the scratch tree only: elsewhere another process may change the
	 * host between two calls, and a changed host may be seen either way.
	 */
	if (relative && !strstr(path, "..") && !strstr(path, "toproc")) {
		if (!same(r, &res, rc, &resc) || !same(rc, &resc, rc2, &resc2)) {
			fuzz_fail(__FILE__, __LINE__, "%s: %d %s %s uncached, %d %s %s cached, %d %s %s again",
				  vpath, r, res.vpath, res.rpath, rc, resc.vpath, resc.rpath, rc2,
				  resc2.vpath, resc2.rpath);
		}
	}
	free(vpath);
	free(path);
	return 0;
}
