/*
 * walk.h — what libfvm's directory walkers share (walk.c), internal to them:
 * scandir.c, glob.c, ftw.c and fts.c.
 *
 * glibc's walkers call its internal opendir, readdir and stat, which no preloaded
 * library can see: inside a VM they would list the host's directories, not the VM's
 * merged view. libfvm rebuilds them on its own primitives (fvm_opendirat,
 * fvm_dir_read, fvm_dir_close, fvm_fstatat, fvm_openat), with glibc 2.36's observable
 * behaviour: callback order and arguments, type flags, levels and bases, errno values,
 * return values and the memory the caller frees.
 *
 * Rules every walker keeps:
 *  - Outside a VM every entry point calls libc's own function (REAL(name), looked up on
 *    first use): nothing changes there.
 *  - Inside, no walker calls an exported wrapped name (STYLE.md "Three names").
 *  - On the 64-bit ABIs fvm supports, the 64 names have the same layouts (struct stat64,
 *    struct dirent64, glob64_t, FTS64, FTSENT64) as the plain ones and share their code.
 *  - Exported unversioned, each name also receives callers bound to older symbol
 *    versions (glob@GLIBC_2.2.5, nftw@GLIBC_2.2.5): they get the current behaviour
 *    (the old glob did not match dangling symlinks; the old nftw ignored unknown flags).
 */
#ifndef LIBFVM_WALK_H
#define LIBFVM_WALK_H

#include "libfvm.h"

/*
 * Calls FN(entry, ARG) for each entry of libfvm DIR stream DIR, in readdir order,
 * "." and ".." included, until FN returns non-zero. Returns FN's value, 0 at the end
 * (errno 0), or -errno when reading failed. errno is 0 before each FN call.
 */
int fvm_walk_each(DIR *dir, int (*fn)(const struct dirent64 *d, void *arg), void *arg);

/* stat (FOLLOW) or lstat of VPATH in the VM, with libc's conventions (0, or -1 and errno). */
int fvm_walk_stat(const char *vpath, struct stat *st, bool follow);

#endif
