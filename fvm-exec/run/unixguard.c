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
 *    walk search permission, with the fsuid, fsgid and groups of the connecting task.
 *    The supervisor has the run's credentials; when the caller's (from /proc/PID/status)
 *    differ — only in a root run, whose processes may change ids — the lookup and the
 *    connect run in a forked child that first takes the caller's groups, fsgid and
 *    fsuid (raw per-task system calls). A fork costs more than a thread, but needs no
 *    care for glibc's process-wide setxid broadcast, and such runs are rare.
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

#define GROUPS_MAX 256

int unix_guard_prepare(struct unix_guard *g, const struct exec_settings *s, const char *vmdir)
{
	int sv[2];

	g->sock = g->child_sock = g->notify = -1;
	if (!s->unix_vm) {
		return 0;
	}
	g->pol = &s->pol;
	g->allow = s->unix_allow;
	g->nallow = s->nunix_allow;
	char up[PATH_MAX];
	snprintf(up, sizeof(up), "%s/" FVM_UPPER_DIR, vmdir);
	if (!realpath(up, g->upper)) {
		snprintf(g->upper, sizeof(g->upper), "%s", up);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	g->sock = sv[0];
	g->child_sock = sv[1];
	return 0;
}

int unix_guard_send(const struct unix_guard *g, int notify_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	char byte = 'N';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	int r = 0;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &notify_fd, sizeof(int));
	if (g->child_sock < 0 || sendmsg(g->child_sock, &mh, MSG_NOSIGNAL) != 1) {
		r = g->child_sock < 0 ? -EBADF : -errno;
	}
	close(notify_fd);
	close(g->child_sock);
	return r;
}

int unix_guard_take(struct unix_guard *g)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(g->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	struct cmsghdr *cm = n == 1 ? CMSG_FIRSTHDR(&mh) : NULL;

	close(g->sock);
	g->sock = -1;
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		return -1;
	}
	memcpy(&g->notify, CMSG_DATA(cm), sizeof(int));
	return 0;
}

/* The caller's notification is still pending: PID was not reused. */
static bool still_valid(const struct unix_guard *g, uint64_t id)
{
	return ioctl(g->notify, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* The fsuid, fsgid and groups of PID. Returns 0 or -1. */
struct creds {
	uid_t fsuid;
	gid_t fsgid;
	int ngroups;
	gid_t groups[GROUPS_MAX];
};

static int creds_of(pid_t pid, struct creds *c)
{
	char path[64], line[4096];
	unsigned long a, b, d, e;
	int got = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		return -1;
	}
	c->ngroups = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %lu %lu %lu %lu", &a, &b, &d, &e) == 4) {
			c->fsuid = (uid_t)e;
			got |= 1;
		} else if (sscanf(line, "Gid: %lu %lu %lu %lu", &a, &b, &d, &e) == 4) {
			c->fsgid = (gid_t)e;
			got |= 2;
		} else if (strncmp(line, "Groups:", 7) == 0) {
			char *p = line + 7, *end;
			for (;;) {
				unsigned long g = strtoul(p, &end, 10);
				if (end == p || c->ngroups >= GROUPS_MAX) {
					break;
				}
				c->groups[c->ngroups++] = (gid_t)g;
				p = end;
			}
			got |= 4;
		}
	}
	fclose(f);
	return got == 7 ? 0 : -1;
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return x < y ? -1 : x > y;
}

/* The supervisor acts with C's credentials already. */
static bool creds_are_mine(struct creds *c)
{
	gid_t mine[GROUPS_MAX];
	int n = getgroups(GROUPS_MAX, mine);

	if (c->fsuid != geteuid() || c->fsgid != getegid() || n != c->ngroups) {
		return false;
	}
	qsort(mine, (size_t)n, sizeof(gid_t), cmp_gid);
	qsort(c->groups, (size_t)c->ngroups, sizeof(gid_t), cmp_gid);
	return memcmp(mine, c->groups, (size_t)n * sizeof(gid_t)) == 0;
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

/* Resolves PATH as PID sees it, decides, connects SOCK through the inode. Returns 0 or
 * -errno. DIRFD: PID's root (absolute PATH) or working directory. */
static int connect_path(const struct unix_guard *g, int sock, int dirfd, bool absolute, const char *path,
			socklen_t len)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = absolute ? RESOLVE_IN_ROOT : 0};
	struct sockaddr_un via = {.sun_family = AF_UNIX};
	struct stat st;
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	int r;

	(void)len;
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (!S_ISSOCK(st.st_mode)) {
		r = -ECONNREFUSED; /* what connect(2) gives for a path that is no socket */
	} else if (!allowed(g, fd, &st)) {
		r = -EACCES;
	} else {
		snprintf(via.sun_path, sizeof(via.sun_path), "/proc/self/fd/%d", fd);
		r = connect(sock, (struct sockaddr *)&via, sizeof(via)) < 0 ? -errno : 0;
	}
	close(fd);
	return r;
}

/* connect_path with C's credentials, in a child that takes them. */
static int connect_as(const struct unix_guard *g, const struct creds *c, int sock, int dirfd, bool absolute,
		      const char *path, socklen_t len)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		return -errno;
	}
	if (pid == 0) {
		/* Raw calls: per task, and nothing of glibc's broadcast in a forked child. */
		if (syscall(SYS_setgroups, c->ngroups, c->groups) < 0) {
			_exit(EPERM);
		}
		syscall(SYS_setfsgid, c->fsgid);
		syscall(SYS_setfsuid, c->fsuid);
		if ((gid_t)syscall(SYS_setfsgid, -1) != c->fsgid || (uid_t)syscall(SYS_setfsuid, -1) != c->fsuid) {
			_exit(EPERM);
		}
		_exit(-connect_path(g, sock, dirfd, absolute, path, len));
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			return -ECHILD;
		}
	}
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
}

/* How one notification is answered: *CONT, or the result R. */
static int decide(const struct unix_guard *g, const struct seccomp_notif *req, bool *cont)
{
	pid_t pid = (pid_t)req->pid;
	int fdnum = (int)(uint32_t)req->data.args[0];
	uint64_t addr = req->data.args[1];
	socklen_t len = (socklen_t)(uint32_t)req->data.args[2];
	struct sockaddr_un sa;
	int pidfd, sock = -1, dirfd = -1, domain = 0, r;
	socklen_t dl = sizeof(domain);

	*cont = false;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		return -ESRCH;
	}
	sock = (int)syscall(SYS_pidfd_getfd, pidfd, fdnum, 0);
	close(pidfd);
	if (sock < 0) {
		return errno == EBADF ? -EBADF : -EPERM;
	}
	if (!still_valid(g, req->id)) {
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
	struct iovec local = {.iov_base = &sa, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)len) {
		r = -EFAULT;
		goto out;
	}
	if (!still_valid(g, req->id)) {
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
	bool absolute = path[0] == '/';
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/%d/%s", (int)pid, absolute ? "root" : "cwd");
	dirfd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct creds c;
	if (dirfd < 0 || creds_of(pid, &c) < 0 || !still_valid(g, req->id)) {
		r = -ESRCH;
		goto out;
	}
	if (creds_are_mine(&c)) {
		r = connect_path(g, sock, dirfd, absolute, path, len);
	} else {
		r = connect_as(g, &c, sock, dirfd, absolute, path, len);
	}
out:
	if (dirfd >= 0) {
		close(dirfd);
	}
	close(sock);
	return r;
}

int unix_guard_serve(struct unix_guard *g)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	bool cont;

	memset(&req, 0, sizeof(req));
	if (ioctl(g->notify, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
		/* ENOENT: the caller died meanwhile; EINTR: again later */
		return errno == ENOENT || errno == EINTR ? 0 : -1;
	}
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	int r = decide(g, &req, &cont);
	if (cont) {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		resp.error = r;
	}
	ioctl(g->notify, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: the caller is gone */
	return 0;
}
