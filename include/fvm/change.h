/*
 * change.h — the two decisions every change in a VM makes before it touches upper/
 * (core/change.c), each written once for open, link, attr and socket alike:
 *
 *  - fvm_prepare_write: may this process change this existing object, as the host
 *    would decide? Then make it the VM's own (copy-up).
 *  - fvm_prepare_new: may this process create this name here, as the host would
 *    decide? Then make its parent exist in upper/. The caller creates the object and
 *    records it with fvm_created() (fvm/vm.h).
 *
 * Rules both keep: a READONLY path is -EROFS whatever the process's rights; a SHARED
 * path is the host's own, where the kernel decides on the host path itself; HIDDEN
 * paths never get here (the resolver answers -ENOENT); permission follows the host's
 * object, never the upper copy, whose owner an unprivileged copy-up makes the caller.
 */
#ifndef FVM_CHANGE_H
#define FVM_CHANGE_H

#include <stdbool.h>

#include "fvm/vm.h"

/* What a change asks of the object's host permissions (fvm_prepare_write). */
enum fvm_may {
	FVM_MAY_WRITE,     /* write its data: write permission on a host file */
	FVM_MAY_WRITE_DIR, /* create in it (O_TMPFILE): write and search on a host directory */
	FVM_MAY_LINK,      /* hard-link it: the host's protected_hardlinks rule */
	FVM_MAY_OWN,       /* change mode, xattrs or explicit times: the owner (or root) */
	FVM_MAY_TOUCH,     /* set its times to now: the owner, or write permission */
	FVM_MAY_ANY,       /* nothing asked here (chown makes its own owner rules) */
};

/*
 * Checks that the calling process may change RES as MAY says, as the host would:
 * 0, -EACCES or -EPERM. Changes nothing.
 */
int fvm_may_write(const struct fvm_vm *vm, const struct fvm_res *res, enum fvm_may may);

/*
 * Makes existing RES ready to be changed in place: -ENOENT when absent, -EROFS for a
 * READONLY path, fvm_may_write(MAY), then a host object is copied up (DATA false:
 * its content is not copied, the caller is about to truncate it) and RES points at
 * the copy. A SHARED path is left to the kernel (0). Returns 0 or -errno.
 */
int fvm_prepare_write(const struct fvm_vm *vm, struct fvm_res *res, enum fvm_may may, bool data);

/*
 * Makes absent RES ready to be created: -EROFS for a READONLY path, the host's
 * permission to create in the parent (fvm_may_change_parent), then the parent made
 * in upper/ (fvm_prepare_create). A SHARED path is left to the kernel (0). Returns 0
 * or -errno; on success the caller creates RES->rpath, then calls fvm_created().
 */
int fvm_prepare_new(const struct fvm_vm *vm, struct fvm_res *res);

#endif
