/*
 * store.h — the VM store as the tools see it (format 2, fvm/layout.h): a VM is its data
 * area $FVM_HOME/vms/NAME ("VMDIR" below, what FVM_ROOT names) and its control area
 * $FVM_HOME/ctl/NAME. Shared by fvm-exec and fvm. libfvm never uses this: inside a VM
 * the store is hidden.
 *
 * Everything beneath VMDIR is untrusted (safefs.h): it is reached through directory
 * fds, never through a link.
 *
 * Functions report failures themselves (warn-style, naming the path) and return -1,
 * or 0 on success, unless they say otherwise.
 */
#ifndef FVM_STORE_STORE_H
#define FVM_STORE_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "fvm/exit.h"
#include "fvm/policy.h"

struct fvm_store {
	char home[PATH_MAX];  /* absolute */
};

/*
 * The store: OPT_HOME (--home) if given, else $FVM_HOME, else the XDG default. Made
 * absolute. Returns 0 or -1 (reported).
 */
int store_locate(struct fvm_store *s, const char *opt_home);

/*
 * Checks the store's format (fvm/layout.h): format 2, or no store yet, is 0; a format-1
 * store ("run fvm migrate") or another format is reported and gives -1.
 */
int store_check_format(const struct fvm_store *s);

/* store_locate, then store_check_format. Returns 0 or -1 (reported). */
int store_init(struct fvm_store *s, const char *opt_home);

/*
 * Converts a format-1 store to format 2 (fvm migrate): for each VM, its vm.conf and an
 * interrupted commit's journal move to the control area (the VM could have written
 * them: each vm.conf's settings are named on stderr), its old policy and lock go; then
 * the format file is written. Each VM is converted whole or not at all (its control
 * area appears by one rename). Returns 0, or -1 when a VM could not be converted
 * (reported; the store stays format 1 until every VM is).
 */
int store_migrate(const struct fvm_store *s);

/* $HOME/vms/NAME into OUT. Returns 0 or -1 (reported: bad name, too long). */
int store_vm_dir(const struct fvm_store *s, const char *name, char *out, size_t len);

/*
 * The control area of the VM at VMDIR ($FVM_HOME/ctl/NAME) into OUT. Returns 0 or -1
 * (reported: VMDIR is not STORE/vms/NAME, too long).
 */
int store_ctl_path(const char *vmdir, char *out, size_t len);

/*
 * Opens the control area of the VM at VMDIR (O_DIRECTORY, no link followed): where
 * vm.conf, policy, commit.journal, lock and runs/ live; made (0700, empty) when it is
 * missing. Returns the fd (close it) or -1 (reported).
 */
int store_ctl_open(const char *vmdir);

/* Opens the data area VMDIR itself, and its upper/, without links. fd or -1 (reported). */
int store_data_open(const char *vmdir);
int store_upper_open(const char *vmdir);

/* True when VM NAME exists. */
bool store_vm_exists(const struct fvm_store *s, const char *name);

/*
 * Replaces the vm.conf of the VM at VMDIR (its control area) with TEXT, atomically.
 * Returns 0 or -1 (reported).
 */
int store_vm_conf_write(const char *vmdir, const char *text);

/*
 * Creates VM NAME (directories and an empty origins file) when it does not exist;
 * writes POL as its compiled policy and CONF (text, may be NULL) as its vm.conf, each
 * atomically. Returns 0 or -1.
 */
int store_vm_create(const struct fvm_store *s, const char *name, const struct fvm_policy *pol,
		    const char *conf);

/*
 * Creates VM NAME, which must not exist, with a data area that FILL(VMFD, ARG) fills
 * (upper/, work/ and an empty origins file are there when it is called) before the area
 * appears under its name in one rename: a failed FILL (which reports and returns
 * -errno) leaves no VM. The control area is made empty (no vm.conf: a later run writes
 * the policy from the configuration). Returns 0 or -1 (reported).
 */
int store_vm_create_filled(const struct fvm_store *s, const char *name,
			   int (*fill)(int vmfd, void *arg), void *arg);

/*
 * Takes the VM's lock: shared (a run) or exclusive (commit, reset, rm); NONBLOCK fails
 * at once with -2 when it is held. Returns the lock fd (close to release) or -1/-2.
 * A shared lock (a run) also marks the VM as used now (the lock file's time).
 */
int store_vm_lock(const char *vmdir, bool exclusive, bool nonblock);

/* What a VM occupies, and when it was last used (fvm list, fvm info). */
struct store_usage {
	unsigned long long entries;  /* in upper/, whiteouts included */
	unsigned long long bytes;    /* apparent size of the regular files in upper/ */
	long long last_used;         /* seconds since the epoch: the last run or change */
};

/* The usage of the VM at VMDIR into U. Returns 0 or -1 (reported). */
int store_vm_usage(const char *vmdir, struct store_usage *u);

/* Absolute path of libfvm.so for this fvm-exec: next to the build, else installed. */
int store_find_libfvm(char *out, size_t len);

/* Calls FN for each VM name in the store, sorted. Returns 0 or -1. */
int store_each_vm(const struct fvm_store *s, int (*fn)(const char *name, void *arg), void *arg);

/* Removes the tree at PATH (no link is followed). Returns 0 or -1 (reported). */
int store_rm_tree(const char *path);

/*
 * Removes the VM at VMDIR: its data area (renamed aside first, so the VM is gone at
 * once), then its control area. Returns 0 or -1 (reported).
 */
int store_vm_remove(const char *vmdir);

/* The number of entries in the tree REL beneath DIRFD, REL itself included (0: none). */
size_t store_count_tree(int dirfd, const char *rel);

/* True when upper/ of the VM at VMDIR holds any entry (or cannot be read). */
bool store_upper_used(const char *vmdir);

#endif
