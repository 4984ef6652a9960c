#!/usr/bin/env bash
# The fence's seccomp rules (fvm-exec/run/seccomp.c), one attack each: a raw system call
# from a static helper, first run natively (root: in its own UTS and mount namespaces,
# so that a success changes nothing of this machine), then in a VM, where it must fail
# with the rule's errno. Every rule is also tried through the i386 ABI (a static i386
# build of the helper) and a few through the x32 ABI, which the filter refuses whole
# (ENOSYS). Where the native call fails too (an unprivileged user lacks the capability),
# the VM's answer must still be the rule's. The hostname and the victim process's
# rlimit and nice value are checked unchanged at the end.
. "$(dirname "$0")/../lib/harness.sh"

HELPERS=$TOP/build/tests/helpers
STATIC=$HELPERS/try-syscall-static I386=$HELPERS/try-syscall-i386
echo "# $(whoami_tag)"
if [ ! -x "$STATIC" ]; then
	skip fence_syscall_rules "helpers not built (make tests-bin)"
	done_testing; exit
fi
abi=$(python3 -c 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(l.syscall(444, None, 0, 1))' 2>/dev/null || echo -1)

# in_own_ns CMD...: root: CMD in new UTS, mount and IPC namespaces; else as is. No
# controlling terminal either way (vhangup hangs up none).
in_own_ns() {
	if [ "$(id -u)" = 0 ]; then
		unshare --uts --ipc -m --propagation private setsid -w "$@"
	else
		setsid -w "$@"
	fi
}

host_name=$(hostname) host_domain=$(domainname 2>/dev/null || true)
sleep 120 & victim=$!
before_victim="$(prlimit --pid $victim --fsize --output SOFT,HARD --noheadings) $(ps -o ni= -p $victim)"
mkdir -p "$T/scratch"

# OP[:ARG...]=ERRNO (ARGs split on ':').
rules="sethostname:fvm-attack=EPERM setdomainname:fvm-attack=EPERM settimeofday=EPERM
	clock-settime=EPERM add-key=EPERM keyctl=EPERM mount:$T/scratch=EPERM
	umount2:/nonexistent=EPERM fsopen=EPERM open-tree=EPERM swapon:/nonexistent=EPERM
	reboot=EPERM delete-module:fvm_none=EPERM acct:/nonexistent/x=EPERM quotactl=EPERM
	syslog=EPERM bpf=EPERM perf-event-open=EPERM userfaultfd=EPERM personality:0x40000=EPERM
	unshare=EPERM setns=EPERM clone-newuts=EPERM clone3=ENOSYS tiocsti=EPERM tiocsti-hi=EPERM
	tioclinux=EPERM vhangup=EPERM prlimit:$victim=EPERM setpriority:$victim=EPERM"
[ "$abi" -ge 1 ] && rules="$rules ptrace:$victim=EPERM"

for kind in static i386; do
	[ $kind = static ] && h=$STATIC || h=$I386
	if [ ! -x "$h" ]; then
		skip "${kind}_syscall_rules" "no i386 toolchain here: $h not built (make deps installs gcc-multilib)"
		continue
	fi
	for r in $rules; do
		spec=${r%=*} want=${r##*=}
		op=${spec%%:*} args=$(echo "${spec#"$op"}" | tr : ' ')
		name="${kind}_$(echo "$op" | tr - _)_is_refused_with_$want"
		native=$(in_own_ns "$h" "$op" $args 2>&1 < /dev/null)
		out=$(in_own_ns "$FVM_EXEC" -n s -- "$h" "$op" $args 2>/dev/null < /dev/null)
		if [ "$out" != "$op: $want" ]; then
			not_ok "$name" "in the VM: $out" "natively: $native"
		elif [ "$(id -u)" = 0 ] && [ "$native" = "$out" ]; then
			not_ok "$name" "natively too: $native: the test does not show the rule"
		else
			ok "$name"
		fi
	done
done

# Personality values Docker allows stay allowed (the query among them); libc's own.
for v in 0xffffffff 0x8 0x0; do
	out=$("$FVM_EXEC" -n s -- "$STATIC" personality $v 2>/dev/null)
	[ "$out" = "personality: ok" ] && ok "personality_${v}_is_allowed" ||
		not_ok "personality_${v}_is_allowed" "$out"
done
# A bit above 32 does not hide the command from the ioctl rule (tested above); nor does
# it hide a namespace flag or a family: clone and socket compare the low 32 bits.

# Device nodes: mknod of a character or block device is refused where the VM's trees are
# not nodev (any unprivileged run: the kernel refuses too; root runs: t_fence_root.sh);
# a FIFO stays allowed. The static program's mknod is virtualized: it names the node as
# the VM does, and the node lands in the VM's layer.
up=$FVM_HOME/vms/s/upper$HOST
mkdir -p "$HOST"
if [ "$(id -u)" != 0 ]; then
	for t in c b; do
		out=$("$FVM_EXEC" -n s -- "$STATIC" mknod "$HOST/dev-$t" $t 2>/dev/null)
		[ "$out" = "mknod: EPERM" ] && [ ! -e "$up/dev-$t" ] && [ ! -e "$HOST/dev-$t" ] &&
			ok "user_mknod_of_a_${t}_device_is_eperm" || not_ok "user_mknod_of_a_${t}_device_is_eperm" "$out"
	done
fi
out=$("$FVM_EXEC" -n s -- "$STATIC" mknod "$HOST/fifo" p 2>/dev/null)
[ "$out" = "mknod: ok" ] && [ -p "$up/fifo" ] && [ ! -e "$HOST/fifo" ] && ok mknod_of_a_fifo_in_the_vm_works ||
	not_ok mknod_of_a_fifo_in_the_vm_works "$out"

# x32: the filter fails every x32 call with ENOSYS (what a kernel without x32 answers).
if grep -q x86_64 <<< "$(uname -m)"; then
	for op in sethostname:fvm-x32 tiocsti; do
		o=${op%%:*} args=$(echo "${op#"$o"}" | tr : ' ')
		native=$(in_own_ns "$STATIC" x32 $o $args 2>&1 < /dev/null)
		out=$(in_own_ns "$FVM_EXEC" -n s -- "$STATIC" x32 $o $args 2>/dev/null < /dev/null)
		if [ "$out" = "$o: ENOSYS" ]; then
			ok "x32_${o}_is_enosys (natively: ${native#*: })"
		else
			not_ok "x32_${o}_is_enosys" "in the VM: $out" "natively: $native"
		fi
	done
fi

# Programs that use what stays allowed: glibc's clone3 fallback (posix_spawn, threads),
# the process's own rlimits and nice value, read-only adjtimex.
vm_check_ok threads_and_spawn_work_without_clone3 \
	"python3 -c 'import threading, subprocess; t = threading.Thread(target=print, args=(\"t\",)); t.start(); t.join(); print(subprocess.run([\"echo\", \"s\"], capture_output=True).stdout.decode().strip())'"
vm_check_ok own_rlimits_and_nice_still_change "ulimit -S -n 512; ulimit -S -n; nice -n 3 sh -c 'nice'"
vm_check_ok adjtimex_read_only_works "python3 -c 'import ctypes; b = ctypes.create_string_buffer(512); print(ctypes.CDLL(None).adjtimex(b) >= 0)'"

after_victim="$(prlimit --pid $victim --fsize --output SOFT,HARD --noheadings) $(ps -o ni= -p $victim)"
kill $victim; wait $victim 2>/dev/null
[ "$(hostname)" = "$host_name" ] && [ "$(domainname 2>/dev/null || true)" = "$host_domain" ] &&
	ok hostname_and_domain_unchanged || not_ok hostname_and_domain_unchanged "$(hostname) $(domainname)"
[ "$before_victim" = "$after_victim" ] && ok host_process_rlimit_and_nice_unchanged ||
	not_ok host_process_rlimit_and_nice_unchanged "before: $before_victim" "after: $after_victim"
done_testing
