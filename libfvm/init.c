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
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/env.h"
#include "fvm/path.h"
#include "libfvm.h"

struct fvm_vm fvm_g;
bool fvm_active;
volatile int fvm_ready;
static char lib_path[PATH_MAX];

static void find_lib_path(void)
{
	Dl_info info;

	if (dladdr((void *)fvm_init, &info) && info.dli_fname && info.dli_fname[0] == '/') {
		snprintf(lib_path, sizeof(lib_path), "%s", info.dli_fname);
	}
}

const char *fvm_lib_path(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, find_lib_path);
	return lib_path;
}
const char *fvm_env_saved[FVM_ENV_CONTRACT_N];
static char env_copy[FVM_ENV_CONTRACT_N * PATH_MAX]; /* packed: only one page is touched */

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

void fvm_init(void)
{
	static int lock;
	const char *root, *name, *pol, *home, *dbg;
	int saved = errno;

	/* One initialiser; a concurrent caller waits (only possible before main). */
	if (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {
		while (!__atomic_load_n(&fvm_ready, __ATOMIC_ACQUIRE)) {
		}
		return;
	}
	root = getenv(FVM_ENV_ROOT);
	name = getenv(FVM_ENV_VM);
	pol = getenv(FVM_ENV_POLICY);
	home = getenv(FVM_ENV_HOME);
	dbg = getenv(FVM_ENV_DEBUG);
	{
		static const char *const contract[] = FVM_ENV_CONTRACT;
		size_t used = 0;
		for (size_t c = 0; c < FVM_ENV_CONTRACT_N; c++) {
			const char *v = getenv(contract[c]);
			size_t vl = v ? strlen(v) + 1 : 0;
			if (v && vl <= PATH_MAX) {
				fvm_env_saved[c] = memcpy(env_copy + used, v, vl);
				used += vl;
			}
		}
	}
	if (dbg && *dbg) {
		debug_fd = atoi(dbg);
	}
	if (root && root[0] == '/' && fvm_vm_setup(&fvm_g, name ? name : "", root, home) == 0) {
		fvm_cwd_init();
		fvm_cu_broker_attach(&fvm_g);
		if (pol && *pol && (fvm_g.policy = fvm_policy_map(pol)) != NULL) {
			/* mapped */
		} else if (pol && *pol) {
			fvm_debug("cannot load policy %s; using the default", pol);
		}
		if (!home || !*home) {
			/* The store is the VM root's grandparent: $FVM_HOME/vms/NAME. */
			char tmp[PATH_MAX];
			int n = snprintf(tmp, sizeof(tmp), "%s/../..", fvm_g.root);
			if (n > 0 && (size_t)n < sizeof(tmp)) {
				fvm_g.home_len = (size_t)fvm_path_normalize(tmp, fvm_g.home,
									    sizeof(fvm_g.home), true);
			}
		}
		if (fvm_gen_attach(&fvm_g) < 0) {
			fvm_debug("no generation counter in %s: lookups are not cached", fvm_g.root);
		}
		fvm_long_paths = 1; /* real paths of PATH_MAX bytes or more: fvm/sys.h */
		fvm_active = true;
	}
	__atomic_store_n(&fvm_ready, 1, __ATOMIC_RELEASE);
	errno = saved;
}

__attribute__((constructor)) static void fvm_constructor(void)
{
	if (!fvm_ready) {
		fvm_init();
	}
}
