/*
 * procguard.c — the supervisor's answer to calls that change another process's
 * scheduling, priority or limits (run.h): sched_setaffinity, sched_setscheduler,
 * sched_setparam, sched_setattr, setpriority(PRIO_PROCESS), ioprio_set
 * (IOPRIO_WHO_PROCESS) and prlimit64 with new limits.
 *
 * Rules:
 *  - The filter (seccomp.c) lets a call that names the caller itself (pid or who 0)
 *    through, refuses the forms that name many processes (process groups, users:
 *    EPERM), and hands every call that names a pid to the supervisor: the filter cannot
 *    tell the caller's own tid, or a process of the VM, from a host process.
 *  - A target that is a process of the VM — a descendant of this supervisor, which is a
 *    child subreaper, so however a VM process daemonizes it stays beneath — is let
 *    through (CONTINUE): the kernel then makes its own checks (owner, capabilities) with
 *    the caller's credentials. The supervisor itself is not of the VM. Any other
 *    existing target is EPERM, what a process without the right gets natively; a
 *    target that does not exist is ESRCH, as natively.
 *  - The caller is checked for pid reuse (notify_valid) after /proc was read. The
 *    target's pid is held by a pidfd from before the check to after it: when the
 *    target ends meanwhile the call is ESRCH. Between the check and the kernel's own
 *    lookup of the pid (CONTINUE) the target may still end and its pid be reused by a
 *    host process: that needs the whole pid space to wrap in that window (see the
 *    README's Limitations).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run.h"
#include "store/runs.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* Parents followed at most: deeper trees do not occur; a loop cannot. */
#define DEPTH_MAX 4096

/* TARGET (a tid or a pid) is a process of the VM: a strict descendant of this
 * supervisor. 1, 0 (not of the VM), or -ESRCH (no such process). */
static int of_vm(pid_t target)
{
	struct vm_proc p;
	pid_t me = getpid();

	if (vm_proc_read(target, &p) < 0) {
		return -ESRCH;
	}
	if (target == me) {
		return 0;
	}
	for (int depth = 0; depth < DEPTH_MAX && p.ppid > 1; depth++) {
		if (p.ppid == me) {
			return 1;
		}
		if (vm_proc_read(p.ppid, &p) < 0) {
			return 0; /* a parent gone: the tree changed under us, not provably ours */
		}
	}
	return 0;
}

/* The call REQ names its target pid in argument ARG (0: the caller). */
static long guard(const struct notify *n, const struct seccomp_notif *req, bool *cont, unsigned arg)
{
	pid_t target = (pid_t)(uint32_t)req->data.args[arg]; /* the kernel reads a pid_t */
	long r;

	*cont = false;
	if (target <= 0) {
		*cont = true; /* the caller itself, or a pid no process has: the kernel answers */
		return 0;
	}
	/* PIDFD_THREAD (Linux 6.9): TARGET may be any thread; before, a leader only. */
	int pidfd = (int)syscall(SYS_pidfd_open, target, PIDFD_THREAD);
	if (pidfd < 0 && errno == EINVAL) {
		pidfd = (int)syscall(SYS_pidfd_open, target, 0);
	}
	if (pidfd < 0 && errno != EINVAL && errno != ENOENT) { /* those: a thread, on older kernels */
		return -ESRCH;
	}
	r = of_vm(target);
	if (!notify_valid(n, req->id)) {
		r = -ESRCH;
	} else if (r == 1) {
		if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
			r = -ESRCH; /* it ended during the check: its pid may be another's now */
		} else {
			*cont = true;
			r = 0;
		}
	} else if (r == 0) {
		r = -EPERM;
	}
	if (pidfd >= 0) {
		close(pidfd);
	}
	return r;
}

/* sched_setaffinity, sched_setscheduler, sched_setparam, sched_setattr, prlimit64. */
long proc_guard_arg0(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return guard(n, req, cont, 0);
}

/* setpriority(PRIO_PROCESS, WHO, ...), ioprio_set(IOPRIO_WHO_PROCESS, WHO, ...). */
long proc_guard_arg1(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return guard(n, req, cont, 1);
}
