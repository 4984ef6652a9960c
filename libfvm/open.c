/*
 * open.c — the open family: open, openat, creat, their 64 and _2 names, fopen, freopen,
 * setmntent.
 *
 * Every entry point funnels into openat_core() (fvm_openat, or fvm_openat_remember for
 * a program's own open, whose directory fds are remembered). Rules:
 *  - A read of a host name in a directory the VM never changed is one openat, as
 *    natively (open_direct).
 *  - Write intent (O_WRONLY, O_RDWR, O_TRUNC, O_APPEND) on a host regular file copies
 *    it up first, after checking the host would let this process write it; O_TRUNC
 *    skips copying the data that is about to go.
 *  - O_CREAT of a missing name creates it in upper/ (parents copied up), after checking
 *    the host would let this process create it there.
 *  - O_TMPFILE opens an upper directory (copied up if needed).
 *  - A write open of /proc/PID/fd/N that points at a host file is redirected to the
 *    file's virtual path, so it too is copied up instead of written on the host.
 *  - An O_TRUNC open that cannot write truncates with a write open of its own, the
 *    fence refusing the kernel's (trunc_apart).
 *  - fopen/freopen/setmntent call libc's with the real path: libc's internal open is
 *    not ours.
 */
#include <stdarg.h>
#include <string.h>

#include "fvm/change.h"
#include "fvm/path.h"
#include "fvm/trace.h"
#include "libfvm.h"

static bool write_intent(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND));
}

/* An open through a /proc magic link: redirect writes aimed at a host file. */
static int open_proc(struct fvm_res *res, int flags, mode_t mode)
{
	char target[FVM_RPATH_MAX];
	int ret;

	if (!write_intent(flags) || res->where == FVM_ABSENT) {
		return sys_openat(AT_FDCWD, res->rpath, flags, mode);
	}
	ret = fvm_magic_target(res->rpath, target, sizeof(target));
	if (ret == -ENAMETOOLONG) {
		return ret;
	}
	if (ret != 0) {
		return sys_openat(AT_FDCWD, res->rpath, flags, mode); /* pipe:, socket:, … */
	}
	fvm_debug("open %s: redirected to virtual %s", res->rpath, target);
	return fvm_openat(AT_FDCWD, target, flags & ~(O_CREAT | O_EXCL), mode);
}

/*
 * An O_TRUNC open whose access mode cannot write (O_RDONLY, or 3) truncates a regular
 * file on Linux, and the fence refuses it (exec_fence.c). Here the truncation is a
 * write open of RES's object of its own, and the open proper goes without O_TRUNC.
 * Returns the flags to open with, or -errno (EACCES where the caller may not write,
 * EISDIR for a directory, as natively).
 */
static int trunc_apart(const struct fvm_res *res, int flags)
{
	int acc = flags & O_ACCMODE, fd;

	if (!(flags & O_TRUNC) || acc == O_WRONLY || acc == O_RDWR || (flags & O_PATH) == O_PATH) {
		return flags;
	}
	if (res->where != FVM_ABSENT && S_ISDIR(res->st.st_mode)) {
		return -EISDIR;
	}
	if (res->where != FVM_ABSENT && S_ISREG(res->st.st_mode)) {
		fd = sys_openat(AT_FDCWD, res->rpath, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd < 0) {
			return fd;
		}
		sys_close(fd);
	}
	return flags & ~O_TRUNC; /* a new file, a fifo or a device: nothing to truncate */
}

static int open_tmpfile(struct fvm_res *res, int flags, mode_t mode)
{
	int ret;

	if (res->where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (!S_ISDIR(res->st.st_mode)) {
		return -ENOTDIR;
	}
	ret = fvm_prepare_write(&fvm_g, res, FVM_MAY_WRITE_DIR, false);
	return ret < 0 ? ret : sys_openat(AT_FDCWD, res->rpath, flags, mode);
}

/*
 * A read of a host name in a directory the VM never changed goes straight to the
 * kernel (fvm_host_direct): one openat, as natively. A name that may be a link is
 * opened with O_NOFOLLOW, and only the kernel's refusal of a link sends it to the
 * resolver.
 * True when done, with the fd or -errno in *RET; false when the call must be
 * resolved. VP gets the virtual path (*VLEN its length) when it could be formed.
 */
static bool open_direct(int dirfd, const char *name, int flags, mode_t mode, char *vp, int *vlen,
			int *ret)
{
	enum fvm_direct how;

	*vlen = -1;
	if (write_intent(flags) || (flags & (O_CREAT | O_PATH)) || (flags & O_TMPFILE) == O_TMPFILE) {
		return false;
	}
	how = fvm_direct_at(dirfd, name, vp, vlen, FVM_DIRECT_PARENT);
	if (how == FVM_DIRECT_NO) {
		return false;
	}
	*ret = sys_openat(AT_FDCWD, vp, how == FVM_DIRECT_KNOWN ? flags : flags | O_NOFOLLOW, mode);
	if (*ret >= 0 && how == FVM_DIRECT_PARENT && (flags & O_DIRECTORY)) {
		/* A host directory (no link: O_NOFOLLOW): the parent of the names asked next. */
		fvm_host_known(&fvm_g, vp, (size_t)*vlen, true);
	}
	/*
	 * ELOOP (ENOTDIR with O_DIRECTORY) for a name that may be a link: it may be one,
	 * and the VM follows it.
	 */
	return !((*ret == -ELOOP || (*ret == -ENOTDIR && (flags & O_DIRECTORY))) &&
		 how == FVM_DIRECT_PARENT && !(flags & O_NOFOLLOW));
}

static int openat_core(int dirfd, const char *vpath, int flags, mode_t mode, bool remember)
{
	struct fvm_res res;
	char vp[PATH_MAX];
	int rflags = 0, ret, vlen;

	if (!fvm_on() || fvm_bad_ptr(vpath) || !vpath[0]) {
		return sys_openat(dirfd, vpath, flags, mode);
	}
	if (__builtin_expect(fvm_det.on != 0, 0) && fvm_det_random_path(vpath)) {
		return fvm_det_random_open(flags);
	}
	if (open_direct(dirfd, vpath, flags, mode, vp, &vlen, &ret)) {
		if (ret >= 0 && remember && (flags & O_DIRECTORY)) {
			fvm_fd_remember(ret, vp, (size_t)vlen);
		}
		if (fvm_tracing && ret >= 0 && !(flags & O_DIRECTORY)) {
			fvm_trace_open(ret, flags, vp, vp);
		}
		return ret;
	}
	if ((flags & O_NOFOLLOW) || ((flags & O_CREAT) && (flags & O_EXCL))) {
		rflags |= FVM_R_NOFOLLOW;
	}
	ret = fvm_resolve_from(dirfd, vpath, vp, vlen, rflags, &res);
	if (ret < 0) {
		return ret;
	}
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		return open_tmpfile(&res, flags, mode);
	}
	if (res.where == FVM_HOST && fvm_path_has_prefix(res.vpath, res.vlen, "/proc", 5)) {
		return open_proc(&res, flags, mode);
	}
	if (res.klass == FVM_CLASS_SHARED) {
		flags = trunc_apart(&res, flags);
		ret = flags < 0 ? flags : sys_openat(AT_FDCWD, res.rpath, flags, mode);
		if (fvm_tracing && ret >= 0) {
			fvm_trace_open(ret, flags, res.rpath, res.vpath);
		}
		return ret;
	}

	if (res.where == FVM_ABSENT) {
		if (!(flags & O_CREAT)) {
			return -ENOENT;
		}
		if (res.trailing_slash) {
			return -EISDIR;
		}
		ret = fvm_prepare_new(&fvm_g, &res);
		if (ret < 0) {
			return ret;
		}
		ret = sys_openat(AT_FDCWD, res.rpath, trunc_apart(&res, flags), mode);
		if (ret >= 0) {
			fvm_created(&fvm_g, &res, false);
			if (fvm_tracing) {
				fvm_trace_name(FVM_TR_CREATE, res.vpath, NULL);
				fvm_trace_open(ret, flags, res.rpath, res.vpath);
			}
		}
		return ret;
	}

	if ((flags & O_CREAT) && (flags & O_EXCL)) {
		return -EEXIST;
	}
	if (write_intent(flags) && S_ISDIR(res.st.st_mode) && res.klass == FVM_CLASS_READONLY) {
		return -EISDIR;
	}
	/* A regular file is copied up; other objects (a fifo, a device) are used in place. */
	if (write_intent(flags) && (S_ISREG(res.st.st_mode) || res.klass == FVM_CLASS_READONLY)) {
		ret = fvm_prepare_write(&fvm_g, &res, FVM_MAY_WRITE, !(flags & O_TRUNC));
		if (ret < 0) {
			return ret;
		}
	}
	/* The object exists and rpath is final: the kernel must not follow or create. */
	flags = trunc_apart(&res, flags);
	if (flags < 0) {
		return flags;
	}
	ret = sys_openat(AT_FDCWD, res.rpath, flags & ~(O_CREAT | O_EXCL), mode);
	if (ret >= 0 && (flags & O_TRUNC) && res.where == FVM_UPPER && S_ISREG(res.st.st_mode)) {
		fvm_quota_add(&fvm_g, -(int64_t)res.st.st_size, 0); /* the bytes it held are free */
	}
	if (ret >= 0 && remember && S_ISDIR(res.st.st_mode)) {
		fvm_fd_remember(ret, res.vpath, res.vlen);
	}
	if (fvm_tracing && ret >= 0 && !S_ISDIR(res.st.st_mode)) {
		fvm_trace_open(ret, flags, res.rpath, res.vpath);
	}
	return ret;
}

int fvm_openat(int dirfd, const char *vpath, int flags, mode_t mode)
{
	return openat_core(dirfd, vpath, flags, mode, false);
}

int fvm_openat_remember(int dirfd, const char *vpath, int flags, mode_t mode)
{
	return openat_core(dirfd, vpath, flags, mode, true);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *vpath, int flags, ...)
{
	va_list ap;

	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return fvm_ret(fvm_openat_remember(AT_FDCWD, vpath, flags, mode));
}

int open64(const char *vpath, int flags, ...)
{
	va_list ap;

	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return fvm_ret(fvm_openat_remember(AT_FDCWD, vpath, flags, mode));
}

int openat(int dirfd, const char *vpath, int flags, ...)
{
	va_list ap;

	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return fvm_ret(fvm_openat_remember(dirfd, vpath, flags, mode));
}

int openat64(int dirfd, const char *vpath, int flags, ...)
{
	va_list ap;

	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return fvm_ret(fvm_openat_remember(dirfd, vpath, flags, mode));
}

int __open_2(const char *vpath, int flags)
{
	return fvm_ret(fvm_openat_remember(AT_FDCWD, vpath, flags, 0));
}

int __open64_2(const char *vpath, int flags)
{
	return fvm_ret(fvm_openat_remember(AT_FDCWD, vpath, flags, 0));
}

int __openat_2(int dirfd, const char *vpath, int flags)
{
	return fvm_ret(fvm_openat_remember(dirfd, vpath, flags, 0));
}

int __openat64_2(int dirfd, const char *vpath, int flags)
{
	return fvm_ret(fvm_openat_remember(dirfd, vpath, flags, 0));
}

int creat(const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_openat(AT_FDCWD, vpath, O_WRONLY | O_CREAT | O_TRUNC, mode));
}

int creat64(const char *vpath, mode_t mode)
{
	return fvm_ret(fvm_openat(AT_FDCWD, vpath, O_WRONLY | O_CREAT | O_TRUNC, mode));
}

/* The open(2) flags of an fopen mode string ("r", "w+", "ae", "rx", …). */
static int fopen_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -EINVAL;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+') {
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		} else if (*m == 'x') {
			flags |= O_EXCL;
		} else if (*m == 'e') {
			flags |= O_CLOEXEC;
		}
	}
	return flags;
}

int fvm_fopen_prepare(const char *vpath, const char *mode, char *rpath, size_t rlen,
		      char *rmode, size_t mlen)
{
	struct fvm_res res;
	size_t o = 0;
	int ret, fd, flags;

	fvm_touch(mode); /* libc's parses MODE first: a bad pointer faults, as natively */
	flags = fopen_flags(mode);
	if (flags < 0) {
		return flags;
	}
	/* "x" is settled here: it would now refuse the file just created for it. */
	for (const char *p = mode; *p && o + 1 < mlen; p++) {
		if (*p != 'x') {
			rmode[o++] = *p;
		}
	}
	rmode[o] = '\0';
	ret = fvm_resolve_at(AT_FDCWD, vpath, (flags & O_EXCL) ? FVM_R_NOFOLLOW : 0, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_HOST && !write_intent(flags)) {
		snprintf(rpath, rlen, "%s", res.rpath);
		if (fvm_tracing) {
			/* libc opens it itself: its identity is the name's now */
			fd = sys_openat(AT_FDCWD, res.rpath, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
			if (fd >= 0) {
				fvm_trace_open(fd, O_RDONLY, res.rpath, res.vpath);
				sys_close(fd);
			}
		}
		return 0;
	}
	/* Creation and copy-up happen here; libc then opens the upper file itself. */
	fd = fvm_openat(AT_FDCWD, vpath, flags, 0666);
	if (fd < 0) {
		return fd;
	}
	sys_close(fd);
	ret = fvm_resolve_at(AT_FDCWD, vpath, 0, &res);
	if (ret < 0) {
		return ret;
	}
	snprintf(rpath, rlen, "%s", res.rpath);
	return 0;
}

static FILE *fopen_common(const char *vpath, const char *mode, FILE *(*real)(const char *, const char *))
{
	char rpath[FVM_RPATH_MAX], rmode[16];
	int ret;

	if (!fvm_on() || fvm_bad_ptr(vpath)) {
		return real(vpath, mode);
	}
	if (__builtin_expect(fvm_det.on != 0, 0) && fvm_det_random_path(vpath)) {
		/* The seeded stream (determ.c): a memfd libc reads as it would the device. */
		int flags = fopen_flags(mode), fd = flags < 0 ? flags : fvm_det_random_open(flags);
		FILE *f;
		if (fd < 0) {
			errno = -fd;
			return NULL;
		}
		if (!(f = fdopen(fd, mode))) {
			int saved = errno;
			sys_close(fd);
			errno = saved;
		}
		return f;
	}
	ret = fvm_fopen_prepare(vpath, mode, rpath, sizeof(rpath), rmode, sizeof(rmode));
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	return real(rpath, rmode);
}

FILE *fopen(const char *vpath, const char *mode)
{
	return fopen_common(vpath, mode, REAL(fopen));
}

FILE *fopen64(const char *vpath, const char *mode)
{
	return fopen_common(vpath, mode, REAL(fopen64));
}

static FILE *freopen_common(const char *vpath, const char *mode, FILE *stream,
			    FILE *(*real)(const char *, const char *, FILE *))
{
	char rpath[FVM_RPATH_MAX], rmode[16];
	int ret;

	if (!fvm_on() || fvm_bad_ptr(vpath)) {
		/* NULL: change the mode of the open stream; nothing to map. */
		return real(vpath, mode, stream);
	}
	ret = fvm_fopen_prepare(vpath, mode, rpath, sizeof(rpath), rmode, sizeof(rmode));
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	return real(rpath, rmode, stream);
}

FILE *freopen(const char *vpath, const char *mode, FILE *stream)
{
	return freopen_common(vpath, mode, stream, REAL(freopen));
}

FILE *freopen64(const char *vpath, const char *mode, FILE *stream)
{
	return freopen_common(vpath, mode, stream, REAL(freopen64));
}

/* setmntent opens its table with libc's internal fopen: the same preparation. */
FILE *setmntent(const char *vpath, const char *mode)
{
	return fopen_common(vpath, mode, REAL(setmntent));
}
