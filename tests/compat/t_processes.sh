#!/usr/bin/env bash
# Compatibility: process fan-out in a VM (xargs -P4, & and wait, nohup, setsid,
# env -i, scripts the VM wrote executed by path, #!/usr/bin/env python3 scripts): every
# child, however started, stays in the VM and sees its files.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
mkdir -p "$HOST/in"
for i in $(seq 1 12); do echo "item $i" > "$HOST/in/f$i"; done

vm_check_ok xargs_P4_writes_in_parallel 'set -e
mkdir out; ls in | xargs -P4 -I{} sh -c "tr a-z A-Z < in/{} > out/{}.up"
cat out/*.up | sort; ls out | wc -l
find in -type f -print0 | xargs -0 -P4 -n3 rm; ls -A in'

vm_check_ok fan_out_with_background_jobs_and_wait 'set -e
for i in 1 2 3 4 5 6; do ( sleep 0.$i; echo job$i > job$i.out ) & done; wait
cat job*.out; (exit 3) & wait $! || echo "wait gave $?"'

vm_check_ok nohup_and_setsid_children_stay_in_vm 'set -e
nohup sh -c "echo from-nohup > nohup.txt" > /dev/null 2>&1; cat nohup.txt
setsid -w sh -c "echo from-setsid > setsid.txt; cat in/f1"; cat setsid.txt
setsid sh -c "echo detached > detached.txt" & wait; sleep 0.3; cat detached.txt'

vm_check_ok env_i_and_scripts_written_by_the_vm 'set -e
env -i PATH=/usr/bin:/bin sh -c "echo clean-env > envi.txt; env | grep -c "^PATH=" || true"; cat envi.txt
printf "#!/bin/sh\necho script \"\$@\"; echo ran > ran.txt\n" > s.sh; chmod +x s.sh
./s.sh a b; sh -c ./s.sh; cat ran.txt
mkdir bin; printf "#!/usr/bin/env python3\nimport sys, os\nprint(\"py\", sys.argv[1:], os.path.exists(\"ran.txt\"))\n" > bin/py.py
chmod 755 bin/py.py; bin/py.py x; PATH=$PWD/bin:$PATH py.py y; env -i bin/py.py z'

done_testing
