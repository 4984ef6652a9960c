/*
 * detcore.c — the determinism options' shared logic (detcore.h), linked into libfvm.so
 * (file times, /dev/urandom, listing order) and libfvm-det.so (the clock, getrandom,
 * names, CPUs).
 *
 * Rules:
 *  - A malformed field of FVM_DET is ignored, never an error inside the program; a
 *    field this build does not know is ignored too (an older library in a nested run).
 *  - The random stream is ChaCha20 (D. J. Bernstein's original, 64-bit counter and
 *    nonce) keyed by the seed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detcore.h"

/* The number at *P (decimal, optionally negative) up to a ',' or the end; false if bad. */
static bool det_number(const char **p, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(*p, &end, 10);
	if (errno || end == *p || (*end && *end != ',')) {
		return false;
	}
	*out = v;
	*p = end;
	return true;
}

/*
 * The word at *P up to a ',' or the end into OUT (size LEN), *P moved past it; false
 * (OUT untouched) when it is empty or does not fit.
 */
static bool det_word(const char **p, char *out, size_t len)
{
	size_t l = strcspn(*p, ",");
	bool fits = l > 0 && l < len;

	if (fits) {
		memcpy(out, *p, l);
		out[l] = '\0';
	}
	*p += l;
	return fits;
}

void fvm_det_parse(struct fvm_det *d, const char *v)
{
	long long n;

	memset(d, 0, sizeof(*d));
	if (!v || !*v) {
		return;
	}
	for (const char *p = v; *p;) {
		const char *key = p, *eq = strchr(p, '=');
		if (!eq) {
			break;
		}
		size_t kl = (size_t)(eq - key);
		p = eq + 1;
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(key, s, kl) == 0)
		if (KEY("host")) {
			if (det_word(&p, d->host, sizeof(d->host))) {
				d->on |= FVM_DET_HOST;
			}
		} else if (KEY("names")) {
			if (det_word(&p, d->names, sizeof(d->names))) {
				d->on |= FVM_DET_NAMES;
			}
		} else if (KEY("order")) {
			size_t l = strcspn(p, ",");
			if (l == 6 && memcmp(p, "sorted", 6) == 0) {
				d->order = 1;
				d->on |= FVM_DET_ORDER;
			} else if (l == 8 && memcmp(p, "reversed", 8) == 0) {
				d->order = -1;
				d->on |= FVM_DET_ORDER;
			}
			p += l;
		} else if (det_number(&p, &n)) {
			if (KEY("start")) {
				d->start_ns = n;
			} else if (KEY("time")) {
				d->time_sec = n;
				d->on |= FVM_DET_TIME;
			} else if (KEY("frozen") && n) {
				d->on |= FVM_DET_FROZEN;
			} else if (KEY("clamp") && n) {
				d->on |= FVM_DET_CLAMP;
			} else if (KEY("seed")) {
				d->seed = (uint64_t)n;
				d->on |= FVM_DET_RANDOM;
			} else if (KEY("uname") && n) {
				d->on |= FVM_DET_UNAME;
			} else if (KEY("cpus") && n > 0) {
				d->cpus = n;
				d->on |= FVM_DET_CPUS;
			}
		} else {
			p += strcspn(p, ",");
		}
#undef KEY
		if (*p == ',') {
			p++;
		}
	}
	/* The clock and the clamp need both times; a frozen clock needs a time. */
	if (!d->start_ns || !(d->on & FVM_DET_TIME)) {
		d->on &= ~(unsigned)(FVM_DET_TIME | FVM_DET_FROZEN | FVM_DET_CLAMP);
	}
}

void fvm_det_shift(const struct fvm_det *d, struct timespec *ts)
{
	int64_t fake = d->time_sec * 1000000000LL;

	if (!(d->on & FVM_DET_FROZEN)) {
		fake += (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec - d->start_ns;
	}
	ts->tv_sec = fake / 1000000000LL;
	ts->tv_nsec = fake % 1000000000LL;
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += 1000000000LL;
	}
}

#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define QR(a, b, c, d)                                                     \
	(a += b, d ^= a, d = ROTL(d, 16), c += d, b ^= c, b = ROTL(b, 12), \
	 a += b, d ^= a, d = ROTL(d, 8), c += d, b ^= c, b = ROTL(b, 7))

/* Block COUNTER of ChaCha20 stream NONCE under the seed's key, into OUT. */
static void chacha_block(const struct fvm_det *d, uint64_t nonce, uint64_t counter, unsigned char out[64])
{
	uint32_t s[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
			  (uint32_t)d->seed, (uint32_t)(d->seed >> 32), 0x2d6d7666, 0x20746564,
			  0, 0, 0, 0,
			  (uint32_t)counter, (uint32_t)(counter >> 32), (uint32_t)nonce, (uint32_t)(nonce >> 32)};
	uint32_t x[16];

	memcpy(x, s, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t v = x[i] + s[i];
		out[4 * i] = (unsigned char)v;
		out[4 * i + 1] = (unsigned char)(v >> 8);
		out[4 * i + 2] = (unsigned char)(v >> 16);
		out[4 * i + 3] = (unsigned char)(v >> 24);
	}
}

void fvm_det_stream(const struct fvm_det *d, uint64_t nonce, uint64_t pos, unsigned char *buf, size_t len)
{
	unsigned char block[64];

	while (len) {
		size_t off = pos % 64, n = 64 - off < len ? 64 - off : len;
		chacha_block(d, nonce, pos / 64, block);
		memcpy(buf, block + off, n);
		buf += n;
		pos += n;
		len -= n;
	}
}
