#!/usr/bin/env bash
# The command-line contract of fvm and fvm-exec (issue 20): every subcommand's --help
# and `fvm help SUB`; a usage error is one line plus "see fvm SUB --help", status 2;
# each status of the EXIT STATUS table (fvm/exit.h) for each subcommand, 4 for a feed's
# server that cannot be reached (fvm pull), 1 for its refusals; a PATH that
# selects no change is an error naming it; --dry-run of commit and reset changes
# nothing; a failed start leaves no VM; the messages for an empty option value, a
# trailing comment and an unclosed quote; the drift of a VM's vm.conf from the
# configuration files. The host tree is unchanged after every VM run.
. "$(dirname "$0")/../lib/harness.sh"

export FVM_SYSTEM_CONFIG=$T/system.conf XDG_CONFIG_HOME=$T/xdg
mkdir -p "$XDG_CONFIG_HOME/fvm"
: > "$XDG_CONFIG_HOME/fvm/fvm.conf"

check() { # NAME WANT-STATUS CMD...: the status, output in $T/out, stderr in $T/err
	local name=$1 want=$2 got
	shift 2
	"$@" > "$T/out" 2> "$T/err"; got=$?
	if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name" "exit $got, want $want" "$(cat "$T/out" "$T/err")"; fi
}

# Every subcommand fvm --help lists (help.c's table): each must have its own help.
SUBS=$("$FVM" --help | awk '/^commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }' | tr '\n' ' ')
for sub in list info diff compare commit reset rm migrate ps stats top export import snapshot snapshots restore squash clone \
	keygen sign verify publish subscribe pull stop config doctor trace provenance help; do
	case " $SUBS " in *" $sub "*) ok "fvm_help_lists_$sub" ;; *) not_ok "fvm_help_lists_$sub" "$SUBS" ;; esac
done
[ "$("$FVM" __complete -- "" | sort | tr '\n' ' ')" = "$(tr ' ' '\n' <<< "$SUBS" | grep . | sort | tr '\n' ' ')" ] &&
	ok completion_offers_exactly_the_subcommands || not_ok completion_offers_exactly_the_subcommands "$("$FVM" __complete -- "")"
echo data > "$HOST/existing"
snapshot_host
(cd "$HOST" && "$FVM_EXEC" -n v -- sh -c 'echo new > added; echo more >> existing')

# --help, -h and `fvm help SUB`: synopsis, options, example, status 0, on stdout.
for sub in $SUBS; do
	check "help_of_${sub}_is_0" 0 "$FVM" "$sub" --help
	grep -q "^usage: fvm $sub" "$T/out" && grep -q '^options:' "$T/out" && grep -q '^example:' "$T/out" &&
		[ ! -s "$T/err" ] && ok "help_of_${sub}_has_synopsis_options_example" ||
		not_ok "help_of_${sub}_has_synopsis_options_example" "$(cat "$T/out" "$T/err")"
	cp "$T/out" "$T/help1"
	check "fvm_help_${sub}_is_0" 0 "$FVM" help "$sub"
	cmp -s "$T/out" "$T/help1" && ok "fvm_help_${sub}_is_its_help" || not_ok "fvm_help_${sub}_is_its_help"
done
check help_after_arguments_is_0 0 "$FVM" diff v --help
check fvm_help_without_command_is_0 0 "$FVM" help
check fvm_help_of_unknown_command_is_2 2 "$FVM" help frobnicate
check fvm_exec_help_is_0 0 "$FVM_EXEC" --help
grep -q '^usage: fvm-exec' "$T/out" && grep -q '^examples:' "$T/out" && grep -q -- '--vm' "$T/out" &&
	ok fvm_exec_help_has_synopsis_options_example || not_ok fvm_exec_help_has_synopsis_options_example "$(cat "$T/out")"
for bad in --no-such-option "--net bogus"; do
	# shellcheck disable=SC2086 # the option and its value are two words
	check "fvm_exec_usage_error_${bad%% *}_is_125" 125 "$FVM_EXEC" $bad -- true
	[ "$(wc -l < "$T/err")" = 2 ] && [ "$(tail -1 "$T/err")" = "see fvm-exec --help" ] &&
		ok "fvm_exec_usage_error_${bad%% *}_is_one_line_and_where_help_is" ||
		not_ok "fvm_exec_usage_error_${bad%% *}_is_one_line_and_where_help_is" "$(cat "$T/err")"
done

# A usage error: one line, then "see fvm SUB --help", status 2.
usage_error() { # NAME SUB ARGS...
	local name=$1 sub=$2
	shift 2
	check "$name" 2 "$FVM" "$sub" "$@"
	if [ "$(wc -l < "$T/err")" = 2 ] && [ "$(tail -1 "$T/err")" = "see fvm $sub --help" ] && [ ! -s "$T/out" ]; then
		ok "${name}_says_one_line_and_where_help_is"
	else
		not_ok "${name}_says_one_line_and_where_help_is" "$(cat "$T/err")"
	fi
}
for sub in $SUBS; do
	usage_error "bad_option_of_${sub}_is_2" "$sub" --no-such-option
done
for sub in info diff compare commit reset rm ps stats export import snapshot snapshots restore squash clone stop config \
	sign verify publish subscribe pull trace provenance; do
	usage_error "missing_name_of_${sub}_is_2" "$sub"
done
usage_error subscribe_without_key_is_2 subscribe v http://127.0.0.1:9/
usage_error subscribe_of_other_scheme_is_2 subscribe v ftp://127.0.0.1/ --pub "$T/none.pub"
usage_error pull_all_with_a_name_is_2 pull --all v
usage_error publish_without_feed_is_2 publish v --key "$T/k.key"
usage_error extra_argument_of_list_is_2 list x
usage_error diff_formats_that_exclude_each_other_are_2 diff v --stat --json
usage_error reset_all_with_a_path_is_2 reset v --all "$HOST/added"
check unknown_command_is_2 2 "$FVM" frobnicate

# 1: a refusal the user can act on. No such VM, for every subcommand naming one.
for sub in info diff commit reset rm ps stats snapshot snapshots squash stop config pull trace provenance; do
	check "${sub}_of_missing_vm_is_1" 1 "$FVM" "$sub" nosuchvm
done
check restore_of_missing_vm_is_1 1 "$FVM" restore nosuchvm L
check compare_of_missing_vm_is_1 1 "$FVM" compare v nosuchvm
check compare_of_identical_vms_is_0 0 "$FVM" compare v v
check clone_of_missing_vm_is_1 1 "$FVM" clone nosuchvm x
check export_of_missing_vm_is_1 1 "$FVM" export nosuchvm -o "$T/x.tar"
check import_of_missing_file_is_1 1 "$FVM" import imp "$T/no-such.tar"
check clone_onto_existing_vm_is_1 1 "$FVM" clone v v
check restore_of_missing_label_is_1 1 "$FVM" restore v nosuchlabel --yes
# A running VM: what would change it is refused.
"$FVM_EXEC" -n busy -- sleep 3 &
busy=$!
for _ in $(seq 50); do "$FVM" list | grep -q '^busy .*running' && break; sleep 0.1; done
for sub in commit reset rm squash; do
	check "${sub}_of_running_vm_is_1" 1 "$FVM" "$sub" busy
done
check config_of_running_vm_is_1 1 "$FVM" config busy net=none
grep -q "fvm stop busy" "$T/err" && ok config_of_running_vm_says_how || not_ok config_of_running_vm_says_how "$(cat "$T/err")"
wait "$busy"
usage_error config_of_unknown_key_is_2 config v nosuchkey=1
usage_error config_of_bad_value_is_2 config v net=bogus
usage_error config_of_command_line_option_is_2 config v vm=x
usage_error config_change_without_equals_is_2 config v net

# A PATH that selects no change: an error naming it, status 1, nothing applied.
for sub in diff commit reset; do
	check "${sub}_of_path_matching_nothing_is_1" 1 "$FVM" "$sub" v "$HOST/added" /no/such/path
	grep -q "/no/such/path: matches no change" "$T/err" && ok "${sub}_names_the_path_matching_nothing" ||
		not_ok "${sub}_names_the_path_matching_nothing" "$(cat "$T/err")"
done
[ ! -e "$HOST/added" ] && [ "$("$FVM" diff v | grep -c "$HOST/")" = 2 ] && ok path_matching_nothing_applies_nothing ||
	not_ok path_matching_nothing_applies_nothing "$("$FVM" diff v)"
check diff_of_matching_path_is_0 0 "$FVM" diff v "$HOST/added"
# A change held in a snapshot is not reset by PATH: the error says where it is.
(cd "$HOST" && "$FVM_EXEC" -n lv -- sh -c 'echo l > inlayer')
"$FVM" snapshot lv s1 > /dev/null
check reset_of_path_only_in_a_snapshot_is_1 1 "$FVM" reset lv "$HOST/inlayer"
grep -q "inlayer\": matches no change since its last snapshot\|inlayer: matches no change since its last snapshot" "$T/err" &&
	ok reset_names_where_the_change_is || not_ok reset_names_where_the_change_is "$(cat "$T/err")"
check diff_of_path_in_a_snapshot_is_0 0 "$FVM" diff lv "$HOST/inlayer"

# --dry-run: what would happen, and nothing happens.
check reset_dry_run_is_0 0 "$FVM" reset --dry-run v "$HOST/added"
[ "$(cat "$T/out")" = "A $HOST/added
would discard 1 change of VM v" ] && ok reset_dry_run_shows_what_would_go || not_ok reset_dry_run_shows_what_would_go "$(cat "$T/out")"
check commit_dry_run_is_0 0 "$FVM" commit --dry-run v "$HOST/existing"
grep -q "^M $HOST/existing\$" "$T/out" && grep -q "^would commit 1 change" "$T/out" &&
	ok commit_dry_run_shows_what_would_be_applied || not_ok commit_dry_run_shows_what_would_be_applied "$(cat "$T/out")"
[ "$("$FVM" diff v | grep -c "$HOST/")" = 2 ] && ok dry_runs_change_nothing || not_ok dry_runs_change_nothing "$("$FVM" diff v)"

# VMcasting (issue 18): a refusal is 1, a server that cannot be reached 4.
"$FVM" keygen -o "$T/k" --no-passphrase > /dev/null 2>&1
"$FVM" keygen -o "$T/k2" --no-passphrase > /dev/null 2>&1
echo signed > "$T/signed"
check sign_is_0 0 "$FVM" sign "$T/signed" --key "$T/k.key"
check verify_is_0 0 "$FVM" verify "$T/signed" --pub "$T/k.pub"
check verify_by_other_key_is_1 1 "$FVM" verify "$T/signed" --pub "$T/k2.pub"
echo changed >> "$T/signed"
check verify_of_changed_file_is_1 1 "$FVM" verify "$T/signed" --pub "$T/k.pub"
check keygen_over_existing_key_is_1 1 "$FVM" keygen -o "$T/k" --no-passphrase
check subscribe_with_missing_key_is_1 1 "$FVM" subscribe sv http://127.0.0.1:9/ --pub "$T/none.pub"
check pull_of_unsubscribed_vm_is_1 1 "$FVM" pull v
mkdir -p "$T/feed"
check publish_is_0 0 "$FVM" publish v --feed "$T/feed" --key "$T/k.key"
check publish_with_nothing_new_is_1 1 "$FVM" publish v --feed "$T/feed" --key "$T/k.key"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
check subscribe_is_0 0 "$FVM" subscribe sv "http://127.0.0.1:$port/" --pub "$T/k.pub"
check pull_from_unreachable_server_is_4 4 "$FVM" pull sv
grep -q "127.0.0.1:$port" "$T/err" && ok pull_unreachable_names_the_url || not_ok pull_unreachable_names_the_url "$(cat "$T/err")"
check pull_all_from_unreachable_server_is_4 4 "$FVM" pull --all
check subscribe_file_url_is_0 0 "$FVM" subscribe sw "file://$T/feed/" --pub "$T/k2.pub"
check pull_by_untrusted_key_is_1 1 "$FVM" pull sw
grep -q "which this subscription does not trust" "$T/err" && ok pull_refusal_says_why || not_ok pull_refusal_says_why "$(cat "$T/err")"
check subscribe_trusted_key_is_0 0 "$FVM" subscribe sw "file://$T/feed/" --pub "$T/k.pub"
check pull_is_0 0 "$FVM" pull sw
"$FVM_EXEC" -n sw -- true
check doctor_json_is_0_or_1 "$("$FVM" doctor > /dev/null 2>&1; echo $?)" "$FVM" doctor --json

# 3: a damaged store (a format file fvm does not know), for every subcommand.
bad=$T/bad-store
mkdir -p "$bad"
echo "fvm-store 99" > "$bad/format"
for sub in $SUBS; do
	args=(); case $sub in list|migrate) ;; restore|clone) args=(v x) ;; export) args=(v -o "$T/x.tar") ;; import) args=(x "$T/x.tar") ;;
		subscribe) args=(v http://127.0.0.1:9/ --pub "$T/k.pub") ;; publish) args=(v --feed "$T/feed" --key "$T/k.key") ;; *) args=(v) ;; esac
	# migrate converts a store of another format; keygen, sign and verify use no store;
	# doctor reports on the store whatever its state; help needs none.
	case $sub in migrate|keygen|sign|verify|doctor|help) continue ;; esac
	check "${sub}_of_damaged_store_is_3" 3 env FVM_HOME="$bad" "$FVM" "$sub" "${args[@]}"
done
check migrate_of_unknown_format_is_1 1 env FVM_HOME="$bad" "$FVM" migrate

# fvm-exec: 125 for its own errors, 126 and 127 for the command's; a failed start
# leaves no VM behind, and a VM that existed stays.
check fvm_exec_bad_option_is_125 125 "$FVM_EXEC" --no-such-option -- true
check fvm_exec_empty_vm_name_is_125 125 "$FVM_EXEC" -n '' -- true
grep -q "option -n/--vm was given an empty value" "$T/err" && ok empty_vm_name_message_names_the_option ||
	not_ok empty_vm_name_message_names_the_option "$(cat "$T/err")"
check fvm_exec_not_found_is_127 127 env PATH=/usr/bin:/bin "$FVM_EXEC" -n x -- no-such-command-fvm
"$FVM" list | grep -q '^x ' && not_ok failed_start_leaves_no_vm "$("$FVM" list)" || ok failed_start_leaves_no_vm
[ ! -e "$FVM_HOME/vms/x" ] && [ ! -e "$FVM_HOME/ctl/x" ] && ok failed_start_leaves_no_directories ||
	not_ok failed_start_leaves_no_directories "$(ls "$FVM_HOME/vms" "$FVM_HOME/ctl")"
check fvm_exec_not_executable_is_126 126 "$FVM_EXEC" -n x2 -- "$HOST/existing"
"$FVM" list | grep -q '^x2 ' && not_ok not_executable_leaves_no_vm || ok not_executable_leaves_no_vm
check fvm_exec_not_found_in_existing_vm_is_127 127 env PATH=/usr/bin:/bin "$FVM_EXEC" -n v -- no-such-command-fvm
"$FVM" list | grep -q '^v ' && [ "$("$FVM" diff v | grep -c "$HOST/")" = 2 ] && ok failed_start_keeps_existing_vm ||
	not_ok failed_start_keeps_existing_vm "$("$FVM" list)"
(cd "$HOST" && "$FVM_EXEC" -n w -- sh -c 'echo x > written; exit 127')
"$FVM" list | grep -q '^w ' && ok status_127_after_a_write_keeps_the_vm || not_ok status_127_after_a_write_keeps_the_vm "$("$FVM" list)"

# Configuration messages: a trailing comment, an unclosed quote (file and line).
printf 'memory = 1G\nnet = loopback # comment\n' > "$T/c1.conf"
check trailing_comment_is_125 125 "$FVM_EXEC" -c "$T/c1.conf" -n c -- true
grep -q "c1.conf:2: net: trailing comments are not allowed" "$T/err" && ok trailing_comment_says_so ||
	not_ok trailing_comment_says_so "$(cat "$T/err")"
printf 'net = "loopback\n' > "$T/c2.conf"
check unclosed_quote_is_125 125 "$FVM_EXEC" -c "$T/c2.conf" -n c -- true
grep -q "c2.conf:1: net: unclosed quote" "$T/err" && ok unclosed_quote_says_so || not_ok unclosed_quote_says_so "$(cat "$T/err")"
printf 'share = "%s/a #b"\n' "$T" > "$T/c3.conf"
check quoted_hash_is_a_value 0 "$FVM_EXEC" -c "$T/c3.conf" -n c3 -- true

# Drift: the files changed after the VM was made; keys given on the command line at
# creation, or now, are not named.
# (nice, not memory: a sanitized fvm-exec cannot start under an RLIMIT_AS.)
check drift_vm_made 0 "$FVM_EXEC" -n d --nice 2 -- true
[ ! -s "$T/err" ] && ok no_drift_message_without_a_change || not_ok no_drift_message_without_a_change "$(cat "$T/err")"
printf 'net = none\nnice = 3\n' > "$XDG_CONFIG_HOME/fvm/fvm.conf"
check drift_run 0 "$FVM_EXEC" -n d -- true
if [ "$(wc -l < "$T/err")" = 1 ] && grep -q "VM d keeps the policy of its vm.conf" "$T/err" &&
	grep -q "net = all in vm.conf, none in $XDG_CONFIG_HOME/fvm/fvm.conf:1" "$T/err" &&
	grep -q -- "give --net none for one run" "$T/err" && ! grep -q nice "$T/err"; then
	ok drift_is_one_line_naming_key_values_and_remedy
else
	not_ok drift_is_one_line_naming_key_values_and_remedy "$(cat "$T/err")"
fi
check drift_run_with_option 0 "$FVM_EXEC" -n d --net none -- true
[ ! -s "$T/err" ] && ok drift_not_said_for_a_key_given_now || not_ok drift_not_said_for_a_key_given_now "$(cat "$T/err")"

# fvm config: show, change (the key leaves the comparison), --reset (the files' now).
check config_show_is_0 0 "$FVM" config d
grep -q '^net = all$' "$T/out" && grep -q '^# VM d, vm.conf; not from the configuration files: nice$' "$T/out" &&
	ok config_shows_policy_and_keys_not_from_files || not_ok config_shows_policy_and_keys_not_from_files "$(cat "$T/out")"
check config_reset_is_0 0 "$FVM" config d --reset
grep -q '^net = none$' "$FVM_HOME/ctl/d/vm.conf" && grep -q '^nice = 2$' "$FVM_HOME/ctl/d/vm.conf" &&
	ok config_reset_takes_files_keeps_command_line_keys || not_ok config_reset_takes_files_keeps_command_line_keys "$(cat "$FVM_HOME/ctl/d/vm.conf")"
check drift_after_reset 0 "$FVM_EXEC" -n d -- true
[ ! -s "$T/err" ] && ok no_drift_after_config_reset || not_ok no_drift_after_config_reset "$(cat "$T/err")"
check config_set_is_0 0 "$FVM" config d net=loopback
check drift_after_config_set 0 "$FVM_EXEC" -n d -- true
grep -q '^net = loopback$' "$FVM_HOME/ctl/d/vm.conf" && [ ! -s "$T/err" ] &&
	ok config_set_changes_vm_conf_and_leaves_the_comparison || not_ok config_set_changes_vm_conf_and_leaves_the_comparison "$(cat "$T/err" "$FVM_HOME/ctl/d/vm.conf")"
# The next run compiles it: the policy fvm-exec wrote says so.
"$FVM" info d --json | grep -q '"net":"loopback"' && ok config_set_applies_to_next_run ||
	not_ok config_set_applies_to_next_run "$("$FVM" info d --json)"
: > "$XDG_CONFIG_HOME/fvm/fvm.conf"

host_unchanged > "$T/why" && ok host_tree_unchanged_after_all_runs || not_ok host_tree_unchanged_after_all_runs "$(cat "$T/why")"
done_testing
