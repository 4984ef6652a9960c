#!/usr/bin/env bash
# Regressions found by the compatibility suite (tests/compat), each named after the
# program that met it, run natively and in a VM with the same expectations.
. "$(dirname "$0")/../lib/harness.sh"

mkdir -p "$HOST/src/sub/deeper" "$HOST/src/other"
echo a > "$HOST/src/a.c"
echo h > "$HOST/src/sub/h.h"

# stat and find: a directory the VM changed still counts the host's subdirectories in
# st_nlink (find and fts skip stat calls once st_nlink says no subdirectory is left).
vm_check stat_nlink_of_changed_dir_counts_host_subdirs_stat \
	'echo new > src/new.c; mkdir src/vmdir; stat -c "%n %h" src src/sub src/vmdir'
vm_check stat_nlink_after_rmdir_of_host_subdir_stat \
	'rmdir src/other; stat -c "%n %h" src; mkdir src/other src/more; stat -c "%n %h" src'
vm_check find_lists_host_subdirs_of_changed_dir_find \
	'echo new > src/sub/n.c; find src -type d | sort; find src -mindepth 2 | sort'
vm_check python_stat_nlink_of_changed_dir_python3 \
	'touch src/t; python3 -c "import os; print(os.stat(\"src\").st_nlink, os.lstat(\"src/sub\").st_nlink)"'

# exec of a "#!" script passes every argument and variable on, however many (the
# wrapper once stopped at 4096 of each, silently).
vm_check script_run_by_execve_gets_all_6000_arguments_sh \
	'printf "#!/bin/sh\\necho \$# \$1 \$6000 \$V5999\\n" > many.sh; chmod +x many.sh;
	 env $(seq 6000 | sed "s/.*/V&=x&/") ./many.sh $(seq 6000)'
vm_check script_run_by_posix_spawn_gets_all_6000_arguments_python3 \
	'printf "#!/bin/sh\\necho \$# \$6000\\n" > many.sh; chmod +x many.sh;
	 /usr/bin/python3 -c "import os; os.posix_spawn(\"./many.sh\", [\"many.sh\"] + [str(i) for i in range(1, 6001)], os.environ); os.wait()"'
vm_check script_without_hash_bang_run_by_execvp_gets_all_6000_arguments_env \
	'printf "echo \$# \$6000 \$V5999\\n" > plain.sh; chmod +x plain.sh;
	 env $(seq 6000 | sed "s/.*/V&=x&/") ./plain.sh $(seq 6000)'

done_testing
