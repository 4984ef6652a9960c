#!/usr/bin/env bash
# The lookup cache of one process never hides a change another process of the same
# VM made: copy-ups, whiteouts and opaque directories bump the VM-wide generation,
# and a lookup cached at an older generation is walked again. Calls that go straight
# to the kernel (a read in a directory the VM never changed) and the memos of
# directory fds and of the cwd are held to the same rule.
. "$(dirname "$0")/../lib/harness.sh"

PROBE=$TOP/build/tests/helpers/lookup-probe
mkdir -p "$HOST/a" "$HOST/b" "$HOST/c/sub" "$HOST/d/x/y"
echo host-a > "$HOST/a/f"
echo host-b > "$HOST/b/f"
echo host-c > "$HOST/c/sub/f"
echo host-d > "$HOST/d/x/y/f"
mkdir -p "$HOST/e" "$HOST/g" "$HOST/p/sub" "$HOST/n"
echo n1 > "$HOST/n/one"
echo n2 > "$HOST/n/two"
ln -s ../a/f "$HOST/e/link"
echo gg > "$HOST/g/f"
echo parent > "$HOST/p/marker"
echo child > "$HOST/p/sub/marker"
printf '#!/bin/sh\ncat marker\n' > "$HOST/p/sub/prog"
chmod +x "$HOST/p/sub/prog"
snapshot_host

# probe_session NAME EXPECTED STEPS...: one probe process stays up in VM "cache" while
# the steps run: "> CMD" is a command for the probe (its answer is collected),
# "! SCRIPT" runs SCRIPT in another process of the same VM and waits for it, "$ ARGS"
# runs the static helper static-fsop with ARGS there (the supervisor makes its change).
probe_session() {
	local name=$1 expected=$2 step got="" answer
	shift 2
	rm -rf "$FVM_HOME/vms/cache"
	coproc PROBE_P { "$FVM_EXEC" -n cache -- "$PROBE" 2>&1; }
	for step in "$@"; do
		case $step in
		"> "*)
			echo "${step#> }" >&"${PROBE_P[1]}"
			if IFS= read -r -t 10 answer <&"${PROBE_P[0]}"; then
				got+="$answer;"
			else
				got+="(no answer);"
			fi
			;;
		"! "*) (cd "$HOST" && "$FVM_EXEC" -n cache -- sh -c "${step#! }") >/dev/null 2>&1 ;;
		"$ "*)
			# shellcheck disable=SC2086 # the step's words are the static helper's arguments
			(cd "$HOST" && "$FVM_EXEC" -n cache -- "$STATIC_FSOP" ${step#\$ }) >/dev/null 2>&1 ;;
		esac
	done
	exec {PROBE_P[1]}>&-
	wait "$PROBE_P_PID" 2>/dev/null
	if [ "$got" != "$expected" ]; then
		not_ok "$name" "expected: $expected" "got:      $got"
	elif ! host_unchanged > /dev/null; then
		not_ok "$name" "the host tree changed"
		restore_host
	else
		ok "$name"
	fi
}

[ -x "$PROBE" ] || { skip all "no $PROBE (make tests-bin)"; done_testing; exit; }

probe_session new_file_made_by_another_process_is_seen_after_a_cached_miss \
	"ok 7;ENOENT;ok 4;" \
	"> stat $HOST/a/f" "> stat $HOST/a/new" "! echo new > a/new" "> stat $HOST/a/new"
probe_session file_removed_by_another_process_is_gone_for_a_cached_lookup \
	"ok 7;ENOENT;" \
	"> stat $HOST/b/f" "! rm b/f" "> stat $HOST/b/f"
probe_session copy_up_by_another_process_is_read_back \
	"ok host-b;ok changed;" \
	"> read $HOST/b/f" "! echo changed > b/f" "> read $HOST/b/f"
probe_session directory_replaced_by_another_process_hides_the_host_one \
	"ok 7;ENOENT;ok 4;" \
	"> stat $HOST/c/sub/f" "! rm -rf c/sub && mkdir c/sub && echo new > c/sub/g" \
	"> stat $HOST/c/sub/f" "> stat $HOST/c/sub/g"
probe_session directory_renamed_by_another_process_moves_for_a_cached_lookup \
	"ok 7;ENOENT;ok 7;" \
	"> stat $HOST/d/x/y/f" "! mv d/x d/z" "> stat $HOST/d/x/y/f" "> stat $HOST/d/z/y/f"
probe_session open_of_a_file_another_process_copied_up_reads_the_copy \
	"ok host-a;ok host-a;ok changed;" \
	"> open $HOST/a/f" "> open $HOST/a/f" "! echo changed > a/f" "> open $HOST/a/f"
probe_session host_link_is_followed_in_the_vm_after_its_target_changed \
	"ok host-a;ok changed;ok 0;" \
	"> open $HOST/e/link" "! echo changed > a/f" "> open $HOST/e/link" "> access $HOST/e/link"
probe_session host_link_removed_by_another_process_is_gone \
	"ok 7;ENOENT;ENOENT;" \
	"> stat $HOST/e/link" "! rm e/link" "> stat $HOST/e/link" "> open $HOST/e/link"
probe_session host_link_replaced_by_another_process_leads_to_the_new_target \
	"ok host-a;ok host-b;" \
	"> open $HOST/e/link" "! rm e/link && ln -s ../b/f e/link" "> open $HOST/e/link"
probe_session file_known_to_be_the_hosts_is_gone_after_another_process_removes_it \
	"ok 0;ok 0;ENOENT;ENOENT;" \
	"> access $HOST/g/f" "> access $HOST/g/f" "! rm g/f" "> access $HOST/g/f" "> open $HOST/g/f"
# stat and lstat of a host name in an unchanged directory go straight to the kernel
# (issue 15); a change by another process of the VM is still seen at once.
probe_session lstat_straight_to_the_kernel_sees_another_process_copy_up \
	"ok 3;ok 3;ok 8;" \
	"> lstat $HOST/g/f" "> lstat $HOST/g/f" "! echo changed > g/f" "> lstat $HOST/g/f"
probe_session lstat_of_a_directory_then_a_name_another_process_creates_in_it \
	"ok 3;ENOENT;ok 4;ok 4;" \
	"> lstat $HOST/g/f" "> lstat $HOST/g/late" "! echo new > g/late" "> lstat $HOST/g/late" \
	"> statat $HOST/g late"
probe_session lstat_of_a_host_link_is_the_link_and_stat_follows_it_in_the_vm \
	"ok 6;ok 7;ok 6;ok 8;" \
	"> lstat $HOST/e/link" "> stat $HOST/e/link" "! echo changed > a/f" "> lstat $HOST/e/link" \
	"> stat $HOST/e/link"
probe_session stat_of_a_subdirectory_then_a_file_removed_inside_it \
	"ok dir;ok 7;ENOENT;ENOENT;" \
	"> lstat $HOST/c/sub" "> statat $HOST/c/sub f" "! rm c/sub/f" "> statat $HOST/c/sub f" \
	"> stat $HOST/c/sub/f"
probe_session name_joined_to_a_directory_opened_by_a_roundabout_path \
	"ok 7;ok 7;ENOENT;" \
	"> statat $HOST/./c//sub/../sub f" "> statat $HOST/c/sub/. f" "> statat $HOST/c/sub ../f"
probe_session directory_fd_number_reused_names_the_new_directory \
	"ok 7;ok 3;" \
	"> reuse $HOST/g $HOST/a f" "> reuse $HOST/a $HOST/g f"
probe_session directory_fd_replaced_by_dup2_names_the_new_directory \
	"ok 3;ok 7;" \
	"> dup2 $HOST/a $HOST/g f" "> dup2 $HOST/g $HOST/a f"
probe_session directory_fd_duplicated_by_fcntl_names_the_same_directory \
	"ok 3;ok 7;" \
	"> dupfd $HOST/a $HOST/g f" "> dupfd $HOST/g $HOST/a f"

# A name asked again is answered from the process's direct memo (vpath.c) while the
# generation stands: every change another process of the VM makes is still seen, for
# each call that goes straight to the kernel, however the name was reached.
probe_session open_asked_again_then_removed_by_another_process_is_gone \
	"ok gg;ok gg;ok gg;ENOENT;ENOENT;ENOENT;" \
	"> open $HOST/g/f" "> open $HOST/g/f" "> open $HOST/g/f" "! rm g/f" "> open $HOST/g/f" \
	"> access $HOST/g/f" "> stat $HOST/g/f"
probe_session access_asked_again_then_replaced_by_a_directory_is_the_directory \
	"ok 0;ok 0;ok 3;ok dir;ok 2;" \
	"> access $HOST/g/f" "> access $HOST/g/f" "> stat $HOST/g/f" "! rm g/f && mkdir g/f" \
	"> lstat $HOST/g/f" "> list $HOST/g/f"
probe_session name_joined_to_a_directory_fd_asked_again_then_removed_is_gone \
	"ok 3;ok 3;ENOENT;ENOENT;" \
	"> statat $HOST/g f" "> statat $HOST/g f" "! rm g/f" "> statat $HOST/g f" "> stat $HOST/g/f"
probe_session link_opened_again_then_its_target_removed_is_dangling_for_every_call \
	"ok host-a;ok host-a;ok 0;ENOENT;ENOENT;ENOENT;" \
	"> open $HOST/e/link" "> open $HOST/e/link" "> access $HOST/e/link" "! rm a/f" \
	"> access $HOST/e/link" "> open $HOST/e/link" "> stat $HOST/e/link"
probe_session names_asked_in_turn_keep_their_own_answers_after_a_copy_up \
	"ok n1;ok n2;ok n1;ok n2;ok changed;ok n2;ok 0;" \
	"> open $HOST/n/one" "> open $HOST/n/two" "> open $HOST/n/one" "> open $HOST/n/two" \
	"! echo changed > n/one" "> open $HOST/n/one" "> open $HOST/n/two" "> access $HOST/n/two"
# readlink of a host link in an unchanged directory, and fstatat and readlinkat of one
# name below a directory fd on such a directory, go straight to the kernel (the latter
# given the fd and the name, issue 15); a change by another process of the VM, dynamic
# or static, is still seen at once.
probe_session readlink_straight_to_the_kernel_sees_another_process_replace_the_link \
	"ok ../a/f;ok ../a/f;ok ../b/f;" \
	"> readlink $HOST/e/link" "> readlink $HOST/e/link" "! rm e/link && ln -s ../b/f e/link" \
	"> readlink $HOST/e/link"
probe_session stat_below_a_held_directory_fd_sees_another_process_copy_up \
	"ok;ok 3;ok 3;ok 8;" \
	"> hold $HOST/g" "> heldat f" "> heldat f" "! echo changed > g/f" "> heldat f"
probe_session stat_below_a_held_directory_fd_sees_the_directory_replaced \
	"ok;ok 3;ok 3;ENOENT;" \
	"> hold $HOST/g" "> heldat f" "> heldat f" "! rm -rf g && mkdir g" "> heldat f"
probe_session fstat_of_a_directory_fd_on_a_changed_directory_counts_its_upper_entries \
	"ok;ok 4;" \
	"! mkdir p/other" "> hold $HOST/p" "> heldself"
# ".." takes the state of the directory it climbs to from the cache (fts climbs so):
# a name another process, dynamic or static, then makes there is found.
probe_session dotdot_climbs_to_a_directory_another_process_changed \
	"ENOENT;ENOENT;ok 4;" \
	"> statat $HOST/d/x ../g" "> statat $HOST/d/x ../g" "! echo new > d/g" "> statat $HOST/d/x ../g"
STATIC_FSOP=$T/static-fsop
if cc -static -O2 -o "$STATIC_FSOP" "$TOP/tests/helpers/static-fsop.c" 2> "$T/cc.err"; then
	chmod 755 "$T" "$STATIC_FSOP"
	probe_session stat_below_a_held_directory_fd_sees_a_static_program_create_the_name \
		"ok;ENOENT;ENOENT;ok 7;ok 7;" \
		"> hold $HOST/n" "> heldat late" "> heldat late" "\$ create n/late" "> heldat late" \
		"> stat $HOST/n/late"
	probe_session dotdot_climbs_to_a_directory_a_static_program_changed \
		"ENOENT;ENOENT;ok 7;" \
		"> statat $HOST/d/x ../late" "> statat $HOST/d/x ../late" "\$ create d/late" \
		"> statat $HOST/d/x ../late"
	probe_session readlink_below_a_held_directory_fd_sees_a_static_program_replace_the_link \
		"ok;ok ../a/f;ok ../a/f;ok ../g/f;ok ../g/f;" \
		"> hold $HOST/e" "> heldlink link" "> heldlink link" "\$ symlink ../g/f e/link" \
		"> heldlink link" "> readlink $HOST/e/link"
else
	skip stat_below_a_held_directory_fd_sees_a_static_program_create_the_name \
		"cannot build a static helper: $(head -1 "$T/cc.err")"
	skip dotdot_climbs_to_a_directory_a_static_program_changed "cannot build a static helper"
	skip readlink_below_a_held_directory_fd_sees_a_static_program_replace_the_link \
		"cannot build a static helper"
fi

# After a listing of a directory with an upper part, lookups skip upper/ for the names
# it did not hold; a name another process adds, copies up or removes is still seen.
probe_session name_created_after_a_listing_is_found \
	"ok 5;ok 3;ENOENT;ok 6;ok new;" \
	"! echo x > n/seed" "> list $HOST/n" "> stat $HOST/n/one" "> stat $HOST/n/three" \
	"! echo new > n/three" "> list $HOST/n" "> read $HOST/n/three"
probe_session file_copied_up_after_a_listing_is_read_from_the_copy \
	"ok 5;ok n1;ok changed;" \
	"! echo x > n/seed" "> list $HOST/n" "> open $HOST/n/one" "! echo changed > n/one" \
	"> open $HOST/n/one"
probe_session file_removed_after_a_listing_is_gone \
	"ok 5;ok 3;ENOENT;" \
	"! echo x > n/seed" "> list $HOST/n" "> stat $HOST/n/two" "! rm n/two" "> stat $HOST/n/two"
probe_session name_created_after_a_listing_without_a_new_listing_is_found \
	"ok 5;ENOENT;ok 4;" \
	"! echo x > n/seed" "> list $HOST/n" "> stat $HOST/n/late" "! echo new > n/late" \
	"> stat $HOST/n/late"

# A vfork child (python's subprocess) that changes directory and runs a program by a
# relative name shares the parent's memory: the parent's cwd must stay its own.
vm_check vfork_child_chdir_leaves_the_parents_cwd_alone "cd p && /usr/bin/python3 -c '
import subprocess
print(open(\"marker\").read().strip())
print(subprocess.run([\"./prog\"], cwd=\"sub\", capture_output=True, text=True).stdout.strip())
print(open(\"marker\").read().strip())
print(subprocess.run([\"sh\", \"-c\", \"cat marker\"], capture_output=True, text=True).stdout.strip())
'"
# The cwd memo stays valid across chdir (git chdirs to the top of its worktree first):
# each relative name after a chdir, an fchdir, a fork child's chdir and a thread's
# chdir is looked up from the cwd the kernel has, as natively.
vm_check cwd_memo_follows_every_change_of_directory "cd p && /usr/bin/python3 -c '
import os, threading
def show(tag):
    print(tag, os.path.exists(\"marker\"), os.path.exists(\"prog\"), os.getcwd().rsplit(\"/\", 1)[-1])
show(\"start\")
os.chdir(\"sub\"); show(\"chdir sub\")
os.chdir(\"..\"); show(\"chdir ..\")
fd = os.open(\"sub\", os.O_RDONLY); os.fchdir(fd); show(\"fchdir sub\")
pid = os.fork()
if pid == 0:
    os.chdir(\"..\"); show(\"child chdir ..\"); os._exit(0)
os.waitpid(pid, 0); show(\"parent after the child\")
t = threading.Thread(target=os.chdir, args=(\"..\",)); t.start(); t.join(); show(\"thread chdir ..\")
'"
done_testing
