#!/usr/bin/env bash
# Compatibility: shared libraries the VM built, changed, deleted or installed, found by
# the dynamic loader itself (libfvm's loader module, libfvm/audit/; DESIGN.md "The
# loader"): through LD_LIBRARY_PATH, an rpath (absolute and $ORIGIN), dlopen of a bare
# name, the VM's own /etc/ld.so.cache (root: /usr/local/lib); a library the VM deleted
# or replaced; the program's environment as natively (no LD_AUDIT it did not set, a
# user's own LD_AUDIT kept). Each scenario runs natively and in a VM, outputs, status
# and trees compared, the host unchanged.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
command -v gcc >/dev/null || { skip shared_libraries "gcc is not installed"; done_testing; exit; }
export SOURCE_DATE_EPOCH=0
cd "$HOST" || exit 1 # the setup only: each check restores $HOST (a new directory)

cat > foo.c <<'EOF'
const char *foo(void) { return "foo " VERSION; }
EOF
cat > main.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
const char *foo(void);
int main(void)
{
	const char *a = getenv("LD_AUDIT");
	printf("%s; LD_AUDIT=%s\n", foo(), a ? a : "(unset)");
	return 0;
}
EOF
cat > plug.c <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	void *h = dlopen(argc > 1 ? argv[1] : "libplug.so", RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	const char *(*f)(void) = (const char *(*)(void))dlsym(h, "foo");
	printf("%s\n", f ? f() : "no foo");
	return 0;
}
EOF
cat > audit.c <<'EOF'
#include <link.h>
#include <unistd.h>
unsigned la_version(unsigned v) { (void)v; write(2, "user audit\n", 11); return LAV_CURRENT; }
EOF
# The host's own libbar in two directories of an rpath; a program linked against it.
mkdir -p lib1 lib2
gcc -shared -fPIC -DVERSION='"one"' -o lib1/libbar.so foo.c
gcc -shared -fPIC -DVERSION='"two"' -o lib2/libbar.so foo.c
gcc -o usebar main.c -Llib1 -lbar -Wl,-rpath,"$HOST/lib1:$HOST/lib2"
gcc -shared -fPIC -D_GNU_SOURCE -o useraudit.so audit.c
# A host program that finds its library beside it ($ORIGIN), a library the host lacks.
gcc -shared -fPIC -DVERSION='"host"' -o libfoo.so foo.c
gcc -o hostmain main.c -L. -lfoo -Wl,-rpath,'$ORIGIN'
rm libfoo.so
# The VM's /etc/ld.so.cache (root, below), made by ldconfig -r in a scratch root
# natively: it names /usr/local/lib/libfvmtestlc.so.1.
R=$T/ldroot
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$R/etc" "$R/usr/local/lib"
	echo /usr/local/lib > "$R/etc/ld.so.conf"
	gcc -shared -fPIC -Wl,-soname,libfvmtestlc.so.1 -DVERSION='"cache"' \
		-o "$R/usr/local/lib/libfvmtestlc.so.1" foo.c
	ldconfig -r "$R" 2>/dev/null
	cp "$R/usr/local/lib/libfvmtestlc.so.1" lc.so.1
	gcc -o lcmain main.c -L"$R/usr/local/lib" -l:libfvmtestlc.so.1
	gcc -o plug plug.c -ldl
fi
cd / || exit 1

BUILD='gcc -shared -fPIC -DVERSION="\"vm\"" -o libfoo.so foo.c'

vm_check ld_library_path_finds_a_library_built_here "set -e
$BUILD; gcc -o main main.c -L. -lfoo
LD_LIBRARY_PATH=\$PWD ./main"

vm_check ld_library_path_dir_made_here "set -e
mkdir -p new/lib; gcc -shared -fPIC -DVERSION='\"new\"' -o new/lib/libfoo.so foo.c
gcc -o main main.c -Lnew/lib -lfoo -lm
LD_LIBRARY_PATH=\$PWD/new/lib ./main; LD_LIBRARY_PATH=new/lib ./main"

# The loader stats a search directory where a library was missing (libm first) and skips
# it for the rest of the process when the host has none: a directory only the VM has
# is given to it by its real path, the shell still sees its own LD_LIBRARY_PATH.
vm_check ld_library_path_dir_made_here_missing_a_library_first "set -e
mkdir -p only; gcc -shared -fPIC -DVERSION='\"only\"' -o only/libfoo.so foo.c
gcc -o only/m2 main.c -Wl,--no-as-needed -lm -Lonly -lfoo
LD_LIBRARY_PATH=\$PWD/only only/m2
LD_LIBRARY_PATH=\$PWD/only bash -c 'echo \"\$LD_LIBRARY_PATH\" | sed \"s|\$PWD|.|\"; echo \"[\${LD_AUDIT-unset}] [\${FVM_AUDIT-unset}]\"; only/m2'"

vm_check rpath_absolute_to_a_dir_made_here "set -e
mkdir -p rp; gcc -shared -fPIC -DVERSION='\"rp\"' -o rp/libfoo.so foo.c
gcc -o main main.c -Lrp -lfoo -Wl,-rpath,\$PWD/rp; ./main
mkdir -p bin; cp main bin/; bin/main"

vm_check rpath_origin "set -e
mkdir -p app/bin app/lib; gcc -shared -fPIC -DVERSION='\"origin\"' -o app/lib/libfoo.so foo.c
gcc -o app/bin/main main.c -Lapp/lib -lfoo -Wl,-rpath,'\$ORIGIN/../lib'; app/bin/main; cd app/bin; ./main"

vm_check host_program_finds_its_library_made_here_by_origin "set -e
$BUILD; ./hostmain"
vm_check_fails host_program_without_its_library "./hostmain"

vm_check the_vms_version_of_a_host_library_wins "set -e
gcc -shared -fPIC -DVERSION='\"vm\"' -o lib1/libbar.so foo.c; ./usebar"

vm_check a_library_the_vm_deleted_is_not_found "set -e
./usebar; rm lib1/libbar.so; ./usebar"

vm_check_fails a_library_deleted_everywhere_is_missing "rm lib1/libbar.so lib2/libbar.so; ./usebar"

vm_check dlopen_of_a_bare_name_through_ld_library_path "set -e
gcc -shared -fPIC -DVERSION='\"plug\"' -o libplug.so foo.c; gcc -o plug plug.c -ldl
LD_LIBRARY_PATH=\$PWD ./plug; LD_LIBRARY_PATH=\$PWD ./plug libplug.so; ./plug \$PWD/libplug.so
./plug libnone.so || true"

vm_check dlopen_of_a_bare_name_through_origin_from_a_dir_made_here "set -e
mkdir -p pl; gcc -shared -fPIC -DVERSION='\"plug\"' -o pl/libplug.so foo.c
gcc -o pl/plug plug.c -ldl -Wl,-rpath,'\$ORIGIN'; pl/plug"

vm_check environment_keeps_a_users_own_ld_audit "set -e
$BUILD; gcc -o main main.c -L. -lfoo
LD_AUDIT=\$PWD/useraudit.so LD_LIBRARY_PATH=\$PWD ./main"

vm_check environment_of_host_programs_is_as_natively \
	"tr '\\0' '\\n' < /proc/self/environ | grep -c '^LD_AUDIT=' || true; env | grep -c AUDIT || true"

# The VM's own /etc/ld.so.cache, made by ldconfig -r in a scratch root natively (it
# names /usr/local/lib/libfoo.so.1), copied into the VM with the library: a program
# linked without an rpath finds it there, as after "make install; ldconfig".
if [ "$(id -u)" = 0 ]; then
	if ldconfig -r "$R" -p 2>/dev/null | grep -q libfvmtestlc && [ ! -e /usr/local/lib/libfvmtestlc.so.1 ]; then
		vm_expect installed_to_usr_local_lib_found_through_the_vms_ld_so_cache \
			"not found before install
foo cache; LD_AUDIT=(unset)
foo cache; LD_AUDIT=(unset)
./lcmain: error while loading shared libraries: libfvmtestlc.so.1: cannot open shared object file: No such file or directory" \
			"./lcmain 2>/dev/null || echo 'not found before install'
cp lc.so.1 /usr/local/lib/libfvmtestlc.so.1; cp '$R/etc/ld.so.cache' /etc/ld.so.cache; ./lcmain
./plug libfvmtestlc.so.1 | sed 's/\$/; LD_AUDIT=(unset)/'
rm /etc/ld.so.cache; ./lcmain"
		[ -e /usr/local/lib/libfvmtestlc.so.1 ] && not_ok host_usr_local_lib_untouched "the VM's install reached the host" || ok host_usr_local_lib_untouched
		# ldconfig (static-PIE) runs through fvm-pieload (before, the kernel mapped it where
		# the supervisor does not look: EROFS), and its chmod of the new cache by name is
		# the VM's in a root run too (before: ENOENT from the read-only host).
		cache_before=$(sha256sum < /etc/ld.so.cache)
		vm_expect ldconfig_in_the_vm_then_a_program_linked_against_it "foo cache; LD_AUDIT=(unset)" \
			"cp lc.so.1 /usr/local/lib/libfvmtestlc.so.1; ldconfig; ./lcmain"
		# The library built in the VM, installed there, then ldconfig: as after "make install".
		vm_expect ldconfig_after_installing_a_library_built_in_the_vm "foo vm; LD_AUDIT=(unset)" \
			"gcc -shared -fPIC -Wl,-soname,libfvmtestlc.so.1 -DVERSION='\"vm\"' -o /usr/local/lib/libfvmtestlc.so.1 foo.c
ldconfig && ./lcmain"
		[ "$(sha256sum < /etc/ld.so.cache)" = "$cache_before" ] && [ ! -e /usr/local/lib/libfvmtestlc.so.1 ] &&
			ok host_ld_so_cache_untouched_by_the_vms_ldconfig ||
			not_ok host_ld_so_cache_untouched_by_the_vms_ldconfig "the VM's ldconfig reached the host"
	else
		skip installed_to_usr_local_lib_found_through_the_vms_ld_so_cache "ldconfig -r cannot build a scratch cache here"
	fi
else
	skip installed_to_usr_local_lib_found_through_the_vms_ld_so_cache "needs root: /usr/local/lib is root's (natively as in the VM)"
fi
done_testing
