#!/usr/bin/env bash
# fvm list of a store of many VMs (issue 15): every VM is listed once, with the figures
# of its own upper/ and last run, its state found by two walks of /proc for the whole
# store (not two per VM: the count of /proc files opened must not grow with the VMs);
# a run that changes one VM changes that VM's row only. Also: an idle VM's disk (its
# policy image written sparse), and a second run leaving the policy image in place.
# Host tree unchanged after every VM run.
. "$(dirname "$0")/../lib/harness.sh"

N=${FVM_LIST_VMS:-300}
echo data > "$HOST/existing"
snapshot_host

made=0
for i in $(seq 1 "$N"); do
	"$FVM_EXEC" -n "vm$i" -- true || break
	made=$i
done
[ "$made" = "$N" ] && ok "made_${N}_vms" || not_ok "made_${N}_vms" "stopped at vm$i"

# Every VM once, in order, idle, no change.
"$FVM" list --bytes > "$T/list" 2> "$T/list.err"; rc=$?
awk 'NR > 1 {print $1}' "$T/list" | sort > "$T/names"
seq 1 "$N" | sed 's/^/vm/' | sort > "$T/want-names"
if [ "$rc" = 0 ] && [ ! -s "$T/list.err" ] && diff -u "$T/want-names" "$T/names" > "$T/d"; then
	ok list_shows_each_vm_once
else
	not_ok list_shows_each_vm_once "exit $rc" "$(head -5 "$T/list.err")" "$(head -20 "$T/d")"
fi
bad=$(awk 'NR > 1 && ($2 != "idle" || $3 != 0 || $4 != 0)' "$T/list" | head -3)
[ -z "$bad" ] && ok list_idle_vms_idle_and_unchanged || not_ok list_idle_vms_idle_and_unchanged "$bad"

# A run that changes one VM: its row shows the change, its bytes and its run; no other
# row moves. The run burns some CPU so that its CPU column differs from the others'.
mid=vm$(((N + 1) / 2))
(cd "$HOST" && "$FVM_EXEC" -n "$mid" -- sh -c 'echo hello > new; echo more >> existing;
	i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done')
"$FVM" list --bytes > "$T/list2"
row=$(awk -v m="$mid" '$1 == m' "$T/list2")
# new (6 bytes) and existing (5 + 5); the directories of the path to $HOST add changes
# of their own only where the host lacks them (none: they exist on the host).
set -- $row
if [ "${2:-}" = idle ] && [ "${3:-}" = 2 ] && [ "${4:-}" = 16 ]; then
	ok list_row_of_changed_vm_shows_its_changes
else
	not_ok list_row_of_changed_vm_shows_its_changes "row: $row" "$("$FVM" diff "$mid" 2>&1 | head -5)"
fi
json=$("$FVM" list --json)
got=$(python3 -c '
import json, sys
v = {x["name"]: x for x in json.loads(sys.argv[1])}
m = v[sys.argv[2]]
others = [x for n, x in v.items() if n != sys.argv[2]]
print(len(v), m["changes"], m["bytes"], m["last_run_cpu_ms"] is not None,
      all(x["changes"] == 0 and x["bytes"] == 0 and x["state"] == "idle" for x in others))' "$json" "$mid" 2>&1)
[ "$got" = "$N 2 16 True True" ] && ok list_json_agrees_and_other_rows_unchanged ||
	not_ok list_json_agrees_and_other_rows_unchanged "$got"
# The rows of the other VMs are byte for byte what they were.
diff <(grep -v "^$mid " "$T/list" | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$//') \
	<(grep -v "^$mid " "$T/list2" | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$//') > "$T/d" &&
	ok list_other_rows_unchanged_by_the_run || not_ok list_other_rows_unchanged_by_the_run "$(head "$T/d")"
# The CPU column is the last run's (history_last): the burning run, not the first one.
cpu=$(python3 -c '
import json, sys
print([x for x in json.loads(sys.argv[1]) if x["name"] == sys.argv[2]][0]["last_run_cpu_ms"])' "$json" "$mid")
last=$(ls "$FVM_HOME/ctl/$mid/history" | grep -v trace | sort | tail -1)
rec=$(awk '$1 == "user-ms" {u = $2} $1 == "sys-ms" {s = $2} END {print u + s}' "$FVM_HOME/ctl/$mid/history/$last")
[ -n "$cpu" ] && [ "$cpu" = "$rec" ] && ok list_cpu_is_the_last_runs ||
	not_ok list_cpu_is_the_last_runs "list: $cpu" "last record $last: $rec"

# A running VM among them: its row says running, with its processes; the rest idle.
"$FVM_EXEC" -n vm7 -- sleep 3 &
bg=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	"$FVM" list > "$T/list3"
	grep -q '^vm7 .*running' "$T/list3" && break
	sleep 0.2
done
wait "$bg"
row=$(grep '^vm7 ' "$T/list3")
others=$(grep -c ' running' "$T/list3")
[[ "$row" == *"running(1)"* ]] && [ "$others" = 1 ] && ok list_running_vm_among_many ||
	not_ok list_running_vm_among_many "vm7: $row" "running rows: $others"

# The cost does not grow with the VMs: /proc is walked twice for the store, each
# process's stat and environ read once a walk (strace counts; load-insensitive).
if command -v strace > /dev/null; then
	# (LeakSanitizer cannot stop the world of a traced process: make check-sanitize's
	# fvm takes no leak check under strace; every other run of it here does.)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -e trace=openat -o "$T/strace" "$FVM" list > /dev/null 2>&1
	procs=$(ls /proc | grep -c "^[0-9]")
	opens=$(grep -c '"/proc/[0-9]' "$T/strace")
	# Two walks: stat + environ per process each; the margin is processes started meanwhile.
	[ "$opens" -le $((4 * procs + 200)) ] && ok "list_reads_proc_per_store_not_per_vm ($opens opens, $procs processes)" ||
		not_ok list_reads_proc_per_store_not_per_vm "$opens opens of /proc files for $procs processes and $N VMs"
else
	skip list_reads_proc_per_store_not_per_vm "no strace"
fi

# An idle VM's disk: its data and control areas (the policy image is sparse).
kib=$(du -sk "$FVM_HOME/vms/vm3" "$FVM_HOME/ctl/vm3" | awk '{s += $1} END {print s}')
[ "$kib" -le 64 ] && ok "idle_vm_disk_at_most_64_kib ($kib KiB)" || not_ok idle_vm_disk_at_most_64_kib "$kib KiB" "$(du -ak "$FVM_HOME/vms/vm3" "$FVM_HOME/ctl/vm3")"
# The policy image reads as the whole image, zeros included (sparse, not short).
size=$(stat -c %s "$FVM_HOME/ctl/vm3/policy")
[ "$size" = "$(stat -c %s "$FVM_HOME/ctl/$mid/policy")" ] && [ "$size" -gt 4096 ] &&
	[ "$(cmp "$FVM_HOME/ctl/vm3/policy" "$FVM_HOME/ctl/vm4/policy" 2>&1)" = "" ] &&
	ok policy_image_full_length || not_ok policy_image_full_length "size $size"
# A run of an existing VM leaves an identical policy image in place (same inode); a
# changed policy is written anew.
ino=$(stat -c "%i %z" "$FVM_HOME/ctl/vm3/policy")
"$FVM_EXEC" -n vm3 -- true
[ "$(stat -c "%i %z" "$FVM_HOME/ctl/vm3/policy")" = "$ino" ] && ok policy_image_kept_when_unchanged ||
	not_ok policy_image_kept_when_unchanged "inode $ino became $(stat -c "%i %z" "$FVM_HOME/ctl/vm3/policy")"
out=$("$FVM_EXEC" -n vm3 --hide "$HOST/existing" -- cat "$HOST/existing" 2>&1)
ino2=$(stat -c "%i %z" "$FVM_HOME/ctl/vm3/policy")
[ "$ino2" != "$ino" ] && [[ "$out" == *"No such file"* ]] && ok policy_image_rewritten_when_changed ||
	not_ok policy_image_rewritten_when_changed "inode $ino, after --hide $ino2" "$out"
out=$("$FVM_EXEC" -n vm3 -- cat "$HOST/existing" 2>&1)
[ "$out" = data ] && ok policy_image_rewritten_back || not_ok policy_image_rewritten_back "$out"

host_unchanged > "$T/why" && ok host_tree_unchanged_after_all_runs || not_ok host_tree_unchanged_after_all_runs "$(cat "$T/why")"
done_testing
