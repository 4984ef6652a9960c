/*
 * cmd_diff.c — fvm diff NAME [--stat | --json | -p] [PATH...]: what VM NAME changed,
 * sorted by path, one change per line ("A PATH", "M PATH", "D PATH"); a change that
 * grants privilege is "K! PATH [MARK,...]" (store/changes.h). A PATH that selects no
 * change is an error naming it (status 1), as git's pathspecs.
 *
 *   --stat  "K PATH<TAB>WHAT<TAB>SIZE-BEFORE -> SIZE-AFTER", then a summary line.
 *           WHAT: for A and D the object's type; for M the aspects that differ, comma
 *           separated (content, mode OLD->NEW, owner U:G->U:G, times, xattrs, target).
 *           A privileged change: "K! PATH<TAB>...<TAB>[MARK,...]".
 *   --json  one JSON object per line, keys documented in fvm(1).
 *   -p      each change line followed by a unified diff of a text file's content
 *           (the host's diff(1)), "Binary files ... differ" otherwise.
 *   --conflicts  only the changes whose host object is no longer the one the VM
 *           copied (commit_conflict, store/commit.h: changed on the host since, or a
 *           VM imported from a host whose file differs), in any of the formats.
 *
 *   --color[=WHEN]  colour the kind letters (A green, M yellow, D red, a privileged
 *           change's "!" bold) and -p's +, - and @@ lines, as git does: WHEN is auto
 *           (the default: only on a terminal, never when NO_COLOR is set and not empty,
 *           or TERM is dumb), always (--color alone) or never. --json is never coloured.
 *
 * The VM chose every name and every byte of content: names are quoted and diff(1)'s
 * output is passed through line by line with its unsafe bytes escaped
 * (store/quote.h), so no output can move the cursor or add a line of its own; the
 * colours are fvm's own sequences around that text.
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fvm/layout.h"
#include "json.h"
#include "store/commit.h"
#include "store/originlog.h"
#include "store/quote.h"
#include "store/safefs.h"

enum diff_format { FMT_PLAIN, FMT_STAT, FMT_JSON, FMT_PATCH };

struct diff_ctx {
	const char *upper;
};

/* Colour on (--color, diff_color_choose): the escape sequences below are printed. */
static bool color;

#define COLOR_RESET "\033[m"

/* The colour of change kind KIND's letter. */
static const char *kind_color(char kind)
{
	return kind == FVM_ADDED ? "\033[32m" : kind == FVM_DELETED ? "\033[31m" : "\033[33m";
}

/*
 * Whether to colour, for --color=WHEN (NULL: auto). 0 and *ON set, or -1 for a WHEN
 * that is none of auto, always, never.
 */
static int color_choose(const char *when, bool *on)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (!when || strcmp(when, "auto") == 0) {
		*on = isatty(1) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
	} else if (strcmp(when, "always") == 0) {
		*on = true;
	} else if (strcmp(when, "never") == 0) {
		*on = false;
	} else {
		return -1;
	}
	return 0;
}

/* A change's line as fvm_change_print writes it, its kind letter (and "!") coloured. */
static void change_line(const struct fvm_change *ch)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = color ? open_memstream(&text, &len) : NULL;

	if (!m) {
		fvm_change_print(stdout, ch);
		return;
	}
	fvm_change_print(m, ch);
	fclose(m);
	/* "K PATH..." or "K! PATH...": the letter, then the mark, then the rest as it was. */
	printf("%s%c" COLOR_RESET, kind_color(text[0]), text[0]);
	size_t rest = 1;
	if (len > 1 && text[1] == '!') {
		fputs("\033[1;31m!" COLOR_RESET, stdout);
		rest = 2;
	}
	fwrite(text + rest, 1, len - rest, stdout);
	free(text);
}

static bool has_host(const struct fvm_change *ch)
{
	return ch->kind != FVM_ADDED;
}

static bool has_upper(const struct fvm_change *ch)
{
	return ch->kind != FVM_DELETED;
}

/* The type of the object the change is about: the VM's, or the deleted host one. */
static mode_t change_mode(const struct fvm_change *ch)
{
	return has_upper(ch) ? ch->upper.st_mode : ch->host.st_mode;
}

static void size_field(FILE *out, bool present, const struct stat *st)
{
	if (present && !S_ISDIR(st->st_mode)) {
		fprintf(out, "%lld", (long long)st->st_size);
	} else {
		fputc('-', out);
	}
}

static void print_stat(const struct diff_ctx *d, const struct fvm_change *ch)
{
	(void)d;
	if (color) {
		printf("%s%c" COLOR_RESET "%s ", kind_color(ch->kind), ch->kind,
		       ch->priv ? "\033[1;31m!" COLOR_RESET : "");
	} else {
		printf("%c%s ", ch->kind, ch->priv ? "!" : "");
	}
	fvm_quote_fputs(ch->vpath, stdout);
	putchar('\t');
	if (ch->kind != FVM_MODIFIED) {
		fputs(fvm_change_type_name(change_mode(ch)), stdout);
	} else {
		fvm_change_print_what(stdout, ch->what, &ch->host, &ch->upper);
	}
	putchar('\t');
	size_field(stdout, has_host(ch), &ch->host);
	fputs(" -> ", stdout);
	size_field(stdout, has_upper(ch), &ch->upper);
	if (ch->priv) {
		putchar('\t');
		fvm_change_print_marks(stdout, ch->priv);
	}
	putchar('\n');
}

static void json_num(const char *key, bool present, long long v)
{
	if (present) {
		printf(",\"%s\":%lld", key, v);
	} else {
		printf(",\"%s\":null", key);
	}
}

static void json_target(const char *key, bool present, const char *path)
{
	char t[PATH_MAX];
	ssize_t n = present ? readlink(path, t, sizeof(t) - 1) : -1;

	printf(",\"%s\":", key);
	if (n < 0) {
		printf("null");
		return;
	}
	t[n] = '\0';
	json_string(stdout, t);
}

static void print_json(const struct diff_ctx *d, const struct fvm_change *ch)
{
	char upath[2 * PATH_MAX + 16], mode[16];
	bool h = has_host(ch), u = has_upper(ch);
	bool sized = !S_ISDIR(change_mode(ch));

	snprintf(upath, sizeof(upath), "%s%s", d->upper, ch->vpath);
	printf("{\"kind\":\"%c\",\"path\":", ch->kind);
	json_string(stdout, ch->vpath);
	printf(",\"type\":\"%s\",\"what\":[", fvm_change_type_name(change_mode(ch)));
	const char *sep = "";
	for (const struct fvm_diff_name *n = fvm_diff_names; ch->kind == FVM_MODIFIED && n->name; n++) {
		if (ch->what & n->bit) {
			printf("%s\"%s\"", sep, n->name);
			sep = ",";
		}
	}
	printf("]");
	json_num("size_before", h && sized, (long long)ch->host.st_size);
	json_num("size_after", u && sized, (long long)ch->upper.st_size);
	snprintf(mode, sizeof(mode), "%04o", ch->host.st_mode & 07777);
	printf(",\"mode_before\":%s%s%s", h ? "\"" : "", h ? mode : "null", h ? "\"" : "");
	snprintf(mode, sizeof(mode), "%04o", ch->upper.st_mode & 07777);
	printf(",\"mode_after\":%s%s%s", u ? "\"" : "", u ? mode : "null", u ? "\"" : "");
	json_num("uid_before", h, ch->host.st_uid);
	json_num("uid_after", u, ch->upper.st_uid);
	json_num("gid_before", h, ch->host.st_gid);
	json_num("gid_after", u, ch->upper.st_gid);
	json_target("target_before", h && S_ISLNK(ch->host.st_mode), ch->vpath);
	json_target("target_after", u && S_ISLNK(ch->upper.st_mode), upath);
	printf(",\"privileged\":[");
	sep = "";
	for (const struct fvm_diff_name *n = fvm_priv_names; n->name; n++) {
		if (ch->priv & n->bit) {
			printf("%s\"%s\"", sep, n->name);
			sep = ",";
		}
	}
	printf("]}\n");
}

/* The colour of a line of diff -u's output: hunk headers, added and removed lines. */
static const char *line_color(const char *line)
{
	return line[0] == '@' ? "\033[36m" : line[0] == '+' ? "\033[32m" : line[0] == '-' ? "\033[31m" : NULL;
}

/* The host's diff -u on OLD and NEW, labelled a/VPATH and b/VPATH (quoted). */
static void run_diff(const char *old, const char *new, const char *vpath)
{
	char *la = cli_label("a", vpath), *lb = cli_label("b", vpath);

	if (la && lb) {
		char *argv[] = {"diff", "-u", "--label", la, "--label", lb, (char *)old, (char *)new, NULL};
		cli_run_escaped(argv, false, color ? line_color : NULL);
	} else {
		warn("diff");
	}
	free(la);
	free(lb);
}

/*
 * The upper file of VPATH opened for diff(1) to read as /dev/fd/N: reached beneath
 * UPPER without links, a regular file (never a FIFO to wait on). -1 when it is not.
 */
static int upper_file(const char *upper, const char *vpath)
{
	int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd = -1;
	struct stat st;

	if (ufd >= 0) {
		fd = safe_openat(ufd, vpath, O_RDONLY | O_NONBLOCK, 0);
		close(ufd);
	}
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFD, 0) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd < 0 ? -1 : fd;
}

static void print_patch(const struct diff_ctx *d, const struct fvm_change *ch)
{
	char upath[2 * PATH_MAX + 16], ufile[32] = "/dev/null";
	bool h = has_host(ch) && S_ISREG(ch->host.st_mode);
	bool u = has_upper(ch) && S_ISREG(ch->upper.st_mode);

	change_line(ch);
	putchar('\n');
	snprintf(upath, sizeof(upath), "%s%s", d->upper, ch->vpath);
	if ((h || u) && (ch->kind != FVM_MODIFIED || (ch->what & FVM_DIFF_CONTENT))) {
		int fd = u ? upper_file(d->upper, ch->vpath) : -1;
		if (fd >= 0) {
			snprintf(ufile, sizeof(ufile), "/dev/fd/%d", fd);
		}
		run_diff(h ? ch->vpath : "/dev/null", ufile, ch->vpath);
		if (fd >= 0) {
			close(fd);
		}
	}
	if (ch->kind == FVM_MODIFIED && (ch->what & FVM_DIFF_TARGET)) {
		char a[PATH_MAX] = "", b[PATH_MAX] = "";
		ssize_t na = readlink(ch->vpath, a, sizeof(a) - 1), nb = readlink(upath, b, sizeof(b) - 1);
		a[na > 0 ? na : 0] = '\0';
		b[nb > 0 ? nb : 0] = '\0';
		cli_print_targets(a, b);
	}
}

/*
 * --conflicts: *SHOW (malloc'd, one per change of CH) true for a change whose host
 * object is not the one the VM at VMDIR copied. 0 or the exit status (reported).
 */
static int conflicts_only(const char *vmdir, const struct fvm_changes *ch, bool **show)
{
	char file[PATH_MAX + 16];
	struct originlog orig;
	int e;

	snprintf(file, sizeof(file), "%s/%s", vmdir, FVM_ORIGINS_FILE);
	if ((e = originlog_load(file, &orig)) < 0) {
		warnx("%s: %s", file, strerror(-e));
		return FVM_EXIT_PARTIAL;
	}
	if (!(*show = calloc(ch->n + 1, sizeof(**show)))) {
		originlog_free(&orig);
		warn("diff");
		return FVM_EXIT_PARTIAL;
	}
	for (size_t i = 0; i < ch->n; i++) {
		(*show)[i] = commit_conflict(ch, i, &orig) != NULL;
	}
	originlog_free(&orig);
	return 0;
}

int cmd_diff(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"stat", no_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"patch", no_argument, NULL, 'p'},
		{"layer", required_argument, NULL, 'l'},
		{"conflicts", no_argument, NULL, 'c'},
		{"color", optional_argument, NULL, 'C'},
		{"colour", optional_argument, NULL, 'C'},
		{NULL, 0, NULL, 0},
	};
	const char *layer = NULL, *when = NULL;
	bool conflicts = false;
	enum diff_format fmt = FMT_PLAIN;
	char dir[PATH_MAX], upper[PATH_MAX + 16];
	struct fvm_changes ch;
	char **paths;
	int c, rc, npaths;

	while ((c = getopt_long(argc, argv, "p", longopts, NULL)) != -1) {
		if (c == 'l') {
			layer = optarg;
			continue;
		}
		if (c == 'c') {
			conflicts = true;
			continue;
		}
		if (c == 'C') {
			when = optarg ? optarg : "always";
			continue;
		}
		enum diff_format f = c == 's' ? FMT_STAT : c == 'j' ? FMT_JSON : c == 'p' ? FMT_PATCH : FMT_PLAIN;
		if (f == FMT_PLAIN) {
			return cli_usage(NULL);
		}
		if (fmt != FMT_PLAIN && fmt != f) {
			return cli_usage("--stat, --json and -p exclude each other");
		}
		fmt = f;
	}
	if (optind >= argc) {
		return cli_usage("a VM NAME is needed");
	}
	if (layer && conflicts) {
		return cli_usage("--layer and --conflicts exclude each other");
	}
	if (color_choose(when, &color) < 0) {
		return cli_usage("--color takes auto, always or never");
	}
	color = color && fmt != FMT_JSON;
	npaths = argc - optind - 1;
	if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0 ||
	    (rc = cli_paths(npaths, argv + optind + 1, &paths)) != 0) {
		return rc;
	}
	rc = layer ? cli_scan_layer(s, dir, layer, paths, (size_t)npaths, &ch)
		   : cli_scan(dir, paths, (size_t)npaths, &ch);
	if (rc == 0 && (rc = cli_paths_matched(paths, (size_t)npaths, &ch, layer ? "in that layer" : NULL)) != 0) {
		fvm_changes_free(&ch);
	}
	cli_paths_free(paths, npaths);
	if (rc != 0) {
		return rc;
	}
	snprintf(upper, sizeof(upper), "%s", cli_scan_tree());
	struct diff_ctx d = {.upper = upper};
	bool *show = NULL;
	if (conflicts && (rc = conflicts_only(dir, &ch, &show)) != 0) {
		fvm_changes_free(&ch);
		return rc;
	}
	for (size_t i = 0; i < ch.n; i++) {
		if (show && !show[i]) {
			continue;
		}
		switch (fmt) {
		case FMT_STAT:
			print_stat(&d, &ch.v[i]);
			break;
		case FMT_JSON:
			print_json(&d, &ch.v[i]);
			break;
		case FMT_PATCH:
			print_patch(&d, &ch.v[i]);
			break;
		case FMT_PLAIN:
			change_line(&ch.v[i]);
			putchar('\n');
			break;
		}
	}
	if (fmt == FMT_STAT) {
		struct cli_counts n = {0};
		for (size_t i = 0; i < ch.n; i++) {
			if (!show || show[i]) {
				*(ch.v[i].kind == FVM_ADDED ? &n.added : ch.v[i].kind == FVM_DELETED ? &n.deleted
												      : &n.modified) += 1;
			}
		}
		printf("%zu added, %zu modified, %zu deleted\n", n.added, n.modified, n.deleted);
	}
	free(show);
	fvm_changes_free(&ch);
	return 0;
}
