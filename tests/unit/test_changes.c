/*
 * test_changes.c — what a VM changed (store/changes.c): A, M and D from the upper layer
 * against the host, once per path and sorted, what differs in an M, a type change as D
 * then A, and a scan restricted to some paths.
 */
#include "fixture.h"

#include <sys/xattr.h>

#include "fvm/layout.h"
#include "store/changes.h"

static void added_modified_and_deleted_are_reported_sorted(void **state)
{
	struct fx *f = *state;
	fx_host_file(f, "mod", "host");
	fx_host_file(f, "del", "host");
	fx_host_file(f, "same", "host");
	fx_copy_up(f, "mod");
	fx_copy_up(f, "same");
	fx_upper_file(f, "mod", "vm");
	fx_remove(f, "del", false);
	fx_upper_dir(f, "add/inner");
	/* A copy-up that changed nothing is no change; a new directory's children are A. */
	assert_string_equal(fx_changes(f), "A add\nA add/inner\nD del\nM mod\n");
}

static void a_modification_says_what_differs(void **state)
{
	struct fx *f = *state;
	char h[PATH_MAX], u[PATH_MAX * 2];
	struct stat hst, ust;
	fx_host(f, "file", h, sizeof(h));
	fx_put(h, "same");
	fx_copy_up(f, "file");
	fx_upper(f, "file", u, sizeof(u));
	assert_int_equal(lstat(h, &hst), 0);
	assert_int_equal(lstat(u, &ust), 0);
	assert_int_equal(fvm_changes_compare(h, &hst, AT_FDCWD, u, &ust), 0);

	assert_int_equal(chmod(u, 0600), 0);
	fx_put(u, "diff");
	assert_int_equal(lstat(u, &ust), 0);
	unsigned what = fvm_changes_compare(h, &hst, AT_FDCWD, u, &ust);
	assert_true(what & FVM_DIFF_CONTENT);
	assert_true(what & FVM_DIFF_MODE);
	assert_true(what & FVM_DIFF_TIMES);
	assert_false(what & FVM_DIFF_TYPE);
	/* fvm's own identity mark on the copy is no difference. */
	assert_false(what & FVM_DIFF_XATTRS);
	if (lsetxattr(u, "user.test", "1", 1, 0) == 0) {
		assert_true(fvm_changes_compare(h, &hst, AT_FDCWD, u, &ust) & FVM_DIFF_XATTRS);
	}
}

static void a_file_replaced_by_a_directory_is_deleted_then_added(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2];
	fx_host_file(f, "x", "file");
	fx_remove(f, "x", false);
	fx_upper(f, "x", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	assert_string_equal(fx_changes(f), "D x\nA x\n");
	struct fvm_changes ch;
	char *paths[] = {p};
	fx_host(f, "x", p, sizeof(p));
	assert_int_equal(fvm_changes_scan(f->upper, paths, 1, &ch), 0);
	assert_int_equal(ch.n, 2);
	assert_string_equal(fvm_change_type_name(ch.v[0].host.st_mode), "file");
	assert_string_equal(fvm_change_type_name(ch.v[1].upper.st_mode), "dir");
	fvm_changes_free(&ch);
}

static void a_deleted_directory_is_one_line(void **state)
{
	struct fx *f = *state;
	fx_host_dir(f, "tree/a/b");
	fx_host_file(f, "tree/a/b/leaf", "leaf");
	fx_copy_up(f, "tree");
	fx_upper_file(f, "tree/.wh.a", "");
	assert_string_equal(fx_changes(f), "D tree/a\n");
}

static void a_scan_can_be_restricted_to_paths(void **state)
{
	struct fx *f = *state;
	char one[PATH_MAX];
	struct fvm_changes ch;
	fx_upper_dir(f, "one/x");
	fx_upper_dir(f, "two/y");
	fx_host(f, "one", one, sizeof(one));
	char *paths[] = {one};
	assert_int_equal(fvm_changes_scan(f->upper, paths, 1, &ch), 0);
	assert_int_equal(ch.n, 2);
	assert_string_equal(ch.v[1].vpath + strlen(f->host), "/one/x");
	fvm_changes_free(&ch);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		fx_test(added_modified_and_deleted_are_reported_sorted),
		fx_test(a_modification_says_what_differs),
		fx_test(a_file_replaced_by_a_directory_is_deleted_then_added),
		fx_test(a_deleted_directory_is_one_line),
		fx_test(a_scan_can_be_restricted_to_paths),
	};
	return FX_MAIN(tests);
}
