/*
 * link.c — creating, removing and renaming names: mkdir, mknod, mkfifo, symlink, link,
 * unlink, rmdir, remove, rename.
 *
 * Each family member funnels into one fvm_* function taking (dirfd, name); the
 * namespace work (whiteouts, copy-up, directory renames) is the core's (fvm/vm.h).
 * Permission checks are the host's: a process may change in its VM only what it could
 * change on the host.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fvm/change.h"
#include "fvm/path.h"
#include "fvm/trace.h"
#include "libfvm.h"

/* What create_at() makes: a directory, a node (mknod, mkfifo) or a symlink. */
struct create_op {
	enum { MAKE_DIR, MAKE_NODE, MAKE_SYMLINK } kind;
	mode_t mode;
	dev_t dev;
	const char *target; /* MAKE_SYMLINK: stored as given, resolved virtually later */
};

static int make_entry(const struct create_op *op, int dirfd, const char *rpath)
{
	switch (op->kind) {
	case MAKE_DIR:
		return sys_mkdirat(dirfd, rpath, op->mode);
	case MAKE_NODE:
		return sys_mknodat(dirfd, rpath, op->mode, op->dev);
	case MAKE_SYMLINK:
		return sys_symlinkat(op->target, dirfd, rpath);
	}
	return -EINVAL;
}

/*
 * Creates the new name DIRFD/VPATH as OP says, in upper/ (parents copied up) or on the
 * host for a SHARED path, with the errors the kernel gives natively: EEXIST for any
 * existing entry (a dangling symlink included), ENOENT for "name/" of a non-directory,
 * EROFS for a READONLY path, EACCES where the host would refuse the parent.
 */
static int create_at(int dirfd, const char *vpath, const struct create_op *op)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return make_entry(op, dirfd, vpath);
	}
	ret = fvm_resolve_at(dirfd, vpath, FVM_R_NOFOLLOW, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where != FVM_ABSENT) {
		return -EEXIST;
	}
	if (res.trailing_slash && op->kind != MAKE_DIR) {
		return -ENOENT;
	}
	ret = fvm_prepare_new(&fvm_g, &res);
	if (ret == 0) {
		ret = make_entry(op, AT_FDCWD, res.rpath);
	}
	if (ret == 0) {
		fvm_created(&fvm_g, &res, op->kind == MAKE_DIR);
		if (fvm_tracing) {
			fvm_trace_name(FVM_TR_CREATE, res.vpath, NULL);
		}
	}
	return ret;
}

int fvm_mkdirat(int dirfd, const char *vpath, mode_t mode)
{
	const struct create_op op = {.kind = MAKE_DIR, .mode = mode};

	return create_at(dirfd, vpath, &op);
}

int mkdir(const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_mkdirat(AT_FDCWD, vpath, mode));
}

int mkdirat(int dirfd, const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_mkdirat(dirfd, vpath, mode));
}

static int fvm_mknodat(int dirfd, const char *vpath, mode_t mode, dev_t dev)
{
	const struct create_op op = {.kind = MAKE_NODE, .mode = mode, .dev = dev};

	if ((unsigned int)dev != dev) {
		return -EINVAL; /* glibc's check: the kernel takes a 32-bit dev_t */
	}
	if (S_ISDIR(mode)) {
		return -EPERM; /* the kernel makes directories only through mkdir */
	}
	return create_at(dirfd, vpath, &op);
}

int mknod(const char *vpath, mode_t mode, dev_t dev)
{
	return fvm_ret(fvm_mknodat(AT_FDCWD, vpath, mode, dev));
}

int mknodat(int dirfd, const char *vpath, mode_t mode, dev_t dev)
{
	return fvm_ret(fvm_mknodat(dirfd, vpath, mode, dev));
}

/* The stat-versioned names older binaries call; VER is _MKNOD_VER (0) on x86-64. */
int __xmknod(int ver, const char *vpath, mode_t mode, dev_t *dev)
{
	if (ver != 0) {
		return fvm_ret(-EINVAL);
	}
	return fvm_ret(fvm_mknodat(AT_FDCWD, vpath, mode, *dev /* read as glibc does */));
}

int __xmknodat(int ver, int dirfd, const char *vpath, mode_t mode, dev_t *dev)
{
	if (ver != 0) {
		return fvm_ret(-EINVAL);
	}
	return fvm_ret(fvm_mknodat(dirfd, vpath, mode, *dev /* read as glibc does */));
}

int mkfifo(const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_mknodat(AT_FDCWD, vpath, (mode & 07777) | S_IFIFO, 0));
}

int mkfifoat(int dirfd, const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_mknodat(dirfd, vpath, (mode & 07777) | S_IFIFO, 0));
}

static int fvm_symlinkat(const char *target, int dirfd, const char *vpath)
{
	const struct create_op op = {.kind = MAKE_SYMLINK, .target = target};

	if (fvm_bad_ptr(target)) {
		return -EFAULT;
	}
	if (!target[0]) {
		return -ENOENT;
	}
	return create_at(dirfd, vpath, &op);
}

int symlink(const char *target, const char *vpath)
{
	return fvm_ret(fvm_symlinkat(target, AT_FDCWD, vpath));
}

int symlinkat(const char *target, int dirfd, const char *vpath)
{
	return fvm_ret(fvm_symlinkat(target, dirfd, vpath));
}

/*
 * The source of a hard link, made ready: a host file is copied up first (the new name
 * and the old then share the VM's copy), after the host's protected_hardlinks rule
 * (the owner, or a regular file the caller may read and write). An fd source
 * (AT_EMPTY_PATH, or a /proc/self/fd/N link followed) that is the VM's own or an
 * O_TMPFILE is linked by the kernel from *KFD/RPATH; one naming a host file falls back
 * to its virtual path. Returns 0 or -errno.
 */
static int link_source(int olddirfd, const char *oldvpath, int flags, struct fvm_res *src,
		       int *kfd, int *kflags)
{
	char proc[64], target[FVM_RPATH_MAX];
	const char *magic = NULL;
	int ret;

	*kfd = AT_FDCWD;
	*kflags = 0;
	if ((flags & AT_EMPTY_PATH) && !fvm_bad_ptr(oldvpath) && !oldvpath[0]) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", olddirfd);
		magic = proc;
	} else {
		ret = fvm_resolve_at(olddirfd, oldvpath,
				     flags & AT_SYMLINK_FOLLOW ? 0 : FVM_R_NOFOLLOW, src);
		if (ret < 0) {
			return ret;
		}
		if (src->klass == FVM_CLASS_SHARED && fvm_path_has_prefix(src->vpath, src->vlen,
									  "/proc", 5)) {
			magic = src->rpath;
		}
	}
	if (magic) {
		ret = fvm_magic_target(magic, target, sizeof(target));
		if (ret < 0 && ret != -ENAMETOOLONG && magic != proc) {
			goto plain; /* not a magic link: an ordinary /proc name */
		}
		if (ret < 0) {
			return ret == -ENOENT ? -EBADF : ret;
		}
		if (ret == 1) {
			if (magic == proc) {
				*kfd = olddirfd;
				src->rpath[0] = '\0';
				*kflags = AT_EMPTY_PATH;
			} else {
				*kflags = AT_SYMLINK_FOLLOW;
			}
			return 0;
		}
		/* A host file: link its virtual path instead, copied up. */
		ret = fvm_resolve(&fvm_g, target, FVM_R_NOFOLLOW, src);
		if (ret < 0) {
			return ret;
		}
	}
plain:
	if (src->where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (S_ISDIR(src->st.st_mode)) {
		return -EPERM;
	}
	return fvm_prepare_write(&fvm_g, src, FVM_MAY_LINK, true);
}

static int fvm_linkat(int olddirfd, const char *oldvpath, int newdirfd, const char *newvpath,
		      int flags)
{
	struct fvm_res src, dst;
	int kfd, kflags, ret;

	if (!fvm_on()) {
		return sys_linkat(olddirfd, oldvpath, newdirfd, newvpath, flags);
	}
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) {
		return -EINVAL;
	}
	if (!oldvpath || !newvpath) {
		return -EFAULT;
	}
	/* The new name first: the kernel reports EEXIST before looking at the source. */
	ret = fvm_resolve_at(newdirfd, newvpath, FVM_R_NOFOLLOW, &dst);
	if (ret < 0) {
		return ret;
	}
	ret = link_source(olddirfd, oldvpath, flags, &src, &kfd, &kflags);
	if (ret < 0) {
		return ret;
	}
	if (dst.where != FVM_ABSENT) {
		return -EEXIST;
	}
	if (dst.trailing_slash) {
		return -ENOENT;
	}
	ret = fvm_prepare_new(&fvm_g, &dst);
	if (ret < 0) {
		return ret;
	}
	ret = sys_linkat(kfd, src.rpath, AT_FDCWD, dst.rpath, kflags);
	if (ret == 0) {
		fvm_created(&fvm_g, &dst, false);
		if (fvm_tracing) {
			fvm_trace_name(FVM_TR_CREATE, dst.vpath, NULL);
		}
	}
	return ret;
}

int link(const char *oldvpath, const char *newvpath)
{
	return fvm_ret(fvm_linkat(AT_FDCWD, oldvpath, AT_FDCWD, newvpath, 0));
}

int linkat(int olddirfd, const char *oldvpath, int newdirfd, const char *newvpath, int flags)
{
	return fvm_ret(fvm_linkat(olddirfd, oldvpath, newdirfd, newvpath, flags));
}

int fvm_unlinkat(int dirfd, const char *vpath, int flags)
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
	ret = fvm_remove(&fvm_g, &res, is_dir);
	if (ret == 0 && fvm_tracing) {
		fvm_trace_name(FVM_TR_DELETE, res.vpath, NULL);
	}
	return ret;
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

/*
 * True when VPATH's last component (trailing slashes aside) is "." or "..": the kernel
 * renames only a name in a directory (LAST_NORM), a resolved path loses that difference
 * ("d/e/." resolves to d/e, which a rename would then move).
 */
static bool last_is_dot(const char *vpath)
{
	size_t len = strlen(vpath), start;

	while (len > 1 && vpath[len - 1] == '/') {
		len--;
	}
	start = len;
	while (start > 0 && vpath[start - 1] != '/') {
		start--;
	}
	return (len - start == 1 && vpath[start] == '.') ||
	       (len - start == 2 && vpath[start] == '.' && vpath[start + 1] == '.');
}

static int fvm_renameat2(int olddirfd, const char *oldvpath, int newdirfd, const char *newvpath,
			 unsigned flags)
{
	struct fvm_res oldr, newr;
	int ret;

	if (!fvm_on()) {
		return sys_renameat2(olddirfd, oldvpath, newdirfd, newvpath, flags);
	}
	/* The kernel reads both names before looking anything up. */
	if (fvm_bad_ptr(oldvpath) || fvm_bad_ptr(newvpath) || fvm_strlen_user(oldvpath) < 0 ||
	    fvm_strlen_user(newvpath) < 0) {
		return -EFAULT;
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
	/* As the kernel: "/", "." or ".." as the source, then as the target: EBUSY (EEXIST
	 * for a target under RENAME_NOREPLACE). */
	if (oldr.vlen == 1 || last_is_dot(oldvpath)) {
		return -EBUSY;
	}
	if (newr.vlen == 1 || last_is_dot(newvpath)) {
		return (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
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
	ret = fvm_rename(&fvm_g, &oldr, &newr, flags);
	if (ret == 0 && fvm_tracing) {
		fvm_trace_name(FVM_TR_RENAME, oldr.vpath, newr.vpath);
	}
	return ret;
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
