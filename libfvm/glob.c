/*
 * glob.c — glob and glob64 over the VM's merged listings (the walkers' rules: walk.h).
 *
 * glob is glibc's own glob, given libfvm's directory and stat callbacks through
 * GLOB_ALTDIRFUNC. The caller never sees that flag or those callbacks afterwards; a
 * caller's own GLOB_ALTDIRFUNC is passed through untouched. globfree() needs no
 * wrapper: it only frees gl_pathv, which glibc's glob allocated either way.
 */
#include "walk.h"

/* The GLOB_ALTDIRFUNC callbacks: glob wants libc conventions (errno, -1, NULL). */
static void *glob_opendir(const char *vpath)
{
	return fvm_opendirat(AT_FDCWD, vpath);
}

static void *glob_readdir(void *dir)
{
	return fvm_dir_read(dir);
}

static void glob_closedir(void *dir)
{
	int saved = errno;

	fvm_dir_close(dir);
	errno = saved;
}

static int glob_stat(const char *vpath, struct stat *st)
{
	return fvm_walk_stat(vpath, st, true);
}

static int glob_lstat(const char *vpath, struct stat *st)
{
	return fvm_walk_stat(vpath, st, false);
}

typedef int (*glob_fn)(const char *, int, int (*)(const char *, int), glob_t *);

/*
 * glibc's glob REAL over libfvm's directories: the caller's glob_t callback fields
 * are put back as they were and GLOB_ALTDIRFUNC is cleared from gl_flags, so the
 * caller sees the glob_t it would have seen from a plain glob.
 */
static int fvm_glob(glob_fn real, const char *pattern, int flags,
		    int (*errfunc)(const char *, int), glob_t *g)
{
	glob_t saved;
	int ret;

	if ((flags & GLOB_ALTDIRFUNC) || !pattern || !g) {
		/* libc's answers the NULL arguments (EINVAL) without touching G. */
		return real(pattern, flags, errfunc, g);
	}
	saved = *g;
	g->gl_opendir = glob_opendir;
	g->gl_readdir = (struct dirent * (*)(void *))glob_readdir;
	g->gl_closedir = glob_closedir;
	g->gl_stat = glob_stat;
	g->gl_lstat = glob_lstat;
	ret = real(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
	g->gl_flags &= ~GLOB_ALTDIRFUNC;
	g->gl_opendir = saved.gl_opendir;
	g->gl_readdir = saved.gl_readdir;
	g->gl_closedir = saved.gl_closedir;
	g->gl_stat = saved.gl_stat;
	g->gl_lstat = saved.gl_lstat;
	return ret;
}

int glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
	if (!fvm_on()) {
		return REAL(glob)(pattern, flags, errfunc, g);
	}
	return fvm_glob(REAL(glob), pattern, flags, errfunc, g);
}

_Static_assert(sizeof(glob64_t) == sizeof(glob_t), "glob64_t layout");

int glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob64_t *g)
{
	if (!fvm_on()) {
		return REAL(glob64)(pattern, flags, errfunc, g);
	}
	return fvm_glob((glob_fn)REAL(glob64), pattern, flags, errfunc, (glob_t *)g);
}
