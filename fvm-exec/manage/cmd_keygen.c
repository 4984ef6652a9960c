/*
 * cmd_keygen.c — fvm keygen [-o NAME] [--no-passphrase]: an Ed25519 key pair in
 * minisign's formats, NAME.key (secret, 0600) and NAME.pub (store/minisign.h); without
 * -o, fvm.key and fvm.pub in the store's key directory ($FVM_HOME/keys, 0700), which
 * every VM's view hides with the store.
 *
 * Rules: the secret key is encrypted with a passphrase (scrypt, as minisign does) unless
 * --no-passphrase; the passphrase comes from the terminal (asked twice), or one line
 * from the file descriptor $FVM_PASSPHRASE_FD for automation; existing files are never
 * replaced. With -o it needs no store; without, the store is made if need be.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "fvm/layout.h"
#include "store/minisign.h"

int cmd_keygen(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"no-passphrase", no_argument, NULL, 'W'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *name = NULL;
	bool nopass = false;
	char *pass = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:Wh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			name = optarg;
			break;
		case 'W':
			nopass = true;
			break;
		case 'h':
			cli_help("keygen", stdout);
			return 0;
		default:
			return cli_usage(NULL);
		}
	}
	if ((name && !*name) || optind != argc) {
		return cli_usage(optind != argc ? "no argument besides -o NAME" : "-o takes a NAME");
	}
	char dflt[PATH_MAX + 16];
	if (!name) {
		/* The store's key directory, hidden from every VM with the store. */
		struct fvm_store st;
		if (!s || store_init(&st, s->home) < 0) {
			return FVM_EXIT_STORE;
		}
		snprintf(dflt, sizeof(dflt), "%s/%s", st.home, FVM_KEYS_DIR);
		if (mkdir(dflt, 0700) < 0 && errno != EEXIST) {
			warn("%s", dflt);
			return FVM_EXIT_PARTIAL;
		}
		strcat(dflt, "/fvm");
		name = dflt;
	}
	if (sodium_init() < 0) {
		warnx("libsodium cannot start");
		return FVM_EXIT_PARTIAL;
	}
	if (!nopass) {
		pass = sodium_malloc(1024);
		if (!pass || ms_passphrase("Passphrase for the new secret key: ", true, pass, 1024) < 0) {
			if (pass) {
				sodium_free(pass);
			}
			return FVM_EXIT_PARTIAL;
		}
	}
	ret = ms_keygen(name, pass);
	if (pass) {
		sodium_free(pass);
	}
	if (ret < 0) {
		return FVM_EXIT_PARTIAL;
	}
	printf("secret key: %s.key (keep it secret%s)\npublic key: %s.pub\n", name,
	       nopass ? "; NOT encrypted" : "", name);
	return 0;
}
