/*
 * cmd_reset.c — fvm reset NAME [--all] [PATH...]: discard all or the selected changes
 * of upper/; with --all the VM's layers go too (freed when no other VM uses them).
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "store/commit.h"
#include "store/layers.h"
#include "store/procs.h"

int cmd_reset(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
	static const char usage[] = "usage: fvm reset NAME [--all] [PATH...]\n";
	struct layer_list ll, none = {.n = 0};
	char dir[PATH_MAX];
	char **paths;
	bool all = false;
	int c, rc, lock, npaths;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'a') {
			fputs(usage, stderr);
			return FVM_EXIT_USAGE;
		}
		all = true;
	}
	if (optind >= argc || (all && optind + 1 != argc)) {
		fputs(usage, stderr);
		return FVM_EXIT_USAGE;
	}
	npaths = argc - optind - 1;
	if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0 ||
	    (rc = cli_paths(npaths, argv + optind + 1, &paths)) != 0) {
		return rc;
	}
	lock = vm_lock_idle(dir, argv[optind], "reset");
	if (lock < 0) {
		cli_paths_free(paths, npaths);
		return FVM_EXIT_PARTIAL;
	}
	if (all) {
		/* The list first: a crash after it leaves the VM on the host, as asked. */
		if (layer_list_read(dir, &ll) < 0 || layer_list_write(dir, &none) < 0) {
			rc = FVM_EXIT_PARTIAL;
		}
	}
	if (rc == 0) {
		rc = fvm_reset(dir, paths, (size_t)npaths);
	}
	if (all && rc == 0) {
		layer_free_unused(s->home, &ll);
	}
	close(lock);
	cli_paths_free(paths, npaths);
	return rc;
}
