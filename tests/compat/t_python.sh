#!/usr/bin/env bash
# Compatibility: python3 in a VM: venv without pip, compileall over a host tree, and a
# script using tempfile, shutil (copytree, rmtree, move), os.replace, pathlib globbing,
# fcntl locks and subprocess with env={} (the child must stay in the VM).
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash

mkdir -p "$HOST/pkg/sub" "$HOST/data/a/b"
printf 'def f():\n    return 41 + 1\n' > "$HOST/pkg/__init__.py"
printf 'X = [i * i for i in range(5)]\n' > "$HOST/pkg/sub/mod.py"
echo payload > "$HOST/data/a/b/file.txt"
echo top > "$HOST/data/top.txt"
cat > "$HOST/script.py" <<'EOF'
import fcntl, os, pathlib, shutil, subprocess, sys, tempfile
with tempfile.TemporaryDirectory(dir=".") as d:
    p = pathlib.Path(d, "t.txt"); p.write_text("temp\n"); print(p.read_text().strip())
    fd, name = tempfile.mkstemp(dir=d); os.write(fd, b"x"); os.close(fd)
    print(len(os.listdir(d)))
print(os.path.exists(d))
shutil.copytree("data", "copy"); shutil.rmtree("data/a"); shutil.move("copy/a", "moved")
with open("new.tmp", "w") as f: f.write("replaced\n")
os.replace("new.tmp", "data/top.txt")
print(open("data/top.txt").read().strip())
print(sorted(str(x) for x in pathlib.Path(".").glob("**/*.txt")))
print(sorted(str(x) for x in pathlib.Path("copy").rglob("*")))
with open("lockfile", "w") as f:
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    r = subprocess.run([sys.executable, "-c",
        "import fcntl; f = open('lockfile'); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)"],
        capture_output=True)
    print("child blocked:", r.returncode != 0)
    fcntl.lockf(f, fcntl.LOCK_EX); fcntl.lockf(f, fcntl.LOCK_UN)
r = subprocess.run(["/bin/cat", "data/top.txt"], env={}, capture_output=True, text=True)
print("env={} child:", r.stdout.strip())
r = subprocess.run(["/bin/sh", "-c", "echo from-child > child.txt; cat child.txt"], env={},
    capture_output=True, text=True)
print(r.stdout.strip(), os.path.exists("child.txt"))
EOF

vm_check_ok python_script_tempfile_shutil_replace_glob_locks_subprocess 'python3 script.py'

vm_check_ok python_compileall_over_host_tree 'set -e
python3 -m compileall -q pkg; find pkg -name "*.pyc" | sort
python3 -c "import pkg, pkg.sub.mod; print(pkg.f(), pkg.sub.mod.X)"'

if python3 -c 'import ensurepip' 2>/dev/null; then
	vm_check_ok python_venv_without_pip 'set -e
python3 -m venv --without-pip venv; ls venv; ./venv/bin/python -c "import sys; print(sys.prefix != sys.base_prefix)"
. venv/bin/activate; python -c "import sys, os; print(os.path.basename(sys.prefix))"; deactivate
cat venv/pyvenv.cfg | grep -c home'
else
	skip python_venv_without_pip "python3-venv is not installed (make deps)"
fi

done_testing
