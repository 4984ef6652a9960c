#!/usr/bin/env bash
# fvm diff / commit / reset / rm / info / list on a VM that made one change of every
# kind: goldens for the output (tests/e2e/golden/, $HOST and times normalised), and
# commit round trips: afterwards the host tree equals the VM's view, the VM's view is
# unchanged and fvm diff is empty. Runs as root and as the unprivileged user.
. "$(dirname "$0")/../lib/harness.sh"
GOLDEN=$(cd "$(dirname "$0")" && pwd)/golden
ROOT=$([ "$(id -u)" = 0 ] && echo 1 || echo 0)

norm() { sed -E -e "s|$HOST|HOST|g" -e "s|$FVM_HOME|STORE|g" \
	-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/TIME/g' \
	-e "s/\"uid_(before|after)\":$(id -u)([,}])/\"uid_\\1\":ME\\2/g" \
	-e "s/\"gid_(before|after)\":$(id -g)([,}])/\"gid_\\1\":ME\\2/g"; }
golden() { # NAME FILE < OUTPUT: compares the normalised output with golden FILE
	norm > "$T/got"
	# Compared, never rewritten here: tests/golden-update updates the goldens.
	golden_check "$1" "$GOLDEN/$2" "$T/got"
}
same() { # NAME A B
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "$(diff <(echo "$2") <(echo "$3"))"; fi
}

# The host: one object for every kind of change.
make_host() {
	rm -rf "$HOST"; mkdir -p "$HOST"; cd "$HOST" || exit 1
	echo content > file_c; echo mode > file_m; echo times > file_t; echo xattr > file_x
	echo owner > file_o; echo gone > gone; ln -s file_c link
	mkdir -p tree/sub d2f rdir/sub opq; echo t > tree/sub/t; echo t2 > tree/t2; echo d > d2f/d
	echo f > f2d; echo r > rdir/sub/r; echo o1 > opq/o1; echo o2 > opq/o2
	touch -d 2020-02-02T00:00:00 file_t
	cd - > /dev/null || exit 1
}
# The VM's changes. Symlinks are put into upper/ directly: libfvm has no symlink()
# wrapper yet, and the upper layer is a plain OCI layer that fvm must handle anyway.
make_changes() { # VM
	(cd "$HOST" && "$FVM_EXEC" -n "$1" -- sh -c '
		echo more >> file_c; chmod 600 file_m; touch -d 2001-01-01T00:00:00 file_t
		setfattr -n user.k -v val file_x; rm gone; rm -rf tree
		rm -rf d2f; echo now-a-file > d2f; rm f2d; mkdir f2d; echo in > f2d/in
		mv rdir rdir2; rm -rf opq; mkdir opq; echo fresh > opq/fresh
		mkdir newdir; echo n > newdir/n; echo added > added')
	ln -sfn file_m "$FVM_HOME/vms/$1/upper$HOST/link"
	if [ "$ROOT" = 1 ]; then (cd "$HOST" && "$FVM_EXEC" -n "$1" -- chown 1:1 file_o); fi
}

make_host
snapshot_host
make_changes k
host_unchanged > "$T/why" && ok making_changes_leaves_host_unchanged || not_ok making_changes_leaves_host_unchanged "$(cat "$T/why")"
sfx=$([ "$ROOT" = 1 ] && echo root || echo user)
golden diff_golden_every_kind "diff.$sfx" < <("$FVM" diff k | grep -F "$HOST/")
golden diff_stat_golden_every_kind "diff-stat.$sfx" < <("$FVM" diff k --stat | grep -vF "$HOST " | grep -v "^A HOST$")
golden diff_json_golden_every_kind "diff-json.$sfx" < <("$FVM" diff k --json | grep -F "\"$HOST/")
golden diff_patch_golden diff-patch < <("$FVM" diff -p k "$HOST/file_c" "$HOST/added" "$HOST/gone")
printf '\0\1\2' > "$T/bin"; (cd "$HOST" && "$FVM_EXEC" -n kb -- cp "$T/bin" binfile)
golden diff_patch_binary_says_differ diff-patch-binary < <("$FVM" diff -p kb "$HOST/binfile")
golden diff_restricted_to_paths diff-paths < <("$FVM" diff k "$HOST/tree" "$HOST/newdir")
"$FVM" diff k --stat --json > /dev/null 2>&1; [ $? = 2 ] && ok diff_two_formats_is_usage_error || not_ok diff_two_formats_is_usage_error
golden info_golden "info.$sfx" < <("$FVM" info k)
golden info_json_is_json "info-json.$sfx" < <("$FVM" info k --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["changes"], d["processes"])')
golden list_json_golden "list-json.$sfx" < <("$FVM" list --json | python3 -c 'import json,sys; [print(v["name"], v["state"], v["changes"], v["bytes"] > 0, v["last_used"]) for v in json.load(sys.stdin)]')

# Dry run: the plan, nothing changed.
golden commit_dry_run_prints_plan "dry-run.$sfx" < <("$FVM" commit k --dry-run)
host_unchanged > "$T/why" && ok dry_run_changes_nothing || not_ok dry_run_changes_nothing "$(cat "$T/why")"

# Commit everything: the host becomes the VM's view; the view stays; no change is left.
view=$(vm_manifest k)
"$FVM" commit k > "$T/out" 2>&1; rc=$?
[ $rc = 0 ] && ok commit_all_exits_0 || not_ok commit_all_exits_0 "rc $rc" "$(cat "$T/out")"
same commit_all_host_equals_vm_view "$view" "$(manifest "$HOST")"
same commit_all_keeps_vm_view "$view" "$(vm_manifest k)"
same commit_all_leaves_no_change "" "$("$FVM" diff k)"
same commit_keeps_times "2001-01-01" "$(date -u -r "$HOST/file_t" +%F)"
same commit_keeps_xattrs "val" "$(getfattr --only-values -n user.k "$HOST/file_x" 2>/dev/null)"
same commit_keeps_symlink_target "file_m" "$(readlink "$HOST/link")"
same commit_leaves_no_temporaries "" "$(find "$HOST" -name '.fvm-commit.*')"
same commit_empties_upper "" "$(find "$FVM_HOME/vms/k/upper" -mindepth 1 -not -type d)"
if [ "$ROOT" = 1 ]; then
	same commit_keeps_owner "1:1" "$(stat -c %u:%g "$HOST/file_o")"
else
	skip commit_keeps_owner "chown needs root; as $(whoami_tag) the owner stays the user's"
fi

# Selected commit: one subtree goes to the host, everything else stays in the VM.
make_host; snapshot_host; make_changes s
before=$("$FVM" diff s)
"$FVM" commit s "$HOST/newdir/n" "$HOST/opq" > "$T/out" 2>&1
same selected_commit_takes_new_parent "n" "$(cat "$HOST/newdir/n" 2>&1)"
same selected_commit_replays_opaque_dir "fresh" "$(ls "$HOST/opq" | tr '\n' ' ' | sed 's/ $//')"
same selected_commit_leaves_others_in_vm "$(echo "$before" | grep -v -e "$HOST/newdir" -e "$HOST/opq")" "$("$FVM" diff s)"
same selected_commit_leaves_other_host_files "content" "$(cat "$HOST/file_c")"
same selected_commit_keeps_vm_view "$(cd "$HOST" && "$FVM_EXEC" -n s -- cat opq/fresh newdir/n file_c)" "fresh
n
content
more"

# Commit renames upper/'s own file into place when it can, but never one the VM also
# hard-linked under another name: the VM's other name must stay the VM's alone.
make_host
(cd "$HOST" && "$FVM_EXEC" -n h -- sh -c 'echo v >> file_c; ln file_c file_c2; echo solo > file_s; echo v >> file_x')
"$FVM" commit h "$HOST/file_c" "$HOST/file_s" "$HOST/file_x" > "$T/out" 2>&1
same commit_of_hard_linked_file_takes_its_content "content
v" "$(cat "$HOST/file_c")"
(cd "$HOST" && "$FVM_EXEC" -n h -- sh -c 'echo w >> file_c2')
same vm_write_through_other_link_stays_in_vm "content
v" "$(cat "$HOST/file_c")"
same commit_of_moved_copy_up_has_no_fvm_xattr "xattr
v|" "$(cat "$HOST/file_x")|$(getfattr -d -m - "$HOST/file_x" 2>/dev/null | grep fvm)"
same commit_of_moved_file_keeps_vm_view "solo|content
v
w" "$(cd "$HOST" && "$FVM_EXEC" -n h -- sh -c 'echo "$(cat file_s)|$(cat file_c2)"')"

# Conflict: the host file changed after the VM copied it up.
make_host; make_changes c
echo host-edit >> "$HOST/file_c"
"$FVM" commit c "$HOST/file_c" "$HOST/added" > "$T/out" 2> "$T/err"; rc=$?
[ $rc = 1 ] && ok conflict_exits_1 || not_ok conflict_exits_1 "rc $rc"
grep -q "conflict: M $HOST/file_c: changed on the host" "$T/err" && ok conflict_is_reported || not_ok conflict_is_reported "$(cat "$T/err")"
same conflict_host_keeps_newer "content
host-edit" "$(cat "$HOST/file_c")"
same conflict_other_changes_committed "added" "$(cat "$HOST/added" 2>&1)"
"$FVM" commit c --force "$HOST/file_c" > "$T/out" 2>&1; rc=$?
same force_overwrites_conflict "0 content
more" "$rc $(cat "$HOST/file_c")"

# Refused while running, naming the processes.
"$FVM_EXEC" -n c -- sleep 3 & bg=$!
sleep 0.5
"$FVM" commit c > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "running.*(sleep)" "$T/out" && ok commit_refused_while_running_names_processes ||
	not_ok commit_refused_while_running_names_processes "rc $rc" "$(cat "$T/out")"
"$FVM" reset c > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && ok reset_refused_while_running || not_ok reset_refused_while_running "rc $rc" "$(cat "$T/out")"
"$FVM" rm c > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && [ -d "$FVM_HOME/vms/c" ] && ok rm_refused_while_running || not_ok rm_refused_while_running "rc $rc" "$(cat "$T/out")"
"$FVM" rm --force c > "$T/out" 2>&1; rc=$?
wait $bg 2>/dev/null
[ $rc = 0 ] && [ ! -e "$FVM_HOME/vms/c" ] && ok rm_force_ends_processes_and_removes || not_ok rm_force_ends_processes_and_removes "rc $rc" "$(cat "$T/out")"

# Reset: selected paths, then everything; the host is never touched.
make_host; snapshot_host; make_changes r
"$FVM" reset r "$HOST/opq" "$HOST/file_c"
same reset_path_restores_host_view "o1 o2|content" "$(cd "$HOST" && "$FVM_EXEC" -n r -- sh -c 'echo $(ls opq)"|$(cat file_c)"')"
"$FVM" diff r | grep -e "$HOST/opq" -e "$HOST/file_c" > "$T/got"
same reset_path_drops_its_changes "" "$(cat "$T/got")"
"$FVM" diff r | grep -q "$HOST/newdir" && ok reset_path_keeps_other_changes || not_ok reset_path_keeps_other_changes
"$FVM" reset r
same reset_all_leaves_no_change "" "$("$FVM" diff r)"
same reset_all_shows_host_again "$(manifest "$HOST")" "$(vm_manifest r)"
host_unchanged > "$T/why" && ok reset_leaves_host_unchanged || not_ok reset_leaves_host_unchanged "$(cat "$T/why")"
"$FVM" rm r; rc=$?
[ $rc = 0 ] && [ ! -e "$FVM_HOME/vms/r" ] && ok rm_removes_idle_vm || not_ok rm_removes_idle_vm "rc $rc"
"$FVM" rm r > /dev/null 2>&1; [ $? = 1 ] && ok rm_of_missing_vm_is_1 || not_ok rm_of_missing_vm_is_1
"$FVM" commit > /dev/null 2>&1; [ $? = 2 ] && ok commit_without_name_is_usage_error || not_ok commit_without_name_is_usage_error
done_testing
