/*
 * cmd_top.c — fvm top [--once] [--json] [--delay SECONDS]: every running VM, one line
 * each (VM, processes, CPU %, memory, read and write rates, layer size), refreshed on a
 * terminal like top(1); --once and --json print one sample for scripts.
 *
 * Rules:
 *  - Running VMs are found as fvm list and fvm ps find them (store/procs.h): the live
 *    runs' supervisors and cgroups. A VM with no live process is not shown.
 *  - CPU % is the CPU time gained between two samples over the time between them (100%
 *    = one CPU). It comes from the runs' cgroups where they keep it (v2 cpu.stat:
 *    exact, exited processes included), else from /proc/PID/stat of the processes seen
 *    in both samples (a process that started and ended between them is missed). Memory
 *    is the cgroups' (memory.current, v1 memory.usage_in_bytes) or the processes' RSS
 *    summed. I/O is always the processes' /proc/PID/io (rchar, wchar) between samples.
 *    --json says which source each figure came from.
 *  - The terminal is put in non-canonical mode without echo and given back as it was
 *    at every exit (q, Ctrl-C, SIGTERM, SIGHUP); a screen is drawn with plain ANSI
 *    sequences (home, clear to end of screen). Without a terminal on standard output
 *    one sample is printed, as with --once.
 *  - The VM's own text (its name, process names) is never printed raw: names are
 *    quoted (store/quote.h) or written as JSON strings.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "store/human.h"
#include "json.h"
#include "store/history.h"
#include "store/procs.h"
#include "store/quote.h"
#include "store/store.h"

/* One process's counters in a sample. */
struct top_proc {
	pid_t pid;
	unsigned long long start, cpu_ticks, rchar, wchar, rss;
};

/* One VM in a sample. */
struct top_vm {
	char name[256];
	size_t nprocs;
	struct top_proc *procs;
	bool cg_cpu, cg_mem;              /* the figure came from the runs' cgroups */
	unsigned long long cg_cpu_usec;   /* cgroups' usage_usec summed */
	unsigned long long mem;           /* bytes now */
	unsigned long long layer;         /* upper/'s regular files, bytes */
	/* between the previous sample and this one */
	double cpu_pct, read_rate, write_rate;
};

struct top_sample {
	struct top_vm *v;
	size_t n;
	unsigned long long mono_us;
};

static const struct fvm_store *top_store;

static unsigned long long mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 + (unsigned long long)ts.tv_nsec / 1000;
}

/* VM NAME's figures now into V; false when it has no live process. */
static bool sample_vm(const char *name, struct top_vm *v)
{
	char dir[PATH_MAX], ctl[PATH_MAX];
	struct run_record *runs = NULL;
	struct vm_procs p;
	size_t nruns = 0;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	if (store_vm_dir(top_store, name, dir, sizeof(dir)) < 0 || store_ctl_path(dir, ctl, sizeof(ctl)) < 0 ||
	    vm_procs_find(dir, &p) < 0) {
		return false;
	}
	if (p.n == 0) {
		vm_procs_free(&p);
		return false;
	}
	v->nprocs = p.n;
	v->procs = calloc(p.n, sizeof(*v->procs));
	unsigned long long rss = 0;
	for (size_t i = 0; v->procs && i < p.n; i++) {
		struct top_proc *t = &v->procs[i];
		t->pid = p.v[i].pid;
		t->start = p.v[i].start;
		t->cpu_ticks = p.v[i].utime + p.v[i].stime;
		t->rchar = vm_proc_counter(t->pid, "io", "rchar:");
		t->wchar = vm_proc_counter(t->pid, "io", "wchar:");
		t->rss = vm_proc_counter(t->pid, "status", "VmRSS:") * 1024;
		rss += t->rss;
	}
	vm_procs_free(&p);
	if (run_records_load(ctl, false, &runs, &nruns) == 0) {
		for (size_t r = 0; r < nruns; r++) {
			for (int c = 0; c < runs[r].ncg; c++) {
				const char *d = runs[r].cg[c];
				unsigned long long u;
				if (run_cgroup_counter(d, "cpu.stat", "usage_usec", &u)) {
					v->cg_cpu = true;
					v->cg_cpu_usec += u;
				}
				if (run_cgroup_counter(d, "memory.current", NULL, &u) || run_cgroup_counter(d, "memory.usage_in_bytes", NULL, &u)) {
					v->mem = v->cg_mem ? v->mem + u : u;
					v->cg_mem = true;
				}
			}
		}
		free(runs);
	}
	if (!v->cg_mem) {
		v->mem = rss;
	}
	struct store_usage u;
	v->layer = store_vm_usage(dir, &u) == 0 ? u.bytes : HISTORY_UNKNOWN;
	return true;
}

static int sample_one(const char *name, void *arg)
{
	struct top_sample *s = arg;
	struct top_vm v;

	if (!sample_vm(name, &v)) {
		return 0;
	}
	struct top_vm *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (!nv) {
		free(v.procs);
		return -1;
	}
	s->v = nv;
	s->v[s->n++] = v;
	return 0;
}

static void sample_free(struct top_sample *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].procs);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int take_sample(struct top_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->mono_us = mono_us();
	return store_each_vm(top_store, sample_one, s);
}

/* The process of PREV that is T (same pid and start time), or NULL. */
static const struct top_proc *prev_proc(const struct top_vm *prev, const struct top_proc *t)
{
	for (size_t i = 0; prev && i < prev->nprocs; i++) {
		if (prev->procs[i].pid == t->pid && prev->procs[i].start == t->start) {
			return &prev->procs[i];
		}
	}
	return NULL;
}

/* The rates of CUR from PREV (the sample before; NULL: none, every rate 0). */
static void rates(struct top_sample *cur, const struct top_sample *prev)
{
	long tick = sysconf(_SC_CLK_TCK);

	for (size_t i = 0; i < cur->n; i++) {
		struct top_vm *v = &cur->v[i];
		const struct top_vm *pv = NULL;
		for (size_t j = 0; prev && j < prev->n; j++) {
			if (strcmp(prev->v[j].name, v->name) == 0) {
				pv = &prev->v[j];
			}
		}
		if (!pv || cur->mono_us <= prev->mono_us) {
			continue;
		}
		double secs = (double)(cur->mono_us - prev->mono_us) / 1e6;
		unsigned long long ticks = 0, rd = 0, wr = 0;
		for (size_t k = 0; v->procs && k < v->nprocs; k++) {
			const struct top_proc *t = &v->procs[k], *o = prev_proc(pv, t);
			if (!o) {
				continue; /* new since: its counters are not a rate yet */
			}
			ticks += t->cpu_ticks > o->cpu_ticks ? t->cpu_ticks - o->cpu_ticks : 0;
			rd += t->rchar > o->rchar ? t->rchar - o->rchar : 0;
			wr += t->wchar > o->wchar ? t->wchar - o->wchar : 0;
		}
		if (v->cg_cpu && pv->cg_cpu) {
			unsigned long long d = v->cg_cpu_usec > pv->cg_cpu_usec ? v->cg_cpu_usec - pv->cg_cpu_usec : 0;
			v->cpu_pct = (double)d / 1e6 / secs * 100;
		} else {
			v->cg_cpu = false;
			v->cpu_pct = tick > 0 ? (double)ticks / (double)tick / secs * 100 : 0;
		}
		v->read_rate = (double)rd / secs;
		v->write_rate = (double)wr / secs;
	}
}

static void print_json(const struct top_sample *s, double secs)
{
	printf("{\"interval_ms\":%.0f,\"vms\":[", secs * 1000);
	for (size_t i = 0; i < s->n; i++) {
		const struct top_vm *v = &s->v[i];
		printf("%s\n{\"name\":", i ? "," : "");
		json_string(stdout, v->name);
		printf(",\"processes\":%zu,\"cpu_percent\":%.1f,\"memory\":%llu,\"read_bytes_per_s\":%.0f,"
		       "\"write_bytes_per_s\":%.0f,\"layer_bytes\":",
		       v->nprocs, v->cpu_pct, v->mem, v->read_rate, v->write_rate);
		if (v->layer == HISTORY_UNKNOWN) {
			printf("null");
		} else {
			printf("%llu", v->layer);
		}
		printf(",\"source\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"io\":\"proc\"}}", v->cg_cpu ? "cgroup" : "proc",
		       v->cg_mem ? "cgroup" : "proc");
	}
	printf("%s]}\n", s->n ? "\n" : "");
}

/* Bytes (a rate when PER_S) as ls -h prints them, into OUT. */
static void size_cell(double b, bool per_s, char *out, size_t len)
{
	human_size((unsigned long long)b, false, out, len > 2 ? len - 2 : len);
	if (per_s) {
		strcat(out, "/s");
	}
}

/* The table of S; CLEAR: at the top of a cleared screen, with a title line. */
static void print_table(const struct top_sample *s, bool clear)
{
	char when[32];
	time_t now = time(NULL);

	if (clear) {
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
		printf("\033[H\033[2Jfvm top - %s, %zu running VM%s (q quits)\n\n", when, s->n, s->n == 1 ? "" : "s");
	}
	printf("%-24s %6s %7s %9s %10s %10s %9s\n", "VM", "PROCS", "CPU%", "MEM", "READ", "WRITE", "LAYER");
	for (size_t i = 0; i < s->n; i++) {
		const struct top_vm *v = &s->v[i];
		char mem[32], rd[32], wr[32], layer[32];
		char *q = fvm_quote_dup(v->name);
		size_cell((double)v->mem, false, mem, sizeof(mem));
		size_cell(v->read_rate, true, rd, sizeof(rd));
		size_cell(v->write_rate, true, wr, sizeof(wr));
		if (v->layer == HISTORY_UNKNOWN) {
			snprintf(layer, sizeof(layer), "-");
		} else {
			size_cell((double)v->layer, false, layer, sizeof(layer));
		}
		printf("%-24s %6zu %6.1f%c %9s %10s %10s %9s\n", q ? q : "?", v->nprocs, v->cpu_pct,
		       v->cg_cpu ? ' ' : '*', mem, rd, wr, layer);
		free(q);
	}
	if (clear) {
		printf("\n%s", s->n ? "CPU% from the runs' cgroups; * from /proc (processes seen in both samples)\n" : "");
	}
	fflush(stdout);
}

static volatile sig_atomic_t top_quit;
static struct termios top_saved;
static bool top_raw;

static void on_signal(int sig)
{
	(void)sig;
	top_quit = 1;
}

static void restore_terminal(void)
{
	if (top_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_saved);
		top_raw = false;
	}
	fputs("\033[?25h", stdout); /* the cursor back */
	fflush(stdout);
}

/* Waits DELAY_MS for a key: true when it is q or Ctrl-C, or a signal asked to quit. */
static bool wait_key(int delay_ms)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	unsigned long long until = mono_us() + (unsigned long long)delay_ms * 1000;

	while (!top_quit) {
		unsigned long long now = mono_us();
		if (now >= until) {
			return false;
		}
		int r = poll(&pfd, 1, (int)((until - now) / 1000) + 1);
		if (r > 0) {
			char c;
			if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q' || c == 3)) {
				return true;
			}
			if (pfd.revents & (POLLHUP | POLLERR)) {
				pfd.fd = -1; /* no input any more: refresh on the clock only */
			}
		} else if (r < 0 && errno != EINTR) {
			return false;
		}
	}
	return true;
}

int cmd_top(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {{"once", no_argument, NULL, 'o'},
						 {"json", no_argument, NULL, 'j'},
						 {"delay", required_argument, NULL, 'd'},
						 {NULL, 0, NULL, 0}};
	struct top_sample prev, cur;
	bool once = false, json = false;
	int c, delay_ms = 1000;

	while ((c = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
		if (c == 'o') {
			once = true;
		} else if (c == 'j') {
			json = true;
		} else if (c == 'd') {
			char *end;
			double d = strtod(optarg, &end);
			if (*end || !(d >= 0.1 && d <= 3600)) {
				return cli_usage("--delay takes seconds, from 0.1 to 3600");
			}
			delay_ms = (int)(d * 1000);
		} else {
			return cli_usage(NULL);
		}
	}
	if (optind != argc) {
		return cli_usage("no argument is taken");
	}
	top_store = s;
	if (json || once || !isatty(STDOUT_FILENO)) {
		/* Two samples DELAY apart: the rates need a difference. */
		if (take_sample(&prev) < 0) {
			return FVM_EXIT_PARTIAL;
		}
		usleep((useconds_t)delay_ms * 1000);
		if (take_sample(&cur) < 0) {
			sample_free(&prev);
			return FVM_EXIT_PARTIAL;
		}
		rates(&cur, &prev);
		if (json) {
			print_json(&cur, (double)(cur.mono_us - prev.mono_us) / 1e6);
		} else {
			print_table(&cur, false);
		}
		sample_free(&prev);
		sample_free(&cur);
		return 0;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &top_saved) == 0) {
		struct termios raw = top_saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		top_raw = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
	}
	atexit(restore_terminal);
	fputs("\033[?25l", stdout); /* no cursor while drawing */
	if (take_sample(&prev) < 0) {
		return FVM_EXIT_PARTIAL;
	}
	print_table(&prev, true);
	while (!wait_key(delay_ms)) {
		if (take_sample(&cur) < 0) {
			break;
		}
		rates(&cur, &prev);
		print_table(&cur, true);
		sample_free(&prev);
		prev = cur;
	}
	sample_free(&prev);
	restore_terminal();
	putchar('\n');
	return 0;
}
