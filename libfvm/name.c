/*
 * name.c — names the program reads back: readlink(at) and their _chk forms, realpath,
 * canonicalize_file_name, getcwd, getwd, get_current_dir_name; and the working
 * directory: chdir, fchdir.
 *
 * Invariant: a program never sees upper/ in a path. The kernel's answers for /proc
 * magic links (self/cwd, self/exe, self/fd/N, self/root) and for getcwd are narrowed.
 * Symlink text the program itself wrote is returned as written.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fvm/path.h"
#include "libfvm.h"

static ssize_t fvm_readlinkat(int dirfd, const char *vpath, char *buf, size_t len)
{
	char target[FVM_RPATH_MAX];
	struct fvm_res res;
	ssize_t n;
	int ret;

	char vp[PATH_MAX];
	int vlen;

	if (!fvm_on() || fvm_bad_ptr(vpath) || !vpath[0]) {
		return sys_readlinkat(dirfd, vpath, buf, len);
	}
	/* The host's own name in a host-only directory: the kernel reads it, as natively
	 * (readlink never follows the last component; ls -l reads every link so). */
	enum fvm_direct how = fvm_direct_at(dirfd, vpath, vp, &vlen, FVM_DIRECT_PARENT);
	if (how != FVM_DIRECT_NO) {
		return fvm_direct_rel(dirfd, vpath, how) ? sys_readlinkat(dirfd, vpath, buf, len)
							  : sys_readlinkat(AT_FDCWD, vp, buf, len);
	}
	ret = fvm_resolve_from(dirfd, vpath, vp, vlen, FVM_R_NOFOLLOW, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (!fvm_path_has_prefix(res.vpath, res.vlen, "/proc", 5)) {
		return sys_readlinkat(AT_FDCWD, res.rpath, buf, len);
	}
	n = sys_readlinkat(AT_FDCWD, res.rpath, target, sizeof(target) - 1);
	if (n < 0) {
		return n;
	}
	target[n] = '\0';
	if (target[0] == '/') {
		n = fvm_narrow(&fvm_g, target, target, sizeof(target));
	}
	if ((size_t)n > len) {
		n = (ssize_t)len; /* readlink truncates silently, as the kernel does */
	}
	if (n > 0 && fvm_bad_range(buf, (size_t)n)) {
		return -EFAULT;
	}
	memcpy(buf, target, (size_t)n);
	return n;
}

ssize_t readlink(const char *vpath, char *buf, size_t len)
{
	return fvm_ret_ssize(fvm_readlinkat(AT_FDCWD, vpath, buf, len));
}

ssize_t readlinkat(int dirfd, const char *vpath, char *buf, size_t len)
{
	return fvm_ret_ssize(fvm_readlinkat(dirfd, vpath, buf, len));
}

ssize_t __readlink_chk(const char *vpath, char *buf, size_t len, size_t buflen)
{
	if (len > buflen) {
		abort(); /* what glibc's fortify check does: a buffer overflow was asked for */
	}
	return fvm_ret_ssize(fvm_readlinkat(AT_FDCWD, vpath, buf, len));
}

ssize_t __readlinkat_chk(int dirfd, const char *vpath, char *buf, size_t len, size_t buflen)
{
	if (len > buflen) {
		abort();
	}
	return fvm_ret_ssize(fvm_readlinkat(dirfd, vpath, buf, len));
}

/* The virtual cwd into BUF (SIZE). Returns the length or -errno (ERANGE when short). */
static int fvm_getcwd(char *buf, size_t size)
{
	char rpath[FVM_RPATH_MAX];
	int n = sys_getcwd(rpath, sizeof(rpath));

	if (n < 0) {
		return n;
	}
	if (fvm_active && rpath[0] == '/') {
		n = fvm_narrow(&fvm_g, rpath, rpath, sizeof(rpath));
	} else {
		n = (int)strlen(rpath);
	}
	if ((size_t)n + 1 > size) {
		return -ERANGE;
	}
	if (fvm_bad_range(buf, (size_t)n + 1)) {
		return -EFAULT;
	}
	memcpy(buf, rpath, (size_t)n + 1);
	return n;
}

char *getcwd(char *buf, size_t size)
{
	int ret;

	fvm_on();
	if (!buf) {
		/* glibc: a NULL buffer is allocated, SIZE bytes or as many as needed. */
		char tmp[PATH_MAX];
		ret = fvm_getcwd(tmp, sizeof(tmp));
		if (ret < 0) {
			errno = -ret;
			return NULL;
		}
		if (size && (size_t)ret + 1 > size) {
			errno = ERANGE;
			return NULL;
		}
		buf = malloc(size ? size : (size_t)ret + 1);
		if (!buf) {
			errno = ENOMEM;
			return NULL;
		}
		memcpy(buf, tmp, (size_t)ret + 1);
		return buf;
	}
	if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	ret = fvm_getcwd(buf, size);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	return buf;
}

char *__getcwd_chk(char *buf, size_t size, size_t buflen)
{
	if (size > buflen) {
		abort();
	}
	return getcwd(buf, size);
}

char *get_current_dir_name(void)
{
	const char *pwd = fvm_getenv("PWD");
	struct stat a, b;

	fvm_on();
	/* glibc returns $PWD when it names the cwd (keeping the user's symlinks). */
	if (pwd && pwd[0] == '/' && fvm_fstatat(AT_FDCWD, pwd, &a, 0) == 0 &&
	    sys_fstatat(AT_FDCWD, ".", &b, 0) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		return strdup(pwd);
	}
	return getcwd(NULL, 0);
}

/*
 * The canonical virtual path of VPATH into OUT (PATH_MAX): every component must exist,
 * symlinks followed in the virtual namespace. A name under /proc is canonicalised by
 * the kernel's answer (magic links such as /proc/self/exe), then narrowed. Returns the
 * length or -errno.
 */
static int fvm_realpath(const char *vpath, char *out)
{
	struct fvm_res res;
	int ret;

	if (!vpath) {
		return -EINVAL;
	}
	fvm_touch_str(vpath); /* libc's measures any other pointer: a bad one faults */
	if (!vpath[0]) {
		return -ENOENT;
	}
	ret = fvm_resolve_at(AT_FDCWD, vpath, 0, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (res.trailing_slash && !S_ISDIR(res.st.st_mode)) {
		return -ENOTDIR;
	}
	if (fvm_path_has_prefix(res.vpath, res.vlen, "/proc", 5)) {
		char real[PATH_MAX];
		int saved = errno;
		if (!REAL(realpath)(res.rpath, real)) {
			ret = -errno;
			errno = saved;
			return ret;
		}
		return fvm_narrow(&fvm_g, real, out, PATH_MAX);
	}
	if (res.vlen >= PATH_MAX) {
		return -ENAMETOOLONG;
	}
	memcpy(out, res.vpath, res.vlen + 1);
	return (int)res.vlen;
}

char *realpath(const char *vpath, char *resolved)
{
	char buf[PATH_MAX];
	int ret;

	if (!fvm_on()) {
		return REAL(realpath)(vpath, resolved);
	}
	ret = fvm_realpath(vpath, buf);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	if (!resolved) {
		resolved = strdup(buf);
		if (!resolved) {
			errno = ENOMEM;
		}
		return resolved;
	}
	memcpy(resolved, buf, (size_t)ret + 1);
	return resolved;
}

char *__realpath_chk(const char *vpath, char *resolved, size_t resolvedlen)
{
	if (resolved && resolvedlen < PATH_MAX) {
		abort(); /* glibc's __chk_fail: the buffer cannot hold PATH_MAX */
	}
	return realpath(vpath, resolved);
}

char *canonicalize_file_name(const char *vpath)
{
	return realpath(vpath, NULL);
}

char *getwd(char *buf)
{
	int ret;

	fvm_on();
	if (!buf) {
		errno = EINVAL;
		return NULL;
	}
	ret = fvm_getcwd(buf, PATH_MAX);
	if (ret < 0) {
		/* getwd reports in BUF, as glibc does. */
		snprintf(buf, PATH_MAX, "%s", strerror(-ret));
		errno = -ret;
		return NULL;
	}
	return buf;
}

int chdir(const char *vpath)
{
	struct fvm_res res;
	int ret;

	if (!fvm_on() || fvm_bad_ptr(vpath)) {
		return fvm_ret(sys_chdir(vpath));
	}
	fvm_cwd_changing();
	ret = fvm_resolve_at(AT_FDCWD, vpath, 0, &res);
	if (ret == 0 && res.where == FVM_ABSENT) {
		ret = -ENOENT;
	}
	if (ret == 0) {
		ret = sys_chdir(res.rpath);
	}
	fvm_cwd_changing();
	return fvm_ret(ret);
}

int fchdir(int fd)
{
	return fvm_ret(fvm_fchdir(fd));
}
