#!/usr/bin/env bash
# Issue 13, item 6 and "other VMs and hidden paths stay unreadable": from VM b, read
# what VM a wrote in its layer, and a path VM b runs with --hide: with the static
# helper, the dynamic one's raw system calls, a shell that sets FVM_ROOT to the other
# VM (libfvm believes it), and one that drops LD_PRELOAD. Listing / and the store's
# parent directories must keep working as natively. Root runs cover the other VMs, the
# control area and the hide paths in their mount namespace (fvm-exec/run/rootfence.c);
# unprivileged runs with Landlock's read rights (fvm-exec/run/readfence.c).
. "$(dirname "$0")/lib.sh"
sec_require

echo 'host version' > "$HOST/secret"
echo 'HIDDEN-CONTENT' > "$HOST/hidden"
vm a -- sh -c "echo A-SECRET > '$HOST/secret'" > /dev/null 2>&1
A=$(vmdir a)
OTHER_VM=a

# read_case NAME WHY SECRET OPTIONS... -- CMD: VM b runs CMD; SECRET must not show.
read_case() {
	local name=$1 why=$2 secret=$3 out
	shift 3
	sec_snapshot
	out=$(cd "$HOST" && vm b "$@" 2>/dev/null)
	verdict "$name" "$why" "$(case $out in *"$secret"*) echo "VM b read: $out" ;; esac)"
}

read_case other_vm_layer_is_unreadable_static "" A-SECRET \
	-- "$ATK" read "$A/upper$HOST/secret"
read_case other_vm_layer_is_unreadable_raw_syscall "" A-SECRET \
	-- "$ATK_DYN" read "$A/upper$HOST/secret"
read_case other_vm_layer_is_unreadable_with_fvm_root_rewritten "" A-SECRET \
	-- sh -c "FVM_ROOT='$A' cat '$HOST/secret'"
read_case other_vm_layer_is_unreadable_by_cat "" A-SECRET -- cat "$A/upper$HOST/secret"
read_case hidden_path_is_unreadable_static "" HIDDEN-CONTENT \
	--hide "$HOST/hidden" -- "$ATK" read "$HOST/hidden"
read_case hidden_path_is_unreadable_raw_syscall "" HIDDEN-CONTENT \
	--hide "$HOST/hidden" -- "$ATK_DYN" read "$HOST/hidden"
read_case hidden_path_is_unreadable_without_ld_preload "" HIDDEN-CONTENT \
	--hide "$HOST/hidden" -- sh -c "env -u LD_PRELOAD cat '$HOST/hidden'"
read_case hidden_path_is_unreadable_by_cat "" HIDDEN-CONTENT --hide "$HOST/hidden" -- cat "$HOST/hidden"
# Started in another VM's layer, by a relative path.
sec_snapshot
out=$(cd "$A/upper$HOST" && vm b -- "$ATK" read secret 2>/dev/null)
verdict other_vm_layer_is_unreadable_from_its_working_directory "" \
	"$(case $out in *A-SECRET*) echo "VM b read: $out" ;; esac)"
read_case other_vm_control_area_is_unreadable_static "" "vm.conf of VM a" \
	-- "$ATK" read "$(ctldir a)/vm.conf"
# A hide directory, and a hide path made by the host after the run started.
mkdir "$HOST/hdir" && echo 'HIDDEN-DIR-CONTENT' > "$HOST/hdir/f"
read_case hidden_directory_is_unreadable_static "" HIDDEN-DIR-CONTENT \
	--hide "$HOST/hdir" -- "$ATK" read "$HOST/hdir/f"
sec_snapshot
vm b --hide "$HOST/later/f" -- sh -c "echo started; sleep 3; '$ATK' read '$HOST/later/f'" > "$T/b.out" 2>/dev/null &
for _ in $(seq 100); do grep -q started "$T/b.out" 2>/dev/null && break; sleep 0.1; done
mkdir "$HOST/later" && echo 'LATER-HIDDEN' > "$HOST/later/f"
wait
rm -r "$HOST/later"
verdict hidden_path_made_after_the_start_is_unreadable_static "" \
	"$(grep -q started "$T/b.out" || echo "VM b did not start: $(head_of "$T/b.out")")" \
	"$(grep LATER-HIDDEN "$T/b.out" | sed 's/^/VM b read: /')"
rm -r "$HOST/hdir"

# A VM made while VM b runs is as unreadable: b starts, then c writes its layer.
sec_snapshot
vm b -- sh -c "echo started; sleep 4; '$ATK' read '$(vmdir c)/upper$HOST/secret'" > "$T/b.out" 2>/dev/null &
for _ in $(seq 100); do grep -q started "$T/b.out" 2>/dev/null && break; sleep 0.1; done
vm c -- sh -c "echo C-SECRET > '$HOST/secret'" > /dev/null 2>&1
wait
verdict later_vm_layer_is_unreadable_static "" \
	"$(grep -q started "$T/b.out" || echo "VM b did not start: $(head_of "$T/b.out")")" \
	"$(grep C-SECRET "$T/b.out" | sed 's/^/VM b read: /')"

# -v says what protects reads: the namespace as root, Landlock's read rights otherwise.
out=$(vm b -v -- true 2>&1)
if [ $ROOT = 1 ]; then
	want="root: other VMs' data areas, the control area (but this run's policy) and 0 hide paths unreadable"
else
	want="reads: landlock: other VMs' layers, other VMs' control areas and 0 hide paths unreadable"
fi
case $out in *"$want"*) ok verbose_says_what_protects_reads ;; *) not_ok verbose_says_what_protects_reads "expected: $want" "$out" ;; esac

# Issue 15: an unprivileged run gives no Landlock rule to another user's private entry
# (mode go-rwx) of a directory above the store: its permissions already close it to
# every process of the run, and a shared /tmp holds hundreds (each rule cost the start
# four system calls and a bigger ruleset to merge). Said by -v; the store stays
# unreadable (the cases above), and so does such an entry's content.
if [ $ROOT = 0 ]; then
	me=$(id -u) closed=0 d=$(cd "$FVM_HOME" && pwd -P)
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		n=$(find "$d" -mindepth 1 -maxdepth 1 ! -type l ! -uid "$me" ! -perm /077 2>/dev/null | wc -l)
		closed=$((closed + n))
	done
	out=$(vm b -v -- true 2>&1)
	said=$(printf '%s\n' "$out" | sed -n "s/.*, \([0-9]*\) other users\{0,1\}'\{0,1\} private entr.*/\1/p")
	if [ "$closed" -eq 0 ]; then
		: # no other user's private entry above the store here: nothing to see
	elif [ -n "$said" ] && [ "$said" -gt 0 ]; then
		ok other_users_private_entries_get_no_rule
	else
		not_ok other_users_private_entries_get_no_rule "find counts $closed; -v says: ${said:-nothing}" "$out"
	fi
fi # root runs cover the store in their mount namespace: no read rules

# What must keep working: listing /, the home directory and the store's parents.
out=$(vm b -- sh -c "ls / > /dev/null && ls '$T' > /dev/null && ls '$HOME' > /dev/null && echo listed" 2>&1)
[ "$out" = listed ] && ok listing_root_home_and_store_parent_works_in_a_vm ||
	not_ok listing_root_home_and_store_parent_works_in_a_vm "$out"

# What must keep reading as natively, for a static program too: host files beside the
# store, /etc, /proc/self, the VM's own files and its policy (libfvm reads it).
# A static program's open is virtualized (virtguard.c), in root runs too: it names its
# own file as the VM does, and the store is hidden from it as from a dynamic program.
MINE_AS="$HOST/mine"
sec_snapshot
out=$(cd "$HOST" && vm b -- sh -c "echo MINE > '$HOST/mine'; '$ATK' read '$HOST/secret'; '$ATK' read \"$MINE_AS\";
	'$ATK' read /etc/passwd | head -c 4; echo; '$ATK' read /proc/self/status | grep -c '^Pid:';
	'$ATK' read \"\$FVM_POLICY\" | wc -c" 2>/dev/null)
want="host version
MINE
root
1"
case $out in
"$want"*) ok host_files_and_own_files_stay_readable_in_a_vm ;;
*) not_ok host_files_and_own_files_stay_readable_in_a_vm "expected: $want" "$out" ;;
esac

# Another run of the same VM replaces its policy file (a new inode) while this one runs:
# a process this run starts afterwards still reads it (the hide path stays ENOENT, as
# libfvm hides it, not EACCES from a libfvm fallen back to the default policy).
echo 'HIDDEN-CONTENT' > "$HOST/hidden"
vm p --hide "$HOST/hidden" -- sh -c "echo started; sleep 3; cat '$HOST/hidden' 2>&1" > "$T/p.out" 2>&1 &
for _ in $(seq 100); do grep -q started "$T/p.out" 2>/dev/null && break; sleep 0.1; done
vm p --hide "$HOST/hidden" -- true > /dev/null 2>&1
wait
case $(cat "$T/p.out") in
*"No such file or directory"*) ok process_started_after_another_run_replaced_the_policy_reads_it ;;
*) not_ok process_started_after_another_run_replaced_the_policy_reads_it "$(cat "$T/p.out")" ;;
esac

done_testing
