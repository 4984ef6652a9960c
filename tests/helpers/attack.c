/*
 * attack — one hostile action from inside a VM, for tests/security (issue 13).
 * Built twice, like try-syscall: dynamic (libfvm is loaded, but every call below is a
 * raw system call made by the instruction itself, rawcall.h, which libfvm cannot see)
 * and static (libfvm cannot be loaded at all). The tests also run some operations natively, to set up a
 * victim or to check one.
 *
 *   attack symlink TARGET LINK      symlinkat
 *   attack symlinks TARGET PFX A B  symlinkat "PFX.N" -> TARGET for every N in A..B
 *   attack rename OLD NEW           renameat
 *   attack mkdir PATH               mkdirat 0755
 *   attack append FILE TEXT         openat(O_WRONLY|O_APPEND|O_CREAT) and write TEXT
 *   attack put FILE TEXT            openat(O_WRONLY|O_CREAT|O_TRUNC) and write TEXT
 *   attack mkfifo PATH              mknodat S_IFIFO
 *   attack swaprace DIR TARGET NAME N  a child swaps directory DIR (a layer's) for a link
 *                                   to TARGET and back, over and over, while N files
 *                                   NAME/f.I are created (openat O_CREAT, a write): a
 *                                   creation or copy-up that follows the link meanwhile
 *                                   writes into TARGET
 *   attack namerace PUBLIC SECRET N  a thread rewrites a name in place, PUBLIC and SECRET
 *                                   in turn, while N opens (openat O_RDONLY) of that name
 *                                   read what they open; prints "namerace: public=P
 *                                   secret=S failed=F": S counts the opens that read
 *                                   SECRET's content (a line with "SECRET")
 *   attack read FILE                openat(O_RDONLY), copies the content to stdout
 *   attack chmod PATH MODE          fchmodat (MODE octal)
 *   attack fchmod PATH MODE         openat(O_RDONLY) then fchmod
 *   attack i386-chmod PATH MODE     chmod through the i386 ABI (int $0x80, x86_64 only)
 *   attack chown PATH UID GID       fchownat
 *   attack utime PATH               utimensat: atime and mtime to the epoch
 *   attack setxattr PATH NAME VAL   setxattr
 *   attack setflags PATH FLAG       FS_IOC_SETFLAGS adding FLAG (immutable, append, nodump)
 *   attack mknod-blk PATH MAJ MIN   mknodat S_IFBLK
 *   attack devwrite PATH TEXT       openat(O_WRONLY), pwrite TEXT at offset 0, fsync
 *   attack tiocsti TEXT             ioctl(TIOCSTI) of each byte of TEXT ("\n" escapes
 *                                   a newline) into the controlling terminal (fd 0)
 *   attack shm-create KEY TEXT      a 4 KiB SysV segment of KEY (0: private), mode 0600,
 *                                   holding TEXT; prints its id (setup, natively)
 *   attack shm-read ID              prints the segment's text (check, natively)
 *   attack shm-write ID TEXT        shmat the SysV segment ID and write TEXT at its start
 *   attack mq-create NAME           mq_open(O_CREAT) (setup, natively)
 *   attack mq-exists NAME           mq_open(O_RDONLY) (check, natively)
 *   attack mq-unlink NAME           mq_unlink
 *   attack prlimit PID BYTES        prlimit64(PID, RLIMIT_FSIZE, {BYTES, BYTES})
 *   attack setpriority PID NICE     setpriority(PRIO_PROCESS, PID, NICE)
 *   attack sethostname NAME         sethostname
 *   attack unix-connect PATH TEXT   connect an AF_UNIX stream socket to PATH, send TEXT
 *   attack i386-unix-connect PATH TEXT        the same, connect(2) of the i386 ABI
 *   attack i386-socketcall-connect PATH TEXT  the same, i386 socketcall(SYS_CONNECT)
 *   attack unix-sendto PATH TEXT    an AF_UNIX datagram socket, unconnected: sendto(PATH)
 *   attack unix-sendmsg PATH TEXT   the same, sendmsg with msg_name PATH
 *   attack unix-sendmmsg PATH TEXT  the same, sendmmsg of one message to PATH
 *   attack unix-sendmsg-fd PATH TEXT  sendmsg to PATH with an SCM_RIGHTS fd (stdin)
 *   attack i386-unix-sendmsg PATH TEXT  the same as unix-sendmsg, i386 sendmsg(2)
 *   attack sched-setaffinity PID CPU          sched_setaffinity(PID) to CPU alone
 *   attack sched-setscheduler PID             sched_setscheduler(PID, SCHED_IDLE)
 *   attack sched-setattr PID                  sched_setattr(PID): SCHED_BATCH, nice 19
 *   attack ioprio-set WHICH WHO               ioprio_set(WHICH: process, pgrp or user,
 *                                             WHO, the idle class)
 *   attack hold FILE SECONDS TEXT   daemonizes (fork, setsid, fork, closes 0-2) with FILE
 *                                   open for appending, sleeps SECONDS, then writes TEXT
 *
 * Prints "OP: ok" or "OP: ERRNAME" and exits 0 or 1 (2: usage).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "rawcall.h"
#include "report.h"

/* namerace's name, rewritten in place by its thread: PUBLIC and SECRET in turn. */
static char race_name[4096], race_a[4096], race_b[4096];

static void *race_flip(void *arg)
{
	size_t la = strlen(race_a) + 1, lb = strlen(race_b) + 1;

	(void)arg;
	/* Each name stays whole for a while (a few µs), so that a reader meets both whole,
	 * not only torn mixes, whatever the load. */
	for (;;) {
		memcpy(race_name, race_b, lb);
		for (volatile int i = 0; i < 2000; i++) {
		}
		memcpy(race_name, race_a, la);
		for (volatile int i = 0; i < 2000; i++) {
		}
	}
	return NULL;
}

static long open_raw(const char *path, int flags, int mode)
{
	return syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode);
}

static long write_all(int fd, const char *text)
{
	size_t len = strlen(text);

	return syscall(SYS_write, fd, text, len) == (long)len ? 0 : -1;
}

/* Opens PATH with FLAGS and writes TEXT. */
static long open_write(const char *path, int flags, const char *text)
{
	long fd = open_raw(path, flags, 0644);

	if (fd < 0) {
		return -1;
	}
	long r = write_all((int)fd, text);
	syscall(SYS_close, (int)fd);
	return r;
}

#if defined(__x86_64__)
/* An i386 system call from this 64-bit process: the kernel sees AUDIT_ARCH_I386. */
static long int80(long nr, long a, long b)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b) : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static long i386_chmod(const char *path, long mode)
{
	size_t len = strlen(path) + 1;
	/* Below 4 GiB, where an i386 pointer can reach it. */
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (p == MAP_FAILED) {
		return -1;
	}
	memcpy(p, path, len);
	return int80(15 /* i386 chmod */, (long)p, mode);
}

static long int80_3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* A native AF_UNIX socket connected to PATH by the i386 ABI: its connect(2) (362), or
 * socketcall(SYS_CONNECT) (102) when SOCKETCALL; then TEXT is written. */
static long i386_unix_connect(const char *path, const char *text, bool socketcall)
{
	struct {
		struct sockaddr_un un;
		uint32_t args[3];
	} *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (low == MAP_FAILED || fd < 0) {
		return -1;
	}
	low->un.sun_family = AF_UNIX;
	snprintf(low->un.sun_path, sizeof(low->un.sun_path), "%s", path);
	long r;
	if (socketcall) {
		low->args[0] = (uint32_t)fd;
		low->args[1] = (uint32_t)(uintptr_t)&low->un;
		low->args[2] = sizeof(low->un);
		r = int80(102, 3 /* SYS_CONNECT */, (long)low->args);
	} else {
		r = int80_3(362, fd, (long)&low->un, sizeof(low->un));
	}
	return r < 0 ? -1 : write_all((int)fd, text);
}
/* An unconnected AF_UNIX datagram socket sends TEXT to PATH by the i386 sendmsg(2)
 * (370), its msghdr and iovec in their 32-bit layout below 4 GiB. */
static long i386_unix_sendmsg(const char *path, const char *text)
{
	struct {
		struct sockaddr_un un;
		uint32_t iov[2];
		uint32_t msg[7]; /* name, namelen, iov, iovlen, control, controllen, flags */
		char text[256];
	} *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	long fd = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (low == MAP_FAILED || fd < 0) {
		return -1;
	}
	low->un.sun_family = AF_UNIX;
	snprintf(low->un.sun_path, sizeof(low->un.sun_path), "%s", path);
	snprintf(low->text, sizeof(low->text), "%s", text);
	low->iov[0] = (uint32_t)(uintptr_t)low->text;
	low->iov[1] = (uint32_t)strlen(low->text);
	memset(low->msg, 0, sizeof(low->msg));
	low->msg[0] = (uint32_t)(uintptr_t)&low->un;
	low->msg[1] = sizeof(low->un);
	low->msg[2] = (uint32_t)(uintptr_t)low->iov;
	low->msg[3] = 1;
	return int80_3(370, fd, (long)low->msg, 0) < 0 ? -1 : 0;
}
#else
static long i386_unix_sendmsg(const char *path, const char *text)
{
	(void)path;
	(void)text;
	errno = ENOSYS;
	return -1;
}

static long i386_unix_connect(const char *path, const char *text, bool socketcall)
{
	(void)path;
	(void)text;
	(void)socketcall;
	errno = ENOSYS;
	return -1;
}

static long i386_chmod(const char *path, long mode)
{
	(void)path;
	(void)mode;
	errno = ENOSYS;
	return -1;
}
#endif

static long set_flag(const char *path, const char *flag)
{
	long fd = open_raw(path, O_RDONLY | O_NONBLOCK, 0);
	int flags = 0, add;

	if (strcmp(flag, "immutable") == 0) {
		add = FS_IMMUTABLE_FL;
	} else if (strcmp(flag, "append") == 0) {
		add = FS_APPEND_FL;
	} else if (strcmp(flag, "nodump") == 0) {
		add = FS_NODUMP_FL;
	} else {
		errno = EINVAL;
		return -1;
	}
	if (fd < 0 || syscall(SYS_ioctl, (int)fd, FS_IOC_GETFLAGS, &flags) < 0) {
		return -1;
	}
	flags |= add;
	return syscall(SYS_ioctl, (int)fd, FS_IOC_SETFLAGS, &flags);
}

static long tiocsti(const char *text)
{
	for (const char *c = text; *c; c++) {
		char ch = *c;
		if (c[0] == '\\' && c[1] == 'n') {
			ch = '\n';
			c++;
		}
		if (syscall(SYS_ioctl, 0, TIOCSTI, &ch) < 0) {
			return -1;
		}
	}
	return 0;
}

static long shm_write(int id, const char *text)
{
	char *p = (char *)syscall(SYS_shmat, id, NULL, 0);

	if (p == (char *)-1) {
		return -1;
	}
	memcpy(p, text, strlen(text));
	return syscall(SYS_shmdt, p);
}

static long unix_connect(const char *path, const char *text)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	if (fd < 0 || syscall(SYS_connect, (int)fd, &un, sizeof(un)) < 0) {
		return -1;
	}
	return write_all((int)fd, text);
}

/* An unconnected AF_UNIX datagram socket sends TEXT to PATH: by sendto (HOW 0),
 * sendmsg (1), sendmmsg (2), or sendmsg carrying fd 0 in SCM_RIGHTS (3). */
static long unix_send(const char *path, const char *text, int how)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	long fd = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct mmsghdr mm = {.msg_hdr = {.msg_name = &un, .msg_namelen = sizeof(un), .msg_iov = &iov, .msg_iovlen = 1}};

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	if (fd < 0) {
		return -1;
	}
	switch (how) {
	case 0:
		return syscall(SYS_sendto, (int)fd, text, strlen(text), 0, &un, sizeof(un)) < 0 ? -1 : 0;
	case 2:
		return syscall(SYS_sendmmsg, (int)fd, &mm, 1, 0) == 1 ? 0 : -1;
	case 3: {
		int zero = 0;
		mm.msg_hdr.msg_control = cbuf;
		mm.msg_hdr.msg_controllen = sizeof(cbuf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mm.msg_hdr);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &zero, sizeof(int));
	}
		/* fall through */
	default:
		return syscall(SYS_sendmsg, (int)fd, &mm.msg_hdr, 0) < 0 ? -1 : 0;
	}
}

/* The parent reports that the daemon started; the daemon reports nothing. */
static long hold(const char *path, int seconds, const char *text)
{
	long fd = open_raw(path, O_WRONLY | O_APPEND, 0);

	if (fd < 0) {
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid > 0) {
		return 0;
	}
	setsid();
	if (fork() != 0) {
		_exit(0);
	}
	for (int i = 0; i < 3; i++) {
		close(i);
	}
	struct timespec ts = {seconds, 0};
	nanosleep(&ts, NULL);
	write_all((int)fd, text);
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	struct rlimit64 {
		unsigned long long cur, max;
	} rl;
	struct timespec ts[2] = {{0, 0}, {0, 0}};
	char buf[4096];
	long r;

	setvbuf(stdout, NULL, _IONBF, 0); /* before hold's fork: nothing buffered twice */
#define IS(name, n) (strcmp(op, name) == 0 && argc == (n) + 2)
	if (IS("symlink", 2)) {
		return report(op, syscall(SYS_symlinkat, argv[2], AT_FDCWD, argv[3]));
	}
	if (IS("symlinks", 4)) {
		char link[4096];
		long n = atol(argv[4]), last = atol(argv[5]);
		for (r = 0; n <= last && r == 0; n++) {
			snprintf(link, sizeof(link), "%s.%ld", argv[3], n);
			r = syscall(SYS_symlinkat, argv[2], AT_FDCWD, link);
		}
		return report(op, r);
	}
	if (IS("rename", 2)) {
		return report(op, syscall(SYS_renameat, AT_FDCWD, argv[2], AT_FDCWD, argv[3]));
	}
	if (IS("mkdir", 1)) {
		return report(op, syscall(SYS_mkdirat, AT_FDCWD, argv[2], 0755));
	}
	if (IS("append", 2)) {
		return report(op, open_write(argv[2], O_WRONLY | O_APPEND | O_CREAT, argv[3]));
	}
	if (IS("put", 2)) {
		return report(op, open_write(argv[2], O_WRONLY | O_CREAT | O_TRUNC, argv[3]));
	}
	if (IS("swaprace", 4)) {
		char aside[4096], f[4096];
		long n = atol(argv[5]);
		snprintf(aside, sizeof(aside), "%s.aside", argv[2]);
		pid_t kid = fork();
		if (kid == 0) {
			for (;;) {
				syscall(SYS_renameat, AT_FDCWD, argv[2], AT_FDCWD, aside);
				syscall(SYS_symlinkat, argv[3], AT_FDCWD, argv[2]);
				syscall(SYS_unlinkat, AT_FDCWD, argv[2], 0);
				syscall(SYS_renameat, AT_FDCWD, aside, AT_FDCWD, argv[2]);
			}
		}
		for (long i = 0; i < n; i++) {
			snprintf(f, sizeof(f), "%s/f.%ld", argv[4], i);
			long fd = syscall(SYS_openat, AT_FDCWD, f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (fd >= 0) {
				syscall(SYS_write, fd, "x", 1);
				syscall(SYS_close, fd);
			}
		}
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
		return report(op, 0);
	}
	if (IS("namerace", 3)) {
		long n = atol(argv[4]), pub = 0, secret = 0, failed = 0;
		char got[256];
		pthread_t t;
		snprintf(race_a, sizeof(race_a), "%s", argv[2]);
		snprintf(race_b, sizeof(race_b), "%s", argv[3]);
		memcpy(race_name, race_a, strlen(race_a) + 1);
		if (pthread_create(&t, NULL, race_flip, NULL) != 0) {
			return report(op, -EAGAIN);
		}
		for (long i = 0; i < n; i++) {
			long fd = open_raw(race_name, O_RDONLY, 0);
			if (fd < 0) {
				failed++;
				continue;
			}
			long k = syscall(SYS_read, fd, got, sizeof(got) - 1);
			syscall(SYS_close, fd);
			got[k > 0 ? k : 0] = '\0';
			if (strstr(got, "SECRET")) {
				secret++;
			} else {
				pub++;
			}
		}
		printf("namerace: public=%ld secret=%ld failed=%ld\n", pub, secret, failed);
		fflush(stdout);
		_exit(0); /* the thread flips on: the whole process ends here */
	}
	if (IS("mkfifo", 1)) {
		return report(op, syscall(SYS_mknodat, AT_FDCWD, argv[2], S_IFIFO | 0644, 0));
	}
	if (IS("read", 1)) {
		r = open_raw(argv[2], O_RDONLY, 0);
		if (r < 0) {
			return report(op, r);
		}
		int fd = (int)r;
		while ((r = syscall(SYS_read, fd, buf, sizeof(buf))) > 0) {
			fwrite(buf, 1, (size_t)r, stdout);
		}
		return r < 0 ? report(op, r) : 0;
	}
	if (IS("chmod", 2)) {
		return report(op, syscall(SYS_fchmodat, AT_FDCWD, argv[2], strtol(argv[3], NULL, 8)));
	}
	if (IS("fchmod", 2)) {
		r = open_raw(argv[2], O_RDONLY | O_NONBLOCK, 0);
		if (r >= 0) {
			r = syscall(SYS_fchmod, (int)r, strtol(argv[3], NULL, 8));
		}
		return report(op, r);
	}
	if (IS("i386-chmod", 2)) {
		return report(op, i386_chmod(argv[2], strtol(argv[3], NULL, 8)));
	}
	if (IS("chown", 3)) {
		return report(op, syscall(SYS_fchownat, AT_FDCWD, argv[2], atoi(argv[3]), atoi(argv[4]), 0));
	}
	if (IS("utime", 1)) {
		return report(op, syscall(SYS_utimensat, AT_FDCWD, argv[2], ts, 0));
	}
	if (IS("setxattr", 3)) {
		return report(op, syscall(SYS_setxattr, argv[2], argv[3], argv[4], strlen(argv[4]), 0));
	}
	if (IS("setflags", 2)) {
		return report(op, set_flag(argv[2], argv[3]));
	}
	if (IS("mknod-blk", 3)) {
		dev_t dev = makedev((unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
		return report(op, syscall(SYS_mknodat, AT_FDCWD, argv[2], S_IFBLK | 0600, dev));
	}
	if (IS("devwrite", 2)) {
		r = open_raw(argv[2], O_WRONLY, 0);
		if (r >= 0) {
			int fd = (int)r;
			size_t len = strlen(argv[3]);
			r = syscall(SYS_pwrite64, fd, argv[3], len, 0) == (long)len ? syscall(SYS_fsync, fd) : -1;
		}
		return report(op, r);
	}
	if (IS("tiocsti", 1)) {
		return report(op, tiocsti(argv[2]));
	}
	if (IS("shm-create", 2)) {
		r = syscall(SYS_shmget, atoi(argv[2]), 4096, IPC_CREAT | IPC_EXCL | 0600);
		if (r < 0 || shm_write((int)r, argv[3]) < 0) {
			return report(op, -1);
		}
		printf("%ld\n", r);
		return 0;
	}
	if (IS("shm-read", 1)) {
		char *p = (char *)syscall(SYS_shmat, atoi(argv[2]), NULL, SHM_RDONLY);
		if (p == (char *)-1) {
			return report(op, -1);
		}
		printf("%.*s\n", (int)strnlen(p, 4096), p);
		return 0;
	}
	if (IS("shm-write", 2)) {
		return report(op, shm_write(atoi(argv[2]), argv[3]));
	}
	if (strncmp(op, "mq-", 3) == 0 && argc == 3 && argv[2][0] == '/') {
		argv[2]++; /* the system call takes the name without glibc's leading '/' */
	}
	if (IS("mq-create", 1)) {
		return report(op, syscall(SYS_mq_open, argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0600, NULL));
	}
	if (IS("mq-exists", 1)) {
		return report(op, syscall(SYS_mq_open, argv[2], O_RDONLY | O_CLOEXEC, 0, NULL));
	}
	if (IS("mq-unlink", 1)) {
		return report(op, syscall(SYS_mq_unlink, argv[2]));
	}
	if (IS("prlimit", 2)) {
		rl.cur = rl.max = strtoull(argv[3], NULL, 10);
		return report(op, syscall(SYS_prlimit64, atoi(argv[2]), RLIMIT_FSIZE, &rl, NULL));
	}
	if (IS("setpriority", 2)) {
		return report(op, syscall(SYS_setpriority, PRIO_PROCESS, atoi(argv[2]), atoi(argv[3])));
	}
	if (IS("sethostname", 1)) {
		return report(op, syscall(SYS_sethostname, argv[2], strlen(argv[2])));
	}
	if (IS("i386-unix-connect", 2)) {
		return report(op, i386_unix_connect(argv[2], argv[3], false));
	}
	if (IS("i386-socketcall-connect", 2)) {
		return report(op, i386_unix_connect(argv[2], argv[3], true));
	}
	if (IS("unix-connect", 2)) {
		return report(op, unix_connect(argv[2], argv[3]));
	}
	if (IS("unix-sendto", 2)) {
		return report(op, unix_send(argv[2], argv[3], 0));
	}
	if (IS("unix-sendmsg", 2)) {
		return report(op, unix_send(argv[2], argv[3], 1));
	}
	if (IS("unix-sendmmsg", 2)) {
		return report(op, unix_send(argv[2], argv[3], 2));
	}
	if (IS("unix-sendmsg-fd", 2)) {
		return report(op, unix_send(argv[2], argv[3], 3));
	}
	if (IS("i386-unix-sendmsg", 2)) {
		return report(op, i386_unix_sendmsg(argv[2], argv[3]));
	}
	if (IS("sched-setaffinity", 2)) {
		uint64_t mask[16] = {0};
		int cpu = atoi(argv[3]);
		if (cpu < 0 || cpu >= 1024) {
			return report(op, (errno = EINVAL, -1));
		}
		mask[cpu / 64] = 1ull << (cpu % 64);
		return report(op, syscall(SYS_sched_setaffinity, atoi(argv[2]), sizeof(mask), mask));
	}
	if (IS("sched-setscheduler", 1)) {
		int prio = 0;
		return report(op, syscall(SYS_sched_setscheduler, atoi(argv[2]), 5 /* SCHED_IDLE */, &prio));
	}
	if (IS("sched-setattr", 1)) {
		struct {
			uint32_t size, policy;
			uint64_t flags;
			int32_t nice;
			uint32_t prio;
			uint64_t runtime, deadline, period;
		} a = {.size = 48, .policy = 3 /* SCHED_BATCH */, .nice = 19};
		return report(op, syscall(SYS_sched_setattr, atoi(argv[2]), &a, 0));
	}
	if (IS("ioprio-set", 2)) {
		int which = strcmp(argv[2], "pgrp") == 0 ? 2 : strcmp(argv[2], "user") == 0 ? 3 : 1;
		return report(op, syscall(SYS_ioprio_set, which, atoi(argv[3]), 3 << 13 /* IOPRIO_CLASS_IDLE */));
	}
	if (IS("hold", 3)) {
		return report(op, hold(argv[2], atoi(argv[3]), argv[4]));
	}
	fprintf(stderr, "usage: attack OP ARGS... (see the header of tests/helpers/attack.c)\n");
	return 2;
}
