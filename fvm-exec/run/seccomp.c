/*
 * seccomp.c — the seccomp filter of a fenced run (run.h), built with libseccomp.
 *
 * Invariants:
 *  - The filter MUST cover every ABI the kernel accepts from a process of this build: the
 *    native one and its compat ABI (i386 on x86_64, arm on aarch64) get the same rules,
 *    each by its own numbers; any other ABI (x32 on x86_64) fails every call with ENOSYS
 *    (libseccomp's bad-architecture action: x32 calls share x86_64's AUDIT_ARCH and are
 *    told apart by their number, which libseccomp checks).
 *  - The default is ALLOW: the filter refuses what the rule table below names and nothing
 *    else, so that real programs keep working; Landlock (fence.c) holds the file system.
 *  - An argument the kernel reads as a 32-bit int (flags, modes, ioctl commands,
 *    families) is compared on its low 32 bits only (SCMP_CMP_MASKED_EQ with a mask below
 *    2^32): a raw call cannot slip past a rule by setting the upper half, which the
 *    kernel ignores. A pointer or a pid compared with NE on all 64 bits fails closed.
 *  - Each refusal carries the errno a native unprivileged program gets for the call
 *    (EPERM mostly), so that programs take their usual "not permitted" path.
 *  - The filter is generated in fvm-exec (errors before anything runs) and installed by
 *    the child with seccomp(2). A generated filter is kept in the store's cache/ (see
 *    "The compiled filters, cached"), keyed by everything that decides its
 *    instructions, so that a run does not pay libseccomp's compilation again (2-3 ms,
 *    the largest part of fvm-exec's own CPU time at start); fence_filter_install returns the user-notification fd
 *    when a rule's action is SCMP_ACT_NOTIFY (connect under unix = vm), which the child
 *    hands to the run's supervisor (notify.c).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <linux/fsverity.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run.h"
#include "store/replace.h"

#if defined(__x86_64__)
#define COMPAT_ARCH SCMP_ARCH_X86
#define COMPAT_NAME "i386"
#elif defined(__aarch64__)
#define COMPAT_ARCH SCMP_ARCH_ARM
#define COMPAT_NAME "arm"
#endif

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* When a row applies. */
enum sc_when {
	SC_ALWAYS,
	SC_DEVICES_OPENABLE, /* the VM's writable trees are not mounted nodev (rootfence.c) */
	SC_NO_PTRACE_SCOPE,  /* no Landlock domain scopes ptrace-checked calls to the VM */
	SC_HOST_WRITABLE,    /* the host is not read-only in rootfence.c's namespace */
	SC_ROOT_LISTENER,    /* a root run (host read-only) with its own listener */
};

/* How a row matches its system call's arguments. */
enum sc_match {
	SC_ANY,    /* every call */
	SC_CMP,    /* all of cmp[0..ncmp) hold */
	SC_BITS,   /* argument ARG has any of BITS set (one rule per bit) */
	SC_NOT_IN, /* the low 32 bits of argument ARG are none of VALS */
};

struct sc_rule {
	const char *name; /* libseccomp's name; a call an ABI lacks is skipped for it */
	uint32_t action;  /* SCMP_ACT_ERRNO(e), or (later) SCMP_ACT_NOTIFY */
	enum sc_when when;
	enum sc_match match;
	unsigned ncmp;
	struct scmp_arg_cmp cmp[2];
	unsigned arg;         /* SC_BITS, SC_NOT_IN */
	uint32_t bits;        /* SC_BITS */
	const uint32_t *vals; /* SC_NOT_IN */
	size_t nvals;
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define LO32 0xffffffffull
/* (flags & TRUNC_MASK) is one of these: truncation without a write open. */
#define TRUNC_MASK (O_TRUNC | O_PATH | O_ACCMODE)
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
		  CLONE_NEWPID | CLONE_NEWNET)

/* personality(2) values Docker's default profile allows: PER_LINUX, PER_LINUX32, their
 * UNAME26 variants, and the query 0xffffffff. */
static const uint32_t safe_personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/*
 * The rules, with the errno a native unprivileged program gets. Docker's default seccomp
 * profile and capability set are the reference (its allow list refuses each of these
 * without a capability Docker drops); where a row differs, its comment says why.
 */
static const struct sc_rule rules[] = {
	/* Truncation without a write open: Landlock does not handle TRUNCATE (fence.c).
	 * Linux truncates on O_TRUNC with access mode O_RDONLY or 3; O_PATH ignores it.
	 * openat first: it is the hottest call of all. EACCES, the errno Landlock gave. */
	{.name = "openat", .action = SCMP_ACT_ERRNO(EACCES), .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A2(SCMP_CMP_MASKED_EQ, TRUNC_MASK, O_TRUNC | O_RDONLY)}},
	{.name = "openat", .action = SCMP_ACT_ERRNO(EACCES), .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A2(SCMP_CMP_MASKED_EQ, TRUNC_MASK, O_TRUNC | O_ACCMODE)}},
	{.name = "open", .action = SCMP_ACT_ERRNO(EACCES), .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, TRUNC_MASK, O_TRUNC | O_RDONLY)}},
	{.name = "open", .action = SCMP_ACT_ERRNO(EACCES), .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, TRUNC_MASK, O_TRUNC | O_ACCMODE)}},
	{.name = "truncate", .action = SCMP_ACT_ERRNO(EACCES)},
	{.name = "truncate64", .action = SCMP_ACT_ERRNO(EACCES)},
	/* Its flags are behind a pointer the filter cannot read: callers fall back to openat. */
	{.name = "openat2", .action = SCMP_ACT_ERRNO(ENOSYS)},
	/* io_uring opens files and sockets around every rule here. */
	{.name = "io_uring_setup", .action = SCMP_ACT_ERRNO(ENOSYS)},
	{.name = "io_uring_enter", .action = SCMP_ACT_ERRNO(ENOSYS)},
	{.name = "io_uring_register", .action = SCMP_ACT_ERRNO(ENOSYS)},
	/* Opens any inode of a mounted file system by handle, around every path rule
	 * (needs CAP_DAC_READ_SEARCH, which Docker drops). */
	{.name = "open_by_handle_at", .action = SCMP_ACT_ERRNO(EPERM)},

	/* The terminal fvm-exec was started from: TIOCSTI pushes input into it (the host
	 * shell reads it after the VM exits), TIOCLINUX reads and pastes a console's screen.
	 * The kernel compares the command's low 32 bits: so does the rule. */
	{.name = "ioctl", .action = SCMP_ACT_ERRNO(EPERM), .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, TIOCSTI)}},
	{.name = "ioctl", .action = SCMP_ACT_ERRNO(EPERM), .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, TIOCLINUX)}},
	{.name = "vhangup", .action = SCMP_ACT_ERRNO(EPERM)},

	/* Host-wide state: names, clock, keyrings, mounts, swap, power, kernel code, logs.
	 * adjtimex and clock_adjtime stay allowed, as in Docker: their read-only mode is what
	 * programs use, the mode is behind a pointer, and the kernel refuses a change without
	 * CAP_SYS_TIME, which no fenced process has (the bounding set of root runs). */
	{.name = "sethostname", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "setdomainname", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "settimeofday", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "stime", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "clock_settime", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "clock_settime64", .action = SCMP_ACT_ERRNO(EPERM)},
	/* Keyrings are per user, not per VM: a key added here is the host user's. */
	{.name = "keyctl", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "add_key", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "request_key", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "mount", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "umount", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "umount2", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "pivot_root", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "move_mount", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "open_tree", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "fsopen", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "fsconfig", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "fsmount", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "fspick", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "mount_setattr", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "swapon", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "swapoff", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "reboot", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "kexec_load", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "kexec_file_load", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "init_module", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "finit_module", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "delete_module", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "acct", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "quotactl", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "quotactl_fd", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "syslog", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "iopl", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "ioperm", .action = SCMP_ACT_ERRNO(EPERM)},

	/* Kernel interfaces that watch or reach beyond the VM, or are an exploit's tools. */
	{.name = "bpf", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "perf_event_open", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "fanotify_init", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "lookup_dcookie", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "userfaultfd", .action = SCMP_ACT_ERRNO(EPERM)},
	/* NUMA placement, system-wide in effect (Docker: CAP_SYS_NICE). */
	{.name = "mbind", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "set_mempolicy", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "set_mempolicy_home_node", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "migrate_pages", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "move_pages", .action = SCMP_ACT_ERRNO(EPERM)},
	/* Execution domains that weaken the process's own protections (Docker's values). */
	{.name = "personality", .action = SCMP_ACT_ERRNO(EPERM), .match = SC_NOT_IN,
	 .vals = safe_personalities, .nvals = NELEM(safe_personalities)},

	/*
	 * Namespaces. A VM process does not need new ones, and Docker refuses them (unshare,
	 * setns, namespace flags of clone; clone3, whose flags are behind a pointer, ENOSYS:
	 * glibc falls back to clone). Landlock domains are inherited and Landlock refuses
	 * mount(2) to a sandboxed process, so a user namespace would not open the host's
	 * files; but it hands the VM CAP_SYS_ADMIN over new namespaces — a large kernel
	 * surface, new mount trees in which paths libfvm and the supervisor resolve could
	 * mean other files, a PID namespace hiding the VM's processes from /proc — for no
	 * program's need. Refused (EPERM, what an unprivileged program gets when user
	 * namespaces are disabled).
	 */
	{.name = "unshare", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "setns", .action = SCMP_ACT_ERRNO(EPERM)},
	{.name = "clone", .action = SCMP_ACT_ERRNO(EPERM), .match = SC_BITS, .bits = NS_FLAGS},
	{.name = "clone3", .action = SCMP_ACT_ERRNO(ENOSYS)},

	/*
	 * Other processes: Landlock scopes the ptrace access check (ptrace, /proc/PID/mem,
	 * process_vm_*, kcmp, pidfd_getfd, process_madvise) to the VM's domain; without a
	 * domain they are refused. Scheduling, priorities and limits of another process have
	 * no such check (the kernel asks only for the same owner, or CAP_SYS_NICE and a
	 * superset of the target's capabilities): a call naming the caller (pid 0) passes;
	 * one naming a pid goes to the supervisor (procguard.c), which lets it through only
	 * for a process of the VM (EPERM otherwise); the forms naming a process group or a
	 * user's every process are EPERM. Comparisons of pids are on all 64 bits: a raw call
	 * setting the upper half is notified, and the supervisor reads the low 32 bits, as
	 * the kernel does.
	 */
	{.name = "ptrace", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_NO_PTRACE_SCOPE},
	{.name = "process_vm_readv", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_NO_PTRACE_SCOPE},
	{.name = "process_vm_writev", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_NO_PTRACE_SCOPE},
	{.name = "kcmp", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_NO_PTRACE_SCOPE},
	{.name = "pidfd_getfd", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_NO_PTRACE_SCOPE},
	{.name = "process_madvise", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_NO_PTRACE_SCOPE},
	{.name = "prlimit64", .action = SCMP_ACT_NOTIFY, .match = SC_CMP, .ncmp = 2,
	 .cmp = {SCMP_A0(SCMP_CMP_NE, 0), SCMP_A2(SCMP_CMP_NE, 0)}},
	{.name = "setpriority", .action = SCMP_ACT_ERRNO(EPERM), .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_NE, PRIO_PROCESS)}},
	{.name = "setpriority", .action = SCMP_ACT_NOTIFY, .match = SC_CMP, .ncmp = 2,
	 .cmp = {SCMP_A0(SCMP_CMP_EQ, PRIO_PROCESS), SCMP_A1(SCMP_CMP_NE, 0)}},
	{.name = "sched_setaffinity", .action = SCMP_ACT_NOTIFY, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_NE, 0)}},
	{.name = "sched_setscheduler", .action = SCMP_ACT_NOTIFY, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_NE, 0)}},
	{.name = "sched_setparam", .action = SCMP_ACT_NOTIFY, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_NE, 0)}},
	{.name = "sched_setattr", .action = SCMP_ACT_NOTIFY, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_NE, 0)}},
	/* ioprio_set(WHICH, WHO, PRIO): IOPRIO_WHO_PROCESS is 1; PGRP (2) and USER (3), even
	 * with WHO 0 (the caller's process group, which fvm-exec shares with the shell's
	 * job, or every process of its user), reach beyond the VM. */
	{.name = "ioprio_set", .action = SCMP_ACT_ERRNO(EPERM), .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_NE, 1)}},
	{.name = "ioprio_set", .action = SCMP_ACT_NOTIFY, .match = SC_CMP, .ncmp = 2,
	 .cmp = {SCMP_A0(SCMP_CMP_EQ, 1), SCMP_A1(SCMP_CMP_NE, 0)}},

	/* Device nodes: a node made in the VM would open a host device. Where the VM's
	 * writable trees are mounted nodev (root runs, rootfence.c), root may make them (they
	 * stat as on the host, never open); elsewhere mknod of a character or block device
	 * is EPERM. FIFOs and sockets stay allowed. */
	{.name = "mknod", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_DEVICES_OPENABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR)}},
	{.name = "mknod", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_DEVICES_OPENABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK)}},
	{.name = "mknodat", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_DEVICES_OPENABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR)}},
	{.name = "mknodat", .action = SCMP_ACT_ERRNO(EPERM), .when = SC_DEVICES_OPENABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK)}},

	/*
	 * Metadata of inodes (issue 13: mode, owner, times, xattrs, inode flags), which
	 * Landlock has no right for. Where the host is read-only (a root run's namespace,
	 * rootfence.c) the kernel refuses them on host files (EROFS); elsewhere every such
	 * call goes to the supervisor (metaguard.c), which performs it on the inode it
	 * resolved when that inode lies beneath a tree Landlock lets the VM write, and
	 * answers EACCES otherwise. Both ABIs (i386's 16-bit chown family, chown32,
	 * utimensat_time64 included). ioctl: the commands that set inode flags, the
	 * project/extent-size attributes, the generation, ext4's extent migration (the
	 * kernel compares the command's low 32 bits: so do the rules; the 32-bit variants
	 * are listed). fs-verity and fscrypt policies would change a file for good and need
	 * pointers the supervisor would have to follow: EOPNOTSUPP, what a file system
	 * without them says. The *at xattr calls and file_setattr of Linux 6.13/6.17 (libseccomp
	 * 2.5 does not know them, see add_unnamed): ENOSYS, callers fall back to the calls
	 * above.
	 */
	{.name = "chmod", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "fchmod", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "fchmodat", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "fchmodat2", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "chown", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "fchown", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "lchown", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "fchownat", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "chown32", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "fchown32", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "lchown32", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "utime", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "utimes", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "futimesat", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "utimensat", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "utimensat_time64", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "setxattr", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "lsetxattr", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "fsetxattr", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "removexattr", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "lremovexattr", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "fremovexattr", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE},
	{.name = "ioctl", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, FS_IOC_SETFLAGS & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, FS_IOC32_SETFLAGS & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, FS_IOC_FSSETXATTR & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, FS_IOC_SETVERSION & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, FS_IOC32_SETVERSION & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, META_EXT4_IOC_SETVERSION & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, META_EXT4_IOC32_SETVERSION & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_NOTIFY, .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, META_EXT4_IOC_MIGRATE & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_ERRNO(EOPNOTSUPP), .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, FS_IOC_ENABLE_VERITY & LO32)}},
	{.name = "ioctl", .action = SCMP_ACT_ERRNO(EOPNOTSUPP), .when = SC_HOST_WRITABLE, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A1(SCMP_CMP_MASKED_EQ, LO32, FS_IOC_SET_ENCRYPTION_POLICY & LO32)}},

	/*
	 * IPC objects (the IPC guard, ipcguard.c, in the supervisor). SysV objects are met by
	 * key or by an id anyone can guess (/proc/sysvipc lists them), POSIX queues by a name
	 * in one host-wide namespace that Landlock does not cover (mq_unlink is no path
	 * operation): the supervisor maps the keys the VM gets, continues by-id calls only
	 * on the VM's objects, and opens or unlinks only queues of the VM's prefix. i386's
	 * multiplexed ipc(2) hides its call behind version bits: ENOSYS whole (glibc's i386
	 * SysV calls use it); the direct i386 calls are notified and refused there.
	 */
	{.name = "shmget", .action = SCMP_ACT_NOTIFY},
	{.name = "semget", .action = SCMP_ACT_NOTIFY},
	{.name = "msgget", .action = SCMP_ACT_NOTIFY},
	{.name = "shmat", .action = SCMP_ACT_NOTIFY},
	{.name = "shmctl", .action = SCMP_ACT_NOTIFY},
	{.name = "semop", .action = SCMP_ACT_NOTIFY},
	{.name = "semtimedop", .action = SCMP_ACT_NOTIFY},
	{.name = "semtimedop_time64", .action = SCMP_ACT_NOTIFY},
	{.name = "semctl", .action = SCMP_ACT_NOTIFY},
	{.name = "msgsnd", .action = SCMP_ACT_NOTIFY},
	{.name = "msgrcv", .action = SCMP_ACT_NOTIFY},
	{.name = "msgctl", .action = SCMP_ACT_NOTIFY},
	{.name = "ipc", .action = SCMP_ACT_ERRNO(ENOSYS)},
	{.name = "mq_open", .action = SCMP_ACT_NOTIFY},
	{.name = "mq_unlink", .action = SCMP_ACT_NOTIFY},
	/*
	 * A root run's processes may change their groups and root: the supervisor keeps each
	 * thread's credentials (notify.c, creds_memo) and reads its ids back through a
	 * pidfd per call, which shows no group. setgroups is notified so that the thread's
	 * memo is dropped (then continued). Not in a nested run (no listener: the outer
	 * run's row notifies its own supervisor).
	 */
	{.name = "setgroups", .action = SCMP_ACT_NOTIFY, .when = SC_ROOT_LISTENER},
	{.name = "setgroups32", .action = SCMP_ACT_NOTIFY, .when = SC_ROOT_LISTENER},
	/* The same memo keeps the thread's root (/proc/TID/root): a chroot makes the
	 * supervisor open it per call again for the rest of the run. */
	{.name = "chroot", .action = SCMP_ACT_NOTIFY, .when = SC_ROOT_LISTENER},
	/* The memo does not show capabilities: capset, and the prctls after which an
	 * execve changes the effective set with no id change (the bounding set, securebits,
	 * the ambient set), make the supervisor read them per call again for the rest of
	 * the run (notify_capset). */
	{.name = "capset", .action = SCMP_ACT_NOTIFY, .when = SC_ROOT_LISTENER},
	{.name = "prctl", .action = SCMP_ACT_NOTIFY, .when = SC_ROOT_LISTENER, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_EQ, PR_CAPBSET_DROP)}},
	{.name = "prctl", .action = SCMP_ACT_NOTIFY, .when = SC_ROOT_LISTENER, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_EQ, PR_SET_SECUREBITS)}},
	{.name = "prctl", .action = SCMP_ACT_NOTIFY, .when = SC_ROOT_LISTENER, .match = SC_CMP, .ncmp = 1,
	 .cmp = {SCMP_A0(SCMP_CMP_EQ, PR_CAP_AMBIENT)}},
};

/* Metadata calls newer than libseccomp 2.5, whose i386 rules it refuses to make for a
 * number it cannot name (EFAULT): refused where the host is writable (the rows above)
 * by a few instructions put before libseccomp's program (unnamed_prologue). One number
 * on x86_64 and i386 alike: the numbers from 403 on are shared. */
static const struct {
	const char *name;
	uint32_t nr;
} unnamed[] = {
	{"fchmodat2", 452}, /* only when libseccomp does not know it: else notified */
	{"setxattrat", 463},
	{"removexattrat", 466},
	{"file_setattr", 469},
};

/* What the filter is built for. */
struct sc_build {
	scmp_filter_ctx ctx;
	uint32_t arch;       /* the one ABI of CTX */
	bool compat;         /* the compat ABI: sockets are refused whole */
	bool nodev;          /* rootfence.c mounts the writable trees nodev */
	bool ptrace_scoped;  /* a Landlock domain scopes ptrace */
	bool host_ro;        /* rootfence.c's namespace makes the host read-only */
	bool notify;         /* some rule is SCMP_ACT_NOTIFY */
	bool no_listener;    /* nested run: SCMP_ACT_NOTIFY rules become refusals */
	int nrules;          /* rules added, for -v */
};

/*
 * A run nested in another run (fvm-exec in a VM) cannot have a listener of its own: the
 * kernel gives a process one listener, the outer run's supervisor holds it. Letting the
 * calls the inner supervisor would answer through would leave them to the outer
 * supervisor, which knows only the outer VM (its data area holds the inner VM's store:
 * the inner VM would reach the outer VM's sockets and processes), or to nothing when
 * the outer run has no such rule (unix = all). So they fail closed: connect EACCES (what
 * Landlock gives a refused path), every other notified call EPERM.
 */
static uint32_t nested_action(const struct sc_build *b, uint32_t action, int err)
{
	return b->no_listener && action == SCMP_ACT_NOTIFY ? SCMP_ACT_ERRNO(err) : action;
}

/* Adds one rule; the call is skipped where B's ABI lacks it. Returns 0 or -errno. */
static int add(struct sc_build *b, uint32_t action, const char *name, unsigned n,
	       const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	/* A negative number of B's ABI is one libseccomp multiplexes (i386's socket calls:
	 * their own numbers and socketcall's): a rule for it covers both. */
	if (nr == __NR_SCMP_ERROR || seccomp_syscall_resolve_name_arch(b->arch, name) == __NR_SCMP_ERROR) {
		return 0; /* unknown to this libseccomp, or not a call of this ABI */
	}
	action = nested_action(b, action, EPERM);
	int r = seccomp_rule_add_array(b->ctx, action, nr, n, cmp);
	if (r < 0) {
		fprintf(stderr, "fvm-exec: seccomp rule for %s: %s\n", name, strerror(-r));
		return r;
	}
	b->nrules++;
	b->notify |= action == SCMP_ACT_NOTIFY;
	return 0;
}

/*
 * Adds the rules that apply ACTION to NAME when the prefix comparisons PRE (NPRE of them,
 * on other arguments) hold and the bits of argument ARG within DOMAIN (a mask below
 * 2^32) are none of VALS. libseccomp compares an argument once per rule and ORs rules,
 * so the complement of VALS is spelled as masked equalities: with U the union of the
 * values' bits, "a bit outside U is set" (one rule per bit) or "the bits are a subset
 * of U that is not a value" (one rule per such subset). DOMAIN itself, all bits set, may
 * be one of VALS (personality's query): then a pivot bit P outside U splits the first
 * kind in two: P clear and another bit outside U set; P set and some other bit clear.
 * Returns 0 or -errno.
 */
static int add_not_in(struct sc_build *b, uint32_t action, const char *name, const struct scmp_arg_cmp *pre,
		      unsigned npre, unsigned arg, uint32_t domain, const uint32_t *vals, size_t nvals)
{
	struct scmp_arg_cmp cmp[4];
	uint32_t u = 0, pivot = 0;
	bool all_ones = false;
	int r;

	if (npre) {
		memcpy(cmp, pre, npre * sizeof(*pre)); /* PRE may be NULL when there are none */
	}
	for (size_t i = 0; i < nvals; i++) {
		if (vals[i] == domain) {
			all_ones = true;
		} else {
			u |= vals[i];
		}
	}
	if (all_ones) {
		for (uint32_t bit = 1u << 31; bit; bit >>= 1) {
			if ((domain & ~u & bit) && !pivot) {
				pivot = bit;
			}
		}
	}
	for (uint32_t bit = 1; bit && bit <= domain; bit <<= 1) {
		if (!(domain & bit)) {
			continue;
		}
		if (!(u & bit) && bit != pivot) { /* a bit outside U: (with P clear) */
			cmp[npre] = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, bit | pivot, bit);
			if ((r = add(b, action, name, npre + 1, cmp)) < 0) {
				return r;
			}
		}
		if (pivot && bit != pivot) { /* P set and BIT clear */
			cmp[npre] = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, bit | pivot, pivot);
			if ((r = add(b, action, name, npre + 1, cmp)) < 0) {
				return r;
			}
		}
	}
	/* Every subset of U (U has few bits: callers' values are small sets). */
	for (uint32_t sub = u;; sub = (sub - 1) & u) {
		bool listed = false;
		for (size_t i = 0; i < nvals; i++) {
			listed |= vals[i] == sub;
		}
		if (!listed) {
			cmp[npre] = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, domain, sub);
			if ((r = add(b, action, name, npre + 1, cmp)) < 0) {
				return r;
			}
		}
		if (sub == 0) {
			break;
		}
	}
	return 0;
}

static bool applies(const struct sc_build *b, enum sc_when when)
{
	switch (when) {
	case SC_ALWAYS:
		return true;
	case SC_DEVICES_OPENABLE:
		return !b->nodev;
	case SC_NO_PTRACE_SCOPE:
		return !b->ptrace_scoped;
	case SC_HOST_WRITABLE:
		return !b->host_ro;
	case SC_ROOT_LISTENER:
		return b->host_ro && !b->no_listener;
	}
	return true;
}

/* Adds the rows of the table that apply to B. Returns 0 or -errno. */
static int add_table(struct sc_build *b)
{
	for (size_t i = 0; i < NELEM(rules); i++) {
		const struct sc_rule *row = &rules[i];
		int r = 0;

		if (!applies(b, row->when)) {
			continue;
		}
		switch (row->match) {
		case SC_ANY:
			r = add(b, row->action, row->name, 0, NULL);
			break;
		case SC_CMP:
			r = add(b, row->action, row->name, row->ncmp, row->cmp);
			break;
		case SC_BITS:
			for (uint32_t bit = 1; bit && r == 0; bit <<= 1) {
				if (row->bits & bit) {
					struct scmp_arg_cmp c = SCMP_CMP(row->arg, SCMP_CMP_MASKED_EQ, bit, bit);
					r = add(b, row->action, row->name, 1, &c);
				}
			}
			break;
		case SC_NOT_IN:
			r = add_not_in(b, row->action, row->name, NULL, 0, row->arg, 0xffffffffu, row->vals,
				       row->nvals);
			break;
		}
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

/*
 * The socket policy of S (fence.c's header says it in prose): AF_UNIX always; AF_INET
 * and AF_INET6 whole (--net loopback, or an --allow rule of the family), TCP only
 * (Landlock fences its ports), or refused with EACCES; AF_NETLINK/NETLINK_ROUTE under
 * --net loopback; every other family EAFNOSUPPORT. The compat ABI refuses socket and
 * socketcall whole (EAFNOSUPPORT): socketcall hides the family behind a pointer.
 * Returns 0 or -errno.
 */
static int add_sockets(struct sc_build *b, const struct exec_settings *s, bool tcp_fenced, bool full[2])
{
	static const uint32_t inet[] = {AF_INET, AF_INET6};
	static const uint32_t stream[] = {SOCK_STREAM};
	/* Only plain TCP: SCTP or MPTCP streams are not what Landlock's TCP rules see. */
	static const uint32_t tcp[] = {0, IPPROTO_TCP};
	static const uint32_t route[] = {NETLINK_ROUTE};
	uint32_t families[4] = {AF_UNIX, AF_INET, AF_INET6};
	size_t nfam = 3;
	int r;

	if (b->compat) {
		if ((r = add(b, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketcall", 0, NULL)) < 0) {
			return r;
		}
		return add(b, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 0, NULL);
	}
	bool netlink = s->pol.net == FVM_NET_LOOPBACK;
	if (netlink) {
		families[nfam++] = AF_NETLINK;
	}
	/* The kernel refuses a family >= AF_MAX itself; rules cover every 32-bit value. */
	if ((r = add_not_in(b, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", NULL, 0, 0, 0xffffffffu, families,
			    nfam)) < 0) {
		return r;
	}
	for (int i = 0; i < 2; i++) {
		struct scmp_arg_cmp fam = SCMP_A0(SCMP_CMP_MASKED_EQ, LO32, inet[i]);
		if (full[i]) {
			continue;
		}
		if (!tcp_fenced) { /* the policy's refusal, the errno libfvm gives */
			r = add(b, SCMP_ACT_ERRNO(EACCES), "socket", 1, &fam);
		} else if ((r = add_not_in(b, SCMP_ACT_ERRNO(EACCES), "socket", &fam, 1, 1, 0xf, stream, 1)) == 0) {
			/* type & 0xf: less SOCK_NONBLOCK and SOCK_CLOEXEC */
			r = add_not_in(b, SCMP_ACT_ERRNO(EACCES), "socket", &fam, 1, 2, 0xffffffffu, tcp, 2);
		}
		if (r < 0) {
			return r;
		}
	}
	if (netlink) {
		struct scmp_arg_cmp fam = SCMP_A0(SCMP_CMP_MASKED_EQ, LO32, AF_NETLINK);
		return add_not_in(b, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", &fam, 1, 2, 0xffffffffu, route, 1);
	}
	return 0;
}

/* One ABI's filter in B->ctx. Returns 0 or -errno. */
static int build_arch(struct sc_build *b, const struct exec_settings *s, bool tcp_fenced, bool full[2])
{
	int r;

	b->ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!b->ctx) {
		return -ENOMEM;
	}
	if (b->arch != seccomp_arch_native()) {
		if ((r = seccomp_arch_add(b->ctx, b->arch)) < 0 ||
		    (r = seccomp_arch_remove(b->ctx, SCMP_ARCH_NATIVE)) < 0) {
			return r;
		}
	}
	if ((r = add_table(b)) < 0) {
		return r;
	}
	/* unix = vm: every connect goes to the supervisor (unixguard.c), which performs the
	 * AF_UNIX ones itself; the family of the socket and the address are behind an fd and
	 * a pointer the filter cannot read. Both ABIs: i386 has connect(2) of its own, and
	 * socketcall, which hides it, is refused whole (here under --net all, else in
	 * add_sockets). */
	if (s->unix_vm && (r = add(b, nested_action(b, SCMP_ACT_NOTIFY, EACCES), "connect", 0, NULL)) < 0) {
		return r;
	}
	/* unix = vm: datagrams to an address go to the supervisor too (unixsend.c). sendto
	 * names its address in a register: NULL (send(2), a connected socket) passes here.
	 * sendmsg and sendmmsg hide it in memory: every call is notified. */
	if (s->unix_vm) {
		struct scmp_arg_cmp addr = SCMP_A4(SCMP_CMP_NE, 0);
		if ((r = add(b, nested_action(b, SCMP_ACT_NOTIFY, EACCES), "sendto", 1, &addr)) < 0 ||
		    (r = add(b, nested_action(b, SCMP_ACT_NOTIFY, EACCES), "sendmsg", 0, NULL)) < 0 ||
		    (r = add(b, nested_action(b, SCMP_ACT_NOTIFY, EACCES), "sendmmsg", 0, NULL)) < 0) {
			return r;
		}
	}
	if (s->unix_vm && b->compat && s->pol.net == FVM_NET_ALL &&
	    (r = add(b, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketcall", 0, NULL)) < 0) {
		return r;
	}
	if (s->pol.net != FVM_NET_ALL) {
		return add_sockets(b, s, tcp_fenced, full);
	}
	return 0;
}

/* Puts the N instructions of HEAD before PROG's. Returns 0, or -E2BIG / -ENOMEM. */
int prog_prepend(struct sock_fprog *prog, const struct sock_filter *head, unsigned n)
{
	if (prog->len + n > BPF_MAXINSNS) {
		return -E2BIG;
	}
	struct sock_filter *all = malloc((prog->len + n) * sizeof(*all));
	if (!all) {
		return -ENOMEM;
	}
	memcpy(all, head, n * sizeof(*all));
	memcpy(all + n, prog->filter, prog->len * sizeof(*all));
	free(prog->filter);
	prog->filter = all;
	prog->len = (unsigned short)(prog->len + n);
	return 0;
}

/*
 * Ends HEAD (N rows written, room for one more) with the return that notifies the
 * supervisor, where the rows' jumps put it (row END - 1), and puts it before PROG's.
 * Returns 0, -EINVAL when the table and its jumps are out of step (a bug), -E2BIG or
 * -ENOMEM.
 */
int prog_prepend_notify(struct sock_fprog *prog, struct sock_filter *head, unsigned n, unsigned end)
{
	if (n + 1 != end) {
		return -EINVAL;
	}
	head[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	return prog_prepend(prog, head, n);
}

/*
 * Puts before PROG: for x86_64 and i386 (the x32 numbers carry bit 30 and never match),
 * each call of unnamed[] this libseccomp cannot name fails with ENOSYS; everything else
 * goes on to PROG (its jumps are relative: prepending keeps them). Returns 0 or -errno.
 */
static int unnamed_prologue(struct sock_fprog *prog)
{
	struct sock_filter head[4 + 2 * NELEM(unnamed)];
	unsigned n = 0, nr = 0;
	uint32_t nrs[NELEM(unnamed)];

	for (size_t i = 0; i < NELEM(unnamed); i++) {
		if (seccomp_syscall_resolve_name(unnamed[i].name) == __NR_SCMP_ERROR) {
			nrs[nr++] = unnamed[i].nr;
		}
	}
	if (nr == 0) {
		return 0;
	}
	/* arch is x86_64 or i386, else on to PROG; then each number; then on to PROG */
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	head[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SCMP_ARCH_X86_64, 1, 0);
	head[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SCMP_ARCH_X86, 0, (uint8_t)(nr + 3));
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < nr; i++) { /* to the RET after the JA */
		head[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nrs[i], (uint8_t)(nr - i), 0);
	}
	head[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 1);
	head[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	return prog_prepend(prog, head, n);
}

/*
 * Puts before PROG the rows of the lookups libfvm does not see (virtguard.c; the
 * figures and the reasons in docs/DESIGN.md, "Calls libfvm does not see"): on x86_64,
 * stat, lstat, newfstatat and statx (but with AT_EMPTY_PATH: fd calls), access,
 * faccessat, faccessat2, readlink, readlinkat, openat, open, creat, getdents64, mkdir(at),
 * unlink(at), rmdir, symlink(at), rename(at, at2), link(at), truncate, getcwd, chdir, mknod(at)
 * and execve, and with HOST_RO (a root run, where metaguard.c's rows are not installed)
 * the metadata calls by name, chmod, chown, utimes and xattr families, too (notify.c
 * hands those to metaguard.c, which changes the VM's copy through virt_meta_object), are
 * notified when the instruction pointer lies in an executable's own mapping: below
 * 0x2a0000000000 (a non-PIE executable; the legacy bottom-up mmap base is 0x2aaa...)
 * or in [0x550000000000, 0x570000000000) (a PIE executable, ELF_ET_DYN_BASE plus at
 * most 2^40 of randomisation). The dynamic loader, libc and libfvm are mapped elsewhere (top-down
 * beneath the stack, or bottom-up from 0x2aaa...): their calls pass, so a dynamic
 * program pays no round trip. Everything else goes on to PROG. Returns 0 or -errno.
 */
static int virt_prologue(struct sock_fprog *prog, bool host_ro)
{
#if defined(__x86_64__)
	static const uint32_t base_nrs[] = {SYS_newfstatat, SYS_statx, SYS_stat, SYS_lstat, SYS_access,
				       SYS_faccessat, 439 /* faccessat2 */, SYS_readlink, SYS_readlinkat,
				       SYS_openat, SYS_open, SYS_creat, SYS_getdents64, SYS_mkdir,
				       SYS_mkdirat, SYS_unlink, SYS_unlinkat, SYS_rmdir, SYS_symlink,
				       SYS_symlinkat, SYS_rename, SYS_renameat, 316 /* renameat2 */,
				       SYS_link, SYS_linkat, SYS_truncate, SYS_getcwd, SYS_chdir,
				       SYS_mknod, SYS_mknodat, SYS_execve};
	static const uint32_t root_nrs[] = {SYS_chmod, SYS_fchmodat, 452 /* fchmodat2 */, SYS_chown,
					    SYS_lchown, SYS_fchownat, SYS_utime, SYS_utimes, SYS_futimesat,
					    SYS_utimensat, SYS_setxattr, SYS_lsetxattr, SYS_removexattr,
					    SYS_lremovexattr};
	uint32_t nrs[NELEM(base_nrs) + NELEM(root_nrs)];
	unsigned nn = 0;
	for (unsigned i = 0; i < NELEM(base_nrs); i++) {
		nrs[nn++] = base_nrs[i];
	}
	for (unsigned i = 0; host_ro && i < NELEM(root_nrs); i++) {
		nrs[nn++] = root_nrs[i];
	}
	/* The rows' offsets: newfstatat and statx first, each with its flags test. */
	const unsigned t_fstatat = 4 + nn, t_statx = t_fstatat + 2, t_ip = t_statx + 2, t_notify = t_ip + 4,
		       end = t_notify + 1;
	struct sock_filter head[4 + NELEM(nrs) + 2 + 2 + 4 + 1];
	unsigned n = 0;

	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	head[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SCMP_ARCH_X86_64, 0, (uint8_t)(end - 2));
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < nn; i++) {
		unsigned to = i == 0 ? t_fstatat : i == 1 ? t_statx : t_ip;
		head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nrs[i], (uint8_t)(to - n - 1), 0);
		n++;
	}
	head[n] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, end - n - 1);
	n++;
	/* t_fstatat: flags in arg 3 (low word) */
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3]));
	head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, AT_EMPTY_PATH, (uint8_t)(end - n - 1),
					       (uint8_t)(t_ip - n - 1));
	n++;
	/* t_statx: flags in arg 2 */
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]));
	head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, AT_EMPTY_PATH, (uint8_t)(end - n - 1), 0);
	n++;
	/* t_ip: the high word of the instruction pointer */
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, instruction_pointer) + 4);
	head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x2a00, 0, (uint8_t)(t_notify - n - 1));
	n++;
	head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x5500, 0, (uint8_t)(end - n - 1));
	n++;
	head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x5700, (uint8_t)(end - n - 1), 0);
	n++;
	return prog_prepend_notify(prog, head, n, end);
#else
	(void)prog;
	(void)host_ro;
#endif
	return 0;
}

/* Writes CTX's BPF into *PROG (allocated). Returns 0 or -errno. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("fvm-seccomp", MFD_CLOEXEC);
	struct stat st;
	int r = 0;

	if (fd < 0) {
		return -errno;
	}
	if ((r = seccomp_export_bpf(ctx, fd)) < 0) {
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		r = -E2BIG;
		goto out;
	}
	prog->filter = malloc((size_t)st.st_size);
	if (!prog->filter) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, prog->filter, (size_t)st.st_size, 0) != st.st_size) {
		r = errno ? -errno : -EIO;
		free(prog->filter);
		prog->filter = NULL;
		goto out;
	}
	prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
out:
	close(fd);
	return r;
}

/*
 * The compiled filters, cached: STORE/cache/bpf-HASH, one file per key, written once
 * (temporary + rename) by the first run that needs it. The key is all that decides
 * the instructions: this build of fvm-exec (its ELF build ID: the rule tables are its
 * code), libseccomp's version and the kernel API level it detected (its name tables
 * and the actions it may emit), the ABI, and the inputs of fence_filter_build (the
 * options, the network policy, unix = vm, which families are open whole). A file is
 * used only when it is a regular file of the caller's own, its key equal to the whole
 * key wanted, byte for byte, and its length consistent; anything else is compiled
 * afresh (and rewritten). The store is hidden from the VM and outside its Landlock
 * domain: no process of a VM can write a filter a later run would load. Without a
 * build ID (a stripped build), nothing is cached.
 */
#define BPF_CACHE_DIR "cache"
#define BPF_CACHE_MAGIC "fvm-bpf 1"

struct bpf_key {
	char magic[16];
	unsigned char build_id[64];
	uint32_t build_id_len;
	uint32_t lib[3], api, arch;
	int32_t net;
	uint8_t tcp_fenced, nodev, ptrace_scoped, host_ro, no_listener, unix_vm, full_inet, full_inet6;
};

struct bpf_file {
	struct bpf_key key;
	int32_t nrules;
	uint32_t notify, len; /* len instructions follow */
};

static int note_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct bpf_key *k = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE) {
			continue;
		}
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof(*n), *desc = name + ((n->n_namesz + 3) & ~3u);
			if (desc + n->n_descsz > end) {
				break;
			}
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
			    n->n_descsz > 0 && n->n_descsz <= sizeof(k->build_id)) {
				memcpy(k->build_id, desc, n->n_descsz);
				k->build_id_len = n->n_descsz;
				return 1;
			}
			p = desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	return 1; /* the first object is the program itself: no other is looked at */
}

/*
 * The disk quota's rows (quotaguard.c), put before a filter compiled or loaded from the
 * cache, never cached themselves: only a VM with a disk-limit and a listener has them,
 * and they carry the run's own marker. 0, or -1 said on stderr.
 */
static int quota_rows(const struct exec_settings *s, const struct filter_opts *o, struct exec_filter *out)
{
	int r;

	if (o->no_listener || !s->pol.disk_limit) {
		return 0;
	}
	if ((r = quota_prologue(&out->prog)) < 0) {
		fprintf(stderr, "fvm-exec: cannot build the seccomp filter: %s\n", strerror(-r));
		return -1;
	}
	return 0;
}

/* The key of a filter built from S, O and FULL; false when none can be made. */
static bool bpf_key_make(struct bpf_key *k, const struct exec_settings *s, const struct filter_opts *o,
			 const bool full[2])
{
	const struct scmp_version *v = seccomp_version();

	memset(k, 0, sizeof(*k));
	snprintf(k->magic, sizeof(k->magic), "%s", BPF_CACHE_MAGIC);
	dl_iterate_phdr(note_build_id, k);
	if (!k->build_id_len || !v) {
		return false;
	}
	k->lib[0] = v->major;
	k->lib[1] = v->minor;
	k->lib[2] = v->micro;
	k->api = seccomp_api_get();
	k->arch = seccomp_arch_native();
	k->net = s->pol.net;
	k->tcp_fenced = o->tcp_fenced;
	k->nodev = o->nodev;
	k->ptrace_scoped = o->ptrace_scoped;
	k->host_ro = o->host_ro;
	k->no_listener = o->no_listener;
	k->unix_vm = s->unix_vm;
	k->full_inet = full[0];
	k->full_inet6 = full[1];
	return true;
}

/* DIR/bpf-HASH of K (FNV-1a: it names the file; the key inside decides). */
static void bpf_cache_name(const struct bpf_key *k, char *out, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < sizeof(*k); i++) {
		h = (h ^ ((const unsigned char *)k)[i]) * 0x100000001b3ULL;
	}
	snprintf(out, len, "bpf-%016llx", (unsigned long long)h);
}

/* The cached filter of K from directory CACHE into OUT; 0, or -1 when there is none. */
static int bpf_cache_load(const char *cache, const struct bpf_key *k, struct exec_filter *out)
{
	char name[32];
	struct bpf_file h;
	struct stat st;
	int dfd = open(cache, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd;

	if (dfd < 0) {
		return -1;
	}
	bpf_cache_name(k, name, sizeof(name));
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0) {
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(&h.key, k, sizeof(*k)) != 0 ||
	    h.len == 0 || h.len > BPF_MAXINSNS ||
	    st.st_size != (off_t)(sizeof(h) + h.len * sizeof(struct sock_filter))) {
		close(fd);
		return -1;
	}
	struct sock_filter *insns = malloc(h.len * sizeof(*insns));
	if (!insns || pread(fd, insns, h.len * sizeof(*insns), sizeof(h)) != (ssize_t)(h.len * sizeof(*insns))) {
		free(insns);
		close(fd);
		return -1;
	}
	close(fd);
	out->prog.filter = insns;
	out->prog.len = (unsigned short)h.len;
	out->nrules = h.nrules;
	out->notify = h.notify != 0;
	return 0;
}

/* Keeps OUT as the filter of K in directory CACHE (made 0700 when missing); best effort. */
static void bpf_cache_store(const char *cache, const struct bpf_key *k, const struct exec_filter *out)
{
	struct bpf_file h;
	char name[32];
	size_t len = sizeof(h) + out->prog.len * sizeof(struct sock_filter);
	char *buf = malloc(len);
	int dfd;

	if (!buf) {
		return;
	}
	memset(&h, 0, sizeof(h));
	h.key = *k;
	h.nrules = out->nrules;
	h.notify = out->notify;
	h.len = out->prog.len;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), out->prog.filter, out->prog.len * sizeof(struct sock_filter));
	if (mkdir(cache, 0700) < 0 && errno != EEXIST) {
		free(buf);
		return;
	}
	if ((dfd = open(cache, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		struct replace rp;
		bpf_cache_name(k, name, sizeof(name));
		/* No fsync: a file a crash left empty fails the checks of the load. */
		if (replace_open(&rp, dfd, name, 0600) == 0) {
			if (fwrite(buf, 1, len, rp.f) == len) {
				replace_commit_nosync(&rp);
			} else {
				replace_abort(&rp);
			}
		}
		close(dfd);
	}
	free(buf);
}

int fence_filter_build(struct exec_filter *out, const struct exec_settings *s, const struct filter_opts *o)
{
	bool full[2] = {false, false}; /* every socket type of AF_INET, AF_INET6 */
	struct sc_build native = {.arch = seccomp_arch_native(), .nodev = o->nodev,
				  .ptrace_scoped = o->ptrace_scoped, .host_ro = o->host_ro,
				  .no_listener = o->no_listener};
	int r;

	memset(out, 0, sizeof(*out));
	if (s->pol.net == FVM_NET_LOOPBACK) {
		full[0] = full[1] = true;
	} else {
		for (uint32_t i = 0; i < s->pol.nallow; i++) {
			full[0] |= s->pol.allow[i].family == AF_INET;
			full[1] |= s->pol.allow[i].family == AF_INET6;
		}
	}
	struct bpf_key key;
	bool keyed = o->cache && bpf_key_make(&key, s, o, full);
	if (keyed && bpf_cache_load(o->cache, &key, out) == 0) {
		out->full_inet = full[0];
		out->full_inet6 = full[1];
		out->nodev = o->nodev;
		return quota_rows(s, o, out);
	}
	if ((r = build_arch(&native, s, o->tcp_fenced, full)) < 0) {
		goto out;
	}
	out->nrules = native.nrules;
	out->notify = native.notify;
#ifdef COMPAT_ARCH
	struct sc_build compat = {.arch = COMPAT_ARCH, .compat = true, .nodev = o->nodev,
				  .ptrace_scoped = o->ptrace_scoped, .host_ro = o->host_ro,
				  .no_listener = o->no_listener};
	if ((r = build_arch(&compat, s, o->tcp_fenced, full)) < 0) {
		seccomp_release(compat.ctx);
		goto out;
	}
	out->notify |= compat.notify;
	/* The merge takes COMPAT's context (released with NATIVE's). */
	if ((r = seccomp_merge(native.ctx, compat.ctx)) < 0) {
		seccomp_release(compat.ctx);
		goto out;
	}
#endif
	/* Any other ABI (x32 on x86_64) fails closed; a binary tree keeps every call's path
	 * short whatever the number of rules. */
	if ((r = seccomp_attr_set(native.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS))) < 0 ||
	    (r = seccomp_attr_set(native.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		goto out;
	}
	if ((r = export_prog(native.ctx, &out->prog)) == 0 && !o->host_ro) {
		r = unnamed_prologue(&out->prog);
	}
	/* A nested run has no listener: its lookups are left to the outer run's rows. A
	 * root run's processes live in a mount namespace the supervisor is not in
	 * (rootfence.c): virtguard.c reads their host objects beneath the caller's own
	 * root and makes its changes in a child that entered the caller's namespace. */
	if (r == 0 && !o->no_listener) {
		if ((r = virt_prologue(&out->prog, o->host_ro)) == 0) {
			out->notify = true;
		}
	}
out:
	seccomp_release(native.ctx);
	if (r < 0) {
		fprintf(stderr, "fvm-exec: cannot build the seccomp filter: %s\n", strerror(-r));
		return -1;
	}
	out->full_inet = full[0];
	out->full_inet6 = full[1];
	out->nodev = o->nodev;
	if (keyed) {
		bpf_cache_store(o->cache, &key, out);
	}
	return quota_rows(s, o, out);
}

int fence_filter_install(const struct exec_filter *f, const struct exec_filter *nested, int *notify_fd,
			 bool *nested_used)
{
	unsigned flags = f->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &f->prog);

	*notify_fd = -1;
	*nested_used = false;
	if (r < 0 && errno == EBUSY && f->notify && nested && nested->prog.filter) {
		/* an outer run's listener: this run's notified calls fail closed instead */
		*nested_used = true;
		return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &nested->prog) < 0 ? -errno : 0;
	}
	if (r < 0) {
		return -errno;
	}
	if (f->notify) {
		*notify_fd = (int)r;
	}
	return 0;
}

void fence_filter_say(const struct exec_filter *f, struct exec_fence *fence, const struct exec_settings *s,
		      bool tcp_fenced)
{
	fence_say(fence, "seccomp: libseccomp filter, %d rules, %u instructions, native%s; other ABIs (x32) ENOSYS\n",
		  f->nrules, f->prog.len,
#ifdef COMPAT_ARCH
		  " and " COMPAT_NAME
#else
		  ""
#endif
	);
	if (s->pol.net == FVM_NET_ALL) {
		fence_say(fence, "seccomp: sockets not filtered (--net all)\n");
	} else {
		fence_say(fence, "seccomp: sockets: unix; inet: %s; inet6: %s%s; other families EAFNOSUPPORT%s\n",
			  f->full_inet ? "all" : tcp_fenced ? "tcp only (landlock fences its ports), others EACCES" : "EACCES",
			  f->full_inet6 ? "all" : tcp_fenced ? "tcp only, others EACCES" : "EACCES",
			  s->pol.net == FVM_NET_LOOPBACK ? "; netlink (route)" : "",
#ifdef COMPAT_ARCH
			  "; " COMPAT_NAME " socket/socketcall EAFNOSUPPORT"
#else
			  ""
#endif
		);
	}
	if (s->unix_vm) {
		fence_say(fence, "seccomp: connect notified: the supervisor connects AF_UNIX path sockets of the VM, of "
				 "shared paths and --allow unix:PATH only (EACCES otherwise)\n");
		fence_say(fence, "seccomp: sendto with an address, sendmsg, sendmmsg notified: the supervisor sends "
				 "AF_UNIX datagrams itself, to the same sockets only\n");
	}
	fence_say(fence, "seccomp: io_uring, openat2, clone3 ENOSYS; TIOCSTI/TIOCLINUX, hostname, clock, keyrings, "
			 "mounts, modules, swap, reboot, namespaces, bpf, perf EPERM; another process's "
			 "scheduling, priorities and limits: the VM's own only (the supervisor checks the pid), "
			 "EPERM otherwise%s\n",
		  f->nodev ? "" : "; mknod of devices EPERM");
	fence_say(fence, "truncate: seccomp refuses truncate(2) and read-only O_TRUNC opens (EACCES), openat2 "
			 "is ENOSYS; Landlock does not handle TRUNCATE, so opens stay fast\n");
}
