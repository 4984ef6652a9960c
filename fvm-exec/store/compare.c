/*
 * compare.c — two VMs' changes compared with each other (compare.h).
 *
 * Rules:
 *  - The paths looked at are those either VM's change scan lists; each is looked up in
 *    both views: the VM's own object (its tree, reached beneath the tree's fd without
 *    links, safefs.h), or absent (the VM deleted it or a directory above it), or the
 *    host's object (the VM left it alone).
 *  - What counts: type, permission bits, owner, a regular file's bytes, a link's
 *    target. Times are not compared (a rebuild writes new ones); xattrs are not either.
 *  - A VM's file is only ever read: opened O_NONBLOCK and checked to be regular, so a
 *    FIFO it planted cannot stall the comparison.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/changes.h"
#include "store/compare.h"
#include "store/safefs.h"

/* One VM's view of a path. */
struct side {
	bool present, upper;
	struct stat st;
};

/* The change of C for VPATH, or NULL; the replacement (A after D) wins. */
static const struct fvm_change *find_change(const struct fvm_changes *c, const char *vpath)
{
	const struct fvm_change *found = NULL;

	for (size_t i = fvm_changes_find(c, vpath); i < c->n && strcmp(c->v[i].vpath, vpath) == 0; i++) {
		found = &c->v[i];
	}
	return found;
}

/* True when C has a D line for VPATH (deleted, or replaced when an A line follows). */
static bool deleted(const struct fvm_changes *c, const char *vpath)
{
	for (size_t i = fvm_changes_find(c, vpath); i < c->n && strcmp(c->v[i].vpath, vpath) == 0; i++) {
		if (c->v[i].kind == FVM_DELETED) {
			return true;
		}
	}
	return false;
}

/*
 * True when the host's objects beneath VPATH's parents are hidden in C's view: the
 * nearest ancestor C changed was deleted (one D line covers the subtree) or replaced
 * (an opaque directory: D, then A).
 */
static bool host_hidden_above(const struct fvm_changes *c, const char *vpath)
{
	char p[PATH_MAX];
	char *slash;

	snprintf(p, sizeof(p), "%s", vpath);
	while ((slash = strrchr(p, '/')) && slash != p) {
		*slash = '\0';
		if (find_change(c, p)) {
			return deleted(c, p);
		}
	}
	return false;
}

static void look(int treefd, const struct fvm_changes *c, const char *vpath, struct side *s)
{
	const struct fvm_change *ch = find_change(c, vpath);
	const char *base;
	int pfd;

	memset(s, 0, sizeof(*s));
	if (ch) {
		if (ch->kind != FVM_DELETED) {
			s->present = s->upper = true;
			s->st = ch->upper;
		}
		return;
	}
	/* Not in the scan: the VM's own copy (equal to the host's), or the host's object
	 * unless the VM hid it. */
	if ((pfd = safe_open_parent(treefd, vpath, &base)) >= 0) {
		if (fstatat(pfd, base, &s->st, AT_SYMLINK_NOFOLLOW) == 0) {
			s->present = s->upper = true;
		}
		close(pfd);
		if (s->present) {
			return;
		}
	}
	if (!host_hidden_above(c, vpath)) {
		s->present = lstat(vpath, &s->st) == 0;
	}
}

int vm_compare_open(const struct vm_cmp_entry *e, int side, const char *tree)
{
	bool upper = side ? e->in_upper_b : e->in_upper_a;
	struct stat st;
	int fd;

	if (upper) {
		int tfd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (tfd < 0) {
			return -errno;
		}
		fd = safe_openat(tfd, e->vpath + 1, O_RDONLY | O_NONBLOCK, 0);
		close(tfd);
	} else {
		fd = open(e->vpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		fd = fd < 0 ? -errno : fd;
	}
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

bool vm_compare_same_content(int a, int b)
{
	char x[65536], y[65536];

	for (off_t off = 0;;) {
		ssize_t na = pread(a, x, sizeof(x), off), nb;
		if (na < 0) {
			return false;
		}
		for (nb = 0; nb < na;) {
			ssize_t r = pread(b, y + nb, (size_t)(na - nb), off + nb);
			if (r <= 0) {
				break;
			}
			nb += r;
		}
		if (nb != na || memcmp(x, y, (size_t)na) != 0) {
			return false;
		}
		if (na == 0) {
			return pread(b, y, 1, off) == 0;
		}
		off += na;
	}
}

/* A link's target, in one VM's view of E (UPPER: its tree's, at TREEFD); the length, or -1. */
static ssize_t target(const struct vm_cmp_entry *e, bool upper, int treefd, char *buf, size_t len)
{
	const char *base;
	ssize_t n;
	int pfd;

	if (!upper) {
		return readlink(e->vpath, buf, len);
	}
	if ((pfd = safe_open_parent(treefd, e->vpath, &base)) < 0) {
		return -1;
	}
	n = readlinkat(pfd, base, buf, len);
	close(pfd);
	return n;
}

ssize_t vm_compare_target(const struct vm_cmp_entry *e, int side, const char *tree, char *buf, size_t len)
{
	int tfd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (tfd < 0) {
		return -1;
	}
	n = target(e, side ? e->in_upper_b : e->in_upper_a, tfd, buf, len);
	close(tfd);
	return n;
}

static unsigned differ(struct vm_cmp_entry *e, const char *const tree[2], const int treefd[2])
{
	const struct stat *a = &e->a, *b = &e->b;
	unsigned what = 0;

	if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT)) {
		return FVM_DIFF_TYPE;
	}
	if ((a->st_mode & 07777) != (b->st_mode & 07777) && !S_ISLNK(a->st_mode)) {
		what |= FVM_DIFF_MODE;
	}
	if (a->st_uid != b->st_uid || a->st_gid != b->st_gid) {
		what |= FVM_DIFF_OWNER;
	}
	if (S_ISREG(a->st_mode)) {
		int fa = vm_compare_open(e, 0, tree[0]), fb = a->st_size == b->st_size ? vm_compare_open(e, 1, tree[1]) : -1;
		if (a->st_size != b->st_size || fa < 0 || fb < 0 || !vm_compare_same_content(fa, fb)) {
			what |= FVM_DIFF_CONTENT;
		}
		if (fa >= 0) {
			close(fa);
		}
		if (fb >= 0) {
			close(fb);
		}
	}
	if (S_ISLNK(a->st_mode)) {
		char ta[PATH_MAX], tb[PATH_MAX];
		ssize_t na = target(e, e->in_upper_a, treefd[0], ta, sizeof(ta));
		ssize_t nb = target(e, e->in_upper_b, treefd[1], tb, sizeof(tb));
		if (na != nb || (na > 0 && memcmp(ta, tb, (size_t)na) != 0)) {
			what |= FVM_DIFF_TARGET;
		}
	}
	return what;
}

static int add_path(struct vm_cmp *out, size_t *cap, const char *vpath, const struct side s[2],
		    const char *const tree[2], const int treefd[2])
{
	struct vm_cmp_entry *e;

	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct vm_cmp_entry *nv = realloc(out->v, ncap * sizeof(*nv));
		if (!nv) {
			return -ENOMEM;
		}
		out->v = nv;
		*cap = ncap;
	}
	e = &out->v[out->n];
	memset(e, 0, sizeof(*e));
	if (!(e->vpath = strdup(vpath))) {
		return -ENOMEM;
	}
	out->n++;
	e->a = s[0].st;
	e->b = s[1].st;
	e->in_upper_a = s[0].upper;
	e->in_upper_b = s[1].upper;
	if (s[0].present && !s[1].present) {
		e->kind = CMP_ONLY_A;
		out->only_a++;
	} else if (!s[0].present && s[1].present) {
		e->kind = CMP_ONLY_B;
		out->only_b++;
	} else if (s[0].present && (e->what = differ(e, tree, treefd))) {
		e->kind = CMP_DIFFERS;
		out->differ++;
	} else {
		e->kind = CMP_SAME;
		out->same++;
	}
	return 0;
}

int vm_compare(const char *tree_a, const char *tree_b, char *const *paths, size_t npaths,
	       struct vm_cmp *out)
{
	struct fvm_changes c[2];
	const char *tree[2] = {tree_a, tree_b};
	int treefd[2] = {-1, -1}, ret;
	size_t i = 0, j = 0, cap = 0;

	memset(out, 0, sizeof(*out));
	memset(c, 0, sizeof(c));
	for (int k = 0; k < 2; k++) {
		if ((ret = fvm_changes_scan(tree[k], paths, npaths, &c[k])) < 0) {
			goto out;
		}
		treefd[k] = open(tree[k], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (treefd[k] < 0) {
			ret = -errno;
			goto out;
		}
	}
	/* The union of both sorted lists, each path once. */
	ret = 0;
	while (ret == 0 && (i < c[0].n || j < c[1].n)) {
		const char *p;
		if (j >= c[1].n || (i < c[0].n && strcmp(c[0].v[i].vpath, c[1].v[j].vpath) <= 0)) {
			p = c[0].v[i].vpath;
		} else {
			p = c[1].v[j].vpath;
		}
		struct side s[2];
		look(treefd[0], &c[0], p, &s[0]);
		look(treefd[1], &c[1], p, &s[1]);
		ret = add_path(out, &cap, p, s, tree, treefd);
		while (i < c[0].n && strcmp(c[0].v[i].vpath, p) == 0) {
			i++;
		}
		while (j < c[1].n && strcmp(c[1].v[j].vpath, p) == 0) {
			j++;
		}
	}
out:
	for (int k = 0; k < 2; k++) {
		fvm_changes_free(&c[k]);
		if (treefd[k] >= 0) {
			close(treefd[k]);
		}
	}
	if (ret < 0) {
		vm_compare_free(out);
	}
	return ret;
}

void vm_compare_free(struct vm_cmp *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].vpath);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}
