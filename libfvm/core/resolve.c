/*
 * resolve.c — lookup in the virtual namespace (fvm/vm.h).
 *
 * The walk keeps a canonical virtual prefix CUR and, for it, whether upper/CUR exists
 * and whether host entries show through in it. Each component is looked up upper
 * first, then the whiteout, then the host (only where the host shows through).
 * Symlinks are read and their targets spliced in front of the remaining path, an
 * absolute target restarting from the virtual root, so ".." is applied after symlinks
 * as the kernel does.
 *
 * Invariants:
 *  - Only lstat and readlink are issued: resolution never changes anything.
 *  - Where upper/CUR does not exist, nothing beneath it is looked up in upper/: a path
 *    the VM never touched costs one host lstat per component (plus one for the first).
 *  - Magic links under /proc (fd/N, cwd, exe, root) as the last component are left to
 *    the kernel (they may name deleted files, pipes, O_TMPFILEs); followed by more
 *    components, their narrowed text is spliced like a symlink's, so that
 *    /proc/self/root/P or /proc/self/cwd/P means the VM's P, never the host's.
 *  - The walk state of every canonical directory it descends into (is it in upper/,
 *    does the host show through) is cached per process, tagged with the VM generation
 *    read before the walk (gen.c), and so is the text of every host symlink it reads
 *    (outside /proc). A later name in a cached directory starts there: a path the VM
 *    never touched costs one lstat; a cached directory or link met on the way (after a
 *    link's splice, say) costs none. Entries of an older generation are never used.
 *    Only the VM's own changes to directories and links bump the generation (a
 *    regular file's copy-up, creation or removal changes no cached state): a host
 *    directory or link replaced while the VM runs is seen as the kernel sees it.
 *  - The cache is lock-free and signal-safe: an entry is a seqlock; a reader that
 *    sees it change retries nothing, it just walks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/sys.h"
#include "fvm/vm.h"

#define MAX_LINKS 40

int fvm_vm_setup(struct fvm_vm *vm, const char *name, const char *root, const char *home)
{
	size_t rl = strlen(root);

	/* Field by field, not memset: libfvm's start touches only the pages it uses. */
	vm->name[0] = vm->root[0] = vm->upper[0] = vm->work[0] = vm->home[0] = '\0';
	vm->root_len = vm->upper_len = vm->home_len = 0;
	vm->policy = NULL;
	vm->is_root = false;
	vm->gen.counter = NULL;
	if (root[0] != '/' || (home && home[0] != '/')) {
		return -EINVAL;
	}
	if (strlen(name) >= sizeof(vm->name) || rl + sizeof("/upper") > sizeof(vm->root) ||
	    (home && strlen(home) >= sizeof(vm->home))) {
		return -ENAMETOOLONG;
	}
	strcpy(vm->name, name);
	vm->root_len = (size_t)fvm_path_normalize(root, vm->root, sizeof(vm->root), true);
	vm->upper_len = vm->root_len + 1 + strlen(FVM_UPPER_DIR);
	memcpy(vm->upper, vm->root, vm->root_len);
	vm->upper[vm->root_len] = '/';
	strcpy(vm->upper + vm->root_len + 1, FVM_UPPER_DIR);
	memcpy(vm->work, vm->root, vm->root_len);
	vm->work[vm->root_len] = '/';
	strcpy(vm->work + vm->root_len + 1, FVM_WORK_DIR);
	if (home) {
		vm->home_len = (size_t)fvm_path_normalize(home, vm->home, sizeof(vm->home), true);
	}
	vm->is_root = sys_geteuid() == 0;
	return 0;
}

int fvm_upper_path(const struct fvm_vm *vm, const char *vpath, char *out, size_t outlen)
{
	size_t vl = strlen(vpath);

	if (vl == 1 && vpath[0] == '/') {
		vl = 0; /* upper/ itself, without a trailing slash */
	}
	if (vm->upper_len + vl + 1 > outlen) {
		return -ENAMETOOLONG;
	}
	memcpy(out, vm->upper, vm->upper_len);
	memcpy(out + vm->upper_len, vpath, vl + 1);
	return (int)(vm->upper_len + vl);
}

int fvm_narrow(const struct fvm_vm *vm, const char *rpath, char *out, size_t outlen)
{
	size_t rl = strlen(rpath);

	if (vm->upper_len && fvm_path_has_prefix(rpath, rl, vm->upper, vm->upper_len)) {
		const char *rest = rpath + vm->upper_len;
		size_t n = rl - vm->upper_len;
		if (n == 0) {
			rest = "/";
			n = 1;
		}
		if (n + 1 > outlen) {
			return -ENAMETOOLONG;
		}
		memmove(out, rest, n + 1);
		return (int)n;
	}
	if (rl + 1 > outlen) {
		return -ENAMETOOLONG;
	}
	if (out != rpath) {
		memmove(out, rpath, rl + 1);
	}
	return (int)rl;
}

/* ---- the lookup cache: directories and host symlinks ---- */

#define DCACHE_N 512      /* entries, direct-mapped by hash of the path */
#define DCACHE_PATH 232   /* path (and, for a link, "\0" and its target) */

/*
 * DC_DIR: a directory and its walk state. DC_LINK: a host symlink and its text.
 * DC_FILE: a host object, neither directory nor link, in a directory with nothing in
 * upper/ (so that only a change that bumps the generation can put it in upper/).
 */
enum dcache_kind { DC_DIR, DC_LINK, DC_FILE };

/* What the cache knows of one canonical virtual path. */
struct dcache_val {
	enum dcache_kind kind;
	bool upper;       /* DC_DIR: cur_upper of the walk state */
	bool host;        /* DC_DIR: cur_host of the walk state */
	size_t tlen;      /* DC_LINK: length of target */
	char target[DCACHE_PATH];
};

struct dcache_ent {
	unsigned seq;     /* odd while an entry is written */
	unsigned char kind;
	bool upper;
	bool host;
	unsigned short len, tlen;
	uint64_t gen;
	char path[DCACHE_PATH];  /* path, then for a link "\0" target */
};

static struct dcache_ent dcache[DCACHE_N];

static unsigned dcache_slot(const char *path, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h = (h ^ (unsigned char)path[i]) * 16777619u;
	}
	return h % DCACHE_N;
}

/* Records V for canonical PATH (LEN) at generation GEN, when it fits. */
static void dcache_put(const char *path, size_t len, const struct dcache_val *v, uint64_t gen)
{
	struct dcache_ent *e;
	unsigned seq;
	size_t tlen = v->kind == DC_LINK ? v->tlen : 0;

	if (!gen || len + 1 + tlen >= DCACHE_PATH) {
		return;
	}
	e = &dcache[dcache_slot(path, len)];
	seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	if (!(seq & 1) && e->gen == gen && e->kind == (unsigned char)v->kind && e->len == len &&
	    e->upper == v->upper && e->host == v->host && e->tlen == tlen &&
	    memcmp(e->path, path, len) == 0) {
		return; /* known already: no write (after a fork, a write costs a page copy) */
	}
	/* A writer interrupted by a signal handler (or another thread) keeps the entry. */
	if ((seq & 1) || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false,
						      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		return;
	}
	e->kind = (unsigned char)v->kind;
	e->upper = v->upper;
	e->host = v->host;
	e->len = (unsigned short)len;
	e->tlen = (unsigned short)tlen;
	e->gen = gen;
	memcpy(e->path, path, len);
	e->path[len] = '\0';
	memcpy(e->path + len + 1, v->target, tlen);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

static void dcache_put_dir(const char *path, size_t len, bool upper, bool host, uint64_t gen)
{
	struct dcache_val v = {.kind = DC_DIR, .upper = upper, .host = host};

	dcache_put(path, len, &v, gen);
}

/* Looks canonical PATH (LEN) up at generation GEN; true with what is known in *V. */
static bool dcache_get(const char *path, size_t len, uint64_t gen, struct dcache_val *v)
{
	const struct dcache_ent *e;
	unsigned seq;
	bool hit;

	if (!gen || len >= DCACHE_PATH) {
		return false;
	}
	e = &dcache[dcache_slot(path, len)];
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	if (seq & 1) {
		return false;
	}
	hit = e->gen == gen && e->len == len && memcmp(e->path, path, len) == 0;
	if (hit) {
		v->kind = (enum dcache_kind)e->kind;
		v->upper = e->upper;
		v->host = e->host;
		v->tlen = e->tlen < DCACHE_PATH - len - 1 ? e->tlen : 0;
		memcpy(v->target, e->path + len + 1, v->tlen);
		v->target[v->tlen] = '\0';
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return hit && __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq;
}

bool fvm_dir_host_only(const struct fvm_vm *vm, const char *vpath, size_t len)
{
	struct dcache_val v;
	uint64_t gen = fvm_gen_now(vm);

	return dcache_get(vpath, len, gen, &v) && v.kind == DC_DIR && !v.upper && v.host;
}

/* ---- the upper names cache: which names upper/DIR holds, per thread ---- */

#define NAMES_SLOTS 4
#define NAMES_MAX 65536

struct names_slot {
	uint64_t gen;        /* names generation when upper/DIR was read */
	size_t len, n;
	char *dir;           /* the virtual directory ("" for the root) */
	uint64_t *hash;      /* sorted */
};

static __thread struct names_slot names_cache[NAMES_SLOTS];
static __thread unsigned names_next;
static __thread bool names_busy; /* a signal handler finds the cache in use: skips it */

uint64_t fvm_name_hash(const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */

	for (size_t i = 0; i < len; i++) {
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	}
	return h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void fvm_upper_names_record(const struct fvm_vm *vm, const char *vdir, size_t len, uint64_t ngen,
			    uint64_t *hashes, size_t n)
{
	struct names_slot *sl;
	char *dir;

	(void)vm;
	if (len == 1 && vdir[0] == '/') {
		len = 0;
	}
	if (!ngen || n > NAMES_MAX || names_busy || !(dir = malloc(len + 1))) {
		return;
	}
	memcpy(dir, vdir, len);
	dir[len] = '\0';
	qsort(hashes, n, sizeof(*hashes), cmp_u64);
	uint64_t *copy = malloc((n ? n : 1) * sizeof(*copy));
	if (!copy) {
		free(dir);
		return;
	}
	memcpy(copy, hashes, n * sizeof(*copy));
	names_busy = true;
	sl = &names_cache[names_next++ % NAMES_SLOTS];
	free(sl->dir);
	free(sl->hash);
	*sl = (struct names_slot){.gen = ngen, .len = len, .n = n, .dir = dir, .hash = copy};
	names_busy = false;
}

static bool names_has(const struct names_slot *sl, uint64_t h)
{
	size_t lo = 0, hi = sl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sl->hash[mid] == h) {
			return true;
		}
		if (sl->hash[mid] < h) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return false;
}

/*
 * True when this thread knows, at the current names generation, that upper/DIR (LEN)
 * holds neither NAME (NLEN) nor its whiteout. A hash collision only ever answers
 * false (look it up), never true wrongly.
 */
static bool names_lack(const struct fvm_vm *vm, const char *dir, size_t len, const char *name,
		       size_t nlen)
{
	uint64_t ngen = fvm_names_gen(vm);
	char wh[NAME_MAX + FVM_WH_PREFIX_LEN + 1];
	bool lack = false;

	if (!ngen || names_busy || nlen > NAME_MAX) {
		return false;
	}
	names_busy = true;
	for (unsigned i = 0; i < NAMES_SLOTS; i++) {
		const struct names_slot *sl = &names_cache[i];
		if (sl->dir && sl->gen == ngen && sl->len == len && memcmp(sl->dir, dir, len) == 0) {
			memcpy(wh, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN);
			memcpy(wh + FVM_WH_PREFIX_LEN, name, nlen);
			lack = !names_has(sl, fvm_name_hash(name, nlen)) &&
			       !names_has(sl, fvm_name_hash(wh, FVM_WH_PREFIX_LEN + nlen));
			break;
		}
	}
	names_busy = false;
	return lack;
}

/*
 * Where VPATH (length VLEN) is a plain name: the offset of its last component when
 * its parent directory is lexically canonical ("/a/b/c": no empty, "." or ".."
 * component, no trailing "/") and the last component is an ordinary name; else 0.
 */
static size_t plain_last(const char *vpath, size_t vlen)
{
	size_t i, start = 1;

	if (vlen < 2 || vpath[vlen - 1] == '/') {
		return 0;
	}
	for (i = 1; i <= vlen; i++) {
		if (i < vlen && vpath[i] != '/') {
			continue;
		}
		size_t n = i - start;
		if (n == 0 || (vpath[start] == '.' && (n == 1 || (n == 2 && vpath[start + 1] == '.')))) {
			return 0;
		}
		if (i < vlen) {
			start = i + 1;
		}
	}
	return start;
}

void fvm_host_known(const struct fvm_vm *vm, const char *vpath, size_t len, bool dir)
{
	struct dcache_val v = {.kind = dir ? DC_DIR : DC_FILE, .upper = false, .host = true};
	uint64_t gen = fvm_gen_now(vm);

	dcache_put(vpath, len, &v, gen);
}

enum fvm_direct fvm_host_direct(const struct fvm_vm *vm, const char *vpath, size_t len)
{
	struct dcache_val v;
	uint64_t gen = fvm_gen_now(vm);
	size_t off = gen ? plain_last(vpath, len) : 0;

	if (off < 2 || fvm_is_wh_name(vpath + off, len - off) ||
	    fvm_policy_class(vm->policy, vpath, len) != FVM_CLASS_VIRTUAL ||
	    (vm->home_len && fvm_path_has_prefix(vpath, len, vm->home, vm->home_len))) {
		return FVM_DIRECT_NO;
	}
	if (dcache_get(vpath, len, gen, &v) &&
	    (v.kind == DC_FILE || (v.kind == DC_DIR && !v.upper && v.host))) {
		return FVM_DIRECT_KNOWN;
	}
	if (dcache_get(vpath, off - 1, gen, &v) && v.kind == DC_DIR && !v.upper && v.host) {
		return FVM_DIRECT_PARENT;
	}
	return FVM_DIRECT_NO;
}

/* State of the walk at the canonical prefix cur. */
struct walk {
	char cur[PATH_MAX];
	size_t clen;            /* 0 for the root */
	bool cur_upper;         /* upper/cur is a directory */
	bool cur_host;          /* host entries show through in cur */
	struct stat cur_st;     /* the entry of cur (for a path ending in "." or "..") */
	bool st_valid;          /* cur_st is set (not when the walk started from the cache) */
	enum fvm_where cur_where;
};

static bool is_proc_magic(const char *vpath, size_t len)
{
	return fvm_path_has_prefix(vpath, len, "/proc", 5);
}

/* Resets W to the virtual root. */
static int walk_root(const struct fvm_vm *vm, struct walk *w)
{
	w->clen = 0;
	w->cur[0] = '\0';
	w->cur_upper = true;
	w->cur_host = true;
	w->cur_where = FVM_HOST;
	w->st_valid = false; /* "/" is stat'ed only when the path ends there */
	(void)vm;
	return 0;
}

/*
 * Recomputes the state of W after its prefix was shortened by "..". Rare, so it
 * simply looks the prefix up again without following anything (it has no links).
 */
static int walk_reload(const struct fvm_vm *vm, struct walk *w)
{
	char up[FVM_RPATH_MAX], save[PATH_MAX];
	size_t len = w->clen, i;

	memcpy(save, w->cur, len);
	save[len] = '\0';
	walk_root(vm, w);
	/* Re-walk each component of save; all are directories that existed a moment ago. */
	for (i = 1; i <= len; i++) {
		if (i == len || save[i] == '/') {
			struct stat st;
			bool found = false;
			memcpy(w->cur + w->clen, save + w->clen, i - w->clen);
			w->clen = i;
			w->cur[i] = '\0';
			if (w->cur_upper && fvm_upper_path(vm, w->cur, up, sizeof(up)) >= 0 &&
			    sys_lstat(up, &st) == 0 && S_ISDIR(st.st_mode)) {
				char op[FVM_RPATH_MAX];
				found = true;
				w->cur_st = st;
				w->st_valid = true;
				w->cur_where = FVM_UPPER;
				if (w->cur_host) {
					struct stat hs;
					fvm_opaque_path(up, op, sizeof(op));
					w->cur_host = sys_lstat(op, &hs) < 0 && sys_lstat(w->cur, &hs) == 0 &&
						      S_ISDIR(hs.st_mode);
				}
			} else {
				w->cur_upper = false;
			}
			if (!found) {
				if (!w->cur_host || sys_lstat(w->cur, &st) < 0) {
					return -ENOENT;
				}
				w->cur_st = st;
				w->st_valid = true;
				w->cur_where = FVM_HOST;
			}
		}
	}
	return 0;
}

/*
 * Puts link text TARGET (TL) in front of what is left of REST (from *POS) and goes
 * back to the root for an absolute target: REST becomes TARGET "/" REST[*POS..].
 * The "/" always added is harmless: a target ending in "/" means the same.
 */
static int splice_link(const struct fvm_vm *vm, struct walk *w, char *rest, size_t restsz,
		       size_t *pos, const char *target, size_t tl)
{
	size_t restlen = strlen(rest + *pos);

	if (tl + 1 + restlen + 1 > restsz) {
		return -ENAMETOOLONG;
	}
	memmove(rest + tl + 1, rest + *pos, restlen + 1);
	memcpy(rest, target, tl);
	rest[tl] = '/';
	*pos = 0;
	w->cur[w->clen] = '\0';
	return target[0] == '/' ? walk_root(vm, w) : 0;
}

int fvm_resolve(const struct fvm_vm *vm, const char *vpath, int flags, struct fvm_res *res)
{
	struct walk w;
	char rest[2 * PATH_MAX];  /* the path still to walk; symlink targets are spliced in */
	char up[FVM_RPATH_MAX];
	size_t pos = 0, links = 0;
	size_t vlen = strlen(vpath);
	uint64_t gen;
	int ret;

	res->where = FVM_ABSENT;
	res->whiteout = false;
	res->parent_upper = false;
	res->parent_host = false;
	res->trailing_slash = vlen > 1 && vpath[vlen - 1] == '/';
	if (vpath[0] != '/') {
		return -EINVAL;
	}
	if (vlen >= PATH_MAX) {
		return -ENAMETOOLONG;
	}
	memcpy(rest, vpath, vlen + 1);
	ret = walk_root(vm, &w);
	if (ret < 0) {
		return ret;
	}
	gen = fvm_gen_now(vm);
	size_t lastoff = gen ? plain_last(vpath, vlen) : 0;
	struct dcache_val cv;
	if (lastoff > 1 && dcache_get(vpath, lastoff - 1, gen, &cv) && cv.kind == DC_DIR) {
		/* Start in the cached parent: only the last component is looked up. */
		w.cur_upper = cv.upper;
		w.cur_host = cv.host;
		w.clen = lastoff - 1;
		memcpy(w.cur, vpath, w.clen);
		w.cur[w.clen] = '\0';
		w.cur_where = w.cur_upper ? FVM_UPPER : FVM_HOST;
		pos = lastoff;
	}

	for (;;) {
		/* Next component of rest, starting at pos. */
		while (rest[pos] == '/') {
			pos++;
		}
		if (!rest[pos]) {
			/* The path ended on the directory cur itself ("/", "x/.", "x/.."). */
			if (w.clen == 0) {
				memcpy(res->vpath, "/", 2);
				res->vlen = 1;
			} else {
				memcpy(res->vpath, w.cur, w.clen + 1);
				res->vlen = w.clen;
			}
			res->klass = fvm_policy_class(vm->policy, res->vpath, res->vlen);
			if (!w.st_valid) {
				char cup[FVM_RPATH_MAX];
				const char *crpath = res->vpath;
				if (w.cur_where == FVM_UPPER) {
					fvm_upper_path(vm, res->vpath, cup, sizeof(cup));
					crpath = cup;
				}
				ret = sys_lstat(crpath, &w.cur_st);
				if (ret < 0) {
					return ret;
				}
			}
			res->st = w.cur_st;
			res->where = w.cur_where;
			res->parent_upper = w.cur_upper;
			res->parent_host = w.cur_host;
			if (w.cur_where == FVM_UPPER) {
				fvm_upper_path(vm, res->vpath, res->rpath, sizeof(res->rpath));
			} else {
				memcpy(res->rpath, res->vpath, res->vlen + 1);
			}
			return 0;
		}
		const char *name = rest + pos;
		size_t nlen = 0;
		while (name[nlen] && name[nlen] != '/') {
			nlen++;
		}
		pos += nlen;
		size_t after = pos;
		while (rest[after] == '/') {
			after++;
		}
		bool last = rest[after] == '\0';

		if (nlen == 1 && name[0] == '.') {
			continue;
		}
		if (nlen == 2 && name[0] == '.' && name[1] == '.') {
			if (w.clen > 0) {
				w.clen = fvm_path_base_off(w.cur, w.clen) - 1;
				w.cur[w.clen] = '\0';
				ret = w.clen ? walk_reload(vm, &w) : walk_root(vm, &w);
				if (ret < 0) {
					return ret;
				}
			}
			continue;
		}
		if (nlen > NAME_MAX) {
			return -ENAMETOOLONG;
		}
		if (w.clen + 1 + nlen + 1 > PATH_MAX) {
			return -ENAMETOOLONG;
		}

		/* next = cur "/" name, kept in w.cur past w.clen until committed. */
		size_t nextlen = w.clen + 1 + nlen;
		w.cur[w.clen] = '/';
		memcpy(w.cur + w.clen + 1, name, nlen);
		w.cur[nextlen] = '\0';

		enum fvm_class klass = fvm_policy_class(vm->policy, w.cur, nextlen);
		if (klass == FVM_CLASS_HIDDEN ||
		    (vm->home_len && fvm_path_has_prefix(w.cur, nextlen, vm->home, vm->home_len))) {
			/* Hidden names are absent, and stay so: even creating one is refused. */
			w.cur[w.clen] = '\0';
			return -ENOENT;
		}

		bool known_file = false; /* cached as a plain host file: nothing to record */
		if (!last || !(flags & FVM_R_NOFOLLOW) || res->trailing_slash) {
			/* A directory or host symlink already walked at this generation. */
			struct dcache_val hit;
			bool known = dcache_get(w.cur, nextlen, gen, &hit);
			known_file = known && hit.kind == DC_FILE;
			if (known && hit.kind == DC_DIR && !last) {
				w.cur_upper = hit.upper;
				w.cur_host = hit.host;
				w.cur_where = hit.upper ? FVM_UPPER : FVM_HOST;
				w.st_valid = false;
				w.clen = nextlen;
				continue;
			}
			if (known && hit.kind == DC_LINK) {
				if (++links > MAX_LINKS) {
					return -ELOOP;
				}
				ret = splice_link(vm, &w, rest, sizeof(rest), &pos, hit.target, hit.tlen);
				if (ret < 0) {
					return ret;
				}
				continue;
			}
		}

		struct stat st;
		enum fvm_where where = FVM_ABSENT;
		bool whiteout = false;

		/*
		 * A name the process may not look up (a directory without search
		 * permission on its way) is EACCES, as natively, never "absent": the
		 * upper directory governs where it exists, the host's elsewhere.
		 */
		int lret = 0;
		if (klass == FVM_CLASS_SHARED) {
			lret = sys_lstat(w.cur, &st);
			if (lret == 0) {
				where = FVM_HOST;
			}
		} else {
			if (fvm_is_wh_name(name, nlen)) {
				w.cur[w.clen] = '\0';
				return -EINVAL;
			}
			/*
			 * A name upper/ is known not to hold (the thread listed the directory
			 * at this names generation) is looked up on the host first; only
			 * when the host lacks it too is upper/ asked, for a name created
			 * since (a creation does not bump the names generation).
			 */
			bool skip_upper = w.cur_upper && w.cur_host &&
					  names_lack(vm, w.cur, w.clen, name, nlen);
			bool host_tried = skip_upper, wh_known = skip_upper;
			if (skip_upper) {
				lret = sys_lstat(w.cur, &st);
				if (lret == 0) {
					where = FVM_HOST;
				} else if (lret == -ENOENT) {
					skip_upper = false;
					lret = 0;
				}
			}
			if (w.cur_upper && !skip_upper) {
				if (fvm_upper_path(vm, w.cur, up, sizeof(up)) < 0) {
					return -ENAMETOOLONG;
				}
				lret = sys_lstat(up, &st);
				if (lret == 0) {
					where = FVM_UPPER;
				} else if (lret != -EACCES && !wh_known) {
					char wh[FVM_RPATH_MAX];
					struct stat whst;
					if (fvm_wh_path(up, wh, sizeof(wh)) == 0 && sys_lstat(wh, &whst) == 0) {
						whiteout = true;
					}
				}
			}
			if (where == FVM_ABSENT && !whiteout && w.cur_host && lret != -EACCES && !host_tried) {
				lret = sys_lstat(w.cur, &st);
				if (lret == 0) {
					where = FVM_HOST;
				}
			}
		}
		if (lret == -EACCES) {
			w.cur[w.clen] = '\0';
			return -EACCES;
		}

		if (where == FVM_ABSENT) {
			if (!last) {
				w.cur[w.clen] = '\0';
				return -ENOENT;
			}
			memcpy(res->vpath, w.cur, nextlen + 1);
			res->vlen = nextlen;
			res->klass = klass;
			res->whiteout = whiteout;
			res->parent_upper = w.cur_upper;
			res->parent_host = w.cur_host;
			if (klass == FVM_CLASS_SHARED) {
				memcpy(res->rpath, w.cur, nextlen + 1);
			} else if (fvm_upper_path(vm, w.cur, res->rpath, sizeof(res->rpath)) < 0) {
				return -ENAMETOOLONG;
			}
			return 0;
		}

		if (S_ISLNK(st.st_mode) && (!last || !(flags & FVM_R_NOFOLLOW) || res->trailing_slash)) {
			char target[PATH_MAX];
			const char *lrpath = where == FVM_UPPER ? up : w.cur;
			ssize_t tl;

			if (++links > MAX_LINKS) {
				return -ELOOP;
			}
			tl = -EINVAL;
			if (where == FVM_HOST && is_proc_magic(w.cur, nextlen)) {
				/* /proc/self and thread-self are ordinary links ("PID"). */
				tl = sys_readlinkat(AT_FDCWD, lrpath, target, sizeof(target) - 1);
				if (tl > 0 && target[0] != '/' && !memchr(target, ':', (size_t)tl)) {
					target[tl] = '\0';
				} else {
					tl = -EINVAL;
				}
			}
			if (tl < 0 && where == FVM_HOST && is_proc_magic(w.cur, nextlen) && !last) {
				/*
				 * A magic link used as a directory (/proc/self/root/etc,
				 * /proc/self/cwd/f, /proc/self/fd/N/f) names a path the VM
				 * can look up: its text, narrowed, is spliced like a symlink,
				 * so the walk stays in the virtual namespace.
				 */
				tl = sys_readlinkat(AT_FDCWD, lrpath, target, sizeof(target) - 1);
				if (tl > 0 && target[0] == '/') {
					target[tl] = '\0';
					tl = strstr(target, " (deleted)") ? -EINVAL
						: fvm_narrow(vm, target, target, sizeof(target));
				} else {
					tl = -EINVAL;
				}
			}
			if (tl < 0 && where == FVM_HOST && is_proc_magic(w.cur, nextlen)) {
				/* Hand the rest to the kernel: rpath is the /proc path as given. */
				size_t restlen = strlen(rest + pos);
				if (nextlen + restlen + 1 > sizeof(res->rpath)) {
					return -ENAMETOOLONG;
				}
				memcpy(res->vpath, w.cur, nextlen);
				memcpy(res->vpath + nextlen, rest + pos, restlen + 1);
				res->vlen = nextlen + restlen;
				memcpy(res->rpath, res->vpath, res->vlen + 1);
				res->klass = klass;
				res->where = FVM_HOST;
				res->parent_host = true;
				ret = sys_fstatat(AT_FDCWD, res->rpath, &res->st,
						  (flags & FVM_R_NOFOLLOW) && !res->trailing_slash
							  ? AT_SYMLINK_NOFOLLOW
							  : 0);
				if (ret == -ENOENT && last) {
					res->where = FVM_ABSENT;
					return 0;
				}
				return ret;
			}
			if (tl < 0) {
				tl = sys_readlinkat(AT_FDCWD, lrpath, target, sizeof(target) - 1);
				if (tl < 0) {
					return (int)tl;
				}
				target[tl] = '\0';
				if (where == FVM_HOST && !is_proc_magic(w.cur, nextlen)) {
					struct dcache_val lv = {.kind = DC_LINK, .tlen = (size_t)tl};
					if ((size_t)tl < sizeof(lv.target)) {
						memcpy(lv.target, target, (size_t)tl);
						dcache_put(w.cur, nextlen, &lv, gen);
					}
				}
			}
			ret = splice_link(vm, &w, rest, sizeof(rest), &pos, target, (size_t)tl);
			if (ret < 0) {
				return ret;
			}
			continue;
		}

		if (last) {
			memcpy(res->vpath, w.cur, nextlen + 1);
			res->vlen = nextlen;
			res->klass = klass;
			res->st = st;
			res->where = where;
			res->parent_upper = w.cur_upper;
			res->parent_host = w.cur_host;
			if (where == FVM_UPPER) {
				memcpy(res->rpath, up, strlen(up) + 1);
			} else {
				memcpy(res->rpath, w.cur, nextlen + 1);
				if (S_ISDIR(st.st_mode)) {
					/* What a descent would record: its names are coming next. */
					dcache_put_dir(w.cur, nextlen, false, true, gen);
				} else if (!S_ISLNK(st.st_mode) && !w.cur_upper && !known_file &&
					   klass == FVM_CLASS_VIRTUAL) {
					struct dcache_val fv = {.kind = DC_FILE};
					dcache_put(w.cur, nextlen, &fv, gen);
				}
			}
			if (res->trailing_slash && !S_ISDIR(st.st_mode)) {
				return -ENOTDIR;
			}
			return 0;
		}

		if (!S_ISDIR(st.st_mode)) {
			w.cur[w.clen] = '\0';
			return -ENOTDIR;
		}
		/* Descend into next. */
		if (where == FVM_UPPER) {
			if (w.cur_host) {
				char op[FVM_RPATH_MAX];
				struct stat hs;
				if (fvm_opaque_path(up, op, sizeof(op)) < 0) {
					return -ENAMETOOLONG;
				}
				w.cur_host = klass != FVM_CLASS_SHARED && sys_lstat(op, &hs) < 0 &&
					     sys_lstat(w.cur, &hs) == 0 && S_ISDIR(hs.st_mode);
			}
			w.cur_upper = true;
		} else {
			w.cur_upper = false;
			w.cur_host = true;
		}
		w.cur_st = st;
		w.st_valid = true;
		w.cur_where = where;
		w.clen = nextlen;
		dcache_put_dir(w.cur, w.clen, w.cur_upper, w.cur_host, gen);
	}
}
