/*
 * quota.c — the per-process quotas of a run (run.h): rlimits, niceness and
 * CPU affinity, set in the child before the exec so that fvm-exec itself, which
 * supervises, is not limited. The limits are inherited by every process of the VM.
 *
 * Rules: soft and hard limit are both set (a program cannot raise its own quota),
 * except RLIMIT_CPU whose hard limit is one second later, so that the soft limit
 * sends SIGXCPU first, as a program expects. A limit above the current hard limit is
 * an error for an unprivileged user (the kernel says EPERM).
 *
 * The disk quotas (disk-limit, files-limit) are libfvm's (libfvm/core/quota.c); here
 * the layer is counted at the run's start (quota_layer_recount), through the store's
 * safe walk and a state file opened with no link followed and checked regular.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sched.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "run.h"
#include "store/store.h"

#define STATE_SIZE 4096 /* libfvm/core/gen.c */

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

int quota_layer_recount(const char *vmdir, const struct exec_settings *s)
{
	struct store_usage u;
	struct stat st;
	uint64_t *w;
	int dfd, fd;

	if (!s->pol.disk_limit && !s->pol.files_limit) {
		return 0;
	}
	if (store_vm_usage(vmdir, &u) < 0) {
		return -1;
	}
	if ((dfd = store_data_open(vmdir)) < 0) {
		return -1;
	}
	fd = openat(dfd, FVM_STATE_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	close(dfd);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (st.st_size < STATE_SIZE && ftruncate(fd, STATE_SIZE) < 0)) {
		warn("%s/%s: cannot count the layer for disk-limit and files-limit", vmdir, FVM_STATE_FILE);
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	w = mmap(NULL, STATE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (w == MAP_FAILED) {
		warn("%s/%s", vmdir, FVM_STATE_FILE);
		return -1;
	}
	__atomic_store_n(&w[FVM_STATE_BYTES], u.bytes, __ATOMIC_RELEASE);
	__atomic_store_n(&w[FVM_STATE_FILES], u.entries, __ATOMIC_RELEASE);
	munmap(w, STATE_SIZE);
	if (s->verbose) {
		fprintf(stderr, "fvm-exec: layer: %llu bytes in %llu entries (disk-limit %s, files-limit %s)\n", u.bytes,
			u.entries, s->pol.disk_limit ? "set" : "none", s->pol.files_limit ? "set" : "none");
	}
	return 0;
}
