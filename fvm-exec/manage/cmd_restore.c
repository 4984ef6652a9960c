/*
 * cmd_restore.c — fvm restore NAME LABEL [--yes]: return the VM to its snapshot LABEL.
 * The layers made after it and the changes of upper/ go (layers freed when no other VM
 * uses them), after a confirmation on a terminal, or with --yes. Refused while a
 * process of the VM runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store/commit.h"
#include "store/layers.h"
#include "store/procs.h"

int cmd_restore(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {{"yes", no_argument, NULL, 'y'}, {NULL, 0, NULL, 0}};
	struct layer_list ll, keep, gone = {.n = 0};
	char dir[PATH_MAX], answer[16];
	bool yes = false;
	int c, rc, lock, at;

	while ((c = getopt_long(argc, argv, "y", longopts, NULL)) != -1) {
		if (c != 'y') {
			return cli_usage(NULL);
		}
		yes = true;
	}
	if (optind + 2 != argc) {
		return cli_usage("a VM NAME and a snapshot LABEL are needed");
	}
	if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0) {
		return rc;
	}
	lock = vm_lock_idle(dir, argv[optind], "restore");
	if (lock < 0) {
		return FVM_EXIT_PARTIAL;
	}
	rc = FVM_EXIT_PARTIAL;
	if (layer_list_read(dir, &ll) < 0) {
		goto out;
	}
	if ((at = layer_find_label(s->home, &ll, argv[optind + 1])) < 0) {
		fprintf(stderr, "fvm restore: VM %s has no snapshot labelled '%s' (fvm snapshots %s)\n",
			argv[optind], argv[optind + 1], argv[optind]);
		goto out;
	}
	if (!yes) {
		if (!isatty(0)) {
			fprintf(stderr, "fvm restore: the changes made after '%s' would go: confirm with --yes\n",
				argv[optind + 1]);
			goto out;
		}
		fprintf(stderr, "VM %s: drop %d later snapshot%s and the changes since the last one? [y/N] ",
			argv[optind], at, at == 1 ? "" : "s");
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
			fprintf(stderr, "fvm restore: nothing changed\n");
			goto out;
		}
	}
	keep.n = ll.n - (size_t)at;
	memcpy(keep.id, ll.id + at, keep.n * sizeof(keep.id[0]));
	gone.n = (size_t)at;
	memcpy(gone.id, ll.id, gone.n * sizeof(gone.id[0]));
	if (layer_list_write(dir, &keep) < 0) {
		goto out;
	}
	rc = fvm_reset(dir, NULL, 0);
	layer_free_unused(s->home, &gone);
	if (rc == 0) {
		printf("%s: restored to '%s'\n", argv[optind], argv[optind + 1]);
	}
out:
	close(lock);
	return rc;
}
