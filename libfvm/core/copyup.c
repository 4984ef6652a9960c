/*
 * copyup.c — changing the virtual namespace: copy-up, creation, removal (fvm/vm.h).
 *
 * Invariants:
 *  - Every object enters upper/ by rename from work/ with RENAME_NOREPLACE, complete
 *    with its mode, owner (where the caller may set it), xattrs and times. A racing
 *    copy-up of the same object loses the rename and drops its own copy.
 *  - A copied-up regular file carries its host object's (st_dev, st_ino) in
 *    FVM_ORIGIN_XATTR, set before the rename, so the identity travels with the inode:
 *    through renames and hard links made in the VM. A file the VM creates has none.
 *    The marker is never copied from a host object (a host has none to give).
 *  - A copy-up does not change what the VM sees of the parent directory: the parent's
 *    times are put back after the rename, as the host's stay unchanged.
 *  - Removal writes the whiteout before it removes the upper entry, so a crash between
 *    the two leaves the entry visible, never a half-state.
 *  - Only SHARED paths are ever modified on the host.
 *  - In a root run (vm->copyup_broker set) a process whose euid is not 0 never copies
 *    up itself: it could neither keep the host's owner nor rename into upper/
 *    directories that mirror root's; the run's supervisor does it (fvm/cubroker.h).
 *    Nor does one that is not is_root (a supervisor's child acting for a root that
 *    dropped capabilities).
 */
#include <errno.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "fvm/copy.h"
#include "fvm/cubroker.h"
#include "fvm/dirent.h"
#include "fvm/layout.h"
#include "fvm/origins.h"
#include "fvm/path.h"
#include "fvm/sys.h"
#include "fvm/vm.h"

/*
 * A name in work/ that no other process or thread uses at the same time, and that no
 * other uid of the VM can guess and plant first (work/ is writable by every uid).
 */
static int work_temp(const struct fvm_vm *vm, char *out, size_t outlen)
{
	static unsigned long counter;
	unsigned long n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), rnd = 0;
	int len;

	if (FVM_SC(SYS_getrandom, &rnd, sizeof(rnd), GRND_NONBLOCK, 0, 0, 0) != (long)sizeof(rnd)) {
		rnd = 0; /* no entropy yet: a planted name is retried (WORK_TEMP_TRIES) */
	}
	len = snprintf(out, outlen, "%s/cu.%d.%d.%lu.%016lx", vm->work, (int)sys_getpid(),
		       (int)sys_gettid(), n, rnd);
	return len < 0 || (size_t)len >= outlen ? -ENAMETOOLONG : 0;
}

/* How many fresh names a copy-up tries when its temporary name is taken. */
#define WORK_TEMP_TRIES 8

/*
 * Creates the copy of host object HOST_RPATH (lstat HST) at a fresh name in work/,
 * written to TMP (size TMPLEN): a regular file empty (*DST its fd, *SRC the host
 * file's), a directory (*DST and *SRC opened), a symlink, or a node. Returns 0 or -errno.
 */
static int make_temp(const struct fvm_vm *vm, const char *host_rpath, const struct stat *hst,
		     char *tmp, size_t tmplen, int *src, int *dst)
{
	int ret = -EEXIST;

	*src = *dst = -1;
	switch (hst->st_mode & S_IFMT) {
	case S_IFREG:
		*src = sys_openat(AT_FDCWD, host_rpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (*src < 0) {
			return *src;
		}
		for (int i = 0; ret == -EEXIST && i < WORK_TEMP_TRIES; i++) {
			ret = work_temp(vm, tmp, tmplen);
			ret = ret < 0 ? ret : sys_openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		}
		if (ret < 0) {
			sys_close(*src);
			*src = -1;
			return ret;
		}
		*dst = ret;
		return 0;
	case S_IFDIR:
		for (int i = 0; ret == -EEXIST && i < WORK_TEMP_TRIES; i++) {
			ret = work_temp(vm, tmp, tmplen);
			ret = ret < 0 ? ret : sys_mkdirat(AT_FDCWD, tmp, 0700);
		}
		if (ret == 0) {
			*dst = sys_openat(AT_FDCWD, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
			if (*dst < 0) {
				sys_unlinkat(AT_FDCWD, tmp, AT_REMOVEDIR);
				return *dst;
			}
			*src = sys_openat(AT_FDCWD, host_rpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		}
		return ret;
	case S_IFLNK: {
		char target[PATH_MAX];
		ssize_t tl = sys_readlinkat(AT_FDCWD, host_rpath, target, sizeof(target) - 1);
		if (tl < 0) {
			return (int)tl;
		}
		target[tl] = '\0';
		for (int i = 0; ret == -EEXIST && i < WORK_TEMP_TRIES; i++) {
			ret = work_temp(vm, tmp, tmplen);
			ret = ret < 0 ? ret : sys_symlinkat(target, AT_FDCWD, tmp);
		}
		return ret;
	}
	default:
		for (int i = 0; ret == -EEXIST && i < WORK_TEMP_TRIES; i++) {
			ret = work_temp(vm, tmp, tmplen);
			ret = ret < 0 ? ret : sys_mknodat(AT_FDCWD, tmp, hst->st_mode & (S_IFMT | 0600), hst->st_rdev);
		}
		return ret;
	}
}

bool fvm_xattr_is_ours(const char *name)
{
	return strcmp(name, FVM_ORIGIN_XATTR) == 0;
}

ssize_t fvm_xattr_list_hide(char *list, ssize_t len)
{
	ssize_t in = 0, out = 0;

	while (in < len) {
		size_t n = strnlen(list + in, (size_t)(len - in));
		size_t rec = n + 1 < (size_t)(len - in) ? n + 1 : (size_t)(len - in);
		if (!fvm_xattr_is_ours(list + in)) {
			memmove(list + out, list + in, rec);
			out += (ssize_t)rec;
		}
		in += (ssize_t)rec;
	}
	return len < 0 ? len : out;
}

int fvm_origin_get(int fd, const char *rpath, struct fvm_ident *o)
{
	ssize_t n = fd >= 0 ? sys_fgetxattr(fd, FVM_ORIGIN_XATTR, o, sizeof(*o))
			    : sys_lgetxattr(rpath, FVM_ORIGIN_XATTR, o, sizeof(*o));

	if (n == -ERANGE || (n >= 0 && n != (ssize_t)sizeof(*o))) {
		return -ENODATA; /* not a value fvm wrote */
	}
	return n < 0 ? (int)n : 0;
}

/* The times of directory RPATH, to put back after an entry is renamed into it. */
static void keep_times(const char *rpath, struct timespec ts[2])
{
	struct stat st;

	if (sys_lstat(rpath, &st) == 0) {
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
	} else {
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1].tv_nsec = UTIME_OMIT;
	}
}

/*
 * Gives the copy at DST (or, with DST < 0, the object at TMP) of object HOST_RPATH (lstat
 * HST, open at SRC when it is a regular file or a directory) what the lower object has:
 * its bytes when DATA, owner (where this process may set it), xattrs, the origin
 * marker, mode and times. LAYER: HOST_RPATH is a layer's. Returns 0 or -errno.
 */
static int fill_copy(const struct fvm_vm *vm, int src, const char *host_rpath, const struct stat *hst,
		     int dst, const char *tmp, bool data, bool layer)
{
	struct timespec times[2] = {hst->st_atim, hst->st_mtim};
	mode_t type = hst->st_mode & S_IFMT;
	int ret = 0;

	if (type == S_IFREG) {
		ret = data ? fvm_copy_data(src, dst, hst->st_size) : 0;
	}
	if (ret == 0) {
		if (vm->is_root) {
			ret = dst >= 0 ? sys_fchown(dst, hst->st_uid, hst->st_gid)
				       : sys_fchownat(AT_FDCWD, tmp, hst->st_uid, hst->st_gid,
						      AT_SYMLINK_NOFOLLOW);
			ret = 0; /* an id the filesystem cannot store is not fatal */
		}
		/*
		 * xattrs after chown (which drops security.capability) and before chmod:
		 * user.* needs write permission on the inode, which a read-only mode would
		 * take from an unprivileged owner.
		 */
		fvm_copy_xattrs(src, host_rpath, dst, tmp); /* what needs privilege may fail */
		if (type == S_IFREG) {
			/* No user xattrs on this filesystem: the copy shows its own inode. */
			struct fvm_ident o = {.dev = hst->st_dev, .ino = hst->st_ino};
			if (!layer || fvm_origin_get(src, host_rpath, &o) == 0) {
				sys_fsetxattr(dst, FVM_ORIGIN_XATTR, &o, sizeof(o), 0);
			}
		}
		if (type != S_IFLNK) {
			/* After chown, which clears set-id bits. */
			ret = dst >= 0 ? sys_fchmod(dst, hst->st_mode & 07777)
				       : sys_fchmodat(AT_FDCWD, tmp, hst->st_mode & 07777);
		}
	}
	if (ret == 0) {
		ret = sys_utimensat(type == S_IFLNK || dst < 0 ? AT_FDCWD : dst,
				    type == S_IFLNK || dst < 0 ? tmp : NULL, times,
				    type == S_IFLNK ? AT_SYMLINK_NOFOLLOW : 0);
	}
	return ret;
}

/* After a new entry: cached walks know directories and links only. */
static void entered(const struct fvm_vm *vm, mode_t type)
{
	if (type != S_IFREG) {
		fvm_gen_bump(vm);
	} else {
		fvm_names_bump(vm);
	}
}

/*
 * Whether a regular file's copy is made unnamed in its upper directory (O_TMPFILE) and
 * linked into place, in this process: cleared at the first refusal that says the
 * filesystem or the kernel cannot (the work/ way then, for every later copy).
 */
static int tmpfile_way = 1;
/* Set when linkat's AT_EMPTY_PATH is refused (a kernel before 6.10 without
 * CAP_DAC_READ_SEARCH, or credentials changed since the open) but /proc/self/fd works. */
static int link_by_proc;

/* Gives unnamed file FD the name NAME in directory PFD; 0 or -errno (EEXIST: taken). */
static int link_unnamed(int fd, int pfd, const char *name)
{
	char proc[40];
	int ret = -ENOENT;

	if (!__atomic_load_n(&link_by_proc, __ATOMIC_RELAXED)) {
		ret = sys_linkat(fd, "", pfd, name, AT_EMPTY_PATH);
		if (ret != -ENOENT) {
			return ret;
		}
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int r = sys_linkat(AT_FDCWD, proc, pfd, name, AT_SYMLINK_FOLLOW);
	if ((r == 0 || r == -EEXIST) && ret == -ENOENT) {
		__atomic_store_n(&link_by_proc, 1, __ATOMIC_RELAXED);
	}
	return r == -ENOENT && ret == -ENOENT ? -ENOENT : r;
}

/* copy_reg_unnamed's answer: this way cannot be taken here; nothing was made. */
#define NO_UNNAMED 2

/*
 * Copies regular file HOST_RPATH (lstat HST) to UPPER_RPATH as an unnamed file of its
 * upper directory, complete before a link gives it its name: nothing half-made is ever
 * visible, and a crash leaves nothing behind (no temporary in work/). Three calls on
 * the directory's fd replace two walks of its path (its times kept and put back) and a
 * rename's two. On success *OUT is the new entry's lstat. Returns as copy_object, or
 * NO_UNNAMED when the filesystem or the kernel refuses the way (nothing made then).
 */
static int copy_reg_unnamed(const struct fvm_vm *vm, const char *host_rpath, const struct stat *hst,
			    const char *upper_rpath, bool data, bool layer, struct stat *out)
{
	char parent[FVM_RPATH_MAX];
	size_t pl = fvm_path_base_off(upper_rpath, strlen(upper_rpath));
	const char *name = upper_rpath + pl;
	struct stat pst;
	int ret, pfd, src, dst;

	memcpy(parent, upper_rpath, pl - 1);
	parent[pl - 1] = '\0';
	pfd = sys_openat(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (pfd < 0) {
		return pfd == -ENAMETOOLONG ? NO_UNNAMED : pfd;
	}
	if (sys_fstat(pfd, &pst) < 0) {
		pst.st_atim.tv_nsec = pst.st_mtim.tv_nsec = UTIME_OMIT;
	}
	src = sys_openat(AT_FDCWD, host_rpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (src < 0) {
		sys_close(pfd);
		return src;
	}
	dst = sys_openat(pfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (dst < 0) {
		sys_close(src);
		sys_close(pfd);
		if (dst == -EOPNOTSUPP || dst == -EISDIR || dst == -EINVAL) {
			__atomic_store_n(&tmpfile_way, 0, __ATOMIC_RELAXED);
			return NO_UNNAMED;
		}
		return dst;
	}
	ret = fill_copy(vm, src, host_rpath, hst, dst, NULL, data, layer);
	sys_close(src);
	if (ret == 0) {
		ret = link_unnamed(dst, pfd, name);
		if (ret == 0) {
			struct timespec ptimes[2] = {pst.st_atim, pst.st_mtim};
			sys_utimensat(pfd, NULL, ptimes, 0);
			entered(vm, S_IFREG);
			if (sys_fstatat(pfd, name, out, AT_SYMLINK_NOFOLLOW) < 0) {
				sys_fstat(dst, out);
			}
		} else if (ret == -EEXIST) {
			ret = 1; /* another process copied it up first: use theirs */
		} else if (ret == -EPERM || ret == -ENOENT) {
			/*
			 * The link is refused where a rename would not be (protected_hardlinks
			 * for an owner this process is not, no /proc): the work/ way, from now
			 * on. ENOENT is also a directory removed meanwhile: the work/ way says so.
			 */
			__atomic_store_n(&tmpfile_way, 0, __ATOMIC_RELAXED);
			ret = NO_UNNAMED;
		}
	}
	sys_close(dst); /* unlinked, an unnamed file goes with its last fd */
	sys_close(pfd);
	return ret;
}

/*
 * Builds a copy of lower object HOST_RPATH (lstat HST; the host's, or a layer's when
 * LAYER) and gives it the name UPPER_RPATH: a regular file unnamed in its upper
 * directory (copy_reg_unnamed), else at a fresh name in work/ renamed into place. With
 * DATA false, a regular file is created empty. A layer's file passes on the origin it
 * carries, if any (the host file it was once copied from). On success *OUT (when not
 * NULL) is the new entry's lstat. Returns 0, 1 when another process won the race (its
 * copy stands, and it records the origin), or -errno.
 */
static int copy_object(const struct fvm_vm *vm, const char *host_rpath, const struct stat *hst,
		       const char *upper_rpath, bool data, bool layer, struct stat *out)
{
	char tmp[PATH_MAX + 64], parent[FVM_RPATH_MAX];
	struct timespec ptimes[2];
	mode_t type = hst->st_mode & S_IFMT;
	int ret, dst = -1, src = -1;

	if (type == S_IFREG && __atomic_load_n(&tmpfile_way, __ATOMIC_RELAXED)) {
		struct stat ignored;
		ret = copy_reg_unnamed(vm, host_rpath, hst, upper_rpath, data, layer, out ? out : &ignored);
		if (ret != NO_UNNAMED) {
			return ret;
		}
	}
	ret = make_temp(vm, host_rpath, hst, tmp, sizeof(tmp), &src, &dst);
	if (ret < 0) {
		return ret; /* nothing left open or made */
	}
	ret = fill_copy(vm, src, host_rpath, hst, dst, tmp, data, layer);
	if (src >= 0) {
		sys_close(src);
	}
	if (dst >= 0) {
		sys_close(dst);
	}
	if (ret == 0) {
		size_t pl = fvm_path_base_off(upper_rpath, strlen(upper_rpath));
		memcpy(parent, upper_rpath, pl - 1);
		parent[pl - 1] = '\0';
		keep_times(parent, ptimes);
		ret = sys_renameat2(AT_FDCWD, tmp, AT_FDCWD, upper_rpath, RENAME_NOREPLACE);
		if (ret == 0) {
			sys_utimensat(AT_FDCWD, parent, ptimes, AT_SYMLINK_NOFOLLOW);
			entered(vm, type);
			if (out) {
				sys_lstat(upper_rpath, out);
			}
			return 0;
		}
		if (ret == -EEXIST || ret == -ENOTEMPTY) {
			ret = 1; /* another process copied it up first: use theirs */
		}
	}
	sys_unlinkat(AT_FDCWD, tmp, type == S_IFDIR ? AT_REMOVEDIR : 0);
	return ret;
}

/* True when this process must ask the run's copy-up broker instead of copying up. */
static bool brokered(const struct fvm_vm *vm)
{
	return vm->copyup_broker && (sys_geteuid() != 0 || !vm->is_root);
}

int fvm_upper_parent(const struct fvm_vm *vm, const struct fvm_res *res)
{
	char up[FVM_RPATH_MAX];
	size_t plen = fvm_path_base_off(res->vpath, res->vlen);
	size_t i;

	if (res->parent_upper || plen <= 1) {
		return 0;
	}
	if (brokered(vm)) {
		return vm->copyup_broker(FVM_CU_PARENT, res->vpath);
	}
	/* Walk the parent's prefixes top-down; copy up each directory not yet in upper/. */
	for (i = 1; i < plen; i++) {
		if (res->vpath[i] != '/') {
			continue;
		}
		char prefix[FVM_VPATH_MAX], lower[FVM_RPATH_MAX];
		const char *src = prefix;
		struct stat st;
		memcpy(prefix, res->vpath, i);
		prefix[i] = '\0';
		if (fvm_upper_path(vm, prefix, up, sizeof(up)) < 0) {
			return -ENAMETOOLONG;
		}
		if (sys_lstat(up, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				return -ENOTDIR;
			}
			continue;
		}
		if (fvm_layer_count(vm)) {
			/* The directory may be a layer's: the lower object from the root. */
			if (fvm_lower_lookup(vm, prefix, lower, sizeof(lower), &st) <= 0) {
				return -ENOENT;
			}
			src = lower;
		} else if (sys_lstat(prefix, &st) < 0) {
			return -ENOENT;
		}
		if (!S_ISDIR(st.st_mode)) {
			return -ENOENT;
		}
		int ret = fvm_quota_reserve(vm, 0, 1);
		ret = ret < 0 ? ret : copy_object(vm, src, &st, up, false, src != prefix, NULL);
		if (ret != 0 && ret != -EDQUOT) {
			fvm_quota_add(vm, 0, -1);
		}
		if (ret < 0) {
			return ret;
		}
		if (ret == 0 && src == prefix) {
			fvm_record_origin(vm, prefix, &st);
		}
	}
	return 0;
}

int fvm_copy_up(const struct fvm_vm *vm, struct fvm_res *res, bool data)
{
	struct stat hst = res->st, ust;
	char up[FVM_RPATH_MAX];
	bool have_ust = false;
	int ret;

	if (res->where != FVM_HOST) {
		return res->where == FVM_UPPER ? 0 : -ENOENT;
	}
	if (data && S_ISREG(hst.st_mode) && vm->policy && vm->policy->copy_limit &&
	    (uint64_t)hst.st_size > vm->policy->copy_limit) {
		return -EFBIG;
	}
	if (fvm_upper_path(vm, res->vpath, up, sizeof(up)) < 0) {
		return -ENAMETOOLONG;
	}
	/* The copy's room first: past a quota nothing is made (parents neither). */
	uint64_t qbytes = data && S_ISREG(hst.st_mode) && hst.st_size > 0 ? (uint64_t)hst.st_size : 0;
	ret = fvm_quota_reserve(vm, qbytes, 1);
	if (ret < 0) {
		return ret;
	}
	if (brokered(vm)) {
		ret = vm->copyup_broker(FVM_CU_OBJECT, res->vpath); /* parents, copy, record */
	} else {
		ret = fvm_upper_parent(vm, res);
		/* From where the object is: the host's (rpath is vpath) or a layer's. */
		ret = ret < 0 ? ret : copy_object(vm, res->rpath, &hst, up, data, res->layer >= 0, &ust);
		if (ret == 0 && res->layer < 0) {
			fvm_record_origin(vm, res->vpath, &hst); /* ours, not a racing process's */
		}
		have_ust = ret == 0;
	}
	if (ret != 0) {
		fvm_quota_add(vm, -(int64_t)qbytes, -1); /* failed, or another process's copy won */
	}
	if (ret < 0) {
		return ret;
	}
	memcpy(res->rpath, up, strlen(up) + 1);
	res->where = FVM_UPPER;
	res->parent_upper = true;
	if (have_ust) {
		res->st = ust; /* the copy's lstat, taken where it was made */
	} else {
		sys_lstat(res->rpath, &res->st);
	}
	return 0;
}

int fvm_prepare_modify(const struct fvm_vm *vm, struct fvm_res *res, bool data)
{
	if (res->klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	if (res->klass == FVM_CLASS_SHARED || res->where == FVM_UPPER) {
		return 0;
	}
	if (res->where == FVM_ABSENT) {
		return -ENOENT;
	}
	return fvm_copy_up(vm, res, data);
}

int fvm_prepare_create(const struct fvm_vm *vm, struct fvm_res *res)
{
	if (res->klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	if (res->klass == FVM_CLASS_SHARED) {
		return 0;
	}
	int ret = fvm_quota_may_create(vm); /* counted in fvm_created, once it exists */
	return ret < 0 ? ret : fvm_upper_parent(vm, res);
}

void fvm_created(const struct fvm_vm *vm, const struct fvm_res *res, bool is_dir)
{
	char path[FVM_RPATH_MAX + 16];

	if (res->klass == FVM_CLASS_SHARED) {
		return;
	}
	fvm_quota_add(vm, 0, res->whiteout ? 0 : 1); /* a whiteout it replaces was one */
	if (!res->whiteout) {
		if (is_dir) {
			fvm_gen_bump(vm); /* a new upper directory */
		}
		return;
	}
	if (is_dir && fvm_opaque_path(res->rpath, path, sizeof(path)) == 0) {
		/* The host directory this name had was deleted: it must not show through. */
		int fd = sys_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			sys_close(fd);
		}
	}
	if (fvm_wh_path(res->rpath, path, sizeof(path)) == 0) {
		sys_unlinkat(AT_FDCWD, path, 0);
	}
	fvm_gen_bump(vm);
}

/* fvm_each_entry's filter over fvm_each_dirent: "." and ".." are not entries. */
struct each_entry {
	int (*fn)(const char *name, unsigned char type, void *arg);
	void *arg;
};

static int each_entry_one(const struct linux_dirent64 *d, void *arg)
{
	const struct each_entry *e = arg;

	if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) {
		return 0;
	}
	return e->fn(d->d_name, d->d_type, e->arg);
}

int fvm_each_entry(const char *rpath, int (*fn)(const char *name, unsigned char type, void *arg),
		   void *arg)
{
	struct each_entry e = {fn, arg};

	return fvm_each_dirent(rpath, each_entry_one, &e);
}

/*
 * The whiteouts of an upper directory about to be removed, read in one listing: a
 * host entry's whiteout is looked up here, not by an lstat per entry, and each goes by
 * a call on the directory's fd, not by its whole path.
 */
struct wh_list {
	char *names;       /* the whiteouts' names, each NUL-terminated */
	size_t len, cap;
	const char **v;    /* into NAMES, sorted by strcmp once read */
	size_t n;
};

static void wh_free(struct wh_list *w)
{
	free(w->names);
	free(w->v);
}

/* fvm_each_entry's FN: a name not a whiteout makes the directory non-empty. */
static int wh_collect(const char *name, unsigned char type, void *arg)
{
	struct wh_list *w = arg;
	size_t l = strlen(name) + 1;

	(void)type;
	if (!fvm_is_wh_name(name, l - 1)) {
		return -ENOTEMPTY;
	}
	if (w->len + l > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4096;
		char *p = realloc(w->names, cap > w->len + l ? cap : w->len + l + 4096);
		if (!p) {
			return -ENOMEM;
		}
		w->names = p;
		w->cap = cap > w->len + l ? cap : w->len + l + 4096;
	}
	memcpy(w->names + w->len, name, l);
	w->len += l;
	w->n++;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Indexes W's names, sorted. 0 or -ENOMEM. */
static int wh_index(struct wh_list *w)
{
	if (!w->n) {
		return 0;
	}
	w->v = malloc(w->n * sizeof(*w->v));
	if (!w->v) {
		return -ENOMEM;
	}
	for (size_t i = 0, off = 0; i < w->n; i++) {
		w->v[i] = w->names + off;
		off += strlen(w->names + off) + 1;
	}
	qsort(w->v, w->n, sizeof(*w->v), str_cmp);
	return 0;
}

/* True when W holds the whiteout of NAME. */
static bool wh_has(const struct wh_list *w, const char *name)
{
	char wh[NAME_MAX + FVM_WH_PREFIX_LEN + 2];
	const char *key = wh;

	if (!w->n || strlen(name) > NAME_MAX) {
		return false;
	}
	memcpy(wh, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN);
	memcpy(wh + FVM_WH_PREFIX_LEN, name, strlen(name) + 1);
	return bsearch(&key, w->v, w->n, sizeof(*w->v), str_cmp) != NULL;
}

/* Removes W's whiteouts from directory RPATH, by its fd. */
static void wh_unlink_all(const char *rpath, const struct wh_list *w)
{
	if (!w->n) {
		return;
	}
	int dfd = sys_openat(AT_FDCWD, rpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (dfd < 0) {
		return; /* the rmdir that follows says what is wrong */
	}
	for (size_t i = 0; i < w->n; i++) {
		sys_unlinkat(dfd, w->v[i], 0);
	}
	sys_close(dfd);
}

struct host_check {
	const struct wh_list *whs; /* the upper directory's whiteouts; NULL: none */
};

/* A host entry makes the merged directory non-empty unless a whiteout hides it. */
static int host_entry_visible(const char *name, unsigned char type, void *arg)
{
	const struct host_check *hc = arg;

	(void)type;
	if (fvm_is_wh_name(name, strlen(name))) {
		return 0;
	}
	return hc->whs && wh_has(hc->whs, name) ? 0 : -ENOTEMPTY;
}

struct merged_check {
	const struct fvm_res *dir;
};

/* A lower entry makes the merged directory non-empty when its name resolves to one. */
static int merged_entry_visible(const char *name, unsigned char type, void *arg)
{
	const struct merged_check *mc = arg;
	struct fvm_res *child;
	char vpath[PATH_MAX];
	int ret = 0;

	(void)type;
	if (fvm_is_wh_name(name, strlen(name))) {
		return 0;
	}
	if (snprintf(vpath, sizeof(vpath), "%s/%s", mc->dir->vlen == 1 ? "" : mc->dir->vpath,
		     name) >= (int)sizeof(vpath)) {
		return -ENAMETOOLONG;
	}
	child = malloc(sizeof(*child));
	if (!child) {
		return -ENOMEM;
	}
	if (fvm_resolve(mc->dir->vm, vpath, FVM_R_NOFOLLOW, child) == 0 && child->where != FVM_ABSENT) {
		ret = -ENOTEMPTY;
	}
	free(child);
	return ret;
}

/* True when a host entry shows through at RES->vpath (under the upper entry, if any). */
bool fvm_host_shows(const struct fvm_res *res)
{
	char lower[FVM_RPATH_MAX];
	struct stat st;

	if (res->where == FVM_HOST) {
		return true;
	}
	return fvm_lower_find(res, lower, sizeof(lower), &st) > 0;
}

const struct stat *fvm_host_view(const struct fvm_res *res, struct stat *buf)
{
	char lower[FVM_RPATH_MAX];

	if (res->where == FVM_HOST && res->layer < 0) {
		return &res->st;
	}
	/*
	 * The host's entry decides wherever it lies beneath, for a layer's copy as for an
	 * upper one (an unprivileged copy carries the caller as owner, whichever layer it
	 * was frozen into); else the topmost lower object, else the object itself.
	 */
	if (res->where != FVM_ABSENT && res->parent_host && sys_lstat(res->vpath, buf) == 0) {
		return buf;
	}
	if (res->where == FVM_UPPER && fvm_lower_find(res, lower, sizeof(lower), buf) > 0) {
		return buf;
	}
	return &res->st;
}

/* True when the upper directory RPATH is opaque. */
bool fvm_is_opaque(const char *rpath)
{
	char op[FVM_RPATH_MAX + 16];
	struct stat st;

	return fvm_opaque_path(rpath, op, sizeof(op)) == 0 && sys_lstat(op, &st) == 0;
}

/* Removes RES; HOST: a host (or lower) object shows beneath it, for a whiteout to hide. */
static int remove_entry(const struct fvm_vm *vm, struct fvm_res *res, bool is_dir, bool host);

int fvm_remove(const struct fvm_vm *vm, struct fvm_res *res, bool is_dir)
{
	bool file = res->where != FVM_ABSENT && S_ISREG(res->st.st_mode);
	bool upper = res->where == FVM_UPPER && res->klass != FVM_CLASS_SHARED;
	bool host = res->klass != FVM_CLASS_SHARED && res->where != FVM_ABSENT && fvm_host_shows(res);
	int64_t size = file ? (int64_t)res->st.st_size : 0;
	int ret = remove_entry(vm, res, is_dir, host);

	if (ret == 0) {
		/* The upper entry and its bytes go; a whiteout that hides the host's comes. */
		fvm_quota_add(vm, upper ? -size : 0, (upper ? -1 : 0) + (host ? 1 : 0));
	}

	/*
	 * Even a failed removal may have left a whiteout or an upper parent behind; cached
	 * walks know directories and links only (a new upper parent bumps on its own).
	 */
	if (is_dir || !file) {
		fvm_gen_bump(vm);
	} else {
		fvm_names_bump(vm);
	}
	return ret;
}

static int remove_entry(const struct fvm_vm *vm, struct fvm_res *res, bool is_dir, bool host)
{
	struct wh_list whs = {0};
	int ret;

	if (res->klass == FVM_CLASS_READONLY) {
		return -EROFS;
	}
	if (res->where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (res->klass == FVM_CLASS_SHARED) {
		return sys_unlinkat(AT_FDCWD, res->rpath, is_dir ? AT_REMOVEDIR : 0);
	}
	if (is_dir != S_ISDIR(res->st.st_mode)) {
		return is_dir ? -ENOTDIR : -EISDIR;
	}
	if (is_dir) {
		struct host_check hc = {.whs = res->where == FVM_UPPER ? &whs : NULL};
		if (res->where == FVM_UPPER) {
			ret = fvm_each_entry(res->rpath, wh_collect, &whs);
			ret = ret < 0 ? ret : wh_index(&whs);
			if (ret < 0) {
				goto out;
			}
		}
		if (host && S_ISDIR(res->st.st_mode) &&
		    !(res->where == FVM_UPPER && fvm_is_opaque(res->rpath))) {
			struct merged_check mc = {.dir = res};
			ret = res->parent_layers && res->vm
				      ? fvm_each_lower_entry(res, merged_entry_visible, &mc)
				      : fvm_each_entry(res->vpath, host_entry_visible, &hc);
			if (ret < 0 && ret != -ENOENT && ret != -ENOTDIR) {
				goto out;
			}
		}
	}
	if (host) {
		char up[FVM_RPATH_MAX], wh[FVM_RPATH_MAX + 8];
		ret = fvm_upper_parent(vm, res);
		if (ret < 0) {
			goto out;
		}
		if (fvm_upper_path(vm, res->vpath, up, sizeof(up)) < 0 ||
		    fvm_wh_path(up, wh, sizeof(wh)) < 0) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		/* An empty file: one mknodat, where an open makes two calls with its close. */
		ret = sys_mknodat(AT_FDCWD, wh, S_IFREG | 0600, 0);
		if (ret < 0 && ret != -EEXIST) {
			goto out;
		}
	}
	if (res->where == FVM_UPPER) {
		if (is_dir) {
			wh_unlink_all(res->rpath, &whs);
		}
		ret = sys_unlinkat(AT_FDCWD, res->rpath, is_dir ? AT_REMOVEDIR : 0);
		if (ret < 0) {
			goto out;
		}
	}
	res->where = FVM_ABSENT;
	res->whiteout = host;
	ret = 0;
out:
	wh_free(&whs);
	return ret;
}

/* Checks MODE access to directory RPATH for the effective ids; 0 or -EACCES. */
static int dir_access(const char *rpath, int mode)
{
	return sys_host_access(AT_FDCWD, rpath, mode, AT_EACCESS);
}

int fvm_may_change_parent(const struct fvm_vm *vm, const struct fvm_res *res, bool removing)
{
	char parent[FVM_VPATH_MAX], up[FVM_RPATH_MAX];
	size_t pl = fvm_path_base_off(res->vpath, res->vlen);
	struct stat ust, hst;
	bool have_upper = false, have_host = false;
	int ret;

	if (vm->is_root || res->klass == FVM_CLASS_SHARED) {
		return 0; /* the kernel decides on the host path itself */
	}
	memcpy(parent, res->vpath, pl > 1 ? pl - 1 : 1);
	parent[pl > 1 ? pl - 1 : 1] = '\0';
	if (res->parent_upper && fvm_upper_path(vm, parent, up, sizeof(up)) >= 0 &&
	    sys_lstat(up, &ust) == 0) {
		have_upper = true;
	}
	char lower[FVM_RPATH_MAX];
	const char *hpath = parent;
	if (res->parent_layers && fvm_layer_count(vm)) {
		/* The parent's lower directory may be a layer's (its modes are the host's). */
		if (fvm_lower_lookup(vm, parent, lower, sizeof(lower), &hst) > 0) {
			have_host = true;
			hpath = lower;
		}
	} else if (res->parent_host && sys_lstat(parent, &hst) == 0) {
		have_host = true;
	}
	/* The upper copy speaks for the host only when it could keep the host's owner. */
	if (have_upper && (!have_host || ust.st_uid == hst.st_uid)) {
		ret = dir_access(up, W_OK | X_OK);
		have_host = false;
	} else if (have_host) {
		ret = dir_access(hpath, W_OK | X_OK);
		ust = hst;
	} else {
		ret = have_upper ? dir_access(up, W_OK | X_OK) : -ENOENT;
	}
	if (ret < 0) {
		return ret;
	}
	if (removing && !vm->fowner && (ust.st_mode & S_ISVTX) && res->where != FVM_ABSENT) {
		uid_t me = sys_geteuid();
		if (fvm_host_view(res, &hst)->st_uid != me && ust.st_uid != me) {
			return -EPERM;
		}
	}
	return 0;
}
