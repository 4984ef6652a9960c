/*
 * supervise.c — the supervision of a run (run.h).
 *
 * Rules:
 *  - fvm-exec is a child subreaper: a process of the VM whose parent ends (a daemon
 *    after setsid() and a double fork) becomes fvm-exec's child, never init's. So the
 *    tree below fvm-exec, walked in /proc, is every process of the run; the run's
 *    cgroups, where there are some, are added to it.
 *  - SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to fvm-exec by another process are
 *    forwarded to the command; the run is then ending: when the command has ended, or
 *    after the grace (--kill-after), every process of the VM is ended too.
 *    A signal from the terminal reaches the command directly and is not forwarded.
 *  - On --timeout every process of the run gets SIGTERM, and SIGKILL after the grace;
 *    fvm-exec returns 124 once none is left.
 *  - When the command ends normally, the other processes of the VM keep running
 *    (a VM may start a daemon), unless END_ALL says the VM ends with its command.
 *  - Signals are taken synchronously (sigtimedwait): no handler, no race with waitpid.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "store/store.h"

#define TREE_MAX 8192

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The parent of PID from /proc/PID/stat, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold anything: the fields follow its last ')'. */
	char *p = strrchr(buf, ')');
	int ppid;
	return p && sscanf(p + 1, " %*c %d", &ppid) == 1 ? ppid : -1;
}

/* Every process of the run: descendants of fvm-exec, and the run's cgroups. */
static size_t run_tree(const struct exec_cgroup *cg, pid_t *out)
{
	static pid_t all[TREE_MAX], par[TREE_MAX];
	size_t nall = 0, n = 0;
	struct dirent *d;
	DIR *dir = opendir("/proc");

	if (dir) {
		while ((d = readdir(dir)) && nall < TREE_MAX) {
			int pid = atoi(d->d_name);
			if (pid > 0) {
				all[nall] = pid;
				par[nall++] = parent_of(pid);
			}
		}
		closedir(dir);
	}
	out[n++] = getpid();
	/* Breadth first: out[] grows as children of its members are found. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < nall && n < TREE_MAX; j++) {
			if (par[j] == out[i]) {
				out[n++] = all[j];
			}
		}
	}
	memmove(out, out + 1, (n - 1) * sizeof(*out));
	n--;
	if (cg) {
		n = cgroup_pids(cg, out, n, TREE_MAX);
	}
	return n;
}

/* Sends SIG to every process of the run; returns how many there were. */
static size_t signal_tree(const struct exec_cgroup *cg, int sig)
{
	static pid_t pids[TREE_MAX];
	size_t n = run_tree(cg, pids);

	for (size_t i = 0; i < n; i++) {
		if (pids[i] != getpid()) {
			kill(pids[i], sig);
		}
	}
	return n;
}

enum phase { RUNNING, ENDING, KILLING };

int supervise(const struct exec_super *sup)
{
	sigset_t set, old;
	siginfo_t si;
	int status = 0;
	bool done = false, timed_out = false, stopping = false;
	enum phase phase = RUNNING;
	uint64_t deadline = sup->timeout_ms ? now_ms() + sup->timeout_ms : 0;
	pid_t pid;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		sigaddset(&set, stop_signals[i]);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid < 0) {
		perror("fvm-exec: fork");
		return FVM_EXIT_FVM;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* fvm-exec killed outright (SIGKILL) takes the command with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sup->child(sup->arg);
		_exit(FVM_EXIT_FVM);
	}
	for (;;) {
		pid_t p;
		int st;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p == pid) {
				done = true;
				status = st;
			}
		}
		if (done && phase == RUNNING) {
			if (!sup->end_all && !stopping) {
				break;
			}
			phase = ENDING;
			deadline = now_ms() + sup->kill_after_ms;
			signal_tree(sup->cg, SIGTERM);
		}
		if (phase != RUNNING && done) {
			static pid_t pids[TREE_MAX];
			if (run_tree(sup->cg, pids) == 0) {
				break;
			}
		}
		struct timespec ts, *tsp = NULL;
		uint64_t now = now_ms();
		if (phase == KILLING) {
			deadline = now + 50; /* new children of a dying tree: kill again soon */
		}
		if (deadline) {
			uint64_t left = deadline > now ? deadline - now : 0;
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000;
			tsp = &ts;
		}
		int sig = tsp ? sigtimedwait(&set, &si, tsp) : sigwaitinfo(&set, &si);
		if (sig < 0 && errno == EAGAIN) {
			if (phase == RUNNING && !stopping) {
				timed_out = true;
				phase = ENDING;
				deadline = now_ms() + sup->kill_after_ms;
				signal_tree(sup->cg, SIGTERM);
			} else {
				phase = KILLING;
				signal_tree(sup->cg, SIGKILL);
			}
			continue;
		}
		if (sig <= 0 || sig == SIGCHLD) {
			continue;
		}
		/* A stop signal from another process: forward it, then the VM ends. */
		if ((si.si_code == SI_USER || si.si_code == SI_QUEUE) && si.si_pid != pid) {
			if (!done) {
				kill(pid, sig);
			}
			if (!stopping) {
				stopping = true;
				if (phase == RUNNING) {
					deadline = now_ms() + sup->kill_after_ms;
				}
			}
		}
	}
	if (timed_out) {
		return FVM_EXIT_TIMEOUT;
	}
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
