/*
 * longpath.c — system calls on absolute paths of PATH_MAX bytes or more (fvm/sys.h's
 * FVM_SCL): the directories are opened in pieces, the call acts relative to the last.
 *
 * The kernel refuses a path string of PATH_MAX bytes or more with ENAMETOOLONG, but not
 * a file that deep: a program reaches it relative to a directory (its cwd, a dirfd). In a
 * VM the kernel gets the layer's prefix plus an absolute virtual path, which may be that
 * long where the program's own relative name was not.
 *
 * Rules:
 *  - Reached only after the kernel answered ENAMETOOLONG, and only in a VM
 *    (fvm_long_paths, set by libfvm when it is active): a program's own string is never
 *    retried (libfvm refuses names of PATH_MAX bytes itself, as the kernel does), and
 *    the common call costs one comparison.
 *  - Only absolute paths: the core's real paths. The walk is the kernel's own: each
 *    piece (less than PATH_MAX bytes, ending before a "/") is opened O_PATH|O_DIRECTORY
 *    from the directory before it, following links as one long lookup would.
 *  - A path argument that takes no dirfd (chdir, the l*xattr calls) becomes
 *    "/proc/self/fd/N/REST".
 *  - Raw system calls only; errno is never touched; every fd opened is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fvm/sys.h"

int fvm_long_paths;

/* Room for "/proc/self/fd/N/" in front of the rest of a path. */
#define PROC_FD_ROOM 32

/*
 * Opens the longest piece of *PP that ends before a "/" and is shorter than PATH_MAX,
 * from DIRFD, and moves *PP past it and its slashes. Returns the fd or -errno
 * (-ENAMETOOLONG when no "/" is within reach).
 */
static int open_piece(int dirfd, const char **pp)
{
	char piece[PATH_MAX];
	const char *p = *pp;
	size_t i, cut = 0;

	for (i = 1; i < PATH_MAX - 1 && p[i]; i++) {
		if (p[i] == '/') {
			cut = i;
		}
	}
	if (cut == 0) {
		return -ENAMETOOLONG;
	}
	memcpy(piece, p, cut);
	piece[cut] = '\0';
	for (p += cut; *p == '/'; p++) {
	}
	*pp = p;
	return (int)FVM_SC(SYS_openat, dirfd, piece, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, 0);
}

/*
 * Opens the directories of absolute PATH in pieces until at most MAXREST bytes are left:
 * *FD is the last directory opened, *REST the rest of PATH (relative, "." when nothing
 * is left). Returns 0 or -errno (nothing left open).
 */
static int split(const char *path, size_t maxrest, int *fd, const char **rest)
{
	const char *p = path;

	*fd = AT_FDCWD;
	while (strlen(p) > maxrest) {
		int nfd = open_piece(*fd, &p);
		if (*fd != AT_FDCWD) {
			sys_close(*fd);
		}
		*fd = nfd < 0 ? AT_FDCWD : nfd;
		if (nfd < 0) {
			return nfd;
		}
	}
	*rest = *p ? p : ".";
	return 0;
}

long fvm_long_call(long n, const long args[6], int d1, int d2)
{
	const int where[2] = {d1, d2};
	char proc[2][PATH_MAX + PROC_FD_ROOM];
	int fds[2] = {AT_FDCWD, AT_FDCWD};
	long a[6], ret = -ENAMETOOLONG;
	bool any = false;
	int j;

	memcpy(a, args, sizeof(a));
	for (j = 0; j < 2; j++) {
		int d = where[j], idx;
		const char *path, *rest;
		if (d == FVM_LONG_NONE) {
			continue;
		}
		idx = d >= 0 ? d + 1 : d - FVM_LONG_AT0;
		path = (const char *)a[idx];
		/* The kernel read the string: it is there, PATH_MAX bytes of it at least. */
		if (!path || path[0] != '/' || memchr(path, '\0', PATH_MAX)) {
			continue;
		}
		ret = split(path, d >= 0 ? PATH_MAX - 1 : PATH_MAX - 1 - PROC_FD_ROOM, &fds[j], &rest);
		if (ret < 0) {
			goto out;
		}
		if (d >= 0) {
			a[d] = fds[j];
			a[idx] = (long)rest;
		} else {
			snprintf(proc[j], sizeof(proc[j]), "/proc/self/fd/%d/%s", fds[j], rest);
			a[idx] = (long)proc[j];
		}
		any = true;
	}
	ret = any ? fvm_syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]) : -ENAMETOOLONG;
out:
	for (j = 0; j < 2; j++) {
		if (fds[j] != AT_FDCWD) {
			sys_close(fds[j]);
		}
	}
	return ret;
}
