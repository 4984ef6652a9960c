/*
 * safefs.c — links never followed, files read with a bound (safefs.h).
 *
 * Invariants: every path this module resolves starts at a directory fd and stays
 * beneath it; no call here follows a link in any component; a read never blocks.
 *
 * The size bounds (safefs.h): vm.conf and the format file are a few hundred bytes
 * written by the tools, so 1 MiB is generous. The journal holds one line per change of
 * a commit and the origins log one line per copy-up, each up to two escaped PATH_MAX
 * paths: a commit of a million files needs hundreds of MiB, so they are bounded at
 * 1 GiB, which still stops a VM from making a tool read an endless file. The IPC
 * registry holds a line per IPC object the VM created (short names): 16 MiB.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store/safefs.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* -ENOSYS once the kernel said it has no openat2: the fallback is used from then on. */
static int openat2_missing;

int safe_openat(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC | O_NOFOLLOW),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	while (*rel == '/') {
		rel++; /* paths beneath DIRFD: "/a/b" is "a/b" */
	}
	if (!*rel) {
		rel = ".";
	}
	if (!openat2_missing) {
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0) {
			return (int)fd;
		}
		if (errno != ENOSYS) {
			return -errno;
		}
		openat2_missing = 1;
	}
	return safe_openat_walk(dirfd, rel, flags, mode);
}

int safe_openat_walk(int dirfd, const char *rel, int flags, mode_t mode)
{
	char comp[NAME_MAX + 1];
	int cur = dirfd, fd;

	for (;;) {
		size_t n = strcspn(rel, "/");
		const char *next = rel + n;
		while (*next == '/') {
			next++;
		}
		if (n > NAME_MAX) {
			fd = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, rel, n);
		comp[n] = '\0';
		if (strcmp(comp, "..") == 0) {
			fd = -EXDEV;
			break;
		}
		bool last = *next == '\0';
		fd = openat(cur, comp, last ? flags | O_CLOEXEC | O_NOFOLLOW
					    : O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd < 0) {
			fd = -errno;
			break;
		}
		if (cur != dirfd) {
			close(cur);
		}
		if (last) {
			return fd;
		}
		cur = fd;
		rel = next;
	}
	if (cur != dirfd) {
		close(cur);
	}
	return fd;
}

int safe_open_dir(int dirfd, const char *rel)
{
	return safe_openat(dirfd, rel, O_RDONLY | O_DIRECTORY, 0);
}

/* REL's directory part into DIR (PATH_MAX bytes) and its last component at *BASE. 0 or -errno. */
static int split_parent(const char *rel, char *dir, const char **base)
{
	size_t len, b;

	while (*rel == '/') {
		rel++;
	}
	len = strlen(rel);
	while (len > 0 && rel[len - 1] == '/') {
		len--;
	}
	if (len == 0 || len >= PATH_MAX) {
		return len ? -ENAMETOOLONG : -EINVAL;
	}
	for (b = len; b > 0 && rel[b - 1] != '/'; b--) {
	}
	if (rel[len] == '/' || strncmp(rel + b, "..", len - b) == 0 || (len - b == 1 && rel[b] == '.')) {
		return -EINVAL; /* "x/", "..", ".": no last component to act on */
	}
	memcpy(dir, rel, b);
	dir[b] = '\0';
	*base = rel + b;
	return 0;
}

int safe_open_parent(int dirfd, const char *rel, const char **base)
{
	char dir[PATH_MAX];
	int ret = split_parent(rel, dir, base);

	return ret < 0 ? ret : safe_open_dir(dirfd, dir);
}

int safe_parent_cached(struct safe_parent_cache *pc, int dirfd, const char *rel, const char **base)
{
	char dir[PATH_MAX];
	int ret = split_parent(rel, dir, base);

	if (ret < 0) {
		return ret;
	}
	if (pc->valid && pc->dirfd == dirfd && strcmp(pc->dir, dir) == 0) {
		return pc->fd; /* the directory opened for the name before, or its error */
	}
	safe_parent_cache_drop(pc);
	pc->fd = safe_open_dir(dirfd, dir);
	pc->dirfd = dirfd;
	memcpy(pc->dir, dir, strlen(dir) + 1);
	pc->valid = true;
	return pc->fd;
}

void safe_parent_cache_drop(struct safe_parent_cache *pc)
{
	if (pc->valid && pc->fd >= 0) {
		close(pc->fd);
	}
	pc->valid = false;
}

int safe_open_control(int dirfd, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd = safe_openat(dirfd, name, flags | O_NONBLOCK, mode);

	if (fd < 0) {
		return fd;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = errno;
		close(fd);
		return S_ISREG(st.st_mode) ? -e : -EFTYPE_SAFE;
	}
	return fd;
}

int safe_read_file(int dirfd, const char *name, size_t max, char **buf, size_t *len)
{
	size_t got = 0, cap = 4096;
	char *b = NULL;
	int fd = safe_open_control(dirfd, name, O_RDONLY, 0), ret = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0) {
		return fd;
	}
	for (;;) {
		if (got + 1 >= cap || !b) {
			char *nb = realloc(b, cap = b ? cap * 2 : cap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			b = nb;
		}
		ssize_t n = read(fd, b + got, cap - got - 1);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			ret = -errno;
			break;
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
		if (got > max) {
			ret = -EFBIG; /* it may still be growing: the bound holds all the same */
			break;
		}
	}
	close(fd);
	if (ret < 0) {
		free(b);
		return ret;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

const char *safe_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case ELOOP:
		return "a symbolic link on the way or in its place: refused";
	case EFTYPE_SAFE:
		return "not a regular file: refused";
	case EFBIG:
		return "larger than fvm reads: refused";
	case EXDEV:
		return "leads out of its directory: refused";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

int safe_text_open(struct safe_text *t, int dirfd, const char *name, size_t max)
{
	int ret = safe_read_file(dirfd, name, max, &t->buf, &t->len);

	t->f = NULL;
	if (ret < 0) {
		return ret;
	}
	/* An empty buffer is a valid stream with nothing in it; fmemopen needs size > 0. */
	t->f = fmemopen(t->buf, t->len ? t->len : 1, "r");
	if (!t->f) {
		ret = -errno;
		free(t->buf);
		t->buf = NULL;
		return ret;
	}
	if (t->len == 0) {
		fgetc(t->f); /* the one byte is the NUL: the stream is at its end */
	}
	return 0;
}

void safe_text_close(struct safe_text *t)
{
	if (t->f) {
		fclose(t->f);
	}
	free(t->buf);
	t->f = NULL;
	t->buf = NULL;
}

int safe_random_hex(char out[17])
{
	unsigned char r[8];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n < 0 && errno != EINTR) {
			return -errno;
		}
		got += n > 0 ? (size_t)n : 0;
	}
	for (size_t i = 0; i < sizeof(r); i++) {
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	}
	return 0;
}

int safe_temp_create(int dirfd, const char *name, mode_t mode, char *tmp, size_t len)
{
	char rnd[17];
	int ret;

	for (int tries = 0; tries < 8; tries++) {
		if ((ret = safe_random_hex(rnd)) < 0) {
			return ret;
		}
		if (snprintf(tmp, len, ".%s.tmp.%s", name, rnd) >= (int)len) {
			return -ENAMETOOLONG;
		}
		int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST) {
			return fd >= 0 ? fd : -errno;
		}
	}
	return -EEXIST;
}

DIR *safe_dir_stream(int dfd)
{
	int fd2 = dup(dfd);
	DIR *d;

	if (fd2 < 0) {
		return NULL;
	}
	if (!(d = fdopendir(fd2))) {
		int e = errno;
		close(fd2);
		errno = e;
	}
	return d;
}

/* A tree deeper than this is refused rather than overflowing the stack. */
#define SAFE_MAX_DEPTH 4096

/* Calls FN(DFD, name, DEPTH, ARG) for each entry of directory DFD but "." and "..". */
static int each_child(int dfd, int depth, int (*fn)(int dfd, const char *name, int depth, void *arg),
		      void *arg)
{
	struct dirent *e;
	int ret = 0;
	DIR *d;

	if (depth > SAFE_MAX_DEPTH) {
		return -ELOOP;
	}
	if (!(d = safe_dir_stream(dfd))) {
		return -errno;
	}
	while (ret == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			ret = fn(dfd, e->d_name, depth, arg);
		}
	}
	closedir(d);
	return ret;
}

/* Opens subdirectory NAME of DIRFD, never through a link: fd, or -errno. */
static int open_subdir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

struct rm_ctx {
	void (*step)(void *arg);
	void *arg;
};

static int rm_at(int dirfd, const char *name, int depth, void *arg)
{
	struct rm_ctx *c = arg;
	struct stat st;
	int ret = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		int fd = open_subdir(dirfd, name);
		if (fd < 0) {
			return fd == -ENOENT ? 0 : fd;
		}
		ret = each_child(fd, depth + 1, rm_at, c);
		close(fd);
		if (ret == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			ret = -errno;
		}
	} else if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		ret = -errno;
	}
	if (ret == 0 && c->step) {
		c->step(c->arg);
	}
	return ret;
}

int safe_rm_tree(int dirfd, const char *name, void (*step)(void *arg), void *arg)
{
	struct rm_ctx c = {.step = step, .arg = arg};

	return rm_at(dirfd, name, 0, &c);
}

struct walk_ctx {
	int (*fn)(int pfd, const char *name, const struct stat *st, int depth, void *arg);
	void *arg;
};

static int walk_at(int dirfd, const char *name, int depth, void *arg)
{
	struct walk_ctx *w = arg;
	struct stat st;
	int ret;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return depth == 0 ? -errno : 0; /* an entry gone meanwhile is no error */
	}
	if ((ret = w->fn(dirfd, name, &st, depth, w->arg)) != 0 || !S_ISDIR(st.st_mode)) {
		return ret;
	}
	int fd = open_subdir(dirfd, name);
	if (fd < 0) {
		return depth == 0 ? fd : 0;
	}
	ret = each_child(fd, depth + 1, walk_at, w);
	close(fd);
	return ret;
}

int safe_walk(int dirfd, const char *name,
	      int (*fn)(int pfd, const char *name, const struct stat *st, int depth, void *arg),
	      void *arg)
{
	struct walk_ctx w = {.fn = fn, .arg = arg};

	return walk_at(dirfd, name, 0, &w);
}

void safe_fd_path(int fd, char out[32])
{
	snprintf(out, 32, "/proc/self/fd/%d", fd);
}
