#!/usr/bin/env bash
# Compatibility: what glibc reads with its own internal opens (the name service's
# /etc/passwd, /etc/group and /etc/hosts, locales, gconv, message catalogs, the time
# zone) is the VM's after the VM
# changed it (libfvm/sud.c, nsswrap.c). Every scenario runs in a VM and natively and
# compares output and exit status, the host left unchanged. The scenarios that change
# /etc or /usr/lib/locale (root only) run natively in a private mount namespace over
# copies of those directories, so the native run never changes the host; the others
# (root and user) are plain vm_check over the test's tree.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash

sys_state() { sha256sum /etc/passwd /etc/group /etc/shadow /etc/hosts 2>/dev/null; ls -A /etc;
	ls -A /usr/lib/locale; sha256sum /usr/lib/locale/locale-archive 2>/dev/null; }
SYS_BEFORE=$(sys_state)
sys_unchanged() { # NAME: the host's /etc and locales are as they were
	local now
	now=$(sys_state)
	[ "$now" = "$SYS_BEFORE" ] && ok "$1" || not_ok "$1" "$(diff <(echo "$SYS_BEFORE") <(echo "$now"))"
}

# vm_vs_native_ns NAME SCRIPT: SCRIPT in a VM (the host unchanged), then natively in a
# mount namespace where /etc and /usr/lib/locale are fresh copies; outputs and exit
# statuses compared.
vm_vs_native_ns() {
	local name=$1 script=$2 vm vm_out vm_rc native_out native_rc ns=$T/ns
	VM_SEQ=$((VM_SEQ + 1)); vm=t$VM_SEQ
	snapshot_host
	vm_out=$(cd "$HOST" && "$FVM_EXEC" -n "$vm" -- bash -c "$script" 2>&1); vm_rc=$?
	LAST_VM_RC=$vm_rc
	if ! host_unchanged > "$T/why" 2>&1; then
		not_ok "$name (host changed)" "$(cat "$T/why")"; restore_host; return
	fi
	rm -rf "$ns"; mkdir -p "$ns"
	cp -a /etc "$ns/etc"; cp -a /usr/lib/locale "$ns/locale"
	native_out=$(cd "$HOST" && unshare -m bash -c "mount --bind '$ns/etc' /etc &&
		mount --bind '$ns/locale' /usr/lib/locale && bash -c \"\$0\"" "$script" 2>&1); native_rc=$?
	LAST_NATIVE_RC=$native_rc
	rm -rf "$ns"; restore_host
	if [ "$native_rc" != 0 ]; then
		not_ok "$name" "the scenario fails natively (exit $native_rc)" "native: $native_out"
	elif [ "$vm_rc" != "$native_rc" ] || [ "$vm_out" != "$native_out" ]; then
		not_ok "$name" "exit status: native $native_rc, VM $vm_rc; output (native, then VM):" \
			"$(diff <(echo "$native_out") <(echo "$vm_out"))"
	else
		ok "$name"
	fi
}

# As any user: a locale built into the test's tree (LOCPATH), then used by setlocale,
# date and locale(1); a character conversion through gconv; the name service's view of
# users, groups and hosts the VM did not change is the host's.
if command -v localedef >/dev/null && [ -e /usr/share/i18n/locales/fr_FR ]; then
	vm_check locale_built_with_localedef_into_locpath_is_used 'set -e
mkdir loc; localedef -i fr_FR -f UTF-8 loc/fr_FR.UTF-8 2>&1 | grep -v "^$" || true
export LOCPATH=$PWD/loc LC_ALL=fr_FR.UTF-8
locale charmap; date -u -d @86400 "+%A %d %B %Y"; locale -k LC_TIME | grep "^day=" | cut -c1-40
python3 -c "import locale, time; locale.setlocale(locale.LC_ALL, \"\"); print(time.strftime(\"%A\", time.gmtime(0)))"'
	if command -v msgfmt >/dev/null && command -v gettext >/dev/null; then
		vm_check message_catalog_built_with_msgfmt_is_used_by_gettext 'set -e
mkdir -p loc mo/fr/LC_MESSAGES; localedef -i fr_FR -f UTF-8 loc/fr_FR.UTF-8 2>&1 | grep -v "^$" || true
printf "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\\\n\"\n\nmsgid \"hello\"\nmsgstr \"bonjour\"\n" > fvm.po
msgfmt -o mo/fr/LC_MESSAGES/fvmtest.mo fvm.po
LOCPATH=$PWD/loc LC_ALL=fr_FR.UTF-8 TEXTDOMAINDIR=$PWD/mo gettext -d fvmtest hello; echo
LOCPATH=$PWD/loc LC_ALL=fr_FR.UTF-8 python3 -c "import gettext; print(gettext.translation(\"fvmtest\", \"mo\").gettext(\"hello\"))"'
	else
		skip message_catalog_built_with_msgfmt_is_used_by_gettext "no msgfmt or gettext"
	fi
else
	skip locale_built_with_localedef_into_locpath_is_used "no localedef or no fr_FR locale source"
fi
vm_check time_zone_file_made_in_the_vm_is_used \
	'cp /usr/share/zoneinfo/Asia/Tokyo zone; export TZ=:$PWD/zone; date -d @0 "+%Z %z %H"
python3 -c "import time; print(time.localtime(0).tm_hour, time.mktime(time.gmtime(0)), time.ctime(0))"'
vm_check iconv_converts_through_gconv_modules \
	'printf "caf\303\251\n" | iconv -f UTF-8 -t ISO-8859-15 | od -An -c; printf "x\n" | iconv -f UTF-8 -t EBCDIC-US | od -An -tx1'
# The window's hard cases (threads, signal handlers, a blocked SIGSYS, the program's own
# SIGSYS handler, fork), over a user the VM did not change.
vm_check lookups_from_threads_signal_handlers_and_forks "'$TOP/build/tests/helpers/nsswin' root"
vm_check unchanged_name_service_answers_as_natively \
	'id root; getent passwd root; getent group root; getent hosts localhost | head -1; getent services ssh | head -1; getent protocols tcp'

if [ "$(id -u)" != 0 ]; then
	skip etc_changes_in_vm "needs root: only root writes /etc and /usr/lib/locale (runs in the root pass)"
	sys_unchanged host_etc_and_locales_unchanged
	done_testing; exit
fi
command -v unshare >/dev/null && unshare -m true 2>/dev/null ||
	{ skip etc_changes_in_vm "unshare -m is not available"; done_testing; exit; }

vm_vs_native_ns hosts_edited_then_getent_hosts_and_getaddrinfo \
	'printf "10.9.8.7 fvmhost.example fvmalias\n" >> /etc/hosts
getent hosts fvmhost.example; getent ahostsv4 fvmalias | head -1; getent hosts 10.9.8.7
python3 -c "import socket; print(socket.gethostbyname(\"fvmalias\"), socket.gethostbyaddr(\"10.9.8.7\")[0])"'

vm_vs_native_ns useradd_groupadd_then_id_getent_and_chown_by_name \
	"$(printf '%s' 'groupadd -g 4722 fvmng && useradd -M -u 4721 -g fvmng -s /bin/sh fvmnu && echo added
id fvmnu; getent passwd fvmnu; getent group fvmng; getent passwd 4721 | cut -d: -f1
getent passwd | grep "^fvmnu:"; getent group | grep -c "^fvmng:"; getent shadow fvmnu | cut -d: -f1,2
touch f; chown fvmnu:fvmng f; stat -c "%U %G %u %g" f
usermod -aG fvmng root 2>&1; id -Gn root | tr " " "\n" | grep -x fvmng
python3 -c "import pwd, grp; print(pwd.getpwnam(\"fvmnu\").pw_uid, grp.getgrgid(4722).gr_name)"
NSSWIN fvmnu
userdel fvmnu && groupdel fvmng 2>&1; id fvmnu 2>&1; true' | sed "s|NSSWIN|$TOP/build/tests/helpers/nsswin|")"

vm_vs_native_ns localtime_relinked_in_the_vm_is_the_time_zone \
	'ln -sf /usr/share/zoneinfo/Asia/Tokyo /etc/localtime; date -d @0 "+%Z %z %H"
python3 -c "import time; print(time.localtime(0).tm_hour, time.mktime(time.gmtime(0)), time.ctime(0))"
TZ=Europe/Paris date -d @0 "+%Z %z"'

# A process that read the time zone before (libfvm then knows /etc unchanged, at that
# generation) sees the zone another process of the VM links in afterwards.
vm_vs_native_ns localtime_relinked_by_another_process_is_seen_by_a_running_one \
	'python3 -c "
import os, subprocess, time
time.tzset(); print(time.localtime(0).tm_hour, time.ctime(0))
subprocess.run([\"ln\", \"-sf\", \"/usr/share/zoneinfo/Asia/Tokyo\", \"/etc/localtime\"], check=True)
time.tzset(); print(time.localtime(0).tm_hour, time.ctime(0))
"'

if command -v localedef >/dev/null && [ -e /usr/share/i18n/locales/de_DE ]; then
	vm_vs_native_ns locale_made_with_localedef_then_used \
		'localedef -i de_DE -f UTF-8 de_DE.UTF-8 2>&1 | grep -v "^$"; locale -a | grep -i "^de_DE"
LC_ALL=de_DE.UTF-8 locale charmap; LC_ALL=de_DE.UTF-8 date -u -d @86400 "+%A %d %B %Y"
LC_ALL=de_DE.UTF-8 printf "%'"'"'d\n" 1234567; LC_ALL=de_DE.UTF-8 locale -k LC_NUMERIC | head -2'
else
	skip locale_made_with_localedef_then_used "no localedef or no de_DE locale source"
fi

sys_unchanged host_etc_and_locales_unchanged
done_testing
