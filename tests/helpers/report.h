/*
 * report.h — the one line every syscall probe prints for a call: "OP: ok" or "OP: ERRNAME"
 * (try-syscall.c, try-truncate.c, attack.c). Tests compare these lines, so all probes
 * must print them alike. report() returns the probe's exit status: 0 or 1.
 */
#ifndef FVM_TEST_REPORT_H
#define FVM_TEST_REPORT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static inline int report(const char *op, long ret)
{
	if (ret < 0) {
		printf("%s: %s\n", op, strerrorname_np(errno));
		return 1;
	}
	printf("%s: ok\n", op);
	return 0;
}

#endif
