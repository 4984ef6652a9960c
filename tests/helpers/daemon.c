/*
 * daemon — a process that leaves its run the ways a daemon does, for the supervisor
 * tests (tests/e2e/t_supervisor.sh). Built static too: no libfvm, raw system calls.
 *
 *   daemon FILE GO
 *
 * Forks, setsid(), forks again (the first two exit: a double fork), then in the
 * grandchild opens FILE for appending, closes every other descriptor, and re-executes
 * itself (ARGV[0], a path) with an empty environment (no FVM_* variable tells where it came from). It
 * waits (at most 60 s) until the path GO exists, appends "late\n" to FILE and exits.
 * The caller gets 0 as soon as the first fork is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rawcall.h"

#define FD 3

static int wait_and_write(const char *go)
{
	struct timespec tick = {0, 20 * 1000 * 1000};
	struct stat st;

	for (int i = 0; i < 3000 && syscall(SYS_newfstatat, AT_FDCWD, go, &st, 0) < 0; i++) {
		nanosleep(&tick, NULL);
	}
	return syscall(SYS_write, FD, "late\n", 5) == 5 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--detached") == 0) {
		return wait_and_write(argv[3]);
	}
	if (argc != 3) {
		fprintf(stderr, "usage: daemon FILE GO\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid != 0) {
		return pid < 0 ? 1 : 0;
	}
	if (setsid() < 0) {
		perror("daemon: setsid");
		_exit(1);
	}
	pid = fork();
	if (pid != 0) {
		if (pid < 0) {
			perror("daemon: fork");
		}
		_exit(pid < 0);
	}
	long fd = syscall(SYS_openat, AT_FDCWD, argv[1], O_WRONLY | O_APPEND, 0);
	if (fd < 0 || (fd != FD && dup2((int)fd, FD) < 0)) {
		fprintf(stderr, "daemon: %s: %s\n", argv[1], strerror(errno));
		_exit(1);
	}
	close_range(0, FD - 1, 0);
	close_range(FD + 1, ~0u, 0);
	char *args[] = {argv[0], "--detached", argv[1], argv[2], NULL}, *env[] = {NULL};
	syscall(SYS_execve, argv[0], args, env);
	_exit(1); /* no stderr left to say why */
}
