#!/usr/bin/env bash
# Bad pointers: every exported wrapper of libfvm (libfvm/wrapped.list), called by
# tests/helpers/badptr with NULL, (void *)1, an address beyond user space, a pointer
# into an unmapped page and a buffer that runs into one, in each pointer argument,
# answers in a VM exactly as natively: the same return value and errno, or the same
# crash where glibc itself faults. Rust's std probes statx(0, NULL, 0, mask, NULL) for
# EFAULT at every start. libc's syscall() (rawsys.c) with a path-taking number answers
# as the kernel does: EFAULT, never a crash, even where libc's function of the same name
# would fault (utime's times, mq_open's name).
. "$(dirname "$0")/../lib/harness.sh"
B=$TOP/build/tests/helpers/badptr

mkdir -p "$HOST/d"
echo hello > "$HOST/f"
ln -s f "$HOST/l"
touch "$HOST/d/x"

# The table of the helper names every wrapped symbol.
listed=$(sed -n 's/^FVM_SYM(\([A-Za-z0-9_]*\),.*/\1/p' "$TOP/libfvm/wrapped.list" | sort -u)
cased=$(cd "$HOST" && "$B" -b NULL | sed 's/(.*//' | sort -u)
missing=$(comm -23 <(echo "$listed") <(echo "$cased"))
if [ -z "$missing" ]; then
	ok "the helper's table calls every name of wrapped.list"
else
	not_ok "the helper's table calls every name of wrapped.list" "missing: $missing"
fi

vm_check rust_statx_probe_of_null_is_efault "$B -b NULL 'Rust'"
vm_check raw_syscalls_given_bad_pointers_answer_as_the_kernel "$B 'syscall('"
vm_check utimensat_of_null_name_is_einval "$B -b NULL 'utimensat(cwd,P,ts)'"
vm_check every_wrapper_given_null_answers_as_natively "$B -b NULL"
vm_check every_wrapper_given_the_zero_page_answers_as_natively "$B -b 1"
vm_check every_wrapper_given_a_kernel_address_answers_as_natively "$B -b kernel"
vm_check every_wrapper_given_an_unmapped_page_answers_as_natively "$B -b unmapped"
# A string or buffer whose last mapped bytes are followed by an unmapped page.
vm_check every_wrapper_given_a_buffer_running_into_an_unmapped_page_answers_as_natively \
	"$B -b crossing"
# The VM's copy of f carries libfvm's hidden attribute: the list without it must fit.
vm_check flistxattr_into_a_buffer_running_into_an_unmapped_page \
	"$B -b crossing 'setxattr(f,n,P)' > /dev/null; $B -b crossing 'flistxattr(fd,P)'"
# Root natively holds CAP_LINUX_IMMUTABLE, so the filesystem refuses the unknown flags
# (EOPNOTSUPP); a root VM's fence drops it, and the kernel's capability check would
# answer first (EPERM): libfvm asks the filesystem's verdict instead (attr.c).
vm_check setflags_of_unknown_flags "$B -b crossing 'ioctl(fd,FS_IOC_SETFLAGS,P)'"

done_testing
