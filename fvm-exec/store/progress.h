/*
 * progress.h — the progress line of long operations (commit, reset) on stderr.
 *
 * Shown only when stderr is a terminal and the operation has more than
 * PROGRESS_THRESHOLD items; redrawn at most ten times a second; erased at the end.
 * Nothing at all is written when stderr is not a terminal, so output stays stable.
 */
#ifndef FVM_STORE_PROGRESS_H
#define FVM_STORE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define PROGRESS_THRESHOLD 300

struct progress {
	const char *what;
	size_t total, done;
	bool on;
	long long last_ms;
};

void progress_start(struct progress *p, const char *what, size_t total);
void progress_step(struct progress *p);
void progress_end(struct progress *p);

#endif
