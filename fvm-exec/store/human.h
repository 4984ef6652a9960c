/*
 * human.h — sizes for people, one format for every tool: "512B", "4.0K", "114M", as
 * ls -lh and df -h print them. fvm list, info, snapshots, stats and top show sizes so,
 * and so does fvm-exec --stats.
 */
#ifndef FVM_STORE_HUMAN_H
#define FVM_STORE_HUMAN_H

#include <stdbool.h>
#include <stddef.h>

/* A size that was not measured (history.h: HISTORY_UNKNOWN): shown as "-". */
#define HUMAN_UNKNOWN (~0ull)

/*
 * BYTES for people into OUT (size LEN), or the exact count when EXACT (--bytes); "-"
 * for HUMAN_UNKNOWN either way.
 */
void human_size(unsigned long long bytes, bool exact, char *out, size_t len);

#endif
