/*
 * account.c — what a run consumed (run.h "accounting"; the record: store/history.h),
 * taken by the run's supervisor, outside the fence, from the kernel's own counters.
 *
 * Rules:
 *  - Nothing is sampled and nothing runs on the command's path: the supervisor reads a
 *    baseline before it forks the command and the counters at the end. The layer's
 *    size, a walk of upper/ (tens of ms for 10,000 files), is measured under --stats
 *    only.
 *  - CPU and peak memory come from the run's cgroup where fvm-exec made one that keeps
 *    them (v2 cpu.stat; memory.peak, v1 memory.max_usage_in_bytes); otherwise from the
 *    supervisor's RUSAGE_CHILDREN: every process of the run descends from the
 *    supervisor (a subreaper), and the kernel adds a reaped child's times and peak RSS,
 *    its own reaped children's included, to its reaper. A process reaped by nobody (its
 *    parent ignores SIGCHLD) is not counted; a peak is then the largest process's.
 *  - I/O is the supervisor's process-wide /proc/self/io less its own thread's: what
 *    the kernel folded in from the reaped tree (same rule).
 *  - Copy-ups are the lines the VM's origins log gained: the VM can write that log, so
 *    the two figures are the VM's own word (io-source says so for none else). So is
 *    the count of processes started: what the state file's word gained (libfvm adds one
 *    in each fork child and after each posix_spawn), plus the command itself.
 *  - Files of the VM's data area are opened O_NOFOLLOW | O_NONBLOCK and must be
 *    regular; at most ACCOUNT_LOG_MAX bytes of the log are read.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fvm/exit.h"
#include "fvm/layout.h"
#include "run.h"
#include "store/store.h"

#define ACCOUNT_LOG_MAX (256ull << 20)

static long long realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* The four byte counters of /proc FILE into V (rchar, wchar, read_bytes, write_bytes). */
static void read_io(const char *file, unsigned long long v[4])
{
	static const char *const keys[4] = {"rchar:", "wchar:", "read_bytes:", "write_bytes:"};
	char key[32];
	unsigned long long val;
	FILE *f = fopen(file, "re");

	memset(v, 0, 4 * sizeof(v[0]));
	if (!f) {
		return;
	}
	while (fscanf(f, "%31s %llu", key, &val) == 2) {
		for (int i = 0; i < 4; i++) {
			if (strcmp(key, keys[i]) == 0) {
				v[i] = val;
			}
		}
	}
	fclose(f);
}

/* What the reaped tree did: the process's counters less the supervisor thread's own. */
static void tree_io(unsigned long long v[4])
{
	unsigned long long self[4];
	char path[64];

	read_io("/proc/self/io", v);
	snprintf(path, sizeof(path), "/proc/self/task/%d/io", (int)getpid());
	read_io(path, self);
	for (int i = 0; i < 4; i++) {
		v[i] = v[i] >= self[i] ? v[i] - self[i] : 0;
	}
}

/* The VM's origins log, opened safely: an fd or -1. */
static int open_origins(const char *vmdir, struct stat *st)
{
	int dfd = store_data_open(vmdir), fd;

	if (dfd < 0) {
		return -1;
	}
	fd = openat(dfd, FVM_ORIGINS_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd >= 0 && (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Word I of the VM's state file (fvm/layout.h), read safely; 0 when unreadable. */
static unsigned long long state_word(const char *vmdir, unsigned i)
{
	unsigned long long v = 0;
	struct stat st;
	int dfd = store_data_open(vmdir), fd;

	if (dfd < 0) {
		return 0;
	}
	fd = openat(dfd, FVM_STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    pread(fd, &v, sizeof(v), (off_t)(i * sizeof(v))) != (ssize_t)sizeof(v)) {
		v = 0;
	}
	if (fd >= 0) {
		close(fd);
	}
	return v;
}

void account_begin(struct run_account *a, const char *vmdir)
{
	struct stat st;
	int fd;

	memset(a, 0, sizeof(*a));
	a->vmdir = vmdir;
	a->start_ms = realtime_ms();
	a->start_mono = monotonic_ms();
	tree_io(a->io);
	if (vmdir && (fd = open_origins(vmdir, &st)) >= 0) {
		a->origins_at = (unsigned long long)st.st_size;
		close(fd);
	}
	a->procs_at = vmdir ? state_word(vmdir, FVM_STATE_PROCS) : 0;
}

/* Counts the lines the origins log gained since A began, and the sizes of the regular
 * files they record, into S. */
static void count_copyups(const struct run_account *a, struct run_stats *s)
{
	char buf[65536], head[128];
	size_t hl = 0;
	unsigned long long done = 0;
	struct stat st;
	ssize_t n;
	int fd;

	if (!a->vmdir || (fd = open_origins(a->vmdir, &st)) < 0) {
		return;
	}
	if ((unsigned long long)st.st_size <= a->origins_at || lseek(fd, (off_t)a->origins_at, SEEK_SET) < 0) {
		close(fd);
		return; /* compacted meanwhile, or nothing new */
	}
	while (done < ACCOUNT_LOG_MAX && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (hl < sizeof(head) - 1) {
					head[hl++] = buf[i];
				}
				continue;
			}
			/* "DEV INO SIZE MTIME MODE ..." (fvm/origins.h) */
			long long size;
			unsigned mode;
			head[hl] = '\0';
			s->copyups++;
			if (sscanf(head, "%*s %*s %lld %*s %o", &size, &mode) == 2 && S_ISREG(mode) && size > 0) {
				s->copy_bytes += (unsigned long long)size;
			}
			hl = 0;
		}
		done += (unsigned long long)n;
	}
	close(fd);
}

/*
 * The quota a command that ended with wait status STATUS and CPU time CPU_MS ran into,
 * with the cgroup's events E, into S->quota: --timeout; --cpu (SIGXCPU, or SIGKILL at
 * the hard limit); --fsize (SIGXFSZ); --memory-total (SIGKILL after the cgroup's OOM
 * killer acted); --pids-total (a fork refused, and the command failed). A per-process
 * --memory, --nproc or --nofile makes a call fail, which the program may survive: not
 * named.
 */
static void name_quota(struct run_stats *s, const struct exec_settings *set, int status, unsigned long long cpu_ms,
		       const struct cgroup_events *e)
{
	const char *q = NULL;

	/* A shell that runs the program which hit the limit exits 128+N for its signal N. */
	int sig = WIFSIGNALED(status) ? WTERMSIG(status)
		  : WEXITSTATUS(status) > 128 && WEXITSTATUS(status) < 128 + 65 ? WEXITSTATUS(status) - 128 : 0;

	if (s->end == RUN_END_TIMEOUT) {
		q = "timeout";
	} else if (sig) {
		if (sig == SIGXCPU || (sig == SIGKILL && set->rlim[K_CPU] != EXEC_UNSET &&
				       cpu_ms >= set->rlim[K_CPU] * 1000)) {
			q = "cpu";
		} else if (sig == SIGXFSZ) {
			q = "fsize";
		} else if (sig == SIGKILL && e->oom_kills) {
			q = "memory-total";
		}
	}
	if (!q && e->pids_max && (WIFSIGNALED(status) || WEXITSTATUS(status) != 0)) {
		q = "pids-total"; /* a fork refused, and the command failed */
	}
	if (q) {
		snprintf(s->quota, sizeof(s->quota), "%s", q);
	}
}

void account_figures(const struct run_account *a, const struct exec_cgroup *cg, const struct exec_settings *set,
		     const struct account_end *how, bool layer, struct run_stats *s)
{
	struct rusage ru;
	struct cgroup_events ev = {0};
	unsigned long long io[4];

	memset(s, 0, sizeof(*s));
	s->pid = getpid();
	s->start_ms = a->start_ms;
	s->end_ms = realtime_ms();
	s->wall_ms = monotonic_ms() - a->start_mono;
	getrusage(RUSAGE_CHILDREN, &ru);
	s->user_ms = (unsigned long long)ru.ru_utime.tv_sec * 1000 + (unsigned long long)ru.ru_utime.tv_usec / 1000;
	s->sys_ms = (unsigned long long)ru.ru_stime.tv_sec * 1000 + (unsigned long long)ru.ru_stime.tv_usec / 1000;
	s->peak_rss = (unsigned long long)ru.ru_maxrss * 1024;
	snprintf(s->cpu_src, sizeof(s->cpu_src), "supervisor");
	snprintf(s->mem_src, sizeof(s->mem_src), "supervisor");
	snprintf(s->io_src, sizeof(s->io_src), "supervisor");
	cgroup_account(cg, s, &ev);
	tree_io(io);
	s->rchar = io[0] - (io[0] >= a->io[0] ? a->io[0] : io[0]);
	s->wchar = io[1] - (io[1] >= a->io[1] ? a->io[1] : io[1]);
	s->read_bytes = io[2] - (io[2] >= a->io[2] ? a->io[2] : io[2]);
	s->write_bytes = io[3] - (io[3] >= a->io[3] ? a->io[3] : io[3]);
	count_copyups(a, s);
	if (a->vmdir) {
		unsigned long long p = state_word(a->vmdir, FVM_STATE_PROCS);
		s->procs = 1 + (p >= a->procs_at ? p - a->procs_at : 0); /* the command, then its forks */
	}
	s->layer_bytes = HISTORY_UNKNOWN;
	if (layer && a->vmdir) {
		struct store_usage u;
		if (store_vm_usage(a->vmdir, &u) == 0) {
			s->layer_bytes = u.bytes;
		}
	}
	if (how->timed_out) {
		s->end = RUN_END_TIMEOUT;
	} else if (WIFSIGNALED(how->status)) {
		s->end = RUN_END_SIGNAL;
		s->signal = WTERMSIG(how->status);
	} else {
		s->end = RUN_END_EXIT;
		s->code = WEXITSTATUS(how->status);
	}
	name_quota(s, set, how->status, how->cmd_cpu_ms, &ev);
}

void account_summary(FILE *out, const char *vm, const struct run_stats *s)
{
	char peak[32], rd[32], wr[32], cp[32], layer[32], ended[64];

	human_size(s->peak_rss, false, peak, sizeof(peak));
	human_size(s->rchar, false, rd, sizeof(rd));
	human_size(s->wchar, false, wr, sizeof(wr));
	human_size(s->copy_bytes, false, cp, sizeof(cp));
	human_size(s->layer_bytes, false, layer, sizeof(layer));
	history_ended(s, ended, sizeof(ended));
	fprintf(out,
		"fvm-exec: VM %s: %llu.%02llus wall, %llu.%02llus user, %llu.%02llus sys (%s), peak %s (%s); "
		"read %s, written %s; %llu process%s; %llu copy-up%s (%s), layer %s; %s\n",
		vm, s->wall_ms / 1000, s->wall_ms % 1000 / 10, s->user_ms / 1000, s->user_ms % 1000 / 10,
		s->sys_ms / 1000, s->sys_ms % 1000 / 10, s->cpu_src, peak, s->mem_src, rd, wr, s->procs,
		s->procs == 1 ? "" : "es", s->copyups, s->copyups == 1 ? "" : "s", cp, layer, ended);
}
