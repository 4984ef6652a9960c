/*
 * rawsys.c — libc's syscall(): a program that makes a system call through it (libuv's
 * statx, Node.js's `require` and fs.statSync above it; Rust's std where libc lacks a
 * wrapper) sees the VM as through the libc function of the same name.
 *
 * Rules:
 *  - Every call number that takes a path, an AF_UNIX address, an IPC name or key, or an
 *    fd whose meaning libfvm keeps (directory fds and their listings, the cwd, fds on
 *    copied-up files, the flags and times of host objects) goes to libfvm's wrapper of
 *    the libc function with the same arguments, converted where libc's function and the
 *    kernel differ (getcwd returns the length; mq_open's name has no leading '/'; the
 *    legacy getdents is getdents64's merged listing in the old record format;
 *    utimensat and futimesat with a NULL name act on the fd; utime and utimes read their
 *    times before anything else; the *xattrat calls of Linux 6.13, which libc lacks,
 *    go to the path or fd wrappers of the xattr family). A wrapper entered from here
 *    gets the program's own (virtual) arguments, never a real path: it is the one place
 *    libfvm enters an exported name of its own, and it does so once per call.
 *  - getrandom, clock_gettime, gettimeofday and uname go to libc's functions, which a
 *    deterministic run's libfvm-det.so wraps, so its
 *    seed, clock and names hold for them too (Python's os.getrandom).
 *  - fchmodat2 and faccessat2 are served by the fchmodat and faccessat wrappers, which
 *    give their flags' answers on kernels older than those calls (6.6, 5.8) too.
 *  - Every other number goes to the kernel unchanged, with all six arguments, and only
 *    errno is set from the answer, as glibc's syscall() does: a process pays one switch.
 *  - A bad pointer gets what the kernel gives (EFAULT, EINVAL...), never a crash: where
 *    libc's function would read an argument itself (the times of utime, the name of
 *    mq_open) it is checked first (uptr.c); every other pointer goes to a wrapper that
 *    answers as the kernel (tests/preload/t_badptr.sh).
 *  - openat2 answers ENOSYS in a VM, as the fence answers it to a static program: libfvm
 *    has no resolver for its RESOLVE_* flags, and programs fall back to openat.
 *  - Outside a VM every number goes to the kernel unchanged.
 */
#include <linux/fs.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <mqueue.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libfvm.h"

/* Numbers newer than glibc 2.36's headers (the same on x86_64 and arm64). */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#define SYS_getxattrat 464
#define SYS_listxattrat 465
#define SYS_removexattrat 466
#endif

/* The kernel's answer R (>= 0 or -errno) as syscall() returns it. */
static long raw_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* getcwd(2): the length with its NUL; ERANGE when SIZE is short, then EFAULT. */
static long raw_getcwd(char *buf, size_t size)
{
	char tmp[PATH_MAX];
	size_t n;

	if (!getcwd(tmp, sizeof(tmp))) {
		return -1;
	}
	n = strlen(tmp) + 1;
	if (n > size) {
		return raw_ret(-ERANGE);
	}
	if (fvm_bad_range(buf, n)) {
		return raw_ret(-EFAULT);
	}
	memcpy(buf, tmp, n);
	return (long)n;
}

/* The two times of utime(2) or utimes(2), read as the kernel reads them: first. */
static long raw_times_check(const void *times, size_t len)
{
	return times && fvm_bad_range(times, len) ? -EFAULT : 0;
}

/*
 * utimensat(2) and futimesat(2) with a NULL name: the times of DIRFD itself (flags
 * refused), EFAULT for AT_FDCWD. TS is already converted to timespecs (NULL: now).
 */
static long raw_utimes_null(int dirfd, const struct timespec ts[2], int flags)
{
	if (dirfd == AT_FDCWD) {
		return raw_ret(flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) ? -EINVAL : -EFAULT);
	}
	if (flags) {
		return raw_ret(-EINVAL);
	}
	return futimens(dirfd, ts);
}

static long raw_utimensat(int dirfd, const char *vpath, const struct timespec *ts, int flags)
{
	if (raw_times_check(ts, 2 * sizeof(*ts))) {
		return raw_ret(-EFAULT);
	}
	/* The kernel's own shortcut, before the name is looked at. */
	if (ts && ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT) {
		return 0;
	}
	if (!vpath) {
		return raw_utimes_null(dirfd, ts, flags);
	}
	return utimensat(dirfd, vpath, ts, flags);
}

static long raw_futimesat(int dirfd, const char *vpath, const struct timeval *tv)
{
	struct timespec ts[2];

	if (raw_times_check(tv, 2 * sizeof(*tv))) {
		return raw_ret(-EFAULT);
	}
	if (tv) {
		for (int i = 0; i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) {
				return raw_ret(-EINVAL);
			}
			ts[i] = (struct timespec){.tv_sec = tv[i].tv_sec, .tv_nsec = tv[i].tv_usec * 1000};
		}
	}
	if (!vpath) {
		return raw_utimes_null(dirfd, tv ? ts : NULL, 0);
	}
	return utimensat(dirfd, vpath, tv ? ts : NULL, 0);
}

/* mq_open(2) and mq_unlink(2) take the name without libc's leading '/'. */
static long raw_mq_name(const char *name, char *out, size_t outlen)
{
	long n;

	if (fvm_bad_ptr(name)) {
		return -EFAULT;
	}
	n = fvm_strlen_user(name);
	if (n < 0) {
		return n;
	}
	if ((size_t)n + 2 > outlen) {
		return -ENAMETOOLONG;
	}
	out[0] = '/';
	memcpy(out + 1, name, (size_t)n + 1);
	return 0;
}

static long raw_mq_open(const char *name, int oflag, mode_t mode, struct mq_attr *attr, long *a)
{
	char vname[NAME_MAX + 2];
	long r = raw_mq_name(name, vname, sizeof(vname));

	if (r == -ENAMETOOLONG || (r == 0 && strchr(vname + 1, '/'))) {
		/* Not a name libc could pass: the kernel's own answer. */
		return raw_ret(FVM_SC(SYS_mq_open, a[0], a[1], a[2], a[3], a[4], a[5]));
	}
	if (r < 0) {
		return raw_ret(r);
	}
	return mq_open(vname, oflag, mode, attr);
}

static long raw_mq_unlink(const char *name, long *a)
{
	char vname[NAME_MAX + 2];
	long r = raw_mq_name(name, vname, sizeof(vname));

	if (r == -ENAMETOOLONG || (r == 0 && strchr(vname + 1, '/'))) {
		return raw_ret(FVM_SC(SYS_mq_unlink, a[0], a[1], a[2], a[3], a[4], a[5]));
	}
	if (r < 0) {
		return raw_ret(r);
	}
	return mq_unlink(vname);
}

#ifdef SYS_getdents
/*
 * getdents(2), the legacy listing (x86_64): getdents64's merged listing, each record
 * rewritten in place. The two records have one size for one name (19 bytes of header
 * and the name's NUL; d_type before the name in one, in the record's last byte in the
 * other), so what fits LEN as the one fits as the other.
 */
static long raw_getdents(int fd, char *buf, size_t len)
{
	ssize_t n = getdents64(fd, buf, len);

	for (ssize_t at = 0; n > 0 && at < n;) {
		char *rec = buf + at;
		unsigned short reclen;
		unsigned char type = (unsigned char)rec[18];

		memcpy(&reclen, rec + 16, sizeof(reclen));
		memmove(rec + 18, rec + 19, strnlen(rec + 19, reclen - 19) + 1);
		rec[reclen - 1] = (char)type;
		at += reclen;
	}
	return n;
}
#endif

/*
 * The *xattrat calls (Linux 6.13; no libc wrapper yet): DIRFD/VPATH as an absolute
 * virtual path for the path wrappers (AT_SYMLINK_NOFOLLOW: the l* ones), or DIRFD itself
 * for an empty name with AT_EMPTY_PATH (the f* ones). Returns 1 (an fd: *FD set), 0 (a
 * path in OUT) or -errno, the kernel's checks first.
 */
static int raw_xattr_target(int dirfd, const char *vpath, unsigned int at_flags, char *out,
			    size_t outlen)
{
	long n;

	if (at_flags & ~(unsigned int)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
		return -EINVAL;
	}
	if (fvm_bad_ptr(vpath) || (n = fvm_strlen_user(vpath)) < 0) {
		return -EFAULT;
	}
	if (n == 0) {
		return (at_flags & AT_EMPTY_PATH) ? 1 : -ENOENT;
	}
	n = fvm_vpath_at(dirfd, vpath, out, outlen);
	return n < 0 ? (int)n : 0;
}

/* struct xattr_args of getxattrat and setxattrat, read as the kernel reads it. */
struct raw_xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

static int raw_xattr_args(const void *uargs, size_t usize, struct raw_xattr_args *args)
{
	if (usize < sizeof(*args)) {
		return -EINVAL;
	}
	if (usize > FVM_PAGE) {
		return -E2BIG;
	}
	if (fvm_bad_range(uargs, usize)) {
		return -EFAULT;
	}
	memcpy(args, uargs, sizeof(*args));
	for (size_t i = sizeof(*args); i < usize; i++) {
		if (((const char *)uargs)[i]) {
			return -E2BIG;
		}
	}
	return 0;
}

/* Whether the kernel has the *xattrat calls: asked once, with flags it refuses (EINVAL). */
static bool raw_have_xattrat(void)
{
	static int have; /* 0: not asked yet; 1: yes; -1: no */

	if (!have) {
		long r = FVM_SC(SYS_getxattrat, AT_FDCWD, "", ~0u, "", 0, 0);
		have = r == -ENOSYS ? -1 : 1;
	}
	return have > 0;
}

static long raw_xattrat(long nr, long *a)
{
	char vp[PATH_MAX];
	struct raw_xattr_args args = {0};
	bool nofollow = (unsigned int)a[2] & AT_SYMLINK_NOFOLLOW;
	int fd = (int)a[0];
	const char *name = (const char *)a[3];

	if (!raw_have_xattrat()) {
		return raw_ret(-ENOSYS);
	}
	int t = raw_xattr_target(fd, (const char *)a[1], (unsigned int)a[2], vp, sizeof(vp));

	if (t >= 0 && (nr == SYS_getxattrat || nr == SYS_setxattrat)) {
		int r = raw_xattr_args((const void *)a[4], (size_t)a[5], &args);
		if (r < 0) {
			t = r;
		} else if (nr == SYS_getxattrat && args.flags) {
			t = -EINVAL;
		}
	}
	if (t < 0) {
		return raw_ret(t);
	}
	void *value = (void *)(uintptr_t)args.value;
	switch (nr) {
	case SYS_getxattrat:
		return t ? fgetxattr(fd, name, value, args.size)
			 : nofollow ? lgetxattr(vp, name, value, args.size) : getxattr(vp, name, value, args.size);
	case SYS_setxattrat:
		return t ? fsetxattr(fd, name, value, args.size, (int)args.flags)
			 : nofollow ? lsetxattr(vp, name, value, args.size, (int)args.flags)
				    : setxattr(vp, name, value, args.size, (int)args.flags);
	case SYS_listxattrat:
		return t ? flistxattr(fd, (char *)a[3], (size_t)a[4])
			 : nofollow ? llistxattr(vp, (char *)a[3], (size_t)a[4]) : listxattr(vp, (char *)a[3], (size_t)a[4]);
	default: /* SYS_removexattrat */
		return t ? fremovexattr(fd, name) : nofollow ? lremovexattr(vp, name) : removexattr(vp, name);
	}
}

/* The call in a VM; nr is one of the numbers virt() names (its switch). */
static long virt(long nr, long *a)
{
#define P(i) ((const char *)a[i])
#define I(i) ((int)a[i])
#define U(i) ((unsigned int)a[i])
#define Z(i) ((size_t)a[i])
#define V(i) ((void *)a[i])
	switch (nr) {
	/* Opens. */
#ifdef SYS_open
	case SYS_open:
		return open(P(0), I(1), (mode_t)U(2));
#endif
#ifdef SYS_creat
	case SYS_creat:
		return creat(P(0), (mode_t)U(1));
#endif
	case SYS_openat:
		return openat(I(0), P(1), I(2), (mode_t)U(3));
	case SYS_openat2:
		return raw_ret(-ENOSYS);

	/* Deterministic runs (determ.c): the seeded stream and the run's clock. */
	case SYS_getrandom:
		return getrandom(V(0), Z(1), U(2));
	case SYS_clock_gettime:
		return clock_gettime((clockid_t)I(0), V(1));
	case SYS_gettimeofday:
		return gettimeofday(V(0), V(1));
	case SYS_uname:
		return uname(V(0));

	/* Stat and access. */
#ifdef SYS_stat
	case SYS_stat:
		return stat(P(0), V(1));
#endif
#ifdef SYS_lstat
	case SYS_lstat:
		return lstat(P(0), V(1));
#endif
	case SYS_fstat:
		return fstat(I(0), V(1));
#ifdef SYS_newfstatat
	case SYS_newfstatat:
		return fstatat(I(0), P(1), V(2), I(3));
#endif
	case SYS_statx:
		return statx(I(0), P(1), I(2), U(3), V(4));
#ifdef SYS_access
	case SYS_access:
		return access(P(0), I(1));
#endif
	case SYS_faccessat:
		return faccessat(I(0), P(1), I(2), 0);
	case SYS_faccessat2:
		return faccessat(I(0), P(1), I(2), I(3));
	case SYS_statfs:
		return statfs(P(0), V(1));
	case SYS_inotify_add_watch:
		return inotify_add_watch(I(0), P(1), (uint32_t)a[2]);
	case SYS_name_to_handle_at:
		return name_to_handle_at(I(0), P(1), V(2), V(3), I(4));

	/* Names: create, delete, link, rename. */
#ifdef SYS_mkdir
	case SYS_mkdir:
		return mkdir(P(0), (mode_t)U(1));
#endif
	case SYS_mkdirat:
		return mkdirat(I(0), P(1), (mode_t)U(2));
#ifdef SYS_mknod
	case SYS_mknod:
		return mknod(P(0), (mode_t)U(1), (dev_t)U(2));
#endif
	case SYS_mknodat:
		/* The kernel's 32-bit device number reads the same as glibc's dev_t. */
		return mknodat(I(0), P(1), (mode_t)U(2), (dev_t)U(3));
#ifdef SYS_unlink
	case SYS_unlink:
		return unlink(P(0));
#endif
#ifdef SYS_rmdir
	case SYS_rmdir:
		return rmdir(P(0));
#endif
	case SYS_unlinkat:
		return unlinkat(I(0), P(1), I(2));
#ifdef SYS_rename
	case SYS_rename:
		return rename(P(0), P(1));
#endif
#ifdef SYS_renameat
	case SYS_renameat:
		return renameat(I(0), P(1), I(2), P(3));
#endif
	case SYS_renameat2:
		return renameat2(I(0), P(1), I(2), P(3), U(4));
#ifdef SYS_link
	case SYS_link:
		return link(P(0), P(1));
#endif
	case SYS_linkat:
		return linkat(I(0), P(1), I(2), P(3), I(4));
#ifdef SYS_symlink
	case SYS_symlink:
		return symlink(P(0), P(1));
#endif
	case SYS_symlinkat:
		return symlinkat(P(0), I(1), P(2));
#ifdef SYS_readlink
	case SYS_readlink:
		return readlink(P(0), V(1), Z(2));
#endif
	case SYS_readlinkat:
		return readlinkat(I(0), P(1), V(2), Z(3));

	/* Metadata. */
#ifdef SYS_chmod
	case SYS_chmod:
		return chmod(P(0), (mode_t)U(1));
#endif
	case SYS_fchmodat:
		return fchmodat(I(0), P(1), (mode_t)U(2), 0);
	case SYS_fchmodat2:
		return fchmodat(I(0), P(1), (mode_t)U(2), I(3));
	case SYS_fchmod:
		return fchmod(I(0), (mode_t)U(1));
#ifdef SYS_chown
	case SYS_chown:
		return chown(P(0), (uid_t)U(1), (gid_t)U(2));
#endif
#ifdef SYS_lchown
	case SYS_lchown:
		return lchown(P(0), (uid_t)U(1), (gid_t)U(2));
#endif
	case SYS_fchownat:
		return fchownat(I(0), P(1), (uid_t)U(2), (gid_t)U(3), I(4));
	case SYS_fchown:
		return fchown(I(0), (uid_t)U(1), (gid_t)U(2));
	case SYS_truncate:
		return truncate(P(0), (off_t)a[1]);
#ifdef SYS_utime
	case SYS_utime:
		if (raw_times_check(V(1), sizeof(struct utimbuf))) {
			return raw_ret(-EFAULT);
		}
		return utime(P(0), V(1));
#endif
#ifdef SYS_utimes
	case SYS_utimes:
		return raw_futimesat(AT_FDCWD, P(0), V(1));
#endif
#ifdef SYS_futimesat
	case SYS_futimesat:
		return raw_futimesat(I(0), P(1), V(2));
#endif
	case SYS_utimensat:
		return raw_utimensat(I(0), P(1), V(2), I(3));
	case SYS_ioctl:
		return ioctl(I(0), (unsigned long)a[1], a[2]);
	case SYS_getxattr:
		return getxattr(P(0), P(1), V(2), Z(3));
	case SYS_lgetxattr:
		return lgetxattr(P(0), P(1), V(2), Z(3));
	case SYS_fgetxattr:
		return fgetxattr(I(0), P(1), V(2), Z(3));
	case SYS_listxattr:
		return listxattr(P(0), V(1), Z(2));
	case SYS_llistxattr:
		return llistxattr(P(0), V(1), Z(2));
	case SYS_flistxattr:
		return flistxattr(I(0), V(1), Z(2));
	case SYS_setxattr:
		return setxattr(P(0), P(1), V(2), Z(3), I(4));
	case SYS_lsetxattr:
		return lsetxattr(P(0), P(1), V(2), Z(3), I(4));
	case SYS_fsetxattr:
		return fsetxattr(I(0), P(1), V(2), Z(3), I(4));
	case SYS_removexattr:
		return removexattr(P(0), P(1));
	case SYS_lremovexattr:
		return lremovexattr(P(0), P(1));
	case SYS_fremovexattr:
		return fremovexattr(I(0), P(1));
	case SYS_setxattrat:
	case SYS_getxattrat:
	case SYS_listxattrat:
	case SYS_removexattrat:
		return raw_xattrat(nr, a);

	/* The cwd, listings and the fds libfvm keeps track of. */
	case SYS_getcwd:
		return raw_getcwd(V(0), Z(1));
	case SYS_chdir:
		return chdir(P(0));
	case SYS_fchdir:
		return fchdir(I(0));
	case SYS_getdents64:
		return getdents64(I(0), V(1), Z(2));
#ifdef SYS_getdents
	case SYS_getdents:
		return raw_getdents(I(0), V(1), Z(2));
#endif
	case SYS_close:
		return close(I(0));
	case SYS_close_range:
		return close_range(U(0), U(1), I(2));
	case SYS_dup:
		return dup(I(0));
#ifdef SYS_dup2
	case SYS_dup2:
		return dup2(I(0), I(1));
#endif
	case SYS_dup3:
		return dup3(I(0), I(1), I(2));
	case SYS_fcntl:
		return fcntl(I(0), I(1), a[2]);

	/* Programs. */
	case SYS_execve:
		return execve(P(0), V(1), V(2));
	case SYS_execveat:
		return execveat(I(0), P(1), V(2), V(3), I(4));

	/* Sockets: AF_UNIX names, the network policy. */
	case SYS_connect:
		return connect(I(0), V(1), (socklen_t)U(2));
	case SYS_bind:
		return bind(I(0), V(1), (socklen_t)U(2));
	case SYS_sendto:
		return sendto(I(0), V(1), Z(2), I(3), V(4), (socklen_t)U(5));
	case SYS_sendmsg:
		return sendmsg(I(0), V(1), I(2));
	case SYS_sendmmsg:
		return sendmmsg(I(0), V(1), U(2), I(3));
	case SYS_getsockname:
		return getsockname(I(0), V(1), V(2));
	case SYS_getpeername:
		return getpeername(I(0), V(1), V(2));
#ifdef SYS_accept
	case SYS_accept:
		return accept(I(0), V(1), V(2));
#endif
	case SYS_accept4:
		return accept4(I(0), V(1), V(2), I(3));
	case SYS_recvfrom:
		return recvfrom(I(0), V(1), Z(2), I(3), V(4), V(5));
	case SYS_recvmsg:
		return recvmsg(I(0), V(1), I(2));
	case SYS_recvmmsg:
		return recvmmsg(I(0), V(1), U(2), I(3), V(4));

	/* IPC names and keys. */
	case SYS_mq_open:
		return raw_mq_open(P(0), I(1), (mode_t)U(2), V(3), a);
	case SYS_mq_unlink:
		return raw_mq_unlink(P(0), a);
	case SYS_shmget:
		return shmget((key_t)I(0), Z(1), I(2));
	case SYS_semget:
		return semget((key_t)I(0), I(1), I(2));
	case SYS_msgget:
		return msgget((key_t)I(0), I(1));
	default:
		return raw_ret(FVM_SC(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
	}
#undef P
#undef I
#undef U
#undef Z
#undef V
}

long syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++) {
		a[i] = va_arg(ap, long);
	}
	va_end(ap);
	if (fvm_on()) {
		return virt(nr, a);
	}
	return raw_ret(FVM_SC(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}
