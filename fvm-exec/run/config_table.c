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
};

int exec_value_parse(enum exec_kind kind, const char *text, union exec_value *out, const char **expect)
{
	if (kinds[kind].parse(text, out) < 0) {
		*expect = kinds[kind].expect;
		return -1;
	}
	return 0;
}
