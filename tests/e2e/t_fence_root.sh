#!/usr/bin/env bash
# What the fence adds to a root run (fvm-exec/run/rootfence.c). Attacks by a static
# program making raw calls, first shown to work natively on a scratch copy:
#  - metadata of a host file (chown, utimensat, setxattr trusted.*, FS_IOC_SETFLAGS)
#    fails with EROFS: the host is read-only in the run's mount namespace; the same calls
#    work on a shared path, and a dynamic program still changes its VM's copy; a static
#    chmod changes the VM's copy too (virt_prologue, metaguard.c), never the host's;
#  - a device node made in the VM (by a dynamic mknod, or raw in the VM's layer, a shared
#    path or /dev/shm) stats as made and never opens (EACCES: nodev);
#  - the capability bounding set is Docker's default set: raising a priority
#    (CAP_SYS_NICE) fails in the VM while it works natively.
# The host's mounts are unchanged afterwards.
. "$(dirname "$0")/../lib/harness.sh"

STATIC=$TOP/build/tests/helpers/try-syscall-static
echo "# $(whoami_tag)"
if [ "$(id -u)" != 0 ]; then
	skip root_run_fence "needs root: the namespace and bounding set are a root run's ($(whoami_tag))"
	done_testing; exit
fi
if [ ! -x "$STATIC" ]; then
	skip root_run_fence "helpers not built (make tests-bin)"
	done_testing; exit
fi
if "$FVM_EXEC" -n r -v -- true 2>&1 | grep -q "without the read-only mount namespace"; then
	skip root_run_fence "NOT TESTED: this kernel or container refuses the mount namespace: $("$FVM_EXEC" -n r -v -- true 2>&1 | grep namespace)"
	done_testing; exit
fi
mounts_before=$(cut -d' ' -f5,6 /proc/self/mountinfo | sort)

echo 'keep me' > "$HOST/victim"
mkdir -p "$T/shared"
echo shared > "$T/shared/file"
meta() { stat -c '%a %u:%g %Y.%y' "$1"; getfattr -d -m - "$1" 2>/dev/null | sort; lsattr -d "$1" 2>/dev/null; }
before=$(meta "$HOST/victim")
snapshot_host

for op in chmod chown utimes "setxattr trusted.fvm" setflags; do
	set -- $op
	# trusted.* needs CAP_SYS_ADMIN, which the bounding set drops: user.* on the shared file.
	shared_arg=${2:+user.fvm}
	name="static_$1_of_a_host_file_is_erofs" want="$1: EROFS" vmn=r
	# chmod is the VM's (its own VM: the copy it makes must not serve the other calls)
	[ "$1" = chmod ] && name=static_chmod_of_a_host_file_changes_the_vms_copy want="chmod: ok" vmn=rc
	echo data > "$T/scratch"
	native=$("$STATIC" $1 "$T/scratch" ${2:-} 2>&1)
	out=$(cd "$HOST" && "$FVM_EXEC" -n $vmn -- "$STATIC" $1 "$HOST/victim" ${2:-} 2>/dev/null)
	if [ "$native" != "$1: ok" ]; then
		not_ok "$name" "natively on a scratch file: $native: the test does not show the rule"
	elif [ "$out" = "$want" ] && [ "$(meta "$HOST/victim")" = "$before" ] && host_unchanged > "$T/why" &&
		{ [ "$1" != chmod ] || [ -f "$FVM_HOME/vms/rc/upper$HOST/victim" ]; }; then
		ok "$name"
	else
		not_ok "$name" "in the VM: $out" "$(meta "$HOST/victim")" "$(cat "$T/why" 2>/dev/null)"
	fi
	out=$("$FVM_EXEC" -n r --share "$T/shared" -- "$STATIC" $1 "$T/shared/file" $shared_arg 2>/dev/null)
	[ "$out" = "$1: ok" ] && ok "static_$1_of_a_shared_file_works" || not_ok "static_$1_of_a_shared_file_works" "$out"
done
vm_check_ok dynamic_chmod_and_touch_of_a_host_file_change_the_vms_copy \
	'chmod 600 victim && touch -d @1000000000 victim && stat -c "%a %Y" victim'
vm_check_ok access_w_ok_of_a_host_file_says_writable 'test -w victim && echo writable'

# Device nodes: made, stat as made, never open.
out=$(cd "$HOST" && "$FVM_EXEC" -n r -- sh -c 'mknod null2 c 1 3 && stat -c "%F %t:%T" null2 && { head -c1 null2 && echo OPENED; } 2>&1 | sed "s/.*: //"; { echo x > null2; } 2>/dev/null || echo write refused' 2>&1)
if [ "$out" = "character special file 1:3
Permission denied
write refused" ] && host_unchanged > "$T/why"; then
	ok root_makes_a_device_node_in_the_vm_that_never_opens
else
	not_ok root_makes_a_device_node_in_the_vm_that_never_opens "$out"
fi
up=$FVM_HOME/vms/r/upper
# The VM's own directory beneath /dev/shm (fvm-exec makes it), the one place there it writes.
shmdir=/dev/shm/$("$TOP/build/tests/helpers/ipc-name" prefix "$FVM_HOME/vms/r" | sed 's/\.$//')
mkdir -p "$up"
for dir in "$up" "$T/shared" "$shmdir"; do
	for t in b c; do
		label=$(basename "$dir" | tr -c 'a-z0-9\n' _)
		[ "$dir" = "$shmdir" ] && label=dev_shm
		name="static_${t}_device_made_in_${label}_never_opens"
		# upper/'s node made and opened by the VM's name for it (the store's is ENOENT in
		# the VM): the supervisor makes and opens it (virtguard.c) in the caller's
		# namespace, whose copy of the data area is nodev
		node=$dir/dev-$t
		[ "$dir" = "$up" ] && node=/dev-$t
		out=$("$FVM_EXEC" -n r --share "$T/shared" -- sh -c "'$STATIC' mknod '$node' $t; '$STATIC' open-rw '$node'" 2>/dev/null)
		[ "$out" = "mknod: ok
open-rw: EACCES" ] && ok "$name" || not_ok "$name" "$out"
	done
done
rm -rf "$shmdir"

# Capabilities.
out=$("$FVM_EXEC" -n r -- sh -c 'grep CapBnd /proc/self/status; grep CapInh /proc/self/status')
[ "$out" = "CapBnd:	00000000a80425fb
CapInh:	0000000000000000" ] && ok bounding_set_is_dockers_default_set || not_ok bounding_set_is_dockers_default_set "$out"
if [ "$(nice -n -1 nice 2>/dev/null)" = -1 ]; then
	out=$("$FVM_EXEC" -n r -- sh -c 'nice -n -1 nice 2>&1')
	[ "$out" = "nice: cannot set niceness: Permission denied
0" ] && ok raising_a_priority_needs_a_dropped_capability ||
		not_ok raising_a_priority_needs_a_dropped_capability "$out"
else
	not_ok raising_a_priority_needs_a_dropped_capability "natively as root, nice -n -1 does not raise: the test shows nothing"
fi

[ "$(cut -d' ' -f5,6 /proc/self/mountinfo | sort)" = "$mounts_before" ] && ok host_mounts_unchanged ||
	not_ok host_mounts_unchanged "$(diff <(echo "$mounts_before") <(cut -d' ' -f5,6 /proc/self/mountinfo | sort))"
done_testing
