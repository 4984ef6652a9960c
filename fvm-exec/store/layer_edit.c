/*
 * layer_edit.c — view-preserving edits of the upper layer for commit and reset (layer_edit.h).
 *
 * Crash order: deopaque writes every whiteout and pushed-down marker before it removes
 * the marker it replaces; prune removes only entries that make no difference to the
 * view. So at every instant the VM sees the same tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include "store/store.h"

/* "UPPER" + VPATH ("/" maps to UPPER itself). */
static int upath_of(const char *upper, const char *vpath, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s", upper, vpath[1] ? vpath : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* VDIR "/" NAME, with VDIR "/" giving "/NAME". */
static int child_of(const char *vdir, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", vdir[1] ? vdir : "", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* True when the upper entry of VPATH (directory entry type TYPE) is a directory. */
static bool is_dir(const char *upper, const char *vpath, unsigned char type)
{
	char up[FVM_RPATH_MAX];
	struct stat st;

	if (type != DT_UNKNOWN) {
		return type == DT_DIR;
	}
	return upath_of(upper, vpath, up, sizeof(up)) == 0 && lstat(up, &st) == 0 && S_ISDIR(st.st_mode);
}

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		return -errno;
	}
	close(fd);
	return 0;
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
	const char *upper, *vdir, *udir;
	int ret;
};

/* For host entry NAME of an opaque directory: hide it explicitly, or push the marker down. */
static int hide_host_entry(const char *name, unsigned char type, void *arg)
{
	struct deopaque_ctx *c = arg;
	char vpath[PATH_MAX], up[FVM_RPATH_MAX], mark[FVM_RPATH_MAX + 16];
	struct stat ust, hst;

	(void)type;
	if (child_of(c->vdir, name, vpath, sizeof(vpath)) < 0 || upath_of(c->upper, vpath, up, sizeof(up)) < 0) {
		return -ENAMETOOLONG;
	}
	if (lstat(up, &ust) < 0) {
		if (fvm_wh_path(up, mark, sizeof(mark)) < 0) {
			return -ENAMETOOLONG;
		}
		return touch(mark);
	}
	/* An upper directory over a host directory must go on hiding the host's entries. */
	if (S_ISDIR(ust.st_mode) && lstat(vpath, &hst) == 0 && S_ISDIR(hst.st_mode)) {
		if (fvm_opaque_path(up, mark, sizeof(mark)) < 0) {
			return -ENAMETOOLONG;
		}
		return touch(mark);
	}
	return 0;
}

static int deopaque_dir(const char *upper, const char *vdir, char *const *paths, size_t npaths);

struct walk_ctx {
	const char *upper, *vdir;
	char *const *paths;
	size_t npaths;
};

static int deopaque_child(const char *name, unsigned char type, void *arg)
{
	struct walk_ctx *w = arg;
	char vpath[PATH_MAX];

	if (fvm_is_wh_name(name, strlen(name))) {
		return 0;
	}
	if (child_of(w->vdir, name, vpath, sizeof(vpath)) < 0) {
		return -ENAMETOOLONG;
	}
	if (!is_dir(w->upper, vpath, type)) {
		return 0;
	}
	return deopaque_dir(w->upper, vpath, w->paths, w->npaths);
}

static int deopaque_dir(const char *upper, const char *vdir, char *const *paths, size_t npaths)
{
	char udir[FVM_RPATH_MAX], mark[FVM_RPATH_MAX + 16];
	struct stat st;
	int ret;

	if (!relevant(vdir, paths, npaths)) {
		return 0;
	}
	if (upath_of(upper, vdir, udir, sizeof(udir)) < 0 || fvm_opaque_path(udir, mark, sizeof(mark)) < 0) {
		return -ENAMETOOLONG;
	}
	if (lstat(mark, &st) == 0) {
		struct stat hst;
		if (lstat(vdir, &hst) == 0 && S_ISDIR(hst.st_mode)) {
			struct deopaque_ctx c = {.upper = upper, .vdir = vdir, .udir = udir};
			ret = fvm_each_entry(vdir, hide_host_entry, &c);
			if (ret < 0) {
				return ret;
			}
		}
		if (unlink(mark) < 0) {
			return -errno;
		}
	}
	struct walk_ctx w = {.upper = upper, .vdir = vdir, .paths = paths, .npaths = npaths};
	return fvm_each_entry(udir, deopaque_child, &w);
}

int layer_deopaque(const char *upper, char *const *paths, size_t npaths)
{
	return deopaque_dir(upper, "/", paths, npaths);
}

static int prune_dir(const char *upper, const char *vdir);

struct prune_ctx {
	const char *upper, *vdir;
	int ret;
};

static int prune_entry(const char *name, unsigned char type, void *arg)
{
	struct prune_ctx *c = arg;
	char vpath[PATH_MAX], up[FVM_RPATH_MAX];
	struct stat hst, ust;
	size_t nl = strlen(name);

	if (strcmp(name, FVM_WH_OPAQUE) == 0) {
		return 0;
	}
	if (fvm_is_wh_name(name, nl)) {
		if (child_of(c->vdir, name + FVM_WH_PREFIX_LEN, vpath, sizeof(vpath)) < 0 ||
		    upath_of(c->upper, c->vdir, up, sizeof(up)) < 0) {
			return -ENAMETOOLONG;
		}
		if (lstat(vpath, &hst) < 0 && (errno == ENOENT || errno == ENOTDIR)) {
			char wh[FVM_RPATH_MAX + NAME_MAX + 8];
			snprintf(wh, sizeof(wh), "%s/%s", up, name);
			if (unlink(wh) < 0 && errno != ENOENT) {
				return -errno;
			}
		}
		return 0;
	}
	if (child_of(c->vdir, name, vpath, sizeof(vpath)) < 0 || upath_of(c->upper, vpath, up, sizeof(up)) < 0) {
		return -ENAMETOOLONG;
	}
	if (!is_dir(c->upper, vpath, type)) {
		return 0;
	}
	int ret = prune_dir(c->upper, vpath);
	if (ret < 0) {
		return ret;
	}
	if (lstat(up, &ust) == 0 && lstat(vpath, &hst) == 0 &&
	    fvm_changes_compare(vpath, &hst, up, &ust) == 0 && rmdir(up) < 0 &&
	    errno != ENOTEMPTY && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

static int prune_dir(const char *upper, const char *vdir)
{
	char udir[FVM_RPATH_MAX];
	struct prune_ctx c = {.upper = upper, .vdir = vdir};

	if (upath_of(upper, vdir, udir, sizeof(udir)) < 0) {
		return -ENAMETOOLONG;
	}
	return fvm_each_entry(udir, prune_entry, &c);
}

int layer_prune(const char *upper)
{
	return prune_dir(upper, "/");
}

static struct progress *discard_progress;

static int rm_counted(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT) {
		return errno;
	}
	progress_step(discard_progress);
	return 0;
}

/* Removes the tree at UP, one progress step per entry. */
static int remove_counted(const char *up, struct progress *p)
{
	discard_progress = p;
	int ret = nftw(up, rm_counted, 64, FTW_DEPTH | FTW_PHYS);
	return ret == 0 ? 0 : ret > 0 ? -ret : -errno;
}

struct discard_all {
	const char *upper;
	struct progress *p;
};

static int discard_child(const char *name, unsigned char type, void *arg)
{
	struct discard_all *d = arg;
	char up[FVM_RPATH_MAX];

	(void)type;
	if (snprintf(up, sizeof(up), "%s/%s", d->upper, name) >= (int)sizeof(up)) {
		return -ENAMETOOLONG;
	}
	return remove_counted(up, d->p);
}

int layer_discard(const char *upper, const char *vpath, struct progress *p)
{
	char up[FVM_RPATH_MAX], wh[FVM_RPATH_MAX + 8];
	struct stat st;
	int ret;

	if (vpath[1] == '\0') {
		/* The whole layer: every entry of upper/; upper/ itself stays. */
		struct discard_all d = {.upper = upper, .p = p};
		return fvm_each_entry(upper, discard_child, &d);
	}
	if (upath_of(upper, vpath, up, sizeof(up)) < 0 || fvm_wh_path(up, wh, sizeof(wh)) < 0) {
		return -ENAMETOOLONG;
	}
	if (lstat(up, &st) == 0 && (ret = remove_counted(up, p)) < 0) {
		return ret;
	}
	if (unlink(wh) == 0) {
		progress_step(p);
	} else if (errno != ENOENT && errno != ENOTDIR) {
		return -errno;
	}
	return 0;
}
