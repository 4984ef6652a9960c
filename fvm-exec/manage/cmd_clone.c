/*
 * cmd_clone.c — fvm clone SRC DST: a new VM that starts where SRC is now and diverges
 * on its own. O(1): DST's layer list is SRC's; SRC's current upper/ is frozen into a
 * layer first (an implicit snapshot, labelled "clone DST") when it holds anything.
 * DST gets SRC's vm.conf, policy and origins log (the host identities of the files its
 * layers copied up, which commit checks). Refused while a process of SRC runs.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store/layers.h"
#include "store/procs.h"
#include "store/safefs.h"

/* Copies the data area file NAME of SRCDIR to DSTDIR (bounded, no link followed). */
static int copy_data_file(const char *srcdir, const char *dstdir, const char *name)
{
	int sfd = store_data_open(srcdir), dfd = store_data_open(dstdir), in = -1, out = -1, ret = 0;
	char buf[65536];
	ssize_t n;

	if (sfd >= 0 && dfd >= 0) {
		in = safe_open_control(sfd, name, O_RDONLY, 0);
		out = in >= 0 ? openat(dfd, name, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC) : -1;
	}
	if (in >= 0 && out >= 0) {
		while ((n = read(in, buf, sizeof(buf))) > 0) {
			if (write(out, buf, (size_t)n) != n) {
				ret = -1;
				break;
			}
		}
		ret = n < 0 ? -1 : ret;
	} else if (in != -ENOENT) {
		ret = -1;
	}
	for (int *fd = (int[]){sfd, dfd, in, out}, i = 0; i < 4; i++) {
		if (fd[i] >= 0) {
			close(fd[i]);
		}
	}
	if (ret < 0) {
		warnx("%s/%s: not copied to %s", srcdir, name, dstdir);
	}
	return ret;
}

int cmd_clone(const struct fvm_store *s, int argc, char **argv)
{
	char src[PATH_MAX], dst[PATH_MAX], ctl[PATH_MAX], label[128], id[FVM_LAYER_ID_MAX + 1];
	struct fvm_policy *pol = NULL;
	struct layer_list l;
	char *conf = NULL;
	size_t clen;
	int rc, lock, cfd;

	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
		return cli_usage("a SRC and a DST VM name are needed");
	}
	if ((rc = cli_vm(s, argv[1], src, sizeof(src))) != 0) {
		return rc;
	}
	if (store_vm_dir(s, argv[2], dst, sizeof(dst)) < 0) {
		return FVM_EXIT_USAGE;
	}
	if (store_vm_exists(s, argv[2])) {
		warnx("a VM named '%s' exists already in %s", argv[2], s->home);
		return FVM_EXIT_PARTIAL;
	}
	lock = vm_lock_idle(src, argv[1], "clone");
	if (lock < 0) {
		return FVM_EXIT_PARTIAL;
	}
	rc = FVM_EXIT_PARTIAL;
	snprintf(label, sizeof(label), "clone %s", argv[2]);
	if (store_upper_used(src) && layer_snapshot(src, label, id) < 0) {
		goto out;
	}
	if (layer_list_read(src, &l) < 0 || store_ctl_path(src, ctl, sizeof(ctl)) < 0 ||
	    !(pol = malloc(sizeof(*pol)))) {
		goto out;
	}
	strcat(ctl, "/" FVM_POLICY_FILE);
	if (fvm_policy_load(pol, ctl) < 0) {
		fvm_policy_init(pol); /* never run: the next run of DST compiles its own */
	}
	pol->nlayers = 0; /* DST's own list is compiled in */
	if ((cfd = store_ctl_open(src)) >= 0) {
		if (safe_read_file(cfd, FVM_VMCONF_FILE, SAFE_MAX_CONF, &conf, &clen) < 0) {
			conf = NULL;
		}
		close(cfd);
	}
	if (layer_list_write(dst, &l) < 0 || store_vm_create(s, argv[2], pol, conf) < 0 ||
	    copy_data_file(src, dst, FVM_ORIGINS_FILE) < 0) {
		goto out;
	}
	printf("%s: a clone of %s sharing its %zu layer%s\n", argv[2], argv[1], l.n, l.n == 1 ? "" : "s");
	rc = 0;
out:
	free(pol);
	free(conf);
	close(lock);
	return rc;
}
