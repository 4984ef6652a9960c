/*
 * json.c — JSON string literals for the tools' --json output (json.h).
 */
#include "json.h"

/* Length of the valid UTF-8 sequence at S, or 0 when S does not start one. */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (s[0] >= 0xf8) {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
	}
	return n;
}

void json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	putc('"', out);
	while (*s) {
		int n;
		if (*s == '"' || *s == '\\') {
			putc('\\', out);
			putc(*s++, out);
		} else if (*s == '\n') {
			fputs("\\n", out);
			s++;
		} else if (*s == '\t') {
			fputs("\\t", out);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s++);
		} else if (*s < 0x80) {
			putc(*s++, out);
		} else if ((n = utf8_len(s)) > 0) {
			fwrite(s, 1, (size_t)n, out);
			s += n;
		} else {
			fprintf(out, "\\u%04x", *s++);
		}
	}
	putc('"', out);
}
