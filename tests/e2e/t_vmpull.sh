#!/usr/bin/env bash
# VMcasting, the subscriber (issue 18): fvm subscribe and fvm pull over 127.0.0.1 only,
# from a static server this test starts (tests/e2e/vmcast-server.py: Range, ETag,
# Last-Modified, and a connection cut once on demand) and from `python3 -m http.server`.
# A VM published as v1 is subscribed to from a second store and pulled: the subscriber's
# VM shows v1's files; v2 is pulled, its lower layer shared (not downloaded again), the
# subscriber's own change kept on top; an unchanged feed is one conditional request
# (304). Refused, each with exit 1 and the VM left at its version: a rollback (an older
# signed feed served again), the same sequence with other content, an expired feed, a
# feed signed by an untrusted key, a tampered blob (nothing switched). A pull while the
# VM runs is not refused: the running VM keeps its version to its end, the last run's
# end switches it (or the next fvm-exec or fvm tool that finds it idle), and fvm info
# lists the files the new version and the VM both changed; a pull racing a run's end
# always ends switched. A blob download cut halfway is exit 4 and resumes with a Range request; a
# server that is down is exit 4. A successor key announced by the feed is followed; a
# subscription trusts several keys. The host is checked unchanged. Root and user alike.
. "$(dirname "$0")/../lib/harness.sh"
PY=/usr/bin/python3
K=$T/keys
FEED=$T/feed
SUB=$T/sub          # the subscriber's store
LOG=$T/server.log
mkdir -p "$K" "$FEED"
check() { # NAME COMMAND...
	local name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
status() { # NAME RC REGEX COMMAND... : exit RC and output matching REGEX
	local name=$1 want=$2 re=$3; shift 3
	out=$("$@" 2>&1); rc=$?
	if [ $rc = "$want" ] && grep -Eq "$re" <<< "$out"; then ok "$name"; else not_ok "$name" "rc=$rc: $out"; fi
}
SRV=
start_server() { # [plain]: serves $FEED on a free port of 127.0.0.1; URL in $URL
	rm -f "$T/port"
	if [ "${1:-}" = plain ]; then
		port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		(cd "$FEED" && exec "$PY" -m http.server "$port" --bind 127.0.0.1) > "$LOG" 2>&1 &
		SRV=$!
		echo "$port" > "$T/port"
		for _ in $(seq 50); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
	else
		"$PY" "$TOP/tests/e2e/vmcast-server.py" "$FEED" "$T/port" "$T/cut" > "$LOG" 2>&1 &
		SRV=$!
		for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
	fi
	URL=http://127.0.0.1:$(cat "$T/port")/
}
stop_server() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null; SRV=; }
trap 'stop_server; cleanup' EXIT

sub() { FVM_HOME=$SUB "$FVM" "$@"; }
in_sub() { FVM_HOME=$SUB "$FVM_EXEC" -n s1 -- sh -c "$1"; }
pub() { "$FVM" publish pv --feed "$FEED" --key "$K/k1.key" "$@"; }
resign() { # FILE SEQUENCE KEY: FILE.minisig as publish signs it
	"$FVM" sign "$1" --key "$3" -x "$1.minisig" -t "fvm feed sequence $2" > /dev/null
}

for k in k1 k2 k3; do "$FVM" keygen -o "$K/$k" --no-passphrase > /dev/null 2>&1; done
mkdir -p "$HOST/etc"; echo base > "$HOST/etc/conf"; echo gone > "$HOST/etc/old"
snapshot_host

# --- v1 ---
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v1 > added1; echo more >> etc/conf') > /dev/null 2>&1
check publish_v1 pub
start_server
check subscribe sub subscribe s1 "$URL" --pub "$K/k1.pub"
status pull_v1 0 'version 1 .*1 downloaded' sub pull s1
out=$(in_sub "cat $HOST/added1 $HOST/etc/conf" 2>&1)
[ "$out" = "v1
base
more" ] && ok vm_shows_v1 || not_ok vm_shows_v1 "$out"
out=$(sub subscribe s1 2>&1)
grep -q "^vmcast: *${URL}feed.xml$" <<< "$out" && grep -q '^  version *1 (feed sequence 1, 1 layer)' <<< "$out" &&
	ok subscription_shown || not_ok subscription_shown "$out"
out=$(sub info s1 2>&1)
grep -q "^vmcast: *${URL}feed.xml$" <<< "$out" && grep -q '^  last pull *20' <<< "$out" &&
	ok info_shows_subscription || not_ok info_shows_subscription "$out"
n0=$(grep -c 'GET /feed.xml ' "$LOG")
status unchanged_feed_up_to_date 0 'up to date at version 1 .*not modified' sub pull s1
grep -q 'GET /feed.xml .* 304' "$LOG" && [ "$(grep -c 'GET /blobs' "$LOG")" = 1 ] &&
	ok unchanged_feed_is_one_conditional_request || not_ok unchanged_feed_is_one_conditional_request "$(tail -4 "$LOG")"
cp "$FEED/feed.xml" "$T/v1.xml"; cp "$FEED/feed.xml.minisig" "$T/v1.xml.minisig"

# --- v2, with a change of the subscriber's own ---
in_sub "echo mine > $HOST/mine; echo kept >> $HOST/etc/old" > /dev/null 2>&1
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'rm etc/old; echo v2 > added2') > /dev/null 2>&1
check publish_v2 pub
lst() { grep -v '^fvm-layers' "$SUB/ctl/s1/layers"; }
l1=$(lst | sed -n 1p)
status pull_v2 0 'version 2 .*2 layers, 1 downloaded, 1 shared' sub pull s1
out=$(in_sub "cat $HOST/added1 $HOST/added2 $HOST/mine $HOST/etc/old" 2>&1)
[ "$out" = "v1
v2
mine
gone
kept" ] && ok vm_shows_v2_and_own_changes_on_top || not_ok vm_shows_v2_and_own_changes_on_top "$out"
out=$(sub subscribe s1 2>&1)
grep -q '^  conflicts 1 ' <<< "$out" && grep -qx "    $HOST/etc/old" <<< "$out" && ok conflict_listed ||
	not_ok conflict_listed "$out"
[ "$(lst | sed -n 2p)" = "$l1" ] && [ "$(lst | wc -l)" = 2 ] &&
	[ "$(ls "$SUB/layers" | wc -l)" = 2 ] && ok v1_layer_shared || not_ok v1_layer_shared "$(cat "$SUB/ctl/s1/layers"; ls "$SUB/layers")"
cp "$SUB/ctl/s1/layers" "$T/layers.v2"
same_v2() { cmp -s "$SUB/ctl/s1/layers" "$T/layers.v2" && [ "$(in_sub "cat $HOST/added2" 2>&1)" = v2 ]; }
cp "$FEED/feed.xml" "$T/v2.xml"; cp "$FEED/feed.xml.minisig" "$T/v2.xml.minisig"

# --- refusals ---
cp "$T/v1.xml" "$FEED/feed.xml"; cp "$T/v1.xml.minisig" "$FEED/feed.xml.minisig"
status rollback_refused 1 'sequence 1 is older than 2.*rollback' sub pull s1
same_v2 && ok rollback_left_vm_at_v2 || not_ok rollback_left_vm_at_v2 "$(cat "$SUB/ctl/s1/layers")"
sed 's/2 layers/2 layers/; s|<description>|<description>changed |' "$T/v2.xml" > "$FEED/feed.xml"
resign "$FEED/feed.xml" 2 "$K/k1.key"
status same_sequence_other_content_refused 1 'sequence 2 again with other content' sub pull s1
sed 's|<fvm:sequence>2<|<fvm:sequence>9<|; s|<fvm:validUntil>[^<]*<|<fvm:validUntil>2020-01-01T00:00:00Z<|' "$T/v2.xml" > "$FEED/feed.xml"
resign "$FEED/feed.xml" 9 "$K/k1.key"
status expired_refused 1 'expired at 2020-01-01.*frozen' sub pull s1
sed 's|<fvm:sequence>2<|<fvm:sequence>9<|' "$T/v2.xml" > "$FEED/feed.xml"
resign "$FEED/feed.xml" 9 "$K/k3.key"
status untrusted_key_refused 1 'signed by key [0-9A-F]{1,16}, which this subscription does not trust' sub pull s1
resign "$FEED/feed.xml" 8 "$K/k1.key"
status signature_of_other_sequence_refused 1 'signature is for another sequence' sub pull s1
echo '<rss>' > "$FEED/feed.xml"
status tampered_feed_refused 1 'does not match it \(tampered\)' sub pull s1
same_v2 && ok refusals_left_vm_at_v2 || not_ok refusals_left_vm_at_v2 "$(cat "$SUB/ctl/s1/layers")"

# --- v3: a tampered blob, then a download cut halfway ---
cp "$T/v2.xml" "$FEED/feed.xml"; cp "$T/v2.xml.minisig" "$FEED/feed.xml.minisig"
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'head -c 300000 /dev/urandom > big3; echo v3 > added3') > /dev/null 2>&1
check publish_v3 pub
top=$(sed -n 's/.*<enclosure url="[^"]*\/\([0-9a-f]\{64\}\)".*/\1/p' "$FEED/feed.xml" | head -1)
cp "$FEED/blobs/sha256/$top" "$T/top.blob"
"$PY" -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[len(b)//2]^=1; open(sys.argv[1],'wb').write(b)" "$FEED/blobs/sha256/$top"
status tampered_blob_refused 1 'its sha256 is .*tampered or damaged' sub pull s1
same_v2 && [ "$(ls "$SUB/layers" | wc -l)" = 2 ] && ok tampered_blob_switched_nothing ||
	not_ok tampered_blob_switched_nothing "$(cat "$SUB/ctl/s1/layers"; ls "$SUB/layers")"
cp "$T/top.blob" "$FEED/blobs/sha256/$top"
touch "$T/cut"
status cut_download_is_exit_4 4 'blob|transfer|received' sub pull s1
part=$(ls "$SUB/ctl/s1/vmcast/blobs/" | grep '\.part$')
same_v2 && [ -n "$part" ] && [ -s "$SUB/ctl/s1/vmcast/blobs/$part" ] && ok partial_blob_kept ||
	not_ok partial_blob_kept "$part"
status cut_download_resumed 0 'resuming at byte [1-9]' sub pull s1
grep -q "GET /blobs/sha256/$top .*206" "$LOG" && ok resumed_with_range || not_ok resumed_with_range "$(grep blobs "$LOG")"
out=$(in_sub "cat $HOST/added3; cmp $HOST/big3 $HOST/big3 && wc -c < $HOST/big3" 2>&1)
[ "$out" = "v3
300000" ] && ok vm_shows_v3 || not_ok vm_shows_v3 "$out"
[ -z "$(ls "$SUB/ctl/s1/vmcast/blobs/")" ] && ok blobs_dropped_after_switch || not_ok blobs_dropped_after_switch "$(ls "$SUB/ctl/s1/vmcast/blobs/")"

# --- a running VM is not switched under its processes: the switch waits for its end ---
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v4 > added4') > /dev/null 2>&1
check publish_v4 pub
cp "$SUB/ctl/s1/layers" "$T/layers.v3"
mkfifo "$T/go"
# The run prints what it sees before and after the pull, and changes a file v4 adds.
FVM_HOME=$SUB "$FVM_EXEC" -n s1 -- sh -c "cat $HOST/added4 2>/dev/null || echo none; echo up; read x;
	cat $HOST/added4 2>/dev/null || echo none; echo mine4 > $HOST/added4" < "$T/go" > "$T/seen" 2>&1 &
RUN=$!
exec 7> "$T/go"
for _ in $(seq 100); do grep -q up "$T/seen" && break; sleep 0.1; done
status pull_while_running_is_not_refused 0 'version 4 .*the VM runs: it switches when its last process ends' sub pull s1
cmp -s "$SUB/ctl/s1/layers" "$T/layers.v3" && [ -e "$SUB/ctl/s1/switch" ] && ok running_vm_not_switched ||
	not_ok running_vm_not_switched "$(cat "$SUB/ctl/s1/layers")"
out=$(sub info s1 2>&1)
grep -q '^  version *4 .*: the VM switches to it when its last process ends' <<< "$out" &&
	ok info_says_the_switch_waits || not_ok info_says_the_switch_waits "$out"
sub info s1 --json | "$PY" -c 'import json,sys; v=json.load(sys.stdin)["vmcast"]; assert v["version"] == 4 and v["switch_waits"]' 2>&1 &&
	ok info_json_says_the_switch_waits || not_ok info_json_says_the_switch_waits "$(sub info s1 --json)"
echo go >&7; exec 7>&-
wait "$RUN"
[ "$(cat "$T/seen")" = "none
up
none" ] && ok running_vm_kept_its_version_to_the_end || not_ok running_vm_kept_its_version_to_the_end "$(cat "$T/seen")"
! cmp -s "$SUB/ctl/s1/layers" "$T/layers.v3" && [ ! -e "$SUB/ctl/s1/switch" ] && ok switched_when_last_process_ended ||
	not_ok switched_when_last_process_ended "$(cat "$SUB/ctl/s1/layers"; ls "$SUB/ctl/s1")"
out=$(in_sub "cat $HOST/added1 $HOST/added4" 2>&1)
[ "$out" = "v1
mine4" ] && ok vm_shows_v4_under_its_own_change || not_ok vm_shows_v4_under_its_own_change "$out"
out=$(sub info s1 2>&1)
grep -q '^  conflicts 1 ' <<< "$out" && grep -qx "    $HOST/added4" <<< "$out" && ok info_lists_conflict_of_waiting_switch ||
	not_ok info_lists_conflict_of_waiting_switch "$out"
sub info s1 --json | "$PY" -c 'import json,sys; v=json.load(sys.stdin)["vmcast"]; assert v["conflicts"] == [sys.argv[1]] and not v["switch_waits"]' "$HOST/added4" 2>&1 &&
	ok info_json_lists_conflicts || not_ok info_json_lists_conflicts "$(sub info s1 --json)"
status pull_all_up_to_date 0 's1: up to date at version 4 ' sub pull --all

# The VM's lock held, then let go without applying the switch (as by a supervisor
# killed outright): the next fvm-exec finds the VM idle and applies it before it starts.
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v5 > added5') > /dev/null 2>&1
check publish_v5 pub
exec 8< "$SUB/ctl/s1/lock"; flock -s 8
status pull_while_lock_held 0 'version 5 .*switches when its last process ends' sub pull s1
exec 8<&-
[ -e "$SUB/ctl/s1/switch" ] && ok switch_waits_after_holder_died || not_ok switch_waits_after_holder_died "$(ls "$SUB/ctl/s1")"
out=$(in_sub "cat $HOST/added5" 2>&1)
[ "$out" = v5 ] && [ ! -e "$SUB/ctl/s1/switch" ] && ok next_run_applies_waiting_switch || not_ok next_run_applies_waiting_switch "$out"
# The same through a tool that needs the VM idle (fvm snapshot): applied first, and the
# snapshot (the VM's own layer) stays above the subscribed ones at the next pull.
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v6 > added6') > /dev/null 2>&1
check publish_v6 pub
exec 8< "$SUB/ctl/s1/lock"; flock -s 8
status pull_v6_while_lock_held 0 'version 6 .*switches when its last process ends' sub pull s1
exec 8<&-
check snapshot_applies_waiting_switch sub snapshot s1 own
[ ! -e "$SUB/ctl/s1/switch" ] && [ "$(in_sub "cat $HOST/added6 $HOST/added4" 2>&1)" = "v6
mine4" ] && ok tool_applied_waiting_switch || not_ok tool_applied_waiting_switch "$(ls "$SUB/ctl/s1")"
own=$(lst | sed -n 1p)
# Races: a pull against a run ending, a few times; each ends switched, nothing waiting.
for v in 7 8 9; do
	(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c "echo v$v > added$v") > /dev/null 2>&1
	pub > /dev/null 2>&1
	in_sub "sleep 0.$((v - 6))" > /dev/null 2>&1 &
	RUN=$!
	sleep 0.1
	sub pull s1 > "$T/race.out" 2>&1; rc=$?
	wait "$RUN"
	[ $rc = 0 ] && [ ! -e "$SUB/ctl/s1/switch" ] && [ "$(in_sub "cat $HOST/added$v" 2>&1)" = "v$v" ] &&
		[ "$(lst | sed -n 1p)" = "$own" ] && ok "race_of_pull_and_run_end_v$v" ||
		not_ok "race_of_pull_and_run_end_v$v" "rc=$rc $(cat "$T/race.out"; ls "$SUB/ctl/s1")"
done

# --- key rotation: several keys, a successor announced and followed ---
check refresh_with_successor "$FVM" publish --refresh --feed "$FEED" --key "$K/k1.key" --successor "$K/k2.pub"
status successor_followed 0 'now trusting the successor key' sub pull s1
check refresh_by_successor "$FVM" publish --refresh --feed "$FEED" --key "$K/k2.key"
status feed_by_successor_accepted 0 'up to date at version 9' sub pull s1
cp "$FEED/feed.xml" "$T/k2.xml"; cp "$FEED/feed.xml.minisig" "$T/k2.xml.minisig"
"$PY" - "$FEED/feed.xml" <<'PYEOF'
import sys, re
p = sys.argv[1]; s = open(p).read()
s = re.sub(r'(<fvm:publicKey>)[^<]*', lambda m: m.group(1) + open(sys.argv[1].rsplit('/', 2)[0] + '/keys/k3.pub').read(), s)
open(p, 'w').write(s)
PYEOF
seq=$(sed -n 's|.*<fvm:sequence>\([0-9]*\)<.*|\1|p' "$FEED/feed.xml")
sed -i "s|<fvm:sequence>$seq<|<fvm:sequence>$((seq + 1))<|" "$FEED/feed.xml"
resign "$FEED/feed.xml" $((seq + 1)) "$K/k2.key"
status forged_successor_refused 1 'successor key [0-9A-F]{1,16} does not match its signature' sub pull s1
cp "$T/k2.xml" "$FEED/feed.xml"; cp "$T/k2.xml.minisig" "$FEED/feed.xml.minisig"
check subscribe_more_keys sub subscribe s1 "${URL}feed.xml" --pub "$K/k3.pub"
check refresh_by_k3 "$FVM" publish --refresh --feed "$FEED" --key "$K/k3.key"
status second_trusted_key_accepted 0 'up to date at version 9' sub pull s1

# --- the server down ---
stop_server
status server_down_is_exit_4 4 'Could not connect|Couldn.t connect|Failed to connect' sub pull s1

# --- python3 -m http.server (no Range, no ETag): a second subscriber ---
start_server plain
check subscribe_plain env FVM_HOME=$T/sub2 "$FVM" subscribe s2 "$URL" --pub "$K/k1.pub" --pub "$K/k3.pub"
status pull_from_plain_server 0 'version 9 .*9 layers, 9 downloaded' env FVM_HOME=$T/sub2 "$FVM" pull s2
out=$(FVM_HOME=$T/sub2 "$FVM_EXEC" -n s2 -- sh -c "cat $HOST/added1 $HOST/added4 $HOST/added9" 2>&1)
[ "$out" = "v1
v4
v9" ] && ok second_subscriber_shows_v9 || not_ok second_subscriber_shows_v9 "$out"
stop_server
check subscribe_file_url env FVM_HOME=$T/sub3 "$FVM" subscribe s3 "file://$FEED/feed.xml" --pub "$K/k3.pub"
status blob_by_untrusted_key_refused 1 'blobs/sha256/[0-9a-f]{64}: signed by key [0-9A-F]{1,16}, which this subscription does not trust' \
	env FVM_HOME=$T/sub3 "$FVM" pull s3
grep -q '^  version   none pulled yet' <<< "$(FVM_HOME=$T/sub3 "$FVM" subscribe s3)" && ok untrusted_blob_switched_nothing ||
	not_ok untrusted_blob_switched_nothing "$(FVM_HOME=$T/sub3 "$FVM" subscribe s3)"
check subscribe_file_url_k1 env FVM_HOME=$T/sub3 "$FVM" subscribe s3 "file://$FEED/feed.xml" --pub "$K/k1.pub"
status pull_from_file_url 0 'version 9 .*9 downloaded' env FVM_HOME=$T/sub3 "$FVM" pull s3

host_unchanged > "$T/why" && ok host_unchanged || not_ok host_unchanged "$(cat "$T/why")"
done_testing
