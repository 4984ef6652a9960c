#!/usr/bin/env bash
# The terminal fvm-exec was started from stays the user's. On a pseudo-terminal this test
# makes (tests/helpers/pty-run.py; never the test's own terminal): TIOCSTI, from python
# and as a raw call (static, i386, the command's upper 32 bits set), pushes input natively
# and is refused in a VM (EPERM), nothing pushed; and the programs that use the terminal
# work in a VM as natively: less, vim, and a shell's job control (a job stopped, listed,
# killed).
. "$(dirname "$0")/../lib/harness.sh"

PTY=$TOP/tests/helpers/pty-run.py
HELPERS=$TOP/build/tests/helpers
echo "# $(whoami_tag)"
inject='import fcntl, termios
for c in b"#FVMINJECT": fcntl.ioctl(0, termios.TIOCSTI, bytes([c]))'
native=$(python3 "$PTY" -- python3 -c "$inject" 2>&1)
vm=$(python3 "$PTY" -- "$FVM_EXEC" -n t -- python3 -c "$inject" 2>&1)
case $native in
*"#FVMINJECT"*)
	case $vm in
	*"#FVMINJECT"*) not_ok python_tiocsti_is_refused_in_a_vm "pushed: $vm" ;;
	*"PermissionError"*) ok python_tiocsti_is_refused_in_a_vm ;;
	*) not_ok python_tiocsti_is_refused_in_a_vm "$vm" ;;
	esac ;;
*)
	# Linux >= 6.2 with dev.tty.legacy_tiocsti=0 refuses it to all but CAP_SYS_ADMIN.
	case $vm in
	*"#FVMINJECT"*) not_ok python_tiocsti_is_refused_in_a_vm "pushed: $vm" ;;
	*"Operation not permitted"*) ok "python_tiocsti_is_refused_in_a_vm (natively refused too: $(sysctl -n dev.tty.legacy_tiocsti 2>/dev/null))" ;;
	*) not_ok python_tiocsti_is_refused_in_a_vm "$vm" ;;
	esac ;;
esac
for h in try-syscall-static try-syscall-i386; do
	[ -x "$HELPERS/$h" ] || { skip "${h}_tiocsti_is_refused" "$h not built (no i386 toolchain)"; continue; }
	for op in tiocsti tiocsti-hi; do
		native=$(python3 "$PTY" -- "$HELPERS/$h" $op 2>&1)
		# The last line: fvm-exec's notice of a static program comes before it.
		vm=$(python3 "$PTY" -- "$FVM_EXEC" -n t -- "$HELPERS/$h" $op 2>&1 | tail -n 1)
		name="${h#try-syscall-}_raw_$(echo $op | tr - _)_is_refused_in_a_vm"
		if [ "$vm" = "$op: EPERM" ] && { [ "$(id -u)" != 0 ] || [ "$native" = "x$op: ok" ]; }; then
			ok "$name"
		else
			not_ok "$name" "natively: $native" "in the VM: $vm"
		fi
	done
done

# Programs of the terminal: the same keys, natively and in a VM.
seq 1 200 > "$HOST/lines"
# run_both NAME KEYS CHECK LINES COMMAND...: the terminal's last LINES lines (pids
# masked) must match natively and in the VM, and show CHECK; LINES 0: both show each
# line of CHECK (a shell's job notices come when they come).
run_both() {
	local name=$1 keys=$2 check=$3 lines=$4 native vm n=$4 c missing=
	shift 4
	[ "$n" = 0 ] && n=100000
	native=$(cd "$HOST" && { python3 "$PTY" --keys "$keys" -- "$@" 2>&1; echo "rc=$?"; } |
		sed 's/\[1\] [0-9]*/[1] PID/' | tail -n "$n")
	vm=$(cd "$HOST" && { python3 "$PTY" --keys "$keys" -- "$FVM_EXEC" -n t -- "$@" 2>&1; echo "rc=$?"; } |
		sed 's/\[1\] [0-9]*/[1] PID/' | tail -n "$n")
	if [ "$lines" = 0 ]; then
		while IFS= read -r c; do
			grep -qF -- "$c" <<< "$native" || missing="$missing native:'$c'"
			grep -qF -- "$c" <<< "$vm" || missing="$missing vm:'$c'"
		done <<< "$check"
		[ -z "$missing" ] && ok "$name" || not_ok "$name" "missing:$missing" "native: $native" "vm: $vm"
	elif [ "$native" = "$vm" ] && grep -q -- "$check" <<< "$vm"; then
		ok "$name"
	else
		not_ok "$name" "native: $(tail -c 300 <<< "$native")" "vm: $(tail -c 300 <<< "$vm")"
	fi
}
run_both less_pages_and_quits_in_a_pty 'G q' 'rc=0' 1000 less lines
run_both vim_edits_in_a_pty ':1,198d\n:wq\n' '^200$' 3 \
	sh -c 'cp lines edited && vim -u NONE -N -n edited; tail -n 2 edited; rm -f edited'
run_both job_control_stops_lists_and_kills_a_job \
	'sleep 30 &\nkill -STOP %1; sleep 0.5; jobs\nkill -KILL %1; sleep 0.5; echo done-$((6*7))\nexit\n' \
	"[1]+  Stopped                 sleep 30
done-42
rc=0" 0 \
	env -i PATH="$PATH" TERM=xterm PS1='$ ' bash --norc --noprofile -i
done_testing
