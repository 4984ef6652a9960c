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

/* The escape of NAME; FIELD also escapes the separators of a field (' ', '\t'). */
static int escape(const char *name, char *out, size_t outlen, bool field)
{
	size_t o = 0;

	for (; *name; name++) {
		char esc = *name == '\n' ? 'n' : *name == '\\' ? '\\'
			 : field && *name == ' ' ? 's' : field && *name == '\t' ? 't' : 0;
		/* Room for this byte's escape and the final NUL. */
		if (o + (esc ? 2 : 1) >= outlen) {
			return -ENAMETOOLONG;
		}
		if (esc) {
			out[o++] = '\\';
			out[o++] = esc;
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

static int unescape(char *text, bool field)
{
	char *w = text;

	for (const char *r = text; *r; r++) {
		if (*r == '\n' || (field && (*r == ' ' || *r == '\t'))) {
			return -EINVAL;
		}
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		/* Also a backslash at the end: r[1] is the NUL. */
		switch (*++r) {
		case 'n': *w++ = '\n'; break;
		case '\\': *w++ = '\\'; break;
		case 's': if (!field) return -EINVAL; *w++ = ' '; break;
		case 't': if (!field) return -EINVAL; *w++ = '\t'; break;
		default: return -EINVAL;
		}
	}
	*w = '\0';
	return w - text > INT_MAX ? -EINVAL : (int)(w - text);
}

int fvm_escape(const char *name, char *out, size_t outlen)
{
	return escape(name, out, outlen, false);
}

int fvm_unescape(char *text)
{
	return unescape(text, false);
}

int fvm_escape_field(const char *name, char *out, size_t outlen)
{
	return escape(name, out, outlen, true);
}

int fvm_unescape_field(char *text)
{
	return unescape(text, true);
}
