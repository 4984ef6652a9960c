/*
 * ipc_store.h — removing a VM's IPC objects, for fvm rm and an ephemeral run's end.
 */
#ifndef FVM_STORE_IPC_STORE_H
#define FVM_STORE_IPC_STORE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Removes every IPC object of the VM whose directory is VMDIR ($FVM_HOME/vms/NAME, as
 * store_vm_dir() gives it): its shared memory and semaphores in /dev/shm, its message
 * queues (found in the VM's registry, and in /dev/mqueue when that is mounted) and the
 * SysV segments, semaphore sets and queues its registry names. Objects already gone are
 * not an error. Call before the VM directory itself is removed (the registry is there).
 * Returns 0, or -1 after reporting (warn-style) each object it could not remove.
 */
int store_remove_ipc(const char *vmdir);

/* A registry field: a decimal int32, all of TEXT, into *OUT. False for anything else. */
bool store_ipc_parse_int32(const char *text, int32_t *out);

#endif
