/*
 * fuzz_ipcreg.c — the VM's IPC registry, ROOT/ipc: its reader (fvm_ipc_each, what fvm rm
 * and the listings call) on the input as a registry, and its writer (fvm_ipc_record,
 * what libfvm calls) on the records read.
 *
 * Input: the registry; when it holds two NUL bytes, also a record to write: kind, NUL,
 * mapped name, NUL, original name (up to a third NUL).
 *
 * Invariants: no crash, no sanitizer report, for any bytes. Every record read has a
 * non-empty kind without blank or newline (the names are escaped fields, so they may
 * hold anything). Each record the writer
 * accepts reads back as itself, alone, in order: kind, mapped name and the original
 * name, newlines and backslashes included; so no name a VM chooses can add a record.
 */
#include "fuzz.h"

#include <limits.h>

#include "fvm/ipcname.h"

#define MAX_RECORDS 64

struct rec {
	char *kind, *mapped, *orig;
};

struct recs {
	struct rec v[MAX_RECORDS];
	size_t n, seen;
};

static char root_in[PATH_MAX], root_out[PATH_MAX], file_in[PATH_MAX + 8], file_out[PATH_MAX + 8];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir;

	(void)argc, (void)argv;
	fuzz_init_messages();
	dir = fuzz_scratch_dir("ipcreg");
	snprintf(root_in, sizeof(root_in), "%s/in", dir);
	snprintf(root_out, sizeof(root_out), "%s/out", dir);
	if (mkdir(root_in, 0700) < 0 || mkdir(root_out, 0700) < 0) {
		abort();
	}
	snprintf(file_in, sizeof(file_in), "%s/%s", root_in, FVM_IPC_FILE);
	snprintf(file_out, sizeof(file_out), "%s/%s", root_out, FVM_IPC_FILE);
	return 0;
}

static int collect(const char *kind, const char *mapped, const char *orig, void *arg)
{
	struct recs *r = arg;

	FUZZ_CHECK(*kind && !strpbrk(kind, " \t\n"));
	r->seen++;
	if (r->n < MAX_RECORDS) {
		struct rec *e = &r->v[r->n++];
		e->kind = strdup(kind);
		e->mapped = strdup(mapped);
		e->orig = strdup(orig);
		if (!e->kind || !e->mapped || !e->orig) {
			abort();
		}
	}
	return 0;
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].kind);
		free(r->v[i].mapped);
		free(r->v[i].orig);
	}
	r->n = r->seen = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct recs got, back;
	bool written[MAX_RECORDS];
	size_t nwritten = 0;

	fuzz_write_file(file_in, data, size);
	FUZZ_CHECK(fvm_ipc_each(root_in, collect, &got) == 0);
	unlink(file_out);
	for (size_t i = 0; i < got.n; i++) {
		written[i] = fvm_ipc_record(root_out, got.v[i].kind, got.v[i].mapped, got.v[i].orig) == 0;
		nwritten += written[i];
	}
	FUZZ_CHECK(fvm_ipc_each(root_out, collect, &back) == 0);
	FUZZ_CHECK(back.seen == nwritten);
	for (size_t i = 0, k = 0; i < got.n; i++) {
		if (!written[i]) {
			continue;
		}
		FUZZ_CHECK(strcmp(got.v[i].kind, back.v[k].kind) == 0);
		FUZZ_CHECK(strcmp(got.v[i].mapped, back.v[k].mapped) == 0);
		FUZZ_CHECK(strcmp(got.v[i].orig, back.v[k].orig) == 0);
		k++;
	}
	recs_free(&got);
	recs_free(&back);

	/* The record the input spells out, written and read back. */
	const char *kind = (const char *)data, *mapped, *orig, *end = kind + size, *z;
	if (!(z = memchr(kind, '\0', size)) || !(z = memchr(mapped = z + 1, '\0', (size_t)(end - z - 1)))) {
		return 0;
	}
	orig = z + 1;
	char *o = fuzz_string((const uint8_t *)orig, (size_t)(end - orig));
	unlink(file_out);
	if (fvm_ipc_record(root_out, kind, mapped, o) == 0) {
		FUZZ_CHECK(fvm_ipc_each(root_out, collect, &back) == 0);
		if (back.seen != 1 || strcmp(back.v[0].kind, kind) != 0 ||
		    strcmp(back.v[0].mapped, mapped) != 0 || strcmp(back.v[0].orig, o) != 0) {
			fuzz_fail(__FILE__, __LINE__, "record [%s] [%s] [%s] read back as %zu records",
				  kind, mapped, o, back.seen);
		}
		recs_free(&back);
	}
	free(o);
	return 0;
}
