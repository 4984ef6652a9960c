/*
 * trace.c — a traced run's record (trace.h): its one writer and reader.
 *
 * Rules:
 *  - Every field is escaped with fvm_escape_field, so a name with spaces or newlines
 *    stays one field of one line; the reader unescapes and skips a line it cannot.
 *  - The file is read through the history directory opened without following links,
 *    as a bounded regular file (safefs.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fvm/escape.h"
#include "store/history.h"
#include "store/safefs.h"
#include "store/trace.h"

int trace_put(FILE *out, const char *key, const char *const *f, size_t n)
{
	if (fputs(key, out) == EOF) {
		return -EIO;
	}
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(f[i]), room = FVM_ESCAPED_MAX(l);
		char small[512], *esc = room <= sizeof(small) ? small : malloc(room);
		if (!esc) {
			return -ENOMEM;
		}
		int r = fvm_escape_field(f[i], esc, esc == small ? sizeof(small) : room);
		if (r >= 0) {
			/* An empty field is "\z", which no escape produces: it would vanish
			 * between two spaces. */
			fputc(' ', out);
			fputs(r == 0 ? "\\z" : esc, out);
		}
		if (esc != small) {
			free(esc);
		}
		if (r < 0) {
			return r;
		}
	}
	return fputc('\n', out) == EOF ? -EIO : 0;
}

int trace_putf(FILE *out, const char *key, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -ENOMEM;
	}
	const char *f[1] = {s};
	int r = trace_put(out, key, f, 1);
	free(s);
	return r;
}

static int push(struct trace *t, struct trace_line *l)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct trace_line *v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *l;
	return 0;
}

static void line_free(struct trace_line *l)
{
	free(l->key); /* the fields point into the key's copy of the line */
	free(l->f);
}

/* One line (NUL-terminated, in place copy) into L. 0, or -EINVAL. */
static int parse_line(const char *text, size_t len, struct trace_line *l)
{
	char *copy = strndup(text, len), *save = NULL, *tok;
	size_t cap = 8;

	l->f = malloc(cap * sizeof(*l->f));
	l->n = 0;
	l->key = copy;
	if (!copy || !l->f) {
		free(copy);
		free(l->f);
		return -ENOMEM;
	}
	if (!(tok = strtok_r(copy, " ", &save))) {
		line_free(l);
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, " ", &save))) {
		if (strcmp(tok, "\\z") == 0) {
			tok[0] = '\0';
		} else if (fvm_unescape_field(tok) < 0) {
			line_free(l);
			return -EINVAL;
		}
		if (l->n == cap) {
			char **nf = realloc(l->f, (cap *= 2) * sizeof(*nf));
			if (!nf) {
				line_free(l);
				return -ENOMEM;
			}
			l->f = nf;
		}
		l->f[l->n++] = tok;
	}
	return 0;
}

int trace_parse(const char *text, size_t len, struct trace *t)
{
	const char *p = text, *end = text + len, *nl;

	memset(t, 0, sizeof(*t));
	nl = memchr(p, '\n', len);
	if (!nl || (size_t)(nl - p) != strlen(TRACE_MAGIC) || memcmp(p, TRACE_MAGIC, strlen(TRACE_MAGIC)) != 0) {
		return -EINVAL;
	}
	for (p = nl + 1; p < end; p = nl + 1) {
		struct trace_line l;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			break; /* a last line without its newline was not written whole */
		}
		if (memchr(p, '\0', (size_t)(nl - p))) {
			continue;
		}
		int r = parse_line(p, (size_t)(nl - p), &l);
		if (r == -ENOMEM) {
			trace_free(t);
			return r;
		}
		if (r == 0 && push(t, &l) < 0) {
			line_free(&l);
			trace_free(t);
			return -ENOMEM;
		}
	}
	return 0;
}

int trace_load(const char *ctldir, const char *name, struct trace *t)
{
	char file[64], *buf = NULL;
	size_t len = 0;
	int ctl, dir, r;

	if (strlen(name) + sizeof(TRACE_SUFFIX) > sizeof(file) || strchr(name, '/')) {
		return -EINVAL;
	}
	snprintf(file, sizeof(file), "%s%s", name, TRACE_SUFFIX);
	ctl = open(ctldir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ctl < 0) {
		return -errno;
	}
	dir = safe_open_dir(ctl, HISTORY_DIR);
	close(ctl);
	if (dir < 0) {
		return dir;
	}
	r = safe_read_file(dir, file, TRACE_FILE_MAX, &buf, &len);
	close(dir);
	if (r < 0) {
		return r;
	}
	r = trace_parse(buf, len, t);
	free(buf);
	return r;
}

const struct trace_line *trace_find(const struct trace *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].key, key) == 0) {
			return &t->v[i];
		}
	}
	return NULL;
}

const char *trace_value(const struct trace *t, const char *key, const char *def)
{
	const struct trace_line *l = trace_find(t, key);

	return l && l->n ? l->f[0] : def;
}

void trace_free(struct trace *t)
{
	for (size_t i = 0; i < t->n; i++) {
		line_free(&t->v[i]);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}
