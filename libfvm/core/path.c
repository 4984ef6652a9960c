/*
 * path.c — lexical path handling (see fvm/path.h). No system calls, no allocation.
 *
 * Invariant: every output is either complete or not written at all as far as the
 * caller is concerned (-ENAMETOOLONG); nothing is truncated silently.
 */
#include <errno.h>
#include <string.h>

#include "fvm/path.h"

int fvm_path_normalize(const char *in, char *out, size_t outlen, bool dotdot)
{
	size_t o = 0;
	const char *p = in;

	if (outlen < 2) {
		return -ENAMETOOLONG;
	}
	while (*p) {
		while (*p == '/') {
			p++;
		}
		if (!*p) {
			break;
		}
		const char *start = p;
		while (*p && *p != '/') {
			p++;
		}
		size_t n = (size_t)(p - start);
		if (n == 1 && start[0] == '.') {
			continue;
		}
		if (dotdot && n == 2 && start[0] == '.' && start[1] == '.') {
			while (o > 0 && out[o - 1] != '/') {
				o--;
			}
			if (o > 0) {
				o--;
			}
			continue;
		}
		if (o + 1 + n + 1 > outlen) {
			return -ENAMETOOLONG;
		}
		out[o++] = '/';
		memcpy(out + o, start, n);
		o += n;
	}
	if (o == 0) {
		out[o++] = '/';
	}
	out[o] = '\0';
	return (int)o;
}

int fvm_path_join(const char *base, const char *rel, char *out, size_t outlen)
{
	size_t bl = strlen(base), rl = strlen(rel);
	char tmp[bl + rl + 2];

	memcpy(tmp, base, bl);
	tmp[bl] = '/';
	memcpy(tmp + bl + 1, rel, rl + 1);
	return fvm_path_normalize(tmp, out, outlen, false);
}

size_t fvm_path_base_off(const char *path, size_t len)
{
	while (len > 0 && path[len - 1] != '/') {
		len--;
	}
	return len;
}
