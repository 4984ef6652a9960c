#!/usr/bin/env bash
# POSIX shm, semaphores and queues, and SysV keys, inside VMs: two VMs running the same
# program concurrently each get their own objects, the host's object of the same name is
# untouched, /dev/shm lists only the VM's objects by their VM names, long names work,
# ftok keys survive a copy-up, and fvm rm leaves nothing behind. All under the kernel
# fence (--enforce auto): with no mqueue mount the fence's queue broker opens queues for
# writing; with one (a mount namespace made here, root only) the fence's rule covers it.
. "$(dirname "$0")/../lib/harness.sh"

HELP=$TOP/build/tests/helpers
if [ ! -x "$HELP/ipc-posix" ] || [ ! -x "$HELP/ipc-sysv" ] || [ ! -x "$HELP/ipc-name" ]; then
	skip ipc_helpers_built "tests/helpers not built: run make tests-bin"
	done_testing
	exit
fi
# Names unique to this run: the host's /dev/shm is shared with everything else.
N=/demo.$$
KEY=$((0x4600000 + $$))
in_vm() { local vm=$1; shift; (cd "$HOST" && "$FVM_EXEC" -n "$vm" -- "$@" 2>&1); }
cleanup_ipc() {
	"$HELP/ipc-posix" rm "$N" >/dev/null 2>&1
	for vm in ia ib; do in_vm "$vm" "$HELP/ipc-posix" rm "$N" >/dev/null; done
	in_vm ic "$HELP/ipc-posix" rm "/$LONG" >/dev/null
	for vm in sa sb; do in_vm "$vm" "$HELP/ipc-sysv" rm "$KEY" >/dev/null; done
}
LONG=$(printf 'L%.0s' $(seq 240))
trap 'cleanup_ipc; cleanup' EXIT

echo data > "$HOST/file"
snapshot_host
"$HELP/ipc-posix" put "$N" host

# Two VMs of the same program, concurrently: each reads back its own objects.
(in_vm ia sh -c "'$HELP/ipc-posix' put $N AAA && sleep 0.3 && '$HELP/ipc-posix' get $N" > "$T/ia.out") &
(in_vm ib sh -c "'$HELP/ipc-posix' put $N BB && sleep 0.3 && '$HELP/ipc-posix' get $N" > "$T/ib.out") &
wait
got="$(cat "$T/ia.out") / $(cat "$T/ib.out")"
if [ "$got" = "shm=AAA sem=3 mq=AAA / shm=BB sem=2 mq=BB" ]; then
	ok two_concurrent_vms_each_read_their_own_shm_sem_and_queue
else
	not_ok two_concurrent_vms_each_read_their_own_shm_sem_and_queue "got: $got"
fi

got=$("$HELP/ipc-posix" get "$N")
[ "$got" = "shm=host sem=4 mq=host" ] && ok hosts_objects_of_the_same_name_are_unchanged ||
	not_ok hosts_objects_of_the_same_name_are_unchanged "got: $got"

got=$(in_vm ia "$HELP/ipc-posix" old "$N")
[ "$got" = "shm=AAA sem=3 mq=AAA" ] && ok pre_2_34_symbol_versions_are_mapped_too ||
	not_ok pre_2_34_symbol_versions_are_mapped_too "got: $got"

got=$(in_vm ia ls /dev/shm)
want=$(printf '%s\n%s' "${N#/}" "sem.${N#/}")
[ "$got" = "$want" ] && ok dev_shm_lists_only_the_vms_objects_by_their_names ||
	not_ok dev_shm_lists_only_the_vms_objects_by_their_names "expected:" "$want" "got:" "$got"

# Paths in /dev/shm name the same objects: read, create and remove by path.
got=$(in_vm ia sh -c "cat /dev/shm${N}; echo; echo made > /dev/shm${N}.file; ls /dev/shm; cat /dev/shm${N}.file")
on_host=$(ls /dev/shm | grep -c -x -F "${N#/}.file")
in_vm ia rm "/dev/shm${N}.file" >/dev/null
want=$(printf 'AAA\n%s\n%s\nsem.%s\nmade' "${N#/}" "${N#/}.file" "${N#/}")
[ "$got" = "$want" ] && [ "$on_host" = 0 ] && ok dev_shm_paths_name_the_vms_objects ||
	not_ok dev_shm_paths_name_the_vms_objects "expected:" "$want" "got:" "$got" "on host: $on_host"

got=$(in_vm ia sh -c "mkdir /dev/shm${N}.d && echo in-dir > /dev/shm${N}.d/x && cd /dev/shm${N}.d && cat x && ls /dev/shm | grep -c -x '${N#/}.d'; cd / && rm -r /dev/shm${N}.d && ls /dev/shm | grep -c -x '${N#/}.d'")
[ "$got" = "in-dir
1
0" ] && [ ! -e "/dev/shm${N}.d" ] && ok directories_in_dev_shm_are_the_vms_too ||
	not_ok directories_in_dev_shm_are_the_vms_too "got: $got"

# A name that fits natively but not with the VM's prefix: shortened, still listed whole.
got=$(in_vm ic sh -c "'$HELP/ipc-posix' put /$LONG long && '$HELP/ipc-posix' get /$LONG && ls /dev/shm")
want=$(printf 'shm=long sem=4 mq=long\n%s\nsem.%s' "$LONG" "$LONG")
[ "$got" = "$want" ] && ok name_too_long_with_the_prefix_still_works_and_lists_unmapped ||
	not_ok name_too_long_with_the_prefix_still_works_and_lists_unmapped "got:" "$got"
if ls /dev/shm | grep -q "^$LONG\$"; then
	not_ok long_name_never_reaches_the_hosts_namespace "/dev/shm/$LONG exists on the host"
else
	ok long_name_never_reaches_the_hosts_namespace
fi

# Names that fail natively fail alike in a VM (and create nothing anywhere).
vm_check_fails invalid_names_fail_as_natively \
	"'$HELP/ipc-posix' put / v; '$HELP/ipc-posix' put /a/b v; '$HELP/ipc-posix' put /$(printf 'x%.0s' $(seq 256)) v"

# SysV: one key, two VMs, two segments; the host has none.
in_vm sa "$HELP/ipc-sysv" put "$KEY" from-a >/dev/null
in_vm sb "$HELP/ipc-sysv" put "$KEY" from-b >/dev/null
got="$(in_vm sa "$HELP/ipc-sysv" get "$KEY") / $(in_vm sb "$HELP/ipc-sysv" get "$KEY") / $("$HELP/ipc-sysv" get "$KEY")"
[ "$got" = "from-a / from-b / shmget: No such file or directory" ] &&
	ok same_sysv_key_in_two_vms_gives_two_segments ||
	not_ok same_sysv_key_in_two_vms_gives_two_segments "got: $got"

# ftok: the same key before and after the copy-up, and the same as natively.
vm_check ftok_is_stable_across_copy_up \
	"'$HELP/ipc-sysv' ftok file 7; echo more >> file; '$HELP/ipc-sysv' ftok file 7"

if ! host_unchanged > "$T/why"; then
	not_ok ipc_runs_left_the_host_tree_unchanged "$(cat "$T/why")"
else
	ok ipc_runs_left_the_host_tree_unchanged
fi

# The queue broker (no mqueue mount under the fence) opens the asking VM's queues only,
# even for a program that speaks its protocol around libfvm.
if [ -z "$(in_vm ia sh -c 'echo ${FVM_MQ_BROKER:-}')" ]; then
	why="no queue broker in this run: /dev/mqueue is an mqueue mount, or no Landlock"
	skip queue_broker_refuses_the_hosts_queue "$why"
	skip queue_broker_refuses_another_vms_queue "$why"
else
	vm_prefix() { "$HELP/ipc-name" prefix "$FVM_HOME/vms/$1"; }
	ia_name=/$("$HELP/ipc-name" map "$FVM_HOME/vms/ia" "${N#/}")
	# ia's own queue (made above) opens: the refusal that follows is the broker's check.
	got="$(in_vm ia "$HELP/mq-broker-probe" "$ia_name") $(in_vm ia "$HELP/mq-broker-probe" "$N")"
	[ "$got" = "broker: ok broker: EACCES" ] && ok queue_broker_refuses_the_hosts_queue ||
		not_ok queue_broker_refuses_the_hosts_queue "got: $got"
	got="$(in_vm ib "$HELP/mq-broker-probe" "$ia_name") $(in_vm ib "$HELP/mq-broker-probe" "/$(vm_prefix ib)/../${ia_name#/}")"
	[ "$got" = "broker: EACCES broker: EACCES" ] && ok queue_broker_refuses_another_vms_queue ||
		not_ok queue_broker_refuses_another_vms_queue "got: $got"
fi

# fvm rm leaves nothing of the VM in /dev/shm (the removal itself, store_remove_ipc, is
# unit-tested in tests/unit/test_ipc.c).
if ! "$FVM" rm ia > "$T/rm.out" 2>&1; then
	not_ok fvm_rm_leaves_no_ipc_object_behind "fvm rm ia failed:" "$(cat "$T/rm.out")"
else
	prefix=$("$HELP/ipc-name" prefix "$FVM_HOME/vms/ia")
	left=$(ls /dev/shm | grep -F "$prefix")
	[ -z "$left" ] && ok fvm_rm_leaves_no_ipc_object_behind ||
		not_ok fvm_rm_leaves_no_ipc_object_behind "left: $left"
fi

# The queue file system, mounted at /dev/mqueue in a mount namespace made here (this
# machine may have none mounted): no broker is started; a root run's namespace covers
# /dev/mqueue (a queue's file there opens as a queue descriptor of the host's queue),
# so ls there lists no queue, the VM's or the host's; fvm rm removes the VM's.
# with_mqueue CMD...: runs CMD in a private mount namespace whose /dev holds the usual
# devices, /dev/pts, /dev/shm and a fresh mqueue mount (the host's /dev is untouched).
with_mqueue() {
	unshare -m --propagation private bash -c '
		set -e; D=$1; shift
		mkdir -p "$D"; mount -t tmpfs fvmtest-dev "$D"
		for n in null zero full tty random urandom ptmx; do touch "$D/$n"; mount --bind "/dev/$n" "$D/$n"; done
		for d in pts shm; do mkdir "$D/$d"; mount --rbind "/dev/$d" "$D/$d"; done
		ln -s /proc/self/fd "$D/fd"
		mkdir "$D/mqueue"; mount -t mqueue fvmtest-mq "$D/mqueue"
		mount --move "$D" /dev
		exec "$@"' with_mqueue "$T/dev" "$@"
}
MQN=/mq.$$
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! with_mqueue true 2>/dev/null; then
	why="needs root to mount an mqueue file system in a mount namespace ($(whoami_tag))"
	skip queues_under_the_fence_with_an_mqueue_mount_need_no_broker "$why"
	skip ls_dev_mqueue_in_a_root_vm_lists_no_queue "$why"
	skip fvm_rm_leaves_no_queue_behind "$why"
else
	got=$(cd "$HOST" && with_mqueue sh -c "'$HELP/ipc-posix' put $MQN host >/dev/null &&
		'$FVM_EXEC' -n qa -v -- true 2>&1 | grep -c broker;
		'$FVM_EXEC' -n qa -- sh -c \"'$HELP/ipc-posix' put $MQN vm && ls /dev/mqueue\";
		'$FVM_EXEC' -n qa -- '$HELP/ipc-posix' get $MQN; '$HELP/ipc-posix' get $MQN;
		'$HELP/ipc-posix' rm $MQN; '$FVM' rm qa >/dev/null && ls /dev/mqueue | grep -e '^fvm\.qa\.' -e '^${MQN#/}\$'" 2>&1)
	want=$(printf '0\n%s\n%s' "shm=vm sem=2 mq=vm" "shm=host sem=4 mq=host")
	[ "$got" = "$want" ] && ok queues_under_the_fence_with_an_mqueue_mount_need_no_broker ||
		not_ok queues_under_the_fence_with_an_mqueue_mount_need_no_broker "expected:" "$want" "got:" "$got"
	[ "$(echo "$got" | sed -n 2p)" = "shm=vm sem=2 mq=vm" ] && ok ls_dev_mqueue_in_a_root_vm_lists_no_queue ||
		not_ok ls_dev_mqueue_in_a_root_vm_lists_no_queue "got: $got"
	# No line after those: the host's queue removed by hand, the VM's by fvm rm (the
	# namespace's other queues, of other programs, are not looked at).
	[ "$(echo "$got" | sed -n 4p)" = "" ] && ok fvm_rm_leaves_no_queue_behind ||
		not_ok fvm_rm_leaves_no_queue_behind "got: $got"
fi

done_testing
