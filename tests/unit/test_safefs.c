/*
 * test_safefs.c — the store as untrusted input (store/safefs.c): no link is followed on
 * the way or at the end, nothing leaves its directory, a control file is read only as a
 * bounded regular file (a FIFO is refused, never waited on), temporaries are fresh,
 * removal and walks never cross a link; and the registry's field escape (core
 * escape.c, ipcreg.c) keeps a name with spaces in one field.
 */
#include "fixture.h"

#include <errno.h>

#include "fvm/escape.h"
#include "fvm/ipcname.h"
#include "store/safefs.h"

/* BASE/d with d/sub/file, d/link -> BASE/host (a "host" directory holding victim). */
static int planted(struct fx *f)
{
	char p[PATH_MAX + 32];
	fx_fmt(p, sizeof(p), "%s/d/sub", f->base);
	fx_mkdirs(p);
	fx_fmt(p, sizeof(p), "%s/d/sub/file", f->base);
	fx_put(p, "data");
	fx_host_file(f, "victim", "precious");
	fx_fmt(p, sizeof(p), "%s/d/link", f->base);
	assert_int_equal(symlink(f->host, p), 0);
	fx_fmt(p, sizeof(p), "%s/d", f->base);
	int fd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static void openat_follows_no_link_and_stays_beneath(void **state)
{
	struct fx *f = *state;
	int d = planted(f), fd;

	fd = safe_openat(d, "sub/file", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(safe_openat(d, "link/victim", O_RDONLY, 0), -ELOOP);
	assert_int_equal(safe_openat(d, "link", O_RDONLY, 0), -ELOOP);
	assert_int_equal(safe_openat(d, "../host/victim", O_RDONLY, 0), -EXDEV);
	/* A leading slash is beneath the directory too, not the root. */
	fd = safe_openat(d, "/sub/file", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	close(d);
}

/* The same refusals without openat2 (older kernels). */
static void component_walk_follows_no_link_and_stays_beneath(void **state)
{
	struct fx *f = *state;
	int d = planted(f), fd;

	fd = safe_openat_walk(d, "sub/file", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(safe_openat_walk(d, "link/victim", O_RDONLY, 0), -ENOTDIR);
	assert_int_equal(safe_openat_walk(d, "link", O_RDONLY, 0), -ELOOP);
	assert_int_equal(safe_openat_walk(d, "sub/../../host/victim", O_RDONLY, 0), -EXDEV);
	close(d);
}

static void open_parent_gives_the_last_component(void **state)
{
	struct fx *f = *state;
	const char *base;
	int d = planted(f), p;

	p = safe_open_parent(d, "/sub/file", &base);
	assert_true(p >= 0);
	assert_string_equal(base, "file");
	close(p);
	assert_int_equal(safe_open_parent(d, "/link/victim", &base), -ELOOP);
	assert_int_equal(safe_open_parent(d, "/", &base), -EINVAL);
	assert_int_equal(safe_open_parent(d, "/sub/..", &base), -EINVAL);
	close(d);
}

static void read_file_takes_only_bounded_regular_files(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 32], *buf;
	size_t len;
	int d = planted(f);

	assert_int_equal(safe_read_file(d, "sub/file", 64, &buf, &len), 0);
	assert_int_equal(len, 4);
	assert_string_equal(buf, "data");
	free(buf);
	assert_int_equal(safe_read_file(d, "sub/file", 3, &buf, &len), -EFBIG);
	assert_int_equal(safe_read_file(d, "sub", 64, &buf, &len), -EFTYPE_SAFE);
	assert_int_equal(safe_read_file(d, "none", 64, &buf, &len), -ENOENT);
	fx_fmt(p, sizeof(p), "%s/d/fifo", f->base);
	assert_int_equal(mkfifo(p, 0600), 0);
	/* No writer: a blocking open would hang here forever. */
	assert_int_equal(safe_read_file(d, "fifo", 64, &buf, &len), -EFTYPE_SAFE);
	fx_fmt(p, sizeof(p), "%s/d/zero", f->base);
	assert_int_equal(symlink("/dev/zero", p), 0);
	assert_int_equal(safe_read_file(d, "zero", 64, &buf, &len), -ELOOP);
	close(d);
}

static void temporaries_are_fresh_and_never_follow_a_link(void **state)
{
	struct fx *f = *state;
	char a[NAME_MAX + 1], b[NAME_MAX + 1];
	int d = planted(f);
	int fa = safe_temp_create(d, "conf", 0600, a, sizeof(a));
	int fb = safe_temp_create(d, "conf", 0600, b, sizeof(b));

	assert_true(fa >= 0 && fb >= 0);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, ".conf.tmp.", 10), 0);
	assert_int_equal(strlen(a), 10 + 16);
	close(fa);
	close(fb);
	close(d);
}

static int count(int pfd, const char *name, const struct stat *st, int depth, void *arg)
{
	(void)pfd, (void)name, (void)st, (void)depth;
	++*(int *)arg;
	return 0;
}

static void rm_tree_and_walk_never_cross_a_link(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 32];
	int d = planted(f), n = 0;

	/* d, sub, file, link: the link is an entry, the host behind it is not walked. */
	fx_fmt(p, sizeof(p), "%s", f->base);
	int base = open(p, O_RDONLY | O_DIRECTORY);
	assert_int_equal(safe_walk(base, "d", count, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(safe_rm_tree(base, "d", NULL, NULL), 0);
	fx_fmt(p, sizeof(p), "%s/d", f->base);
	assert_false(fx_exists(p));
	fx_host(f, "victim", p, sizeof(p));
	assert_string_equal(fx_get(p), "precious");
	assert_int_equal(safe_rm_tree(base, "d", NULL, NULL), 0); /* gone: no error */
	close(base);
	close(d);
}

static void registry_fields_keep_spaces_and_refuse_extra_fields(void **state)
{
	char esc[64], line[160], *kind, *mapped, *orig;
	(void)state;
	assert_true(fvm_escape_field("a b\tc\\", esc, sizeof(esc)) > 0);
	assert_null(strchr(esc, ' '));
	assert_null(strchr(esc, '\t'));
	snprintf(line, sizeof(line), "mq fvm.x.1.%s %s", esc, esc);
	assert_true(fvm_ipc_parse_line(line, &kind, &mapped, &orig));
	assert_string_equal(kind, "mq");
	assert_string_equal(mapped, "fvm.x.1.a b\tc\\");
	assert_string_equal(orig, "a b\tc\\");
	/* The old, unescaped form of a name with a space is not three fields: ignored. */
	snprintf(line, sizeof(line), "mq fvm.x.1.a b a b");
	assert_false(fvm_ipc_parse_line(line, &kind, &mapped, &orig));
	/* The plain escape of other files does not take the field escapes. */
	snprintf(line, sizeof(line), "a\\sb");
	assert_int_equal(fvm_unescape(line), -EINVAL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		fx_test(openat_follows_no_link_and_stays_beneath),
		fx_test(component_walk_follows_no_link_and_stays_beneath),
		fx_test(open_parent_gives_the_last_component),
		fx_test(read_file_takes_only_bounded_regular_files),
		fx_test(temporaries_are_fresh_and_never_follow_a_link),
		fx_test(rm_tree_and_walk_never_cross_a_link),
		cmocka_unit_test(registry_fields_keep_spaces_and_refuse_extra_fields),
	};
	return FX_MAIN(tests);
}
