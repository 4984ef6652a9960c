/*
 * vpath.c — from what a program said (dirfd + name) to an absolute virtual path.
 *
 * The virtual cwd and the virtual path of a directory fd are the kernel's real paths
 * narrowed (fvm_narrow): the real cwd is always the resolved directory, so a fork or
 * exec inherits it for free.
 *
 * Two memos spare the readlink/getcwd that asking costs, on every relative name:
 *  - The fd table: the virtual path of each directory opened through libfvm, below
 *    FDT_N, and of their duplicates (dup, dup2, dup3, fcntl F_DUPFD). close,
 *    close_range, closefrom, dup2 and dup3 (wrapped here) forget an fd by bumping its
 *    epoch, which never fails nor waits; an entry of another epoch is never used. An fd closed behind libc's back (a raw syscall) and reused for a
 *    directory libfvm did not open would be misnamed: only such a program could tell.
 *  - The cwd: memoised at the VM generation, so that a rename in the VM asks again.
 *    chdir and fchdir switch the memo off for the rest of the process image: a vfork
 *    child shares this memory, and must never leave its own cwd behind in it. A rename
 *    by a host process of a directory a VM process is in is not seen.
 * Both are seqlocks: a reader that sees a writer simply asks the kernel.
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdint.h>
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

static int fdt_get(int fd, char *out, size_t outlen);

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

/* ---- the fd table ---- */

#define FDT_N 1024
#define FDT_PATH 248

struct fdt_ent {
	unsigned seq;       /* odd while written */
	unsigned epoch;     /* fdt_epoch[fd] when written */
	unsigned short len; /* 0: empty */
	char path[FDT_PATH];
};

static struct fdt_ent fdt[FDT_N];
static unsigned fdt_epoch[FDT_N];

void fvm_fd_remember(int fd, const char *vpath, size_t len)
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

/* NEWFD, just made a duplicate of OLDFD, names what OLDFD names. */
static void fdt_dup(int oldfd, int newfd)
{
	char vpath[FDT_PATH];
	int n = fdt_get(oldfd, vpath, sizeof(vpath));

	if (n >= 0) {
		fvm_fd_remember(newfd, vpath, (size_t)n);
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

int close(int fd)
{
	fvm_fd_forget(fd);
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

/* ---- the cwd memo ---- */

static struct {
	unsigned seq;
	bool off;          /* a chdir happened: never memoise again */
	unsigned short len;
	uint64_t gen;
	char path[PATH_MAX];
} cwd_memo;

void fvm_cwd_changing(void)
{
	__atomic_store_n(&cwd_memo.off, true, __ATOMIC_RELEASE);
}

static int cwd_get(uint64_t gen, char *out, size_t outlen)
{
	unsigned seq = __atomic_load_n(&cwd_memo.seq, __ATOMIC_ACQUIRE);
	size_t len = cwd_memo.len;

	if ((seq & 1) || !gen || cwd_memo.gen != gen || !len || len >= outlen ||
	    __atomic_load_n(&cwd_memo.off, __ATOMIC_ACQUIRE)) {
		return -1;
	}
	memcpy(out, cwd_memo.path, len);
	out[len] = '\0';
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&cwd_memo.seq, __ATOMIC_RELAXED) == seq ? (int)len : -1;
}

static void cwd_put(uint64_t gen, const char *path, size_t len)
{
	unsigned seq = __atomic_load_n(&cwd_memo.seq, __ATOMIC_RELAXED);

	if (!gen || len >= sizeof(cwd_memo.path) || (seq & 1) ||
	    __atomic_load_n(&cwd_memo.off, __ATOMIC_ACQUIRE) ||
	    !__atomic_compare_exchange_n(&cwd_memo.seq, &seq, seq + 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		return;
	}
	cwd_memo.gen = gen;
	cwd_memo.len = (unsigned short)len;
	memcpy(cwd_memo.path, path, len);
	__atomic_store_n(&cwd_memo.seq, seq + 2, __ATOMIC_RELEASE);
}

static int vcwd(char *out, size_t outlen)
{
	char rpath[FVM_RPATH_MAX];
	uint64_t gen = fvm_gen_now(&fvm_g); /* read before asking: a change meanwhile makes it stale */
	int n = cwd_get(gen, out, outlen);

	if (n >= 0) {
		return n;
	}
	n = sys_getcwd(rpath, sizeof(rpath));
	if (n < 0) {
		return n;
	}
	if (rpath[0] != '/') {
		return -ENOENT; /* "(unreachable)" */
	}
	n = fvm_narrow(&fvm_g, rpath, out, outlen);
	if (n > 0) {
		cwd_put(gen, out, (size_t)n);
	}
	return n;
}

int fvm_vpath_at(int dirfd, const char *name, char *out, size_t outlen)
{
	char base[PATH_MAX];
	size_t nl = strlen(name);
	int ret;

	if (nl >= PATH_MAX) {
		return -ENAMETOOLONG;
	}
	if (name[0] == '/') {
		if (nl + 1 > outlen) {
			return -ENAMETOOLONG;
		}
		memcpy(out, name, nl + 1);
		return (int)nl;
	}
	ret = dirfd == AT_FDCWD ? vcwd(base, sizeof(base)) : fvm_fd_vpath(dirfd, base, sizeof(base));
	if (ret < 0) {
		return ret;
	}
	ret = fvm_path_join(base, name, out, outlen);
	/* Keep a trailing slash: it asks for a directory. */
	if (ret > 1 && nl > 0 && name[nl - 1] == '/' && (size_t)ret + 2 <= outlen) {
		out[ret++] = '/';
		out[ret] = '\0';
	}
	return ret;
}

enum fvm_direct fvm_direct_at(int dirfd, const char *name, char *vp, int *vlen)
{
	*vlen = name && name[0] ? fvm_vpath_at(dirfd, name, vp, PATH_MAX) : -1;
	return *vlen < 0 ? FVM_DIRECT_NO : fvm_host_direct(&fvm_g, vp, (size_t)*vlen);
}

int fvm_resolve_at(int dirfd, const char *name, int rflags, struct fvm_res *res)
{
	char vpath[PATH_MAX];
	int ret;

	if (!name) {
		return -EFAULT;
	}
	if (!name[0]) {
		return -ENOENT;
	}
	ret = fvm_vpath_at(dirfd, name, vpath, sizeof(vpath));
	if (ret < 0) {
		return ret;
	}
	return fvm_resolve_vpath(vpath, (size_t)ret, rflags, res);
}

int fvm_resolve_from(int dirfd, const char *name, char *vp, int vlen, int rflags, struct fvm_res *res)
{
	return vlen >= 0 ? fvm_resolve_vpath(vp, (size_t)vlen, rflags, res)
			 : fvm_resolve_at(dirfd, name, rflags, res);
}

int fvm_resolve_vpath(char *vpath, size_t len, int rflags, struct fvm_res *res)
{
	/* /dev/shm/NAME is the VM's NAME, as shm_open and the listing have it (ipc.c). */
	int ret = fvm_ipc_vpath(vpath, len, PATH_MAX);

	if (ret < 0) {
		return ret;
	}
	return fvm_resolve(&fvm_g, vpath, rflags, res);
}
