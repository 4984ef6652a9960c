#!/usr/bin/env bash
# Lookups libfvm does not see (issue 14; docs/DESIGN.md "Calls libfvm does not see"): a
# static program's stat, lstat, statx, access and readlink are answered by the
# supervisor in the VM's namespace, so busybox-static sees the files the VM made and not
# those it deleted, as a dynamic program does — compared with the same script natively.
# Before virtguard.c, busybox saw the host: "old" existed and "new" did not.
# Its opens are virtualized too: it reads and writes the VM's files (a host file is
# copied up first), it lists the VM's directories (getdents64), and its mkdir, unlink,
# rmdir, symlink, rename, link and truncate change the VM, and its getcwd names the VM's
# directory, and its mknod makes fifos (and, in a root run, device nodes that never
# open) in the VM, and its chdir enters a directory only the VM has. A root
# run's calls are virtualized too (the supervisor reaches its objects beneath the
# caller's root, and changes them in a child in the caller's namespace), its chmod,
# utimes and xattrs by name included (seccomp.c virt_prologue, metaguard.c); a
# process that dropped root acts with its own ids, its copy-ups made as root's.
. "$(dirname "$0")/../lib/harness.sh"

BB=$(command -v busybox || true)
if [ -z "$BB" ] || ! file -L "$BB" 2>/dev/null | grep -q 'statically linked'; then
	skip static_lookups "busybox-static is not installed (make deps)"
	done_testing
	exit
fi
echo host > "$HOST/old"
mkdir "$HOST/dir" "$HOST/two"
echo inside > "$HOST/dir/f"
echo a > "$HOST/two/a"
mkdir "$HOST/pub" && chmod 1777 "$HOST/pub" && echo root > "$HOST/pub/roots"
[ "$(id -u)" = 0 ] && chmod o+x "$T" "$HOST" # nobody reaches pub/ (below)
echo b > "$HOST/two/b"
snapshot_host
# bb: busybox without fvm's once-per-exec warning (t_exec_fence.sh checks it)
BB_FN='bb() { busybox "$@" 2>&1 | grep -v "is statically linked"; }'
ROOT_TODO=
# a root run virtualizes them too (virtguard.c, beneath the caller's root)

TODO=$ROOT_TODO
vm_check "static_lookups_see_the_vm ($(whoami_tag))" "$BB_FN"'
echo new > new; rm old; ln -s new lnk; mkdir made; rm -r dir
bb stat -c "%n %s %F" new lnk made
bb stat -L -c "%n %s %F" lnk
bb readlink lnk
bb ls -d new made
bb ls old
busybox test -e old 2>/dev/null && echo old-exists || echo old-absent
busybox test -e dir/f 2>/dev/null && echo dir-f-exists || echo dir-f-absent
busybox test -r new 2>/dev/null && echo new-readable
busybox test -d made 2>/dev/null && echo made-is-dir'
TODO=$ROOT_TODO
vm_check "static_relative_lookups_see_the_vm ($(whoami_tag))" "$BB_FN"'
mkdir -p a/b; echo xy > a/b/c; cd a
bb stat -c "%n %s" b/c ../a/b/c ../dir/f
cd b && busybox test -f c 2>/dev/null && echo c-here'
TODO=$ROOT_TODO
vm_check "static_opens_read_and_write_the_vm ($(whoami_tag))" "$BB_FN"'
echo new > new
bb cat new old
bb sh -c "echo more >> old; echo made > bbmade; echo changed > dir/f"
bb cat old bbmade dir/f
cat old bbmade dir/f
bb cp new copy && bb cat copy
bb sh -c "umask 077; echo p > private"; bb stat -c "%a %s" private copy
bb sh -c "echo x > missing/f" 2>&1 | sed "s/^.*: //"
bb head -c 0 nothere 2>&1 | sed "s/^.*: //"'
# A directory the VM changed is opened as the host's for its listing (virtguard.c
# merged_dir): every host entry is listed, not only the changed one.
TODO=$ROOT_TODO
vm_check "static_listing_of_a_changed_dir_keeps_the_host_entries ($(whoami_tag))" "$BB_FN"'
echo changed > two/a
bb ls two
bb cat two/a two/b'
# Its getdents64 is answered from the merged listing (virtguard.c virt_getdents).
TODO=$ROOT_TODO
vm_check "static_listing_shows_the_vms_new_entries ($(whoami_tag))" "$BB_FN"'
echo n > two/new; rm two/b; mkdir -p made/sub; echo x > made/sub/f; rm -r dir
bb ls two; bb ls -a made; bb find . | sort
bb sh -c "cd two && ls"'
# More entries than one getdents64 buffer: the position carries over between calls.
TODO=$ROOT_TODO
vm_check "static_long_listing_of_a_changed_dir ($(whoami_tag))" "$BB_FN"'
mkdir -p two; i=0; while [ $i -lt 1500 ]; do : > two/entry-with-a-rather-long-name-number-$i; i=$((i+1)); done
rm two/entry-with-a-rather-long-name-number-7
bb ls two | wc -l; bb ls -a two | sort | md5sum; ls -a two | sort | md5sum'
# Its mkdir, unlink, rmdir, symlink and rename are made in the VM (virtguard.c
# change_in_vm): whiteouts for the host's names, copy-up for a renamed host file.
TODO=$ROOT_TODO
vm_check "static_rm_mv_mkdir_change_the_vm ($(whoami_tag))" "$BB_FN"'
bb rm old; bb mv dir/f dir/g; bb mkdir made2; bb ls -d made2 dir/g; bb cat dir/g
bb ls; bb ls dir; bb mkdir -p a/b/c; bb ln -s ../dir/g a/lnk; bb cat a/lnk; bb readlink a/lnk
bb rmdir a/b/c; bb mv two moved; bb ls moved; bb rm -r moved; bb ls
bb sh -c "umask 027; mkdir m3"; bb stat -c "%a %F" m3
bb rm nothere; bb rmdir dir; bb mkdir dir; bb mv dir/g dir/g/x; ls; ls -R a'
# The caches of the VM's dynamic processes see what the supervisor changed: the shell
# looked at dir and two (its cache knows them as the host's) before the static program
# made, renamed and removed names there (before, bash's ./made then said "No such file").
TODO=$ROOT_TODO
vm_check "dynamic_caches_see_static_changes ($(whoami_tag))" "$BB_FN"'
ls dir two > /dev/null; test -e dir/new; echo $?; cat dir/f
bb cp /bin/true dir/new; bb mv two/a two/c; bb rm two/b; bb mkdir dir/sub
dir/new; echo $?; ls dir two; test -d dir/sub && echo sub; cat two/c; test -e two/b; echo $?'
# getcwd: the working directory as the VM names it, not upper/'s path (it was before).
TODO=$ROOT_TODO
vm_check "static_getcwd_names_the_vms_directory ($(whoami_tag))" "$BB_FN"'
mkdir -p made/sub; cd made/sub; bb pwd -P; bb readlink -f .
cd ../../two; echo x > y; bb pwd -P'
# chdir into a directory only the VM has: the supervisor makes the caller's thread
# fchdir to it (virtguard.c chdir_by_trace; before: ENOENT).
TODO=$ROOT_TODO
vm_check "static_chdir_into_a_vms_directory ($(whoami_tag))" "$BB_FN"'
mkdir -p made/sub; bb sh -c "cd made/sub && pwd -P && pwd && echo x > y && cd .. && pwd && bb cat sub/y"'
# A chdir the supervisor cannot make (a thread traced already) is named on stderr: t_virt_chdir.sh.
# Metadata of a host file from a static program (chmod, utimes; metaguard.c performs
# them): the VM's copy changes, the host's does not (before: EACCES, only fenced).
TODO=

vm_check "static_chmod_and_touch_change_the_vms_copy ($(whoami_tag))" "$BB_FN"'
bb chmod 600 old; bb stat -c %a old; bb touch -d "2001-02-03 04:05:06" old; bb stat -c %y old | cut -c1-19
bb chmod 700 dir; bb stat -c %a dir; bb touch dir/f; bb touch brandnew; bb ls brandnew; bb chmod 644 nothere'
# chmod alone: in a root run too (seccomp.c's virt_prologue notifies it there, metaguard.c
# changes the VM's copy; before: EROFS, and ldconfig could not replace /etc/ld.so.cache).
vm_check "static_chmod_changes_the_vms_copy ($(whoami_tag))" "$BB_FN"'
echo new > new; bb chmod 600 old new; bb stat -c "%a %n" old new; bb chmod 700 dir; bb stat -c %a dir
bb chmod 4755 dir/f; bb stat -c %a dir/f; bb chmod 644 nothere'
# link(at): a host file is linked as the VM's copy of it (copied up first).
TODO=$ROOT_TODO
vm_check "static_ln_links_in_the_vm ($(whoami_tag))" "$BB_FN"'
echo new > new; bb ln new hard; bb ln old hard2; bb stat -c "%h %n" new hard old hard2
echo more >> hard2; bb cat old; bb ln old hard2; bb ln nothere x; bb ln made x 2>&1 | sed "s/^.*: //"'
TODO=

# mknod(at) of fifos and regular files lands in the VM, with the caller's umask.
vm_check "static_mknod_makes_fifos_in_the_vm ($(whoami_tag))" "$BB_FN"'
umask 027; bb mkfifo ff; bb mknod pp p; bb stat -c "%F %a %n" ff pp; bb mknod ff p; bb mkfifo dir/f; bb mkfifo nodir/f'

# A root run's process that dropped root: its creations are its own (owned as natively),
# it removes and renames what it may, and is refused what it may not.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	out=$(cd "$HOST/pub" && "$FVM_EXEC" -n nb -- setpriv --reuid nobody --regid nogroup --clear-groups \
		"$BB" sh -c 'touch mine; stat -c "%u %n" mine; mkdir d; mv d d2; rm -r d2 && echo removed
		{ echo x >> roots; } 2>&1 | sed "s/.*: //"; rm -f roots 2>&1 | sed "s/.*: //"; cat roots
		mkdir ../nope 2>&1 | sed "s/.*: //"' 2>&1 | grep -v 'statically linked')
	want="$(id -u nobody) mine
removed
Permission denied
Operation not permitted
root
Permission denied"
	[ "$out" = "$want" ] && ok "static_uid_dropped_process_acts_with_its_own_ids (root)" ||
		not_ok "static_uid_dropped_process_acts_with_its_own_ids (root)" "got: $out"
fi

# /proc/self is the caller, never the supervisor; the store stays hidden.
out=$("$FVM_EXEC" -n p -- busybox readlink /proc/self/exe 2>/dev/null)
[ "$out" = "$(readlink -f "$BB")" ] && ok "static_proc_self_is_the_caller ($(whoami_tag))" ||
	not_ok "static_proc_self_is_the_caller ($(whoami_tag))" "got '$out'"
out=$("$FVM_EXEC" -n p -- busybox stat -c %n "$FVM_HOME/vms" 2>&1 | grep -v 'statically linked')
# resolved by the supervisor in both runs: the store is hidden as libfvm hides it
case $out in
*"No such file or directory"*) ok "static_stat_of_the_store_is_enoent ($(whoami_tag))" ;;
*) not_ok "static_stat_of_the_store_is_enoent ($(whoami_tag))" "got '$out'" ;;
esac
# ...and out of the listing of its parent directory (virtguard.c hides_child)
# (a glob: readdir alone, no stat of each entry, which hides the store already)
out=$("$FVM_EXEC" -n p -- busybox sh -c 'cd "$1" && echo *' sh "$(dirname "$FVM_HOME")" 2>/dev/null)
case " $out" in
*" $(basename "$HOST") "*" $(basename "$FVM_HOME") "* | *" $(basename "$FVM_HOME") "*)
	not_ok "static_listing_hides_the_store ($(whoami_tag))" "got '$out'" ;;
*" $(basename "$HOST") "*) ok "static_listing_hides_the_store ($(whoami_tag))" ;;
*) not_ok "static_listing_hides_the_store ($(whoami_tag))" "got '$out'" ;;
esac
host_unchanged && ok "host_unchanged ($(whoami_tag))" || not_ok "host_unchanged ($(whoami_tag))"
done_testing
