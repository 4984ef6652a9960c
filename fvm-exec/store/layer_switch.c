/*
 * layer_switch.c — a pending switch of a VM's layers (layers.h, "A pending switch"):
 * recorded by fvm pull when the VM runs, applied when no process of the VM is left.
 *
 * Rules:
 * - ctl/NAME/switch is written whole (replace.h) and only under the switch lock (flock
 *   on ctl/NAME); it is applied only under the switch lock, with the VM's lock held
 *   exclusively and no process of the VM alive (vm_procs_find): a running VM's layers
 *   never change under its processes.
 * - Applying is idempotent: the list keeps what lies above the first layer of FROM or
 *   TO, then TO. The list is replaced (one rename) before the switch file goes.
 * - Nothing here waits on the VM's lock: under the switch lock it is only tried, so the
 *   switch lock is held for moments and the two locks cannot deadlock.
 * - The conflicts (the files TO's new layers change that upper/ changed too) are found
 *   when the switch is applied, against upper/ as the VM left it.
 * - The control area is opened, never made here: a supervisor ending after its VM was
 *   removed must not bring back an empty control area.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/layers.h"
#include "store/procs.h"
#include "store/replace.h"
#include "store/safefs.h"
#include "store/store.h"

#define SWITCH_MAX_TEXT (2 * FVM_MAX_LAYERS * (FVM_LAYER_ID_MAX + 6) + 64)
#define CONFLICTS_DIR   "vmcast"
#define CONFLICTS_FILE  "conflicts"

/*
 * VMDIR's control area opened, never made: a VM removed meanwhile (fvm rm, an ephemeral
 * run's end) gets no new one. fd, or -1 (ENOENT silently: nothing pending there).
 */
static int ctl_open(const char *vmdir)
{
	char ctl[PATH_MAX];
	int fd;

	if (store_ctl_path(vmdir, ctl, sizeof(ctl)) < 0) {
		return -1;
	}
	fd = open(ctl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		warn("%s", ctl);
	}
	return fd;
}

int layer_switch_read(const char *vmdir, struct layer_switch *sw)
{
	char *text, *p, *save = NULL;
	size_t len;
	int cfd = ctl_open(vmdir), ret;

	memset(sw, 0, sizeof(*sw));
	if (cfd < 0) {
		return errno == ENOENT ? 0 : -1;
	}
	ret = safe_read_file(cfd, FVM_SWITCH_FILE, SWITCH_MAX_TEXT, &text, &len);
	close(cfd);
	if (ret == -ENOENT) {
		return 0;
	}
	if (ret < 0) {
		warnx("%s: the pending switch of its layers: %s", vmdir, safe_strerror(ret));
		return -1;
	}
	p = strtok_r(text, "\n", &save);
	if (!p || strcmp(p, FVM_SWITCH_MAGIC) != 0) {
		warnx("%s: the pending switch of its layers is not an fvm switch", vmdir);
		free(text);
		return -1;
	}
	while ((p = strtok_r(NULL, "\n", &save))) {
		struct layer_list *l = strncmp(p, "from ", 5) == 0 ? &sw->from
				       : strncmp(p, "to ", 3) == 0 ? &sw->to : NULL;
		const char *id = l == &sw->from ? p + 5 : p + 3;
		if (!l || !layer_id_valid(id) || l->n >= FVM_MAX_LAYERS) {
			warnx("%s: the pending switch of its layers: bad line '%.40s'", vmdir, p);
			free(text);
			memset(sw, 0, sizeof(*sw));
			return -1;
		}
		strcpy(l->id[l->n++], id);
	}
	free(text);
	return 1;
}

int layer_switch_lock(const char *vmdir)
{
	int fd = ctl_open(vmdir);

	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		warn("%s: the switch lock", vmdir);
		close(fd);
		return -1;
	}
	return fd;
}

int layer_switch_write(const char *vmdir, const struct layer_switch *sw)
{
	struct replace r;
	int cfd = store_ctl_open(vmdir), ret;

	if (cfd < 0) {
		return -1;
	}
	ret = replace_open(&r, cfd, FVM_SWITCH_FILE, 0600);
	if (ret == 0) {
		fprintf(r.f, "%s\n", FVM_SWITCH_MAGIC);
		for (size_t i = 0; i < sw->from.n; i++) {
			fprintf(r.f, "from %s\n", sw->from.id[i]);
		}
		for (size_t i = 0; i < sw->to.n; i++) {
			fprintf(r.f, "to %s\n", sw->to.id[i]);
		}
		ret = replace_commit(&r);
	}
	close(cfd);
	if (ret < 0) {
		warnx("%s: the pending switch of its layers: %s", vmdir, strerror(-ret));
		return -1;
	}
	return 0;
}

static bool listed(const struct layer_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->id[i], id) == 0) {
			return true;
		}
	}
	return false;
}

/* The conflict scan (nftw has no argument): the upper/ looked in, the list made. */
static struct {
	size_t treelen;
	char upper[PATH_MAX];
	FILE *out;
} scan;

/* An entry of a new layer that the VM's upper/ has too (changed or deleted there). */
static int conflict_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char mine[PATH_MAX * 2], rel[PATH_MAX];
	const char *base = path + ftw->base;
	struct stat ust;

	(void)st;
	if (type == FTW_D || type == FTW_DP || strlen(path) <= scan.treelen) {
		return 0;
	}
	snprintf(rel, sizeof(rel), "%s", path + scan.treelen);
	if (strncmp(base, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN) == 0) {
		if (strcmp(base, FVM_WH_OPAQUE) == 0) {
			return 0;
		}
		/* a deletion: the name it hides */
		size_t dl = (size_t)(base - path) - scan.treelen;
		snprintf(rel, sizeof(rel), "%.*s%s", (int)dl, path + scan.treelen, base + FVM_WH_PREFIX_LEN);
	}
	const char *slash = strrchr(rel, '/');
	snprintf(mine, sizeof(mine), "%s%s", scan.upper, rel);
	bool hit = lstat(mine, &ust) == 0;
	if (!hit && slash) { /* deleted in upper/ */
		snprintf(mine, sizeof(mine), "%s%.*s/" FVM_WH_PREFIX "%s", scan.upper, (int)(slash - rel), rel,
			 slash + 1);
		hit = lstat(mine, &ust) == 0;
	}
	if (hit) {
		fprintf(scan.out, "%s\n", rel);
	}
	return 0;
}

/* The conflicts of the layers of NEWL not in OLD into ctl/NAME/vmcast/conflicts. */
static void conflicts_write(const char *vmdir, const char *home, const struct layer_list *old,
			    const struct layer_list *newl)
{
	char *text = NULL, tree[PATH_MAX];
	size_t len = 0;
	int cfd = ctl_open(vmdir), sfd;

	if (cfd < 0) {
		return;
	}
	sfd = openat(cfd, CONFLICTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(cfd);
	if (sfd < 0 || !(scan.out = open_memstream(&text, &len))) {
		if (sfd >= 0) {
			close(sfd);
		}
		return; /* no subscription: nobody to tell */
	}
	snprintf(scan.upper, sizeof(scan.upper), "%s/%s", vmdir, FVM_UPPER_DIR);
	for (size_t i = 0; i < newl->n; i++) {
		if (listed(old, newl->id[i]) || layer_tree_path(home, newl->id[i], tree, sizeof(tree)) < 0) {
			continue;
		}
		scan.treelen = strlen(tree);
		nftw(tree, conflict_one, 32, FTW_PHYS);
	}
	fclose(scan.out);
	if (replace_write(sfd, CONFLICTS_FILE, text ? text : "", len, 0600) < 0) {
		warnx("%s/%s/%s: cannot be written", vmdir, CONFLICTS_DIR, CONFLICTS_FILE);
	}
	free(text);
	close(sfd);
}

int layer_switch_apply(const char *vmdir)
{
	struct layer_switch sw;
	struct layer_list cur, next = {.n = 0}, left = {.n = 0};
	char home[PATH_MAX];
	int r = layer_switch_read(vmdir, &sw), cfd;

	if (r <= 0) {
		return r;
	}
	if (layer_list_read(vmdir, &cur) < 0 || layer_home(vmdir, home, sizeof(home)) < 0) {
		return -1;
	}
	size_t k = 0;
	while (k < cur.n && !listed(&sw.from, cur.id[k]) && !listed(&sw.to, cur.id[k])) {
		next.n++;
		strcpy(next.id[k], cur.id[k]);
		k++;
	}
	if (next.n + sw.to.n > FVM_MAX_LAYERS) {
		warnx("%s: its own layers and the new version's are more than %d: the switch waits",
		      vmdir, FVM_MAX_LAYERS);
		return -1;
	}
	for (size_t i = 0; i < sw.to.n; i++) {
		strcpy(next.id[next.n++], sw.to.id[i]);
	}
	bool changed = next.n != cur.n;
	for (size_t i = 0; !changed && i < next.n; i++) {
		changed = strcmp(next.id[i], cur.id[i]) != 0;
	}
	if (changed) {
		conflicts_write(vmdir, home, &cur, &next);
		if (layer_list_write(vmdir, &next) < 0) {
			return -1;
		}
	}
	if ((cfd = ctl_open(vmdir)) < 0 || (unlinkat(cfd, FVM_SWITCH_FILE, 0) < 0 && errno != ENOENT)) {
		warn("%s: the pending switch of its layers", vmdir);
		if (cfd >= 0) {
			close(cfd);
		}
		return -1;
	}
	close(cfd);
	/* What the VM no longer names goes, unless another VM (or its switch) names it. */
	for (size_t i = k; i < cur.n; i++) {
		if (!listed(&next, cur.id[i])) {
			strcpy(left.id[left.n++], cur.id[i]);
		}
	}
	layer_free_unused(home, &left);
	return 1;
}

int layer_switch_try(const char *vmdir, int runlock)
{
	struct layer_switch sw;
	struct vm_procs p = {0};
	int fd = runlock, r = layer_switch_read(vmdir, &sw);

	if (r <= 0) {
		if (runlock >= 0) {
			close(runlock);
		}
		return r;
	}
	if (fd < 0) {
		fd = store_vm_lock(vmdir, true, true);
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		/* Another run holds the lock still: its end applies the switch. (A failed
		 * conversion has dropped the shared lock already.) */
		close(fd);
		return 0;
	}
	if (fd < 0) {
		return fd == -2 ? 0 : -1;
	}
	r = 0;
	if (vm_procs_find(vmdir, &p) == 0 && p.n == 0) {
		r = layer_switch_apply(vmdir);
	}
	vm_procs_free(&p);
	close(fd);
	return r;
}
