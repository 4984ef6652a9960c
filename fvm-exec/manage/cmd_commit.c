/*
 * cmd_commit.c — fvm commit NAME [--dry-run] [--force] [--allow-privileged] [PATH...]
 * (commit.c does the work). Changes that grant privilege are asked about when stdin is
 * a terminal (the question on stderr), and skipped otherwise unless allowed. A PATH
 * that selects no change is an error naming it (status 1) and nothing is applied.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "store/commit.h"
#include "store/journal.h"
#include "store/layers.h"
#include "store/originlog.h"
#include "store/quote.h"
#include "store/procs.h"

/*
 * The dry run of a layered VM: its merged changes CH, and on stderr the conflicts the
 * commit would skip without FORCE (as fvm_commit reports them). Returns the status.
 */
static int dry_run_layered(const char *dir, const char *name, size_t nlayers, const struct fvm_changes *ch,
			   bool force)
{
	char file[PATH_MAX + 16];
	struct originlog orig;
	size_t nconf = 0;

	snprintf(file, sizeof(file), "%s/%s", dir, FVM_ORIGINS_FILE);
	if (originlog_load(file, &orig) < 0) {
		warnx("%s: cannot be read", file);
		return FVM_EXIT_PARTIAL;
	}
	printf("# VM %s has %zu layer%s: commit merges them into its upper/ first, then applies:\n",
	       name, nlayers, nlayers == 1 ? "" : "s");
	for (size_t i = 0; i < ch->n; i++) {
		const char *why = force ? NULL : commit_conflict(ch, i, &orig);
		if (why) {
			fprintf(stderr, "fvm: conflict: %c ", ch->v[i].kind);
			fvm_quote_fputs(ch->v[i].vpath, stderr);
			fprintf(stderr, ": %s (skipped; --force overwrites)\n", why);
			nconf++;
			continue;
		}
		fvm_change_print(stdout, &ch->v[i]);
		putchar('\n');
	}
	originlog_free(&orig);
	return nconf ? FVM_EXIT_PARTIAL : 0;
}

/* Each PATH of O selects a change of the VM at DIR (its merged view); 0, or the status. */
static int paths_matched(const char *dir, const struct commit_opts *o)
{
	struct fvm_changes ch;
	int rc = cli_scan(dir, o->paths, o->npaths, &ch);

	if (rc == 0) {
		rc = cli_paths_matched(o->paths, o->npaths, &ch, NULL);
		fvm_changes_free(&ch);
	}
	return rc;
}

int cmd_commit(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'f'},
		{"allow-privileged", no_argument, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
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
			return cli_usage(NULL);
		}
	}
	if (optind >= argc) {
		return cli_usage("a VM NAME is needed");
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
	/*
	 * A VM with layers: commit applies the merged result, so the layers are first merged
	 * into upper/ (the VM's view unchanged, its snapshots gone). A dry run changes
	 * nothing: it prints the merged changes.
	 */
	struct layer_list ll;
	if (layer_list_read(dir, &ll) < 0) {
		rc = FVM_EXIT_PARTIAL;
	} else if (o.npaths && !journal_exists(dir) && (rc = paths_matched(dir, &o)) != 0) {
		/* reported: a PATH that selects nothing, and nothing is applied (a pending
		 * commit is finished or refused first, by fvm_commit, whatever the PATHs) */
	} else if (ll.n && o.dry_run) {
		struct fvm_changes ch;
		rc = cli_scan(dir, o.paths, o.npaths, &ch);
		if (rc == 0) {
			rc = dry_run_layered(dir, argv[optind], ll.n, &ch, o.force);
			fvm_changes_free(&ch);
		}
	} else if (ll.n && layer_flatten(dir) < 0) {
		rc = FVM_EXIT_PARTIAL;
	} else {
		rc = fvm_commit(dir, &o);
	}
	close(lock);
	cli_paths_free(o.paths, (int)o.npaths);
	return rc;
}
