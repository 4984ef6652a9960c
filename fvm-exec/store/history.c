/*
 * history.c — the accounts of a VM's past runs (history.h): their one writer and reader.
 *
 * Rules:
 *  - Every access goes through a descriptor of CTL/history opened without following a
 *    link; a record is opened O_NOFOLLOW | O_NONBLOCK, must be a regular file, and is
 *    read to at most HISTORY_RECORD_MAX bytes.
 *  - A record is written whole (a temporary, then rename) under a name that sorts
 *    by its end (END_MS-PID, fixed width), so the oldest go first when the cap prunes.
 *  - Once the cap is reached, the new record takes the oldest one's file (renamed to
 *    the temporary, truncated, written, renamed to its name) instead of a new file and
 *    an unlink: a file system without a journal (ext4) scans past every inode freed
 *    recently to make a new one, 0.3-0.5 ms per start here (issue 15). The temporary
 *    is checked to be a regular file before it is written; anything else, or a race
 *    lost to another run pruning the same record, falls back to a new file.
 *  - One table of fields serves the writer and the reader.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/history.h"
#include "store/replace.h"

#define HISTORY_MAGIC "fvm-history 1"
#define HISTORY_SCAN_MAX 4096 /* records looked at, at most */

enum field_kind { F_ULL, F_LL, F_INT, F_TEXT };

static const struct field {
	const char *name;
	enum field_kind kind;
	size_t off, size;
} fields[] = {
#define ULL(n, m) {n, F_ULL, offsetof(struct run_stats, m), 0}
#define TXT(n, m) {n, F_TEXT, offsetof(struct run_stats, m), sizeof(((struct run_stats *)0)->m)}
	{"supervisor", F_INT, offsetof(struct run_stats, pid), 0},
	{"start-ms", F_LL, offsetof(struct run_stats, start_ms), 0},
	{"end-ms", F_LL, offsetof(struct run_stats, end_ms), 0},
	ULL("wall-ms", wall_ms),
	ULL("user-ms", user_ms),
	ULL("sys-ms", sys_ms),
	ULL("peak-rss", peak_rss),
	ULL("rchar", rchar),
	ULL("wchar", wchar),
	ULL("read-bytes", read_bytes),
	ULL("write-bytes", write_bytes),
	ULL("copy-ups", copyups),
	ULL("copy-bytes", copy_bytes),
	ULL("processes", procs),
	ULL("layer-bytes", layer_bytes),
	{"end", F_INT, offsetof(struct run_stats, end), 0},
	{"code", F_INT, offsetof(struct run_stats, code), 0},
	{"signal", F_INT, offsetof(struct run_stats, signal), 0},
	TXT("quota", quota),
	TXT("cpu-source", cpu_src),
	TXT("memory-source", mem_src),
	TXT("io-source", io_src),
#undef ULL
#undef TXT
};

/*
 * CTLDIR/history as a descriptor; CREATE makes it (0700). *OWNER (when not NULL) gets
 * the control directory's owner, which a root run gives what it writes there, so the
 * VM's owner still reads and prunes it. -errno on failure.
 */
static int open_history(const char *ctldir, bool create, struct stat *owner)
{
	int ctl = open(ctldir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), dir;

	if (ctl < 0) {
		return -errno;
	}
	if (owner && fstat(ctl, owner) < 0) {
		int e = errno;
		close(ctl);
		return -e;
	}
	if (create && mkdirat(ctl, HISTORY_DIR, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		close(ctl);
		return -e;
	}
	dir = openat(ctl, HISTORY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	close(ctl);
	if (dir >= 0 && owner && geteuid() == 0 && owner->st_uid != 0 &&
	    fchown(dir, owner->st_uid, owner->st_gid) < 0) {
		/* kept as root's: the owner's tools then cannot read it, nothing worse */
	}
	return dir < 0 ? -e : dir;
}

/* A record's name: END_MS-PID, both fixed width. */
static bool record_name(const char *name)
{
	size_t n = strlen(name);

	if (n != 16 + 1 + 10 || name[16] != '-') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (i != 16 && (name[i] < '0' || name[i] > '9')) {
			return false;
		}
	}
	return true;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The record names in DIR, sorted, into *NAMES (malloc'd). Returns their count or -errno. */
static ssize_t list_records(int dir, char ***names)
{
	int fd = dup(dir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		if (fd >= 0) {
			close(fd);
		}
		return -ENOMEM;
	}
	rewinddir(d);
	while ((e = readdir(d)) && n < HISTORY_SCAN_MAX) {
		if (!record_name(e->d_name)) {
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name))) {
			break;
		}
		n++;
	}
	closedir(d);
	if (n) {
		qsort(v, n, sizeof(*v), cmp_name);
	}
	*names = v;
	return (ssize_t)n;
}

static void free_names(char **v, ssize_t n)
{
	for (ssize_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

/* S as the text of a record into BUF. Returns its length, or -ENAMETOOLONG. */
static int format_record(const struct run_stats *s, char *buf, size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "%s\n", HISTORY_MAGIC);

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && used < len; i++) {
		const void *p = (const char *)s + fields[i].off;
		switch (fields[i].kind) {
		case F_ULL:
			if (*(const unsigned long long *)p != HISTORY_UNKNOWN) {
				used += (size_t)snprintf(buf + used, len - used, "%s %llu\n", fields[i].name,
							 *(const unsigned long long *)p);
			}
			break;
		case F_LL: used += (size_t)snprintf(buf + used, len - used, "%s %lld\n", fields[i].name, *(const long long *)p); break;
		case F_INT: used += (size_t)snprintf(buf + used, len - used, "%s %d\n", fields[i].name, *(const int *)p); break;
		case F_TEXT:
			if (*(const char *)p) {
				used += (size_t)snprintf(buf + used, len - used, "%s %s\n", fields[i].name, (const char *)p);
			}
			break;
		}
	}
	return used < len ? (int)used : -ENAMETOOLONG;
}

void history_name(const struct run_stats *s, char *buf, size_t len)
{
	snprintf(buf, len, "%016lld-%010d", s->end_ms < 0 ? 0 : s->end_ms, (int)s->pid);
}

int history_write(const char *ctldir, const struct run_stats *s, unsigned keep)
{
	char name[40], tmp[48], text[HISTORY_RECORD_MAX];
	int dir, fd, len, ret = 0;

	if ((len = format_record(s, text, sizeof(text))) < 0) {
		return len;
	}
	struct stat owner;
	if ((dir = open_history(ctldir, true, &owner)) < 0) {
		return dir;
	}
	history_name(s, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), ".%d.tmp", (int)s->pid);
	/* The records there now, oldest first: those beyond the cap once this one is in go,
	 * the oldest of them giving its file to this one (keep >= 2: one record always
	 * shows while the recycled one is rewritten). */
	char **names = NULL;
	ssize_t n = list_records(dir, &names);
	size_t first = 0;
	bool recycle = keep >= 2 && n > 0 && n + 1 > (ssize_t)keep;
	fd = reuse_or_create(dir, (const char *const *)names, recycle ? 1 : 0, tmp, &first);
	if (first) {
		char trace[64];
		snprintf(trace, sizeof(trace), "%s.trace", names[0]); /* its trace (store/trace.h) */
		unlinkat(dir, trace, 0);
	}
	if (fd < 0) {
		ret = fd;
	} else {
		if (write(fd, text, (size_t)len) != (ssize_t)len) {
			ret = errno ? -errno : -EIO;
		}
		if (geteuid() == 0 && owner.st_uid != 0 && fchown(fd, owner.st_uid, owner.st_gid) < 0) {
			/* as above */
		}
		close(fd);
		if (ret == 0 && renameat(dir, tmp, dir, name) < 0) {
			ret = -errno;
		}
		if (ret < 0) {
			unlinkat(dir, tmp, 0);
		}
	}
	/* The cap: the oldest go (another run pruning at once removes the same ones);
	 * N did not count this record. */
	for (ssize_t i = (ssize_t)first; n > 0 && i + (ssize_t)keep < n + (ret == 0); i++) {
		char trace[64];
		unlinkat(dir, names[i], 0);
		snprintf(trace, sizeof(trace), "%s.trace", names[i]); /* its trace (store/trace.h) */
		unlinkat(dir, trace, 0);
	}
	free_names(names, n);
	close(dir);
	return ret;
}

/* Parses TEXT into S. Returns 0, or -EINVAL for anything but a record. */
static int parse_record(char *text, struct run_stats *s)
{
	char *save = NULL, *l = strtok_r(text, "\n", &save);

	memset(s, 0, sizeof(*s));
	s->layer_bytes = HISTORY_UNKNOWN; /* the one figure a record may leave out */
	if (!l || strcmp(l, HISTORY_MAGIC) != 0) {
		return -EINVAL;
	}
	while ((l = strtok_r(NULL, "\n", &save))) {
		char *val = strchr(l, ' ');
		if (!val) {
			return -EINVAL;
		}
		*val++ = '\0';
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (strcmp(l, fields[i].name) != 0) {
				continue;
			}
			void *p = (char *)s + fields[i].off;
			char *end;
			errno = 0;
			switch (fields[i].kind) {
			case F_ULL: *(unsigned long long *)p = strtoull(val, &end, 10); break;
			case F_LL: *(long long *)p = strtoll(val, &end, 10); break;
			case F_INT: {
				long v = strtol(val, &end, 10);
				if (v < INT_MIN || v > INT_MAX) {
					return -EINVAL;
				}
				*(int *)p = (int)v;
				break;
			}
			case F_TEXT:
				end = val + strlen(val);
				if ((size_t)(end - val) >= fields[i].size) {
					return -EINVAL;
				}
				memcpy(p, val, (size_t)(end - val) + 1);
				break;
			}
			if (errno || *end || end == val) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Reads record NAME of DIR into S. 0 or -errno. */
static int read_record(int dir, const char *name, struct run_stats *s)
{
	char text[HISTORY_RECORD_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n <= 0 || n > HISTORY_RECORD_MAX) {
		return -EINVAL;
	}
	text[n] = '\0';
	return parse_record(text, s);
}

int history_load(const char *ctldir, struct run_stats **out, size_t *np)
{
	int dir = open_history(ctldir, false, NULL);
	char **names = NULL;
	ssize_t n;
	size_t got = 0;

	*out = NULL;
	*np = 0;
	if (dir < 0) {
		return dir == -ENOENT ? 0 : dir;
	}
	n = list_records(dir, &names);
	if (n > 0) {
		*out = calloc((size_t)n, sizeof(**out));
		for (ssize_t i = 0; *out && i < n; i++) {
			if (read_record(dir, names[i], &(*out)[got]) == 0) {
				got++;
			}
		}
	}
	free_names(names, n);
	close(dir);
	*np = got;
	return n < 0 ? (int)n : (n > 0 && !*out) ? -ENOMEM : 0;
}

int history_last(const char *ctldir, struct run_stats *out)
{
	int dir = open_history(ctldir, false, NULL), found = 0;
	char **names = NULL;
	ssize_t n;

	if (dir < 0) {
		return dir == -ENOENT ? 0 : dir;
	}
	n = list_records(dir, &names);
	/* Newest first; a malformed record is skipped, as history_load skips it. */
	for (ssize_t i = n - 1; i >= 0 && !found; i--) {
		found = read_record(dir, names[i], out) == 0;
	}
	free_names(names, n);
	close(dir);
	return n < 0 ? (int)n : found;
}

void history_ended(const struct run_stats *s, char *buf, size_t len)
{
	const char *abbrev;
	int l;

	switch (s->end) {
	case RUN_END_EXIT: l = snprintf(buf, len, "exit %d", s->code); break;
	case RUN_END_SIGNAL:
		abbrev = sigabbrev_np(s->signal);
		l = snprintf(buf, len, "signal %d (%s)", s->signal, abbrev ? abbrev : "?");
		break;
	case RUN_END_TIMEOUT: l = snprintf(buf, len, "timeout"); break;
	default: l = snprintf(buf, len, "running"); break;
	}
	if (s->quota[0] && l >= 0 && (size_t)l < len) {
		snprintf(buf + l, len - (size_t)l, ", quota %s", s->quota);
	}
}
