/*
 * qwriter.c — a test helper for t_disk_quota_unseen.sh, built static and dynamic: grows
 * the file NAME (created, 0644) by BYTES with the write-family call CALL, the way a
 * static program, Go or stdio grows a file without passing libfvm's wrappers, and
 * prints "CALL: ok N" or "CALL: ERRNAME".
 *
 * Rules: the write family by syscall(2) (the static build's calls come from the
 * executable's own code, as Go's do); stdio calls (fwrite, fprintf, fputc) through
 * glibc's FILE, whose internal write no wrapper sees; "mmap" grows with ftruncate(3)
 * and stores through a shared mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *ename(int e)
{
	return e == EDQUOT ? "EDQUOT" : e == ENOSPC ? "ENOSPC" : e == EFBIG ? "EFBIG" : strerror(e);
}

static int report(const char *call, long r)
{
	if (r < 0) {
		printf("%s: %s\n", call, ename(errno));
		return 1;
	}
	printf("%s: ok %ld\n", call, r);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: qwriter CALL NAME BYTES\n");
		return 2;
	}
	const char *call = argv[1], *name = argv[2];
	size_t n = strtoul(argv[3], NULL, 0);
	char *buf = malloc(n + 1);
	memset(buf, 'q', n);
	buf[n] = '\0';
	if (strcmp(call, "fwrite") == 0 || strcmp(call, "fprintf") == 0 || strcmp(call, "fputc") == 0) {
		FILE *f = fopen(name, "w");
		if (!f) {
			return report("fopen", -1);
		}
		long done = 0;
		int fail = 0; /* the first failure's errno */
		if (call[1] == 'w') {
			done = (long)fwrite(buf, 1, n, f);
			fail = done < (long)n ? errno : 0;
		} else if (call[1] == 'p' && call[2] == 'r') {
			for (size_t i = 0; i < n; i += 100) {
				int k = fprintf(f, "%.*s", (int)(n - i < 100 ? n - i : 100), buf);
				if (k < 0 && !fail) {
					fail = errno;
				}
				done += k > 0 ? k : 0;
			}
		} else {
			for (size_t i = 0; i < n; i++) {
				if (fputc('c', f) == EOF) {
					fail = fail ? fail : errno;
				} else {
					done++;
				}
			}
		}
		errno = 0;
		int e = fclose(f);
		printf("%s: %s, wrote %ld, fclose %s\n", call, fail ? ename(fail) : "ok", done, e ? ename(errno) : "ok");
		return e != 0;
	}
	int fd = open(name, O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		return report("open", -1);
	}
	long r = -1;
	if (strcmp(call, "write") == 0) {
		r = syscall(SYS_write, fd, buf, n);
	} else if (strcmp(call, "pwrite") == 0) {
		r = syscall(SYS_pwrite64, fd, buf, n, 0);
	} else if (strcmp(call, "writev") == 0) {
		struct iovec v[2] = {{buf, n / 2}, {buf, n - n / 2}};
		r = syscall(SYS_writev, fd, v, 2);
	} else if (strcmp(call, "pwritev2") == 0) {
		struct iovec v[1] = {{buf, n}};
		r = syscall(SYS_pwritev2, fd, v, 1, 0, 0, 0);
	} else if (strcmp(call, "truncate") == 0) {
		r = syscall(SYS_truncate, name, n); /* by name: the supervisor makes it */
	} else if (strcmp(call, "ftruncate") == 0) {
		r = syscall(SYS_ftruncate, fd, n);
	} else if (strcmp(call, "fallocate") == 0) {
		r = syscall(SYS_fallocate, fd, 0, 0, n);
	} else if (strcmp(call, "copy_file_range") == 0 || strcmp(call, "sendfile") == 0 ||
		   strcmp(call, "splice") == 0) {
		int in;
		if (call[0] == 's' && call[1] == 'p') {
			int p[2];
			if (pipe(p) < 0 || fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0) {
				return report("pipe", -1);
			}
			size_t w = 0;
			while (w < n) {
				ssize_t k = write(p[1], buf + w, n - w);
				if (k <= 0) {
					return report("pipe-write", -1);
				}
				w += (size_t)k;
			}
			in = p[0];
			r = syscall(SYS_splice, in, NULL, fd, NULL, n, 0);
		} else {
			/* the source is a host file ($QW_SRC): reading it adds nothing to the layer */
			const char *src = getenv("QW_SRC");
			if (!src || (in = open(src, O_RDONLY)) < 0) {
				return report("source", -1);
			}
			r = call[0] == 'c' ? syscall(SYS_copy_file_range, in, NULL, fd, NULL, n, 0)
					   : syscall(SYS_sendfile, fd, in, NULL, n);
		}
	} else if (strcmp(call, "mmap") == 0) {
		r = ftruncate(fd, (off_t)n); /* libc's: libfvm's wrapper in a dynamic build */
		if (r == 0) {
			char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (m == MAP_FAILED) {
				return report("mmap", -1);
			}
			memset(m, 'm', n);
			munmap(m, n);
			r = (long)n;
		}
	} else {
		fprintf(stderr, "qwriter: unknown call %s\n", call);
		return 2;
	}
	return report(call, r);
}
