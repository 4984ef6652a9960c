/*
 * test_json.c — the JSON string escaping of fvm's --json output (fvm-exec/manage/json.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "manage/json.h"

static void json_strings_escape_quotes_controls_and_bad_utf8(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	(void)state;
	json_string(m, "a\"b\\c\n\x01 \xc3\xa9 \xff");
	fclose(m);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \\u00ff\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_strings_escape_quotes_controls_and_bad_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
