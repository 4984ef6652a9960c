/*
 * commit.h — fvm commit and fvm reset as functions that tests and fvm-exec --review
 * call directly; the CLI files only parse arguments and take the lock.
 *
 * The caller holds the VM's lock exclusively (vm_lock_idle in procs.h).
 */
#ifndef FVM_STORE_COMMIT_H
#define FVM_STORE_COMMIT_H

#include <stdbool.h>
#include <stddef.h>

/* A terminal to ask on: the question goes to OUT, the answer is read from IN. */
struct commit_ask {
	int in, out;
};

struct commit_opts {
	bool dry_run;   /* print the plan, change nothing */
	bool force;     /* conflicts are overwritten, not skipped */
	char **paths;   /* absolute, normalised subtrees to commit; none: everything */
	size_t npaths;
	/*
	 * Changes that grant privilege (changes.h, FVM_PRIV_*) are applied when
	 * ALLOW_PRIVILEGED is set, or when ASK is given and the answer to the question
	 * naming them is "yes"; otherwise they and everything beneath them are skipped
	 * and reported, and the commit is partial.
	 */
	bool allow_privileged;
	const struct commit_ask *ask;
};

/*
 * Applies the selected changes of the VM at VMDIR to the host (see fvm(1)): each
 * file through a temporary file in its destination directory and a rename; a journal
 * written before the first host change; committed changes leave upper/. An earlier
 * interrupted commit (its journal present) is finished first; with no PATH that is
 * all this call does. Prints the plan (dry run) or a summary on stdout, conflicts,
 * skipped privileged changes and failures on stderr. Returns the exit status: 0 done,
 * 1 conflict, privileged change skipped, or partial.
 */
int fvm_commit(const char *vmdir, const struct commit_opts *o);

/*
 * Why change I of CHS (a scan of a VM whose origins log is ORIG) would be a conflict at
 * commit: the host object it changes is no longer the one the VM copied (changed or
 * deleted on the host since, or, for a VM imported from another host, a different file
 * there: origins_move.h), or NULL. fvm commit skips it without --force; fvm diff
 * --conflicts and fvm info show it.
 */
struct fvm_changes;
struct originlog;
const char *commit_conflict(const struct fvm_changes *chs, size_t i, const struct originlog *orig);

/*
 * Discards the changes of the VM at VMDIR beneath PATHS (all when NPATHS is 0).
 * Returns the exit status: 0 done, 1 partial (reported).
 */
int fvm_reset(const char *vmdir, char *const *paths, size_t npaths);

#endif
