/*
 * fd.c — file descriptors: the virtual path of an fd or of a /proc magic link, and
 * the fd table that spares asking the kernel, with the wrappers that keep it true
 * (close, close_range, closefrom, dup, dup2, dup3, fcntl F_DUPFD).
 *
 * The fd table holds the virtual path of each directory opened through libfvm, below
 * FDT_N, and of their duplicates. Closing or replacing an fd forgets it by bumping its
 * epoch, which never fails nor waits; an entry of another epoch is never used. close
 * bumps only an fd whose entry may be live (of its epoch, or being written). Each
 * entry is a seqlock: a reader that sees a writer asks the kernel. An fd closed behind
 * libc's back (a raw syscall) and reused for a directory libfvm did not open would be
 * misnamed: only such a program could tell.
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fvm/path.h"
#include "libfvm.h"

static const char deleted_suffix[] = " (deleted)";

static bool is_deleted(const char *rpath, size_t n)
{
	return n > sizeof(deleted_suffix) - 1 &&
	       strcmp(rpath + n - (sizeof(deleted_suffix) - 1), deleted_suffix) == 0;
}

int fvm_magic_target(const char *magic, char *vpath, size_t len)
{
	ssize_t n = sys_readlinkat(AT_FDCWD, magic, vpath, len - 1);

	if (n < 0) {
		return (int)n;
	}
	vpath[n] = '\0';
	if (vpath[0] != '/' || is_deleted(vpath, (size_t)n) ||
	    fvm_path_has_prefix(vpath, (size_t)n, fvm_g.upper, fvm_g.upper_len) ||
	    fvm_policy_class(fvm_g.policy, vpath, (size_t)n) == FVM_CLASS_SHARED) {
		return 1;
	}
	return (size_t)n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

#define FDT_N 1024
#define FDT_PATH 248

struct fdt_ent {
	unsigned seq;       /* odd while written */
	unsigned epoch;     /* fdt_epoch[fd] when written */
	unsigned short len; /* 0: empty */
	char path[FDT_PATH];
};

static struct fdt_ent fdt[FDT_N] FVM_LARGE_BSS;
static unsigned fdt_epoch[FDT_N] FVM_LARGE_BSS;

/*
 * True when VPATH (LEN) is absolute and lexically canonical: no empty, "." or ".."
 * component, no "/" at its end but for the root. Only such a path is remembered, so
 * that fvm_vpath_at may join a plain name to it without normalising (vpath.c).
 */
static bool canonical(const char *p, size_t len)
{
	if (len == 0 || p[0] != '/') {
		return false;
	}
	if (len == 1) {
		return true;
	}
	if (p[len - 1] == '/') {
		return false;
	}
	for (const char *c = p + 1, *end = p + len;;) {
		/* c: the start of a component, inside the path */
		if (c[0] == '/' || (c[0] == '.' && (c + 1 == end || c[1] == '/' ||
						    (c[1] == '.' && (c + 2 == end || c[2] == '/'))))) {
			return false;
		}
		c = memchr(c, '/', (size_t)(end - c));
		if (!c) {
			return true;
		}
		c++;
	}
}

/* Remembers canonical VPATH (LEN) for FD. */
static void fdt_store(int fd, const char *vpath, size_t len)
{
	struct fdt_ent *e;
	unsigned seq;

	if (fd < 0 || fd >= FDT_N || len >= FDT_PATH) {
		return;
	}
	e = &fdt[fd];
	seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	if ((seq & 1) || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false,
						      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		return;
	}
	e->epoch = __atomic_load_n(&fdt_epoch[fd], __ATOMIC_ACQUIRE);
	e->len = (unsigned short)len;
	memcpy(e->path, vpath, len);
	e->path[len] = '\0';
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

void fvm_fd_remember(int fd, const char *vpath, size_t len)
{
	if (canonical(vpath, len)) {
		fdt_store(fd, vpath, len);
	}
}

void fvm_fd_forget(int fd)
{
	if (fd >= 0 && fd < FDT_N) {
		__atomic_add_fetch(&fdt_epoch[fd], 1, __ATOMIC_RELEASE);
	}
}

/* FD's remembered virtual path into OUT; its length, or -1 when not known. */
static int fdt_get(int fd, char *out, size_t outlen)
{
	const struct fdt_ent *e;
	unsigned seq, len;

	if (fd < 0 || fd >= FDT_N) {
		return -1;
	}
	e = &fdt[fd];
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	len = e->len;
	if ((seq & 1) || !len || len >= outlen ||
	    e->epoch != __atomic_load_n(&fdt_epoch[fd], __ATOMIC_ACQUIRE)) {
		return -1;
	}
	memcpy(out, e->path, len);
	out[len] = '\0';
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq ? (int)len : -1;
}

bool fvm_fd_host_dir(int fd)
{
	char vpath[FDT_PATH];
	int n = fdt_get(fd, vpath, sizeof(vpath));

	return n > 0 && fvm_dir_host_only(&fvm_g, vpath, (size_t)n);
}

/* NEWFD, just made a duplicate of OLDFD, names what OLDFD names. */
static void fdt_dup(int oldfd, int newfd)
{
	char vpath[FDT_PATH];
	int n = fdt_get(oldfd, vpath, sizeof(vpath));

	if (n >= 0) {
		fdt_store(newfd, vpath, (size_t)n); /* canonical: it was remembered so */
	}
}

int dup(int oldfd)
{
	int fd = REAL(dup)(oldfd);

	fdt_dup(oldfd, fd);
	return fd;
}

/* fcntl's third argument is an int, a long or a pointer: passed on as a pointer-sized word. */
static int fdt_fcntl(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	int ret;

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		ret = real(fd, cmd, (int)(long)arg);
		fdt_dup(fd, ret);
		return ret;
	}
	return real(fd, cmd, arg);
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fdt_fcntl(REAL(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fdt_fcntl(REAL(fcntl64), fd, cmd, arg);
}

/*
 * Whether FD may have a live entry: one of its current epoch, or one being written.
 * Plain loads: close asks this first, so that closing an fd the table never held (a
 * file, a socket: nearly every close) writes nothing (no locked add, no page of the
 * table dirtied in a process that never remembers a directory). A store that races
 * the close of its own fd may leave its entry live, as it may when it reads the epoch
 * after the bump: only a program that closes an fd another thread is opening can tell.
 */
static bool fdt_maybe_live(int fd)
{
	const struct fdt_ent *e = &fdt[fd];

	return (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) & 1) ||
	       (e->len && e->epoch == __atomic_load_n(&fdt_epoch[fd], __ATOMIC_ACQUIRE));
}

int close(int fd)
{
	if (fd >= 0 && fd < FDT_N && fdt_maybe_live(fd)) {
		__atomic_add_fetch(&fdt_epoch[fd], 1, __ATOMIC_RELEASE);
	}
	return REAL(close)(fd);
}

int dup2(int oldfd, int newfd)
{
	if (oldfd != newfd) {
		fvm_fd_forget(newfd);
	}
	int ret = REAL(dup2)(oldfd, newfd);
	if (ret >= 0 && oldfd != newfd) {
		fdt_dup(oldfd, newfd);
	}
	return ret;
}

int dup3(int oldfd, int newfd, int flags)
{
	fvm_fd_forget(newfd);
	int ret = REAL(dup3)(oldfd, newfd, flags);
	if (ret >= 0) {
		fdt_dup(oldfd, newfd);
	}
	return ret;
}

int close_range(unsigned first, unsigned last, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		for (unsigned fd = first; fd <= last && fd < FDT_N; fd++) {
			fvm_fd_forget((int)fd);
		}
	}
	return REAL(close_range)(first, last, flags);
}

void closefrom(int lowfd)
{
	for (int fd = lowfd < 0 ? 0 : lowfd; fd < FDT_N; fd++) {
		fvm_fd_forget(fd);
	}
	REAL(closefrom)(lowfd);
}

/* FD's real path into RPATH, or -errno (-ENOTDIR for a non-file, -ENOENT deleted). */
static int fd_rpath(int fd, char *rpath, size_t len)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = sys_readlinkat(AT_FDCWD, proc, rpath, len - 1);
	if (n < 0) {
		return n == -ENOENT ? -EBADF : (int)n;
	}
	rpath[n] = '\0';
	if (rpath[0] != '/') {
		return -ENOTDIR; /* a pipe, socket or anonymous inode */
	}
	if (is_deleted(rpath, (size_t)n)) {
		return -ENOENT;
	}
	return (int)n;
}

int fvm_fd_vpath(int fd, char *out, size_t outlen)
{
	char rpath[FVM_RPATH_MAX];
	int ret = fdt_get(fd, out, outlen);

	if (ret >= 0) {
		return ret;
	}
	ret = fd_rpath(fd, rpath, sizeof(rpath));

	return ret < 0 ? ret : fvm_narrow(&fvm_g, rpath, out, outlen);
}

int fvm_fd_vpath_upper(int fd, char *out, size_t outlen)
{
	char rpath[FVM_RPATH_MAX];
	int ret = fd_rpath(fd, rpath, sizeof(rpath));

	if (ret < 0) {
		return ret;
	}
	if (!fvm_path_has_prefix(rpath, (size_t)ret, fvm_g.upper, fvm_g.upper_len)) {
		return -ENOENT;
	}
	return fvm_narrow(&fvm_g, rpath, out, outlen);
}

