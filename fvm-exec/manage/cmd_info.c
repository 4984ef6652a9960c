/*
 * cmd_info.c — fvm info NAME [--json]: a VM's state, sizes, changes by kind, the
 * changes commit would skip as conflicts (when there are some), processes
 * and its effective policy (the compiled policy fvm-exec last wrote, and vm.conf).
 * Every text it did not make itself (paths, process names, the lines of vm.conf) is
 * quoted (store/quote.h).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store/human.h"
#include "store/layers.h"
#include "fvm/layout.h"
#include "json.h"
#include "store/commit.h"
#include "store/originlog.h"
#include "store/procs.h"
#include "store/quote.h"
#include "store/safefs.h"
#include "vmcast_sub.h"

/*
 * The text of the VM's vm.conf (malloc'd), or NULL when there is none or it cannot be
 * read (reported: a FIFO, a link, a file too big).
 */
static char *read_conf(const char *dir)
{
	int cfd = store_ctl_open(dir), ret;
	char *buf = NULL;
	size_t len;

	if (cfd < 0) {
		return NULL;
	}
	ret = safe_read_file(cfd, FVM_VMCONF_FILE, SAFE_MAX_CONF, &buf, &len);
	close(cfd);
	if (ret < 0 && ret != -ENOENT) {
		char ctl[PATH_MAX];
		store_ctl_path(dir, ctl, sizeof(ctl));
		warnx("%s/%s: %s", ctl, FVM_VMCONF_FILE, safe_strerror(ret));
	}
	return buf;
}

/* The compiled policy of the VM at DIR into POL: -1 when there is none (never run). */
static int load_policy(const char *dir, struct fvm_policy *pol)
{
	char path[32];
	int cfd = store_ctl_open(dir), fd, ret;

	if (cfd < 0) {
		return -1;
	}
	fd = safe_open_control(cfd, FVM_POLICY_FILE, O_RDONLY, 0);
	close(cfd);
	if (fd < 0) {
		if (fd != -ENOENT) {
			char ctl[PATH_MAX];
			store_ctl_path(dir, ctl, sizeof(ctl));
			warnx("%s/%s: %s", ctl, FVM_POLICY_FILE, safe_strerror(fd));
		}
		return -1;
	}
	/* The fd, checked a regular file, is read by the core's loader by its /proc name. */
	safe_fd_path(fd, path);
	ret = fvm_policy_load(pol, path);
	close(fd);
	return ret;
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
	if (pol->disk_limit) {
		printf("  disk-limit  %" PRIu64 "\n", pol->disk_limit);
	} else {
		printf("  disk-limit  none\n");
	}
	if (pol->files_limit) {
		printf("  files-limit %" PRIu64 "\n", pol->files_limit);
	} else {
		printf("  files-limit none\n");
	}
	for (uint32_t i = 0; i < pol->nrules; i++) {
		printf("  %-11s ", fvm_class_name(pol->rules[i].klass));
		fvm_quote_fputs(pol->blob + pol->rules[i].off, stdout);
		putchar('\n');
	}
	printf("  allow       %u rule%s\n", pol->nallow, pol->nallow == 1 ? "" : "s");
}

static void print_policy_json(const struct fvm_policy *pol)
{
	printf("\"policy\":{\"net\":\"%s\",\"loopback\":\"%s\",\"copy_limit\":%" PRIu64 ",\"disk_limit\":%" PRIu64
	       ",\"files_limit\":%" PRIu64 ",\"paths\":[",
	       fvm_net_name(pol->net), pol->loopback == FVM_LOOPBACK_PRIVATE ? "private" : "shared",
	       pol->copy_limit, pol->disk_limit, pol->files_limit);
	for (uint32_t i = 0; i < pol->nrules; i++) {
		printf("%s{\"class\":\"%s\",\"path\":", i ? "," : "", fvm_class_name(pol->rules[i].klass));
		json_string(stdout, pol->blob + pol->rules[i].off);
		printf("}");
	}
	printf("],\"allow_rules\":%u}", pol->nallow);
}

/* How many changes of CH commit would skip as conflicts (store/commit.h). */
static size_t count_conflicts(const char *dir, const struct fvm_changes *ch)
{
	char file[PATH_MAX + 16];
	struct originlog orig;
	size_t k = 0;

	snprintf(file, sizeof(file), "%s/%s", dir, FVM_ORIGINS_FILE);
	if (originlog_load(file, &orig) < 0) {
		return 0;
	}
	for (size_t i = 0; i < ch->n; i++) {
		k += commit_conflict(ch, i, &orig) != NULL;
	}
	originlog_free(&orig);
	return k;
}

int cmd_info(const struct fvm_store *s, int argc, char **argv)
{
	struct cli_one o;
	char when[32], who[4096] = "", size[32];
	struct fvm_policy *pol;
	struct fvm_changes ch;
	struct cli_counts n;
	struct store_usage u;
	struct vm_procs procs = {0};
	size_t nprocs;
	int rc;

	if ((rc = cli_one_vm(s, argc, argv, true, &o)) != 0) {
		return rc;
	}
	const char *name = o.name, *dir = o.dir;
	const bool json = o.json, bytes = o.bytes;
	if (!(pol = malloc(sizeof(*pol)))) {
		warn("VM %s", name);
		return FVM_EXIT_PARTIAL;
	}
	if ((rc = cli_scan(dir, NULL, 0, &ch)) != 0) {
		free(pol);
		return rc;
	}
	if (store_vm_usage(dir, &u) < 0) {
		u.entries = u.bytes = 0;
	}
	cli_count(&ch, &n);
	size_t nconf = count_conflicts(dir, &ch);
	fvm_changes_free(&ch);
	if (load_policy(dir, pol) < 0) {
		fvm_policy_init(pol); /* never run yet: the defaults apply */
	}
	vm_procs_find(dir, &procs);
	vm_procs_describe(&procs, true, who, sizeof(who));
	cli_time(u.last_used, when, sizeof(when));
	char *conf = read_conf(dir);
	struct layer_list ll;
	if (layer_list_read(dir, &ll) < 0) {
		ll.n = 0;
	}
	if (json) {
		printf("{\"name\":");
		json_string(stdout, name);
		printf(",\"directory\":");
		json_string(stdout, dir);
		printf(",\"state\":\"%s\",\"last_used\":\"%s\",\"upper_entries\":%llu,\"upper_bytes\":%llu,"
		       "\"changes\":{\"added\":%zu,\"modified\":%zu,\"deleted\":%zu},",
		       cli_state(dir, &nprocs), when, u.entries, u.bytes, n.added, n.modified, n.deleted);
		/* "conflicts" only when there are some: the output of others stays as it was. */
		if (nconf) {
			printf("\"conflicts\":%zu,", nconf);
		}
		/* "layers" only for a VM that has some: the output of others stays as it was. */
		for (size_t i = 0; i < ll.n; i++) {
			printf("%s\"%s\"%s", i ? "," : "\"layers\":[", ll.id[i], i + 1 == ll.n ? "]," : "");
		}
		vmcast_info_print(dir, stdout, true);
		printf("\"processes\":[");
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
		fputs("name:       ", stdout);
		fvm_quote_fputs(name, stdout);
		fputs("\ndirectory:  ", stdout);
		fvm_quote_fputs(dir, stdout);
		if (nprocs) {
			printf("\nstate:      %s (%zu process%s)\n", state, nprocs, nprocs == 1 ? "" : "es");
		} else {
			printf("\nstate:      %s\n", state);
		}
		printf("last used:  %s\n", when);
		human_size(u.bytes, bytes, size, sizeof(size));
		printf("upper:      %llu entries, %s%s\n", u.entries, size, bytes ? " bytes" : "");
		if (ll.n) {
			printf("layers:     %zu (fvm snapshots %s)\n", ll.n, name);
		}
		printf("changes:    %zu added, %zu modified, %zu deleted\n", n.added, n.modified, n.deleted);
		if (nconf) {
			fputs("conflicts:  ", stdout);
			printf("%zu (the host's file is not the one the VM copied: fvm diff ", nconf);
			fvm_quote_fputs(name, stdout);
			fputs(" --conflicts)\n", stdout);
		}
		printf("processes:  %s\n", procs.n ? who : "none"); /* names quoted by procs.c */
		vmcast_info_print(dir, stdout, false);
		print_policy_text(pol);
		if (conf) {
			printf("vm.conf:\n");
			for (char *line = strtok(conf, "\n"); line; line = strtok(NULL, "\n")) {
				fputs("  ", stdout);
				fvm_quote_fputs(line, stdout);
				putchar('\n');
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
