/*
 * fsops.c — a driver for the per-family preload tests: runs the file operations named
 * on its command line, in order, and prints one line per operation with its result
 * (values, or the errno name), so that a run natively and a run inside a VM over an
 * identical tree can be compared line by line.
 *
 *   fsops OP ARG... [: OP ARG...]...
 *
 * Operations take their arguments from the command line, a ':' separates them. One
 * open file descriptor register ("the fd") is kept between operations.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "legacy_calls.h"

extern char **environ;
static int the_fd = -1;

static int report(const char *op, int ret)
{
	if (ret < 0) {
		printf("%s: %s\n", op, strerrorname_np(errno));
	} else {
		printf("%s: ok\n", op);
	}
	return 0;
}

static int flags_of(const char *s)
{
	static const struct {
		const char *name;
		int flag;
	} table[] = {
		{"r", O_RDONLY}, {"w", O_WRONLY}, {"rw", O_RDWR}, {"creat", O_CREAT},
		{"excl", O_EXCL}, {"trunc", O_TRUNC}, {"append", O_APPEND},
		{"dir", O_DIRECTORY}, {"nofollow", O_NOFOLLOW}, {"tmpfile", O_TMPFILE},
		{"path", O_PATH},
	};
	int flags = 0;
	char buf[256], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
			if (strcmp(tok, table[i].name) == 0) {
				flags |= table[i].flag;
			}
		}
	}
	return flags;
}

static void print_stat(const char *op, const struct stat *st)
{
	const char *type = S_ISREG(st->st_mode) ? "file" : S_ISDIR(st->st_mode) ? "dir"
			 : S_ISLNK(st->st_mode) ? "link" : S_ISFIFO(st->st_mode) ? "fifo"
			 : S_ISSOCK(st->st_mode) ? "sock" : "other";
	printf("%s: %s mode=%o size=%lld nlink=%lu uid=%u\n", op, type,
	       (unsigned)(st->st_mode & 07777), S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size,
	       S_ISDIR(st->st_mode) ? 0UL : (unsigned long)st->st_nlink, (unsigned)st->st_uid);
}

/* Each operation: its name, its argument count, and the code (args in a[]). */
static int run(const char *op, char **a)
{
	struct stat st;
	char buf[PATH_MAX + 1];
	ssize_t n;

	if (!strcmp(op, "stat") || !strcmp(op, "lstat")) {
		int r = (op[0] == 's' ? stat : lstat)(a[0], &st);
		if (r < 0) {
			return report(op, r);
		}
		print_stat(op, &st);
	} else if (!strcmp(op, "open")) {
		if (the_fd >= 0) {
			close(the_fd);
		}
		the_fd = open(a[0], flags_of(a[1]), 0644);
		report(op, the_fd);
	} else if (!strcmp(op, "write")) {
		report(op, (int)write(the_fd, a[0], strlen(a[0])));
	} else if (!strcmp(op, "fstat")) {
		if (fstat(the_fd, &st) < 0) {
			return report(op, -1);
		}
		print_stat(op, &st);
	} else if (!strcmp(op, "close")) {
		report(op, close(the_fd));
		the_fd = -1;
	} else if (!strcmp(op, "cat")) {
		FILE *f = fopen(a[0], "r");
		if (!f) {
			return report(op, -1);
		}
		n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
		buf[n > 0 ? n : 0] = '\0';
		fclose(f);
		printf("%s: [%s]\n", op, buf);
	} else if (!strcmp(op, "link")) {
		report(op, link(a[0], a[1]));
	} else if (!strcmp(op, "linkfollow")) {
		report(op, linkat(AT_FDCWD, a[0], AT_FDCWD, a[1], AT_SYMLINK_FOLLOW));
	} else if (!strcmp(op, "linkfd")) {
		report(op, linkat(the_fd, "", AT_FDCWD, a[0], AT_EMPTY_PATH));
	} else if (!strcmp(op, "linkproc")) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", the_fd);
		report(op, linkat(AT_FDCWD, proc, AT_FDCWD, a[0], AT_SYMLINK_FOLLOW));
	} else if (!strcmp(op, "symlink")) {
		report(op, symlink(a[0], a[1]));
	} else if (!strcmp(op, "mkfifo")) {
		report(op, mkfifo(a[0], 0640));
	} else if (!strcmp(op, "mknod")) {
		report(op, mknod(a[0], S_IFREG | 0600, 0));
	} else if (!strcmp(op, "mkdir")) {
		report(op, mkdir(a[0], 0755));
	} else if (!strcmp(op, "unlink")) {
		report(op, unlink(a[0]));
	} else if (!strcmp(op, "rmdir")) {
		report(op, rmdir(a[0]));
	} else if (!strcmp(op, "rename")) {
		report(op, rename(a[0], a[1]));
	} else if (!strcmp(op, "readlink")) {
		n = readlink(a[0], buf, sizeof(buf) - 1);
		if (n < 0) {
			return report(op, -1);
		}
		buf[n] = '\0';
		printf("%s: %s\n", op, buf);
	} else if (!strcmp(op, "realpath") || !strcmp(op, "canon")) {
		char *r = op[0] == 'r' ? realpath(a[0], buf) : canonicalize_file_name(a[0]);
		if (!r) {
			return report(op, -1);
		}
		printf("%s: %s\n", op, r);
		if (r != buf) {
			free(r);
		}
	} else if (!strcmp(op, "getcwd")) {
		printf("%s: %s\n", op, getcwd(buf, sizeof(buf)) ? buf : strerrorname_np(errno));
	} else if (!strcmp(op, "chdir")) {
		report(op, chdir(a[0]));
	} else if (!strcmp(op, "statvfs")) {
		struct statvfs sv;
		report(op, statvfs(a[0], &sv));
	} else if (!strcmp(op, "statfs")) {
		struct statfs sf;
		report(op, statfs(a[0], &sf));
	} else if (!strcmp(op, "pathconf")) {
		errno = 0;
		long v = pathconf(a[0], _PC_NAME_MAX);
		printf("%s: %ld %s\n", op, v, v < 0 ? strerrorname_np(errno) : "");
	} else if (!strcmp(op, "inotify")) {
		int in = inotify_init1(IN_CLOEXEC);
		report(op, inotify_add_watch(in, a[0], IN_MODIFY));
		close(in);
	} else if (!strcmp(op, "fchmod")) {
		report(op, fchmod(the_fd, (mode_t)strtol(a[0], NULL, 8)));
	} else if (!strcmp(op, "fchown")) {
		report(op, fchown(the_fd, (uid_t)-1, getegid()));
	} else if (!strcmp(op, "ftruncate")) {
		report(op, ftruncate(the_fd, 0));
	} else if (!strcmp(op, "futimens")) {
		struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
		report(op, futimens(the_fd, ts));
	} else if (!strcmp(op, "fsetxattr")) {
		report(op, fsetxattr(the_fd, "user.fsops", "v", 1, 0));
	} else if (!strcmp(op, "mtime")) {
		if (lstat(a[0], &st) < 0) {
			return report(op, -1);
		}
		printf("%s: %lld\n", op, (long long)st.st_mtime);
	} else if (!strcmp(op, "mode")) {
		if (lstat(a[0], &st) < 0) {
			return report(op, -1);
		}
		printf("%s: %o\n", op, (unsigned)(st.st_mode & 07777));
	} else if (!strcmp(op, "tmpfile")) {
		FILE *f = tmpfile();
		if (!f) {
			return report(op, -1);
		}
		fputs("tmp", f);
		rewind(f);
		n = (ssize_t)fread(buf, 1, 10, f);
		buf[n > 0 ? n : 0] = '\0';
		printf("%s: [%s]\n", op, buf);
		fclose(f);
	} else if (!strcmp(op, "mktemp")) {
		snprintf(buf, sizeof(buf), "%s", a[0]);
		LEGACY(mktemp)(buf);
		printf("%s: %s %s\n", op, buf[0] ? "named" : "failed",
		       buf[0] && access(buf, F_OK) < 0 ? "free" : "taken");
	} else if (!strcmp(op, "tempnam")) {
		char *t = LEGACY(tempnam)(a[0], "fv");
		printf("%s: %s\n", op, t && strncmp(t, a[0], strlen(a[0])) == 0 ? "in-dir" : "elsewhere");
		free(t);
	} else if (!strcmp(op, "dlopen")) {
		void *h = dlopen(a[0], RTLD_NOW);
		printf("%s: %s\n", op, h ? "loaded" : "failed");
	} else if (!strcmp(op, "spawnout")) {
		/* posix_spawn of echo with stdout opened by a file action at a[0]. */
		posix_spawn_file_actions_t fa;
		char *argv[] = {"echo", a[1], NULL};
		pid_t pid;
		int status = 0;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, a[0], O_WRONLY | O_CREAT | O_APPEND, 0644);
		int r = posix_spawnp(&pid, "echo", &fa, NULL, argv, environ);
		if (r == 0) {
			waitpid(pid, &status, 0);
		}
		posix_spawn_file_actions_destroy(&fa);
		printf("%s: %s status=%d\n", op, r ? strerrorname_np(r) : "ok", WEXITSTATUS(status));
	} else if (!strcmp(op, "spawncd")) {
		posix_spawn_file_actions_t fa;
		char *argv[] = {"pwd", NULL};
		pid_t pid;
		int status = 0;
		fflush(stdout);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addchdir_np(&fa, a[0]);
		int r = posix_spawn(&pid, "/bin/pwd", &fa, NULL, argv, environ);
		if (r == 0) {
			waitpid(pid, &status, 0);
		}
		posix_spawn_file_actions_destroy(&fa);
		printf("%s: %s status=%d\n", op, r ? strerrorname_np(r) : "ok", WEXITSTATUS(status));
	} else if (!strcmp(op, "fexecve")) {
		fflush(stdout);
		int fd = open(a[0], O_RDONLY);
		char *argv[] = {a[0], "via-fexecve", NULL};
		if (fd < 0) {
			return report(op, -1);
		}
		pid_t pid = fork();
		if (pid == 0) {
			fexecve(fd, argv, environ);
			printf("%s: %s\n", op, strerrorname_np(errno));
			fflush(stdout);
			_exit(127);
		}
		int status;
		waitpid(pid, &status, 0);
		close(fd);
	} else {
		fprintf(stderr, "fsops: unknown operation %s\n", op);
		return 2;
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int nargs;
	} arity[] = {
		{"stat", 1}, {"lstat", 1}, {"open", 2}, {"write", 1}, {"fstat", 0}, {"close", 0},
		{"cat", 1}, {"link", 2}, {"linkfollow", 2}, {"linkfd", 1}, {"linkproc", 1},
		{"symlink", 2}, {"mkfifo", 1}, {"mknod", 1}, {"mkdir", 1}, {"unlink", 1},
		{"rmdir", 1}, {"rename", 2}, {"readlink", 1}, {"realpath", 1}, {"canon", 1},
		{"getcwd", 0}, {"chdir", 1}, {"statvfs", 1}, {"statfs", 1}, {"pathconf", 1},
		{"inotify", 1}, {"fchmod", 1}, {"fchown", 0}, {"ftruncate", 0}, {"futimens", 0},
		{"fsetxattr", 0}, {"mtime", 1}, {"mode", 1}, {"tmpfile", 0}, {"mktemp", 1},
		{"tempnam", 1}, {"dlopen", 1}, {"spawnout", 2}, {"spawncd", 1}, {"fexecve", 1},
	};
	int i = 1;

	while (i < argc) {
		const char *op = argv[i++];
		int nargs = -1;
		for (size_t k = 0; k < sizeof(arity) / sizeof(arity[0]); k++) {
			if (!strcmp(op, arity[k].name)) {
				nargs = arity[k].nargs;
			}
		}
		if (nargs < 0 || i + nargs > argc) {
			fprintf(stderr, "fsops: %s: unknown operation or missing argument\n", op);
			return 2;
		}
		int r = run(op, argv + i);
		if (r) {
			return r;
		}
		i += nargs;
		if (i < argc && !strcmp(argv[i], ":")) {
			i++;
		}
	}
	return 0;
}
