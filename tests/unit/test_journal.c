/*
 * test_journal.c — the commit journal (store/journal.c): written and read back whole,
 * malformed journals refused with the line that is wrong, never half-read.
 */
#include "fixture.h"

#include <errno.h>

#include "store/journal.h"

static void journal_round_trips_ids_options_paths_and_changes(void **state)
{
	struct fx *f = *state;
	char *paths[] = {"/a dir", "/with\nnewline"};
	struct journal_change ch[] = {{.idx = 0, .kind = 'D', .vpath = "/a dir/old"},
				      {.idx = 7, .kind = 'A', .vpath = "/back\\slash"}};
	struct journal w = {.id = "65a1f00dbeef", .force = true, .paths = paths, .npaths = 2,
			    .changes = ch, .nchanges = 2};
	struct journal r;

	assert_false(journal_exists(f->vmdir));
	assert_int_equal(journal_write(f->vmdir, &w), 0);
	assert_true(journal_exists(f->vmdir));
	assert_int_equal(journal_read(f->vmdir, &r), 0);
	assert_string_equal(r.id, "65a1f00dbeef");
	assert_true(r.force);
	assert_int_equal(r.npaths, 2);
	assert_string_equal(r.paths[1], "/with\nnewline");
	assert_int_equal(r.nchanges, 2);
	assert_int_equal(r.changes[1].idx, 7);
	assert_int_equal(r.changes[1].kind, 'A');
	assert_string_equal(r.changes[1].vpath, "/back\\slash");
	journal_free(&r);
	assert_int_equal(journal_remove(f->vmdir), 0);
	assert_false(journal_exists(f->vmdir));
	assert_int_equal(journal_read(f->vmdir, &r), -ENOENT);
}

static void write_refuses_what_the_format_cannot_hold(void **state)
{
	struct fx *f = *state;
	char *rel[] = {"relative"};
	struct journal_change bad_kind = {.idx = 1, .kind = 'X', .vpath = "/x"};
	struct journal w = {.id = "../../etc"};

	assert_int_equal(journal_write(f->vmdir, &w), -EINVAL); /* an id names files */
	snprintf(w.id, sizeof(w.id), "abc");
	w.paths = rel;
	w.npaths = 1;
	assert_int_equal(journal_write(f->vmdir, &w), -EINVAL);
	w.npaths = 0;
	w.changes = &bad_kind;
	w.nchanges = 1;
	assert_int_equal(journal_write(f->vmdir, &w), -EINVAL);
	assert_false(journal_exists(f->vmdir)); /* nothing half-written is left */
}

/* Parses TEXT; returns the result and the line reported in *LINE. */
static int parse_text(const char *text, size_t len, size_t *line)
{
	struct journal j;
	FILE *in = fmemopen((void *)text, len, "r");
	int ret;

	assert_non_null(in);
	ret = journal_parse(in, &j, line);
	fclose(in);
	if (ret == 0) {
		journal_free(&j);
	}
	return ret;
}

static void malformed_journals_are_refused_at_their_first_bad_line(void **state)
{
	static const struct {
		const char *text;
		size_t line;
	} bad[] = {
		{"", 1},
		{"fvm-commit-journal 2\nid 1\nend\n", 1},
		{"fvm-commit-journal 1\nid 1\n", 3},                      /* no end: cut short */
		{"fvm-commit-journal 1\nend\n", 2},                       /* no id */
		{"fvm-commit-journal 1\nid 1\nid 2\nend\n", 3},            /* two ids */
		{"fvm-commit-journal 1\nid ../x\nend\n", 2},
		{"fvm-commit-journal 1\nid 0123456789abcdef01234567\nend\n", 2}, /* too long */
		{"fvm-commit-journal 1\nid 1\nforce 2\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\nforce 1\nforce 0\nend\n", 4},
		{"fvm-commit-journal 1\nid 1\npath relative\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\npath /bad\\escape\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\nchange x A /a\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\nchange 1 Q /a\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\nchange 1 A a\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\nchange 99999999999999999999999 A /a\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\nchange 1 A\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\nunknown item\nend\n", 3},
		{"fvm-commit-journal 1\nid 1\nend\nchange 1 A /late\n", 4}, /* after the end */
		{"fvm-commit-journal 1\nid 1\nend extra\n", 3},
	};
	size_t line;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse_text(bad[i].text, strlen(bad[i].text), &line);
		if (ret != -EINVAL || line != bad[i].line) {
			fail_msg("case %zu: got %d at line %zu, want -EINVAL at line %zu", i, ret, line,
				 bad[i].line);
		}
	}
	static const char nul[] = "fvm-commit-journal 1\nid 1\npath /a\0b\nend\n";
	assert_int_equal(parse_text(nul, sizeof(nul) - 1, &line), -EINVAL);
	assert_int_equal(line, 3);
}

static void a_minimal_journal_parses_and_force_defaults_off(void **state)
{
	static const char text[] = "fvm-commit-journal 1\nid 1f\nend";  /* last newline lost */
	struct journal j;
	size_t line;
	FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");
	(void)state;
	assert_int_equal(journal_parse(in, &j, &line), 0);
	fclose(in);
	assert_string_equal(j.id, "1f");
	assert_false(j.force);
	assert_int_equal(j.npaths + j.nchanges, 0);
	journal_free(&j);
}

static void a_damaged_journal_on_disk_is_reported_not_used(void **state)
{
	struct fx *f = *state;
	char file[PATH_MAX + 32];
	struct journal j;
	fx_fmt(file, sizeof(file), "%s/%s", f->ctl, JOURNAL_FILE);
	fx_put(file, "fvm-commit-journal 1\nid 1\nchange 0 A /half-writ");
	assert_int_equal(journal_read(f->vmdir, &j), -EINVAL);
	assert_null(j.changes);
	assert_true(journal_exists(f->vmdir)); /* left for a person to look at */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		fx_test(journal_round_trips_ids_options_paths_and_changes),
		fx_test(write_refuses_what_the_format_cannot_hold),
		cmocka_unit_test(malformed_journals_are_refused_at_their_first_bad_line),
		cmocka_unit_test(a_minimal_journal_parses_and_force_defaults_off),
		fx_test(a_damaged_journal_on_disk_is_reported_not_used),
	};
	return FX_MAIN(tests);
}
