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

struct fvm_change {
	char kind;          /* enum fvm_change_kind */
	unsigned what;      /* FVM_DIFF_* for M */
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
 * What differs (FVM_DIFF_* bits; FVM_DIFF_TYPE alone when the types differ) between
 * host object HPATH (lstat HST) and upper entry UNAME of directory fd UDFD (lstat UST;
 * reached without following it). Directory times are not compared (adding a child
 * changes them); owners only when running as root (an unprivileged copy-up cannot keep
 * them). 0: the two are the same.
 */
unsigned fvm_changes_compare(const char *hpath, const struct stat *hst, int udfd, const char *uname,
			     const struct stat *ust);

/* "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev" for MODE's type. */
const char *fvm_change_type_name(mode_t mode);

/* The FVM_DIFF_* bits by name, in output order; ends with {0, NULL}. */
struct fvm_diff_name {
	unsigned bit;
	const char *name;
};
extern const struct fvm_diff_name fvm_diff_names[];

#endif
