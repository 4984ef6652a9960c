#!/usr/bin/env bash
# The kernel fence of fvm-exec: programs libfvm cannot see (a static binary; raw
# syscall(2) from a dynamic one) cannot create, modify or delete host files, yet can on
# a shared path; a VM process cannot signal a host process (Landlock ABI >= 6); under
# --net none a TCP connect to a loopback server started natively fails with EACCES
# (Landlock's TCP rules, ABI >= 4; else seccomp at socket()), an --allow rule opens its
# port, other inet sockets are refused with EACCES at socket(); a static
# program is announced on stderr and in the VM's log. Host tree unchanged throughout.
# Truncation: Landlock does not handle TRUNCATE (it would cost every open a walk to the
# root), so seccomp refuses each way to truncate without a write open — truncate(2),
# read-only O_TRUNC opens, openat2, io_uring, the i386 calls (open_by_handle_at is refused
# whole, EPERM: t_fence_syscalls.sh) — while a dynamic program
# still truncates a host file in its VM (truncate -s 0, ": >", python's open 'w').
. "$(dirname "$0")/../lib/harness.sh"

HELPERS=$TOP/build/tests/helpers
DYN=$HELPERS/try-syscall STATIC=$HELPERS/try-syscall-static
TRUNC_DYN=$HELPERS/try-truncate TRUNC_STATIC=$HELPERS/try-truncate-static
abi=$(python3 -c 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(l.syscall(444, None, 0, 1))' 2>/dev/null || echo -1)
echo "# landlock ABI $abi, $(whoami_tag)"

echo original > "$HOST/existing"
echo 'keep me whole' > "$HOST/victim" # the test's user may write it natively
mkdir -p "$T/shared"
snapshot_host

if [ ! -x "$STATIC" ] || [ ! -x "$DYN" ] || [ ! -x "$TRUNC_STATIC" ] || [ ! -x "$TRUNC_DYN" ]; then
	skip fence_tests "helpers not built (make tests-bin)"
	done_testing; exit
fi
if [ "$abi" -lt 1 ]; then
	skip fence_tests "LANDLOCK IS NOT OFFERED BY THIS KERNEL: the fence cannot be tested"
	done_testing; exit
fi

# A static program's opens and unlinks are virtualized (virtguard.c; x86_64), in root
# runs too: its create, write open and unlink land in the VM's layer (the unlink as a
# whiteout), as a dynamic program's do.
VIRT=0
[ "$(uname -m)" = x86_64 ] && VIRT=1
for kind in static dynamic; do
	[ $kind = static ] && h=$STATIC || h=$DYN
	for op in "create $HOST/new" "write $HOST/existing" "unlink $HOST/existing"; do
		set -- $op
		out=$(cd "$HOST" && "$FVM_EXEC" -n f -- "$h" $op 2>/dev/null)
		if [ $kind = static ] && [ $VIRT = 1 ]; then
			if [ "$out" = "$1: ok" ] && host_unchanged > "$T/why"; then
				ok "static_helper_$1_of_a_host_file_lands_in_the_vm"
			else
				not_ok "static_helper_$1_of_a_host_file_lands_in_the_vm" "output: $out" "$(cat "$T/why")"
			fi
			continue
		fi
		# Root runs see the host read-only first (t_fence_root.sh): EROFS.
		if { [ "$out" = "$1: EACCES" ] || { [ "$(id -u)" = 0 ] && [ "$out" = "$1: EROFS" ]; }; } &&
			host_unchanged > "$T/why"; then
			ok "${kind}_helper_cannot_$1_a_host_file"
		else
			not_ok "${kind}_helper_cannot_$1_a_host_file" "output: $out" "$(cat "$T/why")"
		fi
	done
	out=$("$FVM_EXEC" -n f --share "$T/shared" -- sh -c "'$h' create '$T/shared/$kind' && '$h' write '$T/shared/$kind' && '$h' unlink '$T/shared/$kind' && '$h' create '$T/shared/$kind.kept'" 2>/dev/null)
	if [ "$out" = "create: ok
write: ok
unlink: ok
create: ok" ] && [ -e "$T/shared/$kind.kept" ]; then
		ok "${kind}_helper_writes_a_shared_path"
	else
		not_ok "${kind}_helper_writes_a_shared_path" "$out"
	fi
done

# Truncation without a write open. Each way is first shown to truncate a scratch file
# natively, so that the refusal in the VM is the fence's and the test can fail.
trunc_ops="truncate:EACCES open-rdonly-trunc:EACCES openat-rdonly-trunc:EACCES
	openat-accmode3-trunc:EACCES handle-rdonly-trunc:EPERM openat2-rdonly-trunc:ENOSYS
	i386-truncate:EACCES i386-truncate64:EACCES i386-open-rdonly-trunc:EACCES
	i386-openat-rdonly-trunc:EACCES"
for kind in static dynamic; do
	[ $kind = static ] && h=$TRUNC_STATIC || h=$TRUNC_DYN
	for pair in $trunc_ops; do
		op=${pair%:*} want=${pair#*:}
		name="${kind}_$(echo "$op" | tr - _)_of_a_writable_host_file_fails_with_$want"
		echo data > "$T/scratch"
		native=$("$h" "$op" "$T/scratch" 2>&1)
		if [ "$native" = "$op: EPERM" ] && [ "$op" = handle-rdonly-trunc ] && [ "$(id -u)" != 0 ]; then
			# open_by_handle_at needs CAP_DAC_READ_SEARCH, which the user lacks: natively
			# EPERM, so an EACCES in the VM can only be the filter's, refusing it first.
			name="${kind}_handle_rdonly_trunc_is_refused_by_the_filter_before_the_capability_check"
		elif [ "$native" = "name_to_handle_at: EOPNOTSUPP" ]; then
			skip "$name" "the file system of $T gives no file handles ($native)"
			continue
		elif [ "$native" != "$op: ok" ] || [ -s "$T/scratch" ]; then
			not_ok "$name" "natively this does not truncate a file the user may write ($native):" \
				"a refusal in the VM would not be the fence's"
			continue
		fi
		case $kind:$VIRT:$op in
		static:1:open-rdonly-trunc | static:1:openat-rdonly-trunc | static:1:openat-accmode3-trunc | \
			static:1:truncate)
			# virtualized: the VM's copy is truncated, the host file kept whole
			want=ok name="static_$(echo "$op" | tr - _)_of_a_host_file_truncates_the_vms_copy_only" ;;
		esac
		out=$(cd "$HOST" && "$FVM_EXEC" -n f -- "$h" "$op" "$HOST/victim" 2>/dev/null)
		if [ "$out" = "$op: $want" ] && [ "$(cat "$HOST/victim")" = "keep me whole" ] &&
			host_unchanged > "$T/why"; then
			ok "$name"
		else
			not_ok "$name" "output: $out" "victim: $(wc -c < "$HOST/victim") bytes" "$(cat "$T/why")"
			echo 'keep me whole' > "$HOST/victim" # each way on its own merits
		fi
	done
	# Through /proc/self/fd/N, a magic link to a host file open for reading: a static
	# program's call is notified (virtguard.c), and a call it continued would skip the
	# filter's truncation rows (this truncated the host file before truncates()).
	for op in truncate open-rdonly-trunc openat-rdonly-trunc openat-accmode3-trunc; do
		name="${kind}_$(echo "$op" | tr - _)_through_proc_self_fd_is_refused"
		out=$(cd "$HOST" && "$FVM_EXEC" -n f -- sh -c "exec 3< victim; '$h' $op /proc/self/fd/3" 2>/dev/null)
		if [ "$out" = "$op: EACCES" ] && [ "$(cat "$HOST/victim")" = "keep me whole" ] &&
			host_unchanged > "$T/why"; then
			ok "$name"
		else
			not_ok "$name" "output: $out" "victim: $(wc -c < "$HOST/victim") bytes" "$(cat "$T/why")"
			echo 'keep me whole' > "$HOST/victim"
		fi
	done
	for net in all none; do
		out=$("$FVM_EXEC" -n f --net $net -- "$h" io-uring-setup 2>/dev/null)
		[ "$out" = "io-uring-setup: ENOSYS" ] && ok "${kind}_io_uring_setup_is_enosys_with_net_$net" ||
			not_ok "${kind}_io_uring_setup_is_enosys_with_net_$net" "$out"
	done
done
# The fence must not cost a program what libfvm does with a write open.
PY=$(command -v python3)
vm_check_ok truncate_s_0_of_a_host_file_works_in_the_vm 'truncate -s 0 victim; wc -c < victim'
vm_check_ok redirection_truncates_a_host_file_in_the_vm ': > victim; wc -c < victim'
vm_check_ok python_open_w_truncates_a_host_file_in_the_vm "$PY -c \"open('victim', 'w').write('new')\"; cat victim"
vm_check_ok python_os_truncate_shortens_a_host_file_in_the_vm "$PY -c \"import os; os.truncate('victim', 4)\"; cat victim"
# A read-only O_TRUNC open truncates on Linux; libfvm does it with a write open first.
vm_check_ok python_rdonly_trunc_open_truncates_in_the_vm_as_natively \
	"$PY -c \"import os; fd = os.open('victim', os.O_RDONLY | os.O_TRUNC); print(os.read(fd, 9), os.fstat(fd).st_size)\"; wc -c < victim"
vm_check_ok python_rdonly_trunc_open_of_a_directory_is_eisdir \
	"mkdir -p adir; $PY -c \"import os
try: os.open('adir', os.O_RDONLY | os.O_TRUNC)
except OSError as e: print(e.strerror)\""
out=$("$FVM_EXEC" -n f -v -- true 2>&1)
case $out in
*"truncate: seccomp refuses truncate(2) and read-only O_TRUNC opens"*"Landlock does not handle TRUNCATE"*)
	ok verbose_says_how_truncation_is_fenced ;;
*) not_ok verbose_says_how_truncation_is_fenced "$out" ;;
esac

# The supervisor virtualizes a static program (virtguard.c), in root runs too: no
# warning, as natively. Announced where it is not (--enforce off): on stderr and in the
# VM's log (the program creates a scratch file, outside the host tree checked).
err=$("$FVM_EXEC" -n f -- "$STATIC" create "$HOST/new" 2>&1 >/dev/null)
[[ $err != *"statically linked"* ]] && ok "virtualized_static_program_is_not_announced ($(whoami_tag))" ||
	not_ok "virtualized_static_program_is_not_announced ($(whoami_tag))" "stderr: $err"
err=$("$FVM_EXEC" -n f --enforce off -- "$STATIC" create "$T/off-scratch" 2>&1 >/dev/null)
case $err in
*"is statically linked"*)
	grep -q "try-syscall-static is statically linked" "$FVM_HOME/vms/f/log" &&
		ok static_program_is_announced_on_stderr_and_in_log ||
		not_ok static_program_is_announced_on_stderr_and_in_log "log: $(cat "$FVM_HOME/vms/f/log" 2>&1)" ;;
*) not_ok static_program_is_announced_on_stderr_and_in_log "stderr: $err" ;;
esac
# A static-PIE program (Debian's ldconfig) runs through fvm-pieload, which maps it where
# the supervisor sees its calls: virtualized, not announced (t_virt_pie.sh). An i386 one:
# its ABI is another, so the supervisor cannot tell its calls from libraries': only
# fenced, and announced.
if file -L /sbin/ldconfig 2>/dev/null | grep -q 'static-pie'; then
	err=$("$FVM_EXEC" -n f -- /sbin/ldconfig -p 2>&1 >/dev/null)
	[[ $err != *"statically linked"* ]] &&
		ok "static_pie_program_is_not_announced ($(whoami_tag))" ||
		not_ok "static_pie_program_is_not_announced ($(whoami_tag))" "stderr: $err"
	err=$("$FVM_EXEC" -n f --enforce off -- /sbin/ldconfig -p 2>&1 >/dev/null)
	[[ $err == *"ldconfig is statically linked and this run has no supervisor"*"only fenced"* ]] &&
		ok static_pie_program_without_supervisor_is_announced ||
		not_ok static_pie_program_without_supervisor_is_announced "stderr: $err"
else
	skip static_pie_program_is_not_announced "/sbin/ldconfig is not static-PIE here"
fi
if [ -x "$HELPERS/try-syscall-i386" ]; then
	err=$("$FVM_EXEC" -n f -- "$HELPERS/try-syscall-i386" create "$T/i386-scratch" 2>&1 >/dev/null)
	[[ $err == *"try-syscall-i386 is statically linked (32-bit"*"only fenced"* ]] &&
		ok i386_static_program_is_announced || not_ok i386_static_program_is_announced "stderr: $err"
else
	skip i386_static_program_is_announced "the i386 helper is not built (gcc-multilib)"
fi
err=$("$FVM_EXEC" -n f -- "$DYN" create "$FVM_HOME/vms/f/upper/x" 2>&1 >/dev/null)
[ -z "$err" ] && ok dynamic_program_is_not_announced || not_ok dynamic_program_is_not_announced "$err"

# Signals stay inside the VM.
sleep 60 & victim=$!
if [ "$abi" -ge 6 ]; then
	out=$("$FVM_EXEC" -n f -- "$DYN" kill $victim)
	[ "$out" = "kill: EPERM" ] && kill -0 $victim && ok vm_cannot_signal_a_host_process ||
		not_ok vm_cannot_signal_a_host_process "$out"
	out=$("$FVM_EXEC" -n f -- sh -c "sleep 30 & '$DYN' kill \$!; kill \$!")
	[ "$out" = "kill: ok" ] && ok vm_can_signal_its_own_processes || not_ok vm_can_signal_its_own_processes "$out"
else
	skip vm_cannot_signal_a_host_process "Landlock ABI $abi < 6: signals are not scoped"
	skip vm_can_signal_its_own_processes "Landlock ABI $abi < 6"
fi
kill $victim; wait $victim 2>/dev/null

# Network: a server started natively on loopback.
port_file=$T/port
python3 - "$port_file" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(20)
try:
    while True:
        c, _ = s.accept(); c.close()
except Exception:
    pass
PY
server=$!
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file" 2>/dev/null)
if [ -z "$port" ]; then
	skip net_tests "could not start a loopback server"
else
	out=$("$FVM_EXEC" -n f --net all -- "$STATIC" connect 127.0.0.1 "$port" 2>/dev/null)
	[ "$out" = "connect: ok" ] && ok net_all_static_connect_to_loopback_works || not_ok net_all_static_connect_to_loopback_works "$out"
	for kind in static dynamic; do
		[ $kind = static ] && h=$STATIC || h=$DYN
		out=$("$FVM_EXEC" -n f --net none -- "$h" connect 127.0.0.1 "$port" 2>/dev/null)
		[ "$out" = "connect: EACCES" ] && ok "net_none_${kind}_tcp_connect_to_loopback_fails_with_eacces" ||
			not_ok "net_none_${kind}_tcp_connect_to_loopback_fails_with_eacces" "$out"
	done
	out=$("$FVM_EXEC" -n f --net none --allow "127.0.0.1:$port" -- "$STATIC" connect 127.0.0.1 "$port" 2>/dev/null)
	[ "$out" = "connect: ok" ] && ok net_none_allow_rule_opens_its_port_to_a_static_program ||
		not_ok net_none_allow_rule_opens_its_port_to_a_static_program "$out"
	out=$("$FVM_EXEC" -n f --net none --allow "127.0.0.1:$((port == 65535 ? 1 : port + 1))" -- "$STATIC" connect 127.0.0.1 "$port" 2>/dev/null)
	[ "$out" = "connect: EACCES" ] && ok net_none_allow_rule_for_another_port_keeps_a_static_program_out ||
		not_ok net_none_allow_rule_for_another_port_keeps_a_static_program_out "$out"
	# libfvm does not wrap socket(2): this is the filter's answer, before any address.
	out=$("$FVM_EXEC" -n f --net none -- python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)' 2>&1 | tail -1)
	case $out in *"Permission denied"*) ok net_none_refuses_udp_sockets_with_eacces ;; *) not_ok net_none_refuses_udp_sockets_with_eacces "$out" ;; esac
	out=$("$FVM_EXEC" -n f --net loopback -- "$STATIC" connect 127.0.0.1 "$port" 2>/dev/null)
	[ "$out" = "connect: ok" ] && ok net_loopback_allows_a_loopback_connect || not_ok net_loopback_allows_a_loopback_connect "$out"
	out=$("$FVM_EXEC" -n f --net none -- python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)' 2>&1 | tail -1)
	case $out in *"Address family not supported"*) ok net_none_denies_packet_sockets ;; *) not_ok net_none_denies_packet_sockets "$out" ;; esac
fi
kill $server 2>/dev/null; wait $server 2>/dev/null

# Modes.
out=$("$FVM_EXEC" -n f -v --enforce off -- true 2>&1)
case $out in *"fence: off"*) ok enforce_off_says_so ;; *) not_ok enforce_off_says_so "$out" ;; esac
out=$("$FVM_EXEC" -n f -v -- true 2>&1)
case $out in *"landlock: ABI $abi: writes only beneath the VM"*"no_new_privs: set"*) ok verbose_lists_active_fence ;; *) not_ok verbose_lists_active_fence "$out" ;; esac
out=$("$FVM_EXEC" -n f -v --net none -- true 2>&1)
if [ "$abi" -ge 4 ]; then
	want="landlock: tcp bind/connect denied (EACCES)"
else
	want="landlock: tcp not restricted by port (ABI < 4): seccomp refuses inet sockets instead"
fi
case $out in *"$want"*) ok verbose_says_how_net_none_is_fenced ;; *) not_ok verbose_says_how_net_none_is_fenced "expected: $want" "$out" ;; esac
if [ "$abi" -ge 6 ]; then
	"$FVM_EXEC" -n f --enforce require -- true && ok enforce_require_runs_with_a_complete_fence ||
		not_ok enforce_require_runs_with_a_complete_fence
else
	"$FVM_EXEC" -n f --enforce require -- true 2>/dev/null
	[ $? = 125 ] && ok enforce_require_refuses_an_incomplete_fence || not_ok enforce_require_refuses_an_incomplete_fence
fi
host_unchanged > "$T/why" && ok host_tree_unchanged_after_all_runs || not_ok host_tree_unchanged_after_all_runs "$(cat "$T/why")"
done_testing
