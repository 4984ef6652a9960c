/*
 * notify.c — the supervisor's seccomp listener (run.h): the calls the filter hands to
 * the run's supervisor, routed by system call to the handler that answers them.
 *
 * Rules:
 *  - One listener per run: the child installs the filter (seccomp.c) with
 *    SECCOMP_FILTER_FLAG_NEW_LISTENER when some rule is SCMP_ACT_NOTIFY, and names the
 *    listener (its pid and fd number, by write(2): sendmsg may be notified already) over
 *    a socketpair made here before the fork; the supervisor, its parent, takes it with
 *    pidfd_getfd and answers, and only then does the child close it and go on. A child
 *    whose filter has no such rule closes its end at exec; the supervisor then drops it.
 *  - Routing: each handler names the system calls it answers; their numbers are
 *    resolved per architecture the filter covers (x86_64 and i386: the compat ABI's
 *    numbers differ) when the listener is taken. A notification of a call no handler
 *    routes is refused with ENOSYS (a filter and a table out of step: a bug, fail closed).
 *  - The helpers every handler uses: reads of the caller's memory (process_vm_readv),
 *    its descriptors (pidfd_getfd), its root and working directory (/proc/PID), and its
 *    credentials. A handler checks notify_valid after each read of the caller, before
 *    deciding on what it read: a pid reused meanwhile gets nothing.
 *  - Credentials: a handler that performs a call does it with the caller's fsuid, fsgid,
 *    groups and file capabilities (notify_as; NOTIFY_FS_CAPS, CAP_DAC_READ_SEARCH
 *    counted as held with CAP_DAC_OVERRIDE). The supervisor has the run's credentials;
 *    when the caller's (from /proc/PID/status) differ — only in a root run, whose
 *    processes may change ids and drop capabilities — the call runs in a forked child
 *    that first takes the caller's groups, fsgid and fsuid (raw per-task system calls)
 *    and then its file capabilities as effective ones (the others stay the
 *    supervisor's). A fork costs more than a thread, but needs no care for glibc's
 *    process-wide setxid broadcast, and such runs are rare. access without AT_EACCESS
 *    acts with the real ids and root's permitted set (notify_as_real), as the kernel.
 *  - A root run's thread's credentials and root are kept per thread (creds_memo,
 *    notify_root_of), checked once per notification through the thread's own pidfd
 *    (PIDFD_GET_INFO: its ids unchanged, the task alive); setgroups drops the thread's
 *    memo, chroot ends keeping roots and capset or a capability prctl ends keeping
 *    credentials for the run (all notified in root runs, then continued).
 *  - /proc/PID/status is read with plain reads (status_read), never stdio.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif


/* Linux 6.6's UAPI, spelled out: the build host's headers may be older. */
#define NOTIF_SET_FLAGS SECCOMP_IOW(4, uint64_t)
#define NOTIF_FD_SYNC_WAKE_UP 1ull

/* System call name -> handler. */
static const struct {
	const char *name;
	notify_fn *fn;
} routes[] = {
	{"connect", unix_guard_connect},
	/* metadata of inodes (metaguard.c) */
	{"chmod", meta_guard_call},
	{"fchmod", meta_guard_call},
	{"fchmodat", meta_guard_call},
	{"fchmodat2", meta_guard_call},
	{"chown", meta_guard_call},
	{"lchown", meta_guard_call},
	{"fchown", meta_guard_call},
	{"chown32", meta_guard_call},
	{"lchown32", meta_guard_call},
	{"fchown32", meta_guard_call},
	{"fchownat", meta_guard_call},
	{"utime", meta_guard_call},
	{"utimes", meta_guard_call},
	{"futimesat", meta_guard_call},
	{"utimensat", meta_guard_call},
	{"utimensat_time64", meta_guard_call},
	{"setxattr", meta_guard_call},
	{"lsetxattr", meta_guard_call},
	{"fsetxattr", meta_guard_call},
	{"removexattr", meta_guard_call},
	{"lremovexattr", meta_guard_call},
	{"fremovexattr", meta_guard_call},
	{"ioctl", meta_guard_ioctl},
	/* The IPC guard (ipcguard.c): SysV gets and by-id calls, POSIX queues by name. */
	{"shmget", ipc_guard_shmget},
	{"semget", ipc_guard_semget},
	{"msgget", ipc_guard_msgget},
	{"shmat", ipc_guard_shmat},
	{"shmctl", ipc_guard_shmctl},
	{"semop", ipc_guard_semop},
	{"semtimedop", ipc_guard_semop},
	{"semtimedop_time64", ipc_guard_semop},
	{"semctl", ipc_guard_semctl},
	{"msgsnd", ipc_guard_msgsnd},
	{"msgrcv", ipc_guard_msgrcv},
	{"msgctl", ipc_guard_msgctl},
	{"mq_open", ipc_guard_mq_open},
	{"mq_unlink", ipc_guard_mq_unlink},
	/* Other processes' scheduling, priority and limits (procguard.c). */
	{"sched_setaffinity", proc_guard_arg0},
	{"sched_setscheduler", proc_guard_arg0},
	{"sched_setparam", proc_guard_arg0},
	{"sched_setattr", proc_guard_arg0},
	{"prlimit64", proc_guard_arg0},
	{"setpriority", proc_guard_arg1},
	{"ioprio_set", proc_guard_arg1},
	/* Datagrams of unix = vm (unixsend.c). */
	{"sendto", unix_guard_sendto},
	{"sendmsg", unix_guard_sendmsg},
	{"sendmmsg", unix_guard_sendmmsg},
	/* A root run's group changes: the thread's credentials memo dropped (notify_as). */
	{"setgroups", notify_setgroups},
	{"setgroups32", notify_setgroups},
	/* A root run's chroot: roots are no longer kept (notify_root_of). */
	{"chroot", notify_chroot},
	/* A root run's capability changes: credentials are no longer kept (creds_memo). */
	{"capset", notify_capset},
	{"prctl", notify_capset},
	/* Lookups from an executable's own code, resolved in the VM (virtguard.c). */
	{"stat", virt_guard_call},
	{"lstat", virt_guard_call},
	{"newfstatat", virt_guard_call},
	{"statx", virt_guard_call},
	{"access", virt_guard_call},
	{"faccessat", virt_guard_call},
	{"faccessat2", virt_guard_call},
	{"readlink", virt_guard_call},
	{"readlinkat", virt_guard_call},
	{"open", virt_guard_call},
	{"openat", virt_guard_call},
	{"creat", virt_guard_call},
	{"getdents64", virt_guard_call},
	{"mkdir", virt_guard_call},
	{"mkdirat", virt_guard_call},
	{"unlink", virt_guard_call},
	{"unlinkat", virt_guard_call},
	{"rmdir", virt_guard_call},
	{"symlink", virt_guard_call},
	{"symlinkat", virt_guard_call},
	{"rename", virt_guard_call},
	{"renameat", virt_guard_call},
	{"renameat2", virt_guard_call},
	{"link", virt_guard_call},
	{"linkat", virt_guard_call},
	{"truncate", virt_guard_call},
	{"getcwd", virt_guard_call},
	{"chdir", virt_guard_call},
	{"execve", virt_guard_call},
	{"mknod", virt_guard_call},
	{"mknodat", virt_guard_call},
	/* The write family under a disk-limit, but libfvm's marked calls (quotaguard.c). */
	{"write", quota_guard_call},
	{"pwrite64", quota_guard_call},
	{"writev", quota_guard_call},
	{"pwritev", quota_guard_call},
	{"pwritev2", quota_guard_call},
	{"ftruncate", quota_guard_call},
	{"fallocate", quota_guard_call},
	{"copy_file_range", quota_guard_call},
	{"sendfile", quota_guard_call},
	{"splice", quota_guard_call},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/*
 * libseccomp names i386's socket and SysV IPC calls by pseudo-numbers (below 0), as it
 * multiplexes them with socketcall(2) and ipc(2); a notification carries the call's own
 * i386 number (arch/x86/entry/syscalls/syscall_32.tbl), found here.
 */
static const struct {
	const char *name;
	int nr;
} i386_direct[] = {
	{"socket", 359}, {"socketpair", 360}, {"bind", 361}, {"connect", 362}, {"listen", 363},
	{"accept4", 364}, {"getsockopt", 365}, {"setsockopt", 366}, {"getsockname", 367},
	{"getpeername", 368}, {"sendto", 369}, {"sendmsg", 370}, {"recvfrom", 371}, {"recvmsg", 372},
	{"shutdown", 373}, {"recvmmsg", 337}, {"sendmmsg", 345},
	{"semget", 393}, {"semctl", 394}, {"shmget", 395}, {"shmctl", 396}, {"shmat", 397},
	{"shmdt", 398}, {"msgget", 399}, {"msgsnd", 400}, {"msgrcv", 401}, {"msgctl", 402},
};

static int resolve_arch(uint32_t arch, const char *name)
{
	int nr = seccomp_syscall_resolve_name_arch(arch, name);

	if (nr < 0 && arch == SCMP_ARCH_X86) {
		for (size_t i = 0; i < sizeof(i386_direct) / sizeof(i386_direct[0]); i++) {
			if (strcmp(i386_direct[i].name, name) == 0) {
				return i386_direct[i].nr;
			}
		}
	}
	return nr;
}

/* The architectures the filter covers (seccomp.c) and each route's number there. */
static const uint32_t arches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86};
static int route_nr[sizeof(arches) / sizeof(arches[0])][NROUTES];

int notify_prepare(struct notify *n, const struct exec_settings *s, const char *vmdir, const char *shmdir)
{
	int sv[2], r;

	n->sock = n->child_sock = n->fd = n->ruleset_fd = -1;
	n->vmdir = vmdir;
	if ((r = unix_guard_prepare(&n->unixg, s, vmdir)) < 0 || (r = meta_guard_prepare(&n->meta, s, vmdir, shmdir)) < 0) {
		return r;
	}
	if ((r = ipc_guard_prepare(&n->ipcg, vmdir)) < 0) {
		return r;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	n->sock = sv[0];
	n->child_sock = sv[1];
	return 0;
}

/* What the child writes to the supervisor: where its listener is. */
struct listener_at {
	int32_t pid, fd;
};

int notify_send(const struct notify *n, int notify_fd)
{
	struct listener_at at = {.pid = (int32_t)getpid(), .fd = notify_fd};
	int r = 0;

	/* Not SCM_RIGHTS: sendmsg is itself notified (unix = vm), to the listener on its
	 * way; nor write(2), notified under a disk-limit (quotaguard.c). send(2) without an
	 * address is never notified. The supervisor takes the fd with pidfd_getfd before it
	 * lets this process exec (GO, supervise.c), so it stays open here until the exec
	 * closes it (a listener is always close-on-exec): no wait for an answer. */
	if (n->child_sock < 0 || send(n->child_sock, &at, sizeof(at), MSG_NOSIGNAL) != (ssize_t)sizeof(at)) {
		r = n->child_sock < 0 ? -EBADF : -errno;
		if (notify_fd >= 0) {
			close(notify_fd); /* nobody takes it: the notified calls fail (ENOSYS) */
		}
	}
	close(n->child_sock);
	return notify_fd >= 0 ? r : 0;
}

int notify_take(struct notify *n)
{
	struct listener_at at;
	ssize_t got;
	while ((got = read(n->sock, &at, sizeof(at))) < 0 && errno == EINTR) {
	}
	int pidfd = got == (ssize_t)sizeof(at) && at.fd >= 0 ? (int)syscall(SYS_pidfd_open, at.pid, 0) : -1;

	if (pidfd >= 0) {
		n->fd = (int)syscall(SYS_pidfd_getfd, pidfd, at.fd, 0);
		close(pidfd);
	}
	if (n->fd >= 0) {
		fcntl(n->fd, F_SETFD, FD_CLOEXEC);
	}
	close(n->sock);
	n->sock = -1;
	if (n->fd < 0) {
		return -1;
	}
	/* The supervisor answers on the caller's CPU (Linux >= 6.6, best effort): a
	 * notified semop costs a few microseconds instead of a cross-CPU wakeup each way. */
	ioctl(n->fd, NOTIF_SET_FLAGS, NOTIF_FD_SYNC_WAKE_UP);
	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		for (size_t i = 0; i < NROUTES; i++) {
			route_nr[a][i] = resolve_arch(arches[a], routes[i].name);
		}
	}
	return 0;
}

static notify_fn *route(const struct seccomp_data *d)
{
	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		if (d->arch != arches[a]) {
			continue;
		}
		for (size_t i = 0; i < NROUTES; i++) {
			if (route_nr[a][i] == d->nr) {
				return routes[i].fn;
			}
		}
	}
	return NULL;
}

/* Set by notify_addfd_send: the notification being served is answered already. */
static bool answered;

/*
 * The thread whose memo was checked for the notification being served (0: none): its
 * ids cannot change until it is answered, so notify_root_of's check stands for
 * notify_as's (one PIDFD_GET_INFO per call, not two). Reset as each notification is
 * received (notify_serve_masked) and when the memo is dropped.
 */
static pid_t memo_checked;

int notify_serve(struct notify *n)
{
	return notify_serve_masked(n, NULL) < 0 ? -1 : 0;
}

int notify_serve_masked(struct notify *n, const sigset_t *recv_mask)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	bool cont = false;
	sigset_t old;

	memset(&req, 0, sizeof(req));
	if (recv_mask) {
		pthread_sigmask(SIG_SETMASK, recv_mask, &old);
	}
	int got = ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, &req);
	int e = errno;
	if (recv_mask) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (got < 0) {
		/* ENOENT: the caller died meanwhile; EINTR: again later */
		return e == ENOENT || e == EINTR ? 0 : -1;
	}
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	memo_checked = 0;
	answered = false;
	notify_fn *fn = route(&req.data);
	long r = fn ? fn(n, &req, &cont) : -ENOSYS;
	if (cont) {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else if (r < 0) {
		resp.error = (int32_t)r;
	} else {
		resp.val = r;
	}
	if (!answered) {
		ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: the caller is gone */
	}
	return 1;
}

long notify_addfd_send(const struct notify *n, uint64_t id, int fd, bool cloexec)
{
	struct seccomp_notif_addfd add = {.id = id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (uint32_t)fd,
					  .newfd_flags = cloexec ? O_CLOEXEC : 0};
	long got = ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add);

	if (got < 0) {
		return -errno;
	}
	answered = true;
	return got;
}

bool notify_valid(const struct notify *n, uint64_t id)
{
	return ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int notify_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

int notify_read_str(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	if (addr == 0) {
		return -EFAULT;
	}
	/* Page by page: a string that ends just before an unmapped page is readable. */
	while (got < size) {
		size_t chunk = 4096 - (size_t)((addr + got) & 4095);
		if (chunk > size - got) {
			chunk = size - got;
		}
		struct iovec local = {.iov_base = buf + got, .iov_len = chunk};
		struct iovec remote = {.iov_base = (void *)(uintptr_t)(addr + got), .iov_len = chunk};
		if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)chunk) {
			return -EFAULT;
		}
		if (memchr(buf + got, '\0', chunk)) {
			return 0;
		}
		got += chunk;
	}
	return -ENAMETOOLONG;
}


/*
 * /proc/PID/status (PID 0: the supervisor's own) read whole into BUF (SIZE bytes) with
 * plain reads: no stdio, one open and two reads. Returns its length, or -1 (PID gone).
 */
static ssize_t status_read(pid_t pid, char *buf, size_t size)
{
	char path[64];
	size_t len = 0;
	ssize_t r;

	if (pid) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	} else {
		snprintf(path, sizeof(path), "/proc/self/status");
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	while (len < size - 1 && (r = read(fd, buf + len, size - 1 - len)) != 0) {
		if (r < 0 && errno != EINTR) {
			close(fd);
			return -1;
		}
		len += r > 0 ? (size_t)r : 0;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* The value after "KEY:" on its line of status text BUF, or NULL. */
static const char *status_field(const char *buf, const char *key)
{
	size_t klen = strlen(key);

	for (const char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			return line + klen + 1;
		}
	}
	return NULL;
}

mode_t notify_umask_of(pid_t pid)
{
	char buf[8192];
	const char *v = status_read(pid, buf, sizeof(buf)) > 0 ? status_field(buf, "Umask") : NULL;

	return v ? (mode_t)(strtoul(v, NULL, 8) & 0777) : 022;
}

pid_t notify_tgid_of(pid_t pid)
{
	char buf[8192];
	const char *v = status_read(pid, buf, sizeof(buf)) > 0 ? status_field(buf, "Tgid") : NULL;
	long tgid = v ? strtol(v, NULL, 10) : -1;

	return tgid > 0 ? (pid_t)tgid : -1;
}

/*
 * A pidfd for notifying task TID, which may be any thread of its process (a
 * notification names the thread): the thread's own (PIDFD_THREAD, Linux 6.9), else,
 * on older kernels, its thread group leader's, whose fd table its threads share.
 * Returns -1 when the task is gone.
 */
static int task_pidfd(pid_t tid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	pid_t tgid;

	if (pidfd >= 0 || errno != EINVAL) {
		return pidfd;
	}
	pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (pidfd >= 0 || (errno != EINVAL && errno != ENOENT)) {
		return pidfd;
	}
	tgid = notify_tgid_of(tid);
	return tgid > 0 ? (int)syscall(SYS_pidfd_open, tgid, 0) : -1;
}

int notify_getfd(pid_t pid, int fdnum)
{
	int pidfd = task_pidfd(pid), fd;

	if (pidfd < 0) {
		return -ESRCH;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, fdnum, 0);
	int e = errno;
	close(pidfd);
	return fd >= 0 ? fd : e == EBADF ? -EBADF : -EPERM;
}

int notify_dirfd(pid_t pid, int dirfd, const char *path)
{
	char proc[64];
	int fd;

	if (path[0] != '/' && dirfd != AT_FDCWD) {
		return notify_getfd(pid, dirfd);
	}
	snprintf(proc, sizeof(proc), "/proc/%d/%s", (int)pid, path[0] == '/' ? "root" : "cwd");
	fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : -ESRCH;
}

int notify_creds_of(pid_t pid, struct notify_creds *c)
{
	char buf[8192];
	unsigned long a, b, d, e;
	unsigned long long cap;
	int got = 0;

	if (status_read(pid, buf, sizeof(buf)) < 0) {
		return -1;
	}
	c->ngroups = 0;
	for (char *line = buf, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
		if ((nl = strchr(line, '\n'))) {
			*nl = '\0';
		}
		if (sscanf(line, "Uid: %lu %lu %lu %lu", &a, &b, &d, &e) == 4) {
			c->ruid = (uid_t)a;
			c->euid = (uid_t)b;
			c->fsuid = (uid_t)e;
			got |= 1;
		} else if (sscanf(line, "Gid: %lu %lu %lu %lu", &a, &b, &d, &e) == 4) {
			c->rgid = (gid_t)a;
			c->egid = (gid_t)b;
			c->fsgid = (gid_t)e;
			got |= 2;
		} else if (strncmp(line, "Groups:", 7) == 0) {
			char *p = line + 7, *end;
			for (;;) {
				unsigned long g = strtoul(p, &end, 10);
				if (end == p || c->ngroups >= NOTIFY_GROUPS_MAX) {
					break;
				}
				c->groups[c->ngroups++] = (gid_t)g;
				p = end;
			}
			got |= 4;
		} else if (sscanf(line, "CapPrm: %llx", &cap) == 1) {
			c->capprm = cap;
			got |= 16;
		} else if (sscanf(line, "CapEff: %llx", &cap) == 1) {
			c->capeff = cap;
			got |= 8;
		}
		if (got == 31) {
			break;
		}
	}
	return got == 31 ? 0 : -1;
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return x < y ? -1 : x > y;
}

/* The supervisor acts with C's credentials already. */
/*
 * The supervisor's own fs ids and groups, taken once: the serving process never changes
 * them (notify_as changes them only in a child it forks, and that child calls
 * notify_creds_forget before it does).
 */
static struct {
	bool valid;
	uid_t uid;
	gid_t gid;
	int n;
	gid_t groups[NOTIFY_GROUPS_MAX];
	uint64_t caps; /* fs_caps of the effective set */
} mine;

bool notify_forked;

void notify_creds_forget(void)
{
	mine.valid = false;
}

/*
 * The capabilities whose absence changes what the calls the supervisor performs answer
 * (permissions of a lookup, an open, a namespace change, a copy-up's owner). A root
 * run's processes hold Docker's set (rootfence.c), the supervisor all: the two differ
 * only in capabilities none of these calls checks, and in CAP_DAC_READ_SEARCH, which
 * grants them nothing CAP_DAC_OVERRIDE does not (its other uses: open_by_handle_at, which
 * the supervisor never performs, and linkat with AT_EMPTY_PATH, which it performs only
 * on the unnamed file a copy-up has just made, core/copyup.c): with CAP_DAC_OVERRIDE it
 * is counted as held, so a root that dropped nothing acts in place.
 */
#define FS_CAPS NOTIFY_FS_CAPS

static uint64_t fs_caps(uint64_t eff)
{
	eff &= FS_CAPS;
	return eff & NOTIFY_CAP(CAP_DAC_OVERRIDE) ? eff | NOTIFY_CAP(CAP_DAC_READ_SEARCH) : eff;
}

void notify_caps_get(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};

	if (syscall(SYS_capget, &h, d) < 0) {
		*eff = *prm = 0;
		return;
	}
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
}

int notify_caps_take(uint64_t eff)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};

	if (syscall(SYS_capget, &h, d) < 0) {
		return -EPERM;
	}
	uint64_t prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	if ((eff & prm) != eff) {
		return -EPERM; /* never: the supervisor's permitted set holds the VM's */
	}
	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	return syscall(SYS_capset, &h, d) < 0 ? -EPERM : 0;
}

static bool creds_are_mine(struct notify_creds *c)
{
	if (!mine.valid) {
		int n = getgroups(NOTIFY_GROUPS_MAX, mine.groups);
		uint64_t eff, prm;
		if (n < 0) {
			return false;
		}
		notify_caps_get(&eff, &prm);
		mine.caps = fs_caps(eff);
		mine.n = n;
		mine.uid = geteuid();
		mine.gid = getegid();
		qsort(mine.groups, (size_t)n, sizeof(gid_t), cmp_gid);
		mine.valid = true;
	}
	if (c->fsuid != mine.uid || c->fsgid != mine.gid || mine.n != c->ngroups || fs_caps(c->capeff) != mine.caps) {
		return false;
	}
	qsort(c->groups, (size_t)c->ngroups, sizeof(gid_t), cmp_gid);
	return memcmp(mine.groups, c->groups, (size_t)mine.n * sizeof(gid_t)) == 0;
}

/*
 * PIDFD_GET_INFO (Linux 6.13) with PIDFD_INFO_CREDS, spelled out: a task's real,
 * effective, saved and fs ids through a pidfd, without /proc.
 */
struct pidfd_info0 {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid, spare0;
};
#define PIDFD_GET_INFO0 _IOWR(0xFF, 11, struct pidfd_info0)
#define PIDFD_INFO_CREDS0 2ull

/* PIDFD's task's eight ids into IDS. 0, or -1 (gone, or a kernel without the ioctl). */
static int task_ids(int pidfd, uint32_t ids[8])
{
	struct pidfd_info0 info = {.mask = PIDFD_INFO_CREDS0};

	if (pidfd < 0 || ioctl(pidfd, PIDFD_GET_INFO0, &info) < 0 || !(info.mask & PIDFD_INFO_CREDS0)) {
		return -1;
	}
	memcpy(ids, &info.ruid, 8 * sizeof(uint32_t));
	return 0;
}

/*
 * Per thread, the credentials read from /proc/TID/status (a root run's notify_as read
 * them per call: ~30% of a static stat), kept while they cannot have changed:
 *  - the memo holds the thread's own pidfd (PIDFD_THREAD), so a tid reused by another
 *    task is never taken for it (the ioctl on the old pidfd fails: ESRCH);
 *  - each use reads the thread's ids through that pidfd (PIDFD_GET_INFO, no /proc): a
 *    setuid, setgid, setres*id or setfs*id of the thread shows there;
 *  - groups do not show there: setgroups is notified in a root run (seccomp.c) and
 *    drops the thread's memo before the call is continued (notify_setgroups). A
 *    thread's credentials change only by its own calls, and while it waits for a
 *    notification it makes none;
 *  - capabilities do not show there either: capset and the capability prctls are
 *    notified in a root run and end keeping credentials for the run (notify_capset).
 * Direct-mapped by tid; without PIDFD_THREAD or PIDFD_GET_INFO (before Linux 6.9 and
 * 6.13), nothing is kept: /proc per call, as before.
 */
#define MEMO_N 64
static struct creds_memo {
	pid_t tid;         /* 0: empty */
	int pidfd;
	int root;          /* its /proc/TID/root (notify_root_of), -1: not taken */
	signed char root_same; /* notify_root_same's answer for ROOT, -1: not yet */
	bool mine;         /* creds_are_mine(&c) */
	uint32_t ids[8];
	struct notify_creds c;
} memo[MEMO_N];
/* Some entry was ever filled: a run that made no notification leaves the 70 KiB table
 * untouched at its end too (each page first touched is a fault). */
static bool memo_used;

/*
 * A chroot was seen in this run (notify_chroot): roots are no longer kept, every call
 * opens its caller's /proc/TID/root again. Set before the chroot is made (the call is
 * continued only after), so no root kept before it is used after it.
 */
static bool roots_vary;

/*
 * A capset or capability prctl (bounding set, securebits, ambient set) was seen in this
 * run (notify_capset): credentials are no longer kept, every call reads its caller's
 * /proc/TID/status again. PIDFD_GET_INFO shows no capability, and after such a call an
 * execve changes the effective set with no id change (a root's becomes its permitted
 * set, bounded anew), which no notified call would tell. Set before the call is made.
 */
static bool caps_vary;

/* The root notify_root_of lent for the current notification: a memo dropped during
 * it (notify_as finding the thread gone) closes it only at the next notify_root_of. */
static int lent_root = -1, lent_dropped = -1;

/* The lent root's notify_root_same answer, in its memo (NULL: none lent). */
static signed char *lent_same;

static void root_close(int fd)
{
	if (fd >= 0 && fd == lent_root) {
		lent_dropped = fd;
		lent_same = NULL;
	} else if (fd >= 0) {
		close(fd);
	}
}

static void memo_drop(struct creds_memo *m)
{
	if (m->tid && m->tid == memo_checked) {
		memo_checked = 0;
	}
	if (m->tid && m->pidfd >= 0) {
		close(m->pidfd);
	}
	if (m->tid) {
		root_close(m->root);
	}
	m->tid = 0;
	m->pidfd = -1;
	m->root = -1;
}

long notify_setgroups(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	struct creds_memo *m = &memo[(unsigned)req->pid % MEMO_N];

	(void)n;
	if (m->tid == (pid_t)req->pid) {
		memo_drop(m);
	}
	*cont = true;
	return 0;
}

void notify_memo_end(void)
{
	for (size_t i = 0; memo_used && i < MEMO_N; i++) {
		memo_drop(&memo[i]);
	}
	if (lent_dropped >= 0) {
		close(lent_dropped);
	}
	lent_root = lent_dropped = -1;
}

long notify_chroot(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	(void)n;
	(void)req;
	roots_vary = true;
	for (size_t i = 0; i < MEMO_N; i++) {
		if (memo[i].tid) {
			root_close(memo[i].root);
		}
		memo[i].root = -1;
	}
	*cont = true;
	return 0;
}

long notify_capset(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	(void)n;
	(void)req;
	caps_vary = true;
	for (size_t i = 0; i < MEMO_N; i++) {
		memo_drop(&memo[i]);
	}
	*cont = true;
	return 0;
}

static bool creds_are_mine(struct notify_creds *c);

/* PID's credentials into *C and whether they are the supervisor's. 0, or -1 (gone). */
static int creds_memo(pid_t pid, struct notify_creds *c, bool *same)
{
	struct creds_memo *m = &memo[(unsigned)pid % MEMO_N];
	uint32_t ids[8];

	if (m->tid == pid &&
	    (memo_checked == pid || (task_ids(m->pidfd, ids) == 0 && memcmp(ids, m->ids, sizeof(ids)) == 0))) {
		memo_checked = pid;
		*c = m->c;
		*same = m->mine;
		return 0;
	}
	memo_drop(m);
	int pidfd = caps_vary ? -1 : (int)syscall(SYS_pidfd_open, pid, PIDFD_THREAD);
	if (task_ids(pidfd, m->ids) < 0) {
		if (pidfd >= 0) {
			close(pidfd);
		}
		if (notify_creds_of(pid, c) < 0) {
			return -1;
		}
		*same = creds_are_mine(c);
		return 0;
	}
	/* The pidfd first, then /proc: a tid reused in between is a task that the pidfd
	 * names as well, so the memo never mixes two tasks. */
	if (notify_creds_of(pid, &m->c) < 0) {
		close(pidfd);
		return -1;
	}
	m->mine = creds_are_mine(&m->c);
	m->tid = pid;
	memo_used = true;
	m->pidfd = pidfd;
	m->root = -1;
	m->root_same = -1;
	memo_checked = pid;
	*c = m->c;
	*same = m->mine;
	return 0;
}

int notify_root_of(pid_t pid, bool *kept)
{
	char proc[64];
	struct notify_creds c;
	bool same;
	int fd;

	if (lent_dropped >= 0) {
		close(lent_dropped);
	}
	lent_root = lent_dropped = -1;
	lent_same = NULL;
	/* The memo of PID's thread, checked (or filled) as notify_as checks it. */
	if (!roots_vary && creds_memo(pid, &c, &same) == 0) {
		struct creds_memo *m = &memo[(unsigned)pid % MEMO_N];
		if (m->tid == pid) {
			if (m->root < 0) {
				snprintf(proc, sizeof(proc), "/proc/%d/root", (int)pid);
				m->root = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
				m->root_same = -1;
			}
			if (m->root >= 0) {
				*kept = true;
				lent_root = m->root;
				lent_same = &m->root_same;
				return m->root;
			}
		}
	}
	*kept = false;
	snprintf(proc, sizeof(proc), "/proc/%d/root", (int)pid);
	fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : -ESRCH;
}

static long act_as(pid_t pid, bool real, long (*fn)(void *arg), void *arg)
{
	struct notify_creds c;
	bool same;
	int status;

	/* An unprivileged run: no process of the VM can hold other ids or groups than the
	 * run's (no_new_privs, no user namespace, no CAP_SETUID/SETGID): no /proc read. */
	if (!mine.valid ? geteuid() != 0 : mine.uid != 0) {
		return fn(arg);
	}
	if (creds_memo(pid, &c, &same) < 0) {
		return -ESRCH;
	}
	if (real) {
		/* access(2)'s own credentials (the kernel's access_override_creds, without
		 * SECBIT_NO_SETUID_FIXUP): the real ids, and root's permitted set or none. */
		uint64_t caps = c.ruid == 0 ? c.capprm : 0;
		if (c.ruid != c.fsuid || c.rgid != c.fsgid || fs_caps(caps) != fs_caps(c.capeff)) {
			c.fsuid = c.ruid;
			c.fsgid = c.rgid;
			c.capeff = caps;
			same = creds_are_mine(&c);
		}
	}
	if (same) {
		return fn(arg);
	}
	pid_t child = fork();
	if (child < 0) {
		return -errno;
	}
	if (child == 0) {
		notify_creds_forget();
		notify_forked = true;
		/* Raw calls: per task, and nothing of glibc's broadcast in a forked child. */
		if (syscall(SYS_setgroups, c.ngroups, c.groups) < 0) {
			_exit(EPERM);
		}
		syscall(SYS_setfsgid, c.fsgid);
		syscall(SYS_setfsuid, c.fsuid);
		if ((gid_t)syscall(SYS_setfsgid, -1) != c.fsgid || (uid_t)syscall(SYS_setfsuid, -1) != c.fsuid) {
			_exit(EPERM);
		}
		/* The caller's file capabilities in place of the supervisor's (a root that
		 * dropped CAP_DAC_OVERRIDE, or a uid that kept one; setfsuid cleared them for
		 * a non-root fsuid); the others stay the supervisor's own tools (setns,
		 * setresuid, process_vm_writev to a caller of another uid). */
		uint64_t eff, prm;
		notify_caps_get(&eff, &prm);
		if (notify_caps_take((eff & ~FS_CAPS) | (c.capeff & FS_CAPS & prm)) < 0) {
			_exit(EPERM);
		}
		long r = fn(arg);
		_exit(r < 0 ? (int)-r : 0);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			return -ECHILD;
		}
	}
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
}

int notify_root_same(int root, bool (*same)(int root))
{
	if (root < 0 || root != lent_root || !lent_same) {
		return same(root);
	}
	if (*lent_same < 0) {
		*lent_same = same(root);
	}
	return *lent_same;
}

long notify_as(pid_t pid, long (*fn)(void *arg), void *arg)
{
	return act_as(pid, false, fn, arg);
}

long notify_as_real(pid_t pid, long (*fn)(void *arg), void *arg)
{
	return act_as(pid, true, fn, arg);
}
