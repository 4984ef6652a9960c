/*
 * config_table.c — the table of fvm-exec's options and the parsers of their values
 * (config.h). One row per option: the command line, the keys of fvm.conf and vm.conf,
 * the help text and the text of vm.conf all come from it; one parser per kind of
 * value, each checking bounds (adding an option is one row, plus its use).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"

const struct exec_opt exec_opts[K_NKEYS] = {
	[K_VM] = {"vm", 'n', V_TEXT, OPT_CLI, "default", "the VM (created on first use)"},
	[K_HOME] = {"home", 0, V_PATH, OPT_CLI, NULL, "the store (default $FVM_HOME, else ${XDG_DATA_HOME:-~/.local/share}/fvm)"},
	[K_CONFIG] = {"config", 'c', V_PATH, OPT_CLI, NULL, "read this file instead of the system and user fvm.conf"},
	[K_EPHEMERAL] = {"ephemeral", 0, V_FLAG, OPT_CLI, "false", "a fresh VM, removed after the run"},
	[K_KEEP] = {"keep", 0, V_FLAG, OPT_CLI, "false", "with --ephemeral: keep the VM and print its name"},
	[K_REVIEW] = {"review", 0, V_FLAG, OPT_CLI, "false",
		      "afterwards, show the changes and offer to commit them"},
	[K_CPU] = {"cpu", 0, V_SECONDS, 0, NULL, "CPU time per process (RLIMIT_CPU)"},
	[K_MEMORY] = {"memory", 0, V_SIZE, 0, NULL, "address space per process (RLIMIT_AS)"},
	[K_DATA] = {"data", 0, V_SIZE, 0, NULL, "data segment per process (RLIMIT_DATA)"},
	[K_STACK] = {"stack", 0, V_SIZE, 0, NULL, "stack per process (RLIMIT_STACK)"},
	[K_NPROC] = {"nproc", 0, V_COUNT, 0, NULL, "processes of the user (RLIMIT_NPROC)"},
	[K_NOFILE] = {"nofile", 0, V_COUNT, 0, NULL, "open files per process (RLIMIT_NOFILE)"},
	[K_FSIZE] = {"fsize", 0, V_SIZE, 0, NULL, "largest file written (RLIMIT_FSIZE)"},
	[K_CORE] = {"core", 0, V_SIZE, 0, NULL, "core dump size (RLIMIT_CORE)"},
	[K_MEMLOCK] = {"memlock", 0, V_SIZE, 0, NULL, "locked memory (RLIMIT_MEMLOCK)"},
	[K_NICE] = {"nice", 0, V_NICE, 0, NULL, "scheduling niceness, -20..19"},
	[K_CPUS] = {"cpus", 0, V_CPUS, 0, NULL, "CPU affinity, a list such as 0,2-3"},
	[K_TIMEOUT] = {"timeout", 0, V_DURATION, 0, NULL, "wall clock of the whole run (exit 124)"},
	[K_KILL_AFTER] = {"kill-after", 0, V_DURATION, 0, "5s", "grace between SIGTERM and SIGKILL"},
	[K_KILL_ON_EXIT] = {"kill-on-exit", 0, V_FLAG, OPT_RUN, "false",
			    "end the VM's other processes when the command ends"},
	[K_COPY_LIMIT] = {"copy-limit", 0, V_SIZE, 0, NULL, "largest host file copied up (else EFBIG)"},
	[K_MEMORY_TOTAL] = {"memory-total", 0, V_SIZE, 0, NULL, "memory of the whole VM (cgroup)"},
	[K_PIDS_TOTAL] = {"pids-total", 0, V_COUNT, 0, NULL, "processes of the whole VM (cgroup)"},
	[K_DISK_LIMIT] = {"disk-limit", 0, V_SIZE, 0, NULL, "bytes of files the VM's layer may hold (else EDQUOT)"},
	[K_FILES_LIMIT] = {"files-limit", 0, V_COUNT, 0, NULL, "entries the VM's layer may hold (else EDQUOT)"},
	[K_SHARE] = {"share", 0, V_PATH, OPT_LIST, NULL, "written straight through to the host"},
	[K_HIDE] = {"hide", 0, V_PATH, OPT_LIST, NULL, "absent inside the VM"},
	[K_READONLY] = {"readonly", 0, V_PATH, OPT_LIST, NULL, "visible, not writable (EROFS)"},
	[K_SCOPE] = {"scope", 0, V_PATH, OPT_LIST, NULL, "virtualize only these trees"},
	[K_NET] = {"net", 0, V_NET, 0, "all", "network: all, loopback or none"},
	[K_ALLOW] = {"allow", 0, V_ALLOW, OPT_LIST, NULL, "also allow ADDR[/PREFIX][:PORT], or unix:PATH"},
	[K_UNIX] = {"unix", 0, V_UNIX, OPT_LIST, NULL,
		    "AF_UNIX path sockets: all, vm, or allowed paths (default: vm under --net none, else all)"},
	[K_LOOPBACK] = {"loopback", 0, V_LOOPBACK, 0, "shared", "shared, or private (an own 127.x.y.z)"},
	[K_ENFORCE] = {"enforce", 0, V_ENFORCE, 0, "auto", "kernel fence: auto, require or off"},
	[K_DEVICE] = {"device", 0, V_PATH, OPT_LIST, NULL, "a host block device the VM may open"},
	[K_STATS] = {"stats", 0, V_FLAG, OPT_RUN, "false", "print what the run consumed when it ends"},
	[K_RUNS_KEPT] = {"runs-kept", 0, V_COUNT, OPT_RUN, "20", "past runs' accounts kept with the VM (fvm stats)"},
	[K_TRACE] = {"trace", 0, V_FLAG, OPT_RUN, "false",
		     "record what the run reads, writes and runs (fvm trace, fvm provenance)"},
	[K_DETERMINISTIC] = {"deterministic", 0, V_FLAG, OPT_RUN, "false",
			     "fix what makes builds differ: every option below at its default"},
	[K_TIME] = {"time", 0, V_TIME, OPT_RUN, NULL,
		    "the clock at start, 2000-01-01T00:00:00Z or @EPOCH (exports SOURCE_DATE_EPOCH)"},
	[K_TIME_FROZEN] = {"time-frozen", 0, V_FLAG, OPT_RUN, "false", "the clock stays at --time"},
	[K_CLAMP_MTIME] = {"clamp-mtime", 0, V_FLAG, OPT_RUN, "false",
			   "times of files the run wrote read back as --time"},
	[K_RANDOM_SEED] = {"random-seed", 0, V_SEED, OPT_RUN, NULL,
			   "getrandom, getentropy, /dev/urandom and /dev/random: a stream seeded by N"},
	[K_DIR_ORDER] = {"dir-order", 0, V_ORDER, OPT_RUN, NULL, "readdir order: sorted or reversed"},
	[K_HOSTNAME] = {"hostname", 0, V_HOSTNAME, OPT_RUN, NULL, "uname's nodename and gethostname"},
	[K_NAMES] = {"names", 0, V_USERNAME, OPT_RUN, NULL,
		     "the name of the run's own user and group (getpwuid, getgrgid, USER)"},
	[K_NCPUS] = {"ncpus", 0, V_COUNT, OPT_RUN, NULL,
		     "the number of CPUs reported (sysconf, get_nprocs, sched_getaffinity)"},
	[K_UMASK] = {"umask", 0, V_UMASK, OPT_RUN, NULL, "the command's umask, octal"},
	[K_TZ] = {"tz", 0, V_TEXT, OPT_RUN, NULL, "TZ for the command"},
	[K_LOCALE] = {"locale", 0, V_TEXT, OPT_RUN, NULL, "LANG and LC_ALL for the command"},
	[K_REPRO] = {"repro", 0, V_COUNT, OPT_CLI, NULL,
		     "run the command in N fresh VMs under varied conditions and compare them"},
	[K_VERBOSE] = {"verbose", 'v', V_FLAG, OPT_RUN, "false", "print the policy and the fence"},
	[K_HELP] = {"help", 'h', V_FLAG, OPT_CLI, NULL, "this help"},
	[K_VERSION] = {"version", 0, V_FLAG, OPT_CLI, NULL, "the version"},
};

/* ---- values ---------------------------------------------------------------------- */

struct scale {
	const char *suffix;
	uint64_t mul;
};

static const struct scale size_scale[] = {
	{"", 1}, {"K", 1ull << 10}, {"M", 1ull << 20}, {"G", 1ull << 30}, {"T", 1ull << 40},
	{NULL, 0},
};
static const struct scale sec_scale[] = {
	{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {NULL, 0},
};
static const struct scale ms_scale[] = {
	{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {NULL, 0},
};

/* Digits of T times a suffix of SCALE (case-insensitive) into *OUT, at most MAX. */
static int parse_scaled(const char *t, const struct scale *scale, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;

	if (!isdigit((unsigned char)*t)) {
		return -1;
	}
	errno = 0;
	v = strtoull(t, &end, 10);
	if (errno) {
		return -1;
	}
	for (; scale->suffix; scale++) {
		if (strcasecmp(end, scale->suffix) == 0) {
			if (v > max / scale->mul) {
				return -1;
			}
			*out = v * scale->mul;
			return 0;
		}
	}
	return -1;
}

/* "unlimited" is EXEC_UNSET; else a scaled number. */
static int parse_limit(const char *t, const struct scale *scale, uint64_t *out)
{
	if (strcmp(t, "unlimited") == 0) {
		*out = EXEC_UNSET;
		return 0;
	}
	return parse_scaled(t, scale, EXEC_UNSET - 1, out);
}

static int parse_flag(const char *t, void *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(t, yes[i]) == 0 || strcmp(t, no[i]) == 0) {
			*(bool *)out = strcmp(t, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

static int parse_text(const char *t, void *out)
{
	*(const char **)out = t;
	return *t ? 0 : -1;
}

static int parse_path(const char *t, void *out)
{
	*(const char **)out = t;
	return t[0] == '/' || (t[0] == '~' && (t[1] == '\0' || t[1] == '/')) ? 0 : -1;
}

static int parse_size(const char *t, void *out)
{
	return parse_limit(t, size_scale, out);
}

static int parse_seconds(const char *t, void *out)
{
	uint64_t *v = out;
	return parse_limit(t, sec_scale, v) < 0 || *v == 0 ? -1 : 0;
}

static int parse_duration(const char *t, void *out)
{
	return parse_scaled(t, ms_scale, UINT64_MAX / 2, out);
}

static int parse_count(const char *t, void *out)
{
	uint64_t *v = out;
	return parse_limit(t, size_scale, v) < 0 || *v == 0 ? -1 : 0;
}

static int parse_nice(const char *t, void *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(t, &end, 10);
	if (!*t || *end || errno || v < -20 || v > 19) {
		return -1;
	}
	*(int *)out = (int)v;
	return 0;
}

static int parse_cpus(const char *t, void *out)
{
	cpu_set_t *set = out;
	const char *p = t;

	CPU_ZERO(set);
	do {
		char *end;
		unsigned long lo, hi;
		if (!isdigit((unsigned char)*p)) {
			return -1;
		}
		lo = hi = strtoul(p, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1])) {
				return -1;
			}
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo > hi || hi >= CPU_SETSIZE) {
			return -1;
		}
		for (unsigned long i = lo; i <= hi; i++) {
			CPU_SET(i, set);
		}
		p = end;
	} while (*p == ',' && *++p);
	return *p ? -1 : 0;
}

static int parse_name(const char *t, const char *const *names, int *out)
{
	for (int i = 0; names[i]; i++) {
		if (strcmp(t, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

static int parse_net(const char *t, void *out)
{
	*(int *)out = fvm_net_from_name(t);
	return *(int *)out < 0 ? -1 : 0;
}

static int parse_allow(const char *t, void *out)
{
	static struct fvm_policy scratch;

	(void)out;
	if (strncmp(t, "unix:", 5) == 0) {
		return t[5] == '/' ? 0 : -1;
	}
	scratch.nallow = 0;
	return fvm_policy_add_allow(&scratch, t) < 0 ? -1 : 0;
}

static int parse_unix(const char *t, void *out)
{
	(void)out;
	return strcmp(t, "all") == 0 || strcmp(t, "vm") == 0 || t[0] == '/' ? 0 : -1;
}

static int parse_loopback(const char *t, void *out)
{
	static const char *const names[] = {"shared", "private", NULL};
	return parse_name(t, names, out);
}

static int parse_enforce(const char *t, void *out)
{
	static const char *const names[] = {"auto", "require", "off", NULL};
	return parse_name(t, names, out);
}

/* "@EPOCH" or "YYYY-MM-DDTHH:MM:SSZ" (UTC) into seconds since the epoch, >= 0. */
static int parse_time(const char *t, void *out)
{
	struct tm tm = {0};
	const char *end;
	long long v;

	if (t[0] == '@') {
		char *e;
		if (!isdigit((unsigned char)t[1])) {
			return -1;
		}
		errno = 0;
		v = strtoll(t + 1, &e, 10);
		if (errno || *e) {
			return -1;
		}
	} else {
		end = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!end || (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)) {
			return -1;
		}
		v = (long long)timegm(&tm);
		if (v < 0) {
			return -1;
		}
	}
	*(uint64_t *)out = (uint64_t)v;
	return 0;
}

static int parse_seed(const char *t, void *out)
{
	char *end;

	if (!isdigit((unsigned char)*t)) {
		return -1;
	}
	errno = 0;
	*(uint64_t *)out = strtoull(t, &end, 0);
	return errno || *end ? -1 : 0;
}

static int parse_order(const char *t, void *out)
{
	static const char *const names[] = {"sorted", "reversed", NULL};
	return parse_name(t, names, out);
}

static int parse_hostname(const char *t, void *out)
{
	size_t l = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-");

	*(const char **)out = t;
	return l == 0 || t[l] || l > 64 ? -1 : 0;
}

static int parse_username(const char *t, void *out)
{
	size_t l = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	*(const char **)out = t;
	return l == 0 || t[l] || l > 32 || t[0] == '-' || isdigit((unsigned char)t[0]) ? -1 : 0;
}

static int parse_umask(const char *t, void *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*t)) {
		return -1;
	}
	v = strtoul(t, &end, 8);
	if (*end || v > 0777) {
		return -1;
	}
	*(int *)out = (int)v;
	return 0;
}

static const struct {
	int (*parse)(const char *text, void *out);
	const char *expect; /* what a good value looks like, for the error message */
} kinds[] = {
	[V_FLAG] = {parse_flag, "not a boolean: use true or false"},
	[V_TEXT] = {parse_text, "empty"},
	[V_PATH] = {parse_path, "not a path: use an absolute path or ~/..."},
	[V_SIZE] = {parse_size, "not a size: use a number with an optional K, M, G or T suffix, or unlimited"},
	[V_SECONDS] = {parse_seconds, "not a time: use a positive number of seconds with an optional s, m or h suffix, or unlimited"},
	[V_DURATION] = {parse_duration, "not a duration: use a number with an optional ms, s, m or h suffix"},
	[V_COUNT] = {parse_count, "not a count: use a positive number, or unlimited"},
	[V_NICE] = {parse_nice, "not a niceness: use a number from -20 to 19"},
	[V_CPUS] = {parse_cpus, "not a CPU list: use numbers and ranges such as 0,2-3"},
	[V_NET] = {parse_net, "not a network policy: use all, loopback or none"},
	[V_ALLOW] = {parse_allow, "not an address: use ADDR[/PREFIX][:PORT], [IPV6][/PREFIX][:PORT] or unix:/PATH"},
	[V_UNIX] = {parse_unix, "not a unix socket policy: use all, vm or an absolute path"},
	[V_LOOPBACK] = {parse_loopback, "not a loopback mode: use shared or private"},
	[V_ENFORCE] = {parse_enforce, "not a fence mode: use auto, require or off"},
	[V_TIME] = {parse_time, "not a time: use 2000-01-01T00:00:00Z (UTC) or @SECONDS since the epoch"},
	[V_SEED] = {parse_seed, "not a seed: use a number from 0 to 2^64-1"},
	[V_ORDER] = {parse_order, "not a directory order: use sorted or reversed"},
	[V_HOSTNAME] = {parse_hostname, "not a host name: use 1 to 64 letters, digits, dots and dashes"},
	[V_USERNAME] = {parse_username, "not a user name: use 1 to 32 lower-case letters, digits, '_' and '-', "
					"a letter or '_' first"},
	[V_UMASK] = {parse_umask, "not a umask: use an octal number from 0 to 0777"},
};

int exec_value_parse(enum exec_kind kind, const char *text, union exec_value *out, const char **expect)
{
	if (kinds[kind].parse(text, out) < 0) {
		*expect = kinds[kind].expect;
		return -1;
	}
	return 0;
}
