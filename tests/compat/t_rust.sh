#!/usr/bin/env bash
# Compatibility: Rust, with Debian's rustc and cargo (make deps). A program built by
# rustc (file I/O, metadata, symlinks, read_dir, create_dir_all, rename, copy,
# remove_dir_all, current_dir, process::Command) run natively and in a VM; rustc itself
# in a VM; cargo build --offline and cargo test --offline of a crate without
# dependencies on the host tree, target/ written into the VM. Rust's std probes
# statx(0, NULL, 0, mask, NULL) at every start: before libfvm kept its NULL checks
# every one of these crashed in a VM (SIGSEGV).
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
SRC=$TOP/tests/compat/rust

# Debian's toolchain, by full path: a rustup in the caller's PATH is not what is tested,
# and the test user has none.
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
CARGO=/usr/bin/cargo
if [ ! -x "$RUSTC" ] || [ ! -x "$CARGO" ]; then
	for t in rust_program_runs_as_natively rust_program_exit_status rustc_builds_in_vm \
		cargo_build_offline cargo_test_offline; do
		skip "$t" "Debian's rustc and cargo are not installed (make deps)"
	done
	done_testing
	exit
fi
# cargo's own cache, outside the compared tree; a fresh one per run of this file.
export CARGO_HOME=$T/cargo-home CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
export PATH=/usr/bin:/bin:$PATH

mkdir -p "$HOST/data/tree/a/b" "$HOST/crate"
echo "host text" > "$HOST/data/host.txt"
echo leaf > "$HOST/data/tree/a/b/leaf"
ln -s host.txt "$HOST/data/link"
cp "$SRC/fsprog.rs" "$HOST/fsprog.rs"
cp -r "$SRC/tiny/." "$HOST/crate/"
# Built natively, before the checks: the binary is part of the host tree.
if ! out=$("$RUSTC" -O -o "$HOST/fsprog" "$HOST/fsprog.rs" 2>&1); then
	not_ok rust_program_builds_natively "$out"
	done_testing
	exit
fi

vm_check rust_program_runs_as_natively "./fsprog"
vm_check_fails rust_program_exit_status "./fsprog exit-3"
# rustc's output embeds nothing of the run, but keep its bytes out of the comparison.
VOLATILE='^\./fsprog2$' vm_check rustc_builds_in_vm \
	"$RUSTC -o fsprog2 fsprog.rs && ./fsprog2"

# cargo: timings and target/'s bookkeeping (fingerprints, dep-info) differ run to run.
strip_times='sed -E "s/(finished in|in) [0-9.]+m?s/\\1 T/"'
VOLATILE='^\./crate/target/' vm_check cargo_build_offline \
	"set -o pipefail; cd crate && $CARGO build --offline 2>&1 | $strip_times && ./target/debug/tiny"
VOLATILE='^\./crate/target/' vm_check cargo_test_offline \
	"set -o pipefail; cd crate && $CARGO test --offline -- --test-threads=1 2>&1 | $strip_times"

done_testing
