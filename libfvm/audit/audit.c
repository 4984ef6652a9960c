/*
 * audit.c — libfvm-audit.so, the dynamic loader's view of the VM (an rtld-audit module,
 * LD_AUDIT; docs/DESIGN.md "The loader").
 *
 * The dynamic loader opens a program's libraries itself, before libfvm runs and never
 * through its wrappers: a library built or installed in the VM, found through
 * LD_LIBRARY_PATH, an rpath or the VM's own /etc/ld.so.cache, is not where the loader
 * looks. The loader hands every name it is about to open to la_objsearch(); this module
 * maps it into the VM with libfvm's own core (fvm_resolve: upper entries, whiteouts,
 * opaque directories, the policy's classes), and answers a bare name from the VM's own
 * /etc/ld.so.cache when the VM has one.
 *
 * Rules:
 *  - Links no libc (mini.c): the loader maps the module and nothing else, so a program
 *    started with it pays one small mapping and a resolve per name tried.
 *  - Inactive (la_version returns 0: the loader drops the module) without FVM_ROOT.
 *  - A name the VM does not have (deleted, hidden, a missing directory) becomes a path
 *    that fails with ENOENT, never NULL: the loader continues its search only on
 *    ENOENT, EACCES or ENOTDIR, and a NULL answer would leave its errno as it was.
 *  - A host name the VM left alone is returned unchanged, so that the loader's names
 *    (l_name, ldd, dl_iterate_phdr) stay what they are natively; the loader keeps the
 *    name it searched for as the object's name in any case, for searched names.
 *  - No state but the VM, the policy and the parsed cache; the loader calls it under
 *    its own lock.
 */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <sys/mman.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/sys.h"
#include "fvm/vm.h"
#include "../core/lookup.h"

#define EXPORT __attribute__((visibility("default")))

static struct fvm_vm vm;
static bool active;
static char out[FVM_RPATH_MAX];     /* the answer: the loader copies it at once */
static char absent_path[PATH_MAX];  /* upper/.wh.fvm-absent: never exists */
static char libfvm_path[PATH_MAX];  /* libfvm.so beside this module: loaded as it is */

/* The VM's /etc/ld.so.cache: unknown, the host's (none of its own), its own, deleted. */
static enum { CACHE_UNKNOWN, CACHE_HOST, CACHE_VM, CACHE_NONE } cache_state;
static const char *cache_map;
static size_t cache_len;

/* The bare name of the search in progress, whose cache step is still to come. */
static char pending[256];

/* The value of NAME in ENVP, or NULL. */
static const char *env_get(char **envp, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; envp && envp[i]; i++) {
		if (memcmp(envp[i], name, nl) == 0 && envp[i][nl] == '=') {
			return envp[i] + nl + 1;
		}
	}
	return NULL;
}

/*
 * The loader runs the module's initialisers with (argc, argv, envp), as every
 * object's, before la_version: the VM is set up here from the environment contract
 * (fvm/env.h), as libfvm's constructor does.
 */
__attribute__((constructor)) static void audit_init(int argc, char **argv, char **envp)
{
	const char *root = env_get(envp, "FVM_ROOT"), *home = env_get(envp, "FVM_HOME");
	const char *name = env_get(envp, "FVM_VM"), *pol = env_get(envp, "FVM_POLICY");
	char tmp[PATH_MAX];

	(void)argc;
	(void)argv;
	if (!root || root[0] != '/' || fvm_vm_setup(&vm, name ? name : "", root,
						   home && *home ? home : NULL) < 0) {
		return;
	}
	if (!home || !*home) {
		/* The store is the VM root's grandparent: $FVM_HOME/vms/NAME. */
		int n = snprintf(tmp, sizeof(tmp), "%s/../..", vm.root);
		if (n > 0 && (size_t)n < sizeof(tmp)) {
			vm.home_len = (size_t)fvm_path_normalize(tmp, vm.home, sizeof(vm.home), true);
		}
	}
	if (pol && *pol) {
		vm.policy = fvm_policy_map(pol);
	}
	snprintf(absent_path, sizeof(absent_path), "%s/" FVM_WH_PREFIX "fvm-absent", vm.upper);
	/* libfvm's exec puts this module first in LD_AUDIT, beside libfvm.so. */
	const char *audit = env_get(envp, "LD_AUDIT");
	const char *end = audit ? strchr(audit, ':') : NULL, *slash = NULL;
	for (const char *p = audit; p && *p && p != end; p++) {
		slash = *p == '/' ? p : slash;
	}
	if (slash) {
		snprintf(libfvm_path, sizeof(libfvm_path), "%.*s/libfvm.so", (int)(slash - audit), audit);
	}
	active = true;
}

EXPORT unsigned la_version(unsigned version)
{
	(void)version;
	return active ? LAV_CURRENT : 0;
}

/*
 * Maps loader name NAME (absolute, or relative to the cwd) into the VM: the name
 * itself when the host's object is the VM's, the real path of the VM's own object,
 * or absent_path when the VM has no such object.
 */
static const char *map_name(const char *name)
{
	static struct fvm_res res;
	char vpath[PATH_MAX], cwd[PATH_MAX];
	int n;

	if (name[0] == '/') {
		/* A real path into upper/ ($ORIGIN of a program the VM made) is the VM's name. */
		n = fvm_narrow(&vm, name, vpath, sizeof(vpath));
	} else {
		n = sys_getcwd(cwd, sizeof(cwd));
		if (n < 0 || fvm_narrow(&vm, cwd, cwd, sizeof(cwd)) < 0) {
			return name;
		}
		n = snprintf(vpath, sizeof(vpath), "%s/%s", cwd, name);
		if (n < 0 || (size_t)n >= sizeof(vpath)) {
			return name;
		}
	}
	if (n < 0) {
		return name;
	}
	n = fvm_resolve(&vm, vpath, 0, &res);
	if (n == -ENOENT || n == -ENOTDIR || (n == 0 && res.where == FVM_ABSENT)) {
		return absent_path;
	}
	if (n < 0) {
		return name; /* the kernel gives its own error (EACCES, ELOOP...) */
	}
	if (res.where == FVM_HOST) {
		struct stat st;
		if (strcmp(res.rpath, name) == 0 ||
		    (sys_fstatat(AT_FDCWD, name, &st, 0) == 0 && st.st_dev == res.st.st_dev &&
		     st.st_ino == res.st.st_ino)) {
			return name;
		}
	}
	if (strlen(res.rpath) >= sizeof(out)) {
		return name;
	}
	memcpy(out, res.rpath, strlen(res.rpath) + 1);
	return out;
}

/*
 * glibc's ld.so.cache, new format ("glibc-ld.so.cache1.1"), possibly behind the old
 * format's table: a header, then fixed entries whose key (a soname) and value (a path)
 * are offsets from the start of the file.
 */
#define CACHE_OLD_MAGIC "ld.so-1.7.0"
#define CACHE_NEW_MAGIC "glibc-ld.so.cache1.1"
struct cache_new_hdr {
	char magic[sizeof(CACHE_NEW_MAGIC) - 1];
	uint32_t nlibs;
	uint32_t len_strings;
	uint8_t flags;
	uint8_t pad[3];
	uint32_t ext_offset;
	uint32_t unused[3];
};
struct cache_new_entry {
	int32_t flags;
	uint32_t key, value;
	uint32_t osversion;
	uint64_t hwcap;
};
#define CACHE_FLAG_ELF_LIBC6 0x0003
#if defined(__x86_64__)
#define CACHE_ARCH 0x0300 /* FLAG_X8664_LIB64 */
#elif defined(__aarch64__)
#define CACHE_ARCH 0x0a00 /* FLAG_AARCH64_LIB64 */
#else
#define CACHE_ARCH 0
#endif

/* Settles cache_state: whether the VM has an /etc/ld.so.cache of its own, mapped. */
static void cache_load(void)
{
	static struct fvm_res res;
	struct stat st;

	cache_state = CACHE_HOST;
	if (fvm_resolve(&vm, "/etc/ld.so.cache", 0, &res) < 0 || res.where == FVM_ABSENT) {
		cache_state = CACHE_NONE;
		return;
	}
	if (res.where != FVM_UPPER && !(res.where == FVM_HOST && res.layer >= 0)) {
		return; /* the host's own cache: the loader reads it itself */
	}
	int fd = sys_openat(AT_FDCWD, res.rpath, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		cache_state = CACHE_NONE;
		return;
	}
	void *map = sys_fstat(fd, &st) == 0 && st.st_size > 0
			    ? sys_mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
			    : (void *)-EINVAL;
	sys_close(fd);
	cache_state = CACHE_VM;
	if ((unsigned long)map > -4096UL) {
		return; /* an unreadable cache: as the loader, no entry */
	}
	cache_map = map;
	cache_len = (size_t)st.st_size;
}

/* The path the VM's cache gives soname NAME, or NULL. */
static const char *cache_lookup(const char *name)
{
	size_t off = 0;
	const struct cache_new_hdr *h;

	if (!cache_map) {
		return NULL;
	}
	if (cache_len >= 16 && memcmp(cache_map, CACHE_OLD_MAGIC, sizeof(CACHE_OLD_MAGIC) - 1) == 0) {
		uint32_t nold;
		memcpy(&nold, cache_map + 12, sizeof(nold));
		off = (16 + (size_t)nold * 12 + 7) & ~(size_t)7;
	}
	if (off + sizeof(*h) > cache_len ||
	    memcmp(cache_map + off, CACHE_NEW_MAGIC, sizeof(CACHE_NEW_MAGIC) - 1) != 0) {
		return NULL;
	}
	h = (const struct cache_new_hdr *)(cache_map + off);
	const struct cache_new_entry *e = (const struct cache_new_entry *)(h + 1);
	if (h->nlibs > (cache_len - off - sizeof(*h)) / sizeof(*e)) {
		return NULL;
	}
	for (uint32_t i = 0; i < h->nlibs; i++) {
		/* The plain entry; ones for a glibc-hwcaps subdirectory carry a hwcap. */
		if ((e[i].flags & 0xff) != CACHE_FLAG_ELF_LIBC6 ||
		    (e[i].flags & 0xff00) != CACHE_ARCH || e[i].hwcap != 0 ||
		    e[i].key >= cache_len || e[i].value >= cache_len) {
			continue;
		}
		const char *k = cache_map + e[i].key, *v = cache_map + e[i].value;
		if (!memchr(k, '\0', cache_len - e[i].key) || !memchr(v, '\0', cache_len - e[i].value)) {
			continue;
		}
		if (strcmp(k, name) == 0) {
			return v;
		}
	}
	return NULL;
}

/*
 * The loader's cache step for bare name WANT, done with the VM's cache when it has its
 * own: at CONFIG the host's cache knew the name (CAND is its answer), at the first
 * DEFAULT candidate CAND it did not. Returns the name the loader should open.
 */
static const char *cache_step(const char *want, const char *cand, bool config)
{
	if (cache_state == CACHE_UNKNOWN) {
		cache_load();
	}
	if (cache_state == CACHE_HOST) {
		return map_name(cand);
	}
	const char *v = cache_state == CACHE_VM ? cache_lookup(want) : NULL;
	if (v) {
		const char *m = map_name(v);
		if (m != absent_path || config) {
			return m;
		}
	} else if (config) {
		return absent_path; /* the VM's cache (or its lack of one) does not know it */
	}
	return map_name(cand);
}

EXPORT char *la_objsearch(const char *name, uintptr_t *cookie, unsigned flag)
{
	char want[sizeof(pending)];

	(void)cookie;
	if (!active) {
		return (char *)name;
	}
	switch (flag) {
	case LA_SER_ORIG:
		if (!strchr(name, '/')) {
			/* A search starts: its cache step (CONFIG or the first DEFAULT) is ours. */
			size_t nl = strlen(name);
			pending[0] = '\0';
			if (nl < sizeof(pending)) {
				memcpy(pending, name, nl + 1);
			}
			return (char *)name;
		}
		if (strcmp(name, libfvm_path) == 0) {
			return (char *)name; /* LD_PRELOAD's libfvm: fvm's own, never in the VM */
		}
		return (char *)map_name(name);
	case LA_SER_CONFIG:
	case LA_SER_DEFAULT:
		if (pending[0]) {
			memcpy(want, pending, sizeof(pending));
			pending[0] = '\0';
			return (char *)cache_step(want, name, flag == LA_SER_CONFIG);
		}
		return (char *)map_name(name);
	default:
		return (char *)map_name(name);
	}
}
/*
 * The core's lookup caches (core/lookup.h), empty here: the module maps no generation
 * counter (a start makes a handful of lookups), so nothing may be cached, and the
 * caches' thread-local storage and allocation would pull in libc.
 */
/*
 * The core's long-path retry (core/longpath.c, fvm/sys.h), off here: the loader's
 * library paths fit PATH_MAX, and the module stays without longpath.c's libc needs.
 */
int fvm_long_paths;

long fvm_long_call(long n, const long args[6], int d1, int d2)
{
	(void)n, (void)args, (void)d1, (void)d2;
	return -ENAMETOOLONG;
}

void fvm_dcache_put(const char *path, size_t len, const struct dcache_val *v, uint64_t gen)
{
	(void)path, (void)len, (void)v, (void)gen;
}

void fvm_dcache_put_dir(const char *path, size_t len, bool upper, uint32_t layers, bool host,
			uint64_t gen)
{
	(void)path, (void)len, (void)upper, (void)layers, (void)host, (void)gen;
}

bool fvm_dcache_get(const char *path, size_t len, uint64_t gen, struct dcache_val *v)
{
	(void)path, (void)len, (void)gen, (void)v;
	return false;
}

bool fvm_names_lack(const struct fvm_vm *vmp, const char *dir, size_t len, const char *name,
		    size_t nlen)
{
	(void)vmp, (void)dir, (void)len, (void)name, (void)nlen;
	return false;
}
