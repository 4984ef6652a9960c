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
 *  - Files are read by config_file.c; the table of options and the parsers of their
 *    values are config_table.c's.
 *  - Every error names the option or FILE:LINE, the key and the value, and is exit 125.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "store/history.h"

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
	union exec_value v;
	struct exec_val *nv;
	const char *expect;

	if (c->layer[k] != c->cur_layer || !(o->flags & OPT_LIST) || !*text) {
		clear_key(c, k);
		c->layer[k] = c->cur_layer;
	}
	if (!*text) {
		return 0; /* back to the default */
	}
	if (exec_value_parse(o->kind, text, &v, &expect) < 0) {
		snprintf(why, whylen, "%s", expect);
		return -1;
	}
	nv = realloc(c->vals[k], (c->n[k] + 1) * sizeof(*nv));
	if (!nv) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	c->vals[k] = nv;
	struct exec_val *e = &nv[c->n[k]];
	e->text = o->kind == V_PATH ? expand_home(text) : strdup(text);
	e->origin = strdup(origin);
	/* vm.conf holds each value on one line: a newline would write other keys there. */
	const char *bad = !e->text && o->kind == V_PATH ? "cannot expand ~: HOME is not set" :
			  !e->text || !e->origin ? "out of memory" :
			  strchr(e->text, '\n') ? "a value holds no newline" : NULL;
	if (bad) {
		snprintf(why, whylen, "%s", bad);
		free(e->text);
		free(e->origin);
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
		     "\nexamples:\n"
		     "  fvm-exec -n build -- make                 run make in VM build (made on first use)\n"
		     "  fvm-exec --ephemeral --net none -- ./x    a throwaway VM without network\n"
		     "\nExit status: the command's (128+N when killed by signal N); 124 timeout,\n"
		     "125 fvm error (an option, the configuration, the store), 126 cannot run,\n"
		     "127 not found (fvm-exec(1), EXIT STATUS).\n");
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
			fprintf(stderr, "see fvm-exec --help\n");
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
		if (!*val && o->kind != V_FLAG) {
			/* "-n ''": say which option, in the words the user typed. */
			char sopt[4] = "";
			if (o->short_opt) {
				snprintf(sopt, sizeof(sopt), "-%c/", o->short_opt);
			}
			fprintf(stderr, "fvm-exec: option %s--%s was given an empty value; it needs one (%s)\n"
					"see fvm-exec --help\n", sopt, o->name, o->help);
			free(abs);
			return -1;
		}
		int r = exec_config_set(c, k, val, origin, why, sizeof(why));
		free(abs);
		if (r < 0) {
			fprintf(stderr, "fvm-exec: --%s %s: %s\nsee fvm-exec --help\n", o->name, optarg ? optarg : "", why);
			return -1;
		}
	}
	return optind;
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

static int add_unix_allow(struct exec_settings *s, const char *path, const char *origin)
{
	if (s->nunix_allow >= FVM_POLICY_MAX_ALLOW) {
		fprintf(stderr, "fvm-exec: unix:%s (%s): too many allowed unix sockets (at most %d)\n", path, origin,
			FVM_POLICY_MAX_ALLOW);
		return -1;
	}
	s->unix_allow[s->nunix_allow++] = path;
	return 0;
}

int exec_settings_build(const struct exec_config *c, struct exec_settings *s)
{
	union exec_value v;

	memset(s, 0, sizeof(*s));
	fvm_policy_init(&s->pol);
	s->vm = exec_config_get(c, K_VM);
	s->home = exec_config_get(c, K_HOME);
	s->config = exec_config_get(c, K_CONFIG);
	for (int k = K_EPHEMERAL; k < K_NKEYS; k++) {
		const char *t = exec_config_get(c, k);
		const struct exec_opt *o = &exec_opts[k];
		v.u = EXEC_UNSET;
		const char *expect;
		if (t && exec_value_parse(o->kind, t, &v, &expect) < 0) {
			fprintf(stderr, "fvm-exec: %s = %s: %s\n", o->name, t, expect);
			return -1;
		}
		switch (k) {
		case K_EPHEMERAL: s->ephemeral = t && v.b; break;
		case K_KEEP: s->keep = t && v.b; break;
		case K_REVIEW: s->review = t && v.b; break;
		case K_VERBOSE: s->verbose = t && v.b; break;
		case K_STATS: s->stats = t && v.b; break;
		case K_TRACE: s->trace = t && v.b; break;
		case K_RUNS_KEPT: s->runs_kept = !t ? HISTORY_KEEP_DEFAULT : v.u > UINT_MAX ? UINT_MAX : (unsigned)v.u; break;
		case K_NICE: s->nice_set = t != NULL; s->nice = t ? v.i : 0; break;
		case K_CPUS: s->cpus_set = t != NULL; if (t) s->cpus = v.cpus; break;
		case K_TIMEOUT: s->timeout_ms = t ? v.u : 0; break;
		case K_KILL_AFTER: s->kill_after_ms = t ? v.u : 0; break;
		case K_KILL_ON_EXIT: s->kill_on_exit = t && v.b; break;
		case K_COPY_LIMIT: s->copy_limit = v.u; break;
		case K_MEMORY_TOTAL: s->memory_total = v.u; break;
		case K_PIDS_TOTAL: s->pids_total = v.u; break;
		case K_DISK_LIMIT: s->disk_limit = v.u; break;
		case K_FILES_LIMIT: s->files_limit = v.u; break;
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
	s->pol.disk_limit = s->disk_limit == EXEC_UNSET ? 0 : s->disk_limit;
	s->pol.files_limit = s->files_limit == EXEC_UNSET ? 0 : s->files_limit;
	/* A backstop for writes libfvm does not see (stdio's, static programs', raw calls'):
	 * no one file grows past the disk limit (RLIMIT_FSIZE), unless fsize says otherwise. */
	if (s->pol.disk_limit && s->rlim[K_FSIZE] == EXEC_UNSET) {
		s->rlim[K_FSIZE] = s->pol.disk_limit;
	}
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
	/* unix: the last of all and vm wins; a path allows one socket (and means vm). */
	s->unix_vm = s->pol.net == FVM_NET_NONE;
	for (size_t j = 0; j < c->n[K_UNIX]; j++) {
		const char *u = c->vals[K_UNIX][j].text;
		s->unix_vm = strcmp(u, "all") != 0;
		if (u[0] == '/' && add_unix_allow(s, u, c->vals[K_UNIX][j].origin) < 0) {
			return -1;
		}
	}
	/* device: a block device, by its number (the node may have other names). */
	for (size_t j = 0; j < c->n[K_DEVICE]; j++) {
		const char *d = c->vals[K_DEVICE][j].text;
		struct stat st;
		if (s->ndevices >= FVM_POLICY_MAX_ALLOW) {
			fprintf(stderr, "fvm-exec: device %s (%s): too many devices (at most %d)\n", d,
				c->vals[K_DEVICE][j].origin, FVM_POLICY_MAX_ALLOW);
			return -1;
		}
		if (stat(d, &st) < 0 || !S_ISBLK(st.st_mode)) {
			fprintf(stderr, "fvm-exec: device %s (%s): %s\n", d, c->vals[K_DEVICE][j].origin,
				access(d, F_OK) < 0 ? strerror(errno) : "not a block device");
			return -1;
		}
		s->devices[s->ndevices] = d;
		s->device_rdev[s->ndevices++] = st.st_rdev;
	}
	for (size_t j = 0; j < c->n[K_ALLOW]; j++) {
		const char *a = c->vals[K_ALLOW][j].text;
		if (strncmp(a, "unix:", 5) == 0) {
			if (add_unix_allow(s, a + 5, c->vals[K_ALLOW][j].origin) < 0) {
				return -1;
			}
			continue;
		}
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
			const char *t = c->vals[k][i].text;
			size_t tl = strlen(t);
			/* Quoted when the reader (config_file.c) would otherwise trim or unquote it. */
			bool quote = tl && (isspace((unsigned char)t[0]) || isspace((unsigned char)t[tl - 1]) ||
					    t[0] == '"' || t[0] == '#');
			for (size_t j = 1; j < tl && !quote; j++) {
				quote = t[j] == '#' && isspace((unsigned char)t[j - 1]);
			}
			fprintf(out, quote ? "%s = \"%s\"" : "%s = %s", o->name, t);
			if (with_origin) {
				fprintf(out, "  # %s", c->vals[k][i].origin);
			}
			fputc('\n', out);
		}
	}
}
