/*
 * test_resolve.c — the virtual namespace against real directories: a scratch "host"
 * tree and a scratch VM root; lookup, whiteouts, opacity, virtual symlinks, copy-up,
 * removal and rename, checked from the core library directly; and the same through
 * read-only layers between upper/ and the host (a policy naming two layer trees).
 *
 * Each test gets a fresh scratch tree and VM from setup() and loses them in teardown():
 * no test depends on what another left behind (run-all runs each one alone as well).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fvm/vm.h"

static char base[64], hostd[PATH_MAX], vmroot[PATH_MAX];
static struct fvm_vm vm;

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char p[PATH_MAX * 2];
	(void)state;
	snprintf(base, sizeof(base), "/tmp/fvm-unit.XXXXXX");
	if (!mkdtemp(base)) {
		return -1;
	}
	snprintf(hostd, sizeof(hostd), "%s/host", base);
	snprintf(vmroot, sizeof(vmroot), "%s/vm", base);
	mkdir(hostd, 0755);
	mkdir(vmroot, 0700);
	snprintf(p, sizeof(p), "%s/upper", vmroot);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/work", vmroot);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/d", hostd);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/d/f", hostd);
	put(p, "host");
	snprintf(p, sizeof(p), "%s/abs", hostd);
	char target[PATH_MAX * 2];
	snprintf(target, sizeof(target), "%s/d", hostd);
	symlink(target, p);
	return fvm_vm_setup(&vm, "unit", vmroot, NULL);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd);
}

static void host_file_resolves_to_the_host(void **state)
{
	struct fvm_res res;
	char v[PATH_MAX * 2];
	(void)state;
	snprintf(v, sizeof(v), "%s/d/f", hostd);
	assert_int_equal(fvm_resolve(&vm, v, 0, &res), 0);
	assert_int_equal(res.where, FVM_HOST);
	assert_string_equal(res.rpath, v);
}

static void copy_up_moves_the_object_into_upper(void **state)
{
	struct fvm_res res;
	char v[PATH_MAX * 2], buf[16] = {0};
	(void)state;
	snprintf(v, sizeof(v), "%s/d/f", hostd);
	assert_int_equal(fvm_resolve(&vm, v, 0, &res), 0);
	assert_int_equal(fvm_copy_up(&vm, &res, true), 0);
	assert_int_equal(res.where, FVM_UPPER);
	assert_true(strncmp(res.rpath, vm.upper, vm.upper_len) == 0);
	int fd = open(res.rpath, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	assert_string_equal(buf, "host");
	/* A second resolution finds the upper copy. */
	assert_int_equal(fvm_resolve(&vm, v, 0, &res), 0);
	assert_int_equal(res.where, FVM_UPPER);
}

static void remove_leaves_a_whiteout_and_hides_the_host_entry(void **state)
{
	struct fvm_res res;
	char v[PATH_MAX * 2];
	struct stat st;
	(void)state;
	snprintf(v, sizeof(v), "%s/d/f", hostd);
	assert_int_equal(fvm_resolve(&vm, v, FVM_R_NOFOLLOW, &res), 0);
	assert_int_equal(fvm_remove(&vm, &res, false), 0);
	assert_int_equal(fvm_resolve(&vm, v, 0, &res), 0);
	assert_int_equal(res.where, FVM_ABSENT);
	assert_true(res.whiteout);
	assert_int_equal(stat(v, &st), 0); /* the host still has it */
}

static void absolute_symlink_is_followed_in_the_virtual_namespace(void **state)
{
	struct fvm_res res;
	char v[PATH_MAX * 2];
	(void)state;
	/* abs -> host/d: through the link, d/f is the host's file until the VM removes it,
	   then gone too. */
	snprintf(v, sizeof(v), "%s/abs/f", hostd);
	assert_int_equal(fvm_resolve(&vm, v, 0, &res), 0);
	assert_int_equal(res.where, FVM_HOST);
	snprintf(v, sizeof(v), "%s/d/f", hostd);
	assert_int_equal(fvm_resolve(&vm, v, FVM_R_NOFOLLOW, &res), 0);
	assert_int_equal(fvm_remove(&vm, &res, false), 0);
	snprintf(v, sizeof(v), "%s/abs/f", hostd);
	assert_int_equal(fvm_resolve(&vm, v, 0, &res), 0);
	assert_int_equal(res.where, FVM_ABSENT);
}

static void rename_of_host_dir_keeps_children_visible(void **state)
{
	struct fvm_res a, b;
	char v[PATH_MAX * 2], w[PATH_MAX * 2];
	(void)state;
	snprintf(v, sizeof(v), "%s/d", hostd);
	snprintf(w, sizeof(w), "%s/moved", hostd);
	assert_int_equal(fvm_resolve(&vm, v, FVM_R_NOFOLLOW, &a), 0);
	assert_int_equal(fvm_resolve(&vm, w, FVM_R_NOFOLLOW, &b), 0);
	assert_int_equal(fvm_rename(&vm, &a, &b, 0), 0);
	assert_int_equal(fvm_resolve(&vm, v, 0, &a), 0);
	assert_int_equal(a.where, FVM_ABSENT);
	assert_int_equal(fvm_resolve(&vm, w, 0, &b), 0);
	assert_int_equal(b.where, FVM_UPPER);
	assert_true(S_ISDIR(b.st.st_mode));
}

static void symlink_loop_gives_eloop(void **state)
{
	struct fvm_res res;
	char v[PATH_MAX * 2];
	(void)state;
	snprintf(v, sizeof(v), "%s/loop", hostd);
	symlink("loop", v);
	assert_int_equal(fvm_resolve(&vm, v, 0, &res), -ELOOP);
}

static void wh_names_are_refused(void **state)
{
	struct fvm_res res;
	char v[PATH_MAX * 2];
	(void)state;
	snprintf(v, sizeof(v), "%s/.wh.x", hostd);
	assert_int_equal(fvm_resolve(&vm, v, 0, &res), -EINVAL);
}

/* Two layers (L0 over L1) for the VM: a policy naming their trees, BASE/l0 and BASE/l1. */
static struct fvm_policy lpol;
static char ltree[2][PATH_MAX];

static void layer_mkdirs(int i, const char *rel)
{
	char p[PATH_MAX * 3], cmd[PATH_MAX * 3 + 16];
	snprintf(p, sizeof(p), "%s%s/%s", ltree[i], hostd, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	assert_int_equal(system(cmd), 0);
}

static void layer_put(int i, const char *rel, const char *text)
{
	char p[PATH_MAX * 3];
	snprintf(p, sizeof(p), "%s%s/%s", ltree[i], hostd, rel);
	put(p, text);
}

static void with_layers(void)
{
	fvm_policy_init(&lpol);
	for (int i = 0; i < 2; i++) {
		snprintf(ltree[i], sizeof(ltree[i]), "%s/l%d", base, i);
		mkdir(ltree[i], 0755);
		layer_mkdirs(i, "");
		assert_int_equal(fvm_policy_add_layer(&lpol, ltree[i]), 0);
	}
	vm.policy = &lpol;
}

static void resolve_ok(const char *rel, struct fvm_res *res)
{
	char v[PATH_MAX * 2];
	snprintf(v, sizeof(v), "%s/%s", hostd, rel);
	assert_int_equal(fvm_resolve(&vm, v, FVM_R_NOFOLLOW, res), 0);
}

static void layer_entry_wins_over_host_and_lower_layer(void **state)
{
	struct fvm_res res;
	(void)state;
	with_layers();
	layer_mkdirs(0, "d");
	layer_mkdirs(1, "d");
	layer_put(1, "d/f", "l1");
	layer_put(0, "d/f", "l0");
	resolve_ok("d/f", &res);
	assert_int_equal(res.where, FVM_HOST);
	assert_int_equal(res.layer, 0);
	assert_true(strncmp(res.rpath, ltree[0], strlen(ltree[0])) == 0);
}

static void whiteout_in_a_layer_hides_lower_layers_and_host(void **state)
{
	struct fvm_res res;
	(void)state;
	with_layers();
	layer_mkdirs(0, "d");
	layer_mkdirs(1, "d");
	layer_put(1, "d/g", "l1");
	layer_put(0, "d/.wh.g", "");
	layer_put(0, "d/.wh.f", "");
	resolve_ok("d/g", &res);
	assert_int_equal(res.where, FVM_ABSENT);
	resolve_ok("d/f", &res);
	assert_int_equal(res.where, FVM_ABSENT);
	assert_true(res.whiteout);
}

static void opaque_layer_directory_stops_the_descent(void **state)
{
	struct fvm_res res;
	(void)state;
	with_layers();
	layer_mkdirs(0, "d");
	layer_mkdirs(1, "d");
	layer_put(1, "d/g", "l1");
	layer_put(0, "d/.wh..wh..opq", "");
	layer_put(0, "d/h", "l0");
	resolve_ok("d/f", &res); /* the host's, hidden */
	assert_int_equal(res.where, FVM_ABSENT);
	resolve_ok("d/g", &res); /* the lower layer's, hidden */
	assert_int_equal(res.where, FVM_ABSENT);
	resolve_ok("d/h", &res);
	assert_int_equal(res.layer, 0);
}

static void copy_up_from_a_layer_takes_its_content(void **state)
{
	struct fvm_res res;
	(void)state;
	with_layers();
	layer_mkdirs(1, "d");
	layer_put(1, "d/f", "from l1");
	resolve_ok("d/f", &res);
	assert_int_equal(res.layer, 1);
	assert_int_equal(fvm_copy_up(&vm, &res, true), 0);
	assert_int_equal(res.where, FVM_UPPER);
	FILE *in = fopen(res.rpath, "r");
	char buf[32] = "";
	assert_non_null(in);
	assert_non_null(fgets(buf, sizeof(buf), in));
	fclose(in);
	assert_string_equal(buf, "from l1");
}

static void removing_a_layer_file_leaves_an_upper_whiteout(void **state)
{
	struct fvm_res res;
	char wh[PATH_MAX * 3];
	struct stat st;
	(void)state;
	with_layers();
	layer_mkdirs(1, "e");
	layer_put(1, "e/x", "x");
	resolve_ok("e/x", &res);
	assert_int_equal(fvm_remove(&vm, &res, false), 0);
	resolve_ok("e/x", &res);
	assert_int_equal(res.where, FVM_ABSENT);
	snprintf(wh, sizeof(wh), "%s/upper%s/e/.wh.x", vmroot, hostd);
	assert_int_equal(lstat(wh, &st), 0);
	resolve_ok("e", &res); /* the directory of the layer is still there, empty */
	assert_int_equal(fvm_remove(&vm, &res, true), 0);
	resolve_ok("e", &res);
	assert_int_equal(res.where, FVM_ABSENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(host_file_resolves_to_the_host, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_up_moves_the_object_into_upper, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_leaves_a_whiteout_and_hides_the_host_entry,
						setup, teardown),
		cmocka_unit_test_setup_teardown(absolute_symlink_is_followed_in_the_virtual_namespace,
						setup, teardown),
		cmocka_unit_test_setup_teardown(rename_of_host_dir_keeps_children_visible, setup,
						teardown),
		cmocka_unit_test_setup_teardown(symlink_loop_gives_eloop, setup, teardown),
		cmocka_unit_test_setup_teardown(wh_names_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(layer_entry_wins_over_host_and_lower_layer, setup, teardown),
		cmocka_unit_test_setup_teardown(whiteout_in_a_layer_hides_lower_layers_and_host, setup,
						teardown),
		cmocka_unit_test_setup_teardown(opaque_layer_directory_stops_the_descent, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_up_from_a_layer_takes_its_content, setup, teardown),
		cmocka_unit_test_setup_teardown(removing_a_layer_file_leaves_an_upper_whiteout, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
