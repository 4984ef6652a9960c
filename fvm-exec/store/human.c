/*
 * human.c — sizes for people (human.h), with libbsd's humanize_number(3).
 *
 * Rules:
 * - Powers of 1024, one decimal below 10 of a unit, no space, "B" for bytes: what
 *   `ls -lh` shows, at most four characters. --bytes (list, info, snapshots) and --json
 *   give the exact count.
 * - A figure not measured is "-", never a number.
 */
#include <bsd/libutil.h>
#include <stdio.h>

#include "store/human.h"

void human_size(unsigned long long bytes, bool exact, char *out, size_t len)
{
	if (bytes == HUMAN_UNKNOWN) {
		snprintf(out, len, "-");
	} else if (exact || len < 5 ||
		   humanize_number(out, 5, (int64_t)bytes, "", HN_AUTOSCALE, HN_DECIMAL | HN_NOSPACE | HN_B) < 0) {
		snprintf(out, len, "%llu", bytes);
	}
}
