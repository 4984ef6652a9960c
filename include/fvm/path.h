/*
 * path.h — lexical path handling, shared by libfvm and the tools. No system calls.
 *
 * All functions write into a caller's buffer of known size and return the length
 * written, or -ENAMETOOLONG when it would not fit; they never truncate silently.
 */
#ifndef FVM_PATH_H
#define FVM_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Lexical normalisation of an absolute path: collapses "//" and "/./", removes a
 * trailing "/", and (only when DOTDOT is true) resolves ".." against the text. With
 * DOTDOT false, ".." is kept: the resolver handles it after symlinks, as the kernel.
 */
int fvm_path_normalize(const char *in, char *out, size_t outlen, bool dotdot);

/* OUT = BASE "/" REL (BASE absolute, REL relative), normalised without "..". */
int fvm_path_join(const char *base, const char *rel, char *out, size_t outlen);

/*
 * True when PATH equals PREFIX or lies beneath it (component boundary). Inline: it is
 * asked several times per wrapped call (policy rules, the store, /proc). The boundary
 * and the prefix's last byte are compared first, so that most misses cost no memcmp.
 */
static inline bool fvm_path_has_prefix(const char *path, size_t pathlen, const char *prefix,
				       size_t prefixlen)
{
	if (prefixlen == 1 && prefix[0] == '/') {
		return path[0] == '/';
	}
	if (prefixlen == 0) {
		return pathlen == 0 || path[0] == '/';
	}
	if (pathlen < prefixlen || (pathlen != prefixlen && path[prefixlen] != '/') ||
	    path[prefixlen - 1] != prefix[prefixlen - 1]) {
		return false;
	}
	return __builtin_memcmp(path, prefix, prefixlen) == 0;
}

/* Offset of the last component of normalised absolute PATH (after the last '/'). */
size_t fvm_path_base_off(const char *path, size_t len);

#endif
