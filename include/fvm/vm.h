/*
 * vm.h — the virtual namespace of one VM: lookup, copy-up, whiteouts.
 *
 * This is libfvm's core, linked by libfvm.so (inside every VM process) and by the
 * tools. It is written against raw system calls (sys.h) so that it never re-enters
 * libfvm's wrappers and never touches errno.
 *
 * Invariants:
 *  - A virtual path (vpath) is what the program said; a real path (rpath) is what
 *    the kernel gets. A canonical vpath is absolute and has no ".", "..", symlink or
 *    empty component.
 *  - The upper entry of canonical vpath P is upper/P. An upper entry wins over the host
 *    entry; a whiteout ".wh.NAME" in the upper directory hides the host entry; an
 *    opaque marker in an upper directory hides the host directory beneath it.
 *  - Between upper/ and the host lie the VM's read-only layers (the policy's, top
 *    first; layers.c), each in the same form: the first entry or whiteout met top-down
 *    wins, an opaque directory stops the descent. An object of a layer is "lower" like
 *    a host object (where FVM_HOST, layer >= 0, rpath in the layer) and is copied up
 *    from there; layers are never written.
 *  - Copy-up is atomic: the copy is built in work/ and renamed into upper/ with
 *    RENAME_NOREPLACE, so concurrent copy-ups of one file yield one copy and a crash
 *    never leaves a partial file visible.
 *  - The host is only ever read, except through SHARED paths.
 */
#ifndef FVM_VM_H
#define FVM_VM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fvm/policy.h"

/*
 * The longest absolute virtual path: a cwd the kernel can name (PATH_MAX) joined with a
 * relative name (less than PATH_MAX). The kernel limits only the strings it is given,
 * so a program deep in a tree names, relative to it, files whose absolute path is
 * longer than PATH_MAX; the real path of one reaches the kernel in pieces (FVM_SCL,
 * fvm/sys.h).
 */
#define FVM_VPATH_MAX (2 * PATH_MAX)

/* Room for the VM root in front of a virtual path. */
#define FVM_RPATH_MAX (FVM_VPATH_MAX + PATH_MAX)

/*
 * The VM-wide generation counter: a 64-bit word in the VM's shared "state" file,
 * mapped by every process of the VM. Every change to upper/ that can change how a
 * directory is looked up (a copy-up, a whiteout, an opaque marker, a new or removed
 * upper directory, a rename) increments it after the change, so a resolution cached
 * at an older generation is never used again, by any process.
 */
struct fvm_gen {
	uint64_t *counter;       /* NULL: not mapped (the tools), nothing is cached */
	uint64_t *names;         /* the second word: bumped by every change of a name in
				    upper/ a host name can be hidden by (copy-up, whiteout,
				    rename) and of mode, owner or xattrs as well; it
				    validates the upper names cache */
};

/*
 * The scalars first, then the names: libfvm's start writes the scalars and the first
 * bytes of each name, so name and root share the scalars' page (a page fault less per
 * exec, issue 15); work, which only a copy-up reads, last.
 */
struct fvm_vm {
	size_t root_len;
	size_t upper_len;
	size_t home_len;
	const struct fvm_policy *policy; /* NULL: everything virtual */
	bool is_root;            /* euid 0 at init: ownership can be preserved on copy-up */
	bool fowner;             /* owner checks pass for any owner (CAP_FOWNER): with
				    is_root, or a supervisor's child acting for a root that
				    kept CAP_FOWNER but dropped other capabilities */
	struct fvm_gen gen;      /* attached by fvm_gen_attach (libfvm), else unmapped */
	/* The state words the disk quotas count in (core/quota.c) when GEN is not attached:
	 * the supervisor's (run/virtguard.c, run/quotaguard.c), which caches nothing by the
	 * generation. NULL: GEN's mapping, if any. */
	uint64_t *quota;
	/* A root run's copy-up broker (fvm/cubroker.h), NULL: none. Called with a kind and
	 * a canonical virtual path when a process whose euid is not 0 must copy up;
	 * returns 0 or -errno. */
	int (*copyup_broker)(unsigned kind, const char *vpath);
	char name[72];
	char root[PATH_MAX];     /* $FVM_HOME/vms/NAME */
	char upper[PATH_MAX];    /* root/upper */
	char home[PATH_MAX];     /* the store, hidden from the VM */
	char work[PATH_MAX];     /* root/work */
};

/* Where a resolved virtual path lives. */
enum fvm_where {
	FVM_ABSENT = 0, /* no such entry (possibly whited out); rpath is where it would go */
	FVM_HOST,       /* the host's entry shows through */
	FVM_UPPER,      /* the VM's own entry */
};

/* Flags for fvm_resolve(). */
#define FVM_R_NOFOLLOW 0x1 /* do not follow a symlink in the last component */

/*
 * The small fields come first and the two paths last: a lookup writes the scalars and
 * the first bytes of each path, so on the stack it touches two pages where it touched
 * three (every process's resident memory, issue 15).
 */
struct fvm_res {
	size_t vlen;
	enum fvm_where where;
	enum fvm_class klass;        /* class of vpath */
	struct stat st;              /* lstat of rpath, valid unless ABSENT */
	bool trailing_slash;         /* the name ended in "/" (must be a directory) */
	bool whiteout;               /* ABSENT because a whiteout hides a host entry */
	bool parent_upper;           /* the parent directory exists in upper/ */
	bool parent_host;            /* host entries show through in the parent */
	uint32_t parent_layers;      /* layers whose directory shows through in the parent
					(bit i: layer i, 0 the top one) */
	int layer;                   /* FVM_HOST: the layer holding the object, -1 the host */
	const struct fvm_vm *vm;     /* the VM it was resolved in */
	char vpath[FVM_VPATH_MAX];   /* canonical virtual path of the object */
	char rpath[FVM_RPATH_MAX];   /* the object's real path for the kernel */
};

/*
 * Sets VM up for the VM directory ROOT (and store HOME, which becomes hidden).
 * Returns 0, or -ENAMETOOLONG / -EINVAL for a relative ROOT.
 */
int fvm_vm_setup(struct fvm_vm *vm, const char *name, const char *root, const char *home);

/*
 * Resolves absolute virtual path VPATH in the virtual namespace of VM.
 *
 * Follows symlinks virtually (absolute targets re-rooted at the virtual root, ".."
 * after symlinks, ELOOP after 40 links). A missing last component is not an error:
 * RES->where is FVM_ABSENT and RES->rpath is the upper path it would be created at.
 * Returns 0, or -ENOENT / -ENOTDIR / -ELOOP / -ENAMETOOLONG / -EACCES / -EINVAL
 * (a ".wh." name) for a path that cannot be looked up. For a SHARED or HIDDEN path the
 * rpath is the host path itself (HIDDEN gives -ENOENT).
 */
int fvm_resolve(const struct fvm_vm *vm, const char *vpath, int flags, struct fvm_res *res);

/*
 * Maps VM's generation counter from ROOT/state (created, zero, when missing). Returns
 * 0 or -errno; without it VM caches nothing.
 */
int fvm_gen_attach(struct fvm_vm *vm);

/*
 * The same mapping for the VM directory ROOT, into *COUNTER (the names counter is the
 * next word), without touching a struct fvm_vm: libfvm maps it at the first call that
 * needs it and publishes it itself (init.c). Returns 0 or -errno. fvm_gen_unmap undoes
 * a mapping that was not published.
 */
int fvm_gen_map(const char *root, uint64_t **counter);
void fvm_gen_unmap(uint64_t *counter);

/* Increments both generations after a change to upper/; no-op when not attached. */
void fvm_gen_bump(const struct fvm_vm *vm);

/* The generation now (0: not attached, nothing may be cached). */
uint64_t fvm_gen_now(const struct fvm_vm *vm);

/* Increments the names generation only: a change no cached walk depends on. */
void fvm_names_bump(const struct fvm_vm *vm);

/* The names generation now (0: not attached, nothing may be cached). */
uint64_t fvm_names_gen(const struct fvm_vm *vm);

/* The hash of NAME (LEN bytes) in the upper names cache; whiteouts are .wh. names. */
uint64_t fvm_name_hash(const char *name, size_t len);

/*
 * Records, for this thread, that upper/VDIR (LEN; "/" or "" is the root) held exactly
 * the names hashed in HASHES (N, any order; whiteouts included by their own ".wh."
 * name) when the names generation was NGEN (read before reading the directory).
 * Lookups in VDIR then skip upper/ for names it did not hold (names.c).
 */
void fvm_upper_names_record(const struct fvm_vm *vm, const char *vdir, size_t len, uint64_t ngen,
			    uint64_t *hashes, size_t n);

/*
 * True when canonical directory VPATH (LEN) is known, at the current generation, to
 * have nothing in upper/ (the host directory shows as it is). False: unknown.
 */
bool fvm_dir_host_only(const struct fvm_vm *vm, const char *vpath, size_t len);

/* How a call on a virtual path may go straight to the kernel (fvm_host_direct). */
enum fvm_direct {
	FVM_DIRECT_NO,      /* resolve it */
	FVM_DIRECT_PARENT,  /* the host's name in a host-only directory: direct, unless a link */
	FVM_DIRECT_KNOWN,   /* a host object known not to be a link: direct */
};

/*
 * Whether canonical VPATH (LEN), an ordinary virtual name, is the host's own name in
 * a directory the VM never changed, by what this process's cache knows at the current
 * generation: then the kernel, given VPATH itself, does what the VM would. A link
 * must still be resolved (the kernel would follow it on the host): PARENT says the
 * name may be one. WANT is the weakest answer the caller can use: PARENT (then PARENT
 * is answered whenever it holds, though the name may be known as well: one lookup
 * instead of two) or KNOWN (PARENT is never answered).
 */
enum fvm_direct fvm_host_direct(const struct fvm_vm *vm, const char *vpath, size_t len,
				enum fvm_direct want);

/*
 * fvm_host_direct of VPATH known canonical, its last component at LASTOFF (>= 2; 0:
 * not known, then it is checked as fvm_host_direct does).
 */
enum fvm_direct fvm_host_direct_off(const struct fvm_vm *vm, const char *vpath, size_t len,
				    size_t lastoff, enum fvm_direct want);

/*
 * Records that VPATH (LEN), found FVM_DIRECT_PARENT, is no link: a directory (DIR) or
 * another object. Later calls on it find FVM_DIRECT_KNOWN.
 */
void fvm_host_known(const struct fvm_vm *vm, const char *vpath, size_t len, bool dir);

/*
 * Quotas (quota.c): disk-limit and files-limit of the policy, counted in the state
 * file's words (FVM_STATE_BYTES, FVM_STATE_FILES) by every process of the VM.
 * fvm_quota_on: a limit is set and the words are mapped. fvm_quota_reserve adds BYTES
 * and FILES, or nothing and -EDQUOT when either would pass its limit; fvm_quota_add
 * adds signed figures unchecked (what is given back, or what a removal leaves);
 * fvm_quota_room is the bytes still free (UINT64_MAX: no disk limit);
 * fvm_quota_may_create is -EDQUOT when the entries are at their limit, else 0.
 */
bool fvm_quota_on(const struct fvm_vm *vm);
int fvm_quota_reserve(const struct fvm_vm *vm, uint64_t bytes, uint64_t files);
void fvm_quota_add(const struct fvm_vm *vm, int64_t bytes, int64_t files);
uint64_t fvm_quota_room(const struct fvm_vm *vm);
int fvm_quota_may_create(const struct fvm_vm *vm);

/* upper/VPATH into OUT. Returns its length, or -ENAMETOOLONG. */
int fvm_upper_path(const struct fvm_vm *vm, const char *vpath, char *out, size_t outlen);

/*
 * Narrows a real path to the virtual one: "upper/P" becomes "/P"; anything else is
 * already virtual. Works in place (IN may equal OUT). Returns the length.
 */
int fvm_narrow(const struct fvm_vm *vm, const char *rpath, char *out, size_t outlen);

/*
 * Makes the parent directory of RES's vpath exist in upper/, copying host directories
 * up (mode, owner where permitted, times) as needed. Returns 0 or -errno.
 */
int fvm_upper_parent(const struct fvm_vm *vm, const struct fvm_res *res);

/*
 * Copies the host object of RES (where == FVM_HOST) up into upper/, atomically, and
 * updates RES to point at the copy. With DATA false a regular file's content is not
 * copied (the caller is about to truncate it). Refuses with -EFBIG beyond the policy's
 * copy limit, with -EDQUOT beyond its disk or files limit. Returns 0 or -errno.
 */
int fvm_copy_up(const struct fvm_vm *vm, struct fvm_res *res, bool data);

/*
 * Makes RES (any where) ready to be modified in place: a host object is copied up.
 * Checks the path class (-EROFS for READONLY). Returns 0 or -errno.
 */
int fvm_prepare_modify(const struct fvm_vm *vm, struct fvm_res *res, bool data);

/*
 * Makes RES (where == FVM_ABSENT) ready to be created: parent in upper/, class
 * checked, RES->rpath is the upper path. The caller creates the object, then calls
 * fvm_created() to drop a whiteout that hid a host entry of that name.
 */
int fvm_prepare_create(const struct fvm_vm *vm, struct fvm_res *res);
void fvm_created(const struct fvm_vm *vm, const struct fvm_res *res, bool is_dir);

/*
 * Removes the entry of RES from the virtual namespace: the upper entry (if any) goes,
 * and a whiteout is left when a host entry would show through. IS_DIR: rmdir semantics
 * (the merged directory must be empty). Returns 0 or -errno.
 */
int fvm_remove(const struct fvm_vm *vm, struct fvm_res *res, bool is_dir);

/*
 * Checks that the calling process may create (REMOVING false) or remove/rename away
 * (REMOVING true, sticky-bit rule included) the entry of RES in its virtual parent
 * directory, as the host would decide: the check is made against the host directory
 * wherever the upper copy cannot carry the host's owner. Returns 0, -EACCES or -EPERM.
 */
int fvm_may_change_parent(const struct fvm_vm *vm, const struct fvm_res *res, bool removing);

/*
 * Copies the whole merged directory tree of RES up into upper/ and makes it opaque, so
 * that it no longer depends on the host (before a directory rename). Returns 0 or -errno.
 */
int fvm_copy_up_tree(const struct fvm_vm *vm, struct fvm_res *res);

/*
 * Renames OLD to NEW in the virtual namespace (renameat2 semantics; FLAGS may hold
 * RENAME_NOREPLACE or RENAME_EXCHANGE). Both were resolved without following the last
 * component. Never fails with EXDEV. Returns 0 or -errno.
 */
int fvm_rename(const struct fvm_vm *vm, struct fvm_res *oldr, struct fvm_res *newr,
	       unsigned flags);

/*
 * Calls FN(name, d_type, ARG) for each entry of directory RPATH but "." and "..".
 * Stops with FN's value when it is non-zero; 0 at the end; -errno if unreadable.
 */
int fvm_each_entry(const char *rpath, int (*fn)(const char *name, unsigned char type, void *arg),
		   void *arg);

/* True when a host entry shows through at RES->vpath (beneath an upper one, if any). */
bool fvm_host_shows(const struct fvm_res *res);

/*
 * The object as the host has it: for an upper copy with a host entry showing beneath,
 * that entry's lstat (into BUF), else RES->st. An unprivileged copy-up carries the
 * caller as owner, so ownership questions are answered from here.
 */
const struct stat *fvm_host_view(const struct fvm_res *res, struct stat *buf);

/* The number of read-only layers of VM (0: upper/ over the host alone). */
unsigned fvm_layer_count(const struct fvm_vm *vm);

/* Layer I's real path of canonical VPATH into OUT: its length, or -ENAMETOOLONG. */
int fvm_layer_path(const struct fvm_vm *vm, unsigned i, const char *vpath, char *out,
		   size_t outlen);

/*
 * The lower state inside directory VPATH (LEN) from its parent's, PMASK and PHOST: the
 * layers of PMASK, top-down, whose entry at VPATH is a directory (*MASK), until one
 * holds an opaque directory, a whiteout or another object there; then whether the
 * host's directory VPATH shows through too (*HOST).
 */
void fvm_lower_descend(const struct fvm_vm *vm, uint32_t pmask, bool phost, const char *vpath,
		       size_t len, uint32_t *mask, bool *host);

/*
 * The lower object beneath RES's name (the object itself for where FVM_HOST): the
 * first entry of the layers showing in its parent, top-down, or the host's, unless a
 * whiteout comes first. Returns 1 with its real path in OUT (size OUTLEN) and its
 * lstat in ST, 0 when there is none.
 */
int fvm_lower_find(const struct fvm_res *res, char *out, size_t outlen, struct stat *st);

/*
 * The lower object of canonical VPATH looked up from the root through the layers and
 * the host (upper/ ignored): 1 with its real path and lstat, 0 when there is none.
 */
int fvm_lower_lookup(const struct fvm_vm *vm, const char *vpath, char *out, size_t outlen,
		     struct stat *st);

/*
 * Calls FN(name, type, ARG) for every entry of each lower directory merged into
 * directory RES (its layers' directories showing through, then the host's), whiteout
 * names included and a name possibly more than once. Returns FN's first non-zero
 * value, 0, or -errno.
 */
int fvm_each_lower_entry(const struct fvm_res *res,
			 int (*fn)(const char *name, unsigned char type, void *arg), void *arg);

/* True when upper directory RPATH carries the opaque marker. */
bool fvm_is_opaque(const char *rpath);

/*
 * The host identity of a copied-up regular file, as stored in its FVM_ORIGIN_XATTR
 * (layout.h): two native-endian 64-bit words. The layer is only ever read on the
 * machine that wrote it, where inode numbers mean something at all.
 */
struct fvm_ident {
	uint64_t dev;
	uint64_t ino;
};

/*
 * Reads the origin of upper object FD (when >= 0) or else RPATH (not followed) into O.
 * Returns 0, -ENODATA when it has none (a file the VM created), -EOPNOTSUPP when the
 * filesystem has no user xattrs, or another -errno.
 */
int fvm_origin_get(int fd, const char *rpath, struct fvm_ident *o);

/*
 * Removes fvm's own names (FVM_ORIGIN_XATTR) from xattr name list LIST of LEN bytes,
 * in place. Returns the new length (LEN itself when LEN < 0).
 */
ssize_t fvm_xattr_list_hide(char *list, ssize_t len);

/* True when xattr name NAME is fvm's own, never shown to or taken from a VM. */
bool fvm_xattr_is_ours(const char *name);

#endif
