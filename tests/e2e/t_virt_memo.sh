#!/usr/bin/env bash
# Issue 14: in a root run the supervisor keeps each thread's credentials and root
# (notify.c, creds_memo and notify_root_of) instead of reading /proc per call. A thread
# changes what is kept between two of its own notified calls, with no id change the
# pidfd would show: setgroups (notified: the memo dropped) and chroot (notified: no
# root kept any more). A static helper (tests/helpers/credswap.c, built -static here)
# must get in the VM what it gets natively. Root only: an unprivileged run's processes
# cannot change either.
. "$(dirname "$0")/../lib/harness.sh"

if [ "$(id -u)" != 0 ]; then
	skip memo_follows_setgroups "root only (an unprivileged run's groups and root are fixed)"
	skip memo_follows_chroot "root only"
	done_testing
	exit
fi
CS=$T/credswap
if ! cc -static -O2 -o "$CS" "$TOP/tests/helpers/credswap.c" 2> "$T/cc.err"; then
	skip memo_follows_setgroups "cannot build a static helper: $(head -1 "$T/cc.err")"
	skip memo_follows_chroot "cannot build a static helper"
	done_testing
	exit
fi
chmod 755 "$T" "$HOST" "$CS"
echo secret > "$HOST/grp-only"
chown 0:4242 "$HOST/grp-only"
chmod 040 "$HOST/grp-only"
mkdir -p "$HOST/jail"
echo in > "$HOST/jail/marker"
# the file is the group's only: readable with group 4242, EACCES once it is dropped
vm_check "memo_follows_setgroups" "'$CS' groups '$HOST/grp-only' 4242 | grep -v 'statically linked'"
# /marker is only the jail's: ENOENT before the chroot, found after it
vm_check "memo_follows_chroot" "'$CS' chroot '$HOST/jail' /marker | grep -v 'statically linked'"
done_testing
