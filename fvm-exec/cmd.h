/*
 * cmd.h — the subcommands of fvm, one file each (cmd_NAME.c), dispatched from the
 * table in main_fvm.c. Each returns the exit status (fvm/store.h).
 */
#ifndef FVM_CMD_H
#define FVM_CMD_H

#include "fvm/store.h"

int cmd_list(const struct fvm_store *s, int argc, char **argv);
int cmd_diff(const struct fvm_store *s, int argc, char **argv);

#endif
