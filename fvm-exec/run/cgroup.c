/*
 * cgroup.c — the run's cgroups (run.h): VM-wide memory and process limits,
 * and a second way, beside the subreaper tree, to find every process of the run.
 *
 * Rules:
 *  - A run gets its own cgroup "fvm-VM.PID" beneath fvm-exec's own cgroup, in the
 *    cgroup v2 hierarchy, and in the v1 memory / pids hierarchies when a limit needs a
 *    controller that v2 does not offer (hybrid hosts). Nothing is created where
 *    fvm-exec may not write (an unprivileged user without delegation): the run then
 *    has no cgroup, and the limits that needed one are reported as missing.
 *  - No process of the VM ever runs outside them: the command is forked straight into
 *    the v2 cgroup (clone3 CLONE_INTO_CGROUP), and joins the others itself before the
 *    exec. A move by a write to cgroup.procs waits for an RCU grace period of the
 *    whole machine (the kernel's cgroup_threadgroup_rwsem, taken for writing: 10-20 ms
 *    here, most of a run's start); a fork into the group takes it only for reading.
 *    Where clone3 is refused (an older kernel, a seccomp filter of an outer sandbox),
 *    the child is an ordinary fork and writes cgroup.procs as before.
 *  - Removed after the run; a cgroup still holding processes (a daemon the VM started)
 *    is left as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run.h"
#include "store/procs.h"

struct hier {
	char mnt[4096];   /* mount point */
	char root[4096];  /* root of the mount within the hierarchy */
	char opts[256];   /* super options (v1: the controllers) */
	bool v2;
};

/*
 * Calls FN(line, ARG) for each line of FILE until FN returns 0 (found). Returns 0 when
 * found, -1 when not or when FILE cannot be read.
 */
static int find_line(const char *file, int (*fn)(char *line, void *arg), void *arg)
{
	FILE *f = fopen(file, "re");
	char *line = NULL;
	size_t cap = 0;
	int found = -1;

	if (!f) {
		return -1;
	}
	while (found < 0 && getline(&line, &cap, f) > 0) {
		found = fn(line, arg);
	}
	free(line);
	fclose(f);
	return found;
}

struct mount_query {
	const char *controller;
	struct hier *h;
};

static int mount_line(char *line, void *arg)
{
	struct mount_query *q = arg;
	char root[4096], mnt[4096], fstype[32], opts[256];
	char *dash = strstr(line, " - ");

	if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
	    sscanf(dash + 3, "%31s %*s %255s", fstype, opts) != 2) {
		return -1;
	}
	bool v2 = strcmp(fstype, "cgroup2") == 0;
	if ((q->controller == NULL && v2) ||
	    (q->controller && strcmp(fstype, "cgroup") == 0 && strstr(opts, q->controller))) {
		snprintf(q->h->mnt, sizeof(q->h->mnt), "%s", mnt);
		snprintf(q->h->root, sizeof(q->h->root), "%s", root);
		snprintf(q->h->opts, sizeof(q->h->opts), "%s", opts);
		q->h->v2 = v2;
		return 0;
	}
	return -1;
}

/* Finds the mount of the v2 hierarchy (CONTROLLER NULL) or of v1 CONTROLLER. */
static int find_mount(const char *controller, struct hier *h)
{
	struct mount_query q = {.controller = controller, .h = h};

	return find_line("/proc/self/mountinfo", mount_line, &q);
}

struct path_query {
	const char *controller;
	char *out;
	size_t len;
};

static int cgroup_line(char *line, void *arg)
{
	struct path_query *q = arg;
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c2) {
		return -1;
	}
	*c2 = '\0';
	bool match = q->controller ? c1[1] && strstr(c1 + 1, q->controller) != NULL
				   : c1 == line + 1 && line[0] == '0';
	if (!match) {
		return -1;
	}
	c2[strcspn(c2 + 1, "\n") + 1] = '\0';
	snprintf(q->out, q->len, "%s", c2 + 1);
	return 0;
}

/* Our cgroup path in the v2 hierarchy (CONTROLLER NULL) or the v1 one of CONTROLLER. */
static int own_path(const char *controller, char *out, size_t len)
{
	struct path_query q = {.controller = controller, .out = out, .len = len};

	return find_line("/proc/self/cgroup", cgroup_line, &q);
}

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[4200];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (write(fd, val, strlen(val)) < 0) {
		ret = -errno;
	}
	close(fd);
	return ret;
}

static bool has_word(const char *dir, const char *file, const char *word)
{
	char path[4200], buf[512];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f) {
		return false;
	}
	while (!found && fscanf(f, "%511s", buf) == 1) {
		found = strcmp(buf, word) == 0;
	}
	fclose(f);
	return found;
}

/* Creates the run's cgroup in the hierarchy of CONTROLLER (NULL: v2). Index or -1. */
static int make_group(struct exec_cgroup *cg, const char *controller, const char *vm)
{
	struct hier h;
	char own[4096];
	const char *rel;

	if (cg->n >= CG_MAX || find_mount(controller, &h) < 0 || own_path(controller, own, sizeof(own)) < 0) {
		return -1;
	}
	/* The mount may show only a subtree (a container): our path is relative to it. */
	rel = own;
	size_t rl = strlen(h.root);
	if (strcmp(h.root, "/") != 0 && strncmp(own, h.root, rl) == 0) {
		rel = own + rl;
	}
	if (strcmp(rel, "/") == 0) {
		rel = "";
	}
	if ((size_t)snprintf(cg->dir[cg->n], sizeof(cg->dir[0]), "%s%s/fvm-%s.%d", h.mnt, rel, vm,
			     (int)getpid()) >= sizeof(cg->dir[0]) ||
	    mkdir(cg->dir[cg->n], 0755) < 0) {
		return -1;
	}
	cg->v2[cg->n] = h.v2;
	return cg->n++;
}

static const struct {
	const char *controller;
	const char *v2_file, *v1_file;
} limits[] = {
	{"memory", "memory.max", "memory.limit_in_bytes"},
	{"pids", "pids.max", "pids.max"},
};

int cgroup_setup(struct exec_cgroup *cg, const char *vm, const struct exec_settings *s, char *why,
		 size_t whylen)
{
	uint64_t want[2] = {s->memory_total, s->pids_total};
	bool *got[2] = {&cg->memory, &cg->pids};
	int v2 = make_group(cg, NULL, vm);
	int ret = 0;

	why[0] = '\0';
	for (size_t i = 0; i < 2; i++) {
		char val[32];
		if (want[i] == EXEC_UNSET) {
			continue;
		}
		snprintf(val, sizeof(val), "%llu", (unsigned long long)want[i]);
		if (v2 >= 0 && has_word(cg->dir[v2], "cgroup.controllers", limits[i].controller)) {
			*got[i] = write_str(cg->dir[v2], limits[i].v2_file, val) == 0;
		}
		if (!*got[i]) {
			int v1 = make_group(cg, limits[i].controller, vm);
			*got[i] = v1 >= 0 && write_str(cg->dir[v1], limits[i].v1_file, val) == 0;
		}
		if (!*got[i]) {
			size_t l = strlen(why);
			snprintf(why + l, whylen - l, "%s--%s: no writable cgroup with the %s controller",
				 l ? "; " : "", i == 0 ? "memory-total" : "pids-total", limits[i].controller);
			ret = -1;
		}
	}
	return ret;
}

/* In the child of cgroup_fork: the index of the group it was born in, else -1. */
static int born_in = -1;

pid_t cgroup_fork(const struct exec_cgroup *cg)
{
	int v2 = -1, fd;

	for (int i = 0; i < cg->n && v2 < 0; i++) {
		v2 = cg->v2[i] ? i : -1;
	}
	/* Not O_PATH: the kernel takes the group from a descriptor that can be read. */
	if (v2 < 0 || (fd = open(cg->dir[v2], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		return fork();
	}
	struct clone_args a = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (unsigned)fd};
	pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	if (pid == 0) {
		born_in = v2;
		close(fd);
		return 0;
	}
	close(fd);
	/* Refused (ENOSYS: an old kernel or an outer filter; EPERM, EINVAL): the old way. */
	return pid > 0 ? pid : fork();
}

int cgroup_join(const struct exec_cgroup *cg)
{
	for (int i = 0; i < cg->n; i++) {
		if (i == born_in) {
			continue;
		}
		int r = write_str(cg->dir[i], "cgroup.procs", "0");
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

size_t cgroup_pids(const struct exec_cgroup *cg, pid_t *out, size_t n, size_t max)
{
	for (int i = 0; i < cg->n; i++) {
		char path[4200];
		FILE *f;
		int pid;
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir[i]);
		f = fopen(path, "re");
		if (!f) {
			continue;
		}
		while (n < max && fscanf(f, "%d", &pid) == 1) {
			out[n++] = pid;
		}
		fclose(f);
	}
	return n;
}

bool cgroup_remove(struct exec_cgroup *cg)
{
	int kept = 0;

	for (int i = 0; i < cg->n; i++) {
		if (rmdir(cg->dir[i]) < 0 && errno != ENOENT) {
			if (kept != i) {
				memcpy(cg->dir[kept], cg->dir[i], sizeof(cg->dir[0]));
				cg->v2[kept] = cg->v2[i];
			}
			kept++;
		}
	}
	cg->n = kept;
	return kept == 0;
}

void cgroup_account(const struct exec_cgroup *cg, struct run_stats *s, struct cgroup_events *e)
{
	unsigned long long user, sys, peak, n;

	memset(e, 0, sizeof(*e));
	for (int i = 0; cg && i < cg->n; i++) {
		const char *d = cg->dir[i];
		/* v2's cpu.stat is there whether or not the cpu controller is enabled. */
		if (cg->v2[i] && run_cgroup_counter(d, "cpu.stat", "user_usec", &user) &&
		    run_cgroup_counter(d, "cpu.stat", "system_usec", &sys)) {
			s->user_ms = user / 1000;
			s->sys_ms = sys / 1000;
			snprintf(s->cpu_src, sizeof(s->cpu_src), "cgroup");
		}
		if (run_cgroup_counter(d, cg->v2[i] ? "memory.peak" : "memory.max_usage_in_bytes", NULL, &peak)) {
			s->peak_rss = peak;
			snprintf(s->mem_src, sizeof(s->mem_src), "cgroup");
		}
		if (run_cgroup_counter(d, cg->v2[i] ? "memory.events" : "memory.oom_control", "oom_kill", &n)) {
			e->oom_kills += n;
		}
		if (run_cgroup_counter(d, "pids.events", "max", &n)) {
			e->pids_max += n;
		}
	}
}
