/*
 * cubroker.c — the copy-up broker of a root run (fvm/cubroker.h says why it exists and
 * what libfvm sends it).
 *
 * Rules:
 *  - Its socket is made by fence_prepare in root runs only (an unprivileged run cannot
 *    change uid: no_new_privs) and the fence is on.
 *  - It is a job of the run's supervisor (supervise.c): one descriptor of its poll loop.
 *    The supervisor only takes the request and forks; the copy, which may be long, is
 *    made by that child, which answers the requester itself and exits. The supervisor
 *    reaps it as any child and never waits for a VM.
 *  - The child enters the requester's mount namespace (by a pidfd of the socketpair's
 *    creator, SO_PEERPIDFD) before it touches a file, and refuses a requester that
 *    shares the supervisor's own namespace: the root fence's namespace is where the
 *    host is read-only and the store covered but for the VM's data area.
 *  - It copies with libfvm's own core (fvm_prepare_modify, fvm_prepare_create) as root:
 *    the host's owner, mode, times and xattrs are kept, the origin recorded, the
 *    generation bumped; nothing else is changed, and no permission is checked (a
 *    copy-up changes nothing a process of the VM sees).
 *  - It is dropped from the loop when the socket reports end of file.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fvm/cubroker.h"
#include "fvm/env.h"
#include "fvm/policy.h"
#include "fvm/vm.h"
#include "run.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* Receives one request and the reply socket that comes with it (see mqbroker.c). */
static ssize_t take_request(int sock, struct fvm_cu_request *req, int *reply)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(*req)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;

	*reply = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int))) {
		memcpy(reply, CMSG_DATA(c), sizeof(int));
	}
	return n;
}

/* The mount namespace's inode of the calling process, 0 when unknown. */
static ino_t mnt_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/mnt", &st) == 0 ? st.st_ino : 0;
}

/* In the broker's child: enters the requester's namespace and copies. 0 or -errno. */
static int serve_child(const struct fvm_cu_request *req, int reply)
{
	struct fvm_vm vm;
	struct fvm_res res;
	socklen_t len = sizeof(int);
	const char *root = getenv(FVM_ENV_ROOT), *pol = getenv(FVM_ENV_POLICY);
	const char *name = getenv(FVM_ENV_VM), *home = getenv(FVM_ENV_HOME);
	int pidfd, ret;
	ino_t own = mnt_ns();

	if (req->vpath[0] != '/' || !root || root[0] != '/') {
		return -EINVAL;
	}
	if (getsockopt(reply, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
		return -errno;
	}
	ret = setns(pidfd, CLONE_NEWNS) < 0 ? -errno : 0;
	close(pidfd);
	if (ret < 0) {
		return ret;
	}
	if (own == 0 || mnt_ns() == own) {
		return -EPERM; /* not a process of the root fence's namespace */
	}
	if ((ret = fvm_vm_setup(&vm, name ? name : "", root, home && *home ? home : NULL)) < 0) {
		return ret;
	}
	vm.is_root = true;
	if (pol && *pol) {
		vm.policy = fvm_policy_map(pol);
	}
	fvm_gen_attach(&vm); /* without it the VM's caches miss this change */
	if (vm.home_len && strncmp(req->vpath, vm.home, vm.home_len) == 0 &&
	    (req->vpath[vm.home_len] == '/' || req->vpath[vm.home_len] == '\0')) {
		return -EACCES;
	}
	if ((ret = fvm_resolve(&vm, req->vpath, FVM_R_NOFOLLOW, &res)) < 0) {
		return ret;
	}
	if (req->kind == FVM_CU_PARENT) {
		return fvm_prepare_create(&vm, &res);
	}
	if (res.klass == FVM_CLASS_SHARED) {
		return -EACCES; /* the caller writes a shared path itself: never asks */
	}
	return fvm_prepare_modify(&vm, &res, true);
}

int cu_broker_serve(int sock)
{
	struct fvm_cu_request req;
	struct fvm_cu_reply rep = {0};
	int reply;
	ssize_t n = take_request(sock, &req, &reply);

	if (n <= 0) {
		return n == 0 ? 0 : errno == EAGAIN ? 1 : -1;
	}
	if (reply < 0) {
		return 1;
	}
	if ((size_t)n != sizeof(req) || req.version != FVM_CU_VERSION ||
	    !memchr(req.vpath, '\0', sizeof(req.vpath)) ||
	    (req.kind != FVM_CU_OBJECT && req.kind != FVM_CU_PARENT)) {
		rep.err = EINVAL;
	} else {
		pid_t child = fork();
		if (child == 0) {
			close(sock);
			int r = serve_child(&req, reply);
			rep.err = r < 0 ? -r : 0;
			send(reply, &rep, sizeof(rep), MSG_NOSIGNAL | MSG_DONTWAIT);
			_exit(0);
		}
		rep.err = child < 0 ? errno : 0;
		if (child > 0) {
			close(reply);
			return 1; /* the child answers */
		}
	}
	send(reply, &rep, sizeof(rep), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(reply);
	return 1;
}

int cu_broker_open(int *broker_end, int *vm_end)
{
	int sv[2];

	*broker_end = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		return -errno;
	}
	*broker_end = sv[0];
	*vm_end = sv[1];
	return 0;
}
