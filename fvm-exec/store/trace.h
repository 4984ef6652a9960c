/*
 * trace.h — a traced run's record (fvm-exec --trace), in the VM's control area beside
 * the run's account: CTL/history/END-PID.trace, written only by the run's supervisor
 * (fvm-exec/run/trace.c), read by fvm trace and fvm provenance. Its one writer and
 * reader is store/trace.c.
 *
 * Text: "fvm-trace 1", then one line per fact, a keyword and fields separated by one
 * space, each field escaped with fvm_escape_field (fvm/escape.h: no space, tab or
 * newline in a field). The lines, in the order written:
 *
 *   start-ms MS | end-ms MS | supervisor PID | builder ID | cwd PATH
 *   command ARG...                  the command fvm-exec ran
 *   limit TEXT                      what this run could hide from its trace (one each)
 *   lost N                          records processes said they could not keep
 *   dropped N                       batches or records the supervisor refused or lacked
 *                                   room for
 *   input SOURCE WHERE ID SIZE MTIME DIGEST PID PATH
 *   exec SOURCE WHERE ID SIZE MTIME DIGEST PID PATH NAME ARG...
 *   env PID SET NAME                SET 1: the variable was set when asked for
 *   net PID WHAT                    "connect inet 1.2.3.4:80"
 *   write|create|delete PID PATH
 *   rename PID FROM TO
 *   output CHANGE TYPE DIGEST PATH  CHANGE A, M or D; TYPE file, dir, link, other;
 *                                   DIGEST sha256:HEX of a file, "link:TARGET", or "-"
 *
 * SOURCE is who says so: "libfvm" (the process's own word, any process of the VM could
 * have sent it) or "supervisor" (seen by fvm-exec's supervisor in a system call it
 * answered). WHERE is where the file lay at the end of the run: host, vm or layer. ID
 * is DEV:INO, MTIME nanoseconds, both as the process saw the file. DIGEST is
 * sha256:HEX, computed after the run, of a file whose identity (dev, ino, size, mtime,
 * ctime) is still the one it had when read; "changed-during-run" when it is not;
 * "written-by-run" when it changed and a process of the run said it wrote it (the
 * run's own intermediate); "hidden" when the path is hidden from the VM; "unreadable"
 * when it could not be read.
 * Outputs come from the VM's layer (what changed there during the run, by ctime, which
 * no process can set), not from any process's word.
 */
#ifndef FVM_STORE_TRACE_H
#define FVM_STORE_TRACE_H

#include <stddef.h>
#include <stdio.h>

#define TRACE_MAGIC "fvm-trace 1"
#define TRACE_SUFFIX ".trace"
#define TRACE_FILE_MAX (1ull << 30) /* bytes of a trace read, at most */

/* One line: its keyword and fields, unescaped. */
struct trace_line {
	char *key;
	char **f;
	size_t n;
};

struct trace {
	struct trace_line *v;
	size_t n, cap;
};

/* Writes one line KEY F[0] ... F[N-1] to OUT, the fields escaped. 0 or -errno. */
int trace_put(FILE *out, const char *key, const char *const *f, size_t n);

/* The same with a printf format for one field. */
int trace_putf(FILE *out, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Parses TEXT (LEN bytes) into T. A line that is not well formed is skipped; a text not
 * starting with TRACE_MAGIC is -EINVAL. 0 or -errno.
 */
int trace_parse(const char *text, size_t len, struct trace *t);

/*
 * The trace of run NAME (a history record's name, END-PID) of the VM whose control
 * directory is CTLDIR, into T. -ENOENT when that run was not traced. 0 or -errno.
 */
int trace_load(const char *ctldir, const char *name, struct trace *t);

/* The first line with KEY, or NULL; its first field, or DEF. */
const struct trace_line *trace_find(const struct trace *t, const char *key);
const char *trace_value(const struct trace *t, const char *key, const char *def);

void trace_free(struct trace *t);

#endif
