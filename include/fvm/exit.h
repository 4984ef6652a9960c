/*
 * exit.h — the exit statuses of fvm and fvm-exec: the one table fvm(1) and fvm-exec(1)
 * print under EXIT STATUS.
 *
 * Rules:
 * - Every fvm subcommand returns one of FVM_EXIT_OK .. FVM_EXIT_REMOTE, chosen by what
 *   the user can do about it, never by where in the code the failure was found.
 * - fvm-exec returns the command's own status (128+N when killed by signal N), or one of
 *   124..127: a command's status cannot be told from an fvm error otherwise (the
 *   convention of env(1), timeout(1) and chroot(1)).
 * - tests/e2e/t_exit.sh checks each code for each subcommand: a code changes here, in
 *   both man pages and in that test together.
 */
#ifndef FVM_EXIT_H
#define FVM_EXIT_H

enum {
	/* fvm */
	FVM_EXIT_OK = 0,       /* done */
	FVM_EXIT_REFUSED = 1,  /* a refusal the user can act on: a conflict, a path that
				  matches no change, a running VM, no such VM, a failed
				  verification, a change skipped */
	FVM_EXIT_USAGE = 2,    /* usage: a bad option or argument */
	FVM_EXIT_STORE = 3,    /* the store is damaged or of another format */
	FVM_EXIT_REMOTE = 4,   /* a remote (registry) could not be reached */
	/* fvm-exec, after the command's own statuses */
	FVM_EXIT_TIMEOUT = 124, /* --timeout ran out */
	FVM_EXIT_FVM = 125,     /* an fvm error: a bad option or configuration, the store */
	FVM_EXIT_CANNOT = 126,  /* the command cannot be run */
	FVM_EXIT_NOTFOUND = 127, /* the command was not found */
};

/* The name the code grew up with: partial, conflict or refused are the same status. */
#define FVM_EXIT_PARTIAL FVM_EXIT_REFUSED

#endif
