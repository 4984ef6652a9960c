/*
 * stat.c — the stat family: stat, lstat, fstatat, statx, the old __xstat names, and
 * access, faccessat, euidaccess, eaccess; and the queries that only read an object
 * by name: statfs, statvfs, pathconf, inotify_add_watch, name_to_handle_at.
 *
 * Every stat funnels into fvm_fstatat(), which answers from the resolver's own lstat
 * of the final object: a lookup costs no system call beyond the walk. statx asks the
 * kernel again (it returns more than struct stat) on the resolved real path.
 */
#include <string.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "libfvm.h"

/*
 * An unprivileged copy-up cannot keep the host's owner: the copy belongs to the caller.
 * The VM shows the host's owner still, unless the VM itself changed it (the group, the
 * only change a non-root owner can make).
 */
static void host_owner(const struct fvm_res *res, uid_t *uid, gid_t *gid)
{
	struct stat buf;
	const struct stat *host;

	if (fvm_g.is_root || res->where != FVM_UPPER || res->klass == FVM_CLASS_SHARED ||
	    res->st.st_uid != sys_geteuid()) {
		return;
	}
	host = fvm_host_view(res, &buf);
	if (host == &res->st) {
		return;
	}
	*uid = host->st_uid;
	if (res->st.st_gid == getegid()) {
		*gid = host->st_gid;
	}
}

int fvm_fstatat(int dirfd, const char *vpath, struct stat *st, int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on() || !vpath || (!vpath[0] && (flags & AT_EMPTY_PATH))) {
		return sys_fstatat(dirfd, vpath, st, flags);
	}
	ret = fvm_resolve_at(dirfd, vpath, (flags & AT_SYMLINK_NOFOLLOW) ? FVM_R_NOFOLLOW : 0, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	*st = res.st;
	host_owner(&res, &st->st_uid, &st->st_gid);
	return 0;
}

int stat(const char *vpath, struct stat *st)
{
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, st, 0));
}

int lstat(const char *vpath, struct stat *st)
{
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, st, AT_SYMLINK_NOFOLLOW));
}

int fstatat(int dirfd, const char *vpath, struct stat *st, int flags)
{
	return fvm_ret(fvm_fstatat(dirfd, vpath, st, flags));
}

/* On the 64-bit ABIs fvm supports, struct stat64 and struct stat are one layout. */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 layout");

int stat64(const char *vpath, struct stat64 *st)
{
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, (struct stat *)st, 0));
}

int lstat64(const char *vpath, struct stat64 *st)
{
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, (struct stat *)st, AT_SYMLINK_NOFOLLOW));
}

int fstatat64(int dirfd, const char *vpath, struct stat64 *st, int flags)
{
	return fvm_ret(fvm_fstatat(dirfd, vpath, (struct stat *)st, flags));
}

/* The pre-2.33 names take a struct-version argument that 64-bit ABIs ignore. */
int __xstat(int ver, const char *vpath, struct stat *st)
{
	(void)ver;
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, st, 0));
}

int __xstat64(int ver, const char *vpath, struct stat64 *st)
{
	(void)ver;
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, (struct stat *)st, 0));
}

int __lxstat(int ver, const char *vpath, struct stat *st)
{
	(void)ver;
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, st, AT_SYMLINK_NOFOLLOW));
}

int __lxstat64(int ver, const char *vpath, struct stat64 *st)
{
	(void)ver;
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, (struct stat *)st, AT_SYMLINK_NOFOLLOW));
}

int __fxstatat(int ver, int dirfd, const char *vpath, struct stat *st, int flags)
{
	(void)ver;
	return fvm_ret(fvm_fstatat(dirfd, vpath, st, flags));
}

int __fxstatat64(int ver, int dirfd, const char *vpath, struct stat64 *st, int flags)
{
	(void)ver;
	return fvm_ret(fvm_fstatat(dirfd, vpath, (struct stat *)st, flags));
}

int statx(int dirfd, const char *vpath, int flags, unsigned int mask, struct statx *stx)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on() || !vpath || (!vpath[0] && (flags & AT_EMPTY_PATH))) {
		return fvm_ret((int)FVM_SC(SYS_statx, dirfd, vpath, flags, mask, stx, 0));
	}
	ret = fvm_resolve_at(dirfd, vpath, (flags & AT_SYMLINK_NOFOLLOW) ? FVM_R_NOFOLLOW : 0, &res);
	if (ret == 0 && res.where == FVM_ABSENT) {
		ret = -ENOENT;
	}
	if (ret == 0) {
		/* rpath is final (or a /proc magic link the kernel must follow): same flags. */
		ret = (int)FVM_SC(SYS_statx, AT_FDCWD, res.rpath, flags & ~AT_EMPTY_PATH, mask, stx, 0);
	}
	if (ret == 0) {
		uid_t uid = stx->stx_uid;
		gid_t gid = stx->stx_gid;
		host_owner(&res, &uid, &gid);
		stx->stx_uid = uid;
		stx->stx_gid = gid;
	}
	return fvm_ret(ret);
}

/*
 * The access logic: MODE checked on the resolved object. W_OK on a host object asks
 * the host (a VM may write what the host would let it write, and only that).
 */
static int fvm_faccessat(int dirfd, const char *vpath, int mode, int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on() || !vpath || (!vpath[0] && (flags & AT_EMPTY_PATH))) {
		return (int)sys_faccessat2(dirfd, vpath, mode, flags);
	}
	ret = fvm_resolve_at(dirfd, vpath, (flags & AT_SYMLINK_NOFOLLOW) ? FVM_R_NOFOLLOW : 0, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	if ((mode & W_OK) && res.klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	return sys_faccessat2(AT_FDCWD, res.rpath, mode, flags & (AT_EACCESS | AT_SYMLINK_NOFOLLOW));
}

int access(const char *vpath, int mode)
{
	return fvm_ret(fvm_faccessat(AT_FDCWD, vpath, mode, 0));
}

int faccessat(int dirfd, const char *vpath, int mode, int flags)
{
	return fvm_ret(fvm_faccessat(dirfd, vpath, mode, flags));
}

int euidaccess(const char *vpath, int mode)
{
	return fvm_ret(fvm_faccessat(AT_FDCWD, vpath, mode, AT_EACCESS));
}

int eaccess(const char *vpath, int mode)
{
	return fvm_ret(fvm_faccessat(AT_FDCWD, vpath, mode, AT_EACCESS));
}

/*
 * The real object of DIRFD/VPATH for a query that only reads it (statfs, pathconf,
 * inotify, file handles): into RES, -ENOENT when it does not exist.
 */
static int query_res(int dirfd, const char *vpath, bool follow, struct fvm_res *res)
{
	int ret = fvm_resolve_at(dirfd, vpath, follow ? 0 : FVM_R_NOFOLLOW, res);

	return ret == 0 && res->where == FVM_ABSENT ? -ENOENT : ret;
}

static int fvm_statfs(const char *vpath, struct statfs *buf)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return (int)FVM_SC(SYS_statfs, vpath, buf, 0, 0, 0, 0);
	}
	ret = query_res(AT_FDCWD, vpath, true, &res);
	return ret < 0 ? ret : (int)FVM_SC(SYS_statfs, res.rpath, buf, 0, 0, 0, 0);
}

int statfs(const char *vpath, struct statfs *buf)
{
	return fvm_ret(fvm_statfs(vpath, buf));
}

_Static_assert(sizeof(struct statfs) == sizeof(struct statfs64), "statfs64 layout");

int statfs64(const char *vpath, struct statfs64 *buf)
{
	return fvm_ret(fvm_statfs(vpath, (struct statfs *)buf));
}

/* statvfs is libc's conversion of statfs: done by libc's own, on the real path. */
int statvfs(const char *vpath, struct statvfs *buf)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return real_statvfs(vpath, buf);
	}
	ret = query_res(AT_FDCWD, vpath, true, &res);
	return ret < 0 ? fvm_ret(ret) : real_statvfs(res.rpath, buf);
}

int statvfs64(const char *vpath, struct statvfs64 *buf)
{
	return statvfs(vpath, (struct statvfs *)buf);
}

long pathconf(const char *vpath, int name)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return real_pathconf(vpath, name);
	}
	ret = query_res(AT_FDCWD, vpath, true, &res);
	return ret < 0 ? fvm_ret(ret) : real_pathconf(res.rpath, name);
}

/*
 * A watch is set on the object the VM sees now: a host file's events stop at its
 * copy-up (the VM's later changes happen to the copy), as with overlayfs.
 */
int inotify_add_watch(int fd, const char *vpath, uint32_t mask)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return fvm_ret((int)FVM_SC(SYS_inotify_add_watch, fd, vpath, mask, 0, 0, 0));
	}
	ret = query_res(AT_FDCWD, vpath, !(mask & IN_DONT_FOLLOW), &res);
	if (ret == 0) {
		ret = (int)FVM_SC(SYS_inotify_add_watch, fd, res.rpath, mask, 0, 0, 0);
	}
	return fvm_ret(ret);
}

int name_to_handle_at(int dirfd, const char *vpath, struct file_handle *handle, int *mount_id,
		      int flags)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on() || (vpath && !vpath[0] && (flags & AT_EMPTY_PATH))) {
		return fvm_ret((int)FVM_SC(SYS_name_to_handle_at, dirfd, vpath, handle, mount_id,
					   flags, 0));
	}
	ret = query_res(dirfd, vpath, flags & AT_SYMLINK_FOLLOW, &res);
	if (ret == 0) {
		ret = (int)FVM_SC(SYS_name_to_handle_at, AT_FDCWD, res.rpath, handle, mount_id,
				  flags & ~AT_SYMLINK_FOLLOW, 0);
	}
	return fvm_ret(ret);
}
