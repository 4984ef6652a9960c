#!/usr/bin/env bash
# fvm-exec --review: the change summary after the command; on a terminal the question
# "Commit these changes? [y/N/s]"; without one, only the summary and no commit.
. "$(dirname "$0")/../lib/harness.sh"

echo host > "$HOST/keep"
snapshot_host
# setsid: a new session has no controlling terminal, even when the suite runs on one.
out=$(cd "$HOST" && setsid -w "$FVM_EXEC" --review -n nt -- sh -c 'echo a > new; echo b >> keep; exit 3' < /dev/null 2>&1); rc=$?
printf '%s\n' "$out" | grep -q "^  A $HOST/new$" && printf '%s\n' "$out" | grep -q "^1 added, 1 modified, 0 deleted$" &&
	ok review_without_terminal_prints_summary || not_ok review_without_terminal_prints_summary "$out"
printf '%s\n' "$out" | grep -q "Commit these" && not_ok review_without_terminal_does_not_ask "$out" || ok review_without_terminal_does_not_ask
host_unchanged > "$T/why" && ok review_without_terminal_commits_nothing || not_ok review_without_terminal_commits_nothing "$(cat "$T/why")"

if ! command -v script > /dev/null || ! script -qec true /dev/null > /dev/null 2>&1; then
	skip review_on_terminal_yes_commits "script(1) cannot make a terminal here"
	skip review_on_terminal_no_keeps "script(1) cannot make a terminal here"
	skip review_select_in_editor_commits_kept_paths "script(1) cannot make a terminal here"
else
	export HOST FVM_EXEC
	run_tty() { # ANSWER VM SCRIPT
		printf '%s\n' "$1" | script -qec "cd \"\$HOST\" && \"\$FVM_EXEC\" --review -n $2 -- sh -c '$3'" /dev/null > "$T/tty" 2>&1
	}
	run_tty n tn 'echo n > no'
	[ ! -e "$HOST/no" ] && grep -q "Commit these changes? \[y/N/s\]" "$T/tty" && grep -q "changes kept in VM tn" "$T/tty" &&
		ok review_on_terminal_no_keeps || not_ok review_on_terminal_no_keeps "$(cat "$T/tty")"
	run_tty y ty 'echo y > yes; echo more >> keep'
	[ "$(cat "$HOST/yes" 2>&1)" = y ] && [ "$(cat "$HOST/keep")" = "host
more" ] && [ -z "$("$FVM" diff ty)" ] && ok review_on_terminal_yes_commits || not_ok review_on_terminal_yes_commits "$(cat "$T/tty")"
	# The "editor" keeps only the path of "picked".
	export EDITOR="sed -i -e /picked/p -e /^#/d -e d"
	run_tty s ts 'echo p > picked; echo l > left'
	[ "$(cat "$HOST/picked" 2>&1)" = p ] && [ ! -e "$HOST/left" ] && [ "$("$FVM" diff ts | grep -F "$HOST/")" = "A $HOST/left" ] &&
		ok review_select_in_editor_commits_kept_paths || not_ok review_select_in_editor_commits_kept_paths "$(cat "$T/tty")" "$("$FVM" diff ts)"
	# A long commit shows a progress line on a terminal's stderr, and nothing elsewhere.
	(cd "$HOST" && "$FVM_EXEC" -n pg -- python3 -c "
import os
os.mkdir('many')
for i in range(400): open('many/f%d' % i, 'w').write('x')")
	"$FVM" commit pg --dry-run > /dev/null 2> "$T/err"
	"$FVM" reset pg "$HOST/many/f0" 2> "$T/err2"
	[ ! -s "$T/err" ] && [ ! -s "$T/err2" ] && ok progress_silent_without_terminal || not_ok progress_silent_without_terminal "$(cat "$T/err" "$T/err2")"
	script -qec "\"$FVM\" commit pg" /dev/null > "$T/tty" 2>&1
	grep -q "commit: [0-9]*/400" "$T/tty" && [ "$(ls "$HOST/many" | wc -l)" = 399 ] &&
		ok progress_line_on_terminal || not_ok progress_line_on_terminal "$(tr '\r' '\n' < "$T/tty" | tail -3)"
fi
[ "$rc" = 3 ] && ok review_keeps_command_exit_status || not_ok review_keeps_command_exit_status "rc $rc"
done_testing
