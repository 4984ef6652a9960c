/*
 * try-syscall — one system call (or one quota probe), for the fence and quota tests.
 * Built twice: dynamic (libfvm is loaded, but the calls below go to the kernel by the
 * instruction itself, rawcall.h: libfvm wraps libc's syscall()) and static (libfvm
 * cannot be loaded at all).
 *
 *   try-syscall create PATH       openat(O_CREAT|O_EXCL|O_WRONLY)
 *   try-syscall write PATH        openat(O_WRONLY|O_APPEND) and write one byte
 *   try-syscall unlink PATH       unlinkat
 *   try-syscall connect ADDR PORT a TCP connect to an IPv4 address
 *   try-syscall kill PID          kill(PID, 0)
 *   try-syscall alloc SIZE_MB     allocate and touch SIZE_MB MiB
 *   try-syscall fsize PATH BYTES  write BYTES bytes to a new file
 *   try-syscall openfiles N       open /dev/null up to N times
 *   try-syscall cpu               burn CPU until stopped
 *   try-syscall [x32] OP ARG...   one call of the fence's seccomp rules (table `calls`
 *                                 below, "try-syscall list" names them); x32: through
 *                                 the x32 ABI (number | __X32_SYSCALL_BIT, x86_64 only).
 *                                 Each is harmless when it succeeds: it sets what is
 *                                 already set, names a path that does not exist, or
 *                                 makes an object that dies with the process.
 *
 * Built a third time for i386 (-m32, static) where the compiler can: the same calls,
 * through the i386 ABI. Prints "OP: ok" or "OP: ERRNAME" and exits 0 or 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rawcall.h"
#include "report.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* The ABI of the calls below: x32 sets the x32 bit on each number. */
static long abi_bit;

static long sc(long nr, long a, long b, long c, long d, long e)
{
	return syscall(nr | abi_bit, a, b, c, d, e, 0);
}

static long do_sethostname(char **a)
{
	return sc(SYS_sethostname, (long)a[0], (long)strlen(a[0]), 0, 0, 0);
}

static long do_setdomainname(char **a)
{
	return sc(SYS_setdomainname, (long)a[0], (long)strlen(a[0]), 0, 0, 0);
}

/* Both NULL: sets nothing, but the kernel checks CAP_SYS_TIME first. */
static long do_settimeofday(char **a)
{
	(void)a;
	return sc(SYS_settimeofday, 0, 0, 0, 0, 0);
}

/* CLOCK_MONOTONIC cannot be set: EINVAL natively (EPERM without CAP_SYS_TIME). */
static long do_clock_settime(char **a)
{
	struct timespec ts = {1, 0};
	(void)a;
	return sc(SYS_clock_settime, CLOCK_MONOTONIC, (long)&ts, 0, 0, 0);
}

/* A key in the process keyring, gone with the process. */
static long do_add_key(char **a)
{
	(void)a;
	return sc(SYS_add_key, (long)"user", (long)"fvmtest", (long)"x", 1, -2 /* process */);
}

static long do_keyctl(char **a)
{
	(void)a;
	return sc(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0, 0, 0);
}

static long do_mount(char **a)
{
	return sc(SYS_mount, (long)"fvmtest", (long)a[0], (long)"tmpfs", 0, 0);
}

static long do_umount2(char **a)
{
	return sc(SYS_umount2, (long)a[0], 0, 0, 0, 0);
}

static long do_fsopen(char **a)
{
	(void)a;
	return sc(SYS_fsopen, (long)"tmpfs", 1 /* FSOPEN_CLOEXEC */, 0, 0, 0);
}

/* A detached copy of the root's mount, gone with the fd. */
static long do_open_tree(char **a)
{
	(void)a;
	return sc(SYS_open_tree, AT_FDCWD, (long)"/", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC, 0, 0);
}

static long do_swapon(char **a)
{
	return sc(SYS_swapon, (long)a[0], 0, 0, 0, 0);
}

/* Wrong magic numbers: after the capability check, EINVAL. */
static long do_reboot(char **a)
{
	(void)a;
	return sc(SYS_reboot, 0, 0, 0, 0, 0);
}

static long do_delete_module(char **a)
{
	return sc(SYS_delete_module, (long)a[0], O_NONBLOCK, 0, 0, 0);
}

static long do_acct(char **a)
{
	return sc(SYS_acct, (long)a[0], 0, 0, 0, 0);
}

/* Q_SYNC of every file system's user quotas: writes what is already to be written. */
static long do_quotactl(char **a)
{
	(void)a;
	return sc(SYS_quotactl, (0x800001 << 8) | 0 /* QCMD(Q_SYNC, USRQUOTA) */, 0, 0, 0, 0);
}

/* SYSLOG_ACTION_SIZE_BUFFER: reads a number. */
static long do_syslog(char **a)
{
	(void)a;
	return sc(SYS_syslog, 10, 0, 0, 0, 0);
}

static long do_bpf(char **a)
{
	(void)a;
	return sc(SYS_bpf, 0x7fff, 0, 0, 0, 0);
}

static long do_perf_event_open(char **a)
{
	(void)a;
	return sc(SYS_perf_event_open, 0, 0, -1, -1, 0);
}

static long do_userfaultfd(char **a)
{
	(void)a;
	return sc(SYS_userfaultfd, O_CLOEXEC, 0, 0, 0, 0);
}

static long do_personality(char **a)
{
	return sc(SYS_personality, (long)strtoul(a[0], NULL, 0), 0, 0, 0, 0);
}

static long do_unshare(char **a)
{
	(void)a;
	return sc(SYS_unshare, CLONE_NEWUTS, 0, 0, 0, 0);
}

static long do_setns(char **a)
{
	(void)a;
	return sc(SYS_setns, -1, 0, 0, 0, 0);
}

/* A child in a new UTS namespace (fork-like: no new stack), which exits at once. */
static long do_clone_newuts(char **a)
{
	(void)a;
	long pid = sc(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		_exit(0);
	}
	if (pid > 0) {
		waitpid((pid_t)pid, NULL, 0);
	}
	return pid;
}

static long do_clone3(char **a)
{
	struct clone_args ca = {.exit_signal = SIGCHLD};
	(void)a;
	long pid = sc(SYS_clone3, (long)&ca, sizeof(ca), 0, 0, 0);
	if (pid == 0) {
		_exit(0);
	}
	if (pid > 0) {
		waitpid((pid_t)pid, NULL, 0);
	}
	return pid;
}

/* x32's ioctl has a number of its own. */
static long ioctl_nr(void)
{
	return abi_bit ? 514 : SYS_ioctl;
}

/* One byte into the input of the terminal on fd 0; HI: the command with bits above 32
 * set, which the kernel ignores. */
static long tiocsti(unsigned long hi)
{
	return syscall(ioctl_nr() | abi_bit, 0, (unsigned long)TIOCSTI | hi, "x", 0, 0, 0);
}

static long do_tiocsti(char **a)
{
	(void)a;
	return tiocsti(0);
}

static long do_tiocsti_hi(char **a)
{
	(void)a;
	return tiocsti(sizeof(long) == 8 ? (unsigned long)1 << (sizeof(long) * 4) : 0);
}

/* TIOCL_GETSHIFTSTATE: a read on a virtual console; ENOTTY/EINVAL elsewhere. */
static long do_tioclinux(char **a)
{
	char sub = 6;
	(void)a;
	return syscall(ioctl_nr() | abi_bit, 0, TIOCLINUX, &sub, 0, 0, 0);
}

static long do_vhangup(char **a)
{
	(void)a;
	return sc(SYS_vhangup, 0, 0, 0, 0, 0);
}

/* PID's RLIMIT_FSIZE set to what it is. */
static long do_prlimit(char **a)
{
	struct rlimit rl;
	long pid = atol(a[0]);
	if (sc(SYS_prlimit64, pid, RLIMIT_FSIZE, 0, (long)&rl, 0) < 0) {
		return -1;
	}
	return sc(SYS_prlimit64, pid, RLIMIT_FSIZE, (long)&rl, 0, 0);
}

/* PID's nice value set to what it is. */
static long do_setpriority(char **a)
{
	long pid = atol(a[0]);
	errno = 0;
	int prio = getpriority(PRIO_PROCESS, (id_t)pid);
	if (prio == -1 && errno) {
		return -1;
	}
	return sc(SYS_setpriority, PRIO_PROCESS, pid, prio, 0, 0);
}

static long do_ptrace(char **a)
{
	return sc(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, atol(a[0]), 0, 0, 0);
}

/* mknod PATH c|b|p: a character (1,3: null), block (7,0: loop0) device or a FIFO. */
static long do_mknod(char **a)
{
	mode_t type = a[1][0] == 'c' ? S_IFCHR : a[1][0] == 'b' ? S_IFBLK : S_IFIFO;
	return sc(SYS_mknodat, AT_FDCWD, (long)a[0], type | 0600,
		  type == S_IFIFO ? 0 : (long)(type == S_IFCHR ? makedev(1, 3) : makedev(7, 0)), 0);
}

static long do_open_rw(char **a)
{
	return sc(SYS_openat, AT_FDCWD, (long)a[0], O_RDWR | O_CLOEXEC | O_NONBLOCK, 0, 0);
}

/* The metadata calls, each setting what is already there. */
static long do_chmod(char **a)
{
	struct stat st;
	if (stat(a[0], &st) < 0) {
		return -1;
	}
	return sc(SYS_fchmodat, AT_FDCWD, (long)a[0], st.st_mode & 07777, 0, 0);
}

static long do_chown(char **a)
{
	struct stat st;
	if (stat(a[0], &st) < 0) {
		return -1;
	}
	return sc(SYS_fchownat, AT_FDCWD, (long)a[0], st.st_uid, st.st_gid, 0);
}

static long do_utimes(char **a)
{
	struct stat st;
	if (stat(a[0], &st) < 0) {
		return -1;
	}
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	return sc(SYS_utimensat, AT_FDCWD, (long)a[0], (long)ts, 0, 0);
}

static long do_setxattr(char **a)
{
	return sc(SYS_setxattr, (long)a[0], (long)a[1], (long)"fvmtest", 7, 0);
}

static long do_setflags(char **a)
{
	int flags = 0;
	long fd = sc(SYS_openat, AT_FDCWD, (long)a[0], O_RDONLY | O_CLOEXEC, 0, 0);
	if (fd < 0 || ioctl((int)fd, FS_IOC_GETFLAGS, &flags) < 0) {
		return -1;
	}
	return sc(SYS_ioctl, fd, FS_IOC_SETFLAGS, (long)&flags, 0, 0);
}

static const struct {
	const char *op;
	int nargs;
	long (*call)(char **args);
} calls[] = {
	{"sethostname", 1, do_sethostname},     {"setdomainname", 1, do_setdomainname},
	{"settimeofday", 0, do_settimeofday},   {"clock-settime", 0, do_clock_settime},
	{"add-key", 0, do_add_key},             {"keyctl", 0, do_keyctl},
	{"mount", 1, do_mount},                 {"umount2", 1, do_umount2},
	{"fsopen", 0, do_fsopen},               {"open-tree", 0, do_open_tree},
	{"swapon", 1, do_swapon},               {"reboot", 0, do_reboot},
	{"delete-module", 1, do_delete_module}, {"acct", 1, do_acct},
	{"quotactl", 0, do_quotactl},           {"syslog", 0, do_syslog},
	{"bpf", 0, do_bpf},                     {"perf-event-open", 0, do_perf_event_open},
	{"userfaultfd", 0, do_userfaultfd},     {"personality", 1, do_personality},
	{"unshare", 0, do_unshare},             {"setns", 0, do_setns},
	{"clone-newuts", 0, do_clone_newuts},   {"clone3", 0, do_clone3},
	{"tiocsti", 0, do_tiocsti},             {"tiocsti-hi", 0, do_tiocsti_hi},
	{"tioclinux", 0, do_tioclinux},         {"vhangup", 0, do_vhangup},
	{"prlimit", 1, do_prlimit},             {"setpriority", 1, do_setpriority},
	{"ptrace", 1, do_ptrace},               {"mknod", 2, do_mknod},
	{"open-rw", 1, do_open_rw},             {"chmod", 1, do_chmod},
	{"chown", 1, do_chown},                 {"utimes", 1, do_utimes},
	{"setxattr", 2, do_setxattr},           {"setflags", 1, do_setflags},
};

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	long r;

	signal(SIGXFSZ, SIG_IGN);
	if (strcmp(op, "x32") == 0 && argc > 2) {
#if defined(__x86_64__)
		abi_bit = 0x40000000;
		argv++, argc--;
		op = argv[1];
#else
		printf("x32: not an x86_64 build\n");
		return 2;
#endif
	}
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if (strcmp(op, calls[i].op) == 0 && argc == calls[i].nargs + 2) {
			return report(op, calls[i].call(argv + 2));
		}
	}
	if (strcmp(op, "list") == 0) {
		for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
			printf("%s\n", calls[i].op);
		}
		return 0;
	}
	if (strcmp(op, "create") == 0 && argc == 3) {
		r = syscall(SYS_openat, AT_FDCWD, argv[2], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		return report(op, r);
	}
	if (strcmp(op, "write") == 0 && argc == 3) {
		r = syscall(SYS_openat, AT_FDCWD, argv[2], O_WRONLY | O_APPEND | O_CLOEXEC, 0);
		if (r >= 0) {
			r = syscall(SYS_write, (int)r, "x", 1);
		}
		return report(op, r);
	}
	if (strcmp(op, "unlink") == 0 && argc == 3) {
		return report(op, syscall(SYS_unlinkat, AT_FDCWD, argv[2], 0));
	}
	if (strcmp(op, "connect") == 0 && argc == 4) {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
		inet_pton(AF_INET, argv[2], &sin.sin_addr);
		r = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		if (r >= 0) {
			r = syscall(SYS_connect, (int)r, &sin, sizeof(sin));
		}
		return report(op, r);
	}
	if (strcmp(op, "kill") == 0 && argc == 3) {
		return report(op, syscall(SYS_kill, atoi(argv[2]), 0));
	}
	if (strcmp(op, "alloc") == 0 && argc == 3) {
		size_t len = (size_t)atol(argv[2]) << 20;
		char *p = malloc(len);
		/* Through a volatile pointer: a memset of memory never read again is a dead
		   store the compiler removes, and nothing would be allocated at all. */
		for (size_t i = 0; p && i < len; i += 4096) {
			((volatile char *)p)[i] = 1;
		}
		return report(op, p ? 0 : -1);
	}
	if (strcmp(op, "fsize") == 0 && argc == 4) {
		static char buf[65536];
		long left = atol(argv[3]);
		/* Through libc: the file lands in the VM; the quota is what is tested. */
		r = open(argv[2], O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
		int fd = (int)r;
		while (r >= 0 && left > 0) {
			r = write(fd, buf, left < (long)sizeof(buf) ? (size_t)left : sizeof(buf));
			left -= r > 0 ? r : 0;
		}
		return report(op, r);
	}
	if (strcmp(op, "openfiles") == 0 && argc == 3) {
		int n = 0, want = atoi(argv[2]);
		for (r = 0; n < want && r >= 0; n++) {
			r = open("/dev/null", O_RDONLY);
		}
		if (r < 0) {
			printf("openfiles: %s after %d\n", strerrorname_np(errno), n - 1);
			return 1;
		}
		printf("openfiles: ok\n");
		return 0;
	}
	if (strcmp(op, "cpu") == 0) {
		for (volatile unsigned long i = 0;; i++) {
		}
	}
	fprintf(stderr, "usage: try-syscall create|write|unlink|connect|kill|alloc|fsize|openfiles|cpu|list ...\n");
	return 2;
}
