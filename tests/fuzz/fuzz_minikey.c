/*
 * fuzz_minikey.c — minisign key files (store/minisign.h): the input parsed as a public
 * key and as a secret key, as fvm verify, fvm sign and a subscription read them.
 *
 * Invariants: no crash, no sanitizer report, no leak, for any bytes. A secret key
 * accepted has algorithm Ed, checksum B2, and a key derivation of Sc (within the limits
 * checked) or none. (Decryption is scrypt with the file's limits: not fuzzed, too slow.)
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
	struct ms_pubkey pk;
	struct ms_seckey_raw sk;
	const char *why;
	bool enc;
	char id[17];

	if (ms_pubkey_parse((const char *)data, size, &pk, &why) == 0) {
		ms_keyid(pk.keynum, id);
		FUZZ_CHECK(strlen(id) >= 1 && strlen(id) <= 16 && strspn(id, "0123456789ABCDEF") == strlen(id));
	}
	if (ms_seckey_parse((const char *)data, size, &sk, &enc, &why) == 0) {
		FUZZ_CHECK(memcmp(sk.sig_alg, "Ed", 2) == 0 && memcmp(sk.chk_alg, "B2", 2) == 0);
		FUZZ_CHECK(enc ? memcmp(sk.kdf_alg, "Sc", 2) == 0 : memcmp(sk.kdf_alg, "\0\0", 2) == 0);
	}
	return 0;
}
