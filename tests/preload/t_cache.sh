#!/usr/bin/env bash
# The lookup cache of one process never hides a change another process of the same
# VM made: copy-ups, whiteouts and opaque directories bump the VM-wide generation,
# and a lookup cached at an older generation is walked again.
. "$(dirname "$0")/../lib/harness.sh"

PROBE=$TOP/build/tests/helpers/lookup-probe
mkdir -p "$HOST/a" "$HOST/b" "$HOST/c/sub" "$HOST/d/x/y"
echo host-a > "$HOST/a/f"
echo host-b > "$HOST/b/f"
echo host-c > "$HOST/c/sub/f"
echo host-d > "$HOST/d/x/y/f"
snapshot_host

# probe_session NAME EXPECTED STEPS...: one probe process stays up in VM "cache" while
# the steps run: "> CMD" is a command for the probe (its answer is collected),
# "! SCRIPT" runs SCRIPT in another process of the same VM and waits for it.
probe_session() {
	local name=$1 expected=$2 step got="" answer
	shift 2
	rm -rf "$FVM_HOME/vms/cache"
	coproc PROBE_P { "$FVM_EXEC" -n cache -- "$PROBE" 2>&1; }
	for step in "$@"; do
		case $step in
		"> "*)
			echo "${step#> }" >&"${PROBE_P[1]}"
			if IFS= read -r -t 10 answer <&"${PROBE_P[0]}"; then
				got+="$answer;"
			else
				got+="(no answer);"
			fi
			;;
		"! "*) (cd "$HOST" && "$FVM_EXEC" -n cache -- sh -c "${step#! }") >/dev/null 2>&1 ;;
		esac
	done
	exec {PROBE_P[1]}>&-
	wait "$PROBE_P_PID" 2>/dev/null
	if [ "$got" != "$expected" ]; then
		not_ok "$name" "expected: $expected" "got:      $got"
	elif ! host_unchanged > /dev/null; then
		not_ok "$name" "the host tree changed"
		restore_host
	else
		ok "$name"
	fi
}

[ -x "$PROBE" ] || { skip all "no $PROBE (make tests-bin)"; done_testing; exit; }

probe_session new_file_made_by_another_process_is_seen_after_a_cached_miss \
	"ok 7;ENOENT;ok 4;" \
	"> stat $HOST/a/f" "> stat $HOST/a/new" "! echo new > a/new" "> stat $HOST/a/new"
probe_session file_removed_by_another_process_is_gone_for_a_cached_lookup \
	"ok 7;ENOENT;" \
	"> stat $HOST/b/f" "! rm b/f" "> stat $HOST/b/f"
probe_session copy_up_by_another_process_is_read_back \
	"ok host-b;ok changed;" \
	"> read $HOST/b/f" "! echo changed > b/f" "> read $HOST/b/f"
probe_session directory_replaced_by_another_process_hides_the_host_one \
	"ok 7;ENOENT;ok 4;" \
	"> stat $HOST/c/sub/f" "! rm -rf c/sub && mkdir c/sub && echo new > c/sub/g" \
	"> stat $HOST/c/sub/f" "> stat $HOST/c/sub/g"
probe_session directory_renamed_by_another_process_moves_for_a_cached_lookup \
	"ok 7;ENOENT;ok 7;" \
	"> stat $HOST/d/x/y/f" "! mv d/x d/z" "> stat $HOST/d/x/y/f" "> stat $HOST/d/z/y/f"
done_testing
