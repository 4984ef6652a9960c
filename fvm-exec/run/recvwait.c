/*
 * recvwait.c — the supervisor's wait for events with its seccomp listener blocked in
 * SECCOMP_IOCTL_NOTIF_RECV (run.h; docs/DESIGN.md "The supervisor's costs").
 *
 * The kernel's synchronous wake-up (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, notify_take)
 * completes a notification on the caller's CPU only for a listener already waiting in
 * RECV; one woken through poll(2) first pays a cross-CPU wake-up and the poll: ~2 µs
 * of a ~6 µs round trip. So while nothing else is pending, the main thread blocks in
 * RECV and serves notifications as they come, and a watcher thread polls the loop's
 * other descriptors for it.
 *
 * Rules:
 *  - Every handler still runs on the main thread: the watcher only polls. The main
 *    loop's wait4(-1) reaping, the children notify_as and fenced fork and wait for, the
 *    ptrace stops of chdir_by_trace, and the state the handlers share with the loop
 *    (trace.c) stay single-threaded.
 *  - Strict alternation over the descriptors: the main thread hands the watcher a copy
 *    of its pollfd rows (the listener's asking POLLHUP/POLLERR only) and the timeout
 *    (GO), and takes its rows back only after the watcher said its poll is over
 *    (DONE), so a descriptor the loop closes is never polled meanwhile.
 *  - When the watcher's poll returns (an event, the timeout, or ABORT from the main
 *    thread), it sets KICKED and sends the main thread KICK_SIG while that thread is
 *    in RECV (RECV is interruptible, EINTR, and never restarted), again every
 *    millisecond until the main thread acknowledges (ACK): a signal that lands just
 *    before the ioctl starts is not lost for longer.
 *  - KICK_SIG's handler does nothing, without SA_RESTART (RECV would be restarted).
 *    The main thread holds KICK_SIG blocked but during the RECV ioctl itself
 *    (notify_serve_masked), so a kick never interrupts a handler's call; one pending
 *    from before is taken as RECV starts and the next kick ends it. The watcher blocks
 *    every signal; the loop's signals stay with its signalfd.
 *  - The watcher starts with the first wait after the loop has served a notification
 *    (the listener polled as any row until then): a run that makes none (most short
 *    commands) pays no thread, no eventfds and no hand-offs between threads at its end.
 *    It ends with recv_wait_end; when it cannot start, the loop polls as before.
 *  - A RECV that finds no notification while the listener is hung up (no process holds
 *    the filter any more: the kernel then answers RECV at once, ENOENT) ends the wait
 *    instead of asking again: the loop sees the hang-up and closes the listener.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "run.h"

#define KICK_SIG (SIGRTMIN + 6)
#define MAXFDS 16

static struct {
	bool running, failed, broken;
	bool served; /* the loop's poll saw a notification: the watcher may start */
	pthread_t main, watcher;
	int go, done, ack, abort, stop; /* eventfds */
	struct pollfd fds[MAXFDS + 2];  /* the loop's rows, then ABORT and STOP */
	nfds_t n;
	int timeout;
	int in_recv, kicked;            /* atomics */
	sigset_t recv_mask;
} w = {.go = -1, .done = -1, .ack = -1, .abort = -1, .stop = -1};

static void on_kick(int sig)
{
	(void)sig;
}

static void ev_put(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR) {
	}
}

/* Waits for eventfd FD (or STOP); false when the watcher is to end. */
static bool ev_take(int fd, int timeout_ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = w.stop, .events = POLLIN}};
	uint64_t v;

	for (;;) {
		int n = poll(p, 2, timeout_ms);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return n == 0; /* a timeout: the caller decides */
		}
		if (p[1].revents) {
			return false;
		}
		if (p[0].revents) {
			(void)!read(fd, &v, sizeof(v));
			return true;
		}
	}
}

static void *watch(void *arg)
{
	uint64_t v;

	(void)arg;
	for (;;) {
		struct pollfd stopper[2] = {{.fd = w.go, .events = POLLIN}, {.fd = w.stop, .events = POLLIN}};
		while (poll(stopper, 2, -1) < 0 && errno == EINTR) {
		}
		if (stopper[1].revents) {
			return NULL;
		}
		(void)!read(w.go, &v, sizeof(v));
		while (poll(w.fds, w.n + 2, w.timeout) < 0 && errno == EINTR) {
		}
		if (w.fds[w.n + 1].revents) {
			return NULL;
		}
		if (w.fds[w.n].revents) {
			(void)!read(w.abort, &v, sizeof(v));
		}
		__atomic_store_n(&w.kicked, 1, __ATOMIC_SEQ_CST);
		ev_put(w.done);
		/* Kick until acknowledged: the main thread may be entering RECV right now. */
		for (;;) {
			if (__atomic_load_n(&w.in_recv, __ATOMIC_SEQ_CST)) {
				pthread_kill(w.main, KICK_SIG);
			}
			struct pollfd a[2] = {{.fd = w.ack, .events = POLLIN}, {.fd = w.stop, .events = POLLIN}};
			int n = poll(a, 2, 1);
			if (n > 0 && a[1].revents) {
				return NULL;
			}
			if (n > 0 && a[0].revents) {
				(void)!read(w.ack, &v, sizeof(v));
				break;
			}
		}
	}
}

static bool start(void)
{
	struct sigaction sa;
	sigset_t all, old, kick;

	if (w.failed) {
		return false;
	}
	w.failed = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&kick);
	sigaddset(&kick, KICK_SIG);
	if (pthread_sigmask(SIG_BLOCK, &kick, &w.recv_mask) != 0 || sigaction(KICK_SIG, &sa, NULL) < 0) {
		return false;
	}
	sigdelset(&w.recv_mask, KICK_SIG); /* the main thread's mask during RECV */
	int *fds[] = {&w.go, &w.done, &w.ack, &w.abort, &w.stop};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if ((*fds[i] = eventfd(0, EFD_CLOEXEC)) < 0) {
			return false;
		}
	}
	w.main = pthread_self();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&w.watcher, NULL, watch, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		return false;
	}
	w.running = true;
	w.failed = false;
	return true;
}

int recv_wait(struct notify *nt, struct pollfd *fds, unsigned long nfds, unsigned long notify_row, int timeout)
{
	int n;

	if (!nt || nt->fd < 0 || nfds > MAXFDS || w.broken || (!w.running && (!w.served || !start()))) {
		n = poll(fds, nfds, timeout);
		if (n > 0 && nt && nt->fd >= 0 && (fds[notify_row].revents & POLLIN)) {
			w.served = true;
		}
		return n;
	}
	/* Whatever is pending already is served by the loop, as before. */
	if ((n = poll(fds, nfds, 0)) != 0 || timeout == 0) {
		return n;
	}
	memcpy(w.fds, fds, nfds * sizeof(*fds));
	w.fds[notify_row].events = 0; /* POLLHUP, POLLERR: no process holds the filter */
	w.fds[nfds] = (struct pollfd){.fd = w.abort, .events = POLLIN};
	w.fds[nfds + 1] = (struct pollfd){.fd = w.stop, .events = POLLIN};
	w.n = nfds;
	w.timeout = timeout;
	__atomic_store_n(&w.kicked, 0, __ATOMIC_SEQ_CST);
	ev_put(w.go);
	for (;;) {
		__atomic_store_n(&w.in_recv, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&w.kicked, __ATOMIC_SEQ_CST)) {
			break;
		}
		int r = notify_serve_masked(nt, &w.recv_mask); /* blocks in RECV; 0 on EINTR, ENOENT */
		__atomic_store_n(&w.in_recv, 0, __ATOMIC_SEQ_CST);
		if (r < 0) {
			w.broken = true; /* the listener failed: the loop polls it from now on */
			break;
		}
		struct pollfd hup = {.fd = nt->fd, .events = 0};
		if (r == 0 && poll(&hup, 1, 0) > 0 && (hup.revents & (POLLHUP | POLLERR))) {
			break; /* no process holds the filter: RECV would answer ENOENT at once, forever */
		}
	}
	__atomic_store_n(&w.in_recv, 0, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&w.kicked, __ATOMIC_SEQ_CST)) {
		ev_put(w.abort);
	}
	ev_take(w.done, -1); /* the watcher's poll is over: the rows are the loop's again */
	ev_put(w.ack);
	while ((n = poll(fds, nfds, 0)) < 0 && errno == EINTR) {
	}
	return n;
}

void recv_wait_end(void)
{
	if (w.running) {
		ev_put(w.stop);
		pthread_join(w.watcher, NULL);
		w.running = false;
	}
}
