/*
 * ipcname.c — per-VM names for shm, semaphores, queues, abstract sockets, SysV keys and
 * the private loopback address (fvm/ipcname.h). Pure: no system calls, no errno.
 *
 * SHA-256 is here because a shortened name must be collision resistant, not merely
 * well spread: a VM must never reach another name's object because two long names
 * hashed alike.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fvm/ipcname.h"
#include "fvm/path.h"

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], v[8];
	int i;

	for (i = 0; i < 16; i++) {
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	}
	for (; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, h, sizeof(v));
	for (i = 0; i < 64; i++) {
		uint32_t s1 = ROR(v[4], 6) ^ ROR(v[4], 11) ^ ROR(v[4], 25);
		uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
		uint32_t t1 = v[7] + s1 + ch + sha_k[i] + w[i];
		uint32_t s0 = ROR(v[0], 2) ^ ROR(v[0], 13) ^ ROR(v[0], 22);
		uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + s0 + maj;
	}
	for (i = 0; i < 8; i++) {
		h[i] += v[i];
	}
}

void fvm_sha256(const void *data, size_t len, uint8_t out[32])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const uint8_t *p = data;
	uint8_t tail[128] = {0};
	size_t rest = len % 64, tlen = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t off = 0; off + 64 <= len; off += 64) {
		sha_block(h, p + off);
	}
	memcpy(tail, p + len - rest, rest);
	tail[rest] = 0x80;
	for (int i = 0; i < 8; i++) {
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	}
	for (size_t off = 0; off < tlen; off += 64) {
		sha_block(h, tail + off);
	}
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

static void hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

int fvm_ipc_prefix(const char *root, char *out, size_t outlen)
{
	size_t len = strlen(root), base = fvm_path_base_off(root, len);
	uint8_t d[32];

	if (len - base > 72 || outlen < len - base + 15) {
		return -ENAMETOOLONG;
	}
	fvm_sha256(root, len, d);
	memcpy(out, "fvm.", 4);
	memcpy(out + 4, root + base, len - base);
	size_t o = 4 + len - base;
	out[o++] = '.';
	hex(d, 4, out + o);
	o += 8;
	out[o++] = '.';
	out[o] = '\0';
	return (int)o;
}

#define HASH_HEX 32 /* 128 bits of SHA-256 */

int fvm_ipc_map(const char *prefix, const char *name, size_t len, size_t limit, char *out,
		size_t outlen)
{
	size_t plen = strlen(prefix);
	uint8_t d[32];

	if (outlen < limit + 1 && outlen < plen + len + 1) {
		return -ENAMETOOLONG;
	}
	memcpy(out, prefix, plen);
	if (plen + len <= limit) {
		memcpy(out + plen, name, len);
		out[plen + len] = '\0';
		return (int)(plen + len);
	}
	if (plen + 1 + HASH_HEX > limit) {
		return -EINVAL;
	}
	size_t head = limit - plen - 1 - HASH_HEX;
	memcpy(out + plen, name, head);
	out[plen + head] = '~';
	fvm_sha256(name, len, d);
	hex(d, HASH_HEX / 2, out + plen + head + 1);
	out[limit] = '\0';
	return (int)limit;
}

/* True when the HASH_HEX+1 bytes at S look like "~" + lowercase hex. */
static bool hash_tail(const char *s)
{
	if (*s != '~') {
		return false;
	}
	for (int i = 1; i <= HASH_HEX; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

const char *fvm_ipc_unmap(const char *prefix, const char *mapped, size_t len, int *shortened)
{
	size_t plen = strlen(prefix);

	*shortened = 0;
	if (len < plen || memcmp(mapped, prefix, plen) != 0) {
		return NULL;
	}
	/* Only a name at a length limit can be a shortened one; the caller knows the limit,
	 * we know the shape: check the shape and let the caller's registry decide. */
	if (len >= plen + 1 + HASH_HEX && hash_tail(mapped + len - 1 - HASH_HEX)) {
		*shortened = 1;
	}
	return mapped + plen;
}

int32_t fvm_ipc_key(const char *prefix, int32_t key)
{
	char buf[FVM_IPC_PREFIX_MAX + 16];
	size_t plen = strlen(prefix);
	uint8_t d[32];
	int32_t out;

	if (plen > FVM_IPC_PREFIX_MAX) {
		plen = FVM_IPC_PREFIX_MAX;
	}
	memcpy(buf, prefix, plen);
	memcpy(buf + plen, &key, sizeof(key));
	fvm_sha256(buf, plen + sizeof(key), d);
	memcpy(&out, d, sizeof(out));
	return out == 0 ? 1 : out;
}

uint32_t fvm_ipc_loopback(const char *prefix)
{
	uint8_t d[32];

	fvm_sha256(prefix, strlen(prefix), d);
	return 127u << 24 | (uint32_t)(1 + d[0] % 254) << 16 | (uint32_t)d[1] << 8 |
	       (uint32_t)(1 + d[2] % 254);
}

int fvm_ipc_shmdir(const char *prefix, char *out, size_t outlen)
{
	size_t plen = strlen(prefix), rlen = strlen(FVM_SHM_ROOT);

	if (plen < 2 || rlen + 1 + plen > outlen) {
		return -ENAMETOOLONG;
	}
	memcpy(out, FVM_SHM_ROOT "/", rlen + 1);
	memcpy(out + rlen + 1, prefix, plen - 1);
	out[rlen + plen] = '\0';
	return (int)(rlen + plen);
}
