/*
 * cmd_trace.c — fvm trace NAME [--run N] [--json] [--outside PATH...]: what a traced run
 * (fvm-exec --trace) read, ran and changed, from its trace in the VM's control area
 * (store/trace.h). Also the choice of the run, shared with fvm provenance.
 *
 * Rules:
 *  - A run is one of the VM's past runs as fvm stats lists them, oldest first: --run N
 *    is the Nth of that list, --run -N the Nth from the end, or the record's own name
 *    (END-PID). Without --run: the last traced run.
 *  - Every name is printed escaped (JSON: json.h; text: non-printable bytes as \ooo),
 *    so a file name cannot forge a line.
 *  - --outside lists the inputs and programs whose path is beneath none of the given
 *    trees (compared after normalising both, component-wise).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fvm/exit.h"
#include "fvm/path.h"
#include "json.h"
#include "store/history.h"
#include "store/trace.h"

/* Field positions of input and exec lines (store/trace.h). */
enum { F_SOURCE, F_WHERE, F_ID, F_SIZE, F_MTIME, F_DIGEST, F_PID, F_PATH, F_NAME, F_ARGV };

int cli_trace_load(const struct fvm_store *s, const char *vm, const char *run, struct trace *t, char *runname,
		   size_t rlen, int *index)
{
	char dir[PATH_MAX], ctl[PATH_MAX];
	struct run_stats *runs = NULL;
	size_t n = 0;
	int rc;

	if ((rc = cli_vm(s, vm, dir, sizeof(dir))) != 0) {
		return rc;
	}
	if (store_ctl_path(dir, ctl, sizeof(ctl)) < 0) {
		return FVM_EXIT_PARTIAL;
	}
	if ((rc = history_load(ctl, &runs, &n)) < 0) {
		fprintf(stderr, "fvm: VM %s: cannot read its past runs: %s\n", vm, strerror(-rc));
		return FVM_EXIT_PARTIAL;
	}
	long pick = 0; /* 1-based index into RUNS; 0: the last traced */
	if (run) {
		char *end;
		errno = 0;
		long v = strtol(run, &end, 10);
		if (!errno && !*end && end != run && v != 0 && labs(v) <= (long)n) {
			pick = v > 0 ? v : (long)n + v + 1;
		} else {
			for (size_t i = 0; i < n; i++) {
				char name[64];
				history_name(&runs[i], name, sizeof(name));
				if (strcmp(name, run) == 0) {
					pick = (long)i + 1;
				}
			}
			if (!pick) {
				fprintf(stderr, "fvm: VM %s has no run %s (fvm stats %s lists its %zu past run%s, 1 the oldest)\n",
					vm, run, vm, n, n == 1 ? "" : "s");
				free(runs);
				return FVM_EXIT_REFUSED;
			}
		}
	}
	rc = -ENOENT;
	for (long i = pick ? pick - 1 : (long)n - 1; i >= 0; i--) {
		history_name(&runs[i], runname, rlen);
		rc = trace_load(ctl, runname, t);
		*index = (int)i + 1;
		if (rc != -ENOENT || pick) {
			break;
		}
	}
	free(runs);
	if (rc == -ENOENT) {
		if (pick) {
			fprintf(stderr, "fvm: VM %s: run %ld was not traced (fvm-exec --trace)\n", vm, pick);
		} else {
			fprintf(stderr, "fvm: VM %s has no traced run (fvm-exec --trace) among its %zu kept\n", vm, n);
		}
		return FVM_EXIT_REFUSED;
	}
	if (rc < 0) {
		fprintf(stderr, "fvm: VM %s: run %s: cannot read its trace: %s\n", vm, runname, strerror(-rc));
		return FVM_EXIT_PARTIAL;
	}
	return 0;
}

/* S with bytes that would disturb a terminal or a line as \ooo. */
static void print_name(const char *s)
{
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		printf(*q < 0x20 || *q == 0x7f || *q == '\\' ? "\\%03o" : "%c", *q);
	}
}

/* Whether PATH lies beneath (or is) one of the N TREES (normalised). */
static bool beneath(const char *path, char **trees, int n)
{
	for (int i = 0; i < n; i++) {
		size_t l = strlen(trees[i]);
		if (l == 1 && trees[i][0] == '/') {
			return true;
		}
		if (strncmp(path, trees[i], l) == 0 && (path[l] == '/' || path[l] == '\0')) {
			return true;
		}
	}
	return false;
}

static void json_line_fields(const struct trace_line *l, size_t from)
{
	printf("[");
	for (size_t k = from; k < l->n; k++) {
		printf("%s", k > from ? "," : "");
		json_string(stdout, l->f[k]);
	}
	printf("]");
}

static void json_file(const struct trace_line *l)
{
	printf("{\"path\":");
	json_string(stdout, l->f[F_PATH]);
	printf(",\"digest\":");
	json_string(stdout, l->f[F_DIGEST]);
	printf(",\"where\":");
	json_string(stdout, l->f[F_WHERE]);
	printf(",\"source\":");
	json_string(stdout, l->f[F_SOURCE]);
	printf(",\"id\":");
	json_string(stdout, l->f[F_ID]);
	printf(",\"size\":%s,\"mtime_ns\":%s,\"pid\":%s", l->f[F_SIZE], l->f[F_MTIME], l->f[F_PID]);
	if (strcmp(l->key, "exec") == 0) {
		printf(",\"name\":");
		json_string(stdout, l->f[F_NAME]);
		printf(",\"argv\":");
		json_line_fields(l, F_ARGV);
	}
	printf("}");
}

/* Whether S is a whole number (an optional '-', then digits). */
static bool number(const char *s)
{
	s += *s == '-';
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The value of KEY in T when it is a number, else "0": JSON gets it as is. */
static const char *number_of(const struct trace *t, const char *key)
{
	const char *v = trace_value(t, key, "0");

	return number(v) ? v : "0";
}

/* Whether L is a well-formed line of KEY with at least N fields, numbers where numbers go. */
static bool is(const struct trace_line *l, const char *key, size_t n)
{
	if (strcmp(l->key, key) != 0 || l->n < n) {
		return false;
	}
	if (strcmp(key, "env") == 0 || strcmp(key, "net") == 0 || strcmp(key, "write") == 0 ||
	    strcmp(key, "create") == 0 || strcmp(key, "delete") == 0 || strcmp(key, "rename") == 0) {
		return number(l->f[0]); /* the sender's pid */
	}
	if (strcmp(key, "input") == 0 || strcmp(key, "exec") == 0) {
		for (int f = F_SIZE; f <= F_PID; f++) {
			if (f != F_DIGEST && !number(l->f[f])) {
				return false;
			}
		}
	}
	return true;
}

static int print_json(const struct trace *t, const char *vm, const char *runname, int index, char **out,
		      int nout)
{
	printf("{\"vm\":");
	json_string(stdout, vm);
	printf(",\"run\":%d,\"id\":", index);
	json_string(stdout, runname);
	printf(",\"start_ms\":%s,\"end_ms\":%s", number_of(t, "start-ms"), number_of(t, "end-ms"));
	const struct trace_line *cmd = trace_find(t, "command");
	printf(",\"command\":");
	if (cmd) {
		json_line_fields(cmd, 0);
	} else {
		printf("[]");
	}
	printf(",\"cwd\":");
	json_string(stdout, trace_value(t, "cwd", ""));
	printf(",\"lost\":%s,\"dropped\":%s", number_of(t, "lost"), number_of(t, "dropped"));
	static const char *const lists[] = {"input", "exec", "output", "env", "net", "write", "create", "delete",
					    "rename", "limit"};
	static const char *const names[] = {"inputs", "programs", "outputs", "env",     "net",
					    "writes", "creates",  "deletes", "renames", "limits"};
	static const size_t need[] = {F_PATH + 1, F_NAME + 1, 4, 3, 2, 2, 2, 2, 3, 1};
	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		bool first = true;
		if (nout && k > 1) {
			break;
		}
		printf(",\"%s\":[", names[k]);
		for (size_t i = 0; i < t->n; i++) {
			const struct trace_line *l = &t->v[i];
			if (!is(l, lists[k], need[k]) ||
			    (nout && (beneath(l->f[F_PATH], out, nout) || strcmp(l->f[F_DIGEST], "written-by-run") == 0))) {
				continue;
			}
			printf("%s", first ? "" : ",");
			first = false;
			if (k <= 1) {
				json_file(l);
			} else if (k == 2) {
				printf("{\"change\":");
				json_string(stdout, l->f[0]);
				printf(",\"type\":");
				json_string(stdout, l->f[1]);
				printf(",\"digest\":");
				json_string(stdout, l->f[2]);
				printf(",\"path\":");
				json_string(stdout, l->f[3]);
				printf("}");
			} else if (k == 3) {
				printf("{\"pid\":%s,\"set\":%s,\"name\":", l->f[0], strcmp(l->f[1], "1") == 0 ? "true" : "false");
				json_string(stdout, l->f[2]);
				printf("}");
			} else if (k == 9) {
				json_string(stdout, l->f[0]);
			} else {
				printf("{\"pid\":%s,\"%s\":", l->f[0], k == 4 ? "what" : k == 8 ? "from" : "path");
				json_string(stdout, l->f[1]);
				if (k == 8) {
					printf(",\"to\":");
					json_string(stdout, l->f[2]);
				}
				printf("}");
			}
		}
		printf("]");
	}
	printf("}\n");
	return 0;
}

static void print_files(const struct trace *t, const char *key, size_t need, char **out, int nout)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct trace_line *l = &t->v[i];
		if (!is(l, key, need) ||
		    (nout && (beneath(l->f[F_PATH], out, nout) || strcmp(l->f[F_DIGEST], "written-by-run") == 0))) {
			continue;
		}
		printf("  %-71s %-5s ", l->f[F_DIGEST], l->f[F_WHERE]);
		print_name(l->f[F_PATH]);
		if (strcmp(key, "exec") == 0) {
			printf("  [pid %s]", l->f[F_PID]);
			for (size_t k = F_ARGV; k < l->n; k++) {
				putchar(' ');
				print_name(l->f[k]);
			}
		}
		if (strcmp(l->f[F_SOURCE], "libfvm") != 0) {
			printf("  (seen by the %s)", l->f[F_SOURCE]);
		}
		putchar('\n');
	}
}

static size_t count(const struct trace *t, const char *key)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		n += strcmp(t->v[i].key, key) == 0;
	}
	return n;
}

int cmd_trace(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"run", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"outside", no_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *run = NULL;
	bool json = false, outside = false;
	char runname[64];
	struct trace t;
	int c, rc, index = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': run = optarg; break;
		case 'j': json = true; break;
		case 'o': outside = true; break;
		default: return cli_usage(NULL);
		}
	}
	if (optind >= argc) {
		return cli_usage("a VM NAME is needed");
	}
	const char *vm = argv[optind++];
	if (!outside && optind != argc) {
		return cli_usage("paths are given with --outside only");
	}
	if (outside && optind == argc) {
		return cli_usage("--outside needs at least one PATH");
	}
	char **trees = NULL;
	int ntrees = argc - optind;
	if (outside && (rc = cli_paths(ntrees, argv + optind, &trees)) != 0) {
		return rc;
	}
	if ((rc = cli_trace_load(s, vm, run, &t, runname, sizeof(runname), &index)) != 0) {
		cli_paths_free(trees, outside ? ntrees : 0);
		return rc;
	}
	if (json) {
		print_json(&t, vm, runname, index, trees, outside ? ntrees : 0);
	} else if (outside) {
		print_files(&t, "input", F_PATH + 1, trees, ntrees);
		print_files(&t, "exec", F_NAME + 1, trees, ntrees);
	} else {
		char start[32], end[32];
		cli_time(atoll(trace_value(&t, "start-ms", "0")) / 1000, start, sizeof(start));
		cli_time(atoll(trace_value(&t, "end-ms", "0")) / 1000, end, sizeof(end));
		printf("VM %s, run %d (%s), %s to %s:", vm, index, runname, start, end);
		const struct trace_line *cmd = trace_find(&t, "command");
		for (size_t k = 0; cmd && k < cmd->n; k++) {
			putchar(' ');
			print_name(cmd->f[k]);
		}
		printf("\n\ninputs (%zu), read by the run (DIGEST after the run, WHERE the file lay):\n",
		       count(&t, "input"));
		print_files(&t, "input", F_PATH + 1, NULL, 0);
		printf("\nprograms (%zu) run, with their arguments:\n", count(&t, "exec"));
		print_files(&t, "exec", F_NAME + 1, NULL, 0);
		printf("\noutputs (%zu), the VM's changes during the run:\n", count(&t, "output"));
		for (size_t i = 0; i < t.n; i++) {
			const struct trace_line *l = &t.v[i];
			if (is(l, "output", 4)) {
				printf("  %s %-4s %-71s ", l->f[0], l->f[1], l->f[2]);
				print_name(l->f[3]);
				putchar('\n');
			}
		}
		printf("\nenvironment variables asked for:");
		for (size_t i = 0; i < t.n; i++) {
			const struct trace_line *l = &t.v[i];
			if (is(l, "env", 3)) {
				putchar(' ');
				print_name(l->f[2]);
				if (strcmp(l->f[1], "1") != 0) {
					printf("(unset)");
				}
			}
		}
		printf("\nnetwork:%s\n", count(&t, "net") ? "" : " none");
		for (size_t i = 0; i < t.n; i++) {
			if (is(&t.v[i], "net", 2)) {
				printf("  [pid %s] ", t.v[i].f[0]);
				print_name(t.v[i].f[1]);
				putchar('\n');
			}
		}
		printf("\nrecords lost by processes: %s; refused by the supervisor: %s\n", trace_value(&t, "lost", "0"),
		       trace_value(&t, "dropped", "0"));
		printf("what this trace cannot show:\n");
		for (size_t i = 0; i < t.n; i++) {
			if (is(&t.v[i], "limit", 1)) {
				printf("  - ");
				print_name(t.v[i].f[0]);
				putchar('\n');
			}
		}
	}
	trace_free(&t);
	cli_paths_free(trees, outside ? ntrees : 0);
	return 0;
}
