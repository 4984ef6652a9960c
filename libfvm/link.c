/*
 * link.c — creating, removing and renaming names: mkdir, unlink, rmdir, remove, rename.
 *
 * Each family member funnels into one fvm_* function taking (dirfd, name); the
 * namespace work (whiteouts, copy-up, directory renames) is the core's (fvm/vm.h).
 * Permission checks are the host's: a process may change in its VM only what it could
 * change on the host.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libfvm.h"

int fvm_mkdirat(int dirfd, const char *vpath, mode_t mode)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return sys_mkdirat(dirfd, vpath, mode);
	}
	ret = fvm_resolve_at(dirfd, vpath, FVM_R_NOFOLLOW, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where != FVM_ABSENT) {
		return -EEXIST;
	}
	if (res.klass == FVM_CLASS_SHARED) {
		return sys_mkdirat(AT_FDCWD, res.rpath, mode);
	}
	if (res.klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	ret = fvm_may_change_parent(&fvm_g, &res, false);
	if (ret == 0) {
		ret = fvm_prepare_create(&fvm_g, &res);
	}
	if (ret == 0) {
		ret = sys_mkdirat(AT_FDCWD, res.rpath, mode);
	}
	if (ret == 0) {
		fvm_created(&fvm_g, &res, true);
	}
	return ret;
}

int mkdir(const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_mkdirat(AT_FDCWD, vpath, mode));
}

int mkdirat(int dirfd, const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_mkdirat(dirfd, vpath, mode));
}

static int fvm_unlinkat(int dirfd, const char *vpath, int flags)
{
	bool is_dir = flags & AT_REMOVEDIR;
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return sys_unlinkat(dirfd, vpath, flags);
	}
	ret = fvm_resolve_at(dirfd, vpath, FVM_R_NOFOLLOW, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (is_dir) {
		size_t len = strlen(vpath);
		/* "dir/." and "." name the directory through itself: the kernel says EINVAL. */
		if ((len == 1 && vpath[0] == '.') || (len >= 2 && strcmp(vpath + len - 2, "/.") == 0)) {
			return -EINVAL;
		}
		if (!S_ISDIR(res.st.st_mode)) {
			return -ENOTDIR;
		}
		if (res.vlen == 1) {
			return -EBUSY;
		}
	} else if (S_ISDIR(res.st.st_mode)) {
		return -EISDIR;
	}
	if (res.klass == FVM_CLASS_SHARED) {
		return sys_unlinkat(AT_FDCWD, res.rpath, flags);
	}
	ret = fvm_may_change_parent(&fvm_g, &res, true);
	if (ret < 0) {
		return ret;
	}
	return fvm_remove(&fvm_g, &res, is_dir);
}

int unlink(const char *vpath)
{
	return fvm_ret(fvm_unlinkat(AT_FDCWD, vpath, 0));
}

int unlinkat(int dirfd, const char *vpath, int flags)
{
	return fvm_ret(fvm_unlinkat(dirfd, vpath, flags));
}

int rmdir(const char *vpath)
{
	return fvm_ret(fvm_unlinkat(AT_FDCWD, vpath, AT_REMOVEDIR));
}

int remove(const char *vpath)
{
	int ret = fvm_unlinkat(AT_FDCWD, vpath, 0);

	if (ret == -EISDIR) {
		ret = fvm_unlinkat(AT_FDCWD, vpath, AT_REMOVEDIR);
	}
	return fvm_ret(ret);
}

static int fvm_renameat2(int olddirfd, const char *oldvpath, int newdirfd, const char *newvpath,
			 unsigned flags)
{
	struct fvm_res oldr, newr;
	int ret;

	if (!fvm_on()) {
		return sys_renameat2(olddirfd, oldvpath, newdirfd, newvpath, flags);
	}
	ret = fvm_resolve_at(olddirfd, oldvpath, FVM_R_NOFOLLOW, &oldr);
	if (ret < 0) {
		return ret;
	}
	if (oldr.where == FVM_ABSENT) {
		return -ENOENT;
	}
	ret = fvm_resolve_at(newdirfd, newvpath, FVM_R_NOFOLLOW, &newr);
	if (ret < 0) {
		return ret;
	}
	if (newr.trailing_slash && !S_ISDIR(oldr.st.st_mode)) {
		return -ENOTDIR;
	}
	ret = fvm_may_change_parent(&fvm_g, &oldr, true);
	if (ret == 0) {
		ret = fvm_may_change_parent(&fvm_g, &newr, newr.where != FVM_ABSENT);
	}
	if (ret < 0) {
		return ret;
	}
	return fvm_rename(&fvm_g, &oldr, &newr, flags);
}

int rename(const char *oldvpath, const char *newvpath)
{
	return fvm_ret(fvm_renameat2(AT_FDCWD, oldvpath, AT_FDCWD, newvpath, 0));
}

int renameat(int olddirfd, const char *oldvpath, int newdirfd, const char *newvpath)
{
	return fvm_ret(fvm_renameat2(olddirfd, oldvpath, newdirfd, newvpath, 0));
}

int renameat2(int olddirfd, const char *oldvpath, int newdirfd, const char *newvpath,
	      unsigned int flags)
{
	return fvm_ret(fvm_renameat2(olddirfd, oldvpath, newdirfd, newvpath, flags));
}
