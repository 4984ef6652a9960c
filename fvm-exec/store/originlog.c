/*
 * originlog.c — reading and compacting the origins log (originlog.h).
 *
 * Invariant: the log is only ever replaced whole (temp + rename), so a reader sees the
 * old or the new log, never a mix. The tools rewrite it only under the VM's exclusive
 * lock, when no libfvm process can be appending.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/originlog.h"

int fvm_path_escape(const char *vpath, char *out, size_t len)
{
	size_t o = 0;

	for (; *vpath; vpath++) {
		if (o + 3 > len) {
			return -ENAMETOOLONG;
		}
		if (*vpath == '\n' || *vpath == '\\') {
			out[o++] = '\\';
			out[o++] = *vpath == '\n' ? 'n' : '\\';
		} else {
			out[o++] = *vpath;
		}
	}
	if (o >= len) {
		return -ENAMETOOLONG;
	}
	out[o] = '\0';
	return 0;
}

char *fvm_path_unescape(const char *esc)
{
	char *out = malloc(strlen(esc) + 1), *o = out;

	if (!out) {
		return NULL;
	}
	for (; *esc; esc++) {
		if (*esc == '\\' && (esc[1] == 'n' || esc[1] == '\\')) {
			*o++ = *++esc == 'n' ? '\n' : '\\';
		} else {
			*o++ = *esc;
		}
	}
	*o = '\0';
	return out;
}

static int parse_line(const char *line, size_t seq, struct fvm_origin *r)
{
	unsigned mode, uid, gid;
	int off = -1;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "%llu %llu %lld %lld.%ld %o %u %u %n", &r->dev, &r->ino, &r->size,
		   &r->mtime_sec, &r->mtime_nsec, &mode, &uid, &gid, &off) != 8 ||
	    off < 0 || line[off] != '/') {
		return -EINVAL;
	}
	r->vpath = fvm_path_unescape(line + off);
	r->line = strdup(line);
	r->seq = seq;
	if (!r->vpath || !r->line) {
		free(r->vpath);
		free(r->line);
		return -ENOMEM;
	}
	return 0;
}

static int cmp_origin(const void *a, const void *b)
{
	const struct fvm_origin *x = a, *y = b;
	int c = strcmp(x->vpath, y->vpath);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

int fvm_origins_load(const char *file, struct fvm_origins *o)
{
	FILE *f = fopen(file, "re");
	char *line = NULL;
	size_t cap = 0, n = 0, alloc = 0, seq = 0;
	ssize_t len;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	if (!f) {
		return errno == ENOENT ? 0 : -errno;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n') {
			break; /* cut short by a crash: not a record */
		}
		line[len - 1] = '\0';
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			struct fvm_origin *v = realloc(o->v, alloc * sizeof(*v));
			if (!v) {
				ret = -ENOMEM;
				break;
			}
			o->v = v;
		}
		int r = parse_line(line, seq++, &o->v[n]);
		if (r == -ENOMEM) {
			ret = r;
			break;
		}
		n += r == 0;
	}
	free(line);
	fclose(f);
	o->n = n;
	if (ret < 0) {
		fvm_origins_free(o);
		return ret;
	}
	/* Sort by path, later records after earlier ones; keep the last of each path. */
	qsort(o->v, n, sizeof(*o->v), cmp_origin);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && strcmp(o->v[i].vpath, o->v[i + 1].vpath) == 0) {
			free(o->v[i].vpath);
			free(o->v[i].line);
			continue;
		}
		o->v[w++] = o->v[i];
	}
	o->n = w;
	return 0;
}

static int cmp_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct fvm_origin *)elem)->vpath);
}

const struct fvm_origin *fvm_origins_find(const struct fvm_origins *o, const char *vpath)
{
	return o->n ? bsearch(vpath, o->v, o->n, sizeof(*o->v), cmp_key) : NULL;
}

bool fvm_origin_matches(const struct fvm_origin *r, const struct stat *st)
{
	if (r->dev != (unsigned long long)st->st_dev || r->ino != (unsigned long long)st->st_ino) {
		return false;
	}
	return S_ISDIR(st->st_mode) ||
	       (r->size == (long long)st->st_size && r->mtime_sec == (long long)st->st_mtim.tv_sec &&
		r->mtime_nsec == st->st_mtim.tv_nsec);
}

int fvm_origins_rewrite(const char *file, const struct fvm_origins *o,
			bool (*keep)(const struct fvm_origin *r, void *arg), void *arg)
{
	char tmp[PATH_MAX + 32];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", file, (int)getpid()) >= (int)sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	f = fopen(tmp, "we");
	if (!f) {
		return -errno;
	}
	for (size_t i = 0; i < o->n; i++) {
		if (keep(&o->v[i], arg)) {
			fprintf(f, "%s\n", o->v[i].line);
		}
	}
	return fvm_file_replace(f, tmp, file);
}

int fvm_file_replace(FILE *f, const char *tmp, const char *file)
{
	int ret = 0;

	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		ret = -errno;
	}
	if (fclose(f) != 0 && ret == 0) {
		ret = -errno;
	}
	if (ret == 0 && rename(tmp, file) < 0) {
		ret = -errno;
	}
	if (ret < 0) {
		unlink(tmp);
	}
	return ret;
}

void fvm_origins_free(struct fvm_origins *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].vpath);
		free(o->v[i].line);
	}
	free(o->v);
	memset(o, 0, sizeof(*o));
}
