/*
 * vpath.c — from what a program said (dirfd + name) to an absolute virtual path.
 *
 * The virtual cwd and the virtual path of a directory fd are the kernel's real paths
 * narrowed (fvm_narrow): the real cwd is always the resolved directory, so nothing
 * process-wide needs to be kept in sync and a fork or exec inherits it for free.
 */
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

int fvm_fd_vpath(int fd, char *out, size_t outlen)
{
	char rpath[FVM_RPATH_MAX];
	int ret = fd_rpath(fd, rpath, sizeof(rpath));

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

static int vcwd(char *out, size_t outlen)
{
	char rpath[FVM_RPATH_MAX];
	int n = sys_getcwd(rpath, sizeof(rpath));

	if (n < 0) {
		return n;
	}
	if (rpath[0] != '/') {
		return -ENOENT; /* "(unreachable)" */
	}
	return fvm_narrow(&fvm_g, rpath, out, outlen);
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
	/* /dev/shm/NAME is the VM's NAME, as shm_open and the listing have it (ipc.c). */
	ret = fvm_ipc_vpath(vpath, (size_t)ret, sizeof(vpath));
	if (ret < 0) {
		return ret;
	}
	return fvm_resolve(&fvm_g, vpath, rflags, res);
}
