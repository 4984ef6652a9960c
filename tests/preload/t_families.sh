#!/usr/bin/env bash
# Each family of wrapped entry points, driven by tests/helpers/fsops natively and in a
# VM over identical trees: links and nodes, realpath and names, fs queries, metadata
# changes through fds, temporary files, spawn file actions, fexecve, dlopen, O_TMPFILE.
. "$(dirname "$0")/../lib/harness.sh"
F=$TOP/build/tests/helpers/fsops

mkdir -p "$HOST/dir/sub" "$HOST/tmp"
echo hello > "$HOST/file"
echo keep > "$HOST/dir/keep"
ln -s file "$HOST/link"
ln -s dir/sub "$HOST/sublink"
ln -s /nonexistent "$HOST/dangling"
printf '#!/bin/sh\necho script "$@"\n' > "$HOST/script.sh"
chmod 755 "$HOST/script.sh"
chmod 1777 "$HOST/tmp"
cp "$(ldconfig -p | awk '/libz\.so\.1 /{print $NF; exit}')" "$HOST/libcopy.so" 2>/dev/null ||
	echo '# no libz to copy: dlopen test uses a missing file'

# links and nodes
vm_check hard_link_to_host_file_shares_content "$F link file hl : stat hl : stat file : cat hl"
vm_check hard_link_then_write_shows_in_both "$F link file hl : open hl w,append : write more : close : cat file"
vm_check hard_link_of_dir_is_eperm "$F link dir dl"
vm_check hard_link_over_existing_is_eexist "$F link file link"
vm_check hard_link_of_missing_is_enoent "$F link nothing x"
vm_check link_follow_through_symlink "$F linkfollow link hl2 : lstat hl2"
vm_check link_nofollow_links_the_symlink "$F link link hl3 : lstat hl3 : readlink hl3"
vm_check symlink_then_follow "$F symlink dir/keep s : cat s : readlink s : lstat s"
vm_check symlink_absolute_in_vm_follows_virtually "$F symlink $HOST/dir s : mkdir s/new : stat dir/new"
vm_check symlink_over_existing_is_eexist "$F symlink x dangling"
vm_check symlink_with_trailing_slash "$F symlink x newlink/"
vm_check mkfifo_and_mknod "$F mkfifo ff : lstat ff : mknod nn : lstat nn : mkfifo ff"
vm_check mkfifo_in_missing_dir_is_enoent "$F mkfifo nodir/ff"
# names
vm_check realpath_through_links "$F realpath sublink/../file : realpath link : canon dir/./sub/"
vm_check realpath_of_missing_is_enoent "$F realpath dir/none : realpath dangling : realpath file/"
vm_check realpath_of_vm_created_dir "$F mkdir made : chdir made : getcwd : realpath . : realpath .."
vm_check readlink_proc_self_cwd "$F chdir dir : readlink /proc/self/cwd"
# queries
vm_check fs_queries_on_host_and_vm_objects "$F mkdir q : statvfs q : statfs file : pathconf dir : inotify file : statvfs nothing"
# metadata changes through an fd on a host file
vm_check fchmod_of_host_file_opened_read_only "$F open file r : fchmod 600 : mode file : close : cat file"
vm_check futimens_of_host_file_opened_read_only "$F open file r : futimens : mtime file"
vm_check ftruncate_of_read_only_fd_fails "$F open file r : ftruncate : cat file"
vm_check fchown_keeps_group "$F open file r : fchown : stat file"
# temporary files
vm_check tmpfile_reads_back "$F tmpfile"
vm_check mktemp_names_a_free_name "$F mktemp tmp/fvmXXXXXX"
vm_check tempnam_uses_the_given_dir "env -u TMPDIR $F tempnam $HOST/tmp"
# O_TMPFILE and its materialisation
vm_check o_tmpfile_linked_by_fd "$F open dir w,tmpfile : write data : linkfd dir/made : cat dir/made : stat dir/made"
vm_check o_tmpfile_linked_through_proc "$F open dir rw,tmpfile : write data : linkproc dir/viaproc : cat dir/viaproc"
vm_check proc_fd_link_of_host_file "$F open file r : linkproc hostcopy : stat hostcopy : cat hostcopy"
# spawn file actions, fexecve, dlopen
vm_check spawn_addopen_appends_to_host_file "$F spawnout file spawned : cat file"
vm_check spawn_addopen_creates_in_new_dir_file "$F mkdir nd : spawnout nd/out x : cat nd/out"
vm_check spawn_addchdir_into_dir "$F spawncd dir/sub"
vm_check fexecve_runs_script_by_fd "$F fexecve ./script.sh"
vm_check dlopen_by_path "$F dlopen ./libcopy.so : dlopen ./missing.so"

# The host's file must not change even when every step above ran in one VM.
vm_expect changes_stay_in_the_vm "more] 600" "$F link file hl : open hl w,append : write more : close : open file r : fchmod 600 : close : cat file : mode file | tail -2 | tr '\\n' ' ' | sed 's/mode: //; s/ \$//'"

done_testing
