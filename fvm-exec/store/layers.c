/*
 * layers.c — the store's layers and a VM's layer list (layers.h).
 *
 * Rules:
 *  - The layer list (ctl/NAME/layers) is "fvm-layers 1" and one id a line, top first;
 *    it is written only here, by replace (temporary + rename), so a reader sees the
 *    old list or the new one. A line that is not a valid id refuses the whole list.
 *  - A layer's info is "fvm-layer 1" then "label L", "created SECONDS", "digest D"
 *    lines; unknown lines are ignored (a later fvm may add some).
 *  - A layer is made as HOME/layers/ID with its info first; its tree/ arrives by one
 *    rename (fvm snapshot), so a layer never shows half made to a VM: a list names it
 *    only after the rename.
 *  - Layers are shared: one is removed only when no VM's list, nor a VM's pending switch
 *    (layer_switch.c), names it (layer_in_use).
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fvm/path.h"
#include "store/layers.h"
#include "store/replace.h"
#include "store/safefs.h"
#include "store/store.h"

#define LAYERS_MAX_TEXT (FVM_MAX_LAYERS * (FVM_LAYER_ID_MAX + 1) + 64)

bool layer_id_valid(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return n > 0 && n <= FVM_LAYER_ID_MAX && id[n] == '\0';
}

int layer_home(const char *vmdir, char *out, size_t len)
{
	char ctl[PATH_MAX];
	size_t l, b;

	/* store_ctl_path checks that VMDIR is HOME/vms/NAME. */
	if (store_ctl_path(vmdir, ctl, sizeof(ctl)) < 0) {
		return -1;
	}
	l = strlen(vmdir);
	b = fvm_path_base_off(vmdir, l);
	b -= sizeof(FVM_VMS_DIR) + 1; /* the "/" before vms/ */
	if (b + 1 > len) {
		warnx("%s: store path too long", vmdir);
		return -1;
	}
	memcpy(out, vmdir, b);
	out[b] = '\0';
	return 0;
}

int layer_tree_path(const char *home, const char *id, char *out, size_t len)
{
	if (snprintf(out, len, "%s/%s/%s/%s", home, FVM_LAYERS_DIR, id, FVM_LAYER_TREE) >= (int)len) {
		warnx("%s: store path too long", home);
		return -1;
	}
	return 0;
}

int layer_list_read(const char *vmdir, struct layer_list *l)
{
	char *text, *p, *save = NULL;
	size_t len;
	int cfd = store_ctl_open(vmdir), ret;

	l->n = 0;
	if (cfd < 0) {
		return -1;
	}
	ret = safe_read_file(cfd, FVM_LAYERS_DIR, LAYERS_MAX_TEXT, &text, &len);
	close(cfd);
	if (ret == -ENOENT) {
		return 0;
	}
	if (ret < 0) {
		warnx("%s: the layer list: %s", vmdir, safe_strerror(ret));
		return -1;
	}
	p = strtok_r(text, "\n", &save);
	if (!p || strcmp(p, FVM_LAYERS_MAGIC) != 0) {
		warnx("%s: the layer list is not an fvm layer list", vmdir);
		free(text);
		return -1;
	}
	while ((p = strtok_r(NULL, "\n", &save))) {
		if (!layer_id_valid(p) || l->n >= FVM_MAX_LAYERS) {
			warnx("%s: the layer list: bad line '%.40s'", vmdir, p);
			free(text);
			l->n = 0;
			return -1;
		}
		strcpy(l->id[l->n++], p);
	}
	free(text);
	return 0;
}

int layer_list_write(const char *vmdir, const struct layer_list *l)
{
	struct replace r;
	int cfd = store_ctl_open(vmdir), ret;

	if (cfd < 0) {
		return -1;
	}
	ret = replace_open(&r, cfd, FVM_LAYERS_DIR, 0600);
	if (ret == 0) {
		fprintf(r.f, "%s\n", FVM_LAYERS_MAGIC);
		for (size_t i = 0; i < l->n; i++) {
			fprintf(r.f, "%s\n", l->id[i]);
		}
		ret = replace_commit(&r);
	}
	close(cfd);
	if (ret < 0) {
		warnx("%s: the layer list: %s", vmdir, strerror(-ret));
		return -1;
	}
	return 0;
}

int layer_list_compile(const char *vmdir, struct fvm_policy *pol)
{
	struct layer_list l;
	char home[PATH_MAX], tree[PATH_MAX];

	if (layer_list_read(vmdir, &l) < 0 || layer_home(vmdir, home, sizeof(home)) < 0) {
		return -1;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (layer_tree_path(home, l.id[i], tree, sizeof(tree)) < 0) {
			return -1;
		}
		if (fvm_policy_add_layer(pol, tree) < 0) {
			warnx("%s: layer %s: the policy image is full", vmdir, l.id[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * TEXT (LEN bytes) as the info file of layer directory DFD: a random temporary beside
 * it, renamed over it (no fsync: a snapshot's cost is the layer list's). 0 or -errno.
 */
static int info_write(int dfd, const char *text, size_t len)
{
	char tmp[NAME_MAX + 1];
	int fd = safe_temp_create(dfd, FVM_LAYER_INFO, 0644, tmp, sizeof(tmp)), ret;

	if (fd < 0) {
		return fd;
	}
	ret = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	if (ret == 0 && renameat(dfd, tmp, dfd, FVM_LAYER_INFO) < 0) {
		ret = -errno;
	}
	if (ret < 0) {
		unlinkat(dfd, tmp, 0);
	}
	return ret;
}

/* HOME/layers opened (made when missing, FVM_MODE_LAYERS). fd or -errno. */
static int layers_dir_open(const char *home)
{
	int hfd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;

	if (hfd < 0) {
		return -errno;
	}
	if (mkdirat(hfd, FVM_LAYERS_DIR, FVM_MODE_LAYERS) == 0) {
		fchmodat(hfd, FVM_LAYERS_DIR, FVM_MODE_LAYERS, 0);
	}
	fd = safe_open_dir(hfd, FVM_LAYERS_DIR);
	close(hfd);
	return fd;
}

int layer_create(const char *home, const char *label, char id[FVM_LAYER_ID_MAX + 1])
{
	int lfd = layers_dir_open(home), dfd = -1, ret;

	id[0] = '\0';
	if (lfd < 0) {
		warnx("%s/%s: %s", home, FVM_LAYERS_DIR, safe_strerror(lfd));
		return -1;
	}
	ret = safe_random_hex(id);
	if (ret == 0 && mkdirat(lfd, id, FVM_MODE_LAYERS) < 0) {
		ret = -errno;
	}
	if (ret == 0) {
		fchmodat(lfd, id, FVM_MODE_LAYERS, 0); /* the umask may have taken x bits */
		dfd = safe_open_dir(lfd, id);
		ret = dfd < 0 ? dfd : 0;
	}
	if (ret == 0) {
		/*
		 * Written whole and renamed, but not synced: a snapshot must take milliseconds,
		 * and a crash that loses the info loses a label, never data (the list, which
		 * says what the VM sees, is synced).
		 */
		char text[256];
		int n = snprintf(text, sizeof(text), "%s\nlabel %s\ncreated %lld\ndigest \n",
				 FVM_LAYER_MAGIC, label ? label : "", (long long)time(NULL));
		ret = info_write(dfd, text, (size_t)n);
	}
	if (dfd >= 0) {
		close(dfd);
	}
	if (ret < 0) {
		warnx("%s/%s: a new layer: %s", home, FVM_LAYERS_DIR, safe_strerror(ret));
		if (id[0]) {
			safe_rm_tree(lfd, id, NULL, NULL);
		}
	}
	close(lfd);
	return ret < 0 ? -1 : 0;
}

int layer_info_read(const char *home, const char *id, struct layer_info *info)
{
	char path[PATH_MAX], *text, *p, *save = NULL;
	size_t len;
	int dfd, ret;

	memset(info, 0, sizeof(*info));
	if (snprintf(path, sizeof(path), "%s/%s/%s", home, FVM_LAYERS_DIR, id) >= (int)sizeof(path) ||
	    (dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		warnx("layer %s: %s", id, strerror(errno ? errno : ENAMETOOLONG));
		return -1;
	}
	ret = safe_read_file(dfd, FVM_LAYER_INFO, 4096, &text, &len);
	close(dfd);
	if (ret < 0) {
		warnx("layer %s: its info: %s", id, safe_strerror(ret));
		return -1;
	}
	for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		if (strncmp(p, "label ", 6) == 0) {
			snprintf(info->label, sizeof(info->label), "%s", p + 6);
		} else if (strncmp(p, "created ", 8) == 0) {
			info->created = strtoll(p + 8, NULL, 10);
		} else if (strncmp(p, "digest ", 7) == 0) {
			snprintf(info->digest, sizeof(info->digest), "%s", p + 7);
		}
	}
	free(text);
	return 0;
}

int layer_set_digest(const char *home, const char *id, const char *digest)
{
	struct layer_info info;
	char path[PATH_MAX], text[512];
	int dfd, ret, n;

	if (layer_info_read(home, id, &info) < 0) {
		return -1;
	}
	if (info.digest[0]) {
		return 0;
	}
	if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) >= sizeof(info.digest) ||
	    strchr(digest, '\n')) {
		warnx("layer %s: bad digest", id);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", home, FVM_LAYERS_DIR, id);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		warn("%s", path);
		return -1;
	}
	n = snprintf(text, sizeof(text), "%s\nlabel %s\ncreated %lld\ndigest %s\n", FVM_LAYER_MAGIC,
		     info.label, info.created, digest);
	ret = info_write(dfd, text, (size_t)n);
	close(dfd);
	if (ret < 0) {
		warnx("layer %s: its info: %s", id, safe_strerror(ret));
		return -1;
	}
	return 0;
}

int layer_find_digest(const char *home, const char *digest, char id[FVM_LAYER_ID_MAX + 1])
{
	char path[PATH_MAX];
	struct layer_info info;
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", home, FVM_LAYERS_DIR);
	if (!(d = opendir(path))) {
		return 0;
	}
	while (!found && (de = readdir(d))) {
		char tree[PATH_MAX];
		struct stat st;
		/* Only a whole layer: its tree is there (a layer being built has no digest). */
		if (!layer_id_valid(de->d_name) || layer_tree_path(home, de->d_name, tree, sizeof(tree)) < 0 ||
		    lstat(tree, &st) < 0 || !S_ISDIR(st.st_mode)) {
			continue;
		}
		if (layer_info_read(home, de->d_name, &info) == 0 && strcmp(info.digest, digest) == 0) {
			memcpy(id, de->d_name, strlen(de->d_name) + 1); /* valid: at most FVM_LAYER_ID_MAX */
			found = 1;
		}
	}
	closedir(d);
	return found;
}

struct use_ctx {
	const char *home;
	const char *id;
	bool used;
};

static int use_one(const char *name, void *arg)
{
	struct use_ctx *u = arg;
	struct layer_list l;
	char vmdir[PATH_MAX];

	if (snprintf(vmdir, sizeof(vmdir), "%s/%s/%s", u->home, FVM_VMS_DIR, name) >= (int)sizeof(vmdir) ||
	    layer_list_read(vmdir, &l) < 0) {
		u->used = true; /* unreadable: keep the layer */
		return 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.id[i], u->id) == 0) {
			u->used = true;
		}
	}
	/* A layer a pending switch will put in the list is in use already. */
	struct layer_switch sw;
	int r = layer_switch_read(vmdir, &sw);
	for (size_t i = 0; r > 0 && i < sw.to.n; i++) {
		if (strcmp(sw.to.id[i], u->id) == 0) {
			u->used = true;
		}
	}
	if (r < 0) {
		u->used = true; /* unreadable: keep the layer */
	}
	return 0;
}

bool layer_in_use(const char *home, const char *id)
{
	struct fvm_store s;
	struct use_ctx u = {.home = home, .id = id};

	snprintf(s.home, sizeof(s.home), "%s", home);
	if (store_each_vm(&s, use_one, &u) < 0) {
		return true;
	}
	return u.used;
}

int layer_remove(const char *home, const char *id)
{
	int lfd = layers_dir_open(home), ret;

	if (lfd < 0 || !layer_id_valid(id)) {
		warnx("%s/%s/%s: %s", home, FVM_LAYERS_DIR, id, lfd < 0 ? safe_strerror(lfd) : "bad id");
		return -1;
	}
	ret = safe_rm_tree(lfd, id, NULL, NULL);
	close(lfd);
	if (ret < 0) {
		warnx("%s/%s/%s: %s", home, FVM_LAYERS_DIR, id, safe_strerror(ret));
		return -1;
	}
	return 0;
}

int layer_snapshot(const char *vmdir, const char *label, char id[FVM_LAYER_ID_MAX + 1])
{
	char home[PATH_MAX], tree[PATH_MAX], upper[PATH_MAX];
	struct layer_list l, before;
	struct stat ust;

	if (layer_home(vmdir, home, sizeof(home)) < 0 || layer_list_read(vmdir, &l) < 0) {
		return -1;
	}
	if (l.n >= FVM_MAX_LAYERS) {
		warnx("%s: already %d layers: squash them first (fvm squash)", vmdir, FVM_MAX_LAYERS);
		return -1;
	}
	if (snprintf(upper, sizeof(upper), "%s/%s", vmdir, FVM_UPPER_DIR) >= (int)sizeof(upper) ||
	    lstat(upper, &ust) < 0 || !S_ISDIR(ust.st_mode)) {
		warnx("%s: no upper directory", upper);
		return -1;
	}
	if (layer_create(home, label, id) < 0 || layer_tree_path(home, id, tree, sizeof(tree)) < 0) {
		return -1;
	}
	/* The empty upper/ to come, made where the layer's tree goes, with upper/'s mode. */
	if (mkdir(tree, 0700) < 0 || chmod(tree, ust.st_mode & 07777) < 0) {
		warn("%s", tree);
		layer_remove(home, id);
		return -1;
	}
	/* The list first: a layer it names whose tree is still the empty one is harmless. */
	before = l;
	memmove(l.id[1], l.id[0], l.n * sizeof(l.id[0]));
	strcpy(l.id[0], id);
	l.n++;
	if (layer_list_write(vmdir, &l) < 0) {
		layer_remove(home, id);
		return -1;
	}
	/* One atomic step: upper/'s files become the layer, the empty directory upper/. */
	if (renameat2(AT_FDCWD, upper, AT_FDCWD, tree, RENAME_EXCHANGE) < 0) {
		warn("%s: freezing it into layer %s", upper, id);
		if (layer_list_write(vmdir, &before) == 0) {
			layer_remove(home, id);
		}
		return -1;
	}
	return 0;
}

/* A new empty directory HOME/layers/.PREFIX.RANDOM into OUT. Returns 0 or -1. */
static int scratch_dir(const char *home, const char *prefix, char *out, size_t len)
{
	char rnd[17];
	int lfd = layers_dir_open(home);

	if (lfd < 0) {
		warnx("%s/%s: %s", home, FVM_LAYERS_DIR, safe_strerror(lfd));
		return -1;
	}
	close(lfd);
	if (safe_random_hex(rnd) < 0 ||
	    snprintf(out, len, "%s/%s/.%s.%s", home, FVM_LAYERS_DIR, prefix, rnd) >= (int)len ||
	    mkdir(out, 0700) < 0) {
		warn("%s/%s: a scratch directory", home, FVM_LAYERS_DIR);
		return -1;
	}
	return 0;
}

/* The trees of L (top first) and, when UPPER, VMDIR's upper/ above them, into V. */
static int stack_trees(const char *vmdir, const char *home, const struct layer_list *l, bool upper,
		       char **v, size_t *n)
{
	*n = 0;
	if (upper) {
		if (!(v[*n] = malloc(PATH_MAX))) {
			return -1;
		}
		snprintf(v[(*n)++], PATH_MAX, "%s/%s", vmdir, FVM_UPPER_DIR);
	}
	for (size_t i = 0; i < l->n; i++) {
		if (!(v[*n] = malloc(PATH_MAX)) || layer_tree_path(home, l->id[i], v[*n], PATH_MAX) < 0) {
			free(v[*n]);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

static void free_trees(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
}

/* Removes scratch directory PATH (in HOME/layers). */
static void scratch_drop(const char *path)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int pfd;

	if (!slash || (size_t)(slash - path) >= sizeof(parent)) {
		return;
	}
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		safe_rm_tree(pfd, slash + 1, NULL, NULL);
		close(pfd);
	}
}

int layer_view(const char *vmdir, char *out, size_t len)
{
	char home[PATH_MAX], *trees[FVM_MAX_LAYERS + 1];
	struct layer_list l;
	size_t n;
	int ret;

	if (layer_list_read(vmdir, &l) < 0) {
		return -1;
	}
	if (l.n == 0) {
		return snprintf(out, len, "%s/%s", vmdir, FVM_UPPER_DIR) >= (int)len ? -1 : 0;
	}
	if (layer_home(vmdir, home, sizeof(home)) < 0 || scratch_dir(home, "view", out, len) < 0) {
		return -1;
	}
	if (stack_trees(vmdir, home, &l, true, trees, &n) < 0) {
		scratch_drop(out);
		return -1;
	}
	ret = layer_merge(trees, n, out, MERGE_LINK);
	free_trees(trees, n);
	if (ret < 0) {
		scratch_drop(out);
		return -1;
	}
	return 1;
}

void layer_view_drop(const char *path)
{
	scratch_drop(path);
}

void layer_free_unused(const char *home, const struct layer_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!layer_in_use(home, l->id[i])) {
			layer_remove(home, l->id[i]);
		}
	}
}

int layer_flatten(const char *vmdir)
{
	char home[PATH_MAX], flat[PATH_MAX], upper[PATH_MAX], *trees[FVM_MAX_LAYERS + 1];
	struct layer_list l, none = {.n = 0};
	size_t n;
	int ret;

	if (layer_list_read(vmdir, &l) < 0) {
		return -1;
	}
	if (l.n == 0) {
		return 0;
	}
	if (layer_home(vmdir, home, sizeof(home)) < 0 || scratch_dir(home, "flat", flat, sizeof(flat)) < 0) {
		return -1;
	}
	if (stack_trees(vmdir, home, &l, true, trees, &n) < 0) {
		scratch_drop(flat);
		return -1;
	}
	ret = layer_merge(trees, n, flat, MERGE_COPY);
	free_trees(trees, n);
	snprintf(upper, sizeof(upper), "%s/%s", vmdir, FVM_UPPER_DIR);
	/* One step: the merged tree becomes upper/; the list then names no layer. Between
	 * the two, the merged upper/ over the old layers shows the same. */
	if (ret < 0 || renameat2(AT_FDCWD, flat, AT_FDCWD, upper, RENAME_EXCHANGE) < 0) {
		if (ret == 0) {
			warn("%s", upper);
		}
		scratch_drop(flat);
		return -1;
	}
	if (layer_list_write(vmdir, &none) < 0) {
		return -1;
	}
	scratch_drop(flat);
	layer_free_unused(home, &l);
	return 0;
}

int layer_squash(const char *vmdir)
{
	char home[PATH_MAX], tree[PATH_MAX], *trees[FVM_MAX_LAYERS];
	char id[FVM_LAYER_ID_MAX + 1];
	struct layer_list l, one = {.n = 1};
	struct layer_info info;
	size_t n;
	int ret;

	if (layer_list_read(vmdir, &l) < 0 || layer_home(vmdir, home, sizeof(home)) < 0) {
		return -1;
	}
	if (l.n < 2) {
		return 0; /* nothing to merge */
	}
	if (layer_info_read(home, l.id[0], &info) < 0 || layer_create(home, info.label, id) < 0) {
		return -1;
	}
	if (layer_tree_path(home, id, tree, sizeof(tree)) < 0 || mkdir(tree, 0700) < 0 ||
	    stack_trees(vmdir, home, &l, false, trees, &n) < 0) {
		layer_remove(home, id);
		return -1;
	}
	ret = layer_merge(trees, n, tree, MERGE_LINK);
	free_trees(trees, n);
	strcpy(one.id[0], id);
	if (ret < 0 || layer_list_write(vmdir, &one) < 0) {
		layer_remove(home, id);
		return -1;
	}
	layer_free_unused(home, &l);
	return 0;
}

int layer_find_label(const char *home, const struct layer_list *l, const char *label)
{
	struct layer_info info;

	for (size_t i = 0; i < l->n; i++) {
		if (layer_info_read(home, l->id[i], &info) == 0 && strcmp(info.label, label) == 0) {
			return (int)i;
		}
	}
	return -1;
}
