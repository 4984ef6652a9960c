/*
 * cmd_info.c — fvm info NAME [--json]: a VM's state, sizes, changes by kind, processes
 * and its effective policy (the compiled policy fvm-exec last wrote, and vm.conf).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fvm/layout.h"
#include "json.h"
#include "store/procs.h"

/* The text of DIR/vm.conf (malloc'd), or NULL when there is none. */
static char *read_conf(const char *dir)
{
	char path[PATH_MAX + 16];
	FILE *f;
	char *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, FVM_VMCONF_FILE);
	if (!(f = fopen(path, "re"))) {
		return NULL;
	}
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		fwrite(chunk, 1, n, m);
	}
	if (m) {
		fclose(m);
	}
	fclose(f);
	return buf;
}

static void print_policy_text(const struct fvm_policy *pol)
{
	printf("policy:\n  net         %s\n  loopback    %s\n", fvm_net_name(pol->net),
	       pol->loopback == FVM_LOOPBACK_PRIVATE ? "private" : "shared");
	if (pol->copy_limit) {
		printf("  copy-limit  %" PRIu64 "\n", pol->copy_limit);
	} else {
		printf("  copy-limit  none\n");
	}
	for (uint32_t i = 0; i < pol->nrules; i++) {
		printf("  %-11s %s\n", fvm_class_name(pol->rules[i].klass), pol->blob + pol->rules[i].off);
	}
	printf("  allow       %u rule%s\n", pol->nallow, pol->nallow == 1 ? "" : "s");
}

static void print_policy_json(const struct fvm_policy *pol)
{
	printf("\"policy\":{\"net\":\"%s\",\"loopback\":\"%s\",\"copy_limit\":%" PRIu64 ",\"paths\":[",
	       fvm_net_name(pol->net), pol->loopback == FVM_LOOPBACK_PRIVATE ? "private" : "shared",
	       pol->copy_limit);
	for (uint32_t i = 0; i < pol->nrules; i++) {
		printf("%s{\"class\":\"%s\",\"path\":", i ? "," : "", fvm_class_name(pol->rules[i].klass));
		json_string(stdout, pol->blob + pol->rules[i].off);
		printf("}");
	}
	printf("],\"allow_rules\":%u}", pol->nallow);
}

int cmd_info(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	char dir[PATH_MAX], when[32], who[4096] = "", path[PATH_MAX + 16];
	struct fvm_policy *pol = malloc(sizeof(*pol));
	struct fvm_changes ch;
	struct cli_counts n;
	struct store_usage u;
	struct vm_procs procs = {0};
	bool json = false;
	size_t nprocs;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j') {
			fprintf(stderr, "usage: fvm info NAME [--json]\n");
			free(pol);
			return FVM_EXIT_USAGE;
		}
		json = true;
	}
	if (optind + 1 != argc || !pol) {
		fprintf(stderr, "usage: fvm info NAME [--json]\n");
		free(pol);
		return FVM_EXIT_USAGE;
	}
	const char *name = argv[optind];
	if ((rc = cli_vm(s, name, dir, sizeof(dir))) != 0 || (rc = cli_scan(dir, NULL, 0, &ch)) != 0) {
		free(pol);
		return rc;
	}
	if (store_vm_usage(dir, &u) < 0) {
		u.entries = u.bytes = 0;
	}
	cli_count(&ch, &n);
	fvm_changes_free(&ch);
	snprintf(path, sizeof(path), "%s/%s", dir, FVM_POLICY_FILE);
	if (fvm_policy_load(pol, path) < 0) {
		fvm_policy_init(pol); /* never run yet: the defaults apply */
	}
	vm_procs_find(dir, &procs);
	vm_procs_describe(&procs, true, who, sizeof(who));
	cli_time(u.last_used, when, sizeof(when));
	char *conf = read_conf(dir);
	if (json) {
		printf("{\"name\":");
		json_string(stdout, name);
		printf(",\"directory\":");
		json_string(stdout, dir);
		printf(",\"state\":\"%s\",\"last_used\":\"%s\",\"upper_entries\":%llu,\"upper_bytes\":%llu,"
		       "\"changes\":{\"added\":%zu,\"modified\":%zu,\"deleted\":%zu},\"processes\":[",
		       cli_state(dir, &nprocs), when, u.entries, u.bytes, n.added, n.modified, n.deleted);
		for (size_t i = 0; i < procs.n; i++) {
			printf("%s%d", i ? "," : "", (int)procs.v[i].pid);
		}
		printf("],");
		print_policy_json(pol);
		printf(",\"vm_conf\":");
		if (conf) {
			json_string(stdout, conf);
		} else {
			printf("null");
		}
		printf("}\n");
	} else {
		const char *state = cli_state(dir, &nprocs);
		printf("name:       %s\ndirectory:  %s\n", name, dir);
		if (nprocs) {
			printf("state:      %s (%zu process%s)\n", state, nprocs, nprocs == 1 ? "" : "es");
		} else {
			printf("state:      %s\n", state);
		}
		printf("last used:  %s\n", when);
		printf("upper:      %llu entries, %llu bytes\n", u.entries, u.bytes);
		printf("changes:    %zu added, %zu modified, %zu deleted\n", n.added, n.modified, n.deleted);
		printf("processes:  %s\n", procs.n ? who : "none");
		print_policy_text(pol);
		if (conf) {
			printf("vm.conf:\n");
			for (char *line = strtok(conf, "\n"); line; line = strtok(NULL, "\n")) {
				printf("  %s\n", line);
			}
		} else {
			printf("vm.conf:    none\n");
		}
	}
	free(conf);
	vm_procs_free(&procs);
	free(pol);
	return 0;
}
