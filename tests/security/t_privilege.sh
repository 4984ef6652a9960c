#!/usr/bin/env bash
# Issue 13, "changes that grant privilege are flagged": a VM sets the setuid or setgid
# bit of a host program. fvm diff must mark the change (the test looks for "setuid" or
# "setgid" on the program's line), and fvm commit, without --allow-privileged and
# without a terminal to confirm on, must not give the host program that bit.
. "$(dirname "$0")/lib.sh"
sec_require

for bit in setuid setgid; do
	f=$HOST/tool_${bit:3:1} # a name that does not itself say setuid
	printf '#!/bin/sh\necho hi\n' > "$f"
	chmod 755 "$f"
	[ $bit = setuid ] && m=u+s || m=g+s
	v=p_$bit
	vm "$v" -- chmod "$m" "$f" > /dev/null 2>&1
	line=$(fvmc diff "$v" | grep -F "$f")
	case ${line/"$f"/} in
	*"$bit"*) ok "diff_marks_a_${bit}_bit_the_vm_set" ;;
	*) not_ok "diff_marks_a_${bit}_bit_the_vm_set" "diff: $line" ;;
	esac
	sec_snapshot
	fvmc commit "$v" "$f" < /dev/null > "$T/commit.out" 2>&1
	verdict "commit_without_allow_privileged_does_not_apply_a_${bit}_bit" "" \
		"$([ -u "$f" ] || [ -g "$f" ] && echo "host $(stat -c '%A' "$f") $f")"
done

done_testing
