/*
 * main.c — fvm-exec, the runner: run a command inside a VM.
 *
 *   fvm-exec [OPTIONS] [--] COMMAND [ARG...]        (options: config.c, fvm-exec(1))
 *
 * A run, in order: the command line; the configuration layers (system and user
 * fvm.conf or -c FILE, the VM's vm.conf, the command line); the VM, created on first
 * use with the effective policy written to its vm.conf; the compiled policy, rewritten
 * atomically by a run whose image differs (both in the VM's control area, outside the
 * fence); a switch
 * of layers a pull left, applied if the VM is idle (store/layers.h); the run lock, held
 * shared; the environment contract (fvm/env.h); cgroups and the kernel
 * fence, prepared here; then the run's supervisor (supervise.c), whose child joins the
 * cgroups, takes the quotas and the fence, and execs the command. fvm-exec returns when
 * the command ends; the supervisor stays with the processes the command left running.
 *
 * The child execs through libfvm itself (dlopen + its execvp), so the command is found
 * and run in the virtual namespace exactly as a program inside the VM would run it.
 * Exit status: the command's (128+N when killed by signal N), 124 on --timeout, 125 for
 * an fvm error, 126 when the command cannot run, 127 when it is not found.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fvm/env.h"
#include "fvm/layout.h"
#include "review.h"
#include "run.h"
#include "store/ipc_store.h"
#include "store/layers.h"
#include "store/procs.h"
#include "store/store.h"

struct child_ctx {
	const struct exec_settings *s;
	const struct exec_cgroup *cg;
	const struct exec_fence *fence;
	const char *lib;
	char **cmd;
};

/* In the child: enter the VM's namespace through libfvm and exec ARGV there, once the
 * supervisor has recorded the run. */
static void __attribute__((noreturn)) run_child(const char *lib, char **argv)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	int (*vm_execvp)(const char *, char *const[]);

	if (!h) {
		fprintf(stderr, "fvm-exec: cannot load %s: %s\n", lib, dlerror());
		_exit(FVM_EXIT_FVM);
	}
	vm_execvp = (int (*)(const char *, char *const[]))dlsym(h, "execvp");
	if (!vm_execvp) {
		fprintf(stderr, "fvm-exec: %s has no execvp\n", lib);
		_exit(FVM_EXIT_FVM);
	}
	if (supervise_child_go() < 0) {
		_exit(FVM_EXIT_FVM); /* the supervisor could not record the run (said) */
	}
	vm_execvp(argv[0], argv);
	int e = errno;
	fprintf(stderr, "fvm-exec: %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT || e == ENOTDIR ? FVM_EXIT_NOTFOUND : FVM_EXIT_CANNOT);
}

static void child_main(void *arg)
{
	const struct child_ctx *c = arg;
	int r;

	if ((r = cgroup_join(c->cg)) < 0) {
		fprintf(stderr, "fvm-exec: cannot join the run's cgroup: %s\n", strerror(-r));
		_exit(FVM_EXIT_FVM);
	}
	if (quota_apply(c->s) < 0 || determ_child() < 0) {
		_exit(FVM_EXIT_FVM);
	}
	if ((r = fence_apply(c->fence)) < 0) {
		fprintf(stderr, "fvm-exec: cannot install the kernel fence: %s\n", strerror(-r));
		_exit(FVM_EXIT_FVM);
	}
	run_child(c->lib, c->cmd);
}

/* Copies every key the command line set into C as its last layer. */
static void merge_cli(struct exec_config *c, const struct exec_config *cli)
{
	char why[256];

	exec_config_layer(c);
	for (int k = 0; k < K_NKEYS; k++) {
		for (size_t i = 0; i < cli->n[k]; i++) {
			if (exec_config_set(c, k, cli->vals[k][i].text, cli->vals[k][i].origin, why,
					    sizeof(why)) < 0) {
				errx(FVM_EXIT_FVM, "%s %s: %s", cli->vals[k][i].origin, cli->vals[k][i].text, why);
			}
		}
	}
}

/* The configuration files before vm.conf: -c FILE, or the system's and the user's. */
static int read_base_config(struct exec_config *c, const char *file, const char *vm)
{
	char sys[PATH_MAX], user[PATH_MAX];

	if (file) {
		return exec_config_read(c, file, vm, false, false, false);
	}
	exec_config_paths(sys, user, PATH_MAX);
	if (exec_config_read(c, sys, vm, true, true, false) < 0) {
		return -1;
	}
	return !*user ? 0 : exec_config_read(c, user, vm, true, false, false);
}

/*
 * What no share may cover and a scope leaves protected (config_protect.c): the store,
 * fvm's configuration files, the binaries of this run. Paths into BUF (N of them).
 */
static size_t protected_paths(struct exec_protect *p, char (*buf)[PATH_MAX], const char *home,
			      const char *config, const char *lib)
{
	size_t n = 0;
	ssize_t l;
	char *slash;

	p[n++] = (struct exec_protect){home, "the store", FVM_CLASS_HIDDEN};
	exec_config_paths(buf[0], buf[1], PATH_MAX);
	p[n++] = (struct exec_protect){buf[0], "fvm's system configuration", FVM_CLASS_READONLY};
	if (*buf[1]) {
		/* The user's whole fvm directory: a file added there is configuration too. */
		if ((slash = strrchr(buf[1], '/'))) {
			*slash = '\0';
		}
		p[n++] = (struct exec_protect){buf[1], "fvm's user configuration", FVM_CLASS_READONLY};
	}
	if (config) {
		p[n++] = (struct exec_protect){config, "the configuration file of this run", FVM_CLASS_READONLY};
	}
	if ((l = readlink("/proc/self/exe", buf[2], PATH_MAX - 8)) > 0) {
		buf[2][l] = '\0';
		p[n++] = (struct exec_protect){buf[2], "the fvm-exec binary", FVM_CLASS_READONLY};
		snprintf(buf[3], PATH_MAX, "%s", buf[2]);
		if ((slash = strrchr(buf[3], '/'))) {
			strcpy(slash + 1, "fvm");
			p[n++] = (struct exec_protect){buf[3], "the fvm binary", FVM_CLASS_READONLY};
		}
	}
	p[n++] = (struct exec_protect){lib, "libfvm", FVM_CLASS_READONLY};
	return n;
}

/* A fresh name for an ephemeral VM. */
static void ephemeral_name(const struct fvm_store *store, char *out, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned i = 0;; i++) {
		snprintf(out, len, "eph-%d-%lx%u", (int)getpid(), (unsigned long)ts.tv_nsec & 0xffffff, i);
		if (!store_vm_exists(store, out)) {
			return;
		}
	}
}

/* The text of a new VM's vm.conf: the policy part of CFG (malloc'd). */
static char *vmconf_text(const struct exec_config *cfg, const char *vm)
{
	char *conf = exec_vmconf_text(cfg, vm, NULL);

	if (!conf) {
		err(FVM_EXIT_FVM, "vm.conf");
	}
	return conf;
}

/* The environment contract (fvm/env.h) for VM at VMDIR in store HOME, through LIB. */
static void set_contract(const char *vm, const char *vmdir, const char *home, const char *lib)
{
	char policy[PATH_MAX + 16];

	if (store_ctl_path(vmdir, policy, PATH_MAX) < 0) {
		exit(FVM_EXIT_FVM);
	}
	strcat(policy, "/" FVM_POLICY_FILE);
	if (setenv(FVM_ENV_VM, vm, 1) < 0 || setenv(FVM_ENV_ROOT, vmdir, 1) < 0 ||
	    setenv(FVM_ENV_POLICY, policy, 1) < 0 || setenv(FVM_ENV_HOME, home, 1) < 0 ||
	    setenv(FVM_ENV_PRELOAD, lib, 1) < 0) {
		err(FVM_EXIT_FVM, "setenv");
	}
}

/* -v: the effective policy, the fence and the cgroup, on stderr. */
static void say_setup(const struct exec_config *cfg, const struct exec_fence *fence,
		      const struct exec_cgroup *cg)
{
	fprintf(stderr, "fvm-exec: effective policy:\n");
	exec_config_write(cfg, stderr, true);
	for (const char *p = fence->summary; *p;) {
		size_t l = strcspn(p, "\n");
		fprintf(stderr, "fvm-exec: %.*s\n", (int)l, p);
		p += l + (p[l] != '\0');
	}
	fprintf(stderr, "fvm-exec: cgroup: %s\n",
		cg->n ? cg->dir[0] : "none (the VM is followed by its process tree only)");
}

/*
 * A VM this run created: removed again at exit when the command never ran (fvm-exec
 * failed, or the command was not found or could not be executed) and nothing was
 * written in it, so a typo does not leave a VM behind. Only the process that made it
 * acts (the supervisor and the child are forks of it); a VM that existed stays.
 */
static struct {
	pid_t pid;        /* 0: this run made no VM */
	bool keep;        /* the command started: the VM stays */
	int lock;         /* the run lock while this process holds it, else -1 */
	char vmdir[PATH_MAX];
} made = {.lock = -1};

/* Nothing beneath upper/, no process, and the lock free: the run wrote nothing. */
static bool vm_untouched(const char *vmdir)
{
	struct vm_procs p;
	int fd = store_upper_open(vmdir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	bool empty = d != NULL;

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = false;
			break;
		}
	}
	if (d) {
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	if (!empty || vm_procs_find(vmdir, &p) < 0) {
		return false;
	}
	empty = p.n == 0;
	vm_procs_free(&p);
	return empty;
}

/* True when the VM of control area CTLDIR has a pending switch of its layers. */
static bool switch_pending(const char *ctldir)
{
	char path[PATH_MAX + sizeof(FVM_SWITCH_FILE) + 1];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", ctldir, FVM_SWITCH_FILE);
	return lstat(path, &st) == 0;
}

static void drop_made_vm(void)
{
	int lock;

	if (made.pid != getpid() || made.keep) {
		return;
	}
	if (made.lock >= 0) {
		close(made.lock);
	}
	/* Exclusive, without waiting: a run that came meanwhile keeps the VM. */
	lock = store_vm_lock(made.vmdir, true, true);
	if (lock < 0) {
		return;
	}
	if (vm_untouched(made.vmdir) && store_remove_ipc(made.vmdir) == 0) {
		store_vm_remove(made.vmdir);
	}
	close(lock);
}

/*
 * After the command: --review, and an ephemeral VM's removal (its processes have
 * ended: an ephemeral run ends them all, see main).
 */
static void after_run(const struct exec_settings *s, const char *vm, const char *vmdir)
{
	if (s->review) {
		review_run(vmdir, vm); /* the command's exit status stands */
	}
	if (s->ephemeral) {
		if (s->keep) {
			fprintf(stderr, "fvm-exec: kept ephemeral VM %s\n", vm);
		} else if (store_remove_ipc(vmdir) < 0 || store_vm_remove(vmdir) < 0) {
			warnx("%s: cannot remove the ephemeral VM", vmdir);
		}
	}
}

int main(int argc, char **argv)
{
	/* Static, as the settings that point into them: they live as long as the process. */
	static struct exec_config cli, cfg;
	static struct exec_settings s;
	struct fvm_store store;
	struct exec_cgroup cg = {.n = 0};
	static struct exec_fence fence; /* static: its filters live until exit, reachable */
	char vmdir[PATH_MAX], ctldir[PATH_MAX], lib[PATH_MAX], vmconf[PATH_MAX + 16];
	char eph[FVM_NAME_MAX + 8], why[512];
	char *shell_argv[2], **cmd, *conf = NULL;
	const char *vm;
	int first, lock, status;
	bool created;

	exec_config_init(&cli);
	exec_config_init(&cfg);
	first = exec_parse_cli(&cli, argc, argv);
	if (first < 0) {
		return FVM_EXIT_FVM;
	}
	if (first < argc) {
		cmd = argv + first;
	} else {
		/* No command: the user's shell. */
		const char *sh = getenv("SHELL");
		shell_argv[0] = (char *)(sh && *sh ? sh : "/bin/sh");
		shell_argv[1] = NULL;
		cmd = shell_argv;
	}
	/* What decides where the VM is comes from the command line only. */
	if (exec_settings_build(&cli, &s) < 0) {
		return FVM_EXIT_FVM;
	}
	if (exec_config_get(&cli, K_REPRO)) {
		return repro_run(&cli, cmd, strtoul(exec_config_get(&cli, K_REPRO), NULL, 10), s.home);
	}
	if (store_init(&store, s.home) < 0 || store_find_libfvm(lib, sizeof(lib)) < 0) {
		return FVM_EXIT_FVM;
	}
	vm = s.vm;
	if (s.ephemeral) {
		ephemeral_name(&store, eph, sizeof(eph));
		vm = eph;
	} else if (!fvm_vm_name_valid(vm)) {
		errx(FVM_EXIT_FVM, "-n %s: invalid VM name: use [A-Za-z0-9][A-Za-z0-9._-]{0,63}", vm);
	}
	if (store_vm_dir(&store, vm, vmdir, sizeof(vmdir)) < 0 ||
	    store_ctl_path(vmdir, ctldir, sizeof(ctldir)) < 0) {
		return FVM_EXIT_FVM;
	}
	/* vm.conf is in the control area, where the VM cannot write (fvm/layout.h). */
	if (store_ctl_path(vmdir, vmconf, PATH_MAX) < 0) {
		return FVM_EXIT_FVM;
	}
	strcat(vmconf, "/" FVM_VMCONF_FILE);
	created = !store_vm_exists(&store, vm);
	if (read_base_config(&cfg, s.config, vm) < 0) {
		return FVM_EXIT_FVM;
	}
	if (!created) {
		/* The files as they are now (CFG holds them alone yet: they are read once)
		 * against what vm.conf froze: said, not applied. */
		static struct exec_config vmc;
		exec_config_init(&vmc);
		if (exec_config_read(&vmc, vmconf, vm, true, false, true) < 0) {
			return FVM_EXIT_FVM;
		}
		exec_config_drift(&cfg, &vmc, &cli, vmconf, vm, stderr);
		exec_config_free(&vmc);
		if (exec_config_read(&cfg, vmconf, vm, true, false, true) < 0) {
			return FVM_EXIT_FVM;
		}
	}
	merge_cli(&cfg, &cli);
	if (exec_settings_build(&cfg, &s) < 0) {
		return FVM_EXIT_FVM;
	}
	struct exec_protect prot[8];
	static char protbuf[4][PATH_MAX];
	size_t nprot = protected_paths(prot, protbuf, store.home, s.config, lib);
	if (exec_protect_shares(&cfg, prot, nprot) < 0 || exec_protect_scope(&s.pol, prot, nprot) < 0) {
		return FVM_EXIT_FVM;
	}
	/* A new VM is made now, and an existing one's control area if it lacks one; an
	 * existing one's policy image is checked once, below, under the lock (doing it
	 * here too only repeated it). */
	struct stat ctlst;
	if (created || lstat(ctldir, &ctlst) < 0) {
		conf = created ? vmconf_text(&cfg, vm) : NULL;
		if (store_vm_create(&store, vm, &s.pol, conf) < 0) {
			return FVM_EXIT_FVM;
		}
		free(conf);
	}
	if (created && !s.ephemeral) {
		made.pid = getpid();
		snprintf(made.vmdir, sizeof(made.vmdir), "%s", vmdir);
		atexit(drop_made_vm);
	}
	/* A switch of layers a pull left while the VM ran: now, if it is idle (layers.h). */
	if (!created && switch_pending(ctldir)) {
		int sw = layer_switch_lock(vmdir);
		if (sw >= 0) {
			layer_switch_try(vmdir, -1);
			close(sw);
		}
	}
	lock = store_vm_lock(vmdir, false, false);
	if (lock < 0) {
		return FVM_EXIT_FVM;
	}
	made.lock = lock;
	/*
	 * Again under the lock: a snapshot, restore or clone that held it meanwhile may
	 * have changed the layer list the policy image carries.
	 */
	if (store_vm_create(&store, vm, &s.pol, NULL) < 0) {
		return FVM_EXIT_FVM;
	}
	quota_layer_recount(vmdir, &s); /* a failure is reported; the words stay as they were */
	set_contract(vm, vmdir, store.home, lib);
	determ_setup(&cfg);
	if (fence_prepare(&fence, &s, vmdir) < 0) {
		return FVM_EXIT_FVM;
	}
	static struct tracer tracer;
	unsetenv(FVM_ENV_TRACE); /* an outer run's trace is not this VM's */
	if (s.trace) {
		if (trace_prepare(&tracer, vmdir) < 0) {
			return FVM_EXIT_FVM;
		}
		tracer.notify_off = !fence.filter[0].notify;
	}
	if (cgroup_setup(&cg, vm, &s, why, sizeof(why)) < 0) {
		if (s.enforce == ENFORCE_REQUIRE) {
			cgroup_remove(&cg);
			errx(FVM_EXIT_FVM, "--enforce require: %s", why);
		}
		warnx("%s: the limit is not applied (per-process quotas still are; see fvm doctor)", why);
	}
	if (s.verbose) {
		fprintf(stderr, "fvm-exec: VM %s at %s%s, libfvm %s\n", vm, vmdir, created ? " (created)" : "",
			lib);
		say_setup(&cfg, &fence, &cg);
	}

	struct child_ctx ctx = {.s = &s, .cg = &cg, .fence = &fence, .lib = lib, .cmd = cmd};
	struct exec_super sup = {.timeout_ms = s.timeout_ms, .kill_after_ms = s.kill_after_ms,
				 .end_all = s.kill_on_exit || (s.ephemeral && !s.keep), .cg = &cg,
				 .vm = vm, .ctldir = ctldir, .vmdir = vmdir, .s = &s, .runs_kept = s.runs_kept,
				 .stats = s.stats, .lock = lock, .mq = &fence.mq, .cu = &fence.cu, .notify = &fence.notify,
				 .trace = s.trace ? &tracer : NULL, .cmd = cmd, .child = child_main, .arg = &ctx};
	status = supervise(&sup);
	made.lock = -1; /* supervise closed it */
	/* 125..127: the child's own failure before the command ran (run_child), or the
	 * command's status; either way a VM it wrote nothing in is not kept. */
	made.keep = status < FVM_EXIT_FVM || status > FVM_EXIT_NOTFOUND;
	after_run(&s, vm, vmdir);
	exec_config_free(&cli);
	exec_config_free(&cfg);
	return status;
}
