/*
 * test_path.c — lexical paths (and which are plain, as the direct path asks), VM
 * names, whiteout names, policy classes and the compiled policy file (core library,
 * no VM).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include <sys/socket.h>

#include "fvm/policy.h"

static void normalize_collapses_slashes_and_dots(void **state)
{
	char out[PATH_MAX];
	(void)state;
	assert_int_equal(fvm_path_normalize("//a/./b//c/", out, sizeof(out), false), 6);
	assert_string_equal(out, "/a/b/c");
	fvm_path_normalize("/a/../b", out, sizeof(out), false);
	assert_string_equal(out, "/a/../b");
	fvm_path_normalize("/a/../b", out, sizeof(out), true);
	assert_string_equal(out, "/b");
	fvm_path_normalize("/..", out, sizeof(out), true);
	assert_string_equal(out, "/");
	fvm_path_normalize("/", out, sizeof(out), true);
	assert_string_equal(out, "/");
}

static void normalize_refuses_to_truncate(void **state)
{
	char out[8];
	(void)state;
	assert_int_equal(fvm_path_normalize("/abcdefghij", out, sizeof(out), false), -ENAMETOOLONG);
}

static void join_keeps_dotdot_for_the_resolver(void **state)
{
	char out[PATH_MAX];
	(void)state;
	fvm_path_join("/a/b", "../c/./d", out, sizeof(out));
	assert_string_equal(out, "/a/b/../c/d");
}

static void prefix_matches_at_component_boundaries(void **state)
{
	(void)state;
	assert_true(fvm_path_has_prefix("/proc/self", 10, "/proc", 5));
	assert_true(fvm_path_has_prefix("/proc", 5, "/proc", 5));
	assert_false(fvm_path_has_prefix("/procfs", 7, "/proc", 5));
	assert_true(fvm_path_has_prefix("/x", 2, "/", 1));
}

/* fvm_path_plain of NAME in both modes: the offset of its last component, or -1. */
static long plain(const char *name, bool words)
{
	const char *last = fvm_path_plain(name, name + strlen(name), words);
	return last ? last - name : -1;
}

static void plain_names_take_no_empty_or_dot_component(void **state)
{
	static const struct {
		const char *name;
		long last;
	} cases[] = {
		{"a", 0}, {"file", 0}, {"a/b", 2}, {"src/dir/file.c", 8}, {"a-long-name/x", 12},
		{".git/HEAD", 5}, {"a/..b/c.", 6}, {"...", 0}, {"a/.../b", 6},
		{".", -1}, {"..", -1}, {"a/.", -1}, {"a/..", -1}, {"./a", -1}, {"../a", -1},
		{"a/./b", -1}, {"a/../b", -1}, {"a//b", -1}, {"/a", -1}, {"a-long-name//x", -1},
		{"twelve-bytes/./more-than-eight", -1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(plain(cases[i].name, true), cases[i].last);
		assert_int_equal(plain(cases[i].name, false), cases[i].last);
	}
}

static void vm_names_follow_the_design(void **state)
{
	char long_name[80];
	(void)state;
	assert_true(fvm_vm_name_valid("build"));
	assert_true(fvm_vm_name_valid("a.b_c-9"));
	assert_false(fvm_vm_name_valid(""));
	assert_false(fvm_vm_name_valid(".hidden"));
	assert_false(fvm_vm_name_valid("-x"));
	assert_false(fvm_vm_name_valid("a/b"));
	assert_false(fvm_vm_name_valid("a b"));
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_true(fvm_vm_name_valid(long_name));
	long_name[64] = 'a';
	long_name[65] = '\0';
	assert_false(fvm_vm_name_valid(long_name));
}

static void whiteout_names_are_oci(void **state)
{
	char out[PATH_MAX];
	(void)state;
	assert_int_equal(fvm_wh_path("/u/dir/name", out, sizeof(out)), 0);
	assert_string_equal(out, "/u/dir/.wh.name");
	assert_int_equal(fvm_opaque_path("/u/dir", out, sizeof(out)), 0);
	assert_string_equal(out, "/u/dir/.wh..wh..opq");
	assert_true(fvm_is_wh_name(".wh.x", 5));
	assert_false(fvm_is_wh_name(".w", 2));
}

static void policy_classes_longest_prefix_wins(void **state)
{
	struct fvm_policy *pol = calloc(1, sizeof(*pol));
	(void)state;
	fvm_policy_init(pol);
	assert_int_equal(fvm_policy_class(pol, "/etc", 4), FVM_CLASS_VIRTUAL);
	assert_int_equal(fvm_policy_class(pol, "/proc/1", 7), FVM_CLASS_SHARED);
	assert_int_equal(fvm_policy_add_path(pol, FVM_CLASS_SHARED, "/home/u/out/"), 0);
	assert_int_equal(fvm_policy_add_path(pol, FVM_CLASS_HIDDEN, "/home/u/out/secret"), 0);
	assert_int_equal(fvm_policy_add_path(pol, FVM_CLASS_READONLY, "/dev/shm"), 0);
	assert_int_equal(fvm_policy_add_path(pol, FVM_CLASS_SHARED, "relative"), -EINVAL);
	assert_int_equal(fvm_policy_class(pol, "/home/u/out/x", 13), FVM_CLASS_SHARED);
	assert_int_equal(fvm_policy_class(pol, "/home/u/out/secret/k", 20), FVM_CLASS_HIDDEN);
	assert_int_equal(fvm_policy_class(pol, "/home/u/outside", 15), FVM_CLASS_VIRTUAL);
	assert_int_equal(fvm_policy_class(pol, "/dev/shm/a", 10), FVM_CLASS_READONLY);
	free(pol);
}

static void scope_makes_the_rest_shared(void **state)
{
	struct fvm_policy *pol = calloc(1, sizeof(*pol));
	(void)state;
	fvm_policy_init(pol);
	fvm_policy_add_path(pol, FVM_CLASS_SCOPE, "/srv/build");
	assert_int_equal(fvm_policy_class(pol, "/srv/build/o", 12), FVM_CLASS_VIRTUAL);
	assert_int_equal(fvm_policy_class(pol, "/etc", 4), FVM_CLASS_SHARED);
	free(pol);
}

static void allow_rules_parse_and_match_prefixes_and_ports(void **state)
{
	struct fvm_policy *pol = calloc(1, sizeof(*pol));
	uint8_t a4[4] = {10, 1, 2, 3}, b4[4] = {10, 2, 0, 1}, lo6[16] = {[15] = 1};
	(void)state;
	fvm_policy_init(pol);
	assert_int_equal(fvm_policy_add_allow(pol, "10.1.0.0/16:443"), 0);
	assert_int_equal(fvm_policy_add_allow(pol, "[::1]:8080"), 0);
	assert_int_equal(fvm_policy_add_allow(pol, "fd00::/8"), 0);
	assert_int_equal(fvm_policy_add_allow(pol, "10.0.0.1/33"), -EINVAL);
	assert_int_equal(fvm_policy_add_allow(pol, "10.0.0.1:70000"), -EINVAL);
	assert_int_equal(fvm_policy_add_allow(pol, "example.org"), -EINVAL);
	assert_int_equal(fvm_policy_add_allow(pol, "[::1"), -EINVAL);
	assert_int_equal(pol->nallow, 3);
	assert_true(fvm_policy_allowed(pol, AF_INET, a4, 443));
	assert_false(fvm_policy_allowed(pol, AF_INET, a4, 80));
	assert_false(fvm_policy_allowed(pol, AF_INET, b4, 443));
	assert_true(fvm_policy_allowed(pol, AF_INET6, lo6, 8080));
	assert_false(fvm_policy_allowed(pol, AF_INET6, lo6, 8081));
	assert_int_equal(fvm_net_from_name("loopback"), FVM_NET_LOOPBACK);
	assert_int_equal(fvm_net_from_name("some"), -1);
	assert_string_equal(fvm_net_name(FVM_NET_NONE), "none");
	free(pol);
}

static void policy_file_round_trips_and_refuses_garbage(void **state)
{
	struct fvm_policy *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char dir[] = "/tmp/fvm-unit.XXXXXX", file[PATH_MAX];
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/policy", dir);
	fvm_policy_init(a);
	a->net = FVM_NET_LOOPBACK;
	a->copy_limit = 12345;
	fvm_policy_add_path(a, FVM_CLASS_HIDDEN, "/secret");
	assert_int_equal(fvm_policy_save(a, file), 0);
	assert_int_equal(fvm_policy_load(b, file), 0);
	assert_int_equal(b->net, FVM_NET_LOOPBACK);
	assert_int_equal(b->copy_limit, 12345);
	assert_int_equal(fvm_policy_class(b, "/secret/x", 9), FVM_CLASS_HIDDEN);
	FILE *f = fopen(file, "w");
	fputs("not a policy", f);
	fclose(f);
	assert_int_equal(fvm_policy_load(b, file), -EINVAL);
	unlink(file);
	rmdir(dir);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(normalize_collapses_slashes_and_dots),
		cmocka_unit_test(normalize_refuses_to_truncate),
		cmocka_unit_test(join_keeps_dotdot_for_the_resolver),
		cmocka_unit_test(prefix_matches_at_component_boundaries),
		cmocka_unit_test(plain_names_take_no_empty_or_dot_component),
		cmocka_unit_test(vm_names_follow_the_design),
		cmocka_unit_test(whiteout_names_are_oci),
		cmocka_unit_test(policy_classes_longest_prefix_wins),
		cmocka_unit_test(scope_makes_the_rest_shared),
		cmocka_unit_test(allow_rules_parse_and_match_prefixes_and_ports),
		cmocka_unit_test(policy_file_round_trips_and_refuses_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
