#!/usr/bin/env bash
# fvm export / fvm import (issue 17): a VM's changes as an OCI layer tar and as an OCI
# image layout, imported into another store with the same fvm diff, contents, modes,
# owners, xattrs and hard links; skopeo and umoci accept the layout and umoci's bundle
# holds the VM's files; a layer made by hand with whiteouts imports and behaves; every
# hostile entry is refused by name with nothing left; export -o - | import NAME -;
# origins travel (a host file changed after import conflicts at commit). A layered VM
# exported --oci has one blob per layer (umoci unpacks its files), its layers get their
# digests, an import gives the same digests and view, a second import shares the
# layers, rm frees only the layers no VM uses. A moved VM (-o and --oci): a host file
# that differs on the importing host is shown by info and diff --conflicts and refused
# by commit; one that is the same there is not. The host is checked unchanged (until
# the moved-VM sections, which change it on purpose). Runs as root and as the
# unprivileged user.
. "$(dirname "$0")/../lib/harness.sh"
ROOT=$([ "$(id -u)" = 0 ] && echo 1 || echo 0)
S2=$T/store2
same() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "$(diff <(echo "$2") <(echo "$3"))"; fi
}
# The layer's tree: manifest plus link counts and xattrs (fvm's own left out).
layer_state() { # UPPER
	manifest "$1"
	(cd "$1" && find . -mindepth 1 -type f -printf '%p %n\n' | sort)
	(cd "$1" && getfattr -R -h -d -m - . 2>/dev/null | grep -v '^user\.fvm\.' |
		awk 'BEGIN { RS = ""; ORS = "\n\n" } NF > 3')
}

make_host() {
	rm -rf "$HOST"; mkdir -p "$HOST"; cd "$HOST" || exit 1
	echo content > file_c; echo mode > file_m; echo times > file_t; echo xattr > file_x
	echo gone > gone; mkdir -p tree/sub opq; echo t > tree/sub/t; echo o1 > opq/o1
	echo o2 > opq/o2; echo owner > file_o
	cd - > /dev/null || exit 1
}
make_host
snapshot_host
(cd "$HOST" && "$FVM_EXEC" -n k -- sh -c '
	echo more >> file_c; chmod 600 file_m; touch -d 2001-01-01T00:00:00 file_t
	setfattr -n user.k -v val file_x; rm gone; rm -rf tree; rm -rf opq; mkdir opq
	echo fresh > opq/fresh; mkdir newdir; echo n > newdir/n; echo added > added
	ln added added.hl; mkfifo fifo')
ln -s file_m "$FVM_HOME/vms/k/upper$HOST/link"
if [ "$ROOT" = 1 ]; then (cd "$HOST" && "$FVM_EXEC" -n k -- chown 1:1 file_o); fi
host_unchanged > "$T/why" && ok vm_changes_leave_host_unchanged || not_ok vm_changes_leave_host_unchanged "$(cat "$T/why")"
UP=$FVM_HOME/vms/k/upper

# --- the layer tar ---
"$FVM" export k -o "$T/k.tar" 2> "$T/err"; rc=$?
same export_tar_exits_0 "0" "$rc$(cat "$T/err")"
python3 - "$T/k.tar" > "$T/tarcheck" 2>&1 <<'EOF'
import sys, tarfile, os
names, bad = [], []
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        names.append(m.name)
        for k in m.pax_headers:
            if k.startswith("SCHILY.xattr.user.fvm.") or k.startswith("LIBARCHIVE.xattr.user.fvm"):
                bad.append("fvm xattr on " + m.name)
if len(names) != len(set(names)):
    bad.append("duplicates")
# In each directory: the opaque marker, then whiteouts, then the rest, each sorted.
seen = {}
for n in names:
    d, b = os.path.split(n.rstrip("/"))
    rank = 0 if b == ".wh..wh..opq" else 1 if b.startswith(".wh.") else 2
    last = seen.get(d)
    if last and (last[0] > rank or (last[0] == rank and last[1] > b)):
        bad.append("order: " + n)
    seen[d] = (rank, b)
print("\n".join(bad) or "ok")
EOF
same tar_sorted_whiteouts_first_no_dups_no_fvm_xattrs "ok" "$(cat "$T/tarcheck")"
tar -tvf "$T/k.tar" > "$T/list"
grep -q "host/\.wh\.gone$" "$T/list" && grep -q "host/opq/\.wh\.\.wh\.\.opq$" "$T/list" &&
	grep -q "^h.*added.hl link to\|^h.*added link to" "$T/list" && grep -q "^l.*host/link -> file_m" "$T/list" &&
	ok tar_has_whiteout_opaque_hardlink_symlink || not_ok tar_has_whiteout_opaque_hardlink_symlink "$(cat "$T/list")"
"$FVM" export k -o "$T/k2.tar" 2>/dev/null
cmp -s "$T/k.tar" "$T/k2.tar" && ok export_is_reproducible || not_ok export_is_reproducible
"$FVM" export k -o "$T/m1.tar.gz" --compress gzip --mtime 1000000000 2>/dev/null
sleep 1.1
SOURCE_DATE_EPOCH=1000000000 "$FVM" export k -o "$T/m2.tar.gz" --compress gzip 2>/dev/null
cmp -s "$T/m1.tar.gz" "$T/m2.tar.gz" && [ "$(tar -tvzf "$T/m1.tar.gz" | grep -c 2001-09-09)" -gt 3 ] &&
	! tar -tvzf "$T/m1.tar.gz" | grep -q "$(date +%Y)-" && ok mtime_clamps_and_gzip_is_reproducible ||
	not_ok mtime_clamps_and_gzip_is_reproducible "$(tar -tvzf "$T/m1.tar.gz" | head)"

# Import into another store: the same diff, the same layer.
"$FVM" --home "$S2" import k "$T/k.tar" 2> "$T/err"; rc=$?
same import_tar_exits_0 "0" "$rc$(cat "$T/err")"
same import_gives_same_diff "$("$FVM" diff k)" "$("$FVM" --home "$S2" diff k)"
same import_gives_same_files_modes_owners_xattrs_links "$(layer_state "$UP")" "$(layer_state "$S2/vms/k/upper")"
same import_view_is_vm_view "$(cd "$HOST" && "$FVM_EXEC" -n k -- sh -c 'cat file_c added opq/fresh; ls opq; ls -d gone tree 2>&1 | wc -l')" \
	"$(cd "$HOST" && FVM_HOME=$S2 "$FVM_EXEC" -n k -- sh -c 'cat file_c added opq/fresh; ls opq; ls -d gone tree 2>&1 | wc -l')"
"$FVM" --home "$S2" import k "$T/k.tar" > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "exists" "$T/out" && ok import_onto_existing_name_refused || not_ok import_onto_existing_name_refused "rc $rc" "$(cat "$T/out")"

# A layered VM (fvm snapshot) exports what it shows: upper/ over its layers, merged
# into one layer (a file made in a layer and deleted above it is not there at all).
(cd "$HOST" && "$FVM_EXEC" -n ly -- sh -c 'echo l1 > lay1; echo tmp > lay_tmp; rm gone; mkdir ld; echo x > ld/x')
"$FVM" snapshot ly one > /dev/null
(cd "$HOST" && "$FVM_EXEC" -n ly -- sh -c 'echo l2 >> lay1; rm lay_tmp; rm -r ld; echo top > top; chmod 600 file_m')
"$FVM" export ly -o "$T/ly.tar" 2> "$T/err"; rc=$?
same export_of_a_layered_vm_exits_0 "0" "$rc$(cat "$T/err")"
"$FVM" --home "$S2" import ly "$T/ly.tar" 2> "$T/err"
same export_of_a_layered_vm_gives_its_merged_view \
	"$(cd "$HOST" && "$FVM_EXEC" -n ly -- sh -c 'cat lay1 top; ls -A | sort; stat -c %a file_m' 2>&1; "$FVM" diff ly)" \
	"$(cd "$HOST" && FVM_HOME=$S2 "$FVM_EXEC" -n ly -- sh -c 'cat lay1 top; ls -A | sort; stat -c %a file_m' 2>&1; "$FVM" --home "$S2" diff ly)"
tar -tf "$T/ly.tar" | grep -q 'lay_tmp\|/ld/' && not_ok export_of_a_layered_vm_drops_what_an_upper_layer_deleted "$(tar -tf "$T/ly.tar")" ||
	ok export_of_a_layered_vm_drops_what_an_upper_layer_deleted

# Refused while a process of the VM runs (it could change the layer under the export).
(cd "$HOST" && "$FVM_EXEC" -n k -- sleep 3) & bg=$!
sleep 0.5
"$FVM" export k -o "$T/run.tar" > "$T/out" 2>&1; rc=$?
wait $bg
[ $rc = 1 ] && grep -q "running" "$T/out" && [ ! -e "$T/run.tar" ] && ok export_refused_while_running ||
	not_ok export_refused_while_running "rc $rc" "$(cat "$T/out")"

# Streamed.
"$FVM" export k -o - --compress zstd 2>/dev/null | "$FVM" --home "$S2" import s - 2> "$T/err"; rc=$?
same stream_export_import "0 $("$FVM" diff k)" "$rc $("$FVM" --home "$S2" diff s)"

# --- the OCI layout ---
"$FVM" export k --oci "$T/img:v1" --compress gzip 2> "$T/err"; rc=$?
same export_oci_exits_0 "0" "$rc$(cat "$T/err")"
"$FVM" export k --oci "$T/img:plain" 2>/dev/null
if command -v skopeo > /dev/null && command -v umoci > /dev/null; then
	skopeo inspect "oci:$T/img:v1" > "$T/inspect" 2>&1 && grep -q '"org.fvm.vm.name": "k"' "$T/inspect" &&
		ok skopeo_inspects_layout || not_ok skopeo_inspects_layout "$(cat "$T/inspect")"
	skopeo copy "oci:$T/img:v1" "oci-archive:$T/out.tar" > "$T/copy" 2>&1 && [ -s "$T/out.tar" ] &&
		ok skopeo_copies_layout_to_archive || not_ok skopeo_copies_layout_to_archive "$(cat "$T/copy")"
	(cd "$T" && umoci unpack --rootless --image "img:v1" bundle > "$T/umoci" 2>&1); rc=$?
	# umoci applies the whiteouts (nothing beneath to hide): the VM's files, no markers.
	files() { (cd "$1" && find . -mindepth 1 \( -type f -o -type l \) -not -name '.wh.*' \
		-printf '%p %y %m %l\n' | sort; find . -type f -not -name '.wh.*' -exec sha256sum {} + | sort); }
	[ $rc = 0 ] && ok umoci_unpacks_layout || not_ok umoci_unpacks_layout "$(cat "$T/umoci")"
	same umoci_bundle_matches_vm_files "$(files "$UP")" "$(files "$T/bundle/rootfs")"
	same umoci_bundle_keeps_xattr "val" "$(getfattr --only-values -n user.k "$T/bundle/rootfs$HOST/file_x" 2>/dev/null)"
	# A second layer made by umoci repack (a deletion, an addition) imports over the first.
	rm "$T/bundle/rootfs$HOST/added"; echo repacked > "$T/bundle/rootfs$HOST/repacked"
	(cd "$T" && umoci repack --image "img:v2" bundle > "$T/umoci" 2>&1)
	"$FVM" --home "$S2" import rp "oci:$T/img:v2" > "$T/out" 2>&1; rc=$?
	same umoci_repacked_two_layer_image_imports "0 $({ "$FVM" diff k | grep -vx "A $HOST/added"; echo "A $HOST/repacked"; } | sort)" \
		"$rc $("$FVM" --home "$S2" diff rp | sort)"
else
	for t in skopeo_inspects_layout skopeo_copies_layout_to_archive umoci_unpacks_layout \
		umoci_bundle_matches_vm_files umoci_bundle_keeps_xattr umoci_repacked_two_layer_image_imports; do
		skip $t "skopeo or umoci missing (make deps)"
	done
fi
"$FVM" --home "$S2" import o "oci:$T/img:v1" 2> "$T/err"; rc=$?
same import_oci_exits_0 "0" "$rc$(cat "$T/err")"
same import_oci_gives_same_diff "$("$FVM" diff k)" "$("$FVM" --home "$S2" diff o)"
# The image's one layer (k's upper/) is a read-only layer of the new VM; upper/ empty.
olayer=$("$FVM" --home "$S2" snapshots o | awk 'NR == 2 { print $(NF - 1) }')
same import_oci_gives_same_layer "$(layer_state "$UP")" "$(layer_state "$S2/layers/$olayer/tree")"
same import_oci_upper_empty "" "$(ls -A "$S2/vms/o/upper")"
grep -q " $HOST/file_c$" "$S2/vms/o/origins" && ok import_oci_carries_origins || not_ok import_oci_carries_origins "$(cat "$S2/vms/o/origins")"
"$FVM" --home "$S2" import p "oci:$T/img:plain" 2>/dev/null
same import_oci_uncompressed "$("$FVM" diff k)" "$("$FVM" --home "$S2" diff p)"
# A blob that does not match its digest: refused, nothing left.
cp -a "$T/img" "$T/bad"
blob=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"][7:])' "$T/bad")
printf 'x' | dd of="$T/bad/blobs/sha256/$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
"$FVM" --home "$S2" import bad "oci:$T/bad:v1" > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && [ ! -e "$S2/vms/bad" ] && [ ! -e "$S2/ctl/bad" ] && ok import_refuses_bad_digest ||
	not_ok import_refuses_bad_digest "rc $rc" "$(cat "$T/out")"

# --- a layer made by hand: whiteouts and an opaque directory, GNU tar ---
mkdir -p "$T/hand/${HOST#/}/opq" "$T/hand/${HOST#/}/tree"
touch "$T/hand/${HOST#/}/.wh.file_c" "$T/hand/${HOST#/}/opq/.wh..wh..opq" "$T/hand/${HOST#/}/tree/.wh.sub"
echo handmade > "$T/hand/${HOST#/}/opq/h"
tar -C "$T/hand" -cf "$T/hand.tar" .
"$FVM" --home "$S2" import h "$T/hand.tar" 2> "$T/err"; rc=$?
same hand_tar_imports "0" "$rc$(cat "$T/err")"
same hand_tar_behaves "gone
h
handmade
no-sub" "$(cd "$HOST" && FVM_HOME=$S2 "$FVM_EXEC" -n h -- sh -c '[ -e file_c ] || echo gone; ls opq; cat opq/h; [ -e tree/sub ] || echo no-sub')"
same hand_tar_diff "D $HOST/file_c
A $HOST/opq/h
D $HOST/opq/o1
D $HOST/opq/o2
D $HOST/tree/sub" "$("$FVM" --home "$S2" diff h | grep -v '^D.*/sub/t$' | grep -F "$HOST/")"

# --- merged /usr: a directory at a host link lands beneath its target ---
if [ -L /lib ] && [ -d /lib ]; then
	target=$(readlink -f /lib)
	python3 - "$T/lib.tar" <<'EOF'
import sys, tarfile, io
with tarfile.open(sys.argv[1], "w") as t:
    d = tarfile.TarInfo("lib"); d.type = tarfile.DIRTYPE; d.mode = 0o700; t.addfile(d)
    f = tarfile.TarInfo("lib/fvm-import-probe"); f.size = 3; t.addfile(f, io.BytesIO(b"hi\n"))
EOF
	"$FVM" --home "$S2" import ml "$T/lib.tar" 2> "$T/err"; rc=$?
	[ $rc = 0 ] && [ ! -e "$S2/vms/ml/upper/lib" ] && [ ! -L "$S2/vms/ml/upper/lib" ] &&
		[ -f "$S2/vms/ml/upper$target/fvm-import-probe" ] &&
		[ "$(stat -c %a "$S2/vms/ml/upper$target")" = "$(stat -c %a "$target")" ] &&
		ok dir_entry_at_host_link_lands_beneath_target ||
		not_ok dir_entry_at_host_link_lands_beneath_target "rc $rc $(cat "$T/err")" "$(find "$S2/vms/ml/upper" -maxdepth 3 -ls)"
	same host_link_kept_in_vm "hi" "$(FVM_HOME=$S2 "$FVM_EXEC" -n ml -- sh -c '[ -L /lib ] && cat /lib/fvm-import-probe')"
else
	skip dir_entry_at_host_link_lands_beneath_target "/lib is no link to a directory here"
	skip host_link_kept_in_vm "/lib is no link to a directory here"
fi

# --- hostile archives: each refused by name (exit 1), nothing left behind ---
refuse() { # NAME WHAT-IN-MESSAGE PYTHON-BODY
	python3 - "$T/$1.tar" <<EOF
import sys, tarfile, io
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def f(name, data=b"", **kw):
    i = tarfile.TarInfo(name); i.size = len(data)
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data) if data else None)
$3
t.close()
EOF
	"$FVM" --home "$S2" import "r$1" "$T/$1.tar" ${EXTRA:-} > "$T/out" 2>&1; rc=$?
	if [ $rc = 1 ] && grep -q "$2" "$T/out" && [ ! -e "$S2/vms/r$1" ] && [ ! -e "$S2/ctl/r$1" ] &&
		[ -z "$(ls -A "$S2/vms" | grep '^\.new')" ]; then ok "import_refuses_$1"
	else not_ok "import_refuses_$1" "rc $rc" "$(cat "$T/out")"; fi
}
refuse absolute "'/etc/fvm-x' refused: absolute path" 'f("/etc/fvm-x", b"x")'
refuse dotdot "'a/../../x' refused: path climbs" 'f("a/../../x", b"x")'
refuse through_symlink "'l/x' refused: its path passes through the symlink 'l'" \
	'f("l", type=tarfile.SYMTYPE, linkname="/etc"); f("l/x", b"x")'
refuse device "'dev' refused: device node" 'f("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)'
refuse whiteout_nonempty "'.wh.x' refused: a .wh. entry that is not an empty" 'f(".wh.x", b"data")'
refuse whiteout_dir "'.wh.d/*' refused: a .wh. entry" 'f(".wh.d", type=tarfile.DIRTYPE)'
refuse whiteout_meta "'.wh..wh.plnk' refused: reserved" 'f(".wh..wh.plnk")'
refuse fvm_xattr "'x' refused: carries fvm's own" 'f("x", b"x", pax_headers={"SCHILY.xattr.user.fvm.origin": "1"})'
EXTRA="--max-size 1K" refuse max_size "'big': the archive expands past" 'f("small", b"s"); f("big", b"x" * 4096)'

# setuid: dropped with a warning unless --allow-privileged.
python3 - "$T/suid.tar" <<'EOF'
import sys, tarfile, io
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("suid"); i.size = 1; i.mode = 0o4755; t.addfile(i, io.BytesIO(b"x"))
EOF
"$FVM" --home "$S2" import su "$T/suid.tar" > "$T/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "'suid': setuid/setgid bits" "$T/out" && [ "$(stat -c %a "$S2/vms/su/upper/suid")" = 755 ] &&
	ok setuid_dropped_by_default || not_ok setuid_dropped_by_default "rc $rc" "$(cat "$T/out")"
"$FVM" --home "$S2" import su2 "$T/suid.tar" --allow-privileged > "$T/out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(stat -c %a "$S2/vms/su2/upper/suid")" = 4755 ] &&
	ok setuid_kept_with_allow_privileged || not_ok setuid_kept_with_allow_privileged "rc $rc" "$(cat "$T/out")"

host_unchanged > "$T/why" && ok host_unchanged_after_all || not_ok host_unchanged_after_all "$(cat "$T/why")"

# --- --oci of a layered VM: one blob per layer, digests, shared layers ---
(cd "$HOST" && "$FVM_EXEC" -n st -- sh -c 'echo a1 > sa; echo b1 > sb; mkdir sd; echo x > sd/x')
"$FVM" snapshot st one > /dev/null
(cd "$HOST" && "$FVM_EXEC" -n st -- sh -c 'echo a2 >> sa; rm sb; rm -r sd; mkdir sd; echo y > sd/y')
"$FVM" snapshot st two > /dev/null
(cd "$HOST" && "$FVM_EXEC" -n st -- sh -c 'echo a3 >> sa; rm file_c; echo top > stop')
"$FVM" snapshot st three > /dev/null
digests() { "$@" | awk 'NR > 1 && $1 != "(current)" { print $1, $NF }'; }
same layers_have_no_digest_before_export "one -
two -
three -" "$(digests "$FVM" snapshots st)"
"$FVM" export st --oci "$T/st:v1" --compress gzip 2> "$T/err"; rc=$?
same export_oci_layered_exits_0 "0" "$rc$(cat "$T/err")"
python3 - "$T/st" v1 > "$T/stcheck" 2>&1 <<'EOF2'
import json, sys, os
d, tag = sys.argv[1], sys.argv[2]
idx = json.load(open(d + "/index.json"))
m = [x for x in idx["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
man = json.load(open(d + "/blobs/sha256/" + m["digest"][7:]))
cfg = json.load(open(d + "/blobs/sha256/" + man["config"]["digest"][7:]))
print(len(man["layers"]), len(cfg["rootfs"]["diff_ids"]))
print(" ".join(l.get("annotations", {}).get("org.fvm.layer.label", "-") for l in man["layers"]))
a = man["annotations"]
print(a["org.fvm.vm.name"], bool(a["org.fvm.host.os-id"]), bool(a["org.fvm.host.architecture"]), a["org.fvm.vm.labels"].split("\n"))
for i in cfg["rootfs"]["diff_ids"]: print(i)
EOF2
same export_oci_one_blob_per_layer_labelled "3 3
one two three
st True True ['one', 'two', 'three']" "$(head -3 "$T/stcheck")"
same export_oci_gives_layers_their_digests "one $(sed -n 4p "$T/stcheck")
two $(sed -n 5p "$T/stcheck")
three $(sed -n 6p "$T/stcheck")" "$(digests "$FVM" snapshots st)"
if command -v umoci > /dev/null; then
	(cd "$T" && umoci unpack --rootless --image "st:v1" stb > "$T/umoci" 2>&1); rc=$?
	same umoci_unpacks_three_layer_vm "0 a1
a2
a3
top
y
no-sb no-sd/x" "$rc $(cd "$T/stb/rootfs$HOST" && cat sa stop sd/*; [ -e sb ] || printf 'no-sb '; [ -e sd/x ] || echo no-sd/x)"
else
	skip umoci_unpacks_three_layer_vm "umoci missing (make deps)"
fi
"$FVM" --home "$S2" import st "oci:$T/st:v1" 2> "$T/err"; rc=$?
same import_oci_layered_exits_0 "0" "$rc$(cat "$T/err")"
same import_gives_same_snapshots_digests "$(digests "$FVM" snapshots st)" "$(digests "$FVM" --home "$S2" snapshots st)"
same import_gives_same_layered_view "$(cd "$HOST" && "$FVM_EXEC" -n st -- sh -c 'cat sa stop sd/*; ls -A sd; ls -A | sort' 2>&1; "$FVM" diff st)" \
	"$(cd "$HOST" && FVM_HOME=$S2 "$FVM_EXEC" -n st -- sh -c 'cat sa stop sd/*; ls -A sd; ls -A | sort' 2>&1; "$FVM" --home "$S2" diff st)"
same import_layered_upper_empty "" "$(ls -A "$S2/vms/st/upper")"
nlayers=$(ls "$S2/layers" | wc -l)
"$FVM" --home "$S2" import st2 "oci:$T/st:v1" > "$T/out" 2>&1; rc=$?
same second_import_shares_the_layers "0 $nlayers st2: 3 layers shared with the store's" "$rc $(ls "$S2/layers" | wc -l) $(grep shared "$T/out")"
same shared_layers_same_ids "$("$FVM" --home "$S2" snapshots st | awk 'NR > 1 { print $(NF - 1) }')" \
	"$("$FVM" --home "$S2" snapshots st2 | awk 'NR > 1 { print $(NF - 1) }')"
"$FVM" --home "$S2" rm st > /dev/null 2>&1
same rm_keeps_layers_another_vm_uses "$nlayers" "$(ls "$S2/layers" | wc -l)"
"$FVM" --home "$S2" rm st2 > /dev/null 2>&1
same rm_frees_layers_no_vm_uses "$((nlayers - 3))" "$(ls "$S2/layers" | wc -l)"
# A blob that lies about its diff_id: refused, no layer left.
cp -a "$T/st" "$T/stbad"
python3 - "$T/stbad" <<'EOF2'
import json, sys, hashlib
d = sys.argv[1]
idx = json.load(open(d + "/index.json")); m = idx["manifests"][0]
man = json.load(open(d + "/blobs/sha256/" + m["digest"][7:]))
cp = d + "/blobs/sha256/" + man["config"]["digest"][7:]
cfg = json.load(open(cp)); cfg["rootfs"]["diff_ids"][2] = "sha256:" + "0" * 64
c = json.dumps(cfg).encode(); h = hashlib.sha256(c).hexdigest(); open(d + "/blobs/sha256/" + h, "wb").write(c)
man["config"] = {"mediaType": man["config"]["mediaType"], "digest": "sha256:" + h, "size": len(c)}
mt = json.dumps(man).encode(); mh = hashlib.sha256(mt).hexdigest(); open(d + "/blobs/sha256/" + mh, "wb").write(mt)
m["digest"] = "sha256:" + mh; m["size"] = len(mt); json.dump(idx, open(d + "/index.json", "w"))
EOF2
"$FVM" --home "$S2" import sb "oci:$T/stbad:v1" > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && [ ! -e "$S2/vms/sb" ] && [ ! -e "$S2/ctl/sb" ] && [ "$(ls "$S2/layers" | wc -l)" = "$((nlayers - 3))" ] &&
	ok import_refuses_bad_diff_id_leaves_no_layer || not_ok import_refuses_bad_diff_id_leaves_no_layer "rc $rc" "$(cat "$T/out")" "$(ls "$S2/layers")"
# An image naming, for a blob, the diff_id of a layer the store has (so it would be
# shared), while the blob is another layer: refused (the shared blob is checked too).
"$FVM" --home "$S2" import st3 "oci:$T/st:v1" > /dev/null 2>&1
cp -a "$T/st" "$T/stlie"
python3 - "$T/stlie" <<'EOF2'
import json, sys, hashlib
d = sys.argv[1]
idx = json.load(open(d + "/index.json")); m = idx["manifests"][0]
man = json.load(open(d + "/blobs/sha256/" + m["digest"][7:]))
cfg = json.load(open(d + "/blobs/sha256/" + man["config"]["digest"][7:]))
ids = cfg["rootfs"]["diff_ids"]; ids[0] = ids[1]
c = json.dumps(cfg).encode(); h = hashlib.sha256(c).hexdigest(); open(d + "/blobs/sha256/" + h, "wb").write(c)
man["config"] = {"mediaType": man["config"]["mediaType"], "digest": "sha256:" + h, "size": len(c)}
mt = json.dumps(man).encode(); mh = hashlib.sha256(mt).hexdigest(); open(d + "/blobs/sha256/" + mh, "wb").write(mt)
m["digest"] = "sha256:" + mh; m["size"] = len(mt); json.dump(idx, open(d + "/index.json", "w"))
EOF2
"$FVM" --home "$S2" import sl "oci:$T/stlie:v1" > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "diff_id" "$T/out" && [ ! -e "$S2/vms/sl" ] && ok import_refuses_a_blob_lying_about_a_shared_layer ||
	not_ok import_refuses_a_blob_lying_about_a_shared_layer "rc $rc" "$(cat "$T/out")"
"$FVM" --home "$S2" rm st3 > /dev/null 2>&1
# A layer and changes above it (ly): two blobs, upper/'s keeping the whiteouts of the
# layer's own files (lay_tmp, ld); imported, the same view.
"$FVM" export ly --oci "$T/lyi" 2> "$T/err"; rc=$?
nb=$(python3 -c 'import json,sys; d=sys.argv[1]; m=json.load(open(d+"/index.json"))["manifests"][0]; print(len(json.load(open(d+"/blobs/sha256/"+m["digest"][7:]))["layers"]))' "$T/lyi")
same export_oci_layer_and_upper_two_blobs "0 2" "$rc $nb"
"$FVM" --home "$S2" import ly2 "oci:$T/lyi" 2> "$T/err"
same import_of_layer_and_upper_same_view \
	"$(cd "$HOST" && "$FVM_EXEC" -n ly -- sh -c 'cat lay1 top; ls -A | sort; stat -c %a file_m' 2>&1; "$FVM" diff ly)" \
	"$(cd "$HOST" && FVM_HOME=$S2 "$FVM_EXEC" -n ly2 -- sh -c 'cat lay1 top; ls -A | sort; stat -c %a file_m' 2>&1; "$FVM" --home "$S2" diff ly2)"
host_unchanged > "$T/why" && ok host_unchanged_after_layered_export_import || not_ok host_unchanged_after_layered_export_import "$(cat "$T/why")"

# --- moved VM: the host file differs from what the exported VM copied: a conflict ---
echo host-edit >> "$HOST/file_c"
"$FVM" --home "$S2" commit o "$HOST/file_c" > "$T/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "conflict: M $HOST/file_c" "$T/out" && ok moved_vm_conflicts_on_changed_host_file ||
	not_ok moved_vm_conflicts_on_changed_host_file "rc $rc" "$(cat "$T/out")"

# --- moved VM (-o and --oci): each copied host file travels with what it was; on a
# host whose file differs, info and diff --conflicts show it and commit refuses it; a
# file the same there (another inode, as on another host) is no conflict ---
echo ma > "$HOST/mv_a"; echo mb > "$HOST/mv_b"
(cd "$HOST" && "$FVM_EXEC" -n mv -- sh -c 'echo va >> mv_a; echo vb >> mv_b')
"$FVM" export mv -o "$T/mv.tar" 2>/dev/null
"$FVM" export mv --oci "$T/mvi:v1" 2>/dev/null
python3 - "$T/mv.tar" > "$T/gh" 2>&1 <<'EOF2'
import sys, tarfile
t = tarfile.open(sys.argv[1])
m = t.getmembers()[0]
o = m.pax_headers.get("comment", "")
print(m.name, o.splitlines()[0] if o else "none", sum(1 for l in o.splitlines() if l.startswith("sha256:") and "/mv_" in l))
EOF2
same tar_carries_origins_in_pax_comment_of_root ". fvm-origins 2 2" "$(cat "$T/gh")"
mkdir -p "$T/gx" && tar -C "$T/gx" -xf "$T/mv.tar" 2> "$T/gxerr"
same gnu_tar_ignores_the_origins_comment "0 " "$(find "$T/gx" -name '*PaxHeader*' | wc -l) $(cat "$T/gxerr")"
if command -v umoci > /dev/null; then
	(cd "$T" && umoci init --layout mvu && umoci new --image mvu:t && umoci raw add-layer --image mvu:t mv.tar &&
		umoci unpack --rootless --image mvu:t mvb) > "$T/umoci" 2>&1; rc=$?
	same umoci_takes_the_tar_with_origins_as_a_layer "0 mb
vb" "$rc $(cat "$T/mvb/rootfs$HOST/mv_b" 2>&1)"
else
	skip umoci_takes_the_tar_with_origins_as_a_layer "umoci missing (make deps)"
fi
# "Another host": mv_a differs there, mv_b is the same content in another file.
echo other-host >> "$HOST/mv_a"
cp -p "$HOST/mv_b" "$HOST/mv_b.new" && mv "$HOST/mv_b.new" "$HOST/mv_b"
S3=$T/store3
for how in tar oci; do
	src=$T/mv.tar; [ $how = oci ] && src=oci:$T/mvi:v1
	"$FVM" --home "$S3" import "m$how" "$src" > "$T/out" 2>&1; rc=$?
	same "moved_${how}_import_names_the_conflict" "0 1" "$rc $(grep -c "1 file the VM copied differs" "$T/out")"
	same "moved_${how}_info_shows_conflict" "1 " "$("$FVM" --home "$S3" info "m$how" | grep -c '^conflicts:  1 ') $("$FVM" --home "$S3" info "m$how" --json | grep -o '"conflicts":[0-9]*' | grep -v ':1$')"
	same "moved_${how}_diff_conflicts_lists_only_it" "M $HOST/mv_a" "$("$FVM" --home "$S3" diff "m$how" --conflicts | grep -F "$HOST/mv_")"
	"$FVM" --home "$S3" commit "m$how" "$HOST/mv_a" "$HOST/mv_b" --dry-run > "$T/out" 2>&1; rc=$?
	[ $rc = 1 ] && grep -q "conflict: M $HOST/mv_a" "$T/out" && ! grep -q "conflict: M $HOST/mv_b" "$T/out" &&
		ok "moved_${how}_commit_refuses_it" || not_ok "moved_${how}_commit_refuses_it" "rc $rc" "$(cat "$T/out")"
done
# Locally the replaced mv_b is a conflict (another inode): the import judged by content.
same local_vm_sees_inode_change "M $HOST/mv_a
M $HOST/mv_b" "$("$FVM" diff mv --conflicts)"
done_testing
