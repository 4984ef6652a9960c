/*
 * commit.c — fvm commit: the VM's changes onto the host (commit.h).
 *
 * Order of a commit, each step safe to interrupt:
 *  1. upper/ is normalised (opaque markers become whiteouts) without changing the view.
 *  2. The changes are scanned, selected (PATHs plus the new directories they need) and
 *     checked against the origins log; a conflict and everything beneath it is skipped.
 *  3. The journal (id, options, planned changes) is written, whole, before the first
 *     host change.
 *  4. The host is changed in path order: deletions first at a path, then each object
 *     renamed into place: upper/'s own file when it is on the same filesystem and has
 *     no other name there, else a copy built as "DIR/.fvm-commit.ID.N"; metadata-only
 *     changes in
 *     place; a directory's mode and times last (deepest first), so a read-only
 *     directory can still be filled.
 *  5. sync(), then each committed change leaves upper/ (children before parents); an
 *     entry that now equals the host is no change, so the VM's view stays the same.
 *  6. upper/ is pruned, the origins log compacted, the journal removed.
 * A crash anywhere leaves host and upper/ such that a rescan shows exactly the changes
 * not yet committed; running fvm commit again removes the temporaries named in the
 * journal and finishes the work with the journal's selection and options.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "store/changes.h"
#include "store/commit.h"
#include "fvm/layout.h"
#include "store/originlog.h"
#include "fvm/path.h"
#include "store/progress.h"
#include "store/layer_edit.h"
#include "fvm/vm.h"

#define JOURNAL_FILE  "commit.journal"
#define JOURNAL_MAGIC "fvm-commit-journal 1"
#define TMP_PREFIX    ".fvm-commit."

struct commit {
	const char *vmdir;
	char upper[PATH_MAX + 16];
	char id[24];
	struct fvm_changes ch;
	bool *sel;          /* selected and not in conflict */
	const char **why;   /* conflict reason, or NULL */
	bool *done;         /* host side applied */
	size_t nsel, nconf, nfail;
};

static void journal_path(const char *vmdir, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", vmdir, JOURNAL_FILE);
}

bool fvm_commit_interrupted(const char *vmdir)
{
	char j[PATH_MAX + 32];

	journal_path(vmdir, j, sizeof(j));
	return access(j, F_OK) == 0;
}

/* "DIR/.fvm-commit.ID.N" for the change at VPATH with index N. */
static int temp_name(const char *vpath, const char *id, size_t n, char *out, size_t len)
{
	size_t base = fvm_path_base_off(vpath, strlen(vpath));
	int w = snprintf(out, len, "%.*s%s%s.%zu", (int)base, vpath, TMP_PREFIX, id, n);

	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

/* ---- selection and conflicts ---------------------------------------------------- */

static bool under_any(const char *vpath, char *const *paths, size_t n)
{
	size_t vl = strlen(vpath);

	if (n == 0) {
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (fvm_path_has_prefix(vpath, vl, paths[i], strlen(paths[i]))) {
			return true;
		}
	}
	return false;
}

/* Index of the first change at VPATH, or C->n. */
static size_t find_first(const struct fvm_changes *c, const char *vpath)
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

/* Selects the changes beneath PATHS, and the added directories above them they need. */
static void select_changes(struct commit *c, const struct commit_opts *o)
{
	char anc[PATH_MAX];

	for (size_t i = 0; i < c->ch.n; i++) {
		c->sel[i] = under_any(c->ch.v[i].vpath, o->paths, o->npaths);
	}
	if (o->npaths == 0) {
		return;
	}
	for (size_t i = 0; i < c->ch.n; i++) {
		if (!c->sel[i] || !under_any(c->ch.v[i].vpath, o->paths, o->npaths)) {
			continue;
		}
		snprintf(anc, sizeof(anc), "%s", c->ch.v[i].vpath);
		for (size_t b = fvm_path_base_off(anc, strlen(anc)); b > 1; b = fvm_path_base_off(anc, strlen(anc))) {
			anc[b - 1] = '\0';
			size_t j = find_first(&c->ch, anc);
			bool added = false;
			for (size_t k = j; k < c->ch.n && strcmp(c->ch.v[k].vpath, anc) == 0; k++) {
				added |= c->ch.v[k].kind == FVM_ADDED;
			}
			for (size_t k = j; added && k < c->ch.n && strcmp(c->ch.v[k].vpath, anc) == 0; k++) {
				c->sel[k] = true;
			}
		}
	}
}

/* Why change I may not be committed (the host changed since copy-up), or NULL. */
static const char *conflict_of(const struct commit *c, const struct fvm_origins *orig, size_t i)
{
	const struct fvm_change *ch = &c->ch.v[i];
	const struct fvm_origin *r = fvm_origins_find(orig, ch->vpath);

	if (!r) {
		return NULL; /* never copied up: nothing recorded to compare with */
	}
	if (ch->kind == FVM_ADDED) {
		bool replaced = i > 0 && c->ch.v[i - 1].kind == FVM_DELETED &&
				strcmp(c->ch.v[i - 1].vpath, ch->vpath) == 0;
		return replaced ? NULL : "deleted on the host since the VM copied it up";
	}
	return fvm_origin_matches(r, &ch->host) ? NULL : "changed on the host since the VM copied it up";
}

static void find_conflicts(struct commit *c, const struct fvm_origins *orig, bool force)
{
	const char *last = NULL; /* the last conflicting path: its subtree follows in order */

	for (size_t i = 0; i < c->ch.n; i++) {
		const char *vp = c->ch.v[i].vpath;
		if (!c->sel[i]) {
			continue;
		}
		if (last && fvm_path_has_prefix(vp, strlen(vp), last, strlen(last))) {
			c->why[i] = strcmp(vp, last) == 0 ? c->why[i - 1] : "beneath a conflict";
		} else if (!force) {
			c->why[i] = conflict_of(c, orig, i);
		}
		if (c->why[i]) {
			last = vp;
			c->sel[i] = false;
			c->nconf++;
		} else {
			c->nsel++;
		}
	}
}

/* ---- the journal ----------------------------------------------------------------- */

static int write_journal(const struct commit *c, const struct commit_opts *o)
{
	char file[PATH_MAX + 32], tmp[PATH_MAX + 48], esc[2 * PATH_MAX + 2];
	FILE *f;

	journal_path(c->vmdir, file, sizeof(file));
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "we");
	if (!f) {
		return -errno;
	}
	fprintf(f, "%s\nid %s\nforce %d\n", JOURNAL_MAGIC, c->id, o->force ? 1 : 0);
	for (size_t i = 0; i < o->npaths; i++) {
		if (fvm_path_escape(o->paths[i], esc, sizeof(esc)) == 0) {
			fprintf(f, "path %s\n", esc);
		}
	}
	for (size_t i = 0; i < c->ch.n; i++) {
		if (c->sel[i] && fvm_path_escape(c->ch.v[i].vpath, esc, sizeof(esc)) == 0) {
			fprintf(f, "change %zu %c %s\n", i, c->ch.v[i].kind, esc);
		}
	}
	fprintf(f, "end\n");
	return fvm_file_replace(f, tmp, file);
}

struct journal {
	char id[24];
	bool force;
	char **paths;
	size_t npaths;
};

static void journal_free(struct journal *j)
{
	for (size_t i = 0; i < j->npaths; i++) {
		free(j->paths[i]);
	}
	free(j->paths);
	memset(j, 0, sizeof(*j));
}

/*
 * Reads the journal of an interrupted commit and removes the temporaries it may have
 * left in host directories. Returns 0, or -EINVAL for a damaged journal (reported).
 */
static int recover_journal(const char *vmdir, struct journal *j)
{
	char file[PATH_MAX + 32], tmp[PATH_MAX + 64];
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	bool ended = false;

	memset(j, 0, sizeof(*j));
	journal_path(vmdir, file, sizeof(file));
	f = fopen(file, "re");
	if (!f) {
		warn("%s", file);
		return -errno;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		size_t idx;
		char kind;
		int off = -1;
		lineno++;
		if (line[len - 1] == '\n') {
			line[len - 1] = '\0';
		}
		if (lineno == 1 ? strcmp(line, JOURNAL_MAGIC) == 0 : false) {
			continue;
		} else if (lineno == 1) {
			break;
		} else if (sscanf(line, "id %23s", j->id) == 1) {
			continue;
		} else if (strncmp(line, "force ", 6) == 0) {
			j->force = line[6] == '1';
		} else if (strncmp(line, "path /", 6) == 0) {
			char **v = realloc(j->paths, (j->npaths + 1) * sizeof(*v));
			if (!v || !(v[j->npaths] = fvm_path_unescape(line + 5))) {
				break;
			}
			j->paths = v;
			j->npaths++;
		} else if (sscanf(line, "change %zu %c %n", &idx, &kind, &off) == 2 && off > 0 &&
			   line[off] == '/') {
			char *vpath = fvm_path_unescape(line + off);
			if (vpath && j->id[0] && temp_name(vpath, j->id, idx, tmp, sizeof(tmp)) == 0) {
				unlink(tmp); /* a temporary the interrupted commit had not yet renamed */
			}
			free(vpath);
		} else if (strcmp(line, "end") == 0) {
			ended = true;
		} else {
			break;
		}
	}
	free(line);
	fclose(f);
	if (!ended || !j->id[0]) {
		warnx("%s:%zu: damaged commit journal; remove it after checking the host", file, lineno);
		journal_free(j);
		return -EINVAL;
	}
	return 0;
}

/* ---- applying one change --------------------------------------------------------- */

static int copy_bytes(int in, int out)
{
	char buf[65536];
	ssize_t n;

	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0) {
	}
	if (n == 0) {
		return 0;
	}
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0) {
				return -errno;
			}
			done += w;
		}
	}
	return n < 0 ? -errno : 0;
}

/*
 * Makes DST's xattrs those of SRC. Names outside user.* need privilege: not fatal.
 * fvm's own names on the upper copy (its origin) never reach the host.
 */
static int sync_xattrs(const char *src, const char *dst)
{
	char sl[8192], dl[8192], val[65536];
	ssize_t ns = fvm_xattr_list_hide(sl, llistxattr(src, sl, sizeof(sl)));
	ssize_t nd = fvm_xattr_list_hide(dl, llistxattr(dst, dl, sizeof(dl)));
	int ret = 0;

	for (ssize_t off = 0; nd > 0 && off < nd; off += (ssize_t)strlen(dl + off) + 1) {
		bool keep = false;
		for (ssize_t o2 = 0; ns > 0 && o2 < ns; o2 += (ssize_t)strlen(sl + o2) + 1) {
			keep |= strcmp(sl + o2, dl + off) == 0;
		}
		if (!keep && lremovexattr(dst, dl + off) < 0 && strncmp(dl + off, "user.", 5) == 0) {
			ret = -errno;
		}
	}
	for (ssize_t off = 0; ns > 0 && off < ns; off += (ssize_t)strlen(sl + off) + 1) {
		ssize_t vl = lgetxattr(src, sl + off, val, sizeof(val));
		if (vl >= 0 && lsetxattr(dst, sl + off, val, (size_t)vl, 0) < 0 &&
		    strncmp(sl + off, "user.", 5) == 0) {
			ret = -errno;
		}
	}
	return ret;
}

#define META_EARLY (FVM_DIFF_OWNER | FVM_DIFF_XATTRS)
#define META_LATE  (FVM_DIFF_MODE | FVM_DIFF_TIMES)

/* Gives PATH the WHAT parts of upper object UPATH's metadata (UST). 0 or -errno. */
static int apply_meta(const char *path, const char *upath, const struct stat *ust, unsigned what)
{
	struct stat cur;
	int ret;

	if (lstat(path, &cur) < 0) {
		return -errno;
	}
	if ((what & FVM_DIFF_OWNER) && (cur.st_uid != ust->st_uid || cur.st_gid != ust->st_gid) &&
	    lchown(path, ust->st_uid, ust->st_gid) < 0) {
		return -errno;
	}
	if ((what & FVM_DIFF_XATTRS) && (ret = sync_xattrs(upath, path)) < 0) {
		return ret;
	}
	/* After chown, which clears set-id bits. */
	if ((what & FVM_DIFF_MODE) && !S_ISLNK(ust->st_mode) && chmod(path, ust->st_mode & 07777) < 0) {
		return -errno;
	}
	struct timespec ts[2] = {ust->st_atim, ust->st_mtim};
	if ((what & FVM_DIFF_TIMES) && utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	return 0;
}

/* Builds upper object UPATH (UST) as TMP, beside its destination. 0 or -errno. */
static int build_temp(const char *upath, const struct stat *ust, const char *tmp)
{
	int ret = 0;

	switch (ust->st_mode & S_IFMT) {
	case S_IFREG: {
		int in = open(upath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (in < 0) {
			return -errno;
		}
		int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (out < 0) {
			ret = -errno;
			close(in);
			return ret;
		}
		ret = copy_bytes(in, out);
		close(in);
		if (close(out) < 0 && ret == 0) {
			ret = -errno;
		}
		break;
	}
	case S_IFLNK: {
		char target[PATH_MAX];
		ssize_t n = readlink(upath, target, sizeof(target) - 1);
		if (n < 0) {
			return -errno;
		}
		target[n] = '\0';
		ret = symlink(target, tmp) < 0 ? -errno : 0;
		break;
	}
	case S_IFDIR:
		return -EISDIR;
	default:
		ret = mknod(tmp, ust->st_mode & (S_IFMT | 0600), ust->st_rdev) < 0 ? -errno : 0;
		break;
	}
	if (ret == 0) {
		ret = apply_meta(tmp, upath, ust, META_EARLY | META_LATE);
	}
	return ret;
}

static int rm_host_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT) {
		return -errno;
	}
	return 0;
}

/*
 * A file or link of upper/ that is on the destination's filesystem and has no other
 * name in upper/ is itself renamed into place: the same atomic rename as a built
 * copy's, without writing it again. Its identity mark (FVM_ORIGIN_XATTR) stays
 * behind. Returns 0, or -errno to build a copy instead (another filesystem, say).
 */
static int move_from_upper(const char *upath, const struct stat *ust, const char *vpath)
{
	char parent[PATH_MAX];
	struct stat pst;
	size_t b = fvm_path_base_off(vpath, strlen(vpath));

	if (S_ISDIR(ust->st_mode) || (S_ISREG(ust->st_mode) && ust->st_nlink != 1)) {
		return -EXDEV; /* another upper name would share the host's inode */
	}
	snprintf(parent, sizeof(parent), "%.*s", b > 1 ? (int)b - 1 : 1, vpath);
	if (stat(parent, &pst) < 0 || pst.st_dev != ust->st_dev) {
		return -EXDEV;
	}
	if (S_ISREG(ust->st_mode) && lremovexattr(upath, FVM_ORIGIN_XATTR) < 0 &&
	    errno != ENODATA && errno != ENOTSUP) {
		return -errno;
	}
	return rename(upath, vpath) < 0 ? -errno : 0;
}

static int apply_one(struct commit *c, size_t i)
{
	const struct fvm_change *ch = &c->ch.v[i];
	char upath[FVM_RPATH_MAX], tmp[PATH_MAX + 64];
	int ret;

	snprintf(upath, sizeof(upath), "%s%s", c->upper, ch->vpath);
	if (ch->kind == FVM_DELETED) {
		struct stat st;
		if (lstat(ch->vpath, &st) < 0) {
			return errno == ENOENT ? 0 : -errno;
		}
		ret = nftw(ch->vpath, rm_host_entry, 64, FTW_DEPTH | FTW_PHYS);
		return ret == 0 ? 0 : ret > 0 ? -ret : -errno;
	}
	if (S_ISDIR(ch->upper.st_mode)) {
		if (ch->kind == FVM_ADDED && mkdir(ch->vpath, 0700) < 0 && errno != EEXIST) {
			return -errno;
		}
		/* Mode and times come last (finish_dirs): the directory must stay writable. */
		return apply_meta(ch->vpath, upath, &ch->upper,
				  ch->kind == FVM_ADDED ? META_EARLY : ch->what & META_EARLY);
	}
	if (ch->kind == FVM_MODIFIED && !(ch->what & (FVM_DIFF_CONTENT | FVM_DIFF_TARGET))) {
		return apply_meta(ch->vpath, upath, &ch->upper, ch->what); /* in place: same inode */
	}
	if (move_from_upper(upath, &ch->upper, ch->vpath) == 0) {
		return 0;
	}
	if ((ret = temp_name(ch->vpath, c->id, i, tmp, sizeof(tmp))) < 0) {
		return ret;
	}
	unlink(tmp);
	ret = build_temp(upath, &ch->upper, tmp);
	if (ret == 0 && rename(tmp, ch->vpath) < 0) {
		ret = -errno;
	}
	if (ret < 0) {
		unlink(tmp);
	}
	return ret;
}

/* Each committed directory's mode and times, deepest first. */
static void finish_dirs(struct commit *c)
{
	char upath[FVM_RPATH_MAX];

	for (size_t i = c->ch.n; i-- > 0;) {
		const struct fvm_change *ch = &c->ch.v[i];
		if (!c->done[i] || ch->kind == FVM_DELETED || !S_ISDIR(ch->upper.st_mode)) {
			continue;
		}
		snprintf(upath, sizeof(upath), "%s%s", c->upper, ch->vpath);
		int ret = apply_meta(ch->vpath, upath, &ch->upper, META_LATE);
		if (ret < 0) {
			warnx("%s: %s", ch->vpath, strerror(-ret));
			c->done[i] = false;
			c->nfail++;
		}
	}
}

/* Committed change I leaves upper/ (it now equals the host). */
static void drop_from_upper(struct commit *c, size_t i)
{
	const struct fvm_change *ch = &c->ch.v[i];
	char upath[FVM_RPATH_MAX], wh[FVM_RPATH_MAX + 8];

	snprintf(upath, sizeof(upath), "%s%s", c->upper, ch->vpath);
	if (ch->kind == FVM_DELETED) {
		if (fvm_wh_path(upath, wh, sizeof(wh)) == 0) {
			unlink(wh);
		}
	} else if (S_ISDIR(ch->upper.st_mode)) {
		rmdir(upath); /* still holding uncommitted changes: it stays */
	} else {
		unlink(upath);
	}
}

/*
 * Flushes the filesystems the commit wrote to (syncfs on each, once), not the whole
 * machine's as sync() would.
 */
static void sync_host(const struct commit *c)
{
	enum { MAX_FS = 16 };
	dev_t devs[MAX_FS];
	size_t n = 0;
	char parent[PATH_MAX];

	for (size_t i = 0; i < c->ch.n; i++) {
		const char *vp = c->ch.v[i].vpath;
		struct stat st;
		if (!c->done[i]) {
			continue;
		}
		size_t b = fvm_path_base_off(vp, strlen(vp));
		snprintf(parent, sizeof(parent), "%.*s", b > 1 ? (int)b - 1 : 1, vp);
		if (stat(parent, &st) < 0) {
			continue;
		}
		bool seen = false;
		for (size_t k = 0; k < n; k++) {
			seen |= devs[k] == st.st_dev;
		}
		if (seen) {
			continue;
		}
		int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || n == MAX_FS) {
			if (fd >= 0) {
				close(fd);
			}
			sync(); /* too many filesystems to tell apart: flush them all */
			return;
		}
		syncfs(fd);
		close(fd);
		devs[n++] = st.st_dev;
	}
}

/* ---- the whole commit ------------------------------------------------------------ */

static void commit_free(struct commit *c)
{
	fvm_changes_free(&c->ch);
	free(c->sel);
	free(c->why);
	free(c->done);
}

static void report_conflicts(const struct commit *c)
{
	for (size_t i = 0; i < c->ch.n; i++) {
		if (c->why[i]) {
			fprintf(stderr, "fvm: conflict: %c %s: %s (skipped; --force overwrites)\n",
				c->ch.v[i].kind, c->ch.v[i].vpath, c->why[i]);
		}
	}
}

static int commit_run(const char *vmdir, const struct commit_opts *o)
{
	struct commit c = {.vmdir = vmdir};
	struct fvm_origins orig;
	struct progress prog;
	char file[PATH_MAX + 16];
	int ret;

	snprintf(c.upper, sizeof(c.upper), "%s/%s", vmdir, FVM_UPPER_DIR);
	snprintf(c.id, sizeof(c.id), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	if (!o->dry_run && (ret = fvm_upper_deopaque(c.upper, o->paths, o->npaths)) < 0) {
		warnx("%s: %s", c.upper, strerror(-ret));
		return 1;
	}
	if ((ret = fvm_changes_scan(c.upper, NULL, 0, &c.ch)) < 0) {
		warnx("%s: %s", c.upper, strerror(-ret));
		return 1;
	}
	snprintf(file, sizeof(file), "%s/%s", vmdir, FVM_ORIGINS_FILE);
	if ((ret = fvm_origins_load(file, &orig)) < 0) {
		warnx("%s: %s", file, strerror(-ret));
		fvm_changes_free(&c.ch);
		return 1;
	}
	c.sel = calloc(c.ch.n + 1, sizeof(*c.sel));
	c.why = calloc(c.ch.n + 1, sizeof(*c.why));
	c.done = calloc(c.ch.n + 1, sizeof(*c.done));
	if (!c.sel || !c.why || !c.done) {
		err(1, "out of memory");
	}
	select_changes(&c, o);
	find_conflicts(&c, &orig, o->force);
	fvm_origins_free(&orig);
	report_conflicts(&c);
	if (o->dry_run) {
		for (size_t i = 0; i < c.ch.n; i++) {
			if (c.sel[i]) {
				printf("%c %s\n", c.ch.v[i].kind, c.ch.v[i].vpath);
			}
		}
		printf("would commit %zu change%s, %zu conflict%s\n", c.nsel, c.nsel == 1 ? "" : "s",
		       c.nconf, c.nconf == 1 ? "" : "s");
		commit_free(&c);
		return c.nconf ? 1 : 0;
	}
	if (c.nsel && (ret = write_journal(&c, o)) < 0) {
		warnx("%s/%s: %s", vmdir, JOURNAL_FILE, strerror(-ret));
		commit_free(&c);
		return 1;
	}
	progress_start(&prog, "commit", c.nsel);
	for (size_t i = 0; i < c.ch.n; i++) {
		if (!c.sel[i]) {
			continue;
		}
		ret = apply_one(&c, i);
		if (ret < 0) {
			fprintf(stderr, "fvm: %c %s: %s\n", c.ch.v[i].kind, c.ch.v[i].vpath, strerror(-ret));
			c.nfail++;
		} else {
			c.done[i] = true;
		}
		progress_step(&prog);
	}
	finish_dirs(&c);
	progress_end(&prog);
	/* The host copies are durable before the VM's copies go. */
	sync_host(&c);
	for (size_t i = c.ch.n; i-- > 0;) {
		if (c.done[i]) {
			drop_from_upper(&c, i);
		}
	}
	if ((ret = fvm_upper_prune(c.upper)) < 0 || (ret = fvm_upper_compact_origins(vmdir)) < 0) {
		warnx("%s: tidying up: %s", vmdir, strerror(-ret));
	}
	journal_path(vmdir, file, sizeof(file));
	unlink(file);
	printf("committed %zu change%s", c.nsel - c.nfail, c.nsel - c.nfail == 1 ? "" : "s");
	if (c.nfail) {
		printf(", %zu failed", c.nfail);
	}
	if (c.nconf) {
		printf(", %zu conflict%s skipped", c.nconf, c.nconf == 1 ? "" : "s");
	}
	printf("\n");
	ret = c.nconf || c.nfail ? 1 : 0;
	commit_free(&c);
	return ret;
}

int fvm_commit(const char *vmdir, const struct commit_opts *o)
{
	int rc = 0;

	if (!o->dry_run && fvm_commit_interrupted(vmdir)) {
		struct journal j;
		if (recover_journal(vmdir, &j) < 0) {
			return 1;
		}
		fprintf(stderr, "fvm: finishing an interrupted commit\n");
		struct commit_opts jo = {.force = j.force, .paths = j.paths, .npaths = j.npaths};
		rc = commit_run(vmdir, &jo);
		journal_free(&j);
		if (o->npaths == 0) {
			return rc;
		}
	} else if (o->dry_run && fvm_commit_interrupted(vmdir)) {
		fprintf(stderr, "fvm: an interrupted commit is pending; fvm commit finishes it\n");
	}
	int rc2 = commit_run(vmdir, o);
	return rc > rc2 ? rc : rc2;
}
