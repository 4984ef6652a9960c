/*
 * config.h — fvm-exec's settings: one table of options that serves as the command
 * line, the configuration keys of fvm.conf / vm.conf and the text of a VM's vm.conf.
 *
 * Settings are kept as text, layer by layer (system config, user config, vm.conf,
 * command line; see config.c), each value checked by its kind's parser when it is
 * set, so a bad value is reported where it was written. exec_settings_build() then
 * turns the effective text into typed values (struct exec_settings), which cannot fail.
 */
#ifndef FVM_RUN_CONFIG_H
#define FVM_RUN_CONFIG_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "fvm/policy.h"

/* One key per row of exec_opts[] (same order). */
enum exec_key {
	K_VM, K_HOME, K_CONFIG, K_EPHEMERAL, K_KEEP, K_REVIEW,
	K_CPU, K_MEMORY, K_DATA, K_STACK, K_NPROC, K_NOFILE, K_FSIZE, K_CORE, K_MEMLOCK,
	K_NICE, K_CPUS, K_TIMEOUT, K_KILL_AFTER, K_KILL_ON_EXIT, K_COPY_LIMIT, K_MEMORY_TOTAL, K_PIDS_TOTAL,
	K_DISK_LIMIT, K_FILES_LIMIT,
	K_SHARE, K_HIDE, K_READONLY, K_SCOPE,
	K_NET, K_ALLOW, K_UNIX, K_LOOPBACK, K_ENFORCE, K_DEVICE,
	K_STATS, K_RUNS_KEPT, K_TRACE,
	K_DETERMINISTIC, K_TIME, K_TIME_FROZEN, K_CLAMP_MTIME, K_RANDOM_SEED, K_DIR_ORDER,
	K_HOSTNAME, K_NAMES, K_NCPUS, K_UMASK, K_TZ, K_LOCALE, K_REPRO,
	K_VERBOSE, K_HELP, K_VERSION,
	K_NKEYS
};

/* How a value is written and checked. */
enum exec_kind {
	V_FLAG,     /* no argument on the command line; "true"/"false" in a file */
	V_TEXT,     /* any non-empty text (checked elsewhere: VM name, file) */
	V_PATH,     /* absolute, or "~/..."; relative on the command line only */
	V_SIZE,     /* bytes, K/M/G/T suffixes (powers of 1024), or "unlimited" */
	V_SECONDS,  /* whole seconds, s/m/h suffixes, or "unlimited" */
	V_DURATION, /* milliseconds precision: ms/s/m/h suffixes; "0": none */
	V_COUNT,    /* a positive integer, or "unlimited" */
	V_NICE,     /* -20..19 */
	V_CPUS,     /* a CPU list: "0", "0-3", "0,2,4-5" */
	V_NET,      /* all | loopback | none */
	V_ALLOW,    /* ADDR[/PREFIX][:PORT], IPv6 in brackets when a port is given */
	V_UNIX,     /* all | vm | an absolute path (an allowed socket) */
	V_LOOPBACK, /* shared | private */
	V_ENFORCE,  /* auto | require | off */
	V_TIME,     /* ISO 8601 UTC (2000-01-01T00:00:00Z) or @EPOCH: seconds since the epoch */
	V_SEED,     /* an unsigned 64-bit number */
	V_ORDER,    /* sorted | reversed */
	V_HOSTNAME, /* [A-Za-z0-9.-], 1 to 64 bytes */
	V_USERNAME, /* [a-z_][a-z0-9_-]*, 1 to 32 bytes */
	V_UMASK,    /* octal, 0 to 0777 */
};

/* Row flags. */
#define OPT_CLI  0x1 /* command line only: not a configuration key */
#define OPT_LIST 0x2 /* repeatable: values accumulate within a layer */
#define OPT_RUN  0x4 /* a key of fvm.conf, but not part of a VM's policy (not in vm.conf) */

struct exec_opt {
	const char *name; /* long option and configuration key */
	int short_opt;    /* 0: none */
	enum exec_kind kind;
	unsigned flags;
	const char *def;  /* default, as text (NULL: unset) */
	const char *help;
};

extern const struct exec_opt exec_opts[K_NKEYS];

/* A value as written, with where it came from ("--memory", "FILE:LINE"). */
struct exec_val {
	char *text;
	char *origin;
};

struct exec_config {
	struct exec_val *vals[K_NKEYS];
	size_t n[K_NKEYS];
	int layer[K_NKEYS]; /* the layer that last set the key: a new layer restarts a list */
	int cur_layer;
};

enum exec_enforce { ENFORCE_AUTO = 0, ENFORCE_REQUIRE, ENFORCE_OFF };

#define EXEC_UNSET UINT64_MAX

/* The typed settings. Numeric quotas are EXEC_UNSET when not set or "unlimited". */
struct exec_settings {
	const char *vm, *home, *config;
	bool ephemeral, keep, review, verbose, kill_on_exit, stats;
	bool trace;         /* --trace: the run's inputs, outputs and programs (run/trace.c) */
	unsigned runs_kept; /* the past runs' accounts kept (store/history.h) */
	uint64_t rlim[K_PIDS_TOTAL + 1]; /* indexed by key, K_CPU..K_MEMLOCK; seconds or bytes */
	bool nice_set;
	int nice;
	bool cpus_set;
	cpu_set_t cpus;
	uint64_t timeout_ms, kill_after_ms; /* 0: no timeout */
	uint64_t copy_limit, memory_total, pids_total;
	uint64_t disk_limit, files_limit; /* the layer's bytes and entries (libfvm/core/quota.c) */
	enum exec_enforce enforce;
	struct fvm_policy pol;
	/* AF_UNIX path sockets: false: every one (unix = all); true: the VM's own, those
	 * under a shared path and UNIX_ALLOW (unix = vm, the default under --net none) */
	bool unix_vm;
	const char *unix_allow[FVM_POLICY_MAX_ALLOW]; /* --allow unix:PATH, unix = PATH */
	size_t nunix_allow;
	/* device = PATH: host block devices the VM may open (root runs cover the others) */
	const char *devices[FVM_POLICY_MAX_ALLOW];
	dev_t device_rdev[FVM_POLICY_MAX_ALLOW];
	size_t ndevices;
};

/* A value parsed by its kind's parser (config_table.c). */
union exec_value {
	bool b;
	int i;
	uint64_t u;
	const char *s;
	cpu_set_t cpus;
};

/*
 * Parses TEXT as a value of KIND into OUT. Returns 0, or -1 with *EXPECT saying what
 * a good value of that kind looks like.
 */
int exec_value_parse(enum exec_kind kind, const char *text, union exec_value *out, const char **expect);

void exec_config_init(struct exec_config *c);
void exec_config_free(struct exec_config *c);

/* Starts a new layer: keys set from now on replace what earlier layers said. */
void exec_config_layer(struct exec_config *c);

/*
 * Sets key K to TEXT (ORIGIN says where it was written) after checking it with the
 * key's parser; a value with a newline is refused (vm.conf holds it on one line).
 * Returns 0, or -1 with a message (without the origin) in WHY.
 */
int exec_config_set(struct exec_config *c, enum exec_key k, const char *text, const char *origin,
		    char *why, size_t whylen);

/* The last value of key K, or its default, or NULL. */
const char *exec_config_get(const struct exec_config *c, enum exec_key k);

/* The row named NAME ('_' and '-' alike), or -1. */
int exec_opt_find(const char *name);

/*
 * Parses the command line into the config (as one layer). Returns the index of the
 * first word of the command, or -1 after printing "fvm-exec: --opt VALUE: why".
 */
int exec_parse_cli(struct exec_config *c, int argc, char **argv);

/*
 * Reads the INI file FILE into C for VM (global keys, then the section [vm VM]).
 * MISSING_OK: a file that does not exist is no error. SYSTEM: refuse a file writable
 * by group or others. NOFOLLOW: refuse a link (the VM's vm.conf). Only a regular file
 * of at most SAFE_MAX_CONF bytes is read. Returns 0, or -1 after printing
 * "fvm-exec: FILE:LINE: why" or "fvm-exec: FILE: why".
 */
int exec_config_read(struct exec_config *c, const char *file, const char *vm, bool missing_ok,
		     bool system, bool nofollow);

/*
 * The text of VM's vm.conf from C (malloc'd, NULL on no memory): a header, the marker
 * line naming the keys not from the configuration files (NOTFILES[k], or when NULL the
 * keys of C given on the command line, origin "--KEY"), then the keys. A key on the
 * marker line is left out by exec_config_drift() and kept by `fvm config --reset`.
 */
char *exec_vmconf_text(const struct exec_config *c, const char *vm, const bool *notfiles);

/* Marks in NOTFILES[] the keys vm.conf (VMCONF) names on its marker line; false when
 * it has none (a VM made by an earlier fvm). */
bool exec_vmconf_marker(const char *vmconf, bool notfiles[K_NKEYS]);

/*
 * Compares FILES (the configuration files as they are now, for VM) with VMC (the VM's
 * vm.conf at VMCONF) and prints on OUT one line naming each key that differs, both
 * values and where the files' comes from, and how to apply it (config_drift.c). Keys
 * given on the command line at the VM's creation, or in CLI for this run, are left
 * out. Returns the number of keys that differ (0: nothing printed), -1 on no memory.
 */
int exec_config_drift(const struct exec_config *files, const struct exec_config *vmc,
		      const struct exec_config *cli, const char *vmconf, const char *vm, FILE *out);

/*
 * The system's fvm.conf ($FVM_SYSTEM_CONFIG, else SYSCONFDIR/fvm.conf) into SYS and the
 * user's (${XDG_CONFIG_HOME:-$HOME/.config}/fvm/fvm.conf; "" without either) into USER,
 * LEN bytes each.
 */
void exec_config_paths(char *sys, char *user, size_t len);

/* ---- what no share may cover (config_protect.c) ---- */

struct exec_protect {
	const char *path;        /* absolute; need not exist */
	const char *what;        /* for messages: "the store", "fvm's user configuration", ... */
	enum fvm_class klass;    /* what a scope makes of it: HIDDEN or READONLY */
};

/*
 * Refuses every share of C that contains one of the N protected paths P or lies
 * inside one, compared by device and inode (a link or another name of the same
 * directory is caught). Returns 0, or -1 after printing "fvm-exec: ORIGIN: share =
 * PATH: ..." (ORIGIN is FILE:LINE or --share).
 */
int exec_protect_shares(const struct exec_config *c, const struct exec_protect *p, size_t n);

/*
 * With a scope (everything outside it is shared), keeps the N protected paths P out of
 * the VM's reach in POL, each with a rule of its class. Returns 0 or -1
 * (printed).
 */
int exec_protect_scope(struct fvm_policy *pol, const struct exec_protect *p, size_t n);

/* The effective typed settings. Returns 0, or -1 after printing the reason. */
int exec_settings_build(const struct exec_config *c, struct exec_settings *s);

/*
 * Writes the VM's policy part of the effective configuration (every key that is not
 * OPT_CLI or OPT_RUN) as vm.conf text to OUT. WITH_ORIGIN adds "# from ..." comments.
 */
void exec_config_write(const struct exec_config *c, FILE *out, bool with_origin);

/* Help text of all options, from the table. */
void exec_usage(FILE *out);

#endif
