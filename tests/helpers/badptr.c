/*
 * badptr.c — calls every exported wrapper of libfvm (libfvm/wrapped.list) with a bad
 * pointer in each pointer argument, in turn, and prints one line per call: what it
 * returned and errno, or "crashed with signal N". Run natively and inside a VM over the
 * same tree (tests/preload/t_badptr.sh), the two outputs must be equal: a wrapper
 * gives what the kernel and glibc give (EFAULT, EINVAL...), and where glibc itself
 * crashes natively, the VM crashes the same way.
 *
 *   badptr [-b KIND,...] [FILTER]
 *                        runs the cases whose name contains FILTER (all without one)
 *                        with the bad values named (all without -b): NULL, 1,
 *                        unmapped, kernel, crossing
 *
 * Rules:
 *  - Each case runs in a child of its own (a crash or an exec ends only that child) and
 *    reports through a pipe; the parent prints the line, so the output is one line per
 *    case and bad value in a fixed order.
 *  - The bad values: NULL, (void *)1 (the zero page), a page of user space where
 *    nothing is mapped, an address beyond user space, and "crossing": a string (or
 *    buffer) whose last 8 mapped bytes are followed by an unmapped page.
 *  - Cases name good arguments relative to the cwd, which the test prepares: a file
 *    "f", a directory "d", a symbolic link "l" to f. What a case creates on success is
 *    compared by the test's tree check.
 *  - Results that vary from run to run (fd numbers, pointers, pids) print as "ok" or
 *    "non-NULL"; lengths and error numbers print exactly.
 *  - A wrapper without a pointer argument is named in a "none" case that calls it once
 *    with good arguments, so that every name of wrapped.list appears here
 *    (t_badptr.sh checks the list against this table).
 */
#include <aliases.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <iconv.h>
#include <libintl.h>
#include <locale.h>
#include <netinet/ether.h>
#include <nl_types.h>
#include <pwd.h>
#include <limits.h>
#include <mntent.h>
#include <mqueue.h>
#include <netdb.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <spawn.h>
#include <stdint.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "legacy_calls.h"

#pragma GCC diagnostic ignored "-Wnonnull"
#pragma GCC diagnostic ignored "-Wrestrict"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wuse-after-free"

/* Names glibc exports for old binaries or for _FORTIFY_SOURCE but no longer declares. */
struct stat64;
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len, size_t buflen);
char *__getcwd_chk(char *buf, size_t size, size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev);
mqd_t __mq_open_2(const char *name, int oflag);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *sa,
		       socklen_t *len);

extern char **environ;

struct result {
	char kind; /* 'i': an integer, 'p': a pointer, 'v': none */
	long l;
	int ptr_null;
	int err;
};

static int walk_fn(const char *p, const struct stat *st, int type)
{
	(void)p, (void)st, (void)type;
	return 0;
}

static int nwalk_fn(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)p, (void)st, (void)type, (void)f;
	return 0;
}

static int ftw64_fn(const char *p, const struct stat64 *st, int type)
{
	(void)p, (void)st, (void)type;
	return 0;
}

static int nftw64_fn(const char *p, const struct stat64 *st, int type, struct FTW *f)
{
	(void)p, (void)st, (void)type, (void)f;
	return 0;
}

/* A case: NM is its name, EXPR a call in which P stands for the bad pointer. */
#define CASE_HEAD(nm)                                                                  \
	case __COUNTER__:                                                              \
		*name = nm;                                                            \
		if (!go)                                                               \
			return;                                                        \
		errno = 0;
#define I(nm, expr)                                                                    \
	CASE_HEAD(nm)                                                                  \
	r->kind = 'i';                                                                 \
	r->l = (long)(expr);                                                           \
	r->err = errno;                                                                \
	return;
/* A call that returns a new fd: its number may differ in a VM (libfvm's own fds). */
#define FD(nm, expr) I(nm, (expr) >= 0 ? 0L : -1L)
#define PT(nm, expr)                                                                   \
	CASE_HEAD(nm)                                                                  \
	r->kind = 'p';                                                                 \
	r->ptr_null = (expr) == NULL;                                                  \
	r->err = errno;                                                                \
	return;
#define V(nm, stmt)                                                                    \
	CASE_HEAD(nm)                                                                  \
	r->kind = 'v';                                                                 \
	stmt;                                                                          \
	r->err = errno;                                                                \
	return;

static const int first_case = __COUNTER__ + 1;

/*
 * Case IDX with bad pointer P: sets *NAME; runs it and fills R when GO. Returns with
 * *NAME NULL past the last case. Good objects are made here, in the child, first.
 */
static void run_case(int idx, void *P, bool go, const char **name, struct result *r)
{
	struct stat st;
	struct statx stx;
	struct statfs sfs;
	struct statvfs svfs;
	char buf[PATH_MAX];
	struct dirent ent, *entp;
	struct dirent64 ent64, *entp64;
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	struct timeval tv[2] = {{1, 0}, {1, 0}};
	struct utimbuf ub = {1, 1};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct msghdr mh = {0};
	struct mmsghdr mmh = {0};
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	struct hostent he, *hep;
	struct passwd pw, *pwp;
	struct tm tmv;
	time_t tnow = 86400;
	struct group gr, *grp;
	struct spwd spw, *spwp;
	struct servent se, *sep;
	struct ether_addr ea = {{0}};
	gid_t groups[256];
	int ngroups = 256;
	char *ng_h, *ng_u, *ng_d;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	struct addrinfo *ai;
	int herr, mid;
	dev_t dev = 0;
	pid_t pid;
	glob_t g;
	glob64_t g64;
	struct dirent **list;
	struct dirent64 **list64;
	posix_spawn_file_actions_t fa;
	char *argv[] = {"true", NULL};
	char *envp[] = {"A=1", NULL};
	char *fts_argv[] = {"d", NULL};
	char *fts_badv[] = {P, NULL};
	char tmpl[] = "tXXXXXX";
	int fd = -1, dfd = -1, ifd = -1, sp[2] = {-1, -1}, ls = -1;
	FILE *fp = NULL;
	DIR *dir = NULL;
	FTS *fts = NULL;
	FTSENT *fe = NULL;

	if (go) {
		fd = open("f", O_RDWR);
		dfd = open("d", O_RDONLY | O_DIRECTORY);
		ifd = inotify_init1(IN_CLOEXEC);
		fp = fopen("f", "r");
		dir = opendir("d");
		fh->handle_bytes = MAX_HANDLE_SZ;
		posix_spawn_file_actions_init(&fa);
		fts = fts_open(fts_argv, FTS_PHYSICAL, NULL);
		fe = fts ? fts_read(fts) : NULL;
		/* A datagram pair with one byte waiting, and a listener with one caller. */
		socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
		send(sp[1], "x", 1, 0);
		ls = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				 (size_t)snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
						  "fvm-badptr-%d", (int)getpid()));
		if (bind(ls, (struct sockaddr *)&sun, sl) == 0 && listen(ls, 1) == 0) {
			int c = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(c, (struct sockaddr *)&sun, sl) < 0) {
				perror("badptr: connect");
			}
		}
		sl = sizeof(ss);
	}

	switch (idx) {
	/* open.c */
	FD("open(P)", open(P, O_RDONLY))
	FD("open64(P)", open64(P, O_RDONLY))
	FD("openat(cwd,P)", openat(AT_FDCWD, P, O_RDONLY))
	FD("openat64(cwd,P)", openat64(AT_FDCWD, P, O_RDONLY))
	FD("creat(P)", creat(P, 0600))
	FD("creat64(P)", creat64(P, 0600))
	FD("__open_2(P)", __open_2(P, O_RDONLY))
	FD("__open64_2(P)", __open64_2(P, O_RDONLY))
	FD("__openat_2(cwd,P)", __openat_2(AT_FDCWD, P, O_RDONLY))
	FD("__openat64_2(cwd,P)", __openat64_2(AT_FDCWD, P, O_RDONLY))
	PT("fopen(P,r)", fopen(P, "r"))
	PT("fopen(f,P)", fopen("f", P))
	PT("fopen64(P,r)", fopen64(P, "r"))
	PT("fopen64(f,P)", fopen64("f", P))
	PT("freopen(P,r,fp)", freopen(P, "r", fp))
	PT("freopen(f,P,fp)", freopen("f", P, fp))
	PT("freopen(f,r,P)", freopen("f", "r", P))
	PT("freopen64(P,r,fp)", freopen64(P, "r", fp))
	PT("freopen64(f,P,fp)", freopen64("f", P, fp))
	PT("freopen64(f,r,P)", freopen64("f", "r", P))
	PT("setmntent(P,r)", setmntent(P, "r"))
	PT("setmntent(f,P)", setmntent("f", P))

	/* stat.c */
	I("stat(P,st)", stat(P, &st))
	I("stat(f,P)", stat("f", P))
	I("stat64(P,st)", stat64(P, (struct stat64 *)&st))
	I("stat64(f,P)", stat64("f", P))
	I("lstat(P,st)", lstat(P, &st))
	I("lstat(l,P)", lstat("l", P))
	I("lstat64(P,st)", lstat64(P, (struct stat64 *)&st))
	I("lstat64(l,P)", lstat64("l", P))
	I("fstatat(cwd,P,st,0)", fstatat(AT_FDCWD, P, &st, 0))
	I("fstatat(fd,P,st,EMPTY)", fstatat(fd, P, &st, AT_EMPTY_PATH))
	I("fstatat(cwd,f,P,0)", fstatat(AT_FDCWD, "f", P, 0))
	I("fstatat64(cwd,P,st,0)", fstatat64(AT_FDCWD, P, (struct stat64 *)&st, 0))
	I("fstatat64(cwd,f,P,0)", fstatat64(AT_FDCWD, "f", P, 0))
	I("statx(0,P,0,all,P) (Rust's probe)", statx(0, P, 0, STATX_ALL, P))
	I("statx(cwd,P,0,all,stx)", statx(AT_FDCWD, P, 0, STATX_ALL, &stx))
	I("statx(fd,P,EMPTY,all,stx)", statx(fd, P, AT_EMPTY_PATH, STATX_ALL, &stx))
	I("statx(cwd,f,0,all,P)", statx(AT_FDCWD, "f", 0, STATX_ALL, P))
	I("fstat(fd,P)", fstat(fd, P))
	I("fstat64(fd,P)", fstat64(fd, P))
	I("__fxstat(fd,P)", __fxstat(1, fd, P))
	I("__fxstat64(fd,P)", __fxstat64(1, fd, P))
	I("__xstat(P,st)", __xstat(1, P, &st))
	I("__xstat(f,P)", __xstat(1, "f", P))
	I("__xstat64(P,st)", __xstat64(1, P, (struct stat64 *)&st))
	I("__xstat64(f,P)", __xstat64(1, "f", P))
	I("__lxstat(P,st)", __lxstat(1, P, &st))
	I("__lxstat(l,P)", __lxstat(1, "l", P))
	I("__lxstat64(P,st)", __lxstat64(1, P, (struct stat64 *)&st))
	I("__lxstat64(l,P)", __lxstat64(1, "l", P))
	I("__fxstatat(cwd,P,st)", __fxstatat(1, AT_FDCWD, P, &st, 0))
	I("__fxstatat(cwd,f,P)", __fxstatat(1, AT_FDCWD, "f", P, 0))
	I("__fxstatat64(cwd,P,st)", __fxstatat64(1, AT_FDCWD, P, (struct stat64 *)&st, 0))
	I("__fxstatat64(cwd,f,P)", __fxstatat64(1, AT_FDCWD, "f", P, 0))
	I("access(P)", access(P, R_OK))
	I("faccessat(cwd,P)", faccessat(AT_FDCWD, P, R_OK, 0))
	I("faccessat(fd,P,EMPTY)", faccessat(fd, P, R_OK, AT_EMPTY_PATH))
	I("euidaccess(P)", euidaccess(P, R_OK))
	I("eaccess(P)", eaccess(P, R_OK))
	I("statfs(P,buf)", statfs(P, &sfs))
	I("statfs(f,P)", statfs("f", P))
	I("statfs64(P,buf)", statfs64(P, (struct statfs64 *)&sfs))
	I("statfs64(f,P)", statfs64("f", P))
	I("statvfs(P,buf)", statvfs(P, &svfs))
	I("statvfs(f,P)", statvfs("f", P))
	I("statvfs64(P,buf)", statvfs64(P, (struct statvfs64 *)&svfs))
	I("statvfs64(f,P)", statvfs64("f", P))
	I("pathconf(P)", pathconf(P, _PC_NAME_MAX))
	FD("inotify_add_watch(ifd,P)", inotify_add_watch(ifd, P, IN_ALL_EVENTS))
	I("name_to_handle_at(cwd,P,fh,mid)", name_to_handle_at(AT_FDCWD, P, fh, &mid, 0))
	I("name_to_handle_at(cwd,f,P,mid)", name_to_handle_at(AT_FDCWD, "f", P, &mid, 0))
	I("name_to_handle_at(cwd,f,fh,P)", name_to_handle_at(AT_FDCWD, "f", fh, P, 0))
	I("name_to_handle_at(fd,P,fh,mid,EMPTY)", name_to_handle_at(fd, P, fh, &mid, AT_EMPTY_PATH))

	/* link.c and name.c */
	I("mkdir(P)", mkdir(P, 0700))
	I("mkdirat(cwd,P)", mkdirat(AT_FDCWD, P, 0700))
	I("mknod(P)", mknod(P, S_IFIFO | 0600, 0))
	I("mknodat(cwd,P)", mknodat(AT_FDCWD, P, S_IFIFO | 0600, 0))
	I("__xmknod(P,dev)", __xmknod(0, P, S_IFIFO | 0600, &dev))
	I("__xmknod(n,P)", __xmknod(0, "n", S_IFIFO | 0600, P))
	I("__xmknodat(cwd,P,dev)", __xmknodat(0, AT_FDCWD, P, S_IFIFO | 0600, &dev))
	I("__xmknodat(cwd,n,P)", __xmknodat(0, AT_FDCWD, "n", S_IFIFO | 0600, P))
	I("mkfifo(P)", mkfifo(P, 0600))
	I("mkfifoat(cwd,P)", mkfifoat(AT_FDCWD, P, 0600))
	I("symlink(P,s)", symlink(P, "s"))
	I("symlink(f,P)", symlink("f", P))
	I("symlinkat(P,cwd,s)", symlinkat(P, AT_FDCWD, "s"))
	I("symlinkat(f,cwd,P)", symlinkat("f", AT_FDCWD, P))
	I("link(P,h)", link(P, "h"))
	I("link(f,P)", link("f", P))
	I("linkat(cwd,P,cwd,h)", linkat(AT_FDCWD, P, AT_FDCWD, "h", 0))
	I("linkat(cwd,f,cwd,P)", linkat(AT_FDCWD, "f", AT_FDCWD, P, 0))
	I("linkat(fd,P,cwd,h,EMPTY)", linkat(fd, P, AT_FDCWD, "h", AT_EMPTY_PATH))
	I("unlink(P)", unlink(P))
	I("unlinkat(cwd,P)", unlinkat(AT_FDCWD, P, 0))
	I("rmdir(P)", rmdir(P))
	I("remove(P)", remove(P))
	I("rename(P,r)", rename(P, "r"))
	I("rename(f,P)", rename("f", P))
	/* The kernel looks up both parents before the source itself: EFAULT, not ENOENT. */
	I("rename(missing,P)", rename("missing", P))
	I("renameat(cwd,P,cwd,r)", renameat(AT_FDCWD, P, AT_FDCWD, "r"))
	I("renameat(cwd,f,cwd,P)", renameat(AT_FDCWD, "f", AT_FDCWD, P))
	I("renameat2(cwd,P,cwd,r)", renameat2(AT_FDCWD, P, AT_FDCWD, "r", 0))
	I("renameat2(cwd,f,cwd,P)", renameat2(AT_FDCWD, "f", AT_FDCWD, P, 0))
	I("readlink(P,buf)", readlink(P, buf, sizeof(buf)))
	I("readlink(l,P)", readlink("l", P, sizeof(buf)))
	I("readlinkat(cwd,P,buf)", readlinkat(AT_FDCWD, P, buf, sizeof(buf)))
	I("readlinkat(cwd,l,P)", readlinkat(AT_FDCWD, "l", P, sizeof(buf)))
	I("__readlink_chk(P,buf)", __readlink_chk(P, buf, sizeof(buf), sizeof(buf)))
	I("__readlink_chk(l,P)", __readlink_chk("l", P, sizeof(buf), sizeof(buf)))
	I("__readlinkat_chk(cwd,P,buf)", __readlinkat_chk(AT_FDCWD, P, buf, sizeof(buf), sizeof(buf)))
	I("__readlinkat_chk(cwd,l,P)", __readlinkat_chk(AT_FDCWD, "l", P, sizeof(buf), sizeof(buf)))
	PT("realpath(P,buf)", realpath(P, buf))
	PT("realpath(f,P)", realpath("f", P))
	PT("__realpath_chk(P,buf)", __realpath_chk(P, buf, sizeof(buf)))
	PT("__realpath_chk(f,P)", __realpath_chk("f", P, sizeof(buf)))
	PT("canonicalize_file_name(P)", canonicalize_file_name(P))
	PT("getcwd(P,256)", getcwd(P, 256))
	PT("getwd(P)", LEGACY(getwd)(P))
	PT("__getcwd_chk(P,256)", __getcwd_chk(P, 256, 256))
	PT("get_current_dir_name() none", get_current_dir_name())
	I("chdir(P)", chdir(P))
	I("fchdir(fd) none", fchdir(dfd))

	/* fd.c */
	I("close(fd) none", close(fd))
	FD("dup(fd) none", dup(fd))
	I("fcntl(fd,GETLK,P)", fcntl(fd, F_GETLK, P))
	I("fcntl(fd,SETLK,P)", fcntl(fd, F_SETLK, P))
	I("fcntl64(fd,GETLK,P)", fcntl64(fd, F_GETLK, P))
	FD("dup2(fd,30) none", dup2(fd, 30))
	FD("dup3(fd,30) none", dup3(fd, 30, O_CLOEXEC))
	I("close_range(30,40) none", close_range(30, 40, 0))
	V("closefrom(30) none", closefrom(30))

	/* pwdlock.c: no pointer; the lock is taken and given back as natively. */
	I("lckpwdf() none", lckpwdf())
	I("ulckpwdf() none", ulckpwdf())

	/* dir.c, dirstream.c */
	PT("opendir(P)", opendir(P))
	PT("fdopendir(dfd) none", fdopendir(dfd))
	PT("readdir(P)", readdir(P))
	PT("readdir64(P)", readdir64(P))
	I("readdir_r(P,ent,res)", readdir_r(P, &ent, &entp))
	I("readdir_r(dir,P,res)", readdir_r(dir, P, &entp))
	I("readdir_r(dir,ent,P)", readdir_r(dir, &ent, P))
	I("readdir64_r(P,ent,res)", readdir64_r(P, &ent64, &entp64))
	I("readdir64_r(dir,P,res)", readdir64_r(dir, P, &entp64))
	I("readdir64_r(dir,ent,P)", readdir64_r(dir, &ent64, P))
	V("rewinddir(P)", rewinddir(P))
	V("seekdir(P,0)", seekdir(P, 0))
	I("telldir(P)", telldir(P))
	I("closedir(P)", closedir(P))
	I("dirfd(P)", dirfd(P))
	I("getdents64(dfd,P)", getdents64(dfd, P, 4096))

	/* exec.c: a call that succeeds runs true(1), and the child reports its exit. */
	I("execve(P,argv,envp)", execve(P, argv, envp))
	I("execve(true,P,envp)", execve("/bin/true", P, envp))
	I("execve(true,argv,P)", execve("/bin/true", argv, P))
	I("execv(P,argv)", execv(P, argv))
	I("execv(true,P)", execv("/bin/true", P))
	I("execvp(P,argv)", execvp(P, argv))
	I("execvp(true,P)", execvp("true", P))
	I("execvpe(P,argv,envp)", execvpe(P, argv, envp))
	I("execvpe(true,P,envp)", execvpe("true", P, envp))
	I("execvpe(true,argv,P)", execvpe("true", argv, P))
	I("execl(P,true)", execl(P, "true", (char *)NULL))
	I("execl(true,P)", execl("/bin/true", P, (char *)NULL))
	I("execle(P,true,envp)", execle(P, "true", (char *)NULL, envp))
	I("execle(true,P,envp)", execle("/bin/true", P, (char *)NULL, envp))
	I("execle(true,true,P)", execle("/bin/true", "true", (char *)NULL, P))
	I("execlp(P,true)", execlp(P, "true", (char *)NULL))
	I("execlp(true,P)", execlp("true", P, (char *)NULL))
	I("execveat(cwd,P,argv,envp)", execveat(AT_FDCWD, P, argv, envp, 0))
	I("execveat(cwd,true,P,envp)", execveat(AT_FDCWD, "/bin/true", P, envp, 0))
	I("execveat(cwd,true,argv,P)", execveat(AT_FDCWD, "/bin/true", argv, P, 0))
	I("fexecve(fd,P,envp)", fexecve(open("/bin/true", O_RDONLY), P, envp))
	I("fexecve(fd,argv,P)", fexecve(open("/bin/true", O_RDONLY), argv, P))
	I("posix_spawn(P,true)", posix_spawn(P, "/bin/true", NULL, NULL, argv, envp))
	I("posix_spawn(pid,P)", posix_spawn(&pid, P, NULL, NULL, argv, envp))
	I("posix_spawn(pid,true,P)", posix_spawn(&pid, "/bin/true", P, NULL, argv, envp))
	I("posix_spawn(pid,true,fa,P)", posix_spawn(&pid, "/bin/true", NULL, P, argv, envp))
	I("posix_spawn(argv=P)", posix_spawn(&pid, "/bin/true", NULL, NULL, P, envp))
	I("posix_spawn(envp=P)", posix_spawn(&pid, "/bin/true", NULL, NULL, argv, P))
	I("posix_spawnp(P,true)", posix_spawnp(P, "true", NULL, NULL, argv, envp))
	I("posix_spawnp(pid,P)", posix_spawnp(&pid, P, NULL, NULL, argv, envp))
	I("posix_spawnp(pid,true,P)", posix_spawnp(&pid, "true", P, NULL, argv, envp))
	I("posix_spawnp(argv=P)", posix_spawnp(&pid, "true", NULL, NULL, P, envp))
	I("posix_spawnp(envp=P)", posix_spawnp(&pid, "true", NULL, NULL, argv, P))
	I("system(P)", system(P) != 0)
	PT("popen(P,r)", popen(P, "r"))
	PT("popen(true,P)", popen("true", P))
	I("posix_spawn_file_actions_addopen(P)", posix_spawn_file_actions_addopen(P, 0, "f", O_RDONLY, 0))
	I("posix_spawn_file_actions_addopen(fa,P)", posix_spawn_file_actions_addopen(&fa, 0, P, O_RDONLY, 0))
	I("posix_spawn_file_actions_addchdir_np(P,d)", posix_spawn_file_actions_addchdir_np(P, "d"))
	I("posix_spawn_file_actions_addchdir_np(fa,P)", posix_spawn_file_actions_addchdir_np(&fa, P))
	PT("dlopen(P)", dlopen(P, RTLD_NOW))
	PT("dlmopen(base,P)", dlmopen(LM_ID_BASE, P, RTLD_NOW))

	/* attr.c */
	I("getxattr(P,n,buf)", getxattr(P, "user.x", buf, sizeof(buf)))
	I("getxattr(f,P,buf)", getxattr("f", P, buf, sizeof(buf)))
	I("getxattr(f,n,P)", getxattr("f", "user.x", P, sizeof(buf)))
	I("getxattr(f,mime,P)", getxattr("f", "user.mime", P, sizeof(buf)))
	I("lgetxattr(P,n,buf)", lgetxattr(P, "user.x", buf, sizeof(buf)))
	I("lgetxattr(f,P,buf)", lgetxattr("f", P, buf, sizeof(buf)))
	I("lgetxattr(f,mime,P)", lgetxattr("f", "user.mime", P, sizeof(buf)))
	I("listxattr(P,buf)", listxattr(P, buf, sizeof(buf)))
	I("listxattr(f,P)", listxattr("f", P, sizeof(buf)))
	I("llistxattr(P,buf)", llistxattr(P, buf, sizeof(buf)))
	I("llistxattr(f,P)", llistxattr("f", P, sizeof(buf)))
	I("setxattr(P,n,v)", setxattr(P, "user.x", "v", 1, 0))
	I("setxattr(f,P,v)", setxattr("f", P, "v", 1, 0))
	I("setxattr(f,n,P)", setxattr("f", "user.x", P, 1, 0))
	I("lsetxattr(P,n,v)", lsetxattr(P, "user.x", "v", 1, 0))
	I("lsetxattr(f,P,v)", lsetxattr("f", P, "v", 1, 0))
	I("lsetxattr(f,n,P)", lsetxattr("f", "user.x", P, 1, 0))
	I("removexattr(P,n)", removexattr(P, "user.x"))
	I("removexattr(f,P)", removexattr("f", P))
	I("lremovexattr(P,n)", lremovexattr(P, "user.x"))
	I("lremovexattr(f,P)", lremovexattr("f", P))
	I("chmod(P)", chmod(P, 0644))
	I("lchmod(P)", lchmod(P, 0644))
	I("fchmodat(cwd,P)", fchmodat(AT_FDCWD, P, 0644, 0))
	I("chown(P)", chown(P, (uid_t)-1, (gid_t)-1))
	I("lchown(P)", lchown(P, (uid_t)-1, (gid_t)-1))
	I("fchownat(cwd,P)", fchownat(AT_FDCWD, P, (uid_t)-1, (gid_t)-1, 0))
	I("fchownat(fd,P,EMPTY)", fchownat(fd, P, (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH))
	I("utimensat(cwd,P,ts)", utimensat(AT_FDCWD, P, ts, 0))
	I("utimensat(cwd,f,P)", utimensat(AT_FDCWD, "f", P, 0))
	I("utimensat(fd,P,ts)", utimensat(fd, P, ts, 0))
	I("utimensat(fd,P,P)", utimensat(fd, P, P, 0))
	I("utimes(P,tv)", utimes(P, tv))
	I("utimes(f,P)", utimes("f", P))
	I("lutimes(P,tv)", lutimes(P, tv))
	I("lutimes(f,P)", lutimes("f", P))
	I("utime(P,ub)", utime(P, &ub))
	I("utime(f,P)", utime("f", P))
	I("fchmod(fd) none", fchmod(fd, 0644))
	I("fchown(fd) none", fchown(fd, (uid_t)-1, (gid_t)-1))
	I("futimens(fd,P)", futimens(fd, P))
	I("futimes(fd,P)", futimes(fd, P))
	I("futimesat(cwd,P,tv)", futimesat(AT_FDCWD, P, tv))
	I("futimesat(cwd,f,P)", futimesat(AT_FDCWD, "f", P))
	I("futimesat(fd,P,tv)", futimesat(fd, P, tv))
	I("fgetxattr(fd,P,buf)", fgetxattr(fd, P, buf, sizeof(buf)))
	I("fgetxattr(fd,n,P)", fgetxattr(fd, "user.x", P, sizeof(buf)))
	I("fgetxattr(fd,mime,P)", fgetxattr(fd, "user.mime", P, sizeof(buf)))
	I("flistxattr(fd,P)", flistxattr(fd, P, sizeof(buf)))
	I("fsetxattr(fd,P,v)", fsetxattr(fd, P, "v", 1, 0))
	I("fsetxattr(fd,n,P)", fsetxattr(fd, "user.x", P, 1, 0))
	I("fremovexattr(fd,P)", fremovexattr(fd, P))
	I("ioctl(fd,FIONREAD,P)", ioctl(fd, FIONREAD, P))
	I("ioctl(fd,FS_IOC_GETFLAGS,P)", ioctl(fd, FS_IOC_GETFLAGS, P))
	I("ioctl(fd,FS_IOC_SETFLAGS,P)", ioctl(fd, FS_IOC_SETFLAGS, P))
	I("ioctl(fd,FS_IOC_FSGETXATTR,P)", ioctl(fd, FS_IOC_FSGETXATTR, P))
	I("ioctl(fd,FS_IOC_FSSETXATTR,P)", ioctl(fd, FS_IOC_FSSETXATTR, P))
	I("truncate(P)", truncate(P, 0))
	I("truncate64(P)", truncate64(P, 0))

	/* write.c: bad buffers and vectors reach the kernel (EFAULT); no change to f. */
	I("write(fd,P,1)", write(fd, P, 1))
	I("pwrite(fd,P,1,0)", pwrite(fd, P, 1, 0))
	I("pwrite64(fd,P,1,0)", pwrite64(fd, P, 1, 0))
	I("writev(fd,P,1)", writev(fd, P, 1))
	I("pwritev(fd,P,1,0)", pwritev(fd, P, 1, 0))
	I("pwritev64(fd,P,1,0)", pwritev64(fd, P, 1, 0))
	I("pwritev2(fd,P,1,0,0)", pwritev2(fd, P, 1, 0, 0))
	I("pwritev64v2(fd,P,1,0,0)", pwritev64v2(fd, P, 1, 0, 0))
	I("ftruncate(fd,6) none", ftruncate(fd, 6))
	I("ftruncate64(fd,6) none", ftruncate64(fd, 6))
	I("fallocate(fd,0,0,1) none", fallocate(fd, 0, 0, 1))
	I("fallocate64(fd,0,0,1) none", fallocate64(fd, 0, 0, 1))
	I("posix_fallocate(fd,0,1) none", posix_fallocate(fd, 0, 1))
	I("posix_fallocate64(fd,0,1) none", posix_fallocate64(fd, 0, 1))
	I("copy_file_range(fd,P,fd,0,1)", copy_file_range(fd, P, fd, NULL, 1, 0))
	I("sendfile(fd,fd,P,1)", sendfile(fd, fd, P, 1))
	I("sendfile64(fd,fd,P,1)", sendfile64(fd, fd, P, 1))

	/* tmp.c */
	FD("mkstemp(P)", mkstemp(P))
	FD("mkstemp64(P)", mkstemp64(P))
	FD("mkostemp(P)", mkostemp(P, 0))
	FD("mkostemp64(P)", mkostemp64(P, 0))
	FD("mkstemps(P)", mkstemps(P, 0))
	FD("mkstemps64(P)", mkstemps64(P, 0))
	FD("mkostemps(P)", mkostemps(P, 0, 0))
	FD("mkostemps64(P)", mkostemps64(P, 0, 0))
	PT("mkdtemp(P)", mkdtemp(P))
	PT("mktemp(P)", LEGACY(mktemp)(P))
	PT("mktemp(tmpl) none", LEGACY(mktemp)(tmpl))
	PT("tmpfile() none", tmpfile())
	PT("tmpfile64() none", tmpfile64())
	PT("tempnam(P,x)", LEGACY(tempnam)(P, "x"))
	PT("tempnam(d,P)", LEGACY(tempnam)("d", P))
	PT("tmpnam(P)", LEGACY(tmpnam)(P))
	PT("tmpnam_r(P)", LEGACY(tmpnam_r)(P))

	/* ipc.c, ipcdir.c */
	FD("shm_open(P)", shm_open(P, O_RDONLY, 0))
	I("shm_unlink(P)", shm_unlink(P))
	PT("sem_open(P)", sem_open(P, 0) == SEM_FAILED ? NULL : (void *)1)
	I("sem_unlink(P)", sem_unlink(P))
	I("sem_close(P)", sem_close(P))
	FD("mq_open(P)", mq_open(P, O_RDONLY))
	FD("__mq_open_2(P)", __mq_open_2(P, O_RDONLY))
	I("mq_unlink(P)", mq_unlink(P))
	I("shmget(PRIVATE) none", (mid = shmget(IPC_PRIVATE, 4096, 0600)) < 0 ? -1 : shmctl(mid, IPC_RMID, NULL))
	I("semget(PRIVATE) none", (mid = semget(IPC_PRIVATE, 1, 0600)) < 0 ? -1 : semctl(mid, 0, IPC_RMID))
	I("msgget(PRIVATE) none", (mid = msgget(IPC_PRIVATE, 0600)) < 0 ? -1 : msgctl(mid, IPC_RMID, NULL))
	I("ftok(P)", ftok(P, 1) == -1 ? -1 : 0)

	/* socket.c, net.c */
	I("bind(s,P)", bind(socket(AF_UNIX, SOCK_DGRAM, 0), P, sizeof(struct sockaddr_un)))
	I("connect(s,P)", connect(socket(AF_UNIX, SOCK_DGRAM, 0), P, sizeof(struct sockaddr_un)))
	I("sendto(s,P,1,sa=NULL)", sendto(sp[0], P, 1, 0, NULL, 0))
	I("sendto(s,x,1,sa=P)", sendto(socket(AF_UNIX, SOCK_DGRAM, 0), "x", 1, 0, P,
				      sizeof(struct sockaddr_un)))
	I("sendmsg(s,P)", sendmsg(sp[0], P, 0))
	I("sendmsg(s,name=P)", (mh.msg_name = P, mh.msg_namelen = sizeof(struct sockaddr_un),
				 sendmsg(socket(AF_UNIX, SOCK_DGRAM, 0), &mh, 0)))
	I("sendmmsg(s,P)", sendmmsg(sp[0], P, 1, 0))
	I("sendmmsg(s,name=P)", (mmh.msg_hdr.msg_name = P,
				  mmh.msg_hdr.msg_namelen = sizeof(struct sockaddr_un),
				  sendmmsg(socket(AF_UNIX, SOCK_DGRAM, 0), &mmh, 1, 0)))
	I("getsockname(s,P,len)", getsockname(ls, P, &sl))
	I("getsockname(s,sa,P)", getsockname(ls, (struct sockaddr *)&ss, P))
	I("getpeername(s,P,len)", getpeername(sp[0], P, &sl))
	I("getpeername(s,sa,P)", getpeername(sp[0], (struct sockaddr *)&ss, P))
	I("accept(ls,P,len)", accept(ls, P, &sl) >= 0 ? 0 : -1)
	I("accept(ls,sa,P)", accept(ls, (struct sockaddr *)&ss, P) >= 0 ? 0 : -1)
	I("accept4(ls,P,len)", accept4(ls, P, &sl, 0) >= 0 ? 0 : -1)
	I("accept4(ls,sa,P)", accept4(ls, (struct sockaddr *)&ss, P, 0) >= 0 ? 0 : -1)
	I("recvfrom(s,P,1)", recvfrom(sp[0], P, 1, MSG_DONTWAIT, NULL, NULL))
	I("recvfrom(s,buf,1,P,len)", recvfrom(sp[0], buf, 1, MSG_DONTWAIT, P, &sl))
	I("recvfrom(s,buf,1,sa,P)", recvfrom(sp[0], buf, 1, MSG_DONTWAIT, (struct sockaddr *)&ss, P))
	I("__recvfrom_chk(s,P,1)", __recvfrom_chk(sp[0], P, 1, 1, MSG_DONTWAIT, NULL, NULL))
	I("__recvfrom_chk(s,buf,1,P,len)", __recvfrom_chk(sp[0], buf, 1, sizeof(buf), MSG_DONTWAIT, P, &sl))
	I("recvmsg(s,P)", recvmsg(sp[0], P, MSG_DONTWAIT))
	I("recvmmsg(s,P)", recvmmsg(sp[0], P, 1, MSG_DONTWAIT, NULL))
	I("recvmmsg(s,msg,1,P)", recvmmsg(sp[0], &mmh, 1, MSG_DONTWAIT, P))

	/* netdb.c: getaddrinfo returns its own codes, not errno. */
	I("getaddrinfo(P,80)", getaddrinfo(P, "80", NULL, &ai))
	I("getaddrinfo(localhost,P)", getaddrinfo("localhost", P, NULL, &ai))
	I("getaddrinfo(localhost,80,P)", getaddrinfo("localhost", "80", P, &ai))
	I("getaddrinfo(localhost,80,NULL,P)", getaddrinfo("localhost", "80", NULL, P))
	PT("gethostbyname(P)", gethostbyname(P))
	PT("gethostbyname2(P)", gethostbyname2(P, AF_INET))
	I("gethostbyname_r(P)", gethostbyname_r(P, &he, buf, sizeof(buf), &hep, &herr))
	I("gethostbyname_r(localhost,P)", gethostbyname_r("localhost", P, buf, sizeof(buf), &hep, &herr))
	I("gethostbyname_r(localhost,he,P)", gethostbyname_r("localhost", &he, P, sizeof(buf), &hep, &herr))
	I("gethostbyname_r(localhost,he,buf,P)", gethostbyname_r("localhost", &he, buf, sizeof(buf), P, &herr))
	I("gethostbyname_r(localhost,he,buf,res,P)", gethostbyname_r("localhost", &he, buf, sizeof(buf), &hep, P))
	I("gethostbyname2_r(P)", gethostbyname2_r(P, AF_INET, &he, buf, sizeof(buf), &hep, &herr))
	I("gethostbyname2_r(localhost,P)", gethostbyname2_r("localhost", AF_INET, P, buf, sizeof(buf), &hep, &herr))

	/* nsswrap.c: libc's own lookups, run in a window; the arguments reach libc as given. */
	PT("getpwnam(P)", getpwnam(P))
	PT("getpwuid() none", getpwuid(0))
	I("getpwnam_r(P)", getpwnam_r(P, &pw, buf, sizeof(buf), &pwp))
	I("getpwnam_r(root,P)", getpwnam_r("root", P, buf, sizeof(buf), &pwp))
	I("getpwnam_r(root,pw,P)", getpwnam_r("root", &pw, P, sizeof(buf), &pwp))
	I("getpwnam_r(root,pw,buf,P)", getpwnam_r("root", &pw, buf, sizeof(buf), P))
	I("getpwuid_r(0,P)", getpwuid_r(0, P, buf, sizeof(buf), &pwp))
	I("getpwuid_r(0,pw,buf,P)", getpwuid_r(0, &pw, buf, sizeof(buf), P))
	V("setpwent() none", setpwent())
	PT("getpwent() none", getpwent())
	I("getpwent_r(P)", getpwent_r(P, buf, sizeof(buf), &pwp))
	I("getpwent_r(pw,buf,P)", getpwent_r(&pw, buf, sizeof(buf), P))
	PT("getgrnam(P)", getgrnam(P))
	PT("getgrgid() none", getgrgid(0))
	I("getgrnam_r(P)", getgrnam_r(P, &gr, buf, sizeof(buf), &grp))
	I("getgrnam_r(root,P)", getgrnam_r("root", P, buf, sizeof(buf), &grp))
	I("getgrnam_r(root,gr,buf,P)", getgrnam_r("root", &gr, buf, sizeof(buf), P))
	I("getgrgid_r(0,P)", getgrgid_r(0, P, buf, sizeof(buf), &grp))
	I("getgrgid_r(0,gr,buf,P)", getgrgid_r(0, &gr, buf, sizeof(buf), P))
	V("setgrent() none", setgrent())
	PT("getgrent() none", getgrent())
	I("getgrent_r(P)", getgrent_r(P, buf, sizeof(buf), &grp))
	I("getgrouplist(P)", getgrouplist(P, 0, groups, &ngroups))
	I("getgrouplist(root,0,P)", getgrouplist("root", 0, P, &ngroups))
	I("getgrouplist(root,0,groups,P)", getgrouplist("root", 0, groups, P))
	I("initgroups(P)", initgroups(P, 0))
	PT("getspnam(P)", getspnam(P))
	I("getspnam_r(P)", getspnam_r(P, &spw, buf, sizeof(buf), &spwp))
	I("getspnam_r(root,P)", getspnam_r("root", P, buf, sizeof(buf), &spwp))
	V("setspent() none", setspent())
	PT("getspent() none", getspent())
	I("getspent_r(P)", getspent_r(P, buf, sizeof(buf), &spwp))
	PT("gethostbyaddr(P)", gethostbyaddr(P, 4, AF_INET))
	I("gethostbyaddr_r(P)", gethostbyaddr_r(P, 4, AF_INET, &he, buf, sizeof(buf), &hep, &herr))
	I("gethostbyaddr_r(lo,4,inet,P)", gethostbyaddr_r(&sin.sin_addr, 4, AF_INET, P, buf, sizeof(buf), &hep, &herr))
	V("sethostent() none", sethostent(0))
	PT("gethostent() none", gethostent())
	I("getnameinfo(P)", getnameinfo(P, sizeof(sin), buf, 64, NULL, 0, 0))
	I("getnameinfo(lo,len,P)", getnameinfo((struct sockaddr *)&sin, sizeof(sin), P, 64, NULL, 0, 0))
	PT("getservbyname(P)", getservbyname(P, "tcp"))
	PT("getservbyname(ssh,P)", getservbyname("ssh", P))
	PT("getservbyport(22,P)", getservbyport(htons(22), P))
	I("getservbyname_r(P)", getservbyname_r(P, "tcp", &se, buf, sizeof(buf), &sep))
	I("getservbyname_r(ssh,tcp,P)", getservbyname_r("ssh", "tcp", P, buf, sizeof(buf), &sep))
	I("getservbyport_r(22,tcp,P)", getservbyport_r(htons(22), "tcp", P, buf, sizeof(buf), &sep))
	V("setservent() none", setservent(0))
	PT("getservent() none", getservent())
	PT("getprotobyname(P)", getprotobyname(P))
	PT("getprotobynumber() none", getprotobynumber(6))
	V("setprotoent() none", setprotoent(0))
	PT("getprotoent() none", getprotoent())
	PT("getnetbyname(P)", getnetbyname(P))
	PT("getnetbyaddr() none", getnetbyaddr(127, AF_INET))
	V("setnetent() none", setnetent(0))
	PT("getnetent() none", getnetent())
	I("setnetgrent(P)", setnetgrent(P))
	I("getnetgrent(P)", getnetgrent(P, &ng_u, &ng_d))
	I("getnetgrent(h,P)", getnetgrent(&ng_h, P, &ng_d))
	I("innetgr(P)", innetgr(P, NULL, NULL, NULL))
	PT("getaliasbyname(P)", getaliasbyname(P))
	PT("getrpcbyname(P)", getrpcbyname(P))
	PT("getrpcbynumber() none", getrpcbynumber(100000))
	I("ether_ntohost(P)", ether_ntohost(P, &ea))
	I("ether_ntohost(buf,P)", ether_ntohost(buf, P))
	I("ether_hostton(P)", ether_hostton(P, &ea))
	I("ether_hostton(x,P)", ether_hostton("fvm-no-such-host", P))
	PT("setlocale(all,P)", setlocale(LC_ALL, P))
	PT("newlocale(all,P)", newlocale(LC_ALL_MASK, P, (locale_t)0))
	I("iconv_open(P)", (long)iconv_open(P, "UTF-8"))
	I("iconv_open(LATIN1,P)", (long)iconv_open("LATIN1", P))
	I("catopen(P)", (long)catopen(P, 0))
	PT("bindtextdomain(P)", bindtextdomain(P, "/tmp"))
	PT("bindtextdomain(d,P)", bindtextdomain("fvm-none", P))
	PT("gettext(P)", gettext(P))
	PT("dgettext(P)", dgettext(P, "x"))
	PT("dgettext(d,P)", dgettext("fvm-none", P))
	PT("dcgettext(d,P)", dcgettext("fvm-none", P, LC_MESSAGES))
	PT("ngettext(P)", ngettext(P, "xs", 2))
	PT("dngettext(d,P)", dngettext("fvm-none", P, "xs", 1))
	PT("dcngettext(d,P)", dcngettext("fvm-none", P, "xs", 1, LC_MESSAGES))

	V("tzset() none", tzset())
	PT("localtime(P)", localtime(P))
	PT("localtime_r(P)", localtime_r(P, &tmv))
	PT("localtime_r(t,P)", localtime_r(&tnow, P))
	I("mktime(P)", (long)mktime(P))
	I("timelocal(P)", (long)timelocal(P))
	PT("ctime(P)", ctime(P))
	PT("ctime_r(P)", ctime_r(P, buf))
	PT("ctime_r(t,P)", ctime_r(&tnow, P))

	/* scandir.c, glob.c, ftw.c, fts.c */
	I("scandir(P)", scandir(P, &list, NULL, NULL))
	I("scandir(d,P)", scandir("d", P, NULL, NULL))
	I("scandir(d,list,P)", scandir("d", &list, P, NULL))
	I("scandir(.,list,NULL,P)", scandir(".", &list, NULL, P))
	I("scandir64(P)", scandir64(P, &list64, NULL, NULL))
	I("scandir64(d,P)", scandir64("d", P, NULL, NULL))
	I("scandirat(cwd,P)", scandirat(AT_FDCWD, P, &list, NULL, NULL))
	I("scandirat(cwd,d,P)", scandirat(AT_FDCWD, "d", P, NULL, NULL))
	I("scandirat64(cwd,P)", scandirat64(AT_FDCWD, P, &list64, NULL, NULL))
	I("scandirat64(cwd,d,P)", scandirat64(AT_FDCWD, "d", P, NULL, NULL))
	I("glob(P)", glob(P, 0, NULL, &g))
	I("glob(*,0,P)", glob("*", 0, P, &g))
	I("glob(*,0,NULL,P)", glob("*", 0, NULL, P))
	I("glob64(P)", glob64(P, 0, NULL, &g64))
	I("glob64(*,0,NULL,P)", glob64("*", 0, NULL, P))
	I("ftw(P)", ftw(P, walk_fn, 4))
	I("ftw(d,P)", ftw("d", P, 4))
	I("ftw64(P)", ftw64(P, ftw64_fn, 4))
	I("ftw64(d,P)", ftw64("d", P, 4))
	I("nftw(P)", nftw(P, nwalk_fn, 4, FTW_PHYS))
	I("nftw(d,P)", nftw("d", P, 4, FTW_PHYS))
	I("nftw64(P)", nftw64(P, nftw64_fn, 4, FTW_PHYS))
	I("nftw64(d,P)", nftw64("d", P, 4, FTW_PHYS))
	PT("fts_open(P)", fts_open(P, FTS_PHYSICAL, NULL))
	PT("fts_open({P})", fts_open(fts_badv, FTS_PHYSICAL, NULL))
	PT("fts_open(argv,0,P)", fts_open((char *[]){".", NULL}, FTS_PHYSICAL, P))
	PT("fts_read(P)", fts_read(P))
	PT("fts_children(P)", fts_children(P, 0))
	I("fts_set(P,ent)", fts_set(P, fe, FTS_SKIP))
	I("fts_set(fts,P)", fts_set(fts, P, FTS_SKIP))
	I("fts_close(P)", fts_close(P))
	PT("fts64_open(P)", fts64_open(P, FTS_PHYSICAL, NULL))
	PT("fts64_open({P})", fts64_open(fts_badv, FTS_PHYSICAL, NULL))
	PT("fts64_read(P)", fts64_read(P))
	PT("fts64_children(P)", fts64_children(P, 0))
	I("fts64_set(P,ent)", fts64_set(P, (FTSENT64 *)fe, FTS_SKIP))
	I("fts64_close(P)", fts64_close(P))

	/* trace.c: the environment, as glibc's getenv reads it (a bad name faults) */
	PT("getenv(P)", getenv(P))
	PT("secure_getenv(P)", secure_getenv(P))
	/* rawsys.c: libc's syscall(), by number, as the kernel answers (never a crash) */
	I("syscall(getpid) none", syscall(SYS_getpid) > 0 ? 0 : -1)
	I("syscall(statx,0,P,0,all,P) (libuv and Rust)", syscall(SYS_statx, 0, P, 0, STATX_ALL, P))
	I("syscall(statx,cwd,P,0,all,stx)", syscall(SYS_statx, AT_FDCWD, P, 0, STATX_ALL, &stx))
	I("syscall(statx,cwd,f,0,all,P)", syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_ALL, P))
	I("syscall(newfstatat,cwd,P,st,0)", syscall(SYS_newfstatat, AT_FDCWD, P, &st, 0))
	I("syscall(newfstatat,cwd,f,P,0)", syscall(SYS_newfstatat, AT_FDCWD, "f", P, 0))
	I("syscall(stat,P,st)", syscall(SYS_stat, P, &st))
	I("syscall(lstat,l,P)", syscall(SYS_lstat, "l", P))
	I("syscall(fstat,fd,P)", syscall(SYS_fstat, fd, P))
	FD("syscall(open,P)", syscall(SYS_open, P, O_RDONLY))
	FD("syscall(openat,cwd,P)", syscall(SYS_openat, AT_FDCWD, P, O_RDONLY, 0))
	FD("syscall(creat,P)", syscall(SYS_creat, P, 0600))
	I("syscall(access,P)", syscall(SYS_access, P, R_OK))
	I("syscall(faccessat2,cwd,P)", syscall(SYS_faccessat2, AT_FDCWD, P, R_OK, 0))
	I("syscall(readlink,P)", syscall(SYS_readlink, P, buf, sizeof(buf)))
	I("syscall(readlinkat,cwd,l,P)", syscall(SYS_readlinkat, AT_FDCWD, "l", P, 64))
	I("syscall(getcwd,P,4096)", syscall(SYS_getcwd, P, 4096))
	I("syscall(getcwd,buf,1) none", syscall(SYS_getcwd, buf, 1))
	I("syscall(mkdir,P)", syscall(SYS_mkdir, P, 0755))
	I("syscall(mknodat,cwd,P,fifo)", syscall(SYS_mknodat, AT_FDCWD, P, S_IFIFO | 0600, 0))
	I("syscall(unlink,P)", syscall(SYS_unlink, P))
	I("syscall(rmdir,P)", syscall(SYS_rmdir, P))
	I("syscall(rename,P,x)", syscall(SYS_rename, P, "x"))
	I("syscall(renameat2,cwd,f,cwd,P)", syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, P, 0))
	I("syscall(link,f,P)", syscall(SYS_link, "f", P))
	I("syscall(symlink,P,s)", syscall(SYS_symlink, P, "s"))
	I("syscall(chmod,P)", syscall(SYS_chmod, P, 0644))
	I("syscall(fchownat,cwd,P)", syscall(SYS_fchownat, AT_FDCWD, P, -1, -1, 0))
	I("syscall(truncate,P)", syscall(SYS_truncate, P, 0))
	I("syscall(utime,f,P)", syscall(SYS_utime, "f", P))
	I("syscall(utime,P,times)", syscall(SYS_utime, P, &ub))
	I("syscall(utimes,f,P)", syscall(SYS_utimes, "f", P))
	I("syscall(futimesat,cwd,f,P)", syscall(SYS_futimesat, AT_FDCWD, "f", P))
	I("syscall(futimesat,fd,P,tv)", syscall(SYS_futimesat, fd, P, tv))
	I("syscall(utimensat,cwd,P,NULL,0)", syscall(SYS_utimensat, AT_FDCWD, P, NULL, 0))
	I("syscall(utimensat,fd,P,NULL,0)", syscall(SYS_utimensat, fd, P, NULL, 0))
	I("syscall(utimensat,cwd,f,P,0)", syscall(SYS_utimensat, AT_FDCWD, "f", P, 0))
	I("syscall(chdir,P)", syscall(SYS_chdir, P))
	I("syscall(getdents64,dfd,P)", syscall(SYS_getdents64, dfd, P, 4096))
	I("syscall(getxattr,P)", syscall(SYS_getxattr, P, "user.x", buf, sizeof(buf)))
	I("syscall(setxattr,f,P)", syscall(SYS_setxattr, "f", P, "v", 1, 0))
	I("syscall(statfs,P,buf)", syscall(SYS_statfs, P, &sfs))
	I("syscall(inotify_add_watch,P)", syscall(SYS_inotify_add_watch, ifd, P, IN_ALL_EVENTS))
	I("syscall(name_to_handle_at,cwd,P)", syscall(SYS_name_to_handle_at, AT_FDCWD, P, fh, &mid, 0))
	I("syscall(execve,P)", syscall(SYS_execve, P, argv, envp))
	I("syscall(execve,nonexistent,P)", syscall(SYS_execve, "/nonexistent", P, envp))
	I("syscall(connect,s,P)", syscall(SYS_connect, socket(AF_UNIX, SOCK_DGRAM, 0), P,
					  sizeof(struct sockaddr_un)))
	I("syscall(bind,s,P)", syscall(SYS_bind, socket(AF_UNIX, SOCK_DGRAM, 0), P,
				       sizeof(struct sockaddr_un)))
	I("syscall(sendto,s,x,1,sa=P)", syscall(SYS_sendto, socket(AF_UNIX, SOCK_DGRAM, 0), "x", 1, 0, P,
						 sizeof(struct sockaddr_un)))
	I("syscall(mq_open,P)", syscall(SYS_mq_open, P, O_RDONLY, 0, NULL) >= 0 ? 0 : -1)
	I("syscall(mq_unlink,P)", syscall(SYS_mq_unlink, P))
	default:
		*name = NULL;
		return;
	}
}

static const char *const bad_names[] = {"NULL", "1", "unmapped", "kernel", "crossing"};

/* True when case NAME's P is an object libc made (a DIR, an FTS, an FTSENT). */
static bool object_case(const char *name)
{
	static const char *const prefixes[] = {"readdir", "rewinddir", "seekdir", "telldir",
					      "closedir", "dirfd", "fts_read", "fts_children",
					      "fts_set", "fts_close", "fts64_read", "fts64_children",
					      "fts64_set", "fts64_close"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0 && strchr(name, 'P')) {
			return true;
		}
	}
	return false;
}

/* True when comma-separated LIST names KIND. */
static bool kind_listed(const char *list, const char *kind)
{
	size_t kl = strlen(kind);

	for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, kind, kl) == 0 && (p[kl] == ',' || p[kl] == '\0')) {
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *kinds = NULL, *filter;
	void *bad[5];
	/*
	 * The unmapped page lies far below where the kernel places mappings (top down from
	 * under the stack), so that no mmap of a case (posix_spawn's stack, malloc) can
	 * land on it, as a page just unmapped could.
	 */
	void *page = (void *)(uintptr_t)0x100000000000ULL;
	unsigned char vec;

	if (mincore(page, 4096, &vec) == 0 || errno != ENOMEM) {
		fprintf(stderr, "badptr: %p is mapped here: no unmapped page to test with\n", page);
		return 2;
	}
	if (argc > 2 && strcmp(argv[1], "-b") == 0) {
		kinds = argv[2];
		argv += 2;
		argc -= 2;
	}
	filter = argc > 1 ? argv[1] : NULL;
	bad[0] = NULL;
	bad[1] = (void *)1;
	bad[2] = page;
	bad[3] = (void *)(uintptr_t)0xffff800000001000ULL;
	/* "crossing": 8 bytes of 'a' at the end of a page, the next page unmapped. */
	char *two = mmap((char *)page + 0x10000, 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (two == MAP_FAILED || munmap(two + 4096, 4096) < 0) {
		perror("badptr: mmap");
		return 2;
	}
	memset(two + 4096 - 8, 'a', 8);
	bad[4] = two + 4096 - 8;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int idx = first_case;; idx++) {
		const char *name = NULL;
		struct result r;

		run_case(idx, NULL, false, &name, &r);
		if (!name) {
			break;
		}
		if (filter && !strstr(name, filter)) {
			continue;
		}
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			int pfd[2], status;
			ssize_t n;
			pid_t pid;

			if (kinds && !kind_listed(kinds, bad_names[b])) {
				continue;
			}
			/* A DIR or FTS that libc made is an object, not a buffer: one that ends
			 * in a page of 'a's is garbage whatever follows it (natively readdir of
			 * it may spin on its lock). */
			if (strcmp(bad_names[b], "crossing") == 0 && object_case(name)) {
				continue;
			}
			if (pipe2(pfd, O_CLOEXEC) < 0) {
				perror("badptr: pipe");
				return 2;
			}
			pid = fork();
			if (pid < 0) {
				perror("badptr: fork");
				return 2;
			}
			if (pid == 0) {
				close(pfd[0]);
				/* What a case's own children say (sh -c of popen(NULL)) is no result. */
				int null = open("/dev/null", O_WRONLY);
				if (null >= 0) {
					dup2(null, 2);
					close(null);
				}
				alarm(10);
				memset(&r, 0, sizeof(r));
				run_case(idx, bad[b], true, &name, &r);
				/* Raw write: the wrappers under test may have broken stdio. */
				syscall(SYS_write, pfd[1], &r, sizeof(r));
				_exit(0);
			}
			close(pfd[1]);
			n = read(pfd[0], &r, sizeof(r));
			close(pfd[0]);
			waitpid(pid, &status, 0);
			printf("%s [%s]: ", name, bad_names[b]);
			if (n != (ssize_t)sizeof(r)) {
				if (WIFSIGNALED(status)) {
					printf("crashed with signal %d\n", WTERMSIG(status));
				} else {
					printf("did not return, exit %d\n", WEXITSTATUS(status));
				}
			} else if (r.kind == 'v') {
				printf("returned\n"); /* errno is unspecified */
			} else if (r.kind == 'p' && !r.ptr_null) {
				printf("non-NULL\n");
			} else if (r.kind == 'p') {
				printf("NULL, errno %s\n", r.err ? strerrorname_np(r.err) : "0");
			} else if (r.l < 0) {
				printf("%ld, errno %s\n", r.l, r.err ? strerrorname_np(r.err) : "0");
			} else {
				printf("%ld\n", r.l);
			}
		}
	}
	return 0;
}
