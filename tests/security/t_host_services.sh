#!/usr/bin/env bash
# Issue 13, "host services are not accomplices": under --net none, a VM must not reach
# an AF_UNIX socket outside the VM (a D-Bus, systemd, tmux or docker socket) unless it
# is allowed by name. A server this test starts natively stands for such a service; the
# static helper, the dynamic one's raw system calls and python's socket module connect
# to it and send a line. Whatever the server receives is the accomplice reached. The same
# for datagrams (a /dev/log or /run/systemd/notify): an unconnected datagram socket
# sends to a host datagram socket by sendto, sendmsg, sendmmsg and i386 sendmsg.
. "$(dirname "$0")/lib.sh"
sec_require
PY=$(command -v python3)

sock=$T/service.sock
other=$T/other.sock
serve "$sock" "$T/received"
server=$!
serve "$other" "$T/received-other"
server2=$!
trap 'kill $server $server2 2>/dev/null; cleanup' EXIT
for _ in $(seq 50); do [ -S "$sock" ] && [ -S "$other" ] && break; sleep 0.1; done
if [ ! -S "$sock" ] || [ ! -S "$other" ]; then
	skip unix_socket_tests "could not start a unix socket server"
	done_testing; exit
fi
# First natively: the server hears a client, so that its silence means a refusal.
"$ATK" unix-connect "$sock" native > /dev/null 2>&1
sleep 0.2
if ! grep -q native "$T/received" 2>/dev/null; then
	skip unix_socket_tests "the server did not hear a native client"
	done_testing; exit
fi

unix_case() { # NAME WORD CMD...: the service must not hear WORD
	local name=$1 word=$2 out
	shift 2
	sec_snapshot
	out=$(vm u --net none -- "$@" 2>&1)
	sleep 0.2
	verdict "$name" "" \
		"$(grep -q "$word" "$T/received" && echo "the service received: $word ($out)")"
}
unix_case net_none_refuses_a_host_unix_socket_static from-static "$ATK" unix-connect "$sock" from-static
unix_case net_none_refuses_a_host_unix_socket_raw_syscall from-raw "$ATK_DYN" unix-connect "$sock" from-raw
unix_case net_none_refuses_a_host_unix_socket_python from-python "$PY" -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('$sock'); s.send(b'from-python')"

# Datagrams: a host datagram socket that appends each datagram (and the number of
# descriptors passed with it) to a file.
dgram=$T/dgram.sock
"$PY" - "$dgram" "$T/dgrams" <<'PY' &
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
s.settimeout(120)
try:
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
        fds = array.array("i")
        for level, kind, d in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(d[: len(d) - len(d) % 4])
        for fd in fds:
            os.close(fd)
        with open(sys.argv[2], "ab") as f:
            f.write(data + b" fds=%d\n" % len(fds))
except Exception:
    pass
PY
dserver=$!
trap 'kill $server $server2 $dserver 2>/dev/null; cleanup' EXIT
for _ in $(seq 50); do [ -S "$dgram" ] && break; sleep 0.1; done
"$ATK" unix-sendto "$dgram" dgram-native > /dev/null 2>&1
sleep 0.2
if ! grep -q dgram-native "$T/dgrams" 2>/dev/null; then
	skip unix_datagram_tests "the datagram server did not hear a native client"
else
	dgram_case() { # NAME WORD CMD...: the datagram service must not hear WORD
		local name=$1 word=$2 out
		shift 2
		sec_snapshot
		out=$(vm u --net none -- "$@" 2>&1)
		sleep 0.2
		verdict "$name" "" \
			"$(grep -q "$word" "$T/dgrams" && echo "the datagram service received: $word ($out)")"
	}
	for op in sendto sendmsg sendmmsg sendmsg-fd; do
		dgram_case "net_none_refuses_a_host_datagram_socket_${op//-/_}_static" "st-$op" \
			"$ATK" "unix-$op" "$dgram" "st-$op"
		dgram_case "net_none_refuses_a_host_datagram_socket_${op//-/_}_raw_syscall" "dy-$op" \
			"$ATK_DYN" "unix-$op" "$dgram" "dy-$op"
	done
	dgram_case net_none_refuses_a_host_datagram_socket_python py-dgram "$PY" -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b'py-dgram', '$dgram')"
	if [ "$(uname -m)" = x86_64 ]; then
		dgram_case net_none_refuses_a_host_datagram_socket_i386_sendmsg i386-dgram \
			"$ATK" i386-unix-sendmsg "$dgram" i386-dgram
	fi
	dgram_case net_none_refuses_a_planted_symlink_datagram_python py-link "$PY" -c "
import os, socket
os.symlink('$dgram', '/tmp/planted.dgram')
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b'py-link', '/tmp/planted.dgram')"
	# Allowed by name: the datagram arrives, with the descriptor passed along.
	out=$(vm u --net none --allow "unix:$dgram" -- "$ATK" unix-sendmsg-fd "$dgram" dg-allowed 2>&1)
	sleep 0.2
	if grep -q 'dg-allowed fds=1' "$T/dgrams"; then ok allow_unix_path_lets_datagrams_and_fds_through
	else not_ok allow_unix_path_lets_datagrams_and_fds_through "$out; received: $(tail -3 "$T/dgrams")"; fi
	if [ "$(uname -m)" = x86_64 ]; then
		out=$(vm u --net none --allow "unix:$dgram" -- "$ATK" i386-unix-sendmsg "$dgram" dg-i386-allowed 2>&1)
		sleep 0.2
		if grep -q 'dg-i386-allowed' "$T/dgrams"; then ok allow_unix_path_lets_i386_datagrams_through
		else not_ok allow_unix_path_lets_i386_datagrams_through "$out"; fi
	fi
	# The VM's own datagram sockets: by address, by a connected socket, with sendmsg.
	out=$(vm u --net none -- "$PY" -c "
import os, socket
for p in ('/tmp/own.dgram',):
    try: os.unlink(p)
    except FileNotFoundError: pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); srv.bind('/tmp/own.dgram')
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
c.sendto(b'a', '/tmp/own.dgram')
c.sendmsg([b'b', b'c'], [], 0, '/tmp/own.dgram')
c.connect('/tmp/own.dgram'); c.send(b'd'); c.sendmsg([b'e'])
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); a.sendmsg([b'f']); a.sendmsg([b'g'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(4))])
print(b''.join(srv.recv(9) for _ in range(4)).decode() + b.recv(9).decode() + b.recv(9).decode())" 2>&1)
	if [ "$out" = abcdefg ]; then ok vm_own_datagram_sockets_work_under_net_none
	else not_ok vm_own_datagram_sockets_work_under_net_none "$out"; fi
fi

# What the VM may reach. heard NAME FILE WORD OUT: ok when FILE got WORD.
heard() {
	sleep 0.2
	if grep -q "$3" "$2" 2>/dev/null; then ok "$1"; else not_ok "$1" "the service did not hear $3: $4"; fi
}
# The i386 ABI: its own connect(2), and socketcall, on a socket made natively.
if [ "$(uname -m)" = x86_64 ]; then
	unix_case net_none_refuses_a_host_unix_socket_i386_connect from-i386 "$ATK" i386-unix-connect "$sock" from-i386
	unix_case net_none_refuses_a_host_unix_socket_i386_socketcall from-i386sc \
		"$ATK" i386-socketcall-connect "$sock" from-i386sc
else
	skip i386_unix_connect "this machine is $(uname -m), no i386 ABI"
fi
# A link the VM plants in its own tree, to the host socket: the inode is the host's.
upper=$(vmdir u)/upper
unix_case net_none_refuses_a_planted_symlink_python from-link "$PY" -c "
import os, socket
os.symlink('$sock', '/tmp/planted.sock')
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('/tmp/planted.sock'); s.send(b'from-link')"
unix_case net_none_refuses_a_planted_symlink_static from-slink "$ATK" unix-connect "$upper/tmp/planted.sock" from-slink

# --allow unix:PATH lets exactly that socket through.
out=$(vm u --net none --allow "unix:$sock" -- "$ATK" unix-connect "$sock" from-allowed 2>&1)
heard allow_unix_path_lets_that_socket_through "$T/received" from-allowed "$out"
out=$(vm u --net none --allow "unix:$sock" -- "$ATK" unix-connect "$other" from-not-allowed 2>&1)
sleep 0.2
if grep -q from-not-allowed "$T/received-other" 2>/dev/null; then
	not_ok allow_unix_path_allows_no_other_socket "the other service heard the VM: $out"
else
	ok allow_unix_path_allows_no_other_socket
fi
if [ "$(uname -m)" = x86_64 ]; then # the supervisor routes i386 connect(2) too
	out=$(vm u --net none --allow "unix:$sock" -- "$ATK" i386-unix-connect "$sock" from-i386-allowed 2>&1)
	heard allow_unix_path_lets_an_i386_connect_through "$T/received" from-i386-allowed "$out"
fi
# unix = all (the key, here from the command line) restores access under --net none.
out=$(vm u --net none --unix all -- "$ATK" unix-connect "$sock" from-unix-all 2>&1)
heard unix_all_restores_access "$T/received" from-unix-all "$out"
# A socket the VM made itself (in its upper directory) works under --net none.
out=$(vm u --net none -- "$PY" -c "
import os, socket, threading
try: os.unlink('/tmp/own.sock')
except FileNotFoundError: pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind('/tmp/own.sock'); srv.listen(1)
def echo():
    c, _ = srv.accept(); c.send(c.recv(64)); c.close()
threading.Thread(target=echo).start()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('/tmp/own.sock'); s.send(b'own'); print(s.recv(64).decode())" 2>&1)
if [ "$out" = own ]; then ok vm_own_unix_socket_works_under_net_none; else not_ok vm_own_unix_socket_works_under_net_none "$out"; fi
out=$(vm u --net none -- "$ATK" unix-connect "$upper/tmp/own.sock" static-own 2>&1)
case $out in
*ECONNREFUSED* | *ok*) ok vm_own_unix_socket_reached_by_a_static_program ;;
*) not_ok vm_own_unix_socket_reached_by_a_static_program "$out" ;;
esac

done_testing
