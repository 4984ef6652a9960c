#!/usr/bin/env bash
# A copied-up regular file keeps its host identity (st_dev, st_ino) in every view —
# stat, lstat, fstatat, statx, fstat of an fd (the write fd included), readdir's d_ino
# — as natively, where writing a file in place keeps its inode. Hard links made in the
# VM share it; a new file keeps its own; fvm's marker never shows, in the VM or on the
# host after fvm diff and fvm commit.
. "$(dirname "$0")/../lib/harness.sh"
ID=$TOP/build/tests/helpers/identity
[ -x "$ID" ] || { not_ok identity_helper_is_built "$ID missing: make tests-bin"; done_testing; exit; }

mkdir -p "$HOST/dir"
for f in file db linked copied renamed ro tarred; do echo "$f" > "$HOST/dir/$f"; done
chmod 444 "$HOST/dir/ro"
same_id='a=$(stat -c "%d %i" "$1"); shift; "$@"; b=$(stat -c "%d %i" "$N")
[ "$a" = "$b" ] && echo "$N: same identity" || echo "$N: identity changed"'

vm_check write_open_of_host_file_keeps_identity_in_every_view "$ID rewrite dir/file; cat dir/file"
vm_check sqlite_fstat_of_fds_matches_stat_of_name_after_copy_up "$ID dbopen dir/db"
vm_check hard_link_of_host_file_shares_its_identity "$ID link dir/linked dir/linked.2"
vm_check hard_link_of_copied_up_file_shares_its_identity \
	"echo more >> dir/copied; $ID link dir/copied dir/copied.2; cat dir/copied.2"
vm_check new_file_keeps_its_own_identity "echo x >> dir/file; $ID new dir/fresh dir/file"
vm_check renamed_copied_up_file_keeps_identity "N=dir/moved; set -- dir/renamed mv dir/renamed dir/moved
$same_id"
vm_check touch_of_read_only_host_file_keeps_identity "N=dir/ro; set -- dir/ro touch dir/ro
$same_id; ls -l dir/ro | cut -c1-10"
vm_check ls_i_matches_stat_after_copy_up 'echo x >> dir/file
[ "$(ls -i dir/file | cut -d" " -f1)" = "$(stat -c %i dir/file)" ] && echo ls-i-matches'
vm_check find_samefile_and_tar_see_vm_hard_links 'echo x >> dir/tarred; ln dir/tarred dir/tarred.2
find dir -samefile dir/tarred | sort
tar -cf t.tar dir/tarred dir/tarred.2; tar -tvf t.tar | grep -c "link to"; rm t.tar'

# The marker: not listed, not readable, not settable or removable inside the VM.
vm_expect origin_marker_is_invisible_in_the_vm "dir/file: user.fvm.origin: No such attribute
setfattr: dir/file: Operation not supported
setfattr: dir/file: No such attribute
[] []" 'echo x >> dir/file; getfattr -d -m - dir/file; getfattr -n user.fvm.origin dir/file 2>&1
setfattr -n user.fvm.origin -v 1 dir/file 2>&1; setfattr -x user.fvm.origin dir/file 2>&1
python3 -c "import os; fd = os.open(\"dir/file\", os.O_RDONLY); print(os.listxattr(\"dir/file\"), os.listxattr(fd))"'
# A copy-up that changed nothing is no change for fvm diff.
vm_expect copy_up_without_change_is_not_a_diff "" ': >> dir/file; touch -a -d @0 dir/db'
if d=$("$FVM" diff "$LAST_VM" 2>&1) && [ -z "$(grep "dir/file" <<< "$d")" ]; then
	ok fvm_diff_does_not_report_the_origin_marker
else
	not_ok fvm_diff_does_not_report_the_origin_marker "$d"
fi
vm_expect commit_source_copied_up "" 'echo committed >> dir/file'
if "$FVM" commit "$LAST_VM" "$HOST/dir/file" > "$T/commit.out" 2>&1 &&
	grep -q committed "$HOST/dir/file" && [ -z "$(getfattr -d -m - "$HOST/dir/file" 2>&1)" ]; then
	ok commit_never_copies_the_origin_marker_to_the_host
else
	not_ok commit_never_copies_the_origin_marker_to_the_host "$(cat "$T/commit.out")" \
		"$(getfattr -d -m - "$HOST/dir/file" 2>&1)"
fi

# An upper filesystem without xattrs (ramfs): no marker can be stored, copies show
# their own inode (what fvm did before origins), and nothing fails.
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	skip upper_without_xattrs_degrades_to_own_inode "needs root to mount a ramfs store ($(whoami_tag))"
else
	echo data > "$HOST/dir/plain"
	views=$(printf '%s\n' "fstat of the write fd" "fstat after the write" "after stat" "after lstat" \
		"after fstatat" "after statx" "after fstat" "after fstatat-empty-path" "after statx-fd" \
		"after d_ino" | sed 's/$/: differs/')
	out=$(cd "$HOST" && unshare -m sh -c 'mkdir -p "$1/ram" && mount -t ramfs none "$1/ram" &&
		FVM_HOME=$1/ram/store "$2" -n ram -- sh -c "\"$3\" rewrite dir/plain && cat dir/plain"' \
		sh "$T" "$FVM_EXEC" "$ID" 2>&1)
	if [ "$out" = "$views"$'\ndata\nappended' ] && [ "$(cat "$HOST/dir/plain")" = data ]; then
		ok upper_without_xattrs_degrades_to_own_inode
	else
		not_ok upper_without_xattrs_degrades_to_own_inode "$out"
	fi
fi

done_testing
