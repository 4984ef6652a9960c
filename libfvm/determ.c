/*
 * determ.c — deterministic runs (fvm-exec --deterministic and its options, fvm/determ.h):
 * the wall clock, file times the run made, randomness, the host name and uname, the
 * number of CPUs; and the hooks open.c (/dev/urandom), stat.c (times) and dirstream.c
 * (listing order) call.
 *
 * Rules:
 *  - Without FVM_DET (no determinism option) every wrapper here is one load and one
 *    branch in front of libc's own function: fvm_det.on is 0.
 *  - FVM_DET is parsed once, in fvm_init (no system call, no allocation); a malformed
 *    field is ignored.
 *  - Only what a dynamic program asks libc is changed: a static program, or a raw
 *    system call, sees the kernel's clock, randomness and uname (fvm-exec(1)).
 *  - The random stream is ChaCha20 (D. J. Bernstein's original, 64-bit counter and
 *    nonce) keyed by the seed: getrandom and getentropy read stream 0 on from where the
 *    process's last call stopped (a fork child goes on from its parent's position);
 *    the k-th open of /dev/urandom or /dev/random in a process reads stream k from 0.
 */
#include <sched.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fvm/determ.h"
#include "libfvm.h"

struct fvm_det fvm_det;

/* ---- the contract ---------------------------------------------------------------- */

/* The number at *P (decimal, optionally negative) up to a ',' or the end; false if bad. */
static bool det_number(const char **p, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(*p, &end, 10);
	if (errno || end == *p || (*end && *end != ',')) {
		return false;
	}
	*out = v;
	*p = end;
	return true;
}

void fvm_det_parse(const char *v)
{
	long long n;

	memset(&fvm_det, 0, sizeof(fvm_det));
	if (!v || !*v) {
		return;
	}
	for (const char *p = v; *p;) {
		const char *key = p, *eq = strchr(p, '=');
		if (!eq) {
			break;
		}
		size_t kl = (size_t)(eq - key);
		p = eq + 1;
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(key, s, kl) == 0)
		if (KEY("host")) {
			size_t l = strcspn(p, ",");
			if (l > 0 && l < sizeof(fvm_det.host)) {
				memcpy(fvm_det.host, p, l);
				fvm_det.host[l] = '\0';
				fvm_det.on |= FVM_DET_HOST;
			}
			p += l;
		} else if (KEY("order")) {
			size_t l = strcspn(p, ",");
			if (l == 6 && memcmp(p, "sorted", 6) == 0) {
				fvm_det.order = 1;
				fvm_det.on |= FVM_DET_ORDER;
			} else if (l == 8 && memcmp(p, "reversed", 8) == 0) {
				fvm_det.order = -1;
				fvm_det.on |= FVM_DET_ORDER;
			}
			p += l;
		} else if (det_number(&p, &n)) {
			if (KEY("start")) {
				fvm_det.start_ns = n;
			} else if (KEY("time")) {
				fvm_det.time_sec = n;
				fvm_det.on |= FVM_DET_TIME;
			} else if (KEY("frozen") && n) {
				fvm_det.on |= FVM_DET_FROZEN;
			} else if (KEY("clamp") && n) {
				fvm_det.on |= FVM_DET_CLAMP;
			} else if (KEY("seed")) {
				fvm_det.seed = (uint64_t)n;
				fvm_det.on |= FVM_DET_RANDOM;
			} else if (KEY("uname") && n) {
				fvm_det.on |= FVM_DET_UNAME;
			} else if (KEY("cpus") && n > 0) {
				fvm_det.cpus = n;
				fvm_det.on |= FVM_DET_CPUS;
			}
		} else {
			p += strcspn(p, ",");
		}
#undef KEY
		if (*p == ',') {
			p++;
		}
	}
	/* The clock and the clamp need both times; a frozen clock needs a time. */
	if (!fvm_det.start_ns || !(fvm_det.on & FVM_DET_TIME)) {
		fvm_det.on &= ~(unsigned)(FVM_DET_TIME | FVM_DET_FROZEN | FVM_DET_CLAMP);
	}
}

/* The bits of WHICH that are on; starts libfvm if a wrapper runs before its constructor. */
static inline unsigned det(unsigned which)
{
	if (__builtin_expect(!fvm_ready, 0)) {
		fvm_init();
	}
	return fvm_det.on & which;
}

/* ---- the clock ------------------------------------------------------------------- */

static bool wall_clock(clockid_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_TAI;
}

/* The run's clock for real wall time TS (in place). */
static void det_shift(struct timespec *ts)
{
	int64_t fake = fvm_det.time_sec * 1000000000LL;

	if (!(fvm_det.on & FVM_DET_FROZEN)) {
		fake += (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec - fvm_det.start_ns;
	}
	ts->tv_sec = fake / 1000000000LL;
	ts->tv_nsec = fake % 1000000000LL;
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += 1000000000LL;
	}
}

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	int ret = REAL(clock_gettime)(clk, ts);

	if (__builtin_expect(det(FVM_DET_TIME) != 0, 0) && ret == 0 && wall_clock(clk)) {
		det_shift(ts);
	}
	return ret;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	int ret = REAL(gettimeofday)(tv, tz);

	if (__builtin_expect(det(FVM_DET_TIME) != 0, 0) && ret == 0 && tv) {
		struct timespec ts = {tv->tv_sec, (long)tv->tv_usec * 1000};
		det_shift(&ts);
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return ret;
}

time_t time(time_t *t)
{
	struct timespec ts;

	if (__builtin_expect(!det(FVM_DET_TIME), 1)) {
		return REAL(time)(t);
	}
	REAL(clock_gettime)(CLOCK_REALTIME, &ts);
	det_shift(&ts);
	if (t) {
		*t = ts.tv_sec;
	}
	return ts.tv_sec;
}

int timespec_get(struct timespec *ts, int base)
{
	int ret = REAL(timespec_get)(ts, base);

	if (__builtin_expect(det(FVM_DET_TIME) != 0, 0) && ret == TIME_UTC) {
		det_shift(ts);
	}
	return ret;
}

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

/* ---- randomness ------------------------------------------------------------------ */

#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define QR(a, b, c, d)                                                     \
	(a += b, d ^= a, d = ROTL(d, 16), c += d, b ^= c, b = ROTL(b, 12), \
	 a += b, d ^= a, d = ROTL(d, 8), c += d, b ^= c, b = ROTL(b, 7))

/* Block COUNTER of ChaCha20 stream NONCE under the seed's key, into OUT. */
static void chacha_block(uint64_t nonce, uint64_t counter, unsigned char out[64])
{
	uint32_t s[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
			  (uint32_t)fvm_det.seed, (uint32_t)(fvm_det.seed >> 32), 0x2d6d7666, 0x20746564,
			  0, 0, 0, 0,
			  (uint32_t)counter, (uint32_t)(counter >> 32), (uint32_t)nonce, (uint32_t)(nonce >> 32)};
	uint32_t x[16];

	memcpy(x, s, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t v = x[i] + s[i];
		out[4 * i] = (unsigned char)v;
		out[4 * i + 1] = (unsigned char)(v >> 8);
		out[4 * i + 2] = (unsigned char)(v >> 16);
		out[4 * i + 3] = (unsigned char)(v >> 24);
	}
}

/* LEN bytes of stream NONCE from byte POS on, into BUF. */
static void det_stream(uint64_t nonce, uint64_t pos, unsigned char *buf, size_t len)
{
	unsigned char block[64];

	while (len) {
		size_t off = pos % 64, n = 64 - off < len ? 64 - off : len;
		chacha_block(nonce, pos / 64, block);
		memcpy(buf, block + off, n);
		buf += n;
		pos += n;
		len -= n;
	}
}

static uint64_t getrandom_pos;
static uint64_t devrandom_opens;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	if (__builtin_expect(!det(FVM_DET_RANDOM), 1)) {
		return REAL(getrandom)(buf, len, flags);
	}
	if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) {
		errno = EINVAL;
		return -1;
	}
	if (len > 33554431) {
		len = 33554431; /* the kernel's most for one call */
	}
	if (len && fvm_bad_range(buf, len)) {
		errno = EFAULT;
		return -1;
	}
	det_stream(0, __atomic_fetch_add(&getrandom_pos, len, __ATOMIC_RELAXED), buf, len);
	return (ssize_t)len;
}

int getentropy(void *buf, size_t len)
{
	if (__builtin_expect(!det(FVM_DET_RANDOM), 1)) {
		return REAL(getentropy)(buf, len);
	}
	if (len > 256) {
		errno = EIO;
		return -1;
	}
	if (len && fvm_bad_range(buf, len)) {
		errno = EFAULT;
		return -1;
	}
	det_stream(0, __atomic_fetch_add(&getrandom_pos, len, __ATOMIC_RELAXED), buf, len);
	return 0;
}

bool fvm_det_random_path(const char *vpath)
{
	return (fvm_det.on & FVM_DET_RANDOM) &&
	       (strcmp(vpath, "/dev/urandom") == 0 || strcmp(vpath, "/dev/random") == 0);
}

int fvm_det_random_open(int flags)
{
	unsigned char chunk[4096];
	uint64_t nonce = 1 + __atomic_fetch_add(&devrandom_opens, 1, __ATOMIC_RELAXED);
	int fd;

	if ((flags & O_ACCMODE) != O_RDONLY) {
		return -EACCES; /* adding entropy to the seeded stream: refused */
	}
	fd = (int)FVM_SC(SYS_memfd_create, "fvm-random", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0, 0, 0, 0, 0);
	if (fd < 0) {
		return fd;
	}
	for (uint64_t pos = 0; pos < FVM_DET_DEVRANDOM_SIZE; pos += sizeof(chunk)) {
		det_stream(nonce, pos, chunk, sizeof(chunk));
		if (sys_write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk)) {
			sys_close(fd);
			return -EIO;
		}
	}
	sys_lseek(fd, 0, SEEK_SET);
	return fd;
}

/* ---- names and CPUs -------------------------------------------------------------- */

int uname(struct utsname *u)
{
	int ret = REAL(uname)(u);

	if (__builtin_expect(det(FVM_DET_HOST | FVM_DET_UNAME) != 0, 0) && ret == 0) {
		if (fvm_det.on & FVM_DET_HOST) {
			snprintf(u->nodename, sizeof(u->nodename), "%s", fvm_det.host);
		}
		if (fvm_det.on & FVM_DET_UNAME) {
			snprintf(u->release, sizeof(u->release), "%s", FVM_DET_RELEASE);
			snprintf(u->version, sizeof(u->version), "%s", FVM_DET_VERSION);
			snprintf(u->domainname, sizeof(u->domainname), "%s", FVM_DET_DOMAIN);
		}
	}
	return ret;
}

int gethostname(char *name, size_t len)
{
	size_t l;

	if (__builtin_expect(!det(FVM_DET_HOST), 1)) {
		return REAL(gethostname)(name, len);
	}
	l = strlen(fvm_det.host) + 1;
	if (l > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (fvm_bad_range(name, l)) {
		errno = EFAULT;
		return -1;
	}
	memcpy(name, fvm_det.host, l);
	return 0;
}

long sysconf(int name)
{
	if (__builtin_expect(det(FVM_DET_CPUS) != 0, 0) &&
	    (name == _SC_NPROCESSORS_ONLN || name == _SC_NPROCESSORS_CONF)) {
		return fvm_det.cpus;
	}
	return REAL(sysconf)(name);
}

int get_nprocs(void)
{
	if (__builtin_expect(det(FVM_DET_CPUS) != 0, 0)) {
		return (int)fvm_det.cpus;
	}
	return REAL(get_nprocs)();
}

int get_nprocs_conf(void)
{
	if (__builtin_expect(det(FVM_DET_CPUS) != 0, 0)) {
		return (int)fvm_det.cpus;
	}
	return REAL(get_nprocs_conf)();
}

/*
 * The process's own mask shows CPUS CPUs: the first that many of the real mask, then
 * the lowest others when the real mask has fewer (as a machine with more would).
 */
int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *mask)
{
	int ret = REAL(sched_getaffinity)(pid, size, mask);
	long want, have = 0;

	if (__builtin_expect(!det(FVM_DET_CPUS), 1) || ret < 0 || (pid != 0 && pid != sys_getpid())) {
		return ret;
	}
	want = fvm_det.cpus;
	for (size_t i = 0; i < size * 8; i++) {
		if (CPU_ISSET_S(i, size, mask) && have++ >= want) {
			CPU_CLR_S(i, size, mask);
		}
	}
	for (size_t i = 0; i < size * 8 && have < want; i++) {
		if (!CPU_ISSET_S(i, size, mask)) {
			CPU_SET_S(i, size, mask);
			have++;
		}
	}
	return ret;
}
