/*
 * changes.h — what a VM changed, computed from its upper layer against the host.
 *
 * The tools' view of a VM: fvm diff prints it, fvm commit and reset act on it. A change
 * is reported once per path, sorted by path: A (added), M (modified), D (deleted; one
 * line for a deleted directory). A host directory replaced by a file, or the reverse,
 * is D then A.
 */
#ifndef FVM_STORE_CHANGES_H
#define FVM_STORE_CHANGES_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

enum fvm_change_kind { FVM_ADDED = 'A', FVM_MODIFIED = 'M', FVM_DELETED = 'D' };

/* What differs in a modified object (bits). */
enum {
	FVM_DIFF_CONTENT = 1 << 0,
	FVM_DIFF_MODE = 1 << 1,
	FVM_DIFF_OWNER = 1 << 2,
	FVM_DIFF_TIMES = 1 << 3,
	FVM_DIFF_XATTRS = 1 << 4,
	FVM_DIFF_TARGET = 1 << 5,
	FVM_DIFF_TYPE = 1 << 6,
};

/*
 * What an added or modified object would grant once on the host (bits; fvm(1),
 * PRIVILEGED CHANGES). A set-id bit or file capabilities count whether added or kept;
 * an owner counts when it becomes root (uid or gid 0) where the host object had
 * another, or, for a new object, where the directory it lands in has another.
 */
enum {
	FVM_PRIV_SETUID = 1 << 0,  /* S_ISUID on a non-directory */
	FVM_PRIV_SETGID = 1 << 1,  /* S_ISGID on a file or directory */
	FVM_PRIV_CAPS = 1 << 2,    /* a security.capability xattr */
	FVM_PRIV_ROOT = 1 << 3,    /* owner becomes root */
	FVM_PRIV_DEVICE = 1 << 4,  /* a character or block device node */
};

struct fvm_change {
	char kind;          /* enum fvm_change_kind */
	unsigned what;      /* FVM_DIFF_* for M */
	unsigned priv;      /* FVM_PRIV_* for A and M */
	char *vpath;
	struct stat host;   /* valid for M and D */
	struct stat upper;  /* valid for A and M */
};

struct fvm_changes {
	struct fvm_change *v;
	size_t n, cap;
};

/*
 * Computes the changes of the VM whose upper layer is UPPER (absolute; a link there is
 * -ELOOP), restricted to the subtrees PATHS (NPATHS of them; none: everything).
 * Returns 0 or -errno.
 */
int fvm_changes_scan(const char *upper, char *const *paths, size_t npaths, struct fvm_changes *out);
void fvm_changes_free(struct fvm_changes *c);

/*
 * The index of the first change of C at VPATH (C sorted by path, as the scan leaves
 * it: a replaced object's D before its A), or C->n when C has none there.
 */
size_t fvm_changes_find(const struct fvm_changes *c, const char *vpath);

/*
 * What differs (FVM_DIFF_* bits; FVM_DIFF_TYPE alone when the types differ) between
 * host object HPATH (lstat HST) and upper entry UNAME of directory fd UDFD (lstat UST;
 * reached without following it). Directory times are not compared (adding a child
 * changes them); owners only when running as root (an unprivileged copy-up cannot keep
 * them). 0: the two are the same.
 */
unsigned fvm_changes_compare(const char *hpath, const struct stat *hst, int udfd, const char *uname,
			     const struct stat *ust);

/*
 * The FVM_PRIV_* bits of change CH (kind, host and upper stat filled), whose upper
 * object is entry UNAME of directory UDFD (reached without links; UNAME NULL: not
 * looked at for file capabilities); PARENT: the directory an added object lands in
 * (NULL: unknown, so a new object's owner is not judged).
 */
unsigned fvm_change_privilege(const struct fvm_change *ch, int udfd, const char *uname,
			      const struct stat *parent);

/*
 * Writes change CH as the tools show it, without a newline: "K PATH", or "K! PATH
 * [MARK,...]" when it grants privilege; PATH quoted (store/quote.h).
 */
void fvm_change_print(FILE *out, const struct fvm_change *ch);

/* "[MARK,...]" for the FVM_PRIV_* bits PRIV, or nothing when PRIV is 0. */
void fvm_change_print_marks(FILE *out, unsigned priv);

/*
 * The aspects WHAT (FVM_DIFF_* bits, TYPE aside) as fvm diff --stat and fvm compare show
 * them, comma separated in fvm_diff_names' order, mode and owner with their values in
 * BEFORE and AFTER: "content, mode 0644->0600, owner 0:0->1000:1000".
 */
void fvm_change_print_what(FILE *out, unsigned what, const struct stat *before, const struct stat *after);

/* "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev" for MODE's type. */
const char *fvm_change_type_name(mode_t mode);

/* The FVM_DIFF_* bits by name, in output order; ends with {0, NULL}. */
struct fvm_diff_name {
	unsigned bit;
	const char *name;
};
extern const struct fvm_diff_name fvm_diff_names[];

/* The FVM_PRIV_* bits by name, in output order; ends with {0, NULL}. */
extern const struct fvm_diff_name fvm_priv_names[];

#endif
