/*
 * attr.c — attributes: the xattr family.
 *
 * Reads ask the resolved object; changes copy a host object up first (the host's own
 * object is never changed), with the host deciding whether this process may change it.
 */
#include <string.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>

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

/*
 * The owner rule of the host: only the owner (or root) may change mode or times of an
 * object, and only root may give it away. Checked against the host's object, since an
 * unprivileged copy-up carries the caller as owner.
 */
static int owner_check(const struct fvm_res *res)
{
	struct stat buf;

	if (fvm_g.is_root || res->klass == FVM_CLASS_SHARED) {
		return 0;
	}
	return fvm_host_view(res, &buf)->st_uid == sys_geteuid() ? 0 : -EPERM;
}

/*
 * Resolves DIRFD/VPATH for a metadata change and applies the owner rule when
 * NEED_OWNER. Nothing is copied up: the caller finishes its own checks first, so a
 * refused change leaves the VM as it was, then calls fvm_prepare_modify().
 */
static int meta_resolve(int dirfd, const char *vpath, bool follow, bool need_owner,
			struct fvm_res *res)
{
	int ret = fvm_resolve_at(dirfd, vpath, follow ? 0 : FVM_R_NOFOLLOW, res);

	if (ret == 0 && res->where == FVM_ABSENT) {
		ret = -ENOENT;
	}
	if (ret == 0 && need_owner) {
		ret = owner_check(res);
	}
	return ret;
}

static int fvm_fchmodat(int dirfd, const char *vpath, mode_t mode, int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return flags ? (int)FVM_SC(452 /* fchmodat2 */, dirfd, vpath, mode, flags, 0, 0)
			     : sys_fchmodat(dirfd, vpath, mode);
	}
	ret = meta_resolve(dirfd, vpath, !(flags & AT_SYMLINK_NOFOLLOW), true, &res);
	if (ret == 0 && S_ISLNK(res.st.st_mode)) {
		ret = -EOPNOTSUPP; /* Linux cannot chmod a symlink */
	}
	if (ret == 0) {
		ret = fvm_prepare_modify(&fvm_g, &res, true);
	}
	return ret < 0 ? ret : sys_fchmodat(AT_FDCWD, res.rpath, mode);
}

int chmod(const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_fchmodat(AT_FDCWD, vpath, mode, 0));
}

int lchmod(const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_fchmodat(AT_FDCWD, vpath, mode, AT_SYMLINK_NOFOLLOW));
}

int fchmodat(int dirfd, const char *vpath, mode_t mode, int flags)
{
	return fvm_ret(fvm_fchmodat(dirfd, vpath, mode, flags));
}

static int fvm_fchownat(int dirfd, const char *vpath, uid_t uid, gid_t gid, int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on() || (!vpath[0] && (flags & AT_EMPTY_PATH))) {
		return sys_fchownat(dirfd, vpath, uid, gid, flags);
	}
	/* Only root gives an object away; an owner may change the group to its own. */
	bool need_owner = uid != (uid_t)-1 || gid != (gid_t)-1;
	ret = meta_resolve(dirfd, vpath, !(flags & AT_SYMLINK_NOFOLLOW), need_owner, &res);
	if (ret == 0 && !fvm_g.is_root && uid != (uid_t)-1 && uid != sys_geteuid()) {
		ret = -EPERM;
	}
	if (ret == 0) {
		ret = fvm_prepare_modify(&fvm_g, &res, true);
	}
	return ret < 0 ? ret : sys_fchownat(AT_FDCWD, res.rpath, uid, gid, AT_SYMLINK_NOFOLLOW);
}

int chown(const char *vpath, uid_t uid, gid_t gid)
{
	return fvm_ret(fvm_fchownat(AT_FDCWD, vpath, uid, gid, 0));
}

int lchown(const char *vpath, uid_t uid, gid_t gid)
{
	return fvm_ret(fvm_fchownat(AT_FDCWD, vpath, uid, gid, AT_SYMLINK_NOFOLLOW));
}

int fchownat(int dirfd, const char *vpath, uid_t uid, gid_t gid, int flags)
{
	return fvm_ret(fvm_fchownat(dirfd, vpath, uid, gid, flags));
}

static int fvm_utimensat(int dirfd, const char *vpath, const struct timespec ts[2], int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on() || !vpath) {
		/* NULL path: futimens on dirfd itself. */
		return sys_utimensat(dirfd, vpath, ts, flags);
	}
	/* Setting explicit times needs ownership; "now" needs only write access. */
	bool explicit_times = ts && !(ts[0].tv_nsec == UTIME_NOW && ts[1].tv_nsec == UTIME_NOW);
	ret = meta_resolve(dirfd, vpath, !(flags & AT_SYMLINK_NOFOLLOW), explicit_times, &res);
	if (ret == 0) {
		ret = fvm_prepare_modify(&fvm_g, &res, true);
	}
	return ret < 0 ? ret : sys_utimensat(AT_FDCWD, res.rpath, ts, AT_SYMLINK_NOFOLLOW);
}

int utimensat(int dirfd, const char *vpath, const struct timespec ts[2], int flags)
{
	return fvm_ret(fvm_utimensat(dirfd, vpath, ts, flags));
}

static void timeval_to_timespec(const struct timeval tv[2], struct timespec ts[2])
{
	for (int i = 0; i < 2; i++) {
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
}

int utimes(const char *vpath, const struct timeval tv[2])
{
	struct timespec ts[2];

	if (tv) {
		timeval_to_timespec(tv, ts);
	}
	return fvm_ret(fvm_utimensat(AT_FDCWD, vpath, tv ? ts : NULL, 0));
}

int lutimes(const char *vpath, const struct timeval tv[2])
{
	struct timespec ts[2];

	if (tv) {
		timeval_to_timespec(tv, ts);
	}
	return fvm_ret(fvm_utimensat(AT_FDCWD, vpath, tv ? ts : NULL, AT_SYMLINK_NOFOLLOW));
}

int utime(const char *vpath, const struct utimbuf *times)
{
	struct timespec ts[2];

	if (times) {
		ts[0] = (struct timespec){.tv_sec = times->actime};
		ts[1] = (struct timespec){.tv_sec = times->modtime};
	}
	return fvm_ret(fvm_utimensat(AT_FDCWD, vpath, times ? ts : NULL, 0));
}

static int fvm_truncate(const char *vpath, off_t len)
{
	int ret, fd;

	if (!fvm_on()) {
		return (int)FVM_SC(SYS_truncate, vpath, len, 0, 0, 0, 0);
	}
	/*
	 * truncate is a write: open for writing (copy-up, the host's permission; a
	 * directory gets EISDIR from the kernel's open), then ftruncate.
	 */
	fd = fvm_openat(AT_FDCWD, vpath, O_WRONLY | O_CLOEXEC | (len == 0 ? O_TRUNC : 0), 0);
	if (fd < 0) {
		return fd;
	}
	ret = sys_ftruncate(fd, len);
	sys_close(fd);
	return ret;
}

int truncate(const char *vpath, off_t len)
{
	return fvm_ret(fvm_truncate(vpath, len));
}

int truncate64(const char *vpath, off64_t len)
{
	return fvm_ret(fvm_truncate(vpath, (off_t)len));
}
