#!/usr/bin/env bash
# Issue 14: the supervisor performs a static program's creations and copy-ups outside
# the fence (virtguard.c). A hostile VM swaps a directory of its layer for a link to a
# host directory while a static program creates files beneath that directory's name:
# whatever wins the race, nothing may land in the host directory (the creation runs in
# a child under the VM's Landlock ruleset, and in a root run inside the caller's
# namespace, where the host is read-only; upper/ objects are opened beneath upper/ with
# no link). Run as root and as the test user.
. "$(dirname "$0")/lib.sh"
sec_require

mkdir -p "$HOST/d" "$HOST/victimdir"
echo 'keep me' > "$HOST/victimdir/a"
echo 'keep me' > "$HOST/d/host-file"
sec_snapshot
D=$(vmdir r1)
# the VM copies d up first (a file made in it), then races on upper's copy
out=$(cd "$HOST" && vm r1 -- sh -c "echo v > '$HOST/d/made' && '$ATK' swaprace '$D/upper$HOST/d' '$HOST/victimdir' '$HOST/d' 400" 2>&1)
verdict swap_of_a_layer_dir_for_a_link_during_creations_stays_in_the_vm "" \
	"$(ls "$HOST/victimdir" | grep -v '^a$')" "$(sec_changes)"
# the same where each creation needs the directory copied up again: the layer's copy
# is removed by the VM between them (rm -rf), so the copy-up races the swap
out=$(cd "$HOST" && vm r2 -- sh -c "for i in 1 2 3 4 5 6 7 8; do rm -rf '$(vmdir r2)/upper$HOST/d'; '$ATK' swaprace '$(vmdir r2)/upper$HOST/d' '$HOST/victimdir' '$HOST/d' 40 >/dev/null; done" 2>&1)
verdict swap_during_a_copy_up_stays_in_the_vm "" \
	"$(ls "$HOST/victimdir" | grep -v '^a$')" "$(sec_changes)"
# The VM replaces its whole upper/ by a link to a host directory, then a static program
# opens a name of the VM for writing that the link's target holds: the supervisor must
# not open it through the link (upper/ is reached beneath the VM's directory with no
# link), so nothing of the host is written.
sec_snapshot
D=$(vmdir r3)
out=$(cd "$HOST" && vm r3 -- sh -c "echo v > '$HOST/d/made3'; '$ATK' rename '$D/upper' '$D/upper.old' && '$ATK' symlink '$HOST/victimdir' '$D/upper' && '$ATK' append /a 'WRITTEN THROUGH THE LINK'" 2>&1)
verdict upper_swapped_for_a_link_is_not_followed "" \
	"$(grep -l WRITTEN "$HOST/victimdir/a")" "$(sec_changes)"
# A device node the VM made in its layer (root: the namespace's copy of the data area is
# nodev; made by a raw call from a dynamic program, which the kernel answers) is never
# opened by the supervisor for it through the host's mount (ENXIO: the open reached the
# driver).
if [ "$(id -u)" = 0 ]; then
	D=$(vmdir r4)
	out=$(cd "$HOST" && vm r4 -- sh -c "'$ATK_DYN' mknod-blk '$D/upper/disk' 1 3; '$ATK' read /disk" 2>&1)
	verdict device_node_in_the_layer_never_opens_through_the_supervisor "" \
		"$(echo "$out" | grep -v -e 'mknod-blk: ok' -e 'read: EACCES' -e 'mkdir: ')"
fi
# The chdir the supervisor makes for a static program into a directory only the VM has
# (virtguard.c chdir_by_trace): a hostile caller races it. One thread swaps the name
# between that directory and a host one, another dups every directory fd it sees (the
# one installed for the chdir lives until the injected close), then it writes through
# what it stole and from its working directory toward the VM's store directory (as
# many ".." as lead from upper/'s copy to vms/NAME): its calls are its own, virtualized
# or fenced; nothing lands outside upper/, on the host or in the store. Before the
# tracing (a name rewritten in the caller's memory) the swap could also be read back.
VCH=$TOP/build/tests/helpers/vchdir-static
sec_snapshot
D=$(vmdir r6)
dots=..; for _ in $(seq "$(tr -cd / <<< "$HOST/vmonly/a/b" | wc -c)"); do dots=$dots/..; done
out=$(cd "$HOST" && vm r6 -- sh -c "mkdir -p '$HOST/vmonly/a/b' && '$VCH' -r '$HOST/vmonly/a/b' /etc '$dots'" 2>&1)
verdict chdir_raced_by_the_caller_gains_nothing "" \
	"$(find "$D" "$(ctldir r6)" -name x -not -path "$D/upper/*" 2>&1)" "$(sec_changes)" \
	"$(grep -v -e '^entered dir' -e '^stole ' -e 'statically linked' <<< "$out")"
# A root run's process that dropped root may enter a VM directory of root's with mode
# 0711 but not list it: the fd a chdir would hand over must not list it for it. Such a
# chdir is refused (ENOENT and the warning) rather than made through an fd it could read.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	chmod o+x "$T" "$HOST"
	out=$(cd "$HOST" && vm r7 -- sh -c "mkdir -p '$HOST/locked' && echo s > '$HOST/locked/secret' && chmod 711 '$HOST/locked' && setpriv --reuid nobody --regid nogroup --clear-groups '$VCH' -l '$HOST/locked'" 2>&1)
	verdict chdir_fd_never_lists_what_the_caller_may_not "" \
		"$(grep -v -e '^listed 0 bytes' -e 'statically linked' -e 'is not virtualized' <<< "$out")" "$(sec_changes)"
fi
# The supervisor continues a static program's read of a host name the VM never changed
# (virtguard.c host_as_named): the kernel reads the name again. A second thread of the
# caller rewrites it in place, the public host file's name and VM r8's layer copy of a
# file in turn, between the supervisor's check and the kernel's read: whatever the
# kernel opens is fenced (the store is hidden from every VM), so VM r9 never reads r8's
# secret. Natively the same race reads the secret: it does meet both names.
echo public > "$HOST/pub"
(cd "$HOST" && vm r8 -- sh -c "echo R8-SECRET > '$HOST/pub'") > "$T/r8.out" 2>&1
sec_snapshot
S=$(vmdir r8)/upper$HOST/pub
for _ in 1 2 3; do # a loaded machine may starve the flipping thread: try again
	native=$("$ATK" namerace "$HOST/pub" "$S" 3000 2>&1)
	case $native in *" secret=0 "*) ;; *) break ;; esac
done
out=$(cd "$HOST" && vm r9 -- "$ATK" namerace "$HOST/pub" "$S" 3000 2>&1)
verdict name_rewritten_after_the_check_reads_nothing_of_the_store "" \
	"$(case $native in *" secret=0 "*) echo "the race never met the secret natively: $native" ;; esac)" \
	"$(case $out in *" secret=0 "*) ;; *) echo "VM r9: $out" ;; esac)" "$(sec_changes)"
done_testing
