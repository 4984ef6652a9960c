/*
 * rawsys — file system calls made through libc's syscall() function, as libuv and Rust's
 * std make some of theirs, for tests/preload/t_rawsys.sh: libfvm (libfvm/rawsys.c) must
 * send each path-taking number to the VM.
 *
 *   rawsys script      in the cwd, which holds a file "host.txt" and a directory "d":
 *                      creates, stats, renames, links, changes, lists (getdents64 and
 *                      the legacy getdents) and removes, printing one line per call
 *   rawsys openat2 P   openat2(P, O_RDONLY): "ok" or the error's name
 *
 * Every line is the same natively and in a VM (no inode numbers, times or fds).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *op, long r)
{
	if (r < 0) {
		printf("%s: %s\n", op, strerrorname_np(errno));
	} else {
		printf("%s: %ld\n", op, r);
	}
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists DIR with NR (getdents or getdents64) through a small buffer: several calls. */
static void list(const char *dir, long nr)
{
	char buf[96], *names[256];
	int k = 0;
	long n, fd = syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		say("list open", fd);
		return;
	}
	while ((n = syscall(nr, fd, buf, sizeof(buf))) > 0) {
		for (long at = 0; at < n && k < 256;) {
			unsigned short reclen;
			memcpy(&reclen, buf + at + 16, sizeof(reclen));
			/* getdents64: type, then name; getdents: name, type in the last byte. */
			const char *name = buf + at + (nr == SYS_getdents64 ? 19 : 18);
			int type = nr == SYS_getdents64 ? buf[at + 18] : buf[at + reclen - 1];
			if (asprintf(&names[k], "%s/%d", name, type) < 0) {
				exit(2);
			}
			k++;
			at += reclen;
		}
	}
	if (n < 0) {
		say("list", n);
	}
	qsort(names, (size_t)k, sizeof(names[0]), cmp);
	printf("%s %s:", nr == SYS_getdents64 ? "getdents64" : "getdents", dir);
	for (int i = 0; i < k; i++) {
		printf(" %s", names[i]);
	}
	printf("\n");
	syscall(SYS_close, fd);
}

static void stat_of(const char *path)
{
	struct statx stx;
	struct stat st;
	long r = syscall(SYS_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx);

	if (r < 0) {
		say(path, r);
		return;
	}
	r = syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW);
	printf("%s: statx size %llu mode %o; newfstatat %s\n", path, (unsigned long long)stx.stx_size,
	       stx.stx_mode, r == 0 && st.st_size == (off_t)stx.stx_size && st.st_mode == stx.stx_mode &&
	       st.st_ino == stx.stx_ino ? "agrees" : "differs");
}

/* The *xattrat calls of Linux 6.13 (ENOSYS before, natively and in a VM alike). */
static void xattrat(const char *path)
{
	struct {
		uint64_t value;
		uint32_t size, flags;
	} args = {(uintptr_t) "v1", 2, 0};
	char list[256], val[16];
	long r;

	say("setxattrat", syscall(463, AT_FDCWD, path, 0, "user.k", &args, sizeof(args)));
	args.value = (uintptr_t)val;
	args.size = sizeof(val);
	r = syscall(464, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, "user.k", &args, sizeof(args));
	printf("getxattrat: %.*s\n", (int)(r > 0 ? r : 0), val);
	say("getxattrat bad flags", syscall(464, AT_FDCWD, path, 0x4000, "user.k", &args, sizeof(args)));
	r = syscall(465, AT_FDCWD, path, 0, list, sizeof(list));
	printf("listxattrat:");
	for (long at = 0; r > 0 && at < r; at += (long)strlen(list + at) + 1) {
		printf(" %s", list + at);
	}
	printf("\n");
	say("removexattrat", syscall(466, AT_FDCWD, path, 0, "user.k"));
	say("getxattrat removed", syscall(464, AT_FDCWD, path, 0, "user.k", &args, sizeof(args)));
}

static int script(void)
{
	char buf[PATH_MAX];
	long fd, r;

	fd = syscall(SYS_openat, AT_FDCWD, "new.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	say("openat new.txt", fd < 0 ? fd : 0);
	say("write", syscall(SYS_write, fd, "made raw\n", 9));
	say("close", syscall(SYS_close, fd));
	stat_of("new.txt");
	fd = syscall(SYS_openat, AT_FDCWD, "host.txt", O_WRONLY | O_APPEND | O_CLOEXEC);
	say("append host.txt", syscall(SYS_write, fd, "more\n", 5));
	syscall(SYS_close, fd);
	stat_of("host.txt");
	say("mkdirat d/sub", syscall(SYS_mkdirat, AT_FDCWD, "d/sub", 0755));
	say("renameat2", syscall(SYS_renameat2, AT_FDCWD, "new.txt", AT_FDCWD, "d/sub/moved", 0));
	say("symlinkat", syscall(SYS_symlinkat, "moved", AT_FDCWD, "d/sub/link"));
	r = syscall(SYS_readlinkat, AT_FDCWD, "d/sub/link", buf, sizeof(buf));
	printf("readlinkat: %.*s\n", (int)(r < 0 ? 0 : r), buf);
	say("linkat", syscall(SYS_linkat, AT_FDCWD, "d/sub/moved", AT_FDCWD, "d/hard", 0));
	say("fchmodat", syscall(SYS_fchmodat, AT_FDCWD, "d/sub/moved", 0600));
	say("truncate", syscall(SYS_truncate, "d/hard", 4));
	stat_of("d/sub/moved");
	stat_of("d/sub/link");
	xattrat("d/sub/moved");
	say("faccessat X_OK", syscall(SYS_faccessat, AT_FDCWD, "d/sub/moved", X_OK));
	say("unlinkat host.txt", syscall(SYS_unlinkat, AT_FDCWD, "host.txt", 0));
	stat_of("host.txt");
	say("mknodat fifo", syscall(SYS_mknodat, AT_FDCWD, "d/fifo", S_IFIFO | 0600, 0));
	list(".", SYS_getdents64);
	list("d", SYS_getdents64);
#ifdef SYS_getdents
	list(".", SYS_getdents);
	list("d", SYS_getdents);
#endif
	say("chdir d/sub", syscall(SYS_chdir, "d/sub"));
	r = syscall(SYS_getcwd, buf, sizeof(buf));
	printf("getcwd: %s (returned the length with its NUL: %s)\n",
	       r > 0 && strrchr(buf, '/') ? strrchr(buf, '/') : "?",
	       r > 0 && (size_t)r == strlen(buf) + 1 ? "yes" : "no");
	say("getcwd into 2 bytes", syscall(SYS_getcwd, buf, 2));
	fd = syscall(SYS_openat, AT_FDCWD, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	say("fchdir ..", syscall(SYS_fchdir, fd));
	r = syscall(SYS_getcwd, buf, sizeof(buf));
	printf("getcwd: %s\n", r > 0 && strrchr(buf, '/') ? strrchr(buf, '/') : "?");
	say("unlinkat d/sub/link", syscall(SYS_unlinkat, AT_FDCWD, "sub/link", 0));
	say("unlinkat d/sub/moved", syscall(SYS_unlinkat, AT_FDCWD, "sub/moved", 0));
	say("unlinkat d/sub AT_REMOVEDIR", syscall(SYS_unlinkat, AT_FDCWD, "sub", AT_REMOVEDIR));
	stat_of("sub");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "script") == 0) {
		return script();
	}
	if (argc == 3 && strcmp(argv[1], "openat2") == 0) {
		struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};
		long r = syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof(how));
		printf("openat2: %s\n", r < 0 ? strerrorname_np(errno) : "ok");
		return 0;
	}
	fprintf(stderr, "usage: rawsys script | rawsys openat2 PATH\n");
	return 2;
}
