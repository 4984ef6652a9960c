/*
 * cmd_squash.c — fvm squash NAME: merge the VM's layers into one (labelled as the top
 * one; files hard-linked, no data copied). upper/ is left as it is; the old layers are
 * freed when no other VM uses them. Refused while a process of the VM runs.
 */
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "store/layers.h"
#include "store/procs.h"

int cmd_squash(const struct fvm_store *s, int argc, char **argv)
{
	struct layer_list ll;
	char dir[PATH_MAX];
	int rc, lock;

	if (argc != 2 || argv[1][0] == '-') {
		return cli_usage("one VM NAME is needed");
	}
	if ((rc = cli_vm(s, argv[1], dir, sizeof(dir))) != 0) {
		return rc;
	}
	lock = vm_lock_idle(dir, argv[1], "squash");
	if (lock < 0) {
		return FVM_EXIT_PARTIAL;
	}
	rc = layer_list_read(dir, &ll) < 0 || layer_squash(dir) < 0 ? FVM_EXIT_PARTIAL : 0;
	close(lock);
	if (rc == 0) {
		printf("%s: %zu layer%s merged into one\n", argv[1], ll.n, ll.n == 1 ? "" : "s");
	}
	return rc;
}
