/*
 * review.h — fvm-exec --review: try before you commit.
 */
#ifndef FVM_RUN_REVIEW_H
#define FVM_RUN_REVIEW_H

/*
 * After a run in VM NAME (directory VMDIR, whose run lock the caller has released):
 * prints the change summary on stderr and, when there is a terminal, asks
 * "Commit these changes? [y/N/s]" on it: y commits all, s lets the user pick paths in
 * $VISUAL/$EDITOR (default vi) and commits those, anything else keeps them in the VM.
 * Returns 0, or 1 when a commit was partial or refused (reported).
 */
int review_run(const char *vmdir, const char *name);

#endif
