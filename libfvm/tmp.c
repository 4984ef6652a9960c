/*
 * tmp.c — temporary files: the mkstemp family and mkdtemp.
 *
 * glibc's own versions open with its internal open, which libfvm cannot see, so the
 * algorithm is done here on top of fvm_openat / mkdir: replace the six X's before
 * SUFFIXLEN trailing characters with random letters until a new name is created.
 */
#include <string.h>
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
