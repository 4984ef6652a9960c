/*
 * json.c — JSON string literals for the tools' --json output (json.h).
 *
 * UTF-8 validity and the characters unsafe on a terminal are decided by
 * store/quote.c, as for the tools' other output.
 */
#include <string.h>

#include "json.h"
#include "store/quote.h"

void json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str);

	putc('"', out);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		int n = fvm_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			/* Not UTF-8: the byte as a lone low surrogate, as PEP 383 maps it. */
			fprintf(out, "\\udc%02x", s[i++]);
			continue;
		}
		if (cp == '"' || cp == '\\') {
			putc('\\', out);
			putc((int)cp, out);
		} else if (cp == '\n') {
			fputs("\\n", out);
		} else if (cp == '\t') {
			fputs("\\t", out);
		} else if (fvm_char_unsafe(cp)) {
			fprintf(out, "\\u%04x", (unsigned)cp); /* all of them are in the BMP */
		} else {
			fwrite(s + i, 1, (size_t)n, out);
		}
		i += (size_t)n;
	}
	putc('"', out);
}
