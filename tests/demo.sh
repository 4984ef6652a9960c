#!/usr/bin/env bash
# demo.sh — `make demo`: fvm's main job in one minute, on an embedded scratch tree.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/fvm-demo.XXXXXX")
trap 'rm -rf "$D"' EXIT
export FVM_HOME=$D/store
mkdir -p "$D/project/src"
printf 'name = demo\nversion = 1\n' > "$D/project/config.ini"
printf 'int main(void) { return 0; }\n' > "$D/project/src/main.c"
printf 'scratch\n' > "$D/project/notes.txt"
cd "$D/project"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A scratch project on the host"
find . -type f | sort | xargs head
say "Inside VM 'demo': edit config.ini, create build/out.txt, delete notes.txt"
set -x
"$TOP/fvm-exec/fvm-exec" -n demo -- sh -c 'sed -i "s/version = 1/version = 2/" config.ini; mkdir build; echo built > build/out.txt; rm notes.txt'
set +x
say "The VM's view"
"$TOP/fvm-exec/fvm-exec" -n demo -- sh -c 'find . -type f | sort | xargs head'
say "The host's view: unchanged"
find . -type f | sort | xargs head
say "fvm diff demo: what the VM changed"
"$TOP/fvm-exec/fvm" diff demo "$D/project"
