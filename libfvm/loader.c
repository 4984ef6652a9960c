/*
 * loader.c — when a new program needs the loader module (libfvm-audit.so, LD_AUDIT),
 * and the environment that carries it (docs/DESIGN.md "The loader").
 *
 * The dynamic loader finds a program's libraries before libfvm runs; the module maps
 * its searches into the VM. It costs a little at every start, so an exec gets it only
 * when the VM's layer holds something the loader could look for:
 *  - the program itself lies in upper/ (a program the VM built: its rpath, $ORIGIN and
 *    its libraries are likely the VM's too), or its DT_RPATH or DT_RUNPATH names a
 *    directory the VM made, changed or deleted (read from the ELF file at the exec:
 *    one pread of its dynamic section, one more for an rpath);
 *  - an LD_LIBRARY_PATH or LD_PRELOAD entry is not the host's own (the VM made,
 *    changed or deleted it);
 *  - the VM has its own /etc/ld.so.cache (ldconfig ran in it) or deleted it;
 *  - the VM changed a directory the loader searches or its cache names by default:
 *    the multiarch directories, a file in /lib, /usr/lib or /usr/local/lib, /lib64,
 *    /usr/lib64 (not a subdirectory only, such as python's packages).
 *
 * Rules:
 *  - The program never sees the module in LD_AUDIT unless it set LD_AUDIT itself: the
 *    exec adds FVM_AUDIT (fvm/env.h) holding the program's own value ("" for none),
 *    and libfvm's constructor (fvm_loader_restore) puts LD_AUDIT back as it was. A
 *    user's own LD_AUDIT is kept, after the module. An LD_LIBRARY_PATH entry naming a
 *    directory only the VM has is given to the loader as its real path in upper/
 *    (libpath_real), the program's own value kept in FVM_AUDIT_LIBPATH and put back
 *    the same way.
 *  - No allocation (the exec path runs in vfork children): strings go into the
 *    caller's buffer.
 *  - Setuid and setgid programs run in secure mode, where the loader ignores LD_AUDIT
 *    paths, as it ignores LD_PRELOAD's: they see the host's libraries.
 */
#include <dirent.h>
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/dirent.h"
#include "fvm/env.h"
#include "fvm/layout.h"
#include "fvm/path.h"
#include "libfvm.h"

extern char **environ;

#define AUDIT_SO "libfvm-audit.so"

/* The machine the module is built for: a program of another cannot load it. */
#if defined(__x86_64__)
#define ELF_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define ELF_MACHINE EM_AARCH64
#else
#define ELF_MACHINE EM_NONE
#endif

/* True when RES is the VM's own object: in upper/ or in one of its read-only layers. */
static bool vm_own(const struct fvm_res *res)
{
	return res->where == FVM_UPPER || (res->where == FVM_HOST && res->layer >= 0);
}

/* The module beside libfvm.so; "" when it is not there. */
static const char *audit_path(void)
{
	static char path[PATH_MAX] FVM_LARGE_BSS;
	static int state; /* 0 unknown, 1 found, -1 absent */

	if (state == 0) {
		state = fvm_lib_sibling(AUDIT_SO, path, sizeof(path)) ? 1 : -1;
	}
	return state > 0 ? path : "";
}

/* What the loader reads of an environment, found in one pass (scan_env). */
struct ld_env {
	const char *audit, *mark, *libpath, *preload; /* values, or NULL */
	const char *libmark;                          /* FVM_AUDIT_LIBPATH's value, or NULL */
	size_t ia, im, il, ilm;                       /* indexes of LD_AUDIT, FVM_AUDIT,
							 LD_LIBRARY_PATH, FVM_AUDIT_LIBPATH */
};

/* The value of ENTRY when it is NAME=value (NL: strlen(NAME)), else NULL. */
static const char *env_is(const char *entry, const char *name, size_t nl)
{
	return strncmp(entry, name, nl) == 0 && entry[nl] == '=' ? entry + nl + 1 : NULL;
}

/* Fills *E from the NULL-terminated ENV: an exec's cost is one look at each entry. */
static void scan_env(char **env, struct ld_env *e)
{
	const char *v;

	e->audit = e->mark = e->libpath = e->preload = e->libmark = NULL;
	e->ia = e->im = e->il = e->ilm = 0;
	for (size_t i = 0; env[i]; i++) {
		const char *s = env[i];
		if (s[0] == 'L' && s[1] == 'D' && s[2] == '_') {
			if ((v = env_is(s, "LD_AUDIT", 8)) != NULL) {
				e->audit = v;
				e->ia = i;
			} else if ((v = env_is(s, "LD_LIBRARY_PATH", 15)) != NULL) {
				e->libpath = v;
				e->il = i;
			} else if ((v = env_is(s, "LD_PRELOAD", 10)) != NULL) {
				e->preload = v;
			}
		} else if (s[0] == 'F' && (v = env_is(s, FVM_ENV_AUDIT, sizeof(FVM_ENV_AUDIT) - 1)) != NULL) {
			e->mark = v;
			e->im = i;
		} else if (s[0] == 'F' &&
			   (v = env_is(s, FVM_ENV_AUDIT_LIBPATH, sizeof(FVM_ENV_AUDIT_LIBPATH) - 1)) != NULL) {
			e->libmark = v;
			e->ilm = i;
		}
	}
}

/*
 * True when an entry of LIST (separated by any of SEPS) is not the host's own: the VM
 * made, changed or deleted it. PATHS_ONLY: bare names are searched by the loader, not
 * named (LD_PRELOAD), and left to the other checks.
 */
static bool list_in_vm(const char *list, const char *seps, bool paths_only)
{
	char name[PATH_MAX];
	struct fvm_res res;
	const char *lib = fvm_lib_path();

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, seps);
		if (len && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			if ((!paths_only || strchr(name, '/')) && strcmp(name, lib) != 0 &&
			    !strchr(name, '$') && fvm_resolve_at(AT_FDCWD, name, 0, &res) == 0 &&
			    (vm_own(&res) || res.whiteout)) {
				return true;
			}
		}
		p += len;
		p += strspn(p, seps);
	}
	return false;
}

/*
 * Layer I's real path of VPATH into OUT (I == -1: upper/, else read-only layer I).
 */
static int layer_path(int i, const char *vpath, char *out, size_t len)
{
	return i < 0 ? fvm_upper_path(&fvm_g, vpath, out, len) : fvm_layer_path(&fvm_g, (unsigned)i, vpath, out, len);
}

/*
 * True when upper/VPATH or a read-only layer's VPATH exists: the VM made, changed or
 * replaced VPATH or beneath it. The lookup cache (inherited from the parent, which
 * resolved the program) often knows the directory is the host's alone: then no system
 * call is made.
 */
static bool in_upper(const char *vpath)
{
	char up[FVM_RPATH_MAX];
	struct stat st;

	if (fvm_dir_host_only(&fvm_g, vpath, strlen(vpath))) {
		return false;
	}
	for (int i = -1; i < (int)fvm_layer_count(&fvm_g); i++) {
		if (layer_path(i, vpath, up, sizeof(up)) >= 0 && sys_lstat(up, &st) == 0) {
			return true;
		}
	}
	return false;
}

/* fvm_each_dirent callback: stops at an entry that is not a directory. */
static int nondir_entry(const struct linux_dirent64 *d, void *arg)
{
	(void)arg;
	return d->d_type != DT_DIR && strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/*
 * True when the VM's layers hold at VPATH something the loader could open or miss
 * there: an entry that is not a directory (a library, a link, a whiteout). A directory
 * the VM changed only beneath (python's packages in /usr/lib/python3) changes nothing
 * it searches.
 */
static bool files_in_upper(const char *vpath)
{
	char up[FVM_RPATH_MAX];
	struct stat st;

	if (!in_upper(vpath)) {
		return false;
	}
	for (int i = -1; i < (int)fvm_layer_count(&fvm_g); i++) {
		if (layer_path(i, vpath, up, sizeof(up)) >= 0 && sys_lstat(up, &st) == 0 &&
		    fvm_each_dirent(up, nondir_entry, NULL) != 0) { /* unreadable (< 0): say yes */
			return true;
		}
	}
	return false;
}

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#endif

/* The names system_dirs_in_vm looks at first: with none in the VM, it answers false. */
#define TOP_DIRS {"/etc", "/usr", "/lib", "/lib64"}

/*
 * The memo of system_dirs_in_vm (issue 15): (GEN << 1) | 1 when, at generation GEN,
 * none of the top directories the loader reads (TOP_DIRS) had a part in upper/ or a
 * layer, 0 when unknown. Every way such a name comes into upper/ bumps the generation
 * (a copy-up of the host's directory or link, a whiteout, a new directory, a rename),
 * because the host has each of them (host_tops: a new name the host lacks, a file or
 * link, would come without a bump, so then nothing is kept). The same fact the lookup
 * cache keeps of a host directory (dcache.c), and as safe (DESIGN.md "What is cached").
 * In a vfork child the store lands in the parent's memory: a shell's next exec asks
 * upper/ nothing.
 */
static uint64_t tops_host_only;
static int host_tops; /* 0 unknown, 1 the host has every one of TOP_DIRS, -1 not */

/* True when none of TOP_DIRS is in upper/ or a layer, the host having each. */
static bool tops_unchanged(void)
{
	static const char *const tops[] = TOP_DIRS;
	struct stat st;

	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		if (in_upper(tops[i])) {
			return false;
		}
	}
	if (host_tops == 0) {
		int have = 1;
		for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]) && have > 0; i++) {
			have = sys_lstat(tops[i], &st) == 0 ? 1 : -1;
		}
		host_tops = have;
	}
	return host_tops > 0;
}

/*
 * True when the VM changed what the loader reads by default: its cache (or deleted
 * it), a default directory (/lib, /usr/lib, their multiarch directory, /lib64,
 * /usr/lib64) or /usr/local/lib, which the cache names. A few lstat calls of upper/,
 * ENOENT in a VM that changed neither /etc nor /usr, none while the memo holds
 * (tops_host_only); a listing of a directory the VM changed beneath.
 */
static bool system_dirs_in_vm(void)
{
	uint64_t gen = fvm_gen_now(&fvm_g); /* before the lookups: a change meanwhile bumps it */

	if (gen && __atomic_load_n(&tops_host_only, __ATOMIC_RELAXED) == ((gen << 1) | 1)) {
		return false;
	}
	if (gen && tops_unchanged()) {
		__atomic_store_n(&tops_host_only, (gen << 1) | 1, __ATOMIC_RELAXED);
		return false;
	}
	if (in_upper("/etc") &&
	    (in_upper("/etc/ld.so.cache") || in_upper("/etc/" FVM_WH_PREFIX "ld.so.cache"))) {
		return true;
	}
#ifdef MULTIARCH
	if (in_upper("/usr") && (in_upper("/usr/lib/" MULTIARCH) || files_in_upper("/usr/lib") ||
				 files_in_upper("/usr/local/lib") || in_upper("/usr/lib64"))) {
		return true;
	}
	return (in_upper("/lib") && (in_upper("/lib/" MULTIARCH) || files_in_upper("/lib"))) ||
	       in_upper("/lib64");
#else
	if (in_upper("/usr") &&
	    (in_upper("/usr/lib") || in_upper("/usr/local/lib") || in_upper("/usr/lib64"))) {
		return true;
	}
	return in_upper("/lib") || in_upper("/lib64");
#endif
}

/* The file offset of virtual address ADDR in the ELF whose program headers are PH (PN). */
static bool vaddr_off(const Elf64_Phdr *ph, size_t pn, uint64_t addr, uint64_t *off)
{
	for (size_t i = 0; i < pn; i++) {
		if (ph[i].p_type == PT_LOAD && addr >= ph[i].p_vaddr &&
		    addr < ph[i].p_vaddr + ph[i].p_filesz) {
			*off = addr - ph[i].p_vaddr + ph[i].p_offset;
			return true;
		}
	}
	return false;
}

/* True when a directory of rpath list LIST (of the program at canonical VPROG) is the VM's. */
static bool rpath_in_vm(const char *list, const char *vprog)
{
	char dir[PATH_MAX];
	const char *base = strrchr(vprog, '/');
	int olen = base ? (int)(base - vprog) : 0;

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ":");
		int n = -1;
		if (len > 7 && memcmp(p, "$ORIGIN", 7) == 0) {
			n = snprintf(dir, sizeof(dir), "%.*s%.*s", olen, vprog, (int)(len - 7), p + 7);
		} else if (len > 9 && memcmp(p, "${ORIGIN}", 9) == 0) {
			n = snprintf(dir, sizeof(dir), "%.*s%.*s", olen, vprog, (int)(len - 9), p + 9);
		} else if (len == 7 && memcmp(p, "$ORIGIN", 7) == 0) {
			n = snprintf(dir, sizeof(dir), "%.*s", olen ? olen : 1, olen ? vprog : "/");
		} else if (len && !memchr(p, '$', len)) {
			n = snprintf(dir, sizeof(dir), "%.*s", (int)len, p);
		}
		if (n > 0 && (size_t)n < sizeof(dir) && list_in_vm(dir, "", false)) {
			return true;
		}
		p += len;
		p += *p == ':';
	}
	return false;
}

int fvm_loader_prog(const struct fvm_res *res, const char *head, size_t n, int fd, bool *file_only)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[32];
	Elf64_Dyn dyn[128];
	char list[PATH_MAX];
	uint64_t strtab = 0, rp = 0, off;
	bool has_rp = false;
	size_t pn;

	*file_only = true;
	if (n < sizeof(eh) || memcmp(head, ELFMAG, SELFMAG) != 0) {
		return -1;
	}
	memcpy(&eh, head, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != ELF_MACHINE ||
	    eh.e_phentsize != sizeof(ph[0])) {
		return -1;
	}
	*file_only = false;
	if (vm_own(res)) {
		return 1;
	}
	pn = eh.e_phnum < 32 ? eh.e_phnum : 32;
	if (eh.e_phoff + pn * sizeof(ph[0]) <= n) {
		memcpy(ph, head + eh.e_phoff, pn * sizeof(ph[0]));
	} else if (sys_pread(fd, ph, pn * sizeof(ph[0]), (off_t)eh.e_phoff) != (ssize_t)(pn * sizeof(ph[0]))) {
		return 0;
	}
	for (size_t i = 0; i < pn; i++) {
		if (ph[i].p_type != PT_DYNAMIC) {
			continue;
		}
		size_t len = ph[i].p_filesz < sizeof(dyn) ? ph[i].p_filesz : sizeof(dyn);
		ssize_t got = sys_pread(fd, dyn, len, (off_t)ph[i].p_offset);
		for (size_t d = 0; got > 0 && d < (size_t)got / sizeof(dyn[0]) && dyn[d].d_tag != DT_NULL; d++) {
			if (dyn[d].d_tag == DT_STRTAB) {
				strtab = dyn[d].d_un.d_ptr;
			} else if (dyn[d].d_tag == DT_RPATH || dyn[d].d_tag == DT_RUNPATH) {
				rp = dyn[d].d_un.d_val;
				has_rp = true;
			}
		}
	}
	if (!has_rp) {
		*file_only = true; /* no rpath: nothing of the VM was asked */
		return 0;
	}
	if (!vaddr_off(ph, pn, strtab, &off)) {
		return 0;
	}
	ssize_t got = sys_pread(fd, list, sizeof(list) - 1, (off_t)(off + rp));
	if (got <= 0) {
		return 0;
	}
	list[got] = '\0';
	return rpath_in_vm(list, res->vpath) ? 1 : 0;
}

/* True when the program (PROG_LOADER, fvm_loader_prog) or the environment E needs the module. */
static bool needs_module(int prog_loader, const struct ld_env *e)
{
	if (prog_loader != 0) {
		return prog_loader > 0;
	}
	return (e->libpath && list_in_vm(e->libpath, ":;", false)) ||
	       (e->preload && list_in_vm(e->preload, ": \t", true)) || system_dirs_in_vm();
}

/* Appends "NAME=VAL1[:VAL2]" to BUF (*USED of LEN): the string, or NULL when it does not fit. */
static char *env_str(char *buf, size_t len, size_t *used, const char *name, const char *v1,
		     const char *v2)
{
	int n = snprintf(buf + *used, len - *used, "%s=%s%s%s", name, v1, v2 && *v2 ? ":" : "",
			 v2 ? v2 : "");
	if (n < 0 || *used + (size_t)n + 1 > len) {
		return NULL;
	}
	char *s = buf + *used;
	*used += (size_t)n + 1;
	return s;
}

/* Removes entry K of ENV (*N entries): the last takes its place, E's indexes follow. */
static void env_del(char **env, size_t *n, size_t k, struct ld_env *e)
{
	size_t last = --*n;

	env[k] = env[last];
	env[last] = NULL;
	size_t *idx[] = {&e->ia, &e->im, &e->il, &e->ilm};
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		if (*idx[i] == last) {
			*idx[i] = k;
		}
	}
}

/*
 * LD_LIBRARY_PATH for the loader, into BUF: each entry that names a directory only the
 * VM has becomes its real path in upper/. The loader stats a directory where a library
 * was missing and skips it for the rest of the process when the host has none there;
 * the real path exists. The module maps the names beneath it back into the VM. Returns
 * the "LD_LIBRARY_PATH=..." string, or NULL when nothing changes (or it does not fit).
 */
static char *libpath_real(const char *list, char *buf, size_t len, size_t *used)
{
	char name[PATH_MAX];
	struct fvm_res res;
	struct stat st;
	size_t start = *used, o = start;
	bool changed = false;
	int k = snprintf(buf + o, len - o, "LD_LIBRARY_PATH=");

	if (k < 0 || o + (size_t)k >= len) {
		return NULL;
	}
	o += (size_t)k;
	for (const char *p = list; *p;) {
		size_t nl = strcspn(p, ":;");
		const char *ent = p;
		if (nl && nl < sizeof(name)) {
			memcpy(name, p, nl);
			name[nl] = '\0';
			if (!strchr(name, '$') && sys_fstatat(AT_FDCWD, name, &st, 0) < 0 &&
			    fvm_resolve_at(AT_FDCWD, name, 0, &res) == 0 && vm_own(&res) &&
			    S_ISDIR(res.st.st_mode)) {
				ent = res.rpath;
				nl = strlen(res.rpath);
				changed = true;
			}
		}
		if (o + nl + 2 > len) {
			return NULL;
		}
		memcpy(buf + o, ent, nl);
		o += nl;
		p += strcspn(p, ":;");
		if (*p) {
			buf[o++] = ':';
			p++;
		}
	}
	buf[o++] = '\0';
	if (!changed) {
		return NULL;
	}
	*used = o;
	return buf + start;
}

size_t fvm_loader_env(int prog_loader, char **env, size_t n, size_t outn, char *buf, size_t buflen)
{
	struct ld_env e;
	size_t used = 0;
	const char *mod;

	env[n] = NULL;
	scan_env(env, &e);
	/* Inherited from a start that had the module: the program's own values are ours. */
	if (e.libmark) {
		env_del(env, &n, e.ilm, &e);
		char *own = e.libpath ? env_str(buf, buflen, &used, "LD_LIBRARY_PATH", e.libmark, NULL) : NULL;
		if (own) {
			env[e.il] = own;
			e.libpath = own + sizeof("LD_LIBRARY_PATH");
		}
	}
	if (e.mark) {
		env_del(env, &n, e.im, &e);
		char *own = e.audit && *e.mark ? env_str(buf, buflen, &used, "LD_AUDIT", e.mark, NULL) : NULL;
		if (own) {
			env[e.ia] = own;
			e.audit = own + sizeof("LD_AUDIT");
		} else if (e.audit) {
			env_del(env, &n, e.ia, &e);
			e.audit = NULL;
		}
	}
	if (n + FVM_LOADER_ENV_N + 1 > outn || !needs_module(prog_loader, &e) ||
	    !(mod = audit_path())[0]) {
		return n;
	}
	if (e.audit && strstr(e.audit, mod)) {
		return n; /* the program asked for the module itself */
	}
	char *audit = env_str(buf, buflen, &used, "LD_AUDIT", mod, e.audit);
	char *mark = env_str(buf, buflen, &used, FVM_ENV_AUDIT, e.audit ? e.audit : "", NULL);
	if (!audit || !mark) {
		return n;
	}
	if (e.audit) {
		env[e.ia] = audit;
	} else {
		env[n++] = audit;
	}
	env[n++] = mark;
	char *lp = e.libpath ? libpath_real(e.libpath, buf, buflen, &used) : NULL;
	char *lmark = lp ? env_str(buf, buflen, &used, FVM_ENV_AUDIT_LIBPATH, e.libpath, NULL) : NULL;
	if (lmark) {
		env[e.il] = lp;
		env[n++] = lmark;
	}
	env[n] = NULL;
	return n;
}

/* Removes entry K of the NULL-terminated ENV, keeping the order (as unsetenv). */
static void env_drop(char **env, size_t k)
{
	for (; env[k]; k++) {
		env[k] = env[k + 1];
	}
}

/*
 * Puts VAR back into ENV: the saved value is the tail of the marker entry MARK
 * ("FVM_AUDIT=value"), so "LD_AUDIT=value" is written over the marker's own name,
 * in place: no allocation, and no setenv, which a program may interpose with its own
 * (bash does, working on its variables, not yet made when this runs).
 */
static void env_put_back(char **env, const char *mark, const char *var)
{
	size_t ml = strlen(mark), vl = strlen(var), im = SIZE_MAX, iv = SIZE_MAX;

	for (size_t i = 0; env[i]; i++) {
		if (strncmp(env[i], mark, ml) == 0 && env[i][ml] == '=') {
			im = i;
		} else if (strncmp(env[i], var, vl) == 0 && env[i][vl] == '=') {
			iv = i;
		}
	}
	if (im == SIZE_MAX) {
		return;
	}
	char *e = env[im];
	if (!e[ml + 1] && strcmp(var, "LD_AUDIT") == 0) {
		/* The program had no LD_AUDIT. */
		if (iv != SIZE_MAX) {
			env_drop(env, iv);
			im -= iv < im;
		}
		env_drop(env, im);
		return;
	}
	char *own = e + ml - vl;         /* "VAR=value" ends where the marker's does */
	memcpy(own, var, vl);
	if (iv != SIZE_MAX) {
		env[iv] = own;
		env_drop(env, im);
	} else {
		env[im] = own;
	}
}

void fvm_loader_restore(void)
{
	bool marked = false;

	for (size_t i = 0; environ[i] && !marked; i++) {
		marked = environ[i][0] == 'F' && strncmp(environ[i], FVM_ENV_AUDIT "=", sizeof(FVM_ENV_AUDIT)) == 0;
	}
	if (marked) {
		env_put_back(environ, FVM_ENV_AUDIT_LIBPATH, "LD_LIBRARY_PATH");
		env_put_back(environ, FVM_ENV_AUDIT, "LD_AUDIT");
	}
}
