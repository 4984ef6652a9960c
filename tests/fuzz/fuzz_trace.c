/*
 * fuzz_trace.c — what a traced run's processes send and what its supervisor keeps:
 * the batch reader (trace_take_batch, fvm-exec/run/trace.c, which reads datagrams any
 * process of the VM may send) and the trace file's parser (trace_parse,
 * fvm-exec/store/trace.c), on the same bytes.
 *
 * Invariants: no crash, no sanitizer report, for any bytes. A batch is taken whole or
 * not at all (a refused one adds no fact); every fact kept holds NSTR NUL-terminated
 * strings inside its BLEN bytes, at least two for a read or a program, and a pid that
 * is the one given. A trace text accepted, written again line by line with trace_put,
 * parses back to the same lines.
 */
#include "fuzz.h"

#include "run/run.h"
#include "store/trace.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_init_messages();
	return 0;
}

static void check_batch(const uint8_t *data, size_t size)
{
	struct tracer t = {.sock = -1};
	/* Aligned as the supervisor's receive buffer is. */
	char *buf = aligned_alloc(8, (size + 8) & ~(size_t)7);

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	int r = trace_take_batch(&t, buf, size, 4242);
	FUZZ_CHECK(r == 0 || r == -1);
	if (r < 0) {
		FUZZ_CHECK(t.n == 0);
	}
	for (size_t i = 0; i < t.n; i++) {
		const struct tr_ent *e = &t.v[i];
		size_t off = 0;
		for (uint32_t k = 0; k < e->nstr; k++) {
			const char *nul = memchr(e->blob + off, '\0', e->blen - off);
			FUZZ_CHECK(nul != NULL);
			off = (size_t)(nul - e->blob) + 1;
		}
		FUZZ_CHECK(off == e->blen);
		FUZZ_CHECK(e->pid == 4242 && e->source == 'l');
		if (e->kind == 'R' || e->kind == 'X' || e->kind == 'N') {
			FUZZ_CHECK(e->nstr >= 2);
		} else {
			FUZZ_CHECK(e->nstr >= 1);
		}
	}
	trace_forget(&t);
	free(buf);
}

static void check_file(const uint8_t *data, size_t size)
{
	struct trace t, back;
	char *text = NULL;
	size_t len = 0;

	if (trace_parse((const char *)data, size, &t) < 0) {
		return;
	}
	FILE *m = open_memstream(&text, &len);
	FUZZ_CHECK(m != NULL);
	fputs(TRACE_MAGIC "\n", m);
	for (size_t i = 0; i < t.n; i++) {
		FUZZ_CHECK(trace_put(m, t.v[i].key, (const char *const *)t.v[i].f, t.v[i].n) == 0);
	}
	fclose(m);
	FUZZ_CHECK(trace_parse(text, len, &back) == 0);
	FUZZ_CHECK(back.n == t.n);
	for (size_t i = 0; i < t.n; i++) {
		FUZZ_CHECK(strcmp(back.v[i].key, t.v[i].key) == 0 && back.v[i].n == t.v[i].n);
		for (size_t k = 0; k < t.v[i].n; k++) {
			FUZZ_CHECK(strcmp(back.v[i].f[k], t.v[i].f[k]) == 0);
		}
	}
	trace_free(&back);
	trace_free(&t);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_batch(data, size);
	check_file(data, size);
	return 0;
}
