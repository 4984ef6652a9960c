/*
 * rawcall.h — the probes' system calls, made by the instruction itself, never through
 * libc's syscall(): libfvm wraps syscall() (libfvm/rawsys.c), so a probe that must reach
 * the kernel unseen by libfvm, as Go's runtime or inline assembly does (attack.c,
 * try-syscall.c, try-truncate.c, ipc-raw.c, daemon.c: the dynamic builds test the fence,
 * not libfvm), calls this instead. Include it after the system headers: it renames
 * syscall() in the file that includes it.
 *
 * In a dynamic probe the instruction runs from a page mapped among the libraries
 * (mmap's top-down area), not from the executable: fvm-exec's supervisor virtualizes the
 * path calls an executable's own code makes (fvm-exec/run/virtguard.c), and the dynamic
 * builds are there to meet the fence, as a JIT's or a library's raw calls do. A static
 * probe makes them inline, from its own code, as a static program does.
 *
 * fvm_raw_syscall returns as syscall() does: the result, or -1 with errno set.
 */
#ifndef FVM_TEST_RAWCALL_H
#define FVM_TEST_RAWCALL_H

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
typedef long (*fvm_raw_stub_fn)(long, long, long, long, long, long, long);

/* The stub page of a dynamic probe (NULL in a static one, or when it cannot be made). */
static inline fvm_raw_stub_fn fvm_raw_stub(void)
{
	static const unsigned char code[] = {
		0x48, 0x89, 0xf8,             /* mov %rdi,%rax   the number */
		0x48, 0x89, 0xf7,             /* mov %rsi,%rdi   the arguments, shifted */
		0x48, 0x89, 0xd6,             /* mov %rdx,%rsi */
		0x48, 0x89, 0xca,             /* mov %rcx,%rdx */
		0x4d, 0x89, 0xc2,             /* mov %r8,%r10 */
		0x4d, 0x89, 0xc8,             /* mov %r9,%r8 */
		0x4c, 0x8b, 0x4c, 0x24, 0x08, /* mov 8(%rsp),%r9 */
		0x0f, 0x05,                   /* syscall */
		0xc3,                         /* ret */
	};
	static fvm_raw_stub_fn stub;
	static int tried;

	if (!tried) {
		tried = 1;
		if (getauxval(AT_BASE) != 0) { /* a dynamic loader ran: a dynamic probe */
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED) {
				memcpy(p, code, sizeof(code));
				if (mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0) {
					stub = (fvm_raw_stub_fn)p;
				}
			}
		}
	}
	return stub;
}
#endif

static inline long fvm_raw_syscall(long n, ...)
{
	va_list ap;
	long a[6], ret;

	va_start(ap, n);
	for (int i = 0; i < 6; i++) {
		a[i] = va_arg(ap, long);
	}
	va_end(ap);
#if defined(__x86_64__)
	fvm_raw_stub_fn stub = fvm_raw_stub();
	if (stub) {
		ret = stub(n, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (ret < 0 && ret > -4096) {
			errno = (int)-ret;
			return -1;
		}
		return ret;
	}
	register long r10 __asm__("r10") = a[3];
	register long r8 __asm__("r8") = a[4];
	register long r9 __asm__("r9") = a[5];
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a[0];
	register long x1 __asm__("x1") = a[1];
	register long x2 __asm__("x2") = a[2];
	register long x3 __asm__("x3") = a[3];
	register long x4 __asm__("x4") = a[4];
	register long x5 __asm__("x5") = a[5];
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	ret = x0;
#elif defined(__i386__)
	/* The i386 builds (try-syscall-i386) are static: libfvm is never there. */
	return syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
#else
#error "rawcall.h: no raw system call for this architecture"
#endif
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

#define syscall fvm_raw_syscall

#endif
