/*
 * stat.c — the stat family: stat, lstat, fstatat, statx, the old __xstat names, and
 * access, faccessat, euidaccess, eaccess; and the queries that only read an object
 * by name: statfs, statvfs, pathconf, inotify_add_watch, name_to_handle_at.
 *
 * Every stat funnels into fvm_fstatat(), which answers from the resolver's own lstat
 * of the final object: a lookup costs no system call beyond the walk. statx asks the
 * kernel again (it returns more than struct stat) on the resolved real path.
 *
 * Invariant: stat of a name, fstat of an fd on it and statx of either give one
 * identity (st_dev, st_ino) for an object the VM copied up: the host object's
 * (vm_view), so a program that compares them (vim, SQLite, git, tar) sees one file.
 */
#include <string.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "libfvm.h"

struct nlink_count {
	const char *vdir;
	nlink_t n;
};

/* Upper entries that change the merged link count: added and whited-out directories. */
static int count_entry(const char *name, unsigned char type, void *arg)
{
	struct nlink_count *c = arg;
	char hpath[PATH_MAX];
	struct stat st;
	size_t len = strlen(name);
	bool wh = fvm_is_wh_name(name, len);

	if (strcmp(name, FVM_WH_OPAQUE) == 0 || (!wh && type != DT_DIR)) {
		return 0;
	}
	if (snprintf(hpath, sizeof(hpath), "%s/%s", c->vdir, wh ? name + FVM_WH_PREFIX_LEN : name) >=
	    (int)sizeof(hpath)) {
		return 0;
	}
	bool host_dir = sys_lstat(hpath, &st) == 0 && S_ISDIR(st.st_mode);
	if (wh && host_dir) {
		c->n--;
	} else if (!wh && !host_dir) {
		c->n++;
	}
	return 0;
}

/*
 * Which fds can be copies, for fstat (hot: every fopen asks it). A copy lives on
 * upper/'s device and was made after upper/ was: its ctime (set by the copy-up's own
 * chmod, utimens and rename) is not older than upper/'s birth. A host file outside
 * that window costs fstat no extra system call, even when upper/ shares its device.
 * born is taken a minute early, for a clock stepped back a little; dev 0: not known
 * yet (no upper/). origin_off is set when the upper filesystem has no user xattrs.
 */
static struct {
	dev_t dev;
	time_t born; /* seconds */
} upper_fs;
static bool origin_off;

static bool may_be_copy(const struct stat *st)
{
	struct statx stx;

	if (__atomic_load_n(&upper_fs.dev, __ATOMIC_ACQUIRE) == 0) {
		if (FVM_SC(SYS_statx, AT_FDCWD, fvm_g.upper, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &stx, 0) < 0) {
			return false; /* no upper/: no copies */
		}
		if (stx.stx_mask & STATX_BTIME) {
			upper_fs.born = (time_t)stx.stx_btime.tv_sec - 60;
		}
		__atomic_store_n(&upper_fs.dev, makedev(stx.stx_dev_major, stx.stx_dev_minor),
				 __ATOMIC_RELEASE);
	}
	return st->st_dev == upper_fs.dev && st->st_ctim.tv_sec >= upper_fs.born;
}

/*
 * A copied-up regular file shows its host object's st_dev and st_ino (its origin,
 * fvm/vm.h), as overlayfs shows a copied-up file: vim, SQLite, git and tar compare
 * the identity of a file before and after writing it. FD (>= 0) or RPATH is the
 * upper object; ST is changed only when it has an origin.
 */
static void origin_identity(int fd, const char *rpath, struct stat *st)
{
	struct fvm_ident o;
	int ret;

	if (__atomic_load_n(&origin_off, __ATOMIC_RELAXED)) {
		return;
	}
	ret = fvm_origin_get(fd, rpath, &o);
	if (ret == 0) {
		st->st_dev = (dev_t)o.dev;
		st->st_ino = (ino_t)o.ino;
	} else if (ret == -EOPNOTSUPP) {
		__atomic_store_n(&origin_off, true, __ATOMIC_RELAXED);
	}
}

void fvm_entry_identity(const char *updir, const char *name, uint64_t *d_ino)
{
	char rpath[FVM_RPATH_MAX + NAME_MAX + 2];
	struct stat st = {.st_ino = (ino_t)*d_ino};

	if (snprintf(rpath, sizeof(rpath), "%s/%s", updir, name) < (int)sizeof(rpath)) {
		origin_identity(-1, rpath, &st);
		*d_ino = st.st_ino;
	}
}

/*
 * How the VM shows an object it copied up, from the host's object beneath (one lstat,
 * taken only when something below needs it):
 *  - OWNER: an unprivileged copy-up cannot keep the host's owner (the copy belongs to
 *    the caller), so the host's owner is shown still, unless the VM itself changed it
 *    (the group, the only change a non-root owner can make).
 *  - A regular file keeps the identity recorded at its copy-up (origin_identity).
 *  - A directory keeps the host's identity: the host's st_dev and st_ino (as overlayfs
 *    shows a merged directory), so that programs that remember a directory (tar, fts,
 *    find) do not see it replaced when a write inside copies it up; and the link count
 *    of the merged directory (the host's, plus the subdirectories the VM added, less
 *    those it deleted). A directory made opaque is the VM's own.
 */
static void vm_view(const struct fvm_res *res, struct stat *st, bool owner)
{
	struct stat buf;
	const struct stat *host;
	bool dir = S_ISDIR(res->st.st_mode);

	if (res->where != FVM_UPPER || res->klass == FVM_CLASS_SHARED) {
		return;
	}
	if (S_ISREG(res->st.st_mode)) {
		origin_identity(-1, res->rpath, st);
	}
	owner = owner && !fvm_g.is_root && res->st.st_uid == sys_geteuid();
	if (!owner && !dir) {
		return;
	}
	host = fvm_host_view(res, &buf);
	if (host == &res->st) {
		return;
	}
	if (owner) {
		st->st_uid = host->st_uid;
		if (res->st.st_gid == getegid()) {
			st->st_gid = host->st_gid;
		}
	}
	if (dir && S_ISDIR(host->st_mode) && !fvm_is_opaque(res->rpath)) {
		struct nlink_count c = {.vdir = res->vlen == 1 ? "" : res->vpath, .n = host->st_nlink};
		fvm_each_entry(res->rpath, count_entry, &c);
		st->st_dev = host->st_dev;
		st->st_ino = host->st_ino;
		st->st_nlink = c.n;
	}
}

/*
 * The identity fstat gives open file FD (kernel's stat ST): the same as stat of its
 * name. A regular file pays one fgetxattr, and only when it may be a copy; a
 * directory is looked up by its path.
 */
static void fd_identity(int fd, struct stat *st)
{
	char vpath[PATH_MAX];
	struct fvm_res res;

	if (S_ISREG(st->st_mode)) {
		if (may_be_copy(st)) {
			origin_identity(fd, NULL, st);
		}
		return;
	}
	/* A remembered host-only directory is no upper one: /proc is not asked (ls -R). */
	if (!S_ISDIR(st->st_mode) || fvm_fd_host_dir(fd) ||
	    fvm_fd_vpath_upper(fd, vpath, sizeof(vpath)) < 0 ||
	    fvm_resolve(&fvm_g, vpath, FVM_R_NOFOLLOW, &res) < 0 || res.where != FVM_UPPER ||
	    res.st.st_ino != st->st_ino || res.st.st_dev != st->st_dev) {
		return;
	}
	vm_view(&res, st, false);
}

/*
 * stat of a host name in a directory the VM never changed, straight from the kernel
 * (fvm_host_direct), as statx_direct: a name that may be a link is asked without
 * following, and one that is a link to follow goes to the resolver. The VM shows a
 * host object as the host does (vm_view changes only upper objects). True when done
 * (*RET set); VP (*VLEN) gets the virtual path when it could be formed.
 */
static bool fstatat_direct(int dirfd, const char *vpath, struct stat *st, int flags, int *ret,
			   char *vp, int *vlen)
{
	enum fvm_direct how = fvm_direct_at(dirfd, vpath, vp, vlen, FVM_DIRECT_PARENT);

	if (how == FVM_DIRECT_NO) {
		return false;
	}
	if (fvm_direct_rel(dirfd, vpath, how)) {
		*ret = sys_fstatat(dirfd, vpath, st, flags | AT_SYMLINK_NOFOLLOW);
	} else {
		*ret = sys_fstatat(AT_FDCWD, vp, st,
				   how == FVM_DIRECT_PARENT ? flags | AT_SYMLINK_NOFOLLOW : flags);
	}
	if (*ret == 0 && how == FVM_DIRECT_PARENT) {
		if (S_ISLNK(st->st_mode) && !(flags & AT_SYMLINK_NOFOLLOW)) {
			return false; /* a link to follow: in the VM */
		}
		/* Known no link, for access (which cannot ask without following), and a
		 * directory as the parent of the names looked up next (find, ls -R); an
		 * lstat of anything else (the hot loop) does not pay for the record. */
		if (!(flags & AT_SYMLINK_NOFOLLOW) || S_ISDIR(st->st_mode)) {
			fvm_host_known(&fvm_g, vp, (size_t)*vlen, S_ISDIR(st->st_mode));
		}
	}
	if (*ret == 0) {
		fvm_det_clamp_stat(st);
	}
	return true;
}

int fvm_fstatat(int dirfd, const char *vpath, struct stat *st, int flags)
{
	struct fvm_res res;
	char vp[PATH_MAX];
	int ret, vlen = -1;

	if (!fvm_on() || fvm_bad_ptr(vpath)) {
		return sys_fstatat(dirfd, vpath, st, flags);
	}
	if (!vpath[0] && (flags & AT_EMPTY_PATH)) {
		return fvm_fstat(dirfd, st);
	}
	if (vpath[0] && !(flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) &&
	    fstatat_direct(dirfd, vpath, st, flags, &ret, vp, &vlen)) {
		return ret;
	}
	ret = fvm_resolve_from(dirfd, vpath, vp, vlen, (flags & AT_SYMLINK_NOFOLLOW) ? FVM_R_NOFOLLOW : 0,
			       &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (fvm_bad_range(st, sizeof(*st))) {
		return -EFAULT; /* after the lookup's errors, as the kernel orders them */
	}
	*st = res.st;
	vm_view(&res, st, true);
	fvm_det_clamp_stat(st);
	return 0;
}

int fvm_fstat(int fd, struct stat *st)
{
	int ret = sys_fstat(fd, st);

	if (ret == 0 && fvm_on()) {
		fd_identity(fd, st);
		fvm_det_clamp_stat(st);
	}
	return ret;
}

int fstat(int fd, struct stat *st)
{
	return fvm_ret(fvm_fstat(fd, st));
}

int fstat64(int fd, struct stat64 *st)
{
	return fvm_ret(fvm_fstat(fd, (struct stat *)st));
}

int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fvm_ret(fvm_fstat(fd, st));
}

int __fxstat64(int ver, int fd, struct stat64 *st)
{
	(void)ver;
	return fvm_ret(fvm_fstat(fd, (struct stat *)st));
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

/* Gives STX the identity and owner ST shows (vm_view, fd_identity made it from STX). */
static void statx_apply(struct statx *stx, const struct stat *st)
{
	stx->stx_uid = st->st_uid;
	stx->stx_gid = st->st_gid;
	stx->stx_nlink = (uint32_t)st->st_nlink;
	stx->stx_ino = st->st_ino;
	stx->stx_dev_major = major(st->st_dev);
	stx->stx_dev_minor = minor(st->st_dev);
}

/*
 * statx of a host name in a directory the VM never changed, straight from the kernel;
 * not followed unless known to be no link. True when done (*RET set).
 */
static bool statx_direct(int dirfd, const char *vpath, int flags, unsigned int mask,
			 struct statx *stx, int *ret, char *vp, int *vlen)
{
	enum fvm_direct how = fvm_direct_at(dirfd, vpath, vp, vlen, FVM_DIRECT_PARENT);

	if (how == FVM_DIRECT_NO) {
		return false;
	}
	bool rel = fvm_direct_rel(dirfd, vpath, how);
	*ret = (int)FVM_SC(SYS_statx, rel ? dirfd : AT_FDCWD, rel ? vpath : vp,
			   how == FVM_DIRECT_PARENT ? flags | AT_SYMLINK_NOFOLLOW : flags, mask, stx, 0);
	if (*ret == 0 && how == FVM_DIRECT_PARENT) {
		if (S_ISLNK(stx->stx_mode)) {
			return flags & AT_SYMLINK_NOFOLLOW; /* a link to follow: in the VM */
		}
		fvm_host_known(&fvm_g, vp, (size_t)*vlen, S_ISDIR(stx->stx_mode));
	}
	return true;
}

int statx(int dirfd, const char *vpath, int flags, unsigned int mask, struct statx *stx)
{
	struct fvm_res res;
	char vp[PATH_MAX];
	int ret, vlen = -1;

	if (fvm_on() && !fvm_bad_ptr(vpath) && vpath[0] && statx_direct(dirfd, vpath, flags, mask, stx, &ret, vp, &vlen)) {
		if (ret == 0) {
			fvm_det_clamp_statx(stx);
		}
		return fvm_ret(ret);
	}
	if (!fvm_on() || fvm_bad_ptr(vpath) || (!vpath[0] && (flags & AT_EMPTY_PATH))) {
		ret = (int)FVM_SC(SYS_statx, dirfd, vpath, flags, mask, stx, 0);
		res.where = FVM_ABSENT; /* nothing resolved: an fd, or outside a VM */
	} else {
		ret = fvm_resolve_from(dirfd, vpath, vp, vlen,
				       (flags & AT_SYMLINK_NOFOLLOW) ? FVM_R_NOFOLLOW : 0, &res);
		if (ret == 0 && res.where == FVM_ABSENT) {
			ret = -ENOENT;
		}
		if (ret == 0) {
			/* rpath is final (or a /proc magic link the kernel must follow): same flags. */
			ret = sys_statx(AT_FDCWD, res.rpath, flags & ~AT_EMPTY_PATH, mask, stx);
		}
	}
	if (ret == 0 && fvm_active) {
		struct stat st = {.st_mode = stx->stx_mode, .st_uid = stx->stx_uid,
				  .st_gid = stx->stx_gid, .st_nlink = stx->stx_nlink,
				  .st_ino = stx->stx_ino,
				  .st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor)};
		/* Without a ctime (not asked for), the file may be a copy. */
		st.st_ctim.tv_sec = stx->stx_mask & STATX_CTIME ? stx->stx_ctime.tv_sec : INT64_MAX;
		if (res.where == FVM_ABSENT) {
			fd_identity(dirfd, &st);
		} else {
			vm_view(&res, &st, true);
		}
		statx_apply(stx, &st);
		fvm_det_clamp_statx(stx);
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

	if (!fvm_on() || fvm_bad_ptr(vpath) || (!vpath[0] && (flags & AT_EMPTY_PATH))) {
		return (int)sys_faccessat2(dirfd, vpath, mode, flags);
	}
	char vp[PATH_MAX];
	int vlen;
	if (fvm_direct_at(dirfd, vpath, vp, &vlen, FVM_DIRECT_KNOWN) == FVM_DIRECT_KNOWN) {
		return sys_host_access(AT_FDCWD, vp, mode, flags & (AT_EACCESS | AT_SYMLINK_NOFOLLOW));
	}
	ret = fvm_resolve_from(dirfd, vpath, vp, vlen, (flags & AT_SYMLINK_NOFOLLOW) ? FVM_R_NOFOLLOW : 0,
			       &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	if ((mode & W_OK) && res.klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	return sys_host_access(AT_FDCWD, res.rpath, mode, flags & (AT_EACCESS | AT_SYMLINK_NOFOLLOW));
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
		return REAL(statvfs)(vpath, buf);
	}
	ret = query_res(AT_FDCWD, vpath, true, &res);
	return ret < 0 ? fvm_ret(ret) : REAL(statvfs)(res.rpath, buf);
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
		return REAL(pathconf)(vpath, name);
	}
	fvm_touch(vpath); /* libc's looks at vpath[0] first */
	ret = query_res(AT_FDCWD, vpath, true, &res);
	return ret < 0 ? fvm_ret(ret) : REAL(pathconf)(res.rpath, name);
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

	if (!fvm_on() || (!fvm_bad_ptr(vpath) && !vpath[0] && (flags & AT_EMPTY_PATH))) {
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
