/*
 * procs.c — finding, naming and ending the processes of a VM (procs.h).
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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fvm/env.h"
#include "fvm/layout.h"
#include "store/procs.h"
#include "store/quote.h"
#include "store/store.h"

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

static bool in_env(pid_t pid, const char *want)
{
	char path[64];
	static char buf[1 << 17];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && env_has(buf, (size_t)n, want);
}

static int add_pid(struct vm_procs *p, pid_t pid)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->pid[i] == pid) {
			return 0;
		}
	}
	pid_t *v = realloc(p->pid, (p->n + 1) * sizeof(*v));
	if (!v) {
		return -ENOMEM;
	}
	p->pid = v;
	p->pid[p->n++] = pid;
	return 0;
}

/* Holders of the flock on the file with device DEV and inode INO, from /proc/locks. */
static int lock_holders(dev_t dev, ino_t ino, struct vm_procs *p)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256];
	int ret = 0;

	if (!f) {
		return 0;
	}
	while (ret == 0 && fgets(line, sizeof(line), f)) {
		char kind[16], dummy[16], mode[16];
		unsigned maj, min;
		unsigned long long lino;
		int pid;
		if (strstr(line, "->")) {
			continue; /* a waiter, not a holder */
		}
		if (sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%llu", kind, dummy, mode, &pid, &maj,
			   &min, &lino) == 7 &&
		    strcmp(kind, "FLOCK") == 0 && makedev(maj, min) == dev && lino == ino && pid > 0) {
			ret = add_pid(p, pid);
		}
	}
	fclose(f);
	return ret;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int vm_procs_find(const char *vmdir, struct vm_procs *p)
{
	char want[PATH_MAX + 16], lock[PATH_MAX + 8];
	struct dirent *d;
	struct stat st;
	DIR *proc;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	snprintf(want, sizeof(want), "%s=%s", FVM_ENV_ROOT, vmdir);
	/* The lock is in the control area (fvm/layout.h). */
	if (store_ctl_path(vmdir, lock, PATH_MAX) < 0) {
		return -EINVAL;
	}
	strcat(lock, "/" FVM_LOCK_FILE);
	proc = opendir("/proc");
	if (!proc) {
		return -errno;
	}
	while (ret == 0 && (d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0])) {
			continue;
		}
		pid_t pid = (pid_t)atoi(d->d_name);
		if (pid != getpid() && in_env(pid, want)) {
			ret = add_pid(p, pid);
		}
	}
	closedir(proc);
	if (ret == 0 && lstat(lock, &st) == 0 && S_ISREG(st.st_mode)) {
		ret = lock_holders(st.st_dev, st.st_ino, p);
	}
	if (p->n) {
		qsort(p->pid, p->n, sizeof(*p->pid), cmp_pid);
	}
	return ret;
}

void vm_procs_free(struct vm_procs *p)
{
	free(p->pid);
	memset(p, 0, sizeof(*p));
}

void vm_procs_describe(const struct vm_procs *p, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		char path[64], comm[64] = "?";
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)p->pid[i]);
		if ((f = fopen(path, "re"))) {
			if (fgets(comm, sizeof(comm), f)) {
				comm[strcspn(comm, "\n")] = '\0';
			}
			fclose(f);
		}
		/* A process of the VM names itself: quoted, as every name the tools print. */
		char *q = fvm_quote_dup(comm);
		int n = snprintf(out + o, len - o, "%s%d (%s)", i ? ", " : "", (int)p->pid[i], q ? q : "?");
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

int vm_lock_idle(const char *vmdir, const char *name, const char *action)
{
	int fd = store_vm_lock(vmdir, true, true);

	if (fd == -2) {
		struct vm_procs p;
		char who[1024] = "";
		if (vm_procs_find(vmdir, &p) == 0) {
			vm_procs_describe(&p, who, sizeof(who));
			vm_procs_free(&p);
		}
		warnx("VM %s is running; %s refused while these processes run: %s", name, action,
		      who[0] ? who : "(not visible to this user)");
	}
	return fd;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Sends SIG to every process of VMDIR; returns how many there were. */
static size_t signal_all(const char *vmdir, int sig)
{
	struct vm_procs p;
	size_t n;

	if (vm_procs_find(vmdir, &p) < 0) {
		return 0;
	}
	for (size_t i = 0; i < p.n; i++) {
		kill(p.pid[i], sig);
	}
	n = p.n;
	vm_procs_free(&p);
	return n;
}

int vm_procs_end(const char *vmdir, int grace_ms)
{
	if (signal_all(vmdir, SIGTERM) == 0) {
		return 0;
	}
	for (int waited = 0; waited < grace_ms; waited += 50) {
		sleep_ms(50);
		if (signal_all(vmdir, 0) == 0) {
			return 0;
		}
	}
	signal_all(vmdir, SIGKILL);
	for (int waited = 0; waited < 2000; waited += 50) {
		sleep_ms(50);
		if (signal_all(vmdir, 0) == 0) {
			return 0;
		}
	}
	return -EBUSY;
}
