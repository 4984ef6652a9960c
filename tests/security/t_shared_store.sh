#!/usr/bin/env bash
# Issue 13, item 5 and "no share, and no scope, ever makes the store, fvm's
# configuration files or the fvm binaries in use writable from a VM": a share that
# covers the store (--share of its parent, as "share = ~" does with the default
# store), a scope that leaves the store outside it, a share covering the fvm-exec and
# libfvm.so in use or the configuration file read; from inside VM a, the static helper
# (and a shell) write VM b's layer and vm.conf, the library and the configuration.
. "$(dirname "$0")/lib.sh"
sec_require

mkdir -p "$HOST/dir"
vm b -- sh -c "echo b > '$HOST/dir/b-file'" > /dev/null 2>&1
OTHER_VM=b
B=$(vmdir b)

# share_case NAME WHY OPTIONS... -- CMD: VM a with OPTIONS runs CMD; b and the host stay.
# Fixed, fvm-exec may refuse such a share (exit 125) or the write may fail: both pass.
share_case() {
	local name=$1 why=$2
	shift 2
	sec_snapshot
	(cd "$HOST" && vm a "$@") > "$T/a.out" 2>&1
	verdict "$name" "$why"
}

share_case share_of_the_store_parent_does_not_open_another_vm_layer_static "" \
	--share "$T" -- "$ATK" put "$B/upper$HOST/dir/b-file" evil
share_case share_of_the_store_parent_does_not_open_another_vm_conf_static "" \
	--share "$T" -- "$ATK" append "$(ctldir b)/vm.conf" "enforce = off
"
# Already safe today: libfvm hides the store from a dynamic program, and the fence
# shares nothing outside a scope with a static one.
share_case share_of_the_store_parent_does_not_open_another_vm_conf_shell "" \
	--share "$T" -- sh -c "echo 'enforce = off' >> '$(ctldir b)/vm.conf'"
share_case scope_leaves_the_store_protected_static "" \
	--scope "$HOST/dir" -- "$ATK" put "$B/upper$HOST/dir/b-file" evil

# The default store beneath HOME, "share = ~" in the VM's own vm.conf.
mkdir -p "$T/home"
(
	export HOME=$T/home XDG_DATA_HOME= XDG_CONFIG_HOME=
	unset FVM_HOME
	store=$T/home/.local/share/fvm
	vm b -- true > /dev/null 2>&1
	before=$(manifest "$store/vms/b"; manifest "$store/ctl/b")
	vm a -- true > /dev/null 2>&1
	printf 'share = %s\n' "$T/home" >> "$store/ctl/a/vm.conf"
	(cd "$HOST" && vm a -- "$ATK" append "$store/ctl/b/vm.conf" "enforce = off
") > /dev/null 2>&1
	after=$(manifest "$store/vms/b"; manifest "$store/ctl/b")
	[ "$before" = "$after" ] && ok share_home_with_the_default_store_does_not_open_another_vm ||
		not_ok share_home_with_the_default_store_does_not_open_another_vm "$(diff <(echo "$before") <(echo "$after"))"
	echo "$TAP_N" > "$T/tap_n"
)
TAP_N=$(cat "$T/tap_n")

# The fvm binaries in use and the configuration read: copies this test makes.
mkdir -p "$T/inst/fvm-exec" "$T/inst/libfvm" "$T/conf"
cp "$FVM_EXEC" "$T/inst/fvm-exec/fvm-exec"
cp "$TOP/libfvm/libfvm.so" "$T/inst/libfvm/libfvm.so"
printf 'net = all\n' > "$T/conf/fvm.conf"
sums() { sha256sum "$T/inst/fvm-exec/fvm-exec" "$T/inst/libfvm/libfvm.so" "$T/conf/fvm.conf"; }
before=$(sums)
sec_snapshot
(cd "$HOST" && tmo "$T/inst/fvm-exec/fvm-exec" -n c -c "$T/conf/fvm.conf" --share "$T/inst" -- \
	"$ATK" append "$T/inst/libfvm/libfvm.so" "evil") > /dev/null 2>&1
verdict share_covering_the_libfvm_in_use_does_not_open_it_static "" \
	"$([ "$(sums)" = "$before" ] || echo "libfvm.so changed")"
before=$(sums)
(cd "$HOST" && tmo "$T/inst/fvm-exec/fvm-exec" -n c -c "$T/conf/fvm.conf" --share "$T/conf" -- \
	"$ATK" append "$T/conf/fvm.conf" "enforce = off
") > /dev/null 2>&1
verdict share_covering_the_configuration_read_does_not_open_it_static "" \
	"$([ "$(sums)" = "$before" ] || echo "fvm.conf changed: $(tail -1 "$T/conf/fvm.conf")")"

done_testing
