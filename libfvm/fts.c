/*
 * fts.c — fts_open, fts_read, fts_children, fts_set, fts_close and their 64 names
 * over the VM's merged listings (the walkers' rules: walk.h). Near 700 lines, kept
 * whole: every part works on the one shared path buffer (NAPPEND, fts_grow,
 * fts_repoint) and the entry layout, which splitting would have to export.
 *
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
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "walk.h"

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

/* A directory's entries being listed by fts_list(). */
struct fts_build {
	FTS *sp;
	FTSENT *head, *tail;
	int nitems, nlinks, len, level;
	bool nostat, moved;
	size_t maxlen;
	char *cp;            /* where a child's name goes in sp->fts_path */
	int err;             /* the fatal error that stopped the listing */
};

/* Adds entry D to the list (glibc's fts_build loop body). 0, or 1 with b->err. */
static int fts_add(const struct dirent64 *d, void *arg)
{
	struct fts_build *b = arg;
	FTS *sp = b->sp;
	size_t namelen = strlen(d->d_name);
	FTSENT *p;

	if (!ISSET(sp, FTS_SEEDOT) && ISDOT(d->d_name)) {
		return 0;
	}
	p = fts_new(sp, d->d_name, namelen);
	if (p && namelen >= b->maxlen) {
		char *old = sp->fts_path;
		if (fts_grow(sp, namelen + (size_t)b->len + 1) < 0) {
			free(p);
			p = NULL;
		} else {
			if (old != sp->fts_path) {
				b->moved = true;
				b->cp = sp->fts_path + b->len;
			}
			b->maxlen = (size_t)(sp->fts_pathlen - b->len);
		}
	}
	if (!p || (size_t)b->len + namelen >= USHRT_MAX) {
		b->err = p ? ENAMETOOLONG : errno;
		free(p);
		return 1;
	}
	p->fts_level = (short)b->level;
	p->fts_parent = sp->fts_cur;
	p->fts_pathlen = (unsigned short)((size_t)b->len + namelen);
	p->fts_accpath = p->fts_path;
	if (b->nlinks == 0 || (b->nostat && d->d_type != DT_DIR && d->d_type != DT_UNKNOWN)) {
		p->fts_info = FTS_NSOK;
	} else {
		memcpy(b->cp, p->fts_name, namelen + 1);
		p->fts_info = fts_classify(sp, p, false);
	}
	if (b->head) {
		b->tail->fts_link = p;
	} else {
		b->head = p;
	}
	b->tail = p;
	b->nitems++;
	return 0;
}

/*
 * The entries of the current directory sp->fts_cur as a list (glibc's fts_build):
 * TYPE BREAD for fts_read, BCHILD or BNAMES for fts_children. NULL for none or on
 * error: BREAD then records FTS_DNR or FTS_DP in the directory; a fatal error sets
 * FTS_STOP.
 */
static FTSENT *fts_list(FTS *sp, int type)
{
	FTSENT *cur = sp->fts_cur;
	struct fts_build b = {.sp = sp};
	DIR *dir = fvm_opendirat(AT_FDCWD, cur->fts_accpath);

	if (!dir) {
		if (type == BREAD) {
			cur->fts_info = FTS_DNR;
			cur->fts_errno = errno;
		}
		return NULL;
	}
	if (type == BNAMES) {
		b.nlinks = 0;
	} else if (ISSET(sp, FTS_NOSTAT) && ISSET(sp, FTS_PHYSICAL)) {
		b.nlinks = (int)cur->fts_nlink - (ISSET(sp, FTS_SEEDOT) ? 0 : 2);
		b.nostat = true;
	} else {
		b.nlinks = -1;
	}
	if ((b.nlinks || type == BREAD) && fts_cannot_enter(sp, dir)) {
		int err = errno;
		if (b.nlinks && type == BREAD) {
			cur->fts_errno = err;
		}
		cur->fts_flags |= FTS_DONTCHDIR;
		fvm_dir_close(dir);
		dir = NULL;
		errno = err;
	}

	b.len = NAPPEND(cur);
	b.cp = sp->fts_path + b.len;
	*b.cp++ = '/';
	b.len++;
	b.maxlen = (size_t)(sp->fts_pathlen - b.len);
	b.level = cur->fts_level + 1;

	if (dir && fvm_walk_each(dir, fts_add, &b) == 1) {
		fts_free_list(b.head);
		fvm_dir_close(dir);
		cur->fts_info = FTS_ERR;
		sp->fts_options |= FTS_STOP;
		errno = b.err;
		return NULL;
	}
	if (dir) {
		int saved = errno;
		fvm_dir_close(dir);
		errno = saved;
	}
	if (b.moved) {
		fts_repoint(sp, b.head);
	}
	if (b.len == sp->fts_pathlen || b.nitems == 0) {
		b.cp--;
	}
	*b.cp = '\0';
	if (!b.nitems) {
		if (type == BREAD) {
			cur->fts_info = FTS_DP;
		}
		return NULL;
	}
	if (sp->fts_compar && b.nitems > 1) {
		b.head = fts_order(sp, b.head, b.nitems);
	}
	return b.head;
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
