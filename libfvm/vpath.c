/*
 * vpath.c — from what a program said (dirfd + name) to an absolute virtual path.
 *
 * The virtual cwd and the virtual path of a directory fd are the kernel's real paths
 * narrowed (fvm_narrow): the real cwd is always the resolved directory, so a fork or
 * exec inherits it for free.
 *
 * Two memos spare the readlink/getcwd that asking costs, on every relative name: the
 * fd table (fd.c) and the cwd, memoised here at the VM generation, so that a rename in
 * the VM asks again. The cwd memo also carries the count of cwd changes it was asked
 * after: chdir and fchdir count one before and one after their system call, so a memo
 * put by a thread that asked the kernel around a change is never served. A vfork child
 * (or any clone that shares this memory without running the fork handlers) has a cwd
 * of its own in the parent's memory: its first chdir sees a pid that is not the memo's
 * owner's and switches the memo off for the rest of the process image, so the parent
 * never reads the child's cwd. A fork child takes ownership in its fork handler. A
 * rename by a host process of a directory a VM process is in is not seen. The memo is
 * a seqlock: a reader that sees a writer simply asks the kernel.
 *
 * /dev/shm/NAME is the VM's mapped NAME (ipcdir.c) before the walk sees it.
 *
 * fvm_direct_at keeps a third memo, of the direct answers for the virtual paths asked
 * last, by path and generation (the direct memo, below).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "fvm/path.h"
#include "libfvm.h"

static struct {
	unsigned seq;
	bool off;          /* a vfork child changed its cwd: never memoise again */
	unsigned short len;
	unsigned changes;  /* the count of cwd changes when the path was asked */
	uint64_t gen;
	char path[PATH_MAX];
} cwd_memo FVM_LARGE_BSS;

static unsigned cwd_changes; /* cwd changes of this process image, each counted twice */
static pid_t cwd_owner;      /* the process the memo belongs to (fvm_cwd_init) */

static void cwd_forked(void)
{
	cwd_owner = (pid_t)sys_getpid();
}

void fvm_cwd_init(pid_t pid)
{
	cwd_owner = pid;
	fvm_atfork(NULL, NULL, cwd_forked);
}

void fvm_cwd_changing(void)
{
	if (cwd_owner != (pid_t)sys_getpid()) {
		__atomic_store_n(&cwd_memo.off, true, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&cwd_changes, 1, __ATOMIC_ACQ_REL);
}

static int cwd_get(uint64_t gen, char *out, size_t outlen)
{
	unsigned seq = __atomic_load_n(&cwd_memo.seq, __ATOMIC_ACQUIRE);
	size_t len = cwd_memo.len;

	if ((seq & 1) || !gen || cwd_memo.gen != gen || !len || len >= outlen ||
	    cwd_memo.changes != __atomic_load_n(&cwd_changes, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&cwd_memo.off, __ATOMIC_ACQUIRE)) {
		return -1;
	}
	memcpy(out, cwd_memo.path, len);
	out[len] = '\0';
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&cwd_memo.seq, __ATOMIC_RELAXED) == seq ? (int)len : -1;
}

static void cwd_put(uint64_t gen, unsigned changes, const char *path, size_t len)
{
	unsigned seq = __atomic_load_n(&cwd_memo.seq, __ATOMIC_RELAXED);

	if (!gen || len >= sizeof(cwd_memo.path) || (seq & 1) ||
	    __atomic_load_n(&cwd_memo.off, __ATOMIC_ACQUIRE) ||
	    !__atomic_compare_exchange_n(&cwd_memo.seq, &seq, seq + 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		return;
	}
	cwd_memo.gen = gen;
	cwd_memo.changes = changes;
	cwd_memo.len = (unsigned short)len;
	memcpy(cwd_memo.path, path, len);
	__atomic_store_n(&cwd_memo.seq, seq + 2, __ATOMIC_RELEASE);
}

static int vcwd(char *out, size_t outlen)
{
	char rpath[FVM_RPATH_MAX];
	/* Both read before asking: a change meanwhile makes the answer stale. */
	uint64_t gen = fvm_gen_now(&fvm_g);
	unsigned changes = __atomic_load_n(&cwd_changes, __ATOMIC_ACQUIRE);
	int n = cwd_get(gen, out, outlen);

	if (n >= 0) {
		return n;
	}
	n = sys_getcwd(rpath, sizeof(rpath));
	if (n < 0) {
		return n;
	}
	if (rpath[0] != '/') {
		return -ENOENT; /* "(unreachable)" */
	}
	n = fvm_narrow(&fvm_g, rpath, out, outlen);
	if (n > 0) {
		cwd_put(gen, changes, out, (size_t)n);
	}
	return n;
}

/*
 * When relative NAME (NL bytes) is one or more ordinary components (none empty, ".",
 * "..", no leading or trailing "/"): the offset of its last component plus one; else 0.
 * Joined to a canonical directory such a name needs no normalisation (the hot case:
 * openat and fstatat of a listed name, git's lstat of an index entry).
 */
static size_t plain_rel(const char *name, size_t nl)
{
	const char *last;

	if (nl == 0 || name[0] == '/' || name[nl - 1] == '/' ||
	    !(last = fvm_path_plain(name, name + nl, false))) {
		return 0;
	}
	return (size_t)(last - name) + 1;
}

/*
 * True when BASE (LEN), a directory's virtual path, may take a plain name as it is:
 * absolute, "/" or without a "/" at its end. The cwd is the kernel's path narrowed and
 * the fd table remembers only canonical paths (fd.c), so nothing else is to be seen
 * in it; this is the cheap guard.
 */
static bool canonical_base(const char *base, size_t len)
{
	return len >= 1 && base[0] == '/' && (len == 1 || base[len - 1] != '/');
}

/*
 * fvm_vpath_at, and in *LASTOFF the offset of the result's last component when the
 * result is canonical by construction (a plain name joined to a canonical base), else 0.
 */
static int vpath_at_off(int dirfd, const char *name, char *out, size_t outlen, size_t *lastoff)
{
	char base[PATH_MAX];
	long len;
	size_t nl, rel;
	int ret;

	*lastoff = 0;
	if (fvm_bad_ptr(name) || (len = fvm_strlen_user(name)) < 0) {
		return -EFAULT;
	}
	nl = (size_t)len;
	if (nl >= PATH_MAX) {
		return -ENAMETOOLONG;
	}
	if (name[0] == '/') {
		if (nl + 1 > outlen) {
			return -ENAMETOOLONG;
		}
		memcpy(out, name, nl + 1);
		return (int)nl;
	}
	ret = dirfd == AT_FDCWD ? vcwd(base, sizeof(base)) : fvm_fd_vpath(dirfd, base, sizeof(base));
	if (ret < 0) {
		return ret;
	}
	if ((rel = plain_rel(name, nl)) != 0 && canonical_base(base, (size_t)ret)) {
		/* What fvm_path_join would make, without its copy and normalisation. */
		size_t bl = (size_t)ret == 1 ? 0 : (size_t)ret;
		if (bl + 1 + nl + 1 > outlen) {
			return -ENAMETOOLONG;
		}
		memcpy(out, base, bl);
		out[bl] = '/';
		memcpy(out + bl + 1, name, nl + 1);
		*lastoff = bl + 1 + rel - 1;
		return (int)(bl + 1 + nl);
	}
	ret = fvm_path_join(base, name, out, outlen);
	/* Keep a trailing slash: it asks for a directory. */
	if (ret > 1 && nl > 0 && name[nl - 1] == '/' && (size_t)ret + 2 <= outlen) {
		out[ret++] = '/';
		out[ret] = '\0';
	}
	return ret;
}

int fvm_vpath_at(int dirfd, const char *name, char *out, size_t outlen)
{
	size_t lastoff;

	return vpath_at_off(dirfd, name, out, outlen, &lastoff);
}

/*
 * The direct memo: fvm_host_direct_off's yes answers for the virtual paths this process
 * asked last, by path and generation, so that a name asked again (a program's loop of
 * open+close, access, stat of one file) costs one hash and one compare instead of the
 * canonical check, the policy walk and the lookup cache's probe.
 *
 * Rules:
 *  - An entry holds only what fvm_host_direct_off answered at generation GEN, read
 *    before it was asked: that answer depends on nothing but the path, the policy and
 *    the store's place (both fixed once the counter is attached) and lookup-cache facts
 *    of that generation. It is served only while the generation is GEN, so it is never
 *    staler than the lookup cache itself (t_cache: the *_asked_again tests).
 *  - Bits of the two answers: PARENT (the name's directory is host-only) and KNOWN (the
 *    name is a host object, no link); a caller that wants KNOWN is served only KNOWN.
 *  - Lock-free and signal-safe as the lookup cache: each entry a seqlock; a reader that
 *    sees it change, or a writer that finds it taken, goes without.
 */
#define DMEMO_N 64
#define DMEMO_PATH 232
#define DM_PARENT 1u
#define DM_KNOWN 2u

static struct dmemo_ent {
	unsigned seq;
	unsigned char bits;
	unsigned short len;
	uint64_t gen;
	char path[DMEMO_PATH];
} dmemo[DMEMO_N] FVM_LARGE_BSS;

/* The slot of PATH (LEN). */
static unsigned dmemo_slot(const char *path, size_t len)
{
	return (unsigned)(fvm_path_hash(path, len) >> 40) % DMEMO_N;
}

/* The memo's bits for PATH at GEN (0: none). */
static unsigned dmemo_get(const struct dmemo_ent *e, const char *path, size_t len, uint64_t gen)
{
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE), bits;

	if ((seq & 1) || e->gen != gen || e->len != len || memcmp(e->path, path, len) != 0) {
		return 0;
	}
	bits = e->bits;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq ? bits : 0;
}

static void dmemo_put(struct dmemo_ent *e, const char *path, size_t len, uint64_t gen, unsigned bits)
{
	unsigned seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);

	if ((seq & 1) || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false,
						      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		return;
	}
	/* The same name at the same generation: what was known still holds. */
	if (e->gen == gen && e->len == len && memcmp(e->path, path, len) == 0) {
		bits |= e->bits;
	}
	e->gen = gen;
	e->len = (unsigned short)len;
	e->bits = (unsigned char)bits;
	memcpy(e->path, path, len);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

enum fvm_direct fvm_direct_at(int dirfd, const char *name, char *vp, int *vlen,
			      enum fvm_direct want)
{
	size_t lastoff = 0, len;
	struct dmemo_ent *e;
	enum fvm_direct how;
	unsigned bits;
	uint64_t gen;

	if (fvm_bad_ptr(name) || !name[0]) {
		*vlen = -1;
		return FVM_DIRECT_NO;
	}
	if (name[0] == '/') {
		/* vpath_at_off's first case, without its frame for a directory's path */
		long n = fvm_strlen_user(name);
		if (n < 0 || n >= PATH_MAX) {
			*vlen = -1;
			return FVM_DIRECT_NO;
		}
		memcpy(vp, name, (size_t)n + 1);
		*vlen = (int)n;
	} else if ((*vlen = vpath_at_off(dirfd, name, vp, PATH_MAX, &lastoff)) < 0) {
		return FVM_DIRECT_NO;
	}
	len = (size_t)*vlen;
	/* Read before asking: a change meanwhile leaves what is put already stale. */
	gen = fvm_gen_now(&fvm_g);
	if (!gen || len >= DMEMO_PATH) {
		return fvm_host_direct_off(&fvm_g, vp, len, lastoff, want);
	}
	e = &dmemo[dmemo_slot(vp, len)];
	bits = dmemo_get(e, vp, len, gen);
	if ((bits & DM_PARENT) && want == FVM_DIRECT_PARENT) {
		return FVM_DIRECT_PARENT;
	}
	if (bits & DM_KNOWN) {
		return FVM_DIRECT_KNOWN;
	}
	how = fvm_host_direct_off(&fvm_g, vp, len, lastoff, want);
	if (how != FVM_DIRECT_NO) {
		dmemo_put(e, vp, len, gen, how == FVM_DIRECT_PARENT ? DM_PARENT : DM_KNOWN);
	}
	return how;
}

bool fvm_direct_rel(int dirfd, const char *name, enum fvm_direct how)
{
	/* One ordinary component: its parent, the directory of DIRFD, is the one the cache
	 * found host-only (PARENT), and the kernel looks it up there as on the host. */
	return how == FVM_DIRECT_PARENT && dirfd >= 0 && name[0] != '/' &&
	       !(name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))) &&
	       !strchr(name, '/');
}

int fvm_resolve_at(int dirfd, const char *name, int rflags, struct fvm_res *res)
{
	char vpath[FVM_VPATH_MAX];
	int ret;

	if (fvm_bad_ptr(name)) {
		return -EFAULT;
	}
	if (!name[0]) {
		return -ENOENT;
	}
	ret = fvm_vpath_at(dirfd, name, vpath, sizeof(vpath));
	if (ret < 0) {
		return ret;
	}
	return fvm_resolve_vpath(vpath, (size_t)ret, rflags, res);
}

int fvm_resolve_from(int dirfd, const char *name, char *vp, int vlen, int rflags, struct fvm_res *res)
{
	return vlen >= 0 ? fvm_resolve_vpath(vp, (size_t)vlen, rflags, res)
			 : fvm_resolve_at(dirfd, name, rflags, res);
}

int fvm_resolve_vpath(char *vpath, size_t len, int rflags, struct fvm_res *res)
{
	/* /dev/shm/NAME is the VM's NAME, as shm_open and the listing have it (ipcdir.c). */
	int ret = fvm_ipc_vpath(vpath, len, PATH_MAX);

	if (ret < 0) {
		return ret;
	}
	return fvm_resolve(&fvm_g, vpath, rflags, res);
}
