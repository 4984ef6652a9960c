/*
 * json.h — the little JSON the tools print: strings escaped per RFC 8259.
 *
 * Bytes that are not valid UTF-8 cannot be represented in JSON text; they are written
 * as \u00XX escapes of the byte value (documented in fvm(1)), so output is always valid
 * JSON and a path survives a round trip for ASCII and UTF-8 names.
 */
#ifndef FVM_MANAGE_JSON_H
#define FVM_MANAGE_JSON_H

#include <stdio.h>

/* Writes S as a JSON string literal (with the quotes) to OUT. */
void json_string(FILE *out, const char *s);

#endif
