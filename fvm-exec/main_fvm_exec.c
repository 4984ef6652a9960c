/*
 * main_fvm_exec.c — fvm-exec: run a command inside a VM.
 *
 *   fvm-exec [-n NAME] [--home DIR] [-v] [--] COMMAND [ARG...]
 *
 * Creates the VM on first use, holds its run lock shared while the command runs, sets
 * the environment contract (fvm/env.h) and runs the command as a supervised child:
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to fvm-exec are forwarded; the exit status
 * is the command's (128+N when killed by signal N), 125 for an fvm error, 126 when the
 * command cannot run, 127 when it is not found.
 *
 * The child execs through libfvm itself (dlopen + its execvp), so the command is found
 * and run in the virtual namespace exactly as a program inside the VM would run it.
 */
#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fvm/env.h"
#include "fvm/layout.h"
#include "fvm/store.h"

/* ---- BEGIN issue 6 throwaway: --net/--allow/--loopback (issue 4 replaces this block) ---- */
#define NET_MAX_ALLOW 64
struct net_opts {
	int net;                 /* enum fvm_net; -1: not given */
	int loopback;            /* enum fvm_loopback; -1: not given */
	const char *allow[NET_MAX_ALLOW];
	size_t nallow;
};

/* Parses one of the three flags into N; exits FVM_EXIT_FVM naming the bad argument. */
static void net_opt(struct net_opts *n, const char *flag, const char *arg)
{
	if (strcmp(flag, "net") == 0) {
		n->net = fvm_net_from_name(arg);
		if (n->net < 0) {
			errx(FVM_EXIT_FVM, "--net %s: expected all, loopback or none", arg);
		}
	} else if (strcmp(flag, "loopback") == 0) {
		n->loopback = strcmp(arg, "shared") == 0    ? FVM_LOOPBACK_SHARED
			      : strcmp(arg, "private") == 0 ? FVM_LOOPBACK_PRIVATE
							    : -1;
		if (n->loopback < 0) {
			errx(FVM_EXIT_FVM, "--loopback %s: expected shared or private", arg);
		}
	} else if (n->nallow < NET_MAX_ALLOW) {
		n->allow[n->nallow++] = arg;
	} else {
		errx(FVM_EXIT_FVM, "--allow %s: too many allow rules", arg);
	}
}

/* Fills POL's network fields from N. */
static void net_apply(const struct net_opts *n, struct fvm_policy *pol)
{
	if (n->net >= 0) {
		pol->net = (uint32_t)n->net;
	}
	if (n->loopback >= 0) {
		pol->loopback = (uint32_t)n->loopback;
	}
	for (size_t i = 0; i < n->nallow; i++) {
		int ret = fvm_policy_add_allow(pol, n->allow[i]);
		if (ret < 0) {
			errx(FVM_EXIT_FVM, "--allow %s: %s", n->allow[i],
			     ret == -ENOSPC ? "too many allow rules" : "expected ADDR[/PREFIX][:PORT]");
		}
	}
}
/* ---- END issue 6 throwaway ---- */

struct options {
	const char *vm;
	const char *home;
	bool verbose;
	struct net_opts net; /* issue 6 throwaway */
};

static volatile pid_t child_pid;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fvm-exec [OPTIONS] [--] COMMAND [ARG...]\n"
		"Run COMMAND inside a featherweight VM: it sees the host's files, and everything\n"
		"it writes lands in the VM.\n\n"
		"  -n, --vm NAME     the VM (default: default); created on first use\n"
		"      --home DIR    the store (default: $FVM_HOME, else ~/.local/share/fvm)\n"
		"  -v, --verbose     say what fvm-exec does\n"
		"      --net all|loopback|none, --allow ADDR[/PREFIX][:PORT],\n"
		"      --loopback shared|private   network policy\n"
		"  -h, --help        this help\n"
		"      --version     the version\n\n"
		"Exit status: the command's; 125 fvm error, 126 cannot run, 127 not found.\n");
}

static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* A signal from the terminal already reached the child (same process group). */
	if (child_pid > 0 && (si->si_code == SI_USER || si->si_code == SI_QUEUE) &&
	    si->si_pid != child_pid) {
		kill(child_pid, sig);
	}
}

/* In the child: enter the VM's namespace through libfvm and exec ARGV there. */
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
	vm_execvp(argv[0], argv);
	int e = errno;
	fprintf(stderr, "fvm-exec: %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT || e == ENOTDIR ? FVM_EXIT_NOTFOUND : FVM_EXIT_CANNOT);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_HOME = 256, OPT_VERSION, OPT_NET, OPT_ALLOW, OPT_LOOPBACK };
	static const struct option longopts[] = {
		{"vm", required_argument, NULL, 'n'},
		{"home", required_argument, NULL, OPT_HOME},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"net", required_argument, NULL, OPT_NET},           /* issue 6 throwaway */
		{"allow", required_argument, NULL, OPT_ALLOW},       /* issue 6 throwaway */
		{"loopback", required_argument, NULL, OPT_LOOPBACK}, /* issue 6 throwaway */
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "+n:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->vm = optarg;
			break;
		case OPT_HOME:
			o->home = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case OPT_NET: /* issue 6 throwaway */
		case OPT_ALLOW:
		case OPT_LOOPBACK:
			net_opt(&o->net, c == OPT_NET ? "net" : c == OPT_ALLOW ? "allow" : "loopback",
				optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("fvm-exec %s\n", FVM_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(FVM_EXIT_FVM);
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct options o = {.vm = "default", .net = {.net = -1, .loopback = -1}};
	struct fvm_store store;
	struct fvm_policy pol;
	char vmdir[PATH_MAX], lib[PATH_MAX], policy[PATH_MAX + 16];
	char *shell_argv[2];
	char **cmd;
	int first, lock, status;

	first = parse_args(argc, argv, &o);
	if (first < argc) {
		cmd = argv + first;
	} else {
		/* No command: the user's shell. */
		const char *sh = getenv("SHELL");
		shell_argv[0] = (char *)(sh && *sh ? sh : "/bin/sh");
		shell_argv[1] = NULL;
		cmd = shell_argv;
	}
	if (!fvm_vm_name_valid(o.vm)) {
		errx(FVM_EXIT_FVM, "-n %s: invalid VM name: use [A-Za-z0-9][A-Za-z0-9._-]{0,63}", o.vm);
	}
	if (store_init(&store, o.home) < 0 || store_vm_dir(&store, o.vm, vmdir, sizeof(vmdir)) < 0 ||
	    store_find_libfvm(lib, sizeof(lib)) < 0) {
		return FVM_EXIT_FVM;
	}
	fvm_policy_init(&pol);
	net_apply(&o.net, &pol); /* issue 6 throwaway */
	if (store_vm_create(&store, o.vm, &pol, NULL) < 0) {
		return FVM_EXIT_FVM;
	}
	lock = store_vm_lock(vmdir, false, false);
	if (lock < 0) {
		return FVM_EXIT_FVM;
	}
	snprintf(policy, sizeof(policy), "%s/%s", vmdir, FVM_POLICY_FILE);
	/* issue 6 throwaway: this run's policy, not only the one at creation. */
	int saved = fvm_policy_save(&pol, policy);
	if (saved < 0) {
		errx(FVM_EXIT_FVM, "%s: %s", policy, strerror(-saved));
	}
	if (setenv(FVM_ENV_VM, o.vm, 1) < 0 || setenv(FVM_ENV_ROOT, vmdir, 1) < 0 ||
	    setenv(FVM_ENV_POLICY, policy, 1) < 0 || setenv(FVM_ENV_HOME, store.home, 1) < 0 ||
	    setenv(FVM_ENV_PRELOAD, lib, 1) < 0) {
		err(FVM_EXIT_FVM, "setenv");
	}
	if (o.verbose) {
		fprintf(stderr, "fvm-exec: VM %s at %s, libfvm %s\n", o.vm, vmdir, lib);
	}

	struct sigaction sa = {.sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigemptyset(&sa.sa_mask);
	static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		sigaction(forwarded[i], &sa, NULL);
	}
	pid_t pid = fork();
	if (pid < 0) {
		err(FVM_EXIT_FVM, "fork");
	}
	if (pid == 0) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
			sigaction(forwarded[i], &dfl, NULL);
		}
		run_child(lib, cmd);
	}
	child_pid = pid;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			err(FVM_EXIT_FVM, "waitpid");
		}
	}
	close(lock);
	if (WIFSIGNALED(status)) {
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}
