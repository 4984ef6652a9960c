/*
 * determ.c — fvm-exec's determinism options (fvm-exec(1), DETERMINISM): --deterministic
 * and each of its parts, turned into the FVM_DET contract libfvm reads (fvm/determ.h),
 * the environment (SOURCE_DATE_EPOCH, TZ, LANG, LC_ALL) and what the child sets before
 * its exec (umask, personality ADDR_NO_RANDOMIZE).
 *
 * Rules:
 *  - An option given on its own applies alone; --deterministic sets every part at its
 *    default, and an option given with it replaces that part's default.
 *  - The clock's fixed time is --time, else SOURCE_DATE_EPOCH when it is a number,
 *    else FVM_DET_DEF_EPOCH; whenever the run has a fixed time, SOURCE_DATE_EPOCH is
 *    exported with it, so tools that read it (gcc's __DATE__, dpkg, tar) agree with
 *    the clock.
 *  - Nothing is set when no option is: libfvm then pays nothing (FVM_DET unset).
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fvm/determ.h"
#include "fvm/env.h"
#include "fvm/exit.h"
#include "run.h"

static struct {
	bool umask_set, no_aslr;
	mode_t umask;
} child;

static bool flag(const struct exec_config *c, enum exec_key k)
{
	const char *v = exec_config_get(c, k);
	return v && strcmp(v, "true") == 0;
}

/* Key K's value parsed by its kind (the value was checked when set); false if unset. */
static bool value(const struct exec_config *c, enum exec_key k, union exec_value *out)
{
	const char *v = exec_config_get(c, k), *expect;
	return v && exec_value_parse(exec_opts[k].kind, v, out, &expect) == 0;
}

static void put(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void set(const char *name, const char *val)
{
	if (setenv(name, val, 1) < 0) {
		err(FVM_EXIT_FVM, "setenv %s", name);
	}
}

int determ_setup(const struct exec_config *c)
{
	bool det = flag(c, K_DETERMINISTIC);
	union exec_value v;
	char contract[512] = "", num[32];
	struct timespec now;
	const char *sde = getenv("SOURCE_DATE_EPOCH"), *s;

	clock_gettime(CLOCK_REALTIME, &now);
	/* The clock: a fixed time when anything needs one. */
	bool frozen = flag(c, K_TIME_FROZEN), clamp = flag(c, K_CLAMP_MTIME) || det;
	if (value(c, K_TIME, &v) || det || frozen || clamp) {
		long long t;
		char *end;
		if (exec_config_get(c, K_TIME)) {
			t = (long long)v.u;
		} else if (sde && *sde && (t = strtoll(sde, &end, 10), !*end) && t >= 0) {
			/* SOURCE_DATE_EPOCH as the build set it */
		} else {
			t = FVM_DET_DEF_EPOCH;
		}
		put(contract, sizeof(contract), "start=%lld,time=%lld,", (long long)now.tv_sec * 1000000000LL + now.tv_nsec, t);
		if (frozen) {
			put(contract, sizeof(contract), "frozen=1,");
		}
		if (clamp) {
			put(contract, sizeof(contract), "clamp=1,");
		}
		snprintf(num, sizeof(num), "%lld", t);
		set("SOURCE_DATE_EPOCH", num);
	}
	if (value(c, K_RANDOM_SEED, &v) || det) {
		put(contract, sizeof(contract), "seed=%llu,",
		    exec_config_get(c, K_RANDOM_SEED) ? (unsigned long long)v.u : (unsigned long long)FVM_DET_DEF_SEED);
	}
	if (value(c, K_DIR_ORDER, &v) || det) {
		put(contract, sizeof(contract), "order=%s,",
		    exec_config_get(c, K_DIR_ORDER) && v.i == 1 ? "reversed" : "sorted");
	}
	if ((s = exec_config_get(c, K_HOSTNAME)) || det) {
		put(contract, sizeof(contract), "host=%s,", s ? s : FVM_DET_DEF_HOSTNAME);
	}
	if ((s = exec_config_get(c, K_NAMES)) || det) {
		put(contract, sizeof(contract), "names=%s,", s ? s : FVM_DET_DEF_NAMES);
		set("USER", s ? s : FVM_DET_DEF_NAMES);
		set("LOGNAME", s ? s : FVM_DET_DEF_NAMES);
	}
	if (det) {
		put(contract, sizeof(contract), "uname=1,");
	}
	if (value(c, K_NCPUS, &v) || det) {
		put(contract, sizeof(contract), "cpus=%llu,",
		    exec_config_get(c, K_NCPUS) && v.u != EXEC_UNSET ? (unsigned long long)v.u
								     : (unsigned long long)FVM_DET_DEF_CPUS);
	}
	if (*contract) {
		/* libfvm-det.so beside libfvm.so, preloaded after it (libfvm/det/det.c). */
		const char *lib = getenv(FVM_ENV_PRELOAD), *slash = lib ? strrchr(lib, '/') : NULL;
		char preload[2 * PATH_MAX + 32];
		if (!slash) {
			errx(FVM_EXIT_FVM, "--deterministic: libfvm's path is unknown");
		}
		snprintf(preload, sizeof(preload), "%s:%.*s/libfvm-det.so", lib, (int)(slash - lib), lib);
		if (access(strchr(preload, ':') + 1, R_OK) < 0) {
			err(FVM_EXIT_FVM, "%s", strchr(preload, ':') + 1);
		}
		set(FVM_ENV_PRELOAD, preload);
		contract[strlen(contract) - 1] = '\0';
		set(FVM_ENV_DET, contract);
	} else {
		unsetenv(FVM_ENV_DET);
	}
	if (value(c, K_UMASK, &v) || det) {
		child.umask_set = true;
		child.umask = exec_config_get(c, K_UMASK) ? (mode_t)v.i : FVM_DET_DEF_UMASK;
	}
	if ((s = exec_config_get(c, K_TZ)) || det) {
		set("TZ", s ? s : FVM_DET_DEF_TZ);
	}
	if ((s = exec_config_get(c, K_LOCALE)) || det) {
		set("LANG", s ? s : FVM_DET_DEF_LOCALE);
		set("LC_ALL", s ? s : FVM_DET_DEF_LOCALE);
		unsetenv("LANGUAGE"); /* gettext would prefer it to LC_ALL's messages */
	}
	child.no_aslr = det;
	return 0;
}

int determ_child(void)
{
	if (child.umask_set) {
		umask(child.umask);
	}
	if (child.no_aslr) {
		int p = personality(0xffffffff);
		if (p < 0 || personality((unsigned long)p | ADDR_NO_RANDOMIZE) < 0) {
			fprintf(stderr, "fvm-exec: --deterministic: cannot turn off address-space randomization: %m\n");
			return -1;
		}
	}
	return 0;
}
