/*
 * replace.c — writing a file whole (replace.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
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
