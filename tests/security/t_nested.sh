#!/usr/bin/env bash
# Issue 13, nested runs: fvm-exec inside a VM. The outer run's filter has a seccomp
# listener (its supervisor answers connect under unix = vm, other processes' scheduling
# and limits, ...), and the kernel gives a process one listener: the inner fvm-exec must
# still run, its fence whole, the calls its own supervisor would have answered failing
# closed (said once under -v). With a different store (--home) the inner run works; with
# the outer's store, which the VM cannot reach, it fails and the outer store is unchanged.
# From the inner VM, the attacks of t_host_services.sh and t_host_processes.sh still
# fail: a host unix socket is not reached, a host process's affinity does not change, a
# host file's mode does not change.
. "$(dirname "$0")/lib.sh"
sec_require
VICTIM_PID= SERVER=

sec_cleanup() {
	[ -n "$VICTIM_PID" ] && kill "$VICTIM_PID" 2>/dev/null
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
	cleanup
}
trap sec_cleanup EXIT

inner=$T/inner-store # a path of the host the outer VM creates in its own layer

nest() { # OUTER-ARGS -- INNER-ARGS -- CMD...: fvm-exec in fvm-exec
	local -a outer=() innera=()
	while [ "$1" != -- ]; do outer+=("$1"); shift; done
	shift
	while [ "$1" != -- ]; do innera+=("$1"); shift; done
	shift
	vm a "${outer[@]}" -- "$FVM_EXEC" --home "$inner" -n b "${innera[@]}" -- "$@"
}

for net in all none; do
	sec_snapshot
	out=$(nest --net $net -- --net $net -- echo nested-ok 2>&1)
	verdict "nested_run_works_net_${net}" "" "$([ "$out" = nested-ok ] || echo "inner run: $out")"
done

out=$(nest --net none -- --net none -v -- true 2>&1)
n=$(grep -c 'nested in a run' <<< "$out")
if [ "$n" = 1 ]; then ok nested_run_says_once_under_v; else not_ok nested_run_says_once_under_v "$n times: $out"; fi

# The outer store from inside its own VM: unreachable, so the inner run fails.
before=$(ls "$FVM_HOME/vms")
out=$(vm a -- "$FVM_EXEC" --home "$FVM_HOME" -n b -- echo nested-ok 2>&1)
rc=$?
verdict nested_run_cannot_use_the_outer_store "" \
	"$([ $rc != 0 ] || echo "the inner run used the outer store: $out")" \
	"$([ "$(ls "$FVM_HOME/vms")" = "$before" ] || echo "the outer store changed: $(ls "$FVM_HOME/vms")")"

# A host service (a unix stream socket this test serves).
sock=$T/service.sock
serve "$sock" "$T/received"
SERVER=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
for kind in static dynamic; do
	[ $kind = static ] && h=$ATK || h=$ATK_DYN
	sec_snapshot
	out=$(nest --net none -- --net none -- "$h" unix-connect "$sock" "nested-$kind" 2>&1)
	sleep 0.2
	verdict "${kind}_nested_vm_does_not_reach_a_host_unix_socket" "" \
		"$(grep -q "nested-$kind" "$T/received" 2>/dev/null && echo "the service heard the inner VM: $out")"
done

# A host process's affinity, a host file's mode.
if [ "$(nproc)" -ge 2 ]; then
	if [ $ROOT = 1 ]; then # without capabilities: see t_host_processes.sh
		setpriv --bounding-set=-all --inh-caps=-all sleep 120 & VICTIM_PID=$!
	else
		sleep 120 & VICTIM_PID=$!
	fi
	sleep 0.1
	before=$(taskset -pc $VICTIM_PID | sed 's/.*: //')
	for kind in static dynamic; do
		[ $kind = static ] && h=$ATK || h=$ATK_DYN
		sec_snapshot
		out=$(nest -- -- "$h" sched-setaffinity $VICTIM_PID $(($(nproc) - 1)) 2>&1)
		after=$(taskset -pc $VICTIM_PID | sed 's/.*: //')
		verdict "${kind}_nested_vm_does_not_change_a_host_process" "" \
			"$([ "$before" = "$after" ] || echo "affinity $before -> $after ($out)")"
	done
	kill $VICTIM_PID; wait $VICTIM_PID 2>/dev/null; VICTIM_PID=
else
	skip nested_vm_does_not_change_a_host_process "one CPU"
fi
echo keep > "$HOST/nested-file"
chmod 644 "$HOST/nested-file"
sec_snapshot
out=$(nest -- -- "$ATK" chmod "$HOST/nested-file" 0777 2>&1)
verdict static_nested_vm_does_not_chmod_a_host_file "" \
	"$([ "$(stat -c %a "$HOST/nested-file")" = 644 ] || echo "mode now $(stat -c %a "$HOST/nested-file"): $out")"

done_testing
