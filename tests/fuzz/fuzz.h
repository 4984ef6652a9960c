/*
 * fuzz.h — what the libFuzzer targets of tests/fuzz share: the input as a file for the
 * parsers that read one, scratch directories, and invariant checks that abort (so that
 * libFuzzer keeps the input as a crash).
 *
 * A target includes this header once; every function is static inline.
 */
#ifndef FVM_FUZZ_H
#define FVM_FUZZ_H

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* stderr as it was at start: make fuzz closes fd 2 to silence the parsers' messages. */
static int fuzz_msg_fd = 2;

static inline void fuzz_init_messages(void)
{
	int fd = dup(2);

	if (fd >= 0) {
		fuzz_msg_fd = fd;
	}
}

static void fuzz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	dprintf(fuzz_msg_fd, "%s:%d: invariant broken: ", file, line);
	va_start(ap, fmt);
	vdprintf(fuzz_msg_fd, fmt, ap);
	va_end(ap);
	dprintf(fuzz_msg_fd, "\n");
	abort();
}

/* Aborts, naming the condition, when COND is false. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fuzz_fail(__FILE__, __LINE__, "%s", #cond); \
		} \
	} while (0)

/* A memfd holding DATA (SIZE bytes), at offset 0; its path is /proc/self/fd/N. */
static inline int fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);

	if (fd < 0) {
		fuzz_fail(__FILE__, __LINE__, "memfd_create: %s", strerror(errno));
	}
	for (size_t done = 0; done < size;) {
		ssize_t w = write(fd, data + done, size - done);
		if (w <= 0) {
			fuzz_fail(__FILE__, __LINE__, "write: %s", strerror(errno));
		}
		done += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Writes DATA (SIZE bytes) to FILE, replacing it. */
static inline void fuzz_write_file(const char *file, const uint8_t *data, size_t size)
{
	FILE *f = fopen(file, "we");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		fuzz_fail(__FILE__, __LINE__, "%s: %s", file, strerror(errno));
	}
}

/* DATA as a NUL-terminated string (cut at its first NUL), malloc'd to fit exactly. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	size_t n = strnlen((const char *)data, size);
	char *s = malloc(n + 1);

	if (!s) {
		abort();
	}
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

static char fuzz_scratch_path[256];

static inline int fuzz_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static inline void fuzz_scratch_remove(void)
{
	if (fuzz_scratch_path[0]) {
		nftw(fuzz_scratch_path, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
}

/* A fresh directory under $TMPDIR, removed when the fuzzer exits normally. */
static inline const char *fuzz_scratch_dir(const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fuzz_scratch_path, sizeof(fuzz_scratch_path), "%s/fvm-fuzz-%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(fuzz_scratch_path)) {
		fuzz_fail(__FILE__, __LINE__, "mkdtemp %s: %s", fuzz_scratch_path, strerror(errno));
	}
	atexit(fuzz_scratch_remove);
	return fuzz_scratch_path;
}

#endif
