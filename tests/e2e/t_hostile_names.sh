#!/usr/bin/env bash
# What the tools print about a hostile VM is safe to read (issue 13, "the screen"): a VM
# names files with newlines, ESC sequences, carriage returns, C1 and bidi controls and
# bytes that are not UTF-8, to forge an "M /home/x/.bashrc" line or erase the real one
# from the terminal. fvm diff (plain, --stat, -p), fvm-exec --review and fvm info must
# print one line per change and no raw control byte, names quoted as fvm(1) QUOTING
# says (goldens: tests/e2e/golden/*-quoted); --json stays exact: every path decodes,
# with Python's surrogateescape, to the bytes of the name. Runs as root and as a user.
. "$(dirname "$0")/../lib/harness.sh"
GOLDEN=$(cd "$(dirname "$0")" && pwd)/golden

norm() { sed -e "s|$HOST|HOST|g"; }
golden() { # NAME FILE < OUTPUT
	norm > "$T/got"
	[ "${FVM_GOLDEN_UPDATE:-0}" = 1 ] && cp "$T/got" "$GOLDEN/$2"
	if diff -u "$GOLDEN/$2" "$T/got" > "$T/d"; then ok "$1"; else not_ok "$1" "$(cat -A "$T/d")"; fi
}
# safe_text NAME [tab] < OUTPUT: every line strict UTF-8, with no C0 control (TAB only
# with "tab"), no DEL, no C1 control, no bidi override or line/paragraph separator.
safe_text() {
	python3 -c '
import sys
tab = len(sys.argv) > 1
bad = [c for c in range(0x20) if not (tab and c == 9)] + list(range(0x7f, 0xa0)) + \
      [0x200e, 0x200f, 0x2028, 0x2029] + list(range(0x202a, 0x202f)) + list(range(0x2066, 0x206a))
for n, raw in enumerate(sys.stdin.buffer.read().split(b"\n"), 1):
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.exit("line %d: not UTF-8: %r" % (n, raw))
    for ch in line:
        if ord(ch) in bad:
            sys.exit("line %d: raw U+%04X: %r" % (n, ord(ch), raw))
' "${@:2}" > "$T/why" 2>&1 && ok "$1" || not_ok "$1" "$(cat "$T/why")"
}
lines_are() { # NAME WANT GOT
	[ "$2" = "$3" ] && ok "$1" || not_ok "$1" "want $2 lines, got $3"
}

echo rc > "$HOST/.bashrc"
snapshot_host
# The forged line needs "/" in it, so it is a chain of directories; the eraser sorts
# after .bashrc and would wipe its line: CR, cursor up, clear line.
(cd "$HOST" && "$FVM_EXEC" -n h -- sh -c '
	echo evil >> .bashrc
	forged=$(printf "n\nM /home/x")
	mkdir -p "$forged" && echo x > "$forged/.bashrc"
	echo hide > "$(printf "z\r\033[1A\033[2K")"
	touch "$(printf "bad\377name")" "$(printf "c1\302\233x")" "$(printf "bidi\342\200\256txt")" \
		"$(printf "tab\there")" "quote\"back\\slash" "$(printf "plain \303\274")" \
		"$(printf "del\177x")" "$(printf "ls\342\200\250x")"
	printf "one\n\033[2K\033[1Aforged\r\n\302\233x\n" > content')
host_unchanged > "$T/why" && ok hostile_names_leave_host_unchanged || not_ok hostile_names_leave_host_unchanged "$(cat "$T/why")"

# One JSON line per change: the count every other format must match.
"$FVM" diff h --json > "$T/json"
n=$(wc -l < "$T/json")
[ "$(grep -cF "\"$HOST/" "$T/json")" = 15 ] && ok json_has_one_line_per_change ||
	not_ok json_has_one_line_per_change "$(cat "$T/json")"

"$FVM" diff h > "$T/plain"
lines_are diff_has_one_line_per_change "$n" "$(wc -l < "$T/plain")"
safe_text diff_prints_no_raw_control < "$T/plain"
golden diff_quotes_hostile_names diff-quoted < <(grep -aF "$HOST" "$T/plain")
grep -aq '^M /home/x' "$T/plain" && not_ok diff_forged_line_absent "$(cat -A "$T/plain")" || ok diff_forged_line_absent

"$FVM" diff h --stat > "$T/stat"
lines_are diff_stat_has_one_line_per_change "$((n + 1))" "$(wc -l < "$T/stat")"
safe_text diff_stat_prints_no_raw_control tab < "$T/stat"

"$FVM" diff h -p > "$T/patch"
safe_text diff_patch_prints_no_raw_control tab < "$T/patch"
grep -a '^[AMD]!\? ' "$T/patch" > "$T/patch-heads"
lines_are diff_patch_has_one_head_per_change "$n" "$(wc -l < "$T/patch-heads")"
golden diff_patch_quotes_labels_and_content diff-patch-quoted < <("$FVM" diff h -p "$HOST/content" "$HOST/$(printf 'z\r\033[1A\033[2K')")

# Without a terminal, --review prints its summary only.
(cd "$HOST" && setsid -w "$FVM_EXEC" --review -n h -- true < /dev/null > /dev/null 2> "$T/review")
# Its lines: "VM h changed:", one per change, the counts.
lines_are review_has_one_line_per_change "$((n + 2))" "$(wc -l < "$T/review")"
safe_text review_prints_no_raw_control < "$T/review"

# --json is exact: each path is the name's bytes (surrogateescape for the non-UTF-8 ones).
python3 - "$T/json" "$FVM_HOME/vms/h/upper$HOST" "$HOST" > "$T/why" 2>&1 <<'EOF'
import json, os, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")  # the JSON text itself is UTF-8
got = set()
for line in raw.split(b"\n"):
    if line:
        got.add(os.fsencode(json.loads(line)["path"]))
want = set()
host = os.fsencode(sys.argv[3])
for d, dirs, files in os.walk(os.fsencode(sys.argv[2])):
    for name in dirs + files:
        want.add(host + os.path.join(d, name)[len(os.fsencode(sys.argv[2])):])
if got != want:
    sys.exit("json %r\nupper %r" % (sorted(got - want), sorted(want - got)))
EOF
[ $? = 0 ] && ok json_paths_are_exact_bytes || not_ok json_paths_are_exact_bytes "$(cat "$T/why")"
safe_text json_prints_no_raw_control < "$T/json"
# A valid UTF-8 name and the one byte that is its code point never look the same.
grep -aF 'bad' "$T/json" | grep -q '"[^"]*bad\\udcffname"' && ok json_invalid_byte_is_surrogate_escape ||
	not_ok json_invalid_byte_is_surrogate_escape "$(grep -aF bad "$T/json")"

# fvm commit names what it skips and plans in the same quoting.
"$FVM" commit h --dry-run > "$T/dry" 2>&1
safe_text commit_dry_run_prints_no_raw_control < "$T/dry"
lines_are commit_dry_run_has_one_line_per_change "$n" "$(grep -ac '^[AMD]' "$T/dry")"

# fvm info: a hidden path with an ESC in the policy and vm.conf, a process of the VM that
# renamed itself with control characters.
evil=$HOST/$(printf 'hid\033[2K\rden')
(cd "$HOST" && "$FVM_EXEC" -n i --hide "$evil" -- python3 -c '
import ctypes, time
ctypes.CDLL(None).prctl(15, b"\x1b[2K\rzz\n\x9bq", 0, 0, 0)
time.sleep(4)') &
bg=$!
for _ in $(seq 40); do "$FVM" info i 2> /dev/null | grep -aq 'processes: .*zz' && break; sleep 0.1; done
"$FVM" info i > "$T/info" 2>&1
wait $bg
grep -aq 'processes: .*zz' "$T/info" && ok info_lists_the_renamed_process || not_ok info_lists_the_renamed_process "$(cat -A "$T/info")"
safe_text info_prints_no_raw_control < "$T/info"
grep -aqF "\"$HOST/hid\\033[2K\\rden\"" "$T/info" && ok info_quotes_policy_path || not_ok info_quotes_policy_path "$(cat -A "$T/info")"
"$FVM" list > "$T/list" 2>&1
safe_text list_prints_no_raw_control < "$T/list"
done_testing
