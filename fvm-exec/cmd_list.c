/*
 * cmd_list.c — fvm list [--json]: one row per VM.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

struct list_ctx {
	const struct fvm_store *s;
	bool json;
	bool first;
};

static int list_one(const char *name, void *arg)
{
	struct list_ctx *ctx = arg;
	char dir[PATH_MAX];
	int lock;
	const char *state;

	if (store_vm_dir(ctx->s, name, dir, sizeof(dir)) < 0) {
		return 0;
	}
	lock = store_vm_lock(dir, true, true);
	state = lock == -2 ? "running" : "idle";
	if (lock >= 0) {
		close(lock);
	}
	if (ctx->json) {
		printf("%s{\"name\":\"%s\",\"state\":\"%s\"}", ctx->first ? "" : ",", name, state);
	} else {
		printf("%-24s %s\n", name, state);
	}
	ctx->first = false;
	return 0;
}

int cmd_list(const struct fvm_store *s, int argc, char **argv)
{
	struct list_ctx ctx = {.s = s, .first = true};
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j') {
			fprintf(stderr, "usage: fvm list [--json]\n");
			return FVM_EXIT_USAGE;
		}
		ctx.json = true;
	}
	if (!ctx.json) {
		printf("%-24s %s\n", "NAME", "STATE");
	} else {
		printf("[");
	}
	int ret = store_each_vm(s, list_one, &ctx);
	if (ctx.json) {
		printf("]\n");
	}
	return ret < 0 ? FVM_EXIT_PARTIAL : 0;
}
