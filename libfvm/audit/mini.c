/*
 * mini.c — the few libc functions the loader module (audit.c) and the core files it
 * links need, so that the module links no libc: a module with a DT_NEEDED on libc.so.6
 * makes the dynamic loader map and relocate a second libc in the module's own link
 * namespace at every start, which is most of an audit module's cost.
 *
 * Rules:
 *  - Built with -ffreestanding -fno-builtin and -fno-tree-loop-distribute-patterns, so
 *    that GCC never turns these loops into calls to themselves.
 *  - Plain byte loops, but for copies and fills, which the walk makes of whole path
 *    buffers: "rep movsb" / "rep stosb" on x86_64 (fast on every CPU with ERMS).
 *  - snprintf knows %s, %.*s, %c, %d, %u, %zu, %lu and %%: what the core's linked
 *    functions format (paths); anything else ends the output there.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
char *strcpy(char *dst, const char *src);
char *strchr(const char *s, int c);
int strcmp(const char *a, const char *b);
char *strstr(const char *hay, const char *needle);
int snprintf(char *out, size_t len, const char *fmt, ...);

void *memcpy(void *dst, const void *src, size_t n)
{
#if defined(__x86_64__)
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
#else
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--) {
		*d++ = *s++;
	}
#endif
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s) {
		return memcpy(dst, src, n); /* a forward copy never overwrites what it reads */
	} else {
		while (n--) {
			d[n] = s[n];
		}
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
#if defined(__x86_64__)
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
#else
	unsigned char *d = dst;

	while (n--) {
		*d++ = (unsigned char)c;
	}
#endif
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i]) {
			return x[i] < y[i] ? -1 : 1;
		}
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == (unsigned char)c) {
			return (void *)(p + i);
		}
	}
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n]) {
		n++;
	}
	return n;
}

char *strcpy(char *dst, const char *src)
{
	return memcpy(dst, src, strlen(src) + 1);
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c) {
			return (char *)s;
		}
		if (!*s) {
			return NULL;
		}
	}
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

char *strstr(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);

	for (; *hay; hay++) {
		if (memcmp(hay, needle, nl) == 0) {
			return (char *)hay;
		}
	}
	return nl ? NULL : (char *)hay;
}

/* Output state of snprintf: writes what fits, counts everything. */
struct out {
	char *buf;
	size_t len, n;
};

static void put(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, o->n++) {
		if (o->n + 1 < o->len) {
			o->buf[o->n] = s[i];
		}
	}
}

static void put_num(struct out *o, uintmax_t v, bool neg)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg) {
		tmp[--i] = '-';
	}
	put(o, tmp + i, sizeof(tmp) - i);
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	struct out o = {buf, len, 0};
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, p, 1);
			continue;
		}
		p++;
		if (*p == '%') {
			put(&o, p, 1);
		} else if (*p == 's') {
			const char *s = va_arg(ap, const char *);
			put(&o, s, strlen(s));
		} else if (p[0] == '.' && p[1] == '*' && p[2] == 's') {
			int prec = va_arg(ap, int);
			const char *s = va_arg(ap, const char *);
			size_t n = 0;
			while (n < (size_t)prec && s[n]) {
				n++;
			}
			put(&o, s, n);
			p += 2;
		} else if (*p == 'c') {
			char c = (char)va_arg(ap, int);
			put(&o, &c, 1);
		} else if (*p == 'd') {
			int v = va_arg(ap, int);
			put_num(&o, v < 0 ? -(uintmax_t)v : (uintmax_t)v, v < 0);
		} else if (*p == 'u') {
			put_num(&o, va_arg(ap, unsigned), false);
		} else if ((p[0] == 'z' || p[0] == 'l') && p[1] == 'u') {
			put_num(&o, p[0] == 'z' ? va_arg(ap, size_t) : va_arg(ap, unsigned long), false);
			p++;
		} else {
			break;
		}
	}
	va_end(ap);
	if (len) {
		buf[o.n < len ? o.n : len - 1] = '\0';
	}
	return (int)o.n;
}
