/*
 * procs.c — finding, naming, measuring and ending the processes of a VM (procs.h).
 *
 * Rules:
 *  - One walk of /proc per question: every process with its parent; a run's processes
 *    are then its supervisor's descendants plus its cgroups' members.
 *  - A process is signalled only through a pidfd opened after it was listed and
 *    checked against the start time it was listed with.
 */
#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fvm/env.h"
#include "store/layers.h"
#include "store/procs.h"
#include "store/quote.h"
#include "store/store.h"

/* Every process of the system, as /proc shows it now. */
struct proc_table {
	struct vm_proc *v;
	size_t n;
};

static int table_read(struct proc_table *t)
{
	DIR *dir = opendir("/proc");
	struct dirent *d;

	t->v = NULL;
	t->n = 0;
	if (!dir) {
		return -errno;
	}
	size_t cap = 0;
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0])) {
			continue;
		}
		if (t->n == cap) {
			cap = cap ? 2 * cap : 256;
			struct vm_proc *nv = realloc(t->v, cap * sizeof(*nv));
			if (!nv) {
				closedir(dir);
				return -ENOMEM;
			}
			t->v = nv;
		}
		if (vm_proc_read((pid_t)atoi(d->d_name), &t->v[t->n]) == 0) {
			t->n++;
		}
	}
	closedir(dir);
	return 0;
}

static bool has_pid(const struct vm_procs *p, pid_t pid)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].pid == pid) {
			return true;
		}
	}
	return false;
}

static int cmp_proc(const void *a, const void *b)
{
	pid_t x = ((const struct vm_proc *)a)->pid, y = ((const struct vm_proc *)b)->pid;

	return (x > y) - (x < y);
}

static int add_proc(struct vm_procs *p, const struct vm_proc *q)
{
	if (has_pid(p, q->pid)) {
		return 0;
	}
	struct vm_proc *nv = realloc(p->v, (p->n + 1) * sizeof(*nv));
	if (!nv) {
		return -ENOMEM;
	}
	p->v = nv;
	p->v[p->n++] = *q;
	return 0;
}

/* The descendants of ROOT in T (ROOT itself excluded), breadth first, into P. */
static int add_tree(const struct proc_table *t, pid_t root, struct vm_procs *p)
{
	size_t first = p->n;
	int ret = 0;

	for (size_t j = 0; ret == 0 && j < t->n; j++) {
		if (t->v[j].ppid == root && t->v[j].pid != root) {
			ret = add_proc(p, &t->v[j]);
		}
	}
	/* P grows as the children of its new members are found. */
	for (size_t i = first; ret == 0 && i < p->n; i++) {
		for (size_t j = 0; ret == 0 && j < t->n; j++) {
			if (t->v[j].ppid == p->v[i].pid) {
				ret = add_proc(p, &t->v[j]);
			}
		}
	}
	return ret;
}

/* The members of the cgroup at DIR into P. */
static int add_cgroup(const char *dir, struct vm_procs *p)
{
	char path[PATH_MAX + 16];
	struct vm_proc q;
	FILE *f;
	int pid, ret = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f) {
		return 0; /* removed with its run */
	}
	while (ret == 0 && fscanf(f, "%d", &pid) == 1) {
		if (pid > 0 && vm_proc_read(pid, &q) == 0) {
			ret = add_proc(p, &q);
		}
	}
	fclose(f);
	return ret;
}

static int run_procs(const struct proc_table *t, const struct run_record *r, struct vm_procs *p)
{
	int ret = r->pid > 0 ? add_tree(t, r->pid, p) : 0;

	for (int i = 0; ret == 0 && i < r->ncg; i++) {
		ret = add_cgroup(r->cg[i], p);
	}
	return ret;
}

/* True when the NUL-separated environment ENV (LEN bytes) holds exactly WANT. */
static bool env_has(const char *env, size_t len, const char *want)
{
	size_t wl = strlen(want);

	for (size_t off = 0; off < len; off += strnlen(env + off, len - off) + 1) {
		if (strnlen(env + off, len - off) == wl && memcmp(env + off, want, wl) == 0) {
			return true;
		}
	}
	return false;
}

/* PID's initial environment into BUF (SIZE bytes at most); its length, or -1. */
static ssize_t read_env(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	n = read(fd, buf, size);
	close(fd);
	return n;
}

static char env_buf[1 << 17];

static bool in_env(pid_t pid, const char *want)
{
	ssize_t n = read_env(pid, env_buf, sizeof(env_buf));

	return n > 0 && env_has(env_buf, (size_t)n, want);
}

/* Whether process J of census C has WANT in its initial environment: from C's copy of
 * its FVM_ROOT entries (C NULL: read /proc now, for process PID). */
static bool census_env(const struct vm_census *c, size_t j, pid_t pid, const char *want)
{
	if (!c) {
		return in_env(pid, want);
	}
	return c->roots[j] && env_has(c->roots[j], c->roots_len[j], want);
}

/*
 * The processes of RUNS (N of them, not their supervisors) in table T into P, sorted;
 * with WANT ("FVM_ROOT=VMDIR"), also the processes whose initial environment holds it
 * (read now, or from census C when there is one: T is then C's table).
 */
static int find_in(const struct proc_table *t, const struct vm_census *c, const struct run_record *runs,
		   size_t n, const char *want, struct vm_procs *p)
{
	pid_t me = getpid();
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = run_procs(t, &runs[i], p);
	}
	/* The second net: processes started in the VM whose supervisor is gone. */
	for (size_t j = 0; want && ret == 0 && j < t->n; j++) {
		bool supervisor = false;
		for (size_t i = 0; i < n; i++) {
			supervisor |= runs[i].pid == t->v[j].pid;
		}
		if (!supervisor && t->v[j].pid != me && !has_pid(p, t->v[j].pid) &&
		    census_env(c, j, t->v[j].pid, want)) {
			ret = add_proc(p, &t->v[j]);
		}
	}
	if (p->n) {
		qsort(p->v, p->n, sizeof(*p->v), cmp_proc);
	}
	return ret;
}

/* One walk of /proc: find_in on what it shows now. */
static int find_once(const struct run_record *runs, size_t n, const char *want, struct vm_procs *p)
{
	struct proc_table t;
	int ret = table_read(&t);

	if (ret == 0) {
		ret = find_in(&t, NULL, runs, n, want, p);
	}
	free(t.v);
	return ret;
}

static bool same_pids(const struct vm_procs *a, const struct vm_procs *b)
{
	if (a->n != b->n) {
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].pid != b->v[i].pid) {
			return false;
		}
	}
	return true;
}

/*
 * find_once until two walks agree (at most 6 walks). A walk of /proc lists the pids
 * first and reads each process after: one that forks and exits in between (the middle
 * of a double fork) hides its child from that walk, never from the next.
 */
static int find_stable(const struct run_record *runs, size_t n, const char *want, struct vm_procs *p)
{
	struct vm_procs prev = {0};
	int ret = find_once(runs, n, want, &prev);

	for (int i = 0; ret == 0 && i < 5; i++) {
		struct vm_procs cur = {0};
		ret = find_once(runs, n, want, &cur);
		bool same = same_pids(&prev, &cur);
		vm_procs_free(&prev);
		prev = cur;
		if (same) {
			break;
		}
	}
	p->v = prev.v;
	p->n = prev.n;
	return ret;
}

int vm_procs_of_run(const struct run_record *r, struct vm_procs *p)
{
	vm_procs_free(p);
	return find_stable(r, 1, NULL, p);
}

/* A VM's run records and the FVM_ROOT entry its processes carry, for the finders. */
struct vm_runs {
	struct run_record *v;
	size_t n;
	char want[PATH_MAX + 16];
};

/* Empties P and loads VMDIR's run records into R. Returns 0 or -errno (R then holds
 * nothing to free). */
static int runs_load(const char *vmdir, struct vm_runs *r, struct vm_procs *p)
{
	char ctl[PATH_MAX];

	memset(p, 0, sizeof(*p));
	r->v = NULL;
	r->n = 0;
	if (store_ctl_path(vmdir, ctl, sizeof(ctl)) < 0) {
		return -EINVAL;
	}
	snprintf(r->want, sizeof(r->want), "%s=%s", FVM_ENV_ROOT, vmdir);
	return run_records_load(ctl, false, &r->v, &r->n);
}

/* Counts R's live runs into P and frees R. Returns RET, the finder's result. */
static int runs_done(struct vm_runs *r, struct vm_procs *p, int ret)
{
	for (size_t i = 0; i < r->n; i++) {
		p->nruns += r->v[i].pid > 0;
	}
	free(r->v);
	return ret;
}

int vm_procs_find(const char *vmdir, struct vm_procs *p)
{
	struct vm_runs r;
	int ret = runs_load(vmdir, &r, p);

	if (ret < 0) {
		return ret;
	}
	return runs_done(&r, p, find_stable(r.v, r.n, r.want, p));
}

int vm_census_take(struct vm_census *c)
{
	struct proc_table t;
	int ret;

	memset(c, 0, sizeof(*c));
	if ((ret = table_read(&t)) < 0) {
		return ret;
	}
	c->v = t.v;
	c->n = t.n;
	c->roots = calloc(t.n ? t.n : 1, sizeof(*c->roots));
	c->roots_len = calloc(t.n ? t.n : 1, sizeof(*c->roots_len));
	if (!c->roots || !c->roots_len) {
		vm_census_free(c);
		return -ENOMEM;
	}
	/* Of each environment only its FVM_ROOT entries are kept (most have none). */
	for (size_t j = 0; j < t.n; j++) {
		ssize_t n = read_env(t.v[j].pid, env_buf, sizeof(env_buf));
		size_t keep = 0;
		for (size_t off = 0; n > 0 && off < (size_t)n; off += strnlen(env_buf + off, (size_t)n - off) + 1) {
			size_t l = strnlen(env_buf + off, (size_t)n - off);
			if (strncmp(env_buf + off, FVM_ENV_ROOT "=", sizeof(FVM_ENV_ROOT)) != 0) {
				continue;
			}
			char *nr = realloc(c->roots[j], keep + l + 1);
			if (!nr) {
				vm_census_free(c);
				return -ENOMEM;
			}
			memcpy(nr + keep, env_buf + off, l);
			nr[keep + l] = '\0';
			c->roots[j] = nr;
			keep += l + 1;
		}
		c->roots_len[j] = keep;
	}
	return 0;
}

void vm_census_free(struct vm_census *c)
{
	for (size_t j = 0; c->roots && j < c->n; j++) {
		free(c->roots[j]);
	}
	free(c->roots);
	free(c->roots_len);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

int vm_procs_find_census(const struct vm_census *a, const struct vm_census *b, const char *vmdir,
			 struct vm_procs *p)
{
	struct vm_procs other = {0};
	struct vm_runs r;
	int ret = runs_load(vmdir, &r, p);

	if (ret < 0) {
		return ret;
	}
	struct proc_table ta = {a->v, a->n}, tb = {b->v, b->n};
	ret = find_in(&ta, a, r.v, r.n, r.want, p);
	if (ret == 0) {
		ret = find_in(&tb, b, r.v, r.n, r.want, &other);
	}
	if (ret == 0 && !same_pids(p, &other)) {
		/* The two walks disagree on this VM: it is asked alone, as vm_procs_find does. */
		vm_procs_free(p);
		ret = find_stable(r.v, r.n, r.want, p);
	}
	vm_procs_free(&other);
	return runs_done(&r, p, ret);
}

void vm_procs_free(struct vm_procs *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

unsigned long long vm_proc_counter(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	unsigned long long v = 0;
	size_t kl = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (!(f = fopen(path, "re"))) {
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && sscanf(line + kl, " %llu", &v) == 1) {
			break;
		}
	}
	fclose(f);
	return v;
}

bool run_cgroup_counter(const char *dir, const char *file, const char *key, unsigned long long *v)
{
	char path[PATH_MAX + 64], k[64];
	unsigned long long val;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!(f = fopen(path, "re"))) {
		return false;
	}
	if (!key) {
		found = fscanf(f, "%llu", v) == 1;
	} else {
		while (!found && fscanf(f, "%63s %llu", k, &val) == 2) {
			if (strcmp(k, key) == 0) {
				*v = val;
				found = true;
			}
		}
	}
	fclose(f);
	return found;
}

void vm_procs_describe(const struct vm_procs *p, bool parens, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		/* A process of the VM names itself: quoted, as every name the tools print. */
		char *q = fvm_quote_dup(p->v[i].comm);
		int n = snprintf(out + o, len - o, i ? ", " : "");
		if (n >= 0 && (size_t)n < len - o) {
			o += (size_t)n;
			n = parens ? snprintf(out + o, len - o, "%d (%s)", (int)p->v[i].pid, q ? q : "?")
				   : snprintf(out + o, len - o, "%d %s", (int)p->v[i].pid, q ? q : "?");
		}
		free(q);
		if (n < 0 || (size_t)n >= len - o) {
			if (len > 4) {
				strcpy(out + len - 4, "...");
			}
			return;
		}
		o += (size_t)n;
	}
}

size_t vm_procs_signal(const struct vm_procs *p, int sig)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		int fd = (int)syscall(SYS_pidfd_open, p->v[i].pid, 0);
		if (fd < 0 && errno != ENOSYS) {
			continue; /* gone */
		}
		/* Held by the pidfd, the pid cannot be reused: is it still the one listed? */
		if (proc_start_time(p->v[i].pid) == p->v[i].start &&
		    (fd >= 0 ? syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) : kill(p->v[i].pid, sig)) == 0) {
			n++;
		}
		if (fd >= 0) {
			close(fd);
		}
	}
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int vm_lock_idle(const char *vmdir, const char *name, const char *action)
{
	struct vm_procs p = {0};
	char who[1024] = "", ctl[PATH_MAX];
	int fd = -2;

	/* A run between taking the lock and writing its record, or after removing it, holds
	 * the lock with no process: such a moment is short, wait it out (at most 2 s). */
	for (int tries = 0; tries < 100; tries++) {
		fd = store_vm_lock(vmdir, true, true);
		if (fd == -1) {
			return -1;
		}
		vm_procs_free(&p);
		vm_procs_find(vmdir, &p);
		if (p.n > 0) {
			break;
		}
		if (fd >= 0) {
			/* Stale records (a supervisor that was killed) go while we hold the lock. */
			struct run_record *runs;
			size_t n;
			if (store_ctl_path(vmdir, ctl, sizeof(ctl)) == 0 && run_records_load(ctl, true, &runs, &n) == 0) {
				free(runs);
			}
			/* A switch a pull left for when the VM is idle: now, before ACTION. */
			int sw = layer_switch_lock(vmdir);
			if (sw >= 0) {
				layer_switch_apply(vmdir);
				close(sw);
			}
			return fd;
		}
		sleep_ms(20);
	}
	if (fd >= 0) {
		close(fd); /* the lock was free, but processes of the VM live */
	}
	vm_procs_describe(&p, true, who, sizeof(who));
	warnx("VM %s is running; %s refused while these processes run: %s", name, action,
	      who[0] ? who : "(not visible to this user)");
	vm_procs_free(&p);
	return -2;
}

/* Kills the runs' v2 cgroups of VMDIR whole (cgroup.kill, Linux 5.14). */
static void kill_cgroups(const char *vmdir)
{
	char ctl[PATH_MAX], path[PATH_MAX + 16];
	struct run_record *runs;
	size_t n;

	if (store_ctl_path(vmdir, ctl, sizeof(ctl)) < 0 || run_records_load(ctl, false, &runs, &n) < 0) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < runs[i].ncg; j++) {
			snprintf(path, sizeof(path), "%s/cgroup.kill", runs[i].cg[j]);
			int fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, "1", 1) < 0) {
					/* an older kernel: the processes are signalled one by one */
				}
				close(fd);
			}
		}
	}
	free(runs);
}

/*
 * Every 50 ms for at most MS: signals the processes of VMDIR with SIG (0: none) until
 * none is left, and with IDLE no supervisor either. True when that came to pass.
 */
static bool end_phase(const char *vmdir, int sig, int ms, bool idle)
{
	for (int waited = 0;; waited += 50) {
		struct vm_procs p;
		if (vm_procs_find(vmdir, &p) < 0) {
			return false;
		}
		bool done = p.n == 0 && (!idle || p.nruns == 0);
		if (sig && p.n) {
			vm_procs_signal(&p, sig);
		}
		vm_procs_free(&p);
		if (done || waited >= ms) {
			return done;
		}
		sleep_ms(50);
	}
}

int vm_procs_end(const char *vmdir, int grace_ms)
{
	struct vm_procs p;

	if (vm_procs_find(vmdir, &p) < 0) {
		return -EBUSY;
	}
	vm_procs_signal(&p, SIGTERM);
	vm_procs_free(&p);
	if (!end_phase(vmdir, 0, grace_ms, false)) {
		kill_cgroups(vmdir);
		/* SIGKILL again and again: a dying tree may still fork. */
		if (!end_phase(vmdir, SIGKILL, 3000, false)) {
			return -EBUSY;
		}
	}
	/* The processes are gone: their supervisors follow at once, releasing the lock. */
	end_phase(vmdir, 0, 2000, true);
	return 0;
}
