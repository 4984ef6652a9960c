/*
 * procs.h — the processes of a VM: found, named, measured and ended, for fvm-exec (its
 * supervisor, its cgroups' accounts and its closing message), fvm ps, fvm stop, fvm
 * stats, fvm top, fvm info and list, and the tools that must not act on a running VM
 * (commit, reset, rm).
 *
 * A process is in VM VMDIR when it descends from the supervisor of one of the VM's
 * live runs (runs.h) or sits in one of those runs' cgroups: the supervisor is a child
 * subreaper, so no double fork, setsid() or closed descriptor takes a process out of
 * its tree. A run whose supervisor was killed still has its cgroups; and, as a last
 * net, a process whose initial environment carries FVM_ROOT=VMDIR is the VM's. Each process is named with its start
 * time, so a pid reused meanwhile is never signalled.
 */
#ifndef FVM_STORE_PROCS_H
#define FVM_STORE_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "store/runs.h"

struct vm_procs {
	struct vm_proc *v; /* sorted by pid */
	size_t n;
	size_t nruns;      /* runs whose supervisor lives */
};

/* The processes of run R (not its supervisor) into P (emptied first). 0 or -errno. */
int vm_procs_of_run(const struct run_record *r, struct vm_procs *p);

/* Finds the processes of the VM at VMDIR into P. Returns 0 or -errno. */
int vm_procs_find(const char *vmdir, struct vm_procs *p);
void vm_procs_free(struct vm_procs *p);

/*
 * One walk of /proc for many VMs (fvm list): every process with its parent, and the
 * FVM_ROOT entries of its initial environment. vm_procs_find_census answers
 * vm_procs_find for VMDIR from two censuses taken one after the other (A, B), reading
 * only the VM's run records; where the two disagree on the VM (a process forked or
 * ended between them) it walks /proc again for that VM alone, as vm_procs_find does.
 */
struct vm_census {
	struct vm_proc *v;
	size_t n;
	char **roots;       /* per process: its FVM_ROOT=... entries, NUL-separated, or NULL */
	size_t *roots_len;  /* their length in bytes */
};
int vm_census_take(struct vm_census *c);
void vm_census_free(struct vm_census *c);
int vm_procs_find_census(const struct vm_census *a, const struct vm_census *b, const char *vmdir,
			 struct vm_procs *p);

/*
 * "PID (COMM), PID (COMM)" (PARENS) or "PID COMM, PID COMM" into OUT (size LEN),
 * truncated with "..." if need be; each COMM quoted (store/quote.h).
 */
void vm_procs_describe(const struct vm_procs *p, bool parens, char *out, size_t len);

/*
 * The number after KEY in /proc/PID/FILE ("Key: value" or "key value" lines, KEY with
 * its colon where the file has one: "VmRSS:", "rchar:"), 0 when absent or unreadable
 * (another uid's io).
 */
unsigned long long vm_proc_counter(pid_t pid, const char *file, const char *key);

/*
 * The number after KEY in FILE of cgroup directory DIR ("key value" lines, as v2's
 * cpu.stat; KEY NULL: the file's single number, as memory.current) into *V. True when
 * read.
 */
bool run_cgroup_counter(const char *dir, const char *file, const char *key, unsigned long long *v);

/*
 * Sends SIG to each process of P that is still the one listed (same start time),
 * through a pidfd so that a pid reused meanwhile is never hit. Returns how many
 * were signalled.
 */
size_t vm_procs_signal(const struct vm_procs *p, int sig);

/*
 * Takes VMDIR's lock exclusively without waiting, for ACTION on VM NAME, and checks
 * that no process of the VM lives. When one does, reports "VM NAME is running; ACTION
 * refused while these processes run: PID (COMM), ..." and returns -2; -1 on another
 * failure (reported). Returns the lock fd (close to release): while it is held no run
 * of the VM can start. A pending switch of the VM's layers (layers.h) is applied first.
 */
int vm_lock_idle(const char *vmdir, const char *name, const char *action);

/*
 * Ends the processes of VMDIR: SIGTERM, then SIGKILL to those still there after
 * GRACE_MS (the runs' cgroups are killed whole where the kernel can). Waits until their
 * supervisors are gone too. Returns 0 when none is left, else -EBUSY.
 */
int vm_procs_end(const char *vmdir, int grace_ms);

#endif
