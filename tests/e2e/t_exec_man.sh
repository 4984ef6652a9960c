#!/usr/bin/env bash
# The man pages fvm(1), fvm-exec(1) and fvm.conf(5): installed by make install (DESTDIR)
# and rendered by man without warnings; every option of fvm-exec --help is documented;
# every subcommand of fvm --help has its synopsis and its entry in fvm(1), with each
# option its --help lists; every key of fvm-exec's table is in fvm.conf(5).
. "$(dirname "$0")/../lib/harness.sh"

if ! command -v man > /dev/null; then
	skip man_pages "MAN IS NOT INSTALLED (make deps installs man-db)"
	done_testing; exit
fi
dest=$T/dest
make -s -C "$TOP" install DESTDIR="$dest" PREFIX=/usr/local > "$T/install.log" 2>&1
for page in man1/fvm.1 man1/fvm-exec.1 man5/fvm.conf.5; do
	f=$dest/usr/local/share/man/$page
	if [ ! -f "$f" ]; then
		not_ok "make_install_installs_$(basename "$page")" "$(cat "$T/install.log")"
		continue
	fi
	ok "make_install_installs_$(basename "$page")"
	out=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	text=$(MANWIDTH=80 man -l "$f" 2>/dev/null)
	[ -z "$out" ] && [ -n "$text" ] && ok "man_renders_$(basename "$page")_without_warnings" ||
		not_ok "man_renders_$(basename "$page")_without_warnings" "$out"
done
missing=$("$FVM_EXEC" --help | grep -o -- '--[a-z-]*' | sort -u | while read -r o; do
	MANWIDTH=200 man -l "$TOP/man/fvm-exec.1" 2>/dev/null | grep -q -- "$o" || echo "$o"; done)
[ -z "$missing" ] && ok every_option_is_in_the_man_page || not_ok every_option_is_in_the_man_page "$missing"
missing=$(sed -n 's/^# \([a-z-]*\) = .*/\1/p' "$TOP/fvm.conf.example" | sort -u | while read -r k; do
	MANWIDTH=200 man -l "$TOP/man/fvm.conf.5" 2>/dev/null | grep -qw -- "$k" || echo "$k"; done)
[ -z "$missing" ] && ok every_example_key_is_in_fvm_conf_5 || not_ok every_example_key_is_in_fvm_conf_5 "$missing"
FVM1=$(MANWIDTH=200 man -l "$TOP/man/fvm.1" 2>/dev/null)
missing=
for sub in $("$FVM" --help | awk '/^commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }'); do
	grep -q "^ *fvm $sub\b" <<< "$FVM1" || missing="$missing synopsis:$sub"
	[ "$sub" = help ] || grep -q "^ \{7\}$sub\b" <<< "$FVM1" || missing="$missing entry:$sub"
	for o in $("$FVM" "$sub" --help | sed -n '/^options:/,/^example:/p' | grep -o -- ' --[a-z-]*' | sort -u); do
		grep -q -- "$o" <<< "$FVM1" || missing="$missing $sub:$o"
	done
done
[ -z "$missing" ] && ok every_subcommand_and_option_is_in_fvm_1 || not_ok every_subcommand_and_option_is_in_fvm_1 "$missing"
# Every configuration key (fvm-exec's table, as fvm __complete offers them for fvm config).
missing=$("$FVM" __complete -- config x "" | grep '=$' | tr -d = | while read -r k; do
	MANWIDTH=200 man -l "$TOP/man/fvm.conf.5" 2>/dev/null | grep -qw -- "$k" || echo "$k"; done)
[ -z "$missing" ] && ok every_config_key_is_in_fvm_conf_5 || not_ok every_config_key_is_in_fvm_conf_5 "$missing"
done_testing
