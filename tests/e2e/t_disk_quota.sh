#!/usr/bin/env bash
# Disk quotas (issue 21): disk-limit caps the bytes of the files in a VM's layer and
# files-limit its entries. A copy-up, a creation or a write past them fails with EDQUOT,
# nothing half-copied stays, and the layer stays within its limits; the usage is
# recounted at each run's start (after a reset, across runs, with concurrent writers);
# fvm config and vm.conf take the keys, checked as the others. Host tree unchanged.
. "$(dirname "$0")/../lib/harness.sh"

head -c 300000 /dev/urandom > "$HOST/big"
head -c 1000 /dev/urandom > "$HOST/small"
snapshot_host

run() { (cd "$HOST" && "$FVM_EXEC" "$@"); }
layer_bytes() { find "$FVM_HOME/vms/$1/upper" -type f ! -name '.wh.*' -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
layer_entries() { find "$FVM_HOME/vms/$1/upper" -mindepth 1 | wc -l; }
# PY: python itself, not a shim that forks and writes on its way.
PY=$(python3 -c 'import sys; print(sys.executable)')

# ---- disk-limit: a copy-up past it ------------------------------------------------
vm=cu
out=$(run -n $vm --disk-limit 200K -- sh -c 'echo x >> big 2>&1 || echo "refused: $?"; echo y >> small && echo small-ok' 2>&1)
grep -q "Disk quota exceeded" <<< "$out" && grep -q "refused" <<< "$out" && grep -q small-ok <<< "$out" &&
	ok "copy_up_past_disk_limit_fails_with_edquot ($(whoami_tag))" || not_ok copy_up_past_disk_limit_fails_with_edquot "$out"
cmp -s "$HOST/big" "$T/pristine/big" && [ ! -e "$FVM_HOME/vms/$vm/upper$HOST/big" ] &&
	[ -z "$(ls -A "$FVM_HOME/vms/$vm/work" 2>/dev/null)" ] && ok nothing_half_copied_stays ||
	not_ok nothing_half_copied_stays "$(find "$FVM_HOME/vms/$vm" -path '*big*')" "$(ls -A "$FVM_HOME/vms/$vm/work")"
n=$(layer_bytes $vm)
[ "$n" -le 204800 ] && [ "$n" -ge 1001 ] && ok "layer_within_disk_limit_after_copy_up ($n bytes)" ||
	not_ok layer_within_disk_limit_after_copy_up "$n"

# ---- disk-limit: writes past it ---------------------------------------------------
vm=wr
out=$(run -n $vm --disk-limit 100K -- sh -c '
	dd if=/dev/zero of=a bs=10000 count=20 2>&1 | grep -o "Disk quota exceeded" | head -1
	'"$PY"' -c "
import os, errno
f = os.open(\"b\", os.O_WRONLY | os.O_CREAT, 0o644)
try:
    os.write(f, b\"x\" * 50000)
    print(\"wrote-past\")
except OSError as e:
    print(\"write:\", errno.errorcode[e.errno])
try:
    os.ftruncate(f, 1 << 20)
    print(\"grew-past\")
except OSError as e:
    print(\"ftruncate:\", errno.errorcode[e.errno])
os.ftruncate(f, 0)
os.unlink(\"a\")
os.write(f, b\"y\" * 50000)
print(\"room-again\")
"' 2>&1)
grep -q "Disk quota exceeded" <<< "$out" && ok "write_past_disk_limit_fails_with_edquot (dd)" ||
	not_ok write_past_disk_limit_fails_with_edquot "$out"
grep -q "write: EDQUOT" <<< "$out" && grep -q "ftruncate: EDQUOT" <<< "$out" && ! grep -q "past" <<< "$out" &&
	ok write_and_ftruncate_refused_whole || not_ok write_and_ftruncate_refused_whole "$out"
grep -q room-again <<< "$out" && ok truncate_and_unlink_give_the_room_back || not_ok truncate_and_unlink_give_the_room_back "$out"
n=$(layer_bytes $vm)
[ "$n" -le 102400 ] && ok "layer_within_disk_limit_after_writes ($n bytes)" || not_ok layer_within_disk_limit_after_writes "$n"

# stdio's buffered writes (here head's) pass no libfvm wrapper: the supervisor counts
# them (quotaguard.c; t_disk_quota_unseen.sh), and RLIMIT_FSIZE, which disk-limit sets
# unless fsize is given, bounds each file besides.
vm=stdio
out=$(run -n $vm --disk-limit 100K -- sh -c 'head -c 300000 /dev/zero > c; echo "rc=$?"' 2>&1)
n=$(layer_bytes $vm)
[ "$n" -le 102400 ] && ok "stdio_write_bounded_by_fsize ($n bytes; $(tail -1 <<< "$out"))" ||
	not_ok stdio_write_bounded_by_fsize "$n" "$out"

# ---- the count is recounted at the run's start ------------------------------------
vm=wr
"$FVM" reset $vm > /dev/null 2>&1
out=$(run -n $vm --disk-limit 100K -- sh -c 'dd if=/dev/zero of=a bs=10000 count=9 2>&1 | tail -1 | grep -q copied && echo fits' 2>&1)
grep -q fits <<< "$out" && ok usage_recounted_after_reset || not_ok usage_recounted_after_reset "$out"
# A layer filled in a run without the limit counts in the next run that has one.
vm=later
run -n $vm -- sh -c 'head -c 90000 /dev/zero > f' > /dev/null 2>&1
out=$(run -n $vm --disk-limit 100K -- sh -c 'dd if=/dev/zero of=g bs=20000 count=1 2>&1 | grep -o "Disk quota exceeded"' 2>&1)
grep -q "Disk quota exceeded" <<< "$out" && ok layer_made_before_the_limit_counts || not_ok layer_made_before_the_limit_counts "$out"

# A file saved by writing a temporary and renaming it over the old one (editors, sed -i,
# package managers) frees the old one's room each time.
vm=rename
out=$(run -n $vm --disk-limit 100K -- sh -c '
	for i in $(seq 20); do dd if=/dev/zero of=t bs=40000 count=1 2>/dev/null && mv t f || echo "failed $i"; done' 2>&1)
[ -z "$out" ] && [ "$(layer_bytes $vm)" = 40000 ] && ok rename_over_a_file_frees_its_room || not_ok rename_over_a_file_frees_its_room "$out"

# ---- concurrent writers ------------------------------------------------------------
vm=conc
out=$(run -n $vm --disk-limit 1M -- sh -c '
	for i in 1 2 3 4; do dd if=/dev/zero of=f$i bs=4096 count=100 2>/dev/null & done; wait' 2>&1)
n=$(layer_bytes $vm)
[ "$n" -le 1048576 ] && [ "$n" -ge 1000000 ] && ok "concurrent_writers_stay_within_disk_limit ($n bytes)" ||
	not_ok concurrent_writers_stay_within_disk_limit "$n" "$out"

# ---- files-limit -----------------------------------------------------------------
vm=files
out=$(run -n $vm --files-limit 6 -- sh -c '
	for i in 1 2 3 4 5 6 7 8; do touch f$i 2>/dev/null || echo "refused f$i"; done
	mkdir d 2>&1 | grep -o "Disk quota exceeded"
	echo z >> small 2>&1 | grep -o "Disk quota exceeded"
	rm f1 && touch again && echo again-ok' 2>&1)
n=$(layer_entries $vm)
grep -q "refused f" <<< "$out" && [ "$n" -le 6 ] && ok "files_limit_refuses_creation ($n entries)" ||
	not_ok files_limit_refuses_creation "$n" "$out" "$(find "$FVM_HOME/vms/$vm/upper")"
grep -q "Disk quota exceeded" <<< "$out" && ok files_limit_refuses_mkdir_and_copy_up || not_ok files_limit_refuses_mkdir_and_copy_up "$out"
grep -q again-ok <<< "$out" && ok removal_frees_an_entry || not_ok removal_frees_an_entry "$out"

# ---- configuration -----------------------------------------------------------------
"$FVM" config files disk-limit=2M files-limit=1000 > /dev/null 2>&1
grep -q "^disk-limit = 2M$" "$FVM_HOME/ctl/files/vm.conf" && grep -q "^files-limit = 1000$" "$FVM_HOME/ctl/files/vm.conf" &&
	ok fvm_config_sets_the_limits || not_ok fvm_config_sets_the_limits "$(grep limit "$FVM_HOME/ctl/files/vm.conf")"
err=$("$FVM" config files disk-limit=lots 2>&1); rc=$?
[ $rc = 2 ] && grep -q "not a size" <<< "$err" && ok bad_disk_limit_refused || not_ok bad_disk_limit_refused "exit $rc" "$err"
err=$(run -n files --files-limit -3 -- true 2>&1); rc=$?
[ $rc = 125 ] && ok bad_files_limit_refused || not_ok bad_files_limit_refused "exit $rc" "$err"

host_unchanged > "$T/d" && ok host_unchanged || not_ok host_unchanged "$(cat "$T/d")"
done_testing
