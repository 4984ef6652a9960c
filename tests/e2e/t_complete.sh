#!/usr/bin/env bash
# Shell completion (issue 20): completion/fvm.bash driven as bash drives it (COMP_WORDS,
# COMP_CWORD, then COMPREPLY), and completion/_fvm under zsh with its completion
# builtins recorded: subcommands, each subcommand's options as its --help lists them,
# option values (net policies, fence modes, compressions), VM names from the store,
# snapshot labels for restore and diff --layer, fvm config's KEY=VALUE, fvm-exec's
# options and its COMMAND. `fvm __complete` itself: every option it offers is one the
# subcommand accepts, and every value word one its parser accepts. Host unchanged.
. "$(dirname "$0")/../lib/harness.sh"

export FVM_COMPLETE_BIN=$FVM
export FVM_SYSTEM_CONFIG=$T/none.conf XDG_CONFIG_HOME=$T/xdg

echo data > "$HOST/existing"
snapshot_host
(cd "$HOST" && "$FVM_EXEC" -n alpha -- sh -c 'echo one > a1' && "$FVM" snapshot alpha first >/dev/null &&
	"$FVM_EXEC" -n alpha -- sh -c 'echo two > a2' && "$FVM" snapshot alpha second >/dev/null &&
	"$FVM_EXEC" -n beta -- true) > "$T/setup" 2>&1 || not_ok setup "$(cat "$T/setup")"

# comp FUNC WORD... : COMPREPLY of completion function FUNC for the line WORD... (the
# last word is the one completed), sorted, one line.
comp() {
	local func=$1
	shift
	bash -c '. "$1/completion/fvm.bash"; f=$2; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		COMPREPLY=(); "$f"; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP" "$func" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() { # NAME WANT GOT
	[ "$2" = "$3" ] && ok "$1" || not_ok "$1" "want [$2]" "got  [$3]"
}
has() { # NAME WORD GOT: WORD is one of GOT's
	case " $3 " in *" $2 "*) ok "$1" ;; *) not_ok "$1" "want $2 among" "[$3]" ;; esac
}

expect bash_subcommands_by_prefix "snapshot snapshots" "$(comp _fvm fvm sn)"
got=$(comp _fvm fvm "")
# Every subcommand fvm --help lists (help.c's table) is completed, from help.c's table.
for sub in $("$FVM" --help | awk '/^commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }'); do
	has "bash_subcommand_$sub" "$sub" "$got"
done
expect bash_pull_options "--all --help" "$(comp _fvm fvm pull --)"
expect bash_pull_vm_names "alpha beta" "$(comp _fvm fvm pull "")"
has bash_subscribe_pub_option "--pub" "$(comp _fvm fvm subscribe alpha http://x/ --)"
expect bash_doctor_options "--help --json" "$(comp _fvm fvm doctor --)"
expect bash_stats_vm_names "alpha" "$(comp _fvm fvm stats al)"
expect bash_diff_options "--color --conflicts --help --json --layer --patch --stat" "$(comp _fvm fvm diff v --)"
expect bash_export_compress_values "gzip none zstd" "$(comp _fvm fvm export alpha --compress "")"
expect bash_vm_names "alpha beta" "$(comp _fvm fvm diff "")"
expect bash_vm_names_by_prefix "beta" "$(comp _fvm fvm rm b)"
expect bash_restore_labels "first second" "$(comp _fvm fvm restore alpha "")"
expect bash_diff_layer_labels "first second" "$(comp _fvm fvm diff alpha --layer "")"
expect bash_labels_of_other_vm_are_none "" "$(comp _fvm fvm restore beta "")"
expect bash_home_on_the_line_is_the_store "" "$(comp _fvm fvm --home "$T/empty" diff "")"
expect bash_help_takes_a_command "diff" "$(comp _fvm fvm help di)"
has bash_config_keys "net=" "$(comp _fvm fvm config alpha "")"
has bash_config_keys_enforce "enforce=" "$(comp _fvm fvm config alpha "")"
# bash splits "net=l" into net, =, l; the reply replaces the part after '='.
expect bash_config_net_values "loopback" "$(comp _fvm fvm config alpha net = l)"
expect bash_config_net_all_values "all loopback none" "$(comp _fvm fvm config alpha net =)"
got=$(cd "$HOST" && comp _fvm fvm commit alpha ex)
expect bash_commit_paths_are_files "existing" "$got"

expect bash_exec_net_values "all loopback none" "$(comp _fvm_exec fvm-exec --net "")"
expect bash_exec_enforce_values "auto off require" "$(comp _fvm_exec fvm-exec --enforce "")"
expect bash_exec_loopback_values "private shared" "$(comp _fvm_exec fvm-exec --loopback "")"
expect bash_exec_vm_names "alpha" "$(comp _fvm_exec fvm-exec -n al)"
got=$(comp _fvm_exec fvm-exec --)
for o in --vm --net --enforce --share --ephemeral --timeout --; do has "bash_exec_option_$o" "$o" "$got"; done
expect bash_exec_command "true" "$(comp _fvm_exec fvm-exec --net none -- tru | tr ' ' '\n' | grep -x true | sort -u)"
expect bash_exec_command_without_dashdash "true" "$(comp _fvm_exec fvm-exec -n x tru | tr ' ' '\n' | grep -x true | sort -u)"

# Every option offered for a subcommand is one it accepts: given alone (with a value
# where it takes one), it is never "unrecognized" or "invalid option".
bad=
for sub in $("$FVM" __complete -- ""); do
	for opt in $("$FVM" __complete -- "$sub" -); do
		out=$("$FVM" "$sub" "$opt" x y 2>&1 < /dev/null)
		case $out in *unrecognized*|*"invalid option"*) bad="$bad $sub:$opt" ;; esac
	done
done
expect every_offered_option_is_accepted "" "${bad# }"

# Every value word offered for fvm-exec is accepted by fvm-exec itself.
bad=
for opt in --net --enforce --loopback --unix --memory --nproc; do
	for v in $("$FVM" __complete --exec -- "$opt" "" | grep -v '^:'); do
		"$FVM_EXEC" "$opt" "$v" --ephemeral -- true > /dev/null 2>&1 || bad="$bad $opt=$v"
	done
done
expect every_offered_value_is_accepted "" "${bad# }"
expect complete_never_fails_without_a_store "0" "$(FVM_HOME=$T/nowhere "$FVM" __complete -- diff "" > /dev/null 2>&1; echo $?)"

# zsh: the same answers through compadd (recorded by a function of that name).
if command -v zsh > /dev/null; then
	zcomp() { # SERVICE WORD...
		local service=$1
		shift
		zsh -f -c 'compadd() { local arr=${@[-1]}; reply+=(${(P)arr}); }
			_files() { reply+=(FILES); }; _command_names() { reply+=(COMMANDS); }
			typeset -a reply; service=$1; shift; words=("$@"); CURRENT=$#
			source $FVM_TOP/completion/_fvm; print -r -- ${(o)reply}' _ "$service" "$@"
	}
	export FVM_TOP=$TOP
	expect zsh_subcommands_by_prefix "snapshot snapshots" "$(zcomp fvm fvm sn)"
	expect zsh_restore_labels "first second" "$(zcomp fvm fvm restore alpha "")"
	expect zsh_vm_names "alpha beta" "$(zcomp fvm fvm info "")"
	expect zsh_exec_net_values "all loopback none" "$(zcomp fvm-exec fvm-exec --net "")"
	expect zsh_commit_paths_are_files "FILES" "$(zcomp fvm fvm commit alpha "")"
	expect zsh_exec_command "COMMANDS" "$(zcomp fvm-exec fvm-exec -- "")"
else
	skip zsh_completion "zsh is not installed (make deps installs it)"
fi

host_unchanged > "$T/why" && ok host_tree_unchanged || not_ok host_tree_unchanged "$(cat "$T/why")"
done_testing
