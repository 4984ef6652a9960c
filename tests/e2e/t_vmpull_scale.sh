#!/usr/bin/env bash
# VMcasting at scale (issue 18): 20 subscriber stores pull one VM's feed concurrently
# from one `python3 -m http.server` on 127.0.0.1 and all end at the same version with
# identical views; a second round with the feed unchanged costs each one conditional
# request (304, If-Modified-Since). The timings are printed as TAP comments. The host is
# checked unchanged. Root and user alike.
. "$(dirname "$0")/../lib/harness.sh"
PY=/usr/bin/python3
N=${FVM_VMPULL_SUBSCRIBERS:-20}
FEED=$T/feed
LOG=$T/server.log
mkdir -p "$FEED"
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; cleanup' EXIT
"$FVM" keygen -o "$T/k" --no-passphrase > /dev/null 2>&1
mkdir -p "$HOST/etc"; echo base > "$HOST/etc/conf"
snapshot_host
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v1 > added1; head -c 1000000 /dev/urandom > big; echo more >> etc/conf') > /dev/null 2>&1
"$FVM" publish pv --feed "$FEED" --key "$T/k.key" > /dev/null || not_ok publish_v1 "failed"
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v2 > added2; rm big') > /dev/null 2>&1
"$FVM" publish pv --feed "$FEED" --key "$T/k.key" > /dev/null && ok published_v2 || not_ok published_v2 "failed"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$FEED" && exec "$PY" -m http.server "$port" --bind 127.0.0.1) > "$LOG" 2>&1 &
SRV=$!
for _ in $(seq 50); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
URL=http://127.0.0.1:$port/
bad=
for i in $(seq "$N"); do
	FVM_HOME=$T/s$i "$FVM" subscribe vm "$URL" --pub "$T/k.pub" > /dev/null 2>&1 || bad="$bad sub$i"
done
[ -z "$bad" ] && ok "subscribed_$N" || not_ok "subscribed_$N" "$bad"
now() { echo "$EPOCHREALTIME"; }
secs() { awk "BEGIN { printf \"%.2f\", $2 - $1 }"; }
round() { # pulls all N concurrently; failures into $bad
	local pids=() i
	for i in $(seq "$N"); do
		FVM_HOME=$T/s$i "$FVM" pull vm > "$T/pull$i.out" 2>&1 &
		pids+=($!)
	done
	bad=
	for i in $(seq "$N"); do wait "${pids[$((i - 1))]}" || bad="$bad s$i:$(cat "$T/pull$i.out")"; done
}
t0=$(now); round; t1=$(now)
[ -z "$bad" ] && ok "first_round_$N" || not_ok "first_round_$N" "$bad"
echo "# first round: $N subscribers pulled version 2 (2 layers) in $(secs "$t0" "$t1") s"
grep -l 'version 2 (sequence 2): 2 layers, 2 downloaded' "$T"/pull*.out | wc -l | grep -qx "$N" &&
	ok all_at_version_2 || not_ok all_at_version_2 "$(cat "$T"/pull*.out)"
ref=
diffs=
for i in $(seq "$N"); do
	m=$(FVM_HOME=$T/s$i vm_manifest vm | sha256sum)
	[ -z "$ref" ] && ref=$m
	[ "$m" = "$ref" ] || diffs="$diffs s$i"
done
[ -z "$diffs" ] && ok identical_views || not_ok identical_views "$diffs"
FVM_HOME=$T/s1 "$FVM_EXEC" -n vm -- sh -c "cat $HOST/added1 $HOST/added2; test ! -e $HOST/big" > "$T/view" 2>&1
[ "$(cat "$T/view")" = "v1
v2" ] && ok view_is_version_2 || not_ok view_is_version_2 "$(cat "$T/view")"
before=$(grep -c '"GET ' "$LOG")
t0=$(now); round; t1=$(now)
[ -z "$bad" ] && ok "second_round_$N" || not_ok "second_round_$N" "$bad"
after=$(grep -c '"GET ' "$LOG")
n304=$(grep -c '"GET /feed.xml HTTP/1.1" 304' "$LOG")
echo "# second round (feed unchanged): $N pulls in $(secs "$t0" "$t1") s, $((after - before)) requests ($n304 answered 304)"
grep -l 'up to date at version 2 .*not modified' "$T"/pull*.out | wc -l | grep -qx "$N" && [ "$n304" = "$N" ] &&
	ok unchanged_feed_one_conditional_request_each || not_ok unchanged_feed_one_conditional_request_each "$n304 304s; $(cat "$T"/pull1.out)"
kill "$SRV"; wait "$SRV" 2>/dev/null; SRV=
host_unchanged > "$T/why" && ok host_unchanged || not_ok host_unchanged "$(cat "$T/why")"
done_testing
