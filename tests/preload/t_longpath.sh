#!/usr/bin/env bash
# Names near PATH_MAX relative to the cwd (the pjdfstest PATH_MAX family, */03.t): the
# kernel limits each string it is given to PATH_MAX, not a file's depth, so a name of
# PATH_MAX-1 bytes relative to the cwd works natively although its absolute path is
# longer; in a VM the real path (the layer's prefix plus the absolute virtual path) is
# longer still and reaches the kernel in pieces (fvm/sys.h FVM_SCL, core/longpath.c).
# Each check runs natively and in a VM and compares; one of PATH_MAX bytes stays
# ENAMETOOLONG.
. "$(dirname "$0")/../lib/harness.sh"

PY=$(command -v python3) || { skip longpath "no python3"; done_testing; exit; }
# The operations, on a name N of PATH_MAX-1 bytes relative to the cwd (in a tree of
# 127-byte directories that python makes one level at a time) and on N+"x".
cat > "$T/ops.py" <<'PY'
import errno, os, subprocess, sys
PM = os.pathconf(".", "PC_PATH_MAX")
def deep(base, total):
    """A relative name of TOTAL bytes beneath BASE, in directories of 127 BASEs."""
    comp = base[0] * 127
    parts, n = [], len(base)
    while n + 1 + 127 + 1 + 127 < total:
        parts.append(comp)
        n += 128
    d = base + "/" + "/".join(parts)
    leaf = "f" * (total - len(d) - 1)
    return d, d + "/" + leaf
def do(what, fn, *a):
    try:
        r = fn(*a)
        print(what, "ok" if r is None else r)
    except OSError as e:
        print(what, errno.errorcode[e.errno])
def mkdirs(d):
    cur = ""
    for c in d.split("/"):
        cur = cur + "/" + c if cur else c
        try:
            os.mkdir(cur, 0o755)
        except FileExistsError:
            pass
def ops(base):
    d, n = deep(base, PM - 1)
    nx = n + "x"
    print("len", len(n), len(nx))
    mkdirs(d)
    do("mkdir", os.mkdir, n, 0o755)
    do("stat-dir", lambda: oct(os.stat(n).st_mode))
    do("rmdir", os.rmdir, n)
    do("mkdir-x", os.mkdir, nx, 0o755)
    do("create", lambda: os.close(os.open(n, os.O_CREAT | os.O_WRONLY, 0o644)))
    do("open-x", lambda: os.close(os.open(nx, os.O_CREAT | os.O_WRONLY, 0o644)))
    do("write", lambda: os.write(os.open(n, os.O_WRONLY), b"hello") and None)
    do("truncate", os.truncate, n, 3)
    do("size", lambda: os.stat(n).st_size)
    # coreutils' stat asks statx.
    do("statx", lambda: subprocess.run(["stat", "-c", "%s %F", n], capture_output=True,
                                       text=True).stdout.strip())
    if META:
        do("chmod", os.chmod, n, 0o600)
        do("mode", lambda: oct(os.lstat(n).st_mode))
        do("chown", os.chown, n, os.geteuid(), os.getegid())
        do("utime", os.utime, n, (1, 2))
        do("mtime", lambda: os.stat(n).st_mtime)
    do("access", lambda: os.access(n, os.R_OK))
    do("link", os.link, n, n[:-1] + "L")
    do("link-x", os.link, n, nx)
    do("nlink", lambda: os.stat(n).st_nlink)
    do("rename", os.rename, n[:-1] + "L", n[:-1] + "R")
    do("rename-x", os.rename, n[:-1] + "R", nx)
    do("unlink", os.unlink, n[:-1] + "R")
    do("symlink", os.symlink, "target", n[:-1] + "S")
    do("symlink-x", os.symlink, "target", nx)
    do("readlink", os.readlink, n[:-1] + "S")
    do("unlink-link", os.unlink, n[:-1] + "S")
    do("mkfifo", os.mkfifo, n[:-1] + "P", 0o644)
    do("fifo", lambda: oct(os.lstat(n[:-1] + "P").st_mode))
    do("unlink-fifo", os.unlink, n[:-1] + "P")
    do("listdir", lambda: sorted(x[-1] for x in os.listdir(d)))
    do("unlink-file", os.unlink, n)
    do("stat-gone", os.stat, n)
    do("listdir-empty", lambda: os.listdir(d))
    # The tree goes again, deepest first (the harness's tools take absolute paths).
    while d != base:
        try:
            os.rmdir(d)
        except OSError as e:  # a host directory with a file of its own
            print("cleanup stops", errno.errorcode[e.errno])
            break
        d = d.rsplit("/", 1)[0]
    print("cleanup ok")
def hostops(base):
    """A host file whose absolute path fits PATH_MAX (its upper path does not)."""
    for top, dirs, files in os.walk(base):
        for g in files:
            f = top + "/" + g
            print("host-len", len(os.getcwd() + "/" + f) > PM - 32)
            do("host-file", lambda: open(f).read())
            if META:
                do("chmod-host-file", os.chmod, f, 0o640)
            do("append-host-file", lambda: open(f, "a").write("vm\n") and None)
            do("host-file-changed", lambda: (oct(os.stat(f).st_mode), open(f).read()))
            do("rename-host-file", os.rename, f, f[:-1] + "r")
            do("unlink-host-file", os.unlink, f[:-1] + "r")
            do("host-dir-empty", lambda: os.listdir(top))
# "meta": also chmod, chown and utimes on the deep names.
META = sys.argv[3:] == ["meta"]
(hostops if sys.argv[1] == "host" else ops)(sys.argv[2])
PY

# A host file whose absolute path is a little shorter than PATH_MAX (so that the host's
# own tools, and the harness's, reach it): its real path in upper/ is longer, and the VM
# copies it and its parents up.
mkdir -p "$HOST/h"
(cd "$HOST" && "$PY" - <<'PY'
import os
PM = os.pathconf(".", "PC_PATH_MAX")
total = PM - 16 - len(os.getcwd()) - 1
cur = "h"
while len(cur) + 128 + 128 < total:
    cur += "/" + "h" * 127
    os.mkdir(cur)
with open(cur + "/" + "g" * (total - len(cur) - 1), "w") as f:
    f.write("host\n")
PY
)

vm_check name_of_path_max_less_one_in_a_new_tree "$PY $T/ops.py new n"
vm_check name_of_path_max_less_one_beneath_host_directories "$PY $T/ops.py new h"
vm_check host_file_of_an_absolute_path_near_path_max "$PY $T/ops.py host h"
# chmod, chown and utimes: an unprivileged run's supervisor performs them, and checks the
# object is beneath a tree the VM may write; /proc/self/fd's link cannot give a path
# beyond PATH_MAX, so it goes by the identity of the directories above (metaguard.c,
# allowed; before: EACCES).
vm_check metadata_of_a_name_of_path_max_less_one "$PY $T/ops.py new n meta"
vm_check metadata_of_a_host_file_near_path_max "$PY $T/ops.py host h meta"
done_testing
