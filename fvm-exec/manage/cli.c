/*
 * cli.c — what the fvm subcommands share: naming a VM, PATH arguments, running diff(1)
 * on the VM's files and showing what it says (cmd.h).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "store/layers.h"
#include "fvm/layout.h"
#include "fvm/path.h"
#include "store/journal.h"
#include "store/procs.h"
#include "store/quote.h"

const char *cli_key_file(const struct fvm_store *s, const char *arg, const char *ext, char *buf, size_t len)
{
	if (!s || strchr(arg, '/') || access(arg, F_OK) == 0) {
		return arg;
	}
	for (int with_ext = 0; with_ext < 2; with_ext++) {
		if (snprintf(buf, len, "%s/%s/%s%s", s->home, FVM_KEYS_DIR, arg, with_ext ? ext : "") < (int)len &&
		    access(buf, F_OK) == 0) {
			return buf;
		}
	}
	return arg;
}

int cli_vm(const struct fvm_store *s, const char *name, char *dir, size_t len)
{
	if (store_vm_dir(s, name, dir, len) < 0) {
		return FVM_EXIT_USAGE;
	}
	if (!store_vm_exists(s, name)) {
		warnx("no VM named '%s' in %s", name, s->home);
		return FVM_EXIT_PARTIAL;
	}
	return 0;
}

int cli_one_vm(const struct fvm_store *s, int argc, char **argv, bool with_bytes, struct cli_one *o)
{
	/* Without WITH_BYTES the table ends before --bytes, so getopt names it unknown. */
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'}, {"bytes", no_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
	static const struct option json_only[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	int c;

	o->json = o->bytes = false;
	while ((c = getopt_long(argc, argv, "", with_bytes ? longopts : json_only, NULL)) != -1) {
		if (c != 'j' && c != 'b') {
			return cli_usage(NULL);
		}
		o->json |= c == 'j';
		o->bytes |= c == 'b';
	}
	if (optind + 1 != argc) {
		return cli_usage("one VM NAME is needed");
	}
	o->name = argv[optind];
	return cli_vm(s, o->name, o->dir, sizeof(o->dir));
}

int cli_paths(int n, char **argv, char ***out)
{
	char cwd[PATH_MAX];
	char **v = calloc((size_t)n + 1, sizeof(*v));

	if (!v || !getcwd(cwd, sizeof(cwd))) {
		warn("getcwd");
		free(v);
		return FVM_EXIT_PARTIAL;
	}
	for (int i = 0; i < n; i++) {
		char abs[2 * PATH_MAX + 2];
		if (snprintf(abs, sizeof(abs), "%s%s%s", argv[i][0] == '/' ? "" : cwd,
			     argv[i][0] == '/' ? "" : "/", argv[i]) >= (int)sizeof(abs) ||
		    !(v[i] = malloc(PATH_MAX)) || fvm_path_normalize(abs, v[i], PATH_MAX, true) < 0) {
			warnx("%s: path too long", argv[i]);
			cli_paths_free(v, n);
			return FVM_EXIT_USAGE;
		}
	}
	*out = v;
	return 0;
}

int cli_paths_matched(char *const *paths, size_t npaths, const struct fvm_changes *ch,
		      const char *among)
{
	int rc = 0;

	for (size_t p = 0; p < npaths; p++) {
		size_t len = strlen(paths[p]);
		bool found = false;
		for (size_t i = 0; i < ch->n && !found; i++) {
			const char *v = ch->v[i].vpath;
			size_t vlen = strlen(v);
			/* At PATH or beneath it ("/" selects everything), or a change above PATH
			 * that holds it (a deleted directory is one change). */
			found = (strncmp(v, paths[p], len) == 0 &&
				 (v[len] == '\0' || v[len] == '/' || strcmp(paths[p], "/") == 0)) ||
				(vlen < len && strncmp(v, paths[p], vlen) == 0 && paths[p][vlen] == '/');
		}
		if (!found) {
			fprintf(stderr, "fvm %s: ", cli_command);
			fvm_quote_fputs(paths[p], stderr);
			fprintf(stderr, ": matches no change %s\n", among ? among : "of the VM");
			rc = FVM_EXIT_REFUSED;
		}
	}
	return rc;
}

void cli_paths_free(char **v, int n)
{
	for (int i = 0; v && i < n; i++) {
		free(v[i]);
	}
	free(v);
}

/* The tree the last scan read (a merged view is dropped at the next scan, or at exit). */
static char scan_tree[PATH_MAX];
static bool scan_view;

static void drop_view(void)
{
	if (scan_view) {
		layer_view_drop(scan_tree);
		scan_view = false;
	}
}

const char *cli_scan_tree(void)
{
	return scan_tree;
}

int cli_scan_layer(const struct fvm_store *s, const char *vmdir, const char *label,
		   char *const *paths, size_t npaths, struct fvm_changes *ch)
{
	struct layer_list l;
	int i, ret;

	drop_view();
	if (layer_list_read(vmdir, &l) < 0) {
		return FVM_EXIT_PARTIAL;
	}
	if ((i = layer_find_label(s->home, &l, label)) < 0) {
		warnx("%s: no layer labelled '%s' (fvm snapshots lists them)", vmdir, label);
		return FVM_EXIT_PARTIAL;
	}
	if (layer_tree_path(s->home, l.id[i], scan_tree, sizeof(scan_tree)) < 0) {
		return FVM_EXIT_PARTIAL;
	}
	ret = fvm_changes_scan(scan_tree, paths, npaths, ch);
	if (ret < 0) {
		warnx("%s: %s", scan_tree, strerror(-ret));
		return FVM_EXIT_PARTIAL;
	}
	return 0;
}

int cli_scan(const char *vmdir, char *const *paths, size_t npaths, struct fvm_changes *ch)
{
	static bool registered;
	int ret;

	if (journal_exists(vmdir)) {
		warnx("%s: an interrupted commit is pending; fvm commit finishes it", vmdir);
	}
	drop_view();
	if (!registered) {
		atexit(drop_view);
		registered = true;
	}
	/* A VM with layers: their merge with upper/, made of hard links, is scanned. */
	ret = layer_view(vmdir, scan_tree, sizeof(scan_tree));
	if (ret < 0) {
		return FVM_EXIT_PARTIAL;
	}
	scan_view = ret > 0;
	ret = fvm_changes_scan(scan_tree, paths, npaths, ch);
	if (ret < 0) {
		warnx("%s: %s", scan_tree, strerror(-ret));
		return FVM_EXIT_PARTIAL;
	}
	return 0;
}

void cli_count(const struct fvm_changes *ch, struct cli_counts *n)
{
	memset(n, 0, sizeof(*n));
	for (size_t i = 0; i < ch->n; i++) {
		switch (ch->v[i].kind) {
		case FVM_ADDED:
			n->added++;
			break;
		case FVM_MODIFIED:
			n->modified++;
			break;
		default:
			n->deleted++;
			break;
		}
	}
}

static struct vm_census census[2];
static bool census_wanted, census_taken;

void cli_state_census(void)
{
	census_wanted = true; /* taken at the first VM: a store without VMs walks nothing */
}

/* The two walks, once; false when they cannot be made (each VM then walks itself). */
static bool census_ready(void)
{
	if (census_wanted && !census_taken) {
		census_wanted = false;
		if (vm_census_take(&census[0]) == 0 && vm_census_take(&census[1]) == 0) {
			census_taken = true;
		} else {
			vm_census_free(&census[0]);
			vm_census_free(&census[1]);
		}
	}
	return census_taken;
}

const char *cli_state(const char *vmdir, size_t *nprocs)
{
	int lock = store_vm_lock(vmdir, true, true);
	struct vm_procs p;

	if (lock >= 0) {
		close(lock);
	}
	*nprocs = 0;
	if ((census_ready() ? vm_procs_find_census(&census[0], &census[1], vmdir, &p) : vm_procs_find(vmdir, &p)) == 0) {
		*nprocs = p.n;
		vm_procs_free(&p);
	}
	return lock == -2 || *nprocs ? "running" : "idle";
}

void cli_time(long long t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		snprintf(out, len, "-");
	}
}

char *cli_label(const char *prefix, const char *vpath)
{
	char *raw = NULL, *q;

	if (asprintf(&raw, "%s%s", prefix, vpath) < 0) {
		return NULL;
	}
	q = fvm_quote_dup(raw);
	free(raw);
	return q;
}

void cli_run_escaped(char *const argv[], bool with_stderr, const char *(*line_color)(const char *line))
{
	int pfd[2], status;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		warn("pipe");
		return;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		if (with_stderr) {
			dup2(pfd[1], 2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "fvm %s: %s: %s\n", cli_command, argv[0], strerror(errno));
		_exit(2);
	}
	close(pfd[1]);
	if (pid < 0) {
		warn("fork");
		close(pfd[0]);
		return;
	}
	FILE *in = fdopen(pfd[0], "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while (in && (n = getline(&line, &cap, in)) > 0) {
		bool nl = line[n - 1] == '\n';
		const char *on = line_color ? line_color(line) : NULL;
		fputs(on ? on : "", stdout);
		fvm_quote_text(line, (size_t)n - nl, stdout);
		fputs(on ? "\033[m\n" : "\n", stdout);
	}
	free(line);
	if (in) {
		fclose(in);
	} else {
		close(pfd[0]);
	}
	waitpid(pid, &status, 0);
}

void cli_print_targets(const char *before, const char *after)
{
	fputs("-> ", stdout);
	fvm_quote_fputs(before, stdout);
	fputs("\n+> ", stdout);
	fvm_quote_fputs(after, stdout);
	putchar('\n');
}
