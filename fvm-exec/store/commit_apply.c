/*
 * commit_apply.c — one change of a commit onto the host (commit_steps.h), and the
 * steps after: directories' mode and times, the flush, the upper entries dropped.
 *
 * Invariants: every object reaches its host path by one rename (of upper/'s own file,
 * or of a copy built beside the destination as "DIR/.fvm-commit.ID.N"), so the host
 * path holds the old object or the new one, never a part; metadata-only changes are
 * made in place, to the same inode; a directory's mode and times come last, deepest
 * first, so a read-only directory can still be filled. Copying goes through the
 * core's fvm_copy_data and fvm_copy_xattrs (fvm/copy.h).
 *
 * upper/ is the VM's, untrusted (safefs.h): a change's upper entry is reached as
 * "/proc/self/fd/P/NAME", P its directory opened beneath upper/ without links, so the
 * one component looked up by name is the entry itself, which is never followed (lstat,
 * readlink, l*xattr, O_NOFOLLOW | O_NONBLOCK opens checked by fstat). upper's own file
 * is renamed into place only when it is still the object the scan saw, a regular file
 * with one name (or a link), reached without links.
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
#include <unistd.h>

#include "fvm/copy.h"
#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/vm.h"
#include "store/commit_steps.h"
#include "store/quote.h"
#include "store/safefs.h"

int commit_temp_name(const char *vpath, const char *id, size_t n, char *out, size_t len)
{
	size_t base = fvm_path_base_off(vpath, strlen(vpath));
	int w = snprintf(out, len, "%.*s%s%s.%zu", (int)base, vpath, COMMIT_TMP_PREFIX, id, n);

	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

/*
 * Makes DST's xattrs those of SRC: the names DST has and SRC has not go, then SRC's are
 * copied. Names outside user.* need privilege: not fatal. fvm's own names on the upper
 * copy (its origin) never reach the host.
 */
static int sync_xattrs(const char *src, const char *dst)
{
	char dl[8192];
	ssize_t nd = fvm_xattr_list_hide(dl, llistxattr(dst, dl, sizeof(dl)));
	int ret = 0;

	for (ssize_t off = 0; nd > 0 && off < nd; off += (ssize_t)strlen(dl + off) + 1) {
		/* Size 0 asks only whether SRC has the name. */
		bool absent = lgetxattr(src, dl + off, NULL, 0) < 0 &&
			      (errno == ENODATA || errno == ENOTSUP);
		if (absent && lremovexattr(dst, dl + off) < 0 && strncmp(dl + off, "user.", 5) == 0) {
			ret = -errno;
		}
	}
	int r = fvm_copy_xattrs(-1, src, -1, dst);
	return ret < 0 ? ret : r;
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
	struct stat st;
	int ret = 0;

	switch (ust->st_mode & S_IFMT) {
	case S_IFREG: {
		int in = open(upath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (in < 0) {
			return -errno;
		}
		if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(in);
			return -EFTYPE_SAFE; /* no longer what the scan saw */
		}
		int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (out < 0) {
			ret = -errno;
			close(in);
			return ret;
		}
		ret = fvm_copy_data(in, out, ust->st_size);
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
 * behind. It must still be what the scan saw (UST): the same inode, a regular file
 * or a link, entry NAME of directory PFD. Returns 0, or -errno to build a copy instead
 * (another filesystem, say).
 */
static int move_from_upper(int pfd, const char *name, const char *upath, const struct stat *ust,
			   const char *vpath)
{
	char parent[PATH_MAX];
	struct stat pst, now;
	size_t b = fvm_path_base_off(vpath, strlen(vpath));

	if (!(S_ISREG(ust->st_mode) || S_ISLNK(ust->st_mode)) || (S_ISREG(ust->st_mode) && ust->st_nlink != 1)) {
		return -EXDEV; /* another upper name would share the host's inode */
	}
	if (fstatat(pfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != ust->st_ino ||
	    now.st_dev != ust->st_dev || (now.st_mode & S_IFMT) != (ust->st_mode & S_IFMT) ||
	    (S_ISREG(now.st_mode) && now.st_nlink != 1)) {
		return -EXDEV;
	}
	snprintf(parent, sizeof(parent), "%.*s", b > 1 ? (int)b - 1 : 1, vpath);
	if (stat(parent, &pst) < 0 || pst.st_dev != ust->st_dev) {
		return -EXDEV;
	}
	if (S_ISREG(ust->st_mode) && lremovexattr(upath, FVM_ORIGIN_XATTR) < 0 &&
	    errno != ENODATA && errno != ENOTSUP) {
		return -errno;
	}
	return renameat(pfd, name, AT_FDCWD, vpath) < 0 ? -errno : 0;
}

/*
 * The directory of VPATH's upper entry beneath C's upper/, opened without links (C's
 * to keep: never closed by the caller), and "/proc/self/fd/P/NAME" in UPATH. Returns
 * the directory fd or -errno.
 */
static int upper_entry(struct commit *c, const char *vpath, char *upath, size_t len,
		       const char **name)
{
	int pfd = safe_parent_cached(&c->pc, c->upperfd, vpath, name);

	if (pfd >= 0) {
		safe_fd_path(pfd, upath);
		size_t l = strlen(upath);
		if (snprintf(upath + l, len - l, "/%s", *name) >= (int)(len - l)) {
			return -ENAMETOOLONG;
		}
	}
	return pfd;
}

static int apply_change(struct commit *c, size_t i, int pfd, const char *name, const char *upath)
{
	const struct fvm_change *ch = &c->ch.v[i];
	char tmp[PATH_MAX + 64];
	int ret;

	if (S_ISDIR(ch->upper.st_mode)) {
		if (ch->kind == FVM_ADDED && mkdir(ch->vpath, 0700) < 0 && errno != EEXIST) {
			return -errno;
		}
		/* Mode and times come last (commit_finish_dirs): the directory must stay writable. */
		return apply_meta(ch->vpath, upath, &ch->upper,
				  ch->kind == FVM_ADDED ? META_EARLY : ch->what & META_EARLY);
	}
	if (ch->kind == FVM_MODIFIED && !(ch->what & (FVM_DIFF_CONTENT | FVM_DIFF_TARGET))) {
		return apply_meta(ch->vpath, upath, &ch->upper, ch->what); /* in place: same inode */
	}
	if (move_from_upper(pfd, name, upath, &ch->upper, ch->vpath) == 0) {
		return 0;
	}
	if ((ret = commit_temp_name(ch->vpath, c->id, i, tmp, sizeof(tmp))) < 0) {
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

int commit_apply_one(struct commit *c, size_t i)
{
	const struct fvm_change *ch = &c->ch.v[i];
	char upath[64 + NAME_MAX];
	const char *name;
	int ret, pfd;

	if (ch->kind == FVM_DELETED) {
		struct stat st;
		if (lstat(ch->vpath, &st) < 0) {
			return errno == ENOENT ? 0 : -errno;
		}
		ret = nftw(ch->vpath, rm_host_entry, 64, FTW_DEPTH | FTW_PHYS);
		return ret == 0 ? 0 : ret > 0 ? -ret : -errno;
	}
	if ((pfd = upper_entry(c, ch->vpath, upath, sizeof(upath), &name)) < 0) {
		return pfd;
	}
	return apply_change(c, i, pfd, name, upath);
}

void commit_finish_dirs(struct commit *c)
{
	char upath[64 + NAME_MAX];
	const char *name;

	for (size_t i = c->ch.n; i-- > 0;) {
		const struct fvm_change *ch = &c->ch.v[i];
		if (!c->done[i] || ch->kind == FVM_DELETED || !S_ISDIR(ch->upper.st_mode)) {
			continue;
		}
		int pfd = upper_entry(c, ch->vpath, upath, sizeof(upath), &name), ret = pfd;
		if (pfd >= 0) {
			ret = apply_meta(ch->vpath, upath, &ch->upper, META_LATE);
		}
		if (ret < 0) {
			char *q = fvm_quote_dup(ch->vpath); /* the VM named it */
			warnx("%s: %s", q ? q : "?", safe_strerror(ret));
			free(q);
			c->done[i] = false;
			c->nfail++;
		}
	}
}

void commit_drop_from_upper(struct commit *c, size_t i)
{
	const struct fvm_change *ch = &c->ch.v[i];
	char wh[NAME_MAX + 8];
	const char *name;
	int pfd = safe_parent_cached(&c->pc, c->upperfd, ch->vpath, &name);

	if (pfd < 0) {
		return; /* nothing of the layer is there any more */
	}
	if (ch->kind == FVM_DELETED) {
		if (snprintf(wh, sizeof(wh), "%s%s", FVM_WH_PREFIX, name) < (int)sizeof(wh)) {
			unlinkat(pfd, wh, 0);
		}
	} else if (S_ISDIR(ch->upper.st_mode)) {
		unlinkat(pfd, name, AT_REMOVEDIR); /* still holding uncommitted changes: it stays */
	} else {
		unlinkat(pfd, name, 0);
	}
}

/* syncfs on each filesystem written to, once: not the whole machine's, as sync(). */
void commit_sync_host(const struct commit *c)
{
	enum { MAX_FS = 16 };
	dev_t devs[MAX_FS];
	size_t n = 0;
	char parent[PATH_MAX], last[PATH_MAX] = "";

	for (size_t i = 0; i < c->ch.n; i++) {
		const char *vp = c->ch.v[i].vpath;
		struct stat st;
		if (!c->done[i]) {
			continue;
		}
		size_t b = fvm_path_base_off(vp, strlen(vp));
		snprintf(parent, sizeof(parent), "%.*s", b > 1 ? (int)b - 1 : 1, vp);
		if (strcmp(parent, last) == 0) {
			continue; /* changes come in path order: its filesystem was just seen */
		}
		memcpy(last, parent, strlen(parent) + 1);
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
