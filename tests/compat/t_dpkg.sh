#!/usr/bin/env bash
# Compatibility (needs root): dpkg -i of a small .deb the test builds with dpkg-deb.
# Inside the VM the package's files exist and run and dpkg -l shows it; the host's dpkg
# database and /usr are unchanged; dpkg -r inside the VM removes it again.
. "$(dirname "$0")/../lib/harness.sh"
if [ "$(id -u)" != 0 ]; then
	skip dpkg_install_in_vm "needs root: dpkg writes its database as root only (runs in the root pass)"
	done_testing; exit
fi
command -v dpkg-deb >/dev/null || { skip dpkg_install_in_vm "dpkg-deb is not installed"; done_testing; exit; }

PKG=fvm-compat-hello
B=$T/pkg
mkdir -p "$B/DEBIAN" "$B/usr/bin" "$B/usr/share/$PKG"
printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: fvm <fvm@example.org>\nDescription: fvm compat test\n' \
	"$PKG" > "$B/DEBIAN/control"
printf '#!/bin/sh\necho hello from %s\n' "$PKG" > "$B/usr/bin/$PKG"
chmod 755 "$B/usr/bin/$PKG"
echo data > "$B/usr/share/$PKG/data"
dpkg-deb --root-owner-group -b "$B" "$T/$PKG.deb" >/dev/null || { not_ok dpkg_deb_builds_the_package; done_testing; exit; }
dpkg -s "$PKG" >/dev/null 2>&1 && { not_ok host_does_not_have_the_package "remove $PKG from the host first"; done_testing; exit; }

host_state() { sha256sum /var/lib/dpkg/status; ls /var/lib/dpkg/info | sha256sum; ls -la /usr/bin | sha256sum; }
before=$(host_state)
vm() { "$FVM_EXEC" -n pkgvm -- sh -c "$1" 2>&1; }

out=$(vm "dpkg -i '$T/$PKG.deb' >/dev/null && $PKG && cat /usr/share/$PKG/data")
[ "$out" = "hello from $PKG
data" ] && ok dpkg_i_installs_files_that_run_in_vm || not_ok dpkg_i_installs_files_that_run_in_vm "$out"
out=$(vm "dpkg -l $PKG | tail -1 | cut -c1-40; dpkg -L $PKG | grep bin/")
case $out in "ii  $PKG"*"/usr/bin/$PKG") ok dpkg_l_in_vm_shows_the_package ;;
*) not_ok dpkg_l_in_vm_shows_the_package "$out" ;; esac
after=$(host_state)
[ "$before" = "$after" ] && [ ! -e "/usr/bin/$PKG" ] && ! dpkg -s "$PKG" >/dev/null 2>&1 &&
	ok host_dpkg_database_and_usr_unchanged ||
	not_ok host_dpkg_database_and_usr_unchanged "$(diff <(echo "$before") <(echo "$after"))"
out=$(vm "dpkg -r $PKG >/dev/null; command -v $PKG || echo gone; dpkg -s $PKG 2>&1 | head -1; dpkg --audit && echo audit-clean")
case $out in "gone"*"audit-clean") ok dpkg_r_in_vm_removes_it_again ;;
*) not_ok dpkg_r_in_vm_removes_it_again "$out" ;; esac
[ "$before" = "$(host_state)" ] && ok host_unchanged_after_remove || not_ok host_unchanged_after_remove

done_testing
