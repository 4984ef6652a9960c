/*
 * ipc-raw — SysV and POSIX-queue operations by raw system calls, for the IPC guard's
 * tests (tests/security/t_ipc_guard.sh). Built twice, like attack: dynamic (libfvm is
 * loaded, but these calls are made by the instruction itself, rawcall.h, unseen by it)
 * and static. Names are passed to the kernel as given (no leading '/': the system call's form).
 *
 *   ipc-raw shm-put KEY TEXT     shmget(KEY, 4096, IPC_CREAT|0600), write TEXT; prints the id
 *   ipc-raw shm-get KEY          shmget(KEY, 0, 0), prints the text (SHM_RDONLY attach)
 *   ipc-raw shm-private TEXT     an IPC_PRIVATE segment: write TEXT, read it back, remove
 *   ipc-raw shm-rmid ID          shmctl(ID, IPC_RMID)
 *   ipc-raw sem-new KEY VAL      semget(KEY, 1, IPC_CREAT|0600), SETVAL VAL; prints the id
 *   ipc-raw sem-val ID           semctl(ID, 0, GETVAL): prints it
 *   ipc-raw sem-up ID            semop(ID, +1)
 *   ipc-raw sem-bench ID N       N pairs of semop +1/-1: prints nanoseconds per semop
 *   ipc-raw msg-new KEY TEXT     msgget(KEY, IPC_CREAT|0600), msgsnd TEXT; prints the id
 *   ipc-raw msg-take ID          msgrcv(ID, IPC_NOWAIT): prints the text
 *   ipc-raw mq-open NAME FLAGS   mq_open(NAME, FLAGS: r, w, c (O_CREAT|O_RDWR)), mode 0600
 *   ipc-raw mq-unlink NAME       mq_unlink
 *   ipc-raw unlink PATH          unlinkat (a queue's file under an mqueue mount)
 *   ipc-raw mq-send NAME TEXT    mq_open(NAME, O_WRONLY), mq_timedsend TEXT (setup)
 *   ipc-raw mq-path-take PATH    openat(PATH, O_RDONLY) (a queue's file under an mqueue
 *                                mount), mq_timedreceive on it without waiting: prints
 *                                the message
 *   ipc-raw i386-shm-rmid ID     shmctl(ID, IPC_RMID) through the i386 ABI (int $0x80,
 *                                x86_64 only): ipc(2) with version bits set, then the
 *                                direct i386 shmctl; "ok" when either removed it
 *
 * Prints "OP: ok" or "OP: ERRNAME" when it prints nothing else; exits 0 or 1 (2: usage).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rawcall.h"

static int report(const char *op, long r)
{
	if (r < 0) {
		printf("%s: %s\n", op, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
		return 1;
	}
	printf("%s: ok\n", op);
	return 0;
}

static int fail(const char *op)
{
	return report(op, -1);
}

#if defined(__x86_64__)
/* An i386 system call from this 64-bit process: the kernel sees AUDIT_ARCH_I386. */
static long int80(long nr, long a, long b, long c, long d)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
			 : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#endif

struct msg {
	long type;
	char text[256];
};

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	long r;

	if (argc == 4 && strcmp(op, "shm-put") == 0) {
		r = syscall(SYS_shmget, atoi(argv[2]), 4096, IPC_CREAT | 0600);
		char *p = r < 0 ? (char *)-1 : (char *)syscall(SYS_shmat, (int)r, NULL, 0);
		if (p == (char *)-1) {
			return fail(op);
		}
		snprintf(p, 4096, "%s", argv[3]);
		printf("%ld\n", r);
		return 0;
	}
	if (argc == 3 && strcmp(op, "shm-get") == 0) {
		r = syscall(SYS_shmget, atoi(argv[2]), 0, 0);
		char *p = r < 0 ? (char *)-1 : (char *)syscall(SYS_shmat, (int)r, NULL, SHM_RDONLY);
		if (p == (char *)-1) {
			return fail(op);
		}
		printf("%.*s\n", (int)strnlen(p, 4096), p);
		return 0;
	}
	if (argc == 3 && strcmp(op, "shm-private") == 0) {
		r = syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		char *p = r < 0 ? (char *)-1 : (char *)syscall(SYS_shmat, (int)r, NULL, 0);
		if (p == (char *)-1) {
			return fail(op);
		}
		snprintf(p, 4096, "%s", argv[2]);
		syscall(SYS_shmdt, p);
		p = (char *)syscall(SYS_shmat, (int)r, NULL, SHM_RDONLY);
		if (p == (char *)-1 || syscall(SYS_shmctl, (int)r, IPC_RMID, NULL) < 0) {
			return fail(op);
		}
		printf("%.*s\n", (int)strnlen(p, 4096), p);
		return 0;
	}
	if (argc == 3 && strcmp(op, "shm-rmid") == 0) {
		return report(op, syscall(SYS_shmctl, atoi(argv[2]), IPC_RMID, NULL));
	}
	if (argc == 4 && strcmp(op, "sem-new") == 0) {
		r = syscall(SYS_semget, atoi(argv[2]), 1, IPC_CREAT | 0600);
		if (r < 0 || syscall(SYS_semctl, (int)r, 0, SETVAL, atoi(argv[3])) < 0) {
			return fail(op);
		}
		printf("%ld\n", r);
		return 0;
	}
	if (argc == 3 && strcmp(op, "sem-val") == 0) {
		r = syscall(SYS_semctl, atoi(argv[2]), 0, GETVAL, 0);
		if (r < 0) {
			return fail(op);
		}
		printf("%ld\n", r);
		return 0;
	}
	if (argc == 3 && strcmp(op, "sem-up") == 0) {
		struct sembuf b = {0, 1, 0};
		return report(op, syscall(SYS_semtimedop, atoi(argv[2]), &b, 1, NULL));
	}
	if (argc == 4 && strcmp(op, "sem-bench") == 0) {
		struct sembuf up = {0, 1, 0}, down = {0, -1, 0};
		struct timespec a, b;
		long n = atol(argv[3]);
		int id = atoi(argv[2]);
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < n; i++) {
			if (syscall(SYS_semtimedop, id, &up, 1, NULL) < 0 ||
			    syscall(SYS_semtimedop, id, &down, 1, NULL) < 0) {
				return fail(op);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (2.0 * (double)n));
		return 0;
	}
	if (argc == 4 && strcmp(op, "msg-new") == 0) {
		struct msg m = {.type = 1};
		snprintf(m.text, sizeof(m.text), "%s", argv[3]);
		r = syscall(SYS_msgget, atoi(argv[2]), IPC_CREAT | 0600);
		if (r < 0 || syscall(SYS_msgsnd, (int)r, &m, strlen(m.text) + 1, IPC_NOWAIT) < 0) {
			return fail(op);
		}
		printf("%ld\n", r);
		return 0;
	}
	if (argc == 3 && strcmp(op, "msg-take") == 0) {
		struct msg m;
		if (syscall(SYS_msgrcv, atoi(argv[2]), &m, sizeof(m.text), 0, IPC_NOWAIT) < 0) {
			return fail(op);
		}
		printf("%.*s\n", (int)sizeof(m.text), m.text);
		return 0;
	}
	if (argc == 4 && strcmp(op, "mq-open") == 0) {
		int flags = strcmp(argv[3], "r") == 0 ? O_RDONLY : strcmp(argv[3], "w") == 0 ? O_WRONLY
											  : O_RDWR | O_CREAT;
		return report(op, syscall(SYS_mq_open, argv[2], flags | O_CLOEXEC, 0600, NULL));
	}
	if (argc == 3 && strcmp(op, "mq-unlink") == 0) {
		return report(op, syscall(SYS_mq_unlink, argv[2]));
	}
	if (argc == 4 && strcmp(op, "mq-send") == 0) {
		r = syscall(SYS_mq_open, argv[2], O_WRONLY | O_CLOEXEC, 0, NULL);
		return report(op, r < 0 ? r : syscall(SYS_mq_timedsend, (int)r, argv[3], strlen(argv[3]), 0, NULL));
	}
	if (argc == 3 && strcmp(op, "mq-path-take") == 0) {
		char buf[65536];
		struct timespec past = {0, 0};
		r = syscall(SYS_openat, AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC);
		r = r < 0 ? r : syscall(SYS_mq_timedreceive, (int)r, buf, sizeof(buf), NULL, &past);
		if (r < 0) {
			return fail(op);
		}
		printf("%.*s\n", (int)r, buf);
		return 0;
	}
	if (argc == 3 && strcmp(op, "unlink") == 0) {
		return report(op, syscall(SYS_unlinkat, AT_FDCWD, argv[2], 0));
	}
#if defined(__x86_64__)
	if (argc == 3 && strcmp(op, "i386-shm-rmid") == 0) {
		/* ipc(SHMCTL | version 1 << 16, id, IPC_RMID, 0, NULL): the kernel drops the
		 * version; then i386's own shmctl (396). */
		if (int80(117, 24 | 1 << 16, atoi(argv[2]), IPC_RMID, 0) == 0) {
			return report(op, 0);
		}
		return report(op, int80(396, atoi(argv[2]), IPC_RMID, 0, 0));
	}
#endif
	fprintf(stderr, "usage: ipc-raw OP ARGS (see the source)\n");
	return 2;
}
