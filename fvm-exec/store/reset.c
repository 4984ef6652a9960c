/*
 * reset.c — fvm reset: discard a VM's changes, all or beneath some paths (commit.h).
 *
 * Opaque ancestors of the selected paths are first turned into whiteouts, so removing
 * the upper entries of one subtree lets exactly that subtree of the host show through
 * again; the rest of the VM's view is untouched. upper/ is walked through directory
 * fds without following links (layer_edit.c): a link the VM planted in place of a
 * directory is removed as an entry, and nothing behind it is touched.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "store/commit.h"
#include "store/journal.h"
#include "store/layer_edit.h"
#include "store/originlog.h"
#include "store/progress.h"
#include "store/safefs.h"
#include "store/store.h"

int fvm_reset(const char *vmdir, char *const *paths, size_t npaths)
{
	char upper[PATH_MAX + 16];
	char *const all[] = {"/"};
	struct progress prog;
	size_t total = 0;
	int ret, rc = 0;

	if (journal_exists(vmdir)) {
		warnx("%s: an interrupted commit is pending; finish it with fvm commit first", vmdir);
		return 1;
	}
	snprintf(upper, sizeof(upper), "%s/%s", vmdir, FVM_UPPER_DIR);
	if (npaths == 0) {
		paths = all;
		npaths = 1;
	} else if ((ret = layer_deopaque(upper, paths, npaths)) < 0) {
		warnx("%s: %s", upper, safe_strerror(ret));
		return 1;
	}
	/* upper/ itself is never a link: a VM that made it one has nothing to reset. */
	int ufd = store_upper_open(vmdir);
	if (ufd < 0) {
		return 1;
	}
	for (size_t i = 0; i < npaths; i++) {
		total += store_count_tree(ufd, paths[i]);
	}
	close(ufd);
	progress_start(&prog, "reset", total);
	for (size_t i = 0; i < npaths; i++) {
		if ((ret = layer_discard(upper, paths[i], &prog)) < 0) {
			warnx("%s: %s", paths[i], safe_strerror(ret));
			rc = 1;
		}
	}
	progress_end(&prog);
	if ((ret = layer_prune(upper)) < 0 || (ret = originlog_compact(vmdir)) < 0) {
		warnx("%s: tidying up: %s", vmdir, safe_strerror(ret));
		rc = 1;
	}
	return rc;
}
