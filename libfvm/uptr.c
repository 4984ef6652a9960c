/*
 * uptr.c — whether a pointer the program handed in may be read, told as cheaply as
 * the kernel's own EFAULT needs it (fvm_bad_ptr in libfvm.h).
 *
 * Rules:
 *  - NULL, the zero page and addresses beyond user space are refused inline, without
 *    a system call.
 *  - Any other page is asked of the kernel once per thread (msync: ENOMEM when
 *    nothing is mapped there), with the 256 KiB block around it first, and remembered
 *    in a small direct-mapped cache of this thread's pages (and one of its blocks); a
 *    hit costs one comparison. A page the program unmaps later, in a block or page
 *    found mapped before, stays known: a call given a pointer into it afterwards (a use
 *    after free) faults in libfvm where the kernel would say EFAULT. A mapped page without read access
 *    (PROT_NONE, a guard page) counts as readable: the kernel says EFAULT, libfvm
 *    faults (README).
 *  - The cache is written one word at a time and only with pages found mapped: a
 *    signal handler that calls a wrapper in the middle finds it consistent.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libfvm.h"

__thread uintptr_t fvm_page_known[FVM_PAGE_SLOTS];

/*
 * The 256 KiB blocks this thread found wholly mapped (or, with bit 0 set, found not
 * to be): a heap or an allocator's arena holds most of the strings a program passes,
 * and one msync of the block then vouches for its 64 pages (python3's import of six
 * modules asked 318 pages one by one, now 90 blocks and pages). A block partly mapped
 * (a stack's top, a small mapping) is remembered as such and its pages are asked one
 * by one, as before.
 */
#define BLOCK ((uintptr_t)256 * 1024)
#define BLOCK_SLOTS 64
static __thread uintptr_t block_known[BLOCK_SLOTS];

bool fvm_page_unmapped(uintptr_t page)
{
	static uintptr_t mask;
	uintptr_t block = page & ~(BLOCK - 1), *slot = &block_known[(page / BLOCK) % BLOCK_SLOTS];

	if (!mask) {
		long sz = sysconf(_SC_PAGESIZE);
		mask = ~((uintptr_t)(sz > 0 ? sz : 4096) - 1);
	}
	if (*slot == block) {
		fvm_page_known[(page / FVM_PAGE) % FVM_PAGE_SLOTS] = page;
		return false;
	}
	if (*slot != (block | 1) && ~mask + 1 <= BLOCK) {
		if (FVM_SC(SYS_msync, block, BLOCK, MS_ASYNC, 0, 0, 0) == 0) {
			*slot = block;
			fvm_page_known[(page / FVM_PAGE) % FVM_PAGE_SLOTS] = page;
			return false;
		}
		*slot = block | 1;
	}
	/* msync(MS_ASYNC) does nothing but look the range up: ENOMEM where it is not
	 * mapped. Measured here: 0.2 us, a bare system call; mincore walks the page
	 * tables too (1 us). */
	if (FVM_SC(SYS_msync, page & mask, ~mask + 1, MS_ASYNC, 0, 0, 0) < 0) {
		return true; /* errno is kept by FVM_SC */
	}
	fvm_page_known[(page / FVM_PAGE) % FVM_PAGE_SLOTS] = page;
	return false;
}

long fvm_strlen_user(const char *s)
{
	const char *p = s;

	for (;;) {
		uintptr_t end = ((uintptr_t)p & ~(uintptr_t)(FVM_PAGE - 1)) + FVM_PAGE;
		const char *z = memchr(p, '\0', end - (uintptr_t)p);

		if (z) {
			return z - s;
		}
		if (end - (uintptr_t)s > PATH_MAX) {
			return PATH_MAX; /* too long for a name, whatever follows */
		}
		p = (const char *)end;
		if (fvm_bad_ptr(p)) {
			return -EFAULT;
		}
	}
}
