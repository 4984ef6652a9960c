/*
 * policy.c — path classes and the compiled policy file (fvm/policy.h).
 *
 * The file is a header (magic, version, size) followed by the struct fvm_policy image.
 * It is produced and consumed by the same build of fvm, so a fixed image is enough;
 * the version and size refuse anything else. Written with temp file + rename.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "fvm/path.h"
#include "fvm/policy.h"
#include "fvm/sys.h"

#define POLICY_MAGIC   "FVMPOL\n"
#define POLICY_VERSION 3u

struct policy_header {
	char magic[8];
	uint32_t version;
	uint32_t size;
};

#define RULE(path, klass) {path, sizeof(path) - 1, klass}
static const struct {
	const char *path;
	size_t len;
	enum fvm_class klass;
} builtin_rules[] = {
	RULE("/proc", FVM_CLASS_SHARED),
	RULE("/sys", FVM_CLASS_SHARED),
	RULE("/dev", FVM_CLASS_SHARED),
};
#undef RULE

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

int fvm_policy_add_layer(struct fvm_policy *pol, const char *rpath)
{
	char norm[PATH_MAX];
	int n;

	if (rpath[0] != '/') {
		return -EINVAL;
	}
	n = fvm_path_normalize(rpath, norm, sizeof(norm), true);
	if (n < 0) {
		return n;
	}
	if (pol->nlayers >= FVM_POLICY_MAX_LAYERS || pol->blob_used + (size_t)n + 1 > FVM_POLICY_BLOB) {
		return -ENOSPC;
	}
	pol->layer_off[pol->nlayers] = pol->blob_used;
	pol->layer_len[pol->nlayers] = (uint32_t)n;
	memcpy(pol->blob + pol->blob_used, norm, (size_t)n + 1);
	pol->blob_used += (uint32_t)n + 1;
	pol->nlayers++;
	return 0;
}

enum fvm_class fvm_policy_class(const struct fvm_policy *pol, const char *vpath, size_t len)
{
	enum fvm_class klass = pol && pol->has_scope ? FVM_CLASS_SHARED : FVM_CLASS_VIRTUAL;
	size_t best = 0;
	uint32_t i;

	for (i = 0; i < sizeof(builtin_rules) / sizeof(builtin_rules[0]); i++) {
		size_t plen = builtin_rules[i].len;
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

static const char *const net_names[] = {
	[FVM_NET_ALL] = "all",
	[FVM_NET_LOOPBACK] = "loopback",
	[FVM_NET_NONE] = "none",
};

int fvm_net_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(net_names) / sizeof(net_names[0]); i++) {
		if (strcmp(name, net_names[i]) == 0) {
			return (int)i;
		}
	}
	return -1;
}

const char *fvm_net_name(enum fvm_net net)
{
	return (unsigned)net < sizeof(net_names) / sizeof(net_names[0]) ? net_names[net] : "?";
}

/* Parses decimal S (the whole string) into *OUT within [0, MAX]. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9') {
		return -EINVAL;
	}
	errno = 0;
	*out = strtoul(s, &end, 10);
	return *end || errno || *out > max ? -EINVAL : 0;
}

int fvm_policy_add_allow(struct fvm_policy *pol, const char *spec)
{
	struct fvm_allow_rule r = {0};
	char buf[128], *addr = buf, *prefix = NULL, *port = NULL;
	unsigned long v;

	if (strlen(spec) >= sizeof(buf)) {
		return -EINVAL;
	}
	strcpy(buf, spec);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close) {
			return -EINVAL;
		}
		*close = '\0';
		addr = buf + 1;
		char *rest = close + 1;
		if (*rest == '/') {
			prefix = rest + 1;
			rest = strchr(prefix, ':');
		} else if (*rest && *rest != ':') {
			return -EINVAL;
		}
		if (rest && *rest == ':') {
			*rest = '\0';
			port = rest + 1;
		}
	} else {
		char *colon = strchr(buf, ':');
		/* Without brackets, a second ':' means an IPv6 address and no port. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			port = colon + 1;
		}
		prefix = strchr(buf, '/');
		if (prefix) {
			*prefix++ = '\0';
		}
	}
	if (inet_pton(AF_INET, addr, r.addr) == 1) {
		r.family = AF_INET;
		r.prefix = 32;
	} else if (inet_pton(AF_INET6, addr, r.addr) == 1) {
		r.family = AF_INET6;
		r.prefix = 128;
	} else {
		return -EINVAL;
	}
	if (prefix) {
		if (parse_uint(prefix, r.prefix, &v) < 0) {
			return -EINVAL;
		}
		r.prefix = (uint8_t)v;
	}
	if (port) {
		if (parse_uint(port, 65535, &v) < 0) {
			return -EINVAL;
		}
		r.port = (uint16_t)v;
	}
	if (pol->nallow >= FVM_POLICY_MAX_ALLOW) {
		return -ENOSPC;
	}
	pol->allow[pol->nallow++] = r;
	return 0;
}

bool fvm_policy_allowed(const struct fvm_policy *pol, int family, const void *addr,
			uint16_t port)
{
	const uint8_t *a = addr;

	for (uint32_t i = 0; pol && i < pol->nallow; i++) {
		const struct fvm_allow_rule *r = &pol->allow[i];
		unsigned bits = r->prefix, full = bits / 8, rest = bits % 8;

		if (r->family != family || (r->port && r->port != port)) {
			continue;
		}
		if (memcmp(r->addr, a, full) != 0) {
			continue;
		}
		if (rest && ((r->addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest)))) {
			continue;
		}
		return true;
	}
	return false;
}

/*
 * The image is a header and the whole struct (35 KiB), mostly zeros (the unused rules
 * and blob). Into a new regular file it is written sparse: the length set first, then
 * only the 4 KiB blocks that hold a non-zero byte, so an idle VM's policy takes a few
 * blocks of disk, not nine. A reader (mmap, read) sees the same bytes either way. FD
 * must be empty; where it cannot be sized (a pipe), the image is written whole.
 */
int fvm_policy_write(const struct fvm_policy *pol, int fd)
{
	const struct policy_header hdr = {.magic = POLICY_MAGIC, .version = POLICY_VERSION,
					  .size = sizeof(*pol)};
	const size_t len = sizeof(hdr) + sizeof(*pol), blk = 4096;
	static const char zero[4096];
	char buf[4096];

	if (sys_ftruncate(fd, (off_t)len) < 0) {
		if (sys_write(fd, &hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
		    sys_write(fd, pol, sizeof(*pol)) != (ssize_t)sizeof(*pol)) {
			return -EIO;
		}
		return 0;
	}
	for (size_t off = 0; off < len; off += blk) {
		size_t n = len - off < blk ? len - off : blk;
		size_t h = off < sizeof(hdr) ? sizeof(hdr) - off : 0; /* the header's bytes */
		memcpy(buf, (const char *)&hdr + off, h);
		memcpy(buf + h, (const char *)pol + (off + h - sizeof(hdr)), n - h);
		if (memcmp(buf, zero, n) == 0) {
			continue;
		}
		if (sys_pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			return -EIO;
		}
	}
	return 0;
}

bool fvm_policy_same(const struct fvm_policy *pol, int fd)
{
	const size_t len = sizeof(struct policy_header) + sizeof(*pol);
	const struct policy_header *hdr;
	struct stat st;
	void *map;
	bool same;

	if (sys_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != (off_t)len) {
		return false;
	}
	map = sys_mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if ((unsigned long)map > -4096UL) {
		return false;
	}
	hdr = map;
	same = memcmp(hdr->magic, POLICY_MAGIC, sizeof(hdr->magic)) == 0 && hdr->version == POLICY_VERSION &&
	       hdr->size == sizeof(*pol) && memcmp(hdr + 1, pol, sizeof(*pol)) == 0;
	sys_munmap(map, len);
	return same;
}

int fvm_policy_save(const struct fvm_policy *pol, const char *file)
{
	char tmp[PATH_MAX];
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", file, (int)sys_getpid()) >= (int)sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	fd = sys_openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		return fd;
	}
	ret = fvm_policy_write(pol, fd);
	sys_close(fd);
	if (ret == 0) {
		ret = sys_renameat2(AT_FDCWD, tmp, AT_FDCWD, file, 0);
	}
	if (ret < 0) {
		sys_unlinkat(AT_FDCWD, tmp, 0);
	}
	return ret;
}

/* True when every layer of POL names a NUL-terminated path inside its blob. */
static bool layers_valid(const struct fvm_policy *pol)
{
	if (pol->nlayers > FVM_POLICY_MAX_LAYERS) {
		return false;
	}
	for (uint32_t i = 0; i < pol->nlayers; i++) {
		if (pol->layer_off[i] >= pol->blob_used || pol->layer_len[i] >= pol->blob_used ||
		    pol->layer_off[i] + pol->layer_len[i] >= pol->blob_used ||
		    pol->blob[pol->layer_off[i] + pol->layer_len[i]] != '\0') {
			return false;
		}
	}
	return true;
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
			 pol->blob_used > FVM_POLICY_BLOB || !layers_valid(pol))) {
		ret = -EINVAL;
	}
	return ret;
}

/*
 * Read, not mapped from the file: the image is ~36 KiB, mostly an empty blob, and a
 * file mapping is made resident 64 KiB at a time (fault-around) in every process of
 * the VM. The fixed part and the blob's used bytes are read into anonymous memory
 * (signal-safe, no malloc: the first wrapped call may run in a handler), whose untouched
 * pages cost nothing; then it is made read-only, as the mapping was (issue 15).
 */
const struct fvm_policy *fvm_policy_map(const char *file)
{
	const size_t len = sizeof(struct policy_header) + sizeof(struct fvm_policy);
	const size_t fixed = sizeof(struct policy_header) + offsetof(struct fvm_policy, blob);
	const struct policy_header *hdr;
	const struct fvm_policy *pol;
	struct stat st;
	char *map;
	bool good;
	int fd = sys_openat(AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0) {
		return NULL;
	}
	/* A shorter file is no image of this build: refused first. */
	map = sys_fstat(fd, &st) == 0 && st.st_size >= (off_t)len
		      ? sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		      : (void *)-EINVAL;
	if ((unsigned long)map > -4096UL) {
		sys_close(fd);
		return NULL;
	}
	hdr = (const struct policy_header *)map;
	pol = (const struct fvm_policy *)(hdr + 1);
	good = sys_pread(fd, map, fixed, 0) == (ssize_t)fixed &&
	       memcmp(hdr->magic, POLICY_MAGIC, sizeof(hdr->magic)) == 0 &&
	       hdr->version == POLICY_VERSION && hdr->size == sizeof(*pol) &&
	       pol->nrules <= FVM_POLICY_MAX_RULES && pol->nallow <= FVM_POLICY_MAX_ALLOW &&
	       pol->blob_used <= FVM_POLICY_BLOB &&
	       (pol->blob_used == 0 ||
		sys_pread(fd, map + fixed, pol->blob_used, (off_t)fixed) == (ssize_t)pol->blob_used) &&
	       layers_valid(pol);
	sys_close(fd);
	if (!good || FVM_SC(SYS_mprotect, (long)map, (long)len, PROT_READ, 0, 0, 0) < 0) {
		sys_munmap(map, len);
		return NULL;
	}
	return pol;
}

void fvm_policy_unmap(const struct fvm_policy *pol)
{
	if (pol) {
		sys_munmap((void *)((const struct policy_header *)pol - 1),
			   sizeof(struct policy_header) + sizeof(struct fvm_policy));
	}
}
