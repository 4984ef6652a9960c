/*
 * cmd_provenance.c — fvm provenance NAME [--run N] [--key K.key]: a traced run
 * (fvm-exec --trace) as an in-toto Statement v1 whose predicate is SLSA Provenance v1;
 * with --key, that statement in a DSSE envelope signed with an Ed25519 key of fvm
 * keygen (store/minisign.h).
 *
 * Rules:
 *  - Subjects are the run's outputs that are files, with the sha256 the supervisor took
 *    after the run (store/trace.h: outputs come from the VM's layer, not from any
 *    process's word). resolvedDependencies are the traced inputs and programs, each
 *    once, sorted by path, with its digest when the file was unchanged since it was
 *    read; an input without one says why in its annotations. The run's own
 *    intermediates (written-by-run) are not dependencies.
 *  - What the trace cannot prove is carried into the predicate: internalParameters
 *    holds the trace's limits and its lost and refused record counts, and each
 *    dependency's annotations say who reported it (libfvm: the process's own word;
 *    supervisor: seen by fvm-exec).
 *  - The statement is built once, as bytes; the envelope signs exactly those bytes
 *    (DSSE's PAE: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body), so a verifier
 *    needs no canonical JSON.
 *  - The buildType and builder id are docs/DESIGN.md's ("Tracing and provenance").
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "fvm/exit.h"
#include "json.h"
#include "store/minisign.h"
#include "store/trace.h"

#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define PREDICATE_TYPE "https://slsa.dev/provenance/v1"
#define BUILD_TYPE "https://fvm.invalid/provenance/fvm-exec-trace/v1"
#define BUILDER_ID "https://fvm.invalid/builder/fvm-exec"
#define PAYLOAD_TYPE "application/vnd.in-toto+json"

/* Fields of input and exec lines (store/trace.h). */
enum { F_SOURCE, F_WHERE, F_ID, F_SIZE, F_MTIME, F_DIGEST, F_PID, F_PATH };

/* MS (since the epoch) as RFC 3339 UTC with milliseconds. */
static void rfc3339(long long ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];

	if (ms <= 0 || !gmtime_r(&t, &tm) || !strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(out, len, "1970-01-01T00:00:00Z");
		return;
	}
	snprintf(out, len, "%s.%03lldZ", base, ms % 1000);
}

/* PATH as a file URI: bytes outside RFC 3986's unreserved set and '/' percent-encoded. */
static void file_uri(FILE *out, const char *path)
{
	fputs("\"file://", out);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p)) {
			fputc(*p, out);
		} else {
			fprintf(out, "%%%02X", *p);
		}
	}
	fputc('"', out);
}

/* "sha256:HEX" → HEX, or NULL when DIGEST is none. */
static const char *sha256_of(const char *digest)
{
	if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64) {
		return NULL;
	}
	return digest + 7;
}

static int cmp_dep(const void *a, const void *b)
{
	const struct trace_line *x = *(const struct trace_line *const *)a, *y = *(const struct trace_line *const *)b;
	int c = strcmp(x->f[F_PATH], y->f[F_PATH]);

	if (!c) {
		c = strcmp(x->f[F_DIGEST], y->f[F_DIGEST]);
	}
	return c ? c : strcmp(x->key, y->key);
}

static bool well_formed(const struct trace_line *l)
{
	return (strcmp(l->key, "input") == 0 && l->n >= F_PATH + 1) ||
	       (strcmp(l->key, "exec") == 0 && l->n >= F_PATH + 2);
}

/* The statement of trace T (run RUNNAME of VM) on OUT. */
static void statement(FILE *out, const struct trace *t, const char *vm, const char *runname)
{
	char start[40], end[40];
	bool first = true;

	fprintf(out, "{\"_type\":\"" STATEMENT_TYPE "\",\"subject\":[");
	for (size_t i = 0; i < t->n; i++) {
		const struct trace_line *l = &t->v[i];
		if (strcmp(l->key, "output") != 0 || l->n < 4 || strcmp(l->f[0], "D") == 0 || !sha256_of(l->f[2])) {
			continue;
		}
		fprintf(out, "%s{\"name\":", first ? "" : ",");
		json_string(out, l->f[3]);
		fprintf(out, ",\"digest\":{\"sha256\":\"%s\"}}", sha256_of(l->f[2]));
		first = false;
	}
	fprintf(out, "],\"predicateType\":\"" PREDICATE_TYPE "\",\"predicate\":{\"buildDefinition\":{");
	fprintf(out, "\"buildType\":\"" BUILD_TYPE "\",\"externalParameters\":{\"command\":[");
	const struct trace_line *cmd = trace_find(t, "command");
	for (size_t k = 0; cmd && k < cmd->n; k++) {
		fputs(k ? "," : "", out);
		json_string(out, cmd->f[k]);
	}
	fprintf(out, "],\"cwd\":");
	json_string(out, trace_value(t, "cwd", ""));
	fprintf(out, ",\"vm\":");
	json_string(out, vm);
	fprintf(out, "},\"internalParameters\":{\"recordsLost\":%lld,\"recordsRefused\":%lld,\"traceLimits\":[",
		atoll(trace_value(t, "lost", "0")), atoll(trace_value(t, "dropped", "0")));
	first = true;
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].key, "limit") == 0 && t->v[i].n >= 1) {
			fputs(first ? "" : ",", out);
			json_string(out, t->v[i].f[0]);
			first = false;
		}
	}
	fprintf(out, "]},\"resolvedDependencies\":[");
	const struct trace_line **deps = calloc(t->n ? t->n : 1, sizeof(*deps));
	size_t nd = 0;
	for (size_t i = 0; deps && i < t->n; i++) {
		if (well_formed(&t->v[i]) && strcmp(t->v[i].f[F_DIGEST], "written-by-run") != 0) {
			deps[nd++] = &t->v[i];
		}
	}
	if (nd) {
		qsort(deps, nd, sizeof(*deps), cmp_dep);
	}
	first = true;
	for (size_t i = 0; i < nd; i++) {
		const struct trace_line *l = deps[i];
		if (i && strcmp(l->f[F_PATH], deps[i - 1]->f[F_PATH]) == 0 &&
		    strcmp(l->f[F_DIGEST], deps[i - 1]->f[F_DIGEST]) == 0) {
			continue; /* the same file, read or run again */
		}
		const char *hex = sha256_of(l->f[F_DIGEST]);
		fprintf(out, "%s{\"uri\":", first ? "" : ",");
		file_uri(out, l->f[F_PATH]);
		fprintf(out, ",\"name\":");
		json_string(out, l->f[F_PATH]);
		if (hex) {
			fprintf(out, ",\"digest\":{\"sha256\":\"%s\"}", hex);
		}
		/* Annotations named as SLSA's extension fields are: VENDOR_NAME. */
		fprintf(out, ",\"annotations\":{\"fvm_role\":\"%s\",\"fvm_where\":",
			strcmp(l->key, "exec") == 0 ? "program" : "input");
		json_string(out, l->f[F_WHERE]);
		fprintf(out, ",\"fvm_reportedBy\":");
		json_string(out, l->f[F_SOURCE]);
		if (!hex) {
			fprintf(out, ",\"fvm_noDigest\":");
			json_string(out, l->f[F_DIGEST]);
		}
		fprintf(out, "}}");
		first = false;
	}
	free(deps);
	rfc3339(atoll(trace_value(t, "start-ms", "0")), start, sizeof(start));
	rfc3339(atoll(trace_value(t, "end-ms", "0")), end, sizeof(end));
	fprintf(out, "]},\"runDetails\":{\"builder\":{\"id\":\"" BUILDER_ID "@" FVM_VERSION "\"},");
	fprintf(out, "\"metadata\":{\"invocationId\":");
	char inv[PATH_MAX];
	snprintf(inv, sizeof(inv), "%s/%s", vm, runname);
	json_string(out, inv);
	fprintf(out, ",\"startedOn\":\"%s\",\"finishedOn\":\"%s\"}}}}", start, end);
}

/* LEN bytes at BUF as base64 (RFC 4648, padded), malloc'd. */
static char *base64(const void *buf, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(n);

	if (out) {
		sodium_bin2base64(out, n, buf, len, sodium_base64_VARIANT_ORIGINAL);
	}
	return out;
}

/* The DSSE envelope of PAYLOAD (LEN bytes) signed with the secret key file KEY. */
static int envelope(const char *payload, size_t len, const char *key)
{
	struct ms_seckey_raw sk;
	unsigned char sig[crypto_sign_BYTES];
	char *pae = NULL, id[17];
	size_t plen = 0;
	FILE *m;

	if (sodium_init() < 0) {
		fprintf(stderr, "fvm: provenance: libsodium cannot start\n");
		return FVM_EXIT_REFUSED;
	}
	if (ms_seckey_load(key, &sk) < 0) {
		return FVM_EXIT_REFUSED;
	}
	if (!(m = open_memstream(&pae, &plen))) {
		sodium_memzero(&sk, sizeof(sk));
		return FVM_EXIT_PARTIAL;
	}
	fprintf(m, "DSSEv1 %zu %s %zu ", strlen(PAYLOAD_TYPE), PAYLOAD_TYPE, len);
	fwrite(payload, 1, len, m);
	fclose(m);
	crypto_sign_detached(sig, NULL, (const unsigned char *)pae, plen, sk.sk);
	ms_keyid(sk.keynum, id);
	sodium_memzero(&sk, sizeof(sk));
	free(pae);
	char *b_payload = base64(payload, len), *b_sig = base64(sig, sizeof(sig));
	if (!b_payload || !b_sig) {
		free(b_payload);
		free(b_sig);
		return FVM_EXIT_PARTIAL;
	}
	printf("{\"payloadType\":\"" PAYLOAD_TYPE "\",\"payload\":\"%s\",\"signatures\":[{\"keyid\":\"%s\","
	       "\"sig\":\"%s\"}]}\n",
	       b_payload, id, b_sig);
	free(b_payload);
	free(b_sig);
	return 0;
}

int cmd_provenance(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"run", required_argument, NULL, 'r'},
		{"key", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	const char *run = NULL, *key = NULL;
	char runname[64], *buf = NULL;
	size_t len = 0;
	struct trace t;
	int c, rc, index;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': run = optarg; break;
		case 'k': key = optarg; break;
		default: return cli_usage(NULL);
		}
	}
	if (optind + 1 != argc) {
		return cli_usage("one VM NAME is needed");
	}
	const char *vm = argv[optind];
	if ((rc = cli_trace_load(s, vm, run, &t, runname, sizeof(runname), &index)) != 0) {
		return rc;
	}
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		trace_free(&t);
		return FVM_EXIT_PARTIAL;
	}
	statement(m, &t, vm, runname);
	trace_free(&t);
	if (fclose(m) != 0) {
		free(buf);
		return FVM_EXIT_PARTIAL;
	}
	if (key) {
		rc = envelope(buf, len, key);
	} else {
		fwrite(buf, 1, len, stdout);
		putchar('\n');
	}
	free(buf);
	return rc;
}
