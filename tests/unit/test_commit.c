/*
 * test_commit.c — fvm commit as a function (store/commit.c and its steps): changes
 * reach the host and leave the VM, conflicts are skipped unless forced, a dry run
 * changes nothing, PATHs select a subtree with the new directories it needs, and an
 * interrupted commit is finished from its journal.
 */
#include "fixture.h"

#include <errno.h>
#include <sys/xattr.h>

#include "fvm/layout.h"
#include "store/commit.h"
#include "store/commit_steps.h"
#include "store/journal.h"

/* Host: mod, del, keep; VM: mod changed, del deleted, new/file added. */
static void some_changes(struct fx *f)
{
	fx_host_file(f, "mod", "host");
	fx_host_file(f, "del", "host");
	fx_host_file(f, "keep", "host");
	fx_copy_up(f, "mod");
	fx_upper_file(f, "mod", "vm");
	fx_remove(f, "del", false);
	fx_upper_dir(f, "new");
	fx_upper_file(f, "new/file", "new");
}

/* What the last commit() printed on stdout (its plan or summary). */
static char printed[4096];

/* Runs fvm_commit on the fixture's VM, its stdout kept in PRINTED. Returns its status. */
static int commit(struct fx *f, bool dry_run, bool force, char **paths, size_t npaths)
{
	struct commit_opts o = {.dry_run = dry_run, .force = force, .paths = paths, .npaths = npaths};
	char out[PATH_MAX + 16];
	int saved, fd, rc;

	fx_fmt(out, sizeof(out), "%s/stdout", f->base);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	rc = fvm_commit(f->vmdir, &o);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	snprintf(printed, sizeof(printed), "%s", fx_get(out));
	return rc;
}

static void commit_applies_every_change_and_empties_the_vm(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2];
	some_changes(f);
	assert_string_equal(fx_changes(f), "D del\nM mod\nA new\nA new/file\n");
	assert_int_equal(commit(f, false, false, NULL, 0), 0);
	assert_string_equal(printed, "committed 4 changes\n");
	fx_host(f, "mod", p, sizeof(p));
	assert_string_equal(fx_get(p), "vm");
	fx_host(f, "del", p, sizeof(p));
	assert_false(fx_exists(p));
	fx_host(f, "new/file", p, sizeof(p));
	assert_string_equal(fx_get(p), "new");
	fx_host(f, "keep", p, sizeof(p));
	assert_string_equal(fx_get(p), "host");
	assert_string_equal(fx_changes(f), "");
	assert_false(journal_exists(f->vmdir));
	/* fvm's identity mark on the upper copy never reaches the host. */
	fx_host(f, "mod", p, sizeof(p));
	assert_true(lgetxattr(p, FVM_ORIGIN_XATTR, NULL, 0) < 0);
}

static void a_dry_run_changes_nothing(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2];
	some_changes(f);
	assert_int_equal(commit(f, true, false, NULL, 0), 0);
	assert_non_null(strstr(printed, "M "));
	assert_non_null(strstr(printed, "would commit 4 changes, 0 conflicts\n"));
	fx_host(f, "mod", p, sizeof(p));
	assert_string_equal(fx_get(p), "host");
	assert_string_equal(fx_changes(f), "D del\nM mod\nA new\nA new/file\n");
	assert_false(journal_exists(f->vmdir));
}

static void a_host_change_since_copy_up_is_a_conflict_unless_forced(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2];
	some_changes(f);
	fx_host_file(f, "mod", "host changed meanwhile");
	fx_host(f, "mod", p, sizeof(p));
	assert_int_equal(commit(f, false, false, NULL, 0), 1);
	assert_string_equal(printed, "committed 3 changes, 1 conflict skipped\n");
	assert_string_equal(fx_get(p), "host changed meanwhile");
	assert_string_equal(fx_changes(f), "M mod\n"); /* the rest went */
	assert_int_equal(commit(f, false, true, NULL, 0), 0);
	assert_string_equal(fx_get(p), "vm");
	assert_string_equal(fx_changes(f), "");
}

static void paths_select_a_subtree_and_the_new_directories_it_needs(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2], sel[PATH_MAX];
	some_changes(f);
	fx_upper_file(f, "new/other", "other");
	fx_host(f, "new/file", sel, sizeof(sel));
	char *paths[] = {sel};
	assert_int_equal(commit(f, false, false, paths, 1), 0);
	fx_host(f, "new/file", p, sizeof(p));
	assert_string_equal(fx_get(p), "new");
	fx_host(f, "new/other", p, sizeof(p));
	assert_false(fx_exists(p));
	assert_string_equal(fx_changes(f), "D del\nM mod\nA new/other\n");
}

static void an_interrupted_commit_is_finished_from_its_journal(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2], tmp[PATH_MAX * 2], mod[PATH_MAX];
	some_changes(f);
	/* A commit of "mod" killed after its journal and a temporary were written. */
	fx_host(f, "mod", mod, sizeof(mod));
	char *paths[] = {mod};
	struct journal_change ch = {.idx = 1, .kind = 'M', .vpath = mod};
	struct journal j = {.id = "abc123", .paths = paths, .npaths = 1, .changes = &ch, .nchanges = 1};
	assert_int_equal(journal_write(f->vmdir, &j), 0);
	assert_int_equal(commit_temp_name(mod, "abc123", 1, tmp, sizeof(tmp)), 0);
	fx_put(tmp, "half");

	assert_int_equal(commit(f, false, false, NULL, 0), 0); /* no PATH: only the finish */
	assert_false(fx_exists(tmp));
	assert_false(journal_exists(f->vmdir));
	assert_string_equal(fx_get(mod), "vm");
	/* The journal's selection, not everything: the other changes stay in the VM. */
	assert_string_equal(fx_changes(f), "D del\nA new\nA new/file\n");
	fx_host(f, "new", p, sizeof(p));
	assert_false(fx_exists(p));
}

static void a_damaged_journal_stops_the_commit(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 32];
	some_changes(f);
	fx_fmt(p, sizeof(p), "%s/%s", f->ctl, JOURNAL_FILE);
	fx_put(p, "not a journal\n");
	assert_int_equal(commit(f, false, false, NULL, 0), 1);
	assert_string_equal(fx_changes(f), "D del\nM mod\nA new\nA new/file\n");
	assert_true(journal_exists(f->vmdir));
}

static void user_xattrs_are_committed_with_the_file(void **state)
{
	struct fx *f = *state;
	char h[PATH_MAX], u[PATH_MAX * 2], val[8] = "";
	fx_host(f, "x", h, sizeof(h));
	fx_put(h, "host");
	fx_copy_up(f, "x");
	fx_upper(f, "x", u, sizeof(u));
	if (lsetxattr(u, "user.fvmtest", "v1", 2, 0) < 0) {
		skip(); /* the scratch filesystem has no user xattrs */
	}
	assert_int_equal(commit(f, false, false, NULL, 0), 0);
	assert_int_equal(lgetxattr(h, "user.fvmtest", val, sizeof(val)), 2);
	assert_memory_equal(val, "v1", 2);
	assert_string_equal(fx_changes(f), "");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		fx_test(commit_applies_every_change_and_empties_the_vm),
		fx_test(a_dry_run_changes_nothing),
		fx_test(a_host_change_since_copy_up_is_a_conflict_unless_forced),
		fx_test(paths_select_a_subtree_and_the_new_directories_it_needs),
		fx_test(an_interrupted_commit_is_finished_from_its_journal),
		fx_test(a_damaged_journal_stops_the_commit),
		fx_test(user_xattrs_are_committed_with_the_file),
	};
	return FX_MAIN(tests);
}
