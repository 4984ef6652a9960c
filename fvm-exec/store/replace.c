/*
 * replace.c — writing a file whole (replace.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "store/replace.h"

int replace_open(struct replace *r, const char *file)
{
	r->file = file;
	r->f = NULL;
	if (snprintf(r->tmp, sizeof(r->tmp), "%s.tmp.%d", file, (int)getpid()) >= (int)sizeof(r->tmp)) {
		return -ENAMETOOLONG;
	}
	int fd = open(r->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		return -errno;
	}
	if (!(r->f = fdopen(fd, "w"))) {
		int e = -errno;
		close(fd);
		unlink(r->tmp);
		return e;
	}
	return 0;
}

int replace_commit(struct replace *r)
{
	int ret = 0;

	if (ferror(r->f)) {
		ret = -EIO; /* an earlier write failed */
	} else if (fflush(r->f) != 0 || fsync(fileno(r->f)) < 0) {
		ret = -errno;
	}
	if (fclose(r->f) != 0 && ret == 0) {
		ret = -errno;
	}
	r->f = NULL;
	if (ret == 0 && rename(r->tmp, r->file) < 0) {
		ret = -errno;
	}
	if (ret < 0) {
		unlink(r->tmp);
	}
	return ret;
}

void replace_abort(struct replace *r)
{
	if (r->f) {
		fclose(r->f);
		r->f = NULL;
	}
	unlink(r->tmp);
}
