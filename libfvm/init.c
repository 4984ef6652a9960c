/*
 * init.c — libfvm's start: the environment contract, the VM, the real functions.
 *
 * Invariants:
 *  - Runs once per process, in the constructor, before main(); a wrapper called by
 *    another library's constructor first triggers it early (fvm_on()).
 *  - Without FVM_ROOT in the environment libfvm is inactive: every wrapper passes its
 *    call through unchanged.
 *  - Reads the environment and the compiled policy only; parses no configuration and
 *    prints nothing to the program's streams.
 *  - A start costs almost nothing (issue 15): one pass over the environment, no file
 *    opened, two system calls (geteuid, getpid). The policy and the generation counter
 *    (ROOT/state) are mapped by the first wrapper that runs in the VM (fvm_on_slow), or
 *    before a fork by a parent that has run none, so that children inherit them.
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fvm/env.h"
#include "fvm/path.h"
#include "fvm/layout.h"
#include "libfvm.h"

struct fvm_start_area fvm_start_area __attribute__((aligned(4096))) FVM_LARGE_BSS;
bool fvm_active;
volatile int fvm_ready;
volatile int fvm_fast;

const char *fvm_env_saved[FVM_ENV_CONTRACT_N];
/*
 * The contract's values and libfvm's own path, packed (keep): into fvm_start_area.env,
 * on the page the start writes anyway (a page fault less per exec), or, what does not
 * fit there, into env_copy, page-aligned so that only one more page is touched.
 */
static size_t small_used, copy_used;
static char env_copy[(FVM_ENV_CONTRACT_N + 1) * PATH_MAX] __attribute__((aligned(4096))) FVM_LARGE_BSS;
static const char *lib_path = "";

/* A copy of the LEN bytes at S (its NUL included), kept for the process's life. */
static const char *keep(const char *s, size_t len)
{
	char *d;

	if (small_used + len <= sizeof(fvm_start_area.env)) {
		d = fvm_start_area.env + small_used;
		small_used += len;
	} else if (copy_used + len <= sizeof(env_copy)) {
		d = env_copy + copy_used;
		copy_used += len;
	} else {
		return NULL;
	}
	return memcpy(d, s, len);
}

struct lib_find {
	uintptr_t addr;
	const char *name;
};

/* dl_iterate_phdr callback: the object one of whose segments holds F->addr. */
static int lib_find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lib_find *f = arg;

	(void)size;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < lo + ph->p_memsz) {
			f->name = info->dlpi_name;
			return 1;
		}
	}
	return 0;
}

/*
 * libfvm's own path, kept: asked once at start (a walk of the few loaded objects, no
 * system call), so that no forked child asks it again before its exec (dladdr walked
 * the symbol table, in every child of a shell).
 */
static void find_lib_path(void)
{
	struct lib_find f = {(uintptr_t)fvm_init, NULL};
	const char *kept;

	dl_iterate_phdr(lib_find_cb, &f);
	if (f.name && f.name[0] == '/' && (kept = keep(f.name, strlen(f.name) + 1)) != NULL) {
		lib_path = kept;
	}
}

const char *fvm_lib_path(void)
{
	return lib_path;
}

bool fvm_lib_sibling(const char *name, char *path, size_t len)
{
	const char *slash = strrchr(lib_path, '/');
	int n = slash ? snprintf(path, len, "%.*s/%s", (int)(slash - lib_path), lib_path, name) : -1;
	struct stat st;

	return n > 0 && (size_t)n < len && sys_fstatat(AT_FDCWD, path, &st, 0) == 0 && S_ISREG(st.st_mode);
}

static char det_lib[PATH_MAX] FVM_LARGE_BSS;

/* libfvm-det.so beside libfvm.so (a deterministic run preloads both). */
static void find_det_lib_path(void)
{
	const char *slash = strrchr(lib_path, '/');
	size_t dl = slash ? (size_t)(slash - lib_path) : 0;

	if (slash && dl + sizeof("/libfvm-det.so") <= sizeof(det_lib)) {
		memcpy(det_lib, lib_path, dl);
		memcpy(det_lib + dl, "/libfvm-det.so", sizeof("/libfvm-det.so"));
	}
}

const char *fvm_det_lib_path(void)
{
	return det_lib;
}

static int debug_fd = -1;

static void *reals[FVM_REAL_N];

void *fvm_real(enum fvm_real_idx idx, const char *name)
{
	void *p = __atomic_load_n(&reals[idx], __ATOMIC_RELAXED);

	if (__builtin_expect(!p, 0)) {
		/* Racing threads find the same address: either store is right. */
		p = dlsym(RTLD_NEXT, name);
		__atomic_store_n(&reals[idx], p, __ATOMIC_RELAXED);
	}
	return p;
}

void fvm_vlog(int fd, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "fvm[%d]: ", (int)sys_getpid());
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2) {
		n = (int)sizeof(line) - 2;
	}
	line[n++] = '\n';
	sys_write(fd, line, (size_t)n);
}

void fvm_debug(const char *fmt, ...)
{
	va_list ap;

	if (debug_fd < 0) {
		return;
	}
	va_start(ap, fmt);
	fvm_vlog(debug_fd, fmt, ap);
	va_end(ap);
}

/*
 * The contract's variables, in one pass over the environment (getenv would walk it
 * once per name): each value as the process got it into RAW, the first occurrence as
 * getenv finds it, and a copy for the exec wrappers (fvm_env_saved).
 */
static void read_contract(const char *raw[])
{
	static const char *const contract[] = FVM_ENV_CONTRACT;

	for (char **e = environ; e && *e; e++) {
		const char *v = *e;
		if (v[0] != 'F' || strncmp(v, "FVM_", 4) != 0) {
			continue;
		}
		for (size_t c = 0; c < FVM_ENV_CONTRACT_N; c++) {
			size_t nl = strlen(contract[c]);
			if (!raw[c] && strncmp(v, contract[c], nl) == 0 && v[nl] == '=') {
				raw[c] = v + nl + 1;
				break;
			}
		}
	}
	for (size_t c = 0; c < FVM_ENV_CONTRACT_N; c++) {
		size_t vl = raw[c] ? strlen(raw[c]) + 1 : 0;
		if (raw[c] && vl <= PATH_MAX) {
			fvm_env_saved[c] = keep(raw[c], vl);
		}
	}
}

/* Indexes of FVM_ENV_CONTRACT. */

static void attach_before_fork(void);
static void count_fork_child(void);
static pid_t self_pid, vfork_counted;

void fvm_init(void)
{
	static int lock;
	const char *raw[FVM_ENV_CONTRACT_N] = {NULL};
	const char *root, *name, *home, *dbg;
	int saved = errno;

	/* One initialiser; a concurrent caller waits (only possible before main). */
	if (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {
		while (!__atomic_load_n(&fvm_ready, __ATOMIC_ACQUIRE)) {
		}
		return;
	}
	read_contract(raw);
	root = raw[C_ROOT];
	name = raw[C_VM];
	home = raw[C_HOME];
	dbg = raw[C_DEBUG];
	if (dbg && *dbg) {
		debug_fd = atoi(dbg);
	}
	if (root && root[0] == '/' && fvm_vm_setup(&fvm_g, name ? name : "", root, home) == 0) {
		self_pid = (pid_t)FVM_SC(SYS_getpid, 0, 0, 0, 0, 0, 0);
		fvm_cwd_init(self_pid);
		fvm_cu_broker_attach(&fvm_g, raw[C_CU]);
		if (!home || !*home) {
			/* The store is the VM root's grandparent: $FVM_HOME/vms/NAME. */
			/* No snprintf: printf's code is pages a start need not fault in. */
			char tmp[PATH_MAX];
			if (fvm_g.root_len + sizeof("/../..") <= sizeof(tmp)) {
				memcpy(tmp, fvm_g.root, fvm_g.root_len);
				memcpy(tmp + fvm_g.root_len, "/../..", sizeof("/../.."));
				fvm_g.home_len = (size_t)fvm_path_normalize(tmp, fvm_g.home,
									    sizeof(fvm_g.home), true);
			}
		}
		find_lib_path();
		fvm_atfork(attach_before_fork, NULL, count_fork_child);
		fvm_long_paths = 1; /* real paths of PATH_MAX bytes or more: fvm/sys.h */
		fvm_active = true;
		fvm_trace_init(raw[C_TRACE]);
		fvm_loader_restore();
		if (raw[C_DET] && *raw[C_DET]) {
			fvm_det_parse(&fvm_det, raw[C_DET]);
			find_det_lib_path();
		}
	} else {
		__atomic_store_n(&fvm_fast, 1, __ATOMIC_RELEASE); /* nothing to attach */
	}
	__atomic_store_n(&fvm_ready, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/*
 * The policy and the generation counter, mapped at the first wrapped call that runs in
 * the VM rather than at start: a program that calls none (true, a compiler driver's
 * short-lived helpers) opens neither file. Lock-free and idempotent, so that threads
 * and signal handlers may race here: each maps its own and publishes it with one
 * compare-and-swap; a loser unmaps its copy and uses the winner's. The names counter
 * is published before the counter, and the counter is derived from it (the word
 * before), so a reader that sees the counter sees both.
 */
static void fvm_attach(void)
{
	static volatile int policy_done;
	int saved = errno;

	if (!__atomic_load_n(&policy_done, __ATOMIC_ACQUIRE)) {
		const char *pol = fvm_env_saved[C_POLICY];
		if (pol && *pol) {
			const struct fvm_policy *mine = fvm_policy_map(pol), *none = NULL;
			if (!mine) {
				fvm_debug("cannot load policy %s; using the default", pol);
			} else if (!__atomic_compare_exchange_n(&fvm_g.policy, &none, mine, false,
								 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				fvm_policy_unmap(mine);
			}
		}
		__atomic_store_n(&policy_done, 1, __ATOMIC_RELEASE);
	}
	if (!__atomic_load_n(&fvm_g.gen.counter, __ATOMIC_ACQUIRE)) {
		uint64_t *mine, *names = NULL;
		if (fvm_gen_map(fvm_g.root, &mine) < 0) {
			fvm_debug("no generation counter in %s: lookups are not cached", fvm_g.root);
		} else {
			if (!__atomic_compare_exchange_n(&fvm_g.gen.names, &names, mine + 1, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				fvm_gen_unmap(mine);
			}
			__atomic_store_n(&fvm_g.gen.counter, fvm_g.gen.names - 1, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&fvm_fast, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/* Before a fork: a parent that has not attached yet does it once, here, rather than
 * every child before its exec (a vfork child shares the parent's memory anyway). */
static void attach_before_fork(void)
{
	if (fvm_active && !__atomic_load_n(&fvm_fast, __ATOMIC_ACQUIRE)) {
		fvm_attach();
	}
}

/*
 * Processes started. Each process is counted once, by whoever made it: a fork child in
 * its pthread_atfork handler, a posix_spawn by the parent, and a vfork child (which
 * runs no fork handler) at its exec, where it still shares the parent's memory: it
 * knows itself by a pid that is neither the one its image started as (self_pid, set
 * at the start and in a fork child) nor one already counted (vfork_counted, which only
 * vfork children write, so the parent's own test is unchanged).
 */
static void count_one(void)
{
	uint64_t *state = __atomic_load_n(&fvm_g.gen.counter, __ATOMIC_ACQUIRE);

	if (fvm_active && state) {
		__atomic_add_fetch(&state[FVM_STATE_PROCS], 1, __ATOMIC_RELAXED);
	}
}

void fvm_count_process(void)
{
	count_one();
}

static void count_fork_child(void)
{
	self_pid = (pid_t)FVM_SC(SYS_getpid, 0, 0, 0, 0, 0, 0);
	count_one();
}

void fvm_count_exec(void)
{
	pid_t pid = (pid_t)FVM_SC(SYS_getpid, 0, 0, 0, 0, 0, 0);

	if (pid != self_pid && pid != vfork_counted) {
		vfork_counted = pid;
		count_one();
	}
}

bool fvm_on_slow(void)
{
	if (!__atomic_load_n(&fvm_ready, __ATOMIC_ACQUIRE)) {
		fvm_init();
	}
	if (fvm_active) {
		fvm_attach();
	}
	return fvm_active;
}

/*
 * libfvm's DT_FINI (the Makefile links with -Wl,-fini=fvm_fini): crt's _fini, as empty,
 * lies after the whole text, a page (and the fault-around window about it) that every
 * exit of every program touched for nothing; this one lies beside the start's code.
 */
void fvm_fini(void);
void fvm_fini(void)
{
}

__attribute__((constructor)) static void fvm_constructor(void)
{
	if (!fvm_ready) {
		fvm_init();
	}
}
