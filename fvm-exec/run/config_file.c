/*
 * config_file.c — reading fvm.conf and vm.conf into fvm-exec's configuration (config.h).
 *
 * Rules:
 *  - A file: "key = value" lines before any section are global; "[vm NAME]" starts a
 *    section that applies to VM NAME only and overrides the global keys of the same
 *    file whatever their order. Whole-line comments start with '#' or ';'; a '#' after a
 *    blank in an unquoted value is a trailing comment, refused (it would silently be
 *    part of the value), and a value that opens a quote closes it at the end of its line.
 *    Every line of every section is checked, so a mistake is found even for another VM.
 *  - Every error names FILE:LINE, the key and the value.
 *  - A file is read only as a regular file (a FIFO or a device in its place is an error,
 *    never a wait) of at most SAFE_MAX_CONF bytes; vm.conf also never through a link.
 *
 * The INI format is parsed here, not with libinih: its handler does not get the line
 * number, which every message must name.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fvm/layout.h"
#include "store/safefs.h"

struct entry {
	int line;
	int key;
	char *value;
	bool ours; /* global, or the section of our VM */
	bool section;
};

/* Trims blanks at both ends of S in place; returns the start. */
static char *trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s)) {
		s++;
	}
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1])) {
		s[--n] = '\0';
	}
	return s;
}

static int file_error(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int file_error(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fvm-exec: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* One line of FILE into E (or a section change into *SECTION). 0, 1 (nothing), -1. */
static int parse_line(const char *file, int lineno, char *line, const char *vm, bool *in_ours,
		      bool *in_section, struct entry *e)
{
	char *s = trim(line), *eq, *key, *val;

	if (!*s || *s == '#' || *s == ';') {
		return 1;
	}
	if (*s == '[') {
		size_t n = strlen(s);
		char *name;
		if (s[n - 1] != ']' || strncmp(s, "[vm", 3) != 0 || !isspace((unsigned char)s[3])) {
			return file_error(file, lineno, "malformed section %s: use [vm NAME]", s);
		}
		s[n - 1] = '\0';
		name = trim(s + 3);
		if (!fvm_vm_name_valid(name)) {
			return file_error(file, lineno, "[vm %s]: invalid VM name: use [A-Za-z0-9][A-Za-z0-9._-]{0,63}", name);
		}
		*in_section = true;
		*in_ours = strcmp(name, vm) == 0;
		return 1;
	}
	eq = strchr(s, '=');
	if (!eq) {
		return file_error(file, lineno, "malformed line: use key = value, [vm NAME] or # comment");
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	size_t vl = strlen(val);
	if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
		val[vl - 1] = '\0';
		val++;
	} else if (vl && val[0] == '"') {
		return file_error(file, lineno, "%s: unclosed quote: a quoted value ends with '\"' at the end of the line",
				  key);
	} else {
		/* "net = loopback # comment": a '#' after a blank would silently be part of the
		 * value; a '#' the value needs is written inside quotes. */
		for (size_t i = 0; i < vl; i++) {
			if (val[i] == '#' && (i == 0 || isspace((unsigned char)val[i - 1]))) {
				return file_error(file, lineno,
						  "%s: trailing comments are not allowed: put the comment on a line of "
						  "its own, starting with '#' (or quote a value that holds '#')",
						  key);
			}
		}
	}
	e->key = exec_opt_find(key);
	if (!*key) {
		return file_error(file, lineno, "malformed line: no key before '='");
	}
	if (e->key < 0) {
		return file_error(file, lineno, "unknown key '%s'", key);
	}
	if (exec_opts[e->key].flags & OPT_CLI) {
		return file_error(file, lineno, "'%s' is a command-line option, not a configuration key", key);
	}
	e->line = lineno;
	e->value = val;
	e->ours = *in_ours;
	e->section = *in_section;
	return 0;
}

/*
 * Opens configuration FILE for reading: a regular file (a FIFO or a device is refused,
 * never waited on), not a link when NOFOLLOW. NULL with errno (EBADFD: not regular).
 */
static FILE *open_conf(const char *file, bool nofollow)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
	struct stat st;
	FILE *f;

	if (fd < 0) {
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "r"))) {
		int e = S_ISREG(st.st_mode) ? errno : EBADFD;
		close(fd);
		errno = e;
		return NULL;
	}
	return f;
}

#ifndef FVM_SYSCONFDIR
#define FVM_SYSCONFDIR "/etc"
#endif

void exec_config_paths(char *sys, char *user, size_t len)
{
	const char *env = getenv("FVM_SYSTEM_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (env && *env) {
		snprintf(sys, len, "%s", env);
	} else {
		snprintf(sys, len, "%s/fvm.conf", FVM_SYSCONFDIR);
	}
	if (xdg && *xdg) {
		snprintf(user, len, "%s/fvm/fvm.conf", xdg);
	} else if (home && *home) {
		snprintf(user, len, "%s/.config/fvm/fvm.conf", home);
	} else {
		*user = '\0';
	}
}

int exec_config_read(struct exec_config *c, const char *file, const char *vm, bool missing_ok,
		     bool system, bool nofollow)
{
	FILE *f = open_conf(file, nofollow);
	struct exec_config scratch;
	struct entry *ents = NULL;
	char *line = NULL, *buf = NULL, why[256], origin[PATH_MAX + 16];
	size_t cap = 0, n = 0;
	bool in_ours = true, in_section = false;
	int lineno = 0, ret = -1;
	struct stat st;

	if (!f) {
		if (missing_ok && errno == ENOENT) {
			return 0;
		}
		fprintf(stderr, "fvm-exec: %s: %s\n", file, safe_strerror(errno));
		return -1;
	}
	if (system && fstat(fileno(f), &st) == 0 && (st.st_mode & 022)) {
		fprintf(stderr, "fvm-exec: %s: writable by group or others; refusing it (chmod go-w %s)\n",
			file, file);
		fclose(f);
		return -1;
	}
	exec_config_init(&scratch);
	/* Keep each line: entries point into a copy of the whole file. */
	ssize_t len;
	size_t total = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (total + (size_t)len > SAFE_MAX_CONF) {
			fprintf(stderr, "fvm-exec: %s: %s\n", file, safe_strerror(-EFBIG));
			goto out;
		}
		char *nb = realloc(buf, total + (size_t)len + 1);
		if (!nb) {
			goto out;
		}
		buf = nb;
		memcpy(buf + total, line, (size_t)len + 1);
		total += (size_t)len + 1;
	}
	for (size_t off = 0, next; off < total; off = next) {
		struct entry e;
		int r;
		next = off + strlen(buf + off) + 1; /* before parse_line cuts the line */
		lineno++;
		r = parse_line(file, lineno, buf + off, vm, &in_ours, &in_section, &e);
		if (r < 0) {
			goto out;
		}
		if (r > 0) {
			continue;
		}
		/* Every value is checked, whichever VM its section is for. */
		snprintf(origin, sizeof(origin), "%s:%d", file, lineno);
		if (exec_config_set(&scratch, e.key, e.value, origin, why, sizeof(why)) < 0) {
			file_error(file, lineno, "%s = %s: %s", exec_opts[e.key].name, e.value, why);
			goto out;
		}
		struct entry *ne = realloc(ents, (n + 1) * sizeof(*ne));
		if (!ne) {
			goto out;
		}
		ents = ne;
		ents[n++] = e;
	}
	/* Global keys, then our section's: a section overrides its file's defaults. */
	for (int pass = 0; pass < 2; pass++) {
		exec_config_layer(c);
		for (size_t i = 0; i < n; i++) {
			if (ents[i].ours && ents[i].section == (pass == 1)) {
				snprintf(origin, sizeof(origin), "%s:%d", file, ents[i].line);
				if (exec_config_set(c, ents[i].key, ents[i].value, origin, why, sizeof(why)) < 0) {
					file_error(file, ents[i].line, "%s", why);
					goto out;
				}
			}
		}
	}
	ret = 0;
out:
	if (ret < 0 && errno == ENOMEM) {
		fprintf(stderr, "fvm-exec: %s: out of memory\n", file);
	}
	exec_config_free(&scratch);
	free(ents);
	free(buf);
	free(line);
	fclose(f);
	return ret;
}
