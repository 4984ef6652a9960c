/*
 * copy.c — an object's bytes and extended attributes, copied (fvm/copy.h).
 *
 * Invariants: fvm's own attributes (FVM_ORIGIN_XATTR) are never copied, in either
 * direction; a copy's attribute values are whole (up to the kernel's XATTR_SIZE_MAX).
 */
#include <errno.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/copy.h"
#include "fvm/sys.h"
#include "fvm/vm.h"

int fvm_copy_data(int src, int dst, off_t size)
{
	/*
	 * Set once a clone is refused for what the destination's filesystem is (ext4, tmpfs:
	 * EOPNOTSUPP; no such ioctl: ENOTTY, EINVAL): a process copies into one store (or,
	 * for a commit, the host), so it stops asking; a refusal is only ever a copy's speed.
	 */
	static int no_clone;
	char buf[65536];
	ssize_t n;

	if (!__atomic_load_n(&no_clone, __ATOMIC_RELAXED)) {
		int r = sys_ioctl(dst, FICLONE, src);
		if (r == 0) {
			return 0;
		}
		if (r == -EOPNOTSUPP || r == -ENOTTY || r == -EINVAL) {
			__atomic_store_n(&no_clone, 1, __ATOMIC_RELAXED);
		}
	}
	while (size > 0) {
		n = sys_copy_file_range(src, dst, (size_t)size);
		if (n == 0) {
			return 0; /* the file shrank while we copied */
		}
		if (n < 0) {
			break;
		}
		size -= n;
	}
	if (size <= 0) {
		return 0;
	}
	/* copy_file_range refused (EXDEV, EINVAL on some filesystems): plain copy. */
	for (;;) {
		n = sys_read(src, buf, sizeof(buf));
		if (n == 0) {
			return 0;
		}
		if (n < 0) {
			if (n == -EINTR) {
				continue;
			}
			return (int)n;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = sys_write(dst, buf + done, (size_t)(n - done));
			if (w < 0) {
				if (w == -EINTR) {
					continue;
				}
				return (int)w;
			}
			done += w;
		}
	}
}

static ssize_t list_of(int fd, const char *rpath, char *list, size_t len)
{
	return fd >= 0 ? sys_flistxattr(fd, list, len) : sys_llistxattr(rpath, list, len);
}

static ssize_t get_of(int fd, const char *rpath, const char *name, void *val, size_t len)
{
	return fd >= 0 ? sys_fgetxattr(fd, name, val, len) : sys_lgetxattr(rpath, name, val, len);
}

static int set_on(int fd, const char *rpath, const char *name, const void *val, size_t len)
{
	return fd >= 0 ? sys_fsetxattr(fd, name, val, len, 0) : sys_lsetxattr(rpath, name, val, len, 0);
}

int fvm_copy_xattrs(int src_fd, const char *src_rpath, int dst_fd, const char *dst_rpath)
{
	ssize_t len = list_of(src_fd, src_rpath, NULL, 0);
	char *names, *value;
	int ret = 0;

	if (len <= 0) {
		return 0; /* none, or a filesystem without xattrs: nothing to copy */
	}
	/* Most objects have none: the buffers are only allocated for those that do. */
	names = malloc((size_t)len + XATTR_SIZE_MAX);
	if (!names) {
		return -ENOMEM;
	}
	value = names + len;
	len = list_of(src_fd, src_rpath, names, (size_t)len);
	for (ssize_t off = 0; off < len;) {
		const char *name = names + off;
		off += (ssize_t)strnlen(name, (size_t)(len - off)) + 1;
		if (off > len || fvm_xattr_is_ours(name)) {
			continue; /* an unterminated last name is no name */
		}
		ssize_t vl = get_of(src_fd, src_rpath, name, value, XATTR_SIZE_MAX);
		if (vl < 0) {
			continue; /* removed since the listing */
		}
		int r = set_on(dst_fd, dst_rpath, name, value, (size_t)vl);
		if (r < 0 && ret == 0 && strncmp(name, "user.", 5) == 0) {
			ret = r;
		}
	}
	free(names);
	return ret;
}
