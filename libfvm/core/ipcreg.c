/*
 * ipcreg.c — the VM's IPC registry, ROOT/ipc (fvm/ipcname.h): what the VM created in the
 * namespaces that do not live in its upper layer, so that fvm rm can remove it and a
 * listing can show the name behind a shortened one.
 *
 * Invariants: a line is written with one O_APPEND write, whole or not at all, and is
 * one record: a kind or mapped name with a blank or newline is refused, never written
 * as other records. Readers ignore a line they cannot parse. Raw system calls only (libfvm and the tools alike).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/escape.h"
#include "fvm/ipcname.h"
#include "fvm/sys.h"

#define LINE_MAX_LEN 1024

int fvm_ipc_record(const char *root, const char *kind, const char *mapped, const char *orig)
{
	char file[4096], line[LINE_MAX_LEN];
	size_t o;
	int fd, n;
	ssize_t w;

	if (snprintf(file, sizeof(file), "%s/%s", root, FVM_IPC_FILE) >= (int)sizeof(file)) {
		return -ENAMETOOLONG;
	}
	/* The first two fields are not escaped: a blank or newline there (the mapped name
	 * holds a name the VM chose) would cut the line into other records, which fvm rm
	 * would act on. Such an object goes unregistered; fvm rm still finds it by its
	 * prefix where its filesystem is mounted. */
	if (!*kind || !*mapped || strpbrk(kind, " \n") || strpbrk(mapped, " \n")) {
		return -EINVAL;
	}
	n = snprintf(line, sizeof(line), "%s %s ", kind, mapped);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		return -ENAMETOOLONG;
	}
	/* The escape, then the newline in the byte its NUL took. */
	int e = fvm_escape(orig, line + n, sizeof(line) - (size_t)n - 1);
	if (e < 0) {
		return e;
	}
	o = (size_t)n + (size_t)e;
	line[o++] = '\n';
	fd = sys_openat(AT_FDCWD, file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		return fd;
	}
	w = sys_write(fd, line, o);
	sys_close(fd);
	return w == (ssize_t)o ? 0 : w < 0 ? (int)w : -EIO;
}

/* Parses LINE in place into its three fields; false for a malformed line. */
static bool parse_line(char *line, char **kind, char **mapped, char **orig)
{
	char *sp1 = strchr(line, ' '), *sp2;

	if (!sp1 || !(sp2 = strchr(sp1 + 1, ' '))) {
		return false;
	}
	*sp1 = *sp2 = '\0';
	*kind = line;
	*mapped = sp1 + 1;
	*orig = sp2 + 1;
	return **kind && **mapped && fvm_unescape(*orig) >= 0;
}

int fvm_ipc_each(const char *root,
		 int (*fn)(const char *kind, const char *mapped, const char *orig, void *arg),
		 void *arg)
{
	char file[4096], buf[8192], line[LINE_MAX_LEN];
	size_t ll = 0;
	bool skipping = false;
	ssize_t n;
	int fd, ret = 0;

	if (snprintf(file, sizeof(file), "%s/%s", root, FVM_IPC_FILE) >= (int)sizeof(file)) {
		return -ENAMETOOLONG;
	}
	fd = sys_openat(AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		return fd == -ENOENT ? 0 : fd;
	}
	while (ret == 0 && (n = sys_read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && ret == 0; i++) {
			if (buf[i] != '\n') {
				if (ll + 1 < sizeof(line)) {
					line[ll++] = buf[i];
				} else {
					skipping = true; /* longer than any line we write */
				}
				continue;
			}
			line[ll] = '\0';
			char *kind, *mapped, *orig;
			if (!skipping && parse_line(line, &kind, &mapped, &orig)) {
				ret = fn(kind, mapped, orig, arg);
			}
			ll = 0;
			skipping = false;
		}
	}
	sys_close(fd);
	return ret;
}
