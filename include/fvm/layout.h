/*
 * layout.h — a VM on disk, as ../shared/DESIGN.md ("A VM on disk") fixes it.
 *
 *   $FVM_HOME/vms/NAME/{vm.conf, policy, upper/, work/, origins, lock, state, log}
 *
 * Host path P lives at upper/P. Deletion follows the OCI image-layer conventions:
 * an empty file ".wh.NAME" hides host entry NAME; ".wh..wh..opq" in a directory hides
 * the whole host directory beneath it. Names a program may use never start with ".wh.".
 */
#ifndef FVM_LAYOUT_H
#define FVM_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#define FVM_VMS_DIR       "vms"
#define FVM_CTL_DIR       "ctl"  /* $FVM_HOME/ctl/NAME: the tools' control area of VM NAME */
#define FVM_UPPER_DIR     "upper"
#define FVM_WORK_DIR      "work"
#define FVM_VMCONF_FILE   "vm.conf"
#define FVM_POLICY_FILE   "policy"
#define FVM_ORIGINS_FILE  "origins"
#define FVM_LOCK_FILE     "lock"
#define FVM_STATE_FILE    "state"
#define FVM_LOG_FILE      "log"

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
