#!/usr/bin/env bash
# A commit of 10,000 files killed with SIGKILL half-way (proved: its journal written,
# part of the files on the host), then run again: the journal lets it finish; the host then equals the VM's view, nothing is lost or duplicated
# (no temporaries left behind), and the VM has no change left.
. "$(dirname "$0")/../lib/harness.sh"
N=10000
# The harness's manifest forks per file; the same fields from one python3 process.
fast_manifest() { # DIR (run natively, or inside the VM)
	python3 - "$1" <<'PY'
import hashlib, os, stat, sys
top = sys.argv[1]
for d, dirs, files in os.walk(top):
    for n in sorted(dirs + files):
        p = os.path.join(d, n); st = os.lstat(p)
        h = hashlib.sha256(open(p, 'rb').read()).hexdigest()[:16] if stat.S_ISREG(st.st_mode) else '-'
        t = os.readlink(p) if stat.S_ISLNK(st.st_mode) else ''
        print(os.path.relpath(p, top), oct(st.st_mode), st.st_uid, st.st_gid,
              st.st_size if not stat.S_ISDIR(st.st_mode) else '-', h, t)
PY
}
vm_fast_manifest() { "$FVM_EXEC" -n "$1" -- bash -c "$(declare -f fast_manifest); fast_manifest '$HOST'" | sort; }

mkdir -p "$HOST/big" "$HOST/old"
for i in $(seq 1 200); do echo "old $i" > "$HOST/old/o$i"; done
# The VM writes N new files, rewrites 100 host files and deletes the other 100.
(cd "$HOST" && "$FVM_EXEC" -n crash -- python3 -c "
import os
for i in range($N):
    with open('big/f%05d' % i, 'w') as f: f.write('content %d\n' % i * 20)
for i in range(1, 101): open('old/o%d' % i, 'a').write('more\n')
for i in range(101, 201): os.unlink('old/o%d' % i)
")
view=$(vm_fast_manifest crash)
[ "$("$FVM" diff crash | grep -c "^A $HOST/big/")" = $N ] && ok vm_has_10000_new_files || not_ok vm_has_10000_new_files

# The crash, proved before recovery is tested: the commit is stopped (SIGSTOP) once some
# files reached the host, and killed only after the frozen state shows it is mid-way:
# its journal written and fewer than N files on the host. A commit that could not be
# caught mid-way is a failure, and so is every recovery check after it.
"$FVM" commit crash > "$T/out1" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
	n=$(find "$HOST/big" -maxdepth 1 -name 'f*' 2>/dev/null | wc -l)
	[ "$n" -ge 500 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.01
done
kill -STOP $pid 2>/dev/null
# Stopped, not ended: a zombie (an ended commit not yet waited for) takes the signal too.
for _ in $(seq 100); do
	state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
	[ "$state" != R ] && [ "$state" != S ] && [ "$state" != D ] && break
	sleep 0.01
done
[ "$state" = T ] && stopped=0 || stopped=1
n=$(find "$HOST/big" -maxdepth 1 -name 'f*' | wc -l)
journal=no
[ -s "$FVM_HOME/ctl/crash/commit.journal" ] && journal=yes
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
if [ $stopped = 0 ] && [ $journal = yes ] && [ "$n" -gt 0 ] && [ "$n" -lt $N ]; then
	crashed=1
	ok "commit_killed_mid_way_with_its_journal_written ($n of $N files on the host)"
else
	crashed=0
	not_ok commit_killed_mid_way_with_its_journal_written "stopped: $([ $stopped = 0 ] && echo yes || echo "no, state ${state:-gone}")," \
		"journal: $journal, $n of $N files on the host: no crash, so no recovery is tested below"
fi
# Each recovery check counts only after a proved crash.
recovered() { if [ $crashed = 1 ]; then ok "$@"; else not_ok "$1" "no crash happened: nothing was recovered"; fi; }
"$FVM" commit crash > "$T/out2" 2>&1; rc=$?
[ $rc = 0 ] && recovered rerun_finishes_commit || not_ok rerun_finishes_commit "rc $rc" "$(cat "$T/out2")"
host=$(fast_manifest "$HOST" | sort)
if [ "$host" = "$view" ]; then recovered host_equals_vm_view_after_crash_and_rerun; else
	not_ok host_equals_vm_view_after_crash_and_rerun "$(diff <(echo "$view") <(echo "$host") | head -20)"; fi
[ -z "$(find "$HOST" -name '.fvm-commit.*')" ] && recovered no_temporaries_left || not_ok no_temporaries_left "$(find "$HOST" -name '.fvm-commit.*' | head)"
[ ! -e "$FVM_HOME/ctl/crash/commit.journal" ] && recovered journal_removed || not_ok journal_removed
[ -z "$("$FVM" diff crash)" ] && recovered no_change_left_in_vm || not_ok no_change_left_in_vm "$("$FVM" diff crash | head)"
[ "$(vm_fast_manifest crash)" = "$view" ] && recovered vm_view_unchanged_by_commit || not_ok vm_view_unchanged_by_commit
done_testing
