/*
 * gen.c — the VM-wide generation counter that validates cached resolutions (fvm/vm.h).
 *
 * Invariants:
 *  - The counter is the first 8 bytes of ROOT/state, the names counter the next 8
 *    (vm.h), mapped MAP_SHARED by every
 *    process of the VM (inherited across fork, mapped again after exec). The file is
 *    never shrunk and its content is never rewritten, only incremented atomically.
 *  - A writer bumps after its change to upper/ is visible (release); a reader loads
 *    the generation before its walk (acquire) and tags what it caches with that load,
 *    so a change that races with a walk leaves the cached entry already stale.
 *  - Generation 0 means "no counter": nothing is cached. An attached counter is
 *    therefore moved off 0 at attach.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

#include "fvm/layout.h"
#include "fvm/sys.h"
#include "fvm/vm.h"

#define STATE_SIZE 4096

int fvm_gen_map(const char *root, uint64_t **counter)
{
	char file[PATH_MAX + 16];
	struct stat st;
	void *map;
	int fd, ret;

	if (snprintf(file, sizeof(file), "%s/%s", root, FVM_STATE_FILE) >= (int)sizeof(file)) {
		return -ENAMETOOLONG;
	}
	fd = sys_openat(AT_FDCWD, file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		return fd;
	}
	ret = sys_fstat(fd, &st);
	if (ret == 0 && st.st_size < STATE_SIZE) {
		ret = sys_ftruncate(fd, STATE_SIZE); /* only ever grown: others may have it mapped */
	}
	map = ret == 0 ? sys_mmap(NULL, STATE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
		       : (void *)(long)ret;
	sys_close(fd);
	if ((unsigned long)map > -4096UL) {
		return (int)(long)map;
	}
	uint64_t zero = 0;
	__atomic_compare_exchange_n((uint64_t *)map, &zero, 1, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_RELAXED);
	zero = 0;
	__atomic_compare_exchange_n((uint64_t *)map + 1, &zero, 1, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_RELAXED);
	*counter = map;
	return 0;
}

void fvm_gen_unmap(uint64_t *counter)
{
	sys_munmap(counter, STATE_SIZE);
}

int fvm_gen_attach(struct fvm_vm *vm)
{
	uint64_t *map;
	int ret = fvm_gen_map(vm->root, &map);

	if (ret == 0) {
		vm->gen.counter = map;
		vm->gen.names = map + 1;
	}
	return ret;
}

void fvm_gen_bump(const struct fvm_vm *vm)
{
	if (vm->gen.counter) {
		__atomic_add_fetch(vm->gen.counter, 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(vm->gen.names, 1, __ATOMIC_RELEASE);
	}
}

void fvm_names_bump(const struct fvm_vm *vm)
{
	if (vm->gen.names) {
		__atomic_add_fetch(vm->gen.names, 1, __ATOMIC_RELEASE);
	}
}

uint64_t fvm_gen_now(const struct fvm_vm *vm)
{
	return vm->gen.counter ? __atomic_load_n(vm->gen.counter, __ATOMIC_ACQUIRE) : 0;
}

uint64_t fvm_names_gen(const struct fvm_vm *vm)
{
	return vm->gen.names ? __atomic_load_n(vm->gen.names, __ATOMIC_ACQUIRE) : 0;
}
