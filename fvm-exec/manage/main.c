/*
 * main.c — fvm, the manager: manage VMs. A thin dispatcher over one file per subcommand.
 *
 *   fvm [--home DIR] COMMAND [ARG...]
 *
 * Exit statuses: fvm/exit.h (0 done, 1 refused, 2 usage, 3 damaged store, 4 remote).
 * `fvm SUB --help` (or -h, anywhere before "--") and `fvm help SUB` print SUB's help
 * (help.c) before the store is looked at: help works without a store.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
	const char *name;
	int (*run)(const struct fvm_store *, int, char **);
	const char *help;
} commands[] = {
	{"list", cmd_list, "list [--json] [--bytes]                the VMs in the store"},
	{"info", cmd_info, "info NAME [--json] [--bytes]           a VM's policy, sizes, changes, processes, subscription"},
	{"diff", cmd_diff, "diff NAME [--stat|--json|-p] [--layer LABEL|--conflicts] [--color=WHEN] [PATH...] what VM NAME changed (A/M/D)"},
	{"compare", cmd_compare, "compare A B [-p] [--diffoscope] [PATH...] what two VMs changed, compared"},
	{"commit", cmd_commit, "commit NAME [--dry-run] [--force] [--allow-privileged] [PATH...]  apply changes to the host"},
	{"reset", cmd_reset, "reset NAME [--all] [--dry-run] [PATH...] discard changes (--all: the layers too)"},
	{"rm", cmd_rm, "rm [--force] NAME                      remove the VM"},
	{"migrate", cmd_migrate, "migrate                                convert a store made by an earlier fvm"},
	{"ps", cmd_ps, "ps NAME [--json]                       the live processes of VM NAME"},
	{"stats", cmd_stats, "stats NAME [--json]                    what VM NAME consumes now and what its past runs did"},
	{"top", cmd_top, "top [--once] [--json] [--delay S]      every running VM: processes, CPU %, memory, I/O, layer"},
	{"trace", cmd_trace, "trace NAME [--run N] [--json] [--outside PATH...]  what a traced run read, ran and changed"},
	{"provenance", cmd_provenance, "provenance NAME [--run N] [--key K.key]  a traced run as in-toto/SLSA provenance (DSSE-signed with --key)"},
	{"export", cmd_export, "export NAME (-o FILE|- | --oci DIR[:TAG]) [--compress gzip|zstd|none] [--mtime T]  the VM's changes as an OCI layer or image"},
	{"import", cmd_import, "import NAME FILE|-|oci:DIR[:TAG] [--max-size SIZE] [--allow-privileged]  a new VM from an OCI layer or image"},
	{"snapshot", cmd_snapshot, "snapshot NAME [LABEL]                  freeze the VM's changes into a layer"},
	{"snapshots", cmd_snapshots, "snapshots NAME [--json] [--bytes]      its layers: label, date, size, files"},
	{"restore", cmd_restore, "restore NAME LABEL [--yes]             back to a snapshot: later changes go"},
	{"squash", cmd_squash, "squash NAME                            merge the VM's layers into one"},
	{"clone", cmd_clone, "clone SRC DST                          a new VM sharing SRC's layers"},
	{"keygen", cmd_keygen, "keygen [-o NAME] [--no-passphrase]     an Ed25519 key pair NAME.key, NAME.pub (minisign's formats)"},
	{"sign", cmd_sign, "sign FILE --key K [-x SIG] [--legacy] [-t TRUSTED]  FILE.minisig, a minisign signature"},
	{"verify", cmd_verify, "verify FILE --pub P [-x SIG] [--prehashed-only]  check a minisign signature"},
	{"publish", cmd_publish, "publish VM --feed DIR --key K [--base-url URL] [--title T] [--notes TEXT] | --refresh --feed DIR --key K  a VMcast feed"},
	{"subscribe", cmd_subscribe, "subscribe VM URL --pub KEY.pub [--pub ...] | subscribe VM  follow a VMcast feed (or show it)"},
	{"pull", cmd_pull, "pull VM | --all                        the subscribed feed's newest version, verified"},
	{"stop", cmd_stop, "stop NAME [--kill-after DURATION]      end them: SIGTERM, SIGKILL after DURATION (default 5s)"},
	{"config", cmd_config, "config NAME [KEY=VALUE... | --reset]   a VM's policy (vm.conf): show or change it"},
	{"doctor", cmd_doctor, "doctor [--json]                        what this kernel and machine give fvm, and the fixes"},
	{"help", NULL, "help [COMMAND]                         this help, or COMMAND's (also: fvm COMMAND --help)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: fvm [--home DIR] COMMAND [ARG...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(out, "  %s\n", commands[i].help);
	}
	fprintf(out, "\nThe store is --home DIR, else $FVM_HOME, else ${XDG_DATA_HOME:-~/.local/share}/fvm.\n"
		     "Exit status: 0 done, 1 refused, 2 usage, 3 damaged store, 4 unreachable remote (fvm(1)).\n");
}

int main(int argc, char **argv)
{
	enum { OPT_HOME = 256, OPT_VERSION };
	static const struct option longopts[] = {
		{"home", required_argument, NULL, OPT_HOME},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	const char *home = NULL;
	struct fvm_store store;
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HOME:
			home = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("fvm %s\n", FVM_VERSION);
			return 0;
		default:
			fputs("see fvm --help\n", stderr);
			return FVM_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs("fvm: a COMMAND is needed\nsee fvm --help\n", stderr);
		return FVM_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "__complete") == 0) {
		return cmd_complete(home, argc - optind, argv + optind);
	}
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 == argc) {
			usage(stdout);
			return 0;
		}
		if (optind + 2 == argc && (strcmp(argv[optind + 1], "--help") == 0 || strcmp(argv[optind + 1], "-h") == 0)) {
			cli_help("help", stdout);
			return 0;
		}
		if (optind + 2 == argc && cli_help(argv[optind + 1], stdout) == 0) {
			return 0;
		}
		cli_command = "help";
		return cli_usage(optind + 2 == argc ? "no such command (fvm help lists them)"
						    : "one COMMAND at most");
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			static char prog[64];
			cli_command = commands[i].name;
			for (int a = optind + 1; a < argc && strcmp(argv[a], "--") != 0; a++) {
				if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
					return cli_help(cli_command, stdout) == 0 ? 0 : FVM_EXIT_USAGE;
				}
			}
			snprintf(prog, sizeof(prog), "fvm %s", cli_command);
			/* Every command but migrate needs a store of the current format; the
			 * key and signature commands need none. */
			if (commands[i].run == cmd_keygen || commands[i].run == cmd_sign ||
			    commands[i].run == cmd_verify) {
				/* Only where the store is: its key directory (not its format). */
				bool found = store_locate(&store, home) == 0;
				optind++;
				int key_argc = argc - optind + 1;
				char **key_argv = argv + optind - 1;
				key_argv[0] = prog;
				optind = 0;
				return commands[i].run(found ? &store : NULL, key_argc, key_argv);
			}
			/* doctor checks the store itself, whatever its state. */
			bool doctor = commands[i].run == cmd_doctor;
			bool located = store_locate(&store, home) == 0;
			if ((!located && !doctor) ||
			    (located && !doctor && commands[i].run != cmd_migrate && store_check_format(&store) < 0)) {
				return FVM_EXIT_STORE;
			}
			optind++;
			/* Subcommands parse their own options from a fresh getopt state; getopt's
			 * messages say "fvm SUB:". */
			int sub_argc = argc - optind + 1;
			char **sub_argv = argv + optind - 1;
			snprintf(prog, sizeof(prog), "fvm %s", cli_command);
			sub_argv[0] = prog;
			optind = 0; /* 0: glibc re-reads the ordering flags ("+" above) */
			return commands[i].run(located ? &store : NULL, sub_argc, sub_argv);
		}
	}
	warnx("unknown command '%s'", argv[optind]);
	fputs("see fvm --help\n", stderr);
	return FVM_EXIT_USAGE;
}
