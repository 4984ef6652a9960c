# fuzz.mk — `make fuzz`: clang's libFuzzer on every parser of untrusted input. Included
# by the Makefile, after its source lists.
#
#   make fuzz                   each target of tests/fuzz for FUZZ_SECONDS (default 30)
#   make fuzz FUZZ_SECONDS=60   longer
#   make fuzz FUZZ_TARGETS=path only these (names after fuzz_)
#   make fuzz-bin               build the targets only ($(FUZZ_B)/fuzz_NAME)
#
# tests/fuzz/fuzz_NAME.c drives the function the tools and libfvm call, built with
# ASan and UBSan (UB is fatal). tests/fuzz/corpus/NAME/ holds the seeds and every input
# that ever crashed: each run replays all of them first. New inputs found during a run
# go to a temporary directory and are dropped: the committed corpus changes by hand
# only. A crash leaves its input in $(FUZZ_B)/crashes/NAME/ and fails the run; fix the
# code, then add the input to the corpus. Replay one input: $(FUZZ_B)/fuzz_NAME FILE.

FUZZ_B := build-fuzz
FUZZ_CC := clang
FUZZ_SECONDS ?= 30
FUZZ_DEPS := clang libclang-rt-14-dev
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The project's flags and the core's NULL checks kept, as in PIC_CFLAGS (whose
# -Wno-nonnull-compare is GCC's only).
FUZZ_CFLAGS := $(BASE_CFLAGS) -fno-delete-null-pointer-checks \
	$(TOOL_CFLAGS) $(OCI_CFLAGS) $(CAST_CFLAGS) -g -O1 $(FUZZ_SAN)

# The code under test, from the main Makefile's lists: the one place to adapt when they
# move. The core, the store library and the runner's configuration (its main() is
# libFuzzer's here); the targets link one archive, so each takes only what it needs.
FUZZ_LIB_SRC := $(CORE_SRC) $(STORE_SRC) $(filter-out fvm-exec/run/main.c,$(RUN_SRC))

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_ALL := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BIN := $(FUZZ_ALL:%=$(FUZZ_B)/fuzz_%)
FUZZ_LIB := $(FUZZ_B)/libfvmfuzz.a

# The longest input worth trying, per target: a few lines of a control file; paths a
# little over PATH_MAX, to cross its limits.
FUZZ_MAXLEN_config  := 4096
FUZZ_MAXLEN_origins := 8192
FUZZ_MAXLEN_journal := 4096
FUZZ_MAXLEN_ipcreg  := 8192
FUZZ_MAXLEN_path    := 4200
FUZZ_MAXLEN_resolve := 4200
FUZZ_MAXLEN_ocitar  := 32768
FUZZ_MAXLEN_ocijson := 8192
FUZZ_MAXLEN_minikey := 1024
FUZZ_MAXLEN_minisig := 2048
FUZZ_MAXLEN_feed    := 16384
FUZZ_MAXLEN_trace   := 16384

$(FUZZ_B)/%.o: %.c
	$(call msg,CC-FUZZ,$<)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_SRC:%.c=$(FUZZ_B)/%.o)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(call msg,LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -ldl $(BSD_LIBS) $(SECCOMP_LIBS) $(OCI_LIBS) $(CAST_LIBS)

fuzz-deps:
	@$(MAKE) --no-print-directory deps DEPS="$(DEPS) $(FUZZ_DEPS)"

fuzz-bin: $(FUZZ_BIN)
.SECONDARY: $(FUZZ_SRC:%.c=$(FUZZ_B)/%.o)

# Each target: the corpus replayed, then FUZZ_SECONDS of fuzzing. The output is kept in
# $(FUZZ_B)/log/NAME; a failing target's tail is printed. One line per target, and one
# summary line; non-zero when any target failed.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-bin
	@failed=0; \
	for tm in $(foreach t,$(FUZZ_TARGETS),$(t):$(or $(FUZZ_MAXLEN_$(t)),4096)); do \
		t=$${tm%%:*}; \
		new=$$(mktemp -d "$${TMPDIR:-/tmp}/fvm-fuzz-new.XXXXXX"); \
		mkdir -p $(FUZZ_B)/crashes/$$t $(FUZZ_B)/log; \
		start=$$(date +%s); \
		$(FUZZ_B)/fuzz_$$t $$new tests/fuzz/corpus/$$t -max_total_time=$(FUZZ_SECONDS) \
			-max_len=$${tm#*:} \
			-timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_B)/crashes/$$t/ > $(FUZZ_B)/log/$$t 2>&1; \
		rc=$$?; rm -rf $$new; \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_B)/log/$$t); \
		if [ $$rc = 0 ]; then \
			echo "fuzz $$t: ok, $${runs:-?} runs in $$(( $$(date +%s) - start )) s"; \
		else \
			failed=$$((failed + 1)); \
			echo "fuzz $$t: FAILED (exit $$rc) after $$(( $$(date +%s) - start )) s:"; \
			sed -n '/invariant broken\|ERROR: \|runtime error: /,$$p' $(FUZZ_B)/log/$$t | \
				grep -av 'fuzzer::\|__libc_start\| _start \|^INFO\|^stat::\|^NOTE\|^  *Combine\|^0x\|^Base64\|^MS: ' | \
				head -40 | sed 's/^/    /'; \
		fi; \
	done; \
	echo "fuzz: $(words $(FUZZ_TARGETS)) targets, $$failed failed"; \
	[ $$failed = 0 ]

clean: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_B)
.PHONY: fuzz fuzz-bin fuzz-deps clean-fuzz

-include $(shell find $(FUZZ_B) -name '*.d' 2>/dev/null)
