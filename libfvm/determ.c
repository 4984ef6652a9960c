/*
 * determ.c — what libfvm.so itself does for a deterministic run (fvm/determ.h): file
 * times the run made read back as the fixed time (stat.c), /dev/urandom and /dev/random
 * opened as the seeded stream (open.c); dirstream.c reads fvm_det.order. The clock,
 * getrandom, names and CPU count are libfvm-det.so's (libfvm/det/), preloaded only
 * when the run has a determinism option, so that a run without one pays nothing there.
 *
 * Rules:
 *  - fvm_det is parsed once, in fvm_init, from FVM_DET (detcore.c); without it
 *    fvm_det.on is 0 and every hook here is one test of it.
 *  - The k-th open of /dev/urandom or /dev/random in a process reads stream k (>= 1)
 *    from its start: FVM_DET_DEVRANDOM_SIZE bytes in a memfd, then end of file.
 */
#include "fvm/determ.h"
#include "libfvm.h"

struct fvm_det fvm_det;

/* Times at or after the run's start (the run wrote them) read as the fixed time. */
static void clamp_ts(struct timespec *ts)
{
	if ((int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec >= fvm_det.start_ns) {
		ts->tv_sec = fvm_det.time_sec;
		ts->tv_nsec = 0;
	}
}

void fvm_det_clamp_stat(struct stat *st)
{
	if (__builtin_expect(!(fvm_det.on & FVM_DET_CLAMP), 1)) {
		return;
	}
	clamp_ts(&st->st_atim);
	clamp_ts(&st->st_mtim);
	clamp_ts(&st->st_ctim);
}

static void clamp_stx(struct statx_timestamp *t)
{
	struct timespec ts = {t->tv_sec, t->tv_nsec};

	clamp_ts(&ts);
	t->tv_sec = ts.tv_sec;
	t->tv_nsec = (uint32_t)ts.tv_nsec;
}

void fvm_det_clamp_statx(struct statx *stx)
{
	if (__builtin_expect(!(fvm_det.on & FVM_DET_CLAMP), 1)) {
		return;
	}
	clamp_stx(&stx->stx_atime);
	clamp_stx(&stx->stx_mtime);
	clamp_stx(&stx->stx_ctime);
	clamp_stx(&stx->stx_btime);
}

bool fvm_det_random_path(const char *vpath)
{
	return (fvm_det.on & FVM_DET_RANDOM) &&
	       (strcmp(vpath, "/dev/urandom") == 0 || strcmp(vpath, "/dev/random") == 0);
}

int fvm_det_random_open(int flags)
{
	static uint64_t opens;
	unsigned char chunk[4096];
	uint64_t nonce = 1 + __atomic_fetch_add(&opens, 1, __ATOMIC_RELAXED);
	int fd;

	if ((flags & O_ACCMODE) != O_RDONLY) {
		return -EACCES; /* adding entropy to the seeded stream: refused */
	}
	fd = (int)FVM_SC(SYS_memfd_create, "fvm-random", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0, 0, 0, 0, 0);
	if (fd < 0) {
		return fd;
	}
	for (uint64_t pos = 0; pos < FVM_DET_DEVRANDOM_SIZE; pos += sizeof(chunk)) {
		fvm_det_stream(&fvm_det, nonce, pos, chunk, sizeof(chunk));
		if (sys_write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk)) {
			sys_close(fd);
			return -EIO;
		}
	}
	sys_lseek(fd, 0, SEEK_SET);
	return fd;
}
