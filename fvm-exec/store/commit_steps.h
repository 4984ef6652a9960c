/*
 * commit_steps.h — the steps of fvm commit, shared by its files and by the unit tests:
 * the plan (commit_plan.c: which changes, which conflict) and applying a change to the
 * host (commit_apply.c). commit.c runs them in the order its header states.
 */
#ifndef FVM_STORE_COMMIT_STEPS_H
#define FVM_STORE_COMMIT_STEPS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/changes.h"
#include "store/commit.h"
#include "store/journal.h"
#include "store/originlog.h"
#include "store/safefs.h"

/* The name a change's copy is built under, beside its destination. */
#define COMMIT_TMP_PREFIX ".fvm-commit."

struct commit {
	const char *vmdir;
	char upper[PATH_MAX + 16];
	int upperfd;             /* upper/, opened without links; every upper entry is reached from it */
	char id[JOURNAL_ID_MAX + 1];
	struct fvm_changes ch;   /* sorted by path, as fvm_changes_scan gives them */
	bool *sel;               /* selected and not in conflict */
	const char **why;        /* conflict reason, or NULL */
	bool *held;              /* selected, but privileged (or beneath): not applied */
	bool *done;              /* host side applied */
	bool priv_ok;            /* the privileged changes were allowed */
	struct safe_parent_cache pc; /* the upper directory of the last change looked at */
	size_t nsel, nconf, nheld, nfail;
};

/* ---- the plan (commit_plan.c) ---- */

/*
 * Selects the changes of C beneath O's paths (all without paths) and the added
 * directories above them that they need, then marks as conflicts (C->why) those whose
 * host object changed since the copy-up recorded in ORIG, with everything beneath
 * them; O->force marks none. Counts C->nsel and C->nconf.
 */
void commit_plan(struct commit *c, const struct commit_opts *o, const struct originlog *orig);

/* The number of selected changes of C that grant privilege (their priv bits). */
size_t commit_privileged(const struct commit *c);

/*
 * Leaves out (C->held) the selected changes that grant privilege and everything
 * beneath them, moving them from C->nsel to C->nheld.
 */
void commit_hold_privileged(struct commit *c);

/* ---- applying (commit_apply.c) ---- */

/* "DIR/.fvm-commit.ID.N" for the change at VPATH with index N. 0 or -ENAMETOOLONG. */
int commit_temp_name(const char *vpath, const char *id, size_t n, char *out, size_t len);

/* Applies change I of C to the host (see commit.c, step 4). 0 or -errno. */
int commit_apply_one(struct commit *c, size_t i);

/* Each committed directory's mode and times, deepest first; failures are counted. */
void commit_finish_dirs(struct commit *c);

/* Flushes the filesystems the commit wrote to. */
void commit_sync_host(const struct commit *c);

/* Committed change I leaves upper/ (it now equals the host). */
void commit_drop_from_upper(struct commit *c, size_t i);

#endif
