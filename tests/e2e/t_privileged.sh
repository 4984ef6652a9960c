#!/usr/bin/env bash
# Changes that grant privilege (issue 13): a VM sets setuid and setgid bits, file
# capabilities, ownership by root of a file the host had another owner for, a new
# root-owned file in a directory of another user, a device node. fvm diff (plain,
# --stat, --json) and fvm-exec --review mark them (fvm(1) PRIVILEGED CHANGES); fvm
# commit applies them only with --allow-privileged or after "yes" on a terminal, else
# skips and names them (exit 1) and commits the rest. As root and as a user (who can set
# setuid on its own file and setgid on its own directory).
. "$(dirname "$0")/../lib/harness.sh"
GOLDEN=$(cd "$(dirname "$0")" && pwd)/golden
ROOT=$([ "$(id -u)" = 0 ] && echo 1 || echo 0)
sfx=$([ "$ROOT" = 1 ] && echo root || echo user)

golden() { # NAME FILE < OUTPUT
	sed -e "s|$HOST|HOST|g" > "$T/got"
	[ "${FVM_GOLDEN_UPDATE:-0}" = 1 ] && cp "$T/got" "$GOLDEN/$2"
	if diff -u "$GOLDEN/$2" "$T/got" > "$T/d"; then ok "$1"; else not_ok "$1" "$(cat "$T/d")"; fi
}
same() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want: $2" "got:  $3"; fi
}

make_host() {
	rm -rf "$HOST"; mkdir -p "$HOST"
	echo t > "$HOST/tool"; chmod 755 "$HOST/tool"
	if [ "$ROOT" = 1 ]; then
		echo o > "$HOST/owned"; mkdir "$HOST/udir"
		chown 65534:65534 "$HOST/owned" "$HOST/udir"
	fi
}
# A root VM also chowns to root, plants a root-owned file in another user's directory,
# gives a file capabilities (cap_net_raw+ep) and makes a device node.
make_changes() { # VM
	(cd "$HOST" && "$FVM_EXEC" -n "$1" -- sh -c '
		echo new > ordinary; echo s > suid; chmod 4755 suid; chmod u+s tool
		mkdir sgdir; chmod g+s sgdir; echo in > sgdir/in
		[ "$(id -u)" = 0 ] || exit 0
		chown 0:0 owned; echo x > udir/planted
		echo c > capfile; setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= capfile
		mknod dev c 1 3') > "$T/vm.out" 2>&1 || not_ok "changes_made_in_$1" "$(cat "$T/vm.out")"
}

make_host
snapshot_host
make_changes p
host_unchanged > "$T/why" && ok privileged_changes_leave_host_unchanged || not_ok privileged_changes_leave_host_unchanged "$(cat "$T/why")"

golden diff_marks_privileged_changes "diff-privileged.$sfx" < <("$FVM" diff p | grep -F "$HOST/")
"$FVM" diff p --stat > "$T/stat"
grep -qF "A! $HOST/suid	file	- -> 2	[setuid]" "$T/stat" && grep -qF "M! $HOST/tool	mode 0755->4755	2 -> 2	[setuid]" "$T/stat" &&
	ok diff_stat_marks_privileged_changes || not_ok diff_stat_marks_privileged_changes "$(cat "$T/stat")"
golden diff_json_has_privileged_field "diff-privileged-json.$sfx" < <("$FVM" diff p --json | python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    if "/host/" in d["path"]:
        print(d["kind"], d["path"], ",".join(d["privileged"]) or "-")')
(cd "$HOST" && setsid -w "$FVM_EXEC" --review -n p -- true < /dev/null > /dev/null 2> "$T/review")
grep -qF "  A! $HOST/suid [setuid]" "$T/review" && ok review_marks_privileged_changes || not_ok review_marks_privileged_changes "$(cat "$T/review")"
"$FVM" commit p --dry-run > "$T/dry" 2>&1
grep -qF "A! $HOST/suid [setuid]" "$T/dry" && ok dry_run_marks_privileged_changes || not_ok dry_run_marks_privileged_changes "$(cat "$T/dry")"

# Without --allow-privileged and without a terminal: skipped, named, exit 1; the rest goes.
"$FVM" commit p < /dev/null > "$T/out" 2> "$T/err"; rc=$?
same commit_skips_privileged_exit_1 1 "$rc"
same commit_applies_the_others "new" "$(cat "$HOST/ordinary" 2>&1)"
[ ! -e "$HOST/suid" ] && [ ! -e "$HOST/sgdir" ] && [ "$(stat -c %a "$HOST/tool")" = 755 ] &&
	ok commit_leaves_privileged_out || not_ok commit_leaves_privileged_out "$(ls -la "$HOST")"
[ ! -e "$HOST/sgdir/in" ] && ok commit_skips_beneath_privileged_dir || not_ok commit_skips_beneath_privileged_dir
grep -qF "privileged change skipped: A! $HOST/suid [setuid]" "$T/err" && grep -qF "privileged change skipped: A! $HOST/sgdir [setgid]" "$T/err" &&
	ok commit_names_skipped_privileged || not_ok commit_names_skipped_privileged "$(cat "$T/err")"
"$FVM" diff p | grep -qF "A! $HOST/suid [setuid]" && ok skipped_privileged_stays_in_vm || not_ok skipped_privileged_stays_in_vm "$("$FVM" diff p)"
if [ "$ROOT" = 1 ]; then
	[ ! -e "$HOST/capfile" ] && [ ! -e "$HOST/dev" ] && [ ! -e "$HOST/udir/planted" ] &&
		[ "$(stat -c %u:%g "$HOST/owned")" = 65534:65534 ] && ok commit_skips_root_owner_caps_device ||
		not_ok commit_skips_root_owner_caps_device "$(ls -laR "$HOST")"
else
	skip commit_skips_root_owner_caps_device "chown to root, capabilities and mknod need root; this run is $(whoami_tag)"
fi

# --allow-privileged applies them all.
"$FVM" commit p --allow-privileged < /dev/null > "$T/out" 2>&1; rc=$?
same allow_privileged_commits_exit_0 0 "$rc"
same allow_privileged_applies_setuid "4755 4755" "$(stat -c %a "$HOST/suid" "$HOST/tool" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
same allow_privileged_applies_setgid_dir "2755 in" "$(stat -c %a "$HOST/sgdir" 2>&1) $(cat "$HOST/sgdir/in" 2>&1)"
if [ "$ROOT" = 1 ]; then
	same allow_privileged_applies_root_owner_caps_device "0:0 0:0 cap c" \
		"$(stat -c %u:%g "$HOST/owned" "$HOST/udir/planted" | tr '\n' ' ')$(getfattr -n security.capability "$HOST/capfile" 2>/dev/null |
			grep -q capability && echo cap) $(stat -c %F "$HOST/dev" | cut -c1)"
else
	skip allow_privileged_applies_root_owner_caps_device "chown to root, capabilities and mknod need root; this run is $(whoami_tag)"
fi

# On a terminal, commit asks, naming the paths; only "yes" applies.
if ! command -v script > /dev/null || ! script -qec true /dev/null > /dev/null 2>&1; then
	for t in terminal_y_declines terminal_question_names_paths terminal_yes_applies review_asks_the_same review_no_declines; do
		skip "$t" "script(1) cannot make a terminal here"
	done
else
	export HOST FVM FVM_EXEC
	make_host; make_changes ty
	printf 'y\n' | script -qec "\"\$FVM\" commit ty" /dev/null > "$T/tty" 2>&1; rc=$?
	[ $rc = 1 ] && [ ! -e "$HOST/suid" ] && [ -e "$HOST/ordinary" ] && ok terminal_y_declines ||
		not_ok terminal_y_declines "rc $rc" "$(cat "$T/tty")"
	grep -qF "A! $HOST/suid [setuid]" "$T/tty" && grep -q 'Type "yes"' "$T/tty" && ok terminal_question_names_paths ||
		not_ok terminal_question_names_paths "$(cat "$T/tty")"
	printf 'yes\n' | script -qec "\"\$FVM\" commit ty" /dev/null > "$T/tty" 2>&1; rc=$?
	[ $rc = 0 ] && [ "$(stat -c %a "$HOST/suid" 2>&1)" = 4755 ] && ok terminal_yes_applies ||
		not_ok terminal_yes_applies "rc $rc" "$(cat "$T/tty")"
	# --review: "y" to commit, then the same question.
	make_host
	printf 'y\nno\n' | script -qec "cd \"\$HOST\" && \"\$FVM_EXEC\" --review -n rv -- sh -c 'echo n > ordinary; echo s > suid; chmod 4755 suid'" /dev/null > "$T/tty" 2>&1
	[ -e "$HOST/ordinary" ] && [ ! -e "$HOST/suid" ] && grep -qF "A! $HOST/suid [setuid]" "$T/tty" && ok review_no_declines ||
		not_ok review_no_declines "$(cat "$T/tty")"
	printf 'y\nyes\n' | script -qec "cd \"\$HOST\" && \"\$FVM_EXEC\" --review -n rv -- true" /dev/null > "$T/tty" 2>&1
	[ "$(stat -c %a "$HOST/suid" 2>&1)" = 4755 ] && ok review_asks_the_same || not_ok review_asks_the_same "$(cat "$T/tty")"
fi
done_testing
