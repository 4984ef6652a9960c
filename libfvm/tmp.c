/*
 * tmp.c — temporary files: the mkstemp family, mkdtemp, mktemp, tmpfile, tempnam,
 * tmpnam.
 *
 * glibc's own versions open, stat and search directories with its internal calls,
 * which libfvm cannot see, so the algorithms are done here on top of fvm_openat,
 * fvm_mkdirat and fvm_fstatat: replace the six X's before SUFFIXLEN trailing
 * characters with random letters until a new name is created (or, for the names-only
 * calls, until a name is free in the VM).
 */
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>

#include "libfvm.h"

#define ATTEMPTS 238328 /* 62^3, as glibc */

static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* Fills the XXXXXX of TEMPLATE; -EINVAL when it has none. */
static int fill(char *tmpl, int suffixlen)
{
	size_t len = strlen(tmpl);
	unsigned char rnd[6];

	if (suffixlen < 0 || len < 6 + (size_t)suffixlen ||
	    memcmp(tmpl + len - suffixlen - 6, "XXXXXX", 6) != 0) {
		return -EINVAL;
	}
	if (FVM_SC(SYS_getrandom, rnd, sizeof(rnd), GRND_NONBLOCK, 0, 0, 0) != (long)sizeof(rnd)) {
		unsigned long v = (unsigned long)sys_gettid() * 2654435761u ^ (unsigned long)&rnd;
		for (int i = 0; i < 6; i++, v >>= 5) {
			rnd[i] = (unsigned char)v;
		}
	}
	for (int i = 0; i < 6; i++) {
		tmpl[len - suffixlen - 6 + i] = letters[rnd[i] % (sizeof(letters) - 1)];
	}
	return 0;
}

/* Creates one candidate: an fd or 0, or -errno (-EEXIST: the name is taken). */
typedef int (*create_fn)(const char *vpath, int flags);

static int create_file(const char *vpath, int flags)
{
	return fvm_openat(AT_FDCWD, vpath, (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL, 0600);
}

static int create_dir(const char *vpath, int flags)
{
	(void)flags;
	/* mkdir through libfvm's own logic: the exported name is not called. */
	return fvm_mkdirat(AT_FDCWD, vpath, 0700);
}

/* The names-only calls: 0 when VPATH is free in the VM, -EEXIST when taken. */
static int probe_free(const char *vpath, int flags)
{
	struct stat st;
	int ret = fvm_fstatat(AT_FDCWD, vpath, &st, AT_SYMLINK_NOFOLLOW);

	(void)flags;
	return ret == 0 ? -EEXIST : ret == -ENOENT ? 0 : ret;
}

/*
 * Fills TMPL's X's with new random letters until CREATE makes a new name. Returns
 * CREATE's result; on failure TMPL is left as it was given.
 */
static int make_unique(char *tmpl, int suffixlen, int flags, create_fn create)
{
	size_t len = strlen(tmpl);
	char orig[len + 1];
	int ret = -EEXIST;

	memcpy(orig, tmpl, len + 1);
	for (int i = 0; i < ATTEMPTS && ret == -EEXIST; i++) {
		memcpy(tmpl, orig, len + 1);
		ret = fill(tmpl, suffixlen);
		if (ret == 0) {
			ret = create(tmpl, flags);
		}
	}
	if (ret < 0) {
		memcpy(tmpl, orig, len + 1);
	}
	return ret;
}

static int fvm_mkostemps(char *tmpl, int suffixlen, int flags)
{
	return make_unique(tmpl, suffixlen, flags, create_file);
}

int mkstemp(char *tmpl)
{
	return fvm_ret(fvm_mkostemps(tmpl, 0, 0));
}

int mkstemp64(char *tmpl)
{
	return fvm_ret(fvm_mkostemps(tmpl, 0, 0));
}

int mkostemp(char *tmpl, int flags)
{
	return fvm_ret(fvm_mkostemps(tmpl, 0, flags));
}

int mkostemp64(char *tmpl, int flags)
{
	return fvm_ret(fvm_mkostemps(tmpl, 0, flags));
}

int mkstemps(char *tmpl, int suffixlen)
{
	return fvm_ret(fvm_mkostemps(tmpl, suffixlen, 0));
}

int mkstemps64(char *tmpl, int suffixlen)
{
	return fvm_ret(fvm_mkostemps(tmpl, suffixlen, 0));
}

int mkostemps(char *tmpl, int suffixlen, int flags)
{
	return fvm_ret(fvm_mkostemps(tmpl, suffixlen, flags));
}

int mkostemps64(char *tmpl, int suffixlen, int flags)
{
	return fvm_ret(fvm_mkostemps(tmpl, suffixlen, flags));
}

char *mkdtemp(char *tmpl)
{
	int ret = make_unique(tmpl, 0, 0, create_dir);

	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	return tmpl;
}

char *mktemp(char *tmpl)
{
	int ret = make_unique(tmpl, 0, 0, probe_free);

	if (ret < 0) {
		errno = -ret;
		tmpl[0] = '\0'; /* mktemp's way of failing */
	}
	return tmpl;
}

/*
 * tmpfile: an unnamed file in the VM's /tmp (O_TMPFILE), or where the filesystem has
 * no O_TMPFILE a named one removed at once — glibc's two ways, done in the VM.
 */
FILE *tmpfile(void)
{
	char name[] = "/tmp/tmpfXXXXXX";
	FILE *f;
	int fd;

	if (!fvm_on()) {
		return REAL(tmpfile)();
	}
	fd = fvm_openat(AT_FDCWD, "/tmp", O_RDWR | O_TMPFILE | O_EXCL, 0600);
	if (fd < 0) {
		fd = make_unique(name, 0, 0, create_file);
		if (fd < 0) {
			errno = -fd;
			return NULL;
		}
		fvm_unlinkat(AT_FDCWD, name, 0);
	}
	f = fdopen(fd, "w+");
	if (!f) {
		int saved = errno;
		sys_close(fd);
		errno = saved;
	}
	return f;
}

FILE *tmpfile64(void)
{
	return tmpfile();
}

static bool dir_exists(const char *vpath)
{
	struct stat st;

	return !fvm_bad_ptr(vpath) && fvm_fstatat(AT_FDCWD, vpath, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/*
 * glibc's __path_search: the directory for a temporary name (with TRY_TMPDIR,
 * $TMPDIR first, then DIR, then P_tmpdir, then /tmp), and "DIR/PFXXXXXXX" into OUT.
 * Returns 0, -EIO when no directory exists, -EINVAL when OUT is short.
 */
static int path_search(char *out, size_t outlen, const char *dir, const char *pfx, bool try_tmpdir)
{
	size_t dlen, plen;

	if (try_tmpdir) {
		const char *d = getauxval(AT_SECURE) ? NULL : fvm_getenv("TMPDIR");
		if (fvm_tracing) {
			fvm_trace_env("TMPDIR", d != NULL); /* as glibc's own search reads it */
		}
		if (d && dir_exists(d)) {
			dir = d;
		} else if (!dir_exists(dir)) {
			dir = NULL;
		}
	}
	if (!dir) {
		if (dir_exists(P_tmpdir)) {
			dir = P_tmpdir;
		} else if (strcmp(P_tmpdir, "/tmp") != 0 && dir_exists("/tmp")) {
			dir = "/tmp";
		} else {
			return -EIO;
		}
	}
	if (!pfx || !*pfx) {
		pfx = "file";
	}
	plen = strnlen(pfx, 5);
	dlen = strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/') {
		dlen--;
	}
	if (dlen + plen + 8 > outlen) {
		return -EINVAL;
	}
	snprintf(out, outlen, "%.*s/%.*sXXXXXX", (int)dlen, dir, (int)plen, pfx);
	return 0;
}

char *tempnam(const char *dir, const char *pfx)
{
	char buf[PATH_MAX];
	int ret;

	if (!fvm_on()) {
		return REAL(tempnam)(dir, pfx);
	}
	if (pfx && *pfx) {
		fvm_touch_str(pfx); /* libc's takes strlen(pfx) */
	}
	ret = path_search(buf, sizeof(buf), dir, pfx, true);
	if (ret == 0) {
		ret = make_unique(buf, 0, 0, probe_free);
	}
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	return strdup(buf);
}

char *tmpnam_r(char s[L_tmpnam])
{
	int ret;

	if (!s) {
		return NULL;
	}
	if (!fvm_on()) {
		return REAL(tmpnam_r)(s);
	}
	ret = path_search(s, L_tmpnam, NULL, "file", false);
	if (ret == 0) {
		ret = make_unique(s, 0, 0, probe_free);
	}
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	return s;
}

char *tmpnam(char s[L_tmpnam])
{
	static __thread char buf[L_tmpnam];

	if (!fvm_on()) {
		return REAL(tmpnam)(s);
	}
	/* glibc's own static buffer is not ours: a per-thread one keeps tmpnam(NULL) safe. */
	return tmpnam_r(s ? s : buf);
}
