/*
 * policy.h — a VM's compiled policy: what fvm-exec hands to libfvm.
 *
 * fvm-exec parses configuration (fvm.conf, vm.conf, the command line) into a
 * struct fvm_policy and writes it with fvm_policy_save(); libfvm loads it with
 * fvm_policy_load() in its constructor. The file is a fixed binary image with a
 * magic and a version, so libfvm parses no text.
 *
 * Path classes (DESIGN.md "Path classes"): every canonical virtual path belongs to
 * exactly one class, decided by the longest rule prefix that matches at a component
 * boundary. With no matching rule the class is VIRTUAL, or SHARED when the policy has
 * any SCOPE rule (then only the scopes are virtualized). /proc, /sys and /dev are
 * SHARED and the store is HIDDEN unless a rule says otherwise.
 */
#ifndef FVM_POLICY_H
#define FVM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fvm_class {
	FVM_CLASS_VIRTUAL = 0, /* copy-on-write into the VM */
	FVM_CLASS_SHARED,      /* written straight through to the host */
	FVM_CLASS_HIDDEN,      /* ENOENT inside the VM */
	FVM_CLASS_READONLY,    /* visible, EROFS on write */
	FVM_CLASS_SCOPE,       /* virtualized; its presence makes the default SHARED */
};

enum fvm_net { FVM_NET_ALL = 0, FVM_NET_LOOPBACK, FVM_NET_NONE };
enum fvm_loopback { FVM_LOOPBACK_SHARED = 0, FVM_LOOPBACK_PRIVATE };

#define FVM_POLICY_MAX_RULES 128
#define FVM_POLICY_BLOB      32768
#define FVM_POLICY_MAX_ALLOW 64
#define FVM_POLICY_MAX_LAYERS 32 /* FVM_MAX_LAYERS (layout.h) */

struct fvm_path_rule {
	uint32_t klass;  /* enum fvm_class */
	uint32_t off;    /* offset of the path in blob; NUL-terminated, canonical */
	uint32_t len;
};

struct fvm_allow_rule {
	uint8_t family;  /* AF_INET or AF_INET6 */
	uint8_t prefix;  /* prefix length in bits */
	uint16_t port;   /* 0: any port; host byte order */
	uint8_t addr[16];
};

struct fvm_policy {
	uint32_t net;        /* enum fvm_net */
	uint32_t loopback;   /* enum fvm_loopback */
	uint64_t copy_limit; /* largest host file that may be copied up; 0: no limit */
	uint64_t disk_limit; /* bytes of regular files upper/ may hold; 0: no limit (quota.c) */
	uint64_t files_limit; /* entries upper/ may hold; 0: no limit */
	uint32_t nrules;
	uint32_t nallow;
	uint32_t blob_used;
	bool has_scope;
	struct fvm_path_rule rules[FVM_POLICY_MAX_RULES];
	struct fvm_allow_rule allow[FVM_POLICY_MAX_ALLOW];
	/*
	 * The VM's read-only layers, top first: the real path of each layer's tree
	 * (blob offset and length), compiled by fvm-exec from ctl/NAME/layers.
	 */
	uint32_t nlayers;
	uint32_t layer_off[FVM_POLICY_MAX_LAYERS];
	uint32_t layer_len[FVM_POLICY_MAX_LAYERS];
	char blob[FVM_POLICY_BLOB];
};

/* An empty policy: everything virtual, network all, no limit. */
void fvm_policy_init(struct fvm_policy *pol);

/*
 * Adds a path rule. VPATH must be absolute; it is normalised lexically.
 * Returns 0, -EINVAL for a relative path, -ENOSPC when the policy is full.
 */
int fvm_policy_add_path(struct fvm_policy *pol, enum fvm_class klass, const char *vpath);

/*
 * Appends layer tree RPATH (absolute, normalised) below the layers added so far.
 * Returns 0, -EINVAL for a relative path, -ENOSPC when the policy is full.
 */
int fvm_policy_add_layer(struct fvm_policy *pol, const char *rpath);

/*
 * The class of canonical virtual path VPATH (LEN bytes). Builtin rules (/proc, /sys,
 * /dev shared) apply when no explicit rule is longer.
 */
enum fvm_class fvm_policy_class(const struct fvm_policy *pol, const char *vpath, size_t len);

/*
 * Adds an allow rule from SPEC: "ADDR[/PREFIX][:PORT]" for IPv4, "ADDR[/PREFIX]" or
 * "[ADDR][/PREFIX][:PORT]" for IPv6. PORT 0 or absent: any port. Returns 0, -EINVAL
 * for a malformed spec, -ENOSPC when the policy is full.
 */
int fvm_policy_add_allow(struct fvm_policy *pol, const char *spec);

/* Whether an allow rule of POL covers ADDR (4 or 16 bytes of FAMILY) and PORT. */
bool fvm_policy_allowed(const struct fvm_policy *pol, int family, const void *addr,
			uint16_t port);

/* "all", "loopback", "none" and back; -1 when unknown. */
int fvm_net_from_name(const char *name);
const char *fvm_net_name(enum fvm_net net);

/* Name of a class ("virtual", "shared", …) and back; -1 when unknown. */
const char *fvm_class_name(enum fvm_class klass);

/*
 * Writes POL to FILE atomically (temporary file + rename). Returns 0 or -errno.
 * Loads it back: 0, -errno, or -EINVAL for a file that is not a policy of this version.
 */
int fvm_policy_save(const struct fvm_policy *pol, const char *file);
/* The image of POL (header, then the struct) written to FD. Returns 0 or -EIO. */
int fvm_policy_write(const struct fvm_policy *pol, int fd);
/* True when FD is a regular file holding exactly the image fvm_policy_write makes of POL. */
bool fvm_policy_same(const struct fvm_policy *pol, int fd);
int fvm_policy_load(struct fvm_policy *pol, const char *file);

/*
 * The policy in FILE, mapped read-only (libfvm's start: no copy, and only the pages
 * read are ever faulted in), or NULL when it cannot be read or is not a policy image.
 */
const struct fvm_policy *fvm_policy_map(const char *file);
/* Unmaps what fvm_policy_map returned (NULL: nothing). */
void fvm_policy_unmap(const struct fvm_policy *pol);

#endif
