/*
 * ipcreg.c — the VM's IPC registry, ROOT/ipc (fvm/ipcname.h): what the VM created in the
 * namespaces that do not live in its upper layer, so that fvm rm can remove it and a
 * listing can show the name behind a shortened one.
 *
 * Invariants: a line is written with one O_APPEND write, whole or not at all; readers
 * ignore a line they cannot parse. The VM writes this file: a reader takes it only as
 * a regular file (no link, no FIFO) of at most FVM_IPC_FILE_MAX bytes. Raw system calls only (libfvm and the tools alike).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fvm/escape.h"
#include "fvm/ipcname.h"
#include "fvm/sys.h"

#define LINE_MAX_LEN 1024

int fvm_ipc_record(const char *root, const char *kind, const char *mapped, const char *orig)
{
	char file[4096], line[LINE_MAX_LEN];
	size_t o;
	int fd, n, e;
	ssize_t w;

	if (snprintf(file, sizeof(file), "%s/%s", root, FVM_IPC_FILE) >= (int)sizeof(file)) {
		return -ENAMETOOLONG;
	}
	/* The kind is libfvm's own word; the names, chosen by the VM, are escaped below. */
	if (!*kind || strpbrk(kind, " \t\n\\") || !*mapped) {
		return -EINVAL;
	}
	n = snprintf(line, sizeof(line), "%s ", kind);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		return -ENAMETOOLONG;
	}
	o = (size_t)n;
	/* Each name escaped as a field, then the separator or the newline in its NUL's byte. */
	if ((e = fvm_escape_field(mapped, line + o, sizeof(line) - o - 1)) < 0) {
		return e;
	}
	o += (size_t)e;
	line[o++] = ' ';
	if ((e = fvm_escape_field(orig, line + o, sizeof(line) - o - 1)) < 0) {
		return e;
	}
	o += (size_t)e;
	line[o++] = '\n';
	fd = sys_openat(AT_FDCWD, file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		return fd;
	}
	w = sys_write(fd, line, o);
	sys_close(fd);
	return w == (ssize_t)o ? 0 : w < 0 ? (int)w : -EIO;
}

bool fvm_ipc_parse_line(char *line, char **kind, char **mapped, char **orig)
{
	char *sp1 = strchr(line, ' '), *sp2;

	if (!sp1 || !(sp2 = strchr(sp1 + 1, ' ')) || strchr(sp2 + 1, ' ')) {
		return false; /* three fields exactly */
	}
	*sp1 = *sp2 = '\0';
	*kind = line;
	*mapped = sp1 + 1;
	*orig = sp2 + 1;
	/* The kind as the writer makes it: a word, no tab or backslash. */
	return **kind && !strpbrk(*kind, "\t\\") && **mapped && fvm_unescape_field(*mapped) > 0 &&
	       fvm_unescape_field(*orig) >= 0;
}

int fvm_ipc_each(const char *root,
		 int (*fn)(const char *kind, const char *mapped, const char *orig, void *arg),
		 void *arg)
{
	char file[4096], buf[8192], line[LINE_MAX_LEN];
	size_t ll = 0, total = 0;
	bool skipping = false;
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	if (snprintf(file, sizeof(file), "%s/%s", root, FVM_IPC_FILE) >= (int)sizeof(file)) {
		return -ENAMETOOLONG;
	}
	/* The VM writes its registry: a regular file, not followed, never waited on. */
	fd = sys_openat(AT_FDCWD, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
	if (fd < 0) {
		return fd == -ENOENT ? 0 : fd;
	}
	if ((ret = sys_fstat(fd, &st)) == 0 && !S_ISREG(st.st_mode)) {
		ret = -EBADFD;
	}
	while (ret == 0 && (n = sys_read(fd, buf, sizeof(buf))) > 0) {
		if ((total += (size_t)n) > FVM_IPC_FILE_MAX) {
			ret = -EFBIG;
			break;
		}
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
			if (!skipping && fvm_ipc_parse_line(line, &kind, &mapped, &orig)) {
				ret = fn(kind, mapped, orig, arg);
			}
			ll = 0;
			skipping = false;
		}
	}
	sys_close(fd);
	return ret;
}
