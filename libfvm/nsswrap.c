/*
 * nsswrap.c — libc functions that open files inside libc: each runs in a window
 * (sud.c), so the files it reads are the VM's.
 *
 * glibc's name service (passwd, group, shadow, hosts, services, protocols, networks,
 * netgroups, aliases, rpc, ethers: the files backend and nsswitch.conf), its locales
 * (setlocale, newlocale: the locale archive and LC_* files), its character sets
 * (iconv_open: gconv-modules and the modules it dlopens), message catalogs (catopen)
 * gettext's catalogs and the time zone (tzset, localtime...) open and read their files
 * with internal calls libfvm never sees. Rules:
 *  - Each wrapper is the real function inside a window, nothing else: arguments pass
 *    through untouched (a bad pointer faults or fails in libc as natively), errno and
 *    the result are libc's.
 *  - No window where it cannot change the answer: when the directories the function
 *    reads are ones the VM never changed (the lookup cache knows; unchanged()), or the
 *    locale is the built-in C one. A VM that never touched /etc pays nothing for its
 *    lookups, and a program's start in C.UTF-8 nothing for its setlocale.
 *  - Only entry points that may open a file are wrapped (measured with strace on glibc
 *    2.36): the end* functions only close, the *_r forms of the get*ent family read an
 *    already open stream but open it on first use, so they are wrapped as well.
 *  - Outside a VM, and inside a window already, the wrapper is a plain call.
 */
#include <aliases.h>
#include <grp.h>
#include <iconv.h>
#include <langinfo.h>
#include <libintl.h>
#include <locale.h>
#include <netinet/ether.h>
#include <nl_types.h>
#include <pwd.h>
#include <time.h>

#include "libfvm.h"
#include "sud.h"

/* libintl.h makes these macros when optimizing: the functions are what is defined here. */
#undef gettext
#undef dgettext
#undef dcgettext
#undef ngettext
#undef dngettext
#undef dcngettext

#if defined(__x86_64__)
#define GCONV_DIR "/usr/lib/x86_64-linux-gnu/gconv"
#elif defined(__aarch64__)
#define GCONV_DIR "/usr/lib/aarch64-linux-gnu/gconv"
#else
#define GCONV_DIR "/usr/lib/gconv"
#endif
#define ZONEINFO "/usr/share/zoneinfo"
#define LOCALEDIR "/usr/share/locale"

/*
 * True when the VM changed nothing at or beneath directory VDIR: then glibc, reading
 * the host's files there, reads what the VM has, and needs no window. Asked of the
 * lookup cache; resolved once (a few system calls) when the cache does not know yet.
 * A directory with no part in upper/ can have nothing changed beneath it.
 */
static bool unchanged(const char *vdir)
{
	size_t n = strlen(vdir);
	char vp[PATH_MAX];
	struct fvm_res res;

	if (fvm_dir_host_only(&fvm_g, vdir, n)) {
		return true;
	}
	memcpy(vp, vdir, n + 1);
	if (fvm_resolve_vpath(vp, n, 0, &res) < 0 || res.where != FVM_HOST) {
		return false;
	}
	return fvm_dir_host_only(&fvm_g, vdir, n);
}

/*
 * The name service reads /etc (nsswitch.conf and the files backend's databases) and
 * dlopens its modules from the library directory (a module installed in the VM comes
 * with an nsswitch.conf naming it). A VM that never changed /etc needs no window.
 */
bool fvm_nss_may_differ(void)
{
	return fvm_on() && !unchanged("/etc");
}

/* RET NAME PARAMS: calls REAL(NAME) ARGS, inside a window when NEED() says so. */
#define WINDOW_IF(need, ret, name, params, args)           \
	ret name params                                     \
	{                                                   \
		__typeof__(name) *real = REAL(name);        \
		struct fvm_window w;                        \
		if (!need()) {                              \
			return real args;                   \
		}                                           \
		fvm_window_open(&w);                        \
		ret r = real args;                          \
		fvm_window_close(&w);                       \
		return r;                                   \
	}

#define WINDOW_VOID_IF(need, name, params, args)           \
	void name params                                    \
	{                                                   \
		__typeof__(name) *real = REAL(name);        \
		struct fvm_window w;                        \
		if (!need()) {                              \
			real args;                          \
			return;                             \
		}                                           \
		fvm_window_open(&w);                        \
		real args;                                  \
		fvm_window_close(&w);                       \
	}

#define WINDOW(ret, name, params, args) WINDOW_IF(fvm_nss_may_differ, ret, name, params, args)
#define WINDOW_VOID(name, params, args) WINDOW_VOID_IF(fvm_nss_may_differ, name, params, args)

/* passwd */
WINDOW(struct passwd *, getpwnam, (const char *name), (name))
WINDOW(struct passwd *, getpwuid, (uid_t uid), (uid))
WINDOW(int, getpwnam_r, (const char *name, struct passwd *pw, char *buf, size_t len,
			struct passwd **res), (name, pw, buf, len, res))
WINDOW(int, getpwuid_r, (uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res),
       (uid, pw, buf, len, res))
WINDOW(struct passwd *, getpwent, (void), ())
WINDOW(int, getpwent_r, (struct passwd *pw, char *buf, size_t len, struct passwd **res),
       (pw, buf, len, res))
WINDOW_VOID(setpwent, (void), ())

/* group */
WINDOW(struct group *, getgrnam, (const char *name), (name))
WINDOW(struct group *, getgrgid, (gid_t gid), (gid))
WINDOW(int, getgrnam_r, (const char *name, struct group *gr, char *buf, size_t len,
			struct group **res), (name, gr, buf, len, res))
WINDOW(int, getgrgid_r, (gid_t gid, struct group *gr, char *buf, size_t len, struct group **res),
       (gid, gr, buf, len, res))
WINDOW(struct group *, getgrent, (void), ())
WINDOW(int, getgrent_r, (struct group *gr, char *buf, size_t len, struct group **res),
       (gr, buf, len, res))
WINDOW_VOID(setgrent, (void), ())
WINDOW(int, getgrouplist, (const char *user, gid_t group, gid_t *groups, int *ngroups),
       (user, group, groups, ngroups))
WINDOW(int, initgroups, (const char *user, gid_t group), (user, group))

/* shadow */
WINDOW(struct spwd *, getspnam, (const char *name), (name))
WINDOW(int, getspnam_r, (const char *name, struct spwd *sp, char *buf, size_t len,
			struct spwd **res), (name, sp, buf, len, res))
WINDOW(struct spwd *, getspent, (void), ())
WINDOW(int, getspent_r, (struct spwd *sp, char *buf, size_t len, struct spwd **res),
       (sp, buf, len, res))
WINDOW_VOID(setspent, (void), ())

/* hosts (getaddrinfo and gethostbyname* are in netdb.c: the network policy too) */
WINDOW(struct hostent *, gethostbyaddr, (const void *addr, socklen_t len, int type),
       (addr, len, type))
WINDOW(int, gethostbyaddr_r, (const void *addr, socklen_t len, int type, struct hostent *he,
			     char *buf, size_t buflen, struct hostent **res, int *herr),
       (addr, len, type, he, buf, buflen, res, herr))
WINDOW(struct hostent *, gethostent, (void), ())
WINDOW_VOID(sethostent, (int stay), (stay))
WINDOW(int, getnameinfo, (const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
			 char *serv, socklen_t servlen, int flags),
       (sa, salen, host, hostlen, serv, servlen, flags))

/* services, protocols, networks */
WINDOW(struct servent *, getservbyname, (const char *name, const char *proto), (name, proto))
WINDOW(struct servent *, getservbyport, (int port, const char *proto), (port, proto))
WINDOW(int, getservbyname_r, (const char *name, const char *proto, struct servent *se, char *buf,
			      size_t len, struct servent **res), (name, proto, se, buf, len, res))
WINDOW(int, getservbyport_r, (int port, const char *proto, struct servent *se, char *buf,
			      size_t len, struct servent **res), (port, proto, se, buf, len, res))
WINDOW(struct servent *, getservent, (void), ())
WINDOW_VOID(setservent, (int stay), (stay))
WINDOW(struct protoent *, getprotobyname, (const char *name), (name))
WINDOW(struct protoent *, getprotobynumber, (int proto), (proto))
WINDOW(struct protoent *, getprotoent, (void), ())
WINDOW_VOID(setprotoent, (int stay), (stay))
WINDOW(struct netent *, getnetbyname, (const char *name), (name))
WINDOW(struct netent *, getnetbyaddr, (uint32_t net, int type), (net, type))
WINDOW(struct netent *, getnetent, (void), ())
WINDOW_VOID(setnetent, (int stay), (stay))

/* netgroups, aliases, rpc, ethers */
WINDOW(int, setnetgrent, (const char *netgroup), (netgroup))
WINDOW(int, getnetgrent, (char **host, char **user, char **domain), (host, user, domain))
WINDOW(int, innetgr, (const char *netgroup, const char *host, const char *user, const char *domain),
       (netgroup, host, user, domain))
WINDOW(struct aliasent *, getaliasbyname, (const char *name), (name))
WINDOW(struct rpcent *, getrpcbyname, (const char *name), (name))
WINDOW(struct rpcent *, getrpcbynumber, (int number), (number))
WINDOW(int, ether_ntohost, (char *host, const struct ether_addr *addr), (host, addr))
WINDOW(int, ether_hostton, (const char *host, struct ether_addr *addr), (host, addr))

/* locales, character sets, message catalogs */
/*
 * setlocale runs at the start of most programs, usually in the C locale: "C", "POSIX",
 * a query (NULL), or "" when the environment names no other locale, open no file, and
 * the wrappers open no window for them.
 */
static bool builtin_name(const char *name)
{
	return !name[0] || strcmp(name, "C") == 0 || strcmp(name, "POSIX") == 0;
}

static bool builtin_locale(const char *locale)
{
	const char *all;

	if (!fvm_on() || !locale || fvm_bad_ptr(locale) || fvm_strlen_user(locale) < 0) {
		return true; /* a query, or a pointer libc faults on as natively */
	}
	if (locale[0]) {
		return builtin_name(locale);
	}
	all = fvm_getenv("LC_ALL");
	if (all && all[0]) {
		return builtin_name(all);
	}
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (eq && (strncmp(*e, "LC_", 3) == 0 || strncmp(*e, "LANG=", 5) == 0) &&
		    !builtin_name(eq + 1)) {
			return false;
		}
	}
	return true;
}

/* Locale data: the archive and LC_* files, locale.alias, gconv for the charset. */
static bool locale_may_differ(const char *locale)
{
	const char *path = fvm_getenv("LOCPATH");

	if (builtin_locale(locale)) {
		return false;
	}
	return (path && path[0]) || !unchanged("/usr/lib/locale") || !unchanged(LOCALEDIR) ||
	       !unchanged(GCONV_DIR);
}

char *setlocale(int category, const char *locale)
{
	__typeof__(setlocale) *real = REAL(setlocale);
	struct fvm_window w;

	if (!locale_may_differ(locale)) {
		return real(category, locale);
	}
	fvm_window_open(&w);
	char *r = real(category, locale);
	fvm_window_close(&w);
	return r;
}

locale_t newlocale(int mask, const char *locale, locale_t base)
{
	__typeof__(newlocale) *real = REAL(newlocale);
	struct fvm_window w;

	if (!locale_may_differ(locale)) {
		return real(mask, locale, base);
	}
	fvm_window_open(&w);
	locale_t r = real(mask, locale, base);
	fvm_window_close(&w);
	return r;
}
/* iconv_open reads gconv-modules (GCONV_PATH's, or the built-in directory's) and dlopens. */
static bool gconv_may_differ(void)
{
	const char *path = fvm_getenv("GCONV_PATH");

	return fvm_on() && ((path && path[0]) || !unchanged(GCONV_DIR));
}

static bool in_vm(void)
{
	return fvm_on();
}

WINDOW_IF(gconv_may_differ, iconv_t, iconv_open, (const char *to, const char *from), (to, from))
/* catopen: NLSPATH's templates name any directory. */
WINDOW_IF(in_vm, nl_catd, catopen, (const char *name, int flag), (name, flag))
/*
 * gettext runs on every message a program prints: in the C locale (most scripts, every
 * test) glibc answers MSGID without opening anything, and so does this wrapper, with
 * no window and no system call; nor is one needed while every catalog directory
 * (LOCALEDIR, and the others bindtextdomain named, which make a window every time) is
 * the host's.
 */
/* True when a domain was bound to a directory other than LOCALEDIR (bindtextdomain). */
static bool textdomain_elsewhere;

char *bindtextdomain(const char *domain, const char *dir)
{
	if (dir && !fvm_bad_ptr(dir) && fvm_strlen_user(dir) >= 0 && strcmp(dir, LOCALEDIR) != 0) {
		textdomain_elsewhere = true;
	}
	return REAL(bindtextdomain)(domain, dir);
}

static bool c_messages(int category)
{
	locale_t loc = uselocale((locale_t)0);
	const char *name = loc == LC_GLOBAL_LOCALE ? nl_langinfo(_NL_LOCALE_NAME(category))
						   : nl_langinfo_l(_NL_LOCALE_NAME(category), loc);

	return name && (strcmp(name, "C") == 0 || strcmp(name, "POSIX") == 0);
}

#define GETTEXT_WINDOW(name, category, params, args)       \
	char *name params                                   \
	{                                                   \
		__typeof__(name) *real = REAL(name);        \
		struct fvm_window w;                        \
		if (!fvm_on() || c_messages(category) ||    \
		    (!textdomain_elsewhere && unchanged(LOCALEDIR))) { \
			return real args;                   \
		}                                           \
		fvm_window_open(&w);                        \
		char *r = real args;                        \
		fvm_window_close(&w);                       \
		return r;                                   \
	}

GETTEXT_WINDOW(gettext, LC_MESSAGES, (const char *msgid), (msgid))
GETTEXT_WINDOW(dgettext, LC_MESSAGES, (const char *domain, const char *msgid), (domain, msgid))
GETTEXT_WINDOW(dcgettext, category, (const char *domain, const char *msgid, int category),
	       (domain, msgid, category))
GETTEXT_WINDOW(ngettext, LC_MESSAGES, (const char *msgid, const char *plural, unsigned long n),
	       (msgid, plural, n))
GETTEXT_WINDOW(dngettext, LC_MESSAGES, (const char *domain, const char *msgid, const char *plural,
					unsigned long n), (domain, msgid, plural, n))
GETTEXT_WINDOW(dcngettext, category, (const char *domain, const char *msgid, const char *plural,
				      unsigned long n, int category), (domain, msgid, plural, n, category))

/*
 * The local time zone: glibc reads /etc/localtime (or $TZ's file beneath
 * /usr/share/zoneinfo) in tzset, and localtime, mktime and ctime call it again on every
 * call (a stat, and a new read when the file changed); localtime_r and ctime_r read it
 * once per process. A window is opened only where the VM changed /etc or the zone
 * directory (or libfvm does not know yet) or TZ names a file, and for the _r forms
 * only until one read was made in a window.
 */
static bool tz_read_in_window;

/*
 * (GEN << 1) | 1: at generation GEN, neither /etc nor the zone directory had a part in
 * upper/. Only a change that bumps the generation can give them one (what the lookup
 * cache relies on), so while the generation stays, localtime (ls -l: once a file)
 * asks the cache no more.
 */
static uint64_t tz_dirs_host_only;

static bool tz_may_differ(bool once)
{
	const char *tz;
	uint64_t gen;

	if (!fvm_on() || (once && tz_read_in_window)) {
		return false;
	}
	tz = fvm_getenv("TZ");
	if ((tz && strchr(tz, '/') && tz[0] != '/' && tz[0] != ':' && fvm_getenv("TZDIR")) ||
	    (tz && (tz[0] == '/' || (tz[0] == ':' && tz[1] == '/')))) {
		return true; /* a file named by TZ (or beneath TZDIR): wherever it is */
	}
	gen = fvm_gen_now(&fvm_g); /* before the lookups: a change meanwhile is seen next time */
	if (gen && __atomic_load_n(&tz_dirs_host_only, __ATOMIC_RELAXED) == ((gen << 1) | 1)) {
		return false;
	}
	if (!unchanged("/etc") || !unchanged(ZONEINFO)) {
		return true;
	}
	if (gen) {
		__atomic_store_n(&tz_dirs_host_only, (gen << 1) | 1, __ATOMIC_RELAXED);
	}
	return false;
}

#define TZ_WINDOW(ret, name, once, params, args)           \
	ret name params                                     \
	{                                                   \
		__typeof__(name) *real = REAL(name);        \
		struct fvm_window w;                        \
		if (!tz_may_differ(once)) {                 \
			return real args;                   \
		}                                           \
		fvm_window_open(&w);                        \
		ret r = real args;                          \
		tz_read_in_window |= w.opened;              \
		fvm_window_close(&w);                       \
		return r;                                   \
	}

void tzset(void)
{
	__typeof__(tzset) *real = REAL(tzset);
	struct fvm_window w;

	if (!tz_may_differ(false)) {
		real();
		return;
	}
	fvm_window_open(&w);
	real();
	tz_read_in_window |= w.opened;
	fvm_window_close(&w);
}

TZ_WINDOW(struct tm *, localtime, false, (const time_t *t), (t))
TZ_WINDOW(struct tm *, localtime_r, true, (const time_t *t, struct tm *tm), (t, tm))
TZ_WINDOW(time_t, mktime, false, (struct tm *tm), (tm))
TZ_WINDOW(time_t, timelocal, false, (struct tm *tm), (tm))
TZ_WINDOW(char *, ctime, false, (const time_t *t), (t))
TZ_WINDOW(char *, ctime_r, true, (const time_t *t, char *buf), (t, buf))
