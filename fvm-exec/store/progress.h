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

/*
 * A byte-counting line (export, import): "WHAT: FILES files, BYTES, RATE/s, ETA Ns".
 * TOTAL_BYTES may be 0 (unknown: no ETA). ON: the caller wants it (and stderr is a
 * terminal). progress_bytes sets the counts; progress_end erases the line.
 */
struct progress_bytes {
	const char *what;
	unsigned long long total, bytes, files;
	bool on;
	long long start_ms, last_ms;
};

void progress_bytes_start(struct progress_bytes *p, const char *what, unsigned long long total, bool on);
void progress_bytes(struct progress_bytes *p, unsigned long long files, unsigned long long bytes);
void progress_bytes_end(struct progress_bytes *p);

#endif
