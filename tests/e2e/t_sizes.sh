#!/usr/bin/env bash
# Sizes for people (issue 20): fvm list, info and snapshots print sizes as ls -lh does
# (libbsd's humanize_number: 66B, 4.9K, 1.9M), exact with --bytes; snapshots --json. The
# host tree is unchanged.
. "$(dirname "$0")/../lib/harness.sh"

echo data > "$HOST/existing"
snapshot_host
(cd "$HOST" && "$FVM_EXEC" -n s -- sh -c 'head -c 5002 /dev/zero > five' && "$FVM" snapshot s one > /dev/null &&
	"$FVM_EXEC" -n s -- sh -c 'head -c 2000000 /dev/zero > two') > "$T/setup" 2>&1 || not_ok setup "$(cat "$T/setup")"
same() { [ "$2" = "$3" ] && ok "$1" || not_ok "$1" "want [$2]" "got  [$3]"; }

same list_size_human "1.9M" "$("$FVM" list | awk '$1 == "s" { print $4 }')"
same list_size_bytes "2000000" "$("$FVM" list --bytes | awk '$1 == "s" { print $4 }')"
same list_header_human "SIZE" "$("$FVM" list | awk 'NR == 1 { print $4 }')"
same list_header_bytes "BYTES" "$("$FVM" list --bytes | awk 'NR == 1 { print $4 }')"
same list_json_exact "2000000" "$("$FVM" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["bytes"])')"
same info_upper_human "1.9M" "$("$FVM" info s | sed -n 's/^upper: .* entries, //p')"
same info_upper_bytes "2000000 bytes" "$("$FVM" info s --bytes | sed -n 's/^upper: .* entries, //p')"
same snapshots_sizes_human "4.9K 1.9M" "$("$FVM" snapshots s | awk 'NR > 1 { print $(NF - 3) }' | tr '\n' ' ' | sed 's/ $//')"
same snapshots_sizes_bytes "5002 2000000" "$("$FVM" snapshots s --bytes | awk 'NR > 1 { print $(NF - 3) }' | tr '\n' ' ' | sed 's/ $//')"
same snapshots_json "one 5002 True|None 2000000 False" "$("$FVM" snapshots s --json | python3 -c '
import json, sys
print("|".join("%s %d %s" % (r["label"], r["bytes"], r["layer"] is not None) for r in json.load(sys.stdin)))')"
"$FVM" snapshots s --bogus > /dev/null 2> "$T/err"
same snapshots_usage_error_is_2 "2 see fvm snapshots --help" "$? $(tail -1 "$T/err")"
host_unchanged > "$T/why" && ok host_tree_unchanged || not_ok host_tree_unchanged "$(cat "$T/why")"
done_testing
