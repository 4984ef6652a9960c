/*
 * change.c — may this process change it, then make it the VM's own (fvm/change.h).
 *
 * Invariants:
 *  - The host decides: every check is made against the host's object (fvm_host_view)
 *    or the host's parent directory (fvm_may_change_parent), never against an upper
 *    copy alone, which an unprivileged copy-up makes the caller's.
 *  - Nothing is copied up or created before every check has passed, so a refused
 *    change leaves the VM as it was.
 *  - Only faccessat2 (sys_host_access: AT_EACCESS, the effective ids, as the kernel
 *    checks an open; a read-only mount's EROFS counts as the host's yes) and lstat are
 *    asked before the change: no check costs an allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fvm/change.h"
#include "fvm/sys.h"

/*
 * The host path of RES's object (the lower one: a layer's or the host's), for an
 * access check, in BUF: NULL when there is none.
 */
static const char *host_rpath(const struct fvm_res *res, char *buf, size_t size)
{
	struct stat st;

	if (res->where == FVM_HOST && res->layer < 0) {
		return res->rpath;
	}
	/* The host's own entry where it lies beneath (as fvm_host_view), else a layer's. */
	if (res->where != FVM_ABSENT && res->parent_host && sys_lstat(res->vpath, &st) == 0) {
		return res->vpath;
	}
	return fvm_lower_find(res, buf, size, &st) > 0 ? buf : NULL;
}

/*
 * The host's protected_hardlinks rule: a process that does not own ST may link it only
 * when it is a plain file (neither set-user-id nor executable set-group-id) that the
 * process may read and write.
 */
static int may_link(const struct fvm_res *res, const struct stat *st)
{
	char buf[FVM_RPATH_MAX];
	const char *hpath;

	if (st->st_uid == sys_geteuid()) {
		return 0;
	}
	if (!S_ISREG(st->st_mode) || (st->st_mode & S_ISUID) ||
	    (st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) {
		return -EPERM;
	}
	hpath = host_rpath(res, buf, sizeof(buf));
	if (hpath && sys_host_access(AT_FDCWD, hpath, R_OK | W_OK, AT_EACCESS) < 0) {
		return -EPERM;
	}
	return 0;
}

int fvm_may_write(const struct fvm_vm *vm, const struct fvm_res *res, enum fvm_may may)
{
	char lower[FVM_RPATH_MAX];
	struct stat buf;
	const struct stat *st;

	if (res->klass == FVM_CLASS_SHARED) {
		return 0; /* the kernel decides on the host path itself */
	}
	switch (may) {
	case FVM_MAY_WRITE:
		/* An upper object is checked by the kernel's own open of it. */
		return res->where == FVM_HOST ? sys_host_access(AT_FDCWD, res->rpath, W_OK, AT_EACCESS)
					      : 0;
	case FVM_MAY_WRITE_DIR:
		return res->where == FVM_HOST
			       ? sys_host_access(AT_FDCWD, res->rpath, W_OK | X_OK, AT_EACCESS)
			       : 0;
	case FVM_MAY_LINK:
		return vm->is_root || vm->fowner ? 0 : may_link(res, fvm_host_view(res, &buf));
	case FVM_MAY_OWN:
		if (vm->is_root || vm->fowner) {
			return 0;
		}
		return fvm_host_view(res, &buf)->st_uid == sys_geteuid() ? 0 : -EPERM;
	case FVM_MAY_TOUCH:
		if (vm->is_root || vm->fowner) {
			return 0;
		}
		st = fvm_host_view(res, &buf);
		if (st->st_uid == sys_geteuid()) {
			return 0;
		}
		const char *hpath = host_rpath(res, lower, sizeof(lower));
		return hpath ? sys_host_access(AT_FDCWD, hpath, W_OK, AT_EACCESS) : 0;
	case FVM_MAY_ANY:
		return 0;
	}
	return -EINVAL;
}

int fvm_prepare_write(const struct fvm_vm *vm, struct fvm_res *res, enum fvm_may may, bool data)
{
	int ret;

	if (res->where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (res->klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	ret = fvm_may_write(vm, res, may);
	if (ret < 0) {
		return ret;
	}
	return fvm_prepare_modify(vm, res, data);
}

int fvm_prepare_new(const struct fvm_vm *vm, struct fvm_res *res)
{
	int ret;

	if (res->klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	if (res->klass == FVM_CLASS_SHARED) {
		return 0;
	}
	ret = fvm_may_change_parent(vm, res, false);
	if (ret < 0) {
		return ret;
	}
	return fvm_prepare_create(vm, res);
}
