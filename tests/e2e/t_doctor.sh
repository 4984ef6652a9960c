#!/usr/bin/env bash
# fvm doctor (issue 20): every check on its own line and in --json, each with a status
# of ok, note, degraded or fail and a fix when not ok; status 0 exactly when none is
# degraded or failed; the store (not made yet, group-writable, format 1), the
# configuration files (a trailing comment, a system file others may write), a missing
# fvm-exec or libfvm, each reported as a failure naming the file and the fix. Runs no VM.
. "$(dirname "$0")/../lib/harness.sh"

export FVM_SYSTEM_CONFIG=$T/system.conf XDG_CONFIG_HOME=$T/xdg
mkdir -p "$XDG_CONFIG_HOME/fvm"
CHECKS="kernel landlock seccomp syscall-dispatch cgroup user-namespaces store store-space store-xattrs libfvm libfvm-audit fvm-exec config-system config-user /dev/shm /tmp"

# field JSON-FILE CHECK KEY: that check's KEY ("" when absent)
field() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(next((c[sys.argv[3]] for c in d["checks"] if c["check"] == sys.argv[2]), ""))' "$@"
}

"$FVM" doctor > "$T/text"; rc_text=$?
"$FVM" doctor --json > "$T/json"; rc_json=$?
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d["ok"], bool) and d["checks"]' "$T/json" 2> "$T/why"; then
	ok doctor_json_parses
else
	not_ok doctor_json_parses "$(cat "$T/why" "$T/json")"
fi
for c in $CHECKS; do
	st=$(field "$T/json" "$c" status)
	case $st in ok|note|degraded|fail) ok "doctor_checks_$c" ;; *) not_ok "doctor_checks_$c" "status [$st]" "$(cat "$T/json")" ;; esac
	grep -q "^[a-z]* *$c " "$T/text" && ok "doctor_text_has_$c" || not_ok "doctor_text_has_$c" "$(cat "$T/text")"
done
[ "$(wc -l < "$T/text")" = "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["checks"]))' "$T/json")" ] &&
	ok doctor_one_line_per_check || not_ok doctor_one_line_per_check "$(cat "$T/text")"
want=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
bad = [c for c in d["checks"] if c["status"] in ("degraded", "fail")]
nofix = [c["check"] for c in d["checks"] if c["status"] != "ok" and not c["fix"] and c["check"] != "store-xattrs"]
print(("1" if bad else "0") + (" ok" if d["ok"] == (not bad) else " bad-ok") + (" nofix:" + ",".join(nofix) if nofix else ""))' "$T/json")
[ "$want" = "$rc_json ok" ] && [ "$rc_text" = "$rc_json" ] && ok doctor_status_is_1_exactly_when_degraded_or_failed ||
	not_ok doctor_status_is_1_exactly_when_degraded_or_failed "exit $rc_text/$rc_json, from the checks: $want" "$(cat "$T/text")"
expect_status() { # NAME CHECK WANT-STATUS WANT-IN-DETAIL
	"$FVM" doctor --json > "$T/j" 2> "$T/err"
	local rc=$? st detail
	st=$(field "$T/j" "$2" status)
	detail=$(field "$T/j" "$2" detail)
	if [ "$st" = "$3" ] && case $detail in *"$4"*) true ;; *) false ;; esac &&
		{ [ "$3" != fail ] || [ $rc = 1 ]; }; then
		ok "$1"
	else
		not_ok "$1" "want $3 with [$4], exit 1 on fail; got $st [$detail], exit $rc" "$(cat "$T/err")"
	fi
}
# The landlock line agrees with what the kernel says.
abi=$(python3 -c 'import ctypes; print(max(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1), 0))')
if [ "$abi" -ge 1 ]; then expect_status doctor_landlock_abi landlock "$([ "$abi" -ge 6 ] && echo ok || echo degraded)" "ABI $abi"
else expect_status doctor_landlock_abi landlock fail "not offered"; fi

expect_status doctor_store_not_made_yet store ok "not made yet"
"$FVM_EXEC" -n v -- true
expect_status doctor_store_made store ok "$FVM_HOME, format"
chmod g+w "$FVM_HOME"
expect_status doctor_store_group_writable_fails store fail "writable by its group"
[ "$(field "$T/j" store fix)" = "chmod go-w $FVM_HOME" ] && ok doctor_store_fix_is_the_command ||
	not_ok doctor_store_fix_is_the_command "$(field "$T/j" store fix)"
chmod g-w "$FVM_HOME"
mkdir -p "$T/old/vms/a"
FVM_HOME=$T/old expect_status doctor_store_format_1_fails store fail "format 1"
[ "$(FVM_HOME=$T/old "$FVM" doctor --json | python3 -c 'import json,sys; print([c["fix"] for c in json.load(sys.stdin)["checks"] if c["check"] == "store"][0])')" = "fvm migrate" ] &&
	ok doctor_store_format_1_fix_is_migrate || not_ok doctor_store_format_1_fix_is_migrate
"$FVM" --home "$T/old" doctor > "$T/out"
grep -q "^fail *store .*$T/old.*format 1" "$T/out" && ok doctor_home_option_is_the_store || not_ok doctor_home_option_is_the_store "$(cat "$T/out")"

expect_status doctor_config_user_none config-user ok "none"
echo 'net = loopback # comment' > "$XDG_CONFIG_HOME/fvm/fvm.conf"
expect_status doctor_config_user_trailing_comment_fails config-user fail "$XDG_CONFIG_HOME/fvm/fvm.conf:1"
: > "$XDG_CONFIG_HOME/fvm/fvm.conf"
expect_status doctor_config_user_parses config-user ok "parses"
echo 'net = none' > "$FVM_SYSTEM_CONFIG"
chmod 666 "$FVM_SYSTEM_CONFIG"
expect_status doctor_config_system_writable_by_others_fails config-system fail "$FVM_SYSTEM_CONFIG"
chmod 644 "$FVM_SYSTEM_CONFIG"
expect_status doctor_config_system_parses config-system ok "parses"

# fvm alone, without fvm-exec and libfvm beside it.
mkdir -p "$T/lone/bin"
cp "$FVM" "$T/lone/bin/fvm"
"$T/lone/bin/fvm" doctor --json > "$T/lone.json"
[ "$(field "$T/lone.json" fvm-exec status)" = fail ] && ok doctor_missing_fvm_exec_fails ||
	not_ok doctor_missing_fvm_exec_fails "$(cat "$T/lone.json")"
libdir=$(strings "$FVM" | grep -m1 '/lib.*/fvm$')
if [ -n "$libdir" ] && [ -e "$libdir/libfvm.so" ]; then
	[ "$(field "$T/lone.json" libfvm detail)" = "$libdir/libfvm.so" ] && ok doctor_libfvm_found_in_libdir ||
		not_ok doctor_libfvm_found_in_libdir "$(cat "$T/lone.json")"
else
	[ "$(field "$T/lone.json" libfvm status)" = fail ] && ok doctor_missing_libfvm_fails ||
		not_ok doctor_missing_libfvm_fails "$(cat "$T/lone.json")"
fi

"$FVM" doctor extra > /dev/null 2> "$T/err"
[ $? = 2 ] && grep -q 'see fvm doctor --help' "$T/err" && ok doctor_usage_error_is_2 || not_ok doctor_usage_error_is_2 "$(cat "$T/err")"
"$FVM" doctor --help > "$T/out" && grep -q '^usage: fvm doctor' "$T/out" && ok doctor_help || not_ok doctor_help
done_testing
