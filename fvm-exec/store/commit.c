/*
 * commit.c — fvm commit: the VM's changes onto the host (commit.h), step by step.
 *
 * Order of a commit, each step safe to interrupt:
 *  1. upper/ is normalised (opaque markers become whiteouts) without changing the view.
 *  2. The changes are scanned, selected (PATHs plus the new directories they need) and
 *     checked against the origins log; a conflict and everything beneath it is skipped
 *     (commit_plan.c). A change that grants privilege is applied only when allowed
 *     (--allow-privileged, or "yes" on a terminal); else it and everything beneath it
 *     is skipped. Just before each change is applied, its upper object is looked at
 *     again: one that grants more than the plan said is refused.
 *  3. The journal (id, options, planned changes; journal.h) is written, whole, before
 *     the first host change.
 *  4. The host is changed in path order (commit_apply.c): deletions first at a path,
 *     then each object renamed into place: upper/'s own file when it is on the same
 *     filesystem and has no other name there, else a copy built as
 *     "DIR/.fvm-commit.ID.N"; metadata-only changes in place; a directory's mode and
 *     times last (deepest first), so a read-only directory can still be filled.
 *  5. The written filesystems are flushed, then each committed change leaves upper/
 *     (children before parents); an entry that now equals the host is no change, so
 *     the VM's view stays the same.
 *  6. upper/ is pruned, the origins log compacted, the journal removed.
 * A crash anywhere leaves host and upper/ such that a rescan shows exactly the changes
 * not yet committed; running fvm commit again removes the temporaries named in the
 * journal and finishes the work with the journal's selection and options.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "store/commit_steps.h"
#include "store/layer_edit.h"
#include "store/progress.h"
#include "store/quote.h"
#include "store/safefs.h"
#include "store/store.h"

static void commit_free(struct commit *c)
{
	fvm_changes_free(&c->ch);
	safe_parent_cache_drop(&c->pc);
	if (c->upperfd >= 0) {
		close(c->upperfd);
	}
	free(c->sel);
	free(c->why);
	free(c->held);
	free(c->done);
}

static void report_conflicts(const struct commit *c)
{
	for (size_t i = 0; i < c->ch.n; i++) {
		if (c->why[i]) {
			fprintf(stderr, "fvm: conflict: %c ", c->ch.v[i].kind);
			fvm_quote_fputs(c->ch.v[i].vpath, stderr);
			fprintf(stderr, ": %s (skipped; --force overwrites)\n", c->why[i]);
		}
	}
}

static void report_held(const struct commit *c)
{
	for (size_t i = 0; i < c->ch.n; i++) {
		if (c->held[i]) {
			fputs(c->ch.v[i].priv ? "fvm: privileged change skipped: "
					      : "fvm: skipped with a privileged change: ", stderr);
			fvm_change_print(stderr, &c->ch.v[i]);
			fputc('\n', stderr);
		}
	}
	if (c->nheld) {
		fprintf(stderr, "fvm: --allow-privileged, or \"yes\" on a terminal, applies them\n");
	}
}

/*
 * Names the selected changes of C that grant privilege on ASK's terminal and asks
 * whether to apply them. True only for the answer "yes".
 */
static bool ask_privileged(const struct commit *c, const struct commit_ask *ask)
{
	int fd = dup(ask->out);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	char answer[8];
	size_t n = 0;
	char b;

	if (!out) {
		if (fd >= 0) {
			close(fd);
		}
		return false;
	}
	fflush(stdout);
	fflush(stderr);
	fprintf(out, "fvm: these changes grant privilege:\n");
	for (size_t i = 0; i < c->ch.n; i++) {
		if (c->sel[i] && c->ch.v[i].priv) {
			fputs("  ", out);
			fvm_change_print(out, &c->ch.v[i]);
			fputc('\n', out);
		}
	}
	fprintf(out, "Apply them? Type \"yes\" to apply them, anything else leaves them in the VM: ");
	fclose(out);
	/* One line; what does not fit is read and dropped, so "yes..." is not yes. */
	while (read(ask->in, &b, 1) == 1 && b != '\n') {
		if (n < sizeof(answer) - 1) {
			answer[n] = b;
		}
		n++;
	}
	answer[n < sizeof(answer) ? n : sizeof(answer) - 1] = '\0';
	return n == 3 && strcmp(answer, "yes") == 0;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* Steps 1 and 2: the changes of C and what becomes of each. Returns 0 or 1 (reported). */
static int plan(struct commit *c, const struct commit_opts *o)
{
	struct originlog orig;
	char file[PATH_MAX + 16];
	int ret;

	snprintf(c->upper, sizeof(c->upper), "%s/%s", c->vmdir, FVM_UPPER_DIR);
	if ((c->upperfd = store_upper_open(c->vmdir)) < 0) {
		return 1; /* reported: upper/ is not a directory (a link the VM made?) */
	}
	/* Random, so that no name the commit's temporaries take can be guessed. */
	if ((ret = safe_random_hex(c->id)) < 0) {
		warnx("getrandom: %s", strerror(-ret));
		return 1;
	}
	if (!o->dry_run && (ret = layer_deopaque(c->upper, o->paths, o->npaths)) < 0) {
		warnx("%s: %s", c->upper, safe_strerror(ret));
		return 1;
	}
	if ((ret = fvm_changes_scan(c->upper, NULL, 0, &c->ch)) < 0) {
		warnx("%s: %s", c->upper, safe_strerror(ret));
		return 1;
	}
	snprintf(file, sizeof(file), "%s/%s", c->vmdir, FVM_ORIGINS_FILE);
	if ((ret = originlog_load(file, &orig)) < 0) {
		warnx("%s: %s", file, safe_strerror(ret));
		return 1;
	}
	c->sel = calloc(c->ch.n + 1, sizeof(*c->sel));
	c->why = calloc(c->ch.n + 1, sizeof(*c->why));
	c->held = calloc(c->ch.n + 1, sizeof(*c->held));
	c->done = calloc(c->ch.n + 1, sizeof(*c->done));
	if (!c->sel || !c->why || !c->held || !c->done) {
		err(1, "out of memory");
	}
	commit_plan(c, o, &orig);
	originlog_free(&orig);
	report_conflicts(c);
	c->priv_ok = o->allow_privileged;
	if (!o->dry_run && !c->priv_ok && commit_privileged(c) > 0) {
		c->priv_ok = o->ask && ask_privileged(c, o->ask);
		if (!c->priv_ok) {
			commit_hold_privileged(c);
			report_held(c);
		}
	}
	return 0;
}

/*
 * True when change I's upper object now grants what the plan did not see (the VM
 * changed it since the scan): it is refused then, unless privilege was allowed.
 */
static bool grants_more_now(struct commit *c, size_t i)
{
	struct fvm_change now = c->ch.v[i];
	char parent[PATH_MAX];
	const char *name;
	struct stat pst;
	bool more;

	if (now.kind == FVM_DELETED || c->priv_ok) {
		return false;
	}
	int pfd = safe_parent_cached(&c->pc, c->upperfd, now.vpath, &name);
	if (pfd < 0 || fstatat(pfd, name, &now.upper, AT_SYMLINK_NOFOLLOW) < 0) {
		return false; /* gone: applying it fails on its own */
	}
	size_t b = fvm_path_base_off(now.vpath, strlen(now.vpath));
	snprintf(parent, sizeof(parent), "%.*s", b > 1 ? (int)b - 1 : 1, now.vpath);
	unsigned priv = fvm_change_privilege(&now, pfd, name, lstat(parent, &pst) == 0 ? &pst : NULL);
	more = (priv & ~c->ch.v[i].priv) != 0;
	return more;
}

/* Step 3: the journal of the selected changes. Returns 0 or -errno. */
static int write_journal(const struct commit *c, const struct commit_opts *o)
{
	struct journal j = {.force = o->force, .paths = o->paths, .npaths = o->npaths};
	int ret;

	memcpy(j.id, c->id, sizeof(j.id));
	j.changes = calloc(c->nsel + 1, sizeof(*j.changes));
	if (!j.changes) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->ch.n; i++) {
		if (c->sel[i]) {
			j.changes[j.nchanges++] = (struct journal_change){
				.idx = i, .kind = c->ch.v[i].kind, .vpath = c->ch.v[i].vpath};
		}
	}
	ret = journal_write(c->vmdir, &j);
	free(j.changes); /* the rest is borrowed */
	return ret;
}

/* Steps 4 to 6. */
static void apply(struct commit *c)
{
	struct progress prog;
	int ret;

	progress_start(&prog, "commit", c->nsel);
	for (size_t i = 0; i < c->ch.n; i++) {
		if (!c->sel[i]) {
			continue;
		}
		bool more = grants_more_now(c, i);
		ret = more ? -EPERM : commit_apply_one(c, i);
		if (ret < 0) {
			fprintf(stderr, "fvm: %c ", c->ch.v[i].kind);
			fvm_quote_fputs(c->ch.v[i].vpath, stderr);
			fprintf(stderr, ": %s\n",
				more ? "grants privilege it did not when planned (skipped)" : safe_strerror(ret));
			c->nfail++;
		} else {
			c->done[i] = true;
		}
		progress_step(&prog);
	}
	commit_finish_dirs(c);
	progress_end(&prog);
	/* The host copies are durable before the VM's copies go. */
	commit_sync_host(c);
	for (size_t i = c->ch.n; i-- > 0;) {
		if (c->done[i]) {
			commit_drop_from_upper(c, i);
		}
	}
	if ((ret = layer_prune(c->upper)) < 0 || (ret = originlog_compact(c->vmdir)) < 0) {
		warnx("%s: tidying up: %s", c->vmdir, safe_strerror(ret));
	}
	journal_remove(c->vmdir);
}

static int commit_run(const char *vmdir, const struct commit_opts *o)
{
	struct commit c = {.vmdir = vmdir, .upperfd = -1};
	int ret;

	if (plan(&c, o) != 0) {
		commit_free(&c);
		return 1;
	}
	if (o->dry_run) {
		for (size_t i = 0; i < c.ch.n; i++) {
			if (c.sel[i]) {
				fvm_change_print(stdout, &c.ch.v[i]);
				putchar('\n');
			}
		}
		printf("would commit %zu change%s, %zu conflict%s", c.nsel, plural(c.nsel), c.nconf,
		       plural(c.nconf));
		size_t npriv = commit_privileged(&c);
		if (npriv) {
			printf(", %zu granting privilege", npriv);
		}
		putchar('\n');
		commit_free(&c);
		return c.nconf ? 1 : 0;
	}
	if (c.nsel && (ret = write_journal(&c, o)) < 0) {
		warnx("%s/%s: %s", vmdir, JOURNAL_FILE, strerror(-ret));
		commit_free(&c);
		return 1;
	}
	apply(&c);
	printf("committed %zu change%s", c.nsel - c.nfail, plural(c.nsel - c.nfail));
	if (c.nfail) {
		printf(", %zu failed", c.nfail);
	}
	if (c.nconf) {
		printf(", %zu conflict%s skipped", c.nconf, plural(c.nconf));
	}
	if (c.nheld) {
		printf(", %zu skipped for privilege", c.nheld);
	}
	printf("\n");
	ret = c.nconf || c.nfail || c.nheld ? 1 : 0;
	commit_free(&c);
	return ret;
}

/*
 * Finishes the commit that journal J of VMDIR describes: its temporaries go, then it
 * runs again with the journal's selection and options, and O's say on privilege.
 * Returns the exit status.
 */
static int finish_interrupted(const char *vmdir, const struct journal *j, const struct commit_opts *o)
{
	char tmp[PATH_MAX + 64];

	for (size_t i = 0; i < j->nchanges; i++) {
		/* A temporary the interrupted commit had not yet renamed. */
		if (commit_temp_name(j->changes[i].vpath, j->id, j->changes[i].idx, tmp, sizeof(tmp)) == 0) {
			unlink(tmp);
		}
	}
	fprintf(stderr, "fvm: finishing an interrupted commit\n");
	/* Privilege is what the person running this commit allows now. */
	struct commit_opts jo = {.force = j->force, .paths = j->paths, .npaths = j->npaths,
				 .allow_privileged = o->allow_privileged, .ask = o->ask};
	return commit_run(vmdir, &jo);
}

/*
 * True when the interrupted commit J asks no more than this one (O): no --force unless
 * O has it, no path outside O's (O without paths asks for everything). So a journal,
 * whatever wrote it, never widens what the person running fvm commit asked for.
 */
static bool journal_within(const struct journal *j, const struct commit_opts *o)
{
	if (j->force && !o->force) {
		return false;
	}
	if (o->npaths == 0) {
		return true;
	}
	if (j->npaths == 0) {
		return false;
	}
	for (size_t i = 0; i < j->npaths; i++) {
		size_t k, jl = strlen(j->paths[i]);
		for (k = 0; k < o->npaths; k++) {
			if (fvm_path_has_prefix(j->paths[i], jl, o->paths[k], strlen(o->paths[k]))) {
				break;
			}
		}
		if (k == o->npaths) {
			return false;
		}
	}
	return true;
}

/* Says on stderr how to finish the interrupted commit J that this one may not. */
static void refuse_journal(const char *vmdir, const struct journal *j)
{
	const char *name = vmdir + fvm_path_base_off(vmdir, strlen(vmdir));

	fprintf(stderr, "fvm: VM %s: an interrupted commit%s of %s is pending and this commit asks "
			"less; finish it first: fvm commit%s %s", name, j->force ? " with --force" : "",
		j->npaths ? "some paths" : "everything", j->force ? " --force" : "", name);
	for (size_t i = 0; i < j->npaths; i++) {
		fprintf(stderr, " '%s'", j->paths[i]);
	}
	fprintf(stderr, "\n");
}

int fvm_commit(const char *vmdir, const struct commit_opts *o)
{
	int rc = 0;

	if (!o->dry_run && journal_exists(vmdir)) {
		struct journal j;
		if (journal_read(vmdir, &j) < 0) {
			return 1; /* reported: a damaged journal stops every commit */
		}
		if (!journal_within(&j, o)) {
			refuse_journal(vmdir, &j);
			journal_free(&j);
			return 1;
		}
		rc = finish_interrupted(vmdir, &j, o);
		journal_free(&j);
		if (o->npaths == 0) {
			return rc;
		}
	} else if (o->dry_run && journal_exists(vmdir)) {
		fprintf(stderr, "fvm: an interrupted commit is pending; fvm commit finishes it\n");
	}
	int rc2 = commit_run(vmdir, o);
	return rc > rc2 ? rc : rc2;
}
