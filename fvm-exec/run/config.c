/*
 * config.c — fvm-exec's options and configuration files (config.h).
 *
 * Rules:
 *  - One table (exec_opts) is the command line, the keys of fvm.conf and vm.conf, the
 *    help text and the text of vm.conf. Adding an option is one row (plus its use).
 *  - Layers: /etc/fvm.conf, then ${XDG_CONFIG_HOME:-~/.config}/fvm/fvm.conf (both
 *    replaced by -c FILE), then the VM's vm.conf, then the command line. A key set in a
 *    layer replaces what earlier layers said; a repeatable key accumulates within its
 *    layer. An empty value ("key =") resets the key to its default.
 *  - A file: "key = value" lines before any section are global; "[vm NAME]" starts a
 *    section that applies to VM NAME only and overrides the global keys of the same
 *    file whatever their order. Whole-line comments start with '#' or ';'. Every line
 *    of every section is checked, so a mistake is found even for another VM.
 *  - Every error names the option or FILE:LINE, the key and the value, and is exit 125.
 *
 * The INI format is parsed here, not with libinih: its handler does not get the line
 * number, which every message must name.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fvm/layout.h"

const struct exec_opt exec_opts[K_NKEYS] = {
	[K_VM] = {"vm", 'n', V_TEXT, OPT_CLI, "default", "the VM (created on first use)"},
	[K_HOME] = {"home", 0, V_PATH, OPT_CLI, NULL, "the store (default $FVM_HOME, else ~/.local/share/fvm)"},
	[K_CONFIG] = {"config", 'c', V_PATH, OPT_CLI, NULL, "read this file instead of the system and user fvm.conf"},
	[K_EPHEMERAL] = {"ephemeral", 0, V_FLAG, OPT_CLI, "false", "a fresh VM, removed after the run"},
	[K_KEEP] = {"keep", 0, V_FLAG, OPT_CLI, "false", "with --ephemeral: keep the VM and print its name"},
	[K_REVIEW] = {"review", 0, V_FLAG, OPT_CLI, "false",
		      "afterwards, show the changes and offer to commit them"},
	[K_CPU] = {"cpu", 0, V_SECONDS, 0, NULL, "CPU time per process (RLIMIT_CPU)"},
	[K_MEMORY] = {"memory", 0, V_SIZE, 0, NULL, "address space per process (RLIMIT_AS)"},
	[K_DATA] = {"data", 0, V_SIZE, 0, NULL, "data segment per process (RLIMIT_DATA)"},
	[K_STACK] = {"stack", 0, V_SIZE, 0, NULL, "stack per process (RLIMIT_STACK)"},
	[K_NPROC] = {"nproc", 0, V_COUNT, 0, NULL, "processes of the user (RLIMIT_NPROC)"},
	[K_NOFILE] = {"nofile", 0, V_COUNT, 0, NULL, "open files per process (RLIMIT_NOFILE)"},
	[K_FSIZE] = {"fsize", 0, V_SIZE, 0, NULL, "largest file written (RLIMIT_FSIZE)"},
	[K_CORE] = {"core", 0, V_SIZE, 0, NULL, "core dump size (RLIMIT_CORE)"},
	[K_MEMLOCK] = {"memlock", 0, V_SIZE, 0, NULL, "locked memory (RLIMIT_MEMLOCK)"},
	[K_NICE] = {"nice", 0, V_NICE, 0, NULL, "scheduling niceness, -20..19"},
	[K_CPUS] = {"cpus", 0, V_CPUS, 0, NULL, "CPU affinity, a list such as 0,2-3"},
	[K_TIMEOUT] = {"timeout", 0, V_DURATION, 0, NULL, "wall clock of the whole run (exit 124)"},
	[K_KILL_AFTER] = {"kill-after", 0, V_DURATION, 0, "5s", "grace between SIGTERM and SIGKILL"},
	[K_COPY_LIMIT] = {"copy-limit", 0, V_SIZE, 0, NULL, "largest host file copied up (else EFBIG)"},
	[K_MEMORY_TOTAL] = {"memory-total", 0, V_SIZE, 0, NULL, "memory of the whole VM (cgroup)"},
	[K_PIDS_TOTAL] = {"pids-total", 0, V_COUNT, 0, NULL, "processes of the whole VM (cgroup)"},
	[K_SHARE] = {"share", 0, V_PATH, OPT_LIST, NULL, "written straight through to the host"},
	[K_HIDE] = {"hide", 0, V_PATH, OPT_LIST, NULL, "absent inside the VM"},
	[K_READONLY] = {"readonly", 0, V_PATH, OPT_LIST, NULL, "visible, not writable (EROFS)"},
	[K_SCOPE] = {"scope", 0, V_PATH, OPT_LIST, NULL, "virtualize only these trees"},
	[K_NET] = {"net", 0, V_NET, 0, "all", "network: all, loopback or none"},
	[K_ALLOW] = {"allow", 0, V_ALLOW, OPT_LIST, NULL, "also allow ADDR[/PREFIX][:PORT]"},
	[K_LOOPBACK] = {"loopback", 0, V_LOOPBACK, 0, "shared", "shared, or private (an own 127.x.y.z)"},
	[K_ENFORCE] = {"enforce", 0, V_ENFORCE, 0, "auto", "kernel fence: auto, require or off"},
	[K_VERBOSE] = {"verbose", 'v', V_FLAG, OPT_RUN, "false", "print the policy and the fence"},
	[K_HELP] = {"help", 'h', V_FLAG, OPT_CLI, NULL, "this help"},
	[K_VERSION] = {"version", 0, V_FLAG, OPT_CLI, NULL, "the version"},
};

/* ---- values ---------------------------------------------------------------------- */

struct scale {
	const char *suffix;
	uint64_t mul;
};

static const struct scale size_scale[] = {
	{"", 1}, {"K", 1ull << 10}, {"M", 1ull << 20}, {"G", 1ull << 30}, {"T", 1ull << 40},
	{NULL, 0},
};
static const struct scale sec_scale[] = {
	{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {NULL, 0},
};
static const struct scale ms_scale[] = {
	{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {NULL, 0},
};

/* Digits of T times a suffix of SCALE (case-insensitive) into *OUT, at most MAX. */
static int parse_scaled(const char *t, const struct scale *scale, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;

	if (!isdigit((unsigned char)*t)) {
		return -1;
	}
	errno = 0;
	v = strtoull(t, &end, 10);
	if (errno) {
		return -1;
	}
	for (; scale->suffix; scale++) {
		if (strcasecmp(end, scale->suffix) == 0) {
			if (v > max / scale->mul) {
				return -1;
			}
			*out = v * scale->mul;
			return 0;
		}
	}
	return -1;
}

/* "unlimited" is EXEC_UNSET; else a scaled number. */
static int parse_limit(const char *t, const struct scale *scale, uint64_t *out)
{
	if (strcmp(t, "unlimited") == 0) {
		*out = EXEC_UNSET;
		return 0;
	}
	return parse_scaled(t, scale, EXEC_UNSET - 1, out);
}

static int parse_flag(const char *t, void *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(t, yes[i]) == 0 || strcmp(t, no[i]) == 0) {
			*(bool *)out = strcmp(t, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

static int parse_text(const char *t, void *out)
{
	*(const char **)out = t;
	return *t ? 0 : -1;
}

static int parse_path(const char *t, void *out)
{
	*(const char **)out = t;
	return t[0] == '/' || (t[0] == '~' && (t[1] == '\0' || t[1] == '/')) ? 0 : -1;
}

static int parse_size(const char *t, void *out)
{
	return parse_limit(t, size_scale, out);
}

static int parse_seconds(const char *t, void *out)
{
	uint64_t *v = out;
	return parse_limit(t, sec_scale, v) < 0 || *v == 0 ? -1 : 0;
}

static int parse_duration(const char *t, void *out)
{
	return parse_scaled(t, ms_scale, UINT64_MAX / 2, out);
}

static int parse_count(const char *t, void *out)
{
	uint64_t *v = out;
	return parse_limit(t, size_scale, v) < 0 || *v == 0 ? -1 : 0;
}

static int parse_nice(const char *t, void *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(t, &end, 10);
	if (!*t || *end || errno || v < -20 || v > 19) {
		return -1;
	}
	*(int *)out = (int)v;
	return 0;
}

static int parse_cpus(const char *t, void *out)
{
	cpu_set_t *set = out;
	const char *p = t;

	CPU_ZERO(set);
	do {
		char *end;
		unsigned long lo, hi;
		if (!isdigit((unsigned char)*p)) {
			return -1;
		}
		lo = hi = strtoul(p, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1])) {
				return -1;
			}
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo > hi || hi >= CPU_SETSIZE) {
			return -1;
		}
		for (unsigned long i = lo; i <= hi; i++) {
			CPU_SET(i, set);
		}
		p = end;
	} while (*p == ',' && *++p);
	return *p ? -1 : 0;
}

static int parse_name(const char *t, const char *const *names, int *out)
{
	for (int i = 0; names[i]; i++) {
		if (strcmp(t, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

static int parse_net(const char *t, void *out)
{
	*(int *)out = fvm_net_from_name(t);
	return *(int *)out < 0 ? -1 : 0;
}

static int parse_allow(const char *t, void *out)
{
	static struct fvm_policy scratch;

	(void)out;
	scratch.nallow = 0;
	return fvm_policy_add_allow(&scratch, t) < 0 ? -1 : 0;
}

static int parse_loopback(const char *t, void *out)
{
	static const char *const names[] = {"shared", "private", NULL};
	return parse_name(t, names, out);
}

static int parse_enforce(const char *t, void *out)
{
	static const char *const names[] = {"auto", "require", "off", NULL};
	return parse_name(t, names, out);
}

static const struct {
	int (*parse)(const char *text, void *out);
	const char *expect; /* what a good value looks like, for the error message */
} kinds[] = {
	[V_FLAG] = {parse_flag, "not a boolean: use true or false"},
	[V_TEXT] = {parse_text, "empty"},
	[V_PATH] = {parse_path, "not a path: use an absolute path or ~/..."},
	[V_SIZE] = {parse_size, "not a size: use a number with an optional K, M, G or T suffix, or unlimited"},
	[V_SECONDS] = {parse_seconds, "not a time: use a positive number of seconds with an optional s, m or h suffix, or unlimited"},
	[V_DURATION] = {parse_duration, "not a duration: use a number with an optional ms, s, m or h suffix"},
	[V_COUNT] = {parse_count, "not a count: use a positive number, or unlimited"},
	[V_NICE] = {parse_nice, "not a niceness: use a number from -20 to 19"},
	[V_CPUS] = {parse_cpus, "not a CPU list: use numbers and ranges such as 0,2-3"},
	[V_NET] = {parse_net, "not a network policy: use all, loopback or none"},
	[V_ALLOW] = {parse_allow, "not an address: use ADDR[/PREFIX][:PORT], [IPV6][/PREFIX][:PORT]"},
	[V_LOOPBACK] = {parse_loopback, "not a loopback mode: use shared or private"},
	[V_ENFORCE] = {parse_enforce, "not a fence mode: use auto, require or off"},
};

/* Scratch space large enough for any kind's parsed value. */
union any_value {
	bool b;
	int i;
	uint64_t u;
	const char *s;
	cpu_set_t cpus;
};

/* ---- the layered store of values -------------------------------------------------- */

void exec_config_init(struct exec_config *c)
{
	memset(c, 0, sizeof(*c));
}

static void clear_key(struct exec_config *c, enum exec_key k)
{
	for (size_t i = 0; i < c->n[k]; i++) {
		free(c->vals[k][i].text);
		free(c->vals[k][i].origin);
	}
	c->n[k] = 0;
}

void exec_config_free(struct exec_config *c)
{
	for (int k = 0; k < K_NKEYS; k++) {
		clear_key(c, k);
		free(c->vals[k]);
	}
	memset(c, 0, sizeof(*c));
}

void exec_config_layer(struct exec_config *c)
{
	c->cur_layer++;
}

int exec_opt_find(const char *name)
{
	for (int k = 0; k < K_NKEYS; k++) {
		const char *a = exec_opts[k].name, *b = name;
		while (*a && (*a == *b || (*a == '-' && *b == '_'))) {
			a++, b++;
		}
		if (!*a && !*b) {
			return k;
		}
	}
	return -1;
}

/* "~" and "~/..." with $HOME; anything else as it is. Returns a new string or NULL. */
static char *expand_home(const char *t)
{
	const char *home = getenv("HOME");
	char *out;

	if (t[0] != '~') {
		return strdup(t);
	}
	if (!home || !*home) {
		return NULL;
	}
	if (asprintf(&out, "%s%s", home, t + 1) < 0) {
		return NULL;
	}
	return out;
}

int exec_config_set(struct exec_config *c, enum exec_key k, const char *text, const char *origin,
		    char *why, size_t whylen)
{
	const struct exec_opt *o = &exec_opts[k];
	union any_value v;
	struct exec_val *nv;

	if (c->layer[k] != c->cur_layer || !(o->flags & OPT_LIST) || !*text) {
		clear_key(c, k);
		c->layer[k] = c->cur_layer;
	}
	if (!*text) {
		return 0; /* back to the default */
	}
	if (kinds[o->kind].parse(text, &v) < 0) {
		snprintf(why, whylen, "%s", kinds[o->kind].expect);
		return -1;
	}
	nv = realloc(c->vals[k], (c->n[k] + 1) * sizeof(*nv));
	if (!nv) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	c->vals[k] = nv;
	nv[c->n[k]].text = o->kind == V_PATH ? expand_home(text) : strdup(text);
	nv[c->n[k]].origin = strdup(origin);
	if (!nv[c->n[k]].text || !nv[c->n[k]].origin) {
		snprintf(why, whylen, o->kind == V_PATH ? "cannot expand ~: HOME is not set" : "out of memory");
		free(nv[c->n[k]].text);
		free(nv[c->n[k]].origin);
		return -1;
	}
	c->n[k]++;
	return 0;
}

const char *exec_config_get(const struct exec_config *c, enum exec_key k)
{
	return c->n[k] ? c->vals[k][c->n[k] - 1].text : exec_opts[k].def;
}

/* ---- the command line ------------------------------------------------------------- */

void exec_usage(FILE *out)
{
	fprintf(out, "usage: fvm-exec [OPTIONS] [--] COMMAND [ARG...]\n"
		     "Run COMMAND (default: $SHELL) inside a featherweight VM: it sees the host's\n"
		     "files, and everything it writes lands in the VM.\n\n");
	for (int k = 0; k < K_NKEYS; k++) {
		const struct exec_opt *o = &exec_opts[k];
		char left[40];
		snprintf(left, sizeof(left), "%c%c%c --%s%s", o->short_opt ? '-' : ' ',
			 o->short_opt ? o->short_opt : ' ', o->short_opt ? ',' : ' ', o->name,
			 o->kind == V_FLAG ? "" : " VALUE");
		fprintf(out, "  %-24s %s%s%s%s\n", left, o->help, o->flags & OPT_LIST ? " (repeatable)" : "",
			o->def && o->kind != V_FLAG ? "; default " : "", o->def && o->kind != V_FLAG ? o->def : "");
	}
	fprintf(out, "\nSizes take K, M, G, T; durations ms, s, m, h. See fvm-exec(1), fvm.conf(5).\n"
		     "Exit status: the command's (128+N when killed by signal N); 124 timeout,\n"
		     "125 fvm error, 126 cannot run, 127 not found.\n");
}

int exec_parse_cli(struct exec_config *c, int argc, char **argv)
{
	struct option longopts[K_NKEYS + 1];
	char shortopts[2 * K_NKEYS + 2] = "+", why[256], origin[64];
	size_t ns = 1;
	int ch, idx;

	exec_config_layer(c);
	for (int k = 0; k < K_NKEYS; k++) {
		const struct exec_opt *o = &exec_opts[k];
		longopts[k] = (struct option){o->name, o->kind == V_FLAG ? no_argument : required_argument,
					      NULL, 256 + k};
		if (o->short_opt) {
			shortopts[ns++] = (char)o->short_opt;
			if (o->kind != V_FLAG) {
				shortopts[ns++] = ':';
			}
		}
	}
	longopts[K_NKEYS] = (struct option){NULL, 0, NULL, 0};
	shortopts[ns] = '\0';
	opterr = 1;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		int k = -1;
		if (ch >= 256) {
			k = ch - 256;
		} else {
			for (int i = 0; i < K_NKEYS; i++) {
				if (exec_opts[i].short_opt && exec_opts[i].short_opt == ch) {
					k = i;
				}
			}
		}
		if (k < 0) {
			fprintf(stderr, "fvm-exec: see fvm-exec --help\n");
			return -1;
		}
		if (k == K_HELP) {
			exec_usage(stdout);
			exit(0);
		}
		if (k == K_VERSION) {
			printf("fvm-exec %s\n", FVM_VERSION);
			exit(0);
		}
		const struct exec_opt *o = &exec_opts[k];
		const char *val = o->kind == V_FLAG ? "true" : optarg;
		char *abs = NULL;
		/* A relative path on the command line is relative to the working directory. */
		if (o->kind == V_PATH && val[0] && val[0] != '/' && val[0] != '~') {
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, val) < 0) {
				fprintf(stderr, "fvm-exec: --%s %s: cannot make it absolute\n", o->name, val);
				return -1;
			}
			val = abs;
		}
		snprintf(origin, sizeof(origin), "--%s", o->name);
		int r = !*val && o->kind != V_FLAG ? (snprintf(why, sizeof(why), "empty value"), -1)
						   : exec_config_set(c, k, val, origin, why, sizeof(why));
		free(abs);
		if (r < 0) {
			fprintf(stderr, "fvm-exec: --%s %s: %s\n", o->name, optarg ? optarg : "", why);
			return -1;
		}
	}
	return optind;
}

/* ---- configuration files ---------------------------------------------------------- */

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

int exec_config_read(struct exec_config *c, const char *file, const char *vm, bool missing_ok,
		     bool system)
{
	FILE *f = fopen(file, "re");
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
		fprintf(stderr, "fvm-exec: %s: %s\n", file, strerror(errno));
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

/* ---- the effective settings ------------------------------------------------------- */

static const struct {
	enum exec_key key;
	enum fvm_class klass;
} path_keys[] = {
	{K_SHARE, FVM_CLASS_SHARED},
	{K_HIDE, FVM_CLASS_HIDDEN},
	{K_READONLY, FVM_CLASS_READONLY},
	{K_SCOPE, FVM_CLASS_SCOPE},
};

int exec_settings_build(const struct exec_config *c, struct exec_settings *s)
{
	union any_value v;

	memset(s, 0, sizeof(*s));
	fvm_policy_init(&s->pol);
	s->vm = exec_config_get(c, K_VM);
	s->home = exec_config_get(c, K_HOME);
	s->config = exec_config_get(c, K_CONFIG);
	for (int k = K_EPHEMERAL; k < K_NKEYS; k++) {
		const char *t = exec_config_get(c, k);
		const struct exec_opt *o = &exec_opts[k];
		v.u = EXEC_UNSET;
		if (t && kinds[o->kind].parse(t, &v) < 0) {
			fprintf(stderr, "fvm-exec: %s = %s: %s\n", o->name, t, kinds[o->kind].expect);
			return -1;
		}
		switch (k) {
		case K_EPHEMERAL: s->ephemeral = t && v.b; break;
		case K_KEEP: s->keep = t && v.b; break;
		case K_REVIEW: s->review = t && v.b; break;
		case K_VERBOSE: s->verbose = t && v.b; break;
		case K_NICE: s->nice_set = t != NULL; s->nice = t ? v.i : 0; break;
		case K_CPUS: s->cpus_set = t != NULL; if (t) s->cpus = v.cpus; break;
		case K_TIMEOUT: s->timeout_ms = t ? v.u : 0; break;
		case K_KILL_AFTER: s->kill_after_ms = t ? v.u : 0; break;
		case K_COPY_LIMIT: s->copy_limit = v.u; break;
		case K_MEMORY_TOTAL: s->memory_total = v.u; break;
		case K_PIDS_TOTAL: s->pids_total = v.u; break;
		case K_NET: s->pol.net = (uint32_t)(t ? v.i : FVM_NET_ALL); break;
		case K_LOOPBACK: s->pol.loopback = (uint32_t)(t ? v.i : FVM_LOOPBACK_SHARED); break;
		case K_ENFORCE: s->enforce = t ? v.i : ENFORCE_AUTO; break;
		default:
			if (k >= K_CPU && k <= K_MEMLOCK) {
				s->rlim[k] = v.u;
			}
			break;
		}
	}
	s->pol.copy_limit = s->copy_limit == EXEC_UNSET ? 0 : s->copy_limit;
	for (size_t i = 0; i < sizeof(path_keys) / sizeof(path_keys[0]); i++) {
		enum exec_key k = path_keys[i].key;
		for (size_t j = 0; j < c->n[k]; j++) {
			int r = fvm_policy_add_path(&s->pol, path_keys[i].klass, c->vals[k][j].text);
			if (r < 0) {
				fprintf(stderr, "fvm-exec: %s %s (%s): %s\n", exec_opts[k].name,
					c->vals[k][j].text, c->vals[k][j].origin,
					r == -ENOSPC ? "too many path rules" : strerror(-r));
				return -1;
			}
		}
	}
	for (size_t j = 0; j < c->n[K_ALLOW]; j++) {
		if (fvm_policy_add_allow(&s->pol, c->vals[K_ALLOW][j].text) < 0) {
			fprintf(stderr, "fvm-exec: allow %s (%s): too many allow rules (at most %d)\n",
				c->vals[K_ALLOW][j].text, c->vals[K_ALLOW][j].origin, FVM_POLICY_MAX_ALLOW);
			return -1;
		}
	}
	return 0;
}

void exec_config_write(const struct exec_config *c, FILE *out, bool with_origin)
{
	for (int k = 0; k < K_NKEYS; k++) {
		const struct exec_opt *o = &exec_opts[k];
		if (o->flags & (OPT_CLI | OPT_RUN)) {
			continue;
		}
		if (c->n[k] == 0) {
			/* Written even when empty, so a later default cannot change this VM. */
			fprintf(out, "%s = %s\n", o->name, o->def ? o->def : "");
			continue;
		}
		for (size_t i = 0; i < c->n[k]; i++) {
			fprintf(out, "%s = %s", o->name, c->vals[k][i].text);
			if (with_origin) {
				fprintf(out, "  # %s", c->vals[k][i].origin);
			}
			fputc('\n', out);
		}
	}
}
