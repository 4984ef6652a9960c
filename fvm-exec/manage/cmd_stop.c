/*
 * cmd_stop.c — fvm stop NAME [--kill-after D]: end every process of a VM: SIGTERM,
 * then SIGKILL to those still there after D (default 5s). Returns when none is left
 * and the VM's runs are over (its lock free): exit 0; 1 when some did not end.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "store/procs.h"

#define STOP_GRACE_MAX_MS (24ull * 3600 * 1000)

/* D: a number of seconds, or with a suffix ms, s, m or h. Milliseconds, or -1. */
static long long parse_duration_ms(const char *d)
{
	static const struct {
		const char *suffix;
		unsigned long long ms;
	} units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	char *end;
	unsigned long long v;

	if (*d < '0' || *d > '9') {
		return -1;
	}
	v = strtoull(d, &end, 10);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			return v <= STOP_GRACE_MAX_MS / units[i].ms ? (long long)(v * units[i].ms) : -1;
		}
	}
	return -1;
}

int cmd_stop(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {{"kill-after", required_argument, NULL, 'k'},
						 {NULL, 0, NULL, 0}};
	long long grace = 5000;
	char dir[PATH_MAX], who[1024];
	struct vm_procs p;
	int c, rc;

	while ((c = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
		if (c != 'k' || (grace = parse_duration_ms(optarg)) < 0) {
			if (c == 'k') {
				warnx("--kill-after %s: not a duration: use a number with an optional ms, s, m or h suffix (at most 24h)",
				      optarg);
			}
			return cli_usage(NULL);
		}
	}
	if (optind + 1 != argc) {
		return cli_usage("one VM NAME is needed");
	}
	if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0) {
		return rc;
	}
	if (vm_procs_end(dir, (int)grace) == 0) {
		return 0;
	}
	if (vm_procs_find(dir, &p) == 0) {
		vm_procs_describe(&p, true, who, sizeof(who));
		vm_procs_free(&p);
		warnx("VM %s: these processes did not end: %s", argv[optind], who[0] ? who : "(none visible)");
	}
	return FVM_EXIT_PARTIAL;
}
