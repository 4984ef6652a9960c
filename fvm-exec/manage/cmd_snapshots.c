/*
 * cmd_snapshots.c — fvm snapshots NAME: the VM's layers, oldest first, each with its
 * label, date, size (apparent bytes of its regular files) and number of entries
 * (whiteouts included), its id and its digest (the OCI diff_id it got when first
 * exported or imported; "-" before), then what upper/ holds now.
 */
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "store/layers.h"

static unsigned long long tree_bytes, tree_files;

static int tally(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	if (ftw->level > 0) {
		tree_files++;
		if (S_ISREG(st->st_mode)) {
			tree_bytes += (unsigned long long)st->st_size;
		}
	}
	return 0;
}

/* The size and entry count of the tree at PATH into *BYTES and *FILES. */
static void measure(const char *path, unsigned long long *bytes, unsigned long long *files)
{
	tree_bytes = tree_files = 0;
	nftw(path, tally, 32, FTW_PHYS | FTW_MOUNT);
	*bytes = tree_bytes;
	*files = tree_files;
}

int cmd_snapshots(const struct fvm_store *s, int argc, char **argv)
{
	char dir[PATH_MAX], tree[PATH_MAX + 16], when[40];
	struct layer_list l;
	struct layer_info info;
	unsigned long long bytes, files;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		return cli_usage("one VM NAME is needed");
	}
	if ((rc = cli_vm(s, argv[1], dir, sizeof(dir))) != 0) {
		return rc;
	}
	if (layer_list_read(dir, &l) < 0) {
		return FVM_EXIT_PARTIAL;
	}
	printf("%-24s %-20s %12s %8s  %-16s  %s\n", "LABEL", "DATE", "BYTES", "FILES", "LAYER", "DIGEST");
	for (size_t i = l.n; i-- > 0;) {
		if (layer_info_read(s->home, l.id[i], &info) < 0 ||
		    layer_tree_path(s->home, l.id[i], tree, sizeof(tree)) < 0) {
			rc = FVM_EXIT_PARTIAL;
			continue;
		}
		measure(tree, &bytes, &files);
		cli_time(info.created, when, sizeof(when));
		printf("%-24s %-20s %12llu %8llu  %-16s  %s\n", info.label[0] ? info.label : "-", when, bytes,
		       files, l.id[i], info.digest[0] ? info.digest : "-");
	}
	snprintf(tree, sizeof(tree), "%s/%s", dir, FVM_UPPER_DIR);
	measure(tree, &bytes, &files);
	printf("%-24s %-20s %12llu %8llu  %-16s  %s\n", "(current)", "-", bytes, files, "upper", "-");
	return rc;
}
