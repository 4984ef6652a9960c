/*
 * walk.c — the core the directory walkers share (walk.h): one loop over a merged
 * listing and one stat with libc's conventions. The walkers themselves are
 * scandir.c, glob.c, ftw.c and fts.c.
 */
#include "walk.h"

int fvm_walk_each(DIR *dir, int (*fn)(const struct dirent64 *d, void *arg), void *arg)
{
	const struct dirent64 *d;
	int ret;

	for (;;) {
		errno = 0;
		d = fvm_dir_read(dir);
		if (!d) {
			return errno ? -errno : 0;
		}
		ret = fn(d, arg);
		if (ret != 0) {
			return ret;
		}
	}
}

int fvm_walk_stat(const char *vpath, struct stat *st, bool follow)
{
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, st, follow ? 0 : AT_SYMLINK_NOFOLLOW));
}
