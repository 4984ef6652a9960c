/*
 * journal.h — the commit journal, commit.journal in the VM's control area (outside the
 * fence: the VM cannot write it; still read as a bounded regular file): what an fvm
 * commit is doing,
 * so that the next one, after a crash, can remove its temporaries and finish the work
 * with the same selection and options. Written whole (replace.h) before the commit's
 * first host change and removed after its last step; only this module writes or reads
 * it.
 *
 * Format, one item a line, paths escaped (fvm/escape.h):
 *   fvm-commit-journal 1      always the first line
 *   id ID                    once: the commit's id, 1 to 23 lowercase hex digits; it
 *                            names the commit's temporaries
 *   force 0|1                at most once (absent: 0)
 *   path VPATH               any number: the PATH arguments, absolute
 *   change N K VPATH         any number: change N of the commit's plan, K one of A M D
 *   end                      always the last line: the journal is complete
 */
#ifndef FVM_STORE_JOURNAL_H
#define FVM_STORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fvm/layout.h"

#define JOURNAL_FILE FVM_JOURNAL_FILE
#define JOURNAL_ID_MAX 23

struct journal_change {
	size_t idx;   /* N: the index of the change in the commit's plan */
	char kind;    /* 'A', 'M' or 'D' */
	char *vpath;
};

struct journal {
	char id[JOURNAL_ID_MAX + 1];
	bool force;
	char **paths;
	size_t npaths;
	struct journal_change *changes;
	size_t nchanges;
};

/*
 * Writes J as VMDIR's journal, whole: the old journal or the new one is there, never
 * a part. Returns 0, or -EINVAL for an id or a path the format cannot hold, or -errno.
 */
int journal_write(const char *vmdir, const struct journal *j);

/*
 * Parses journal text from F into J (free with journal_free). Returns 0, -ENOMEM, or
 * -EINVAL for text that is not a complete journal; *LINE is then the number of the
 * first line that is wrong (the line after the last one when "end" is missing).
 */
int journal_parse(FILE *f, struct journal *j, size_t *line);

/*
 * Reads VMDIR's journal into J. Returns 0, -ENOENT when there is none, or another
 * -errno; a journal that does not parse is reported (file and line) and gives -EINVAL.
 */
int journal_read(const char *vmdir, struct journal *j);

/* True when VMDIR holds a journal: a commit was interrupted. */
bool journal_exists(const char *vmdir);

/* Removes VMDIR's journal: the commit is complete. Returns 0 or -errno. */
int journal_remove(const char *vmdir);

/* Frees what journal_parse or journal_read filled in. */
void journal_free(struct journal *j);

#endif
