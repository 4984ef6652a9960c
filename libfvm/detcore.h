/*
 * detcore.h — the determinism options as libfvm.so and libfvm-det.so both read them
 * (fvm/determ.h): the parsed FVM_DET contract, the run's clock and the seeded stream.
 * Pure logic over libc's string functions: no system call, no allocation.
 */
#ifndef LIBFVM_DETCORE_H
#define LIBFVM_DETCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum {
	FVM_DET_TIME = 1 << 0, FVM_DET_FROZEN = 1 << 1, FVM_DET_CLAMP = 1 << 2,
	FVM_DET_RANDOM = 1 << 3, FVM_DET_ORDER = 1 << 4, FVM_DET_HOST = 1 << 5,
	FVM_DET_UNAME = 1 << 6, FVM_DET_CPUS = 1 << 7, FVM_DET_NAMES = 1 << 8,
};

struct fvm_det {
	unsigned on;        /* FVM_DET_* */
	int64_t start_ns;   /* the run's real start */
	int64_t time_sec;   /* the clock at start */
	uint64_t seed;
	int order;          /* 1 sorted, -1 reversed */
	long cpus;
	char host[65];
	char names[33];
};

/* FVM_DET's value V into D (zeroed first; NULL or "" leaves every option off). */
void fvm_det_parse(struct fvm_det *d, const char *v);

/* The run's clock for real wall time TS, in place (D has FVM_DET_TIME). */
void fvm_det_shift(const struct fvm_det *d, struct timespec *ts);

/* LEN bytes of D's seeded stream NONCE from byte POS on, into BUF (ChaCha20). */
void fvm_det_stream(const struct fvm_det *d, uint64_t nonce, uint64_t pos, unsigned char *buf, size_t len);

#endif
