/*
 * ipc-name — prints the per-VM IPC names the core library computes (libfvm/core's
 * ipcname.c, include/fvm/ipcname.h), so that the tests name a VM's objects on the host
 * with the very function libfvm uses, never with a copy of its hash. Linked against
 * build/libfvmcore.a.
 *
 *   ipc-name prefix VMDIR            the VM's prefix, "fvm.NAME.HHHHHHHH."
 *   ipc-name map VMDIR NAME [LIMIT]  NAME as the VM's object of that name is called on
 *                                    the host (LIMIT bytes at most, default NAME_MAX:
 *                                    a shm or queue name, a /dev/shm entry)
 *
 * VMDIR is the VM's directory, $FVM_HOME/vms/NAME. Exit 0, or 1 with a message.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/ipcname.h"

int main(int argc, char **argv)
{
	char prefix[FVM_IPC_PREFIX_MAX], out[NAME_MAX + 2];
	long limit = NAME_MAX;
	int n;

	if (argc < 3 || (strcmp(argv[1], "prefix") == 0 && argc != 3) ||
	    (strcmp(argv[1], "map") == 0 && argc != 4 && argc != 5) ||
	    (strcmp(argv[1], "prefix") != 0 && strcmp(argv[1], "map") != 0)) {
		fprintf(stderr, "usage: ipc-name prefix VMDIR | ipc-name map VMDIR NAME [LIMIT]\n");
		return 2;
	}
	n = fvm_ipc_prefix(argv[2], prefix, sizeof(prefix));
	if (n < 0) {
		fprintf(stderr, "ipc-name: %s: no prefix (%d)\n", argv[2], n);
		return 1;
	}
	if (strcmp(argv[1], "prefix") == 0) {
		printf("%s\n", prefix);
		return 0;
	}
	if (argc == 5) {
		limit = strtol(argv[4], NULL, 10);
		if (limit <= 0 || limit > NAME_MAX) {
			fprintf(stderr, "ipc-name: LIMIT must be 1..%d\n", NAME_MAX);
			return 2;
		}
	}
	n = fvm_ipc_map(prefix, argv[3], strlen(argv[3]), (size_t)limit, out, sizeof(out));
	if (n < 0) {
		fprintf(stderr, "ipc-name: %s: cannot be mapped (%d)\n", argv[3], n);
		return 1;
	}
	printf("%s\n", out);
	return 0;
}
