/*
 * walk — runs one directory walker over a tree and prints a canonical report, so that
 * a run inside a VM and a native run over the same tree can be compared line by line.
 *
 *   walk scandir|scandir64 DIR [nofilter|filter] [sort|nosort]
 *   walk scandirat DIR
 *   walk glob PATTERN [mark,onlydir,nocheck,period,brace,nomagic,err]
 *   walk oldglob PATTERN        the same through glob@GLIBC_2.2.5 (glob64: glob64)
 *   walk ftw|ftw64 PATH [NOPENFD]      (nftw64: as nftw)
 *   walk nftw PATH [phys,mount,chdir,depth,actionretval] [NOPENFD] [ACTION=NAME...]
 *   walk oldnftw PATH           nftw@GLIBC_2.2.5, flags 0
 *   walk fts PATH... -- [physical,logical,comfollow,nochdir,nostat,seedot,xdev,
 *                        sort,fts64] [ACTION=NAME...]   fts64: the fts64_* names
 *
 * nftw actions: stop=NAME skipsub=NAME skipsib=NAME (returned when the base is NAME).
 * fts actions: skip=NAME again=NAME follow=NAME children=NAME names=NAME.
 *
 * Where a walker's order is readdir order (which a merged listing need not share with
 * the host file system) events are printed sorted by path, each with a check that the
 * real order respected the tree (pre-order before, post-order after the entries).
 * Under fts's "sort" (a compar by name) the order is the API's own and printed as is.
 * Errors print as errno names. Never prints inode or device numbers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int oldglob(const char *, int, int (*)(const char *, int), glob_t *);
int oldnftw(const char *, __nftw_func_t, int, int);
__asm__(".symver oldglob,glob@GLIBC_2.2.5");
__asm__(".symver oldnftw,nftw@GLIBC_2.2.5");

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";
	return n ? n : "E?";
}

static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && (p = strstr(p, word)); p += n) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
			return 1;
		}
	}
	return 0;
}

/* ---- events, printed sorted by path ---------------------------------------------- */

struct event {
	char *path;
	char *line;
	long seq;
	int pre, post; /* 1 for a directory's pre-order / post-order event */
};
static struct event *ev;
static size_t nev, cap;
static long seq;

static void add_event(const char *path, int pre, int post, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_event(const char *path, int pre, int post, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (nev == cap) {
		cap = cap ? cap * 2 : 64;
		ev = realloc(ev, cap * sizeof(*ev));
	}
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0) {
		abort();
	}
	va_end(ap);
	ev[nev++] = (struct event){strdup(path), line, seq++, pre, post};
}

static int by_path(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* True when P lies strictly beneath directory D. */
static int beneath(const char *p, const char *d)
{
	size_t n = strlen(d);
	if (n && d[n - 1] == '/') {
		n--;
	}
	return strncmp(p, d, n) == 0 && p[n] == '/' && p[n + 1];
}

static void print_events(int sorted)
{
	long bad = 0;

	for (size_t i = 0; i < nev; i++) {
		for (size_t j = 0; j < nev; j++) {
			if (beneath(ev[j].path, ev[i].path) &&
			    ((ev[i].pre && ev[j].seq < ev[i].seq) || (ev[i].post && ev[j].seq > ev[i].seq))) {
				bad++;
				printf("order: %s came %s %s\n", ev[j].path, ev[i].pre ? "before" : "after",
				       ev[i].path);
			}
		}
	}
	if (sorted) {
		qsort(ev, nev, sizeof(*ev), by_path);
	}
	for (size_t i = 0; i < nev; i++) {
		printf("%s\n", ev[i].line);
	}
	printf("events %zu, order %s\n", nev, bad ? "broken" : "ok");
}

static char stat_type(const struct stat *st)
{
	return S_ISDIR(st->st_mode) ? 'd' : S_ISLNK(st->st_mode) ? 'l' : S_ISREG(st->st_mode) ? 'f' : '?';
}

/* ---- scandir --------------------------------------------------------------------- */

static int no_x(const struct dirent *d)
{
	errno = EINVAL; /* scandir must not take a filter's errno for a failure */
	return d->d_name[0] != 'x';
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_dirents(struct dirent **v, int n, int sorted)
{
	char **names = malloc(sizeof(*names) * (size_t)(n ? n : 1));
	for (int i = 0; i < n; i++) {
		names[i] = v[i]->d_name;
	}
	if (!sorted) {
		qsort(names, (size_t)n, sizeof(*names), cmp_str);
	}
	for (int i = 0; i < n; i++) {
		printf("  %s\n", names[i]);
	}
	for (int i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
	free(names);
}

static int do_scandir(int argc, char **argv)
{
	int filter = argc > 3 && strcmp(argv[3], "filter") == 0;
	int sort = !(argc > 4 && strcmp(argv[4], "nosort") == 0);
	struct dirent **v;
	int n;

	errno = 1234;
	if (strcmp(argv[1], "scandir64") == 0) {
		n = scandir64(argv[2], (struct dirent64 ***)&v, filter ? (int (*)(const struct dirent64 *))no_x : NULL,
			      sort ? (int (*)(const struct dirent64 **, const struct dirent64 **))by_name : NULL);
	} else {
		n = scandir(argv[2], &v, filter ? no_x : NULL, sort ? by_name : NULL);
	}
	if (n < 0) {
		printf("scandir -1 %s\n", ename(errno));
		return 0;
	}
	printf("scandir %d errno-kept %s\n", n, errno == 1234 ? "yes" : "no");
	print_dirents(v, n, sort);
	return 0;
}

static int do_scandirat(char **argv)
{
	struct dirent64 **v;
	int dfd = open(".", O_RDONLY | O_DIRECTORY), n;

	n = scandirat64(dfd, argv[2], &v, NULL, NULL);
	if (n < 0) {
		printf("scandirat -1 %s\n", ename(errno));
		return 0;
	}
	printf("scandirat %d\n", n);
	print_dirents((struct dirent **)v, n, 0);
	close(dfd);
	return 0;
}

/* ---- glob ------------------------------------------------------------------------ */

static int glob_err(const char *path, int err)
{
	printf("  errfunc %s %s\n", path, ename(err));
	return 0;
}

static const struct { const char *name; int flag; } glob_flags[] = {
	{"mark", GLOB_MARK}, {"onlydir", GLOB_ONLYDIR}, {"nocheck", GLOB_NOCHECK},
	{"period", GLOB_PERIOD}, {"brace", GLOB_BRACE}, {"nomagic", GLOB_NOMAGIC},
};

static int do_glob(int argc, char **argv, int old)
{
	glob_t g;
	int flags = 0, ret;
	const char *opts = argc > 3 ? argv[3] : "";

	for (size_t i = 0; i < sizeof(glob_flags) / sizeof(glob_flags[0]); i++) {
		if (has_word(opts, glob_flags[i].name)) {
			flags |= glob_flags[i].flag;
		}
	}
	memset(&g, 0, sizeof(g));
	if (old == 2) {
		ret = glob64(argv[2], flags, has_word(opts, "err") ? glob_err : NULL, (glob64_t *)&g);
	} else {
		ret = (old ? oldglob : glob)(argv[2], flags, has_word(opts, "err") ? glob_err : NULL, &g);
	}
	printf("glob %d pathc %zu altdirfunc-visible %s\n", ret, g.gl_pathc,
	       (g.gl_flags & GLOB_ALTDIRFUNC) ? "yes" : "no");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		printf("  %s\n", g.gl_pathv[i]);
	}
	globfree(&g);
	return 0;
}

/* ---- ftw, nftw ------------------------------------------------------------------- */

static const char *ftw_name(int type)
{
	static const char *names[] = {"F", "D", "DNR", "NS", "SL", "DP", "SLN"};
	return type >= 0 && type <= FTW_SLN ? names[type] : "?";
}

static char **actions;
static int nactions, use_chdir;
static size_t top_len; /* the start cwd's length, cut from getcwd in reports */

static const char *action_for(const char *base)
{
	for (int i = 0; i < nactions; i++) {
		const char *eq = strchr(actions[i], '=');
		if (eq && actions[i][0] != 'A' && strcmp(eq + 1, base) == 0) {
			return actions[i];
		}
	}
	return NULL;
}

/* Under FTW_CHDIR: where the callback runs, and whether the base names the object. */
static void chdir_report(char *buf, size_t len, const char *base, const struct stat *st, int type)
{
	char cwd[4096];
	struct stat here;

	if (!getcwd(cwd, sizeof(cwd))) {
		snprintf(buf, len, " cwd=%s", ename(errno));
		return;
	}
	int ok = type == FTW_NS || type == FTW_DP ||
		 (lstat(base, &here) == 0 && (here.st_ino == st->st_ino || S_ISLNK(here.st_mode)));
	snprintf(buf, len, " cwd=.%s base-here=%s", cwd + (strlen(cwd) >= top_len ? top_len : 0),
		 ok ? "yes" : "no");
}

static int nftw_cb(const char *path, const struct stat *st, int type, struct FTW *f)
{
	const char *base = path + f->base, *act = action_for(base);
	char where[4200] = "";

	if (use_chdir) {
		chdir_report(where, sizeof(where), base, st, type);
	}
	add_event(path, type == FTW_D, type == FTW_DP, "%s %s level=%d base=%s %c%s", path,
		  ftw_name(type), f->level, base,
		  type == FTW_NS ? '-' : stat_type(st), where);
	if (act && strncmp(act, "stop=", 5) == 0) {
		return FTW_STOP;
	}
	if (act && strncmp(act, "skipsub=", 8) == 0) {
		return FTW_SKIP_SUBTREE;
	}
	if (act && strncmp(act, "skipsib=", 8) == 0) {
		return FTW_SKIP_SIBLINGS;
	}
	return 0;
}

static int ftw_cb(const char *path, const struct stat *st, int type)
{
	add_event(path, type == FTW_D, 0, "%s %s %c", path, ftw_name(type),
		  type == FTW_NS ? '-' : stat_type(st));
	return 0;
}

static const struct { const char *name; int flag; } nftw_flags[] = {
	{"phys", FTW_PHYS}, {"mount", FTW_MOUNT}, {"chdir", FTW_CHDIR},
	{"depth", FTW_DEPTH}, {"actionretval", FTW_ACTIONRETVAL}, {"bogus", 0x4000},
};

static int do_nftw(int argc, char **argv, int mode)
{
	int flags = 0, nopenfd = 20, ret;
	const char *opts = argc > 3 ? argv[3] : "";
	char cwd[4096];

	if (getcwd(cwd, sizeof(cwd))) {
		top_len = strlen(cwd);
	}
	for (size_t i = 0; i < sizeof(nftw_flags) / sizeof(nftw_flags[0]); i++) {
		if (has_word(opts, nftw_flags[i].name)) {
			flags |= nftw_flags[i].flag;
		}
	}
	if (argc > 4) {
		nopenfd = atoi(argv[4]);
	}
	actions = argv + 5;
	nactions = argc > 5 ? argc - 5 : 0;
	use_chdir = !!(flags & FTW_CHDIR);
	errno = 0;
	if (mode == 0) {
		ret = ftw(argv[2], ftw_cb, argc > 3 ? atoi(argv[3]) : 20);
	} else if (mode == 3) {
		ret = ftw64(argv[2], (__ftw64_func_t)ftw_cb, argc > 3 ? atoi(argv[3]) : 20);
	} else if (mode == 4) {
		ret = nftw64(argv[2], (__nftw64_func_t)nftw_cb, nopenfd, flags);
	} else if (mode == 2) {
		ret = oldnftw(argv[2], nftw_cb, nopenfd, flags);
	} else {
		ret = nftw(argv[2], nftw_cb, nopenfd, flags);
	}
	print_events(1);
	printf("%s %d %s\n", mode == 0 || mode == 3 ? "ftw" : "nftw", ret, ret == -1 ? ename(errno) : "");
	if (getcwd(cwd, sizeof(cwd))) {
		printf("cwd after %s\n", strlen(cwd) == top_len ? "restored" : cwd);
	}
	return 0;
}

/* ---- fts ------------------------------------------------------------------------- */

static const char *fts_info_name(int info)
{
	static const char *names[] = {"?", "D", "DC", "DEFAULT", "DNR", "DOT", "DP", "ERR",
				      "F", "INIT", "NS", "NSOK", "SL", "SLNONE", "W"};
	return info >= 0 && info <= FTS_W ? names[info] : "?";
}

/* The fts calls, through the fts64_* names when "fts64" is asked. */
static int use64;

static FTS *x_fts_open(char *const *paths, int opts, int (*cmp)(const FTSENT **, const FTSENT **))
{
	return use64 ? (FTS *)fts64_open(paths, opts, (int (*)(const FTSENT64 **, const FTSENT64 **))cmp)
		     : fts_open(paths, opts, cmp);
}

static FTSENT *x_fts_read(FTS *f)
{
	return use64 ? (FTSENT *)fts64_read((FTS64 *)f) : fts_read(f);
}

static FTSENT *x_fts_children(FTS *f, int instr)
{
	return use64 ? (FTSENT *)fts64_children((FTS64 *)f, instr) : fts_children(f, instr);
}

static int x_fts_set(FTS *f, FTSENT *p, int instr)
{
	return use64 ? fts64_set((FTS64 *)f, (FTSENT64 *)p, instr) : fts_set(f, p, instr);
}

static int x_fts_close(FTS *f)
{
	return use64 ? fts64_close((FTS64 *)f) : fts_close(f);
}

static int fts_by_name(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

static void fts_list_children(FTS *fts, int instr, int sorted)
{
	FTSENT *c;
	char **lines = NULL;
	size_t n = 0;

	errno = 0;
	c = x_fts_children(fts, instr);
	if (!c) {
		printf("    children none %s\n", ename(errno));
		return;
	}
	for (; c; c = c->fts_link) {
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		if (asprintf(&lines[n++], "    child %s %s level=%d", c->fts_name,
			     fts_info_name(c->fts_info), c->fts_level) < 0) {
			abort();
		}
	}
	if (!sorted) {
		qsort(lines, n, sizeof(*lines), cmp_str);
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", lines[i]);
		free(lines[i]);
	}
	free(lines);
}

static const struct { const char *name; int flag; } fts_flags[] = {
	{"physical", FTS_PHYSICAL}, {"logical", FTS_LOGICAL}, {"comfollow", FTS_COMFOLLOW},
	{"nochdir", FTS_NOCHDIR}, {"nostat", FTS_NOSTAT}, {"seedot", FTS_SEEDOT},
	{"xdev", FTS_XDEV}, {"bogus", 0x4000},
};

static int do_fts(int argc, char **argv)
{
	int i = 2, opts = 0, sorted;
	char **paths = argv + 2;
	const char *words = "";
	FTSENT *p;
	FTS *fts;

	while (i < argc && strcmp(argv[i], "--") != 0) {
		i++;
	}
	if (i < argc) {
		argv[i++] = NULL;
		words = i < argc ? argv[i++] : "";
	}
	actions = argv + i;
	nactions = argc - i;
	for (size_t k = 0; k < sizeof(fts_flags) / sizeof(fts_flags[0]); k++) {
		if (has_word(words, fts_flags[k].name)) {
			opts |= fts_flags[k].flag;
		}
	}
	sorted = has_word(words, "sort");
	use64 = has_word(words, "fts64");
	fts = x_fts_open(paths, opts, sorted ? fts_by_name : NULL);
	if (!fts) {
		printf("fts_open NULL %s\n", ename(errno));
		return 0;
	}
	if (has_word(words, "rootlist")) {
		printf("roots before read:\n");
		fts_list_children(fts, 0, 1);
	}
	if (x_fts_set(fts, NULL, 77) != 1 || errno != EINVAL) {
		printf("fts_set accepted a bad instruction\n");
	}
	while ((errno = 0, p = x_fts_read(fts)) != NULL) {
		const char *act = action_for(p->fts_name);
		char extra[256] = "";
		struct stat st;
		int has_stat = !(opts & FTS_NOSTAT) && p->fts_info != FTS_NS && p->fts_info != FTS_NSOK &&
			       p->fts_info != FTS_DNR && p->fts_info != FTS_ERR && p->fts_info != FTS_DP;

		if (p->fts_info == FTS_D) {
			p->fts_number = seq + 1;
		}
		if (p->fts_info == FTS_DP) {
			snprintf(extra, sizeof(extra), " number-kept=%s", p->fts_number ? "yes" : "no");
		}
		if (p->fts_info == FTS_DC) {
			snprintf(extra, sizeof(extra), " cycle=%s", p->fts_cycle ? p->fts_cycle->fts_name : "NULL");
		}
		/* fts_accpath must reach the object fts_statp describes. */
		if (has_stat && p->fts_info != FTS_SLNONE && p->fts_info != FTS_DOT) {
			int r = (p->fts_info == FTS_SL) ? lstat(p->fts_accpath, &st) : stat(p->fts_accpath, &st);
			if (r != 0 || st.st_ino != p->fts_statp->st_ino) {
				strcat(extra, " accpath=BAD");
			}
		}
		add_event(p->fts_path, p->fts_info == FTS_D, p->fts_info == FTS_DP || p->fts_info == FTS_ERR,
			  "%s %s level=%d name=%s parent=%s errno=%s len=%s%s%s", p->fts_path,
			  fts_info_name(p->fts_info), p->fts_level, p->fts_name,
			  p->fts_level > 0 ? p->fts_parent->fts_name : "-", ename(p->fts_errno),
			  p->fts_pathlen == strlen(p->fts_path) && p->fts_namelen == strlen(p->fts_name) ? "ok" : "BAD",
			  extra, has_stat ? (char[]){' ', stat_type(p->fts_statp), '\0'} : "");
		if (sorted) {
			printf("%s\n", ev[nev - 1].line);
		}
		if (!act || p->fts_info == FTS_DP) {
			continue;
		}
		if (strncmp(act, "skip=", 5) == 0) {
			x_fts_set(fts, p, FTS_SKIP);
		} else if (strncmp(act, "again=", 6) == 0) {
			((char *)act)[0] = 'A'; /* once: "Again=" matches no more */
			x_fts_set(fts, p, FTS_AGAIN);
		} else if (strncmp(act, "follow=", 7) == 0) {
			((char *)act)[0] = 'A';
			x_fts_set(fts, p, FTS_FOLLOW);
		} else if (strncmp(act, "children=", 9) == 0 || strncmp(act, "names=", 6) == 0) {
			printf("  children of %s:\n", p->fts_path);
			fts_list_children(fts, act[0] == 'n' ? FTS_NAMEONLY : 0, sorted);
		}
	}
	printf("fts_read end %s\n", ename(errno));
	if (!sorted) {
		print_events(1);
	} else {
		printf("events %zu\n", nev);
	}
	printf("fts_close %d\n", x_fts_close(fts));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: walk scandir|scandirat|glob|oldglob|ftw|nftw|oldnftw|fts ARGS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "scandir") == 0 || strcmp(argv[1], "scandir64") == 0) {
		return do_scandir(argc, argv);
	} else if (strcmp(argv[1], "scandirat") == 0) {
		return do_scandirat(argv);
	} else if (strcmp(argv[1], "glob") == 0 || strcmp(argv[1], "oldglob") == 0) {
		return do_glob(argc, argv, argv[1][0] == 'o');
	} else if (strcmp(argv[1], "glob64") == 0) {
		return do_glob(argc, argv, 2);
	} else if (strcmp(argv[1], "ftw64") == 0) {
		return do_nftw(argc, argv, 3);
	} else if (strcmp(argv[1], "nftw64") == 0) {
		return do_nftw(argc, argv, 4);
	} else if (strcmp(argv[1], "ftw") == 0) {
		return do_nftw(argc, argv, 0);
	} else if (strcmp(argv[1], "nftw") == 0) {
		return do_nftw(argc, argv, 1);
	} else if (strcmp(argv[1], "oldnftw") == 0) {
		return do_nftw(argc, argv, 2);
	} else if (strcmp(argv[1], "fts") == 0) {
		return do_fts(argc, argv);
	}
	fprintf(stderr, "walk: unknown walker %s\n", argv[1]);
	return 2;
}
