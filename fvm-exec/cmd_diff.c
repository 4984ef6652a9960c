/*
 * cmd_diff.c — fvm diff NAME [PATH...]: what VM NAME changed, one line per path,
 * sorted: "A PATH", "M PATH", "D PATH".
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fvm/changes.h"
#include "fvm/layout.h"
#include "fvm/path.h"

int cmd_diff(const struct fvm_store *s, int argc, char **argv)
{
	char dir[PATH_MAX], upper[PATH_MAX + 8];
	struct fvm_changes ch;
	char **paths;
	int npaths, ret;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: fvm diff NAME [PATH...]\n");
		return FVM_EXIT_USAGE;
	}
	if (store_vm_dir(s, argv[1], dir, sizeof(dir)) < 0) {
		return FVM_EXIT_USAGE;
	}
	if (!store_vm_exists(s, argv[1])) {
		warnx("no VM named '%s' in %s", argv[1], s->home);
		return FVM_EXIT_PARTIAL;
	}
	snprintf(upper, sizeof(upper), "%s/%s", dir, FVM_UPPER_DIR);
	npaths = argc - 2;
	paths = calloc((size_t)npaths + 1, sizeof(*paths));
	for (int i = 0; i < npaths; i++) {
		char abs[PATH_MAX * 2], cwd[PATH_MAX];
		if (argv[i + 2][0] == '/') {
			snprintf(abs, sizeof(abs), "%s", argv[i + 2]);
		} else {
			snprintf(abs, sizeof(abs), "%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : "", argv[i + 2]);
		}
		paths[i] = malloc(PATH_MAX);
		fvm_path_normalize(abs, paths[i], PATH_MAX, true);
	}
	ret = fvm_changes_scan(upper, paths, (size_t)npaths, &ch);
	if (ret < 0) {
		warnx("%s: %s", upper, strerror(-ret));
		return FVM_EXIT_PARTIAL;
	}
	for (size_t i = 0; i < ch.n; i++) {
		printf("%c %s\n", ch.v[i].kind, ch.v[i].vpath);
	}
	fvm_changes_free(&ch);
	for (int i = 0; i < npaths; i++) {
		free(paths[i]);
	}
	free(paths);
	return 0;
}
