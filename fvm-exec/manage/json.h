/*
 * json.h — the little JSON the tools print: strings escaped per RFC 8259.
 *
 * Exact: every name maps to one JSON string and back. Control characters, C1 controls
 * and the bidirectional and separator code points are \uXXXX escapes of themselves
 * (so the text is safe on a terminal); a byte that is not part of valid UTF-8 is the
 * lone surrogate \udcXX (XX its value, 80 to ff), as Python's "surrogateescape"
 * decodes it: os.fsencode(json.loads(...)) gives back the name's bytes. A valid
 * name never contains a surrogate, so the two cannot be confused (fvm(1)).
 */
#ifndef FVM_MANAGE_JSON_H
#define FVM_MANAGE_JSON_H

#include <stdio.h>

/* Writes S as a JSON string literal (with the quotes) to OUT. */
void json_string(FILE *out, const char *s);

#endif
