/*
 * cmd_commit.c — fvm commit NAME [--dry-run] [--force] [--allow-privileged] [PATH...]
 * (commit.c does the work). Changes that grant privilege are asked about when stdin is
 * a terminal (the question on stderr), and skipped otherwise unless allowed.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "store/commit.h"
#include "store/procs.h"

int cmd_commit(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'f'},
		{"allow-privileged", no_argument, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
	static const char usage[] = "usage: fvm commit NAME [--dry-run] [--force] [--allow-privileged] [PATH...]\n";
	static const struct commit_ask terminal = {.in = 0, .out = 2};
	struct commit_opts o = {.ask = isatty(0) ? &terminal : NULL};
	char dir[PATH_MAX];
	int c, rc, lock;

	while ((c = getopt_long(argc, argv, "nf", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o.dry_run = true;
			break;
		case 'f':
			o.force = true;
			break;
		case 'P':
			o.allow_privileged = true;
			break;
		default:
			fputs(usage, stderr);
			return FVM_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return FVM_EXIT_USAGE;
	}
	if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0 ||
	    (rc = cli_paths(argc - optind - 1, argv + optind + 1, &o.paths)) != 0) {
		return rc;
	}
	o.npaths = (size_t)(argc - optind - 1);
	lock = vm_lock_idle(dir, argv[optind], "commit");
	if (lock < 0) {
		cli_paths_free(o.paths, (int)o.npaths);
		return FVM_EXIT_PARTIAL;
	}
	rc = fvm_commit(dir, &o);
	close(lock);
	cli_paths_free(o.paths, (int)o.npaths);
	return rc;
}
