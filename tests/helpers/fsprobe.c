/*
 * fsprobe.c — a few file system calls and a look at its own start, built -static-pie
 * (fsprobe-spie) for the static-PIE tests (issue 14; libfvm/pieload/pieload.c): its
 * calls must reach the supervisor, and its start must be as the kernel's.
 *
 *   fsprobe OP ARG... [: OP ARG...]...
 *
 *   stat P         "stat P: file|dir|link SIZE" or the errno name
 *   cat P          the file's bytes
 *   ls D           the directory's names, sorted, "." and ".." left out
 *   write P TEXT   P created or truncated, TEXT and a newline written
 *   append P TEXT  the same at P's end
 *   rm P           unlink(P)
 *   mkdir P        mkdir(P, 0755)
 *   self           what the start gave the program: argc, argv, comm, the auxiliary
 *                  vector's AT_EXECFN, AT_SECURE, AT_BASE, AT_PAGESZ, whether AT_ENTRY
 *                  is its own entry and AT_PHDR its own program headers, 16 AT_RANDOM
 *                  bytes present, a TLS variable, a thread, a large allocation
 *   code           "code low" when its code lies below 0x2a0000000000 (where the
 *                  supervisor's filter notifies calls; natively a static-PIE's does
 *                  not: "code high")
 *   env NAME       NAME's value in the environment, or "(unset)"
 *
 * Rules:
 *  - Output depends only on the tree and the arguments (but "code"), so a native run
 *    and a VM run compare.
 */
#include <elf.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

extern char _start[];
extern const Elf64_Ehdr __ehdr_start;
static __thread int tls_value = 42;

static int fail(const char *op, const char *p)
{
	printf("%s %s: %s\n", op, p, strerrorname_np(errno));
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int do_ls(const char *p)
{
	DIR *d = opendir(p);
	char *names[4096];
	size_t n = 0;
	struct dirent *e;

	if (!d) {
		return fail("ls", p);
	}
	while ((e = readdir(d)) && n < 4096) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			names[n++] = strdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	printf("ls %s:", p);
	for (size_t i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
	return 0;
}

static int do_cat(const char *p)
{
	char buf[4096];
	ssize_t r;
	int fd = open(p, O_RDONLY);

	if (fd < 0) {
		return fail("cat", p);
	}
	fflush(stdout);
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (write(1, buf, (size_t)r) != r) {
			break;
		}
	}
	close(fd);
	return 0;
}

static int do_write(const char *p, const char *text, int flags)
{
	int fd = open(p, O_WRONLY | O_CREAT | flags, 0644);

	if (fd < 0) {
		return fail(flags & O_APPEND ? "append" : "write", p);
	}
	dprintf(fd, "%s\n", text);
	close(fd);
	return 0;
}

static void *thread_main(void *arg)
{
	tls_value++;
	return arg;
}

static int do_self(int argc, char **argv)
{
	char comm[32] = "";
	int fd = open("/proc/self/comm", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, comm, sizeof(comm) - 1);
		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		close(fd);
	}
	printf("argc %d argv0 %s argv1 %s\n", argc, argv[0], argc > 1 ? argv[1] : "-");
	printf("comm %s\n", comm);
	const char *fn = (const char *)getauxval(AT_EXECFN);
	printf("execfn %s\n", fn ? fn : "(none)");
	printf("secure %lu base %lu pagesz %lu\n", getauxval(AT_SECURE), getauxval(AT_BASE),
	       getauxval(AT_PAGESZ));
	printf("entry-is-start %d\n", getauxval(AT_ENTRY) == (unsigned long)_start);
	printf("phdr-is-own %d phnum-is-own %d\n",
	       getauxval(AT_PHDR) == (unsigned long)&__ehdr_start + __ehdr_start.e_phoff,
	       getauxval(AT_PHNUM) == __ehdr_start.e_phnum);
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; rnd && i < 16; i++) {
		nonzero |= rnd[i];
	}
	printf("random %s\n", rnd && nonzero ? "present" : "missing");
	pthread_t t;
	tls_value++;
	if (pthread_create(&t, NULL, thread_main, NULL) == 0 && pthread_join(t, NULL) == 0) {
		printf("tls %d thread ok\n", tls_value);
	}
	size_t big = 64u << 20;
	char *m = malloc(big), *s = malloc(100);
	if (m && s) {
		memset(m, 1, big);
		printf("malloc ok\n");
	}
	free(m);
	free(s);
	return 0;
}

static int run(char **a, int n, int argc, char **argv)
{
	struct stat st;
	const char *op = a[0];

	if (!strcmp(op, "stat") && n == 2) {
		if (lstat(a[1], &st) < 0) {
			return fail("stat", a[1]);
		}
		printf("stat %s: %s %lld\n", a[1],
		       S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "other",
		       S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
		return 0;
	}
	if (!strcmp(op, "cat") && n == 2) {
		return do_cat(a[1]);
	}
	if (!strcmp(op, "ls") && n == 2) {
		return do_ls(a[1]);
	}
	if (!strcmp(op, "write") && n == 3) {
		return do_write(a[1], a[2], O_TRUNC);
	}
	if (!strcmp(op, "append") && n == 3) {
		return do_write(a[1], a[2], O_APPEND);
	}
	if (!strcmp(op, "rm") && n == 2) {
		return unlink(a[1]) < 0 ? fail("rm", a[1]) : 0;
	}
	if (!strcmp(op, "mkdir") && n == 2) {
		return mkdir(a[1], 0755) < 0 ? fail("mkdir", a[1]) : 0;
	}
	if (!strcmp(op, "self") && n == 1) {
		return do_self(argc, argv);
	}
	if (!strcmp(op, "code") && n == 1) {
		printf("code %s\n", (uintptr_t)_start < 0x2a0000000000ULL ? "low" : "high");
		return 0;
	}
	if (!strcmp(op, "env") && n == 2) {
		const char *v = getenv(a[1]);
		printf("env %s=%s\n", a[1], v ? v : "(unset)");
		return 0;
	}
	fprintf(stderr, "fsprobe: bad operation: %s (%d words)\n", op, n);
	return 2;
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc) {
		int j = i;
		while (j < argc && strcmp(argv[j], ":") != 0) {
			j++;
		}
		int r = run(argv + i, j - i, argc, argv);
		fflush(stdout);
		if (r) {
			return r;
		}
		i = j + 1;
	}
	return 0;
}
