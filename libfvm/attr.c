/*
 * attr.c — attributes: the xattr family.
 *
 * Reads ask the resolved object; changes copy a host object up first (the host's own
 * object is never changed), with the host deciding whether this process may change it.
 */
#include <string.h>
#include <sys/xattr.h>

#include "libfvm.h"

/* Resolves VPATH for an xattr call; MODIFY copies a host object up. */
static int xattr_target(const char *vpath, bool follow, bool modify, struct fvm_res *res)
{
	int ret = fvm_resolve_at(AT_FDCWD, vpath, follow ? 0 : FVM_R_NOFOLLOW, res);

	if (ret < 0) {
		return ret;
	}
	if (res->where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (!modify) {
		return 0;
	}
	if (res->where == FVM_HOST && res->klass != FVM_CLASS_SHARED && !fvm_g.is_root &&
	    res->st.st_uid != sys_geteuid()) {
		return -EPERM; /* only the owner may set xattrs it can see (user.*) */
	}
	return fvm_prepare_modify(&fvm_g, res, true);
}

static ssize_t fvm_getxattr(const char *vpath, const char *name, void *value, size_t size, bool follow)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return follow ? FVM_SC(SYS_getxattr, vpath, name, value, size, 0, 0)
			      : sys_lgetxattr(vpath, name, value, size);
	}
	ret = xattr_target(vpath, follow, false, &res);
	return ret < 0 ? ret : sys_lgetxattr(res.rpath, name, value, size);
}

static ssize_t fvm_listxattr(const char *vpath, char *list, size_t size, bool follow)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return follow ? FVM_SC(SYS_listxattr, vpath, list, size, 0, 0, 0)
			      : sys_llistxattr(vpath, list, size);
	}
	ret = xattr_target(vpath, follow, false, &res);
	return ret < 0 ? ret : sys_llistxattr(res.rpath, list, size);
}

static int fvm_setxattr(const char *vpath, const char *name, const void *value, size_t size,
			int flags, bool follow)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return follow ? (int)FVM_SC(SYS_setxattr, vpath, name, value, size, flags, 0)
			      : sys_lsetxattr(vpath, name, value, size, flags);
	}
	ret = xattr_target(vpath, follow, true, &res);
	return ret < 0 ? ret : sys_lsetxattr(res.rpath, name, value, size, flags);
}

static int fvm_removexattr(const char *vpath, const char *name, bool follow)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return (int)FVM_SC(follow ? SYS_removexattr : SYS_lremovexattr, vpath, name, 0, 0, 0, 0);
	}
	ret = xattr_target(vpath, follow, true, &res);
	return ret < 0 ? ret : (int)FVM_SC(SYS_lremovexattr, res.rpath, name, 0, 0, 0, 0);
}

ssize_t getxattr(const char *vpath, const char *name, void *value, size_t size)
{
	return fvm_ret_ssize(fvm_getxattr(vpath, name, value, size, true));
}

ssize_t lgetxattr(const char *vpath, const char *name, void *value, size_t size)
{
	return fvm_ret_ssize(fvm_getxattr(vpath, name, value, size, false));
}

ssize_t listxattr(const char *vpath, char *list, size_t size)
{
	return fvm_ret_ssize(fvm_listxattr(vpath, list, size, true));
}

ssize_t llistxattr(const char *vpath, char *list, size_t size)
{
	return fvm_ret_ssize(fvm_listxattr(vpath, list, size, false));
}

int setxattr(const char *vpath, const char *name, const void *value, size_t size, int flags)
{
	return fvm_ret(fvm_setxattr(vpath, name, value, size, flags, true));
}

int lsetxattr(const char *vpath, const char *name, const void *value, size_t size, int flags)
{
	return fvm_ret(fvm_setxattr(vpath, name, value, size, flags, false));
}

int removexattr(const char *vpath, const char *name)
{
	return fvm_ret(fvm_removexattr(vpath, name, true));
}

int lremovexattr(const char *vpath, const char *name)
{
	return fvm_ret(fvm_removexattr(vpath, name, false));
}
