/*
 * replace.h — writing a file whole: into a temporary beside it, flushed to disk, then
 * renamed over it, so a reader (or a crash) sees the old file or the new one, never a
 * mix. The store's files (vm.conf, policy, origins, the commit journal) are written so.
 */
#ifndef FVM_STORE_REPLACE_H
#define FVM_STORE_REPLACE_H

#include <limits.h>
#include <stdio.h>

struct replace {
	FILE *f;                /* write the new content here */
	const char *file;
	char tmp[PATH_MAX + 32];
};

/*
 * Opens "FILE.tmp.PID" for the new content of FILE (mode 0644 before the umask).
 * Returns 0 or -errno.
 */
int replace_open(struct replace *r, const char *file);

/*
 * Flushes, fsyncs and closes the new content and renames it over FILE. On failure the
 * temporary is removed and FILE is as it was. Returns 0 or -errno.
 */
int replace_commit(struct replace *r);

/* Drops the new content: FILE is as it was. */
void replace_abort(struct replace *r);

#endif
