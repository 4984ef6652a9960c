/*
 * quote.c — names and text made safe to print (quote.h): the one place that decides
 * which bytes may reach a terminal raw.
 *
 * Invariants: what fvm_quote_fputs writes holds no byte below 0x20, no DEL, only
 * valid UTF-8 and no code point fvm_char_unsafe names; fvm_unquote of it gives the
 * name back; a name that needs no quoting is written unchanged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/quote.h"

int fvm_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t v, min;
	int n;

	if (len == 0) {
		return 0;
	}
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xc2) {
		return 0; /* a continuation byte, or the lead of an overlong pair */
	} else if (s[0] < 0xe0) {
		n = 2, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] < 0xf0) {
		n = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] < 0xf5) {
		n = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)n > len) {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		return 0;
	}
	*cp = v;
	return n;
}

bool fvm_char_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
	       cp == 0x2029;
}

/* The C escapes of the bytes 7 to 13, in order. */
static const char named_escapes[] = "abtnvfr";

static void put_byte_escape(unsigned char b, FILE *out)
{
	if (b >= 7 && b <= 13) {
		putc('\\', out);
		putc(named_escapes[b - 7], out);
	} else {
		fprintf(out, "\\%03o", b);
	}
}

/*
 * Writes LEN bytes of S. IN_QUOTES: S is a name inside quotes, so a quote and a
 * backslash are escaped too, and a TAB is; otherwise a TAB is kept (text).
 */
static void put_escaped(const unsigned char *s, size_t len, bool in_quotes, FILE *out)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		int n = fvm_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			put_byte_escape(s[i++], out);
		} else if (cp == '\t' && !in_quotes) {
			putc(s[i++], out);
		} else if (in_quotes && (cp == '"' || cp == '\\')) {
			putc('\\', out);
			putc(s[i++], out);
		} else if (fvm_char_unsafe(cp)) {
			for (int k = 0; k < n; k++) {
				put_byte_escape(s[i++], out);
			}
		} else {
			fwrite(s + i, 1, (size_t)n, out);
			i += (size_t)n;
		}
	}
}

static bool quote_needed(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		int n = fvm_utf8_decode(s + i, len - i, &cp);
		if (n == 0 || cp == '"' || cp == '\\' || fvm_char_unsafe(cp)) {
			return true;
		}
		i += (size_t)n;
	}
	return false;
}

void fvm_quote_fputs(const char *name, FILE *out)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name);

	if (!quote_needed(s, len)) {
		fwrite(s, 1, len, out);
		return;
	}
	putc('"', out);
	put_escaped(s, len, true, out);
	putc('"', out);
}

char *fvm_quote_dup(const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m) {
		return NULL;
	}
	fvm_quote_fputs(name, m);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void fvm_quote_text(const char *text, size_t len, FILE *out)
{
	put_escaped((const unsigned char *)text, len, false, out);
}

/* The value of the three octal digits at S (the first 0 to 3), or -1. */
static int octal3(const char *s)
{
	if (s[0] < '0' || s[0] > '3' || s[1] < '0' || s[1] > '7' || s[2] < '0' || s[2] > '7') {
		return -1;
	}
	return (s[0] - '0') << 6 | (s[1] - '0') << 3 | (s[2] - '0');
}

int fvm_unquote(char *s)
{
	size_t len = strlen(s);
	char *w = s;

	if (s[0] != '"') {
		return 0;
	}
	if (len < 2 || s[len - 1] != '"') {
		return -EINVAL;
	}
	const char *end = s + len - 1; /* the closing quote */
	for (const char *r = s + 1; r < end; r++) {
		const char *named;
		int v;
		if (*r == '"') {
			return -EINVAL;
		}
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		if (++r == end) {
			return -EINVAL;
		}
		if (*r == '"' || *r == '\\') {
			*w++ = *r;
		} else if ((named = strchr(named_escapes, *r)) != NULL) {
			*w++ = (char)(7 + (named - named_escapes));
		} else if (end - r >= 3 && (v = octal3(r)) > 0) {
			*w++ = (char)v;
			r += 2;
		} else {
			return -EINVAL;
		}
	}
	*w = '\0';
	return 0;
}
