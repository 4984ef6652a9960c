/*
 * originlog.h — a VM's origins log as the tools use it: loaded whole into a table
 * (the last record of each path), looked up by path for conflicts, compacted. The
 * line format is the core's (fvm/origins.h), parsed and written only there.
 */
#ifndef FVM_STORE_ORIGINLOG_H
#define FVM_STORE_ORIGINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fvm/origins.h"

struct originlog {
	struct fvm_origin *v;  /* sorted by vpath, one record per path; vpaths malloc'd */
	size_t n;
	size_t skipped;        /* lines that were not records (damaged), left out */
};

/*
 * Reads the log FILE into LOG. A missing file is an empty log; a line that does not
 * parse (a record cut by a crash, damage) is skipped and counted. Returns 0 or -errno.
 */
int originlog_load(const char *file, struct originlog *log);

/* The record for VPATH, or NULL. */
const struct fvm_origin *originlog_find(const struct originlog *log, const char *vpath);

/*
 * True when host object ST is still the one recorded in R: same device and inode, and
 * for anything but a directory the same size and modification time (a directory's
 * size and time change with its entries, which the scan compares one by one).
 */
bool originlog_matches(const struct fvm_origin *r, const struct stat *st);

/*
 * Rewrites FILE (temp + rename) with the records of LOG for which KEEP(record, ARG) is
 * true. Returns 0 or -errno; on failure FILE is as it was.
 */
int originlog_rewrite(const char *file, const struct originlog *log,
		      bool (*keep)(const struct fvm_origin *r, void *arg), void *arg);

/*
 * Rewrites VMDIR's origins log keeping the last record of each path that still has an
 * upper entry or a whiteout. Returns 0 or -errno.
 */
int originlog_compact(const char *vmdir);

void originlog_free(struct originlog *log);

#endif
