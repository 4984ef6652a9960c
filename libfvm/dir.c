/*
 * dir.c — merged directory listings: getdents64, and fvm_getdents() under the DIR
 * stream functions (dirstream.c).
 *
 * One core, fvm_getdents(), serves both: a directory fd whose virtual directory has
 * an upper part (or hides a name) is listed as the union of upper and host entries,
 * less whiteouts, the ".wh." files themselves and hidden names, each name once. Other
 * directories are read from the kernel unchanged.
 *
 * Invariants:
 *  - The position of a merged listing is kept in the fd's own file offset (entry index),
 *    so a new open of the same directory, a dup, lseek(fd, 0) and rewinddir all behave
 *    as the kernel's do. d_off of entry i is i + 1, which telldir/seekdir use.
 *  - A merged listing is built when read from position 0 and kept per fd until then.
 *  - The DIR streams returned here are libfvm's own (struct fvm_dir): inside a VM every
 *    DIR function is libfvm's, outside one every DIR function is libc's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fvm/dirent.h"
#include "fvm/layout.h"
#include "fvm/path.h"
#include "libfvm.h"

/* A merged listing of one directory, for one fd. */
struct listing {
	dev_t dev;
	ino_t ino;
	bool merged;      /* false: the kernel's own listing is right */
	size_t n;         /* entries */
	size_t *off;      /* byte offset of entry i in buf */
	char *buf;        /* packed linux_dirent64 records */
	size_t used, cap;
};

#define MAX_FDS 65536
static struct listing **fd_table; /* indexed by fd; mapped on first use */

static struct listing **table_slot(int fd)
{
	if (fd < 0 || fd >= MAX_FDS) {
		return NULL;
	}
	if (!__atomic_load_n(&fd_table, __ATOMIC_ACQUIRE)) {
		void *p = mmap(NULL, MAX_FDS * sizeof(*fd_table), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			return NULL;
		}
		void *expected = NULL;
		if (!__atomic_compare_exchange_n(&fd_table, &expected, p, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			munmap(p, MAX_FDS * sizeof(*fd_table));
		}
	}
	return &fd_table[fd];
}

static void listing_free(struct listing *l)
{
	if (l) {
		free(l->off);
		free(l->buf);
		free(l);
	}
}

/*
 * A set of names (open addressing) owning copies of them, to keep each name once, each
 * with a value (the name's entry index in the listing).
 */
struct nameset {
	char **slot;
	size_t *val;
	size_t cap, n;
};

static uint64_t hash_name(const char *s)
{
	return fvm_name_hash(s, strlen(s));
}

/* The slot of NAME in S, or -1. */
static ssize_t nameset_find(const struct nameset *s, const char *name)
{
	if (!s->cap) {
		return -1;
	}
	for (size_t i = hash_name(name) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i]) {
			return -1;
		}
		if (strcmp(s->slot[i], name) == 0) {
			return (ssize_t)i;
		}
	}
}

static bool nameset_has(const struct nameset *s, const char *name)
{
	return nameset_find(s, name) >= 0;
}

static int nameset_add(struct nameset *s, const char *name, size_t val)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **slot = calloc(cap, sizeof(*slot));
		size_t *vals = calloc(cap, sizeof(*vals));
		if (!slot || !vals) {
			free(slot);
			free(vals);
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (s->slot[i]) {
				size_t j = hash_name(s->slot[i]) & (cap - 1);
				while (slot[j]) {
					j = (j + 1) & (cap - 1);
				}
				slot[j] = s->slot[i];
				vals[j] = s->val[i];
			}
		}
		free(s->slot);
		free(s->val);
		s->slot = slot;
		s->val = vals;
		s->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy) {
		return -ENOMEM;
	}
	size_t i = hash_name(name) & (s->cap - 1);
	while (s->slot[i]) {
		i = (i + 1) & (s->cap - 1);
	}
	s->slot[i] = copy;
	s->val[i] = val;
	s->n++;
	return 0;
}

static void nameset_free(struct nameset *s)
{
	for (size_t i = 0; i < s->cap; i++) {
		free(s->slot[i]);
	}
	free(s->slot);
	free(s->val);
}

static int listing_add(struct listing *l, const struct linux_dirent64 *d)
{
	size_t need = d->d_reclen;

	if (l->used + need > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16384;
		while (cap < l->used + need) {
			cap *= 2;
		}
		char *buf = realloc(l->buf, cap);
		if (!buf) {
			return -ENOMEM;
		}
		l->buf = buf;
		l->cap = cap;
	}
	if ((l->n & (l->n - 1)) == 0 || l->n == 0) {
		size_t *off = realloc(l->off, (l->n ? l->n * 2 : 64) * sizeof(*off));
		if (!off) {
			return -ENOMEM;
		}
		l->off = off;
	}
	memcpy(l->buf + l->used, d, need);
	((struct linux_dirent64 *)(l->buf + l->used))->d_off = (int64_t)l->n + 1;
	l->off[l->n++] = l->used;
	l->used += need;
	return 0;
}

struct merge {
	struct listing *l;
	struct nameset names, whiteouts;
	const char *vdir;      /* the directory's virtual path, for hidden names */
	size_t vdirlen;
	const char *updir;     /* its upper directory, for the identity of copied-up files */
	bool opaque;
	bool host_pass;        /* adding host entries */
	bool layer_pass;       /* adding a read-only layer's entries (after upper/'s) */
	int ipc;               /* fvm_ipc_dir() of the directory: -1, or its IPC names */
};

/* True when VDIR/NAME is hidden from the VM (the store or a hidden rule). */
static bool name_hidden(const char *vdir, size_t vdirlen, const char *name)
{
	char vpath[PATH_MAX];
	int n = snprintf(vpath, sizeof(vpath), "%s/%s", vdirlen == 1 ? "" : vdir, name);

	if (n < 0 || (size_t)n >= sizeof(vpath)) {
		return false;
	}
	if (fvm_g.home_len && fvm_path_has_prefix(vpath, (size_t)n, fvm_g.home, fvm_g.home_len)) {
		return true;
	}
	return fvm_policy_class(fvm_g.policy, vpath, (size_t)n) == FVM_CLASS_HIDDEN;
}

static int merge_entry(const struct linux_dirent64 *d, void *arg)
{
	struct merge *m = arg;
	const char *name = d->d_name;
	size_t len = strlen(name);
	bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
	union {
		struct linux_dirent64 d;
		char buf[sizeof(struct linux_dirent64) + NAME_MAX + 8];
	} ipc_rec;

	/* /dev/shm and the mqueue mount list the VM's own objects, by their VM names. */
	if (m->ipc >= 0 && !dot) {
		int n = fvm_ipc_dir_entry(m->ipc, name, ipc_rec.d.d_name, NAME_MAX + 1);
		if (n < 0) {
			return 0;
		}
		ipc_rec.d.d_ino = d->d_ino;
		ipc_rec.d.d_type = d->d_type;
		ipc_rec.d.d_reclen = (unsigned short)((offsetof(struct linux_dirent64, d_name) +
						       (size_t)n + 1 + 7) & ~(size_t)7);
		d = &ipc_rec.d;
		name = d->d_name;
		len = (size_t)n;
	}
	if (!m->host_pass) {
		if (strcmp(name, FVM_WH_OPAQUE) == 0) {
			m->opaque = true;
			return 0;
		}
		if (fvm_is_wh_name(name, len)) {
			return nameset_add(&m->whiteouts, name + FVM_WH_PREFIX_LEN, 0);
		}
		if (m->layer_pass && nameset_has(&m->whiteouts, name)) {
			return 0; /* hidden by a whiteout above */
		}
	} else if (fvm_is_wh_name(name, len) || nameset_has(&m->whiteouts, name)) {
		return 0;
	}
	if (!dot && name_hidden(m->vdir, m->vdirlen, name)) {
		return 0;
	}
	ssize_t slot = nameset_find(&m->names, name);
	if (slot >= 0) {
		/*
		 * A directory the VM copied up keeps the host's identity (stat.c shows the
		 * host's st_ino for it), so its d_ino is the host's too.
		 */
		struct linux_dirent64 *up =
			(struct linux_dirent64 *)(m->l->buf + m->l->off[m->names.val[slot]]);
		if (m->host_pass && d->d_type == DT_DIR && up->d_type == DT_DIR && !dot) {
			up->d_ino = d->d_ino;
		}
		return 0;
	}
	int ret = listing_add(m->l, d);
	if (ret == 0 && !m->host_pass && d->d_type == DT_REG) {
		/* A file the VM copied up keeps its host identity (stat.c): its d_ino too. */
		struct linux_dirent64 *rec = (void *)(m->l->buf + m->l->off[m->l->n - 1]);
		fvm_entry_identity(m->updir, name, &rec->d_ino);
	}
	return ret < 0 ? ret : nameset_add(&m->names, name, m->l->n - 1);
}

/*
 * Tells the resolver which names upper/VDIR holds (M's upper pass: names and
 * whiteouts), so that the lookups a listing is usually followed by skip upper/ for
 * the others (fvm_upper_names_record).
 */
static void record_upper_names(const struct merge *m, const char *vdir, size_t len, uint64_t ngen)
{
	uint64_t *h = malloc((m->names.n + m->whiteouts.n + 1) * sizeof(*h));
	char wh[FVM_WH_PREFIX_LEN + NAME_MAX + 1];
	size_t n = 0;

	if (!h) {
		return;
	}
	for (size_t i = 0; i < m->names.cap; i++) {
		if (m->names.slot[i]) {
			h[n++] = fvm_name_hash(m->names.slot[i], strlen(m->names.slot[i]));
		}
	}
	memcpy(wh, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN);
	for (size_t i = 0; i < m->whiteouts.cap; i++) {
		size_t nl = m->whiteouts.slot[i] ? strlen(m->whiteouts.slot[i]) : 0;
		if (nl && nl <= NAME_MAX) {
			memcpy(wh + FVM_WH_PREFIX_LEN, m->whiteouts.slot[i], nl);
			h[n++] = fvm_name_hash(wh, FVM_WH_PREFIX_LEN + nl);
		}
	}
	fvm_upper_names_record(&fvm_g, vdir, len, ngen, h, n);
	free(h);
}

/* Builds the merged listing of virtual directory VDIR into L. */
static int build_listing(struct listing *l, const char *vdir)
{
	struct merge m = {.l = l, .vdir = vdir, .vdirlen = strlen(vdir),
			  .ipc = fvm_ipc_dir(vdir, strlen(vdir))};
	char up[FVM_RPATH_MAX];
	struct fvm_res *res = malloc(sizeof(*res));
	struct stat st;
	int ret;

	if (!res) {
		return -ENOMEM;
	}
	ret = fvm_resolve(&fvm_g, vdir, 0, res);
	if (ret == 0 && res->where == FVM_ABSENT) {
		ret = -ENOENT;
	}
	l->n = 0;
	l->used = 0;
	if (ret == 0 && fvm_upper_path(&fvm_g, res->vpath, up, sizeof(up)) >= 0 &&
	    sys_lstat(up, &st) == 0 && S_ISDIR(st.st_mode) && res->klass != FVM_CLASS_SHARED) {
		uint64_t ngen = fvm_names_gen(&fvm_g); /* before the read: a change meanwhile is newer */
		m.updir = up;
		ret = fvm_each_dirent(up, merge_entry, &m);
		/*
		 * Only a directory anyone may search (no ACL to say otherwise): a lookup
		 * that skips upper/ for it must not skip a refusal (mode changes bump).
		 */
		if (ret == 0 && m.ipc < 0 && (st.st_mode & 0111) == 0111 &&
		    sys_lgetxattr(up, "system.posix_acl_access", NULL, 0) < 0) {
			record_upper_names(&m, res->vpath, res->vlen, ngen);
		}
	}
	if (ret == 0 && !m.opaque && res->klass != FVM_CLASS_SHARED && res->parent_layers) {
		/* The layers' directories, top-down, then the host's where it shows. */
		uint32_t mask;
		bool host;
		char lp[FVM_RPATH_MAX];
		fvm_lower_descend(&fvm_g, res->parent_layers, res->parent_host, res->vpath, res->vlen,
				  &mask, &host);
		m.layer_pass = true;
		for (unsigned i = 0; ret == 0 && mask >> i; i++) {
			if ((mask & ((uint32_t)1 << i)) &&
			    fvm_layer_path(&fvm_g, i, res->vpath, lp, sizeof(lp)) >= 0) {
				m.updir = lp;
				ret = fvm_each_dirent(lp, merge_entry, &m);
				ret = ret == -ENOENT || ret == -ENOTDIR ? 0 : ret;
			}
		}
		if (ret == 0 && host) {
			m.host_pass = true;
			ret = fvm_each_dirent(res->vpath, merge_entry, &m);
			if (ret == -ENOENT || ret == -ENOTDIR) {
				ret = 0;
			}
		}
	} else if (ret == 0 && !m.opaque && res->klass != FVM_CLASS_SHARED &&
		   (res->where == FVM_HOST || fvm_host_shows(res))) {
		m.host_pass = true;
		ret = fvm_each_dirent(res->vpath, merge_entry, &m);
		if (ret == -ENOENT || ret == -ENOTDIR) {
			ret = 0;
		}
	} else if (ret == 0 && res->klass == FVM_CLASS_SHARED) {
		m.host_pass = true;
		/* /dev/shm: the VM's objects are in its own directory beneath it (ipcdir.c). */
		const char *real = m.ipc >= 0 ? fvm_ipc_dir_real(m.ipc) : res->rpath;
		ret = real ? fvm_each_dirent(real, merge_entry, &m) : 0;
		if (m.ipc >= 0 && ret == -ENOENT) {
			ret = 0; /* no object yet */
		}
	}
	free(res);
	nameset_free(&m.names);
	nameset_free(&m.whiteouts);
	return ret;
}

/* True when some hidden name (the store, a hidden rule) lies directly in VDIR. */
static bool hides_child(const char *vdir, size_t len)
{
	if (fvm_g.home_len && fvm_path_base_off(fvm_g.home, fvm_g.home_len) - 1 == (len == 1 ? 0 : len) &&
	    memcmp(fvm_g.home, vdir, len == 1 ? 0 : len) == 0) {
		return true;
	}
	for (uint32_t i = 0; fvm_g.policy && i < fvm_g.policy->nrules; i++) {
		const struct fvm_path_rule *r = &fvm_g.policy->rules[i];
		const char *p = fvm_g.policy->blob + r->off;
		size_t parent = fvm_path_base_off(p, r->len) - 1;
		if (r->klass == FVM_CLASS_HIDDEN && parent == (len == 1 ? 0 : len) &&
		    memcmp(p, vdir, parent) == 0) {
			return true;
		}
	}
	return false;
}

/* True when the listing of virtual directory VDIR (N) is not the kernel's own. */
static bool needs_merge(const char *vdir, size_t n)
{
	char up[FVM_RPATH_MAX];
	struct stat ust;

	/* A directory the resolver knows has nothing in upper/ needs no probe. */
	if (fvm_layer_count(&fvm_g) && !fvm_dir_host_only(&fvm_g, vdir, n) &&
	    fvm_policy_class(fvm_g.policy, vdir, n) != FVM_CLASS_SHARED) {
		return true; /* a layer may hold it: merged (the cost of a listing only) */
	}
	return fvm_ipc_dir(vdir, n) >= 0 || hides_child(vdir, n) ||
	       (!fvm_dir_host_only(&fvm_g, vdir, n) && fvm_upper_path(&fvm_g, vdir, up, sizeof(up)) >= 0 &&
		sys_lstat(up, &ust) == 0 && S_ISDIR(ust.st_mode) &&
		fvm_policy_class(fvm_g.policy, vdir, n) != FVM_CLASS_SHARED);
}

bool fvm_dir_fd_plain(int fd)
{
	char vdir[PATH_MAX];
	int n = fvm_fd_vpath(fd, vdir, sizeof(vdir));

	return n >= 0 && !needs_merge(vdir, (size_t)n);
}

/*
 * The listing state of directory fd FD: rebuilt when FD now names another directory
 * or when POS is 0. Returns NULL with *ERR set on failure; a listing with merged
 * false means "ask the kernel".
 */
static struct listing *listing_for(int fd, off_t pos, int *err)
{
	struct listing **slot = table_slot(fd), *l;
	char vdir[PATH_MAX];
	struct stat st;
	int n;

	*err = sys_fstat(fd, &st);
	if (*err < 0) {
		return NULL;
	}
	if (!slot) {
		*err = -EMFILE;
		return NULL;
	}
	l = *slot;
	if (l && l->dev == st.st_dev && l->ino == st.st_ino && (pos != 0 || !l->merged)) {
		return l;
	}
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l) {
			*err = -ENOMEM;
			return NULL;
		}
		*slot = l;
	}
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	n = fvm_fd_vpath(fd, vdir, sizeof(vdir));
	/* Not a path libfvm knows: leave it to the kernel. */
	l->merged = n >= 0 && needs_merge(vdir, (size_t)n);
	if (l->merged) {
		*err = build_listing(l, vdir);
		if (*err < 0) {
			return NULL;
		}
	}
	return l;
}

ssize_t fvm_getdents(int fd, void *buf, size_t len)
{
	struct listing *l;
	off_t pos;
	size_t out = 0;
	int err;

	if (!fvm_on()) {
		return sys_getdents64(fd, buf, len);
	}
	pos = sys_lseek(fd, 0, SEEK_CUR);
	if (pos < 0) {
		return pos;
	}
	l = listing_for(fd, pos, &err);
	if (!l) {
		return err;
	}
	if (!l->merged) {
		return sys_getdents64(fd, buf, len);
	}
	for (size_t i = (size_t)pos; i < l->n; i++) {
		const struct linux_dirent64 *d = (const void *)(l->buf + l->off[i]);
		if (out + d->d_reclen > len) {
			if (out == 0) {
				return -EINVAL; /* the kernel's answer for a buffer too small */
			}
			break;
		}
		memcpy((char *)buf + out, d, d->d_reclen);
		out += d->d_reclen;
		pos = (off_t)i + 1;
	}
	sys_lseek(fd, pos, SEEK_SET);
	return (ssize_t)out;
}

ssize_t getdents64(int fd, void *buf, size_t len)
{
	return fvm_ret_ssize(fvm_getdents(fd, buf, len));
}

void fvm_listing_drop(int fd)
{
	struct listing **slot = table_slot(fd);

	if (slot && *slot) {
		listing_free(*slot);
		*slot = NULL;
	}
}
