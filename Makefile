# fvm — featherweight virtual machines for Linux. One GNU Makefile (STYLE.md "Build").
#
#   make              libfvm/libfvm.so, fvm-exec/fvm-exec, fvm-exec/fvm
#   make check        every test suite; ends with "N passed, N failed"
#   make compat       the compatibility suite alone, with its table of scenarios
#   make conformance  pjdfstest natively and in a VM, as root (tests/conformance/run);
#                     its source: ../shared/pjdfstest or PJDFSTEST_SRC
#   make golden-update rewrites the golden files of tests/e2e from the current output
#   make demo         a short demonstration of the main job
#   make check-sanitize  unit and e2e tests with the tools under ASan+UBSan (mk/)
#   make fuzz         each libFuzzer target for FUZZ_SECONDS (default 30) (mk/)
#   make deps         the Debian packages needed to build and test
#   make install      PREFIX (default /usr/local), DESTDIR; libfvm.so, libfvm-audit.so and
#                     fvm-pieload (x86-64) in PREFIX/lib/fvm
#   make deb          fvm_VERSION_ARCH.deb (debian/, debhelper), then lintian on it
#   WERROR=1          warnings are errors (CI);  V=1  show commands

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib/fvm
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
DOCDIR  ?= $(PREFIX)/share/doc/fvm
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
VERSION := 0.1.0

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wswitch-enum
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
BSD_CFLAGS := $(shell pkg-config --cflags libbsd-overlay 2>/dev/null)
BSD_LIBS   := $(shell pkg-config --libs libbsd-overlay 2>/dev/null)
# libseccomp builds the fence's filter; only fvm-exec links it.
SECCOMP_CFLAGS := $(shell pkg-config --cflags libseccomp 2>/dev/null)
SECCOMP_LIBS   := $(shell pkg-config --libs libseccomp 2>/dev/null)
# fvm export/import (store/oci*.c): libarchive for the tar, libcrypto for the digests,
# jansson for the OCI JSON. Only fvm (and the tests and fuzz targets) link them.
OCI_CFLAGS := $(shell pkg-config --cflags libarchive libcrypto jansson 2>/dev/null)
OCI_LIBS   := $(shell pkg-config --libs libarchive libcrypto jansson 2>/dev/null)
# VMcasting (store/minisign.c, store/feed.c): libsodium for the minisign keys and
# signatures, libxml2 for the feed, libcurl for fvm pull. Only fvm (and the fuzz
# targets) link them.
CAST_CFLAGS := $(shell pkg-config --cflags libsodium libxml-2.0 libcurl 2>/dev/null)
CAST_LIBS   := $(shell pkg-config --libs libsodium libxml-2.0 libcurl 2>/dev/null)

BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARNINGS) -MMD -MP \
	-DFVM_VERSION='"$(VERSION)"' -DFVM_LIBDIR='"$(LIBDIR)"' \
	-DFVM_SYSCONFDIR='"$(SYSCONFDIR)"'
# Thread-local variables through TLS descriptors where the compiler has them (x86-64):
# libfvm reads its per-thread page cache on every wrapped call, and a descriptor of a
# preloaded library (static TLS) costs a few instructions where __tls_get_addr costs
# ~40; a dlopen (fvm-exec loads libfvm so) still works, unlike initial-exec.
TLS_CFLAGS := $(if $(filter x86_64%,$(shell $(CC) -dumpmachine)),-mtls-dialect=gnu2)
# The core is built position-independent once, for libfvm.so and the tools alike.
# libfvm keeps its NULL checks although glibc declares the arguments nonnull: a
# program passing NULL must get EFAULT, as from the kernel, not a crash. GCC folds
# `!vpath` to false on a parameter declared nonnull even with
# -fno-delete-null-pointer-checks, so glibc's headers are read without the attribute.
# -ffunction-sections: libfvm.so's link puts its hot functions first (libfvm/hot.list).
PIC_CFLAGS := $(BASE_CFLAGS) -fPIC -fvisibility=hidden -Wno-nonnull-compare -ffunction-sections \
	-fno-delete-null-pointer-checks '-D__nonnull(params)=' '-D__attribute_nonnull__(params)=' \
	$(TLS_CFLAGS)

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

.DELETE_ON_ERROR:
.PHONY: all check unit demo deps install uninstall clean bench compat conformance deb

B := build
CORE_SRC := $(wildcard libfvm/core/*.c)
LIB_SRC  := $(wildcard libfvm/*.c)
# The tools (fvm-exec/README.md): the runner, the manager, and the store library both
# link; each binary takes from the archives only the objects it uses.
RUN_SRC    := $(wildcard fvm-exec/run/*.c)
MANAGE_SRC := $(wildcard fvm-exec/manage/*.c)
STORE_SRC  := $(wildcard fvm-exec/store/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
HELPER_SRC := $(wildcard tests/helpers/*.c)

CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
RUN_OBJ    := $(RUN_SRC:%.c=$(B)/%.o)
MANAGE_OBJ := $(MANAGE_SRC:%.c=$(B)/%.o)
STORE_OBJ  := $(STORE_SRC:%.c=$(B)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(B)/tests/helpers/%)

CORE_LIB := $(B)/libfvmcore.a
STORE_LIB := $(B)/libfvmstore.a
SO       := libfvm/libfvm.so
AUDIT_SO := libfvm/libfvm-audit.so
DET_SO   := libfvm/libfvm-det.so
# fvm-pieload, on x86-64 only (below)
PIELOAD := $(if $(filter x86_64%,$(shell $(CC) -dumpmachine)),libfvm/fvm-pieload)
MAP      := $(B)/libfvm.map
TOOLS    := fvm-exec/fvm-exec fvm-exec/fvm

all: $(SO) $(AUDIT_SO) $(DET_SO) $(PIELOAD) $(TOOLS)

$(B)/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PIC_CFLAGS) $(PART_CFLAGS) $(CFLAGS) -c -o $@ $<

# The tools' own headers live beside their part: "store/commit.h", "manage/json.h".
TOOL_CFLAGS := -Ifvm-exec
$(RUN_OBJ) $(MANAGE_OBJ) $(STORE_OBJ): PART_CFLAGS := $(TOOL_CFLAGS)
$(RUN_OBJ): PART_CFLAGS += $(SECCOMP_CFLAGS)
$(STORE_OBJ) $(MANAGE_OBJ): PART_CFLAGS += $(OCI_CFLAGS) $(CAST_CFLAGS)

# The list of wrapped symbols is the version script: exactly these names are exported.
$(MAP): libfvm/wrapped.list
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q){ echo '{ global:'; sed -n 's/^FVM_SYM(\([A-Za-z0-9_]*\),.*/  \1;/p' $<; \
	      echo 'local: *; };'; } > $@

$(CORE_LIB): $(CORE_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(STORE_LIB): $(STORE_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The objects every process runs (the start, the stat/open/listing wrappers, the walk and
# its caches) are linked first, the rarely used ones after: the kernel maps a text page
# with the 64 KiB around it (fault-around), so packing what most programs touch into the
# first windows keeps the rest of libfvm's text out of their resident memory (issue 15).
SO_HOT := $(addprefix $(B)/libfvm/,init.o trace.o uptr.o vpath.o open.o stat.o fd.o name.o \
	dirstream.o dir.o nsswrap.o loader.o ipcdir.o cubroker.o ipc.o) \
	$(addprefix $(B)/libfvm/core/,dcache.o gen.o resolve.o policy.o path.o layout.o vm.o \
	rpath.o names.o layers.o direct.o dirent.o longpath.o)
SO_OBJ := $(SO_HOT) $(filter-out $(SO_HOT),$(LIB_OBJ) $(CORE_OBJ))
# Lazy binding (-z lazy, not -z now): libfvm is loaded into every program of a VM, and
# binding its ~60 imports eagerly cost each start ~35,000 instructions (a third of an
# empty program's whole start) that a short program like true never uses (issue 15).
# DT_FINI is init.c's empty fvm_fini, beside the start's code, not crt's _fini after
# the whole text: a page fault (and 64 KiB of resident text) less at every exit.
# HOT_LD (from libfvm/hot.list) adds to the default linker script an output section
# before .text holding crt's small functions, the constructors and destructors and the
# listed functions: what every start runs lies in one or two fault-around windows.
HOT_LD := $(B)/libfvm-hot.ld
$(HOT_LD): libfvm/hot.list
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q){ echo 'SECTIONS { .text.fvm_hot : {'; \
	      echo '  *crtbeginS.o(.text .text.*) *(.text.startup .text.startup.*) *(.text.exit .text.exit.*)'; \
	      sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)$$/  *(.text.\1 .text.\1.*)/p' $<; \
	      echo '} } INSERT BEFORE .text;'; } > $@
$(SO): $(LIB_OBJ) $(CORE_OBJ) $(MAP) $(HOT_LD)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -o $@ $(SO_OBJ) -Wl,--version-script=$(MAP) \
		-Wl,-z,defs -Wl,-z,lazy -Wl,-fini=fvm_fini -Wl,-T,$(HOT_LD) -ldl $(LDFLAGS)

# The loader's audit module (libfvm/audit/, DESIGN.md "The loader"): libfvm's lookup core
# built a second time, each function in its own section so that only what the walk
# needs is linked, with mini.c's few string functions instead of libc.
AUDIT_CORE := resolve direct path vm layout policy gen rpath layers
AUDIT_OBJ := $(patsubst %,$(B)/audit/core/%.o,$(AUDIT_CORE)) \
	$(patsubst libfvm/audit/%.c,$(B)/audit/%.o,$(wildcard libfvm/audit/*.c))
AUDIT_CFLAGS := $(PIC_CFLAGS) -ffunction-sections -fdata-sections -fno-stack-protector \
	-fno-builtin -fno-tree-loop-distribute-patterns -U_FORTIFY_SOURCE
# After CFLAGS: a distribution's hardening flags (debian/rules) must not bring the stack
# protector or fortified functions, which need libc, into a module linked without it.
AUDIT_LAST := -fno-stack-protector -U_FORTIFY_SOURCE
$(B)/audit/core/%.o: libfvm/core/%.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(AUDIT_CFLAGS) $(CFLAGS) $(AUDIT_LAST) -c -o $@ $<
$(B)/audit/%.o: libfvm/audit/%.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(AUDIT_CFLAGS) $(CFLAGS) $(AUDIT_LAST) -c -o $@ $<
$(AUDIT_SO): $(AUDIT_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -nostdlib -o $@ $^ -Wl,--gc-sections -Wl,-z,defs -Wl,-z,now \
		-Wl,--hash-style=gnu $(LDFLAGS)

# The determinism wrappers (libfvm/det/, fvm-exec(1) DETERMINISM): a library of their
# own, preloaded only by a run with a determinism option, so that every other run reaches
# libc's clock, getrandom and uname directly. detcore.c is shared with libfvm.so.
DET_OBJ := $(B)/det/det.o $(B)/det/detcore.o
$(B)/det/%.o: libfvm/det/%.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PIC_CFLAGS) $(CFLAGS) -c -o $@ $<
$(B)/det/detcore.o: libfvm/detcore.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PIC_CFLAGS) $(CFLAGS) -c -o $@ $<
$(DET_SO): $(DET_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -o $@ $^ -Wl,-z,defs -Wl,-z,lazy -ldl $(LDFLAGS)

# fvm-pieload (libfvm/pieload/, DESIGN.md "Static-PIE programs"): runs a static-PIE
# program with its code where the supervisor's filter sees it. A static non-PIE
# executable (at 0x400000, in the notified range) without libc; x86-64 only, as the
# filter's rule is (PIELOAD, above). Beside libfvm.so, where libfvm's exec looks for it.
PIELOAD_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARNINGS) -MMD -MP -ffreestanding \
	-fno-builtin -fno-tree-loop-distribute-patterns
# After CFLAGS, as AUDIT_LAST: no stack protector, no fortified functions, no PIE.
PIELOAD_LAST := -fno-stack-protector -U_FORTIFY_SOURCE -fno-pie
$(PIELOAD): libfvm/pieload/pieload.c
	$(call msg,LD,$@)
	@mkdir -p $(B)/pieload
	$(Q)$(CC) $(PIELOAD_CFLAGS) $(CFLAGS) $(PIELOAD_LAST) -MF $(B)/pieload/pieload.d -MT $@ -static \
		-nostdlib -no-pie -Wl,-z,noexecstack -o $@ $< $(LDFLAGS)

# Archives after the objects that use them, the store's before the core's it uses.
# fvm-exec --trace hashes the run's inputs and outputs with libcrypto, which run/trace.c
# loads (dlopen) only then: linked, its loading cost every run about a millisecond.
# libbsd (with its libmd) and libseccomp are linked in where their archives are
# installed: loading them cost every start ~0.2 ms of CPU (issue 15). EXEC_STATIC=0
# links them as shared libraries: a distribution's package does (debian/rules), so that
# their security updates reach fvm-exec and its dependencies name them.
EXEC_STATIC ?= 1
EXEC_ARCHIVES := $(foreach l,bsd md seccomp,$(shell $(CC) -print-file-name=lib$(l).a))
ifeq ($(EXEC_STATIC)$(words $(filter /%,$(EXEC_ARCHIVES))),13)
EXEC_LIBS := -Wl,-Bstatic -lbsd -lmd -lseccomp -Wl,-Bdynamic
else
EXEC_LIBS := $(BSD_LIBS) $(SECCOMP_LIBS)
endif
fvm-exec/fvm-exec: $(RUN_OBJ) $(STORE_LIB) $(CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) -o $@ $^ -ldl $(EXEC_LIBS) $(LDFLAGS)

# fvm config reads and writes vm.conf with fvm-exec's own parser and checks.
CONFIG_OBJ := $(addprefix $(B)/fvm-exec/run/,config.o config_file.o config_table.o config_drift.o)
fvm-exec/fvm: $(MANAGE_OBJ) $(CONFIG_OBJ) $(STORE_LIB) $(CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) -o $@ $^ -ldl $(BSD_LIBS) $(OCI_LIBS) $(CAST_LIBS) $(LDFLAGS)

# Unit tests link the two archives; a test of a part's own object names it below.
# Every unit binary goes through tests/lib/unit-runner.c, which lists its tests and runs
# one alone (FVM_UNIT_LIST, FVM_UNIT_ONLY) for tests/run-all.
UNIT_RUNNER := $(B)/tests/lib/unit-runner.o
.SECONDARY: $(UNIT_RUNNER)
$(B)/tests/unit/%: tests/unit/%.c $(UNIT_RUNNER) $(STORE_LIB) $(CORE_LIB)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(TOOL_CFLAGS) $(CFLAGS) -o $@ $< $(filter %.o,$^) \
		-Wl,--wrap=_cmocka_run_group_tests $(STORE_LIB) $(CORE_LIB) -lcmocka -ldl $(BSD_LIBS) $(OCI_LIBS)
$(B)/tests/unit/test_json: $(B)/fvm-exec/manage/json.o

$(B)/tests/helpers/%: tests/helpers/%.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $<

# A helper that prints what the core library computes links its archive.
$(B)/tests/helpers/ipc-name: tests/helpers/ipc-name.c $(CORE_LIB)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(CORE_LIB)

# The feed module's driver for tests/e2e/t_vmcast.sh links the store's archive.
$(B)/tests/helpers/feed-tool: tests/helpers/feed-tool.c $(STORE_LIB) $(CORE_LIB)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(TOOL_CFLAGS) $(CAST_CFLAGS) $(CFLAGS) -o $@ $< $(STORE_LIB) \
		$(CORE_LIB) $(CAST_LIBS)

# Debian packages for building and testing. Installs only what is missing.
DEPS := gcc make pkg-config libcmocka-dev libbsd-dev bats attr git python3 sqlite3 \
	util-linux passwd diffutils libc6-dev man-db groff-base procps \
	patch perl vim xz-utils gzip tar cpio zip unzip dpkg-dev binutils cmake python3-venv \
	bsdextrautils findutils coreutils libseccomp-dev rsync e2fsprogs rustc cargo golang-go busybox-static \
	libarchive-dev libssl-dev libjansson-dev skopeo umoci zstd autoconf automake \
	libsodium-dev libxml2-dev minisign python3-feedparser libcurl4-openssl-dev debhelper lintian zsh diffoscope-minimal python3-jsonschema python3-nacl
# Node.js: the node and npm on PATH (a vendor's nodejs package provides npm and conflicts
# with Debian's, which apt would remove it for); Debian's where there are none.
ifeq ($(shell command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && echo y),)
DEPS += nodejs npm
endif
# The i386 toolchain builds the compat-ABI probe of the fence tests.
ifeq ($(shell uname -m),x86_64)
DEPS += gcc-multilib libc6-dev-i386
endif
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "fvm: missing packages; run:"; \
		echo "  sudo apt-get install -y $$(echo $$missing)"; exit 1; fi; \
	echo "fvm: installing $$(echo $$missing)"; \
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null

check: deps
	@$(MAKE) --no-print-directory all tests-bin
	@tests/run-all

# The fence tests need helpers libfvm cannot enter: the same sources, linked statically.
HELPER_STATIC := $(B)/tests/helpers/try-syscall-static $(B)/tests/helpers/try-truncate-static \
	$(B)/tests/helpers/attack-static $(B)/tests/helpers/daemon-static $(B)/tests/helpers/ipc-raw-static \
	$(B)/tests/helpers/vchdir-static $(B)/tests/helpers/qwriter-static
$(HELPER_STATIC): $(B)/tests/helpers/%-static: tests/helpers/%.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -static -o $@ $<

# A static-PIE program (issue 14): the kernel maps it where libraries lie; libfvm runs
# it through fvm-pieload so that the supervisor sees its calls.
HELPER_SPIE := $(B)/tests/helpers/fsprobe-spie
$(HELPER_SPIE): $(B)/tests/helpers/%-spie: tests/helpers/%.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -fPIE -static-pie -o $@ $<

# And for the compat ABI (i386 on x86_64) where an i386 libc is installed (make deps): the
# fence's filter must refuse its calls by their own numbers.
I386_LIBC := $(if $(filter x86_64,$(shell uname -m)),$(wildcard $(shell $(CC) -m32 -print-file-name=libc.a 2>/dev/null)))
HELPER_I386 := $(if $(I386_LIBC),$(B)/tests/helpers/try-syscall-i386)
$(B)/tests/helpers/try-syscall-i386: tests/helpers/try-syscall.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -m32 -static -o $@ $<

tests-bin: $(UNIT_BIN) $(HELPER_BIN) $(HELPER_STATIC) $(HELPER_SPIE) $(HELPER_I386)
.PHONY: tests-bin

# Rewrites tests/e2e/golden/ from the current output (check only compares); refuses in CI.
golden-update: all tests-bin
	@tests/golden-update
.PHONY: golden-update

compat: deps
	@$(MAKE) --no-print-directory all
	@tests/compat/run

# POSIX conformance (issue 14): pjdfstest, built in a scratch directory, never committed.
conformance: deps
	@$(MAKE) --no-print-directory all
	@tests/conformance/run

# The benchmark of issues 8, 14 and 15 (not part of check): bench/run. PEERS=1 adds
# proot, fakechroot and kernel overlayfs in a user namespace, and bubblewrap to
# vm-start, installed from Debian here.
PEER_PKGS := proot fakechroot bubblewrap
$(B)/bench/micro: bench/micro.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $<

# bench/virt: the figures of docs/DESIGN.md "Calls libfvm does not see" (issue 14).
$(B)/bench/notify: bench/notify.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SECCOMP_CFLAGS) -o $@ $< $(SECCOMP_LIBS)

# The same loop built static: a static program's calls in a VM (virtguard.c).
$(B)/bench/micro-static: bench/micro.c
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -static -o $@ $<

bench-virt: deps
	@$(MAKE) --no-print-directory all $(B)/bench/notify $(B)/bench/micro-static
	@bench/virt
.PHONY: bench-virt

bench: deps
	@$(MAKE) --no-print-directory all $(B)/bench/micro $(B)/bench/micro-static
ifeq ($(PEERS),1)
	@$(MAKE) --no-print-directory deps DEPS="$(PEER_PKGS)"
	@PEERS=1 TRACE=$(TRACE) bench/run
else
	@TRACE=$(TRACE) bench/run
endif

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	install -m 755 fvm-exec/fvm-exec fvm-exec/fvm $(DESTDIR)$(BINDIR)/
	install -m 755 $(SO) $(DESTDIR)$(LIBDIR)/libfvm.so
	install -m 755 $(AUDIT_SO) $(DESTDIR)$(LIBDIR)/libfvm-audit.so
	install -m 755 $(DET_SO) $(DESTDIR)$(LIBDIR)/libfvm-det.so
	$(if $(PIELOAD),install -m 755 $(PIELOAD) $(DESTDIR)$(LIBDIR)/fvm-pieload)
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/fvm.1 man/fvm-exec.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/fvm.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 644 completion/fvm.bash $(DESTDIR)$(BASHCOMPDIR)/fvm
	ln -sf fvm $(DESTDIR)$(BASHCOMPDIR)/fvm-exec
	install -m 644 completion/_fvm $(DESTDIR)$(ZSHCOMPDIR)/_fvm
	install -m 644 README.md fvm.conf.example $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fvm-exec $(DESTDIR)$(BINDIR)/fvm $(DESTDIR)$(LIBDIR)/libfvm.so \
		$(DESTDIR)$(LIBDIR)/libfvm-audit.so $(DESTDIR)$(LIBDIR)/libfvm-det.so $(DESTDIR)$(LIBDIR)/fvm-pieload
	rm -f $(DESTDIR)$(MANDIR)/man1/fvm.1 $(DESTDIR)$(MANDIR)/man1/fvm-exec.1 \
		$(DESTDIR)$(MANDIR)/man5/fvm.conf.5
	rm -f $(DESTDIR)$(BASHCOMPDIR)/fvm $(DESTDIR)$(BASHCOMPDIR)/fvm-exec $(DESTDIR)$(ZSHCOMPDIR)/_fvm \
		$(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/fvm.conf.example
	-rmdir $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR) 2>/dev/null

# The Debian package (debian/rules), built by dpkg-buildpackage in a copy of the sources
# under build/deb/ (its clean step would otherwise remove this tree's build, made for
# another PREFIX; and without this make's variables, B and the rest); the .deb lands in
# DEB_OUT (default here). lintian, where installed, must find no error.
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_FILE = fvm_$(VERSION)_$(DEB_ARCH).deb
DEB_OUT ?= .
deb:
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
		{ echo "fvm: debian/changelog is at $$v, the Makefile at $(VERSION)"; exit 1; }
	$(Q)rm -rf $(B)/deb && mkdir -p $(B)/deb/fvm-$(VERSION)
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			tar -cf - --null -T - --ignore-failed-read 2>/dev/null; \
	else tar -cf - --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
		--exclude='./*.deb' .; fi | tar -xf - -C $(B)/deb/fvm-$(VERSION)
	$(Q)cd $(B)/deb/fvm-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	$(Q)cp $(B)/deb/$(DEB_FILE) $(DEB_OUT)/
	@echo "  DEB    $(DEB_FILE)"
	$(Q)if command -v lintian >/dev/null; then lintian --fail-on error $(DEB_OUT)/$(DEB_FILE); fi

clean:
	rm -rf $(B) $(SO) $(AUDIT_SO) $(DET_SO) $(PIELOAD) $(TOOLS)

# make check-sanitize (ASan+UBSan) and make fuzz (libFuzzer): their own build trees.
include mk/check-sanitize.mk mk/fuzz.mk

-include $(shell find $(B) -name '*.d' 2>/dev/null)
