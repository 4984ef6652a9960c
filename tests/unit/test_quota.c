/*
 * test_quota.c — the disk quotas' count (core/quota.c): a reservation is all or nothing
 * at each limit, what is given back never takes a word below 0, the room and the
 * entries' check follow the words, and without a limit or a mapped state file nothing
 * is counted or refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/vm.h"

static uint64_t words[8];
static struct fvm_policy pol;
static struct fvm_vm vm;

static int setup(void **state)
{
	(void)state;
	memset(words, 0, sizeof(words));
	memset(&pol, 0, sizeof(pol));
	memset(&vm, 0, sizeof(vm));
	pol.disk_limit = 1000;
	pol.files_limit = 3;
	vm.policy = &pol;
	vm.gen.counter = words;
	vm.gen.names = words + 1;
	return 0;
}

static void reservation_is_all_or_nothing(void **state)
{
	(void)state;
	assert_int_equal(fvm_quota_reserve(&vm, 600, 1), 0);
	assert_int_equal(fvm_quota_reserve(&vm, 600, 1), -EDQUOT); /* bytes past: the entry not kept */
	assert_int_equal(words[FVM_STATE_BYTES], 600);
	assert_int_equal(words[FVM_STATE_FILES], 1);
	assert_int_equal(fvm_quota_reserve(&vm, 400, 1), 0); /* exactly at the limit */
	assert_int_equal(fvm_quota_room(&vm), 0);
	assert_int_equal(fvm_quota_reserve(&vm, 0, 1), 0);
	assert_int_equal(fvm_quota_reserve(&vm, 0, 1), -EDQUOT); /* entries past */
	assert_int_equal(fvm_quota_may_create(&vm), -EDQUOT);
	assert_int_equal(words[FVM_STATE_FILES], 3);
}

static void giving_back_stops_at_zero(void **state)
{
	(void)state;
	assert_int_equal(fvm_quota_reserve(&vm, 100, 1), 0);
	fvm_quota_add(&vm, -500, -4);
	assert_int_equal(words[FVM_STATE_BYTES], 0);
	assert_int_equal(words[FVM_STATE_FILES], 0);
	assert_int_equal(fvm_quota_room(&vm), 1000);
	assert_int_equal(fvm_quota_may_create(&vm), 0);
	fvm_quota_add(&vm, 2000, 9); /* unchecked: what happened anyway (a whiteout) */
	assert_int_equal(fvm_quota_room(&vm), 0);
}

static void no_limit_or_no_mapping_counts_nothing(void **state)
{
	(void)state;
	pol.disk_limit = pol.files_limit = 0;
	assert_false(fvm_quota_on(&vm));
	assert_int_equal(fvm_quota_reserve(&vm, 1ull << 40, 1000), 0);
	assert_int_equal(words[FVM_STATE_BYTES], 0);
	assert_true(fvm_quota_room(&vm) == UINT64_MAX);
	pol.disk_limit = 10;
	vm.gen.counter = NULL;
	assert_false(fvm_quota_on(&vm));
	assert_int_equal(fvm_quota_reserve(&vm, 100, 1), 0);
	vm.gen.counter = words;
	pol.files_limit = 0; /* a disk limit alone: entries are counted, never refused */
	assert_int_equal(fvm_quota_reserve(&vm, 5, 1000), 0);
	assert_int_equal(fvm_quota_may_create(&vm), 0);
	assert_int_equal(fvm_quota_reserve(&vm, 6, 0), -EDQUOT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(reservation_is_all_or_nothing, setup),
		cmocka_unit_test_setup(giving_back_stops_at_zero, setup),
		cmocka_unit_test_setup(no_limit_or_no_mapping_counts_nothing, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
