/*
 * metaguard.c — the metadata guard (run.h): the run's supervisor answers the seccomp
 * notification of every call that changes an inode's metadata — mode, owner, times,
 * xattrs, inode flags — which Landlock has no right for, in a run whose host is not
 * read-only (an unprivileged run; a root run without rootfence.c's namespace). Where
 * the host is read-only (a root run), only an executable's own calls by name come here:
 * the VM's object is changed (virt_meta_object, below), anything else continued.
 *
 * Rules:
 *  - Every such call is performed HERE, never continued (but see a root run's, below): the path is read once from the
 *    caller's memory and resolved as the caller would (its root with RESOLVE_IN_ROOT for
 *    an absolute path, its working directory or its DIRFD for a relative one; the call's
 *    own follow rule: chown follows, lchown and AT_SYMLINK_NOFOLLOW do not; AT_EMPTY_PATH
 *    names DIRFD itself) to an O_PATH fd, or the caller's fd is copied (pidfd_getfd); the
 *    decision is taken on that inode, and the change is made through it (fchmodat2 and
 *    fchownat with AT_EMPTY_PATH, utimensat AT_EMPTY_PATH, the xattr calls on
 *    "/proc/self/fd/N", the fd calls and ioctl on the copy). The inode checked is the
 *    inode changed, whatever the VM does to its memory or its fds meanwhile.
 *  - Allowed: an object beneath a tree Landlock lets the VM write (fence_writable_trees:
 *    the VM's data area, the shared paths, /dev/pts, /dev/shm, /dev/mqueue; a listed
 *    device file itself), judged by its current path (readlink of /proc/self/fd/N; the
 *    " (deleted)" of an unlinked object stripped only when it has no link left; a path
 *    longer than that link can give, by the identity of each directory above it, the
 *    holder of a non-directory found by the caller's dirfd and name); a pipe
 *    or a socket (no file of the host's trees); a memfd. Anything else is EACCES, what
 *    Landlock gives for a refused write. The object's links are not counted: a file with
 *    several links beneath a writable tree has its content writable by the same rule,
 *    and Landlock refuses to link a host file into a writable tree (REFER, EXDEV).
 *  - The result is the kernel's for the caller: the change runs under notify_as with the
 *    caller's fsuid, fsgid and groups, so ownership and permission checks are its own.
 *  - The notification id is checked after each read of the caller (memory, fds, /proc):
 *    a pid reused meanwhile gets nothing.
 *  - The caller's ABI is honoured: i386's 16-bit chown, lchown and fchown (0xffff is -1),
 *    its 32-bit utimbuf, timeval and timespec (utimensat; utimensat_time64 is 64-bit),
 *    its FS_IOC32_* ioctl commands (performed as the native ones).
 *  - Dynamic programs meet this only for their own objects: libfvm copies a host object
 *    up and changes the copy in the data area (libfvm/attr.c). A call by path from an
 *    executable's own code is virtualized the same way: its object is the VM's,
 *    resolved (and a host object copied up) by virtguard.c's virt_meta_object, then
 *    judged and changed here like any other.
 *  - A root run's caller (rootfence.c's namespace, host read-only) is notified only for
 *    those calls by name (seccomp.c, virt_prologue); any other of its calls here (an
 *    fd, an empty path, a call virt_meta_object leaves) is continued: the kernel answers
 *    it in that namespace as it did before the rows, EROFS for a host file.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "run.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#define SYS_SETXATTRAT    463 /* Linux 6.13; libseccomp 2.5 does not know them */
#define SYS_REMOVEXATTRAT 466
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef FS_IOC32_SETFLAGS
#define FS_IOC32_SETFLAGS _IOW('f', 2, int)
#endif
#ifndef FS_IOC32_SETVERSION
#define FS_IOC32_SETVERSION _IOW('v', 2, int)
#endif
#define EXT4_IOC_SETVERSION   META_EXT4_IOC_SETVERSION
#define EXT4_IOC32_SETVERSION META_EXT4_IOC32_SETVERSION
#define EXT4_IOC_MIGRATE      META_EXT4_IOC_MIGRATE

/* What a call names, and how. */
enum meta_op { M_CHMOD, M_CHOWN, M_UTIMES, M_SETXATTR, M_REMOVEXATTR };
enum meta_target {
	T_PATH,    /* arg 0 a path */
	T_AT,      /* arg 0 a dirfd, arg 1 a path (NULL or "" with AT_EMPTY_PATH: the fd) */
	T_FD,      /* arg 0 an fd */
};
enum meta_time {
	TM_NONE,
	TM_UTIMBUF,   /* struct utimbuf (i386: two 32-bit longs) */
	TM_TIMEVAL,   /* struct timeval[2] (i386: 32-bit) */
	TM_TIMESPEC,  /* struct timespec[2] (i386 utimensat: 32-bit) */
	TM_TIMESPEC64 /* i386 utimensat_time64 */
};

/* The calls notify.c routes here. FLAGS_ARG: the argument holding AT_* flags (-1: none);
 * NOFOLLOW: the call never follows a final symlink. */
static const struct meta_call {
	const char *name;
	enum meta_op op;
	enum meta_target target;
	int flags_arg;
	bool nofollow;
	enum meta_time time;
} calls[] = {
	{"chmod", M_CHMOD, T_PATH, -1, false, TM_NONE},
	{"fchmod", M_CHMOD, T_FD, -1, false, TM_NONE},
	{"fchmodat", M_CHMOD, T_AT, -1, false, TM_NONE},
	{"fchmodat2", M_CHMOD, T_AT, 3, false, TM_NONE},
	{"chown", M_CHOWN, T_PATH, -1, false, TM_NONE},
	{"lchown", M_CHOWN, T_PATH, -1, true, TM_NONE},
	{"fchown", M_CHOWN, T_FD, -1, false, TM_NONE},
	{"chown32", M_CHOWN, T_PATH, -1, false, TM_NONE},
	{"lchown32", M_CHOWN, T_PATH, -1, true, TM_NONE},
	{"fchown32", M_CHOWN, T_FD, -1, false, TM_NONE},
	{"fchownat", M_CHOWN, T_AT, 4, false, TM_NONE},
	{"utime", M_UTIMES, T_PATH, -1, false, TM_UTIMBUF},
	{"utimes", M_UTIMES, T_PATH, -1, false, TM_TIMEVAL},
	{"futimesat", M_UTIMES, T_AT, -1, false, TM_TIMEVAL},
	{"utimensat", M_UTIMES, T_AT, 3, false, TM_TIMESPEC},
	{"utimensat_time64", M_UTIMES, T_AT, 3, false, TM_TIMESPEC64},
	{"setxattr", M_SETXATTR, T_PATH, -1, false, TM_NONE},
	{"lsetxattr", M_SETXATTR, T_PATH, -1, true, TM_NONE},
	{"fsetxattr", M_SETXATTR, T_FD, -1, false, TM_NONE},
	{"removexattr", M_REMOVEXATTR, T_PATH, -1, false, TM_NONE},
	{"lremovexattr", M_REMOVEXATTR, T_PATH, -1, true, TM_NONE},
	{"fremovexattr", M_REMOVEXATTR, T_FD, -1, false, TM_NONE},
};

#define NCALLS (sizeof(calls) / sizeof(calls[0]))

/* Each call's number on x86_64 and i386, resolved on first use. */
static int call_nr[2][NCALLS];
static bool resolved;

static const struct meta_call *call_of(const struct seccomp_data *d, bool *compat)
{
	static const uint32_t arches[2] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86};

	if (!resolved) {
		for (size_t a = 0; a < 2; a++) {
			for (size_t i = 0; i < NCALLS; i++) {
				call_nr[a][i] = seccomp_syscall_resolve_name_arch(arches[a], calls[i].name);
			}
		}
		resolved = true;
	}
	for (size_t a = 0; a < 2; a++) {
		if (d->arch != arches[a]) {
			continue;
		}
		*compat = a == 1;
		for (size_t i = 0; i < NCALLS; i++) {
			if (call_nr[a][i] == d->nr) {
				return &calls[i];
			}
		}
	}
	return NULL;
}

int meta_guard_prepare(struct meta_guard *g, const struct exec_settings *s, const char *vmdir, const char *shmdir)
{
	struct fence_tree trees[FENCE_MAX_TREES];
	size_t n = fence_writable_trees(s, vmdir, shmdir, trees, FENCE_MAX_TREES);

	g->n = 0;
	for (size_t i = 0; i < n; i++) {
		char *p = realpath(trees[i].path, NULL);
		if (!p) {
			if (errno == ENOMEM) {
				return -ENOMEM;
			}
			continue; /* absent here: Landlock grants nothing there either */
		}
		struct stat st;
		if (stat(p, &st) < 0) {
			free(p);
			continue;
		}
		g->tree[g->n].path = p;
		g->tree[g->n].dev = st.st_dev;
		g->tree[g->n].ino = st.st_ino;
		g->tree[g->n++].file = trees[i].kind == FENCE_TREE_DEVICE;
	}
	return 0;
}

/* Whether PATH is BASE or beneath it. */
static bool beneath(const char *path, const char *base)
{
	size_t l = strlen(base);

	if (l == 1 && base[0] == '/') {
		return path[0] == '/';
	}
	return strncmp(path, base, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

/*
 * Whether the directory DIR (an fd, closed here) is a writable tree or lies beneath one,
 * by identity: each ".." up to the root compared with the trees'. For an object whose
 * path is longer than /proc's link can give (ENAMETOOLONG).
 */
static bool beneath_by_identity(const struct meta_guard *g, int dir)
{
	for (int depth = 0; dir >= 0 && depth < PATH_MAX / 2; depth++) {
		struct stat st, up;
		if (fstat(dir, &st) < 0) {
			break;
		}
		for (size_t i = 0; i < g->n; i++) {
			if (!g->tree[i].file && g->tree[i].dev == st.st_dev && g->tree[i].ino == st.st_ino) {
				close(dir);
				return true;
			}
		}
		int next = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(dir);
		dir = next;
		if (dir < 0 || fstat(dir, &up) < 0 || (up.st_dev == st.st_dev && up.st_ino == st.st_ino)) {
			break; /* the root: beneath no tree */
		}
	}
	if (dir >= 0) {
		close(dir);
	}
	return false;
}

/*
 * The directory holding the object whose status is ST by its name PATH relative to
 * DIRFD, checked to hold that very inode under that name; -1 when it cannot be told.
 */
static int holder_of(int dirfd, const char *path, const struct stat *st)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	struct stat here;
	int fd;

	if (dirfd < 0 || !*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		return -1;
	}
	if (!slash) {
		fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		size_t l = slash == path ? 1 : (size_t)(slash - path);
		memcpy(dir, path, l);
		dir[l] = '\0';
		struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				       .resolve = path[0] == '/' ? RESOLVE_IN_ROOT : 0};
		fd = (int)syscall(SYS_openat2, dirfd, dir, &how, sizeof(how));
	}
	if (fd >= 0 && (fstatat(fd, base, &here, AT_SYMLINK_NOFOLLOW) < 0 || here.st_dev != st->st_dev ||
			here.st_ino != st->st_ino)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Whether the VM may change the metadata of FD's object (an fd of the supervisor's).
 * DIRFD and PATH (or -1 and NULL) name it as the caller did, for an object whose path
 * /proc cannot give (longer than PATH_MAX): then it is judged by the identity of the
 * directories above it.
 */
static bool allowed(const struct meta_guard *g, int fd, int dirfd, const char *path_arg)
{
	static const char deleted[] = " (deleted)";
	char link[64], path[PATH_MAX];
	struct stat st;
	struct statfs sf;

	if (fstat(fd, &st) < 0) {
		return false;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n < 0 && errno == ENAMETOOLONG) {
		if (S_ISDIR(st.st_mode)) {
			return beneath_by_identity(g, openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
		}
		return path_arg && st.st_nlink > 0 && beneath_by_identity(g, holder_of(dirfd, path_arg, &st));
	}
	if (n <= 0) {
		return false;
	}
	path[n] = '\0';
	if (path[0] != '/') { /* "pipe:[N]", "socket:[N]": no file of the host's trees */
		return (S_ISFIFO(st.st_mode) && strncmp(path, "pipe:", 5) == 0) ||
		       (S_ISSOCK(st.st_mode) && strncmp(path, "socket:", 7) == 0);
	}
	size_t dl = sizeof(deleted) - 1;
	if (st.st_nlink == 0 && (size_t)n > dl && strcmp(path + n - dl, deleted) == 0) {
		path[n - dl] = '\0';
		if (strncmp(path, "/memfd:", 7) == 0 && strchr(path + 1, '/') == NULL && fstatfs(fd, &sf) == 0 &&
		    (sf.f_type == TMPFS_MAGIC || sf.f_type == HUGETLBFS_MAGIC)) {
			return true; /* memfd_create's: on the kernel's internal mount, no host file */
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		if (g->tree[i].file ? strcmp(path, g->tree[i].path) == 0 : beneath(path, g->tree[i].path)) {
			return true;
		}
	}
	return false;
}

/* The change itself, as the caller asked it (its arguments read and converted). */
struct change {
	const struct meta_guard *g;
	const struct meta_call *c;
	int obj;             /* an O_PATH fd of the object, or (T_FD, empty path) a copy of the caller's fd */
	int dirfd;           /* the caller's directory PATH is relative to, -1: none */
	const char *path;    /* the object's name as the caller gave it, NULL: none */
	bool is_fd;          /* OBJ is the caller's fd itself: fd calls, with their semantics */
	bool vm_object;      /* OBJ is the VM's own object, opened beneath upper/ with no link
				(virt_meta_object): allowed by construction (and the caller's fs
				ids may not read /proc/self/fd of the supervisor) */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	const struct timespec *ts; /* NULL: now */
	struct timespec tsbuf[2];
	const char *name;    /* xattr */
	const void *value;
	size_t size;
	int xflags;
};

struct xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

static long perform(void *arg)
{
	const struct change *ch = arg;
	char proc[64];
	struct stat st;
	long r;

	if (!ch->vm_object && !allowed(ch->g, ch->obj, ch->dirfd, ch->path)) {
		return -EACCES;
	}
	if (fstat(ch->obj, &st) < 0) {
		return -errno;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", ch->obj);
	switch (ch->c->op) {
	case M_CHMOD:
		if (ch->is_fd) {
			r = fchmod(ch->obj, ch->mode);
		} else if (S_ISLNK(st.st_mode)) {
			return -EOPNOTSUPP; /* Linux cannot chmod a symlink */
		} else {
			r = syscall(SYS_fchmodat2, ch->obj, "", ch->mode, AT_EMPTY_PATH);
			if (r < 0 && errno == ENOSYS) {
				r = chmod(proc, ch->mode);
			}
		}
		break;
	case M_CHOWN:
		r = ch->is_fd ? fchown(ch->obj, ch->uid, ch->gid)
			      : fchownat(ch->obj, "", ch->uid, ch->gid, AT_EMPTY_PATH);
		break;
	case M_UTIMES:
		r = ch->is_fd ? syscall(SYS_utimensat, ch->obj, NULL, ch->ts, 0) /* futimens: the fd's own rules */
			      : utimensat(ch->obj, "", ch->ts, AT_EMPTY_PATH);
		break;
	case M_SETXATTR:
		if (ch->is_fd) {
			r = fsetxattr(ch->obj, ch->name, ch->value, ch->size, ch->xflags);
		} else if (S_ISLNK(st.st_mode)) {
			struct xattr_args xa = {(uint64_t)(uintptr_t)ch->value, (uint32_t)ch->size, (uint32_t)ch->xflags};
			r = syscall(SYS_SETXATTRAT, ch->obj, "", AT_EMPTY_PATH, ch->name, &xa, sizeof(xa));
			if (r < 0 && errno == ENOSYS) {
				errno = EPERM; /* an older kernel: what user.* on a symlink gets */
			}
		} else {
			r = setxattr(proc, ch->name, ch->value, ch->size, ch->xflags);
		}
		break;
	case M_REMOVEXATTR:
		if (ch->is_fd) {
			r = fremovexattr(ch->obj, ch->name);
		} else if (S_ISLNK(st.st_mode)) {
			r = syscall(SYS_REMOVEXATTRAT, ch->obj, "", AT_EMPTY_PATH, ch->name);
			if (r < 0 && errno == ENOSYS) {
				errno = EPERM;
			}
		} else {
			r = removexattr(proc, ch->name);
		}
		break;
	default:
		return -ENOSYS;
	}
	return r < 0 ? -errno : 0;
}

/* The times at ADDR in PID, in the call's format, into CH (ADDR 0: now). 0 or -errno. */
static int read_times(pid_t pid, uint64_t addr, enum meta_time how, bool compat, struct change *ch)
{
	int32_t w[4];
	int64_t q[4];

	ch->ts = NULL;
	if (addr == 0) {
		return 0;
	}
	if (compat && how != TM_TIMESPEC64) {
		size_t len = how == TM_UTIMBUF ? 2 * sizeof(int32_t) : 4 * sizeof(int32_t);
		if (notify_read(pid, addr, w, len) < 0) {
			return -EFAULT;
		}
		for (int i = 0; i < 4; i++) {
			q[i] = i < (int)(len / sizeof(int32_t)) ? w[i] : 0;
		}
	} else {
		size_t len = how == TM_UTIMBUF ? 2 * sizeof(int64_t) : 4 * sizeof(int64_t);
		if (notify_read(pid, addr, q, len) < 0) {
			return -EFAULT;
		}
	}
	switch (how) {
	case TM_UTIMBUF: /* actime, modtime: whole seconds */
		ch->tsbuf[0] = (struct timespec){.tv_sec = q[0]};
		ch->tsbuf[1] = (struct timespec){.tv_sec = q[1]};
		break;
	case TM_TIMEVAL:
		for (int i = 0; i < 2; i++) {
			if (q[2 * i + 1] < 0 || q[2 * i + 1] >= 1000000) {
				return -EINVAL;
			}
			ch->tsbuf[i] = (struct timespec){.tv_sec = q[2 * i], .tv_nsec = q[2 * i + 1] * 1000};
		}
		break;
	case TM_NONE:
	case TM_TIMESPEC:
	case TM_TIMESPEC64: /* the kernel checks tv_nsec (UTIME_NOW, UTIME_OMIT pass) */
		for (int i = 0; i < 2; i++) {
			/* i386's UTIME_NOW and UTIME_OMIT are the same 30-bit values */
			ch->tsbuf[i] = (struct timespec){.tv_sec = q[2 * i], .tv_nsec = q[2 * i + 1]};
		}
		break;
	}
	ch->ts = ch->tsbuf;
	return 0;
}

/* i386's 16-bit uids: 0xffff is "unchanged" (the kernel's low2highuid). */
static uint32_t id16(__u64 v)
{
	return (uint16_t)v == 0xffff ? (uint32_t)-1 : (uint16_t)v;
}

long meta_guard_call(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	const __u64 *a = req->data.args;
	pid_t pid = (pid_t)req->pid;
	bool compat = false;
	const struct meta_call *c = call_of(&req->data, &compat);
	struct change ch = {.g = &n->meta, .c = c, .obj = -1, .dirfd = -1};
	char path[PATH_MAX], name[XATTR_NAME_MAX + 1];
	void *value = NULL;
	int dirfd = -1, flags = 0, p = 0; /* P: the index of the first argument after the target */
	long r;

	*cont = false;
	if (!c) {
		return -ENOSYS;
	}
	if (c->flags_arg >= 0) {
		flags = (int)(uint32_t)a[c->flags_arg];
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
			return -EINVAL; /* the kernel's answer to any other flag */
		}
	}
	/* The object. */
	if (c->target == T_FD) {
		p = 1;
		if ((ch.obj = notify_getfd(pid, (int)(uint32_t)a[0])) < 0) {
			return ch.obj;
		}
		ch.is_fd = true;
	} else {
		p = c->target == T_AT ? 2 : 1;
		uint64_t paddr = a[p - 1];
		int at = c->target == T_AT ? (int)(uint32_t)a[0] : AT_FDCWD;
		bool empty_ok = (flags & AT_EMPTY_PATH) || (c->op == M_UTIMES && c->target == T_AT && paddr == 0);
		if (c->op == M_UTIMES && c->target == T_AT && paddr == 0) {
			if (at == AT_FDCWD || flags) { /* the kernel's answers: no path, no fd */
				return at == AT_FDCWD ? -EFAULT : -EINVAL;
			}
			path[0] = '\0'; /* utimensat(fd, NULL): futimens */
		} else if ((r = notify_read_str(pid, paddr, path, sizeof(path))) < 0) {
			return r;
		}
		if (path[0] == '\0' && !empty_ok) {
			return -ENOENT;
		}
		/* A root run's caller (only an executable's own calls by name are notified
		 * there, seccomp.c): anything but the VM's object by name is the kernel's to
		 * answer, on a read-only host, as before the rows. */
		bool host_ro = virt_host_ro_caller(pid);
		if (host_ro && path[0] == '\0') {
			*cont = true;
			return 0;
		}
		if (path[0] == '\0') {
			/* The dirfd itself (futimens, AT_EMPTY_PATH): its calls' semantics. */
			ch.obj = at == AT_FDCWD ? notify_dirfd(pid, AT_FDCWD, ".") : notify_getfd(pid, at);
			if (ch.obj < 0) {
				return ch.obj;
			}
			ch.is_fd = at != AT_FDCWD && !(flags & AT_EMPTY_PATH);
		} else if ((ch.obj = virt_meta_object(n, req, at, path, c->nofollow || (flags & AT_SYMLINK_NOFOLLOW),
						      c->op != M_UTIMES)) != -ENOSYS) {
			/* An executable's own call, in the VM: the object there (a host one
			 * copied up first), judged and changed below as any other. */
			if (ch.obj < 0) {
				return ch.obj;
			}
			ch.vm_object = true;
		} else if (host_ro) {
			*cont = true;
			return 0;
		} else {
			if ((dirfd = notify_dirfd(pid, at, path)) < 0) {
				return dirfd;
			}
			if (!notify_valid(n, req->id)) {
				r = -ESRCH;
				goto out;
			}
			bool nofollow = c->nofollow || (flags & AT_SYMLINK_NOFOLLOW);
			struct open_how how = {.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
					       .resolve = path[0] == '/' ? RESOLVE_IN_ROOT : 0};
			ch.obj = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
			if (ch.obj < 0) {
				r = -errno;
				goto out;
			}
			ch.dirfd = dirfd;
			ch.path = path;
		}
	}
	if (!notify_valid(n, req->id)) {
		r = -ESRCH;
		goto out;
	}
	/* The change's arguments. */
	switch (c->op) {
	case M_CHMOD:
		ch.mode = (mode_t)(uint32_t)a[p];
		break;
	case M_CHOWN: {
		bool narrow = compat && (strcmp(c->name, "chown") == 0 || strcmp(c->name, "lchown") == 0 ||
					 strcmp(c->name, "fchown") == 0);
		ch.uid = narrow ? id16(a[p]) : (uid_t)(uint32_t)a[p];
		ch.gid = narrow ? id16(a[p + 1]) : (gid_t)(uint32_t)a[p + 1];
		break;
	}
	case M_UTIMES:
		if ((r = read_times(pid, a[p], c->time, compat, &ch)) < 0) {
			goto out;
		}
		break;
	case M_SETXATTR:
	case M_REMOVEXATTR:
		if ((r = notify_read_str(pid, a[p], name, sizeof(name))) < 0) {
			r = r == -ENAMETOOLONG ? -ERANGE : r; /* the kernel's answer for a long name */
			goto out;
		}
		ch.name = name;
		if (c->op == M_SETXATTR) {
			ch.size = (size_t)a[p + 2];
			ch.xflags = (int)(uint32_t)a[p + 3];
			if (ch.size > XATTR_SIZE_MAX) {
				r = -E2BIG;
				goto out;
			}
			if (ch.size && !(value = malloc(ch.size))) {
				r = -ENOMEM;
				goto out;
			}
			if (ch.size && notify_read(pid, a[p + 1], value, ch.size) < 0) {
				r = -EFAULT;
				goto out;
			}
			ch.value = value;
		}
		break;
	}
	if (!notify_valid(n, req->id)) {
		r = -ESRCH;
		goto out;
	}
	r = notify_as(pid, perform, &ch);
out:
	free(value);
	if (ch.obj >= 0) {
		close(ch.obj);
	}
	if (dirfd >= 0) {
		close(dirfd);
	}
	return r;
}

/* The ioctl's argument, read from the caller, and its native command. */
struct ioctl_change {
	const struct meta_guard *g;
	int fd;
	unsigned long cmd;
	union {
		int i;
		struct fsxattr fsx;
	} arg;
	bool noarg;
};

static long perform_ioctl(void *arg)
{
	struct ioctl_change *ic = arg;

	if (!allowed(ic->g, ic->fd, -1, NULL)) {
		return -EACCES;
	}
	long r = ic->noarg ? ioctl(ic->fd, ic->cmd) : ioctl(ic->fd, ic->cmd, &ic->arg);
	return r < 0 ? -errno : r;
}

long meta_guard_ioctl(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	const __u64 *a = req->data.args;
	pid_t pid = (pid_t)req->pid;
	uint32_t cmd = (uint32_t)a[1]; /* the kernel's command: the low 32 bits */
	struct ioctl_change ic = {.g = &n->meta, .fd = -1};
	size_t len = sizeof(int);
	long r;

	*cont = false;
	switch (cmd) {
	case (uint32_t)FS_IOC_SETFLAGS:
	case (uint32_t)FS_IOC32_SETFLAGS:
		ic.cmd = FS_IOC_SETFLAGS; /* both read an int */
		break;
	case (uint32_t)FS_IOC_SETVERSION:
	case (uint32_t)FS_IOC32_SETVERSION:
		ic.cmd = FS_IOC_SETVERSION;
		break;
	case (uint32_t)EXT4_IOC_SETVERSION:
	case (uint32_t)EXT4_IOC32_SETVERSION:
		ic.cmd = EXT4_IOC_SETVERSION;
		break;
	case (uint32_t)FS_IOC_FSSETXATTR:
		ic.cmd = FS_IOC_FSSETXATTR; /* the same fixed-size struct in both ABIs */
		len = sizeof(struct fsxattr);
		break;
	case (uint32_t)EXT4_IOC_MIGRATE:
		ic.cmd = EXT4_IOC_MIGRATE;
		ic.noarg = true;
		len = 0;
		break;
	default:
		return -ENOSYS; /* a filter and this switch out of step: fail closed */
	}
	if ((ic.fd = notify_getfd(pid, (int)(uint32_t)a[0])) < 0) {
		return ic.fd;
	}
	if (len && notify_read(pid, a[2], &ic.arg, len) < 0) {
		r = -EFAULT;
		goto out;
	}
	if (!notify_valid(n, req->id)) {
		r = -ESRCH;
		goto out;
	}
	r = notify_as(pid, perform_ioctl, &ic);
out:
	close(ic.fd);
	return r;
}
