/*
 * cmd_rm.c — fvm rm [--force] NAME: remove a VM entirely.
 *
 * The steps run in table order; each one that fails stops the removal with the VM
 * still usable. The VM directory disappears at once (renamed aside), then is deleted.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store/ipc_store.h"
#include "store/layers.h"
#include "store/procs.h"

struct rm_ctx {
	const char *name;
	const char *dir;
	bool force;
	int lock;
	const char *home;
	struct layer_list layers; /* read before the control area goes */
};

/* Takes the lock; with --force first ends the VM's processes. */
static int step_stop(struct rm_ctx *r)
{
	if (r->force && vm_procs_end(r->dir, 3000) < 0) {
		warnx("VM %s: some processes did not end", r->name);
		return -1;
	}
	/* A fvm-exec that just saw its child end may hold the lock a moment longer. */
	for (int tries = 0; tries < (r->force ? 40 : 1); tries++) {
		r->lock = r->force ? store_vm_lock(r->dir, true, true) : vm_lock_idle(r->dir, r->name, "rm");
		if (r->lock != -2) {
			break;
		}
		usleep(50000);
	}
	if (r->lock == -2 && r->force) {
		r->lock = vm_lock_idle(r->dir, r->name, "rm");
	}
	return r->lock < 0 ? -1 : 0;
}

/* The data area goes at once (renamed aside), then is deleted; then the control area. */
static int step_remove_dir(struct rm_ctx *r)
{
	return store_vm_remove(r->dir);
}

/* The VM's POSIX and SysV IPC objects: named in its registry, which remove_dir deletes. */
static int step_remove_ipc(struct rm_ctx *r)
{
	return store_remove_ipc(r->dir);
}

/* The VM's layer list, kept to free its layers at the end. */
static int step_read_layers(struct rm_ctx *r)
{
	return layer_list_read(r->dir, &r->layers);
}

/* The layers no other VM uses. */
static int step_free_layers(struct rm_ctx *r)
{
	layer_free_unused(r->home, &r->layers);
	return 0;
}

/* The VM's control area (its run records), outside its directory. */
static int step_remove_ctl(struct rm_ctx *r)
{
	char ctl[PATH_MAX];

	return store_ctl_path(r->dir, ctl, sizeof(ctl)) < 0 ? -1 : store_rm_tree(ctl);
}

/* To remove a VM's other resources, add a step before remove_dir. */
static const struct {
	const char *what;
	int (*run)(struct rm_ctx *);
} rm_steps[] = {
	{"stop", step_stop},
	{"read the layer list", step_read_layers},
	{"remove IPC objects", step_remove_ipc},
	{"remove the control directory", step_remove_ctl},
	{"remove the directory", step_remove_dir},
	{"free the layers no VM uses", step_free_layers},
};

int cmd_rm(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	struct rm_ctx r = {.lock = -1, .home = s->home};
	char dir[PATH_MAX];
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "f", longopts, NULL)) != -1) {
		if (c != 'f') {
			return cli_usage(NULL);
		}
		r.force = true;
	}
	if (optind + 1 != argc) {
		return cli_usage("one VM NAME is needed");
	}
	if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0) {
		return rc;
	}
	r.name = argv[optind];
	r.dir = dir;
	for (size_t i = 0; i < sizeof(rm_steps) / sizeof(rm_steps[0]); i++) {
		if (rm_steps[i].run(&r) < 0) {
			warnx("VM %s not removed (step: %s)", r.name, rm_steps[i].what);
			rc = FVM_EXIT_PARTIAL;
			break;
		}
	}
	if (r.lock >= 0) {
		close(r.lock);
	}
	return rc;
}
