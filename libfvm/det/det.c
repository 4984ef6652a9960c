/*
 * det.c — libfvm-det.so: the wrappers of a deterministic run (fvm-exec(1),
 * DETERMINISM; fvm/determ.h): the wall clock (clock_gettime, gettimeofday, time,
 * timespec_get), randomness (getrandom, getentropy), the host name and uname, the
 * number of CPUs (sysconf, get_nprocs, get_nprocs_conf, sched_getaffinity), and the
 * names of the run's own user and group (getpwuid, getpwnam, getgrgid, getgrnam and
 * their _r forms, getlogin).
 *
 * Rules:
 *  - Loaded only in a run with a determinism option: fvm-exec preloads it after
 *    libfvm.so, and libfvm's exec keeps it there while FVM_DET is set. A run without
 *    one never maps it, so libc's clock and randomness are reached directly, at no cost.
 *  - FVM_DET is read once, at the first wrapped call or in the constructor (getenv;
 *    libfvm re-injects it at every exec, so a child that cleared its environment keeps
 *    it); an option it does not hold is libc's answer unchanged.
 *  - Only what a dynamic program asks libc is changed: a static program, the vDSO
 *    called directly, or a raw system call not made through syscall() (libfvm's
 *    rawsys.c routes those) sees the kernel's clock, randomness and uname.
 *  - getrandom and getentropy read stream 0 of the seed on from where the process's
 *    last call stopped (a fork child goes on from its parent's position): the same
 *    program gets the same bytes in every run with the same seed.
 *  - Exports exactly the wrapped names (det.map); links nothing but libc and libdl.
 */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../detcore.h"
#include "fvm/determ.h"
#include "fvm/env.h"

#define EXPORT __attribute__((visibility("default")))

static struct fvm_det det;
static volatile int det_ready;

static void det_load(void)
{
	/* Racing threads parse the same text into the same values. */
	fvm_det_parse(&det, getenv(FVM_ENV_DET));
	__atomic_store_n(&det_ready, 1, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void det_constructor(void)
{
	if (!det_ready) {
		det_load();
	}
}

/* The bits of WHICH that are on. */
static inline unsigned on(unsigned which)
{
	if (__builtin_expect(!__atomic_load_n(&det_ready, __ATOMIC_ACQUIRE), 0)) {
		det_load();
	}
	return det.on & which;
}

/* libc's NAME, looked up once. */
#define REAL(name)                                                                  \
	({                                                                          \
		static __typeof__(name) *real_##name;                               \
		if (!real_##name) {                                                 \
			real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);  \
		}                                                                   \
		real_##name;                                                        \
	})

/* ---- the clock ------------------------------------------------------------------- */

static bool wall_clock(clockid_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_TAI;
}

EXPORT int clock_gettime(clockid_t clk, struct timespec *ts)
{
	int ret = REAL(clock_gettime)(clk, ts);

	if (ret == 0 && on(FVM_DET_TIME) && wall_clock(clk)) {
		fvm_det_shift(&det, ts);
	}
	return ret;
}

EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	int ret = REAL(gettimeofday)(tv, tz);

	if (ret == 0 && tv && on(FVM_DET_TIME)) {
		struct timespec ts = {tv->tv_sec, (long)tv->tv_usec * 1000};
		fvm_det_shift(&det, &ts);
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return ret;
}

EXPORT time_t time(time_t *t)
{
	struct timespec ts;

	if (!on(FVM_DET_TIME)) {
		return REAL(time)(t);
	}
	REAL(clock_gettime)(CLOCK_REALTIME, &ts);
	fvm_det_shift(&det, &ts);
	if (t) {
		*t = ts.tv_sec;
	}
	return ts.tv_sec;
}

EXPORT int timespec_get(struct timespec *ts, int base)
{
	int ret = REAL(timespec_get)(ts, base);

	if (ret == TIME_UTC && on(FVM_DET_TIME)) {
		fvm_det_shift(&det, ts);
	}
	return ret;
}

/* ---- randomness ------------------------------------------------------------------ */

static uint64_t stream_pos;

/*
 * LEN bytes of the stream into BUF. The kernel first fills BUF with its own bytes
 * (GRND_NONBLOCK | GRND_INSECURE never waits): a bad pointer gets the kernel's EFAULT
 * rather than a crash here. Returns 0 or -errno.
 */
static int fill(void *buf, size_t len)
{
	if (len && REAL(getrandom)(buf, len < 256 ? len : 256, GRND_NONBLOCK | GRND_INSECURE) < 0 &&
	    errno == EFAULT) {
		return -EFAULT;
	}
	fvm_det_stream(&det, 0, __atomic_fetch_add(&stream_pos, len, __ATOMIC_RELAXED), buf, len);
	return 0;
}

EXPORT ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	int ret;

	if (!on(FVM_DET_RANDOM)) {
		return REAL(getrandom)(buf, len, flags);
	}
	if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) {
		errno = EINVAL;
		return -1;
	}
	if (len > 33554431) {
		len = 33554431; /* the kernel's most for one call */
	}
	if ((ret = fill(buf, len)) < 0) {
		errno = -ret;
		return -1;
	}
	return (ssize_t)len;
}

EXPORT int getentropy(void *buf, size_t len)
{
	int ret;

	if (!on(FVM_DET_RANDOM)) {
		return REAL(getentropy)(buf, len);
	}
	if (len > 256) {
		errno = EIO;
		return -1;
	}
	if ((ret = fill(buf, len)) < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

/* ---- names and CPUs -------------------------------------------------------------- */

EXPORT int uname(struct utsname *u)
{
	int ret = REAL(uname)(u);

	if (ret == 0 && on(FVM_DET_HOST)) {
		snprintf(u->nodename, sizeof(u->nodename), "%s", det.host);
	}
	if (ret == 0 && on(FVM_DET_UNAME)) {
		snprintf(u->release, sizeof(u->release), "%s", FVM_DET_RELEASE);
		snprintf(u->version, sizeof(u->version), "%s", FVM_DET_VERSION);
		snprintf(u->domainname, sizeof(u->domainname), "%s", FVM_DET_DOMAIN);
	}
	return ret;
}

/* As glibc's: the name and its NUL, or ENAMETOOLONG when LEN cannot hold them. */
EXPORT int gethostname(char *name, size_t len)
{
	size_t l;

	if (!on(FVM_DET_HOST)) {
		return REAL(gethostname)(name, len);
	}
	l = strlen(det.host) + 1;
	if (l > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(name, det.host, l);
	return 0;
}

EXPORT long sysconf(int name)
{
	if ((name == _SC_NPROCESSORS_ONLN || name == _SC_NPROCESSORS_CONF) && on(FVM_DET_CPUS)) {
		return det.cpus;
	}
	return REAL(sysconf)(name);
}

EXPORT int get_nprocs(void)
{
	return on(FVM_DET_CPUS) ? (int)det.cpus : REAL(get_nprocs)();
}

EXPORT int get_nprocs_conf(void)
{
	return on(FVM_DET_CPUS) ? (int)det.cpus : REAL(get_nprocs_conf)();
}

/*
 * The process's own mask shows det.cpus CPUs: the first that many of the real mask,
 * then the lowest others when the real mask has fewer (as a machine with more would).
 */
EXPORT int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *mask)
{
	int ret = REAL(sched_getaffinity)(pid, size, mask);
	long have = 0;

	if (ret < 0 || !on(FVM_DET_CPUS) || (pid != 0 && pid != getpid())) {
		return ret;
	}
	for (size_t i = 0; i < size * 8; i++) {
		if (CPU_ISSET_S(i, size, mask) && have++ >= det.cpus) {
			CPU_CLR_S(i, size, mask);
		}
	}
	for (size_t i = 0; i < size * 8 && have < det.cpus; i++) {
		if (!CPU_ISSET_S(i, size, mask)) {
			CPU_SET_S(i, size, mask);
			have++;
		}
	}
	return ret;
}

/* ---- the names of the run's own user and group ------------------------------------ */

/*
 * The run's own ids (real or effective) are named det.names, whatever the password and
 * group files say: what a build records of its user (tar's uname and gname, ls -l,
 * whoami, id -un) is the same for every builder. Other ids keep their names; the ids
 * themselves are the kernel's.
 */
static bool own_uid(uid_t u)
{
	return u == getuid() || u == geteuid();
}

static bool own_gid(gid_t g)
{
	return g == getgid() || g == getegid();
}

static struct passwd *pw_named(struct passwd *pw)
{
	if (pw && on(FVM_DET_NAMES) && own_uid(pw->pw_uid)) {
		pw->pw_name = det.names;
	}
	return pw;
}

static struct group *gr_named(struct group *gr)
{
	if (gr && on(FVM_DET_NAMES) && own_gid(gr->gr_gid)) {
		gr->gr_name = det.names;
	}
	return gr;
}

EXPORT struct passwd *getpwuid(uid_t uid)
{
	return pw_named(REAL(getpwuid)(uid));
}

EXPORT int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	int r = REAL(getpwuid_r)(uid, pw, buf, len, res);

	if (r == 0 && *res) {
		pw_named(*res);
	}
	return r;
}

/* The fixed name is the run's own user (its effective id); any other name as libc says. */
EXPORT struct passwd *getpwnam(const char *name)
{
	if (name && on(FVM_DET_NAMES) && strcmp(name, det.names) == 0) {
		return getpwuid(geteuid());
	}
	return pw_named(REAL(getpwnam)(name));
}

EXPORT int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	int r;

	if (name && on(FVM_DET_NAMES) && strcmp(name, det.names) == 0) {
		return getpwuid_r(geteuid(), pw, buf, len, res);
	}
	r = REAL(getpwnam_r)(name, pw, buf, len, res);
	if (r == 0 && *res) {
		pw_named(*res);
	}
	return r;
}

EXPORT struct group *getgrgid(gid_t gid)
{
	return gr_named(REAL(getgrgid)(gid));
}

EXPORT int getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, struct group **res)
{
	int r = REAL(getgrgid_r)(gid, gr, buf, len, res);

	if (r == 0 && *res) {
		gr_named(*res);
	}
	return r;
}

EXPORT struct group *getgrnam(const char *name)
{
	if (name && on(FVM_DET_NAMES) && strcmp(name, det.names) == 0) {
		return getgrgid(getegid());
	}
	return gr_named(REAL(getgrnam)(name));
}

EXPORT int getgrnam_r(const char *name, struct group *gr, char *buf, size_t len, struct group **res)
{
	int r;

	if (name && on(FVM_DET_NAMES) && strcmp(name, det.names) == 0) {
		return getgrgid_r(getegid(), gr, buf, len, res);
	}
	r = REAL(getgrnam_r)(name, gr, buf, len, res);
	if (r == 0 && *res) {
		gr_named(*res);
	}
	return r;
}

EXPORT char *getlogin(void)
{
	return on(FVM_DET_NAMES) ? det.names : REAL(getlogin)();
}

/* As glibc's: ERANGE when LEN cannot hold the name and its NUL. */
EXPORT int getlogin_r(char *buf, size_t len)
{
	if (!on(FVM_DET_NAMES)) {
		return REAL(getlogin_r)(buf, len);
	}
	size_t l = strlen(det.names) + 1;
	if (l > len) {
		return ERANGE;
	}
	memcpy(buf, det.names, l);
	return 0;
}
