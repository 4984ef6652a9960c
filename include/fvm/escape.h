/*
 * escape.h — the one escaping of a name inside fvm's line-oriented control files: the
 * origins log (origins.h), the IPC registry (ipcname.h) and the commit journal
 * (fvm-exec/store/journal.h). Shared by libfvm and the tools. No system calls.
 *
 * A name is any bytes but NUL. Escaped, '\n' is written "\n" and '\\' is written "\\"
 * (a backslash and a letter), every other byte as itself, so a name fits on one line
 * and a record can end with it. The escaped text holds no newline and no lone
 * backslash; anything else is refused by fvm_unescape, never guessed at.
 */
#ifndef FVM_ESCAPE_H
#define FVM_ESCAPE_H

#include <stddef.h>

/* The room the escape of a name of LEN bytes may need, its NUL included. */
#define FVM_ESCAPED_MAX(len) (2 * (len) + 1)

/*
 * Writes the escape of NAME into OUT (OUTLEN bytes, NUL-terminated). Returns its
 * length, or -ENAMETOOLONG when it does not fit (then OUT holds no usable text). Never
 * truncates.
 */
int fvm_escape(const char *name, char *out, size_t outlen);

/*
 * Unescapes TEXT in place (the result is never longer). Returns the length of the
 * name, or -EINVAL when TEXT is not an escape: a newline, a backslash followed by
 * anything but 'n' or '\\', or a backslash at the end (then TEXT is left partly
 * rewritten and must not be used).
 */
int fvm_unescape(char *text);

/*
 * The same for a field of a line whose fields are separated by spaces (the IPC
 * registry, ipcname.h): ' ' is also written "\s" and '\t' "\t", so the escape holds no
 * space or tab; fvm_unescape_field refuses a raw space or tab, and accepts the four
 * escapes. Same returns as above.
 */
int fvm_escape_field(const char *name, char *out, size_t outlen);
int fvm_unescape_field(char *text);

#endif
