#!/usr/bin/env bash
# Compatibility: per-application configuration isolation. A program writes its settings
# to ~/.config/APP/ in two VMs: each VM sees only its own settings, and the host's
# settings file is untouched.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
H=$HOST/home
mkdir -p "$H/.config/app"
printf 'theme=light\n' > "$H/.config/app/settings"
cat > "$HOST/app.sh" <<'EOF'
#!/bin/sh
# A toy program: "app.sh set K=V" stores a setting, "app.sh show" prints them.
conf=${XDG_CONFIG_HOME:-$HOME/.config}/app
mkdir -p "$conf"
case $1 in
set) grep -v "^${2%%=*}=" "$conf/settings" > "$conf/settings.new" 2>/dev/null || true
     echo "$2" >> "$conf/settings.new"; mv "$conf/settings.new" "$conf/settings" ;;
show) sort "$conf/settings" ;;
esac
EOF
chmod 755 "$HOST/app.sh"
snapshot_host

run_in() { (cd "$HOST" && HOME=$H "$FVM_EXEC" -n "$1" -- sh -c "$2" 2>&1); }
run_in profile-a './app.sh set theme=dark; ./app.sh set font=mono' >/dev/null
run_in profile-b './app.sh set theme=solarized' >/dev/null
a=$(run_in profile-a './app.sh show'); b=$(run_in profile-b './app.sh show')
host=$(HOME=$H "$HOST/app.sh" show)
if [ "$a" = $'font=mono\ntheme=dark' ]; then ok vm_a_sees_its_own_settings; else not_ok vm_a_sees_its_own_settings "$a"; fi
if [ "$b" = "theme=solarized" ]; then ok vm_b_sees_only_its_own_settings; else not_ok vm_b_sees_only_its_own_settings "$b"; fi
if [ "$host" = "theme=light" ] && host_unchanged > "$T/why"; then ok host_settings_untouched
else not_ok host_settings_untouched "$host" "$(cat "$T/why")"; fi
d=$("$FVM" diff profile-a 2>&1 | grep -c 'home/.config/app/settings' || true)
if [ "$d" = 1 ]; then ok fvm_diff_lists_the_vm_settings_file; else not_ok fvm_diff_lists_the_vm_settings_file "$("$FVM" diff profile-a 2>&1)"; fi
rm -rf "$FVM_HOME/vms/profile-a"
a=$(run_in profile-a './app.sh show')
if [ "$a" = "theme=light" ]; then ok removed_vm_starts_again_from_host_settings; else not_ok removed_vm_starts_again_from_host_settings "$a"; fi

done_testing
