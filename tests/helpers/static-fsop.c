/*
 * static-fsop.c — a test helper for t_cache.sh, built static: one change to the tree
 * made without libfvm (in a VM the supervisor performs it), so that a test can show a
 * dynamic process's lookup cache sees a change a static program made.
 *
 *   static-fsop symlink TARGET LINK   replace LINK by a symlink to TARGET
 *   static-fsop create PATH           create PATH (or truncate it) holding "static\n"
 *
 * Prints nothing on success; "static-fsop: OP: reason" and exit 1 on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "symlink") == 0) {
		if ((unlink(argv[3]) < 0 && errno != ENOENT) || symlink(argv[2], argv[3]) < 0) {
			fprintf(stderr, "static-fsop: symlink: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "create") == 0) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, "static\n", 7) != 7 || close(fd) < 0) {
			fprintf(stderr, "static-fsop: create: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "usage: static-fsop symlink TARGET LINK | create PATH\n");
	return 2;
}
