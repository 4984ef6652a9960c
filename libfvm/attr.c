/*
 * attr.c — attributes: the xattr family, chmod, chown, utimes, truncate, and their fd
 * forms (fchmod, fchown, futimens, futimes, fsetxattr, fremovexattr), and the ioctls
 * that set inode flags (FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR: chattr).
 *
 * Reads ask the resolved object; changes copy a host object up first (the host's own
 * object is never changed), with the host deciding whether this process may change it.
 * An fd on a host file changes the VM's copy of that name (fd_object), never the host;
 * the fd itself still shows the host file (a later FS_IOC_GETFLAGS on it reads the
 * host's flags, a new open reads the copy's).
 *
 * fvm's own xattr (FVM_ORIGIN_XATTR, the identity of a copied-up file) does not exist
 * for a VM: it is never listed, reading or removing it gives ENODATA, and setting it
 * EOPNOTSUPP (the answer of a filesystem that cannot store a name, which programs
 * that copy xattrs, such as cp -a and rsync, tolerate).
 */
#include <linux/fs.h>
#include <linux/limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>

#include "fvm/change.h"
#include "fvm/path.h"
#include "libfvm.h"

/*
 * The result of a change of mode, owner or xattrs: a directory's may change who can
 * search it, which the upper names cache (core/names.c) assumed at its listing.
 */
static int perm_changed(int ret)
{
	if (ret >= 0 && fvm_active) {
		fvm_names_bump(&fvm_g);
	}
	return fvm_ret(ret);
}

/*
 * Makes resolved RES ready for an xattr change: the host's owner rule (only the owner
 * may set the xattrs it can see, user.*), then copy-up.
 */
static int xattr_modify(struct fvm_res *res)
{
	return fvm_prepare_write(&fvm_g, res, FVM_MAY_OWN, true);
}

/*
 * Resolves VPATH for an xattr call; MODIFY copies a host object up. VP and VLEN are
 * what xattr_read_direct() formed of VPATH (VLEN -1: nothing), not formed again.
 */
static int xattr_target_from(const char *vpath, char *vp, int vlen, bool follow, bool modify,
			     struct fvm_res *res)
{
	int ret = fvm_resolve_from(AT_FDCWD, vpath, vp, vlen, follow ? 0 : FVM_R_NOFOLLOW, res);

	if (ret < 0) {
		return ret;
	}
	if (res->where == FVM_ABSENT) {
		return -ENOENT;
	}
	return modify ? xattr_modify(res) : 0;
}

/* Resolves VPATH for an xattr call; MODIFY copies a host object up. */
static int xattr_target(const char *vpath, bool follow, bool modify, struct fvm_res *res)
{
	return xattr_target_from(vpath, NULL, -1, follow, modify, res);
}

/*
 * Whether an xattr read of VPATH may go straight to the kernel with VP (a PATH_MAX
 * buffer; *VLEN its length, -1 when it could not be formed): a host name in an
 * unchanged directory, not a link to follow (fvm_host_direct).
 */
static bool xattr_read_direct(const char *vpath, bool follow, char *vp, int *vlen)
{
	enum fvm_direct how = fvm_direct_at(AT_FDCWD, vpath, vp, vlen, follow ? FVM_DIRECT_KNOWN : FVM_DIRECT_PARENT);

	return how == FVM_DIRECT_KNOWN || (how == FVM_DIRECT_PARENT && !follow);
}

/* fvm's own attribute NAME; a bad pointer is the kernel's to refuse (EFAULT). */
static bool xattr_ours(const char *name)
{
	return !fvm_bad_ptr(name) && fvm_xattr_is_ours(name);
}

/* listxattr of FD (>= 0) or else RPATH, not followed: the kernel's list. */
static ssize_t list_raw(int fd, const char *rpath, char *list, size_t size)
{
	return fd >= 0 ? sys_flistxattr(fd, list, size) : sys_llistxattr(rpath, list, size);
}

/*
 * listxattr of FD (>= 0) or else RPATH into LIST/SIZE with listxattr's contract (SIZE
 * 0: the length needed; -ERANGE when it does not fit), less fvm's own names.
 */
static ssize_t list_visible(int fd, const char *rpath, char *list, size_t size)
{
	ssize_t n = size ? list_raw(fd, rpath, list, size) : -ERANGE;
	bool fault = n == -EFAULT || fvm_bad_ptr(list);
	char *all;

	if (n >= 0 && !fault) {
		return fvm_xattr_list_hide(list, n);
	}
	/* EFAULT: the kernel could not write the list with our names; the visible one may
	 * fit (an empty one always does). */
	if (n < 0 && n != -ERANGE && n != -EFAULT) {
		return n;
	}
	/* A size query, or a list that fits only without our names: read it all first. */
	all = malloc(XATTR_LIST_MAX);
	if (!all) {
		return -ENOMEM;
	}
	n = fvm_xattr_list_hide(all, list_raw(fd, rpath, all, XATTR_LIST_MAX));
	if (n >= 0 && size) {
		if ((size_t)n > size) {
			n = -ERANGE;
		} else if (n > 0 && fault && fvm_bad_range(list, (size_t)n)) {
			n = -EFAULT; /* the visible list does not fit where the program's memory is */
		} else {
			memcpy(list, all, (size_t)n);
		}
	}
	free(all);
	return n;
}

static ssize_t fvm_getxattr(const char *vpath, const char *name, void *value, size_t size, bool follow)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return follow ? FVM_SC(SYS_getxattr, vpath, name, value, size, 0, 0)
			      : sys_lgetxattr(vpath, name, value, size);
	}
	if (xattr_ours(name)) {
		ret = xattr_target(vpath, follow, false, &res);
		return ret < 0 ? ret : -ENODATA;
	}
	char vp[PATH_MAX];
	int vlen;
	if (xattr_read_direct(vpath, follow, vp, &vlen)) {
		return follow ? FVM_SC(SYS_getxattr, vp, name, value, size, 0, 0)
			      : sys_lgetxattr(vp, name, value, size);
	}
	ret = xattr_target_from(vpath, vp, vlen, follow, false, &res);
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
	char vp[PATH_MAX];
	int vlen;
	if (xattr_read_direct(vpath, follow, vp, &vlen)) {
		return follow ? FVM_SC(SYS_listxattr, vp, list, size, 0, 0, 0)
			      : sys_llistxattr(vp, list, size);
	}
	ret = xattr_target_from(vpath, vp, vlen, follow, false, &res);
	if (ret < 0) {
		return ret;
	}
	/* Only a copy in upper/ can carry our names. */
	return res.where == FVM_UPPER && res.klass != FVM_CLASS_SHARED
		       ? list_visible(-1, res.rpath, list, size)
		       : sys_llistxattr(res.rpath, list, size);
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
	if (xattr_ours(name)) {
		ret = xattr_target(vpath, follow, false, &res);
		return ret < 0 ? ret : -EOPNOTSUPP;
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
	if (xattr_ours(name)) {
		ret = xattr_target(vpath, follow, false, &res);
		return ret < 0 ? ret : -ENODATA;
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
	return perm_changed(fvm_setxattr(vpath, name, value, size, flags, true));
}

int lsetxattr(const char *vpath, const char *name, const void *value, size_t size, int flags)
{
	return perm_changed(fvm_setxattr(vpath, name, value, size, flags, false));
}

int removexattr(const char *vpath, const char *name)
{
	return perm_changed(fvm_removexattr(vpath, name, true));
}

int lremovexattr(const char *vpath, const char *name)
{
	return perm_changed(fvm_removexattr(vpath, name, false));
}

/*
 * Resolves DIRFD/VPATH for a metadata change. Nothing is copied up: the caller
 * finishes its own checks first, so a refused change leaves the VM as it was, then
 * calls fvm_prepare_write() (the host's owner rule, fvm/change.h).
 */
static int meta_resolve(int dirfd, const char *vpath, bool follow, struct fvm_res *res)
{
	int ret = fvm_resolve_at(dirfd, vpath, follow ? 0 : FVM_R_NOFOLLOW, res);

	if (ret == 0 && res->where == FVM_ABSENT) {
		ret = -ENOENT;
	}
	return ret;
}

static int chmod_res(struct fvm_res *res, mode_t mode)
{
	int ret;

	if (S_ISLNK(res->st.st_mode)) {
		/* Linux cannot chmod a symlink; the owner rule is told first, as natively. */
		ret = fvm_may_write(&fvm_g, res, FVM_MAY_OWN);
		return ret < 0 ? ret : -EOPNOTSUPP;
	}
	ret = fvm_prepare_write(&fvm_g, res, FVM_MAY_OWN, true);
	return ret < 0 ? ret : sys_fchmodat(AT_FDCWD, res->rpath, mode);
}

static int fvm_fchmodat(int dirfd, const char *vpath, mode_t mode, int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return flags ? (int)FVM_SC(452 /* fchmodat2 */, dirfd, vpath, mode, flags, 0, 0)
			     : sys_fchmodat(dirfd, vpath, mode);
	}
	ret = meta_resolve(dirfd, vpath, !(flags & AT_SYMLINK_NOFOLLOW), &res);
	return ret < 0 ? ret : chmod_res(&res, mode);
}

int chmod(const char *vpath, mode_t mode)
{
	return perm_changed(fvm_fchmodat(AT_FDCWD, vpath, mode, 0));
}

int lchmod(const char *vpath, mode_t mode)
{
	return perm_changed(fvm_fchmodat(AT_FDCWD, vpath, mode, AT_SYMLINK_NOFOLLOW));
}

int fchmodat(int dirfd, const char *vpath, mode_t mode, int flags)
{
	return perm_changed(fvm_fchmodat(dirfd, vpath, mode, flags));
}

static int fvm_fchown(int fd, uid_t uid, gid_t gid);
static int fvm_futimens(int fd, const struct timespec ts[2]);

static int chown_res(struct fvm_res *res, uid_t uid, gid_t gid)
{
	int ret = 0;

	/* Only root gives an object away; an owner may change the group to its own. */
	if (!fvm_g.is_root && uid != (uid_t)-1 && uid != sys_geteuid() &&
	    res->klass != FVM_CLASS_READONLY) {
		ret = -EPERM;
	}
	if (ret == 0) {
		ret = fvm_prepare_write(&fvm_g, res,
					uid != (uid_t)-1 || gid != (gid_t)-1 ? FVM_MAY_OWN : FVM_MAY_ANY,
					true);
	}
	return ret < 0 ? ret : sys_fchownat(AT_FDCWD, res->rpath, uid, gid, AT_SYMLINK_NOFOLLOW);
}

static int fvm_fchownat(int dirfd, const char *vpath, uid_t uid, gid_t gid, int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return sys_fchownat(dirfd, vpath, uid, gid, flags);
	}
	if (!fvm_bad_ptr(vpath) && !vpath[0] && (flags & AT_EMPTY_PATH)) {
		return fvm_fchown(dirfd, uid, gid);
	}
	ret = meta_resolve(dirfd, vpath, !(flags & AT_SYMLINK_NOFOLLOW), &res);
	return ret < 0 ? ret : chown_res(&res, uid, gid);
}

int chown(const char *vpath, uid_t uid, gid_t gid)
{
	return perm_changed(fvm_fchownat(AT_FDCWD, vpath, uid, gid, 0));
}

int lchown(const char *vpath, uid_t uid, gid_t gid)
{
	return perm_changed(fvm_fchownat(AT_FDCWD, vpath, uid, gid, AT_SYMLINK_NOFOLLOW));
}

int fchownat(int dirfd, const char *vpath, uid_t uid, gid_t gid, int flags)
{
	return perm_changed(fvm_fchownat(dirfd, vpath, uid, gid, flags));
}

static int utimens_res(struct fvm_res *res, const struct timespec ts[2])
{
	/* Setting explicit times needs ownership; "now" needs ownership or write access. */
	bool explicit_times = ts && !(ts[0].tv_nsec == UTIME_NOW && ts[1].tv_nsec == UTIME_NOW);
	int ret = fvm_prepare_write(&fvm_g, res, explicit_times ? FVM_MAY_OWN : FVM_MAY_TOUCH, true);

	return ret < 0 ? ret : sys_utimensat(AT_FDCWD, res->rpath, ts, AT_SYMLINK_NOFOLLOW);
}

static int fvm_utimensat(int dirfd, const char *vpath, const struct timespec ts[2], int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return sys_utimensat(dirfd, vpath, ts, flags);
	}
	/* The kernel's order: the times are read first, and two UTIME_OMIT end the call. */
	if (ts && fvm_bad_range(ts, 2 * sizeof(ts[0]))) {
		return -EFAULT;
	}
	if (ts && ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT) {
		return 0;
	}
	if ((!vpath && dirfd != AT_FDCWD) ||
	    (!fvm_bad_ptr(vpath) && !vpath[0] && (flags & AT_EMPTY_PATH))) {
		return fvm_futimens(dirfd, ts); /* NULL path: futimens on dirfd itself */
	}
	ret = meta_resolve(dirfd, vpath, !(flags & AT_SYMLINK_NOFOLLOW), &res);
	return ret < 0 ? ret : utimens_res(&res, ts);
}

int utimensat(int dirfd, const char *vpath, const struct timespec ts[2], int flags)
{
	if (!vpath) {
		return fvm_ret(-EINVAL); /* glibc's own check; futimens is the call for an fd */
	}
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

/*
 * The object behind FD for a metadata change. An fd on the VM's own object, an
 * O_TMPFILE, a shared path or a non-file can be changed by the kernel directly (1).
 * An fd on a host object (opened for reading: any write open has copied the file up)
 * must not change the host: the change goes to the VM's object of the same name,
 * copied up, which RES then holds (0) — provided that name still shows the fd's file
 * or the VM's copy of it; otherwise -EPERM. -EBADF for a closed fd.
 */
static int fd_object(int fd, struct fvm_res *res)
{
	char proc[64], target[FVM_RPATH_MAX];
	struct stat fst;
	int ret;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ret = fvm_magic_target(proc, target, sizeof(target));
	if (ret != 0) {
		return ret == -ENOENT ? -EBADF : ret;
	}
	if (sys_fstat(fd, &fst) < 0 || fvm_resolve(&fvm_g, target, FVM_R_NOFOLLOW, res) < 0) {
		return -EPERM;
	}
	if (res->where == FVM_UPPER ||
	    (res->where == FVM_HOST && res->st.st_dev == fst.st_dev && res->st.st_ino == fst.st_ino)) {
		fvm_debug("fd %d: change applied to the VM's %s", fd, res->vpath);
		return 0;
	}
	return -EPERM;
}

static int fvm_fchmod(int fd, mode_t mode)
{
	struct fvm_res res;
	int ret = fvm_on() ? fd_object(fd, &res) : 1;

	return ret == 1 ? sys_fchmod(fd, mode) : ret < 0 ? ret : chmod_res(&res, mode);
}

int fchmod(int fd, mode_t mode)
{
	return perm_changed(fvm_fchmod(fd, mode));
}

static int fvm_fchown(int fd, uid_t uid, gid_t gid)
{
	struct fvm_res res;
	int ret = fvm_on() ? fd_object(fd, &res) : 1;

	return ret == 1 ? sys_fchown(fd, uid, gid) : ret < 0 ? ret : chown_res(&res, uid, gid);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	return perm_changed(fvm_fchown(fd, uid, gid));
}

static int fvm_futimens(int fd, const struct timespec ts[2])
{
	struct fvm_res res;
	int ret = fvm_on() ? fd_object(fd, &res) : 1;

	return ret == 1 ? sys_utimensat(fd, NULL, ts, 0) : ret < 0 ? ret : utimens_res(&res, ts);
}

int futimens(int fd, const struct timespec ts[2])
{
	return fvm_ret(fvm_futimens(fd, ts));
}

int futimes(int fd, const struct timeval tv[2])
{
	struct timespec ts[2];

	if (tv) {
		timeval_to_timespec(tv, ts);
	}
	return fvm_ret(fvm_futimens(fd, tv ? ts : NULL));
}

int futimesat(int dirfd, const char *vpath, const struct timeval tv[2])
{
	struct timespec ts[2];

	if (tv) {
		timeval_to_timespec(tv, ts);
	}
	return fvm_ret(fvm_utimensat(dirfd, vpath, tv ? ts : NULL, 0));
}

/*
 * The answer for fvm's own name NAME through fd FD: ERR (it does not exist for the
 * VM), -EBADF for a closed fd; 1 for any other name, or outside a VM.
 */
static int fd_ours(int fd, const char *name, int err)
{
	struct stat st;

	if (!fvm_on() || !xattr_ours(name)) {
		return 1;
	}
	return sys_fstat(fd, &st) < 0 ? -EBADF : err;
}

ssize_t fgetxattr(int fd, const char *name, void *value, size_t size)
{
	int ret = fd_ours(fd, name, -ENODATA);

	return fvm_ret_ssize(ret == 1 ? sys_fgetxattr(fd, name, value, size) : ret);
}

ssize_t flistxattr(int fd, char *list, size_t size)
{
	return fvm_ret_ssize(fvm_on() ? list_visible(fd, NULL, list, size)
				      : sys_flistxattr(fd, list, size));
}

int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
	struct fvm_res res;
	int ret = fd_ours(fd, name, -EOPNOTSUPP);

	if (ret == 1 && fvm_on()) {
		ret = fd_object(fd, &res);
	}
	if (ret == 1) {
		ret = sys_fsetxattr(fd, name, value, size, flags);
	} else if (ret == 0) {
		ret = xattr_modify(&res);
		if (ret == 0) {
			ret = sys_lsetxattr(res.rpath, name, value, size, flags);
		}
	}
	return perm_changed(ret);
}

int fremovexattr(int fd, const char *name)
{
	struct fvm_res res;
	int ret = fd_ours(fd, name, -ENODATA);

	if (ret == 1 && fvm_on()) {
		ret = fd_object(fd, &res);
	}
	if (ret == 1) {
		ret = (int)FVM_SC(SYS_fremovexattr, fd, name, 0, 0, 0, 0);
	} else if (ret == 0) {
		ret = xattr_modify(&res);
		if (ret == 0) {
			ret = (int)FVM_SC(SYS_lremovexattr, res.rpath, name, 0, 0, 0, 0);
		}
	}
	return perm_changed(ret);
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
	ret = fvm_quota_resize(fd, len, sys_ftruncate);
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

/*
 * The inode-flag ioctl REQ on FD, an object of the VM's own, answered as the kernel
 * answers root natively. A root VM's fence drops CAP_LINUX_IMMUTABLE, and the kernel
 * checks it (EPERM) before the filesystem judges the flags (EOPNOTSUPP, EINVAL for
 * flags it does not know): natively root gets the filesystem's verdict. So on EPERM,
 * for euid 0, the same flags with the append-only and immutable bits left as they are
 * are asked: the filesystem's refusal is the answer; when it accepts them the flags
 * are put back and the answer stays EPERM (a VM cannot make a file immutable).
 */
static int setattr_kernel(int fd, unsigned long req, long arg)
{
	const unsigned capbits = FS_APPEND_FL | FS_IMMUTABLE_FL;
	const unsigned xcapbits = FS_XFLAG_APPEND | FS_XFLAG_IMMUTABLE;
	int ret = sys_ioctl(fd, req, arg), probe;

	if (ret != -EPERM || !fvm_g.is_root || sys_geteuid() != 0) {
		return ret;
	}
	/* The kernel read the argument before its EPERM: it is readable. */
	if ((uint32_t)req == (uint32_t)FS_IOC_FSSETXATTR) {
		struct fsxattr old, want;
		if (sys_ioctl(fd, FS_IOC_FSGETXATTR, (long)&old) < 0) {
			return ret;
		}
		memcpy(&want, (const void *)arg, sizeof(want));
		want.fsx_xflags = (want.fsx_xflags & ~xcapbits) | (old.fsx_xflags & xcapbits);
		probe = sys_ioctl(fd, req, (long)&want);
		if (probe == 0) {
			sys_ioctl(fd, req, (long)&old);
		}
	} else {
		unsigned oldf, want;
		/* FS_IOC_SETFLAGS takes an int, as its 32-bit form does. */
		if (sys_ioctl(fd, FS_IOC_GETFLAGS, (long)&oldf) < 0) {
			return ret;
		}
		memcpy(&want, (const void *)arg, sizeof(want));
		want = (want & ~capbits) | (oldf & capbits);
		probe = sys_ioctl(fd, req, (long)&want);
		if (probe == 0) {
			sys_ioctl(fd, req, (long)&oldf);
		}
	}
	return probe < 0 && probe != -EPERM ? probe : ret;
}

/*
 * An inode-flag ioctl (REQ: FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS, FS_IOC_FSSETXATTR) on
 * FD: on a host object, the VM's copy of its name is changed (the owner rule first, as
 * natively), through an fd of its own.
 */
static int fvm_ioctl_setattr(int fd, unsigned long req, long arg)
{
	struct fvm_res res;
	int ret = fd_object(fd, &res), cfd;

	if (ret == 1) {
		return setattr_kernel(fd, req, arg);
	}
	if (ret < 0 || (ret = fvm_prepare_write(&fvm_g, &res, FVM_MAY_OWN, true)) < 0) {
		return ret;
	}
	cfd = sys_openat(AT_FDCWD, res.rpath, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0);
	if (cfd < 0) {
		return cfd;
	}
	ret = setattr_kernel(cfd, req, arg);
	sys_close(cfd);
	return ret;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	long arg;
	uint32_t cmd = (uint32_t)req; /* the kernel's command: the low 32 bits */

	va_start(ap, req);
	arg = va_arg(ap, long);
	va_end(ap);
	if ((cmd == (uint32_t)FS_IOC_SETFLAGS || cmd == (uint32_t)FS_IOC32_SETFLAGS ||
	     cmd == (uint32_t)FS_IOC_FSSETXATTR) && fvm_on()) {
		return fvm_ret(fvm_ioctl_setattr(fd, req, arg));
	}
	return fvm_ret(sys_ioctl(fd, req, arg));
}
