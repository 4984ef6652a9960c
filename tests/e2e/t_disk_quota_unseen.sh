#!/usr/bin/env bash
# Disk quotas (issue 21) for the writes libfvm's wrappers do not see: a static
# program's (and Go's, and a dynamic executable's inline) write, pwrite64, writev,
# pwritev2, ftruncate, fallocate, copy_file_range, sendfile, splice and truncate(2),
# its creations (files-limit), glibc stdio's internal writes (fwrite, fprintf, fputc and
# the flush at fclose), and stores through a shared mapping. Each grows a second file
# past disk-limit after a first one filled most of it: the call fails with EDQUOT and
# the layer stays within the limit. --fsize is set far above disk-limit, so that
# RLIMIT_FSIZE (which disk-limit sets per file otherwise) bounds nothing here.
# Before quotaguard.c every call below but the dynamic mmap case (libfvm's ftruncate)
# grew the layer past the limit.
# Host tree unchanged.
. "$(dirname "$0")/../lib/harness.sh"

QS=$TOP/build/tests/helpers/qwriter-static
QD=$TOP/build/tests/helpers/qwriter
if [ ! -x "$QS" ] || [ ! -x "$QD" ]; then
	skip disk_quota_unseen "build/tests/helpers/qwriter{,-static} are missing (make tests-bin)"
	done_testing
	exit 0
fi
head -c 60000 /dev/zero > "$HOST/src60k"
snapshot_host

LIMIT=100000
run() { (cd "$HOST" && QW_SRC="$HOST/src60k" "$FVM_EXEC" "$@"); }
layer_bytes() { find "$FVM_HOME/vms/$1/upper" -type f ! -name '.wh.*' -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
layer_entries() { find "$FVM_HOME/vms/$1/upper" -mindepth 1 | wc -l; }
# quiet: without fvm's once-per-exec warning about static programs
quiet() { grep -v "is statically linked"; }

# check NAME VM OUT: the second write refused with EDQUOT, the layer within the limit
check() {
	local name=$1 vm=$2 out=$3 n
	n=$(layer_bytes "$vm")
	if grep -q ": EDQUOT" <<< "$out" && [ "$n" -le $LIMIT ]; then
		ok "$name ($n bytes)"
	else
		not_ok "$name" "layer $n bytes" "$out"
	fi
}

# ---- a static program's write family ------------------------------------------
for call in write pwrite writev pwritev2 ftruncate truncate fallocate copy_file_range sendfile splice mmap; do
	vm=s-$call
	out=$(run -n "$vm" --disk-limit $LIMIT --fsize 10M -- sh -c "
		$QS write first 60000; $QS $call second 60000" 2>&1 | quiet)
	check "static_${call}_past_disk_limit_fails_edquot" "$vm" "$out"
done

# busybox-static dd: many writes of 10000 bytes, the quota met in the middle
BB=$(command -v busybox || true)
if [ -n "$BB" ] && file -L "$BB" 2>/dev/null | grep -q 'statically linked'; then
	vm=s-dd
	out=$(run -n $vm --disk-limit $LIMIT --fsize 10M -- sh -c '
		busybox dd if=/dev/zero of=a bs=10000 count=30 2>&1; echo "rc=$?"' 2>&1 | quiet)
	n=$(layer_bytes $vm)
	grep -q "Disk quota exceeded" <<< "$out" && [ "$n" -le $LIMIT ] &&
		ok "busybox_dd_past_disk_limit_fails_edquot ($n bytes)" ||
		not_ok busybox_dd_past_disk_limit_fails_edquot "layer $n bytes" "$out"
	# busybox truncate: open and ftruncate
	vm=s-bbtrunc
	out=$(run -n $vm --disk-limit $LIMIT --fsize 10M -- sh -c '
		busybox truncate -s 10M t 2>&1; echo "rc=$?"' 2>&1 | quiet)
	n=$(layer_bytes $vm)
	grep -q "rc=1" <<< "$out" && grep -q "Disk quota exceeded" <<< "$out" && [ "$n" -le $LIMIT ] &&
		ok "busybox_truncate_past_disk_limit_fails ($n bytes)" ||
		not_ok busybox_truncate_past_disk_limit_fails "layer $n bytes" "$out"
	# files-limit: a static program's creations (open O_CREAT, mkdir)
	vm=s-files
	out=$(run -n $vm --files-limit 6 -- sh -c '
		for i in 1 2 3 4 5 6 7 8; do busybox touch f$i 2>/dev/null || echo "refused f$i"; done
		busybox mkdir d 2>&1' 2>&1 | quiet)
	n=$(layer_entries $vm)
	grep -q "refused f" <<< "$out" && [ "$n" -le 6 ] &&
		ok "static_creations_past_files_limit_refused ($n entries)" ||
		not_ok static_creations_past_files_limit_refused "$n entries" "$out" "$(find "$FVM_HOME/vms/$vm/upper")"
	# a static program's O_TRUNC open of a file of the layer gives its room back
	vm=s-trunc-open
	out=$(run -n $vm --disk-limit $LIMIT --fsize 10M -- sh -c '
		for i in 1 2 3; do busybox dd if=/dev/zero of=a bs=60000 count=1 2>&1 || echo "failed $i"; done' 2>&1 | quiet)
	! grep -q failed <<< "$out" && [ "$(layer_bytes $vm)" = 60000 ] && ok static_trunc_open_frees_room ||
		not_ok static_trunc_open_frees_room "$out"
else
	skip busybox_dd_past_disk_limit_fails_edquot "busybox-static is not installed"
fi

# A static program's writes that do not grow the layer are its own (continued): an
# overwrite in place, a write to a pipe, and everything in a VM without a limit.
vm=s-inplace
out=$(run -n $vm --disk-limit $LIMIT --fsize 10M -- sh -c "
	$QS write a 60000 && $QS pwrite a 60000 && $QS write b 30000 | cat" 2>&1 | quiet)
[ "$(grep -c ': ok' <<< "$out")" = 3 ] && [ "$(layer_bytes $vm)" = 90000 ] &&
	ok static_writes_within_the_limit_pass || not_ok static_writes_within_the_limit_pass "$out"

# ---- glibc stdio's internal writes (a dynamic program) -------------------------
# FIRST: 60000 bytes by dd, whose write(2) libfvm's wrapper counts (qwriter's write is
# syscall(2) from libc's code, which neither libfvm nor the rows see)
STDIO_TODO="issue 21: stdio's internal write is glibc's own, seen by no wrapper and no row"
FIRST="dd if=/dev/zero of=first bs=60000 count=1 2>/dev/null"
for call in fwrite fprintf fputc; do
	vm=d-$call
	out=$(run -n "$vm" --disk-limit $LIMIT --fsize 10M -- sh -c "
		$FIRST; $QD $call second 60000" 2>&1)
	n=$(layer_bytes "$vm")
	# the buffer's flush fails: fclose reports it (or the wrapped write, when fwrite
	# writes whole blocks itself)
	TODO=
	if grep -q "EDQUOT" <<< "$out" && [ "$n" -le $LIMIT ]; then
		ok "stdio_${call}_past_disk_limit_fails_edquot ($n bytes)"
	else
		not_ok "stdio_${call}_past_disk_limit_fails_edquot" "layer $n bytes" "$out"
	fi
done
# head(1) writes through stdio; a shell's redirection makes the file
vm=d-head
out=$(run -n $vm --disk-limit $LIMIT --fsize 10M -- sh -c '
	head -c 60000 /dev/zero > a; head -c 60000 /dev/zero > b; echo "rc=$?"' 2>&1)
n=$(layer_bytes $vm)
TODO=
[ "$n" -le $LIMIT ] && grep -q "rc=1" <<< "$out" && ok "stdio_head_past_disk_limit_fails ($n bytes)" ||
	not_ok stdio_head_past_disk_limit_fails "layer $n bytes" "$out"

# syscall(3) from a dynamic program: libc's code, no wrapper, no marker
vm=d-raw
out=$(run -n $vm --disk-limit $LIMIT --fsize 10M -- sh -c "
	$FIRST; $QD write second 60000; $QD ftruncate third 60000" 2>&1)
n=$(layer_bytes $vm)
[ "$(grep -c ": EDQUOT" <<< "$out")" = 2 ] && [ "$n" -le $LIMIT ] && ok "dynamic_raw_calls_past_disk_limit_fail_edquot ($n bytes)" ||
	not_ok dynamic_raw_calls_past_disk_limit_fail_edquot "layer $n bytes" "$out"

# Without a limit nothing of this is installed: no marker in the environment, no rows
# in the filter (-v names its length), and the same writes pass.
vm=nolimit
out=$(run -v -n $vm -- sh -c "env | grep -c FVM_QUOTA_GUARD; $QD fwrite a 150000; $QS write b 150000" 2>&1)
with=$(run -v -n nolimit2 --disk-limit $LIMIT -- true 2>&1 | grep -o '[0-9]* instructions')
without=$(grep -o '[0-9]* instructions' <<< "$out")
grep -qx 0 <<< "$out" && grep -q "fwrite: ok" <<< "$out" && grep -q "write: ok 150000" <<< "$out" &&
	[ -n "$without" ] && [ "${with% *}" -gt "${without% *}" ] &&
	ok "no_limit_no_rows_no_marker ($without without, $with with a limit)" ||
	not_ok no_limit_no_rows_no_marker "$without / $with" "$out"

# ---- a shared mapping: the file grows only through ftruncate (dynamic: libfvm's) --
vm=d-mmap
out=$(run -n $vm --disk-limit $LIMIT --fsize 10M -- sh -c "
	$FIRST; $QD mmap second 60000" 2>&1)
check mmap_store_file_grows_only_by_ftruncate $vm "$out"

host_unchanged > "$T/d" && ok host_unchanged || not_ok host_unchanged "$(cat "$T/d")"
done_testing
