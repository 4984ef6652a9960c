#!/usr/bin/env bash
# The exported wrappers are exactly libfvm/wrapped.list, and every function of the
# installed libc that takes a file or object name is wrapped or named, with its reason,
# in libfvm/not-wrapped.list. A program bound to an old symbol version reaches the
# wrapper too.
. "$(dirname "$0")/../lib/harness.sh"
SO=$TOP/libfvm/libfvm.so
LIBC=$(ldd "$SO" | awk '/libc\.so/{print $3}')

sed -n 's/^FVM_SYM(\([A-Za-z0-9_]*\),.*/\1/p' "$TOP/libfvm/wrapped.list" | sort > "$T/listed"
nm -D --defined-only "$SO" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sed 's/@.*//' | sort -u > "$T/exported"
if diff "$T/listed" "$T/exported" > "$T/d1"; then
	ok exported_symbols_are_exactly_the_list
else
	not_ok exported_symbols_are_exactly_the_list "$(cat "$T/d1")"
fi
if dups=$(uniq -d "$T/listed") && [ -z "$dups" ]; then
	ok wrapped_list_has_no_duplicates
else
	not_ok wrapped_list_has_no_duplicates "$dups"
fi

if ! command -v objdump >/dev/null || [ -z "$LIBC" ]; then
	skip libc_path_functions_are_all_accounted_for "objdump (binutils) or libc not found"
else
	/usr/bin/python3 "$TOP/tests/lib/libc-path-symbols.py" "${CC:-cc}" "$LIBC" > "$T/pathsyms"
	grep -v '^#' "$TOP/libfvm/not-wrapped.list" | cut -f1 | sort > "$T/notwrapped"
	missing=$(sort -u "$T/listed" "$T/notwrapped" | comm -23 "$T/pathsyms" -)
	n=$(wc -l < "$T/pathsyms")
	if [ "$n" -lt 100 ]; then
		not_ok libc_path_functions_are_all_accounted_for "only $n found: the scan is broken"
	elif [ -n "$missing" ]; then
		not_ok libc_path_functions_are_all_accounted_for "neither wrapped nor listed:" $missing
	else
		ok "libc_path_functions_are_all_accounted_for ($n functions)"
	fi
	both=$(comm -12 "$T/listed" "$T/notwrapped")
	if [ -z "$both" ]; then
		ok no_function_is_both_wrapped_and_not_wrapped
	else
		not_ok no_function_is_both_wrapped_and_not_wrapped $both
	fi
fi

# Old symbol versions: realpath@GLIBC_2.2.5 and posix_spawn@GLIBC_2.2.5 reach libfvm.
cat > "$T/old.c" <<'CEOF'
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
__asm__(".symver realpath,realpath@GLIBC_2.2.5");
__asm__(".symver posix_spawn,posix_spawn@GLIBC_2.2.5");
extern char **environ;
int main(int argc, char **argv)
{
	char buf[4096];
	char *args[] = {"/bin/cat", argv[2], NULL};
	pid_t pid;
	int st;
	(void)argc;
	printf("%s\n", realpath(argv[1], buf) ? buf : "ENOENT");
	fflush(stdout);
	if (posix_spawn(&pid, "/bin/cat", NULL, NULL, args, environ) == 0)
		waitpid(pid, &st, 0);
	return 0;
}
CEOF
if ${CC:-cc} -o "$T/old" "$T/old.c" 2>"$T/cc.err" &&
	objdump -T "$T/old" | grep -q 'GLIBC_2.2.5.*realpath'; then
	vm_expect old_symbol_versions_reach_the_wrappers "$HOST/made
vm" "mkdir made; echo vm > made/f; '$T/old' made made/f"
else
	not_ok old_symbol_versions_reach_the_wrappers "cannot build the old-version probe" "$(cat "$T/cc.err")"
fi

done_testing
