/*
 * config_drift.c — a VM's vm.conf and the configuration files: its text, its marker
 * line, and fvm-exec's line when the files no longer say what vm.conf froze (config.h).
 *
 * Rules:
 *  - One line on stderr per run, naming each key that differs with both values and
 *    where the files' value comes from, and how to apply it (the options for one run,
 *    or `fvm config VM --reset`). Nothing is applied: vm.conf stays the VM's policy.
 *  - vm.conf's text is written here too (exec_vmconf_text), for fvm-exec at a VM's
 *    creation and for fvm config: one writer of its marker line, one reader.
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

char *exec_vmconf_text(const struct exec_config *c, const char *vm, const bool *notfiles)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m) {
		return NULL;
	}
	fprintf(m, "# vm.conf of VM %s: its policy, fixed when it was created (fvm.conf(5)).\n"
		   "# Edit to change it; the command line still overrides it for one run.\n", vm);
	fputs(CLI_MARKER, m);
	for (int k = 0; k < K_NKEYS; k++) {
		if (exec_opts[k].flags & (OPT_CLI | OPT_RUN)) {
			continue;
		}
		if (notfiles ? notfiles[k] : c->n[k] && strncmp(c->vals[k][0].origin, "--", 2) == 0) {
			fprintf(m, " %s", exec_opts[k].name);
		}
	}
	fputc('\n', m);
	exec_config_write(c, m, false);
	if (fclose(m) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

bool exec_vmconf_marker(const char *vmconf, bool cli[K_NKEYS])
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

	if (!exec_vmconf_marker(vmconf, given)) {
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
			     "no longer say: %s. To apply the files' values: %s%s%s`fvm config %s --reset`\n",
			vm, line, hint ? "give " : "", hint ? hint : "", hint ? " for one run, or " : "", vm);
	}
	free(hint);
	free(line);
	return ndiff;
}
