/*
 * pwdlock.c — the password-file lock: lckpwdf, ulckpwdf.
 *
 * glibc's lckpwdf opens /etc/.pwd.lock with an internal open that libfvm never sees,
 * so useradd, groupadd, passwd and their kin tried to create the host's lock file and
 * failed ("cannot lock /etc/passwd"). Here the lock file is opened in the VM (created
 * in upper/ as any file the VM makes), then locked as glibc locks it. Rules:
 *  - The same contract as glibc's: one lock per process, a write lock (fcntl F_SETLK,
 *    process-associated, so it excludes every other lckpwdf user of the VM, wrapped or
 *    not) on the whole file; 0 when held, -1 with errno otherwise; a second lckpwdf
 *    while held fails; ulckpwdf closes the file, -1 when none is held.
 *  - The wait is bounded as glibc's (15 seconds) but polled: glibc's SIGALRM would
 *    race with the program's own alarm and signal handlers.
 *  - The descriptor is close-on-exec, as glibc's.
 */
#include <pthread.h>
#include <time.h>

#include "libfvm.h"

#define PWD_LOCKFILE "/etc/.pwd.lock"
#define PWD_LOCK_WAIT_MS 15000
#define PWD_LOCK_POLL_MS 10

static pthread_mutex_t pwd_mutex = PTHREAD_MUTEX_INITIALIZER;
static int pwd_fd = -1;

/* Takes the write lock on FD, waiting up to PWD_LOCK_WAIT_MS. Returns 0 or -errno. */
static int pwd_lock_wait(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct timespec pause = {0, PWD_LOCK_POLL_MS * 1000000L};
	int waited = 0, ret;

	for (;;) {
		ret = sys_fcntl(fd, F_SETLK, (long)&fl);
		if (ret != -EAGAIN && ret != -EACCES) {
			return ret;
		}
		if (waited >= PWD_LOCK_WAIT_MS) {
			return -EINTR; /* glibc's lock wait ends by its alarm: EINTR */
		}
		nanosleep(&pause, NULL);
		waited += PWD_LOCK_POLL_MS;
	}
}

/* Returns 0 when the lock is held, 1 when this process held it already, or -errno. */
static int fvm_lckpwdf(void)
{
	int fd, ret;

	if (pwd_fd >= 0) {
		return 1; /* still held by this process: glibc fails, errno untouched */
	}
	pthread_mutex_lock(&pwd_mutex);
	fd = fvm_openat(AT_FDCWD, PWD_LOCKFILE, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ret = fd < 0 ? fd : pwd_lock_wait(fd);
	if (fd >= 0 && ret < 0) {
		sys_close(fd);
	} else if (ret == 0) {
		pwd_fd = fd;
	}
	pthread_mutex_unlock(&pwd_mutex);
	return ret;
}

/* Returns 0, 1 when no lock was held, or -errno of the close. */
static int fvm_ulckpwdf(void)
{
	int ret = 1;

	pthread_mutex_lock(&pwd_mutex);
	if (pwd_fd >= 0) {
		ret = sys_close(pwd_fd);
		pwd_fd = -1;
	}
	pthread_mutex_unlock(&pwd_mutex);
	return ret;
}

int lckpwdf(void)
{
	int ret = fvm_lckpwdf();

	return ret == 1 ? -1 : fvm_ret(ret);
}

int ulckpwdf(void)
{
	int ret = fvm_ulckpwdf();

	return ret == 1 ? -1 : fvm_ret(ret); /* as glibc: -1, errno untouched, when none held */
}
