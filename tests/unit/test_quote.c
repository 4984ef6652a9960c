/*
 * test_quote.c — how the tools print names (fvm-exec/store/quote.c): plain names as
 * they are, others in quotes with C escapes; nothing unsafe on a terminal survives;
 * unquoting gives the name back; file content keeps its TABs.
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

#include "store/quote.h"

static void check(const char *name, const char *want)
{
	char *got = fvm_quote_dup(name);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(fvm_unquote(got), 0);
	assert_string_equal(got, name);
	free(got);
}

static void plain_names_are_printed_as_they_are(void **state)
{
	(void)state;
	check("/home/x/.bashrc", "/home/x/.bashrc");
	check("/a b/c'd", "/a b/c'd");
	check("/caf\xc3\xa9 \xf0\x9f\x98\x80", "/caf\xc3\xa9 \xf0\x9f\x98\x80");
}

static void control_characters_are_escaped_in_quotes(void **state)
{
	(void)state;
	check("/x\n M /home/x/.bashrc", "\"/x\\n M /home/x/.bashrc\"");
	check("/z\r\x1b[1A\x1b[2K", "\"/z\\r\\033[1A\\033[2K\"");
	check("/t\tv\a\b\v\f\x7f", "\"/t\\tv\\a\\b\\v\\f\\177\"");
	check("/q\"b\\s", "\"/q\\\"b\\\\s\"");
}

static void non_utf8_c1_and_bidi_are_escaped_bytewise(void **state)
{
	(void)state;
	check("/bad\xffname", "\"/bad\\377name\"");
	check("/c1\xc2\x9bx", "\"/c1\\302\\233x\"");
	check("/rlo\xe2\x80\xaex", "\"/rlo\\342\\200\\256x\"");
	check("/iso\xe2\x81\xa6x", "\"/iso\\342\\201\\246x\"");
	check("/ls\xe2\x80\xa8x", "\"/ls\\342\\200\\250x\"");
	check("/over\xc0\xaf", "\"/over\\300\\257\"");
	check("/sur\xed\xa0\x80", "\"/sur\\355\\240\\200\"");
}

static void unquote_refuses_malformed_text(void **state)
{
	char a[] = "\"/x", b[] = "\"/x\\\"", c[] = "\"/x\\000\"", d[] = "\"/x\\q\"", e[] = "\"/a\"b\"";
	(void)state;
	assert_int_equal(fvm_unquote(a), -EINVAL);
	assert_int_equal(fvm_unquote(b), -EINVAL);
	assert_int_equal(fvm_unquote(c), -EINVAL);
	assert_int_equal(fvm_unquote(d), -EINVAL);
	assert_int_equal(fvm_unquote(e), -EINVAL);
}

static void text_keeps_tabs_quotes_and_backslashes(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	static const char line[] = "+\tq\"\\ \x1b[2K\r\xc2\x9b\0z";
	(void)state;
	fvm_quote_text(line, sizeof(line) - 1, m);
	fclose(m);
	assert_string_equal(buf, "+\tq\"\\ \\033[2K\\r\\302\\233\\000z");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_names_are_printed_as_they_are),
		cmocka_unit_test(control_characters_are_escaped_in_quotes),
		cmocka_unit_test(non_utf8_c1_and_bidi_are_escaped_bytewise),
		cmocka_unit_test(unquote_refuses_malformed_text),
		cmocka_unit_test(text_keeps_tabs_quotes_and_backslashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
