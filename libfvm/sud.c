/*
 * sud.c — the Syscall User Dispatch window: glibc's internal opens seen by libfvm.
 *
 * glibc's NSS, locale, iconv and message-catalog code opens files with internal calls
 * that never reach libfvm's wrappers, so inside a VM they read the host's /etc/passwd,
 * /etc/hosts, locales and gconv modules, not the VM's. A wrapper of such a function
 * (nsswrap.c) opens a *window* around the real call: it sets this thread's dispatch
 * selector to BLOCK, and the kernel turns every system call made from outside libfvm's
 * own code into SIGSYS (prctl PR_SET_SYSCALL_USER_DISPATCH). The handler here performs
 * the call as libfvm's wrapper would (the path calls in the VM, every other call
 * unchanged), writes the result into the interrupted context and returns to the
 * instruction after the system call. Closing the window sets ALLOW again.
 *
 * Rules:
 *  - Zero cost outside windows: the selector is one byte of this thread's memory, read
 *    by the kernel only while dispatch is on; libfvm's own text (its raw system calls,
 *    the handler's return) is the region that is never dispatched.
 *  - Dispatch is set up per thread on its first window (the kernel keeps it per task;
 *    a fork child does not inherit it: pthread_atfork sets it up again there, and
 *    re-arms it when the fork happened inside a window).
 *  - The handler is installed with the raw rt_sigaction and its own restorer inside
 *    libfvm's text: on x86-64 rt_sigreturn from libc's restorer would be dispatched too.
 *    A program's rt_sigreturn inside a window (its own signal handler returning) is sent
 *    to that restorer, with the program's stack, so it is performed undispatched.
 *  - A SIGSYS that is not a dispatch (seccomp's SECCOMP_RET_TRAP, kill) goes to the
 *    program's own action, saved when the handler is installed; each window checks
 *    that the handler is still in place (one rt_sigaction query) and saves the
 *    program's action that replaced it; a program's sigaction(SIGSYS) inside a window
 *    changes that saved action.
 *  - No program code runs with the selector at BLOCK: a signal handler of the program
 *    would have its system calls dispatched, and with SIGSYS in its sa_mask the kernel
 *    kills the process. A window blocks every signal but SIGSYS (which dispatch needs
 *    open) and glibc's two internal ones, and puts the program's mask back at its
 *    close, where pending signals are delivered. The system calls that may wait (poll,
 *    recv, connect, sleeps, futex waits...) are performed with the program's mask, the
 *    selector at ALLOW: a signal interrupts them as natively (EINTR, SA_RESTART) and
 *    its handler runs undispatched. rt_sigprocmask inside a window reads and changes
 *    the program's mask kept for the close.
 *  - A thread or vfork child made inside a window (clone with CLONE_VM, clone3, vfork)
 *    cannot run on the handler's stack: the call is restarted undispatched and the
 *    rest of that window is native for this thread.
 *  - errno is the program's: the handler saves and restores it around its work.
 *  - x86-64 only; elsewhere, or on a kernel without dispatch, windows do nothing (and
 *    the debug log says so once).
 */
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <ucontext.h>

#include "libfvm.h"
#include "sud.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYSCALL_DISPATCH_FILTER_ALLOW
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2 /* si_code of a dispatched system call */
#endif

#if defined(__x86_64__)

#include <linux/audit.h>
#include <sched.h>

/* The kernel's struct sigaction on x86-64 (rt_sigaction takes a sigsetsize of 8). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};
#define KSA_RESTORER 0x04000000UL
#define SIGBIT(s) (1ULL << ((s) - 1))

/* The restorer of the handler, and where a program's rt_sigreturn is redirected. */
void fvm_sud_restorer(void) __attribute__((visibility("hidden")));
__asm__(".text\n"
	".globl fvm_sud_restorer\n"
	".hidden fvm_sud_restorer\n"
	".type fvm_sud_restorer,@function\n"
	"fvm_sud_restorer:\n"
	"\tmov $15, %eax\n" /* SYS_rt_sigreturn */
	"\tsyscall\n"
	"\thlt\n"
	".size fvm_sud_restorer,.-fvm_sud_restorer\n");

static __thread volatile char sud_sel;      /* the selector the kernel reads */
static __thread signed char sud_state;      /* 0: not set up, 1: on, -1: unavailable */
static __thread bool sud_active;            /* a window is open on this thread */
static __thread uint64_t sud_prog_mask;     /* the program's signal mask, put back at the close */

/* libfvm's executable text: the region whose system calls are never dispatched. */
static uintptr_t text_lo, text_len;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool text_found;

/* The program's own SIGSYS action, which non-dispatch SIGSYS go to. */
static struct ksigaction chain = {.handler = SIG_DFL};
static pthread_mutex_t chain_mutex = PTHREAD_MUTEX_INITIALIZER;

static void sud_handler(int sig, siginfo_t *info, void *ctx);

static int find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t me = (uintptr_t)arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && me - lo < ph->p_memsz) {
			text_lo = lo;
			text_len = ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

static int sud_on(void)
{
	return (int)FVM_SC(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, text_lo,
			   text_len, &sud_sel, 0);
}

/* In a fork child: dispatch is off (not inherited); on again if the fork was in a window. */
static void atfork_child(void)
{
	sud_state = 0;
	if (sud_active) {
		sud_state = sud_on() == 0 ? 1 : -1;
		sud_sel = SYSCALL_DISPATCH_FILTER_BLOCK;
	}
}

static void process_setup(void)
{
	text_found = dl_iterate_phdr(find_text, (void *)(uintptr_t)fvm_sud_restorer) == 1;
	fvm_atfork(NULL, NULL, atfork_child);
}

static long sys_sigaction(int sig, const struct ksigaction *act, struct ksigaction *old)
{
	return FVM_SC(SYS_rt_sigaction, sig, act, old, 8, 0, 0);
}

/* Makes sure the handler is SIGSYS's action; whatever replaced it becomes the chain. */
static void install_handler(void)
{
	struct ksigaction ours = {
		.handler = (void *)sud_handler,
		/* NODEFER: glibc's own signals (setxid, cancel) may come while the
		 * selector is BLOCK; their system calls are dispatched again. */
		.flags = SA_SIGINFO | KSA_RESTORER | SA_RESTART | SA_NODEFER,
		.restorer = (void *)fvm_sud_restorer,
	}, cur;

	if (sys_sigaction(SIGSYS, NULL, &cur) == 0 && cur.handler == ours.handler) {
		return;
	}
	pthread_mutex_lock(&chain_mutex);
	if (sys_sigaction(SIGSYS, &ours, &cur) == 0 && cur.handler != ours.handler) {
		chain = cur;
	}
	pthread_mutex_unlock(&chain_mutex);
}

/* Every signal but SIGSYS, SIGKILL, SIGSTOP and glibc's SIGCANCEL and SIGSETXID (32, 33),
 * which another thread's setuid or pthread_cancel waits on. */
#define WINDOW_MASK (~(SIGBIT(SIGSYS) | SIGBIT(SIGKILL) | SIGBIT(SIGSTOP) | SIGBIT(32) | SIGBIT(33)))

void fvm_window_open(struct fvm_window *w)
{
	uint64_t mask = WINDOW_MASK, old = 0;

	w->opened = false;
	if (!fvm_on() || sud_active) {
		return;
	}
	pthread_once(&once, process_setup);
	if (sud_state == 0) {
		sud_state = text_found && sud_on() == 0 ? 1 : -1;
		if (sud_state < 0) {
			fvm_debug("syscall user dispatch unavailable: glibc's internal opens see the host");
		}
	}
	if (sud_state < 0) {
		return;
	}
	install_handler();
	if (FVM_SC(SYS_rt_sigprocmask, SIG_SETMASK, &mask, &old, 8, 0, 0) < 0) {
		return;
	}
	sud_prog_mask = old;
	w->opened = true;
	sud_active = true;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	sud_sel = SYSCALL_DISPATCH_FILTER_BLOCK;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void fvm_window_close(struct fvm_window *w)
{
	if (!w->opened) {
		return;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	sud_sel = SYSCALL_DISPATCH_FILTER_ALLOW;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	sud_active = false;
	FVM_SC(SYS_rt_sigprocmask, SIG_SETMASK, &sud_prog_mask, NULL, 8, 0, 0);
}

/* A non-dispatch SIGSYS: the program's own action, as if libfvm were not there. */
static void chain_sigsys(int sig, siginfo_t *info, void *ctx)
{
	struct ksigaction act = chain;

	if (act.handler == SIG_IGN) {
		return;
	}
	if (act.handler == SIG_DFL) {
		/* Default action: pending while the handler runs, it ends the process after. */
		FVM_SC(SYS_rt_sigaction, SIGSYS, &act, NULL, 8, 0, 0);
		FVM_SC(SYS_tgkill, sys_getpid(), FVM_SC(SYS_gettid, 0, 0, 0, 0, 0, 0), SIGSYS, 0, 0, 0);
		return;
	}
	if (act.flags & SA_SIGINFO) {
		((void (*)(int, siginfo_t *, void *))act.handler)(sig, info, ctx);
	} else {
		((void (*)(int))act.handler)(sig);
	}
}

/* rt_sigprocmask inside a window: done on the program's mask, put back at the close. */
static long window_sigprocmask(int how, const uint64_t *set, uint64_t *oldset, size_t size)
{
	uint64_t cur = sud_prog_mask, want = cur;

	if (size != 8) {
		return -EINVAL;
	}
	if (set) {
		if (fvm_bad_range(set, sizeof(*set))) {
			return -EFAULT;
		}
		switch (how) {
		case SIG_BLOCK: want = cur | *set; break;
		case SIG_UNBLOCK: want = cur & ~*set; break;
		case SIG_SETMASK: want = *set; break;
		default: return -EINVAL;
		}
	}
	if (oldset) {
		if (fvm_bad_range(oldset, sizeof(*oldset))) {
			return -EFAULT;
		}
		*oldset = cur;
	}
	sud_prog_mask = want & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	return 0;
}

/*
 * Whether system call NR (arguments A) is performed with the program's mask: it may
 * wait for long (a signal must interrupt it as natively), or it sends a signal, which
 * the program may be sending itself (raise, abort) and expects delivered at once.
 */
static bool may_wait(long nr, const long *a)
{
	switch (nr) {
	case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6:
	case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2:
	case SYS_recvfrom: case SYS_recvmsg: case SYS_recvmmsg: case SYS_connect:
	case SYS_accept: case SYS_accept4: case SYS_nanosleep: case SYS_clock_nanosleep:
	case SYS_wait4: case SYS_waitid: case SYS_rt_sigtimedwait: case SYS_pause:
	case SYS_flock: case SYS_msgrcv: case SYS_semop: case SYS_semtimedop:
	case SYS_kill: case SYS_tkill: case SYS_tgkill: case SYS_rt_sigqueueinfo:
	case SYS_rt_tgsigqueueinfo:
		return true;
	case SYS_futex: {
		int op = (int)a[1] & 127; /* FUTEX_CMD_MASK */
		return op == 0 || op == 9 || op == 6 || op == 11; /* WAIT, WAIT_BITSET, LOCK_PI, WAIT_REQUEUE_PI */
	}
	case SYS_fcntl:
		return a[1] == F_SETLKW || a[1] == F_OFD_SETLKW;
	default:
		return false;
	}
}

/* rt_sigaction of SIGSYS inside a window: the program's action is the chain's. */
static long window_sigaction(const struct ksigaction *act, struct ksigaction *old, size_t size)
{
	if (size != 8) {
		return -EINVAL;
	}
	if ((act && fvm_bad_range(act, sizeof(*act))) || (old && fvm_bad_range(old, sizeof(*old)))) {
		return -EFAULT;
	}
	if (old) {
		*old = chain;
	}
	if (act) {
		chain = *act;
	}
	return 0;
}

/* errno of a libfvm wrapper's -1 as -errno; any other result as it is. */
#define VIA(expr)                                      \
	({                                             \
		errno = 0;                             \
		long via_r_ = (long)(expr);            \
		via_r_ == -1 ? -(long)errno : via_r_;  \
	})

/* A path libfvm itself produced (inside the store): already real, performed as it is. */
static bool real_path(long p)
{
	const char *path = (const char *)p;
	size_t n = strlen(fvm_g.home);

	if (fvm_bad_ptr(path)) {
		return true; /* the kernel answers EFAULT */
	}
	return path[0] == '/' && n && strncmp(path, fvm_g.home, n) == 0 &&
	       (path[n] == '/' || path[n] == '\0');
}

/*
 * Performs system call NR with arguments A as libfvm's wrapper of it would: the calls
 * that name paths or fds libfvm keeps track of go through libfvm's logic, grouped by
 * the position of their path; every other call goes to the kernel unchanged.
 */
static long perform(long nr, const long *a)
{
	switch (nr) {
	/* a path first */
	case SYS_open:
	case SYS_creat:
	case SYS_stat:
	case SYS_lstat:
	case SYS_access:
	case SYS_readlink:
	case SYS_statfs:
	case SYS_chdir:
	case SYS_mkdir:
	case SYS_rmdir:
	case SYS_unlink:
	case SYS_chmod:
	case SYS_chown:
	case SYS_lchown:
	case SYS_truncate:
	case SYS_rename:
	case SYS_link:
	case SYS_execve:
		if (real_path(a[0])) {
			break;
		}
		switch (nr) {
		case SYS_open: return fvm_openat_remember(AT_FDCWD, (char *)a[0], (int)a[1], (mode_t)a[2]);
		case SYS_creat:
			return fvm_openat_remember(AT_FDCWD, (char *)a[0], O_CREAT | O_WRONLY | O_TRUNC,
						   (mode_t)a[1]);
		case SYS_stat: return fvm_fstatat(AT_FDCWD, (char *)a[0], (struct stat *)a[1], 0);
		case SYS_lstat:
			return fvm_fstatat(AT_FDCWD, (char *)a[0], (struct stat *)a[1], AT_SYMLINK_NOFOLLOW);
		case SYS_access: return VIA(faccessat(AT_FDCWD, (char *)a[0], (int)a[1], 0));
		case SYS_readlink: return VIA(readlink((char *)a[0], (char *)a[1], (size_t)a[2]));
		case SYS_statfs: return VIA(statfs((char *)a[0], (struct statfs *)a[1]));
		case SYS_chdir: return VIA(chdir((char *)a[0]));
		case SYS_mkdir: return fvm_mkdirat(AT_FDCWD, (char *)a[0], (mode_t)a[1]);
		case SYS_rmdir: return fvm_unlinkat(AT_FDCWD, (char *)a[0], AT_REMOVEDIR);
		case SYS_unlink: return fvm_unlinkat(AT_FDCWD, (char *)a[0], 0);
		case SYS_chmod: return VIA(chmod((char *)a[0], (mode_t)a[1]));
		case SYS_chown: return VIA(chown((char *)a[0], (uid_t)a[1], (gid_t)a[2]));
		case SYS_lchown: return VIA(lchown((char *)a[0], (uid_t)a[1], (gid_t)a[2]));
		case SYS_truncate: return VIA(truncate((char *)a[0], (off_t)a[1]));
		case SYS_rename: return VIA(rename((char *)a[0], (char *)a[1]));
		case SYS_link: return VIA(link((char *)a[0], (char *)a[1]));
		case SYS_execve:
			return VIA(execve((char *)a[0], (char *const *)a[1], (char *const *)a[2]));
		default: break;
		}
		break;
	/* a directory fd and a path */
	case SYS_openat:
	case SYS_newfstatat:
	case SYS_statx:
	case SYS_faccessat:
	case SYS_faccessat2:
	case SYS_readlinkat:
	case SYS_mkdirat:
	case SYS_unlinkat:
	case SYS_fchmodat:
	case SYS_fchownat:
	case SYS_utimensat:
	case SYS_renameat:
	case SYS_renameat2:
	case SYS_execveat:
		if (a[1] && real_path(a[1])) {
			break;
		}
		switch (nr) {
		case SYS_openat: return fvm_openat_remember((int)a[0], (char *)a[1], (int)a[2], (mode_t)a[3]);
		case SYS_newfstatat: return fvm_fstatat((int)a[0], (char *)a[1], (struct stat *)a[2], (int)a[3]);
		case SYS_statx:
			return VIA(statx((int)a[0], (char *)a[1], (int)a[2], (unsigned)a[3], (struct statx *)a[4]));
		case SYS_faccessat: return VIA(faccessat((int)a[0], (char *)a[1], (int)a[2], 0));
		case SYS_faccessat2: return VIA(faccessat((int)a[0], (char *)a[1], (int)a[2], (int)a[3]));
		case SYS_readlinkat: return VIA(readlinkat((int)a[0], (char *)a[1], (char *)a[2], (size_t)a[3]));
		case SYS_mkdirat: return fvm_mkdirat((int)a[0], (char *)a[1], (mode_t)a[2]);
		case SYS_unlinkat: return fvm_unlinkat((int)a[0], (char *)a[1], (int)a[2]);
		case SYS_fchmodat: return VIA(fchmodat((int)a[0], (char *)a[1], (mode_t)a[2], 0));
		case SYS_fchownat:
			return VIA(fchownat((int)a[0], (char *)a[1], (uid_t)a[2], (gid_t)a[3], (int)a[4]));
		case SYS_utimensat:
			return VIA(utimensat((int)a[0], (char *)a[1], (struct timespec *)a[2], (int)a[3]));
		case SYS_renameat: return VIA(renameat((int)a[0], (char *)a[1], (int)a[2], (char *)a[3]));
		case SYS_renameat2:
			return VIA(renameat2((int)a[0], (char *)a[1], (int)a[2], (char *)a[3], (unsigned)a[4]));
		case SYS_execveat:
			return VIA(execveat((int)a[0], (char *)a[1], (char *const *)a[2], (char *const *)a[3],
					    (int)a[4]));
		default: break;
		}
		break;
	/* descriptors libfvm keeps track of */
	case SYS_fstat: return fvm_fstat((int)a[0], (struct stat *)a[1]);
	case SYS_getdents64: return fvm_getdents((int)a[0], (void *)a[1], (size_t)a[2]);
	case SYS_close: return VIA(close((int)a[0]));
	case SYS_dup: return VIA(dup((int)a[0]));
	case SYS_dup2: return VIA(dup2((int)a[0], (int)a[1]));
	case SYS_dup3: return VIA(dup3((int)a[0], (int)a[1], (int)a[2]));
	case SYS_fcntl: return VIA(fcntl((int)a[0], (int)a[1], a[2]));
	case SYS_fchdir: return VIA(fchdir((int)a[0]));
	case SYS_getcwd: {
		char *r = getcwd((char *)a[0], (size_t)a[1]);
		return r ? (long)strlen(r) + 1 : -(long)errno;
	}
	/* sockets: AF_UNIX names in the VM, the network policy */
	case SYS_connect: return VIA(connect((int)a[0], (struct sockaddr *)a[1], (socklen_t)a[2]));
	case SYS_bind: return VIA(bind((int)a[0], (struct sockaddr *)a[1], (socklen_t)a[2]));
	case SYS_sendto:
		return VIA(sendto((int)a[0], (void *)a[1], (size_t)a[2], (int)a[3], (struct sockaddr *)a[4],
				  (socklen_t)a[5]));
	case SYS_sendmsg: return VIA(sendmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]));
	default: break;
	}
	return FVM_SC(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static void sud_handler(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	int saved_errno = errno;
	long nr = info->si_syscall, ret;
	long a[6] = {g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9]};

	if (info->si_code != SYS_USER_DISPATCH) {
		chain_sigsys(sig, info, ctx);
		return;
	}
	sud_sel = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (info->si_arch != AUDIT_ARCH_X86_64 || nr == SYS_clone3 || nr == SYS_vfork ||
	    (nr == SYS_clone && ((a[0] & CLONE_VM) || a[1]))) {
		/* Not performed on this stack: restarted undispatched, the window ends here. */
		g[REG_RIP] -= 2;
		g[REG_RAX] = nr;
		errno = saved_errno;
		return;
	}
	switch (nr) {
	case SYS_rt_sigreturn:
		/* The program's own handler returning: its frame is at the stack pointer. */
		g[REG_RIP] = (greg_t)(uintptr_t)fvm_sud_restorer;
		g[REG_RAX] = nr;
		sud_sel = SYSCALL_DISPATCH_FILTER_BLOCK;
		return;
	case SYS_rt_sigprocmask:
		ret = window_sigprocmask((int)a[0], (uint64_t *)a[1], (uint64_t *)a[2], (size_t)a[3]);
		break;
	case SYS_rt_sigaction:
		ret = a[0] == SIGSYS ? window_sigaction((struct ksigaction *)a[1], (struct ksigaction *)a[2],
							(size_t)a[3])
				     : perform(nr, a);
		break;
	default:
		if (may_wait(nr, a)) {
			uint64_t prog = sud_prog_mask & ~SIGBIT(SIGSYS), cur;
			FVM_SC(SYS_rt_sigprocmask, SIG_SETMASK, &prog, &cur, 8, 0, 0);
			ret = perform(nr, a);
			FVM_SC(SYS_rt_sigprocmask, SIG_SETMASK, &cur, NULL, 8, 0, 0);
		} else {
			ret = perform(nr, a);
		}
		break;
	}
	g[REG_RAX] = ret;
	errno = saved_errno;
	sud_sel = SYSCALL_DISPATCH_FILTER_BLOCK;
}

#else /* !__x86_64__ */

void fvm_window_open(struct fvm_window *w)
{
	w->opened = false;
}

void fvm_window_close(struct fvm_window *w)
{
	(void)w;
}

#endif
