/*
 * resolve.c — lookup in the virtual namespace (fvm_resolve in fvm/vm.h): the walk.
 *
 * The walk keeps a canonical virtual prefix CUR and, for it, whether upper/CUR exists,
 * which read-only layers show their directory CUR through (a mask, layers.c) and
 * whether host entries show through in it. Each component is looked up upper first,
 * then its whiteout, then in each layer showing, top-down (entry, then whiteout),
 * then on the host (only where the host shows through). A layer's object is a lower
 * one, like the host's: where FVM_HOST, res->layer its index, rpath in the layer.
 * Symlinks are read and their targets spliced in front of the remaining path, an
 * absolute target restarting from the virtual root, so ".." is applied after symlinks
 * as the kernel does.
 *
 * fvm_resolve() is the loop; each step is a named helper, as proot's canonicalize:
 * walk_start (the cached parent), next_component, end_at_dir (the path ended on a
 * directory), lookup_name (upper, whiteout, host), end_absent, follow_link (with
 * proc_link_text and proc_handoff for /proc's magic links), end_found and descend.
 *
 * Invariants:
 *  - Only lstat and readlink are issued: resolution never changes anything.
 *  - Where upper/CUR does not exist, nothing beneath it is looked up in upper/: a path
 *    the VM never touched costs one host lstat per component (plus one for the first).
 *  - Magic links under /proc (fd/N, cwd, exe, root) as the last component are left to
 *    the kernel (they may name deleted files, pipes, O_TMPFILEs); followed by more
 *    components, their narrowed text is spliced like a symlink's, so that
 *    /proc/self/root/P or /proc/self/cwd/P means the VM's P, never the host's.
 *  - The walk state of every canonical directory it descends into, and the text of
 *    every host symlink it reads (outside /proc), goes to the lookup cache (dcache.c)
 *    at the generation read before the walk. A later name in a cached directory starts
 *    there: a path the VM never touched costs one lstat; a cached directory or link met
 *    on the way (after a link's splice, say) costs none.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/sys.h"
#include "lookup.h"

#define MAX_LINKS 40

/* State of the walk at the canonical prefix cur, and of the path still to walk. */
struct walk {
	const struct fvm_vm *vm;
	struct fvm_res *res;
	int flags;              /* FVM_R_* */
	uint64_t gen;           /* the generation read before the walk */
	size_t links;           /* symlinks followed so far */
	char cur[FVM_VPATH_MAX];
	size_t clen;            /* 0 for the root */
	bool cur_upper;         /* upper/cur is a directory */
	bool cur_host;          /* host entries show through in cur */
	uint32_t cur_layers;    /* the layers whose directory cur shows through */
	struct stat cur_st;     /* the entry of cur (for a path ending in "." or "..") */
	bool st_valid;          /* cur_st is set (not when the walk started from the cache) */
	enum fvm_where cur_where;
	char rest[FVM_VPATH_MAX + PATH_MAX]; /* the path still to walk; link targets spliced in */
	size_t pos;             /* where in rest the next component starts */
	char up[FVM_RPATH_MAX]; /* upper/next, when the component was looked up there */
	char lp[FVM_RPATH_MAX]; /* LAYER/next, when the component was found in a layer */
};

/* The component being looked up: next = cur "/" name, kept in w->cur past w->clen. */
struct comp {
	const char *name;
	size_t nlen;
	size_t nextlen;
	bool last;              /* nothing but slashes follows it */
	enum fvm_class klass;   /* class of next */
	bool known_file;        /* cached as a plain host file: nothing to record */
	struct stat st;         /* the entry found */
	enum fvm_where where;
	int layer;              /* FVM_HOST: the layer holding it, -1 the host */
	bool whiteout;          /* absent because a whiteout hides a host entry */
};

static bool is_proc_magic(const char *vpath, size_t len)
{
	return fvm_path_has_prefix(vpath, len, "/proc", 5);
}

/* Resets W to the virtual root. */
static void walk_root(struct walk *w)
{
	w->clen = 0;
	w->cur[0] = '\0';
	w->cur_upper = true;
	w->cur_host = true;
	w->cur_layers = fvm_layers_all(w->vm);
	w->cur_where = FVM_HOST;
	w->st_valid = false; /* "/" is stat'ed only when the path ends there */
}

/* Takes the pending component out of w->cur again (the walk stops at cur). */
static int drop_next(struct walk *w, int err)
{
	w->cur[w->clen] = '\0';
	return err;
}

static int lookup_name(struct walk *w, struct comp *c);
static int descend(struct walk *w, const struct comp *c);

/*
 * Recomputes the state of W after its prefix was shortened by "..": from the lookup
 * cache when it knows the prefix (a canonical directory, as walk_start takes a parent
 * from it: fts climbs back with openat(fd, "..") once per directory in find), else by
 * looking the prefix up again without following anything (it has no links): each
 * component as the walk would, upper, layers, host.
 */
static int walk_reload(struct walk *w)
{
	char save[FVM_VPATH_MAX];
	size_t len = w->clen, start = 1;
	struct dcache_val cv;

	if (fvm_dcache_get(w->cur, len, w->gen, &cv) && cv.kind == DC_DIR) {
		w->cur_upper = cv.upper;
		w->cur_host = cv.host;
		w->cur_layers = cv.layers;
		w->cur_where = cv.upper ? FVM_UPPER : FVM_HOST;
		w->st_valid = false;
		return 0;
	}
	memcpy(save, w->cur, len);
	save[len] = '\0';
	walk_root(w);
	for (size_t i = 1; i <= len; i++) {
		if (i < len && save[i] != '/') {
			continue;
		}
		struct comp c = {.name = save + start, .nlen = i - start, .nextlen = i,
				 .klass = fvm_policy_class(w->vm->policy, save, i)};
		int ret;
		memcpy(w->cur + w->clen, save + w->clen, i - w->clen);
		w->cur[i] = '\0';
		ret = lookup_name(w, &c);
		if (ret < 0) {
			return ret;
		}
		if (c.where == FVM_ABSENT || !S_ISDIR(c.st.st_mode)) {
			return -ENOENT;
		}
		descend(w, &c);
		start = i + 1;
	}
	return 0;
}

/* Goes up one level for "..": the root's parent is the root. */
static int walk_up(struct walk *w)
{
	if (w->clen == 0) {
		return 0;
	}
	w->clen = fvm_path_base_off(w->cur, w->clen) - 1;
	w->cur[w->clen] = '\0';
	if (w->clen) {
		return walk_reload(w);
	}
	walk_root(w);
	return 0;
}

/*
 * Puts link text TARGET (TL) in front of what is left of the path and goes back to
 * the root for an absolute target: rest becomes TARGET "/" rest[pos..]. The "/"
 * always added is harmless: a target ending in "/" means the same.
 */
static int splice_link(struct walk *w, const char *target, size_t tl)
{
	size_t restlen = strlen(w->rest + w->pos);

	if (tl + 1 + restlen + 1 > sizeof(w->rest)) {
		return -ENAMETOOLONG;
	}
	memmove(w->rest + tl + 1, w->rest + w->pos, restlen + 1);
	memcpy(w->rest, target, tl);
	w->rest[tl] = '/';
	w->pos = 0;
	w->cur[w->clen] = '\0';
	if (target[0] == '/') {
		walk_root(w);
	}
	return 0;
}

/*
 * Sets W up for VPATH (VLEN): at the root, or, when the lookup cache knows the parent
 * directory of a plain name, in that parent: only the last component is looked up.
 */
static void walk_start(struct walk *w, const char *vpath, size_t vlen)
{
	size_t lastoff = w->gen ? fvm_plain_last(vpath, vlen) : 0;
	struct dcache_val cv;

	memcpy(w->rest, vpath, vlen + 1);
	w->pos = 0;
	w->links = 0;
	walk_root(w);
	if (lastoff > 1 && fvm_dcache_get(vpath, lastoff - 1, w->gen, &cv) && cv.kind == DC_DIR) {
		w->cur_upper = cv.upper;
		w->cur_host = cv.host;
		w->cur_layers = cv.layers;
		w->clen = lastoff - 1;
		memcpy(w->cur, vpath, w->clen);
		w->cur[w->clen] = '\0';
		w->cur_where = w->cur_upper ? FVM_UPPER : FVM_HOST;
		w->pos = lastoff;
	}
}

/* Takes the next component of rest into C; false when the path has ended. */
static bool next_component(struct walk *w, struct comp *c)
{
	size_t after;

	while (w->rest[w->pos] == '/') {
		w->pos++;
	}
	if (!w->rest[w->pos]) {
		return false;
	}
	c->name = w->rest + w->pos;
	c->nlen = 0;
	while (c->name[c->nlen] && c->name[c->nlen] != '/') {
		c->nlen++;
	}
	w->pos += c->nlen;
	after = w->pos;
	while (w->rest[after] == '/') {
		after++;
	}
	c->last = w->rest[after] == '\0';
	return true;
}

/* True when C, the last component or not, is to be followed if it is a link. */
static bool follows(const struct walk *w, const struct comp *c)
{
	return !c->last || !(w->flags & FVM_R_NOFOLLOW) || w->res->trailing_slash;
}

/* The result when the path ended on the directory cur itself ("/", "x/.", "x/.."). */
static int end_at_dir(struct walk *w)
{
	struct fvm_res *res = w->res;

	if (w->clen == 0) {
		memcpy(res->vpath, "/", 2);
		res->vlen = 1;
	} else {
		memcpy(res->vpath, w->cur, w->clen + 1);
		res->vlen = w->clen;
	}
	res->klass = fvm_policy_class(w->vm->policy, res->vpath, res->vlen);
	if (!w->st_valid) {
		char cup[FVM_RPATH_MAX];
		const char *crpath = res->vpath;
		if (w->cur_where == FVM_UPPER) {
			fvm_upper_path(w->vm, res->vpath, cup, sizeof(cup));
			crpath = cup;
		} else if (w->cur_layers) {
			fvm_layer_path(w->vm, (unsigned)__builtin_ctz(w->cur_layers), res->vpath, cup,
				       sizeof(cup));
			crpath = cup;
		}
		int ret = sys_lstat(crpath, &w->cur_st);
		if (ret < 0) {
			return ret;
		}
	}
	res->st = w->cur_st;
	res->where = w->cur_where;
	res->parent_upper = w->cur_upper;
	res->parent_host = w->cur_host;
	res->parent_layers = w->cur_layers;
	res->layer = -1;
	if (w->cur_where == FVM_UPPER) {
		fvm_upper_path(w->vm, res->vpath, res->rpath, sizeof(res->rpath));
	} else if (w->cur_layers) {
		/* A directory of a layer: the top one holding it (cur_layers has its bit). */
		res->layer = __builtin_ctz(w->cur_layers);
		fvm_layer_path(w->vm, (unsigned)res->layer, res->vpath, res->rpath, sizeof(res->rpath));
	} else {
		memcpy(res->rpath, res->vpath, res->vlen + 1);
	}
	return 0;
}

/*
 * Forms next = cur "/" name for C and classifies it. Returns 0, or -errno: a name too
 * long, or a hidden one (absent, and staying so: even creating one is refused).
 */
static int enter_name(struct walk *w, struct comp *c)
{
	const struct fvm_vm *vm = w->vm;

	if (c->nlen > NAME_MAX || w->clen + 1 + c->nlen + 1 > FVM_VPATH_MAX) {
		return -ENAMETOOLONG;
	}
	c->nextlen = w->clen + 1 + c->nlen;
	w->cur[w->clen] = '/';
	memcpy(w->cur + w->clen + 1, c->name, c->nlen);
	w->cur[c->nextlen] = '\0';
	c->klass = fvm_policy_class(vm->policy, w->cur, c->nextlen);
	if (c->klass == FVM_CLASS_HIDDEN ||
	    (vm->home_len && fvm_path_has_prefix(w->cur, c->nextlen, vm->home, vm->home_len))) {
		return drop_next(w, -ENOENT);
	}
	return 0;
}

/*
 * What the lookup cache knows of next: a directory on the way is entered, a host
 * link spliced. Returns 1 when so (the walk goes on), 0 when next must be looked up,
 * -errno.
 */
static int cached_step(struct walk *w, struct comp *c)
{
	struct dcache_val hit;
	bool known;

	c->known_file = false;
	if (!follows(w, c)) {
		return 0;
	}
	known = fvm_dcache_get(w->cur, c->nextlen, w->gen, &hit);
	c->known_file = known && hit.kind == DC_FILE;
	if (known && hit.kind == DC_DIR && !c->last) {
		w->cur_upper = hit.upper;
		w->cur_host = hit.host;
		w->cur_layers = hit.layers;
		w->cur_where = hit.upper ? FVM_UPPER : FVM_HOST;
		w->st_valid = false;
		w->clen = c->nextlen;
		return 1;
	}
	if (known && hit.kind == DC_LINK) {
		if (++w->links > MAX_LINKS) {
			return -ELOOP;
		}
		int ret = splice_link(w, hit.target, hit.tlen);
		return ret < 0 ? ret : 1;
	}
	return 0;
}

/*
 * Looks next up: upper/ first, then its whiteout, then the host where it shows
 * through (a SHARED path: the host only). Sets C->where, C->st, C->whiteout, and
 * w->up for an upper entry. Returns 0 (found or absent) or -errno.
 *
 * A name the process may not look up (a directory without search permission on its
 * way) is EACCES, as natively, never "absent": the upper directory governs where it
 * exists, the host's elsewhere.
 */
static int lookup_name(struct walk *w, struct comp *c)
{
	int lret = 0;

	c->where = FVM_ABSENT;
	c->whiteout = false;
	c->layer = -1;
	if (c->klass == FVM_CLASS_SHARED) {
		lret = sys_lstat(w->cur, &c->st);
		if (lret == 0) {
			c->where = FVM_HOST;
		}
		return lret == -EACCES ? drop_next(w, -EACCES) : 0;
	}
	if (fvm_is_wh_name(c->name, c->nlen)) {
		return drop_next(w, -EINVAL);
	}
	/*
	 * A name upper/ is known not to hold (the thread listed the directory at this
	 * names generation) is looked up on the host first; only when the host lacks it
	 * too is upper/ asked, for a name created since (a creation does not bump the
	 * names generation).
	 */
	bool skip_upper = w->cur_upper && w->cur_host && !w->cur_layers &&
			  fvm_names_lack(w->vm, w->cur, w->clen, c->name, c->nlen);
	bool host_tried = skip_upper, wh_known = skip_upper;
	if (skip_upper) {
		lret = sys_lstat(w->cur, &c->st);
		if (lret == 0) {
			c->where = FVM_HOST;
		} else if (lret == -ENOENT) {
			skip_upper = false;
			lret = 0;
		}
	}
	if (w->cur_upper && !skip_upper) {
		if (fvm_upper_path(w->vm, w->cur, w->up, sizeof(w->up)) < 0) {
			return -ENAMETOOLONG;
		}
		lret = sys_lstat(w->up, &c->st);
		if (lret == 0) {
			c->where = FVM_UPPER;
		} else if (lret != -EACCES && !wh_known) {
			char wh[FVM_RPATH_MAX];
			struct stat whst;
			if (fvm_wh_path(w->up, wh, sizeof(wh)) == 0 && sys_lstat(wh, &whst) == 0) {
				c->whiteout = true;
			}
		}
	}
	for (unsigned i = 0; c->where == FVM_ABSENT && !c->whiteout && lret != -EACCES &&
			     w->cur_layers >> i; i++) {
		if (!(w->cur_layers & ((uint32_t)1 << i))) {
			continue;
		}
		char wh[FVM_RPATH_MAX + 8];
		struct stat whst;
		if (fvm_layer_path(w->vm, i, w->cur, w->lp, sizeof(w->lp)) < 0) {
			return drop_next(w, -ENAMETOOLONG);
		}
		lret = sys_lstat(w->lp, &c->st);
		if (lret == 0) {
			c->where = FVM_HOST;
			c->layer = (int)i;
		} else if (lret != -EACCES && fvm_wh_path(w->lp, wh, sizeof(wh)) == 0 &&
			   sys_lstat(wh, &whst) == 0) {
			c->whiteout = true;
		} else if (lret == -ENOENT) {
			lret = 0;
		}
	}
	if (c->where == FVM_ABSENT && !c->whiteout && w->cur_host && lret != -EACCES && !host_tried) {
		lret = sys_lstat(w->cur, &c->st);
		if (lret == 0) {
			c->where = FVM_HOST;
		}
	}
	return lret == -EACCES ? drop_next(w, -EACCES) : 0;
}

/* The result's name and parent state: the last component next, in directory cur. */
static struct fvm_res *end_at_next(struct walk *w, const struct comp *c)
{
	struct fvm_res *res = w->res;

	memcpy(res->vpath, w->cur, c->nextlen + 1);
	res->vlen = c->nextlen;
	res->klass = c->klass;
	res->parent_upper = w->cur_upper;
	res->parent_host = w->cur_host;
	res->parent_layers = w->cur_layers;
	res->layer = c->layer;
	return res;
}

/* The result for a last component that does not exist: where it would be created. */
static int end_absent(struct walk *w, const struct comp *c)
{
	struct fvm_res *res = end_at_next(w, c);

	res->whiteout = c->whiteout;
	if (c->klass == FVM_CLASS_SHARED) {
		memcpy(res->rpath, w->cur, c->nextlen + 1);
	} else if (fvm_upper_path(w->vm, w->cur, res->rpath, sizeof(res->rpath)) < 0) {
		return -ENAMETOOLONG;
	}
	return 0;
}

/*
 * The text of /proc link LRPATH to splice, into TARGET (PATH_MAX): /proc/self and
 * thread-self are ordinary links ("PID"); a magic link used as a directory
 * (/proc/self/root/etc, /proc/self/cwd/f, /proc/self/fd/N/f) names a path the VM can
 * look up, so its text, narrowed, is spliced like a symlink's and the walk stays in the
 * virtual namespace. Returns the length, or -EINVAL when the link is to be handed to
 * the kernel (proc_handoff).
 */
static ssize_t proc_link_text(struct walk *w, const struct comp *c, const char *lrpath,
			      char *target, size_t size)
{
	ssize_t tl = sys_readlinkat(AT_FDCWD, lrpath, target, size - 1);

	if (tl > 0 && target[0] != '/' && !memchr(target, ':', (size_t)tl)) {
		target[tl] = '\0';
		return tl;
	}
	if (c->last) {
		return -EINVAL;
	}
	/* Read again: the text may have changed since (a thread's cwd, say). */
	tl = sys_readlinkat(AT_FDCWD, lrpath, target, size - 1);
	if (tl <= 0 || target[0] != '/') {
		return -EINVAL;
	}
	target[tl] = '\0';
	return strstr(target, " (deleted)") ? -EINVAL : fvm_narrow(w->vm, target, target, size);
}

/*
 * The result for a /proc magic link the VM cannot splice: the rest of the path is the
 * kernel's, and rpath is the /proc path as given. Returns 0 or -errno.
 */
static int proc_handoff(struct walk *w, const struct comp *c)
{
	struct fvm_res *res = w->res;
	size_t restlen = strlen(w->rest + w->pos);
	int ret;

	if (c->nextlen + restlen + 1 > sizeof(res->rpath)) {
		return -ENAMETOOLONG;
	}
	memcpy(res->vpath, w->cur, c->nextlen);
	memcpy(res->vpath + c->nextlen, w->rest + w->pos, restlen + 1);
	res->vlen = c->nextlen + restlen;
	memcpy(res->rpath, res->vpath, res->vlen + 1);
	res->klass = c->klass;
	res->where = FVM_HOST;
	res->parent_host = true;
	ret = sys_fstatat(AT_FDCWD, res->rpath, &res->st,
			  (w->flags & FVM_R_NOFOLLOW) && !res->trailing_slash ? AT_SYMLINK_NOFOLLOW : 0);
	if (ret == -ENOENT && c->last) {
		res->where = FVM_ABSENT;
		return 0;
	}
	return ret;
}

/*
 * Follows the symlink found at next: its text is spliced (a host link's recorded in
 * the lookup cache). Returns 0 (the walk goes on), 1 when a /proc magic link ended it
 * (proc_handoff), or -errno.
 */
static int follow_link(struct walk *w, const struct comp *c)
{
	char target[PATH_MAX];
	const char *lrpath = c->where == FVM_UPPER ? w->up : c->layer >= 0 ? w->lp : w->cur;
	bool proc = c->where == FVM_HOST && c->layer < 0 && is_proc_magic(w->cur, c->nextlen);
	ssize_t tl;
	int ret;

	if (++w->links > MAX_LINKS) {
		return -ELOOP;
	}
	if (proc) {
		tl = proc_link_text(w, c, lrpath, target, sizeof(target));
		if (tl < 0) {
			ret = proc_handoff(w, c);
			return ret < 0 ? ret : 1;
		}
		return splice_link(w, target, (size_t)tl);
	}
	tl = sys_readlinkat(AT_FDCWD, lrpath, target, sizeof(target) - 1);
	if (tl < 0) {
		return (int)tl;
	}
	target[tl] = '\0';
	if (c->where == FVM_HOST) {
		struct dcache_val lv = {.kind = DC_LINK, .tlen = (size_t)tl};
		if ((size_t)tl < sizeof(lv.target)) {
			memcpy(lv.target, target, (size_t)tl);
			fvm_dcache_put(w->cur, c->nextlen, &lv, w->gen);
		}
	}
	return splice_link(w, target, (size_t)tl);
}

/* The result for a last component that exists (and is not a link to follow). */
static int end_found(struct walk *w, const struct comp *c)
{
	struct fvm_res *res = end_at_next(w, c);

	res->st = c->st;
	res->where = c->where;
	if (c->where == FVM_UPPER) {
		memcpy(res->rpath, w->up, strlen(w->up) + 1);
	} else if (c->layer >= 0) {
		memcpy(res->rpath, w->lp, strlen(w->lp) + 1);
	} else {
		memcpy(res->rpath, w->cur, c->nextlen + 1);
		if (S_ISDIR(c->st.st_mode)) {
			/* What a descent would record: its names are coming next. */
			fvm_dcache_put_dir(w->cur, c->nextlen, false, 0, true, w->gen);
		} else if (!S_ISLNK(c->st.st_mode) && !w->cur_upper && !w->cur_layers &&
			   !c->known_file && c->klass == FVM_CLASS_VIRTUAL) {
			struct dcache_val fv = {.kind = DC_FILE};
			fvm_dcache_put(w->cur, c->nextlen, &fv, w->gen);
		}
	}
	if (res->trailing_slash && !S_ISDIR(c->st.st_mode)) {
		return -ENOTDIR;
	}
	return 0;
}

/*
 * Makes directory next the walk's cur, with its walk state (recorded in the cache):
 * an upper directory that is not opaque, or a layer's, merges the lower directories
 * beneath it (fvm_lower_descend); the host's merges nothing.
 */
static int descend(struct walk *w, const struct comp *c)
{
	uint32_t pmask = w->cur_layers;
	bool phost = w->cur_host;

	w->cur_layers = 0;
	if (c->where == FVM_UPPER) {
		w->cur_host = false;
		if ((pmask || phost) && c->klass != FVM_CLASS_SHARED) {
			char op[FVM_RPATH_MAX];
			struct stat hs;
			if (fvm_opaque_path(w->up, op, sizeof(op)) < 0) {
				return -ENAMETOOLONG;
			}
			if (sys_lstat(op, &hs) < 0) {
				fvm_lower_descend(w->vm, pmask, phost, w->cur, c->nextlen, &w->cur_layers,
						  &w->cur_host);
			}
		}
		w->cur_upper = true;
	} else if (c->layer >= 0) {
		/* The layers above had nothing of this name: start at its own. */
		fvm_lower_descend(w->vm, pmask & ~(((uint32_t)1 << c->layer) - 1), phost, w->cur,
				  c->nextlen, &w->cur_layers, &w->cur_host);
		w->cur_upper = false;
	} else {
		w->cur_upper = false;
		w->cur_host = true;
	}
	w->cur_st = c->st;
	w->st_valid = true;
	w->cur_where = c->where;
	w->clen = c->nextlen;
	fvm_dcache_put_dir(w->cur, w->clen, w->cur_upper, w->cur_layers, w->cur_host, w->gen);
	return 0;
}

int fvm_resolve(const struct fvm_vm *vm, const char *vpath, int flags, struct fvm_res *res)
{
	struct walk w;
	struct comp c;
	size_t vlen = strlen(vpath);
	int ret;

	res->where = FVM_ABSENT;
	res->whiteout = false;
	res->parent_upper = false;
	res->parent_host = false;
	res->parent_layers = 0;
	res->layer = -1;
	res->vm = vm;
	res->trailing_slash = vlen > 1 && vpath[vlen - 1] == '/';
	if (vpath[0] != '/') {
		return -EINVAL;
	}
	if (vlen >= FVM_VPATH_MAX) {
		return -ENAMETOOLONG;
	}
	w.vm = vm;
	w.res = res;
	w.flags = flags;
	w.gen = fvm_gen_now(vm);
	walk_start(&w, vpath, vlen);

	while (next_component(&w, &c)) {
		if (c.nlen == 1 && c.name[0] == '.') {
			continue;
		}
		if (c.nlen == 2 && c.name[0] == '.' && c.name[1] == '.') {
			ret = walk_up(&w);
			if (ret < 0) {
				return ret;
			}
			continue;
		}
		ret = enter_name(&w, &c);
		if (ret == 0) {
			ret = cached_step(&w, &c);
		}
		if (ret == 0) {
			ret = lookup_name(&w, &c);
		} else if (ret > 0) {
			continue; /* a cached directory entered or link spliced */
		}
		if (ret < 0) {
			return ret;
		}
		if (c.where == FVM_ABSENT) {
			return c.last ? end_absent(&w, &c) : drop_next(&w, -ENOENT);
		}
		if (S_ISLNK(c.st.st_mode) && follows(&w, &c)) {
			ret = follow_link(&w, &c);
			if (ret != 0) {
				return ret > 0 ? 0 : ret;
			}
			continue;
		}
		if (c.last) {
			return end_found(&w, &c);
		}
		if (!S_ISDIR(c.st.st_mode)) {
			return drop_next(&w, -ENOTDIR);
		}
		ret = descend(&w, &c);
		if (ret < 0) {
			return ret;
		}
	}
	return end_at_dir(&w);
}
