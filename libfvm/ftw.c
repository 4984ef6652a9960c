/*
 * ftw.c — ftw, nftw and their 64 names over the VM's merged listings (the walkers'
 * rules: walk.h).
 *
 * The walk follows glibc's io/ftw.c step for step, because programs observe its
 * details: the start name loses its trailing slashes; a directory's stream is opened
 * before its FTW_D call and read after it; at most NOPENFD streams stay open (the
 * one NOPENFD levels up is read into memory and closed, and FTW_CHDIR then climbs
 * back with chdir("..")); without FTW_PHYS every directory is visited once, by
 * device and inode; a stat error other than ENOENT or EACCES ends the walk with -1.
 * Here each directory's names are read in full once its FTW_D call returns (a merged
 * listing is built whole anyway), so the stream only serves FTW_CHDIR's way back.
 */
#include <string.h>

#include "walk.h"

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

/* The names of a directory, NUL-separated, being collected. */
struct names {
	char *buf;
	size_t used, cap;
};

static int names_add(const struct dirent64 *d, void *arg)
{
	struct names *nm = arg;
	size_t len = strlen(d->d_name) + 1;

	if (nm->used + len + 1 > nm->cap) {
		size_t cap = nm->cap;
		char *grown;
		while (nm->used + len + 1 > cap) {
			cap *= 2;
		}
		grown = realloc(nm->buf, cap);
		if (!grown) {
			return ENOMEM;
		}
		nm->buf = grown;
		nm->cap = cap;
	}
	memcpy(nm->buf + nm->used, d->d_name, len);
	nm->used += len;
	return 0;
}

/*
 * The names of DIR, NUL-separated, ending with an empty name; NULL with errno. A
 * failed read ends the list where it failed, as glibc's readdir loop does.
 */
static char *ftw_names(DIR *dir)
{
	struct names nm = {.cap = 1024};

	nm.buf = malloc(nm.cap);
	if (!nm.buf) {
		return NULL;
	}
	if (fvm_walk_each(dir, names_add, &nm) == ENOMEM) {
		free(nm.buf);
		errno = ENOMEM;
		return NULL;
	}
	nm.buf[nm.used] = '\0';
	return nm.buf;
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

	if (fvm_walk_stat(vpath, &st, !(w->flags & FTW_PHYS)) < 0) {
		if (errno != EACCES && errno != ENOENT) {
			return -1;
		}
		type = FTW_NS;
		if (!(w->flags & FTW_PHYS) && fvm_walk_stat(vpath, &st, false) == 0 && S_ISLNK(st.st_mode)) {
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
		if (fvm_walk_stat(name, &st, !(flags & FTW_PHYS)) < 0) {
			if (!(flags & FTW_PHYS) && errno == ENOENT && fvm_walk_stat(name, &st, false) == 0 &&
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
