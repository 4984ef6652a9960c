#!/usr/bin/env bash
# A static program's chdir into a directory only the VM has (issue 14; virtguard.c
# chdir_by_trace; docs/DESIGN.md "chdir into a directory only the VM has"): the
# supervisor makes the caller's thread fchdir to the directory it opened beneath upper/,
# so the static program (tests/helpers/vchdir.c, built -static) then reads its getcwd as
# the VM's name, opens a relative name in the VM, and a dynamic program it execs from
# there (libfvm) sees the same working directory — as natively. Before: ENOENT, and
# fvm-exec's warning. A thread the supervisor cannot trace (traced already) still gets
# ENOENT and the warning, once per run. Its execve of a program only the VM has runs it
# (before: ENOENT). Run as root and as the test user.
. "$(dirname "$0")/../lib/harness.sh"

VCH=$TOP/build/tests/helpers/vchdir-static
if [ ! -x "$VCH" ]; then
	skip static_chdir "build/tests/helpers/vchdir-static is not built (make tests-bin)"
	done_testing
	exit
fi
mkdir -p "$HOST/hostdir"
echo host > "$HOST/hostdir/f"
snapshot_host
# fvm-exec's once-per-exec note about a static program is not the point here
V='v() { "'"$VCH"'" "$@" 2>&1 | grep -v "is statically linked"; }'

vm_check "static_chdir_absolute_getcwd_open_exec ($(whoami_tag))" "$V"'
mkdir -p made/sub; echo vm > made/sub/f
v "$PWD/made/sub" f /bin/pwd
v "$PWD/made/sub" f /bin/sh -c "pwd -P; cat f; echo new > g"; cat made/sub/g'
vm_check "static_chdir_relative_and_short_names ($(whoami_tag))" "$V"'
mkdir -p made/sub; echo vm > made/sub/f
v made/sub f /bin/pwd
v made sub/f /bin/pwd
cd made && v sub f /bin/pwd
cd sub && v .. sub/f /bin/pwd'
# a host directory the VM changed, then one the VM removed: answered as in the VM
vm_check "static_chdir_into_changed_and_removed_dirs ($(whoami_tag))" "$V"'
echo vm > hostdir/f; v hostdir f /bin/pwd
rm -r hostdir; v hostdir f'
# execve of a program only the VM has (exec_by_trace): a binary, a script (its $0 is
# /dev/fd/N, as fexecve's: not compared), a missing one, one not executable.
vm_check "static_exec_of_a_vms_program ($(whoami_tag))" "$V"'
mkdir -p made; echo vm > made/f; cp /bin/echo made/myecho; echo "echo script \$1" > made/s.sh; chmod +x made/s.sh
echo no > made/noexec; printf "#!/bin/sh\necho script \$1\n" > made/s2.sh; chmod +x made/s2.sh
v made f "$PWD/made/s2.sh" arg2; v made f "$PWD/made/myecho" hi; v made f "$PWD/made/s.sh" arg; v made f "$PWD/made/nothere"
v made f "$PWD/made/noexec"; v made f "$PWD/made"'
# A process the supervisor cannot trace (its parent traces it): ENOENT, named once.
{
	out=$(cd "$HOST" && "$FVM_EXEC" -n w -- sh -c "mkdir -p vmonly/d; '$VCH' -t vmonly/d; '$VCH' -t vmonly/d" 2>&1)
	if [[ $out == *"seize"* ]]; then
		skip static_chdir_it_cannot_virtualize_is_named "the VM may not ptrace its own child here: $out"
	elif [[ $out == *"chdir to $HOST/vmonly/d, a directory only the VM has, is not virtualized"* ]] &&
		[ "$(grep -c 'is not virtualized' <<< "$out")" = 1 ] &&
		[ "$(grep -c 'chdir No such file or directory' <<< "$out")" = 2 ]; then
		ok "static_chdir_it_cannot_virtualize_is_named ($(whoami_tag))"
	else
		not_ok "static_chdir_it_cannot_virtualize_is_named ($(whoami_tag))" "$out"
	fi
}
host_unchanged > "$T/why" 2>&1 && ok "host_unchanged ($(whoami_tag))" || not_ok "host_unchanged ($(whoami_tag))" "$(cat "$T/why")"
done_testing
