#!/usr/bin/env bash
# VMcasting, first part (issue 18): fvm keygen, fvm sign, fvm verify in minisign's
# formats, checked both ways against Debian's minisign (prehashed ED and legacy Ed,
# encrypted and plain keys); the refusals are distinct (wrong key, changed file, changed
# trusted comment, wrong passphrase, a secret key others may read); the feed module
# (tests/helpers/feed-tool) writes RSS 2.0 that python3-feedparser reads as one item
# per version with its enclosure, parses back what it wrote, and refuses a DTD, a bad
# digest, versions out of order. No VM runs, nothing leaves $T. Root and user alike.
. "$(dirname "$0")/../lib/harness.sh"
FT=$TOP/build/tests/helpers/feed-tool
PY=/usr/bin/python3   # Debian's python, where python3-feedparser is
K=$T/keys
mkdir -p "$K"
cd "$K" || exit 1
check() { # NAME COMMAND... : ok when COMMAND succeeds, its output as the reason otherwise
	local name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
refused() { # NAME REGEX COMMAND... : exit 1 and stderr matching REGEX
	local name=$1 re=$2; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc = 1 ] && grep -Eq "$re" <<< "$out"; then ok "$name"; else not_ok "$name" "rc=$rc: $out"; fi
}

if ! command -v minisign > /dev/null; then
	not_ok minisign_installed "minisign missing: make deps installs it"
fi

# --- keys ---
check keygen_plain "$FVM" keygen -o plain --no-passphrase
mode=$(stat -c %a plain.key)
[ "$mode" = 600 ] && ok secret_key_is_0600 || not_ok secret_key_is_0600 "mode $mode"
grep -q '^untrusted comment: minisign public key [0-9A-F]\{16\}$' plain.pub && ok pub_comment_as_minisign ||
	not_ok pub_comment_as_minisign "$(cat plain.pub)"
refused keygen_never_replaces 'exists already' "$FVM" keygen -o plain --no-passphrase
check keygen_encrypted env FVM_PASSPHRASE_FD=3 "$FVM" keygen -o enc 3<<< "correct horse"
head -1 enc.key | grep -q 'encrypted' && ok encrypted_key_marked || not_ok encrypted_key_marked "$(head -1 enc.key)"
refused keygen_needs_terminal_or_fd 'no terminal.*FVM_PASSPHRASE_FD' setsid -w "$FVM" keygen -o nottyk < /dev/null
[ ! -e nottyk.key ] && ok no_key_left_when_refused || not_ok no_key_left_when_refused "$(ls)"

echo "the payload" > data
printf 'a second file\n' > data2

# --- fvm signs, minisign verifies ---
check fvm_sign_prehashed "$FVM" sign data --key plain.key
head -c 200 data.minisig | sed -n 2p | base64 -d 2>/dev/null | head -c 2 | grep -q ED &&
	ok fvm_default_is_prehashed_ED || not_ok fvm_default_is_prehashed_ED "$(cat data.minisig)"
check minisign_verifies_fvm_prehashed minisign -V -H -p plain.pub -m data
check fvm_sign_legacy "$FVM" sign data --key plain.key --legacy -x data.legacy.minisig
check minisign_verifies_fvm_legacy minisign -V -p plain.pub -m data -x data.legacy.minisig
check fvm_sign_trusted_comment "$FVM" sign data2 --key plain.key -t "fvm feed seq 4"
out=$(minisign -V -p plain.pub -m data2 2>&1)
grep -q 'Trusted comment: fvm feed seq 4' <<< "$out" && ok minisign_sees_fvm_trusted_comment ||
	not_ok minisign_sees_fvm_trusted_comment "$out"
check fvm_verifies_itself "$FVM" verify data --pub plain.pub
# an encrypted fvm key, used by minisign (password on its standard input) and by fvm
check minisign_signs_with_fvm_encrypted_key sh -c 'echo "correct horse" | minisign -S -s enc.key -m data2 -x data2.enc.minisig'
check fvm_verifies_that "$FVM" verify data2 --pub enc.pub -x data2.enc.minisig
check fvm_signs_with_its_encrypted_key env FVM_PASSPHRASE_FD=3 "$FVM" sign data2 --key enc.key -x data2.enc2.minisig 3<<< "correct horse"
check minisign_verifies_that minisign -V -p enc.pub -m data2 -x data2.enc2.minisig
refused wrong_passphrase_refused 'wrong passphrase' env FVM_PASSPHRASE_FD=3 "$FVM" sign data2 --key enc.key -x x.minisig 3<<< "wrong horse"

# --- minisign signs, fvm verifies ---
minisign -G -W -p mini.pub -s mini.key > /dev/null 2>&1 < /dev/null
check minisign_signs_prehashed minisign -S -s mini.key -m data -x data.mini.minisig
check fvm_verifies_minisign_prehashed "$FVM" verify data --pub mini.pub -x data.mini.minisig
check minisign_signs_legacy minisign -S -l -s mini.key -m data -x data.mini-l.minisig
check fvm_verifies_minisign_legacy "$FVM" verify data --pub mini.pub -x data.mini-l.minisig
refused fvm_prehashed_only_refuses_legacy 'legacy' "$FVM" verify data --pub mini.pub -x data.mini-l.minisig --prehashed-only
check fvm_signs_with_minisign_plain_key "$FVM" sign data2 --key mini.key -x data2.mk.minisig
check minisign_verifies_with_its_key minisign -V -p mini.pub -m data2 -x data2.mk.minisig
# an encrypted minisign key, decrypted by fvm
printf 'pw one\npw one\n' | minisign -G -p minienc.pub -s minienc.key > /dev/null 2>&1
check fvm_signs_with_minisign_encrypted_key env FVM_PASSPHRASE_FD=3 "$FVM" sign data --key minienc.key -x data.me.minisig 3<<< "pw one"
check minisign_verifies_it minisign -V -p minienc.pub -m data -x data.me.minisig

# --- refusals, each distinct ---
refused wrong_key_refused 'wrong key: signed by key [0-9A-F]{16}' "$FVM" verify data --pub mini.pub
cp data tampered; echo x >> tampered; cp data.minisig tampered.minisig
refused tampered_file_refused 'not what key [0-9A-F]{16} signed' "$FVM" verify tampered --pub plain.pub
cp data.mini-l.minisig tampered.minisig
refused tampered_file_legacy_refused 'not what key' "$FVM" verify tampered --pub mini.pub
sed '3s/$/ (edited)/' data.minisig > data.tc.minisig
refused tampered_trusted_comment_refused "trusted comment's signature fails" "$FVM" verify data --pub plain.pub -x data.tc.minisig
if minisign -V -p plain.pub -m data -x data.tc.minisig > /dev/null 2>&1; then
	not_ok minisign_agrees_comment_tampered "minisign accepted it"
else ok minisign_agrees_comment_tampered; fi
refused garbage_signature_refused 'not a minisign signature' "$FVM" verify data --pub plain.pub -x data
refused garbage_pubkey_refused 'not a minisign public key' "$FVM" verify data --pub data
cp plain.key open.key; chmod 644 open.key
refused key_readable_by_others_refused 'group or others may access it' "$FVM" sign data --key open.key -x o.minisig
[ ! -e o.minisig ] && ok nothing_signed_with_open_key || not_ok nothing_signed_with_open_key "o.minisig written"

# --- the feed ---
check feed_sample_written "$FT" sample feed.xml data.minisig
out=$("$PY" - feed.xml <<'PYEOF' 2>&1
import sys, feedparser
d = feedparser.parse(open(sys.argv[1], 'rb').read())
assert not d.bozo, d.bozo_exception
assert d.version == 'rss20', d.version
assert d.feed.title == 'demo feed'
for e, v in zip(d.entries, (3, 2, 1)):
    assert e.id == 'v%d' % v, e.id
    assert e.title == 'demo v%d <&> "quoted"' % v, e.title
    assert e.published_parsed is not None
    enc = e.enclosures[0]
    assert enc.type == 'application/vnd.oci.image.layer.v1.tar+gzip'
    assert enc.length == str(1000 * v), enc.length
    assert enc.href.endswith('%064x' % v), enc.href
    assert e.fvm_version == str(v)
print(len(d.entries))
PYEOF
)
[ "$out" = 3 ] && ok feedparser_reads_each_version_with_enclosure || not_ok feedparser_reads_each_version_with_enclosure "$out"
out=$("$FT" dump feed.xml 2>&1)
grep -q '^item 3 .*changes=3/2/1/300 .*length=3000 layers=3$' <<< "$out" && grep -q '^sequence 7$' <<< "$out" &&
	ok feed_parses_back || not_ok feed_parses_back "$out"
"$FT" rewrite feed.xml feed2.xml && cmp -s feed.xml feed2.xml && ok feed_rewrite_identical || not_ok feed_rewrite_identical "$(diff feed.xml feed2.xml)"
# hostile or broken feeds
sed 's/<?xml version="1.0" encoding="UTF-8"?>/&\n<!DOCTYPE rss [<!ENTITY x "y">]>/' feed.xml > bad-dtd.xml
refused feed_dtd_refused 'DTD' "$FT" dump bad-dtd.xml
sed '0,/digest="sha256:0*1"/s//digest="sha256:..\/..\/etc\/passwd"/' feed.xml > bad-digest.xml
refused feed_bad_digest_refused 'digest is not sha256' "$FT" dump bad-digest.xml
sed 's/<fvm:version>1</<fvm:version>5</; s/>v1</>v5</' feed.xml > bad-order.xml
refused feed_versions_out_of_order_refused 'newest first' "$FT" dump bad-order.xml
sed 's/length="3000"/length="3"/' feed.xml > bad-enc.xml
refused feed_enclosure_not_top_layer_refused "enclosure's length" "$FT" dump bad-enc.xml
sed '0,/RURYduI4/s//XXXXduI4/' feed.xml > bad-sig.xml
sed -i '0,/^RU[A-Za-z0-9+\/=]*$/s//RUgarbage/' bad-sig.xml
refused feed_bad_signature_refused 'its signature' "$FT" dump bad-sig.xml
head -c 500 feed.xml > truncated.xml
refused feed_truncated_refused 'not well-formed' "$FT" dump truncated.xml
sed 's/<fvm:sequence>7</<fvm:sequence>-7</' feed.xml > bad-seq.xml
refused feed_bad_sequence_refused 'sequence> is not a decimal' "$FT" dump bad-seq.xml
done_testing
