/*
 * lookup-probe.c — a long-lived process that looks names up on request, so a test
 * can change the VM from another process between two lookups of this one.
 *
 *   lookup-probe < COMMANDS      one command a line:
 *     stat PATH            stat(2): "ok SIZE" ("ok dir" for a directory)
 *     lstat PATH           lstat(2): "ok SIZE"
 *     statat DIR NAME      open DIR (O_DIRECTORY), fstatat(fd, NAME, AT_SYMLINK_NOFOLLOW),
 *                          close: "ok SIZE" (a name joined to a directory fd's path)
 *     read PATH            fopen and the first line: "ok LINE"
 *     open PATH            open(2), read(2) and the first line: "ok LINE"
 *     access PATH          access(R_OK): "ok 0"
 *     list DIR             readdir to the end: "ok ENTRIES"
 *     reuse DIR1 DIR2 NAME open DIR1, close it, open DIR2 (the same fd number, as
 *                          the lowest free one), fstatat(fd, NAME): "ok SIZE"
 *     dup2 DIR1 DIR2 NAME  open DIR1 as fd A and DIR2 as fd B, dup2(B, A),
 *                          fstatat(A, NAME): "ok SIZE"
 *     dupfd DIR1 DIR2 NAME open DIR1 as fd A and DIR2, close A, F_DUPFD DIR2's fd to A,
 *                          fstatat(A, NAME): "ok SIZE"
 *     readlink PATH        readlink(2): "ok TARGET"
 *     hold DIR             open DIR (O_DIRECTORY) and keep it as the held fd: "ok"
 *     heldat NAME          fstatat(held fd, NAME, AT_SYMLINK_NOFOLLOW): "ok SIZE"
 *     heldlink NAME        readlinkat(held fd, NAME): "ok TARGET"
 *     heldself             fstat of the held fd: "ok NLINK" (a directory's link count)
 *
 * Failures answer the errno name ("ENOENT", ...). One line per command, flushed at
 * once. Exits 0 at end of input, 2 on a bad command.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void answer_size(int ret, const struct stat *st)
{
	if (ret == 0 && S_ISDIR(st->st_mode)) {
		printf("ok dir\n"); /* a directory's size is the filesystem's own */
	} else if (ret == 0) {
		printf("ok %lld\n", (long long)st->st_size);
	} else {
		printf("%s\n", errname(errno));
	}
}

/* "reuse" and "dup2": a directory fd whose number now names another directory. */
static void fd_reuse(const char *cmd, char *args)
{
	char *d1 = strtok(args, " "), *d2 = strtok(NULL, " "), *name = strtok(NULL, " ");
	struct stat st;
	int a, b, ret;

	if (!d1 || !d2 || !name) {
		printf("EINVAL\n");
		return;
	}
	a = open(d1, O_RDONLY | O_DIRECTORY);
	if (a < 0) {
		printf("%s\n", errname(errno));
		return;
	}
	if (strcmp(cmd, "reuse") == 0) {
		close(a);
		b = open(d2, O_RDONLY | O_DIRECTORY);
		ret = b == a ? fstatat(a, name, &st, 0) : (errno = EBADF, -1);
		answer_size(ret, &st);
		close(b);
		return;
	}
	if (strcmp(cmd, "dupfd") == 0) {
		b = open(d2, O_RDONLY | O_DIRECTORY);
		close(a);
		int c = b < 0 ? -1 : fcntl(b, F_DUPFD_CLOEXEC, a);
		close(b);
		ret = c != a ? (errno = EBADF, -1) : fstatat(a, name, &st, 0);
		answer_size(ret, &st);
		close(c);
		return;
	}
	b = open(d2, O_RDONLY | O_DIRECTORY);
	ret = b < 0 || dup2(b, a) < 0 ? -1 : fstatat(a, name, &st, 0);
	answer_size(ret, &st);
	close(a);
	close(b);
}

/* "statat": NAME looked up relative to a directory fd. */
static void stat_at(char *args)
{
	char *dir = strtok(args, " "), *name = strtok(NULL, " ");
	struct stat st;
	int fd, ret;

	if (!dir || !name) {
		printf("EINVAL\n");
		return;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		printf("%s\n", errname(errno));
		return;
	}
	ret = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW);
	answer_size(ret, &st);
	close(fd);
}

static void open_read(const char *path)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		printf("%s\n", errname(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("ok %s\n", buf);
}

static void answer_link(ssize_t n, char *buf)
{
	if (n < 0) {
		printf("%s\n", errname(errno));
		return;
	}
	buf[n] = '\0';
	printf("ok %s\n", buf);
}

int main(void)
{
	char line[4200], target[4096];
	int held = -1;

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
		} else if (strncmp(line, "lstat ", 6) == 0) {
			struct stat st;
			answer_size(lstat(line + 6, &st), &st);
		} else if (strncmp(line, "statat ", 7) == 0) {
			stat_at(line + 7);
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
		} else if (strncmp(line, "open ", 5) == 0) {
			open_read(line + 5);
		} else if (strncmp(line, "access ", 7) == 0) {
			struct stat st = {0};
			answer_size(access(line + 7, R_OK), &st);
		} else if (strncmp(line, "list ", 5) == 0) {
			DIR *d = opendir(line + 5);
			long n = 0;
			if (!d) {
				printf("%s\n", errname(errno));
				continue;
			}
			while (readdir(d)) {
				n++;
			}
			closedir(d);
			printf("ok %ld\n", n);
		} else if (strncmp(line, "reuse ", 6) == 0) {
			fd_reuse("reuse", line + 6);
		} else if (strncmp(line, "dup2 ", 5) == 0) {
			fd_reuse("dup2", line + 5);
		} else if (strncmp(line, "dupfd ", 6) == 0) {
			fd_reuse("dupfd", line + 6);
		} else if (strncmp(line, "readlink ", 9) == 0) {
			answer_link(readlink(line + 9, target, sizeof(target) - 1), target);
		} else if (strncmp(line, "hold ", 5) == 0) {
			if (held >= 0) {
				close(held);
			}
			held = open(line + 5, O_RDONLY | O_DIRECTORY);
			printf("%s\n", held < 0 ? errname(errno) : "ok");
		} else if (strncmp(line, "heldat ", 7) == 0) {
			struct stat st;
			answer_size(fstatat(held, line + 7, &st, AT_SYMLINK_NOFOLLOW), &st);
		} else if (strncmp(line, "heldlink ", 9) == 0) {
			answer_link(readlinkat(held, line + 9, target, sizeof(target) - 1), target);
		} else if (strcmp(line, "heldself") == 0) {
			struct stat st;
			if (fstat(held, &st) == 0) {
				printf("ok %lu\n", (unsigned long)st.st_nlink);
			} else {
				printf("%s\n", errname(errno));
			}
		} else {
			fprintf(stderr, "lookup-probe: bad command '%s'\n", line);
			return 2;
		}
	}
	return 0;
}
