#!/usr/bin/env bash
# What a run's start keeps or skips (issue 15), and that nothing skipped weakens it:
#  - the compiled seccomp filter is cached in the store's cache/, keyed by all that
#    decides it: a run with another network policy gets its own filter (and behaves by
#    it), a cached filter equals a fresh compilation byte for byte, a file whose key is
#    not the one wanted (planted, stale, truncated) is never loaded, and a VM cannot
#    write the cache;
#  - the command starts inside the run's cgroup (forked into it, root) and nothing of
#    the VM runs outside it;
#  - libfvm's large zero-filled tables lie in .lbss, apart from the small variables
#    its start touches (a page fault each per exec otherwise).
# Host tree unchanged after every VM run.
. "$(dirname "$0")/../lib/harness.sh"

echo data > "$HOST/existing"
snapshot_host
C=$FVM_HOME/cache

"$FVM_EXEC" -n a -- true
n=$(ls "$C" 2>/dev/null | grep -c '^bpf-')
[ "$n" -ge 1 ] && ok "filter_cached_after_first_run ($n files)" || not_ok filter_cached_after_first_run "$(ls -la "$C" 2>&1)"
ls -l --time-style=+%s.%N "$C" > "$T/cache1"
"$FVM_EXEC" -n a -- true
"$FVM_EXEC" -n b -- true
ls -l --time-style=+%s.%N "$C" > "$T/cache2"
diff -u "$T/cache1" "$T/cache2" > "$T/d" && ok filter_cache_reused_by_later_runs_and_vms ||
	not_ok filter_cache_reused_by_later_runs_and_vms "$(cat "$T/d")"

# A cached filter is byte for byte what a compilation gives.
mkdir -p "$T/saved"
cp -a "$C"/bpf-* "$T/saved/"
rm -f "$C"/bpf-*
"$FVM_EXEC" -n a -- true
diff -r "$T/saved" "$C" > "$T/d" && ok cached_filter_equals_a_fresh_compilation ||
	not_ok cached_filter_equals_a_fresh_compilation "$(cat "$T/d")"

# Another network policy: another key, another filter, and the run behaves by it.
have_py=$(command -v python3 || true)
"$FVM_EXEC" -n a --net none -- true
m=$(ls "$C" | grep -c '^bpf-')
[ "$m" -gt "$n" ] && ok other_policy_other_filter || not_ok other_policy_other_filter "$n files before, $m after"
if [ -n "$have_py" ]; then
	sock='import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM); print("inet")
except OSError as e: print("refused", e.errno)'
	for round in 1 2; do # the second round loads both filters from the cache
		none=$("$FVM_EXEC" -n a --net none -- python3 -c "$sock" 2>&1)
		all=$("$FVM_EXEC" -n a --net all -- python3 -c "$sock" 2>&1)
		[[ "$none" == refused* ]] && [ "$all" = inet ] && ok "cached_filters_keep_their_policy_round_$round" ||
			not_ok "cached_filters_keep_their_policy_round_$round" "none: $none" "all: $all"
	done
else
	skip cached_filters_keep_their_policy "no python3"
fi

# A file under the right name with another key, or truncated, is not loaded: the run
# compiles its filter (and the fence holds) and rewrites the file.
for f in "$C"/bpf-*; do
	cp "$f" "$T/orig"
	# flip one byte of the key (offset 20: the build id)
	printf '\xff' | dd of="$f" bs=1 seek=20 conv=notrunc status=none
	out=$("$FVM_EXEC" -n a -- true 2>&1); rc=$?
	"$FVM_EXEC" -n a --net none -- true
	cmp -s "$f" "$T/orig" || { bad_key="$f"; break; }
	head -c 100 "$T/orig" > "$f"
	"$FVM_EXEC" -n a -- true
	"$FVM_EXEC" -n a --net none -- true
	cmp -s "$f" "$T/orig" || { bad_key="$f (truncated)"; break; }
done
[ -z "${bad_key:-}" ] && [ "$rc" = 0 ] && ok foreign_or_short_cache_file_ignored_and_rewritten ||
	not_ok foreign_or_short_cache_file_ignored_and_rewritten "${bad_key:-} rc=$rc" "$out"
if [ -n "$have_py" ]; then
	# The attack on a cache: --net all's filter (inet open) put under the names of --net
	# none's. The name is right, the key inside is not the one wanted: not loaded.
	rm -f "$C"/bpf-*
	"$FVM_EXEC" -n a --net all -- true
	ls "$C" > "$T/all-names"
	"$FVM_EXEC" -n a --net none -- true
	allf=$C/$(head -1 "$T/all-names")
	planted=0
	for f in "$C"/bpf-*; do
		grep -qx "$(basename "$f")" "$T/all-names" && continue
		cp "$allf" "$f"
		planted=$((planted + 1))
	done
	out=$("$FVM_EXEC" -n a --net none -- python3 -c "$sock" 2>&1)
	[ "$planted" -ge 1 ] && [[ "$out" == refused* ]] && ok planted_filter_of_another_policy_not_loaded ||
		not_ok planted_filter_of_another_policy_not_loaded "planted $planted" "$out"
fi

# A process of the VM cannot write the cache (hidden, outside its Landlock domain).
out=$("$FVM_EXEC" -n a -- sh -c "echo x > '$C/bpf-planted' && echo wrote; ls '$C' 2>&1 | head -1" 2>&1)
[ ! -e "$C/bpf-planted" ] && [[ "$out" != *wrote* ]] && ok vm_cannot_write_the_filter_cache ||
	not_ok vm_cannot_write_the_filter_cache "$out"

# The command starts in the run's cgroup where the run has one (root), and its
# children too: nothing of the VM runs outside it.
if [ "$(id -u)" = 0 ]; then
	got=$("$FVM_EXEC" -n a -- sh -c 'grep "^0::" /proc/self/cgroup; sh -c "grep ^0:: /proc/self/cgroup"')
	own=$(grep '^0::' /proc/self/cgroup)
	if [ "$(printf '%s\n' "$got" | grep -c '/fvm-a\.[0-9]*$')" = 2 ]; then
		ok command_and_child_born_in_the_runs_cgroup
	elif [ "$got" = "$(printf '%s\n%s' "$own" "$own")" ]; then
		skip command_and_child_born_in_the_runs_cgroup "no writable cgroup v2 here ($own)"
	else
		not_ok command_and_child_born_in_the_runs_cgroup "$got"
	fi
	stats=$("$FVM_EXEC" -n a --stats -- sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done' 2>&1 | tail -1)
	[[ "$stats" == *"(cgroup)"* ]] || [[ "$own" != "0::/"* ]] && ok cpu_accounted_by_the_cgroup ||
		not_ok cpu_accounted_by_the_cgroup "$stats"
else
	skip command_and_child_born_in_the_runs_cgroup "root only (a user has no writable cgroup here)"
fi

# The exec wrapper keeps, per generation, that the VM has none of the loader's top
# directories (/etc, /usr, /lib, /lib64) in upper/ (loader.c, tops_host_only): a vfork
# shell's next exec asks upper/ nothing. A change there between two execs of the same
# shell is seen by the second: the loader module comes (libfvm-audit.so in its maps).
# Root only: a user cannot write /etc, natively as in the VM.
if [ "$(id -u)" = 0 ] && command -v dash > /dev/null; then
	got=$("$FVM_EXEC" -n memo -- dash -c 'grep -c libfvm-audit /proc/self/maps
cp /etc/ld.so.cache /tmp/lc && cp /tmp/lc /etc/ld.so.cache; grep -c libfvm-audit /proc/self/maps
rm /etc/ld.so.cache; grep -c libfvm-audit /proc/self/maps' 2>&1)
	[ "$(printf '%s\n' "$got" | head -1)" = 0 ] && [ "$(printf '%s\n' "$got" | sed -n 2p)" != 0 ] &&
		[ "$(printf '%s\n' "$got" | sed -n 3p)" != 0 ] && ok loader_dirs_memo_sees_a_change_between_two_execs ||
		not_ok loader_dirs_memo_sees_a_change_between_two_execs "$got"
else
	skip loader_dirs_memo_sees_a_change_between_two_execs "root only, with dash (a vfork shell)"
fi

# The exec wrapper keeps what it read of the last host program it ran, by the file's
# identity (exec.c, prog_memo): a program the host rewrites in place (same inode)
# between two execs of one vfork shell is read again. Here an ELF program becomes a
# script whose interpreter only the VM has: a stale memo would hand the "#!" line to
# the kernel, which finds no such interpreter on the host.
if command -v dash > /dev/null; then
	cp /bin/true "$T/prog"
	rm -f "$T/go"
	mkfifo "$T/go"
	"$FVM_EXEC" -n memo -- dash -c 'cp /bin/sh "$1/vmsh"; "$1/prog" && echo elf; read x < "$1/go"; "$1/prog"' \
		sh "$T" > "$T/memo.out" 2>&1 &
	vm=$!
	exec 3> "$T/go" # once the shell waits for it: the first run is over
	printf '#!%s/vmsh\necho script\n' "$T" > "$T/prog.new"
	cat "$T/prog.new" > "$T/prog" # in place: the same inode
	echo go >&3
	exec 3>&-
	wait "$vm"
	got=$(cat "$T/memo.out")
	[ "$got" = "$(printf 'elf\nscript')" ] && ok program_memo_sees_a_program_rewritten_in_place ||
		not_ok program_memo_sees_a_program_rewritten_in_place "$got"
	[ ! -e "$T/vmsh" ] || not_ok program_memo_test_wrote_the_host "$T/vmsh"
else
	skip program_memo_sees_a_program_rewritten_in_place "no dash (a vfork shell)"
fi

# libfvm's small variables share a page or two: the large tables lie in .lbss after
# them (FVM_LARGE_BSS), else each small one the start touches costs a page fault at
# every exec. .bss under 32 KiB: fvm_g (16 KiB) and the small ones, with room to grow.
so=$(dirname "$FVM_EXEC")/../libfvm/libfvm.so
if [ "$(uname -m)" = x86_64 ] && command -v readelf > /dev/null && [ -f "$so" ]; then
	bss=$(readelf -SW "$so" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".bss" { print $5 }')
	lbss=$(readelf -SW "$so" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".lbss" { print $5 }')
	[ -n "$bss" ] && [ $((16#$bss)) -lt 32768 ] && [ -n "$lbss" ] && [ $((16#$lbss)) -gt 65536 ] &&
		ok libfvm_small_variables_apart_from_the_tables ||
		not_ok libfvm_small_variables_apart_from_the_tables ".bss ${bss:-?} bytes, .lbss ${lbss:-none}"
else
	skip libfvm_small_variables_apart_from_the_tables "x86_64 only, with readelf and $so"
fi

# What every start runs lies first in libfvm's text (libfvm/hot.list, the Makefile's
# HOT_LD): fvm_init, a constructor and DT_FINI (fvm_fini, not crt's _fini after the
# whole text) inside .text.fvm_hot, so that a start faults in one text window.
if [ "$(uname -m)" = x86_64 ] && command -v readelf > /dev/null && command -v nm > /dev/null && [ -f "$so" ]; then
	hot=$(readelf -SW "$so" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".text.fvm_hot" { print $3, $5 }')
	fini=$(readelf -dW "$so" | awk '$2 == "(FINI)" { print $3 }')
	in_hot() { # ADDR (hex, 0x optional): inside .text.fvm_hot?
		set -- $((16#${1#0x})) $hot
		[ -n "${2:-}" ] && [ "$1" -ge $((16#$2)) ] && [ "$1" -lt $((16#$2 + 16#$3)) ]
	}
	init=$(nm "$so" | awk '$3 == "fvm_init" { print $1 }')
	[ -n "$hot" ] && [ -n "$init" ] && in_hot "$init" && [ -n "$fini" ] && in_hot "$fini" &&
		ok libfvm_start_code_first_in_its_text ||
		not_ok libfvm_start_code_first_in_its_text "hot section: ${hot:-none}, fvm_init ${init:-?}, DT_FINI ${fini:-?}"
else
	skip libfvm_start_code_first_in_its_text "x86_64 only, with readelf, nm and $so"
fi

host_unchanged > "$T/why" && ok host_tree_unchanged_after_all_runs || not_ok host_tree_unchanged_after_all_runs "$(cat "$T/why")"
done_testing
