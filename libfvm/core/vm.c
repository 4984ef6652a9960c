/*
 * vm.c — setting a VM up: its name and the paths of its root, upper/, work/ and the
 * store it must not see (fvm/vm.h).
 *
 * Invariants: every path kept is absolute and lexically normal, and fits its buffer
 * with room for a virtual path behind it where one is joined on (upper/).
 */
#include <errno.h>
#include <string.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "fvm/sys.h"
#include "fvm/vm.h"

int fvm_vm_setup(struct fvm_vm *vm, const char *name, const char *root, const char *home)
{
	size_t rl = strlen(root);

	/* Field by field, not memset: libfvm's start touches only the pages it uses. */
	vm->name[0] = vm->root[0] = vm->upper[0] = vm->work[0] = vm->home[0] = '\0';
	vm->root_len = vm->upper_len = vm->home_len = 0;
	vm->policy = NULL;
	vm->is_root = false;
	vm->fowner = false;
	vm->gen.counter = NULL;
	vm->quota = NULL;
	vm->copyup_broker = NULL;
	if (root[0] != '/' || (home && home[0] != '/')) {
		return -EINVAL;
	}
	if (strlen(name) >= sizeof(vm->name) || rl + sizeof("/upper") > sizeof(vm->root) ||
	    (home && strlen(home) >= sizeof(vm->home))) {
		return -ENAMETOOLONG;
	}
	strcpy(vm->name, name);
	vm->root_len = (size_t)fvm_path_normalize(root, vm->root, sizeof(vm->root), true);
	vm->upper_len = vm->root_len + 1 + strlen(FVM_UPPER_DIR);
	memcpy(vm->upper, vm->root, vm->root_len);
	vm->upper[vm->root_len] = '/';
	strcpy(vm->upper + vm->root_len + 1, FVM_UPPER_DIR);
	memcpy(vm->work, vm->root, vm->root_len);
	vm->work[vm->root_len] = '/';
	strcpy(vm->work + vm->root_len + 1, FVM_WORK_DIR);
	if (home) {
		vm->home_len = (size_t)fvm_path_normalize(home, vm->home, sizeof(vm->home), true);
	}
	vm->is_root = sys_geteuid() == 0;
	vm->fowner = vm->is_root;
	return 0;
}
