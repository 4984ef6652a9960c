/*
 * review.c — fvm-exec --review (review.h).
 *
 * The summary goes to stderr, the question and the answer through /dev/tty, so that
 * the command's own stdout stays clean when it is piped. Without a terminal nothing
 * is asked and nothing is committed. Names are the VM's: the summary and the list
 * given to the editor quote them (store/quote.h), and the paths read back are
 * unquoted. Changes that grant privilege are marked, and the commit asks about them
 * on the same terminal.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fvm/env.h"
#include "fvm/layout.h"
#include "review.h"
#include "store/changes.h"
#include "store/commit.h"
#include "store/layers.h"
#include "store/procs.h"
#include "store/quote.h"

static void summary(const char *name, const struct fvm_changes *ch)
{
	size_t n[3] = {0, 0, 0};

	fprintf(stderr, "fvm-exec: VM %s changed:\n", name);
	for (size_t i = 0; i < ch->n; i++) {
		fputs("  ", stderr);
		fvm_change_print(stderr, &ch->v[i]);
		fputc('\n', stderr);
		n[ch->v[i].kind == FVM_ADDED ? 0 : ch->v[i].kind == FVM_MODIFIED ? 1 : 2]++;
	}
	fprintf(stderr, "%zu added, %zu modified, %zu deleted\n", n[0], n[1], n[2]);
}

/*
 * Lets the user edit the list of changed paths in the editor on the terminal TTY.
 * Returns the paths kept (malloc'd, *N of them) or NULL.
 */
static char **pick_paths(const struct fvm_changes *ch, int tty, size_t *n)
{
	char file[] = "/tmp/fvm-review.XXXXXX";
	int fd = mkstemp(file);
	char **paths = NULL;
	FILE *f;

	*n = 0;
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		warn("%s", file);
		return NULL;
	}
	fprintf(f, "# Delete the lines of the changes to leave in the VM; save and quit to commit.\n");
	for (size_t i = 0; i < ch->n; i++) {
		if (i == 0 || strcmp(ch->v[i].vpath, ch->v[i - 1].vpath) != 0) {
			fvm_quote_fputs(ch->v[i].vpath, f);
			fputc('\n', f);
		}
	}
	fclose(f);
	const char *editor = getenv("VISUAL");
	if (!editor || !*editor) {
		editor = getenv("EDITOR");
	}
	if (!editor || !*editor) {
		editor = "vi";
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* The editor runs on the host, not in the VM fvm-exec set up for its child. */
		static const char *const vm_env[] = {FVM_ENV_PRELOAD, FVM_ENV_VM, FVM_ENV_ROOT, FVM_ENV_POLICY};
		for (size_t i = 0; i < sizeof(vm_env) / sizeof(vm_env[0]); i++) {
			unsetenv(vm_env[i]);
		}
		dup2(tty, 0);
		dup2(tty, 1);
		/* $EDITOR may carry arguments ("code -w"), as git allows. */
		execl("/bin/sh", "sh", "-c", "$0 \"$1\"", editor, file, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		warnx("editor %s failed; nothing committed", editor);
		unlink(file);
		return NULL;
	}
	if ((f = fopen(file, "re"))) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		while ((len = getline(&line, &cap, f)) > 0) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] != '/' && line[0] != '"') {
				continue; /* comments and blank lines */
			}
			if (fvm_unquote(line) < 0 || line[0] != '/') {
				warnx("a line of the edited list is not a path; ignored");
				continue;
			}
			char **v = realloc(paths, (*n + 1) * sizeof(*v));
			if (!v) {
				break;
			}
			paths = v;
			paths[(*n)++] = strdup(line);
		}
		free(line);
		fclose(f);
	}
	unlink(file);
	return paths;
}

int review_run(const char *vmdir, const char *name)
{
	char upper[PATH_MAX + 16], answer[16] = "";
	struct fvm_changes ch;
	struct commit_opts o = {0};
	int tty, rc = 0, ret;

	/* A VM with layers: the merged view (store/layers.h), as fvm diff shows it. */
	int view = layer_view(vmdir, upper, sizeof(upper));
	if (view < 0) {
		return 1;
	}
	ret = fvm_changes_scan(upper, NULL, 0, &ch);
	if (view > 0) {
		layer_view_drop(upper);
	}
	if (ret < 0) {
		warnx("%s: %s", upper, strerror(-ret));
		return 1;
	}
	if (ch.n == 0) {
		fprintf(stderr, "fvm-exec: VM %s has no changes\n", name);
		fvm_changes_free(&ch);
		return 0;
	}
	summary(name, &ch);
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (tty < 0) {
		fvm_changes_free(&ch); /* no terminal: the summary is all */
		return 0;
	}
	dprintf(tty, "Commit these changes? [y/N/s] ");
	ssize_t got = read(tty, answer, sizeof(answer) - 1);
	answer[got > 0 ? got : 0] = '\0';
	if (answer[0] == 's' || answer[0] == 'S') {
		o.paths = pick_paths(&ch, tty, &o.npaths);
		if (!o.npaths) {
			answer[0] = 'n';
		}
	}
	if (answer[0] == 'y' || answer[0] == 'Y' || (o.npaths && answer[0] != 'n')) {
		struct commit_ask ask = {.in = tty, .out = tty};
		o.ask = &ask;
		int lock = vm_lock_idle(vmdir, name, "commit");
		/* Commit applies the merged result: the layers go into upper/ first. */
		rc = lock < 0 || (view > 0 && layer_flatten(vmdir) < 0) ? 1 : fvm_commit(vmdir, &o);
		if (lock >= 0) {
			close(lock);
		}
	} else {
		fprintf(stderr, "fvm-exec: changes kept in VM %s (fvm diff %s; fvm commit %s; fvm reset %s)\n",
			name, name, name, name);
	}
	for (size_t i = 0; i < o.npaths; i++) {
		free(o.paths[i]);
	}
	free(o.paths);
	close(tty);
	fvm_changes_free(&ch);
	return rc;
}
