/*
 * test_human.c — sizes for people (fvm-exec/store/human.c), the one format of fvm list,
 * info, stats, top and fvm-exec --stats: ls -lh's, the exact count with --bytes, "-"
 * for a figure not measured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/human.h"

static const char *size(unsigned long long bytes, bool exact)
{
	static char out[32];
	human_size(bytes, exact, out, sizeof(out));
	return out;
}

static void sizes_read_as_ls_lh_prints_them(void **state)
{
	(void)state;
	assert_string_equal(size(0, false), "0B");
	assert_string_equal(size(66, false), "66B");
	assert_string_equal(size(1023, false), "1.0K");
	assert_string_equal(size(4096, false), "4.0K");
	assert_string_equal(size(24576, false), "24K");
	assert_string_equal(size(119118233, false), "114M");
	assert_string_equal(size(3ull << 30, false), "3.0G");
}

static void bytes_gives_the_exact_count(void **state)
{
	(void)state;
	assert_string_equal(size(119118233, true), "119118233");
}

static void a_figure_not_measured_is_a_dash(void **state)
{
	(void)state;
	assert_string_equal(size(HUMAN_UNKNOWN, false), "-");
	assert_string_equal(size(HUMAN_UNKNOWN, true), "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_read_as_ls_lh_prints_them),
		cmocka_unit_test(bytes_gives_the_exact_count),
		cmocka_unit_test(a_figure_not_measured_is_a_dash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
