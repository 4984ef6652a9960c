/*
 * layout.c — names on disk: VM names, whiteouts, the default store (fvm/layout.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fvm/layout.h"

bool fvm_vm_name_valid(const char *name)
{
	size_t i;

	if (!name || !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z') ||
		       (name[0] >= '0' && name[0] <= '9'))) {
		return false;
	}
	for (i = 1; name[i]; i++) {
		char c = name[i];
		if (i >= FVM_NAME_MAX) {
			return false;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			return false;
		}
	}
	return true;
}

bool fvm_is_wh_name(const char *name, size_t len)
{
	return len >= FVM_WH_PREFIX_LEN && memcmp(name, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN) == 0;
}

int fvm_wh_path(const char *path, char *out, size_t outlen)
{
	size_t len = strlen(path), base = len;

	while (base > 0 && path[base - 1] != '/') {
		base--;
	}
	if (len + FVM_WH_PREFIX_LEN + 1 > outlen) {
		return -ENAMETOOLONG;
	}
	memcpy(out, path, base);
	memcpy(out + base, FVM_WH_PREFIX, FVM_WH_PREFIX_LEN);
	memcpy(out + base + FVM_WH_PREFIX_LEN, path + base, len - base + 1);
	return 0;
}

int fvm_opaque_path(const char *dirpath, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", dirpath, FVM_WH_OPAQUE);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int fvm_default_home(char *out, size_t outlen)
{
	const char *env = getenv("FVM_HOME"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int n;

	if (env && env[0]) {
		n = snprintf(out, outlen, "%s", env);
	} else if (xdg && xdg[0] == '/') {
		n = snprintf(out, outlen, "%s/fvm", xdg);
	} else if (home && home[0]) {
		n = snprintf(out, outlen, "%s/.local/share/fvm", home);
	} else {
		return -ENOENT;
	}
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}
