#!/usr/bin/env bash
# Issue 14: the supervisor's walks (virtguard.c) use the core's lookup cache, validated
# by the VM's generation counters in ROOT/state, a file every process of the VM maps
# writable. A hostile VM forges them (tests/helpers/genforge.c): it lets the supervisor
# cache a directory of its layer, swaps that directory for a link to the VM's store
# and to a host directory, and puts the counters back to the value the entry was made
# at, so that the supervisor's cached fact ("an upper directory") is stale. A static
# program then stats, reads, writes and creates beneath the swapped name. The answers
# may be stale (the VM only misleads itself), but nothing of the store may be shown or
# read, nothing outside upper/ written (docs/DESIGN.md "What is cached": the
# supervisor's cache grants nothing). Then, the counters left alone, the same static
# program sees the VM's changes (the cache is invalidated by them). Run as root and as
# the test user.
. "$(dirname "$0")/lib.sh"
sec_require
GF=$TOP/build/tests/helpers/genforge
BB=$(command -v busybox || true)
if [ ! -x "$GF" ] || [ -z "$BB" ] || ! file -L "$BB" 2>/dev/null | grep -q 'statically linked'; then
	skip cache_forge "genforge or busybox-static missing (make tests-bin, make deps)"
	done_testing
	exit
fi

mkdir -p "$HOST/victimdir"
echo 'keep me' > "$HOST/victimdir/a"
sec_snapshot
D=$(vmdir f1)
# bb: busybox without fvm's once-per-exec warning
BB_FN='bb() { busybox "$@" 2>&1 | grep -v "is statically linked"; }'
out=$(cd "$HOST" && vm f1 -- bash -c "$BB_FN"'
set -u
mkdir -p "$1/e" "$1/f" && echo vm > "$1/e/x" && echo vm > "$1/f/x"
bb cat "$1/e/x" "$1/f/x" >/dev/null              # the supervisor caches e and f: upper directories
read -r g n < <("$2" get)
rm -rf "$1/e" "$1/f" && ln -s "$3" "$1/e" && ln -s "$4" "$1/f"
"$2" set "$g" "$n"                                # forged: the stale entries are valid again
echo "stat-store: $(bb stat -c %F "$1/e/upper")"
busybox cat "$1/e/state" > /dev/null 2>&1 && echo "read-store: read"
echo "ls-store: $(bb ls "$1/e/" | tr "\n" " ")"
bb sh -c "echo WRITTEN >> \"$1/f/a\"; echo WRITTEN > \"$1/f/made\"; echo WRITTEN > \"$1/e/made\"; mkdir \"$1/e/dmade\"; ln -s / \"$1/e/lmade\"" 2>&1 | sed "s/^/write: /"
' sh "$HOST" "$GF" "$D" "$HOST/victimdir" 2>&1)
# The store's own names must never be shown: "directory" for upper/, the state file's
# bytes, a listing naming upper, state, work or policy.
verdict forged_counter_shows_nothing_of_the_store "" \
	"$(grep -E '^stat-store: .*directory|^read-store: read|^ls-store: .*(upper|state|work)' <<< "$out")"
verdict forged_counter_writes_nothing_outside_the_layer "" \
	"$(find "$D" "$(ctldir f1)" -name made -o -name dmade -o -name lmade | grep -v "^$D/upper/")" \
	"$(grep -l WRITTEN "$HOST/victimdir/a")" "$(sec_changes)"
# The counters left alone: a change of the VM's (a directory swapped for another) is
# seen by the next static call, however recently the supervisor cached the directory.
out=$(cd "$HOST" && vm f2 -- bash -c "$BB_FN"'
mkdir -p "$1/g" && echo one > "$1/g/x" && bb cat "$1/g/x"
rm -rf "$1/g" && mkdir "$1/g" && echo two > "$1/g/x" && bb cat "$1/g/x"
rm -rf "$1/g" && ln -s "$2" "$1/g" && bb cat "$1/g/a"
rm "$1/g" && bb cat "$1/g/x"' sh "$HOST" "$HOST/victimdir" 2>&1)
verdict unforged_counter_sees_every_change "" \
	"$(diff <(printf 'one\ntwo\nkeep me\ncat: can'"'"'t open '"'"'%s/g/x'"'"': No such file or directory\n' "$HOST") <(echo "$out"))" \
	"$(sec_changes)"
done_testing
