/*
 * fuzz_journal.c — the commit journal (fvm-exec/store/journal.c): its parser
 * (journal_parse, what fvm commit calls through journal_read to finish an interrupted
 * commit) on the input as a journal, and its writer (journal_write) on what was parsed.
 *
 * Invariants: no crash, no sanitizer report, for any bytes. A journal accepted has an
 * id of 1..JOURNAL_ID_MAX lowercase hex digits, as the writer makes it, every path and
 * change it names is absolute and every change kind is A, M or D: recovery derives the
 * temporaries it removes from them, and an id with a "/" would move a temporary's name
 * out of its directory. A refused journal leaves nothing allocated and names a line of
 * the input (or the one after it). What was accepted, written again, parses back as
 * the same journal.
 */
#include "fuzz.h"

#include <limits.h>

#include "store/journal.h"

static char vmdir[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_init_messages();
	/* A VM directory as the store lays it out: the journal goes to its control area. */
	const char *dir = fuzz_scratch_dir("journal");
	char vms[PATH_MAX];
	snprintf(vms, sizeof(vms), "%s/vms", dir);
	snprintf(vmdir, sizeof(vmdir), "%s/vms/fz", dir);
	if ((mkdir(vms, 0700) < 0 && errno != EEXIST) || (mkdir(vmdir, 0700) < 0 && errno != EEXIST)) {
		abort();
	}
	return 0;
}

static bool same_journal(const struct journal *a, const struct journal *b)
{
	if (strcmp(a->id, b->id) != 0 || a->force != b->force || a->npaths != b->npaths ||
	    a->nchanges != b->nchanges) {
		return false;
	}
	for (size_t i = 0; i < a->npaths; i++) {
		if (strcmp(a->paths[i], b->paths[i]) != 0) {
			return false;
		}
	}
	for (size_t i = 0; i < a->nchanges; i++) {
		const struct journal_change *x = &a->changes[i], *y = &b->changes[i];
		if (x->idx != y->idx || x->kind != y->kind || strcmp(x->vpath, y->vpath) != 0) {
			return false;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal j, back;
	size_t lineno, lines = 1;
	int fd = fuzz_memfd(data, size), r;
	FILE *f = fdopen(fd, "re");

	if (!f) {
		abort();
	}
	r = journal_parse(f, &j, &lineno);
	fclose(f);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r < 0) {
		for (size_t i = 0; i < size; i++) {
			lines += data[i] == '\n';
		}
		FUZZ_CHECK(j.paths == NULL && j.changes == NULL && j.npaths == 0 && j.nchanges == 0);
		FUZZ_CHECK(lineno >= 1 && lineno <= lines + 1);
		return 0;
	}
	size_t idlen = strnlen(j.id, sizeof(j.id));
	FUZZ_CHECK(idlen > 0 && idlen <= JOURNAL_ID_MAX);
	FUZZ_CHECK(strspn(j.id, "0123456789abcdef") == idlen);
	for (size_t i = 0; i < j.npaths; i++) {
		FUZZ_CHECK(j.paths[i][0] == '/');
	}
	for (size_t i = 0; i < j.nchanges; i++) {
		FUZZ_CHECK(j.changes[i].vpath[0] == '/');
		FUZZ_CHECK(strchr("AMD", j.changes[i].kind) && j.changes[i].kind != '\0');
	}

	/* Written again and read back: the same journal. */
	FUZZ_CHECK(journal_write(vmdir, &j) == 0);
	FUZZ_CHECK(journal_read(vmdir, &back) == 0);
	FUZZ_CHECK(same_journal(&j, &back));
	journal_free(&back);
	FUZZ_CHECK(journal_remove(vmdir) == 0 && !journal_exists(vmdir));
	journal_free(&j);
	return 0;
}
