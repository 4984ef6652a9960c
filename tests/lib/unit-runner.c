/*
 * unit-runner.c — lets tests/run-all run each cmocka test of a unit binary alone.
 *
 * Every tests/unit/test_*.c binary is linked with this file and
 * -Wl,--wrap=_cmocka_run_group_tests, so the test's own main() is unchanged and a new
 * unit test gets the same options without a line of its own:
 *
 *   FVM_UNIT_LIST=1     print the name of each test of the group, one a line, run none,
 *                       exit 0 (run-all then runs each one alone);
 *   FVM_UNIT_ONLY=NAME  run only the test named NAME (the group's setup and teardown
 *                       still run around it); a NAME the group does not hold is an
 *                       error (exit 2), so a renamed test cannot silently run nothing.
 *
 * Debian 12's cmocka (1.1.5) cannot shuffle; running each test alone, after the run of
 * all in sequence, shows that no test depends on what an earlier one left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int __real__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
				   const size_t num_tests, CMFixtureFunction group_setup,
				   CMFixtureFunction group_teardown);
int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
				   const size_t num_tests, CMFixtureFunction group_setup,
				   CMFixtureFunction group_teardown);

int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
				   const size_t num_tests, CMFixtureFunction group_setup,
				   CMFixtureFunction group_teardown)
{
	const char *list = getenv("FVM_UNIT_LIST");
	const char *only = getenv("FVM_UNIT_ONLY");
	size_t i;

	if (list && strcmp(list, "1") == 0) {
		for (i = 0; i < num_tests; i++) {
			if (tests[i].name && tests[i].test_func) {
				printf("%s\n", tests[i].name);
			}
		}
		return 0;
	}
	if (only && *only) {
		for (i = 0; i < num_tests; i++) {
			if (tests[i].name && strcmp(tests[i].name, only) == 0) {
				break;
			}
		}
		if (i == num_tests) {
			fprintf(stderr, "%s: no test named %s\n", group_name, only);
			return 2;
		}
		/* cmocka's filter is a glob: a test name holds no '*' or '?', so it matches
		   exactly this test. */
		cmocka_set_test_filter(only);
	}
	return __real__cmocka_run_group_tests(group_name, tests, num_tests, group_setup,
					      group_teardown);
}
