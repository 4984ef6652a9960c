/*
 * try-syscall — one system call (or one quota probe), for the fence and quota tests.
 * Built twice: dynamic (libfvm is loaded, but the calls below go to the kernel through
 * syscall(2), which libfvm does not wrap) and static (libfvm cannot be loaded at all).
 *
 *   try-syscall create PATH       openat(O_CREAT|O_EXCL|O_WRONLY)
 *   try-syscall write PATH        openat(O_WRONLY|O_APPEND) and write one byte
 *   try-syscall unlink PATH       unlinkat
 *   try-syscall connect ADDR PORT a TCP connect to an IPv4 address
 *   try-syscall kill PID          kill(PID, 0)
 *   try-syscall alloc SIZE_MB     allocate and touch SIZE_MB MiB
 *   try-syscall fsize PATH BYTES  write BYTES bytes to a new file
 *   try-syscall openfiles N       open /dev/null up to N times
 *   try-syscall cpu               burn CPU until stopped
 *
 * Prints "OP: ok" or "OP: ERRNAME" and exits 0 or 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int report(const char *op, long ret)
{
	if (ret < 0) {
		printf("%s: %s\n", op, strerrorname_np(errno));
		return 1;
	}
	printf("%s: ok\n", op);
	return 0;
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	long r;

	signal(SIGXFSZ, SIG_IGN);
	if (strcmp(op, "create") == 0 && argc == 3) {
		r = syscall(SYS_openat, AT_FDCWD, argv[2], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		return report(op, r);
	}
	if (strcmp(op, "write") == 0 && argc == 3) {
		r = syscall(SYS_openat, AT_FDCWD, argv[2], O_WRONLY | O_APPEND | O_CLOEXEC, 0);
		if (r >= 0) {
			r = syscall(SYS_write, (int)r, "x", 1);
		}
		return report(op, r);
	}
	if (strcmp(op, "unlink") == 0 && argc == 3) {
		return report(op, syscall(SYS_unlinkat, AT_FDCWD, argv[2], 0));
	}
	if (strcmp(op, "connect") == 0 && argc == 4) {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
		inet_pton(AF_INET, argv[2], &sin.sin_addr);
		r = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		if (r >= 0) {
			r = syscall(SYS_connect, (int)r, &sin, sizeof(sin));
		}
		return report(op, r);
	}
	if (strcmp(op, "kill") == 0 && argc == 3) {
		return report(op, syscall(SYS_kill, atoi(argv[2]), 0));
	}
	if (strcmp(op, "alloc") == 0 && argc == 3) {
		size_t len = (size_t)atol(argv[2]) << 20;
		char *p = malloc(len);
		/* Through a volatile pointer: a memset of memory never read again is a dead
		   store the compiler removes, and nothing would be allocated at all. */
		for (size_t i = 0; p && i < len; i += 4096) {
			((volatile char *)p)[i] = 1;
		}
		return report(op, p ? 0 : -1);
	}
	if (strcmp(op, "fsize") == 0 && argc == 4) {
		static char buf[65536];
		long left = atol(argv[3]);
		/* Through libc: the file lands in the VM; the quota is what is tested. */
		r = open(argv[2], O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
		int fd = (int)r;
		while (r >= 0 && left > 0) {
			r = write(fd, buf, left < (long)sizeof(buf) ? (size_t)left : sizeof(buf));
			left -= r > 0 ? r : 0;
		}
		return report(op, r);
	}
	if (strcmp(op, "openfiles") == 0 && argc == 3) {
		int n = 0, want = atoi(argv[2]);
		for (r = 0; n < want && r >= 0; n++) {
			r = open("/dev/null", O_RDONLY);
		}
		if (r < 0) {
			printf("openfiles: %s after %d\n", strerrorname_np(errno), n - 1);
			return 1;
		}
		printf("openfiles: ok\n");
		return 0;
	}
	if (strcmp(op, "cpu") == 0) {
		for (volatile unsigned long i = 0;; i++) {
		}
	}
	fprintf(stderr, "usage: try-syscall create|write|unlink|connect|kill|alloc|fsize|openfiles|cpu ...\n");
	return 2;
}
