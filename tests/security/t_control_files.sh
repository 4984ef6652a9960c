#!/usr/bin/env bash
# Issue 13, item 2 and "the store is untrusted input to the tools": the control files
# of a VM directory (vm.conf, commit.journal, ipc, origins) are writable by the VM's
# own static programs, so the tools must not obey what a VM wrote there: no wider
# policy from vm.conf, no wider commit from a forged journal, no host IPC object
# removed through the registry, and no hang or runaway read on a FIFO or /dev/zero.
. "$(dirname "$0")/lib.sh"
sec_require

mkdir -p "$HOST/dir" "$T/out"
echo 'keep me' > "$HOST/victim"

# 1. vm.conf appended by the VM: "share = HOST", then "enforce = off"; the next run's
# static program then writes the host.
for line in "share = $HOST" "enforce = off"; do
	key=${line%% *}
	v=c_$key D=$(ctldir c_$key)
	vm "$v" -- true > /dev/null 2>&1
	sec_snapshot
	out=$(vm "$v" -- "$ATK" append "$D/vm.conf" "$line
" 2>/dev/null)
	out2=$(vm "$v" -- "$ATK" put "$HOST/dir/made-by-$key" x 2>/dev/null)
	verdict "vm_conf_${key}_line_written_by_the_vm_gains_it_nothing_static" \
		"" \
		"$([ -e "$HOST/dir/made-by-$key" ] && echo "host file dir/made-by-$key created ($out2)")"
	rm -f "$HOST/dir/made-by-$key"
done

# 2. A forged commit.journal: "force 1", no path. fvm commit VM ONE-PATH then commits
# every change of the VM, forced.
v=c_journal D=$(ctldir c_journal)
echo 'host version' > "$HOST/conflict"
vm "$v" -- sh -c "echo mine > '$HOST/conflict'" > /dev/null 2>&1
echo 'changed on the host meanwhile' > "$HOST/conflict" # a conflict: commit must skip it
sec_snapshot
out=$(vm "$v" -- sh -c "echo one > '$T/out/one'; echo other > '$HOST/other'
	'$ATK' put '$D/commit.journal' 'fvm-commit-journal 1
id 0000000000000000
force 1
end
'" 2>&1)
fvmc commit "$v" "$T/out/one" > "$T/commit.out" 2>&1
verdict forged_commit_journal_does_not_widen_a_commit_static \
	"" \
	"$([ -e "$HOST/other" ] && echo "HOST/other, not selected, was committed")" \
	"$(grep -q mine "$HOST/conflict" && echo "HOST/conflict, in conflict, was forced")"
echo 'host version' > "$HOST/conflict"; rm -f "$HOST/other"

# 3. A forged line of the ipc registry naming a host SysV segment: fvm rm removes it.
key=$(( (RANDOM << 15 | RANDOM) + 1 ))
id=$("$ATK_DYN" shm-create "$key" host-segment 2>/dev/null)
if [ -z "$id" ]; then
	skip forged_ipc_registry_line_does_not_make_fvm_rm_remove_a_host_segment "cannot create a SysV segment here"
else
	v=c_ipc D=$(vmdir c_ipc)
	sec_snapshot
	out=$(vm "$v" -- "$ATK" append "$D/ipc" "shmkey $key host
" 2>&1)
	fvmc rm "$v" > "$T/rm.out" 2>&1
	now=$("$ATK_DYN" shm-read "$id" 2>&1)
	verdict forged_ipc_registry_line_does_not_make_fvm_rm_remove_a_host_segment_static \
		"" \
		"$([ "$now" = host-segment ] || echo "host segment $id: $now")"
	ipcrm -m "$id" 2>/dev/null
fi

# 4. A FIFO, or a link to /dev/zero, in place of a control file: each tool that reads
# it must come back promptly (an error is fine), not hang or eat memory (tmo caps it at
# 1 GiB; more than 256 MiB resident counts as eaten).
SEC_TIMEOUT=5
for kind in fifo zero; do
	for pair in "vm.conf:fvm-exec" "vm.conf:info" "origins:commit" "origins:reset" "commit.journal:commit" "ipc:rm"; do
		file=${pair%:*} tool=${pair#*:}
		v=c_${kind}_$(echo "$file" | tr . _)_$tool D=$(vmdir "$v")
		case $file in vm.conf|commit.journal) D=$(ctldir "$v") ;; esac
		vm "$v" -- sh -c "echo x > '$T/out/$v'" > /dev/null 2>&1
		if [ $kind = fifo ]; then
			plant="'$ATK' rename '$D/$file' '$D/$file.old'; '$ATK' mkfifo '$D/$file'"
		else
			plant="'$ATK' rename '$D/$file' '$D/$file.old'; '$ATK' symlink /dev/zero '$D/$file'"
		fi
		vm "$v" -- sh -c "$plant" > /dev/null 2>&1
		sec_snapshot
		start=$SECONDS
		case $tool in
		fvm-exec) peak_run "$FVM_EXEC" -n "$v" -- true ;;
		*) peak_run "$FVM" "$tool" "$v" ;;
		esac > "$T/tool.out" 2>&1
		rc=$? peak=$(cat "$T/peak")
		[ $tool = fvm-exec ] || tool="fvm $tool"
		verdict "${kind}_in_place_of_${file}_does_not_hang_$(echo "$tool" | tr ' -' __)" \
			"" \
			"$([ $rc = 124 ] || [ $rc -ge 128 ] && echo "$tool: exit $rc after $((SECONDS - start))s (124: timed out)")" \
			"$([ "$peak" -gt 262144 ] && echo "$tool: peak memory $((peak / 1024)) MiB")"
	done
done

done_testing
