/*
 * compare.h — what two VMs changed, compared with each other (fvm compare, fvm-exec
 * --repro).
 *
 * Each VM's changes come from the change scan (changes.h) of its tree (upper/, or the
 * merged view of its layers): a path either VM changed is looked at in both VMs' views
 * (a path one VM left alone shows the host's object there). A path is:
 *   only in A   A has an object there, B has none (B deleted it, or A added it)
 *   only in B   the reverse
 *   differs     both have one, and its type, content, mode, owner or link target
 *               differ (FVM_DIFF_* bits; times are not compared)
 *   identical   both have the same object, or neither has one
 * Entries are sorted by path; every object beneath the trees is reached without links
 * (safefs.h).
 */
#ifndef FVM_STORE_COMPARE_H
#define FVM_STORE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

enum vm_cmp_kind { CMP_SAME = '=', CMP_ONLY_A = '<', CMP_ONLY_B = '>', CMP_DIFFERS = 'M' };

struct vm_cmp_entry {
	char kind;           /* enum vm_cmp_kind */
	unsigned what;       /* FVM_DIFF_* for CMP_DIFFERS */
	char *vpath;
	struct stat a, b;    /* the objects in A and in B, where present */
	bool in_upper_a, in_upper_b; /* the object is the VM's (in its tree), not the host's */
};

struct vm_cmp {
	struct vm_cmp_entry *v;
	size_t n;
	size_t only_a, only_b, differ, same;
};

/*
 * Compares the VMs whose trees to scan are TREE_A and TREE_B (absolute: an upper/ or a
 * merged view, layers.h layer_view), restricted to the subtrees PATHS (NPATHS of them;
 * none: everything). Returns 0 or -errno.
 */
int vm_compare(const char *tree_a, const char *tree_b, char *const *paths, size_t npaths,
	       struct vm_cmp *out);
void vm_compare_free(struct vm_cmp *c);

/*
 * Opens ENTRY's regular file in VM A (SIDE 0, tree TREE) or B (SIDE 1) for reading:
 * beneath the tree without links when the VM has it, else the host's. Returns the fd
 * or -errno.
 */
int vm_compare_open(const struct vm_cmp_entry *e, int side, const char *tree);

/* ENTRY's link target in VM A (SIDE 0) or B, into BUF (not terminated); length or -1. */
ssize_t vm_compare_target(const struct vm_cmp_entry *e, int side, const char *tree, char *buf, size_t len);

/* True when the regular files at fds A and B hold the same bytes (both read from 0). */
bool vm_compare_same_content(int a, int b);

#endif
