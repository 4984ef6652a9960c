/*
 * changes.c — the changes of a VM: its upper layer compared with the host (changes.h).
 *
 * Walks upper/ depth-first. An upper entry with no host entry is A (a new directory's
 * children are A too); one with a host entry of the same type is M when content or
 * metadata differ, nothing when they do not; a whiteout is D for the host entry it
 * hides; an opaque directory reports D for each host child not also in upper/.
 * Each A and M carries what it would grant (fvm_change_privilege), judged against the
 * directory it is in: the host's where the host has it, else upper/'s.
 *
 * upper/ is the VM's, untrusted (safefs.h): it is walked through directory fds, each
 * opened O_NOFOLLOW beneath the last, and its files are opened O_NOFOLLOW | O_NONBLOCK
 * and checked by fstat, so a link or a FIFO the VM planted is compared as what it is,
 * never followed or waited on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/vm.h"
#include "store/changes.h"
#include "store/quote.h"
#include "store/safefs.h"

struct scan {
	char *const *paths;
	size_t npaths;
	struct fvm_changes *out;
};

/*
 * Records change KIND of VPATH; UP is upper's entry UNAME of directory UDFD (the VM's,
 * reached without links), PARENT the directory a new entry lands in.
 */
static int add(struct scan *s, char kind, unsigned what, const char *vpath, const struct stat *host,
	       const struct stat *up, const struct stat *parent, int udfd, const char *uname)
{
	struct fvm_changes *c = s->out;

	if (s->npaths) {
		size_t vl = strlen(vpath), i;
		for (i = 0; i < s->npaths; i++) {
			if (fvm_path_has_prefix(vpath, vl, s->paths[i], strlen(s->paths[i]))) {
				break;
			}
		}
		if (i == s->npaths) {
			return 0;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct fvm_change *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		c->v = v;
		c->cap = cap;
	}
	struct fvm_change *ch = &c->v[c->n];
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	ch->what = what;
	ch->vpath = strdup(vpath);
	if (!ch->vpath) {
		return -ENOMEM;
	}
	if (host) {
		ch->host = *host;
	}
	if (up) {
		ch->upper = *up;
		ch->priv = fvm_change_privilege(ch, udfd, uname, parent);
	}
	c->n++;
	return 0;
}

/* True when host file A and upper file UNAME of UDFD are regular files with the same bytes. */
static bool same_content(const char *a, int udfd, const char *uname, off_t size)
{
	char ba[65536], bb[65536];
	int fa = open(a, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int fb = openat(udfd, uname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	bool same = fa >= 0 && fb >= 0 && fstat(fb, &st) == 0 && S_ISREG(st.st_mode);

	while (same && size > 0) {
		ssize_t na = read(fa, ba, sizeof(ba)), nb = read(fb, bb, sizeof(bb));
		if (na <= 0 || na != nb || memcmp(ba, bb, (size_t)na) != 0) {
			same = false;
		}
		size -= na > 0 ? na : size;
	}
	if (fa >= 0) {
		close(fa);
	}
	if (fb >= 0) {
		close(fb);
	}
	return same;
}

/*
 * The xattr names of upper entry UNAME of UDFD, without following it (fvm's own hidden),
 * by "/proc/self/fd/UDFD/UNAME", written to FDPATH (64 + PATH_MAX bytes): the directory's
 * magic link is followed, the name is not, so no fd of the entry is needed. With
 * AT_FDCWD or an absolute UNAME, FDPATH is UNAME itself.
 */
static ssize_t upper_xattrs(int udfd, const char *uname, char *list, size_t len, char *fdpath)
{
	int n = udfd == AT_FDCWD || uname[0] == '/'
			? snprintf(fdpath, 64 + PATH_MAX, "%s", uname)
			: snprintf(fdpath, 64 + PATH_MAX, "/proc/self/fd/%d/%s", udfd, uname);

	if (n < 0 || n >= 64 + PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return fvm_xattr_list_hide(list, llistxattr(fdpath, list, len));
}

static bool same_xattrs(const char *a, int udfd, const char *uname)
{
	char la[4096], lb[4096], fdpath[64 + PATH_MAX];
	/* fvm's own names (the identity of a copy-up) are no change of the file's. */
	ssize_t na = fvm_xattr_list_hide(la, llistxattr(a, la, sizeof(la)));
	ssize_t nb = upper_xattrs(udfd, uname, lb, sizeof(lb), fdpath);
	bool same = true;

	if (na < 0 || nb < 0) {
		same = (na < 0) == (nb < 0);
	} else if (na != nb) {
		same = false;
	}
	for (ssize_t off = 0; same && nb >= 0 && off < na; off += (ssize_t)strlen(la + off) + 1) {
		char va[4096], vb[4096];
		ssize_t x = lgetxattr(a, la + off, va, sizeof(va)), y = lgetxattr(fdpath, la + off, vb, sizeof(vb));
		if (x != y || (x > 0 && memcmp(va, vb, (size_t)x) != 0)) {
			same = false;
		}
	}
	return same;
}

unsigned fvm_changes_compare(const char *hpath, const struct stat *hst, int udfd, const char *uname,
			     const struct stat *ust)
{
	unsigned what = 0;

	if ((hst->st_mode & S_IFMT) != (ust->st_mode & S_IFMT)) {
		return FVM_DIFF_TYPE;
	}
	if ((hst->st_mode & 07777) != (ust->st_mode & 07777)) {
		what |= FVM_DIFF_MODE;
	}
	if (hst->st_uid != ust->st_uid || hst->st_gid != ust->st_gid) {
		if (geteuid() == 0) {
			what |= FVM_DIFF_OWNER; /* an unprivileged copy-up cannot keep the owner */
		}
	}
	if (!S_ISDIR(hst->st_mode) && (hst->st_mtim.tv_sec != ust->st_mtim.tv_sec ||
				       hst->st_mtim.tv_nsec != ust->st_mtim.tv_nsec)) {
		what |= FVM_DIFF_TIMES;
	}
	if (S_ISREG(hst->st_mode) &&
	    (hst->st_size != ust->st_size || !same_content(hpath, udfd, uname, hst->st_size))) {
		what |= FVM_DIFF_CONTENT;
	}
	if (S_ISLNK(hst->st_mode)) {
		char ta[PATH_MAX], tb[PATH_MAX];
		ssize_t a = readlink(hpath, ta, sizeof(ta)), b = readlinkat(udfd, uname, tb, sizeof(tb));
		if (a != b || (a > 0 && memcmp(ta, tb, (size_t)a) != 0)) {
			what |= FVM_DIFF_TARGET;
		}
	}
	if (!same_xattrs(hpath, udfd, uname)) {
		what |= FVM_DIFF_XATTRS;
	}
	return what;
}

static int scan_dir(struct scan *s, const char *vdir, int udfd, bool host_visible, bool inherited_opaque);

/* Scans upper directory NAME of PFD (at VDIR), opened without following a link. */
static int scan_sub(struct scan *s, const char *vdir, int pfd, const char *name, bool host_visible,
		    bool inherited_opaque)
{
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret;

	if (fd < 0) {
		return errno == ENOENT ? 0 : -errno; /* a link in a directory's place: refused */
	}
	ret = scan_dir(s, vdir, fd, host_visible, inherited_opaque);
	close(fd);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of directory PATH, or of directory fd FD when PATH is NULL. */
static char **list_dir(const char *path, int fd, size_t *count)
{
	DIR *d = path ? opendir(path) : safe_dir_stream(fd);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0;

	*count = 0;
	if (!d) {
		return NULL;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
			continue;
		}
		char **nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv) {
			break;
		}
		v = nv;
		v[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (v) {
		v[n] = NULL;
		qsort(v, n, sizeof(*v), cmp_names);
	}
	*count = n;
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

static bool in_list(char **v, size_t n, const char *name)
{
	return v && bsearch(&name, v, n, sizeof(*v), cmp_names) != NULL;
}

/*
 * Scans upper directory VDIR. HOST_VISIBLE: a host directory of the same path exists
 * (so host entries are compared; whiteouts and opacity apply). INHERITED_OPAQUE: an
 * ancestor is opaque, so, as for the resolver, nothing of the host shows through here
 * either and every host entry without an upper one is deleted.
 */
static int scan_dir(struct scan *s, const char *vdir, int udfd, bool host_visible, bool inherited_opaque)
{
	size_t nu = 0, nh = 0;
	char **unames, **hnames = NULL;
	bool opaque = false;
	struct stat pst;
	const struct stat *parent;
	int ret = 0;

	unames = list_dir(NULL, udfd, &nu);
	if (nu == 0 && !inherited_opaque) {
		free_list(unames, nu);
		return 0; /* nothing of the VM here (an idle VM's upper/): no host entry to read */
	}
	/* Where a new entry lands: the host's directory, or the VM's own new one. */
	parent = (host_visible ? lstat(vdir, &pst) : fstat(udfd, &pst)) == 0 ? &pst : NULL;
	if (host_visible) {
		opaque = inherited_opaque || in_list(unames, nu, FVM_WH_OPAQUE);
		hnames = list_dir(vdir, -1, &nh);
	}
	/* Merge the two sorted lists by the visible name. */
	for (size_t i = 0; ret == 0 && i < nu; i++) {
		const char *name = unames[i];
		char vpath[PATH_MAX];
		struct stat ust, hst;
		bool wh = fvm_is_wh_name(name, strlen(name));

		if (strcmp(name, FVM_WH_OPAQUE) == 0) {
			continue;
		}
		if (wh) {
			const char *hidden = name + FVM_WH_PREFIX_LEN;
			/* A whiteout whose name was re-created is reported with that entry. */
			if (host_visible && !opaque && in_list(hnames, nh, hidden) && !in_list(unames, nu, hidden)) {
				snprintf(vpath, sizeof(vpath), "%s/%s", vdir[1] ? vdir : "", hidden);
				if (lstat(vpath, &hst) == 0) {
					ret = add(s, FVM_DELETED, 0, vpath, &hst, NULL, NULL, -1, NULL);
				}
			}
			continue;
		}
		snprintf(vpath, sizeof(vpath), "%s/%s", vdir[1] ? vdir : "", name);
		if (fstatat(udfd, name, &ust, AT_SYMLINK_NOFOLLOW) < 0) {
			continue;
		}
		bool host = host_visible && in_list(hnames, nh, name) && lstat(vpath, &hst) == 0;
		if (!host) {
			ret = add(s, FVM_ADDED, 0, vpath, NULL, &ust, parent, udfd, name);
			if (ret == 0 && S_ISDIR(ust.st_mode)) {
				ret = scan_sub(s, vpath, udfd, name, false, false);
			}
			continue;
		}
		unsigned what = fvm_changes_compare(vpath, &hst, udfd, name, &ust);
		if (what & FVM_DIFF_TYPE) {
			ret = add(s, FVM_DELETED, 0, vpath, &hst, NULL, NULL, -1, NULL);
			if (ret == 0) {
				ret = add(s, FVM_ADDED, 0, vpath, NULL, &ust, parent, udfd, name);
			}
			if (ret == 0 && S_ISDIR(ust.st_mode)) {
				ret = scan_sub(s, vpath, udfd, name, false, false);
			}
			continue;
		}
		if (what) {
			ret = add(s, FVM_MODIFIED, what, vpath, &hst, &ust, parent, udfd, name);
		}
		if (ret == 0 && S_ISDIR(ust.st_mode)) {
			ret = scan_sub(s, vpath, udfd, name, true, opaque);
		}
	}
	if (ret == 0 && opaque) {
		for (size_t i = 0; ret == 0 && i < nh; i++) {
			char vpath[PATH_MAX];
			struct stat hst;
			if (in_list(unames, nu, hnames[i])) {
				continue;
			}
			snprintf(vpath, sizeof(vpath), "%s/%s", vdir[1] ? vdir : "", hnames[i]);
			if (lstat(vpath, &hst) == 0) {
				ret = add(s, FVM_DELETED, 0, vpath, &hst, NULL, NULL, -1, NULL);
			}
		}
	}
	free_list(unames, nu);
	free_list(hnames, nh);
	return ret;
}

static int cmp_change(const void *a, const void *b)
{
	const struct fvm_change *x = a, *y = b;
	int c = strcmp(x->vpath, y->vpath);

	/* D before A for the same path (a replaced object). */
	return c ? c : (x->kind == FVM_DELETED ? -1 : y->kind == FVM_DELETED ? 1 : 0);
}

int fvm_changes_scan(const char *upper, char *const *paths, size_t npaths, struct fvm_changes *out)
{
	struct scan s = {.paths = paths, .npaths = npaths, .out = out};
	int ret, fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		return -errno;
	}
	ret = scan_dir(&s, "/", fd, true, false);
	close(fd);
	if (ret == 0 && out->n) {
		qsort(out->v, out->n, sizeof(*out->v), cmp_change);
	}
	return ret;
}

size_t fvm_changes_find(const struct fvm_changes *c, const char *vpath)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(c->v[mid].vpath, vpath) < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < c->n && strcmp(c->v[lo].vpath, vpath) == 0 ? lo : c->n;
}

void fvm_changes_free(struct fvm_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].vpath);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

unsigned fvm_change_privilege(const struct fvm_change *ch, int udfd, const char *uname,
			      const struct stat *parent)
{
	char upath[64 + NAME_MAX];
	const struct stat *u = &ch->upper, *h = &ch->host;
	unsigned priv = 0;

	if (ch->kind == FVM_DELETED) {
		return 0;
	}
	if ((u->st_mode & S_ISUID) && !S_ISDIR(u->st_mode) && !S_ISLNK(u->st_mode)) {
		priv |= FVM_PRIV_SETUID; /* Linux ignores it on a directory */
	}
	if ((u->st_mode & S_ISGID) && (S_ISREG(u->st_mode) || S_ISDIR(u->st_mode))) {
		priv |= FVM_PRIV_SETGID;
	}
	/* lgetxattr of the name in the directory fd: the last component is not followed. */
	if (S_ISREG(u->st_mode) && uname &&
	    snprintf(upath, sizeof(upath), "/proc/self/fd/%d/%s", udfd, uname) < (int)sizeof(upath) &&
	    lgetxattr(upath, "security.capability", NULL, 0) >= 0) {
		priv |= FVM_PRIV_CAPS;
	}
	if (S_ISCHR(u->st_mode) || S_ISBLK(u->st_mode)) {
		priv |= FVM_PRIV_DEVICE;
	}
	/* The owner the object had before: the host object's, or its directory's. */
	const struct stat *before = ch->kind == FVM_MODIFIED ? h : parent;
	if (before && ((u->st_uid == 0 && before->st_uid != 0) || (u->st_gid == 0 && before->st_gid != 0))) {
		priv |= FVM_PRIV_ROOT;
	}
	return priv;
}

void fvm_change_print_marks(FILE *out, unsigned priv)
{
	const char *sep = "[";

	for (const struct fvm_diff_name *n = fvm_priv_names; priv && n->name; n++) {
		if (priv & n->bit) {
			fprintf(out, "%s%s", sep, n->name);
			sep = ",";
		}
	}
	if (priv) {
		putc(']', out);
	}
}

void fvm_change_print_what(FILE *out, unsigned what, const struct stat *before, const struct stat *after)
{
	const char *sep = "";

	for (const struct fvm_diff_name *n = fvm_diff_names; n->name; n++) {
		if (!(what & n->bit)) {
			continue;
		}
		fprintf(out, "%s%s", sep, n->name);
		sep = ", ";
		if (n->bit == FVM_DIFF_MODE) {
			fprintf(out, " %04o->%04o", before->st_mode & 07777, after->st_mode & 07777);
		} else if (n->bit == FVM_DIFF_OWNER) {
			fprintf(out, " %u:%u->%u:%u", before->st_uid, before->st_gid, after->st_uid, after->st_gid);
		}
	}
}

void fvm_change_print(FILE *out, const struct fvm_change *ch)
{
	fprintf(out, "%c%s ", ch->kind, ch->priv ? "!" : "");
	fvm_quote_fputs(ch->vpath, out);
	if (ch->priv) {
		putc(' ', out);
		fvm_change_print_marks(out, ch->priv);
	}
}

const char *fvm_change_type_name(mode_t mode)
{
	static const struct {
		mode_t type;
		const char *name;
	} types[] = {
		{S_IFREG, "file"}, {S_IFDIR, "dir"}, {S_IFLNK, "symlink"}, {S_IFIFO, "fifo"},
		{S_IFSOCK, "socket"}, {S_IFCHR, "chardev"}, {S_IFBLK, "blockdev"},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if ((mode & S_IFMT) == types[i].type) {
			return types[i].name;
		}
	}
	return "unknown";
}

const struct fvm_diff_name fvm_diff_names[] = {
	{FVM_DIFF_CONTENT, "content"}, {FVM_DIFF_MODE, "mode"},     {FVM_DIFF_OWNER, "owner"},
	{FVM_DIFF_TIMES, "times"},     {FVM_DIFF_XATTRS, "xattrs"}, {FVM_DIFF_TARGET, "target"},
	{0, NULL},
};

const struct fvm_diff_name fvm_priv_names[] = {
	{FVM_PRIV_SETUID, "setuid"}, {FVM_PRIV_SETGID, "setgid"}, {FVM_PRIV_CAPS, "caps"},
	{FVM_PRIV_ROOT, "owner-root"}, {FVM_PRIV_DEVICE, "device"}, {0, NULL},
};
