/*
 * oci.h — a VM's layers as OCI image layers (fvm export, fvm import; issue 17).
 *
 * A layer directory is an OCI layer already (fvm/layout.h): host path P lives at P
 * beneath it, ".wh.NAME" hides host entry NAME, ".wh..wh..opq" hides a whole host
 * directory. These functions take layers as directory fds, so that a VM of one layer
 * (upper/) and a VM of several read-only layers below it use the same code:
 *
 *  - oci_tar_write: an ordered list of layer directories (top first) merged into ONE
 *    layer tar, written through libarchive: sorted names, in each directory the opaque
 *    marker, then the whiteouts, then the entries (the OCI spec's order); no duplicate
 *    path; hard links as tar hard links; xattrs except fvm's own (user.fvm.*); times
 *    clamped to a given mtime when one is given. Reproducible: the same layers give the
 *    same bytes. The digests of the uncompressed tar (the OCI diff_id) and of the blob
 *    as written (compressed or not) are computed on the way (OpenSSL's SHA-256).
 *  - oci_tar_apply: one layer tar read into a layer directory, refusing any entry a
 *    hostile archive could use (oci_entry_check, the tar-entry rules, fuzzed), and
 *    applying whiteouts and opaque markers to what the directory already holds (so
 *    the layers of an image can be applied one after the other into one directory).
 *  - oci_layout_*: the OCI image layout (oci-layout, index.json, the manifest, the
 *    config with rootfs.diff_ids, blobs/sha256/) written and read with jansson; every
 *    blob read is checked against its digest and size. The JSON parser of an untrusted
 *    layout (oci_image_parse) is fuzzed.
 *
 * Functions report failures themselves (warnx-style, naming the entry or file) and
 * return -1, or 0 on success, unless they say otherwise.
 */
#ifndef FVM_STORE_OCI_H
#define FVM_STORE_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum oci_compress { OCI_COMPRESS_NONE, OCI_COMPRESS_GZIP, OCI_COMPRESS_ZSTD };

#define OCI_DIGEST_HEX 65 /* 64 hex digits and a NUL */

struct oci_blob_info {
	char diff_id[OCI_DIGEST_HEX]; /* sha256 of the uncompressed tar */
	char digest[OCI_DIGEST_HEX];  /* sha256 of the blob as written */
	uint64_t size;                /* bytes of the blob as written */
	uint64_t files, bytes;        /* entries written, bytes of file content */
};

struct oci_write_opts {
	enum oci_compress compress;
	bool clamp;          /* clamp every time to MTIME (--mtime, SOURCE_DATE_EPOCH) */
	long long mtime;
	bool progress;       /* a progress line on a terminal's stderr */
	bool digests;        /* compute INFO's digests (an image needs them; a tar not) */
	uint64_t total;      /* the content bytes expected, for the ETA, or 0 */
	bool all_whiteouts;  /* one layer of a stack (--oci): every whiteout written, also
			      * one hiding only a lower layer's name; merged (-o): only
			      * those hiding a host name */
	const char *origins; /* origins_export_text (origins_move.h), or NULL: written
			      * first, as the pax comment of a root entry "./" */
};

/*
 * Writes the merge of the NLAYERS layer directories LAYERS (top first) as one layer tar
 * to OUT_FD. Fills *INFO (its digests when O->digests). Returns 0 or -1 (reported).
 */
int oci_tar_write(const int *layers, size_t nlayers, int out_fd, const struct oci_write_opts *o,
		  struct oci_blob_info *info);

/* What oci_entry_check is told about one archive entry. */
struct oci_entry {
	const char *path;      /* as in the archive */
	mode_t type;           /* S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK, ... */
	mode_t perm;           /* the permission bits, setuid/setgid/sticky included */
	int64_t size;
	const char *hardlink;  /* the target of a hard link entry, or NULL */
	const char *const *xattrs; /* the names of its xattrs */
	size_t nxattrs;
};

enum oci_check {
	OCI_OK = 0,
	OCI_BAD_ABSOLUTE,      /* "absolute path" */
	OCI_BAD_DOTDOT,        /* "climbs with .." */
	OCI_BAD_EMPTY,         /* "empty path" */
	OCI_BAD_DEVICE,        /* "device node" */
	OCI_BAD_TYPE,          /* "unsupported entry type" */
	OCI_BAD_WHITEOUT,      /* ".wh. entry that is not an empty regular file" */
	OCI_BAD_WH_META,       /* "reserved .wh..wh. name" */
	OCI_BAD_FVM_XATTR,     /* "fvm's own xattr" */
	OCI_BAD_LONG,          /* "path too long" */
	OCI_PRIVILEGED,        /* setuid/setgid or security.capability: kept only when allowed */
};

/* What is wrong with an entry (OCI_BAD_*: refused; OCI_PRIVILEGED: strip or keep). */
enum oci_check oci_entry_check(const struct oci_entry *e);
const char *oci_check_str(enum oci_check c);

/*
 * Normalises an archive path into OUT (LEN bytes): "./" and repeated or trailing
 * slashes dropped; "" for the root itself. Returns 0, or the enum oci_check why not.
 */
enum oci_check oci_path_clean(const char *path, char *out, size_t len);

struct oci_apply_opts {
	bool allow_privileged; /* keep setuid/setgid bits and security.capability */
	uint64_t max_size;     /* refuse an archive expanding past this many bytes */
	bool chown;            /* apply the archive's owners (root) */
	bool progress;
	uint64_t total;        /* the archive's size for the ETA, or 0 */
	char **origins;        /* when not NULL: the origins in the pax comment opening
				* the tar (malloc'd), or NULL if none (origins_move.h) */
};

struct oci_digest_check {
	const char *digest;    /* expected sha256 of the blob (hex), or NULL */
	const char *diff_id;   /* expected sha256 of the uncompressed tar, or NULL */
	uint64_t size;         /* expected blob size, when DIGEST is given */
};

/*
 * Reads one layer tar (compressed or not) from IN_FD into the layer directory LAYER_FD.
 * Whiteouts and opaque markers apply to what LAYER_FD held before and are kept, as the
 * host beneath may have the names. When WANT gives digests, a mismatch is an error.
 * SHOWN names the input in messages. Fills *INFO (its digests, what was read, only
 * when WANT names digests: a plain tar is not hashed).
 * Returns 0, or -1 (reported, naming the entry): LAYER_FD is then half-written and
 * the caller removes it.
 */
int oci_tar_apply(int in_fd, const char *shown, int layer_fd, const struct oci_apply_opts *o,
		  const struct oci_digest_check *want, struct oci_blob_info *info);

/* ---- the OCI image layout ---- */

struct oci_image_meta {
	const char *vm;            /* the VM's name */
	const char *os_id, *os_version; /* the host's, from os-release (may be NULL) */
	const char *arch;          /* OCI architecture name (amd64, arm64, ...) */
	long long created;         /* seconds since the epoch */
	const char *origins;       /* the origins records (text, one per line), or NULL */
};

/*
 * Writes the NLAYERS layer tar blobs already in DIR/blobs/sha256/ (each at its
 * LAYERS[i].digest, see oci_layout_blob_tmp; bottom first, as rootfs.diff_ids) into the
 * layout DIR as image TAG: the config, the manifest (each layer's descriptor annotated
 * with LABELS[i] when not empty), and index.json (an entry of the same TAG replaced,
 * others kept); oci-layout made if missing. Returns 0 or -1 (reported).
 */
int oci_layout_write(const char *dir, const char *tag, const struct oci_blob_info *layers,
		     const char *const *labels, size_t nlayers, enum oci_compress compress,
		     const struct oci_image_meta *meta);

/* Opens DIR/blobs/sha256 (made) and a new temporary blob in it. fd or -1 (reported). */
int oci_layout_blob_tmp(const char *dir, int *blobs_fd, char *tmp, size_t len);

/* One layer of an image read from a layout. */
struct oci_layer_ref {
	char digest[OCI_DIGEST_HEX];
	char diff_id[OCI_DIGEST_HEX];
	uint64_t size;
	char label[128];           /* its org.fvm.layer.label annotation, or "" */
};

struct oci_image {
	struct oci_layer_ref *layers;
	size_t nlayers;
	char *origins;             /* from the config, or NULL */
	char *vm;                  /* the VM name annotation, or NULL */
};

/*
 * Parses the three JSON documents of an image: INDEX (index.json) to the manifest of TAG
 * (NULL: the only manifest), whose digest and size go to *MDIGEST and *MSIZE. Returns 0 or
 * the reason as a static string in *WHY (-1). Untrusted input: fuzzed.
 */
int oci_index_parse(const char *index, size_t len, const char *tag, char mdigest[OCI_DIGEST_HEX],
		    uint64_t *msize, const char **why);
/* The MANIFEST to its config's digest/size and its layers (into IMG). */
int oci_manifest_parse(const char *manifest, size_t len, char cdigest[OCI_DIGEST_HEX],
		       uint64_t *csize, struct oci_image *img, const char **why);
/* The CONFIG: its diff_ids must match the manifest's layers in number; origins kept. */
int oci_config_parse(const char *config, size_t len, struct oci_image *img, const char **why);
void oci_image_free(struct oci_image *img);

/*
 * Reads image TAG of layout DIR (index, manifest and config, each checked against its
 * digest) into IMG and opens DIR/blobs/sha256 into *BLOBS_FD. Returns 0 or -1 (reported).
 */
int oci_layout_read(const char *dir, const char *tag, struct oci_image *img, int *blobs_fd);

/*
 * Checks the layer blob open at FD against WANT (its size and digest, its diff_id after
 * decompression) without applying it: a layer the store has already, met again.
 * SHOWN names it in the message. Returns 0 or -1 (reported).
 */
int oci_blob_check(int fd, const char *shown, const struct oci_digest_check *want);

/* sha256 of what FD reads to its end into OUT, the bytes read into *SIZE (may be NULL).
 * Returns 0 or -errno. */
int oci_sha256_fd(int fd, char out[OCI_DIGEST_HEX], uint64_t *size);

/* sha256 of BUF as 64 hex digits. */
void oci_sha256_hex(const void *buf, size_t len, char out[OCI_DIGEST_HEX]);

#endif
