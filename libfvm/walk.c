/*
 * walk.c — the directory walkers: scandir(at), glob, ftw/nftw, fts; and their 64 names.
 *
 * glibc's walkers call its internal opendir, readdir and stat, which no preloaded
 * library can see: inside a VM they would list the host's directories, not the VM's
 * merged view. Here they are rebuilt on libfvm's own primitives (fvm_opendirat,
 * fvm_dir_read, fvm_dir_close, fvm_fstatat, fvm_openat), with glibc 2.36's observable
 * behaviour: callback order and arguments, type flags, levels and bases, errno values,
 * return values and the memory the caller frees.
 *
 * Rules:
 *  - Outside a VM every entry point is libc's own (real_NAME): nothing changes there.
 *  - Inside, no walker calls an exported wrapped name (STYLE.md "Three names").
 *  - glob is glibc's own glob, given libfvm's directory and stat callbacks through
 *    GLOB_ALTDIRFUNC. The caller never sees that flag or those callbacks afterwards; a
 *    caller's own GLOB_ALTDIRFUNC is passed through untouched. globfree() needs no
 *    wrapper: it only frees gl_pathv, which glibc's glob allocated either way.
 *  - On the 64-bit ABIs fvm supports, the 64 names have the same layouts (struct stat64,
 *    struct dirent64, glob64_t, FTS64, FTSENT64) as the plain ones and share their code.
 *  - Exported unversioned, each name also receives callers bound to older symbol
 *    versions (glob@GLIBC_2.2.5, nftw@GLIBC_2.2.5): they get the current behaviour
 *    (the old glob did not match dangling symlinks; the old nftw ignored unknown flags).
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "libfvm.h"

/* ---- scandir, scandirat ---------------------------------------------------------- */

typedef int (*scan_filter)(const struct dirent64 *);
typedef int (*scan_compar)(const struct dirent64 **, const struct dirent64 **);

/*
 * Lists directory VPATH (relative to DIRFD) into a malloc'd array of malloc'd entries
 * in *OUT: those FILTER accepts (all when NULL), sorted by COMPAR (readdir order when
 * NULL). Returns the count, errno as it was; or -errno with nothing left allocated.
 */
static int fvm_scandirat(int dirfd, const char *vpath, struct dirent64 ***out,
			 scan_filter filter, scan_compar compar)
{
	int saved = errno, err = 0;
	struct dirent64 **v = NULL, *d;
	size_t n = 0, cap = 0;
	DIR *dir = fvm_opendirat(dirfd, vpath);

	if (!dir) {
		return -errno;
	}
	for (;;) {
		errno = 0;
		d = fvm_dir_read(dir);
		if (!d) {
			err = errno;
			break;
		}
		/* A filter may leave errno set although it succeeded (as glibc says). */
		if (filter && !filter(d)) {
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 10;
			struct dirent64 **nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				err = ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[n] = malloc(d->d_reclen);
		if (!v[n]) {
			err = ENOMEM;
			break;
		}
		memcpy(v[n++], d, d->d_reclen);
	}
	fvm_dir_close(dir);
	if (err) {
		while (n > 0) {
			free(v[--n]);
		}
		free(v);
		return -err;
	}
	if (compar && n > 1) {
		qsort(v, n, sizeof(*v), (int (*)(const void *, const void *))compar);
	}
	*out = v;
	errno = saved;
	return (int)n;
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

/* ---- glob ------------------------------------------------------------------------ */

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
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, st, 0));
}

static int glob_lstat(const char *vpath, struct stat *st)
{
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, st, AT_SYMLINK_NOFOLLOW));
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

	if (flags & GLOB_ALTDIRFUNC) {
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

/* ---- ftw, nftw ------------------------------------------------------------------- */

/*
 * The walk follows glibc's io/ftw.c step for step, because programs observe its
 * details: the start name loses its trailing slashes; a directory's stream is opened
 * before its FTW_D call and read after it; at most NOPENFD streams stay open (the
 * one NOPENFD levels up is read into memory and closed, and FTW_CHDIR then climbs
 * back with chdir("..")); without FTW_PHYS every directory is visited once, by
 * device and inode; a stat error other than ENOENT or EACCES ends the walk with -1.
 * Here each directory's names are read in full once its FTW_D call returns (a merged
 * listing is built whole anyway), so the stream only serves FTW_CHDIR's way back.
 */

struct known {     /* directories seen, by device and inode (open addressing) */
	struct {
		dev_t dev;
		ino_t ino;
		bool used;
	} *slot;
	size_t cap, n;
};

static size_t known_hash(const struct known *k, dev_t dev, ino_t ino)
{
	return (size_t)((dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full)) & (k->cap - 1);
}

static bool known_has(const struct known *k, const struct stat *st)
{
	if (!k->cap) {
		return false;
	}
	for (size_t i = known_hash(k, st->st_dev, st->st_ino); k->slot[i].used; i = (i + 1) & (k->cap - 1)) {
		if (k->slot[i].dev == st->st_dev && k->slot[i].ino == st->st_ino) {
			return true;
		}
	}
	return false;
}

/* Remembers ST's directory. Returns 0, or -1 with errno ENOMEM. */
static int known_add(struct known *k, const struct stat *st)
{
	if ((k->n + 1) * 2 > k->cap) {
		struct known grown = {.cap = k->cap ? k->cap * 2 : 64};
		grown.slot = calloc(grown.cap, sizeof(*grown.slot));
		if (!grown.slot) {
			errno = ENOMEM;
			return -1;
		}
		for (size_t i = 0; i < k->cap; i++) {
			if (k->slot[i].used) {
				size_t j = known_hash(&grown, k->slot[i].dev, k->slot[i].ino);
				while (grown.slot[j].used) {
					j = (j + 1) & (grown.cap - 1);
				}
				grown.slot[j] = k->slot[i];
			}
		}
		free(k->slot);
		grown.n = k->n;
		*k = grown;
	}
	size_t i = known_hash(k, st->st_dev, st->st_ino);
	while (k->slot[i].used) {
		i = (i + 1) & (k->cap - 1);
	}
	k->slot[i].dev = st->st_dev;
	k->slot[i].ino = st->st_ino;
	k->slot[i].used = true;
	k->n++;
	return 0;
}

struct ftw_dir {
	DIR *dir;          /* NULL once closed to stay within NOPENFD */
};

struct ftw_walk {
	char *buf;         /* the current name, as the callback gets it */
	size_t bufsize;
	struct FTW ftw;
	int flags;
	bool is_nftw;
	__ftw_func_t fn;
	__nftw_func_t nfn;
	dev_t dev;         /* the start directory's, for FTW_MOUNT */
	struct known known;
	struct ftw_dir **ring; /* the open streams, NOPENFD slots used as a stack */
	int maxdir, actdir;
};

/* ftw's callbacks know fewer types: glibc's ftw_arr. */
static int ftw_type(const struct ftw_walk *w, int type)
{
	if (w->is_nftw) {
		return type;
	}
	switch (type) {
	case FTW_SL:
		return FTW_F;
	case FTW_DP:
		return FTW_D;
	case FTW_SLN:
		return FTW_NS;
	default:
		return type;
	}
}

static int ftw_call(struct ftw_walk *w, const struct stat *st, int type)
{
	if (w->is_nftw) {
		return w->nfn(w->buf, st, type, &w->ftw);
	}
	return w->fn(w->buf, st, type);
}

/* chdir to VPATH in the virtual namespace; libc conventions (0, or -1 and errno). */
static int walk_chdir(const char *vpath)
{
	int fd = fvm_openat(AT_FDCWD, vpath, O_PATH | O_DIRECTORY | O_CLOEXEC, 0), ret;

	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	ret = fvm_fchdir(fd); /* checks search permission, as chdir does */
	sys_close(fd);
	return fvm_ret(ret);
}

/* stat or lstat with libc conventions. */
static int walk_stat(const char *vpath, struct stat *st, bool follow)
{
	return fvm_ret(fvm_fstatat(AT_FDCWD, vpath, st, follow ? 0 : AT_SYMLINK_NOFOLLOW));
}

/* The name to use for the object in w->buf: relative to the cwd under FTW_CHDIR. */
static const char *ftw_name(const struct ftw_walk *w)
{
	if (w->flags & FTW_CHDIR) {
		const char *name = w->buf + w->ftw.base;
		return name[0] ? name : ".";
	}
	return w->buf;
}

/* Opens the directory in w->buf into SELF, taking a stream slot. 0, or -1 and errno. */
static int ftw_open(struct ftw_walk *w, struct ftw_dir *self)
{
	struct ftw_dir *evicted = w->ring[w->actdir];

	if (evicted) {
		int saved = errno;
		fvm_dir_close(evicted->dir);
		evicted->dir = NULL;
		w->ring[w->actdir] = NULL;
		errno = saved;
	}
	self->dir = fvm_opendirat(AT_FDCWD, ftw_name(w));
	if (!self->dir) {
		return -1;
	}
	w->ring[w->actdir] = self;
	if (++w->actdir == w->maxdir) {
		w->actdir = 0;
	}
	return 0;
}

static void ftw_close(struct ftw_walk *w, struct ftw_dir *self)
{
	int saved = errno;

	if (!self->dir) {
		return;
	}
	fvm_dir_close(self->dir);
	self->dir = NULL;
	errno = saved;
	w->actdir = (w->actdir == 0 ? w->maxdir : w->actdir) - 1;
	w->ring[w->actdir] = NULL;
}

/* The names of DIR, NUL-separated, ending with an empty name; NULL with errno. */
static char *ftw_names(DIR *dir)
{
	size_t used = 0, cap = 1024;
	char *names = malloc(cap);
	struct dirent64 *d;

	if (!names) {
		return NULL;
	}
	while ((d = fvm_dir_read(dir)) != NULL) {
		size_t len = strlen(d->d_name) + 1;
		if (used + len + 1 > cap) {
			char *grown;
			while (used + len + 1 > cap) {
				cap *= 2;
			}
			grown = realloc(names, cap);
			if (!grown) {
				free(names);
				errno = ENOMEM;
				return NULL;
			}
			names = grown;
		}
		memcpy(names + used, d->d_name, len);
		used += len;
	}
	names[used] = '\0';
	return names;
}

static int ftw_dir(struct ftw_walk *w, const struct stat *st, struct ftw_dir *parent);

/* One name NAME of directory DIR, the one being walked (glibc's process_entry). */
static int ftw_entry(struct ftw_walk *w, struct ftw_dir *dir, const char *name)
{
	size_t len = strlen(name);
	struct stat st;
	int ret = 0, type;
	const char *vpath;

	if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) {
		return 0;
	}
	if ((size_t)w->ftw.base + len + 2 > w->bufsize) {
		size_t size = 2 * ((size_t)w->ftw.base + len + 2);
		char *grown = realloc(w->buf, size);
		if (!grown) {
			errno = ENOMEM;
			return -1;
		}
		w->buf = grown;
		w->bufsize = size;
	}
	memcpy(w->buf + w->ftw.base, name, len + 1);
	vpath = (w->flags & FTW_CHDIR) ? name : w->buf;

	if (walk_stat(vpath, &st, !(w->flags & FTW_PHYS)) < 0) {
		if (errno != EACCES && errno != ENOENT) {
			return -1;
		}
		type = FTW_NS;
		if (!(w->flags & FTW_PHYS) && walk_stat(vpath, &st, false) == 0 && S_ISLNK(st.st_mode)) {
			type = FTW_SLN;
		}
	} else {
		type = S_ISDIR(st.st_mode) ? FTW_D : S_ISLNK(st.st_mode) ? FTW_SL : FTW_F;
	}

	if (type == FTW_NS || !(w->flags & FTW_MOUNT) || st.st_dev == w->dev) {
		if (type != FTW_D) {
			ret = ftw_call(w, &st, ftw_type(w, type));
		} else if (w->flags & FTW_PHYS) {
			ret = ftw_dir(w, &st, dir);
		} else if (!known_has(&w->known, &st)) {
			ret = known_add(&w->known, &st);
			if (ret == 0) {
				ret = ftw_dir(w, &st, dir);
			}
		}
	}
	if ((w->flags & FTW_ACTIONRETVAL) && ret == FTW_SKIP_SUBTREE) {
		ret = 0;
	}
	return ret;
}

/*
 * The directory in w->buf, of status ST, reached from PARENT's directory (NULL at the
 * start): its FTW_D (or, with FTW_DEPTH, FTW_DP after its entries) or FTW_DNR call,
 * and its entries. Returns 0 to go on, or what ends the walk.
 */
static int ftw_dir(struct ftw_walk *w, const struct stat *st, struct ftw_dir *parent)
{
	struct ftw_dir self = {0};
	int prev_base = w->ftw.base, ret = 0;
	char *names, *name, *end;

	if (ftw_open(w, &self) < 0) {
		return errno == EACCES ? ftw_call(w, st, FTW_DNR) : -1;
	}
	if (!(w->flags & FTW_DEPTH)) {
		ret = ftw_call(w, st, FTW_D);
		if (ret != 0) {
			ftw_close(w, &self);
			return ret;
		}
	}
	if (w->flags & FTW_CHDIR) {
		int r = fvm_fchdir(fvm_dir_fd(self.dir));
		if (r < 0) {
			ftw_close(w, &self);
			errno = -r;
			return -1;
		}
	}

	w->ftw.level++;
	end = w->buf + strlen(w->buf);
	if (end[-1] != '/') {
		*end++ = '/';
	}
	w->ftw.base = (int)(end - w->buf);

	names = ftw_names(self.dir);
	if (!names) {
		ret = -1;
	}
	for (name = names; ret == 0 && name && *name; name += strlen(name) + 1) {
		ret = ftw_entry(w, &self, name);
	}
	if (names) {
		int saved = errno;
		free(names);
		errno = saved;
	}
	ftw_close(w, &self);
	if ((w->flags & FTW_ACTIONRETVAL) && ret == FTW_SKIP_SIBLINGS) {
		ret = 0;
	}

	w->buf[w->ftw.base - 1] = '\0';
	w->ftw.level--;
	w->ftw.base = prev_base;
	if (ret == 0 && (w->flags & FTW_DEPTH)) {
		ret = ftw_call(w, st, FTW_DP);
	}

	if (parent && (w->flags & FTW_CHDIR) &&
	    (ret == 0 || ((w->flags & FTW_ACTIONRETVAL) && ret != -1 && ret != FTW_STOP))) {
		/* Back to the parent: its stream if still open, else "..", as glibc. */
		if (!parent->dir || fvm_fchdir(fvm_dir_fd(parent->dir)) < 0) {
			if (walk_chdir(w->ftw.base == 1 ? "/" : "..") < 0) {
				ret = -1;
			}
		}
	}
	return ret;
}

/* glibc's ftw_startup: the start object, then the walk; the cwd restored. */
static int fvm_ftw(const char *vpath, bool is_nftw, __ftw_func_t fn, __nftw_func_t nfn,
		   int nopenfd, int flags)
{
	struct ftw_walk w = {.flags = flags, .is_nftw = is_nftw, .fn = fn, .nfn = nfn};
	struct stat st;
	int ret = 0, cwdfd = -1, saved;
	size_t len;
	char *end;

	if (!vpath[0]) {
		errno = ENOENT;
		return -1;
	}
	w.maxdir = nopenfd < 1 ? 1 : nopenfd;
	len = strlen(vpath);
	w.bufsize = 2 * len > PATH_MAX ? 2 * len : PATH_MAX;
	w.buf = malloc(w.bufsize);
	w.ring = calloc((size_t)w.maxdir, sizeof(*w.ring));
	if (!w.buf || !w.ring) {
		free(w.buf);
		free(w.ring);
		errno = ENOMEM;
		return -1;
	}
	memcpy(w.buf, vpath, len + 1);
	end = w.buf + len;
	while (end > w.buf + 1 && end[-1] == '/') {
		end--;
	}
	*end = '\0';
	while (end > w.buf && end[-1] != '/') {
		end--;
	}
	w.ftw.base = (int)(end - w.buf);

	if (flags & FTW_CHDIR) {
		/* O_PATH: the way back needs no read permission on the cwd. */
		cwdfd = sys_openat(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		if (cwdfd < 0) {
			errno = -cwdfd;
			ret = -1;
		} else if (w.maxdir > 1) {
			w.maxdir--; /* glibc counts the fd it keeps for the cwd */
		}
		if (ret == 0 && w.ftw.base > 0) {
			if (w.ftw.base == 1) {
				ret = walk_chdir("/");
			} else {
				char c = w.buf[w.ftw.base - 1];
				w.buf[w.ftw.base - 1] = '\0';
				ret = walk_chdir(w.buf);
				w.buf[w.ftw.base - 1] = c;
			}
		}
	}

	if (ret == 0) {
		const char *name = ftw_name(&w);
		if (walk_stat(name, &st, !(flags & FTW_PHYS)) < 0) {
			if (!(flags & FTW_PHYS) && errno == ENOENT && walk_stat(name, &st, false) == 0 &&
			    S_ISLNK(st.st_mode)) {
				ret = ftw_call(&w, &st, ftw_type(&w, FTW_SLN));
			} else {
				ret = -1;
			}
		} else if (S_ISDIR(st.st_mode)) {
			w.dev = st.st_dev;
			if (!(flags & FTW_PHYS)) {
				ret = known_add(&w.known, &st);
			}
			if (ret == 0) {
				ret = ftw_dir(&w, &st, NULL);
			}
		} else {
			ret = ftw_call(&w, &st, ftw_type(&w, S_ISLNK(st.st_mode) ? FTW_SL : FTW_F));
		}
		if ((flags & FTW_ACTIONRETVAL) && (ret == FTW_SKIP_SUBTREE || ret == FTW_SKIP_SIBLINGS)) {
			ret = 0;
		}
	}

	saved = errno;
	if (cwdfd >= 0) {
		fvm_fchdir(cwdfd);
		sys_close(cwdfd);
	}
	free(w.known.slot);
	free(w.ring);
	free(w.buf);
	errno = saved;
	return ret;
}

#define NFTW_FLAGS (FTW_PHYS | FTW_MOUNT | FTW_CHDIR | FTW_DEPTH | FTW_ACTIONRETVAL)

static int fvm_nftw(const char *vpath, __nftw_func_t fn, int nopenfd, int flags)
{
	if (flags & ~NFTW_FLAGS) {
		errno = EINVAL;
		return -1;
	}
	return fvm_ftw(vpath, true, NULL, fn, nopenfd, flags);
}

int ftw(const char *vpath, __ftw_func_t fn, int nopenfd)
{
	if (!fvm_on()) {
		return REAL(ftw)(vpath, fn, nopenfd);
	}
	return fvm_ftw(vpath, false, fn, NULL, nopenfd, 0);
}

int ftw64(const char *vpath, __ftw64_func_t fn, int nopenfd)
{
	if (!fvm_on()) {
		return REAL(ftw64)(vpath, fn, nopenfd);
	}
	return fvm_ftw(vpath, false, (__ftw_func_t)fn, NULL, nopenfd, 0);
}

int nftw(const char *vpath, __nftw_func_t fn, int nopenfd, int flags)
{
	if (!fvm_on()) {
		return REAL(nftw)(vpath, fn, nopenfd, flags);
	}
	return fvm_nftw(vpath, fn, nopenfd, flags);
}

int nftw64(const char *vpath, __nftw64_func_t fn, int nopenfd, int flags)
{
	if (!fvm_on()) {
		return REAL(nftw64)(vpath, fn, nopenfd, flags);
	}
	return fvm_nftw(vpath, (__nftw_func_t)fn, nopenfd, flags);
}

/* ---- fts ------------------------------------------------------------------------- */

/*
 * fts over glibc's public FTS and FTSENT layouts, with glibc 2.36's (4.4BSD) logic:
 * one path buffer shared by every entry (sp->fts_path), entries listed in readdir
 * order unless a compar is given, roots statted at fts_open, FTS_SKIP, FTS_AGAIN,
 * FTS_FOLLOW, FTS_DC by brute force up the parent chain, FTS_DP or FTS_ERR afterwards.
 *
 * This fts never changes the working directory: it acts as if FTS_NOCHDIR were always
 * set, so fts_accpath is fts_path (the name from the cwd at fts_open) where glibc's
 * would be the last name relative to the directory it moved into. fts(3) tells callers
 * to use fts_accpath and not to rely on the current directory during a walk, so such a
 * caller sees no difference: both names reach the same object. What glibc's chdir
 * would make observable is kept: a directory that may be read but not searched yields
 * no entries and an FTS_DP carrying fts_errno (glibc fails to chdir into it), instead
 * of one FTS_NS per entry. fts_options shows what the caller asked (and FTS_NOCHDIR
 * under FTS_LOGICAL, as glibc).
 *
 * The st_nlink shortcut of FTS_NOSTAT|FTS_PHYSICAL is not taken (a merged directory's
 * link count need not count the host's subdirectories); d_type alone decides which
 * entries need no stat. On file systems that report d_type the result is the same.
 */

enum { BCHILD = 1, BNAMES, BREAD };

#define ISSET(sp, opt) ((sp)->fts_options & (opt))
#define ISDOT(a) ((a)[0] == '.' && (!(a)[1] || ((a)[1] == '.' && !(a)[2])))
/* Where a child's name goes after P's path: no doubled slash after "dir/". */
#define NAPPEND(p) ((p)->fts_path[(p)->fts_pathlen - 1] == '/' ? (p)->fts_pathlen - 1 : (p)->fts_pathlen)

typedef int (*fts_compar)(const FTSENT **, const FTSENT **);

static FTSENT *fts_new(FTS *sp, const char *name, size_t len)
{
	size_t size = sizeof(FTSENT) + len;
	FTSENT *p;

	if (!ISSET(sp, FTS_NOSTAT)) {
		size += sizeof(struct stat) + _Alignof(struct stat);
	}
	p = malloc(size);
	if (!p) {
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	memcpy(p->fts_name, name, len);
	p->fts_name[len] = '\0';
	if (!ISSET(sp, FTS_NOSTAT)) {
		uintptr_t at = (uintptr_t)(p->fts_name + len + 1);
		at = (at + _Alignof(struct stat) - 1) & ~(uintptr_t)(_Alignof(struct stat) - 1);
		p->fts_statp = (struct stat *)at;
	}
	p->fts_namelen = (unsigned short)len;
	p->fts_path = sp->fts_path;
	p->fts_instr = FTS_NOINSTR;
	p->fts_symfd = -1;
	return p;
}

static void fts_free_list(FTSENT *head)
{
	while (head) {
		FTSENT *next = head->fts_link;
		free(head);
		head = next;
	}
}

/* Grows the path buffer by MORE (and some); 0, or -1 with errno (buffer freed). */
static int fts_grow(FTS *sp, size_t more)
{
	char *grown;

	sp->fts_pathlen += (int)more + 256;
	if (sp->fts_pathlen < 0 || sp->fts_pathlen >= USHRT_MAX) {
		free(sp->fts_path);
		sp->fts_path = NULL;
		errno = ENAMETOOLONG;
		return -1;
	}
	grown = realloc(sp->fts_path, (size_t)sp->fts_pathlen);
	if (!grown) {
		free(sp->fts_path);
		sp->fts_path = NULL;
		errno = ENOMEM;
		return -1;
	}
	sp->fts_path = grown;
	return 0;
}

/* After the path buffer moved: repoint the entries the caller may still hold. */
static void fts_repoint(FTS *sp, FTSENT *head)
{
	char *addr = sp->fts_path;
	FTSENT *p;

#define REPOINT(p)                                                                  \
	do {                                                                        \
		if ((p)->fts_accpath != (p)->fts_name) {                            \
			(p)->fts_accpath = addr + ((p)->fts_accpath - (p)->fts_path); \
		}                                                                   \
		(p)->fts_path = addr;                                               \
	} while (0)
	for (p = sp->fts_child; p; p = p->fts_link) {
		REPOINT(p);
	}
	for (p = head; p->fts_level >= FTS_ROOTLEVEL;) {
		REPOINT(p);
		p = p->fts_link ? p->fts_link : p->fts_parent;
	}
#undef REPOINT
}

/* Stats P (following links under FTS_LOGICAL or FOLLOW) and returns its fts_info. */
static unsigned short fts_classify(FTS *sp, FTSENT *p, bool follow)
{
	struct stat sb, *sbp = ISSET(sp, FTS_NOSTAT) ? &sb : p->fts_statp;
	int ret;

	if (ISSET(sp, FTS_LOGICAL) || follow) {
		ret = fvm_fstatat(AT_FDCWD, p->fts_accpath, sbp, 0);
		if (ret < 0) {
			int lret = fvm_fstatat(AT_FDCWD, p->fts_accpath, sbp, AT_SYMLINK_NOFOLLOW);
			if (lret == 0) {
				errno = 0;
				return FTS_SLNONE;
			}
			p->fts_errno = -ret;
			errno = -lret;
			memset(sbp, 0, sizeof(*sbp));
			return FTS_NS;
		}
	} else if ((ret = fvm_fstatat(AT_FDCWD, p->fts_accpath, sbp, AT_SYMLINK_NOFOLLOW)) < 0) {
		p->fts_errno = -ret;
		errno = -ret;
		memset(sbp, 0, sizeof(*sbp));
		return FTS_NS;
	}
	if (S_ISDIR(sbp->st_mode)) {
		p->fts_dev = sbp->st_dev;
		p->fts_ino = sbp->st_ino;
		p->fts_nlink = sbp->st_nlink;
		if (ISDOT(p->fts_name)) {
			return FTS_DOT;
		}
		for (FTSENT *t = p->fts_parent; t->fts_level >= FTS_ROOTLEVEL; t = t->fts_parent) {
			if (t->fts_ino == p->fts_ino && t->fts_dev == p->fts_dev) {
				p->fts_cycle = t;
				return FTS_DC;
			}
		}
		return FTS_D;
	}
	return S_ISLNK(sbp->st_mode) ? FTS_SL : S_ISREG(sbp->st_mode) ? FTS_F : FTS_DEFAULT;
}

/* Orders the N entries of list HEAD by the caller's compar (qsort, as glibc). */
static FTSENT *fts_order(FTS *sp, FTSENT *head, int n)
{
	FTSENT **a, *p;

	if (n > sp->fts_nitems) {
		a = realloc(sp->fts_array, (size_t)(n + 40) * sizeof(*a));
		if (!a) {
			free(sp->fts_array);
			sp->fts_array = NULL;
			sp->fts_nitems = 0;
			return head;
		}
		sp->fts_array = a;
		sp->fts_nitems = n + 40;
	}
	a = sp->fts_array;
	for (p = head; p; p = p->fts_link) {
		*a++ = p;
	}
	qsort(sp->fts_array, (size_t)n, sizeof(FTSENT *), sp->fts_compar);
	a = sp->fts_array;
	for (int i = 0; i + 1 < n; i++) {
		a[i]->fts_link = a[i + 1];
	}
	a[n - 1]->fts_link = NULL;
	return a[0];
}

/* True when glibc's chdir into the directory under DIR would fail; errno then set. */
static bool fts_cannot_enter(FTS *sp, DIR *dir)
{
	int fd;

	if (ISSET(sp, FTS_NOCHDIR)) {
		return false;
	}
	/* Looking up "." in it needs search permission, exactly what chdir needs. */
	fd = sys_openat(fvm_dir_fd(dir), ".", O_PATH | O_CLOEXEC, 0);
	if (fd < 0) {
		errno = -fd;
		return true;
	}
	sys_close(fd);
	return false;
}

/*
 * The entries of the current directory sp->fts_cur as a list (glibc's fts_build):
 * TYPE BREAD for fts_read, BCHILD or BNAMES for fts_children. NULL for none or on
 * error: BREAD then records FTS_DNR or FTS_DP in the directory; a fatal error sets
 * FTS_STOP.
 */
static FTSENT *fts_list(FTS *sp, int type)
{
	FTSENT *cur = sp->fts_cur, *head = NULL, *tail = NULL, *p;
	struct dirent64 *d;
	int nlinks, nitems = 0, len, level;
	bool nostat = false, moved = false;
	size_t maxlen;
	char *cp;
	DIR *dir = fvm_opendirat(AT_FDCWD, cur->fts_accpath);

	if (!dir) {
		if (type == BREAD) {
			cur->fts_info = FTS_DNR;
			cur->fts_errno = errno;
		}
		return NULL;
	}
	if (type == BNAMES) {
		nlinks = 0;
	} else if (ISSET(sp, FTS_NOSTAT) && ISSET(sp, FTS_PHYSICAL)) {
		nlinks = (int)cur->fts_nlink - (ISSET(sp, FTS_SEEDOT) ? 0 : 2);
		nostat = true;
	} else {
		nlinks = -1;
	}
	if ((nlinks || type == BREAD) && fts_cannot_enter(sp, dir)) {
		int err = errno;
		if (nlinks && type == BREAD) {
			cur->fts_errno = err;
		}
		cur->fts_flags |= FTS_DONTCHDIR;
		fvm_dir_close(dir);
		dir = NULL;
		errno = err;
	}

	len = NAPPEND(cur);
	cp = sp->fts_path + len;
	*cp++ = '/';
	len++;
	maxlen = (size_t)(sp->fts_pathlen - len);
	level = cur->fts_level + 1;

	while (dir && (d = fvm_dir_read(dir)) != NULL) {
		size_t namelen = strlen(d->d_name);

		if (!ISSET(sp, FTS_SEEDOT) && ISDOT(d->d_name)) {
			continue;
		}
		p = fts_new(sp, d->d_name, namelen);
		if (p && namelen >= maxlen) {
			char *old = sp->fts_path;
			if (fts_grow(sp, namelen + (size_t)len + 1) < 0) {
				free(p);
				p = NULL;
			} else {
				if (old != sp->fts_path) {
					moved = true;
					cp = sp->fts_path + len;
				}
				maxlen = (size_t)(sp->fts_pathlen - len);
			}
		}
		if (!p || (size_t)len + namelen >= USHRT_MAX) {
			int err = p ? ENAMETOOLONG : errno;
			free(p);
			fts_free_list(head);
			fvm_dir_close(dir);
			cur->fts_info = FTS_ERR;
			sp->fts_options |= FTS_STOP;
			errno = err;
			return NULL;
		}
		p->fts_level = (short)level;
		p->fts_parent = sp->fts_cur;
		p->fts_pathlen = (unsigned short)((size_t)len + namelen);
		p->fts_accpath = p->fts_path;
		if (nlinks == 0 || (nostat && d->d_type != DT_DIR && d->d_type != DT_UNKNOWN)) {
			p->fts_info = FTS_NSOK;
		} else {
			memcpy(cp, p->fts_name, namelen + 1);
			p->fts_info = fts_classify(sp, p, false);
		}
		if (head) {
			tail->fts_link = p;
		} else {
			head = p;
		}
		tail = p;
		nitems++;
	}
	if (dir) {
		int saved = errno;
		fvm_dir_close(dir);
		errno = saved;
	}
	if (moved) {
		fts_repoint(sp, head);
	}
	if (len == sp->fts_pathlen || nitems == 0) {
		cp--;
	}
	*cp = '\0';
	if (!nitems) {
		if (type == BREAD) {
			cur->fts_info = FTS_DP;
		}
		return NULL;
	}
	if (sp->fts_compar && nitems > 1) {
		head = fts_order(sp, head, nitems);
	}
	return head;
}

/* The next root P becomes current: its path is its argument, its name the last part. */
static void fts_load(FTS *sp, FTSENT *p)
{
	size_t len = p->fts_namelen;
	char *slash;

	p->fts_pathlen = (unsigned short)len;
	memmove(sp->fts_path, p->fts_name, len + 1);
	slash = strrchr(p->fts_name, '/');
	if (slash && (slash != p->fts_name || slash[1])) {
		len = strlen(++slash);
		memmove(p->fts_name, slash, len + 1);
		p->fts_namelen = (unsigned short)len;
	}
	p->fts_accpath = p->fts_path = sp->fts_path;
	sp->fts_dev = p->fts_dev;
}

static FTS *fvm_fts_open(char *const *argv, int options, fts_compar compar)
{
	FTSENT *parent = NULL, *root = NULL, *tail = NULL, *p;
	size_t maxarg = 0;
	int nitems = 0;
	FTS *sp;

	if (options & ~FTS_OPTIONMASK) {
		errno = EINVAL;
		return NULL;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp) {
		return NULL;
	}
	sp->fts_compar = (int (*)(const void *, const void *))compar;
	sp->fts_options = options;
	sp->fts_rfd = -1; /* never used: this fts does not change directory */
	if (ISSET(sp, FTS_LOGICAL)) {
		sp->fts_options |= FTS_NOCHDIR;
	}
	for (char *const *a = argv; *a; a++) {
		size_t len = strlen(*a);
		maxarg = len > maxarg ? len : maxarg;
	}
	if (fts_grow(sp, maxarg + 1 > 1024 ? maxarg + 1 : 1024) < 0) {
		free(sp);
		return NULL;
	}
	if (*argv) {
		parent = fts_new(sp, "", 0);
		if (!parent) {
			goto fail;
		}
		parent->fts_level = FTS_ROOTPARENTLEVEL;
	}
	for (; *argv; argv++, nitems++) {
		size_t len = strlen(*argv);
		if (len == 0) {
			errno = ENOENT;
			goto fail;
		}
		p = fts_new(sp, *argv, len);
		if (!p) {
			goto fail;
		}
		p->fts_level = FTS_ROOTLEVEL;
		p->fts_parent = parent;
		p->fts_accpath = p->fts_name;
		p->fts_info = fts_classify(sp, p, ISSET(sp, FTS_COMFOLLOW));
		if (p->fts_info == FTS_DOT) {
			p->fts_info = FTS_D; /* "." and ".." named by the caller are directories */
		}
		if (compar) {
			p->fts_link = root; /* reversed, then sorted, as glibc: ties fall alike */
			root = p;
		} else if (root) {
			tail->fts_link = p;
			tail = p;
		} else {
			root = tail = p;
		}
	}
	if (compar && nitems > 1) {
		root = fts_order(sp, root, nitems);
	}
	sp->fts_cur = fts_new(sp, "", 0);
	if (!sp->fts_cur) {
		goto fail;
	}
	sp->fts_cur->fts_link = root;
	sp->fts_cur->fts_info = FTS_INIT;
	return sp;

fail:
	{
		int saved = errno;
		fts_free_list(root);
		free(parent);
		free(sp->fts_array);
		free(sp->fts_path);
		free(sp);
		errno = saved;
	}
	return NULL;
}

/* FTS_FOLLOW on P: re-stat following a symlink. */
static void fts_follow(FTS *sp, FTSENT *p)
{
	p->fts_info = fts_classify(sp, p, true);
}

static FTSENT *fvm_fts_read(FTS *sp)
{
	FTSENT *p, *prev;
	int instr;
	char *t;

	if (!sp->fts_cur || ISSET(sp, FTS_STOP)) {
		return NULL;
	}
	p = sp->fts_cur;
	instr = p->fts_instr;
	p->fts_instr = FTS_NOINSTR;

	if (instr == FTS_AGAIN) {
		p->fts_info = fts_classify(sp, p, false);
		return p;
	}
	if (instr == FTS_FOLLOW && (p->fts_info == FTS_SL || p->fts_info == FTS_SLNONE)) {
		fts_follow(sp, p);
		return p;
	}

	if (p->fts_info == FTS_D) {
		/* Skipped, or across a mount point under FTS_XDEV: straight to post-order. */
		if (instr == FTS_SKIP || (ISSET(sp, FTS_XDEV) && p->fts_dev != sp->fts_dev)) {
			if (sp->fts_child) {
				fts_free_list(sp->fts_child);
				sp->fts_child = NULL;
			}
			p->fts_info = FTS_DP;
			return p;
		}
		/* Names only were read by fts_children: read again, with stat. */
		if (sp->fts_child && ISSET(sp, FTS_NAMEONLY)) {
			sp->fts_options &= ~FTS_NAMEONLY;
			fts_free_list(sp->fts_child);
			sp->fts_child = NULL;
		}
		if (!sp->fts_child) {
			sp->fts_child = fts_list(sp, BREAD);
			if (!sp->fts_child) {
				return ISSET(sp, FTS_STOP) ? NULL : p;
			}
		}
		p = sp->fts_child;
		sp->fts_child = NULL;
		sp->fts_cur = p;
		goto name;
	}

next:
	prev = p;
	p = p->fts_link;
	if (p) {
		sp->fts_cur = p;
		free(prev);
		if (p->fts_level == FTS_ROOTLEVEL) {
			fts_load(sp, p);
			return p;
		}
		if (p->fts_instr == FTS_SKIP) {
			goto next;
		}
		if (p->fts_instr == FTS_FOLLOW) {
			fts_follow(sp, p);
			p->fts_instr = FTS_NOINSTR;
		}
name:
		t = sp->fts_path + NAPPEND(p->fts_parent);
		*t++ = '/';
		memmove(t, p->fts_name, (size_t)p->fts_namelen + 1);
		return p;
	}

	/* The level is done: up to the parent, in post-order. */
	p = prev->fts_parent;
	sp->fts_cur = p;
	free(prev);
	if (p->fts_level == FTS_ROOTPARENTLEVEL) {
		free(p);
		errno = 0; /* the end, told apart from an error */
		sp->fts_cur = NULL;
		return NULL;
	}
	sp->fts_path[p->fts_pathlen] = '\0';
	p->fts_info = p->fts_errno ? FTS_ERR : FTS_DP;
	return p;
}

static FTSENT *fvm_fts_children(FTS *sp, int instr)
{
	FTSENT *p;

	if (instr != 0 && instr != FTS_NAMEONLY) {
		errno = EINVAL;
		return NULL;
	}
	p = sp->fts_cur;
	errno = 0; /* an empty directory, told apart from an error */
	if (ISSET(sp, FTS_STOP)) {
		return NULL;
	}
	if (p->fts_info == FTS_INIT) {
		return p->fts_link;
	}
	if (p->fts_info != FTS_D) {
		return NULL;
	}
	if (sp->fts_child) {
		fts_free_list(sp->fts_child);
	}
	if (instr == FTS_NAMEONLY) {
		sp->fts_options |= FTS_NAMEONLY;
	}
	sp->fts_child = fts_list(sp, instr == FTS_NAMEONLY ? BNAMES : BCHILD);
	return sp->fts_child;
}

static int fvm_fts_set(FTSENT *p, int instr)
{
	if (instr != 0 && instr != FTS_AGAIN && instr != FTS_FOLLOW && instr != FTS_NOINSTR &&
	    instr != FTS_SKIP) {
		errno = EINVAL;
		return 1;
	}
	p->fts_instr = (unsigned short)instr;
	return 0;
}

static int fvm_fts_close(FTS *sp)
{
	if (sp->fts_cur) {
		FTSENT *p = sp->fts_cur;
		/* From the current entry along its level and up: frees every entry held. */
		while (p->fts_level >= FTS_ROOTLEVEL) {
			FTSENT *gone = p;
			p = p->fts_link ? p->fts_link : p->fts_parent;
			free(gone);
		}
		free(p);
	}
	fts_free_list(sp->fts_child);
	free(sp->fts_array);
	free(sp->fts_path);
	free(sp);
	return 0;
}

FTS *fts_open(char *const *argv, int options, int (*compar)(const FTSENT **, const FTSENT **))
{
	if (!fvm_on()) {
		return REAL(fts_open)(argv, options, compar);
	}
	return fvm_fts_open(argv, options, compar);
}

FTSENT *fts_read(FTS *sp)
{
	if (!fvm_on()) {
		return REAL(fts_read)(sp);
	}
	return fvm_fts_read(sp);
}

FTSENT *fts_children(FTS *sp, int instr)
{
	if (!fvm_on()) {
		return REAL(fts_children)(sp, instr);
	}
	return fvm_fts_children(sp, instr);
}

int fts_set(FTS *sp, FTSENT *p, int instr)
{
	if (!fvm_on()) {
		return REAL(fts_set)(sp, p, instr);
	}
	return fvm_fts_set(p, instr);
}

int fts_close(FTS *sp)
{
	if (!fvm_on()) {
		return REAL(fts_close)(sp);
	}
	return fvm_fts_close(sp);
}

_Static_assert(sizeof(FTSENT64) == sizeof(FTSENT) && sizeof(FTS64) == sizeof(FTS), "fts64 layout");

FTS64 *fts64_open(char *const *argv, int options, int (*compar)(const FTSENT64 **, const FTSENT64 **))
{
	if (!fvm_on()) {
		return REAL(fts64_open)(argv, options, compar);
	}
	return (FTS64 *)fvm_fts_open(argv, options, (fts_compar)compar);
}

FTSENT64 *fts64_read(FTS64 *sp)
{
	if (!fvm_on()) {
		return REAL(fts64_read)(sp);
	}
	return (FTSENT64 *)fvm_fts_read((FTS *)sp);
}

FTSENT64 *fts64_children(FTS64 *sp, int instr)
{
	if (!fvm_on()) {
		return REAL(fts64_children)(sp, instr);
	}
	return (FTSENT64 *)fvm_fts_children((FTS *)sp, instr);
}

int fts64_set(FTS64 *sp, FTSENT64 *p, int instr)
{
	if (!fvm_on()) {
		return REAL(fts64_set)(sp, p, instr);
	}
	return fvm_fts_set((FTSENT *)p, instr);
}

int fts64_close(FTS64 *sp)
{
	if (!fvm_on()) {
		return REAL(fts64_close)(sp);
	}
	return fvm_fts_close((FTS *)sp);
}
