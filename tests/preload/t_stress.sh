#!/usr/bin/env bash
# Concurrency and crashes: eight processes appending to one host file at once get one
# copy-up and lose no line; a process killed in the middle of copying up a 1 GiB file
# leaves no partial file in the VM, and the next write copies up cleanly; the origins
# log's kept fd survives a program that takes its number.
. "$(dirname "$0")/../lib/harness.sh"
PY=/usr/bin/python3

echo first > "$HOST/log"
snapshot_host
cat > "$T/append.py" <<'PYEOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
for i in range(1000):
    os.write(fd, b"%s %04d\n" % (sys.argv[2].encode(), i))
os.close(fd)
PYEOF
(cd "$HOST" && "$FVM_EXEC" -n conc -- sh -c "
	for p in 1 2 3 4 5 6 7 8; do $PY '$T/append.py' log w\$p & done; wait")
lines=$("$FVM_EXEC" -n conc -- sh -c "wc -l < '$HOST/log'")
per=$("$FVM_EXEC" -n conc -- sh -c "grep -c '^w[1-8] ' '$HOST/log'")
copies=$(grep -c "$HOST/log\$" "$FVM_HOME/vms/conc/origins")
if ! host_unchanged > "$T/why"; then
	not_ok eight_appenders_one_copy_up "host changed: $(cat "$T/why")"
elif [ "$lines" = 8001 ] && [ "$per" = 8000 ] && [ "$copies" = 1 ] &&
	[ -z "$(ls -A "$FVM_HOME/vms/conc/work")" ]; then
	ok eight_appenders_one_copy_up
else
	not_ok eight_appenders_one_copy_up "lines=$lines (want 8001), appended=$per (want 8000)," \
		"copy-ups recorded=$copies (want 1), work/: $(ls -A "$FVM_HOME/vms/conc/work")"
fi
first=$("$FVM_EXEC" -n conc -- head -1 "$HOST/log")
[ "$first" = first ] && ok appended_file_keeps_host_content_first ||
	not_ok appended_file_keeps_host_content_first "first line: $first"

# The origins log's fd, kept open by each process (core/origins.c), is the program's
# number too: a program that puts its own file on it (dup2) or closes it loses no
# record and gets none written into its file.
for f in oa ob oc; do echo "$f" > "$HOST/$f"; done
snapshot_host
: > "$T/prog"
"$FVM_EXEC" -n olog -- "$PY" -c '
import os, sys
top, prog = sys.argv[1], sys.argv[2]
def append(name):
    with open(os.path.join(top, name), "a") as f:
        f.write("x\n")
append("oa")                      # the log is opened: fd 900
fd = os.open(prog, os.O_WRONLY | os.O_APPEND)
os.dup2(fd, 900)                  # the program s own file there now
append("ob")
os.close(900)
os.close(901)                     # the log reopened for ob, if that is where it went
append("oc")
' "$HOST" "$T/prog"
recs=$(for f in oa ob oc; do grep -c " $HOST/$f\$" "$FVM_HOME/vms/olog/origins"; done | tr '\n' ' ')
if ! host_unchanged > "$T/why"; then
	not_ok origins_fd_taken_by_the_program_loses_nothing "host changed: $(cat "$T/why")"
elif [ "$recs" = "1 1 1 " ] && [ ! -s "$T/prog" ]; then
	ok origins_fd_taken_by_the_program_loses_nothing
else
	not_ok origins_fd_taken_by_the_program_loses_nothing "records of oa ob oc: $recs(want 1 1 1)," \
		"the program's file: $(head -c 200 "$T/prog")"
fi
rm -f "$HOST/oa" "$HOST/ob" "$HOST/oc"
snapshot_host

# Crash during a 1 GiB copy-up.
if [ "$(df -Pk "$T" | awk 'NR==2{print $4}')" -lt $((3 * 1024 * 1024)) ]; then
	skip killed_copy_up_leaves_no_partial_file "less than 3 GiB free in $T"
else
	rm -f "$HOST/log"
	dd if=/dev/zero of="$HOST/big" bs=1M count=1024 status=none
	echo tail >> "$HOST/big"
	snapshot_host() { manifest "$HOST" > "$T/host.manifest"; } # no 1 GiB pristine copy
	snapshot_host
	size=$(stat -c %s "$HOST/big")
	# The crash, proved before the recovery is tested: the process holding the partial
	# copy open (an unnamed O_TMPFILE in its upper/ directory, "#INO (deleted)" in
	# /proc/PID/fd, or a temporary in work/ where the filesystem has no O_TMPFILE) is
	# stopped (SIGSTOP), the frozen copy is shown to be partial (shorter than the file,
	# nothing named in upper/ yet), and only then killed.
	# Up to three attempts, each in a fresh VM: a copy-up that ended before it could be
	# stopped is tried again, never counted.
	descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
	# partial_fd PID: the fd of PID that is a copy-up's partial file, if any.
	partial_fd() {
		local fd l
		for fd in /proc/$1/fd/*; do
			l=$(readlink "$fd" 2>/dev/null) || continue
			case $l in
			"$FVM_HOME/vms/$vm/upper/"*"/#"*" (deleted)" | "$FVM_HOME/vms/$vm/work/"*) echo "$fd"; return 0 ;;
			esac
		done
		return 1
	}
	for attempt in 1 2 3; do
		vm=crash$attempt
		(cd "$HOST" && exec "$FVM_EXEC" -n "$vm" -- sh -c 'echo x >> big') &
		runner=$!
		partial= holder= state= psize=0 vmpids= upper_then=
		for _ in $(seq 1 400); do
			for p in $(descendants $runner); do
				f=$(partial_fd "$p") || continue
				if [ "$(stat -L -c %s "$f" 2>/dev/null || echo 0)" -gt 0 ]; then
					partial=$f
					break 2
				fi
			done
			sleep 0.01
		done
		if [ -n "$partial" ]; then
			# The VM's processes descend from fvm-exec (through the run's supervisor): all
			# stopped at once; the holder is the process whose fd it is.
			vmpids=$(descendants $runner)
			kill -STOP $vmpids 2>/dev/null
			holder=${partial#/proc/}
			holder=${holder%%/*}
			case " $(echo $vmpids) " in *" $holder "*) ;; *) holder= ;; esac
		fi
		if [ -n "$holder" ]; then
			state=$(sed 's/.*) //' "/proc/$holder/stat" 2>/dev/null | cut -d' ' -f1)
			for _ in $(seq 100); do
				[ "$state" = T ] && break
				sleep 0.01
				state=$(sed 's/.*) //' "/proc/$holder/stat" 2>/dev/null | cut -d' ' -f1)
			done
			psize=$(stat -L -c %s "$partial" 2>/dev/null || echo 0)
			upper_then=$(ls "$FVM_HOME/vms/$vm/upper$HOST" 2>/dev/null)
		fi
		[ -z "${vmpids:-}" ] || kill -KILL $vmpids 2>/dev/null
		kill -KILL $runner 2>/dev/null
		wait $runner 2>/dev/null
		wait 2>/dev/null
		crashed=0
		if [ "$state" = T ] && [ "$psize" -gt 0 ] && [ "$psize" -lt "$size" ] && [ -z "$upper_then" ]; then
			crashed=1
		fi
		[ $crashed = 1 ] && break
		[ $attempt = 3 ] || rm -rf "${FVM_HOME:?}/vms/$vm" # its 1 GiB copy
	done
	seen=$("$FVM_EXEC" -n "$vm" -- stat -c %s "$HOST/big")
	upper=$(ls "$FVM_HOME/vms/$vm/upper$HOST" 2>/dev/null)
	if [ $crashed = 0 ]; then
		not_ok killed_copy_up_leaves_no_partial_file "the copy-up was not caught mid-way:" \
			"partial copy: ${partial:-none}, held by: ${holder:-nobody}, state: ${state:-?}," \
			"$psize of $size bytes copied, upper/ then: ${upper_then:-empty}"
	elif [ "$seen" = "$size" ] && [ -z "$upper" ] && host_unchanged > "$T/why"; then
		ok "killed_copy_up_leaves_no_partial_file (killed at $psize of $size bytes)"
	else
		not_ok killed_copy_up_leaves_no_partial_file "VM sees size $seen (host $size), upper: $upper" \
			"$(cat "$T/why" 2>/dev/null)"
	fi
	(cd "$HOST" && "$FVM_EXEC" -n "$vm" -- sh -c 'echo x >> big')
	after=$(cd "$HOST" && "$FVM_EXEC" -n "$vm" -- sh -c 'echo $(stat -c %s big) $(tail -c 7 big)' 2>&1)
	if [ $crashed = 0 ]; then
		not_ok next_write_after_crash_copies_up_cleanly "no crash happened before it: nothing was recovered"
	elif [ "$after" = "$((size + 2)) tail x" ] && host_unchanged > "$T/why"; then
		ok next_write_after_crash_copies_up_cleanly
	else
		not_ok next_write_after_crash_copies_up_cleanly "got: $after, want $((size + 2)) tail x" \
			"$(cat "$T/why" 2>/dev/null)"
	fi
	rm -f "$HOST/big"
fi

done_testing
