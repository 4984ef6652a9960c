/*
 * cmd_list.c — fvm list [--json]: one row per VM: name, state (running with the number
 * of its live processes, or idle), changes, bytes in its upper layer, the last run's CPU
 * time and peak memory (its account, store/history.h; "-": none), last used (UTC).
 * A name is quoted (store/quote.h), though the store only lists valid ones.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store/human.h"
#include "json.h"
#include "store/history.h"
#include "store/journal.h"
#include "store/layers.h"
#include "store/quote.h"

struct list_ctx {
	const struct fvm_store *s;
	bool json;
	bool bytes; /* --bytes: the exact count, not "4.0K" */
	bool first;
};

static int list_one(const char *name, void *arg)
{
	struct list_ctx *ctx = arg;
	char dir[PATH_MAX], when[32];
	struct fvm_changes ch;
	struct store_usage u;
	const char *state;
	char cell[32];
	size_t nprocs;

	if (store_vm_dir(ctx->s, name, dir, sizeof(dir)) < 0 || store_vm_usage(dir, &u) < 0) {
		return -1;
	}
	/* An empty upper/ and no layers (an idle VM): no change, and nothing to scan. */
	struct layer_list layers;
	if (u.entries == 0 && layer_list_read(dir, &layers) == 0 && layers.n == 0) {
		memset(&ch, 0, sizeof(ch));
		if (journal_exists(dir)) {
			warnx("%s: an interrupted commit is pending; fvm commit finishes it", dir);
		}
	} else if (cli_scan(dir, NULL, 0, &ch) != 0) {
		return -1;
	}
	state = cli_state(dir, &nprocs);
	cli_time(u.last_used, when, sizeof(when));
	/* The last run's account (store/history.h), if any run was recorded. */
	struct run_stats rec, *last = NULL;
	char ctl[PATH_MAX], cpu[32] = "-", peak[32] = "-";
	if (store_ctl_path(dir, ctl, sizeof(ctl)) == 0 && history_last(ctl, &rec) == 1) {
		last = &rec;
		snprintf(cpu, sizeof(cpu), "%llu.%02llus", (last->user_ms + last->sys_ms) / 1000,
			 (last->user_ms + last->sys_ms) % 1000 / 10);
		human_size(last->peak_rss, ctx->bytes, peak, sizeof(peak));
	}
	if (ctx->json) {
		printf("%s{\"name\":", ctx->first ? "" : ",\n");
		json_string(stdout, name);
		printf(",\"state\":\"%s\",\"processes\":%zu,\"changes\":%zu,\"bytes\":%llu,\"last_used\":\"%s\"",
		       state, nprocs, ch.n, u.bytes, when);
		if (last) {
			printf(",\"last_run_cpu_ms\":%llu,\"last_run_peak_rss\":%llu}", last->user_ms + last->sys_ms,
			       last->peak_rss);
		} else {
			printf(",\"last_run_cpu_ms\":null,\"last_run_peak_rss\":null}");
		}
	} else {
		char *q = fvm_quote_dup(name);
		if (nprocs) {
			snprintf(cell, sizeof(cell), "%s(%zu)", state, nprocs);
		} else {
			snprintf(cell, sizeof(cell), "%s", state);
		}
		char size[32];
		human_size(u.bytes, ctx->bytes, size, sizeof(size));
		printf("%-24s %-12s %8zu %12s %9s %10s  %s\n", q ? q : "?", cell, ch.n, size, cpu, peak, when);
		free(q);
	}
	fvm_changes_free(&ch);
	ctx->first = false;
	return 0;
}

int cmd_list(const struct fvm_store *s, int argc, char **argv)
{
	struct list_ctx ctx = {.s = s, .first = true};
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'}, {"bytes", no_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'j') {
			ctx.json = true;
		} else if (c == 'b') {
			ctx.bytes = true;
		} else {
			return cli_usage(NULL);
		}
	}
	if (optind != argc) {
		return cli_usage("no argument is taken");
	}
	if (!ctx.json) {
		printf("%-24s %-12s %8s %12s %9s %10s  %s\n", "NAME", "STATE", "CHANGES", ctx.bytes ? "BYTES" : "SIZE", "CPU",
		       "PEAK", "LAST-USED");
	} else {
		printf("[");
	}
	cli_state_census(); /* two walks of /proc for all the VMs, not two per VM */
	int ret = store_each_vm(s, list_one, &ctx);
	if (ctx.json) {
		printf("%s]\n", ctx.first ? "" : "\n");
	}
	return ret < 0 ? FVM_EXIT_PARTIAL : 0;
}
