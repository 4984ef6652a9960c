#!/usr/bin/env bash
# fvm-exec and fvm from the command line: exit statuses, VM creation, errors, and the
# golden output of fvm diff and fvm list. Host tree unchanged after every VM run.
. "$(dirname "$0")/../lib/harness.sh"

expect_rc() { # NAME WANT CMD...
	local name=$1 want=$2 got
	shift 2
	"$@" > "$T/out" 2>&1; got=$?
	if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name" "exit $got, want $want" "$(cat "$T/out")"; fi
}

echo data > "$HOST/existing"
snapshot_host
expect_rc exit_status_is_passed_on 3 "$FVM_EXEC" -n e -- sh -c 'exit 3'
expect_rc killed_by_signal_is_128_plus_n 137 "$FVM_EXEC" -n e -- sh -c 'kill -9 $$'
# A PATH of searchable directories only: natively too, a PATH entry the user may not
# search (root's own, for the unprivileged run) makes execvp answer EACCES, hence 126.
expect_rc command_not_found_is_127 127 env PATH=/usr/bin:/bin "$FVM_EXEC" -n e -- no-such-command-fvm
expect_rc command_not_executable_is_126 126 "$FVM_EXEC" -n e -- "$HOST/existing"
expect_rc invalid_vm_name_is_125 125 "$FVM_EXEC" -n '../x' -- true
grep -q -- "-n ../x: invalid VM name" "$T/out" && ok invalid_vm_name_message_names_it || not_ok invalid_vm_name_message_names_it "$(cat "$T/out")"
expect_rc bad_option_is_125 125 "$FVM_EXEC" --no-such-option -- true
expect_rc help_exits_0 0 "$FVM_EXEC" --help
expect_rc fvm_without_command_is_usage_error 2 "$FVM"
expect_rc fvm_unknown_command_is_usage_error 2 "$FVM" frobnicate
expect_rc fvm_diff_of_missing_vm_is_1 1 "$FVM" diff nosuchvm

# First end-to-end path of the design: a write lands in the VM only.
out=$(cd "$HOST" && "$FVM_EXEC" -n t -- sh -c 'echo hi > f; cat f')
[ "$out" = hi ] && [ ! -e "$HOST/f" ] && ok echo_hi_lands_in_vm_only || not_ok echo_hi_lands_in_vm_only "$out"
[ -d "$FVM_HOME/vms/t/upper" ] && ok vm_created_under_fvm_home || not_ok vm_created_under_fvm_home
alt=$T/alt-store
(cd "$HOST" && "$FVM_EXEC" --home "$alt" -n h -- true)
[ -d "$alt/vms/h/upper" ] && ok home_option_overrides_store || not_ok home_option_overrides_store

# Golden diff: add, modify, delete.
(cd "$HOST" && "$FVM_EXEC" -n g -- sh -c 'echo new > added; echo more >> existing; mkdir nd; echo x > nd/x')
(cd "$HOST" && "$FVM_EXEC" -n g -- rm f 2>/dev/null; true)
(cd "$HOST" && "$FVM_EXEC" -n g2 -- rm existing)
cat > "$T/want" <<EOW
A $HOST/added
M $HOST/existing
A $HOST/nd
A $HOST/nd/x
EOW
"$FVM" diff g | grep -F "$HOST/" > "$T/got"
diff -u "$T/want" "$T/got" > "$T/d" && ok diff_golden_add_modify || not_ok diff_golden_add_modify "$(cat "$T/d")"
got=$("$FVM" diff g2 | grep -F "$HOST/")
[ "$got" = "D $HOST/existing" ] && ok diff_golden_delete || not_ok diff_golden_delete "$got"
got=$("$FVM" diff g "$HOST/nd")
[ "$got" = "A $HOST/nd
A $HOST/nd/x" ] && ok diff_restricted_to_path || not_ok diff_restricted_to_path "$got"

# Columns: name, state, changes, bytes in upper/, the last run's CPU time and peak
# memory, last used (normalised: time- and machine-dependent).
cat > "$T/want" <<'EOW'
NAME                     STATE         CHANGES        BYTES       CPU       PEAK  LAST-USED
e                        idle                0            0 CPU PEAK  TIME
g                        idle                4           16 CPU PEAK  TIME
g2                       idle                1            0 CPU PEAK  TIME
t                        idle                1            3 CPU PEAK  TIME
EOW
"$FVM" list | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$/TIME/; s/ +[0-9]+\.[0-9]{2}s +[0-9.]+ (B|[KMGT]iB)  / CPU PEAK  /' > "$T/got"
diff -u "$T/want" "$T/got" > "$T/d" && ok list_golden || not_ok list_golden "$(cat "$T/d")"
# The store is hidden inside a VM: look from outside while one runs.
"$FVM_EXEC" -n g -- sleep 2 &
sleep 0.5
got=$("$FVM" list | grep -c running)
wait
[ "$got" = 1 ] && ok list_shows_running_vm || not_ok list_shows_running_vm "running rows: $got"
# A store whose vms/ holds no VM yet lists the header only.
mkdir -p "$T/empty-store/vms"
got=$(FVM_HOME=$T/empty-store "$FVM" list 2>&1); rc=$?
[ "$rc" = 0 ] && [ "$got" = "$(head -1 "$T/want")" ] && ok list_of_store_without_vms ||
	not_ok list_of_store_without_vms "exit $rc" "$got"

# A refused change leaves the VM as it was: nothing is copied up for it.
if [ "$(id -u)" = 0 ]; then
	skip refused_chown_copies_nothing_up "root may chown anything; runs as the unprivileged user"
else
	out=$(cd "$HOST" && "$FVM_EXEC" -n r -- perl -e 'chown(0, -1, "existing") or print "$!\n"')
	if [ "$out" = "Operation not permitted" ] && [ ! -e "$FVM_HOME/vms/r/upper$HOST/existing" ]; then
		ok refused_chown_copies_nothing_up
	else
		not_ok refused_chown_copies_nothing_up "output: $out" "$(ls -la "$FVM_HOME/vms/r/upper$HOST" 2>&1)"
	fi
fi

host_unchanged > "$T/why" && ok host_tree_unchanged_after_all_runs || not_ok host_tree_unchanged_after_all_runs "$(cat "$T/why")"
done_testing
