/*
 * cmd_migrate.c — fvm migrate: convert a store made by an earlier fvm (format 1) to
 * the current format (store_migrate, store/store.h). Runs on a store of any format;
 * every other command refuses a format-1 store and names this one.
 */
#include <stdio.h>

#include "cmd.h"

int cmd_migrate(const struct fvm_store *s, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		return cli_usage("no argument is taken");
	}
	return store_migrate(s) < 0 ? FVM_EXIT_PARTIAL : FVM_EXIT_OK;
}
