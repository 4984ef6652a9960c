/*
 * lookup-probe.c — a long-lived process that looks names up on request, so a test
 * can change the VM from another process between two lookups of this one.
 *
 *   lookup-probe < COMMANDS      one command a line: "stat PATH" or "read PATH"
 *
 * Answers one line per command, flushed at once: "ok SIZE" / "ok CONTENT-FIRST-LINE"
 * or the errno name ("ENOENT", ...). Exits 0 at end of input, 2 on a bad command.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *errname(int e)
{
	switch (e) {
	case ENOENT:
		return "ENOENT";
	case ENOTDIR:
		return "ENOTDIR";
	case EACCES:
		return "EACCES";
	default:
		return strerror(e);
	}
}

int main(void)
{
	char line[4200];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "stat ", 5) == 0) {
			struct stat st;
			if (stat(line + 5, &st) == 0) {
				printf("ok %lld\n", (long long)st.st_size);
			} else {
				printf("%s\n", errname(errno));
			}
		} else if (strncmp(line, "read ", 5) == 0) {
			char buf[256];
			FILE *f = fopen(line + 5, "r");
			if (!f) {
				printf("%s\n", errname(errno));
				continue;
			}
			if (!fgets(buf, sizeof(buf), f)) {
				buf[0] = '\0';
			}
			buf[strcspn(buf, "\n")] = '\0';
			fclose(f);
			printf("ok %s\n", buf);
		} else {
			fprintf(stderr, "lookup-probe: bad command '%s'\n", line);
			return 2;
		}
	}
	return 0;
}
