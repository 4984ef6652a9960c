#!/usr/bin/env bash
# Compatibility: editors that rewrite host files in place (sed -i, perl -pi, vim -es,
# patch -p1) give the same files in a VM as natively, and the host keeps its originals.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash

mkdir -p "$HOST/proj/lib" "$HOST/proj/doc"
printf 'alpha\nbeta\ngamma\n' > "$HOST/proj/lib/words.txt"
printf '#include <stdio.h>\nint main(void) { puts("old"); return 0; }\n' > "$HOST/proj/main.c"
printf 'Title\n=====\ntext\n' > "$HOST/proj/doc/README"
chmod 600 "$HOST/proj/doc/README"
cp -a "$HOST/proj" "$T/new"
printf 'alpha\nBETA\ngamma\ndelta\n' > "$T/new/lib/words.txt"
sed -i 's/old/new/' "$T/new/main.c"
echo added > "$T/new/doc/NEW"
(cd "$T" && cp -a "$HOST/proj" orig && diff -ruN orig new > "$T/change.diff"; rm -rf orig new)
cp "$T/change.diff" "$HOST/change.diff"

vm_check_ok sed_i_rewrites_host_file_keeping_mode 'set -e
sed -i -e "s/beta/BETA/" -e "\$a omega" proj/lib/words.txt proj/doc/README
cat proj/lib/words.txt proj/doc/README; stat -c "%a %n" proj/doc/README
sed -i.orig "1d" proj/main.c; ls proj; cat proj/main.c.orig'

vm_check_ok perl_pi_with_backup 'set -e
perl -pi -e "s/a/A/g" proj/lib/words.txt
perl -pi.bak -e "\$_ = uc" proj/doc/README
cat proj/lib/words.txt proj/doc/README proj/doc/README.bak; stat -c "%a %n" proj/doc/README'

VIM_EDIT='vim -u NONE -i NONE -N -es -c "%s/gamma/GAMMA/" -c "2d" -c "wq" proj/lib/words.txt
cat proj/lib/words.txt
vim -u NONE -i NONE -N -es -c "normal Goappended" -c "x" proj/doc/README
cat proj/doc/README; stat -c "%a" proj/doc/README; ls -A proj/doc'
# vim writes a file in place only if fstat of the fd it opened for writing shows the
# inode it stat'ed before (E949 "File changed while writing" otherwise): the copy-up
# that the write open makes must keep the host file's identity.
vm_check_ok vim_es_edits_host_file "set -e; $VIM_EDIT"
vm_check_ok patch_p1_applies_diff_to_host_tree 'set -e
cd proj && patch -p1 --no-backup-if-mismatch < ../change.diff
cat lib/words.txt main.c doc/NEW; ls -R
patch -p1 -R --dry-run < ../change.diff > /dev/null && echo reversible'

done_testing
