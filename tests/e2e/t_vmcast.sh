#!/usr/bin/env bash
# VMcasting, first part (issue 18): fvm keygen, fvm sign, fvm verify in minisign's
# formats, checked both ways against Debian's minisign (prehashed ED and legacy Ed,
# encrypted and plain keys); the refusals are distinct (wrong key, changed file, changed
# trusted comment, wrong passphrase, a secret key others may read); the feed module
# (tests/helpers/feed-tool) writes RSS 2.0 that python3-feedparser reads as one item
# per version with its enclosure, parses back what it wrote, and refuses a DTD, a bad
# digest, versions out of order. fvm publish writes three versions of a VM (add, modify,
# delete, an opaque directory) as a feed minisign and feedparser accept, content-
# addressed blobs each signed, the sequence rising; a wrong passphrase or nothing new
# changes nothing; --refresh renews only the sequence and validity; --successor announces
# the next key, signed by the current one. fvm keygen without -o writes to the store's
# key directory, which no VM sees. The host is checked unchanged. Root and user alike.
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
grep -q '^untrusted comment: minisign public key [0-9A-F]\{1,16\}$' plain.pub && ok pub_comment_as_minisign ||
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
refused wrong_key_refused 'wrong key: signed by key [0-9A-F]{1,16}' "$FVM" verify data --pub mini.pub
cp data tampered; echo x >> tampered; cp data.minisig tampered.minisig
refused tampered_file_refused 'not what key [0-9A-F]{1,16} signed' "$FVM" verify tampered --pub plain.pub
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

# --- fvm publish ---
mkdir -p "$HOST/etc" "$HOST/opq"; echo base > "$HOST/etc/conf"; echo gone > "$HOST/etc/old"
echo o1 > "$HOST/opq/o1"; echo o2 > "$HOST/opq/o2"
snapshot_host
FEED=$T/feed
pub() { "$FVM" publish pv --feed "$FEED" --key "$K/plain.key" --base-url http://127.0.0.1:8000/ "$@"; }
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v1 > added1; echo more >> etc/conf') > /dev/null 2>&1
check publish_v1 pub --title "pv feed" --notes "first release & notes"
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'rm etc/old; rm -rf opq; mkdir opq; echo n > opq/new') > /dev/null 2>&1
check publish_v2 pub
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v3 > added3; echo again >> etc/conf') > /dev/null 2>&1
check publish_v3 pub
host_unchanged > "$T/why" && ok publish_leaves_host_unchanged || not_ok publish_leaves_host_unchanged "$(cat "$T/why")"
check minisign_verifies_the_feed minisign -V -H -p "$K/plain.pub" -m "$FEED/feed.xml"
grep -q 'fvm feed sequence 3' "$FEED/feed.xml.minisig" && ok feed_signature_names_sequence ||
	not_ok feed_signature_names_sequence "$(cat "$FEED/feed.xml.minisig")"
bad=
for b in "$FEED"/blobs/sha256/*; do
	case $b in *.minisig) continue ;; esac
	[ "$(sha256sum < "$b" | cut -c1-64)" = "$(basename "$b")" ] || bad="$bad digest:$b"
	minisign -Vq -H -p "$K/plain.pub" -m "$b" || bad="$bad sig:$b"
	"$FVM" verify "$b" --pub "$K/plain.pub" -q || bad="$bad fvmsig:$b"
done
nblobs=$(ls "$FEED/blobs/sha256" | grep -vc minisig)
[ -z "$bad" ] && [ "$nblobs" = 3 ] && ok blobs_content_addressed_and_signed || not_ok blobs_content_addressed_and_signed "$nblobs blobs;$bad"
out=$("$FT" dump "$FEED/feed.xml" 2>&1)
if grep -q '^sequence 3$' <<< "$out" && grep -q '^item 3 .* layers=3$' <<< "$out" &&
	grep -q '^item 2 .*changes=1/0/3/.* layers=2$' <<< "$out" && grep -q '^item 1 .* layers=1$' <<< "$out" &&
	grep -q '^title pv feed$' <<< "$out"; then ok published_feed_parses; else not_ok published_feed_parses "$out"; fi
out=$("$PY" - "$FEED/feed.xml" "$FEED" <<'PYEOF' 2>&1
import sys, os, feedparser
d = feedparser.parse(open(sys.argv[1], 'rb').read())
assert not d.bozo, d.bozo_exception
assert [e.id for e in d.entries] == ['v3', 'v2', 'v1'], [e.id for e in d.entries]
for e in d.entries:
    enc = e.enclosures[0]
    name = enc.href.rsplit('/', 1)[1]
    assert enc.href.startswith('http://127.0.0.1:8000/blobs/sha256/'), enc.href
    assert int(enc.length) == os.path.getsize(os.path.join(sys.argv[2], 'blobs/sha256', name))
assert 'first release & notes' in d.entries[2].description, d.entries[2].description
print('ok')
PYEOF
)
[ "$out" = ok ] && ok feedparser_reads_published_feed || not_ok feedparser_reads_published_feed "$out"
# A --base-url without its last slash names the same directory (the enclosure was
# "http://host/subblobs/..." before).
"$FVM" publish pv --feed "$T/feed-noslash" --key "$K/plain.key" --base-url http://127.0.0.1:8000/sub > /dev/null 2>&1
grep -q 'enclosure url="http://127.0.0.1:8000/sub/blobs/sha256/[0-9a-f]\{64\}"' "$T/feed-noslash/feed.xml" &&
	ok base_url_without_slash_joins_with_one || not_ok base_url_without_slash_joins_with_one "$(grep enclosure "$T/feed-noslash/feed.xml")"
# the top blob of v1 is an OCI layer fvm import takes
top1=$("$FT" dump "$FEED/feed.xml" | awk '/^item 1 /{f=1; next} f && /layer/{print substr($2, 8); exit}')
FVM_HOME=$T/store2 "$FVM" import got "$FEED/blobs/sha256/$top1" > /dev/null 2>&1
out=$(FVM_HOME=$T/store2 "$FVM" diff got 2>&1)
grep -q "A $HOST/added1" <<< "$out" && grep -q "M $HOST/etc/conf" <<< "$out" && ok v1_blob_imports ||
	not_ok v1_blob_imports "$out"
cp "$FEED/feed.xml" "$T/feed.before"
check publish_refresh "$FVM" publish --refresh --feed "$FEED" --key "$K/plain.key" --valid-days 30
out=$("$FT" dump "$FEED/feed.xml" 2>&1)
until=$(sed -n 's/^valid_until //p' <<< "$out")
if grep -q '^sequence 4$' <<< "$out" && grep -q '^items 3$' <<< "$out" &&
	[ "$until" -gt $(( $(date +%s) + 29 * 86400 )) ] &&
	minisign -Vq -p "$K/plain.pub" -m "$FEED/feed.xml" &&
	diff <(grep -v 'sequence\|validUntil\|lastBuildDate' "$T/feed.before") \
	     <(grep -v 'sequence\|validUntil\|lastBuildDate' "$FEED/feed.xml") > /dev/null
then ok refresh_renews_sequence_and_validity_only; else not_ok refresh_renews_sequence_and_validity_only "$out"; fi
# key rotation: the successor key announced in the feed, signed by the current key
check publish_refresh_successor "$FVM" publish --refresh --feed "$FEED" --key "$K/plain.key" --successor "$K/mini.pub"
out=$("$FT" dump "$FEED/feed.xml" 2>&1)
grep -q "^successor $(sed -n 's/.*public key //p' "$K/mini.pub")$" <<< "$out" && grep -q '^sequence 5$' <<< "$out" &&
	ok feed_announces_successor || not_ok feed_announces_successor "$out"
"$PY" - "$FEED/feed.xml" "$T" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
ns = {'fvm': 'urn:fvm:vmcast:1'}
s = ET.parse(sys.argv[1]).getroot().find('channel/fvm:successor', ns)
open(sys.argv[2] + '/succ.pub', 'w').write(s.find('fvm:publicKey', ns).text)
open(sys.argv[2] + '/succ.pub.minisig', 'w').write(s.find('fvm:signature', ns).text)
PYEOF
cmp -s "$T/succ.pub" "$K/mini.pub" && minisign -Vq -p "$K/plain.pub" -m "$T/succ.pub" &&
	ok successor_key_signed_by_current_key || not_ok successor_key_signed_by_current_key "$(cat "$T/succ.pub.minisig")"
cp "$FEED/feed.xml" "$T/feed.before"
refused publish_nothing_new_refused 'nothing new since version 3' pub
(cd "$HOST" && "$FVM_EXEC" -n pv -- sh -c 'echo v4 > added4') > /dev/null 2>&1
cp "$K/enc.key" "$K/enc2.key"
refused publish_wrong_passphrase_refused 'wrong passphrase' env FVM_PASSPHRASE_FD=3 \
	"$FVM" publish pv --feed "$FEED" --key "$K/enc2.key" 3<<< "nope"
cmp -s "$FEED/feed.xml" "$T/feed.before" && [ -e "$FVM_HOME/vms/pv/upper$HOST/added4" ] &&
	ok refused_publish_changes_nothing || not_ok refused_publish_changes_nothing "$(ls "$FVM_HOME/vms/pv/upper$HOST")"

# The default key directory: $FVM_HOME/keys (0700), hidden from every VM with the store
# (static programs included); a --key or --pub that names no file is found there.
check keygen_default "$FVM" keygen --no-passphrase
[ "$(stat -c %a "$FVM_HOME/keys")" = 700 ] && [ "$(stat -c %a "$FVM_HOME/keys/fvm.key")" = 600 ] &&
	[ -f "$FVM_HOME/keys/fvm.pub" ] && ok default_keys_in_store_key_dir || not_ok default_keys_in_store_key_dir "$(ls -la "$FVM_HOME/keys")"
out=$("$FVM_EXEC" -n kv -- sh -c "cat $FVM_HOME/keys/fvm.key; ls $FVM_HOME/keys" 2>&1)
grep -q 'No such file' <<< "$out" && ! grep -q 'secret key' <<< "$out" && ok default_key_dir_hidden_from_vm ||
	not_ok default_key_dir_hidden_from_vm "$out"
if BB=$(command -v busybox) && file -L "$BB" 2>/dev/null | grep -q static; then
	out=$("$FVM_EXEC" -n kv -- "$BB" cat "$FVM_HOME/keys/fvm.key" 2>&1)
	grep -q 'secret key' <<< "$out" && not_ok default_key_dir_hidden_from_static_program "$out" ||
		ok default_key_dir_hidden_from_static_program
fi
echo signed > "$T/signed"
check sign_with_key_of_key_dir "$FVM" sign "$T/signed" --key fvm
check verify_with_pub_of_key_dir "$FVM" verify "$T/signed" --pub fvm
done_testing
