#!/usr/bin/env bash
# Networks inside VMs: the private loopback (two VMs each serve "localhost:PORT", each
# client reaches its own, the host's 127.0.0.1:PORT is untouched), the network policy
# (none, loopback, allow rules; EACCES and a line in the VM's log), and name lookups
# under none failing at once. Runs with the kernel fence on (--enforce auto): a static
# helper, which libfvm cannot see, meets the fence's answer (Landlock TCP rules: EACCES).
# Only loopback and a network namespace made here are used.
. "$(dirname "$0")/../lib/harness.sh"

HELP=$TOP/build/tests/helpers
PY=/usr/bin/python3
STATIC=$HELP/try-syscall-static # "connect ADDR PORT" by raw syscalls, no libfvm
if [ ! -x "$HELP/net-connect" ] || [ ! -x "$STATIC" ] || [ ! -x "$PY" ]; then
	skip net_prerequisites "tests/helpers not built or $PY missing"
	done_testing
	exit
fi
PIDS=()
NETNS=
stop_all() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
}
trap 'stop_all; cleanup' EXIT

in_vm() { local vm=$1; shift; (cd "$HOST" && timeout 20 "$FVM_EXEC" -n "$vm" "$@" 2>&1); }
# A TCP port free on 127.0.0.1 now (the kernel's choice).
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_port ADDR PORT [VM FVM-EXEC-OPTIONS...]: until a connect succeeds, up to 30 s (a
# loaded machine starts a VM's python slowly).
wait_port() {
	local a=$1 p=$2; shift 2
	for _ in $(seq 300); do
		if [ $# -gt 0 ]; then in_vm "$@" -- "$HELP/net-connect" "$a" "$p" >/dev/null && return 0
		else "$HELP/net-connect" "$a" "$p" >/dev/null && return 0; fi
		sleep 0.1
	done
	return 1
}
# fetch PORT [VM FVM-EXEC-OPTIONS...]: GET /f from localhost:PORT (curl, else python's urllib).
fetch() {
	local port=$1; shift
	local cmd=("$PY" -c "import urllib.request as u; print(u.urlopen('http://localhost:$port/f', timeout=5).read().decode(), end='')")
	command -v curl >/dev/null && cmd=(curl -s -m 5 "http://localhost:$port/f")
	if [ $# -gt 0 ]; then in_vm "$@" -- "${cmd[@]}"; else "${cmd[@]}"; fi
}

mkdir -p "$HOST/wa" "$HOST/wb" "$HOST/wh"
echo from-a > "$HOST/wa/f"; echo from-b > "$HOST/wb/f"; echo from-host > "$HOST/wh/f"
snapshot_host

# ---- private loopback ----
PORT=8080
"$HELP/net-connect" 127.0.0.1 $PORT >/dev/null 2>&1 && PORT=$(free_port) # 8080 taken here
(cd "$HOST/wh" && exec "$PY" -m http.server $PORT --bind 127.0.0.1 >/dev/null 2>&1) & PIDS+=($!)
(cd "$HOST/wa" && exec timeout 60 "$FVM_EXEC" -n la --loopback private -- "$PY" -m http.server $PORT --bind 127.0.0.1 >/dev/null 2>&1) & PIDS+=($!)
(cd "$HOST/wb" && exec timeout 60 "$FVM_EXEC" -n lb --loopback private -- "$PY" -m http.server $PORT --bind 127.0.0.1 >/dev/null 2>&1) & PIDS+=($!)
if wait_port 127.0.0.1 $PORT && wait_port 127.0.0.1 $PORT la --loopback private &&
	wait_port 127.0.0.1 $PORT lb --loopback private; then
	got="$(fetch $PORT la --loopback private) $(fetch $PORT lb --loopback private) $(fetch $PORT)"
	[ "$got" = "from-a from-b from-host" ] &&
		ok two_vms_each_serve_localhost_port_and_reach_their_own ||
		not_ok two_vms_each_serve_localhost_port_and_reach_their_own "got: $got"
else
	not_ok two_vms_each_serve_localhost_port_and_reach_their_own "a server never answered on port $PORT" 
fi
got=$(in_vm la --loopback private -- "$HELP/net-connect" 127.0.0.1 $PORT)
[ "$got" = "connected local=127.0.0.1 peer=127.0.0.1" ] &&
	ok private_loopback_reports_127_0_0_1_to_the_program ||
	not_ok private_loopback_reports_127_0_0_1_to_the_program "got: $got"
stop_all; PIDS=()

# Servers that bind "::" (python's default: dual stack) are per VM too, via ::1 as well.
PORT=$(free_port)
(cd "$HOST/wa" && exec timeout 60 "$FVM_EXEC" -n la --loopback private -- "$PY" -m http.server $PORT >/dev/null 2>&1) & PIDS+=($!)
(cd "$HOST/wb" && exec timeout 60 "$FVM_EXEC" -n lb --loopback private -- "$PY" -m http.server $PORT >/dev/null 2>&1) & PIDS+=($!)
if wait_port 127.0.0.1 $PORT la --loopback private && wait_port 127.0.0.1 $PORT lb --loopback private; then
	v6=("$PY" -c "import urllib.request as u; print(u.urlopen('http://[::1]:$PORT/f', timeout=5).read().decode(), end='')")
	got="$(fetch $PORT la --loopback private) $(in_vm lb --loopback private -- "${v6[@]}")"
	[ "$got" = "from-a from-b" ] && ok two_vms_each_serve_on_the_ipv6_wildcard_and_reach_their_own ||
		not_ok two_vms_each_serve_on_the_ipv6_wildcard_and_reach_their_own "got: $got"
else
	not_ok two_vms_each_serve_on_the_ipv6_wildcard_and_reach_their_own "a server never answered on port $PORT"
fi
stop_all; PIDS=()

# ---- policy: none, loopback, allow ----
PORT=$(free_port)
(cd "$HOST/wh" && exec "$PY" -m http.server $PORT --bind 127.0.0.1 >/dev/null 2>&1) & PIDS+=($!)
wait_port 127.0.0.1 $PORT || not_ok loopback_server_started "no server on $PORT"
got=$(in_vm pn --net none -- "$HELP/net-connect" 127.0.0.1 $PORT)
log=$(cat "$FVM_HOME/vms/pn/log" 2>/dev/null)
[ "$got" = "connect: Permission denied" ] && ok net_none_refuses_loopback_tcp_with_eacces ||
	not_ok net_none_refuses_loopback_tcp_with_eacces "got: $got"
case $log in
*"connect 127.0.0.1:$PORT refused"*) ok refusal_is_one_line_in_the_vms_log_naming_the_address ;;
*) not_ok refusal_is_one_line_in_the_vms_log_naming_the_address "log: $log" ;;
esac
# A static program: libfvm is not there, the kernel fence answers, with the same errno.
got=$(in_vm pn --net none -- "$STATIC" connect 127.0.0.1 $PORT | grep -v 'statically linked')
[ "$got" = "connect: EACCES" ] && ok net_none_refuses_loopback_tcp_from_a_static_helper_with_eacces ||
	not_ok net_none_refuses_loopback_tcp_from_a_static_helper_with_eacces "got: $got"
got=$(in_vm pl --net loopback -- "$STATIC" connect 127.0.0.1 $PORT | grep -v 'statically linked')
[ "$got" = "connect: ok" ] && ok net_loopback_lets_a_static_helper_reach_a_loopback_server ||
	not_ok net_loopback_lets_a_static_helper_reach_a_loopback_server "got: $got"
got=$(in_vm pa --net none --allow "127.0.0.1:$PORT" -- "$STATIC" connect 127.0.0.1 $PORT | grep -v 'statically linked')
[ "$got" = "connect: ok" ] && ok allow_rule_opens_its_port_to_a_static_helper_under_none ||
	not_ok allow_rule_opens_its_port_to_a_static_helper_under_none "got: $got"
got=$(in_vm pl --net loopback -- "$HELP/net-connect" 127.0.0.1 $PORT)
[ "${got%% *}" = connected ] && ok net_loopback_reaches_a_loopback_server ||
	not_ok net_loopback_reaches_a_loopback_server "got: $got"
got=$(in_vm pa --net none --allow "127.0.0.1:$PORT" -- "$HELP/net-connect" 127.0.0.1 $PORT)
[ "${got%% *}" = connected ] && ok allow_rule_opens_its_address_under_none ||
	not_ok allow_rule_opens_its_address_under_none "got: $got"
got=$(in_vm pw --net none --allow "127.0.0.1:$((PORT == 65535 ? 1 : PORT + 1))" -- "$HELP/net-connect" 127.0.0.1 $PORT)
[ "$got" = "connect: Permission denied" ] && ok allow_rule_for_another_port_opens_nothing ||
	not_ok allow_rule_for_another_port_opens_nothing "got: $got"
got=$(in_vm pn --net none -- "$PY" -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('127.0.0.1', $PORT))" | tail -1)
[ "$got" = "PermissionError: [Errno 13] Permission denied" ] && ok net_none_refuses_udp_sendto ||
	not_ok net_none_refuses_udp_sendto "got: $got"
# An allow rule of the family lets UDP sockets be made; libfvm checks each address.
got=$(in_vm pw --net none --allow "127.0.0.1:$((PORT == 65535 ? 1 : PORT + 1))" -- "$PY" -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('127.0.0.1', $PORT))" | tail -1)
[ "$got" = "PermissionError: [Errno 13] Permission denied" ] && ok udp_sendto_outside_the_allow_rules_is_refused ||
	not_ok udp_sendto_outside_the_allow_rules_is_refused "got: $got"
got=$(in_vm pn --net none -- "$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0))" | tail -1)
[ "$got" = "PermissionError: [Errno 13] Permission denied" ] && ok net_none_refuses_bind ||
	not_ok net_none_refuses_bind "got: $got"
stop_all; PIDS=()

# ---- a network namespace made here: a non-loopback address ----
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	skip loopback_policy_refuses_an_address_in_another_netns "needs root to create a network namespace ($(whoami_tag))"
	skip allow_rule_opens_exactly_that_address_and_port "needs root to create a network namespace ($(whoami_tag))"
else
	NETNS=fvmt$$
	o3=$(( $$ % 250 + 1 ))
	NSADDR=10.231.$o3.2
	if ip netns add "$NETNS" && ip link add "fv$$a" type veth peer name "fv$$b" &&
		ip link set "fv$$b" netns "$NETNS" && ip addr add "10.231.$o3.1/24" dev "fv$$a" &&
		ip link set "fv$$a" up && ip -n "$NETNS" addr add "$NSADDR/24" dev "fv$$b" &&
		ip -n "$NETNS" link set "fv$$b" up && ip -n "$NETNS" link set lo up; then
		NSPORT=8081
		(cd "$HOST/wh" && exec ip netns exec "$NETNS" "$PY" -m http.server $NSPORT --bind "$NSADDR" >/dev/null 2>&1) & PIDS+=($!)
		if wait_port "$NSADDR" $NSPORT; then
			got=$(in_vm nl --net loopback -- "$HELP/net-connect" "$NSADDR" $NSPORT)
			[ "$got" = "connect: Permission denied" ] &&
				ok loopback_policy_refuses_an_address_in_another_netns ||
				not_ok loopback_policy_refuses_an_address_in_another_netns "got: $got"
			got="$(in_vm na --net loopback --allow "$NSADDR:$NSPORT" -- "$HELP/net-connect" "$NSADDR" $NSPORT | cut -d' ' -f1) $(in_vm na --net loopback --allow "$NSADDR:$NSPORT" -- "$HELP/net-connect" "10.231.$o3.1" $NSPORT)"
			[ "$got" = "connected connect: Permission denied" ] &&
				ok allow_rule_opens_exactly_that_address_and_port ||
				not_ok allow_rule_opens_exactly_that_address_and_port "got: $got"
		else
			not_ok loopback_policy_refuses_an_address_in_another_netns "no server in $NETNS"
		fi
	else
		not_ok loopback_policy_refuses_an_address_in_another_netns "cannot set up namespace $NETNS"
	fi
	stop_all; PIDS=(); NETNS=
fi

# ---- name lookups under none ----
start=$(date +%s%N)
got=$(in_vm dn --net none -- getent ahosts fvm-test-name.example; echo "rc=$?")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$got" = "rc=2" ] && [ $ms -lt 3000 ] && ok dns_lookup_under_none_fails_at_once ||
	not_ok dns_lookup_under_none_fails_at_once "got: $got in $ms ms"
got=$(in_vm dn --net none -- "$PY" -c "
import socket
try: socket.getaddrinfo('fvm-test-name.example', 80)
except socket.gaierror as e: print(e.errno == socket.EAI_AGAIN)")
[ "$got" = True ] && ok getaddrinfo_under_none_is_eai_again || not_ok getaddrinfo_under_none_is_eai_again "got: $got"
got=$(in_vm dn --net none -- getent hosts localhost | awk '{print $1}' | head -1)
[ -n "$got" ] && ok hosts_file_names_still_resolve_under_none || not_ok hosts_file_names_still_resolve_under_none "got nothing"

if host_unchanged > "$T/why"; then
	ok network_runs_left_the_host_tree_unchanged
else
	not_ok network_runs_left_the_host_tree_unchanged "$(cat "$T/why")"
fi
done_testing
