#!/usr/bin/env bash
# Issue 13, "the host stays as it was" for metadata: real programs that change modes,
# owners, times, xattrs and inode flags (chmod, touch, cp -p/-a, tar x, install -m,
# setfattr, chattr, rsync -a, python's os.chmod/os.utime, from a thread too, a static
# program) keep working in a VM on VM files and host files alike, as natively
# (vm_check: output, status and tree compared), while the host's files keep every
# piece of their metadata: mode, owner, mtime, xattrs and inode flags are compared
# before and after each VM run. Run as root (the read-only namespace) and as a user
# (the supervisor's metadata guard, fvm-exec/run/metaguard.c).
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
ATK=$TOP/build/tests/helpers/attack-static

# Every object under HOST with mode, owner, size, mtime, xattrs and inode flags.
meta_manifest() {
	(cd "$HOST" && find . -mindepth 1 -printf '%p %y %m %U:%G %s %T@ %l\n' | sort
	 getfattr -R -h -d -m - . 2>/dev/null | grep -v '^#' | sort
	 find . -mindepth 1 \( -type f -o -type d \) -exec lsattr -d {} + 2>/dev/null | sort)
}

# meta_check NAME SCRIPT: SCRIPT in a fresh VM must leave the host's metadata as it
# was; then vm_check compares it with a native run.
meta_check() {
	local name=$1 script=$2
	VM_SEQ=$((VM_SEQ + 1))
	meta_manifest > "$T/meta.before"
	(cd "$HOST" && "$FVM_EXEC" -n "m$VM_SEQ" -- "$VM_SHELL" -c "$script" > /dev/null 2>&1)
	meta_manifest > "$T/meta.after"
	if ! diff -u "$T/meta.before" "$T/meta.after" > "$T/meta.diff"; then
		not_ok "${name}_leaves_host_metadata" "$(cat "$T/meta.diff")"
	else
		ok "${name}_leaves_host_metadata"
	fi
	vm_check "$name" "$script"
}

mkdir -p "$HOST/tree/a/b" "$HOST/out"
for i in $(seq 1 40); do echo "file $i" > "$HOST/tree/a/f$i"; done
echo deep > "$HOST/tree/a/b/deep"
printf '#!/bin/sh\necho tool\n' > "$HOST/tree/tool"
chmod 750 "$HOST/tree/tool"
chmod 700 "$HOST/tree/a/b"
touch -d '2015-05-05 05:05' "$HOST/tree/a/f1" "$HOST/tree/tool"
ln -s a/f1 "$HOST/tree/link"
echo host > "$HOST/hostfile"
(cd "$HOST" && tar -cf tree.tar tree)
XATTR_OK=0
if setfattr -n user.fvmtest -v 1 "$HOST/hostfile" 2>/dev/null; then
	setfattr -x user.fvmtest "$HOST/hostfile"
	XATTR_OK=1
fi
FLAGS_OK=0
if chattr +d "$HOST/hostfile" 2>/dev/null; then
	chattr -d "$HOST/hostfile"
	FLAGS_OK=1
fi
STAT='stat -c "%n %a %Y" '
# Modes and mtimes, but of the directories the script made now (their mtime is now).
LIST='find "$@" \( -type d -newer tree.tar -printf "%p %y %m\n" \) -o -printf "%p %y %m %T@ %l\n" | sort'

meta_check chmod_of_vm_and_host_files 'set -e
echo new > out/new; chmod 600 out/new; chmod 755 hostfile; chmod -R go-rwx tree/a
stat -c "%n %a" out/new; '"$STAT"'hostfile tree/a tree/a/f2 tree/a/b/deep'

meta_check touch_and_touch_d_of_vm_and_host_files 'set -e
touch out/new; touch hostfile; touch -d "2001-02-03 04:05:06" hostfile out/new tree/a/f3
touch -h -d "2002-01-01" tree/link; touch -r tree/tool tree/a/f4
'"$STAT"'hostfile out/new tree/a/f3 tree/a/f4; stat -c "%n %Y" tree/link'

meta_check cp_p_and_cp_a_of_a_host_tree 'set -e
cp -p tree/tool out/tool; cp -a tree out/tree; cp -a tree/a/f1 tree/a/f1.copy
set -- out tree/a/f1.copy; '"$LIST"

meta_check tar_x_keeps_modes_and_times 'set -e
mkdir x; tar -xf tree.tar -C x; tar -xf tree.tar
set -- x tree; '"$LIST"

meta_check install_m_755_over_host_and_vm_files 'set -e
install -m 755 hostfile out/inst; install -m 700 hostfile tree/a/f5; install -d -m 711 out/d
stat -c "%n %a" out/inst tree/a/f5 out/d'

meta_check hard_links_in_the_vm_keep_their_metadata_calls 'set -e
echo x > out/one; ln out/one out/two; chmod 640 out/one; touch -d 2003-03-03 out/two
cp -a tree/a/f6 out/f6; ln out/f6 out/f6.link; chmod 604 out/f6.link
'"$STAT"'out/one out/two out/f6 out/f6.link'

meta_check python_os_chmod_and_os_utime 'set -e
python3 -c "import os
os.chmod(\"hostfile\", 0o640); os.utime(\"hostfile\", (1000000000, 1000000000))
open(\"out/p\", \"w\").close(); os.chmod(\"out/p\", 0o604); os.utime(\"out/p\", ns=(5, 2000000000123456789))
fd = os.open(\"tree/a/f7\", os.O_RDONLY); os.fchmod(fd, 0o600); os.utime(fd, (7, 7)); os.close(fd)"
'"$STAT"'hostfile out/p tree/a/f7'

# A metadata call through an fd from a thread that is not its process's leader (rustc's
# codegen threads): the supervisor takes the fd from that thread (PIDFD_THREAD).
meta_check fchmod_and_futimens_from_a_thread 'set -e
python3 -c "import os, threading
def work():
    fd = os.open(\"tree/a/f8\", os.O_RDONLY); os.fchmod(fd, 0o600); os.utime(fd, (8, 8)); os.close(fd)
    fd = os.open(\"out/t\", os.O_WRONLY | os.O_CREAT, 0o644); os.fchmod(fd, 0o604); os.close(fd)
t = threading.Thread(target=work); t.start(); t.join()"
'"$STAT"'tree/a/f8; stat -c "%n %a" out/t'

if [ $XATTR_OK = 1 ]; then
	meta_check setfattr_user_xattr_of_vm_and_host_files 'set -e
setfattr -n user.x -v 1 hostfile; echo v > out/v; setfattr -n user.x -v 2 out/v
getfattr -n user.x --only-values hostfile; echo; getfattr -n user.x --only-values out/v; echo
setfattr -x user.x hostfile; getfattr -d hostfile'
else
	skip setfattr_user_xattr_of_vm_and_host_files "user xattrs are not supported under $HOST"
fi

if [ $FLAGS_OK = 1 ]; then
	meta_check chattr_d_of_vm_and_host_files 'set -e
echo v > out/v; chattr +d out/v; lsattr -d out/v | cut -c1-22
chattr +d hostfile; lsattr -d hostfile | cut -c1-22'
else
	skip chattr_d_of_vm_and_host_files "chattr +d is not supported under $HOST"
fi

if command -v rsync > /dev/null; then
	meta_check rsync_a_of_a_host_tree 'set -e
rsync -a tree/ out/tree/; rsync -a --chmod=go-rwx tree/a/ tree/a/
set -- out/tree tree; '"$LIST"
else
	skip rsync_a_of_a_host_tree "rsync is not installed"
fi

# A static program (no libfvm): its own files change, host files do not. The supervisor
# virtualizes it, as root and not: it names them as the VM does (the store is hidden
# from it), and a host file's change by name lands on the VM's copy.
if [ -x "$ATK" ]; then
	VM_SEQ=$((VM_SEQ + 1))
	meta_manifest > "$T/meta.before"
	D=out host_want='^chmod: ok$'
	got=$(cd "$HOST" && "$FVM_EXEC" -n "m$VM_SEQ" -- bash -c "set -e; echo x > out/static
D=$D
'$ATK' chmod out/static 0600; '$ATK' utime \$D/static; '$ATK' chown \$D/static $(id -u) $(id -g)
stat -c '%a %Y' out/static; '$ATK' chmod '$HOST/hostfile' 0777 || true" 2>/dev/null)
	meta_manifest > "$T/meta.after"
	want="chmod: ok
utime: ok
chown: ok
600 0"
	if ! diff -u "$T/meta.before" "$T/meta.after" > "$T/meta.diff"; then
		not_ok static_program_changes_its_own_files_not_the_hosts "$(cat "$T/meta.diff")"
	elif [ "$(printf '%s\n' "$got" | head -4)" != "$want" ] || ! printf '%s\n' "$got" | tail -1 | grep -Eq "$host_want"; then
		not_ok static_program_changes_its_own_files_not_the_hosts "got: $got"
	else
		ok static_program_changes_its_own_files_not_the_hosts
	fi
else
	skip static_program_changes_its_own_files_not_the_hosts "helpers not built (make tests-bin)"
fi

done_testing
