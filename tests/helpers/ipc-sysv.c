/*
 * ipc-sysv — SysV objects of one key and ftok, for tests/preload/t_ipc.sh.
 *
 *   ipc-sysv put KEY VALUE   a shm segment of KEY holding VALUE (and a semaphore set
 *                            and a queue of KEY, to exercise semget and msgget)
 *   ipc-sysv get KEY         prints the segment's content
 *   ipc-sysv rm KEY          removes the three
 *   ipc-sysv ftok PATH ID    prints ftok(PATH, ID) in hex
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

static void __attribute__((noreturn)) fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "put") == 0) {
		key_t key = (key_t)strtol(argv[2], NULL, 0);
		int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
		if (id < 0) {
			fail("shmget");
		}
		char *p = shmat(id, NULL, 0);
		if (p == (void *)-1) {
			fail("shmat");
		}
		snprintf(p, 4096, "%s", argv[3]);
		shmdt(p);
		if (semget(key, 1, IPC_CREAT | IPC_EXCL | 0600) < 0) {
			fail("semget");
		}
		if (msgget(key, IPC_CREAT | IPC_EXCL | 0600) < 0) {
			fail("msgget");
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "get") == 0) {
		int id = shmget((key_t)strtol(argv[2], NULL, 0), 0, 0);
		if (id < 0) {
			fail("shmget");
		}
		char *p = shmat(id, NULL, SHM_RDONLY);
		if (p == (void *)-1) {
			fail("shmat");
		}
		printf("%s\n", p);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "rm") == 0) {
		key_t key = (key_t)strtol(argv[2], NULL, 0);
		int id;
		if ((id = shmget(key, 0, 0)) < 0 || shmctl(id, IPC_RMID, NULL) < 0) {
			fail("shm rm");
		}
		if ((id = semget(key, 0, 0)) < 0 || semctl(id, 0, IPC_RMID) < 0) {
			fail("sem rm");
		}
		if ((id = msgget(key, 0)) < 0 || msgctl(id, IPC_RMID, NULL) < 0) {
			fail("msg rm");
		}
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "ftok") == 0) {
		key_t key = ftok(argv[2], atoi(argv[3]));
		if (key == -1) {
			fail("ftok");
		}
		printf("%08x\n", (unsigned)key);
		return 0;
	}
	fprintf(stderr, "usage: ipc-sysv put KEY VALUE | get KEY | rm KEY | ftok PATH ID\n");
	return 2;
}
