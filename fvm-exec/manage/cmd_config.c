/*
 * cmd_config.c — fvm config NAME [KEY=VALUE... | --reset]: a VM's policy, its vm.conf
 * (fvm.conf(5)), shown or changed.
 *
 * Rules:
 * - Without arguments: the policy vm.conf holds, every key, quoted as vm.conf quotes
 *   it, after a line naming the keys not taken from the configuration files.
 * - KEY=VALUE: each checked by the key's parser exactly as in a configuration file (an
 *   empty VALUE is the default); a key set here joins vm.conf's marker line, so
 *   fvm-exec no longer compares it with the files. --reset: every key not on that line
 *   takes what the configuration files (the system's and the user's) say now; the keys
 *   on it stay. Both are checked as a whole as fvm-exec would, then vm.conf is replaced
 *   atomically; the next run compiles it.
 * - A change is refused while the VM runs (its processes were started under the old
 *   policy and would keep it): status 1, naming `fvm stop`.
 * - The configuration files read here are those no VM can write (fvm-exec protects
 *   them read-only in every VM); vm.conf is in the control area, also out of reach.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fvm/layout.h"
#include "run/config.h"
#include "store/store.h"

/* The system's and the user's configuration files for VM into C. 0 or -1 (reported). */
static int read_files(struct exec_config *c, const char *vm)
{
	char sys[PATH_MAX], user[PATH_MAX];

	exec_config_paths(sys, user, PATH_MAX);
	if (exec_config_read(c, sys, vm, true, true, false) < 0) {
		return -1;
	}
	return !*user ? 0 : exec_config_read(c, user, vm, true, false, false);
}

/* Copies key K's values from SRC into DST (one layer). 0, or -1 with WHY. */
static int copy_key(struct exec_config *dst, const struct exec_config *src, int k, char *why, size_t len)
{
	for (size_t i = 0; i < src->n[k]; i++) {
		if (exec_config_set(dst, (enum exec_key)k, src->vals[k][i].text, src->vals[k][i].origin, why,
				    len) < 0) {
			return -1;
		}
	}
	return 0;
}

static void show(const struct exec_config *c, const bool notfiles[K_NKEYS], bool marker, const char *vm)
{
	printf("# VM %s, vm.conf; not from the configuration files:", vm);
	for (int k = 0; k < K_NKEYS; k++) {
		if (notfiles[k]) {
			printf(" %s", exec_opts[k].name);
		}
	}
	printf("%s\n", marker ? "" : " (unknown: made by an earlier fvm)");
	exec_config_write(c, stdout, false);
}

int cmd_config(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {{"reset", no_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
	static struct exec_config vmc, out, files;
	static struct exec_settings settings;
	bool reset = false, notfiles[K_NKEYS] = {false}, marker;
	char dir[PATH_MAX], vmconf[PATH_MAX + 16], why[256];
	const char *name;
	char *text = NULL;
	int c, rc, lock = -1;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'r') {
			return cli_usage(NULL);
		}
		reset = true;
	}
	if (optind >= argc) {
		return cli_usage("a VM NAME is needed");
	}
	if (reset && optind + 1 != argc) {
		return cli_usage("--reset takes no KEY=VALUE");
	}
	name = argv[optind];
	for (int i = optind + 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		int k;
		if (!eq) {
			return cli_usage("a change is KEY=VALUE");
		}
		*eq = '\0';
		k = exec_opt_find(argv[i]);
		if (k < 0 || (exec_opts[k].flags & (OPT_CLI | OPT_RUN))) {
			fprintf(stderr, "fvm config: %s: %s\n", argv[i],
				k < 0 ? "no such key (fvm.conf(5) lists them)" : "a command-line option of fvm-exec, not a key of vm.conf");
			*eq = '=';
			return cli_usage(NULL);
		}
		*eq = '=';
	}
	if ((rc = cli_vm(s, name, dir, sizeof(dir))) != 0) {
		return rc;
	}
	if (store_ctl_path(dir, vmconf, PATH_MAX) < 0) {
		return FVM_EXIT_STORE;
	}
	strcat(vmconf, "/" FVM_VMCONF_FILE);
	exec_config_init(&vmc);
	exec_config_init(&out);
	exec_config_init(&files);
	if (exec_config_read(&vmc, vmconf, name, false, false, true) < 0) {
		return FVM_EXIT_STORE;
	}
	marker = exec_vmconf_marker(vmconf, notfiles);
	if (!reset && optind + 1 == argc) {
		show(&vmc, notfiles, marker, name);
		return 0;
	}
	lock = store_vm_lock(dir, true, true);
	if (lock < 0) {
		if (lock == -2) {
			fprintf(stderr, "fvm config: VM %s is running: its processes keep the policy they started "
					"with; `fvm stop %s` first\n", name, name);
		}
		return FVM_EXIT_REFUSED;
	}
	rc = FVM_EXIT_REFUSED;
	exec_config_layer(&out);
	if (reset) {
		if (read_files(&files, name) < 0) {
			goto done;
		}
		for (int k = 0; k < K_NKEYS; k++) {
			if (!(exec_opts[k].flags & (OPT_CLI | OPT_RUN)) &&
			    copy_key(&out, notfiles[k] ? &vmc : &files, k, why, sizeof(why)) < 0) {
				fprintf(stderr, "fvm config: %s: %s\n", exec_opts[k].name, why);
				goto done;
			}
		}
	} else {
		for (int k = 0; k < K_NKEYS; k++) {
			if (copy_key(&out, &vmc, k, why, sizeof(why)) < 0) {
				fprintf(stderr, "fvm config: %s: %s\n", exec_opts[k].name, why);
				goto done;
			}
		}
		/* The changes: a new layer, so a repeatable key given here replaces its list. */
		exec_config_layer(&out);
		for (int i = optind + 1; i < argc; i++) {
			char *eq = strchr(argv[i], '=');
			*eq = '\0';
			int k = exec_opt_find(argv[i]);
			int r = exec_config_set(&out, (enum exec_key)k, eq + 1, "fvm config", why, sizeof(why));
			*eq = '=';
			if (r < 0) {
				fprintf(stderr, "fvm config: %s: %s\n", argv[i], why);
				rc = cli_usage(NULL);
				goto done;
			}
			notfiles[k] = true;
		}
	}
	/* Checked as a whole, as fvm-exec builds it. */
	if (exec_settings_build(&out, &settings) < 0) {
		goto done;
	}
	if (!(text = exec_vmconf_text(&out, name, notfiles)) || store_vm_conf_write(dir, text) < 0) {
		goto done;
	}
	show(&out, notfiles, true, name);
	rc = 0;
done:
	free(text);
	close(lock);
	exec_config_free(&vmc);
	exec_config_free(&out);
	exec_config_free(&files);
	return rc;
}
