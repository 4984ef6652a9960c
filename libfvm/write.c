/*
 * write.c — writes that grow a file of upper/: write, pwrite, writev, pwritev(2),
 * ftruncate, fallocate, posix_fallocate, copy_file_range and sendfile, checked against
 * the VM's disk-limit (core/quota.c) before the file grows.
 *
 * Rules:
 *  - Without a disk-limit (or outside a VM) each wrapper is libc's own function after
 *    one test: fvm_quota_on. Nothing else is paid on the hot path.
 *  - With one, an fd is "an upper file" when it is a regular file whose /proc/self/fd
 *    link lies beneath upper/ (read once per open file, kept by fd number with the
 *    file's device and inode, so a number reused for another file is asked again).
 *    Any other fd goes to libc unchanged.
 *  - On an upper file, what the call would add past the file's end is reserved first.
 *    write, pwrite, copy_file_range and sendfile write what fits and no more, as on a
 *    full disk; the vector writes, ftruncate and fallocate are all or nothing. When
 *    nothing fits the call fails with EDQUOT and the file is unchanged. After the call
 *    what it did not write is given back.
 *  - Where the run's supervisor accounts the write family (FVM_ENV_QUOTA, the run's
 *    marker: a disk-limit and a seccomp listener; fvm-exec/run/quotaguard.c), it sees
 *    every such call, stdio's internal writes and raw calls included, but those that
 *    carry the marker in the sixth argument register: write, pwrite, writev and
 *    pwritev count here as before and make their call raw, marked (no cancellation
 *    point then); the others (pwritev2, ftruncate, fallocate, copy_file_range,
 *    sendfile) are libc's, unmarked, and counted there only.
 *  - Otherwise (a nested run, --enforce off) what libfvm does not see is not counted:
 *    stdio's buffered writes (glibc's internal write), static programs and raw system
 *    calls. fvm-exec recounts upper/ at each run's start (README: disk quotas).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fvm/env.h"
#include "libfvm.h"

#define UPPER_FDS 1024

/* Per fd number: the file it was last seen on, and whether that one lies in upper/. */
static struct {
	uint64_t dev, ino;
	uint8_t known, upper;
} upper_fd[UPPER_FDS] FVM_LARGE_BSS;

/* Whether FD is a regular file of upper/; its fstat into ST. */
static bool upper_file(int fd, struct stat *st)
{
	char link[32], target[PATH_MAX];
	ssize_t n;
	bool up;

	if (fd < 0 || sys_fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		return false;
	}
	if (fd < UPPER_FDS && __atomic_load_n(&upper_fd[fd].known, __ATOMIC_ACQUIRE) &&
	    upper_fd[fd].dev == (uint64_t)st->st_dev && upper_fd[fd].ino == (uint64_t)st->st_ino) {
		return upper_fd[fd].upper;
	}
	/* Without printf: write may be called from a signal handler. */
	char digits[12];
	int nd = 0;
	for (int v = fd; nd == 0 || v; v /= 10) {
		digits[nd++] = (char)('0' + v % 10);
	}
	memcpy(link, "/proc/self/fd/", 14);
	for (int i = 0; i < nd; i++) {
		link[14 + i] = digits[nd - 1 - i];
	}
	link[14 + nd] = '\0';
	n = sys_readlinkat(AT_FDCWD, link, target, sizeof(target) - 1);
	up = n > (ssize_t)fvm_g.upper_len && memcmp(target, fvm_g.upper, fvm_g.upper_len) == 0 &&
	     target[fvm_g.upper_len] == '/';
	if (fd < UPPER_FDS) {
		__atomic_store_n(&upper_fd[fd].known, 0, __ATOMIC_RELEASE);
		upper_fd[fd].dev = (uint64_t)st->st_dev;
		upper_fd[fd].ino = (uint64_t)st->st_ino;
		upper_fd[fd].upper = up;
		__atomic_store_n(&upper_fd[fd].known, 1, __ATOMIC_RELEASE);
	}
	return up;
}

/* A growth reserved before a call: the file's size then, where the call writes, and
 * the bytes held. */
struct grow {
	off_t size, at;
	uint64_t held;
};

/*
 * Before a call that writes N bytes to FD at offset AT (-1: the fd's own offset, or
 * its end under O_APPEND): reserves what the file grows by, into G. PARTIAL: fewer
 * bytes may be written. Returns how many bytes may be written (N when FD is no upper
 * file, with nothing held), or -EDQUOT when none.
 */
static ssize_t grow_begin(int fd, off_t at, size_t n, bool partial, struct grow *g)
{
	struct stat st;

	memset(g, 0, sizeof(*g));
	if (n == 0 || !upper_file(fd, &st)) {
		return (ssize_t)n;
	}
	g->size = st.st_size;
	if (at < 0) {
		int fl = sys_fcntl(fd, F_GETFL, 0);
		at = fl >= 0 && (fl & O_APPEND) ? st.st_size : (off_t)FVM_SC(SYS_lseek, fd, 0, SEEK_CUR, 0, 0, 0);
		if (at < 0) {
			return (ssize_t)n;
		}
	}
	g->at = at;
	uint64_t end = (uint64_t)at + n, size = (uint64_t)st.st_size;
	if (end <= size) {
		return (ssize_t)n;
	}
	uint64_t want = end - size;
	if (fvm_quota_reserve(&fvm_g, want, 0) == 0) {
		g->held = want;
		return (ssize_t)n;
	}
	uint64_t room = fvm_quota_room(&fvm_g);
	if (!partial || room == 0 || room >= want || fvm_quota_reserve(&fvm_g, room, 0) < 0) {
		return -EDQUOT;
	}
	g->held = room;
	return (ssize_t)(n - (want - room));
}

/* After the call: gives back what was held beyond what DONE bytes (< 0: none) added. */
static void grow_end(const struct grow *g, ssize_t done)
{
	uint64_t used = 0;

	if (!g->held) {
		return;
	}
	if (done > 0 && (uint64_t)g->at + (uint64_t)done > (uint64_t)g->size) {
		used = (uint64_t)g->at + (uint64_t)done - (uint64_t)g->size;
	}
	if (used < g->held) {
		fvm_quota_add(&fvm_g, -(int64_t)(g->held - used), 0);
	}
}

/* FVM_ENV_QUOTA, read as the process starts: the run's marker (0: none). The run's
 * supervisor accounts every call of the write family (fvm-exec/run/quotaguard.c) but
 * the write, pwrite64, writev and pwritev calls that carry it in their sixth argument
 * register, which are counted here. */
static long marker;

__attribute__((constructor)) static void write_guard_init(void)
{
	const char *v = fvm_getenv(FVM_ENV_QUOTA);
	unsigned long long m = 0;

	for (int i = 0; v && v[i] && i < 16; i++) {
		int d = v[i] >= '0' && v[i] <= '9' ? v[i] - '0' : v[i] >= 'a' && v[i] <= 'f' ? v[i] - 'a' + 10 : -1;
		if (d < 0) {
			m = 0;
			break;
		}
		m = m << 4 | (unsigned)d;
	}
	marker = (long)m;
}

static bool quota_on(void)
{
	return fvm_on() && fvm_quota_on(&fvm_g);
}

/* The calls the supervisor counts whole under a marker: libfvm passes them through. */
static bool counted_here(void)
{
	return quota_on() && !marker;
}

/* A marked call's result as libc returns it. */
static ssize_t marked_ret(long r)
{
	return fvm_ret_ssize(r);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	struct grow g;
	ssize_t m, r;

	if (!quota_on()) {
		return REAL(write)(fd, buf, n);
	}
	if ((m = grow_begin(fd, -1, n, true, &g)) < 0) {
		return fvm_ret_ssize(m);
	}
	r = marker ? marked_ret(FVM_SC(SYS_write, fd, buf, m, 0, 0, marker)) : REAL(write)(fd, buf, (size_t)m);
	grow_end(&g, r);
	return r;
}

static ssize_t pwrite_quota(int fd, const void *buf, size_t n, off_t off)
{
	struct grow g;
	ssize_t m, r;

	if (off < 0 || (m = grow_begin(fd, off, n, true, &g)) < 0) {
		return off < 0 ? REAL(pwrite)(fd, buf, n, off) : fvm_ret_ssize(m);
	}
	r = marker ? marked_ret(FVM_SC(SYS_pwrite64, fd, buf, m, off, 0, marker)) : REAL(pwrite)(fd, buf, (size_t)m, off);
	grow_end(&g, r);
	return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return quota_on() ? pwrite_quota(fd, buf, n, off) : REAL(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	return quota_on() ? pwrite_quota(fd, buf, n, (off_t)off) : REAL(pwrite64)(fd, buf, n, off);
}

/* The bytes of IOV (CNT entries; a bad vector counts 0: the kernel answers for it). */
static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;

	if (cnt <= 0 || cnt > IOV_MAX || fvm_bad_range(iov, sizeof(*iov) * (size_t)cnt)) {
		return 0;
	}
	for (int i = 0; i < cnt; i++) {
		t += iov[i].iov_len;
	}
	return t;
}

/* A vector write (OFF -1: at the fd's offset; PWRITEV2's flags may say so too). */
static ssize_t writev_quota(int fd, const struct iovec *iov, int cnt, off_t off, int flags, int kind)
{
	struct grow g;
	ssize_t m, r;

	if ((m = grow_begin(fd, kind == 0 || (kind == 2 && off == -1) ? -1 : off, iov_total(iov, cnt), false, &g)) < 0) {
		return fvm_ret_ssize(m);
	}
	if (marker && kind < 2) { /* pwritev: the offset's low word, x86_64's high word 0 */
		r = marked_ret(kind == 0 ? FVM_SC(SYS_writev, fd, iov, cnt, 0, 0, marker)
					 : FVM_SC(SYS_pwritev, fd, iov, cnt, off, 0, marker));
	} else {
		r = kind == 0 ? REAL(writev)(fd, iov, cnt)
		    : kind == 1 ? REAL(pwritev)(fd, iov, cnt, off)
				: REAL(pwritev2)(fd, iov, cnt, off, flags);
	}
	grow_end(&g, r);
	return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	return quota_on() ? writev_quota(fd, iov, cnt, -1, 0, 0) : REAL(writev)(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return quota_on() && off >= 0 ? writev_quota(fd, iov, cnt, off, 0, 1) : REAL(pwritev)(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	return quota_on() && off >= 0 ? writev_quota(fd, iov, cnt, (off_t)off, 0, 1)
				      : REAL(pwritev64)(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return counted_here() && off >= -1 ? writev_quota(fd, iov, cnt, off, flags, 2)
					   : REAL(pwritev2)(fd, iov, cnt, off, flags);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
	return counted_here() && off >= -1 ? writev_quota(fd, iov, cnt, (off_t)off, flags, 2)
					   : REAL(pwritev64v2)(fd, iov, cnt, off, flags);
}

/*
 * Sets upper file FD's size to LEN with CALL (0 or -errno): a growth is reserved
 * first, a shrink given back after. Used by ftruncate and libfvm's truncate.
 */
int fvm_quota_resize(int fd, off_t len, int (*call)(int fd, off_t len))
{
	struct stat st;
	int r;

	if (!counted_here() || len < 0 || !upper_file(fd, &st)) {
		return call(fd, len);
	}
	if (len > st.st_size && fvm_quota_reserve(&fvm_g, (uint64_t)(len - st.st_size), 0) < 0) {
		return -EDQUOT;
	}
	r = call(fd, len);
	if (r < 0 && len > st.st_size) {
		fvm_quota_add(&fvm_g, -(int64_t)(len - st.st_size), 0); /* not grown after all */
	} else if (r == 0 && len < st.st_size) {
		fvm_quota_add(&fvm_g, -(int64_t)(st.st_size - len), 0); /* shrunk */
	}
	return r;
}

static int raw_ftruncate(int fd, off_t len)
{
	return sys_ftruncate(fd, len);
}

int ftruncate(int fd, off_t len)
{
	return fvm_ret(fvm_quota_resize(fd, len, raw_ftruncate));
}

int ftruncate64(int fd, off64_t len)
{
	return fvm_ret(fvm_quota_resize(fd, (off_t)len, raw_ftruncate));
}

/* An allocation of LEN bytes at OFF that may grow upper file FD (MODE 0: it grows the
 * size; KEEP_SIZE and the hole modes do not). Returns 0 or -errno. */
static int alloc_quota(int fd, int mode, off_t off, off_t len, int (*call)(int, int, off_t, off_t))
{
	struct grow g;
	int r;

	if (mode != 0 || off < 0 || len <= 0) {
		return call(fd, mode, off, len);
	}
	if (grow_begin(fd, off, (size_t)len, false, &g) < 0) {
		return -EDQUOT;
	}
	r = call(fd, mode, off, len);
	grow_end(&g, r == 0 ? (ssize_t)len : -1);
	return r;
}

static int raw_fallocate(int fd, int mode, off_t off, off_t len)
{
	return (int)FVM_SC(SYS_fallocate, fd, mode, off, len, 0, 0);
}

/* posix_fallocate answers with the error number itself. */
static int posix_fallocate_call(int fd, int mode, off_t off, off_t len)
{
	(void)mode;
	int r = REAL(posix_fallocate)(fd, off, len);
	return r ? -r : 0;
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	return counted_here() ? fvm_ret(alloc_quota(fd, mode, off, len, raw_fallocate)) : REAL(fallocate)(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	return counted_here() ? fvm_ret(alloc_quota(fd, mode, (off_t)off, (off_t)len, raw_fallocate))
			      : REAL(fallocate64)(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
	return counted_here() ? -alloc_quota(fd, 0, off, len, posix_fallocate_call) : REAL(posix_fallocate)(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
	return counted_here() ? -alloc_quota(fd, 0, (off_t)off, (off_t)len, posix_fallocate_call)
			      : REAL(posix_fallocate64)(fd, off, len);
}

ssize_t copy_file_range(int in, off64_t *in_off, int out, off64_t *out_off, size_t len, unsigned flags)
{
	struct grow g;
	ssize_t m, r;

	if (!counted_here()) {
		return REAL(copy_file_range)(in, in_off, out, out_off, len, flags);
	}
	off_t at = out_off && !fvm_bad_ptr(out_off) ? (off_t)*out_off : -1;
	if ((m = grow_begin(out, at, len, true, &g)) < 0) {
		return fvm_ret_ssize(m);
	}
	r = REAL(copy_file_range)(in, in_off, out, out_off, (size_t)m, flags);
	grow_end(&g, r);
	return r;
}

static ssize_t sendfile_quota(int out, int in, off_t *off, size_t n)
{
	struct grow g;
	ssize_t m, r;

	if (!counted_here()) {
		return REAL(sendfile)(out, in, off, n);
	}
	if ((m = grow_begin(out, -1, n, true, &g)) < 0) {
		return fvm_ret_ssize(m);
	}
	r = REAL(sendfile)(out, in, off, (size_t)m);
	grow_end(&g, r);
	return r;
}

ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	return sendfile_quota(out, in, off, n);
}

ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
	return sendfile_quota(out, in, (off_t *)off, n);
}
