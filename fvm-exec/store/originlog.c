/*
 * originlog.c — the origins log as a table (originlog.h); lines through the core's
 * fvm_origin_parse and fvm_origin_format.
 *
 * Invariant: the log is only ever replaced whole (replace.h), so a reader sees the old
 * or the new log, never a mix. The tools rewrite it only under the VM's exclusive
 * lock, when no libfvm process can be appending.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/vm.h"
#include "store/originlog.h"
#include "store/replace.h"

/* A record while loading: its line number decides which record of a path wins. */
struct loaded {
	struct fvm_origin r;
	size_t seq;
};

static int cmp_loaded(const void *a, const void *b)
{
	const struct loaded *x = a, *y = b;
	int c = strcmp(x->r.vpath, y->r.vpath);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Parses LINE (its newline removed) into V[*N], the path copied. 0, 1 (skipped), -errno. */
static int add_line(char *line, size_t seq, struct loaded *v, size_t *n)
{
	struct fvm_origin r;
	char *vpath;

	if (fvm_origin_parse(line, &r) < 0) {
		return 1;
	}
	if (!(vpath = strdup(r.vpath))) {
		return -ENOMEM;
	}
	r.vpath = vpath;
	v[*n].r = r;
	v[(*n)++].seq = seq;
	return 0;
}

/* Reads the lines of F into *V (*N of them). Returns 0 or -errno. */
static int read_lines(FILE *f, struct loaded **v, size_t *n, size_t *skipped)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0, seq = 0;
	ssize_t len;
	int ret = 0;

	while (ret >= 0 && (len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n') {
			(*skipped)++;
			break; /* cut short by a crash: not a record */
		}
		line[len - 1] = '\0';
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			struct loaded *nv = realloc(*v, alloc * sizeof(*nv));
			if (!nv) {
				ret = -ENOMEM;
				break;
			}
			*v = nv;
		}
		ret = add_line(line, seq++, *v, n);
		*skipped += ret == 1;
	}
	free(line);
	return ret < 0 ? ret : 0;
}

int originlog_load(const char *file, struct originlog *log)
{
	FILE *f = fopen(file, "re");
	struct loaded *v = NULL;
	size_t n = 0, w = 0;
	int ret;

	memset(log, 0, sizeof(*log));
	if (!f) {
		return errno == ENOENT ? 0 : -errno;
	}
	ret = read_lines(f, &v, &n, &log->skipped);
	fclose(f);
	if (ret == 0 && n && !(log->v = malloc(n * sizeof(*log->v)))) {
		ret = -ENOMEM;
	}
	/* Sorted by path, later records after earlier ones: keep the last of each path. */
	if (n) {
		qsort(v, n, sizeof(*v), cmp_loaded); /* v is NULL for a log without records */
	}
	for (size_t i = 0; i < n; i++) {
		if (ret < 0 || (i + 1 < n && strcmp(v[i].r.vpath, v[i + 1].r.vpath) == 0)) {
			free((char *)v[i].r.vpath);
			continue;
		}
		log->v[w++] = v[i].r;
	}
	free(v);
	log->n = w;
	return ret;
}

static int cmp_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct fvm_origin *)elem)->vpath);
}

const struct fvm_origin *originlog_find(const struct originlog *log, const char *vpath)
{
	return log->n ? bsearch(vpath, log->v, log->n, sizeof(*log->v), cmp_key) : NULL;
}

bool originlog_matches(const struct fvm_origin *r, const struct stat *st)
{
	if (r->dev != (uint64_t)st->st_dev || r->ino != (uint64_t)st->st_ino) {
		return false;
	}
	return S_ISDIR(st->st_mode) ||
	       (r->size == (int64_t)st->st_size && r->mtime_sec == (int64_t)st->st_mtim.tv_sec &&
		r->mtime_nsec == st->st_mtim.tv_nsec);
}

int originlog_rewrite(const char *file, const struct originlog *log,
		      bool (*keep)(const struct fvm_origin *r, void *arg), void *arg)
{
	char line[FVM_ORIGIN_LINE_MAX];
	struct replace out;
	int ret = replace_open(&out, file);

	for (size_t i = 0; ret == 0 && i < log->n; i++) {
		if (!keep(&log->v[i], arg)) {
			continue;
		}
		ret = fvm_origin_format(&log->v[i], line, sizeof(line));
		if (ret >= 0) {
			ret = fputs(line, out.f) == EOF ? -EIO : 0;
		}
	}
	if (ret < 0) {
		if (out.f) {
			replace_abort(&out);
		}
		return ret;
	}
	return replace_commit(&out);
}

static bool still_in_upper(const struct fvm_origin *r, void *arg)
{
	const char *upper = arg;
	char up[FVM_RPATH_MAX], wh[FVM_RPATH_MAX + 8];
	struct stat st;

	if (snprintf(up, sizeof(up), "%s%s", upper, r->vpath) >= (int)sizeof(up) ||
	    fvm_wh_path(up, wh, sizeof(wh)) < 0) {
		return true;
	}
	return lstat(up, &st) == 0 || lstat(wh, &st) == 0;
}

int originlog_compact(const char *vmdir)
{
	char file[PATH_MAX + 16], upper[PATH_MAX + 16];
	struct originlog log;
	int ret;

	snprintf(file, sizeof(file), "%s/%s", vmdir, FVM_ORIGINS_FILE);
	snprintf(upper, sizeof(upper), "%s/%s", vmdir, FVM_UPPER_DIR);
	ret = originlog_load(file, &log);
	if (ret < 0) {
		return ret;
	}
	ret = originlog_rewrite(file, &log, still_in_upper, upper);
	originlog_free(&log);
	return ret;
}

void originlog_free(struct originlog *log)
{
	for (size_t i = 0; i < log->n; i++) {
		free((char *)log->v[i].vpath);
	}
	free(log->v);
	memset(log, 0, sizeof(*log));
}
