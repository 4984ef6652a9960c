/*
 * main.c — fvm, the manager: manage VMs. A thin dispatcher over one file per subcommand,
 * from help.c's table of them.
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

static void usage(FILE *out)
{
	fprintf(out, "usage: fvm [--home DIR] COMMAND [ARG...]\n\ncommands:\n");
	const struct cli_entry *e;
	for (size_t i = 0; (e = cli_entry(i)); i++) {
		fprintf(out, "  %s\n", e->line);
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
	const struct cli_entry *e;
	for (size_t i = 0; (e = cli_entry(i)); i++) {
		if (e->run && strcmp(argv[optind], e->name) == 0) {
			static char prog[64];
			cli_command = e->name;
			for (int a = optind + 1; a < argc && strcmp(argv[a], "--") != 0; a++) {
				if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
					return cli_help(cli_command, stdout) == 0 ? 0 : FVM_EXIT_USAGE;
				}
			}
			snprintf(prog, sizeof(prog), "fvm %s", cli_command);
			/* Every command but migrate needs a store of the current format; the
			 * key and signature commands need none. */
			if (e->run == cmd_keygen || e->run == cmd_sign ||
			    e->run == cmd_verify) {
				/* Only where the store is: its key directory (not its format). */
				bool found = store_locate(&store, home) == 0;
				optind++;
				int key_argc = argc - optind + 1;
				char **key_argv = argv + optind - 1;
				key_argv[0] = prog;
				optind = 0;
				return e->run(found ? &store : NULL, key_argc, key_argv);
			}
			/* doctor checks the store itself, whatever its state. */
			bool doctor = e->run == cmd_doctor;
			bool located = store_locate(&store, home) == 0;
			if ((!located && !doctor) ||
			    (located && !doctor && e->run != cmd_migrate && store_check_format(&store) < 0)) {
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
			return e->run(located ? &store : NULL, sub_argc, sub_argv);
		}
	}
	warnx("unknown command '%s'", argv[optind]);
	fputs("see fvm --help\n", stderr);
	return FVM_EXIT_USAGE;
}
