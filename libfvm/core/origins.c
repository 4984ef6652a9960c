/*
 * origins.c — the origins log's line format, written and parsed here only
 * (fvm/origins.h). Formatting and parsing make no system calls and allocate nothing;
 * fvm_record_origin is libfvm's one append, on an fd each process keeps open.
 *
 * Invariant: fvm_origin_parse accepts exactly what fvm_origin_format writes, so a
 * record read back is the record written, and a damaged line is refused whole.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/origins.h"
#include "fvm/sys.h"
#include "fvm/vm.h"

void fvm_origin_of(const struct stat *st, const char *vpath, struct fvm_origin *r)
{
	r->dev = (uint64_t)st->st_dev;
	r->ino = (uint64_t)st->st_ino;
	r->size = (int64_t)st->st_size;
	r->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	r->mtime_nsec = st->st_mtim.tv_nsec;
	r->mode = (uint32_t)st->st_mode;
	r->uid = (uint32_t)st->st_uid;
	r->gid = (uint32_t)st->st_gid;
	r->vpath = vpath;
}

int fvm_origin_format(const struct fvm_origin *r, char *out, size_t outlen)
{
	int n, e;

	if (r->vpath[0] != '/' || r->mtime_nsec < 0 || r->mtime_nsec > 999999999) {
		return -EINVAL;
	}
	n = snprintf(out, outlen, "%llu %llu %lld %lld.%09ld %o %u %u ", (unsigned long long)r->dev,
		     (unsigned long long)r->ino, (long long)r->size, (long long)r->mtime_sec,
		     r->mtime_nsec, (unsigned)r->mode, (unsigned)r->uid, (unsigned)r->gid);
	if (n < 0 || (size_t)n >= outlen) {
		return -ENAMETOOLONG;
	}
	/* The escape and the newline after it. */
	e = fvm_escape(r->vpath, out + n, outlen - (size_t)n - 1);
	if (e < 0) {
		return e;
	}
	n += e;
	out[n++] = '\n';
	out[n] = '\0';
	return n;
}

/*
 * Reads one field of LINE at *P: digits in BASE (at most MAX), after an optional '-'
 * when NEG may hold it, up to the byte END. Moves *P past END. False when malformed.
 */
static bool field(const char **p, unsigned base, uint64_t max, bool *neg, char end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (neg) {
		*neg = *s == '-';
		s += *neg;
	}
	if (*s < '0' || *s >= (char)('0' + base)) {
		return false;
	}
	for (; *s >= '0' && *s < (char)('0' + base); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / base) {
			return false;
		}
		v = v * base + d;
	}
	if (*s != end) {
		return false;
	}
	*p = s + 1;
	*out = v;
	return true;
}

/* A signed field: magnitude at most INT64_MAX. */
static bool sfield(const char **p, char end, int64_t *out)
{
	uint64_t v;
	bool neg;

	if (!field(p, 10, INT64_MAX, &neg, end, &v)) {
		return false;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

int fvm_origin_parse(char *line, struct fvm_origin *r)
{
	const char *p = line, *nsec;
	uint64_t v[3];

	memset(r, 0, sizeof(*r));
	if (!field(&p, 10, UINT64_MAX, NULL, ' ', &r->dev) ||
	    !field(&p, 10, UINT64_MAX, NULL, ' ', &r->ino) || !sfield(&p, ' ', &r->size) ||
	    !sfield(&p, '.', &r->mtime_sec)) {
		return -EINVAL;
	}
	nsec = p;
	if (!field(&p, 10, 999999999, NULL, ' ', &v[0]) || p - nsec != 10) {
		return -EINVAL; /* nine digits and the space */
	}
	r->mtime_nsec = (long)v[0];
	if (!field(&p, 8, UINT32_MAX, NULL, ' ', &v[0]) || !field(&p, 10, UINT32_MAX, NULL, ' ', &v[1]) ||
	    !field(&p, 10, UINT32_MAX, NULL, ' ', &v[2]) || *p != '/') {
		return -EINVAL;
	}
	r->mode = (uint32_t)v[0];
	r->uid = (uint32_t)v[1];
	r->gid = (uint32_t)v[2];
	char *vpath = line + (p - line);
	if (fvm_unescape(vpath) < 0) {
		return -EINVAL;
	}
	r->vpath = vpath;
	return 0;
}

/*
 * The log kept open between records, per process: one write per record where an open
 * and a close came with each. Kept out of the way of programs that expect the lowest
 * free numbers, close-on-exec (and let go in a fork child), and checked before each
 * use to be still the file opened (same device and inode, still linked: a tool's
 * compaction replaces the log only while the VM is idle): a program may close or
 * reuse any number. LOG_ROOT is the VM it is
 * for (a process may serve more than one, as the unit tests do).
 */
static int log_lock, log_fd = -1;
static dev_t log_dev;
static ino_t log_ino;
static char log_root[PATH_MAX];

/*
 * A fork child lets the kept fd go (it opens its own at its first record): a child
 * that drops root without an exec (a daemon's worker) keeps no write access to a log
 * its new uid could not open. The number is closed only while it is still the log.
 */
static void log_forget_child(void)
{
	struct stat st;

	if (log_fd >= 0 && sys_fstat(log_fd, &st) == 0 && st.st_dev == log_dev && st.st_ino == log_ino) {
		sys_close(log_fd);
	}
	log_fd = -1;
	log_lock = 0; /* another thread of the parent may have held it */
}

/* The log's fd for VM, opened when none is kept for it; -errno. LOG_LOCK held. */
static int log_open(const struct fvm_vm *vm)
{
	char file[PATH_MAX + 16];
	struct stat st;
	int fd;

	if (log_fd >= 0 && strcmp(log_root, vm->root) == 0 && sys_fstat(log_fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_dev == log_dev && st.st_ino == log_ino && st.st_nlink > 0) {
		return log_fd;
	}
	log_fd = -1; /* never closed here: the number may be the program's by now */
	if (snprintf(file, sizeof(file), "%s/%s", vm->root, FVM_ORIGINS_FILE) >= (int)sizeof(file)) {
		return -ENAMETOOLONG;
	}
	fd = sys_openat(AT_FDCWD, file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		return fd;
	}
	int high = sys_fcntl(fd, F_DUPFD_CLOEXEC, 900);
	if (high >= 0) {
		sys_close(fd);
		fd = high;
	}
	if (sys_fstat(fd, &st) < 0) {
		sys_close(fd);
		return -EIO;
	}
	static int atfork_set;
	if (!atfork_set) {
		atfork_set = 1;
		pthread_atfork(NULL, NULL, log_forget_child);
	}
	log_dev = st.st_dev;
	log_ino = st.st_ino;
	memcpy(log_root, vm->root, strlen(vm->root) + 1);
	log_fd = fd;
	return fd;
}

void fvm_record_origin(const struct fvm_vm *vm, const char *vpath, const struct stat *st)
{
	char line[FVM_ORIGIN_LINE_MAX], file[PATH_MAX + 16];
	struct fvm_origin r;
	int fd, n;

	fvm_origin_of(st, vpath, &r);
	n = fvm_origin_format(&r, line, sizeof(line));
	if (n < 0 || vm->root_len >= sizeof(log_root)) {
		return;
	}
	/* One write with O_APPEND: concurrent records never interleave. */
	if (!__atomic_exchange_n(&log_lock, 1, __ATOMIC_ACQUIRE)) {
		fd = log_open(vm);
		if (fd >= 0) {
			sys_write(fd, line, (size_t)n);
		}
		__atomic_store_n(&log_lock, 0, __ATOMIC_RELEASE);
		return;
	}
	/* Another thread, or the code a signal handler interrupted, holds the kept fd. */
	if (snprintf(file, sizeof(file), "%s/%s", vm->root, FVM_ORIGINS_FILE) >= (int)sizeof(file)) {
		return;
	}
	fd = sys_openat(AT_FDCWD, file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		sys_write(fd, line, (size_t)n);
		sys_close(fd);
	}
}
