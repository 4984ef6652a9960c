/*
 * layers.h — a store's read-only layers and each VM's layer list, as the tools see them
 * (store format 3, fvm/layout.h; docs/DESIGN.md "Layers").
 *
 * A layer is $FVM_HOME/layers/ID/: tree/ (its files in OCI diff form, a former upper/)
 * and info (label, creation time, digest). A VM's layers are listed, top first, in its
 * control area's "layers" file, which only the tools write (temporary + rename); the
 * runner compiles the list into the policy image libfvm maps.
 *
 * Functions report failures themselves (warn-style) and return -1, or 0 on success,
 * unless they say otherwise.
 */
#ifndef FVM_STORE_LAYERS_H
#define FVM_STORE_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

#include "fvm/layout.h"
#include "fvm/policy.h"

/* A VM's layer list, top first. */
struct layer_list {
	size_t n;
	char id[FVM_MAX_LAYERS][FVM_LAYER_ID_MAX + 1];
};

/* What a layer's info file says. */
struct layer_info {
	char label[128];       /* "" when none */
	long long created;     /* seconds since the epoch */
	char digest[80];       /* "sha256:HEX", or "" until export or import fills it */
};

/* True when ID is a layer id: 1 to FVM_LAYER_ID_MAX of [0-9a-f]. */
bool layer_id_valid(const char *id);

/* The store of the VM at VMDIR (HOME/vms/NAME) into OUT. Returns 0 or -1. */
int layer_home(const char *vmdir, char *out, size_t len);

/* HOME/layers/ID/tree into OUT. Returns 0 or -1. */
int layer_tree_path(const char *home, const char *id, char *out, size_t len);

/* Reads the layer list of the VM at VMDIR into L (none: n 0). Returns 0 or -1. */
int layer_list_read(const char *vmdir, struct layer_list *l);

/* Writes L as the layer list of the VM at VMDIR, atomically. Returns 0 or -1. */
int layer_list_write(const char *vmdir, const struct layer_list *l);

/*
 * Adds the trees of the layers of the VM at VMDIR to POL (fvm_policy_add_layer), top
 * first. Returns 0 or -1.
 */
int layer_list_compile(const char *vmdir, struct fvm_policy *pol);

/*
 * Makes layer directory HOME/layers/ID (a fresh random id into ID) with its info
 * (LABEL, now) and no tree yet: the caller renames one in. Returns 0 or -1.
 */
int layer_create(const char *home, const char *label, char id[FVM_LAYER_ID_MAX + 1]);

/*
 * Freezes the upper/ of the VM at VMDIR into a new layer (LABEL; its id into ID) on top
 * of its list and leaves an empty upper/: no data copied (one rename exchange). The
 * caller holds the VM's lock, idle. Returns 0 or -1.
 */
int layer_snapshot(const char *vmdir, const char *label, char id[FVM_LAYER_ID_MAX + 1]);

/* How layer_merge places files: hard links (a read-only result) or copies. */
enum merge_mode { MERGE_LINK, MERGE_COPY };

/*
 * Merges TREES (N, top first; a missing one is empty) into the empty directory DST, so
 * that DST over the host shows what the stack showed (layer_merge.c). Returns 0 or -1.
 */
int layer_merge(char *const *trees, size_t n, const char *dst, enum merge_mode mode);

/*
 * The tree to scan for the merged view of the VM at VMDIR into OUT: its upper/ when it
 * has no layers (returns 0), else a merged copy made of hard links in the store
 * (returns 1; drop it with layer_view_drop). -1 on failure (reported).
 */
int layer_view(const char *vmdir, char *out, size_t len);
void layer_view_drop(const char *path);

/*
 * Merges the layers of the VM at VMDIR and its upper/ into a new upper/ (files copied)
 * and empties its layer list: what the VM sees is unchanged, and commit and reset then
 * act on everything. Frees the layers no VM uses any more. Returns 0 or -1.
 */
int layer_flatten(const char *vmdir);

/*
 * Merges the layers of the VM at VMDIR (not upper/) into one new layer (labelled after
 * the top one) that replaces them in its list. Returns 0 or -1.
 */
int layer_squash(const char *vmdir);

/*
 * The index (top first) in L of the layer labelled LABEL (the newest such), or -1.
 */
int layer_find_label(const char *home, const struct layer_list *l, const char *label);

/* Removes the layers of L that no VM's list names any more (reported, not fatal). */
void layer_free_unused(const char *home, const struct layer_list *l);

/* Reads the info of layer ID. Returns 0 or -1. */
int layer_info_read(const char *home, const char *id, struct layer_info *info);

/*
 * Records DIGEST ("sha256:HEX", the layer's OCI diff_id) in the info of layer ID when
 * it has none yet: a layer's digest is the one it got when first exported or imported.
 * Returns 0 (also when one was there) or -1.
 */
int layer_set_digest(const char *home, const char *id, const char *digest);

/*
 * The layer of store HOME whose digest is DIGEST into ID (an imported or exported
 * layer met again: shared, not stored twice). Returns 1 found, 0 none.
 */
int layer_find_digest(const char *home, const char *digest, char id[FVM_LAYER_ID_MAX + 1]);

/* True when some VM's list in store HOME names layer ID. */
bool layer_in_use(const char *home, const char *id);

/* Removes layer ID (its tree and info). Returns 0 or -1. */
int layer_remove(const char *home, const char *id);

/*
 * A pending switch of a VM's layers (layer_switch.c): ctl/NAME/switch says that the
 * layers FROM of its list (a subscription's version, top first; none at a first pull)
 * give way to TO (the new version, top first) as soon as no process of the VM runs. A
 * pull never changes a running VM under its processes: it records the switch, and the
 * last supervisor of the VM to end, or the next fvm or fvm-exec that finds the VM idle,
 * applies it. The file:
 *
 *     fvm-switch 1
 *     from ID          (one line per layer, top first)
 *     to ID
 *
 * Applied, the list keeps the layers above the first one of FROM or TO (the VM's own
 * snapshots) and puts TO below them; applying twice gives the same list, so a crash
 * between the list's rename and the switch's removal is harmless. The files TO's new
 * layers change that the VM's upper/ changed too are written, one a line, to
 * ctl/NAME/vmcast/conflicts when the VM has a subscription (vmcast/).
 *
 * The switch lock (flock on ctl/NAME) orders a pull that records a switch against a run
 * ending and a run starting: each checks for a switch and tries the VM's lock under it,
 * so that one of them always finds the VM idle and applies the switch, or a run still
 * holds the VM's lock and its own end will.
 */
struct layer_switch {
	struct layer_list from, to;
};

/* VMDIR's pending switch into SW. 1 pending, 0 none, -1 damaged (reported). */
int layer_switch_read(const char *vmdir, struct layer_switch *sw);

/* Takes VMDIR's switch lock (waits). The fd to close, or -1 (reported). */
int layer_switch_lock(const char *vmdir);

/* Records SW as VMDIR's pending switch (the caller holds the switch lock). 0 or -1. */
int layer_switch_write(const char *vmdir, const struct layer_switch *sw);

/*
 * Applies VMDIR's pending switch, if any: the caller holds the switch lock and the VM's
 * lock exclusively, and no process of the VM lives. Frees the layers the VM left that
 * no VM uses. Returns 1 applied, 0 none pending, -1 failed (reported; the switch stays).
 */
int layer_switch_apply(const char *vmdir);

/*
 * Under the switch lock (held by the caller): when VMDIR has a pending switch and is
 * idle now, applies it. The VM's lock is taken exclusively without waiting: RUNLOCK (a
 * run's shared lock, at the run's end) is converted and then closed whatever happens,
 * or with -1 a new one is opened and closed. Returns 1 applied, 0 not (none pending, or
 * the VM busy: the switch waits for its last process), -1 failed (reported).
 */
int layer_switch_try(const char *vmdir, int runlock);

#endif
