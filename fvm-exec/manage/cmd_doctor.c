/*
 * cmd_doctor.c — fvm doctor [--json]: what this kernel and machine give fvm, one line
 * per check: its status, what was found, what it means for a VM, and the fix.
 *
 *   ok        fvm has what this check looks for
 *   note      a feature is absent, no protection is weaker (VM-wide limits without a
 *             cgroup, say)
 *   degraded  a protection or a VM's view is weaker than it can be here: the line says
 *             what a program in a VM can then do or see
 *   fail      fvm cannot work as documented (no libfvm, a damaged store, a
 *             configuration file that does not parse)
 *
 * Exit status: 0 when no check is degraded or failed, 1 otherwise; 2 usage.
 *
 * Rules:
 * - Probe, never assume: each kernel feature is asked for the way fvm-exec uses it
 *   (Landlock's ABI by landlock_create_ruleset's version query, seccomp's user
 *   notification by SECCOMP_GET_NOTIF_SIZES, pidfd_getfd, Syscall User Dispatch by
 *   setting it off, user xattrs by setting one on a file made in the store); a probe
 *   changes nothing outside a file it makes and removes in the store.
 * - The configuration files are read by fvm-exec's own reader (config_file.c), so a
 *   file doctor passes is one fvm-exec accepts; its message is the reader's.
 * - Runs without a store, and with a store of another format: it is a check.
 * - --json: {"ok": BOOL, "checks": [{"check", "status", "detail", "fix"}...]}.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "fvm/layout.h"
#include "json.h"
#include "run/config.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#define LANDLOCK_BEST 6 /* the ABI whose every right fvm-exec uses (fence.c) */

enum status { ST_OK, ST_NOTE, ST_DEGRADED, ST_FAIL };
static const char *const status_name[] = {"ok", "note", "degraded", "fail"};

static bool as_json, first = true;
static enum status worst = ST_OK;

/* One check's line: STATUS, CHECK, what was found (DETAIL) and, when not ok, the fix. */
static void report(enum status st, const char *check, const char *fix, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (st == ST_DEGRADED || st == ST_FAIL) {
		worst = st > worst ? st : worst;
	}
	if (as_json) {
		printf("%s\n  {\"check\":", first ? "" : ",");
		json_string(stdout, check);
		printf(",\"status\":\"%s\",\"detail\":", status_name[st]);
		json_string(stdout, detail);
		printf(",\"fix\":");
		json_string(stdout, st == ST_OK || !fix ? "" : fix);
		putchar('}');
	} else {
		printf("%-9s %-17s %s", status_name[st], check, detail);
		if (st != ST_OK && fix && *fix) {
			printf("; fix: %s", fix);
		}
		putchar('\n');
	}
	first = false;
}

/* ---- the kernel ------------------------------------------------------------------- */

static void check_kernel(void)
{
	struct utsname u;

	if (uname(&u) == 0) {
		report(ST_OK, "kernel", NULL, "Linux %s %s", u.release, u.machine);
	}
}

static void check_landlock(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1u /* VERSION */);
	int e = errno;

	if (abi < 1) {
		report(ST_FAIL, "landlock",
		       e == EOPNOTSUPP ? "add landlock to the lsm= boot parameter (see /sys/kernel/security/lsm)"
				       : "a kernel >= 5.13 built with CONFIG_SECURITY_LANDLOCK",
		       "not offered (%s): writes of static programs and raw system calls are NOT fenced; "
		       "--enforce require refuses every run",
		       e == EOPNOTSUPP ? "built in but disabled at boot" : "not in this kernel");
		return;
	}
	if (abi >= LANDLOCK_BEST) {
		report(ST_OK, "landlock", NULL, "ABI %ld: writes fenced, TCP ports of --net none, signals and "
						"abstract sockets scoped to the run", abi);
		return;
	}
	report(ST_DEGRADED, "landlock", "a kernel >= 6.12 (Landlock ABI 6)",
	       "ABI %ld: writes fenced%s; %s", abi,
	       abi >= 4 ? ", TCP ports of --net none" : "; --net none refuses inet sockets whole (seccomp), "
							"--allow rules are libfvm's alone for static programs",
	       "signals and abstract unix sockets are NOT scoped: a program in a VM may signal the "
	       "user's other processes and reach their abstract sockets");
}

static void check_seccomp(void)
{
	struct seccomp_notif_sizes sizes;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		report(ST_FAIL, "seccomp", "a kernel built with CONFIG_SECCOMP_FILTER",
		       "not in this kernel: no fence filter (truncation, io_uring, mounts, namespaces...)");
		return;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
		report(ST_DEGRADED, "seccomp", "a kernel >= 5.14",
		       "filters, but no user notification (%s): no supervisor guards (unix sockets, SysV "
		       "and POSIX IPC, metadata of host files, other processes) and static programs are "
		       "not virtualized", strerror(errno));
		return;
	}
	errno = 0;
	if (syscall(SYS_pidfd_getfd, -1, 0, 0) < 0 && errno == ENOSYS) {
		report(ST_DEGRADED, "seccomp", "a kernel >= 5.6",
		       "user notification, but no pidfd_getfd: the AF_UNIX guard cannot connect for a VM");
		return;
	}
	report(ST_OK, "seccomp", NULL, "filters and user notification (the supervisor's guards, static "
				       "programs virtualized)");
}

static void check_sud(void)
{
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0) < 0) {
		report(ST_DEGRADED, "syscall-dispatch", "a kernel >= 5.11 (x86_64, arm64...)",
		       "Syscall User Dispatch not offered (%s): glibc's internal opens (NSS, locales, "
		       "iconv, catalogs) in a VM read the host's files, not the VM's", strerror(errno));
		return;
	}
	report(ST_OK, "syscall-dispatch", NULL, "Syscall User Dispatch: glibc's internal opens see the VM");
}

static void check_userns(void)
{
	char buf[32] = "";
	FILE *f = fopen("/proc/sys/user/max_user_namespaces", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f)) {
			buf[0] = '\0';
		}
		fclose(f);
	}
	report(ST_OK, "user-namespaces", NULL, "%s; fvm needs none, and a program in a VM may not make one",
	       !f ? "not in this kernel" : atol(buf) > 0 ? "offered" : "off (max_user_namespaces 0)");
}

/*
 * Where a run's cgroup would go (cgroup.c): this process's cgroup in the v2 hierarchy,
 * or in the v1 memory and pids hierarchies of a hybrid host, writable.
 */
static void cgroup_dir(const char *hier, char *out, size_t len)
{
	char line[PATH_MAX], mnt[PATH_MAX] = "", path[PATH_MAX] = "";
	FILE *f = fopen("/proc/self/mounts", "re");

	*out = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char dev[256], dir[PATH_MAX], type[64], opts[1024];
		if (sscanf(line, "%255s %4095s %63s %1023s", dev, dir, type, opts) != 4) {
			continue;
		}
		if (strcmp(hier, "") == 0 ? strcmp(type, "cgroup2") == 0
					  : strcmp(type, "cgroup") == 0 && strstr(opts, hier)) {
			snprintf(mnt, sizeof(mnt), "%s", dir);
		}
	}
	if (f) {
		fclose(f);
	}
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b) {
			continue;
		}
		*b = '\0';
		if (strcmp(a + 1, hier) == 0 && (*hier || strncmp(line, "0:", 2) == 0)) {
			b[1 + strcspn(b + 1, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s", b + 1);
		}
	}
	if (f) {
		fclose(f);
	}
	if (*mnt && *path) {
		snprintf(out, len, "%s%s", mnt, strcmp(path, "/") == 0 ? "" : path);
	}
}

static void check_cgroup(void)
{
	char v2[PATH_MAX], mem[PATH_MAX], pids[PATH_MAX];
	static const char fix[] = "run as root, or under a delegated cgroup: "
				  "systemd-run --user --scope -p Delegate=yes fvm-exec ...";

	cgroup_dir("", v2, sizeof(v2));
	cgroup_dir("memory", mem, sizeof(mem));
	cgroup_dir("pids", pids, sizeof(pids));
	if (*v2 && access(v2, W_OK) == 0) {
		report(ST_OK, "cgroup", NULL, "v2, %s writable: VM-wide limits apply", v2);
	} else if (*mem && *pids && access(mem, W_OK) == 0 && access(pids, W_OK) == 0) {
		report(ST_OK, "cgroup", NULL, "v1 memory and pids (%s, %s) writable: VM-wide limits apply", mem, pids);
	} else if (!*v2 && !*mem) {
		report(ST_NOTE, "cgroup", fix, "no cgroup hierarchy found: memory-total and pids-total are not applied");
	} else {
		report(ST_NOTE, "cgroup", fix, "%s is not delegated to this user: memory-total and pids-total are "
					       "not applied, a run's daemons are found by its supervisor alone",
		       *v2 ? v2 : mem);
	}
}

/* ---- the store -------------------------------------------------------------------- */

/* FN(ARG) with standard error in a temporary file, its first line into MSG. */
static int quietly(int (*fn)(void *), void *arg, char *msg, size_t len)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), ret;

	*msg = '\0';
	if (!tmp || saved < 0) {
		if (tmp) {
			fclose(tmp);
		}
		return fn(arg);
	}
	fflush(stderr);
	dup2(fileno(tmp), 2);
	ret = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	if (fgets(msg, (int)len, tmp)) {
		msg[strcspn(msg, "\n")] = '\0';
	}
	fclose(tmp);
	return ret;
}

static int format_ok(void *arg)
{
	return store_check_format(arg);
}

static void human(unsigned long long n, char *out, size_t len)
{
	static const char unit[] = "BKMGTP";
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f%c" : "%.0f%c", v, unit[u]);
}

static void check_store(const struct fvm_store *s)
{
	char msg[512], probe[PATH_MAX + 32], at[PATH_MAX], sz[32];
	struct stat st;
	struct statvfs vf;

	if (!s) {
		report(ST_FAIL, "store", "set FVM_HOME, or HOME", "cannot be located (no HOME)");
		return;
	}
	if (stat(s->home, &st) < 0) {
		report(ST_OK, "store", NULL, "%s: not made yet (the first run makes it)", s->home);
	} else if (!S_ISDIR(st.st_mode)) {
		report(ST_FAIL, "store", "move it aside, or choose another with --home or FVM_HOME",
		       "%s is not a directory", s->home);
		return;
	} else if (st.st_uid != geteuid()) {
		report(ST_FAIL, "store", "use a store of your own (--home, FVM_HOME)",
		       "%s belongs to uid %u, not to you (uid %u)", s->home, st.st_uid, geteuid());
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		char fix[PATH_MAX + 32];
		snprintf(fix, sizeof(fix), "chmod go-w %s", s->home);
		report(ST_FAIL, "store", fix, "%s is writable by %s: another user could change your VMs "
					      "and what commit applies", s->home,
		       st.st_mode & S_IWOTH ? "everyone" : "its group");
	} else if (quietly(format_ok, (void *)s, msg, sizeof(msg)) < 0) {
		report(ST_FAIL, "store", strstr(msg, "fvm migrate") ? "fvm migrate" : "see fvm(1), FILES",
		       "%s", strncmp(msg, "fvm: ", 5) == 0 ? msg + 5 : msg[0] ? msg : s->home);
	} else {
		report(ST_OK, "store", NULL, "%s, format %d, mode %03o", s->home, FVM_FORMAT, st.st_mode & 0777);
	}

	/* Free space and xattrs where the store is, or would be made. */
	snprintf(at, sizeof(at), "%s", s->home);
	while (stat(at, &st) < 0 && strrchr(at, '/') && strrchr(at, '/') != at) {
		*strrchr(at, '/') = '\0';
	}
	if (statvfs(at, &vf) == 0) {
		unsigned long long avail = (unsigned long long)vf.f_bavail * vf.f_frsize;
		unsigned long long total = (unsigned long long)vf.f_blocks * vf.f_frsize;
		human(avail, sz, sizeof(sz));
		if (avail < (256ull << 20) || (total && avail * 100 / total < 2)) {
			report(ST_DEGRADED, "store-space", "free space there, or move the store (--home)",
			       "%s free at %s: copy-ups and new files in VMs will fail with ENOSPC", sz, at);
		} else {
			report(ST_OK, "store-space", NULL, "%s free at %s", sz, at);
		}
	}
	snprintf(probe, sizeof(probe), "%s/.fvm-doctor.XXXXXX", at);
	int fd = access(at, W_OK) == 0 ? mkstemp(probe) : -1;
	if (fd < 0) {
		report(ST_NOTE, "store-xattrs", NULL, "not probed: %s is not writable here", at);
		return;
	}
	int r = fsetxattr(fd, FVM_ORIGIN_XATTR, "x", 1, 0);
	int e = errno;
	close(fd);
	unlink(probe);
	if (r < 0) {
		report(ST_DEGRADED, "store-xattrs", "a store on a filesystem with user xattrs (ext4, xfs, btrfs, tmpfs)",
		       "no user xattrs on %s's filesystem (%s): a copied-up file shows its own inode, not the "
		       "host file's", at, strerror(e));
	} else {
		report(ST_OK, "store-xattrs", NULL, "user xattrs on %s's filesystem: copied-up files keep their identity", at);
	}
}

/* ---- the installation ------------------------------------------------------------- */

static int find_lib(void *arg)
{
	return store_find_libfvm(arg, PATH_MAX);
}

static void check_libraries(void)
{
	char lib[PATH_MAX], msg[512], audit[PATH_MAX + 32], fix[PATH_MAX + 64];
	struct stat st;

	if (quietly(find_lib, lib, msg, sizeof(msg)) < 0) {
		report(ST_FAIL, "libfvm", "make install, or reinstall the fvm package", "%s",
		       strncmp(msg, "fvm: ", 5) == 0 ? msg + 5 : msg);
		return;
	}
	if (stat(lib, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(fix, sizeof(fix), "chmod go-w %s", lib);
		report(ST_FAIL, "libfvm", fix, "%s is writable by others: it runs in every program of a VM", lib);
	} else {
		report(ST_OK, "libfvm", NULL, "%s", lib);
	}
	snprintf(audit, sizeof(audit), "%.*s/libfvm-audit.so", (int)(strrchr(lib, '/') - lib), lib);
	if (access(audit, R_OK) < 0) {
		report(ST_DEGRADED, "libfvm-audit", "make install, or reinstall the fvm package",
		       "%s: %s: the loader finds a VM's libraries on the host's paths, not the VM's", audit,
		       strerror(errno));
	} else {
		report(ST_OK, "libfvm-audit", NULL, "%s", audit);
	}
}

/* fvm-exec beside this fvm (the package and make install put them together). */
static void check_fvm_exec(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 16)) > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			strcpy(slash + 1, "fvm-exec");
			if (access(exe, X_OK) < 0) {
				report(ST_FAIL, "fvm-exec", "install fvm-exec beside fvm", "%s: %s", exe, strerror(errno));
			} else {
				report(ST_OK, "fvm-exec", NULL, "%s", exe);
			}
		}
	}
}

struct conf_arg {
	const char *file;
	bool system;
};

static int read_conf(void *arg)
{
	struct conf_arg *a = arg;
	struct exec_config c;
	struct exec_settings s;

	exec_config_init(&c);
	int r = exec_config_read(&c, a->file, "default", true, a->system, false);
	if (r == 0) {
		r = exec_settings_build(&c, &s);
	}
	exec_config_free(&c);
	return r;
}

static void check_config(void)
{
	char sys[PATH_MAX], user[PATH_MAX], msg[1024];
	const char *files[2] = {sys, user};

	exec_config_paths(sys, user, PATH_MAX);
	for (int i = 0; i < 2; i++) {
		struct conf_arg a = {files[i], i == 0};
		const char *what = i == 0 ? "config-system" : "config-user";
		if (!*files[i]) {
			report(ST_NOTE, what, "set HOME or XDG_CONFIG_HOME", "no user configuration (no HOME)");
			continue;
		}
		if (access(files[i], F_OK) < 0) {
			report(ST_OK, what, NULL, "%s: none (the defaults)", files[i]);
			continue;
		}
		if (quietly(read_conf, &a, msg, sizeof(msg)) < 0) {
			report(ST_FAIL, what, "correct the file (fvm.conf(5)); every run refuses to start until then",
			       "%s", msg[0] ? msg : files[i]);
		} else {
			report(ST_OK, what, NULL, "%s: parses", files[i]);
		}
	}
}

/* A directory every user writes into, sticky: DIR's mode must be 1777. */
static void check_tmpdir(const char *dir, const char *need, enum status bad)
{
	struct stat st;
	char fix[128];

	snprintf(fix, sizeof(fix), "chmod 1777 %s (as root)", dir);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		report(bad, dir, fix, "%s: %s", stat(dir, &st) < 0 ? strerror(errno) : "not a directory", need);
	} else if ((st.st_mode & 07777) != 01777) {
		report(bad, dir, fix, "mode %04o, not 1777: %s", st.st_mode & 07777, need);
	} else {
		report(ST_OK, dir, NULL, "mode 1777");
	}
}

int cmd_doctor(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j') {
			return cli_usage(NULL);
		}
		as_json = true;
	}
	if (optind != argc) {
		return cli_usage("no argument is taken");
	}
	if (as_json) {
		printf("{\"checks\":[");
	}
	check_kernel();
	check_landlock();
	check_seccomp();
	check_sud();
	check_cgroup();
	check_userns();
	check_store(s);
	check_libraries();
	check_fvm_exec();
	check_config();
	check_tmpdir("/dev/shm", "a VM's POSIX shared memory and semaphores live there", ST_DEGRADED);
	check_tmpdir("/tmp", "programs in VMs, as on the host, make their temporary files there", ST_DEGRADED);
	if (as_json) {
		printf("\n],\"ok\":%s}\n", worst == ST_OK ? "true" : "false");
	}
	fflush(stdout);
	return worst == ST_OK ? 0 : FVM_EXIT_REFUSED;
}
