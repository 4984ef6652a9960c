/*
 * quota.c — the per-process quotas of a run (run.h): rlimits, niceness and
 * CPU affinity, set in the child before the exec so that fvm-exec itself, which
 * supervises, is not limited. The limits are inherited by every process of the VM.
 *
 * Rules: soft and hard limit are both set (a program cannot raise its own quota),
 * except RLIMIT_CPU whose hard limit is one second later, so that the soft limit
 * sends SIGXCPU first, as a program expects. A limit above the current hard limit is
 * an error for an unprivileged user (the kernel says EPERM).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sched.h>

#include "run.h"

static const struct {
	enum exec_key key;
	int resource;
} rlimits[] = {
	{K_CPU, RLIMIT_CPU}, {K_MEMORY, RLIMIT_AS}, {K_DATA, RLIMIT_DATA},
	{K_STACK, RLIMIT_STACK}, {K_NPROC, RLIMIT_NPROC}, {K_NOFILE, RLIMIT_NOFILE},
	{K_FSIZE, RLIMIT_FSIZE}, {K_CORE, RLIMIT_CORE}, {K_MEMLOCK, RLIMIT_MEMLOCK},
};

int quota_apply(const struct exec_settings *s)
{
	for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++) {
		uint64_t v = s->rlim[rlimits[i].key];
		struct rlimit old, rl;
		if (v == EXEC_UNSET) {
			continue;
		}
		getrlimit(rlimits[i].resource, &old);
		rl.rlim_cur = rl.rlim_max = (rlim_t)v;
		if (rlimits[i].resource == RLIMIT_CPU && old.rlim_max > v) {
			rl.rlim_max = (rlim_t)v + 1;
		}
		if (setrlimit(rlimits[i].resource, &rl) < 0) {
			fprintf(stderr, "fvm-exec: --%s %llu: %s (hard limit %llu)\n",
				exec_opts[rlimits[i].key].name, (unsigned long long)v,
				errno == EPERM ? "above the hard limit" : strerror(errno),
				(unsigned long long)old.rlim_max);
			return -1;
		}
	}
	if (s->nice_set && setpriority(PRIO_PROCESS, 0, s->nice) < 0) {
		fprintf(stderr, "fvm-exec: --nice %d: %s\n", s->nice,
			errno == EACCES || errno == EPERM ? "only root may lower the niceness" : strerror(errno));
		return -1;
	}
	if (s->cpus_set && sched_setaffinity(0, sizeof(s->cpus), &s->cpus) < 0) {
		fprintf(stderr, "fvm-exec: --cpus: %s\n",
			errno == EINVAL ? "none of these CPUs is online or allowed" : strerror(errno));
		return -1;
	}
	return 0;
}
