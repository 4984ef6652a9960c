/*
 * quotaguard.c — disk-limit for the writes libfvm does not see (run.h; docs/DESIGN.md
 * "Accounting", Disk quotas): write, pwrite64, writev, pwritev, pwritev2, ftruncate,
 * fallocate, copy_file_range, sendfile and splice that no libfvm wrapper counted
 * (glibc stdio's internal writes, a static program's, Go's, syscall(3)), checked
 * against the VM's state words (FVM_STATE_BYTES) with the core's own accounting
 * (core/quota.c).
 *
 * Rules:
 *  - Only when the run has a disk-limit: quota_prologue's rows exist only then, so a
 *    VM without one pays nothing (seccomp.c calls it). They notify these calls from
 *    any code (a static program's, glibc's internal writes of stdio, syscall(3)), but
 *    for a write, pwrite64, writev or pwritev whose sixth argument register holds the
 *    run's marker (a random word, FVM_QUOTA_GUARD in the environment): libfvm's write
 *    wrappers count those themselves, in-process, and mark the call they make
 *    (libfvm/write.c). A program that forges the marker escapes the accounting only.
 *  - A call whose target fd is no regular file of upper/ (a pipe, a terminal, a host
 *    file of a shared tree, a file of another VM) is continued at once: the fd's
 *    /proc/PID/fd link is read first, the fd itself taken (pidfd_getfd) only when the
 *    link lies beneath upper/, and its own link and fstat checked again.
 *  - What a call may add past the file's end is reserved before the call, all or
 *    nothing: a call that would pass the limit answers EDQUOT and the file is
 *    unchanged (before RLIMIT_FSIZE is considered, as libfvm's wrappers answer). The bytes a call may add are bounded by what it can really move (the
 *    input file's remaining bytes for copy_file_range and sendfile, the pipe's
 *    capacity for splice) and by the caller's RLIMIT_FSIZE (the kernel writes no
 *    further).
 *  - ftruncate and fallocate are made here, on the caller's own open file (the same
 *    description: pidfd_getfd), so that a shrink gives its bytes back exactly and a
 *    failure keeps nothing; both are idempotent, so a notification interrupted by a
 *    signal and restarted does no harm. The write family is continued after the
 *    reservation: the kernel makes the caller's own call; what it did not write (an
 *    error, a short write) stays counted until the next run's recount. Performing the
 *    writes here would copy every byte through the supervisor and, for a call
 *    interrupted by a signal after it was made, make it twice.
 *  - The state words are the VM's to write (the data area): this is accounting for
 *    honest programs, not a fence; RLIMIT_FSIZE still bounds each file.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fvm/env.h"
#include "fvm/policy.h"
#include "fvm/vm.h"
#include "run.h"

#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif
#ifndef F_GETPIPE_SZ
#define F_GETPIPE_SZ 1032
#endif

/* The run's marker (quota_prologue): libfvm's accounted writes carry it. */
static uint64_t marker;

const char *quota_guard_env(void)
{
	static char hex[17];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)marker);
	return hex;
}

int quota_prologue(struct sock_fprog *prog)
{
#if defined(__x86_64__)
	/* marked: libfvm counts them itself when they carry the marker (pwritev2's sixth
	 * argument is its flags: never marked) */
	static const uint32_t marked[] = {SYS_write, SYS_pwrite64, SYS_writev, SYS_pwritev};
	static const uint32_t others[] = {328 /* pwritev2 */, SYS_ftruncate, SYS_fallocate,
					  326 /* copy_file_range */, SYS_sendfile, SYS_splice};
	const unsigned nm = sizeof(marked) / sizeof(marked[0]), no = sizeof(others) / sizeof(others[0]);
	const unsigned t_mark = 3 + nm + no + 1, t_notify = t_mark + 4, end = t_notify + 1;
	struct sock_filter head[3 + sizeof(marked) / sizeof(marked[0]) + sizeof(others) / sizeof(others[0]) + 1 + 4 + 1];
	unsigned n = 0;

	while (!marker) {
		if (getrandom(&marker, sizeof(marker), 0) != (ssize_t)sizeof(marker)) {
			return -errno;
		}
	}
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	head[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SCMP_ARCH_X86_64, 0, (uint8_t)(end - 2));
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < nm; i++) {
		head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, marked[i], (uint8_t)(t_mark - n - 1), 0);
		n++;
	}
	for (unsigned i = 0; i < no; i++) {
		head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, others[i], (uint8_t)(t_notify - n - 1), 0);
		n++;
	}
	head[n] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, end - n - 1);
	n++;
	/* t_mark: the sixth argument register is the marker: libfvm's call, counted there */
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5]));
	head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)marker, 0, (uint8_t)(t_notify - n - 1));
	n++;
	head[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5]) + 4);
	head[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(marker >> 32), (uint8_t)(end - n - 1), 0);
	n++;
	return prog_prepend_notify(prog, head, n, end);
#else
	(void)prog;
	return 0;
#endif
}

/* The VM's paths, policy and state words, from the run's environment (read on first
 * use, as virtguard.c's vm_ready). */
static struct fvm_vm qvm;
static int qvm_state; /* 0: not yet, 1: ready, -1: cannot (every call continued) */

static bool qvm_ready(void)
{
	if (qvm_state == 0) {
		const char *name = getenv(FVM_ENV_VM), *root = getenv(FVM_ENV_ROOT);
		const char *home = getenv(FVM_ENV_HOME), *pol = getenv(FVM_ENV_POLICY);
		uint64_t *w;
		qvm_state = -1;
		if (root && root[0] == '/' && pol && *pol && fvm_vm_setup(&qvm, name ? name : "", root, home) == 0 &&
		    (qvm.policy = fvm_policy_map(pol)) && fvm_gen_map(qvm.root, &w) == 0) {
			qvm.quota = w;
			qvm_state = fvm_quota_on(&qvm) ? 1 : -1;
		}
	}
	return qvm_state == 1;
}

/* Whether LINK (an fd's /proc link text) names a file beneath upper/. */
static bool upper_link(const char *link, ssize_t len)
{
	return len > (ssize_t)qvm.upper_len && memcmp(link, qvm.upper, qvm.upper_len) == 0 &&
	       link[qvm.upper_len] == '/';
}

/*
 * The caller PID's fd FDNUM when it is a regular file of upper/ open for writing: a
 * copy (the same open file description) with its fstat in *ST and status flags in
 * *FL, or -1 (continue the call).
 */
static int upper_fd(pid_t pid, int fdnum, struct stat *st, int *fl)
{
	char proc[64], link[PATH_MAX];
	ssize_t len;
	int fd;

	if (fdnum < 0) {
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", (int)pid, fdnum);
	if ((len = readlink(proc, link, sizeof(link) - 1)) <= 0 || !upper_link(link, len)) {
		return -1; /* a pipe, a terminal, a host file: nothing of the layer */
	}
	if ((fd = notify_getfd(pid, fdnum)) < 0) {
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((len = readlink(proc, link, sizeof(link) - 1)) <= 0 || !upper_link(link, len) || fstat(fd, st) < 0 ||
	    !S_ISREG(st->st_mode) || (*fl = fcntl(fd, F_GETFL)) < 0 || (*fl & O_ACCMODE) == O_RDONLY) {
		close(fd); /* replaced meanwhile, or not writable: the kernel answers */
		return -1;
	}
	return fd;
}

/* The caller's RLIMIT_FSIZE (the kernel writes no further); RLIM_INFINITY: none. */
static uint64_t caller_fsize(pid_t pid)
{
	struct rlimit rl;

	if (prlimit(pid, RLIMIT_FSIZE, NULL, &rl) < 0) {
		return RLIM_INFINITY;
	}
	return rl.rlim_cur;
}

/* The bytes of the caller's vector IOV (CNT entries); 0 when unreadable (the kernel
 * answers EFAULT or EINVAL). */
static uint64_t iov_bytes(pid_t pid, uint64_t iov, uint64_t cnt)
{
	struct iovec v[64];
	uint64_t total = 0;

	if (cnt > 1024) { /* UIO_MAXIOV */
		return 0;
	}
	for (uint64_t i = 0; i < cnt; i += 64) {
		size_t k = cnt - i < 64 ? (size_t)(cnt - i) : 64;
		if (notify_read(pid, iov + i * sizeof(struct iovec), v, k * sizeof(struct iovec)) < 0) {
			return 0;
		}
		for (size_t j = 0; j < k; j++) {
			total += v[j].iov_len;
		}
	}
	return total;
}

/* A file offset in the caller's memory at ADDR (0: none) into *OFF. */
static bool caller_off(pid_t pid, uint64_t addr, int64_t *off)
{
	return addr && notify_read(pid, addr, off, sizeof(*off)) == 0;
}

/* What a transfer from the caller's fd IN (at *IN_OFF's offset, or its own) can move at
 * most, up to LEN: a regular file's remaining bytes, a pipe's capacity. */
static uint64_t source_bytes(pid_t pid, int in, uint64_t in_off_addr, uint64_t len)
{
	struct stat st;
	int64_t at;
	uint64_t most = len;
	int fd = notify_getfd(pid, in);

	if (fd < 0) {
		return len;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if (!caller_off(pid, in_off_addr, &at)) {
			at = lseek(fd, 0, SEEK_CUR);
		}
		most = at >= 0 && at < st.st_size ? (uint64_t)(st.st_size - at) : 0;
	} else if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		int queued = 0, cap = fcntl(fd, F_GETPIPE_SZ);
		if (ioctl(fd, FIONREAD, &queued) < 0) {
			queued = 0;
		}
		most = (uint64_t)(queued > cap ? queued : cap > 0 ? cap : 1 << 20);
	}
	close(fd);
	return most < len ? most : len;
}

/* Reserves what a call writing LEN bytes at AT (< 0: the fd's offset, or its end under
 * O_APPEND) adds to FD's file. 0 (nothing to reserve included) or -EDQUOT. */
static long reserve_growth(pid_t pid, int fd, const struct stat *st, int fl, int64_t at, uint64_t len)
{
	if (len == 0) {
		return 0;
	}
	if (fl & O_APPEND) {
		at = st->st_size;
	} else if (at < 0 && (at = lseek(fd, 0, SEEK_CUR)) < 0) {
		return 0; /* no offset: the kernel answers */
	}
	uint64_t end = (uint64_t)at + len, lim = caller_fsize(pid);
	if (end < (uint64_t)at) {
		return 0; /* an overflow: the kernel's EINVAL */
	}
	if (end > (uint64_t)st->st_size && fvm_quota_room(&qvm) < end - (uint64_t)st->st_size) {
		return -EDQUOT; /* the quota answers before RLIMIT_FSIZE, as libfvm's wrappers do */
	}
	if (lim != RLIM_INFINITY && end > lim) {
		end = lim; /* the kernel writes up to the limit, or sends SIGXFSZ */
	}
	if (end <= (uint64_t)st->st_size) {
		return 0;
	}
	return fvm_quota_reserve(&qvm, end - (uint64_t)st->st_size, 0);
}

/* ftruncate(2) on the caller's file FD: a growth reserved first, a shrink given back. */
static long resize(pid_t pid, int fd, const struct stat *st, int64_t len, bool *cont)
{
	uint64_t lim = caller_fsize(pid);

	if (len > st->st_size && fvm_quota_room(&qvm) < (uint64_t)(len - st->st_size)) {
		return -EDQUOT; /* before RLIMIT_FSIZE, as libfvm's wrappers do */
	}
	if (len < 0 || (lim != RLIM_INFINITY && (uint64_t)len > lim)) {
		*cont = true; /* the kernel's EINVAL, or EFBIG and SIGXFSZ */
		return 0;
	}
	return quota_guard_ftruncate(&qvm, fd, st, (off_t)len);
}

long quota_guard_ftruncate(const struct fvm_vm *vm, int fd, const struct stat *st, off_t len)
{
	struct stat mine;

	if (!st) {
		if (fstat(fd, &mine) < 0) {
			return -errno;
		}
		st = &mine;
	}
	if (len > st->st_size && fvm_quota_reserve(vm, (uint64_t)(len - st->st_size), 0) < 0) {
		return -EDQUOT;
	}
	long r = ftruncate(fd, len) < 0 ? -errno : 0;
	if (r < 0 && len > st->st_size) {
		fvm_quota_add(vm, -(int64_t)(len - st->st_size), 0); /* not grown after all */
	} else if (r == 0 && len < st->st_size) {
		fvm_quota_add(vm, -(int64_t)(st->st_size - len), 0); /* shrunk */
	}
	return r;
}

/* fallocate(2) mode 0 on the caller's file FD: what grows the size reserved first. */
static long allocate(pid_t pid, int fd, const struct stat *st, int64_t off, int64_t len, bool *cont)
{
	uint64_t lim = caller_fsize(pid);

	if (off >= 0 && len > 0 && off <= INT64_MAX - len && off + len > st->st_size &&
	    fvm_quota_room(&qvm) < (uint64_t)(off + len - st->st_size)) {
		return -EDQUOT; /* before RLIMIT_FSIZE, as libfvm's wrappers do */
	}
	if (off < 0 || len <= 0 || off > INT64_MAX - len ||
	    (lim != RLIM_INFINITY && (uint64_t)(off + len) > lim)) {
		*cont = true; /* the kernel's EINVAL, or EFBIG and SIGXFSZ */
		return 0;
	}
	uint64_t grow = off + len > st->st_size ? (uint64_t)(off + len - st->st_size) : 0;
	if (grow && fvm_quota_reserve(&qvm, grow, 0) < 0) {
		return -EDQUOT;
	}
	long r = fallocate(fd, 0, off, len) < 0 ? -errno : 0;
	if (r < 0 && grow) {
		fvm_quota_add(&qvm, -(int64_t)grow, 0);
	}
	return r;
}

long quota_guard_call(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	const __u64 *a = req->data.args;
	pid_t pid = (pid_t)req->pid;
	int out, fd, fl = 0;
	struct stat st;
	long r = 0;

	*cont = true;
	if (req->data.arch != SCMP_ARCH_X86_64 || !qvm_ready()) {
		return 0;
	}
	switch (req->data.nr) {
	case SYS_copy_file_range:
	case SYS_splice:
		out = (int)a[2];
		break;
	default:
		out = (int)a[0];
	}
	if ((fd = upper_fd(pid, out, &st, &fl)) < 0) {
		return 0;
	}
	if (!notify_valid(n, req->id)) {
		close(fd);
		*cont = false;
		return -ESRCH;
	}
	int64_t at = -1;
	switch (req->data.nr) {
	case SYS_write:
		r = reserve_growth(pid, fd, &st, fl, -1, a[2]);
		break;
	case SYS_pwrite64: /* a negative offset: the kernel's EINVAL */
		r = (int64_t)a[3] < 0 ? 0 : reserve_growth(pid, fd, &st, fl, (int64_t)a[3], a[2]);
		break;
	case SYS_writev:
		r = reserve_growth(pid, fd, &st, fl, -1, iov_bytes(pid, a[1], a[2]));
		break;
	case SYS_pwritev: /* the offset's low word: x86_64's high word is 0 */
		r = (int64_t)a[3] < 0 ? 0 : reserve_growth(pid, fd, &st, fl, (int64_t)a[3], iov_bytes(pid, a[1], a[2]));
		break;
	case 328: /* pwritev2: offset -1 is the fd's own; RWF_APPEND the end */
		r = (int64_t)a[3] < -1 ? 0
				       : reserve_growth(pid, fd, &st, (a[5] & RWF_APPEND) ? fl | O_APPEND : fl,
							(int64_t)a[3], iov_bytes(pid, a[1], a[2]));
		break;
	case SYS_sendfile:
		r = reserve_growth(pid, fd, &st, fl, -1, source_bytes(pid, (int)a[1], a[2], a[3]));
		break;
	case SYS_copy_file_range:
	case SYS_splice:
		if (!caller_off(pid, a[3], &at)) {
			at = -1;
		}
		r = reserve_growth(pid, fd, &st, fl, at, source_bytes(pid, (int)a[0], a[1], a[4]));
		break;
	case SYS_ftruncate:
		*cont = false;
		r = resize(pid, fd, &st, (int64_t)a[1], cont);
		break;
	case SYS_fallocate:
		if (a[1] == 0) { /* FALLOC_FL_KEEP_SIZE and the hole modes do not grow the size */
			*cont = false;
			r = allocate(pid, fd, &st, (int64_t)a[2], (int64_t)a[3], cont);
		}
		break;
	default:
		break;
	}
	close(fd);
	if (r < 0) {
		*cont = false;
	}
	return r;
}
