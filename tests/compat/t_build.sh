#!/usr/bin/env bash
# Compatibility: make -j2 of a multi-directory C project on a host tree (objects, a
# static library with ar, an executable, gcc -MD dependency files), then make again
# (nothing rebuilt), then touch a header and make (exactly its dependents rebuilt);
# a cmake-generated build when cmake is installed.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash

P=$HOST/proj
mkdir -p "$P/lib" "$P/app" "$P/include"
printf 'int add(int a, int b);\n' > "$P/include/add.h"
printf 'int mul(int a, int b);\n' > "$P/include/mul.h"
printf '#include "add.h"\nint add(int a, int b) { return a + b; }\n' > "$P/lib/add.c"
printf '#include "mul.h"\n#include "add.h"\nint mul(int a, int b) { int r = 0; while (b--) r = add(r, a); return r; }\n' > "$P/lib/mul.c"
printf '#include <stdio.h>\n#include "mul.h"\nint main(void) { printf("%%d\\n", mul(6, 7)); return 0; }\n' > "$P/app/main.c"
cat > "$P/Makefile" <<'EOF'
CFLAGS = -O0 -Iinclude -MD -MP
LIBOBJ = lib/add.o lib/mul.o
all: app/prog
lib/libcalc.a: $(LIBOBJ)
	ar rcs $@ $^
app/prog: app/main.o lib/libcalc.a
	$(CC) -o $@ $^
%.o: %.c
	$(CC) $(CFLAGS) -c -o $@ $<
-include $(LIBOBJ:.o=.d) app/main.d
clean:
	rm -f $(LIBOBJ) app/main.o app/prog lib/libcalc.a */*.d
EOF
# Objects and archives embed nothing of the path, but ar and the linker stamp nothing
# either only with these: the trees must be byte-identical natively and in the VM.
export SOURCE_DATE_EPOCH=0 ZERO_AR_DATE=1

REBUILT='make -j2 --no-print-directory -d 2>/dev/null | sed -n "s/^ *Must remake target .\([^.]*\.[oa]\|app\/prog\).*/\1/p" | sort'
vm_check_ok make_j2_then_nothing_then_dependents_of_touched_header 'set -e
cd proj; make -j2 --no-print-directory -s; ./app/prog; ar t lib/libcalc.a; cat lib/mul.d
echo "--- again"; '"$REBUILT"'
echo "--- touch mul.h"; sleep 1; touch include/mul.h; '"$REBUILT"'
echo "--- touch add.h"; sleep 1; touch include/add.h; '"$REBUILT"'
./app/prog; make -s clean; ls lib app'

if command -v cmake >/dev/null; then
	vm_check_ok cmake_configure_and_build_out_of_tree 'set -e
printf "cmake_minimum_required(VERSION 3.10)\nproject(calc C)\ninclude_directories(include)\nadd_library(calc STATIC lib/add.c lib/mul.c)\nadd_executable(prog app/main.c)\ntarget_link_libraries(prog calc)\n" > proj/CMakeLists.txt
cmake -S proj -B bld -DCMAKE_BUILD_TYPE=Release > /dev/null; cmake --build bld -j2 > /dev/null
./bld/prog; cmake --build bld 2>&1 | grep -c "Building C" || true; rm -rf bld; ls'
else
	skip cmake_configure_and_build_out_of_tree "cmake is not installed"
fi

done_testing
