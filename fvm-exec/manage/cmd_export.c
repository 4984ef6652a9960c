/*
 * cmd_export.c — fvm export NAME (-o FILE|- | --oci DIR[:TAG]) [--compress gzip|zstd]
 * [--mtime T]: the VM's changes as one OCI image layer, or as an OCI image layout.
 *
 * Rules: the VM's lock is taken exclusively for the read (no run changes the layer
 * under the export); a file is written to a temporary beside it and renamed, so a
 * failed export leaves no half archive (standard output excepted); --mtime, else
 * SOURCE_DATE_EPOCH, clamps every time (reproducible builds' convention). The layers
 * exported with -o are the VM's layer directories, top first: upper/, then its
 * read-only layers (store/layers.h), merged into the one layer the VM's view amounts
 * to; --oci writes one blob per layer instead (the image is the VM's stack), and a
 * read-only layer then gets its digest (its diff_id) if it had none.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "fvm/layout.h"
#include "store/layers.h"
#include "store/oci.h"
#include "store/origins_move.h"
#include "store/procs.h"
#include "store/safefs.h"


/* OCI's name for this machine's architecture. */
static const char *oci_arch(void)
{
	static struct utsname u;
	static const struct {
		const char *uname, *oci;
	} map[] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"i686", "386"}, {"i386", "386"},
		{"armv7l", "arm"}, {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
	};

	uname(&u);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(u.machine, map[i].uname) == 0) {
			return map[i].oci;
		}
	}
	return u.machine;
}

/* KEY's value in /etc/os-release (quotes removed), or NULL. Malloc'd. */
static char *os_release(const char *key)
{
	FILE *f = fopen("/etc/os-release", "r");
	char line[512], *v = NULL;
	size_t k = strlen(key);

	if (!f && !(f = fopen("/usr/lib/os-release", "r"))) {
		return NULL;
	}
	while (!v && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, k) == 0 && line[k] == '=') {
			char *s = line + k + 1;
			s[strcspn(s, "\n")] = '\0';
			size_t n = strlen(s);
			if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
				s[n - 1] = '\0';
				s++;
			}
			v = strdup(s);
		}
	}
	fclose(f);
	return v;
}

static int parse_compress(const char *s, enum oci_compress *c)
{
	static const struct {
		const char *name;
		enum oci_compress c;
	} t[] = {{"none", OCI_COMPRESS_NONE}, {"gzip", OCI_COMPRESS_GZIP}, {"zstd", OCI_COMPRESS_ZSTD}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i].name) == 0) {
			*c = t[i].c;
			return 0;
		}
	}
	warnx("--compress %s: gzip, zstd or none", s);
	return -1;
}

static int parse_time(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || end == s || *end || *out < 0) {
		warnx("%s: a time in seconds since the epoch", s);
		return -1;
	}
	return 0;
}

/*
 * Writes the tar of VMDIR's layers to OUT_FD: upper/ over each read-only layer of its
 * list (top first), merged into one layer relative to the host, as the VM sees it.
 */
static int export_layers(const char *vmdir, int out_fd, const struct oci_write_opts *o,
			 struct oci_blob_info *info)
{
	int fds[FVM_MAX_LAYERS + 1], r = -1;
	size_t n = 0;
	struct layer_list l;
	char home[PATH_MAX], tree[PATH_MAX];

	if (layer_list_read(vmdir, &l) < 0 || (l.n && layer_home(vmdir, home, sizeof(home)) < 0)) {
		return -1;
	}
	if ((fds[n] = store_upper_open(vmdir)) < 0) {
		return -1;
	}
	n++;
	for (size_t i = 0; i < l.n; i++) {
		if (layer_tree_path(home, l.id[i], tree, sizeof(tree)) < 0) {
			goto out;
		}
		if ((fds[n] = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			warn("%s", tree);
			goto out;
		}
		n++;
	}
	r = oci_tar_write(fds, n, out_fd, o, info);
out:
	while (n) {
		close(fds[--n]);
	}
	return r;
}

/* -o FILE: a temporary beside FILE, renamed when whole. */
static int export_file(const char *vmdir, const char *file, const struct oci_write_opts *o)
{
	struct oci_blob_info info;
	char tmp[PATH_MAX];
	int fd, r;

	if (strcmp(file, "-") == 0 && isatty(STDOUT_FILENO)) {
		warnx("export: standard output is a terminal; redirect it or give -o FILE");
		return -1;
	}
	/* The origins travel too, in a pax global header (origins_move.h). */
	struct oci_write_opts oo = *o;
	char *origins = origins_export_text(vmdir);
	oo.origins = origins;
	o = &oo;
	if (strcmp(file, "-") == 0) {
		r = export_layers(vmdir, STDOUT_FILENO, o, &info);
		free(origins);
		return r;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.fvm-export.%d", file, (int)getpid()) >= (int)sizeof(tmp)) {
		free(origins);
		warnx("%s: path too long", file);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		warn("%s", tmp);
		free(origins);
		return -1;
	}
	r = export_layers(vmdir, fd, o, &info);
	if (close(fd) < 0 && r == 0) {
		warn("%s", file);
		r = -1;
	}
	if (r == 0 && rename(tmp, file) < 0) {
		warn("%s", file);
		r = -1;
	}
	if (r < 0) {
		unlink(tmp);
	}
	free(origins);
	return r;
}

/* Layer directory LFD as one layer tar blob of layout SPEC; its digests into *INFO. */
static int export_blob(const char *spec, int lfd, const struct oci_write_opts *o, struct oci_blob_info *info)
{
	char tmp[NAME_MAX + 1];
	int bfd, fd, r;

	if ((fd = oci_layout_blob_tmp(spec, &bfd, tmp, sizeof(tmp))) < 0) {
		return -1;
	}
	r = oci_tar_write(&lfd, 1, fd, o, info);
	if (close(fd) < 0) {
		r = -1;
	}
	if (r == 0 && renameat(bfd, tmp, bfd, info->digest) < 0) {
		warn("%s/blobs/sha256/%s", spec, info->digest);
		r = -1;
	}
	if (r < 0) {
		unlinkat(bfd, tmp, 0);
	}
	close(bfd);
	return r;
}

/*
 * --oci DIR[:TAG]: one blob per layer of the VM, bottom first (rootfs.diff_ids' order):
 * each read-only layer, then upper/ when it holds anything (or when the VM has no
 * layer: an image has one at least); then config, manifest and index. A read-only
 * layer that had no digest gets its diff_id as its digest (layers.h).
 */
static int export_oci(const char *vmdir, const char *name, char *spec, const struct oci_write_opts *o)
{
	char *colon = strrchr(spec, ':'), home[PATH_MAX], tree[PATH_MAX];
	static struct oci_blob_info infos[FVM_MAX_LAYERS + 1];
	static struct layer_info linfo[FVM_MAX_LAYERS + 1];
	const char *labels[FVM_MAX_LAYERS + 1];
	const char *tag = "latest";
	struct layer_list l;
	size_t k = 0;
	int lfd, r;

	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		tag = colon + 1;
	}
	if (!*spec || !*tag) {
		warnx("--oci DIR[:TAG]: an empty directory or tag");
		return -1;
	}
	struct oci_write_opts od = *o;
	od.digests = true;
	od.all_whiteouts = true;
	if (layer_list_read(vmdir, &l) < 0 || layer_home(vmdir, home, sizeof(home)) < 0) {
		return -1;
	}
	for (size_t i = l.n; i-- > 0; k++) {
		if (layer_info_read(home, l.id[i], &linfo[k]) < 0 ||
		    layer_tree_path(home, l.id[i], tree, sizeof(tree)) < 0) {
			return -1;
		}
		if ((lfd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			warn("%s", tree);
			return -1;
		}
		r = export_blob(spec, lfd, &od, &infos[k]);
		close(lfd);
		if (r < 0) {
			return -1;
		}
		labels[k] = linfo[k].label;
	}
	if (l.n == 0 || store_upper_used(vmdir)) {
		if ((lfd = store_upper_open(vmdir)) < 0) {
			return -1;
		}
		r = export_blob(spec, lfd, &od, &infos[k]);
		close(lfd);
		if (r < 0) {
			return -1;
		}
		labels[k++] = "";
	}
	struct oci_image_meta m = {
		.vm = name, .os_id = os_release("ID"), .os_version = os_release("VERSION_ID"),
		.arch = oci_arch(), .created = o->clamp ? o->mtime : (long long)time(NULL),
		.origins = origins_export_text(vmdir),
	};
	r = oci_layout_write(spec, tag, infos, labels, k, o->compress, &m);
	free((char *)m.os_id);
	free((char *)m.os_version);
	free((char *)m.origins);
	/* The read-only layers' digests: the diff_ids just published (first one wins). */
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		char d[8 + OCI_DIGEST_HEX];
		snprintf(d, sizeof(d), "sha256:%.64s", infos[i].diff_id);
		layer_set_digest(home, l.id[l.n - 1 - i], d);
	}
	return r;
}

int cmd_export(const struct fvm_store *s, int argc, char **argv)
{
	enum { OPT_OCI = 256, OPT_COMPRESS, OPT_MTIME };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"oci", required_argument, NULL, OPT_OCI},
		{"compress", required_argument, NULL, OPT_COMPRESS},
		{"mtime", required_argument, NULL, OPT_MTIME},
		{NULL, 0, NULL, 0},
	};
	struct oci_write_opts o = {.compress = OCI_COMPRESS_NONE, .progress = true};
	const char *out = NULL, *sde = getenv("SOURCE_DATE_EPOCH");
	char *oci = NULL, dir[PATH_MAX];
	int c, rc, lock, r;

	if (sde && *sde) {
		if (parse_time(sde, &o.mtime) < 0) {
			return FVM_EXIT_USAGE;
		}
		o.clamp = true;
	}
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_OCI:
			oci = optarg;
			break;
		case OPT_COMPRESS:
			if (parse_compress(optarg, &o.compress) < 0) {
				return cli_usage(NULL);
			}
			break;
		case OPT_MTIME:
			if (parse_time(optarg, &o.mtime) < 0) {
				return cli_usage(NULL);
			}
			o.clamp = true;
			break;
		default:
			return cli_usage(NULL);
		}
	}
	if (optind != argc - 1 || !out == !oci) {
		return cli_usage(optind != argc - 1 ? "one VM NAME is needed"
						    : "one of -o FILE and --oci DIR is needed");
	}
	if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0) {
		return rc;
	}
	lock = vm_lock_idle(dir, argv[optind], "export");
	if (lock < 0) {
		return FVM_EXIT_PARTIAL;
	}
	struct store_usage u;
	if (isatty(STDERR_FILENO) && store_vm_usage(dir, &u) == 0) {
		o.total = u.bytes; /* the progress line's ETA */
	}
	r = out ? export_file(dir, out, &o) : export_oci(dir, argv[optind], oci, &o);
	close(lock);
	return r < 0 ? FVM_EXIT_PARTIAL : 0;
}
