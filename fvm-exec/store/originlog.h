/*
 * originlog.h — the VM's origins log: what each host object was when the VM copied it up.
 *
 * libfvm appends one line per copy-up (core/copyup.c, fvm_record_origin):
 *   "DEV INO SIZE MTIME_SEC.NSEC MODE UID GID ESCAPED-VPATH\n"
 * where the vpath has '\n' as "\\n" and '\\' as "\\\\". A path copied up again (after a
 * commit or reset dropped its copy) gets a new line; the last line for a path wins.
 * The tools read it to find conflicts (the host changed since the copy-up) and rewrite
 * it, atomically, to drop the records of objects no longer in upper/.
 */
#ifndef FVM_ORIGINS_H
#define FVM_ORIGINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

struct fvm_origin {
	unsigned long long dev, ino;
	long long size, mtime_sec;
	long mtime_nsec;
	char *vpath;  /* unescaped */
	char *line;   /* the record as written, without its newline */
	size_t seq;   /* line number: the later record for a path wins */
};

struct fvm_origins {
	struct fvm_origin *v;  /* sorted by vpath, one record per path */
	size_t n;
};

/*
 * Reads FILE into O. A missing file is an empty log; a malformed line (a record cut by
 * a crash) is skipped. Returns 0 or -errno.
 */
int fvm_origins_load(const char *file, struct fvm_origins *o);

/* The record for VPATH, or NULL. */
const struct fvm_origin *fvm_origins_find(const struct fvm_origins *o, const char *vpath);

/*
 * True when host object ST is still the one recorded in R: same device and inode, and
 * for anything but a directory the same size and modification time (a directory's
 * size and time change with its entries, which the scan compares one by one).
 */
bool fvm_origin_matches(const struct fvm_origin *r, const struct stat *st);

/*
 * Rewrites FILE (temp + rename) with the records of O for which KEEP(record, ARG) is
 * true. Returns 0 or -errno.
 */
int fvm_origins_rewrite(const char *file, const struct fvm_origins *o,
			bool (*keep)(const struct fvm_origin *r, void *arg), void *arg);

void fvm_origins_free(struct fvm_origins *o);

/*
 * Finishes a file written whole as TMP through F: flush, fsync, close, rename over
 * FILE; on failure TMP is removed and FILE is as it was. Returns 0 or -errno.
 */
int fvm_file_replace(FILE *f, const char *tmp, const char *file);

/*
 * The log's path escaping, also used by the commit journal: '\n' and '\\' escaped.
 * fvm_path_escape writes to OUT (size LEN; returns -ENAMETOOLONG when it does not
 * fit); fvm_path_unescape returns a malloc'd string or NULL.
 */
int fvm_path_escape(const char *vpath, char *out, size_t len);
char *fvm_path_unescape(const char *esc);

#endif
