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
#include <stdint.h>
#include <string.h>

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

/* The first "/" in [P, END), or END: eight bytes at a time (components are short). */
static inline const char *fvm_path_next_slash(const char *p, const char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8) {
		uint64_t w, x, m;
		memcpy(&w, p, 8);
		x = w ^ 0x2f2f2f2f2f2f2f2full;
		/* The lowest byte flagged is exact (a false flag only lies above a true one). */
		m = (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
		if (m) {
			return p + (__builtin_ctzll(m) >> 3);
		}
		p += 8;
	}
#endif
	while (p < end && *p != '/') {
		p++;
	}
	return p;
}

/*
 * The start of the last component of [P, END) when every component is an ordinary
 * name (none empty, "." or ".."), else NULL. P starts the first component and END
 * follows no "/" (P < END). WORDS (a constant at each call) finds each "/" a word at a
 * time, for absolute paths; without it memchr, cheaper on the short names given
 * relative to a directory (callgrind). Inline: it is on the fast path of every path
 * call; only the bytes after a "/" are looked at closely.
 */
static inline const char *fvm_path_plain(const char *p, const char *end, bool words)
{
	for (;;) {
		if (p[0] == '/' ||
		    (p[0] == '.' && (p + 1 == end || p[1] == '/' ||
				     (p[1] == '.' && (p + 2 == end || p[2] == '/'))))) {
			return NULL;
		}
		const char *start = p;
		p = words ? fvm_path_next_slash(p, end) : memchr(p, '/', (size_t)(end - p));
		if (p == end || !p) {
			return start;
		}
		p++;
	}
}

/* Offset of the last component of normalised absolute PATH (after the last '/'). */
size_t fvm_path_base_off(const char *path, size_t len);

/*
 * A hash of PATH (LEN bytes) for the per-process caches' slots (the lookup cache, the
 * direct memo): multiplicative, eight bytes at a time (hot: asked on every wrapped
 * call), the tail by 4, 2 and 1 bytes; never reads past LEN. The slot is the top bits.
 */
static inline uint64_t fvm_path_hash(const char *path, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = len * k, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, path + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	w = 0;
	if (len & 4) {
		uint32_t v;
		memcpy(&v, path + i, 4);
		w = v;
		i += 4;
	}
	if (len & 2) {
		uint16_t v;
		memcpy(&v, path + i, 2);
		w = (w << 16) | v;
		i += 2;
	}
	if (len & 1) {
		w = (w << 8) | (unsigned char)path[i];
	}
	return (h ^ w) * k;
}

#endif
