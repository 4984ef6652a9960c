#!/usr/bin/env bash
# Issue 14, "the supervisor is careful": it performs a static program's calls with the
# caller's capabilities, not only its ids. A root process of a root run that dropped
# CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv, capsh) must not read a 0600 file
# of another uid, stat through a 0700 directory of another uid, nor write into a 0755
# directory of another uid, through the supervisor (tests/helpers/capprobe.c, built
# -static here), where natively it gets EACCES. Root only: an unprivileged run's
# processes hold no capabilities.
. "$(dirname "$0")/../lib/harness.sh"

CHECKS="full_root setpriv_no_caps capsh_no_dac capsh_no_dac_fowner caps_dropped_then_kept uid_keeps_dac_override uid_no_caps"
if [ "$(id -u)" != 0 ]; then
	for c in $CHECKS; do skip "$c" "root only (an unprivileged run holds no capabilities)"; done
	done_testing
	exit
fi
P=$T/capprobe
if ! cc -static -O2 -o "$P" "$TOP/tests/helpers/capprobe.c" 2> "$T/cc.err"; then
	for c in $CHECKS; do skip "$c" "cannot build a static helper: $(head -1 "$T/cc.err")"; done
	done_testing
	exit
fi
chmod 755 "$T" "$HOST" "$P"
echo secret > "$HOST/f600"
chmod 600 "$HOST/f600"
mkdir "$HOST/d700" "$HOST/d755" "$HOST/sticky" "$HOST/d777"
echo in > "$HOST/d700/in"
echo theirs > "$HOST/sticky/theirs"
echo shared > "$HOST/d777/f666"
chown -R 4243:4243 "$HOST/f600" "$HOST/d700" "$HOST/d755" "$HOST/sticky" "$HOST/d777"
chmod 700 "$HOST/d700"
chmod 1777 "$HOST/sticky"
chmod 777 "$HOST/d777"
chmod 666 "$HOST/d777/f666"

# Each op prints "OP NAME: ok" or its errno; the comparison is native against the VM.
# (d777's copy-ups, for append and mkdir, keep the host's owner: the trees are compared)
OPS="read f600 stat d700/in read d700/in access f600 eaccess f600 mkdir d755/new creat d755/newf unlink sticky/theirs"
OPS="$OPS append d777/f666 mkdir d777/sub"
vm_check full_root "'$P' $OPS"
vm_check setpriv_no_caps "setpriv --inh-caps=-all --bounding-set=-all '$P' caps - $OPS"
vm_check capsh_no_dac "capsh --drop=cap_dac_override,cap_dac_read_search -- -c \"'$P' caps - $OPS\" 2>&1 | grep -v '^\$'"
vm_check capsh_no_dac_fowner "capsh --drop=cap_dac_override,cap_dac_read_search,cap_fowner -- -c \"'$P' caps - $OPS\""
# a process drops its caps after a first call (the supervisor kept its credentials
# then): its next calls are its own again
vm_check caps_dropped_then_kept "'$P' read f600 && setpriv --inh-caps=-all --bounding-set=-all '$P' $OPS"
# another uid that kept CAP_DAC_OVERRIDE (ambient): reads and writes what it does not own
# (the supervisor's child takes it back after its setfsuid and setresuid cleared it)
vm_check uid_keeps_dac_override "setpriv --reuid=4244 --regid=4244 --clear-groups --inh-caps=+dac_override --ambient-caps=+dac_override '$P' caps - $OPS"
vm_check uid_no_caps "setpriv --reuid=4244 --regid=4244 --clear-groups '$P' caps - $OPS"
done_testing
