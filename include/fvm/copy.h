/*
 * copy.h — copying an object's bytes and extended attributes, one way for the two
 * places that copy: copy-up into the VM (core/copyup.c) and fvm commit onto the host
 * (fvm-exec/store/commit_apply.c). Raw system calls (fvm/sys.h): libfvm calls these
 * inside the VM's processes without re-entering its wrappers.
 */
#ifndef FVM_COPY_H
#define FVM_COPY_H

#include <sys/types.h>

/*
 * Copies the content of regular file SRC to DST (both open fds, at their offsets):
 * a reflink when the filesystem shares blocks, else copy_file_range for SIZE bytes,
 * else read and write to the end of SRC. A file that shrinks meanwhile ends early.
 * Returns 0 or -errno.
 */
int fvm_copy_data(int src, int dst, off_t size);

/*
 * Copies the extended attributes of SRC to DST, but fvm's own (fvm_xattr_is_ours,
 * vm.h). Each side is an fd when SRC_FD / DST_FD >= 0, else a path (not followed).
 * Attributes already on DST with other names stay. Returns 0, or the -errno of the
 * first user.* attribute that could not be set; names outside user.* need
 * privilege, and failing to set them is not an error.
 */
int fvm_copy_xattrs(int src_fd, const char *src_rpath, int dst_fd, const char *dst_rpath);

#endif
