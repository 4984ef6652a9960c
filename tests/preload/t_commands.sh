#!/usr/bin/env bash
# Real commands give the same output and the same resulting tree natively and inside
# a VM, and the host tree is unchanged by the VM run (vm_check). (git's index caches
# inode numbers and ctimes, which differ between any two runs: the git check ends by
# rewriting it from HEAD, without them.)
. "$(dirname "$0")/../lib/harness.sh"
PY=/usr/bin/python3

mkdir -p "$HOST/src/lib/deep" "$HOST/docs" "$HOST/repo"
for i in 1 2 3; do echo "line $i" > "$HOST/src/f$i.txt"; done
echo 'int x;' > "$HOST/src/lib/a.c"
echo deep > "$HOST/src/lib/deep/d"
printf 'alpha\nbeta\ngamma\n' > "$HOST/docs/words"
ln -s ../docs/words "$HOST/src/wordlink"
chmod 750 "$HOST/src/lib"
touch -d '2020-02-02 02:02:02' "$HOST/src/f1.txt"
(cd "$T" && mkdir arch && echo new > arch/added && echo changed > arch/f2.txt &&
	tar -cf "$T/over.tar" -C arch .)
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e
export GIT_AUTHOR_DATE='2021-01-01T00:00:00Z' GIT_COMMITTER_DATE='2021-01-01T00:00:00Z'
export GIT_CONFIG_NOSYSTEM=1 HOME=$T/home
mkdir -p "$HOME"
git -C "$HOST/repo" init -q -b main && echo one > "$HOST/repo/a" &&
	git -C "$HOST/repo" add a && git -C "$HOST/repo" commit -qm first

LS='ls -laR --time-style=+%Y'
vm_check cp_a_tree 'cp -a src copy; '"$LS"' copy | grep -v "^total"; cat copy/wordlink'
vm_check mv_files_and_dirs 'mv src/f1.txt docs/; mv src/lib docs/lib2; find docs src | sort; cat docs/lib2/deep/d'
vm_check rm_rf_then_ls 'rm -rf src; ls; ls src 2>&1 | sed "s/.*: //"'
vm_check sed_i_on_host_files 'sed -i "s/line/LINE/" src/*.txt; cat src/*.txt'
vm_check find_with_tests 'touch src/new; find . -newer src/f1.txt -type f | sort; find . -name "*.c" -o -type l | sort'
vm_check du_a 'mkdir -p src/more; echo x > src/more/y; du -a --apparent-size -b src | sort -k2'
vm_check ls_laR 'echo z > src/z; rm src/f2.txt; '"$LS"' src | grep -v "^total"'
vm_check tar_x_over_existing_tree 'tar -xf '"$T"'/over.tar -C src; cat src/added src/f2.txt; ls src'
vm_check ln_s_then_follow 'ln -s lib/deep src/dl; cat src/dl/d; ln -sf ../docs/words src/w2; cat src/w2'
vm_check mkdir_p 'mkdir -p src/lib/deep/x/y/z a/b/c; find src/lib a | sort'
vm_check touch_d 'touch -d "2001-09-09 01:46:40" src/f2.txt; touch newfile; stat -c "%n %Y" src/f2.txt; test newfile -nt src/f2.txt && echo newer'
vm_check chmod_R 'chmod -R go-rwx src; stat -c "%n %a" src/* src/lib/* | sort'
vm_check git_in_host_repo 'cd repo; echo two > b; git add b; git commit -qm second; git log --format="%H %s"; git status --short; git fsck --no-progress 2>&1 | head -3; git read-tree HEAD'
vm_check python_walk_pathlib_tempfile_rmtree "$PY -c '
import os, pathlib, shutil, tempfile
for root, dirs, files in sorted(os.walk(\"src\")):
    print(root, sorted(dirs), sorted(files))
p = pathlib.Path(\"docs\")
(p / \"made.txt\").write_text(\"hi\")
print(sorted(str(x) for x in p.glob(\"*\")))
d = tempfile.mkdtemp(dir=\"docs\")
with tempfile.NamedTemporaryFile(dir=d, delete=False) as f:
    f.write(b\"t\")
print(len(os.listdir(d)))
shutil.rmtree(\"src\")
print(os.path.exists(\"src\"))
shutil.rmtree(d)
print(sorted(os.listdir(\"docs\")))
'"

done_testing
