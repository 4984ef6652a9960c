/*
 * fuzz_minisig.c — minisign signature files (store/minisign.h), as fvm verify and the
 * feed's blob and feed signatures are read: the input parsed, and what parses checked
 * against a fixed public key over a fixed message.
 *
 * Invariants: no crash, no sanitizer report, no leak, for any bytes. A signature
 * accepted has a NUL-terminated trusted comment shorter than minisign's limit; the
 * verification returns one of its documented results, and never MS_OK (the input was
 * not made by the key's owner: a forgery would be a finding).
 */
#include "fuzz.h"

#include "store/minisign.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_init_messages();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A key whose secret half nobody has: 32 bytes of a fixed point, keynum 8 bytes. */
	static const struct ms_pubkey pk = {
		.keynum = {1, 2, 3, 4, 5, 6, 7, 8},
		.pk = {0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b,
		       0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1,
		       0x2a, 0xf4, 0x66, 0x0c},
	};
	static const char msg[] = "fvm fuzz message";
	struct ms_sig sig;
	const char *why;

	if (ms_sig_parse((const char *)data, size, &sig, &why) == 0) {
		FUZZ_CHECK(strlen(sig.trusted) < MS_TRUSTED_MAX);
		int v = ms_verify(&pk, &sig, msg, sizeof(msg) - 1, -1, false);
		FUZZ_CHECK(v == MS_ERR_KEY || v == MS_ERR_DATA || v == MS_ERR_COMMENT);
		v = ms_verify(&pk, &sig, msg, sizeof(msg) - 1, -1, true);
		FUZZ_CHECK(v != MS_OK && v != MS_ERR_IO);
	}
	return 0;
}
