/*
 * nsswin.c — the hard cases of libfvm's dispatch window (libfvm/sud.c): a name
 * lookup of USER made from every situation a program can put it in, each printing what
 * it found, so that a run natively and a run in a VM print the same lines.
 *
 *   nsswin USER
 *
 * Situations: a plain getpwnam; errno after a failed lookup; 4 threads looking USER up
 * together; a SIGALRM handler that runs system calls and returns while lookups run
 * (its rt_sigreturn inside a window); a thread that blocked every signal, SIGSYS
 * included; the program's own SIGSYS handler (installed before the first lookup and
 * after one) still getting a SIGSYS raised with kill; a fork child looking up again;
 * sigprocmask inside a handler inside a window; a lookup from a signal handler.
 * Exit status 0 when every line was printed.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *user;
static volatile sig_atomic_t alarms, sigsys_seen;

static long uid_of(const char *name)
{
	struct passwd *pw = getpwnam(name);

	return pw ? (long)pw->pw_uid : -1;
}

static void *thread_main(void *arg)
{
	long bad = 0;

	for (int i = 0; i < 200; i++) {
		struct passwd pw, *res = NULL;
		char buf[4096];
		if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res ||
		    (long)res->pw_uid != (long)(intptr_t)arg) {
			bad++;
		}
	}
	return (void *)bad;
}

static void *blocked_main(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	long u = uid_of(user);
	sigset_t now;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	printf("all signals blocked: uid %ld, SIGSYS still blocked after: %d\n", u,
	       sigismember(&now, SIGSYS));
	return NULL;
}

static void on_alarm(int sig)
{
	sigset_t s;

	(void)sig;
	alarms++;
	sigprocmask(SIG_BLOCK, NULL, &s); /* a system call, and rt_sigprocmask, in the handler */
	(void)getppid();
}

static void on_sigsys(int sig)
{
	(void)sig;
	sigsys_seen++;
}

static void on_usr1(int sig)
{
	(void)sig;
	alarms = uid_of(user) + 1000000; /* a lookup inside a handler */
}

int main(int argc, char **argv)
{
	pthread_t th[4];
	long expect, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: nsswin USER\n");
		return 2;
	}
	user = argv[1];
	setvbuf(stdout, NULL, _IONBF, 0);

	signal(SIGSYS, on_sigsys);
	expect = uid_of(user);
	printf("getpwnam %s: uid %ld\n", user, expect);
	errno = 0;
	printf("getpwnam of no one: %s, errno %s\n", getpwnam("fvm-no-such-user") ? "found" : "NULL",
	       errno ? strerrorname_np(errno) : "0");
	kill(getpid(), SIGSYS);
	printf("own SIGSYS handler, installed before: %d\n", (int)sigsys_seen);
	signal(SIGSYS, on_sigsys);
	kill(getpid(), SIGSYS);
	printf("own SIGSYS handler, installed after: %d\n", (int)sigsys_seen);

	for (long i = 0; i < 4; i++) {
		pthread_create(&th[i], NULL, thread_main, (void *)(intptr_t)expect);
	}
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	printf("4 threads x 200 getpwnam_r: %ld wrong\n", bad);

	pthread_create(&th[0], NULL, blocked_main, NULL);
	pthread_join(th[0], NULL);

	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 200}, {0, 200}};
	setitimer(ITIMER_REAL, &it, NULL);
	bad = 0;
	for (int i = 0; i < 300 || alarms < 3; i++) {
		bad += uid_of(user) != expect;
		if (i > 100000) {
			break;
		}
	}
	it = (struct itimerval){{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	printf("lookups under a 200us SIGALRM: %ld wrong, alarms seen: %s\n", bad,
	       alarms >= 3 ? "yes" : "no");

	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	printf("lookup in a signal handler: uid %ld\n", (long)alarms - 1000000);

	pid_t pid = fork();
	if (pid == 0) {
		printf("fork child: uid %ld\n", uid_of(user));
		pid_t g = fork();
		if (g == 0) {
			printf("grandchild: uid %ld\n", uid_of(user));
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("fork child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	kill(getpid(), SIGSYS);
	printf("own SIGSYS handler at the end: %d\n", (int)sigsys_seen);
	return 0;
}
