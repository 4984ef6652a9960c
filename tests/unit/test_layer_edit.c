/*
 * test_layer_edit.c — the view-preserving edits of the upper layer (store/layer_edit.c):
 * deopaque keeps what the VM sees while each change gets an upper entry of its own,
 * prune removes only what changes nothing, discard lets the host show through again.
 */
#include "fixture.h"

#include <errno.h>

#include "fvm/layout.h"
#include "store/layer_edit.h"
#include "store/progress.h"

/* Host: d/{a, b, sub/{s1}}; VM: d made opaque, with d/c and an empty d/sub of its own. */
static void opaque_dir_over_host_dir(struct fx *f)
{
	char p[PATH_MAX * 2];
	fx_host_dir(f, "d/sub");
	fx_host_file(f, "d/sub/s1", "s1");
	fx_host_file(f, "d/a", "a");
	fx_host_file(f, "d/b", "b");
	fx_copy_up(f, "d/a"); /* d's ancestors come up as the core copies them */
	fx_upper(f, "d/a", p, sizeof(p));
	assert_int_equal(unlink(p), 0);
	fx_upper(f, "d/" FVM_WH_OPAQUE, p, sizeof(p));
	fx_put(p, "");
	fx_upper_file(f, "d/c", "c");
	fx_upper(f, "d/sub", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
}

static void deopaque_keeps_the_view_and_gives_each_change_an_entry(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2], before[8192];
	opaque_dir_over_host_dir(f);
	snprintf(before, sizeof(before), "%s", fx_changes(f));
	assert_string_equal(before, "D d/a\nD d/b\nA d/c\nD d/sub/s1\n");

	assert_int_equal(layer_deopaque(f->upper, NULL, 0), 0);
	assert_string_equal(fx_changes(f), before);
	fx_upper(f, "d/" FVM_WH_OPAQUE, p, sizeof(p));
	assert_false(fx_exists(p));
	fx_upper(f, "d/.wh.a", p, sizeof(p));
	assert_true(fx_exists(p));
	fx_upper(f, "d/.wh.b", p, sizeof(p));
	assert_true(fx_exists(p));
	/*
	 * An upper directory over a host directory goes on hiding the host's entries: the
	 * marker pushed down onto it becomes whiteouts in its turn.
	 */
	fx_upper(f, "d/sub/.wh.s1", p, sizeof(p));
	assert_true(fx_exists(p));
	fx_upper(f, "d/sub/" FVM_WH_OPAQUE, p, sizeof(p));
	assert_false(fx_exists(p));
}

static void deopaque_leaves_directories_outside_the_paths_alone(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2], other[PATH_MAX];
	opaque_dir_over_host_dir(f);
	fx_host(f, "elsewhere", other, sizeof(other));
	char *paths[] = {other};
	assert_int_equal(layer_deopaque(f->upper, paths, 1), 0);
	fx_upper(f, "d/" FVM_WH_OPAQUE, p, sizeof(p));
	assert_true(fx_exists(p));
}

static void prune_removes_only_what_changes_nothing(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2];
	fx_host_dir(f, "keep");
	fx_host_file(f, "keep/f", "host");
	fx_host_dir(f, "same");
	fx_host_file(f, "same/g", "g");
	fx_copy_up(f, "keep/f");
	fx_copy_up(f, "same/g");
	fx_upper(f, "same/g", p, sizeof(p));
	assert_int_equal(unlink(p), 0); /* upper/same is now an empty copy of the host's */
	fx_upper(f, "keep/.wh.gone", p, sizeof(p));
	fx_put(p, ""); /* hides nothing: the host has no keep/gone */
	fx_upper_file(f, "keep/f", "changed");
	const char *before = "M keep/f\n";
	assert_string_equal(fx_changes(f), before);

	assert_int_equal(layer_prune(f->upper), 0);
	assert_string_equal(fx_changes(f), before);
	fx_upper(f, "keep/.wh.gone", p, sizeof(p));
	assert_false(fx_exists(p));
	fx_upper(f, "same", p, sizeof(p));
	assert_false(fx_exists(p));
	fx_upper(f, "keep/f", p, sizeof(p));
	assert_string_equal(fx_get(p), "changed");
	assert_true(fx_exists(f->upper)); /* upper/ itself stays */
}

static void discard_lets_the_host_show_through_again(void **state)
{
	struct fx *f = *state;
	char vpath[PATH_MAX];
	struct progress prog;
	fx_host_file(f, "f", "host");
	fx_host_file(f, "gone", "host");
	fx_copy_up(f, "f");
	fx_upper_file(f, "f", "vm");
	fx_remove(f, "gone", false);
	fx_upper_dir(f, "new/deeper");
	assert_string_equal(fx_changes(f), "M f\nD gone\nA new\nA new/deeper\n");

	progress_start(&prog, "test", 0);
	fx_host(f, "f", vpath, sizeof(vpath));
	assert_int_equal(layer_discard(f->upper, vpath, &prog), 0);
	fx_host(f, "gone", vpath, sizeof(vpath));
	assert_int_equal(layer_discard(f->upper, vpath, &prog), 0);
	assert_int_equal(prog.done, 2); /* one step per entry removed */
	assert_string_equal(fx_changes(f), "A new\nA new/deeper\n");
	fx_host(f, "new", vpath, sizeof(vpath));
	assert_int_equal(layer_discard(f->upper, vpath, &prog), 0);
	assert_int_equal(prog.done, 4);
	assert_string_equal(fx_changes(f), "");
	/* Nothing left to discard is no error. */
	assert_int_equal(layer_discard(f->upper, vpath, &prog), 0);
}

static void discard_of_the_root_empties_upper_but_keeps_it(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2];
	struct progress prog;
	fx_host_file(f, "f", "host");
	fx_copy_up(f, "f");
	progress_start(&prog, "test", 0);
	assert_int_equal(layer_discard(f->upper, "/", &prog), 0);
	assert_true(prog.done > 2);
	assert_true(fx_exists(f->upper));
	assert_string_equal(fx_changes(f), "");
	fx_upper(f, "", p, sizeof(p));
	assert_false(fx_exists(p));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		fx_test(deopaque_keeps_the_view_and_gives_each_change_an_entry),
		fx_test(deopaque_leaves_directories_outside_the_paths_alone),
		fx_test(prune_removes_only_what_changes_nothing),
		fx_test(discard_lets_the_host_show_through_again),
		fx_test(discard_of_the_root_empties_upper_but_keeps_it),
	};
	return FX_MAIN(tests);
}
