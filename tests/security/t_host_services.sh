#!/usr/bin/env bash
# Issue 13, "host services are not accomplices": under --net none, a VM must not reach
# an AF_UNIX socket outside the VM (a D-Bus, systemd, tmux or docker socket) unless it
# is allowed by name. A server this test starts natively stands for such a service; the
# static helper, the dynamic one's raw system calls and python's socket module connect
# to it and send a line. Whatever the server receives is the accomplice reached.
. "$(dirname "$0")/lib.sh"
sec_require
PY=$(command -v python3)

sock=$T/service.sock
"$PY" - "$sock" "$T/received" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(8)
s.settimeout(60)
try:
    while True:
        c, _ = s.accept()
        c.settimeout(5)
        data = c.recv(256)
        with open(sys.argv[2], "ab") as f:
            f.write(data + b"\n")
        c.close()
except Exception:
    pass
PY
server=$!
trap 'kill $server 2>/dev/null; cleanup' EXIT
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
if [ ! -S "$sock" ]; then
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

unix_case() { # NAME CMD...
	local name=$1 word=$2 out
	shift 2
	sec_snapshot
	out=$(vm u --net none -- "$@" 2>&1)
	sleep 0.2
	verdict "$name" "under --net none the VM connected to a host AF_UNIX socket and the service received its message" \
		"$(grep -q "$word" "$T/received" && echo "the service received: $word")"
}
unix_case net_none_refuses_a_host_unix_socket_static from-static "$ATK" unix-connect "$sock" from-static
unix_case net_none_refuses_a_host_unix_socket_raw_syscall from-raw "$ATK_DYN" unix-connect "$sock" from-raw
unix_case net_none_refuses_a_host_unix_socket_python from-python "$PY" -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('$sock'); s.send(b'from-python')"

done_testing
