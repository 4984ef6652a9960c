/*
 * layout.h — a store and its VMs on disk, store format 3 (docs/DESIGN.md "On disk";
 * fvm(1) FILES). The one owner of the names and modes below.
 *
 *   $FVM_HOME/              0711  traversable by every uid of a VM, listable by none
 *     format                0644  "fvm-store 3\n": written by the tools, checked on every use
 *     layers/               0711  read-only layers, each stored once and shared by every VM
 *       ID/                 0711  one layer, named by its local id (made by fvm snapshot)
 *         tree/                   its files in OCI diff form (a former upper/: whiteouts,
 *                                 opaque markers); never written once made
 *         info              0644  "fvm-layer 1", then label, created, digest lines
 *     vms/                  0711
 *       NAME/               0711  DATA area: the only part of the store the kernel fence
 *                                 lets VM NAME write; FVM_ROOT names it; libfvm writes:
 *         upper/                  the layer: host path P lives at upper/P; the modes of
 *                                 the host's directories (upper/ itself has the root's)
 *         work/             1733  copy-up temporaries, made by any uid of the VM under
 *                                 unpredictable names (one planted is retried)
 *         origins state         0600  libfvm's log of copy-ups (it names changed paths) and
 *                                 its counters: the VM owner's alone
 *         ipc log                 libfvm's registry and log
 *         cu.PID            0666  a root run's copy-up broker socket (fvm/cubroker.h),
 *                                 while the run of fvm-exec PID lasts
 *     ctl/                  0700
 *       NAME/               0700  CONTROL area, written only by the tools, outside the
 *                                 fence: what steers them
 *         vm.conf policy commit.journal lock
 *         layers                  the VM's layer ids, top first, one a line (tools only;
 *                                 compiled into the policy image for libfvm)
 *         runs/                   the supervisor's records of the VM's processes
 *         history/                the supervisor's accounts of past runs, the last runs-kept
 *                                 (fvm-exec/store/history.h)
 *
 * Everything in the data area is untrusted input to the tools (fvm-exec/store/safefs.h):
 * a VM may plant links, FIFOs, huge files or forged lines there. The control area is
 * trusted but still read as bounded regular files.
 *
 * A store without a format file whose vms/ holds VMs is format 1 (vm.conf, policy, lock
 * and commit.journal inside vms/NAME, where the VM could write them): the tools refuse
 * it and `fvm migrate` converts it. A store of format 2 (no layers/) is refused too and
 * `fvm migrate` adds layers/. A store of a higher format is refused.
 *
 * Deletion follows the OCI image-layer conventions: an empty file ".wh.NAME" hides host
 * entry NAME; ".wh..wh..opq" in a directory hides the whole host directory beneath it.
 * Names a program may use never start with ".wh.".
 */
#ifndef FVM_LAYOUT_H
#define FVM_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#define FVM_FORMAT_FILE   "format"
#define FVM_FORMAT        3
#define FVM_FORMAT_MAGIC  "fvm-store"
#define FVM_VMS_DIR       "vms"
#define FVM_CTL_DIR       "ctl"
#define FVM_UPPER_DIR     "upper"
#define FVM_WORK_DIR      "work"
#define FVM_VMCONF_FILE   "vm.conf"
#define FVM_POLICY_FILE   "policy"
#define FVM_ORIGINS_FILE  "origins"
#define FVM_LOCK_FILE     "lock"
#define FVM_STATE_FILE    "state"
#define FVM_LOG_FILE      "log"
#define FVM_JOURNAL_FILE  "commit.journal"
#define FVM_RUNS_DIR      "runs"
#define FVM_LAYERS_DIR    "layers"   /* in the store: the layers; in ctl/NAME: the list */
#define FVM_LAYER_TREE    "tree"
#define FVM_LAYER_INFO    "info"
#define FVM_LAYERS_MAGIC  "fvm-layers 1"
#define FVM_LAYER_MAGIC   "fvm-layer 1"
#define FVM_MAX_LAYERS    32         /* per VM: a walk keeps one bit per layer */
#define FVM_LAYER_ID_MAX  32

/*
 * Modes. The path from $FVM_HOME to upper/ is 0711 so that a process of the VM that
 * changed uid can reach its layer (but list no store directory); upper/ below mirrors
 * the host's modes, so such a process writes in the VM where it could on the host.
 * work/ is 1733, like /tmp without listing: any uid of the VM creates its copy-up
 * temporary there (under an unpredictable name), none can remove or read another's;
 * one shared directory, not one per uid, because a copy-up's rename into upper/ must
 * stay on one filesystem and the VM's uids are not known in advance. The control
 * area stays the owner's alone.
 */
#define FVM_MODE_HOME     0711
#define FVM_MODE_DATA     0711
#define FVM_MODE_WORK     01733
#define FVM_MODE_CTL      0700
#define FVM_MODE_LAYERS   0711

#define FVM_WH_PREFIX     ".wh."
#define FVM_WH_PREFIX_LEN 4
#define FVM_WH_OPAQUE     ".wh..wh..opq"

#define FVM_NAME_MAX      64

/*
 * The identity a copied-up regular file keeps: an xattr on the upper copy holding the
 * host object's st_dev and st_ino (struct fvm_ident, vm.h). A user.* name, because
 * trusted.* needs CAP_SYS_ADMIN and a VM runs as any user; on an upper filesystem
 * without user xattrs there is no marker and the copy shows its own inode. The name
 * is fvm's: a VM never sees it, and commit never copies it to the host.
 */
#define FVM_ORIGIN_XATTR  "user.fvm.origin"

/* True when NAME is a valid VM name: [A-Za-z0-9][A-Za-z0-9._-]{0,63}. */
bool fvm_vm_name_valid(const char *name);

/* True when the file name NAME (one component) is reserved for whiteouts. */
bool fvm_is_wh_name(const char *name, size_t len);

/*
 * Writes "DIR/.wh.BASE" for the entry at PATH (whose last component is BASE) into
 * OUT (size OUTLEN). Returns 0, or -ENAMETOOLONG.
 */
int fvm_wh_path(const char *path, char *out, size_t outlen);

/* Writes "PATH/.wh..wh..opq" into OUT. Returns 0, or -ENAMETOOLONG. */
int fvm_opaque_path(const char *dirpath, char *out, size_t outlen);

/*
 * Default store: $FVM_HOME, else ${XDG_DATA_HOME:-$HOME/.local/share}/fvm.
 * Writes into OUT; returns 0, or -ENOENT when neither HOME nor XDG_DATA_HOME is set,
 * or -ENAMETOOLONG.
 */
int fvm_default_home(char *out, size_t outlen);

#endif
