/*
 * ipc-posix — POSIX shm, semaphore and queue of one name, for tests/preload/t_ipc.sh.
 *
 *   ipc-posix put NAME VALUE   creates shm NAME holding VALUE, semaphore NAME with value
 *                              strlen(VALUE), queue NAME holding one message VALUE
 *   ipc-posix get NAME         prints "shm=... sem=N mq=..." (the message is put back)
 *   ipc-posix old NAME         the same as get, through the pre-2.34 symbol versions
 *   ipc-posix rm NAME          unlinks the three
 * Exit 1 with "CALL: strerror" on the first failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Old binaries reference these versions; libfvm must catch them too. */
int old_shm_open(const char *, int, mode_t);
sem_t *old_sem_open(const char *, int, ...);
mqd_t old_mq_open(const char *, int, ...);
__asm__(".symver old_shm_open, shm_open@GLIBC_2.2.5");
__asm__(".symver old_sem_open, sem_open@GLIBC_2.2.5");
__asm__(".symver old_mq_open, mq_open@GLIBC_2.3.4");

static void __attribute__((noreturn)) fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	exit(1);
}

static int put(const char *name, const char *value)
{
	size_t len = strlen(value);
	struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 256};
	int fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0) {
		fail("shm_open");
	}
	if (write(fd, value, len) != (ssize_t)len) {
		fail("write");
	}
	close(fd);
	if (sem_open(name, O_CREAT | O_EXCL, 0600, (unsigned)len) == SEM_FAILED) {
		fail("sem_open");
	}
	mqd_t q = mq_open(name, O_WRONLY | O_CREAT | O_EXCL, 0600, &attr);
	if (q == (mqd_t)-1) {
		fail("mq_open");
	}
	if (mq_send(q, value, len, 0) < 0) {
		fail("mq_send");
	}
	mq_close(q);
	return 0;
}

static int get(const char *name, bool old)
{
	char buf[4096], msg[256];
	int fd = old ? old_shm_open(name, O_RDONLY, 0) : shm_open(name, O_RDONLY, 0);
	ssize_t n;
	int v;

	if (fd < 0) {
		fail("shm_open");
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		fail("read");
	}
	buf[n] = '\0';
	close(fd);
	sem_t *s = old ? old_sem_open(name, 0) : sem_open(name, 0);
	if (s == SEM_FAILED || sem_getvalue(s, &v) < 0) {
		fail("sem_open");
	}
	mqd_t q = old ? old_mq_open(name, O_RDWR) : mq_open(name, O_RDWR);
	if (q == (mqd_t)-1) {
		fail("mq_open");
	}
	n = mq_receive(q, msg, sizeof(msg), NULL);
	if (n < 0) {
		fail("mq_receive");
	}
	mq_send(q, msg, (size_t)n, 0);
	msg[n] = '\0';
	printf("shm=%s sem=%d mq=%s\n", buf, v, msg);
	return 0;
}

static int rm(const char *name)
{
	if (shm_unlink(name) < 0) {
		fail("shm_unlink");
	}
	if (sem_unlink(name) < 0) {
		fail("sem_unlink");
	}
	if (mq_unlink(name) < 0) {
		fail("mq_unlink");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "put") == 0) {
		return put(argv[2], argv[3]);
	}
	if (argc == 3 && strcmp(argv[1], "get") == 0) {
		return get(argv[2], false);
	}
	if (argc == 3 && strcmp(argv[1], "old") == 0) {
		return get(argv[2], true);
	}
	if (argc == 3 && strcmp(argv[1], "rm") == 0) {
		return rm(argv[2]);
	}
	fprintf(stderr, "usage: ipc-posix put NAME VALUE | get NAME | old NAME | rm NAME\n");
	return 2;
}
