/*
 * minisign.c — Ed25519 keys and signatures in minisign's formats (minisign.h).
 *
 * Rules: libsodium does the cryptography (crypto_sign_*, crypto_generichash = BLAKE2b,
 * crypto_pwhash_scryptsalsa208sha256 with minisign's "sensitive" limits, halved while
 * memory is short, as minisign does); secrets live in sodium_malloc'd or wiped memory;
 * key files are written with O_EXCL, never over an existing one; a secret key file
 * group or others can read is refused before it is read.
 */
#include "store/minisign.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "

_Static_assert(sizeof(struct ms_seckey_raw) == 158, "minisign's secret key layout");

static void le64_store(uint8_t *p, uint64_t x)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(x >> (8 * i));
	}
}

static uint64_t le64_load(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--) {
		x = x << 8 | p[i];
	}
	return x;
}

void ms_keyid(const uint8_t keynum[MS_KEYNUM], char out[17])
{
	snprintf(out, 17, "%" PRIX64, le64_load(keynum)); /* no leading zeros, as minisign */
}

static int sodium_ready(void)
{
	if (sodium_init() < 0) {
		warnx("libsodium cannot start");
		return -1;
	}
	return 0;
}

/*
 * The next line of TEXT from *POS: its start and length without "\n" or "\r\n". False
 * at the end. A NUL byte ends nothing: it is part of the line (and refused later).
 */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	if (*pos >= len) {
		return false;
	}
	const char *s = text + *pos, *nl = memchr(s, '\n', len - *pos);
	size_t l = nl ? (size_t)(nl - s) : len - *pos;

	*pos += l + (nl ? 1 : 0);
	if (l > 0 && s[l - 1] == '\r') {
		l--;
	}
	*line = s;
	*n = l;
	return true;
}

/* Only empty lines left after *POS. */
static bool rest_empty(const char *text, size_t len, size_t pos)
{
	const char *l;
	size_t n;

	while (next_line(text, len, &pos, &l, &n)) {
		if (n) {
			return false;
		}
	}
	return true;
}

/* Exactly WANT bytes from the base64 (with padding) LINE of N characters. */
static bool b64_exact(const char *line, size_t n, void *out, size_t want)
{
	size_t got;
	const char *end;

	if (n == 0 || n > 4 * ((want + 2) / 3)) {
		return false;
	}
	return sodium_base642bin(out, want, line, n, NULL, &got, &end,
				 sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       end == line + n && got == want;
}

/* minisign's is_printable: UTF-8 without control characters (a tab allowed). */
static bool printable(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	while (p < e) {
		unsigned c = *p++, need, cp;
		if (c == '\t' || (c >= 0x20 && c <= 0x7e)) {
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
		} else {
			return false;
		}
		if ((size_t)(e - p) < need) {
			return false;
		}
		for (unsigned i = 0; i < need; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				return false;
			}
		}
		if ((c == 0xe0 && p[0] < 0xa0) || (c == 0xed && p[0] > 0x9f) ||
		    (c == 0xf0 && p[0] < 0x90) || (c == 0xf4 && p[0] > 0x8f)) {
			return false;
		}
		cp = c & (need == 1 ? 0x1f : need == 2 ? 0x0f : 0x07);
		for (unsigned i = 0; i < need; i++) {
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp >= 0x7f && cp <= 0x9f) {
			return false;
		}
		p += need;
	}
	return true;
}

/* The first line: "untrusted comment: ...", printable, within minisign's limit. */
static bool comment_line(const char *text, size_t len, size_t *pos)
{
	const char *l;
	size_t n;

	return next_line(text, len, pos, &l, &n) && n >= sizeof(COMMENT_PREFIX) - 1 &&
	       n < MS_COMMENT_MAX && memcmp(l, COMMENT_PREFIX, sizeof(COMMENT_PREFIX) - 1) == 0 &&
	       printable(l, n);
}

int ms_pubkey_parse(const char *text, size_t len, struct ms_pubkey *pk, const char **why)
{
	uint8_t raw[2 + MS_KEYNUM + MS_PK];
	size_t pos = 0, n;
	const char *l;

	if (!comment_line(text, len, &pos)) {
		*why = "not a minisign public key (no \"untrusted comment:\" line)";
		return -1;
	}
	if (!next_line(text, len, &pos, &l, &n) || !b64_exact(l, n, raw, sizeof(raw))) {
		*why = "not a minisign public key (its second line is not 42 bytes of base64)";
		return -1;
	}
	if (memcmp(raw, "Ed", 2) != 0) {
		*why = "unsupported public key algorithm (not Ed)";
		return -1;
	}
	if (!rest_empty(text, len, pos)) {
		*why = "text after the public key";
		return -1;
	}
	memcpy(pk->keynum, raw + 2, MS_KEYNUM);
	memcpy(pk->pk, raw + 2 + MS_KEYNUM, MS_PK);
	return 0;
}

int ms_seckey_parse(const char *text, size_t len, struct ms_seckey_raw *sk, bool *encrypted,
		    const char **why)
{
	size_t pos = 0, n;
	const char *l;

	if (!comment_line(text, len, &pos)) {
		*why = "not a minisign secret key (no \"untrusted comment:\" line)";
		return -1;
	}
	if (!next_line(text, len, &pos, &l, &n) || !b64_exact(l, n, sk, sizeof(*sk))) {
		*why = "not a minisign secret key (its second line is not 158 bytes of base64)";
		return -1;
	}
	if (!rest_empty(text, len, pos)) {
		*why = "text after the secret key";
		return -1;
	}
	if (memcmp(sk->sig_alg, "Ed", 2) != 0) {
		*why = "unsupported secret key algorithm (not Ed)";
		return -1;
	}
	if (memcmp(sk->chk_alg, "B2", 2) != 0) {
		*why = "unsupported secret key checksum (not B2)";
		return -1;
	}
	if (memcmp(sk->kdf_alg, "Sc", 2) == 0) {
		uint64_t ops = le64_load(sk->opslimit), mem = le64_load(sk->memlimit);
		/* Limits beyond minisign's own (4 GiB, 2^32) are a key made to exhaust us. */
		if (ops < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN || ops > (1ULL << 32) ||
		    mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN || mem > (4ULL << 30)) {
			*why = "the secret key's scrypt limits are out of range";
			return -1;
		}
		*encrypted = true;
	} else if (memcmp(sk->kdf_alg, "\0\0", 2) == 0) {
		*encrypted = false;
	} else {
		*why = "unsupported key derivation (neither Sc nor none)";
		return -1;
	}
	return 0;
}

static void seckey_chk(const struct ms_seckey_raw *sk, uint8_t chk[32])
{
	crypto_generichash_state hs;

	crypto_generichash_init(&hs, NULL, 0, 32);
	crypto_generichash_update(&hs, sk->sig_alg, 2);
	crypto_generichash_update(&hs, sk->keynum, MS_KEYNUM);
	crypto_generichash_update(&hs, sk->sk, MS_SK);
	crypto_generichash_final(&hs, chk, 32);
}

/* The scrypt stream XORed over keynum, sk and chk (encrypts and decrypts). */
static int seckey_xor(struct ms_seckey_raw *sk, const char *pass)
{
	enum { N = MS_KEYNUM + MS_SK + 32 };
	uint8_t *stream = sodium_malloc(N), *p = sk->keynum;

	_Static_assert(offsetof(struct ms_seckey_raw, chk) + 32 - offsetof(struct ms_seckey_raw, keynum) == N,
		       "keynum, sk, chk adjacent");
	if (!stream) {
		return -1;
	}
	if (crypto_pwhash_scryptsalsa208sha256(stream, N, pass, strlen(pass), sk->salt,
					       le64_load(sk->opslimit), le64_load(sk->memlimit)) != 0) {
		sodium_free(stream);
		return -1;
	}
	for (size_t i = 0; i < N; i++) {
		p[i] ^= stream[i];
	}
	sodium_free(stream);
	return 0;
}

/* The checksum, when there is one, and the public half of sk matching its secret. */
static int seckey_check(const struct ms_seckey_raw *sk, bool need_chk, const char **why)
{
	static const uint8_t zero[32];
	uint8_t chk[32], pk[MS_PK], seed[32], sk2[MS_SK];

	seckey_chk(sk, chk);
	if ((need_chk || sodium_memcmp(sk->chk, zero, 32) != 0) && sodium_memcmp(chk, sk->chk, 32) != 0) {
		*why = need_chk ? "wrong passphrase (the secret key's checksum fails)"
				: "the secret key's checksum fails (corrupt key)";
		return -1;
	}
	crypto_sign_ed25519_sk_to_seed(seed, sk->sk);
	crypto_sign_seed_keypair(pk, sk2, seed);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk2, sizeof(sk2));
	if (memcmp(pk, sk->sk + 32, MS_PK) != 0) {
		*why = "the secret key is corrupt (its public half does not match)";
		return -1;
	}
	return 0;
}

int ms_seckey_decrypt(struct ms_seckey_raw *sk, const char *pass, const char **why)
{
	if (sodium_ready() < 0) {
		*why = "libsodium cannot start";
		return -1;
	}
	if (seckey_xor(sk, pass) < 0) {
		*why = "the key derivation failed (out of memory?)";
		return -1;
	}
	return seckey_check(sk, true, why);
}

int ms_sig_parse(const char *text, size_t len, struct ms_sig *sig, const char **why)
{
	uint8_t raw[2 + MS_KEYNUM + MS_SIG];
	size_t pos = 0, n, tp = sizeof(TRUSTED_PREFIX) - 1;
	const char *l;

	if (!comment_line(text, len, &pos)) {
		*why = "not a minisign signature (no \"untrusted comment:\" line)";
		return -1;
	}
	if (!next_line(text, len, &pos, &l, &n) || !b64_exact(l, n, raw, sizeof(raw))) {
		*why = "not a minisign signature (its second line is not 74 bytes of base64)";
		return -1;
	}
	if (memcmp(raw, "ED", 2) == 0) {
		sig->hashed = true;
	} else if (memcmp(raw, "Ed", 2) == 0) {
		sig->hashed = false;
	} else {
		*why = "unsupported signature algorithm (neither ED nor Ed)";
		return -1;
	}
	memcpy(sig->keynum, raw + 2, MS_KEYNUM);
	memcpy(sig->sig, raw + 2 + MS_KEYNUM, MS_SIG);
	if (!next_line(text, len, &pos, &l, &n) || n < tp || memcmp(l, TRUSTED_PREFIX, tp) != 0) {
		*why = "no \"trusted comment:\" line in the signature";
		return -1;
	}
	if (n - tp >= MS_TRUSTED_MAX - tp - 1 || !printable(l + tp, n - tp) ||
	    memchr(l + tp, '\0', n - tp)) {
		*why = "the trusted comment is too long or not printable";
		return -1;
	}
	memcpy(sig->trusted, l + tp, n - tp);
	sig->trusted[n - tp] = '\0';
	if (!next_line(text, len, &pos, &l, &n) || !b64_exact(l, n, sig->global, MS_SIG)) {
		*why = "no global signature (64 bytes of base64) after the trusted comment";
		return -1;
	}
	if (!rest_empty(text, len, pos)) {
		*why = "text after the signature";
		return -1;
	}
	return 0;
}

/* A file read whole, at most MS_FILE_MAX bytes; malloc'd, NUL-terminated. */
static char *read_small(int fd, const char *path, size_t *len)
{
	char *buf = malloc(MS_FILE_MAX + 1);
	size_t n = 0;
	ssize_t r;

	if (!buf) {
		warn("%s", path);
		return NULL;
	}
	while ((r = read(fd, buf + n, MS_FILE_MAX + 1 - n)) > 0) {
		n += (size_t)r;
		if (n > MS_FILE_MAX) {
			warnx("%s: too large for a minisign file", path);
			free(buf);
			return NULL;
		}
	}
	if (r < 0) {
		warn("%s", path);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int ms_pubkey_load(const char *path, struct ms_pubkey *pk)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	const char *why;
	struct stat st;
	size_t len;
	char *text;

	if (fd < 0) {
		warn("public key %s", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		warnx("public key %s: not a regular file", path);
		close(fd);
		return -1;
	}
	text = read_small(fd, path, &len);
	close(fd);
	if (!text) {
		return -1;
	}
	int ret = ms_pubkey_parse(text, len, pk, &why);
	free(text);
	if (ret < 0) {
		warnx("public key %s: %s", path, why);
	}
	return ret;
}

/* One line from FD, byte by byte (nothing read past it). */
static int read_line_fd(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;
	ssize_t r;

	while ((r = read(fd, &c, 1)) == 1 && c != '\n') {
		if (n + 1 >= len) {
			return -1;
		}
		buf[n++] = c;
	}
	if (r < 0) {
		return -1;
	}
	if (n > 0 && buf[n - 1] == '\r') {
		n--;
	}
	buf[n] = '\0';
	return 0;
}

static int tty_ask(int tty, const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	int ret;

	if (tcgetattr(tty, &old) < 0) {
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	dprintf(tty, "%s", prompt);
	if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0) {
		return -1;
	}
	ret = read_line_fd(tty, buf, len);
	tcsetattr(tty, TCSAFLUSH, &old);
	return ret;
}

int ms_passphrase(const char *prompt, bool confirm, char *buf, size_t len)
{
	const char *env = getenv("FVM_PASSPHRASE_FD");

	if (env && *env) {
		char *end;
		long fd = strtol(env, &end, 10);
		if (*end || fd < 0 || fd > 65535) {
			warnx("FVM_PASSPHRASE_FD=%s: not a file descriptor number", env);
			return -1;
		}
		if (read_line_fd((int)fd, buf, len) < 0) {
			warnx("FVM_PASSPHRASE_FD=%s: cannot read a passphrase line from it", env);
			return -1;
		}
	} else {
		int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (tty < 0) {
			warnx("no terminal to ask the passphrase on: give it on a file descriptor "
			      "named by FVM_PASSPHRASE_FD, or make the key with --no-passphrase");
			return -1;
		}
		char *again = sodium_malloc(len);
		int ret = again ? tty_ask(tty, prompt, buf, len) : -1;
		if (ret == 0 && confirm) {
			ret = tty_ask(tty, "Passphrase (again): ", again, len);
			if (ret == 0 && strcmp(buf, again) != 0) {
				close(tty);
				sodium_free(again);
				warnx("the passphrases differ");
				return -1;
			}
		}
		close(tty);
		if (again) {
			sodium_free(again);
		}
		if (ret < 0) {
			warnx("cannot read the passphrase from the terminal");
			return -1;
		}
	}
	if (!*buf) {
		warnx("empty passphrase refused (use --no-passphrase for an unencrypted key)");
		return -1;
	}
	return 0;
}

int ms_seckey_load(const char *path, struct ms_seckey_raw *sk)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	const char *why;
	struct stat st;
	bool enc;
	size_t len;
	char *text;

	if (sodium_ready() < 0) {
		return -1;
	}
	if (fd < 0) {
		warn("secret key %s", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		warnx("secret key %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		warnx("secret key %s: refused: group or others may access it (mode %04o); "
		      "chmod 600 it, and make a new key if others could have read it",
		      path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		warnx("secret key %s: refused: owned by uid %u, not by you", path, (unsigned)st.st_uid);
		close(fd);
		return -1;
	}
	text = read_small(fd, path, &len);
	close(fd);
	if (!text) {
		return -1;
	}
	int ret = ms_seckey_parse(text, len, sk, &enc, &why);
	sodium_memzero(text, len);
	free(text);
	if (ret == 0 && enc) {
		char *pass = sodium_malloc(1024);
		if (!pass || ms_passphrase("Passphrase for the secret key: ", false, pass, 1024) < 0) {
			if (pass) {
				sodium_free(pass);
			}
			sodium_memzero(sk, sizeof(*sk));
			return -1;
		}
		ret = ms_seckey_decrypt(sk, pass, &why);
		sodium_free(pass);
	} else if (ret == 0) {
		ret = seckey_check(sk, false, &why);
	}
	if (ret < 0) {
		sodium_memzero(sk, sizeof(*sk));
		warnx("secret key %s: %s", path, why);
	}
	return ret;
}

/* Writes TEXT to PATH, which must not exist, with MODE. */
static int write_new(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	size_t len = strlen(text), done = 0;

	if (fd < 0) {
		warn("%s", path);
		return -1;
	}
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w <= 0) {
			warn("%s", path);
			close(fd);
			unlink(path);
			return -1;
		}
		done += (size_t)w;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		warn("%s", path);
		unlink(path);
		return -1;
	}
	return 0;
}

/* "PREFIX" + base64(BIN) + "\n" appended to OUT (size LEN). */
static void put_b64(char *out, size_t len, const void *bin, size_t n)
{
	size_t l = strlen(out);

	sodium_bin2base64(out + l, len - l, bin, n, sodium_base64_VARIANT_ORIGINAL);
	l = strlen(out);
	if (l + 1 < len) {
		out[l] = '\n';
		out[l + 1] = '\0';
	}
}

int ms_keygen(const char *name, const char *pass)
{
	struct ms_seckey_raw *sk;
	uint8_t pubraw[2 + MS_KEYNUM + MS_PK];
	char keyid[17], *skpath = NULL, *pkpath = NULL, *text;
	int ret = -1;

	if (sodium_ready() < 0) {
		return -1;
	}
	if (asprintf(&skpath, "%s.key", name) < 0 || asprintf(&pkpath, "%s.pub", name) < 0) {
		warn("keygen");
		free(skpath);
		return -1;
	}
	sk = sodium_malloc(sizeof(*sk));
	text = sodium_malloc(1024);
	if (!sk || !text) {
		warnx("keygen: out of memory");
		goto out;
	}
	if (access(skpath, F_OK) == 0 || access(pkpath, F_OK) == 0) {
		warnx("%s or %s exists already: not replaced", skpath, pkpath);
		goto out;
	}
	memset(sk, 0, sizeof(*sk));
	memcpy(sk->sig_alg, "Ed", 2);
	memcpy(sk->chk_alg, "B2", 2);
	randombytes_buf(sk->keynum, MS_KEYNUM);
	crypto_sign_keypair(pubraw + 2 + MS_KEYNUM, sk->sk);
	memcpy(pubraw, "Ed", 2);
	memcpy(pubraw + 2, sk->keynum, MS_KEYNUM);
	seckey_chk(sk, sk->chk);
	if (pass) {
		uint64_t ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
		uint64_t mem = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;
		memcpy(sk->kdf_alg, "Sc", 2);
		randombytes_buf(sk->salt, sizeof(sk->salt));
		for (;;) {
			le64_store(sk->opslimit, ops);
			le64_store(sk->memlimit, mem);
			if (seckey_xor(sk, pass) == 0) {
				break;
			}
			ops /= 2;
			mem /= 2;
			if (ops < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
			    mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN) {
				warnx("keygen: not enough memory for the key derivation");
				goto out;
			}
		}
		if (mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE) {
			warnx("warning: memory is short: the key derivation used %" PRIu64 " MiB, "
			      "less than minisign's 1024", mem >> 20);
		}
	}
	snprintf(text, 1024, COMMENT_PREFIX "%s\n",
		 pass ? "minisign encrypted secret key" : "minisign secret key (not encrypted)");
	put_b64(text, 1024, sk, sizeof(*sk));
	if (write_new(skpath, text, 0600) < 0) {
		goto out;
	}
	ms_keyid(sk->keynum, keyid);
	snprintf(text, 1024, COMMENT_PREFIX "minisign public key %s\n", keyid);
	put_b64(text, 1024, pubraw, sizeof(pubraw));
	if (write_new(pkpath, text, 0644) < 0) {
		unlink(skpath);
		goto out;
	}
	ret = 0;
out:
	if (sk) {
		sodium_free(sk);
	}
	if (text) {
		sodium_free(text);
	}
	free(skpath);
	free(pkpath);
	return ret;
}

/*
 * What the first signature covers: BLAKE2b-512 of the data (HASHED), else the data
 * itself; from DATA/LEN or the file FD. Malloc'd into *MSG (*MLEN bytes). 0 or -1 (errno).
 */
static int message(const void *data, size_t len, int fd, bool hashed, uint8_t **msg, size_t *mlen)
{
	crypto_generichash_state hs;
	uint8_t buf[65536];
	ssize_t r = 0;

	if (hashed) {
		*msg = malloc(crypto_generichash_BYTES_MAX);
		if (!*msg) {
			return -1;
		}
		crypto_generichash_init(&hs, NULL, 0, crypto_generichash_BYTES_MAX);
		if (data) {
			crypto_generichash_update(&hs, data, len);
		} else {
			while ((r = read(fd, buf, sizeof(buf))) > 0) {
				crypto_generichash_update(&hs, buf, (size_t)r);
			}
			if (r < 0) {
				free(*msg);
				return -1;
			}
		}
		crypto_generichash_final(&hs, *msg, crypto_generichash_BYTES_MAX);
		*mlen = crypto_generichash_BYTES_MAX;
		return 0;
	}
	if (data) {
		*msg = malloc(len ? len : 1);
		if (!*msg) {
			return -1;
		}
		memcpy(*msg, data, len);
		*mlen = len;
		return 0;
	}
	size_t cap = 65536, n = 0;
	*msg = malloc(cap);
	while (*msg && (r = read(fd, *msg + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			uint8_t *m = realloc(*msg, cap *= 2);
			if (!m) {
				free(*msg);
				*msg = NULL;
				errno = ENOMEM;
				return -1;
			}
			*msg = m;
		}
	}
	if (!*msg || r < 0) {
		free(*msg);
		return -1;
	}
	*mlen = n;
	return 0;
}

int ms_sign(const struct ms_seckey_raw *sk, const void *data, size_t len, int fd, bool legacy,
	    const char *file, const char *untrusted, const char *trusted, char **out)
{
	uint8_t raw[2 + MS_KEYNUM + MS_SIG], global[MS_SIG], *msg, *st;
	char deftrusted[512], *text;
	size_t mlen, tlen, cap;

	if (sodium_ready() < 0) {
		return -1;
	}
	if (!trusted || !*trusted) {
		const char *base = file ? strrchr(file, '/') : NULL;
		snprintf(deftrusted, sizeof(deftrusted), "timestamp:%lld\tfile:%s%s",
			 (long long)time(NULL), base ? base + 1 : file ? file : "-",
			 legacy ? "" : "\thashed");
		trusted = deftrusted;
	}
	if (!untrusted) {
		untrusted = "signature from minisign secret key";
	}
	tlen = strlen(trusted);
	if (tlen >= MS_TRUSTED_MAX - sizeof(TRUSTED_PREFIX) || !printable(trusted, tlen)) {
		warnx("the trusted comment is too long or not printable (one line)");
		return -1;
	}
	if (strlen(untrusted) >= MS_COMMENT_MAX - sizeof(COMMENT_PREFIX) ||
	    !printable(untrusted, strlen(untrusted))) {
		warnx("the untrusted comment is too long or not printable (one line)");
		return -1;
	}
	if (message(data, len, fd, !legacy, &msg, &mlen) < 0) {
		warn("reading what to sign");
		return -1;
	}
	memcpy(raw, legacy ? "Ed" : "ED", 2);
	memcpy(raw + 2, sk->keynum, MS_KEYNUM);
	crypto_sign_detached(raw + 2 + MS_KEYNUM, NULL, msg, mlen, sk->sk);
	free(msg);
	st = malloc(MS_SIG + tlen);
	if (!st) {
		warn("sign");
		return -1;
	}
	memcpy(st, raw + 2 + MS_KEYNUM, MS_SIG);
	memcpy(st + MS_SIG, trusted, tlen);
	crypto_sign_detached(global, NULL, st, MS_SIG + tlen, sk->sk);
	free(st);
	cap = MS_COMMENT_MAX + MS_TRUSTED_MAX + 512;
	text = malloc(cap);
	if (!text) {
		warn("sign");
		return -1;
	}
	snprintf(text, cap, COMMENT_PREFIX "%s\n", untrusted);
	put_b64(text, cap, raw, sizeof(raw));
	size_t l = strlen(text);
	snprintf(text + l, cap - l, TRUSTED_PREFIX "%s\n", trusted);
	put_b64(text, cap, global, sizeof(global));
	*out = text;
	return 0;
}

int ms_verify(const struct ms_pubkey *pk, const struct ms_sig *sig, const void *data, size_t len,
	      int fd, bool prehashed_only)
{
	uint8_t *msg, *st;
	size_t mlen, tlen = strlen(sig->trusted);
	int bad;

	if (sodium_ready() < 0) {
		errno = ENOMEM;
		return MS_ERR_IO;
	}
	if (memcmp(sig->keynum, pk->keynum, MS_KEYNUM) != 0) {
		return MS_ERR_KEY;
	}
	if (!sig->hashed && prehashed_only) {
		return MS_ERR_LEGACY;
	}
	if (message(data, len, fd, sig->hashed, &msg, &mlen) < 0) {
		return MS_ERR_IO;
	}
	bad = crypto_sign_verify_detached(sig->sig, msg, mlen, pk->pk);
	free(msg);
	if (bad) {
		return MS_ERR_DATA;
	}
	st = malloc(MS_SIG + tlen);
	if (!st) {
		return MS_ERR_IO;
	}
	memcpy(st, sig->sig, MS_SIG);
	memcpy(st + MS_SIG, sig->trusted, tlen);
	bad = crypto_sign_verify_detached(sig->global, st, MS_SIG + tlen, pk->pk);
	free(st);
	return bad ? MS_ERR_COMMENT : MS_OK;
}
