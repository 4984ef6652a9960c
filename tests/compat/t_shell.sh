#!/usr/bin/env bash
# Compatibility: bash and coreutils over a host tree behave in a VM as natively.
# Scripts run under bash with set -e, over a tree that mixes host and VM entries; every
# check compares output, exit status and the resulting tree with a native run, and the
# host tree is unchanged after each VM run.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash

mkdir -p "$HOST/src/sub" "$HOST/data" "$HOST/old"
for f in a b c; do echo "file $f" > "$HOST/src/$f.c"; done
echo header > "$HOST/src/sub/h.h"
seq 1 200 | sort -R --random-source=/dev/zero > "$HOST/data/numbers"
echo old > "$HOST/old/stale"
touch -d '2001-01-01' "$HOST/old/stale"
echo conf > "$HOST/conf"
chmod 640 "$HOST/conf"

vm_check_ok redirections_heredocs_and_set_e_trap 'set -e
trap "echo trap-exit \$?" EXIT
exec 3> log
echo to-fd-3 >&3
cat <<EOF > here
sum $((2 + 3)) in $(basename "$PWD")
EOF
cat here >> conf
cat conf log
(set -e; false; echo not-reached) || echo subshell-failed
exec 3>&-
wc -l < conf 2>/dev/null'

vm_check_ok globbing_mixes_host_and_vm_entries 'set -e
echo new > src/d.c; rm src/b.c; mkdir src/sub2; touch src/sub2/x.c
echo src/*.c; echo src/*/; echo src/*/*
for f in src/*.c; do printf "%s:%s\n" "$f" "$(cat "$f")"; done
shopt -s globstar; echo src/**'

vm_check_ok cp_a_mv_rm_rf_of_host_trees 'set -e
cp -a src copy; mv data moved; rm -rf old
ls -R copy moved; stat -c "%n %a %s" copy/a.c conf
cp -a conf conf.bak; mv conf.bak conf2; ls'

vm_check_ok install_D_chmod_chown_R_and_touch 'set -e
install -D -m 755 conf deep/new/dir/tool
chmod -R go-rwx src; chown -R "$(id -u):$(id -g)" src
touch -d "2020-02-02 02:02" src/a.c; touch newfile
stat -c "%n %a" deep/new/dir/tool; stat -c "%n %a %y" src/a.c src/sub | sed "s/\.0* / /"
find src deep -printf "%p %m\n" | sort'

vm_check_ok mktemp_d_split_sort_o_tee_dd 'set -e
d=$(mktemp -d "$PWD/tmp.XXXXXX"); [ -d "$d" ] && echo tmpdir-made; rmdir "$d"
split -l 50 data/numbers data/part.; ls data
sort -n -o data/numbers data/numbers; head -3 data/numbers
echo teed | tee -a conf out >/dev/null; cat conf out
dd if=data/numbers of=data/dd.out bs=100 count=3 status=none; wc -c data/dd.out
dd if=/dev/zero of=conf bs=1 count=4 seek=2 conv=notrunc status=none; od -c conf'

vm_check_ok stat_find_newer_delete_du 'set -e
touch -d "2010-01-01" ref
echo fresh > src/fresh.c
find . -newer ref -name "*.c" | sort
find . -type f -name "*.c" -newer ref -delete
find . | sort
stat -c "%n %F %s %a %h" conf src src/sub/h.h
du -ab src old | sort -k2 | grep -v "[0-9]	\(src\|old\)\$"
du --inodes -s src'

vm_check_ok df_runs_on_host_dirs 'set -e
df . > /dev/null && echo df-host-ok; df -P src | tail -1 | wc -w'

vm_check_ok realpath_and_readlink_f 'set -e
mkdir -p made/deeper; cd made/deeper
realpath . ../.. ../../src/a.c; readlink -f ../../conf; realpath -m ../nothing/x
cd ../..; realpath --relative-to=src made/deeper'

	vm_check_ok ln_hard_and_symbolic 'set -e
ln conf hard; ln -s conf soft; ln -sf src/a.c soft2; ls -l soft soft2 | cut -d" " -f9-
stat -c "%h" conf hard; echo x >> hard; cat conf; readlink -f soft2'
	vm_check_ok cp_a_keeps_symlinks 'set -e
ln -s ../conf src/link; cp -a src copy; readlink copy/link'
	vm_check_ok df_runs_on_a_dir_the_vm_made 'mkdir vmdir; df vmdir >/dev/null && echo df-vm-ok'

done_testing
