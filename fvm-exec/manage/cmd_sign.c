/*
 * cmd_sign.c — fvm sign FILE --key K and fvm verify FILE --pub P: minisign-format
 * signatures of a file (store/minisign.h), what the feed uses for its blobs and itself.
 *
 *   fvm sign FILE --key K [-x SIG] [--legacy] [-t TRUSTED] [-c UNTRUSTED]
 *   fvm verify FILE --pub P [-x SIG] [--prehashed-only] [-q]
 *
 * Rules: SIG defaults to FILE.minisig, written to a temporary beside it and renamed
 * (never half a signature); sign checks its signature with the key's public half
 * before writing; verify's refusals are distinct (wrong key, file changed, trusted
 * comment changed, legacy refused), each naming the files, exit 1.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "store/minisign.h"
#include "store/replace.h"

static int open_file(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		warn("%s", file);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		warnx("%s: not a regular file", file);
		close(fd);
		return -1;
	}
	return fd;
}

/* TEXT into PATH through a temporary beside it, renamed over it (replace.h). */
static int write_replace(const char *path, const char *text)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dfd, r;

	if (slash && (size_t)(slash - path) >= sizeof(dir)) {
		warnx("%s: path too long", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1, slash ? path : ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		warn("%s", dir);
		return -1;
	}
	r = replace_write(dfd, slash ? slash + 1 : path, text, strlen(text), 0644);
	close(dfd);
	if (r < 0) {
		warnx("%s: %s", path, strerror(-r));
		return -1;
	}
	return 0;
}

int cmd_sign(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"sig", required_argument, NULL, 'x'},
		{"legacy", no_argument, NULL, 'l'},
		{"trusted-comment", required_argument, NULL, 't'},
		{"comment", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	const char *key = NULL, *sigpath = NULL, *trusted = NULL, *untrusted = NULL;
	bool legacy = false;
	char *deflt = NULL, *text = NULL;
	struct ms_seckey_raw *sk;
	struct ms_pubkey pk;
	struct ms_sig sig;
	const char *why;
	int c, fd, ret = FVM_EXIT_PARTIAL;

	while ((c = getopt_long(argc, argv, "k:x:lt:c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'x': sigpath = optarg; break;
		case 'l': legacy = true; break;
		case 't': trusted = optarg; break;
		case 'c': untrusted = optarg; break;
		default:
			goto usage;
		}
	}
	if (!key || optind + 1 != argc) {
		return cli_usage(!key ? "--key K is needed" : "one FILE is needed");
	}
	const char *file = argv[optind];
	if (!sigpath) {
		if (asprintf(&deflt, "%s.minisig", file) < 0) {
			warn("sign");
			return FVM_EXIT_PARTIAL;
		}
		sigpath = deflt;
	}
	if (sodium_init() < 0 || !(sk = sodium_malloc(sizeof(*sk)))) {
		warnx("libsodium cannot start");
		free(deflt);
		return FVM_EXIT_PARTIAL;
	}
	char kbuf[PATH_MAX + 32];
	key = cli_key_file(s, key, ".key", kbuf, sizeof(kbuf));
	if (ms_seckey_load(key, sk) < 0) {
		goto out;
	}
	if ((fd = open_file(file)) < 0) {
		goto out;
	}
	if (ms_sign(sk, NULL, 0, fd, legacy, file, untrusted, trusted, &text) < 0) {
		close(fd);
		goto out;
	}
	/* The signature checked with the key's own public half before it is written. */
	memcpy(pk.keynum, sk->keynum, MS_KEYNUM);
	memcpy(pk.pk, sk->sk + 32, MS_PK);
	lseek(fd, 0, SEEK_SET);
	if (ms_sig_parse(text, strlen(text), &sig, &why) < 0 ||
	    ms_verify(&pk, &sig, NULL, 0, fd, false) != MS_OK) {
		warnx("%s: the signature made does not verify (the file changed while read?)", file);
		close(fd);
		goto out;
	}
	close(fd);
	if (write_replace(sigpath, text) == 0) {
		ret = 0;
	}
out:
	sodium_free(sk);
	free(text);
	free(deflt);
	return ret;
usage:
	return cli_usage(NULL);
}

int cmd_verify(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"pub", required_argument, NULL, 'p'},
		{"sig", required_argument, NULL, 'x'},
		{"prehashed-only", no_argument, NULL, 'H'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	const char *pub = NULL, *sigpath = NULL, *why;
	bool prehashed = false, quiet = false;
	char *deflt = NULL, *text = NULL;
	struct ms_pubkey pk;
	struct ms_sig sig;
	char kid[17], sid[17];
	int c, fd, ret = FVM_EXIT_PARTIAL;

	while ((c = getopt_long(argc, argv, "p:x:Hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': pub = optarg; break;
		case 'x': sigpath = optarg; break;
		case 'H': prehashed = true; break;
		case 'q': quiet = true; break;
		default:
			goto usage;
		}
	}
	if (!pub || optind + 1 != argc) {
		return cli_usage(!pub ? "--pub P is needed" : "one FILE is needed");
	}
	const char *file = argv[optind];
	if (!sigpath) {
		if (asprintf(&deflt, "%s.minisig", file) < 0) {
			warn("verify");
			return FVM_EXIT_PARTIAL;
		}
		sigpath = deflt;
	}
	char pbuf[PATH_MAX + 32];
	pub = cli_key_file(s, pub, ".pub", pbuf, sizeof(pbuf));
	if (ms_pubkey_load(pub, &pk) < 0) {
		goto out;
	}
	int sfd = open_file(sigpath);
	if (sfd < 0) {
		goto out;
	}
	text = malloc(MS_FILE_MAX + 1);
	ssize_t n = text ? read(sfd, text, MS_FILE_MAX + 1) : -1;
	close(sfd);
	if (n < 0 || n > MS_FILE_MAX) {
		warnx("%s: unreadable or too large for a signature", sigpath);
		goto out;
	}
	if (ms_sig_parse(text, (size_t)n, &sig, &why) < 0) {
		warnx("%s: %s", sigpath, why);
		goto out;
	}
	if ((fd = open_file(file)) < 0) {
		goto out;
	}
	int v = ms_verify(&pk, &sig, NULL, 0, fd, prehashed);
	close(fd);
	ms_keyid(pk.keynum, kid);
	ms_keyid(sig.keynum, sid);
	switch (v) {
	case MS_OK:
		if (!quiet) {
			printf("Signature and comment signature verified\nTrusted comment: %s\n", sig.trusted);
		}
		ret = 0;
		break;
	case MS_ERR_KEY:
		warnx("%s: wrong key: signed by key %s, and %s is key %s", sigpath, sid, pub, kid);
		break;
	case MS_ERR_DATA:
		warnx("%s: signature verification failed: the file is not what key %s signed "
		      "(changed or corrupt)", file, kid);
		break;
	case MS_ERR_COMMENT:
		warnx("%s: the trusted comment's signature fails: the trusted comment was changed", sigpath);
		break;
	case MS_ERR_LEGACY:
		warnx("%s: a legacy (Ed, not prehashed) signature, refused by --prehashed-only", sigpath);
		break;
	default:
		warn("%s", file);
		break;
	}
out:
	free(text);
	free(deflt);
	return ret;
usage:
	return cli_usage(NULL);
}
