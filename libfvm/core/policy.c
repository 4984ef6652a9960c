/*
 * policy.c — path classes and the compiled policy file (fvm/policy.h).
 *
 * The file is a header (magic, version, size) followed by the struct fvm_policy image.
 * It is produced and consumed by the same build of fvm, so a fixed image is enough;
 * the version and size refuse anything else. Written with temp file + rename.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fvm/path.h"
#include "fvm/policy.h"
#include "fvm/sys.h"

#define POLICY_MAGIC   "FVMPOL\n"
#define POLICY_VERSION 1u

struct policy_header {
	char magic[8];
	uint32_t version;
	uint32_t size;
};

static const struct {
	const char *path;
	enum fvm_class klass;
} builtin_rules[] = {
	{"/proc", FVM_CLASS_SHARED},
	{"/sys", FVM_CLASS_SHARED},
	{"/dev", FVM_CLASS_SHARED},
};

static const char *const class_names[] = {
	[FVM_CLASS_VIRTUAL] = "virtual",
	[FVM_CLASS_SHARED] = "shared",
	[FVM_CLASS_HIDDEN] = "hidden",
	[FVM_CLASS_READONLY] = "readonly",
	[FVM_CLASS_SCOPE] = "scope",
};

void fvm_policy_init(struct fvm_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
}

int fvm_policy_add_path(struct fvm_policy *pol, enum fvm_class klass, const char *vpath)
{
	char norm[PATH_MAX];
	int n;

	if (vpath[0] != '/') {
		return -EINVAL;
	}
	n = fvm_path_normalize(vpath, norm, sizeof(norm), true);
	if (n < 0) {
		return n;
	}
	if (pol->nrules >= FVM_POLICY_MAX_RULES || pol->blob_used + (size_t)n + 1 > FVM_POLICY_BLOB) {
		return -ENOSPC;
	}
	pol->rules[pol->nrules].klass = klass;
	pol->rules[pol->nrules].off = pol->blob_used;
	pol->rules[pol->nrules].len = (uint32_t)n;
	memcpy(pol->blob + pol->blob_used, norm, (size_t)n + 1);
	pol->blob_used += (uint32_t)n + 1;
	pol->nrules++;
	if (klass == FVM_CLASS_SCOPE) {
		pol->has_scope = true;
	}
	return 0;
}

enum fvm_class fvm_policy_class(const struct fvm_policy *pol, const char *vpath, size_t len)
{
	enum fvm_class klass = pol && pol->has_scope ? FVM_CLASS_SHARED : FVM_CLASS_VIRTUAL;
	size_t best = 0;
	uint32_t i;

	for (i = 0; i < sizeof(builtin_rules) / sizeof(builtin_rules[0]); i++) {
		size_t plen = strlen(builtin_rules[i].path);
		if (plen > best && fvm_path_has_prefix(vpath, len, builtin_rules[i].path, plen)) {
			best = plen;
			klass = builtin_rules[i].klass;
		}
	}
	for (i = 0; pol && i < pol->nrules; i++) {
		const struct fvm_path_rule *r = &pol->rules[i];
		/* ">=": an explicit rule beats a builtin one of the same length. */
		if (r->len >= best && fvm_path_has_prefix(vpath, len, pol->blob + r->off, r->len)) {
			best = r->len;
			klass = (enum fvm_class)r->klass;
		}
	}
	return klass == FVM_CLASS_SCOPE ? FVM_CLASS_VIRTUAL : klass;
}

const char *fvm_class_name(enum fvm_class klass)
{
	return (unsigned)klass < sizeof(class_names) / sizeof(class_names[0]) ? class_names[klass] : "?";
}

int fvm_policy_save(const struct fvm_policy *pol, const char *file)
{
	struct policy_header hdr = {.magic = POLICY_MAGIC, .version = POLICY_VERSION,
				    .size = sizeof(*pol)};
	char tmp[PATH_MAX];
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", file, (int)sys_getpid()) >= (int)sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	fd = sys_openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		return fd;
	}
	if (sys_write(fd, &hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    sys_write(fd, pol, sizeof(*pol)) != (ssize_t)sizeof(*pol)) {
		ret = -EIO;
	}
	sys_close(fd);
	if (ret == 0) {
		ret = sys_renameat2(AT_FDCWD, tmp, AT_FDCWD, file, 0);
	}
	if (ret < 0) {
		sys_unlinkat(AT_FDCWD, tmp, 0);
	}
	return ret;
}

int fvm_policy_load(struct fvm_policy *pol, const char *file)
{
	struct policy_header hdr;
	int fd = sys_openat(AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0) {
		return fd;
	}
	if (sys_read(fd, &hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr.magic, POLICY_MAGIC, sizeof(hdr.magic)) != 0 ||
	    hdr.version != POLICY_VERSION || hdr.size != sizeof(*pol)) {
		ret = -EINVAL;
	} else {
		size_t got = 0;
		while (got < sizeof(*pol)) {
			ssize_t n = sys_read(fd, (char *)pol + got, sizeof(*pol) - got);
			if (n <= 0) {
				ret = n < 0 ? (int)n : -EINVAL;
				break;
			}
			got += (size_t)n;
		}
	}
	sys_close(fd);
	if (ret == 0 && (pol->nrules > FVM_POLICY_MAX_RULES || pol->nallow > FVM_POLICY_MAX_ALLOW ||
			 pol->blob_used > FVM_POLICY_BLOB)) {
		ret = -EINVAL;
	}
	return ret;
}
