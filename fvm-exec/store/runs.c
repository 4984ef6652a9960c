/*
 * runs.c — the records of a VM's live runs (runs.h): their one writer and reader.
 *
 * Rules:
 *  - Every access goes through a descriptor of CTL/runs opened without following a
 *    link; a record is opened O_NOFOLLOW | O_NONBLOCK, must be a regular file, and is
 *    read to at most RUN_RECORD_MAX bytes.
 *  - A record is written whole (a temporary, then rename), so a reader never sees half
 *    of one.
 *  - A record removed is kept as a spare file (.spare.N, RUN_SPARES of them) that the
 *    next record is written into (renamed to the temporary, truncated, checked to be a
 *    regular file of one link), instead of an unlink and a new file: a file system
 *    without a journal (ext4) scans past every inode freed recently to make a new one,
 *    0.3-0.5 ms per start here (issue 15). Readers skip names beginning with a dot.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/replace.h"
#include "store/runs.h"

#define RUN_MAGIC "fvm-run 1"

static const char *const spares[] = {".spare.0", ".spare.1", ".spare.2", ".spare.3"};
#define RUN_SPARES (sizeof(spares) / sizeof(spares[0]))

int vm_proc_read(pid_t pid, struct vm_proc *p)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return -ESRCH;
	}
	buf[n] = '\0';
	/* "PID (COMM) S PPID ...": COMM may hold anything, ')' included. */
	char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren ||
	    sscanf(close_paren + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
		   &p->state, &ppid, &p->utime, &p->stime, &p->start) != 5) {
		return -EINVAL;
	}
	size_t len = (size_t)(close_paren - open_paren - 1);
	if (len >= sizeof(p->comm)) {
		len = sizeof(p->comm) - 1;
	}
	memcpy(p->comm, open_paren + 1, len);
	p->comm[len] = '\0';
	p->pid = pid;
	p->ppid = ppid;
	return 0;
}

unsigned long long proc_start_time(pid_t pid)
{
	struct vm_proc p;

	if (vm_proc_read(pid, &p) < 0) {
		return 0;
	}
	return p.state == 'Z' || p.state == 'X' ? 0 : p.start; /* a zombie has ended */
}

bool run_record_live(const struct run_record *r)
{
	return r->pid > 0 && r->start != 0 && proc_start_time(r->pid) == r->start;
}

/* CTLDIR/runs as a descriptor; CREATE makes what is missing (0700). -errno on failure. */
static int open_runs(const char *ctldir, bool create)
{
	char parent[PATH_MAX];
	int ctl, runs;

	if (create) {
		const char *slash = strrchr(ctldir, '/');
		if (slash && slash > ctldir && (size_t)(slash - ctldir) < sizeof(parent)) {
			snprintf(parent, sizeof(parent), "%.*s", (int)(slash - ctldir), ctldir);
			if (mkdir(parent, 0700) < 0 && errno != EEXIST) {
				return -errno;
			}
		}
		if (mkdir(ctldir, 0700) < 0 && errno != EEXIST) {
			return -errno;
		}
	}
	ctl = open(ctldir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ctl < 0) {
		return -errno;
	}
	if (create && mkdirat(ctl, RUNS_DIR, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		close(ctl);
		return -e;
	}
	runs = openat(ctl, RUNS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	close(ctl);
	return runs < 0 ? -e : runs;
}

int run_record_write(const char *ctldir, const struct run_record *r)
{
	char name[32], tmp[64], text[RUN_RECORD_MAX];
	int dir = open_runs(ctldir, true), fd, ret = 0;
	size_t len;

	if (dir < 0) {
		return dir;
	}
	len = (size_t)snprintf(text, sizeof(text), "%s\nsupervisor %d %llu\n", RUN_MAGIC, (int)r->pid,
			       r->start);
	for (int i = 0; i < r->ncg && len < sizeof(text); i++) {
		len += (size_t)snprintf(text + len, sizeof(text) - len, "cgroup %s\n", r->cg[i]);
	}
	if (len >= sizeof(text)) {
		close(dir);
		return -ENAMETOOLONG;
	}
	snprintf(name, sizeof(name), "%d", (int)r->pid);
	snprintf(tmp, sizeof(tmp), ".%d.tmp", (int)r->pid);
	fd = reuse_or_create(dir, spares, RUN_SPARES, tmp, NULL);
	if (fd < 0) {
		ret = fd;
	} else {
		if (write(fd, text, len) != (ssize_t)len) {
			ret = errno ? -errno : -EIO;
		}
		close(fd);
		if (ret == 0 && renameat(dir, tmp, dir, name) < 0) {
			ret = -errno;
		}
		if (ret < 0) {
			unlinkat(dir, tmp, 0);
		}
	}
	close(dir);
	return ret;
}

int run_record_remove(const char *ctldir, pid_t pid)
{
	char name[32];
	int dir = open_runs(ctldir, false), ret = 0;

	if (dir < 0) {
		return dir == -ENOENT ? 0 : dir;
	}
	snprintf(name, sizeof(name), "%d", (int)pid);
	/* Kept as a spare for the next record (the rules); unlinked when all are there. */
	for (size_t i = 0; i < RUN_SPARES; i++) {
		if (renameat2(dir, name, dir, spares[i], RENAME_NOREPLACE) == 0) {
			close(dir);
			return 0;
		}
		if (errno != EEXIST) {
			break; /* ENOENT: gone already; EINVAL: no RENAME_NOREPLACE here */
		}
	}
	if (unlinkat(dir, name, 0) < 0 && errno != ENOENT) {
		ret = -errno;
	}
	close(dir);
	return ret;
}

/* Parses the record TEXT (of file FILE) into R. Returns 0, or -1 (reported). */
static int parse_record(const char *file, char *text, struct run_record *r)
{
	int line = 0;

	memset(r, 0, sizeof(*r));
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int pid;
		char rest;
		line++;
		if (line == 1) {
			if (strcmp(l, RUN_MAGIC) != 0) {
				warnx("%s:1: not a run record (expected \"%s\")", file, RUN_MAGIC);
				return -1;
			}
		} else if (sscanf(l, "supervisor %d %llu %c", &pid, &r->start, &rest) == 2 && pid > 0) {
			r->pid = pid;
		} else if (strncmp(l, "cgroup /", 8) == 0 && r->ncg < RUN_CG_MAX &&
			   strlen(l + 7) < sizeof(r->cg[0])) {
			strcpy(r->cg[r->ncg++], l + 7);
		} else {
			warnx("%s:%d: malformed line in a run record", file, line);
			return -1;
		}
	}
	if (r->pid == 0) {
		warnx("%s: a run record without its supervisor line", file);
		return -1;
	}
	return 0;
}

/* Reads the record NAME of directory DIR (CTLDIR/runs) into R. 0, or -1 (reported). */
static int read_record(int dir, const char *ctldir, const char *name, struct run_record *r)
{
	char text[RUN_RECORD_MAX + 1], file[PATH_MAX + 64];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "%s/%s/%s", ctldir, RUNS_DIR, name);
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) { /* ENOENT: its run just ended */
			warn("%s", file);
		}
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RUN_RECORD_MAX) {
		warnx("%s: not a run record (not a regular file of at most %d bytes)", file, RUN_RECORD_MAX);
		close(fd);
		return -1;
	}
	n = read(fd, text, RUN_RECORD_MAX);
	close(fd);
	if (n < 0) {
		warn("%s", file);
		return -1;
	}
	text[n] = '\0';
	return parse_record(file, text, r);
}

/* True when one of R's cgroups still holds a process. */
static bool cgroups_busy(const struct run_record *r)
{
	char path[PATH_MAX + 16], c;
	bool busy = false;

	for (int i = 0; !busy && i < r->ncg; i++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", r->cg[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			busy = read(fd, &c, 1) == 1;
			close(fd);
		}
	}
	return busy;
}

int run_records_load(const char *ctldir, bool prune, struct run_record **out, size_t *n)
{
	struct run_record *v = NULL;
	struct dirent *d;
	size_t cnt = 0;
	int fd = open_runs(ctldir, false);
	DIR *dir;

	*out = NULL;
	*n = 0;
	if (fd < 0) {
		return fd == -ENOENT ? 0 : fd;
	}
	dir = fdopendir(dup(fd));
	if (!dir) {
		int e = errno;
		close(fd);
		return -e;
	}
	while ((d = readdir(dir))) {
		struct run_record r;
		char *end;
		long pid = strtol(d->d_name, &end, 10);
		if (d->d_name[0] == '.' || *end != '\0' || pid <= 0) {
			continue; /* ., .., a writer's temporary */
		}
		if (read_record(fd, ctldir, d->d_name, &r) < 0 || r.pid != (pid_t)pid) {
			continue;
		}
		if (!run_record_live(&r)) {
			if (cgroups_busy(&r)) {
				r.pid = 0; /* its supervisor is gone, not its processes */
			} else {
				if (prune) {
					for (int i = 0; i < r.ncg; i++) {
						rmdir(r.cg[i]); /* left behind by a supervisor that was killed */
					}
					unlinkat(fd, d->d_name, 0);
				}
				continue;
			}
		}
		struct run_record *nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			closedir(dir);
			close(fd);
			return -ENOMEM;
		}
		v = nv;
		v[cnt++] = r;
	}
	closedir(dir);
	close(fd);
	*out = v;
	*n = cnt;
	return 0;
}
