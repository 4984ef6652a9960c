/*
 * oci_apply.c — one OCI layer tar applied to a layer directory (oci_tar_apply, oci.h).
 *
 * Rules:
 *  - every entry passes oci_entry_check before anything of it is written; a refusal
 *    names the entry and stops the import (the caller removes the half-built layer);
 *  - the layer is reached through directory fds, each component opened O_NOFOLLOW: an
 *    entry whose path passes through a symlink (made by an earlier entry, or by an
 *    earlier layer of the image) is refused, never followed;
 *  - a directory the archive names where the host has a symlink to a directory (/lib on
 *    a merged-/usr system) lands beneath the link's target, as `tar
 *    --keep-directory-symlink` and dpkg do: the VM keeps the host's link;
 *  - a directory made only to hold an entry copies the host directory's mode (and, for
 *    root, owner), as libfvm's copy-up does;
 *  - ".wh.NAME" removes what the layer held at NAME and stays as the whiteout; an opaque
 *    marker empties the directory and stays; a name arriving over its whiteout drops
 *    the whiteout (a directory then becomes opaque: the host's is still hidden);
 *  - the content written is counted against max_size as it arrives (a header cannot
 *    lie its way past it); setuid/setgid and security.capability are dropped, with a
 *    warning, unless allow_privileged;
 *  - directories get their mode and times last (deepest first): a read-only directory
 *    still receives its entries;
 *  - the pax header opening the tar may carry the exporting VM's origins in a comment
 *    record (origins_move.h): the first bytes are looked at on their way to the tar
 *    reader (bounded; a malformed header or record is ignored, never an error);
 *  - the blob (as read) and the tar (decompressed) are hashed and compared with the
 *    expected digests at the end, after the whole input is consumed.
 */
#include <archive.h>
#include <archive_entry.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "store/safefs.h"

#define IO_BUF (1 << 20)

struct dir_fix {
	char *path;
	mode_t perm;
	struct timespec mtime;
};

struct actx {
	int in_fd, layer_fd;
	const char *shown;
	const struct oci_apply_opts *o;
	struct archive *raw, *tar;
	EVP_MD_CTX *diff, *blob;
	bool hash_blob, hash_diff;  /* a layer of an image is checked; a plain tar not */
	char *inbuf, *rawbuf;
	uint64_t in_bytes, written;
	struct oci_blob_info *info;
	struct dir_fix *dirs;
	size_t ndirs, capdirs;
	struct progress_bytes prog;
	void *made;                /* tsearch set of the paths this archive made */
	/* the last parent directory mapped by map_host_links, and what it became */
	char map_in[PATH_MAX], map_out[PATH_MAX];
	/* the parent directory of the last entry, kept open */
	char cur[PATH_MAX];
	int cur_fd;
	/* the tar's first bytes, while a pax global header is looked for (o->origins) */
	char *head;
	size_t nhead, need;
	bool head_done;
};

static void hex(const unsigned char *d, char out[OCI_DIGEST_HEX])
{
	for (int i = 0; i < 32; i++) {
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	}
}

/* The blob as read: hashed, counted. */
static la_ssize_t in_read(struct archive *a, void *arg, const void **buf)
{
	struct actx *c = arg;
	ssize_t n;

	(void)a;
	do {
		n = read(c->in_fd, c->inbuf, IO_BUF);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "reading %s", c->shown);
		return -1;
	}
	if (c->hash_blob) {
		EVP_DigestUpdate(c->blob, c->inbuf, (size_t)n);
	}
	c->in_bytes += (uint64_t)n;
	*buf = c->inbuf;
	return n;
}

#define HEAD_MAX ((size_t)64 << 20) /* a pax header bigger than this is not read */
#define ORIGINS_MAGIC "fvm-origins " /* the comment fvm export writes (origins_move.h) */

/* The octal number of tar header field F (LEN bytes; NUL or blank ends it), or -1. */
static long long tar_octal(const char *f, size_t len)
{
	long long v = 0;
	size_t i = 0;

	while (i < len && f[i] == ' ') {
		i++;
	}
	if (i == len || f[i] < '0' || f[i] > '7') {
		return -1;
	}
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (LLONG_MAX >> 3)) {
			return -1;
		}
		v = v * 8 + (f[i] - '0');
	}
	return i == len || f[i] == '\0' || f[i] == ' ' ? v : -1;
}

/* The size of the pax extended header block H (512 bytes) opening the tar, or -1. */
static long long pax_header_size(const unsigned char *h)
{
	long long sum = 0, want = tar_octal((const char *)h + 148, 8);

	if (h[156] != 'x' || memcmp(h + 257, "ustar", 5) != 0) {
		return -1;
	}
	for (int i = 0; i < 512; i++) {
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	}
	return sum == want ? tar_octal((const char *)h + 124, 12) : -1;
}

/* The "comment" record holding fvm's origins among the pax records P..END, into *OUT. */
static void pax_records(const char *p, const char *end, char **out)
{
	while (p < end) {
		size_t len = 0;
		const char *q = p;
		while (q < end && *q >= '0' && *q <= '9' && len < HEAD_MAX) {
			len = len * 10 + (size_t)(*q++ - '0');
		}
		if (q == p || q >= end || *q != ' ' || len <= (size_t)(q - p) + 1 || len > (size_t)(end - p) ||
		    p[len - 1] != '\n') {
			return; /* malformed: the rest is not read */
		}
		const char *k = q + 1, *v_end = p + len - 1, *eq = memchr(k, '=', (size_t)(v_end - k));
		static const char key[] = "comment";
		if (eq && (size_t)(eq - k) == sizeof(key) - 1 && memcmp(k, key, sizeof(key) - 1) == 0 &&
		    (size_t)(v_end - eq - 1) >= sizeof(ORIGINS_MAGIC) - 1 &&
		    memcmp(eq + 1, ORIGINS_MAGIC, sizeof(ORIGINS_MAGIC) - 1) == 0) {
			size_t vlen = (size_t)(v_end - eq - 1);
			free(*out);
			/* Not strndup: the value is not NUL-terminated (the record's '\n' ends it). */
			if ((*out = malloc(vlen + 1))) {
				memcpy(*out, eq + 1, vlen);
				(*out)[vlen] = '\0';
			}
		}
		p += len;
	}
}

/*
 * Looks at the tar's first bytes B (N; 0 at the end) for the pax extended header fvm
 * export writes before the root entry, whose comment carries the origins
 * (origins_move.h); the bytes go on to the tar reader unchanged, which ignores the
 * comment (and apply_entry the root).
 */
static void head_feed(struct actx *c, const char *b, size_t n)
{
	while (!c->head_done) {
		size_t want = c->need ? c->need : 512, take = n < want - c->nhead ? n : want - c->nhead;
		char *nh = c->nhead + take ? realloc(c->head, want) : c->head;
		if (!nh) {
			c->head_done = true;
			break;
		}
		c->head = nh;
		memcpy(c->head + c->nhead, b, take);
		c->nhead += take;
		b += take;
		n -= take;
		if (c->nhead < want) {
			c->head_done = take == 0; /* the end before the header is whole */
			break;
		}
		if (c->need) {
			pax_records(c->head + 512, c->head + c->need, c->o->origins);
			c->head_done = true;
			break;
		}
		long long size = pax_header_size((const unsigned char *)c->head);
		if (size <= 0 || (size_t)size > HEAD_MAX) {
			c->head_done = true;
			break;
		}
		c->need = 512 + (size_t)size;
	}
	if (c->head_done) {
		free(c->head);
		c->head = NULL;
	}
}

/* The tar as decompressed: hashed (diff_id). */
static la_ssize_t raw_read(struct archive *a, void *arg, const void **buf)
{
	struct actx *c = arg;
	la_ssize_t n = archive_read_data(c->raw, c->rawbuf, IO_BUF);

	if (n < 0) {
		archive_set_error(a, EIO, "%s: %s", c->shown, archive_error_string(c->raw));
		return -1;
	}
	if (c->hash_diff) {
		EVP_DigestUpdate(c->diff, c->rawbuf, (size_t)n);
	}
	if (!c->head_done) {
		head_feed(c, c->rawbuf, (size_t)n);
	}
	*buf = c->rawbuf;
	return n;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Records layer path REL as made by this archive. */
static int made_add(struct actx *c, const char *rel)
{
	char *p = strdup(rel);
	char **got = p ? tsearch(p, &c->made, str_cmp) : NULL;

	if (!got) {
		free(p);
		warnx("import: out of memory");
		return -1;
	}
	if (*got != p) {
		free(p);
	}
	return 0;
}

/* True when NAME in layer directory DIR (a path) was made by this archive. */
static bool made_by_us(struct actx *c, const char *dir, const char *name)
{
	char p[PATH_MAX + NAME_MAX + 2];

	snprintf(p, sizeof(p), "%s%s%s", dir, *dir ? "/" : "", name);
	return tfind(p, &c->made, str_cmp) != NULL;
}

static int refuse(struct actx *c, const char *entry, const char *why)
{
	warnx("import: %s: entry '%s' refused: %s", c->shown, entry, why);
	return -1;
}

/* Makes directory NAME in PFD for layer path REL, with the host's mode and owner. */
static int make_dir(struct actx *c, int pfd, const char *name, const char *rel)
{
	char host[PATH_MAX + 1];
	struct stat hs;
	mode_t mode = 0755;

	snprintf(host, sizeof(host), "/%s", rel);
	bool from_host = lstat(host, &hs) == 0 && S_ISDIR(hs.st_mode);
	if (from_host) {
		mode = hs.st_mode & 07777;
	}
	/* 0700 while it is filled; the host's mode when the import ends. */
	if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	if (from_host && c->o->chown && fchownat(pfd, name, hs.st_uid, hs.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	struct dir_fix f = {strdup(rel), mode, from_host ? hs.st_mtim : (struct timespec){0, UTIME_OMIT}};
	if (!f.path) {
		return -ENOMEM;
	}
	if (c->ndirs == c->capdirs) {
		c->capdirs = c->capdirs ? 2 * c->capdirs : 256;
		struct dir_fix *nd = realloc(c->dirs, c->capdirs * sizeof(*nd));
		if (!nd) {
			free(f.path);
			return -ENOMEM;
		}
		c->dirs = nd;
	}
	c->dirs[c->ndirs++] = f;
	return 0;
}

/*
 * Maps the clean path REL (its directories, and REL itself when IS_DIR) through the
 * host's symlinks to directories that the layer does not hold itself, into OUT.
 * Returns true when REL itself was mapped (a directory entry at the host's link: the
 * target keeps its own mode, owner and times).
 */
static bool map_host_links(struct actx *c, const char *rel, bool is_dir, char *out)
{
	bool self = false;
	const char *last = strrchr(rel, '/');
	size_t plen = last ? (size_t)(last - rel) : 0;

	/* A file in the directory of the entry before: the same mapping (no system call). */
	if (!is_dir && last && c->map_in[0] && strlen(c->map_in) == plen && strncmp(c->map_in, rel, plen) == 0) {
		snprintf(out, PATH_MAX, "%s%s", c->map_out, last);
		return false;
	}

	char cur[PATH_MAX] = "";
	const char *p = rel;

	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		size_t o = strlen(cur);
		char host[PATH_MAX + 1], real[PATH_MAX], wh[PATH_MAX + 8];
		struct stat st;

		if (o + n + 2 >= PATH_MAX) {
			break;
		}
		snprintf(cur + o, PATH_MAX - o, "%s%.*s", o ? "/" : "", (int)n, p);
		p += n + (e ? 1 : 0);
		if (!e && !is_dir) {
			break; /* the last component of a non-directory is the entry itself */
		}
		snprintf(host, sizeof(host), "/%s", cur);
		snprintf(wh, sizeof(wh), "%.*s" FVM_WH_PREFIX "%s", (int)o + (o ? 1 : 0), cur, cur + o + (o ? 1 : 0));
		if (fstatat(c->layer_fd, cur, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
		    fstatat(c->layer_fd, wh, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			continue; /* the layer holds it, or hides the host's */
		}
		if (lstat(host, &st) == 0 && S_ISLNK(st.st_mode) && stat(host, &st) == 0 &&
		    S_ISDIR(st.st_mode) && realpath(host, real) && real[1] &&
		    strlen(real) + strlen(p) + 2 < PATH_MAX) {
			snprintf(cur, sizeof(cur), "%s", real + 1);
			self = !e;
		}
	}
	snprintf(out, PATH_MAX, "%s%s%s", cur, *p ? "/" : "", p);
	if (!is_dir && last && !*p) {
		/* cur is the mapped parent, p was the base: remember the parent's mapping. */
		snprintf(c->map_in, sizeof(c->map_in), "%.*s", (int)plen, rel);
		const char *ob = strrchr(out, '/');
		snprintf(c->map_out, sizeof(c->map_out), "%.*s", ob ? (int)(ob - out) : 0, out);
	}
	return self;
}

/*
 * Opens the parent directory of clean path REL in the layer, making missing
 * directories; *BASE the last component. fd (kept in C: do not close) or -1 (reported).
 */
static int open_parent(struct actx *c, const char *rel, const char **base, const char *entry)
{
	const char *slash = strrchr(rel, '/');
	size_t plen = slash ? (size_t)(slash - rel) : 0;
	char sofar[PATH_MAX];
	int fd;

	*base = slash ? slash + 1 : rel;
	if (c->cur_fd >= 0 && strlen(c->cur) == plen && strncmp(c->cur, rel, plen) == 0) {
		return c->cur_fd;
	}
	if (c->cur_fd >= 0) {
		close(c->cur_fd);
		c->cur_fd = -1;
	}
	fd = openat(c->layer_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; fd >= 0 && i < plen;) {
		size_t j = i;
		while (j < plen && rel[j] != '/') {
			j++;
		}
		char name[NAME_MAX + 1];
		snprintf(name, sizeof(name), "%.*s", (int)(j - i), rel + i);
		snprintf(sofar, sizeof(sofar), "%.*s", (int)j, rel);
		int nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT) {
			int r = make_dir(c, fd, name, sofar);
			if (r < 0) {
				errno = -r;
			} else {
				nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			}
		}
		if (nfd < 0) {
			int e = errno;
			struct stat st;
			close(fd);
			if (fstatat(c->layer_fd, sofar, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
				char why[PATH_MAX + 64];
				snprintf(why, sizeof(why), "its path passes through the symlink '%s' an earlier entry made", sofar);
				refuse(c, entry, why);
			} else if (e == ENOTDIR || e == ELOOP) {
				char why[PATH_MAX + 64];
				snprintf(why, sizeof(why), "'%s' is not a directory", sofar);
				refuse(c, entry, why);
			} else {
				warnx("import: %s: %s: %s", c->shown, entry, strerror(e));
			}
			return -1;
		}
		close(fd);
		fd = nfd;
		i = j + 1;
	}
	if (fd < 0) {
		warn("import: %s", entry);
		return -1;
	}
	snprintf(c->cur, sizeof(c->cur), "%.*s", (int)plen, rel);
	c->cur_fd = fd;
	return fd;
}

/* Removes NAME of PFD whatever it is (nothing when missing). */
static int remove_any(struct actx *c, int pfd, const char *name, const char *entry)
{
	int r = safe_rm_tree(pfd, name, NULL, NULL);

	if (r < 0) {
		warnx("import: %s: %s: %s", c->shown, entry, strerror(-r));
		return -1;
	}
	return 0;
}

/*
 * Empties the layer directory DFD (path DIR; an opaque marker arrived in it) of what
 * earlier layers put there; what this archive made stays (a tar written in readdir
 * order may put the marker after its siblings).
 */
static int empty_dir(struct actx *c, int dfd, const char *dir, const char *entry)
{
	DIR *d = safe_dir_stream(dfd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		warn("import: %s", entry);
		return -1;
	}
	while (r == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !made_by_us(c, dir, de->d_name)) {
			r = remove_any(c, dfd, de->d_name, entry);
		}
	}
	closedir(d);
	return r;
}

/* Sets the entry's xattrs on NAME of PFD (a symlink's are skipped: Linux allows none). */
static int set_xattrs(struct actx *c, struct archive_entry *e, int fd, const char *entry, bool keep_priv)
{
	const char *name;
	const void *val;
	size_t len;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK) {
		if (!keep_priv && strcmp(name, "security.capability") == 0) {
			continue;
		}
		if (fsetxattr(fd, name, val, len, 0) < 0) {
			warn("import: %s: %s: xattr %s", c->shown, entry, name);
			return -1;
		}
	}
	return 0;
}

static int write_file(struct actx *c, struct archive_entry *e, int pfd, const char *name,
		      const char *entry, mode_t perm, bool keep_priv)
{
	int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	if (fd < 0) {
		warn("import: %s", entry);
		return -1;
	}
	while ((r = archive_read_data_block(c->tar, &buf, &len, &off)) == ARCHIVE_OK) {
		c->written += len;
		if (c->written > c->o->max_size) {
			close(fd);
			warnx("import: %s: entry '%s': the archive expands past the limit of %llu bytes (--max-size)",
			      c->shown, entry, (unsigned long long)c->o->max_size);
			return -1;
		}
		for (size_t done = 0; done < len;) {
			ssize_t w = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
			if (w < 0) {
				warn("import: %s", entry);
				close(fd);
				return -1;
			}
			done += (size_t)w;
		}
		c->info->bytes += len;
		progress_bytes(&c->prog, c->info->files, c->in_bytes);
	}
	if (r != ARCHIVE_EOF) {
		warnx("import: %s: %s: %s", c->shown, entry, archive_error_string(c->tar));
		close(fd);
		return -1;
	}
	struct timespec ts[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
				 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
	if (ftruncate(fd, archive_entry_size(e)) < 0 ||
	    (c->o->chown && fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0) ||
	    fchmod(fd, perm) < 0 || set_xattrs(c, e, fd, entry, keep_priv) < 0 || futimens(fd, ts) < 0) {
		warn("import: %s", entry);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A hard link entry: NAME of PFD to the earlier entry TARGET (clean, mapped). */
static int write_hardlink(struct actx *c, int pfd, const char *name, const char *target, const char *entry)
{
	const char *tbase;
	struct stat st;
	int keep = dup(pfd), tfd;

	/* open_parent may replace the cached fd PFD is: keep ours. */
	if (keep < 0) {
		warn("import: %s", entry);
		return -1;
	}
	tfd = open_parent(c, target, &tbase, entry);
	if (tfd < 0) {
		close(keep);
		return -1;
	}
	if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
		close(keep);
		return refuse(c, entry, "a hard link to no earlier regular file of the archive");
	}
	if (linkat(tfd, tbase, keep, name, 0) < 0) {
		warn("import: %s", entry);
		close(keep);
		return -1;
	}
	close(keep);
	return 0;
}

/* Applies one entry E. Returns 0 or -1 (reported). */
static int apply_entry(struct actx *c, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
	const char *xnames[256];
	char clean[PATH_MAX], rel[PATH_MAX], hclean[PATH_MAX], hrel[PATH_MAX];
	struct oci_entry oe = {0};
	enum oci_check chk;
	const char *name;
	const void *val;
	size_t len;
	mode_t type = archive_entry_filetype(e);

	if (!raw) {
		return refuse(c, "?", "no path");
	}
	oe.path = raw;
	oe.type = hl ? S_IFREG : type;
	oe.perm = archive_entry_perm(e);
	oe.size = archive_entry_size(e);
	oe.hardlink = hl;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK && oe.nxattrs < 256) {
		xnames[oe.nxattrs++] = name;
	}
	oe.xattrs = xnames;
	chk = oci_entry_check(&oe);
	if (chk != OCI_OK && chk != OCI_PRIVILEGED) {
		return refuse(c, raw, oci_check_str(chk));
	}
	bool keep_priv = chk == OCI_OK || c->o->allow_privileged;
	if (!keep_priv) {
		warnx("import: %s: entry '%s': setuid/setgid bits and security.capability dropped "
		      "(--allow-privileged keeps them)", c->shown, raw);
	}
	mode_t perm = archive_entry_perm(e) & (keep_priv ? 07777 : 01777);
	oci_path_clean(raw, clean, sizeof(clean));
	if (!clean[0]) {
		return 0; /* the root: the host's stays */
	}
	bool at_link = map_host_links(c, clean, type == AE_IFDIR && !hl, rel);
	c->info->files++;
	progress_bytes(&c->prog, c->info->files, c->in_bytes);
	/* Each entry costs an inode and a directory entry: 512 bytes against --max-size. */
	c->written += 512;
	if (c->written > c->o->max_size) {
		warnx("import: %s: entry '%s': the archive expands past the limit of %llu bytes (--max-size)",
		      c->shown, raw, (unsigned long long)c->o->max_size);
		return -1;
	}

	const char *base;
	int pfd = open_parent(c, rel, &base, raw);
	if (pfd < 0) {
		return -1;
	}
	struct stat st;
	bool exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;

	if (strcmp(base, FVM_WH_OPAQUE) == 0) {
		if (empty_dir(c, pfd, c->cur, raw) < 0) {
			return -1;
		}
	} else if (strncmp(base, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN) == 0) {
		if (!made_by_us(c, c->cur, base + FVM_WH_PREFIX_LEN) &&
		    remove_any(c, pfd, base + FVM_WH_PREFIX_LEN, raw) < 0) {
			return -1;
		}
	} else {
		char wh[NAME_MAX + 8];
		struct stat ws;
		snprintf(wh, sizeof(wh), FVM_WH_PREFIX "%s", base);
		if (fstatat(pfd, wh, &ws, AT_SYMLINK_NOFOLLOW) == 0) {
			/* Recreated over its whiteout: the whiteout goes; a directory stays opaque. */
			if (unlinkat(pfd, wh, 0) < 0) {
				warn("import: %s", raw);
				return -1;
			}
			if (type == AE_IFDIR && !hl) {
				if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST) {
					warn("import: %s", raw);
					return -1;
				}
				int dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				int m = dfd < 0 ? -1 : openat(dfd, FVM_WH_OPAQUE, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (m < 0) {
					warn("import: %s", raw);
					if (dfd >= 0) {
						close(dfd);
					}
					return -1;
				}
				close(m);
				close(dfd);
				exists = true;
				st.st_mode = S_IFDIR;
			}
		}
	}
	if (exists && !(type == AE_IFDIR && !hl && S_ISDIR(st.st_mode))) {
		if (remove_any(c, pfd, base, raw) < 0) {
			return -1;
		}
	}
	if (made_add(c, rel) < 0) {
		return -1;
	}
	if (hl) {
		if (oci_path_clean(hl, hclean, sizeof(hclean)) != OCI_OK) {
			return refuse(c, raw, "bad hard link target");
		}
		map_host_links(c, hclean, false, hrel);
		return write_hardlink(c, pfd, base, hrel, raw);
	}
	switch (type) {
	case AE_IFREG:
		return write_file(c, e, pfd, base, raw, perm, keep_priv);
	case AE_IFDIR: {
		if (at_link) {
			/* The host link's target, made as a copy-up makes it; its metadata kept. */
			int mr = exists ? 0 : make_dir(c, pfd, base, rel);
			if (mr < 0) {
				warnx("import: %s: %s", raw, strerror(-mr));
				return -1;
			}
			return 0;
		}
		if (!(exists && S_ISDIR(st.st_mode)) && mkdirat(pfd, base, 0700) < 0) {
			warn("import: %s", raw);
			return -1;
		}
		int dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 || (c->o->chown && fchown(dfd, archive_entry_uid(e), archive_entry_gid(e)) < 0) ||
		    set_xattrs(c, e, dfd, raw, keep_priv) < 0) {
			warn("import: %s", raw);
			if (dfd >= 0) {
				close(dfd);
			}
			return -1;
		}
		close(dfd);
		/* Its own mode and time, last: replace the record make_dir may have left. */
		for (size_t i = c->ndirs; i-- > 0;) {
			if (strcmp(c->dirs[i].path, rel) == 0) {
				c->dirs[i].perm = perm;
				c->dirs[i].mtime = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
				return 0;
			}
		}
		int r = make_dir(c, pfd, base, rel);
		if (r < 0) {
			warnx("import: %s: %s", raw, strerror(-r));
			return -1;
		}
		c->dirs[c->ndirs - 1].perm = perm;
		c->dirs[c->ndirs - 1].mtime = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
		return 0;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		struct timespec ts[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
					 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
		if (!target || symlinkat(target, pfd, base) < 0 ||
		    (c->o->chown && fchownat(pfd, base, archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0) ||
		    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0) {
			warn("import: %s", raw);
			return -1;
		}
		return 0;
	}
	case AE_IFIFO: {
		struct timespec ts[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
					 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
		if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0 ||
		    (c->o->chown && fchownat(pfd, base, archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0) ||
		    fchmodat(pfd, base, perm, 0) < 0 || utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0) {
			warn("import: %s", raw);
			return -1;
		}
		return 0;
	}
	default:
		return refuse(c, raw, oci_check_str(OCI_BAD_TYPE));
	}
}

static int fix_dir(struct actx *c, struct dir_fix *d);

static void noop_free(void *p)
{
	(void)p;
}

/*
 * The directories' modes and times, deepest (latest made) first; of two records of one
 * path (a directory removed by a whiteout and made again), the later one.
 */
static int fix_dirs(struct actx *c)
{
	void *done = NULL;
	int r = 0;

	for (size_t i = c->ndirs; r == 0 && i-- > 0;) {
		struct dir_fix *d = &c->dirs[i];
		if (tfind(d->path, &done, str_cmp) || !tsearch(d->path, &done, str_cmp)) {
			continue; /* a later record of this path was applied (or no memory: skip) */
		}
		r = fix_dir(c, d);
	}
	tdestroy(done, noop_free);
	return r;
}

/* One directory's mode and times. */
static int fix_dir(struct actx *c, struct dir_fix *d)
{
	int fd = safe_openat(c->layer_fd, d->path, O_RDONLY | O_DIRECTORY, 0);
	struct timespec ts[2] = {d->mtime, d->mtime};

	if (fd < 0) {
		if (fd == -ENOENT) {
			return 0; /* removed by a later whiteout */
		}
		warnx("import: %s: %s", d->path, strerror(-fd));
		return -1;
	}
	if (fchmod(fd, d->perm) < 0 || futimens(fd, ts) < 0) {
		warn("import: %s", d->path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int digest_check(struct actx *c, const char *what, const char *want, const char *got)
{
	if (want && strcmp(want, got) != 0) {
		warnx("import: %s: the %s is sha256:%s, not the sha256:%s the image names", c->shown, what, got, want);
		return -1;
	}
	return 0;
}

int oci_tar_apply(int in_fd, const char *shown, int layer_fd, const struct oci_apply_opts *o,
		  const struct oci_digest_check *want, struct oci_blob_info *info)
{
	struct actx c = {.in_fd = in_fd, .layer_fd = layer_fd, .shown = shown, .o = o, .info = info, .cur_fd = -1};
	struct archive_entry *e, *re;
	unsigned char d[32];
	unsigned dn;
	int r = -1, ar;

	memset(info, 0, sizeof(*info));
	c.head_done = !o->origins;
	if (o->origins) {
		*o->origins = NULL;
	}
	c.inbuf = malloc(IO_BUF);
	c.rawbuf = malloc(IO_BUF);
	c.diff = EVP_MD_CTX_new();
	c.blob = EVP_MD_CTX_new();
	if (!c.inbuf || !c.rawbuf || !c.diff || !c.blob || !EVP_DigestInit_ex(c.diff, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(c.blob, EVP_sha256(), NULL)) {
		warnx("import: out of memory");
		goto out;
	}
	progress_bytes_start(&c.prog, "import", o->total, o->progress);
	/* The decompressor: raw format behind every filter; then the tar reader on its bytes. */
	c.hash_blob = want && (want->diff_id || want->digest);
	c.raw = archive_read_new();
	c.tar = archive_read_new();
	if (!c.raw || !c.tar || archive_read_support_filter_all(c.raw) != ARCHIVE_OK ||
	    archive_read_support_format_raw(c.raw) != ARCHIVE_OK ||
	    archive_read_open(c.raw, &c, NULL, in_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(c.raw, &re) != ARCHIVE_OK) {
		warnx("import: %s: %s", shown, c.raw ? archive_error_string(c.raw) : "out of memory");
		goto out;
	}
	/* Uncompressed, the tar is the blob: hashed once (the blob's hash is the diff_id). */
	c.hash_diff = want && (want->diff_id || want->digest) &&
		      archive_filter_code(c.raw, 0) != ARCHIVE_FILTER_NONE;
	if (archive_read_support_format_tar(c.tar) != ARCHIVE_OK ||
	    archive_read_open(c.tar, &c, NULL, raw_read, NULL) != ARCHIVE_OK) {
		warnx("import: %s: not a tar archive: %s", shown, archive_error_string(c.tar));
		goto out;
	}
	while ((ar = archive_read_next_header(c.tar, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		if (apply_entry(&c, e) < 0) {
			goto out;
		}
	}
	if (ar != ARCHIVE_EOF) {
		warnx("import: %s: %s", shown, archive_error_string(c.tar));
		goto out;
	}
	/* The rest of the stream (the tar's padding, the compressor's trailer) is hashed too. */
	{
		const void *b;
		while (raw_read(c.tar, &c, &b) > 0) {
		}
		while (in_read(c.raw, &c, &b) > 0) {
		}
	}
	if (fix_dirs(&c) < 0) {
		goto out;
	}
	if (c.hash_blob) {
		EVP_DigestFinal_ex(c.blob, d, &dn);
		hex(d, info->digest);
		if (c.hash_diff) {
			EVP_DigestFinal_ex(c.diff, d, &dn);
			hex(d, info->diff_id);
		} else {
			memcpy(info->diff_id, info->digest, OCI_DIGEST_HEX);
		}
	}
	info->size = c.in_bytes;
	if (want && want->digest && want->size != c.in_bytes) {
		warnx("import: %s: %llu bytes, not the %llu the image names", shown,
		      (unsigned long long)c.in_bytes, (unsigned long long)want->size);
		goto out;
	}
	if (want && (digest_check(&c, "blob's digest", want->digest, info->digest) < 0 ||
		     digest_check(&c, "layer's diff_id", want->diff_id, info->diff_id) < 0)) {
		goto out;
	}
	r = 0;
out:
	progress_bytes_end(&c.prog);
	if (c.cur_fd >= 0) {
		close(c.cur_fd);
	}
	archive_read_free(c.tar);
	archive_read_free(c.raw);
	EVP_MD_CTX_free(c.diff);
	EVP_MD_CTX_free(c.blob);
	for (size_t i = 0; i < c.ndirs; i++) {
		free(c.dirs[i].path);
	}
	free(c.dirs);
	tdestroy(c.made, free);
	free(c.inbuf);
	free(c.rawbuf);
	free(c.head);
	return r;
}

int oci_blob_check(int in_fd, const char *shown, const struct oci_digest_check *want)
{
	static const struct oci_apply_opts none;
	struct actx c = {.in_fd = in_fd, .shown = shown, .o = &none, .cur_fd = -1, .head_done = true};
	struct archive_entry *re;
	char digest[OCI_DIGEST_HEX], diff_id[OCI_DIGEST_HEX];
	unsigned char d[32];
	unsigned dn;
	const void *b;
	la_ssize_t n;
	int r = -1;

	c.inbuf = malloc(IO_BUF);
	c.rawbuf = malloc(IO_BUF);
	c.diff = EVP_MD_CTX_new();
	c.blob = EVP_MD_CTX_new();
	c.raw = archive_read_new();
	if (!c.inbuf || !c.rawbuf || !c.diff || !c.blob || !c.raw ||
	    !EVP_DigestInit_ex(c.diff, EVP_sha256(), NULL) || !EVP_DigestInit_ex(c.blob, EVP_sha256(), NULL)) {
		warnx("import: out of memory");
		goto out;
	}
	c.hash_blob = true;
	if (archive_read_support_filter_all(c.raw) != ARCHIVE_OK ||
	    archive_read_support_format_raw(c.raw) != ARCHIVE_OK ||
	    archive_read_open(c.raw, &c, NULL, in_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(c.raw, &re) != ARCHIVE_OK) {
		warnx("import: %s: %s", shown, archive_error_string(c.raw));
		goto out;
	}
	c.hash_diff = archive_filter_code(c.raw, 0) != ARCHIVE_FILTER_NONE;
	while ((n = raw_read(c.raw, &c, &b)) > 0) {
	}
	if (n < 0) {
		warnx("import: %s: %s", shown, archive_error_string(c.raw));
		goto out;
	}
	while (in_read(c.raw, &c, &b) > 0) {
	}
	EVP_DigestFinal_ex(c.blob, d, &dn);
	hex(d, digest);
	if (c.hash_diff) {
		EVP_DigestFinal_ex(c.diff, d, &dn);
		hex(d, diff_id);
	} else {
		memcpy(diff_id, digest, OCI_DIGEST_HEX);
	}
	if (want->digest && want->size != c.in_bytes) {
		warnx("import: %s: %llu bytes, not the %llu the image names", shown,
		      (unsigned long long)c.in_bytes, (unsigned long long)want->size);
		goto out;
	}
	if (digest_check(&c, "blob's digest", want->digest, digest) < 0 ||
	    digest_check(&c, "layer's diff_id", want->diff_id, diff_id) < 0) {
		goto out;
	}
	r = 0;
out:
	archive_read_free(c.raw);
	EVP_MD_CTX_free(c.diff);
	EVP_MD_CTX_free(c.blob);
	free(c.inbuf);
	free(c.rawbuf);
	return r;
}
