#!/usr/bin/env bash
# The Debian package (issue 20), root only: `make deb` builds fvm_VERSION_ARCH.deb
# (lintian finds no error: make deb runs it), with what the Makefile's install target
# lists at the Debian places, /etc/fvm.conf a conffile, Depends on the libraries fvm
# links. Then it is installed with dpkg -i, used and purged in a mount namespace whose
# /usr, /etc and /var are overlays of the machine's (so the machine's are left as they
# were, which the test checks): the installed fvm-exec runs the demo (a VM writes, the
# installed fvm diff shows it, fvm list names the VM, the host tree is unchanged), the
# installed bash completion answers, and the purge leaves nothing.
. "$(dirname "$0")/../lib/harness.sh"

if [ "$(id -u)" != 0 ]; then
	skip deb_package "installing a package (dpkg -i in a mount namespace) needs root"
	done_testing
	exit
fi
for tool in dpkg-buildpackage dh unshare; do
	if ! command -v "$tool" > /dev/null; then
		not_ok deb_tools "$tool is missing (make deps installs debhelper)"
		done_testing
		exit
	fi
done
if ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2> /dev/null; then
	skip deb_install "this kernel has no overlay file system for the namespace's /usr"
fi

version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
arch=$(dpkg --print-architecture)
deb=$T/out/fvm_${version}_${arch}.deb
mkdir -p "$T/out"
# What the machine has before: compared after the namespace is gone.
host_state() {
	for f in /usr/bin/fvm /usr/bin/fvm-exec /usr/lib/*/fvm /etc/fvm.conf /usr/share/bash-completion/completions/fvm \
		/usr/share/zsh/vendor-completions/_fvm /usr/share/man/man1/fvm.1.gz; do
		[ -e "$f" ] && echo "present $f"
	done
	dpkg-query -W -f='${Status}\n' fvm 2> /dev/null | sed 's/^/dpkg: /'
	ls -l --time-style=+%s /var/lib/dpkg/status
}
host_state > "$T/machine.before"

if make -C "$TOP" --no-print-directory deb B="$T/b" DEB_OUT="$T/out" > "$T/make.log" 2>&1 && [ -f "$deb" ]; then
	ok make_deb_builds_the_package
else
	not_ok make_deb_builds_the_package "$(tail -30 "$T/make.log")"
	done_testing
	exit
fi
lintian "$deb" > "$T/lintian" 2>&1
grep -q '^[EW]:' "$T/lintian" && not_ok lintian_has_no_error_or_warning "$(cat "$T/lintian")" ||
	ok lintian_has_no_error_or_warning

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$T/contents"
for f in /usr/bin/fvm /usr/bin/fvm-exec "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/fvm/libfvm.so" \
	"/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/fvm/libfvm-audit.so" /usr/share/man/man1/fvm.1.gz \
	/usr/share/man/man1/fvm-exec.1.gz /usr/share/man/man5/fvm.conf.5.gz /etc/fvm.conf \
	/usr/share/bash-completion/completions/fvm /usr/share/bash-completion/completions/fvm-exec \
	/usr/share/zsh/vendor-completions/_fvm /usr/share/doc/fvm/README.md.gz /usr/share/doc/fvm/copyright; do
	grep -qx "$f" "$T/contents" && ok "package_holds_$f" || not_ok "package_holds_$f" "$(cat "$T/contents")"
done
dpkg-deb -e "$deb" "$T/control"
grep -qx /etc/fvm.conf "$T/control/conffiles" && ok etc_fvm_conf_is_a_conffile ||
	not_ok etc_fvm_conf_is_a_conffile "$(cat "$T/control/conffiles" 2>&1)"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libseccomp2 libarchive13 libssl3 libjansson4 libsodium23 libxml2 libbsd0; do
	case "$depends" in *"$lib "*) ok "depends_on_$lib" ;; *) not_ok "depends_on_$lib" "$depends" ;; esac
done
# Build-Depends: each library's -dev is one of the Makefile's DEPS (make deps).
deps=$(make -C "$TOP" --no-print-directory -pn deps 2> /dev/null | sed -n 's/^DEPS := //p' | head -1)
for dev in $(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$TOP/debian/control" | grep -o 'lib[a-z0-9+.-]*-dev'); do
	case " $deps " in *" $dev "*) ok "build_depends_${dev}_is_in_make_deps" ;;
	*) not_ok "build_depends_${dev}_is_in_make_deps" "$deps" ;; esac
done

# Installed in a mount namespace over overlays of /usr, /etc and /var.
echo data > "$HOST/existing"
snapshot_host
cat > "$T/inside.sh" << 'EOF'
set -u
for d in usr etc var; do
	mkdir -p "$T/ov/$d/up" "$T/ov/$d/work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d/up,workdir=$T/ov/$d/work" "/$d" || exit 90
	[ "$(findmnt -n -o FSTYPE "/$d")" = overlay ] || exit 91
done
echo "mounted"
DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" > "$T/dpkg-i.log" 2>&1 || { echo "dpkg -i failed"; exit 1; }
echo "installed $(dpkg-query -W -f='${Status}' fvm)"
export FVM_HOME=$T/store-installed
cd "$HOST" || exit 1
/usr/bin/fvm-exec -v -n demo -- sh -c 'echo new > added; echo more >> existing' 2> "$T/exec.err"
echo "exec $?"
grep -o 'libfvm [^ ]*' "$T/exec.err"
/usr/bin/fvm diff demo
/usr/bin/fvm list | awk 'NR > 1 {print "list", $1}'
/usr/bin/fvm-exec -n x -- true; echo "true $?"
[ -f /etc/fvm.conf ] && echo "conf present"
bash -c '. /usr/share/bash-completion/completions/fvm; COMP_WORDS=(fvm di); COMP_CWORD=1; _fvm; echo "complete ${COMPREPLY[*]}"'
DEBIAN_FRONTEND=noninteractive dpkg --purge fvm > "$T/dpkg-purge.log" 2>&1 || echo "purge failed"
for f in /usr/bin/fvm /usr/bin/fvm-exec /etc/fvm.conf; do [ -e "$f" ] && echo "left $f"; done
echo "after purge: $(dpkg-query -W -f='${Status}' fvm 2>&1)"
EOF
DEB=$deb HOST=$HOST unshare -m --propagation private env T="$T" bash "$T/inside.sh" > "$T/inside.out" 2>&1
rc=$?
out=$(cat "$T/inside.out")
if [ $rc -ge 90 ]; then
	skip deb_install "the overlays of /usr, /etc and /var could not be mounted (status $rc): $out"
else
	expect_line() { # NAME LINE
		grep -qxF -- "$2" "$T/inside.out" && ok "$1" || not_ok "$1" "want: $2" "$out" "$(cat "$T/dpkg-i.log" 2>/dev/null)"
	}
	expect_line dpkg_i_installs "installed install ok installed"
	expect_line installed_fvm_exec_runs_the_command "exec 0"
	expect_line installed_fvm_exec_uses_the_installed_libfvm \
		"libfvm /usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/fvm/libfvm.so"
	expect_line installed_fvm_diff_shows_the_added_file "A $HOST/added"
	expect_line installed_fvm_diff_shows_the_modified_file "M $HOST/existing"
	expect_line installed_fvm_list_names_the_vm "list demo"
	expect_line installed_fvm_exec_true "true 0"
	expect_line installed_etc_fvm_conf "conf present"
	expect_line installed_bash_completion_answers "complete diff"
	grep -q '^left \|purge failed' "$T/inside.out" && not_ok dpkg_purge_leaves_nothing "$out" ||
		ok dpkg_purge_leaves_nothing
	grep -q '^after purge: .*not-installed\|^after purge: .*no packages found' "$T/inside.out" &&
		ok dpkg_purge_removes_the_package || not_ok dpkg_purge_removes_the_package "$out"
fi
host_unchanged > "$T/why" && ok host_tree_unchanged || not_ok host_tree_unchanged "$(cat "$T/why")"
host_state > "$T/machine.after"
diff -u "$T/machine.before" "$T/machine.after" > "$T/machine.diff" && ok machine_usr_etc_dpkg_unchanged ||
	not_ok machine_usr_etc_dpkg_unchanged "$(cat "$T/machine.diff")"
done_testing
