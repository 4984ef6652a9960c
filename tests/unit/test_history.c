/*
 * test_history.c — the accounts of past runs (store/history.c): written whole and read
 * back field by field, kept to the last KEEP oldest-first, and anything that is not a
 * well-formed regular record (a FIFO, a link, a damaged or foreign file) skipped
 * without hanging or following it.
 */
#include "fixture.h"

#include <errno.h>

#include "store/history.h"

static struct run_stats sample(long long end_ms, int code)
{
	struct run_stats s = {.pid = 4242, .start_ms = end_ms - 1500, .end_ms = end_ms, .wall_ms = 1500,
			      .user_ms = 512, .sys_ms = 7, .peak_rss = 104857600ull, .rchar = 1, .wchar = 2,
			      .read_bytes = 3, .write_bytes = 4, .copyups = 5, .copy_bytes = 6,
			      .layer_bytes = 7, .end = RUN_END_EXIT, .code = code};
	snprintf(s.cpu_src, sizeof(s.cpu_src), "supervisor");
	snprintf(s.mem_src, sizeof(s.mem_src), "cgroup");
	snprintf(s.io_src, sizeof(s.io_src), "supervisor");
	return s;
}

static void account_round_trips(void **state)
{
	struct fx *f = *state;
	struct run_stats w = sample(1700000000000ll, 3), *r;
	size_t n;

	fx_mkdirs(f->ctl);
	assert_int_equal(history_load(f->ctl, &r, &n), 0); /* no history/ yet */
	assert_int_equal(n, 0);
	snprintf(w.quota, sizeof(w.quota), "memory-total");
	w.end = RUN_END_SIGNAL;
	w.signal = 9;
	assert_int_equal(history_write(f->ctl, &w, 20), 0);
	assert_int_equal(history_load(f->ctl, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(&r[0], &w, sizeof(w));
	char ended[64];
	history_ended(&r[0], ended, sizeof(ended));
	assert_string_equal(ended, "signal 9 (KILL), quota memory-total");
	free(r);
}

static void the_last_keep_are_kept_oldest_first(void **state)
{
	struct fx *f = *state;
	struct run_stats *r;
	size_t n;

	fx_mkdirs(f->ctl);
	for (int i = 1; i <= 6; i++) {
		struct run_stats w = sample(1700000000000ll + i, i);
		w.pid = 100 + i;
		w.layer_bytes = HISTORY_UNKNOWN; /* left out of the record, and read back so */
		assert_int_equal(history_write(f->ctl, &w, 4), 0);
	}
	assert_int_equal(history_load(f->ctl, &r, &n), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].code, (int)i + 3);
		assert_true(r[i].layer_bytes == HISTORY_UNKNOWN);
	}
	free(r);
}

static void odd_files_are_skipped(void **state)
{
	struct fx *f = *state;
	struct run_stats w = sample(1700000000000ll, 0), *r;
	char file[PATH_MAX + 64];
	size_t n;

	fx_mkdirs(f->ctl);
	assert_int_equal(history_write(f->ctl, &w, 20), 0);
	fx_fmt(file, sizeof(file), "%s/history/0000000000000001-0000000001", f->ctl);
	assert_int_equal(mkfifo(file, 0600), 0);
	fx_fmt(file, sizeof(file), "%s/history/0000000000000002-0000000002", f->ctl);
	assert_int_equal(symlink("/proc/self/stat", file), 0);
	fx_fmt(file, sizeof(file), "%s/history/0000000000000003-0000000003", f->ctl);
	fx_put(file, "fvm-history 1\nuser-ms lots\n");
	fx_fmt(file, sizeof(file), "%s/history/0000000000000004-0000000004", f->ctl);
	fx_put(file, "fvm-run 1\nsupervisor 1 1\n");
	fx_fmt(file, sizeof(file), "%s/history/notarecord", f->ctl);
	fx_put(file, "fvm-history 1\ncode 77\n");
	assert_int_equal(history_load(f->ctl, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].pid, 4242);
	free(r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		fx_test(account_round_trips),
		fx_test(the_last_keep_are_kept_oldest_first),
		fx_test(odd_files_are_skipped),
	};
	return FX_MAIN(tests);
}
