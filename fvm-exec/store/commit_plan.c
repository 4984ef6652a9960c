/*
 * commit_plan.c — what a commit will do (commit_steps.h): the selection of changes and
 * the conflicts, decided before the host is touched.
 *
 * Invariants: a change is selected only with the added directories it needs above it;
 * a conflict, and a privileged change left out, takes everything beneath its path
 * with it, since the changes are sorted by path and a subtree follows its root.
 */
#include <stdio.h>
#include <string.h>

#include "fvm/path.h"
#include "store/commit_steps.h"

static bool under_any(const char *vpath, char *const *paths, size_t n)
{
	size_t vl = strlen(vpath);

	if (n == 0) {
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (fvm_path_has_prefix(vpath, vl, paths[i], strlen(paths[i]))) {
			return true;
		}
	}
	return false;
}

/* Selects the changes beneath PATHS, and the added directories above them they need. */
static void select_changes(struct commit *c, const struct commit_opts *o)
{
	char anc[PATH_MAX];

	for (size_t i = 0; i < c->ch.n; i++) {
		c->sel[i] = under_any(c->ch.v[i].vpath, o->paths, o->npaths);
	}
	if (o->npaths == 0) {
		return;
	}
	for (size_t i = 0; i < c->ch.n; i++) {
		if (!c->sel[i] || !under_any(c->ch.v[i].vpath, o->paths, o->npaths)) {
			continue;
		}
		snprintf(anc, sizeof(anc), "%s", c->ch.v[i].vpath);
		for (size_t b = fvm_path_base_off(anc, strlen(anc)); b > 1; b = fvm_path_base_off(anc, strlen(anc))) {
			anc[b - 1] = '\0';
			size_t j = fvm_changes_find(&c->ch, anc);
			bool added = false;
			for (size_t k = j; k < c->ch.n && strcmp(c->ch.v[k].vpath, anc) == 0; k++) {
				added |= c->ch.v[k].kind == FVM_ADDED;
			}
			for (size_t k = j; added && k < c->ch.n && strcmp(c->ch.v[k].vpath, anc) == 0; k++) {
				c->sel[k] = true;
			}
		}
	}
}

const char *commit_conflict(const struct fvm_changes *chs, size_t i, const struct originlog *orig)
{
	const struct fvm_change *ch = &chs->v[i];
	const struct fvm_origin *r = originlog_find(orig, ch->vpath);

	if (!r) {
		return NULL; /* never copied up: nothing recorded to compare with */
	}
	if (ch->kind == FVM_ADDED) {
		bool replaced = i > 0 && chs->v[i - 1].kind == FVM_DELETED &&
				strcmp(chs->v[i - 1].vpath, ch->vpath) == 0;
		return replaced ? NULL : "deleted on the host since the VM copied it up";
	}
	return originlog_matches(r, &ch->host) ? NULL : "changed on the host since the VM copied it up";
}

static const char *conflict_of(const struct commit *c, const struct originlog *orig, size_t i)
{
	return commit_conflict(&c->ch, i, orig);
}

static void find_conflicts(struct commit *c, const struct originlog *orig, bool force)
{
	const char *last = NULL; /* the last conflicting path: its subtree follows in order */

	for (size_t i = 0; i < c->ch.n; i++) {
		const char *vp = c->ch.v[i].vpath;
		if (!c->sel[i]) {
			continue;
		}
		if (last && fvm_path_has_prefix(vp, strlen(vp), last, strlen(last))) {
			c->why[i] = strcmp(vp, last) == 0 ? c->why[i - 1] : "beneath a conflict";
		} else if (!force) {
			c->why[i] = conflict_of(c, orig, i);
		}
		if (c->why[i]) {
			last = vp;
			c->sel[i] = false;
			c->nconf++;
		} else {
			c->nsel++;
		}
	}
}

void commit_plan(struct commit *c, const struct commit_opts *o, const struct originlog *orig)
{
	select_changes(c, o);
	find_conflicts(c, orig, o->force);
}

size_t commit_privileged(const struct commit *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->ch.n; i++) {
		n += c->sel[i] && c->ch.v[i].priv;
	}
	return n;
}

void commit_hold_privileged(struct commit *c)
{
	const char *last = NULL; /* the last privileged path held: its subtree follows */

	for (size_t i = 0; i < c->ch.n; i++) {
		const char *vp = c->ch.v[i].vpath;
		if (!c->sel[i]) {
			continue;
		}
		if (c->ch.v[i].priv) {
			last = vp;
			/* The host object a privileged one replaces (D then A) stays too. */
			if (i > 0 && c->sel[i - 1] && strcmp(c->ch.v[i - 1].vpath, vp) == 0) {
				c->sel[i - 1] = false;
				c->held[i - 1] = true;
				c->nsel--;
				c->nheld++;
			}
		} else if (!last || !fvm_path_has_prefix(vp, strlen(vp), last, strlen(last))) {
			continue;
		}
		c->sel[i] = false;
		c->held[i] = true;
		c->nsel--;
		c->nheld++;
	}
}
