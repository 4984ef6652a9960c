/*
 * pieload.c — fvm-pieload: starts a static-PIE program with its code where the
 * supervisor's filter sees it (docs/DESIGN.md "Static-PIE programs"; issue 14).
 *
 * The kernel maps a static-PIE executable (ET_DYN, no PT_INTERP) where it maps
 * libraries, in the range whose calls the filter lets pass (fvm-exec/run/seccomp.c,
 * virt_prologue), so such a program would be fenced only. libfvm's exec (exec.c) runs
 * this loader instead, with the program's own argv and environment plus
 * FVM_PIE_PROGRAM=NAME (fvm/env.h), NAME being the program as the caller named it.
 * The loader is a static non-PIE executable (linked at 0x400000): its own open of
 * NAME is answered by the supervisor in the VM's namespace, so the file mapped is the
 * VM's. It maps the program below 0x2a0000000000, gives it a stack as the kernel's and
 * jumps to its entry: every call of the program is then notified as a static
 * program's.
 *
 * Rules:
 *  - No libc: raw system calls only (it is started by exec, before anything else).
 *  - The program is mapped at a random page-aligned base (getrandom) in
 *    [PIE_LOW, PIE_HIGH): above the loader's image and its brk, which the program's
 *    malloc goes on using, below the kernel's mmap base and below 0x2a0000000000.
 *    setarch -R (ADDR_NO_RANDOMIZE) maps it at PIE_LOW.
 *  - The program's stack: argc and argv as the loader got them (its argv strings,
 *    which /proc/PID/cmdline shows), its environment less FVM_PIE_PROGRAM, and the
 *    loader's auxiliary vector with the program's AT_PHDR, AT_PHENT, AT_PHNUM,
 *    AT_ENTRY, AT_BASE 0 and AT_EXECFN (NAME) put in; the rest (AT_RANDOM's 16 bytes,
 *    which the loader never read, AT_SYSINFO_EHDR, AT_HWCAP*, AT_UID..., AT_SECURE...)
 *    is the kernel's own for this exec. comm is set to NAME's last component.
 *  - Any failure before the jump is reported as "fvm-pieload: NAME: reason" on
 *    stderr, exit status 127 (nothing of the program ran).
 *  - x86-64 only (the filter's rows are).
 */
#include <elf.h>
#include <fcntl.h>
#include <linux/mman.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "fvm/env.h"

#define PAGE      4096UL
#define PIE_LOW   0x100000000UL    /* 4 GiB: far above 0x400000 and any brk offset */
#define PIE_HIGH  0x100000000000UL /* 16 TiB: below the kernel's mmap base and 0x2a0000000000 */
#define MAX_PHDRS 64
#define MAX_ALIGN (1UL << 30)

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

/* The program's entry, reached from _start with the initial stack pointer. */
void pie_main(uintptr_t *sp) __attribute__((noreturn, used, visibility("hidden")));

__asm__(".text\n"
	".globl _start\n"
	".type _start,@function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call pie_main\n"
	"	hlt\n");

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys3(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* The compiler may call these for copies and clearing of its own. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--) {
		*p++ = (unsigned char)c;
	}
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--) {
		*p++ = *q++;
	}
	return d;
}

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n]) {
		n++;
	}
	return n;
}

/* The value of "NAME=value" in ENTRY, or NULL. */
static const char *env_value(const char *entry, const char *name)
{
	while (*name && *entry == *name) {
		entry++, name++;
	}
	return !*name && *entry == '=' ? entry + 1 : NULL;
}

static void say(const char *s)
{
	sys3(SYS_write, 2, s, str_len(s));
}

/* Names for the errors this loader can meet; a number otherwise. */
static const char *err_text(long e, char *buf)
{
	static const struct {
		int e;
		const char *text;
	} names[] = {
		{1, "Operation not permitted"}, {2, "No such file or directory"}, {5, "Input/output error"},
		{8, "Exec format error"}, {12, "Cannot allocate memory"}, {13, "Permission denied"},
		{20, "Not a directory"}, {21, "Is a directory"}, {22, "Invalid argument"},
		{24, "Too many open files"}, {26, "Text file busy"}, {36, "File name too long"},
		{40, "Too many levels of symbolic links"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].e == e) {
			return names[i].text;
		}
	}
	char *p = buf + 23;
	*p = '\0';
	do {
		*--p = (char)('0' + e % 10);
		e /= 10;
	} while (e && p > buf + 6);
	memcpy(p - 6, "error ", 6);
	return p - 6;
}

static void __attribute__((noreturn)) die(const char *name, long err)
{
	char buf[24];

	say("fvm-pieload: ");
	say(name ? name : "(no program)");
	say(": ");
	say(err_text(err, buf));
	say("\n");
	for (;;) {
		sys3(SYS_exit_group, 127, 0, 0);
	}
}

static long mmap6(uintptr_t addr, size_t len, int prot, int flags, int fd, uint64_t off)
{
	return sys6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
}

static int prot_of(uint32_t pf)
{
	return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) | (pf & PF_X ? PROT_EXEC : 0);
}

/* Reads exactly N bytes of FD at OFF into BUF; 0 or -errno (-ENOEXEC if short). */
static long read_at(int fd, void *buf, size_t n, uint64_t off)
{
	long r = sys6(SYS_pread64, fd, (long)buf, (long)n, (long)off, 0, 0);

	return r < 0 ? r : (size_t)r == n ? 0 : -8 /* ENOEXEC */;
}

/* A random number (getrandom; the clock and an address if the kernel refuses). */
static uint64_t random64(void)
{
	uint64_t r = 0;
	uint32_t lo, hi;

	if (sys3(SYS_getrandom, &r, sizeof(r), 1 /* GRND_NONBLOCK */) != sizeof(r)) {
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		r = (((uint64_t)hi << 32) | lo) * 0x9e3779b97f4a7c15ULL ^ (uintptr_t)&r;
	}
	return r;
}

/* What load() found: where the program lies. */
struct image {
	uintptr_t bias;  /* load address - link address */
	uintptr_t phdr;  /* its program headers, mapped */
	uintptr_t entry;
	unsigned phnum;
};

/*
 * Maps the static-PIE program open as FD (NAME for errors) into *IM: the PT_LOAD
 * segments at a random base, bss zeroed. Dies on any error.
 */
static void load(int fd, const char *name, struct image *im)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PHDRS];
	uintptr_t lo = UINTPTR_MAX, hi = 0, align = PAGE;
	long r;

	if ((r = read_at(fd, &eh, sizeof(eh), 0)) < 0) {
		die(name, -r);
	}
	if (eh.e_ident[EI_MAG0] != ELFMAG0 || eh.e_ident[EI_MAG1] != ELFMAG1 || eh.e_ident[EI_MAG2] != ELFMAG2 ||
	    eh.e_ident[EI_MAG3] != ELFMAG3 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 || eh.e_type != ET_DYN ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > MAX_PHDRS) {
		die(name, 8 /* ENOEXEC */);
	}
	if ((r = read_at(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), eh.e_phoff)) < 0) {
		die(name, -r);
	}
	im->phdr = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP) {
			die(name, 8); /* a dynamic program: the kernel's to run */
		}
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0) {
			continue;
		}
		if (ph[i].p_filesz > ph[i].p_memsz || (ph[i].p_vaddr - ph[i].p_offset) % PAGE != 0) {
			die(name, 8);
		}
		/* The kernel aligns the base to the largest power-of-two p_align. */
		if (ph[i].p_align > align && !(ph[i].p_align & (ph[i].p_align - 1)) && ph[i].p_align <= MAX_ALIGN) {
			align = ph[i].p_align;
		}
		lo = ph[i].p_vaddr < lo ? ph[i].p_vaddr : lo;
		hi = ph[i].p_vaddr + ph[i].p_memsz > hi ? ph[i].p_vaddr + ph[i].p_memsz : hi;
	}
	if (hi == 0 || hi - lo > (PIE_HIGH - PIE_LOW) / 2) {
		die(name, 8);
	}
	lo &= ~(align - 1);
	hi = (hi + PAGE - 1) & ~(PAGE - 1);
	size_t span = hi - lo;
	uintptr_t slots = (PIE_HIGH - PIE_LOW - span) / align;
	bool fixed = (sys3(SYS_personality, 0xffffffff, 0, 0) & ADDR_NO_RANDOMIZE) != 0;

	/* The whole span reserved at once, so no segment lands on something else. */
	uintptr_t base = 0;
	for (int tries = 0; tries < 32 && !base; tries++) {
		uintptr_t want = PIE_LOW + (fixed ? (uintptr_t)tries : random64() % slots) * align;
		r = mmap6(want, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (r == (long)want) {
			base = want;
		} else if (r >= 0) {
			sys3(SYS_munmap, r, span, 0); /* a kernel before 4.17 took it as a hint */
		} else if (r != -17 /* EEXIST: something lies there; another try */) {
			die(name, -r);
		}
	}
	if (!base) {
		die(name, 12 /* ENOMEM */);
	}
	im->bias = base - lo;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0) {
			continue;
		}
		int prot = prot_of(p->p_flags);
		uintptr_t start = im->bias + p->p_vaddr, page = start & ~(PAGE - 1);
		uintptr_t file_end = start + p->p_filesz, mem_end = start + p->p_memsz;
		uintptr_t file_page_end = (file_end + PAGE - 1) & ~(PAGE - 1);
		/* A bss that begins inside the last file page is zeroed through the mapping. */
		bool partial = p->p_memsz > p->p_filesz && (file_end & (PAGE - 1)) != 0;
		if (p->p_filesz) {
			r = mmap6(page, file_end - page, prot | (partial ? PROT_WRITE : 0), MAP_PRIVATE | MAP_FIXED, fd,
				  p->p_offset & ~(PAGE - 1));
			if (r < 0) {
				die(name, -r);
			}
			if (partial) {
				memset((void *)file_end, 0, file_page_end - file_end);
				if (!(prot & PROT_WRITE)) {
					sys3(SYS_mprotect, page, file_end - page, prot);
				}
			}
		} else {
			file_page_end = page;
		}
		if (mem_end > file_page_end) {
			r = mmap6(file_page_end, mem_end - file_page_end, prot, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
				  -1, 0);
			if (r < 0) {
				die(name, -r);
			}
		}
		/* The program headers, where a segment holds them (no PT_PHDR). */
		if (!im->phdr && eh.e_phoff >= p->p_offset &&
		    eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr) <= p->p_offset + p->p_filesz) {
			im->phdr = im->bias + p->p_vaddr + (eh.e_phoff - p->p_offset);
		}
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_PHDR) {
			im->phdr = im->bias + ph[i].p_vaddr;
		}
	}
	if (!im->phdr) {
		die(name, 8); /* its libc finds TLS and relocations through them */
	}
	im->phnum = eh.e_phnum;
	im->entry = im->bias + eh.e_entry;
}

/* The auxiliary vector's entries the loader replaces with the program's. */
static bool replaced(uint64_t type)
{
	return type == AT_PHDR || type == AT_PHENT || type == AT_PHNUM || type == AT_ENTRY || type == AT_BASE ||
	       type == AT_EXECFN || type == AT_EXECFD;
}

void pie_main(uintptr_t *sp)
{
	long argc = (long)sp[0];
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
	const char *name = NULL;
	size_t envc = 0, auxn = 0;
	struct image im;

	for (char **e = envp; *e; e++, envc++) {
		const char *v = env_value(*e, FVM_ENV_PIE);
		if (v && !name) {
			name = v;
		}
	}
	uint64_t *auxv = (uint64_t *)(envp + envc + 1);
	while (auxv[2 * auxn] != AT_NULL) {
		auxn++;
	}
	if (!name || !*name) {
		say("fvm-pieload: runs a static-PIE program for libfvm (" FVM_ENV_PIE " names it); not for direct use\n");
		sys3(SYS_exit_group, 127, 0, 0);
	}
	long fd = sys3(SYS_open, name, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		die(name, -fd);
	}
	load((int)fd, name, &im);
	sys3(SYS_close, fd, 0, 0);

	/* comm as the kernel sets it: the name's last component (prctl keeps 15 bytes). */
	const char *base = name;
	for (const char *p = name; *p; p++) {
		if (*p == '/' && p[1]) {
			base = p + 1;
		}
	}
	sys3(SYS_prctl, PR_SET_NAME, base, 0);

	/* The new stack, in this frame: argc, argv, envp, auxv (7 entries put in). */
	size_t words = 1 + (size_t)argc + 1 + envc + 1 + 2 * (auxn + 8);
	uintptr_t area[words + 2];
	uintptr_t *nsp = (uintptr_t *)((uintptr_t)area & ~15UL), *w;
	if (nsp < area) {
		nsp += 2;
	}
	w = nsp;
	*w++ = (uintptr_t)argc;
	for (long i = 0; i <= argc; i++) {
		*w++ = (uintptr_t)argv[i];
	}
	for (size_t i = 0; i < envc; i++) {
		if (!env_value(envp[i], FVM_ENV_PIE)) {
			*w++ = (uintptr_t)envp[i];
		}
	}
	*w++ = 0;
	for (size_t i = 0; i < auxn; i++) {
		if (!replaced(auxv[2 * i])) {
			*w++ = auxv[2 * i];
			*w++ = auxv[2 * i + 1];
		}
	}
	const uintptr_t mine[][2] = {
		{AT_PHDR, im.phdr}, {AT_PHENT, sizeof(Elf64_Phdr)}, {AT_PHNUM, im.phnum},
		{AT_ENTRY, im.entry}, {AT_BASE, 0},		    {AT_EXECFN, (uintptr_t)name},
	};
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
		*w++ = mine[i][0];
		*w++ = mine[i][1];
	}
	*w++ = AT_NULL;
	*w++ = 0;

	/* As the kernel starts a program: the stack pointer at argc, rdx 0 (no atexit). */
	__asm__ volatile("mov %0, %%rsp\n"
			 "xor %%edx, %%edx\n"
			 "xor %%ebp, %%ebp\n"
			 "jmp *%1\n"
			 :
			 : "r"(nsp), "r"(im.entry)
			 : "memory");
	__builtin_unreachable();
}
