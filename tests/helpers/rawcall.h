/*
 * rawcall.h — the probes' system calls, made by the instruction itself, never through
 * libc's syscall(): libfvm wraps syscall() (libfvm/rawsys.c), so a probe that must reach
 * the kernel unseen by libfvm, as Go's runtime or inline assembly does (attack.c,
 * try-syscall.c, try-truncate.c, ipc-raw.c, daemon.c: the dynamic builds test the fence,
 * not libfvm), calls this instead. Include it after the system headers: it renames
 * syscall() in the file that includes it.
 *
 * fvm_raw_syscall returns as syscall() does: the result, or -1 with errno set.
 */
#ifndef FVM_TEST_RAWCALL_H
#define FVM_TEST_RAWCALL_H

#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

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
