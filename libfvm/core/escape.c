/*
 * escape.c — escaping names for fvm's control files (fvm/escape.h). No system calls,
 * no allocation.
 *
 * Invariants: fvm_unescape(fvm_escape(N)) is N for every NUL-free N; an output is
 * complete or refused, never cut short.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "fvm/escape.h"

int fvm_escape(const char *name, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *name; name++) {
		bool special = *name == '\n' || *name == '\\';
		/* Room for this byte's escape and the final NUL. */
		if (o + (special ? 2 : 1) >= outlen) {
			return -ENAMETOOLONG;
		}
		if (special) {
			out[o++] = '\\';
			out[o++] = *name == '\n' ? 'n' : '\\';
		} else {
			out[o++] = *name;
		}
	}
	if (o >= outlen || o > INT_MAX) {
		return -ENAMETOOLONG;
	}
	out[o] = '\0';
	return (int)o;
}

int fvm_unescape(char *text)
{
	char *w = text;

	for (const char *r = text; *r; r++) {
		if (*r == '\n') {
			return -EINVAL;
		}
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		if (r[1] != 'n' && r[1] != '\\') {
			return -EINVAL; /* also a backslash at the end: r[1] is the NUL */
		}
		*w++ = *++r == 'n' ? '\n' : '\\';
	}
	*w = '\0';
	return w - text > INT_MAX ? -EINVAL : (int)(w - text);
}
