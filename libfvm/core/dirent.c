/*
 * dirent.c — the getdents64 loop over one directory (fvm/dirent.h).
 *
 * Invariants: the directory is opened O_RDONLY | O_DIRECTORY | O_CLOEXEC and always
 * closed; records are handed out as the kernel wrote them, valid only during FN.
 */
#include <fcntl.h>

#include "fvm/dirent.h"
#include "fvm/sys.h"

int fvm_each_dirent(const char *rpath, int (*fn)(const struct linux_dirent64 *d, void *arg),
		    void *arg)
{
	char buf[32768];
	int fd = sys_openat(AT_FDCWD, rpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	int n, ret = 0;

	if (fd < 0) {
		return fd;
	}
	while (ret == 0 && (n = sys_getdents64(fd, buf, sizeof(buf))) > 0) {
		for (int off = 0; off < n && ret == 0;) {
			const struct linux_dirent64 *d = (const void *)(buf + off);
			off += d->d_reclen;
			ret = fn(d, arg);
		}
	}
	sys_close(fd);
	return ret;
}
