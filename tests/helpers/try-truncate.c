/*
 * try-truncate — one way of truncating a file to size 0 without a write open, for the
 * fence tests: Landlock does not handle its TRUNCATE right, so seccomp must refuse each
 * of these. Every call is a raw system call (the instruction, rawcall.h, or for the
 * i386 ABI int $0x80), so the dynamic build bypasses libfvm as the static build does.
 *
 *   try-truncate truncate PATH               truncate(PATH, 0)
 *   try-truncate open-rdonly-trunc PATH      open(PATH, O_RDONLY|O_TRUNC)       (x86_64)
 *   try-truncate openat-rdonly-trunc PATH    openat(AT_FDCWD, PATH, O_RDONLY|O_TRUNC)
 *   try-truncate openat-accmode3-trunc PATH  openat(..., 3|O_TRUNC): access mode 3 opens
 *                                            for neither reading nor writing, and truncates
 *   try-truncate handle-rdonly-trunc PATH    open_by_handle_at(O_RDONLY|O_TRUNC)
 *   try-truncate openat2-rdonly-trunc PATH   openat2(how.flags = O_RDONLY|O_TRUNC)
 *   try-truncate io-uring-setup              io_uring_setup(1, ...)
 *   try-truncate i386-truncate PATH          the same through the i386 ABI (x86_64 only):
 *   try-truncate i386-truncate64 PATH          truncate (92), truncate64 (193),
 *   try-truncate i386-open-rdonly-trunc PATH   open (5), openat (295)
 *   try-truncate i386-openat-rdonly-trunc PATH
 *
 * Prints "OP: ok" or "OP: ERRNAME" and exits 0 or 1; a step before the one tested that
 * fails is named instead ("name_to_handle_at: EOPNOTSUPP"), exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawcall.h"
#include "report.h"

static long open_by_handle(const char *path)
{
	struct {
		struct file_handle fh;
		unsigned char buf[MAX_HANDLE_SZ];
	} h = {.fh.handle_bytes = MAX_HANDLE_SZ};
	int mount_id;
	/* Any fd of the file system will do; reading is never fenced. */
	long mfd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);

	if (mfd < 0 || syscall(SYS_name_to_handle_at, AT_FDCWD, path, &h.fh, &mount_id, 0) < 0) {
		printf("%s: %s\n", mfd < 0 ? "openat" : "name_to_handle_at", strerrorname_np(errno));
		exit(2);
	}
	return syscall(SYS_open_by_handle_at, (int)mfd, &h.fh, O_RDONLY | O_TRUNC | O_CLOEXEC);
}

#if defined(__x86_64__)
/* An i386 system call from this 64-bit process: the kernel sees AUDIT_ARCH_I386. */
static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* PATH copied below 4 GiB, where an i386 pointer can reach it. */
static long low_path(const char *path)
{
	size_t len = strlen(path) + 1;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (p == MAP_FAILED) {
		printf("mmap: %s\n", strerrorname_np(errno));
		exit(2);
	}
	memcpy(p, path, len);
	return (long)p;
}

/* i386's O_TRUNC, O_RDONLY and AT_FDCWD are x86_64's. */
static const struct {
	const char *op;
	long nr;
	int shape; /* 0: (path, 0[, 0]); 1: (path, flags); 2: (AT_FDCWD, path, flags) */
} i386_ops[] = {
	{"i386-truncate", 92, 0},
	{"i386-truncate64", 193, 0},
	{"i386-open-rdonly-trunc", 5, 1},
	{"i386-openat-rdonly-trunc", 295, 2},
};

static int try_i386(const char *op, const char *path)
{
	for (size_t i = 0; i < sizeof(i386_ops) / sizeof(i386_ops[0]); i++) {
		if (strcmp(op, i386_ops[i].op) != 0) {
			continue;
		}
		long p = low_path(path);
		switch (i386_ops[i].shape) {
		case 0:
			return report(op, int80(i386_ops[i].nr, p, 0, 0));
		case 1:
			return report(op, int80(i386_ops[i].nr, p, O_RDONLY | O_TRUNC, 0));
		default:
			return report(op, int80(i386_ops[i].nr, AT_FDCWD, p, O_RDONLY | O_TRUNC));
		}
	}
	return -1;
}
#else
static int try_i386(const char *op, const char *path)
{
	(void)path;
	if (strncmp(op, "i386-", 5) == 0) {
		printf("%s: ENOSYS\n", op); /* no i386 ABI on this architecture */
		return 2;
	}
	return -1;
}
#endif

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	const char *path = argc > 2 ? argv[2] : NULL;
	int r;

	if (strcmp(op, "io-uring-setup") == 0) {
		char params[120] = {0}; /* struct io_uring_params: zeroed is a valid request */
		long fd = syscall(SYS_io_uring_setup, 1, params);
		return report(op, fd);
	}
	if (!path || argc != 3) {
		goto usage;
	}
	if (strcmp(op, "truncate") == 0) {
		return report(op, syscall(SYS_truncate, path, 0));
	}
#ifdef SYS_open
	if (strcmp(op, "open-rdonly-trunc") == 0) {
		return report(op, syscall(SYS_open, path, O_RDONLY | O_TRUNC | O_CLOEXEC));
	}
#endif
	if (strcmp(op, "openat-rdonly-trunc") == 0) {
		return report(op, syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_TRUNC | O_CLOEXEC));
	}
	if (strcmp(op, "openat-accmode3-trunc") == 0) {
		return report(op, syscall(SYS_openat, AT_FDCWD, path, O_ACCMODE | O_TRUNC | O_CLOEXEC));
	}
	if (strcmp(op, "handle-rdonly-trunc") == 0) {
		return report(op, open_by_handle(path));
	}
	if (strcmp(op, "openat2-rdonly-trunc") == 0) {
		struct open_how how = {.flags = O_RDONLY | O_TRUNC | O_CLOEXEC};
		return report(op, syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how)));
	}
	if ((r = try_i386(op, path)) >= 0) {
		return r;
	}
usage:
	fprintf(stderr, "usage: try-truncate truncate|open-rdonly-trunc|openat-rdonly-trunc|"
			"openat-accmode3-trunc|handle-rdonly-trunc|openat2-rdonly-trunc|"
			"i386-truncate|i386-truncate64|i386-open-rdonly-trunc|"
			"i386-openat-rdonly-trunc PATH, or io-uring-setup\n");
	return 2;
}
