/*
 * cmd_compare.c — fvm compare A B [-p] [--diffoscope] [PATH...]: what two VMs changed,
 * compared with each other (store/compare.h), one line per path either changed,
 * sorted:
 *
 *   < PATH            only VM A has an object there
 *   > PATH            only VM B has one
 *   M PATH<TAB>WHAT   both have one and it differs: type, content, mode A->B, owner,
 *                     target (comma separated)
 *   = PATH            identical
 *
 * then "A B: N only in A, N only in B, N differ, N identical". Status 0 when nothing
 * differs, 1 when something does, 2 for usage, 3 when a tree cannot be read.
 *
 *   -p            after each differing regular file, diff -u of a text file, or
 *                 diffoscope's report of a binary one when diffoscope is installed
 *                 ("Binary files ... differ" otherwise)
 *   --diffoscope  every differing file goes to diffoscope (implies -p); refused when it
 *                 is not installed
 *
 * The VMs chose every name and byte: names are quoted, and the output of diff and
 * diffoscope is passed on a line at a time with unsafe bytes escaped (store/quote.h).
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "fvm/exit.h"
#include "store/compare.h"
#include "store/layers.h"
#include "store/quote.h"

/* PROG found in PATH. */
static bool have_program(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t l = strcspn(p, ":");
		if (l && snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, p, prog) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0) {
			return true;
		}
		p += l + (p[l] == ':');
	}
	return false;
}

/* Copies the file at fd FROM into a new file TO (mode 0600). 0 or -1. */
static int copy_out(int from, const char *to)
{
	char buf[65536];
	int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	ssize_t n;
	off_t off = 0;

	if (fd < 0) {
		return -1;
	}
	while ((n = pread(from, buf, sizeof(buf), off)) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			close(fd);
			return -1;
		}
		off += n;
	}
	return close(fd) < 0 || n < 0 ? -1 : 0;
}

/*
 * diffoscope on the two files: it would compare /dev/fd/N as links, so each is copied
 * from its fd (never reopened by a name the VM controls) into a private directory, as
 * a/NAME and b/NAME.
 */
static void run_diffoscope(int fa, int fb, const char *vpath)
{
	char dir[] = "/tmp/fvm-compare.XXXXXX", pa[2 * PATH_MAX], pb[2 * PATH_MAX], sa[64], sb[64];
	const char *base = strrchr(vpath, '/') ? strrchr(vpath, '/') + 1 : vpath;

	if (!mkdtemp(dir)) {
		warn("mkdtemp");
		return;
	}
	snprintf(sa, sizeof(sa), "%s/a", dir);
	snprintf(sb, sizeof(sb), "%s/b", dir);
	snprintf(pa, sizeof(pa), "%s/%s", sa, *base ? base : "file");
	snprintf(pb, sizeof(pb), "%s/%s", sb, *base ? base : "file");
	if (mkdir(sa, 0700) == 0 && mkdir(sb, 0700) == 0 && copy_out(fa, pa) == 0 && copy_out(fb, pb) == 0) {
		char *argv[] = {"diffoscope", "--no-progress", "--text", "-", pa, pb, NULL};
		cli_run_escaped(argv, true, NULL);
	} else {
		warn("%s", dir);
	}
	unlink(pa);
	unlink(pb);
	rmdir(sa);
	rmdir(sb);
	rmdir(dir);
}

/* A NUL in the first 8 KiB of FD: a binary file. */
static bool binary(int fd)
{
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	return n > 0 && memchr(buf, '\0', (size_t)n) != NULL;
}

static void show_content(const struct vm_cmp_entry *e, const char *tree[2], const char *name[2],
			 bool diffoscope, bool have_diffoscope)
{
	int fa = vm_compare_open(e, 0, tree[0]), fb = vm_compare_open(e, 1, tree[1]);
	char pa[32], pb[32];
	char *la = cli_label(name[0], e->vpath), *lb = cli_label(name[1], e->vpath);

	if (fa < 0 || fb < 0 || !la || !lb || fcntl(fa, F_SETFD, 0) < 0 || fcntl(fb, F_SETFD, 0) < 0) {
		printf("(cannot read both files)\n");
		goto out;
	}
	snprintf(pa, sizeof(pa), "/dev/fd/%d", fa);
	snprintf(pb, sizeof(pb), "/dev/fd/%d", fb);
	if (diffoscope || (have_diffoscope && (binary(fa) || binary(fb)))) {
		run_diffoscope(fa, fb, e->vpath);
	} else {
		char *argv[] = {"diff", "-u", "--label", la, "--label", lb, pa, pb, NULL};
		cli_run_escaped(argv, true, NULL);
	}
out:
	if (fa >= 0) {
		close(fa);
	}
	if (fb >= 0) {
		close(fb);
	}
	free(la);
	free(lb);
}

static void print_entry(const struct vm_cmp_entry *e)
{
	printf("%c ", e->kind);
	fvm_quote_fputs(e->vpath, stdout);
	if (e->kind == CMP_DIFFERS) {
		putchar('\t');
		/* A type that differs is all that is said (store/compare.h). */
		if (e->what & FVM_DIFF_TYPE) {
			printf("type %s->%s", fvm_change_type_name(e->a.st_mode), fvm_change_type_name(e->b.st_mode));
		} else {
			fvm_change_print_what(stdout, e->what, &e->a, &e->b);
		}
	}
	putchar('\n');
}

int cmd_compare(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"patch", no_argument, NULL, 'p'},
		{"diffoscope", no_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	char dir[2][PATH_MAX], tree[2][PATH_MAX];
	const char *trees[2] = {tree[0], tree[1]}, *labels[2] = {"a", "b"};
	bool patch = false, diffoscope = false, view[2] = {false, false};
	struct vm_cmp cmp;
	char **paths = NULL;
	int c, rc, npaths;

	while ((c = getopt_long(argc, argv, "p", longopts, NULL)) != -1) {
		if (c == 'p') {
			patch = true;
		} else if (c == 'D') {
			patch = diffoscope = true;
		} else {
			return cli_usage(NULL);
		}
	}
	if (argc - optind < 2) {
		return cli_usage("two VM names are needed");
	}
	bool have_diffoscope = have_program("diffoscope");
	if (diffoscope && !have_diffoscope) {
		return cli_usage("--diffoscope: diffoscope is not installed (Debian: diffoscope-minimal)");
	}
	npaths = argc - optind - 2;
	for (int k = 0; k < 2; k++) {
		if ((rc = cli_vm(s, argv[optind + k], dir[k], sizeof(dir[k]))) != 0) {
			return rc;
		}
	}
	if ((rc = cli_paths(npaths, argv + optind + 2, &paths)) != 0) {
		return rc;
	}
	for (int k = 0; k < 2; k++) {
		int r = layer_view(dir[k], tree[k], sizeof(tree[k]));
		if (r < 0) {
			rc = FVM_EXIT_STORE;
			goto out;
		}
		view[k] = r > 0;
	}
	if ((rc = vm_compare(tree[0], tree[1], paths, (size_t)npaths, &cmp)) < 0) {
		warnx("%s, %s: %s", tree[0], tree[1], strerror(-rc));
		rc = FVM_EXIT_STORE;
		goto out;
	}
	for (size_t i = 0; i < cmp.n; i++) {
		const struct vm_cmp_entry *e = &cmp.v[i];
		print_entry(e);
		if (patch && e->kind == CMP_DIFFERS && (e->what & FVM_DIFF_CONTENT) && S_ISREG(e->a.st_mode)) {
			show_content(e, trees, labels, diffoscope, have_diffoscope);
		} else if (patch && e->kind == CMP_DIFFERS && (e->what & FVM_DIFF_TARGET)) {
			char t[2][PATH_MAX];
			for (int k = 0; k < 2; k++) {
				ssize_t n = vm_compare_target(e, k, trees[k], t[k], sizeof(t[k]) - 1);
				t[k][n > 0 ? n : 0] = '\0';
			}
			cli_print_targets(t[0], t[1]);
		}
	}
	printf("%s %s: %zu only in %s, %zu only in %s, %zu differ, %zu identical\n", argv[optind],
	       argv[optind + 1], cmp.only_a, argv[optind], cmp.only_b, argv[optind + 1], cmp.differ, cmp.same);
	rc = cmp.only_a || cmp.only_b || cmp.differ ? FVM_EXIT_REFUSED : FVM_EXIT_OK;
	vm_compare_free(&cmp);
out:
	for (int k = 0; k < 2; k++) {
		if (view[k]) {
			layer_view_drop(tree[k]);
		}
	}
	cli_paths_free(paths, npaths);
	return rc;
}
