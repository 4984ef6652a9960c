/*
 * cubroker.c — the copy-up broker of a root run (fvm/cubroker.h says why it exists and
 * what libfvm sends it).
 *
 * Rules:
 *  - It is made in root runs with the fence on (an unprivileged run cannot change uid:
 *    no_new_privs): by the supervisor, while the command's process builds its fence
 *    and before its exec (an inode made on the data area's file system, slow on some:
 *    off the start's path), a listening socket in the VM's data area, bound 0666 (any
 *    uid of the VM connects; a socket inode, not a file of the layer); by fence_prepare
 *    its name (FVM_CU) and a socketpair on which the command's process, once in the root fence's mount
 *    namespace and before its exec, sends that namespace (/proc/self/ns/mnt). Only
 *    that first message is taken: no process of the VM ever holds that socketpair.
 *  - It is a job of the run's supervisor (supervise.c): a descriptor of its poll loop.
 *    The namespace waits in the handoff socketpair until the first request (sent before
 *    the command's exec, so it is there by then: no wake-up at the start of every run).
 *    The supervisor only accepts and forks; the child reads the request (bounded
 *    wait), enters the VM's namespace, copies, answers on the connection and exits. The
 *    supervisor reaps it as any child and never waits for a VM.
 *  - The child copies with libfvm's own core (fvm_prepare_modify, fvm_prepare_create)
 *    as root in that namespace (the host read-only, the store covered but the VM's
 *    data area): the host's owner, mode, times and xattrs are kept, the origin
 *    recorded, the generation bumped; nothing else is changed, and no permission is
 *    checked (a copy-up changes nothing a process of the VM sees, whoever asks).
 *  - The socket is unlinked when the supervisor ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "fvm/cubroker.h"
#include "fvm/env.h"
#include "fvm/policy.h"
#include "fvm/vm.h"
#include "run.h"

/* The mount namespace's inode of the calling process, 0 when unknown. */
static ino_t mnt_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/mnt", &st) == 0 ? st.st_ino : 0;
}

/* In the broker's child: enters namespace NS and serves REQ. 0 or -errno. */
static int serve_child(const struct fvm_cu_request *req, int ns)
{
	struct fvm_vm vm;
	struct fvm_res res;
	const char *root = getenv(FVM_ENV_ROOT), *pol = getenv(FVM_ENV_POLICY);
	const char *name = getenv(FVM_ENV_VM), *home = getenv(FVM_ENV_HOME);
	ino_t own = mnt_ns();
	int ret;

	if (req->vpath[0] != '/' || !root || root[0] != '/') {
		return -EINVAL;
	}
	if (setns(ns, CLONE_NEWNS) < 0) {
		return -errno;
	}
	if (own == 0 || mnt_ns() == own) {
		return -EPERM; /* not the root fence's namespace */
	}
	if ((ret = fvm_vm_setup(&vm, name ? name : "", root, home && *home ? home : NULL)) < 0) {
		return ret;
	}
	vm.is_root = true;
	if (pol && *pol) {
		vm.policy = fvm_policy_map(pol);
	}
	fvm_gen_attach(&vm); /* without it the VM's caches would miss this change */
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

/* In the broker's child: reads one request on CONN, answers it, exits. */
static void __attribute__((noreturn)) child_main(int conn, int ns)
{
	struct fvm_cu_request req;
	struct fvm_cu_reply rep = {.err = EINVAL};
	struct timeval tv = {.tv_sec = 10};
	ssize_t n;

	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do {
		n = recv(conn, &req, sizeof(req), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		_exit(0);
	}
	if ((size_t)n == sizeof(req) && req.version == FVM_CU_VERSION &&
	    memchr(req.vpath, '\0', sizeof(req.vpath)) &&
	    (req.kind == FVM_CU_OBJECT || req.kind == FVM_CU_PARENT)) {
		int r = ns < 0 ? -EAGAIN : serve_child(&req, ns);
		rep.err = r < 0 ? -r : 0;
	}
	send(conn, &rep, sizeof(rep), MSG_NOSIGNAL | MSG_DONTWAIT);
	_exit(0);
}

int cu_broker_serve(struct cu_broker *b)
{
	if (b->ns < 0 && b->handoff >= 0) {
		cu_broker_take_ns(b); /* -EAGAIN: none yet, the child answers EAGAIN */
	}
	for (;;) {
		int conn = accept4(b->listen, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
					       errno == ECONNABORTED
				       ? 1
				       : -1;
		}
		pid_t child = fork();
		if (child == 0) {
			close(b->listen);
			child_main(conn, b->ns);
		}
		close(conn); /* no child: the requester reads end of file, EIO */
	}
}

int cu_broker_take_ns(struct cu_broker *b)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;

	do {
		n = recvmsg(b->handoff, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		return -EAGAIN; /* the command's process has not sent it yet: asked again later */
	}
	struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)) && b->ns < 0) {
		memcpy(&b->ns, CMSG_DATA(c), sizeof(int));
	}
	close(b->handoff); /* one message, then never again */
	b->handoff = -1;
	return b->ns >= 0 ? 0 : -EIO;
}

int cu_broker_send_ns(int child_end)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC), r = 0;

	if (ns < 0) {
		r = -errno;
	} else {
		memset(&u, 0, sizeof(u));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &ns, sizeof(int));
		r = sendmsg(child_end, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
		close(ns);
	}
	close(child_end);
	return r;
}

/* Closes what cu_broker_prepare and cu_broker_listen made of B: no broker. Returns ERR. */
static int broker_undo(struct cu_broker *b, int err)
{
	int *fds[] = {&b->listen, &b->handoff, &b->child_end};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	}
	return err;
}

int cu_broker_prepare(const char *vmdir, struct cu_broker *b)
{
	int sv[2], n;

	b->listen = b->handoff = b->child_end = b->ns = -1;
	n = snprintf(b->path, sizeof(b->path), "%s/cu.%d", vmdir, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(b->path)) {
		return -ENAMETOOLONG;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	b->handoff = sv[0];
	b->child_end = sv[1];
	return 0;
}

int cu_broker_listen(struct cu_broker *b)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n;
	mode_t old;

	memcpy(sa.sun_path, b->path, sizeof(sa.sun_path));
	b->listen = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->listen < 0) {
		return broker_undo(b, -errno);
	}
	unlink(sa.sun_path); /* a run's pid before ours: its supervisor is gone */
	old = umask(0111);   /* 0666: every uid of the VM connects; made so, never chmod'ed */
	n = bind(b->listen, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (n < 0) {
		return broker_undo(b, -errno);
	}
	if (listen(b->listen, 64) < 0) {
		n = -errno;
		unlink(sa.sun_path);
		return broker_undo(b, n);
	}
	return 0;
}
