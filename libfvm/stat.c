/*
 * stat.c — the stat family: stat, lstat, fstatat, statx, the old __xstat names, and
 * access, faccessat, euidaccess, eaccess.
 *
 * Every stat funnels into fvm_fstatat(), which answers from the resolver's own lstat
 * of the final object: a lookup costs no system call beyond the walk. statx asks the
 * kernel again (it returns more than struct stat) on the resolved real path.
 *
 * A directory of the VM that merges host entries reports the link count of the merged
 * tree (fvm_dir_nlink), not that of its upper part: find and fts trust st_nlink.
 */
#include <string.h>
#include <unistd.h>

#include "libfvm.h"

/* True when RES is a directory of the VM through which host entries show. */
static bool merged_dir(const struct fvm_res *res)
{
	return res->where == FVM_UPPER && S_ISDIR(res->st.st_mode) &&
	       res->klass != FVM_CLASS_SHARED && fvm_host_shows(res);
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
	if (merged_dir(&res)) {
		long n = fvm_dir_nlink(res.vpath);
		if (n > 0) {
			st->st_nlink = (nlink_t)n;
		}
	}
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
	if (ret == 0 && (stx->stx_mask & STATX_NLINK) && merged_dir(&res)) {
		long n = fvm_dir_nlink(res.vpath);
		if (n > 0) {
			stx->stx_nlink = (uint32_t)n;
		}
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
