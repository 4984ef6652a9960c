/*
 * origins.h — the origins log, ROOT/origins: what each host object was when the VM
 * copied it up. This module (core/origins.c) owns the line format: libfvm appends a
 * line at each copy-up, the tools parse them to find conflicts (fvm-exec/store/
 * originlog.h loads the log as a table) and write the lines they keep when compacting.
 *
 * One line per copy-up:
 *   "DEV INO SIZE MTIME_SEC.NSEC MODE UID GID VPATH\n"
 * DEV, INO, UID, GID in decimal, SIZE and MTIME_SEC signed decimal, NSEC nine digits,
 * MODE octal (st_mode, type bits included), VPATH absolute and escaped (fvm/escape.h).
 * A path copied up again (after a commit or reset dropped its copy) gets a new line;
 * the last line for a path wins. Lines are appended with one O_APPEND write each, so
 * concurrent processes never interleave; a line cut short by a crash has no newline.
 */
#ifndef FVM_ORIGINS_H
#define FVM_ORIGINS_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fvm/escape.h"

/* The longest line (newline included) a path of up to PATH_MAX bytes gives. */
#define FVM_ORIGIN_LINE_MAX (FVM_ESCAPED_MAX(PATH_MAX) + 128)

struct fvm_origin {
	uint64_t dev, ino;
	int64_t size, mtime_sec;
	long mtime_nsec;
	uint32_t mode, uid, gid;
	const char *vpath;  /* unescaped */
};

/* The record of host object ST at VPATH (not copied: R points at it). */
void fvm_origin_of(const struct stat *st, const char *vpath, struct fvm_origin *r);

/*
 * Writes R as one line, its newline included, into OUT (OUTLEN bytes, NUL-terminated).
 * Returns the line's length, -ENAMETOOLONG when it does not fit (never truncated), or
 * -EINVAL for a record no parse could give (a relative path, nanoseconds >= 10^9).
 */
int fvm_origin_format(const struct fvm_origin *r, char *out, size_t outlen);

/*
 * Parses LINE (one line without its newline) in place into R; R->vpath then points
 * into LINE. Returns 0, or -EINVAL for anything that is not a line fvm_origin_format
 * writes (a missing or extra field, a number out of range, a relative path, a bad
 * escape). LINE is then partly rewritten and must not be used.
 */
int fvm_origin_parse(char *line, struct fvm_origin *r);

/*
 * Appends the record of host object ST at VPATH to the origins log of VM (copy-up).
 * Best effort: a record that cannot be written leaves the log as it was and makes the
 * commit of that path conflict-free, as for a file the VM created.
 */
struct fvm_vm;
void fvm_record_origin(const struct fvm_vm *vm, const char *vpath, const struct stat *st);

#endif
