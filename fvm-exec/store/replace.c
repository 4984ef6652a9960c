/*
 * replace.c — writing a file whole (replace.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/replace.h"
#include "store/safefs.h"

int replace_open(struct replace *r, int dirfd, const char *name, mode_t mode)
{
	r->dirfd = dirfd;
	r->name = name;
	r->f = NULL;
	int fd = safe_temp_create(dirfd, name, mode, r->tmp, sizeof(r->tmp));
	if (fd < 0) {
		return fd;
	}
	if (!(r->f = fdopen(fd, "w"))) {
		int e = -errno;
		close(fd);
		unlinkat(dirfd, r->tmp, 0);
		return e;
	}
	return 0;
}

static int commit(struct replace *r, bool sync)
{
	int ret = 0;

	if (ferror(r->f)) {
		ret = -EIO; /* an earlier write failed */
	} else if (fflush(r->f) != 0 || (sync && fsync(fileno(r->f)) < 0)) {
		ret = -errno;
	}
	if (fclose(r->f) != 0 && ret == 0) {
		ret = -errno;
	}
	r->f = NULL;
	if (ret == 0 && renameat(r->dirfd, r->tmp, r->dirfd, r->name) < 0) {
		ret = -errno;
	}
	if (ret < 0) {
		unlinkat(r->dirfd, r->tmp, 0);
	}
	return ret;
}

int replace_commit(struct replace *r)
{
	return commit(r, true);
}

int replace_commit_nosync(struct replace *r)
{
	return commit(r, false);
}

void replace_abort(struct replace *r)
{
	if (r->f) {
		fclose(r->f);
		r->f = NULL;
	}
	unlinkat(r->dirfd, r->tmp, 0);
}

int replace_write(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	struct replace r;
	int ret = replace_open(&r, dirfd, name, mode);

	if (ret < 0) {
		return ret;
	}
	if (len && fwrite(data, 1, len, r.f) != len) {
		ret = -errno ? -errno : -EIO;
		replace_abort(&r);
		return ret;
	}
	return replace_commit(&r);
}

int reuse_or_create(int dirfd, const char *const *olds, size_t n, const char *tmp, size_t *taken)
{
	size_t renamed = 0;
	int fd = -1;

	for (size_t i = 0; i < n && fd < 0; i++) {
		struct stat st;
		if (renameat(dirfd, olds[i], dirfd, tmp) < 0) {
			continue; /* none there, or taken by another writer meanwhile */
		}
		renamed++;
		/* Emptied only once known to be ours alone: a hard link planted as a spare
		 * must not cost its target its contents. */
		fd = openat(dirfd, tmp, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
				ftruncate(fd, 0) < 0)) {
			close(fd);
			fd = -1;
		}
	}
	if (taken) {
		*taken = renamed;
	}
	if (fd < 0) {
		unlinkat(dirfd, tmp, 0); /* what failed the check, or a crashed writer's */
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	return fd < 0 ? -errno : fd;
}
