/*
 * virtguard.c — the path calls libfvm does not see (run.h; docs/DESIGN.md "Calls
 * libfvm does not see"): the supervisor answers the path-taking lookups — stat,
 * lstat, newfstatat, statx, access, faccessat, faccessat2, readlink, readlinkat —,
 * open, openat and creat, getdents64 on the directories it opened, the namespace
 * changes mkdir(at), mknod(at), unlink(at), rmdir, symlink(at), rename(at, at2), link(at)
 * and truncate, getcwd, chdir and execve, that a process makes from its executable's own code (a static
 * program, Go, a dynamic program's inline system calls), resolving the name in the
 * VM's namespace with the core library libfvm uses, so such a program sees the files
 * the VM made and not those it deleted, and writes into the VM.
 *
 * Rules:
 *  - Only x86_64 calls come here: the filter's rows (seccomp.c, virt_prologue) test
 *    the instruction pointer, whose layout is x86_64's; they pass newfstatat and statx
 *    with AT_EMPTY_PATH (fd calls) in BPF.
 *  - The name is read once from the caller's memory; its base is the caller's own: an
 *    absolute name the virtual root (the caller's root must be the supervisor's, else
 *    the call is continued as it stands), a relative one the caller's working directory
 *    or DIRFD, read from /proc/PID/cwd or /proc/PID/fd/N and narrowed ("upper/P" is
 *    "/P"). A base that is not a plain path (deleted, a pipe, an anonymous inode) or
 *    that lies in the store is continued: the call then sees what the kernel shows,
 *    fenced as any other call.
 *  - notify_valid is checked after each read of the caller and again just before the
 *    result is written back (write_out): a pid reused meanwhile gets nothing.
 *  - The lookup and the call run under notify_as, with the caller's fsuid, fsgid,
 *    groups and file capabilities, so search and access permissions are its own; the result (a stat buffer,
 *    a statx buffer, a link's text) is written into the caller with process_vm_writev.
 *  - Continuing is safe but for the rows a notified call skips: a continued call is
 *    the caller's own under Landlock, but the rest of the seccomp filter is not
 *    evaluated, so a call one of its rows refuses (truncation: truncates()) is never
 *    continued.
 *  - The supervisor is outside the fence, so an open never writes but where the VM
 *    could: an upper/ object is opened beneath upper/ with no link (open_upper), a host
 *    one only read, with no link (open_host); a copy-up or creation runs in a child
 *    under the VM's own Landlock ruleset (perform_open). The fd is installed in the
 *    caller with ADDFD_FLAG_SEND after notify_valid. A namespace change runs in such
 *    a child too (perform_change); truncate through an fd opened beneath upper/.
 *  - A listing is answered only for an open file description this file installed and
 *    still holds (vlist: kcmp), and only while its name still leads to that directory.
 *  - upper/ is opened as "upper" beneath the VM's directory with no link (upper_dir):
 *    the VM may replace it by a link.
 *  - A root run (the caller in rootfence.c's namespace): every object is reached
 *    beneath the caller's /proc/PID/root (caller_root, RESOLVE_IN_ROOT), never through
 *    the supervisor's mounts, so the namespace's covers and nodev copies hold; a change
 *    runs in a child that enters the caller's mount namespace before its Landlock
 *    ruleset; for a caller that dropped root the child takes its ids as effective ids
 *    and makes copy-ups as root through a broker hook (become_caller, broker_as_root).
 *  - chdir into a directory only the VM has: the caller's thread is made to fchdir to
 *    it through ptrace (chdir_by_trace: seized, interrupted, its restarted chdir turned
 *    into fchdir(N) of an fd installed for it, then close(N), registers put back,
 *    detached); never by writing the caller's memory. A thread that cannot be seized:
 *    ENOENT and one warning per run (chdir_warn). execve of a program only the VM has
 *    the same way, as execveat(N, "", argv, envp, AT_EMPTY_PATH) (exec_by_trace), from
 *    a process's leading thread only; otherwise continued. A static-PIE (or 32-bit
 *    static) program so executed runs only fenced: said once per run (exec_unseen).
 *  - mknod of a device only where the caller's copy of the data area is nodev (a root
 *    run's namespace); EPERM elsewhere, never continued (the filter's rows refuse it).
 */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fvm/change.h"
#include "fvm/cubroker.h"
#include "fvm/dirent.h"
#include "fvm/layout.h"
#include "fvm/env.h"
#include "fvm/policy.h"
#include "fvm/vm.h"
#include "run.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

/* The VM as libfvm sees it, from the environment contract fvm-exec set for the run
 * (read on first use: the contract is set after the fence is prepared). */
static struct fvm_vm vm;
static int vm_state; /* 0: not yet, 1: ready, -1: cannot (every call continued) */
/*
 * The VM's generation counters (ROOT/state) are attached to VM: the supervisor's walks
 * use the core's lookup cache (dcache.c, names.c) validated by them, and it bumps them
 * after each change it makes, so that the caches of the VM's dynamic processes see it.
 * The file is the VM's to write: a forged counter can make a cached fact stale, and
 * that is safe only because no cached fact grants access (docs/DESIGN.md "What is
 * cached": the supervisor's cache). A forked child, which acts with other credentials
 * or changes the layer, never uses it (uncached).
 */
/*
 * A root run (rootfence.c): the caller lives in a mount namespace the supervisor is
 * not in, where the host is read-only and the store, other VMs, the hide paths and the
 * host's disks are covered. Paths are the same there (the VM's data area and the
 * writable trees are mounted back on their own places), so the core resolves in the
 * supervisor's view, but every host object is then reached beneath the caller's own
 * root (CALLER_ROOT, /proc/PID/root, RESOLVE_IN_ROOT), where those covers hold, and
 * every change is made in a child that entered the caller's namespace (fenced).
 */
static bool root_run;
static int caller_root = -1; /* the current call's /proc/PID/root in a root run, -1: none */
static bool caller_root_kept; /* caller_root is notify.c's memo's: not closed here */

static bool vm_ready(void)
{
	if (vm_state == 0) {
		const char *name = getenv(FVM_ENV_VM), *root = getenv(FVM_ENV_ROOT);
		const char *home = getenv(FVM_ENV_HOME), *pol = getenv(FVM_ENV_POLICY);
		vm_state = -1;
		root_run = geteuid() == 0;
		if (root && root[0] == '/' && fvm_vm_setup(&vm, name ? name : "", root, home) == 0) {
			if (pol && *pol) {
				vm.policy = fvm_policy_map(pol);
			}
			vm_state = !pol || !*pol || vm.policy ? 1 : -1;
			fvm_gen_attach(&vm);
			vm.quota = vm.gen.counter; /* disk quotas: the core counts in them */
		}
	}
	return vm_state == 1;
}

/*
 * In a forked child (notify_as's with the caller's other credentials, fenced's that
 * changes the layer): the lookup cache is the supervisor's, filled under its own
 * credentials, and must not stand in for a lookup the caller's may refuse (a cached
 * link text beneath a directory it cannot search); a change is bumped by the parent
 * after the child ends, and no quota word is moved here (as before the cache).
 */
static void uncached(void)
{
	vm.gen.counter = NULL;
	vm.gen.names = NULL;
}

/* One decoded call. */
struct vcall {
	const struct notify *n;
	uint64_t id;        /* the notification, checked again before the write-back */
	pid_t pid;
	int nr;
	int dirfd;          /* AT_FDCWD for the calls without one */
	uint64_t path_addr;
	int flags;          /* AT_* flags (lstat: AT_SYMLINK_NOFOLLOW) */
	int mode;           /* access mode */
	unsigned mask;      /* statx */
	uint64_t out;       /* the caller's buffer */
	size_t outlen;      /* readlink's size */
	int oflags;         /* open's flags */
	mode_t omode;       /* open's mode, the caller's umask applied */
	long result;        /* perform's answer (shared: notify_as may fork) */
	int64_t length;     /* truncate's */
	int dirfd2;         /* rename's and link's second name, symlink's target */
	uint64_t path2_addr;
	bool owner;         /* a metadata change's copy-up asks the owner rule (meta_copy_up) */
	bool chdir_warned;  /* chdir_in_vm said once what it cannot do (kept across calls) */
	bool unseen_warned; /* exec_unseen_warn said it once (kept across calls) */
	bool absolute;      /* the caller named an absolute path (vpath is its name as given) */
	dev_t dev;          /* mknod's */
	char vpath[PATH_MAX];
	char vpath2[PATH_MAX];
};

/* An open that must not follow a last link: O_NOFOLLOW, or O_CREAT|O_EXCL. */
static int open_nofollow(int oflags)
{
	return (oflags & O_NOFOLLOW) || ((oflags & O_CREAT) && (oflags & O_EXCL)) ? AT_SYMLINK_NOFOLLOW : 0;
}

static bool is_open(int nr)
{
	return nr == SYS_open || nr == SYS_openat || nr == SYS_creat;
}

/* The calls that change the namespace: mkdir, unlink, rmdir, symlink, rename. */
static bool is_change(int nr)
{
	switch (nr) {
	case SYS_mkdir:
	case SYS_mkdirat:
	case SYS_mknod:
	case SYS_mknodat:
	case SYS_unlink:
	case SYS_unlinkat:
	case SYS_rmdir:
	case SYS_symlink:
	case SYS_symlinkat:
	case SYS_rename:
	case SYS_renameat:
	case SYS_renameat2:
	case SYS_link:
	case SYS_linkat:
	case SYS_truncate:
		return true;
	default:
		return false;
	}
}

/* The calls with a second name resolved in the VM (rename's new name, link's). */
static bool is_rename(int nr)
{
	return nr == SYS_rename || nr == SYS_renameat || nr == SYS_renameat2 || nr == SYS_link ||
	       nr == SYS_linkat;
}

/* Decodes REQ into C; false for a call this handler does not answer. */
static bool decode(const struct seccomp_notif *req, struct vcall *c)
{
	const __u64 *a = req->data.args;

	c->pid = (pid_t)req->pid;
	c->nr = req->data.nr;
	c->dirfd = AT_FDCWD;
	c->flags = c->mode = 0;
	c->mask = 0;
	c->outlen = 0;
	c->oflags = 0;
	c->dirfd2 = AT_FDCWD;
	c->path2_addr = 0;
	switch (c->nr) {
	case SYS_chdir:
	case SYS_execve:
		c->path_addr = a[0];
		return true;
	case SYS_mkdir:
		c->path_addr = a[0];
		c->omode = (mode_t)(a[1] & 07777);
		c->flags = AT_SYMLINK_NOFOLLOW;
		return true;
	case SYS_mkdirat:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->omode = (mode_t)(a[2] & 07777);
		c->flags = AT_SYMLINK_NOFOLLOW;
		return true;
	case SYS_mknod:
	case SYS_mknodat: {
		int at = c->nr == SYS_mknodat;
		c->dirfd = at ? (int)a[0] : AT_FDCWD;
		c->path_addr = a[at];
		c->omode = (mode_t)(a[at + 1] & 0177777);
		c->dev = (dev_t)a[at + 2];
		c->flags = AT_SYMLINK_NOFOLLOW;
		return true;
	}
	case SYS_unlink:
	case SYS_rmdir:
		c->path_addr = a[0];
		c->oflags = c->nr == SYS_rmdir ? AT_REMOVEDIR : 0;
		c->flags = AT_SYMLINK_NOFOLLOW;
		return true;
	case SYS_unlinkat:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->oflags = (int)a[2];
		c->flags = AT_SYMLINK_NOFOLLOW;
		return !(c->oflags & ~AT_REMOVEDIR); /* any other flag: the kernel's EINVAL */
	case SYS_symlink:
		c->path2_addr = a[0]; /* the target, stored as given */
		c->path_addr = a[1];
		c->flags = AT_SYMLINK_NOFOLLOW;
		return true;
	case SYS_symlinkat:
		c->path2_addr = a[0];
		c->dirfd = (int)a[1];
		c->path_addr = a[2];
		c->flags = AT_SYMLINK_NOFOLLOW;
		return true;
	case SYS_rename:
	case SYS_link:
		c->path_addr = a[0];
		c->path2_addr = a[1];
		c->flags = AT_SYMLINK_NOFOLLOW;
		return true;
	case SYS_linkat:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->dirfd2 = (int)a[2];
		c->path2_addr = a[3];
		c->flags = a[4] & AT_SYMLINK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW;
		/* AT_EMPTY_PATH (an fd's object) and unknown flags: the caller's own call */
		return !(a[4] & ~(__u64)AT_SYMLINK_FOLLOW);
	case SYS_truncate:
		c->path_addr = a[0];
		c->length = (int64_t)a[1];
		return true;
	case SYS_renameat:
	case SYS_renameat2:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->dirfd2 = (int)a[2];
		c->path2_addr = a[3];
		c->oflags = c->nr == SYS_renameat2 ? (int)a[4] : 0;
		c->flags = AT_SYMLINK_NOFOLLOW;
		/* RENAME_WHITEOUT and unknown flags: the kernel's answer, as the caller's own */
		return !(c->oflags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE));
	case SYS_stat:
	case SYS_lstat:
		c->path_addr = a[0];
		c->out = a[1];
		c->flags = c->nr == SYS_lstat ? AT_SYMLINK_NOFOLLOW : 0;
		return true;
	case SYS_newfstatat:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->out = a[2];
		c->flags = (int)a[3];
		return true;
	case SYS_statx:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->flags = (int)a[2];
		c->mask = (unsigned)a[3];
		c->out = a[4];
		return true;
	case SYS_access:
		c->path_addr = a[0];
		c->mode = (int)a[1];
		return true;
	case SYS_faccessat:
	case SYS_faccessat2:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->mode = (int)a[2];
		c->flags = c->nr == SYS_faccessat2 ? (int)a[3] : 0;
		return true;
	case SYS_readlink:
		c->path_addr = a[0];
		c->out = a[1];
		c->outlen = (size_t)a[2];
		return true;
	case SYS_readlinkat:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->out = a[2];
		c->outlen = (size_t)a[3];
		return true;
	case SYS_open:
		c->path_addr = a[0];
		c->oflags = (int)a[1];
		c->omode = (mode_t)(a[2] & 07777);
		c->flags = open_nofollow(c->oflags);
		return true;
	case SYS_openat:
		c->dirfd = (int)a[0];
		c->path_addr = a[1];
		c->oflags = (int)a[2];
		c->omode = (mode_t)(a[3] & 07777);
		c->flags = open_nofollow(c->oflags);
		return true;
	case SYS_creat:
		c->path_addr = a[0];
		c->oflags = O_CREAT | O_WRONLY | O_TRUNC;
		c->omode = (mode_t)(a[1] & 07777);
		return true;
	default:
		return false;
	}
}

/*
 * True when no process of the run can have another root than the supervisor's: they
 * all descend from its child, which had its root; chroot needs CAP_SYS_CHROOT and
 * pivot_root CAP_SYS_ADMIN, which no process of a run whose supervisor does not hold
 * them in its permitted set can gain (no_new_privs); setns and unshare are refused by
 * the filter. Then same_root needs no /proc per call. Taken once.
 */
static bool roots_fixed(void)
{
	static int fixed = -1;

	if (fixed < 0) {
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct data[2];
		fixed = 0;
		if (!root_run && syscall(SYS_capget, &hdr, data) == 0) {
			fixed = !(data[0].permitted & ((1u << CAP_SYS_CHROOT) | (1u << CAP_SYS_ADMIN)));
		}
	}
	return fixed == 1;
}

/* The caller's root is the supervisor's own (a chrooted caller is continued). */
static const struct stat *my_root;

static bool root_is_mine(int root)
{
	struct stat theirs;

	return fstat(root, &theirs) == 0 && my_root->st_dev == theirs.st_dev && my_root->st_ino == theirs.st_ino;
}

static bool same_root(pid_t pid)
{
	static struct stat mine; /* the supervisor never changes its root */
	static bool have_mine;
	char proc[64];
	struct stat theirs;

	if (!have_mine) {
		if (stat("/", &mine) < 0) {
			return false;
		}
		have_mine = true;
	}
	if (caller_root >= 0) { /* a root run: opened for this call already (fstat'ed once if kept) */
		my_root = &mine;
		return notify_root_same(caller_root, root_is_mine);
	}
	if (roots_fixed()) {
		return true;
	}
	snprintf(proc, sizeof(proc), "/proc/%d/root", (int)pid);
	return stat(proc, &theirs) == 0 && mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

/* The virtual path of the caller's cwd or fd DIRFD into OUT; false: continue. */
static bool caller_base(pid_t pid, int dirfd, char *out, size_t size)
{
	char proc[64], real[PATH_MAX];
	ssize_t n;

	/* A root run's chrooted caller: its objects are reached beneath its root
	 * (caller_root), where a path of the supervisor's view names something else */
	if (caller_root >= 0 && !same_root(pid)) {
		return false;
	}
	if (dirfd == AT_FDCWD) {
		snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)pid);
	} else if (dirfd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", (int)pid, dirfd);
	} else {
		return false;
	}
	n = readlink(proc, real, sizeof(real) - 1);
	if (n <= 0 || real[0] != '/') {
		return false; /* a pipe, an anonymous inode... */
	}
	real[n] = '\0';
	if (n > 10 && strcmp(real + n - 10, " (deleted)") == 0) {
		return false;
	}
	/* upper/P is /P; the rest of the store is no name of the VM's */
	if (strncmp(real, vm.upper, vm.upper_len) == 0 && (real[vm.upper_len] == '/' || real[vm.upper_len] == '\0')) {
		return fvm_narrow(&vm, real, out, size) > 0;
	}
	/* a layer's directory (a chdir into one, chdir_through_fd): its virtual path too */
	if (fvm_layer_count(&vm) && fvm_narrow(&vm, real, out, size) > 0 && strcmp(out, real) != 0) {
		return true;
	}
	if (vm.home_len && strncmp(real, vm.home, vm.home_len) == 0 &&
	    (real[vm.home_len] == '/' || real[vm.home_len] == '\0')) {
		return false;
	}
	if ((size_t)n >= size) {
		return false;
	}
	memcpy(out, real, (size_t)n + 1);
	return true;
}

/* Writes the result into the caller, unless its pid was reused meanwhile. */
static int write_out(const struct vcall *c, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {.iov_base = (void *)buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

	if (!notify_valid(c->n, c->id)) {
		return -ESRCH;
	}
	return process_vm_writev(c->pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* perform's answer for "continue the call as it stands"; no errno is this large. */
#define CONTINUE (-4095L)

/* /proc names a process by the caller's view (/proc/self, /proc/thread-self): such
 * a name is the caller's own to look up, never the supervisor's. */
static bool in_proc(const char *vpath)
{
	return strncmp(vpath, "/proc", 5) == 0 && (vpath[5] == '/' || vpath[5] == '\0');
}


static bool write_intent(int flags)
{
	return (flags & O_PATH) != O_PATH && ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND)));
}

static bool in_upper(const char *rpath)
{
	return strncmp(rpath, vm.upper, vm.upper_len) == 0 && rpath[vm.upper_len] == '/';
}

/*
 * Opens RPATH, a host path the resolver found with no link on its way, for reading,
 * refusing any link met now: a shared tree the VM may write could have one swapped in
 * meanwhile, toward a path hidden from it. A link met: CONTINUE (the caller's own
 * call, under the fence, as the kernel resolves it).
 */
static int open_host(const char *rpath, int flags)
{
	struct open_how how = {.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	long fd;

	if (caller_root >= 0) { /* a root run: the caller's view, its covers included */
		how.resolve |= RESOLVE_IN_ROOT;
		fd = syscall(SYS_openat2, caller_root, rpath, &how, sizeof(how));
	} else {
		fd = syscall(SYS_openat2, AT_FDCWD, rpath, &how, sizeof(how));
	}

	if (fd < 0) {
		return errno == ELOOP && !(flags & O_NOFOLLOW) ? (int)CONTINUE : -errno;
	}
	return (int)fd;
}

/*
 * upper/ itself as an O_PATH fd: "upper" opened beneath the VM's directory with no
 * link, since the VM may replace its upper/ by a link to a host directory; in a root
 * run, the VM's directory is reached beneath the caller's root, so the fd is on the
 * namespace's copy of the data area (nodev: a device node the VM made there never
 * opens). Returns the fd or -errno.
 */
static int upper_dir(void)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	struct open_how in_root = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				   .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	long root = caller_root >= 0 ? syscall(SYS_openat2, caller_root, vm.root, &in_root, sizeof(in_root))
				     : open(vm.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	long fd;

	if (root < 0) {
		return -errno;
	}
	fd = syscall(SYS_openat2, (int)root, FVM_UPPER_DIR, &how, sizeof(how));
	fd = fd < 0 ? -errno : fd;
	close((int)root);
	return (int)fd;
}

/*
 * Opens RPATH, a path in upper/, beneath upper/ with no symlink and no "..": the
 * supervisor is outside the fence, so a name the VM swaps for a link meanwhile must
 * not lead it out of the layer. Returns the fd (close-on-exec here) or -errno.
 */
static int open_upper(const char *rpath, int flags, mode_t mode)
{
	struct open_how how = {.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
			       .mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int dfd = upper_dir();
	long fd;

	if (dfd < 0) {
		return dfd;
	}
	fd = syscall(SYS_openat2, dfd, rpath[vm.upper_len] ? rpath + vm.upper_len + 1 : ".", &how, sizeof(how));
	fd = fd < 0 ? -errno : fd;
	close(dfd);
	return (int)fd;
}

/*
 * A root run's caller root for the call REQ (caller_root), opened before anything of
 * the caller is read and, with CHECK, checked valid with it (guard_call checks once
 * after all its reads instead: a notification still valid after them means the pid
 * named the caller all along). Returns 0, or -errno.
 */
static int caller_root_open(const struct notify *n, const struct seccomp_notif *req, bool check)
{
	caller_root = -1;
	if (!vm_ready() || !root_run) {
		return 0;
	}
	if ((caller_root = notify_root_of((pid_t)req->pid, &caller_root_kept)) < 0) {
		return -ESRCH;
	}
	return !check || notify_valid(n, req->id) ? 0 : -ESRCH;
}

static void caller_root_close(void)
{
	if (caller_root >= 0 && !caller_root_kept) {
		close(caller_root);
	}
	caller_root = -1;
}

/*
 * A root run's object RPATH (resolved by the core) as an O_PATH fd of the object itself
 * (a last link not followed): beneath upper/ for the layer's, beneath the caller's own
 * root otherwise (open_host), both with no link on the way, so a link the VM swaps in
 * meanwhile leads nowhere and a cover of the caller's namespace hides what it covers.
 * Returns the fd, -errno, or CONTINUE (a link met: the caller's own call).
 */
static int obj_fd(const char *rpath)
{
	if (in_upper(rpath) || strcmp(rpath, vm.upper) == 0) {
		return open_upper(rpath, O_PATH | O_NOFOLLOW, 0);
	}
	int fd = open_host(rpath, O_PATH | O_NOFOLLOW);
	return fd == -ELOOP ? (int)CONTINUE : fd;
}

/*
 * True for a directory of upper/ that the host's directory of the same name shows
 * through (not opaque). Its read open is the host's: getdents on it lists the host's
 * entries (what the program saw before this guard: no new entry of the VM's, its
 * deleted ones still there), where upper's alone would list only what the VM changed,
 * with its whiteouts. A merged listing is not built yet. A name looked up through the
 * fd is resolved in the VM all the same (caller_base names it by its path).
 */
static bool merged_dir(const struct fvm_res *res)
{
	struct stat st;

	return S_ISDIR(res->st.st_mode) && in_upper(res->rpath) && !fvm_is_opaque(res->rpath) &&
	       lstat(res->vpath, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- merged listings (getdents64 on a directory opened here) ---- */

/*
 * A directory the VM changed, opened by a caller for reading (open_in_vm): the
 * supervisor keeps its own reference to the caller's open file description, so a
 * getdents64 on any fd of it (a dup, a fork's copy) is recognised (same dev/ino, then
 * kcmp KCMP_FILE) and answered from the merged listing; the position is the
 * description's own file offset (entry index, d_off of entry i is i + 1), as libfvm's
 * dir.c keeps it, so lseek(fd, 0) rebuilds it and seekdir/telldir hold. At most
 * NLISTS descriptions are remembered, the least recently used forgotten first (its
 * later reads are the kernel's: the host's listing, fenced as before).
 */
struct vlist {
	int fd;         /* the supervisor's reference; -1: a free slot */
	dev_t dev;
	ino_t ino;
	uint64_t used;  /* for the LRU */
	char *vpath;
	char *buf;      /* packed linux_dirent64 records */
	size_t *off, n, len, cap;
	bool built;
};

#define NLISTS 256
static struct vlist lists[NLISTS];
static int nlists; /* slots in use */
static uint64_t list_clock;

static void vlist_drop(struct vlist *l)
{
	close(l->fd);
	free(l->vpath);
	free(l->buf);
	free(l->off);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	nlists--;
}

/* Remembers FD (a dup is kept) as the read open of virtual directory VPATH. */
static void vlist_remember(int fd, const char *vpath)
{
	struct vlist *slot = NULL, *oldest = NULL;
	struct stat st;

	if (fstat(fd, &st) < 0) {
		return;
	}
	for (int i = 0; i < NLISTS; i++) {
		if (lists[i].vpath == NULL) {
			slot = slot ? slot : &lists[i];
		} else if (!oldest || lists[i].used < oldest->used) {
			oldest = &lists[i];
		}
	}
	if (!slot) {
		vlist_drop(oldest);
		slot = oldest;
	}
	slot->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	slot->vpath = strdup(vpath);
	if (slot->fd < 0 || !slot->vpath) {
		if (slot->fd >= 0) {
			close(slot->fd);
		}
		free(slot->vpath);
		slot->vpath = NULL;
		slot->fd = -1;
		return;
	}
	slot->dev = st.st_dev;
	slot->ino = st.st_ino;
	slot->used = ++list_clock;
	slot->built = false;
	nlists++;
}

/* The remembered listing whose description FD (the supervisor's copy) is, or NULL. */
static struct vlist *vlist_find(int fd)
{
	struct stat st;
	pid_t me = getpid();

	if (fstat(fd, &st) < 0) {
		return NULL;
	}
	for (int i = 0; i < NLISTS; i++) {
		struct vlist *l = &lists[i];
		if (l->vpath && l->dev == st.st_dev && l->ino == st.st_ino &&
		    syscall(SYS_kcmp, me, me, KCMP_FILE, l->fd, fd) == 0) {
			l->used = ++list_clock;
			return l;
		}
	}
	return NULL;
}

static int vlist_add(struct vlist *l, uint64_t ino, unsigned char type, const char *name)
{
	size_t nl = strlen(name), rec = (offsetof(struct linux_dirent64, d_name) + nl + 1 + 7) & ~(size_t)7;

	if (l->len + rec > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8192;
		while (cap < l->len + rec) {
			cap *= 2;
		}
		char *b = realloc(l->buf, cap);
		if (!b) {
			return -ENOMEM;
		}
		l->buf = b;
		l->cap = cap;
	}
	if ((l->n & (l->n - 1)) == 0) {
		size_t *o = realloc(l->off, (l->n ? l->n * 2 : 64) * sizeof(*o));
		if (!o) {
			return -ENOMEM;
		}
		l->off = o;
	}
	struct linux_dirent64 *d = (void *)(l->buf + l->len);
	memset(d, 0, rec);
	d->d_ino = ino;
	d->d_off = (int64_t)l->n + 1;
	d->d_reclen = (unsigned short)rec;
	d->d_type = type;
	memcpy(d->d_name, name, nl + 1);
	l->off[l->n++] = l->len;
	l->len += rec;
	return 0;
}

/* Names met so far (each listed once), sorted after the upper pass. */
struct names {
	char **v;
	size_t n, cap;
	bool sorted;
};

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool names_has(const struct names *s, const char *name)
{
	if (s->sorted) {
		return bsearch(&name, s->v, s->n, sizeof(*s->v), names_cmp) != NULL;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static int names_add(struct names *s, const char *name)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(name))) {
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i]);
	}
	free(s->v);
}

/* True when VDIR/NAME is hidden from the VM (the store, a hidden rule). */
static bool name_hidden(const char *vdir, const char *name)
{
	char p[PATH_MAX];
	int n = snprintf(p, sizeof(p), "%s/%s", strcmp(vdir, "/") == 0 ? "" : vdir, name);

	if (n < 0 || (size_t)n >= sizeof(p)) {
		return false;
	}
	if (vm.home_len && strncmp(p, vm.home, vm.home_len) == 0 && (p[vm.home_len] == '/' || p[vm.home_len] == '\0')) {
		return true;
	}
	return vm.policy && fvm_policy_class(vm.policy, p, (size_t)n) == FVM_CLASS_HIDDEN;
}

/* Which layer of a VM's stack a listing pass reads. */
enum pass { PASS_UPPER, PASS_LAYER, PASS_HOST };

/*
 * One pass of a listing: the entries of directory fd DFD (closed here) into L. The
 * upper pass and a read-only layer's record whiteouts (into WH) and the opaque marker;
 * a layer's pass and the host's skip what a pass above listed (SEEN), whited out or
 * hid. A layer's names and whiteouts are gathered apart and merged into SEEN and WH
 * after its pass (kept sorted for the passes below).
 */
static int list_pass(struct vlist *l, int dfd, enum pass pass, struct names *seen, struct names *wh,
		     bool *opaque)
{
	char buf[16384] __attribute__((aligned(8)));
	struct names fresh = {0}, fresh_wh = {0};
	bool lower = pass != PASS_UPPER, host = pass == PASS_HOST;
	long got;
	int r = 0;

	if (dfd < 0) {
		return dfd == -ENOENT || dfd == -ENOTDIR ? 0 : dfd;
	}
	while (r == 0 && (got = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long o = 0; r == 0 && o < got;) {
			const struct linux_dirent64 *d = (const void *)(buf + o);
			const char *name = d->d_name;
			size_t len = strlen(name);
			bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
			o += d->d_reclen;
			if (!host && strcmp(name, FVM_WH_OPAQUE) == 0) {
				*opaque = true;
				continue;
			}
			if (fvm_is_wh_name(name, len)) {
				if (!host) {
					r = names_add(lower ? &fresh_wh : wh, name + FVM_WH_PREFIX_LEN);
				}
				continue;
			}
			if ((lower && (names_has(seen, name) || names_has(wh, name))) ||
			    (!dot && name_hidden(l->vpath, name))) {
				continue;
			}
			if ((r = vlist_add(l, d->d_ino, d->d_type, name)) == 0 && !host) {
				r = names_add(lower ? &fresh : seen, name);
			}
		}
	}
	close(dfd);
	for (size_t i = 0; r == 0 && i < fresh.n; i++) {
		r = names_add(seen, fresh.v[i]);
	}
	for (size_t i = 0; r == 0 && i < fresh_wh.n; i++) {
		r = names_add(wh, fresh_wh.v[i]);
	}
	names_free(&fresh);
	names_free(&fresh_wh);
	qsort(seen->v, seen->n, sizeof(*seen->v), names_cmp);
	qsort(wh->v, wh->n, sizeof(*wh->v), names_cmp);
	seen->sorted = wh->sorted = true;
	return r;
}

/*
 * The read-only layers whose directory shows through at RES (bit i: layer i, 0 the
 * top one), and in HOST whether the host's does beneath them; 0 and HOST true for a
 * VM without layers.
 */
static uint32_t lower_mask(const struct fvm_res *res, bool *host)
{
	uint32_t mask = 0;

	*host = true;
	if (fvm_layer_count(&vm) && res->parent_layers) {
		fvm_lower_descend(&vm, res->parent_layers, res->parent_host, res->vpath, res->vlen, &mask, host);
	}
	return mask;
}

/* Opens directory RPATH of a read-only layer for listing, following no link in it. */
static int open_nofollow_dir(const char *rpath)
{
	int fd = open(rpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Opens directory RPATH of the host for listing, with no link on the way. */
static int open_host_dir(const char *rpath)
{
	int fd = open_host(rpath, O_RDONLY | O_DIRECTORY);

	return fd == (int)CONTINUE ? -ELOOP : fd;
}

/* Builds L's merged listing, as libfvm's dir.c does: upper's, then the host's. */
static int vlist_build(struct vlist *l)
{
	struct fvm_res *res = malloc(sizeof(*res));
	struct names seen = {0}, wh = {0};
	char up[PATH_MAX];
	struct stat st;
	bool opaque = false;
	int r;

	if (!res) {
		return -ENOMEM;
	}
	l->n = l->len = 0;
	r = fvm_resolve(&vm, l->vpath, 0, res);
	if (r == 0 && res->where == FVM_ABSENT) {
		r = -ENOENT;
	}
	/* The name must still lead to the directory the fd is (the VM may have renamed or
	 * replaced it since): else no listing is built here, the kernel's is given. */
	if (r == 0 && !(stat(res->rpath, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino) &&
	    !(lstat(res->vpath, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)) {
		r = (int)CONTINUE;
	}
	if (r == 0 && res->klass != FVM_CLASS_SHARED && fvm_upper_path(&vm, res->vpath, up, sizeof(up)) >= 0 &&
	    lstat(up, &st) == 0 && S_ISDIR(st.st_mode)) {
		r = list_pass(l, open_upper(up, O_RDONLY | O_DIRECTORY, 0), PASS_UPPER, &seen, &wh, &opaque);
	}
	bool host = true;
	uint32_t mask = r == 0 && !opaque && res->klass != FVM_CLASS_SHARED ? lower_mask(res, &host) : 0;
	for (unsigned i = 0; r == 0 && !opaque && mask >> i; i++) {
		if ((mask & ((uint32_t)1 << i)) && fvm_layer_path(&vm, i, res->vpath, up, sizeof(up)) >= 0) {
			r = list_pass(l, open_nofollow_dir(up), PASS_LAYER, &seen, &wh, &opaque);
		}
	}
	if (r == 0 && !opaque && host &&
	    (res->klass == FVM_CLASS_SHARED || res->where == FVM_HOST || fvm_host_shows(res))) {
		r = list_pass(l, open_host_dir(res->klass == FVM_CLASS_SHARED ? res->rpath : res->vpath), PASS_HOST,
			      &seen, &wh, &opaque);
	}
	names_free(&seen);
	names_free(&wh);
	free(res);
	l->built = r == 0;
	return r;
}

/* True when some hidden name (the store, a hidden rule) lies directly in VDIR. */
static bool hides_child(const char *vdir)
{
	size_t len = strcmp(vdir, "/") == 0 ? 0 : strlen(vdir);
	const char *slash = vm.home_len ? strrchr(vm.home, '/') : NULL;

	if (slash && (size_t)(slash - vm.home) == len && strncmp(vm.home, vdir, len) == 0) {
		return true;
	}
	for (uint32_t i = 0; vm.policy && i < vm.policy->nrules; i++) {
		const struct fvm_path_rule *r = &vm.policy->rules[i];
		const char *p = vm.policy->blob + r->off, *ps = memrchr(p, '/', r->len);
		if (r->klass == FVM_CLASS_HIDDEN && ps && (size_t)(ps - p) == len && strncmp(p, vdir, len) == 0) {
			return true;
		}
	}
	return false;
}

/* The read open of directory RES needs a merged listing: upper/ has it, or it hides a name. */
static bool needs_listing(const struct fvm_res *res)
{
	bool host;

	return S_ISDIR(res->st.st_mode) && res->klass != FVM_CLASS_SHARED &&
	       (in_upper(res->rpath) || hides_child(res->vpath) || lower_mask(res, &host) != 0);
}

/*
 * getdents64(FD, BUF, COUNT) from an executable's own code: a description remembered
 * by vlist_remember is answered from its merged listing; any other is continued (the
 * kernel's listing of a directory the VM never changed is the VM's).
 */
static long virt_getdents(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	const __u64 *a = req->data.args;
	pid_t pid = (pid_t)req->pid;
	size_t count = (size_t)(unsigned)a[2], out = 0;
	struct vlist *l;
	off_t pos;
	int fd;
	long r;

	*cont = true;
	if (nlists == 0 || (int)a[0] < 0) {
		return 0;
	}
	if ((fd = notify_getfd(pid, (int)a[0])) < 0) {
		return 0; /* the kernel's answer (EBADF) */
	}
	if (!(l = vlist_find(fd))) {
		close(fd);
		return 0;
	}
	*cont = false;
	pos = lseek(fd, 0, SEEK_CUR);
	if (pos < 0) {
		r = -errno;
		goto out;
	}
	if ((pos == 0 || !l->built) && (r = vlist_build(l)) < 0) {
		*cont = r == CONTINUE;
		r = *cont ? 0 : r;
		goto out;
	}
	if (count > (1u << 20)) {
		count = 1u << 20;
	}
	char *buf = malloc(count ? count : 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	size_t i;
	for (i = (size_t)pos; i < l->n; i++) {
		const struct linux_dirent64 *d = (const void *)(l->buf + l->off[i]);
		if (out + d->d_reclen > count) {
			break;
		}
		memcpy(buf + out, d, d->d_reclen);
		out += d->d_reclen;
	}
	if (out == 0 && i < l->n) {
		r = -EINVAL; /* the kernel's answer for a buffer too small */
	} else {
		struct vcall c = {.n = n, .id = req->id, .pid = pid};
		r = out ? write_out(&c, a[1], buf, out) : 0;
		if (r == 0 && lseek(fd, (off_t)i, SEEK_SET) < 0) {
			r = -errno;
		}
		r = r < 0 ? r : (long)out;
	}
	free(buf);
out:
	close(fd);
	return r;
}

/*
 * getcwd(BUF, SIZE) from an executable's own code: the caller's working directory as
 * the VM names it (upper/P is /P), as libfvm's getcwd answers; a directory outside the
 * VM's names (the store, deleted, another root) is continued: the kernel's answer.
 */
static long virt_getcwd(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	struct vcall c = {.n = n, .id = req->id, .pid = (pid_t)req->pid};
	size_t size = (size_t)req->data.args[1], len;
	char base[PATH_MAX];
	long r;

	*cont = true;
	if (!same_root(c.pid) || !caller_base(c.pid, AT_FDCWD, base, sizeof(base))) {
		return 0;
	}
	*cont = false;
	len = strlen(base) + 1;
	if (size < len) {
		return size == 0 ? -EINVAL : -ERANGE;
	}
	r = write_out(&c, req->data.args[0], base, len);
	return r < 0 ? r : (long)len;
}

/*
 * A read of a host object the VM never changed, by the very name the caller gave (an
 * absolute, canonical path, no link on the way, no layer beneath): the kernel's own
 * call on that name is the VM's answer, so an open, stat, access or readlink is
 * continued instead of performed (an open's fd installed by SECCOMP_IOCTL_NOTIF_ADDFD
 * costs a second round trip: 40 µs of a 60 µs open on this machine). The kernel then checks
 * the caller's own credentials and capabilities, under the fence. Another thread that
 * rewrites the name between this check and the kernel's read of it gets the kernel's
 * answer for its new name, under the same fence: it escapes the VM's view only, as a
 * call from libc's text does (DESIGN.md). Not when the run is traced (the supervisor
 * notes the input by the fd it opened) nor for a directory the VM lists (vlist).
 */
static bool host_as_named(const struct vcall *c, const struct fvm_res *res)
{
	return c->absolute && !trace_active && res->where == FVM_HOST && res->layer < 0 &&
	       (res->klass == FVM_CLASS_VIRTUAL || res->klass == FVM_CLASS_READONLY || res->klass == FVM_CLASS_SCOPE) &&
	       !needs_listing(res) && strcmp(res->rpath, c->vpath) == 0;
}

/* The open of RES for C, and its fd installed in the caller (perform_open). */
static long open_in_vm(struct vcall *c, struct fvm_res *res)
{
	int flags = c->oflags, fd, r;
	bool wr = write_intent(flags);

	if ((flags & O_TMPFILE) == O_TMPFILE) {
		if (res->where == FVM_ABSENT) {
			return -ENOENT;
		}
		if (!S_ISDIR(res->st.st_mode)) {
			return -ENOTDIR;
		}
		r = fvm_prepare_write(&vm, res, FVM_MAY_WRITE_DIR, false);
		fd = r < 0 ? r : open_upper(res->rpath, flags, c->omode);
	} else if (res->where == FVM_ABSENT) {
		if (!(flags & O_CREAT)) {
			return -ENOENT;
		}
		if (res->trailing_slash) {
			return -EISDIR;
		}
		if ((r = fvm_prepare_new(&vm, res)) < 0) {
			return r;
		}
		fd = open_upper(res->rpath, flags, c->omode);
		if (fd >= 0) {
			fvm_created(&vm, res, false);
		}
	} else {
		if ((flags & O_CREAT) && (flags & O_EXCL)) {
			return -EEXIST;
		}
		if (wr && S_ISDIR(res->st.st_mode)) {
			return -EISDIR;
		}
		if (wr && (S_ISREG(res->st.st_mode) || res->klass == FVM_CLASS_READONLY)) {
			if ((r = fvm_prepare_write(&vm, res, FVM_MAY_WRITE, !(flags & O_TRUNC))) < 0) {
				return r;
			}
		}
		flags &= ~(O_CREAT | O_EXCL);
		if (!wr && merged_dir(res)) {
			fd = open_host(res->vpath, flags); /* its listing: see merged_dir */
		} else if (in_upper(res->rpath)) {
			fd = open_upper(res->rpath, flags, c->omode);
		} else if (wr) {
			return CONTINUE; /* a host fifo or device: the fence decides */
		} else if (host_as_named(c, res)) {
			return CONTINUE;
		} else {
			fd = open_host(res->rpath, flags);
		}
	}
	if (fd < 0) {
		return fd;
	}
	if (wr && (flags & O_TRUNC) && res->where == FVM_UPPER && S_ISREG(res->st.st_mode)) {
		fvm_quota_add(&vm, -(int64_t)res->st.st_size, 0); /* the bytes it held are free */
	}
	if (!notify_valid(c->n, c->id)) {
		close(fd);
		return -ESRCH;
	}
	long got = notify_addfd_send(c->n, c->id, fd, c->oflags & O_CLOEXEC);
	if (got >= 0 && !wr && needs_listing(res)) {
		vlist_remember(fd, res->vpath); /* its getdents64: virt_getdents */
	}
	if (got >= 0 && !wr) {
		trace_note_open(c->pid, fd, res->rpath, res->vpath); /* --trace: a static program's input */
	}
	close(fd);
	return got;
}

/* open_in_vm in fenced's form (RES2 unused). */
static long open_in_vm2(struct vcall *c, struct fvm_res *res, struct fvm_res *res2)
{
	(void)res2;
	return open_in_vm(c, res);
}

/*
 * The copy-up broker of a fenced child acting for a caller that dropped root in a root
 * run (become_caller), as the run's copy-up broker serves libfvm (cubroker.c): a
 * copy-up keeps the host's owner and lands in upper/ directories that mirror root's,
 * which the caller's ids cannot do, so it is made with euid 0 (the saved uid), and
 * changes nothing the VM sees. KIND and VPATH as struct fvm_vm's copyup_broker.
 */
static int broker_as_root(unsigned kind, const char *vpath)
{
	uid_t u = geteuid();
	gid_t g = getegid();
	struct fvm_vm root_vm = vm;
	struct fvm_res *res = malloc(sizeof(*res));
	uint64_t eff, prm;
	int r;

	if (!res) {
		return -ENOMEM;
	}
	/* A root caller that dropped capabilities keeps euid 0: its effective set is raised
	 * to the permitted set here, and lowered again after (a uid's is restored by the
	 * kernel on the way to euid 0, cleared on the way back). */
	notify_caps_get(&eff, &prm);
	if (syscall(SYS_setresuid, -1, 0, -1) < 0 || syscall(SYS_setresgid, -1, 0, -1) < 0 ||
	    notify_caps_take(prm) < 0) {
		free(res);
		return -EPERM;
	}
	root_vm.is_root = true;
	root_vm.copyup_broker = NULL;
	r = fvm_resolve(&root_vm, vpath, FVM_R_NOFOLLOW, res);
	if (r == 0 && kind == FVM_CU_PARENT) {
		r = fvm_prepare_create(&root_vm, res);
	} else if (r == 0) {
		r = res->klass == FVM_CLASS_SHARED ? -EACCES : fvm_prepare_modify(&root_vm, res, true);
	}
	free(res);
	if (syscall(SYS_setresgid, -1, g, -1) < 0 || syscall(SYS_setresuid, -1, u, -1) < 0 ||
	    notify_caps_take(eff) < 0) {
		_exit(1); /* never go on as root for the caller */
	}
	return r;
}

/* What the core's is_root stands for: a copy-up keeps the host's owner, no owner or
 * permission check of its own. Docker's set, a root run's, holds them all. */
#define ROOT_CAPS (NOTIFY_CAP(CAP_CHOWN) | NOTIFY_CAP(CAP_DAC_OVERRIDE) | NOTIFY_CAP(CAP_FOWNER) | \
		   NOTIFY_CAP(CAP_FSETID) | NOTIFY_CAP(CAP_MKNOD))

/*
 * In a fenced child of a root run whose caller dropped root (setpriv, su, a daemon) or
 * some of root's file capabilities (setpriv, capsh): takes the caller's fs ids
 * (notify_as set them) as effective ids too, the saved ids staying 0, so that the core
 * acts as libfvm acts in such a process: it checks the caller's own permissions
 * (is_root false; the effective set the caller's file capabilities, fowner for
 * CAP_FOWNER) and asks broker_as_root for its copy-ups. Returns 0 or -errno.
 */
static int become_caller(void)
{
	uid_t u = (uid_t)syscall(SYS_setfsuid, -1);
	gid_t g = (gid_t)syscall(SYS_setfsgid, -1);
	uint64_t eff, prm;

	if (!root_run) {
		return 0;
	}
	/* notify_as gave this task the caller's file capabilities: a root that dropped some
	 * of those the core's is_root stands for is checked as any caller (and copies up
	 * through the broker, as root); a uid that kept some has them back after setresuid
	 * cleared them. */
	notify_caps_get(&eff, &prm);
	bool full = u == 0 && (eff & ROOT_CAPS) == ROOT_CAPS;
	if (full && g == 0) {
		return 0;
	}
	notify_creds_forget();
	if (syscall(SYS_setresgid, -1, g, -1) < 0 || syscall(SYS_setresuid, -1, u, -1) < 0 ||
	    (u != 0 && (eff & NOTIFY_FS_CAPS) && notify_caps_take(eff & NOTIFY_FS_CAPS) < 0)) {
		return -EPERM;
	}
	vm.is_root = full;
	vm.fowner = full || (eff & NOTIFY_CAP(CAP_FOWNER));
	vm.copyup_broker = full ? NULL : broker_as_root;
	return 0;
}

/*
 * Runs FN(C, RES, RES2), a change of the layer, in a child under the VM's own Landlock
 * ruleset (see perform_open), its answer coming back in C (shared memory); then bumps
 * the VM's generation counters, so that no process of the VM keeps a cached
 * resolution the change made stale.
 */
static long fenced(struct vcall *c, struct fvm_res *res, struct fvm_res *res2,
		   long (*fn)(struct vcall *, struct fvm_res *, struct fvm_res *))
{
	int status, ns = -1;

	c->result = LONG_MIN;
	if (root_run) {
		/* The caller's mount namespace, where the host is read-only: taken before the
		 * fork and checked valid, so a reused pid hands over no other namespace. */
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/%d/ns/mnt", (int)c->pid);
		if ((ns = open(proc, O_RDONLY | O_CLOEXEC)) < 0) {
			return -ESRCH;
		}
		if (!notify_valid(c->n, c->id)) {
			close(ns);
			return -ESRCH;
		}
	}
	pid_t child = fork();
	if (child < 0) {
		if (ns >= 0) {
			close(ns);
		}
		return -errno;
	}
	if (child == 0) {
		/* A root run's child enters the caller's namespace (its root and cwd become the
		 * namespace's: every path below is the caller's view), then takes the VM's
		 * Landlock ruleset, as an unprivileged run's does. */
		if ((ns >= 0 && (setns(ns, CLONE_NEWNS) < 0 || chdir("/") < 0)) || become_caller() < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    (c->n->ruleset_fd >= 0 && syscall(SYS_landlock_restrict_self, c->n->ruleset_fd, 0) < 0)) {
			c->result = -EACCES;
			_exit(1);
		}
		uncached();
		c->result = fn(c, res, res2);
		_exit(0);
	}
	if (ns >= 0) {
		close(ns);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			return -ECHILD;
		}
	}
	fvm_gen_bump(&vm);
	return c->result == LONG_MIN ? -EIO : c->result;
}

/*
 * The open of RES (resolved in the VM) for C, as libfvm's openat_core does it: a
 * write copies a host file up first, O_CREAT creates in upper/ (parents copied up),
 * a read opens the object where it is. The fd is installed in the caller as the
 * call's answer (SECCOMP_ADDFD_FLAG_SEND). Returns the caller's fd, -errno, or
 * CONTINUE for what the fence must decide on the caller's own call: a shared tree,
 * a host fifo or device opened for writing, a host name that met a link meanwhile.
 *
 * What changes the layer (a copy-up, a creation) runs in a child under the VM's own
 * Landlock ruleset: the core's copy-up and creation work by path in a layer the VM
 * may be changing, and a link swapped in must lead them nowhere the VM could not
 * write itself. Its answer comes back in C (shared memory).
 */
static long perform_open(struct vcall *c, struct fvm_res *res, long resolved)
{
	if (resolved < 0) {
		return resolved;
	}
	if (res->klass == FVM_CLASS_SHARED) {
		return CONTINUE;
	}
	/* Only a copy-up or a creation changes the layer by path; an object already in
	 * upper/ is opened beneath it (open_upper), a host one read with no link. */
	bool changes = res->where == FVM_HOST ? write_intent(c->oflags) || (c->oflags & O_TMPFILE) == O_TMPFILE
					      : res->where == FVM_ABSENT && (c->oflags & O_CREAT);
	if (!changes) {
		return open_in_vm(c, res);
	}
	return fenced(c, res, NULL, open_in_vm2);
}

/*
 * The namespace change C asks of RES (and RES2, rename's new name), as libfvm's
 * link.c makes it: in upper/ (parents copied up, whiteouts for what the host still
 * has), with the kernel's errors. Runs in perform_change's fenced child.
 */
static long change_in_vm(struct vcall *c, struct fvm_res *res, struct fvm_res *res2)
{
	long r;

	switch (c->nr) {
	case SYS_mkdir:
	case SYS_mkdirat:
	case SYS_symlink:
	case SYS_symlinkat: {
		bool dir = c->nr == SYS_mkdir || c->nr == SYS_mkdirat;
		if (res->where != FVM_ABSENT) {
			return -EEXIST;
		}
		if (res->trailing_slash && !dir) {
			return -ENOENT;
		}
		if ((r = fvm_prepare_new(&vm, res)) < 0) {
			return r;
		}
		r = dir ? mkdir(res->rpath, c->omode) : symlink(c->vpath2, res->rpath);
		if (r < 0) {
			return -errno;
		}
		fvm_created(&vm, res, dir);
		return 0;
	}
	case SYS_mknod:
	case SYS_mknodat:
		/* mknod_mode checked the type; a device node is made in the caller's
		 * namespace (fenced), whose copy of the data area is nodev */
		if (res->where != FVM_ABSENT) {
			return -EEXIST;
		}
		if (res->trailing_slash) {
			return -ENOENT;
		}
		if ((r = fvm_prepare_new(&vm, res)) < 0) {
			return r;
		}
		if (mknod(res->rpath, c->omode, c->dev) < 0) {
			return -errno;
		}
		fvm_created(&vm, res, false);
		return 0;
	case SYS_unlink:
	case SYS_unlinkat:
	case SYS_rmdir: {
		bool dir = c->oflags & AT_REMOVEDIR;
		size_t len = strlen(c->vpath);
		if (res->where == FVM_ABSENT) {
			return -ENOENT;
		}
		if (dir) {
			if (len >= 2 && strcmp(c->vpath + len - 2, "/.") == 0) {
				return -EINVAL; /* "dir/." names the directory through itself */
			}
			if (!S_ISDIR(res->st.st_mode)) {
				return -ENOTDIR;
			}
			if (res->vlen == 1) {
				return -EBUSY;
			}
		} else if (S_ISDIR(res->st.st_mode)) {
			return -EISDIR;
		}
		if ((r = fvm_may_change_parent(&vm, res, true)) < 0) {
			return r;
		}
		return fvm_remove(&vm, res, dir);
	}
	case SYS_truncate:
		/* a write of the file: copied up first (the host's permission), as libfvm's */
		if (res->where == FVM_ABSENT) {
			return -ENOENT;
		}
		if (S_ISDIR(res->st.st_mode)) {
			return -EISDIR;
		}
		if (!S_ISREG(res->st.st_mode) || c->length < 0) {
			return -EINVAL;
		}
		if ((r = fvm_prepare_write(&vm, res, FVM_MAY_WRITE, c->length != 0)) < 0) {
			return r;
		}
		/* through an fd opened beneath upper/ with no link: truncate(2) by path would
		 * follow a link swapped in, and Landlock before ABI 3 does not fence it */
		if (!in_upper(res->rpath)) {
			return -EACCES;
		}
		int fd = open_upper(res->rpath, O_WRONLY | O_NONBLOCK, 0);
		if (fd < 0) {
			return fd;
		}
		r = quota_guard_ftruncate(&vm, fd, NULL, (off_t)c->length);
		close(fd);
		return r;
	case SYS_link:
	case SYS_linkat:
		if (res2->where != FVM_ABSENT) {
			return -EEXIST;
		}
		if (res->where == FVM_ABSENT) {
			return -ENOENT;
		}
		if (res2->trailing_slash) {
			return -ENOENT;
		}
		if (S_ISDIR(res->st.st_mode)) {
			return -EPERM;
		}
		/* a host file is linked as the VM's copy of it, copied up first */
		if ((r = fvm_prepare_write(&vm, res, FVM_MAY_LINK, true)) < 0 ||
		    (r = fvm_prepare_new(&vm, res2)) < 0) {
			return r;
		}
		if (linkat(AT_FDCWD, res->rpath, AT_FDCWD, res2->rpath, 0) < 0) {
			return -errno;
		}
		fvm_created(&vm, res2, false);
		return 0;
	default: /* rename, renameat, renameat2 */
		if (res->where == FVM_ABSENT) {
			return -ENOENT;
		}
		if (res2->trailing_slash && !S_ISDIR(res->st.st_mode)) {
			return -ENOTDIR;
		}
		if ((r = fvm_may_change_parent(&vm, res, true)) < 0 ||
		    (r = fvm_may_change_parent(&vm, res2, res2->where != FVM_ABSENT)) < 0) {
			return r;
		}
		return fvm_rename(&vm, res, res2, (unsigned)c->oflags);
	}
}

/*
 * A change of the namespace (mkdir, unlink, rmdir, symlink, rename) for C, made in a
 * child under the VM's own Landlock ruleset, as a copy-up is (perform_open): the
 * core works by path in a layer the VM may be changing. A name in a shared tree is
 * the caller's own call to make, under the fence (CONTINUE).
 */
static long perform_change(struct vcall *c, struct fvm_res *res, struct fvm_res *res2)
{
	if (res->klass == FVM_CLASS_SHARED || (res2 && res2->klass == FVM_CLASS_SHARED)) {
		return CONTINUE;
	}
	return fenced(c, res, res2, change_in_vm);
}

/*
 * chdir(2) from an executable's own code to RES. A directory the host has too is the
 * kernel's to enter (CONTINUE: the names beneath it are resolved in the VM all the
 * same). One only the VM has (upper/'s or a layer's) is entered through a directory fd
 * (chdir_by_trace, in the supervisor): this checks the caller's search permission on
 * the directory itself (the walk to it was fvm_resolve's, under the caller's ids), and
 * its read permission (the fd handed over lists it: a directory it may enter but not
 * read gets ENOENT and the warning), keeps the real path in C->vpath2 and answers
 * CHDIR_VIA_FD. A name the VM deleted or made a non-directory
 * answers as in the VM.
 */
#define CHDIR_VIA_FD (-4094L)
static void chdir_warn(struct vcall *c);

/*
 * The caller's own access MODE (X_OK, R_OK) to RES's object, checked with its fs ids
 * (under notify_as), as the kernel would check it on that object. Returns 0 or -errno.
 */
static long caller_may(const struct fvm_res *res, int mode)
{
	int at = AT_FDCWD, empty = 0;
	const char *name = res->rpath;
	long r;

	if (root_run) {
		if ((at = obj_fd(res->rpath)) < 0) {
			return at == (int)CONTINUE ? -ENOENT : at;
		}
		name = "";
		empty = AT_EMPTY_PATH;
	}
	r = syscall(SYS_faccessat2, at, name, mode, AT_EACCESS | empty) < 0 ? -errno : 0;
	if (!root_run && (r == -ENOSYS || r == -EINVAL)) {
		r = faccessat(AT_FDCWD, res->rpath, mode, AT_EACCESS) < 0 ? -errno : 0;
	}
	if (at >= 0) {
		close(at);
	}
	return r;
}

static long chdir_in_vm(struct vcall *c, const struct fvm_res *res)
{
	struct stat st;
	long r;

	if (!S_ISDIR(res->st.st_mode)) {
		return -ENOTDIR;
	}
	if (res->klass == FVM_CLASS_SHARED || (lstat(res->vpath, &st) == 0 && S_ISDIR(st.st_mode))) {
		return CONTINUE;
	}
	if ((r = caller_may(res, X_OK)) < 0) {
		return r;
	}
	if (caller_may(res, R_OK) < 0) {
		/* The fd handed over would let it list a directory it may only enter. */
		snprintf(c->vpath, sizeof(c->vpath), "%.4000s", res->vpath);
		chdir_warn(c);
		return -ENOENT;
	}
	size_t rl = strlen(res->rpath), vl = strlen(res->vpath);
	if (rl >= sizeof(c->vpath2) || vl >= sizeof(c->vpath)) {
		return -ENAMETOOLONG;
	}
	memcpy(c->vpath2, res->rpath, rl + 1);
	memcpy(c->vpath, res->vpath, vl + 1);
	return CHDIR_VIA_FD;
}

/* MSG (LEN bytes) on process PID's own stderr (the supervisor's is /dev/null) and in
 * the VM's log: a warning about what the supervisor could not virtualize for it. */
static void warn_caller(pid_t pid, const char *msg, int len)
{
	char log[PATH_MAX + 8];
	int fd;

	if ((fd = notify_getfd(pid, 2)) >= 0) {
		(void)!write(fd, msg, (size_t)len);
		close(fd);
	}
	snprintf(log, sizeof(log), "%s/" FVM_LOG_FILE, vm.root);
	if ((fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) >= 0) {
		(void)!write(fd, msg, (size_t)len);
		close(fd);
	}
}

/* Says once per run, on the caller's stderr and in the VM's log, that a chdir into
 * C->vpath, a directory only the VM has, could not be virtualized. */
static void chdir_warn(struct vcall *c)
{
	char exe[64], prog[PATH_MAX], msg[2 * PATH_MAX + 300];

	if (c->chdir_warned) {
		return;
	}
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)c->pid);
	ssize_t n = readlink(exe, prog, sizeof(prog) - 1);
	prog[n > 0 ? n : 0] = '\0';
	int len = snprintf(msg, sizeof(msg),
			   "fvm: warning: %s: chdir to %s, a directory only the VM has, is not virtualized "
			   "for a static program or a raw system call whose thread the supervisor cannot trace "
			   "(traced already, or not dumpable): No such file or directory\n",
			   n > 0 ? prog : "a static program", c->vpath);
	warn_caller(c->pid, msg, len);
	c->chdir_warned = true;
}

static long call_by_trace(struct vcall *c, int srcfd, unsigned newfd_flags, const char *name);

/*
 * Waits (bounded, ~2 s) for TID's next ptrace stop and takes it: its wait status, or -1
 * when it exited or did not stop. An exit is only peeked at (WNOWAIT): the status is the
 * real parent's, which may be the supervisor's own main loop (supervise.c).
 */
static int trace_wait(pid_t tid)
{
	for (int i = 0; i < 40000; i++) {
		siginfo_t si;
		int st;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)tid, &si, WSTOPPED | WEXITED | WNOHANG | WNOWAIT | __WALL) < 0) {
			return -1;
		}
		if (si.si_pid == 0) {
			if (i < 100) {
				sched_yield();
			} else {
				struct timespec ts = {0, 50000};
				nanosleep(&ts, NULL);
			}
			continue;
		}
		if (si.si_code != CLD_TRAPPED && si.si_code != CLD_STOPPED) {
			return -1;
		}
		return waitpid(tid, &st, WNOHANG | __WALL) == tid ? st : -1;
	}
	return -1;
}

/* A syscall stop (PTRACE_O_TRACESYSGOOD). */
static bool sys_stop(int st)
{
	return st >= 0 && WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80);
}

/*
 * Resumes TID (at a syscall stop) with PTRACE_SYSCALL and takes its next two syscall
 * stops: the entry and the exit of the call REGS name. Returns the exit's registers in
 * REGS, or false (an unexpected stop, a signal, an exit: *ST is the last status).
 */
static bool trace_call(pid_t tid, struct user_regs_struct *regs, int *st)
{
	if (ptrace(PTRACE_SETREGS, tid, 0, regs) < 0 || ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0 ||
	    !sys_stop(*st = trace_wait(tid)) || ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0 ||
	    !sys_stop(*st = trace_wait(tid))) {
		return false;
	}
	return ptrace(PTRACE_GETREGS, tid, 0, regs) == 0;
}

/*
 * chdir(NAME) of C into the VM-only directory C->vpath2 (docs/DESIGN.md, "chdir into a
 * directory only the VM has"): the supervisor, an ancestor of every process of the run,
 * makes the caller's thread enter it by itself. The directory is opened beneath upper/
 * (or its layer) with no link (O_RDONLY: ADDFD refuses an O_PATH fd) and installed in
 * the caller as fd N (close-on-exec); the thread is seized (PTRACE_SEIZE) and
 * interrupted, which ends the notification: the kernel restarts the chdir at the
 * interrupt stop, where its number becomes fchdir's and its argument N; the fchdir's
 * exit is followed by an injected close(N), then the registers are put back, chdir's
 * result in rax, and the thread is detached. Its memory is never written: no other
 * thread, nor the caller after the call, can see anything but its own name. A thread
 * that cannot be seized (traced already, not dumpable) gets ENOENT and the warning, as
 * before. Returns 0 or -errno, *CONT true to continue the call as it stands.
 */
static long chdir_by_trace(struct vcall *c, const char *name, bool *cont)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	const char *rpath = c->vpath2;
	char proc[64];
	struct stat dst, st;
	pid_t tid = c->pid;
	int dfd;

	*cont = false;
	dfd = in_upper(rpath) || strcmp(rpath, vm.upper) == 0 ? open_upper(rpath, O_RDONLY | O_DIRECTORY, 0)
								: open_host(rpath, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || fstat(dfd, &dst) < 0) {
		if (dfd >= 0) {
			close(dfd);
		}
		chdir_warn(c);
		return -ENOENT;
	}
	/* Already there, or the kernel's own walk of NAME from there leads there (a
	 * relative name from a working directory beneath upper/): no trace needed. */
	snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)tid);
	int cwd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd >= 0) {
		bool there = fstat(cwd, &st) == 0 && st.st_dev == dst.st_dev && st.st_ino == dst.st_ino;
		if (!there && name[0] != '/') {
			long k = syscall(SYS_openat2, cwd, name, &how, sizeof(how));
			there = k >= 0 && fstat((int)k, &st) == 0 && st.st_dev == dst.st_dev && st.st_ino == dst.st_ino;
			if (k >= 0) {
				close((int)k);
				*cont = there;
			}
		}
		close(cwd);
		if (there) {
			close(dfd);
			return 0;
		}
	}
	long r = call_by_trace(c, dfd, O_CLOEXEC, name);
	close(dfd);
	if (r == -EPERM) {
		chdir_warn(c);
		return -ENOENT;
	}
	return r;
}

/*
 * Makes C's thread, stopped in its notified chdir or execve of NAME, make the call on
 * SRCFD's object instead (chdir_by_trace, exec_by_trace): SRCFD is installed in the
 * caller as fd N (NEWFD_FLAGS), the thread seized and interrupted, which ends the
 * notification (the kernel will restart the call); at the interrupt stop the restarted
 * call becomes fchdir(N), or execveat(N, "", argv, envp, AT_EMPTY_PATH) ("" is NAME's
 * own terminating NUL); a chdir's fd, or a failed execveat's, is closed by an injected
 * close(N); the registers are put back with the call's result, and the thread is
 * detached. A successful execveat leaves the new program's registers alone (N was
 * close-on-exec, or is the script's /dev/fd/N). Returns the call's result; -EPERM when
 * the thread cannot be seized (nothing done); -EINTR when a signal came between (the
 * call is made again from its syscall instruction and notified again).
 */
static long call_by_trace(struct vcall *c, int srcfd, unsigned newfd_flags, const char *name)
{
	struct user_regs_struct saved, regs;
	pid_t tid = c->pid;
	int fd, status = 0;
	bool exec = c->nr == SYS_execve;

	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD) < 0) {
		return -EPERM;
	}
	struct seccomp_notif_addfd add = {.id = c->id, .srcfd = (uint32_t)srcfd, .newfd_flags = newfd_flags};
	fd = notify_valid(c->n, c->id) ? (int)ioctl(c->n->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) : -1;
	if (fd < 0) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return -EMFILE;
	}
	/* The interrupt ends the notification: the call is to be restarted (-ERESTARTSYS)
	 * once the stop is over. Anything else (a signal first): detach, untouched; the
	 * call is restarted and notified again. */
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 || (status = trace_wait(tid)) < 0 ||
	    !WIFSTOPPED(status) || (status >> 16) != PTRACE_EVENT_STOP || ptrace(PTRACE_GETREGS, tid, 0, &saved) < 0 ||
	    (long)saved.rax != -512 /* ERESTARTSYS */ || (long)saved.orig_rax != c->nr ||
	    saved.rdi != c->path_addr) {
		goto detach;
	}
	regs = saved;
	if (exec) {
		regs.orig_rax = SYS_execveat;
		regs.rdi = (unsigned long long)fd;
		regs.rsi = c->path_addr + strlen(name);
		regs.rdx = saved.rsi;
		regs.r10 = saved.rdx;
		regs.r8 = AT_EMPTY_PATH;
	} else {
		regs.orig_rax = SYS_fchdir;
		regs.rdi = (unsigned long long)fd;
	}
	if (!trace_call(tid, &regs, &status)) {
		goto restore;
	}
	long result = (long)regs.rax;
	if (exec && result == 0) {
		ptrace(PTRACE_DETACH, tid, 0, 0); /* the new program, as the kernel started it */
		return 0;
	}
	/* close(N), injected at the call's exit: the syscall instruction again */
	regs.rax = SYS_close;
	regs.orig_rax = SYS_close;
	regs.rdi = (unsigned long long)fd;
	regs.rip -= 2;
	if (!trace_call(tid, &regs, &status)) {
		goto restore;
	}
	saved.rax = (unsigned long long)result; /* the call's answer, the rest as it was */
	if (ptrace(PTRACE_SETREGS, tid, 0, &saved) == 0) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return result; /* the notification is gone: notify_serve's answer finds nothing */
	}
restore:
	/* The call made again from its syscall instruction (notified again), as a restart
	 * would; no restart logic applies any more (orig_rax -1). */
	saved.rax = (unsigned long long)c->nr;
	saved.orig_rax = (unsigned long long)-1;
	saved.rip -= 2;
	ptrace(PTRACE_SETREGS, tid, 0, &saved);
detach:
	ptrace(PTRACE_DETACH, tid, 0,
	       status > 0 && WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP && WSTOPSIG(status) != (SIGTRAP | 0x80) &&
			       (status >> 16) == 0
		       ? WSTOPSIG(status)
		       : 0);
	return -EINTR;
}

/*
 * execve(NAME) from an executable's own code of a program only the VM has (upper/'s, or
 * a layer's: exec_in_vm said so, its real path in C->vpath2): made by the caller's
 * thread as execveat of an fd of it (call_by_trace), opened beneath upper/ (or its
 * layer) with no link. A script's fd is not close-on-exec (its interpreter reads it as
 * /dev/fd/N, as fexecve's); its interpreter is looked up by the kernel. Only a thread
 * that is its process's leader (a single-threaded program; Go's os/exec child): the
 * exec of another thread takes the leader's pid, which the trace would lose; such a
 * call, and a thread that cannot be seized, is continued (the kernel's answer, as
 * before). Returns the execve's result, *CONT true to continue.
 */
static long exec_by_trace(struct vcall *c, const char *name, bool *cont)
{
	const char *rpath = c->vpath2;
	char head[2];
	int fd;

	*cont = false;
	if (notify_tgid_of(c->pid) != c->pid) {
		*cont = true;
		return 0;
	}
	fd = in_upper(rpath) ? open_upper(rpath, O_RDONLY, 0) : open_host(rpath, O_RDONLY);
	if (fd < 0) {
		*cont = true; /* unreadable to the supervisor (execute-only): the kernel's answer */
		return 0;
	}
	bool script = pread(fd, head, 2, 0) == 2 && head[0] == '#' && head[1] == '!';
	long r = call_by_trace(c, fd, script ? 0 : O_CLOEXEC, name);
	close(fd);
	if (r == -EPERM) {
		*cont = true;
		return 0;
	}
	return r;
}

/*
 * execve(2) from an executable's own code to RES: a host program (the host's own, or in a
 * shared tree) is the kernel's to run from its name (CONTINUE); one only the VM has is
 * run through an fd (exec_by_trace): this checks that it is a regular file, and leaves
 * the execute permission to the kernel's execveat. Returns EXEC_VIA_FD with the real
 * path in C->vpath2, CONTINUE or -errno.
 */
#define EXEC_VIA_FD (-4093L)

/*
 * Why the program at RPATH, executed by a static caller, will not be virtualized: a
 * reason, or NULL (a dynamic program loads libfvm; a 64-bit static executable's calls
 * come here). The kernel maps an x86-64 static-PIE where libraries lie, outside the
 * ranges the filter notifies; libfvm's exec runs one through fvm-pieload, a static
 * caller's execve does not pass libfvm. A 32-bit static program's calls are not x86-64's.
 */
static const char *exec_unseen(const char *rpath)
{
	unsigned char eh[sizeof(Elf64_Ehdr)];
	int fd = in_upper(rpath) ? open_upper(rpath, O_RDONLY, 0) : open_host(rpath, O_RDONLY);
	const char *why = NULL;

	if (fd < 0) {
		return NULL;
	}
	ssize_t n = pread(fd, eh, sizeof(eh), 0);
	if (n >= (ssize_t)sizeof(Elf32_Ehdr) && memcmp(eh, ELFMAG, SELFMAG) == 0) {
		bool is64 = eh[EI_CLASS] == ELFCLASS64 && n >= (ssize_t)sizeof(Elf64_Ehdr);
		const Elf64_Ehdr *e64 = (const Elf64_Ehdr *)eh;
		const Elf32_Ehdr *e32 = (const Elf32_Ehdr *)eh;
		unsigned type = is64 ? e64->e_type : e32->e_type, machine = is64 ? e64->e_machine : e32->e_machine;
		uint64_t phoff = is64 ? e64->e_phoff : e32->e_phoff;
		unsigned phnum = is64 ? e64->e_phnum : e32->e_phnum;
		size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
		bool interp = false;
		for (unsigned i = 0; i < phnum && i < 256 && !interp; i++) {
			unsigned char ph[sizeof(Elf64_Phdr)];
			if (pread(fd, ph, phsize, (off_t)(phoff + i * phsize)) != (ssize_t)phsize) {
				interp = true; /* unreadable headers: the kernel's to refuse */
				break;
			}
			interp = (is64 ? ((const Elf64_Phdr *)ph)->p_type : ((const Elf32_Phdr *)ph)->p_type) == PT_INTERP;
		}
		if (!interp && (type == ET_EXEC || type == ET_DYN)) {
			if (!is64) {
				why = "a 32-bit static program";
			} else if (type == ET_DYN && machine == EM_X86_64) {
				why = "a static-PIE program run by a static program's execve (libfvm's exec runs "
				      "one through fvm-pieload; a static caller's does not pass libfvm)";
			}
		}
	}
	close(fd);
	return why;
}

/* Says once per run, on the caller's stderr and in the VM's log, that the program a
 * static caller executes runs unvirtualized, and why (exec_unseen). */
static void exec_unseen_warn(struct vcall *c, const char *why)
{
	char msg[PATH_MAX + 400];

	if (c->unseen_warned) {
		return;
	}
	c->unseen_warned = true;
	int len = snprintf(msg, sizeof(msg),
			   "fvm: warning: %s is %s: it is not virtualized, only fenced: it sees the host's "
			   "files, and its changes outside the VM fail\n", c->vpath, why);
	warn_caller(c->pid, msg, len);
}

static long exec_in_vm(struct vcall *c, const struct fvm_res *res)
{
	/* A program the caller may read (the warning tells nothing of one it may only
	 * execute) whose calls the supervisor will not see: said once per run. */
	if (!c->unseen_warned && S_ISREG(res->st.st_mode) && caller_may(res, R_OK) == 0) {
		const char *why = exec_unseen(res->rpath);
		if (why) {
			exec_unseen_warn(c, why);
		}
	}
	if (res->klass == FVM_CLASS_SHARED || (res->where == FVM_HOST && res->layer < 0)) {
		return CONTINUE;
	}
	if (S_ISDIR(res->st.st_mode)) {
		return -EACCES;
	}
	if (!S_ISREG(res->st.st_mode)) {
		return -EACCES;
	}
	/* The fd handed over would let a caller read a program it may only execute (mode
	 * 0711 of another user, in a root run): such a program is left to the kernel. */
	if (caller_may(res, R_OK) < 0) {
		return CONTINUE;
	}
	size_t rl = strlen(res->rpath);
	if (rl >= sizeof(c->vpath2)) {
		return -ENAMETOOLONG;
	}
	memcpy(c->vpath2, res->rpath, rl + 1);
	return EXEC_VIA_FD;
}

bool virt_host_ro_caller(pid_t pid)
{
	char proc[64];
	struct stat theirs, mine;

	snprintf(proc, sizeof(proc), "/proc/%d/ns/mnt", (int)pid);
	return root_run && stat(proc, &theirs) == 0 && stat("/proc/self/ns/mnt", &mine) == 0 &&
	       theirs.st_ino != mine.st_ino;
}

/*
 * mknod's type for C, as the kernel checks it: none is a regular file; a directory
 * EPERM, an unknown type EINVAL. A device node is made only where the caller's copy of
 * the data area is nodev (a root run whose caller lives in the namespace rootfence.c
 * made: it stats as made and never opens); elsewhere the filter's rows refuse devices,
 * and so does this (EPERM): a continued call would skip them. Returns 0 or -errno.
 */
static long mknod_mode(struct vcall *c)
{
	mode_t t = c->omode & S_IFMT;

	if (t == 0) {
		c->omode |= S_IFREG;
		return 0;
	}
	if (t == S_IFDIR) {
		return -EPERM;
	}
	if (t != S_IFREG && t != S_IFIFO && t != S_IFSOCK && t != S_IFCHR && t != S_IFBLK) {
		return -EINVAL;
	}
	if (t == S_IFCHR || t == S_IFBLK) {
		if (!virt_host_ro_caller(c->pid)) {
			return -EPERM;
		}
	}
	return 0;
}

/* Under the caller's credentials (notify_as): resolve in the VM, call, write back. */
static long perform(void *arg)
{
	struct vcall *c = arg;
	struct fvm_res *res = malloc(sizeof(*res));
	long r;

	if (!res) {
		c->result = -ENOMEM;
		return -ENOMEM;
	}
	if (notify_forked) {
		uncached();
	}
	bool nofollow = (c->flags & AT_SYMLINK_NOFOLLOW) || c->nr == SYS_readlink || c->nr == SYS_readlinkat;
	r = fvm_resolve(&vm, c->vpath, nofollow ? FVM_R_NOFOLLOW : 0, res);
	if (r == 0 && in_proc(res->vpath)) {
		r = CONTINUE; /* a link into /proc (/dev/fd...): /proc/self is the caller's */
	}
	if (is_change(c->nr) && r != CONTINUE) {
		struct fvm_res *res2 = NULL;
		if (r == 0 && is_rename(c->nr)) {
			if (!(res2 = malloc(sizeof(*res2)))) {
				r = -ENOMEM;
			} else {
				r = fvm_resolve(&vm, c->vpath2, FVM_R_NOFOLLOW, res2);
				r = r == 0 && in_proc(res2->vpath) ? CONTINUE : r;
			}
		}
		if (r == 0 && (c->nr == SYS_mknod || c->nr == SYS_mknodat)) {
			r = mknod_mode(c);
		}
		if (r == 0) {
			bool mk = c->nr == SYS_mkdir || c->nr == SYS_mkdirat || c->nr == SYS_mknod ||
				  c->nr == SYS_mknodat;
			mode_t old = mk ? umask(notify_umask_of(c->pid)) : 0;
			r = perform_change(c, res, res2);
			if (mk) {
				umask(old);
			}
		}
		free(res2);
		free(res);
		c->result = r;
		return r;
	}
	if (is_open(c->nr) && r != CONTINUE) {
		/* The caller's umask, for what the open creates (an ACL default still wins). */
		bool creates = (c->oflags & O_CREAT) || (c->oflags & O_TMPFILE) == O_TMPFILE;
		mode_t old = creates ? umask(notify_umask_of(c->pid)) : 0;
		r = perform_open(c, res, r);
		if (creates) {
			umask(old);
		}
		free(res);
		c->result = r;
		return r;
	}
	if (r == 0 && res->where == FVM_ABSENT) {
		r = -ENOENT;
	}
	if (r < 0) {
		free(res);
		c->result = r;
		return r;
	}
	if (c->nr == SYS_chdir || c->nr == SYS_execve) {
		r = c->nr == SYS_chdir ? chdir_in_vm(c, res) : exec_in_vm(c, res);
		free(res);
		c->result = r;
		return r;
	}
	bool access_w = (c->nr == SYS_access || c->nr == SYS_faccessat || c->nr == SYS_faccessat2) && (c->mode & W_OK);
	if (!access_w && host_as_named(c, res)) {
		/* (W_OK: a root run's caller sees the host read-only, EROFS, where the VM's
		 * answer is the host's own, so that one is performed) */
		free(res);
		c->result = CONTINUE; /* the kernel's answer for the name is the VM's */
		return CONTINUE;
	}
	/* The object itself: links were followed by the walk where they had to be. In a
	 * root run it is reached as an O_PATH fd with no link, beneath upper/ or the
	 * caller's root (obj_fd); an object of upper/ so in every run, since the walk's
	 * facts may be stale (the VM swapped a directory of its layer for a link meanwhile,
	 * or forged the counter its cache is validated by: the kernel would follow such a
	 * link out of the layer); a host object by AT_FDCWD and RPATH otherwise (the
	 * supervisor has the caller's credentials, and Landlock fences no stat, access or
	 * readlink: the caller's own call reaches as far). */
	int at = AT_FDCWD, empty = 0;
	const char *name = res->rpath;
	if (root_run || in_upper(res->rpath) || strcmp(res->rpath, vm.upper) == 0) {
		if ((at = obj_fd(res->rpath)) < 0) {
			free(res);
			c->result = at;
			return at;
		}
		name = "";
		empty = AT_EMPTY_PATH;
	}
	switch (c->nr) {
	case SYS_stat:
	case SYS_lstat:
	case SYS_newfstatat: {
		struct stat st;
		r = fstatat(at, name, &st, empty | AT_SYMLINK_NOFOLLOW | (c->flags & AT_NO_AUTOMOUNT)) < 0 ? -errno : 0;
		if (r == 0) {
			r = write_out(c, c->out, &st, sizeof(st));
		}
		break;
	}
	case SYS_statx: {
		struct statx stx;
		int f = AT_SYMLINK_NOFOLLOW | (c->flags & (AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE));
		r = statx(at, name, f | empty, c->mask, &stx) < 0 ? -errno : 0;
		if (r == 0) {
			r = write_out(c, c->out, &stx, sizeof(stx));
		}
		break;
	}
	case SYS_access:
	case SYS_faccessat:
	case SYS_faccessat2:
		/* A root run's child holds the caller's fs ids, its real uid is root's: the
		 * check is made with the fs ids (AT_EACCESS), the caller's own. */
		r = syscall(SYS_faccessat2, at, name, c->mode,
			    (root_run ? AT_EACCESS : c->flags & AT_EACCESS) | AT_SYMLINK_NOFOLLOW | empty) < 0 ? -errno : 0;
		if (!root_run && (r == -ENOSYS || r == -EINVAL)) {
			r = faccessat(AT_FDCWD, res->rpath, c->mode, c->flags & AT_EACCESS) < 0 ? -errno : 0;
		}
		break;
	default: { /* readlink, readlinkat */
		char text[PATH_MAX];
		ssize_t n = readlinkat(at, name, text, sizeof(text));
		r = n < 0 ? -errno : 0;
		if (r == 0 && c->outlen == 0) {
			r = -EINVAL;
		}
		if (r == 0) {
			size_t len = (size_t)n < c->outlen ? (size_t)n : c->outlen;
			r = write_out(c, c->out, text, len);
			r = r < 0 ? r : (long)len;
		}
	}
	}
	if (at >= 0) {
		close(at);
	}
	free(res);
	c->result = r;
	return r;
}

/*
 * Reads C's second name: symlink's target into vpath2 as given, rename's new name
 * made virtual from its own base as the first. Returns 1, 0 to continue the call, or
 * -errno (the caller's answer).
 */
static long second_name(struct vcall *c)
{
	char name[PATH_MAX], base[PATH_MAX];
	long r = notify_read_str(c->pid, c->path2_addr, name, sizeof(name));

	if (r < 0) {
		return r;
	}
	if (!is_rename(c->nr)) {
		memcpy(c->vpath2, name, strlen(name) + 1);
		return name[0] ? 1 : -ENOENT;
	}
	if (name[0] == '\0') {
		return -ENOENT;
	}
	if (name[0] == '/') {
		snprintf(c->vpath2, sizeof(c->vpath2), "%s", name);
		return 1;
	}
	if (!caller_base(c->pid, c->dirfd2, base, sizeof(base))) {
		return 0;
	}
	if ((size_t)snprintf(c->vpath2, sizeof(c->vpath2), "%s/%s", base, name) >= sizeof(c->vpath2)) {
		return -ENAMETOOLONG;
	}
	return 1;
}

/*
 * True for a call that truncates without a write open: truncate(2), and open/openat
 * with O_TRUNC and access mode O_RDONLY or 3. Landlock does not fence truncation
 * (fence.c); the main filter's rows refuse these, and a notified call that is
 * continued skips those rows. Such a call is never continued: the rows' EACCES.
 */
static bool truncates(const struct seccomp_notif *req)
{
	const __u64 *a = req->data.args;
	int flags;

	switch (req->data.nr) {
	case SYS_truncate:
		return true;
	case SYS_open:
		flags = (int)a[1];
		break;
	case SYS_openat:
		flags = (int)a[2];
		break;
	default:
		return false;
	}
	return (flags & O_TRUNC) && (flags & O_PATH) != O_PATH &&
	       ((flags & O_ACCMODE) == O_RDONLY || (flags & O_ACCMODE) == O_ACCMODE);
}

/* True when IP lies in an executable's own mapping (the ranges virt_prologue notifies). */
static bool from_executable(uint64_t ip)
{
	return ip < 0x2a0000000000ULL || (ip >= 0x550000000000ULL && ip < 0x570000000000ULL);
}

/* fenced's form of the copy-up a metadata change needs (virt_meta_object): OWNER asks
 * the host's owner rule (mode, owner, xattrs), else the rule of a touch (times). */
static long meta_copy_up(struct vcall *c, struct fvm_res *res, struct fvm_res *res2)
{
	(void)res2;
	return fvm_prepare_write(&vm, res, c->owner ? FVM_MAY_OWN : FVM_MAY_TOUCH, true);
}

/* meta_copy_up in a fenced child, under the caller's fs ids (notify_as): a root run's
 * caller that dropped root is held to the host's owner rule, as libfvm holds it. */
struct meta_up {
	struct vcall *c;
	struct fvm_res *res;
};

static long meta_up_as(void *arg)
{
	struct meta_up *m = arg;

	return fenced(m->c, m->res, NULL, meta_copy_up);
}

int virt_meta_object(const struct notify *n, const struct seccomp_notif *req, int at, const char *path,
		     bool nofollow, bool owner)
{
	static struct vcall *c; /* shared with fenced's child: its answer comes back in it */
	pid_t pid = (pid_t)req->pid;
	char base[PATH_MAX];
	struct fvm_res *res;
	long r;

	if (req->data.arch != SCMP_ARCH_X86_64 || !from_executable(req->data.instruction_pointer) || !vm_ready() ||
	    !path[0]) {
		return -ENOSYS;
	}
	if (!c) {
		void *m = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			return -ENOSYS;
		}
		c = m;
	}
	if (path[0] == '/') {
		if (!same_root(pid)) {
			return -ENOSYS;
		}
		snprintf(c->vpath, sizeof(c->vpath), "%s", path);
	} else if (!caller_base(pid, at, base, sizeof(base))) {
		return -ENOSYS;
	} else if ((size_t)snprintf(c->vpath, sizeof(c->vpath), "%s/%s", base, path) >= sizeof(c->vpath)) {
		return -ENAMETOOLONG;
	}
	if (in_proc(c->vpath) || !(res = malloc(sizeof(*res)))) {
		return -ENOSYS;
	}
	if ((r = caller_root_open(n, req, true)) < 0) {
		caller_root_close();
		free(res);
		return (int)r;
	}
	c->n = n;
	c->id = req->id;
	c->pid = pid; /* a root run's fenced child enters its mount namespace */
	c->owner = owner;
	int how = nofollow ? FVM_R_NOFOLLOW : 0;
	r = fvm_resolve(&vm, c->vpath, how, res);
	if (r == 0 && res->where == FVM_ABSENT) {
		r = -ENOENT;
	} else if (r == 0 && res->klass == FVM_CLASS_SHARED) {
		r = -ENOSYS; /* a shared tree: the kernel's object, under the fence */
	} else if (r == 0 && res->where == FVM_HOST &&
		   (r = notify_as(pid, meta_up_as, &(struct meta_up){c, res})) == 0) {
		r = fvm_resolve(&vm, c->vpath, how, res); /* now the copy in upper/ */
	}
	if (r == 0 && res->where == FVM_UPPER) {
		r = open_upper(res->rpath, O_PATH | (nofollow ? O_NOFOLLOW : 0), 0);
	} else if (r == 0) {
		r = -EIO; /* not copied up: refuse rather than change the host's */
	}
	caller_root_close();
	free(res);
	return (int)r;
}

static long guard_call(const struct notify *n, const struct seccomp_notif *req, bool *cont);

long virt_guard_call(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	long r;

	/* guard_call checks the notification after its reads of a path call; the listing
	 * and getcwd keep the check here */
	bool path_call = req->data.nr != SYS_getdents64 && req->data.nr != SYS_getcwd;
	if (req->data.arch == SCMP_ARCH_X86_64 && (r = caller_root_open(n, req, !path_call)) < 0) {
		caller_root_close();
		*cont = false;
		return r;
	}
	r = guard_call(n, req, cont);
	caller_root_close();

	if (*cont && req->data.arch == SCMP_ARCH_X86_64 && truncates(req)) {
		*cont = false;
		return -EACCES;
	}
	return r;
}

static long guard_call(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	/* Shared with a child notify_as may fork: perform's answer comes back in it. Mapped
	 * once: the supervisor answers one notification at a time. */
	static struct vcall *c;
	char name[PATH_MAX], base[PATH_MAX];
	long r;

	*cont = true;
	if (!c) {
		void *m = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			return 0;
		}
		c = m;
	}
	c->n = n;
	c->id = req->id;
	if (req->data.arch == SCMP_ARCH_X86_64 && req->data.nr == SYS_getdents64) {
		return vm_ready() ? virt_getdents(n, req, cont) : 0;
	}
	if (req->data.arch == SCMP_ARCH_X86_64 && req->data.nr == SYS_getcwd) {
		return vm_ready() ? virt_getcwd(n, req, cont) : 0;
	}
	if (req->data.arch != SCMP_ARCH_X86_64 || !vm_ready() || !decode(req, c)) {
		return 0;
	}
	/* Not checked valid here: nothing below acts on the name before the check that
	 * follows every read of the caller (before notify_as). */
	r = notify_read_str(c->pid, c->path_addr, name, sizeof(name));
	if (r < 0) {
		*cont = false;
		return r;
	}
	if (name[0] == '\0') {
		/* AT_EMPTY_PATH of faccessat2 and readlinkat: the fd's own object, continued */
		*cont = (c->flags & AT_EMPTY_PATH) || c->nr == SYS_readlinkat;
		return *cont ? 0 : -ENOENT;
	}
	c->absolute = name[0] == '/';
	if (name[0] == '/') {
		if (!same_root(c->pid)) {
				return 0;
		}
		snprintf(c->vpath, sizeof(c->vpath), "%s", name);
	} else {
		if (!caller_base(c->pid, c->dirfd, base, sizeof(base))) {
				return 0;
		}
		if ((size_t)snprintf(c->vpath, sizeof(c->vpath), "%s/%s", base, name) >= sizeof(c->vpath)) {
			*cont = false;
				return -ENAMETOOLONG;
		}
	}
	if (c->path2_addr && (r = second_name(c)) != 1) {
		*cont = r == 0;
		return r;
	}
	if (!notify_valid(n, req->id)) {
		*cont = false;
		return -ESRCH;
	}
	*cont = false;
	if (in_proc(c->vpath) || (is_rename(c->nr) && in_proc(c->vpath2))) {
		*cont = true;
		return 0;
	}
	c->result = LONG_MIN; /* perform sets it, in a child notify_as forks as well */
	bool real = (c->nr == SYS_access || c->nr == SYS_faccessat || c->nr == SYS_faccessat2) &&
		    !(c->flags & AT_EACCESS);
	r = (real ? notify_as_real : notify_as)(c->pid, perform, c);
	if (c->result != LONG_MIN) {
		r = c->result;
	}
	if (r == CONTINUE) {
		*cont = true;
		r = 0;
	} else if (r == CHDIR_VIA_FD) {
		r = chdir_by_trace(c, name, cont);
	} else if (r == EXEC_VIA_FD) {
		r = exec_by_trace(c, name, cont);
	}
	return r;
}
