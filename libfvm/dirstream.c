/*
 * dirstream.c — the DIR stream functions inside a VM: opendir, fdopendir, readdir(_r)
 * and their 64 names, rewinddir, seekdir, telldir, closedir, dirfd; and libfvm's own
 * streams for the walkers (fvm_opendirat, fvm_dir_read, fvm_dir_close, fvm_dir_fd).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libfvm.h"

/*
 * libfvm's DIR stream: a buffer over fvm_getdents(), or over the kernel's getdents64
 * when the directory's listing is the kernel's (decided at open and at rewind; names
 * the VM adds while a stream reads are, as natively, not promised to it).
 */
struct fvm_dir {
	int fd;
	bool plain;
	size_t size, pos;   /* bytes in buf, next record */
	long filepos;       /* d_off of the last record returned (telldir) */
	struct dirent64 entry;
	char buf[32768] __attribute__((aligned(8)));
};

static DIR *dir_from_fd(int fd)
{
	struct fvm_dir *d;
	struct stat st;
	int ret = sys_fstat(fd, &st);

	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return NULL;
	}
	d = malloc(sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	d->fd = fd;
	d->plain = fvm_dir_fd_plain(fd);
	d->size = d->pos = 0;
	d->filepos = 0;
	return (DIR *)d;
}

DIR *fvm_opendirat(int dirfd, const char *vpath)
{
	DIR *dir;
	int fd = fvm_openat_remember(dirfd, vpath, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC, 0);

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	dir = dir_from_fd(fd);
	if (!dir) {
		int saved = errno;
		sys_close(fd);
		errno = saved;
	}
	return dir;
}

DIR *opendir(const char *vpath)
{
	if (!fvm_on()) {
		return REAL(opendir)(vpath);
	}
	fvm_touch(vpath); /* libc's reads vpath[0] first */
	return fvm_opendirat(AT_FDCWD, vpath);
}

DIR *fdopendir(int fd)
{
	int fl;

	if (!fvm_on()) {
		return REAL(fdopendir)(fd);
	}
	fl = sys_fcntl(fd, F_GETFL, 0);
	if (fl < 0) {
		errno = -fl;
		return NULL;
	}
	if ((fl & O_PATH) == O_PATH) {
		errno = EBADF;
		return NULL;
	}
	return dir_from_fd(fd);
}

static struct dirent64 *fvm_readdir(struct fvm_dir *d);

struct dirent64 *fvm_dir_read(DIR *dir)
{
	return fvm_readdir((struct fvm_dir *)dir);
}

static struct dirent64 *fvm_readdir(struct fvm_dir *d)
{
	int saved = errno;

	if (d->pos >= d->size) {
		ssize_t n = d->plain ? sys_getdents64(d->fd, d->buf, sizeof(d->buf))
				     : fvm_getdents(d->fd, d->buf, sizeof(d->buf));
		if (n <= 0) {
			if (n < 0) {
				errno = (int)-n;
			} else {
				errno = saved; /* the end: errno unchanged */
			}
			return NULL;
		}
		d->size = (size_t)n;
		d->pos = 0;
	}
	struct dirent64 *e = (struct dirent64 *)(d->buf + d->pos);
	d->pos += e->d_reclen;
	d->filepos = e->d_off;
	return e;
}

/* On the 64-bit ABIs fvm supports, struct dirent and struct dirent64 are one layout. */
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent64 layout");

struct dirent *readdir(DIR *dir)
{
	if (!fvm_on()) {
		return REAL(readdir)(dir);
	}
	return (struct dirent *)fvm_readdir((struct fvm_dir *)dir);
}

struct dirent64 *readdir64(DIR *dir)
{
	if (!fvm_on()) {
		return REAL(readdir64)(dir);
	}
	return fvm_readdir((struct fvm_dir *)dir);
}

static int fvm_readdir_r(struct fvm_dir *d, struct dirent64 *entry, struct dirent64 **result)
{
	int saved = errno;
	struct dirent64 *e;

	errno = 0;
	e = fvm_readdir(d);
	if (!e) {
		int err = errno;
		errno = saved;
		*result = NULL;
		return err;
	}
	memcpy(entry, e, e->d_reclen < sizeof(*entry) ? e->d_reclen : sizeof(*entry));
	*result = entry;
	errno = saved;
	return 0;
}

int readdir_r(DIR *dir, struct dirent *entry, struct dirent **result)
{
	if (!fvm_on()) {
		return REAL(readdir_r)(dir, entry, result);
	}
	return fvm_readdir_r((struct fvm_dir *)dir, (struct dirent64 *)entry, (struct dirent64 **)result);
}

int readdir64_r(DIR *dir, struct dirent64 *entry, struct dirent64 **result)
{
	if (!fvm_on()) {
		return REAL(readdir64_r)(dir, entry, result);
	}
	return fvm_readdir_r((struct fvm_dir *)dir, entry, result);
}

void rewinddir(DIR *dir)
{
	struct fvm_dir *d = (struct fvm_dir *)dir;

	if (!fvm_on()) {
		REAL(rewinddir)(dir);
		return;
	}
	sys_lseek(d->fd, 0, SEEK_SET);
	d->plain = fvm_dir_fd_plain(d->fd);
	d->size = d->pos = 0;
	d->filepos = 0;
}

void seekdir(DIR *dir, long loc)
{
	struct fvm_dir *d = (struct fvm_dir *)dir;

	if (!fvm_on()) {
		REAL(seekdir)(dir, loc);
		return;
	}
	sys_lseek(d->fd, loc, SEEK_SET);
	d->size = d->pos = 0;
	d->filepos = loc;
}

long telldir(DIR *dir)
{
	if (!fvm_on()) {
		return REAL(telldir)(dir);
	}
	return ((struct fvm_dir *)dir)->filepos;
}

int fvm_dir_close(DIR *dir)
{
	struct fvm_dir *d = (struct fvm_dir *)dir;
	int ret;

	if (!d) {
		return -EINVAL;
	}
	fvm_listing_drop(d->fd);
	fvm_fd_forget(d->fd);
	ret = sys_close(d->fd);
	free(d);
	return ret;
}

int closedir(DIR *dir)
{
	if (!fvm_on()) {
		return REAL(closedir)(dir);
	}
	return fvm_ret(fvm_dir_close(dir));
}

int fvm_dir_fd(DIR *dir)
{
	return ((struct fvm_dir *)dir)->fd;
}

int dirfd(DIR *dir)
{
	if (!fvm_on()) {
		return REAL(dirfd)(dir);
	}
	return fvm_dir_fd(dir);
}
