/*
 * cmd_ps.c — fvm ps NAME [--json]: every live process of a VM, however it was started
 * (procs.h says how they are found): PID, PPID, USER, STATE, COMMAND.
 *
 * The command line is the VM's own text: its control characters and backslashes are
 * written as \ooo escapes, so nothing of it reaches the terminal raw; --json is exact.
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "json.h"
#include "store/procs.h"

#define CMDLINE_MAX 4096

/* PID's command line, arguments joined by spaces, into OUT; "[COMM]" when it has none
 * (a kernel thread, a zombie). */
static void cmdline(const struct vm_proc *p, char *out, size_t len)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)p->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, out, len - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(out, len, "[%s]", p->comm);
		return;
	}
	while (n > 0 && out[n - 1] == '\0') {
		n--;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (out[i] == '\0') {
			out[i] = ' ';
		}
	}
	out[n] = '\0';
}

/* The name of the effective user of PID, or its number. */
static void user_of(pid_t pid, char *out, size_t len)
{
	char path[64];
	struct stat st;
	struct passwd *pw;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) < 0) {
		snprintf(out, len, "?");
	} else if ((pw = getpwuid(st.st_uid))) {
		snprintf(out, len, "%s", pw->pw_name);
	} else {
		snprintf(out, len, "%u", (unsigned)st.st_uid);
	}
}

static void print_escaped(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f || *c == '\\') {
			printf("\\%03o", *c);
		} else {
			putchar(*c);
		}
	}
}

int cmd_ps(const struct fvm_store *s, int argc, char **argv)
{
	struct cli_one o;
	char cmd[CMDLINE_MAX], user[64];
	struct vm_procs p;
	int rc;

	if ((rc = cli_one_vm(s, argc, argv, false, &o)) != 0) {
		return rc;
	}
	const bool json = o.json;
	if ((rc = vm_procs_find(o.dir, &p)) < 0) {
		fprintf(stderr, "fvm: VM %s: cannot list its processes: %s\n", o.name, strerror(-rc));
		return FVM_EXIT_PARTIAL;
	}
	if (json) {
		printf("[");
	} else {
		printf("%7s %7s %-12s %-5s %s\n", "PID", "PPID", "USER", "STATE", "COMMAND");
	}
	for (size_t i = 0; i < p.n; i++) {
		cmdline(&p.v[i], cmd, sizeof(cmd));
		user_of(p.v[i].pid, user, sizeof(user));
		if (json) {
			printf("%s{\"pid\":%d,\"ppid\":%d,\"user\":", i ? ",\n" : "", (int)p.v[i].pid,
			       (int)p.v[i].ppid);
			json_string(stdout, user);
			printf(",\"state\":\"%c\",\"command\":", p.v[i].state);
			json_string(stdout, cmd);
			printf("}");
		} else {
			printf("%7d %7d %-12s %-5c ", (int)p.v[i].pid, (int)p.v[i].ppid, user, p.v[i].state);
			print_escaped(cmd);
			putchar('\n');
		}
	}
	if (json) {
		printf("%s]\n", p.n ? "\n" : "");
	}
	vm_procs_free(&p);
	return 0;
}
