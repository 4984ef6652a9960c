/*
 * test_ipc.c — per-VM IPC names (core ipcname.c, ipcreg.c) and fvm rm's removal of a
 * VM's IPC objects (fvm-exec/ipc_store.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fvm/ipcname.h"
#include "store/ipc_store.h"

static void hexof(const void *data, size_t len, char out[65])
{
	uint8_t d[32];
	fvm_sha256(data, len, d);
	for (int i = 0; i < 32; i++) {
		sprintf(out + 2 * i, "%02x", d[i]);
	}
}

static void sha256_matches_known_vectors(void **state)
{
	char out[65], big[1000];
	(void)state;
	hexof("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hexof("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	memset(big, 'a', sizeof(big));
	hexof(big, sizeof(big), out);
	assert_string_equal(out, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
	memset(big, 'b', 56); /* the padding spills into a second block */
	hexof(big, 56, out);
	assert_string_equal(out, "a5fc6e203a4c2b657d0d153885932414b2ffc6a93f0f8bf8b3183315e5a7212c");
}

static void prefix_names_the_vm_and_differs_per_store(void **state)
{
	char a[FVM_IPC_PREFIX_MAX], b[FVM_IPC_PREFIX_MAX];
	(void)state;
	assert_int_equal(fvm_ipc_prefix("/home/u/.local/share/fvm/vms/build", a, sizeof(a)), 19);
	assert_memory_equal(a, "fvm.build.", 10);
	assert_int_equal(a[18], '.');
	fvm_ipc_prefix("/home/v/.local/share/fvm/vms/build", b, sizeof(b));
	assert_string_not_equal(a, b);
	fvm_ipc_prefix("/home/u/.local/share/fvm/vms/build", b, sizeof(b));
	assert_string_equal(a, b);
}

static void short_names_get_the_prefix_long_ones_a_stable_hash(void **state)
{
	char out[300], again[300], other[300], name[256];
	const char *pfx = "fvm.vm.01234567.";
	int shortened;
	(void)state;
	assert_int_equal(fvm_ipc_map(pfx, "demo", 4, 255, out, sizeof(out)), 20);
	assert_string_equal(out, "fvm.vm.01234567.demo");
	assert_string_equal(fvm_ipc_unmap(pfx, out, 20, &shortened), "demo");
	assert_int_equal(shortened, 0);
	assert_null(fvm_ipc_unmap("fvm.other.01234567.", out, 20, &shortened));

	memset(name, 'x', 250);
	name[250] = '\0';
	assert_int_equal(fvm_ipc_map(pfx, name, 250, 255, out, sizeof(out)), 255);
	assert_int_equal(strlen(out), 255);
	assert_int_equal(fvm_ipc_map(pfx, name, 250, 255, again, sizeof(again)), 255);
	assert_string_equal(out, again);
	name[249] = 'y'; /* differs only at the end, beyond the kept head */
	fvm_ipc_map(pfx, name, 250, 255, other, sizeof(other));
	assert_string_not_equal(out, other);
	assert_non_null(fvm_ipc_unmap(pfx, out, 255, &shortened));
	assert_int_equal(shortened, 1);
	/* A limit that cannot hold prefix and hash is refused, not overrun. */
	assert_int_equal(fvm_ipc_map(pfx, name, 250, 30, out, sizeof(out)), -EINVAL);
}

static void abstract_names_with_nuls_map_whole(void **state)
{
	char a[128], b[128];
	const char *pfx = "fvm.vm.01234567.";
	(void)state;
	int n = fvm_ipc_map(pfx, "a\0b", 3, 107, a, sizeof(a));
	assert_int_equal(n, 19);
	assert_memory_equal(a + 16, "a\0b", 3);
	fvm_ipc_map(pfx, "a\0c", 3, 107, b, sizeof(b));
	assert_memory_not_equal(a, b, 19);
}

static void keys_are_per_vm_and_never_private(void **state)
{
	(void)state;
	int32_t a = fvm_ipc_key("fvm.a.00000000.", 1234), b = fvm_ipc_key("fvm.b.00000000.", 1234);
	assert_int_not_equal(a, b);
	assert_int_equal(a, fvm_ipc_key("fvm.a.00000000.", 1234));
	assert_int_not_equal(a, fvm_ipc_key("fvm.a.00000000.", 1235));
	for (int k = 1; k < 2000; k++) {
		assert_int_not_equal(fvm_ipc_key("fvm.a.00000000.", k), IPC_PRIVATE);
	}
}

static void loopback_is_in_127_8_and_never_127_0_0(void **state)
{
	char pfx[32];
	(void)state;
	for (int i = 0; i < 500; i++) {
		snprintf(pfx, sizeof(pfx), "fvm.vm%d.00000000.", i);
		uint32_t a = fvm_ipc_loopback(pfx);
		assert_int_equal(a >> 24, 127);
		assert_int_not_equal((a >> 16) & 0xff, 0);
		assert_int_not_equal((a >> 16) & 0xff, 255);
		assert_int_not_equal(a & 0xff, 0);
		assert_int_not_equal(a & 0xff, 255);
	}
	assert_int_equal(fvm_ipc_loopback("fvm.x.1."), fvm_ipc_loopback("fvm.x.1."));
}

static int count_line(const char *kind, const char *mapped, const char *orig, void *arg)
{
	char *seen = arg;
	strcat(seen, kind);
	strcat(seen, ":");
	strcat(seen, mapped);
	strcat(seen, ":");
	strcat(seen, orig);
	strcat(seen, ";");
	return 0;
}

static char tmpl[32];

/* A VM directory under a temporary store: .../vms/NAME. */
static char *make_vmdir(char *buf, size_t len, const char *name)
{
	strcpy(tmpl, "/tmp/fvm-test-ipc.XXXXXX");
	assert_non_null(mkdtemp(tmpl));
	snprintf(buf, len, "%s/vms", tmpl);
	assert_int_equal(mkdir(buf, 0755), 0);
	snprintf(buf, len, "%s/vms/%s", tmpl, name);
	assert_int_equal(mkdir(buf, 0755), 0);
	return buf;
}

static void rm_tree(void)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
}

static void registry_keeps_escaped_original_names(void **state)
{
	char vmdir[PATH_MAX], seen[1024] = "";
	(void)state;
	make_vmdir(vmdir, sizeof(vmdir), "reg");
	assert_int_equal(fvm_ipc_record(vmdir, "shm", "fvm.reg.1.a", "a"), 0);
	assert_int_equal(fvm_ipc_record(vmdir, "mq", "fvm.reg.1.b", "line\nbreak\\ x"), 0);
	assert_int_equal(fvm_ipc_each(vmdir, count_line, seen), 0);
	assert_string_equal(seen, "shm:fvm.reg.1.a:a;mq:fvm.reg.1.b:line\nbreak\\ x;");
	rm_tree();
}

/*
 * A mapped name carries the name a program of the VM chose: a newline in it must not
 * add a line of the VM's choosing ("shmkey KEY"), which fvm rm would act on.
 */
/* Names the VM chose, with blanks and newlines, stay one record each, read back exact. */
static void registry_names_cannot_forge_records(void **state)
{
	char vmdir[PATH_MAX], seen[1024] = "";
	(void)state;
	make_vmdir(vmdir, sizeof(vmdir), "forge");
	assert_int_equal(fvm_ipc_record(vmdir, "shm", "fvm.forge.1.x\nshmkey 1234 y", "x\nshmkey 1234 y"), 0);
	assert_int_equal(fvm_ipc_record(vmdir, "mq", "fvm.forge.1.a b", "a b"), 0);
	assert_int_equal(fvm_ipc_record(vmdir, "shm\nshmkey", "1234", "x"), -EINVAL);
	assert_int_equal(fvm_ipc_record(vmdir, "", "fvm.forge.1.x", "x"), -EINVAL);
	assert_int_equal(fvm_ipc_each(vmdir, count_line, seen), 0);
	assert_string_equal(seen, "shm:fvm.forge.1.x\nshmkey 1234 y:x\nshmkey 1234 y;mq:fvm.forge.1.a b:a b;");
	rm_tree();
}

static bool shm_exists(const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return access(path, F_OK) == 0;
}

static void remove_ipc_takes_the_vms_objects_and_nothing_else(void **state)
{
	char vmdir[PATH_MAX], pfx[FVM_IPC_PREFIX_MAX], name[NAME_MAX + 2], other[NAME_MAX + 2],
		vname[64], mapped[32];
	struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 16};
	(void)state;
	snprintf(vname, sizeof(vname), "rm%d", (int)getpid());
	make_vmdir(vmdir, sizeof(vmdir), vname);
	assert_true(fvm_ipc_prefix(vmdir, pfx, sizeof(pfx)) > 0);

	/* What the VM made: shm, sem, queue (registered), a SysV segment (registered). */
	snprintf(name, sizeof(name), "/%sdemo", pfx);
	int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	sem_t *s = sem_open(name, O_CREAT, 0600, 1);
	assert_true(s != SEM_FAILED);
	sem_close(s);
	mqd_t q = mq_open(name, O_RDWR | O_CREAT, 0600, &attr);
	assert_true(q != (mqd_t)-1);
	mq_close(q);
	assert_int_equal(fvm_ipc_record(vmdir, "mq", name + 1, "demo"), 0);
	key_t key = fvm_ipc_key(pfx, 4242);
	int id = shmget(key, 4096, IPC_CREAT | 0600);
	assert_true(id >= 0);
	snprintf(mapped, sizeof(mapped), "%d", (int)key);
	assert_int_equal(fvm_ipc_record(vmdir, "shmkey", mapped, "4242"), 0);

	/* Not the VM's: a name of another VM that shares the first letters. */
	snprintf(other, sizeof(other), "/fvm.%sx.%s", vname, pfx + strlen(vname) + 5);
	fd = shm_open(other, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(store_remove_ipc(vmdir), 0);
	assert_false(shm_exists(name + 1));
	char semfile[NAME_MAX + 8];
	snprintf(semfile, sizeof(semfile), "sem.%s", name + 1);
	assert_false(shm_exists(semfile));
	assert_true(mq_open(name, O_RDONLY) == (mqd_t)-1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(shmget(key, 0, 0), -1);
	assert_true(shm_exists(other + 1));
	/* A second removal finds nothing and is no error. */
	assert_int_equal(store_remove_ipc(vmdir), 0);
	shm_unlink(other);
	rm_tree();
}

static void shmdir_is_the_prefix_less_its_dot_beneath_dev_shm(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(fvm_ipc_shmdir("fvm.a.0123abcd.", out, sizeof(out)), 23);
	assert_string_equal(out, "/dev/shm/fvm.a.0123abcd");
	assert_int_equal(fvm_ipc_shmdir("fvm.a.0123abcd.", out, 10), -ENAMETOOLONG);
}

/* The VM's /dev/shm directory goes whole; the control area's registry is obeyed. */
static void remove_ipc_takes_the_shm_directory_and_the_control_registry(void **state)
{
	char vmdir[PATH_MAX], ctldir[PATH_MAX + 80], pfx[FVM_IPC_PREFIX_MAX], dir[PATH_MAX], path[PATH_MAX + 128],
		vname[64], mapped[32];
	(void)state;
	snprintf(vname, sizeof(vname), "rd%d", (int)getpid());
	make_vmdir(vmdir, sizeof(vmdir), vname);
	assert_true(fvm_ipc_prefix(vmdir, pfx, sizeof(pfx)) > 0);
	assert_true(fvm_ipc_shmdir(pfx, dir, sizeof(dir)) > 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/%sobj", dir, pfx);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/link", dir);
	assert_int_equal(symlink("/etc/hostname", path), 0);

	snprintf(ctldir, sizeof(ctldir), "%s/ctl", tmpl);
	assert_int_equal(mkdir(ctldir, 0700), 0);
	snprintf(ctldir, sizeof(ctldir), "%s/ctl/%s", tmpl, vname);
	assert_int_equal(mkdir(ctldir, 0700), 0);
	key_t key = fvm_ipc_key(pfx, 4343);
	int id = shmget(key, 4096, IPC_CREAT | 0600);
	assert_true(id >= 0);
	snprintf(mapped, sizeof(mapped), "%d", (int)key);
	assert_int_equal(fvm_ipc_record(ctldir, "shmkey", mapped, "4343"), 0);

	assert_int_equal(store_remove_ipc(vmdir), 0);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(access("/etc/hostname", F_OK), 0);
	assert_int_equal(shmget(key, 0, 0), -1);
	rm_tree();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_matches_known_vectors),
		cmocka_unit_test(prefix_names_the_vm_and_differs_per_store),
		cmocka_unit_test(short_names_get_the_prefix_long_ones_a_stable_hash),
		cmocka_unit_test(abstract_names_with_nuls_map_whole),
		cmocka_unit_test(keys_are_per_vm_and_never_private),
		cmocka_unit_test(loopback_is_in_127_8_and_never_127_0_0),
		cmocka_unit_test(registry_keeps_escaped_original_names),
		cmocka_unit_test(registry_names_cannot_forge_records),
		cmocka_unit_test(remove_ipc_takes_the_vms_objects_and_nothing_else),
		cmocka_unit_test(shmdir_is_the_prefix_less_its_dot_beneath_dev_shm),
		cmocka_unit_test(remove_ipc_takes_the_shm_directory_and_the_control_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
