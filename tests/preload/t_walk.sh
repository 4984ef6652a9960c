#!/usr/bin/env bash
# The directory walkers (scandir, scandirat, glob, ftw, nftw, fts) see the VM's merged
# tree inside a VM, exactly as they see a real tree natively: each check runs the same
# changes and the same walk inside a VM and natively on identical trees and compares
# the reports of tests/helpers/walk.c; the host tree never changes.
. "$(dirname "$0")/../lib/harness.sh"

W=$TOP/build/tests/helpers/walk
if [ ! -x "$W" ]; then
	skip walkers_helper "build/tests/helpers/walk is not built (make tests-bin)"
	done_testing
	exit
fi

# The helper itself works natively (a crash in it would crash both runs alike, and
# vm_check would see equal outputs): every walker, over a scratch tree outside $HOST.
mkdir -p "$T/scratch/s"
echo f > "$T/scratch/s/f"
for args in "scandir ." "scandir64 ." "scandirat s" "glob *" "oldglob *" "glob64 *" \
	"ftw s" "ftw64 s" "nftw s phys" "nftw64 s phys" "oldnftw s" "fts s -- physical" \
	"fts s -- physical,sort,fts64 children=s"; do
	# shellcheck disable=SC2086 # ARGS are words
	out=$(cd "$T/scratch" && $W $args 2>&1); rc=$?
	case $rc:$out in
	0:*s/f*|0:*"  f"*|0:*"  s"*) ok "helper_${args%% *}_runs_natively" ;;
	*) not_ok "helper_${args%% *}_runs_natively" "walk $args: exit $rc" "$out" ;;
	esac
done

# The host tree: files, a subtree, links (to a file, a directory, dangling, a cycle),
# directories that the VM empties (opaque) and changes.
mkdir -p "$HOST/d/sub/deeper" "$HOST/d/opq/old" "$HOST/d/one/only" "$HOST/perm/noread" "$HOST/perm/nosearch"
echo a > "$HOST/d/a"
echo bb > "$HOST/d/b"
echo x > "$HOST/d/xfile"
echo c > "$HOST/d/sub/c"
echo e > "$HOST/d/sub/deeper/e"
echo o > "$HOST/d/opq/old/o"
echo o2 > "$HOST/d/opq/o2"
echo n > "$HOST/perm/noread/n"
echo s > "$HOST/perm/nosearch/s"
echo i > "$HOST/d/one/only/i"
echo h > "$HOST/d/.hidden"
ln -s a "$HOST/d/link"
# Logical walks report a directory once, under the name met first in readdir order:
# so the only link to a directory leads out of the tree (or up to its start).
mkdir "$HOST/other"
echo t > "$HOST/other/t"
ln -s ../other "$HOST/d/dirlink"
# A directory the VM leaves alone is listed in the host's own order, so even a walk
# whose result depends on that order compares: glibc's FTW_CHDIR with one descriptor
# climbs back from a followed link with chdir(".."), into the link target's parent.
mkdir -p "$HOST/q/s"
echo 1 > "$HOST/q/f1"
echo 2 > "$HOST/q/f2"
echo 3 > "$HOST/q/s/f3"
ln -s ../other "$HOST/q/L"
ln -s nowhere "$HOST/d/dangle"
ln -s .. "$HOST/d/sub/up"
# A symlink loop of its own: a logical walk meeting it stops with ELOOP, so where it
# sits in readdir order would decide what such a walk had reported before.
mkdir "$HOST/loop"
ln -s self "$HOST/loop/self"

# The same changes, made inside the VM (upper, whiteouts, an opaque directory) or
# natively: a new file and directory, a deleted file, a deleted then re-made directory.
CHANGES='echo new > d/vmfile; rm d/b; mkdir d/sub/vmdir; echo 1 > d/sub/vmdir/v1;
rm -rf d/opq; mkdir d/opq; echo f > d/opq/fresh; ln -s vmfile d/vmlink;
rm d/sub/deeper/e; echo more >> d/a'
# Permissions (they matter to the unprivileged run): a directory that cannot be read
# and one that cannot be searched, apart from d so that a walk stopping at one does
# not make d's report depend on readdir order. Made by the script and undone at its
# end, so that the native run leaves a tree the harness can restore.
LOCK='chmod 300 perm/noread; chmod 600 perm/nosearch'
UNLOCK='chmod 755 perm/noread perm/nosearch'

walk_check() { # NAME WALK-ARGS...
	local name=$1
	shift
	vm_check "$name" "$CHANGES; $LOCK; $W $*; $UNLOCK"
}

# scandir, scandirat
walk_check scandir_lists_vm_files_and_hides_deleted_ones scandir d filter sort
walk_check scandir_without_compar_in_readdir_order scandir d nofilter nosort
walk_check scandir_of_opaque_dir_shows_only_vm_entries scandir d/opq nofilter sort
walk_check scandir_of_deleted_entry_is_enoent scandir d/b
walk_check scandir_of_file_is_enotdir scandir d/a
walk_check scandir_of_unreadable_dir_fails scandir perm/noread
walk_check scandir_of_unsearchable_dir scandir perm/nosearch nofilter sort
walk_check scandirat_from_dirfd scandirat d/sub

# glob
walk_check glob_star_matches_merged_entries glob "'d/*'"
walk_check glob_two_levels_with_mark glob "'d/*/*'" mark
walk_check glob_onlydir glob "'d/*'" onlydir
walk_check glob_brackets_and_braces glob "'d/{[ab]*,vm*}'" brace
walk_check glob_period_and_hidden glob "'d/.*'" period
walk_check glob_nocheck_without_match glob "'d/zz*'" nocheck
walk_check glob_plain_name_of_deleted_file glob d/b
walk_check glob_plain_name_of_dangling_link glob d/dangle
walk_check glob_errfunc_on_unreadable_dir glob "'perm/noread/*'" err
walk_check glob_in_unsearchable_dir glob "'perm/*/*'" err
walk_check glob_in_opaque_dir glob "'d/opq/*'"

# ftw, nftw
walk_check ftw_whole_tree ftw d
walk_check ftw_with_one_descriptor ftw d 1
walk_check nftw_physical nftw d phys
walk_check nftw_logical_follows_links_once nftw d ""
walk_check nftw_depth_first nftw d phys,depth
walk_check nftw_chdir nftw d phys,chdir
walk_check nftw_chdir_depth_one_descriptor nftw d phys,chdir,depth 1
walk_check nftw_chdir_one_descriptor_back_from_link nftw q chdir 1
walk_check nftw_chdir_back_from_link nftw q chdir,depth
walk_check nftw_mount nftw d phys,mount
walk_check nftw_trailing_slashes_stripped nftw "d///" phys
walk_check nftw_skip_subtree nftw d phys,actionretval 20 skipsub=sub skipsub=opq
walk_check nftw_skip_siblings_at_only_child nftw d phys,actionretval 20 skipsib=only
walk_check nftw_stop_at_root nftw d phys,actionretval 20 stop=d
walk_check nftw_stop_without_actionretval_is_plain_return nftw d/one phys 20 stop=only
walk_check nftw_unknown_flag_is_einval nftw d bogus
walk_check nftw_start_at_file nftw d/a ""
walk_check nftw_start_at_dangling_link nftw d/dangle ""
walk_check nftw_start_at_deleted_file nftw d/b ""
walk_check nftw_start_at_symlink_loop nftw loop/self ""
walk_check nftw_logical_meets_symlink_loop nftw loop ""
walk_check fts_logical_meets_symlink_loop fts loop -- logical
walk_check nftw_of_subdir_with_vm_dir nftw d/sub/ depth,chdir

walk_check nftw_unreadable_and_unsearchable_dirs nftw perm phys
walk_check nftw_logical_unreadable_and_unsearchable_dirs nftw perm ""
walk_check nftw_chdir_into_unsearchable_dir_fails nftw perm/nosearch phys,chdir

# fts
walk_check fts_unreadable_and_unsearchable_dirs fts perm -- physical,sort
walk_check fts_nochdir_unreadable_and_unsearchable_dirs fts perm -- physical,nochdir,sort
walk_check fts_logical_unreadable_and_unsearchable_dirs fts perm -- logical,sort
walk_check fts_children_of_unsearchable_dir fts perm -- physical,sort children=nosearch
walk_check fts_physical fts d -- physical
walk_check fts_physical_nochdir fts d -- physical,nochdir
walk_check fts_logical fts d -- logical
walk_check fts_nostat fts d -- physical,nostat
walk_check fts_seedot_sorted fts d/sub -- physical,seedot,sort
walk_check fts_sorted_order fts d -- physical,sort
walk_check fts_roots_in_argv_order fts d/sub d/a d/opq d/dangle -- physical
walk_check fts_roots_sorted_by_compar fts d/sub d/a d/opq d/dangle -- physical,sort
walk_check fts_comfollow_root_link fts d/dirlink -- physical,comfollow
walk_check fts_root_trailing_slash fts d/sub/ -- physical,sort
walk_check fts_missing_root_is_ns fts d/b d/a -- physical
walk_check fts_skip fts d -- physical,sort skip=sub skip=opq
walk_check fts_again fts d/sub -- physical,sort again=deeper again=c
walk_check fts_follow fts d -- physical,sort follow=link follow=dirlink follow=dangle
walk_check fts_children fts d -- physical,sort children=sub children=opq children=a
walk_check fts_children_nameonly fts d -- physical,sort names=sub names=opq
walk_check fts_children_unsorted fts d -- physical children=sub
walk_check fts_children_before_read fts d/sub d/a -- physical,rootlist
walk_check fts_xdev fts d -- physical,xdev,sort
walk_check fts_empty_root_is_enoent fts d "''" -- physical
walk_check fts_bad_option_is_einval fts d -- bogus

# The 64 names (one layout on 64-bit ABIs) are wrapped too.
walk_check scandir64_lists_merged_directory scandir64 d filter sort
walk_check glob64_star glob64 "'d/*'" mark
walk_check ftw64_whole_tree ftw64 d
walk_check nftw64_depth_first nftw64 d phys,depth
walk_check fts64_children fts d -- physical,sort,fts64 children=sub skip=opq

# Inside a VM only: VM-only files show and deleted host files do not, also through
# the old symbol versions (glob@GLIBC_2.2.5, nftw@GLIBC_2.2.5) a program may be bound to.
vm_expect old_glob_version_reaches_the_vm_listing "glob 0 pathc 2 altdirfunc-visible no
  d/opq/fresh
  d/vmfile" "$CHANGES; $W oldglob '{d/opq/*,d/vmfile,d/b}' brace"
vm_expect old_nftw_version_reaches_the_vm_listing "d/opq D level=0 base=opq d
d/opq/fresh F level=1 base=fresh f
events 2, order ok
nftw 0 
cwd after restored" "$CHANGES; $W oldnftw d/opq"
vm_expect fts_sees_vm_only_entries "d/opq D level=0 name=opq parent=- errno=0 len=ok d
d/opq/fresh F level=1 name=fresh parent=opq errno=0 len=ok f
d/opq DP level=0 name=opq parent=- errno=0 len=ok number-kept=yes
fts_read end 0
events 3
fts_close 0" "$CHANGES; $W fts d/opq -- physical,sort"
vm_expect scandir_hides_whiteouts_and_store "scandir 4 errno-kept yes
  .
  ..
  fresh
  old" "$CHANGES; mkdir d/opq/old; $W scandir d/opq nofilter sort"

done_testing
