/*
 * fence.c — the kernel fence of a run (run.h): what keeps the host safe from
 * what libfvm cannot see (a static binary, a raw system call, io_uring).
 *
 * Rules:
 *  - Landlock, at the ABI the running kernel offers (probed, never assumed):
 *    every write right but one (write, create, remove, make device/fifo/socket/link,
 *    rename or link across directories) is handled, and granted only beneath the VM's
 *    directory, the shared paths, /dev/shm and /dev/mqueue (libfvm keeps the VM's POSIX
 *    IPC objects there), /dev/pts, and the character devices a program writes to
 *    (/dev/null, zero, full, tty, ptmx, random, urandom). Reading is not restricted.
 *    ABI >= 6: signals and abstract unix sockets are scoped to the fvm-exec run (two
 *    runs of one VM cannot meet at an abstract socket; a limit, documented).
 *  - Truncation: Landlock's TRUNCATE right (ABI 3) MUST NOT be handled: with it, every
 *    open(2), even O_RDONLY, walks the path to the root to decide the fd's truncate
 *    right (+0.9 us an open here). Instead the seccomp filter, installed for every
 *    fenced run, refuses each way to truncate without a write open (which WRITE_FILE
 *    refuses): truncate/truncate64 (EACCES, the errno Landlock gave); open, openat,
 *    open_by_handle_at whose flags carry O_TRUNC with access mode O_RDONLY or 3 (Linux
 *    truncates then; EACCES; O_PATH ignores O_TRUNC and passes); openat2 (ENOSYS: its
 *    flags are behind a pointer; callers fall back to openat); io_uring_setup (ENOSYS).
 *    The same for i386 programs on x86_64. ftruncate and fallocate need a write fd.
 *    So the fence is as strong at every ABI, ABI < 3 included, and stronger: a raw
 *    truncate(2) of a shared path is refused too (libfvm's truncate() opens for writing
 *    and calls ftruncate, so dynamic programs do not see it).
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
 *  - Always (with the fence): io_uring, which could open files and sockets around the
 *    filter, is ENOSYS; so is the x32 ABI.
 *  - POSIX message queues live in the IPC namespace's internal mqueue mount, which a
 *    Landlock rule covers only through an mqueue mount at /dev/mqueue. Without one, a
 *    broker outside the fence (mqbroker.c, fvm/mqbroker.h) opens the VM's queues for
 *    writing; its socket is named to libfvm by FVM_ENV_MQ.
 *  - no_new_privs is always set: a setuid program cannot leave the fence.
 *  - The ruleset and the filter are built in fvm-exec (errors before anything runs) and
 *    installed by the child just before the exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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
	{"/dev/pts", false}, {"/dev/shm", false}, {"/dev/mqueue", false},
};

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

/* Appends to F->summary. */
static void say(struct exec_fence *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct exec_fence *f, const char *fmt, ...)
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
		say(f, "landlock: not offered by this kernel (writes of static programs are NOT fenced)\n");
		return -1;
	}
	for (size_t i = 0; i < sizeof(fs_rights) / sizeof(fs_rights[0]); i++) {
		if (f->abi >= fs_rights[i].abi) {
			attr.handled_access_fs |= fs_rights[i].rights;
		}
	}
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
		say(f, "landlock: ABI %d, cannot create a ruleset: %s\n", f->abi, strerror(errno));
		return -1;
	}
	f->ruleset_fd = fd;
	int r = ll_allow_path(fd, vmdir, attr.handled_access_fs);
	if (r < 0) {
		say(f, "landlock: %s: %s\n", vmdir, strerror(-r));
		return -1;
	}
	for (size_t i = 0; i < sizeof(dev_paths) / sizeof(dev_paths[0]); i++) {
		ll_allow_path(fd, dev_paths[i].path, attr.handled_access_fs); /* absent: not needed */
	}
	size_t nshared = 0;
	for (uint32_t i = 0; i < pol->nrules; i++) {
		const char *p = pol->blob + pol->rules[i].off;
		if (pol->rules[i].klass != FVM_CLASS_SHARED) {
			continue;
		}
		if (ll_allow_path(fd, p, attr.handled_access_fs) < 0) {
			say(f, "landlock: shared path %s does not exist: not writable in the VM\n", p);
		} else {
			nshared++;
		}
	}
	say(f, "landlock: ABI %d: writes only beneath the VM, %zu shared path%s, /dev/shm, "
	       "/dev/mqueue, /dev/pts and the usual devices\n",
	    f->abi, nshared, nshared == 1 ? "" : "s");
	if (net_rules) {
		for (uint32_t i = 0; i < pol->nallow; i++) {
			ll_allow_port(fd, pol->allow[i].port, LL_NET_BIND_TCP | LL_NET_CONNECT_TCP);
		}
		f->tcp_fenced = true;
		say(f, "landlock: tcp bind/connect denied (EACCES)%s; by port only: addresses are libfvm's\n",
		    pol->nallow ? " except the ports of --allow rules" : "");
	} else if (pol->net == FVM_NET_NONE) {
		say(f, "landlock: tcp not restricted by port (%s): seccomp refuses inet sockets instead\n",
		    f->abi < 4 ? "ABI < 4" : "an --allow rule opens every port");
	} else if (pol->net != FVM_NET_ALL) {
		say(f, "landlock: tcp not restricted by port (%s): libfvm checks addresses\n",
		    f->abi < 4 ? "ABI < 4" : "--net loopback names addresses, not ports");
	}
	say(f, f->abi >= 6 ? "landlock: signals and abstract unix sockets scoped to the VM\n"
			   : "landlock: signals and abstract unix sockets NOT scoped (ABI < 6)\n");
	return complete ? 0 : -1;
}

/* ---- seccomp ---- */

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#else
#error "fvm: add this architecture's AUDIT_ARCH to fvm-exec/run/fence.c"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(n) (offsetof(struct seccomp_data, args[n]))
#else
#define ARG_LO(n) (offsetof(struct seccomp_data, args[n]) + 4)
#endif

#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define RET_ERRNO(e) STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))
#define RET_ALLOW STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

#define FILTER_MAX 160

/* A filter being built: instructions past FILTER_MAX are counted, not written. */
struct filter {
	struct sock_filter prog[FILTER_MAX];
	int n;
};

static void emit(struct filter *fl, struct sock_filter ins)
{
	if (fl->n < FILTER_MAX) {
		fl->prog[fl->n] = ins;
	}
	fl->n++;
}

/* What a rule does with the system call it names. */
enum sc_action {
	SC_ERRNO,       /* fails with errno .val */
	SC_READ_TRUNC,  /* EACCES when its flags (argument .val) truncate without write access */
};

struct sc_rule {
	uint32_t nr;
	enum sc_action action;
	uint32_t val;
};

/*
 * The truncate rules, native ABI: the ways to truncate a file that Landlock no longer
 * refuses once it does not handle TRUNCATE (a write open stays WRITE_FILE's; creat is
 * one). openat first: it is the hottest system call of all.
 */
static const struct sc_rule native_file_rules[] = {
	{__NR_openat, SC_READ_TRUNC, 2},
#ifdef __NR_open
	{__NR_open, SC_READ_TRUNC, 1},
#endif
	{__NR_open_by_handle_at, SC_READ_TRUNC, 2},
	{__NR_truncate, SC_ERRNO, EACCES},
#ifdef __NR_truncate64
	{__NR_truncate64, SC_ERRNO, EACCES},
#endif
	/* Its flags are behind a pointer the filter cannot read: callers fall back to openat. */
	{__NR_openat2, SC_ERRNO, ENOSYS},
	/* Its opens (and sockets) happen around every rule here. */
	{__NR_io_uring_setup, SC_ERRNO, ENOSYS},
};

#if defined(__x86_64__)
/* The same for i386 programs, by their numbers (this build's headers are x86_64's). */
static const struct sc_rule i386_file_rules[] = {
	{295, SC_READ_TRUNC, 2}, /* openat */
	{5, SC_READ_TRUNC, 1},   /* open */
	{342, SC_READ_TRUNC, 2}, /* open_by_handle_at */
	{92, SC_ERRNO, EACCES},  /* truncate */
	{193, SC_ERRNO, EACCES}, /* truncate64 */
	{437, SC_ERRNO, ENOSYS}, /* openat2 */
	{425, SC_ERRNO, ENOSYS}, /* io_uring_setup */
};

/* Under a socket policy: socketcall hides the family from the filter, so both ways of
 * opening a socket fail for i386 programs. */
static const struct sc_rule i386_socket_rules[] = {
	{102, SC_ERRNO, EAFNOSUPPORT}, /* socketcall */
	{359, SC_ERRNO, EAFNOSUPPORT}, /* socket */
};
#endif

/*
 * Appends RULES (N of them). The accumulator holds the system call number before and
 * after each rule that does not match; a rule that matches returns.
 */
static void emit_rules(struct filter *fl, const struct sc_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct sc_rule *r = &rules[i];

		if (r->action == SC_ERRNO) {
			emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, r->nr, 0, 1));
			emit(fl, RET_ERRNO(r->val));
			continue;
		}
		/*
		 * Linux truncates on O_TRUNC whatever the access mode, and Landlock's
		 * WRITE_FILE sees only the fd's mode: O_RDONLY, and mode 3 (neither read nor
		 * write, for ioctls), truncate unchecked. O_PATH ignores O_TRUNC: allowed.
		 */
		emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, r->nr, 0, 6));
		emit(fl, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(r->val)));
		emit(fl, STMT(BPF_ALU | BPF_AND | BPF_K, O_TRUNC | O_PATH | O_ACCMODE));
		emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_TRUNC | O_RDONLY, 2, 0));
		emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_TRUNC | O_ACCMODE, 1, 0));
		emit(fl, RET_ALLOW);
		emit(fl, RET_ERRNO(EACCES));
	}
}

/*
 * Appends the rule for inet family FAM when Landlock fences TCP: a TCP socket
 * (SOCK_STREAM, protocol 0 or IPPROTO_TCP) is allowed, Landlock answers its connect and
 * bind; any other socket of FAM fails with EACCES. The accumulator holds the family and
 * is left so for a family that does not match.
 */
static void emit_tcp_only(struct filter *fl, int fam)
{
	emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)fam, 0, 8));
	emit(fl, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)));
	emit(fl, STMT(BPF_ALU | BPF_AND | BPF_K, 0xf)); /* less SOCK_NONBLOCK, SOCK_CLOEXEC */
	emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 0, 3));
	emit(fl, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)));
	/* Only plain TCP: SCTP or MPTCP streams are not what Landlock's TCP rules see. */
	emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0));
	emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 1, 0));
	emit(fl, RET_ERRNO(EACCES));
	emit(fl, RET_ALLOW);
}

/*
 * Appends the native socket policy of S and ends the native part; the accumulator holds
 * the system call number. Says what it does.
 */
static void emit_sockets(struct filter *fl, struct exec_fence *f, const struct exec_settings *s)
{
	static const int inet[] = {AF_INET, AF_INET6};
	bool full[2] = {false, false}; /* every socket type of inet[i] */

	if (s->pol.net == FVM_NET_LOOPBACK) {
		full[0] = full[1] = true;
	} else {
		for (uint32_t i = 0; i < s->pol.nallow; i++) {
			full[0] |= s->pol.allow[i].family == AF_INET;
			full[1] |= s->pol.allow[i].family == AF_INET6;
		}
	}
	bool netlink = s->pol.net == FVM_NET_LOOPBACK;

	emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0));
	emit(fl, RET_ALLOW);
	emit(fl, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)));
	emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1));
	emit(fl, RET_ALLOW);
	for (int i = 0; i < 2; i++) {
		if (full[i]) {
			emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)inet[i], 0, 1));
			emit(fl, RET_ALLOW);
		} else if (f->tcp_fenced) {
			emit_tcp_only(fl, inet[i]);
		} else {
			/* The policy's refusal, the errno libfvm gives for a refused address. */
			emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)inet[i], 0, 1));
			emit(fl, RET_ERRNO(EACCES));
		}
	}
	if (netlink) {
		emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 3));
		emit(fl, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)));
		emit(fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, NETLINK_ROUTE, 0, 1));
		emit(fl, RET_ALLOW);
	}
	emit(fl, RET_ERRNO(EAFNOSUPPORT));
	say(f, "seccomp: sockets: unix; inet: %s; inet6: %s%s; other families EAFNOSUPPORT\n",
	    full[0] ? "all" : f->tcp_fenced ? "tcp only (landlock fences its ports), others EACCES" : "EACCES",
	    full[1] ? "all" : f->tcp_fenced ? "tcp only, others EACCES" : "EACCES",
	    netlink ? "; netlink (route)" : "");
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Builds the filter of every fenced run: the truncate rules and io_uring always, the
 * socket policy when --net is not all. Returns 0, or -1 after a message (a filter longer
 * than FILTER_MAX: a bug).
 */
static int build_filter(struct exec_fence *f, const struct exec_settings *s)
{
	static struct filter fl;
	static struct sock_fprog fprog;
	bool sockets = s->pol.net != FVM_NET_ALL;

	fl.n = 0;
	emit(&fl, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
#if defined(__x86_64__)
	int to_i386 = fl.n; /* its jf is set once the native part's length is known */
	emit(&fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 0));
	emit(&fl, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	emit(&fl, JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1)); /* x32 */
	emit(&fl, RET_ERRNO(ENOSYS));
#else
	emit(&fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0));
	emit(&fl, RET_ERRNO(ENOSYS));
	emit(&fl, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
#endif
	emit_rules(&fl, native_file_rules, NELEM(native_file_rules));
	if (sockets) {
		emit_sockets(&fl, f, s);
	} else {
		emit(&fl, RET_ALLOW);
		say(f, "seccomp: sockets not filtered (--net all)\n");
	}
#if defined(__x86_64__)
	if (fl.n - to_i386 - 1 > 255) {
		fl.n = FILTER_MAX + 1; /* a jump cannot reach: reported below */
	} else {
		fl.prog[to_i386].jf = (uint8_t)(fl.n - to_i386 - 1);
	}
	emit(&fl, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0));
	emit(&fl, RET_ERRNO(ENOSYS)); /* no other ABI reaches an x86_64 kernel: fail closed */
	emit(&fl, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	emit_rules(&fl, i386_file_rules, NELEM(i386_file_rules));
	if (sockets) {
		emit_rules(&fl, i386_socket_rules, NELEM(i386_socket_rules));
	}
	emit(&fl, RET_ALLOW);
#endif
	if (fl.n > FILTER_MAX) {
		fprintf(stderr, "fvm-exec: internal error: the seccomp filter needs %d instructions, "
				"more than %d\n", fl.n, FILTER_MAX);
		return -1;
	}
	fprog.len = (unsigned short)fl.n;
	fprog.filter = fl.prog;
	f->filter = &fprog;
	f->seccomp = true;
	say(f, "seccomp: io_uring and the x32 ABI denied (ENOSYS)%s\n",
#if defined(__x86_64__)
	    sockets ? "; i386 programs: as native, and socketcall/socket EAFNOSUPPORT" : "; i386 programs: as native"
#else
	    ""
#endif
	);
	say(f, "truncate: seccomp refuses truncate(2) and read-only O_TRUNC opens (EACCES), openat2 "
	       "is ENOSYS; Landlock does not handle TRUNCATE, so opens stay fast\n");
	return 0;
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
		say(f, "landlock: no mqueue mount and no queue broker (%s): mq_open for writing fails\n",
		    strerror(-r));
		return;
	}
	/* The pid SO_PEERCRED reports on a socketpair: its creator's, fvm-exec's. */
	snprintf(val, sizeof(val), "%d:%d", f->mq_fd, (int)getpid());
	setenv(FVM_ENV_MQ, val, 1);
	say(f, "landlock: no mqueue mount at /dev/mqueue: queues are opened for writing by the "
	       "run's supervisor, outside the fence, for the VM's names only\n");
}

int fence_prepare(struct exec_fence *f, const struct exec_settings *s, const char *vmdir)
{
	bool complete = true;

	memset(f, 0, sizeof(*f));
	f->ruleset_fd = -1;
	f->mq_fd = -1;
	f->mq.sock = -1;
	unsetenv(FVM_ENV_MQ); /* an outer run's broker is not this VM's */
	if (s->enforce == ENFORCE_OFF) {
		f->off = true;
		say(f, "fence: off (--enforce off): static programs and raw system calls can write to the host\n");
		return 0;
	}
	if (ll_prepare(f, s, vmdir) < 0) {
		complete = false;
	}
	mq_prepare(f, vmdir);
	if (build_filter(f, s) < 0) {
		return -1;
	}
	say(f, "no_new_privs: set\n");
	if (!complete && s->enforce == ENFORCE_REQUIRE) {
		fprintf(stderr, "fvm-exec: --enforce require: the kernel fence is incomplete:\n%s", f->summary);
		return -1;
	}
	return 0;
}

int fence_apply(const struct exec_fence *f)
{
	if (f->off) {
		return 0; /* --enforce off */
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		return -errno;
	}
	if (f->mq_fd >= 0 && fcntl(f->mq_fd, F_SETFD, 0) < 0) { /* the VM keeps it */
		return -errno;
	}
	if (f->seccomp && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, f->filter) < 0) {
		return -errno;
	}
	if (f->ruleset_fd >= 0) {
		if (syscall(SYS_landlock_restrict_self, f->ruleset_fd, 0) < 0) {
			return -errno;
		}
		close(f->ruleset_fd);
	}
	return 0;
}
