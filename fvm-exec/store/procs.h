/*
 * procs.h — the processes running in a VM, for the tools that must not act on a
 * running VM (commit, reset, rm) and for fvm info.
 *
 * A process is in VM VMDIR when its initial environment carries FVM_ROOT=VMDIR (every
 * process libfvm runs does, env -i included) or when it holds VMDIR's lock (fvm-exec).
 * Processes of other users cannot be inspected without privilege and are missed by an
 * unprivileged caller; the lock still tells that the VM runs.
 */
#ifndef FVM_STORE_PROCS_H
#define FVM_STORE_PROCS_H

#include <stddef.h>
#include <sys/types.h>

struct vm_procs {
	pid_t *pid;  /* sorted */
	size_t n;
};

/* Finds the processes of VM directory VMDIR into P. Returns 0 or -errno. */
int vm_procs_find(const char *vmdir, struct vm_procs *p);
void vm_procs_free(struct vm_procs *p);

/*
 * "PID (COMM), PID (COMM)" into OUT (size LEN), truncated with "..." if need be; each
 * COMM quoted (store/quote.h).
 */
void vm_procs_describe(const struct vm_procs *p, char *out, size_t len);

/*
 * Takes VMDIR's lock exclusively without waiting. When the VM runs, reports
 * "VM NAME is running (ACTION refused): PIDS" and returns -2; -1 on another failure
 * (reported). Returns the lock fd (close to release).
 */
int vm_lock_idle(const char *vmdir, const char *name, const char *action);

/*
 * Ends the processes of VMDIR: SIGTERM, then SIGKILL to those still there after
 * GRACE_MS. Returns 0 when none is left, else -EBUSY.
 */
int vm_procs_end(const char *vmdir, int grace_ms);

#endif
