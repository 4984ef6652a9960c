/*
 * fence.c — the kernel fence of a run (run.h): what keeps the host safe from
 * what libfvm cannot see (a static binary, a raw system call, io_uring).
 *
 * Rules:
 *  - Landlock, at the ABI the running kernel offers (probed, never assumed):
 *    every write right but one (write, create, remove, make device/fifo/socket/link,
 *    rename or link across directories) is handled, and granted only beneath the VM's
 *    data area ($FVM_HOME/vms/NAME: never its control area ctl/NAME, nor the rest of
 *    the store; fvm/layout.h), the shared paths (which never cover the store, fvm's
 *    configuration or its binaries: config_protect.c), the VM's own directory beneath
 *    /dev/shm (fvm_ipc_shmdir, made here: libfvm keeps the VM's POSIX shm objects and
 *    semaphores there; the rest of /dev/shm is the host's), /dev/pts, and the
 *    character devices a program writes to
 *    (/dev/null, zero, full, tty, ptmx, random, urandom). Reading: unprivileged runs
 *    also handle READ_FILE and EXECUTE, granted everywhere but other VMs, the control
 *    area, /dev/mqueue and the hide paths (readfence.c); root runs cover those in their
 *    namespace.
 *    ABI >= 6: signals and abstract unix sockets are scoped to the fvm-exec run (two
 *    runs of one VM cannot meet at an abstract socket; a limit, documented).
 *  - Truncation: Landlock's TRUNCATE right (ABI 3) MUST NOT be handled: with it, every
 *    open(2), even O_RDONLY, walks the path to the root to decide the fd's truncate
 *    right (+0.9 us an open here). Instead the seccomp filter (seccomp.c), installed for
 *    every fenced run, refuses each way to truncate without a write open (which
 *    WRITE_FILE refuses): truncate/truncate64 (EACCES, the errno Landlock gave); open,
 *    openat whose flags carry O_TRUNC with access mode O_RDONLY or 3 (Linux truncates
 *    then; EACCES; O_PATH ignores O_TRUNC and passes); open_by_handle_at (EPERM, whole);
 *    openat2 (ENOSYS: its flags are behind a pointer; callers fall back to openat);
 *    io_uring (ENOSYS). The same for i386 programs on x86_64. ftruncate and fallocate
 *    need a write fd. So the fence is as strong at every ABI, ABI < 3 included, and
 *    stronger: a raw truncate(2) of a shared path is refused too (libfvm's truncate()
 *    opens for writing and calls ftruncate, so dynamic programs do not see it).
 *  - The network, what the kernel enforces and what only libfvm does:
 *    --net none, Landlock ABI >= 4 and every --allow rule with a port: TCP sockets may be
 *    made; Landlock refuses their bind and connect (EACCES) but on the rules' ports. The
 *    kernel holds ports only; a rule's address is libfvm's check. Other inet sockets
 *    fail at socket() with EACCES, unless an --allow rule is of their family.
 *    --net none otherwise (ABI < 4, or a rule for every port of an address): seccomp
 *    refuses AF_INET/AF_INET6 sockets with EACCES, but for the families of --allow rules,
 *    which only libfvm holds then.
 *    --net loopback: seccomp allows AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK/
 *    NETLINK_ROUTE (glibc's getaddrinfo and if_nameindex need it); "loopback addresses
 *    only" is libfvm's check alone, Landlock cannot say it.
 *    Every other family fails with EAFNOSUPPORT; on x86_64, i386 socketcall/socket
 *    fail (EAFNOSUPPORT). --net all: no socket rule.
 *  - Always (with the fence): the seccomp rules of seccomp.c's table — the terminal
 *    (TIOCSTI, TIOCLINUX), host-wide state (hostname, clock, keyrings, mounts, modules,
 *    swap, reboot), namespaces, other processes' rlimits and priorities, device nodes —
 *    for the native and the compat ABI; the x32 ABI is ENOSYS.
 *  - Root runs (rootfence.c): the host read-only in a mount namespace but for the trees
 *    Landlock lets the VM write (mounted nodev), and Docker's capability bounding set.
 *  - IPC objects that are no files (SysV objects by key or id, POSIX queues by name:
 *    mq_unlink is no path operation Landlock sees) are the supervisor's IPC guard's
 *    (ipcguard.c, seccomp user notification); /dev/mqueue gets no Landlock right, so a
 *    queue's file there cannot be unlinked or made. libfvm is told by FVM_ENV_SYSV that
 *    the supervisor maps SysV keys. Without an mqueue mount, a broker outside the fence
 *    (mqbroker.c, fvm/mqbroker.h) still opens the VM's queues for writing for libfvm;
 *    its socket is named to libfvm by FVM_ENV_MQ.
 *  - The VM's /dev/shm directory has a predictable name: one found that is not a
 *    directory of this user's, not writable by others but as made here, is refused
 *    (a planted link would carry the VM's writes elsewhere).
 *  - no_new_privs is always set: a setuid program cannot leave the fence.
 *  - The ruleset and the filter are built in fvm-exec (errors before anything runs) and
 *    installed by the child just before the exec, in this order: the root run's
 *    namespace and capabilities, no_new_privs, seccomp, Landlock.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fvm/ipcname.h"
#include "fvm/layout.h"
#include "fvm/mqbroker.h"
#include "run.h"

/* Landlock's UAPI, spelled out: the build host's headers may be older than the kernel. */
#define LL_FS_WRITE_FILE  (1ull << 1)
#define LL_FS_REMOVE_DIR  (1ull << 4)
#define LL_FS_REMOVE_FILE (1ull << 5)
#define LL_FS_MAKE_CHAR   (1ull << 6)
#define LL_FS_MAKE_DIR    (1ull << 7)
#define LL_FS_MAKE_REG    (1ull << 8)
#define LL_FS_MAKE_SOCK   (1ull << 9)
#define LL_FS_MAKE_FIFO   (1ull << 10)
#define LL_FS_MAKE_BLOCK  (1ull << 11)
#define LL_FS_MAKE_SYM    (1ull << 12)
#define LL_FS_REFER       (1ull << 13) /* ABI 2 */
/* LL_FS_TRUNCATE (1ull << 14, ABI 3) is deliberately not handled: see the header. */
#define LL_NET_BIND_TCP    (1ull << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL        (1ull << 1)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT     2
#define LL_CREATE_RULESET_VERSION 1u

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

#define LL_FS_FILE_RIGHTS LL_FS_WRITE_FILE

/* Write rights by the ABI that introduced them. */
static const struct {
	int abi;
	uint64_t rights;
} fs_rights[] = {
	{1, LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR |
		    LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO |
		    LL_FS_MAKE_BLOCK | LL_FS_MAKE_SYM},
	{2, LL_FS_REFER},
};

/* Writable beneath these for every VM; FILE: a device (file rights only). */
static const struct {
	const char *path;
	bool file;
} dev_paths[] = {
	{"/dev/null", true}, {"/dev/zero", true}, {"/dev/full", true}, {"/dev/tty", true},
	{"/dev/ptmx", true}, {"/dev/random", true}, {"/dev/urandom", true},
	{"/dev/pts", false},
};

bool fence_mqueue_mounted(void)
{
	struct statfs sf;
	return statfs("/dev/mqueue", &sf) == 0 && sf.f_type == 0x19800202; /* MQUEUE_MAGIC */
}

size_t fence_writable_trees(const struct exec_settings *s, const char *vmdir, const char *shmdir,
			    struct fence_tree *out, size_t max)
{
	const struct fvm_policy *pol = &s->pol;
	size_t n = 0;

	if (n < max) {
		out[n++] = (struct fence_tree){vmdir, FENCE_TREE_VM};
	}
	if (shmdir && shmdir[0] && n < max) {
		out[n++] = (struct fence_tree){shmdir, FENCE_TREE_DEV};
	}
	for (size_t i = 0; i < sizeof(dev_paths) / sizeof(dev_paths[0]) && n < max; i++) {
		out[n++] = (struct fence_tree){dev_paths[i].path, dev_paths[i].file ? FENCE_TREE_DEVICE : FENCE_TREE_DEV};
	}
	for (uint32_t i = 0; i < pol->nrules && n < max; i++) {
		if (pol->rules[i].klass == FVM_CLASS_SHARED) {
			out[n++] = (struct fence_tree){pol->blob + pol->rules[i].off, FENCE_TREE_SHARED};
		}
	}
	return n;
}

/*
 * Whether Landlock can say --net none (plus --allow rules) for TCP: ABI >= 4, and every
 * allow rule names a port (Landlock rules are ports; "all ports of an address" is not one).
 */
static bool ll_handles_tcp(int abi, const struct fvm_policy *pol)
{
	if (abi < 4 || pol->net != FVM_NET_NONE) {
		return false;
	}
	for (uint32_t i = 0; i < pol->nallow; i++) {
		if (pol->allow[i].port == 0) {
			return false;
		}
	}
	return true;
}

static int ll_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

/* Grants the write rights HANDLED beneath PATH (file rights for a non-directory). */
static int ll_allow_path(int ruleset, const char *path, uint64_t handled)
{
	struct ll_path_beneath_attr attr;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);
	int ret = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
	} else {
		attr.allowed_access = S_ISDIR(st.st_mode) ? handled : handled & LL_FS_FILE_RIGHTS;
		attr.parent_fd = fd;
		if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &attr, 0) < 0) {
			ret = -errno;
		}
	}
	close(fd);
	return ret;
}

static int ll_allow_port(int ruleset, uint16_t port, uint64_t rights)
{
	struct ll_net_port_attr attr = {.allowed_access = rights, .port = port};
	return syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &attr, 0) < 0 ? -errno : 0;
}

void fence_say(struct exec_fence *f, const char *fmt, ...)
{
	size_t l = strlen(f->summary);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->summary + l, sizeof(f->summary) - l, fmt, ap);
	va_end(ap);
}

/*
 * The Landlock part. Returns 0, or -1 when the fence is incomplete (kernel too old,
 * reason in the summary) — an error only under --enforce require.
 */
static int ll_prepare(struct exec_fence *f, const struct exec_settings *s, const char *vmdir)
{
	struct ll_ruleset_attr attr = {0};
	const struct fvm_policy *pol = &s->pol;
	bool complete = true;
	int fd;

	f->abi = ll_abi();
	if (f->abi < 1) {
		fence_say(f, "landlock: not offered by this kernel (writes of static programs are NOT fenced)\n");
		return -1;
	}
	for (size_t i = 0; i < sizeof(fs_rights) / sizeof(fs_rights[0]); i++) {
		if (f->abi >= fs_rights[i].abi) {
			attr.handled_access_fs |= fs_rights[i].rights;
		}
	}
	uint64_t writes = attr.handled_access_fs;
	f->read_rights = readfence_rights(s); /* unprivileged runs, absent hide paths: readfence.c */
	attr.handled_access_fs |= f->read_rights;
	bool net_rules = ll_handles_tcp(f->abi, pol);
	if (net_rules) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	}
	if (f->abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	} else {
		complete = false;
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0) {
		fence_say(f, "landlock: ABI %d, cannot create a ruleset: %s\n", f->abi, strerror(errno));
		return -1;
	}
	f->ruleset_fd = fd;
	struct fence_tree trees[FENCE_MAX_TREES];
	size_t ntrees = fence_writable_trees(s, vmdir, f->shmdir, trees, FENCE_MAX_TREES), nshared = 0;
	for (size_t i = 0; i < ntrees; i++) {
		int r = ll_allow_path(fd, trees[i].path, writes);
		if (trees[i].kind == FENCE_TREE_VM && r < 0) {
			fence_say(f, "landlock: %s: %s\n", vmdir, strerror(-r));
			return -1;
		} else if (trees[i].kind == FENCE_TREE_SHARED && r < 0) {
			fence_say(f, "landlock: shared path %s does not exist: not writable in the VM\n", trees[i].path);
		} else if (trees[i].kind == FENCE_TREE_SHARED) {
			nshared++;
		} /* a device or IPC place absent here is not needed */
	}
	for (size_t i = 0; i < s->ndevices; i++) { /* device = PATH: the VM may write it */
		int r = ll_allow_path(fd, s->devices[i], writes);
		if (r < 0) {
			fence_say(f, "landlock: device %s: %s\n", s->devices[i], strerror(-r));
			return -1;
		}
	}
	fence_say(f, "landlock: ABI %d: writes only beneath the VM, %zu shared path%s, %s, "
	       "/dev/pts and the usual devices\n",
	    f->abi, nshared, nshared == 1 ? "" : "s", f->shmdir[0] ? f->shmdir : "(no /dev/shm directory)");
	if (net_rules) {
		for (uint32_t i = 0; i < pol->nallow; i++) {
			ll_allow_port(fd, pol->allow[i].port, LL_NET_BIND_TCP | LL_NET_CONNECT_TCP);
		}
		f->tcp_fenced = true;
		fence_say(f, "landlock: tcp bind/connect denied (EACCES)%s; by port only: addresses are libfvm's\n",
		    pol->nallow ? " except the ports of --allow rules" : "");
	} else if (pol->net == FVM_NET_NONE) {
		fence_say(f, "landlock: tcp not restricted by port (%s): seccomp refuses inet sockets instead\n",
		    f->abi < 4 ? "ABI < 4" : "an --allow rule opens every port");
	} else if (pol->net != FVM_NET_ALL) {
		fence_say(f, "landlock: tcp not restricted by port (%s): libfvm checks addresses\n",
		    f->abi < 4 ? "ABI < 4" : "--net loopback names addresses, not ports");
	}
	fence_say(f, f->abi >= 6 ? "landlock: signals and abstract unix sockets scoped to the VM\n"
			   : "landlock: signals and abstract unix sockets NOT scoped (ABI < 6)\n");
	return complete ? 0 : -1;
}

/*
 * Under Landlock, with no mqueue mount to attach a rule to, starts the queue broker and
 * names it to libfvm. Without it a queue cannot be opened for writing: said, not fatal.
 */
static void mq_prepare(struct exec_fence *f, const char *vmdir)
{
	char val[32];
	int r;

	if (f->ruleset_fd < 0 || !mq_broker_needed()) {
		return;
	}
	if ((r = mq_broker_open(vmdir, &f->mq, &f->mq_fd)) < 0) {
		fence_say(f, "landlock: no mqueue mount and no queue broker (%s): mq_open for writing fails\n",
		    strerror(-r));
		return;
	}
	/* The pid SO_PEERCRED reports on a socketpair: its creator's, fvm-exec's. */
	snprintf(val, sizeof(val), "%d:%d", f->mq_fd, (int)getpid());
	setenv(FVM_ENV_MQ, val, 1);
	fence_say(f, "landlock: no mqueue mount at /dev/mqueue: queues are opened for writing by the "
	       "run's supervisor, outside the fence, for the VM's names only\n");
}

/*
 * In a root run, starts the copy-up broker (cubroker.c) and names it to libfvm: the
 * processes of the VM that change uid get their copy-ups made with the host's owner.
 * Without it they fail with EACCES: said, not fatal.
 */
static void cu_prepare(struct exec_fence *f, const char *vmdir)
{
	int r;

	if (!f->root) {
		return;
	}
	if ((r = cu_broker_prepare(vmdir, &f->cu)) < 0) {
		fence_say(f, "root: no copy-up broker (%s): a process that changes uid cannot copy up\n",
			  strerror(-r));
		return;
	}
	setenv(FVM_ENV_CU, f->cu.path, 1);
	fence_say(f, "root: copy-ups of processes that change uid are made by the run's supervisor\n");
}

/*
 * The VM's directory beneath /dev/shm (fvm_ipc_shmdir), made here, outside the fence:
 * 0700 and the user's, or 01777 and root's in a root run (whose processes may change
 * uid; each object's mode decides then, as in /dev/shm itself). Its name is predictable,
 * so one found must be a directory of ours, not writable by others but as made here:
 * anything else (another user's, a link) is refused. No /dev/shm: "" and 0. Returns 0,
 * or -1 after a message.
 */
static int shm_dir_prepare(struct exec_fence *f, const char *vmdir)
{
	char prefix[FVM_IPC_PREFIX_MAX];
	bool root = geteuid() == 0;
	mode_t want = root ? 01777 : 0700;
	struct stat st;

	f->shmdir[0] = '\0';
	if (stat(FVM_SHM_ROOT, &st) < 0 || !S_ISDIR(st.st_mode)) {
		return 0;
	}
	if (fvm_ipc_prefix(vmdir, prefix, sizeof(prefix)) < 0 ||
	    fvm_ipc_shmdir(prefix, f->shmdir, sizeof(f->shmdir)) < 0) {
		fprintf(stderr, "fvm-exec: %s: VM name too long for an IPC prefix\n", vmdir);
		return -1;
	}
	if (mkdir(f->shmdir, 0700) == 0 && root && chmod(f->shmdir, want) < 0) {
		fprintf(stderr, "fvm-exec: %s: %s\n", f->shmdir, strerror(errno));
		return -1;
	}
	if (lstat(f->shmdir, &st) < 0) {
		fprintf(stderr, "fvm-exec: %s: %s\n", f->shmdir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || ((st.st_mode & 022) && (st.st_mode & 07777) != want)) {
		fprintf(stderr, "fvm-exec: %s: not a directory of this user's (planted?): refusing to run; "
				"remove it\n", f->shmdir);
		return -1;
	}
	return 0;
}

int fence_prepare(struct exec_fence *f, const struct exec_settings *s, const char *vmdir)
{
	bool complete = true;

	memset(f, 0, sizeof(*f));
	f->ruleset_fd = -1;
	f->mq_fd = -1;
	f->verbose = s->verbose;
	f->mq.sock = -1;
	f->cu.listen = f->cu.handoff = f->cu.child_end = f->cu.ns = -1;
	f->notify.sock = f->notify.child_sock = f->notify.fd = -1;
	unsetenv(FVM_ENV_MQ); /* an outer run's broker is not this VM's */
	unsetenv(FVM_ENV_CU);
	unsetenv(FVM_ENV_SYSV);
	unsetenv(FVM_ENV_VIRT);
	unsetenv(FVM_ENV_QUOTA);
	if (s->enforce == ENFORCE_OFF) {
		f->off = true;
		fence_say(f, "fence: off (--enforce off): static programs and raw system calls can write to the host\n");
		return 0; /* libfvm makes the VM's /dev/shm directory when it needs it */
	}
	if (shm_dir_prepare(f, vmdir) < 0) {
		return -1;
	}
	if (ll_prepare(f, s, vmdir) < 0) {
		complete = false;
	}
	mq_prepare(f, vmdir);
	rootfence_prepare(f, s, vmdir);
	cu_prepare(f, vmdir);
	readfence_prepare(f, s, vmdir);
	if (f->reads_error) {
		return -1;
	}
	int r = notify_prepare(&f->notify, s, vmdir, f->shmdir);
	if (r < 0) {
		fprintf(stderr, "fvm-exec: cannot prepare the supervisor's seccomp listener: %s\n", strerror(-r));
		return -1;
	}
	f->notify.ruleset_fd = f->ruleset_fd; /* complete: readfence_prepare added its rules */
	/* The store's cache/ beside vms/ (VMDIR is STORE/vms/NAME): compiled filters. */
	static char cache[PATH_MAX];
	struct filter_opts o = {.tcp_fenced = f->tcp_fenced, .ptrace_scoped = f->ruleset_fd >= 0};
	const char *name = strrchr(vmdir, '/');
	size_t vms = sizeof(FVM_VMS_DIR) - 1;
	if (name && (size_t)(name - vmdir) > vms && memcmp(name - vms, FVM_VMS_DIR, vms) == 0 &&
	    name[-(int)vms - 1] == '/' &&
	    (size_t)snprintf(cache, sizeof(cache), "%.*s/cache", (int)(name - vmdir - (ptrdiff_t)vms - 1), vmdir) <
		    sizeof(cache)) {
		o.cache = cache;
	}
	if (fence_filter_build(&f->filter[0], s, &o) < 0) {
		return -1;
	}
	o.nodev = o.host_ro = true;
	if (f->root && fence_filter_build(&f->filter[1], s, &o) < 0) {
		return -1;
	}
	/* Under a seccomp filter already (an outer run's, when fvm-exec runs in a VM), the
	 * kernel may refuse this run a listener: the fallback is built now, before the fork. */
	if (f->filter[0].notify && prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2) {
		o.no_listener = true;
		o.nodev = false;
		if (fence_filter_build(&f->nested[0], s, &o) < 0) {
			return -1;
		}
		o.nodev = true;
		if (f->root && fence_filter_build(&f->nested[1], s, &o) < 0) {
			return -1;
		}
	}
	fence_filter_say(&f->filter[f->root], f, s, f->tcp_fenced);
	/* The supervisor maps SysV keys (ipcguard.c): libfvm must not map them again. */
	setenv(FVM_ENV_SYSV, "1", 1);
	/* It resolves a static program's path calls in the VM (virtguard.c, seccomp.c's
	 * virt_prologue), in root runs too: libfvm need not warn at its exec. */
	if (f->filter[0].notify) {
		setenv(FVM_ENV_VIRT, "1", 1);
	}
	/* With a disk-limit it accounts every write of the VM (quotaguard.c's rows). */
	if (f->filter[0].notify && s->pol.disk_limit) {
		setenv(FVM_ENV_QUOTA, quota_guard_env(), 1);
		fence_say(f, "seccomp: disk-limit: write, pwrite64, writev, pwritev, pwritev2, ftruncate, fallocate, "
			     "copy_file_range, sendfile and splice notified unless libfvm counted them (its marker): "
			     "the supervisor counts stdio's, static programs' and raw writes into the layer\n");
	}
	fence_say(f, "seccomp: SysV IPC and mq_open/mq_unlink notified: the supervisor maps SysV keys, lets "
		     "calls on an id through for the VM's objects (or reads) only, opens and unlinks the VM's "
		     "queues only (EACCES otherwise); i386 SysV ENOSYS\n");
	fence_say(f, "no_new_privs: set\n");
	if (!complete && s->enforce == ENFORCE_REQUIRE) {
		fprintf(stderr, "fvm-exec: --enforce require: the kernel fence is incomplete (fvm doctor says why and the fix):\n%s",
			f->summary);
		return -1;
	}
	return 0;
}

int fence_apply(const struct exec_fence *f)
{
	bool nodev = false;
	int notify_fd, r;

	if (f->off) {
		return 0; /* --enforce off */
	}
	if ((r = rootfence_apply(f, &nodev)) < 0) {
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		return -errno;
	}
	if (f->mq_fd >= 0 && fcntl(f->mq_fd, F_SETFD, 0) < 0) { /* the VM keeps it */
		return -errno;
	}
	if (f->cu.child_end >= 0 && (r = cu_broker_send_ns(f->cu.child_end)) < 0 && f->verbose) {
		fprintf(stderr, "fvm-exec: no copy-up broker: %s\n", strerror(-r));
	}
	bool nested;
	if ((r = fence_filter_install(&f->filter[nodev], &f->nested[nodev], &notify_fd, &nested)) < 0) {
		return r;
	}
	if (nested) {
		unsetenv(FVM_ENV_QUOTA); /* no rows of this run's: libfvm counts the writes */
	}
	if (nested && f->verbose) {
		fprintf(stderr, "fvm-exec: seccomp: nested in a run whose filter has the listener (EBUSY): the "
				"calls this run's supervisor would answer fail closed instead (under unix = vm, "
				"connect, sendmsg, sendmmsg and sendto with an address EACCES; another "
				"process's scheduling, priorities and limits EPERM)\n");
	}
	if (f->notify.child_sock >= 0 && (r = notify_send(&f->notify, notify_fd)) < 0) {
		return r; /* the supervisor answers the SCMP_ACT_NOTIFY calls (notify.c) */
	}
	if (f->ruleset_fd >= 0) {
		if (syscall(SYS_landlock_restrict_self, f->ruleset_fd, 0) < 0) {
			return -errno;
		}
		close(f->ruleset_fd);
	}
	return 0;
}
