/*
 * journal.c — the commit journal, written and read here only (journal.h).
 *
 * Invariants: the parser accepts exactly what journal_write writes, items in any order
 * between the first line and "end"; anything else is damage, reported with its line
 * and never guessed at. An id is hex digits only, so the temporaries it names stay in
 * the directory of their change.
 */
#include <err.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fvm/escape.h"
#include "store/journal.h"
#include "store/replace.h"
#include "store/safefs.h"
#include "store/store.h"

#define JOURNAL_MAGIC "fvm-commit-journal 1"

/* The journal's directory: the VM's control area. fd, or -1 (reported). */
static int journal_dir(const char *vmdir)
{
	return store_ctl_open(vmdir);
}

static bool valid_id(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return n > 0 && n <= JOURNAL_ID_MAX && id[n] == '\0';
}

static bool valid_kind(char kind)
{
	return kind == 'A' || kind == 'M' || kind == 'D';
}

/* ---- writing --------------------------------------------------------------------- */

/* Writes PREFIX, then VPATH escaped and a newline. 0 or -errno. */
static int put_path(FILE *f, const char *prefix, const char *vpath)
{
	size_t len = strlen(vpath);
	char *esc;
	int ret;

	if (vpath[0] != '/') {
		return -EINVAL;
	}
	if (!(esc = malloc(FVM_ESCAPED_MAX(len)))) {
		return -ENOMEM;
	}
	ret = fvm_escape(vpath, esc, FVM_ESCAPED_MAX(len));
	if (ret >= 0) {
		ret = fprintf(f, "%s%s\n", prefix, esc) < 0 ? -EIO : 0;
	}
	free(esc);
	return ret;
}

int journal_write(const char *vmdir, const struct journal *j)
{
	char head[64];
	struct replace out;
	int ret, cfd;

	if (!valid_id(j->id)) {
		return -EINVAL;
	}
	if ((cfd = journal_dir(vmdir)) < 0) {
		return -EIO;
	}
	if ((ret = replace_open(&out, cfd, JOURNAL_FILE, 0600)) < 0) {
		close(cfd);
		return ret;
	}
	fprintf(out.f, "%s\nid %s\nforce %d\n", JOURNAL_MAGIC, j->id, j->force ? 1 : 0);
	for (size_t i = 0; ret == 0 && i < j->npaths; i++) {
		ret = put_path(out.f, "path ", j->paths[i]);
	}
	for (size_t i = 0; ret == 0 && i < j->nchanges; i++) {
		const struct journal_change *c = &j->changes[i];
		if (!valid_kind(c->kind)) {
			ret = -EINVAL;
			break;
		}
		snprintf(head, sizeof(head), "change %zu %c ", c->idx, c->kind);
		ret = put_path(out.f, head, c->vpath);
	}
	if (ret < 0) {
		replace_abort(&out);
	} else {
		fprintf(out.f, "end\n");
		ret = replace_commit(&out);
	}
	close(cfd);
	return ret;
}

/* ---- reading --------------------------------------------------------------------- */

struct parse {
	struct journal *j;
	bool force_seen, ended;
};

/* An escaped absolute path at TEXT, unescaped into *OUT (malloc'd). 0 or -errno. */
static int take_path(const char *text, char **out)
{
	char *p;

	if (text[0] != '/') {
		return -EINVAL;
	}
	if (!(p = strdup(text))) {
		return -ENOMEM;
	}
	if (fvm_unescape(p) < 0) {
		free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

static int item_id(struct parse *ps, const char *text)
{
	if (ps->j->id[0] || !valid_id(text)) {
		return -EINVAL;
	}
	memcpy(ps->j->id, text, strlen(text) + 1);
	return 0;
}

static int item_force(struct parse *ps, const char *text)
{
	if (ps->force_seen || (strcmp(text, "0") != 0 && strcmp(text, "1") != 0)) {
		return -EINVAL;
	}
	ps->force_seen = true;
	ps->j->force = text[0] == '1';
	return 0;
}

static int item_path(struct parse *ps, const char *text)
{
	struct journal *j = ps->j;
	char **v = realloc(j->paths, (j->npaths + 1) * sizeof(*v));

	if (!v) {
		return -ENOMEM;
	}
	j->paths = v;
	int ret = take_path(text, &v[j->npaths]);
	j->npaths += ret == 0;
	return ret;
}

/* "N K VPATH". */
static int item_change(struct parse *ps, const char *text)
{
	struct journal *j = ps->j;
	struct journal_change c = {0};
	const char *p = text;

	if (*p < '0' || *p > '9') {
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (c.idx > (SIZE_MAX - (size_t)(*p - '0')) / 10) {
			return -EINVAL;
		}
		c.idx = c.idx * 10 + (size_t)(*p - '0');
	}
	if (p[0] != ' ' || !valid_kind(p[1]) || p[2] != ' ') {
		return -EINVAL;
	}
	c.kind = p[1];
	struct journal_change *v = realloc(j->changes, (j->nchanges + 1) * sizeof(*v));
	if (!v) {
		return -ENOMEM;
	}
	j->changes = v;
	int ret = take_path(p + 3, &c.vpath);
	if (ret == 0) {
		v[j->nchanges++] = c;
	}
	return ret;
}

static int item_end(struct parse *ps, const char *text)
{
	if (*text || !ps->j->id[0]) {
		return -EINVAL; /* a journal without its id names no temporaries */
	}
	ps->ended = true;
	return 0;
}

/* The items after the first line: a word, then its text after one space. */
static const struct {
	const char *word;
	int (*parse)(struct parse *ps, const char *text);
} items[] = {
	{"id", item_id},
	{"force", item_force},
	{"path", item_path},
	{"change", item_change},
	{"end", item_end},
};

static int parse_item(struct parse *ps, const char *line)
{
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		size_t wl = strlen(items[i].word);
		if (strncmp(line, items[i].word, wl) != 0) {
			continue;
		}
		if (line[wl] == '\0' || line[wl] == ' ') {
			return items[i].parse(ps, line[wl] ? line + wl + 1 : line + wl);
		}
	}
	return -EINVAL;
}

int journal_parse(FILE *f, struct journal *j, size_t *lineno)
{
	struct parse ps = {.j = j};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	memset(j, 0, sizeof(*j));
	*lineno = 0;
	while (ret == 0 && (len = getline(&line, &cap, f)) > 0) {
		++*lineno;
		if (line[len - 1] == '\n') {
			line[--len] = '\0';
		}
		if (ps.ended || strlen(line) != (size_t)len) {
			ret = -EINVAL; /* text after the end, or a NUL byte */
		} else if (*lineno == 1) {
			ret = strcmp(line, JOURNAL_MAGIC) == 0 ? 0 : -EINVAL;
		} else {
			ret = parse_item(&ps, line);
		}
	}
	free(line);
	if (ret == 0 && !ps.ended) {
		++*lineno;
		ret = -EINVAL;
	}
	if (ret < 0) {
		journal_free(j);
	}
	return ret;
}

int journal_read(const char *vmdir, struct journal *j)
{
	char file[PATH_MAX + 32];
	struct safe_text t;
	size_t lineno;
	int ret, cfd;

	memset(j, 0, sizeof(*j));
	if (store_ctl_path(vmdir, file, PATH_MAX) < 0 || (cfd = journal_dir(vmdir)) < 0) {
		return -EIO;
	}
	strcat(file, "/" JOURNAL_FILE);
	ret = safe_text_open(&t, cfd, JOURNAL_FILE, SAFE_MAX_JOURNAL);
	close(cfd);
	if (ret < 0) {
		if (ret != -ENOENT) {
			warnx("%s: %s", file, safe_strerror(ret));
		}
		return ret == -ENOENT ? ret : -EINVAL;
	}
	ret = journal_parse(t.f, j, &lineno);
	safe_text_close(&t);
	if (ret == -EINVAL) {
		warnx("%s:%zu: damaged commit journal; remove it after checking the host", file, lineno);
	} else if (ret < 0) {
		warnx("%s: %s", file, strerror(-ret));
	}
	return ret;
}

bool journal_exists(const char *vmdir)
{
	struct stat st;
	int cfd = journal_dir(vmdir);
	bool yes = cfd >= 0 && fstatat(cfd, JOURNAL_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;

	if (cfd >= 0) {
		close(cfd);
	}
	return yes;
}

int journal_remove(const char *vmdir)
{
	int cfd = journal_dir(vmdir), ret = 0;

	if (cfd < 0) {
		return -EIO;
	}
	if (unlinkat(cfd, JOURNAL_FILE, 0) < 0 && errno != ENOENT) {
		ret = -errno;
	}
	close(cfd);
	return ret;
}

void journal_free(struct journal *j)
{
	for (size_t i = 0; i < j->npaths; i++) {
		free(j->paths[i]);
	}
	for (size_t i = 0; i < j->nchanges; i++) {
		free(j->changes[i].vpath);
	}
	free(j->paths);
	free(j->changes);
	memset(j, 0, sizeof(*j));
}
