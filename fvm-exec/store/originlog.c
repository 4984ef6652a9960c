/*
 * originlog.c — the origins log as a table (originlog.h); lines through the core's
 * fvm_origin_parse and fvm_origin_format.
 *
 * Invariant: the log is only ever replaced whole (replace.h), so a reader sees the old
 * or the new log, never a mix. The tools rewrite it only under the VM's exclusive
 * lock, when no libfvm process can be appending.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/vm.h"
#include "store/originlog.h"
#include "store/replace.h"
#include "store/safefs.h"
#include "store/store.h"

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

/*
 * Opens the directory of FILE (the VM's data area, whose path is the tools' own) and
 * sets *BASE to FILE's last component, to be reached beneath it without links.
 */
static int open_dir_of(const char *file, const char **base)
{
	char dir[PATH_MAX];
	size_t b = fvm_path_base_off(file, strlen(file));
	int fd;

	if (b == 0 || b >= sizeof(dir) || !file[b]) {
		return -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%.*s", b > 1 ? (int)b - 1 : 1, file);
	*base = file + b;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int originlog_load(const char *file, struct originlog *log)
{
	struct safe_text t;
	struct loaded *v = NULL;
	const char *base;
	size_t n = 0, w = 0;
	int ret, dfd;

	memset(log, 0, sizeof(*log));
	if ((dfd = open_dir_of(file, &base)) < 0) {
		return dfd == -ENOENT ? 0 : dfd;
	}
	/* The VM appends to its log: a bounded regular file, or an error naming it. */
	ret = safe_text_open(&t, dfd, base, SAFE_MAX_ORIGINS);
	close(dfd);
	if (ret < 0) {
		return ret == -ENOENT ? 0 : ret;
	}
	ret = read_lines(t.f, &v, &n, &log->skipped);
	safe_text_close(&t);
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
	const char *base;
	int dfd = open_dir_of(file, &base), ret;

	if (dfd < 0) {
		return dfd;
	}
	ret = replace_open(&out, dfd, base, 0600);
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
	} else {
		ret = replace_commit(&out);
	}
	close(dfd);
	return ret;
}

struct upper_look {
	int upperfd;
	struct safe_parent_cache pc; /* records come sorted: one open per directory */
};

/* True when VPATH has an upper entry or a whiteout beneath upper/ (no link followed). */
static bool still_in_upper(const struct fvm_origin *r, void *arg)
{
	struct upper_look *ul = arg;
	char wh[NAME_MAX + 8];
	const char *base;
	struct stat st;
	int pfd;

	if ((pfd = safe_parent_cached(&ul->pc, ul->upperfd, r->vpath, &base)) < 0) {
		return pfd != -ENOENT && pfd != -ENOTDIR && pfd != -ELOOP; /* unsure: keep */
	}
	snprintf(wh, sizeof(wh), "%s%s", FVM_WH_PREFIX, base);
	return fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 || fstatat(pfd, wh, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int originlog_compact(const char *vmdir)
{
	char file[PATH_MAX + 16];
	struct originlog log;
	struct upper_look ul = {.upperfd = -1};
	int ret;

	snprintf(file, sizeof(file), "%s/%s", vmdir, FVM_ORIGINS_FILE);
	if ((ul.upperfd = store_upper_open(vmdir)) < 0) {
		return -EIO;
	}
	ret = originlog_load(file, &log);
	if (ret == 0) {
		ret = originlog_rewrite(file, &log, still_in_upper, &ul);
		originlog_free(&log);
	}
	safe_parent_cache_drop(&ul.pc);
	close(ul.upperfd);
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
