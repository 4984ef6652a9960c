/*
 * layer_merge.c — several layers merged into one tree (layers.h): what fvm squash
 * makes a layer of, what fvm commit makes the VM's upper/ of, and the view fvm diff
 * and info scan for a VM with layers.
 *
 * Rules:
 *  - The trees are applied bottom-up onto an empty directory, each as an upper layer
 *    over what is there: a whiteout ".wh.X" removes X and stays (it hides the host's
 *    X); ".wh..wh..opq" empties the directory and stays; a directory merges, and one
 *    made where a whiteout was becomes opaque (as libfvm's fvm_created does); any
 *    other object replaces what was there and drops a whiteout of its name. The result
 *    is a layer whose lookup over the host gives what the stack gave.
 *  - MERGE_LINK hard-links files: the result shares inodes with the layers, so it is
 *    for read-only results only (a layer, a view). MERGE_COPY copies regular files
 *    (a reflink where the filesystem has them) and symlinks, so the result can be an
 *    upper/ that the VM writes in place.
 *  - Everything is reached through directory fds, no link followed (a tree may be a
 *    former upper/ a VM wrote); the caller holds the VM's lock, so no process of the VM
 *    changes a tree meanwhile.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "store/layers.h"
#include "store/safefs.h"

/* Copies the xattrs of SRC to DST (fds; O_PATH-free). Errors are ignored: best effort. */
static void copy_xattrs(int src, int dst)
{
	char list[4096], val[4096];
	ssize_t n = flistxattr(src, list, sizeof(list));

	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
		ssize_t v = fgetxattr(src, list + off, val, sizeof(val));
		if (v >= 0) {
			fsetxattr(dst, list + off, val, (size_t)v, 0);
		}
	}
}

/* Puts mode, owner (where permitted) and times of ST on FD. */
static void copy_meta(int fd, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if (fchown(fd, st->st_uid, st->st_gid) < 0) {
		/* not root: the tool's own ids stay */
	}
	fchmod(fd, st->st_mode & 07777);
	futimens(fd, ts);
}

/* Makes an empty file NAME (a whiteout or the opaque marker) in DFD. */
static int marker(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		return -errno;
	}
	close(fd);
	return 0;
}

/* Copies regular file NAME of SFD (ST) to NAME of DFD: a reflink, else the bytes. */
static int copy_file(int sfd, int dfd, const char *name, const struct stat *st)
{
	int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out, ret = 0;

	if (in < 0) {
		return -errno;
	}
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	if (ioctl(out, FICLONE, in) < 0) {
		off_t left = st->st_size;
		while (left > 0) {
			ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
			if (n <= 0) {
				ret = n < 0 ? -errno : 0;
				break;
			}
			left -= n;
		}
	}
	if (ret == 0) {
		copy_xattrs(in, out);
		copy_meta(out, st);
	}
	close(in);
	close(out);
	return ret;
}

/* Copies non-directory NAME of SFD (ST) to DFD, by MODE (nodes are always made anew). */
static int place_object(int sfd, int dfd, const char *name, const struct stat *st, enum merge_mode mode)
{
	if (mode == MERGE_COPY && S_ISREG(st->st_mode)) {
		return copy_file(sfd, dfd, name, st);
	}
	if (mode == MERGE_COPY && S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
		struct timespec ts[2] = {st->st_atim, st->st_mtim};
		if (n < 0) {
			return -errno;
		}
		target[n] = '\0';
		if (symlinkat(target, dfd, name) < 0) {
			return -errno;
		}
		fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
		utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (S_ISSOCK(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		/*
		 * A new node, not a link: a socket of the VM keeps one link (the unix guard
		 * checks it), and a node of a merged upper/ is the VM's to change. A device
		 * needs privilege; without it, a link.
		 */
		struct timespec ts[2] = {st->st_atim, st->st_mtim};
		if (mknodat(dfd, name, st->st_mode, st->st_rdev) == 0) {
			fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
			fchmodat(dfd, name, st->st_mode & 07777, 0);
			utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
			return 0;
		}
	}
	return linkat(sfd, name, dfd, name, 0) < 0 ? -errno : 0;
}

static int apply_dir(int dfd, int sfd, enum merge_mode mode);

/* Applies directory NAME of SFD (ST) onto DFD. */
static int apply_subdir(int dfd, int sfd, const char *name, const struct stat *st,
			enum merge_mode mode)
{
	char wh[NAME_MAX + FVM_WH_PREFIX_LEN + 1];
	struct stat dst;
	bool opaque = false;
	int cfd, sub, ret;

	if (fstatat(dfd, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(dst.st_mode) &&
	    (ret = safe_rm_tree(dfd, name, NULL, NULL)) < 0) {
		return ret;
	}
	snprintf(wh, sizeof(wh), "%s%s", FVM_WH_PREFIX, name);
	if (unlinkat(dfd, wh, 0) == 0) {
		opaque = true; /* what lay below was deleted: it must not merge back */
	}
	if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	if ((cfd = safe_open_dir(dfd, name)) < 0) {
		return cfd;
	}
	if ((sub = safe_open_dir(sfd, name)) < 0) {
		close(cfd);
		return sub;
	}
	ret = opaque ? marker(cfd, FVM_WH_OPAQUE) : 0;
	if (ret == 0) {
		ret = apply_dir(cfd, sub, mode);
	}
	if (ret == 0) {
		copy_xattrs(sub, cfd);
		copy_meta(cfd, st);
	}
	close(sub);
	close(cfd);
	return ret;
}

/* Applies the entries of directory SFD onto directory DFD. */
static int apply_dir(int dfd, int sfd, enum merge_mode mode)
{
	DIR *d = safe_dir_stream(sfd);
	struct dirent *e;
	struct stat st;
	int ret = 0;

	if (!d) {
		return -errno;
	}
	if (fstatat(sfd, FVM_WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Nothing below shows through: what is there goes, the marker stays. */
		DIR *dd = safe_dir_stream(dfd);
		while (dd && ret == 0 && (e = readdir(dd))) {
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				ret = safe_rm_tree(dfd, e->d_name, NULL, NULL);
			}
		}
		if (dd) {
			closedir(dd);
		}
		ret = ret < 0 ? ret : marker(dfd, FVM_WH_OPAQUE);
	}
	while (ret == 0 && (e = readdir(d))) {
		const char *name = e->d_name;
		size_t len = strlen(name);
		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, FVM_WH_OPAQUE)) {
			continue;
		}
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			continue; /* gone meanwhile */
		}
		if (fvm_is_wh_name(name, len)) {
			ret = safe_rm_tree(dfd, name + FVM_WH_PREFIX_LEN, NULL, NULL);
			ret = ret < 0 ? ret : marker(dfd, name);
		} else if (S_ISDIR(st.st_mode)) {
			ret = apply_subdir(dfd, sfd, name, &st, mode);
		} else {
			char wh[NAME_MAX + FVM_WH_PREFIX_LEN + 1];
			snprintf(wh, sizeof(wh), "%s%s", FVM_WH_PREFIX, name);
			unlinkat(dfd, wh, 0);
			ret = safe_rm_tree(dfd, name, NULL, NULL);
			ret = ret < 0 ? ret : place_object(sfd, dfd, name, &st, mode);
		}
	}
	closedir(d);
	return ret;
}

int layer_merge(char *const *trees, size_t n, const char *dst, enum merge_mode mode)
{
	int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret = 0;
	struct stat st;

	if (dfd < 0) {
		warn("%s", dst);
		return -1;
	}
	for (size_t i = n; ret == 0 && i-- > 0;) {
		int sfd = open(trees[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0) {
			if (errno == ENOENT) {
				continue; /* a layer whose tree never arrived: empty */
			}
			ret = -errno;
			warnx("%s: %s", trees[i], strerror(-ret));
			break;
		}
		ret = apply_dir(dfd, sfd, mode);
		if (ret == 0 && i == 0 && fstat(sfd, &st) == 0) {
			copy_meta(dfd, &st); /* the root's mode, as upper/ carries it */
		}
		if (ret < 0) {
			warnx("merging %s: %s", trees[i], strerror(-ret));
		}
		close(sfd);
	}
	close(dfd);
	return ret < 0 ? -1 : 0;
}
