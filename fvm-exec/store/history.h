/*
 * history.h — the accounts of a VM's past runs, in its control area (outside the
 * fence, written only by the run's supervisor): CTL/history/END-PID, one file per run,
 * the last N kept (runs-kept).
 *
 * A record (text, at most HISTORY_RECORD_MAX bytes, "key value" lines, "fvm-history 1"
 * first) holds struct run_stats. Each figure says where it came from: "cgroup" (the
 * run's own cgroup: exact, exited processes included) or "supervisor" (the kernel's
 * accounting of the processes the supervisor reaped: every process of the run descends
 * from it, so each one reaped by an ancestor is counted once it has been); copy-ups
 * are counted from the VM's own origins log, which the VM can write ("vm-log"), and
 * processes started from the VM's state file, which libfvm counts in ("libfvm").
 */
#ifndef FVM_STORE_HISTORY_H
#define FVM_STORE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "store/human.h"

#define HISTORY_DIR "history"
#define HISTORY_RECORD_MAX 4096
#define HISTORY_KEEP_DEFAULT 20
#define HISTORY_UNKNOWN HUMAN_UNKNOWN /* a figure not measured (layer_bytes without --stats) */

/* How a run ended. */
enum run_end {
	RUN_END_RUNNING = 0, /* not yet: figures so far */
	RUN_END_EXIT,        /* the command exited with CODE */
	RUN_END_SIGNAL,      /* the command was killed by SIGNAL */
	RUN_END_TIMEOUT,     /* the wall clock ran out (--timeout) */
};

struct run_stats {
	pid_t pid;                         /* the run's supervisor */
	long long start_ms, end_ms;        /* CLOCK_REALTIME, ms since the epoch */
	unsigned long long wall_ms, user_ms, sys_ms;
	unsigned long long peak_rss;       /* bytes: the cgroup's peak, else the largest process's */
	unsigned long long rchar, wchar;   /* bytes passed to read and write calls */
	unsigned long long read_bytes, write_bytes; /* bytes from and to storage */
	unsigned long long copyups, copy_bytes;     /* copy-ups during the run, their sizes */
	unsigned long long procs;          /* processes started: the command, and each fork and
					      posix_spawn libfvm saw ("libfvm"; 0: not known) */
	unsigned long long layer_bytes;    /* the VM's upper/ at the end; HISTORY_UNKNOWN: not
					      measured (a walk of upper/: only under --stats) */
	int end;                           /* enum run_end */
	int code, signal;
	char quota[24];                    /* the quota that stopped the run ("" none) */
	char cpu_src[12], mem_src[12], io_src[12]; /* "cgroup" or "supervisor" */
};

/*
 * Writes S as a new record in CTLDIR/history (made 0700 when missing): an O_EXCL
 * temporary, then renamed; then removes the oldest records beyond KEEP. Returns 0 or
 * -errno.
 */
int history_write(const char *ctldir, const struct run_stats *s, unsigned keep);

/*
 * The records of CTLDIR, oldest first, into *OUT (malloc'd, *N of them; none: NULL, 0).
 * A malformed record is skipped. Returns 0 or -errno.
 */
int history_load(const char *ctldir, struct run_stats **out, size_t *n);

/*
 * The newest well-formed record of CTLDIR into *OUT, reading no other (fvm list).
 * Returns 1, 0 when there is none, or -errno.
 */
int history_last(const char *ctldir, struct run_stats *out);

/* The name of S's record in CTL/history (END_MS-PID, fixed width), into BUF. */
void history_name(const struct run_stats *s, char *buf, size_t len);

/* "exit 0", "signal 9 (KILL)", "timeout", "running", with ", quota Q" when one stopped
 * it, into BUF. */
void history_ended(const struct run_stats *s, char *buf, size_t len);

#endif
