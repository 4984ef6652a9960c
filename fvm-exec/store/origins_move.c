/*
 * origins_move.c — origins carried between hosts (origins_move.h).
 *
 * Rules:
 *  - a host object is read by path without following a last-component link (O_NOFOLLOW,
 *    lstat, readlink), and checked after opening to be the object stat'ed;
 *  - every record passes the core's parser (fvm_origin_parse) and is written by the
 *    core's formatter: the text is untrusted (it comes with an archive or image);
 *  - a SUM is compared only with one computed here; "changed", or anything unknown,
 *    never matches;
 *  - the log and the carried text are untrusted (a VM writes its log; an archive
 *    brings the text), so a record could name any host file: only a file whose size is
 *    the record's is read, and never one of the kernel's pseudo file systems (/proc,
 *    /sys: /proc/kcore's size is that of the address space).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "fvm/origins.h"
#include "store/oci.h"
#include "store/originlog.h"
#include "store/origins_move.h"

#define ORIGINS_MAGIC "fvm-origins 2"
#define SUM_MAX (8 + OCI_DIGEST_HEX) /* "sha256:" and 64 hex digits, or a word */

/* True for a file system whose files are the kernel's, not data (never hashed). */
static bool pseudo_fs(int fd)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) < 0) {
		return true;
	}
	switch ((unsigned long)fs.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case BPF_FS_MAGIC:
		return true;
	default:
		return false;
	}
}

/* The SUM of host object PATH, whose lstat is ST and whose record says SIZE, into OUT. */
static void host_sum(const char *path, const struct stat *st, int64_t size, char out[SUM_MAX])
{
	char hex[OCI_DIGEST_HEX], target[PATH_MAX];
	struct stat fst;
	uint64_t got;
	ssize_t n;
	int fd;

	snprintf(out, SUM_MAX, "changed");
	if (S_ISREG(st->st_mode)) {
		if (st->st_size != size) {
			return;
		}
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			return;
		}
		if (fstat(fd, &fst) == 0 && fst.st_dev == st->st_dev && fst.st_ino == st->st_ino &&
		    !pseudo_fs(fd) && oci_sha256_fd(fd, hex, &got) == 0 && got == (uint64_t)size) {
			snprintf(out, SUM_MAX, "sha256:%s", hex);
		}
		close(fd);
	} else if (S_ISLNK(st->st_mode)) {
		if ((n = readlink(path, target, sizeof(target))) >= 0 && (size_t)n < sizeof(target)) {
			oci_sha256_hex(target, (size_t)n, hex);
			snprintf(out, SUM_MAX, "sha256:%s", hex);
		}
	} else {
		snprintf(out, SUM_MAX, "type");
	}
}

char *origins_export_text(const char *vmdir)
{
	char file[PATH_MAX + 16], line[FVM_ORIGIN_LINE_MAX], sum[SUM_MAX], *text = NULL;
	struct originlog log;
	size_t len = 0;
	struct stat st;
	FILE *mem;

	snprintf(file, sizeof(file), "%s/%s", vmdir, FVM_ORIGINS_FILE);
	if (originlog_load(file, &log) < 0) {
		warnx("%s: the origins log cannot be read: not exported", file);
		return NULL;
	}
	if (log.n == 0 || !(mem = open_memstream(&text, &len))) {
		originlog_free(&log);
		return NULL;
	}
	fputs(ORIGINS_MAGIC "\n", mem);
	for (size_t i = 0; i < log.n; i++) {
		const struct fvm_origin *r = &log.v[i];
		if (lstat(r->vpath, &st) == 0 && originlog_matches(r, &st)) {
			host_sum(r->vpath, &st, r->size, sum);
		} else {
			snprintf(sum, sizeof(sum), "changed");
		}
		if (fvm_origin_format(r, line, sizeof(line)) > 0) {
			fprintf(mem, "%s %s", sum, line);
		}
	}
	fclose(mem);
	originlog_free(&log);
	return text;
}

/* One "SUM RECORD" line (LINE, without its newline, rewritten) judged here into OUT. */
static int judge(char *line, char *out, size_t outlen, bool *foreign)
{
	char *sp = strchr(line, ' '), here[SUM_MAX];
	struct fvm_origin r, local;
	struct stat st;

	if (!sp || (size_t)(sp - line) >= SUM_MAX) {
		return -EINVAL;
	}
	*sp = '\0';
	if (fvm_origin_parse(sp + 1, &r) < 0) {
		return -EINVAL;
	}
	*foreign = true;
	if (strcmp(line, "changed") != 0 && lstat(r.vpath, &st) == 0 &&
	    (st.st_mode & S_IFMT) == (r.mode & S_IFMT)) {
		host_sum(r.vpath, &st, r.size, here);
		if (strcmp(here, line) == 0) {
			fvm_origin_of(&st, r.vpath, &local);
			*foreign = false;
			return fvm_origin_format(&local, out, outlen);
		}
	}
	return fvm_origin_format(&r, out, outlen);
}

int origins_import_text(int vmfd, const char *text, size_t *conflicts)
{
	int fd = openat(vmfd, FVM_ORIGINS_FILE, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	size_t dropped = 0, first = strcspn(text, "\n");
	bool sums = first == strlen(ORIGINS_MAGIC) && strncmp(text, ORIGINS_MAGIC, first) == 0;
	char out[FVM_ORIGIN_LINE_MAX];
	int r = 0;

	*conflicts = 0;
	if (fd < 0) {
		r = -errno;
		warn("import: origins");
		return r;
	}
	for (const char *p = sums ? text + first + (text[first] == '\n') : text; *p && r == 0;) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);
		struct fvm_origin rec;
		bool foreign = true;
		int len;
		if (!line) {
			r = -ENOMEM;
			break;
		}
		len = sums ? judge(line, out, sizeof(out), &foreign)
			   : fvm_origin_parse(line, &rec) == 0 ? fvm_origin_format(&rec, out, sizeof(out)) : -EINVAL;
		if (len > 0) {
			*conflicts += foreign;
			if (write(fd, out, (size_t)len) != len) {
				r = -errno;
			}
		} else if (n) {
			dropped++;
		}
		free(line);
		p += n + (p[n] == '\n');
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
	}
	if (r < 0) {
		warnx("import: origins: %s", strerror(-r));
	}
	if (dropped) {
		warnx("import: %zu origins records were malformed and dropped", dropped);
	}
	return r;
}
