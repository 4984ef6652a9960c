# harness.sh — the VM test harness, sourced by every preload, e2e and compat test.
#
# Each test file gets a temporary tree:  $T/host (the "host" tree a test builds),
# $T/store (FVM_HOME), $T/pristine (a copy of host to restore between checks).
# Output is TAP. FVM_TEST_KEEP=1 keeps $T for a look after a failure.
#
#   vm_check NAME SCRIPT   runs SCRIPT (sh -c, cwd $HOST) inside a fresh VM, checks
#                          that the host manifest is unchanged, runs it natively on the
#                          same tree, requires the native run to succeed (exit 0: a
#                          scenario broken on this machine fails, it does not pass as
#                          "both failed alike"), and compares stdout+stderr, exit status
#                          and the resulting tree (as the VM sees it vs. as the host has it).
#   vm_check_fails NAME SCRIPT
#                          the same for a scenario whose point is a failure: requires
#                          SCRIPT to fail natively (exit != 0), then compares the exit
#                          status, the error output and the tree as vm_check does.
#   vm_expect NAME EXPECTED SCRIPT
#                          runs SCRIPT in a VM only; compares its output with EXPECTED
#                          and checks the host manifest is unchanged.
#   golden_check NAME GOLDEN-FILE GOT-FILE
#                          compares GOT-FILE with the golden file; never writes it.
#                          When FVM_GOLDEN_OUT names a directory (tests/golden-update
#                          sets it), a mismatching output is also copied there, for the
#                          update to review: the check fails all the same.
#   ok / not_ok / skip     raw TAP lines; done_testing prints the plan.
#   TODO="issue K: why"   set just before a check (or as a prefix of it), marks that
#                          one check a known bug that open issue K fixes: "not ok N - name # TODO issue K: why" is an expected
#                          failure (run-all counts it apart; the script still exits 0),
#                          "ok N - name # TODO ..." tells run-all the mark outlived the fix.
#
# VOLATILE (default none) is an extended regex of paths whose contents legitimately
# differ between two runs (git's index records inode numbers and ctimes): the manifest
# keeps their type, mode and owner but not their size and hash.
# VM_SHELL (default sh) is the shell that runs SCRIPT, natively and in the VM alike.
# vm_check_ok NAME SCRIPT is vm_check (its former stricter form, now the default).
# When FVM_COMPAT_LOG names a file, each check appends "NAME<TAB>native_rc<TAB>vm_rc<TAB>
# ok|fail|skip" to it: tests/compat/run builds its table from these lines.
# FVM_TOOLS_DIR (default $TOP/fvm-exec) is where fvm-exec and fvm are taken from: make
# check-sanitize points it at the sanitized build of the tools.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FVM_TOOLS_DIR=${FVM_TOOLS_DIR:-$TOP/fvm-exec}
FVM_EXEC=$FVM_TOOLS_DIR/fvm-exec
FVM=$FVM_TOOLS_DIR/fvm
T=$(mktemp -d "${TMPDIR:-/tmp}/fvm-test.XXXXXX")
HOST=$T/host
export FVM_HOME=$T/store
mkdir -p "$HOST"
TAP_N=0
TAP_FAILED=0
VM_SEQ=0
LC_ALL=C
export LC_ALL

cleanup() {
	if [ "${FVM_TEST_KEEP:-0}" = 1 ]; then
		echo "# kept $T"
	else
		chmod -R u+rwX "$T" 2>/dev/null
		rm -rf "$T"
	fi
}
trap cleanup EXIT

VM_SHELL=${VM_SHELL:-sh}
LAST_NATIVE_RC=- LAST_VM_RC=-

# compat_log NAME RESULT: one record for tests/compat/run; the rcs of the last check.
compat_log() {
	[ -n "${FVM_COMPAT_LOG:-}" ] || return 0
	printf '%s\t%s\t%s\t%s\n' "$1" "$LAST_NATIVE_RC" "$LAST_VM_RC" "$2" >> "$FVM_COMPAT_LOG"
}
# TODO="issue K: why", set just before ok or not_ok, marks that one test an expected
# failure (a known bug open issue K fixes): "not ok ... # TODO ..." is not counted as a
# failure; "ok ... # TODO ..." (the mark outlived the fix) is one under FVM_TEST_STRICT=1.
TODO=
ok() {
	TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1${TODO:+ # TODO $TODO}"
	[ -n "$TODO" ] && [ "${FVM_TEST_STRICT:-0}" = 1 ] && TAP_FAILED=$((TAP_FAILED + 1))
	TODO=; compat_log "$1" ok; LAST_NATIVE_RC=- LAST_VM_RC=-
}
not_ok() {
	TAP_N=$((TAP_N + 1)); [ -n "$TODO" ] || TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1${TODO:+ # TODO $TODO}"
	TODO=; compat_log "$1" fail; LAST_NATIVE_RC=- LAST_VM_RC=-
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
	return 0
}
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; compat_log "$1" skip; }
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" = 0 ]; }
whoami_tag() { [ "$(id -u)" = 0 ] && echo root || echo "user $(id -un)"; }

# manifest DIR: one line per object: path, type, mode, owner, size, hash or link target.
manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%p\t%y\t%m\t%U:%G\t%s\t%l\n' | sort |
		while IFS=$'\t' read -r p y m o s l; do
			case $y in
			f) h=$(sha256sum < "$p" | cut -c1-16) ;;
			d) h=- s=- ;;
			*) h=- ;;
			esac
			if [ -n "${VOLATILE:-}" ] && [[ $p =~ $VOLATILE ]]; then s=- h=volatile; fi
			printf '%s %s %s %s %s %s %s\n' "$p" "$y" "$m" "$o" "$s" "$h" "$l"
		done)
}

# The tree as a process sees it: the same manifest, computed inside the VM.
vm_manifest() {
	VOLATILE=${VOLATILE:-} "$FVM_EXEC" -n "$1" -- bash -c \
		"$(declare -f manifest); manifest '$HOST'"
}

snapshot_host() { rm -rf "$T/pristine"; cp -a "$HOST" "$T/pristine"; VOLATILE= manifest "$HOST" > "$T/host.manifest"; }
restore_host() { rm -rf "$HOST"; cp -a "$T/pristine" "$HOST"; }

# host_unchanged: 0 when the host tree matches the snapshot; prints a diff otherwise.
host_unchanged() {
	VOLATILE= manifest "$HOST" > "$T/host.after"
	diff -u "$T/host.manifest" "$T/host.after" > "$T/host.diff" && return 0
	cat "$T/host.diff"
	return 1
}

vm_check() {
	local name=$1 script=$2 vm
	VM_SEQ=$((VM_SEQ + 1)); vm="t$VM_SEQ"
	snapshot_host
	local vm_out native_out vm_rc native_rc vm_tree native_tree
	vm_out=$(cd "$HOST" && "$FVM_EXEC" -n "$vm" -- "$VM_SHELL" -c "$script" 2>&1); vm_rc=$?
	LAST_VM_RC=$vm_rc
	if ! host_unchanged > "$T/why" 2>&1; then
		not_ok "$name (host changed)" "$(cat "$T/why")"
		restore_host
		return
	fi
	vm_tree=$(vm_manifest "$vm" 2>&1)
	native_out=$(cd "$HOST" && "$VM_SHELL" -c "$script" 2>&1); native_rc=$?
	LAST_NATIVE_RC=$native_rc
	native_tree=$(manifest "$HOST")
	restore_host
	if [ "${VM_CHECK_EXPECT:-ok}" = ok ] && [ "$native_rc" != 0 ]; then
		not_ok "$name" "the scenario fails natively (exit $native_rc): fix the test," \
			"or use vm_check_fails if the failure is its point" "native: $native_out"
	elif [ "${VM_CHECK_EXPECT:-ok}" = fail ] && [ "$native_rc" = 0 ]; then
		not_ok "$name" "the scenario is expected to fail, but succeeds natively" \
			"native: $native_out"
	elif [ "$vm_rc" != "$native_rc" ]; then
		not_ok "$name" "exit status: native $native_rc, VM $vm_rc" "native: $native_out" "VM: $vm_out"
	elif [ "$vm_out" != "$native_out" ]; then
		not_ok "$name" "output differs (native, then VM):" "$(diff <(echo "$native_out") <(echo "$vm_out"))"
	elif [ "$vm_tree" != "$native_tree" ]; then
		not_ok "$name" "resulting tree differs (native, then VM):" \
			"$(diff <(echo "$native_tree") <(echo "$vm_tree"))"
	else
		ok "$name"
	fi
}

vm_check_ok() { VM_CHECK_EXPECT=ok vm_check "$@"; }
vm_check_fails() { VM_CHECK_EXPECT=fail vm_check "$@"; }

vm_expect() {
	local name=$1 expected=$2 script=$3 vm out
	VM_SEQ=$((VM_SEQ + 1)); vm="t$VM_SEQ"
	snapshot_host
	out=$(cd "$HOST" && "$FVM_EXEC" -n "$vm" -- "$VM_SHELL" -c "$script" 2>&1)
	LAST_VM_RC=$?
	if ! host_unchanged > "$T/why" 2>&1; then
		not_ok "$name (host changed)" "$(cat "$T/why")"
		restore_host
	elif [ "$out" != "$expected" ]; then
		not_ok "$name" "expected:" "$expected" "got:" "$out"
	else
		ok "$name"
	fi
	LAST_VM=$vm
}

golden_check() {
	if diff -u "$2" "$3" > "$T/golden.diff" 2>&1; then
		ok "$1"
		return
	fi
	not_ok "$1" "$(cat "$T/golden.diff")"
	if [ -n "${FVM_GOLDEN_OUT:-}" ] && [ -d "$FVM_GOLDEN_OUT" ]; then
		cp "$3" "$FVM_GOLDEN_OUT/$(basename "$2")"
	fi
}

# without_fence REASON: the rest of this file runs fvm-exec with --enforce off, to test
# libfvm's own layer where the kernel fence (tested in e2e/t_exec_fence.sh) would
# answer first or differently. The reason is printed as a TAP comment.
without_fence() {
	echo "# without the kernel fence: $1"
	printf '#!/bin/sh\nexec "%s" --enforce off "$@"\n' "$FVM_TOOLS_DIR/fvm-exec" > "$T/fvm-exec-nofence"
	chmod 755 "$T/fvm-exec-nofence"
	FVM_EXEC=$T/fvm-exec-nofence
}
