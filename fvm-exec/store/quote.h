/*
 * quote.h — how the tools print a name they did not choose (fvm(1), QUOTING).
 *
 * A VM names its files, and fvm diff, fvm commit, fvm info and fvm-exec --review print
 * those names to a person at a terminal. Every such name goes through fvm_quote_fputs
 * (or its string form), so that no name can move the cursor, erase or forge a line.
 *
 * The convention is git's core.quotePath=false: a name made only of printable
 * characters (ASCII, and valid UTF-8 that is not a control) is printed as is; any
 * other name is printed in double quotes, with \" \\ \a \b \t \n \v \f \r for those
 * bytes and \ooo (three octal digits) for each other byte of a control character
 * (C0, DEL, C1), of a bidirectional mark, embedding, override or isolate, of the
 * line and paragraph separators, and for each byte that is not part of valid UTF-8.
 */
#ifndef FVM_STORE_QUOTE_H
#define FVM_STORE_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Decodes the UTF-8 sequence at S (at most LEN bytes). Returns its length (1 to 4)
 * with the code point in *CP, or 0 when S does not start a valid sequence: overlong
 * forms, surrogates and code points above U+10FFFF are not valid.
 */
int fvm_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/*
 * True for the code points that must not reach a terminal raw: C0 controls, DEL, C1
 * controls, U+200E/U+200F, U+202A..U+202E, U+2066..U+2069, U+2028 and U+2029.
 */
bool fvm_char_unsafe(uint32_t cp);

/* Writes NAME to OUT as the convention above says. */
void fvm_quote_fputs(const char *name, FILE *out);

/* NAME quoted, as a malloc'd string (NULL when out of memory). */
char *fvm_quote_dup(const char *name);

/*
 * Writes LEN bytes of TEXT, one line of a file's content without its newline, with
 * the same escapes for unsafe bytes but no quotes: a TAB, a quote and a backslash
 * are written as they are (fvm diff -p).
 */
void fvm_quote_text(const char *text, size_t len, FILE *out);

/*
 * Undoes fvm_quote_fputs in place: S is a quoted name (starting and ending with '"')
 * or an unquoted one (left as is). Returns 0, or -EINVAL for a bad escape, a NUL
 * escape or a missing closing quote.
 */
int fvm_unquote(char *s);

#endif
