#!/usr/bin/env bash
# AF_UNIX sockets in VMs: a path name is a file of the VM (created in its upper layer,
# unreachable from another VM), a host socket is reachable as a host file is readable,
# a shared path is the host's, an address longer than sun_path works, abstract names
# are per VM, and the addresses handed back are the names the program used. Runs under
# the kernel fence, but for one clearly labelled part that needs two runs of one VM.
. "$(dirname "$0")/../lib/harness.sh"

HELP=$TOP/build/tests/helpers
if [ ! -x "$HELP/sock-unix" ] || [ ! -x "$HELP/ipc-name" ]; then
	skip sock_helpers_built "tests/helpers not built: run make tests-bin"
	done_testing
	exit
fi
abi=$(python3 -c 'import ctypes; l=ctypes.CDLL(None, use_errno=True); print(l.syscall(444, None, 0, 1))' 2>/dev/null || echo -1)
echo "# landlock ABI $abi, kernel fence on (--enforce auto)"
in_vm() { local vm=$1; shift; (cd "$HOST" && timeout 20 "$FVM_EXEC" -n "$vm" -- "$@" 2>&1); }
# wait_for FILE: until FILE is not empty (a server printed its name), up to 10 s. A
# server in a VM signals this way: a file it creates lands in the VM, not on the host.
wait_for() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

# A directory on the host whose socket path is 200 bytes long (sun_path holds 107).
DEEP=$HOST/$(printf 'd%.0s' $(seq 100))
DEEP=$DEEP/$(printf 'e%.0s' $(seq $((200 - ${#DEEP} - 6))))
mkdir -p "$DEEP"
snapshot_host

# Echo server and client in VM ua at the 200-byte path, through a relative name.
(cd "$HOST" && timeout 20 "$FVM_EXEC" -n ua -- sh -c "cd '$DEEP' && exec '$HELP/sock-unix' serve sock /dev/null" > "$T/server.out" 2>&1) &
if wait_for "$T/server.out"; then
	got=$(in_vm ub sh -c "cd '$DEEP' && '$HELP/sock-unix' call sock from-b")
	[ "$got" = "connect: No such file or directory" ] &&
		ok other_vm_gets_enoent_for_a_vms_socket_path ||
		not_ok other_vm_gets_enoent_for_a_vms_socket_path "got: $got"
	got=$(in_vm ua sh -c "cd '$DEEP' && '$HELP/sock-unix' call sock hello")
	wait
	got="$got / $(cat "$T/server.out")"
	want="peer=sock
reply=hello / bound=sock
client=(unnamed)"
	[ "$got" = "$want" ] && ok unix_echo_at_a_200_byte_path_in_one_vm ||
		not_ok unix_echo_at_a_200_byte_path_in_one_vm "expected:" "$want" "got:" "$got"
else
	not_ok unix_echo_at_a_200_byte_path_in_one_vm "server never ready: $(cat "$T/server.out")"
	wait
fi
[ ! -e "$DEEP/sock" ] && [ -S "$FVM_HOME/vms/ua/upper$DEEP/sock" ] &&
	ok socket_file_lives_in_the_vms_upper_layer ||
	not_ok socket_file_lives_in_the_vms_upper_layer "$(ls -la "$DEEP" "$FVM_HOME/vms/ua/upper$DEEP" 2>&1)"
got=$(in_vm ua ls "$DEEP")
[ "$got" = sock ] && ok vm_lists_its_socket_file || not_ok vm_lists_its_socket_file "got: $got"

# Abstract names: the server's VM reaches it, another VM and the host do not. Under the
# fence (Landlock ABI >= 6 scopes abstract sockets to one fvm-exec run) the server and
# its client share one run of VM ua; the run's stdout and stderr are host files opened
# outside the VM, and it goes on when the host creates $T/go (a host file it can see).
ABS=@fvm-test-abs-$$
(cd "$HOST" && exec timeout 20 "$FVM_EXEC" -n ua -- sh -c "'$HELP/sock-unix' serve '$ABS' /dev/null &
	until [ -e '$T/go' ]; do sleep 0.05; done
	'$HELP/sock-unix' call '$ABS' hi >&2; wait" > "$T/aserver.out" 2> "$T/aclient.out") &
if wait_for "$T/aserver.out"; then
	got="$(in_vm ub "$HELP/sock-unix" call "$ABS" x) / $("$HELP/sock-unix" call "$ABS" x)"
	[ "$got" = "connect: Connection refused / connect: Connection refused" ] &&
		ok abstract_name_unreachable_from_other_vm_and_host ||
		not_ok abstract_name_unreachable_from_other_vm_and_host "got: $got"
	if [ "$abi" -ge 6 ]; then
		got=$(in_vm ua "$HELP/sock-unix" call "$ABS" x)
		[ "$got" = "connect: Operation not permitted" ] &&
			ok fenced_second_run_of_the_vm_is_kept_from_its_abstract_socket ||
			not_ok fenced_second_run_of_the_vm_is_kept_from_its_abstract_socket "got: $got"
	else
		skip fenced_second_run_of_the_vm_is_kept_from_its_abstract_socket "Landlock ABI $abi < 6: abstract sockets are not scoped"
	fi
	touch "$T/go"
	wait
	want="peer=$ABS
reply=hi / bound=$ABS
client=(unnamed)"
	got="$(cat "$T/aclient.out") / $(cat "$T/aserver.out")"
	[ "$got" = "$want" ] && ok abstract_echo_in_one_vm_sees_its_own_names ||
		not_ok abstract_echo_in_one_vm_sees_its_own_names "expected:" "$want" "got:" "$got"
else
	not_ok abstract_echo_in_one_vm_sees_its_own_names "server never ready"
	touch "$T/go"
	wait
fi

# Without the fence only: two runs of one VM share its abstract names (libfvm's prefix
# is per VM). Under the fence Landlock scopes them to one run (tested above): a limit of
# the fence, stated in fvm-exec(1) and the README.
(cd "$HOST" && exec timeout 20 "$FVM_EXEC" --enforce off -n ua -- "$HELP/sock-unix" serve "$ABS.2" /dev/null > "$T/a2server.out" 2>&1) &
if wait_for "$T/a2server.out"; then
	got=$(cd "$HOST" && timeout 20 "$FVM_EXEC" --enforce off -n ua -- "$HELP/sock-unix" call "$ABS.2" hi 2>&1)
	wait
	[ "$got" = "peer=$ABS.2
reply=hi" ] && ok without_fence_two_runs_of_one_vm_share_abstract_names ||
		not_ok without_fence_two_runs_of_one_vm_share_abstract_names "got: $got"
else
	not_ok without_fence_two_runs_of_one_vm_share_abstract_names "server never ready"
	wait
fi

# A server on the host: a VM reaches it, as it reads a host file.
"$HELP/sock-unix" serve "$T/hostsock" /dev/null > "$T/hserver.out" 2>&1 &
if wait_for "$T/hserver.out"; then
	got=$(in_vm ua "$HELP/sock-unix" call "$T/hostsock" hi-host)
	wait
	[ "$got" = "peer=$T/hostsock
reply=hi-host" ] && ok vm_reaches_a_host_socket || not_ok vm_reaches_a_host_socket "got: $got"
else
	not_ok vm_reaches_a_host_socket "host server never ready"
	wait
fi

# A shared path (/dev is shared) lives on the host, not in upper/. In /dev/shm, the IPC
# directory, the name is the VM's own: the host sees it with the VM's prefix, in the
# VM's own directory beneath /dev/shm.
SHARED=/dev/shm/fvm-test-sock-$$
ua_prefix=$("$HELP/ipc-name" prefix "$FVM_HOME/vms/ua")
ON_HOST=/dev/shm/${ua_prefix%.}/$("$HELP/ipc-name" map "$FVM_HOME/vms/ua" "${SHARED#/dev/shm/}")
(in_vm ua "$HELP/sock-unix" serve "$SHARED" /dev/null > "$T/sserver.out") &
if wait_for "$T/sserver.out"; then
	got=$("$HELP/sock-unix" call "$ON_HOST" shared)
	wait
	[ "$got" = "peer=$ON_HOST
reply=shared" ] && [ ! -e "$SHARED" ] && ok socket_on_a_shared_path_lives_on_the_host ||
		not_ok socket_on_a_shared_path_lives_on_the_host "got: $got"
else
	not_ok socket_on_a_shared_path_lives_on_the_host "server never ready"
	wait
fi
rm -f "$ON_HOST"

# Datagrams: recvfrom and recvmsg report the sender as the program named it.
vm_check datagram_sender_is_narrowed_to_its_path "'$HELP/sock-unix' dgram '$HOST/dg'"
vm_check datagram_sender_abstract_name_is_narrowed "'$HELP/sock-unix' dgram @fvm-test-dg-$$"
# A host file of that name exists: bind fails as natively (a name short enough for
# sun_path: the helper refuses a longer one itself, before any bind).
echo taken > "$HOST/taken"
vm_check_fails bind_on_an_existing_name_is_eaddrinuse "'$HELP/sock-unix' dgram taken"

if host_unchanged > "$T/why"; then
	ok socket_runs_left_the_host_tree_unchanged
else
	not_ok socket_runs_left_the_host_tree_unchanged "$(cat "$T/why")"
fi
done_testing
