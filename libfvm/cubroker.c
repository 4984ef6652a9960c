/*
 * cubroker.c — libfvm's side of a root run's copy-up broker (fvm/cubroker.h): a process
 * that changed uid asks the run's supervisor for its copy-ups.
 *
 * Rules:
 *  - The broker is the socket FVM_ENV_CU names, in the VM's data area: reached by path
 *    on each request, so a program that closed every descriptor (a daemon, apt's
 *    methods) still reaches it. Without it a copy-up fails with EACCES, as a process of
 *    that uid would fail to write root's upper/ directories.
 *  - One connection per request: the answer comes on it, no other process reads it.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fvm/cubroker.h"
#include "fvm/env.h"
#include "libfvm.h"

static struct sockaddr_un cu_addr;

/* struct fvm_vm's copyup_broker: asks for KIND of VPATH; 0 or -errno. */
static int cu_request(unsigned kind, const char *vpath)
{
	struct fvm_cu_request req; /* PATH_MAX on the stack, as every resolution's */
	struct fvm_cu_reply rep;
	size_t vl = strlen(vpath);
	ssize_t n;
	int sock;

	if (vl >= sizeof(req.vpath)) {
		return -ENAMETOOLONG;
	}
	req.version = FVM_CU_VERSION;
	req.kind = kind;
	memset(req.vpath, 0, sizeof(req.vpath));
	memcpy(req.vpath, vpath, vl);
	sock = sys_socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		return sock;
	}
	n = sys_connect(sock, (const struct sockaddr *)&cu_addr, sizeof(cu_addr));
	if (n < 0) {
		sys_close(sock);
		return -EACCES; /* no broker (the run ended, or none): as without one */
	}
	n = sys_sendto(sock, &req, sizeof(req), MSG_NOSIGNAL);
	if (n == (ssize_t)sizeof(req)) {
		do {
			n = sys_recvfrom(sock, &rep, sizeof(rep), 0);
		} while (n == -EINTR);
	}
	sys_close(sock);
	if (n != (ssize_t)sizeof(rep)) {
		return n < 0 ? (int)n : -EIO; /* the broker's child died */
	}
	return rep.err > 0 ? -rep.err : 0;
}

void fvm_cu_broker_attach(struct fvm_vm *vm, const char *v)
{
	if (v && v[0] == '/' && strlen(v) < sizeof(cu_addr.sun_path)) {
		cu_addr.sun_family = AF_UNIX;
		strcpy(cu_addr.sun_path, v);
		vm->copyup_broker = cu_request;
	}
}
