/*
 * cmd_reset.c — fvm reset NAME [PATH...]: discard all or the selected changes.
 */
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "store/commit.h"
#include "store/procs.h"

int cmd_reset(const struct fvm_store *s, int argc, char **argv)
{
	char dir[PATH_MAX];
	char **paths;
	int rc, lock;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: fvm reset NAME [PATH...]\n");
		return FVM_EXIT_USAGE;
	}
	if ((rc = cli_vm(s, argv[1], dir, sizeof(dir))) != 0 ||
	    (rc = cli_paths(argc - 2, argv + 2, &paths)) != 0) {
		return rc;
	}
	lock = vm_lock_idle(dir, argv[1], "reset");
	if (lock < 0) {
		cli_paths_free(paths, argc - 2);
		return FVM_EXIT_PARTIAL;
	}
	rc = fvm_reset(dir, paths, (size_t)(argc - 2));
	close(lock);
	cli_paths_free(paths, argc - 2);
	return rc;
}
