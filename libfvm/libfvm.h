/*
 * libfvm.h — what libfvm's wrapper families share (internal to libfvm.so).
 *
 * Conventions (STYLE.md): an exported wrapper open() calls fvm_open-style logic that
 * returns -errno, then sets errno only at the exported boundary (fvm_ret). libfvm never
 * calls an exported wrapped name from inside itself; libc's own functions are reached
 * through REAL(NAME) pointers looked up on first use, kernel services through
 * sys.h.
 */
#ifndef LIBFVM_H
#define LIBFVM_H

#include <sys/sendfile.h>
#include <sys/uio.h>
#include <dirent.h>
#include <dlfcn.h>
#include <mntent.h>
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <utime.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <shadow.h>
/* nsswrap.c's names */
#include <aliases.h>
#include <grp.h>
#include <iconv.h>
#include <libintl.h>
#include <locale.h>
#include <netinet/ether.h>
#include <nl_types.h>
#include <pwd.h>
#include <time.h>

#include "fvm/sys.h"
#include "fvm/vm.h"

/*
 * For a large zero-filled table (a cache, a buffer): placed in .lbss, after every
 * small variable of .bss, so that the small variables libfvm's start touches share a
 * page or two instead of each sitting alone on a page between the tables. Each page a
 * process touches is a fault at every exec (issue 15). Zero-initialised definitions only.
 * x86_64 only: elsewhere the compiler would not know .lbss for a zero-filled section.
 */
#if defined(__x86_64__)
#define FVM_LARGE_BSS __attribute__((section(".lbss.fvm")))
#else
#define FVM_LARGE_BSS
#endif

/* Prototypes glibc no longer declares but still exports for old binaries. */
struct stat64;
int __xstat(int ver, const char *vpath, struct stat *st);
int __xstat64(int ver, const char *vpath, struct stat64 *st);
int __lxstat(int ver, const char *vpath, struct stat *st);
int __lxstat64(int ver, const char *vpath, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *vpath, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *vpath, struct stat64 *st, int flags);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __open_2(const char *vpath, int flags);
int __open64_2(const char *vpath, int flags);
int __openat_2(int dirfd, const char *vpath, int flags);
int __openat64_2(int dirfd, const char *vpath, int flags);
ssize_t __readlink_chk(const char *vpath, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *vpath, char *buf, size_t len, size_t buflen);
char *__getcwd_chk(char *buf, size_t size, size_t buflen);
char *__realpath_chk(const char *vpath, char *resolved, size_t resolvedlen);
int __xmknod(int ver, const char *vpath, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *vpath, mode_t mode, dev_t *dev);

/* IPC, sockets and names (ipc.c, socket.c): declarations the list's names need. */
#include <mqueue.h>
#include <netdb.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
mqd_t __mq_open_2(const char *vname, int oflag);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *sa, socklen_t *len);

/*
 * The real functions libfvm calls (the list's entries marked 1), looked up on first
 * use: a process that never calls one (most short-lived ones) never pays for dlsym.
 * REAL(name) is the next definition of name after libfvm's. Some are deprecated.
 */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#define FVM_REAL_0(name)
#define FVM_REAL_1(name) FVM_REAL_IDX_##name,
#define FVM_SYM(name, real) FVM_REAL_##real(name)
enum fvm_real_idx {
#include "wrapped.list"
	FVM_REAL_N
};
#undef FVM_SYM
#undef FVM_REAL_0
#undef FVM_REAL_1

void *fvm_real(enum fvm_real_idx idx, const char *name);
#define REAL(name) ((__typeof__(name) *)fvm_real(FVM_REAL_IDX_##name, #name))

/* The listed names, and only they, are visible outside libfvm.so (with libfvm.map). */
#define FVM_SYM(name, real) extern __typeof__(name) name __attribute__((visibility("default")));
#include "wrapped.list"
#undef FVM_SYM

/* The VM this process runs in; valid when fvm_active. */
/*
 * What libfvm's start writes, on as few pages as it can (issue 15): the contract's
 * values (init.c, keep) on the page of the VM's scalars, name and root.
 */
struct fvm_start_area {
	char env[1024];
	struct fvm_vm vm;
};
extern struct fvm_start_area fvm_start_area;
#define fvm_g (fvm_start_area.vm)
extern bool fvm_active;
extern volatile int fvm_ready;
/* Set once nothing is left to do at a wrapper's entry: started, and outside a VM or
 * with the policy and the generation counter mapped (init.c, fvm_on_slow). */
extern volatile int fvm_fast;

void fvm_init(void);
/* One more process started in the VM (the state file's FVM_STATE_PROCS word): called in
 * a fork child (pthread_atfork) and after a posix_spawn. fvm stats reports the count. */
void fvm_count_process(void);
/* At an exec: counts a vfork child, which no fork handler counted (init.c). */
void fvm_count_exec(void);
bool fvm_on_slow(void);

/*
 * True inside a VM. Initialises libfvm if a wrapper runs before its constructor, and
 * maps the policy and the generation counter at the first wrapper that runs in a VM.
 */
static inline bool fvm_on(void)
{
	if (__builtin_expect(!fvm_fast, 0)) {
		return fvm_on_slow();
	}
	return fvm_active;
}

/*
 * The first user address the kernel refuses: the end of user space (48-bit virtual
 * addresses on x86_64 and arm64).
 */
#if defined(__x86_64__)
#define FVM_USER_TOP ((uintptr_t)1 << 47)
#elif defined(__aarch64__)
#define FVM_USER_TOP ((uintptr_t)1 << 48)
#else
#define FVM_USER_TOP UINTPTR_MAX
#endif

/* This thread's pages known to be mapped (uptr.c), by page number modulo the slots. */
#define FVM_PAGE 4096
#define FVM_PAGE_SLOTS 64
extern __thread uintptr_t fvm_page_known[FVM_PAGE_SLOTS];

/* True when nothing is mapped at PAGE (FVM_PAGE-aligned); remembers it otherwise. */
bool fvm_page_unmapped(uintptr_t page);

/*
 * A pointer the kernel would answer EFAULT for: NULL, the zero page, beyond user space
 * (told inline), or in a page where nothing is mapped (asked of the kernel once per
 * page and thread, uptr.c). libfvm never dereferences one; it hands it to the kernel
 * (which says EFAULT) or returns -EFAULT. Only P's own page is checked: a string that
 * runs on is measured with fvm_strlen_user.
 */
static inline bool fvm_bad_ptr(const void *p)
{
	uintptr_t a = (uintptr_t)p, page = a & ~(uintptr_t)(FVM_PAGE - 1);

	if (a - FVM_PAGE >= FVM_USER_TOP - FVM_PAGE) {
		return true;
	}
	if (__builtin_expect(fvm_page_known[(page / FVM_PAGE) % FVM_PAGE_SLOTS] == page, 1)) {
		return false;
	}
	return fvm_page_unmapped(page);
}

/* fvm_bad_ptr for the LEN (> 0) bytes at P: a struct or buffer, by its first and last page. */
static inline bool fvm_bad_range(const void *p, size_t len)
{
	return fvm_bad_ptr(p) || fvm_bad_ptr((const char *)p + len - 1);
}

/*
 * strlen of S, a string of the program's whose first page passed fvm_bad_ptr:
 * -EFAULT when it runs into a page where nothing is mapped; PATH_MAX when it is
 * longer than that (too long for any name).
 */
long fvm_strlen_user(const char *s);

/*
 * Reads the first byte at P as libc's own function does before any system call (it
 * calls strlen or looks at name[0]): a bad pointer faults here, so the program crashes
 * in a VM where it crashes natively, not with a made-up error.
 */
static inline void fvm_touch(const void *p)
{
	(void)*(const volatile char *)p;
}

/* Reads string S to its end, as libc's own function does with strlen: a string that
 * runs into an unmapped page faults here, as natively. */
static inline void fvm_touch_str(const char *s)
{
	volatile size_t n = strlen(s);
	(void)n;
}

/* Exported-boundary return: sets errno from a negative result and returns -1. */
static inline int fvm_ret(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

static inline ssize_t fvm_ret_ssize(ssize_t ret)
{
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/*
 * The absolute virtual path of NAME relative to DIRFD (AT_FDCWD: the virtual cwd),
 * lexically joined (".." kept for the resolver). Returns its length or -errno.
 */
int fvm_vpath_at(int dirfd, const char *name, char *out, size_t outlen);

/* The virtual path of open file descriptor FD (narrowed /proc/self/fd/FD). */
int fvm_fd_vpath(int fd, char *out, size_t outlen);

/* Remembers that directory fd FD, just opened, is VPATH (LEN); see fd.c. */
void fvm_fd_remember(int fd, const char *vpath, size_t len);

/*
 * True when directory fd FD is remembered (fvm_fd_remember, no /proc asked) at a
 * virtual path that the lookup cache knows, at the current generation, to be a host
 * directory with nothing in upper/ nor a layer (fvm_dir_host_only): then FD is the
 * host's own directory, and a name below it is the host's. False: not known.
 */
bool fvm_fd_host_dir(int fd);

/* Forgets what was remembered of FD: it is being closed or replaced. */
void fvm_fd_forget(int fd);

/* The process's cwd is changing (chdir, fchdir): called before and after the system
 * call, so that no cwd asked around it is memoised (vpath.c). */
void fvm_cwd_changing(void);

/*
 * pthread_atfork, as glibc's own (libc_nonshared.a) makes it: its one line comes from a
 * static archive linked after libfvm's objects, at the end of the text, and every start
 * calls it; called here, the end of the text stays out of the memory of a process that
 * never runs it (the kernel maps text 64 KiB at a time; issue 15).
 */
extern int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
			     void *dso);
extern void *__dso_handle __attribute__((visibility("hidden")));
static inline int fvm_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
	return __register_atfork(prepare, parent, child, __dso_handle);
}

/* At start (fvm_init): the cwd memo belongs to this process (PID), and to each fork child. */
void fvm_cwd_init(pid_t pid);

/* cubroker.c: names a root run's copy-up broker SOCK (FVM_ENV_CU's value, NULL: none) in VM. */
void fvm_cu_broker_attach(struct fvm_vm *vm, const char *sock);

/* fchdir for libfvm's own use: every change of cwd goes through here or chdir(). */
static inline int fvm_fchdir(int fd)
{
	fvm_cwd_changing();
	int r = (int)sys_fchdir(fd);
	fvm_cwd_changing();
	return r;
}

/*
 * What /proc magic link MAGIC (.../fd/N, cwd, exe) points at, for a change made through
 * it. 1: the kernel may act on the link itself (a pipe, socket or anonymous inode, a
 * deleted file or O_TMPFILE, the VM's own object in upper/, a shared path). 0: it is a
 * host object, whose virtual path is now in VPATH (LEN >= FVM_RPATH_MAX), to be changed
 * in the VM instead. -errno: readlink failed, or the host path is too long.
 */
int fvm_magic_target(const char *magic, char *vpath, size_t len);

/* The same, but only for an fd on an object in upper/ (else -ENOENT). */
int fvm_fd_vpath_upper(int fd, char *out, size_t outlen);

/* fvm_vpath_at() then fvm_resolve(). An empty NAME gives -ENOENT. */
/*
 * Sets FD's size to LEN through CALL (0 or -errno): on a file of upper/ under a
 * disk-limit, a growth is reserved first (-EDQUOT past it) and a shrink given back
 * (write.c).
 */
int fvm_quota_resize(int fd, off_t len, int (*call)(int fd, off_t len));

int fvm_resolve_at(int dirfd, const char *name, int rflags, struct fvm_res *res);

/*
 * Whether a call on DIRFD/NAME may go straight to the kernel (fvm_host_direct; WANT:
 * the weakest answer the caller uses), with the virtual path in VP (a PATH_MAX buffer)
 * and its length in *VLEN (-1: none).
 */
enum fvm_direct fvm_direct_at(int dirfd, const char *name, char *vp, int *vlen,
			      enum fvm_direct want);

/*
 * Whether a direct call (HOW, from fvm_direct_at) may give the kernel DIRFD/NAME as the
 * program gave them rather than the absolute virtual path, sparing the kernel the walk
 * of every component above: NAME is one ordinary component and DIRFD a directory fd
 * (not AT_FDCWD, whose real directory may be in upper/), whose virtual path is the
 * parent the cache found host-only (FVM_DIRECT_PARENT). The directory of DIRFD is the
 * one its virtual path names, or one gone since (the kernel then fails, as natively).
 */
bool fvm_direct_rel(int dirfd, const char *name, enum fvm_direct how);

/*
 * fvm_resolve_at() of DIRFD/NAME, given what fvm_direct_at() already formed of it: its
 * virtual path VP (rewritten) when VLEN >= 0, so that it is not asked for twice.
 */
int fvm_resolve_from(int dirfd, const char *name, char *vp, int vlen, int rflags, struct fvm_res *res);

/* fvm_resolve() of absolute VPATH (LEN; a PATH_MAX buffer, rewritten for /dev/shm). */
int fvm_resolve_vpath(char *vpath, size_t len, int rflags, struct fvm_res *res);

/* Writes one line "fvm[PID]: ..." to FD with a single write (so O_APPEND lines never mix). */
void fvm_vlog(int fd, const char *fmt, va_list ap);

/* Writes one line to the debug log (FVM_DEBUG fd), when one was given. */
void fvm_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The open logic (open.c), shared by the families that create files. */
int fvm_openat(int dirfd, const char *vpath, int flags, mode_t mode);

/*
 * fvm_openat, and a directory fd it returns is remembered with its virtual path
 * (fvm_fd_remember): for a program's own opens, whose fds may serve as dirfds.
 */
int fvm_openat_remember(int dirfd, const char *vpath, int flags, mode_t mode);

/*
 * Prepares VPATH for libc's own fopen with MODE (fopen, freopen, setmntent): does the
 * creation or copy-up the open would, writes the real path into RPATH and the mode to
 * give libc into RMODE. Returns 0 or -errno.
 */
int fvm_fopen_prepare(const char *vpath, const char *mode, char *rpath, size_t rlen,
		      char *rmode, size_t mlen);

/* The mkdirat and unlinkat logic (link.c). */
int fvm_mkdirat(int dirfd, const char *vpath, mode_t mode);
int fvm_unlinkat(int dirfd, const char *vpath, int flags);

/* The fstatat and fstat logic (stat.c). */
int fvm_fstatat(int dirfd, const char *vpath, struct stat *st, int flags);
int fvm_fstat(int fd, struct stat *st);

/* The d_ino of entry NAME of upper directory UPDIR: its origin's, if it has one (stat.c). */
void fvm_entry_identity(const char *updir, const char *name, uint64_t *d_ino);

/*
 * libfvm's own DIR streams, for the walkers built on them (walk.h); inside a VM only.
 * fvm_opendirat and fvm_dir_read set errno as opendir/readdir do (NULL at the end
 * leaves it unchanged); fvm_dir_close returns 0 or -errno.
 */
DIR *fvm_opendirat(int dirfd, const char *vpath);
struct dirent64 *fvm_dir_read(DIR *dir);
int fvm_dir_close(DIR *dir);

/* getdents64 of directory fd FD: the merged listing where there is one (dir.c). */
ssize_t fvm_getdents(int fd, void *buf, size_t len);

/* Frees the merged listing kept for directory fd FD, which is being closed (dir.c). */
void fvm_listing_drop(int fd);

/* True when directory fd FD lists as the kernel has it: its stream may read it directly. */
bool fvm_dir_fd_plain(int fd);

/* The descriptor under one of libfvm's DIR streams (what dirfd() answers in a VM). */
int fvm_dir_fd(DIR *dir);

/*
 * Environment contract (exec.c): ENVP with LD_PRELOAD and FVM_* restored, and the
 * loader module when the program or the environment needs it (loader.c); PROG_LOADER:
 * what fvm_loader_prog said of the program (0 when unknown).
 */
char **fvm_env_fixup(int prog_loader, char *const envp[], char **out, size_t outn, char *buf,
		     size_t buflen);

/*
 * loader.c: whether the dynamic program RES (opened as FD, its first N bytes in HEAD)
 * needs the loader module: 1 when it lies in upper/ or its DT_RPATH or DT_RUNPATH names
 * a directory the VM changed; 0 when only the environment can say; -1 never (not a
 * program of the module's ELF class and machine: its loader would print an error).
 * *FILE_ONLY: the answer came from the file's bytes alone (no rpath looked up in the
 * VM, not its place in upper/), so that the same file always gets it.
 */
int fvm_loader_prog(const struct fvm_res *res, const char *head, size_t n, int fd, bool *file_only);

/*
 * loader.c: adds the loader module to LD_AUDIT in ENV (N entries, room for OUTN with
 * the terminator; strings into BUF) when the program (PROG_LOADER) or ENV needs it,
 * and drops what an earlier start added. Returns the new count. FVM_LOADER_ENV_N: the
 * entries it may add.
 */
#define FVM_LOADER_ENV_N 3
size_t fvm_loader_env(int prog_loader, char **env, size_t n, size_t outn, char *buf, size_t buflen);

/* loader.c, at start: LD_AUDIT as the program set it, when libfvm's exec changed it. */
void fvm_loader_restore(void);
/* libfvm's own path ("" when unknown or outside a VM), found at start (init.c). */
const char *fvm_lib_path(void);
/*
 * NAME beside libfvm.so (fvm-pieload, the loader module) into PATH (size LEN): true
 * when a regular file is there. No allocation (an exec in a vfork child asks it).
 */
bool fvm_lib_sibling(const char *name, char *path, size_t len);

/* The contract's values as they were at start (FVM_ENV_CONTRACT order; NULL: unset). */
extern const char *fvm_env_saved[];
/* Their indexes, in FVM_ENV_CONTRACT's order. */
enum { C_VM, C_ROOT, C_POLICY, C_HOME, C_DEBUG, C_MQ, C_SYSV, C_CU, C_VIRT, C_DET, C_TRACE };

/*
 * determ.c: the run's determinism options (fvm/determ.h), parsed from FVM_DET at start
 * (fvm_det_parse); fvm_det.on is 0 without them, and every hook below is then one test.
 */
#include "detcore.h"
extern struct fvm_det fvm_det;
/* libfvm-det.so beside libfvm.so when the run has FVM_DET, else "" (init.c): every exec
 * keeps it in LD_PRELOAD after libfvm. */
const char *fvm_det_lib_path(void);
/* A file's times the run made (at or after its start) as the fixed time, with clamp. */
void fvm_det_clamp_stat(struct stat *st);
void fvm_det_clamp_statx(struct statx *stx);
/* True when VPATH is /dev/urandom or /dev/random and the run is seeded. */
bool fvm_det_random_path(const char *vpath);
/* A read-only fd of the seeded stream for such an open (FLAGS: O_CLOEXEC), or -errno. */
int fvm_det_random_open(int flags);

/* net.c: appends one line to the VM's log, ROOT/log (one O_APPEND write). */
void fvm_vm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* net.c: the IPv4 address inside SA (AF_INET, or an IPv4-mapped AF_INET6), else NULL. */
struct in_addr *fvm_inet4_of(const struct sockaddr *sa, socklen_t len);

/* net.c: whether the network policy lets the VM use inet address SA (no logging). */
bool fvm_net_allowed(const struct sockaddr *sa, socklen_t len);

/* net.c: checks inet address SA for CALL: 0, or -EACCES with a line in the VM's log. */
int fvm_net_check(const char *call, const struct sockaddr *sa, socklen_t len);

/* ipcdir.c: the VM's IPC prefix (fvm/ipcname.h), NULL when it has none. */
const char *fvm_ipc_prefix_get(void);
/*
 * The listing hook of /dev/shm and /dev/mqueue: fvm_ipc_dir() gives the index of the
 * IPC directory VDIR (LEN bytes) or -1; fvm_ipc_dir_entry() writes the name entry NAME
 * of that directory shows inside the VM into OUT and returns its length, or -1 when the
 * entry is not the VM's and must not be listed.
 */
int fvm_ipc_dir(const char *vdir, size_t len);
int fvm_ipc_dir_entry(int dir, const char *name, char *out, size_t outlen);
/* The real directory listed for IPC directory DIR (the VM's own beneath /dev/shm). */
const char *fvm_ipc_dir_real(int dir);
/* The VM's directory beneath /dev/shm (fvm/ipcname.h), NULL when it has no prefix. */
const char *fvm_ipc_shmdir_get(void);
/*
 * The path hook of the same directories: absolute VPATH (LEN bytes, buffer SIZE) below
 * /dev/shm or /dev/mqueue gets the VM's name of its first component there, in place.
 * Returns the new length or -errno.
 */
int fvm_ipc_vpath(char *vpath, size_t len, size_t size);

/*
 * trace.c: what the process reports to its supervisor under fvm-exec --trace (no-ops
 * unless fvm_tracing). fvm_trace_open: a descriptor FD the program got by opening RPATH
 * (virtual VPATH) with FLAGS; fvm_trace_name: KIND (fvm/trace.h: create, delete,
 * rename with VPATH2) of VPATH; fvm_trace_exec: program RPROG run for NAME with ARGV;
 * fvm_trace_env: variable NAME asked for (SET: it was); fvm_trace_net: an address
 * used, as text. fvm_trace_flush sends what is buffered (before an exec).
 */
extern bool fvm_tracing;
void fvm_trace_init(const char *path);
void fvm_trace_open(int fd, int flags, const char *rpath, const char *vpath);
void fvm_trace_name(int kind, const char *vpath, const char *vpath2);
void fvm_trace_exec(const char *rprog, const char *name, char *const argv[]);
void fvm_trace_env(const char *name, bool set);
void fvm_trace_net(const char *what);
void fvm_trace_flush(void);
/* trace.c: NAME's value in environ, as getenv finds it, without a trace record; libfvm's
 * own lookups use it (getenv is a wrapped name). */
char *fvm_getenv(const char *name);

#endif
