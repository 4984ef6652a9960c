/*
 * identity.c — what programs that compare file identities (vim, SQLite, git, tar)
 * see: runs one scenario and prints, for every way of asking a file's (st_dev,
 * st_ino), whether the answer is the same as a reference taken before. Numbers are
 * never printed, only relations, so that a run natively and a run inside a VM over an
 * identical tree print the same lines.
 *
 *   identity rewrite FILE     stat FILE, open it for writing (vim's E949 check: fstat of
 *                             the new fd), append, then every view against the stat
 *   identity dbopen FILE      SQLite: a read fd opened first, then a read-write one;
 *                             fstat of each against stat of the name (fileHasMoved)
 *   identity link A B         link A to B: both names, fds and d_ino against A's stat
 *   identity new F OTHER      create F: its views agree, and it is not OTHER
 *
 * Exit status 0 when the scenario ran (relations are in the output), 1 on a failed
 * call (printed with its errno name), 2 on bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct ident {
	dev_t dev;
	ino_t ino;
};

static void die(const char *what, const char *arg)
{
	printf("%s %s: %s\n", what, arg, strerrorname_np(errno));
	exit(1);
}

static struct ident of_stat(const struct stat *st)
{
	return (struct ident){st->st_dev, st->st_ino};
}

static void rel(const char *view, struct ident got, struct ident ref)
{
	printf("%s: %s\n", view, got.dev == ref.dev && got.ino == ref.ino ? "same" : "differs");
}

/* The d_ino of PATH's entry in its directory (readdir), 0 when it is not listed. */
static ino_t dir_ino(const char *path)
{
	char dbuf[4096], bbuf[4096];
	DIR *d;
	struct dirent *e;
	ino_t ino = 0;

	snprintf(dbuf, sizeof(dbuf), "%s", path);
	snprintf(bbuf, sizeof(bbuf), "%s", path);
	d = opendir(dirname(dbuf));
	if (!d) {
		die("opendir", path);
	}
	const char *base = basename(bbuf);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, base) == 0) {
			ino = e->d_ino;
		}
	}
	closedir(d);
	return ino;
}

/* Every view of PATH's identity, each against REF, labelled TAG. */
static void views(const char *tag, const char *path, struct ident ref)
{
	char label[256];
	struct stat st;
	struct statx stx;
	int fd;

#define VIEW(name, call, id)                                                     \
	do {                                                                     \
		if ((call) < 0) {                                                \
			die(name, path);                                         \
		}                                                                \
		snprintf(label, sizeof(label), "%s %s", tag, name);              \
		rel(label, id, ref);                                             \
	} while (0)
	VIEW("stat", stat(path, &st), of_stat(&st));
	VIEW("lstat", lstat(path, &st), of_stat(&st));
	VIEW("fstatat", fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW), of_stat(&st));
	VIEW("statx", statx(AT_FDCWD, path, 0, STATX_INO, &stx),
	     ((struct ident){makedev(stx.stx_dev_major, stx.stx_dev_minor), stx.stx_ino}));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		die("open", path);
	}
	VIEW("fstat", fstat(fd, &st), of_stat(&st));
	VIEW("fstatat-empty-path", fstatat(fd, "", &st, AT_EMPTY_PATH), of_stat(&st));
	VIEW("statx-fd", statx(fd, "", AT_EMPTY_PATH, STATX_INO, &stx),
	     ((struct ident){makedev(stx.stx_dev_major, stx.stx_dev_minor), stx.stx_ino}));
	close(fd);
	snprintf(label, sizeof(label), "%s d_ino", tag);
	printf("%s: %s\n", label, dir_ino(path) == ref.ino ? "same" : "differs");
#undef VIEW
}

static int rewrite(const char *path)
{
	struct stat st0, st;
	int fd;

	if (stat(path, &st0) < 0) {
		die("stat", path);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		die("open for writing", path);
	}
	if (fstat(fd, &st) < 0) {
		die("fstat", path);
	}
	rel("fstat of the write fd", of_stat(&st), of_stat(&st0));
	if (write(fd, "appended\n", 9) != 9) {
		die("write", path);
	}
	if (fstat(fd, &st) < 0) {
		die("fstat", path);
	}
	rel("fstat after the write", of_stat(&st), of_stat(&st0));
	close(fd);
	views("after", path, of_stat(&st0));
	return 0;
}

static int dbopen(const char *path)
{
	struct stat st0, a, b, name;
	int rfd = open(path, O_RDONLY | O_CLOEXEC), wfd;

	if (rfd < 0 || fstat(rfd, &st0) < 0) {
		die("open", path);
	}
	wfd = open(path, O_RDWR | O_CLOEXEC);
	if (wfd < 0) {
		die("open read-write", path);
	}
	if (pwrite(wfd, "W", 1, 0) != 1 || fstat(rfd, &a) < 0 || fstat(wfd, &b) < 0 ||
	    stat(path, &name) < 0) {
		die("write and stat", path);
	}
	rel("read fd vs name", of_stat(&a), of_stat(&name));
	rel("read-write fd vs name", of_stat(&b), of_stat(&name));
	rel("name vs before", of_stat(&name), of_stat(&st0));
	return 0;
}

static int do_link(const char *a, const char *b)
{
	struct stat st0, sa, sb;

	if (stat(a, &st0) < 0) {
		die("stat", a);
	}
	if (link(a, b) < 0) {
		die("link", b);
	}
	views("old name", a, of_stat(&st0));
	views("new name", b, of_stat(&st0));
	if (stat(a, &sa) < 0 || stat(b, &sb) < 0) {
		die("stat", b);
	}
	printf("link counts: %lu %lu\n", (unsigned long)sa.st_nlink, (unsigned long)sb.st_nlink);
	return 0;
}

static int new_file(const char *path, const char *other)
{
	struct stat st, so;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 || fstat(fd, &st) < 0) {
		die("create", path);
	}
	close(fd);
	views("new file", path, of_stat(&st));
	if (stat(other, &so) < 0) {
		die("stat", other);
	}
	printf("new file vs %s: %s\n", other,
	       st.st_dev == so.st_dev && st.st_ino == so.st_ino ? "equal" : "distinct");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "rewrite") == 0) {
		return rewrite(argv[2]);
	}
	if (argc == 3 && strcmp(argv[1], "dbopen") == 0) {
		return dbopen(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "link") == 0) {
		return do_link(argv[2], argv[3]);
	}
	if (argc == 4 && strcmp(argv[1], "new") == 0) {
		return new_file(argv[2], argv[3]);
	}
	fprintf(stderr, "usage: identity rewrite FILE | dbopen FILE | link A B | new F OTHER\n");
	return 2;
}
