/*
 * sys.h — raw system calls for libfvm's core and the tools.
 *
 * Invariants:
 *  - Every function here returns the kernel's answer: >= 0 on success, -errno on
 *    failure. None of them touches errno, so libfvm's bookkeeping never disturbs the
 *    errno a program sees.
 *  - None of them goes through a libc symbol that libfvm wraps: inside libfvm.so a
 *    call to open() would reach libfvm's own open() again.
 */
#ifndef FVM_SYS_H
#define FVM_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__x86_64__)
static inline long fvm_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long fvm_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
#include <dlfcn.h>
#include <errno.h>
/*
 * Portable fallback: libc's syscall(), with errno saved around it. libfvm wraps
 * syscall() (rawsys.c), so the one called is the next definition after the caller's
 * object: libc's, never libfvm's own again.
 */
static inline long fvm_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	static long (*next)(long, ...);
	if (!next) {
		next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	}
	int saved = errno;
	long ret = next(n, a, b, c, d, e, f);
	if (ret == -1) {
		ret = -errno;
	}
	errno = saved;
	return ret;
}
#endif

#define FVM_SC(n, a, b, c, d, e, f) \
	fvm_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/*
 * Paths of PATH_MAX bytes or more (core/longpath.c). The kernel refuses such a string
 * (ENAMETOOLONG) but not so deep a file: a VM's real path (the layer's prefix, then an
 * absolute virtual path) may be that long where the program's own, relative, name was
 * not. So a path call the kernel found too long is made again, once fvm_long_paths is
 * set (libfvm in a VM), on an absolute path: its directories are opened in pieces and
 * the call acts relative to the last. D1 and D2 say where each path argument is: the
 * index of its dirfd argument (the path follows it), FVM_LONG_AT0 + i for a path at
 * index i that takes no dirfd, FVM_LONG_NONE for none. The common call pays one
 * comparison.
 */
#define FVM_LONG_NONE (-1)
#define FVM_LONG_AT0 (-8)
extern int fvm_long_paths;
long fvm_long_call(long n, const long args[6], int d1, int d2);

static inline long fvm_long_retry(long ret, long n, int d1, int d2, long a, long b, long c,
				  long d, long e, long f)
{
	if (__builtin_expect(ret != -ENAMETOOLONG, 1) || !fvm_long_paths) {
		return ret;
	}
	const long args[6] = {a, b, c, d, e, f};
	return fvm_long_call(n, args, d1, d2);
}

/* FVM_SC, retried on a path of PATH_MAX bytes or more (D1, D2: as fvm_long_call). */
#define FVM_SCL(d1, d2, n, a, b, c, d, e, f)                                                   \
	fvm_long_retry(FVM_SC(n, a, b, c, d, e, f), (n), (d1), (d2), (long)(a), (long)(b),      \
		       (long)(c), (long)(d), (long)(e), (long)(f))

static inline int sys_openat(int dirfd, const char *rpath, int flags, mode_t mode)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_openat, dirfd, rpath, flags, mode, 0, 0);
}

static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)FVM_SC(SYS_mmap, addr, len, prot, flags, fd, off);
}

static inline int sys_munmap(void *addr, size_t len)
{
	return (int)FVM_SC(SYS_munmap, addr, len, 0, 0, 0, 0);
}

static inline int sys_close(int fd)
{
	return (int)FVM_SC(SYS_close, fd, 0, 0, 0, 0, 0);
}

static inline int sys_fstatat(int dirfd, const char *rpath, struct stat *st, int flags)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_newfstatat, dirfd, rpath, st, flags, 0, 0);
}

static inline int sys_lstat(const char *rpath, struct stat *st)
{
	return sys_fstatat(AT_FDCWD, rpath, st, AT_SYMLINK_NOFOLLOW);
}

static inline int sys_statx(int dirfd, const char *rpath, int flags, unsigned mask, void *stx)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_statx, dirfd, rpath, flags, mask, stx, 0);
}

static inline int sys_fstat(int fd, struct stat *st)
{
	return (int)FVM_SC(SYS_fstat, fd, st, 0, 0, 0, 0);
}

static inline ssize_t sys_readlinkat(int dirfd, const char *rpath, char *buf, size_t len)
{
	return FVM_SCL(0, FVM_LONG_NONE, SYS_readlinkat, dirfd, rpath, buf, len, 0, 0);
}

static inline int sys_mkdirat(int dirfd, const char *rpath, mode_t mode)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_mkdirat, dirfd, rpath, mode, 0, 0, 0);
}

static inline int sys_unlinkat(int dirfd, const char *rpath, int flags)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_unlinkat, dirfd, rpath, flags, 0, 0, 0);
}

static inline int sys_renameat2(int olddirfd, const char *oldrpath, int newdirfd,
				const char *newrpath, unsigned flags)
{
	return (int)FVM_SCL(0, 2, SYS_renameat2, olddirfd, oldrpath, newdirfd, newrpath, flags, 0);
}

static inline int sys_symlinkat(const char *target, int dirfd, const char *rpath)
{
	return (int)FVM_SCL(1, FVM_LONG_NONE, SYS_symlinkat, target, dirfd, rpath, 0, 0, 0);
}

static inline int sys_linkat(int olddirfd, const char *oldrpath, int newdirfd,
			     const char *newrpath, int flags)
{
	return (int)FVM_SCL(0, 2, SYS_linkat, olddirfd, oldrpath, newdirfd, newrpath, flags, 0);
}

static inline int sys_mknodat(int dirfd, const char *rpath, mode_t mode, dev_t dev)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_mknodat, dirfd, rpath, mode, dev, 0, 0);
}

static inline int sys_fchmodat(int dirfd, const char *rpath, mode_t mode)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_fchmodat, dirfd, rpath, mode, 0, 0, 0);
}

static inline int sys_fchmod(int fd, mode_t mode)
{
	return (int)FVM_SC(SYS_fchmod, fd, mode, 0, 0, 0, 0);
}

static inline int sys_fchownat(int dirfd, const char *rpath, uid_t uid, gid_t gid, int flags)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_fchownat, dirfd, rpath, uid, gid, flags, 0);
}

static inline int sys_fchown(int fd, uid_t uid, gid_t gid)
{
	return (int)FVM_SC(SYS_fchown, fd, uid, gid, 0, 0, 0);
}

static inline int sys_utimensat(int dirfd, const char *rpath, const struct timespec ts[2],
				int flags)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_utimensat, dirfd, rpath, ts, flags, 0, 0);
}

static inline int sys_faccessat2(int dirfd, const char *rpath, int mode, int flags)
{
	return (int)FVM_SCL(0, FVM_LONG_NONE, SYS_faccessat2, dirfd, rpath, mode, flags, 0, 0);
}

/*
 * faccessat2 of a host object as a VM sees it: root runs see the host through read-only
 * mounts (fvm-exec's rootfence.c), and the kernel answers EROFS only once the permission
 * bits allowed the access — the host's "yes", which the VM's copy-on-write honours.
 */
static inline int sys_host_access(int dirfd, const char *rpath, int mode, int flags)
{
	int ret = sys_faccessat2(dirfd, rpath, mode, flags);
	return ret == -EROFS ? 0 : ret;
}

static inline ssize_t sys_read(int fd, void *buf, size_t len)
{
	return FVM_SC(SYS_read, fd, buf, len, 0, 0, 0);
}

static inline ssize_t sys_write(int fd, const void *buf, size_t len)
{
	return FVM_SC(SYS_write, fd, buf, len, 0, 0, 0);
}

static inline ssize_t sys_pread(int fd, void *buf, size_t len, off_t off)
{
	return FVM_SC(SYS_pread64, fd, buf, len, off, 0, 0);
}

static inline ssize_t sys_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return FVM_SC(SYS_pwrite64, fd, buf, len, off, 0, 0);
}

static inline int sys_getcwd(char *buf, size_t len)
{
	return (int)FVM_SC(SYS_getcwd, buf, len, 0, 0, 0, 0);
}

static inline int sys_chdir(const char *rpath)
{
	return (int)FVM_SCL(FVM_LONG_AT0, FVM_LONG_NONE, SYS_chdir, rpath, 0, 0, 0, 0, 0);
}

static inline int sys_fchdir(int fd)
{
	return (int)FVM_SC(SYS_fchdir, fd, 0, 0, 0, 0, 0);
}

static inline int sys_ioctl(int fd, unsigned long req, long arg)
{
	return (int)FVM_SC(SYS_ioctl, fd, req, arg, 0, 0, 0);
}

static inline ssize_t sys_copy_file_range(int in, int out, size_t len)
{
	return FVM_SC(SYS_copy_file_range, in, NULL, out, NULL, len, 0);
}

static inline ssize_t sys_flistxattr(int fd, char *list, size_t len)
{
	return FVM_SC(SYS_flistxattr, fd, list, len, 0, 0, 0);
}

static inline ssize_t sys_fgetxattr(int fd, const char *name, void *val, size_t len)
{
	return FVM_SC(SYS_fgetxattr, fd, name, val, len, 0, 0);
}

static inline int sys_fsetxattr(int fd, const char *name, const void *val, size_t len, int flags)
{
	return (int)FVM_SC(SYS_fsetxattr, fd, name, val, len, flags, 0);
}

static inline ssize_t sys_llistxattr(const char *rpath, char *list, size_t len)
{
	return FVM_SCL(FVM_LONG_AT0, FVM_LONG_NONE, SYS_llistxattr, rpath, list, len, 0, 0, 0);
}

static inline ssize_t sys_lgetxattr(const char *rpath, const char *name, void *val, size_t len)
{
	return FVM_SCL(FVM_LONG_AT0, FVM_LONG_NONE, SYS_lgetxattr, rpath, name, val, len, 0, 0);
}

static inline int sys_lsetxattr(const char *rpath, const char *name, const void *val,
				size_t len, int flags)
{
	return (int)FVM_SCL(FVM_LONG_AT0, FVM_LONG_NONE, SYS_lsetxattr, rpath, name, val, len, flags, 0);
}

static inline int sys_fcntl(int fd, int cmd, long arg)
{
	return (int)FVM_SC(SYS_fcntl, fd, cmd, arg, 0, 0, 0);
}

static inline int sys_socketpair(int domain, int type, int proto, int sv[2])
{
	return (int)FVM_SC(SYS_socketpair, domain, type, proto, sv, 0, 0);
}

static inline int sys_socket(int domain, int type, int proto)
{
	return (int)FVM_SC(SYS_socket, domain, type, proto, 0, 0, 0);
}

static inline int sys_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return (int)FVM_SC(SYS_connect, fd, addr, len, 0, 0, 0);
}

static inline ssize_t sys_sendto(int fd, const void *buf, size_t len, int flags)
{
	return FVM_SC(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

static inline ssize_t sys_recvfrom(int fd, void *buf, size_t len, int flags)
{
	return FVM_SC(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

static inline ssize_t sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return FVM_SC(SYS_sendmsg, fd, msg, flags, 0, 0, 0);
}

static inline ssize_t sys_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return FVM_SC(SYS_recvmsg, fd, msg, flags, 0, 0, 0);
}

static inline int sys_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return (int)FVM_SC(SYS_getsockopt, fd, level, name, val, len, 0);
}

static inline int sys_getdents64(int fd, void *buf, size_t len)
{
	return (int)FVM_SC(SYS_getdents64, fd, buf, len, 0, 0, 0);
}

static inline off_t sys_lseek(int fd, off_t off, int whence)
{
	return (off_t)FVM_SC(SYS_lseek, fd, off, whence, 0, 0, 0);
}

static inline int sys_ftruncate(int fd, off_t len)
{
	return (int)FVM_SC(SYS_ftruncate, fd, len, 0, 0, 0, 0);
}

static inline pid_t sys_getpid(void)
{
	return (pid_t)FVM_SC(SYS_getpid, 0, 0, 0, 0, 0, 0);
}

static inline pid_t sys_gettid(void)
{
	return (pid_t)FVM_SC(SYS_gettid, 0, 0, 0, 0, 0, 0);
}

static inline uid_t sys_geteuid(void)
{
	return (uid_t)FVM_SC(SYS_geteuid, 0, 0, 0, 0, 0, 0);
}

#endif
