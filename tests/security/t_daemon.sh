#!/usr/bin/env bash
# Issue 13, item 3 and "a VM's processes are known": a process a VM leaves running
# (setsid in a shell, a double fork in python closing every fd, a static daemon) keeps
# a write fd on a file of its layer. fvm list must not call the VM idle, fvm commit must
# refuse while it lives, and its later write must never land in a host file.
. "$(dirname "$0")/lib.sh"
sec_require
PY=$(command -v python3)
LATE=4 # seconds the daemon waits before its write: list and commit run meanwhile

# daemon_case VARIANT CMD: CMD runs in VM d_VARIANT, writes "vm" to HOST/VARIANT and
# leaves a daemon that appends "late" to the same file LATE seconds later.
daemon_case() {
	local variant=$1 cmd=$2 v=d_$1 out state rc start
	echo 'host' > "$HOST/$variant"
	sec_snapshot
	start=$SECONDS
	out=$(cd "$HOST" && vm "$v" -- sh -c "$cmd" 2>&1 < /dev/null)
	state=$(fvmc list | awk -v v="$v" '$1 == v { print $2 }')
	verdict "${variant}_daemon_keeps_its_vm_from_looking_idle" "" \
		"$([ "$state" = idle ] && echo "fvm list: $v is $state")"
	fvmc commit "$v" "$HOST/$variant" > "$T/commit.out" 2>&1
	rc=$?
	verdict "${variant}_daemon_makes_commit_refuse" "" \
		"$([ $rc = 0 ] && echo "fvm commit: exit 0: $(head_of "$T/commit.out")")"
	while [ $((SECONDS - start)) -le $((LATE + 3)) ] && ! grep -q late "$HOST/$variant"; do sleep 0.5; done
	# Only this: a refused commit leaves the host as it was, a wrong one is seen above.
	if grep -q late "$HOST/$variant"; then
		not_ok "${variant}_daemon_write_after_commit_stays_out_of_the_host" "host file: $(head_of "$HOST/$variant")"
	else
		ok "${variant}_daemon_write_after_commit_stays_out_of_the_host"
	fi
}

daemon_case shell_setsid "echo vm >> shell_setsid
setsid sh -c 'exec 3>> shell_setsid; sleep $LATE; echo late >&3' > /dev/null 2>&1 < /dev/null &"

daemon_case python_double_fork "$PY -c '
import os, time
f = open(\"python_double_fork\", \"a\"); f.write(\"vm\\n\"); f.flush()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        fd = os.dup(f.fileno())
        os.closerange(0, fd)
        time.sleep($LATE)
        os.write(fd, b\"late\\n\")
    os._exit(0)
'"

# The static daemon's open is virtualized (virtguard.c), in root runs too: it names the
# file as the VM sees it and holds upper's copy.
D=$(vmdir d_static)
HELD=$HOST/static
daemon_case static "echo vm >> static; '$ATK' hold '$HELD' $LATE 'late
' > /dev/null"

done_testing
