/*
 * minisign.h — Ed25519 keys and signatures in minisign's formats (libsodium), for the
 * signed feeds of VMcasting (DESIGN.md "Delivery (VMcasting)"): fvm keygen, sign,
 * verify, and the feed's own signatures.
 *
 * Rules: what minisign writes, fvm reads, and the reverse (tests/e2e/t_vmcast.sh checks
 * both ways against Debian's minisign). A public key file: "untrusted comment: ..."
 * then base64("Ed" keynum[8] pk[32]). A secret key file: a comment, then base64("Ed"
 * kdf[2] "B2" salt[32] opslimit[8] memlimit[8] keynum[8] sk[64] chk[32]), kdf "Sc"
 * (scrypt; keynum..chk XORed with its output) or two NULs (not encrypted); chk is
 * BLAKE2b-256 of "Ed" keynum sk. A signature file: an untrusted comment, base64(alg[2]
 * keynum[8] sig[64]) with alg "ED" (the signature of BLAKE2b-512 of the file, the
 * default) or "Ed" (of the file itself, legacy), "trusted comment: TEXT", then
 * base64(the signature of sig[64] || TEXT). The parsers take bytes from anyone: they
 * are strict (exact lengths, base64 without slack, printable comments) and fuzzed.
 * Each failure is reported once, through *WHY (a static string) or warnx.
 */
#ifndef FVM_STORE_MINISIGN_H
#define FVM_STORE_MINISIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_KEYNUM 8
#define MS_PK 32
#define MS_SK 64
#define MS_SIG 64
#define MS_TRUSTED_MAX 8192  /* minisign's TRUSTEDCOMMENTMAXBYTES, prefix included */
#define MS_COMMENT_MAX 1024  /* minisign's COMMENTMAXBYTES, prefix included */
#define MS_FILE_MAX 16384    /* no key or signature file is larger */

struct ms_pubkey {
	uint8_t keynum[MS_KEYNUM];
	uint8_t pk[MS_PK];
};

/* A secret key as stored (every field bytes: no padding; 158 bytes). */
struct ms_seckey_raw {
	uint8_t sig_alg[2], kdf_alg[2], chk_alg[2];
	uint8_t salt[32], opslimit[8], memlimit[8];
	uint8_t keynum[MS_KEYNUM], sk[MS_SK], chk[32];
};

struct ms_sig {
	bool hashed;                   /* "ED": over BLAKE2b-512 of the file */
	uint8_t keynum[MS_KEYNUM];
	uint8_t sig[MS_SIG], global[MS_SIG];
	char trusted[MS_TRUSTED_MAX];  /* the trusted comment, without its prefix */
};

/* A public key file's text (LEN bytes). 0, or -1 with *WHY. */
int ms_pubkey_parse(const char *text, size_t len, struct ms_pubkey *pk, const char **why);

/* A secret key file's text, still encrypted when *ENCRYPTED. 0, or -1 with *WHY. */
int ms_seckey_parse(const char *text, size_t len, struct ms_seckey_raw *sk, bool *encrypted,
		    const char **why);

/*
 * Decrypts SK with PASS (scrypt with the file's salt and limits) and checks its
 * checksum and that its public half is its own. 0, or -1 with *WHY ("wrong
 * passphrase" when the checksum fails).
 */
int ms_seckey_decrypt(struct ms_seckey_raw *sk, const char *pass, const char **why);

/* A signature file's text. 0, or -1 with *WHY. */
int ms_sig_parse(const char *text, size_t len, struct ms_sig *sig, const char **why);

/* The key ID as minisign prints it: the keynum as a little-endian number, in upper-case
 * hex without leading zeros (1 to 16 digits: minisign's "%" PRIX64). */
void ms_keyid(const uint8_t keynum[MS_KEYNUM], char out[17]);

/*
 * A new key pair written as DIR-relative-or-absolute NAME.key (0600, O_EXCL) and
 * NAME.pub (0644, O_EXCL); PASS NULL leaves the secret key unencrypted. 0 or -1
 * (reported).
 */
int ms_keygen(const char *name, const char *pass);

/*
 * Loads the secret key file PATH: refused when it is not a regular file, is readable
 * or writable by group or others, or is not the caller's; decrypted with a passphrase
 * (ms_passphrase) when it is encrypted. 0 or -1 (reported). Wipe *SK after use.
 */
int ms_seckey_load(const char *path, struct ms_seckey_raw *sk);

/* Loads the public key file PATH. 0 or -1 (reported). */
int ms_pubkey_load(const char *path, struct ms_pubkey *pk);

/*
 * A passphrase into BUF (LEN bytes): one line from the file descriptor named by
 * $FVM_PASSPHRASE_FD when set (automation), else from the terminal without echo,
 * asked twice when CONFIRM. 0 or -1 (reported: no terminal, mismatch, empty).
 */
int ms_passphrase(const char *prompt, bool confirm, char *buf, size_t len);

/*
 * The signature file text of the LEN bytes at DATA (or the file FD when DATA is NULL)
 * under SK: prehashed unless LEGACY, with the comments given (minisign's defaults for
 * NULL; FILE names the file in the default trusted comment). Malloc'd into *OUT. 0 or
 * -1 (reported).
 */
int ms_sign(const struct ms_seckey_raw *sk, const void *data, size_t len, int fd, bool legacy,
	    const char *file, const char *untrusted, const char *trusted, char **out);

/*
 * Checks SIG against PK over the LEN bytes at DATA (or the file FD when DATA is NULL).
 * Return values are distinct causes: 0 valid; MS_ERR_KEY signed by another key (key
 * IDs differ); MS_ERR_DATA the signature does not match the data (changed, or a forged
 * key ID); MS_ERR_COMMENT the trusted comment was changed; MS_ERR_LEGACY a legacy
 * signature when PREHASHED_ONLY; MS_ERR_IO the file could not be read (errno).
 */
enum { MS_OK = 0, MS_ERR_KEY = 1, MS_ERR_DATA, MS_ERR_COMMENT, MS_ERR_LEGACY, MS_ERR_IO };
int ms_verify(const struct ms_pubkey *pk, const struct ms_sig *sig, const void *data, size_t len,
	      int fd, bool prehashed_only);

#endif
