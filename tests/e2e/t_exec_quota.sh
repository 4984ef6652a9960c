#!/usr/bin/env bash
# fvm-exec's quotas and supervision, each observed from inside the VM: --cpu (SIGXCPU),
# --memory, --fsize (EFBIG), --nofile, --nice, --cpus, --copy-limit (EFBIG on copy-up),
# --timeout ending a tree of three generations with a setsid() daemon that ignores
# SIGTERM, a stop signal to fvm-exec ending the whole VM, --memory-total/--pids-total
# (cgroup or a clear refusal), --ephemeral. Host tree unchanged throughout.
. "$(dirname "$0")/../lib/harness.sh"

H=$TOP/build/tests/helpers/try-syscall
echo data > "$HOST/existing"
head -c 8192 /dev/zero > "$HOST/big"
snapshot_host

run() { (cd "$HOST" && "$FVM_EXEC" -n q "$@" 2>&1); }
check() { # NAME WANT GOT
	[ "$2" = "$3" ] && ok "$1" || not_ok "$1" "want: $2" "got: $3"
}

run --cpu 1 -- "$H" cpu > /dev/null; check cpu_1_dies_of_sigxcpu 152 $?
check memory_caps_allocation "alloc: ENOMEM" "$(run --memory 200M -- "$H" alloc 400)"
check memory_allows_smaller_allocation "alloc: ok" "$(run --memory 200M -- "$H" alloc 20)"
check fsize_gives_efbig "fsize: EFBIG" "$(run --fsize 4K -- "$H" fsize "$HOST/out" 100000)"
# 16 descriptors in all: stdio and libfvm's own take a few.
out=$(run --nofile 16 -- "$H" openfiles 100); n=${out##* }
case $out in "openfiles: EMFILE after "*) [ "$n" -ge 8 ] && [ "$n" -le 13 ] ;; *) false ;; esac &&
	ok "nofile_16_caps_open_files ($n opened)" || not_ok nofile_16_caps_open_files "$out"
check nice_10_shows_in_proc 10 "$(run --nice 10 -- sh -c 'cut -d" " -f19 /proc/self/stat')"
check cpus_0_shows_in_affinity 0 "$(run --cpus 0 -- sh -c 'sed -n "s/^Cpus_allowed_list:\t//p" /proc/self/status')"
check copy_limit_refuses_big_copy_up "EFBIG" "$(run --copy-limit 4K -- python3 -c '
import errno
try:
    open("big", "a").write("x")
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])')"
check copy_limit_allows_small_copy_up "data
more" "$(run --copy-limit 4K -- sh -c 'echo more >> existing; cat existing')"
run --memory 1Q -- true > "$T/out"; check bad_size_is_125 125 $?
# Above the hard limit, and above any limit the kernel allows (fs.nr_open): refused for
# root as well.
run --nofile 99999999999 -- true > "$T/out"; check nofile_above_hard_limit_is_125 125 $?

# --timeout: three generations, one a setsid() daemon that ignores SIGTERM.
tag=$((RANDOM + 40000))
start=$(date +%s%N)
run --timeout 2s --kill-after 1s -- sh -c "
	sh -c 'setsid sh -c \"trap \\\"\\\" TERM; sleep $tag & wait; sleep $tag\" & sleep $tag' &
	sleep $tag" > /dev/null
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
left=$(pgrep -f "sleep $tag" | wc -l)
check timeout_exits_124 124 $rc
[ $ms -lt 4500 ] && ok "timeout_ends_within_grace (${ms} ms)" || not_ok timeout_ends_within_grace "${ms} ms"
check timeout_leaves_no_process_of_the_tree 0 "$left"
pkill -f "sleep $tag" 2>/dev/null

# A stop signal to fvm-exec ends every process of the VM, daemon included.
tag=$((tag + 1))
(cd "$HOST" && exec "$FVM_EXEC" -n q --kill-after 1s -- sh -c "setsid sh -c 'trap \"\" TERM; sleep $tag' & sleep $tag") &
fx=$!
for _ in $(seq 50); do [ "$(pgrep -f "sleep $tag" | wc -l)" -ge 2 ] && break; sleep 0.1; done
kill -TERM $fx; wait $fx; rc=$?
check sigterm_to_fvm_exec_gives_143 143 $rc
check sigterm_to_fvm_exec_ends_the_whole_vm 0 "$(pgrep -f "sleep $tag" | wc -l)"
pkill -f "sleep $tag" 2>/dev/null

# VM-wide limits: applied through a cgroup, or refused under --enforce require.
out=$(run -v --pids-total 20 -- true 2>&1)
if grep -q "no writable cgroup" <<< "$out"; then
	run --enforce require --pids-total 20 -- true > "$T/out"
	check pids_total_without_cgroup_is_125_under_require 125 $?
	grep -q -- "--pids-total: no writable cgroup with the pids controller" "$T/out" &&
		ok pids_total_without_cgroup_says_why || not_ok pids_total_without_cgroup_says_why "$(cat "$T/out")"
else
	# Seen from inside: the VM's own cgroups carry the limits.
	got=$(run --pids-total 20 --memory-total 64M -- sh -c '
		while IFS=: read -r _ ctl path; do
			case $ctl in
			pids) cat /sys/fs/cgroup/pids$path/pids.max ;;
			memory) cat /sys/fs/cgroup/memory$path/memory.limit_in_bytes ;;
			"") cat /sys/fs/cgroup/unified$path/pids.max /sys/fs/cgroup/unified$path/memory.max /sys/fs/cgroup$path/pids.max /sys/fs/cgroup$path/memory.max ;;
			esac 2>/dev/null
		done < /proc/self/cgroup' | sort -u | tr '\n' ' ')
	check vm_cgroup_carries_pids_and_memory_limits "20 67108864 " "$got"
	n=$(run --pids-total 20 -- python3 -c '
import os, time
n = 0
for i in range(40):
    try:
        if os.fork() == 0:
            time.sleep(1); os._exit(0)
        n += 1
    except OSError:
        break
print(n)
while True:
    try: os.wait()
    except ChildProcessError: break')
	[ "$n" -lt 20 ] && ok "pids_total_caps_the_vm ($n forks)" || not_ok pids_total_caps_the_vm "$n forks"
	run --memory-total 64M -- "$H" alloc 300 > "$T/out"; rc=$?
	if [ $rc = 137 ]; then
		ok memory_total_kills_the_vm_beyond_it
	elif [ $rc = 0 ]; then
		# Not killed: a skip only if the kernel is seen not to charge the VM's cgroup
		# for 32 MiB the VM touches (its peak usage stays below them).
		peak=$(run --memory-total 64M -- sh -c "'$H' alloc 32 >/dev/null
			while IFS=: read -r _ ctl path; do
				case \$ctl in
				memory) cat /sys/fs/cgroup/memory\$path/memory.max_usage_in_bytes ;;
				'') cat /sys/fs/cgroup/unified\$path/memory.peak /sys/fs/cgroup\$path/memory.peak ;;
				esac 2>/dev/null
			done < /proc/self/cgroup" | sort -n | tail -1)
		if [ -n "$peak" ] && [ "$peak" -lt $((32 << 20)) ]; then
			skip memory_total_kills_the_vm_beyond_it "the kernel does not charge the VM's cgroup: peak $peak bytes after 32 MiB touched"
		else
			not_ok memory_total_kills_the_vm_beyond_it "300 MiB allocated under --memory-total 64M, not killed;" \
				"the cgroup's peak after 32 MiB: ${peak:-unreadable}" "$(cat "$T/out")"
		fi
	else
		not_ok memory_total_kills_the_vm_beyond_it "exit $rc" "$(cat "$T/out")"
	fi
fi

# --ephemeral: removed after the run, or kept and named.
before=$(ls "$FVM_HOME/vms" | sort)
run --ephemeral -- sh -c 'echo x > f' > /dev/null
check ephemeral_vm_is_removed "$before" "$(ls "$FVM_HOME/vms" | sort)"
name=$( (cd "$HOST" && "$FVM_EXEC" --ephemeral --keep -- sh -c 'echo x > f') 2>&1 | sed -n 's/^fvm-exec: kept ephemeral VM //p')
[ -n "$name" ] && [ -f "$FVM_HOME/vms/$name/upper$HOST/f" ] && ok ephemeral_keep_prints_name_and_keeps ||
	not_ok ephemeral_keep_prints_name_and_keeps "name: $name"
host_unchanged > "$T/why" && ok host_tree_unchanged_after_all_runs || not_ok host_tree_unchanged_after_all_runs "$(cat "$T/why")"
done_testing
