/*
 * cmd_import.c — fvm import NAME FILE.tar|-|oci:DIR[:TAG] [--max-size SIZE]
 * [--allow-privileged]: a new VM from an OCI layer tar or an OCI image.
 *
 * Rules: NAME must not exist; the VM is built whole in a temporary data area and
 * appears by one rename (store_vm_create_filled), so a refused or failed import leaves
 * nothing. Every entry passes the checks of oci_apply.c; an image's blobs are checked
 * against their digests and its layers against the config's diff_ids. The layers of an
 * image are applied in order into the VM's one layer, upper/. The origins the image
 * carries become the VM's origins log (each record parsed by the core's parser; a
 * record that does not parse is dropped with a warning), so fvm diff --conflicts and
 * commit compare this host's files with what the exporting VM copied.
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
#include "fvm/origins.h"
#include "store/oci.h"
#include "store/safefs.h"

struct import {
	const char *src;           /* as given */
	char *oci_dir, *oci_tag;   /* oci:DIR[:TAG] */
	struct oci_apply_opts o;
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

/* Writes the image's origins records, each parsed, as the new VM's log. */
static int write_origins(int vmfd, const char *text)
{
	int fd = openat(vmfd, FVM_ORIGINS_FILE, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	size_t dropped = 0;
	int r = 0;

	if (fd < 0) {
		warn("import: origins");
		return -errno;
	}
	for (const char *p = text; *p && r == 0;) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n), out[2 * PATH_MAX + 256];
		struct fvm_origin rec;
		int len;
		if (!line) {
			r = -ENOMEM;
			break;
		}
		if (fvm_origin_parse(line, &rec) == 0 && (len = fvm_origin_format(&rec, out, sizeof(out))) > 0) {
			if (write(fd, out, (size_t)len) != len) {
				r = -errno;
			}
		} else if (n) {
			dropped++;
		}
		free(line);
		p += n + (p[n] == '\n');
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
	}
	if (r < 0) {
		warnx("import: origins: %s", strerror(-r));
	}
	if (dropped) {
		warnx("import: %zu origins records of the image were malformed and dropped", dropped);
	}
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
	r = oci_tar_apply(in, strcmp(im->src, "-") == 0 ? "standard input" : im->src, up, &im->o, NULL, &info) < 0
		    ? -EINVAL : 0;
out:
	if (in > STDIN_FILENO) {
		close(in);
	}
	if (up >= 0) {
		close(up);
	}
	return r;
}

/* An image of a layout: every layer, in order, into upper/; its origins. */
static int fill_oci(int vmfd, struct import *im)
{
	struct oci_image img;
	int bfd, up = -1, r = -EINVAL;

	if (oci_layout_read(im->oci_dir, im->oci_tag, &img, &bfd) < 0) {
		return -EINVAL;
	}
	up = openat(vmfd, FVM_UPPER_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (up < 0) {
		warn("import: upper");
		goto out;
	}
	for (size_t i = 0; i < img.nlayers; i++) {
		struct oci_layer_ref *l = &img.layers[i];
		struct oci_digest_check want = {l->digest, l->diff_id, l->size};
		struct oci_blob_info info;
		char shown[PATH_MAX + 96];
		int fd = safe_open_control(bfd, l->digest, O_RDONLY, 0);
		snprintf(shown, sizeof(shown), "%s/blobs/sha256/%s", im->oci_dir, l->digest);
		if (fd < 0) {
			warnx("import: %s: %s", shown, safe_strerror(fd));
			goto out;
		}
		im->o.total = l->size;
		int ar = oci_tar_apply(fd, shown, up, &im->o, &want, &info);
		close(fd);
		if (ar < 0) {
			goto out;
		}
	}
	r = img.origins ? write_origins(vmfd, img.origins) : 0;
out:
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
	r = store_vm_create_filled(s, name, fill, &im);
	free(spec);
	return r < 0 ? FVM_EXIT_PARTIAL : 0;
}
