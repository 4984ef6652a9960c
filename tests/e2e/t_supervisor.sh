#!/usr/bin/env bash
# The run's supervisor: every process of a VM is known, however it was started.
#
# The attack first: a daemon started in the VM (setsid &) keeps a write fd on a file of
# the VM; once fvm-exec has returned, commit used to rename that very inode into the
# host, and the daemon's later write landed in the host file. Now commit, reset and rm
# refuse while it lives, naming it. Then: daemons of every kind (setsid, double fork,
# nohup, all descriptors closed, a static program with an empty environment) are listed
# by fvm ps and ended by fvm stop; fvm-exec keeps its command's status and names what
# the command left running in one line; --kill-on-exit (and kill-on-exit in fvm.conf)
# ends them; --timeout still ends the whole VM with 124.
. "$(dirname "$0")/../lib/harness.sh"

STATIC=$TOP/build/tests/helpers/daemon-static
TAG=$((7000 + $$ % 1000)) # sleep durations unique to this test run, to find our processes
exec_vm() { timeout 30 "$FVM_EXEC" "$@"; }
fvm() { timeout 30 "$FVM" "$@"; }

# until_true SECONDS CMD...: polls CMD every 50 ms; false when it never succeeded.
until_true() {
	local n=$(($1 * 20))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}
no_procs() { local o; o=$(fvm ps "$1" --json) && [ "$o" = "[]" ]; }
nprocs_is() { [ "$(fvm ps "$1" | wc -l)" = $(($2 + 1)) ]; }
pids_of() { fvm ps "$1" --json | python3 -c 'import json,sys; print(*[p["pid"] for p in json.load(sys.stdin)])'; }
none_alive() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }

# ---- the attack: a setsid daemon holds a write fd on a file of the VM --------------
cd "$HOST"
GO=$T/go.a
out=$(exec_vm -n a -- sh -c "echo orig > f; setsid sh -c 'exec 3>>f; until [ -e $GO ]; do sleep 0.05; done; echo late >&3' > /dev/null 2>&1 < /dev/null &" 2>&1)
rc=$?
[ $rc = 0 ] && ok "attack_fvm_exec_returns_the_command_status ($(whoami_tag))" ||
	not_ok attack_fvm_exec_returns_the_command_status "rc $rc" "$out"
daemon=$(pids_of a)
[ -n "$daemon" ] && ok attack_daemon_is_listed_by_fvm_ps || not_ok attack_daemon_is_listed_by_fvm_ps "$(fvm ps a)"
fvm list | grep -q '^a  *running(' && ok attack_fvm_list_says_running || not_ok attack_fvm_list_says_running "$(fvm list)"
fvm commit a > "$T/out" 2>&1; rc=$?
first=${daemon%% *}
if [ $rc = 1 ] && grep -q "commit refused while these processes run: .*$first (" "$T/out" && [ ! -e "$HOST/f" ]; then
	ok attack_commit_refused_naming_the_daemon
else
	not_ok attack_commit_refused_naming_the_daemon "rc $rc, host f: $(cat "$HOST/f" 2>&1)" "$(cat "$T/out")"
fi
fvm reset a > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "reset refused.*$first (" "$T/out" && [ "$(fvm diff a)" = "A $HOST/f" ] &&
	ok attack_reset_refused_naming_the_daemon || not_ok attack_reset_refused_naming_the_daemon "rc $rc" "$(cat "$T/out")"
fvm rm a > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "rm refused.*$first (" "$T/out" && [ -d "$FVM_HOME/vms/a" ] &&
	ok attack_rm_refused_naming_the_daemon || not_ok attack_rm_refused_naming_the_daemon "rc $rc" "$(cat "$T/out")"
# The daemon writes, ends; then the commit goes through, and nothing writes the host after.
touch "$GO"
until_true 10 no_procs a && ok attack_daemon_ends_on_its_own || not_ok attack_daemon_ends_on_its_own "$(fvm ps a)"
# Bounded by the daemon's own 3 s poll: it has written or gone by now.
until_true 5 grep -q late "$FVM_HOME/vms/a/upper$HOST/f" "$HOST/f" 2>/dev/null
[ ! -e "$HOST/f" ] && ok attack_late_write_never_lands_in_the_host ||
	not_ok attack_late_write_never_lands_in_the_host "host f: $(cat "$HOST/f")"
until_true 10 sh -c "[ -z \"\$(ls '$FVM_HOME/ctl/a/runs')\" ]" && ok supervisor_removes_its_record_at_the_end ||
	not_ok supervisor_removes_its_record_at_the_end "$(ls -l "$FVM_HOME/ctl/a/runs")"
fvm commit a > "$T/out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(cat "$HOST/f")" = "orig
late" ] && ok attack_commit_after_the_daemon_ended || not_ok attack_commit_after_the_daemon_ended "rc $rc" "$(cat "$T/out")"
rm -f "$HOST/f"

# ---- the static variant: double fork, setsid, every fd closed, empty environment ----
GO=$T/go.s
exec_vm -n s -- sh -c "echo orig > f" > /dev/null 2>&1
# The daemon's open is virtualized (virtguard.c), in root runs too: it names the file as
# the VM sees it (the store is hidden from it).
up=$HOST/f
out=$(exec_vm -n s -- "$STATIC" "$up" "$GO" 2>&1 | grep -v 'is statically linked'); rc=${PIPESTATUS[0]}
# The middle process of the double fork may still be on its way out (fvm-exec may name
# it, or the daemon, or both): wait for it.
until_true 5 nprocs_is s 1
daemon=$(pids_of s)
if [ $rc = 0 ] && [ -n "$daemon" ] && grep -Eq "^fvm-exec: VM s: [12] process(es)? still running: [0-9]+ daemon-static(, [0-9]+ daemon-static)?; \`fvm stop s\` ends them$" <<< "$out"; then
	ok static_daemon_with_no_fd_and_no_env_is_tracked
else
	not_ok static_daemon_with_no_fd_and_no_env_is_tracked "rc $rc, ps: $daemon" "$out"
fi
fvm commit s > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && [ ! -e "$HOST/f" ] && grep -q "$daemon (daemon-static)" "$T/out" && ok static_daemon_commit_refused ||
	not_ok static_daemon_commit_refused "rc $rc" "$(cat "$T/out")"
touch "$GO"
until_true 10 no_procs s && fvm commit s > /dev/null 2>&1 && [ "$(cat "$HOST/f" 2>&1)" = "orig
late" ] && ok static_daemon_write_stays_in_the_vm_until_commit || not_ok static_daemon_write_stays_in_the_vm_until_commit "$(cat "$HOST/f" 2>&1)"
rm -f "$HOST/f"

# ---- daemons of every kind: fvm ps lists them, fvm stop ends them -------------------
GO=$T/go.b
script="setsid sleep $((TAG + 1)) > /dev/null 2>&1 < /dev/null &
( ( sleep $((TAG + 2)) > /dev/null 2>&1 < /dev/null & ) & )
nohup sleep $((TAG + 3)) > /dev/null 2>&1 < /dev/null &
sh -c 'exec 0<&- 1>&- 2>&-; exec sleep $((TAG + 4))' &
setsid sh -c 'trap \"\" TERM; sleep $((TAG + 5)); sleep $((TAG + 5))' > /dev/null 2>&1 < /dev/null &
'$STATIC' /dev/null '$GO'
exit 7"
start=$(date +%s%N)
exec_vm -n b -- sh -c "$script" > "$T/out" 2> "$T/err.all"; rc=$?
grep -v 'is statically linked' "$T/err.all" > "$T/err"
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc = 7 ] && ok "exit_status_of_the_command_is_kept (${ms} ms)" || not_ok exit_status_of_the_command_is_kept "rc $rc" "$(cat "$T/err")"
lines=$(grep -c . "$T/err")
if [ "$lines" = 1 ] && grep -Eq "^fvm-exec: VM b: [0-9]+ processes still running: [0-9]+ [a-z-]+(, [0-9]+ [a-z-]+)+; \`fvm stop b\` ends them$" "$T/err"; then
	ok fvm_exec_names_leftovers_in_one_line
else
	not_ok fvm_exec_names_leftovers_in_one_line "$(cat "$T/err")"
fi
# Asked until all show (at most 5 s): the static daemon's grandchild re-executes itself
# (through the supervisor, which answers a static program's execve) after fvm-exec has
# already returned, later on a loaded machine.
for _ in $(seq 50); do
	fvm ps b > "$T/ps"
	missing=
	for want in "sleep $((TAG + 1))" "sleep $((TAG + 2))" "sleep $((TAG + 3))" "sleep $((TAG + 4))" "sleep $((TAG + 5))" "daemon-static --detached"; do
		grep -q "$want\$\|$want " "$T/ps" || missing="$missing [$want]"
	done
	[ -z "$missing" ] && break
	sleep 0.1
done
[ -z "$missing" ] && ok "fvm_ps_lists_setsid_double_fork_nohup_closed_fds_static" ||
	not_ok fvm_ps_lists_setsid_double_fork_nohup_closed_fds_static "missing:$missing" "$(cat "$T/ps")"
head -1 "$T/ps" | grep -q '^ *PID  *PPID USER  *STATE COMMAND$' && ok fvm_ps_header || not_ok fvm_ps_header "$(head -1 "$T/ps")"
n_ps=$(($(wc -l < "$T/ps") - 1))
fvm info b | grep -q "^state:      running ($n_ps processes)$" && ok fvm_info_shows_the_process_count ||
	not_ok fvm_info_shows_the_process_count "ps: $n_ps" "$(fvm info b | head -8)"
fvm list --json | python3 -c "import json,sys; v=[x for x in json.load(sys.stdin) if x['name']=='b'][0]; sys.exit(not (v['state']=='running' and v['processes']==$n_ps))" &&
	ok fvm_list_json_shows_the_process_count || not_ok fvm_list_json_shows_the_process_count "$(fvm list --json)"
# A VM names its processes: their command lines reach the terminal escaped. (A second
# run of VM b, still in its command: fvm ps and fvm stop cover every run.)
exec_vm -n b -- python3 -c "import os; os.execv('/bin/sleep', ['sleep\x1b[2J\x07', '$((TAG + 11))'])" > /dev/null 2>&1 & second=$!
until_true 10 sh -c "'$FVM' ps b | grep -q 'sleep.033.2J.007 $((TAG + 11))'"
fvm ps b > "$T/ps"
if grep -q 'sleep\\033\[2J\\007 '"$((TAG + 11))" "$T/ps" && ! grep -q $'\033' "$T/ps"; then
	ok fvm_ps_escapes_control_characters
else
	not_ok fvm_ps_escapes_control_characters "$(cat -v "$T/ps")"
fi
pids=$(pids_of b)
start=$(date +%s%N)
fvm stop b --kill-after 1s > "$T/out" 2>&1; rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
# The TERM-ignoring one needed the KILL: at least the grace, well under the default 5 s.
if [ $rc = 0 ] && none_alive $pids && [ $ms -ge 900 ] && [ $ms -lt 4500 ]; then
	ok "fvm_stop_ends_them_all_term_then_kill (${ms} ms)"
else
	not_ok fvm_stop_ends_them_all_term_then_kill "rc $rc, ${ms} ms, alive: $(for p in $pids; do kill -0 $p 2>/dev/null && echo $p; done)" "$(cat "$T/out")"
fi
wait $second
fvm list | grep -q '^b  *idle ' && ok fvm_list_idle_after_stop || not_ok fvm_list_idle_after_stop "$(fvm list)"
fvm rm b > "$T/out" 2>&1 && [ ! -e "$FVM_HOME/vms/b" ] && [ ! -e "$FVM_HOME/ctl/b" ] && ok rm_after_stop_removes_vm_and_control_area ||
	not_ok rm_after_stop_removes_vm_and_control_area "$(cat "$T/out")"
fvm stop b > /dev/null 2>&1; [ $? = 1 ] && ok fvm_stop_of_a_missing_vm_is_1 || not_ok fvm_stop_of_a_missing_vm_is_1
fvm stop s --kill-after 2x > /dev/null 2>&1; [ $? = 2 ] && ok fvm_stop_bad_duration_is_usage || not_ok fvm_stop_bad_duration_is_usage

# rm --force ends the daemons first, then removes the VM and its control area.
exec_vm -n r -- sh -c "setsid sleep $((TAG + 10)) > /dev/null 2>&1 < /dev/null &" > /dev/null 2>&1
pids=$(pids_of r)
fvm rm --force r > "$T/out" 2>&1; rc=$?
[ $rc = 0 ] && [ -n "$pids" ] && none_alive $pids && [ ! -e "$FVM_HOME/vms/r" ] && [ ! -e "$FVM_HOME/ctl/r" ] &&
	ok rm_force_ends_the_daemons_and_removes_the_vm || not_ok rm_force_ends_the_daemons_and_removes_the_vm "rc $rc, pids: $pids" "$(cat "$T/out")"

# ---- a supervisor killed outright: its run's cgroup still names the VM's processes --
exec_vm -n z -- "$STATIC" /dev/null "$T/go.z" > /dev/null 2>&1
until_true 5 nprocs_is z 1
rec=$(ls "$FVM_HOME/ctl/z/runs" 2>/dev/null)
if [ -z "$rec" ] || ! grep -q '^cgroup ' "$FVM_HOME/ctl/z/runs/$rec"; then
	skip killed_supervisor_leaves_the_vm_known "no cgroup for the run ($(whoami_tag) cannot create one here): only the supervisor's tree knows a static daemon with no environment"
else
	daemon=$(pids_of z)
	cg=$(sed -n 's/^cgroup //p' "$FVM_HOME/ctl/z/runs/$rec" | head -1)
	kill -KILL "$rec"
	until_true 5 sh -c "! kill -0 $rec 2>/dev/null || grep -q '^State:.*Z' /proc/$rec/status"
	fvm commit z > "$T/out" 2>&1; rc=$?
	if [ "$(pids_of z)" = "$daemon" ] && [ $rc = 1 ] && grep -q "$daemon (daemon-static)" "$T/out"; then
		ok killed_supervisor_leaves_the_vm_known
	else
		not_ok killed_supervisor_leaves_the_vm_known "rc $rc, before: $daemon, now: $(pids_of z)" "$(cat "$T/out")"
	fi
	fvm stop z --kill-after 500ms > /dev/null 2>&1
	# rm prunes the stale record, and the cgroup its supervisor could not remove.
	fvm rm z > "$T/out" 2>&1 && [ ! -e "$cg" ] && [ ! -e "$FVM_HOME/ctl/z" ] && ok rm_after_a_killed_supervisor_removes_its_cgroup ||
		not_ok rm_after_a_killed_supervisor_removes_its_cgroup "cgroup $cg: $(ls -d "$cg" 2>&1)" "$(cat "$T/out")"
fi
fvm stop z --kill-after 500ms > /dev/null 2>&1

# ---- a commit holds the lock: no run of the VM starts until it is done --------------
exec_vm -n c -- python3 -c "
import os
os.makedirs('big')
for i in range(3000):
    open('big/f%04d' % i, 'w').write('x' * 100)" > /dev/null 2>&1
fvm commit c > "$T/commit.out" 2>&1 & cpid=$!
if until_true 20 sh -c "ls '$HOST/big' 2>/dev/null | grep -q ."; then
	if ! kill -0 $cpid 2>/dev/null; then
		skip run_waits_for_a_commit_in_progress "the commit of 3000 files ended before a run could be started"
	else
		exec_vm -n c -- true > /dev/null 2>&1
		# fvm-exec got the run lock only once the commit had let it go.
		if kill -0 $cpid 2>/dev/null && [ "$(ls "$HOST/big" | wc -l)" -lt 3000 ]; then
			not_ok run_waits_for_a_commit_in_progress "the run started while the commit was working"
		else
			ok run_waits_for_a_commit_in_progress
		fi
	fi
else
	not_ok run_waits_for_a_commit_in_progress "the commit never wrote the host" "$(cat "$T/commit.out")"
fi
wait $cpid
rm -rf "$HOST/big"

# ---- --kill-on-exit, and kill-on-exit in fvm.conf ----------------------------------
out=$(exec_vm --kill-on-exit --kill-after 1s -n k -- sh -c "setsid sh -c 'trap \"\" TERM; sleep $((TAG + 6))' > /dev/null 2>&1 < /dev/null & exit 5" 2>&1); rc=$?
[ $rc = 5 ] && [ -z "$out" ] && no_procs k && ! pgrep -f "sleep $((TAG + 6))" > /dev/null &&
	ok kill_on_exit_ends_the_vm_with_its_command || not_ok kill_on_exit_ends_the_vm_with_its_command "rc $rc" "$out" "$(fvm ps k)"
printf 'kill_on_exit = yes\nkill-after = 1s\n' > "$T/fvm.conf"
out=$(exec_vm -c "$T/fvm.conf" -n k -- sh -c "setsid sleep $((TAG + 7)) > /dev/null 2>&1 < /dev/null & exit 6" 2>&1); rc=$?
[ $rc = 6 ] && [ -z "$out" ] && no_procs k && ! pgrep -f "sleep $((TAG + 7))" > /dev/null &&
	ok kill_on_exit_config_key || not_ok kill_on_exit_config_key "rc $rc" "$out" "$(fvm ps k)"
printf 'kill_on_exit = maybe\n' > "$T/fvm.conf"
out=$(exec_vm -c "$T/fvm.conf" -n k -- true 2>&1); rc=$?
[ $rc = 125 ] && grep -q "kill-on-exit = maybe: not a boolean" <<< "$out" && ok kill_on_exit_bad_value_is_125 ||
	not_ok kill_on_exit_bad_value_is_125 "rc $rc" "$out"

# ---- --timeout still ends the whole VM, the daemons too ----------------------------
start=$(date +%s%N)
out=$(exec_vm --timeout 1s --kill-after 1s -n t -- sh -c "setsid sh -c 'trap \"\" TERM; sleep $((TAG + 8))' > /dev/null 2>&1 < /dev/null & sleep $((TAG + 8))" 2>&1); rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc = 124 ] && [ $ms -lt 4000 ] && no_procs t && ! pgrep -f "sleep $((TAG + 8))" > /dev/null &&
	ok "timeout_124_ends_the_daemons_too (${ms} ms)" || not_ok timeout_124_ends_the_daemons_too "rc $rc, ${ms} ms" "$out"
# A command that ended leaves its daemon to the clock: it is ended when the run's time is up.
out=$(exec_vm --timeout 1s --kill-after 500ms -n t -- sh -c "setsid sleep $((TAG + 9)) > /dev/null 2>&1 < /dev/null &" 2>&1); rc=$?
[ $rc = 0 ] && until_true 5 no_procs t && ok timeout_ends_what_the_command_left_running ||
	not_ok timeout_ends_what_the_command_left_running "rc $rc" "$out" "$(fvm ps t)"

for i in 1 2 3 4 5 6 7 8 9 10 11; do pkill -f "sleep $((TAG + i))" 2>/dev/null; done
done_testing
