/*
 * cmd_complete.c — fvm __complete: the candidates the shell completions of completion/
 * (bash and zsh) offer, so that both shells complete alike from fvm's own tables.
 *
 *   fvm [--home DIR] __complete [--exec] -- WORD... CURRENT
 *
 * WORDs are the command line after "fvm" (or, with --exec, after "fvm-exec") up to the
 * word being completed, CURRENT (possibly empty). One candidate per line on standard
 * output, those beginning with CURRENT; a line beginning with ':' is a directive for
 * the script instead: ":files" (complete file names too), ":dirs", ":commands" (command
 * names, for fvm-exec's COMMAND), ":nospace" (no space after the candidate, which ends
 * with '=').
 *
 * Rules:
 * - Nothing is copied by hand: subcommands, their options, which options take a value
 *   and what their positional arguments are come from help.c's table (the synopsis and
 *   the options text each subcommand's --help prints); fvm-exec's options, and the keys
 *   of `fvm config VM KEY=VALUE`, from config_table.c's exec_opts. A placeholder names
 *   what is completed: NAME, VM and SRC a VM of the store, LABEL a snapshot label of
 *   the VM named first, COMMAND a subcommand, "a|b|c" the words a, b and c, PATH, FILE,
 *   DIR and key files file names.
 * - The words of an enumerated value (net policies, fence modes...) are offered only
 *   when the value's own parser (exec_value_parse) accepts them.
 * - Completion never fails loudly: standard error is closed, a missing or damaged
 *   store lists no VM, and the status is 0.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "run/config.h"
#include "store/layers.h"

#define MAX_OPTS 48
#define MAX_POS  8

/* One option of a subcommand: "--layer" and its placeholder ("LABEL"; NULL: none). */
struct copt {
	char name[40];
	char arg[48];
};

struct cspec {
	struct copt opt[MAX_OPTS];
	size_t nopt;
	char pos[MAX_POS][48]; /* the positional placeholders, in order */
	size_t npos;
	bool pos_repeat;       /* the last one takes any number of words ("PATH...") */
};

static const char *cur;      /* the word completed */
static struct fvm_store store;
static bool have_store;

static void offer(const char *word)
{
	if (word[0] != ':' && strncmp(word, cur, strlen(cur)) == 0) {
		puts(word);
	}
}

static struct copt *spec_find(struct cspec *sp, const char *name)
{
	for (size_t i = 0; i < sp->nopt; i++) {
		if (strcmp(sp->opt[i].name, name) == 0) {
			return &sp->opt[i];
		}
	}
	return NULL;
}

static void spec_add(struct cspec *sp, const char *name, size_t nl, const char *arg, size_t al)
{
	char n[40];

	if (nl == 0 || nl >= sizeof(n) || name[0] != '-') {
		return;
	}
	memcpy(n, name, nl);
	n[nl] = '\0';
	n[strcspn(n, "[=]")] = '\0'; /* "--color[=WHEN]": an optional value, given after '=' */
	if (spec_find(sp, n) || sp->nopt >= MAX_OPTS) {
		return;
	}
	struct copt *o = &sp->opt[sp->nopt++];
	snprintf(o->name, sizeof(o->name), "%s", n);
	snprintf(o->arg, sizeof(o->arg), "%.*s", (int)(al < sizeof(o->arg) ? al : sizeof(o->arg) - 1),
		 arg ? arg : "");
}

/*
 * The options text: one option per line, "  -o, --output FILE|-    what it does" (the
 * option part ends at two spaces); an option's placeholder follows it after one space.
 */
static void spec_from_options(struct cspec *sp, const char *text)
{
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		const char *p = line;
		if (!end) {
			end = line + strlen(line);
		}
		while (p < end && *p == ' ') {
			p++;
		}
		const char *stop = p;
		while (stop < end && !(stop[0] == ' ' && stop + 1 < end && stop[1] == ' ')) {
			stop++;
		}
		/* Items separated by ", ": "-o", "--output FILE|-". */
		while (p < stop && *p == '-') {
			const char *item_end = p;
			while (item_end < stop && !(item_end[0] == ',' && item_end + 1 < stop && item_end[1] == ' ')) {
				item_end++;
			}
			const char *sp1 = memchr(p, ' ', (size_t)(item_end - p));
			if (sp1) {
				spec_add(sp, p, (size_t)(sp1 - p), sp1 + 1, (size_t)(item_end - sp1 - 1));
			} else {
				spec_add(sp, p, (size_t)(item_end - p), NULL, 0);
			}
			p = item_end < stop ? item_end + 2 : stop;
		}
		line = *end ? end + 1 : end;
	}
}

/* A synopsis token without its brackets and parentheses at either end. */
static void strip(char *t)
{
	size_t l = strlen(t), s = 0;
	while (t[s] == '[' || t[s] == '(') {
		s++;
	}
	memmove(t, t + s, l - s + 1);
	l = strlen(t);
	while (l > 0 && (t[l - 1] == ')' || (t[l - 1] == ']' && !strchr(t, '[')))) {
		t[--l] = '\0';
	}
}

/*
 * The synopsis, "fvm diff NAME [--stat | --json | -p] [--layer LABEL] [PATH...]": its
 * positional placeholders (of the first form, before " | fvm"), and the options the
 * options text does not list (with a placeholder when one follows).
 */
static void spec_from_synopsis(struct cspec *sp, const char *syn)
{
	char buf[512], *save = NULL;
	int word = 0;
	bool arg_next = false;

	snprintf(buf, sizeof(buf), "%s", syn);
	char *alt = strstr(buf, " | fvm ");
	if (alt) {
		*alt = '\0';
	}
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save), word++) {
		if (word < 2) {
			continue; /* "fvm SUB" */
		}
		bool closes = t[strlen(t) - 1] == ']' || t[strlen(t) - 1] == ')';
		strip(t);
		if (arg_next) {
			arg_next = false;
			struct copt *o = &sp->opt[sp->nopt - 1];
			if (t[0] != '-' && t[0] != '|' && !o->arg[0]) {
				snprintf(o->arg, sizeof(o->arg), "%s", t);
			}
			if (t[0] != '-' && t[0] != '|') {
				continue;
			}
		}
		if (t[0] == '-') {
			struct copt *o = spec_find(sp, t);
			if (!o) {
				spec_add(sp, t, strlen(t), NULL, 0);
				arg_next = !closes && sp->nopt > 0 && strcmp(sp->opt[sp->nopt - 1].name, t) == 0;
			} else if (o->arg[0] && !closes) {
				/* Its placeholder follows: not a positional. */
				char *next = strtok_r(NULL, " ", &save);
				word++;
				if (!next) {
					break;
				}
				/* "--compress gzip|zstd|none" says more than "--compress ALG". */
				strip(next);
				if (strchr(next, '|')) {
					snprintf(o->arg, sizeof(o->arg), "%s", next);
				}
			}
			continue;
		}
		if (t[0] == '|' || !(t[0] >= 'A' && t[0] <= 'Z')) {
			continue;
		}
		if (sp->npos < MAX_POS) {
			size_t l = strlen(t);
			sp->pos_repeat = l > 3 && strcmp(t + l - 3, "...") == 0;
			if (sp->pos_repeat) {
				t[l - 3] = '\0';
			}
			snprintf(sp->pos[sp->npos++], sizeof(sp->pos[0]), "%s", t);
		}
	}
}

/* The spec of subcommand SUB from help.c; false when there is none. */
static bool spec_of(const char *sub, struct cspec *sp)
{
	const struct cli_entry *e;

	memset(sp, 0, sizeof(*sp));
	for (size_t i = 0; (e = cli_entry(i)); i++) {
		if (strcmp(e->name, sub) == 0) {
			spec_from_options(sp, e->options);
			spec_from_synopsis(sp, e->synopsis);
			spec_add(sp, "--help", 6, NULL, 0);
			spec_add(sp, "-h", 2, NULL, 0);
			return true;
		}
	}
	return false;
}

static void offer_commands(void)
{
	const struct cli_entry *e;
	for (size_t i = 0; (e = cli_entry(i)); i++) {
		offer(e->name);
	}
}

static int offer_vm(const char *name, void *arg)
{
	(void)arg;
	offer(name);
	return 0;
}

static void offer_vms(void)
{
	if (have_store) {
		store_each_vm(&store, offer_vm, NULL);
	}
}

/* The snapshot labels of VM NAME (and the ids of the unlabelled layers). */
static void offer_labels(const char *name)
{
	char dir[PATH_MAX];
	struct layer_list l;
	struct layer_info info;

	if (!have_store || !name || !fvm_vm_name_valid(name) ||
	    store_vm_dir(&store, name, dir, sizeof(dir)) < 0 || layer_list_read(dir, &l) < 0) {
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (layer_info_read(store.home, l.id[i], &info) == 0 && info.label[0]) {
			offer(info.label);
		} else {
			offer(l.id[i]);
		}
	}
}

/* The words of value kind KIND that its parser accepts (PREFIX before each). */
static void offer_kind(enum exec_kind kind, const char *prefix)
{
	static const char *const words[] = {"true", "false", "all", "loopback", "none", "vm", "shared",
					    "private", "auto", "require", "off", "unlimited", NULL};
	union exec_value v;
	const char *expect;
	char w[128];

	if (kind == V_PATH) {
		puts(":files");
		return;
	}
	if (kind == V_TEXT || kind == V_ALLOW || kind == V_CPUS || kind == V_NICE) {
		return;
	}
	for (int i = 0; words[i]; i++) {
		/* "unlimited" is a size too, but a file (V_FLAG) takes only true and false. */
		if (exec_value_parse(kind, words[i], &v, &expect) == 0) {
			snprintf(w, sizeof(w), "%s%s", prefix, words[i]);
			offer(w);
		}
	}
}

/* What the placeholder P stands for; VM is the VM named first on the line, if any. */
static void offer_placeholder(const char *p, const char *vm)
{
	char buf[80], *save = NULL;
	bool files = false;

	if (strcmp(p, "NAME") == 0 || strcmp(p, "VM") == 0 || strcmp(p, "SRC") == 0) {
		offer_vms();
		return;
	}
	if (strcmp(p, "LABEL") == 0) {
		offer_labels(vm);
		return;
	}
	if (strcmp(p, "COMMAND") == 0) {
		offer_commands();
		return;
	}
	if (strcmp(p, "KEY=VALUE") == 0) {
		const char *eq = strchr(cur, '=');
		if (eq) {
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - cur), cur);
			int k = exec_opt_find(key);
			if (k >= 0) {
				snprintf(buf, sizeof(buf), "%s=", key);
				offer_kind(exec_opts[k].kind, buf);
			}
			return;
		}
		for (int k = 0; k < K_NKEYS; k++) {
			if (!(exec_opts[k].flags & (OPT_CLI | OPT_RUN))) {
				snprintf(buf, sizeof(buf), "%s=", exec_opts[k].name);
				offer(buf);
			}
		}
		puts(":nospace");
		return;
	}
	/* "gzip|zstd|none", "FILE|-|oci:DIR[:TAG]": the lower-case words as they are. */
	snprintf(buf, sizeof(buf), "%s", p);
	for (char *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
		if (strstr(t, "FILE") || strstr(t, "DIR") || strcmp(t, "PATH") == 0 || strcmp(t, "K") == 0 ||
		    strcmp(t, "P") == 0 || strcmp(t, "SIG") == 0 || strstr(t, ".pub")) {
			files = true;
		} else if (t[0] >= 'a' && t[0] <= 'z' && !strchr(t, ':')) {
			offer(t);
		}
	}
	if (files) {
		puts(":files");
	}
}

/* fvm's own words: [--home DIR] SUB [OPTION | ARG]... */
static void complete_fvm(int n, char **w)
{
	int i = 0;

	while (i < n && w[i][0] == '-') {
		if (strcmp(w[i], "--home") == 0) {
			i++;
		}
		i++;
	}
	if (i > n) {
		puts(":dirs"); /* the word after --home */
		return;
	}
	if (i == n) {
		if (cur[0] == '-') {
			offer("--home");
			offer("--help");
			offer("--version");
		} else {
			offer_commands();
		}
		return;
	}
	struct cspec sp;
	if (!spec_of(w[i], &sp)) {
		return;
	}
	const char *vm = NULL;
	size_t npos = 0;
	bool dashdash = false;
	for (int j = i + 1; j < n; j++) {
		struct copt *o = w[j][0] == '-' && !dashdash ? spec_find(&sp, w[j]) : NULL;
		if (!dashdash && strcmp(w[j], "--") == 0) {
			dashdash = true;
		} else if (o && o->arg[0]) {
			if (j + 1 == n) {
				offer_placeholder(o->arg, vm);
				return;
			}
			j++;
		} else if (!o && (dashdash || w[j][0] != '-')) {
			if (npos == 0) {
				vm = w[j];
			}
			npos++;
		}
	}
	if (cur[0] == '-' && !dashdash) {
		for (size_t k = 0; k < sp.nopt; k++) {
			offer(sp.opt[k].name);
		}
		return;
	}
	if (npos < sp.npos) {
		offer_placeholder(sp.pos[npos], vm);
	} else if (sp.npos && sp.pos_repeat) {
		offer_placeholder(sp.pos[sp.npos - 1], vm);
	}
}

/* fvm-exec's words: [OPTION]... [--] COMMAND [ARG...] */
static void complete_exec(int n, char **w)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(w[i], "--") == 0 && i + 1 == n) {
			puts(":commands");
			return;
		}
		if (strcmp(w[i], "--") == 0 || w[i][0] != '-') {
			puts(":files"); /* the command's own arguments */
			return;
		}
		int k = w[i][1] == '-' ? exec_opt_find(w[i] + 2) : -1;
		for (int j = 0; k < 0 && j < K_NKEYS && w[i][1] && !w[i][2]; j++) {
			if (exec_opts[j].short_opt == w[i][1]) {
				k = j;
			}
		}
		if (k >= 0 && exec_opts[k].kind != V_FLAG && !strchr(w[i], '=')) {
			if (i + 1 == n) {
				if (k == K_VM) {
					offer_vms();
				} else {
					offer_kind(exec_opts[k].kind, "");
					if (k == K_UNIX) {
						puts(":files");
					}
				}
				if (k == K_HOME) {
					puts(":dirs");
				}
				return;
			}
			i++;
		}
	}
	if (cur[0] == '-') {
		char buf[64];
		for (int k = 0; k < K_NKEYS; k++) {
			snprintf(buf, sizeof(buf), "--%s", exec_opts[k].name);
			offer(buf);
			if (exec_opts[k].short_opt) {
				snprintf(buf, sizeof(buf), "-%c", exec_opts[k].short_opt);
				offer(buf);
			}
		}
		offer("--");
		return;
	}
	puts(":commands");
}

int cmd_complete(const char *home, int argc, char **argv)
{
	bool exec = false;
	int i = 1;

	if (!freopen("/dev/null", "w", stderr)) {
		fclose(stderr);
	}
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--exec") == 0) {
			exec = true;
		} else {
			return FVM_EXIT_USAGE;
		}
	}
	if (i >= argc - 1) {
		return FVM_EXIT_USAGE; /* "--" and at least CURRENT */
	}
	char **w = argv + i + 1;
	int n = argc - i - 2;
	cur = argv[argc - 1];
	/* The --home of the line being completed, else fvm's own. */
	for (int j = 0; !exec && j + 1 < n && w[j][0] == '-'; j++) {
		if (strcmp(w[j], "--home") == 0) {
			home = w[j + 1];
		}
	}
	have_store = store_locate(&store, home) == 0;
	if (exec) {
		complete_exec(n, w);
	} else {
		complete_fvm(n, w);
	}
	return 0;
}
