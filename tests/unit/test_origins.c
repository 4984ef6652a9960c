/*
 * test_origins.c — the origins log (what the host object was at copy-up): parsing,
 * last record wins, damaged lines skipped, conflict matching, compaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/originlog.h"

static char file[64];

static void write_log(const char *text)
{
	snprintf(file, sizeof(file), "%s", "/tmp/fvm-test-origins.XXXXXX");
	int fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void last_record_of_a_path_wins_and_damaged_lines_are_skipped(void **state)
{
	struct fvm_origins o;
	(void)state;
	write_log("1 10 5 100.000000001 100644 0 0 /a\n"
		  "garbage line\n"
		  "1 11 6 200.000000002 100644 0 0 /a\n"
		  "2 20 7 300.000000000 100644 0 0 /with\\nnewline\\\\x\n"
		  "3 30 8 400.5 100644 0 0 /cut-by-a-crash");
	assert_int_equal(fvm_origins_load(file, &o), 0);
	assert_int_equal(o.n, 2);
	const struct fvm_origin *a = fvm_origins_find(&o, "/a");
	assert_non_null(a);
	assert_int_equal(a->ino, 11);
	assert_int_equal(a->mtime_nsec, 2);
	assert_non_null(fvm_origins_find(&o, "/with\nnewline\\x"));
	assert_null(fvm_origins_find(&o, "/cut-by-a-crash"));
	fvm_origins_free(&o);
	unlink(file);
}

static void host_change_after_copy_up_does_not_match(void **state)
{
	struct fvm_origin r = {.dev = 1, .ino = 2, .size = 3, .mtime_sec = 4, .mtime_nsec = 5};
	struct stat st = {.st_dev = 1, .st_ino = 2, .st_size = 3, .st_mode = S_IFREG};
	(void)state;
	st.st_mtim.tv_sec = 4;
	st.st_mtim.tv_nsec = 5;
	assert_true(fvm_origin_matches(&r, &st));
	st.st_mtim.tv_nsec = 6;
	assert_false(fvm_origin_matches(&r, &st));
	st.st_mode = S_IFDIR; /* a directory's time follows its entries: only the inode counts */
	assert_true(fvm_origin_matches(&r, &st));
	st.st_ino = 9;
	assert_false(fvm_origin_matches(&r, &st));
}

static bool keep_b(const struct fvm_origin *r, void *arg)
{
	(void)arg;
	return strcmp(r->vpath, "/b") == 0;
}

static void rewrite_keeps_only_chosen_records(void **state)
{
	struct fvm_origins o;
	char buf[256] = "";
	FILE *f;
	(void)state;
	write_log("1 1 1 1.000000000 100644 0 0 /a\n1 2 1 1.000000000 100644 0 0 /b\n");
	assert_int_equal(fvm_origins_load(file, &o), 0);
	assert_int_equal(fvm_origins_rewrite(file, &o, keep_b, NULL), 0);
	fvm_origins_free(&o);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 32);
	fclose(f);
	assert_string_equal(buf, "1 2 1 1.000000000 100644 0 0 /b\n");
	unlink(file);
}

static void escape_round_trips(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(fvm_path_escape("/a\nb\\c", out, sizeof(out)), 0);
	assert_string_equal(out, "/a\\nb\\\\c");
	char *back = fvm_path_unescape(out);
	assert_string_equal(back, "/a\nb\\c");
	free(back);
	assert_int_equal(fvm_path_escape("/abcdef", out, 4), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(last_record_of_a_path_wins_and_damaged_lines_are_skipped),
		cmocka_unit_test(host_change_after_copy_up_does_not_match),
		cmocka_unit_test(rewrite_keeps_only_chosen_records),
		cmocka_unit_test(escape_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
