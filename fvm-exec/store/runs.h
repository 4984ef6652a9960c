/*
 * runs.h — the record of each live run of a VM, in its control area (outside the
 * fence, written only by the tools): CTL/runs/PID, PID being the run's supervisor.
 *
 * The record (text, at most RUN_RECORD_MAX bytes, one "key value" per line):
 *
 *     fvm-run 1
 *     supervisor PID START
 *     cgroup PATH                (0 to RUN_CG_MAX lines: the run's cgroups)
 *
 * START is the supervisor's start time (field 22 of /proc/PID/stat, clock ticks
 * since boot): a record whose PID is now another process, or none, is stale. The
 * supervisor writes its record before the command starts and removes it when the
 * VM's last process has exited; a supervisor that was killed leaves a stale record,
 * which readers ignore and a tool holding the VM's lock exclusively removes.
 */
#ifndef FVM_STORE_RUNS_H
#define FVM_STORE_RUNS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RUN_CG_MAX 4
#define RUN_RECORD_MAX 8192
#define RUNS_DIR "runs"

struct run_record {
	pid_t pid;                     /* the supervisor; 0: gone (run_records_load) */
	unsigned long long start;      /* its start time, /proc/PID/stat field 22 */
	int ncg;
	char cg[RUN_CG_MAX][PATH_MAX]; /* the run's cgroup directories */
};

/* A process as /proc/PID/stat shows it now. */
struct vm_proc {
	pid_t pid, ppid;
	unsigned long long start; /* /proc/PID/stat field 22 */
	unsigned long long utime, stime; /* fields 14 and 15: CPU time in clock ticks */
	char state;               /* R, S, D, Z, T, ... */
	char comm[32];
};

/* Reads PID's parent, state, start time, CPU times and command name into P. Returns 0 or
 * -errno. */
int vm_proc_read(pid_t pid, struct vm_proc *p);

/* The start time of process PID (field 22 of /proc/PID/stat), or 0 when it is gone
 * (or a zombie). */
unsigned long long proc_start_time(pid_t pid);

/* True when R's supervisor is still the process that wrote R. */
bool run_record_live(const struct run_record *r);

/*
 * Writes R as CTLDIR/runs/PID (the directories are made 0700 when missing), whole:
 * a temporary made O_EXCL | O_NOFOLLOW, then renamed. Returns 0 or -errno.
 */
int run_record_write(const char *ctldir, const struct run_record *r);

/* Removes CTLDIR/runs/PID. Returns 0 or -errno (a record already gone is 0). */
int run_record_remove(const char *ctldir, pid_t pid);

/*
 * The live records of CTLDIR into *OUT (malloc'd, *N of them). A malformed record is
 * reported (file and line) and skipped. A stale one whose cgroups still hold processes
 * (its supervisor was killed) is returned with pid 0: its processes are still the
 * VM's. Any other stale one is skipped, and removed with its empty cgroups when PRUNE
 * (the caller holds the VM's lock exclusively). Returns 0 or -errno.
 */
int run_records_load(const char *ctldir, bool prune, struct run_record **out, size_t *n);

#endif
