/*
 * cmd_snapshot.c — fvm snapshot NAME [LABEL]: freeze the VM's upper/ into a new
 * read-only layer and start an empty upper/ (store/layers.h). O(1): one rename, no
 * copy, whatever the VM's size. Refused while a process of the VM runs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "store/layers.h"
#include "store/procs.h"

int cmd_snapshot(const struct fvm_store *s, int argc, char **argv)
{
	char dir[PATH_MAX], id[FVM_LAYER_ID_MAX + 1], label[128];
	struct timespec t0, t1;
	int rc, lock;

	if (argc < 2 || argc > 3 || argv[1][0] == '-' || (argc == 3 && argv[2][0] == '-')) {
		return cli_usage(argc >= 2 && argv[1][0] == '-' ? "no option is taken"
								 : "a VM NAME and at most one LABEL are needed");
	}
	if (argc == 3 && (strlen(argv[2]) >= sizeof(label) || strpbrk(argv[2], "\n\r") ||
			  !argv[2][0])) {
		fprintf(stderr, "fvm snapshot: a label is one line of at most %zu bytes\n",
			sizeof(label) - 1);
		return FVM_EXIT_USAGE;
	}
	if ((rc = cli_vm(s, argv[1], dir, sizeof(dir))) != 0) {
		return rc;
	}
	lock = vm_lock_idle(dir, argv[1], "snapshot");
	if (lock < 0) {
		return FVM_EXIT_PARTIAL;
	}
	if (argc == 3) {
		snprintf(label, sizeof(label), "%s", argv[2]);
	} else {
		cli_time((long long)time(NULL), label, sizeof(label));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = layer_snapshot(dir, label, id) < 0 ? FVM_EXIT_PARTIAL : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(lock);
	if (rc == 0) {
		printf("%s: snapshot '%s' (layer %s) in %.1f ms\n", argv[1], label, id,
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	return rc;
}
