/*
 * vchdir.c — a static program's chdir (issue 14; virtguard.c chdir_by_trace), built
 * -static (vchdir-static) so that its calls reach the supervisor, not libfvm.
 *
 *   vchdir-static DIR NAME [PROG ARG...]
 *       chdir(DIR) (a raw system call from the executable), then prints getcwd, the
 *       first line of NAME opened relative to it, and execs PROG (a dynamic program:
 *       libfvm then sees the working directory it inherits).
 *   vchdir-static -t DIR
 *       the same chdir from a child this program traces already (PTRACE_SEIZE): the
 *       supervisor cannot seize it; prints the chdir's answer.
 *   vchdir-static -r DIR OTHER DOTS
 *       a hostile caller: a second thread swaps the name between DIR and OTHER in a
 *       loop and a third dups every fd it sees, while the first chdirs to DIR; then,
 *       through any fd it stole and its working directory, it tries to write DOTS/x
 *       (DOTS: the ".." that lead from DIR's upper/ copy to the VM's store directory).
 *       Prints what it got; nothing of the store may change.
 *   vchdir-static -l DIR
 *       a caller that may enter DIR but not read it (mode 0711 of another user): while
 *       it chdirs there, a second thread keeps a dup of every directory fd it sees that
 *       is DIR, then lists them; prints how many bytes of entries it could list (natively none: opendir is EACCES).
 *
 * Rules:
 *  - Raw system calls only where the point is a call of the executable's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

static long raw_chdir(const char *p)
{
	long r = syscall(SYS_chdir, p);
	return r < 0 ? -errno : 0;
}

static void show_cwd(void)
{
	char buf[4096];
	if (getcwd(buf, sizeof(buf))) {
		printf("cwd %s\n", buf);
	} else {
		printf("cwd error %s\n", strerror(errno));
	}
}

static char name[4096];
static volatile int stop;
static int stolen[64], nstolen;

static void *swapper(void *arg)
{
	const char **two = arg;
	for (unsigned i = 0; !stop; i++) {
		strcpy(name, two[i & 1]);
	}
	return NULL;
}

static void *thief(void *arg)
{
	(void)arg;
	while (!stop) {
		for (int fd = 3; fd < 64 && nstolen < 64; fd++) {
			struct stat st;
			if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
				int d = fcntl(fd, F_DUPFD_CLOEXEC, 100);
				if (d >= 0) {
					stolen[nstolen++] = d;
				}
			}
		}
	}
	return NULL;
}

static ino_t target;
static int listed;

static void *lister(void *arg)
{
	(void)arg;
	while (!stop) {
		for (int fd = 3; fd < 64; fd++) {
			struct stat st;
			if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_ino == target && nstolen < 64) {
				int d = fcntl(fd, F_DUPFD_CLOEXEC, 100);
				if (d >= 0) {
					stolen[nstolen++] = d;
				}
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "-l") == 0) {
		struct stat st;
		pthread_t a;
		if (stat(argv[2], &st) < 0) {
			printf("stat %s\n", strerror(errno));
			return 1;
		}
		target = st.st_ino;
		pthread_create(&a, NULL, lister, NULL);
		for (int i = 0; i < 100; i++) {
			raw_chdir(argv[2]);
			raw_chdir("/");
		}
		stop = 1;
		pthread_join(a, NULL);
		for (int i = 0; i < nstolen; i++) { /* getdents64 of what it kept */
			char buf[4096];
			long n = syscall(SYS_getdents64, stolen[i], buf, sizeof(buf));
			listed += n > 0 ? (int)n : 0;
		}
		printf("listed %d bytes\n", listed);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "-t") == 0) {
		pid_t c = fork();
		if (c == 0) {
			usleep(100000); /* the parent seizes it first */
			long r = raw_chdir(argv[2]);
			printf("chdir %s\n", r ? strerror((int)-r) : "ok");
			fflush(stdout);
			_exit(0);
		}
		if (ptrace(PTRACE_SEIZE, c, 0, 0) < 0) {
			printf("seize %s\n", strerror(errno));
		}
		int st;
		while (waitpid(c, &st, __WALL) == c && !WIFEXITED(st) && !WIFSIGNALED(st)) {
			ptrace(PTRACE_CONT, c, 0, WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
		}
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "-r") == 0) {
		const char *two[2] = {argv[2], argv[3]};
		pthread_t a, b;
		int ok = 0, other = 0;
		strcpy(name, argv[2]);
		pthread_create(&a, NULL, swapper, two);
		pthread_create(&b, NULL, thief, NULL);
		for (int i = 0; i < 200; i++) {
			long r = raw_chdir(name);
			char buf[4096];
			if (r == 0 && getcwd(buf, sizeof(buf))) {
				ok += strcmp(buf, argv[2]) == 0;
				other += strcmp(buf, argv[3]) == 0;
			}
		}
		stop = 1;
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		printf("entered dir %s, other %s\n", ok ? "yes" : "no", other ? "yes" : "no");
		int wrote = 0;
		char rel[4096];
		snprintf(rel, sizeof(rel), "%s/x", argv[4]);
		for (int i = 0; i < nstolen; i++) {
			int f = openat(stolen[i], rel, O_WRONLY | O_CREAT, 0644);
			if (f >= 0) {
				wrote++;
				close(f);
			}
		}
		/* and from the working directory, as the VM could anyway */
		if (raw_chdir(argv[2]) == 0) {
			int f = open(rel, O_WRONLY | O_CREAT, 0644);
			if (f >= 0) {
				wrote++;
				close(f);
			}
		}
		printf("stole %d, store writes %d\n", nstolen, wrote);
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: vchdir-static DIR NAME [PROG ARG...] | -t DIR | -r DIR OTHER DOTS\n");
		return 2;
	}
	long r = raw_chdir(argv[1]);
	printf("chdir %s\n", r ? strerror((int)-r) : "ok");
	show_cwd();
	FILE *f = fopen(argv[2], "re");
	char line[256] = "";
	if (f && fgets(line, sizeof(line), f)) {
		printf("read %s", line);
	} else {
		printf("read error %s\n", strerror(errno));
	}
	if (f) {
		fclose(f);
	}
	fflush(stdout);
	if (argc > 3) {
		execv(argv[3], argv + 3);
		printf("exec error %s\n", strerror(errno));
	}
	return 0;
}
