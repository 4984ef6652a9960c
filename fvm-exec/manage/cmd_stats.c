/*
 * cmd_stats.c — fvm stats NAME [--json]: what VM NAME consumes now (its live
 * processes, read from /proc) and what each of its past runs consumed (the accounts
 * its supervisors kept, store/history.h), each figure with its source.
 *
 * Live figures are the kernel's per-process counters: CPU time and I/O of each process
 * since it started, RSS and PSS now (PSS from /proc/PID/smaps_rollup, where the kernel
 * gives it: Linux 4.14, and this user may read it), peak RSS (VmHWM). A past run's
 * processes started are libfvm's count (history.h). A process whose counters this
 * user may not read (another uid's) shows what /proc gives: its io as 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "json.h"
#include "store/history.h"
#include "store/procs.h"

struct live {
	unsigned long long user_ms, sys_ms, rss, pss, hwm, rchar, wchar, read_bytes, write_bytes;
};

/* The figures of process P (as vm_procs_find read its stat) into L. */
static void live_of(const struct vm_proc *p, struct live *l)
{
	long tick = sysconf(_SC_CLK_TCK);
	pid_t pid = p->pid;

	memset(l, 0, sizeof(*l));
	if (tick > 0) {
		l->user_ms = p->utime * 1000 / (unsigned long long)tick;
		l->sys_ms = p->stime * 1000 / (unsigned long long)tick;
	}
	l->rss = vm_proc_counter(pid, "status", "VmRSS:") * 1024;
	l->hwm = vm_proc_counter(pid, "status", "VmHWM:") * 1024;
	l->pss = vm_proc_counter(pid, "smaps_rollup", "Pss:") * 1024;
	l->rchar = vm_proc_counter(pid, "io", "rchar:");
	l->wchar = vm_proc_counter(pid, "io", "wchar:");
	l->read_bytes = vm_proc_counter(pid, "io", "read_bytes:");
	l->write_bytes = vm_proc_counter(pid, "io", "write_bytes:");
}

static void print_secs(unsigned long long ms)
{
	printf(" %6llu.%02llus", ms / 1000, ms % 1000 / 10);
}

static void print_size(unsigned long long b)
{
	char s[32];
	human_size(b, false, s, sizeof(s));
	printf(" %10s", s);
}

static void json_live(const struct live *l)
{
	printf("\"user_ms\":%llu,\"sys_ms\":%llu,\"rss\":%llu,\"pss\":%llu,\"peak_rss\":%llu,\"rchar\":%llu,"
	       "\"wchar\":%llu,\"read_bytes\":%llu,\"write_bytes\":%llu",
	       l->user_ms, l->sys_ms, l->rss, l->pss, l->hwm, l->rchar, l->wchar, l->read_bytes, l->write_bytes);
}

static void json_run(const struct run_stats *r)
{
	char ended[64], when[32];
	static const char *const ends[] = {"running", "exit", "signal", "timeout"};

	history_ended(r, ended, sizeof(ended));
	cli_time(r->start_ms / 1000, when, sizeof(when));
	printf("{\"supervisor\":%d,\"start\":\"%s\",\"start_ms\":%lld,\"end_ms\":%lld,\"wall_ms\":%llu,"
	       "\"user_ms\":%llu,\"sys_ms\":%llu,\"peak_rss\":%llu,\"rchar\":%llu,\"wchar\":%llu,"
	       "\"read_bytes\":%llu,\"write_bytes\":%llu,\"copy_ups\":%llu,\"copy_bytes\":%llu,"
	       "\"processes_started\":",
	       (int)r->pid, when, r->start_ms, r->end_ms, r->wall_ms, r->user_ms, r->sys_ms, r->peak_rss, r->rchar,
	       r->wchar, r->read_bytes, r->write_bytes, r->copyups, r->copy_bytes);
	if (r->procs) {
		printf("%llu", r->procs);
	} else {
		printf("null");
	}
	printf(",\"layer_bytes\":");
	if (r->layer_bytes == HISTORY_UNKNOWN) {
		printf("null");
	} else {
		printf("%llu", r->layer_bytes);
	}
	printf(",\"end\":\"%s\",", ends[r->end >= 0 && r->end <= RUN_END_TIMEOUT ? r->end : 0]);
	if (r->end == RUN_END_EXIT) {
		printf("\"exit\":%d,", r->code);
	} else if (r->end == RUN_END_SIGNAL) {
		printf("\"signal\":%d,", r->signal);
	}
	printf("\"quota\":");
	if (r->quota[0]) {
		json_string(stdout, r->quota);
	} else {
		printf("null");
	}
	printf(",\"ended\":");
	json_string(stdout, ended);
	printf(",\"source\":{\"cpu\":");
	json_string(stdout, r->cpu_src);
	printf(",\"memory\":");
	json_string(stdout, r->mem_src);
	printf(",\"io\":");
	json_string(stdout, r->io_src);
	printf(",\"copy_ups\":\"vm-log\",\"processes_started\":\"libfvm\"}}");
}

int cmd_stats(const struct fvm_store *s, int argc, char **argv)
{
	struct cli_one o;
	char ctl[PATH_MAX];
	struct vm_procs p;
	struct run_stats *runs = NULL;
	size_t nruns = 0;
	struct live total = {0}, l;
	int rc;

	if ((rc = cli_one_vm(s, argc, argv, false, &o)) != 0) {
		return rc;
	}
	const char *name = o.name, *dir = o.dir;
	const bool json = o.json;
	if (store_ctl_path(dir, ctl, sizeof(ctl)) < 0) {
		return FVM_EXIT_PARTIAL;
	}
	if ((rc = vm_procs_find(dir, &p)) < 0) {
		fprintf(stderr, "fvm: VM %s: cannot list its processes: %s\n", name, strerror(-rc));
		return FVM_EXIT_PARTIAL;
	}
	if ((rc = history_load(ctl, &runs, &nruns)) < 0) {
		fprintf(stderr, "fvm: VM %s: cannot read its past runs: %s\n", name, strerror(-rc));
		vm_procs_free(&p);
		return FVM_EXIT_PARTIAL;
	}
	struct store_usage u;
	char layer[32];
	if (store_vm_usage(dir, &u) < 0) {
		u.bytes = HISTORY_UNKNOWN;
	}
	human_size(u.bytes, false, layer, sizeof(layer));
	if (json) {
		printf("{\"vm\":");
		json_string(stdout, name);
		if (u.bytes == HISTORY_UNKNOWN) {
			printf(",\"layer_bytes\":null");
		} else {
			printf(",\"layer_bytes\":%llu", u.bytes);
		}
		printf(",\"live\":{\"source\":\"proc\",\"processes\":%zu,\"list\":[", p.n);
	} else {
		printf("VM %s: layer %s now; %zu live process%s (figures per process, from /proc)\n", name, layer, p.n,
		       p.n == 1 ? "" : "es");
		if (p.n) {
			printf("%7s %10s %10s %10s %10s %10s %10s %10s  %s\n", "PID", "USER", "SYS", "RSS", "PSS", "PEAK",
			       "READ", "WRITTEN", "COMMAND");
		}
	}
	for (size_t i = 0; i < p.n; i++) {
		live_of(&p.v[i], &l);
		total.user_ms += l.user_ms;
		total.sys_ms += l.sys_ms;
		total.rss += l.rss;
		total.pss += l.pss;
		total.hwm = l.hwm > total.hwm ? l.hwm : total.hwm;
		total.rchar += l.rchar;
		total.wchar += l.wchar;
		total.read_bytes += l.read_bytes;
		total.write_bytes += l.write_bytes;
		if (json) {
			printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", (int)p.v[i].pid);
			json_string(stdout, p.v[i].comm);
			printf(",");
			json_live(&l);
			printf("}");
		} else {
			printf("%7d", (int)p.v[i].pid);
			print_secs(l.user_ms);
			print_secs(l.sys_ms);
			print_size(l.rss);
			print_size(l.pss);
			print_size(l.hwm);
			print_size(l.rchar);
			print_size(l.wchar);
			printf("  ");
			for (const unsigned char *q = (const unsigned char *)p.v[i].comm; *q; q++) {
				printf(*q < 0x20 || *q == 0x7f || *q == '\\' ? "\\%03o" : "%c", *q);
			}
			putchar('\n');
		}
	}
	if (json) {
		printf("],\"total\":{");
		json_live(&total);
		printf("}},\"runs\":[");
		for (size_t i = 0; i < nruns; i++) {
			printf("%s", i ? ",\n" : "\n");
			json_run(&runs[i]);
		}
		printf("]}\n");
	} else {
		if (p.n) {
			printf("%7s", "total");
			print_secs(total.user_ms);
			print_secs(total.sys_ms);
			print_size(total.rss);
			print_size(total.pss);
			print_size(total.hwm);
			print_size(total.rchar);
			print_size(total.wchar);
			putchar('\n');
		}
		printf("\n%zu past run%s, oldest first (SOURCE: where CPU/PEAK came from):\n",
		       nruns, nruns == 1 ? "" : "s");
		if (nruns) {
			printf("%-20s %10s %10s %10s %10s %10s %10s %8s %6s %10s  %-21s  %s\n", "START", "WALL", "USER",
			       "SYS", "PEAK", "READ", "WRITTEN", "COPY-UPS", "PROCS", "LAYER", "SOURCE", "ENDED");
		}
		for (size_t i = 0; i < nruns; i++) {
			const struct run_stats *r = &runs[i];
			char when[32], ended[64], peak[32];
			cli_time(r->start_ms / 1000, when, sizeof(when));
			history_ended(r, ended, sizeof(ended));
			human_size(r->peak_rss, false, peak, sizeof(peak));
			printf("%-20s", when);
			print_secs(r->wall_ms);
			print_secs(r->user_ms);
			print_secs(r->sys_ms);
			printf(" %10s", peak);
			print_size(r->rchar);
			print_size(r->wchar);
			printf(" %8llu", r->copyups);
			if (r->procs) {
				printf(" %6llu", r->procs);
			} else {
				printf(" %6s", "-");
			}
			print_size(r->layer_bytes);
			char src[32];
			snprintf(src, sizeof(src), "%s/%s", r->cpu_src, r->mem_src);
			printf("  %-21s  %s\n", src, ended);
		}
	}
	free(runs);
	vm_procs_free(&p);
	return 0;
}
