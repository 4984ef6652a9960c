/*
 * unixguard.c — the AF_UNIX guard of unix = vm (run.h): the run's supervisor answers
 * the seccomp notification of every connect(2) of the VM.
 *
 * Rules:
 *  - A connect of an AF_UNIX socket to a path is performed HERE, never continued: the
 *    address is read once (process_vm_readv), the path is resolved from the caller's
 *    root or working directory (/proc/PID/root with RESOLVE_IN_ROOT, /proc/PID/cwd) to
 *    an O_PATH fd, the decision is taken on that inode, and the connect goes through
 *    "/proc/self/fd/N" on a copy of the caller's socket (pidfd_getfd): the inode checked
 *    is the inode connected, whatever the VM changes meanwhile. The result (0 or -errno)
 *    is the caller's.
 *  - Allowed: a socket inode of the VM's data area (its upper directory) with one link
 *    (a hard link to a host socket planted in the VM is not the VM's), one beneath a
 *    path the policy shares, or one of --allow unix:PATH (compared by device and inode).
 *    Anything else is EACCES, what Landlock gives for a refused path.
 *  - The notification id is checked after each read of the caller (its memory, its
 *    /proc entries, its fd): a pid reused meanwhile gets nothing.
 *  - Credentials: connecting checks write permission on the socket inode, and the path
 *    walk search permission, with the fsuid, fsgid and groups of the connecting task:
 *    the lookup and the connect run under notify_as (notify.c).
 *  - What is not an AF_UNIX path connect is continued (SECCOMP_USER_NOTIF_FLAG_CONTINUE):
 *    inet sockets, which Landlock and the seccomp socket rules govern, and abstract
 *    names, which Landlock scopes to the VM (ABI 6). That continuation is racy by
 *    nature: see the README's Limitations.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "run.h"

int unix_guard_prepare(struct unix_guard *g, const struct exec_settings *s, const char *vmdir)
{
	char up[PATH_MAX];

	g->pol = &s->pol;
	g->allow = s->unix_allow;
	g->nallow = s->nunix_allow;
	snprintf(up, sizeof(up), "%s/" FVM_UPPER_DIR, vmdir);
	if (!realpath(up, g->upper)) {
		snprintf(g->upper, sizeof(g->upper), "%s", up);
	}
	return 0;
}

/* FD (an O_PATH fd of a socket inode) may be connected to under G's policy. */
static bool allowed(const struct unix_guard *g, int fd, const struct stat *st)
{
	char link[64], path[PATH_MAX];
	struct stat a;

	for (size_t i = 0; i < g->nallow; i++) {
		if (stat(g->allow[i], &a) == 0 && a.st_dev == st->st_dev && a.st_ino == st->st_ino) {
			return true;
		}
	}
	if (trace_is_socket(fd, -1)) {
		return true; /* --trace's socket (trace.c): libfvm's connect; sends are direct */
	}
	if (st->st_nlink != 1) {
		return false; /* a link to a host socket planted in the VM */
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || path[0] != '/') {
		return false;
	}
	path[n] = '\0';
	size_t ul = strlen(g->upper);
	if (strncmp(path, g->upper, ul) == 0 && path[ul] == '/') {
		return true;
	}
	return fvm_policy_class(g->pol, path, (size_t)n) == FVM_CLASS_SHARED;
}

int unix_guard_resolve(const struct unix_guard *g, int dirfd, bool absolute, const char *path)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = absolute ? RESOLVE_IN_ROOT : 0};
	struct stat st;
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	int r = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (!S_ISSOCK(st.st_mode)) {
		r = -ECONNREFUSED; /* what connect(2) and sendto(2) give for a path that is no socket */
	} else if (!allowed(g, fd, &st)) {
		r = -EACCES;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Resolves PATH as PID sees it, decides, connects SOCK through the inode. Returns 0 or
 * -errno. DIRFD: PID's root (absolute PATH) or working directory. */
static int connect_path(const struct unix_guard *g, int sock, int dirfd, bool absolute, const char *path,
			socklen_t len)
{
	struct sockaddr_un via = {.sun_family = AF_UNIX};
	int fd = unix_guard_resolve(g, dirfd, absolute, path);
	int r;

	(void)len;
	if (fd < 0) {
		return fd;
	}
	snprintf(via.sun_path, sizeof(via.sun_path), "/proc/self/fd/%d", fd);
	r = connect(sock, (struct sockaddr *)&via, sizeof(via)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* connect_path's arguments, for notify_as. */
struct connect_args {
	const struct unix_guard *g;
	int sock, dirfd;
	bool absolute;
	const char *path;
	socklen_t len;
};

static long connect_cb(void *arg)
{
	const struct connect_args *a = arg;
	return connect_path(a->g, a->sock, a->dirfd, a->absolute, a->path, a->len);
}

/* connect(2) of the VM: performed here for an AF_UNIX path, continued otherwise. */
long unix_guard_connect(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	const struct unix_guard *g = &n->unixg;
	pid_t pid = (pid_t)req->pid;
	int fdnum = (int)(uint32_t)req->data.args[0];
	uint64_t addr = req->data.args[1];
	socklen_t len = (socklen_t)(uint32_t)req->data.args[2];
	struct sockaddr_un sa;
	int sock, dirfd = -1, domain = 0;
	long r;
	socklen_t dl = sizeof(domain);

	*cont = false;
	if ((sock = notify_getfd(pid, fdnum)) < 0) {
		return sock;
	}
	if (!notify_valid(n, req->id)) {
		r = -ESRCH;
		goto out;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0) {
		r = errno == ENOTSOCK ? -ENOTSOCK : -errno;
		goto out;
	}
	if (domain != AF_UNIX) {
		*cont = true; /* inet, netlink: Landlock's and the socket rules' */
		r = 0;
		goto out;
	}
	if (len < sizeof(sa_family_t) || len > sizeof(sa)) {
		r = -EINVAL;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	if (notify_read(pid, addr, &sa, len) < 0) {
		r = -EFAULT;
		goto out;
	}
	if (!notify_valid(n, req->id)) {
		r = -ESRCH;
		goto out;
	}
	if (sa.sun_family != AF_UNIX || len == sizeof(sa_family_t) || sa.sun_path[0] == '\0') {
		if (sa.sun_family == AF_UNIX && len > sizeof(sa_family_t)) {
			*cont = true; /* an abstract name: Landlock scopes it to the VM */
			r = 0;
		} else { /* AF_UNSPEC, a wrong family, no name: no path, the kernel's answer */
			r = connect(sock, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
		}
		goto out;
	}
	char path[sizeof(sa.sun_path) + 1];
	size_t plen = len - offsetof(struct sockaddr_un, sun_path);
	memcpy(path, sa.sun_path, plen);
	path[plen] = '\0';
	dirfd = notify_dirfd(pid, AT_FDCWD, path);
	if (dirfd < 0 || !notify_valid(n, req->id)) {
		r = -ESRCH;
		goto out;
	}
	struct connect_args args = {g, sock, dirfd, path[0] == '/', path, len};
	r = notify_as(pid, connect_cb, &args);
out:
	if (dirfd >= 0) {
		close(dirfd);
	}
	close(sock);
	return r;
}
