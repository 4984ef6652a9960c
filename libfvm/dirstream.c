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
	/* --dir-order (determ.c): the whole listing, read at the first readdir, in
	 * order; positions are entry indexes. NULL: the kernel's order, read as it comes. */
	struct dirent64 **order;
	char *records;
	size_t norder, next;
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
	d->order = NULL;
	d->records = NULL;
	d->norder = d->next = 0;
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

static void order_drop(struct fvm_dir *d)
{
	free(d->order);
	free(d->records);
	d->order = NULL;
	d->records = NULL;
	d->norder = d->next = 0;
}

static int order_cmp(const void *a, const void *b)
{
	int c = strcmp((*(struct dirent64 *const *)a)->d_name, (*(struct dirent64 *const *)b)->d_name);
	return fvm_det.order < 0 ? -c : c;
}

/* Reads D's whole listing from its current position and sorts it; 0 or -errno. */
static int order_load(struct fvm_dir *d)
{
	size_t cap = 0, used = 0, n = 0;
	char *rec = NULL;

	for (;;) {
		if (cap - used < sizeof(d->buf)) {
			char *nr = realloc(rec, cap = cap ? cap * 2 : 2 * sizeof(d->buf));
			if (!nr) {
				free(rec);
				return -ENOMEM;
			}
			rec = nr;
		}
		ssize_t got = d->plain ? sys_getdents64(d->fd, rec + used, cap - used)
				       : fvm_getdents(d->fd, rec + used, cap - used);
		if (got < 0) {
			free(rec);
			return (int)got;
		}
		if (got == 0) {
			break;
		}
		used += (size_t)got;
	}
	for (size_t off = 0; off < used; off += ((struct dirent64 *)(rec + off))->d_reclen) {
		n++;
	}
	d->order = malloc((n ? n : 1) * sizeof(*d->order));
	if (!d->order) {
		free(rec);
		return -ENOMEM;
	}
	n = 0;
	for (size_t off = 0; off < used; off += ((struct dirent64 *)(rec + off))->d_reclen) {
		d->order[n++] = (struct dirent64 *)(rec + off);
	}
	qsort(d->order, n, sizeof(*d->order), order_cmp);
	for (size_t i = 0; i < n; i++) {
		d->order[i]->d_off = (int64_t)i + 1;
	}
	d->records = rec;
	d->norder = n;
	return 0;
}

/* readdir in --dir-order's order: the position is the index of the next entry. */
static __attribute__((noinline, cold)) struct dirent64 *order_readdir(struct fvm_dir *d)
{
	if (!d->order) {
		size_t start = d->next;
		int ret = order_load(d);
		if (ret < 0) {
			errno = -ret;
			return NULL;
		}
		d->next = start;
	}
	if (d->next >= d->norder) {
		return NULL;
	}
	d->filepos = (long)++d->next;
	return d->order[d->next - 1];
}

/*
 * The next entry. With --dir-order the buffer stays empty (order_readdir serves the
 * sorted listing), so the test of the order costs only where a buffer is refilled.
 */
static struct dirent64 *fvm_readdir(struct fvm_dir *d)
{
	int saved = errno;

	if (d->pos >= d->size) {
		if (__builtin_expect(fvm_det.on & FVM_DET_ORDER, 0)) {
			return order_readdir(d);
		}
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
	order_drop(d);
}

void seekdir(DIR *dir, long loc)
{
	struct fvm_dir *d = (struct fvm_dir *)dir;

	if (!fvm_on()) {
		REAL(seekdir)(dir, loc);
		return;
	}
	d->filepos = loc;
	if (d->order || (fvm_det.on & FVM_DET_ORDER)) {
		d->next = loc < 0 ? 0 : (size_t)loc; /* an index into the sorted listing */
		return;
	}
	sys_lseek(d->fd, loc, SEEK_SET);
	d->size = d->pos = 0;
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
	order_drop(d);
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
