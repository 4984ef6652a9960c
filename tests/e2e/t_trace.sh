#!/usr/bin/env bash
# Tracing and provenance (issue 19): fvm-exec --trace of a real `make` of a small C
# project; fvm trace shows its sources, the system headers it included and the compiler
# programs (gcc, cc1, as, ld) with digests equal to sha256sum of those files, and
# outputs equal to fvm diff; --outside finds a header read from outside the project;
# fvm provenance validates against in-toto Statement v1 and SLSA Provenance v1 schemas
# (tests/e2e/schemas, written from the published specs) and its DSSE envelope verifies
# with PyNaCl; a static program's reads are seen by the supervisor; getenv and connect
# are recorded; --run picks a run. Attacks: a VM process (libfvm's calls or a static
# program's raw ones) cannot write, create or list the trace; a forged batch is kept as
# its sender's word under its own pid, cannot claim another pid (SCM_CREDENTIALS) or
# add an output, and a datagram relayed through the supervisor is refused. Host
# unchanged after each run.
. "$(dirname "$0")/../lib/harness.sh"

# Debian's python3 has python3-jsonschema and python3-nacl (make deps); a python3 of
# another installation earlier on PATH may not.
PY=python3
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import jsonschema, nacl' 2>/dev/null; then
		PY=$p
		break
	fi
done
SCHEMAS=$TOP/tests/e2e/schemas
STATIC=$TOP/build/tests/helpers/try-syscall-static

P=$HOST/proj
mkdir -p "$P" "$HOST/ext"
cat > "$HOST/ext/extra.h" << 'EOF'
#define EXTRA 42
EOF
cat > "$P/util.h" << 'EOF'
int twice(int x);
EOF
cat > "$P/util.c" << 'EOF'
#include <string.h>
#include "util.h"
int twice(int x) { return x * 2 + (int)strlen(""); }
EOF
cat > "$P/main.c" << 'EOF'
#include <stdio.h>
#include "util.h"
#include "extra.h"
int main(void) { printf("%d\n", twice(EXTRA)); return 0; }
EOF
printf 'CC = gcc\nCFLAGS = -O1 -I../ext\nprog: main.o util.o\n\t$(CC) -o $@ main.o util.o\n' > "$P/Makefile"
snapshot_host

run() { (cd "$HOST" && "$FVM_EXEC" "$@"); }
# jq_py FILE EXPR: EXPR evaluated with j = the JSON in FILE.
jq_py() { "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# ---- a traced build ----------------------------------------------------------------
out=$(run --trace -n build -- make -s -C proj 2>&1); rc=$?
[ $rc = 0 ] && ok traced_make_succeeds || not_ok traced_make_succeeds "exit $rc" "$out"
host_unchanged > "$T/d" && ok host_unchanged_after_traced_build || not_ok host_unchanged_after_traced_build "$(cat "$T/d")"
"$FVM" trace build --json > "$T/trace.json" 2> "$T/err"; rc=$?
[ $rc = 0 ] && jq_py "$T/trace.json" 'len(j["inputs"])' > /dev/null 2>&1 && ok trace_json_parses ||
	not_ok trace_json_parses "exit $rc" "$(cat "$T/err")" "$(head -c 300 "$T/trace.json")"

# same KIND NAME PATH: the trace's digest of PATH among KIND equals sha256sum's.
same() {
	local want got
	want=sha256:$(sha256sum "$3" | cut -d' ' -f1)
	got=$(digest_of "$1" "$3")
	[ "$got" = "$want" ] && ok "${2}_traced_with_its_sha256" || not_ok "${2}_traced_with_its_sha256" "$3: trace '$got', sha256sum '$want'"
}
# digest_of KIND PATH: the digests fvm trace gives PATH among KIND (inputs, programs).
digest_of() {
	"$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); print(' '.join(sorted(set(e['digest'] for e in j[sys.argv[2]] if e['path'] == sys.argv[3]))))" "$T/trace.json" "$1" "$2"
}
for f in main.c util.c util.h Makefile; do
	same inputs "source_$f" "$P/$f"
done
same inputs system_header_stdio.h /usr/include/stdio.h
same inputs system_header_string.h /usr/include/string.h
same programs gcc "$(readlink -f "$(command -v gcc)")"
same programs cc1 "$(readlink -f "$(gcc -print-prog-name=cc1)")"
same programs as "$(readlink -f "$(command -v as)")"
same programs ld "$(readlink -f "$(command -v "$(gcc -print-prog-name=ld)")")"
got=$(jq_py "$T/trace.json" '[" ".join(e["argv"]) for e in j["programs"] if e["argv"][:1] == ["gcc"]]' 2>&1)
grep -q "gcc -O1 -I../ext -c -o main.o main.c" <<< "$got" && ok programs_carry_their_arguments ||
	not_ok programs_carry_their_arguments "$got"

# Outputs are the VM's changes during the run: the same as fvm diff's.
"$FVM" diff build --json | "$PY" -c 'import json,sys; [print(o["kind"], o["path"]) for o in map(json.loads, sys.stdin)]' | sort > "$T/diff"
jq_py "$T/trace.json" '"\n".join(o["change"] + " " + o["path"] for o in j["outputs"])' | sort > "$T/outputs"
if [ -s "$T/diff" ] && diff -u "$T/diff" "$T/outputs" > "$T/d"; then
	ok outputs_equal_fvm_diff
else
	not_ok outputs_equal_fvm_diff "$(cat "$T/d")"
fi
want=sha256:$(sha256sum "$FVM_HOME/vms/build/upper$P/prog" | cut -d' ' -f1)
got=$(jq_py "$T/trace.json" '[o["digest"] for o in j["outputs"] if o["path"].endswith("/prog")]')
[ "$got" = "['$want']" ] && ok output_digest_is_the_layer_files || not_ok output_digest_is_the_layer_files "$got" "$want"

got=$(jq_py "$T/trace.json" '[e["name"] for e in j["env"]]')
grep -q "'PATH'" <<< "$got" && ok getenv_recorded || not_ok getenv_recorded "$got"

# ---- --outside: what the build read beyond its own tree and the system's ----------------
out=$("$FVM" trace build --outside "$P" /usr /etc /proc 2>&1); rc=$?
if [ $rc = 0 ] && grep -q "$HOST/ext/extra.h" <<< "$out" && ! grep -q " $P/" <<< "$out"; then
	ok outside_finds_the_header_beyond_the_tree
else
	not_ok outside_finds_the_header_beyond_the_tree "exit $rc" "$out"
fi
out=$("$FVM" trace build --outside "$HOST" /usr /etc /proc 2>&1)
! grep -q "$HOST" <<< "$out" && ok outside_excludes_the_given_trees || not_ok outside_excludes_the_given_trees "$out"
"$FVM" trace build > "$T/text" 2>&1 && grep -q '^inputs (' "$T/text" && grep -q '^programs (' "$T/text" &&
	grep -q '^outputs (' "$T/text" && grep -q 'what this trace cannot show' "$T/text" &&
	ok trace_text_has_inputs_programs_outputs_limits || not_ok trace_text_has_inputs_programs_outputs_limits "$(head -20 "$T/text")"

# ---- provenance --------------------------------------------------------------------
"$FVM" provenance build > "$T/prov.json" 2> "$T/err"; rc=$?
validate() {
	"$PY" - "$1" "$2" << 'EOF'
import json, sys, jsonschema
doc = json.load(open(sys.argv[1]))
schema = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(doc)
EOF
}
if [ $rc != 0 ]; then
	not_ok provenance_printed "exit $rc" "$(cat "$T/err")"
else
	ok provenance_printed
	out=$(validate "$T/prov.json" "$SCHEMAS/intoto-statement-v1.schema.json" 2>&1) &&
		ok provenance_is_an_intoto_statement_v1 || not_ok provenance_is_an_intoto_statement_v1 "$out"
	out=$(validate "$T/prov.json" "$SCHEMAS/slsa-provenance-v1.schema.json" 2>&1) &&
		ok provenance_is_slsa_provenance_v1 || not_ok provenance_is_slsa_provenance_v1 "$out"
	# The schemas are not vacuous: a statement missing a subject's digest fails.
	"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); j["subject"][0].pop("digest"); json.dump(j, open(sys.argv[2], "w"))' \
		"$T/prov.json" "$T/bad.json"
	! validate "$T/bad.json" "$SCHEMAS/intoto-statement-v1.schema.json" > /dev/null 2>&1 &&
		ok schema_refuses_a_subject_without_digest || not_ok schema_refuses_a_subject_without_digest
	got=$(jq_py "$T/prov.json" '"\n".join(sorted(s["name"] + " sha256:" + s["digest"]["sha256"] for s in j["subject"]))')
	want_s=$(jq_py "$T/trace.json" '"\n".join(sorted(o["path"] + " " + o["digest"] for o in j["outputs"] if o["type"] == "file" and o["change"] != "D"))')
	[ -n "$got" ] && [ "$got" = "$want_s" ] && grep -q "$P/prog $want" <<< "$got" &&
		ok provenance_subjects_are_the_output_files || not_ok provenance_subjects_are_the_output_files "$got" "$want_s"
	main=$(sha256sum "$P/main.c" | cut -d' ' -f1)
	got=$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print([d.get("digest", {}).get("sha256") for d in j["predicate"]["buildDefinition"]["resolvedDependencies"] if d.get("name") == sys.argv[2]])' "$T/prov.json" "$P/main.c" 2>&1)
	[ "$got" = "['$main']" ] && ok provenance_dependencies_carry_digests || not_ok provenance_dependencies_carry_digests "$got"
	got=$(jq_py "$T/prov.json" 'j["predicate"]["buildDefinition"]["externalParameters"]["command"]')
	[ "$got" = "['make', '-s', '-C', 'proj']" ] && ok provenance_names_the_command || not_ok provenance_names_the_command "$got"
fi

# DSSE: signed with an fvm keygen key, verified by PyNaCl from the .pub alone.
"$FVM" keygen -o "$T/prov" --no-passphrase > /dev/null 2>&1
"$FVM" provenance build --key "$T/prov.key" > "$T/env.json" 2> "$T/err"; rc=$?
verify() {
	"$PY" - "$1" "$2" "$3" << 'EOF'
import base64, json, sys, nacl.signing, nacl.exceptions
env = json.load(open(sys.argv[1]))
pub = base64.b64decode(open(sys.argv[2]).read().splitlines()[1])
assert pub[:2] == b"Ed" and len(pub) == 42, "not a minisign public key"
key = nacl.signing.VerifyKey(pub[10:])
payload = base64.b64decode(env["payload"])
if sys.argv[3] == "tamper":
    payload = payload.replace(b"make", b"mAke", 1)
ptype = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
assert env["payloadType"] == "application/vnd.in-toto+json"
assert len(env["signatures"]) == 1
key.verify(pae, base64.b64decode(env["signatures"][0]["sig"]))
assert json.loads(payload)["_type"] == "https://in-toto.io/Statement/v1"
print("verified")
EOF
}
if [ $rc = 0 ] && out=$(verify "$T/env.json" "$T/prov.pub" good 2>&1) && [ "$out" = verified ]; then
	ok dsse_envelope_verifies_with_pynacl
else
	not_ok dsse_envelope_verifies_with_pynacl "exit $rc" "$(cat "$T/err")" "${out:-}"
fi
! verify "$T/env.json" "$T/prov.pub" tamper > /dev/null 2>&1 && ok dsse_tampered_payload_fails ||
	not_ok dsse_tampered_payload_fails
got=$("$PY" -c 'import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))["payload"]).decode() == open(sys.argv[2]).read().rstrip("\n"))' "$T/env.json" "$T/prov.json" 2>&1)
[ "$got" = True ] && ok dsse_payload_is_the_statement || not_ok dsse_payload_is_the_statement "$got"

# ---- runs: --run N, an untraced run in between ------------------------------------------
run -n build -- true
run --trace -n build -- cat proj/util.h > /dev/null
got1=$("$FVM" trace build --run 1 --json 2>&1 | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["run"], j["command"][0])' 2>&1)
gotl=$("$FVM" trace build --json 2>&1 | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["run"], j["command"][0])' 2>&1)
out=$("$FVM" trace build --run 2 2>&1); rc=$?
[ "$got1" = "1 make" ] && [ "$gotl" = "3 cat" ] && [ $rc = 1 ] && grep -q "was not traced" <<< "$out" &&
	ok run_numbers_follow_fvm_stats || not_ok run_numbers_follow_fvm_stats "$got1" "$gotl" "exit $rc: $out"
"$FVM" trace build --run 9 > /dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok unknown_run_refused || not_ok unknown_run_refused "exit $rc"

# ---- a static program: its opens are the supervisor's finding ---------------------------
if [ -x /usr/bin/busybox ] && file -L /usr/bin/busybox 2>/dev/null | grep -q 'statically linked'; then
	run --trace -n static -- /usr/bin/busybox cat proj/util.c > /dev/null 2>&1
	got=$("$FVM" trace static --json | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print([i["source"] + " " + i["digest"] for i in j["inputs"] if i["path"] == sys.argv[1]])' "$P/util.c" 2>&1)
	want=$(sha256sum "$P/util.c" | cut -d' ' -f1)
	[ "$got" = "['supervisor sha256:$want']" ] && ok static_program_read_seen_by_supervisor ||
		not_ok static_program_read_seen_by_supervisor "$got"
else
	skip static_program_read_seen_by_supervisor "no static busybox"
fi

# ---- network -----------------------------------------------------------------------
run --trace -n net -- "$PY" -c '
import socket
s = socket.socket()
try: s.connect(("127.0.0.1", 9))
except OSError: pass' > /dev/null 2>&1
got=$("$FVM" trace net --json | "$PY" -c 'import json,sys; print([n["what"] for n in json.load(sys.stdin)["net"]])' 2>&1)
grep -q "connect inet 127.0.0.1:9" <<< "$got" && ok connect_recorded || not_ok connect_recorded "$got"
host_unchanged > "$T/d" && ok host_unchanged_after_runs || not_ok host_unchanged_after_runs "$(cat "$T/d")"

# ---- attacks: the trace is the supervisor's -----------------------------------------------
hist=$FVM_HOME/ctl/build/history
tr=$(ls "$hist"/*.trace | head -1)
sum=$(sha256sum "$tr" | cut -d' ' -f1)
attack='
	echo forged > "$1/0000000000000001-0000000001.trace" && echo wrote-trace
	for f in "$1"/*.trace; do [ -f "$f" ] && echo "output A file sha256:00 /etc/passwd" >> "$f" && echo appended; done
	ls "$1" > /dev/null 2>&1 && echo listed
	cat "$1"/*.trace > /dev/null 2>&1 && echo read
	exit 0'
# Natively, by the VM's owner, the attack succeeds: the fence is what stops it.
cp -a "$hist" "$T/hist-copy"
out=$(sh -c "$attack" sh "$T/hist-copy" 2>&1)
grep -q wrote-trace <<< "$out" && grep -q appended <<< "$out" && ok attack_on_trace_works_natively ||
	not_ok attack_on_trace_works_natively "$out"
out=$(run --trace -n build -- sh -c "$attack" sh "$hist" 2>&1)
if ! grep -q "wrote-trace\|appended" <<< "$out" && [ ! -e "$hist/0000000000000001-0000000001.trace" ] &&
	[ "$(sha256sum "$tr" | cut -d' ' -f1)" = "$sum" ]; then
	ok vm_process_cannot_write_a_trace
else
	not_ok vm_process_cannot_write_a_trace "$out"
fi
grep -q "listed\|read" <<< "$out" && not_ok vm_process_cannot_read_the_traces "$out" || ok vm_process_cannot_read_the_traces
if [ -x "$STATIC" ]; then
	out=$(run -n build -- sh -c "'$STATIC' create '$hist/0000000000000002-0000000001.trace'; '$STATIC' write '$tr'; exit 0" 2>&1)
	[ ! -e "$hist/0000000000000002-0000000001.trace" ] && ! grep -q ": ok" <<< "$out" &&
		[ "$(sha256sum "$tr" | cut -d' ' -f1)" = "$sum" ] && ok static_program_cannot_write_a_trace ||
		not_ok static_program_cannot_write_a_trace "$out"
else
	skip static_program_cannot_write_a_trace "no $STATIC (make check builds it)"
fi

# A forged batch: records in libfvm's format, sent as libfvm sends them (connect(2) by a
# raw call, as libfvm's own, then send(2) with no address), then with another pid in
# SCM_CREDENTIALS, then by sendmsg(2), which the AF_UNIX guard relays under unix = vm
# (--net none): relayed, the kernel would name the supervisor as the sender.
cat > "$T/forge.py" << 'EOF'
import ctypes, os, socket, struct, sys
path = os.environ["FVM_TRACE"]
def rec(kind, strs, where=b"h", dev=1, ino=2, size=3):
    body = b"".join(s.encode() + b"\0" for s in strs)
    n = 48 + len(body)
    n += (-n) % 8
    hdr = struct.pack("<HBBIQQqqq", n, ord(kind), where[0], len(strs), dev, ino, size, 0, 0)
    return (hdr + body).ljust(n, b"\0")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
addr = struct.pack("H", socket.AF_UNIX) + path.encode() + b"\0"
libc = ctypes.CDLL("libc.so.6", use_errno=True)  # libc's own syscall(), not libfvm's
if libc.syscall(42, s.fileno(), addr, len(addr)) != 0:  # connect(2), as libfvm makes it
    print("connect-failed", ctypes.get_errno())
    sys.exit(1)
print("pid", os.getpid())
s.send(rec("R", ["/etc/forged-input-" + sys.argv[1], ""]) + rec("X", ["/usr/bin/forged", "forged", "forged"]) +
       rec("W", ["/etc/forged-output"]))
try:
    creds = struct.pack("iII", 1, os.getuid(), os.getgid())
    s.sendmsg([rec("R", ["/etc/forged-as-pid-1", ""])], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])
    print("forged-pid-sent")
except OSError as e:
    print("forged-pid-refused", e.errno)
try:
    s.sendmsg([rec("R", ["/etc/forged-relayed", ""])])
    print("sendmsg-sent")
except OSError as e:
    print("sendmsg-refused", e.errno)
EOF
for net in all none; do
	vm=forge-$net
	out=$(run --trace -n $vm --net $net -- "$PY" "$T/forge.py" $net 2>&1)
	fpid=$(sed -n 's/^pid //p' <<< "$out")
	"$FVM" trace $vm --json > "$T/forge.json" 2>&1
	got=$(jq_py "$T/forge.json" '[(i["source"], i["pid"], i["digest"]) for i in j["inputs"] if i["path"] == "/etc/forged-input-'$net'"]' 2>&1)
	[ -n "$fpid" ] && [ "$got" = "[('libfvm', $fpid, 'changed-during-run')]" ] &&
		ok "forged_record_kept_as_the_senders_word (net $net)" ||
		not_ok "forged_record_kept_as_the_senders_word (net $net)" "$out" "$got"
	got=$(jq_py "$T/forge.json" '[i["pid"] for i in j["inputs"] if i["path"] == "/etc/forged-as-pid-1"]' 2>&1)
	grep -q forged-pid-refused <<< "$out" && [ "$got" = "[]" ] && ok "forged_pid_refused (net $net)" ||
		not_ok "forged_pid_refused (net $net)" "$out" "$got"
	got=$(jq_py "$T/forge.json" '[i["pid"] for i in j["inputs"] if i["path"] == "/etc/forged-relayed"]' 2>&1)
	if [ $net = none ]; then
		# relayed by the supervisor: refused (EACCES), never kept under its pid
		grep -q "sendmsg-refused 13" <<< "$out" && [ "$got" = "[]" ] && ok relayed_datagram_refused ||
			not_ok relayed_datagram_refused "$out" "$got"
	else
		# sent by the kernel for the caller: its own pid
		[ "$got" = "[$fpid]" ] && ok direct_sendmsg_kept_under_its_senders_pid ||
			not_ok direct_sendmsg_kept_under_its_senders_pid "$out" "$got"
	fi
	got=$(jq_py "$T/forge.json" '[o["path"] for o in j["outputs"]]' 2>&1)
	[ "$got" = "[]" ] && ok "forged_write_adds_no_output (net $net)" || not_ok "forged_write_adds_no_output (net $net)" "$got"
done
# libfvm's own records reach the supervisor under the AF_UNIX guard too.
run --trace -n guarded --net none -- cat proj/util.h > /dev/null 2>&1
got=$("$FVM" trace guarded --json | "$PY" -c 'import json,sys; print([i["path"] for i in json.load(sys.stdin)["inputs"]])' 2>&1)
grep -q "$P/util.h" <<< "$got" && ok traced_under_net_none || not_ok traced_under_net_none "$got"
host_unchanged > "$T/d" && ok host_unchanged_after_attacks || not_ok host_unchanged_after_attacks "$(cat "$T/d")"

done_testing
