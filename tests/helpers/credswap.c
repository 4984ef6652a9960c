/*
 * credswap — one thread changes what the supervisor keeps of it between two of its own
 * notified calls (issue 14; tests/e2e/t_virt_memo.sh, root only). Built statically by
 * that test, so that its calls are the supervisor's to answer; natively for comparison.
 *
 *   credswap groups FILE GID   as uid 65534 holding CAP_SETGID: groups {GID}, then
 *                              access(FILE, R_OK) and open(FILE); then setgroups
 *                              to none (no id changes) and the same again
 *   credswap chroot DIR NAME   stat(NAME) (absolute), chroot(DIR), stat(NAME) again
 *
 * Prints one line per check: "before|after access|open|stat: ok" or the errno's name.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *err(int r)
{
	if (r == 0) {
		return "ok";
	}
	return errno == EACCES ? "EACCES" : errno == ENOENT ? "ENOENT" : errno == EPERM ? "EPERM" : strerror(errno);
}

static void checks(const char *when, const char *file)
{
	int fd;

	printf("%s access: %s\n", when, err(access(file, R_OK)));
	fd = open(file, O_RDONLY);
	printf("%s open: %s\n", when, err(fd < 0 ? -1 : 0));
	if (fd >= 0) {
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "groups") == 0) {
		gid_t g = (gid_t)atoi(argv[3]);
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct data[2] = {{0}};
		if (setgroups(1, &g) < 0 || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
		    setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) {
			perror("credswap: drop");
			return 1;
		}
		data[0].effective = data[0].permitted = 1u << CAP_SETGID;
		if (syscall(SYS_capset, &hdr, data) < 0) {
			perror("credswap: capset");
			return 1;
		}
		checks("before", argv[2]);
		if (setgroups(0, NULL) < 0) {
			perror("credswap: setgroups");
			return 1;
		}
		checks("after", argv[2]);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "chroot") == 0) {
		struct stat st;
		printf("before stat: %s\n", err(stat(argv[3], &st)));
		if (chroot(argv[2]) < 0) {
			perror("credswap: chroot");
			return 1;
		}
		printf("after stat: %s\n", err(stat(argv[3], &st)));
		return 0;
	}
	fprintf(stderr, "usage: credswap groups FILE GID | chroot DIR NAME\n");
	return 2;
}
