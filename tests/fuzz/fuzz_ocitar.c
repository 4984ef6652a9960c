/*
 * fuzz_ocitar.c — an imported layer tar (fvm import): the input as an archive (tar,
 * compressed or not) applied by oci_tar_apply to a scratch layer directory, and the
 * input's first bytes as one entry checked by oci_entry_check and oci_path_clean. The
 * pax header opening the tar is looked at for fvm's origins comment on the way.
 *
 * Invariants: no crash, no sanitizer report, for any bytes. Nothing is written outside
 * the layer directory (a sibling directory stays empty, whatever links the archive
 * makes); every device entry is refused. A path oci_path_clean accepts comes out with
 * no "." or ".." component, no leading, trailing or doubled slash. An entry carrying a
 * user.fvm.* xattr, or a ".wh." name that is not an empty regular file, is never
 * accepted.
 */
#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>

#include "store/oci.h"
#include "store/safefs.h"

static char layer[PATH_MAX], outside[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root;

	(void)argc, (void)argv;
	fuzz_init_messages();
	root = fuzz_scratch_dir("ocitar");
	snprintf(outside, sizeof(outside), "%s/outside", root);
	if (mkdir(outside, 0700) < 0) {
		abort();
	}
	return 0;
}

static int open_up(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR) {
		chmod(path, (st->st_mode & 07777) | S_IRWXU);
	}
	return 0;
}

static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool empty = true;

	FUZZ_CHECK(d != NULL);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
		}
	}
	closedir(d);
	return empty;
}

static void check_clean(const char *path)
{
	char out[PATH_MAX];

	if (oci_path_clean(path, out, sizeof(out)) != OCI_OK) {
		return;
	}
	FUZZ_CHECK(out[0] != '/');
	FUZZ_CHECK(!out[0] || out[strlen(out) - 1] != '/');
	FUZZ_CHECK(strstr(out, "//") == NULL);
	for (const char *c = out; *c;) {
		size_t n = strcspn(c, "/");
		FUZZ_CHECK(!(n == 1 && c[0] == '.'));
		FUZZ_CHECK(!(n == 2 && c[0] == '.' && c[1] == '.'));
		c += n + (c[n] == '/');
	}
}

/* The first bytes as one entry: TYPE PERM(2) SIZE, then "path\0hardlink\0xattr\0...". */
static void check_entry(const uint8_t *data, size_t size)
{
	static const mode_t types[] = {S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK, 0};
	const char *xs[8];
	struct oci_entry e = {0};
	char *s;

	if (size < 4) {
		return;
	}
	e.type = types[data[0] % 8];
	e.perm = (mode_t)((data[1] << 8 | data[2]) & 07777);
	e.size = data[3] % 3;
	s = malloc(size - 4 + 1); /* the NULs kept: they separate the fields */
	if (!s) {
		abort();
	}
	memcpy(s, data + 4, size - 4);
	s[size - 4] = '\0';
	char *p = s, *end = s + (size - 4);
	e.path = p;
	p += strlen(p) + 1;
	if (p < end && *p) {
		e.hardlink = p;
	}
	p += p < end ? strlen(p) + 1 : 0;
	while (p < end && e.nxattrs < 8) {
		xs[e.nxattrs++] = p;
		p += strlen(p) + 1;
	}
	e.xattrs = xs;
	check_clean(e.path);
	enum oci_check c = oci_entry_check(&e);
	FUZZ_CHECK(oci_check_str(c) != NULL);
	if (c == OCI_OK || c == OCI_PRIVILEGED) {
		char out[PATH_MAX];
		FUZZ_CHECK(oci_path_clean(e.path, out, sizeof(out)) == OCI_OK);
		FUZZ_CHECK(e.type != S_IFCHR && e.type != S_IFBLK);
		for (size_t i = 0; i < e.nxattrs; i++) {
			FUZZ_CHECK(strncmp(xs[i], "user.fvm.", 9) != 0);
		}
		const char *base = strrchr(out, '/');
		base = base ? base + 1 : out;
		if (strncmp(base, ".wh.", 4) == 0) {
			FUZZ_CHECK(e.type == S_IFREG && e.size == 0 && !e.hardlink);
		}
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *origins = NULL;
	struct oci_apply_opts o = {.max_size = 1 << 20, .origins = &origins};
	struct oci_blob_info info;
	int in, lfd;

	check_entry(data, size);
	snprintf(layer, sizeof(layer), "%s/layer", fuzz_scratch_path);
	if (mkdir(layer, 0700) < 0 || (lfd = open(layer, O_RDONLY | O_DIRECTORY)) < 0) {
		abort();
	}
	in = fuzz_memfd(data, size);
	oci_tar_apply(in, "fuzz", lfd, &o, NULL, &info);
	/* The origins comment, when found, starts with fvm's magic (origins_move.h). */
	FUZZ_CHECK(!origins || strncmp(origins, "fvm-origins ", 12) == 0);
	free(origins);
	close(in);
	close(lfd);
	FUZZ_CHECK(dir_empty(outside));
	/* The layer goes, whatever modes the archive gave its directories. */
	nftw(layer, open_up, 16, FTW_PHYS);
	if (safe_rm_tree(AT_FDCWD, layer, NULL, NULL) < 0) {
		abort();
	}
	return 0;
}
