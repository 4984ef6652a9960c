/*
 * capprobe — what a process's own capabilities let it reach (issue 14, "the supervisor
 * is careful"; tests/e2e/t_virt_caps.sh, root only). Built statically by that test, so
 * that its calls are the supervisor's to answer in a VM; run natively for comparison,
 * under setpriv or capsh with capabilities dropped.
 *
 *   capprobe OP PATH [OP PATH...]
 *     read    open(PATH, O_RDONLY) and read a byte
 *     stat    stat(PATH)
 *     access  access(PATH, R_OK) and faccessat(PATH, R_OK, AT_EACCESS)
 *     mkdir   mkdir(PATH, 0755)
 *     creat   open(PATH, O_WRONLY|O_CREAT|O_EXCL, 0644)
 *     unlink  unlink(PATH)
 *     append  open(PATH, O_WRONLY|O_APPEND) and write a line
 *     caps    prints CapEff's DAC bits (PATH ignored: "-")
 *
 * Prints one line per op, "OP NAME: ok" or the errno's name (NAME: PATH's last
 * component), and exits 0: the comparison is of the lines.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *err(int r)
{
	if (r >= 0) {
		return "ok";
	}
	switch (errno) {
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	default:
		return strerror(errno);
	}
}

static int op(const char *what, const char *path)
{
	struct stat st;
	char c;
	int fd, r;

	if (strcmp(what, "read") == 0) {
		fd = open(path, O_RDONLY);
		r = fd < 0 ? -1 : (int)read(fd, &c, 1);
		if (fd >= 0) {
			close(fd);
		}
		return r;
	}
	if (strcmp(what, "stat") == 0) {
		return stat(path, &st);
	}
	if (strcmp(what, "access") == 0) {
		return access(path, R_OK);
	}
	if (strcmp(what, "eaccess") == 0) {
		return faccessat(AT_FDCWD, path, R_OK, AT_EACCESS);
	}
	if (strcmp(what, "mkdir") == 0) {
		return mkdir(path, 0755);
	}
	if (strcmp(what, "creat") == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0) {
			close(fd);
		}
		return fd;
	}
	if (strcmp(what, "unlink") == 0) {
		return unlink(path);
	}
	if (strcmp(what, "append") == 0) {
		fd = open(path, O_WRONLY | O_APPEND);
		r = fd < 0 ? -1 : (int)write(fd, "appended\n", 9);
		if (fd >= 0) {
			close(fd);
		}
		return r;
	}
	errno = EINVAL;
	return -1;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc % 2 == 0) {
		fprintf(stderr, "usage: capprobe OP PATH [OP PATH...]\n");
		return 2;
	}
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *base = strrchr(argv[i + 1], '/');
		base = base ? base + 1 : argv[i + 1];
		if (strcmp(argv[i], "caps") == 0) {
			struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
			struct __user_cap_data_struct d[2] = {{0}};
			syscall(SYS_capget, &h, d);
			printf("caps: dac_override %d dac_read_search %d fowner %d\n",
			       !!(d[0].effective & (1u << CAP_DAC_OVERRIDE)),
			       !!(d[0].effective & (1u << CAP_DAC_READ_SEARCH)),
			       !!(d[0].effective & (1u << CAP_FOWNER)));
			continue;
		}
		printf("%s %s: %s\n", argv[i], base, err(op(argv[i], argv[i + 1])));
	}
	return 0;
}
