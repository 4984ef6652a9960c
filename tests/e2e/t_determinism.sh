#!/usr/bin/env bash
# Deterministic runs (fvm-exec --deterministic and its parts), fvm compare and
# fvm-exec --repro (issue 19): a real build that embeds __DATE__/__TIME__ and a tar czf
# of files the run made differ between two plain runs and are byte-identical between
# two --deterministic runs; --repro names "time"; the seeded /dev/urandom; readdir
# order; uname, hostname, CPU count, umask, TZ, locale, the clock and clamped file
# times, ASLR; fvm compare's lines and exit statuses. The host is unchanged after
# every VM run.
. "$(dirname "$0")/../lib/harness.sh"

check() { [ "$2" = "$3" ] && ok "$1" || not_ok "$1" "want: $2" "got: $3"; }
unchanged() { host_unchanged > "$T/why" 2>&1 && ok "$1_host_unchanged" || not_ok "$1_host_unchanged" "$(cat "$T/why")"; }
run() { (cd "$HOST" && "$FVM_EXEC" "$@" 2>"$T/err"); }
upper() { echo "$FVM_HOME/vms/$1/upper$HOST/$2"; }

cat > "$HOST/when.c" <<'EOF'
#include <stdio.h>
int main(void) { printf("built %s %s\n", __DATE__, __TIME__); return 0; }
EOF
mkdir -p "$HOST/list"
for f in delta alpha echo charlie bravo; do : > "$HOST/list/$f"; done
snapshot_host

# ---- a real build: plain runs differ, deterministic runs are identical ----
BUILD='cc -o when when.c && ./when > out.txt && mkdir -p out && cp when out.txt out/ &&
	head -c 16 /dev/urandom > out/key && tar czf out.tgz out'
if ! command -v cc > /dev/null; then
	skip build_differs_plain_and_matches_deterministic "no C compiler"
else
	run -n plain1 -- sh -c "$BUILD"; sleep 1.1
	run -n plain2 -- sh -c "$BUILD"
	unchanged plain_build
	run -n det1 --deterministic -- sh -c "$BUILD"; sleep 1.1
	run -n det2 --deterministic -- sh -c "$BUILD"
	unchanged deterministic_build
	for f in when out.txt out.tgz; do
		a=$(sha256sum < "$(upper plain1 "$f")") b=$(sha256sum < "$(upper plain2 "$f")")
		[ "$a" != "$b" ] && ok "plain_runs_differ_in_$f" || not_ok "plain_runs_differ_in_$f" "both $a"
		a=$(sha256sum < "$(upper det1 "$f")") b=$(sha256sum < "$(upper det2 "$f")")
		[ -s "$(upper det1 "$f")" ] && [ "$a" = "$b" ] && ok "deterministic_runs_identical_in_$f" ||
			not_ok "deterministic_runs_identical_in_$f" "$a" "$b"
	done
	check deterministic_build_says_2000 "built Jan  1 2000 00:00:00" "$(cat "$(upper det1 out.txt)")"

	# fvm compare on the two pairs.
	"$FVM" compare det1 det2 > "$T/cmp" 2>&1; rc=$?
	check compare_identical_vms_exits_0 0 "$rc"
	grep -q "^= $HOST/out.tgz\$" "$T/cmp" && ok compare_lists_identical_files || not_ok compare_lists_identical_files "$(cat "$T/cmp")"
	tail -n1 "$T/cmp" | grep -q '^det1 det2: 0 only in det1, 0 only in det2, 0 differ, [0-9]* identical$' &&
		ok compare_counts_identical || not_ok compare_counts_identical "$(tail -n1 "$T/cmp")"
	"$FVM" compare plain1 plain2 > "$T/cmp" 2>&1; rc=$?
	check compare_differing_vms_exits_1 1 "$rc"
	grep -q "^M $HOST/out.txt	content\$" "$T/cmp" && ok compare_names_differing_content ||
		not_ok compare_names_differing_content "$(cat "$T/cmp")"
	"$FVM" compare -p plain1 plain2 "$HOST/out.txt" > "$T/cmp" 2>&1
	grep -q "^-built " "$T/cmp" && grep -q "^+built " "$T/cmp" && grep -q "^--- a$HOST/out.txt" "$T/cmp" &&
		ok compare_p_shows_unified_diff || not_ok compare_p_shows_unified_diff "$(cat "$T/cmp")"

	# --repro: the build's outputs differ by time.
	before=$("$FVM" list 2>/dev/null | grep -c repro-)
	run --repro 2 -- sh -c "$BUILD" > "$T/repro"; rc=$?
	check repro_of_unreproducible_build_exits_1 1 "$rc"
	grep -q "^M $HOST/out.txt	content.*	by: \(.*, \)\?time\(,.*\)\?\$" "$T/repro" && ok repro_names_time_as_the_cause ||
		not_ok repro_names_time_as_the_cause "$(cat "$T/repro" "$T/err")"
	grep -q "^M $HOST/out/key	content.*	by: \(.*, \)\?random\(,.*\)\?\$" "$T/repro" &&
		! grep -q "^M $HOST/out/key.*time" "$T/repro" && ok repro_names_random_for_urandom ||
		not_ok repro_names_random_for_urandom "$(cat "$T/repro")"
	after=$("$FVM" list 2>/dev/null | grep -c repro-)
	check repro_removes_its_vms "$before" "$after"
	unchanged repro
	run --repro 3 -- sh -c 'echo same > fixed.txt && chmod 644 fixed.txt' > "$T/repro"; rc=$?
	check repro_of_reproducible_command_exits_0 0 "$rc"
	grep -q "reproducible: 1 paths identical in 3 runs" "$T/repro" && ok repro_says_reproducible ||
		not_ok repro_says_reproducible "$(cat "$T/repro" "$T/err")"
	unchanged repro_reproducible
fi

# ---- randomness ----
rand() { run --ephemeral "$@" -- sh -c 'head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"'; }
a=$(rand --random-seed 7) b=$(rand --random-seed 7) c=$(rand --random-seed 8) n1=$(rand) n2=$(rand)
[ ${#a} = 64 ] && [ "$a" = "$b" ] && ok same_seed_same_urandom_bytes || not_ok same_seed_same_urandom_bytes "$a" "$b"
[ "$a" != "$c" ] && ok other_seed_other_urandom_bytes || not_ok other_seed_other_urandom_bytes "$a"
[ "$n1" != "$n2" ] && ok unseeded_urandom_is_random || not_ok unseeded_urandom_is_random "$n1"
if command -v python3 > /dev/null; then
	g() { run --ephemeral "$@" -- python3 -c 'import os; print(os.getrandom(16).hex(), os.urandom(16).hex())'; }
	a=$(g --random-seed 7) b=$(g --random-seed 7) c=$(g --random-seed 9)
	[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ] && ok getrandom_follows_the_seed ||
		not_ok getrandom_follows_the_seed "$a" "$b" "$c"
fi
unchanged random

# ---- directory order ----
native=$(cd "$HOST/list" && ls -f | tr '\n' ' ')
sorted=$(cd "$HOST/list" && ls -f | LC_ALL=C sort | tr '\n' ' ')
reversed=$(cd "$HOST/list" && ls -f | LC_ALL=C sort -r | tr '\n' ' ')
check dir_order_sorted "$sorted" "$(run --ephemeral --dir-order sorted -- sh -c 'cd list && ls -f' | tr '\n' ' ')"
check dir_order_reversed "$reversed" "$(run --ephemeral --dir-order reversed -- sh -c 'cd list && ls -f' | tr '\n' ' ')"
check deterministic_lists_sorted "$sorted" "$(run --ephemeral --deterministic -- sh -c 'cd list && ls -f' | tr '\n' ' ')"
check dir_order_default_is_native "$native" "$(run --ephemeral -- sh -c 'cd list && ls -f' | tr '\n' ' ')"
check dir_order_with_vm_entries "$(printf '%s ' . .. alpha bravo charlie delta echo foxtrot)" \
	"$(run --ephemeral --dir-order sorted -- sh -c 'cd list && : > foxtrot && rm -f x && ls -f' | tr '\n' ' ')"
unchanged dir_order

# ---- names, CPUs, umask, TZ, locale, ASLR ----
check hostname_option "build-1 build-1" "$(run --ephemeral --hostname build-1 -- sh -c 'echo $(uname -n) $(hostname)')"
check deterministic_uname "fvm 6.1.0" "$(run --ephemeral --deterministic -- uname -nr)"
check uname_native_without_options "$(uname -nr)" "$(run --ephemeral -- uname -nr)"
# The run's own user and group named as --names says (default build): id, whoami, ls -l,
# tar's uname and gname, getent by the name, USER and LOGNAME; other ids keep theirs.
check deterministic_names "build build build build build build/build build:$(id -u) root" \
	"$(run --ephemeral --deterministic -- sh -c 'touch f; tar cf t.tar f; echo $(id -un) $(id -gn) $(whoami) $USER $LOGNAME \
		$(tar tvf t.tar | cut -d" " -f2) $(getent passwd build | cut -d: -f1,3) $(getent passwd 0 | cut -d: -f1 | sed "s/^build$/root/")')"
check names_option "ci ci" "$(run --ephemeral --names ci -- sh -c 'echo $(id -un) $(ls -l /proc/self/stat | cut -d" " -f3)')"
out=$("$FVM_EXEC" --ephemeral --names Bad -- true 2>&1); rc=$?
check names_refused_when_bad "125 --names Bad: not a user name" "$rc $(sed -n 1p <<< "$out" | sed 's/^fvm-exec: //; s/: use .*//')"
check ncpus_option "3 3" "$(run --ephemeral --ncpus 3 -- sh -c 'echo $(nproc) $(getconf _NPROCESSORS_ONLN)')"
check deterministic_ncpus "1" "$(run --ephemeral --deterministic -- nproc)"
check umask_option "0027" "$(run --ephemeral --umask 027 -- sh -c umask)"
check tz_and_locale "Asia/Tokyo C.UTF-8 C.UTF-8" "$(run --ephemeral --tz Asia/Tokyo --locale C.UTF-8 -- sh -c 'echo $TZ $LANG $LC_ALL')"
check deterministic_env "UTC C.UTF-8 946684800 0022" \
	"$(run --ephemeral --deterministic -- sh -c 'echo $TZ $LC_ALL $SOURCE_DATE_EPOCH $(umask)')"
pers=$(run --ephemeral --deterministic -- cat /proc/self/personality)
[ $((0x$pers & 0x40000)) != 0 ] && ok deterministic_turns_aslr_off || not_ok deterministic_turns_aslr_off "$pers"
unchanged names

# ---- the clock and file times ----
check time_option "2001-02-03 04:05 981173106" \
	"$(run --ephemeral --time 2001-02-03T04:05:06Z -- sh -c 'echo $(date -u "+%F %H:%M") $SOURCE_DATE_EPOCH')"
t=$(run --ephemeral --time @1000000000 --time-frozen -- sh -c 'date +%s.%N; sleep 1.2; date +%s.%N' | tr '\n' ' ')
check time_frozen "1000000000.000000000 1000000000.000000000 " "$t"
t=$(run --ephemeral --time @1000000000 -- sh -c 'sleep 1.2; date +%s')
[ "$t" -ge 1000000001 ] && [ "$t" -le 1000000030 ] && ok time_advances_from_start || not_ok time_advances_from_start "$t"
hostm=$(stat -c %Y "$HOST/when.c")
t=$(run --ephemeral --time @1000000000 --clamp-mtime -- sh -c 'echo x > new; stat -c %Y new when.c' | tr '\n' ' ')
check clamp_mtime_new_file_and_host_file "1000000000 $hostm " "$t"
unchanged clock

# ---- fvm compare: content, mode, link target, only in one ----
mk() { run -n "$1" -- sh -c "$2"; }
mk ca 'echo one > same; echo a > content; echo m > mode; chmod 644 mode; ln -s t1 link; echo x > onlya; rm list/alpha'
mk cb 'echo one > same; echo b > content; echo m > mode; chmod 755 mode; ln -s t2 link; echo y > onlyb'
unchanged compare_vms
"$FVM" compare ca cb > "$T/cmp" 2>&1; rc=$?
check compare_exit_1_when_differing 1 "$rc"
cat > "$T/want" <<EOF
M $HOST/content	content
M $HOST/link	target
> $HOST/list/alpha
M $HOST/mode	mode 0644->0755
< $HOST/onlya
> $HOST/onlyb
= $HOST/same
ca cb: 1 only in ca, 2 only in cb, 3 differ, 1 identical
EOF
diff -u "$T/want" "$T/cmp" > "$T/d" && ok compare_lines_content_mode_target_only_in_one || not_ok compare_lines_content_mode_target_only_in_one "$(cat "$T/d")"
"$FVM" compare ca cb "$HOST/same" > /dev/null 2>&1; rc=$?
check compare_path_restricted_identical_exits_0 0 "$rc"
"$FVM" compare -p ca cb "$HOST/link" > "$T/cmp" 2>&1
grep -q '^-> t1$' "$T/cmp" && grep -q '^+> t2$' "$T/cmp" && ok compare_p_shows_link_targets || not_ok compare_p_shows_link_targets "$(cat "$T/cmp")"
"$FVM" compare ca > /dev/null 2>&1; rc=$?
check compare_usage_exits_2 2 "$rc"
"$FVM" compare ca nosuchvm > /dev/null 2>&1; rc=$?
check compare_no_such_vm_exits_1 1 "$rc"
if command -v diffoscope > /dev/null; then
	"$FVM" compare --diffoscope ca cb "$HOST/content" > "$T/cmp" 2>&1; rc=$?
	check compare_diffoscope_exits_1 1 "$rc"
	grep -q '^-a$' "$T/cmp" && grep -q '^+b$' "$T/cmp" && ok compare_diffoscope_shows_the_difference ||
		not_ok compare_diffoscope_shows_the_difference "$(cat "$T/cmp")"
else
	skip compare_diffoscope "diffoscope is not installed (make deps installs diffoscope-minimal)"
fi
unchanged compare

done_testing
