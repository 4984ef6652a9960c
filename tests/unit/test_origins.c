/*
 * test_origins.c — the origins log: its line format, owned by the core (core/origins.c:
 * format, parse, the append at copy-up), and the tools' table of it (store/originlog.c:
 * last record wins, damaged lines skipped, conflict matching, rewrite, compaction).
 */
#include "fixture.h"

#include <errno.h>

#include "fvm/origins.h"
#include "store/originlog.h"

static void log_path(const struct fx *f, char *out, size_t len)
{
	snprintf(out, len, "%s/origins", f->vmdir);
}

static void format_then_parse_gives_the_record_back(void **state)
{
	struct stat st = {.st_dev = 2049, .st_ino = 77, .st_size = 5, .st_mode = S_IFREG | 0640,
			  .st_uid = 1000, .st_gid = 100};
	struct fvm_origin r, back;
	char line[FVM_ORIGIN_LINE_MAX];
	(void)state;
	st.st_mtim.tv_sec = 1700000000;
	st.st_mtim.tv_nsec = 42;
	fvm_origin_of(&st, "/dir/with space\nand\\slash", &r);
	int n = fvm_origin_format(&r, line, sizeof(line));
	assert_string_equal(line, "2049 77 5 1700000000.000000042 100640 1000 100 "
				  "/dir/with space\\nand\\\\slash\n");
	assert_int_equal(n, (int)strlen(line));
	line[n - 1] = '\0';
	assert_int_equal(fvm_origin_parse(line, &back), 0);
	assert_int_equal(back.dev, 2049);
	assert_int_equal(back.ino, 77);
	assert_int_equal(back.size, 5);
	assert_int_equal(back.mtime_sec, 1700000000);
	assert_int_equal(back.mtime_nsec, 42);
	assert_int_equal(back.mode, S_IFREG | 0640);
	assert_int_equal(back.uid, 1000);
	assert_int_equal(back.gid, 100);
	assert_string_equal(back.vpath, "/dir/with space\nand\\slash");
}

static void format_refuses_to_truncate(void **state)
{
	struct stat st = {.st_mode = S_IFREG};
	struct fvm_origin r;
	char line[40];
	(void)state;
	fvm_origin_of(&st, "/a/path/that/does/not/fit/in/forty/bytes", &r);
	assert_int_equal(fvm_origin_format(&r, line, sizeof(line)), -ENAMETOOLONG);
	fvm_origin_of(&st, "relative", &r);
	assert_int_equal(fvm_origin_format(&r, line, sizeof(line)), -EINVAL);
}

static void parse_refuses_malformed_lines(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage line",
		"1 2 3 4.000000000 100644 0 0",                     /* no path */
		"1 2 3 4.000000000 100644 0 0 relative",            /* not absolute */
		"1 2 3 4.5 100644 0 0 /short-nsec",                 /* nine digits */
		"1 2 3 4.1000000000 100644 0 0 /long-nsec",
		"1 2 3 4.000000000 100648 0 0 /not-octal",
		"18446744073709551616 2 3 4.000000000 100644 0 0 /dev-overflow",
		"1 2 3 4.000000000 100644 4294967296 0 /uid-overflow",
		"-1 2 3 4.000000000 100644 0 0 /negative-dev",
		"1  2 3 4.000000000 100644 0 0 /two-spaces",
		"1 2 3 4.000000000 100644 0 0 /bad\\escape",
		"1 2 3 4.000000000 100644 0 0 /ends\\",
		"1 2 3 4 100644 0 0 /no-dot",
	};
	struct fvm_origin r;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[128];
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		if (fvm_origin_parse(buf, &r) != -EINVAL) {
			fail_msg("accepted: \"%s\"", bad[i]);
		}
	}
	char ok[] = "1 2 -3 -4.000000000 100644 0 0 /negative-size-and-time";
	assert_int_equal(fvm_origin_parse(ok, &r), 0);
	assert_int_equal(r.size, -3);
	assert_int_equal(r.mtime_sec, -4);
}

static void copy_up_appends_a_record_the_tools_read_back(void **state)
{
	struct fx *f = *state;
	char hpath[PATH_MAX], file[PATH_MAX + 16];
	struct originlog log;
	struct stat st;
	fx_host(f, "file", hpath, sizeof(hpath));
	fx_put(hpath, "host");
	assert_int_equal(lstat(hpath, &st), 0);
	fx_copy_up(f, "file");
	log_path(f, file, sizeof(file));
	assert_int_equal(originlog_load(file, &log), 0);
	const struct fvm_origin *r = originlog_find(&log, hpath);
	assert_non_null(r);
	assert_int_equal(r->ino, st.st_ino);
	assert_true(originlog_matches(r, &st));
	originlog_free(&log);
}

static void last_record_of_a_path_wins_and_damaged_lines_are_skipped(void **state)
{
	struct fx *f = *state;
	struct originlog o;
	char file[PATH_MAX + 16];
	log_path(f, file, sizeof(file));
	fx_put(file, "1 10 5 100.000000001 100644 0 0 /a\n"
		     "garbage line\n"
		     "1 11 6 200.000000002 100644 0 0 /a\n"
		     "2 20 7 300.000000000 100644 0 0 /with\\nnewline\\\\x\n"
		     "3 30 8 400.500000000 100644 0 0 /cut-by-a-crash");
	assert_int_equal(originlog_load(file, &o), 0);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.skipped, 2);
	const struct fvm_origin *a = originlog_find(&o, "/a");
	assert_non_null(a);
	assert_int_equal(a->ino, 11);
	assert_int_equal(a->mtime_nsec, 2);
	assert_non_null(originlog_find(&o, "/with\nnewline\\x"));
	assert_null(originlog_find(&o, "/cut-by-a-crash"));
	originlog_free(&o);
}

static void missing_log_is_empty(void **state)
{
	struct fx *f = *state;
	struct originlog o;
	char file[PATH_MAX + 16];
	snprintf(file, sizeof(file), "%s/no-such-log", f->vmdir);
	assert_int_equal(originlog_load(file, &o), 0);
	assert_int_equal(o.n, 0);
	assert_null(originlog_find(&o, "/a"));
	originlog_free(&o);
}

/* A log that exists but holds no record (a VM that never copied up since a commit). */
static void empty_log_is_empty(void **state)
{
	struct fx *f = *state;
	struct originlog o;
	char file[PATH_MAX + 16];
	log_path(f, file, sizeof(file));
	fx_put(file, "");
	assert_int_equal(originlog_load(file, &o), 0);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.skipped, 0);
	assert_null(originlog_find(&o, "/a"));
	originlog_free(&o);
}

static void host_change_after_copy_up_does_not_match(void **state)
{
	struct fvm_origin r = {.dev = 1, .ino = 2, .size = 3, .mtime_sec = 4, .mtime_nsec = 5};
	struct stat st = {.st_dev = 1, .st_ino = 2, .st_size = 3, .st_mode = S_IFREG};
	(void)state;
	st.st_mtim.tv_sec = 4;
	st.st_mtim.tv_nsec = 5;
	assert_true(originlog_matches(&r, &st));
	st.st_mtim.tv_nsec = 6;
	assert_false(originlog_matches(&r, &st));
	st.st_mode = S_IFDIR; /* a directory's time follows its entries: only the inode counts */
	assert_true(originlog_matches(&r, &st));
	st.st_ino = 9;
	assert_false(originlog_matches(&r, &st));
}

static bool keep_b(const struct fvm_origin *r, void *arg)
{
	(void)arg;
	return strcmp(r->vpath, "/b") == 0;
}

static void rewrite_keeps_only_chosen_records(void **state)
{
	struct fx *f = *state;
	struct originlog o;
	char file[PATH_MAX + 16];
	log_path(f, file, sizeof(file));
	fx_put(file, "1 1 1 1.000000000 100644 0 0 /a\n1 2 1 1.000000000 100644 0 0 /b\n");
	assert_int_equal(originlog_load(file, &o), 0);
	assert_int_equal(originlog_rewrite(file, &o, keep_b, NULL), 0);
	originlog_free(&o);
	assert_string_equal(fx_get(file), "1 2 1 1.000000000 100644 0 0 /b\n");
}

static void compact_drops_records_of_paths_gone_from_upper(void **state)
{
	struct fx *f = *state;
	char a[PATH_MAX], b[PATH_MAX], ua[PATH_MAX * 2], file[PATH_MAX + 16];
	struct originlog o;
	fx_host(f, "a", a, sizeof(a));
	fx_host(f, "b", b, sizeof(b));
	fx_put(a, "a");
	fx_put(b, "b");
	fx_copy_up(f, "a");
	fx_copy_up(f, "b");
	fx_upper(f, "a", ua, sizeof(ua));
	assert_int_equal(unlink(ua), 0); /* as after a commit or a reset of /a */
	assert_int_equal(originlog_compact(f->vmdir), 0);
	log_path(f, file, sizeof(file));
	assert_int_equal(originlog_load(file, &o), 0);
	assert_null(originlog_find(&o, a));
	assert_non_null(originlog_find(&o, b)); /* still copied up */
	/* The host directory copied up as b's parent keeps its record too. */
	assert_non_null(originlog_find(&o, f->host));
	originlog_free(&o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_then_parse_gives_the_record_back),
		cmocka_unit_test(format_refuses_to_truncate),
		cmocka_unit_test(parse_refuses_malformed_lines),
		fx_test(copy_up_appends_a_record_the_tools_read_back),
		fx_test(last_record_of_a_path_wins_and_damaged_lines_are_skipped),
		fx_test(missing_log_is_empty),
		fx_test(empty_log_is_empty),
		cmocka_unit_test(host_change_after_copy_up_does_not_match),
		fx_test(rewrite_keeps_only_chosen_records),
		fx_test(compact_drops_records_of_paths_gone_from_upper),
	};
	return FX_MAIN(tests);
}
