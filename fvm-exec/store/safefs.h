/*
 * safefs.h — the store as untrusted input (issue 13): every access the tools make
 * beneath a VM directory goes through a directory fd and never follows a link.
 *
 * A VM may have planted anything in its data area ($FVM_HOME/vms/NAME, fvm/layout.h):
 * links where directories were, FIFOs or devices where files were, huge files, forged
 * lines. So, in this module and in every caller:
 *  - a path beneath a directory fd is resolved with openat2(RESOLVE_BENEATH |
 *    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), or, where the kernel lacks openat2,
 *    one component at a time with O_NOFOLLOW; a link anywhere on the way is -ELOOP;
 *  - the last component is acted on with an *at() call relative to its parent's fd
 *    (unlinkat, renameat, fstatat(AT_SYMLINK_NOFOLLOW), readlinkat);
 *  - a file read for its content (a control file, a log) is opened O_NOFOLLOW |
 *    O_NONBLOCK, must be a regular file by fstat, and is read up to a size bound;
 *  - a temporary is created O_CREAT | O_EXCL | O_NOFOLLOW under a name with 64 random
 *    bits (getrandom), so no name can be planted in advance.
 * Functions return -errno unless they say otherwise; nothing here prints.
 */
#ifndef FVM_STORE_SAFEFS_H
#define FVM_STORE_SAFEFS_H

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Size bounds of the files the tools read whole (why each: safefs.c). */
#define SAFE_MAX_CONF    ((size_t)1 << 20)   /* vm.conf, the store's format file */
#define SAFE_MAX_JOURNAL ((size_t)1 << 30)   /* commit.journal: a line per change */
#define SAFE_MAX_ORIGINS ((size_t)1 << 30)   /* origins: a line per copy-up */
#define SAFE_MAX_IPC     ((size_t)16 << 20)  /* ipc: a line per IPC object */

/*
 * Opens REL beneath DIRFD without following any link and without leaving DIRFD ("..",
 * an absolute REL: -EXDEV). FLAGS as for openat; O_CLOEXEC | O_NOFOLLOW are added.
 * REL "" or "." opens DIRFD's directory again. Returns the fd or -errno.
 */
int safe_openat(int dirfd, const char *rel, int flags, mode_t mode);

/*
 * What safe_openat does where the kernel has no openat2: REL one component at a time,
 * each opened O_NOFOLLOW beneath the last, ".." refused (-EXDEV). Public for its test.
 */
int safe_openat_walk(int dirfd, const char *rel, int flags, mode_t mode);

/*
 * Opens the directory that holds REL's last component, beneath DIRFD and without
 * links, and sets *BASE to that component (a pointer into REL). REL's leading and
 * repeated slashes are ignored; a REL with no component is -EINVAL. Returns the fd.
 */
int safe_open_parent(int dirfd, const char *rel, const char **base);

/*
 * safe_open_parent with the last directory kept open: names of one directory asked in
 * a row (a commit's changes, in path order) open it once. PC starts zeroed; the fd
 * returned (or the -errno the open gave, kept as well) belongs to PC until
 * safe_parent_cache_drop or the next call for another directory or DIRFD: the caller
 * never closes it. What the directory was when opened is what every later call gets,
 * as a caller holding the fd itself would.
 */
struct safe_parent_cache {
	bool valid;
	int fd, dirfd;
	char dir[PATH_MAX];
};
int safe_parent_cached(struct safe_parent_cache *pc, int dirfd, const char *rel, const char **base);
void safe_parent_cache_drop(struct safe_parent_cache *pc);

/* The directory at REL beneath DIRFD, O_RDONLY | O_DIRECTORY. Returns the fd. */
int safe_open_dir(int dirfd, const char *rel);

/*
 * Reads the regular file NAME of DIRFD whole into *BUF (malloc'd, NUL-terminated; *LEN
 * bytes). Refused: a link (-ELOOP), anything but a regular file (-EFTYPE_SAFE), more
 * than MAX bytes (-EFBIG). Never blocks on a FIFO. Returns 0 or -errno.
 */
#define EFTYPE_SAFE EBADFD /* the errno this module uses for "not a regular file" */
int safe_read_file(int dirfd, const char *name, size_t max, char **buf, size_t *len);

/* Why safe_read_file or safe_open_control failed, for a message after the file name. */
const char *safe_strerror(int err);

/*
 * Opens the regular file NAME of DIRFD with FLAGS (O_NOFOLLOW | O_NONBLOCK |
 * O_CLOEXEC added; O_CREAT with MODE allowed) and checks by fstat that it is a
 * regular file (-EFTYPE_SAFE otherwise; the fd is closed). Returns the fd.
 */
int safe_open_control(int dirfd, const char *name, int flags, mode_t mode);

/* A text read whole (safe_read_file), readable as a stream. */
struct safe_text {
	char *buf;
	size_t len;
	FILE *f;
};

/* safe_read_file, then a stream over the bytes. Returns 0 or -errno. */
int safe_text_open(struct safe_text *t, int dirfd, const char *name, size_t max);
void safe_text_close(struct safe_text *t);

/*
 * Writes 16 random lowercase hex digits (64 bits of getrandom) and a NUL into OUT.
 * Returns 0 or -errno.
 */
int safe_random_hex(char out[17]);

/*
 * Creates an unpredictably named file beside NAME in DIRFD: ".NAME.tmp.RANDOM", with
 * O_CREAT | O_EXCL | O_NOFOLLOW and MODE, open for writing; its name into TMP (LEN
 * bytes). Returns the fd.
 */
int safe_temp_create(int dirfd, const char *name, mode_t mode, char *tmp, size_t len);

/*
 * A directory stream over DFD's directory (a dup of it: DFD stays the caller's, and the
 * stream reads from the start). NULL with errno.
 */
DIR *safe_dir_stream(int dfd);

/*
 * Removes entry NAME of DIRFD whatever it is: a link or a file is unlinked (a link is
 * never followed), a directory emptied through fds then removed. STEP(ARG), when given,
 * is called once per entry removed. A missing NAME is 0. Returns 0 or -errno.
 */
int safe_rm_tree(int dirfd, const char *name, void (*step)(void *arg), void *arg);

/*
 * Calls FN for entry NAME of DIRFD and, when it is a directory, for everything beneath
 * it, parents first; links are reported, never followed. FN gets the entry's parent
 * fd, its name, its lstat and its depth (0 for NAME); a non-zero return stops the walk
 * with that value. Returns 0, FN's value, or -errno.
 */
int safe_walk(int dirfd, const char *name,
	      int (*fn)(int pfd, const char *name, const struct stat *st, int depth, void *arg),
	      void *arg);

/*
 * "/proc/self/fd/FD" into OUT: a name for the object FD (opened O_PATH) that the
 * xattr calls without an *at() form (listxattr, getxattr) reach without a path walk.
 */
void safe_fd_path(int fd, char out[32]);

#endif
