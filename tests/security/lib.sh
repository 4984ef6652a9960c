# lib.sh — what the attack tests of tests/security (issue 13) share; sourced after
# tests/lib/harness.sh.
#
# Every attack runs against the scratch trees of the harness ($T/host, the store in
# $T/store), never against a file, device, IPC object or terminal of this machine that
# the test did not make; root's hostname attacks run in a UTS namespace of their own.
#
#   ATK / ATK_DYN          the attack helper, static and dynamic (tests/helpers/attack.c)
#   tmo CMD...             CMD bounded in time (SEC_TIMEOUT seconds, default 20) and in
#                          memory (1 GiB of address space); 124 = hung
#   peak_run CMD...        tmo's bounds, done by python, which also writes CMD's peak
#                          resident memory in KiB to $T/peak
#   vm NAME ARGS...        fvm-exec -n NAME ARGS..., bounded
#   fvmc ARGS...           fvm ARGS..., bounded
#   sec_snapshot           records the host tree with every piece of metadata (mode,
#                          owner, size, content, mtime, xattrs, inode flags), the other
#                          VM's directory (OTHER_VM, if set), the hostname
#   sec_changes            prints what changed since sec_snapshot (nothing: unchanged)
#   verdict NAME WHY [EVIDENCE...]
#                          one TAP line: ok when nothing changed and no EVIDENCE line
#                          was given; otherwise not ok, with the changes. WHY, when not
#                          empty, marks the test an expected failure of issue 13: what
#                          the attack does on today's fvm.
#   as_root WHY / as_user WHY
#                          WHY when the run is root (as_root) or not (as_user), else
#                          empty: the attack works today only with that privilege.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

ATK=$TOP/build/tests/helpers/attack-static
ATK_DYN=$TOP/build/tests/helpers/attack
SEC_TIMEOUT=${SEC_TIMEOUT:-20}
OTHER_VM=
ROOT=0
[ "$(id -u)" = 0 ] && ROOT=1

tmo() { (ulimit -v 1048576; timeout -k 2 "$SEC_TIMEOUT" "$@"); }
peak_run() {
	python3 -c 'import os, resource, signal, subprocess, sys
def bound():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    os.setsid()
p = subprocess.Popen(sys.argv[3:], preexec_fn=bound)
try:
    rc = p.wait(timeout=int(sys.argv[2]))
except subprocess.TimeoutExpired:
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    rc = 124
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$T/peak" "$SEC_TIMEOUT" "$@"
}
vm() { local n=$1; shift; tmo "$FVM_EXEC" -n "$n" "$@"; }
fvmc() { tmo "$FVM" "$@"; }
as_root() { [ $ROOT = 1 ] && echo "$1"; }
as_user() { [ $ROOT = 0 ] && echo "$1"; }
vmdir() { echo "$FVM_HOME/vms/$1"; }
# ctldir NAME: the VM's control area (store format 3), where vm.conf, the policy, the
# commit journal and the lock live; the VM's processes may not write it.
ctldir() { echo "$FVM_HOME/ctl/$1"; }
# other_manifest: the other VM's data and control areas, one manifest.
other_manifest() { manifest "$(vmdir "$OTHER_VM")"; manifest "$(ctldir "$OTHER_VM")" 2>/dev/null | sed 's|^|ctl/|'; }

# The helpers must exist and the fence must be on: else nothing here means anything.
sec_require() {
	local abi
	abi=$(python3 -c 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(l.syscall(444, None, 0, 1))' 2>/dev/null || echo -1)
	echo "# landlock ABI $abi, $(whoami_tag)"
	if [ ! -x "$ATK" ] || [ ! -x "$ATK_DYN" ]; then
		skip security_tests "helpers not built (make tests-bin)"
		done_testing; exit
	fi
	if [ "$abi" -lt 1 ]; then
		skip security_tests "LANDLOCK IS NOT OFFERED BY THIS KERNEL: the fence cannot be tested"
		done_testing; exit
	fi
}

# Every object under DIR with all of its metadata but atime and ctime.
meta_manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%p\t%y\t%m\t%U:%G\t%s\t%T@\t%l\n' | sort |
		while IFS=$'\t' read -r p y m o s t l; do
			h=- x=- f=-
			case $y in
			f) h=$(sha256sum < "$p" | cut -c1-16) ;;
			esac
			case $y in
			f | d)
				x=$(getfattr -h -d -m - -e hex "$p" 2>/dev/null | grep -v '^#' | tr '\n' ' ')
				f=$(lsattr -d "$p" 2>/dev/null | cut -d' ' -f1) ;;
			esac
			printf '%s %s %s %s %s %s %s [%s] %s\n' "$p" "$y" "$m" "$o" "$s" "$t" "$h" "$x" "$f"
		done)
}

# The start of FILE, printable characters only, for a diagnostic.
head_of() { head -c 60 "$1" 2>&1 | tr '\n' ' ' | tr -cd '[:print:]'; }

sec_snapshot() {
	meta_manifest "$HOST" > "$T/sec.host"
	if [ -n "$OTHER_VM" ]; then other_manifest > "$T/sec.other"; else : > "$T/sec.other"; fi
	hostname > "$T/sec.hostname"
}

sec_changes() {
	meta_manifest "$HOST" | diff -u "$T/sec.host" - | grep '^[-+][^-+]' | sed 's/^/host: /'
	if [ -n "$OTHER_VM" ]; then
		other_manifest | diff -u "$T/sec.other" - | grep '^[-+][^-+]' | sed "s/^/VM $OTHER_VM: /"
	fi
	[ "$(hostname)" = "$(cat "$T/sec.hostname")" ] || echo "hostname: $(cat "$T/sec.hostname") -> $(hostname)"
}

# serve SOCK FILE: a host service at SOCK (a unix stream socket, started in the
# background: $! is its pid) that appends what each client sends to FILE, one line each.
serve() {
	"$(command -v python3)" - "$1" "$2" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(8)
s.settimeout(60)
try:
    while True:
        c, _ = s.accept()
        c.settimeout(5)
        data = c.recv(256)
        with open(sys.argv[2], "ab") as f:
            f.write(data + b"\n")
        c.close()
except Exception:
    pass
PY
}

verdict() {
	local name=$1 why=$2 changes e
	local -a ev=()
	shift 2
	for e in "$@"; do [ -n "$e" ] && ev+=("$e"); done
	set -- "${ev[@]}"
	changes=$(sec_changes)
	if [ -z "$changes" ] && [ $# = 0 ]; then
		TODO=${why:+"issue 13: $why"} ok "$name"
	else
		[ -n "$changes" ] && set -- "$@" "$changes"
		TODO=${why:+"issue 13: $why"} not_ok "$name" "$@"
	fi
}
