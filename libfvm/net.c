/*
 * net.c — the network policy of a VM (fvm/policy.h) as sockets and name lookups ask
 * it, and the VM's log where a refusal is told (socket.c, netdb.c).
 *
 * Invariants: the policy is checked on the address the program gave; a refusal is
 * EACCES and one line in ROOT/log, written with one O_APPEND write.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>

#include "fvm/layout.h"
#include "libfvm.h"

void fvm_vm_log(const char *fmt, ...)
{
	char file[PATH_MAX + 8];
	va_list ap;
	int fd;

	snprintf(file, sizeof(file), "%s/%s", fvm_g.root, FVM_LOG_FILE);
	fd = sys_openat(AT_FDCWD, file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		va_start(ap, fmt);
		fvm_vlog(fd, fmt, ap);
		va_end(ap);
		sys_close(fd);
	}
}

struct in_addr *fvm_inet4_of(const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		return &((struct sockaddr_in *)sa)->sin_addr;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct in6_addr *a6 = &((struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			return (struct in_addr *)&a6->s6_addr[12];
		}
	}
	return NULL;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(out, outlen, "%s:%u", a, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(out, outlen, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
}

bool fvm_net_allowed(const struct sockaddr *sa, socklen_t len)
{
	const struct fvm_policy *pol = fvm_g.policy;
	enum fvm_net net = pol ? (enum fvm_net)pol->net : FVM_NET_ALL;
	struct in_addr *a4 = fvm_inet4_of(sa, len);
	uint16_t port;

	if (net == FVM_NET_ALL) {
		return true;
	}
	if (a4) {
		port = ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
						      : ((const struct sockaddr_in6 *)sa)->sin6_port);
		if (net == FVM_NET_LOOPBACK && (ntohl(a4->s_addr) >> 24) == 127) {
			return true;
		}
		return fvm_policy_allowed(pol, AF_INET, a4, port);
	}
	const struct sockaddr_in6 *in6 = (const void *)sa;
	if (net == FVM_NET_LOOPBACK && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
		return true;
	}
	return fvm_policy_allowed(pol, AF_INET6, &in6->sin6_addr, ntohs(in6->sin6_port));
}

int fvm_net_check(const char *call, const struct sockaddr *sa, socklen_t len)
{
	char text[INET6_ADDRSTRLEN + 16];

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    len < (sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					    : sizeof(struct sockaddr_in6))) {
		return 0; /* the kernel answers EINVAL itself */
	}
	if (fvm_net_allowed(sa, len)) {
		return 0;
	}
	addr_text(sa, text, sizeof(text));
	fvm_vm_log("net: %s %s refused: network policy '%s'", call, text,
	       fvm_net_name((enum fvm_net)fvm_g.policy->net));
	return -EACCES;
}
