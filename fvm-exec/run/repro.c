/*
 * repro.c — fvm-exec --repro N -- CMD: is CMD's result reproducible, and if not, what
 * makes it differ (as reprotest does, with VMs instead of chroots).
 *
 * The runs, each in a fresh VM of the store named repro-PID-TAG, each by this same
 * fvm-exec with the command line's other options and --deterministic:
 *   1. the control: every varied part at its control value (vary[] below);
 *   2. N-1 varied runs: every part at the run's own varied value;
 *   3. when something differs from the control: the control once more (a path that
 *      differs between two identical runs is named "nondeterministic"), then one run
 *      per part with only that part varied, each compared with the control: a path
 *      that differs there is named with that part.
 * Each result is the VM's changes compared with the control's (store/compare.h). The
 * report, on standard output: one line per path that differed ("M PATH<TAB>WHAT<TAB>BY:
 * time, hostname"; "<"/">" for a path only one run has), then a summary line.
 *
 * Rules:
 *  - Every VM made here is removed before fvm-exec returns, whatever happened (also
 *    after SIGINT or SIGTERM, which end the running command first).
 *  - Exit status: 0 reproducible, 1 not, 125 an fvm error (the command's own failure is
 *    reported, and its result still compared).
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fvm/determ.h"
#include "fvm/exit.h"
#include "fvm/layout.h"
#include "run.h"
#include "store/changes.h"
#include "store/compare.h"
#include "store/ipc_store.h"
#include "store/layers.h"
#include "store/quote.h"
#include "store/store.h"

/* What is varied: the option, its control value, its value in varied run I (>= 1). */
struct variation {
	const char *name, *opt, *control;
	void (*varied)(unsigned i, char *buf, size_t len);
};

static void v_time(unsigned i, char *buf, size_t len)
{
	/* A year, a month, an hour and a few seconds later per run: every field differs. */
	snprintf(buf, len, "@%lld", FVM_DET_DEF_EPOCH + (long long)i * (397LL * 86400 + 3723));
}
static void v_seed(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "%u", 1000 + i);
}
static void v_order(unsigned i, char *buf, size_t len)
{
	(void)i;
	snprintf(buf, len, "reversed");
}
static void v_umask(unsigned i, char *buf, size_t len)
{
	(void)i;
	snprintf(buf, len, "002");
}
static void v_locale(unsigned i, char *buf, size_t len)
{
	static const char *const l[] = {"fr_CH.UTF-8", "de_DE.UTF-8", "C"};
	snprintf(buf, len, "%s", l[(i - 1) % 3]);
}
static void v_host(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "fvm-repro-%u", i);
}
static void v_tz(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "%s", i % 2 ? "GMT-14" : "GMT+12");
}

static const struct variation vary[] = {
	{"time", "time", "@946684800", v_time},
	{"random", "random-seed", "0", v_seed},
	{"dir-order", "dir-order", "sorted", v_order},
	{"umask", "umask", "022", v_umask},
	{"locale", "locale", FVM_DET_DEF_LOCALE, v_locale},
	{"hostname", "hostname", FVM_DET_DEF_HOSTNAME, v_host},
	{"timezone", "tz", FVM_DET_DEF_TZ, v_tz},
};
#define NVARY (sizeof(vary) / sizeof(vary[0]))

/* The VMs made, for the cleanup. */
#define MAX_VMS (2 + 64 + NVARY)
static struct {
	char dir[MAX_VMS][PATH_MAX];
	size_t n;
	pid_t owner;
} made;
static volatile sig_atomic_t stopped;

static void cleanup(void)
{
	if (made.owner != getpid()) {
		return;
	}
	for (size_t i = 0; i < made.n; i++) {
		if (store_remove_ipc(made.dir[i]) < 0 || store_vm_remove(made.dir[i]) < 0) {
			warnx("--repro: cannot remove %s", made.dir[i]);
		}
	}
	made.n = 0;
}

static void on_signal(int sig)
{
	stopped = sig;
}

struct repro {
	const struct exec_config *cli;
	char **cmd;
	char exe[PATH_MAX];
	struct fvm_store store;
	char tag[32];
};

/* Appends "--NAME=VALUE" (or "--NAME" for a flag) of every option of the command line
 * but those --repro decides, to ARGV at *N. */
static void cli_args(const struct repro *r, char **argv, size_t *n, size_t max)
{
	for (int k = 0; k < K_NKEYS; k++) {
		if (k == K_REPRO || k == K_VM || k == K_EPHEMERAL || k == K_KEEP || k == K_REVIEW) {
			continue;
		}
		for (size_t i = 0; i < r->cli->n[k] && *n + 1 < max; i++) {
			char *a;
			if (exec_opts[k].kind == V_FLAG) {
				if (strcmp(r->cli->vals[k][i].text, "true") != 0) {
					continue;
				}
				if (asprintf(&a, "--%s", exec_opts[k].name) < 0) {
					a = NULL;
				}
			} else if (asprintf(&a, "--%s=%s", exec_opts[k].name, r->cli->vals[k][i].text) < 0) {
				a = NULL;
			}
			if (!a) {
				err(FVM_EXIT_FVM, "--repro");
			}
			argv[(*n)++] = a;
		}
	}
}

/*
 * One run in a new VM named repro-PID-NAME: RUN 0 the control values, RUN >= 1 every
 * part at that run's varied value; ONLY >= 0: the control values but part ONLY at
 * run 1's. The VM's directory into VMDIR. Returns the command's status, or -1.
 */
static int one_run(struct repro *r, const char *name, unsigned run, int only, char *vmdir, size_t len)
{
	char *argv[4 * K_NKEYS + 64], vm[FVM_NAME_MAX + 1], val[64];
	size_t n = 0, first_alloc;
	int status;

	snprintf(vm, sizeof(vm), "repro-%s-%s", r->tag, name);
	if (store_vm_dir(&r->store, vm, vmdir, len) < 0 || made.n >= MAX_VMS) {
		return -1;
	}
	argv[n++] = r->exe;
	argv[n++] = "--deterministic";
	argv[n++] = "-n";
	argv[n++] = vm;
	first_alloc = n; /* from here to the command: strings allocated here */
	cli_args(r, argv, &n, sizeof(argv) / sizeof(argv[0]) - NVARY - 8);
	for (size_t v = 0; v < NVARY; v++) {
		bool varied = only < 0 ? run > 0 : (size_t)only == v;
		if (varied) {
			vary[v].varied(only < 0 ? run : 1, val, sizeof(val));
		} else {
			snprintf(val, sizeof(val), "%s", vary[v].control);
		}
		if (asprintf(&argv[n++], "--%s=%s", vary[v].opt, val) < 0) {
			err(FVM_EXIT_FVM, "--repro");
		}
	}
	size_t last_alloc = n;
	argv[n++] = "--";
	for (char **c = r->cmd; *c && n + 1 < sizeof(argv) / sizeof(argv[0]); c++) {
		argv[n++] = *c;
	}
	argv[n] = NULL;
	snprintf(made.dir[made.n++], PATH_MAX, "%s", vmdir);
	fprintf(stderr, "fvm-exec: --repro: run %s\n", name);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execv(r->exe, argv);
		fprintf(stderr, "fvm-exec: --repro: %s: %s\n", r->exe, strerror(errno));
		_exit(FVM_EXIT_FVM);
	}
	for (size_t i = first_alloc; i < last_alloc; i++) {
		free(argv[i]);
	}
	if (pid < 0) {
		warn("--repro: fork");
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			warn("--repro: waitpid");
			return -1;
		}
	}
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (status == FVM_EXIT_FVM) {
		warnx("--repro: run %s: fvm-exec failed (status 125)", name);
		return -1;
	}
	if (status != 0) {
		warnx("--repro: run %s: the command exited with status %d (its result is compared anyway)",
		      name, status);
	}
	return status;
}

/* The comparison of the VMs at DIR_A and DIR_B. 0 or -1 (reported). */
static int compare_vms(const char *dir_a, const char *dir_b, struct vm_cmp *out)
{
	char ta[PATH_MAX], tb[PATH_MAX];
	int va = layer_view(dir_a, ta, sizeof(ta)), vb = va < 0 ? -1 : layer_view(dir_b, tb, sizeof(tb));
	int ret = -1;

	if (va >= 0 && vb >= 0) {
		ret = vm_compare(ta, tb, NULL, 0, out);
		if (ret < 0) {
			warnx("--repro: comparing %s and %s: %s", dir_a, dir_b, strerror(-ret));
		}
	}
	if (va > 0) {
		layer_view_drop(ta);
	}
	if (vb > 0) {
		layer_view_drop(tb);
	}
	return ret < 0 ? -1 : 0;
}

/* A path that differed, with what and why. */
struct finding {
	char *vpath;
	char kind;
	unsigned what;
	unsigned by;          /* bit v: varying vary[v] alone changes it */
	bool nondeterministic; /* differs between two identical control runs */
};

static struct finding *find(struct finding *f, size_t n, const char *vpath)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].vpath, vpath) == 0) {
			return &f[i];
		}
	}
	return NULL;
}

static void report(const struct finding *f, size_t n, size_t total, unsigned runs)
{
	for (size_t i = 0; i < n; i++) {
		printf("%c ", f[i].kind);
		fvm_quote_fputs(f[i].vpath, stdout);
		putchar('\t');
		const char *sep = "";
		if (f[i].what & FVM_DIFF_TYPE) {
			printf("type");
			sep = ", ";
		}
		for (const struct fvm_diff_name *d = fvm_diff_names; d->name; d++) {
			if (f[i].what & d->bit) {
				printf("%s%s", sep, d->name);
				sep = ", ";
			}
		}
		if (!*sep) {
			printf("%s", f[i].kind == CMP_ONLY_A ? "only in the control" : "only in a varied run");
		}
		printf("\tby: ");
		sep = "";
		if (f[i].nondeterministic) {
			printf("nondeterministic (differs between identical runs)");
			sep = ", ";
		}
		for (size_t v = 0; v < NVARY; v++) {
			if (f[i].by & (1u << v)) {
				printf("%s%s", sep, vary[v].name);
				sep = ", ";
			}
		}
		if (!*sep) {
			printf("several parts together (no one part alone changes it)");
		}
		putchar('\n');
	}
	if (n) {
		printf("fvm-exec --repro: not reproducible: %zu of %zu paths differ in %u runs\n", n, total, runs);
	} else {
		printf("fvm-exec --repro: reproducible: %zu paths identical in %u runs\n", total, runs);
	}
}

int repro_run(const struct exec_config *cli, char **cmd, unsigned long nruns, const char *home)
{
	static struct repro r;
	char control[PATH_MAX], dir[PATH_MAX], name[32];
	struct finding *f = NULL;
	size_t nf = 0, total = 0;
	struct vm_cmp cmp;
	ssize_t l;
	int rc = FVM_EXIT_FVM;

	if (nruns < 2 || nruns > 64) {
		errx(FVM_EXIT_FVM, "--repro %lu: use 2 to 64 runs", nruns);
	}
	r.cli = cli;
	r.cmd = cmd;
	if ((l = readlink("/proc/self/exe", r.exe, sizeof(r.exe) - 1)) < 0) {
		err(FVM_EXIT_FVM, "/proc/self/exe");
	}
	r.exe[l] = '\0';
	if (store_init(&r.store, home) < 0) {
		return FVM_EXIT_FVM;
	}
	snprintf(r.tag, sizeof(r.tag), "%d", (int)getpid());
	made.owner = getpid();
	atexit(cleanup);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (one_run(&r, "control", 0, -1, control, sizeof(control)) < 0) {
		goto out;
	}
	for (unsigned i = 1; i < nruns && !stopped; i++) {
		snprintf(name, sizeof(name), "run%u", i);
		if (one_run(&r, name, i, -1, dir, sizeof(dir)) < 0 || compare_vms(control, dir, &cmp) < 0) {
			goto out;
		}
		total = cmp.n;
		for (size_t k = 0; k < cmp.n; k++) {
			const struct vm_cmp_entry *e = &cmp.v[k];
			struct finding *x;
			if (e->kind == CMP_SAME) {
				continue;
			}
			if (!(x = find(f, nf, e->vpath))) {
				struct finding *nv = realloc(f, (nf + 1) * sizeof(*f));
				if (!nv || !(nv[nf].vpath = strdup(e->vpath))) {
					err(FVM_EXIT_FVM, "--repro");
				}
				f = nv;
				x = &f[nf++];
				x->kind = e->kind;
				x->what = 0;
				x->by = 0;
				x->nondeterministic = false;
			}
			x->what |= e->what;
		}
		vm_compare_free(&cmp);
	}
	/* Why: the control again, then one part at a time. */
	for (size_t v = 0; nf && v <= NVARY && !stopped; v++) {
		int only = v == 0 ? -1 : (int)v - 1;
		snprintf(name, sizeof(name), "%s", v == 0 ? "control2" : vary[v - 1].name);
		if (one_run(&r, name, 0, only, dir, sizeof(dir)) < 0 || compare_vms(control, dir, &cmp) < 0) {
			goto out;
		}
		for (size_t k = 0; k < cmp.n; k++) {
			struct finding *x = cmp.v[k].kind == CMP_SAME ? NULL : find(f, nf, cmp.v[k].vpath);
			if (x && v == 0) {
				x->nondeterministic = true;
			} else if (x) {
				x->by |= 1u << (v - 1);
			}
		}
		vm_compare_free(&cmp);
		/* Done with this VM: keep the store small while the next one runs. */
		if (store_remove_ipc(dir) == 0 && store_vm_remove(dir) == 0) {
			made.n--;
		}
	}
	if (stopped) {
		warnx("--repro: stopped by signal %d", (int)stopped);
		rc = 128 + (int)stopped;
		goto out;
	}
	report(f, nf, total, (unsigned)nruns);
	rc = nf ? FVM_EXIT_REFUSED : FVM_EXIT_OK;
out:
	for (size_t i = 0; i < nf; i++) {
		free(f[i].vpath);
	}
	free(f);
	fflush(stdout);
	cleanup();
	return rc;
}
