/*
 * cmd_import.c — fvm import NAME FILE.tar|-|oci:DIR[:TAG] [--max-size SIZE]
 * [--allow-privileged]: a new VM from an OCI layer tar or an OCI image.
 *
 * Rules: NAME must not exist; the VM is built whole in a temporary data area and
 * appears by one rename (store_vm_create_filled), so a refused or failed import leaves
 * nothing. Every entry passes the checks of oci_apply.c; an image's blobs are checked
 * against their digests and its layers against the config's diff_ids. Each layer of an
 * image becomes a read-only layer of the store (layers.h) with its diff_id as its
 * digest, or is the store's layer of that digest already (shared, its blob not read);
 * the new VM's list names them and its upper/ is empty. An image of more layers than a
 * VM takes (FVM_MAX_LAYERS) is applied whole into upper/ instead, with a warning. A
 * plain tar (FILE.tar or -) goes into upper/: it is one merged layer of changes with no
 * digest to check or share by, and there commit, reset and snapshot treat it as the
 * VM's own changes. On failure the layers this import made are removed. The origins the image
 * carries become the VM's origins log (each record parsed by the core's parser; a
 * record that does not parse is dropped with a warning), each judged against this
 * host's object at its path (origins_move.h), so fvm info, fvm diff --conflicts and
 * commit show where this host's file differs from what the exporting VM copied.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cmd.h"
#include "fvm/layout.h"
#include "store/origins_move.h"
#include "store/layers.h"
#include "store/oci.h"
#include "store/safefs.h"

struct import {
	const char *src;           /* as given */
	char *oci_dir, *oci_tag;   /* oci:DIR[:TAG] */
	struct oci_apply_opts o;
	const char *home, *name, *vmdir;
	struct layer_list made;    /* the layers this import made (removed on failure) */
	size_t shared;             /* the image's layers the store had already */
	size_t conflicts;          /* origins whose host object differs here */
};


/* SIZE with an optional K, M, G or T suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-') {
		goto bad;
	}
	static const char units[] = "KMGT";
	const char *u = *end ? strchr(units, *end) : NULL;
	if (*end && (!u || end[1])) {
		goto bad;
	}
	for (int i = u ? (int)(u - units) + 1 : 0; i > 0; i--) {
		if (v > (~0ULL >> 10)) {
			goto bad;
		}
		v <<= 10;
	}
	*out = v;
	return 0;
bad:
	warnx("--max-size %s: a size in bytes, with an optional K, M, G or T", s);
	return -1;
}

/* The store's free space less a margin (a tenth, at most 1 GiB). */
static uint64_t default_max(const struct fvm_store *s)
{
	struct statvfs v;
	char probe[PATH_MAX];

	snprintf(probe, sizeof(probe), "%s", s->home);
	while (statvfs(probe, &v) < 0) {
		char *slash = strrchr(probe, '/');
		if (!slash || slash == probe) {
			snprintf(probe, sizeof(probe), "/");
			if (statvfs(probe, &v) < 0) {
				return ~0ULL;
			}
			break;
		}
		*slash = '\0';
	}
	uint64_t free = (uint64_t)v.f_bavail * v.f_frsize, margin = free / 10;
	if (margin > (1ULL << 30)) {
		margin = 1ULL << 30;
	}
	return free - margin;
}

/* The origins that came with the archive or image, judged against this host. */
static int write_origins(int vmfd, struct import *im, const char *text)
{
	int r = origins_import_text(vmfd, text, &im->conflicts);

	return r;
}

/* A tar from a file or standard input into the new VM's upper/. */
static int fill_tar(int vmfd, struct import *im)
{
	int in = strcmp(im->src, "-") == 0 ? STDIN_FILENO : open(im->src, O_RDONLY | O_CLOEXEC);
	int up = openat(vmfd, FVM_UPPER_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;
	struct oci_blob_info info;
	struct stat st;

	if (in < 0 || up < 0) {
		warn("import: %s", in < 0 ? im->src : FVM_UPPER_DIR);
		r = -EIO;
		goto out;
	}
	if (fstat(in, &st) == 0 && S_ISREG(st.st_mode)) {
		im->o.total = (uint64_t)st.st_size;
	}
	char *origins = NULL;
	im->o.origins = &origins;
	r = oci_tar_apply(in, strcmp(im->src, "-") == 0 ? "standard input" : im->src, up, &im->o, NULL, &info) < 0
		    ? -EINVAL : 0;
	im->o.origins = NULL;
	if (r == 0 && origins) {
		r = write_origins(vmfd, im, origins);
	}
	free(origins);
out:
	if (in > STDIN_FILENO) {
		close(in);
	}
	if (up >= 0) {
		close(up);
	}
	return r;
}

/* Layer I of IMG (blob fd BFD) applied into directory fd DIR. */
static int apply_blob(struct import *im, const struct oci_image *img, size_t i, int bfd, int dir)
{
	const struct oci_layer_ref *l = &img->layers[i];
	struct oci_digest_check want = {l->digest, l->diff_id, l->size};
	struct oci_blob_info info;
	char shown[PATH_MAX + 96];
	int fd = safe_open_control(bfd, l->digest, O_RDONLY, 0), r;

	snprintf(shown, sizeof(shown), "%s/blobs/sha256/%s", im->oci_dir, l->digest);
	if (fd < 0) {
		warnx("import: %s: %s", shown, safe_strerror(fd));
		return -1;
	}
	im->o.total = l->size;
	r = oci_tar_apply(fd, shown, dir, &im->o, &want, &info);
	close(fd);
	return r;
}

/* Layer I of IMG as a read-only layer of the store: found by its digest, or made. */
static int image_layer(struct import *im, const struct oci_image *img, size_t i, int bfd,
		       char id[FVM_LAYER_ID_MAX + 1])
{
	const struct oci_layer_ref *l = &img->layers[i];
	char digest[8 + OCI_DIGEST_HEX], tree[PATH_MAX], label[160];
	struct stat rst;
	int tfd, r;

	snprintf(digest, sizeof(digest), "sha256:%s", l->diff_id);
	if (layer_find_digest(im->home, digest, id)) {
		/* Shared: the blob is still checked (digest, size, diff_id), so that a damaged
		 * image, or one naming a layer it does not hold, is refused. */
		struct oci_digest_check want = {l->digest, l->diff_id, l->size};
		char shown[PATH_MAX + 96];
		int fd = safe_open_control(bfd, l->digest, O_RDONLY, 0);
		snprintf(shown, sizeof(shown), "%s/blobs/sha256/%s", im->oci_dir, l->digest);
		if (fd < 0) {
			warnx("import: %s: %s", shown, safe_strerror(fd));
			return -1;
		}
		r = oci_blob_check(fd, shown, &want);
		close(fd);
		im->shared += r == 0;
		return r;
	}
	snprintf(label, sizeof(label), "%s", l->label[0] ? l->label : "import");
	if (layer_create(im->home, label, id) < 0) {
		return -1;
	}
	strcpy(im->made.id[im->made.n++], id);
	/* The tree stands for the host root, as upper/ does: the root's mode. */
	if (layer_tree_path(im->home, id, tree, sizeof(tree)) < 0 || mkdir(tree, 0700) < 0 ||
	    (stat("/", &rst) == 0 && chmod(tree, rst.st_mode & 07777) < 0) ||
	    (tfd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		warn("import: %s", tree);
		return -1;
	}
	r = apply_blob(im, img, i, bfd, tfd);
	close(tfd);
	/* The digest last: a layer is found by it only once whole. */
	return r < 0 ? -1 : layer_set_digest(im->home, id, digest);
}

/* An image of a layout: its layers as the store's, the VM's list naming them; its origins. */
static int fill_oci(int vmfd, struct import *im)
{
	struct oci_image img;
	struct layer_list l = {.n = 0};
	int bfd, up = -1, r = -EINVAL;

	if (oci_layout_read(im->oci_dir, im->oci_tag, &img, &bfd) < 0) {
		return -EINVAL;
	}
	if (img.nlayers > FVM_MAX_LAYERS) {
		warnx("import: the image has %zu layers, more than a VM's %d: applied into one (upper/)",
		      img.nlayers, FVM_MAX_LAYERS);
		up = openat(vmfd, FVM_UPPER_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (up < 0) {
			warn("import: upper");
			goto out;
		}
		for (size_t i = 0; i < img.nlayers; i++) {
			if (apply_blob(im, &img, i, bfd, up) < 0) {
				goto out;
			}
		}
	} else {
		/* The image's layers are bottom first; a VM's list top first. */
		for (size_t i = 0; i < img.nlayers; i++) {
			if (image_layer(im, &img, i, bfd, l.id[img.nlayers - 1 - i]) < 0) {
				goto out;
			}
		}
		l.n = img.nlayers;
		if (l.n && layer_list_write(im->vmdir, &l) < 0) {
			goto out;
		}
	}
	r = img.origins ? write_origins(vmfd, im, img.origins) : 0;
out:
	if (r < 0 && l.n) {
		/* ctl/NAME must be left empty for the creation to remove it. */
		int cfd = store_ctl_open(im->vmdir);
		if (cfd >= 0) {
			unlinkat(cfd, FVM_LAYERS_DIR, 0);
			close(cfd);
		}
	}
	if (up >= 0) {
		close(up);
	}
	close(bfd);
	oci_image_free(&img);
	return r;
}

static int fill(int vmfd, void *arg)
{
	struct import *im = arg;

	return im->oci_dir ? fill_oci(vmfd, im) : fill_tar(vmfd, im);
}

int cmd_import(const struct fvm_store *s, int argc, char **argv)
{
	enum { OPT_MAX = 256, OPT_PRIV };
	static const struct option longopts[] = {
		{"max-size", required_argument, NULL, OPT_MAX},
		{"allow-privileged", no_argument, NULL, OPT_PRIV},
		{NULL, 0, NULL, 0},
	};
	struct import im = {.o = {.chown = geteuid() == 0, .progress = true}};
	bool max_given = false;
	char dir[PATH_MAX], *spec = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MAX:
			if (parse_size(optarg, &im.o.max_size) < 0) {
				return cli_usage(NULL);
			}
			max_given = true;
			break;
		case OPT_PRIV:
			im.o.allow_privileged = true;
			break;
		default:
			return cli_usage(NULL);
		}
	}
	if (optind != argc - 2) {
		return cli_usage("a VM NAME and a SOURCE (FILE, - or oci:DIR) are needed");
	}
	const char *name = argv[optind];
	im.src = argv[optind + 1];
	if (store_vm_dir(s, name, dir, sizeof(dir)) < 0) {
		return FVM_EXIT_USAGE;
	}
	if (strncmp(im.src, "oci:", 4) == 0) {
		if (!(spec = strdup(im.src + 4))) {
			warn("import");
			return FVM_EXIT_PARTIAL;
		}
		char *colon = strrchr(spec, ':');
		if (colon && !strchr(colon, '/')) {
			*colon = '\0';
			im.oci_tag = colon + 1;
		}
		im.oci_dir = spec;
		if (!*spec || (im.oci_tag && !*im.oci_tag)) {
			free(spec);
			return cli_usage("oci:DIR[:TAG] needs a DIR, and a TAG after ':'");
		}
	}
	if (!max_given) {
		im.o.max_size = default_max(s);
	}
	im.home = s->home;
	im.name = name;
	im.vmdir = dir;
	r = store_vm_create_filled(s, name, fill, &im);
	free(spec);
	if (r < 0) {
		for (size_t i = 0; i < im.made.n; i++) {
			if (!layer_in_use(s->home, im.made.id[i])) {
				layer_remove(s->home, im.made.id[i]);
			}
		}
	} else {
		if (im.oci_dir && im.shared) {
			printf("%s: %zu layer%s shared with the store's\n", name, im.shared, im.shared == 1 ? "" : "s");
		}
		if (im.conflicts) {
			fprintf(stderr, "fvm import: %s: %zu file%s the VM copied differ%s on this host "
				"(fvm diff %s --conflicts)\n", name, im.conflicts, im.conflicts == 1 ? "" : "s",
				im.conflicts == 1 ? "s" : "", name);
		}
	}
	return r < 0 ? FVM_EXIT_PARTIAL : 0;
}
