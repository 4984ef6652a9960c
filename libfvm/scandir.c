/*
 * scandir.c — scandir, scandirat and their 64 names over the VM's merged listings
 * (the walkers' rules: walk.h). The caller gets malloc'd entries and array, as from
 * glibc, and frees them with free().
 */
#include <string.h>

#include "walk.h"

typedef int (*scan_filter)(const struct dirent64 *);
typedef int (*scan_compar)(const struct dirent64 **, const struct dirent64 **);

/* A listing being collected: entries FILTER accepts, in malloc'd copies. */
struct scan {
	struct dirent64 **v;
	size_t n, cap;
	scan_filter filter;
};

/* Keeps a copy of D when the filter accepts it. 0, or ENOMEM. */
static int scan_keep(const struct dirent64 *d, void *arg)
{
	struct scan *sc = arg;

	/* A filter may leave errno set although it succeeded (as glibc says). */
	if (sc->filter && !sc->filter(d)) {
		return 0;
	}
	if (sc->n == sc->cap) {
		size_t ncap = sc->cap ? sc->cap * 2 : 10;
		struct dirent64 **nv = realloc(sc->v, ncap * sizeof(*nv));
		if (!nv) {
			return ENOMEM;
		}
		sc->v = nv;
		sc->cap = ncap;
	}
	sc->v[sc->n] = malloc(d->d_reclen);
	if (!sc->v[sc->n]) {
		return ENOMEM;
	}
	memcpy(sc->v[sc->n++], d, d->d_reclen);
	return 0;
}

/*
 * Lists directory VPATH (relative to DIRFD) into a malloc'd array of malloc'd entries
 * in *OUT: those FILTER accepts (all when NULL), sorted by COMPAR (readdir order when
 * NULL). Returns the count, errno as it was; or -errno with nothing left allocated.
 */
static int fvm_scandirat(int dirfd, const char *vpath, struct dirent64 ***out,
			 scan_filter filter, scan_compar compar)
{
	int saved = errno, err;
	struct scan sc = {.filter = filter};
	DIR *dir;

	fvm_touch(vpath); /* libc's opens it by its own opendir, which reads vpath[0] */
	dir = fvm_opendirat(dirfd, vpath);

	if (!dir) {
		return -errno;
	}
	err = fvm_walk_each(dir, scan_keep, &sc);
	err = err < 0 ? -err : err;
	fvm_dir_close(dir);
	if (err) {
		while (sc.n > 0) {
			free(sc.v[--sc.n]);
		}
		free(sc.v);
		return -err;
	}
	if (compar && sc.n > 1) {
		qsort(sc.v, sc.n, sizeof(*sc.v), (int (*)(const void *, const void *))compar);
	}
	*out = sc.v;
	errno = saved;
	return (int)sc.n;
}

int scandirat(int dirfd, const char *vpath, struct dirent ***out,
	      int (*filter)(const struct dirent *),
	      int (*compar)(const struct dirent **, const struct dirent **))
{
	if (!fvm_on()) {
		return REAL(scandirat)(dirfd, vpath, out, filter, compar);
	}
	return fvm_ret(fvm_scandirat(dirfd, vpath, (struct dirent64 ***)out, (scan_filter)filter,
				     (scan_compar)compar));
}

int scandirat64(int dirfd, const char *vpath, struct dirent64 ***out,
		int (*filter)(const struct dirent64 *),
		int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
	if (!fvm_on()) {
		return REAL(scandirat64)(dirfd, vpath, out, filter, compar);
	}
	return fvm_ret(fvm_scandirat(dirfd, vpath, out, filter, compar));
}

int scandir(const char *vpath, struct dirent ***out, int (*filter)(const struct dirent *),
	    int (*compar)(const struct dirent **, const struct dirent **))
{
	if (!fvm_on()) {
		return REAL(scandir)(vpath, out, filter, compar);
	}
	return fvm_ret(fvm_scandirat(AT_FDCWD, vpath, (struct dirent64 ***)out,
				     (scan_filter)filter, (scan_compar)compar));
}

int scandir64(const char *vpath, struct dirent64 ***out, int (*filter)(const struct dirent64 *),
	      int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
	if (!fvm_on()) {
		return REAL(scandir64)(vpath, out, filter, compar);
	}
	return fvm_ret(fvm_scandirat(AT_FDCWD, vpath, out, filter, compar));
}
