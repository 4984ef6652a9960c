/*
 * oci_layout.c — the OCI image layout (image-spec v1.0): written by fvm export --oci,
 * read by fvm import oci:DIR[:TAG] (oci.h). JSON through jansson, never by hand.
 *
 * Rules:
 *  - the layout written: oci-layout, blobs/sha256/DIGEST for the layer, the config and
 *    the manifest, index.json naming the manifest by org.opencontainers.image.ref.name
 *    = TAG (an older entry of that tag dropped, other tags kept). Every file is written
 *    to a temporary and renamed: a reader never sees half a blob or index;
 *  - the config carries rootfs.diff_ids and, under "fvm.origins", the origins records
 *    of the VM's copied-up files (they travel with the image: the importing host's
 *    files are compared against them); the manifest's annotations name the host
 *    (os-release ID, VERSION_ID, architecture), the VM and its layers' labels (also
 *    on each layer's descriptor, org.fvm.layer.label, which an import keeps);
 *  - reading, every document is bounded in size, parsed by oci_*_parse (fuzzed) and
 *    checked against the digest and size that named it; a digest is "sha256:" and 64
 *    lowercase hex digits, so it is safe as a file name.
 * jansson's json_string() is never called: fvm's manage/json.c defines a function of
 * that name, which the link would pick; json_stringn() and json_pack() are used instead.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/oci.h"
#include "store/safefs.h"

#define MT_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MT_LAYER    "application/vnd.oci.image.layer.v1.tar"
#define REF_NAME    "org.opencontainers.image.ref.name"
#define ORIGINS_KEY "fvm.origins"
#define LABEL_KEY   "org.fvm.layer.label"
#define MAX_DOC     ((size_t)64 << 20)

/* "sha256:HEX" with 64 lowercase hex digits: HEX into OUT. */
static bool digest_parse(const char *s, char out[OCI_DIGEST_HEX])
{
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s + 7) != 64) {
		return false;
	}
	for (const char *p = s + 7; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
			return false;
		}
	}
	memcpy(out, s + 7, OCI_DIGEST_HEX);
	return true;
}

static bool size_parse(json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		return false;
	}
	*out = (uint64_t)json_integer_value(v);
	return true;
}

int oci_index_parse(const char *index, size_t len, const char *tag, char mdigest[OCI_DIGEST_HEX],
		    uint64_t *msize, const char **why)
{
	json_t *root = json_loadb(index, len, JSON_REJECT_DUPLICATES, NULL), *ms, *m;
	size_t i, found = 0;
	int r = -1;

	*why = "index.json is not JSON";
	if (!root) {
		return -1;
	}
	ms = json_object_get(root, "manifests");
	*why = "index.json has no manifests";
	if (!json_is_array(ms)) {
		goto out;
	}
	json_array_foreach(ms, i, m) {
		const char *ref = json_string_value(json_object_get(json_object_get(m, "annotations"), REF_NAME));
		if (tag ? !(ref && strcmp(ref, tag) == 0) : json_array_size(ms) != 1) {
			continue;
		}
		*why = "the manifest's descriptor is malformed";
		if (!digest_parse(json_string_value(json_object_get(m, "digest")), mdigest) ||
		    !size_parse(json_object_get(m, "size"), msize)) {
			goto out;
		}
		found++;
	}
	*why = tag ? "no manifest of that tag in index.json" : "index.json names several images: give a tag";
	if (found == 1) {
		r = 0;
	} else if (found > 1) {
		*why = "index.json names that tag twice";
	}
out:
	json_decref(root);
	return r;
}

int oci_manifest_parse(const char *manifest, size_t len, char cdigest[OCI_DIGEST_HEX],
		       uint64_t *csize, struct oci_image *img, const char **why)
{
	json_t *root = json_loadb(manifest, len, JSON_REJECT_DUPLICATES, NULL), *ls, *l, *c;
	size_t i;
	int r = -1;

	*why = "the manifest is not JSON";
	if (!root) {
		return -1;
	}
	c = json_object_get(root, "config");
	ls = json_object_get(root, "layers");
	*why = "the manifest's config or layers are malformed";
	if (!json_is_object(c) || !json_is_array(ls) || json_array_size(ls) > 4096 ||
	    !digest_parse(json_string_value(json_object_get(c, "digest")), cdigest) ||
	    !size_parse(json_object_get(c, "size"), csize)) {
		goto out;
	}
	const char *an = json_string_value(json_object_get(json_object_get(root, "annotations"), "org.fvm.vm.name"));
	if (an && !(img->vm = strdup(an))) {
		goto out;
	}
	free(img->layers);
	img->nlayers = 0;
	img->layers = calloc(json_array_size(ls) + 1, sizeof(*img->layers));
	if (!img->layers) {
		goto out;
	}
	json_array_foreach(ls, i, l) {
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		*why = "a layer's media type is not an OCI tar layer (tar, tar+gzip, tar+zstd)";
		if (!mt || (strcmp(mt, MT_LAYER) != 0 && strcmp(mt, MT_LAYER "+gzip") != 0 &&
			    strcmp(mt, MT_LAYER "+zstd") != 0 &&
			    strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar.gzip") != 0)) {
			goto out;
		}
		*why = "a layer's descriptor is malformed";
		if (!digest_parse(json_string_value(json_object_get(l, "digest")), img->layers[i].digest) ||
		    !size_parse(json_object_get(l, "size"), &img->layers[i].size)) {
			goto out;
		}
		const char *lab = json_string_value(json_object_get(json_object_get(l, "annotations"), LABEL_KEY));
		if (lab) {
			/* Shown and stored as one line: control characters become '?'. */
			snprintf(img->layers[i].label, sizeof(img->layers[i].label), "%s", lab);
			for (char *p = img->layers[i].label; *p; p++) {
				if ((unsigned char)*p < 0x20 || *p == 0x7f) {
					*p = '?';
				}
			}
		}
		img->nlayers++;
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

int oci_config_parse(const char *config, size_t len, struct oci_image *img, const char **why)
{
	json_t *root = json_loadb(config, len, JSON_REJECT_DUPLICATES, NULL), *ids, *id, *orig;
	size_t i;
	int r = -1;

	*why = "the config is not JSON";
	if (!root) {
		return -1;
	}
	ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	*why = "the config's rootfs.diff_ids do not match the manifest's layers";
	if (!json_is_array(ids) || json_array_size(ids) != img->nlayers) {
		goto out;
	}
	json_array_foreach(ids, i, id) {
		if (!digest_parse(json_string_value(id), img->layers[i].diff_id)) {
			goto out;
		}
	}
	orig = json_object_get(root, ORIGINS_KEY);
	*why = "the config's fvm.origins is not a string";
	if (orig && !json_is_string(orig)) {
		goto out;
	}
	if (orig) {
		free(img->origins);
		img->origins = strndup(json_string_value(orig), json_string_length(orig));
		if (!img->origins) {
			goto out;
		}
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

void oci_image_free(struct oci_image *img)
{
	free(img->layers);
	free(img->origins);
	free(img->vm);
	memset(img, 0, sizeof(*img));
}

/* Writes BUF as blob sha256:HEX in BLOBS_FD (temp + rename). */
static int blob_put(int blobs_fd, const char *dir, const void *buf, size_t len, char hex[OCI_DIGEST_HEX])
{
	char tmp[NAME_MAX + 1];
	int fd;

	oci_sha256_hex(buf, len, hex);
	if ((fd = safe_temp_create(blobs_fd, hex, 0644, tmp, sizeof(tmp))) < 0) {
		warnx("%s/blobs/sha256: %s", dir, strerror(-fd));
		return -1;
	}
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0 ||
	    renameat(blobs_fd, tmp, blobs_fd, hex) < 0) {
		warn("%s/blobs/sha256/%s", dir, hex);
		unlinkat(blobs_fd, tmp, 0);
		return -1;
	}
	return 0;
}

/* Writes JSON J as NAME of DIRFD (temp + rename). */
static int json_put(int dirfd, const char *dir, const char *name, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	char tmp[NAME_MAX + 1];
	int fd, r = -1;

	if (!text) {
		warnx("%s/%s: out of memory", dir, name);
		return -1;
	}
	if ((fd = safe_temp_create(dirfd, name, 0644, tmp, sizeof(tmp))) < 0) {
		warnx("%s/%s: %s", dir, name, strerror(-fd));
	} else if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0 ||
		   renameat(dirfd, tmp, dirfd, name) < 0) {
		warn("%s/%s", dir, name);
		unlinkat(dirfd, tmp, 0);
	} else {
		r = 0;
	}
	free(text);
	return r;
}

static int open_layout(const char *dir, bool create)
{
	int fd;

	if (create && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		warn("%s", dir);
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		warn("%s", dir);
	}
	return fd;
}

int oci_layout_blob_tmp(const char *dir, int *blobs_fd, char *tmp, size_t len)
{
	int dfd = open_layout(dir, true), fd;

	*blobs_fd = -1;
	if (dfd < 0) {
		return -1;
	}
	if ((mkdirat(dfd, "blobs", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(dfd, "blobs/sha256", 0755) < 0 && errno != EEXIST) ||
	    (*blobs_fd = safe_open_dir(dfd, "blobs/sha256")) < 0) {
		warnx("%s/blobs/sha256: %s", dir, strerror(*blobs_fd < -1 ? -*blobs_fd : errno));
		*blobs_fd = -1;
		close(dfd);
		return -1;
	}
	close(dfd);
	if ((fd = safe_temp_create(*blobs_fd, "layer", 0644, tmp, len)) < 0) {
		warnx("%s/blobs/sha256: %s", dir, strerror(-fd));
		close(*blobs_fd);
		*blobs_fd = -1;
		return -1;
	}
	return fd;
}

static const char *layer_type(enum oci_compress c)
{
	switch (c) {
	case OCI_COMPRESS_NONE: return MT_LAYER;
	case OCI_COMPRESS_GZIP: return MT_LAYER "+gzip";
	case OCI_COMPRESS_ZSTD: return MT_LAYER "+zstd";
	}
	return MT_LAYER;
}

static json_t *descriptor(const char *mt, const char *hex, uint64_t size)
{
	char d[8 + OCI_DIGEST_HEX];

	snprintf(d, sizeof(d), "sha256:%s", hex);
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", d, "size", (json_int_t)size);
}

int oci_layout_write(const char *dir, const char *tag, const struct oci_blob_info *layers,
		     const char *const *labels, size_t nlayers, enum oci_compress compress,
		     const struct oci_image_meta *m)
{
	char created[32], diff[8 + OCI_DIGEST_HEX], chex[OCI_DIGEST_HEX], mhex[OCI_DIGEST_HEX];
	json_t *config = NULL, *manifest = NULL, *index = NULL, *ann, *desc, *ids, *hist, *lds;
	char *ctext = NULL, *mtext = NULL, *alllabels = NULL;
	size_t alen = 0;
	int dfd = open_layout(dir, true), bfd = -1, r = -1;
	time_t t = (time_t)m->created;
	struct tm tm;
	FILE *mem;

	if (dfd < 0 || (bfd = safe_open_dir(dfd, "blobs/sha256")) < 0) {
		warnx("%s: cannot open blobs/sha256", dir);
		goto out;
	}
	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ids = json_array();
	hist = json_array();
	lds = json_array();
	if (!(mem = open_memstream(&alllabels, &alen))) {
		goto nomem;
	}
	for (size_t i = 0; ids && hist && lds && i < nlayers; i++) {
		const char *lab = labels && labels[i] ? labels[i] : "";
		snprintf(diff, sizeof(diff), "sha256:%s", layers[i].diff_id);
		json_array_append_new(ids, json_stringn(diff, strlen(diff)));
		json_array_append_new(hist, json_pack("{s:s, s:s}", "created", created, "created_by",
						      *lab ? lab : "fvm export"));
		desc = descriptor(layer_type(compress), layers[i].digest, layers[i].size);
		if (desc && *lab) {
			json_object_set_new(desc, "annotations", json_pack("{s:s%}", LABEL_KEY, lab, strlen(lab)));
		}
		json_array_append_new(lds, desc);
		fprintf(mem, "%s%s", i ? "\n" : "", lab);
	}
	fclose(mem);
	config = json_pack("{s:s, s:s, s:s, s:{s:s, s:o}, s:o, s:{s:{s:s}}}",
			   "created", created, "architecture", m->arch, "os", "linux",
			   "rootfs", "type", "layers", "diff_ids", ids,
			   "history", hist,
			   "config", "Labels", "org.fvm.vm.name", m->vm);
	if (config && m->origins && json_object_set_new(config, ORIGINS_KEY, json_stringn(m->origins, strlen(m->origins))) < 0) {
		goto nomem;
	}
	if (!config || !(ctext = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS)) ||
	    blob_put(bfd, dir, ctext, strlen(ctext), chex) < 0) {
		json_decref(lds);
		goto nomem;
	}
	ann = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s%}", "org.fvm.vm.name", m->vm,
			"org.fvm.host.os-id", m->os_id ? m->os_id : "",
			"org.fvm.host.os-version", m->os_version ? m->os_version : "",
			"org.fvm.host.architecture", m->arch,
			"org.opencontainers.image.created", created,
			"org.fvm.vm.labels", alllabels ? alllabels : "", alllabels ? strlen(alllabels) : 0);
	manifest = json_pack("{s:i, s:s, s:o, s:o, s:o}", "schemaVersion", 2, "mediaType", MT_MANIFEST,
			     "config", descriptor(MT_CONFIG, chex, strlen(ctext)),
			     "layers", lds, "annotations", ann);
	if (!manifest || !(mtext = json_dumps(manifest, JSON_COMPACT | JSON_SORT_KEYS)) ||
	    blob_put(bfd, dir, mtext, strlen(mtext), mhex) < 0) {
		goto nomem;
	}
	/* index.json: the other tags kept. */
	{
		char *old = NULL;
		size_t olen;
		int e = safe_read_file(dfd, "index.json", MAX_DOC, &old, &olen);
		if (e == 0) {
			index = json_loadb(old, olen, 0, NULL);
			free(old);
			if (!index || !json_is_array(json_object_get(index, "manifests"))) {
				warnx("%s/index.json: not an OCI index; not overwritten", dir);
				goto out;
			}
		} else if (e != -ENOENT) {
			warnx("%s/index.json: %s", dir, safe_strerror(e));
			goto out;
		} else {
			index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_INDEX, "manifests");
		}
	}
	json_t *ms = json_object_get(index, "manifests");
	for (size_t i = json_array_size(ms); i-- > 0;) {
		const char *ref = json_string_value(json_object_get(json_object_get(json_array_get(ms, i), "annotations"), REF_NAME));
		if (ref && strcmp(ref, tag) == 0) {
			json_array_remove(ms, i);
		}
	}
	desc = descriptor(MT_MANIFEST, mhex, strlen(mtext));
	if (!desc || json_object_set_new(desc, "annotations", json_pack("{s:s}", REF_NAME, tag)) < 0 ||
	    json_object_set_new(desc, "platform", json_pack("{s:s, s:s}", "architecture", m->arch, "os", "linux")) < 0 ||
	    json_array_append_new(ms, desc) < 0) {
		goto nomem;
	}
	json_t *lay = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
	if (!lay || json_put(dfd, dir, "oci-layout", lay) < 0 || json_put(dfd, dir, "index.json", index) < 0) {
		json_decref(lay);
		goto out;
	}
	json_decref(lay);
	r = 0;
	goto out;
nomem:
	warnx("%s: cannot write the image", dir);
out:
	json_decref(config);
	json_decref(manifest);
	json_decref(index);
	free(ctext);
	free(mtext);
	free(alllabels);
	if (bfd >= 0) {
		close(bfd);
	}
	if (dfd >= 0) {
		close(dfd);
	}
	return r;
}

/* Reads blob HEX of BLOBS_FD (at most MAX bytes), checked against its digest and SIZE. */
static int blob_get(int blobs_fd, const char *dir, const char *hex, uint64_t size, char **buf, size_t *len)
{
	char got[OCI_DIGEST_HEX];
	int e = safe_read_file(blobs_fd, hex, MAX_DOC, buf, len);

	if (e < 0) {
		warnx("%s/blobs/sha256/%s: %s", dir, hex, safe_strerror(e));
		return -1;
	}
	oci_sha256_hex(*buf, *len, got);
	if (strcmp(got, hex) != 0 || *len != size) {
		warnx("%s/blobs/sha256/%s: does not match its digest or size", dir, hex);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

int oci_layout_read(const char *dir, const char *tag, struct oci_image *img, int *blobs_fd)
{
	char *text = NULL, mhex[OCI_DIGEST_HEX], chex[OCI_DIGEST_HEX];
	size_t len;
	uint64_t msize, csize;
	const char *why;
	int dfd = open_layout(dir, false), e, r = -1;

	memset(img, 0, sizeof(*img));
	*blobs_fd = -1;
	if (dfd < 0) {
		return -1;
	}
	if ((e = safe_read_file(dfd, "index.json", MAX_DOC, &text, &len)) < 0) {
		warnx("%s/index.json: %s", dir, safe_strerror(e));
		goto out;
	}
	if (oci_index_parse(text, len, tag, mhex, &msize, &why) < 0) {
		warnx("%s: %s", dir, why);
		goto out;
	}
	free(text);
	text = NULL;
	if ((*blobs_fd = safe_open_dir(dfd, "blobs/sha256")) < 0) {
		warnx("%s/blobs/sha256: %s", dir, strerror(-*blobs_fd));
		*blobs_fd = -1;
		goto out;
	}
	if (blob_get(*blobs_fd, dir, mhex, msize, &text, &len) < 0) {
		goto out;
	}
	if (oci_manifest_parse(text, len, chex, &csize, img, &why) < 0) {
		warnx("%s: manifest %s: %s", dir, mhex, why);
		goto out;
	}
	free(text);
	text = NULL;
	if (blob_get(*blobs_fd, dir, chex, csize, &text, &len) < 0) {
		goto out;
	}
	if (oci_config_parse(text, len, img, &why) < 0) {
		warnx("%s: config %s: %s", dir, chex, why);
		goto out;
	}
	r = 0;
out:
	free(text);
	close(dfd);
	if (r < 0) {
		oci_image_free(img);
		if (*blobs_fd >= 0) {
			close(*blobs_fd);
			*blobs_fd = -1;
		}
	}
	return r;
}
