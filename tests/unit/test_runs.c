/*
 * test_runs.c — the records of a VM's live runs (store/runs.c): written whole and read
 * back, stale ones (a pid that is gone or reused) skipped and pruned, and anything
 * that is not a well-formed regular record file (a FIFO, a link, a huge or damaged
 * file) skipped without hanging or following it.
 */
#include "fixture.h"

#include <errno.h>
#include <sys/wait.h>

#include "store/runs.h"
#include "store/store.h"

/* BASE/ctl/v, the control directory of VM BASE/vms/v. */
static void ctl_of(const struct fx *f, char *out, size_t len)
{
	char vmdir[PATH_MAX];
	fx_fmt(vmdir, sizeof(vmdir), "%s/vms/v", f->base);
	assert_int_equal(store_ctl_path(vmdir, out, len), 0);
}

static void control_dir_is_beside_vms(void **state)
{
	struct fx *f = *state;
	char ctl[PATH_MAX], want[PATH_MAX];

	ctl_of(f, ctl, sizeof(ctl));
	fx_fmt(want, sizeof(want), "%s/ctl/v", f->base);
	assert_string_equal(ctl, want);
	assert_int_equal(store_ctl_path("/not/a/store/dir", ctl, sizeof(ctl)), -1);
}

static void record_round_trips_and_is_live(void **state)
{
	struct fx *f = *state;
	struct run_record w = {.pid = getpid(), .ncg = 2}, *r;
	char ctl[PATH_MAX];
	size_t n;

	ctl_of(f, ctl, sizeof(ctl));
	w.start = proc_start_time(getpid());
	assert_true(w.start > 0);
	snprintf(w.cg[0], sizeof(w.cg[0]), "/sys/fs/cgroup/a b/fvm-v.1");
	snprintf(w.cg[1], sizeof(w.cg[1]), "/sys/fs/cgroup/pids/fvm-v.1");
	assert_int_equal(run_records_load(ctl, false, &r, &n), 0); /* no runs/ yet */
	assert_int_equal(n, 0);
	assert_int_equal(run_record_write(ctl, &w), 0);
	assert_int_equal(run_records_load(ctl, false, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].pid, getpid());
	assert_true(r[0].start == w.start);
	assert_int_equal(r[0].ncg, 2);
	assert_string_equal(r[0].cg[0], "/sys/fs/cgroup/a b/fvm-v.1");
	assert_true(run_record_live(&r[0]));
	free(r);
	assert_int_equal(run_record_remove(ctl, getpid()), 0);
	assert_int_equal(run_record_remove(ctl, getpid()), 0); /* already gone: fine */
	assert_int_equal(run_records_load(ctl, false, &r, &n), 0);
	assert_int_equal(n, 0);
}

static void stale_records_are_skipped_and_pruned_under_the_lock(void **state)
{
	struct fx *f = *state;
	struct run_record reused = {.pid = getpid()}, dead = {.start = 1}, *r;
	char ctl[PATH_MAX], file[PATH_MAX + 32];
	size_t n;
	int st;

	ctl_of(f, ctl, sizeof(ctl));
	reused.start = proc_start_time(getpid()) + 1; /* our pid, another process's start */
	dead.pid = fork();
	if (dead.pid == 0) {
		_exit(0);
	}
	assert_int_equal(waitpid(dead.pid, &st, 0), dead.pid);
	assert_int_equal(run_record_write(ctl, &reused), 0);
	assert_int_equal(run_record_write(ctl, &dead), 0);
	assert_int_equal(run_records_load(ctl, false, &r, &n), 0);
	assert_int_equal(n, 0);
	fx_fmt(file, sizeof(file), "%s/runs/%d", ctl, (int)getpid());
	assert_true(fx_exists(file)); /* without the lock, nothing is removed */
	assert_int_equal(run_records_load(ctl, true, &r, &n), 0);
	assert_int_equal(n, 0);
	assert_false(fx_exists(file));
	fx_fmt(file, sizeof(file), "%s/runs/%d", ctl, (int)dead.pid);
	assert_false(fx_exists(file));
}

static void odd_files_are_skipped_without_hanging(void **state)
{
	struct fx *f = *state;
	struct run_record good = {.pid = getpid()}, *r;
	char ctl[PATH_MAX], file[PATH_MAX + 32], big[RUN_RECORD_MAX + 100];
	size_t n;

	ctl_of(f, ctl, sizeof(ctl));
	good.start = proc_start_time(getpid());
	assert_int_equal(run_record_write(ctl, &good), 0);
	fx_fmt(file, sizeof(file), "%s/runs/101", ctl);
	assert_int_equal(mkfifo(file, 0600), 0); /* opened O_NONBLOCK, refused as not regular */
	fx_fmt(file, sizeof(file), "%s/runs/102", ctl);
	assert_int_equal(symlink("/proc/self/stat", file), 0);
	fx_fmt(file, sizeof(file), "%s/runs/103", ctl);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fx_put(file, big);
	fx_fmt(file, sizeof(file), "%s/runs/104", ctl);
	fx_put(file, "fvm-run 1\nsupervisor 104 5\nforce 1\n");
	fx_fmt(file, sizeof(file), "%s/runs/105", ctl);
	fx_put(file, "fvm-run 1\ncgroup /x\n"); /* no supervisor line */
	fx_fmt(file, sizeof(file), "%s/runs/106", ctl);
	fx_put(file, "fvm-run 1\nsupervisor 1 1\n"); /* names another pid than its file */
	assert_int_equal(run_records_load(ctl, true, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].pid, getpid());
	free(r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		fx_test(control_dir_is_beside_vms),
		fx_test(record_round_trips_and_is_live),
		fx_test(stale_records_are_skipped_and_pruned_under_the_lock),
		fx_test(odd_files_are_skipped_without_hanging),
	};
	return FX_MAIN(tests);
}
