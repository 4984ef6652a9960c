#!/usr/bin/env bash
# Files inside a VM behave as natively, and the host tree never changes:
# open/creat/fopen writes, copy-up, deletion with whiteouts, merged listings,
# mkdir/rmdir, rename of files and directories, symlinks, stat, the virtual cwd.
. "$(dirname "$0")/../lib/harness.sh"

mkdir -p "$HOST/dir/sub" "$HOST/empty" "$HOST/tree/a/b"
echo hello > "$HOST/file"
echo keep > "$HOST/dir/keep"
echo one > "$HOST/dir/sub/one"
echo deep > "$HOST/tree/a/b/deep"
printf 'x\ny\n' > "$HOST/lines"
ln -s file "$HOST/link"
ln -s /nonexistent "$HOST/dangling"
ln -s dir "$HOST/dirlink"
chmod 640 "$HOST/lines"

vm_expect echo_into_new_file_is_read_back_in_the_vm "hi" 'echo hi > f; cat f'
vm_check new_file_appears_in_listing 'echo hi > f; ls; cat f'
vm_check append_to_host_file_copies_up 'echo more >> file; cat file; ls -l file | cut -d" " -f1,5'
vm_check truncate_host_file_by_redirection ': > file; wc -c < file'
vm_check remove_host_file_hides_it 'rm file; ls; cat file; echo $?'
vm_check remove_then_recreate_host_file 'rm file; echo new > file; cat file; ls'
vm_check mkdir_and_rmdir 'mkdir newd newd/x; ls -d newd/x; rmdir newd/x newd; ls'
vm_check rmdir_of_nonempty_host_dir_fails 'rmdir dir 2>&1 | sed "s/.*: //"; ls dir'
vm_check rm_rf_host_tree 'rm -rf tree dir; ls'
vm_check rm_rf_then_mkdir_same_name_is_empty 'rm -rf dir; mkdir dir; ls -A dir; echo end'
vm_check rename_host_file 'mv file renamed; ls; cat renamed'
vm_check rename_over_existing_file 'mv lines file; cat file; ls'
vm_check rename_host_dir_keeps_children_visible 'mv dir moved; find moved | sort; cat moved/sub/one'
vm_check rename_dir_into_changed_dir 'mkdir nd; echo z > nd/z; mv tree nd/; find nd | sort'
vm_check symlink_to_host_file_follows 'cat link; readlink link; echo x >> link; cat file'
vm_check dangling_symlink_reports_enoent 'cat dangling 2>&1 | sed "s/.*: //"'
vm_check relative_paths_after_cd 'cd dir; echo c > made; ls; cd ..; cat dir/made'
vm_check cd_through_symlink_and_dotdot 'cd dirlink/sub; cat ../keep; pwd'
vm_check stat_fields_after_copy_up 'chmod 600 file 2>/dev/null; echo >> file; stat -c "%a %s %F" file lines dir'
vm_check merged_listing_sorted 'touch dir/zz dir/aa; rm dir/keep; ls -a dir'
vm_check cp_and_diff 'cp file copy; cmp file copy && echo same'
vm_check truncate_of_directory_is_eisdir '/usr/bin/python3 -c "import os; os.truncate(\"dir\", 0)" 2>&1 | tail -1'
vm_check sed_in_place 'sed -i s/x/X/ lines; cat lines'
vm_check trailing_slash_on_file_is_enotdir 'cat file/ 2>&1 | sed "s/.*: //"'
vm_check open_excl_on_existing_fails 'set -C; echo a > file 2>&1 | sed "s/.*: //"'
vm_check find_whole_tree 'echo n > dir/new; rm dir/sub/one; find . | sort'
vm_check getcwd_is_virtual 'mkdir -p fresh/deeper; cd fresh/deeper; pwd; /bin/pwd'

# The store is invisible from inside a VM.
vm_expect store_is_hidden "gone" "ls '$FVM_HOME' >/dev/null 2>&1 || echo gone"

# A file the VM wrote can be executed by path, and a script's interpreter is found.
vm_check exec_script_created_in_vm 'printf "#!/bin/sh\necho from-script \$1\n" > s.sh; chmod +x s.sh; ./s.sh arg'
# pjdfstest rename/19: a source or target whose last component is "." or ".." (or "/")
# is EBUSY (EEXIST under RENAME_NOREPLACE), never the directory it resolves to moved.
vm_check rename_of_dot_or_dotdot_is_ebusy '/usr/bin/python3 -c "
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for a, b, f in [(\"dir/sub/.\", \"x\", 0), (\"dir/sub/..\", \"x\", 0), (\"dir/sub/./\", \"x\", 0),
                (\"dir/sub\", \"dir/.\", 0), (\"dir/sub\", \"dir/..\", 0), (\"/\", \"x\", 0),
                (\"dir/sub\", \"empty/..\", 1), (\".\", \"x\", 0)]:
    r = libc.renameat2(-100, a.encode(), -100, b.encode(), f)
    print(a, b, f, r, os.strerror(ctypes.get_errno()) if r else \"\")
"; ls; ls dir'

# env -i drops LD_PRELOAD; the child must stay in the VM.
vm_expect env_i_child_stays_in_vm "inside" 'echo inside > marker; env -i /bin/cat marker'

done_testing
