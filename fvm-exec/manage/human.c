/*
 * human.c — sizes for people: "66B", "4.0K", "1.2M", as ls -h and df -h print them
 * (cmd.h: cli_size), with libbsd's humanize_number(3).
 *
 * Rules:
 * - Powers of 1024, one decimal below 10 of a unit, no space, "B" for bytes: what
 *   `ls -lh` shows. --bytes (list, info, snapshots) and --json give the exact count.
 */
#include <bsd/libutil.h>
#include <stdio.h>

#include "cmd.h"

void cli_size(unsigned long long bytes, bool exact, char *out, size_t len)
{
	if (exact || len < 5 ||
	    humanize_number(out, 5, (int64_t)bytes, "", HN_AUTOSCALE, HN_DECIMAL | HN_NOSPACE | HN_B) < 0) {
		snprintf(out, len, "%llu", bytes);
	}
}
