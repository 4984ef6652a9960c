/*
 * layer_edit.c — view-preserving edits of the upper layer for commit and reset (layer_edit.h).
 *
 * Crash order: deopaque writes every whiteout and pushed-down marker before it removes
 * the marker it replaces; prune removes only entries that make no difference to the
 * view. So at every instant the VM sees the same tree.
 *
 * upper/ is the VM's, untrusted (safefs.h): every edit is made relative to a directory
 * fd opened O_NOFOLLOW beneath upper/ (itself opened O_NOFOLLOW), so a link the VM put
 * where a directory was is an entry to remove or skip, never a way onto the host.
 * Host paths (VDIR, VPATH) are the host's own and read as they are.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/vm.h"
#include "store/changes.h"
#include "store/layer_edit.h"
#include "store/progress.h"
#include "store/safefs.h"

/* VDIR "/" NAME, with VDIR "/" giving "/NAME". */
static int child_of(const char *vdir, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", vdir[1] ? vdir : "", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Opens upper/ itself without following a link. fd or -errno. */
static int open_upper(const char *upper)
{
	int fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Opens subdirectory NAME of DFD, never through a link. fd or -errno. */
static int open_sub(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Calls FN(name, type, ARG) for each entry of directory DFD but "." and "..". */
static int each_entry(int dfd, int (*fn)(const char *name, unsigned char type, void *arg), void *arg)
{
	DIR *d = safe_dir_stream(dfd);
	struct dirent *e;
	int ret = 0;

	if (!d) {
		return -errno;
	}
	while (ret == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			ret = fn(e->d_name, e->d_type, arg);
		}
	}
	closedir(d);
	return ret;
}

/* True when entry NAME of DFD (directory entry type TYPE) is a directory, not a link. */
static bool is_dir(int dfd, const char *name, unsigned char type)
{
	struct stat st;

	if (type != DT_UNKNOWN) {
		return type == DT_DIR;
	}
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Creates the empty file NAME in DFD (a whiteout or a marker); one already there stays. */
static int touch(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);

	if (fd < 0) {
		return -errno;
	}
	close(fd);
	return 0;
}

/* ".wh.NAME" into OUT. */
static int wh_name(const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s", FVM_WH_PREFIX, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool relevant(const char *vdir, char *const *paths, size_t npaths)
{
	size_t vl = strlen(vdir);

	if (npaths == 0 || vl == 1) {
		return true;
	}
	for (size_t i = 0; i < npaths; i++) {
		size_t pl = strlen(paths[i]);
		if (fvm_path_has_prefix(vdir, vl, paths[i], pl) || fvm_path_has_prefix(paths[i], pl, vdir, vl)) {
			return true;
		}
	}
	return false;
}

struct deopaque_ctx {
	const char *vdir;
	int udfd;        /* the upper directory of VDIR */
	char *const *paths;
	size_t npaths;
};

/* For host entry NAME of an opaque directory: hide it explicitly, or push the marker down. */
static int hide_host_entry(const char *name, unsigned char type, void *arg)
{
	struct deopaque_ctx *c = arg;
	char vpath[PATH_MAX], wh[NAME_MAX + 8];
	struct stat ust, hst;

	(void)type;
	if (child_of(c->vdir, name, vpath, sizeof(vpath)) < 0) {
		return -ENAMETOOLONG;
	}
	if (fstatat(c->udfd, name, &ust, AT_SYMLINK_NOFOLLOW) < 0) {
		return wh_name(name, wh, sizeof(wh)) < 0 ? -ENAMETOOLONG : touch(c->udfd, wh);
	}
	/* An upper directory over a host directory must go on hiding the host's entries. */
	if (S_ISDIR(ust.st_mode) && lstat(vpath, &hst) == 0 && S_ISDIR(hst.st_mode)) {
		int fd = open_sub(c->udfd, name), ret;
		if (fd < 0) {
			return fd;
		}
		ret = touch(fd, FVM_WH_OPAQUE);
		close(fd);
		return ret;
	}
	return 0;
}

static int deopaque_dir(int udfd, const char *vdir, char *const *paths, size_t npaths);

static int deopaque_child(const char *name, unsigned char type, void *arg)
{
	struct deopaque_ctx *c = arg;
	char vpath[PATH_MAX];
	int fd, ret;

	if (fvm_is_wh_name(name, strlen(name)) || !is_dir(c->udfd, name, type)) {
		return 0;
	}
	if (child_of(c->vdir, name, vpath, sizeof(vpath)) < 0) {
		return -ENAMETOOLONG;
	}
	if (!relevant(vpath, c->paths, c->npaths)) {
		return 0;
	}
	if ((fd = open_sub(c->udfd, name)) < 0) {
		return fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR ? 0 : fd;
	}
	ret = deopaque_dir(fd, vpath, c->paths, c->npaths);
	close(fd);
	return ret;
}

static int deopaque_dir(int udfd, const char *vdir, char *const *paths, size_t npaths)
{
	struct deopaque_ctx c = {.vdir = vdir, .udfd = udfd, .paths = paths, .npaths = npaths};
	struct stat st;
	int ret;

	if (fstatat(udfd, FVM_WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		struct stat hst;
		if (lstat(vdir, &hst) == 0 && S_ISDIR(hst.st_mode) &&
		    (ret = fvm_each_entry(vdir, hide_host_entry, &c)) < 0) {
			return ret;
		}
		if (unlinkat(udfd, FVM_WH_OPAQUE, 0) < 0) {
			return -errno;
		}
	}
	return each_entry(udfd, deopaque_child, &c);
}

int layer_deopaque(const char *upper, char *const *paths, size_t npaths)
{
	int fd = open_upper(upper), ret;

	if (fd < 0) {
		return fd;
	}
	ret = deopaque_dir(fd, "/", paths, npaths);
	close(fd);
	return ret;
}

static int prune_dir(int udfd, const char *vdir);

struct prune_ctx {
	const char *vdir;
	int udfd;
};

static int prune_entry(const char *name, unsigned char type, void *arg)
{
	struct prune_ctx *c = arg;
	char vpath[PATH_MAX];
	struct stat hst, ust;
	size_t nl = strlen(name);

	if (strcmp(name, FVM_WH_OPAQUE) == 0) {
		return 0;
	}
	if (fvm_is_wh_name(name, nl)) {
		if (child_of(c->vdir, name + FVM_WH_PREFIX_LEN, vpath, sizeof(vpath)) < 0) {
			return -ENAMETOOLONG;
		}
		if (lstat(vpath, &hst) < 0 && (errno == ENOENT || errno == ENOTDIR) &&
		    unlinkat(c->udfd, name, 0) < 0 && errno != ENOENT) {
			return -errno;
		}
		return 0;
	}
	if (child_of(c->vdir, name, vpath, sizeof(vpath)) < 0) {
		return -ENAMETOOLONG;
	}
	if (!is_dir(c->udfd, name, type)) {
		return 0;
	}
	int fd = open_sub(c->udfd, name), ret;
	if (fd < 0) {
		return fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR ? 0 : fd;
	}
	ret = prune_dir(fd, vpath);
	close(fd);
	if (ret < 0) {
		return ret;
	}
	if (fstatat(c->udfd, name, &ust, AT_SYMLINK_NOFOLLOW) == 0 && lstat(vpath, &hst) == 0 &&
	    fvm_changes_compare(vpath, &hst, c->udfd, name, &ust) == 0 &&
	    unlinkat(c->udfd, name, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

static int prune_dir(int udfd, const char *vdir)
{
	struct prune_ctx c = {.vdir = vdir, .udfd = udfd};

	return each_entry(udfd, prune_entry, &c);
}

int layer_prune(const char *upper)
{
	int fd = open_upper(upper), ret;

	if (fd < 0) {
		return fd;
	}
	ret = prune_dir(fd, "/");
	close(fd);
	return ret;
}

static void step(void *p)
{
	progress_step(p);
}

struct discard_all {
	int upperfd;
	struct progress *p;
};

static int discard_child(const char *name, unsigned char type, void *arg)
{
	struct discard_all *d = arg;

	(void)type;
	return safe_rm_tree(d->upperfd, name, step, d->p);
}

int layer_discard(const char *upper, const char *vpath, struct progress *p)
{
	char wh[NAME_MAX + 8];
	const char *base;
	int ufd = open_upper(upper), pfd, ret;

	if (ufd < 0) {
		return ufd;
	}
	if (vpath[1] == '\0') {
		/* The whole layer: every entry of upper/; upper/ itself stays. */
		struct discard_all d = {.upperfd = ufd, .p = p};
		ret = each_entry(ufd, discard_child, &d);
		close(ufd);
		return ret;
	}
	/*
	 * The directory holding VPATH's entry, reached without links: when the VM made an
	 * ancestor a link (or a file), nothing of the layer lies at VPATH, and nothing
	 * behind the link is touched.
	 */
	pfd = safe_open_parent(ufd, vpath, &base);
	close(ufd);
	if (pfd < 0) {
		return pfd == -ENOENT || pfd == -ENOTDIR || pfd == -ELOOP ? 0 : pfd;
	}
	if ((ret = wh_name(base, wh, sizeof(wh))) == 0 && (ret = safe_rm_tree(pfd, base, step, p)) == 0) {
		if (unlinkat(pfd, wh, 0) == 0) {
			progress_step(p);
		} else if (errno != ENOENT) {
			ret = -errno;
		}
	}
	close(pfd);
	return ret;
}
