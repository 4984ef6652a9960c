#!/usr/bin/env bash
# Issue 13, item 4 and "the host stays as it was": what Landlock has no right for. From
# inside a VM, a static program and a dynamic one making raw system calls try to change
# host files' metadata (chmod, fchmod, i386 chmod, chown, utimensat, setxattr user.* and
# trusted.*, FS_IOC_SETFLAGS), to write a disk through a block device node made in the
# VM (a loop device over a scratch file this test makes, root only), to push keystrokes
# into the terminal fvm-exec was started from (a pty this test makes; the static helper
# and a python one-liner), to write a host SysV segment, unlink a host POSIX queue,
# rewrite a host /dev/shm file, lower a host process's RLIMIT_FSIZE and raise its nice
# value, and to set the hostname (root: inside a UTS namespace made around this whole
# test, so the machine's own hostname cannot change).
if [ "$(id -u)" = 0 ] && [ -z "${SEC_IN_UTS:-}" ] && unshare --uts true 2>/dev/null; then
	SEC_IN_UTS=1 exec unshare --uts bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
sec_require
PY=$(command -v python3)
TAG=fvmsec.$$.$RANDOM
LOOP= SHMID= VICTIM_PID=

sec_cleanup() {
	chattr -i -a "$HOST"/* 2>/dev/null
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	[ -n "$SHMID" ] && ipcrm -m "$SHMID" 2>/dev/null
	"$ATK_DYN" mq-unlink "/$TAG" > /dev/null 2>&1
	rm -f "/dev/shm/$TAG"
	[ -n "$VICTIM_PID" ] && kill "$VICTIM_PID" 2>/dev/null
	cleanup
}
trap sec_cleanup EXIT

# attack_file NAME WHY MODE OP ARGS...: a fresh host file HOST/NAME (mode MODE), then
# OP ARGS... (FILE stands for its path) run by the static and the dynamic helper in a VM.
attack_file() {
	local name=$1 why=$2 mode=$3 op=$4 kind h f out
	shift 4
	for kind in static dynamic; do
		[ $kind = static ] && h=$ATK || h=$ATK_DYN
		f=$HOST/${name}_$kind
		echo 'keep me' > "$f"
		chmod "$mode" "$f"
		sec_snapshot
		out=$(vm m -- "$h" "$op" $(printf '%s\n' "$@" | sed "s|^FILE\$|$f|") 2>/dev/null)
		if [ $kind = static ] && { [ "$op" = chmod ] ||
			{ [ $ROOT = 0 ] && [[ " chown utime setxattr " == *" $op "* ]]; }; }; then
			# Virtualized (virtguard.c; chmod in root runs too, seccomp.c's
			# virt_prologue): the VM's copy changes, never the host's file (the verdict
			# compares the host with its snapshot).
			verdict "${kind}_${name}_of_a_host_file_changes_nothing" "$why" \
				"$([ "$out" = "$op: ok" ] && [ ! -e "$(vmdir m)/upper$f" ] &&
					echo "$op: ok, and the VM has no copy of $f")"
			continue
		fi
		verdict "${kind}_${name}_of_a_host_file_changes_nothing" "$why" \
			"$([ "$out" = "$op: ok" ] && echo "$op: ok")"
	done
}

attack_file chmod "" 644 chmod FILE 0777
attack_file fchmod "" 644 fchmod FILE 0777
attack_file i386_chmod "" 644 i386-chmod FILE 0777
if [ $ROOT = 1 ]; then
	attack_file chown "" 644 chown FILE 12345 12345
else
	# The owner may chown to itself: the kernel then clears the setuid and setgid bits.
	attack_file chown "" 6755 chown FILE "$(id -u)" "$(id -g)"
fi
attack_file utime "" 644 utime FILE
attack_file setxattr_user "" 644 setxattr FILE user.fvmsec evil
attack_file setxattr_trusted "" 644 setxattr FILE trusted.fvmsec evil
if [ $ROOT = 1 ]; then
	attack_file setflags_immutable "" 644 setflags FILE immutable
else
	attack_file setflags_nodump "" 644 setflags FILE nodump
fi

# A block device node made in the VM, then the disk written through it: a loop device
# over a scratch file in the host tree stands for the disk.
if [ $ROOT = 0 ]; then
	skip block_device_node_made_in_the_vm_cannot_write_a_disk "a block device node needs CAP_MKNOD: root only"
elif ! head -c 1048576 /dev/zero > "$HOST/disk.img" || ! LOOP=$(losetup -f --show "$HOST/disk.img" 2>/dev/null); then
	LOOP=
	skip block_device_node_made_in_the_vm_cannot_write_a_disk "no loop device can be attached here (losetup)"
else
	maj=$((0x$(stat -c %t "$LOOP"))) min=$((0x$(stat -c %T "$LOOP")))
	D=$(vmdir m)
	sec_snapshot
	out=$(vm m -- sh -c "'$ATK' mknod-blk '$D/blk' $maj $min; '$ATK' devwrite '$D/blk' PWNED-THE-DISK" 2>/dev/null)
	sync
	verdict block_device_node_made_in_the_vm_cannot_write_a_disk "" \
		"$(grep -q PWNED-THE-DISK "$HOST/disk.img" && echo "the disk now holds PWNED-THE-DISK ($out)")"
	# The host's own node of the disk: root in a VM must not read it either (nor write:
	# Landlock already refuses that), unless the policy allows the device by name.
	printf 'SECRET-ON-THE-DISK' | dd of="$HOST/disk.img" bs=1 seek=4096 conv=notrunc status=none
	losetup -d "$LOOP"; LOOP=$(losetup -f --show "$HOST/disk.img")
	for kind in static dynamic; do
		[ $kind = static ] && h=$ATK || h=$ATK_DYN
		sec_snapshot
		out=$(vm m -- "$h" read "$LOOP" 2>&1 | tr -d '\0')
		verdict "${kind}_root_vm_cannot_read_a_host_disk" "" \
			"$(grep -q SECRET-ON-THE-DISK <<< "$out" && echo "the VM read the disk $LOOP")"
		out=$(vm m -- "$h" devwrite "$LOOP" PWNED-THE-DISK 2>&1)
		sync
		verdict "${kind}_root_vm_cannot_write_a_host_disk" "" \
			"$(grep -q PWNED-THE-DISK "$HOST/disk.img" && echo "the disk now holds PWNED-THE-DISK ($out)")"
	done
	out=$(vm m -- sh -c "stat -c %t:%T '$LOOP'" 2>&1)
	if [ "$out" = "$(stat -c %t:%T "$LOOP")" ]; then ok root_vm_sees_the_host_disk_node
	else not_ok root_vm_sees_the_host_disk_node "stat in the VM: $out"; fi
	out=$(vm m --device "$LOOP" -- "$ATK" read "$LOOP" 2>&1 | tr -d '\0')
	case $out in
	*SECRET-ON-THE-DISK*) ok device_key_allows_reading_that_disk ;;
	*) not_ok device_key_allows_reading_that_disk "$(head -c 200 <<< "$out")" ;;
	esac
	losetup -d "$LOOP"; LOOP=
fi

# TIOCSTI: in a pty made here, fvm-exec runs the attack, then the shell that started it
# reads a line, as an interactive shell reads its next command.
in_pty() { # SCRIPT: run by bash as the session leader of a new pty; its output on stdout
	tmo "$PY" -c 'import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "-c", sys.argv[1]])
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))' "$1"
}
tiocsti_py="$PY -c 'import fcntl, termios; [fcntl.ioctl(0, termios.TIOCSTI, bytes([c])) for c in b\"echo INJECTED\\n\"]'"
for kind in static python; do
	[ $kind = static ] && cmd="'$ATK' tiocsti 'echo INJECTED\\n'" || cmd=$tiocsti_py
	# First natively: the test can see an injection here, so that its absence means one.
	rm -f "$T/readback"
	in_pty "$cmd > /dev/null 2>&1; stty -echo; read -r -t 2 line; printf '%s' \"\$line\" > '$T/readback'" > "$T/pty.out" 2>&1
	if [ "$(cat "$T/readback" 2>/dev/null)" != "echo INJECTED" ]; then
		skip "${kind}_tiocsti_cannot_type_into_the_terminal_of_fvm_exec" \
			"natively TIOCSTI does not reach the shell here (dev.tty.legacy_tiocsti $(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null))"
		continue
	fi
	rm -f "$T/readback"
	sec_snapshot
	in_pty "'$FVM_EXEC' -n m -- $cmd > /dev/null 2>&1; stty -echo; read -r -t 2 line; printf '%s' \"\$line\" > '$T/readback'" > "$T/pty.out" 2>&1
	verdict "${kind}_tiocsti_cannot_type_into_the_terminal_of_fvm_exec" "" \
		"$([ -s "$T/readback" ] && echo "the shell read: $(head_of "$T/readback")")"
done

# Host IPC objects, made natively by this test.
for kind in static dynamic; do
	[ $kind = static ] && h=$ATK || h=$ATK_DYN
	SHMID=$("$ATK_DYN" shm-create 0 original 2>/dev/null)
	if [ -z "$SHMID" ]; then
		skip "${kind}_host_sysv_segment_is_not_written" "cannot create a SysV segment here"
		continue
	fi
	sec_snapshot
	out=$(vm m -- "$h" shm-write "$SHMID" EVIL 2>/dev/null)
	now=$("$ATK_DYN" shm-read "$SHMID" 2>&1)
	verdict "${kind}_host_sysv_segment_is_not_written" "" \
		"$([ "$now" = original ] || echo "segment $SHMID now holds: $now")"
	ipcrm -m "$SHMID"; SHMID=
done
for kind in static dynamic; do
	[ $kind = static ] && h=$ATK || h=$ATK_DYN
	"$ATK_DYN" mq-create "/$TAG" > /dev/null 2>&1
	sec_snapshot
	out=$(vm m -- "$h" mq-unlink "/$TAG" 2>/dev/null)
	now=$("$ATK_DYN" mq-exists "/$TAG" 2>&1)
	verdict "${kind}_host_posix_queue_is_not_unlinked" "" \
		"$([ "$now" = "mq-exists: ok" ] || echo "host queue /$TAG: $now")"
	"$ATK_DYN" mq-unlink "/$TAG" > /dev/null 2>&1
done
for kind in static dynamic; do
	[ $kind = static ] && h=$ATK || h=$ATK_DYN
	echo original > "/dev/shm/$TAG"
	sec_snapshot
	out=$(vm m -- "$h" put "/dev/shm/$TAG" EVIL 2>/dev/null)
	verdict "${kind}_host_dev_shm_file_is_not_rewritten" "" \
		"$(grep -qx original "/dev/shm/$TAG" || echo "/dev/shm/$TAG now holds: $(head_of "/dev/shm/$TAG")")"
	rm -f "/dev/shm/$TAG"
done

# A host process started here: its limits and its priority.
for kind in static dynamic; do
	[ $kind = static ] && h=$ATK || h=$ATK_DYN
	sleep 120 & VICTIM_PID=$!
	sec_snapshot
	out=$(vm m -- "$h" prlimit "$VICTIM_PID" 4096 2>/dev/null)
	lim=$(awk '/^Max file size/ { print $4 }' "/proc/$VICTIM_PID/limits")
	verdict "${kind}_host_process_rlimit_is_not_lowered" "" \
		"$([ "$lim" = unlimited ] || echo "host process $VICTIM_PID: RLIMIT_FSIZE $lim")"
	out=$(vm m -- "$h" setpriority "$VICTIM_PID" 19 2>/dev/null)
	ni=$(ps -o ni= -p "$VICTIM_PID" | tr -d ' ')
	verdict "${kind}_host_process_nice_is_not_raised" "" \
		"$([ "$ni" = 0 ] || echo "host process $VICTIM_PID: nice $ni")"
	kill "$VICTIM_PID"; wait "$VICTIM_PID" 2>/dev/null; VICTIM_PID=
done

# The hostname (root: in the UTS namespace made above; a user has no right to it).
if [ $ROOT = 1 ] && [ -z "${SEC_IN_UTS:-}" ]; then
	skip sethostname_changes_nothing "no UTS namespace can be made here: not trying on the machine's hostname"
else
	for kind in static dynamic; do
		[ $kind = static ] && h=$ATK || h=$ATK_DYN
		sec_snapshot
		out=$(vm m -- "$h" sethostname fvm-pwned 2>/dev/null)
		verdict "${kind}_sethostname_changes_nothing" ""
		[ "$(hostname)" = "$(cat "$T/sec.hostname")" ] || hostname "$(cat "$T/sec.hostname")"
	done
fi

done_testing
