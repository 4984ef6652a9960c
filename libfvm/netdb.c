/*
 * netdb.c — name lookups that must not reach a network the policy forbids:
 * getaddrinfo, gethostbyname, gethostbyname2 and their _r forms.
 *
 * libc's resolver sends its queries from inside libc, out of libfvm's sight: when the
 * policy allows none of the nameservers, a lookup of a name that is neither numeric
 * nor in /etc/hosts fails at once (EAI_AGAIN, TRY_AGAIN) instead of leaving the VM.
 * /etc/hosts and /etc/resolv.conf are the VM's, here and in libc (the real call runs in
 * a window, sud.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "libfvm.h"
#include "sud.h"

/* Calls REAL(NAME) ARGS, in a window (sud.c) once the VM changed /etc: libc reads the VM's
 * /etc/hosts and the rest. */
#define IN_WINDOW(type, name, args)                       \
	({                                                \
		__typeof__(name) *real_ = REAL(name);     \
		struct fvm_window w_ = {false};           \
		if (fvm_nss_may_differ()) {               \
			fvm_window_open(&w_);             \
		}                                         \
		type r_ = real_ args;                     \
		fvm_window_close(&w_);                    \
		r_;                                       \
	})

/* True when NAME is a numeric address: no lookup ever leaves the process. */
static bool numeric_host(const char *name)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 1];
	const char *pct = strchr(name, '%');

	if (inet_aton(name, &a4)) {
		return true;
	}
	if (pct && (size_t)(pct - name) < sizeof(buf)) {
		/* A scoped IPv6 address, fe80::1%eth0. */
		memcpy(buf, name, (size_t)(pct - name));
		buf[pct - name] = '\0';
		name = buf;
	}
	return inet_pton(AF_INET6, name, &a6) == 1;
}

/* Calls FN on each whitespace-separated field of each line of FILE (comments dropped). */
static bool each_field(const char *file, bool (*fn)(const char *field, size_t len, int idx,
						    void *arg), void *arg)
{
	char buf[16384];
	int fd = fvm_openat(AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0); /* the VM's file */
	ssize_t n;

	if (fd < 0) {
		return false;
	}
	n = sys_read(fd, buf, sizeof(buf) - 1);
	sys_close(fd);
	if (n <= 0) {
		return false;
	}
	buf[n] = '\0';
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next) {
			*next++ = '\0';
		}
		char *hash = strchr(line, '#');
		if (hash) {
			*hash = '\0';
		}
		int idx = 0;
		for (char *f = line; *f;) {
			size_t len;
			f += strspn(f, " \t\r");
			len = strcspn(f, " \t\r");
			if (len && fn(f, len, idx++, arg)) {
				return true;
			}
			f += len;
		}
	}
	return false;
}

/* /etc/hosts: a host name or alias (any field but the first) equal to ARG. */
static bool hosts_match(const char *field, size_t len, int idx, void *arg)
{
	const char *name = arg;
	size_t nl = strlen(name);

	if (nl && name[nl - 1] == '.') {
		nl--; /* "localhost." is "localhost" */
	}
	return idx > 0 && len == nl && strncasecmp(field, name, nl) == 0;
}

/* /etc/resolv.conf: a "nameserver ADDR" the policy allows (UDP or TCP port 53). */
struct ns_scan {
	bool after_keyword;
};

static bool ns_allowed(const char *field, size_t len, int idx, void *arg)
{
	struct ns_scan *s = arg;
	char addr[INET6_ADDRSTRLEN + 1];

	if (idx == 0) {
		s->after_keyword = len == 10 && strncmp(field, "nameserver", 10) == 0;
		return false;
	}
	if (idx != 1 || !s->after_keyword || len >= sizeof(addr)) {
		return false;
	}
	memcpy(addr, field, len);
	addr[len] = '\0';
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(53)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
	if (inet_pton(AF_INET, addr, &in.sin_addr) == 1) {
		return fvm_net_allowed((struct sockaddr *)&in, sizeof(in));
	}
	if (inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1) {
		return fvm_net_allowed((struct sockaddr *)&in6, sizeof(in6));
	}
	return false;
}

/*
 * Whether a lookup of NAME may go on to libc: always outside a VM or under net all,
 * for a numeric name, a name of /etc/hosts, or when a nameserver is allowed. A refusal
 * is logged once per call.
 */
static bool lookup_allowed(const char *name)
{
	struct ns_scan scan = {false};

	if (!fvm_on() || !name || !fvm_g.policy || fvm_g.policy->net == FVM_NET_ALL ||
	    numeric_host(name) || each_field("/etc/hosts", hosts_match, (void *)name)) {
		return true;
	}
	if (each_field("/etc/resolv.conf", ns_allowed, &scan)) {
		return true;
	}
	fvm_vm_log("net: lookup of %s refused: no nameserver allowed by network policy '%s'", name,
	       fvm_net_name((enum fvm_net)fvm_g.policy->net));
	return false;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	if (!lookup_allowed(node)) {
		return EAI_AGAIN;
	}
	return IN_WINDOW(int, getaddrinfo, (node, service, hints, res));
}

struct hostent *gethostbyname(const char *name)
{
	if (!lookup_allowed(name)) {
		h_errno = TRY_AGAIN;
		return NULL;
	}
	return IN_WINDOW(struct hostent *, gethostbyname, (name));
}

struct hostent *gethostbyname2(const char *name, int af)
{
	if (!lookup_allowed(name)) {
		h_errno = TRY_AGAIN;
		return NULL;
	}
	return IN_WINDOW(struct hostent *, gethostbyname2, (name, af));
}

int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
		    struct hostent **result, int *h_errnop)
{
	if (!lookup_allowed(name)) {
		*result = NULL;
		*h_errnop = TRY_AGAIN;
		return EAGAIN;
	}
	return IN_WINDOW(int, gethostbyname_r, (name, ret, buf, buflen, result, h_errnop));
}

int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
		     struct hostent **result, int *h_errnop)
{
	if (!lookup_allowed(name)) {
		*result = NULL;
		*h_errnop = TRY_AGAIN;
		return EAGAIN;
	}
	return IN_WINDOW(int, gethostbyname2_r, (name, af, ret, buf, buflen, result, h_errnop));
}
