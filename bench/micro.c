/*
 * micro.c — nanoseconds per call of the path lookups every program makes.
 *
 *   micro FILE MISSING [CALLS]
 *
 * For each operation (stat FILE, open+close FILE, access FILE, stat MISSING) it makes
 * CALLS calls (default 1,000,000) in batches of 1,000 and prints one line
 * "OP NS" where NS is the median over the batches of the mean time per call. The
 * median of batches keeps a burst of noise on this shared machine out of the figure.
 * A call that does not return what it should (FILE must exist, MISSING must not) is
 * an error: exit 1 with the reason, so a broken VM cannot post a fast figure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 1000

enum op { OP_STAT, OP_OPEN, OP_ACCESS, OP_MISSING };

static const char *const op_names[] = {"stat", "open+close", "access", "stat-missing"};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One call of OP; 0 when it behaved as it must, else the errno-style reason. */
static int one_call(enum op op, const char *file, const char *missing)
{
	struct stat st;
	int fd;

	switch (op) {
	case OP_STAT:
		return stat(file, &st) == 0 ? 0 : errno;
	case OP_OPEN:
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			return errno;
		}
		close(fd);
		return 0;
	case OP_ACCESS:
		return access(file, R_OK) == 0 ? 0 : errno;
	case OP_MISSING:
		return stat(missing, &st) < 0 && errno == ENOENT ? 0 : EEXIST;
	}
	return EINVAL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long calls = 1000000;
	size_t nbatch;
	double *per;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: micro FILE MISSING [CALLS]\n");
		return 2;
	}
	if (argc == 4) {
		char *end;
		calls = strtol(argv[3], &end, 10);
		if (*end || calls < BATCH || calls > 100000000) {
			fprintf(stderr, "micro: CALLS '%s': a number from %d to 1e8\n", argv[3], BATCH);
			return 2;
		}
	}
	nbatch = (size_t)(calls / BATCH);
	per = calloc(nbatch, sizeof(*per));
	if (!per) {
		perror("micro");
		return 1;
	}
	for (enum op op = OP_STAT; op <= OP_MISSING; op++) {
		for (size_t b = 0; b < nbatch; b++) {
			double t0 = now_ns();
			for (int i = 0; i < BATCH; i++) {
				int err = one_call(op, argv[1], argv[2]);
				if (err) {
					fprintf(stderr, "micro: %s of %s: %s\n", op_names[op],
						op == OP_MISSING ? argv[2] : argv[1], strerror(err));
					return 1;
				}
			}
			per[b] = (now_ns() - t0) / BATCH;
		}
		qsort(per, nbatch, sizeof(*per), cmp_double);
		printf("%s %.1f\n", op_names[op], per[nbatch / 2]);
	}
	free(per);
	return 0;
}
