/*
 * sud.h — the Syscall User Dispatch window (sud.c), for the wrappers of libc functions
 * that open files internally (nsswrap.c, netdb.c).
 *
 *   struct fvm_window w;
 *   fvm_window_open(&w);        this thread's system calls from outside libfvm now
 *   r = REAL(getpwnam)(name);   trap to libfvm, which performs them in the VM
 *   fvm_window_close(&w);       back to native: no trap, no cost
 *
 * Rules:
 *  - Look up REAL(name) before opening the window (dlsym may make system calls).
 *  - Open and close in the same function, close on every path; errno is untouched by
 *    both, so the real function's errno reaches the program.
 *  - A window opened inside another (a wrapper called from within a window, a signal
 *    handler) is a no-op: the outer one is still open.
 */
#ifndef LIBFVM_SUD_H
#define LIBFVM_SUD_H

#include <signal.h>
#include <stdbool.h>

struct fvm_window {
	bool opened;          /* this call opened the window (it is the outermost) */
};

void fvm_window_open(struct fvm_window *w);
void fvm_window_close(struct fvm_window *w);

/* nsswrap.c: whether the name service may read something else in the VM than on the
 * host (the VM changed /etc): a lookup needs a window only then. */
bool fvm_nss_may_differ(void);

#endif
