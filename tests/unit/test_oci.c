/*
 * test_oci.c — fvm export/import's core (fvm-exec/store/oci*.c): the tar-entry rules,
 * and layer directories merged into one layer tar (oci_tar_write with several layers,
 * as a layered VM will call it), applied back by oci_tar_apply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/oci.h"
#include "store/safefs.h"

static void entry_rules_refuse_hostile_entries(void **state)
{
	static const char *fvmx[] = {"user.fvm.origin"}, *cap[] = {"security.capability"}, *ok[] = {"user.a"};
	static const struct {
		struct oci_entry e;
		enum oci_check want;
	} t[] = {
		{{"a/b", S_IFREG, 0644, 1, NULL, ok, 1}, OCI_OK},
		{{"./a//b/", S_IFDIR, 0755, 0, NULL, NULL, 0}, OCI_OK},
		{{"./", S_IFDIR, 0755, 0, NULL, NULL, 0}, OCI_OK},
		{{"/etc/passwd", S_IFREG, 0644, 1, NULL, NULL, 0}, OCI_BAD_ABSOLUTE},
		{{"a/../../b", S_IFREG, 0644, 1, NULL, NULL, 0}, OCI_BAD_DOTDOT},
		{{"a", S_IFREG, 0644, 0, "../x", NULL, 0}, OCI_BAD_DOTDOT},
		{{"dev/null", S_IFCHR, 0666, 0, NULL, NULL, 0}, OCI_BAD_DEVICE},
		{{"sda", S_IFBLK, 0660, 0, NULL, NULL, 0}, OCI_BAD_DEVICE},
		{{"s", S_IFSOCK, 0660, 0, NULL, NULL, 0}, OCI_BAD_TYPE},
		{{"d/.wh.x", S_IFREG, 0644, 0, NULL, NULL, 0}, OCI_OK},
		{{"d/.wh.x", S_IFREG, 0644, 2, NULL, NULL, 0}, OCI_BAD_WHITEOUT},
		{{"d/.wh.x", S_IFDIR, 0755, 0, NULL, NULL, 0}, OCI_BAD_WHITEOUT},
		{{"d/.wh.x", S_IFREG, 0644, 0, "d/y", NULL, 0}, OCI_BAD_WHITEOUT},
		{{".wh.d/x", S_IFREG, 0644, 0, NULL, NULL, 0}, OCI_BAD_WHITEOUT},
		{{"d/.wh..wh..opq", S_IFREG, 0644, 0, NULL, NULL, 0}, OCI_OK},
		{{"d/.wh..wh.plnk", S_IFREG, 0644, 0, NULL, NULL, 0}, OCI_BAD_WH_META},
		{{"f", S_IFREG, 0644, 0, NULL, fvmx, 1}, OCI_BAD_FVM_XATTR},
		{{"f", S_IFREG, 0644, 0, NULL, cap, 1}, OCI_PRIVILEGED},
		{{"f", S_IFREG, 04755, 0, NULL, NULL, 0}, OCI_PRIVILEGED},
		{{"d", S_IFDIR, 02775, 0, NULL, NULL, 0}, OCI_OK},
		{{"", S_IFREG, 0644, 0, NULL, NULL, 0}, OCI_BAD_EMPTY},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum oci_check got = oci_entry_check(&t[i].e);
		if (got != t[i].want) {
			fail_msg("%s: %s, want %s", t[i].e.path, oci_check_str(got), oci_check_str(t[i].want));
		}
	}
}

static void put(int dfd, const char *rel, const char *content)
{
	if (content) {
		int fd = openat(dfd, rel, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
		close(fd);
	} else {
		assert_int_equal(mkdirat(dfd, rel, 0755), 0);
	}
}

/* The names in the tar at FD, in order, joined by spaces (trailing slashes dropped). */
static char *names_of(int fd)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *out = calloc(1, 4096);

	lseek(fd, 0, SEEK_SET);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char n[PATH_MAX];
		snprintf(n, sizeof(n), "%s", archive_entry_pathname(e));
		if (n[strlen(n) - 1] == '/') {
			n[strlen(n) - 1] = '\0';
		}
		strcat(out, *out ? " " : "");
		strcat(out, n);
	}
	archive_read_free(a);
	return out;
}

static void two_layers_merge_into_one_layer_tar(void **state)
{
	char base[] = "/tmp/fvm-test-oci.XXXXXX";
	int top, low, out, back;
	struct oci_write_opts o = {.compress = OCI_COMPRESS_NONE, .digests = true};
	struct oci_apply_opts ao = {.max_size = 1 << 20};
	struct oci_blob_info info, info2;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(base));
	int b = open(base, O_RDONLY | O_DIRECTORY);
	put(b, "top", NULL);
	put(b, "low", NULL);
	put(b, "back", NULL);
	top = openat(b, "top", O_RDONLY | O_DIRECTORY);
	low = openat(b, "low", O_RDONLY | O_DIRECTORY);
	back = openat(b, "back", O_RDONLY | O_DIRECTORY);
	/* The lower layer: files in a, b and c; d a file. */
	put(low, "fvmq-a", NULL), put(low, "fvmq-a/f1", "1"), put(low, "fvmq-a/f2", "2");
	put(low, "fvmq-b", NULL), put(low, "fvmq-b/x", "x");
	put(low, "fvmq-c", NULL), put(low, "fvmq-c/y", "y"), put(low, "fvmq-d", "d");
	/* The top: f1 deleted, g added; b deleted; c opaque with z; d now a directory. */
	put(top, "fvmq-a", NULL), put(top, "fvmq-a/.wh.f1", ""), put(top, "fvmq-a/g", "g");
	put(top, ".wh.fvmq-b", "");
	put(top, "fvmq-c", NULL), put(top, "fvmq-c/.wh..wh..opq", ""), put(top, "fvmq-c/z", "z");
	put(top, "fvmq-d", NULL), put(top, "fvmq-d/e", "e");
	/* A directory made over its own whiteout in one layer: it wins, opaque. */
	put(top, "fvmq-e", NULL), put(top, "fvmq-e/k", "k"), put(top, ".wh.fvmq-e", "");
	/* A whiteout of a name the host has (/etc) is kept; those of names only the lower
	 * layer held (fvmq-a/f1, fvmq-b) are not: the merged layer does not hold them. */
	put(top, ".wh.etc", "");

	out = memfd_create("layer", 0);
	assert_int_equal(oci_tar_write((int[]){top, low}, 2, out, &o, &info), 0);
	char *names = names_of(out);
	assert_string_equal(names, ".wh.etc fvmq-a fvmq-a/f2 fvmq-a/g fvmq-c "
				   "fvmq-c/.wh..wh..opq fvmq-c/z fvmq-d fvmq-d/.wh..wh..opq fvmq-d/e "
				   "fvmq-e fvmq-e/.wh..wh..opq fvmq-e/k");
	free(names);
	assert_string_equal(info.digest, info.diff_id); /* uncompressed: the blob is the tar */

	/* Applied back: the same tree, and the digests it was written with. */
	lseek(out, 0, SEEK_SET);
	struct oci_digest_check want = {info.digest, info.diff_id, info.size};
	assert_int_equal(oci_tar_apply(out, "layer", back, &ao, &want, &info2), 0);
	assert_string_equal(info2.diff_id, info.diff_id);
	for (const char *const *p = (const char *const[]){".wh.etc", "fvmq-a/f2", "fvmq-a/g",
							      "fvmq-c/.wh..wh..opq", "fvmq-c/z", "fvmq-d/.wh..wh..opq",
							      "fvmq-d/e", NULL};
	     *p; p++) {
		if (fstatat(back, *p, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			fail_msg("%s missing after apply", *p);
		}
	}
	assert_int_equal(fstatat(back, "fvmq-c/y", &st, AT_SYMLINK_NOFOLLOW), -1);

	/* A wrong digest is refused. */
	lseek(out, 0, SEEK_SET);
	want.diff_id = "0000000000000000000000000000000000000000000000000000000000000000";
	want.digest = NULL;
	int again = openat(b, ".", O_RDONLY | O_DIRECTORY);
	put(again, "again", NULL);
	int ag = openat(again, "again", O_RDONLY | O_DIRECTORY);
	assert_int_equal(oci_tar_apply(out, "layer", ag, &ao, &want, &info2), -1);

	close(ag), close(again), close(out), close(top), close(low), close(back);
	assert_int_equal(safe_rm_tree(AT_FDCWD, base, NULL, NULL), 0);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entry_rules_refuse_hostile_entries),
		cmocka_unit_test(two_layers_merge_into_one_layer_tar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
