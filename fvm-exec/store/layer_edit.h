/*
 * layer_edit.h — edits of a VM's upper layer that keep the VM's view as it is, for fvm
 * commit and fvm reset. Called only under the VM's exclusive lock.
 *
 * Invariant: every function here leaves what a process in the VM would see unchanged
 * at each step (so a crash at any point is harmless), except layer_discard, whose
 * purpose is to let the host show through again.
 */
#ifndef FVM_STORE_LAYER_EDIT_H
#define FVM_STORE_LAYER_EDIT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Replaces opaque markers by explicit whiteouts (one per hidden host entry, the marker
 * pushed down onto child directories that hide a host directory), in every opaque
 * directory of UPPER that is an ancestor of, equal to, or beneath one of PATHS (all
 * of them when NPATHS is 0). Afterwards each change in those subtrees lives in one
 * upper entry of its own. Returns 0 or -errno.
 */
int layer_deopaque(const char *upper, char *const *paths, size_t npaths);

/*
 * Removes what no longer changes anything: whiteouts whose host entry is gone, and
 * empty upper directories identical to their host directory. Bottom-up over all of
 * UPPER; upper/ itself stays. Returns 0 or -errno.
 */
int layer_prune(const char *upper);

/*
 * Discards the VM's changes at and beneath VPATH: its upper entry (a whole tree) and
 * the whiteout hiding the host's. Opaque ancestors must have been removed first
 * (layer_deopaque). One step of P per entry removed. Returns 0 or -errno.
 */
struct progress;
int layer_discard(const char *upper, const char *vpath, struct progress *p);

#endif
