/*
 * dirent.h — reading a directory with getdents64, in one loop (core/dirent.c) that
 * libfvm's merged listings build on. Raw system calls: no DIR, no allocation.
 */
#ifndef FVM_DIRENT_H
#define FVM_DIRENT_H

#include <stdint.h>

/* The kernel's getdents64 record. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Calls FN(record, ARG) for every record of directory RPATH, "." and ".." included,
 * in the kernel's order, until FN returns non-zero. Returns FN's value, 0 at the end
 * (a failed read ends the listing there), or -errno when RPATH cannot be opened.
 */
int fvm_each_dirent(const char *rpath, int (*fn)(const struct linux_dirent64 *d, void *arg),
		    void *arg);

#endif
