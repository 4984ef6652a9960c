#!/usr/bin/env bash
# Issue 13, item 1 and "the store is untrusted input to the tools": the tools must not
# follow a link a VM planted in its own layer or its own VM directory. Each attack
# plants the link from inside a VM (a shell, python, or the static helper writing the
# VM directory directly, which the fence lets it), then runs the tool a user would run
# next; the host tree (every piece of metadata) must be as it was.
. "$(dirname "$0")/lib.sh"
sec_require
PY=$(command -v python3)

# A build tree in the host, and a directory the VM wants destroyed.
mkdir -p "$HOST/build" "$HOST/important" "$HOST/victimdir/sub" "$T/out"
echo obj > "$HOST/build/x.o"
echo 'keep me' > "$HOST/important/x.o"
echo 'keep me' > "$HOST/victimdir/a"
echo 'keep me' > "$HOST/victimdir/sub/b"
echo 'keep me' > "$HOST/victim"

# 1. "rm -rf build; ln -s HOST/important build" in the VM, then fvm reset VM build/x.o.
vm_link_then_reset() { # NAME VM CMD...
	local name=$1 v=$2
	shift 2
	sec_snapshot
	out=$(cd "$HOST" && vm "$v" -- "$@" 2>&1)
	fvmc reset "$v" "$HOST/build/x.o" > "$T/out.reset" 2>&1
	verdict "$name" "" \
		"$([ -e "$HOST/important/x.o" ] || echo "important/x.o is gone")"
}
vm_link_then_reset reset_of_a_path_beneath_a_vm_link_stays_in_the_vm_shell l1 \
	sh -c "rm -rf build && ln -s '$HOST/important' build"
rm -f "$HOST/important/x.o"; echo 'keep me' > "$HOST/important/x.o"
vm_link_then_reset reset_of_a_path_beneath_a_vm_link_stays_in_the_vm_python l2 \
	"$PY" -c "import os, shutil; shutil.rmtree('build'); os.symlink('$HOST/important', 'build')"
rm -f "$HOST/important/x.o"; echo 'keep me' > "$HOST/important/x.o"

# 2. A static program replaces upper/ by a link to a host directory; fvm reset empties it.
sec_snapshot
D=$(vmdir l3)
out=$(vm l3 -- sh -c "echo v > '$HOST/victim2'; '$ATK' rename '$D/upper' '$D/upper.old' && '$ATK' symlink '$HOST/victimdir' '$D/upper'" 2>&1)
# Only reset: a commit through such a link would write the host's root.
fvmc reset l3 > "$T/out.reset" 2>&1
verdict reset_does_not_follow_upper_replaced_by_a_link_static \
	"" \
	"$([ -e "$HOST/victimdir/a" ] || echo "victimdir/a is gone")"
rm -rf "$HOST/victimdir"; mkdir -p "$HOST/victimdir/sub"
echo 'keep me' > "$HOST/victimdir/a"; echo 'keep me' > "$HOST/victimdir/sub/b"
# Left as it is, the link would make later tools walk the host: take it away natively.
rm -f "$D/upper"; mv "$D/upper.old" "$D/upper" 2>/dev/null

# 3. commit.journal.tmp.PID planted as links for every pid fvm commit may get: it writes
#    its journal through one of them (planted after pid_range is defined, below).
# 4. lock planted as a link to a host path: the next run creates (or touches) it.
sec_snapshot
D=$(ctldir l5)
out=$(vm l5 -- sh -c "'$ATK' rename '$D/lock' '$D/lock.old' && '$ATK' symlink '$HOST/made-by-lock' '$D/lock'" 2>&1)
vm l5 -- true > "$T/out.run" 2>&1
fvmc list > "$T/out.list" 2>&1
verdict lock_link_is_not_followed_static "" \
	"$([ -e "$HOST/made-by-lock" ] && echo "host file made-by-lock created")"
rm -f "$HOST/made-by-lock"

# 5. policy.tmp.PID and origins.tmp.PID planted for every pid the next tool may get.
pid_range() {
	local max last
	max=$(cat /proc/sys/kernel/pid_max)
	last=$(cat /proc/sys/kernel/ns_last_pid)
	if [ "$max" -le 65536 ]; then echo "2 $max"; else echo "$((last + 1)) $((last + 30000))"; fi
}
sec_snapshot
D=$(ctldir l4)
out=$(vm l4 -- sh -c "echo new > '$T/out/f' && '$ATK' symlinks '$HOST/victim' '$D/commit.journal.tmp' $(pid_range)" 2>&1)
fvmc commit l4 "$T/out/f" > "$T/out.commit" 2>&1
verdict commit_journal_tmp_link_is_not_followed_static \
	"" \
	"$(grep -q 'keep me' "$HOST/victim" || echo "victim now holds: $(head_of "$HOST/victim")")"
echo 'keep me' > "$HOST/victim"

sec_snapshot
D=$(ctldir l6)
vm l6 -- true > /dev/null 2>&1
out=$(vm l6 -- "$ATK" symlinks "$HOST/victim" "$D/policy.tmp" $(pid_range) 2>&1)
vm l6 -- true > "$T/out.run" 2>&1
verdict policy_tmp_pid_links_are_not_followed_static \
	"" \
	"$(grep -q 'keep me' "$HOST/victim" || echo "victim now holds: $(head_of "$HOST/victim")")"
echo 'keep me' > "$HOST/victim"

sec_snapshot
D=$(vmdir l7)
out=$(vm l7 -- sh -c "echo new > '$HOST/victim' && '$ATK' symlinks '$HOST/victim' '$D/origins.tmp' $(pid_range)" 2>&1)
fvmc reset l7 > "$T/out.reset" 2>&1
verdict origins_tmp_pid_links_are_not_followed_static \
	"" \
	"$(grep -q 'keep me' "$HOST/victim" || echo "victim now holds: $(head_of "$HOST/victim")")"
echo 'keep me' > "$HOST/victim"

done_testing
