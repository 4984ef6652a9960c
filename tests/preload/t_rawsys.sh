#!/usr/bin/env bash
# libc's syscall() (libfvm/rawsys.c): a dynamic program that makes its file system calls
# through syscall(), as libuv (Node.js) and Rust's std make some of theirs, sees and
# changes the VM as through the libc functions: statx and newfstatat of a new, a changed
# and a deleted file, open, rename, links, chmod, truncate, both getdents listings, the
# cwd (getcwd(2) returns the length), unlink and rmdir. Before rawsys.c these reached the
# host (stat of a VM-made file ENOENT) or the fence (writes refused).
. "$(dirname "$0")/../lib/harness.sh"
R=$TOP/build/tests/helpers/rawsys

echo host > "$HOST/host.txt"
mkdir -p "$HOST/d"
touch "$HOST/d/x"

vm_check raw_syscalls_see_and_change_the_vm "$R script"
# The same calls on a tree the VM already changed: its upper layer answers.
vm_check raw_syscalls_over_a_tree_the_vm_changed \
	"mkdir d/sub0 && echo vm > d/vm.txt && rm d/x && $R script && ls -a d"
# openat2 exists natively; in a VM the fence answers ENOSYS to a static program and
# libfvm does the same through syscall() (no resolver for RESOLVE_*): programs fall back.
vm_expect openat2_through_syscall_is_enosys_in_a_vm "openat2: ENOSYS" "$R openat2 host.txt"

done_testing
