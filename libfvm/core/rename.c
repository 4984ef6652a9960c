/*
 * rename.c — rename in the virtual namespace, files and directories alike (fvm/vm.h).
 *
 * A directory that still draws entries from the host is first copied up whole and made
 * opaque; then every rename is a rename inside upper/, which the kernel does atomically,
 * so a directory rename never fails with EXDEV the way overlayfs's does.
 *
 * Invariant (crash order): the whiteout that hides the old host name is written before
 * the upper entry moves, and the whiteout at the new name is removed only after it
 * arrived, so at every instant each name shows either its old or its new object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/sys.h"
#include "fvm/vm.h"

struct tree_ctx {
	const struct fvm_vm *vm;
	const char *vpath;
	int ret;
};

static int copy_child(const char *name, unsigned char type, void *arg)
{
	struct tree_ctx *ctx = arg;
	struct fvm_res *child;
	char vpath[PATH_MAX];
	int ret;

	(void)type;
	if (fvm_is_wh_name(name, strlen(name))) {
		return 0;
	}
	if (snprintf(vpath, sizeof(vpath), "%s/%s", ctx->vpath, name) >= (int)sizeof(vpath)) {
		return -ENAMETOOLONG;
	}
	child = malloc(sizeof(*child));
	if (!child) {
		return -ENOMEM;
	}
	ret = fvm_resolve(ctx->vm, vpath, FVM_R_NOFOLLOW, child);
	if (ret == 0 && child->where != FVM_ABSENT) {
		if (S_ISDIR(child->st.st_mode)) {
			ret = fvm_copy_up_tree(ctx->vm, child);
		} else if (child->where == FVM_HOST) {
			ret = fvm_copy_up(ctx->vm, child, true);
		}
	}
	free(child);
	return ret;
}

int fvm_copy_up_tree(const struct fvm_vm *vm, struct fvm_res *res)
{
	char op[FVM_RPATH_MAX + 16];
	bool host = fvm_host_shows(res);
	int ret;

	if (!S_ISDIR(res->st.st_mode)) {
		return -ENOTDIR;
	}
	if (res->where == FVM_HOST) {
		ret = fvm_copy_up(vm, res, false);
		if (ret < 0) {
			return ret;
		}
	}
	if (host && !fvm_is_opaque(res->rpath)) {
		struct tree_ctx ctx = {.vm = vm, .vpath = res->vpath};
		ret = fvm_each_lower_entry(res, copy_child, &ctx);
		if (ret < 0) {
			return ret;
		}
		if (fvm_opaque_path(res->rpath, op, sizeof(op)) < 0) {
			return -ENAMETOOLONG;
		}
		int fd = sys_openat(AT_FDCWD, op, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			return fd;
		}
		sys_close(fd);
		fvm_gen_bump(vm); /* the host no longer shows through here */
	}
	return 0;
}

/* Makes the object of RES live wholly in upper/ (a tree for a directory). */
static int own_object(const struct fvm_vm *vm, struct fvm_res *res)
{
	if (S_ISDIR(res->st.st_mode)) {
		return fvm_copy_up_tree(vm, res);
	}
	return res->where == FVM_HOST ? fvm_copy_up(vm, res, true) : 0;
}

static int touch(const char *rpath)
{
	int fd = sys_openat(AT_FDCWD, rpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		return fd;
	}
	sys_close(fd);
	return 0;
}

static int rename_entry(const struct fvm_vm *vm, struct fvm_res *oldr, struct fvm_res *newr,
			unsigned flags);

static int any_entry(const char *name, unsigned char type, void *arg)
{
	(void)name;
	(void)type;
	(void)arg;
	return 1;
}

/*
 * True when RES is a directory living wholly in upper/ with nothing in it (no entry, no
 * whiteout, no opaque marker) and nothing of the host beneath: the kernel's rename can
 * replace it itself, atomically, and leaves it in place when it refuses the rename.
 */
static bool upper_only_empty_dir(const struct fvm_res *res)
{
	return res->where == FVM_UPPER && S_ISDIR(res->st.st_mode) && !fvm_host_shows(res) &&
	       fvm_each_entry(res->rpath, any_entry, NULL) == 0;
}

int fvm_rename(const struct fvm_vm *vm, struct fvm_res *oldr, struct fvm_res *newr, unsigned flags)
{
	/* For the disk quotas (quota.c): what a replacing rename frees and leaves. */
	bool counted = fvm_quota_on(vm) && !(flags & RENAME_EXCHANGE) && oldr->klass != FVM_CLASS_SHARED &&
		       oldr->where != FVM_ABSENT && strcmp(oldr->vpath, newr->vpath) != 0;
	bool replaced = counted && newr->where == FVM_UPPER;
	int64_t freed = replaced && S_ISREG(newr->st.st_mode) ? (int64_t)newr->st.st_size : 0;
	bool leaves_whiteout = counted && fvm_host_shows(oldr);
	bool takes_whiteout = counted && newr->whiteout;
	int ret = rename_entry(vm, oldr, newr, flags);

	if (ret == 0 && counted) {
		fvm_quota_add(vm, -freed, (replaced ? -1 : 0) + (leaves_whiteout ? 1 : 0) - (takes_whiteout ? 1 : 0));
	}

	/* Whiteouts, opaque markers and moved upper directories, even of a failed rename. */
	fvm_gen_bump(vm);
	return ret;
}

static int rename_entry(const struct fvm_vm *vm, struct fvm_res *oldr, struct fvm_res *newr,
			unsigned flags)
{
	char newup[FVM_RPATH_MAX], wh[FVM_RPATH_MAX + 8];
	bool old_dir, old_host, new_host;
	struct stat st;
	int ret;

	if (oldr->where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (oldr->klass == FVM_CLASS_READONLY || newr->klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	if ((oldr->klass == FVM_CLASS_SHARED) != (newr->klass == FVM_CLASS_SHARED)) {
		return -EXDEV; /* between the host and the VM: callers copy, as across mounts */
	}
	if (oldr->klass == FVM_CLASS_SHARED) {
		return sys_renameat2(AT_FDCWD, oldr->rpath, AT_FDCWD, newr->rpath, flags);
	}
	old_dir = S_ISDIR(oldr->st.st_mode);
	if (old_dir && newr->vlen > oldr->vlen &&
	    fvm_path_has_prefix(newr->vpath, newr->vlen, oldr->vpath, oldr->vlen)) {
		return -EINVAL;
	}
	if (strcmp(oldr->vpath, newr->vpath) == 0) {
		return 0;
	}
	if (flags & RENAME_EXCHANGE) {
		if (newr->where == FVM_ABSENT) {
			return -ENOENT;
		}
		ret = own_object(vm, oldr);
		if (ret == 0) {
			ret = own_object(vm, newr);
		}
		return ret < 0 ? ret : sys_renameat2(AT_FDCWD, oldr->rpath, AT_FDCWD, newr->rpath,
						     RENAME_EXCHANGE);
	}
	if (newr->where != FVM_ABSENT) {
		if (flags & RENAME_NOREPLACE) {
			return -EEXIST;
		}
		if (old_dir && !S_ISDIR(newr->st.st_mode)) {
			return -ENOTDIR;
		}
		if (!old_dir && S_ISDIR(newr->st.st_mode)) {
			return -EISDIR;
		}
	}
	old_host = fvm_host_shows(oldr);
	new_host = newr->whiteout || fvm_lower_find(newr, newup, sizeof(newup), &st) > 0;

	ret = own_object(vm, oldr);
	if (ret < 0) {
		return ret;
	}
	if (newr->where != FVM_ABSENT && S_ISDIR(newr->st.st_mode) && !upper_only_empty_dir(newr)) {
		/* Replacing an empty directory: remove it (ENOTEMPTY keeps everything). A
		 * rename the kernel then refuses (a sticky source directory) has lost it: only
		 * a directory with host parts or markers comes here (README). */
		ret = fvm_remove(vm, newr, true);
		if (ret < 0) {
			return ret;
		}
	}
	ret = fvm_upper_parent(vm, newr);
	if (ret < 0) {
		return ret;
	}
	if (fvm_upper_path(vm, newr->vpath, newup, sizeof(newup)) < 0) {
		return -ENAMETOOLONG;
	}
	if (old_host) {
		if (fvm_wh_path(oldr->rpath, wh, sizeof(wh)) < 0) {
			return -ENAMETOOLONG;
		}
		ret = touch(wh);
		if (ret < 0) {
			return ret;
		}
	}
	if (old_dir && new_host && !fvm_is_opaque(oldr->rpath)) {
		/* A host directory of the new name was deleted: it must not merge back in. */
		char op[FVM_RPATH_MAX + 16];
		if (fvm_opaque_path(oldr->rpath, op, sizeof(op)) == 0) {
			touch(op);
		}
	}
	ret = sys_renameat2(AT_FDCWD, oldr->rpath, AT_FDCWD, newup, 0);
	if (ret < 0) {
		if (old_host && fvm_wh_path(oldr->rpath, wh, sizeof(wh)) == 0) {
			sys_unlinkat(AT_FDCWD, wh, 0);
		}
		return ret;
	}
	if (fvm_wh_path(newup, wh, sizeof(wh)) == 0) {
		sys_unlinkat(AT_FDCWD, wh, 0);
	}
	return 0;
}
