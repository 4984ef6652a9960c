#!/usr/bin/env bash
# bench/export.sh — fvm export and fvm import of a VM of 10,000 files / 500 MiB against
# tar -c / tar -x of the same tree (issue 17: target >= 0.8x tar's throughput).
# Each round times both, in alternating order, in CPU seconds; prints per-round figures
# and the medians of the throughput ratios (tar's time / fvm's: > 1 is fvm faster).
# ROUNDS (default 5). Export to a file and to a pipe; import from the file. Wall times
# go to ${TMPDIR:-/tmp}/fvm-bench-export.log.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
FVM=$TOP/fvm-exec/fvm FVM_EXEC=$TOP/fvm-exec/fvm-exec
ROUNDS=${ROUNDS:-5}
B=$(mktemp -d "${TMPDIR:-/tmp}/fvm-bench-export.XXXXXX")
trap 'chmod -R u+rwx "$B" 2>/dev/null; rm -rf "$B"' EXIT
export FVM_HOME=$B/store
mkdir -p "$B/host" && (cd "$B/host" && "$FVM_EXEC" -n b -- true)
U=$FVM_HOME/vms/b/upper
mkdir -p "$U$B/host/data"
python3 - "$U$B/host/data" <<'PY'
import os, sys
root, blob = sys.argv[1], os.urandom(1 << 20)
for d in range(100):
    os.mkdir(f"{root}/d{d:03}")
    for f in range(100):
        off = ((d * 100 + f) * 7919) % ((1 << 20) - 52429)
        with open(f"{root}/d{d:03}/f{f:03}", "wb") as fh:
            fh.write(blob[off:off + 52428])
PY
# CPU seconds (user + system, children included) of one run: the machine is shared, and
# wall time mostly measures the other jobs' load; the wall time goes to the log.
secs() {
	local f=$B/time.$$
	/usr/bin/time -f '%e %U %S' -o "$f" bash -c "$(declare -f "$1"); B=$B U=$U FVM=$FVM FVM_HOME=$FVM_HOME $1" > /dev/null 2>&1
	read -r wall u s < "$f"
	echo "$1 wall $wall" >> "$B/../fvm-bench-export.log"
	echo "$u + $s" | bc
}
exp_fvm_file() { rm -f "$B/f.tar"; "$FVM" export b -o "$B/f.tar"; sync -f "$B/f.tar"; }
exp_tar_file() { rm -f "$B/t.tar"; tar -C "$U" -cf "$B/t.tar" .; sync -f "$B/t.tar"; }
exp_fvm_pipe() { "$FVM" export b -o - | cat > /dev/null; }
exp_tar_pipe() { tar -C "$U" -cf - . | cat > /dev/null; }
imp_fvm() { "$FVM" import i "$B/f.tar"; }
imp_tar() { mkdir "$B/x"; tar -C "$B/x" -xf "$B/t.tar"; }
# Before each timed run, not timed: the previous import's tree goes.
clean_imports() { "$FVM" rm i > /dev/null 2>&1; rm -rf "$B/x"; sync; }
ratios=()
for r in $(seq "$ROUNDS"); do
	line="round $r:"
	for pair in "exp_fvm_file exp_tar_file export-file" "exp_fvm_pipe exp_tar_pipe export-pipe" "imp_fvm imp_tar import"; do
		set -- $pair
		clean_imports
		if [ $((r % 2)) = 0 ]; then t2=$(secs $2); clean_imports; t1=$(secs $1)
		else t1=$(secs $1); clean_imports; t2=$(secs $2); fi
		line="$line $3 fvm ${t1}s tar ${t2}s ratio $(echo "scale=2; $t2 / $t1" | bc);"
		ratios+=("$3 $(echo "scale=3; $t2 / $t1" | bc)")
	done
	echo "$line"
done
size=$(stat -c %s "$B/f.tar")
echo "archive: $size bytes (fvm), $(stat -c %s "$B/t.tar") bytes (tar); files: $(find "$U" | wc -l)"
for k in export-file export-pipe import; do
	printf '%s\n' "${ratios[@]}" | awk -v k=$k '$1 == k { print $2 }' | sort -n |
		awk -v k=$k '{ v[NR] = $1 } END { printf "median throughput ratio fvm/tar, %s: %.2f (min %.2f, max %.2f)\n", k, v[int((NR + 1) / 2)], v[1], v[NR] }'
done
