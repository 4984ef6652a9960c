/*
 * replace.h — writing a file whole: into a temporary beside it, flushed to disk, then
 * renamed over it, so a reader (or a crash) sees the old file or the new one, never a
 * mix. The store's files (vm.conf, policy, origins, the commit journal, the format
 * file) are written so.
 *
 * The temporary is ".NAME.tmp.RANDOM" in the same directory fd, created O_EXCL |
 * O_NOFOLLOW under 64 random bits (safefs.h): no name can be planted for it.
 *
 * reuse_or_create serves writers of many small files (the run records, the history)
 * that recycle an old file as their temporary instead of unlinking one and making
 * another: a file system without a journal (ext4) scans past every inode freed recently
 * to make a new one. What is renamed there is kept only if it is a regular file of one
 * link; anything else, or no file left to take, gives a new file made O_EXCL.
 */
#ifndef FVM_STORE_REPLACE_H
#define FVM_STORE_REPLACE_H

#include <limits.h>
#include <stdio.h>
#include <sys/types.h>

struct replace {
	FILE *f;                /* write the new content here */
	int dirfd;              /* borrowed: open until commit or abort */
	const char *name;
	char tmp[NAME_MAX + 1];
};

/*
 * Opens a temporary for the new content of NAME in directory DIRFD (MODE before the
 * umask). Returns 0 or -errno.
 */
int replace_open(struct replace *r, int dirfd, const char *name, mode_t mode);

/*
 * Flushes, fsyncs and closes the new content and renames it over NAME. On failure the
 * temporary is removed and NAME is as it was. Returns 0 or -errno.
 */
int replace_commit(struct replace *r);

/*
 * replace_commit without the fsync: for a file derived from others and checked by
 * every reader before use, which a crash may leave empty or old but never torn
 * between two contents (the rename is atomic): the compiled policy image, which every
 * run compares with what it would write and rewrites when it differs.
 */
int replace_commit_nosync(struct replace *r);

/* Drops the new content: NAME is as it was. */
void replace_abort(struct replace *r);

/* NAME in DIRFD replaced by LEN bytes of DATA (MODE before the umask), as above.
 * Returns 0 or -errno. */
int replace_write(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/*
 * An fd open for writing on the empty file TMP of DIRFD: the first of the N files OLDS
 * (names in DIRFD) that renames to TMP and is there a regular file of one link
 * (opened O_TRUNC | O_NOFOLLOW | O_NONBLOCK), else a new file (0600) made O_EXCL |
 * O_NOFOLLOW after unlinking whatever TMP holds. *TAKEN (unless NULL) is how many of
 * OLDS were renamed away (a rename that fails means another writer took it first).
 * Returns the fd or -errno.
 */
int reuse_or_create(int dirfd, const char *const *olds, size_t n, const char *tmp, size_t *taken);

#endif
