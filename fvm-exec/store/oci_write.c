/*
 * oci_write.c — layer directories merged into one OCI layer tar (oci_tar_write, oci.h).
 *
 * Rules:
 *  - the layers are read through directory fds, never through a link (safefs.h): an
 *    entry is named by its parent's fd and its name;
 *  - the walk is depth first and deterministic: in each directory the opaque marker,
 *    then the whiteouts, then the other names, each group sorted bytewise; a directory's
 *    entry comes before what it holds; no path is written twice;
 *  - of several layers, the topmost that names a path (an entry or a whiteout) wins; a
 *    directory whose lower layers are cut off (an opaque marker, a whiteout or a
 *    non-directory below it) is written opaque, as it hides the host's directory;
 *  - merged, a whiteout goes in only where the host has a name to hide; one layer of
 *    a stack (all_whiteouts) keeps every whiteout: it may hide a lower layer's name;
 *  - fvm's own xattrs (user.fvm.*) never leave the store;
 *  - the diff_id hashes the tar as produced, the blob digest the bytes written to the
 *    output, after the compressor (a raw-format libarchive writer with a filter).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "store/oci.h"
#include "store/progress.h"

#define IO_BUF (1 << 20)
#define OUT_BUF (1 << 20) /* libarchive hands out 10 KiB blocks: one write() per MiB */

struct wctx {
	struct archive *tar, *z;   /* the tar writer; the compressor after it, or NULL */
	EVP_MD_CTX *diff, *blob;
	int out_fd;
	const struct oci_write_opts *o;
	struct oci_blob_info *info;
	void *links;               /* tsearch tree of struct link_seen */
	char *buf;
	char *out;                 /* the output, written in OUT_BUF pieces */
	size_t nout;
	struct progress_bytes prog;
	bool failed;
};

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path;
};

static void hex(const unsigned char *d, char out[OCI_DIGEST_HEX])
{
	for (int i = 0; i < 32; i++) {
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	}
}

static void digest_end(EVP_MD_CTX *c, char out[OCI_DIGEST_HEX])
{
	unsigned char d[32];
	unsigned n = 0;

	EVP_DigestFinal_ex(c, d, &n);
	hex(d, out);
}

void oci_sha256_hex(const void *buf, size_t len, char out[OCI_DIGEST_HEX])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		errx(1, "OpenSSL: cannot hash");
	}
	EVP_DigestUpdate(c, buf, len);
	digest_end(c, out);
	EVP_MD_CTX_free(c);
}

int oci_sha256_fd(int fd, char out[OCI_DIGEST_HEX], uint64_t *size)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	char *buf = malloc(IO_BUF);
	uint64_t total = 0;
	ssize_t n = -1;
	int e = 0;

	if (!c || !buf || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c);
		free(buf);
		return -ENOMEM;
	}
	while ((n = read(fd, buf, IO_BUF)) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0) {
			EVP_DigestUpdate(c, buf, (size_t)n);
			total += (uint64_t)n;
		}
	}
	e = n < 0 ? -errno : 0;
	digest_end(c, out);
	EVP_MD_CTX_free(c);
	free(buf);
	if (size) {
		*size = total;
	}
	return e;
}

static int write_all(int fd, const void *buf, size_t n)
{
	for (const char *p = buf; n;) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int flush_out(struct wctx *w)
{
	if (w->nout && write_all(w->out_fd, w->out, w->nout) < 0) {
		warn("export: writing the archive");
		return -1;
	}
	w->nout = 0;
	return 0;
}

/* The blob's bytes: hashed, counted, buffered, written. */
static la_ssize_t blob_out(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct wctx *w = arg;

	(void)a;
	if (w->o->digests && w->z) { /* uncompressed, the blob is the tar: hashed once */
		EVP_DigestUpdate(w->blob, buf, n);
	}
	w->info->size += n;
	if (w->nout + n > OUT_BUF && flush_out(w) < 0) {
		return -1;
	}
	if (n >= OUT_BUF) {
		if (write_all(w->out_fd, buf, n) < 0) {
			warn("export: writing the archive");
			return -1;
		}
	} else {
		memcpy(w->out + w->nout, buf, n);
		w->nout += n;
	}
	return (la_ssize_t)n;
}

/* The tar's bytes: hashed (diff_id), then to the compressor or straight out. */
static la_ssize_t tar_out(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct wctx *w = arg;

	if (w->o->digests) {
		EVP_DigestUpdate(w->diff, buf, n);
	}
	if (!w->z) {
		return blob_out(a, arg, buf, n);
	}
	if (archive_write_data(w->z, buf, n) < 0) {
		warnx("export: compressing: %s", archive_error_string(w->z));
		return -1;
	}
	return (la_ssize_t)n;
}

/* V (< 8^11) as 11 octal digits and a NUL at F. */
static void octal_field(char *f, unsigned long long v)
{
	for (int i = 10; i >= 0; i--, v >>= 3) {
		f[i] = (char)('0' + (v & 7));
	}
	f[11] = '\0';
}

/* A ustar header block at H: NAME, TYPE, the numbers given; its checksum made. */
static void ustar_block(char *h, const char *name, char type, unsigned long long mode, unsigned long long uid,
			unsigned long long gid, unsigned long long size, unsigned long long mtime)
{
	unsigned sum = 0;

	snprintf(h, 100, "%s", name);
	memset(h + 100, 0, 24);
	snprintf(h + 100, 8, "%07llo", mode & 07777777);
	snprintf(h + 108, 8, "%07llo", uid & 07777777);
	snprintf(h + 116, 8, "%07llo", gid & 07777777);
	octal_field(h + 124, size);
	octal_field(h + 136, mtime);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++) {
		sum += (unsigned char)h[i];
	}
	snprintf(h + 148, 8, "%06o", sum);
}

/*
 * The origins (origins_move.h) at the start of the tar: a pax extended header whose one
 * record is "comment=TEXT" (POSIX: a comment every reader ignores), for the entry "./",
 * the root, with the mode, owner and time of the top layer's root (ROOT_FD). libarchive
 * writes no header of a given record, so these two blocks are made here; they go
 * through tar_out like the rest (hashed, compressed). An importer skips the root entry.
 */
static int write_origins_header(struct wctx *w, const char *text, int root_fd)
{
	static const char key[] = " comment=";
	size_t tl = strlen(text), body, len, digits = 1, blocks;
	unsigned long long mt, uid, gid;
	struct stat st;
	char *buf;

	if (fstat(root_fd, &st) < 0) {
		warn("export: the layer's root");
		return -1;
	}
	/* A record is "LEN comment=TEXT\n", LEN counting its own digits. */
	body = sizeof(key) - 1 + tl + 1;
	for (size_t p = 10; body + digits >= p; p *= 10) {
		digits++;
	}
	len = body + digits;
	mt = (unsigned long long)(w->o->clamp && st.st_mtim.tv_sec > w->o->mtime ? w->o->mtime : st.st_mtim.tv_sec);
	uid = st.st_uid > 07777777 ? 0 : st.st_uid;
	gid = st.st_gid > 07777777 ? 0 : st.st_gid;
	if (len > 077777777777ULL || mt > 077777777777ULL) {
		warnx("export: the origins are too big for a tar header");
		return -1;
	}
	blocks = 512 + (len + 511) / 512 * 512 + 512;
	if (!(buf = calloc(1, blocks))) {
		warnx("export: out of memory");
		return -1;
	}
	ustar_block(buf, "PaxHeader/fvm-origins", 'x', 0644, uid, gid, len, mt);
	snprintf(buf + 512, len + 1, "%zu%s%s\n", len, key, text);
	ustar_block(buf + blocks - 512, "./", '5', st.st_mode & 07777, uid, gid, 0, mt);
	int r = tar_out(w->tar, w, buf, blocks) == (la_ssize_t)blocks ? 0 : -1;
	if (r == 0) {
		w->info->files++;
	}
	free(buf);
	return r;
}

static int link_cmp(const void *a, const void *b)
{
	const struct link_seen *x = a, *y = b;

	if (x->dev != y->dev) {
		return x->dev < y->dev ? -1 : 1;
	}
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* One name of a merged directory: its layer, and whether it is a whiteout there. */
struct mname {
	char *name;     /* the name hidden or held (".wh." stripped for a whiteout) */
	size_t layer;
	bool whiteout;
};

static int mname_cmp(const void *a, const void *b)
{
	const struct mname *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c) {
		return c;
	}
	if (x->layer != y->layer) {
		return x->layer < y->layer ? -1 : 1;
	}
	/* NAME beside .wh.NAME in one layer: the entry wins (made over its whiteout). */
	return (int)x->whiteout - (int)y->whiteout;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Copies xattrs of NAME in PFD (not user.fvm.*), sorted by name, onto E. */
static int add_xattrs(struct wctx *w, int pfd, const char *name, const char *shown,
		      struct archive_entry *e)
{
	char path[64 + NAME_MAX], list[65536];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pfd, name);
	n = llistxattr(path, list, sizeof(list));
	if (n < 0) {
		if (errno == ENOTSUP) {
			return 0;
		}
		warn("export: %s: xattrs", shown);
		return -1;
	}
	const char *names[512];
	size_t k = 0;
	for (char *p = list; p < list + n && k < 512; p += strlen(p) + 1) {
		if (strncmp(p, "user.fvm.", 9) != 0) {
			names[k++] = p;
		}
	}
	qsort(names, k, sizeof(names[0]), str_cmp);
	for (size_t i = 0; i < k; i++) {
		ssize_t vn = lgetxattr(path, names[i], w->buf, IO_BUF);
		if (vn < 0) {
			warn("export: %s: xattr %s", shown, names[i]);
			return -1;
		}
		archive_entry_xattr_add_entry(e, names[i], w->buf, (size_t)vn);
	}
	return 0;
}

/* The entry's time: its own, or the clamp when it is later. */
static void set_time(struct wctx *w, struct archive_entry *e, const struct stat *st)
{
	long long s = st->st_mtim.tv_sec;
	long ns = st->st_mtim.tv_nsec;

	if (w->o->clamp && s >= w->o->mtime) {
		s = w->o->mtime;
		ns = 0;
	}
	archive_entry_set_mtime(e, s, ns);
}

static int write_header(struct wctx *w, struct archive_entry *e, const char *path)
{
	if (archive_write_header(w->tar, e) < ARCHIVE_WARN) {
		warnx("export: %s: %s", path, archive_error_string(w->tar));
		return -1;
	}
	w->info->files++;
	progress_bytes(&w->prog, w->info->files, w->info->bytes);
	return 0;
}

/* An empty regular file named PATH (a whiteout or an opaque marker). */
static int write_marker(struct wctx *w, const char *path, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, st ? st->st_mode & 0777 : 0644);
	archive_entry_set_size(e, 0);
	if (st) {
		archive_entry_set_uid(e, st->st_uid);
		archive_entry_set_gid(e, st->st_gid);
		set_time(w, e, st);
	}
	r = write_header(w, e, path);
	archive_entry_free(e);
	return r;
}

/* A regular file's content, from NAME of PFD, into the tar. */
static int write_content(struct wctx *w, int pfd, const char *name, const char *path, off_t size)
{
	int fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	off_t left = size;

	if (fd < 0) {
		warn("export: %s", path);
		return -1;
	}
	while (left > 0) {
		ssize_t n = read(fd, w->buf, left < IO_BUF ? (size_t)left : IO_BUF);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			/* The file shrank while read: the tar still needs its declared size. */
			warnx("export: %s: changed while read", path);
			close(fd);
			return -1;
		}
		if (archive_write_data(w->tar, w->buf, (size_t)n) < 0) {
			warnx("export: %s: %s", path, archive_error_string(w->tar));
			close(fd);
			return -1;
		}
		left -= n;
		w->info->bytes += (uint64_t)n;
		progress_bytes(&w->prog, w->info->files, w->info->bytes);
	}
	close(fd);
	return 0;
}

/* One non-whiteout entry NAME of layer directory PFD, at tar path PATH. */
static int write_entry(struct wctx *w, int pfd, const char *name, const char *path, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();
	int r = -1;
	bool content = false;

	archive_entry_set_pathname(e, path);
	archive_entry_set_mode(e, st->st_mode);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	set_time(w, e, st);
	if (S_ISREG(st->st_mode)) {
		struct link_seen key = {st->st_dev, st->st_ino, NULL}, **seen = NULL;
		if (st->st_nlink > 1 && (seen = tfind(&key, &w->links, link_cmp))) {
			archive_entry_set_hardlink(e, (*seen)->path);
			archive_entry_set_size(e, 0);
		} else {
			archive_entry_set_size(e, st->st_size);
			content = st->st_size > 0;
			if (st->st_nlink > 1) {
				struct link_seen *l = malloc(sizeof(*l));
				if (!l || !(l->path = strdup(path)) || !tsearch(l, &w->links, link_cmp)) {
					warnx("export: out of memory");
					goto out;
				}
				l->dev = st->st_dev;
				l->ino = st->st_ino;
			}
		}
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(pfd, name, w->buf, PATH_MAX);
		if (n < 0 || n >= PATH_MAX) {
			warn("export: %s: readlink", path);
			goto out;
		}
		w->buf[n] = '\0';
		archive_entry_set_symlink(e, w->buf);
	} else if (!S_ISDIR(st->st_mode) && !S_ISFIFO(st->st_mode)) {
		warnx("export: %s: a socket or device in the layer is left out", path);
		r = 0;
		goto out;
	}
	if (add_xattrs(w, pfd, name, path, e) < 0 || write_header(w, e, path) < 0) {
		goto out;
	}
	r = content ? write_content(w, pfd, name, path, st->st_size) : 0;
out:
	archive_entry_free(e);
	return r;
}

/* Reads the names of directory fd DFD (layer LAYER) onto V. *OPAQUE when it has the marker. */
static int read_names(int dfd, size_t layer, struct mname **v, size_t *n, size_t *cap, bool *opaque)
{
	int d2 = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = d2 < 0 ? NULL : fdopendir(d2);
	struct dirent *de;

	if (!d) {
		if (d2 >= 0) {
			close(d2);
		}
		return -1;
	}
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		bool wh = false;
		if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0) {
			continue;
		}
		if (strcmp(nm, FVM_WH_OPAQUE) == 0) {
			*opaque = true;
			continue;
		}
		if (strncmp(nm, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN) == 0) {
			nm += FVM_WH_PREFIX_LEN;
			wh = true;
		}
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			struct mname *nv = realloc(*v, *cap * sizeof(**v));
			if (!nv) {
				closedir(d);
				return -1;
			}
			*v = nv;
		}
		(*v)[*n] = (struct mname){strdup(nm), layer, wh};
		if (!(*v)[(*n)++].name) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int walk(struct wctx *w, const char *rel, int *fds, size_t nlayers, bool force_opaque);

/* Joins REL and NAME into OUT. -1 when too long (reported). */
static int join(const char *rel, const char *name, char *out)
{
	if (snprintf(out, PATH_MAX, "%s%s%s", rel, *rel ? "/" : "", name) >= PATH_MAX) {
		warnx("export: %s/%s: path too long", rel, name);
		return -1;
	}
	return 0;
}

/*
 * True when the host has no entry REL/NAME (REL relative to "/"): a whiteout there hid
 * only a lower layer's entry (a file a snapshot held, deleted since), which the merged
 * layer does not hold either, as upper/ alone would not.
 */
static bool host_lacks(const char *rel, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "/%s%s%s", rel, *rel ? "/" : "", name) >= (int)sizeof(p)) {
		return false;
	}
	return lstat(p, &st) < 0 && (errno == ENOENT || errno == ENOTDIR);
}

/* Writes the merged directory REL, whose layers' fds are FDS (-1: absent), top first. */
static int walk(struct wctx *w, const char *rel, int *fds, size_t nlayers, bool force_opaque)
{
	struct mname *v = NULL;
	size_t n = 0, cap = 0;
	bool opaque = force_opaque;
	struct stat st;
	char path[PATH_MAX];
	int r = -1, opq_layer = -1;

	for (size_t i = 0; i < nlayers; i++) {
		bool o = false;
		if (fds[i] < 0) {
			continue;
		}
		if (read_names(fds[i], i, &v, &n, &cap, &o) < 0) {
			warn("export: %s/", rel);
			goto out;
		}
		if (o) {
			opaque = true;
			opq_layer = (int)i;
			for (size_t j = i + 1; j < nlayers; j++) {
				fds[j] = -1; /* hidden below the marker */
			}
			break;
		}
	}
	qsort(v, n, sizeof(*v), mname_cmp);
	if (opaque && *rel) {
		if (join(rel, FVM_WH_OPAQUE, path) < 0) {
			goto out;
		}
		bool have = opq_layer >= 0 &&
			    fstatat(fds[opq_layer], FVM_WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if (write_marker(w, path, have ? &st : NULL) < 0) {
			goto out;
		}
	}
	/* The whiteouts first; the topmost record of each name decides. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && strcmp(v[i].name, v[i - 1].name) == 0) {
				continue; /* a lower layer's record of a name already decided */
			}
			if (v[i].whiteout != (pass == 0)) {
				continue;
			}
			int pfd = fds[v[i].layer];
			if (v[i].whiteout) {
				char wh[NAME_MAX + 1];
				if (opaque || (!w->o->all_whiteouts && host_lacks(rel, v[i].name))) {
					continue; /* the host has nothing there to hide */
				}
				snprintf(wh, sizeof(wh), FVM_WH_PREFIX "%s", v[i].name);
				if (join(rel, wh, path) < 0 ||
				    fstatat(pfd, wh, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    write_marker(w, path, &st) < 0) {
					goto out;
				}
				continue;
			}
			if (join(rel, v[i].name, path) < 0) {
				goto out;
			}
			if (fstatat(pfd, v[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				warn("export: %s", path);
				goto out;
			}
			if (write_entry(w, pfd, v[i].name, path, &st) < 0) {
				goto out;
			}
			if (!S_ISDIR(st.st_mode)) {
				continue;
			}
			/* Beneath: the layers from this one down, while they hold a directory. */
			int sub[nlayers];
			bool cut = false;
			for (size_t j = 0; j < nlayers; j++) {
				sub[j] = -1;
			}
			for (size_t k = i; k < n && strcmp(v[k].name, v[i].name) == 0; k++) {
				struct stat ls;
				if (v[k].whiteout || fstatat(fds[v[k].layer], v[k].name, &ls, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISDIR(ls.st_mode)) {
					cut = true;
					break;
				}
				sub[v[k].layer] = openat(fds[v[k].layer], v[k].name,
							 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub[v[k].layer] < 0) {
					warn("export: %s", path);
					cut = true;
					r = -2;
					break;
				}
			}
			int wr = r == -2 ? -1 : walk(w, path, sub, nlayers, cut);
			for (size_t j = 0; j < nlayers; j++) {
				if (sub[j] >= 0) {
					close(sub[j]);
				}
			}
			if (wr < 0) {
				r = -1;
				goto out;
			}
		}
	}
	r = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
	}
	free(v);
	return r;
}

static void link_free(void *p)
{
	struct link_seen *l = p;

	free(l->path);
	free(l);
}

/* The compressor: a raw-format writer with the filter, out to blob_out. */
static struct archive *compressor(struct wctx *w)
{
	struct archive *z = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int r = z && e ? ARCHIVE_OK : ARCHIVE_FATAL;

	if (r == ARCHIVE_OK) {
		r = archive_write_set_format_raw(z);
	}
	if (r == ARCHIVE_OK) {
		r = w->o->compress == OCI_COMPRESS_GZIP ? archive_write_add_filter_gzip(z)
							: archive_write_add_filter_zstd(z);
	}
	/* gzip's header time would make two exports differ. */
	if (r == ARCHIVE_OK && w->o->compress == OCI_COMPRESS_GZIP) {
		r = archive_write_set_filter_option(z, "gzip", "timestamp", NULL);
	}
	if (r == ARCHIVE_OK) {
		archive_write_set_bytes_in_last_block(z, 1);
		r = archive_write_open(z, w, NULL, blob_out, NULL);
	}
	if (r == ARCHIVE_OK) {
		archive_entry_set_pathname(e, "layer.tar");
		archive_entry_set_filetype(e, AE_IFREG);
		r = archive_write_header(z, e);
	}
	archive_entry_free(e);
	if (r != ARCHIVE_OK) {
		warnx("export: the compressor: %s", z ? archive_error_string(z) : "out of memory");
		archive_write_free(z);
		return NULL;
	}
	return z;
}

int oci_tar_write(const int *layers, size_t nlayers, int out_fd, const struct oci_write_opts *o,
		  struct oci_blob_info *info)
{
	struct wctx w = {.out_fd = out_fd, .o = o, .info = info};
	int fds[nlayers ? nlayers : 1], r = -1;

	memset(info, 0, sizeof(*info));
	w.buf = malloc(IO_BUF);
	w.out = malloc(OUT_BUF);
	w.diff = EVP_MD_CTX_new();
	w.blob = EVP_MD_CTX_new();
	if (!w.buf || !w.out || !w.diff || !w.blob || !EVP_DigestInit_ex(w.diff, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(w.blob, EVP_sha256(), NULL)) {
		warnx("export: out of memory");
		goto out;
	}
	progress_bytes_start(&w.prog, "export", o->total, o->progress);
	if (o->compress != OCI_COMPRESS_NONE && !(w.z = compressor(&w))) {
		goto out;
	}
	w.tar = archive_write_new();
	if (!w.tar || archive_write_set_format_pax(w.tar) != ARCHIVE_OK ||
	    archive_write_set_format_option(w.tar, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
	    archive_write_open(w.tar, &w, NULL, tar_out, NULL) != ARCHIVE_OK) {
		warnx("export: %s", w.tar ? archive_error_string(w.tar) : "out of memory");
		goto out;
	}
	if (o->origins && *o->origins && nlayers && write_origins_header(&w, o->origins, layers[0]) < 0) {
		goto out;
	}
	for (size_t i = 0; i < nlayers; i++) {
		fds[i] = layers[i];
	}
	if (walk(&w, "", fds, nlayers, false) < 0) {
		goto out;
	}
	if (archive_write_close(w.tar) != ARCHIVE_OK) {
		warnx("export: %s", archive_error_string(w.tar));
		goto out;
	}
	if (w.z && archive_write_close(w.z) != ARCHIVE_OK) {
		warnx("export: compressing: %s", archive_error_string(w.z));
		goto out;
	}
	if (flush_out(&w) < 0) {
		goto out;
	}
	if (o->digests) {
		digest_end(w.diff, info->diff_id);
		if (w.z) {
			digest_end(w.blob, info->digest);
		} else {
			memcpy(info->digest, info->diff_id, OCI_DIGEST_HEX);
		}
	}
	r = 0;
out:
	progress_bytes_end(&w.prog);
	archive_write_free(w.tar);
	archive_write_free(w.z);
	EVP_MD_CTX_free(w.diff);
	EVP_MD_CTX_free(w.blob);
	tdestroy(w.links, link_free);
	free(w.buf);
	free(w.out);
	return r;
}
