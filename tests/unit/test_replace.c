/*
 * test_replace.c — reuse_or_create (store/replace.c), the temporary that the run
 * records and the history recycle from an old file: an old regular file of one link is
 * taken (emptied, its inode kept); a FIFO, a link or a file missing gives a new file
 * made O_EXCL, without hanging and without touching what a link points at (a hard
 * link's other name keeps its contents).
 */
#include "fixture.h"

#include <errno.h>

#include "store/replace.h"

static int dir_of(const struct fx *f)
{
	int d = open(f->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d >= 0);
	return d;
}

static void an_old_regular_file_is_taken_and_emptied(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 16];
	struct stat before, after;
	const char *const olds[] = {"gone", "old"};
	size_t taken = 9;
	int d = dir_of(f), fd;

	fx_fmt(p, sizeof(p), "%s/old", f->base);
	fx_put(p, "last run's record");
	assert_int_equal(stat(p, &before), 0);
	fd = reuse_or_create(d, olds, 2, "tmp", &taken);
	assert_true(fd >= 0);
	assert_int_equal(taken, 1); /* "gone" was not there to rename */
	assert_int_equal(fstat(fd, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_size, 0);
	assert_false(fx_exists(p));
	close(fd);
	close(d);
}

static void a_fifo_or_link_gives_a_new_file(void **state)
{
	struct fx *f = *state;
	char fifo[PATH_MAX + 16], link[PATH_MAX + 16], victim[PATH_MAX + 16];
	const char *const olds[] = {"fifo", "link"};
	struct stat st;
	size_t taken = 0;
	int d = dir_of(f), fd;

	fx_fmt(fifo, sizeof(fifo), "%s/fifo", f->base);
	fx_fmt(link, sizeof(link), "%s/link", f->base);
	fx_host_file(f, "victim", "precious");
	fx_host(f, "victim", victim, sizeof(victim));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(victim, link), 0);
	fd = reuse_or_create(d, olds, 2, "tmp", &taken); /* the FIFO is opened O_NONBLOCK */
	assert_true(fd >= 0);
	assert_int_equal(taken, 2);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_nlink, 1);
	assert_string_equal(fx_get(victim), "precious");
	assert_int_equal(fstatat(d, "tmp", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);
	close(d);
}

/* A hard link planted as the oldest record: its other name keeps its contents. */
static void a_hard_link_keeps_its_target(void **state)
{
	struct fx *f = *state;
	char old[PATH_MAX + 16], victim[PATH_MAX + 16];
	const char *const olds[] = {"old"};
	struct stat st;
	int d = dir_of(f), fd;

	fx_host_file(f, "victim", "precious");
	fx_host(f, "victim", victim, sizeof(victim));
	fx_fmt(old, sizeof(old), "%s/old", f->base);
	assert_int_equal(link(victim, old), 0);
	fd = reuse_or_create(d, olds, 1, "tmp", NULL);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(st.st_size, 0);
	assert_string_equal(fx_get(victim), "precious");
	close(fd);
	close(d);
}

static void nothing_to_take_replaces_a_stale_temporary(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 16];
	struct stat st;
	int d = dir_of(f), fd;

	fx_fmt(p, sizeof(p), "%s/tmp", f->base);
	fx_put(p, "a crashed writer's");
	fd = reuse_or_create(d, NULL, 0, "tmp", NULL);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd);
	assert_int_equal(reuse_or_create(-1, NULL, 0, "tmp", NULL), -EBADF);
	close(d);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		fx_test(an_old_regular_file_is_taken_and_emptied),
		fx_test(a_fifo_or_link_gives_a_new_file),
		fx_test(a_hard_link_keeps_its_target),
		fx_test(nothing_to_take_replaces_a_stale_temporary),
	};
	return FX_MAIN(tests);
}
