/*
 * fixture.h — what the unit tests of the tools' core share: a scratch tree made fresh
 * for each test and removed after it, so tests run in any order and alone.
 *
 *   BASE/host/   the "host" part of the tree a test looks at (virtual paths are BASE/host/...)
 *   BASE/store/vms/vm/  a VM's data area: upper/, work/, an empty origins log; VM is set up on it
 *   BASE/store/ctl/vm/  its control area (the commit journal)
 *
 * Use with cmocka_unit_test_setup_teardown(test, fx_setup, fx_teardown); the test gets
 * its struct fx through *state. FVM_TEST_KEEP=1 keeps the tree. fx_main runs the
 * tests; with an argument, only those whose names match it (cmocka's test filter).
 * Header only: each test program includes it once.
 */
#ifndef FVM_TEST_FIXTURE_H
#define FVM_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fvm/vm.h"
#include "store/changes.h"

/* snprintf that fails the test instead of truncating. */
#define fx_fmt(out, len, ...) assert_true(snprintf(out, len, __VA_ARGS__) < (int)(len))

struct fx {
	char base[64];
	char host[PATH_MAX];    /* BASE/host */
	char vmdir[PATH_MAX];   /* BASE/store/vms/vm */
	char ctl[PATH_MAX];     /* BASE/store/ctl/vm */
	char upper[PATH_MAX];   /* BASE/store/vms/vm/upper */
	struct fvm_vm vm;
};

/* OUT = BASE/host/REL ("" for BASE/host itself). */
static inline void fx_host(const struct fx *f, const char *rel, char *out, size_t len)
{
	fx_fmt(out, len, "%s%s%s", f->host, *rel ? "/" : "", rel);
}

/* OUT = the upper entry of BASE/host/REL. */
static inline void fx_upper(const struct fx *f, const char *rel, char *out, size_t len)
{
	fx_fmt(out, len, "%s%s%s%s", f->upper, f->host, *rel ? "/" : "", rel);
}

/* Writes TEXT as file PATH (created or truncated). */
static inline void fx_put(const char *path, const char *text)
{
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	fputs(text, out);
	assert_int_equal(fclose(out), 0);
}

/* The content of file PATH (static buffer), or NULL when it cannot be read. */
static inline const char *fx_get(const char *path)
{
	static char buf[4096];
	FILE *in = fopen(path, "r");
	size_t n;

	if (!in) {
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, in);
	buf[n] = '\0';
	fclose(in);
	return buf;
}

static inline bool fx_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* mkdir -p of PATH (absolute). */
static inline void fx_mkdirs(const char *path)
{
	char p[PATH_MAX];
	fx_fmt(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

/* Files and directories beneath BASE/host, and their upper entries, made in one call. */
static inline void fx_host_file(const struct fx *f, const char *rel, const char *text)
{
	char p[PATH_MAX];
	fx_host(f, rel, p, sizeof(p));
	fx_put(p, text);
}

static inline void fx_host_dir(const struct fx *f, const char *rel)
{
	char p[PATH_MAX];
	fx_host(f, rel, p, sizeof(p));
	fx_mkdirs(p);
}

static inline void fx_upper_file(const struct fx *f, const char *rel, const char *text)
{
	char p[PATH_MAX * 2];
	fx_upper(f, rel, p, sizeof(p));
	fx_put(p, text);
}

static inline void fx_upper_dir(const struct fx *f, const char *rel)
{
	char p[PATH_MAX * 2];
	fx_upper(f, rel, p, sizeof(p));
	fx_mkdirs(p);
}

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[PATH_MAX + 16];

	if (!f) {
		return -1;
	}
	fx_fmt(f->base, sizeof(f->base), "%s/fvm-unit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->base)) {
		free(f);
		return -1;
	}
	fx_fmt(f->host, sizeof(f->host), "%s/host", f->base);
	fx_fmt(f->vmdir, sizeof(f->vmdir), "%s/store/vms/vm", f->base);
	fx_fmt(f->ctl, sizeof(f->ctl), "%s/store/ctl/vm", f->base);
	fx_fmt(f->upper, sizeof(f->upper), "%s/upper", f->vmdir);
	mkdir(f->host, 0755);
	fx_mkdirs(f->vmdir);
	fx_mkdirs(f->ctl);
	mkdir(f->upper, 0755);
	fx_fmt(p, sizeof(p), "%s/work", f->vmdir);
	mkdir(p, 0700);
	fx_fmt(p, sizeof(p), "%s/origins", f->vmdir);
	fx_put(p, "");
	*state = f;
	return fvm_vm_setup(&f->vm, "unit", f->vmdir, NULL);
}

static inline int fx_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	const char *keep = getenv("FVM_TEST_KEEP");
	int ret = 0;

	if (keep && strcmp(keep, "1") == 0) {
		fprintf(stderr, "# kept %s\n", f->base);
	} else {
		ret = nftw(f->base, fx_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	}
	free(f);
	return ret;
}

/* Resolves and copies up BASE/host/REL (with its content) through the core, as libfvm does. */
static inline void fx_copy_up(struct fx *f, const char *rel)
{
	struct fvm_res res;
	char vpath[PATH_MAX];

	fx_host(f, rel, vpath, sizeof(vpath));
	assert_int_equal(fvm_resolve(&f->vm, vpath, FVM_R_NOFOLLOW, &res), 0);
	assert_int_equal(fvm_copy_up(&f->vm, &res, true), 0);
}

/* Removes BASE/host/REL in the VM (a whiteout over the host's), as libfvm does. */
static inline void fx_remove(struct fx *f, const char *rel, bool is_dir)
{
	struct fvm_res res;
	char vpath[PATH_MAX];

	fx_host(f, rel, vpath, sizeof(vpath));
	assert_int_equal(fvm_resolve(&f->vm, vpath, FVM_R_NOFOLLOW, &res), 0);
	assert_int_equal(fvm_remove(&f->vm, &res, is_dir), 0);
}

/*
 * The VM's changes beneath BASE/host as text, one "K REL" a line (REL relative to
 * BASE/host, "." for itself), in the scan's order (static buffer).
 */
static inline const char *fx_changes(const struct fx *f)
{
	static char text[8192];
	struct fvm_changes ch;
	char *paths[] = {(char *)f->host};
	size_t o = 0, hl = strlen(f->host);

	assert_int_equal(fvm_changes_scan(f->upper, paths, 1, &ch), 0);
	text[0] = '\0';
	for (size_t i = 0; i < ch.n; i++) {
		const char *rel = ch.v[i].vpath[hl] ? ch.v[i].vpath + hl + 1 : ".";
		int n = snprintf(text + o, sizeof(text) - o, "%c %s\n", ch.v[i].kind, rel);
		assert_true(n > 0 && (size_t)n < sizeof(text) - o);
		o += (size_t)n;
	}
	fvm_changes_free(&ch);
	return text;
}

#define fx_test(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

/* Runs TESTS (N); ARGV[1], when given, runs only the tests its pattern matches. */
static inline int fx_main(const char *group, const struct CMUnitTest *tests, size_t n, int argc,
			  char **argv)
{
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

#define FX_MAIN(tests) fx_main(__FILE__, tests, sizeof(tests) / sizeof(tests[0]), argc, argv)

#endif
