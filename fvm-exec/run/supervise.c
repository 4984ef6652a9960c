/*
 * supervise.c — the supervisor of a run, and fvm-exec's wait for its command (run.h).
 *
 *   fvm-exec ──fork──> supervisor ──fork──> command ──> ... every process of the run
 *
 * Rules:
 *  - The supervisor is a child subreaper outside the fence, one per run: a process of
 *    the VM whose parent ends (a daemon after setsid() and a double fork) becomes its
 *    child, never init's, so no process of the run leaves its tree. The run's cgroups,
 *    where there are some, hold the same processes (a root process that moves itself
 *    out of them is still in the tree; both are used).
 *  - It writes the run's record (runs.h) before the command starts and removes it, with
 *    the cgroups, when the VM's last process has exited; it holds the run lock (shared)
 *    until then, so commit, reset and rm cannot act on a VM in use. The last run to
 *    end applies the switch of layers a pull left meanwhile (store/layers.h).
 *  - fvm-exec returns when the command ends, with its status (128+N when killed by
 *    signal N); it names the processes the command left running on stderr in one line.
 *    The supervisor stays with them, its standard streams on /dev/null.
 *  - Hand-offs are few, each a wake-up that costs most on a loaded machine: the
 *    supervisor forks the command first and records the run while the command's
 *    process builds its fence, which waits for GO (the record is written) before its
 *    exec; the command's pid and the final report of an empty VM go through a page
 *    shared with fvm-exec, which sleeps until the supervisor has exited (SIGCHLD) or
 *    writes on the pipe (the run failed, or processes of the VM remain). No process of
 *    the VM holds that page or the pipe: the command's process drops both before its
 *    exec.
 *  - END_ALL (--kill-on-exit, an ephemeral VM): when the command ends, every process
 *    of the VM gets SIGTERM, then SIGKILL after the grace (--kill-after); fvm-exec
 *    returns the command's status once none is left.
 *  - SIGINT, SIGTERM, SIGHUP and SIGQUIT sent by another process (to fvm-exec, which
 *    passes them on, or to the supervisor) are forwarded to the command; the VM then
 *    ends as under END_ALL, or after the grace if the command does not end. A signal
 *    from the terminal reaches the command directly and is not forwarded.
 *  - On --timeout every process of the VM gets SIGTERM, and SIGKILL after the grace;
 *    fvm-exec returns 124 once none is left. The clock runs for the whole run: the
 *    processes a command left running are ended when it runs out too.
 *  - fvm-exec killed outright (SIGKILL) takes the command with it; the rest of the VM
 *    stays under its supervisor.
 *  - The supervisor waits in one poll() loop over descriptors: its signals, fvm-exec's
 *    end of a pipe, and the services it gives the VM (the POSIX-queue broker,
 *    mqbroker.c); a seccomp notification listener is one more row of that loop, served
 *    blocked in RECV while nothing else is pending (recvwait.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "store/layers.h"
#include "store/procs.h"
#include "store/runs.h"
#include "store/store.h"

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* What the supervisor tells fvm-exec: over the pipe while fvm-exec must wake (the
 * supervisor stays), in the shared page when the supervisor exits right after. */
enum super_msg_kind {
	MSG_ENDED = 2,   /* fvm-exec returns STATUS now; PID 1: processes of the VM remain */
	MSG_FAILED,      /* the run could not start (reported): fvm-exec returns 125 */
};

struct super_msg {
	int kind;
	int status;
	pid_t pid;
	struct run_stats stats; /* MSG_ENDED: the run's figures (end RUNNING: none) */
};

/* The page fvm-exec and the supervisor share (MAP_SHARED, made before the fork). */
struct super_page {
	pid_t cmd;              /* the command, once forked (0: not yet) */
	int final;              /* 1: MSG holds the last report, the supervisor is exiting */
	struct super_msg msg;
};
static struct super_page *page;
static int go_fd = -1; /* the command's process: the read end of GO */

enum phase { RUNNING, ENDING, KILLING };

/* The supervisor's state. */
struct super {
	const struct exec_super *sup;
	struct run_record rec; /* this run, as its record says */
	pid_t cmd;
	int status;            /* the command's wait status */
	bool cmd_done, reported, timed_out, stopping;
	bool reap_due; /* a SIGCHLD came since the last reap (or none was made yet) */
	enum phase phase;
	uint64_t deadline;     /* ms, CLOCK_MONOTONIC; 0: none */
	int up;                /* the pipe to fvm-exec */
	struct run_account acct; /* the baseline of the run's figures */
	unsigned long long cmd_cpu_ms; /* the command's own CPU time */
	struct run_stats stats;  /* the figures at the end (end RUNNING: not yet taken) */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		sigaddset(set, stop_signals[i]);
	}
}

static bool is_stop_signal(int sig)
{
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		if (stop_signals[i] == sig) {
			return true;
		}
	}
	return false;
}

static void tell(int fd, int kind, int status, pid_t pid, const struct run_stats *st)
{
	struct super_msg m = {.kind = kind, .status = status, .pid = pid};

	if (st) {
		m.stats = *st;
	}

	if (fd >= 0 && write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m)) {
		/* fvm-exec is gone: nobody waits for the status */
	}
}

/* ---- the supervisor -------------------------------------------------------------- */

/* Sends SIG to every process of the run. */
static void signal_all(const struct super *s, int sig)
{
	struct vm_procs p = {0};

	if (vm_procs_of_run(&s->rec, &p) == 0) {
		vm_procs_signal(&p, sig);
	}
	vm_procs_free(&p);
}

/* Reaps every child that ended; the command's status is kept. */
static void reap(struct super *s)
{
	struct rusage ru;
	pid_t p;
	int st;

	while ((p = wait4(-1, &st, WNOHANG, &ru)) > 0) {
		if (p == s->cmd) {
			s->cmd_done = true;
			s->status = st;
			s->cmd_cpu_ms = (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
					(unsigned long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
		}
	}
}

/* True when no process of the run is left: no child (every process descends from the
 * supervisor) and nobody in its cgroups. */
static bool run_empty(const struct super *s)
{
	siginfo_t si = {0};
	pid_t none[1];

	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD) {
		return false;
	}
	return cgroup_pids(s->sup->cg, none, 0, 1) == 0;
}

static int exit_status(const struct super *s)
{
	if (s->timed_out) {
		return FVM_EXIT_TIMEOUT;
	}
	return WIFSIGNALED(s->status) ? 128 + WTERMSIG(s->status) : WEXITSTATUS(s->status);
}

/* The run's figures into S->stats: so far, or FINAL (the VM is empty; under --stats the
 * layer's size too). */
static void take_figures(struct super *s, bool final)
{
	struct account_end how = {.status = s->status, .timed_out = s->timed_out, .cmd_cpu_ms = s->cmd_cpu_ms};

	account_figures(&s->acct, s->sup->cg, s->sup->s, &how, final && s->sup->stats, &s->stats);
}

/* fvm-exec's status and the run's figures; LEFT: processes of the VM remain (the
 * figures are those so far; fvm-exec is woken by the pipe). Else the supervisor exits
 * right after: the report waits in the shared page and its exit wakes fvm-exec. */
static void report(struct super *s, bool left)
{
	if (!s->reported) {
		if (left) {
			take_figures(s, false);
			tell(s->up, MSG_ENDED, exit_status(s), left, &s->stats);
		} else {
			page->msg = (struct super_msg){.kind = MSG_ENDED, .status = exit_status(s), .stats = s->stats};
			__atomic_store_n(&page->final, 1, __ATOMIC_RELEASE);
		}
		s->reported = true;
	}
}

/* The VM ends: SIGTERM to all, SIGKILL after the grace. */
static void begin_ending(struct super *s)
{
	s->phase = ENDING;
	s->deadline = now_ms() + s->sup->kill_after_ms;
	signal_all(s, SIGTERM);
}

static void on_deadline(struct super *s)
{
	if (s->phase == RUNNING && !s->stopping) {
		s->timed_out = !s->reported;
		begin_ending(s);
		return;
	}
	/* The grace of a stop or of the ending is over; while killing, new children of a
	 * dying tree are killed again soon. */
	s->phase = KILLING;
	s->deadline = now_ms() + 50;
	signal_all(s, SIGKILL);
}

static void on_signal(struct super *s, const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo;

	if (!is_stop_signal(sig) || (si->ssi_code != SI_USER && si->ssi_code != SI_QUEUE) ||
	    (pid_t)si->ssi_pid == s->cmd) {
		return; /* SIGCHLD, the terminal's, or the command's own */
	}
	if (!s->cmd_done) {
		kill(s->cmd, sig);
	}
	if (!s->stopping) {
		s->stopping = true;
		if (s->phase == RUNNING) {
			s->deadline = now_ms() + s->sup->kill_after_ms;
		}
	}
}

/* The descriptors of the loop; a new job of the supervisor is one more row. */
enum { FD_SIGNALS, FD_PARENT, FD_MQ_BROKER, FD_CU_BROKER, FD_NOTIFY, FD_TRACE, FD_COUNT };

/* The event loop: until the command has ended and the VM is empty. */
static void supervise_loop(struct super *s, int sigfd, int parent)
{
	struct pollfd fds[FD_COUNT] = {
		[FD_SIGNALS] = {.fd = sigfd, .events = POLLIN},
		[FD_PARENT] = {.fd = parent, .events = POLLIN},
		[FD_MQ_BROKER] = {.fd = s->sup->mq ? s->sup->mq->sock : -1, .events = POLLIN},
		[FD_CU_BROKER] = {.fd = s->sup->cu ? s->sup->cu->listen : -1, .events = POLLIN},
		/* The listener, taken before GO (-1: none). */
		[FD_NOTIFY] = {.fd = s->sup->notify ? s->sup->notify->fd : -1, .events = POLLIN},
		[FD_TRACE] = {.fd = s->sup->trace ? s->sup->trace->sock : -1, .events = POLLIN},
	};
	struct notify *nt = s->sup->notify;

	s->reap_due = true;
	for (;;) {
		/* Only after a SIGCHLD: a notification served per loop pays no wait4. */
		if (s->reap_due) {
			s->reap_due = false;
			reap(s);
		}
		/* An empty VM ends the loop first: its lock is released before fvm-exec hears
		 * the status, so the tools run right after fvm-exec see the VM idle. */
		if (s->cmd_done && run_empty(s)) {
			return;
		}
		if (s->cmd_done && s->phase == RUNNING) {
			if (s->sup->end_all || s->stopping) {
				begin_ending(s);
			} else {
				report(s, true);
			}
		}
		int timeout = -1;
		if (s->deadline) {
			uint64_t now = now_ms(), left = s->deadline > now ? s->deadline - now : 0;
			timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		/* poll, with the listener blocked in RECV while nothing else is pending */
		int n = recv_wait(nt, fds, FD_COUNT, FD_NOTIFY, timeout);
		/* Checked whatever woke poll: a busy VM cannot hold the clock off. */
		if (s->deadline && now_ms() >= s->deadline) {
			on_deadline(s);
		}
		if (n <= 0) {
			continue; /* the deadline, or EINTR */
		}
		if (fds[FD_SIGNALS].revents) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				s->reap_due |= si.ssi_signo == SIGCHLD;
				on_signal(s, &si);
			}
		}
		if (fds[FD_MQ_BROKER].revents && mq_broker_serve(s->sup->mq) <= 0) {
			/* Every process of the VM has closed its end, or the socket failed. */
			close(fds[FD_MQ_BROKER].fd);
			fds[FD_MQ_BROKER].fd = -1;
		}
		if (fds[FD_CU_BROKER].revents && cu_broker_serve(s->sup->cu) < 0) {
			fds[FD_CU_BROKER].fd = -1;
		}
		if (fds[FD_NOTIFY].revents) {
			if (nt->fd < 0) {
				/* the listener, or the child's exec without one: no row */
				fds[FD_NOTIFY].fd = notify_take(nt) == 0 ? nt->fd : -1;
			} else if ((fds[FD_NOTIFY].revents & (POLLHUP | POLLERR)) || notify_serve(nt) < 0) {
				close(nt->fd); /* no process of the VM holds the filter any more */
				nt->fd = fds[FD_NOTIFY].fd = -1;
			}
		}
		if (fds[FD_TRACE].revents && trace_serve(s->sup->trace) < 0) {
			fds[FD_TRACE].fd = -1; /* the socket failed: said in the trace as dropped */
			s->sup->trace->dropped++;
		}
		if (fds[FD_PARENT].revents) {
			/* fvm-exec ended: killed outright if the command still runs. */
			fds[FD_PARENT].fd = -1;
			if (!s->cmd_done) {
				kill(s->cmd, SIGKILL);
			}
		}
	}
}

/* Closes every descriptor but the KEEP ones (N of them, sorted). */
static void close_others(const int *keep, size_t n)
{
	unsigned from = 3;

	for (size_t i = 0; i < n; i++) {
		if (keep[i] >= (int)from) {
			if (keep[i] > (int)from) {
				close_range(from, (unsigned)keep[i] - 1, 0);
			}
			from = (unsigned)keep[i] + 1;
		}
	}
	close_range(from, ~0u, 0);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The supervisor's standard streams go to /dev/null, and every descriptor it does not
 * need is closed, so no reader of the run's output waits for it. */
static void detach(int lock, int up, int sigfd, int parent, int broker, const struct cu_broker *cu,
		   int notify, int ruleset, int trace)
{
	int keep[] = {lock,   up, sigfd, parent, broker, cu ? cu->listen : -1, cu ? cu->handoff : -1,
		      notify, ruleset, trace};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	qsort(keep, sizeof(keep) / sizeof(keep[0]), sizeof(keep[0]), cmp_int);
	close_others(keep, sizeof(keep) / sizeof(keep[0]));
}

/* The copy-up broker's hold on the VM's mount namespace, dropped (a thread's body). */
static void *drop_ns(void *arg)
{
	struct cu_broker *b = arg;

	if (b->ns >= 0) {
		close(b->ns);
		b->ns = -1;
	}
	if (b->handoff >= 0) {
		close(b->handoff); /* the namespace may still be in it, never taken */
		b->handoff = -1;
	}
	return NULL;
}

static void __attribute__((noreturn)) supervisor_main(const struct exec_super *sup, const sigset_t *old,
						      int up, int parent)
{
	struct super s = {.sup = sup, .up = up};
	sigset_t set;
	int sigfd;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	stop_set(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s.rec.pid = getpid();
	s.rec.start = proc_start_time(s.rec.pid);
	for (int i = 0; i < sup->cg->n && i < RUN_CG_MAX; i++) {
		snprintf(s.rec.cg[s.rec.ncg++], sizeof(s.rec.cg[0]), "%s", sup->cg->dir[i]);
	}
	int go[2];
	if (sigfd < 0 || pipe2(go, O_CLOEXEC) < 0) {
		fprintf(stderr, "fvm-exec: cannot start the supervisor: %s\n", strerror(errno));
		tell(up, MSG_FAILED, 0, 0, NULL);
		_exit(FVM_EXIT_FVM);
	}
	if (sup->trace) {
		sup->trace->supervisor = s.rec.pid;
		trace_active = sup->trace;
	}
	s.cmd = cgroup_fork(sup->cg);
	if (s.cmd == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		/* The supervisor killed outright takes the command with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != s.rec.pid) {
			_exit(FVM_EXIT_FVM);
		}
		munmap(page, sizeof(*page)); /* fvm-exec's and the supervisor's only */
		close(go[1]);
		go_fd = go[0];
		close(up);
		close(parent);
		close(sigfd);
		if (sup->mq && sup->mq->sock >= 0) {
			close(sup->mq->sock);
		}
		if (sup->cu && sup->cu->handoff >= 0) { /* the listener is made after the fork */
			close(sup->cu->handoff);
		}
		if (sup->notify && sup->notify->sock >= 0) {
			close(sup->notify->sock);
		}
		if (sup->trace && sup->trace->sock >= 0) {
			close(sup->trace->sock);
		}
		sup->child(sup->arg);
		_exit(FVM_EXIT_FVM);
	}
	if (s.cmd < 0) {
		perror("fvm-exec: fork");
		tell(up, MSG_FAILED, 0, 0, NULL);
		_exit(FVM_EXIT_FVM);
	}
	close(go[0]);
	if (sup->notify && sup->notify->child_sock >= 0) {
		close(sup->notify->child_sock); /* the child's end: its exit reads as the end */
		sup->notify->child_sock = -1;
	}
	/* While the command's process builds its fence: the broker's socket, the record,
	 * then GO. */
	int r;
	if (sup->cu && sup->cu->handoff >= 0 && (r = cu_broker_listen(sup->cu)) < 0 && sup->s->verbose) {
		fprintf(stderr, "fvm-exec: no copy-up broker (%s): a process that changes uid cannot copy up\n",
			strerror(-r));
	}
	r = run_record_write(sup->ctldir, &s.rec);
	if (r < 0) {
		fprintf(stderr, "fvm-exec: %s/%s: cannot record the run: %s\n", sup->ctldir, RUNS_DIR, strerror(-r));
		kill(s.cmd, SIGKILL);
		while (waitpid(s.cmd, NULL, 0) < 0 && errno == EINTR) {
		}
		tell(up, MSG_FAILED, 0, 0, NULL);
		_exit(FVM_EXIT_FVM);
	}
	account_begin(&s.acct, sup->vmdir);
	__atomic_store_n(&page->cmd, s.cmd, __ATOMIC_RELEASE);
	/* The listener, named by the command's process once its filter is in; taken before
	 * GO, so that process keeps it open until its exec and never waits for an answer. */
	if (sup->notify && sup->notify->sock >= 0) {
		notify_take(sup->notify);
	}
	(void)!write(go[1], "G", 1);
	close(go[1]);
	s.deadline = sup->timeout_ms ? now_ms() + sup->timeout_ms : 0;
	signal(SIGPIPE, SIG_IGN); /* fvm-exec may be gone when it is told something */
	detach(sup->lock, up, sigfd, parent, sup->mq ? sup->mq->sock : -1, sup->cu,
	       sup->notify ? sup->notify->fd : -1,
	       sup->notify ? sup->notify->ruleset_fd : -1, /* virtguard.c writes under the fence */
	       sup->trace ? sup->trace->sock : -1);
	supervise_loop(&s, sigfd, parent);
	recv_wait_end();
	notify_memo_end();
	/* The last hold on the VM's mount namespace (root runs) is the broker's: dropping
	 * it waits for an RCU grace period of the machine (0.1 ms idle, milliseconds under
	 * load). A thread drops it while the account is written; it is joined before the
	 * report, so fvm-exec still returns after the namespace is gone. */
	pthread_t dropper;
	bool dropping = false;
	if (sup->cu && (sup->cu->ns >= 0 || sup->cu->handoff >= 0) &&
	    !(dropping = pthread_create(&dropper, NULL, drop_ns, sup->cu) == 0)) {
		drop_ns(sup->cu);
	}
	if (sup->cu && sup->cu->listen >= 0) {
		unlink(sup->cu->path); /* the data area's own path: no link of the VM's followed */
	}
	/* The VM is empty: its account is kept (the cgroups' figures read first), then
	 * its cgroups, record and lock go, and fvm-exec may return. */
	take_figures(&s, true);
	if (sup->ctldir && sup->trace) {
		int tr = trace_finish(sup->trace, sup->ctldir, sup->vmdir, &s.stats, sup->cmd);
		if (tr < 0) {
			fprintf(stderr, "fvm-exec: VM %s: the trace could not be written: %s\n", sup->vm, strerror(-tr));
		}
	}
	if (sup->ctldir) {
		history_write(sup->ctldir, &s.stats, sup->runs_kept);
	}
	for (int i = 0; i < 20 && !cgroup_remove(sup->cg); i++) {
		usleep(5000);
	}
	run_record_remove(sup->ctldir, s.rec.pid);
	/* The last run of the VM to end applies the switch a pull left (store/layers.h). */
	int sw = layer_switch_lock(sup->vmdir);
	if (sw >= 0) {
		layer_switch_try(sup->vmdir, sup->lock); /* closes the lock */
		close(sw);
	} else {
		close(sup->lock);
	}
	ipc_guard_end(sup->notify ? sup->notify->vmdir : NULL);
	if (dropping) {
		pthread_join(dropper, NULL);
	}
	report(&s, false);
	_exit(0);
}

int supervise_child_go(void)
{
	char c;
	ssize_t n;

	while ((n = read(go_fd, &c, 1)) < 0 && errno == EINTR) {
	}
	close(go_fd);
	go_fd = -1;
	return n == 1 ? 0 : -1;
}

/* ---- fvm-exec -------------------------------------------------------------------- */

/* The processes the command left running, named on stderr in one line. */
static void name_leftovers(const struct exec_super *sup, pid_t supervisor)
{
	struct run_record r = {.pid = supervisor};
	struct vm_procs p = {0};
	char who[2048];

	for (int i = 0; i < sup->cg->n && i < RUN_CG_MAX; i++) {
		snprintf(r.cg[r.ncg++], sizeof(r.cg[0]), "%s", sup->cg->dir[i]);
	}
	if (vm_procs_of_run(&r, &p) == 0 && p.n > 0) {
		vm_procs_describe(&p, false, who, sizeof(who));
		fprintf(stderr, "fvm-exec: VM %s: %zu process%s still running: %s; `fvm stop %s` ends them\n",
			sup->vm, p.n, p.n == 1 ? "" : "es", who, sup->vm);
	}
	vm_procs_free(&p);
}

/* What the supervisor reported: its messages on stderr, the status returned. LEFT:
 * processes of the VM remain. */
static int ended(const struct exec_super *sup, pid_t supervisor, const struct super_msg *m, bool left)
{
	if (m->stats.quota[0]) {
		fprintf(stderr, "fvm-exec: VM %s: the run was stopped by its quota --%s\n", sup->vm, m->stats.quota);
	}
	if (sup->stats && m->stats.pid) {
		account_summary(stderr, sup->vm, &m->stats);
	}
	if (left) {
		name_leftovers(sup, supervisor);
	}
	return m->status;
}

/*
 * fvm-exec until the command ended: stop signals are passed on. Woken by the pipe (the
 * run failed, or the command ended leaving processes of the VM) or by the supervisor's
 * exit (SIGCHLD; its report in the shared page): once it has exited, whoever runs
 * fvm-exec (an outer VM's run, a script) sees no process of this run left. fvm-exec
 * holds the pipe's write end too, so the supervisor's exit never reads as its end.
 */
static int await_command(const struct exec_super *sup, pid_t supervisor, int up, const sigset_t *set)
{
	int sigfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK), status = FVM_EXIT_FVM;
	struct super_msg m;

	for (;;) {
		struct pollfd fds[2] = {{.fd = up, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
		if (poll(fds, 2, -1) < 0) {
			continue;
		}
		bool gone = false;
		if (fds[1].revents) {
			struct signalfd_siginfo si;
			pid_t cmd = __atomic_load_n(&page->cmd, __ATOMIC_ACQUIRE);
			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					gone = true;
				} else if ((si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE) &&
					   (pid_t)si.ssi_pid != cmd && (pid_t)si.ssi_pid != supervisor) {
					kill(supervisor, (int)si.ssi_signo);
				}
			}
		}
		ssize_t n = read(up, &m, sizeof(m)); /* nonblocking */
		if (n == (ssize_t)sizeof(m) && m.kind == MSG_ENDED) {
			status = ended(sup, supervisor, &m, m.pid != 0);
			break;
		}
		if (n == (ssize_t)sizeof(m) || (n > 0 && n != (ssize_t)sizeof(m))) {
			cgroup_remove(sup->cg); /* MSG_FAILED: the run never started (reported) */
			break;
		}
		if (gone && waitpid(supervisor, NULL, WNOHANG) == supervisor) {
			if (__atomic_load_n(&page->final, __ATOMIC_ACQUIRE)) {
				m = page->msg;
				status = ended(sup, supervisor, &m, false);
			} else {
				fprintf(stderr, "fvm-exec: the supervisor of the run ended unexpectedly\n");
				cgroup_remove(sup->cg); /* the run never started, or its supervisor is gone */
			}
			break;
		}
	}
	close(sigfd);
	return status;
}

int supervise(const struct exec_super *sup)
{
	sigset_t set, old;
	int up[2], life[2], status;
	pid_t pid;

	page = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		perror("fvm-exec: mmap");
		return FVM_EXIT_FVM;
	}
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0) {
		perror("fvm-exec: pipe");
		return FVM_EXIT_FVM;
	}
	fcntl(up[0], F_SETFL, O_NONBLOCK); /* read after each wake-up, whatever woke it */
	stop_set(&set);
	sigaddset(&set, SIGCHLD); /* the supervisor's exit (the command's process restores OLD) */
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL); /* nothing buffered is written twice */
	pid = fork();
	if (pid < 0) {
		perror("fvm-exec: fork");
		cgroup_remove(sup->cg);
		return FVM_EXIT_FVM;
	}
	if (pid == 0) {
		close(up[0]);
		close(life[1]);
		supervisor_main(sup, &old, up[1], life[0]);
	}
	/* up[1] stays open here: the supervisor's exit is its SIGCHLD, never the pipe's end. */
	close(life[0]);
	close(sup->lock); /* the supervisor holds the run lock now, and serves the broker */
	if (sup->mq && sup->mq->sock >= 0) {
		close(sup->mq->sock);
	}
	if (sup->cu && sup->cu->handoff >= 0) { /* the supervisor and the command have them */
		close(sup->cu->handoff);
		close(sup->cu->child_end);
	}
	if (sup->trace && sup->trace->sock >= 0) { /* the supervisor's */
		close(sup->trace->sock);
	}
	if (sup->notify && sup->notify->sock >= 0) { /* the supervisor and the child have them */
		close(sup->notify->sock);
		close(sup->notify->child_sock);
	}
	status = await_command(sup, pid, up[0], &set);
	if (!sigismember(&old, SIGCHLD)) {
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &chld, NULL); /* --review's programs expect it as it was */
	}
	close(up[0]);
	close(up[1]);
	/* life[1] stays open until fvm-exec exits: its end tells the supervisor. */
	return status;
}
