# harness.sh — the VM test harness, sourced by every preload, e2e and compat test.
#
# Each test file gets a temporary tree:  $T/host (the "host" tree a test builds),
# $T/store (FVM_HOME), $T/pristine (a copy of host to restore between checks).
# Output is TAP. FVM_TEST_KEEP=1 keeps $T for a look after a failure.
#
#   vm_check NAME SCRIPT   runs SCRIPT (sh -c, cwd $HOST) inside a fresh VM, checks
#                          that the host manifest is unchanged, runs it natively on the
#                          same tree, and compares stdout+stderr, exit status and the
#                          resulting tree (as the VM sees it vs. as the host has it).
#   vm_expect NAME EXPECTED SCRIPT
#                          runs SCRIPT in a VM only; compares its output with EXPECTED
#                          and checks the host manifest is unchanged.
#   ok / not_ok / skip     raw TAP lines; done_testing prints the plan.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FVM_EXEC=$TOP/fvm-exec/fvm-exec
FVM=$TOP/fvm-exec/fvm
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

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
not_ok() {
	TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
	return 0
}
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }
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
			printf '%s %s %s %s %s %s %s\n' "$p" "$y" "$m" "$o" "$s" "$h" "$l"
		done)
}

# The tree as a process sees it: the same manifest, computed inside the VM.
vm_manifest() {
	"$FVM_EXEC" -n "$1" -- bash -c "$(declare -f manifest); manifest '$HOST'"
}

snapshot_host() { rm -rf "$T/pristine"; cp -a "$HOST" "$T/pristine"; manifest "$HOST" > "$T/host.manifest"; }
restore_host() { rm -rf "$HOST"; cp -a "$T/pristine" "$HOST"; }

# host_unchanged: 0 when the host tree matches the snapshot; prints a diff otherwise.
host_unchanged() {
	manifest "$HOST" > "$T/host.after"
	diff -u "$T/host.manifest" "$T/host.after" > "$T/host.diff" && return 0
	cat "$T/host.diff"
	return 1
}

vm_check() {
	local name=$1 script=$2 vm
	VM_SEQ=$((VM_SEQ + 1)); vm="t$VM_SEQ"
	snapshot_host
	local vm_out native_out vm_rc native_rc vm_tree native_tree
	vm_out=$(cd "$HOST" && "$FVM_EXEC" -n "$vm" -- sh -c "$script" 2>&1); vm_rc=$?
	if ! host_unchanged > "$T/why" 2>&1; then
		not_ok "$name (host changed)" "$(cat "$T/why")"
		restore_host
		return
	fi
	vm_tree=$(vm_manifest "$vm" 2>&1)
	native_out=$(cd "$HOST" && sh -c "$script" 2>&1); native_rc=$?
	native_tree=$(manifest "$HOST")
	restore_host
	if [ "$vm_rc" != "$native_rc" ]; then
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

vm_expect() {
	local name=$1 expected=$2 script=$3 vm out
	VM_SEQ=$((VM_SEQ + 1)); vm="t$VM_SEQ"
	snapshot_host
	out=$(cd "$HOST" && "$FVM_EXEC" -n "$vm" -- sh -c "$script" 2>&1)
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
