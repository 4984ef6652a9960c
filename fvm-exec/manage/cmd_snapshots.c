/*
 * cmd_snapshots.c — fvm snapshots NAME: the VM's layers, oldest first, each with its
 * label, date, size (apparent bytes of its regular files) and number of entries
 * (whiteouts included), its id and its digest (the OCI diff_id it got when first
 * exported or imported; "-" before), then what upper/ holds now. Sizes as ls -h
 * (human.c), exact with --bytes; --json: an array of objects, upper/ last (label,
 * created, layer and digest null).
 */
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "store/human.h"
#include "json.h"
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

/* One row: the table's line, or a JSON object (ID NULL: the current changes). */
static void row(bool json, bool exact, bool first, const char *label, const char *when, unsigned long long bytes,
		unsigned long long files, const char *id, const char *digest)
{
	if (json) {
		printf("%s\n  {\"label\":", first ? "" : ",");
		if (label) {
			json_string(stdout, label);
		} else {
			fputs("null", stdout);
		}
		printf(",\"created\":");
		if (id) {
			printf("\"%s\"", when);
		} else {
			fputs("null", stdout);
		}
		printf(",\"bytes\":%llu,\"files\":%llu,\"layer\":", bytes, files);
		if (id) {
			printf("\"%s\"", id);
		} else {
			fputs("null", stdout);
		}
		printf(",\"digest\":");
		if (digest && *digest) {
			json_string(stdout, digest);
		} else {
			fputs("null", stdout);
		}
		putchar('}');
		return;
	}
	char size[32];
	human_size(bytes, exact, size, sizeof(size));
	printf("%-24s %-20s %12s %8llu  %-16s  %s\n", label ? (*label ? label : "-") : "(current)", when, size, files,
	       id ? id : "upper", digest && *digest ? digest : "-");
}

int cmd_snapshots(const struct fvm_store *s, int argc, char **argv)
{
	struct cli_one o;
	char tree[PATH_MAX + 16], when[40];
	struct layer_list l;
	struct layer_info info;
	unsigned long long bytes, files;
	bool first = true;
	int rc;

	if ((rc = cli_one_vm(s, argc, argv, true, &o)) != 0) {
		return rc;
	}
	const char *dir = o.dir;
	const bool json = o.json, exact = o.bytes;
	if (layer_list_read(dir, &l) < 0) {
		return FVM_EXIT_PARTIAL;
	}
	if (json) {
		putchar('[');
	} else {
		printf("%-24s %-20s %12s %8s  %-16s  %s\n", "LABEL", "DATE", exact ? "BYTES" : "SIZE", "FILES",
		       "LAYER", "DIGEST");
	}
	for (size_t i = l.n; i-- > 0;) {
		if (layer_info_read(s->home, l.id[i], &info) < 0 ||
		    layer_tree_path(s->home, l.id[i], tree, sizeof(tree)) < 0) {
			rc = FVM_EXIT_PARTIAL;
			continue;
		}
		measure(tree, &bytes, &files);
		cli_time(info.created, when, sizeof(when));
		row(json, exact, first, info.label, when, bytes, files, l.id[i], info.digest);
		first = false;
	}
	snprintf(tree, sizeof(tree), "%s/%s", dir, FVM_UPPER_DIR);
	measure(tree, &bytes, &files);
	row(json, exact, first, NULL, "-", bytes, files, NULL, NULL);
	if (json) {
		puts("\n]");
	}
	return rc;
}
