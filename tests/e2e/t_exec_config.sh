#!/usr/bin/env bash
# fvm-exec's configuration: golden error messages for bad keys, values, lines and
# options (exit 125, naming FILE:LINE or the option); the precedence of the four layers
# (system fvm.conf, user fvm.conf, the VM's vm.conf, the command line; -c FILE replacing
# the first two; [vm NAME] sections); vm.conf written at creation; the policy file
# rewritten on every run. Observed through the niceness a run gets.
. "$(dirname "$0")/../lib/harness.sh"

GOLDEN=$(dirname "$0")/golden
export XDG_CONFIG_HOME=$T/xdg FVM_SYSTEM_CONFIG=$T/system.conf
mkdir -p "$XDG_CONFIG_HOME/fvm"
snapshot_host
# The line that names a drift from the files (t_exit.sh checks it) is left out here.
nodrift() { grep -v 'keeps the policy of its vm.conf'; }
nice_of() { (cd "$HOST" && "$FVM_EXEC" "$@" -- sh -c 'cut -d" " -f19 /proc/self/stat' 2>&1) | nodrift; }
check() { [ "$2" = "$3" ] && ok "$1" || not_ok "$1" "want: $2" "got: $3"; }

# Golden errors: each bad file or option, its message, its exit status.
: > "$T/errors"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%b\n' "$line" > "$T/bad$n.conf"
	"$FVM_EXEC" -c "$T/bad$n.conf" -- true >> "$T/errors" 2>&1
	echo "exit $?" >> "$T/errors"
done <<'EOC'
nice = 5\nbogus = 1
memory = 12Q
cpus = 3-1
net = wifi
allow = 10.0.0.1:99999
this line has no equals sign
[vm ../x]
[global]
vm = other
nice = 3\n[vm a]\ntimeout = 5x
timeout = 5
EOC
for opt in "--memory 12Q" "--nice 40" "--net wifi" "--cpus x" "--timeout 1y" "--enforce maybe" "--loopback lan" "--allow nowhere" "--cpu 0" "--pids-total -1"; do
	"$FVM_EXEC" $opt -- true >> "$T/errors" 2>&1
	echo "exit $?" >> "$T/errors"
done
sed "s|$T|\$T|g" "$T/errors" > "$T/errors.got"
golden_check config_error_messages_golden "$GOLDEN/config-errors.txt" "$T/errors.got"

# A system config writable by others is refused.
echo "nice = 1" > "$FVM_SYSTEM_CONFIG"; chmod 666 "$FVM_SYSTEM_CONFIG"
out=$(nice_of -n w)
case $out in *"system.conf: writable by group or others; refusing it"*) ok group_writable_system_config_is_refused ;; *) not_ok group_writable_system_config_is_refused "$out" ;; esac
chmod 644 "$FVM_SYSTEM_CONFIG"

# Layers.
check system_config_applies 1 "$(nice_of -n p1)"
echo "nice = 2" > "$XDG_CONFIG_HOME/fvm/fvm.conf"
check user_config_overrides_system 2 "$(nice_of -n p2)"
printf 'nice = 2\n[vm p3]\nnice = 5\n[vm other]\nnice = 9\n' > "$XDG_CONFIG_HOME/fvm/fvm.conf"
check vm_section_overrides_global_keys 5 "$(nice_of -n p3)"
grep -q '^nice = 2$' "$FVM_HOME/ctl/p2/vm.conf" && ok vm_conf_written_with_effective_policy ||
	not_ok vm_conf_written_with_effective_policy "$(cat "$FVM_HOME/ctl/p2/vm.conf")"
echo "nice = 3" > "$XDG_CONFIG_HOME/fvm/fvm.conf"
check vm_conf_overrides_user_config 2 "$(nice_of -n p2)"
sed -i 's/^nice = 2$/nice = 6/' "$FVM_HOME/ctl/p2/vm.conf"
check edited_vm_conf_applies 6 "$(nice_of -n p2)"
check command_line_overrides_vm_conf 7 "$(nice_of -n p2 --nice 7)"
check command_line_does_not_change_vm_conf 6 "$(nice_of -n p2)"
echo "nice = 8" > "$T/own.conf"
check config_option_replaces_system_and_user 8 "$(nice_of -n p4 -c "$T/own.conf")"
echo "nice =" > "$T/reset.conf"
check empty_value_resets_to_default 0 "$(nice_of -n p5 -c "$T/reset.conf")"

# The compiled policy follows the effective configuration on every run.
(cd "$HOST" && "$FVM_EXEC" -n p6 --hide "$HOST/secret" -- true)
echo s > "$HOST/secret"; snapshot_host
out=$(cd "$HOST" && "$FVM_EXEC" -n p6 -- cat secret 2>&1)
check hide_from_vm_conf_applies_on_later_runs "cat: secret: No such file or directory" "$out"
out=$(cd "$HOST" && "$FVM_EXEC" -n p6 --hide "$HOST/other" -- cat secret 2>&1)
check command_line_list_replaces_vm_conf_list "s" "$out"
out=$("$FVM_EXEC" -n p7 --share '~/sub' -v -- true 2>&1 | grep '^share')
check tilde_expands_in_paths "share = $HOME/sub  # --share" "$out"
# A quoted value keeps its blanks in vm.conf: the path hidden at creation stays hidden.
echo t > "$HOST/trailing "; snapshot_host
printf 'hide = "%s"\n' "$HOST/trailing " > "$T/blank.conf"
(cd "$HOST" && "$FVM_EXEC" -n p8 -c "$T/blank.conf" -- true)
out=$(cd "$HOST" && "$FVM_EXEC" -n p8 -- cat "trailing " 2>&1 | nodrift)
check quoted_value_with_blanks_survives_vm_conf "cat: 'trailing ': No such file or directory" "$out"
# A value cannot carry a newline into vm.conf, where it would be another key.
out=$("$FVM_EXEC" -n p9 --hide "$(printf '/x\nnice = 19')" -- true 2>&1); rc=$?
[ "$rc" = 125 ] && [ ! -e "$FVM_HOME/vms/p9" ] && case $out in *"a value holds no newline"*) true ;; *) false ;; esac &&
	ok newline_in_a_value_is_refused || not_ok newline_in_a_value_is_refused "exit $rc" "$out"
host_unchanged > "$T/why" && ok host_tree_unchanged_after_all_runs || not_ok host_tree_unchanged_after_all_runs "$(cat "$T/why")"
done_testing
