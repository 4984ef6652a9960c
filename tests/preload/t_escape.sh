#!/usr/bin/env bash
# The escape battery: each attempt, made inside a VM (as root and, through run-all, as
# an unprivileged user), tries to change the host tree. After each the host manifest
# must be byte-identical, and the VM must show the change it made.
. "$(dirname "$0")/../lib/harness.sh"
PY=/usr/bin/python3

mkdir -p "$HOST/dir/sub" "$HOST/tree/a/b" "$HOST/out"
echo hello > "$HOST/file"
echo keep > "$HOST/dir/keep"
echo deep > "$HOST/tree/a/b/deep"
ln -s "$HOST/file" "$HOST/abslink"
ln -s file "$HOST/rellink"
ln -s "$HOST/out/new" "$HOST/danglink"
ln -s ../file "$HOST/dir/uplink"
ln -s "$HOST/dir" "$HOST/dirlink"

vm_expect absolute_symlink_made_in_vm 'hello
x' "ln -s '$HOST/file' a; echo x >> a; cat file"
vm_expect relative_symlink_made_in_vm 'hello
x' "ln -s ./dir/../file r; echo x >> r; cat file"
vm_expect dangling_symlink_made_in_vm 'x' "ln -s '$HOST/out/made' d; echo x > d; cat out/made"
vm_expect host_absolute_symlink 'hello
x' "echo x >> abslink; cat file"
vm_expect host_relative_symlink 'hello
x' "echo x >> rellink; cat file"
vm_expect host_dangling_symlink 'x' "echo x > danglink; cat out/new"
vm_expect host_symlink_into_changed_dir 'x
new sub uplink' "echo x > dir/new; cat dirlink/new; rm dirlink/keep; echo \$(ls dir)"
vm_expect dotdot_out_of_a_directory 'x' "cd dir/sub; echo x > ../../made; cat '$HOST/made'"
vm_expect dotdot_above_the_root 'hello
x' "echo x >> '/../../..$HOST/file'; cat file"
vm_expect hard_link_to_host_file '2 hello
x' "ln file hl; echo x >> hl; stat -c %h file | tr '\n' ' '; cat file"
vm_expect rename_host_file_into_changed_dir 'hello' "mkdir nd; mv file nd/; cat nd/file; test -e file && echo still"
vm_expect rename_host_file_out_of_changed_dir 'keep
dir:sub uplink' "echo n > dir/n; mv dir/keep kept; rm dir/n; cat kept; echo dir:\$(ls dir)"
vm_expect rename_host_dir_over_changed_dir 'deep' "mkdir -p nt; mv tree nt/; cat nt/tree/a/b/deep"
vm_expect write_through_proc_self_fd 'x' "exec 3<file; echo x > /proc/self/fd/3; cat file"
vm_expect append_through_proc_self_fd 'hello
x' "exec 3<file; echo x >> /proc/self/fd/3; cat file"
vm_expect write_through_proc_self_cwd 'x' "cd dir; echo x > /proc/self/cwd/keep; cat keep"
vm_expect write_through_proc_self_root 'hello
x' "echo x >> /proc/self/root'$HOST/file'; cat file"
vm_expect write_through_proc_self_fd_dir 'x' "exec 4<dir; echo x > /proc/self/fd/4/keep; cat dir/keep"
vm_expect openat_relative_to_host_dirfd 'x' "$PY -c '
import os
d = os.open(\"dir\", os.O_RDONLY | os.O_DIRECTORY)
f = os.open(\"keep\", os.O_WRONLY | os.O_TRUNC, dir_fd=d)
os.write(f, b\"x\\n\")
os.close(f)
f = os.open(\"sub/new\", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d)
os.close(f)
'; cat dir/keep; ls dir/sub >/dev/null"
vm_expect o_tmpfile_in_host_dir 'tmp' "$PY -c '
import os
f = os.open(\"dir\", os.O_TMPFILE | os.O_WRONLY, 0o600)
os.write(f, b\"tmp\\n\")
os.link(\"/proc/self/fd/%d\" % f, \"dir/linked\", follow_symlinks=True)
'; cat dir/linked"
vm_expect chdir_then_relative_writes 'x
y' "cd dir; echo x > keep; mkdir m; echo y > m/f; cd ..; cat dir/keep dir/m/f"
vm_expect rm_rf_host_tree 'gone' "rm -rf tree dir; ls tree dir 2>/dev/null || echo gone"
vm_expect metadata_changes 'hello 600' "chmod 600 file; touch -d 2001-01-01 file; $PY -c 'import os; os.truncate(\"dir/keep\", 0)'; echo \$(cat file) \$(stat -c %a file)"
vm_expect sed_in_place_through_symlink 'HELLO' "sed -i --follow-symlinks s/hello/HELLO/ abslink; cat file"
vm_expect store_is_unreachable 'ENOENT' "$PY -c '
import os
try:
    os.open(\"$FVM_HOME/vms/x\", os.O_WRONLY | os.O_CREAT, 0o644)
    print(\"created\")
except OSError as e:
    import errno; print(errno.errorcode[e.errno])
'"

# All of the above again, in one VM, one after another: each step succeeds and the VM
# sees its effect (so a VM that refused every write would fail here), while the host
# still has not changed.
snapshot_host
battery_step() { # NAME SCRIPT CHECK EXPECTED: SCRIPT must succeed; CHECK must print EXPECTED
	local out rc seen
	out=$(cd "$HOST" && "$FVM_EXEC" -n battery -- sh -c "$2" 2>&1); rc=$?
	seen=$(cd "$HOST" && "$FVM_EXEC" -n battery -- sh -c "$3" 2>&1)
	if [ $rc != 0 ]; then
		not_ok "battery_$1" "exit $rc: $out"
	elif [ "$seen" != "$4" ]; then
		not_ok "battery_$1" "the VM does not see the change; expected:" "$4" "got:" "$seen"
	elif ! host_unchanged > "$T/why"; then
		not_ok "battery_$1 (host changed)" "$(cat "$T/why")"
	else
		ok "battery_$1"
	fi
}
battery_step hard_link_append "ln file hl; echo x >> hl" 'stat -c %h file; cat file' '2
hello
x'
battery_step absolute_symlink_append "echo x >> abslink" 'cat file' 'hello
x
x'
battery_step proc_self_fd_write "exec 3<file; echo x > /proc/self/fd/3" 'cat file hl' 'x
x'
battery_step proc_self_root_append "echo x >> /proc/self/root$HOST/file" 'cat file' 'x
x'
battery_step rm_rf_host_trees "rm -rf tree dir" 'ls -d tree dir 2>/dev/null; echo $?' '2'
battery_step rename_host_file "mv file moved" 'test -e file || cat moved' 'x
x'
if host_unchanged > "$T/why"; then
	ok battery_in_one_vm_leaves_host_unchanged
else
	not_ok battery_in_one_vm_leaves_host_unchanged "$(cat "$T/why")"
fi
restore_host

done_testing
