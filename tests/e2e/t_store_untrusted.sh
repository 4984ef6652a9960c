#!/usr/bin/env bash
# The store is untrusted input to the tools (issue 13): what a VM can plant in its own
# data area ($FVM_HOME/vms/NAME, the one part of the store the fence lets it write) never
# makes fvm or fvm-exec write, remove or truncate a host file, hang, or act wider than
# asked. Each attack plants what a static program in the VM could (links, FIFOs, forged
# lines), then runs the tool with a time bound; the host tree and the host's IPC objects
# must be as they were. The store layout (format 2), its permissions, the format check
# and the migration of a format-1 store are checked at the end.
. "$(dirname "$0")/../lib/harness.sh"

HELPERS=$TOP/build/tests/helpers
SYSV=$HELPERS/ipc-sysv
TO=20 # seconds: a tool still running then is hung
echo "# $(whoami_tag)"

# The control area of VM $1: ctl/NAME in format 2, the VM's own directory before.
ctl_of() { if [ -d "$FVM_HOME/ctl/$1" ]; then echo "$FVM_HOME/ctl/$1"; else echo "$FVM_HOME/vms/$1"; fi; }
data_of() { echo "$FVM_HOME/vms/$1"; }
tool() { timeout -k 2 $TO "$@"; } # runs a tool, bounded; 124 when it hung

IMP=$T/important # a host directory the VM has no business touching
mkdir -p "$IMP" "$HOST/proj/build"
echo precious > "$IMP/x.o"
echo precious > "$IMP/keep"
echo object > "$HOST/proj/build/x.o"
echo one > "$HOST/one"
echo two > "$HOST/two"
imp_manifest() { manifest "$IMP"; }
IMP_BEFORE=$(imp_manifest)
imp_same() { [ "$(imp_manifest)" = "$IMP_BEFORE" ]; }
snapshot_host
# The VMs below write relative names: they land, and commit, in $HOST, the working
# directory; restore_host makes $HOST anew, so each restore goes back into it.
restore() { restore_host; cd "$HOST" || exit 1; }
cd "$HOST" || exit 1

# 1. fvm reset does not follow a link the VM put where a directory was.
(cd "$HOST/proj" && tool "$FVM_EXEC" -n lnk -- sh -c "rm -rf build; ln -s '$IMP' build") >/dev/null 2>&1
tool "$FVM" reset lnk "$HOST/proj/build/x.o" > "$T/out" 2>&1
if imp_same && [ -e "$IMP/x.o" ]; then ok reset_does_not_follow_a_link_planted_in_upper; else
	not_ok reset_does_not_follow_a_link_planted_in_upper "$(cat "$T/out")" "$(ls -la "$IMP")"; fi
tool "$FVM" reset lnk "$HOST/proj/build" > "$T/out" 2>&1
tool "$FVM" reset lnk > "$T/out" 2>&1
imp_same && ok reset_of_a_linked_directory_removes_only_the_link || not_ok reset_of_a_linked_directory_removes_only_the_link "$(ls -la "$IMP")"

# 2. upper/ itself replaced by a link to a host directory.
tool "$FVM_EXEC" -n up -- sh -c 'echo v > one' >/dev/null 2>&1
d=$(data_of up)
mv "$d/upper" "$d/upper.real" && ln -s "$IMP" "$d/upper"
tool "$FVM" reset up > "$T/out" 2>&1; rc=$?
if imp_same && [ $rc != 124 ]; then ok reset_refuses_upper_that_is_a_link; else
	not_ok reset_refuses_upper_that_is_a_link "rc $rc" "$(cat "$T/out")" "$(ls -la "$IMP")"; fi
tool "$FVM" commit up > "$T/out" 2>&1
tool "$FVM" rm up > "$T/out" 2>&1
tool "$FVM" rm -f up > "$T/out" 2>&1
imp_same && ok commit_and_rm_refuse_upper_that_is_a_link || not_ok commit_and_rm_refuse_upper_that_is_a_link "$(ls -la "$IMP")"
rm -f "$d/upper"; [ -d "$d/upper.real" ] && mv "$d/upper.real" "$d/upper"

# 3. A vm.conf planted in the data area widens nothing.
tool "$FVM_EXEC" -n cf -- true >/dev/null 2>&1
d=$(data_of cf)
printf 'share = %s\nenforce = off\n' "$IMP" >> "$d/vm.conf"
tool "$FVM_EXEC" -n cf -- sh -c "echo pwned > '$IMP/new'; echo pwned >> '$IMP/keep'" >/dev/null 2>&1
imp_same && ok vm_conf_planted_in_the_data_area_widens_nothing || not_ok vm_conf_planted_in_the_data_area_widens_nothing "$(ls -la "$IMP")"

# 4. The VM cannot reach its control area: a static program's raw writes there fail.
if [ -x "$HELPERS/try-syscall-static" ]; then
	c=$(ctl_of cf)
	out=$(tool "$FVM_EXEC" -n cf -- "$HELPERS/try-syscall-static" write "$c/vm.conf" 2>/dev/null)
	out2=$(tool "$FVM_EXEC" -n cf -- "$HELPERS/try-syscall-static" create "$c/commit.journal" 2>/dev/null)
	if [ "$out" != "write: ok" ] && [ "$out2" != "create: ok" ] && [ ! -e "$c/commit.journal" ]; then
		ok control_area_is_not_writable_by_the_vm
	else
		not_ok control_area_is_not_writable_by_the_vm "$out" "$out2"
	fi
else
	skip control_area_is_not_writable_by_the_vm "try-syscall-static not built"
fi

# 5. Temporaries and the lock: links planted at every name the tool could use.
#    The tool is exec'd by the shell that planted them, so "$$" is its pid.
tool "$FVM_EXEC" -n tmp -- sh -c 'echo v > one' >/dev/null 2>&1
d=$(data_of tmp)
tool sh -c 'for f in origins policy commit.journal vm.conf; do ln -s "$1/$f.victim" "$2/$f.tmp.$$"; done; exec "$3" reset tmp' \
	sh "$IMP" "$d" "$FVM" >/dev/null 2>&1
tool "$FVM_EXEC" -n tmp -- sh -c 'echo v > two' >/dev/null 2>&1
tool sh -c 'for f in origins policy commit.journal vm.conf; do ln -s "$1/$f.victim" "$2/$f.tmp.$$"; done; exec "$3" commit tmp' \
	sh "$IMP" "$d" "$FVM" >/dev/null 2>&1
tool sh -c 'for f in origins policy commit.journal vm.conf; do ln -s "$1/$f.victim" "$2/$f.tmp.$$"; done; exec "$3" -n tmp -- true' \
	sh "$IMP" "$d" "$FVM_EXEC" >/dev/null 2>&1
imp_same && ok temporaries_planted_as_links_are_not_followed || not_ok temporaries_planted_as_links_are_not_followed "$(ls -la "$IMP")"
restore
rm -f "$d/lock"; ln -s "$IMP/lock.victim" "$d/lock"
tool "$FVM_EXEC" -n tmp -- true >/dev/null 2>&1
tool "$FVM" reset tmp >/dev/null 2>&1
imp_same && ok lock_planted_as_a_link_is_not_followed || not_ok lock_planted_as_a_link_is_not_followed "$(ls -la "$IMP")"

# 6. FIFOs, /dev/zero and directories in place of control files: an error naming the
#    file, never a hang. Each in the data area (the VM's) and in the control area.
fifo_case() { # WHERE FILE KIND
	local where=$1 f=$2 kind=$3 vm dir rc1 rc2 rc3 rc4 rc5
	vm=ff$VM_SEQ; VM_SEQ=$((VM_SEQ + 1))
	tool "$FVM_EXEC" -n $vm -- sh -c 'echo v > one' >/dev/null 2>&1
	[ "$where" = data ] && dir=$(data_of $vm) || dir=$(ctl_of $vm)
	rm -rf "${dir:?}/$f"
	case $kind in
	fifo) mkfifo "$dir/$f" ;;
	zero) ln -s /dev/zero "$dir/$f" ;;
	dir) mkdir "$dir/$f" ;;
	esac
	tool "$FVM_EXEC" -n $vm -- true > "$T/o1" 2>&1; rc1=$?
	tool "$FVM" info $vm > "$T/o2" 2>&1; rc2=$?
	tool "$FVM" commit $vm > "$T/o3" 2>&1; rc3=$?
	tool "$FVM" reset $vm > "$T/o4" 2>&1; rc4=$?
	tool "$FVM" rm $vm > "$T/o5" 2>&1; rc5=$?
	local name="${kind}_as_${where}_${f}_is_an_error_not_a_hang"
	if [ $rc1 = 124 ] || [ $rc2 = 124 ] || [ $rc3 = 124 ] || [ $rc4 = 124 ] || [ $rc5 = 124 ]; then
		not_ok "$name" "exit: exec $rc1, info $rc2, commit $rc3, reset $rc4, rm $rc5"
	elif [ "$where/$f" = ctl/vm.conf ] && ! { [ $rc1 = 125 ] && grep -q "vm.conf" "$T/o1"; }; then
		not_ok "$name" "fvm-exec: rc $rc1, want 125 naming the file" "$(cat "$T/o1")"
	else
		ok "$name"
	fi
	tool "$FVM" rm -f $vm >/dev/null 2>&1
	rm -rf "$(data_of $vm)" "$FVM_HOME/ctl/$vm"
}
for kind in fifo zero dir; do
	for f in vm.conf origins ipc commit.journal state; do fifo_case data $f $kind; done
	for f in vm.conf commit.journal lock; do fifo_case ctl $f $kind; done
done
restore

# 7. A forged journal cannot turn "commit one path" into a forced commit of everything.
(cd "$HOST" && tool "$FVM_EXEC" -n jr -- sh -c 'echo vm >> one; echo vm >> two') >/dev/null 2>&1
echo "changed on the host" >> "$HOST/two" # now a conflict: only --force would overwrite it
host_two=$(cat "$HOST/two")
for where in data ctl; do
	[ $where = data ] && dir=$(data_of jr) || dir=$(ctl_of jr)
	printf 'fvm-commit-journal 1\nid abc\nforce 1\nend\n' > "$dir/commit.journal"
	tool "$FVM" commit jr "$HOST/one" > "$T/out" 2>&1
	rm -f "$dir/commit.journal"
	# The data area's journal is not the tools' (one is committed as asked); the control
	# area's asks more than this commit and is refused, naming the command.
	if [ $where = data ]; then
		[ "$(cat "$HOST/one")" = "$(printf 'one\nvm')" ]; asked=$?
	else
		grep -q "interrupted commit with --force" "$T/out"; asked=$?
	fi
	if [ "$(cat "$HOST/two")" = "$host_two" ] && [ $asked = 0 ]; then ok "forged_journal_in_${where}_area_cannot_force"; else
		not_ok "forged_journal_in_${where}_area_cannot_force" "$(cat "$T/out")" "two: $(cat "$HOST/two")"; fi
done
restore

# 8. A forged IPC registry line cannot make fvm rm remove a host SysV object.
if [ -x "$SYSV" ]; then
	key=$((0x5f000000 + ($$ & 0xffff)))
	"$SYSV" rm $key >/dev/null 2>&1
	if "$SYSV" put $key hostdata >/dev/null 2>&1; then
		tool "$FVM_EXEC" -n ip -- true >/dev/null 2>&1
		d=$(data_of ip)
		for k in shmkey semkey msgkey; do
			printf '%s %d 1\n' $k $key >> "$d/ipc"
			printf '%s\t%d\t1\n' $k $key >> "$d/ipc"
		done
		tool "$FVM" rm ip > "$T/out" 2>&1
		if [ "$("$SYSV" get $key 2>&1)" = hostdata ]; then ok forged_ipc_line_cannot_remove_a_host_segment; else
			not_ok forged_ipc_line_cannot_remove_a_host_segment "$(cat "$T/out")"; fi
		"$SYSV" rm $key >/dev/null 2>&1
	else
		skip forged_ipc_line_cannot_remove_a_host_segment "cannot create a SysV segment here"
	fi
else
	skip forged_ipc_line_cannot_remove_a_host_segment "ipc-sysv not built"
fi

# 9. No share may cover the store, fvm's configuration or its binaries.
share_refused() { # NAME VALUE
	printf '# test\nshare = %s\n' "$2" > "$T/share.conf"
	tool "$FVM_EXEC" -c "$T/share.conf" -n sh1 -- true > "$T/out" 2>&1; rc=$?
	if [ $rc = 125 ] && grep -q "share.conf:2" "$T/out"; then ok "$1"; else not_ok "$1" "rc $rc" "$(cat "$T/out")"; fi
}
share_refused share_containing_the_store_is_refused "$T"
share_refused share_inside_the_store_is_refused "$FVM_HOME/vms"
share_refused share_of_the_binaries_is_refused "$(dirname "$FVM_EXEC")" # the fvm-exec in use
ln -s "$FVM_HOME" "$T/store-link"
share_refused share_of_the_store_through_a_link_is_refused "$T/store-link/.."
mkdir -p "$T/xdg/fvm"; echo '# mine' > "$T/xdg/fvm/fvm.conf"; ln -s "$T/xdg/fvm/fvm.conf" "$T/conf-link"
out=$(XDG_CONFIG_HOME=$T/xdg tool "$FVM_EXEC" --share "$T/conf-link" -n sh2 -- true 2>&1); rc=$?
[ $rc = 125 ] && ok share_of_a_link_to_the_user_configuration_is_refused || not_ok share_of_a_link_to_the_user_configuration_is_refused "rc $rc" "$out"
out=$(tool "$FVM_EXEC" --share "$FVM_HOME" -n sh2 -- true 2>&1); rc=$?
[ $rc = 125 ] && ok share_of_the_store_on_the_command_line_is_refused || not_ok share_of_the_store_on_the_command_line_is_refused "rc $rc" "$out"
out=$(tool "$FVM_EXEC" --share "$IMP" -n sh3 -- true 2>&1); rc=$?
[ $rc = 0 ] && ok share_of_an_unrelated_directory_still_works || not_ok share_of_an_unrelated_directory_still_works "rc $rc" "$out"

# 10. With a scope, fvm's configuration stays protected (even without the fence).
XDG_CONFIG_HOME=$T/xdg tool "$FVM_EXEC" --enforce off --scope "$HOST" -n sc -- \
	sh -c "echo 'share = /' >> '$T/xdg/fvm/fvm.conf'" >/dev/null 2>&1
[ "$(cat "$T/xdg/fvm/fvm.conf")" = '# mine' ] && ok scope_leaves_the_user_configuration_protected ||
	not_ok scope_leaves_the_user_configuration_protected "$(cat "$T/xdg/fvm/fvm.conf")"

# 11. The layout: format file, areas, permissions.
tool "$FVM_EXEC" -n lay -- true >/dev/null 2>&1
perm() { stat -c %a "$1" 2>/dev/null; }
got="format=$(cat "$FVM_HOME/format" 2>/dev/null) home=$(perm "$FVM_HOME") vms=$(perm "$FVM_HOME/vms") vm=$(perm "$FVM_HOME/vms/lay") upper=$(perm "$FVM_HOME/vms/lay/upper") work=$(perm "$FVM_HOME/vms/lay/work") ctl=$(perm "$FVM_HOME/ctl") ctlvm=$(perm "$FVM_HOME/ctl/lay") layers=$(perm "$FVM_HOME/layers")"
want="format=fvm-store 3 home=711 vms=711 vm=711 upper=$(perm /) work=1733 ctl=700 ctlvm=700 layers=711"
[ "$got" = "$want" ] && ok store_layout_and_permissions || not_ok store_layout_and_permissions "want $want" "got  $got"
for f in vm.conf policy lock; do
	[ -f "$FVM_HOME/ctl/lay/$f" ] && [ ! -e "$FVM_HOME/vms/lay/$f" ] || { not_ok "control_file_${f}_in_ctl"; continue; }
	ok "control_file_${f}_in_ctl"
done

# 12. Another format is refused; a format-1 store is refused until fvm migrate.
S2=$T/store-new; mkdir -p "$S2"; echo 'fvm-store 99' > "$S2/format"
out=$(FVM_HOME=$S2 tool "$FVM_EXEC" -n x -- true 2>&1); rc=$?
out2=$(FVM_HOME=$S2 tool "$FVM" list 2>&1); rc2=$?
if [ $rc = 125 ] && [ $rc2 != 0 ] && [[ $out == *format* ]] && [[ $out2 == *format* ]] && [ ! -e "$S2/vms/x" ]; then
	ok newer_store_format_is_refused; else not_ok newer_store_format_is_refused "rc $rc: $out" "rc $rc2: $out2"; fi
S1=$T/store-old; mkdir -p "$S1/vms/old/upper$HOST" "$S1/vms/old/work"
echo 'from the VM' > "$S1/vms/old/upper$HOST/one"
printf 'nice = 3\nshare = %s\n' "$IMP" > "$S1/vms/old/vm.conf"
: > "$S1/vms/old/origins"; : > "$S1/vms/old/lock"
out=$(FVM_HOME=$S1 tool "$FVM_EXEC" -n old -- cat "$HOST/one" 2>&1); rc=$?
if [ $rc = 125 ] && [[ $out == *"fvm migrate"* ]]; then ok format_1_store_is_refused_naming_fvm_migrate; else
	not_ok format_1_store_is_refused_naming_fvm_migrate "rc $rc" "$out"; fi
out=$(FVM_HOME=$S1 tool "$FVM" migrate 2>&1); rc=$?
if [ $rc = 0 ] && [[ $out == *share* ]] && [[ $out == *nice* ]] && [ -f "$S1/ctl/old/vm.conf" ] &&
	[ ! -e "$S1/vms/old/vm.conf" ] && [ "$(cat "$S1/format")" = "fvm-store 3" ] && [ -d "$S1/layers" ]; then
	ok fvm_migrate_moves_control_files_and_names_the_keys
else
	not_ok fvm_migrate_moves_control_files_and_names_the_keys "rc $rc" "$out" "$(ls -la "$S1" "$S1/ctl/old" 2>&1)"
fi
out=$(FVM_HOME=$S1 tool "$FVM_EXEC" -n old -- cat "$HOST/one" 2>&1)
[ "$out" = 'from the VM' ] && ok migrated_vm_runs_with_its_layer || not_ok migrated_vm_runs_with_its_layer "$out"

imp_same && host_unchanged >/dev/null && ok host_unchanged_after_every_attack || not_ok host_unchanged_after_every_attack "$(ls -la "$IMP")"
done_testing
