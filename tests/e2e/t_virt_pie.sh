#!/usr/bin/env bash
# Static-PIE programs (issue 14; docs/DESIGN.md "Static-PIE programs"): the kernel maps
# one where libraries lie, outside the ranges the supervisor's filter notifies, so it
# was only fenced: it saw the host's files, its writes failed. libfvm's exec now runs
# it through fvm-pieload, which maps it below 0x2a0000000000: its calls are answered in
# the VM's namespace as a static program's. Each scenario runs natively and in a VM
# (outputs, exit status and trees compared, the host unchanged); fsprobe-spie is built
# -static-pie (tests/helpers/fsprobe.c), and Debian's ldconfig is one too.
. "$(dirname "$0")/../lib/harness.sh"

P=$TOP/build/tests/helpers/fsprobe-spie
if [ ! -x "$P" ] || ! file -L "$P" 2>/dev/null | grep -q 'static-pie'; then
	skip static_pie "build/tests/helpers/fsprobe-spie is missing (make tests-bin)"
	done_testing
	exit
fi
if [ "$(uname -m)" != x86_64 ]; then
	skip static_pie "the supervisor's instruction-pointer rule is x86_64's"
	done_testing
	exit
fi
echo host > "$HOST/old"
echo gone > "$HOST/gone"
mkdir "$HOST/dir"
echo inside > "$HOST/dir/f"
snapshot_host

# The program's code lies where the filter notifies (natively it does not).
vm_expect "static_pie_code_lies_where_the_supervisor_sees_it ($(whoami_tag))" "code low" "'$P' code"

vm_check "static_pie_sees_the_vm ($(whoami_tag))" "
echo new > new; rm gone; mkdir made; echo changed > dir/f
'$P' stat new : stat gone : stat made : cat new : cat dir/f : ls . : ls dir : cat gone"

vm_check "static_pie_writes_the_vm ($(whoami_tag))" "
'$P' write old rewritten : append dir/f more : write fresh x : rm gone : mkdir d2 : write d2/g y
cat old dir/f fresh d2/g; ls"

vm_check "static_pie_start_is_as_natively ($(whoami_tag))" "
'$P' self arg; '$P' env FVM_PIE_PROGRAM"

# Found by a PATH search and run by its own name; a copy the VM made (in upper/ only)
# runs too, relative to a working directory only the VM has.
vm_check "static_pie_through_path_and_made_in_the_vm ($(whoami_tag))" "
mkdir -p bin/sub; cp '$P' bin/probe; PATH=\$PWD/bin:\$PATH probe self : stat bin/probe
cd bin/sub && ../probe stat ../probe : write here z && cat here"

# posix_spawn (libfvm's spawn_common) runs it the same way.
if command -v python3 > /dev/null; then
	vm_check "static_pie_through_posix_spawn ($(whoami_tag))" "echo new > new; rm gone
python3 -c 'import os,sys; p=os.posix_spawn(sys.argv[1], [\"probe\", \"cat\", \"new\", \":\", \"stat\", \"gone\"], os.environ); print(os.waitpid(p, 0)[1])' '$P'"
fi

# Its exit status is the program's; an error is its own.
vm_check_fails "static_pie_exit_status_is_the_programs ($(whoami_tag))" "'$P' bogus-op"

# Debian's ldconfig: -n makes the soname links of a library the VM built, in the VM.
if file -L /sbin/ldconfig 2>/dev/null | grep -q 'static-pie'; then
	vm_check "ldconfig_links_a_library_made_in_the_vm ($(whoami_tag))" "
mkdir lib; echo 'int f(void){return 1;}' > f.c
gcc -shared -fPIC -Wl,-soname,libpf.so.1 -o lib/libpf.so.1.0 f.c && /sbin/ldconfig -n lib && ls lib
readlink lib/libpf.so.1"
	# A cache of its own, written by a user: -C and -f name it and its configuration.
	# ldconfig chmods the new cache by name before its rename (a root run's too: before,
	# ENOENT from the read-only host).
	vm_check "ldconfig_writes_a_cache_in_the_vm ($(whoami_tag))" "
mkdir lib; echo 'int f(void){return 1;}' > f.c
gcc -shared -fPIC -Wl,-soname,libpf.so.1 -o lib/libpf.so.1 f.c; echo \$PWD/lib > conf
/sbin/ldconfig -X -C \$PWD/cache -f \$PWD/conf && /sbin/ldconfig -C \$PWD/cache -p | grep -c libpf"
	# No warning: the program is virtualized (before: \"statically linked ... only fenced\").
	out=$(cd "$HOST" && "$FVM_EXEC" -n warn -- /sbin/ldconfig -p 2>&1 >/dev/null)
	[ -z "$out" ] && ok "static_pie_exec_is_not_warned ($(whoami_tag))" ||
		not_ok "static_pie_exec_is_not_warned ($(whoami_tag))" "stderr: $out"
else
	skip ldconfig_links_a_library_made_in_the_vm "/sbin/ldconfig is not static-PIE here"
fi
# A static program's execve of a static-PIE does not pass libfvm, so fvm-pieload does not
# run it: the supervisor says so once per run (on the caller's stderr and in the VM's
# log), and the program runs only fenced (its code lies high: the filter does not see it).
VCH=$TOP/build/tests/helpers/vchdir-static
if [ -x "$VCH" ]; then
	W="static-PIE program run by a static program's execve"
	vm_expect "static_pie_from_a_static_caller_is_warned_once ($(whoami_tag))" "code high
code high
1" "for i in 1 2; do '$VCH' . old '$P' code 2>> warn | grep code; done; grep -c \"is a $W\" warn"
	n=$(grep -c "is a $W" "$FVM_HOME/vms/$LAST_VM/log" 2>&1)
	[ "$n" = 1 ] && ok "static_pie_from_a_static_caller_is_in_the_log ($(whoami_tag))" ||
		not_ok "static_pie_from_a_static_caller_is_in_the_log ($(whoami_tag))" "got: $n"
else
	skip static_pie_from_a_static_caller_is_warned_once "build/tests/helpers/vchdir-static is not built"
	skip static_pie_from_a_static_caller_is_in_the_log "build/tests/helpers/vchdir-static is not built"
fi
# fexecve of a static-PIE without a name (a memfd, from python3, through libfvm's
# fexecve): fvm-pieload cannot open it, so it runs only fenced, and libfvm says so.
if command -v python3 > /dev/null; then
	vm_expect "nameless_static_pie_is_warned ($(whoami_tag))" "code high
1" "python3 -c 'import os, sys
fd = os.memfd_create(\"spie\", 0)
os.write(fd, open(sys.argv[1], \"rb\").read())
os.execve(fd, [\"spie\", \"code\"], dict(os.environ))' '$P' 2> warn; grep -c 'without a name, which fvm-pieload cannot open' warn"
else
	skip nameless_static_pie_is_warned "no python3"
fi
host_unchanged && ok "host_unchanged ($(whoami_tag))" || not_ok "host_unchanged ($(whoami_tag))"
done_testing
