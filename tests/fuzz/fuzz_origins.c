/*
 * fuzz_origins.c — the origins log: the tools' reader (originlog_load, what fvm diff and
 * fvm commit call) on the input as a log, the core's line format (fvm_origin_parse and
 * fvm_origin_format) on each of its lines, libfvm's writer (fvm_record_origin, called on
 * a copy-up) and the tools' rewriter (originlog_rewrite, fvm commit's compaction) on
 * the records read.
 *
 * Invariants: no crash, no sanitizer report, for any bytes. The records loaded are
 * sorted by path, one per path, each path absolute, each found by originlog_find. A
 * line the parser accepts formats back into a line that parses to the same record. A
 * log rewritten whole loads back as the same table. A record written by
 * fvm_record_origin for any of those paths (and for the whole input taken as a path)
 * reads back as itself. fvm_unescape undoes fvm_escape, whose output has no newline.
 * The input as the origins text an archive carries (origins_import_text, fvm import;
 * with and without its "fvm-origins 2" line) writes a log of records only, no more
 * than the input's lines, and counts no more conflicts than records.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fvm/escape.h"
#include "fvm/layout.h"
#include "fvm/origins.h"
#include "fvm/vm.h"
#include "store/originlog.h"
#include "store/origins_move.h"

static struct fvm_vm vm;
static char log_file[PATH_MAX], copy_file[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root;

	(void)argc, (void)argv;
	fuzz_init_messages();
	root = fuzz_scratch_dir("origins");
	if (fvm_vm_setup(&vm, "fz", root, NULL) < 0) {
		abort();
	}
	snprintf(log_file, sizeof(log_file), "%s/%s", vm.root, FVM_ORIGINS_FILE);
	snprintf(copy_file, sizeof(copy_file), "%s/rewritten", vm.root);
	return 0;
}

static bool same_record(const struct fvm_origin *a, const struct fvm_origin *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec && a->mode == b->mode &&
	       a->uid == b->uid && a->gid == b->gid && strcmp(a->vpath, b->vpath) == 0;
}

/* Writes the record of VPATH with ST through libfvm's writer; reads the log back. */
static void record_round_trip(const char *vpath, const struct stat *st)
{
	struct originlog log;
	struct fvm_origin want;
	const struct fvm_origin *r;

	if (vpath[0] != '/' || strlen(vpath) >= PATH_MAX) {
		return; /* no virtual path libfvm would record */
	}
	unlink(log_file);
	fvm_record_origin(&vm, vpath, st);
	FUZZ_CHECK(originlog_load(log_file, &log) == 0);
	fvm_origin_of(st, vpath, &want);
	r = originlog_find(&log, vpath);
	if (!r) {
		fuzz_fail(__FILE__, __LINE__, "record of %s not read back", vpath);
	}
	FUZZ_CHECK(same_record(r, &want));
	FUZZ_CHECK(log.n == 1 && log.skipped == 0);
	originlog_free(&log);
}

/* Each line of DATA that parses formats back to a line that parses the same. */
static void line_round_trip(const uint8_t *data, size_t size)
{
	static char out[FVM_ORIGIN_LINE_MAX];
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = fuzz_string((const uint8_t *)p, len), *again;
		struct fvm_origin r, r2;
		p += len + 1;
		if (fvm_origin_parse(line, &r) < 0) {
			free(line);
			continue;
		}
		FUZZ_CHECK(r.vpath[0] == '/');
		int n = fvm_origin_format(&r, out, sizeof(out));
		if (n == -ENAMETOOLONG) {
			FUZZ_CHECK(strlen(r.vpath) >= PATH_MAX); /* any path up to PATH_MAX fits */
			free(line);
			continue;
		}
		FUZZ_CHECK(n > 0 && (size_t)n == strlen(out) && out[n - 1] == '\n');
		FUZZ_CHECK(!memchr(out, '\n', (size_t)n - 1));
		out[n - 1] = '\0';
		again = strdup(out);
		FUZZ_CHECK(again && fvm_origin_parse(again, &r2) == 0);
		FUZZ_CHECK(same_record(&r, &r2));
		free(again);
		free(line);
	}
}

static bool keep_all(const struct fvm_origin *r, void *arg)
{
	(void)r, (void)arg;
	return true;
}

static void escape_round_trip(const char *text)
{
	size_t n = strlen(text);
	char *esc = malloc(FVM_ESCAPED_MAX(n)), *back;
	int e;

	if (!esc) {
		abort();
	}
	e = fvm_escape(text, esc, FVM_ESCAPED_MAX(n));
	FUZZ_CHECK(e >= 0 && (size_t)e == strlen(esc));
	FUZZ_CHECK(strchr(esc, '\n') == NULL);
	back = strdup(esc);
	FUZZ_CHECK(back && fvm_unescape(back) == (int)n && strcmp(back, text) == 0);
	/* One byte short of what it needs: refused, never cut. */
	FUZZ_CHECK(fvm_escape(text, esc, (size_t)e) == -ENAMETOOLONG);
	free(back);
	free(esc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = copy_file; /* a regular file: the log is never read through a link */
	struct originlog log, again;

	fuzz_write_file(path, data, size);
	FUZZ_CHECK(originlog_load(path, &log) == 0);
	for (size_t i = 0; i < log.n; i++) {
		FUZZ_CHECK(log.v[i].vpath[0] == '/');
		FUZZ_CHECK(i == 0 || strcmp(log.v[i - 1].vpath, log.v[i].vpath) < 0);
		FUZZ_CHECK(originlog_find(&log, log.v[i].vpath) == &log.v[i]);
	}
	/* The table written whole and loaded back: the same table. */
	unlink(copy_file);
	FUZZ_CHECK(originlog_rewrite(copy_file, &log, keep_all, NULL) == 0);
	FUZZ_CHECK(originlog_load(copy_file, &again) == 0);
	FUZZ_CHECK(again.n == log.n && again.skipped == 0);
	for (size_t i = 0; i < log.n; i++) {
		FUZZ_CHECK(same_record(&log.v[i], &again.v[i]));
	}
	originlog_free(&again);
	for (size_t i = 0; i < log.n && i < 4; i++) {
		struct stat st = {0};
		st.st_dev = (dev_t)log.v[i].dev;
		st.st_ino = (ino_t)log.v[i].ino;
		st.st_size = (off_t)log.v[i].size;
		st.st_mtim.tv_sec = (time_t)log.v[i].mtime_sec;
		st.st_mtim.tv_nsec = log.v[i].mtime_nsec;
		st.st_mode = (mode_t)log.v[i].mode;
		st.st_uid = (uid_t)log.v[i].uid;
		st.st_gid = (gid_t)log.v[i].gid;
		record_round_trip(log.v[i].vpath, &st);
	}
	originlog_free(&log);
	line_round_trip(data, size);

	/* The input as carried origins, judged against this machine. */
	for (int magic = 0; magic < 2; magic++) {
		char *t = fuzz_string(data, size), *full = NULL;
		size_t conflicts, lines = 1;
		int vfd = open(vm.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		FUZZ_CHECK(vfd >= 0 && asprintf(&full, "%s%s", magic ? "fvm-origins 2\n" : "", t) >= 0);
		for (const char *p = full; *p; p++) {
			lines += *p == '\n';
		}
		fuzz_write_file(log_file, (const uint8_t *)"", 0);
		FUZZ_CHECK(origins_import_text(vfd, full, &conflicts) == 0);
		FUZZ_CHECK(originlog_load(log_file, &log) == 0);
		FUZZ_CHECK(log.skipped == 0 && log.n <= lines && conflicts <= lines);
		originlog_free(&log);
		close(vfd);
		free(full);
		free(t);
	}

	/* The whole input as a path, newlines and all, with every field at an extreme. */
	char *text = fuzz_string(data, size);
	escape_round_trip(text);
	struct stat st = {0};
	st.st_dev = (dev_t)-1;
	st.st_ino = (ino_t)-1;
	st.st_size = (off_t)((1ull << 63) - 1);
	st.st_mtim.tv_sec = (time_t)(-(1ll << 62));
	st.st_mtim.tv_nsec = 999999999;
	st.st_mode = (mode_t)-1;
	st.st_uid = (uid_t)-1;
	st.st_gid = (gid_t)-1;
	record_round_trip(text, &st);
	free(text);
	return 0;
}
