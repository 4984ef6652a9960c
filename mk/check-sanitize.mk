# check-sanitize.mk — `make check-sanitize`: the unit tests and the tools under ASan and
# UBSan. Included by the Makefile, after its source lists.
#
#   make check-sanitize   builds into $(SAN_B)/ and runs tests/run-sanitize: every unit
#                         test, then the e2e suite with fvm-exec and fvm taken from
#                         $(SAN_B)/fvm-exec (FVM_TOOLS_DIR, tests/lib/harness.sh). Ends
#                         with one summary line; non-zero on a failure or on any
#                         sanitizer report (UB is fatal: -fno-sanitize-recover).
#
# Coverage: libfvm.so itself is not sanitized. ASan's runtime must be the first library
# of a process, which a library preloaded into arbitrary programs cannot be. The core it
# is built from (libfvm/core) is covered all the same: the unit tests and both tools link
# the same sources, sanitized here.

SAN_B := build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
# -O1 with the instrumentation makes GCC guess -Wformat-truncation where -O2 does not.
SAN_OPT := -O1 -g -Wno-format-truncation

# The sources, from the main Makefile's lists: the one place to adapt when they move.
# As in the ordinary build, the tools link two archives: the store's, then the core's.
SAN_CORE_SRC   := $(CORE_SRC)
SAN_STORE_SRC  := $(STORE_SRC)
SAN_RUN_SRC    := $(RUN_SRC)
SAN_MANAGE_SRC := $(MANAGE_SRC)
SAN_UNIT_SRC   := $(UNIT_SRC)

SAN_CORE_LIB  := $(SAN_B)/libfvmcore.a
SAN_STORE_LIB := $(SAN_B)/libfvmstore.a
SAN_UNIT := $(SAN_UNIT_SRC:tests/unit/%.c=$(SAN_B)/tests/unit/%)
SAN_TOOLS := $(SAN_B)/fvm-exec/fvm-exec $(SAN_B)/fvm-exec/fvm
# The tools find libfvm.so beside them (../libfvm/libfvm.so): the ordinary one.
SAN_SO_LINK := $(SAN_B)/libfvm/libfvm.so

$(SAN_B)/%.o: %.c
	$(call msg,CC-SAN,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PIC_CFLAGS) $(PART_CFLAGS) $(SAN_OPT) $(SAN_FLAGS) -c -o $@ $<

$(foreach s,$(SAN_RUN_SRC) $(SAN_MANAGE_SRC) $(SAN_STORE_SRC),$(SAN_B)/$(s:.c=.o)): \
	PART_CFLAGS := $(TOOL_CFLAGS)
$(foreach s,$(SAN_RUN_SRC),$(SAN_B)/$(s:.c=.o)): PART_CFLAGS += $(SECCOMP_CFLAGS)
$(foreach s,$(SAN_MANAGE_SRC) $(SAN_STORE_SRC),$(SAN_B)/$(s:.c=.o)): PART_CFLAGS += $(CAST_CFLAGS)

$(SAN_CORE_LIB): $(SAN_CORE_SRC:%.c=$(SAN_B)/%.o)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SAN_STORE_LIB): $(SAN_STORE_SRC:%.c=$(SAN_B)/%.o)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SAN_B)/fvm-exec/fvm-exec: $(SAN_RUN_SRC:%.c=$(SAN_B)/%.o) $(SAN_STORE_LIB) $(SAN_CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ -ldl $(BSD_LIBS) $(SECCOMP_LIBS) $(LDFLAGS)

$(SAN_B)/fvm-exec/fvm: $(SAN_MANAGE_SRC:%.c=$(SAN_B)/%.o) $(CONFIG_OBJ:$(B)/%=$(SAN_B)/%) $(SAN_STORE_LIB) $(SAN_CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ -ldl $(BSD_LIBS) $(OCI_LIBS) $(CAST_LIBS) $(LDFLAGS)

# A unit test of a part's own object names it, as in the Makefile.
$(SAN_B)/tests/unit/%: tests/unit/%.c $(SAN_STORE_LIB) $(SAN_CORE_LIB)
	$(call msg,CC-SAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(TOOL_CFLAGS) $(SAN_OPT) $(SAN_FLAGS) -o $@ $< $(filter %.o,$^) \
		$(SAN_STORE_LIB) $(SAN_CORE_LIB) -lcmocka -ldl $(BSD_LIBS) $(OCI_LIBS)
$(SAN_B)/tests/unit/test_json: $(SAN_B)/fvm-exec/manage/json.o

$(SAN_SO_LINK):
	@mkdir -p $(dir $@)
	$(Q)ln -sfn ../../$(SO) $@

sanitize-bin: $(SAN_TOOLS) $(SAN_UNIT) $(SAN_SO_LINK)
.PHONY: sanitize-bin check-sanitize

# The e2e suite needs the ordinary build too: libfvm.so and the test helpers.
check-sanitize: deps
	@$(MAKE) --no-print-directory all tests-bin sanitize-bin
	@SAN_B=$(SAN_B) tests/run-sanitize

-include $(shell find $(SAN_B) -name '*.d' 2>/dev/null)

clean: clean-sanitize
clean-sanitize:
	rm -rf $(SAN_B)
.PHONY: clean-sanitize
