/*
 * determ.h — the determinism contract between fvm-exec and libfvm (fvm-exec(1),
 * DETERMINISM).
 *
 * fvm-exec writes one variable, FVM_DET (FVM_ENV_DET of fvm/env.h), when a determinism option is set; libfvm
 * parses it once at start (libfvm/determ.c) and re-injects it at every exec with the
 * rest of the contract (fvm/env.h). Its value is comma-separated KEY=VALUE fields, in
 * any order, each at most once:
 *
 *   start=NS      the run's start, real CLOCK_REALTIME in nanoseconds (always set)
 *   time=SEC      the wall clock at start, seconds since the epoch: the clock reads
 *                 SEC plus the real time elapsed since start
 *   frozen=1      the clock stays at SEC
 *   clamp=1       a file's times at or after start read back as SEC (the run made them)
 *   seed=N        getrandom, getentropy, /dev/urandom and /dev/random: ChaCha20 of N
 *   order=sorted  readdir returns names sorted by strcmp; order=reversed: the reverse
 *   host=NAME     uname's nodename and gethostname ([A-Za-z0-9.-], at most 64 bytes)
 *   names=NAME    the name of the run's own user and group ([a-z0-9_-], at most 32 bytes)
 *   uname=1       uname's release, version and domain name fixed (FVM_DET_RELEASE...)
 *   cpus=N        the number of CPUs sysconf, get_nprocs and sched_getaffinity report
 *
 * Rules: fields libfvm does not know are ignored (an older libfvm in a nested run); a
 * malformed field is ignored, never an error inside the program.
 */
#ifndef FVM_DETERM_H
#define FVM_DETERM_H

/* --deterministic's defaults: 2000-01-01T00:00:00Z without SOURCE_DATE_EPOCH. */
#define FVM_DET_DEF_EPOCH 946684800LL
#define FVM_DET_DEF_HOSTNAME "fvm"
#define FVM_DET_DEF_NAMES "build"
#define FVM_DET_DEF_TZ "UTC"
#define FVM_DET_DEF_LOCALE "C.UTF-8"
#define FVM_DET_DEF_UMASK 022
#define FVM_DET_DEF_CPUS 1
#define FVM_DET_DEF_SEED 0

/* uname=1: what the other fields read. */
#define FVM_DET_RELEASE "6.1.0"
#define FVM_DET_VERSION "#1 SMP PREEMPT_DYNAMIC fvm"
#define FVM_DET_DOMAIN "(none)"

/* The stream /dev/urandom and /dev/random give when opened: this many bytes, then end
 * of file (a memfd; reads past it see end of file). */
#define FVM_DET_DEVRANDOM_SIZE (1 << 20)

#endif
