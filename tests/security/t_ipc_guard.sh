#!/usr/bin/env bash
# The IPC guard (fvm-exec/run/ipcguard.c) and the VM's own /dev/shm directory, beyond
# t_fence_metadata.sh's three attacks: from inside a VM, static and dynamic programs
# making raw system calls try to remove a host SysV segment by id, change a host
# semaphore, take a host SysV message, open a host POSIX queue for reading or create
# one under a host name, unlink a host queue through /dev/mqueue (root, in a mount
# namespace made here with an mqueue mount; and, still possible, take a host queue's
# message through a read-only open there), and create a file directly in /dev/shm;
# the i386 ABI (ipc(2) with version bits, the direct i386 call) too.
# What the VM may do keeps working: SysV by key and IPC_PRIVATE for static programs
# too, one key meaning one object for static and dynamic programs of a VM, reads of
# host objects, the VM's own queues by raw calls; a planted /dev/shm directory is
# refused; fvm rm removes what static programs made. Also: semop's cost, natively and
# in a VM (a diagnostic line, not a verdict).
. "$(dirname "$0")/lib.sh"
sec_require
RAW=$TOP/build/tests/helpers/ipc-raw-static
RAW_DYN=$TOP/build/tests/helpers/ipc-raw
SYSV=$TOP/build/tests/helpers/ipc-sysv
NAMEH=$TOP/build/tests/helpers/ipc-name
if [ ! -x "$RAW" ] || [ ! -x "$RAW_DYN" ] || [ ! -x "$SYSV" ] || [ ! -x "$NAMEH" ]; then
	skip ipc_guard_tests "helpers not built (make tests-bin)"
	done_testing; exit
fi
TAG=fvmsec.$$.$RANDOM
KEY=$((0x4700000 + $$ % 65536))
SHMIDS= SEMIDS= MSGIDS=
shm_exists() { ipcs -m | awk -v id="$1" '$2 == id { f = 1 } END { exit !f }'; }

sec_cleanup() {
	local i
	for i in $SHMIDS; do ipcrm -m "$i" 2>/dev/null; done
	for i in $SEMIDS; do ipcrm -s "$i" 2>/dev/null; done
	for i in $MSGIDS; do ipcrm -q "$i" 2>/dev/null; done
	"$RAW" mq-unlink "$TAG" > /dev/null 2>&1
	"$RAW" mq-unlink "$TAG.new" > /dev/null 2>&1
	rm -f "/dev/shm/$TAG"
	for vm in g gs; do "$FVM" rm -f "$vm" > /dev/null 2>&1; done
	cleanup
}
trap sec_cleanup EXIT

# Host objects, made natively.
hshm=$("$RAW" shm-put 0 original) && SHMIDS="$hshm"
hsem=$("$RAW" sem-new 0 5) && SEMIDS="$hsem"
hmsg=$("$RAW" msg-new 0 hostmsg) && MSGIDS="$hmsg"
"$RAW" mq-open "$TAG" c > /dev/null

for kind in static dynamic; do
	[ $kind = static ] && r=$RAW a=$ATK || r=$RAW_DYN a=$ATK_DYN
	sec_snapshot
	out=$(vm g -- "$r" shm-rmid "$hshm" 2>/dev/null)
	verdict "${kind}_host_sysv_segment_cannot_be_removed_by_id" "" \
		"$([ "$out" = "shm-rmid: EACCES" ] || echo "in the VM: $out")" \
		"$(shm_exists "$hshm" || echo "segment $hshm is gone")"
	out=$(vm g -- "$r" sem-up "$hsem" 2>/dev/null)
	now=$("$RAW" sem-val "$hsem")
	verdict "${kind}_host_semaphore_cannot_be_changed_by_id" "" \
		"$([ "$out" = "sem-up: EACCES" ] || echo "in the VM: $out")" \
		"$([ "$now" = 5 ] || echo "host semaphore $hsem now: $now")"
	out=$(vm g -- "$r" msg-take "$hmsg" 2>/dev/null)
	verdict "${kind}_host_sysv_message_cannot_be_taken" "" \
		"$([ "$out" = "msg-take: EACCES" ] || echo "in the VM: $out")"
	# Reading stays allowed, as reading host files does.
	out=$(vm g -- "$r" sem-val "$hsem" 2>/dev/null)
	[ "$out" = 5 ] && ok "${kind}_host_semaphore_value_can_be_read" ||
		not_ok "${kind}_host_semaphore_value_can_be_read" "got: $out"
	out=$(vm g -- "$ATK" shm-read "$hshm" 2>/dev/null)
	[ "$out" = original ] && ok "${kind}_host_segment_can_be_attached_read_only" ||
		not_ok "${kind}_host_segment_can_be_attached_read_only" "got: $out"

	if [ "$(uname -m)" = x86_64 ]; then
		out=$(vm g -- "$r" i386-shm-rmid "$hshm" 2>/dev/null)
		verdict "${kind}_host_sysv_segment_cannot_be_removed_through_the_i386_abi" "" \
			"$([ "$out" = "i386-shm-rmid: ENOSYS" ] || echo "in the VM: $out")" \
			"$(shm_exists "$hshm" || echo "segment $hshm is gone")"
	fi
	out=$(vm g -- "$r" mq-open "$TAG" r 2>/dev/null)
	verdict "${kind}_host_posix_queue_cannot_be_opened" "" \
		"$([ "$out" = "mq-open: EACCES" ] || echo "in the VM: $out")"
	out=$(vm g -- "$r" mq-open "$TAG.new" c 2>/dev/null)
	verdict "${kind}_posix_queue_of_a_host_name_cannot_be_created" "" \
		"$([ "$out" = "mq-open: EACCES" ] || echo "in the VM: $out")" \
		"$("$RAW" mq-open "$TAG.new" r > /dev/null 2>&1 && echo "host queue /$TAG.new exists")"
	out=$(vm g -- "$a" put "/dev/shm/$TAG" EVIL 2>&1)
	verdict "${kind}_no_file_can_be_made_directly_in_dev_shm" "" \
		"$([ -e "/dev/shm/$TAG" ] && echo "/dev/shm/$TAG exists")"
	rm -f "/dev/shm/$TAG"
done

# The VM's own objects by raw calls: a key, IPC_PRIVATE, its own queue names.
prefix=$("$NAMEH" prefix "$(vmdir gs)")
got=$(vm gs -- "$RAW" shm-put "$KEY" from-static 2>/dev/null >/dev/null; vm gs -- "$SYSV" get "$KEY" 2>&1 | grep -v '^fvm:')
[ "$got" = from-static ] && ok static_and_dynamic_programs_of_a_vm_meet_at_one_key ||
	not_ok static_and_dynamic_programs_of_a_vm_meet_at_one_key "got: $got"
got=$("$SYSV" get "$KEY" 2>&1)
[ "$got" = "shmget: No such file or directory" ] && ok the_vms_key_is_not_the_hosts ||
	not_ok the_vms_key_is_not_the_hosts "natively: $got"
got=$(vm gs -- "$RAW" shm-private secret 2>/dev/null)
[ "$got" = secret ] && ok static_ipc_private_segment_works_in_the_vm ||
	not_ok static_ipc_private_segment_works_in_the_vm "got: $got"
got=$(vm gs -- sh -c "'$RAW' mq-open '${prefix}q' c && '$RAW' mq-open '${prefix}q' w && '$RAW' mq-unlink '${prefix}q'" 2>/dev/null | tr '\n' ' ')
[ "$got" = "mq-open: ok mq-open: ok mq-unlink: ok " ] && ok static_program_opens_and_unlinks_the_vms_own_queue ||
	not_ok static_program_opens_and_unlinks_the_vms_own_queue "got: $got"
got=$(vm gs -- python3 -c 'import multiprocessing as mp
l = mp.Lock(); v = mp.Value("i", 0)
def f():
    with l:
        v.value += 1
ps = [mp.Process(target=f) for _ in range(3)]
[p.start() for p in ps]; [p.join() for p in ps]
print(v.value)' 2>&1)
[ "$got" = 3 ] && ok python_multiprocessing_works_in_the_vm || not_ok python_multiprocessing_works_in_the_vm "got: $got"

# fvm rm removes the key a static program made, and the VM's /dev/shm directory.
shmdir=/dev/shm/${prefix%.}
vm gs -- "$SYSV" put "$((KEY + 1))" keep > /dev/null 2>&1
vm gs -- python3 -c 'from multiprocessing import shared_memory as s, resource_tracker as r
m = s.SharedMemory(name="kept", create=True, size=64); r.unregister(m._name, "shared_memory")' > /dev/null 2>&1
[ -e "$shmdir/${prefix}kept" ] || not_ok shm_object_lives_in_the_vms_directory "$shmdir: $(ls "$shmdir" 2>&1)"
mapped=$(awk '$1 == "shmkey" { print $2 }' "$(ctldir gs)/ipc" 2>/dev/null)
mapped=$(echo "$mapped" | sort -u)
[ "$(echo $mapped | wc -w)" = 2 ] && ok the_supervisor_records_the_vms_keys ||
	not_ok the_supervisor_records_the_vms_keys "ctl/gs/ipc: $(cat "$(ctldir gs)/ipc" 2>&1)"
if "$FVM" rm -f gs > "$T/rm.out" 2>&1; then
	left=$(for k in $mapped; do ipcs -m | awk -v k="$(printf '0x%08x' $((k & 0xffffffff)))" '$1 == k'; done)
	[ ! -e "$shmdir" ] && [ -z "$left" ] && ok fvm_rm_removes_the_shm_directory_and_static_programs_keys ||
		not_ok fvm_rm_removes_the_shm_directory_and_static_programs_keys "left: $(ls -d "$shmdir" 2>&1) $left"
else
	not_ok fvm_rm_removes_the_shm_directory_and_static_programs_keys "fvm rm: $(cat "$T/rm.out")"
fi

# A directory planted under the VM's /dev/shm name is refused.
pdir=/dev/shm/$("$NAMEH" prefix "$(vmdir planted)" | sed 's/\.$//')
ln -s "$HOST" "$pdir"
out=$(vm planted -- true 2>&1); rc=$?
rm -f "$pdir"
[ $rc = 125 ] && ok planted_shm_directory_is_refused || not_ok planted_shm_directory_is_refused "rc $rc: $out"

# /dev/mqueue paths (root: an mqueue mount in a mount namespace made here).
if [ $ROOT = 0 ] || ! unshare -m true 2>/dev/null; then
	skip dev_mqueue_path_cannot_unlink_or_create_a_host_queue "an mqueue mount needs root (a mount namespace)"
	skip dev_mqueue_path_cannot_take_a_host_queues_message "an mqueue mount needs root (a mount namespace)"
else
	sec_snapshot
	# A private /dev: the usual devices, /dev/shm, and a fresh mqueue mount (as t_ipc.sh).
	out=$(unshare -m --propagation private bash -c '
		D=$5; mkdir -p "$D"; mount -t tmpfs fvmtest-dev "$D" || exit 3
		for n in null zero full tty random urandom ptmx; do touch "$D/$n"; mount --bind "/dev/$n" "$D/$n"; done
		for d in pts shm; do mkdir "$D/$d"; mount --rbind "/dev/$d" "$D/$d"; done
		ln -s /proc/self/fd "$D/fd"
		mkdir "$D/mqueue"; mount -t mqueue fvmtest-mq "$D/mqueue" || exit 3
		mount --move "$D" /dev || exit 3
		"$4" mq-open "$3" c > /dev/null || exit 4
		"$1" -n g -- "$4" unlink "/dev/mqueue/$3" > /dev/null 2>&1
		"$1" -n g -- rm -f "/dev/mqueue/$3" > /dev/null 2>&1
		[ -e "/dev/mqueue/$3" ] && echo present
		"$4" mq-send "$3" hostmsg > /dev/null
		"$1" -n g -- "$4" mq-path-take "/dev/mqueue/$3" > "$5.take" 2>/dev/null
		"$1" -n g -- "$2" put "/dev/mqueue/$3.new" EVIL > /dev/null 2>&1
		[ -e "/dev/mqueue/$3.new" ] && echo made && "$4" mq-unlink "$3.new" > /dev/null
		"$4" mq-unlink "$3" > /dev/null' _ "$FVM_EXEC" "$ATK" "$TAG.m" "$RAW" "$T/dev")
	verdict dev_mqueue_path_cannot_unlink_or_create_a_host_queue "" \
		"$([ "$out" = present ] || echo "host queue /$TAG.m through /dev/mqueue: ${out:-gone}")"
	verdict dev_mqueue_path_cannot_take_a_host_queues_message "" \
		"$(grep -q hostmsg "$T/dev.take" && echo "the VM took: $(cat "$T/dev.take")")"
fi

# The cost of the guard for the hottest by-id call (a diagnostic, no verdict).
id=$("$RAW" sem-new 0 0) && SEMIDS="$SEMIDS $id"
native=$("$RAW" sem-bench "$id" 20000)
invm=$(vm g -- sh -c "id=\$('$RAW' sem-new 0 0) && '$RAW' sem-bench \$id 20000; ipcrm -s \$id" 2>/dev/null | head -1)
echo "# semop: ${native} ns natively, ${invm} ns in a VM (the supervisor checks each)"

done_testing
