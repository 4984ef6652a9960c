/*
 * cubroker.c — libfvm's side of a root run's copy-up broker (fvm/cubroker.h): a process
 * that changed uid asks the run's supervisor for its copy-ups.
 *
 * Rules:
 *  - The socket is the one FVM_ENV_CU named when the process started, still checked to
 *    be it on each use (type, and the pid SO_PEERCRED reports: a program may have
 *    closed the fd and reused its number); without it, the copy-up fails with EACCES,
 *    as a process of that uid would fail to write root's upper/ directories.
 *  - Each request carries its own reply socketpair: no other process reads the answer.
 */
#include <limits.h>
#include <string.h>
#include <sys/socket.h>

#include "fvm/cubroker.h"
#include "fvm/env.h"
#include "libfvm.h"

static int cu_fd = -1;
static pid_t cu_pid;

/* The broker's socket when FVM_ENV_CU named one and the fd is still it, else -1. */
static int cu_sock(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int type;
	socklen_t tlen = sizeof(type);

	if (cu_fd < 0 ||
	    sys_getsockopt(cu_fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET ||
	    sys_getsockopt(cu_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != cu_pid) {
		return -1;
	}
	return cu_fd;
}

/* struct fvm_vm's copyup_broker: asks for KIND of VPATH; 0 or -errno. */
static int cu_request(unsigned kind, const char *vpath)
{
	struct fvm_cu_request req; /* PATH_MAX on the stack, as every resolution's */
	struct fvm_cu_reply rep;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	int sock = cu_sock(), sv[2], ret;
	ssize_t n;
	size_t vl = strlen(vpath);

	if (sock < 0) {
		return -EACCES;
	}
	if (vl >= sizeof(req.vpath)) {
		return -ENAMETOOLONG;
	}
	req.version = FVM_CU_VERSION;
	req.kind = kind;
	memset(req.vpath, 0, sizeof(req.vpath));
	memcpy(req.vpath, vpath, vl);
	ret = sys_socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
	if (ret == 0) {
		memset(&u, 0, sizeof(u));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
		iov.iov_base = &req;
		iov.iov_len = sizeof(req);
		n = sys_sendmsg(sock, &msg, MSG_NOSIGNAL);
		sys_close(sv[1]);
		ret = n == (ssize_t)sizeof(req) ? 0 : n < 0 ? (int)n : -EIO;
		if (ret < 0) {
			sys_close(sv[0]);
		}
	}
	if (ret < 0) {
		return ret;
	}
	iov.iov_base = &rep;
	iov.iov_len = sizeof(rep);
	msg.msg_control = NULL;
	msg.msg_controllen = 0;
	do {
		n = sys_recvmsg(sv[0], &msg, 0);
	} while (n == -EINTR);
	sys_close(sv[0]);
	if (n != (ssize_t)sizeof(rep)) {
		return n < 0 ? (int)n : -EIO; /* the broker's child died */
	}
	return rep.err > 0 ? -rep.err : 0;
}

void fvm_cu_broker_attach(struct fvm_vm *vm)
{
	const char *v = getenv(FVM_ENV_CU);
	char *end;

	if (v && *v) {
		long fd = strtol(v, &end, 10);
		if (*end == ':' && fd >= 0 && fd < INT_MAX) {
			cu_pid = (pid_t)strtol(end + 1, &end, 10);
			if (*end == '\0') {
				cu_fd = (int)fd;
				vm->copyup_broker = cu_request;
			}
		}
	}
}
