#!/usr/bin/env bash
# Compatibility: git in a repository that already exists on the host (every object and
# ref write is a copy-up or a new file in the VM), and git clone of a local repository.
# Dates and identities are fixed so that commit ids are the same natively and in a VM.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
command -v git >/dev/null || { skip git_scenario "git is not installed (make deps)"; done_testing; exit; }

GITENV='export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=fvm \
GIT_AUTHOR_EMAIL=fvm@example.org GIT_COMMITTER_NAME=fvm GIT_COMMITTER_EMAIL=fvm@example.org \
GIT_AUTHOR_DATE="2020-01-01T00:00:00Z" GIT_COMMITTER_DATE="2020-01-01T00:00:00Z"'
eval "$GITENV"
VOLATILE='/\.git/index$'
mkdir -p "$HOST/repo/src"
(cd "$HOST/repo" && git init -q -b main && echo one > src/a.txt && echo readme > README &&
	git add . && git commit -qm first && echo two >> src/a.txt && git commit -qam second)

vm_check_ok git_commit_branch_checkout_merge_in_host_repo "$GITENV"'
set -e; cd repo
echo three >> src/a.txt; echo new > src/b.txt; git add -A; git commit -qm third
git branch topic; git checkout -q topic; echo topic > topic.txt; git add topic.txt
git commit -qm topic; git checkout -q main; echo main >> README; git commit -qam main-side
git merge -q --no-edit topic; git log --format="%H %s" | cat; git status --short; ls
git branch | cat; git fsck --no-progress 2>&1 | grep -v "^dangling" || true'

vm_check_ok git_gc_aggressive_repacks_host_objects "$GITENV"'
set -e; cd repo
for i in 1 2 3; do echo $i >> README; git commit -qam "c$i"; done
git gc -q --aggressive --prune=now; git count-objects -v | grep -E "^(count|in-pack|packs)"
git log --oneline | wc -l; git status --short; git fsck --no-progress; echo fsck-ok'

vm_check_ok git_status_sees_vm_edits_and_deletes "$GITENV"'
set -e; cd repo
rm README; echo x >> src/a.txt; mkdir -p newdir; echo n > newdir/f
git status --short; git diff --stat | cat; git stash -q; git status --short; git stash pop -q
git status --short'

vm_check_ok git_clone_no_local_of_host_repo "$GITENV"'
set -e; git clone -q --no-local repo clone2
cd clone2; git log --format="%H %s" | cat; ls -A; git rev-parse HEAD; git remote -v | cat'

vm_check_ok git_init_fresh_repo_in_vm "$GITENV"'
set -e; mkdir fresh; cd fresh; git init -q -b main; echo f > f; git add f; git commit -qm init
git log --format="%H" | cat; git cat-file -p HEAD^{tree}'

# A local clone hard-links the objects and then checks that each link has the inode it
# lstat'ed before (git's CVE-2022-39253 check). In a VM the link copies the host object
# up first: the copy must keep the host object's identity, for both names.
vm_check_ok git_clone_local_hardlinks "$GITENV"'
set -e; git clone -q repo clone1
cd clone1; git log --format="%H %s" | cat; ls -A; git fsck --no-progress; echo fsck-ok
o=$(cd .git/objects && find . -type f -path "./??/*" | sort | head -1)
[ "$(stat -c "%d %i %h" "../repo/.git/objects/$o")" = "$(stat -c "%d %i %h" ".git/objects/$o")" ] &&
	echo object-hardlinked'

done_testing
