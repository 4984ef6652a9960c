/*
 * config_drift.c — when the configuration files no longer say what a VM's vm.conf
 * froze at its creation, fvm-exec says so (config.h).
 *
 * Rules:
 *  - One line on stderr per run, naming each key that differs with both values and
 *    where the files' value comes from, and how to apply it (the option for one run,
 *    or editing vm.conf). Nothing is applied: vm.conf stays the VM's policy.
 *  - Only keys the VM took from the configuration files: a key given on the command
 *    line when the VM was made is listed in vm.conf's marker line and skipped, and so
 *    is a key given on this run's command line (it wins anyway). A vm.conf without the
 *    marker line (made by an earlier fvm) is not compared.
 *  - vm.conf is in the control area, which no process of a VM can write; it is read
 *    without following a link, as a regular file of bounded size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "store/safefs.h"

/*
 * vm.conf's comment line naming the keys that did not come from the configuration files:
 * those given on the command line at creation (a user who edits a key of vm.conf adds it
 * here to keep it out of the comparison). A vm.conf without it (a VM made before fvm
 * wrote it) is not compared: where its keys came from is unknown.
 */
#define CLI_MARKER "# not from the configuration files:"

void exec_config_write_cli_marker(const struct exec_config *c, FILE *out)
{
	fputs(CLI_MARKER, out);
	for (int k = 0; k < K_NKEYS; k++) {
		if (!(exec_opts[k].flags & (OPT_CLI | OPT_RUN)) && c->n[k] &&
		    strncmp(c->vals[k][0].origin, "--", 2) == 0) {
			fprintf(out, " %s", exec_opts[k].name);
		}
	}
	fputc('\n', out);
}

/* Marks in CLI[] the keys vm.conf (VMCONF) names on its marker line; false: no line. */
static bool read_cli_marker(const char *vmconf, bool cli[K_NKEYS])
{
	bool found = false;
	int fd = open(vmconf, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	struct stat st;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > SAFE_MAX_CONF ||
	    !(f = fdopen(fd, "r"))) {
		if (fd >= 0) {
			close(fd);
		}
		return false;
	}
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, CLI_MARKER, strlen(CLI_MARKER)) != 0) {
			continue;
		}
		found = true;
		for (char *save, *w = strtok_r(line + strlen(CLI_MARKER), " \t\n", &save); w;
		     w = strtok_r(NULL, " \t\n", &save)) {
			int k = exec_opt_find(w);
			if (k >= 0) {
				cli[k] = true;
			}
		}
	}
	free(line);
	fclose(f);
	return found;
}

/* Key K's values in C joined with ", ", or its default; malloc'd. */
static char *joined(const struct exec_config *c, int k)
{
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	if (!m) {
		return NULL;
	}
	if (!c->n[k]) {
		fputs(exec_opts[k].def ? exec_opts[k].def : "", m);
	}
	for (size_t i = 0; i < c->n[k]; i++) {
		fprintf(m, "%s%s", i ? ", " : "", c->vals[k][i].text);
	}
	fclose(m);
	return s;
}

int exec_config_drift(const struct exec_config *files, const struct exec_config *vmc,
		      const struct exec_config *cli, const char *vmconf, const char *vm, FILE *out)
{
	bool given[K_NKEYS] = {false};
	char *line = NULL, *hint = NULL;
	size_t len = 0;
	FILE *m;
	int ndiff = 0;

	if (!read_cli_marker(vmconf, given)) {
		return 0;
	}
	if (!(m = open_memstream(&line, &len))) {
		return -1;
	}
	for (int k = 0; k < K_NKEYS; k++) {
		if ((exec_opts[k].flags & (OPT_CLI | OPT_RUN)) || given[k] || cli->n[k]) {
			continue;
		}
		char *now = joined(files, k), *was = joined(vmc, k);
		if (now && was && strcmp(now, was) != 0) {
			fprintf(m, "%s%s = %s in vm.conf, %s in %s", ndiff ? "; " : "", exec_opts[k].name,
				*was ? was : "(unset)", *now ? now : "(unset)",
				files->n[k] ? files->vals[k][0].origin : "the defaults");
			/* The options that give the files' values for one run (a value that
			 * resets a key has no option form). */
			for (size_t i = 0; i < files->n[k]; i++) {
				char *h = NULL;
				if (asprintf(&h, "%s%s--%s %s", hint ? hint : "", hint ? " " : "",
					     exec_opts[k].name, files->vals[k][i].text) >= 0) {
					free(hint);
					hint = h;
				}
			}
			ndiff++;
		}
		free(now);
		free(was);
	}
	fclose(m);
	if (ndiff && line) {
		fprintf(out, "fvm-exec: VM %s keeps the policy of its vm.conf, which the configuration files "
			     "no longer say: %s. To apply the files' values, %s%s%sedit %s (fvm.conf(5))\n",
			vm, line, hint ? "give " : "", hint ? hint : "", hint ? " for one run, or " : "", vmconf);
	}
	free(hint);
	free(line);
	return ndiff;
}
