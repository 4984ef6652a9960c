/*
 * migrate.c — fvm migrate: a store of format 1 or 2 converted to format 3 (store.h,
 * fvm/layout.h).
 *
 * Rules:
 *  - Format 2 to 3 adds the store's layers/ directory (empty: every VM has no layers,
 *    which is what a missing ctl/NAME/layers says) and then the format file.
 *  - In format 1, vm.conf, policy, lock and commit.journal lived in vms/NAME, where the
 *    VM could write them. They are untrusted: read as bounded regular files (a link, a
 *    FIFO or a device refuses the VM, named), and each vm.conf's settings are printed on
 *    stderr, so the person converting sees what a VM could have planted before the next
 *    run obeys it. The policy and the lock are not carried: fvm-exec writes the policy
 *    again on every run, and a lock holds no data.
 *  - A VM is converted whole or not at all: its control area is built as
 *    ctl/.new.NAME.RANDOM and renamed to ctl/NAME; only then are the old files removed
 *    from the data area. A VM whose ctl/NAME exists is converted already.
 *  - The format file is written last, once every VM is converted.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "store/replace.h"
#include "store/safefs.h"
#include "store/store.h"

/* The old control files: carried (true) or dropped. */
static const struct {
	const char *name;
	size_t max;
	bool carried;
} old_files[] = {
	{FVM_VMCONF_FILE, SAFE_MAX_CONF, true},
	{FVM_JOURNAL_FILE, SAFE_MAX_JOURNAL, true},
	{FVM_POLICY_FILE, 0, false},
	{FVM_LOCK_FILE, 0, false},
};

/* Names the settings of vm.conf TEXT of VM NAME on stderr. */
static void say_settings(const char *name, const char *text)
{
	fprintf(stderr, "fvm: VM %s: its vm.conf was in a place the VM could write; it sets:", name);
	for (const char *p = text; *p;) {
		size_t l = strcspn(p, "\n"), k = strspn(p, " \t");
		const char *eq = memchr(p, '=', l);
		if (p[k] != '#' && k < l && eq && eq[1 + strspn(eq + 1, " \t")] != '\n') {
			fprintf(stderr, "\n  %.*s", (int)(l - k), p + k);
		}
		p += l + (p[l] != '\0');
	}
	fprintf(stderr, "\nfvm: check these (fvm info %s) before the VM runs again\n", name);
}

/* Converts VM NAME (data area DFD) into the control areas' directory CTLSFD. */
static int migrate_vm(const char *home, int ctlsfd, int dfd, const char *name)
{
	char tmp[NAME_MAX + 1], rnd[17];
	struct stat st;
	int cfd, ret = 0;

	if (fstatat(ctlsfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if ((ret = safe_random_hex(rnd)) < 0) {
			return ret;
		}
		snprintf(tmp, sizeof(tmp), ".new.%.64s.%s", name, rnd);
		if (mkdirat(ctlsfd, tmp, FVM_MODE_CTL) < 0 || (cfd = safe_open_dir(ctlsfd, tmp)) < 0) {
			return -errno;
		}
		for (size_t i = 0; ret == 0 && i < sizeof(old_files) / sizeof(old_files[0]); i++) {
			char *text;
			size_t len;
			if (!old_files[i].carried) {
				continue;
			}
			ret = safe_read_file(dfd, old_files[i].name, old_files[i].max, &text, &len);
			if (ret == -ENOENT) {
				ret = 0;
				continue;
			}
			if (ret < 0) {
				warnx("%s/%s/%s/%s: %s", home, FVM_VMS_DIR, name, old_files[i].name, safe_strerror(ret));
				break;
			}
			if (strcmp(old_files[i].name, FVM_VMCONF_FILE) == 0) {
				say_settings(name, text);
			}
			struct replace r;
			if ((ret = replace_open(&r, cfd, old_files[i].name, 0600)) == 0) {
				fwrite(text, 1, len, r.f);
				ret = replace_commit(&r);
			}
			free(text);
		}
		close(cfd);
		if (ret == 0 && renameat(ctlsfd, tmp, ctlsfd, name) < 0) {
			ret = -errno;
		}
		if (ret < 0) {
			safe_rm_tree(ctlsfd, tmp, NULL, NULL);
			return ret;
		}
	}
	/* Converted: the old files go (a link among them is removed, never followed). */
	for (size_t i = 0; i < sizeof(old_files) / sizeof(old_files[0]); i++) {
		if ((ret = safe_rm_tree(dfd, old_files[i].name, NULL, NULL)) < 0) {
			return ret;
		}
	}
	fchmod(dfd, FVM_MODE_DATA);
	int wfd = safe_open_dir(dfd, FVM_WORK_DIR);
	if (wfd >= 0) {
		fchmod(wfd, FVM_MODE_WORK);
		close(wfd);
	}
	return 0;
}

/* The version in the format file of HOMEFD, or -1 when it is not a format file. */
static int format_version(int homefd)
{
	char *text, word[32];
	size_t len;
	unsigned version;
	int n = 0, ok;

	if (safe_read_file(homefd, FVM_FORMAT_FILE, 64, &text, &len) < 0) {
		return -1;
	}
	ok = sscanf(text, "%31s %u\n%n", word, &version, &n) == 2 &&
	     strcmp(word, FVM_FORMAT_MAGIC) == 0 && (size_t)n == len;
	free(text);
	return ok ? (int)version : -1;
}

/* Format 2 to 3: layers/, then the format file. */
static int from_format2(const struct fvm_store *s, int homefd)
{
	char text[64];
	struct replace r;
	int ret = 0;

	if (mkdirat(homefd, FVM_LAYERS_DIR, FVM_MODE_LAYERS) < 0 && errno != EEXIST) {
		ret = -errno;
	}
	if (ret == 0) {
		fchmodat(homefd, FVM_LAYERS_DIR, FVM_MODE_LAYERS, 0);
		snprintf(text, sizeof(text), "%s %d\n", FVM_FORMAT_MAGIC, FVM_FORMAT);
		ret = replace_open(&r, homefd, FVM_FORMAT_FILE, 0644);
	}
	if (ret == 0) {
		fputs(text, r.f);
		ret = replace_commit(&r);
	}
	if (ret < 0) {
		warnx("%s: %s", s->home, strerror(-ret));
		return -1;
	}
	fprintf(stderr, "fvm: %s converted from store format 2 to %d (layers)\n", s->home, FVM_FORMAT);
	return 0;
}

int store_migrate(const struct fvm_store *s)
{
	int homefd, vmsfd = -1, ctlsfd = -1, failed = 0;
	char text[64];
	struct dirent *e;
	DIR *d = NULL;

	if ((homefd = open(s->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		warn("%s", s->home);
		return -1;
	}
	if (fstatat(homefd, FVM_FORMAT_FILE, &(struct stat){0}, AT_SYMLINK_NOFOLLOW) == 0) {
		int ret = format_version(homefd);
		if (ret == 2) {
			ret = from_format2(s, homefd);
			close(homefd);
			return ret;
		}
		close(homefd);
		return store_check_format(s) < 0 ? -1 : (fprintf(stderr, "fvm: %s is format %d already\n", s->home, FVM_FORMAT), 0);
	}
	if (mkdirat(homefd, FVM_CTL_DIR, FVM_MODE_CTL) < 0 && errno != EEXIST) {
		warn("%s/%s", s->home, FVM_CTL_DIR);
		close(homefd);
		return -1;
	}
	ctlsfd = safe_open_dir(homefd, FVM_CTL_DIR);
	vmsfd = safe_open_dir(homefd, FVM_VMS_DIR);
	if (ctlsfd < 0 || (vmsfd < 0 && vmsfd != -ENOENT) ||
	    (vmsfd >= 0 && !(d = fdopendir(dup(vmsfd))))) {
		warnx("%s: %s", s->home, safe_strerror(ctlsfd < 0 ? ctlsfd : vmsfd < 0 ? vmsfd : -errno));
		failed = 1;
	}
	while (d && (e = readdir(d))) {
		int dfd, ret;
		if (!fvm_vm_name_valid(e->d_name)) {
			continue;
		}
		if ((dfd = safe_open_dir(vmsfd, e->d_name)) < 0) {
			warnx("%s/%s/%s: %s", s->home, FVM_VMS_DIR, e->d_name, safe_strerror(dfd));
			failed = 1;
			continue;
		}
		ret = migrate_vm(s->home, ctlsfd, dfd, e->d_name);
		close(dfd);
		if (ret < 0) {
			warnx("VM %s not converted: %s", e->d_name, safe_strerror(ret));
			failed = 1;
		} else {
			fprintf(stderr, "fvm: VM %s converted to store format %d\n", e->d_name, FVM_FORMAT);
		}
	}
	if (d) {
		closedir(d);
	}
	if (!failed && mkdirat(homefd, FVM_LAYERS_DIR, FVM_MODE_LAYERS) < 0 && errno != EEXIST) {
		warn("%s/%s", s->home, FVM_LAYERS_DIR);
		failed = 1;
	}
	if (!failed) {
		struct replace r;
		int ret;
		fchmodat(homefd, FVM_LAYERS_DIR, FVM_MODE_LAYERS, 0);
		snprintf(text, sizeof(text), "%s %d\n", FVM_FORMAT_MAGIC, FVM_FORMAT);
		fchmod(homefd, FVM_MODE_HOME);
		if (vmsfd >= 0) {
			fchmod(vmsfd, FVM_MODE_DATA);
		}
		if ((ret = replace_open(&r, homefd, FVM_FORMAT_FILE, 0644)) == 0) {
			fputs(text, r.f);
			ret = replace_commit(&r);
		}
		if (ret < 0) {
			warnx("%s/%s: %s", s->home, FVM_FORMAT_FILE, strerror(-ret));
			failed = 1;
		}
	}
	for (int *fd = (int[]){homefd, vmsfd, ctlsfd}, i = 0; i < 3; i++) {
		if (fd[i] >= 0) {
			close(fd[i]);
		}
	}
	return failed ? -1 : 0;
}
