/*
 * test_json.c — the JSON string escaping of fvm's --json output (fvm-exec/manage/json.c):
 * exact (a byte that is not UTF-8 is a lone surrogate \udcXX, never the code point of
 * the same value) and safe on a terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "manage/json.h"

/* json_string(S) as a malloc'd string. */
static char *json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	json_string(m, s);
	fclose(m);
	return buf;
}

static void check(const char *in, const char *want)
{
	char *got = json_of(in);
	assert_string_equal(got, want);
	free(got);
}

static void json_strings_escape_quotes_controls_and_bad_utf8(void **state)
{
	(void)state;
	check("a\"b\\c\n\x01 \xc3\xa9 \xff", "\"a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \\udcff\"");
}

static void json_invalid_utf8_is_a_surrogate_per_byte(void **state)
{
	(void)state;
	/* The byte 0xe9 and the character U+00E9 must not look alike. */
	check("\xe9", "\"\\udce9\"");
	check("\xc3\xa9", "\"\xc3\xa9\"");
	/* Overlong forms, encoded surrogates, above U+10FFFF, a cut sequence. */
	check("\xc0\xaf", "\"\\udcc0\\udcaf\"");
	check("\xe0\x80\xaf", "\"\\udce0\\udc80\\udcaf\"");
	check("\xed\xb3\xa9", "\"\\udced\\udcb3\\udca9\"");
	check("\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\"");
	check("\xe2\x82", "\"\\udce2\\udc82\"");
	check("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
}

static void json_terminal_controls_are_escaped(void **state)
{
	(void)state;
	check("\x1b[2K\x7f", "\"\\u001b[2K\\u007f\"");
	check("\xc2\x9b", "\"\\u009b\"");                 /* C1: CSI */
	check("\xe2\x80\xae", "\"\\u202e\"");             /* right-to-left override */
	check("\xe2\x80\xa8", "\"\\u2028\"");             /* line separator */
	check("\xc2\xa0", "\"\xc2\xa0\"");                /* no-break space: printable */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_strings_escape_quotes_controls_and_bad_utf8),
		cmocka_unit_test(json_invalid_utf8_is_a_surrogate_per_byte),
		cmocka_unit_test(json_terminal_controls_are_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
