#!/usr/bin/env bash
# Compatibility: tar, gzip, xz, cpio, zip and unzip over host trees in a VM give the
# same archives' listings and the same extracted trees as natively (owners, modes, hard
# links and symlinks kept); the host tree is unchanged after each VM run.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash

mkdir -p "$HOST/proj/src/deep" "$HOST/proj/bin" "$HOST/out"
printf 'int main(void) { return 0; }\n' > "$HOST/proj/src/main.c"
seq 1 3000 > "$HOST/proj/src/deep/numbers"
printf '#!/bin/sh\necho tool\n' > "$HOST/proj/bin/tool"
chmod 750 "$HOST/proj/bin/tool"
chmod 700 "$HOST/proj/src/deep"
touch -d '2015-05-05 05:05' "$HOST/proj/src/main.c"
ln "$HOST/proj/src/deep/numbers" "$HOST/proj/src/numbers.hard"
ln -s ../src/main.c "$HOST/proj/bin/main.link"
(cd "$HOST" && tar -cf host.tar proj && gzip -k host.tar && xz -k host.tar)

# Listings without dates: mtimes of copied-up directories are the VM's own.
LIST='tar -tvf "$a" | awk "{print \$1, \$2, \$3, \$6, \$7, \$8}"'
vm_check_ok tar_c_of_host_tree_with_links 'set -e
tar -cf out/a.tar proj; a=out/a.tar; '"$LIST"'
tar -czf out/a.tgz -C proj src; tar -tzf out/a.tgz | sort'

vm_check_ok tar_x_same_owner_p_keeps_links_and_modes 'set -e
mkdir x; tar -xpf host.tar --same-owner -C x
find x -printf "%p %y %m %U %n %l\n" | sort; stat -c "%y" x/proj/src/main.c
cmp x/proj/src/numbers.hard proj/src/deep/numbers && echo same'

	vm_check_ok tar_x_over_existing_host_tree 'set -e
echo changed > proj/src/main.c; rm proj/bin/tool
tar -xpf host.tar; cat proj/src/main.c; ls -l proj/bin | cut -c1-10'
vm_check_ok tar_x_over_existing_host_files_without_links 'set -e
echo changed > proj/src/main.c; rm proj/bin/tool
tar -xpf host.tar --exclude=proj/bin/main.link --exclude=proj/src/deep/numbers
cat proj/src/main.c; ls -l proj/bin | cut -c1-10; stat -c "%a %y" proj/bin/tool proj/src/main.c'

vm_check_ok gzip_and_xz_in_place 'set -e
gzip proj/src/main.c; ls proj/src; gunzip -t proj/src/main.c.gz; gunzip proj/src/main.c.gz; stat -c %y proj/src/main.c
xz -d -k host.tar.xz -c | cmp - host.tar && echo xz-same
rm host.tar.xz; xz -9 out/../host.tar; ls; xz -l host.tar.xz | tail -1 | awk "{print \$NF}"
gzip -d host.tar.gz -f; ls'

if command -v cpio >/dev/null; then
	vm_check_ok cpio_out_and_in 'set -e
find proj | sort | cpio -o -H newc --quiet > out/a.cpio
mkdir y; cd y; cpio -idm --quiet < ../out/a.cpio; find . -printf "%p %y %m %l\n" | sort
cpio -t --quiet < ../out/a.cpio | wc -l'
else
	skip cpio_out_and_in "cpio is not installed (make deps installs it)"
fi

if command -v zip >/dev/null && command -v unzip >/dev/null; then
	vm_check_ok zip_and_unzip 'set -e
zip -qr -X out/a.zip proj; unzip -Z1 out/a.zip | sort
mkdir z; unzip -q out/a.zip -d z; find z -printf "%p %y %s\n" | sort
zip -q -d out/a.zip proj/src/main.c; unzip -Z1 out/a.zip | grep -c main.c || true'
else
	skip zip_and_unzip "zip/unzip are not installed (make deps installs them)"
fi

done_testing
