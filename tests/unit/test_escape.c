/*
 * test_escape.c — the one escaping of names in fvm's control files (core escape.c):
 * round trips, no silent truncation, malformed escapes refused.
 */
#include "fixture.h"

#include <errno.h>

#include "fvm/escape.h"

static void escape_round_trips_newlines_and_backslashes(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(fvm_escape("/a\nb\\c d", out, sizeof(out)), 10);
	assert_string_equal(out, "/a\\nb\\\\c d");
	assert_int_equal(fvm_unescape(out), 8);
	assert_string_equal(out, "/a\nb\\c d");
}

static void escape_never_truncates(void **state)
{
	char out[8];
	(void)state;
	assert_int_equal(fvm_escape("/abcdef", out, sizeof(out)), 7); /* exactly fits */
	assert_int_equal(fvm_escape("/abcdefg", out, sizeof(out)), -ENAMETOOLONG);
	/* The escape of the last byte would not fit with its NUL. */
	assert_int_equal(fvm_escape("/abcde\n", out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(fvm_escape("", out, 0), -ENAMETOOLONG);
	assert_int_equal(fvm_escape("", out, 1), 0);
	/* The documented room always suffices. */
	char worst[] = "\\\n\\\n";
	char room[FVM_ESCAPED_MAX(sizeof(worst) - 1)];
	assert_int_equal(fvm_escape(worst, room, sizeof(room)), 8);
}

static void unescape_refuses_what_escape_never_writes(void **state)
{
	const char *bad[] = {"/a\\x", "/trailing\\", "/raw\nnewline", "\\t"};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		assert_int_equal(fvm_unescape(buf), -EINVAL);
	}
}

static void every_byte_but_nul_round_trips(void **state)
{
	char name[256], esc[FVM_ESCAPED_MAX(255)];
	(void)state;
	for (int i = 1; i < 256; i++) {
		name[i - 1] = (char)i;
	}
	name[255] = '\0';
	assert_true(fvm_escape(name, esc, sizeof(esc)) > 255);
	assert_null(strchr(esc, '\n'));
	assert_int_equal(fvm_unescape(esc), 255);
	assert_memory_equal(esc, name, 256);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_round_trips_newlines_and_backslashes),
		cmocka_unit_test(escape_never_truncates),
		cmocka_unit_test(unescape_refuses_what_escape_never_writes),
		cmocka_unit_test(every_byte_but_nul_round_trips),
	};
	return FX_MAIN(tests);
}
