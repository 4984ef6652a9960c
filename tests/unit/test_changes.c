/*
 * test_changes.c — what a VM changed (store/changes.c): A, M and D from the upper layer
 * against the host, once per path and sorted, what differs in an M, a type change as D
 * then A, a scan restricted to some paths, a change found by its path, and what a change
 * grants (FVM_PRIV_*).
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
	/* Found by path: the first of the two, the D; a path with no change is past the end. */
	assert_int_equal(fvm_changes_find(&ch, p), 0);
	assert_int_equal(fvm_changes_find(&ch, "/no/such"), ch.n);
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

/* fvm_change_privilege of a change of KIND with the given modes and owners. */
static unsigned priv_of(char kind, mode_t hmode, uid_t huid, mode_t umode, uid_t uuid, const struct stat *parent)
{
	struct fvm_change ch = {.kind = kind};

	ch.host.st_mode = hmode;
	ch.host.st_uid = ch.host.st_gid = huid;
	ch.upper.st_mode = umode;
	ch.upper.st_uid = ch.upper.st_gid = uuid;
	return fvm_change_privilege(&ch, AT_FDCWD, "/nonexistent/fvm-test", parent);
}

static void privilege_is_set_id_bits_caps_root_owner_and_devices(void **state)
{
	struct fx *f = *state;
	struct stat theirs = {.st_uid = 1000, .st_gid = 1000}, roots = {0};
	(void)f;
	/* Set-id bits, added or kept; setuid means nothing on a directory. */
	assert_int_equal(priv_of('A', 0, 0, S_IFREG | 04755, 1000, &theirs), FVM_PRIV_SETUID);
	assert_int_equal(priv_of('M', S_IFREG | 04755, 1000, S_IFREG | 04755, 1000, NULL), FVM_PRIV_SETUID);
	assert_int_equal(priv_of('A', 0, 0, S_IFDIR | 04755, 1000, &theirs), 0);
	assert_int_equal(priv_of('A', 0, 0, S_IFDIR | 02755, 1000, &theirs), FVM_PRIV_SETGID);
	assert_int_equal(priv_of('A', 0, 0, S_IFLNK | 06777, 1000, &theirs), 0);
	/* Owner: becoming root counts; staying root, or landing among root's, does not. */
	assert_int_equal(priv_of('M', S_IFREG | 0644, 1000, S_IFREG | 0644, 0, NULL), FVM_PRIV_ROOT);
	assert_int_equal(priv_of('M', S_IFREG | 0644, 0, S_IFREG | 0600, 0, NULL), 0);
	assert_int_equal(priv_of('A', 0, 0, S_IFREG | 0644, 0, &theirs), FVM_PRIV_ROOT);
	assert_int_equal(priv_of('A', 0, 0, S_IFREG | 0644, 0, &roots), 0);
	assert_int_equal(priv_of('A', 0, 0, S_IFREG | 0644, 0, NULL), 0);
	/* Device nodes; a deletion grants nothing. */
	assert_int_equal(priv_of('A', 0, 0, S_IFBLK | 0600, 1000, &theirs), FVM_PRIV_DEVICE);
	assert_int_equal(priv_of('D', S_IFREG | 04755, 0, 0, 0, NULL), 0);
}

static void a_scan_marks_file_capabilities(void **state)
{
	struct fx *f = *state;
	char u[PATH_MAX * 2];
	struct fvm_changes ch;
	/* VFS v2 capabilities: cap_net_raw, effective. */
	static const unsigned char cap[20] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x20};

	char h[PATH_MAX];
	char *paths[] = {h};

	fx_upper_dir(f, "");
	fx_upper_file(f, "capped", "x");
	fx_upper(f, "capped", u, sizeof(u));
	if (lsetxattr(u, "security.capability", cap, sizeof(cap), 0) < 0) {
		skip(); /* setting security.* needs CAP_SETFCAP */
	}
	fx_host(f, "capped", h, sizeof(h));
	assert_int_equal(fvm_changes_scan(f->upper, paths, 1, &ch), 0);
	assert_int_equal(ch.n, 1);
	assert_true(ch.v[0].priv & FVM_PRIV_CAPS);
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
		fx_test(privilege_is_set_id_bits_caps_root_owner_and_devices),
		fx_test(a_scan_marks_file_capabilities),
	};
	return FX_MAIN(tests);
}
