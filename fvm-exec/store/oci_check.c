/*
 * oci_check.c — the rules every entry of an imported layer tar must pass (oci.h).
 *
 * Rules (each entry, before anything is written):
 *  - its path MUST be relative, MUST NOT climb with "..", MUST fit PATH_MAX;
 *  - it MUST NOT be a device node (nor a socket or another type tar cannot restore);
 *  - a ".wh.NAME" entry MUST be an empty regular file; ".wh..wh." names other than
 *    ".wh..wh..opq" are reserved (refused); no directory on its way may be a ".wh." name;
 *  - it MUST NOT carry fvm's own xattrs (user.fvm.*): they steer libfvm;
 *  - setuid/setgid bits and security.capability are OCI_PRIVILEGED: the caller drops
 *    them unless --allow-privileged.
 * A path through a symlink made by an earlier entry is refused where it is applied
 * (oci_apply.c), since only the layer being built knows it.
 */
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "fvm/layout.h"
#include "store/oci.h"

const char *oci_check_str(enum oci_check c)
{
	switch (c) {
	case OCI_OK: return "ok";
	case OCI_BAD_ABSOLUTE: return "absolute path";
	case OCI_BAD_DOTDOT: return "path climbs with ..";
	case OCI_BAD_EMPTY: return "empty path";
	case OCI_BAD_DEVICE: return "device node";
	case OCI_BAD_TYPE: return "unsupported entry type";
	case OCI_BAD_WHITEOUT: return "a .wh. entry that is not an empty regular file";
	case OCI_BAD_WH_META: return "reserved .wh..wh. name";
	case OCI_BAD_FVM_XATTR: return "carries fvm's own user.fvm.* xattr";
	case OCI_BAD_LONG: return "path too long";
	case OCI_PRIVILEGED: return "setuid/setgid bits or security.capability";
	}
	return "?";
}

enum oci_check oci_path_clean(const char *path, char *out, size_t len)
{
	size_t o = 0;
	const char *p = path;

	if (!path || !len) {
		return OCI_BAD_EMPTY;
	}
	if (*p == '/') {
		return OCI_BAD_ABSOLUTE;
	}
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			return OCI_BAD_DOTDOT;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (o + (o ? 1 : 0) + n + 1 > len || o + n + 1 > PATH_MAX) {
				return OCI_BAD_LONG;
			}
			if (o) {
				out[o++] = '/';
			}
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/') {
			p++;
		}
	}
	out[o] = '\0';
	return OCI_OK;
}

/* The rules on the names of a clean path: ".wh." only as the last component. */
static enum oci_check check_names(const char *clean, const struct oci_entry *e)
{
	const char *base = strrchr(clean, '/');

	base = base ? base + 1 : clean;
	for (const char *c = clean; c < base; c = strchr(c, '/') + 1) {
		if (strncmp(c, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN) == 0) {
			return OCI_BAD_WHITEOUT; /* a whiteout used as a directory */
		}
	}
	if (strncmp(base, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN) != 0) {
		return OCI_OK;
	}
	if (strncmp(base, FVM_WH_PREFIX FVM_WH_PREFIX, 2 * FVM_WH_PREFIX_LEN) == 0 &&
	    strcmp(base, FVM_WH_OPAQUE) != 0) {
		return OCI_BAD_WH_META;
	}
	if (e->type != S_IFREG || e->size != 0 || e->hardlink || base[FVM_WH_PREFIX_LEN] == '\0') {
		return OCI_BAD_WHITEOUT;
	}
	return OCI_OK;
}

enum oci_check oci_entry_check(const struct oci_entry *e)
{
	char clean[PATH_MAX];
	enum oci_check c;
	bool priv = false;

	if ((c = oci_path_clean(e->path, clean, sizeof(clean))) != OCI_OK) {
		return c;
	}
	if (e->hardlink) {
		char t[PATH_MAX];
		if ((c = oci_path_clean(e->hardlink, t, sizeof(t))) != OCI_OK) {
			return c;
		}
		if (!t[0]) {
			return OCI_BAD_EMPTY;
		}
	}
	switch (e->type) {
	case S_IFCHR:
	case S_IFBLK:
		return OCI_BAD_DEVICE;
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFIFO:
		break;
	default:
		return OCI_BAD_TYPE;
	}
	if (!clean[0] && e->type != S_IFDIR) {
		return OCI_BAD_EMPTY;
	}
	if (clean[0] && (c = check_names(clean, e)) != OCI_OK) {
		return c;
	}
	for (size_t i = 0; i < e->nxattrs; i++) {
		if (strncmp(e->xattrs[i], "user.fvm.", 9) == 0) {
			return OCI_BAD_FVM_XATTR;
		}
		if (strcmp(e->xattrs[i], "security.capability") == 0) {
			priv = true;
		}
	}
	if (e->type != S_IFLNK && (e->perm & (S_ISUID | S_ISGID)) && e->type != S_IFDIR) {
		priv = true;
	}
	return priv ? OCI_PRIVILEGED : OCI_OK;
}
