#!/usr/bin/env bash
# Issue 13, "the host stays as it was: processes (scheduling, priorities)": from inside a
# VM, the static helper and the dynamic one's raw system calls try to change a host
# process this test starts natively (a sleep): its CPU affinity (sched_setaffinity), its
# scheduling policy (sched_setscheduler to SCHED_IDLE, sched_setattr to SCHED_BATCH and
# nice 19), its I/O priority (ioprio_set of the process, and of every process of the
# user). A user may do all of these natively to its own processes, root to any: the
# victim's settings are read natively after each attack. Root's victim runs without
# capabilities, like a service with a reduced set: the kernel already refuses a VM's
# root a process with capabilities the VM lacks. The VM's own processes stay
# its to change (a child of the VM, by pid).
. "$(dirname "$0")/lib.sh"
sec_require
VICTIM_PID=

sec_cleanup() {
	[ -n "$VICTIM_PID" ] && kill "$VICTIM_PID" 2>/dev/null
	cleanup
}
trap sec_cleanup EXIT

ncpu=$(nproc)
cpu=$((ncpu - 1))
# state PID: the settings the attacks aim at, one line.
state() {
	echo "affinity=$(taskset -pc "$1" 2>&1 | sed 's/.*: //') policy=$(chrt -p "$1" 2>&1 | head -1 | sed 's/.*: //')" \
		"nice=$(ps -o ni= -p "$1" | tr -d ' ') io=$(ionice -p "$1" 2>&1)" \
		"fsize=$(awk '/^Max file size/ { print $4 }' "/proc/$1/limits")"
}
victim() {
	if [ $ROOT = 1 ]; then
		setpriv --bounding-set=-all --inh-caps=-all sleep 120 & VICTIM_PID=$!
	else
		sleep 120 & VICTIM_PID=$!
	fi
	sleep 0.1
}

# First natively: each attack changes a process of this user, so that no change means a
# refusal.
victim
before=$(state $VICTIM_PID)
for a in "sched-setaffinity $VICTIM_PID $cpu" "sched-setscheduler $VICTIM_PID" "ioprio-set process $VICTIM_PID"; do
	"$ATK" $a > /dev/null 2>&1
done
after=$(state $VICTIM_PID)
kill $VICTIM_PID; wait $VICTIM_PID 2>/dev/null; VICTIM_PID=
if [ "$before" = "$after" ]; then
	skip host_process_tests "natively the attacks change nothing here: $after"
	done_testing; exit
fi
echo "# natively: $before -> $after"

for kind in static dynamic; do
	[ $kind = static ] && h=$ATK || h=$ATK_DYN
	# Every process of the user, or of the caller's process group (which the test's
	# shell and its victim share): for a user only, this test's own processes; root's
	# would be every root process of the machine.
	many=()
	[ $ROOT = 0 ] && many=("ioprio-set user 0" "ioprio-set pgrp 0")
	for a in "sched-setaffinity PID $cpu" "sched-setscheduler PID" "sched-setattr PID" "ioprio-set process PID" \
		"prlimit PID 4096" "setpriority PID 19" "${many[@]}"; do
		victim
		[ $ncpu -lt 2 ] && [ "${a%% *}" = sched-setaffinity ] && { skip "${kind}_affinity" "one CPU"; continue; }
		before=$(state $VICTIM_PID)
		sec_snapshot
		# shellcheck disable=SC2086
		out=$(vm p -- "$h" ${a/PID/$VICTIM_PID} 2>&1)
		after=$(state $VICTIM_PID)
		name=${a%% *}
		case $a in *user*) name=$name-user ;; *pgrp*) name=$name-pgrp ;; esac
		verdict "${kind}_${name//-/_}_of_a_host_process_changes_nothing" "" \
			"$([ "$before" = "$after" ] || echo "host process: $before -> $after ($out)")"
		kill $VICTIM_PID; wait $VICTIM_PID 2>/dev/null; VICTIM_PID=
	done
done

# The VM's own processes: a child of the VM, by its pid, and the caller by its own pid.
for kind in static dynamic; do
	[ $kind = static ] && h=$ATK || h=$ATK_DYN
	out=$(vm p -- sh -c "sleep 5 & c=\$!; '$h' sched-setaffinity \$c $cpu; '$h' sched-setscheduler \$c;
		'$h' ioprio-set process \$c; '$h' prlimit \$c 4096; '$h' setpriority \$c 5;
		'$h' sched-setaffinity \$\$ $cpu; kill \$c" 2>&1)
	case $out in
	*"sched-setaffinity: ok"*"sched-setscheduler: ok"*"ioprio-set: ok"*"prlimit: ok"*"setpriority: ok"*"sched-setaffinity: ok"*)
		ok "${kind}_vm_changes_its_own_processes" ;;
	*) not_ok "${kind}_vm_changes_its_own_processes" "$out" ;;
	esac
done
# A thread of the VM by its tid (pthread_setaffinity_np's way).
out=$(vm p -- "$(command -v python3)" -c "
import os, threading
def f():
    os.sched_setaffinity(threading.get_native_id(), {$cpu}); print('thread', sorted(os.sched_getaffinity(0)))
t = threading.Thread(target=f); t.start(); t.join()" 2>&1)
if [ "$out" = "thread [$cpu]" ]; then ok vm_changes_its_own_thread_by_tid; else not_ok vm_changes_its_own_thread_by_tid "$out"; fi

done_testing
