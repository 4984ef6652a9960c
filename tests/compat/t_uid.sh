#!/usr/bin/env bash
# Compatibility (needs root): processes that change uid or gid inside a VM (setpriv,
# runuser, su) see what that uid sees natively and own what they create as natively,
# the store widening no host mode; useradd, groupadd and passwd edit the VM's password
# files; a local .deb whose postinst makes a system user installs in a VM. Each
# scenario runs natively and in a VM where the native run leaves the host as it was;
# those that would change the host's /etc or dpkg database run in the VM only, against
# the output a native run gives.
. "$(dirname "$0")/../lib/harness.sh"
if [ "$(id -u)" != 0 ]; then
	skip uid_changes_in_vm "needs root: an unprivileged run cannot change uid (no_new_privs; runs in the root pass)"
	done_testing; exit
fi
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null ||
	{ skip uid_changes_in_vm "no user nobody or group nogroup on this machine"; done_testing; exit; }
# The test's tree is reachable by every uid, natively as in the VM (its store lies
# beneath it: the store's own modes are what is tested).
chmod 711 "$T"
chmod 755 "$HOST"
VM_SHELL=bash
NOBODY='setpriv --reuid nobody --regid nogroup --clear-groups'
mkdir -m 1777 "$HOST/sticky"
echo secret > "$HOST/s600"; chmod 600 "$HOST/s600"
echo public > "$HOST/p644"; chmod 644 "$HOST/p644"
echo shared > "$HOST/w666"; chmod 666 "$HOST/w666"
mkdir -p "$HOST/deep/er/sticky"; chmod 1777 "$HOST/deep/er/sticky"
mkdir -m 1777 "$HOST/sticky2"; echo shared > "$HOST/sticky2/w"; chmod 666 "$HOST/sticky2/w"

etc_state() { sha256sum /etc/passwd /etc/group /etc/shadow /etc/gshadow /var/lib/dpkg/status; ls -A /etc; }
ETC_BEFORE=$(etc_state)
etc_unchanged() { # NAME: the host's password files and dpkg database are as they were
	local now
	now=$(etc_state)
	[ "$now" = "$ETC_BEFORE" ] && ok "$1" || not_ok "$1" "$(diff <(echo "$ETC_BEFORE") <(echo "$now"))"
}

vm_check setpriv_nobody_reads_a_world_readable_file \
	"$NOBODY cat /etc/hostname; $NOBODY id -u"

vm_check su_and_runuser_to_nobody 'su nobody -s /bin/sh -c id; runuser -u nobody -- id'

vm_check nobody_creates_in_a_sticky_dir_the_vm_changed_is_nobodys \
	"echo root > sticky/r; runuser -u nobody -- sh -c 'echo x > sticky/f; id -un > sticky/g'; ls -ln sticky | cut -d' ' -f1,3,4,9"

vm_check nobody_creates_in_a_sticky_dir_the_vm_never_changed \
	"runuser -u nobody -- sh -c 'echo x > deep/er/sticky/f'; ls -ln deep/er/sticky | cut -d' ' -f1,3,4,9"

vm_check changed_files_keep_their_modes_for_another_uid \
	"echo more >> s600; echo more >> p644
$NOBODY cat s600 || echo denied; $NOBODY cat p644; $NOBODY sh -c 'echo x >> p644' || echo denied
ls -ln s600 p644 | cut -d' ' -f1,3,4,9"

vm_check another_uid_is_refused_what_the_host_refuses \
	"$NOBODY cat s600 || echo denied; $NOBODY sh -c 'echo x > new' || echo denied; $NOBODY rm -f p644 || echo denied"

# pjdfstest rename/09: a rename out of a sticky directory the kernel refuses leaves the
# empty directory it would have replaced in place (the VM removed it first). The process
# drops root itself, as pjdfstest -u does: libfvm started as root.
vm_check refused_rename_from_a_sticky_dir_keeps_the_target_dir \
	"mkdir -p rs/a/d rs/b; chmod 1777 rs/a; chown nobody:nogroup rs/b; $NOBODY mkdir rs/b/t
	 /usr/bin/python3 -c 'import os, pwd; n = pwd.getpwnam(\"nobody\"); os.setgroups([])
os.setgid(n.pw_gid); os.setuid(n.pw_uid); os.rename(\"rs/a/d\", \"rs/b/t\")' 2>&1 | tail -1
	 find rs -printf '%p %u %m\\n' | sort; rm -rf rs"

vm_check nobody_writes_a_host_file_its_mode_lets_it_write \
	"$NOBODY sh -c 'echo nobody >> w666'; cat w666; ls -ln w666 | cut -d' ' -f1,3,4,9"

# A copy-up made by a process that dropped root keeps the host's owner even where it
# could rename into upper/ itself (a sticky directory the VM changed already): the copy
# is root's, so nobody cannot chmod it; a file it must not write stays unwritten.
vm_check nobodys_copy_up_in_a_changed_sticky_dir_stays_roots \
	"echo root > sticky2/r
$NOBODY sh -c 'echo nobody >> sticky2/w; chmod 777 sticky2/w || echo chmod-denied; echo x >> sticky2/r || echo write-denied'
ls -ln sticky2 | cut -d' ' -f1,3,4,9; cat sticky2/w"

vm_check a_daemon_dropping_root_after_start_copies_up_as_root \
	"/usr/bin/python3 -c '
import os
os.setgroups([]); os.setgid(65534); os.setuid(65534)
open(\"w666\", \"a\").write(\"daemon\\n\")
os.makedirs(\"deep/er/sticky/d\")
try:
    open(\"s600\", \"a\")
except PermissionError:
    print(\"denied\")
'; ls -ln w666 | cut -d' ' -f1,3,4,9; ls -lnd deep/er/sticky/d | cut -d' ' -f1,3,4"

# A hostile process of the VM speaks the copy-up broker's protocol itself, as nobody:
# the copies it obtains keep the host's owner and mode, so it still reads, writes and
# chmods nothing the host would refuse it; a path in the store is refused.
if [ -x /usr/bin/python3 ]; then
	cat > "$T/cu-probe.py" <<'PY'
import ctypes, os, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
where = os.environ["FVM_CU_BROKER"].encode()
addr = struct.pack("H", socket.AF_UNIX) + where.ljust(108, b"\0")
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # a connect(2) libfvm does not see, as a hostile program makes it (libfvm hides the
    # store; it wraps syscall() too, so glibc's internal __connect)
    if libc.__connect(s.fileno(), addr, len(addr)) != 0:
        sys.exit("connect: " + os.strerror(ctypes.get_errno()))
    s.send(struct.pack("II", 1, 1) + path.encode().ljust(4096, b"\0"))
    print(path.rsplit("/", 1)[-1], os.strerror(struct.unpack("i", s.recv(4))[0]))
PY
	chmod 644 "$T/cu-probe.py"
	vm_expect broker_copies_for_a_hostile_caller_change_nothing_it_sees "s600 Success
format Permission denied
denied
denied
chmod-denied
-rw------- 0 0 s600" \
		"$NOBODY /usr/bin/python3 '$T/cu-probe.py' '$HOST/s600' '$FVM_HOME/format'
$NOBODY cat '$HOST/s600' 2>/dev/null || echo denied; $NOBODY sh -c 'echo x >> $HOST/s600' 2>/dev/null || echo denied
$NOBODY chmod 666 '$HOST/s600' 2>/dev/null || echo chmod-denied; ls -ln '$HOST/s600' | cut -d' ' -f1,3,4 | tr '\n' ' '; echo s600"
	[ "$(stat -c %u:%a "$FVM_HOME/vms/$LAST_VM/upper$HOST/s600" 2>&1)" = 0:600 ] &&
		ok broker_copy_is_roots_in_the_layer ||
		not_ok broker_copy_is_roots_in_the_layer "$(ls -ln "$FVM_HOME/vms/$LAST_VM/upper$HOST" 2>&1)"
fi

# A daemon started by start-stop-daemon --background closes every descriptor it
# inherited, then runs as nobody: its copy-ups still reach the broker, by path.
if command -v start-stop-daemon >/dev/null; then
	printf '#!/bin/sh\necho daemon >> w666; echo y > deep/er/sticky/f; echo done > sticky/done\n' > "$HOST/job.sh"
	chmod 755 "$HOST/job.sh"
	vm_check start_stop_daemon_background_chuid_nobody_copies_up \
		"start-stop-daemon --start --background --chuid nobody --chdir '$HOST' --startas '$HOST/job.sh' --name job.sh
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -e sticky/done ] && break; sleep 0.2; done
cat w666; ls -ln w666 deep/er/sticky | cut -d' ' -f1,3,4,9"
	rm -f "$HOST/job.sh"
fi

# fvm diff and commit see the file as nobody's; the commit lands it on the host so.
VM_SEQ=$((VM_SEQ + 1)); vm=t$VM_SEQ
snapshot_host
(cd "$HOST" && "$FVM_EXEC" -n "$vm" -- sh -c 'echo root > sticky/r; runuser -u nobody -- sh -c "echo x > sticky/made-by-nobody"') 2>&1
out=$("$FVM" diff "$vm" --json "$HOST/sticky/made-by-nobody" 2>&1)
case $out in *'"uid_after":65534'*) ok fvm_diff_shows_nobodys_file_as_nobodys ;;
*) not_ok fvm_diff_shows_nobodys_file_as_nobodys "$out" ;; esac
if host_unchanged > "$T/why" && "$FVM" commit "$vm" "$HOST/sticky/made-by-nobody" > "$T/commit.out" 2>&1 &&
	[ "$(stat -c %u "$HOST/sticky/made-by-nobody" 2>&1)" = "$(id -u nobody)" ]; then
	ok commit_lands_nobodys_file_as_nobodys
else
	not_ok commit_lands_nobodys_file_as_nobodys "$(cat "$T/why" "$T/commit.out")" \
		"$(ls -ln "$HOST/sticky" 2>&1)"
fi
restore_host

# The store widens nothing: from outside the VM, another uid lists and reads nothing of
# it, and reaches upper/ only where the host's modes let it.
d=$FVM_HOME/vms/$vm
out=$($NOBODY sh -c "ls '$FVM_HOME' '$d' '$d/work' 2>&1 >/dev/null | wc -l; ls '$d/upper' >/dev/null 2>&1 && echo upper-listable;
	ls '$d/work' >/dev/null 2>&1 && echo work-listable
	cat '$d/origins' > /dev/null 2>&1 && echo origins-readable; cat '$d/state' > /dev/null 2>&1 && echo state-readable")
[ "$out" = "3
upper-listable" ] && ok store_gives_another_uid_no_more_than_host_modes ||
	not_ok store_gives_another_uid_no_more_than_host_modes "$out" "$(ls -la "$FVM_HOME" "$d")"

# Users and groups: the host's files never change; a native run would print the same.
VM_SEQ=$((VM_SEQ + 1)); vm=t$VM_SEQ
out=$("$FVM_EXEC" -n "$vm" -- bash -c 'groupadd -g 4712 fvmtg && echo groupadd-ok
useradd -M -u 4711 -s /bin/sh fvmtu && echo useradd-ok
grep -h "^fvmt[gu]:" /etc/group /etc/passwd; grep -c "^fvmtu:!:" /etc/shadow; ls -ln /etc/.pwd.lock | cut -d" " -f1,3,4' 2>&1)
[ "$out" = "groupadd-ok
useradd-ok
fvmtg:x:4712:
fvmtu:x:4711:
fvmtu:x:4711:4711::/home/fvmtu:/bin/sh
1
-rw------- 0 0" ] && ok useradd_and_groupadd_write_the_vms_password_files ||
	not_ok useradd_and_groupadd_write_the_vms_password_files "$out"
etc_unchanged host_password_files_unchanged_after_useradd

vm_expect id_getent_and_passwd_see_the_vms_new_user "uid=4711(fvmtu) gid=4711(fvmtu) groups=4711(fvmtu)
fvmtu:x:4711:4711::/home/fvmtu:/bin/sh
fvmtg:x:4712:
passwd: password changed.
fvmtu NP" \
	'groupadd -g 4712 fvmtg; useradd -M -u 4711 -s /bin/sh fvmtu; id fvmtu; getent passwd fvmtu; getent group fvmtg
passwd -d fvmtu 2>&1; passwd -S fvmtu 2>&1 | cut -d" " -f1,2'
etc_unchanged host_password_files_unchanged_after_passwd

# A local .deb whose postinst makes a system user and chowns a file to it.
if command -v dpkg-deb >/dev/null && command -v apt-get >/dev/null; then
	PKG=fvm-compat-sysuser
	B=$T/pkg
	mkdir -p "$B/DEBIAN" "$B/usr/share/$PKG"
	printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: fvm <fvm@example.org>\nDescription: fvm compat test\n' \
		"$PKG" > "$B/DEBIAN/control"
	printf '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  getent passwd fvmsys >/dev/null || useradd -r -M -s /usr/sbin/nologin fvmsys\n  chown fvmsys /usr/share/%s/owned\nfi\n' \
		"$PKG" > "$B/DEBIAN/postinst"
	chmod 755 "$B/DEBIAN/postinst"
	echo data > "$B/usr/share/$PKG/owned"
	chmod 755 "$T/pkg"
	dpkg-deb --root-owner-group -b "$B" "$T/$PKG.deb" >/dev/null && chmod 644 "$T/$PKG.deb" ||
		not_ok dpkg_deb_builds_the_package
	check='u=$(grep "^fvmsys:" /etc/passwd | cut -d: -f3); [ -n "$u" ] && [ "$(stat -c %u /usr/share/'$PKG'/owned)" = "$u" ] && echo owned-by-fvmsys
dpkg -s '$PKG' | grep "^Status"'
	vm_expect dpkg_i_of_a_deb_whose_postinst_makes_a_system_user "owned-by-fvmsys
Status: install ok installed" "dpkg -i '$T/$PKG.deb' >/dev/null 2>&1; $check"
	vm_expect apt_get_install_of_a_local_deb_whose_postinst_makes_a_system_user "owned-by-fvmsys
Status: install ok installed" "apt-get install -y '$T/$PKG.deb' >/dev/null 2>&1; $check"
	etc_unchanged host_password_files_and_dpkg_unchanged_after_install
else
	skip dpkg_i_of_a_deb_whose_postinst_makes_a_system_user "dpkg-deb or apt-get is not installed"
fi

done_testing
