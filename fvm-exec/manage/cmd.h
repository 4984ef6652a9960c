/*
 * cmd.h — the subcommands of fvm, one file each (cmd_NAME.c), dispatched from the
 * table in main.c, and the helpers they share (cli.c, help.c). Each command returns
 * an exit status of fvm/exit.h: 0 done, 1 refused (the user can act on it), 2 usage,
 * 3 damaged store, 4 unreachable remote.
 */
#ifndef FVM_MANAGE_CMD_H
#define FVM_MANAGE_CMD_H

#include <stdio.h>

#include "store/changes.h"
#include "store/store.h"

int cmd_list(const struct fvm_store *s, int argc, char **argv);
int cmd_info(const struct fvm_store *s, int argc, char **argv);
int cmd_diff(const struct fvm_store *s, int argc, char **argv);
int cmd_compare(const struct fvm_store *s, int argc, char **argv);
int cmd_commit(const struct fvm_store *s, int argc, char **argv);
int cmd_reset(const struct fvm_store *s, int argc, char **argv);
int cmd_rm(const struct fvm_store *s, int argc, char **argv);
int cmd_migrate(const struct fvm_store *s, int argc, char **argv);
int cmd_ps(const struct fvm_store *s, int argc, char **argv);
int cmd_stats(const struct fvm_store *s, int argc, char **argv);
int cmd_top(const struct fvm_store *s, int argc, char **argv);
int cmd_stop(const struct fvm_store *s, int argc, char **argv);
int cmd_export(const struct fvm_store *s, int argc, char **argv);
int cmd_import(const struct fvm_store *s, int argc, char **argv);
int cmd_snapshot(const struct fvm_store *s, int argc, char **argv);
int cmd_snapshots(const struct fvm_store *s, int argc, char **argv);
int cmd_clone(const struct fvm_store *s, int argc, char **argv);
int cmd_restore(const struct fvm_store *s, int argc, char **argv);
int cmd_squash(const struct fvm_store *s, int argc, char **argv);
int cmd_keygen(const struct fvm_store *s, int argc, char **argv);
int cmd_sign(const struct fvm_store *s, int argc, char **argv);
int cmd_verify(const struct fvm_store *s, int argc, char **argv);
int cmd_publish(const struct fvm_store *s, int argc, char **argv);
int cmd_subscribe(const struct fvm_store *s, int argc, char **argv);
int cmd_pull(const struct fvm_store *s, int argc, char **argv);
int cmd_config(const struct fvm_store *s, int argc, char **argv);
int cmd_doctor(const struct fvm_store *s, int argc, char **argv);

/*
 * `fvm __complete` (cmd_complete.c): the completions of the shell scripts of
 * completion/, from the tables of help.c and config_table.c; HOME is --home or NULL.
 */
int cmd_complete(const char *home, int argc, char **argv);

/*
 * One subcommand (help.c's table, the only list of them): what `fvm SUB --help`
 * prints, its line in `fvm --help`, and the function main.c runs (NULL for help).
 */
struct cli_entry {
	const char *name, *synopsis, *what, *options, *example;
	const char *line;	/* "list [--json] [--bytes]     the VMs in the store" */
	int (*run)(const struct fvm_store *s, int argc, char **argv);
};

/* The I-th subcommand, in `fvm --help`'s order; NULL past the last. */
const struct cli_entry *cli_entry(size_t i);

int cmd_trace(const struct fvm_store *s, int argc, char **argv);
int cmd_provenance(const struct fvm_store *s, int argc, char **argv);

struct trace;
/*
 * The trace of run RUN (NULL: the last traced; fvm trace(1) --run) of VM into T, its
 * record's name into RUNNAME, its place in fvm stats's list into *INDEX. 0, or the exit
 * status (reported). cmd_trace.c.
 */
int cli_trace_load(const struct fvm_store *s, const char *vm, const char *run, struct trace *t, char *runname,
		   size_t rlen, int *index);

/* The subcommand running ("diff"), for messages; set by main.c. */
extern const char *cli_command;

/* SUB's help (synopsis, options, example) on OUT: 0, or -1 when there is no SUB. */
int cli_help(const char *sub, FILE *out);

/*
 * A usage error of the running subcommand: PROBLEM (NULL when getopt has just named
 * it) and "see fvm SUB --help" on stderr. Returns FVM_EXIT_USAGE.
 */
int cli_usage(const char *problem);

/*
 * Checks that each of the NPATHS PATHS selects at least one of the changes CH; each
 * that selects none is named on stderr ("matches no change AMONG"; NULL: "of the
 * VM"). Returns 0 or FVM_EXIT_REFUSED.
 */
int cli_paths_matched(char *const *paths, size_t npaths, const struct fvm_changes *ch,
		      const char *among);

/* VM NAME's directory into DIR; 0, or the exit status for a bad name / no such VM. */
int cli_vm(const struct fvm_store *s, const char *name, char *dir, size_t len);

/* What cli_one_vm parsed: the output switches and the VM. */
struct cli_one {
	bool json;		/* --json */
	bool bytes;		/* --bytes, when the subcommand takes it */
	const char *name;	/* the VM's NAME */
	char dir[PATH_MAX];	/* its directory */
};

/*
 * The arguments of a subcommand that reads one VM: --json (and --bytes when WITH_BYTES)
 * and exactly one VM NAME, which must exist, into O. 0, or the exit status (usage
 * error, no such VM).
 */
int cli_one_vm(const struct fvm_store *s, int argc, char **argv, bool with_bytes, struct cli_one *o);

/*
 * A key file argument ARG (--key, --pub, --successor): ARG itself when it names a
 * path with a '/' or a file that exists, else the key of that name in the store S's
 * key directory (HOME/keys/ARG, or ARG with EXT, ".key" or ".pub", added) when there
 * is one, into BUF. Returns the path to open (a missing one is reported by its user).
 */
const char *cli_key_file(const struct fvm_store *s, const char *arg, const char *ext, char *buf, size_t len);

/* The N PATH arguments made absolute and normalised (*OUT, free with cli_paths_free). */
int cli_paths(int n, char **argv, char ***out);
void cli_paths_free(char **v, int n);

/*
 * The changes of the VM at VMDIR beneath PATHS; 0 or the exit status (reported). A VM
 * with layers is scanned through a merged view of them and upper/ (store/layers.h),
 * kept until the next scan or the exit; cli_scan_tree() names the tree scanned.
 */
int cli_scan(const char *vmdir, char *const *paths, size_t npaths, struct fvm_changes *ch);
const char *cli_scan_tree(void);

/* What the layer labelled LABEL of the VM at VMDIR holds, against the host. */
int cli_scan_layer(const struct fvm_store *s, const char *vmdir, const char *label,
		   char *const *paths, size_t npaths, struct fvm_changes *ch);

struct cli_counts {
	size_t added, modified, deleted;
};
void cli_count(const struct fvm_changes *ch, struct cli_counts *n);

/* "running" (a run holds the lock, or processes live) or "idle"; *NPROCS the number of
 * the VM's live processes. */
const char *cli_state(const char *vmdir, size_t *nprocs);

/*
 * From now on cli_state answers from two walks of /proc taken here, once for every VM
 * (procs.h, vm_procs_find_census), instead of walking /proc for each VM (fvm list).
 */
void cli_state_census(void);

/* "PREFIXVPATH" quoted as a name, for a diff label ("a/etc/x"): malloc'd, or NULL. */
char *cli_label(const char *prefix, const char *vpath);

/*
 * Runs ARGV (ARGV[0] looked up in PATH) and copies its standard output, and its standard
 * error when WITH_STDERR, to ours a line at a time, each line's unsafe bytes escaped
 * (store/quote.h), then waits for it: the output of diff(1) or diffoscope on the VM's
 * files. LINE_COLOR (NULL: no colour) gives the escape sequence to open a line with, or
 * NULL; a line so opened ends with a reset.
 */
void cli_run_escaped(char *const argv[], bool with_stderr, const char *(*line_color)(const char *line));

/* A link target that changed, as -p shows it: "-> BEFORE" and "+> AFTER" lines, quoted. */
void cli_print_targets(const char *before, const char *after);

/* T (seconds since the epoch) as "YYYY-MM-DDTHH:MM:SSZ", or "-" for none. */
void cli_time(long long t, char *out, size_t len);

#endif
