/*
 * run.h — what fvm-exec does around the command: VM-wide cgroups (cgroup.c),
 * per-process quotas (quota.c), the kernel fence (fence.c: Landlock; seccomp.c: the
 * filter; rootfence.c: what root runs add; readfence.c: the read rules of unprivileged
 * runs), the queue broker
 * (mqbroker.c) and the supervision of the whole process tree (supervise.c).
 *
 * Order of a run: cgroup_setup and fence_prepare in fvm-exec (errors are exit 125
 * before anything runs); then, in the child, cgroup_join, quota_apply, fence_apply and
 * the exec; the run's supervisor (supervise.c) stays until the VM's last process has
 * exited, then cgroup_remove.
 */
#ifndef FVM_RUN_RUN_H
#define FVM_RUN_RUN_H

#include <linux/capability.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "fvm/ipcname.h"
#include "store/history.h"

/* ---- cgroups ---- */

#define CG_MAX 4

struct exec_cgroup {
	char dir[CG_MAX][4096]; /* the run's cgroup in each hierarchy used */
	bool v2[CG_MAX];
	int n;
	bool memory, pids; /* whether --memory-total / --pids-total are applied */
};

/*
 * Creates this run's cgroups (named after VM and the pid) where fvm-exec may, and
 * applies --memory-total and --pids-total. A limit that cannot be applied is written
 * to WHY (and the function returns -1); the run may go on without it. Returns 0 or -1.
 */
int cgroup_setup(struct exec_cgroup *cg, const char *vm, const struct exec_settings *s, char *why,
		 size_t whylen);

/*
 * fork(), with the child born in CG's v2 cgroup where there is one (clone3
 * CLONE_INTO_CGROUP), which spares cgroup_join its slowest move; an ordinary fork where
 * clone3 is refused. Returns as fork does. The parent must be single-threaded (the child
 * of a raw clone3 has no fork handlers run).
 */
pid_t cgroup_fork(const struct exec_cgroup *cg);

/*
 * In the child: moves the calling process into the run's cgroups it is not already in
 * (cgroup_fork's). Returns 0 or -errno.
 */
int cgroup_join(const struct exec_cgroup *cg);

/* Appends the pids of the run's cgroups to OUT (at most MAX in all); returns the count. */
size_t cgroup_pids(const struct exec_cgroup *cg, pid_t *out, size_t n, size_t max);

/* Removes the run's cgroups; those still busy are kept in CG. True when none is left. */
bool cgroup_remove(struct exec_cgroup *cg);

/* What the run's cgroups say about its quotas. */
struct cgroup_events {
	unsigned long long oom_kills; /* processes the memory limit killed */
	unsigned long long pids_max;  /* forks the pids limit refused */
};

/*
 * Overwrites S's CPU times and peak memory with the cgroups' (and their sources with
 * "cgroup") where a cgroup of CG keeps them, and reads the quota events into E.
 */
void cgroup_account(const struct exec_cgroup *cg, struct run_stats *s, struct cgroup_events *e);

/* ---- accounting (account.c; the record: store/history.h) ---- */

/* The baseline of a run, taken by its supervisor before the command starts. */
struct run_account {
	const char *vmdir;             /* the VM's data area (its origins log, its layer) */
	long long start_ms;            /* CLOCK_REALTIME */
	unsigned long long start_mono; /* CLOCK_MONOTONIC, ms */
	unsigned long long io[4];      /* the reaped tree's I/O so far (none: zeros) */
	unsigned long long origins_at; /* the origins log's size */
	unsigned long long procs_at;   /* the state file's count of processes started */
};

/* How the command ended, as the supervisor saw it. */
struct account_end {
	int status;                  /* its wait status */
	bool timed_out;              /* --timeout ran out */
	unsigned long long cmd_cpu_ms; /* its own CPU time (wait4) */
};

/* In the supervisor, before the command is forked: A's baseline for VMDIR. */
void account_begin(struct run_account *a, const char *vmdir);

/*
 * The run's figures since A began into S, with how the command ended (HOW) and the
 * quota that stopped it under the settings SET; LAYER: the layer's size is measured
 * too (a walk of upper/), else it is HISTORY_UNKNOWN.
 */
void account_figures(const struct run_account *a, const struct exec_cgroup *cg, const struct exec_settings *set,
		     const struct account_end *how, bool layer, struct run_stats *s);

/* S as one line "fvm-exec: VM NAME: ... wall, ... user, ..." on OUT (--stats). */
void account_summary(FILE *out, const char *vm, const struct run_stats *s);

/* ---- determinism (determ.c) ---- */

/*
 * Sets the environment for C's determinism options (FVM_DET, SOURCE_DATE_EPOCH, TZ,
 * LANG, LC_ALL) and remembers what the child applies. Returns 0 (errors exit 125).
 */
int determ_setup(const struct exec_config *c);
/* In the child, before the exec: the umask and ADDR_NO_RANDOMIZE. 0, or -1 (printed). */
int determ_child(void);

/*
 * --repro N (repro.c): runs CMD in fresh VMs under varied conditions with the other
 * options of CLI, in the store HOME (NULL: the default), compares and reports. Returns
 * the exit status: 0 reproducible, 1 not, 125 an error.
 */
int repro_run(const struct exec_config *cli, char **cmd, unsigned long nruns, const char *home);

/* ---- quotas ---- */

/*
 * In the child: sets the rlimits, niceness and CPU affinity of S. On failure prints
 * "fvm-exec: --OPTION VALUE: reason" and returns -1.
 */
int quota_apply(const struct exec_settings *s);

/*
 * Before the command, under the run lock, when S sets disk-limit or files-limit: counts
 * VMDIR's upper/ (as fvm list does) and sets the usage words of its state file that
 * libfvm checks (libfvm/core/quota.c), so a reset, a commit or anything libfvm did not
 * see is taken into account. Returns 0, or -1 (reported: the limits then hold from the
 * words as they were).
 */
int quota_layer_recount(const char *vmdir, const struct exec_settings *s);

/* ---- the kernel fence ---- */

/* What the seccomp filter depends on besides the policy. */
struct filter_opts {
	bool tcp_fenced;    /* Landlock refuses TCP bind/connect but the allowed ports */
	bool nodev;         /* the VM's writable trees are mounted nodev (rootfence.c) */
	bool ptrace_scoped; /* a Landlock domain scopes ptrace-checked calls */
	bool host_ro;       /* the host is read-only in the root run's namespace (rootfence.c) */
	bool no_listener;   /* nested: the SCMP_ACT_NOTIFY rules fail closed instead */
	const char *cache;  /* the store's cache/ for compiled filters (seccomp.c), or NULL */
};

/* A generated seccomp filter (seccomp.c). */
struct exec_filter {
	struct sock_fprog prog;
	int nrules;
	bool notify;                 /* some rule is SCMP_ACT_NOTIFY: install returns its fd */
	bool nodev, full_inet, full_inet6;
};

/* unix = vm: what the supervisor's connect(2) answer needs (unixguard.c). */
struct unix_guard {
	const struct fvm_policy *pol;   /* shared paths */
	char upper[PATH_MAX];           /* the VM's data area: its sockets are the VM's */
	const char *const *allow;       /* --allow unix:PATH */
	size_t nallow;
};

/* The metadata guard (metaguard.c): the trees whose objects' metadata the VM may
 * change, as Landlock lets it write them (fence_writable_trees), resolved. */
#define FENCE_MAX_TREES (FVM_POLICY_MAX_RULES + 11)
/* ext4's inode-metadata ioctls the UAPI headers do not name (seccomp.c, metaguard.c). */
#define META_EXT4_IOC_SETVERSION   _IOW('f', 4, long)
#define META_EXT4_IOC32_SETVERSION _IOW('f', 4, int)
#define META_EXT4_IOC_MIGRATE      _IO('f', 9)
struct meta_guard {
	size_t n;
	struct {
		char *path; /* canonical (realpath, allocated); those absent here are left out */
		bool file;  /* a device file: that object only */
		dev_t dev;  /* its identity, for an object whose path /proc cannot give */
		ino_t ino;
	} tree[FENCE_MAX_TREES];
};

/*
 * The supervisor's seccomp listener (notify.c). The child installs the filter, whose
 * SCMP_ACT_NOTIFY rules hand calls to the supervisor, and names the listener over SOCK
 * before exec (the supervisor takes it with pidfd_getfd); the supervisor takes it (notify_take) and answers each
 * notification (notify_serve) through the handler its system call is routed to.
 */
struct notify {
	int sock;                       /* the supervisor's end of the socketpair, -1: none */
	int child_sock;                 /* the child's end (the fence sends the listener) */
	int fd;                         /* the seccomp listener, -1: not yet taken */
	const char *vmdir;              /* the VM's data area */
	struct unix_guard unixg;        /* connect(2) under unix = vm */
	struct meta_guard meta;         /* chmod, chown, utimes, xattrs, inode flags */
	struct ipc_guard *ipcg;         /* SysV and POSIX queues (ipcguard.c) */
	int ruleset_fd;                 /* the VM's Landlock ruleset (fence.c), under which the
					   supervisor writes on a caller's behalf (virtguard.c);
					   -1: none */
};

#define FENCE_MAX_WRITABLE (FVM_POLICY_MAX_RULES + 4)
/* The copy-up broker of a root run (see below). */
struct cu_broker {
	int listen;         /* the listening socket, nonblocking; -1: no broker */
	int handoff;        /* the supervisor's end of the namespace handoff, -1: taken */
	int child_end;      /* the command's end: it sends its mount namespace, then closes */
	int ns;             /* the VM's mount namespace, -1: not yet received */
	char path[108];     /* the socket's path (FVM_ENV_CU), in the VM's data area */
};

/* The message-queue broker's end of its socket (see below). */
struct mq_broker {
	int sock;                          /* the broker's end, nonblocking; -1: no broker */
	char prefix[FVM_IPC_PREFIX_MAX];   /* the VM's IPC names */
};


struct exec_fence {
	bool off;              /* --enforce off */
	bool verbose;          /* -v: the child says what it could not set up */
	int ruleset_fd;        /* Landlock ruleset, -1: none */
	int abi;               /* Landlock ABI, 0: none */
	bool tcp_fenced;       /* Landlock refuses TCP bind/connect but the allowed ports */
	char shmdir[FVM_IPC_PREFIX_MAX + 16]; /* the VM's directory beneath /dev/shm, "": none */
	uint64_t read_rights;  /* Landlock read rights handled (readfence.c), 0: none */
	bool reads_error;      /* readfence_prepare failed (said): the run must not start */
	int mq_fd;             /* the VM's end of the queue broker's socket, -1: none */
	struct mq_broker mq;   /* the broker's end, for the supervisor */
	struct cu_broker cu;   /* root: the copy-up broker (listen -1: none) */
	bool root;             /* root run: mount namespace and bounding set (rootfence.c) */
	struct {
		const char *path;
		bool dev;      /* device nodes open beneath it (/dev/pts) */
	} writable[FENCE_MAX_WRITABLE]; /* root: what stays writable in the namespace */
	size_t nwritable;
	/* root: the store's areas other VMs' layers and the control area live in, the
	 * policy file libfvm reads (FVM_POLICY), and the hide paths covered by empty
	 * read-only tmpfs trees in the namespace (rootfence.c) */
	char vms[4096], ctl[4096], policy[4096];
	const char *vmdir;
	/* root: the store's layers/ (covered too) and the VM's own layer trees, bound back
	 * read-only (read from ctl/NAME/layers before the control area is covered) */
	char layers[4096];
	char (*own_layers)[4096];
	size_t nown_layers;
	const char *hidden[FVM_POLICY_MAX_RULES + 1]; /* + /dev/mqueue (fence_mqueue_mounted) */
	size_t nhidden;
	/* root: the block devices (device = PATH) whose nodes under /dev stay openable */
	const dev_t *devices;
	size_t ndevices;
	/* [0]: mknod of devices refused; [1]: for a root run whose writable trees are nodev */
	struct exec_filter filter[2];
	/* The same without a listener, for a run nested in another fvm-exec's (built only
	 * when fvm-exec itself runs under a seccomp filter; prog.filter NULL otherwise) */
	struct exec_filter nested[2];
	struct notify notify;  /* the listener goes to the supervisor (notify.c) */
	char summary[2048];    /* what is active, for -v */
};

/*
 * Prepares the fence for S in fvm-exec: the Landlock ruleset (writes beneath VMDIR and
 * the shared paths only), the seccomp filter, the root run's plan. Under --enforce
 * require an incomplete fence is an error (-1 after a message); under auto it is said
 * in summary.
 */
int fence_prepare(struct exec_fence *f, const struct exec_settings *s, const char *vmdir);

/* In the child: the root run's namespace and capabilities, no_new_privs, seccomp,
 * Landlock. Returns 0 or -errno. */
int fence_apply(const struct exec_fence *f);

/* Appends a line to F->summary. */
void fence_say(struct exec_fence *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What Landlock lets the VM write (fence.c), one list for every part of the fence. */
enum fence_tree_kind {
	FENCE_TREE_VM,     /* the VM's data area */
	FENCE_TREE_DEVICE, /* a character device a program writes (/dev/null...): that file */
	FENCE_TREE_DEV,    /* /dev/pts, /dev/shm, /dev/mqueue */
	FENCE_TREE_SHARED, /* a shared path of the policy */
};
struct fence_tree {
	const char *path;
	enum fence_tree_kind kind;
};

/* The trees of S and VMDIR into OUT (at most MAX); returns their number. */
/*
 * An mqueue file system is mounted at /dev/mqueue (systemd mounts one). A read-only
 * open of a queue's file there is a queue descriptor: mq_timedreceive takes the host's
 * messages through it, mq_notify its notification. So the fence keeps /dev/mqueue's
 * files unopenable in the VM: Landlock's read right withheld (readfence.c), an empty
 * read-only mount over it in a root run's namespace (rootfence.c).
 */
bool fence_mqueue_mounted(void);

size_t fence_writable_trees(const struct exec_settings *s, const char *vmdir, const char *shmdir,
			    struct fence_tree *out, size_t max);

/* seccomp.c: builds the filter for S and O into OUT; returns 0, or -1 after a message. */
int fence_filter_build(struct exec_filter *out, const struct exec_settings *s, const struct filter_opts *o);

/*
 * seccomp.c, in the child: installs F. *NOTIFY_FD is the user-notification fd of a
 * filter with SCMP_ACT_NOTIFY rules (for a supervisor), else -1. When a filter already
 * on the process has a listener (a run nested in another run: the kernel allows one
 * listener per process, EBUSY), NESTED is installed instead if it was built (its
 * prog.filter not NULL) and *NESTED_USED is set. Returns 0 or -errno.
 */
int fence_filter_install(const struct exec_filter *f, const struct exec_filter *nested, int *notify_fd,
			 bool *nested_used);

/* seccomp.c: says what F refuses, for -v. */
void fence_filter_say(const struct exec_filter *f, struct exec_fence *fence, const struct exec_settings *s,
		      bool tcp_fenced);

/* rootfence.c: when fvm-exec is root, plans the namespace's writable trees (VMDIR, the
 * shared paths of S, /dev/shm, /dev/mqueue, /dev/pts) and says so. */
void rootfence_prepare(struct exec_fence *f, const struct exec_settings *s, const char *vmdir);

/*
 * rootfence.c, in the child of a root run: the read-only mount namespace (*NODEV: it
 * holds, and the writable trees are nodev) and the capability bounding set. Returns 0
 * or -errno.
 */
int rootfence_apply(const struct exec_fence *f, bool *nodev);

/* readfence.c: the Landlock read rights a run handles: those of reads for an
 * unprivileged run; for root, whose mount namespace covers what exists at the start,
 * only when a hide path does not exist yet (else 0). */
uint64_t readfence_rights(const struct exec_settings *s);

/*
 * readfence.c, in fvm-exec, after rootfence_prepare: in an unprivileged run, adds to
 * F's ruleset the read rules that keep other VMs (of the store FVM_HOME), the control
 * area but this run's policy (FVM_POLICY) and the hide paths of S unreadable, VMDIR
 * readable; says so, or that reads are not kernel-protected. On an error it says why
 * on stderr and sets F->reads_error.
 */
void readfence_prepare(struct exec_fence *f, const struct exec_settings *s, const char *vmdir);

/* ---- the copy-up broker of a root run (fvm/cubroker.h) ---- */

/* In fvm-exec: names broker B of the VM at VMDIR (B->path) and makes its namespace
 * handoff. 0 or -errno. */
int cu_broker_prepare(const char *vmdir, struct cu_broker *b);

/* In the supervisor, before the command's exec: binds B's socket at B->path and
 * listens. 0, or -errno (B is then no broker: every descriptor of it closed). */
int cu_broker_listen(struct cu_broker *b);

/* In the command's process, in the fence's namespace: sends it on CHILD_END (closed). */
int cu_broker_send_ns(int child_end);

/* In the supervisor: takes the namespace from B->handoff, without waiting, and closes
 * the handoff once the message (or its end) came. 0, -EAGAIN (not sent yet) or -EIO. */
int cu_broker_take_ns(struct cu_broker *b);

/*
 * Accepts every pending connection on B->listen and forks a child for each, which
 * answers it; the namespace is taken first (cu_broker_take_ns) if it was not yet: a
 * run that asks nothing never wakes the supervisor for it. Returns 1, or -1 on an
 * error of the socket.
 */
int cu_broker_serve(struct cu_broker *b);

/* ---- the message-queue broker (fvm/mqbroker.h) ---- */

/* Whether fenced processes need the broker: /dev/mqueue is not an mqueue mount. */
bool mq_broker_needed(void);

/*
 * Makes the broker of the VM at VMDIR: B, served by the run's supervisor, and *VM_END,
 * the close-on-exec socket to hand to the VM. Returns 0 or -errno.
 */
int mq_broker_open(const char *vmdir, struct mq_broker *b, int *vm_end);

/*
 * Serves one request waiting on B's socket. Returns 1 (served, or nothing to serve), 0
 * when every process of the VM has closed its end, -1 on an error of the socket.
 */
int mq_broker_serve(const struct mq_broker *b);

/* ---- the supervisor's seccomp listener (notify.c) ---- */

/* In fvm-exec: prepares N for S (the socketpair, each handler's state). 0 or -errno. */
/* SHMDIR: the VM's directory beneath /dev/shm (fence.c), "": none. */
int notify_prepare(struct notify *n, const struct exec_settings *s, const char *vmdir, const char *shmdir);

/* In the child, after the filter: names NOTIFY_FD (-1: the filter has no listener) to
 * the supervisor, which takes it before GO (supervise.c); NOTIFY_FD stays open until
 * the exec. 0, or -errno when a listener could not be named (it is closed then). */
int notify_send(const struct notify *n, int notify_fd);

/* In the supervisor: waits for the child to name its listener on N->sock and takes it
 * into N->fd (pidfd_getfd; N->sock is closed). Returns 0, or -1 when there is none
 * (the child named none, or ended first). */
int notify_take(struct notify *n);

/* In the supervisor: answers one notification of N->fd. Returns 0, or -1 when the
 * listener is dead (no process of the VM holds the filter any more). */
int notify_serve(struct notify *n);

/*
 * A handler: answers the notification REQ (its pid, system call, arguments) with a
 * result (0 or -errno, or a value >= 0 the call returns), or sets *CONT to let the
 * kernel run the call as asked. Every read of the caller (memory, /proc, fds) is
 * followed by notify_valid before anything is decided on it.
 */
typedef long notify_fn(const struct notify *n, const struct seccomp_notif *req, bool *cont);

/* A process's credentials, from /proc/PID/status. */
#define NOTIFY_GROUPS_MAX 256
struct notify_creds {
	uid_t ruid, euid, fsuid;
	gid_t rgid, egid, fsgid;
	int ngroups;
	gid_t groups[NOTIFY_GROUPS_MAX];
	uint64_t capeff, capprm;
};

/* PID's credentials (0: the supervisor's own) into *C. 0, or -1 (PID gone). */
int notify_creds_of(pid_t pid, struct notify_creds *c);
/* Drops notify_as's memo of the supervisor's own credentials: a forked child calls it
 * before it changes its ids. */
void notify_creds_forget(void);
/* The capabilities that decide what the calls the supervisor performs for a caller
 * answer (permissions, a copy-up's owner): notify_as acts with the caller's. */
#define NOTIFY_CAP(n) (1ull << (n))
#define NOTIFY_FS_CAPS (NOTIFY_CAP(CAP_CHOWN) | NOTIFY_CAP(CAP_DAC_OVERRIDE) | NOTIFY_CAP(CAP_DAC_READ_SEARCH) | \
			NOTIFY_CAP(CAP_FOWNER) | NOTIFY_CAP(CAP_FSETID) | NOTIFY_CAP(CAP_MKNOD))
/* This task's effective and permitted capability sets (0 when capget fails). */
void notify_caps_get(uint64_t *eff, uint64_t *prm);
/* Makes EFF this task's effective capability set (within its permitted set): 0, or
 * -EPERM. */
int notify_caps_take(uint64_t eff);

/* PID's umask, from /proc/PID/status; 022 when it cannot be read. */
mode_t notify_umask_of(pid_t pid);
/* The thread group (process) of task PID, from /proc/PID/status; -1 when it is gone. */
pid_t notify_tgid_of(pid_t pid);

/* The caller's notification is still pending: its pid was not reused. */
bool notify_valid(const struct notify *n, uint64_t id);
/*
 * Installs FD in the caller of notification ID as its call's result
 * (SECCOMP_ADDFD_FLAG_SEND, close-on-exec when CLOEXEC): the notification is answered
 * then, and notify_serve sends nothing more. The caller's fd, or -errno.
 */
long notify_addfd_send(const struct notify *n, uint64_t id, int fd, bool cloexec);

/* LEN bytes at ADDR in PID into BUF. 0 or -EFAULT. */
int notify_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* The NUL-terminated string at ADDR in PID into BUF (SIZE bytes). 0, -EFAULT, or
 * -ENAMETOOLONG when it does not fit. */
int notify_read_str(pid_t pid, uint64_t addr, char *buf, size_t size);

/* A copy of PID's descriptor FDNUM (pidfd_getfd), or -errno (-EBADF: no such fd). */
int notify_getfd(pid_t pid, int fdnum);

/* The directory PATH is resolved from for PID: its root when PATH is absolute, its
 * working directory for AT_FDCWD, else its descriptor DIRFD. An fd, or -errno. */
int notify_dirfd(pid_t pid, int dirfd, const char *path);

/* FN(ARG) with the fsuid, fsgid, groups and file capabilities (CAP_DAC_OVERRIDE and
 * the like, notify.c's FS_CAPS) of PID: here when they are the supervisor's, else in a
 * forked child that takes them. FN's result (0 or -errno). */
long notify_as(pid_t pid, long (*fn)(void *arg), void *arg);
/* SAME(ROOT), kept with ROOT when it is the memo's root notify_root_of lent for this
 * call (a kept root's fd names one directory for as long as it is kept). */
int notify_root_same(int root, bool (*same)(int root));
/* notify_as for access and faccessat without AT_EACCESS, whose check the kernel makes
 * with the real ids and, for a real uid 0, the permitted set (none for another uid). */
long notify_as_real(pid_t pid, long (*fn)(void *arg), void *arg);
/* setgroups of a root run's thread: its credentials memo dropped, the call continued. */
long notify_setgroups(const struct notify *n, const struct seccomp_notif *req, bool *cont);
/* chroot in a root run: the kept roots dropped, none kept any more; continued. */
long notify_chroot(const struct notify *n, const struct seccomp_notif *req, bool *cont);
/* A root run's capset or capability prctl: the run keeps no thread's credentials from
 * then on (notify.c, creds_memo), since an exec may then change them with no id change. */
long notify_capset(const struct notify *n, const struct seccomp_notif *req, bool *cont);
/* A root run's caller PID's root (/proc/PID/root) as an O_PATH fd, or -errno. Kept
 * per thread with its credentials memo until a chroot is seen in the run: then *KEPT
 * is true and the fd is the memo's (valid until the next notify_root_of or notify_as,
 * never closed by the caller); else a new fd the caller closes. */
int notify_root_of(pid_t pid, bool *kept);
/*
 * recvwait.c: poll(FDS, NFDS, TIMEOUT) for the supervisor's loop, but while nothing is
 * pending and the listener NT is taken, the calling (main) thread blocks in RECV and
 * serves notifications, a watcher thread polling the other rows (FDS[NOTIFY_ROW] is the
 * listener's). Returns poll's answer for FDS. recv_wait_end stops the watcher.
 */
struct pollfd;
/* notify_serve with the signal mask RECV_MASK (NULL: unchanged) during its RECV only:
 * 1 when a notification was served, 0 when RECV found none (EINTR, ENOENT), -1. */
int notify_serve_masked(struct notify *n, const sigset_t *recv_mask);
int recv_wait(struct notify *nt, struct pollfd *fds, unsigned long nfds, unsigned long notify_row, int timeout);
void recv_wait_end(void);
/* Closes what the per-thread memo holds (pidfds, roots: a root keeps the caller's mount
 * namespace's mounts referenced) once the run's loop has ended. */
void notify_memo_end(void);
/* True in notify_as's forked child (FN runs with the caller's other credentials). */
extern bool notify_forked;

/* The handlers (one file each). */
int unix_guard_prepare(struct unix_guard *g, const struct exec_settings *s, const char *vmdir);
notify_fn unix_guard_connect;
int meta_guard_prepare(struct meta_guard *g, const struct exec_settings *s, const char *vmdir, const char *shmdir);
notify_fn meta_guard_call, meta_guard_ioctl;

/* ipcguard.c: the VM's SysV objects and POSIX queues. ipc_guard_prepare allocates *G
 * (the prefix, the control area's registry); returns 0 or -errno. */
struct ipc_guard;
int ipc_guard_prepare(struct ipc_guard **g, const char *vmdir);
notify_fn ipc_guard_shmget, ipc_guard_semget, ipc_guard_msgget;
notify_fn ipc_guard_shmat, ipc_guard_shmctl, ipc_guard_semop, ipc_guard_semctl;
notify_fn ipc_guard_msgsnd, ipc_guard_msgrcv, ipc_guard_msgctl;
notify_fn ipc_guard_mq_open, ipc_guard_mq_unlink;
/* At the end of a run (the supervisor, after it released the run lock): removes the VM's
 * directory beneath /dev/shm when it is empty and no other run of the VM holds the lock,
 * so that a VM that used no POSIX shm leaves nothing there. VMDIR NULL: nothing. */
void ipc_guard_end(const char *vmdir);
/*
 * unixguard.c: PATH resolved from DIRFD (RESOLVE_IN_ROOT when ABSOLUTE: DIRFD is a
 * caller's root) to an O_PATH fd of a socket inode G allows, or -errno (-EACCES: not
 * allowed; -ECONNREFUSED: no socket). Runs with the caller's credentials (notify_as).
 */
int unix_guard_resolve(const struct unix_guard *g, int dirfd, bool absolute, const char *path);
/* unixsend.c: sendto(2) with an address, sendmsg(2), sendmmsg(2) under unix = vm. */
notify_fn unix_guard_sendto, unix_guard_sendmsg, unix_guard_sendmmsg;
/* procguard.c: another process's scheduling, priority or limits, by the pid in the
 * call's first argument (sched_*, prlimit64) or second (setpriority, ioprio_set). */
notify_fn proc_guard_arg0, proc_guard_arg1;

/* virtguard.c: the path calls virt_prologue (seccomp.c) notifies from an executable's
 * own code, resolved in the VM's namespace (or continued). */
notify_fn virt_guard_call;
/*
 * virtguard.c: for metaguard.c, the object a metadata call from an executable's own
 * code names by PATH (relative to the caller's AT), resolved in the VM as libfvm does
 * it: a host object copied up first (OWNER: under the host's owner rule, else a
 * touch's). An O_PATH fd of the VM's object, -errno, or -ENOSYS when the call is not
 * virtualized (another ABI, libraries' code, a run without the guard, a shared tree):
 * then metaguard resolves it as the kernel would.
 */
int virt_meta_object(const struct notify *n, const struct seccomp_notif *req, int at, const char *path,
		     bool nofollow, bool owner);
/* virtguard.c: true when PID lives in a root run's namespace (rootfence.c), where the
 * host is read-only and the kernel answers a host file's changes (EROFS). */
bool virt_host_ro_caller(pid_t pid);
/* seccomp.c: puts the N instructions of HEAD before PROG's. 0, -E2BIG or -ENOMEM. */
int prog_prepend(struct sock_fprog *prog, const struct sock_filter *head, unsigned n);
/* seccomp.c: ends HEAD's N rows with the notify return at row END - 1 (its jumps' target)
 * and puts them before PROG's. 0, -EINVAL (rows and jumps out of step), -E2BIG or -ENOMEM. */
int prog_prepend_notify(struct sock_fprog *prog, struct sock_filter *head, unsigned n, unsigned end);
/* quotaguard.c: with a disk-limit, the rows that notify the write family (write,
 * pwrite64, writev, pwritev(2), ftruncate, fallocate, copy_file_range, sendfile,
 * splice) from any code but libfvm's marked calls (quota_guard_env), put before PROG;
 * 0 or -errno. */
int quota_prologue(struct sock_fprog *prog);
/* quotaguard.c: the marker quota_prologue's rows pass, for FVM_QUOTA_GUARD (hex). */
const char *quota_guard_env(void);
/* quotaguard.c: those calls, reserved in the VM's disk quota (or EDQUOT) when their fd
 * is a file of upper/, else continued. */
notify_fn quota_guard_call;
/* quotaguard.c: ftruncate(FD, LEN) of a file of upper/ (ST its fstat, NULL: taken here),
 * a growth reserved in VM's disk quota first, a shrink given back. 0 or -errno. */
struct fvm_vm;
struct stat;
long quota_guard_ftruncate(const struct fvm_vm *vm, int fd, const struct stat *st, off_t len);

/* ---- supervision ---- */

/* ---- tracing (trace.c) ---- */

/* What the supervisor gathers of a traced run (fvm-exec --trace). */
struct tracer {
	int sock;                 /* the datagram socket libfvm sends to; -1: not tracing */
	char path[108];           /* its path in the data area (FVM_ENV_TRACE) */
	pid_t supervisor;         /* the process whose memory holds the facts */
	bool notify_off;          /* no seccomp supervisor: static programs unseen */
	struct tr_ent *v;         /* the facts, each once */
	size_t n, cap;
	size_t *tab, tabcap;      /* their hash table (index + 1) */
	unsigned long long lost, dropped;
	dev_t dev;                /* the socket file's identity in the data area */
	ino_t ino;
};

/* The tracer of this supervisor's run (virtguard.c notes its opens there), or NULL. */
extern struct tracer *trace_active;

/*
 * In fvm-exec, before the supervisor forks: binds T's socket in the data area VMDIR and
 * names it in FVM_ENV_TRACE. 0, or -1 (reported).
 */
int trace_prepare(struct tracer *t, const char *vmdir);

/*
 * Whether the object of FD (an O_PATH fd of a socket file; -1: none) or the peer of the
 * connected datagram socket SOCK (-1: none) is this run's trace socket: unixsend.c
 * relays no datagram there, which would arrive under the supervisor's pid.
 */
bool trace_is_socket(int fd, int sock);

/*
 * One batch of LEN bytes (fvm/trace.h) sent by PID, into T's facts: checked whole
 * first, so that a malformed batch keeps nothing (-1); 0 when taken. A record of an
 * unknown kind or too few strings is counted in T->dropped. Public for its fuzz target.
 */
int trace_take_batch(struct tracer *t, const char *buf, size_t len, pid_t pid);

/* Frees the facts T holds. */
void trace_forget(struct tracer *t);

/* One fact as kept: what trace.c and its fuzz target read. */
struct tr_ent {
	uint64_t hash;
	pid_t pid;
	char kind, where, source;   /* source: 'l' libfvm's word, 's' the supervisor's */
	uint64_t dev, ino;
	int64_t size, mtime_ns, ctime_ns;
	char *blob;                 /* NSTR strings, each NUL-terminated, BLEN bytes */
	size_t blen;
	uint32_t nstr;
};

/* In the supervisor: takes the batches waiting on T's socket. 0 or -errno. */
int trace_serve(struct tracer *t);

/* In the supervisor: an open it answered for PID (virtguard.c) — FD the file it opened,
 * RPATH its real path, VPATH the virtual one. A no-op when not tracing. */
void trace_note_open(pid_t pid, int fd, const char *rpath, const char *vpath);

/*
 * In the supervisor, the VM empty: hashes the inputs, lists the outputs and writes the
 * trace of run S (store/trace.h) into CTLDIR/history, named after S's account (its
 * record's name and TRACE_SUFFIX). CMD: the command. 0 or -errno.
 */
int trace_finish(struct tracer *t, const char *ctldir, const char *vmdir, const struct run_stats *s,
		 char *const *cmd);

struct exec_super {
	uint64_t timeout_ms, kill_after_ms;
	bool end_all;                 /* end every process of the VM when the command ends */
	struct exec_cgroup *cg;       /* the run's cgroups: the supervisor removes them */
	const char *vm;               /* the VM's name, for messages */
	const char *ctldir;           /* the VM's control directory: the run's record */
	const char *vmdir;            /* the VM's data area (accounting: origins log, layer) */
	const struct exec_settings *s; /* the quotas a run's end is checked against */
	unsigned runs_kept;           /* runs-kept: the accounts kept in ctl/NAME/history */
	bool stats;                   /* --stats: the run's summary on stderr at its end */
	int lock;                     /* the run lock, held shared: passed to the supervisor */
	const struct mq_broker *mq;   /* the queue broker the supervisor serves (sock -1: none) */
	struct cu_broker *cu;         /* the copy-up broker it serves (listen -1: none) */
	struct notify *notify;        /* the seccomp listener the supervisor serves (sock -1: none) */
	struct tracer *trace;         /* --trace: the facts gathered (NULL: not tracing) */
	char *const *cmd;             /* the command, for the trace */
	void (*child)(void *arg);     /* runs in the command's process; never returns */
	void *arg;
};

/*
 * Starts the run's supervisor (a child subreaper, outside the fence), which records
 * the run, runs SUP->child in the command's process and stays until the VM's last
 * process has exited, holding SUP->lock (closed here). Returns, when the command ends,
 * the exit status of fvm-exec: the command's, 128+N when it was killed by signal N,
 * 124 when the wall clock ran out, 125 when the run could not start (reported).
 */
int supervise(const struct exec_super *sup);

/*
 * In the command's process (SUP->child), right before its exec: waits until the
 * supervisor has recorded the run. 0, or -1 when it could not (the run must not start).
 */
int supervise_child_go(void);

#endif
