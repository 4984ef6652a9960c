/*
 * store.h — the VM store as the tools see it ($FVM_HOME/vms/NAME), shared by fvm-exec
 * and fvm. libfvm never uses this: inside a VM the store is hidden.
 *
 * Functions report failures themselves (warn-style, naming the path) and return -1,
 * or 0 on success, unless they say otherwise.
 */
#ifndef FVM_STORE_STORE_H
#define FVM_STORE_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "fvm/policy.h"

/* Exit statuses shared by the tools. */
enum {
	FVM_EXIT_OK = 0,
	FVM_EXIT_PARTIAL = 1,  /* fvm: partial, conflict or refused */
	FVM_EXIT_USAGE = 2,    /* fvm: usage error */
	FVM_EXIT_TIMEOUT = 124,
	FVM_EXIT_FVM = 125,    /* fvm-exec: an fvm error (bad option, store) */
	FVM_EXIT_CANNOT = 126,
	FVM_EXIT_NOTFOUND = 127,
};

struct fvm_store {
	char home[PATH_MAX];  /* absolute */
};

/*
 * The store: OPT_HOME (--home) if given, else $FVM_HOME, else the XDG default. Made
 * absolute. Returns 0 or -1 (reported).
 */
int store_init(struct fvm_store *s, const char *opt_home);

/* $HOME/vms/NAME into OUT. Returns 0 or -1 (reported: bad name, too long). */
int store_vm_dir(const struct fvm_store *s, const char *name, char *out, size_t len);

/*
 * The control directory of the VM at VMDIR ($HOME/vms/NAME): $HOME/ctl/NAME, written
 * only by the tools, outside the fence (the records of live runs: runs.h). The one
 * place that decides where a VM's control files are. Returns 0 or -1 (reported).
 */
int store_vm_ctl_dir(const char *vmdir, char *out, size_t len);

/* True when VM NAME exists. */
bool store_vm_exists(const struct fvm_store *s, const char *name);

/*
 * Creates VM NAME (directories and an empty origins file) when it does not exist;
 * writes POL as its compiled policy and CONF (text, may be NULL) as its vm.conf, each
 * atomically. Returns 0 or -1.
 */
int store_vm_create(const struct fvm_store *s, const char *name, const struct fvm_policy *pol,
		    const char *conf);

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

/* Removes the tree at PATH (no symlink is followed). Returns 0 or -1 (reported). */
int store_rm_tree(const char *path);

/* The number of entries in the tree at PATH, PATH itself included (0: none). */
size_t store_count_tree(const char *path);

#endif
