/*
 * cmd_reset.c — fvm reset NAME [--all] [--dry-run] [PATH...]: discard all or the
 * selected changes of upper/; with --all the VM's layers go too (freed when no other VM
 * uses them).
 *
 * Rules:
 * - A PATH that selects none of upper/'s changes is an error naming it, and nothing is
 *   discarded (as git's pathspecs).
 * - --dry-run prints what reset would discard (upper/'s changes, then the layers with
 *   --all) and changes nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fvm/layout.h"
#include "store/commit.h"
#include "store/layers.h"
#include "store/procs.h"
#include "store/quote.h"

/* Prints what reset would do: upper/'s changes in CH, and L's layers when ALL. */
static void print_plan(const struct fvm_store *s, const char *name, const struct fvm_changes *ch,
		       const struct layer_list *l, bool all)
{
	for (size_t i = 0; i < ch->n; i++) {
		fvm_change_print(stdout, &ch->v[i]);
		putchar('\n');
	}
	printf("would discard %zu change%s of VM %s", ch->n, ch->n == 1 ? "" : "s", name);
	if (all) {
		printf(" and its %zu layer%s", l->n, l->n == 1 ? "" : "s");
		for (size_t i = 0; i < l->n; i++) {
			struct layer_info info;
			printf("%s", i ? ", " : " (");
			if (layer_info_read(s->home, l->id[i], &info) == 0 && info.label[0]) {
				fvm_quote_fputs(info.label, stdout);
			} else {
				fputs(l->id[i], stdout);
			}
			printf("%s", i + 1 == l->n ? ")" : "");
		}
	} else if (l->n) {
		printf(" (its %zu layer%s stay: --all discards them)", l->n, l->n == 1 ? "" : "s");
	}
	putchar('\n');
}

int cmd_reset(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"all", no_argument, NULL, 'a'},
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct layer_list ll = {.n = 0}, none = {.n = 0};
	char dir[PATH_MAX], upper[PATH_MAX + 16];
	char **paths;
	bool all = false, dry_run = false;
	int c, rc, lock, npaths;

	while ((c = getopt_long(argc, argv, "n", longopts, NULL)) != -1) {
		if (c == 'a') {
			all = true;
		} else if (c == 'n') {
			dry_run = true;
		} else {
			return cli_usage(NULL);
		}
	}
	if (optind >= argc) {
		return cli_usage("a VM NAME is needed");
	}
	if (all && optind + 1 != argc) {
		return cli_usage("--all takes no PATH");
	}
	npaths = argc - optind - 1;
	if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0 ||
	    (rc = cli_paths(npaths, argv + optind + 1, &paths)) != 0) {
		return rc;
	}
	lock = vm_lock_idle(dir, argv[optind], "reset");
	if (lock < 0) {
		cli_paths_free(paths, npaths);
		return FVM_EXIT_REFUSED;
	}
	if (layer_list_read(dir, &ll) < 0) {
		rc = FVM_EXIT_REFUSED;
	}
	/* What reset would discard: upper/'s changes (a layer's stay without --all). */
	if (rc == 0 && (npaths || dry_run)) {
		struct fvm_changes ch;
		int ret;
		snprintf(upper, sizeof(upper), "%s/%s", dir, FVM_UPPER_DIR);
		if ((ret = fvm_changes_scan(upper, paths, (size_t)npaths, &ch)) < 0) {
			fprintf(stderr, "fvm reset: %s: %s\n", upper, strerror(-ret));
			rc = FVM_EXIT_REFUSED;
		} else {
			rc = cli_paths_matched(paths, (size_t)npaths, &ch,
					       ll.n ? "since its last snapshot (reset --all or fvm restore "
						      "discards a snapshot's)"
						    : NULL);
			if (rc == 0 && dry_run) {
				print_plan(s, argv[optind], &ch, &ll, all);
			}
			fvm_changes_free(&ch);
		}
	}
	if (rc == 0 && !dry_run && all) {
		/* The list first: a crash after it leaves the VM on the host, as asked. */
		if (layer_list_write(dir, &none) < 0) {
			rc = FVM_EXIT_REFUSED;
		}
	}
	if (rc == 0 && !dry_run) {
		rc = fvm_reset(dir, paths, (size_t)npaths);
	}
	if (all && rc == 0 && !dry_run) {
		layer_free_unused(s->home, &ll);
	}
	close(lock);
	cli_paths_free(paths, npaths);
	return rc;
}
