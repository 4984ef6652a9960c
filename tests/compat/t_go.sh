#!/usr/bin/env bash
# Compatibility: Go, with Debian's golang-go (make deps). go build and go test of a small
# module (tests/compat/go/hello) with CGO_ENABLED=0 and =1, offline (GOPROXY=off,
# GOFLAGS=-mod=mod, GOCACHE and GOPATH in the scratch directory), in a VM and natively;
# and the programs built natively, run in a VM. Go makes its system calls itself, not
# through libc (even a cgo program's package os), so libfvm never sees them.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
SRC=$TOP/tests/compat/go/hello

GO=$(command -v go || true)
if [ -z "$GO" ]; then
	for t in go_program_runs_as_natively go_program_exit_status go_cgo_program_runs_as_natively \
		go_build_cgo0 go_build_cgo1 go_test_cgo0 go_test_cgo1; do
		skip "$t" "go is not installed (make deps: golang-go)"
	done
	done_testing
	exit
fi
# Offline and inside the scratch directory: the build cache is filled natively first
# (below), so that the VM's builds and the native ones find it warm alike.
export GOPROXY=off GOFLAGS=-mod=mod GOCACHE=$T/go-cache GOPATH=$T/go-path \
	GOTOOLCHAIN=local GOTELEMETRY=off GO111MODULE=on GOENV=off
mkdir -p "$HOST/mod"
cp -r "$SRC/." "$HOST/mod/"
if ! out=$(cd "$HOST/mod" && CGO_ENABLED=0 "$GO" build -o ../hello0 . 2>&1 &&
	CGO_ENABLED=1 "$GO" build -o ../hello1 . 2>&1); then
	not_ok go_builds_natively "$out"
	done_testing
	exit
fi

# Go's raw system calls: unseen by libfvm; the supervisor virtualizes most of them
# (virtguard.c), in root runs too.
WARN=
CGO_RUN=
# go test and a cgo build chdir into the work directory only the VM has and exec the
# programs they built there: both are made by the supervisor for Go's thread
# (virtguard.c chdir_by_trace, exec_by_trace).

TODO=$WARN vm_check go_program_runs_as_natively "./hello0"
TODO=$WARN vm_check_fails go_program_exit_status "./hello0 exit-3"
TODO=$CGO_RUN vm_check go_cgo_program_runs_as_natively "./hello1"

# go's own output: times of go test; the binaries' bytes (build IDs) are kept apart.
strip_times='sed -E "s/[0-9]+\\.[0-9]+s/T/g"'
TODO=$WARN VOLATILE='^\./mod/hello$' vm_check go_build_cgo0 \
	"set -o pipefail; cd mod && CGO_ENABLED=0 $GO build -o hello . 2>&1 && ./hello"
VOLATILE='^\./mod/hello$' vm_check go_build_cgo1 \
	"set -o pipefail; cd mod && CGO_ENABLED=1 $GO build -o hello . 2>&1 && ./hello"
vm_check go_test_cgo0 \
	"set -o pipefail; cd mod && CGO_ENABLED=0 $GO test -count=1 ./... 2>&1 | $strip_times"
vm_check go_test_cgo1 \
	"set -o pipefail; cd mod && CGO_ENABLED=1 $GO test -count=1 ./... 2>&1 | $strip_times"

done_testing
